"""``jaxdl check-numpy --export``: the lab checker for Python and numpy alone, as itself and for
Gradescope, PrairieLearn and CodeRunner (Moodle).

The standalone checker runs in a fresh virtual environment holding numpy alone (no jaxdl, no JAX,
no scipy: the lab's scipy calls meet the stand-in), and its verdicts, check names and points are
compared, class by class, with ``check-numpy``'s on the project's numpy fixtures. Each platform's
entry runs in a temporary root laid out as the platform lays it out; its ``results.json`` is read
against the platform's documented fields; hostile files try to read the reference data and to write
the results.
"""

from __future__ import annotations

import ast
import base64
import glob
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from jaxdl.check.numpy_check import numpy_reference as nr
from jaxdl.check.numpy_check.command import CheckRequest, check_numpy
from jaxdl.check.numpy_check.export import ANSWER, BUNDLE, JOBE_CPU_S, JOBE_MEMORY_MB, export

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "numpy_lab"
CORRECT = FIXTURES / "skeleton" / "correct_lab.py"
MISTAKES = FIXTURES / "lab_mistakes.py"
TWICE = "        return 2 * grads @ self.weights\n"  # FC's backward_inputs, off by a factor of 2
# A fixture that exists to use up a submission's clock budget (a minute, by design, whatever the time
# limit): its verdict comes from the budget, not from a check, and test_grading_class grades it.
BUDGET_ATTACKS = {"sleeps.py"}
# CPU seconds per call, on both sides: the fixtures that loop forever stop sooner (the import of
# scipy.stats, which check-numpy's worker has and the numpy-only one stands in for, takes most of 1 s)
TIME_LIMIT = 2.0


