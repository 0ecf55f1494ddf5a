"""The checker's side of a worker process: start it inside its walls, talk to it under a CPU-time
limit, end it and everything it started.

A :class:`Worker` is a fresh interpreter behind the walls of :mod:`.walls`, in one of three
modes (:data:`MODES`):

- ``namespaces`` (the default where the kernel allows it): its own user, pid, net, mount, ipc and
  uts namespaces; a root file system holding only the interpreter, its standard library, the
  packages of the lab's environment (:mod:`.environment`: numpy and scipy), the worker's files
  and a copy of its one submission, read-only, and a size-capped scratch tmpfs; Landlock and
  seccomp; resource limits. When it ends, every process it started ends.
- ``process``: no namespaces (none can be made here); Landlock, seccomp and resource limits on
  the machine's own file system, where the kernel has them.
- ``plain``: resource limits and the one-process rule only (for benchmarks).

In every mode the student's code is one process (its threads aside): seccomp refuses a new process,
session or process group, so that the limits on CPU time and memory, which the kernel keeps per
process, are the submission's. Where seccomp cannot be raised, nothing is graded (a child's CPU
time and memory would be counted nowhere).

Each request has a limit on the CPU time the submission uses (so that a classmate's load cannot
time out correct code), with a clock as a backstop for code that sleeps or waits: the time the
request took, less the time the worker (or the checker's thread serving it) waited for a processor
(``/proc/PID/schedstat``), so that a busy machine does not stop correct code either. A submission
has a budget of each (CPU and that clock) over all its requests. Whatever ends a request other than
a well-formed reply — an exit with any status, a signal, a limit, a malformed or oversized reply —
raises :class:`WorkerLost` with the reason in words.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time

from jaxdl.check.numpy_check import environment
from jaxdl.check.numpy_check import protocol as wire

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER_PATH = os.path.join(HERE, "worker.py")
PROTOCOL_PATH = os.path.join(HERE, "protocol.py")
WALLS_PATH = os.path.join(HERE, "walls.py")
STANDIN_PATH = os.path.join(os.path.dirname(HERE), "im2col_standin.py")
MODES = ("namespaces", "process", "plain")
OUTPUT_LIMIT = 4 << 10  # bytes of the student's stdout and stderr kept, each, per worker
TRUNCATED = "[… more output not kept]"
START_LIMIT_S = 60.0  # the worker's own start (an interpreter, numpy and scipy), not the student's code
WALL_FACTOR, WALL_EXTRA_S = 3.0, 2.0  # the clock's backstop: 3 × the CPU limit + 2 s
HARD_FACTOR = 4.0  # the backstop on the wall clock itself (a machine busy past reason): 4 × the other
SCRATCH_MB = 64  # the scratch tmpfs, the worker's only writable place
MAX_PROCESSES = 32  # threads of one submission (RLIMIT_NPROC; it starts no other process)
MAX_OPEN_FILES = 64
NOBODY = 65534  # the worker's uid when the checker runs as root (outside its namespace, or in its place)
# Stand-ins of a package of the lab's environment where it is not installed ({name: folder}): the
# standalone checker of ``check-numpy --export`` (numpy only) puts its scipy stand-in here.
STANDIN_PACKAGES: dict[str, str] = {}
# Whether a root checker outside namespaces must run its workers as nobody (the standalone checker,
# whose reference data only root may read), or may keep root where nobody could not read the
# interpreter (jaxdl's own check-numpy, behind Landlock where the kernel has it).
REQUIRE_DROP = False
# Environment variables a worker inherits: enough for numpy's BLAS. Nothing else of ours.
_KEPT_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WorkerLost(Exception):
    """The worker ended or misbehaved during a request; ``reason`` says how, in words. ``waited``:
    the clock stopped it (or its budget) while its CPU time was under the limit (a submission is
    graded again alone before that stands)."""

    def __init__(self, reason: str, waited: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.waited = waited


class CheckerError(RuntimeError):
    """The worker could not even start: a problem of this machine or of jaxdl, not the student's."""


