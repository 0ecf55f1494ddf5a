"""`jaxdl check-numpy` on correct lab code, on the seeds' official solutions, on typical
mistakes, on hostile files, and on a folder of submissions graded as a class."""

import contextlib
import csv
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.check.im2col_standin import col2im_cython, im2col_cython
from jaxdl.check.numpy_check import checks as C
from jaxdl.check.numpy_check import protocol as wire

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "numpy_lab"
HOSTILE = FIXTURES / "hostile"
REFERENCE = pathlib.Path(__file__).parent.parent / "jaxdl" / "check" / "lab_reference.py"


def check(tmp_path, path, *extra, expect_rc):
    out = tmp_path / "report.json"
    path = REFERENCE if path == "lab_reference" else (path if isinstance(path, pathlib.Path) else FIXTURES / f"{path}.py")
    assert cli.main(["check-numpy", str(path), "--json", str(out), "--no-progress", *extra]) == expect_rc
    (sub,) = json.loads(out.read_text())["submissions"]
    return {c["class"]: c for c in sub["classes"]}, sub


def failing(layer):
    return {c["name"]: c["detail"] for c in layer["checks"] if not c["ok"]}


def first_failure(layer):
    return next(f"{c['name']}: {c['detail']}" for c in layer["checks"] if not c["ok"])


def test_correct_lab_layers_all_pass(tmp_path, capsys):
    layers, sub = check(tmp_path, "lab_reference", expect_rc=0)
    assert list(layers) == ["FC", "ReLU", "Convolution", "MaxPooling", "Flatten", "SoftmaxCrossEntropyWithLogits",
                            "L2Regularizer", "RegularizedLoss", "Quadratic", "Swish", "ResBlock"]
    for name, layer in layers.items():
        assert layer["ok"], (name, failing(layer))
    # Each layer with a jaxdl counterpart is compared with it, not only with finite differences,
    # and every array attribute forward depends on has its gradient checked.
    names = {c["name"] for c in layers["Convolution"]["checks"]}
    assert {"forward vs jaxdl conv2d", "backward_params[0] (self.weights) vs jax.vjp of jaxdl conv2d",
            "backward_params covers every parameter forward depends on"} <= names
    assert "forward vs jaxdl l2_regularizer (λ/2 ‖W‖², or λ ‖W‖²)" in {c["name"] for c in layers["L2Regularizer"]["checks"]}
    assert {"stable at logits shifted by 1000", "stable at logits of magnitude 1000"} <= {
        c["name"] for c in layers["SoftmaxCrossEntropyWithLogits"]["checks"]}
    assert "11/11 classes ok" in capsys.readouterr().out


def test_seed_quiz_solutions(tmp_path):
    layers, _ = check(tmp_path, "seed_quiz", expect_rc=1)
    quad = failing(layers["Quadratic"])
    # backward_inputs: A ⊙ diag(x) and a scalar b on every entry, not 2 A diag(x) + b I.
    assert "max abs err" in quad["backward_inputs (∂L/∂inputs) vs finite differences"]
    assert quad["backward_params[1] (self.c, shape (4,)) vs finite differences"].startswith("missing sum over the batch")
    # ∂L/∂A is right.
    assert not any(k.startswith("backward_params[0]") for k in quad)
    swish = failing(layers["Swish"])
    assert swish == {
        "backward_inputs (∂L/∂inputs) vs finite differences": "wrong shape (5, 5), expected (3, 5)",
        "backward_inputs (∂L/∂inputs) vs jax.vjp of jaxdl swish": "wrong shape (5, 5), expected (3, 5)",
        C.SECOND_POINT: "backward_inputs at an input up to 8 in magnitude: wrong shape (5, 5), expected (3, 5)",
        C.LARGE_INPUTS: "backward_inputs: wrong shape (5, 5), expected (3, 5)",
    }


def blocked(layer):
    """The failing checks that could not run (a failure before them took what they need)."""
    return {c["name"] for c in layer["checks"] if not c["ok"] and c["detail"].startswith("could not run: ")}


