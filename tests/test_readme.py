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