def _root() -> bool:
    return hasattr(os, "getuid") and os.getuid() == 0


def _others_can_read(path: str) -> bool:
    """Whether a user with no rights of its own (nobody) can reach and read ``path``: every folder
    above it searchable by others, the path readable (and a folder searchable) by others."""
    path = os.path.realpath(path)
    try:
        st = os.stat(path)
        if not st.st_mode & stat.S_IROTH or (stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH):
            return False
        parent = os.path.dirname(path)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def drop_blocked() -> str:
    """Outside namespaces a checker running as root starts its workers as nobody: ``""`` when
    nobody can read what a worker needs (the interpreter, the standard library, the lab's packages,
    the worker's files), else the first path it cannot."""
    view = _view()
    needed = [view["exe"], view["stdlib"], view["dynload"], view["libpython"], *(f for _, f, _ in view["packages"]),
              WORKER_PATH, PROTOCOL_PATH, WALLS_PATH, STANDIN_PATH]
    return next((p for p in needed if p and not _others_can_read(p)), "")


def _own_wait() -> float:
    """Seconds the calling thread of the checker has waited for a processor."""
    return _waited("/proc/thread-self")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --------------------------------------------------------------------------------------------
# What this machine can raise, and the file-system view, prepared once per checker process.

_LOCK = threading.RLock()
_PROBED: dict | None = None
_VIEW: dict | None = None


def machine_walls() -> dict:
    """``{"namespaces": bool, "landlock": ABI, "seccomp": bool, "why": text}``, probed once (a
    child process tries to make the namespaces)."""
    global _PROBED
    with _LOCK:
        if _PROBED is None:
            try:
                done = subprocess.run([sys.executable, "-I", "-S", "-B", WALLS_PATH, "--probe"], capture_output=True,
                                      text=True, timeout=30)
                _PROBED = json.loads(done.stdout)
            except (OSError, ValueError, subprocess.TimeoutExpired) as e:
                _PROBED = {"namespaces": False, "landlock": 0, "seccomp": False, "why": f"the probe failed: {e}"}
        return dict(_PROBED)


def best_mode() -> str:
    w = machine_walls()
    if w["namespaces"]:
        return "namespaces"
    return "process" if (w["landlock"] or w["seccomp"]) else "plain"


def describe(walls: dict) -> str:
    """The walls a worker reported, in words (for stderr and the JSON)."""
    parts = []
    if walls.get("namespaces"):
        parts.append(f"namespaces ({', '.join(walls['namespaces'])}), own root file system, "
                     f"{walls.get('scratch_mb', SCRATCH_MB)} MiB scratch tmpfs")
    parts.append(f"Landlock ABI {walls['landlock']}" if walls.get("landlock") else "no Landlock")
    parts.append({"allow-list": "seccomp allow-list (one process)", "one process": "seccomp: one process"}.get(
        walls.get("seccomp"), "no seccomp"))
    limits = walls.get("rlimits") or {}
    if limits:
        parts.append("limits: " + ", ".join(f"{k} {v}" for k, v in sorted(limits.items())))
    return "; ".join(parts)


def _lib_dirs() -> list[str]:
    """The machine's shared-library folders the interpreter and the packages load from."""
    triplet = sysconfig.get_config_var("MULTIARCH") or ""
    out = []
    for d in ("/lib64", "/usr/lib64", f"/lib/{triplet}", f"/usr/lib/{triplet}"):
        if triplet or "64" in d:
            real = os.path.realpath(d)
            if os.path.isdir(real) and real not in out:
                out.append(real)
    return out