def test_seed_resblock_solution_1(tmp_path):
    layers, _ = check(tmp_path, "seed_resblock1", expect_rc=1)
    bad = failing(layers["ResBlock"])
    assert first_failure(layers["ResBlock"]) == f"{C.FORWARD}: returned None, not an array (a missing return?)"
    # Every other check needs forward's output: each is a failure that says why it could not run, none passes.
    assert set(bad) - blocked(layers["ResBlock"]) == {C.FORWARD, C.SECOND_POINT}
    passed = {c["name"] for c in layers["ResBlock"]["checks"] if c["ok"]}
    # The checks that need no output of the first call: the input is left as it was; the second point
    # fails on its own (forward returns nothing there either).
    assert passed == {C.FORWARD_SIDE_EFFECTS}
    # With the return added, the next defect: grads masked in place, so the skip path is masked too.
    layers, _ = check(tmp_path, "seed_resblock1_returning", expect_rc=1)
    bad = failing(layers["ResBlock"])
    assert "in-place mutation of grads" in bad["side effects: backward_inputs leaves `grads` unchanged"]
    assert "in-place mutation of grads" in bad["side effects: backward_params leaves `grads` unchanged"]
    assert "consistent with the in-place change" in bad["backward_inputs (∂L/∂inputs) vs finite differences"]
    assert not any(k.startswith("backward_params[") for k in bad)  # the weight gradients are right
    assert "forward vs jaxdl res_block" not in bad


def test_seed_resblock_solution_2(tmp_path):
    # With the lab's FC(input_layer, ...) it cannot be built: it passes an int as the input layer.
    layers, _ = check(tmp_path, "seed_resblock2", expect_rc=1)
    assert failing(layers["ResBlock"]) == {
        "build": "cannot build: raised AttributeError: 'int' object has no attribute 'shape' (line 14)"}
    assert layers["FC"]["ok"] and layers["ReLU"]["ok"]
    # With the signatures it assumes, it is right: `[dL_dW, dL_db, _]` unpacks the FC's pairs.
    layers, _ = check(tmp_path, "seed_resblock2_own_signatures", expect_rc=0)
    assert layers["ResBlock"]["ok"]


@pytest.mark.parametrize(
    "file, cls, check_name, detail",
    [
        ("lab_mistakes", "FCNoBatchSum", "backward_params[1] (self.bias, shape (4,)) vs finite differences",
         "missing sum over the batch"),
        ("lab_mistakes", "FCTransposedGrad", "backward_params[0] (self.weights, shape (4, 5)) vs finite differences",
         "transposed result"),
        ("lab_mistakes", "ReLUInPlace", "side effects: backward_inputs leaves `grads` unchanged",
         "in-place mutation of grads"),
        ("lab_mistakes", "SwishWrongSign", "backward_inputs (∂L/∂inputs) vs finite differences", "max abs err"),
        ("lab_mistakes", "SoftmaxNoShift", "stable at logits shifted by 1000",
         "exp overflows without subtracting the max logit"),
        ("lab_mistakes", "SoftmaxNoShift", "stable at logits of magnitude 1000",
         "exp overflows without subtracting the max logit"),
        ("lab_mistakes", "L2Mismatch", "gradient matches its own loss (finite differences)", "off by a factor of 1/2"),
        ("lab_mistakes", "HangingLayer", "forward", "stopped after 1 s of CPU time during forward"),
        # Gradients that a checker must not skip.
        ("lab_gaps", "FCStubBackwardParams", "backward_params",
         "returned None, but forward depends on self.weights, self.bias"),
        ("lab_gaps", "FCNoBiasPair", "backward_params covers every parameter forward depends on",
         "no gradient for self.bias"),
        ("lab_gaps", "FCDictParamsNoBias", "backward_params covers every parameter forward depends on",
         "no gradient for self.params['b']"),
        ("lab_gaps", "FCWithoutBackwardParams", "backward_params",
         "no backward_params method, but forward depends on self.weights"),
        ("lab_gaps", "FCComputesInFloat32", "backward_inputs (∂L/∂inputs) vs finite differences",
         "the layer computes in float32 (its output is float32), too coarse for finite differences"),
        # A loss gradient of its own arguments; a diagnosis that names the real mistake.
        ("lab_gaps", "CachedGradLoss", "call order: forward(x1, y1), then backward_inputs(x2, y2)",
         "backward_inputs ignores its arguments: it returns the gradient of an earlier call"),
        ("lab_gaps", "LogOfSoftmax", "stable at logits of magnitude 1000",
         "the log of a probability that underflowed to 0; use log-sum-exp"),
        ("wrong_shape", "Flatten", "forward vs jaxdl flatten", "wrong shape (40, 3), expected (3, 40)"),
    ],
)
def test_mistakes_are_named(tmp_path, file, cls, check_name, detail):
    layers, _ = check(tmp_path, file, "--layer", cls, "--time-limit", "1", expect_rc=1)
    bad = failing(layers[cls])
    assert check_name in bad and detail in bad[check_name], bad


