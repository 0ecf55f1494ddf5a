"""jaxdl's own CPU kernels for the float32 stride-1 convolution, called through XLA's FFI.

XLA's CPU convolution reaches a third of this machine's matmul peak or less on the course's
networks (``make bench``, the ``cnn_layers`` suite). ``cpu_conv.cc`` holds two small kernels
(the forward correlation and the weight gradient; the input gradient is the forward applied to
``dy`` with the transposed, rotated kernel), register-blocked over 16 filters.

They are compiled on first use with the system's C++ compiler (``$CXX``, else ``c++``) against
the FFI headers jaxlib ships, into a cache folder (``$JAXDL_KERNEL_CACHE``, else
``$XDG_CACHE_HOME/jaxdl`` or ``~/.cache/jaxdl``), keyed by the source, the compiler, jaxlib and
the CPU. Where that cannot happen (no compiler, another platform, ``JAXDL_CPU_CONV=0``) the
convolutions run as XLA's, with the same results up to float32 rounding; :func:`status` says
which. Float64 (the cross-checks) always runs as XLA's.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import pathlib
import platform
import shutil
import subprocess
import tempfile

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

SOURCE = pathlib.Path(__file__).with_name("cpu_conv.cc")
SWITCH = "JAXDL_CPU_CONV"  # "0": always XLA's convolution
_TARGETS = {"forward": ("jaxdl_conv_forward", "JaxdlConvForward"), "weight": ("jaxdl_conv_weight", "JaxdlConvWeight")}
MIN_FILTERS = 8  # the kernels hold 16 filters per vector: fewer would waste most of it


def _arch_flags() -> list[str] | None:
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return ["-march=native"]
    if machine in ("aarch64", "arm64"):
        return ["-mcpu=native"]
    return None


def _cpu_identity() -> str:
    """What ``-march=native`` compiles for: the CPU's feature flags (a shared home folder may
    serve machines with different CPUs)."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def cache_dir() -> pathlib.Path:
    if os.environ.get("JAXDL_KERNEL_CACHE"):
        return pathlib.Path(os.environ["JAXDL_KERNEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "jaxdl"


def _build() -> pathlib.Path | str:
    """The compiled library's path, or why there is none."""
    flags = _arch_flags()
    if flags is None:
        return f"no kernels for the {platform.machine()} architecture"
    compiler = shutil.which(os.environ.get("CXX", "c++"))
    if compiler is None:
        return f"no C++ compiler found ({os.environ.get('CXX', 'c++')!r} is not on PATH)"
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return f"the C++ compiler {compiler} does not run: {e}"
    args = ["-O3", "-fno-predictive-commoning", *flags, "-std=c++17", "-shared", "-fPIC", "-pthread", "-w", "-I", jax.ffi.include_dir()]
    key = hashlib.sha256("\0".join([SOURCE.read_text(), version, " ".join(args), jaxlib.__version__,
                                    _cpu_identity()]).encode()).hexdigest()[:16]
    target = cache_dir() / f"cpu_conv-{key}.so"
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
    except OSError as e:
        return f"cannot write the kernel cache {target.parent}: {e}"
    try:
        done = subprocess.run([compiler, *args, str(SOURCE), "-o", tmp], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no message"]
            first = next((line for line in lines if "error" in line), lines[-1])
            return f"compiling {SOURCE.name} with {compiler} failed: {first.strip()}"
        os.replace(tmp, target)  # atomic: a process building the same key at once writes the same bytes
    except (OSError, subprocess.SubprocessError) as e:
        return f"compiling {SOURCE.name} failed: {e}"
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@functools.cache
def _load() -> pathlib.Path | str:
    if os.environ.get(SWITCH, "1") == "0":
        return f"turned off ({SWITCH}=0)"
    built = _build()
    if isinstance(built, str):
        return built
    try:
        lib = ctypes.CDLL(str(built))
        for name, symbol in _TARGETS.values():
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
    except (OSError, AttributeError) as e:
        return f"loading {built} failed: {e}"
    return built


def status() -> str:
    """One line: whether float32 convolutions run on jaxdl's kernels, and if not, why."""
    loaded = _load()
    if isinstance(loaded, str):
        return f"XLA's convolution (jaxdl's CPU kernels: {loaded})"
    return f"jaxdl's CPU kernels ({loaded.name})"


def available() -> bool:
    return jax.default_backend() == "cpu" and not isinstance(_load(), str)


def applies(dtype, filters: int, stride, groups: int, pads) -> bool:
    """Whether a convolution of this kind runs on the kernels (checked at trace time)."""
    return (jnp.dtype(dtype) == jnp.float32 and tuple(stride) == (1, 1) and groups == 1 and filters >= MIN_FILTERS
            and min(min(p) for p in pads) >= 0 and available())


def _attrs(pads):
    (plo, phi), (qlo, qhi) = pads
    return {"plo": np.int64(plo), "phi": np.int64(phi), "qlo": np.int64(qlo), "qhi": np.int64(qhi)}


def forward(x, w, pads):
    """``(N, C, H, W) ⋆ (F, C, kh, kw)`` with zero padding ``pads = ((lo, hi), (lo, hi))``, stride 1."""
    (plo, phi), (qlo, qhi) = pads
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    out = jax.ShapeDtypeStruct((n, f, h + plo + phi - kh + 1, wd + qlo + qhi - kw + 1), jnp.float32)
    return jax.ffi.ffi_call(_TARGETS["forward"][0], out, vmap_method="sequential")(x, w, **_attrs(pads))


def weight(x, dy, kernel, pads):
    """``∂L/∂w (F, C, kh, kw) = Σ_n x_pad[n] ⋆ dy[n]`` of :func:`forward`."""
    out = jax.ShapeDtypeStruct((dy.shape[1], x.shape[1]) + tuple(kernel), jnp.float32)
    return jax.ffi.ffi_call(_TARGETS["weight"][0], out, vmap_method="sequential")(x, dy, **_attrs(pads))
