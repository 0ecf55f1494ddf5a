"""What ok means: every check a class's kind requires ran to completion on finite numbers and
passed, with the configuration the checker chose. Each fixture in ``false_ok/`` was reported ok
by an earlier checker; each must now fail with its reason, while the correct class beside it in
the same file stays ok."""

import functools
import pathlib

import numpy as np
import pytest

from jaxdl.check.numpy_check import Check, Options, build, checks as C, grade_submission
from jaxdl.check.numpy_check.discover import Submission
from jaxdl.labspec import GENERIC_LAYER, GENERIC_LOSS, GENERIC_REGULARIZER
from jaxdl.registry import lab_classes

LAB = lab_classes()

FALSE_OK = pathlib.Path(__file__).parent / "fixtures" / "numpy_lab" / "false_ok"
REFERENCE = pathlib.Path(__file__).parent.parent / "jaxdl" / "check" / "lab_reference.py"


@functools.cache
def graded(name: str, cpu_budget: float | None = None, assignment: str = ""):
    """One fixture graded once per test session (``assignment``: an assignment file's text)."""
    path = FALSE_OK / f"{name}.py" if name != "lab_reference" else REFERENCE
    spec = None
    if assignment:
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(assignment)
        spec = build.load_assignment(f.name, None)
    result = grade_submission(Submission(name=str(path), file=str(path)), Options(time_limit=5, cpu_budget=cpu_budget,
                                                                        assignment=spec))
    return result, {c.cls: c for c in result.classes}


def failures(res) -> dict[str, str]:
    return {c.name: c.detail for c in res.checks if not c.ok}


CASES = [
    # A comparison that cannot be made is a failure, not a note.
    ("cannot_compare", "FC", C.OUTPUT_SHAPE, "(3, 5) for the input (3, 5); expected (3, 4) from the arguments the "
                                             "checker passed (num_outputs=4)"),
    ("cannot_compare", "FC", C.reference_forward_label("dense"), "could not run: there is no backward_params method"),
    ("cannot_compare", "Dense", C.reference_forward_label("dense"), "max abs err"),
    # Parameters wherever they live: a tuple, views of one buffer, NaN when probed, read-only.
    ("hidden_params", "TupleAffine", "backward_params",
     "no backward_params method, but forward depends on self.params[0], self.params[1]"),
    ("hidden_params", "FlatAffine", C.PARAMS_COVER, "no gradient for self.b"),
    ("hidden_params", "NaNWhenProbed", C.NO_PARAMS,
     "could not run: forward returned NaN or inf when self.W was perturbed by about 1%"),
    ("hidden_params", "ReadOnly", "backward_params", "no backward_params method, but forward depends on self.W"),
    # The checker's arguments, never the instance's own attributes.
    ("own_hyperparameters", "Swish", C.reference_forward_label("swish"), "max abs err"),
    ("own_hyperparameters", "LeakyReLU", C.reference_forward_label("leaky_relu"), "max abs err"),
    ("own_hyperparameters", "MaxPooling", C.OUTPUT_SHAPE, "expected (3, 2, 3, 4) from the arguments the checker "
                                                          "passed (pool_size=2, stride=2)"),
    # No infinite reference passes anything.
    ("infinite", "Tanh", C.BI_FD, "could not run: forward returned NaN or inf at a finite-difference point "
                                  "(entry (0, 0) + 1e-06)"),
    ("infinite", "Softsign", C.BI_FD, "could not run: forward returned NaN or inf at a finite-difference point"),
    # Frameworks that differentiate for the student are refused, each by name.
    ("autodiff", "Tanh", C.BACKWARD_INPUTS, "imports torch: PyTorch differentiates for the student (a lab file may import numpy, scipy, the standard library and the lab's im2col_cython)"),
    ("autodiff", "Swish", C.BACKWARD_INPUTS, "imports jax: JAX differentiates for the student (a lab file may import numpy, scipy, the standard library and the lab's im2col_cython)"),
    # make_layers() is used, and capped.
    ("make_layers", "make_layers()[0] Scale", C.BI_FD, "max abs err"),
    ("make_layers_too_many", "make_layers()", "make_layers()", "make_layers() built 40 layers; at most 16 are checked"),
    # Sizes that coincide would let a confusion of one for another pass: every size differs.
    ("confused_sizes", "FC", C.FORWARD, "operands could not be broadcast together"),
    ("confused_sizes", "MaxPooling", C.FORWARD, "cannot reshape array"),
    ("conv_hardcoded", "Convolution", C.FORWARD, "mismatch in its core dimension"),
    # Weights the student did not choose (zeros hid a backward that drops a term).
    ("zero_weights", "Convolution", C.BI_FD, "max abs err"),
    ("zero_weights", "Quadratic", C.BI_FD, "max abs err"),
    ("zero_weights", "ResBlock", C.BI_FD, "max abs err"),
    ("zero_weights", "FC", C.BI_FD, "max abs err"),
    # A second input and upstream gradient: results cached from the first call, formulas for small inputs.
    ("stale_cache", "MaxPooling", C.SECOND_POINT, "backward_inputs at an input up to 8 in magnitude"),
    ("stale_cache", "Sigmoid", C.SECOND_POINT, "backward_inputs at an input up to 8 in magnitude"),
    ("stale_cache", "FC", C.SECOND_POINT, "backward_params[0] at an input up to 8 in magnitude"),
    ("input_range", "ReLU", C.SECOND_POINT, "forward at an input up to 8 in magnitude"),
    ("input_range", "Sigmoid", C.LARGE_INPUTS, "forward: NaN or inf in the result"),
    ("unstable_backward", "Sigmoid", C.LARGE_INPUTS, "backward_inputs: NaN or inf in the result"),
    ("unstable_backward", "SoftmaxCrossEntropyWithLogits", C.STABLE_BACKWARD,
     "exp overflows without subtracting the max logit"),
    # The checker's memory: linear in a parameter's size, and capped.
    ("big_params", "Huge", C.NO_PARAMS, "self.w is too large to check"),
    ("big_params", "CopyParam", C.PARAMS_COVER, "no gradient for self.w"),
]
STILL_OK = {"cannot_compare": "ReLU", "hidden_params": "Scale", "own_hyperparameters": "Sigmoid", "infinite": "Sigmoid",
            "autodiff": "ReLU", "make_layers": "make_layers()[1] Scale", "make_layers_too_many": "Identity",
            "big_params": "Wide"}