def test_log_softmax_is_not_told_it_lacks_the_max_shift(tmp_path):
    layers, _ = check(tmp_path, "lab_gaps", "--layer", "LogOfSoftmax", expect_rc=1)
    bad = failing(layers["LogOfSoftmax"])
    assert list(bad) == ["stable at logits of magnitude 1000"]  # shifted logits are fine: it does shift
    assert "overflow" not in bad["stable at logits of magnitude 1000"]


def test_float32_parameters_are_promoted_and_pass(tmp_path):
    layers, _ = check(tmp_path, "lab_gaps", "--layer", "FCFloat32Params", expect_rc=0)
    assert layers["FCFloat32Params"]["notes"] == [
        "float32 array attributes promoted to float64 for the finite differences: self.weights, self.bias"]


def test_a_file_that_cannot_be_loaded_is_one_failing_row(tmp_path, capsys):
    out = tmp_path / "grades.csv"
    assert cli.main(["check-numpy", str(FIXTURES / "syntax_error.py"), "--gradebook", str(out)]) == 1
    sandbox_line, err = capsys.readouterr().err.splitlines()
    assert sandbox_line.startswith("check-numpy: sandbox: namespaces (user, pid, net, mount, ipc, uts)")
    assert err == f"{FIXTURES / 'syntax_error.py'}: cannot load the file: SyntaxError: '(' was never closed (line 3)"
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows == [{"submission": str(FIXTURES / "syntax_error.py"), "class": "*", "ok": "false", "checks_passed": "0",
                     "checks_total": "0", "points": "0", "max_points": "0",
                     "first_failure": "cannot load the file: SyntaxError: '(' was never closed (line 3)", "notes": ""}]


def test_layer_expression_and_unknown_class(tmp_path):
    layers, _ = check(tmp_path, "lab_reference", "--layer", 'Swish(input_layer, name="s", beta=0.7)', expect_rc=0)
    assert list(layers) == ["Swish"] and "beta=0.7" in layers["Swish"]["built_as"]
    # An unknown class is not a success: nothing was checked.
    layers, _ = check(tmp_path, "lab_reference", "--layer", "NoSuchLayer", expect_rc=1)
    assert failing(layers["NoSuchLayer"]) == {"found in the file": "no layer class named 'NoSuchLayer' in the file"}


def test_nothing_to_check_is_a_failure(tmp_path, capsys):
    empty = tmp_path / "empty.py"
    empty.write_text("# nothing yet\n")
    assert cli.main(["check-numpy", str(empty)]) == 1
    assert "nothing to check: the file defines no class with a forward method" in capsys.readouterr().err


def test_im2col_standin_has_the_lab_layout():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4))
    k, pad, stride = 3, 1, 2
    cols = im2col_cython(x, k, k, pad, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (5 + 2 * pad - k) // stride + 1, (4 + 2 * pad - k) // stride + 1
    for c in range(3):
        for i in range(k):
            for j in range(k):
                for yy in range(ho):
                    for xx in range(wo):
                        for n in range(2):
                            assert cols[c * k * k + i * k + j, (yy * wo + xx) * 2 + n] == xp[n, c, stride * yy + i, stride * xx + j]
    # col2im is the adjoint of im2col: <im2col(x), g> = <x, col2im(g)>.
    g = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.sum(cols * g), np.sum(x * col2im_cython(g, 2, 3, 5, 4, k, k, pad, stride)))


