"""The walls around one worker of ``jaxdl check-numpy``: namespaces, a file-system view of its
own, Landlock, seccomp and resource limits, raised by this small launcher before the worker's
interpreter starts. Standard library only: it runs as ``python -I -S -B walls.py CONFIG`` (the
checker's side, :mod:`.sandbox`, writes ``CONFIG``) and ends by ``exec``-ing the worker.

The launcher (L), started by the checker in a session of its own:

1. ``unshare`` into new user, mount, pid, net, ipc and uts namespaces, then waits while the
   checker writes its uid/gid maps: the worker is uid 1000 inside, mapped to the checker's own
   uid, or to ``nobody`` when the checker runs as root;
2. builds the worker's root from an empty skeleton folder the checker made: read-only binds of
   the interpreter, its standard library (``site-packages`` covered by an empty folder), the
   lab's packages (numpy, scipy; a hidden submodule covered by a stub), the worker's two files
   and a copy of the one submission; ``/dev/null``, ``/dev/zero``, ``/dev/urandom``; a
   size-capped tmpfs ``/scratch`` (also ``/tmp``); then ``pivot_root``
   into it and detaches the old root, so nothing else of the machine is reachable;
3. forks the pid namespace's init (P1), which forks the worker (W) and, when W ends, reports how
   and ends every process left in the namespace (the kernel kills them with P1);
4. W sets its resource limits (CPU seconds, address space, file size, processes, open files),
   ``no_new_privs``, a Landlock domain (read: interpreter, standard library, packages, submission;
   write: scratch; no TCP; no signals or abstract sockets outside it) and a seccomp filter (no
   ``ptrace``, sockets, ``io_uring``, ``mount``, ``bpf``, namespaces, keyrings, modules…), reports
   which walls stood, and ``exec``-s the worker as uid 1000 with no capabilities.

Where namespaces are unavailable (``mode: "process"``), W is this process itself: the same
limits, Landlock and seccomp where the kernel has them, on the machine's own file system.

Status lines go to the checker on ``status_fd``: ``unshared``, ``pid1 PID``, ``walls JSON``,
``exit CODE`` or ``signal N`` (how W ended), ``error TEXT`` (a wall that failed to rise).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import resource
import signal
import struct
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]

INSIDE_UID = 1000  # the worker's uid and gid inside its user namespace

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CLONE_NEWCGROUP, CLONE_NEWTIME = 0x02000000, 0x00000080
NAMESPACES = {"user": CLONE_NEWUSER, "mount": CLONE_NEWNS, "pid": CLONE_NEWPID, "net": CLONE_NEWNET,
              "ipc": CLONE_NEWIPC, "uts": CLONE_NEWUTS}

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
MNT_DETACH = 2

PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 38, 22
SECCOMP_MODE_FILTER = 2

# Per architecture: (audit arch, pivot_root, clone, {denied syscall: number}). Numbers from 424
# on are the same on every architecture.
_COMMON = {"pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
           "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
           "pidfd_getfd": 438, "process_madvise": 440, "mount_setattr": 442}
_ARCH = {
    "x86_64": (0xC000003E, 155, 56, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "bpf": 321, "unshare": 272, "setns": 308, "socket": 41,
        "socketpair": 53, "keyctl": 250, "add_key": 248, "request_key": 249, "perf_event_open": 298,
        "userfaultfd": 323, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "syslog": 103,
        "name_to_handle_at": 303, "open_by_handle_at": 304, "kcmp": 312, "quotactl": 179, "iopl": 172,
        "ioperm": 173, "uselib": 134, **_COMMON}),
    "aarch64": (0xC00000B7, 41, 220, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51, "bpf": 280, "unshare": 97, "setns": 268, "socket": 198,
        "socketpair": 199, "keyctl": 219, "add_key": 217, "request_key": 218, "perf_event_open": 241,
        "userfaultfd": 282, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "syslog": 116,
        "name_to_handle_at": 264, "open_by_handle_at": 265, "kcmp": 272, "quotactl": 60, **_COMMON}),
}
_CLONE3 = 435

# Landlock (include/uapi/linux/landlock.h).
_LL_CREATE, _LL_ADD_RULE, _LL_RESTRICT = 444, 445, 446
_LL_VERSION = 1
_FS = {"execute": 1 << 0, "write_file": 1 << 1, "read_file": 1 << 2, "read_dir": 1 << 3, "remove_dir": 1 << 4,
       "remove_file": 1 << 5, "make_char": 1 << 6, "make_dir": 1 << 7, "make_reg": 1 << 8, "make_sock": 1 << 9,
       "make_fifo": 1 << 10, "make_block": 1 << 11, "make_sym": 1 << 12, "refer": 1 << 13, "truncate": 1 << 14,
       "ioctl_dev": 1 << 15}
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_TCP = 0b11  # bind and connect, ABI 4
_SCOPES = 0b11  # abstract unix sockets and signals, ABI 6
_READ = _FS["read_file"] | _FS["read_dir"] | _FS["execute"]
_FILE_RIGHTS = _FS["execute"] | _FS["write_file"] | _FS["read_file"] | _FS["truncate"] | _FS["ioctl_dev"]
_WRITE = (1 << 16) - 1 & ~(_FS["make_char"] | _FS["make_block"] | _FS["ioctl_dev"])


class WallError(OSError):
    """A wall that could not be raised."""


def _check(result: int, what: str) -> int:
    if result < 0:
        e = ctypes.get_errno()
        raise WallError(e, f"{what}: {os.strerror(e)}")
    return result


def _status(cfg: dict, line: str) -> None:
    fd = cfg.get("status_fd")
    if fd is not None:
        try:
            os.write(fd, (line.replace("\n", " ") + "\n").encode())
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# Probing what this machine allows (run by the checker once, in a child process).


def landlock_abi() -> int:
    """Landlock's ABI version, or 0 where the kernel has none (or it is off)."""
    if not sys.platform.startswith("linux"):
        return 0
    r = _libc.syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_LL_VERSION))
    return int(r) if r > 0 else 0


