"""The printed hand-out: the same answers give the same bytes (HTML with its pictures inside, PDF).
(That no work box is split across pages is tested on the whole students' edition, in test_sheet.)"""

from __future__ import annotations

import shutil

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
