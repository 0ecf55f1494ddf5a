"""The quiz's variants: Q1's layers on small whole numbers, Q2's pooling on an image one row or
column too large for whole windows (so that the floor drops it), Q3's coupling with small weights.
Each question is verified in its own batches (one compiled program per question's shapes and
hyperparameters).

A variant keys each part that a number can mark, within its points, on its givens: Q1a (b) two
entries of Y, (c) ∂L/∂X's entries (at most four), (d) ∂L/∂c and an entry of ∂L/∂A; Q1b (b) two
entries of Y, (c) ∂L/∂X's entries (at most four); Q2 (a) the convolution's kernel size, stride and
padding, (b) the weight's entries, (c) the number of trainable parameters, (d) the output's
height or width (the one the floor cuts) and one of its entries; Q3 (b) the 1×1 convolution's
input and output channels, (c) the entries of y's second half. The constructors (Q1a (a), Q1b
(a)), Q1b's ``backward_params`` (Swish has no parameters), inheriting ``nn.Module`` (Q3 (a)) and
the bonus are marked by hand. Each question's blanks read only its own givens, so that Q1 (Q1a
and Q1b), Q2 and Q3 can be asked apart.

Where an array has more entries than its part has points, the entries asked are those where the
most common mistakes differ from the key (the first such in reading order), named in the printed
part. The catalogue computes every key by the course's formulas in numpy, and beside them the
course's common mistakes, each from the givens.
"""

from __future__ import annotations

import collections
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check.numeric import NOT_RUN
from jaxdl.exams._common import choose_entries, kept
from jaxdl.exams.lang import both
from jaxdl.exams.problem import Family, Mistake, Rejected, Verified
from jaxdl.exams.variants import batched, blank, blanks_of, entry_id, layer_three_ways, pick, values_of
from jaxdl.layers import additive_coupling, avg_pool2d, conv_avg_pool2d, quadratic, swish


