"""The quiz's errata: where the official solutions of Q1–Q3 (and Q2's skeleton, given in the
question) go wrong, each defect run on the spot.

The official fragments are transcribed only so that they can be run and show what they do (never
used as an answer). Where a fragment needs a syntax error mended to reach a later defect, the
mending is said in the function's docstring; everything else is kept as the official text has it.
A transcription is compiled under a file name in the sheet's language
(:data:`~jaxdl.exams._common.OFFICIAL_FILE`), since Python names it in a syntax error; a program's
own message is quoted as it is, in either language.
"""

from __future__ import annotations

import ast
import re
import types

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.exams._common import OFFICIAL_FILE, PreviousLayer, erratum, quoted, run_official
from jaxdl.layers import conv2d

# The file name the question's own code is compiled under, per language.
QUESTION_FILE = {"en": "<exam question>", "hr": "<tekst zadatka>"}

NO_TORCH = {"en": "not run here: PyTorch is not installed (pip install 'jaxdl[torch]')",
            "hr": "ovdje nije pokrenuto: PyTorch nije instaliran (pip install 'jaxdl[torch]')"}

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

    def backward_params(self, grads):
        grad_A = grads.T @ (self.activations ** 2)
        grad_c = grads
        return [[self.A, grad_A], [self.c, grad_c], self.name]
'''

# Q1a: the official derivation's equations, by their left-hand sides ("Gubitak po ulazu" (2)–(4),
# "Gubitak po parametrima" (5)–(6)), and Q1b's (7).
Q1_EQUATIONS = {"(1)": "y", "(2)": "∂z/∂x", "(3)": "∂y/∂x", "(4)": "∂L/∂X", "(5)": "∂y_i/∂A_i:", "(6)": "∂L/∂A",
                "(7)": "∂g(x, β)/∂x"}

# Q1b: the derivative is written as a bare line inside backward_inputs (the seed's backslash kept).
Q1B_BARE_LINE = '''
def backward_inputs(self, grads):
    d \\ swish(x)/dx = sigm(beta*x) + x*sigm(beta*x)(1 - sigm(beta*x))*beta
    return grads
'''

# Q1b: grad_layer's expression goes on over two more lines, with no parentheses around it (the bare
# formula line above made a comment, the indentation evened to four spaces).
Q1B_CONTINUED = '''
def backward_inputs(self, grads):
    # d \\ swish(x)/dx = sigm(beta*x) + x*sigm(beta*x)(1 - sigm(beta*x))*beta
    grad_layer = self._sigm(self.beta * self.activations)
        *(1 + (1 - self._sigm(self.beta * self.activations))
        * self.activations * self.beta)
    return grad_layer.T @ grads
'''
Q1B_DEDENTED = Q1B_CONTINUED.replace("\n        *", "\n    *")
Q1B_PARENTHESIZED = '''
grad_layer = (self._sigm(self.beta * self.activations)
    *(1 + (1 - self._sigm(self.beta * self.activations))
    * self.activations * self.beta))
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

# Q2: the skeleton the question gives (its layout as printed).
Q2_SKELETON = """class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super(ConvAvgPool2d, self).__init__()
        self.K = K
        self.conv = nn.Conv2d(_, _, kernel_size=_, stride=_, padding=_, bias=_)
        self.conv.weight = self.init_weight()

def init_weight(self):
    '''Returns weight tensor of shape (c_out, c_in, K, K)'''

def parameters(recurse=True):
    '''Returns layer's parameters'''

def forward(self, x):
    ''''Performs forward pass''''
"""

# Q2: the official class with the least mending that runs: the syntax (the closing parenthesis,
# padding 0) and the weight wrapped in nn.Parameter (whose requires_grad is True unless told),
# parameters given its self; its override of parameters() kept.
Q2_RUNNABLE = '''
class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super(ConvAvgPool2d, self).__init__()
        self.K = K
        self.conv = nn.Conv2d(
            channels, channels, kernel_size=K, stride=K, padding=0, bias=False)
        self.conv.weight = nn.Parameter(self.init_weight())

    def init_weight(self):
        weight = torch.zeros_like(self.conv.weight)
        for i in range(weight.shape[0]):
            weight[i, i] = torch.ones(self.K, self.K) / (self.K ** 2)
        return weight

    def parameters(self, recurse=True):
        return []

    def forward(self, x):
        return self.conv(x)
'''

# Q3: the official solution (its indentation evened).
Q3_OFFICIAL = '''
class AdditiveCoupling(nn.Module):
    def __init__(self, in_channels):
        super(AdditiveCoupling, self).__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1)

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y1 = x1
        y2 = x2 + self.conv(self.relu(x1))
        return torch.cat((y1, y2), dim=1)

    def inverse(self, y):
        y1, y2 = y.chunk(2, dim=1)
        x1 = y1
        x2 = y2 - self.conv(self.relu(x1))
        return torch.cat((x1, x2), dim=1)
'''


