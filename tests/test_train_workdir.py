"""A workdir belongs to one run: resume rules, a lock, atomic files, kills at any moment."""

import gzip
import json
import os
import pathlib
import shutil

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.train import data as D
from jaxdl.train import experiments, trainer
from jaxdl.train import workdir as workdir_lib

CONFIGS = pathlib.Path(__file__).parent.parent / "configs"


def _files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _train(workdir, *extra, name="tictactoe_learned"):
    return cli.main(["train", name, "--workdir", str(workdir), "--config.smoke=True", "--no-progress", *extra])


def test_a_changed_config_is_refused_naming_each_field_and_nothing_is_written(tmp_path, capsys):
    assert _train(tmp_path, "--config.num_steps=10") == 0
    before = _files(tmp_path)
    capsys.readouterr()
    assert _train(tmp_path, "--config.learning_rate=0.5", "--config.conv_channels=2") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "another config: conv_channels 4 → 2; learning_rate 0.01 → 0.5 (only num_steps may grow on resume" in err
    assert _files(tmp_path) == before
    # smoke flipped off: every field it changes is named (num_steps grows: allowed).
    assert cli.main(["train", "tictactoe_learned", "--workdir", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert ("another config: checkpoint_every 10 → 500; hidden 16 → 128; log_every 10 → 100; smoke True → False "
            "(only") in err
    assert _files(tmp_path) == before


def test_a_finished_run_says_so_and_more_steps_continue_it(tmp_path, capsys):
    assert _train(tmp_path) == 0
    before = _files(tmp_path)
    capsys.readouterr()
    assert _train(tmp_path) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"tictactoe_learned: already finished (20 steps) in workdir {tmp_path}")
    assert _files(tmp_path) == before
    assert _train(tmp_path, "--config.num_steps=30") == 0
    assert "tictactoe_learned: 30 steps" in capsys.readouterr().out
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30]
    assert json.loads((tmp_path / "config.json").read_text())["num_steps"] == 30


def test_an_incomplete_checkpoint_is_removed_on_resume_and_no_orbax_thread_outlives_a_refusal(tmp_path, capsys):
    import threading

    import orbax.checkpoint as ocp

    assert _train(tmp_path, "--config.num_steps=10") == 0
    ckpts = tmp_path / "checkpoints"
    # orbax names a checkpoint being written so; jaxdl removes what a killed save left.
    assert workdir_lib._TMP_SUFFIX == ocp.path.atomicity_types.TMP_DIR_SUFFIX
    torn = ckpts / f"20{workdir_lib._TMP_SUFFIX}"
    shutil.copytree(ckpts / "10", torn)
    (torn / "state" / "half-written").write_bytes(b"\0" * 100)
    assert workdir_lib.checkpoint_steps(str(tmp_path)) == [10]  # never read as a checkpoint
    threads = set(threading.enumerate())

    def new_threads():  # (asyncio's default executor keeps its idle workers for the process's life)
        return [t.name for t in set(threading.enumerate()) - threads
                if t.is_alive() and not t.name.startswith("asyncio_")]

    # A refused resume (another experiment's checkpoint) leaves no thread behind to outlive it.
    with pytest.raises(workdir_lib.WorkdirError, match="holds a checkpoint of experiment 'tictactoe_learned'"):
        workdir_lib.restore_checkpoint(str(tmp_path), "nice_moons", None, None)
    assert new_threads() == []
    assert torn.is_dir()  # reading touches nothing
    capsys.readouterr()
    assert _train(tmp_path, "--config.num_steps=20") == 0
    assert sorted(os.listdir(ckpts)) == ["10", "20"]
    assert new_threads() == []


