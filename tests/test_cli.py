"""The ``jaxdl`` command: exit codes, one-line errors, JSON output."""

import dataclasses
import json

import pytest

from jaxdl import cli
from jaxdl.layers import dense
from jaxdl.registry import REGISTRY


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
        (["train", "cnn_digits", "--workdir", "{tmp}/w", "--config.num_steps=0"], "num_steps must be an integer >= 1; got 0"),
        (["train", "cnn_digits", "--workdir", "{tmp}/w", "--config.learning_rate=nan"],
         "learning_rate expects a number; got 'nan'"),
        (["train", "cnn_digits", "--workdir", "{tmp}/w", "--config.learning_rate=1e999"],
         "learning_rate must be a finite number > 0; got inf"),
        (["train", "no_such_experiment", "--workdir", "{tmp}/w"], "'no_such_experiment' is neither a config file nor an experiment"),
        (["train", "cnn_digits"], "give an experiment (or a config file) and --workdir DIR"),
        (["train", "cnn_digits", "--workdir", "{tmp}/w", "--config.no_such_field=1"], "unknown field 'no_such_field'"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_bad_options_are_exit_2(argv, match, tmp_path, capsys):
    assert cli.main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
    assert not (tmp_path / "w").exists()  # refused before anything was written


def test_version_and_experiment_list(capsys):
    import jaxdl
    from jaxdl.train.experiments import EXPERIMENTS

    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out == f"jaxdl {jaxdl.__version__}\n"
    assert cli.main(["train", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(EXPERIMENTS) and all(len(line.split()) > 3 for line in lines)


def test_train_by_name_and_explicit_fields_beat_smoke_overrides(tmp_path, capsys):
    # smoke=True would set num_steps=20 and log_every=10; the explicit num_steps=30 wins.
    assert cli.main(["train", "tictactoe_learned", "--workdir", str(tmp_path), "--config.smoke=True",
                     "--config.num_steps=30", "--no-progress"]) == 0
    assert "tictactoe_learned: 30 steps" in capsys.readouterr().out
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30]


def test_the_error_boundary_bad_input_2_internal_error_1_debug_traceback(monkeypatch, capsys):
    import jaxdl.check

    assert cli.main(["gradcheck", "--no-such-flag"]) == 2  # the user's mistake: one line
    assert capsys.readouterr().err.count("\n") == 1

    def broken(names):
        raise ZeroDivisionError("a bug inside jaxdl")

    monkeypatch.setattr(jaxdl.check, "check_registry", broken)
    assert cli.main(["gradcheck", "dense"]) == 1  # jaxdl's own bug: visible, not "bad input"
    err = capsys.readouterr().err
    assert err == ("jaxdl: internal error: ZeroDivisionError: a bug inside jaxdl "
                   "(run with --debug for the traceback)\n")
    with pytest.raises(ZeroDivisionError, match="a bug inside jaxdl"):
        cli.main(["--debug", "gradcheck", "dense"])


def test_an_unwritable_output_path_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli.main(["gradcheck", "dense", "--json", str(tmp_path / "file" / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("jaxdl: error: cannot use")