def _packages() -> list[tuple[str, str, list[str]]]:
    """``(name, folder, hidden entries)`` of each package the worker sees (:data:`.environment.PACKAGES`)
    and of the folder of shared libraries its wheel ships beside it (``numpy.libs``, ``scipy.libs``);
    ``hidden``: the names of the package's subfolders the worker does not see (:data:`.environment.HIDDEN`)."""
    import importlib.util

    out = []
    for name in environment.PACKAGES:
        spec = importlib.util.find_spec(name)
        if (spec is None or not spec.submodule_search_locations) and name in STANDIN_PACKAGES:
            out.append((name, STANDIN_PACKAGES[name], []))
            continue
        if spec is None or not spec.submodule_search_locations:
            raise CheckerError(f"the lab's environment needs {name}, which is not installed with jaxdl")
        folder = os.path.realpath(list(spec.submodule_search_locations)[0])
        hidden = sorted(h.split(".", 1)[1] for h in environment.HIDDEN if h.split(".")[0] == name)
        out.append((name, folder, hidden))
        if os.path.isdir(folder + ".libs"):
            out.append((name + ".libs", folder + ".libs", []))
    return out


def _view() -> dict:
    """What a worker may see: ``{"exe": ..., "stdlib": ..., "packages": [...], ...}`` (host paths)."""
    global _VIEW
    with _LOCK:
        if _VIEW is None:
            exe = os.path.realpath(sys.executable)
            base = os.path.realpath(sys.base_prefix)
            stdlib = os.path.dirname(os.path.realpath(os.__file__))
            dynload = sysconfig.get_config_var("DESTSHARED") or os.path.join(stdlib, "lib-dynload")
            libpython = None
            libdir, soname = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
            if libdir and soname and os.path.isfile(os.path.join(libdir, soname)):
                libpython = os.path.realpath(os.path.join(libdir, soname))
            _VIEW = {"exe": exe, "base": base, "stdlib": stdlib, "dynload": os.path.realpath(dynload),
                     "libpython": libpython, "packages": _packages(),
                     "libs": _lib_dirs(), "ld_cache": "/etc/ld.so.cache" if os.path.isfile("/etc/ld.so.cache") else None}
        return _VIEW


_TEMPS: list[str] = []


def readable_temp(prefix: str) -> str:
    """A new folder every user can read (a worker dropped to nobody reads what is in it), removed
    when the process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    _TEMPS.append(path)
    os.chmod(path, 0o755)
    return path


@atexit.register
def _remove_temps() -> None:
    for path in _TEMPS:
        shutil.rmtree(path, ignore_errors=True)


_SKELETON: dict | None = None


def _inside(host: str, view: dict) -> str:
    """Where a host path of the interpreter appears inside the worker's root."""
    if host.startswith(view["base"] + os.sep):
        return "/python/" + os.path.relpath(host, view["base"])
    return host


def _skeleton() -> dict:
    """The empty folders and files the worker's root is bound onto (made once, shared by every
    worker: each binds into them in its own mount namespace) and the binds themselves."""
    global _SKELETON
    with _LOCK:
        if _SKELETON is not None:
            return _SKELETON
        view = _view()
        root = tempfile.mkdtemp(prefix="jaxdl-root-")
        _TEMPS.append(root)
        os.chmod(root, 0o755)
        binds, empty, landlock = [], [], []

        def target(path: str, is_file: bool) -> None:
            full = root + path
            os.makedirs(os.path.dirname(full) if is_file else full, mode=0o755, exist_ok=True)
            if is_file and not os.path.exists(full):
                open(full, "w").close()

        def bind(host: str, inside: str, rights: str = "ro") -> None:
            target(inside, os.path.isfile(host))
            binds.append([host, inside])
            landlock.append([inside, rights])

        exe = _inside(view["exe"], view)
        bind(view["exe"], exe)
        bind(view["stdlib"], _inside(view["stdlib"], view))
        if not view["dynload"].startswith(view["stdlib"] + os.sep):
            bind(view["dynload"], _inside(view["dynload"], view))
        if view["libpython"] and view["libpython"].startswith(view["base"] + os.sep):
            bind(view["libpython"], _inside(view["libpython"], view))
        site_packages = os.path.join(view["stdlib"], "site-packages")
        if os.path.isdir(site_packages):
            inside = _inside(site_packages, view)
            target(inside, False)
            empty.append(inside)
        landlock.append(["/site", "list"])
        for name, folder, hidden in view["packages"]:
            bind(folder, f"/site/{name}")
            for h in hidden:  # covered by a stub that refuses the import, naming the module
                if os.path.isdir(os.path.join(folder, h)):
                    binds.append([_hidden_stub(f"{name}.{h}"), f"/site/{name}/{h}"])
        for d in view["libs"]:
            bind(d, d)
        for link in ("/lib", "/lib64"):
            if os.path.islink(link) and not os.path.lexists(root + link):
                os.symlink(os.readlink(link), root + link)
        if view["ld_cache"]:
            bind(view["ld_cache"], view["ld_cache"])
        for name, host in (("worker.py", WORKER_PATH), ("protocol.py", PROTOCOL_PATH),
                           ("im2col_standin.py", STANDIN_PATH)):
            bind(host, f"/jaxdl/{name}")
        devices = ["/dev/null", "/dev/zero", "/dev/urandom"]
        for dev in devices:
            target(dev, True)
            landlock.append([dev, "dev"])
        target("/submission", False)
        target("/scratch", False)
        landlock.append(["/submission", "ro"])
        landlock.append(["/scratch", "rw"])
        os.symlink("scratch", root + "/tmp")
        sys_path = [_inside(view["stdlib"], view), _inside(view["dynload"], view), "/site"]
        _SKELETON = {"root": root, "binds": binds, "empty": empty, "devices": devices, "landlock": landlock,
                     "exe": exe, "sys_path": sys_path}
        return _SKELETON


