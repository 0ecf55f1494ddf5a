"""The quiz's errata: where the official solutions of Q1–Q3 go wrong, each defect run on the spot.

The official fragments are transcribed only so that they can be run and show what they do (never
used as an answer). Where a fragment needs a syntax error mended to reach a later defect, the
mending is said in the function's docstring; everything else is kept as the official text has it.
"""

from __future__ import annotations

import types

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.exams._common import PreviousLayer, erratum, run_official
from jaxdl.layers import conv2d

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


def q1a_signature() -> str:
    return run_official(Q1A_SIGNATURE)


def q1a_unclosed() -> str:
    return run_official(Q1A_UNCLOSED)


def q1a_undefined_names() -> str:
    """backward_inputs uses ``N`` and ``b``, names the method does not define."""
    def call(ns):
        layer = ns["Quadratic"](PreviousLayer((2, 3)), 3, "q", 0.5)
        layer.forward(np.ones((2, 3)))
        layer.backward_inputs(np.ones((2, 3)))
    return run_official(Q1A_MENDED, call)


def q1a_rectangular() -> str:
    """A layer with M ≠ D outputs is built without complaint; its forward then fails."""
    def call(ns):
        ns["Quadratic"](PreviousLayer((2, 3)), 2, "q", 0.5).forward(np.ones((2, 3)))
    return run_official(Q1A_MENDED, call)


def q1b_bare_line() -> str:
    return run_official(Q1B_BARE_LINE)


def q2_unclosed() -> str:
    return run_official(Q2_UNCLOSED)


def q2_padding() -> str:
    """Evaluating the constructor's arguments (any ``nn`` will do): the letter O is undefined."""
    return run_official(Q2_PADDING, names={"nn": types.SimpleNamespace(Conv2d=lambda *a, **k: None), "channels": 3, "K": 2})


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


def _q1a_derivation(e: dict) -> list[dict]:
    """Q1a's derivation: the Jacobian, ∂L/∂c and equation (4)."""
    seed_dx_err, dc_seed_shape, dc_shape, eq4_err = e["seed_dx_err"], e["dc_seed_shape"], e["dc_shape"], e["eq4_err"]
    return [
        erratum(
            "Q1a", "∂y/∂x = 2 A diag(x) + b, coded as grads[i] @ (2 * A * np.diag(x_i) + b)",
            "∂y/∂x = 2 A diag(x) + b I, so ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y; `A * diag(x)` is an elementwise "
            "product (not A diag(x)) and `+ b` adds b to every entry, not only the diagonal",
            f"on the quiz example the official ∂L/∂X differs from jax.vjp's by {seed_dx_err:.4g}",
            hr={"seed": "∂y/∂x = 2 A diag(x) + b, u kodu grads[i] @ (2 * A * np.diag(x_i) + b)",
                "verified": "∂y/∂x = 2 A diag(x) + b I, pa je ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y; `A * diag(x)` je "
                            "umnožak po elementima (a ne A diag(x)), a `+ b` dodaje b svakom elementu, ne samo dijagonali",
                "evidence": f"na primjeru službeni ∂L/∂X odstupa od jax.vjp za {seed_dx_err:.4g}"},
        ),
        erratum(
            "Q1a", "grad_c = grads",
            "∂L/∂c = Σ_n ∂L/∂Y_n: the bias is shared by the minibatch, so its gradient sums over it",
            f"the official grad_c has shape {tuple(dc_seed_shape)}; c has shape {tuple(dc_shape)}",
            hr={"seed": "grad_c = grads",
                "verified": "∂L/∂c = Σ_n ∂L/∂Y_n: pomak je zajednički svim primjerima minigrupe, pa se njegov gradijent "
                            "zbraja po primjerima",
                "evidence": f"službeni grad_c ima dimenzije {tuple(dc_seed_shape)}; c ima {tuple(dc_shape)}"},
        ),
        erratum(
            "Q1a", "equation (4): ∂L/∂X = ∂L/∂Y [∂Y/∂X]ᵀ",
            "with equation (3)'s Jacobian ∂y/∂x = 2 A diag(x) + b I (M × D, row i = ∂y_i/∂x), per example "
            "∂L/∂x = ∂L/∂y · ∂y/∂x: one transpose too many (the transpose belongs to the other, D × M, layout). "
            "A slip of notation: the official code does not use equation (4)",
            f"on the quiz example (M = D = 3) equation (4) as written differs from jax.vjp's ∂L/∂X by {eq4_err:.4g}",
            kind="notation",
            hr={"seed": "jednadžba (4): ∂L/∂X = ∂L/∂Y [∂Y/∂X]ᵀ",
                "verified": "uz jakobijan iz jednadžbe (3), ∂y/∂x = 2 A diag(x) + b I (M × D, i-ti redak = ∂y_i/∂x), "
                            "po primjeru je ∂L/∂x = ∂L/∂y · ∂y/∂x: jedno transponiranje previše (ono pripada drugom, "
                            "D × M, zapisu). Pogreška zapisa: službeni kod ne koristi jednadžbu (4)",
                "evidence": f"na primjeru (M = D = 3) jednadžba (4) kako je napisana odstupa od jax.vjp za {eq4_err:.4g}"},
        ),
    ]


