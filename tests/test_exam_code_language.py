"""The code the sheets print speaks the sheet's language: every comment and message of the numpy
lab and the PyTorch answers has its Croatian text in one table, and no code block of a Croatian
sheet keeps an English one; the files themselves, which run, are unchanged."""

import pathlib
import re
import subprocess
import sys

import pytest

from jaxdl import exams
from jaxdl.exams import sheet
from jaxdl.exams._common import lab_source
from jaxdl.exams.lang import CODE_HR, code_texts, localized
from jaxdl.exams.quiz import text as quiz_text
from jaxdl.exams.torch_answers import ANSWERS, source

ROOT = pathlib.Path(__file__).parents[1]
PRINTED = [ROOT / "jaxdl" / "check" / "lab_reference.py",
           *(ROOT / "jaxdl" / "exams" / "torch_answers" / f"{m}.py" for m in (*ANSWERS.values(), "official_q2"))]


@pytest.mark.parametrize("path", PRINTED, ids=lambda p: p.name)
def test_every_comment_and_message_of_the_printed_code_has_its_croatian_text(path):
    code = path.read_text(encoding="utf-8")
    hr = localized(code, "hr")
    assert localized(code, "en") == code and localized(code, None) == code
    for found, _, _, _ in code_texts(hr):
        assert found in CODE_HR.values(), found
    assert len(code_texts(hr)) == len(code_texts(code))  # nothing added or lost


def test_a_comment_the_table_lacks_is_named():
    with pytest.raises(LookupError, match="no hr text for 'a new comment'"):
        localized("x = 1  # a new comment\n", "hr")


def test_the_croatian_texts_by_hand():
    # Broke before: "C must be even" and the English comments in the Croatian sheet's code.
    assert 'assert in_channels % 2 == 0, "C mora biti paran"' in source("additive_coupling", "hr")
    assert "# kanal i usrednjava samo svoje okno K×K" in source("conv_avg_pool", "hr")
    assert 'f"Quadratic: b x zahtijeva num_outputs = D; dobiveno num_outputs={num_outputs}, D={D}"' in lab_source("Quadratic", "hr")
    assert '"C must be even"' in source("additive_coupling")  # the file, as written


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def test_no_code_block_of_the_croatian_sheet_keeps_an_english_comment():
    names = ["resblock", "quiz"]  # the problems whose answers are code
    results = {name: exams.solve(name) for name in names}
    text = sheet.markdown(results, names, lang="hr")
    blocks = _code_blocks(text)
    assert len(blocks) >= 6
    skeleton = {lang: {t for t, _, _, _ in code_texts(_code_blocks(quiz_text._SKELETON_TEXT[lang])[0])} for lang in ("hr", "en")}
    for block in blocks:  # the answers' code, and Q2's skeleton (the question's, written in each language)
        for found, _, _, _ in code_texts(block):
            assert found in set(CODE_HR.values()) | skeleton["hr"], found
            assert found not in set(CODE_HR) | skeleton["en"], found
    english = sheet.markdown(results, names, lang="en")
    assert '"C must be even"' in english and '"C must be even"' not in text


def test_the_lab_file_still_passes_the_checker_and_is_unchanged_in_behaviour():
    # The table lives beside the code; lab_reference.py keeps its English comments and passes.
    done = subprocess.run([sys.executable, "-m", "jaxdl.cli", "check-numpy", str(PRINTED[0])],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_conv_avg_pool_docstring_has_no_stray_quote():
    code = source("conv_avg_pool")
    assert "''''" not in code and "'''Performs forward pass'''" in code
