"""Strict test session: float64 cross-checks, no implicit rank promotion, warnings are errors.

One compilation cache serves the whole session: the pytest workers and every ``jaxdl`` process a
test starts read and write it, so a program compiled once (an experiment's train step, say) is
not compiled again by the next test that runs it. It lives and dies with the session.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import jax
import pytest

_CACHE = "JAX_COMPILATION_CACHE_DIR"
_OWNED = "JAXDL_TEST_OWNS_COMPILATION_CACHE"


def _use_cache(path):
    for name, value in ((_CACHE, path), ("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0"),
                        ("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")):
        os.environ[name] = value  # inherited by the workers and by every process a test starts
    os.environ["JAXDL_KERNEL_CACHE"] = os.path.join(path, "jaxdl-kernels")  # jaxdl's CPU kernels, built once
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_configure(config):
    if _CACHE not in os.environ:  # the session's first process: the controller, or a run without workers
        os.environ[_OWNED] = str(os.getpid())
        _use_cache(tempfile.mkdtemp(prefix="jaxdl-test-jax-cache-"))
    elif os.environ.get(_OWNED):
        _use_cache(os.environ[_CACHE])  # a worker: the controller's cache


def pytest_unconfigure(config):
    if os.environ.get(_OWNED) == str(os.getpid()):
        shutil.rmtree(os.environ[_CACHE], ignore_errors=True)


jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# The tests draw many small random arrays of different shapes; RngBitGenerator-based keys
# compile several times faster than threefry on CPU. No test depends on a particular stream.
jax.config.update("jax_default_prng_impl", "rbg")


def run_python(code: str, **env) -> str:
    """The stdout of ``code`` (dedented) run by a fresh Python on the CPU, with ``env`` added to
    this environment; its stderr is the assertion message when it fails."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, JAX_PLATFORMS="cpu", **env))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def python_run():
    """:func:`run_python`, for a test to call."""
    return run_python


@pytest.fixture
def on_one_two_and_four(tmp_path):
    """``run(script) -> (two, one, four)``: the JSON that ``script`` prints on every CPU this
    process may use, on one CPU (the script pins itself when given ``one-cpu``) and on 4 host
    devices; skips without 2 CPUs. For the kernels' determinism: each run must say it used them."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs")

    def run(script: str):
        path = tmp_path / "determinism.py"
        path.write_text(textwrap.dedent(script))
        once = lambda *a, **env: json.loads(subprocess.run(  # noqa: E731
            [sys.executable, str(path), *a], capture_output=True, text=True, timeout=300, check=True,
            env=dict(os.environ, JAX_PLATFORMS="cpu", **env)).stdout)
        two, one = once(), once("one-cpu")
        four = once(XLA_FLAGS="--xla_force_host_platform_device_count=4")
        assert (two["threads"], one["threads"], four["devices"]) == (len(os.sched_getaffinity(0)), 1, 4)
        for r in (two, one, four):
            assert r["status"].startswith("jaxdl's CPU kernels"), r["status"]
        return two, one, four

    return run


@pytest.fixture
def key(request):
    """A PRNG key that differs between tests but is the same on every run of one test."""
    seed = sum(map(ord, request.node.name))
    return jax.random.PRNGKey(seed)



# The longest files, longest first (as `make test`'s --durations measures them on 2 cores).
_LONGEST = ["test_check_numpy_export.py", "test_train_distributed.py", "test_exam_keys.py", "test_install.py",
            "test_grading_class.py", "test_train_experiments.py", "test_practice_page.py", "test_train_devices.py",
            "test_train_kill.py"]


def pytest_collection_modifyitems(config, items):
    # The longest files start first: with a file per worker (`--dist loadfile`), a long file
    # collected last would leave one worker running it alone at the end while the others idle.
    # Then the other files with end-to-end (slow) tests; within a file the order stays as written.
    slow = {}
    for item in items:
        slow[item.path] = slow.get(item.path, 0) + (item.get_closest_marker("slow") is not None)

    def rank(item):
        name = item.path.name
        return (_LONGEST.index(name) if name in _LONGEST else len(_LONGEST), -slow[item.path])

    items.sort(key=rank)
