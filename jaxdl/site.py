"""The course companion page: one static HTML page with its assets, built from what ``make run``
wrote under ``results/``, that works offline, opened from disk.

- every exam answer as its solution sheet (:mod:`jaxdl.exams.sheet`), the math as MathML, which
  browsers render natively (no script, no CDN), the pictures drawn afresh into ``assets/``;
- the gradient check of every registry layer (``gradcheck.json``);
- the training runs (``runs/*/summary.json``): headline figures and plots;
- the benchmarks (``bench.json`` and ``bench/*.png``) when ``make bench`` has been run.

``jaxdl site [--results DIR] [--out DIR]``; the page is ``DIR/site/index.html`` by default.
"""

from __future__ import annotations

import html
import json
import os
import shutil

from jaxdl.errors import InputError
from jaxdl.render import STYLE, markdown_renderer, slug

def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(f"site: {path} is not valid JSON ({what}): {e.msg} at line {e.lineno}") from None


def _copy(src: str, assets: str, name: str) -> str:
    """Copies ``src`` into ``assets`` as ``name``; returns the page's link to it."""
    shutil.copyfile(src, os.path.join(assets, name))
    return f"assets/{name}"


def _gradcheck_html(report: dict) -> str:
    from jaxdl.registry import REGISTRY

    rows = []
    for layer in report["layers"]:
        entry = REGISTRY.get(layer["name"].split("[")[0])
        formula = html.escape(entry()[0].formula) if entry else ""
        verdict = '<span class="ok">ok</span>' if layer["ok"] else '<span class="fail">FAIL</span>'
        rows.append(
            f"<tr><td><code>{html.escape(layer['name'])}</code></td><td>{verdict}</td>"
            f"<td>{layer['max_abs_err_vs_autodiff']:.1e}</td><td>{layer['max_abs_err_vs_finite_diff']:.1e}</td>"
            f"<td>{html.escape(layer.get('backward', ''))}</td><td>{formula}</td></tr>")
    passed = sum(1 for layer in report["layers"] if layer["ok"])
    return (
        f"<p>{passed} of {len(report['layers'])} registry layers pass: the hand-derived backward pass against "
        "<code>jax.vjp</code> of the forward pass (tolerance 1e-9) and against central finite differences (1e-6), "
        "in float64 (<code>jaxdl gradcheck</code>).</p>\n<table><thead><tr><th>layer</th><th>verdict</th>"
        "<th>max |manual − autodiff|</th><th>max |manual − finite diff|</th><th>backward</th><th>formula</th>"
        "</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>")


def _runs_html(runs_dir: str, assets: str) -> str:
    from jaxdl.report import headline_figures

    parts = []
    for name in sorted(os.listdir(runs_dir)):
        summary_path = os.path.join(runs_dir, name, "summary.json")
        if not os.path.isfile(summary_path):
            continue
        s = _read_json(summary_path, f"the summary of run {name}")
        experiment = s.get("experiment", name)
        figures = headline_figures(experiment, s)
        steps = f"{s['steps']:,} steps" if isinstance(s.get("steps"), int) else ""
        wall = f" in {s['wall_seconds']:.1f} s" if isinstance(s.get("wall_seconds"), (int, float)) else ""
        plots = [p for p in sorted(os.listdir(os.path.join(runs_dir, name))) if p.endswith(".png")]
        images = "".join(
            f'<figure><img src="{_copy(os.path.join(runs_dir, name, p), assets, f"run_{name}_{p}")}" '
            f'alt="{html.escape(name)}: {html.escape(p)}"><figcaption>{html.escape(p)}</figcaption></figure>'
            for p in plots)
        parts.append(f"<h3>{html.escape(name)}</h3><p><code>jaxdl train {html.escape(experiment)}</code>: "
                     f"{html.escape(figures)}{'; ' if figures and steps else ''}{steps}{wall}.</p>"
                     f'<div class="figures">{images}</div>')
    return "\n".join(parts)


def _bench_html(report: dict, plots_dir: str, assets: str) -> str:
    env = report.get("environment", {})
    items = []
    for suite in report.get("suites", {}).values():
        for t in suite.get("targets", []):
            verdict = {True: '<span class="ok">met</span>', False: '<span class="fail">not met</span>'}.get(t.get("met"), "n/a")
            items.append(f"<li>{html.escape(suite.get('name', ''))}: {html.escape(t.get('target', ''))} — {verdict} "
                         f"<span class=\"muted\">({html.escape(t.get('detail', ''))})</span></li>")
    images = ""
    if os.path.isdir(plots_dir):
        images = "".join(
            f'<figure><img src="{_copy(os.path.join(plots_dir, p), assets, f"bench_{p}")}" alt="{html.escape(p)}">'
            f"<figcaption>{html.escape(p)}</figcaption></figure>"
            for p in sorted(os.listdir(plots_dir)) if p.endswith(".png"))
    where = html.escape(f"{env.get('device', '')}, jax {env.get('versions', {}).get('jax', '')}")
    return f"<p class=\"muted\">{where}</p><ul>{''.join(items)}</ul><div class=\"figures\">{images}</div>"