def _per_language(run) -> dict:
    """``run(filename)`` for each language's file name: ``{"en": ..., "hr": ...}``."""
    return {code: run(name) for code, name in OFFICIAL_FILE.items()}


def q1a_signature(filename: str = OFFICIAL_FILE["en"]) -> str:
    return run_official(Q1A_SIGNATURE, filename=filename)


def q1a_unclosed(filename: str = OFFICIAL_FILE["en"]) -> str:
    return run_official(Q1A_UNCLOSED, filename=filename)


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


def q1a_update_c(X, DY) -> str:
    """The official backward_params' ``grad_c = grads`` (N × D) in the lab's update step, which
    moves each parameter in place (``param -= lr * grad``): c has D entries."""
    def call(ns):
        layer = ns["Quadratic"](PreviousLayer(X.shape), X.shape[1], "q", 0.5)
        layer.forward(X)
        for param, grad in layer.backward_params(DY)[:-1]:
            param -= 0.1 * grad
    return run_official(Q1A_MENDED, call)


def q1b_bare_line(filename: str = OFFICIAL_FILE["en"]) -> str:
    return run_official(Q1B_BARE_LINE, filename=filename)


def q1b_continued(filename: str = OFFICIAL_FILE["en"]) -> tuple[str, str]:
    """grad_layer's lines as printed (the formula line made a comment), then with the continuation
    lines dedented to the statement's level: what compiling each raises."""
    return run_official(Q1B_CONTINUED, filename=filename), run_official(Q1B_DEDENTED, filename=filename)


def q1b_parenthesized(X, beta: float) -> float:
    """The expression in parentheses, run on ``X``: its largest difference from
    σ(βx) + βx σ(βx)(1 − σ(βx))."""
    sigm = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    layer = types.SimpleNamespace(beta=beta, activations=X, _sigm=sigm)
    namespace = {"self": layer}
    exec(compile(Q1B_PARENTHESIZED, OFFICIAL_FILE["en"], "exec"), namespace)  # noqa: S102 - our own transcription
    s = sigm(beta * X)
    return float(np.max(np.abs(namespace["grad_layer"] - (s + beta * X * s * (1 - s)))))


def q2_unclosed(filename: str = OFFICIAL_FILE["en"]) -> str:
    return run_official(Q2_UNCLOSED, filename=filename)


def q2_padding() -> str:
    """Evaluating the constructor's arguments (any ``nn`` will do): the letter O is undefined."""
    return run_official(Q2_PADDING, names={"nn": types.SimpleNamespace(Conv2d=lambda *a, **k: None), "channels": 3, "K": 2})


def q2_skeleton(filename: str = QUESTION_FILE["en"]) -> tuple[str, str | None]:
    """The question's skeleton compiled as printed, and with ``forward``'s docstring in three
    quotes each side (``None``: it compiles)."""
    fixed = Q2_SKELETON.replace("''''Performs forward pass''''", "'''Performs forward pass'''")
    names = {"nn": types.SimpleNamespace(Module=object)}  # the class statement runs; no method is called
    return run_official(Q2_SKELETON, names=names, filename=filename), run_official(fixed, names=names, filename=filename)


def q2_parameters_without_self() -> str:
    """The official ``parameters(recurse=True)`` has no ``self``: ``module.parameters(recurse=False)``,
    as PyTorch itself calls it, binds the module to ``recurse`` and raises. Needs PyTorch."""
    import torch.nn as nn

    namespace = {"nn": nn}
    exec(compile("class ConvAvgPool2d(nn.Module):\n    def parameters(recurse=True):\n        return []\n",  # noqa: S102
                 OFFICIAL_FILE["en"], "exec"), namespace)
    try:
        namespace["ConvAvgPool2d"]().parameters(recurse=False)
    except Exception as e:  # noqa: BLE001 - the error is the evidence
        return f"{type(e).__name__}: {e}"
    return "none (unexpected)"


