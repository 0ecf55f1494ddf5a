"""The course's lab files as students hand them in (``fixtures/numpy_lab/skeleton/``, written for
these tests in the shapes real submissions have): the skeleton's imports work in the worker, every
class of the skeleton is built and checked as the lab's training script builds it, the forms the
lab leaves open pass, and a cause is named only where the file's own numbers show it."""

import ast
import functools
import json
import os
import pathlib
import shutil
import subprocess
import sysconfig

import numpy as np
import pytest
import scipy.stats

from jaxdl.check.numpy_check import Options, checks as C, grade_submission
from jaxdl.check.numpy_check.discover import Submission, discover

HERE = pathlib.Path(__file__).parent
SKELETON = HERE / "fixtures" / "numpy_lab" / "skeleton"
FALSE_OK = HERE / "fixtures" / "numpy_lab" / "false_ok"
REFERENCE = HERE.parent / "jaxdl" / "check" / "lab_reference.py"
STANDIN = HERE.parent / "jaxdl" / "check" / "im2col_standin.py"
AVAILABLE = "(a lab file may import numpy, scipy, the standard library and the lab's im2col_cython)"
LAB = ["Convolution", "MaxPooling", "Flatten", "FC", "ReLU", "SoftmaxCrossEntropyWithLogits", "L2Regularizer",
       "RegularizedLoss"]


@functools.cache
def graded(name: str, folder: pathlib.Path = SKELETON):
    """A fixture graded once per test session: ``(result, {class: its result})``."""
    path = REFERENCE if name == "lab_reference" else folder / f"{name}.py"
    result = grade_submission(Submission(name=str(path), file=str(path)), Options(time_limit=5))
    return result, {c.cls: c for c in result.classes}


def failures(res) -> dict[str, str]:
    return {c.name: c.detail for c in res.checks if not c.ok}


# --------------------------------------------------------------------------------------------
# 1. The worker's environment is the lab's.


def test_a_correct_file_in_the_skeletons_shape_passes_every_class():
    result, classes = graded("correct_lab")
    assert not result.error and list(classes) == LAB
    for name, res in classes.items():
        assert res.ok, (name, failures(res))
    # Its imports: scipy.stats (the layers' weights were drawn with truncnorm when each was built) and
    # im2col_cython, jaxdl's stand-in for a single file.
    assert result.notes == ["im2col_cython: jaxdl's numpy stand-in for im2col_cython"]
    assert result.ok


def test_scipy_runs_in_the_worker_and_its_folder_leads_nowhere_else():
    result, classes = graded("environment")
    lines = result.stdout.splitlines()
    # The skeleton's draw, inside the sandbox, equals the same draw here.
    here = scipy.stats.truncnorm(-2.0, 2.0, loc=0.0, scale=0.5).rvs((2, 3), random_state=7)
    inside = next(line for line in lines if line.startswith("truncnorm: "))
    np.testing.assert_allclose(np.array(json.loads(inside.removeprefix("truncnorm: "))), here, rtol=1e-12)
    assert classes["Sigmoid"].ok, failures(classes["Sigmoid"])  # scipy.special.expit
    beside = next(line for line in lines if line.startswith("beside scipy: "))
    assert set(ast.literal_eval(beside.removeprefix("beside scipy: "))) <= {"numpy", "numpy.libs", "scipy", "scipy.libs"}
    assert "scipy.differentiate's code: absent" in lines  # hidden
    assert {"torch absent", "jax absent", "autograd absent", "sklearn absent"} <= set(lines)


@pytest.mark.parametrize("cls, refusal", [
    ("TanhTorch", f"imports torch: PyTorch differentiates for the student {AVAILABLE}"),
    ("TanhJax", f"imports jax: JAX differentiates for the student {AVAILABLE}"),
    ("TanhAutograd", f"imports autograd: autograd differentiates for the student {AVAILABLE}"),
    ("TanhScipyDerivative", "imports scipy.differentiate: scipy's numerical differentiation (derivative, jacobian, "
                            "hessian) differentiates for the student (a lab file may import numpy, scipy, the standard "
                            "library and the lab's im2col_cython, but not scipy.differentiate)"),
    ("TanhPlotted", "imports matplotlib: not available to a lab file (it may import numpy, scipy, the standard "
                    "library and the lab's im2col_cython)"),
])
def test_what_differentiates_for_the_student_is_refused_by_name(cls, refusal):
    _, classes = graded("environment")
    assert failures(classes[cls])[C.BACKWARD_INPUTS] == refusal


@pytest.mark.parametrize("framework, name", [("torch", "PyTorch"), ("jax", "JAX"), ("autograd", "autograd")])
def test_a_file_importing_an_autodiff_framework_is_refused_with_its_name(tmp_path, framework, name):
    path = tmp_path / f"uses_{framework}.py"
    path.write_text(f"import numpy as np\nimport {framework}\n\n\nclass ReLU:\n"
                    "    def __init__(self, input_layer, name):\n        self.name = name\n\n"
                    "    def forward(self, inputs):\n        return np.maximum(inputs, 0)\n\n"
                    "    def backward_inputs(self, grads):\n        return grads\n")
    result = grade_submission(Submission(name=str(path), file=str(path)), Options(time_limit=5))
    assert result.error == f"cannot import the file: imports {framework}: {name} differentiates for the student {AVAILABLE}"


