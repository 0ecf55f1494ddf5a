"""jaxdl's layers, one module per family, and the registry that drives every cross-check.

``REGISTRY`` maps a layer's constructor name (a variant adds ``/suffix``) to a factory returning
``(layer, example_input_shape)``. The gradient check (``jaxdl gradcheck`` and the tests) and the
benchmarks iterate over it: a layer added here is checked everywhere.
"""

from collections.abc import Callable

from jaxdl.core import Layer, reversible, serial
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


def _nice_bijection():
    from jaxdl.models.nice import nice

    return nice((1, 4, 4), num_couplings=3, hidden=(6,)).bijection, (2, 1, 4, 4)


def _nice_mlp_bijection():
    from jaxdl.models.nice import nice_mlp

    return nice_mlp(8, num_couplings=4, hidden=(6, 5)).bijection, (3, 8)


REGISTRY: dict[str, Callable[[], tuple[Layer, tuple[int, ...]]]] = {
    # The lab's layers.
    "dense": lambda: (dense(3), (4, 5)),
    "dense/no_bias": lambda: (dense(2, use_bias=False), (3, 4)),
    "dense/leading_dims": lambda: (dense(3), (2, 3, 4)),
    "relu": lambda: (relu(), (3, 2, 4, 4)),
    "leaky_relu": lambda: (leaky_relu(0.2), (4, 6)),
    "sigmoid": lambda: (sigmoid(), (4, 6)),
    "conv2d": lambda: (conv2d(4, 3), (2, 3, 6, 7)),
    "conv2d/stride2_valid": lambda: (conv2d(3, (3, 2), stride=2, padding="VALID"), (2, 2, 7, 8)),
    "conv2d/stride2_same": lambda: (conv2d(3, 4, stride=(2, 3), padding="SAME"), (2, 2, 7, 8)),
    "conv2d/pad1": lambda: (conv2d(2, 3, padding=1), (2, 3, 5, 5)),
    "conv2d/pad_wider_than_kernel": lambda: (conv2d(2, 2, stride=2, padding=2), (2, 2, 5, 6)),
    "conv2d/pointwise": lambda: (conv2d(5, 1, padding="VALID"), (2, 3, 4, 4)),
    "conv2d/single_channel": lambda: (conv2d(3, 3), (2, 1, 5, 6)),
    "conv2d/single_channel_stride2": lambda: (conv2d(2, (3, 2), stride=2, padding=1), (2, 1, 7, 6)),
    "max_pool2d": lambda: (max_pool2d(2, 2), (2, 3, 6, 7)),
    "max_pool2d/overlap": lambda: (max_pool2d(3, 2), (2, 2, 7, 6)),
    "global_max_pool": lambda: (global_max_pool(), (3, 4, 3, 3)),
    "global_max_pool/vector": lambda: (global_max_pool(), (3, 7)),
    "flatten": lambda: (flatten(), (2, 3, 4, 2)),
    "serial/lab_cnn": lambda: (
        serial(conv2d(4, 3), relu(), max_pool2d(2, 2), flatten(), dense(5)),
        (2, 1, 6, 6),
    ),
    # The course's own layers (the quiz and the final exam).
    "quadratic": lambda: (quadratic(0.5), (4, 5)),
    "quadratic/b0_rectangular": lambda: (quadratic(0.0, num_outputs=3), (4, 5)),
    "swish": lambda: (swish(1.5), (4, 6)),
    "conv_avg_pool2d": lambda: (conv_avg_pool2d(3, 2), (2, 3, 5, 6)),
    "conv_avg_pool2d/depthwise": lambda: (conv_avg_pool2d(3, 2, form="depthwise"), (2, 3, 5, 6)),
    "avg_pool2d": lambda: (avg_pool2d(2), (2, 3, 5, 6)),
    "avg_pool2d/k3": lambda: (avg_pool2d(3), (2, 2, 7, 6)),
    "additive_coupling": lambda: (additive_coupling(4), (2, 4, 3, 3)),
    "additive_coupling/hidden_parity1": lambda: (additive_coupling(4, hidden=(5,), parity=1), (2, 4, 2, 3)),
    "additive_coupling/mlp_odd_even": lambda: (
        additive_coupling(6, parity=1, partition="odd_even", net=serial(dense(5), relu(), dense(3), name="h")), (3, 6)),
    "additive_coupling/conv_odd_even": lambda: (additive_coupling(4, hidden=(3,), partition="odd_even"), (2, 4, 2, 2)),
    "res_block": lambda: (res_block(), (4, 5)),
    # Recurrent layers (E4, E5) with backpropagation through time.
    "rnn": lambda: (rnn(4), (2, 5, 3)),
    "rnn/sigmoid": lambda: (rnn(3, activation="sigmoid"), (2, 4, 2)),
    "lstm": lambda: (lstm(3), (2, 4, 3)),
    # Flow plumbing and the whole NICE bijection.
    "squeeze2d": lambda: (squeeze2d(2), (2, 2, 4, 6)),
    "scaling": lambda: (scaling(), (3, 2, 2, 2)),
    "nice": _nice_bijection,
    "reversible": lambda: (
        reversible(additive_coupling(4, hidden=(3,)), additive_coupling(4, hidden=(3,), parity=1), scaling()),
        (2, 4, 2, 2)),
    "nice_mlp": _nice_mlp_bijection,
}

# The numpy lab's class names for jaxdl's layers and losses, compared ignoring case and "_":
# `jaxdl check-numpy` compares a student's class of one of these names with that jaxdl function
# (forward with the student's parameter values, gradients against jax.vjp). Exact names only, so
# that a class is never compared with the wrong layer because its name merely contains another.
LAB_CLASSES: dict[str, tuple[str, ...]] = {
    "dense": ("FC", "Dense", "Linear", "FullyConnected"),
    "relu": ("ReLU",),
    "leaky_relu": ("LeakyReLU",),
    "sigmoid": ("Sigmoid",),
    "conv2d": ("Convolution", "Conv", "Conv2d"),
    "max_pool2d": ("MaxPooling", "MaxPool", "MaxPool2d"),
    "flatten": ("Flatten",),
    "quadratic": ("Quadratic",),
    "swish": ("Swish",),
    "res_block": ("ResBlock",),
    "softmax_cross_entropy": ("SoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropy", "CrossEntropy"),
    "l2_regularizer": ("L2Regularizer", "L2Regularization", "L2Loss"),
}

__all__ = [
    "LAB_CLASSES",
    "REGISTRY",
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
