"""E2's errata: where the two official numpy solutions go wrong, each defect run on the spot.

The official fragments are transcribed only so that they can be run (never used as an answer);
where one needs a syntax error mended to reach a later defect, the mending is said beside it.
"""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import PreviousLayer, erratum, run_official

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

# Solution 2: built on the lab's layers, constructed from a number of inputs; its FC and ReLU are
# the lab's, which the solution does not show.
SOLUTION_2 = '''
class ResBlock:
    def __init__(self, num_inputs, name):
        self.name = name
        self.FC = FC(num_inputs, num_inputs, name + ".FC")
        self.relu = ReLU(num_inputs, name + ".ReLU")

    def forward(self, inputs):
        h = self.FC.forward(inputs)
        a = self.relu.forward(h)
        return inputs + a

    def backward_inputs(self, grads):
        dL_dh = self.relu.backward_inputs(grads)
        dL_din_FC = self.FC.backward_inputs(dL_dh)
        return grads + dL_din_FC

    def backward_params(self, grads):
        dL_dh = self.relu.backward_inputs(grads)
        [dL_dW, dL_db, _] = self.FC.backward_params(dL_dh)
        return [dL_dW, dL_db, self.name]
'''
# The one mend that lets solution 2 run on the lab's layers: FC and ReLU built from a previous layer
# (``PreviousLayer``, standing for the lab's input layer) instead of from a number of inputs.
SOLUTION_2_ON_THE_LABS_LAYERS = SOLUTION_2.replace(
    'FC(num_inputs, num_inputs, name + ".FC")', 'FC(PreviousLayer((2, num_inputs)), num_inputs, name + ".FC")').replace(
    'ReLU(num_inputs, name + ".ReLU")', 'ReLU(PreviousLayer((2, num_inputs)), name + ".ReLU")')


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


def solution_1_forward_keeps_h() -> tuple[bool, bool]:
    """``(self.h still holds h, self.h holds ReLU(h))`` after the official forward: ``a = self.h``
    names the same array, so masking ``a`` in place masks ``self.h``."""
    namespace: dict = {}
    exec(compile(SOLUTION_1, "<official solution>", "exec"), namespace)  # noqa: S102 - our own transcription
    rng = np.random.default_rng(1)
    layer = namespace["ResBlock"](3, "res")
    layer.W, layer.b = rng.standard_normal((3, 3)), rng.standard_normal(3)
    x = rng.standard_normal((4, 3))
    h = x @ layer.W + layer.b
    layer.forward(x)
    return bool(np.array_equal(layer.h, h)), bool(np.array_equal(layer.h, np.maximum(h, 0)))


def lab_attributes(solution: int) -> tuple[str | None, str | None]:
    """What the lab's network asks of a layer the official class cannot give: its training loop reads
    ``layer.has_params`` of every layer, and the next layer is built from ``input_layer.shape``.
    Returns what each raised (None where it ran)."""
    from jaxdl.check import lab_reference

    names = {"FC": lab_reference.FC, "ReLU": lab_reference.ReLU, "PreviousLayer": PreviousLayer}
    source = {1: SOLUTION_1, 2: SOLUTION_2_ON_THE_LABS_LAYERS}[solution]
    loop = run_official(source + "\nResBlock(3, 'res').has_params\n", names=names)
    build = run_official(source + "\nFC(ResBlock(3, 'res'), 3, 'fc')\n", names=names)
    return loop, build


def solution_2_on_the_labs_layers(W, b, x, dy) -> dict:
    """Solution 2 run on the lab's FC and ReLU (built from a previous layer) at the given numbers:
    ``{"out", "dx", "dW", "db"}`` in the exam's layout (W as ``x W + b``)."""
    from jaxdl.check import lab_reference

    namespace = {"FC": lab_reference.FC, "ReLU": lab_reference.ReLU, "PreviousLayer": PreviousLayer}
    exec(compile(SOLUTION_2_ON_THE_LABS_LAYERS, "<official solution>", "exec"), namespace)  # noqa: S102
    block = namespace["ResBlock"](W.shape[0], "res")
    block.FC.weights, block.FC.bias = W.T.copy(), b.copy()  # the lab's FC computes x Wᵀ + b
    out = block.forward(x.copy())
    dx = block.backward_inputs(dy.copy())
    (_, dW), (_, db), _ = block.backward_params(dy.copy())
    return {"out": out, "dx": dx, "dW": dW.T, "db": db}