def test_a_layer_that_raises_midway_is_reported_and_the_checker_goes_on(tmp_path):
    layers, _ = check(tmp_path, "odd_layers", expect_rc=1)
    assert first_failure(layers["Flaky"]) == f"{C.BI_FD}: could not run: raised RuntimeError: only three forwards (line 13)"
    assert layers["Fine"]["ok"]  # no backward_params method and no parameters: nothing is missing
    assert C.NO_PARAMS in {c["name"] for c in layers["Fine"]["checks"]}


# --------------------------------------------------------------------------------------------
# Hostile files: the verdict is decided outside their process.


HOSTILE_REASONS = {
    "ExitsZero": "forward: the student's process exited with status 0 during forward",
    "SysExit": "forward: raised SystemExit: 0 (line 36)",
    "RaisesSystemExitLater": "backward_inputs: raised SystemExit: 0 (line 41)",
    "RaisesKeyboardInterrupt": "forward: raised KeyboardInterrupt (line 46)",
    # Sleeping uses no CPU time: the clock stops it (3 × the limit + 2 s).
    "SwallowsTheTimeout": "forward: stopped after 8 s during forward without using its 2 s of CPU time "
                          "(sleeping or waiting?)",
    "EatsMemory": "forward: exceeded the memory limit of 512 MB during forward (MemoryError)",
    "KillsItself": "forward: the student's process was killed by SIGKILL during forward",
    # Printing never waits on the checker: a flood runs into its CPU limit, whatever the load.
    "FloodsStdout": "forward: stopped after 2 s of CPU time during forward (an endless loop?)",
    "WritesIntoTheChannel": "forward: the student's process wrote into the checker's channel during forward",
    "ImportsJax": "forward: imports jax: JAX differentiates for the student (a lab file may import numpy, scipy, the "
                  "standard library and the lab's im2col_cython)",
}


def test_hostile_layers_fail_with_their_reason_and_the_checker_is_intact(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    layers, sub = check(tmp_path, HOSTILE / "hostile_layers.py", "--time-limit", "2", "--memory-limit", "512",
                        expect_rc=1)
    assert layers["ReLU"]["ok"], failing(layers["ReLU"])
    reasons = {name: first_failure(layer) for name, layer in layers.items() if name != "ReLU"}
    assert reasons == HOSTILE_REASONS
    out = capsys.readouterr().out
    assert "1/11 classes ok" in out and "flood flood" not in out
    # The flood was captured and cut; the relative write landed in the worker's scratch directory.
    assert sub["stdout"].startswith("flood flood") and sub["stdout"].endswith("\n[… more output not kept]")
    assert len(sub["stdout"].encode()) <= (4 << 10) + 40
    assert os.listdir(tmp_path) == ["report.json"]
    assert not (HOSTILE / "relative_write.txt").exists()


@contextlib.contextmanager
def _busy_cores():
    """Every core busy: two spinning processes per core, half of them in this process's session
    (the checker's own scheduling group, as the suite's other workers are), half each in a session
    of its own (a scheduling group of its own, as another user's or a classmate's would be)."""
    n = 2 * (os.cpu_count() or 1)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=bool(i % 2))
                for i in range(n)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.wait()


def test_a_flood_runs_into_its_cpu_limit_however_slowly_the_checker_reads(tmp_path, monkeypatch):
    from jaxdl.check.numpy_check import sandbox

    drain = sandbox.Worker._drain

    def slow_drain(self, fd, sel):  # a checker starved of processor time reads the worker's output late
        time.sleep(0.25)
        drain(self, fd, sel)

    monkeypatch.setattr(sandbox.Worker, "_drain", slow_drain)
    layers, sub = check(tmp_path, HOSTILE / "hostile_layers.py", "--layer", "FloodsStdout", "--time-limit", "1",
                        expect_rc=1)
    assert first_failure(layers["FloodsStdout"]) == \
        "forward: stopped after 1 s of CPU time during forward (an endless loop?)"
    assert sub["stdout"].startswith("flood flood") and sub["stdout"].endswith("\n[… more output not kept]")


