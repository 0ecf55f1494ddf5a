"""The solution sheet (`jaxdl exam ... --markdown`), its code answers and its pictures; and the
course page (`jaxdl site`) built from the same answers, checked as files and in a real headless
browser (Debian's Chromium, which .ci/run installs). One `exam all` serves the whole module."""

import json
import math
import os
import re
import pathlib
import shutil

import pytest

from jaxdl import cli
from jaxdl.exams import figures
from jaxdl.exams._common import lab_source

# The lab's header as a student's layers.py has it: imports, the initializer, the Layer base.
NUMPY_PREAMBLE = "\n\n".join([
    "from abc import ABCMeta, abstractmethod\n\nimport numpy as np",
    lab_source("variance_scaling_initializer"), lab_source("Layer"),
])


def _pdf_args(folder, name) -> list[str]:
    """``--pdf`` where a Chromium can print it (.ci/run installs Debian's), else nothing."""
    from jaxdl.render import browser

    return ["--pdf", str(folder / f"{name}.pdf")] if browser() else []


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """`jaxdl exam all --markdown` once for the module, in English: (text, folder); and its PDF."""
    folder = tmp_path_factory.mktemp("sheet")
    path = folder / "sheet.md"
    assert cli.main(["exam", "all", "--markdown", str(path), "--json", str(folder / "exam.json"),
                     *_pdf_args(folder, "sheet_en")]) == 0
    return path.read_text(), folder


@pytest.fixture(scope="module")
def sheets_hr(tmp_path_factory):
    """The Croatian sheets, both editions, from the same answers: {edition: text}; and their PDFs."""
    folder = tmp_path_factory.mktemp("sheet_hr")
    out = {}
    for edition in ("teachers", "students"):
        path = folder / f"sheet_{edition}.md"
        assert cli.main(["exam", "all", "--lang", "hr", "--edition", edition, "--markdown", str(path),
                         *_pdf_args(folder, f"sheet_hr_{edition}")]) == 0
        out[edition] = path.read_text()
    out["folder"] = folder
    return out


