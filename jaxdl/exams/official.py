"""Fragments of the seeds' official solutions, transcribed only so that the errata can run them
and show what they do (never used as an answer). Each function runs one defect on the spot and
returns its evidence: the error the official code raises, or the number it gets wrong.

Where a fragment needs a syntax error mended to reach a later defect, the mending is said in
the function's docstring; everything else is kept as the official text has it.
"""

from __future__ import annotations

import types

import numpy as np

from jaxdl.exams._common import run_official

# Q1a: the official constructor's signature puts the non-default ``b`` after defaulted arguments.
Q1A_SIGNATURE = '''
def variance_scaling_initializer(shape, fan_in): pass
def zero_init(shape): pass
class Quadratic:
    def __init__(self, input_layer, num_outputs, name,
                 weights_initializer_fn=variance_scaling_initializer,
                 bias_initializer_fn=zero_init, b):
        pass
'''

# Q1a: the call that creates A is not closed.
Q1A_UNCLOSED = '''
self.A = weights_initializer_fn(
  [num_outputs, self.num_inputs], fan_in=self.num_inputs
self.c = bias_initializer_fn([num_outputs])
'''

# Q1a, with only those two mended: the layer as the official code computes it.
Q1A_MENDED = '''
import numpy as np

class Quadratic:
    def __init__(self, input_layer, num_outputs, name, b, weights_initializer_fn=None, bias_initializer_fn=None):
        self.input_shape = input_layer.shape
        self.N = self.input_shape[0]
        self.shape = (self.N, num_outputs)
        self.num_outputs = num_outputs
        self.num_inputs = 1
        for i in range(1, len(self.input_shape)):
            self.num_inputs *= self.input_shape[i]
        self.A = np.ones([num_outputs, self.num_inputs])
        self.c = np.zeros([num_outputs])
        self.b = b
        self.name = name

    def forward(self, inputs):
        self.activations = inputs
        return (inputs * inputs) @ self.A.T + inputs * self.b + self.c

    def backward_inputs(self, grads):
        return np.array([
            grads[i] @ ((2 * self.A * np.diag(self.activations[i])) + b)
            for i in range(N)])
'''

# Q1b: the derivative is written as a bare line inside backward_inputs.
Q1B_BARE_LINE = '''
def backward_inputs(self, grads):
    d swish(x)/dx = sigm(beta*x) + x*sigm(beta*x)(1 - sigm(beta*x))*beta
    return grads
'''

# Q2: the convolution's construction: its call is not closed, and padding is the letter O.
Q2_UNCLOSED = '''
self.conv = nn.Conv2d(
channels, channels, kernel_size=K, stride=K, padding=O, bias=False
self.conv.weight = self.init_weight()
'''
Q2_PADDING = '''
conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False)
'''

# E2, solution 1: backward_params masks grads in place (the forward's missing return added).
E2_SOLUTION_1 = '''
import numpy as np

class ResBlock:
    def __init__(self, num_inputs, name):
        self.name = name
        self.W = np.random.rand(num_inputs, num_inputs)
        self.b = np.random.rand(num_inputs)

    def forward(self, inputs):
        self.inputs = inputs
        self.h = inputs @ self.W + self.b
        a = self.h
        a[self.h < 0] = 0
        output = a + inputs
        return output

    def backward_params(self, grads):
        dL_dh = grads
        dL_dh[self.h <= 0] = 0
        dL_dW = self.inputs.T @ dL_dh
        dL_db = dL_dh.sum(axis=0)
        return [(self.W, dL_dW), (self.b, dL_db), self.name]
'''

# E2, solution 2: built on the lab's layers, constructed from a number of inputs.
E2_SOLUTION_2 = '''
class ResBlock:
    def __init__(self, num_inputs, name):
        self.name = name
        self.FC = FC(num_inputs, num_inputs, name + ".FC")
        self.relu = ReLU(num_inputs, name + ".ReLU")
'''


class _Stub:
    """Stands for the previous layer: ``input_layer.shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)


def q1a_signature() -> str:
    return run_official(Q1A_SIGNATURE)


def q1a_unclosed() -> str:
    return run_official(Q1A_UNCLOSED)


def q1a_undefined_names() -> str:
    """backward_inputs uses ``N`` and ``b``, names the method does not define."""
    def call(ns):
        layer = ns["Quadratic"](_Stub((2, 3)), 3, "q", 0.5)
        layer.forward(np.ones((2, 3)))
        layer.backward_inputs(np.ones((2, 3)))
    return run_official(Q1A_MENDED, call)


def q1a_rectangular() -> str:
    """A layer with M ≠ D outputs is built without complaint; its forward then fails."""
    def call(ns):
        ns["Quadratic"](_Stub((2, 3)), 2, "q", 0.5).forward(np.ones((2, 3)))
    return run_official(Q1A_MENDED, call)


def q1b_bare_line() -> str:
    return run_official(Q1B_BARE_LINE)


def q2_unclosed() -> str:
    return run_official(Q2_UNCLOSED)


def q2_padding() -> str:
    """Evaluating the constructor's arguments (any ``nn`` will do): the letter O is undefined."""
    return _run_with({"nn": types.SimpleNamespace(Conv2d=lambda *a, **k: None), "channels": 3, "K": 2}, Q2_PADDING)


def _run_with(names: dict, source: str) -> str | None:
    namespace = dict(names)
    try:
        exec(compile(source, "<official solution>", "exec"), namespace)  # noqa: S102 - our own transcription
    except Exception as e:  # noqa: BLE001 - the error is the evidence
        return f"{type(e).__name__}: {e}"
    return None


def e2_solution_1_masks_grads() -> tuple[int, int]:
    """``(entries of grads set to 0 by backward_params, entries of grads)``."""
    namespace: dict = {}
    exec(compile(E2_SOLUTION_1, "<official solution>", "exec"), namespace)  # noqa: S102
    rng = np.random.default_rng(0)
    layer = namespace["ResBlock"](3, "res")
    layer.W = rng.standard_normal((3, 3))
    layer.b = rng.standard_normal(3)
    layer.forward(rng.standard_normal((4, 3)))
    grads = rng.standard_normal((4, 3))
    before = grads.copy()
    layer.backward_params(grads)
    return int(np.sum(grads != before)), int(grads.size)


def e2_solution_2_constructor() -> str:
    """Built with the lab's own FC and ReLU (jaxdl's correct lab), as the solution assumes them."""
    from jaxdl.check import lab_reference

    return _run_with({"FC": lab_reference.FC, "ReLU": lab_reference.ReLU},
                     E2_SOLUTION_2 + "\nResBlock(3, 'res')\n")


def q2_parameters_without_self() -> str:
    """The official ``parameters(recurse=True)`` has no ``self``: ``module.parameters(recurse=False)``,
    as PyTorch itself calls it, binds the module to ``recurse`` and raises. Needs PyTorch."""
    import torch.nn as nn

    namespace = {"nn": nn}
    exec(compile("class ConvAvgPool2d(nn.Module):\n    def parameters(recurse=True):\n        return []\n",  # noqa: S102
                 "<official solution>", "exec"), namespace)
    try:
        namespace["ConvAvgPool2d"]().parameters(recurse=False)
    except Exception as e:  # noqa: BLE001 - the error is the evidence
        return f"{type(e).__name__}: {e}"
    return "none (unexpected)"
