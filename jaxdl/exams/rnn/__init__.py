"""E5: the hidden states of a vanilla RNN by jaxdl's ``rnn`` recurrence, and in closed form where
the pre-activations are multiples of a logarithm (every state then a ratio of powers of 2)."""

from jaxdl.exams.problem import Problem
from jaxdl.exams.rnn import compute, errata, family, text
from jaxdl.exams.rnn.compute import UNITS, closed_form, state_fraction

__all__ = ["PROBLEM", "UNITS", "closed_form", "state_fraction"]

PROBLEM = Problem(name="rnn", config="exam_rnn", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, family=family.FAMILY)
