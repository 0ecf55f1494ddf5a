"""The checker's side of a worker process: start it, talk to it under a time limit, end it.

A :class:`Worker` is a fresh interpreter (``python -s -P -B`` with an environment built from
scratch: no user site, no script directory on the path, no ``PYTHON*`` variables of ours but a
fixed hash seed) in its own session and process group,
in a fresh scratch directory as its working directory, with stdin closed, stdout and stderr read
into bounded buffers, an address-space limit (set by the worker before anything else) and a
wall-clock limit per request enforced here, by killing the whole process group. Whatever ends a
request other than a well-formed reply — an exit with any status, a signal, the time limit, a
malformed or oversized reply — raises :class:`WorkerLost` with the reason in words.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from jaxdl.check.numpy_check import worker as wire

WORKER_PATH = wire.__file__
STANDIN_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "im2col_standin.py")
OUTPUT_LIMIT = 4 << 10  # bytes of the student's stdout and stderr kept, each, per worker
TRUNCATED = "[… more output not kept]"
START_LIMIT_S = 60.0  # the worker's own start (an interpreter and numpy), not the student's code
# Environment variables a worker inherits: enough to find the interpreter and numpy's BLAS, and
# the variables that make some processors' OpenBLAS compute correctly. Nothing else.
_KEPT_ENV = ("PATH", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class WorkerLost(Exception):
    """The worker ended or misbehaved during a request; ``reason`` says how, in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CheckerError(RuntimeError):
    """The worker could not even start: a problem of this machine or of jaxdl, not the student's."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Worker:
    """One worker process. Use as a context manager; :meth:`request` sends one request."""

    def __init__(self, time_limit: float, memory_mb: int):
        self.time_limit = float(time_limit)
        self.memory_mb = int(memory_mb)
        self.scratch = tempfile.mkdtemp(prefix="jaxdl-check-")
        self.output = {"stdout": bytearray(), "stderr": bytearray()}
        self.output_total = {"stdout": 0, "stderr": 0}
        self.proc = None
        self._start()

    # Life ----------------------------------------------------------------------------------

    def _start(self) -> None:
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
        env.update(HOME=self.scratch, TMPDIR=self.scratch, LANG="C.UTF-8", PYTHONHASHSEED="0",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-s", "-P", "-B", WORKER_PATH, str(req_r), str(rep_w), str(self.memory_mb), STANDIN_PATH],
                cwd=self.scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=(req_r, rep_w), start_new_session=True)
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._streams = {self.proc.stdout.fileno(): "stdout", self.proc.stderr.fileno(): "stderr"}
        for fd in (self._req_w, self._rep_r, *self._streams):
            os.set_blocking(fd, False)
        try:
            hello, _ = self._exchange(None, START_LIMIT_S, "start")
        except WorkerLost as e:
            self.close()
            raise CheckerError(f"check-numpy: the worker process could not start ({e.reason}): "
                               f"{self.text('stderr')[-300:]}") from None
        if not hello.get("ready"):
            self.close()
            raise CheckerError("check-numpy: the worker process did not start properly")

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
            for fd in (self._req_w, self._rep_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self, stream: str) -> str:
        """What the student's code printed on ``stream`` (truncated to :data:`OUTPUT_LIMIT`)."""
        text = self.output[stream].decode("utf-8", "replace")
        # How much more came depends on timing (a flood stopped by the time limit): not shown,
        # so that the same files give the same report.
        return text + (f"\n{TRUNCATED}" if self.output_total[stream] > len(self.output[stream]) else "")

    # Requests ------------------------------------------------------------------------------

    def request(self, header: dict, arrays=(), what: str = "the call") -> tuple[dict, list]:
        """Sends one request and returns the decoded reply; raises :class:`WorkerLost`."""
        if not self.alive:
            raise WorkerLost(f"the student's process had already ended before {what}")
        return self._exchange(wire.encode_frame(header, arrays), self.time_limit, what)

    def _exchange(self, message: bytes | None, limit: float, what: str) -> tuple[dict, list]:
        deadline = time.monotonic() + limit
        outgoing = memoryview(message or b"")
        reply = bytearray()
        need = None
        sel = selectors.DefaultSelector()
        try:
            for fd in self._streams:
                sel.register(fd, selectors.EVENT_READ)
            sel.register(self._rep_r, selectors.EVENT_READ)
            if outgoing:
                sel.register(self._req_w, selectors.EVENT_WRITE)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill()
                    raise WorkerLost(f"stopped after {limit:g} s during {what} (an endless loop?)")
                for key, _ in sel.select(remaining):
                    fd = key.fd
                    if fd == self._req_w:
                        try:
                            outgoing = outgoing[os.write(fd, outgoing):]
                        except BrokenPipeError:
                            outgoing = memoryview(b"")
                        if not outgoing:
                            sel.unregister(fd)
                    elif fd in self._streams:
                        self._drain(fd, sel)
                    else:
                        chunk = os.read(fd, 1 << 20)
                        if not chunk:
                            raise WorkerLost(self._ended(what))
                        reply += chunk
                        if need is None and len(reply) >= 8:
                            n_text, n_blob = wire.frame_lengths(bytes(reply[:8]))
                            need = 8 + n_text + n_blob
                            if need > wire.MAX_FRAME_BYTES:
                                self._kill()
                                raise WorkerLost(f"the student's process sent a reply of {need} bytes during {what} "
                                                 f"(more than {wire.MAX_FRAME_BYTES >> 20} MiB)")
                        if need is not None and len(reply) >= need:
                            if len(reply) > need:
                                self._kill()
                                raise WorkerLost(f"the student's process wrote into the checker's channel during {what}")
                            try:
                                header, arrays = wire.decode_frame(bytes(reply))
                            except wire.BadFrame as e:
                                self._kill()
                                raise WorkerLost(f"the student's process sent a malformed reply during {what}: {e}") from None
                            return header, arrays
        finally:
            sel.close()

    def _drain(self, fd: int, sel) -> None:
        stream = self._streams[fd]
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            sel.unregister(fd)
            return
        keep = OUTPUT_LIMIT - len(self.output[stream])
        if keep > 0:
            self.output[stream] += chunk[:keep]
        self.output_total[stream] += len(chunk)

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def _ended(self, what: str) -> str:
        """The reason for a closed reply channel: how the process ended."""
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:  # it closed the channel but lives on
            self._kill()
            return f"the student's process closed the checker's channel during {what}"
        if code >= 0:
            return f"the student's process exited with status {code} during {what}"
        return f"the student's process was killed by {_signal_name(-code)} during {what}"