# Correct classes written as real students might (other layouts, signatures, starts), each ok; and
# the few that fail on purpose, with the reason the README gives.
VARIANTS = {
    "conv_hwcf": {"Convolution": True},  # kernel stored (k, k, C, F)
    "conv_own_im2col": {"Convolution": True},  # (F, k·k·C) with columns in (kh, kw, C) order
    "conv_flipped": {"Convolution": True},  # a true convolution: the kernel stored flipped
    "symmetric_start": {"ResBlock": True, "Quadratic": True},  # (out, in) storage, a symmetric start
    "zero_start": {"FC": True, "ResBlock": True, "Quadratic": True},  # zeros, the identity
    # A buffer of backward's own; a cache freed by backward_params (which the lab calls last); a
    # backward_params that reuses the grads backward_inputs saw (the lab's loop passes the same).
    "buffers": {"ReLU": True, "ResBlock": True, "FC": True},
    "signatures": {"Swish": True, "ReLU": True, "Sigmoid": True, "LeakyReLU": True, "Flatten": True},
    "float32_views": {"FC": True, "Sigmoid": C.BI_FD},  # a float32 computation cannot be checked at 1e-6
    "layouts": {"FC": True, "Flatten": True, "ReLU": True, "MaxPooling": True, "SoftmaxCrossEntropyWithLogits": True,
                "L2Regularizer": C.REG_SAME_WEIGHTS},  # a copy of the weights is never updated by training
    "flags": {"Dropout": True, "Flatten": C.reference_forward_label("flatten")},  # channels-last is not the lab's order
}


@functools.cache
def graded_variant(name: str):
    path = FALSE_OK.parent / "correct_variants" / f"{name}.py"
    result = grade_submission(Submission(name=str(path), file=str(path)), Options(time_limit=5))
    return {c.cls: c for c in result.classes}