def _q1a_code(e: dict) -> list[dict]:
    """Q1a's code: what the official class does when it is compiled, built and run."""
    return [
        erratum(
            "Q1a", "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                   "bias_initializer_fn=zero_init, b)",
            "a parameter without a default cannot follow defaulted ones: b goes before them (or gets a default)",
            f"compiling the official signature: {q1a_signature()}",
            hr={"seed": "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                        "bias_initializer_fn=zero_init, b)",
                "verified": "parametar bez zadane vrijednosti ne može doći iza onih sa zadanom: b ide ispred njih "
                            "(ili dobiva zadanu vrijednost)",
                "evidence": f"prevođenje službenog potpisa: {q1a_signature()}"},
        ),
        erratum(
            "Q1a", "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
            "the call must be closed: ...fan_in=self.num_inputs)",
            f"compiling the official lines: {q1a_unclosed()}",
            hr={"seed": "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
                "verified": "zagrada poziva mora biti zatvorena: ...fan_in=self.num_inputs)",
                "evidence": f"prevođenje službenih redaka: {q1a_unclosed()}"},
        ),
        erratum(
            "Q1a", "backward_inputs: ... + b) for i in range(N)",
            "N and b are attributes of the layer: self.N (or grads.shape[0]) and self.b",
            f"the official backward_inputs (its syntax mended), called: {q1a_undefined_names()}",
            hr={"seed": "backward_inputs: ... + b) for i in range(N)",
                "verified": "N i b su atributi sloja: self.N (ili grads.shape[0]) i self.b",
                "evidence": f"pozvan službeni backward_inputs (s popravljenom sintaksom): {q1a_undefined_names()}"},
        ),
        erratum(
            "Q1a", "any num_outputs is accepted, and forward computes ... + inputs * self.b + self.c",
            "b x is of size D and A(x ⊙ x) of size M: as written (the forward always adds b x) the layer needs "
            "M = D, and should refuse other shapes when it is built",
            f"built with M = 2 outputs for D = 3 inputs, the official forward raises {q1a_rectangular()}",
            hr={"seed": "prihvaća se bilo koji num_outputs, a forward računa ... + inputs * self.b + self.c",
                "verified": "b x je dimenzije D, a A(x ⊙ x) dimenzije M: kako je napisan (forward uvijek dodaje b x) "
                            "sloj zahtijeva M = D i treba odbiti druge dimenzije već pri izgradnji",
                "evidence": f"izgrađen s M = 2 izlaza za D = 3 ulaza, službeni forward baca {q1a_rectangular()}"},
        ),
    ]