def _compile_im2col(target: pathlib.Path) -> bool:
    """A compiled im2col_cython extension (jaxdl's stand-in's code run by a C module), or False
    where this machine has no C compiler or Python headers."""
    include = sysconfig.get_paths()["include"]
    if shutil.which("cc") is None or not os.path.isfile(os.path.join(include, "Python.h")):
        return False
    source = STANDIN.read_bytes()
    c = target.parent / "im2col.c"
    c.write_text("#include <Python.h>\nstatic const unsigned char source[] = {" + ", ".join(map(str, source)) + ", 0};\n"
                 "static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"im2col_cython\", NULL, -1, NULL};\n"
                 "PyMODINIT_FUNC PyInit_im2col_cython(void) {\n"
                 "  PyObject *m = PyModule_Create(&def);\n  if (m == NULL) return NULL;\n"
                 "  PyObject *d = PyModule_GetDict(m);\n"
                 "  PyDict_SetItemString(d, \"__builtins__\", PyEval_GetBuiltins());\n"
                 "  PyObject *r = PyRun_String((const char *)source, Py_file_input, d, d);\n"
                 "  if (r == NULL) { Py_DECREF(m); return NULL; }\n  Py_DECREF(r);\n  return m;\n}\n")
    done = subprocess.run(["cc", "-shared", "-fPIC", f"-I{include}", str(c), "-o", str(target)], capture_output=True)
    c.unlink()
    return done.returncode == 0


def test_the_submissions_own_compiled_im2col_is_used_where_it_loads(tmp_path):
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    folder = tmp_path / "class"
    for student in ("compiled", "foreign"):
        (folder / student).mkdir(parents=True)
        shutil.copy(SKELETON / "correct_lab.py", folder / student / "layers.py")
    # A module built for another machine: it cannot be loaded, and the stand-in is used instead.
    (folder / "foreign" / f"im2col_cython{suffix}").write_bytes(b"not an ELF file")
    if not _compile_im2col(folder / "compiled" / f"im2col_cython{suffix}"):
        shutil.rmtree(folder / "compiled")
    with discover([str(folder)]) as found:
        results = {pathlib.Path(s.name).name: grade_submission(s, Options(layers=("Convolution",), time_limit=5))
                   for s in found}
    for r in results.values():
        assert r.classes[0].ok, failures(r.classes[0])
    foreign = results["foreign"].notes
    assert len(foreign) == 1 and foreign[0].startswith(
        "im2col_cython: jaxdl's numpy stand-in for im2col_cython (the submission's own could not be loaded: ImportError: ")
    if "compiled" in results:  # the student's compiled module, loaded inside the sandbox
        assert results["compiled"].notes == ["im2col_cython: the submission's own im2col_cython"]


# --------------------------------------------------------------------------------------------
# 2. Every class of the skeleton, as the lab's training script builds it.


def test_the_composite_is_checked_with_the_checkers_parts_and_with_the_files_own():
    _, classes = graded("correct_lab")
    res = classes["RegularizedLoss"]
    assert [c.name for c in res.checks] == [C.COMPOSITE_FORWARD, C.LOSS_SIDE_EFFECTS, C.COMPOSITE_BI,
                                            C.LOSS_CALL_ORDER, C.COMPOSITE_BP, C.OWN_FORWARD, C.OWN_BI, C.OWN_BP]
    assert res.notes == ["checked built from the checker's parts (a data loss and 2 regularizers whose numbers it "
                         "knows), then from the file's own: SoftmaxCrossEntropyWithLogits(); L2Regularizer(weights=<array "
                         "(4, 3)>, weight_decay=0.1, name='l2regularizer'); L2Regularizer(weights=<array (2, 5)>, "
                         "weight_decay=0.1, name='l2regularizer')"]


def test_a_right_composite_of_wrong_parts_passes_and_its_parts_fail():
    _, classes = graded("lab_mistakes")
    assert classes["RegularizedLoss"].ok, failures(classes["RegularizedLoss"])
    assert "SoftmaxCrossEntropy()" in classes["RegularizedLoss"].notes[0]  # its own parts: the file's first of each kind
    assert not classes["SoftmaxCrossEntropy"].ok and not classes["L2Regularization"].ok