def _json_script(element_id: str, data) -> str:
    """``data`` as JSON in a ``<script type="application/json">`` (``</`` escaped, so that no
    string can end the element)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>\n'


def _practice_html(data: dict) -> str:
    """The practice tab: a button per problem, the variant's question with an input per blank,
    check and next; the pool, the words and the variants' HTML embedded; the script inline."""
    from importlib import resources

    for field in ("pool", "text", "html", "picks"):
        if field not in data:
            raise InputError(f"site: the practice pool lacks {field!r}; it was written by another jaxdl version: run "
                             "`jaxdl exam generate all --practice FILE` again")
    script = resources.files("jaxdl.exams").joinpath("practice.js").read_text(encoding="utf-8")
    buttons = "".join(
        f'<button type="button" data-pick="{html.escape(p["pick"])}">{html.escape(p["pick"])} '
        + _both({code: data["text"][p["problem"]][code]["titles"].get(p["questions"][0], "")
                 for code in ("hr", "en")}) + "</button>"
        for p in data["picks"])
    intro = _both({"hr": "Odaberite zadatak: dobit ćete novu inačicu s provjerenim ključem. Riješite je na papiru, "
                         "upišite odgovore i provjerite ih; nakon provjere vidi se rješenje. Zapis o vježbi ostaje "
                         "samo u ovom pregledniku.",
                   "en": "Pick a problem to get a fresh variant whose key has been verified. Work it on paper, type "
                         "the answers and check them; the worked solution shows after checking. Your record stays "
                         "in this browser only."})
    return (f"<p>{intro}</p>\n"
            '<div id="practice-app" data-ready="false">\n'
            f'<div class="practice-picks">{buttons}</div>\n'
            '<div id="practice-variant"></div>\n'
            '<button type="button" data-action="next"></button>\n'
            '<div class="practice-record"></div>\n</div>\n'
            + _json_script("practice-pool", data["pool"]) + _json_script("practice-text", data["text"])
            + _json_script("practice-html", data["html"]) + _json_script("practice-picks", data["picks"])
            + f"<script>\n{script}</script>\n")


PRACTICE_STYLE = """
.practice-picks button { margin: 0 .4rem .4rem 0; }
#practice-app fieldset { border: 1px solid #ccc; border-radius: 6px; margin: .6rem 0; }
#practice-app input[data-verdict="right"] { border: 2px solid #137333; }
#practice-app input[data-verdict="wrong"] { border: 2px solid #b3261e; }
.practice-feedback[data-verdict="right"] { color: #137333; } .practice-feedback[data-verdict="wrong"] { color: #b3261e; }
"""


LANG_STYLE = """
.lang-switch { position: absolute; opacity: 0; pointer-events: none; }
nav label { margin-right: .8rem; padding: .05rem .5rem; border: 1px solid #0b5cad; border-radius: 4px; cursor: pointer;
            color: #0b5cad; font-size: .9rem; }
#lang-hr:checked ~ nav label[for="lang-hr"], #lang-en:checked ~ nav label[for="lang-en"] { background: #0b5cad; color: #fff; }
#lang-hr:checked ~ * .only-en, #lang-en:checked ~ * .only-hr { display: none; }
"""


