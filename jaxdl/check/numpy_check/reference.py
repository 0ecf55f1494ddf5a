"""jaxdl's side of the comparison: which lab class a student's class is (by its name), the
student's parameters in the jaxdl layer's layout, and the layer's forward and ``jax.vjp`` —
compiled once per layer, arguments and shape, and shared by every submission (and thread) of a
run. Runs in float64.

Everything a class is compared with comes from its :class:`~jaxdl.labspec.LabClass` (kept with
the layer's registry entry): the jaxdl function, built from the arguments the *checker* passed
to the student's constructor, and the names of the parameters the student's arrays must supply.

Where JAX is absent (the standalone checker of ``check-numpy --export``), :func:`use_numpy`
puts the same layers in numpy (:mod:`.numpy_reference`, proven equal to these) in their place.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np

from jaxdl.check.numpy_check import numpy_reference
from jaxdl.labspec import LabClass, key

_LOCK = threading.Lock()
_COMPILED: dict = {}
_NUMPY: dict | None = None  # the lab classes, when the layers are numpy_reference's (use_numpy)


def use_numpy(classes: dict[str, LabClass]) -> None:
    """Compares with :mod:`.numpy_reference`'s layers, for these lab classes (the standalone
    checker's, read from its data), instead of JAX's."""
    global _NUMPY
    _NUMPY = dict(classes)


def lab_classes() -> dict[str, LabClass]:
    """Every lab class jaxdl knows, by its registry (or loss) name."""
    if _NUMPY is not None:
        return _NUMPY
    from jaxdl import registry

    return registry.lab_classes()


def _jax():
    import jax
    import jax.numpy as jnp

    return jax, jnp


def lookup(class_name: str) -> tuple[str, LabClass] | None:
    """``(registry name, LabClass)`` of the lab class a student's class name stands for
    (``"FC"`` → ``("dense", ...)``), ignoring case and ``_``; None for a name jaxdl does not know."""
    wanted = key(class_name)
    for name, lab in lab_classes().items():
        if any(key(n) == wanted for n in lab.names):
            return name, lab
    return None


def counterpart(class_name: str) -> str | None:
    found = lookup(class_name)
    return found[0] if found else None


def compiled(name: str, lab: LabClass, config: dict, input_shape: tuple):
    """``(layer, param shapes, output shape, jit(apply), jit(vjp))`` of the jaxdl layer for these
    constructor arguments and input shape, built once per process."""
    k = (name, tuple(sorted((a, repr(v)) for a, v in config.items())), tuple(input_shape))
    with _LOCK:
        if k not in _COMPILED and _NUMPY is not None:
            layer = numpy_reference.build(name, config)
            out_shape, shapes = layer.shapes(tuple(input_shape))
            _COMPILED[k] = (layer, shapes, tuple(out_shape), layer.apply, layer.vjp)
        if k not in _COMPILED:
            jax, jnp = _jax()
            layer = lab.reference(**config)
            with jax.enable_x64(True):
                out_shape, params = layer.init(jax.random.PRNGKey(0), tuple(input_shape), dtype=jnp.float64)

            def vjp(params, x, dy, layer=layer):
                return jax.vjp(layer.apply, params, x)[1](dy)

            shapes = {p: tuple(np.shape(v)) for p, v in params.items()}
            _COMPILED[k] = (layer, shapes, tuple(out_shape), jax.jit(layer.apply), jax.jit(vjp))
        return _COMPILED[k]


def _loss_fns():
    from jaxdl.losses import softmax_cross_entropy

    jax, _ = _jax()
    with _LOCK:
        if "softmax_cross_entropy" not in _COMPILED:
            _COMPILED["softmax_cross_entropy"] = (
                jax.jit(softmax_cross_entropy.apply), jax.jit(softmax_cross_entropy.backward))
        return _COMPILED["softmax_cross_entropy"]


def softmax_cross_entropy(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """jaxdl's mean softmax cross-entropy of logits ``x (N, K)`` and one-hot ``y``, and ``∂L/∂x``."""
    if _NUMPY is not None:
        return numpy_reference.softmax_cross_entropy(x, y)
    jax, jnp = _jax()
    apply, backward = _loss_fns()
    with jax.enable_x64(True):
        xj, yj = jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64)
        return float(apply(xj, yj)), np.asarray(backward(xj, yj))


def l2_regularizer(weights: np.ndarray, weight_decay: float) -> tuple[float, np.ndarray]:
    """jaxdl's ``λ/2 ‖W‖²`` and its gradient ``λ W``."""
    if _NUMPY is not None:
        return numpy_reference.l2_regularizer(weights, weight_decay)
    from jaxdl.losses import l2_regularizer as l2

    jax, jnp = _jax()
    reg = l2(float(weight_decay))
    with jax.enable_x64(True):
        params = {"W": jnp.asarray(weights, jnp.float64)}
        return float(reg.apply(params)), np.asarray(reg.backward(params)["W"])


# --------------------------------------------------------------------------------------------
# The student's parameters in jaxdl's layout.


