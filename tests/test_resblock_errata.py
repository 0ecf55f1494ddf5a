"""E2's errata added by method: the lab's attributes neither numpy solution sets, the alias in
solution 1's forward, the TensorFlow solution's defaults (from its documentation: TensorFlow is not
installed), and solution 2's FC and ReLU, which it does not show; each with its evidence, in both
languages."""

from __future__ import annotations

import importlib.util

import numpy as np

from jaxdl import exams
from jaxdl.exams.resblock import errata


def _new():
    found = exams.solve("resblock")["errata"]
    return {e["problem"]: e for e in found[4:]}, found


def test_four_new_errata_each_with_croatian_text():
    new, found = _new()
    assert len(found) == 8
    assert list(new) == ["E2 (numpy solutions 1 and 2)", "E2 (numpy solution 1)", "E2 (TensorFlow solution)",
                         "E2 (numpy solution 2)"]
    assert [e["kind"] for e in new.values()] == ["bug", "slip", "bug", "incomplete"]
    for e in new.values():
        assert e["hr"]["seed"] and e["hr"]["verified"] and e["hr"]["evidence"] and e["hr"]["problem"].startswith("E2")
        assert "reading has_params" not in e["hr"]["evidence"] and " ok" not in e["hr"]["evidence"]


def test_neither_numpy_solution_has_the_labs_attributes():
    # The lab's loop reads has_params of every layer; the next layer is built from input_layer.shape.
    for solution in (1, 2):
        loop, build = errata.lab_attributes(solution)
        assert loop == "AttributeError: 'ResBlock' object has no attribute 'has_params'"
        assert build == "AttributeError: 'ResBlock' object has no attribute 'shape'"
    new, _ = _new()
    assert new["E2 (numpy solutions 1 and 2)"]["evidence"].count("has no attribute 'has_params'") == 2


def test_solution_1s_forward_overwrites_h():
    assert errata.solution_1_forward_keeps_h() == (False, True)
    new, _ = _new()
    assert new["E2 (numpy solution 1)"]["evidence"].endswith("still holds h: no; it holds ReLU(h): yes")


def test_solution_2_is_right_on_the_labs_layers_by_hand():
    # W = I, b = 0, x = [1, −1], ∂L/∂out = [1, 1]: h = x, out = x + ReLU(x) = [2, −1];
    # ∂L/∂h = [1, 1] ⊙ [h > 0] = [1, 0]; ∂L/∂x = [1, 1] + [1, 0] Iᵀ = [2, 1];
    # ∂L/∂W = xᵀ ∂L/∂h = [[1, 0], [−1, 0]]; ∂L/∂b = [1, 0].
    got = errata.solution_2_on_the_labs_layers(np.eye(2), np.zeros(2), np.array([[1.0, -1.0]]), np.array([[1.0, 1.0]]))
    np.testing.assert_array_equal(got["out"], [[2, -1]])
    np.testing.assert_array_equal(got["dx"], [[2, 1]])
    np.testing.assert_array_equal(got["dW"], [[1, 0], [-1, 0]])
    np.testing.assert_array_equal(got["db"], [1, 0])
    new, _ = _new()
    assert new["E2 (numpy solution 2)"]["evidence"].endswith("out ok, dx ok, dW ok, db ok")
    assert new["E2 (numpy solution 2)"]["hr"]["evidence"].endswith("out točno, dx točno, dW točno, db točno")


def test_the_tensorflow_erratum_cites_the_documentation_and_says_it_did_not_run():
    new, _ = _new()
    e = new["E2 (TensorFlow solution)"]
    assert "TensorFlow 1.15's API documentation of tf.contrib.layers.fully_connected" in e["evidence"]
    assert "://" not in e["evidence"] + e["hr"]["evidence"]  # cited by title: the course page is read offline
    assert "The default value is a ReLU function" in e["evidence"] and e["assumes"] and e["hr"]["assumes"]
    assert "activation_fn=None" in e["verified"]
    if importlib.util.find_spec("tensorflow") is None:
        assert "not installed here: the code was not run" in e["evidence"]
        assert "ovdje nije instaliran: kod nije pokrenut" in e["hr"]["evidence"]
    assert e["evidence"].endswith("ReLU(ReLU(h)) = ReLU(h) on this sheet's h: yes")
