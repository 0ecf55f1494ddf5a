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


def test_the_pdf_s_structure_ids_are_numbered_in_their_own_order(tmp_path):
    """Chromium's structure tree names its elements by DOM node numbers, which a busy machine
    shifts (node00000173 in one printing, node00000163 in the next): numbered from 0, in order."""
    from jaxdl.render import fix_pdf_dates

    pages = []
    for first in (173, 163):
        body = (b"/CreationDate (D:20261208041500+00'00')\n/ID (node%08d)>>\n/Names [(node%08d) 3 0 R (node%08d) 4 0 R]"
                % (first + 2, first, first + 2))
        (tmp_path / "p.pdf").write_bytes(body)
        fix_pdf_dates(str(tmp_path / "p.pdf"))
        pages.append((tmp_path / "p.pdf").read_bytes())
    assert pages[0] == pages[1] == (b"/CreationDate (D:20000101000000+00'00')\n/ID (node00000001)>>\n"
                                    b"/Names [(node00000000) 3 0 R (node00000001) 4 0 R]")
