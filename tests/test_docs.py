"""The documentation holds: every Markdown table has consistent columns, every block marked
runnable runs and prints what the text after it says, every command line shown exists, and the
generated parts are generated."""

import argparse
import json
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS = ["layers", "exams", "grading", "training", "flax", "benchmarks"]


def _cells(line: str) -> int:
    """The number of cells of a table row: pipes outside code spans and not escaped."""
    line = re.sub(r"`[^`]*`", "", line.strip())
    line = line.replace("\\|", "")
    return line.strip("|").count("|") + 1


def _tables(text: str):
    """Each table's raw lines, found by markdown-it's own parser (so code blocks are not tables)."""
    lines = text.splitlines()
    md = MarkdownIt("commonmark").enable("table")
    for tok in md.parse(text):
        if tok.type == "table_open":
            yield tok.map[0] + 1, lines[tok.map[0]:tok.map[1]]


def _blocks(text: str):
    md = MarkdownIt("commonmark")
    for tok in md.parse(text):
        if tok.type == "fence":
            yield tok.info.split(), tok.content, tok.map[1]


def test_the_readme_is_short_and_links_every_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for page in DOCS:
        assert f"(docs/{page}.md)" in text and (ROOT / "docs" / f"{page}.md").is_file(), page
    assert "(CHANGELOG.md)" in text


def test_cells_are_counted_as_markdown_counts_them():
    assert _cells("| a | b `x | y` | c \\| d |") == 3
    assert _cells("|---|---|") == 2


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_table_has_as_many_cells_in_each_row_as_in_its_header(page):
    found = 0
    for line_no, rows in _tables(page.read_text()):
        found += 1
        widths = [_cells(r) for r in rows]
        assert set(widths) == {widths[0]}, f"{page.name}:{line_no}: cells per row {widths}"
    assert found or page.name in ("flax.md",), f"{page.name}: no table found (the parser is wrong?)"


def _claims(text: str, end_line: int) -> list[str]:
    """The backticked strings after "prints" in the paragraph following a block."""
    after = "\n".join(text.splitlines()[end_line:]).lstrip("\n").split("\n\n")[0]
    if "prints" not in after:
        return []
    return re.findall(r"`([^`]+)`", after.split("prints", 1)[1].split("(")[0])


RUNNABLE = [(page, i) for page in PAGES for i, (info, _, _) in enumerate(_blocks(page.read_text()))
            if "runnable" in info]


def test_the_runnable_blocks_are_found():
    assert {p.name for p, _ in RUNNABLE} >= {"README.md", "flax.md", "training.md"}


