"""The printed hand-out: the same answers give the same bytes (HTML with its pictures inside, PDF),
and no work box of the students' edition is split across two pages."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from jaxdl import cli

pytestmark = pytest.mark.slow


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_the_sheet_is_byte_reproducible_pictures_and_pdf_included(tmp_path):
    pdf = _chromium() is not None
    for run in ("a", "b"):
        argv = ["exam", "tictactoe", "--lang", "hr", "--html", str(tmp_path / f"{run}.html"),
                "--graphs", str(tmp_path / run)]
        assert cli.main(argv + (["--pdf", str(tmp_path / f"{run}.pdf")] if pdf else [])) == 0
    a, b = (tmp_path / "a.html").read_bytes(), (tmp_path / "b.html").read_bytes()
    assert a.count(b"data:image/svg+xml") == 3 and a == b  # E3's board, filter and units, inside
    for name in ("e3_board_hr.svg", "e3_filter_hr.svg", "e3_lines_hr.svg", "e3_board_hr.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    if pdf:
        assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_no_work_box_is_split_across_printed_pages(tmp_path):
    if _chromium() is None or shutil.which("pdftotext") is None:
        pytest.skip("no Chromium or pdftotext here (.ci/run installs Debian's chromium and poppler-utils)")
    path = tmp_path / "students.pdf"
    assert cli.main(["exam", "all", "--lang", "hr", "--edition", "students", "--pdf", str(path)]) == 0
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    starts = ends = 0
    for number, page in enumerate(pages, start=1):
        opened = re.findall(r"Prostor za rješavanje(?: \((\w+)\))?", page)
        closed = re.findall(r"kraj prostora(?: \((\w+)\))?", page)
        assert opened == closed, f"page {number}: boxes {opened} begin here, {closed} end here"
        starts, ends = starts + len(opened), ends + len(closed)
    assert starts == ends and starts >= 25  # a box per part of every problem