def section(text: str, heading: str) -> str:
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_every_problem_states_givens_steps_and_answers(sheet):
    text, _ = sheet
    sigma = 1 / (1 + math.exp(1))  # E1: s = wᵀ ReLU(Wx + b) = −1.5 + 0.5 = −1 (by hand from the config)
    e1 = section(text, "E1")
    assert r"W = \begin{bmatrix} 1 & -2 \\ 0.5 & 1 \\ -1 & 0.5 \end{bmatrix}" in e1  # configs/exam_mlp.py
    assert r"h = W x + b = \begin{bmatrix} -2.5 \\ 1.5 \\ 0.25 \end{bmatrix}" in e1
    assert rf"\sigma(s) = {sigma:.4f}" in e1 and f"L = -\\ln \\sigma(s) = {-math.log(sigma):.4g}" in e1
    assert rf"= {sigma:.4f} - 1 = {sigma - 1:.4f}" in e1  # ∂L/∂s = σ(s) − y, evaluated
    assert "![E1 forward pass](sheet_figures/e1_forward.svg)" in e1
    assert "![E1 backward pass](sheet_figures/e1_backward.svg)" in e1
    # One layout: gradients of a scalar as row vectors, and the row form the question asks for.
    assert r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial s}\, h'^\top" in e1
    assert r"\frac{\partial L}{\partial (W_{[i,:]}^\top)} = \frac{\partial L}{\partial h_i}\, x^\top" in e1
    assert r"\begin{bmatrix} 0 & -1.097 & -0.1828 \end{bmatrix}" in e1  # ∂L/∂w as a row: −0.7311 · (0, 1.5, 0.25)

    e2 = section(text, "E2")
    assert r"H = X W + b = \begin{bmatrix} 5.5 & 2 & -2 \\ 2.5 & -1 & 1 \end{bmatrix}" in e2  # [1,2,−1]W + b by hand

    e3 = section(text, "E3")
    assert r"W_c = \frac{1}{5} \begin{bmatrix} 1 & -1 & 1 \\ -1 & 1 & -1 \\ 1 & -1 & 1 \end{bmatrix}" in e3
    assert f"\\sigma(s) = {1 / (1 + math.exp(-10)):.6f}" in e3  # the best line: 3·20 − 50 = 10
    assert r"= \sigma(s) - y" in e3 and "![the board as a 9×9 image]" in e3
    assert "958 = 626 X wins + 316 O wins + 16 draws" in e3
    # The smallest distance from the threshold is |σ(10) − 0.5| = 0.499955 (not the 0.999955 of the correct class).
    assert f"0.5 threshold is {1 / (1 + math.exp(-10)) - 0.5:.6f}" in e3
    assert f"lowest probability of the correct class {1 / (1 + math.exp(-10)):.6f}" in e3

    e4 = section(text, "E4")
    assert r"4 \cdot 500 \cdot (300 + 500) + 4 \cdot 500 = 1{,}600{,}000 + 2{,}000 = 1{,}602{,}000" in e4
    assert "**3,604,000** parameters with one bias per gate, **3,608,000** with two" in e4

    e5 = section(text, "E5")
    h2 = [2**1.55 / (1 + 2**1.55), 2 ** (1 / 3) / (1 + 2 ** (1 / 3))]
    assert r"a^{(1)} = W_{hh} h^{(0)} + W_{xh} x^{(1)} + b_h = \ln 2 \cdot \begin{bmatrix} 2 \\ -1 \end{bmatrix}" in e5  # [2 ln 2, −ln 2]
    assert r"h^{(1)} = \sigma(a^{(1)}) = \begin{bmatrix} \tfrac{4}{5} \\ \tfrac{1}{3} \end{bmatrix}" in e5  # σ(k ln 2) = 2^k/(1 + 2^k)
    assert r"\frac{2^{31/20}}{1 + 2^{31/20}}" in e5  # a(2)_1 = ln 2 (4/5 + 3/4) = 1.55 ln 2
    assert rf"\approx \begin{{bmatrix}} {h2[0]:.6g} \\ {h2[1]:.6g} \end{{bmatrix}}" in e5

    e6 = section(text, "E6")
    for given in (r"W_{g1} = \begin{bmatrix} 0.5 \\ -1 \end{bmatrix}", r"W_{g2} = \begin{bmatrix} 0.8 & 0.5 \\ 0.4 & 1.2 \end{bmatrix}",
                  r"W_{d1} = \begin{bmatrix} 1 & -0.5 \\ -0.5 & 1.5 \end{bmatrix}", r"w_{d2} = \begin{bmatrix} 0.5 & -1 \end{bmatrix}",
                  "noise $z = (-0.5, 0.5, 0)$", "LeakyReLU}_{0.2}"):
        assert given in e6, given
    # Example 1 by hand: W_g1·(−0.5) = (−0.25, 0.5) → ReLU (0, 0.5) → W_g2 = (0.25, 0.6); D(x_1 = 0) = σ(0).
    assert "| 1 | $-0.5$ | $(-0.25, 0.5)$ | $(0.25, 0.6)$ | $(0.25, 0.6)$ | $(0, 0)$ | $0$ | $0.5$ |" in e6
    assert "W_{d1}' = W_{d1} - 1" in e6 and "W_{g2}' =" in e6 and "$L_G = " in e6

    q = section(text, "Q1a")
    assert r"\frac{\partial y}{\partial x} = 2 A \operatorname{diag}(x) + b I" in q
    q2 = section(text, "Q2")
    assert "what does not fill a whole window is dropped (floor)" in q2 and "$H = 5$ is not a multiple of $K$" in q2
    # The config's first channel, 2 × 2 windows over rows 0–3 (row 4 dropped): (1+3+2+2)/4 = 2, (0+2+4+1)/4 = 1.75, …
    assert r"y_{0, 0} = \begin{bmatrix} 2 & 1.75 \\ 1.5 & 2.25 \end{bmatrix}" in q2
    assert r"x_2 = y_2 - h(y_1)" in section(text, "Q3")


