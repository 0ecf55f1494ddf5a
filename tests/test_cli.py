"""The ``jaxdl`` command: exit codes, one-line errors, JSON output."""

import dataclasses
import json

import pytest

from jaxdl import cli
from jaxdl.layers import REGISTRY, dense


def test_gradcheck_json_and_table(tmp_path, capsys):
    out = tmp_path / "sub" / "out.json"
    assert cli.main(["gradcheck", "dense", "max_pool2d", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [r["name"] for r in report["layers"]] == ["dense", "max_pool2d"]
    for r in report["layers"]:
        assert r["ok"] is True
        assert r["max_abs_err_vs_autodiff"] <= 1e-9 and r["max_abs_err_vs_finite_diff"] <= 1e-6
        assert r["tensors"] and all("worst_index_vs_autodiff" in t for t in r["tensors"])
    printed = capsys.readouterr().out
    assert "2/2 layers ok" in printed


def test_gradcheck_unknown_layer_is_exit_2_with_one_line(capsys):
    assert cli.main(["gradcheck", "no_such_layer"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown layer 'no_such_layer'" in err


def test_gradcheck_failure_is_exit_1_and_names_the_tensor(monkeypatch, capsys):
    layer = dense(2)
    broken = dataclasses.replace(layer, backward=lambda p, x, dy: ({"W": 0 * p["W"], "b": dy.sum(0)}, dy @ p["W"].T))
    monkeypatch.setitem(REGISTRY, "dense/broken", lambda: (broken, (3, 4)))
    assert cli.main(["gradcheck", "dense/broken"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "params.W (4, 2)" in out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["digits", "--epochs", "0"], "--epochs: expected an integer >= 1; got 0"),
        (["digits", "--lr", "nan"], "--lr: expected a finite number > 0; got nan"),
        (["digits", "--batch-size", "5000"], "batch_size must be <= the 1437 training examples; got 5000"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_bad_options_are_exit_2(argv, match, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_digits_command_trains_and_writes_json(tmp_path, capsys):
    out = tmp_path / "digits.json"
    assert cli.main(["digits", "--epochs", "3", "--no-progress", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["manual_backward"] is True and len(result["losses"]) == 3
    # Three epochs on the hand-derived passes already beat 85% on the held-out digits.
    assert result["test_accuracy"] >= 0.85
    assert result["losses"][-1] < result["losses"][0]
    assert "test accuracy" in capsys.readouterr().out
