"""The lab-2 quiz, Q1–Q3: the quadratic layer and Swish in the lab's numpy ``Layer`` interface,
average pooling from a convolution and the additive coupling in PyTorch — each with a worked
example checked three ways, and where the official solutions go wrong."""

from jaxdl.exams.problem import Problem
from jaxdl.exams.quiz import compute, errata, family, text

PROBLEM = Problem(name="quiz", config="exam_quiz", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, family=family.FAMILY)