@pytest.mark.parametrize("file, cls", [(f, c) for f, classes in VARIANTS.items() for c in classes])
def test_correct_classes_in_other_styles_pass(file, cls):
    res, expected = graded_variant(file)[cls], VARIANTS[file][cls]
    if expected is True:
        assert res.ok, failures(res)
    else:
        assert not res.ok and expected in failures(res), failures(res)


@pytest.mark.parametrize("file, cls, label, detail", CASES, ids=[f"{f}-{c}-{lab[:20]}" for f, c, lab, _ in CASES])
def test_a_class_once_passed_now_fails_with_its_reason(file, cls, label, detail):
    _, classes = graded(file)
    res = classes[cls]
    assert not res.ok
    bad = failures(res)
    assert label in bad and detail in bad[label], bad


@pytest.mark.parametrize("file", sorted(STILL_OK))
def test_the_correct_class_beside_them_stays_ok(file):
    _, classes = graded(file)
    res = classes[STILL_OK[file]]
    assert res.ok, failures(res)


def test_a_file_importing_torch_is_refused_with_the_reason():
    result, _ = graded("imports_torch")
    assert result.error == "cannot import the file: imports torch: PyTorch differentiates for the student (a lab file may import numpy, scipy, the standard library and the lab's im2col_cython)"


def test_a_submission_has_a_cpu_budget():
    result, classes = graded("budget", cpu_budget=4.5)
    assert classes["First"].ok
    assert "used up its CPU budget of 4.5 s" in classes["Second"].first_failure
    assert classes["Third"].first_failure == "import: not checked: the submission used up its CPU budget of 4.5 s"


def test_every_required_check_exists_and_a_correct_class_runs_all_of_them():
    _, classes = graded("lab_reference")
    for lab in [*LAB.values(), GENERIC_LAYER, GENERIC_LOSS, GENERIC_REGULARIZER]:
        assert C.required_checks(lab), lab.names  # every kind requires checks, each declared once
    by_kind = {name: next(c for c in classes.values() if build.lab_of(c.cls)[0] == name)
               for name in LAB if any(build.lab_of(c.cls)[0] == name for c in classes.values())}
    assert set(by_kind) == {"dense", "relu", "conv2d", "max_pool2d", "flatten", "softmax_cross_entropy",
                            "l2_regularizer", "regularized_loss", "quadratic", "swish", "res_block"}
    for name, res in by_kind.items():
        assert res.ok and len(res.checks) == C.expected_points(LAB[name]), (name, len(res.checks))


# --------------------------------------------------------------------------------------------
# The assignment: required classes, how each is built, points.

ASSIGNMENT = """\
[FC]
points = 4
[Convolution]
points = 4
build = "Convolution(input_layer, num_filters=2, kernel_size=3, name='conv')"
[Swish]
points = 2
all_or_nothing = true
build = "Swish(input_layer, name='s', beta=0.5)"
"""


def test_an_assignment_requires_classes_and_gives_points(tmp_path):
    import csv
    import io
    import shutil

    from jaxdl import cli

    (tmp_path / "lab2.toml").write_text(ASSIGNMENT)
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(REFERENCE, folder / "alice.py")
    shutil.copy(FALSE_OK.parent / "seed_quiz.py", folder / "bob.py")  # a wrong Swish, no FC, no Convolution
    book = tmp_path / "grades.csv"
    assert cli.main(["check-numpy", str(folder), "--assignment", str(tmp_path / "lab2.toml"), "--gradebook", str(book),
                     "--no-progress"]) == 1
    rows = {(r["submission"].rsplit("/", 1)[-1], r["class"]): r for r in csv.DictReader(io.StringIO(book.read_text()))}
    assert set(rows) == {(s, c) for s in ("alice.py", "bob.py") for c in ("FC", "Convolution", "Swish")}
    assert [rows[("alice.py", c)]["points"] for c in ("FC", "Convolution", "Swish")] == ["4", "4", "2"]
    assert rows[("bob.py", "FC")]["first_failure"] == "found in the file: no layer class named 'FC' in the file"
    assert (rows[("bob.py", "FC")]["points"], rows[("bob.py", "FC")]["max_points"]) == ("0", "4")
    assert (rows[("bob.py", "Swish")]["points"], rows[("bob.py", "Swish")]["max_points"]) == ("0", "2")  # all or nothing
    # The assignment's arguments are the ones compared with: jaxdl's conv2d with 2 filters, swish with β = 0.5.
    _, classes = graded("lab_reference", assignment=ASSIGNMENT)
    assert "beta=0.5" in classes["Swish"].built_as and "num_filters=2" in classes["Convolution"].built_as