def test_the_e3_margin_in_the_json_is_the_distance_from_the_threshold(sheet):
    _, folder = sheet
    e3 = json.loads((folder / "exam.json").read_text())["tictactoe"]
    best = 1 / (1 + math.exp(-10))  # every X win's best line scores 10; the others at most −10
    assert e3["min_margin"] == pytest.approx(best - 0.5, abs=1e-7)
    assert e3["min_correct_probability"] == pytest.approx(best, abs=1e-7)


QUESTIONS = {"E1": "10 bodova", "E2": "10 bodova", "E3": "10 bodova", "E4": "3 boda", "E5": "7 bodova",
             "E6": "10 bodova", "Q1a": "12 bodova", "Q1b": "10 bodova", "Q2": "10 bodova", "Q3": "10 bodova, bonus 6 bodova"}
# Words of the machinery that a student's hand-out keeps to its "How this answer was verified" paragraphs.
MACHINERY = ["jaxpr", "count_ops", "jax.vjp", "jax.grad", "jax.jacobian", "reduce_window", "configs/", "config",
             "jaxdl", "float64", "autodiff", "finite differences", "jit", "XLA"]


def test_every_croatian_section_restates_its_question_with_points_givens_steps_and_answers(sheets_hr):
    text = sheets_hr["teachers"]
    for code, points in QUESTIONS.items():
        s = section(text, code)
        assert s.splitlines()[0].endswith(f"({points})"), (code, s.splitlines()[0])
        assert "**Zadatak.**" in s and "**Zadano" in s, code
        assert "### Rješenje" in s and "**Odgovor" in s and "**Kako je odgovor provjeren.**" in s, code
    e1 = section(text, "E1")
    assert "(1 bod)" in e1 and "(2 boda)" in e1 and "(4 boda)" in e1
    assert "*(službeno rješenje priznaje i: $mn + m$ zbrajanja)*" in e1
    assert "*(službeno rješenje priznaje i: dimenzije $(m, 1)$ za $\\mathbf{w}$)*" in e1
    assert "(odabrano za ovo rješenje: ispit ne zadaje brojeve)" in e1
    assert "**Zadano.** Slika iz ispita nije sačuvana; pretpostavljeno je:" in section(text, "E2")
    assert "**Zadano.** Slika iz ispita nije sačuvana; pretpostavljeno je:" in section(text, "E6")
    assert "(iz ispita)" in section(text, "E5")
    for term in ("gubitak", "jakobijan", "unaprijedn", "unatražn", "minigrup", "sažimanje"):
        assert term in text, term


def test_no_machinery_words_in_the_croatian_answers(sheets_hr):
    for edition in ("teachers", "students"):
        text = sheets_hr[edition]
        text = text[:text.find("## Ispravci")] if "## Ispravci" in text else text
        prose = re.sub(r"```.*?```", "", text, flags=re.S)  # the code answers are code
        paragraphs = [p for p in prose.split("\n\n") if not p.startswith("**Kako je odgovor provjeren.**")]
        for p in paragraphs:
            for word in MACHINERY:
                assert not re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", p), (edition, word, p[:200])


def test_the_students_edition_holds_the_questions_and_givens_only(sheets_hr):
    text = sheets_hr["students"]
    for code, points in QUESTIONS.items():
        s = section(text, code)
        assert "**Zadatak.**" in s and "**Zadano" in s and "> **Prostor za rješavanje" in s, code
        assert "### Rješenje" not in s and "**Odgovor" not in s and "Kako je odgovor provjeren" not in s, code
    # Q2's question is a skeleton to complete (code, as the exam gives it); no answer's code is there.
    assert "## Ispravci" not in text and "return self.conv(x)" not in text and "class Quadratic" not in text
    assert text.count("```python") == 1 and "class ConvAvgPool2d(nn.Module)" in section(text, "Q2")
    assert "3\u00a0604\u00a0000" not in text and "0.745429" not in text  # no final answer leaks (hr groups digits by spaces)


