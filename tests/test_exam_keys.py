"""Every key is right for every right answer: each family's variants key only what their printed
parts ask and their givens determine, the marks are the exam's points, the catalogue of common
mistakes computes the keys a fourth way and tells each mistake apart, and nothing a student sees
gives the seed away."""

from __future__ import annotations

import collections
import html
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from jaxdl.exams import generate, moodle
from jaxdl.exams.lang import Lang
from jaxdl.exams.problem import close, tolerance_for, variant_id
from jaxdl.exams.registry import PROBLEMS, with_family
from croatian_counts import form, wrong_counts

FAMILIES = with_family()
COUNT = 10
DRAWS = 30  # the mistakes need only the givens: more variants, cheaply


@pytest.fixture(scope="module")
def records():
    return {p: generate.records(p, 13, COUNT) for p in FAMILIES}


@pytest.mark.parametrize("problem", FAMILIES)
def test_every_blank_answers_a_printed_part_and_the_marks_are_the_exams_points(problem, records):
    problem_ = PROBLEMS[problem]
    for r in records[problem]:
        questions = problem_.questions(r)
        points = moodle.part_points(questions)
        blanks = problem_.family.blanks(r)
        assert blanks and len({b.id for b in blanks}) == len(blanks)
        assert all(re.fullmatch(r"[A-Za-z0-9_]+", b.id) for b in blanks)
        w = moodle.weights(blanks, questions)
        per_part = collections.Counter()
        for b, weight in zip(blanks, w):
            assert weight >= 1
            per_part[b.part] += weight
        for part, total in per_part.items():
            assert total == points[part], (part, total, points[part])
        # The bank: the cloze question's mark (Moodle adds its blanks' weights) and the essay's
        # points together are the question's points.
        xml = moodle.question_xml(r, Lang("en"))
        cloze = sum(int(m) for m in re.findall(r"\{(\d+):NUMERICAL:", xml))
        essay = sum(float(v) for v in re.findall(r"<defaultgrade>([0-9.]+)</defaultgrade>", xml))
        exam_points = sum(q.points for q in questions if q.points is not None)
        assert cloze + essay == pytest.approx(exam_points)


@pytest.mark.parametrize("problem", FAMILIES)
def test_the_catalogue_computes_every_key_a_fourth_way(problem, records):
    family = PROBLEMS[problem].family
    assert family.correct is not None and family.mistakes, "a family without its catalogue of common mistakes"
    for r in records[problem]:
        keys = family.correct(r["givens"])
        blanks = family.blanks(r)
        assert set(keys) == {b.id for b in blanks}
        for b in blanks:
            assert abs(keys[b.id] - b.value) <= 1e-9 * max(1.0, abs(b.value)), (b.id, keys[b.id], b.value)


@pytest.mark.parametrize("problem", FAMILIES)
def test_a_kept_mistake_is_wrong_and_no_two_mistakes_look_alike(problem, records):
    family = PROBLEMS[problem].family
    names = [m.name for m in family.mistakes]
    assert len(set(names)) == len(names) and all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)
    for m in family.mistakes:
        assert m.title["hr"] and m.title["en"] and m.why["hr"] and m.why["en"]
    parts = {b.part for r in records[problem] for b in family.blanks(r)}
    assert all(family.hints.get(p, {}).get(lang) for p in parts for lang in ("hr", "en")), "a part without its hint"
    told = collections.Counter()
    for givens in generate.draw(problem, 13, DRAWS).givens:
        keys = family.correct(givens)
        for blank, found in family.mistakes_of(givens).items():
            tol = tolerance_for(keys[blank], family.dtype)
            values = [v for _, v in found]
            assert all(not close(v, keys[blank], tol) for v in values)
            assert all(not close(a, b, tol) for i, a in enumerate(values) for b in values[i + 1:])
            told.update(name for name, _ in found)
    assert set(told) == set(names), f"mistakes never told on {DRAWS} variants: {set(names) - set(told)}"


def _students_view(record) -> str:
    """What a student reads of a variant in the bank: the question and the givens, no answers."""
    xml = moodle.question_xml(record, Lang("en"))
    text = ET.fromstring(f"<q>{xml}</q>").find("question/questiontext/text").text
    text = text.replace(variant_id(record), "ID")  # a hash of every given, a hidden one too: not read
    return re.sub(r"\{\d+:NUMERICAL:[^\n]*?\}</td>", "</td>", text)


@pytest.mark.parametrize("problem", FAMILIES)
def test_two_variants_that_read_the_same_have_the_same_keys(problem, records):
    family = PROBLEMS[problem].family
    by_text = collections.defaultdict(list)
    for r in records[problem]:
        by_text[_students_view(r)].append({b.id: b.value for b in family.blanks(r)})
    for keys in by_text.values():
        assert all(k == keys[0] for k in keys[1:])