_SITE: str | None = None
_STUBS: dict[str, str] = {}


def _hidden_stub(module: str) -> str:
    """A folder standing for a hidden submodule (:data:`.environment.HIDDEN`): its ``__init__.py``
    raises ModuleNotFoundError naming the module, so the checker names the reason; the module's own
    files stay out of the worker's view."""
    with _LOCK:
        if module not in _STUBS:
            folder = tempfile.mkdtemp(prefix="jaxdl-hidden-")
            _TEMPS.append(folder)
            with open(os.path.join(folder, "__init__.py"), "w") as f:
                f.write(f"raise ModuleNotFoundError({f'No module named {module!r} (hidden from lab files)'!r}, "
                        f"name={module!r})\n")
            os.chmod(folder, 0o755)
            _STUBS[module] = folder
        return _STUBS[module]


def _visible(folder: str, hidden: list[str]) -> list[str]:
    """The entries of a package's folder the worker sees (its hidden subfolders left out)."""
    with os.scandir(folder) as entries:
        return sorted(e.path for e in entries if e.name not in hidden)


def _site() -> str:
    """Outside namespaces: a folder holding only the environment's packages (links to them; a
    package with hidden subfolders as a folder of links to its other entries), the worker's
    package path."""
    global _SITE
    with _LOCK:
        if _SITE is None:
            view = _view()
            _SITE = tempfile.mkdtemp(prefix="jaxdl-site-")
            _TEMPS.append(_SITE)
            os.chmod(_SITE, 0o755)  # a worker dropped to nobody (the checker is root) reads it
            for name, folder, hidden in view["packages"]:
                if not hidden:
                    os.symlink(folder, os.path.join(_SITE, name))
                    continue
                os.mkdir(os.path.join(_SITE, name))
                for path in _visible(folder, hidden):
                    os.symlink(path, os.path.join(_SITE, name, os.path.basename(path)))
                for h in hidden:
                    os.symlink(_hidden_stub(f"{name}.{h}"), os.path.join(_SITE, name, h))
        return _SITE