@pytest.mark.parametrize("cls, label, detail", [
    ("LossWithoutPenalty", C.COMPOSITE_FORWARD, "it adds none of the regularizers"),
    ("LossWithPairs", C.COMPOSITE_BP, "entry 0 is a [W, grad] pair; the lab's training loop adds loss.backward_params() "
                                      "to its list of layers' results"),
    ("LossWithCopies", C.COMPOSITE_BP, "an entry's parameter is not a regularizer's weights array (a copy?)"),
    ("LossWithoutFlag", C.COMPOSITE_BP, "has_params is False: the lab's training loop calls loss.backward_params() only "
                                        "when it is True"),
])
def test_a_composite_that_combines_its_parts_wrongly_fails(cls, label, detail):
    _, classes = graded("lab_mistakes")
    bad = failures(classes[cls])
    assert label in bad and detail in bad[label], bad


def test_the_composites_forward_adds_each_part_as_computed_here():
    # The checker's parts' numbers: the file's loss must be the data loss plus both regularizers (the
    # composite that leaves them out reports the data loss it returned and each regularizer's value).
    _, classes = graded("lab_mistakes")
    detail = failures(classes["LossWithoutPenalty"])[C.COMPOSITE_FORWARD]
    got, parts = detail.split("; the data loss is ")
    loss, regs = parts.split(", the regularizers ")
    regs = regs.split(":")[0]
    assert float(got) == float(loss)
    assert len(regs.split(", ")) == 2 and all(abs(float(r)) > 0 for r in regs.split(", "))


# --------------------------------------------------------------------------------------------
# 3. The forms the lab leaves open pass; a factor it fixes fails.


def test_l2_as_lambda_norm_squared_passes_with_its_form_noted():
    _, classes = graded("correct_lab")
    assert classes["L2Regularizer"].notes == [
        "L2 regularizer written as λ ‖W‖² (gradient 2λ W): the lab leaves the factor open, and either form is accepted"]


def test_the_lab_reference_notes_the_other_form():
    _, classes = graded("lab_reference")
    assert classes["L2Regularizer"].notes == [
        "L2 regularizer written as λ/2 ‖W‖² (gradient λ W): the lab leaves the factor open, and either form is accepted"]
    _, classes = graded("own_hyperparameters", FALSE_OK)  # λ‖W‖², 2λW: an earlier checker failed it
    assert classes["L2Regularizer"].ok, failures(classes["L2Regularizer"])


def test_a_gradient_of_the_other_form_than_its_loss_fails():
    _, classes = graded("lab_mistakes")
    bad = failures(classes["L2Regularization"])
    assert bad[C.REF_REG_BACKWARD] == "λ W, the gradient of λ/2 ‖W‖²; but its loss is λ ‖W‖², whose gradient is 2λ W"
    assert bad[C.REG_FD].endswith("off by a factor of 1/2")


def test_factors_the_lab_fixes_still_fail():
    _, classes = graded("lab_mistakes")
    penalty = failures(classes["L2Penalty"])  # 2λ‖W‖²: four times λ/2 ‖W‖²
    assert C.REF_REG in penalty and C.REG_FD not in penalty  # consistent with itself, not the lab's loss
    summed = failures(classes["SoftmaxLoss"])  # the lab's loss is the mean over the batch
    assert summed[C.REF_LOSS].endswith(": N times the mean: the sum over the batch instead of the mean")
    assert C.LOSS_FD not in summed


# --------------------------------------------------------------------------------------------
# 4. A cause is named only where the file's own numbers show it.


def test_a_loss_that_subtracts_the_max_is_not_told_it_overflows():
    _, classes = graded("lab_mistakes")
    for cls in ("SoftmaxCrossEntropy", "CrossEntropy"):  # each subtracts the max logit, and has another bug
        bad = failures(classes[cls])
        assert C.STABLE_SHIFTED not in bad and C.STABLE_BACKWARD not in bad, bad
        assert not any("overflow" in d for d in bad.values()), bad
        assert C.REF_LOSS in bad


def test_a_relation_is_named_only_when_it_reproduces_the_files_numbers():
    _, classes = graded("lab_mistakes")
    # The mean over N·C entries: 1/C of the loss at 3 × 4 logits and at 5 × 6.
    nc = failures(classes["SoftmaxCrossEntropy"])[C.REF_LOSS]
    assert nc.endswith(": 1/C of the mean: the mean over all N·C entries instead of over the N examples")
    got, want = (float(v) for v in nc.split(":")[0].split(" vs "))
    assert got == pytest.approx(want / 4, rel=1e-12)
    # An N×N table of each row's log-probabilities at every label: no factor reproduces it, none is named.
    table = failures(classes["CrossEntropy"])
    assert ":" not in table[C.REF_LOSS] and "no cause is named" in table[C.STABLE_SPREAD]
    # A gradient not divided by N.
    assert failures(classes["CrossEntropyLoss"])[C.REF_LOSS_BACKWARD].endswith(
        "; N times the gradient of the mean: not divided by N")


def test_a_loss_without_the_max_shift_is_told_so_from_its_own_numbers():
    _, classes = graded("unstable_backward", FALSE_OK)
    bad = failures(classes["SoftmaxCrossEntropyWithLogits"])
    assert bad[C.STABLE_BACKWARD] == ("NaN or inf at logits shifted by 1000, finite at the logits themselves: exp "
                                      "overflows without subtracting the max logit")

