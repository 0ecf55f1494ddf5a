"""`jaxdl check-numpy` on correct lab code, on the seeds' official solutions and on typical mistakes."""

import json
import pathlib

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.check.im2col_standin import col2im_cython, im2col_cython

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "numpy_lab"


REFERENCE = pathlib.Path(__file__).parent.parent / "jaxdl" / "check" / "lab_reference.py"


def check(tmp_path, name, *extra, expect_rc):
    out = tmp_path / f"{name}.json"
    path = REFERENCE if name == "lab_reference" else FIXTURES / f"{name}.py"
    assert cli.main(["check-numpy", str(path), "--json", str(out), *extra]) == expect_rc
    report = json.loads(out.read_text())
    return {layer["class"]: layer for layer in report["layers"]}, report["skipped"]


def failing(layer):
    return {c["name"]: c["detail"] for c in layer["checks"] if not c["ok"]}


def test_correct_lab_layers_all_pass(tmp_path, capsys):
    layers, skipped = check(tmp_path, "lab_reference", expect_rc=0)
    assert set(layers) == {"FC", "ReLU", "Convolution", "MaxPooling", "Flatten", "SoftmaxCrossEntropyWithLogits",
                           "L2Regularizer", "Quadratic", "Swish", "ResBlock"}
    assert skipped == []
    for name, layer in layers.items():
        assert layer["ok"], (name, failing(layer))
    # Each layer with a jaxdl counterpart is compared with it, not only with finite differences.
    names = {c["name"] for c in layers["Convolution"]["checks"]}
    assert "forward vs jaxdl conv2d" in names and "backward_params[0] (self.weights) vs jax.vjp of jaxdl conv2d" in names
    assert "forward vs jaxdl l2_regularizer (λ/2 ‖W‖²)" in {c["name"] for c in layers["L2Regularizer"]["checks"]}
    assert "10/10 layers ok" in capsys.readouterr().out


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
        "backward_inputs (∂L/∂inputs) vs finite differences": "wrong shape (4, 4), expected (3, 4)",
        "backward_inputs (∂L/∂inputs) vs jax.vjp of jaxdl swish": "wrong shape (4, 4), expected (3, 4)",
    }


def test_seed_resblock_solution_1(tmp_path):
    layers, _ = check(tmp_path, "seed_resblock1", expect_rc=1)
    assert failing(layers["ResBlock"]) == {"forward": "returned NoneType, not an array (a missing return?)"}
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
    layers, skipped = check(tmp_path, "seed_resblock2", expect_rc=0)
    assert skipped == [{"class": "ResBlock",
                        "reason": "cannot build: AttributeError: 'int' object has no attribute 'shape' (line 14)"}]
    assert layers["FC"]["ok"] and layers["ReLU"]["ok"]
    # With the signatures it assumes, it is right: `[dL_dW, dL_db, _]` unpacks the FC's pairs.
    layers, skipped = check(tmp_path, "seed_resblock2_own_signatures", expect_rc=0)
    assert layers["ResBlock"]["ok"] and skipped == []


@pytest.mark.parametrize(
    "cls, check_name, detail",
    [
        ("FCNoBatchSum", "backward_params[1] (self.bias, shape (3,)) vs finite differences", "missing sum over the batch"),
        ("FCTransposedGrad", "backward_params[0] (self.weights, shape (3, 4)) vs finite differences", "transposed result"),
        ("ReLUInPlace", "side effects: backward_inputs leaves `grads` unchanged", "in-place mutation of grads"),
        ("SwishWrongSign", "backward_inputs (∂L/∂inputs) vs finite differences", "max abs err"),
        ("SoftmaxNoShift", "stable at logits of magnitude 1000", "exp overflows without subtracting the max logit"),
        ("L2Mismatch", "gradient matches its own loss (finite differences)", "off by a factor of 1/2"),
        ("L2Mismatch", "forward vs jaxdl l2_regularizer (λ/2 ‖W‖²)", "off by a factor of 2"),
        ("HangingLayer", "time limit", "stopped after 1 s"),
    ],
)
def test_typical_mistakes_are_named(tmp_path, cls, check_name, detail):
    layers, _ = check(tmp_path, "lab_mistakes", "--layer", cls, "--time-limit", "1", expect_rc=1)
    bad = failing(layers[cls])
    assert check_name in bad and detail in bad[check_name], bad


def test_syntax_error_is_exit_2_with_the_message(capsys):
    assert cli.main(["check-numpy", str(FIXTURES / "syntax_error.py")]) == 2
    err = capsys.readouterr().err
    assert "SyntaxError: '(' was never closed (line 3)" in err and err.count("\n") == 1


def test_layer_expression_and_unknown_class(tmp_path):
    layers, skipped = check(tmp_path, "lab_reference", "--layer", 'Swish(input_layer, name="s", beta=0.7)', expect_rc=0)
    assert list(layers) == ["Swish"] and "beta=0.7" in layers["Swish"]["built_as"]
    layers, skipped = check(tmp_path, "lab_reference", "--layer", "NoSuchLayer", expect_rc=0)
    assert layers == {} and skipped == [{"class": "NoSuchLayer", "reason": "no layer class named 'NoSuchLayer' in the file"}]


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
    layers, skipped = check(tmp_path, "odd_layers", expect_rc=1)
    assert failing(layers["Flaky"]) == {"runs without raising": "raised RuntimeError: only three forwards (line 13)"}
    assert layers["Fine"]["ok"] and skipped == []  # no backward_params method: a layer without params
