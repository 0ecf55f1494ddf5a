"""E2: a residual block ``out = x + ReLU(x W + b)`` built from the lab's layers — its numpy class
and PyTorch module, worked on numbers small enough to follow by hand."""

from jaxdl.exams.problem import Problem
from jaxdl.exams.resblock import compute, errata, family, text

PROBLEM = Problem(name="resblock", config="exam_resblock", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, ok=compute.ok,
                  family=family.FAMILY)