@pytest.fixture(scope="module")
def wrong_file():
    """The correct skeleton file with one mistake: FC's ∂L/∂inputs doubled."""
    folder = _readable_dir("jaxdl-wrong-")
    text = CORRECT.read_text()
    right = "        return grads @ self.weights\n"
    assert text.count(right) == 1
    path = Path(folder, "wrong_fc.py")
    path.write_text(text.replace(right, TWICE))
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def _readable_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def _interpreter() -> str:
    """An interpreter of this Python's version that every user can run (so that a worker dropped to
    nobody can), else this one's base interpreter."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for path in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.path.isfile(path) and os.stat(path).st_mode & stat.S_IXOTH:
            return path
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


@pytest.fixture(scope="module")
def numpy_venv():
    """A fresh virtual environment with numpy alone (copied from this one's install: no network)."""
    root = _readable_dir("jaxdl-numpy-venv-")
    venv = os.path.join(root, "venv")
    subprocess.run([_interpreter(), "-m", "venv", "--without-pip", venv], check=True)
    site = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages"))[0]
    here = Path(np.__file__).resolve().parent
    for entry in [here, *here.parent.glob("numpy.libs"), *here.parent.glob("numpy-*.dist-info")]:
        shutil.copytree(entry, os.path.join(site, entry.name), symlinks=True)
    python = os.path.join(venv, "bin", "python")
    probe = subprocess.run([python, "-c", "import importlib.util as u; print([u.find_spec(m) is not None for m in "
                                          "('numpy', 'scipy', 'jax', 'jaxdl', 'torch')])"],
                           capture_output=True, text=True, cwd=root)
    assert probe.stdout.strip() == "[True, False, False, False, False]", probe.stderr
    yield python
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def exports():
    """Each kind exported once: ``{kind: (folder, paths written)}``."""
    out = _readable_dir("jaxdl-export-")
    yield {kind: (os.path.join(out, kind), export(kind, os.path.join(out, kind)))
           for kind in ("standalone", "gradescope", "prairielearn", "coderunner")}
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def exported(exports):
    folder, written = exports["standalone"]
    assert sorted(os.path.basename(p) for p in written) == ["check_lab.py", "check_lab_data.npz"]
    return folder


def _standalone(python: str, checker_dir: str, target, *args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([python, os.path.join(checker_dir, "check_lab.py"), str(target), *args], capture_output=True,
                          text=True, env=env, cwd=cwd or tempfile.gettempdir(), timeout=600)


def _verdicts(submission: dict) -> tuple:
    return (submission["ok"], bool(submission["error"]), submission["points"], submission["max_points"],
            [(c["class"], c["ok"], c["points"], c["max_points"], [(k["name"], k["ok"]) for k in c["checks"]])
             for c in submission["classes"]])


# --------------------------------------------------------------------------------------------
# The numpy layers are jaxdl's.


def test_the_numpy_layers_equal_jaxdl_s_jax_layers_and_their_vjp_in_float64():
    import jax
    import jax.numpy as jnp

    from jaxdl import registry
    from jaxdl.losses import l2_regularizer, softmax_cross_entropy

    rng = np.random.default_rng(7)
    layers = {n: lab for n, lab in registry.lab_classes().items() if lab.kind == "layer"}
    assert set(layers) == set(nr.BUILDERS)  # every lab layer jaxdl compares has its numpy twin
    with jax.enable_x64(True):
        for name, lab in layers.items():
            layer = lab.reference(**lab.args)
            for shape, scale in ((lab.input_shape, 2.0), ((2, *lab.input_shape[1:]), 1000.0)):
                out_shape, init = layer.init(jax.random.PRNGKey(1), tuple(shape), dtype=jnp.float64)
                params = {p: rng.standard_normal(np.shape(v)) for p, v in init.items()}
                x = rng.uniform(-scale, scale, shape)
                if name == "max_pool2d":
                    x = np.round(x / 4)  # ties: the gradient goes to the first maximum
                y, vjp = jax.vjp(layer.apply, params, x)
                dy = rng.standard_normal(y.shape)
                dparams, dx = vjp(dy)
                mine = nr.build(name, dict(lab.args))
                got_shape, got_shapes = mine.shapes(tuple(shape))
                assert got_shape == tuple(out_shape) and got_shapes == {p: np.shape(v) for p, v in init.items()}
                np.testing.assert_allclose(mine.apply(params, x), y, rtol=1e-12, atol=1e-12 * scale)
                mine_dp, mine_dx = mine.vjp(params, x, dy)
                np.testing.assert_allclose(mine_dx, dx, rtol=1e-12, atol=1e-11)
                for p in dparams:
                    np.testing.assert_allclose(mine_dp[p], dparams[p], rtol=1e-12, atol=1e-11 * scale)
        x, y = rng.standard_normal((5, 4)) * 50, np.eye(4)[rng.integers(0, 4, 5)]
        loss, dx = nr.softmax_cross_entropy(x, y)
        assert loss == pytest.approx(float(softmax_cross_entropy.apply(x, y)), rel=1e-13)
        np.testing.assert_allclose(dx, softmax_cross_entropy.backward(x, y), rtol=1e-12, atol=1e-15)
        w = rng.standard_normal((3, 2))
        value, dw = nr.l2_regularizer(w, 0.3)
        assert value == pytest.approx(0.15 * float(np.sum(w * w)), rel=1e-14)  # λ/2 ‖W‖², by hand
        np.testing.assert_allclose(dw, l2_regularizer(0.3).backward({"W": w})["W"], rtol=1e-14)


def test_every_module_the_checker_carries_is_python_3_9_syntax_and_imports_no_jax():
    """At the top of each module (jaxdl's JAX layers are imported inside the functions that use them,
    which the standalone checker never calls: reference.use_numpy puts the numpy layers first)."""
    import importlib.util

    for module in BUNDLE:
        source = Path(importlib.util.find_spec(module).origin).read_text()
        tree = ast.parse(source, feature_version=(3, 9))
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m.split(".")[0] for m in names} & {"jax", "jaxlib", "flax", "optax", "tqdm", "scipy", "torch"}
        inside = {m for m in names if m.startswith("jaxdl")} - {"jaxdl", "jaxdl.check", "jaxdl.check.numpy_check"}
        assert inside <= set(BUNDLE), (module, inside - set(BUNDLE))


# --------------------------------------------------------------------------------------------
# The standalone checker.


@pytest.mark.slow
def test_the_standalone_checker_in_numpy_alone_gives_check_numpy_s_verdicts_on_the_fixtures(numpy_venv, exported,
                                                                                           tmp_path):
    files = sorted(p for p in FIXTURES.rglob("*.py") if p.name not in BUDGET_ATTACKS)
    assert len(files) >= 50
    out = check_numpy(CheckRequest(paths=tuple(map(str, files)), json=str(tmp_path / "ref.json"),
                                   allow_weaker_sandbox=True, time_limit=TIME_LIMIT))
    reference = {s["submission"]: s for s in json.loads((tmp_path / "ref.json").read_text())["submissions"]}
    assert len(reference) == len(files) and out.results
    import concurrent.futures

    def standalone(path):
        dest = tmp_path / (str(path.relative_to(FIXTURES)).replace(os.sep, "__") + ".json")
        done = _standalone(numpy_venv, exported, path, "--json", str(dest), "--time-limit", str(TIME_LIMIT))
        assert dest.exists(), done.stderr[-2000:]
        return path, done.returncode, json.loads(dest.read_text())

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(standalone, files))
    passing = 0
    for path, rc, payload in runs:
        (mine,) = payload["submissions"]
        assert _verdicts(mine) == _verdicts(reference[str(path)]), path
        assert rc == (0 if mine["ok"] else 1)
        passing += mine["ok"]
    assert 5 <= passing < len(files)  # correct files pass, the others fail, on both


