"""``jaxdl launch --processes N -- train ...``: a multi-process run on this one machine, for trying
distributed training without a cluster (and for the tests). It starts N ``jaxdl train``
processes with a coordinator on 127.0.0.1 and a free port, streams process 0's output, and
returns the first non-zero exit code. On a cluster the scheduler starts the processes (SLURM's
``srun``); jaxdl does not become one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from jaxdl.errors import InputError
from jaxdl.train.distributed import TIMEOUT_SECONDS

_OWN_OPTIONS = ("--coordinator", "--num-processes", "--process-id")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(processes, command: list[str]) -> tuple[int, list[str]]:
    """``(N, the train command)``, validated before anything starts.

    Raises:
      InputError: N not an integer >= 1, no ``train`` command after ``--``, or a command that sets
        the coordinator itself.
    """
    try:
        n = int(processes)
    except (TypeError, ValueError):
        raise InputError(f"launch: --processes must be an integer >= 1; got {processes!r}") from None
    if n < 1:
        raise InputError(f"launch: --processes must be at least 1; got {n}")
    command = command[1:] if command[:1] == ["--"] else command
    if command[:1] != ["train"]:
        raise InputError(f"launch: expected `-- train EXPERIMENT --workdir DIR ...` after the options; got "
                         f"{' '.join(command) or 'nothing'!r}")
    # argparse also takes an abbreviation (--num-proc) of these.
    own = [o for w in command if w.startswith("--") and len(w.split("=")[0]) > 2
           for o in _OWN_OPTIONS if o.startswith(w.split("=")[0])]
    if own:
        raise InputError(f"launch: {own[0]} is set by jaxdl launch itself; drop it from the train command")
    if not any(w == "--workdir" or w.startswith("--workdir=") for w in command):
        raise InputError("launch: the train command needs --workdir DIR (one folder every process writes)")
    return n, command


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"{signal.Signals(-code).name} (exit {code})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def launch(n: int, command: list[str], timeout: float = TIMEOUT_SECONDS) -> int:
    """Runs ``jaxdl <command>`` as ``n`` processes of one run; returns 0 if all succeed, else the
    first non-zero exit code (a signal ``s`` as ``128 + s``). The others get ``timeout`` + 15 s to
    stop by themselves after the first failure, then are killed."""
    port = free_port()
    logs = tempfile.TemporaryDirectory(prefix="jaxdl-launch-")
    procs, files = [], []

    def terminated(signum, frame):  # SIGTERM (a scheduler, `kill`): the children must not outlive us
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        for i in range(n):
            argv = [sys.executable, "-m", "jaxdl.cli", *command, "--coordinator", f"127.0.0.1:{port}",
                    "--num-processes", str(n), "--process-id", str(i)]
            if i == 0:
                procs.append(subprocess.Popen(argv))
            else:  # the others' output is kept, and shown when one of them fails
                f = open(os.path.join(logs.name, f"process{i}.log"), "w+b")
                files.append(f)
                procs.append(subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT))
        first: tuple[int, int] | None = None
        deadline = None
        while True:
            codes = [p.poll() for p in procs]
            if first is None:
                failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
                if failed:
                    first = failed[0]
                    deadline = time.monotonic() + timeout + 15
            if all(c is not None for c in codes):
                break
            if deadline is not None and time.monotonic() > deadline:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
            time.sleep(0.1)
        if first is None:
            return 0
        i, code = first
        detail = ""
        if i > 0:
            f = files[i - 1]
            f.seek(0)
            lines = [ln for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
            detail = f"; its last line: {lines[-1][:200]}" if lines else ""
        print(f"jaxdl launch: process {i} of {n} ended with {_describe(code)}{detail}", file=sys.stderr, flush=True)
        return code if code > 0 else 128 - code
    except KeyboardInterrupt:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            p.wait()
        for f in files:
            f.close()
        logs.cleanup()