def _process_landlock(view: dict, submission: str, scratch: str) -> list:
    """Landlock rules on the machine's own file system: the standard library without its
    site-packages, the environment's packages without their hidden subfolders, the worker's three
    files, the submission, the scratch folder."""
    rules = [[view["exe"], "ro"], [view["stdlib"], "list"], [_site(), "ro"],
             [submission, "ro"], [scratch, "rw"], ["/dev/null", "dev"], ["/dev/urandom", "dev"]]
    with os.scandir(view["stdlib"]) as entries:
        rules += [[e.path, "ro"] for e in entries if e.name != "site-packages"]
    for name, folder, hidden in view["packages"]:
        if hidden:
            rules += [[folder, "list"]] + [[path, "ro"] for path in _visible(folder, hidden)]
            rules += [[_hidden_stub(f"{name}.{h}"), "ro"] for h in hidden]
        else:
            rules.append([folder, "ro"])
    for path in (view["dynload"], view["libpython"], view["ld_cache"], WORKER_PATH,
                 PROTOCOL_PATH, STANDIN_PATH, *view["libs"]):
        if path:
            rules.append([path, "ro"])
    return rules


# --------------------------------------------------------------------------------------------
# CPU time of a process and everything under it.


def _waited(path: str) -> float:
    """Seconds the task at ``path`` (``/proc/PID/task/TID``) waited, runnable, for a processor
    (0 where the kernel keeps no schedstat)."""
    try:
        with open(f"{path}/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _stat(pid: int) -> tuple[float, float, list[int]] | None:
    """``(CPU seconds of pid with its reaped children, seconds its threads waited for a processor,
    its children's pids)``, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        children, waited = [], 0.0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                children += [int(c) for c in f.read().split()]
            waited += _waited(f"/proc/{pid}/task/{tid}")
        return ticks / _CLK_TCK, waited, children
    except (OSError, ValueError, IndexError):
        return None


def tree_usage(root: int) -> tuple[float, float]:
    """``(CPU seconds, seconds waiting for a processor)`` of ``root`` and all its descendants (CPU
    time: living or reaped; a worker has no other process, but its launcher and init are counted)."""
    cpu = waited = 0.0
    todo, seen = [root], set()
    while todo and len(seen) < 4096:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        st = _stat(pid)
        if st is not None:
            cpu += st[0]
            waited += st[1]
            todo += st[2]
    return cpu, waited


# --------------------------------------------------------------------------------------------
# A worker.


class Worker:
    """One worker process for the submission copied at ``submission`` (a folder holding it).
    Use as a context manager; :meth:`request` sends one request."""

    def __init__(self, submission: str, time_limit: float, memory_mb: int, mode: str = "namespaces",
                 cpu_budget: float | None = None, clock_budget: float | None = None):
        if mode not in MODES:
            raise ValueError(f"sandbox mode must be one of {MODES}; got {mode!r}")
        self.submission = submission
        self.time_limit = float(time_limit)
        self.memory_mb = int(memory_mb)
        self.mode = mode
        self.cpu_budget = cpu_budget
        self.clock_budget = clock_budget  # seconds of the backstop's clock left to the submission
        self.clock_used = 0.0
        self.output = {"stdout": bytearray(), "stderr": bytearray()}
        self.output_total = {"stdout": 0, "stderr": 0}
        self.proc = None
        self.pid1 = None  # the pid namespace's init, as this process sees it
        self.pidfd = None
        self.walls: dict = {}
        self.status_lines: list[str] = []
        self._status_buf = b""
        self.scratch = None  # outside namespaces: the scratch folder on this machine
        self.cpu_used = 0.0
        self.waited = 0.0
        self._start()

    @property
    def inside(self) -> str:
        """The folder where the submission appears to the student's code."""
        return "/submission" if self.mode == "namespaces" else self.submission

    # Life ----------------------------------------------------------------------------------

    def _config(self, req_r: int, rep_w: int, status_w: int, sync_r: int) -> dict:
        limits = {"as_mb": self.memory_mb, "fsize_mb": SCRATCH_MB, "nproc": MAX_PROCESSES,
                  "nofile": MAX_OPEN_FILES}
        if self.cpu_budget is not None:
            limits["cpu_s"] = max(1, int(self.cpu_budget + 1))
        # Nothing of the checker's (no pid, path or user name): enough for numpy's BLAS.
        env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
        env.update(LANG="C.UTF-8", PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        walls = machine_walls()
        cfg = {"mode": "namespaces" if self.mode == "namespaces" else "process", "status_fd": status_w,
               "keep_fds": [req_r, rep_w], "limits": limits, "env": env,
               "seccomp": walls["seccomp"] and ("one process" if self.mode == "plain" else "allow-list"),
               "landlock_abi": walls["landlock"] if self.mode != "plain" else 0}
        if self.mode == "namespaces":
            sk = _skeleton()
            paths = {"sys_path": sk["sys_path"], "protocol": "/jaxdl/protocol.py", "standin": "/jaxdl/im2col_standin.py",
                     "output_limit": OUTPUT_LIMIT}
            cfg.update(root=sk["root"], binds=[*sk["binds"], [self.submission, "/submission"]], empty=sk["empty"],
                       devices=sk["devices"], landlock=sk["landlock"], sync_fd=sync_r,
                       scratch={"path": "/scratch", "size_mb": SCRATCH_MB}, cwd="/scratch",
                       exec=[sk["exe"], "-I", "-S", "-B", "-u", "/jaxdl/worker.py", str(req_r), str(rep_w), json.dumps(paths)])
            cfg["env"].update(HOME="/scratch", TMPDIR="/scratch")
        else:
            view = _view()
            self.scratch = tempfile.mkdtemp(prefix="jaxdl-check-")
            if _root() and not drop_blocked():
                os.chown(self.scratch, NOBODY, NOBODY)
            paths = {"sys_path": [view["stdlib"], view["dynload"], _site()], "protocol": PROTOCOL_PATH,
                     "standin": STANDIN_PATH, "output_limit": OUTPUT_LIMIT}
            cfg.update(landlock=_process_landlock(view, self.submission, self.scratch), cwd=self.scratch,
                       exec=[view["exe"], "-I", "-S", "-B", "-u", WORKER_PATH, str(req_r), str(rep_w), json.dumps(paths)])
            cfg["env"].update(HOME=self.scratch, TMPDIR=self.scratch)
        return cfg

    def _start(self) -> None:
        extra = {}
        if _root() and self.mode == "namespaces":
            extra = {"extra_groups": []}
        elif _root():  # outside namespaces the worker runs as nobody, without groups, where it can
            blocked = drop_blocked()
            if not blocked:
                extra = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
            elif REQUIRE_DROP:
                raise CheckerError(f"the worker would run as root: the user nobody cannot read {blocked} (install "
                                   "Python and numpy where every user can read them, or grade where user namespaces "
                                   "are allowed)")
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        self._status_r, status_w = os.pipe()
        sync_r, self._sync_w = os.pipe()
        try:
            cfg = self._config(req_r, rep_w, status_w, sync_r)
            self.proc = subprocess.Popen(
                [os.path.realpath(sys.executable), "-I", "-S", "-B", WALLS_PATH, json.dumps(cfg)], cwd=cfg["cwd"] if self.scratch else "/",
                # JAXDL_CHECK_RUN: which checker a launcher belongs to (the worker's own environment has none of it).
                env={"LANG": "C.UTF-8", "JAXDL_CHECK_RUN": str(os.getpid())}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(req_r, rep_w, status_w, sync_r), start_new_session=True, **extra)
        finally:
            for fd in (req_r, rep_w, status_w, sync_r):
                os.close(fd)
        self._streams = {self.proc.stdout.fileno(): "stdout", self.proc.stderr.fileno(): "stderr"}
        for fd in (self._req_w, self._rep_r, self._status_r, *self._streams):
            os.set_blocking(fd, False)
        try:
            self._raise_walls()
            hello, _ = self._exchange(None, START_LIMIT_S, "start")
        except WorkerLost as e:
            self.close()
            raise CheckerError(f"the worker process could not start ({e.reason})"
                               + (f": {self.text('stderr')[-300:]}" if self.text("stderr") else "")) from None
        if hello.get("ready") is not True:
            self.close()
            raise CheckerError("the worker process did not start properly")

    def _status(self, timeout: float) -> str | None:
        """The next status line from the walls (None when the launcher closed its end)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._status_buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerLost(f"the sandbox did not come up within {timeout:g} s")
            sel = selectors.DefaultSelector()
            sel.register(self._status_r, selectors.EVENT_READ)
            ready = sel.select(remaining)
            sel.close()
            if ready:
                chunk = os.read(self._status_r, 4096)
                if not chunk:
                    return None
                self._status_buf += chunk
        line, self._status_buf = self._status_buf.split(b"\n", 1)
        text = line.decode(errors="replace")
        self.status_lines.append(text)
        return text

    def _raise_walls(self) -> None:
        """Follows the launcher's status lines until the worker reports its walls."""
        while True:
            line = self._status(START_LIMIT_S)
            if line is None:
                raise WorkerLost("the sandbox's launcher ended before the worker started")
            kind, _, rest = line.partition(" ")
            if kind == "unshared":
                self._map_ids()
            elif kind == "pid1":
                self.pid1 = int(rest)
                try:
                    self.pidfd = os.pidfd_open(self.pid1)
                except OSError:
                    self.pidfd = None
            elif kind == "walls":
                self.walls = json.loads(rest)
                if self.walls.get("namespaces"):
                    self.walls["scratch_mb"] = SCRATCH_MB
                return
            elif kind == "error":
                raise WorkerLost(f"a wall could not be raised: {rest}")

    def _map_ids(self) -> None:
        """Maps the worker's uid and gid 1000 to this user's (or to nobody's, for root)."""
        from jaxdl.check.numpy_check.walls import INSIDE_UID

        root = os.getuid() == 0
        uid, gid = (NOBODY, NOBODY) if root else (os.getuid(), os.getgid())
        pid = self.proc.pid
        try:
            with open(f"/proc/{pid}/setgroups", "w") as f:
                f.write("deny")
            with open(f"/proc/{pid}/uid_map", "w") as f:
                f.write(f"{INSIDE_UID} {uid} 1\n")
            with open(f"/proc/{pid}/gid_map", "w") as f:
                f.write(f"{INSIDE_UID} {gid} 1\n")
        except OSError as e:
            raise WorkerLost(f"cannot map the worker's user namespace: {e}") from None
        os.write(self._sync_w, b"1")

    def close(self) -> None:
        """Ends the worker and every process of its submission (waits until they are gone)."""
        if self.proc is not None:
            self._kill()
            self.proc.stdout.close()
            self.proc.stderr.close()
            for fd in (self._req_w, self._rep_r, self._status_r, self._sync_w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            if self.pidfd is not None:
                os.close(self.pidfd)
                self.pidfd = None
            self.proc = None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

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

    def usage(self) -> tuple[float, float]:
        """``(CPU seconds used so far, seconds its threads waited for a processor so far)``."""
        if self.proc is None:
            return self.cpu_used, self.waited
        root = self.pid1 if self.pid1 is not None else self.proc.pid
        used, waited = tree_usage(root)
        self.cpu_used = max(self.cpu_used, used)
        self.waited = max(self.waited, waited)
        return self.cpu_used, self.waited

    def cpu_seconds(self) -> float:
        """CPU seconds this worker's processes have used so far."""
        return self.usage()[0]

    # Requests ------------------------------------------------------------------------------

    def request(self, header: dict, arrays=(), what: str = "the call") -> tuple[dict, list]:
        """Sends one request and returns the decoded reply; raises :class:`WorkerLost`."""
        if not self.alive:
            raise WorkerLost(f"the student's process had already ended before {what}")
        return self._exchange(wire.encode_frame(header, arrays), self.time_limit, what)

    def _exchange(self, message: bytes | None, limit: float, what: str) -> tuple[dict, list]:
        """One request and its bounded reply with every way the worker can fail on the way (time,
        memory, a signal, a forged or oversized frame); long because each is told apart with its own
        reason."""
        starting = message is None
        start_cpu, start_waited = self.usage()
        start_own = _own_wait()
        start = time.monotonic()
        backstop = limit if starting else WALL_FACTOR * limit + WALL_EXTRA_S
        budget = False  # the submission's clock budget ends this request before its backstop
        if not starting and self.clock_budget is not None and self.clock_budget - self.clock_used < backstop:
            backstop, budget = max(0.0, self.clock_budget - self.clock_used), True
        outgoing = memoryview(message or b"")
        reply = bytearray()
        need = None
        clock = 0.0
        sel = selectors.DefaultSelector()
        try:
            for fd in self._streams:
                sel.register(fd, selectors.EVENT_READ)
            sel.register(self._rep_r, selectors.EVENT_READ)
            if outgoing:
                sel.register(self._req_w, selectors.EVENT_WRITE)
            next_check = start
            while True:
                for key, _ in sel.select(0.05):
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
                        try:
                            chunk = os.read(fd, 1 << 20)
                        except BlockingIOError:
                            continue
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
                now = time.monotonic()
                if now < next_check:
                    continue
                next_check = now + 0.05  # the submission's CPU time and the clock, 20 times a second
                cpu, waited = self.usage()
                if not starting and cpu - start_cpu > limit:
                    self._kill()
                    raise WorkerLost(f"stopped after {limit:g} s of CPU time during {what} (an endless loop?)")
                elapsed = now - start
                clock = elapsed - min(elapsed, max(waited - start_waited, _own_wait() - start_own))
                if clock >= backstop or elapsed >= HARD_FACTOR * backstop + WALL_EXTRA_S:
                    self._kill()
                    if starting:
                        raise WorkerLost(f"did not answer within {limit:g} s")
                    if budget:
                        raise WorkerLost(f"the submission used up its time budget of {self.clock_budget:g} s during "
                                         f"{what} (sleeping or waiting?)", waited=True)
                    raise WorkerLost(f"stopped after {backstop:.0f} s during {what} without using its "
                                     f"{limit:g} s of CPU time (sleeping or waiting?)", waited=True)
        finally:
            sel.close()
            if not starting:  # the submission's budget: this request's clock, measured once more at its end
                elapsed = time.monotonic() - start
                if elapsed > 0.1 and self.proc is not None:
                    _, waited = self.usage()
                    clock = elapsed - min(elapsed, max(waited - start_waited, _own_wait() - start_own))
                self.clock_used += clock if elapsed > 0.1 else elapsed

    def _drain(self, fd: int, sel) -> None:
        stream = self._streams[fd]
        try:
            chunk = os.read(fd, 1 << 20)
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
        """SIGKILL to the namespace's init (the kernel then kills every process in it) and to the
        launcher's process group; returns once the launcher has ended, i.e. the namespace is empty."""
        self.cpu_seconds()
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def _ended(self, what: str) -> str:
        """The reason for a closed reply channel: how the student's process ended."""
        if self.pid1 is not None:  # the namespace's init reports how the worker ended
            try:
                while True:
                    line = self._status(5.0)
                    if line is None:
                        break
                    kind, _, rest = line.partition(" ")
                    if kind == "exit":
                        return f"the student's process exited with status {int(rest)} during {what}"
                    if kind == "signal":
                        return self._killed(int(rest), what)
            except (WorkerLost, ValueError):
                pass
            self._kill()
            return f"the student's process closed the checker's channel during {what}"
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:  # it closed the channel but lives on
            self._kill()
            return f"the student's process closed the checker's channel during {what}"
        if code >= 0:
            return f"the student's process exited with status {code} during {what}"
        return self._killed(-code, what)

    def _killed(self, number: int, what: str) -> str:
        # SIGXCPU comes from the CPU limit, which is set only from the budget; a SIGKILL is the budget's
        # when the CPU time says so (measured 20 times a second: a late reading must not decide it alone).
        if self.cpu_budget is not None and (number == signal.SIGXCPU or (
                number == signal.SIGKILL and self.cpu_seconds() >= self.cpu_budget)):
            self.cpu_used = max(self.cpu_used, self.cpu_budget)  # it ran to its limit, whatever the last reading
            return f"the submission used up its CPU budget of {self.cpu_budget:g} s during {what}"
        return f"the student's process was killed by {_signal_name(number)} during {what}"
