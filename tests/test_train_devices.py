"""Data parallelism: the same run on 4 (fake) devices follows the 1-device loss curve."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # end-to-end: subprocesses that train or install

CONFIGS = pathlib.Path(__file__).parent.parent / "configs"


def _run_cli_in_subprocess(workdir, devices, *extra):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    return subprocess.run(
        [sys.executable, "-m", "jaxdl.cli", "train", str(CONFIGS / "cnn_digits.py"), "--workdir", str(workdir),
         "--config.smoke=True", "--no-progress", *extra],
        env=env, capture_output=True, text=True, timeout=300,
    )


def test_four_devices_follow_the_single_device_loss_curve(tmp_path):
    one = _run_cli_in_subprocess(tmp_path / "one", 1)
    four = _run_cli_in_subprocess(tmp_path / "four", 4)
    assert one.returncode == 0, one.stderr
    assert four.returncode == 0, four.stderr
    assert "on 4 device(s)" in four.stdout and "on 1 device(s)" in one.stdout
    curve = lambda d: [json.loads(line)["loss"] for line in (d / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    np.testing.assert_allclose(curve(tmp_path / "four"), curve(tmp_path / "one"), rtol=1e-5)
    bad = _run_cli_in_subprocess(tmp_path / "bad", 4, "--config.batch_size=30")
    assert bad.returncode == 2
    assert "batch_size must be divisible by the 4 devices" in bad.stderr and bad.stderr.count("\n") == 1