def test_a_second_process_on_the_workdir_is_refused(tmp_path, capsys):
    with workdir_lib.locked(str(tmp_path)):  # another jaxdl train holds the workdir
        assert _train(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is in use by another jaxdl train" in err
    assert sorted(os.listdir(tmp_path)) == [".lock"]


@pytest.mark.parametrize("where, match", [("file", "is a file, not a directory"), ("under_file", "is a file")])
def test_an_unusable_workdir_is_one_line(tmp_path, capsys, where, match):
    (tmp_path / "f").write_text("x")
    workdir = tmp_path / "f" if where == "file" else tmp_path / "f" / "run"
    assert _train(workdir) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_a_torn_last_metrics_line_is_dropped_and_a_malformed_one_is_named(tmp_path, capsys):
    experiments.run(_smoke(), str(tmp_path), progress=False, stop_after=10)
    metrics = tmp_path / "metrics.jsonl"
    good = metrics.read_text()
    metrics.write_text(good + '{"step": 20, "lo')  # killed while writing the next line
    assert _train(tmp_path) == 0
    assert "dropped the torn last line 2 of" in capsys.readouterr().err
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [10, 20]
    metrics.write_text(good + "garbage\n" + good)
    before = _files(tmp_path)
    assert _train(tmp_path, "--config.num_steps=30") == 2
    err = capsys.readouterr().err
    assert f"{str(metrics)!r} line 2 is not a metrics record" in err and err.count("\n") == 1
    assert _files(tmp_path) == before


def _smoke(**overrides):
    from jaxdl.config import load_config

    return load_config(CONFIGS / "tictactoe_learned.py", ["smoke=True"] + [f"{k}={v}" for k, v in overrides.items()])


# --------------------------------------------------------------------------------------------
# A user's own data.


def _idx(array: np.ndarray, code: int = 0x08) -> bytes:
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return bytes([0, 0, code, array.ndim]) + dims + array.astype(">u1" if code == 0x08 else ">f4").tobytes()


def _mnist_folder(root, n_train=12, n_test=6, gz=False, labels_train=None):
    root.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10 if labels_train is None else labels_train,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    for name, a in arrays.items():
        raw = _idx(a)
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (root / name).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_format_folders_are_read_plain_or_gzip(tmp_path, gz):
    arrays = _mnist_folder(tmp_path / "mnist", gz=gz)
    d = D.load_dataset(str(tmp_path / "mnist"))
    assert d.x_train.shape == (12, 1, 28, 28) and d.x_train.dtype == np.float32
    np.testing.assert_array_equal(d.x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(d.y_test, np.arange(6) % 10)


def test_npz_is_read(tmp_path):
    x = np.random.default_rng(1).random((5, 1, 4, 4)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.array([0, 1, 2, 1, 0]), x_test=x[:2], y_test=np.array([2, 2]))
    d = D.load_dataset(str(tmp_path / "d.npz"), num_classes=3)
    np.testing.assert_array_equal(d.x_train, x)
    assert d.y_train.tolist() == [0, 1, 2, 1, 0] and d.y_test.dtype == np.int32


def _bad(tmp_path, case):
    folder = tmp_path / "mnist"
    _mnist_folder(folder)
    f = folder / "train-images-idx3-ubyte"
    if case == "magic":
        f.write_bytes(b"\x00\x00\x09\x99" + f.read_bytes()[4:])
    elif case == "truncated":
        f.write_bytes(f.read_bytes()[:-100])
    elif case == "counts":
        (folder / "train-labels-idx1-ubyte").write_bytes(_idx(np.arange(11, dtype=np.uint8) % 10))
    elif case == "labels":
        (folder / "train-labels-idx1-ubyte").write_bytes(_idx(np.array([3] * 11 + [10], np.uint8)))
    elif case == "nonfinite":
        x = np.zeros((3, 1, 2, 2), np.float32)
        x[1, 0, 1, 1] = np.nan
        np.savez(tmp_path / "d.npz", x_train=x, y_train=np.zeros(3, int), x_test=x[:1] * 0, y_test=np.zeros(1, int))
        return tmp_path / "d.npz"
    return folder


@pytest.mark.parametrize(
    "case, message",
    [
        ("magic", "train-images-idx3-ubyte' is not an IDX file of 3 dimensions: wrong magic number 0x00000999 "
                   "(expected 0x00000803"),
        ("truncated", "train-images-idx3-ubyte' is truncated: shape (12, 28, 28) needs 9424 bytes; the file has 9324"),
        ("counts", "train-labels-idx1-ubyte': 11 labels for 12 images in"),
        ("labels", "train-labels-idx1-ubyte': label 10 at index 11 is outside 0..9"),
        ("nonfinite", "d.npz[x_train]': images contain NaN or infinite values"),
    ],
)
def test_bad_data_files_are_one_line_exit_2_before_any_training(tmp_path, capsys, case, message):
    path = _bad(tmp_path, case)
    with pytest.raises(D.DataError) as e:
        D.load_dataset(str(path))
    assert message in str(e.value)
    workdir = tmp_path / "run"
    assert cli.main(["train", "mnist_cnn", "--workdir", str(workdir), "--config.smoke=True", "--no-progress",
                     f"--config.data.path={path}"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not workdir.exists()


def test_mnist_cnn_trains_on_a_users_idx_folder(tmp_path, capsys):
    _mnist_folder(tmp_path / "mnist", n_train=64, n_test=10, gz=True)
    assert cli.main(["train", "mnist_cnn", "--workdir", str(tmp_path / "run"), "--config.smoke=True", "--no-progress",
                     f"--config.data.path={tmp_path / 'mnist'}"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 20 and len(summary["confusion_matrix"]) == 10
    assert sum(map(sum, summary["confusion_matrix"])) == 10  # the user's 10 test images
