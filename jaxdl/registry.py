"""The registry that drives every cross-check: ``REGISTRY`` maps a layer's constructor name (a
variant adds ``/suffix``) to an :class:`Entry`: the layer, its check input shape and, for a
family's first entry, its benchmark size and the numpy lab class it stands for. The gradient
check (``jaxdl gradcheck`` and the tests), the benchmarks and ``jaxdl check-numpy`` all read it:
a layer added here is checked, timed and matched everywhere, from this one entry (and its
module). It sits above the layers and the models (its entries compose both) and below
everything that reads it.
"""

import dataclasses
from collections.abc import Callable

from jaxdl.core import Layer, reversible, serial
from jaxdl.labspec import LabClass
from jaxdl.layers import (
    additive_coupling,
    avg_pool2d,
    conv2d,
    conv_avg_pool2d,
    dense,
    flatten,
    global_max_pool,
    leaky_relu,
    lstm,
    max_pool2d,
    quadratic,
    relu,
    res_block,
    rnn,
    scaling,
    sigmoid,
    squeeze2d,
    swish,
)
from jaxdl.losses import LAB
from jaxdl.models.nice import nice, nice_mlp


def _nice(reversible_stack: bool = False, **kw):
    return nice(reversible_stack=reversible_stack, **kw).bijection


def _nice_mlp(**kw):
    return nice_mlp(**kw).bijection


