"""`jaxdl train`: every experiment's smoke config end to end, and the loop's promises."""

import json
import os
import pathlib

import chex
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from jaxdl import cli
from jaxdl.config import load_config
from jaxdl.train import experiments, trainer

CONFIGS = pathlib.Path(__file__).parent.parent / "configs"


def smoke(name, **overrides):
    path = CONFIGS / f"{experiments.EXPERIMENTS[name].config}.py"
    return load_config(path, ["smoke=True"] + [f"{k}={v}" for k, v in overrides.items()])


def test_every_experiment_module_is_found_without_an_import_list():
    import ast

    package = pathlib.Path(experiments.__file__).parent
    declared = {}
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            for d in getattr(node, "decorator_list", []):
                if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "experiment":
                    declared[d.args[0].value] = path.stem
    assert set(declared) == set(experiments.EXPERIMENTS) and len(declared) >= 10
    init = (package / "__init__.py").read_text()
    assert not [m for m in set(declared.values()) if f"experiments import {m}" in init or f"experiments.{m} " in init]
    for name in declared:  # each has its config file
        assert (CONFIGS / f"{experiments.EXPERIMENTS[name].config}.py").is_file(), name


@pytest.mark.parametrize("name", sorted(experiments.EXPERIMENTS))
def test_smoke_config_runs_end_to_end(name, tmp_path):
    summary = experiments.run(smoke(name), str(tmp_path), progress=False)
    headline = set(experiments.EXPERIMENTS[name].headline)  # declared where the experiment is registered
    assert headline and headline | {"final_loss", "steps", "wall_seconds", "devices"} <= set(summary)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["steps"] == 20 and np.isfinite(on_disk["final_loss"])
    assert json.loads((tmp_path / "config.json").read_text())["experiment"] == name
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [10, 20]
    assert trainer.checkpoint_steps(str(tmp_path)) == [10, 20]  # orbax, keep_checkpoints = 2
    assert summary["plots"] and all(os.path.getsize(p) > 0 and p.endswith(".png") for p in summary["plots"])
    if name in ("gan_ring", "exam_gan"):  # the model over training: one snapshot per chunk
        assert [s for s, _ in trainer.load_snapshots(str(tmp_path))] == [10, 20]


def _final_params(workdir, name, **overrides):
    task = experiments.EXPERIMENTS[name]()
    cfg = experiments.resolve(smoke(name, **overrides))
    import jax

    params = task.init(cfg, task.data(cfg), jax.random.PRNGKey(0))
    opt_state = task.optimizer(cfg).init(params)
    return trainer.restore_checkpoint(str(workdir), name, params, opt_state)