def test_nothing_a_student_reads_names_the_seed(records, tmp_path):
    seed = 987654321
    recs = generate.records("resblock", seed, 2)
    written = generate.write(recs, str(tmp_path), "hr", moodle=str(tmp_path / "bank.xml"))
    for path in map(pathlib.Path, written):
        if "students" in path.name or path.name == "bank.xml":
            text = path.read_bytes().decode("utf-8", "replace")
            assert str(seed) not in text and "sjeme" not in text, path
    teachers = [pathlib.Path(p) for p in written if "teachers" in p and p.endswith(".md")]
    assert teachers and all(str(seed) in p.read_text(encoding="utf-8") for p in teachers)
    assert variant_id(recs[0]) != variant_id(recs[1])
    assert variant_id(recs[0]) == variant_id({"problem": "resblock", "givens": dict(recs[0]["givens"])})


# Moodle's own patterns for an embedded answer (question/type/multianswer/questiontype.php), with
# the one look-behind Python cannot take as one alternation split in three.
_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
_NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
_NUMERICAL = f"^({_NUMBER})(:{_NUMBER})?$"
_START = r"\{([0-9]*):(NUMERICAL|NM):"
_CLOZE = f"{_START}({_ALTERNATIVE}(~{_ALTERNATIVE})*)\\}}"


def _parse_cloze(text: str) -> list[list[tuple]]:
    """Each embedded answer of ``text`` as Moodle reads it: ``[(fraction, answer, feedback), ...]``."""
    out = []
    for m in re.finditer(_CLOZE, text, re.S):
        alternatives, rest = [], m.group(3)
        while rest:
            a = re.match("~?" + _ALTERNATIVE, rest, re.S)
            assert a and a.group(0), rest
            fraction = 1.0 if a.group(1) == "=" else float(a.group(2) or 0) / 100
            feedback = html.unescape(a.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            alternatives.append((fraction, a.group(3), feedback))
            rest = rest[len(a.group(0)):]
        out.append(alternatives)
    return out


@pytest.mark.parametrize("problem", FAMILIES)
def test_the_bank_parses_with_moodles_patterns_and_names_every_mistake(problem, records):
    family = PROBLEMS[problem].family
    catalogue = {m.name: m for m in family.mistakes}
    for r in records[problem][:6]:
        for code in ("hr", "en"):
            xml = moodle.question_xml(r, Lang(code))
            text = ET.fromstring(f"<q>{xml}</q>").find("question/questiontext/text").text
            parsed = _parse_cloze(text)
            blanks = family.blanks(r)
            assert len(parsed) == len(blanks) == text.count(":NUMERICAL:")
            told = family.mistakes_of(r["givens"])
            for b, alternatives in zip(blanks, parsed):
                (f0, key, _), *wrong = alternatives
                assert f0 == 1.0 and re.match(_NUMERICAL, key)
                value, tol = (float(v) for v in key.split(":"))
                assert value == pytest.approx(b.value, abs=1e-9) and tol == pytest.approx(b.tolerance)
                expected = [(v, f"{catalogue[n].title[code]}: {catalogue[n].why[code]}") for n, v in told.get(b.id, [])]
                got = [(float(a.split(":")[0]), fb) for f, a, fb in wrong if a != "*"]
                assert got == [(pytest.approx(v), fb) for v, fb in expected]
                assert all(f == 0 for f, _, _ in wrong)
                assert wrong[-1][1] == "*" and wrong[-1][2] == family.hints[b.part][code]


def test_moodles_pattern_reads_a_documented_example():
    # The cloze documentation's numerical example, with a partly right answer and feedback.
    text = "{2:NUMERICAL:=23.8:0.1#Feedback for correct answer 23.8~%50%23.8:2#Feedback for half credit answer}"
    (answers,) = _parse_cloze(text)
    assert answers == [(1.0, "23.8:0.1", "Feedback for correct answer 23.8"),
                       (0.5, "23.8:2", "Feedback for half credit answer")]
    assert _parse_cloze("{1:NUMERICAL:=1:0.1#a \\} b \\# c~%0%*#d}") == [[(1.0, "1:0.1", "a } b # c"), (0.0, "*", "d")]]


def test_the_croatian_count_rule_over_the_counts_that_occur():
    hr = Lang("hr")
    assert [form(n) for n in (1, 2, 4, 5, 11, 12, 21, 22, 25, 101, 111, 112)] == [0, 1, 1, 2, 2, 2, 0, 1, 2, 0, 2, 2]
    cases = {1: "1 sloj", 2: "2 sloja", 4: "4 sloja", 5: "5 slojeva", 11: "11 slojeva", 12: "12 slojeva",
             14: "14 slojeva", 21: "21 sloj", 22: "22 sloja", 25: "25 slojeva", 101: "101 sloj", 111: "111 slojeva",
             112: "112 slojeva", 1602000: "1602000 slojeva"}
    for n, text in cases.items():
        assert hr.count(n, "sloj", "sloja", "slojeva") == text
    assert [hr.points(p) for p in (1, 2, 5, 12, 22, 0.5)] == ["1 bod", "2 boda", "5 bodova", "12 bodova", "22 boda",
                                                               "0.5 boda"]


def test_every_count_in_the_variants_croatian_sheets_agrees_with_its_noun(records):
    from jaxdl.exams import sheet

    texts = [sheet.markdown({problem: r}, [problem], None, "hr", edition)
             for problem, recs in records.items() for r in recs[:6] for edition in ("teachers", "students")]
    assert [w for text in texts for w in wrong_counts(text)] == []
