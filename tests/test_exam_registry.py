"""An exam problem is one record found by one registry: a new problem is one module and one config,
and ``jaxdl exam``, ``jaxdl exam generate``, the Moodle bank and the course page find it."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

from jaxdl import cli, exams
from jaxdl.exams import registry

TOY = '''
"""A toy problem: y = wᵀx for two numbers each; part (a) asks ∂y/∂w, which is x."""
import pathlib

import numpy as np

from jaxdl.check.numeric import grad_references
from jaxdl.exams.lang import both
from jaxdl.exams.problem import Body, Family, Part, Problem, Question
from jaxdl.exams.variants import batched, blanks_of, pick, stack, verified

QUESTION = Question(code="T1", title=both("Skalarni produkt", "A dot product"), points=2,
                    stem=both("Zadani su $w$ i $x$, a $y = w^\\\\top x$.", "Given $w$ and $x$, $y = w^\\\\top x$."),
                    parts=(Part(id="a", points=2, text=both("izračunajte $\\\\partial y / \\\\partial w$",
                                                           "compute $\\\\partial y / \\\\partial w$")),),
                    givens="chosen")


def solve(cfg):
    w, x = np.asarray(cfg.w, float), np.asarray(cfg.x, float)
    return {"givens": {"w": w.tolist(), "x": x.tolist()}, "y": float(w @ x), "grad": x.tolist(), "errata": []}


def report(r):
    return f"T1  y = {r['y']:g}, dy/dw = {r['grad']}"


def sheet(r, figures, lang):
    return {"T1": Body(givens=f"$w = {r['givens']['w']}$, $x = {r['givens']['x']}$", steps={"a": "$y = w_1 x_1 + w_2 x_2$"},
                       answers={"a": f"$\\\\partial y / \\\\partial w = {r['grad']}$"}, verified="jax.grad")}


def _one(w, x):
    return {"grad": x}, {pair: {"grad": g} for pair, g in grad_references(lambda v: v @ x, w).items()}


def verify(givens):
    answers, disagreement = batched(_one, stack(givens, "w", "x"))
    return verified(answers, disagreement, len(givens))


FAMILY = Family(propose=lambda rng: {"w": pick(rng, [1, 2, 3], (2,)).tolist(), "x": pick(rng, [-1, 1, 2], (2,)).tolist()},
                screen=lambda g: None, group=lambda g: (), verify=verify, answers=lambda r: {"grad": r["grad"]},
                blanks=lambda r: blanks_of("T1(a)", "grad", "∂y/∂w", "∂y/∂w", r["grad"]), stress_cost=1)

PROBLEM = Problem(name="toy", config=str(pathlib.Path(__file__).with_name("exam_toy.py")), solve=solve, report=report,
                  questions=lambda r: (QUESTION,), sheet=sheet, family=FAMILY)
'''

CONFIG = '''
import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.w = [1.0, 2.0]
    config.x = [3.0, -1.0]
    return config
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_problem.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    (tmp_path / "exam_toy.py").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import toy_problem

    registry.register(toy_problem.PROBLEM)
    try:
        yield tmp_path
    finally:
        registry.PROBLEMS.pop("toy")


def test_a_toy_problem_is_found_by_the_command_the_generator_the_bank_and_the_page(toy, capsys):
    out = toy / "out"
    assert cli.main(["exam", "toy", "--json", str(out / "toy.json"), "--markdown", str(out / "toy.md")]) == 0
    assert "T1  y = 1, dy/dw = [3.0, -1.0]" in capsys.readouterr().out  # 1·3 + 2·(−1)
    assert json.loads((out / "toy.json").read_text())["grad"] == [3.0, -1.0]
    assert "## T1 — A dot product (2 points)" in (out / "toy.md").read_text(encoding="utf-8")

    assert cli.main(["exam", "generate", "toy", "--seed", "4", "--count", "2", "--out", str(out / "v"),
                     "--moodle", str(out / "bank.xml")]) == 0
    records = json.loads((out / "v" / "variants.json").read_text())
    assert [(r["problem"], r["variant"]) for r in records] == [("toy", 0), ("toy", 1)]
    root = ET.fromstring((out / "bank.xml").read_text(encoding="utf-8"))
    assert [q.find("category/text").text for q in root if q.get("type") == "category"] == ["$course$/top/jaxdl/toy"]
    cloze = [q.find("questiontext/text").text for q in root if q.get("type") == "cloze"]
    for r, text in zip(records, cloze):
        x = r["givens"]["x"]
        assert f"{{1:NUMERICAL:={x[0]:g}:" in text and f"{{1:NUMERICAL:={x[1]:g}:" in text

    results = toy / "results"
    results.mkdir()
    (results / "exam.json").write_text(json.dumps({"toy": exams.solve("toy"), "errata": []}), encoding="utf-8")
    assert cli.main(["site", "--results", str(results)]) == 0
    page = (results / "site" / "index.html").read_text(encoding="utf-8")
    assert "T1 — A dot product" in page and "T1 — Skalarni produkt" in page


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="'mlp' is taken"):
        registry.register(registry.PROBLEMS["mlp"])
    with pytest.raises(TypeError, match="expected a Problem"):
        registry.register("mlp")