def propose(rng):
    d, n = int(rng.choice([2, 3])), 2
    q1 = {"A": pick(rng, [-2, -1, 0, 1, 2], (d, d)).tolist(), "c": pick(rng, [-1, -0.5, 0, 0.5, 1], (d,)).tolist(),
          "b": float(rng.choice([-1, 0.5, 2])), "beta": float(rng.choice([0.5, 1, 2])),
          "x": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist(),
          "dy": pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (n, d)).tolist()}
    # Q2: K × K windows, the image one or two cells too tall or wide, so that the floor drops them.
    k, c = int(rng.choice([2, 3])), int(rng.choice([1, 2]))
    h, w = [(2 * k + 1, 2 * k), (2 * k, 2 * k + 1)][int(rng.integers(2))]  # one row or one column dropped
    image = pick(rng, [0, 1, 2, 3, 4], (1, c, h, w))
    if k == 3:  # every 3 × 3 window's sum a multiple of 9: its mean a whole number
        for i in range(h // k):
            for j in range(w // k):
                window = image[0, :, i * k:(i + 1) * k, j * k:(j + 1) * k]
                window[:, -1, -1] = 0
                window[:, -1, -1] = (-window.sum(axis=(1, 2))) % 9
    q2 = {"K": k, "x": image.tolist()}
    # Q3: C channels, h = Conv1×1 ∘ ReLU with small whole weights.
    cc = int(rng.choice([2, 4]))
    x3 = pick(rng, [-2, -1, -0.5, 0.5, 1, 2], (1, cc, 1, 3))
    q3 = {"W": pick(rng, [-2, -1, 1, 2], (cc // 2, cc // 2)).tolist(), "b": pick(rng, [-1, -0.5, 0, 0.5, 1], (cc // 2,)).tolist(),
          "x": x3.tolist()}
    return {"q1": q1, "q2": q2, "q3": q3}


def screen(g):
    x3 = np.asarray(g["q3"]["x"])
    if np.all(x3[:, : x3.shape[1] // 2] <= 0):  # ReLU(x1) = 0 everywhere: h(x1) would be its bias alone
        raise Rejected("dead")


def group(g):
    return ()  # one batch: _quiz_verify groups each question by its own shapes and hyperparameters


def _prefixed(prefix, answers, refs):
    return ({prefix + k: v for k, v in answers.items()},
            {pair: {prefix + k: v for k, v in tree.items()} for pair, tree in refs.items()})


def _q1a_one(A, c, x, dy, b):
    return _prefixed("q1a_", *layer_three_ways(quadratic(b), {"A": A, "c": c}, x, dy))


def _q1b_one(x, dy, beta):
    return _prefixed("q1b_", *layer_three_ways(swish(beta), {}, x, dy))


def _q2_one(image, k):
    channels = image.shape[0]
    dense = conv_avg_pool2d(channels, k, "dense").apply({}, image[None])[0]
    depthwise = conv_avg_pool2d(channels, k, "depthwise").apply({}, image[None])[0]
    window = jax.lax.reduce_window(image, 0.0, jax.lax.add, (1, k, k), (1, k, k), "VALID") / k**2
    pooled = avg_pool2d(k).apply({}, image[None])[0]
    return {"q2": dense}, {"independent": [{"q2": depthwise}, {"q2": pooled}], "closed form": {"q2": window}}


def _q3_one(W, b, x):
    half = x.shape[0] // 2
    coupling = additive_coupling(x.shape[0])
    params = {"relu_0": {}, "conv2d_1": {"W": W[:, :, None, None], "b": b}}
    y = coupling.apply(params, x[None])[0]
    by_formula = jnp.concatenate([x[:half], x[half:] + jnp.einsum("oi,ihw->ohw", W, jnp.maximum(x[:half], 0))
                                  + b[:, None, None]])
    back = coupling.inverse(params, y[None])[0]
    jacobian = jax.jacfwd(lambda v: coupling.apply(params, v.reshape((1,) + x.shape)).reshape(-1))(x.reshape(-1))
    answers = {"q3": y, "q3_back": back, "q3_log_det": coupling.log_det(params, x[None])[0]}
    return answers, {"independent": {"q3": by_formula, "q3_back": x},
                     "closed form": [{"q3_log_det": jnp.zeros(())}, {"q3_log_det": jnp.linalg.slogdet(jacobian)[1]}]}


def _stack_part(givens, part, fields, first=()):
    return tuple(np.stack([np.asarray(g[part][f], float)[0] if f in first else np.asarray(g[part][f], float)
                           for g in givens]) for f in fields)


# Per question: its group key (shapes and hyperparameters), the check for a key, its batched inputs.
_PARTS = (
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["b"]), lambda key: lambda *a: _q1a_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("A", "c", "x", "dy"))),
    (lambda g: (np.shape(g["q1"]["x"]), g["q1"]["beta"]), lambda key: lambda *a: _q1b_one(*a, key[1]),
     lambda gs: _stack_part(gs, "q1", ("x", "dy"))),
    (lambda g: (g["q2"]["K"], np.shape(g["q2"]["x"])), lambda key: lambda *a: _q2_one(*a, key[0]),
     lambda gs: _stack_part(gs, "q2", ("x",), first=("x",))),
    (lambda g: np.shape(g["q3"]["x"]), lambda key: _q3_one,
     lambda gs: _stack_part(gs, "q3", ("W", "b", "x"), first=("x",))),
)


def verify(givens):
    """Each question in its own batches: one compiled program per question's shapes and
    hyperparameters (far fewer than the quiz's combinations of them)."""
    n = len(givens)
    answers = [{} for _ in givens]
    dis: dict = {}
    for key_of, make, args_of in _PARTS:
        groups = collections.defaultdict(list)
        for i, g in enumerate(givens):
            groups[key_of(g)].append(i)
        for key, indices in groups.items():
            batch, d = batched(make(key), args_of([givens[i] for i in indices]))
            for j, i in enumerate(indices):
                answers[i].update({k: v[j] for k, v in batch.items()})
            for pair, values in d.items():
                column = dis.setdefault(pair, np.full(n, NOT_RUN))
                column[indices] = np.maximum(column[indices], values)
    return Verified(answers, dis)


def answers(r):
    qa, qb = r["Q1a"], r["Q1b"]
    return {"q1a_out": qa["y"], "q1a_dx": qa["dx"], "q1a_dA": qa["dparams"]["A"], "q1a_dc": qa["dparams"]["c"],
            "q1b_out": qb["y"], "q1b_dx": qb["dx"], "q2": np.asarray(r["Q2"]["output"])[0],
            "q3": np.asarray(r["Q3"]["y"])[0], "q3_log_det": np.asarray(r["Q3"]["log_det"])[0]}


# --------------------------------------------------------------------------------------------
# The course's formulas in numpy, done right and done the common wrong ways.


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _q1(g):
    q = g["q1"]
    return (np.asarray(q["A"], float), np.asarray(q["c"], float), float(q["b"]), float(q["beta"]),
            np.asarray(q["x"], float), np.asarray(q["dy"], float))


def q1a_forward(A, c, b, X, transpose=True):
    """Y = (X ⊙ X) Aᵀ + b X + c (``transpose=False``: A's layout confused, (X ⊙ X) A)."""
    return (X * X) @ (A.T if transpose else A) + b * X + c


def q1a_dx(A, b, X, DY, two=2.0, transpose=True, b_term=True):
    """∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y (the mistakes: ``two`` the factor of ∂(x²)/∂x, A's layout,
    the b x term's derivative)."""
    return two * X * (DY @ (A if transpose else A.T)) + (b * DY if b_term else 0.0)


def q1a_dx_official(A, b, X, DY):
    """The official backward_inputs: per example ∂L/∂Y_n @ (2 * A * diag(x_n) + b), an elementwise
    product with diag and b added to every entry (its names N and b read as meant)."""
    return np.stack([DY[n] @ (2 * A * np.diag(X[n]) + b) for n in range(len(X))])


def swish_forward(X, beta):
    return X * _sigmoid(beta * X)


def swish_derivative(X, beta, chain_beta=True, product_rule=True):
    """g'(x) = σ(βx) + βx σ(βx)(1 − σ(βx)) (``chain_beta=False``: the β of the inner derivative
    left out; ``product_rule=False``: σ(βx) only)."""
    s = _sigmoid(beta * X)
    if not product_rule:
        return s
    return s + (beta if chain_beta else 1.0) * X * s * (1 - s)


def _q2(g):
    return int(g["q2"]["K"]), np.asarray(g["q2"]["x"], float)[0]


def q2_pool(image, k, channel_mean=False, ceil=False):
    """K × K average pooling with stride K: (C, H, W) → (C, ⌊H/K⌋, ⌊W/K⌋) (``ceil``: the partial
    windows kept and averaged over what they hold; ``channel_mean``: the mean over every channel
    of the window, the weight 1/(C K²) everywhere)."""
    c, h, w = image.shape
    rows, cols = (-(-h // k), -(-w // k)) if ceil else (h // k, w // k)
    out = np.zeros((c, rows, cols))
    for p in range(rows):
        for q in range(cols):
            window = image[:, p * k:(p + 1) * k, q * k:(q + 1) * k]
            out[:, p, q] = window.mean(axis=(1, 2))
    return np.broadcast_to(out.mean(axis=0), out.shape).copy() if channel_mean else out


def cut_dimension(g) -> tuple[str, int]:
    """Q2's dimension the floor cuts: ``("H" or "W", its size)`` (exactly one is not a multiple of K)."""
    k, image = _q2(g)
    h, w = image.shape[1:]
    return ("H", h) if h % k else ("W", w)


def _q3(g):
    q = g["q3"]
    return np.asarray(q["W"], float), np.asarray(q["b"], float), np.asarray(q["x"], float)[0]


def q3_y(W, b, x, order="relu_first", on="x1", swapped=False):
    """The coupling's y (C, H, W): y1 = x1, y2 = x2 + h(x1), h = Conv1×1 ∘ ReLU (ReLU first);
    the mistakes: ``order="relu_after"`` (ReLU(Conv(x1))), ``on="x2"`` (h of x2), ``swapped`` (y2
    concatenated first)."""
    half = x.shape[0] // 2
    x1, x2 = x[:half], x[half:]
    u = x1 if on == "x1" else x2

    def conv(v):
        return np.einsum("oi,ihw->ohw", W, v) + b[:, None, None]

    h = conv(np.maximum(u, 0)) if order == "relu_first" else np.maximum(conv(u), 0)
    y1, y2 = x1, x2 + h
    return np.concatenate([y2, y1] if swapped else [y1, y2])


# --------------------------------------------------------------------------------------------
# What the common mistakes give, whole arrays (``None`` where a mistake changes nothing there),
# and which entries a variant asks for.


def q1a_alternatives(g) -> dict:
    """Q1a's arrays as each mistake gives them: ``{"y": {...}, "dx": {...}, "dA": {...}, "dc": {...}}``."""
    A, c, b, _, X, DY = _q1(g)
    symmetric = np.array_equal(A, A.T)
    dA = DY.T @ (X * X)
    return {
        "y": {"a_layout": None if symmetric else q1a_forward(A, c, b, X, transpose=False)},
        "dx": {"official_jacobian": q1a_dx_official(A, b, X, DY), "factor_two": q1a_dx(A, b, X, DY, two=1.0),
               "a_layout": None if symmetric else q1a_dx(A, b, X, DY, transpose=False),
               "b_term": q1a_dx(A, b, X, DY, b_term=False)},
        "dA": {"da_transposed": dA.T},
        "dc": {"dc_not_summed": DY[0]},
    }


def q1b_alternatives(g) -> dict:
    """Q1b's arrays as each mistake gives them (β = 1: the mistakes about β change nothing)."""
    _, _, _, beta, X, DY = _q1(g)
    off = beta == 1
    return {
        "y": {"beta_forgotten": None if off else swish_forward(X, 1.0)},
        "dx": {"beta_forgotten": None if off else DY * swish_derivative(X, 1.0),
               "chain_beta": None if off else DY * swish_derivative(X, beta, chain_beta=False),
               "no_product_rule": DY * swish_derivative(X, beta, product_rule=False)},
    }


def q2_alternatives(g) -> dict:
    """Q2's output as each mistake gives it."""
    k, image = _q2(g)
    return {"y": {"divide_by_k": k * q2_pool(image, k),
                  "channel_mean": q2_pool(image, k, channel_mean=True) if image.shape[0] > 1 else None}}


def q3_alternatives(g) -> dict:
    """Q3's second half y2 as each mistake gives it."""
    W, b, x = _q3(g)
    half = x.shape[0] // 2
    return {"y": {"relu_after": q3_y(W, b, x, order="relu_after")[half:], "h_of_x2": q3_y(W, b, x, on="x2")[half:],
                  "swapped": q3_y(W, b, x, swapped=True)[half:]}}


# How many entries a part asks for (each a blank, within the part's points).
ASKED = {"Q1a(b)": 2, "Q1a(c)": 2, "Q1b(b)": 2, "Q1b(c)": 2, "Q2(d)": 1, "Q3(c)": 2}


def q1a_entries(g) -> dict:
    """Q1a's entries asked: ``{"y": [...], "dx": [...], "dA": [...]}`` (0-based indices)."""
    A, c, b, _, X, DY = _q1(g)
    alts = q1a_alternatives(g)
    return {"y": choose_entries(q1a_forward(A, c, b, X), alts["y"], ASKED["Q1a(b)"]),
            "dx": choose_entries(q1a_dx(A, b, X, DY), alts["dx"], ASKED["Q1a(c)"]),
            "dA": choose_entries(DY.T @ (X * X), alts["dA"], 4 - A.shape[0])}


def q1b_entries(g) -> dict:
    """Q1b's entries asked: ``{"y": [...], "dx": [...]}``."""
    _, _, _, beta, X, DY = _q1(g)
    alts = q1b_alternatives(g)
    return {"y": choose_entries(swish_forward(X, beta), alts["y"], ASKED["Q1b(b)"]),
            "dx": choose_entries(DY * swish_derivative(X, beta), alts["dx"], ASKED["Q1b(c)"])}


def q2_entry(g) -> tuple:
    """Q2's output entry asked (channel, row, column)."""
    k, image = _q2(g)
    return choose_entries(q2_pool(image, k), q2_alternatives(g)["y"], ASKED["Q2(d)"])[0]


def q3_entries(g) -> list:
    """Q3's entries of y asked (channel, row, column), all in the second half."""
    W, b, x = _q3(g)
    half = x.shape[0] // 2
    chosen = choose_entries(q3_y(W, b, x)[half:], q3_alternatives(g)["y"], ASKED["Q3(c)"])
    return [(i[0] + half, *i[1:]) for i in chosen]


# --------------------------------------------------------------------------------------------
# The keys, from the result (verified) and from the givens (the catalogue).


def _q1a_keyed(g, Y, dX, dA, dc) -> dict:
    e = q1a_entries(g)
    return {**values_of("q1a_y", Y, e["y"]), **values_of("q1a_dx", dX, e["dx"]), **values_of("q1a_dc", dc),
            **values_of("q1a_dA", dA, e["dA"])}


def _q1b_keyed(g, Y, dX) -> dict:
    e = q1b_entries(g)
    return {**values_of("q1b_y", Y, e["y"]), **values_of("q1b_dx", dX, e["dx"])}


def _q2_keyed(g, kernel, stride, padding, w_same, w_other, params, cut, out) -> dict:
    channels = np.shape(g["q2"]["x"])[1]
    keyed = {"q2_kernel_size": kernel, "q2_stride": stride, "q2_padding": padding, "q2_w_same": w_same}
    if channels > 1:
        keyed["q2_w_other"] = w_other
    keyed.update({"q2_params": params, "q2_out_size": cut})
    keyed.update(values_of("q2_y", out, [q2_entry(g)]))
    return keyed


def _q3_keyed(g, in_channels, out_channels, y) -> dict:
    return {"q3_in_channels": in_channels, "q3_out_channels": out_channels, **values_of("q3_y", y, q3_entries(g))}


def correct(g) -> dict:
    """Every key by the course's formulas in numpy."""
    A, c, b, beta, X, DY = _q1(g)
    k, image = _q2(g)
    W3, b3, x3 = _q3(g)
    half = x3.shape[0] // 2
    return {**_q1a_keyed(g, q1a_forward(A, c, b, X), q1a_dx(A, b, X, DY), DY.T @ (X * X), DY.sum(axis=0)),
            **_q1b_keyed(g, swish_forward(X, beta), DY * swish_derivative(X, beta)),
            **_q2_keyed(g, k, k, 0, 1 / k**2, 0.0, 0, cut_dimension(g)[1] // k, q2_pool(image, k)),
            **_q3_keyed(g, half, half, q3_y(W3, b3, x3))}


def blanks(r):
    g = r["givens"]
    qa, qb, q2, q3 = r["Q1a"], r["Q1b"], r["Q2"], r["Q3"]
    ea, eb = q1a_entries(g), q1b_entries(g)
    name = cut_dimension(g)[0]
    out_size = q2["output_shape"][2 if name == "H" else 3]
    c, p, q = q2_entry(g)
    y3 = np.asarray(q3["y"])[0]
    conv = q2["conv"]
    out = (blanks_of("Q1a(b)", "q1a_y", "Y", "Y", qa["y"], ea["y"])
           + blanks_of("Q1a(c)", "q1a_dx", "∂L/∂X", "∂L/∂X", qa["dx"], ea["dx"])
           + blanks_of("Q1a(d)", "q1a_dc", "∂L/∂c", "∂L/∂c", qa["dparams"]["c"])
           + blanks_of("Q1a(d)", "q1a_dA", "∂L/∂A", "∂L/∂A", qa["dparams"]["A"], ea["dA"])
           + blanks_of("Q1b(b)", "q1b_y", "Y", "Y", qb["y"], eb["y"])
           + blanks_of("Q1b(c)", "q1b_dx", "∂L/∂X", "∂L/∂X", qb["dx"], eb["dx"])
           + [blank("Q2(a)", "q2_kernel_size", "kernel_size", "kernel_size", conv["kernel_size"], 0.0),
              blank("Q2(a)", "q2_stride", "stride", "stride", conv["stride"], 0.0),
              blank("Q2(a)", "q2_padding", "padding", "padding", conv["padding"], 0.0),
              blank("Q2(b)", "q2_w_same", "weight[0,0,0,0]", "weight[0,0,0,0]", q2["weight"][0][0][0][0])])
    if len(q2["weight"]) > 1:
        out.append(blank("Q2(b)", "q2_w_other", "weight[0,1,0,0]", "weight[0,1,0,0]", q2["weight"][0][1][0][0]))
    out += [blank("Q2(c)", "q2_params", "broj parametara za učenje", "trainable parameters", q2["dense"]["params"], 0.0),
            blank("Q2(d)", "q2_out_size", f"{name}_out", f"{name}_out", out_size, 0.0),
            _tensor_blank("Q2(d)", "q2_y", np.asarray(q2["output"])[0], (c, p, q)),
            blank("Q3(b)", "q3_in_channels", "in_channels", "in_channels", q3["h_weight_shape"][1], 0.0),
            blank("Q3(b)", "q3_out_channels", "out_channels", "out_channels", q3["h_weight_shape"][0], 0.0),
            *(_tensor_blank("Q3(c)", "q3_y", y3, i) for i in q3_entries(g))]
    return out


def tensor_label(index) -> str:
    """A PyTorch tensor's entry as Q2 and Q3 name it: ``y[0,c,p,q]`` (0-based, the example first)."""
    return "y[" + ",".join(str(i) for i in (0, *index)) + "]"


def _tensor_blank(part, id, array, index):
    label = tensor_label(index)
    return blank(part, entry_id(id, index), label, label, np.asarray(array)[tuple(index)])


# --------------------------------------------------------------------------------------------
# The catalogue of common mistakes: each mistake's arrays (above), read at the entries asked.


def _read(name, alternatives: dict, entries: dict) -> dict:
    """``{blank id: value}`` of mistake ``name`` at the asked entries of each array it changes
    (``alternatives``: array → mistake → whole array; ``entries``: array → (blank id, indices));
    ``{}`` where it changes nothing."""
    out = {}
    for array, alts in alternatives.items():
        if alts.get(name) is not None:
            blank_id, indices = entries[array]
            out.update(values_of(blank_id, alts[name], indices))
    return out


def _q1a_mistake(name):
    def values(g):
        A, c, b, _, X, DY = _q1(g)
        alts, e = q1a_alternatives(g), q1a_entries(g)
        keys = {"y": q1a_forward(A, c, b, X), "dx": q1a_dx(A, b, X, DY), "dA": DY.T @ (X * X), "dc": DY.sum(axis=0)}
        changed = {array: kept(keys[array], a) for array, a in alts.items()}
        if not any(name in a for a in changed.values()):
            return {}
        return _read(name, changed, {"y": ("q1a_y", e["y"]), "dx": ("q1a_dx", e["dx"]), "dA": ("q1a_dA", e["dA"]),
                                  "dc": ("q1a_dc", list(np.ndindex(DY.shape[1:])))})
    return values


def _q1b_mistake(name):
    def values(g):
        _, _, _, beta, X, DY = _q1(g)
        alts, e = q1b_alternatives(g), q1b_entries(g)
        keys = {"y": swish_forward(X, beta), "dx": DY * swish_derivative(X, beta)}
        changed = {array: kept(keys[array], a) for array, a in alts.items()}
        if not any(name in a for a in changed.values()):
            return {}
        return _read(name, changed, {"y": ("q1b_y", e["y"]), "dx": ("q1b_dx", e["dx"])})
    return values


def _q2_output(name):
    def values(g):
        k, image = _q2(g)
        changed = kept(q2_pool(image, k), q2_alternatives(g)["y"])
        return values_of("q2_y", changed[name], [q2_entry(g)]) if name in changed else {}
    return values


def _q2_stride_default(g):
    k = _q2(g)[0]
    return {"q2_stride": 1.0, "q2_out_size": float(cut_dimension(g)[1] - k + 1)}


def _q2_ceil(g):
    k = _q2(g)[0]
    return {"q2_out_size": float(math.ceil(cut_dimension(g)[1] / k))}


def _q2_divide_by_k(g):
    return {"q2_w_same": 1 / _q2(g)[0], **_q2_output("divide_by_k")(g)}


def _q2_channel_mean(g):
    k, image = _q2(g)
    channels = image.shape[0]
    if channels == 1:
        return {}
    w = 1 / (channels * k**2)
    return {"q2_w_same": w, "q2_w_other": w, **_q2_output("channel_mean")(g)}


def _q2_weight_trainable(g):
    k, image = _q2(g)
    return {"q2_params": float(image.shape[0] ** 2 * k**2)}


def _q3_whole_c(g):
    c = np.shape(g["q3"]["x"])[1]
    return {"q3_in_channels": float(c), "q3_out_channels": float(c)}


def _q3_mistake(name):
    def values(g):
        W, b, x = _q3(g)
        half = x.shape[0] // 2
        changed = kept(q3_y(W, b, x)[half:], q3_alternatives(g)["y"])
        if name not in changed:
            return {}
        return {entry_id("q3_y", i): float(changed[name][(i[0] - half, *i[1:])]) for i in q3_entries(g)}
    return values


MISTAKES = (
    Mistake(name="official_jacobian", title=both("jakobijan iz službenog rješenja", "the official solution's Jacobian"),
            why=both("∂y/∂x = 2 A diag(x) + b I: A se množi matrično s diag(x), a b ide samo na dijagonalu; "
                     "`2 * A * np.diag(x) + b` množi po elementima i dodaje b svakom elementu",
                     "∂y/∂x = 2 A diag(x) + b I: A times diag(x) is a matrix product, and b goes on the diagonal "
                     "only; `2 * A * np.diag(x) + b` multiplies elementwise and adds b to every entry"),
            values=_q1a_mistake("official_jacobian")),
    Mistake(name="factor_two", title=both("zaboravljen faktor 2", "the factor 2 forgotten"),
            why=both("∂(x²)/∂x = 2x: ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y", "∂(x²)/∂x = 2x: ∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y"),
            values=_q1a_mistake("factor_two")),
    Mistake(name="b_term", title=both("zaboravljena derivacija člana b x", "the derivative of b x forgotten"),
            why=both("i član b x ovisi o x: ∂L/∂X ima pribrojnik b ∂L/∂Y", "the term b x depends on x too: ∂L/∂X has the "
                     "term b ∂L/∂Y"),
            values=_q1a_mistake("b_term")),
    Mistake(name="a_layout", title=both("A umjesto Aᵀ", "A instead of Aᵀ"),
            why=both("za retke X (jedan primjer po retku) y = A(x ⊙ x) postaje Y = (X ⊙ X) Aᵀ, a unatrag ∂L/∂Y A",
                     "for the rows of X (one example per row) y = A(x ⊙ x) becomes Y = (X ⊙ X) Aᵀ, and backwards "
                     "∂L/∂Y A"),
            values=_q1a_mistake("a_layout")),
    Mistake(name="dc_not_summed", title=both("∂L/∂c bez zbroja po minigrupi", "∂L/∂c without the sum over the minibatch"),
            why=both("pomak c dijele svi primjeri minigrupe: ∂L/∂c = Σ_n ∂L/∂Y_n, ne gradijent jednog primjera",
                     "every example of the minibatch shares c: ∂L/∂c = Σ_n ∂L/∂Y_n, not one example's gradient"),
            values=_q1a_mistake("dc_not_summed")),
    Mistake(name="da_transposed", title=both("transponirani ∂L/∂A", "∂L/∂A transposed"),
            why=both("∂L/∂A = ∂L/∂Yᵀ (X ⊙ X) ima oblik matrice A (M × D): redak po izlazu, stupac po ulazu",
                     "∂L/∂A = ∂L/∂Yᵀ (X ⊙ X) has the shape of A (M × D): a row per output, a column per input"),
            values=_q1a_mistake("da_transposed")),
    Mistake(name="beta_forgotten", title=both("β izostavljen", "β left out"),
            why=both("Swish je g(x) = x σ(βx): β množi x unutar sigmoide i u unaprijednom i u unatražnom prolazu",
                     "Swish is g(x) = x σ(βx): β multiplies x inside the sigmoid, forwards and backwards"),
            values=_q1b_mistake("beta_forgotten")),
    Mistake(name="chain_beta", title=both("β izostavljen iz derivacije", "β left out of the derivative"),
            why=both("derivacija σ(βx) po x je β σ(βx)(1 − σ(βx)) (pravilo ulančavanja): g'(x) = σ(βx) + βx σ(βx)(1 − σ(βx))",
                     "the derivative of σ(βx) by x is β σ(βx)(1 − σ(βx)) (the chain rule): g'(x) = σ(βx) + βx σ(βx)(1 − σ(βx))"),
            values=_q1b_mistake("chain_beta")),
    Mistake(name="no_product_rule", title=both("derivacija bez pravila umnoška", "the derivative without the product rule"),
            why=both("g(x) = x · σ(βx) je umnožak: g'(x) = σ(βx) + x · (σ(βx))' , a ne samo σ(βx)",
                     "g(x) = x · σ(βx) is a product: g'(x) = σ(βx) + x · (σ(βx))', not σ(βx) alone"),
            values=_q1b_mistake("no_product_rule")),
    Mistake(name="stride_default", title=both("korak 1 (zadana vrijednost nn.Conv2d)", "stride 1 (nn.Conv2d's default)"),
            why=both("sažimanje s korakom K pomiče okno za K: bez stride=K konvolucija klizi za 1 i okna se preklapaju",
                     "pooling with stride K moves the window by K: without stride=K the convolution slides by 1 and the "
                     "windows overlap"),
            values=_q2_stride_default),
    Mistake(name="ceil", title=both("nepotpuno okno uzeto u obzir", "a partial window kept"),
            why=both("bez nadopune konvolucija uzima samo cijela okna: izlaz ima ⌊H/K⌋ × ⌊W/K⌋ elemenata, ostatak otpada",
                     "without padding the convolution takes whole windows only: the output has ⌊H/K⌋ × ⌊W/K⌋ entries, "
                     "the rest is dropped"),
            values=_q2_ceil),
    Mistake(name="divide_by_k", title=both("1/K umjesto 1/K²", "1/K instead of 1/K²"),
            why=both("okno K × K ima K² elemenata: prosjek je njihov zbroj podijeljen s K²",
                     "a K × K window holds K² entries: their mean is their sum divided by K²"),
            values=_q2_divide_by_k),
    Mistake(name="channel_mean", title=both("prosjek po svim kanalima", "a mean over every channel"),
            why=both("sažimanje djeluje po kanalu: težina je 1/K² samo gdje je izlazni kanal jednak ulaznom (o = i), "
                     "a 0 drugdje", "pooling works per channel: the weight is 1/K² only where the output channel is "
                     "the input channel (o = i), and 0 elsewhere"),
            values=_q2_channel_mean),
    Mistake(name="weight_trainable", title=both("težina brojena kao parametar za učenje", "the weight counted as trainable"),
            why=both("težina sažimanja je nepromjenjiva (requires_grad=False): sloj nema parametara za učenje",
                     "the pooling weight is fixed (requires_grad=False): the layer has no trainable parameters"),
            values=_q2_weight_trainable),
    Mistake(name="whole_c", title=both("konvolucija na svih C kanala", "the convolution on all C channels"),
            why=both("h djeluje na x1, a x1 ima C/2 kanala; y2 = x2 + h(x1) ima ih također C/2",
                     "h acts on x1, which has C/2 channels; so does y2 = x2 + h(x1)"),
            values=_q3_whole_c),
    Mistake(name="relu_after", title=both("ReLU nakon konvolucije", "ReLU after the convolution"),
            why=both("h = Conv1×1 ∘ ReLU je kompozicija: najprije ReLU, zatim konvolucija, h(x1) = Conv(ReLU(x1))",
                     "h = Conv1×1 ∘ ReLU is a composition: ReLU first, then the convolution, h(x1) = Conv(ReLU(x1))"),
            values=_q3_mistake("relu_after")),
    Mistake(name="h_of_x2", title=both("h primijenjen na x2", "h applied to x2"),
            why=both("y2 = x2 + h(x1): h vidi prvu polovicu, inače se inverz ne bi mogao izračunati",
                     "y2 = x2 + h(x1): h sees the first half, or the inverse could not be computed"),
            values=_q3_mistake("h_of_x2")),
    Mistake(name="swapped", title=both("zamijenjene polovice", "the halves swapped"),
            why=both("y je spoj (y1, y2) tim redom: prvih C/2 kanala je y1 = x1, drugih C/2 je y2",
                     "y joins (y1, y2) in that order: the first C/2 channels are y1 = x1, the next C/2 are y2"),
            values=_q3_mistake("swapped")),
)

HINTS = {
    "Q1a(b)": both("Za retke X: Y = (X ⊙ X) Aᵀ + b X + c; provjerite kvadriranje po elementima i pribrajanje c svakom retku.",
                   "For the rows of X: Y = (X ⊙ X) Aᵀ + b X + c; check the elementwise square and c added to every row."),
    "Q1a(c)": both("Po primjeru ∂y/∂x = 2 A diag(x) + b I, a ∂L/∂x = ∂L/∂y · ∂y/∂x; za minigrupu "
                   "∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y.",
                   "Per example ∂y/∂x = 2 A diag(x) + b I and ∂L/∂x = ∂L/∂y · ∂y/∂x; for the minibatch "
                   "∂L/∂X = 2 X ⊙ (∂L/∂Y A) + b ∂L/∂Y."),
    "Q1a(d)": both("∂L/∂A = ∂L/∂Yᵀ (X ⊙ X) (oblik M × D), ∂L/∂c = Σ_n ∂L/∂Y_n.",
                   "∂L/∂A = ∂L/∂Yᵀ (X ⊙ X) (shape M × D), ∂L/∂c = Σ_n ∂L/∂Y_n."),
    "Q1b(b)": both("Y = X ⊙ σ(βX), po elementima.", "Y = X ⊙ σ(βX), elementwise."),
    "Q1b(c)": both("∂L/∂X = ∂L/∂Y ⊙ g'(X), g'(x) = σ(βx) + βx σ(βx)(1 − σ(βx)).",
                   "∂L/∂X = ∂L/∂Y ⊙ g'(X), g'(x) = σ(βx) + βx σ(βx)(1 − σ(βx))."),
    "Q2(a)": both("Okno K × K s korakom K, bez nadopune i bez pomaka.", "A K × K window with stride K, no padding and no bias."),
    "Q2(b)": both("Težina (C, C, K, K): 1/K² gdje je o = i, a 0 drugdje.", "The weight (C, C, K, K): 1/K² where o = i, 0 elsewhere."),
    "Q2(c)": both("Koliko elemenata modula ima requires_grad=True?", "How many of the module's entries have requires_grad=True?"),
    "Q2(d)": both("Izlaz ima ⌊H/K⌋ × ⌊W/K⌋ elemenata po kanalu; svaki je prosjek jednog okna K × K svog kanala.",
                  "The output has ⌊H/K⌋ × ⌊W/K⌋ entries per channel; each is the mean of one K × K window of its channel."),
    "Q3(b)": both("h preslikava x1 (C/2 kanala) u C/2 kanala.", "h maps x1 (C/2 channels) to C/2 channels."),
    "Q3(c)": both("y2 = x2 + W_h ReLU(x1) + b_h po pikselu; y1 = x1.", "y2 = x2 + W_h ReLU(x1) + b_h per pixel; y1 = x1."),
}

FAMILY = Family(propose=propose, screen=screen, group=group, verify=verify, answers=answers, blanks=blanks,
                correct=correct, mistakes=MISTAKES, hints=HINTS, stress_cost=7)
