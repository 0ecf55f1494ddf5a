"""The course page (`jaxdl site`): built from a results folder, checked as files and in a real
headless browser (Debian's Chromium, which .ci/run installs)."""

import json
import os
import re
import shutil

import pytest

from jaxdl import cli


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A results folder as make run leaves it (exam answers, a gradient check, one run, a bench
    report), and the page built from it: (index.html path, results folder)."""
    results = tmp_path_factory.mktemp("results")
    assert cli.main(["exam", "all", "--json", str(results / "exam.json")]) == 0
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


def test_the_page_and_its_assets(site, capsys):
    index, _ = site
    page = index.read_text()
    assert page.startswith("<!doctype html>")
    # Every exam answer, the errata, the gradient check, the run and the benchmark.
    for anchor in ("e1", "e2", "e3", "e4", "e5", "e6", "q1a", "q1b", "q2", "q3", "errata", "gradcheck", "training",
                   "bench"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page, anchor
    assert "2 of 2 registry layers pass" in page
    assert "test_nll_nats = 0.7071" in page and "1,200 steps" in page
    assert "fwd ≤ 1 ms" in page
    # The math is MathML; no LaTeX is left for the reader (no CDN, no script).
    assert page.count("<math") > 150 and "$" not in page and "\\frac" not in page and "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "") and "https://" not in page
    # Every image the page links is a file beside it.
    links = re.findall(r'<img src="([^"]+)"', page)
    assert len(links) == 7  # E1: two graphs; E3: board, filter, line units; the run's plot; the bench chart
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
            sizes = page.evaluate("Array.from(document.querySelectorAll('math')).map(m => {"
                                  "const r = m.getBoundingClientRect(); return [r.width, r.height]; })")
            text = page.evaluate("document.body.innerText")
            shot = tmp_path / "course_page.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert messages == []
    assert images == 7 and broken == []
    assert len(sizes) > 150 and all(w > 0 and h > 0 for w, h in sizes)  # every formula laid out as MathML
    assert "$" not in text and "\\begin" not in text
    assert "E6 — One GAN training step" in text and "3,604,000 parameters" in text
    assert all(url.startswith(("file://", "data:")) for url in requests), [u for u in requests if not u.startswith("file")]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.path.getsize(shot) > 20_000