# Benchmark input shapes by kind, for a divisor s (1 for full size, 8 with --quick).
VECTORS = lambda s: (4096 // s, 512)  # noqa: E731
IMAGES = lambda s: (128 // s, 64, 16, 16)  # noqa: E731
SEQUENCES = lambda s: (64 // s, 50, 64)  # noqa: E731
DIGITS = lambda s: (512 // s, 1, 8, 8)  # noqa: E731


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registry entry: a layer and the small input it is gradient-checked on.

    The first entry of a layer family (``dense``, not ``dense/no_bias``) also says how the
    benchmarks time it — ``bench``: a factory at a realistic size and the input shape for a
    size divisor (``VECTORS``, ``IMAGES``, ...) — and, in ``lab``, how ``jaxdl check-numpy``
    builds and compares the course's numpy lab classes that stand for it (their names, the
    constructor arguments the checker passes, the parameters, what kind of class it is).
    Calling an entry gives ``(layer, check_shape)``.
    """

    make: Callable[[], Layer]
    check_shape: tuple[int, ...]
    bench: tuple[Callable[[], Layer], Callable[[int], tuple[int, ...]]] | None = None
    lab: LabClass | None = None

    def __call__(self) -> tuple[Layer, tuple[int, ...]]:
        return self.make(), self.check_shape


def _lab_cnn():
    return serial(conv2d(16, 3), relu(), max_pool2d(2, 2), flatten(), dense(10))


REGISTRY: dict[str, Entry] = {
    # The lab's layers.
    "dense": Entry(lambda: dense(3), (4, 5), (lambda: dense(512), VECTORS),
                   # Every size distinct (N = 3, D = 5, M = 4), so that no confusion of one for another passes.
                   LabClass(names=("FC", "Dense", "Linear", "FullyConnected"), input_shape=(3, 5),
                            args={"num_outputs": 4},
                            aliases={"num_outputs": ("out_features", "units", "num_units", "output_size", "output_dim",
                                                     "out_dim", "n_out", "outputs")},
                            reference=lambda num_outputs: dense(num_outputs), params=("W", "b"))),
    "dense/no_bias": Entry(lambda: dense(2, use_bias=False), (3, 4)),
    "dense/leading_dims": Entry(lambda: dense(3), (2, 3, 4)),
    "relu": Entry(relu, (3, 2, 4, 4), (relu, VECTORS),
                  LabClass(names=("ReLU", "RectifiedLinear"), input_shape=(3, 5), reference=relu,
                           elementwise=True)),
    "leaky_relu": Entry(lambda: leaky_relu(0.2), (4, 6), (lambda: leaky_relu(0.2), VECTORS),
                        LabClass(names=("LeakyReLU",), input_shape=(3, 5), args={"alpha": 0.2},
                                 defaults={"alpha": 0.01},
                                 aliases={"alpha": ("negative_slope", "slope", "leak", "leakiness", "leak_rate",
                                                    "leaky_slope", "a")},
                                 reference=lambda alpha: leaky_relu(alpha), elementwise=True)),
    "sigmoid": Entry(sigmoid, (4, 6), (sigmoid, VECTORS),
                     LabClass(names=("Sigmoid", "Logistic"), input_shape=(3, 5), reference=sigmoid, elementwise=True)),
    "conv2d": Entry(lambda: conv2d(4, 3), (2, 3, 6, 7), (lambda: conv2d(64, 3), IMAGES),
                    # The lab's convolution: stride 1, zero padding (k − 1)/2 (the output keeps H × W).
                    LabClass(names=("Convolution", "Conv", "Conv2d", "Convolutional"),
                             input_shape=(3, 2, 7, 6),
                             args={"num_filters": 4, "kernel_size": 3},
                             aliases={"num_filters": ("out_channels", "filters", "n_filters", "num_kernels"),
                                      "kernel_size": ("filter_size", "ksize", "k", "kernel")},
                             reference=lambda num_filters, kernel_size: conv2d(num_filters, kernel_size, padding="SAME"),
                             params=("W", "b"))),
    "conv2d/stride2_valid": Entry(lambda: conv2d(3, (3, 2), stride=2, padding="VALID"), (2, 2, 7, 8)),
    "conv2d/stride2_same": Entry(lambda: conv2d(3, 4, stride=(2, 3), padding="SAME"), (2, 2, 7, 8)),
    "conv2d/pad1": Entry(lambda: conv2d(2, 3, padding=1), (2, 3, 5, 5)),
    "conv2d/pad_wider_than_kernel": Entry(lambda: conv2d(2, 2, stride=2, padding=2), (2, 2, 5, 6)),
    "conv2d/pointwise": Entry(lambda: conv2d(5, 1, padding="VALID"), (2, 3, 4, 4)),
    "conv2d/single_channel": Entry(lambda: conv2d(3, 3), (2, 1, 5, 6)),
    "conv2d/single_channel_stride2": Entry(lambda: conv2d(2, (3, 2), stride=2, padding=1), (2, 1, 7, 6)),
    "max_pool2d": Entry(lambda: max_pool2d(2, 2), (2, 3, 6, 7), (lambda: max_pool2d(2, 2), IMAGES),
                        LabClass(names=("MaxPooling", "MaxPool", "MaxPool2d", "MaxPooling2d"),
                                 input_shape=(3, 2, 6, 8),
                                 args={"pool_size": 2, "stride": 2}, defaults={"pool_size": 2, "stride": 2},
                                 aliases={"pool_size": ("kernel_size", "size", "pool", "k"), "stride": ("strides", "step")},
                                 reference=lambda pool_size, stride: max_pool2d(pool_size, stride))),
    "max_pool2d/overlap": Entry(lambda: max_pool2d(3, 2), (2, 2, 7, 6)),
    "global_max_pool": Entry(global_max_pool, (3, 4, 3, 3), (global_max_pool, IMAGES)),
    "global_max_pool/vector": Entry(global_max_pool, (3, 7)),
    "flatten": Entry(flatten, (2, 3, 4, 2), (flatten, IMAGES),
                     LabClass(names=("Flatten",), input_shape=(3, 2, 4, 5), reference=flatten)),
    "serial/lab_cnn": Entry(lambda: serial(conv2d(4, 3), relu(), max_pool2d(2, 2), flatten(), dense(5)), (2, 1, 6, 6),
                            (_lab_cnn, DIGITS)),
    # The course's own layers (the quiz and the final exam).
    # Q1a: b x needs M = D when b ≠ 0, so the checker builds it with num_outputs = D.
    "quadratic": Entry(lambda: quadratic(0.5), (4, 5), (lambda: quadratic(0.5), VECTORS),
                       LabClass(names=("Quadratic",), args={"num_outputs": 4, "b": 0.5},
                                reference=lambda num_outputs, b: quadratic(b, num_outputs=num_outputs),
                                params=("A", "c"))),
    "quadratic/b0_rectangular": Entry(lambda: quadratic(0.0, num_outputs=3), (4, 5)),
    "swish": Entry(lambda: swish(1.5), (4, 6), (lambda: swish(1.5), VECTORS),
                   LabClass(names=("Swish", "SiLU"), input_shape=(3, 5), args={"beta": 1.5}, defaults={"beta": 1.0},
                            aliases={"beta": ("b", "beta_", "scale")}, reference=lambda beta: swish(beta),
                            elementwise=True)),
    "conv_avg_pool2d": Entry(lambda: conv_avg_pool2d(3, 2), (2, 3, 5, 6), (lambda: conv_avg_pool2d(64, 2), IMAGES)),
    "conv_avg_pool2d/depthwise": Entry(lambda: conv_avg_pool2d(3, 2, form="depthwise"), (2, 3, 5, 6)),
    "avg_pool2d": Entry(lambda: avg_pool2d(2), (2, 3, 5, 6), (lambda: avg_pool2d(2), IMAGES)),
    "avg_pool2d/k3": Entry(lambda: avg_pool2d(3), (2, 2, 7, 6)),
    "additive_coupling": Entry(lambda: additive_coupling(4), (2, 4, 3, 3), (lambda: additive_coupling(64), IMAGES)),
    "additive_coupling/hidden_parity1": Entry(lambda: additive_coupling(4, hidden=(5,), parity=1), (2, 4, 2, 3)),
    "additive_coupling/mlp_odd_even": Entry(
        lambda: additive_coupling(6, parity=1, partition="odd_even", net=serial(dense(5), relu(), dense(3), name="h")),
        (3, 6)),
    "additive_coupling/conv_odd_even": Entry(lambda: additive_coupling(4, hidden=(3,), partition="odd_even"),
                                             (2, 4, 2, 2)),
    "res_block": Entry(res_block, (4, 5), (res_block, VECTORS),
                       LabClass(names=("ResBlock", "ResidualBlock", "Residual"), reference=res_block,
                                params=("W", "b"))),
    # Recurrent layers (E4, E5) with backpropagation through time.
    "rnn": Entry(lambda: rnn(4), (2, 5, 3), (lambda: rnn(128), SEQUENCES)),
    "rnn/sigmoid": Entry(lambda: rnn(3, activation="sigmoid"), (2, 4, 2)),
    "lstm": Entry(lambda: lstm(3), (2, 4, 3), (lambda: lstm(128), SEQUENCES)),
    # Flow plumbing, the whole NICE bijections, a reversible stack.
    "squeeze2d": Entry(lambda: squeeze2d(2), (2, 2, 4, 6), (lambda: squeeze2d(2), IMAGES)),
    "scaling": Entry(scaling, (3, 2, 2, 2), (scaling, IMAGES)),
    "nice": Entry(lambda: _nice(event_shape=(1, 4, 4), num_couplings=3, hidden=(6,)), (2, 1, 4, 4),
                  (lambda: _nice(event_shape=(1, 8, 8), num_couplings=4, hidden=(64, 64)), DIGITS)),
    "reversible": Entry(
        lambda: reversible(additive_coupling(4, hidden=(3,)), additive_coupling(4, hidden=(3,), parity=1), scaling()),
        (2, 4, 2, 2),
        (lambda: _nice(True, event_shape=(1, 8, 8), num_couplings=4, hidden=(64, 64)), DIGITS)),
    # NICE's MNIST model, narrower when timed: 4 odd/even couplings of dense MLPs on 784-vectors.
    "nice_mlp": Entry(lambda: _nice_mlp(dim=8, num_couplings=4, hidden=(6, 5)), (3, 8),
                      (lambda: _nice_mlp(dim=784, hidden=(256,) * 3), lambda s: (256 // s, 784))),
}

# The numpy lab's classes for jaxdl's layers (from the registry, read when asked, so that an entry
# added at run time counts) and losses: `jaxdl check-numpy` compares a student's class of one of
# these names with that jaxdl function. Exact names only (ignoring case and "_"), so that a class
# is never compared with the wrong layer because its name merely contains another.
def lab_classes() -> dict[str, LabClass]:
    """Every lab class jaxdl knows, by its registry (or loss) name."""
    return {**{name: e.lab for name, e in REGISTRY.items() if e.lab}, **LAB}