def _pdf_pages(path) -> list[str]:
    """The text of every page of a PDF (pdftotext, from Debian's poppler-utils)."""
    import subprocess

    pages, n = [], 1
    while True:
        done = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(path), "-"], capture_output=True,
                              text=True)
        if done.returncode != 0:
            break
        pages.append(done.stdout.replace("\u2212", "-"))
        n += 1
    return pages


@pytest.mark.parametrize("name, lang", [("sheet_en", "en"), ("sheet_hr_teachers", "hr"), ("sheet_hr_students", "hr")])
def test_the_pdf_gives_each_problem_its_own_pages_and_every_final_answer(sheet, sheets_hr, name, lang):
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext on this machine (.ci/run installs Debian's poppler-utils when it runs as root)")
    folder = sheet[1] if lang == "en" else sheets_hr["folder"]
    path = folder / f"{name}.pdf"
    if not path.exists():
        pytest.skip("no Chromium on this machine to print the PDF (.ci/run installs Debian's chromium)")
    assert path.read_bytes()[:5] == b"%PDF-"
    pages = _pdf_pages(path)
    heading = re.compile(r"^\s*(E[1-6]|Q1a|Q1b|Q2|Q3) — [^()]*?\(\d+\s+(?:points?|bod)", re.M)  # may wrap
    starts = [[m.group(1) for m in heading.finditer(page)] for page in pages]
    assert all(len(s) <= 1 for s in starts), starts  # never two problems on one page
    order = [s[0] for s in starts if s]
    assert order == ["E1", "E2", "E3", "E4", "E5", "E6", "Q1a", "Q1b", "Q2", "Q3"], order
    ranges, current = {}, None
    for page, s in zip(pages, starts):
        current = s[0] if s else current
        if current:
            ranges[current] = ranges.get(current, "") + page
    if "students" in name:
        assert "Prostor za rješavanje" in ranges["E1"] and "Rješenje" not in ranges["E1"].split("Prostor")[0][-50:]
        return
    from jaxdl.exams import sheet as sheet_module, solve_all

    finals = sheet_module.finals(solve_all(), ["mlp", "resblock", "tictactoe", "lstm", "rnn", "gan", "quiz"], lang)
    for code, values in finals.items():
        text = re.sub(r"\s+", "", ranges[code])
        for value in values:
            assert re.sub(r"\s+", "", value).replace("\u2212", "-") in text, (name, code, value)


def test_code_answers_are_in_the_sheet(sheet):
    text, _ = sheet
    expected = {"Q1a": ["class Quadratic(Layer)"], "Q1b": ["class Swish(Layer)"],
                "Q2": ["class ConvAvgPool2d(nn.Module)"], "Q3": ["class AdditiveCoupling(nn.Module)", "def inverse(self, y)"],
                "E2": ["class ResBlock(Layer)", "class ResBlock(nn.Module)"]}
    for problem, needles in expected.items():
        blocks = "\n".join(code_blocks(section(text, problem)))
        for needle in needles:
            assert needle in blocks, (problem, needle)


def _has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def test_the_sheets_numpy_classes_pass_check_numpy(sheet, tmp_path, capsys):
    text, _ = sheet
    classes = [b for b in code_blocks(text) if re.match(r"class \w+\(Layer\)", b)]
    assert [re.match(r"class (\w+)", b).group(1) for b in classes] == ["ResBlock", "Quadratic", "Swish"]
    lab = tmp_path / "sheet_answers.py"
    lab.write_text(NUMPY_PREAMBLE + "\n\n" + "\n\n".join(classes))
    # The students' side runs in check-numpy's own worker processes; the verdict is decided here.
    assert cli.main(["check-numpy", str(lab), "--no-progress"]) == 0
    out = capsys.readouterr().out
    for name in ("Quadratic", "Swish", "ResBlock"):
        assert re.search(rf"^ok\s+{name}\s+\((\d+)/\1 checks\)", out, re.M), out
    assert "3/3 classes ok" in out


def test_pictures_are_drawn_and_linked(sheet):
    text, folder = sheet
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 5  # E1: two graphs; E3: the board, the filter, the line units
    for link in links:
        path = folder / link
        assert path.read_text().lstrip().startswith(("<?xml", "<svg")), link
        assert path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_graphs_without_a_dot_binary(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None
    assert cli.main(["exam", "mlp", "--graphs", str(tmp_path / "g")]) == 0
    assert "warning" not in capsys.readouterr().err
    svg = (tmp_path / "g" / "e1_backward.svg").read_text()
    assert "<svg" in svg and svg.count('class="node"') == 11 and svg.count('class="edge"') == 10
    assert "∂L/∂W" in svg
    assert (tmp_path / "g" / "e1_forward.png").stat().st_size > 1000


def test_a_missing_renderer_is_said_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(figures, "RENDERERS", ("no-such-graphviz",))
    assert cli.main(["exam", "mlp", "--graphs", str(tmp_path / "g")]) == 0
    err = capsys.readouterr().err
    assert "jaxdl exam: warning: no Graphviz renderer (no-such-graphviz) found: wrote" in err
    assert (tmp_path / "g" / "e1_forward.dot").exists() and not (tmp_path / "g" / "e1_forward.svg").exists()


def test_markdown_path_errors_before_any_work(tmp_path, capsys):
    assert cli.main(["exam", "mlp", "--markdown", str(tmp_path)]) == 2
    assert "cannot write" in capsys.readouterr().err
    (tmp_path / "f").write_text("x")
    assert cli.main(["exam", "mlp", "--markdown", str(tmp_path / "f" / "sheet.md")]) == 2
    assert cli.main(["exam", "mlp", "--json", str(tmp_path / "a.md"), "--markdown", str(tmp_path / "a.md")]) == 2
    assert "name the same file" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The course page


@pytest.fixture(scope="module")
def site(sheet):
    """A results folder as make run leaves it (exam answers, a gradient check, one run, a bench
    report), and the page built from it: (index.html path, results folder)."""
    _, results = sheet
    assert cli.main(["gradcheck", "dense", "swish", "--json", str(results / "gradcheck.json")]) == 0
    run = results / "runs" / "nice_moons"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"experiment": "nice_moons", "steps": 1200, "wall_seconds": 3.5,
                                                  "test_nll_nats": 0.7071}))
    _png(run / "loss.png")
    (results / "bench").mkdir()
    _png(results / "bench" / "coupling.png")
    (results / "bench.json").write_text(json.dumps({
        "environment": {"device": "cpu", "versions": {"jax": "0"}},
        "suites": {"coupling": {"name": "coupling", "targets": [{"target": "fwd ≤ 1 ms", "met": True, "detail": "0.5 ms"}]}}}))
    assert cli.main(["site", "--results", str(results)]) == 0
    return results / "site" / "index.html", results


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    fig.savefig(path)
    plt.close(fig)


