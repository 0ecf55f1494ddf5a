"""The lab-2 quiz, Q1–Q3: formulas, a forward/backward example with its check, the pooling
equality and the coupling round trip — and where the official solutions go wrong."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.check import check_layer_at
from jaxdl.errors import InputError
from jaxdl.exams._common import without_docstrings, code_block, display, erratum, lab_source, matrix, num, tex, tolist
from jaxdl.exams.lang import Lang, both
from jaxdl.exams._legacy_records import Body, Part, Question
from jaxdl.layers import additive_coupling, avg_pool2d, conv2d, conv_avg_pool2d, quadratic, swish

def read_config(cfg) -> dict:
    """Validates the quiz's config: ``q1`` (Q1a's and Q1b's ``A (D, D)``, ``c (D)``, ``b``, ``beta``,
    ``x (N, D)``, ``dy (N, D)``), ``q2`` (``K``, an image batch ``x (N, C, H, W)``) and ``q3`` (the
    1×1 convolution ``W (C/2, C/2)``, ``b (C/2)``, ``x (N, C, H, W)``, C even)."""
    fields = {"q1": {"A", "c", "b", "beta", "x", "dy"}, "q2": {"K", "x"}, "q3": {"W", "b", "x"}}
    unknown = sorted(set(cfg.keys()) - set(fields))
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam quiz; known: {sorted(fields)}")
    for group, known in fields.items():
        extra = sorted(set(cfg[group].keys()) - known)
        if extra:
            raise InputError(f"config: unknown field {group}.{extra[0]!r}; known: {sorted(known)}")
    x = matrix(cfg, "q1.x", (None, None))
    d = x.shape[1]
    out = {"A": matrix(cfg, "q1.A", (d, d)), "c": matrix(cfg, "q1.c", (d,)), "x": x, "dy": matrix(cfg, "q1.dy", x.shape)}
    for field in ("b", "beta"):
        v = cfg.q1[field]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise InputError(f"config: q1.{field} must be a finite number; got {v!r}")
        out[field] = float(v)
    k = cfg.q2.K
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"config: q2.K must be an integer >= 1; got {k!r}")
    image = matrix(cfg, "q2.x", ndim=4)
    if image.shape[2] < k or image.shape[3] < k:
        raise InputError(f"config: q2.x must be at least K × K = {k} × {k} per channel; got shape {image.shape}")
    x3 = matrix(cfg, "q3.x", ndim=4)
    if x3.shape[1] % 2:
        raise InputError(f"config: q3.x must have an even number of channels C; got shape {x3.shape}")
    half = x3.shape[1] // 2
    out.update(K=k, image=image, x3=x3, W3=matrix(cfg, "q3.W", (half, half)), b3=matrix(cfg, "q3.b", (half,)))
    return out


def _layer_demo(layer, params, x, dy):
    with jax.enable_x64(True):
        p = jax.tree_util.tree_map(jnp.asarray, params)
        y = layer.apply(p, jnp.asarray(x))
        grads, dx = layer.backward(p, jnp.asarray(x), jnp.asarray(dy))
    check = check_layer_at(layer, params, x, dy)
    return {
        "formula": layer.formula, "x": tolist(x), "y": tolist(y), "dy": tolist(dy), "dx": tolist(dx),
        "dparams": tolist(grads), "max_abs_err_vs_autodiff": check.max_abs_err_vs_autodiff,
        "max_abs_err_vs_finite_diff": check.max_abs_err_vs_finite_diff, "ok": check.ok,
    }


def _seed_quadratic_errors(A, b, X, DY, dx_true, dc_true):
    # The official backward_inputs, per example: grads[i] @ (2 * A * diag(x_i) + b) — an
    # elementwise A ⊙ diag(x) and a scalar b added to every entry — and grad_c = grads.
    seed_dx = np.stack([DY[i] @ (2 * A * np.diag(X[i]) + b) for i in range(len(X))])
    return float(np.max(np.abs(seed_dx - dx_true))), DY.shape, np.shape(dc_true)


def solve(cfg) -> dict:
    g = read_config(cfg)
    A, C, B, BETA, X, DY = g["A"], g["c"], g["b"], g["beta"], g["x"], g["dy"]
    q1a = _layer_demo(quadratic(B), {"A": A, "c": C}, X, DY)
    q1b = _layer_demo(swish(BETA), {}, X, DY)

    # Q2: both convolution forms equal average pooling, and have no trainable parameters.
    images, k = g["image"], g["K"]
    channels = images.shape[1]
    with jax.enable_x64(True):
        ref = jax.lax.reduce_window(jnp.asarray(images), 0.0, jax.lax.add, (1, 1, k, k), (1, 1, k, k), "VALID") / k**2
        q2 = {}
        for form in ("dense", "depthwise"):
            layer = conv_avg_pool2d(channels, k, form=form)
            _, params = layer.init(jax.random.PRNGKey(0), images.shape)
            out = layer.apply(params, jnp.asarray(images))
            if form == "dense":
                output = out
            q2[form] = {"params": len(jax.tree_util.tree_leaves(params)),
                        "max_abs_err_vs_reduce_window": float(jnp.max(jnp.abs(out - ref)))}
        q2["avg_pool2d"] = {"params": 0, "max_abs_err_vs_reduce_window": float(jnp.max(jnp.abs(
            avg_pool2d(k).apply({}, jnp.asarray(images)) - ref)))}
    h, w = images.shape[2:]
    dropped = [f"{name} = {v} is not a multiple of K = {k}: the last {v % k} {what}{'s' if v % k > 1 else ''} dropped"
               for name, v, what in (("H", h, "row"), ("W", w, "column")) if v % k]
    q2.update(K=k, x=tolist(images), output=tolist(output), output_shape=list(ref.shape), input_shape=list(images.shape),
              note="; ".join(dropped) + " (floor), as reduce_window does" if dropped else "H and W are multiples of K")

    # Q3: the coupling, its inverse and log-det.
    x = g["x3"]
    coupling = additive_coupling(x.shape[1])
    with jax.enable_x64(True):
        params = {"relu_0": {}, "conv2d_1": {"W": jnp.asarray(g["W3"][:, :, None, None]), "b": jnp.asarray(g["b3"])}}
        y = coupling.apply(params, jnp.asarray(x))
        back = coupling.inverse(params, y)
        half = x.shape[1] // 2
        q3 = {
            "W": tolist(g["W3"]), "b": tolist(g["b3"]), "x": tolist(x), "y": tolist(y),
            "h_of_x1": tolist(y[:, half:] - x[:, half:]),
            "round_trip_max_abs_err": float(jnp.max(jnp.abs(back - x))),
            "log_det": tolist(coupling.log_det(params, jnp.asarray(x))),
            "y1_equals_x1": bool(jnp.all(y[:, :half] == x[:, :half])),
            "h_weight_shape": list(params["conv2d_1"]["W"].shape),
        }
    # The official Q3 solution builds h's convolution with C input channels and applies it to
    # x1, which has C/2: the convolution cannot take that input.
    wide = conv2d(x.shape[1], 1)
    _, wide_params = wide.init(jax.random.PRNGKey(0), x.shape)
    try:
        wide.apply(wide_params, jnp.asarray(x[:, :half]))
        seed_q3_error = "none (unexpected)"
    except ValueError as e:
        seed_q3_error = str(e)

    seed_dx_err, dc_seed_shape, dc_shape = _seed_quadratic_errors(A, B, X, DY, np.asarray(q1a["dx"]),
                                                                  q1a["dparams"]["c"])
    seed_swish_shape = (X.shape[1], DY.shape[1])  # grad_layer.T @ grads: (D, N) @ (N, D)
    # Equation (4), ∂L/∂X = ∂L/∂Y [∂Y/∂X]ᵀ, per example with equation (3)'s Jacobian (M × D).
    jacobians = [2 * A * X[i][None, :] + B * np.eye(len(A)) for i in range(len(X))]
    eq4 = np.stack([DY[i] @ jacobians[i].T for i in range(len(X))])
    eq4_err = float(np.max(np.abs(eq4 - np.asarray(q1a["dx"]))))
    try:
        from jaxdl.exams.torch_answers import official_q2_error

        q2_evidence = f"constructing the official class (syntax mended only) raises {official_q2_error()}"
    except ImportError:
        q2_evidence = ("not run here: PyTorch is not installed (pip install 'jaxdl[torch]'); "
                       "jaxdl/exams/torch_answers/official_q2.py is the transcription to run")
    from jaxdl.exams import official

    try:
        q2_self = official.q2_parameters_without_self()
    except ImportError:
        q2_self = "not run here: PyTorch is not installed (pip install 'jaxdl[torch]')"
    q2_evidence_hr = q2_evidence.replace("constructing the official class (syntax mended only) raises",
                                         "konstruiranje službenog razreda (samo s popravljenom sintaksom) baca")
    errata = [
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
        erratum(
            "Q1a", "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                   "bias_initializer_fn=zero_init, b)",
            "a parameter without a default cannot follow defaulted ones: b goes before them (or gets a default)",
            f"compiling the official signature: {official.q1a_signature()}",
            hr={"seed": "def __init__(self, input_layer, num_outputs, name, weights_initializer_fn=..., "
                        "bias_initializer_fn=zero_init, b)",
                "verified": "parametar bez zadane vrijednosti ne može doći iza onih sa zadanom: b ide ispred njih "
                            "(ili dobiva zadanu vrijednost)",
                "evidence": f"prevođenje službenog potpisa: {official.q1a_signature()}"},
        ),
        erratum(
            "Q1a", "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
            "the call must be closed: ...fan_in=self.num_inputs)",
            f"compiling the official lines: {official.q1a_unclosed()}",
            hr={"seed": "self.A = weights_initializer_fn([num_outputs, self.num_inputs], fan_in=self.num_inputs",
                "verified": "zagrada poziva mora biti zatvorena: ...fan_in=self.num_inputs)",
                "evidence": f"prevođenje službenih redaka: {official.q1a_unclosed()}"},
        ),
        erratum(
            "Q1a", "backward_inputs: ... + b) for i in range(N)",
            "N and b are attributes of the layer: self.N (or grads.shape[0]) and self.b",
            f"the official backward_inputs (its syntax mended), called: {official.q1a_undefined_names()}",
            hr={"seed": "backward_inputs: ... + b) for i in range(N)",
                "verified": "N i b su atributi sloja: self.N (ili grads.shape[0]) i self.b",
                "evidence": f"pozvan službeni backward_inputs (s popravljenom sintaksom): {official.q1a_undefined_names()}"},
        ),
        erratum(
            "Q1a", "any num_outputs is accepted, and forward computes ... + inputs * self.b + self.c",
            "b x is of size D and A(x ⊙ x) of size M: as written (the forward always adds b x) the layer needs "
            "M = D, and should refuse other shapes when it is built",
            f"built with M = 2 outputs for D = 3 inputs, the official forward raises {official.q1a_rectangular()}",
            hr={"seed": "prihvaća se bilo koji num_outputs, a forward računa ... + inputs * self.b + self.c",
                "verified": "b x je dimenzije D, a A(x ⊙ x) dimenzije M: kako je napisan (forward uvijek dodaje b x) "
                            "sloj zahtijeva M = D i treba odbiti druge dimenzije već pri izgradnji",
                "evidence": f"izgrađen s M = 2 izlaza za D = 3 ulaza, službeni forward baca {official.q1a_rectangular()}"},
        ),
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
            f"compiling the official method: {official.q1b_bare_line()}",
            hr={"seed": "u backward_inputs redak d swish(x)/dx = sigm(beta*x) + ... (nije komentar)",
                "verified": "formula u kodu ide u komentar (# d swish(x)/dx = ...)",
                "evidence": f"prevođenje službene metode: {official.q1b_bare_line()}"},
        ),
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
            f"compiling the official lines: {official.q2_unclosed()}; evaluating the call: {official.q2_padding()}",
            assumes="the seed's text as transcribed (an O where the solution means 0)",
            hr={"seed": "self.conv = nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=O, bias=False",
                "verified": "zagrada poziva mora biti zatvorena, a nadopuna je broj 0, a ne slovo O",
                "evidence": f"prevođenje službenih redaka: {official.q2_unclosed()}; izvođenje poziva: {official.q2_padding()}",
                "assumes": "službeni tekst kako je prepisan (slovo O ondje gdje je očito mišljena nula)"},
        ),
        erratum(
            "Q3", "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), applied to x1",
            "h maps the C/2 channels of x1 to C/2 channels: Conv2d(C/2, C/2, 1)",
            f"a 1×1 convolution built for C = {x.shape[1]} inputs, given x1 with {half} channels: {seed_q3_error}",
            assumes="in_channels is C, the channel count of the layer's input x (as the question's (N, C, H, W)); "
                    "were it C/2, the official code would be right",
            hr={"seed": "self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=1), primijenjen na x1",
                "verified": "h preslikava C/2 kanala od x1 u C/2 kanala: Conv2d(C/2, C/2, 1)",
                "evidence": f"konvolucija 1×1 izgrađena za C = {x.shape[1]} ulaza, a dobiva x1 s {half} kanala: {seed_q3_error}",
                "assumes": "in_channels je C, broj kanala ulaza x sloja (kao (N, C, H, W) u zadatku); da je C/2, "
                           "službeni kod bio bi točan"},
        ),
    ]
    q1a["givens"] = {"A": tolist(A), "c": tolist(C), "b": B}
    q1b["givens"] = {"beta": BETA}
    givens = {"q1": {"A": tolist(A), "c": tolist(C), "b": B, "beta": BETA, "x": tolist(X), "dy": tolist(DY)},
              "q2": {"K": k, "x": tolist(images)}, "q3": {"W": tolist(g["W3"]), "b": tolist(g["b3"]), "x": tolist(x)}}
    sig = 1 / (1 + np.exp(-BETA * X))
    q1b["g_prime"] = tolist(sig + BETA * X * sig * (1 - sig))
    return {"givens": givens, "Q1a": q1a, "Q1b": q1b, "Q2": q2, "Q3": q3, "errata": errata,
            "ok": q1a["ok"] and q1b["ok"] and max(v["max_abs_err_vs_reduce_window"] for k, v in q2.items()
                                                     if isinstance(v, dict)) < 1e-12
            and q3["round_trip_max_abs_err"] < 1e-12}


def report(result: dict) -> str:
    fmt = lambda v: np.array2string(np.asarray(v), precision=4, separator=", ", suppress_small=True).replace("\n", "")  # noqa: E731
    lines = ["Quiz Q1–Q3 (lab 2)"]
    gv = result["givens"]["q1"]
    for key, title in (("Q1a", f"Quadratic (b = {gv['b']:g})"), ("Q1b", f"Swish (β = {gv['beta']:g})")):
        r = result[key]
        lines += [
            f"  {key} {title}: {r['formula']}",
            f"      X = {fmt(r['x'])} → Y = {fmt(r['y'])}",
            f"      ∂L/∂Y = {fmt(r['dy'])} → ∂L/∂X = {fmt(r['dx'])}"
            + "".join(f",  ∂L/∂{k} = {fmt(v)}" for k, v in r["dparams"].items()),
            f"      |manual − jax.vjp| = {r['max_abs_err_vs_autodiff']:.1e}, |· − finite diff| = "
            f"{r['max_abs_err_vs_finite_diff']:.1e}: {'ok' if r['ok'] else 'FAIL'}",
        ]
    q2 = result["Q2"]
    lines.append(
        f"  Q2 ConvAvgPool2d, K = {q2['K']} on {tuple(q2['input_shape'])} → {tuple(q2['output_shape'])}: dense form (C, C, K, K) "
        f"error {q2['dense']['max_abs_err_vs_reduce_window']:.1e}, depthwise (C, 1, K, K) "
        f"{q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}, jaxdl's avg_pool2d "
        f"{q2['avg_pool2d']['max_abs_err_vs_reduce_window']:.1e} vs reduce_window; trainable params: "
        f"{q2['dense']['params']}; {q2['note']}"
    )
    q3 = result["Q3"]
    lines.append(
        f"  Q3 additive coupling (C = {np.shape(q3['x'])[1]}; h = Conv1×1 {tuple(q3['h_weight_shape'])} ∘ ReLU): inverse x1 = y1, "
        f"x2 = y2 − h(y1); round trip error {q3['round_trip_max_abs_err']:.1e}, log-det {fmt(q3['log_det'])}, "
        f"y1 = x1: {q3['y1_equals_x1']}"
    )
    return "\n".join(lines)


_METHODS = lambda init, fwd, bi, bp: (  # noqa: E731 - the lab's Layer methods, with the official points
    Part("a", init, both("konstruktor `__init__`", "the constructor `__init__`")),
    Part("b", fwd, both("`forward(inputs)`", "`forward(inputs)`")),
    Part("c", bi, both("`backward_inputs(grads)`: gradijent po ulazu", "`backward_inputs(grads)`: the gradient by the input")),
    Part("d", bp, both("`backward_params(grads)`: gradijenti po parametrima", "`backward_params(grads)`: the gradients by "
                       "the parameters")))
_LAB_STEM = both("Izvedbu temeljite na NumPyju i sučelju `Layer` iz druge laboratorijske vježbe; na ulaz sloja dolaze "
                 "minigrupe 1D podataka kao matrice $N \\times D$.",
                 "Base the implementation on numpy and the `Layer` interface of lab 2; the layer's input is minibatches "
                 "of 1D data as $N \\times D$ matrices.")

QUESTIONS = (
    Question("Q1a", both("Kvadratni sloj", "The quadratic layer"), 12,
             both(r"Predložite izvedbu sloja $F(\mathbf{x}) = \mathbf{A}(\mathbf{x} \odot \mathbf{x}) + b\mathbf{x} + "
                  r"\mathbf{c}$, gdje su $\mathbf{A}$ i $\mathbf{c}$ parametri sloja, a $b$ hiperparametar. " + _LAB_STEM["hr"],
                  r"Propose an implementation of the layer $F(\mathbf{x}) = \mathbf{A}(\mathbf{x} \odot \mathbf{x}) + "
                  r"b\mathbf{x} + \mathbf{c}$, where $\mathbf{A}$ and $\mathbf{c}$ are the layer's parameters and $b$ a "
                  r"hyperparameter. " + _LAB_STEM["en"]),
             _METHODS(2, 2, 4, 4), givens="chosen"),
    Question("Q1b", both("Aktivacijska funkcija Swish", "The Swish activation"), 10,
             both(r"Predložite izvedbu aktivacijske funkcije Swish $g(x, \beta) = x \cdot \sigma(\beta x)$, gdje je "
                  r"$\sigma$ sigmoida, a $\beta$ hiperparametar. " + _LAB_STEM["hr"],
                  r"Propose an implementation of the Swish activation $g(x, \beta) = x \cdot \sigma(\beta x)$, where "
                  r"$\sigma$ is the sigmoid and $\beta$ a hyperparameter. " + _LAB_STEM["en"]),
             _METHODS(2, 2, 4, 2), givens="chosen"),
    Question("Q2", both("Sažimanje prosjekom konvolucijskim slojem", "Average pooling from a convolution layer"), 10,
             both(r"Dovršite razred `ConvAvgPool2d(channels, K)` u PyTorchu tako da sažima prosjekom u prozoru "
                  r"$K \times K$ s korakom $K$ pomoću sloja `nn.Conv2d`; na ulaz dolaze minigrupe slika "
                  r"$N \times C \times H \times W$. Treba popuniti argumente konvolucije i metode `init_weight` "
                  r"(vraća težinu dimenzija $(C_{out}, C_{in}, K, K)$), `parameters` i `forward`.",
                  r"Complete the PyTorch class `ConvAvgPool2d(channels, K)` so that it does average pooling over "
                  r"$K \times K$ windows with stride $K$ by means of an `nn.Conv2d` layer; its input is minibatches of "
                  r"images $N \times C \times H \times W$. The convolution's arguments are to be filled in, and the "
                  r"methods `init_weight` (returns the weight of shape $(C_{out}, C_{in}, K, K)$), `parameters` and "
                  r"`forward`."),
             (Part("a", 3, both("konstruktor i argumenti `nn.Conv2d`", "the constructor and the arguments of `nn.Conv2d`")),
              Part("b", 4, both("`init_weight`", "`init_weight`")), Part("c", 1, both("`parameters`", "`parameters`")),
              Part("d", 2, both("`forward`", "`forward`"))), givens="chosen"),
    Question("Q3", both("Aditivni sloj sprezanja i njegov inverz", "Additive coupling and its inverse"), 10,
             both(r"Tenzor $x$ dimenzija $(N, C, H, W)$, uz paran $C$, dijeli se po kanalima na dvije polovice "
                  r"$x_1, x_2$; zatim $y_1 = x_1$, $y_2 = x_2 + h(x_1)$ i $y$ je spoj $(y_1, y_2)$ po kanalima. Izvedite "
                  r"taj niz transformacija razredom koji nasljeđuje `torch.nn.Module`, uz "
                  r"$h = \mathrm{Conv}_{1 \times 1} \circ \mathrm{ReLU}$. Bonus: (i) algebarski odredite inverz, "
                  r"(ii) dodajte metodu `inverse`.",
                  r"A tensor $x$ of shape $(N, C, H, W)$, with $C$ even, is split along the channels into two equal "
                  r"halves $x_1, x_2$; then $y_1 = x_1$, $y_2 = x_2 + h(x_1)$, and $y$ joins $(y_1, y_2)$ along the "
                  r"channels. Implement this sequence as a class inheriting `torch.nn.Module`, with "
                  r"$h = \mathrm{Conv}_{1 \times 1} \circ \mathrm{ReLU}$. Bonus: (i) derive the inverse "
                  r"algebraically, (ii) add an `inverse` method."),
             (Part("a", 1, both("nasljeđivanje `nn.Module`", "inheriting `nn.Module`")),
              Part("b", 3, both("konstruktor", "the constructor")), Part("c", 6, both("`forward`", "`forward`")),
              Part("i", None, both("bonus: inverz, algebarski", "bonus: the inverse, algebraically")),
              Part("ii", None, both("bonus: metoda `inverse`", "bonus: an `inverse` method"))),
             givens="chosen", bonus=6),
)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """The quiz's solutions in ``lang``: Q1a, Q1b (numpy classes), Q2, Q3 (PyTorch modules), worked."""
    from jaxdl.exams import torch_answers

    del figures
    s_ = lang.s
    a, b, q2, q3 = result["Q1a"], result["Q1b"], result["Q2"], result["Q3"]
    ga = a["givens"]
    dl = lambda v: rf"\frac{{\partial L}}{{\partial {v}}}"  # noqa: E731

    def verified(r, layer):
        return s_(f"Izračunano u float64 jaxdl-ovim slojem `{layer}` (`jaxdl exam quiz`): ručni unatražni prolaz prema "
                  f"`jax.vjp` odstupa najviše {r['max_abs_err_vs_autodiff']:.1e}, prema konačnim razlikama "
                  f"{r['max_abs_err_vs_finite_diff']:.1e}. Razred u NumPyju prolazi `jaxdl check-numpy`.",
                  f"Computed in float64 by jaxdl's `{layer}` layer (`jaxdl exam quiz`): the manual backward pass is "
                  f"within {r['max_abs_err_vs_autodiff']:.1e} of `jax.vjp` and {r['max_abs_err_vs_finite_diff']:.1e} "
                  f"of finite differences. The numpy class passes `jaxdl check-numpy`.")

    q1a_givens = "\n\n".join([
        s_(f"$b = {num(ga['b'])}$, $N = {len(a['x'])}$ "
           f"{lang.count(len(a['x']), 'primjer', 'primjera', 'primjera').split(' ', 1)[1]}, $M = D = {len(ga['A'])}$:",
           f"$b = {num(ga['b'])}$, $N = {len(a['x'])}$ example{'s' if len(a['x']) != 1 else ''}, $M = D = {len(ga['A'])}$:"),
        display(f"X = {tex(a['x'])}", f"A = {tex(ga['A'])}", f"c = {tex(ga['c'], row=True)}", f"{dl('Y')} = {tex(a['dy'])}"),
    ])
    q1a_steps = {
        "": "\n\n".join([
            s_("Po primjeru (stupac $x$ veličine $D$): $y = A z + b x + c$ uz $z = x \\odot x$, pa je "
               "$\\partial z / \\partial x = 2 \\operatorname{diag}(x)$, a jakobijan ($M \\times D$; $b x$ zahtijeva "
               "$M = D$) je",
               "Per example (a column $x$ of size $D$): $y = A z + b x + c$ with $z = x \\odot x$, so "
               "$\\partial z / \\partial x = 2 \\operatorname{diag}(x)$ and the Jacobian ($M \\times D$; $b x$ needs "
               "$M = D$) is"),
            display(r"\frac{\partial y}{\partial x} = 2 A \operatorname{diag}(x) + b I"),
            s_("Retčani gradijent koji dolazi iz sljedećeg sloja množi jakobijan slijeva, "
               "$\\partial L / \\partial x = \\partial L / \\partial y \\cdot \\partial y / \\partial x$. Za minigrupu "
               "$X$ ($N \\times D$, po jedan primjer u svakom retku) uz $Y = (X \\odot X) A^\\top + b X + c$:",
               "A row vector of upstream gradients goes through it from the left, "
               "$\\partial L / \\partial x = \\partial L / \\partial y \\cdot \\partial y / \\partial x$. For a "
               "minibatch $X$ ($N \\times D$, one example per row), with $Y = (X \\odot X) A^\\top + b X + c$:"),
            display(rf"{dl('X')} = 2 X \odot \left({dl('Y')} A\right) + b\, {dl('Y')}",
                    rf"{dl('A')} = {dl('Y')}^\top (X \odot X)", rf"{dl('c')} = \sum_n {dl('Y_n')}"),
            s_("Za zadane vrijednosti:", "On the givens:"),
            display(f"Y = {tex(a['y'])}", f"{dl('X')} = {tex(a['dx'])}"),
            display(f"{dl('A')} = {tex(a['dparams']['A'])}", f"{dl('c')} = {tex(a['dparams']['c'], row=True)}"),
        ]),
    }
    q1a_answers = {
        "a": s_("pamti $A$ ($M \\times D$), $c$ ($M$) i $b$; zahtijeva $M = D$ za bilo koji $b$ jer se $b x$ uvijek "
                "dodaje (razred ispod odbija $M \\neq D$).",
                "keeps $A$ ($M \\times D$), $c$ ($M$) and $b$; it requires $M = D$ whatever $b$ is, since $b x$ is always "
                "added (the class below refuses $M \\neq D$)."),
        "b": r"$Y = (X \odot X) A^\top + b X + c$",
        "c": rf"${dl('X')} = 2 X \odot ({dl('Y')} A) + b\, {dl('Y')}$",
        "d": rf"${dl('A')} = {dl('Y')}^\top (X \odot X)$, ${dl('c')} = \sum_n {dl('Y_n')}$",
    }
    q1a = Body(q1a_givens, q1a_steps, q1a_answers, verified(a, "quadratic"),
               [num(v) for v in np.asarray(a["dx"]).reshape(-1)[:3]],
               s_("Razred u NumPyju (sučelje `Layer` iz vježbe):", "The numpy class (the lab's `Layer` interface):")
               + "\n\n" + code_block(without_docstrings(lab_source("Quadratic"))))

    q1b_givens = s_(f"$\\beta = {num(b['givens']['beta'])}$ i isti $X$ i ${dl('Y')}$ kao u Q1a.",
                    f"$\\beta = {num(b['givens']['beta'])}$ and the same $X$ and ${dl('Y')}$ as in Q1a.")
    q1b_steps = {"": "\n\n".join([
        display(r"g'(x) = \sigma(\beta x) + \beta x\, \sigma(\beta x) (1 - \sigma(\beta x))",
                rf"{dl('X')} = {dl('Y')} \odot g'(X)"),
        s_("po elementima: Swish nema parametara i svaki izlaz ovisi samo o svom ulazu. Za zadane vrijednosti:",
           "elementwise: Swish has no parameters, and each output depends on its own input only. On the givens:"),
        display(f"Y = {tex(b['y'])}", f"g'(X) = {tex(b['g_prime'])}", f"{dl('X')} = {tex(b['dx'])}"),
    ])}
    q1b_answers = {
        "a": s_("pamti $\\beta$; nema parametara.", "keeps $\\beta$; no parameters."),
        "b": r"$Y = X \odot \sigma(\beta X)$",
        "c": rf"${dl('X')} = {dl('Y')} \odot [\sigma(\beta X) + \beta X \odot \sigma(\beta X) \odot (1 - \sigma(\beta X))]$",
        "d": s_("nema parametara: vraća `None`.", "no parameters: returns `None`."),
    }
    q1b = Body(q1b_givens, q1b_steps, q1b_answers, verified(b, "swish"),
               [num(v) for v in np.asarray(b["dx"]).reshape(-1)[:3]],
               s_("Razred u NumPyju:", "The numpy class:") + "\n\n" + code_block(without_docstrings(lab_source("Swish"))))

    k, shape = q2["K"], tuple(q2["input_shape"])
    notes = [(name, v) for name, v in (("H", shape[2]), ("W", shape[3])) if v % k]
    floor_hr = ", ".join(f"${n} = {v}$" for n, v in notes)
    q2_givens = "\n\n".join([
        s_(f"$C = {shape[1]}$ kanala, $K = {k}$, ulaz dimenzija {shape}"
           + (f": {floor_hr} nije višekratnik od $K$." if len(notes) == 1 else
              f": {floor_hr} nisu višekratnici od $K$." if notes else "."),
           f"$C = {shape[1]}$ channels, $K = {k}$, an input of shape {shape}"
           + (f": {floor_hr} {'is not a multiple' if len(notes) == 1 else 'are not multiples'} of $K$." if notes else ".")),
        display(*[rf"x_{{0, {c}}} = {tex(np.asarray(q2['x'])[0, c])}" for c in range(shape[1])]),
    ])
    q2_steps = {"": "\n\n".join([
        s_("Težina $(C_{out}, C_{in}, K, K)$ ima vrijednost $1/K^2$ na mjestima gdje je indeks izlaznog kanala jednak "
           "indeksu ulaznog ($o = i$), a drugdje 0, pa izlazni kanal $o$ usrednjava prozor $K \\times K$ "
           "odgovarajućeg ulaznog kanala:",
           "The weight $(C_{out}, C_{in}, K, K)$ holds $1/K^2$ where the output and input channel indices are equal "
           "($o = i$) and 0 elsewhere, so output channel $o$ averages the $K \\times K$ window of its own input "
           "channel:"),
        display(r"W_{o, i, :, :} = \frac{[o = i]}{K^2}",
                r"y_{n, o, p, q} = \frac{1}{K^2} \sum_{u, v < K} x_{n, o, pK + u, qK + v}"),
        s_("Težina se ne uči: to je `nn.Parameter` s `requires_grad=False`, a `parameters()` ne vraća ništa. "
           f"Izlaz ima dimenzije {tuple(q2['output_shape'])}"
           + (": ono što ne stane u cijeli prozor otpada (zaokruživanje nadolje)." if notes else "."),
           "The weight is not trained: it is an `nn.Parameter` with `requires_grad=False`, and `parameters()` returns "
           f"nothing. The output has shape {tuple(q2['output_shape'])}"
           + (": what does not fill a whole window is dropped (floor)." if notes else ".")),
        s_("Za zadani ulaz:", "For the given input:"),
        display(*[rf"y_{{0, {c}}} = {tex(np.asarray(q2['output'])[0, c])}" for c in range(shape[1])]),
    ])}
    q2_answers = {
        "a": "`nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=0, bias=False)`",
        "b": r"$W_{o, i} = [o = i] / K^2$ " + s_("kao `nn.Parameter(..., requires_grad=False)`",
                                                 "as `nn.Parameter(..., requires_grad=False)`"),
        "c": s_("prazna lista: ništa se ne uči.", "an empty list: nothing is trained."),
        "d": "`return self.conv(x)`",
    }
    q2_verified = s_(
        f"jaxdl-ov gusti oblik (`conv_avg_pool2d`) odstupa od usrednjavanja s `lax.reduce_window` "
        f"{q2['dense']['max_abs_err_vs_reduce_window']:.1e}, grupirani oblik ($C$ grupa, težina $(C, 1, K, K)$, "
        f"$C$ puta manje posla) {q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}; parametara za učenje: "
        f"{q2['dense']['params']}. Modul u PyTorchu testiran je prema `conv_avg_pool2d` (izlaz i gradijent).",
        f"jaxdl's dense form (`conv_avg_pool2d`) differs from `lax.reduce_window` averaging by "
        f"{q2['dense']['max_abs_err_vs_reduce_window']:.1e}, the grouped form ($C$ groups, weight $(C, 1, K, K)$, $C$ "
        f"times less work) by {q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}; trainable parameters: "
        f"{q2['dense']['params']}. The PyTorch module is tested against `conv_avg_pool2d` (output and gradient).")
    q2b = Body(q2_givens, q2_steps, q2_answers, q2_verified, ["0"],
               s_("Modul u PyTorchu:", "The PyTorch module:") + "\n\n" + code_block(without_docstrings(torch_answers.source("conv_avg_pool"))))

    x3 = np.asarray(q3["x"])
    shape3 = tuple(x3.shape)
    q3_givens = "\n\n".join([
        s_(f"$C = {shape3[1]}$, ulaz dimenzija {shape3}; $h$ je konvolucija $1 \\times 1$ s težinom $W_h$ "
           f"(${shape3[1] // 2} \\times {shape3[1] // 2}$, izlazni kanal po retku) i pomakom $b_h$ nakon ReLU-a:",
           f"$C = {shape3[1]}$, an input of shape {shape3}; $h$ is a $1 \\times 1$ convolution with weight $W_h$ "
           f"(${shape3[1] // 2} \\times {shape3[1] // 2}$, one output channel per row) and bias $b_h$ after a ReLU:"),
        display(f"W_h = {tex(q3['W'])}", f"b_h = {tex(q3['b'])}"),
        display(*[rf"x_{{0, {c}}} = {tex(x3[0, c])}" for c in range(shape3[1])]),
    ])
    q3_steps = {"": "\n\n".join([
        s_("$h$ preslikava $C/2$ kanala u $C/2$ kanala. **Inverz** (bonus i): iz $y_1 = x_1$ odmah slijedi $x_1$, "
           "pa je $h(x_1) = h(y_1)$ poznato:",
           "$h$ maps $C/2$ channels to $C/2$ channels. **Inverse** (bonus i): $y_1 = x_1$ gives $x_1$ back, hence "
           "$h(x_1) = h(y_1)$ is known:"),
        display(r"x_1 = y_1", r"x_2 = y_2 - h(y_1)"),
        s_("Za zadani ulaz:", "For the given input:"),
        display(*[rf"y_{{0, {c}}} = {tex(np.asarray(q3['y'])[0, c])}" for c in range(shape3[1])]),
        s_("Sam $h$ ne mora biti invertibilan. Jakobijan je blok-trokutast s jediničnim blokovima na dijagonali, pa je "
           "$\\ln |\\det| = 0$ (sloj sprezanja iz NICE: čuva volumen).",
           "$h$ itself need not be invertible. The Jacobian is block triangular with identity blocks on its "
           "diagonal, so $\\ln |\\det| = 0$ (the NICE coupling: volume preserving)."),
    ])}
    q3_answers = {
        "a": "`class AdditiveCoupling(nn.Module)`",
        "b": s_("`nn.Conv2d(C // 2, C // 2, kernel_size=1)` i ReLU", "`nn.Conv2d(C // 2, C // 2, kernel_size=1)` and ReLU"),
        "c": r"$y_1 = x_1$, $y_2 = x_2 + \mathrm{Conv}_{1 \times 1}(\mathrm{ReLU}(x_1))$",
        "i": r"$x_1 = y_1$, $x_2 = y_2 - h(y_1)$",
        "ii": s_("metoda `inverse` ispod.", "the `inverse` method below."),
    }
    q3_verified = s_(
        f"Na ulazu dimenzija {shape3} jaxdl-ov `additive_coupling`: povratak kroz inverz odstupa "
        f"{q3['round_trip_max_abs_err']:.1e}, log-det {', '.join(num(v) for v in q3['log_det'])}, $y_1 = x_1$ točno: "
        f"{'da' if q3['y1_equals_x1'] else 'ne'}. Modul u PyTorchu testiran je prema njemu na istim težinama "
        "(izlaz, gradijenti, povratak).",
        f"On the {shape3} input jaxdl's `additive_coupling`: the round trip through the inverse is off by "
        f"{q3['round_trip_max_abs_err']:.1e}, log-det {', '.join(num(v) for v in q3['log_det'])}, $y_1 = x_1$ exactly: "
        f"{'yes' if q3['y1_equals_x1'] else 'no'}. The PyTorch module is tested against it on the same weights "
        "(output, gradients, round trip).")
    q3b = Body(q3_givens, q3_steps, q3_answers, q3_verified, ["0"],
               s_("Modul u PyTorchu, s metodom `inverse` (bonus ii):", "The PyTorch module, with `inverse` (bonus ii):")
               + "\n\n" + code_block(without_docstrings(torch_answers.source("additive_coupling"))))
    return {"Q1a": q1a, "Q1b": q1b, "Q2": q2b, "Q3": q3b}