def test_the_standalone_checker_names_the_mistakes_and_notes_the_scipy_stand_in(numpy_venv, exported, tmp_path):
    done = _standalone(numpy_venv, exported, MISTAKES, "--json", str(tmp_path / "m.json"), "--time-limit", "2")
    assert done.returncode == 1
    (sub,) = json.loads((tmp_path / "m.json").read_text())["submissions"]
    failures = " ".join(c["checks"][i]["detail"] for c in sub["classes"] for i, k in enumerate(c["checks"])
                        if not k["ok"])
    assert "transpose" in failures or "transposed" in failures
    assert "check_lab.py: the reference layers agree with jaxdl's on 16 cases" in done.stdout
    done = _standalone(numpy_venv, exported, CORRECT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8/8 classes ok" in done.stdout  # the skeleton's scipy.stats.truncnorm ran on the stand-in


def test_the_python_3_9_dataclasses_give_the_same_report(numpy_venv, exported, tmp_path):
    env = {**os.environ, "CHECK_LAB_PY39": "1"}
    a = _standalone(numpy_venv, exported, MISTAKES, "--json", str(tmp_path / "a.json"), "--time-limit", "2")
    b = _standalone(numpy_venv, exported, MISTAKES, "--json", str(tmp_path / "b.json"), "--time-limit", "2", env=env)
    assert a.returncode == b.returncode == 1
    one, two = (json.loads((tmp_path / n).read_text())["submissions"][0] for n in ("a.json", "b.json"))
    assert _verdicts(one) == _verdicts(two) and one["points"] == 47.0


def test_damaged_or_missing_reference_data_are_refused_before_any_file_runs(numpy_venv, exported, tmp_path):
    from jaxdl.check.numpy_check import standalone

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    shutil.copy(os.path.join(exported, "check_lab.py"), damaged)
    canary = tmp_path / "ran"
    student = tmp_path / "canary.py"
    student.write_text(f"open({str(canary)!r}, 'w').close()\n")
    meta, arrays = standalone.load_data(os.path.join(exported, "check_lab_data.npz"))
    arrays["dense/expected/dx"] = arrays["dense/expected/dx"] * (1 + 1e-6)
    with pytest.raises(standalone.DataError, match="dense: this checker's dx differs from jaxdl's"):
        standalone.replay(meta, arrays)  # the numpy layers against numbers that are not jaxdl's
    with pytest.raises(standalone.DataError, match=r"no case for \['relu'\]"):
        standalone.replay({**meta, "cases": [c for c in meta["cases"] if c.get("layer") != "relu"]}, arrays)
    meta["cases"] = []  # metadata changed with the arrays: the checker knows its data's SHA-256
    np.savez(damaged / "check_lab_data.npz", meta=np.array(json.dumps(meta)), **arrays)
    done = _standalone(numpy_venv, str(damaged), student)
    assert done.returncode == 1 and "are not the ones this checker was exported with" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    (damaged / "check_lab_data.npz").write_bytes(b"")
    done = _standalone(numpy_venv, str(damaged), student)
    assert done.returncode == 1 and "not the ones this checker was exported with" in done.stderr
    (damaged / "check_lab_data.npz").unlink()
    done = _standalone(numpy_venv, str(damaged), student)
    assert done.returncode == 1 and "cannot read the reference data" in done.stderr
    assert not canary.exists()


@pytest.mark.parametrize("args, says", [
    (["--time-limit", "-1"], "--time-limit: expected a finite number"),
    (["--time-limit", "nan"], "--time-limit: expected a finite number"),
    (["--memory-limit", "0"], "--memory-limit: expected a number of megabytes"),
    (["--json", "DIR"], "expected a file's path"),
    (["--json", ""], "expected a file's path"),
    (["--json", "SUBMISSION"], "it is the submission being checked"),
    (["--json", "/no/such/folder/x.json"], "no such folder"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["--sandbox", "none"], "invalid choice"),
])
def test_the_standalone_checker_refuses_bad_arguments_in_one_line(numpy_venv, exported, tmp_path, args, says):
    student = tmp_path / "layers.py"
    student.write_text(CORRECT.read_text())
    args = [str(tmp_path) if a == "DIR" else str(student) if a == "SUBMISSION" else a for a in args]
    done = _standalone(numpy_venv, exported, student, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr


def test_the_scipy_stand_in_draws_and_computes_as_scipy():
    import scipy.special
    import scipy.stats

    from jaxdl.check.scipy_standin import special, stats

    for a, b in ((-2, 2), (8, 9), (-9, -8), (-1e-3, 1e-3), (0.3, 0.4), (1, np.inf)):
        mine, theirs = stats.truncnorm(a, b, loc=0.5, scale=2.0), scipy.stats.truncnorm(a, b, loc=0.5, scale=2.0)
        assert mine.mean() == pytest.approx(theirs.mean(), rel=1e-9, abs=1e-12)
        assert mine.std() == pytest.approx(theirs.std(), rel=1e-6)
        draws = mine.rvs(20000, random_state=3)
        assert draws.min() >= 0.5 + 2 * a and draws.max() <= 0.5 + 2 * b
        assert abs(draws.mean() - theirs.mean()) < 5 * theirs.std() / np.sqrt(20000)  # 5 standard errors
    assert stats.truncnorm.rvs(-2, 2, loc=0, scale=0.5, size=(2, 3)).shape == (2, 3)
    assert stats.norm(0, 2).rvs((3, 4)).shape == (3, 4) and isinstance(stats.norm.rvs(), float)
    np.random.seed(5)
    first = stats.truncnorm(-2, 2).rvs(4)
    np.random.seed(5)
    assert np.array_equal(first, stats.truncnorm(-2, 2).rvs(4))  # np.random.seed in a lab file seeds it
    x, w = np.random.default_rng(0).standard_normal((3, 4)) * 40, np.random.default_rng(1).uniform(0.1, 1, (3, 4))
    for name in ("expit", "softmax", "log_softmax", "logsumexp"):
        for axis in ((None,) if name == "expit" else (None, 1)):
            kw = {} if axis is None else {"axis": axis}
            np.testing.assert_allclose(getattr(special, name)(x, **kw), getattr(scipy.special, name)(x, **kw),
                                       rtol=1e-13, atol=1e-12)  # entries up to 100: absolute near 0
    np.testing.assert_allclose(special.logsumexp(x, axis=1, b=w), scipy.special.logsumexp(x, axis=1, b=w), rtol=1e-13)
    np.testing.assert_allclose(special.xlogy([0.0, 1, 2], [0.0, 3, 4]), scipy.special.xlogy([0.0, 1, 2], [0.0, 3, 4]))
    with pytest.raises(AttributeError, match="scipy.stats.gamma is not in check_lab.py's scipy stand-in"):
        stats.gamma  # noqa: B018
    with pytest.raises(ValueError, match="expected a < b"):
        stats.truncnorm(2, 1).rvs(3)


# --------------------------------------------------------------------------------------------
# The platforms.

HOSTILE = '''
import numpy as np, os

def _try(what, f):
    try:
        f()
        return what + ": done"
    except Exception as e:
        return what + ": " + type(e).__name__

def _forge():
    with open({results!r}, "w") as f:
        f.write('{{"score": 999, "tests": []}}')

OUTCOME = "; ".join([_try("read the data", lambda: open({data!r}, "rb").read()), _try("write the results", _forge)])

class ReLU:
    def __init__(self, input_layer, name):
        self.shape, self.name, self.has_params = input_layer.shape, name, False
    def forward(self, inputs):
        raise RuntimeError(OUTCOME)
    def backward_inputs(self, grads):
        return grads
'''


def _path_env(python: str) -> dict:
    return {**os.environ, "PATH": os.path.dirname(python) + os.pathsep + os.environ.get("PATH", "")}


def _gradescope_root(tmp: str, submission: str, exports: dict) -> str:
    root = os.path.join(tmp, "autograder")
    (zip_path,) = exports["gradescope"][1]
    with zipfile.ZipFile(zip_path) as z:
        assert sorted(z.namelist()) == ["check_lab.py", "check_lab_data.npz", "run_autograder", "setup.sh"]
        z.extractall(os.path.join(root, "source"))
        setup = z.read("setup.sh").decode()
    assert "pip install" in setup and "numpy" in setup and "jax" not in setup
    shutil.copy(os.path.join(root, "source", "run_autograder"), os.path.join(root, "run_autograder"))
    os.makedirs(os.path.join(root, "submission"))
    shutil.copy(submission, os.path.join(root, "submission", "layers.py"))
    os.makedirs(os.path.join(root, "results"))
    return root


def _gradescope_fields(results: dict) -> None:
    assert set(results) >= {"score", "tests"} and isinstance(results["score"], float)
    for t in results["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"} and t["visibility"] == "visible"
        assert 0 <= t["score"] <= t["max_score"]
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]), abs=0.01)


