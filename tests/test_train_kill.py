"""A run killed with SIGKILL at random moments — while it steps, saves a checkpoint or writes a
metrics line — and resumed ends with exactly the parameters of a run that went straight through."""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # end-to-end: subprocesses that train or install

CONFIGS = pathlib.Path(__file__).parent.parent / "configs"


# Trains the uninterrupted run (argv[2]) in-process, then prints a digest of the final checkpoint
# of every workdir given; the JAX configuration is the default one, as the killed runs had.
_STRAIGHT_AND_DIGESTS = """
import hashlib, sys, jax, numpy as np
from jaxdl.train import experiments, trainer
from jaxdl.config import load_config
fields = ["smoke=True", "num_steps=400", "checkpoint_every=10", "log_every=10"]
experiments.run(load_config(sys.argv[1], fields), sys.argv[2], progress=False, explicit=fields)
cfg = experiments.resolve(load_config(sys.argv[1], fields), fields)
task = experiments.task_of(cfg)
params = task.init(cfg, task.data(cfg), jax.random.PRNGKey(0))
for workdir in sys.argv[2:]:
    step, p, opt_state, key = trainer.restore_checkpoint(workdir, cfg.experiment, params, task.optimizer(cfg).init(params))
    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves((p, opt_state, key)):
        h.update(np.asarray(leaf).tobytes())
    print(step, h.hexdigest())
"""


def test_killed_at_random_moments_and_resumed_ends_bit_identical(tmp_path):
    cmd = [sys.executable, "-m", "jaxdl.cli", "train", "tictactoe_learned", "--config.smoke=True",
           "--config.num_steps=400", "--config.checkpoint_every=10", "--config.log_every=10", "--no-progress"]
    # (the digest below restores with the same fields)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    rng = random.Random(0)
    killed = tmp_path / "killed"
    metrics = killed / "metrics.jsonl"
    kills = 0
    for _ in range(3):
        lines = len(metrics.read_text().splitlines()) if metrics.exists() else 0
        proc = subprocess.Popen([*cmd, "--workdir", str(killed)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        # Wait until this run trains (a new metrics line), then kill it a random moment later:
        # while it steps, saves a checkpoint or writes a metrics line.
        while proc.poll() is None and time.monotonic() < deadline and (
                not metrics.exists() or len(metrics.read_text().splitlines()) <= lines):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = subprocess.run([*cmd, "--workdir", str(killed)], env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert kills >= 2 and (killed / "summary.json").exists()
    digests = subprocess.run([sys.executable, "-c", _STRAIGHT_AND_DIGESTS, str(CONFIGS / "tictactoe_learned.py"),
                              str(tmp_path / "straight"), str(tmp_path / "straight"), str(killed)], env=env,
                             capture_output=True, text=True, timeout=300, check=True).stdout.splitlines()
    assert digests[0] == digests[1] and digests[0].startswith("400 ")
    curve = lambda d: [json.loads(line)["loss"] for line in (d / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    assert curve(killed) == curve(tmp_path / "straight")