def seccomp_arch() -> str | None:
    machine = platform.machine()
    return machine if sys.platform.startswith("linux") and machine in _ARCH else None


def probe() -> dict:
    """What can be raised here: ``{"namespaces": bool, "landlock": abi, "seccomp": bool, "why": text}``
    (``why``: the reason namespaces cannot be made). Runs ``unshare`` in a forked child."""
    out = {"namespaces": False, "landlock": landlock_abi(), "seccomp": seccomp_arch() is not None, "why": ""}
    if not sys.platform.startswith("linux"):
        out["why"] = f"no Linux namespaces on {sys.platform}"
        return out
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child tries, then reports
        os.close(r)
        flags = 0
        for f in NAMESPACES.values():
            flags |= f
        res = _libc.unshare(flags)
        os.write(w, b"ok" if res == 0 else os.strerror(ctypes.get_errno()).encode())
        os._exit(0)
    os.close(w)
    answer = os.read(r, 200).decode(errors="replace")
    os.close(r)
    os.waitpid(pid, 0)
    out["namespaces"] = answer == "ok"
    if not out["namespaces"]:
        out["why"] = f"unshare(user, mount, pid, net, ipc, uts) failed: {answer}"
    return out


# --------------------------------------------------------------------------------------------
# The file-system view.


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _locked_flags(path: str) -> int:
    """The flags a read-only remount of ``path`` must keep (a user namespace cannot drop them)."""
    st = os.statvfs(path)
    flags = 0
    for bit, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC)):
        if st.f_flag & bit:
            flags |= ms
    if st.f_flag & os.ST_NOATIME:
        flags |= MS_NOATIME
    elif st.f_flag & getattr(os, "ST_RELATIME", 4096):
        flags |= MS_RELATIME
    else:
        flags |= MS_STRICTATIME
    if st.f_flag & os.ST_NODIRATIME:
        flags |= MS_NODIRATIME
    return flags


