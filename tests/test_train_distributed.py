"""Training on several processes (JAX's multi-controller runtime, CPU collectives over gloo): two
processes on 127.0.0.1 follow the single-process run, write one workdir, stop with one line when
a peer dies, and resume."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.train import launch
from jaxdl.train import workdir as workdir_lib

SMOKE = ["--config.smoke=True", "--no-progress"]


def _jaxdl(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "jaxdl.cli", *args], capture_output=True, text=True, timeout=300,
                          **kwargs)


def _losses(workdir):
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    return [r["step"] for r in rows], np.array([r["loss"] for r in rows])


def _final_state(workdir):
    import orbax.checkpoint as ocp

    steps = sorted(int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit())
    path = os.path.abspath(os.path.join(workdir, "checkpoints", str(steps[-1]), "state"))
    import jax

    one = jax.sharding.SingleDeviceSharding(jax.devices()[0])  # read here, whatever topology wrote it
    with ocp.StandardCheckpointer() as c:
        meta = c.metadata(path)
        meta = getattr(meta, "item_metadata", meta)
        target = jax.tree_util.tree_map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=one), meta)
        state = c.restore(path, target)

    return steps, [np.asarray(x) for x in jax.tree_util.tree_leaves(state)]


@pytest.mark.parametrize("argv, message", [
    (["--coordinator", "127.0.0.1:1234"], "--coordinator given without --num-processes, --process-id"),
    (["--coordinator", "127.0.0.1", "--num-processes", "2", "--process-id", "0"], "must be HOST:PORT"),
    (["--coordinator", "host:0", "--num-processes", "2", "--process-id", "0"], "must be HOST:PORT"),
    (["--coordinator", "host:80", "--num-processes", "0", "--process-id", "0"], "--num-processes must be at least 1"),
    (["--coordinator", "host:80", "--num-processes", "2", "--process-id", "2"], "--process-id must be in [0, 2)"),
    (["--coordinator", "host:80", "--num-processes", "two", "--process-id", "0"], "--num-processes must be an integer"),
])
def test_bad_cluster_options_are_one_line_and_exit_2_before_anything_starts(argv, message, tmp_path, capsys):
    assert cli.main(["train", "nice_moons", "--workdir", str(tmp_path / "w"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("argv, message", [
    (["--processes", "0", "--", "train", "nice_moons"], "--processes must be at least 1"),
    (["--processes", "2", "--", "exam", "all"], "expected `-- train EXPERIMENT"),
    (["--processes", "2", "--", "train", "nice_moons", "--process-id=1"], "--process-id is set by jaxdl launch"),
    (["--processes", "2", "--", "train", "nice_moons", "--workdir", "w", "--num-proc", "3"],
     "--num-processes is set by jaxdl launch"),
    (["--processes", "2", "--", "train", "nice_moons"], "the train command needs --workdir DIR"),
])
def test_bad_launch_options_exit_2(argv, message, capsys):
    assert cli.main(["launch", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_a_coordinator_that_never_answers_is_one_line_within_the_timeout(tmp_path):
    port = launch.free_port()
    start = time.monotonic()
    done = _jaxdl("train", "nice_moons", "--workdir", str(tmp_path / "w"), *SMOKE, "--coordinator",
                  f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", "1",
                  "--config.distributed.timeout_seconds=4")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"train: the coordinator 127.0.0.1:{port} did not answer within 4 s; is every process started, "
        "with the same --coordinator?")
    assert time.monotonic() - start < 4 + 30  # the interpreter and JAX's start-up, then the timeout


def _two_processes_follow(one, two):
    """The two-process run in ``two`` is the single-process run in ``one``, to float32 rounding."""
    steps1, loss1 = _losses(one)
    steps2, loss2 = _losses(two)
    assert steps1 == steps2 and len(steps1) >= 2
    # The global batch is the config's, split over the two processes: the same run, to float32 rounding
    # (the gradient's sum over the batch is reduced in two halves).
    np.testing.assert_allclose(loss2, loss1, rtol=1e-6)
    ck1, state1 = _final_state(one)
    ck2, state2 = _final_state(two)
    assert ck1 == ck2
    for a, b in zip(state1, state2):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    # One workdir: one set of checkpoints, one config, one metrics file (written by process 0).
    assert sorted(p for p in os.listdir(two) if not p.endswith(".png")) == [
        ".lock", ".lock.1", "checkpoints", "config.json", "metrics.jsonl", "summary.json"]
    with open(os.path.join(two, "summary.json")) as f:
        assert json.load(f)["processes"] == 2


@pytest.mark.slow
def test_a_killed_process_stops_the_other_in_one_line_and_both_resume_to_the_uninterrupted_run(tmp_path):
    # nice_moons three ways: on one process, on two uninterrupted, on two with one killed and resumed
    # (one experiment's run on two processes stands for every experiment's: the trainer is one).
    args = ["nice_moons", *SMOKE, "--config.num_steps=200", "--config.checkpoint_every=50",
            "--config.log_every=50", "--config.distributed.timeout_seconds=10"]
    killed, straight, one = str(tmp_path / "killed"), str(tmp_path / "straight"), str(tmp_path / "one")
    port = launch.free_port()
    cluster = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2"]
    procs = [subprocess.Popen([sys.executable, "-m", "jaxdl.cli", "train", *args, "--workdir", killed, *cluster,
                               "--process-id", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    try:
        deadline = time.monotonic() + 240
        ckpts = os.path.join(killed, "checkpoints")
        while not (os.path.isdir(ckpts) and any(s.isdigit() for s in os.listdir(ckpts))):
            assert time.monotonic() < deadline and procs[0].poll() is None, "no checkpoint appeared"
            time.sleep(0.2)
        # A second run on the workdir is refused while this one holds it (its lock, taken as
        # `jaxdl train` takes it: at once, not after a JAX start-up that could outlast the run).
        with pytest.raises(workdir_lib.WorkdirError, match="is in use by another jaxdl train"):
            with workdir_lib.locked(killed):
                pass
        assert procs[0].poll() is None, "the run ended before the kill; give it more steps"
        procs[1].send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        out, err = procs[0].communicate(timeout=60)
        assert time.monotonic() - t0 < 10 + 5
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()  # reaps it and closes its pipes
    assert procs[0].returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("train: another process of this 2-process run stopped answering (") and last.endswith(
        "process 0 stops too — run the same command on every process to resume from the last checkpoint"), last
    resumed = _jaxdl("launch", "--processes", "2", "--", "train", *args, "--workdir", killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    done = _jaxdl("launch", "--processes", "2", "--", "train", *args, "--workdir", straight)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "on 2 device(s)" in done.stdout
    steps_k, state_k = _final_state(killed)
    steps_s, state_s = _final_state(straight)
    assert steps_k[-1] == steps_s[-1] == 200
    for a, b in zip(state_k, state_s):
        assert np.array_equal(a, b)  # bit-identical
    assert _losses(killed)[0] == _losses(straight)[0]
    # And the uninterrupted two-process run is the one-process run.
    assert _jaxdl("train", *args, "--workdir", one).returncode == 0
    _two_processes_follow(one, straight)
    # A resume must use the same number of processes.
    more = _jaxdl("train", *args, "--workdir", straight, "--config.num_steps=250")
    assert more.returncode == 2
    assert more.stderr.strip() == (
        "jaxdl: error: train: the workdir's run was trained on 2 process(es), this one has 1; resume it with "
        "--num-processes 2 (another number splits each batch differently, so the run would not be the same run)")


@pytest.mark.slow
def test_a_terminated_launch_takes_its_processes_with_it(tmp_path):
    # JAX's runtime takes SIGTERM as a preemption notice; neither the launcher nor a process may
    # outlive a `kill`.
    workdir = str(tmp_path / "run")
    launcher = subprocess.Popen([sys.executable, "-m", "jaxdl.cli", "launch", "--processes", "2", "--", "train",
                                 "nice_moons", "--workdir", workdir, *SMOKE, "--config.num_steps=100000"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not os.path.exists(os.path.join(workdir, "metrics.jsonl")):  # both processes are training
            assert time.monotonic() < deadline and launcher.poll() is None, "the run did not start"
            time.sleep(0.2)
        children = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        launcher.send_signal(signal.SIGTERM)
        launcher.communicate(timeout=30)
        assert launcher.returncode == 128 + signal.SIGTERM
        time.sleep(1)
        for pid in children:
            status = pathlib.Path(f"/proc/{pid}/status")
            assert not status.exists() or "zombie" in status.read_text(), pid
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.communicate()