@pytest.mark.parametrize("name", ["cnn_digits", "gan_ring"])
def test_stopped_and_resumed_run_ends_with_the_same_params(name, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    experiments.run(smoke(name), str(straight), progress=False)
    first = experiments.run(smoke(name), str(resumed), progress=False, stop_after=10)
    assert first["steps"] == 10 and not (resumed / "summary.json").exists()
    experiments.run(smoke(name), str(resumed), progress=False)
    step_a, params_a, opt_a, _ = _final_params(straight, name)
    step_b, params_b, opt_b, _ = _final_params(resumed, name)
    assert step_a == step_b == 20
    import jax

    for a, b in zip(jax.tree_util.tree_leaves((params_a, opt_a)), jax.tree_util.tree_leaves((params_b, opt_b))):
        np.testing.assert_array_equal(a, b)
    losses = [json.loads(line)["loss"] for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert losses == [json.loads(line)["loss"] for line in (straight / "metrics.jsonl").read_text().splitlines()]


def test_manual_and_autodiff_training_follow_the_same_trajectory(tmp_path):
    # The same 20 Adam steps in float64, once on the layers' hand-derived backward passes and
    # once on plain autodiff: the parameters agree to rounding.
    import jax

    common = dict(model="small_cnn", dtype="float64", batch_size=32)
    experiments.run(smoke("cnn_digits", manual_grad=True, **common), str(tmp_path / "manual"), progress=False)
    experiments.run(smoke("cnn_digits", manual_grad=False, **common), str(tmp_path / "auto"), progress=False)
    _, manual, _, _ = _final_params(tmp_path / "manual", "cnn_digits", **common)
    _, auto, _, _ = _final_params(tmp_path / "auto", "cnn_digits", **common)
    assert jax.tree_util.tree_leaves(manual)[0].dtype == np.float64
    chex.assert_trees_all_close(manual, auto, atol=1e-9, rtol=1e-9)
    losses = [[json.loads(line)["loss"] for line in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
              for d in ("manual", "auto")]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    assert losses[0][-1] < losses[0][0]


def _files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_corrupt_checkpoint_is_a_clear_error_and_nothing_is_overwritten(tmp_path):
    experiments.run(smoke("cnn_digits"), str(tmp_path), progress=False, stop_after=10)
    for p in (tmp_path / "checkpoints" / "10" / "state").rglob("*"):
        if p.is_file() and p.stat().st_size > 100:
            p.write_bytes(p.read_bytes()[:100])
    before = _files(tmp_path)
    with pytest.raises(ValueError, match="checkpoints/10' does not fit this config's model or is damaged"):
        experiments.run(smoke("cnn_digits"), str(tmp_path), progress=False)
    assert _files(tmp_path) == before


def test_another_experiments_workdir_is_refused(tmp_path):
    experiments.run(smoke("tictactoe_learned"), str(tmp_path), progress=False, stop_after=10)
    with pytest.raises(ValueError, match="holds a run of experiment 'tictactoe_learned', not 'cnn_digits'"):
        experiments.run(smoke("cnn_digits"), str(tmp_path), progress=False)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    # SGD with step 10 on w²: w ← −19 w, so the loss at step t is 19^(2t): finite at t = 15
    # (2.3e38), beyond float32's 3.4e38 at t = 16.
    task = trainer.Task(
        name="diverge", data=lambda cfg: {"x": np.zeros((4, 1), np.float32)},
        init=lambda cfg, data, key: {"w": jnp.ones((), jnp.float32)},
        optimizer=lambda cfg: optax.sgd(10.0), batch=lambda cfg, data, key: {"x": data["x"]},
        loss=lambda cfg, p, batch, key: p["w"] ** 2, evaluate=lambda *a: {}, plots=lambda *a: [],
    )
    cfg = ml_collections.ConfigDict({"seed": 0, "batch_size": 4, "num_steps": 100, "checkpoint_every": 10,
                                     "log_every": 10, "experiment": "diverge"})
    with pytest.raises(trainer.TrainingDiverged, match=r"the loss became inf at step 16; stopped, the last good checkpoint \(step 10\)"):
        trainer.train_and_evaluate(task, cfg, str(tmp_path), progress=False)
    assert trainer.checkpoint_steps(str(tmp_path)) == [10]


def test_nan_parameters_with_a_finite_loss_are_never_checkpointed(tmp_path):
    # The loss ignores the parameter that turns NaN at step 12 (as ReLU(NaN) = 0 would hide it).
    def update(cfg, opt):
        def run(params, opt_state, batch, key):
            bad = jnp.where(params["t"] >= 11, jnp.nan, params["v"])
            return {"t": params["t"] + 1, "v": bad}, opt_state, jnp.float32(1.0)
        return run

    task = trainer.Task(
        name="nan_params", data=lambda cfg: {"x": np.zeros((4, 1), np.float32)},
        init=lambda cfg, data, key: {"t": jnp.zeros((), jnp.float32), "v": jnp.ones((), jnp.float32)},
        optimizer=lambda cfg: optax.sgd(1.0), batch=lambda cfg, data, key: {}, loss=None,
        evaluate=lambda *a: {}, plots=lambda *a: [], update=update,
    )
    cfg = ml_collections.ConfigDict({"seed": 0, "batch_size": 4, "num_steps": 30, "checkpoint_every": 10,
                                     "log_every": 10, "experiment": "nan_params"})
    with pytest.raises(trainer.TrainingDiverged, match=r"parameters became NaN or infinite by step 20 \(with a finite "
                                                        r"loss\); stopped, the last good checkpoint \(step 10\)"):
        trainer.train_and_evaluate(task, cfg, str(tmp_path), progress=False)
    assert trainer.checkpoint_steps(str(tmp_path)) == [10]


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--config.nope=1"], "unknown field 'nope'"),
        (["--config.experiment=mystery"], "unknown experiment 'mystery'"),
        (["--config.num_steps=0"], "num_steps must be an integer >= 1; got 0"),
    ],
)
def test_bad_train_config_is_exit_2(argv, match, tmp_path, capsys):
    assert cli.main(["train", str(CONFIGS / "cnn_digits.py"), "--workdir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