def _bind_ro(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _locked_flags(target))


def build_root(cfg: dict) -> None:
    """Binds the configured sources into the skeleton ``cfg["root"]`` and ``pivot_root``-s into it."""
    root = cfg["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount(root, root, None, MS_BIND | MS_REC)
    for source, target in cfg["binds"]:  # the checker made every target in the skeleton
        _bind_ro(source, root + target)
    for target in cfg.get("empty", []):  # e.g. site-packages inside the standard library
        _mount("tmpfs", root + target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")
    for dev in cfg.get("devices", []):
        _mount(dev, root + dev, None, MS_BIND)
        _mount(None, root + dev, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC | _locked_flags(root + dev))
    scratch = cfg["scratch"]
    _mount("tmpfs", root + scratch["path"], "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(scratch['size_mb'])}m,nr_inodes={int(scratch.get('inodes', 4096))},mode=0700,"
           f"uid={INSIDE_UID},gid={INSIDE_UID}")
    _mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _locked_flags(root))
    os.chdir(root)
    arch = _ARCH.get(platform.machine())
    if arch is None:
        raise WallError(errno.ENOSYS, f"pivot_root: unknown architecture {platform.machine()}")
    _check(_libc.syscall(arch[1], b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


# --------------------------------------------------------------------------------------------
# Landlock and seccomp.


def raise_landlock(rules, abi: int) -> int:
    """A Landlock domain allowing only ``rules`` (``[path, "ro"|"rw"|"dev"|"list"]``); returns the ABI used."""
    abi = min(abi, 7)
    fs = _FS_BY_ABI.get(abi, _FS_BY_ABI[5])
    attr = struct.pack("<QQQ", fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    buf = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _check(_libc.syscall(_LL_CREATE, buf, ctypes.c_size_t(size), ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for path, kind in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                is_dir = os.path.isdir(path)
                access = {"ro": _READ, "rw": _WRITE, "dev": _FS["read_file"] | _FS["write_file"] | _FS["truncate"],
                          "list": _FS["read_dir"]}[kind] & fs
                if not is_dir:
                    access &= _FILE_RIGHTS
                rule = ctypes.create_string_buffer(struct.pack("<Qi", access, fd), 12)
                _check(_libc.syscall(_LL_ADD_RULE, ruleset, ctypes.c_int(1), rule, ctypes.c_uint32(0)),
                       f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(_libc.syscall(_LL_RESTRICT, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def seccomp_program(machine: str) -> bytes:
    """The filter: the architecture checked, the denied calls refused with EPERM (``clone3`` with
    ENOSYS, so that threads fall back to ``clone``), ``clone`` refused when it asks for a namespace."""
    audit_arch, _, clone, denied = _ARCH[machine]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
        CLONE_NEWCGROUP | CLONE_NEWTIME
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, audit_arch), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    if machine == "x86_64":  # the x32 ABI's numbers
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]
    for nr in sorted(set(denied.values())):
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, eperm)]
    prog += [(jeq, 0, 1, _CLONE3), (ret, 0, 0, enosys)]
    prog += [(jeq, 0, 3, clone), (ld, 0, 0, 16), (jset, 0, 1, ns_flags), (ret, 0, 0, eperm), (ret, 0, 0, allow)]
    return b"".join(struct.pack("<HBBI", *ins) for ins in prog)


def raise_seccomp() -> None:
    machine = seccomp_arch()
    if machine is None:
        raise WallError(errno.ENOSYS, f"seccomp: no filter for {platform.machine()}")
    code = seccomp_program(machine)
    filt = ctypes.create_string_buffer(code, len(code))

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = _Prog(len(code) // 8, ctypes.addressof(filt))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


# --------------------------------------------------------------------------------------------
# The worker's own process.


def _limits(limits: dict) -> dict:
    mb = 1 << 20
    table = {"cpu_s": (resource.RLIMIT_CPU, 1), "as_mb": (resource.RLIMIT_AS, mb),
             "fsize_mb": (resource.RLIMIT_FSIZE, mb), "nproc": (resource.RLIMIT_NPROC, 1),
             "nofile": (resource.RLIMIT_NOFILE, 1)}
    set_ = {}
    for key, (which, unit) in table.items():
        if key in limits:
            value = int(limits[key]) * unit
            # The CPU limit's soft value sends SIGXCPU, the hard one (a second later) SIGKILL.
            hard = value + 1 if key == "cpu_s" else value
            resource.setrlimit(which, (value, hard))
            set_[key] = int(limits[key])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails with an OSError instead
    return set_


def become_worker(cfg: dict, walls: dict) -> None:
    """Drops to the worker's uid (inside the namespaces), raises the in-process walls, reports
    them and ``exec``-s the worker; never returns."""
    if walls.get("namespaces"):
        os.setresgid(INSIDE_UID, INSIDE_UID, INSIDE_UID)
        os.setresuid(INSIDE_UID, INSIDE_UID, INSIDE_UID)
    walls["rlimits"] = _limits(cfg.get("limits", {}))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    abi = int(cfg.get("landlock_abi") or 0)
    if abi:
        walls["landlock"] = raise_landlock(cfg["landlock"], abi)
    if cfg.get("seccomp"):
        raise_seccomp()
        walls["seccomp"] = True
    keep = sorted(set(cfg.get("keep_fds", [])) | {0, 1, 2})
    for fd in keep:
        os.set_inheritable(fd, True)
    _status(cfg, "walls " + json.dumps(walls, sort_keys=True))
    for low, high in zip(keep, [*keep[1:], 1 << 20]):  # every other descriptor (close_range)
        if high > low + 1:
            os.closerange(low + 1, high)
    os.chdir(cfg["cwd"])
    os.execve(cfg["exec"][0], cfg["exec"], cfg["env"])


def _init(cfg: dict, worker_pid: int) -> None:
    """The pid namespace's init: reaps every process, and when the worker ends reports how and
    ends the namespace (every process in it is killed with this one)."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == worker_pid:
            if os.WIFSIGNALED(status):
                _status(cfg, f"signal {os.WTERMSIG(status)}")
            else:
                _status(cfg, f"exit {os.waitstatus_to_exitcode(status)}")
            break
    os._exit(0)


def run(cfg: dict) -> None:
    """The launcher's whole life (see the module docstring); never returns."""
    _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    walls = {"namespaces": [], "landlock": 0, "seccomp": False}
    try:
        if cfg["mode"] == "namespaces":
            flags = 0
            for f in NAMESPACES.values():
                flags |= f
            _check(_libc.unshare(flags), "unshare")
            _status(cfg, "unshared")
            if os.read(cfg["sync_fd"], 1) != b"1":  # the checker has written the uid and gid maps
                raise WallError(errno.EPERM, "the checker did not map the user namespace")
            build_root(cfg)
            _libc.sethostname(b"sandbox", 7)
            walls["namespaces"] = list(NAMESPACES)
            pid1 = os.fork()
            if pid1:
                _status(cfg, f"pid1 {pid1}")
                for fd in cfg.get("keep_fds", []):
                    os.close(fd)
                _, status = os.waitpid(pid1, 0)
                os._exit(0)
            _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            worker = os.fork()
            if worker:
                for fd in cfg.get("keep_fds", []):
                    os.close(fd)
                _init(cfg, worker)
        become_worker(cfg, walls)
    except BaseException as e:  # noqa: BLE001 - every failure is reported, then this process ends
        _status(cfg, f"error {type(e).__name__}: {e}")
        os._exit(121)


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps(probe()))
        sys.exit(0)
    run(json.loads(sys.argv[1]))