def _new_errata(result: dict) -> list[dict]:
    """A3, A10, A11 and A12 of the examiner's list: the lab's attributes, the alias in forward, the
    TensorFlow solution's defaults, and solution 2's missing FC and ReLU.

    Long because it is data: one erratum per entry, each in both languages with its evidence."""
    import importlib.util

    W, b, x, dy = (np.asarray(result["givens"][k], float) for k in ("W", "b", "x", "dy"))
    yes = {True: ("da", "yes"), False: ("ne", "no")}
    keeps_h, holds_relu = solution_1_forward_keeps_h()
    (loop_1, build_1), (loop_2, build_2) = lab_attributes(1), lab_attributes(2)
    attrs = lambda loop, build: (f"čitanje has_params: {loop}; izgradnja sljedećeg FC-a na njemu: {build}",  # noqa: E731
                                 f"reading has_params: {loop}; building the next FC on it: {build}")
    ran = solution_2_on_the_labs_layers(W, b, x, dy)
    want = {"out": np.asarray(result["forward"]["out"], float), **{k: np.asarray(result["backward"][k], float)
                                                                   for k in ("dx", "dW", "db")}}
    same = {k: bool(np.allclose(ran[k], want[k], rtol=0, atol=1e-12)) for k in want}
    agree = [", ".join(f"{k} {('točno', 'ok')[i] if v else ('POGREŠNO', 'WRONG')[i]}" for k, v in same.items())
             for i in (0, 1)]
    h = x @ W + b
    twice = bool(np.array_equal(np.maximum(np.maximum(h, 0), 0), np.maximum(h, 0)))
    tf = "not installed here: the code was not run" if importlib.util.find_spec("tensorflow") is None else \
        "installed, but tensorflow.contrib is TF 1.x only: the code was not run"
    tf_hr = "ovdje nije instaliran: kod nije pokrenut" if importlib.util.find_spec("tensorflow") is None else \
        "instaliran je, ali tensorflow.contrib postoji samo u TF 1.x: kod nije pokrenut"
    # Cited by title (the course page is read offline): tensorflow.org, versions/r1.15/api_docs/python/tf/contrib/
    # layers/fully_connected, and guide/migrate/migrate_tf2.
    docs = "TensorFlow 1.15's API documentation of tf.contrib.layers.fully_connected"
    migrate = "TensorFlow's guide \"TF1.x -> TF2 migration overview\""
    migrate_hr = "TensorFlowov vodič \"TF1.x -> TF2 migration overview\""
    return [
        erratum(
            "E2 (numpy solutions 1 and 2)", "neither __init__(self, num_inputs, name) sets has_params or shape",
            "as the lab's layers: the block is built from the previous layer, self.shape = input_layer.shape, and "
            "self.has_params = True (it has W and b to train)",
            f"solution 1: {attrs(loop_1, build_1)[1]}; solution 2 (on the lab's FC and ReLU): {attrs(loop_2, build_2)[1]}",
            hr={"problem": "E2 (prvo i drugo rješenje u NumPyju)",
                "seed": "nijedan __init__(self, num_inputs, name) ne postavlja has_params ni shape",
                "verified": "kao slojevi iz vježbe: blok se gradi iz prethodnog sloja, self.shape = input_layer.shape i "
                            "self.has_params = True (ima parametre W i b koji se uče)",
                "evidence": f"prvo rješenje: {attrs(loop_1, build_1)[0]}; drugo rješenje (na FC i ReLU iz vježbe): "
                            f"{attrs(loop_2, build_2)[0]}"}),
        erratum(
            "E2 (numpy solution 1)", "forward: a = self.h; a[self.h < 0] = 0",
            "a = np.maximum(self.h, 0), a new array: a = self.h names the same array, so the mask also overwrites "
            "self.h; the backward pass's mask self.h <= 0 then still picks the same entries, so no number changes",
            f"after the official forward, self.h still holds h: {yes[keeps_h][1]}; it holds ReLU(h): {yes[holds_relu][1]}",
            kind="slip",
            hr={"problem": "E2 (prvo rješenje u NumPyju)", "seed": "forward: a = self.h; a[self.h < 0] = 0",
                "verified": "a = np.maximum(self.h, 0), novo polje: a = self.h je isto polje, pa maska prepisuje i "
                            "self.h; maska self.h <= 0 u unatražnom prolazu i dalje bira iste elemente, pa se nijedan "
                            "broj ne mijenja",
                "evidence": f"nakon službenog forward self.h još sadrži h: {yes[keeps_h][0]}; sadrži ReLU(h): "
                            f"{yes[holds_relu][0]}"}),
        erratum(
            "E2 (TensorFlow solution)",
            "N, D = net.shape; h = layers.fully_connected(net, D)  # bias default true; a = tf.nn.relu(h); "
            "layers is tensorflow.contrib.layers",
            "fully_connected(net, D, activation_fn=None): its activation is ReLU by default, so the official code "
            "applies ReLU twice (the same numbers: ReLU is idempotent); D must be an int (net.shape[-1].value in "
            "TF 1.x, where unpacking net.shape gives Dimension objects); tensorflow.contrib exists in TF 1.x only",
            f"TensorFlow is {tf}. {docs}: activation_fn \"The default value is a ReLU function\", num_outputs "
            f"\"Integer or long\"; TF 2 runs TF 1.x code except contrib ({migrate}). ReLU(ReLU(h)) = "
            f"ReLU(h) on this sheet's h: {yes[twice][1]}",
            assumes="TF 1.x, the only version with tensorflow.contrib; whether net.shape's Dimension objects are "
                    "refused by fully_connected is read from TF 1.x's source, not run",
            hr={"problem": "E2 (rješenje u TensorFlowu)",
                "seed": "N, D = net.shape; h = layers.fully_connected(net, D)  # bias default true; a = tf.nn.relu(h); "
                        "layers je tensorflow.contrib.layers",
                "verified": "fully_connected(net, D, activation_fn=None): aktivacija mu je prema zadanoj vrijednosti "
                            "ReLU, pa službeni kod primjenjuje ReLU dvaput (brojevi su isti jer je ReLU idempotentan); "
                            "D mora biti cijeli broj (net.shape[-1].value u TF 1.x, gdje raspakiravanje net.shape daje "
                            "objekte Dimension); tensorflow.contrib postoji samo u TF 1.x",
                "evidence": f"TensorFlow {tf_hr}. Prema dokumentaciji TensorFlowa 1.15 za tf.contrib.layers."
                            f"fully_connected, za activation_fn zadana je "
                            f"vrijednost ReLU, a num_outputs je cijeli broj (\"Integer or long\"); TF 2 izvodi kod za "
                            f"TF 1.x osim modula contrib ({migrate_hr}). ReLU(ReLU(h)) = ReLU(h) za h iz ovog rješenja: "
                            f"{yes[twice][0]}",
                "assumes": "TF 1.x, jedina inačica s tensorflow.contrib; da fully_connected odbija objekte Dimension "
                           "iz net.shape, pročitano je iz izvornog koda TF 1.x, a nije pokrenuto"}),
        erratum(
            "E2 (numpy solution 2)", "# 3 boda - the lab's FC; # 2 boda - the lab's ReLU (5 of its 7 points), not shown",
            "the class relies on the lab's FC and ReLU (built from a previous layer, the erratum above); with them it "
            "is right",
            f"run on the lab's FC and ReLU at this sheet's numbers: {agree[1]}", kind="incomplete",
            hr={"problem": "E2 (drugo rješenje u NumPyju)",
                "seed": "# 3 boda - FC iz vježbe; # 2 boda - ReLU iz vježbe (5 od njegovih 7 bodova), nisu prikazani",
                "verified": "razred se oslanja na FC i ReLU iz vježbe (građene iz prethodnog sloja, ispravak gore); uz "
                            "njih je točan",
                "evidence": f"pokrenut na FC i ReLU iz vježbe s brojevima iz ovog rješenja: {agree[0]}"}),
    ]


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
    ] + _new_errata(result)
