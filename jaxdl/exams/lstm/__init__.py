"""E4: the parameter count of a stacked recurrent network (LSTM, GRU or vanilla RNN, one- or
bidirectional), in closed form, checked against jaxdl's layers, flax's cells and PyTorch's modules."""

from jaxdl.exams.lstm import compute, errata, family, text
from jaxdl.exams.lstm.compute import count
from jaxdl.exams.problem import Problem

__all__ = ["PROBLEM", "count"]

PROBLEM = Problem(name="lstm", config="exam_lstm", solve=compute.solve, report=compute.report,
                  questions=text.questions, sheet=text.sheet, errata=errata.errata, ok=compute.ok,
                  family=family.FAMILY)