def _forms(a: np.ndarray, shape: tuple) -> list[tuple[np.ndarray, object]]:
    """The ways a student's array can hold a jaxdl parameter of ``shape``: its entries in any
    order of the parameter's axes (``W`` as ``(out, in)`` or ``(in, out)``; a convolution's
    kernel as ``(F, C, k, k)``, ``(k, k, C, F)``, ``(F, k·k·C)``, ...; a bias as ``(1, M)``), a
    matrix transposed first, a convolution kernel flipped; each with the map of a jaxdl
    gradient back to ``a``'s shape."""
    if a.size != int(np.prod(shape, dtype=np.int64)):
        return []
    shape = tuple(shape)
    sources = [(a, lambda g, s=a.shape: g.reshape(s))]
    if a.ndim == 2:
        sources.append((a.T, lambda g, s=a.T.shape: g.reshape(s).T))
    perms = list(itertools.permutations(range(len(shape)))) if len(shape) <= 4 else [tuple(range(len(shape)))]
    out, seen = [], set()
    for src, src_back in sources:
        for perm in perms:
            inverse = tuple(np.argsort(perm))
            form = src.reshape([shape[p] for p in perm]).transpose(inverse)
            flips = [False, True] if len(shape) == 4 else [False]
            for flip in flips:
                value = form[..., ::-1, ::-1] if flip else form
                key = value.tobytes()
                if key in seen:
                    continue
                seen.add(key)

                def back(g, perm=perm, flip=flip, src_back=src_back):
                    g = np.asarray(g)
                    g = g[..., ::-1, ::-1] if flip else g
                    return src_back(np.ascontiguousarray(g.transpose(perm)))

                out.append((np.ascontiguousarray(value), back))
    return out


def candidates(names: tuple[str, ...], shapes: dict, arrays: list) -> list[tuple[dict, list]]:
    """Every way of reading the student's ``arrays`` as the jaxdl parameters ``names`` (one array
    each, any orientation or shape with as many entries): ``(params, backs)`` where ``backs[i]``
    maps the jaxdl gradient of the parameter array ``i`` holds back to that array's shape."""
    arrays = [np.asarray(a, np.float64) for a in arrays]
    if len(arrays) != len(names):
        return []
    out = []
    for order in itertools.permutations(range(len(arrays))):  # array order[j] holds names[j]
        options = [_forms(arrays[i], shapes[n]) for i, n in zip(order, names)]
        for combo in itertools.product(*options):
            params = {n: form for n, (form, _) in zip(names, combo)}
            backs = [None] * len(arrays)
            for j, (i, n) in enumerate(zip(order, names)):
                backs[i] = (n, combo[j][1])
            out.append((params, backs))
            if len(out) >= 512:
                return out
    return out


def describe_layout(names: tuple[str, ...], shapes: dict) -> str:
    if not names:
        return "no parameters"
    return " and ".join(f"{n} {shapes[n]}" for n in names) + " (any orientation, or any shape with as many entries)"


def fits(apply, cands, x: np.ndarray, y: np.ndarray) -> list:
    """Every candidate that fits the input, as ``(error of its forward against the student's
    output y, params64, backs, output)``, the closest first."""
    found = []
    if _NUMPY is not None:
        for params, backs in cands:
            try:
                out = np.asarray(apply(params, x))
            except ValueError:  # these parameter shapes do not fit this input
                continue
            err = float(np.max(np.abs(out - y))) if out.shape == y.shape else np.inf
            found.append((err, params, backs, out))
        found.sort(key=lambda f: f[0])
        return found
    jax, jnp = _jax()
    with jax.enable_x64(True):
        xj = jnp.asarray(x, jnp.float64)
        for params, backs in cands:
            pj = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
            try:
                jax.eval_shape(apply, pj, xj)
            except (ValueError, TypeError):  # these parameter shapes do not fit this input
                continue
            out = np.asarray(apply(pj, xj))
            err = float(np.max(np.abs(out - y))) if out.shape == y.shape else np.inf
            found.append((err, pj, backs, out))
    found.sort(key=lambda f: f[0])
    return found


def apply_at(apply, params64: dict, x: np.ndarray) -> np.ndarray:
    """The layer's output at ``x`` (float64), for the parameters a fit found."""
    if _NUMPY is not None:
        return np.asarray(apply(params64, np.asarray(x, np.float64)))
    jax, jnp = _jax()
    with jax.enable_x64(True):
        return np.asarray(apply(params64, jnp.asarray(x, jnp.float64)))


def vjp_at(vjp, params64: dict, x: np.ndarray, dy: np.ndarray) -> tuple[dict, np.ndarray]:
    if _NUMPY is not None:
        dparams, dx = vjp(params64, np.asarray(x, np.float64), np.asarray(dy, np.float64))
        return {k: np.asarray(v) for k, v in dparams.items()}, np.asarray(dx)
    jax, jnp = _jax()
    with jax.enable_x64(True):
        dparams, dx = vjp(params64, jnp.asarray(x, jnp.float64), jnp.asarray(dy, jnp.float64))
        return {k: np.asarray(v) for k, v in dparams.items()}, np.asarray(dx)