def test_gradescope_s_run_autograder_writes_results_json_for_right_and_wrong_files(numpy_venv, wrong_file, exports):
    tmp = _readable_dir("jaxdl-gradescope-")
    try:
        for submission, full in ((CORRECT, True), (wrong_file, False)):
            root = _gradescope_root(os.path.join(tmp, submission.stem), str(submission), exports)
            done = subprocess.run(["bash", os.path.join(root, "run_autograder")], capture_output=True, text=True,
                                  env=_path_env(numpy_venv), timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
            results = json.loads(Path(root, "results", "results.json").read_text())
            _gradescope_fields(results)
            top = sum(t["max_score"] for t in results["tests"])
            assert (results["score"] == pytest.approx(top)) is full
            if not full:
                failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
                assert failed and all(t["output"].startswith("failed") for t in failed)
                assert {t["name"].split(":")[0] for t in failed} == {"FC"}
                assert "factor" in " ".join(t["output"] for t in failed)  # the diagnosis: ×2
            assert stat.S_IMODE(os.stat(os.path.join(root, "source")).st_mode) == 0o700
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("sandbox", ["auto", "plain"])
def test_a_hostile_file_on_gradescope_reads_no_data_and_writes_no_result(numpy_venv, sandbox, exports):
    """In the platform's layout, as root: behind the namespaces (auto, here), or with no walls but
    the user nobody (plain): the data and the results folder are out of the student's reach."""
    tmp = _readable_dir("jaxdl-gradescope-")
    try:
        root = os.path.join(tmp, "autograder")
        hostile = os.path.join(tmp, "hostile.py")
        Path(hostile).write_text(HOSTILE.format(data=os.path.join(root, "source", "check_lab_data.npz"),
                                                results=os.path.join(root, "results", "results.json")))
        root = _gradescope_root(tmp, hostile, exports)
        if sandbox == "auto":
            cmd = ["bash", os.path.join(root, "run_autograder")]
        else:  # what run_autograder does, with the plain sandbox
            subprocess.run(["bash", "-c", f"chmod 700 {root}/source; chmod 600 {root}/source/check_lab*"], check=True)
            cmd = [numpy_venv, os.path.join(root, "source", "check_lab.py"), os.path.join(root, "submission"),
                   "--sandbox", "plain", "--gradescope", os.path.join(root, "results", "results.json")]
        done = subprocess.run(cmd, capture_output=True, text=True, env=_path_env(numpy_venv), timeout=600)
        results = json.loads(Path(root, "results", "results.json").read_text())
        if sandbox == "plain" and os.getuid() == 0 and "nobody cannot read" in done.stderr + results.get("output", ""):
            # no interpreter here that nobody may run: the checker refused to run the file as root
            assert results["score"] == 0.0
            return
        _gradescope_fields(results)
        assert results["score"] == 0.0
        outputs = " ".join(t["output"] for t in results["tests"])
        assert "read the data: done" not in outputs and "write the results: done" not in outputs
        assert "read the data: " in outputs  # the file's own failure, with what it met
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_hostile_file_on_prairielearn_reads_no_data_and_writes_no_result(numpy_venv, exports):
    tmp = _readable_dir("jaxdl-pl-")
    try:
        question, grade = exports["prairielearn"][0], os.path.join(tmp, "grade")
        shutil.copytree(os.path.join(question, "tests"), os.path.join(grade, "tests"))
        os.makedirs(os.path.join(grade, "student"))
        Path(grade, "student", "layers.py").write_text(HOSTILE.format(
            data=os.path.join(grade, "tests", "check_lab_data.npz"), results=os.path.join(grade, "results", "results.json")))
        done = subprocess.run(["bash", os.path.join(grade, "tests", "run.sh")], capture_output=True, text=True,
                              env=_path_env(numpy_venv), timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        results = json.loads(Path(grade, "results", "results.json").read_text())
        assert results["gradable"] is True and results["score"] == 0.0
        messages = " ".join(t["message"] for t in results["tests"])
        assert "read the data: " in messages and "read the data: done" not in messages
        assert "write the results: done" not in messages
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_prairielearn_s_grader_writes_results_json(numpy_venv, wrong_file, exports):
    tmp = _readable_dir("jaxdl-pl-")
    try:
        question, written = exports["prairielearn"]
        assert {os.path.relpath(p, question) for p in written} == {
            "info.json", "question.html", "tests/run.sh", "tests/check_lab.py", "tests/check_lab_data.npz"}
        info = json.loads(Path(question, "info.json").read_text())
        assert info["gradingMethod"] == "External" and info["externalGradingOptions"]["entrypoint"] == "/grade/tests/run.sh"
        assert 'file-names="layers.py"' in Path(question, "question.html").read_text()
        for submission, full in ((CORRECT, True), (wrong_file, False)):
            grade = os.path.join(tmp, submission.stem, "grade")  # /grade as the external grader lays it out
            shutil.copytree(os.path.join(question, "tests"), os.path.join(grade, "tests"))
            os.makedirs(os.path.join(grade, "student"))
            shutil.copy(submission, os.path.join(grade, "student", "layers.py"))
            done = subprocess.run(["bash", os.path.join(grade, "tests", "run.sh")], capture_output=True, text=True,
                                  env=_path_env(numpy_venv), timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
            results = json.loads(Path(grade, "results", "results.json").read_text())
            assert results["gradable"] is True and 0.0 <= results["score"] <= 1.0
            assert (results["score"] == 1.0) is full and isinstance(results["message"], str)
            for t in results["tests"]:
                assert set(t) >= {"name", "points", "max_points", "message"} and 0 <= t["points"] <= t["max_points"]
            earned = sum(t["points"] for t in results["tests"]) / sum(t["max_points"] for t in results["tests"])
            assert results["score"] == pytest.approx(earned, abs=1e-3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _twig_py(text: str) -> str:
    """CodeRunner's ``e('py')`` escaper: the text as the inside of a Python string literal."""
    for a, b in (("\\", "\\\\"), ("'", "\\'"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(a, b)
    return text


def _render(template: str, answer: str) -> str:
    """The template as Twig renders it: the answer through PHP's json_encode (ASCII, ``/`` escaped),
    then ``e('py')``."""
    return template.replace(ANSWER, _twig_py(json.dumps(answer).replace("/", "\\/")))


def _jobe(python: str, program: str, files: dict[str, bytes]) -> tuple[dict, float]:
    """Runs a rendered template as Jobe does: its own folder holding the support files, a separate
    process under Jobe's memory limit and the question's CPU limit. Returns (grader JSON, CPU s)."""
    work = _readable_dir("jaxdl-jobe-")
    try:
        for name, data in files.items():
            Path(work, name).write_bytes(data)
        Path(work, "prog.py").write_text(program)

        limits = (f"import os, resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({JOBE_MEMORY_MB << 20}, "
                  f"{JOBE_MEMORY_MB << 20})); resource.setrlimit(resource.RLIMIT_CPU, ({JOBE_CPU_S}, {JOBE_CPU_S})); "
                  "os.execv(sys.argv[1], sys.argv[1:])")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([python, "-c", limits, python, "prog.py"], cwd=work, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout), (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_coderunner_questions_parse_and_their_template_grades_as_on_jobe(numpy_venv, wrong_file, exports):
    (xml_path,) = exports["coderunner"][1]
    quiz = ET.parse(xml_path).getroot()
    questions = quiz.findall("question[@type='coderunner']")
    assert {q.find("name/text").text for q in questions} >= {"Lab: FC", "Lab: ReLU", "Lab: Convolution"}
    fc = next(q for q in questions if q.find("name/text").text == "Lab: FC")
    assert fc.find("coderunnertype").text == "python3" and fc.find("grader").text == "TemplateGrader"
    assert fc.find("iscombinatortemplate").text == "1" and fc.find("memlimitmb").text == str(JOBE_MEMORY_MB)
    template = fc.find("template").text
    assert ANSWER in template
    assert "feedback while you work" in fc.find("questiontext/text").text
    files = {f.get("name"): base64.b64decode(f.text) for f in fc.findall("testcases/file")}
    assert set(files) == {"check_lab.py", "check_lab_data.npz"}
    answer = CORRECT.read_text()
    right, cpu = _jobe(numpy_venv, _render(template, answer), files)
    assert right["fraction"] == 1.0 and right["testresults"][0] == ["iscorrect", "Check", "Mark", "Diagnosis"]
    assert len(right["testresults"]) > 10 and all(row[0] is True for row in right["testresults"][1:])
    assert all(row[1].startswith("FC: ") for row in right["testresults"][1:])
    assert cpu < JOBE_CPU_S / 2  # two interpreters, numpy and the checks, well within the question's CPU limit
    wrong_fc = wrong_file.read_text()
    wrong, _ = _jobe(numpy_venv, _render(template, wrong_fc), files)
    assert 0.0 <= wrong["fraction"] < 1.0
    bad = [row for row in wrong["testresults"][1:] if row[0] is False]
    assert bad and all(row[3].startswith("failed") for row in bad) and "factor" in " ".join(r[3] for r in bad)
    assert wrong["fraction"] == pytest.approx(sum(1 for r in wrong["testresults"][1:] if r[0]) / (len(wrong["testresults"]) - 1))
    for odd in ("", "def (:\n", 'print(\'{"fraction": 1.0}\')\nimport sys\nsys.exit(0)\n', "x = 1\x00\n", "s = '/\\\"\u0161'\n"):
        result, _ = _jobe(numpy_venv, _render(template, odd), files)  # one grader JSON line, never a pass
        assert 0.0 <= result["fraction"] < 1.0 and result["testresults"][0] == ["iscorrect", "Check", "Mark", "Diagnosis"]