def test_the_page_and_its_assets(site):
    index, _ = site
    page = index.read_text()
    assert page.startswith("<!doctype html>")
    # Every exam answer, the errata, the gradient check, the run and the benchmark.
    for lang in ("hr", "en"):  # the sheet in both languages, each with its own anchors, and a switch
        for anchor in ("e1", "e2", "e3", "e4", "e5", "e6", "q1a", "q1b", "q2", "q3"):
            assert f'id="{lang}-{anchor}"' in page and f'href="#{lang}-{anchor}"' in page, (lang, anchor)
        assert f'<div class="only-{lang}" lang="{lang}">' in page and f'id="lang-{lang}"' in page
    assert 'id="hr-ispravci"' in page and 'id="en-errata"' in page
    assert '<input type="radio" name="lang" class="lang-switch" id="lang-hr" checked>' in page
    for anchor in ("gradcheck", "training", "bench"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page, anchor
    assert "2 of 2 registry layers pass" in page
    assert "test_nll_nats = 0.7071" in page and "1,200 steps" in page
    assert "fwd ≤ 1 ms" in page
    # The math is MathML; no LaTeX is left for the reader (no CDN, no script).
    assert page.count("<math") > 150 and "$" not in page and "\\frac" not in page and "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "") and "https://" not in page
    # Every image the page links is a file beside it.
    links = re.findall(r'<img src="([^"]+)"', page)
    assert len(links) == 12  # per language E1: two graphs, E3: board, filter, line units; the run's plot; the bench chart
    for link in links:
        assert (index.parent / link).stat().st_size > 500, link


def test_site_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["site", "--results", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["site", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exam.json not found" in err
    (tmp_path / "exam.json").write_text("{not json")
    assert cli.main(["site", "--results", str(tmp_path)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    (tmp_path / "exam.json").write_text(json.dumps({"mlp": {"forward": {}}}))
    assert cli.main(["site", "--results", str(tmp_path)]) == 2
    assert "written by another jaxdl version" in capsys.readouterr().err


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_the_page_in_a_headless_browser(site, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    browser_path = _browser()
    if browser_path is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium when it runs as root)")
    index, _ = site
    messages, requests = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(index.as_uri(), wait_until="load")
            broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                                   ".map(i => i.getAttribute('src'))")
            images = page.evaluate("document.images.length")
            sizes = page.evaluate("Array.from(document.querySelectorAll('math')).filter(m => !m.closest('.only-en')).map(m => {"
                                  "const r = m.getBoundingClientRect(); return [r.width, r.height]; })")
            text = page.evaluate("document.body.innerText")
            shot = tmp_path / "course_page.png"
            page.screenshot(path=str(shot), full_page=False)
            page.click('label[for="lang-en"]')  # the switch, without a script
            text_en = page.evaluate("document.body.innerText")
        finally:
            browser.close()
    assert messages == []
    assert images == 12 and broken == []
    assert len(sizes) > 150 and all(w > 0 and h > 0 for w, h in sizes)  # every formula laid out as MathML
    assert "$" not in text and "\\begin" not in text
    assert "E6 — Jedan korak učenja GAN-a" in text and "3 604 000 parametara" in text.replace("\u00a0", " ") and "One GAN" not in text
    assert "E6 — One GAN training step" in text_en and "3,604,000 parameters" in text_en and "Jedan korak" not in text_en
    assert all(url.startswith(("file://", "data:")) for url in requests), [u for u in requests if not u.startswith("file")]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.path.getsize(shot) > 20_000


# ---------------------------------------------------------------------------------------------
# The errata: complete, each with evidence computed on the spot.


def test_every_erratum_has_its_evidence_run_here(sheet):
    from jaxdl.check import lab_reference
    from jaxdl.check.numpy_check import InputStub
    from jaxdl.exams.quiz import errata as quiz
    from jaxdl.exams.resblock import errata as resblock

    _, folder = sheet
    errata = json.loads((folder / "exam.json").read_text())["errata"]
    assert len(errata) == 42
    by = {}
    for e in errata:
        by.setdefault(e["problem"], []).append(e)
        assert e["kind"] in ("bug", "notation", "slip", "incomplete", "reading") and e["hr"]["evidence"] and e["evidence"]
    evidence = "\n".join(e["evidence"] for e in errata)
    # The official code, run here: each error it raises is the one the errata show.
    for run in (quiz.q1a_signature, quiz.q1a_unclosed, quiz.q1a_undefined_names, quiz.q1a_rectangular,
                quiz.q1b_bare_line, quiz.q2_unclosed, quiz.q2_padding, resblock.solution_2_constructor):
        raised = run()
        assert raised and raised in evidence, (run.__name__, raised)
    assert "SyntaxError: non-default argument follows default argument" in quiz.q1a_signature()
    assert quiz.q1a_undefined_names() == "NameError: name 'N' is not defined"
    assert quiz.q2_padding() == "NameError: name 'O' is not defined"
    assert resblock.solution_2_constructor() == "AttributeError: 'int' object has no attribute 'shape'"
    zeroed, total = resblock.solution_1_masks_grads()
    assert 0 < zeroed <= total and f"set {zeroed} of them to 0 in place" in evidence
    # E1(d) by hand on the sheet's numbers: the official ∂L/∂w = ∂L/∂s·w against the true ∂L/∂s·h'.
    W, b, x, w = [[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]], [0.5, -1.0, 0.25], [1.0, 2.0], [1.0, -1.0, 2.0]
    h = [sum(W[i][j] * x[j] for j in range(2)) + b[i] for i in range(3)]
    hr = [max(v, 0.0) for v in h]
    ds = 1 / (1 + math.exp(-sum(wi * hi for wi, hi in zip(w, hr)))) - 1
    wrong = max(abs(ds * wi - ds * hi) for wi, hi in zip(w, hr))
    assert f"{wrong:.4g} (∂L/∂w)" in by["E1(d)"][0]["evidence"]
    assert by["E1(a)"][0]["kind"] == "slip" and by["E1(c)"][0]["kind"] == "incomplete"
    # The new entries the errata had missed.
    problems = [e["problem"] for e in errata]
    for p in ("E1(c)", "E3", "E4", "E5", "E6", "E2 (numpy solution 2)"):
        assert p in problems, p
    assert problems.count("E2 (numpy solution 1)") == 4 and problems.count("Q1a") == 9 and problems.count("Q2") == 6
    if _has_torch():
        assert "raises `TypeError: cannot assign 'torch.FloatTensor' as parameter 'weight'" in evidence
        assert "got multiple values for argument 'recurse'" in evidence
    # The reference lab's Quadratic refuses M ≠ D (the slip the examiner found).
    with pytest.raises(ValueError):
        lab_reference.Quadratic(InputStub((2, 3)), 2, "q", 0.0)


def test_the_documented_errata_table_is_generated_from_the_same_data(sheet):
    from jaxdl.exams.lang import Lang
    from jaxdl.exams.sheet import errata_table

    _, folder = sheet
    errata = json.loads((folder / "exam.json").read_text())["errata"]
    page = (pathlib.Path(__file__).parents[1] / "docs" / "exams.md").read_text()
    block = page.split("<!-- errata:begin -->\n")[1].split("\n<!-- errata:end -->")[0]
    assert block == errata_table(errata, Lang("en")), "docs/exams.md's errata table is stale: run `jaxdl docs`"


def test_the_students_givens_hold_no_computed_value(sheets_hr):
    e1 = section(sheets_hr["students"], "E1")
    assert r"W = \begin{bmatrix} 1 & -2 \\ 0.5 & 1 \\ -1 & 0.5 \end{bmatrix}" in e1
    assert "h = W x + b =" not in e1 and r"\sigma(s) = 0.2689" not in e1 and "-2.5" not in e1


def test_every_count_in_the_croatian_sheets_agrees_with_its_noun(sheets_hr):
    from croatian_counts import wrong_counts

    assert wrong_counts(sheets_hr["teachers"]) + wrong_counts(sheets_hr["students"]) == []


def test_no_work_box_of_the_students_edition_is_split_across_pages(sheets_hr):
    path = sheets_hr["folder"] / "sheet_hr_students.pdf"
    if shutil.which("pdftotext") is None or not path.exists():
        pytest.skip("no Chromium or pdftotext here (.ci/run installs Debian's chromium and poppler-utils)")
    starts = 0
    for number, page in enumerate(_pdf_pages(path), start=1):
        opened = re.findall(r"Prostor za rješavanje(?: \((\w+)\))?", page)
        closed = re.findall(r"kraj prostora(?: \((\w+)\))?", page)
        assert opened == closed, f"page {number}: boxes {opened} begin here, {closed} end here"
        starts += len(opened)
    assert starts >= 25  # a box per part of every problem