@pytest.mark.slow
def test_verdict_reasons_hold_on_a_machine_whose_cores_are_busy(tmp_path):
    timed = ("FloodsStdout", "EatsMemory", "KillsItself")  # reasons a busy machine could change
    with _busy_cores():
        layers, _ = check(tmp_path, HOSTILE / "hostile_layers.py", "--time-limit", "2", "--memory-limit", "512",
                          *[a for name in timed for a in ("--layer", name)], expect_rc=1)
        hanging, _ = check(tmp_path, "lab_mistakes", "--layer", "HangingLayer", "--time-limit", "1", expect_rc=1)
    assert {name: first_failure(layer) for name, layer in layers.items()} == {n: HOSTILE_REASONS[n] for n in timed}
    assert first_failure(hanging["HangingLayer"]) == \
        "forward: stopped after 1 s of CPU time during forward (an endless loop?)"


def test_numpy_patched_at_import_cannot_change_the_verdict(tmp_path):
    layers, _ = check(tmp_path, HOSTILE / "patches_numpy.py", expect_rc=1)
    bad = failing(layers["ReLU"])  # returns 3·x with backward 7·grads: |7g − 3g| / |3g| = 4/3 everywhere
    assert "(rel 1.33)" in bad["backward_inputs (∂L/∂inputs) vs finite differences"]
    assert "forward vs jaxdl relu" in bad
    assert layers["Scale"]["ok"]


def test_a_file_that_exits_at_import_fails(tmp_path, capsys):
    _, sub = check(tmp_path, HOSTILE / "exits_at_import.py", expect_rc=1)
    assert sub["error"] == "the student's process exited with status 0 during import" and sub["classes"] == []


def test_the_wire_format_carries_numbers_only():
    header, arrays = wire.decode_frame(wire.encode_frame({"x": 1}, [np.arange(6.0).reshape(2, 3), np.float32(2)]))
    assert header == {"x": 1} and arrays[0].tolist() == [[0, 1, 2], [3, 4, 5]] and arrays[1].shape == ()
    good = wire.encode_frame({}, [np.zeros(2)])
    n_text, _ = wire.frame_lengths(good)
    objects = good[8:8 + n_text].replace(b"<f8", b"|O8")  # an object array: refused, never unpickled
    for frame in (good[:-1], good + b"x", good[:8 + n_text].replace(b"<f8", b"|O8") + good[8 + n_text:],
                  good[:8] + objects + good[8 + n_text:]):
        with pytest.raises(wire.BadFrame):
            wire.decode_frame(frame)
    with pytest.raises(wire.BadFrame):
        wire.decode_value({"$pickle": "gASV"}, [])


# --------------------------------------------------------------------------------------------
# A class of submissions.


def _class_folder(root: pathlib.Path) -> pathlib.Path:
    subs = root / "submissions"
    subs.mkdir()
    shutil.copy(REFERENCE, subs / "alice.py")  # correct
    (subs / "bob").mkdir()
    shutil.copy(FIXTURES / "seed_quiz.py", subs / "bob" / "layers.py")  # faulty
    (subs / "carol").mkdir()  # correct, importing a module of her own
    (subs / "carol" / "helpers.py").write_text("def positive(x):\n    return x > 0\n")
    (subs / "carol" / "layers.py").write_text(
        "import numpy as np\nfrom helpers import positive\n\n\nclass ReLU:\n"
        "    def __init__(self, input_layer, name):\n        self.name = name\n\n"
        "    def forward(self, inputs):\n        self.inputs = inputs\n        return np.maximum(inputs, 0)\n\n"
        "    def backward_inputs(self, grads):\n        return grads * positive(self.inputs)\n")
    shutil.copy(HOSTILE / "exits_at_import.py", subs / "dave.py")
    (subs / "erin.py").write_bytes(b"# caf\xe9\nclass A:\n    pass\n")  # not UTF-8
    (subs / "frank").mkdir()  # a folder without layers.py
    shutil.copy(FIXTURES / "syntax_error.py", subs / "gina.py")
    shutil.copy(HOSTILE / "patches_numpy.py", subs / "hank.py")
    (subs / "ivan.py").write_text("")
    return subs


