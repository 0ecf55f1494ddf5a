"""The practice tab of the course page, driven in Chromium with the network blocked: for variants of
every family, the keys are marked right, each common mistake's value is marked wrong and named,
an unrelated number gets the part's hint; the record survives a reload; both languages; nothing
is fetched. The pool's keys are the ones verified three ways, and the page stays light."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from jaxdl import cli, exams
from jaxdl.exams import generate, practice
from jaxdl.exams.problem import variant_id
from jaxdl.exams.registry import PROBLEMS, with_family

pytestmark = pytest.mark.slow
SEED, COUNT = 21, 2


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    data = practice.build(with_family(), SEED, COUNT, processes=1)
    (results / "practice.json").write_text(json.dumps(data), encoding="utf-8")
    (results / "exam.json").write_text(json.dumps({"resblock": exams.solve("resblock"), "errata": []}), encoding="utf-8")
    assert cli.main(["site", "--results", str(results)]) == 0
    return data, results / "site" / "index.html"


def test_the_pool_keeps_the_contract_and_its_keys_are_the_verified_ones(built):
    data, _ = built
    pool = data["pool"]
    assert {r["problem"] for r in pool} == set(with_family())
    assert {r["lang"] for r in pool} == {"hr", "en"}
    for problem in with_family():
        records = generate.records(problem, SEED, COUNT)  # drawn again: the same variants, keys re-verified
        ids = {variant_id(r): r for r in records}
        mine = [r for r in pool if r["problem"] == problem]
        assert {r["id"] for r in mine} == set(ids) and len(mine) == 2 * COUNT
        for r in mine:
            assert set(r) == {"problem", "id", "lang", "parts"}
            assert len(r["id"]) == 10  # a hash of the problem and the givens, whatever seed drew them
            blanks = {b.id: b for b in PROBLEMS[problem].family.blanks(ids[r["id"]])}
            for part in r["parts"]:
                assert set(part) == {"part", "blanks"}
                for b in part["blanks"]:
                    assert set(b) == {"blank", "key", "tol", "mistakes"}
                    assert b["key"] == pytest.approx(blanks[b["blank"]].value, rel=1e-6, abs=1e-12)  # 7 digits
                    bank = float(f"{blanks[b['blank']].tolerance:.10g}")  # as the Moodle bank writes it
                    assert 0.99 * bank <= b["tol"] <= bank
                    assert all(set(m) == {"name", "value"} and abs(m["value"] - b["key"]) > b["tol"]
                               for m in b["mistakes"])


def _browser():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _unrelated(b: dict) -> float:
    """A number no key nor mistake of the blank is near."""
    taken = [b["key"], *(m["value"] for m in b["mistakes"])]
    x = max(abs(v) for v in taken) + 7.25
    return x


def test_the_page_marks_keys_right_names_each_mistake_and_keeps_the_record(built, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if _browser() is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium when it runs as root)")
    data, index = built
    assert os.path.getsize(index) < 5_000_000
    messages, outside = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_browser(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000})

            def route(r):  # the network is blocked: only the page's own file may load
                if r.request.url.startswith(("file://", "data:")):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            start = time.perf_counter()
            page.goto(index.as_uri(), wait_until="load")
            page.wait_for_selector('#practice-app[data-ready="true"]')
            print(f"practice tab usable {time.perf_counter() - start:.2f} s after navigation")
            pool = json.loads(page.eval_on_selector("#practice-pool", "e => e.textContent"))
            by = {(r["problem"], r["id"], r["lang"]): r for r in pool}
            checked = {}
            for lang in ("hr", "en"):
                page.click(f'label[for="lang-{lang}"]')
                for pick in data["picks"]:
                    page.click(f'[data-pick="{pick["pick"]}"]')
                    page.wait_for_selector(f'article[data-pick="{pick["pick"]}"][lang="{lang}"] input[data-blank]')
                    article = page.query_selector("article")
                    problem, vid = article.get_attribute("data-problem"), article.get_attribute("data-id")
                    assert article.get_attribute("lang") == lang
                    record = by[(problem, vid, lang)]
                    parts = [q for q in record["parts"]
                             if any(q["part"] == c or q["part"].startswith(c + "(") for c in pick["questions"])]
                    blanks = [(q["part"], b) for q in parts for b in q["blanks"]]
                    rounds = max([1, 2, *(len(b["mistakes"]) + 2 for _, b in blanks)])
                    for k in range(rounds):  # round 0: the keys; then each mistake's value; last: unrelated
                        expect = {}
                        for part, b in blanks:
                            key = f"{problem}/{vid}/{part}/{b['blank']}"
                            if k == 0 or k > len(b["mistakes"]) + 1:
                                value, want = b["key"], ("right", None)
                            elif k <= len(b["mistakes"]):
                                m = b["mistakes"][k - 1]
                                value, want = m["value"], ("wrong", m["name"])
                            else:
                                value, want = _unrelated(b), ("wrong", None)
                            text = repr(float(value)).replace(".", ",") if lang == "hr" and k % 2 else repr(float(value))
                            page.fill(f'input[data-blank="{key}"]', text)
                            expect[key] = (want, part)
                        page.click('[data-action="check"]')
                        for key, ((verdict, mistake), part) in expect.items():
                            el = page.query_selector(f'input[data-blank="{key}"]')
                            assert el.get_attribute("data-verdict") == verdict, (key, k)
                            assert el.get_attribute("data-mistake") == mistake, (key, k)
                            said = page.query_selector(f'.practice-feedback[data-for="{key}"]').inner_text()
                            words = data["text"][problem][lang]
                            if mistake:
                                assert words["mistakes"][mistake]["why"] in said
                            elif verdict == "wrong":
                                assert words["hints"][part] in said
                    assert page.is_visible(".practice-solution")
                    checked[(problem, vid)] = True
            record = page.evaluate("localStorage.getItem('jaxdl-practice-record')")
            shot = tmp_path / "practice.png"
            page.add_style_tag(content="nav { position: static; }")  # the sticky bar would cross the picture
            page.query_selector("#practice").screenshot(path=str(shot))
            page.reload(wait_until="load")
            page.wait_for_selector('#practice-app[data-ready="true"]')
            counts = {row.get_attribute("data-problem"): int(row.query_selector('[data-count="attempted"]').inner_text())
                      for row in page.query_selector_all(".practice-record tr[data-problem]")}
            page.click('[data-action="clear"]')
            cleared = page.evaluate("localStorage.getItem('jaxdl-practice-record')")
        finally:
            browser.close()
    assert messages == [] and outside == []
    assert json.loads(record) and cleared is None
    seen = {}
    for problem, _ in checked:
        seen[problem] = seen.get(problem, 0) + 1
    assert counts == {p: seen.get(p, 0) for p in counts} and sum(counts.values()) == len(checked)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("JAXDL_PRACTICE_SCREENSHOT")
    if target:  # docs/practice.png is this test's screenshot (JAXDL_PRACTICE_SCREENSHOT=docs/practice.png)
        shutil.copyfile(shot, target)