def _q1b(e: dict) -> list[dict]:
    """Q1b: the Swish class."""
    X, seed_swish_shape = e["X"], e["seed_swish_shape"]
    return [
        erratum(
            "Q1b", "return grad_layer.T @ grads",
            "Swish is elementwise: ∂L/∂X = ∂L/∂Y ⊙ g'(X), an elementwise product",
            f"the official result has shape {seed_swish_shape} (D × D) where ∂L/∂X has shape {X.shape} (N × D)",
            hr={"seed": "return grad_layer.T @ grads",
                "verified": "Swish djeluje po elementima: ∂L/∂X = ∂L/∂Y ⊙ g'(X), umnožak po elementima",
                "evidence": f"službeni rezultat ima dimenzije {seed_swish_shape} (D × D), a ∂L/∂X ima {X.shape} (N × D)"},
        ),
        erratum(
            "Q1b", "in backward_inputs, the line d swish(x)/dx = sigm(beta*x) + ... (not a comment)",
            "a formula in code belongs in a comment (# d swish(x)/dx = ...)",
            f"compiling the official method: {q1b_bare_line()}",
            hr={"seed": "u backward_inputs redak d swish(x)/dx = sigm(beta*x) + ... (nije komentar)",
                "verified": "formula u kodu ide u komentar (# d swish(x)/dx = ...)",
                "evidence": f"prevođenje službene metode: {q1b_bare_line()}"},
        ),
    ]


def _q2(e: dict) -> list[dict]:
    """Q2: the PyTorch pooling module."""
    q2_evidence, q2_evidence_hr, q2_self = e["q2_evidence"], e["q2_evidence_hr"], e["q2_self"]
    return [
        erratum(
            "Q2", "self.conv.weight = self.init_weight(), where init_weight returns torch.zeros_like(...) filled in",
            "a module's weight must be an nn.Parameter: self.conv.weight = nn.Parameter(self.init_weight(), "
            "requires_grad=False) (fixed, so parameters() rightly returns nothing to train)",
            q2_evidence,
            hr={"seed": "self.conv.weight = self.init_weight(), gdje init_weight vraća popunjeni torch.zeros_like(...)",
                "verified": "težina modula mora biti nn.Parameter: self.conv.weight = nn.Parameter(self.init_weight(), "
                            "requires_grad=False) (nepromjenjiva, pa parameters() s pravom ne vraća ništa za učenje)",
                "evidence": q2_evidence_hr},
        ),
        erratum(
            "Q2", "def parameters(recurse=True): return []",
            "a method takes self first: def parameters(self, recurse=True)",
            f"the official method on an nn.Module, called as PyTorch calls it (recurse=False): {q2_self}",
            hr={"seed": "def parameters(recurse=True): return []",
                "verified": "prvi argument metode mora biti self: def parameters(self, recurse=True)",
                "evidence": f"službena metoda na nn.Module, pozvana kako je PyTorch poziva (recurse=False): {q2_self}"},
        ),
        erratum(
            "Q2", "self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False",
            "the call must be closed, and the padding is the number 0, not the letter O",
            f"compiling the official lines: {q2_unclosed()}; evaluating the call: {q2_padding()}",
            assumes="the seed's text as transcribed (an O where the solution means 0)",
            hr={"seed": "self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False",
                "verified": "zagrada poziva mora biti zatvorena, a nadopuna je broj 0, a ne slovo O",
                "evidence": f"prevođenje službenih redaka: {q2_unclosed()}; izvođenje poziva: {q2_padding()}",
                "assumes": "službeni tekst kako je prepisan (slovo O ondje gdje je očito mišljena nula)"},
        ),
    ]


