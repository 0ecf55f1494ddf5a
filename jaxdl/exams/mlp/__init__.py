"""E1: one example through ``h = W x + b``, ``h' = ReLU(h)``, ``s = wᵀh'`` and the logistic loss —
operation counts, derivatives, structural zeros, the backward equations and both computational
graphs, each read off or checked against the code."""

from jaxdl.exams.mlp import compute, errata, family, figures, text
from jaxdl.exams.mlp.compute import backward, forward
from jaxdl.exams.problem import Problem

__all__ = ["PROBLEM", "backward", "forward"]

PROBLEM = Problem(name="mlp", config="exam_mlp", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, figures=figures.figures,
                  family=family.FAMILY)