@pytest.mark.slow
@pytest.mark.parametrize("page,index", RUNNABLE, ids=lambda v: v.name if hasattr(v, "name") else str(v))
def test_every_runnable_block_runs_and_prints_what_the_text_says(page, index, tmp_path):
    text = page.read_text()
    info, code, end = list(_blocks(text))[index]
    file = next((w for w in info[1:] if w.endswith(".py")), "block.py")
    (tmp_path / file).write_text(code)
    done = subprocess.run([sys.executable, file], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    claims = _claims(text, end)
    assert claims, f"{page.name}: a runnable block without a 'prints' sentence after it"
    out = done.stdout.splitlines()
    for claim in claims:
        if claim.startswith("python "):
            continue
        assert claim in out, (claim, out[:5])


def _parsers():
    from jaxdl import cli

    root = cli.build_parser()
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    parsers = dict(sub.choices)
    tic = next(a for a in parsers["tictactoe"]._actions if isinstance(a, argparse._SubParsersAction))
    parsers["tictactoe count-wins"] = tic.choices["count-wins"]
    parsers["exam generate"] = cli.exam_generate_parser()
    parsers["launch"] = cli.launch_parser()
    return root, parsers


def _options(parser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings}


def _command_lines():
    for page in PAGES:
        text = page.read_text()
        for info, code, _ in _blocks(text):
            if info and info[0] not in ("sh", "console", "bash"):
                continue
            for line in code.splitlines():
                line = line.split(" #")[0].strip()
                if line.startswith("jaxdl "):
                    yield page.name, line
        for span in re.findall(r"`(jaxdl [^`]+)`", text):
            yield page.name, span


def _command_words():
    """Each command line's words after ``jaxdl``; a ``jaxdl launch ... -- train ...`` line is two
    commands (launch's own, and the train command it runs)."""
    for page, line in _command_lines():
        words = [w for w in shlex.split(line.replace("[", " ").replace("]", " ").replace("|", " "))
                 if w not in ("...", "…")][1:]
        if words[:1] == ["launch"] and "--" in words:
            split = words.index("--")
            yield page, line, words[:split]
            yield page, line, words[split + 1:]
        else:
            yield page, line, words


def test_every_command_line_shown_exists():
    root, parsers = _parsers()
    seen = 0
    for page, line, words in _command_words():
        while words and words[0].startswith("--") and words[0] in _options(root):
            words = words[1:]
        if not words or words[0].startswith("-"):
            continue
        name = " ".join(words[:2]) if " ".join(words[:2]) in parsers else words[0]
        assert name in parsers, f"{page}: `{line}`: no command {words[0]!r}"
        parser, known = parsers[name], _options(parsers[name]) | _options(root)
        accepts_overrides = parser.get_default("accepts_overrides")
        for w in words:
            if w.startswith("--"):
                option = w.split("=")[0]
                if option.startswith("--config.") and accepts_overrides:
                    continue
                assert option in known, f"{page}: `{line}`: {name} has no option {option}"
        seen += 1
    assert seen >= 25


def test_the_benchmarks_page_is_generated_from_a_report(tmp_path):
    from jaxdl import docs

    report = {
        "date": "2026-12-02 10:00 UTC", "quick": False, "wall_seconds": 300.0,
        "environment": {"device": "cpu: cpu", "cpu_count": 2, "machine": "x86_64", "python": "3.11.9",
                        "versions": {"jax": "0.10.2"}},
        "limits": {"matmul_gflops": 352.0, "matmul_gflops_spread": [300.0, 340.0, 352.0], "matmul_size": 2048,
                   "matmul_library": "torch", "matmul_by_library": {"xla": {"best": 275.0, "spread": [250, 270, 275]},
                                                                     "torch": {"best": 352.0, "spread": [300, 340, 352]}},
                   "copy_cache_gbps": 200.0, "copy_cache_gbps_spread": [150, 190, 200], "copy_cache_mib": 4,
                   "copy_gbps": 50.0, "copy_gbps_spread": [45, 48, 50], "copy_mib": 256},
        "suites": {"gan_step": {"name": "gan_step", "wall_seconds": 12.0, "busy_other_cores": 0.5,
                                "rows": [{"case": "step | one", "candidate": "a", "median_s": 7.2e-6, "reference": "a",
                                          "ratio": 1.0, "gflops": None, "gbps": None, "note": ""},
                                         {"case": "step | one", "candidate": "b", "median_s": 1.44e-5, "reference": "a",
                                          "ratio": 2.0, "gflops": 1.5, "gbps": None, "note": "x"}],
                                "notes": ["WARNING: busy"],
                                "targets": [{"target": "b within 3× of a", "met": True, "detail": "2.00×"}]}}}
    page = docs.benchmarks_page(report)
    assert "2026-12-02 10:00 UTC" in page and "jax 0.10.2" in page and "(torch's, the best library) | 352 GFLOP/s" in page
    assert "xla 275 (runs 250–275); torch 352" in page
    assert "| step \\| one | b | 14.4 µs | 2.00× a | 1.5 GFLOP/s | x |" in page
    assert "| `gan_step` | b within 3× of a | met | 2.00× |" in page and "- WARNING: busy" in page
    path = tmp_path / "benchmarks.md"
    path.write_text(page)
    for line_no, rows in _tables(page):
        assert len({_cells(r) for r in rows}) == 1, (line_no, rows)


def test_jaxdl_docs_writes_the_training_table_and_the_benchmarks_page(tmp_path):
    from jaxdl import docs

    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    for page in ("exams", "training"):
        (root / "docs" / f"{page}.md").write_text((ROOT / "docs" / f"{page}.md").read_text())
    results = tmp_path / "results"
    run = results / "runs" / "cnn_digits"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"experiment": "cnn_digits", "steps": 2000, "wall_seconds": 4.6,
                                                  "test_accuracy": 0.9917}))
    (results / "exam.json").write_text(json.dumps({"errata": []}))
    written = docs.write(str(root), str(results))
    assert written == ["the errata block of docs/exams.md", "the training block of docs/training.md"]
    training = (root / "docs" / "training.md").read_text()
    assert "| `cnn_digits` | test_accuracy = 0.9917 | 2,000 | 5 s |" in training


def test_the_generated_pages_are_not_edited_by_hand():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert page.startswith("# Benchmarks\n\n<!-- Generated by `jaxdl docs`")
    training = (ROOT / "docs" / "training.md").read_text()
    block = training[training.index("<!-- training:begin -->"):training.index("<!-- training:end -->")]
    assert block.count("\n| `") >= 3, "run make run and scripts/reproduce_all, then jaxdl docs"