def q2_override(image, k: int) -> dict:
    """What the official override of ``parameters()`` leaves trainable (the class made runnable,
    :data:`Q2_RUNNABLE`), on the quiz's image: the layer's ``parameters()`` and
    ``named_parameters()``, an enclosing model's parameters, one SGD step (learning rate 1) of
    that model, and what PyTorch's own documentation says of ``nn.Parameter``'s ``requires_grad``.
    Needs PyTorch."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    namespace = {"nn": nn, "torch": torch}
    exec(compile(Q2_RUNNABLE, OFFICIAL_FILE["en"], "exec"), namespace)  # noqa: S102 - our own transcription
    x = torch.tensor(np.asarray(image, np.float32))
    torch.manual_seed(0)
    pool = namespace["ConvAvgPool2d"](x.shape[1], k)
    model = nn.Sequential(pool, nn.Flatten(), nn.Linear(int(np.prod(pool(x).shape[1:])), 1))
    before = pool.conv.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model(x).sum().backward()
    optimizer.step()
    doc = " ".join((nn.Parameter.__doc__ or "").split())
    said = re.search(r"requires_grad \(bool, optional\).*?Default: `?(\w+)`?", doc)
    return {
        "parameters": len(list(pool.parameters())), "named": [n for n, _ in pool.named_parameters()],
        "model": [tuple(p.shape) for p in model.parameters()],
        "moved": float((pool.conv.weight.detach() - before).abs().max()),
        "still_pooling": bool(torch.allclose(pool(x), F.avg_pool2d(x, k))),
        "default": said.group(1) if said else "not found", "version": torch.__version__.split("+")[0],
        "conv2D": hasattr(nn, "Conv2D"),
    }


def q3_official_methods() -> list[str]:
    """The methods the official Q3 solution defines (its transcription parsed)."""
    tree = ast.parse(Q3_OFFICIAL)
    return [f.name for c in tree.body if isinstance(c, ast.ClassDef) for f in c.body if isinstance(f, ast.FunctionDef)]


def q3_official_run(W, b, x) -> dict:
    """The official Q3 class run on the quiz's input in PyTorch: built with ``in_channels = C`` as
    printed (what forward raises), and with ``in_channels = C/2`` and the sheet's weights (its y
    against h = Conv1×1 ∘ ReLU by hand, and its inverse's round trip). Needs PyTorch."""
    import torch
    import torch.nn as nn

    namespace = {"nn": nn, "torch": torch}
    exec(compile(Q3_OFFICIAL, OFFICIAL_FILE["en"], "exec"), namespace)  # noqa: S102 - our own transcription
    coupling = namespace["AdditiveCoupling"]
    xt = torch.tensor(np.asarray(x, np.float64))
    try:
        coupling(x.shape[1]).double()(xt)
        wide = "none (unexpected)"
    except RuntimeError as e:
        wide = f"RuntimeError: {e}"
    half = coupling(x.shape[1] // 2).double()
    with torch.no_grad():
        half.conv.weight.copy_(torch.tensor(np.asarray(W, np.float64)[:, :, None, None]))
        half.conv.bias.copy_(torch.tensor(np.asarray(b, np.float64)))
        y = half(xt)
        back = half.inverse(y)
    h = np.einsum("oi,nihw->nohw", W, np.maximum(x[:, : x.shape[1] // 2], 0)) + np.asarray(b)[None, :, None, None]
    by_hand = np.concatenate([x[:, : x.shape[1] // 2], x[:, x.shape[1] // 2:] + h], axis=1)
    return {"wide": wide, "y_err": float(np.max(np.abs(y.numpy() - by_hand))),
            "round_trip": float((back - xt).abs().max())}


# --------------------------------------------------------------------------------------------
# The errata, per question.


def _q1a_derivation(e: dict) -> list[dict]:
    """Q1a's derivation: the Jacobian, ∂L/∂c and equations (4), (5)."""
    seed_dx_err, dc_seed_shape, dc_shape, eq4_err = e["seed_dx_err"], e["dc_seed_shape"], e["dc_shape"], e["eq4_err"]
    update = e["update_c"]
    by_c = [n for n, lhs in Q1_EQUATIONS.items() if "∂c" in lhs]
    lhs = ", ".join(f"{n} {v}" for n, v in Q1_EQUATIONS.items())
    z, row = e["z"], e["dA_row"]
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
            f"the official grad_c has shape {tuple(dc_seed_shape)}; c has shape {tuple(dc_shape)}; the lab's update "
            f"step (each parameter moved in place, param -= lr * grad) on the official class (syntax mended) raises "
            f"{quoted(update)}",
            hr={"seed": "grad_c = grads",
                "verified": "∂L/∂c = Σ_n ∂L/∂Y_n: pomak je zajednički svim primjerima minigrupe, pa se njegov gradijent "
                            "zbraja po primjerima",
                "evidence": f"službeni grad_c ima dimenzije {tuple(dc_seed_shape)}; c ima {tuple(dc_shape)}; korak "
                            f"učenja iz vježbe (svaki parametar mijenja se na mjestu, param -= lr * grad) na službenom "
                            f"razredu (s popravljenom sintaksom) baca {quoted(update)}"},
        ),
        erratum(
            "Q1a", "under “loss by the parameters”, equations (5)–(6) derive ∂L/∂A only",
            "∂L/∂c = Σ_n ∂L/∂Y_n (the sum over the minibatch's examples) belongs there too: c is a parameter of the "
            "layer, and backward_params returns its gradient",
            f"the official derivation's equations, by their left-hand sides: {lhs}; by c: {by_c or 'none'}",
            kind="incomplete",
            hr={"seed": "pod „Gubitak po parametrima” jednadžbe (5)–(6) izvode samo ∂L/∂A",
                "verified": "tu pripada i ∂L/∂c = Σ_n ∂L/∂Y_n (zbroj po primjerima minigrupe): c je parametar sloja, a "
                            "backward_params vraća i njegov gradijent",
                "evidence": f"jednadžbe službenog izvoda po lijevim stranama: {lhs}; po c: "
                            f"{', '.join(by_c) if by_c else 'nijedna'}"},
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
        erratum(
            "Q1a", "equation (5): ∂y_i/∂A_i: = [x₁², …, x_D²] = x ⊙ x, two lines after z = x ⊙ x = [x₁², …, x_D²]ᵀ",
            "∂y_i/∂A_i: = (x ⊙ x)ᵀ: a derivative by the row A_i: is a row (1 × D), while x ⊙ x, as the solution itself "
            "defines it, is a column (D × 1). Equation (6) is right",
            f"on the quiz's first example, jax.jacobian of y_1 by the row A_1: is {row} and x ⊙ x is {z}: equal as "
            "numbers, a row against the solution's column",
            kind="notation",
            hr={"seed": "jednadžba (5): ∂y_i/∂A_i: = [x₁², …, x_D²] = x ⊙ x, dva retka nakon z = x ⊙ x = [x₁², …, x_D²]ᵀ",
                "verified": "∂y_i/∂A_i: = (x ⊙ x)ᵀ: derivacija po retku A_i: je redak (1 × D), a x ⊙ x je, kako ga "
                            "rješenje samo definira, stupac (D × 1). Jednadžba (6) je točna",
                "evidence": f"na prvom primjeru jax.jacobian od y_1 po retku A_1: iznosi {row}, a x ⊙ x iznosi {z}: "
                            "brojevi su jednaki, ali redak se izjednačava sa stupcem iz rješenja"},
        ),
    ]


def _q1a_code(e: dict) -> list[dict]:
    """Q1a's code: what the official class does when it is compiled, built and run."""
    sig, unclosed = _per_language(q1a_signature), _per_language(q1a_unclosed)
    return [
        erratum(
            "Q1a", "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                   "bias_initializer_fn=zero_init, b)",
            "a parameter without a default cannot follow defaulted ones: b goes before them (or gets a default)",
            f"compiling the official signature raises {quoted(sig['en'])}",
            hr={"seed": "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                        "bias_initializer_fn=zero_init, b)",
                "verified": "parametar bez zadane vrijednosti ne može doći iza onih sa zadanom: b ide ispred njih "
                            "(ili dobiva zadanu vrijednost)",
                "evidence": f"prevođenje službenog potpisa baca {quoted(sig['hr'])}"},
        ),
        erratum(
            "Q1a", "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
            "the call must be closed: ...fan_in=self.num_inputs)",
            f"compiling the official lines raises {quoted(unclosed['en'])}",
            hr={"seed": "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
                "verified": "zagrada poziva mora biti zatvorena: ...fan_in=self.num_inputs)",
                "evidence": f"prevođenje službenih redaka baca {quoted(unclosed['hr'])}"},
        ),
        erratum(
            "Q1a", "backward_inputs: ... + b) for i in range(N)",
            "N and b are attributes of the layer: self.N (or grads.shape[0]) and self.b",
            f"the official backward_inputs (its syntax mended), called, raises {quoted(q1a_undefined_names())}",
            hr={"seed": "backward_inputs: ... + b) for i in range(N)",
                "verified": "N i b su atributi sloja: self.N (ili grads.shape[0]) i self.b",
                "evidence": f"pozvan službeni backward_inputs (s popravljenom sintaksom) baca {quoted(q1a_undefined_names())}"},
        ),
        erratum(
            "Q1a", "any num_outputs is accepted, and forward computes ... + inputs * self.b + self.c",
            "b x is of size D and A(x ⊙ x) of size M: as written (the forward always adds b x) the layer needs "
            "M = D, and should refuse other shapes when it is built",
            f"built with M = 2 outputs for D = 3 inputs, the official forward raises {quoted(q1a_rectangular())}",
            hr={"seed": "prihvaća se bilo koji num_outputs, a forward računa ... + inputs * self.b + self.c",
                "verified": "b x je dimenzije D, a A(x ⊙ x) dimenzije M: kako je napisan (forward uvijek dodaje b x) "
                            "sloj zahtijeva M = D i treba odbiti druge dimenzije već pri izgradnji",
                "evidence": f"izgrađen s M = 2 izlaza za D = 3 ulaza, službeni forward baca {quoted(q1a_rectangular())}"},
        ),
    ]


def _q1b(e: dict) -> list[dict]:
    """Q1b: the Swish class."""
    X, seed_swish_shape = e["X"], e["seed_swish_shape"]
    bare = _per_language(q1b_bare_line)
    continued = _per_language(q1b_continued)
    (en_as, en_dedented), (hr_as, hr_dedented) = continued["en"], continued["hr"]
    paren = e["parenthesized_err"]
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
            "Q1b", "in backward_inputs, the line d \\ swish(x)/dx = sigm(beta*x) + ... (not a comment)",
            "a formula in code belongs in a comment (# d swish(x)/dx = ...)",
            f"compiling the official method raises {quoted(bare['en'])}",
            hr={"seed": "u backward_inputs redak d \\ swish(x)/dx = sigm(beta*x) + ... (nije komentar)",
                "verified": "formula u kodu ide u komentar (# d swish(x)/dx = ...)",
                "evidence": f"prevođenje službene metode baca {quoted(bare['hr'])}"},
        ),
        erratum(
            "Q1b", "grad_layer = self._sigm(self.beta * self.activations), going on over two more lines that begin "
                   "*(1 + … and * self.activations * self.beta)",
            "an expression over several lines needs parentheses around it (or a backslash at each line's end): "
            "grad_layer = (σ(βx) * (1 + (1 − σ(βx)) * x * β)), which is σ(βx) + βx σ(βx)(1 − σ(βx))",
            f"with the formula line made a comment, compiling raises {quoted(en_as)}; with the continuation lines "
            f"dedented to the statement's, {quoted(en_dedented)}; in parentheses it compiles, and on the quiz's X "
            f"grad_layer is within {paren:.1e} of σ(βx) + βx σ(βx)(1 − σ(βx))",
            hr={"seed": "grad_layer = self._sigm(self.beta * self.activations), uz još dva retka koji počinju s "
                        "*(1 + … i * self.activations * self.beta)",
                "verified": "izraz u više redaka mora biti u zagradama (ili svaki redak završava obrnutom kosom crtom): "
                            "grad_layer = (σ(βx) * (1 + (1 − σ(βx)) * x * β)), što je σ(βx) + βx σ(βx)(1 − σ(βx))",
                "evidence": f"kad je redak s formulom komentar, prevođenje baca {quoted(hr_as)}; kad su retci nastavka "
                            f"uvučeni kao sama naredba, {quoted(hr_dedented)}; u zagradama se izraz prevodi, a na X "
                            f"iz ovog rješenja grad_layer odstupa od σ(βx) + βx σ(βx)(1 − σ(βx)) najviše {paren:.1e}"},
        ),
    ]


def _q2(e: dict) -> list[dict]:
    """Q2: the skeleton given in the question, and the PyTorch pooling module.

    Long because it is data: one erratum per entry, each in both languages with its evidence."""
    q2_self, override = e["q2_self"], e["q2_override"]
    unclosed = _per_language(q2_unclosed)
    skeleton = {code: q2_skeleton(name) for code, name in QUESTION_FILE.items()}
    out = [
        erratum(
            "Q2", "the question's skeleton: def forward(self, x): ''''Performs forward pass'''' (four quotes on each "
                  "side)",
            "a docstring takes three quotes on each side; the skeleton also writes def parameters(recurse=True) "
            "without self, as the solution does (below)",
            f"the skeleton as printed, compiled, raises {quoted(skeleton['en'][0])}; with three quotes on each side "
            f"it compiles" + ("" if skeleton["en"][1] is None else f" (unexpected: {skeleton['en'][1]})"),
            hr={"seed": "kostur u zadatku: def forward(self, x): ''''Performs forward pass'''' (po četiri navodnika "
                        "sa svake strane)",
                "verified": "docstring se piše s po tri navodnika; kostur piše i def parameters(recurse=True) bez self, "
                            "kao i rješenje (niže)",
                "evidence": f"prevođenje kostura kako je tiskan baca {quoted(skeleton['hr'][0])}; s po tri navodnika "
                            f"se prevodi" + ("" if skeleton["hr"][1] is None else f" (neočekivano: {skeleton['hr'][1]})")},
        ),
        erratum(
            "Q2", "the question's text: nn.Conv2D",
            "PyTorch's convolution class is nn.Conv2d",
            (f"in PyTorch {override['version']}, hasattr(torch.nn, 'Conv2D') is {override['conv2D']}"
             if isinstance(override, dict) else NO_TORCH["en"]),
            kind="notation",
            hr={"seed": "tekst zadatka: nn.Conv2D",
                "verified": "razred konvolucije u PyTorchu zove se nn.Conv2d",
                "evidence": (f"u PyTorchu {override['version']} hasattr(torch.nn, 'Conv2D') daje {override['conv2D']}"
                             if isinstance(override, dict) else NO_TORCH["hr"])},
        ),
        erratum(
            "Q2", "self.conv.weight = self.init_weight(), where init_weight returns torch.zeros_like(...) filled in",
            "a module's weight must be an nn.Parameter, and requires_grad=False is what keeps it fixed: init_weight "
            "returns nn.Parameter(weight, requires_grad=False) (or the weight becomes a buffer, used with F.conv2d)",
            e["q2_evidence"]["en"],
            hr={"seed": "self.conv.weight = self.init_weight(), gdje init_weight vraća popunjeni torch.zeros_like(...)",
                "verified": "težina modula mora biti nn.Parameter, a nepromjenjivom je čini requires_grad=False: "
                            "init_weight vraća nn.Parameter(weight, requires_grad=False) (ili je težina međuspremnik "
                            "(buffer) uz F.conv2d)",
                "evidence": e["q2_evidence"]["hr"]},
        ),
        erratum(
            "Q2", "def parameters(recurse=True): return []",
            "a method takes self first: def parameters(self, recurse=True)",
            f"the official method on an nn.Module, called as PyTorch calls it (recurse=False), raises "
            f"{q2_self['en']}",
            hr={"seed": "def parameters(recurse=True): return []",
                "verified": "prvi argument metode mora biti self: def parameters(self, recurse=True)",
                "evidence": f"službena metoda na nn.Module, pozvana kako je PyTorch poziva (recurse=False), baca "
                            f"{q2_self['hr']}"},
        ),
    ]
    if isinstance(override, dict):
        moved, still = override["moved"], override["still_pooling"]
        out.append(erratum(
            "Q2", "parameters() overridden to return [] so that the fixed averaging weight is not trained",
            "the override only changes that one call on that module: named_parameters(), state_dict() and the "
            "parameters() of any model holding the layer still list conv.weight, and an nn.Parameter's "
            "requires_grad is True unless told: the weight must be made fixed on the tensor itself "
            "(nn.Parameter(weight, requires_grad=False), or a buffer with F.conv2d)",
            f"the official class (run with the weight wrapped in nn.Parameter, self added): parameters() gives "
            f"{override['parameters']} tensors, named_parameters() {override['named']}; an enclosing "
            f"nn.Sequential(pool, Flatten, Linear)'s parameters() have shapes {override['model']}; one SGD step "
            f"(learning rate 1) of that model moves the pooling weight by {moved:.4g}, after which the layer "
            f"averages its windows: {still}. PyTorch's documentation of nn.Parameter (its docstring, PyTorch "
            f"{override['version']}): {quoted('requires_grad (bool, optional) … Default: ' + override['default'])}",
            hr={"seed": "parameters() nadjačan tako da vraća [] kako se nepromjenjiva težina usrednjavanja ne bi učila",
                "verified": "nadjačavanje mijenja samo taj jedan poziv na tom modulu: named_parameters(), state_dict() "
                            "i parameters() svakog modela koji sadrži sloj i dalje navode conv.weight, a requires_grad "
                            "od nn.Parameter je True ako se drukčije ne zada: težinu treba učiniti nepromjenjivom na "
                            "samom tenzoru (nn.Parameter(weight, requires_grad=False) ili međuspremnik (buffer) uz "
                            "F.conv2d)",
                "evidence": f"službeni razred (pokrenut s težinom omotanom u nn.Parameter i dodanim self): parameters() "
                            f"daje {override['parameters']} tenzora, named_parameters() {override['named']}; "
                            f"parameters() modela nn.Sequential(pool, Flatten, Linear) koji ga sadrži imaju dimenzije "
                            f"{override['model']}; jedan korak SGD-a (stopa učenja 1) tog modela pomakne težinu "
                            f"sažimanja za {moved:.4g}, a sloj nakon toga usrednjava okna: "
                            f"{'da' if still else 'ne'}. Dokumentacija razreda nn.Parameter (njegov docstring, PyTorch "
                            f"{override['version']}) o zadanoj vrijednosti: "
                            f"{quoted('requires_grad (bool, optional) … Default: ' + override['default'])}"},
        ))
    else:
        out.append(erratum(
            "Q2", "parameters() overridden to return [] so that the fixed averaging weight is not trained",
            "the override only changes that one call on that module; the weight must be made fixed on the tensor "
            "itself (nn.Parameter(weight, requires_grad=False), or a buffer with F.conv2d)",
            NO_TORCH["en"],
            hr={"seed": "parameters() nadjačan tako da vraća [] kako se nepromjenjiva težina usrednjavanja ne bi učila",
                "verified": "nadjačavanje mijenja samo taj jedan poziv na tom modulu; težinu treba učiniti "
                            "nepromjenjivom na samom tenzoru (nn.Parameter(weight, requires_grad=False) ili "
                            "međuspremnik (buffer) uz F.conv2d)",
                "evidence": NO_TORCH["hr"]},
        ))
    out.append(erratum(
        "Q2", "self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False",
        "the call must be closed, and the padding is the number 0, not the letter O",
        f"compiling the official lines raises {quoted(unclosed['en'])}; evaluating the call raises {quoted(q2_padding())}",
        assumes="the seed's text as transcribed (an O where the solution means 0)",
        hr={"seed": "self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False",
            "verified": "zagrada poziva mora biti zatvorena, a nadopuna je broj 0, a ne slovo O",
            "evidence": f"prevođenje službenih redaka baca {quoted(unclosed['hr'])}; izvođenje poziva baca {quoted(q2_padding())}",
            "assumes": "službeni tekst kako je prepisan (slovo O ondje gdje je očito mišljena nula)"},
    ))
    return out


def _q3(e: dict) -> list[dict]:
    """Q3: the coupling's convolution, the bonus's algebra, and the order of h's two layers."""
    x_channels, half, jaxdl_error = e["x_channels"], e["half"], e["jaxdl_q3_error"]
    run, methods = e["q3_run"], e["q3_methods"]
    wanted, got = jaxdl_error
    if isinstance(run, dict):
        torch_en = f"PyTorch, running the official class built with in_channels = C = {x_channels}, raises {quoted(run['wide'])}; "
        torch_hr = (f"PyTorch na službenom razredu izgrađenom s in_channels = C = {x_channels} baca {quoted(run['wide'])}; ")
        half_en = (f"built with in_channels = C/2 = {half} and the sheet's weights, its y is within {run['y_err']:.1e} "
                   f"of h = Conv1×1 ∘ ReLU by hand and its inverse's round trip within {run['round_trip']:.1e}")
        half_hr = (f"izgrađen s in_channels = C/2 = {half} i težinama iz ovog rješenja daje y koji od ručnog izračuna "
                   f"h = Conv1×1 ∘ ReLU odstupa najviše {run['y_err']:.1e}, a povratak kroz inverz {run['round_trip']:.1e}")
    else:
        torch_en, torch_hr = NO_TORCH["en"] + "; ", NO_TORCH["hr"] + "; "
        half_en, half_hr = "", ""
    readings = e["q3_readings"]
    return [
        erratum(
            "Q3", "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), applied to x1",
            "h maps the C/2 channels of x1 to C/2 channels: Conv2d(C/2, C/2, 1)",
            f"{torch_en}jaxdl's conv2d built for C = {x_channels} input channels refuses x1 with {half} "
            f"(its weight has shape {got}, x1 needs {wanted})" + (f"; {half_en}" if half_en else ""),
            assumes="in_channels is C, the channel count of the layer's input x (as the question's (N, C, H, W)); "
                    "were it C/2, the official code would be right",
            hr={"seed": "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), primijenjen na x1",
                "verified": "h preslikava C/2 kanala od x1 u C/2 kanala: Conv2d(C/2, C/2, 1)",
                "evidence": f"{torch_hr}jaxdl-ov conv2d izgrađen za C = {x_channels} ulaznih kanala odbija x1 s "
                            f"{half} kanala (težina mu je dimenzija {got}, a x1 traži {wanted})"
                            + (f"; {half_hr}" if half_hr else ""),
                "assumes": "in_channels je C, broj kanala ulaza x sloja (kao (N, C, H, W) u zadatku); da je C/2, "
                           "službeni kod bio bi točan"},
        ),
        erratum(
            "Q3", "bonus (i), the inverse derived algebraically: not given (the solution holds the inverse method, "
                  "bonus (ii), only)",
            "x₁ = y₁ and x₂ = y₂ − h(y₁), since h(x₁) = h(y₁); h itself need not be invertible, and the log-determinant "
            "is 0",
            f"the official Q3 solution (transcribed) is code only, the class with the methods {', '.join(methods)}"
            + (f"; as code its inverse is right: {half_en}" if half_en else ""),
            kind="incomplete",
            hr={"seed": "bonus (i), algebarski izveden inverz: nije dan (rješenje sadrži samo metodu inverse, bonus (ii))",
                "verified": "x₁ = y₁ i x₂ = y₂ − h(y₁), jer je h(x₁) = h(y₁); sama h ne mora biti invertibilna, a "
                            "log-determinanta je 0",
                "evidence": f"službeno rješenje Q3 (prepisano) sadrži samo kod, razred s metodama {', '.join(methods)}"
                            + (f"; kao kod inverz je točan: {half_hr}" if half_hr else "")},
        ),
        erratum(
            "Q3", "h = Conv1×1 ∘ ReLU coded as self.conv(self.relu(x1)): ReLU first",
            "read as a pipeline, the layers in the order written (the 1×1 convolution, then ReLU), h(x₁) = "
            "ReLU(Conv1×1(x₁)), and forward and inverse apply them in that order; the question should say which. "
            "jaxdl reads ∘ as the composition of functions, ReLU first, as the official code does",
            f"on the sheet's givens h(x₁) is {readings['A']} read as a composition and {readings['B']} read as a "
            f"pipeline, so y₂ is {readings['yA']} against {readings['yB']}",
            kind="reading",
            assumes="Conv1×1 ∘ ReLU lists the layers in the order they are applied (the convolution first)",
            hr={"seed": "h = Conv1×1 ∘ ReLU u kodu kao self.conv(self.relu(x1)): najprije ReLU",
                "verified": "pročitano kao niz slojeva redom kojim su napisani (najprije konvolucija 1×1, zatim ReLU), "
                            "h(x₁) = ReLU(Conv1×1(x₁)), pa ih forward i inverse primjenjuju tim redom; zadatak treba "
                            "reći koje čitanje vrijedi. jaxdl ∘ čita kao kompoziciju funkcija, najprije ReLU, kao i "
                            "službeni kod",
                "evidence": f"za zadane vrijednosti iz ovog rješenja h(x₁) iznosi {readings['A']} kao kompozicija i "
                            f"{readings['B']} kao niz slojeva, pa je y₂ {readings['yA']} prema {readings['yB']}",
                "assumes": "Conv1×1 ∘ ReLU navodi slojeve redom kojim se primjenjuju (najprije konvolucija)"},
        ),
    ]


def _rounded(a) -> list:
    return np.round(np.asarray(a, float), 6).tolist()


def _evidence(result: dict) -> dict:
    """The numbers and messages the errata show, computed from the quiz's result."""
    q1 = result["givens"]["q1"]
    A, B, beta, X, DY = (np.asarray(q1[k], float) for k in ("A", "b", "beta", "x", "dy"))
    B, beta = float(B), float(beta)
    dx = np.asarray(result["Q1a"]["dx"], float)
    x = np.asarray(result["givens"]["q3"]["x"], float)
    W3, b3 = np.asarray(result["givens"]["q3"]["W"], float), np.asarray(result["givens"]["q3"]["b"], float)
    half = x.shape[1] // 2
    # The official Q3 solution builds h's convolution with C input channels and applies it to
    # x1, which has C/2: jaxdl's convolution refuses that input (its own message, described).
    wide = conv2d(x.shape[1], 1)
    _, wide_params = wide.init(jax.random.PRNGKey(0), x.shape)
    try:
        wide.apply(wide_params, jnp.asarray(x[:, :half]))
        raise AssertionError("quiz errata: jaxdl's conv2d took x1 with the wrong channel count")
    except ValueError:
        _, right = wide.init(jax.random.PRNGKey(0), x[:, :half].shape)
        jaxdl_q3_error = (tuple(right["W"].shape), tuple(wide_params["W"].shape))
    # The official backward_inputs, per example: grads[i] @ (2 * A * diag(x_i) + b) — an
    # elementwise A ⊙ diag(x) and a scalar b added to every entry — and grad_c = grads.
    seed_dx = np.stack([DY[i] @ (2 * A * np.diag(X[i]) + B) for i in range(len(X))])
    # Equation (4), ∂L/∂X = ∂L/∂Y [∂Y/∂X]ᵀ, per example with equation (3)'s Jacobian (M × D).
    jacobians = [2 * A * X[i][None, :] + B * np.eye(len(A)) for i in range(len(X))]
    eq4 = np.stack([DY[i] @ jacobians[i].T for i in range(len(X))])
    # Equation (5): the derivative of y_1 by the row A_1: on the first example, by jax.jacobian.
    with jax.enable_x64(True):
        row = jax.jacobian(lambda a: (a @ jnp.asarray(X[0] ** 2)) + B * X[0, 0] + q1["c"][0])(jnp.asarray(A[0]))
    # Q3's two readings of h = Conv1×1 ∘ ReLU on the sheet's givens.
    x1, x2 = x[0, :half], x[0, half:]
    conv = lambda v: np.einsum("oi,ihw->ohw", W3, v) + b3[:, None, None]  # noqa: E731
    h_a, h_b = conv(np.maximum(x1, 0)), np.maximum(conv(x1), 0)
    readings = {"A": _rounded(h_a[:, 0]), "B": _rounded(h_b[:, 0]), "yA": _rounded((x2 + h_a)[:, 0]),
                "yB": _rounded((x2 + h_b)[:, 0])}
    try:
        from jaxdl.exams.torch_answers import official_q2_error

        raised = official_q2_error()
        q2_evidence = {"en": f"constructing the official class (syntax mended only) raises {quoted(raised)}",
                       "hr": f"konstruiranje službenog razreda (samo s popravljenom sintaksom) baca {quoted(raised)}"}
    except ImportError:
        q2_evidence = {k: v + " (jaxdl/exams/torch_answers/official_q2.py is the transcription to run)"
                       for k, v in NO_TORCH.items()}
    try:
        q2_self = {k: quoted(q2_parameters_without_self()) for k in ("en", "hr")}
        q2_override_ = q2_override(result["givens"]["q2"]["x"], result["givens"]["q2"]["K"])
        q3_run = q3_official_run(W3, b3, x)
    except ImportError:
        q2_self, q2_override_, q3_run = dict(NO_TORCH), None, None
    return {
        "X": X, "seed_dx_err": float(np.max(np.abs(seed_dx - dx))), "dc_seed_shape": DY.shape,
        "dc_shape": np.shape(result["Q1a"]["dparams"]["c"]), "eq4_err": float(np.max(np.abs(eq4 - dx))),
        "update_c": q1a_update_c(X, DY), "z": _rounded(X[0] ** 2), "dA_row": _rounded(row),
        "seed_swish_shape": (X.shape[1], DY.shape[1]),  # grad_layer.T @ grads: (D, N) @ (N, D)
        "parenthesized_err": q1b_parenthesized(X, beta),
        "q2_evidence": q2_evidence, "q2_self": q2_self, "q2_override": q2_override_,
        "x_channels": x.shape[1], "half": half, "jaxdl_q3_error": jaxdl_q3_error, "q3_run": q3_run,
        "q3_methods": q3_official_methods(), "q3_readings": readings,
    }


def errata(result: dict) -> list[dict]:
    """The quiz's errata, their evidence computed on ``result``'s givens."""
    e = _evidence(result)
    return _q1a_derivation(e) + _q1a_code(e) + _q1b(e) + _q2(e) + _q3(e)
