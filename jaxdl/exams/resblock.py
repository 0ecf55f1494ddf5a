"""E2: the residual block ``out = x + ReLU(x W + b)``, forward and manual backward on an example."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.errors import InputError
from jaxdl.exams._common import without_docstrings, code_block, display, erratum, lab_source, matrix, num, tex, tolist
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.sheet import Body, Part, Question
from jaxdl.layers import res_block


def read_config(cfg):
    known = {"W", "b", "x", "dy"}
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam resblock; known: {sorted(known)}")
    W = matrix(cfg, "W", ndim=2)
    d = W.shape[0]
    W = matrix(cfg, "W", (d, d))
    b = matrix(cfg, "b", (d,))
    x = matrix(cfg, "x", (None, d))
    dy = matrix(cfg, "dy", x.shape)
    return W, b, x, dy


def solve(cfg) -> dict:
    W, b, x, dy = read_config(cfg)
    layer = res_block()
    params = {"W": W, "b": b}
    with jax.enable_x64(True):
        p64 = {k: jnp.asarray(v) for k, v in params.items()}
        h = np.asarray(x @ W + b)
        out = np.asarray(layer.apply(p64, jnp.asarray(x)))
        grads, dx = layer.backward(p64, jnp.asarray(x), jnp.asarray(dy))
    check = check_layer_at(layer, params, x, dy, name="res_block")
    # The first official numpy solution masks `grads` in place, so its skip path adds the
    # masked gradient: dx_seed = (dy ⊙ [h > 0]) Wᵀ + dy ⊙ [h > 0].
    masked = dy * (h > 0)
    seed_dx = masked @ W.T + masked
    seed_err = float(np.max(np.abs(seed_dx - np.asarray(dx))))
    from jaxdl.exams import official

    zeroed, total = official.e2_solution_1_masks_grads()
    ctor = official.e2_solution_2_constructor()
    errata = [
        erratum(
            "E2 (numpy solution 1)", "forward computes output = a + inputs and returns nothing",
            "forward must return out = x + ReLU(x W + b)",
            "the official forward, called, returns None",
            hr={"problem": "E2 (prvo rješenje u NumPyju)", "seed": "forward računa output = a + inputs i ništa ne vraća",
                "verified": "forward mora vratiti out = x + ReLU(x W + b)",
                "evidence": "kad se pozove, službeni forward vraća None"},
        ),
        erratum(
            "E2 (numpy solution 1)",
            "backward_inputs: dL_dh = grads; dL_dh[h <= 0] = 0; return dL_dh @ W.T + grads",
            "∂L/∂x = ∂L/∂out + (∂L/∂out ⊙ [h > 0]) Wᵀ: the skip path carries the upstream gradient "
            "unmasked; masking `grads` in place also masks the skip term (and the caller's array)",
            f"on the sheet's numbers the in-place version's ∂L/∂x differs from the verified one by {seed_err:.4g} "
            f"(wherever h ≤ 0)",
            hr={"problem": "E2 (prvo rješenje u NumPyju)",
                "seed": "backward_inputs: dL_dh = grads; dL_dh[h <= 0] = 0; return dL_dh @ W.T + grads",
                "verified": "∂L/∂x = ∂L/∂out + (∂L/∂out ⊙ [h > 0]) Wᵀ: preskočna veza prenosi nemaskirani "
                            "gradijent; maskiranjem polja `grads` na mjestu maskira se i on (i polje pozivatelja)",
                "evidence": f"za vrijednosti iz ovog rješenja ∂L/∂x verzije koja mijenja polje na mjestu odstupa od "
                            f"ispravnog za {seed_err:.4g} (gdje je h ≤ 0)"},
        ),
        erratum(
            "E2 (numpy solution 1)", "backward_params: dL_dh = grads; dL_dh[h <= 0] = 0",
            "the upstream gradient must be left as it came: dL_dh = grads * (h > 0) (a new array); the official "
            "code zeroes the caller's grads, so whatever reads them next (backward_inputs, the next layer) "
            "reads the masked values",
            f"backward_params, called on a fresh grads of {total} entries, set {zeroed} of them to 0 in place",
            hr={"problem": "E2 (prvo rješenje u NumPyju)", "seed": "backward_params: dL_dh = grads; dL_dh[h <= 0] = 0",
                "verified": "gradijent koji dolazi odozgo mora ostati kakav je došao: dL_dh = grads * (h > 0) (novo "
                            "polje); službeni kod mijenja pozivateljev grads na mjestu, pa sve što ga nakon toga "
                            "čita "
                            "(backward_inputs, sljedeći sloj) čita maskirane vrijednosti",
                "evidence": f"pozvan na novom grads od {total} elemenata, backward_params je na mjestu postavio "
                            f"{zeroed} od njih na 0"},
        ),
        erratum(
            "E2 (numpy solution 2)", "self.FC = FC(num_inputs, num_inputs, name + \".FC\"), "
                                     "self.relu = ReLU(num_inputs, ...)",
            "the lab's FC and ReLU are built from the previous layer (its .shape), not from a number of inputs: "
            "FC(input_layer, num_outputs, name); with the constructors it assumes, the class is right",
            f"built with the lab's FC and ReLU: {ctor}",
            hr={"problem": "E2 (drugo rješenje u NumPyju)",
                "seed": "self.FC = FC(num_inputs, num_inputs, name + \".FC\"), self.relu = ReLU(num_inputs, ...)",
                "verified": "FC i ReLU iz vježbe grade se iz prethodnog sloja (njegov .shape), a ne iz broja ulaza: "
                            "FC(input_layer, num_outputs, name); s konstruktorima koje pretpostavlja, razred je točan",
                "evidence": f"izgrađen s FC i ReLU iz vježbe: {ctor}"},
        ),
    ]
    return {
        "givens": {"W": tolist(W), "b": tolist(b), "x": tolist(x), "dy": tolist(dy)},
        "forward": {"h": tolist(h), "relu_h": tolist(np.maximum(h, 0)), "out": tolist(out)},
        "dh": tolist(masked),
        "backward": {"dy": tolist(dy), "dx": tolist(dx), "dW": tolist(grads["W"]), "db": tolist(grads["b"])},
        "cross_check": {
            "max_abs_err_vs_autodiff": check.max_abs_err_vs_autodiff,
            "max_abs_err_vs_finite_diff": check.max_abs_err_vs_finite_diff,
            "ok": check.ok,
        },
        "formula": layer.formula,
        "errata": errata,
    }


def report(result: dict) -> str:
    fmt = lambda v: np.array2string(np.asarray(v), precision=4, separator=", ", suppress_small=True).replace("\n", "")  # noqa: E731
    f, b, c = result["forward"], result["backward"], result["cross_check"]
    return "\n".join([
        "E2  Residual block out = x + ReLU(x W + b), from the lab's dense and ReLU layers",
        f"  {result['formula']}",
        f"  h = x W + b = {fmt(f['h'])};  out = {fmt(f['out'])}",
        f"  ∂L/∂out = {fmt(b['dy'])} →  ∂L/∂x = {fmt(b['dx'])},  ∂L/∂W = {fmt(b['dW'])},  ∂L/∂b = {fmt(b['db'])}",
        f"  check (float64): |manual − jax.vjp| = {c['max_abs_err_vs_autodiff']:.1e}, "
        f"|· − finite diff| = {c['max_abs_err_vs_finite_diff']:.1e}: {'ok' if c['ok'] else 'FAIL'}",
    ])


QUESTIONS = (Question(
    "E2", both("Rezidualni blok", "A residual block"), 10,
    both("Datoteku `layers.py` iz druge laboratorijske vježbe dopunite razredom `ResBlock` koji opisuje modul sa "
         "slike i ostvaruje sučelje `Layer`: `forward(self, inputs)` vraća izlaz sloja, `backward_inputs(self, grads)` "
         "gradijent po ulazu, a `backward_params(self, grads)` listu parova (parametar, gradijent po parametru). "
         "Isti modul izvedite i u PyTorchu ili TensorFlowu.",
         "Extend the lab-2 file `layers.py` with a class `ResBlock` for the module of the figure, in the `Layer` "
         "interface: `forward(self, inputs)` returns the layer's output, `backward_inputs(self, grads)` the "
         "gradient by the input, `backward_params(self, grads)` the list of pairs (parameter, gradient by the "
         "parameter). Write the same module in PyTorch or TensorFlow too."),
    (Part("a", 7, both("razred `ResBlock` u NumPyju (forward, backward_inputs, backward_params)",
                       "the class `ResBlock` in numpy (forward, backward_inputs, backward_params)")),
     Part("b", 3, both("isti modul u PyTorchu", "the same module in PyTorch"))),
    givens="lost",
    assumed=both(r"$\mathrm{out} = X + \operatorname{ReLU}(X W + b)$ uz $W \in \mathbb{R}^{D \times D}$ (retci "
                 r"matrice $X$ su primjeri, $N \times D$, kao u vježbi); brojevi su odabrani za ovo rješenje",
                 r"$\mathrm{out} = X + \operatorname{ReLU}(X W + b)$ with $W \in \mathbb{R}^{D \times D}$ (the "
                 r"rows of $X$ are the examples, $N \times D$, as in the lab); the numbers are chosen for this "
                 r"sheet")),)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E2's solution in ``lang``: the forward and backward steps on the givens, the numpy class and
    the PyTorch module."""
    from jaxdl.exams import torch_answers

    gv, f, b, c = result["givens"], result["forward"], result["backward"], result["cross_check"]
    mask = (np.asarray(f["h"]) > 0).astype(float)
    s_ = lang.s
    d = lambda a, b_: rf"\frac{{\partial {a}}}{{\partial {b_}}}"  # noqa: E731
    givens = display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'], row=True)}", f"X = {tex(gv['x'])}",
                     rf"{d('L', chr(92) + 'mathrm{out}')} = {tex(gv['dy'])}")
    work = "\n\n".join([
        s_("Unatražni prolaz slijedi oba puta (obje grane) od $X$ do izlaza: preskočna veza prenosi "
           "$\\partial L / \\partial \\mathrm{out}$ nepromijenjen, a druga grana ide kroz ReLU i afinu transformaciju.",
           "The backward pass follows both paths from $X$ to the output: the skip connection carries "
           "$\\partial L / \\partial \\mathrm{out}$ unchanged, the other goes through ReLU and the affine map."),
        s_("Unaprijedni prolaz:", "Forward pass:"),
        display(f"H = X W + b = {tex(f['h'])}", rf"\operatorname{{ReLU}}(H) = {tex(f['relu_h'])}",
                rf"\mathrm{{out}} = X + \operatorname{{ReLU}}(H) = {tex(f['out'])}"),
        s_("Unatražni prolaz:", "Backward pass:"),
        display(rf"{d('L', 'H')} = {d('L', chr(92) + 'mathrm{out}')} \odot [H > 0] = "
                rf"{tex(gv['dy'])} \odot {tex(mask)} = {tex(result['dh'])}", sep=""),
        display(rf"{d('L', 'X')} = {d('L', chr(92) + 'mathrm{out}')} + {d('L', 'H')} W^\top = {tex(b['dx'])}"),
        display(rf"{d('L', 'W')} = X^\top {d('L', 'H')} = {tex(b['dW'])}",
                rf"{d('L', 'b')} = \sum_n {d('L', 'H_n')} = {tex(b['db'], row=True)}"),
        s_("U kodu se `grads` ne smije mijenjati na mjestu: množi se maskom, a rezultat se sprema u novo polje.",
           "In code, `grads` must not be changed in place: the mask multiplies into a new array."),
    ])
    answers = {
        "a": s_("razred `ResBlock` ispod; za zadane vrijednosti:", "the class `ResBlock` below; on the givens:")
        + f" ${d('L', 'X')} = {tex(b['dx'])}$",
        "b": s_("modul `ResBlock` ispod (`nn.Linear` i ReLU, uz preskočnu vezu).",
                "the module `ResBlock` below (`nn.Linear` and ReLU, with the skip connection)."),
    }
    code = "\n\n".join([
        s_("**(a)** Razred u NumPyju (sučelje `Layer` iz vježbe):", "**(a)** The numpy class (the lab's `Layer` interface):"),
        code_block(without_docstrings(lab_source("ResBlock"))),
        s_("**(b)** Modul u PyTorchu:", "**(b)** The PyTorch module:"),
        code_block(without_docstrings(torch_answers.source("res_block"))),
    ])
    verified = s_(
        f"Izračunano u float64 (`jaxdl exam resblock`, brojevi u `configs/exam_resblock.py`): ručni unatražni "
        f"prolaz jaxdl-ovog sloja `res_block` uspoređen je s `jax.vjp` (najveća razlika "
        f"{c['max_abs_err_vs_autodiff']:.1e}) i s konačnim razlikama ({c['max_abs_err_vs_finite_diff']:.1e}). "
        "Razred u NumPyju prolazi `jaxdl check-numpy`; modul u PyTorchu testiran je na istim težinama "
        "(izlaz i gradijenti do 1e-6).",
        f"Computed in float64 (`jaxdl exam resblock`, the numbers in `configs/exam_resblock.py`): the manual "
        f"backward pass of jaxdl's `res_block` layer against `jax.vjp` (largest difference "
        f"{c['max_abs_err_vs_autodiff']:.1e}) and finite differences ({c['max_abs_err_vs_finite_diff']:.1e}). "
        "The numpy class passes `jaxdl check-numpy`; the PyTorch module is tested on the same weights (output "
        "and gradients to 1e-6).")
    finals = [num(v) for v in np.asarray(b["dx"]).reshape(-1)[:3]]
    return {"E2": Body(givens, {"": work, "a": "", "b": ""}, answers, verified, finals, code)}
