"""E3: the hand-set tic-tac-toe classifier (convolution, fully connected, global max pooling,
sigmoid), one forward pass, the BCE gradient, and its accuracy over every final board of a legal
game — for the exam's question (did X win?) or another target."""

from jaxdl.exams.problem import Problem
from jaxdl.exams.tictactoe import compute, errata, family, figures, text
from jaxdl.exams.tictactoe.compute import unit_names

__all__ = ["PROBLEM", "unit_names"]

PROBLEM = Problem(name="tictactoe", config="exam_tictactoe", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, ok=compute.ok,
                  figures=figures.figures, family=family.FAMILY)
