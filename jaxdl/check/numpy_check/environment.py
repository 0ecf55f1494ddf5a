"""What a student's lab file may import in the worker, and why: the one place that says so.

The worker's environment is the lab's: what the course's skeleton (``layers.py``) and its tools
import, and nothing that differentiates for the student. The sandbox (:mod:`.sandbox`) shows the
worker exactly the packages of :data:`PACKAGES` (read-only; every other installed package stays
out of its root file system), hides the submodules of :data:`HIDDEN`, and the checker names the
reason when a file imports anything else (:func:`refusal`): a framework of :data:`REFUSED` by
its name and why, any other module as not available.

Standard library only: the sandbox reads it before any worker starts.
"""

from __future__ import annotations

# The packages the worker sees besides the standard library, each with the reason it is there.
PACKAGES: dict[str, str] = {
    "numpy": "the lab is written in numpy: every layer, loss and gradient is a numpy array computation",
    "scipy": "the lab's skeleton imports scipy.stats and draws every initial weight with "
             "scipy.stats.truncnorm(...).rvs(shape) (variance_scaling_initializer), when a layer is built; "
             "students use scipy.special (logsumexp, softmax) too. scipy has no automatic differentiation",
}

# Modules the worker always has, beside the standard library and PACKAGES.
PROVIDED: dict[str, str] = {
    "im2col_cython": "the lab's compiled helper for Convolution (im2col_cython, col2im_cython): the submission's "
                     "own compiled module where it has one that loads, jaxdl's numpy stand-in with the same "
                     "layout otherwise (a compiled module is built for one machine, and a .pyx needs a compiler)",
    "pyximport": "Cython's way to compile im2col_cython.pyx when it is imported, which the lab suggests: a stand-in "
                 "whose install() does nothing (the worker has no compiler; the im2col_cython a file imports is the "
                 "submission's compiled module or jaxdl's stand-in)",
}

STANDARD_LIBRARY = ("the Python standard library (without its site-packages): what any Python program has, "
                    "and what the lab's skeleton imports (abc)")

# Submodules of a package in PACKAGES that the worker does not see: they differentiate for the
# student. Each is a folder of the package covered in the worker's root file system.
HIDDEN: dict[str, str] = {
    "scipy.differentiate": "scipy's numerical differentiation (derivative, jacobian, hessian) differentiates "
                           "for the student",
}

# Frameworks that differentiate for the student, by the name a file imports: refused by that name.
# None of them is in the worker's root file system; the list gives the reason in words.
REFUSED: dict[str, str] = {
    "jax": "JAX", "jaxlib": "JAX", "flax": "Flax (JAX)", "torch": "PyTorch", "functorch": "PyTorch",
    "tensorflow": "TensorFlow", "keras": "Keras", "tf_keras": "Keras", "autograd": "autograd",
    "theano": "Theano", "pytensor": "PyTensor", "aesara": "Aesara", "mxnet": "MXNet", "chainer": "Chainer",
    "paddle": "PaddlePaddle", "mindspore": "MindSpore", "oneflow": "OneFlow", "jittor": "Jittor",
    "tinygrad": "tinygrad", "micrograd": "micrograd", "mlx": "MLX", "dynet": "DyNet", "casadi": "CasADi",
    "sympy": "SymPy (symbolic derivatives)", "numdifftools": "numdifftools (numerical derivatives)",
    "findiff": "findiff (numerical derivatives)",
}


def available() -> str:
    """What a lab file may import, in words."""
    return "numpy, scipy, the standard library and the lab's im2col_cython"


def refusal(module: str) -> str:
    """Why an import of ``module`` (as the ImportError names it) fails in the worker, in words."""
    top = module.split(".")[0]
    for name, why in HIDDEN.items():
        if module == name or module.startswith(name + "."):
            return f"imports {name}: {why} (a lab file may import {available()}, but not {name})"
    if top in REFUSED:
        return f"imports {top}: {REFUSED[top]} differentiates for the student (a lab file may import {available()})"
    return f"imports {top}: not available to a lab file (it may import {available()})"


def refused(module: str) -> bool:
    """Whether an ImportError naming ``module`` is the environment's refusal (True), not a failure
    inside a module the worker has (False: reported as the exception it is)."""
    if any(module == h or module.startswith(h + ".") for h in HIDDEN):
        return True
    return module.split(".")[0] not in (*PACKAGES, *PROVIDED)
