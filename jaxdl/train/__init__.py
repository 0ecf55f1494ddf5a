"""Training: the one loop of ``jaxdl train`` (:mod:`.trainer`), its experiments and data sets."""

from jaxdl.train.data import Dataset
from jaxdl.train.data import load_digits
from jaxdl.train.trainer import Task
from jaxdl.train.trainer import TrainingDiverged
from jaxdl.train.trainer import train_and_evaluate

__all__ = ["Dataset", "Task", "TrainingDiverged", "load_digits", "train_and_evaluate"]