def _q3(e: dict) -> list[dict]:
    """Q3: the coupling's convolution."""
    x_channels, half, seed_q3_error = e["x_channels"], e["half"], e["seed_q3_error"]
    return [
        erratum(
            "Q3", "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), applied to x1",
            "h maps the C/2 channels of x1 to C/2 channels: Conv2d(C/2, C/2, 1)",
            f"a 1×1 convolution built for C = {x_channels} inputs, given x1 with {half} channels: {seed_q3_error}",
            assumes="in_channels is C, the channel count of the layer's input x (as the question's (N, C, H, W)); "
                    "were it C/2, the official code would be right",
            hr={"seed": "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), primijenjen na x1",
                "verified": "h preslikava C/2 kanala od x1 u C/2 kanala: Conv2d(C/2, C/2, 1)",
                "evidence": f"konvolucija 1×1 izgrađena za C = {x_channels} ulaza, a dobiva x1 s {half} kanala: {seed_q3_error}",
                "assumes": "in_channels je C, broj kanala ulaza x sloja (kao (N, C, H, W) u zadatku); da je C/2, "
                           "službeni kod bio bi točan"},
        ),
    ]


def _evidence(result: dict) -> dict:
    """The numbers and messages the errata show, computed from the quiz's result."""
    q1 = result["givens"]["q1"]
    A, B, X, DY = (np.asarray(q1[k], float) for k in ("A", "b", "x", "dy"))
    B = float(B)
    dx = np.asarray(result["Q1a"]["dx"], float)
    x = np.asarray(result["givens"]["q3"]["x"], float)
    half = x.shape[1] // 2
    # The official Q3 solution builds h's convolution with C input channels and applies it to
    # x1, which has C/2: the convolution cannot take that input.
    wide = conv2d(x.shape[1], 1)
    _, wide_params = wide.init(jax.random.PRNGKey(0), x.shape)
    try:
        wide.apply(wide_params, jnp.asarray(x[:, :half]))
        seed_q3_error = "none (unexpected)"
    except ValueError as err:
        seed_q3_error = str(err)
    # The official backward_inputs, per example: grads[i] @ (2 * A * diag(x_i) + b) — an
    # elementwise A ⊙ diag(x) and a scalar b added to every entry — and grad_c = grads.
    seed_dx = np.stack([DY[i] @ (2 * A * np.diag(X[i]) + B) for i in range(len(X))])
    # Equation (4), ∂L/∂X = ∂L/∂Y [∂Y/∂X]ᵀ, per example with equation (3)'s Jacobian (M × D).
    jacobians = [2 * A * X[i][None, :] + B * np.eye(len(A)) for i in range(len(X))]
    eq4 = np.stack([DY[i] @ jacobians[i].T for i in range(len(X))])
    try:
        from jaxdl.exams.torch_answers import official_q2_error

        q2_evidence = f"constructing the official class (syntax mended only) raises {official_q2_error()}"
    except ImportError:
        q2_evidence = ("not run here: PyTorch is not installed (pip install 'jaxdl[torch]'); "
                       "jaxdl/exams/torch_answers/official_q2.py is the transcription to run")
    try:
        q2_self = q2_parameters_without_self()
    except ImportError:
        q2_self = "not run here: PyTorch is not installed (pip install 'jaxdl[torch]')"
    return {
        "X": X, "seed_dx_err": float(np.max(np.abs(seed_dx - dx))), "dc_seed_shape": DY.shape,
        "dc_shape": np.shape(result["Q1a"]["dparams"]["c"]), "eq4_err": float(np.max(np.abs(eq4 - dx))),
        "seed_swish_shape": (X.shape[1], DY.shape[1]),  # grad_layer.T @ grads: (D, N) @ (N, D)
        "q2_evidence": q2_evidence, "q2_self": q2_self,
        "q2_evidence_hr": q2_evidence.replace("constructing the official class (syntax mended only) raises",
                                              "konstruiranje službenog razreda (samo s popravljenom sintaksom) baca"),
        "x_channels": x.shape[1], "half": half, "seed_q3_error": seed_q3_error,
    }


def errata(result: dict) -> list[dict]:
    """The quiz's errata, their evidence computed on ``result``'s givens."""
    e = _evidence(result)
    return _q1a_derivation(e) + _q1a_code(e) + _q1b(e) + _q2(e) + _q3(e)