def build(results_dir: str = "results", out_dir: str | None = None, lang: str = "hr") -> tuple[str, list[str]]:
    """Writes the page and its assets; returns ``(path of index.html, warnings)``.

    ``results_dir/exam.json`` (``jaxdl exam all --json``) is required; the gradient check, the
    runs and the benchmarks are shown when their files are there. The exam's sheet is there in
    both languages, with a switch (no script); ``lang`` is the one shown first.

    Long because it lays the page out section by section in the order a reader sees them.
    """
    from jaxdl.exams import PROBLEMS, draw_figures, sheet
    from jaxdl.exams.lang import LANGS, Lang
    from jaxdl.fileio import write_atomically

    from jaxdl.fileio import check_writable

    Lang(lang)  # validated
    if not os.path.isdir(results_dir):
        raise InputError(f"jaxdl site: --results {results_dir!r} is not a folder; expected where `make run` wrote "
                         "its results (results/)")
    check_writable("jaxdl site --out", os.path.join(out_dir or os.path.join(results_dir, "site"), "index.html"))
    exam_path = os.path.join(results_dir, "exam.json")
    if not os.path.isfile(exam_path):
        raise InputError(f"site: {exam_path} not found; expected the answers of `jaxdl exam all --json {exam_path}` "
                         "(make run writes it)")
    results = _read_json(exam_path, "the exam answers")
    names = [n for n in PROBLEMS if n in results]
    if not names:
        raise InputError(f"site: {exam_path} holds no exam answer; expected the output of `jaxdl exam all --json`")
    out_dir = out_dir or os.path.join(results_dir, "site")
    assets = os.path.join(out_dir, "assets")
    os.makedirs(assets, exist_ok=True)

    warnings, bodies, navs = [], {}, {}
    try:
        for code in LANGS:
            figures, w = draw_figures(results, assets, code)
            warnings += [x for x in w if x not in warnings]
            text = sheet.markdown(results, names, {k: f"assets/{os.path.basename(v)}" for k, v in figures.items()}, code)
            bodies[code] = markdown_renderer(prefix=f"{code}-").render(text)
            problems = [line[3:].split()[0] for line in text.splitlines() if line.startswith("## ")]
            navs[code] = "".join(f'<a href="#{code}-{slug(p)}">{html.escape(p.rstrip(":"))}</a>' for p in problems)
    except (KeyError, TypeError, IndexError) as e:
        raise InputError(f"site: {exam_path} lacks a field the sheet needs ({type(e).__name__}: {e}); it was written "
                         "by another jaxdl version: run `jaxdl exam all --json` again") from None
    body = "".join(f'<div class="only-{code}" lang="{code}">\n{bodies[code]}\n</div>\n' for code in LANGS)

    # Each section's title in both languages (the page shows the one switched on).
    sections = [("exam", {"hr": "Ispitni odgovori", "en": "Exam answers"}, body)]
    gradcheck = os.path.join(results_dir, "gradcheck.json")
    if os.path.isfile(gradcheck):
        sections.append(("gradcheck", {"hr": "Provjera gradijenata", "en": "Gradient check"}, _gradcheck_html(_read_json(gradcheck, "the gradient check"))))
    runs = os.path.join(results_dir, "runs")
    if os.path.isdir(runs):
        sections.append(("training", {"hr": "Učenje modela", "en": "Training runs"}, _runs_html(runs, assets)))
    practice = os.path.join(results_dir, "practice.json")
    if os.path.isfile(practice):
        sections.insert(1, ("practice", {"hr": "Vježba", "en": "Practice"},
                            _practice_html(_read_json(practice, "the practice pool"))))
    bench = os.path.join(results_dir, "bench.json")
    if os.path.isfile(bench):
        sections.append(("bench", {"hr": "Mjerenja brzine", "en": "Benchmarks"},
                         _bench_html(_read_json(bench, "the benchmarks"), os.path.join(results_dir, "bench"), assets)))

    from jaxdl import __version__

    switch = "".join(f'<input type="radio" name="lang" class="lang-switch" id="lang-{code}"'
                     f'{" checked" if code == lang else ""}>\n' for code in LANGS)
    nav = ('<label for="lang-hr">hrvatski</label><label for="lang-en">English</label>'
           + "".join(f'<span class="only-{code}">{navs[code]}</span>' for code in LANGS)
           + "".join(f'<a href="#{key}">{_both(title)}</a>' for key, title, _ in sections[1:]))
    page = (
        f"<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>jaxdl {__version__}: the course companion</title>\n<style>{STYLE}{LANG_STYLE}{PRACTICE_STYLE}</style>\n</head>\n<body>\n"
        f"{switch}<nav>{nav}</nav>\n"
        "<header>\n"
        '<div class="only-hr" lang="hr"><h1>jaxdl: pratitelj kolegija</h1>\n'
        "<p>Svaki sloj kolegija kao par čistih JAX funkcija s ručno izvedenim unatražnim prolazom, provjerenim "
        "automatskom derivacijom; svaki ispitni zadatak riješen i provjeren; generativni modeli stvarno naučeni. "
        f"Stranicu je napisala naredba <code>make run</code> (jaxdl {__version__}); mreža joj ne treba.</p></div>\n"
        '<div class="only-en" lang="en"><h1>jaxdl: the course companion</h1>\n'
        "<p>Every layer of the course as a pure JAX function pair with its hand-derived backward pass proven "
        "against autodiff, every exam answer worked out and checked, the generative models trained for real. "
        f"Made by <code>make run</code> with jaxdl {__version__}; it needs no network.</p></div>\n"
        "</header>\n"
        + "".join(f'<section id="{key}">\n{_section_heading(key, title)}{content}\n</section>\n'
                  for key, title, content in sections)
        + "</body>\n</html>\n")
    index = os.path.join(out_dir, "index.html")
    write_atomically(index, page)
    return index, warnings


def _both(title: dict) -> str:
    """A title in both languages, each shown when its language is switched on."""
    return "".join(f'<span class="only-{code}">{html.escape(text)}</span>' for code, text in title.items())


def _section_heading(key: str, title: dict) -> str:
    # The exam's sheet brings its own headings (its first is the page's exam title).
    return "" if key == "exam" else f"<h2>{_both(title)}</h2>\n"
