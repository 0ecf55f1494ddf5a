"""Building and loading jaxdl's own CPU kernels (:mod:`.cpu_conv`, :mod:`.cpu_lstm`, :mod:`.cpu_coupling`).

Each kernel source beside this module is compiled on first use with the system's C++ compiler
(``$CXX``, else ``c++``) against the FFI headers jaxlib ships, into a cache folder
(``$JAXDL_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/jaxdl`` or ``~/.cache/jaxdl``), keyed by the
source, the compiler, its flags, jaxlib and the CPU, and its handlers are registered with XLA.
Where that cannot happen the callers fall back to XLA's own operations and say why.
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
import jaxlib

HEADER = pathlib.Path(__file__).with_name("cpu_kernels.h")  # included by every kernel source


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


def _build(source: pathlib.Path) -> pathlib.Path | str:
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
    key = hashlib.sha256("\0".join([source.read_text(), HEADER.read_text(), version, " ".join(args), jaxlib.__version__,
                                    _cpu_identity()]).encode()).hexdigest()[:16]
    target = cache_dir() / f"{source.stem}-{key}.so"
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
    except OSError as e:
        return f"cannot write the kernel cache {target.parent}: {e}"
    try:
        done = subprocess.run([compiler, *args, str(source), "-o", tmp], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no message"]
            first = next((line for line in lines if "error" in line), lines[-1])
            return f"compiling {source.name} with {compiler} failed: {first.strip()}"
        os.replace(tmp, target)  # atomic: a process building the same key at once writes the same bytes
    except (OSError, subprocess.SubprocessError) as e:
        return f"compiling {source.name} failed: {e}"
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@functools.cache
def _load(source_name: str, targets: tuple[tuple[str, str], ...], switch: str) -> pathlib.Path | str:
    if os.environ.get(switch, "1") == "0":
        return f"turned off ({switch}=0)"
    built = _build(pathlib.Path(__file__).with_name(source_name))
    if isinstance(built, str):
        return built
    try:
        lib = ctypes.CDLL(str(built))
        for name, symbol in targets:
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
    except (OSError, AttributeError) as e:
        return f"loading {built} failed: {e}"
    return built


def load(source_name: str, targets, switch: str) -> pathlib.Path | str:
    """Builds (once per machine) and loads ``source_name`` (a file beside this module),
    registering its FFI ``targets`` (``(name, symbol)`` pairs); the library's path, or why the
    kernels cannot be used (``switch=0`` in the environment turns them off)."""
    return _load(source_name, tuple(tuple(t) for t in targets), switch)


class Library:
    """One kernel source's FFI targets (``{kind: (name, symbol)}``), built and registered on
    first use; ``fallback`` names what runs where they cannot be (for :meth:`status`)."""

    def __init__(self, source_name: str, targets: dict[str, tuple[str, str]], switch: str, fallback: str):
        self.source_name, self.targets, self.switch, self.fallback = source_name, targets, switch, fallback

    def load(self) -> pathlib.Path | str:
        return load(self.source_name, self.targets.values(), self.switch)

    def status(self) -> str:
        """One line: whether the kernels run, and if not, why."""
        loaded = self.load()
        if isinstance(loaded, str):
            return f"{self.fallback} (jaxdl's CPU kernels: {loaded})"
        return f"jaxdl's CPU kernels ({loaded.name})"

    def available(self) -> bool:
        return jax.default_backend() == "cpu" and not isinstance(self.load(), str)

    def target(self, kind: str) -> str:
        """The FFI target's name, loading the library first; ``RuntimeError`` when it cannot be."""
        loaded = self.load()
        if isinstance(loaded, str):
            raise RuntimeError(f"jaxdl's CPU kernels ({self.source_name}) are not available: {loaded}")
        return self.targets[kind][0]
