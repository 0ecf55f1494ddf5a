"""jaxdl's layers, one module per family (the registry that drives every cross-check is
:mod:`jaxdl.registry`)."""

from jaxdl.layers.activations import leaky_relu
from jaxdl.layers.activations import relu
from jaxdl.layers.activations import sigmoid
from jaxdl.layers.activations import swish
from jaxdl.layers.conv import conv2d
from jaxdl.layers.dense import dense
from jaxdl.layers.dense import quadratic
from jaxdl.layers.dense import res_block
from jaxdl.layers.flow import additive_coupling
from jaxdl.layers.flow import scaling
from jaxdl.layers.flow import squeeze2d
from jaxdl.layers.pooling import avg_pool2d
from jaxdl.layers.pooling import conv_avg_pool2d
from jaxdl.layers.pooling import global_max_pool
from jaxdl.layers.pooling import max_pool2d
from jaxdl.layers.recurrent import lstm
from jaxdl.layers.recurrent import rnn
from jaxdl.layers.reshape import flatten


__all__ = [
    "additive_coupling",
    "avg_pool2d",
    "conv2d",
    "conv_avg_pool2d",
    "dense",
    "flatten",
    "global_max_pool",
    "leaky_relu",
    "lstm",
    "max_pool2d",
    "quadratic",
    "relu",
    "res_block",
    "rnn",
    "scaling",
    "sigmoid",
    "squeeze2d",
    "swish",
]
