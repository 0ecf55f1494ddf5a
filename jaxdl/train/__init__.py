"""Training: data sets and the training loop."""

from jaxdl.train.data import Dataset
from jaxdl.train.data import load_digits
from jaxdl.train.loop import TrainResult
from jaxdl.train.loop import accuracy
from jaxdl.train.loop import train_classifier

__all__ = ["Dataset", "TrainResult", "accuracy", "load_digits", "train_classifier"]
