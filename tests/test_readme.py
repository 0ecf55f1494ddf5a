"""The README's example runs and prints what the README says."""

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs_and_prints_what_it_claims():
    text = README.read_text()
    code = re.search(r"## Ten lines.*?```python\n(.*?)```", text, re.S).group(1)
    claimed = re.search(r"This prints `True` and `(mse [0-9.]+)`", text).group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["True", claimed]


def test_readme_custom_experiment_runs_and_learns_the_weights(tmp_path):
    text = README.read_text()
    code = re.search(r"### Your own experiment.*?```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 22
    (tmp_path / "my_experiment.py").write_text(code)
    out = subprocess.run([sys.executable, "my_experiment.py"], cwd=tmp_path, capture_output=True, text=True,
                         check=True, timeout=300).stdout
    assert out.strip().splitlines()[-1] == "[1.0, -2.0, 0.5]"
    # Through the command line, with a config file naming the factory.
    (tmp_path / "my_config.py").write_text(
        "from jaxdl.train.experiments import base_config\n\n\ndef get_config():\n"
        "    config = base_config('my_experiment:make_task')\n"
        "    config.num_steps, config.checkpoint_every, config.learning_rate = 600, 300, 0.05\n    return config\n")
    cli = subprocess.run([sys.executable, "-m", "jaxdl.cli", "train", "my_config.py", "--workdir", "runs/cli",
                          "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert "regression: 600 steps" in cli.stdout and "w: [1.0, -2.0, 0.5]" in cli.stdout


def test_readme_flax_example_runs_and_prints_what_it_claims(tmp_path):
    text = README.read_text()
    code = re.search(r"## Using jaxdl with flax.*?```python\n(.*?)```", text, re.S).group(1)
    claimed = re.search(r"This prints `(loss [0-9.]+ → [0-9.]+)` and `(True \(16, 10\))`", text).groups()
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         timeout=300).stdout
    assert out.splitlines()[:2] == list(claimed)
