"""E2's errata: where the two official numpy solutions go wrong, each defect run on the spot.

The official fragments are transcribed only so that they can be run (never used as an answer);
where one needs a syntax error mended to reach a later defect, the mending is said beside it.
"""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import erratum, run_official

# Solution 1: backward_params masks grads in place (the forward's missing return added).
SOLUTION_1 = '''
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

# Solution 2: built on the lab's layers, constructed from a number of inputs.
SOLUTION_2 = '''
class ResBlock:
    def __init__(self, num_inputs, name):
        self.name = name
        self.FC = FC(num_inputs, num_inputs, name + ".FC")
        self.relu = ReLU(num_inputs, name + ".ReLU")
'''


def solution_1_masks_grads() -> tuple[int, int]:
    """``(entries of grads set to 0 by backward_params, entries of grads)``."""
    namespace: dict = {}
    exec(compile(SOLUTION_1, "<official solution>", "exec"), namespace)  # noqa: S102 - our own transcription
    rng = np.random.default_rng(0)
    layer = namespace["ResBlock"](3, "res")
    layer.W = rng.standard_normal((3, 3))
    layer.b = rng.standard_normal(3)
    layer.forward(rng.standard_normal((4, 3)))
    grads = rng.standard_normal((4, 3))
    before = grads.copy()
    layer.backward_params(grads)
    return int(np.sum(grads != before)), int(grads.size)


def solution_2_constructor() -> str:
    """Built with the lab's own FC and ReLU (jaxdl's correct lab), as the solution assumes them."""
    from jaxdl.check import lab_reference

    return run_official(SOLUTION_2 + "\nResBlock(3, 'res')\n", names={"FC": lab_reference.FC, "ReLU": lab_reference.ReLU})


def errata(result: dict) -> list[dict]:
    """E2's errata, their evidence computed on ``result``'s givens."""
    W = np.asarray(result["givens"]["W"], float)
    # The first official solution masks `grads` in place, so its skip path adds the masked
    # gradient: dx_seed = (dy ⊙ [h > 0]) Wᵀ + dy ⊙ [h > 0].
    masked = np.asarray(result["dh"], float)
    seed_dx = masked @ W.T + masked
    seed_err = float(np.max(np.abs(seed_dx - np.asarray(result["backward"]["dx"], float))))
    zeroed, total = solution_1_masks_grads()
    ctor = solution_2_constructor()
    return [
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
