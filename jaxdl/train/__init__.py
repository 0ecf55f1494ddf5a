"""Training: the one loop of ``jaxdl train`` (:mod:`.trainer`), its experiments and data sets."""

from jaxdl.train.data import DataError
from jaxdl.train.data import Dataset
from jaxdl.train.data import load_dataset
from jaxdl.train.data import load_digits
from jaxdl.train.data import load_mnist_sample
from jaxdl.train.trainer import Task
from jaxdl.train.trainer import TrainingDiverged
from jaxdl.train.trainer import sample_rows
from jaxdl.train.trainer import train_and_evaluate

__all__ = ["DataError", "Dataset", "Task", "TrainingDiverged", "load_dataset", "load_digits", "load_mnist_sample",
           "sample_rows", "train_and_evaluate"]
