"""The training page's own experiment also runs through `jaxdl train CONFIG.py` (the block itself
runs in tests/test_docs.py, with every block marked runnable)."""

import pathlib
import re
import subprocess
import sys

import pytest

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "training.md"


@pytest.mark.slow
def test_the_documented_experiment_runs_from_a_config_file(tmp_path):
    text = PAGE.read_text()
    code = re.search(r"## Your own experiment.*?```python runnable my_experiment.py\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 22
    (tmp_path / "my_experiment.py").write_text(code)
    (tmp_path / "my_config.py").write_text(
        "from jaxdl.train.experiments import base_config\n\n\ndef get_config():\n"
        "    config = base_config('my_experiment:make_task')\n"
        "    config.num_steps, config.checkpoint_every, config.learning_rate = 600, 300, 0.05\n    return config\n")
    cli = subprocess.run([sys.executable, "-m", "jaxdl.cli", "train", "my_config.py", "--workdir", "runs/cli",
                          "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert "regression: 600 steps" in cli.stdout and "w: [1.0, -2.0, 0.5]" in cli.stdout