def test_partial_credit_is_the_share_of_checks_passed(tmp_path):
    _, classes = graded("../seed_quiz", assignment="[Swish]\npoints = 10\n[Quadratic]\n")
    swish, quad = classes["Swish"], classes["Quadratic"]
    passed = sum(c.ok for c in swish.checks)
    assert swish.points == round(10 * passed / len(swish.checks), 2) and 0 < swish.points < 10
    assert quad.out_of == C.expected_points(LAB["quadratic"]) == 19  # one point per check by default
    assert quad.points == sum(c.ok for c in quad.checks)


@pytest.mark.parametrize("args, message", [
    (["--require", "FC,Softmax"], "unknown class 'Softmax' in the assignment; known:"),
    (["--assignment", "{tmp}/bad_arg.toml"], "[FC] build passes 'num_output', which the lab's FC does not take"),
    (["--assignment", "{tmp}/bad_key.toml"], "[FC] has unknown key 'pionts'"),
    (["--assignment", "{tmp}/not.toml"], "is not valid TOML"),
    (["--assignment", "{tmp}/missing.toml"], "cannot read"),
    (["--layer", "Swish(beta=lambda: 1)"], "is not a literal value"),
    (["--layer", "ReLU", "--require", "ReLU"], "--layer and --require/--assignment both choose the classes"),
])
def test_a_bad_assignment_is_exit_2_before_any_submission_runs(tmp_path, capsys, args, message):
    from jaxdl import cli

    (tmp_path / "bad_arg.toml").write_text("[FC]\nbuild = \"FC(input_layer, num_output=3, name='fc')\"\n")
    (tmp_path / "bad_key.toml").write_text("[FC]\npionts = 3\n")
    (tmp_path / "not.toml").write_text("[FC\n")
    args = [a.format(tmp=tmp_path) for a in args]
    assert cli.main(["check-numpy", str(REFERENCE), *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("\n") == 1


def test_the_documented_kinds_and_assignment_are_the_real_ones(tmp_path):
    import re

    root = REFERENCE.parents[2]
    readme, guide = (root / "README.md").read_text(), (root / "docs" / "grading.md").read_text()
    table = guide[guide.index("| kind (lab classes) | built as | checks |"):]
    counts = {"`FC`, `Convolution`, `Quadratic`, `ResBlock`": {"dense", "conv2d", "quadratic", "res_block"},
              "`ReLU`, `LeakyReLU`, `Sigmoid`, `Swish`": {"relu", "leaky_relu", "sigmoid", "swish"},
              "`MaxPooling`, `Flatten`": {"max_pool2d", "flatten"}}
    for names, kinds in counts.items():
        n = int(re.search(re.escape(names) + r" \| [^|]* \| (\d+)[:,]", table).group(1))
        assert {C.expected_points(LAB[k]) for k in kinds} == {n}, names
    assert re.search(r"`SoftmaxCrossEntropyWithLogits` \| [^|]* \| 9:", table)
    assert re.search(r"`L2Regularizer` \| [^|]* \| 5:", table)
    assert re.search(r"`RegularizedLoss` \| [^|]* \| 8:", table)
    assert C.expected_points(LAB["softmax_cross_entropy"]) == 9
    assert C.expected_points(LAB["l2_regularizer"]) == 5
    assert C.expected_points(LAB["regularized_loss"]) == 8
    for text in (readme, guide):  # every assignment shown loads
        for block in re.findall(r"```toml\n(.*?)```", text, re.S):
            (tmp_path / "a.toml").write_text(block)
            assert build.load_assignment(str(tmp_path / "a.toml"), None)


@pytest.mark.parametrize("b", [0.5, 0.0])
def test_the_reference_quadratic_refuses_other_shapes_whatever_b(b):
    import numpy as np

    from jaxdl.check import lab_reference
    from jaxdl.check.numpy_check import InputStub

    with pytest.raises(ValueError, match="needs num_outputs = D; got num_outputs=3, D=4"):
        lab_reference.Quadratic(InputStub((2, 4)), 3, "q", b)
    layer = lab_reference.Quadratic(InputStub((2, 4)), 4, "q", b)  # M = D: built, and forward runs
    assert layer.forward(np.ones((2, 4))).shape == (2, 4)


TANH_LAB = '''
import numpy as np


class Tanh:
    def __init__(self, input_layer, name):
        self.name, self.shape, self.has_params = name, input_layer.shape, False

    def forward(self, inputs):
        self.y = {scale}np.tanh(inputs)
        return self.y

    def backward_inputs(self, grads):
        return grads * {derivative}
'''


def test_a_layer_check_numpy_compares_is_one_registry_entry(tmp_path, monkeypatch):
    import jax.numpy as jnp

    import jaxdl
    from jaxdl.labspec import LabClass
    from jaxdl.registry import REGISTRY, Entry

    tanh = jaxdl.elementwise("tanh", jnp.tanh, lambda x: 1 - jnp.tanh(x) ** 2)
    monkeypatch.setitem(REGISTRY, "tanh", Entry(lambda: tanh, (4, 6), lab=LabClass(
        names=("Tanh",), input_shape=(3, 5), reference=lambda: tanh, elementwise=True)))
    right = tmp_path / "right.py"
    right.write_text(TANH_LAB.format(scale="", derivative="(1 - self.y ** 2)"))
    # Self-consistent (its backward is its own forward's derivative) and wrong: 2·tanh.
    wrong = tmp_path / "wrong.py"
    wrong.write_text(TANH_LAB.format(scale="2 * ", derivative="(2 - self.y ** 2 / 2)"))
    results = {p.stem: grade_submission(Submission(name=str(p), file=str(p)), Options(time_limit=5)).classes[0]
               for p in (right, wrong)}
    assert results["right"].ok and len(results["right"].checks) == C.expected_points(REGISTRY["tanh"].lab)
    assert C.reference_forward_label("tanh") in {c.name for c in results["right"].checks}
    assert not results["wrong"].ok
    assert "max abs err" in failures(results["wrong"])[C.reference_forward_label("tanh")]


def test_a_check_is_declared_once_and_every_kind_that_requires_it_runs_it(tmp_path, monkeypatch):
    """A toy check, declared at run time with its name, label, points and the kinds that require it:
    an elementwise activation runs it (and is worth its points more), a loss does not."""
    monkeypatch.setattr(C, "CHECKS", dict(C.CHECKS))  # declared on a copy, gone after the test

    @C.check("toy_finite_at_zero", label="toy: forward at zero is finite", required=("elementwise",), points=3)
    def toy(ctx):
        r = ctx.student.call("forward", np.zeros(ctx.input_shape), label="toy: forward at zero is finite")
        return Check(name="toy: forward at zero is finite", ok=r.ok and bool(np.all(np.isfinite(r.value))))

    with pytest.raises(ValueError, match="declared twice"):
        C.check("toy_finite_at_zero", label="again", required=("loss",))(toy)
    assert C.required_checks(LAB["relu"])[-1] == "toy_finite_at_zero"
    assert "toy_finite_at_zero" not in C.required_checks(LAB["softmax_cross_entropy"])
    assert C.expected_points(LAB["relu"]) == 12 + 3
    result = grade_submission(Submission(name=str(REFERENCE), file=str(REFERENCE)),
                              Options(layers=("ReLU",), time_limit=5))
    relu = result.classes[0]
    toy_record = relu.checks[-1]
    assert (toy_record.name, toy_record.ok, toy_record.points) == ("toy: forward at zero is finite", True, 3.0), \
        relu.internal
    assert relu.ok and relu.out_of == relu.points == 15
