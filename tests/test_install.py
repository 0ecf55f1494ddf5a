"""The built wheel: it holds every package, the configs, py.typed and the LICENSE, and with no
checkout in sight its commands work (the wheel installed into a fresh virtual environment)."""

import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import pytest

pytestmark = pytest.mark.slow  # end-to-end: subprocesses that train or install

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (path,) = out.glob("jaxdl-*.whl")
    return path


def test_the_wheel_holds_every_package_the_configs_and_the_license(wheel):
    import jaxdl

    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for p in ROOT.glob("jaxdl/**/__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names
    configs = {p.name for p in (ROOT / "configs").glob("*.py")}
    assert {"cnn_digits.py", "exam_gan.py", "exam_mlp.py"} <= configs
    assert {f"jaxdl/configs/{c}" for c in configs} <= names
    assert "jaxdl/py.typed" in names
    assert {"jaxdl/train/digits_split.npz", "jaxdl/train/mnist_split.npz"} <= names  # the stored splits
    # The CPU kernels' sources, compiled on first use.
    assert {f"jaxdl/layers/{f}" for f in ("cpu_conv.cc", "cpu_coupling.cc", "cpu_lstm.cc", "cpu_kernels.h")} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert wheel.name == f"jaxdl-{jaxdl.__version__}-py3-none-any.whl"


def test_the_installed_wheel_works_without_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    # The dependencies come from this environment's site-packages (no network); jaxdl only from
    # the wheel: the checkout's editable install is not visible there.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True, capture_output=True, timeout=300)
    empty = tmp_path / "empty"
    empty.mkdir()

    def jaxdl(*args):
        return subprocess.run([str(venv / "bin" / "jaxdl"), *args], cwd=empty, capture_output=True, text=True,
                              timeout=300)

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import jaxdl; print(jaxdl.__file__)"], cwd=empty,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site))
    version = jaxdl("--version")
    assert version.returncode == 0 and version.stdout.startswith("jaxdl ")
    train = jaxdl("train", "cnn_digits", "--workdir", "W", "--config.smoke=True", "--no-progress")
    assert train.returncode == 0, train.stderr
    assert "cnn_digits: 20 steps" in train.stdout and (empty / "W" / "summary.json").exists()
    exam = jaxdl("exam", "all", "--json", "results/exam.json", "--markdown", "results/sheet.md")
    assert exam.returncode == 0, exam.stderr
    # The sheet's code answers are read from the installed package (the lab and the PyTorch files).
    sheet = (empty / "results" / "sheet.md").read_text()
    assert "class Quadratic(Layer)" in sheet and "class AdditiveCoupling(nn.Module)" in sheet
    page = jaxdl("site", "--results", "results")
    assert page.returncode == 0, page.stderr
    assert page.stdout.strip().endswith("results/site/index.html")
    lab = next(site.glob("jaxdl/check/lab_reference.py"))
    check = jaxdl("check-numpy", str(lab), "--no-progress")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "11/11 classes ok" in check.stdout
