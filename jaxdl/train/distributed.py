"""Training on several processes, on JAX's own multi-controller runtime.

One process per host (or GPU) runs the same program: :func:`initialize` joins the run through
``jax.distributed.initialize`` (a coordinator given as ``HOST:PORT`` with the number of processes
and this one's index, or whatever JAX detects by itself on a SLURM, Open MPI or TPU job), and
from there ``jax.devices()`` are every process's devices. The trainer shards each global batch
over all of them (each process computes its share; parameters replicated), orbax writes the
checkpoints with every process taking part, and process 0 alone writes the rest of the workdir.

A process that dies is noticed by the others in a collective (its connection is reset) or by the
coordination service (it stops sending heartbeats for ``timeout`` seconds): the survivors stop
with one line saying so, and the run resumes from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
import threading

from jaxdl.errors import InputError

# Seconds the coordinator is waited for at the start, and a silent process is waited for after.
TIMEOUT_SECONDS = 30


class DistributedError(RuntimeError):
    """The multi-process run cannot go on: the coordinator did not answer, or a process died."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where this process stands in a run: ``coordinator`` is ``None`` when JAX detects it."""

    coordinator: str | None
    num_processes: int | None
    process_id: int | None


_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(?P<port>[0-9]{1,5})$")


def parse(coordinator: str | None, num_processes, process_id) -> Cluster | None:
    """The cluster the three command-line options describe (``None`` when none is given).

    Raises:
      InputError: only some of the three, a malformed ``HOST:PORT``, ``num_processes < 1`` or a
        ``process_id`` outside ``[0, num_processes)``.
    """
    given = {"--coordinator": coordinator, "--num-processes": num_processes, "--process-id": process_id}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        named = [k for k, v in given.items() if v is not None]
        raise InputError(f"train: {', '.join(named)} given without {', '.join(missing)}; a process of a "
                         "multi-process run needs all three (--coordinator HOST:PORT --num-processes N --process-id I)")
    m = _HOST_PORT.match(coordinator)
    if not m or not 1 <= int(m.group("port")) <= 65535:
        raise InputError(f"train: --coordinator must be HOST:PORT with a port in 1..65535; got {coordinator!r}")
    n, i = _integer("--num-processes", num_processes), _integer("--process-id", process_id)
    if n < 1:
        raise InputError(f"train: --num-processes must be at least 1; got {n}")
    if not 0 <= i < n:
        raise InputError(f"train: --process-id must be in [0, {n}) for {n} processes; got {i}")
    return Cluster(coordinator, n, i)


def _integer(name: str, value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"train: {name} must be an integer; got {value!r}") from None


def detected() -> bool:
    """Whether this process is one task of a multi-task cluster job JAX can join by itself."""
    for var in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        try:
            if int(os.environ.get(var, "1")) > 1:
                return True
        except ValueError:
            pass
    return False


def initialize(cluster: Cluster | None, timeout: int = TIMEOUT_SECONDS) -> bool:
    """Joins the multi-process run ``cluster`` describes, or the one JAX detects (a SLURM, Open
    MPI or TPU job) when ``cluster`` is ``None``; returns whether this is a multi-process run.
    On CPU, collectives run over gloo.

    Raises:
      DistributedError: the coordinator did not answer within ``timeout`` seconds.
    """
    import jax

    if cluster is None and not detected():
        return False
    if cluster is not None and cluster.num_processes == 1:
        return False
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    kwargs = {} if cluster is None else {"coordinator_address": cluster.coordinator,
                                         "num_processes": cluster.num_processes, "process_id": cluster.process_id}
    where = f"the coordinator {cluster.coordinator}" if cluster else "the cluster's coordinator"
    if cluster is not None and cluster.process_id == 0:
        waiting = f"not all {cluster.num_processes} processes joined {where} within {timeout} s"
    else:
        waiting = f"{where} did not answer within {timeout} s"

    def give_up():  # JAX's own timeout aborts the process with a stack trace: this one says it in a line
        print(f"train: {waiting}; is every process started, with the same --coordinator?", file=sys.stderr,
              flush=True)
        os._exit(1)

    watchdog = threading.Timer(timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(**kwargs, initialization_timeout=timeout + 30, heartbeat_timeout_seconds=timeout)
    except Exception as e:  # noqa: BLE001  (JAX raises several kinds; each means the same here)
        reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise DistributedError(f"train: {waiting} ({reason})") from None
    finally:
        watchdog.cancel()
    # JAX's runtime takes SIGTERM as a preemption notice and keeps training; a `kill` (or a
    # scheduler's) must end this process, as it ends a single-process run.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return jax.process_count() > 1


def is_peer_failure(error: BaseException) -> bool:
    """Whether ``error``, raised by a collective or the runtime, means another process is gone."""
    import jax

    if jax.process_count() <= 1:
        return False
    text = str(error)
    return any(s in text for s in ("Gloo", "gloo", "Connection reset", "Connection closed", "UNAVAILABLE",
                                   "heartbeat", "coordination service", "Socket closed", "Broken pipe"))


def host(x):
    """``x`` as a numpy array on this host: a replicated global array's local copy, or the
    gathered whole of a sharded one."""
    import numpy as np

    if getattr(x, "is_fully_addressable", True):
        return np.asarray(x)
    if x.is_fully_replicated:
        return np.asarray(x.addressable_data(0))
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))