def test_a_class_folder_gives_the_same_gradebook_every_time(tmp_path, capsys):
    subs = _class_folder(tmp_path)
    runs = []
    for i in range(2):
        book, report = tmp_path / f"grades{i}.csv", tmp_path / f"report{i}.json"
        assert cli.main(["check-numpy", str(subs), "--jobs", "2", "--gradebook", str(book), "--json", str(report),
                         "--no-progress"]) == 1
        runs.append((book.read_bytes(), report.read_bytes()))
    assert runs[0] == runs[1]
    rows = list(csv.DictReader(io.StringIO(runs[0][0].decode())))
    assert list(rows[0]) == ["submission", "class", "ok", "checks_passed", "checks_total", "points", "max_points",
                             "first_failure", "notes"]
    s = str(subs)
    verdicts = [(r["submission"][len(s) + 1:], r["class"], r["ok"]) for r in rows]
    lab = ["FC", "ReLU", "Convolution", "MaxPooling", "Flatten", "SoftmaxCrossEntropyWithLogits", "L2Regularizer",
           "RegularizedLoss", "Quadratic", "Swish", "ResBlock"]
    assert verdicts == (
        [("alice.py", c, "true") for c in lab]
        + [("bob", "Quadratic", "false"), ("bob", "Swish", "false"), ("carol", "ReLU", "true"),
           ("dave.py", "*", "false"), ("erin.py", "*", "false"), ("frank", "*", "false"), ("gina.py", "*", "false"),
           ("hank.py", "ReLU", "false"), ("hank.py", "Scale", "true"), ("ivan.py", "*", "false")])
    failures = {r["submission"][len(s) + 1:]: r["first_failure"] for r in rows if r["class"] == "*"}
    assert failures == {
        "dave.py": "the student's process exited with status 0 during import",
        "erin.py": "cannot load the file: not a UTF-8 text file (byte 5)",
        "frank": "the folder has no layers.py (it holds nothing; --entry NAME names the file)",
        "gina.py": "cannot load the file: SyntaxError: '(' was never closed (line 3)",
        "ivan.py": "nothing to check: the file defines no class with a forward method",
    }
    out, err = capsys.readouterr()
    assert "2/9 submissions pass" in out  # alice and carol
    lines = err.strip().splitlines()
    assert len([line for line in lines if not line.startswith("check-numpy: sandbox:")]) == 2 * 5  # one per unloadable
    assert len(lines) == 2 * 6  # ... and the sandbox's walls once per run


@pytest.mark.parametrize(
    "args, message",
    [
        (["no/such/path.py"], "no such file or directory: 'no/such/path.py'"),
        (["{tmp}/notes.txt"], "is not a .py file, a .zip or a directory of submissions"),
        (["{tmp}/empty"], "no submissions in"),
        (["{ref}", "--time-limit", "1e300"], "expected at most 1000000 seconds; got 1e+300"),
        (["{ref}", "--time-limit", "nan"], "expected a finite number > 0; got nan"),
        (["{ref}", "--memory-limit", "10"], "expected a number of megabytes from 256"),
        (["{ref}", "--jobs", "0"], "expected an integer >= 1; got 0"),
        (["{ref}", "--gradebook", "{ref}"], "refusing to write"),
        (["{tmp}/s", "--json", "{tmp}/s/a.py"], "refusing to write"),
        (["{ref}", "--json", "{tmp}/notes.txt/out.json"], "is not a directory"),
        (["{ref}", "--gradebook", "{tmp}/g.csv", "--json", "{tmp}/g.csv"], "name the same file"),
    ],
)
def test_bad_input_is_exit_2_before_any_work(tmp_path, capsys, args, message):
    (tmp_path / "notes.txt").write_text("not python\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.py").write_text("x = 1\n")
    before = (tmp_path / "s" / "a.py").read_text(), REFERENCE.read_text()
    args = [a.format(tmp=tmp_path, ref=REFERENCE) for a in args]
    assert cli.main(["check-numpy", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("\n") == 1
    assert ((tmp_path / "s" / "a.py").read_text(), REFERENCE.read_text()) == before
