"""The three-way cross-check, driven by the registry: one entry here checks a layer fully."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdl
from jaxdl.check import check_layer, check_registry
from jaxdl.check.numeric import tolerance
from jaxdl.layers import dense
import jaxdl.registry
from jaxdl.registry import REGISTRY


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_layer_passes_three_way_check(name):
    layer, shape = REGISTRY[name]()
    report = check_layer(layer, shape, name=name)
    assert report.ok, report
    assert report.max_abs_err_vs_autodiff <= tolerance("autodiff")
    assert report.max_abs_err_vs_finite_diff <= tolerance("finite differences")
    _, params = layer.init(jax.random.PRNGKey(0), shape)
    expected = {"x"} | {
        "params" + "".join(f".{k.key}" for k in path)
        for path, _ in jax.tree_util.tree_leaves_with_path(params)
    }
    assert {t.tensor for t in report.tensors} == expected


def test_registry_covers_every_public_layer_constructor():
    constructors = set(jaxdl.layers.__all__)
    covered = {n.split("/")[0] for n in REGISTRY}
    assert constructors <= covered, constructors - covered


def test_every_lab_class_name_stands_for_a_checked_layer_or_loss():
    # check-numpy compares a student's class with the jaxdl function its name stands for: each
    # must be a registry layer (gradient-checked) or one of jaxdl's losses; a composite
    # (RegularizedLoss) stands for no function of its own, and its parts are lab classes of those.
    covered = {n.split("/")[0] for n in REGISTRY} | {"softmax_cross_entropy", "l2_regularizer"}
    labs = jaxdl.registry.lab_classes()
    composites = {n for n, lab in labs.items() if lab.kind == "composite"}
    assert composites == {"regularized_loss"}
    assert set(labs) - composites <= covered
    for name in composites:
        parts = {p.kind for v in labs[name].args.values() for p in (v if isinstance(v, tuple) else (v,))}
        assert parts <= set(labs) - composites, name
    names = [n.replace("_", "").lower() for lab in jaxdl.registry.lab_classes().values() for n in lab.names]
    assert len(names) == len(set(names))  # one lab name, one layer


def _with_backward(layer, backward):
    return dataclasses.replace(layer, backward=backward)


def test_check_names_the_tensor_with_a_wrong_weight_gradient():
    layer = dense(3)

    def wrong(params, x, dy):
        dparams, dx = layer.backward(params, x, dy)
        bad = dparams["W"].at[1, 2].add(0.5)  # one wrong element
        return {"W": bad, "b": dparams["b"]}, dx

    report = check_layer(_with_backward(layer, wrong), (4, 5))
    assert not report.ok
    by_name = {t.tensor: t for t in report.tensors}
    assert not by_name["params.W"].ok and by_name["params.b"].ok and by_name["x"].ok
    assert by_name["params.W"].worst_index_vs_autodiff == (1, 2)
    assert by_name["params.W"].max_abs_err_vs_autodiff == pytest.approx(0.5)
    assert by_name["params.W"].max_abs_err_vs_finite_diff == pytest.approx(0.5, abs=1e-6)


def test_check_catches_a_missing_batch_sum_in_the_bias_gradient():
    layer = dense(3)

    def wrong(params, x, dy):
        dparams, dx = layer.backward(params, x, dy)
        return {"W": dparams["W"], "b": dy[0]}, dx

    report = check_layer(_with_backward(layer, wrong), (4, 5))
    assert [t.tensor for t in report.tensors if not t.ok] == ["params.b"]


def test_check_reports_a_backward_of_the_wrong_structure():
    layer = dense(3)
    report = check_layer(_with_backward(layer, lambda p, x, dy: (p["W"], x)), (4, 5))
    assert not report.ok and "structure" in report.error


def test_check_registry_rejects_an_unknown_name_before_checking():
    with pytest.raises(ValueError, match="gradcheck: unknown layer 'densee'"):
        check_registry(["dense", "densee"])


def test_sampled_inputs_avoid_kinks_and_ties():
    from jaxdl.check.gradcheck import sample_away_from_kinks

    x = sample_away_from_kinks(np.random.default_rng(3), (5, 4, 6, 6))
    assert np.abs(x).min() >= 0.2
    gaps = np.diff(np.sort(np.abs(x).ravel()))
    assert gaps.min() > 1e-4
    assert x.dtype == np.float64


def test_json_record_has_the_documented_fields():
    record = check_registry(["dense"])[0].to_json()
    assert set(record) >= {"name", "ok", "max_abs_err_vs_autodiff", "max_abs_err_vs_finite_diff", "tensors"}
    assert record["tensors"][0]["tensor"] == "params.W"
    assert isinstance(record["max_abs_err_vs_finite_diff"], float)
    assert jnp.isfinite(record["max_abs_err_vs_finite_diff"])
