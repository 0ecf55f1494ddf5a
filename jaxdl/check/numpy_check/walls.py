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
   write: scratch; no TCP; no signals or abstract sockets outside it) and a seccomp filter (an
   allow-list, :data:`ALLOWED`: no new process, session or process group, no ``ptrace``, sockets,
   ``io_uring``, mounts, ``bpf``, namespaces, keyrings, modules, and nothing a newer kernel adds),
   reports which walls stood, and ``exec``-s the worker as uid 1000 with no capabilities.

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

# The architectures a filter is written for: the audit arch seccomp reports, and the index of each in
# _NR's pairs. A system call's number: (x86_64, aarch64), None where the architecture has none
# (x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: include/uapi/asm-generic/unistd.h; from
# 424 on, the numbers are the same everywhere).
_AUDIT_ARCH = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}
_NR = {
    "access": (21, None), "acct": (163, 89), "add_key": (248, 217), "alarm": (37, None), "arch_prctl": (158, None),
    "bpf": (321, 280), "brk": (12, 214), "chdir": (80, 49), "chmod": (90, None), "chroot": (161, 51),
    "clock_getres": (229, 114), "clock_gettime": (228, 113), "clock_nanosleep": (230, 115), "clone": (56, 220),
    "clone3": (435, 435), "close": (3, 57), "close_range": (436, 436), "copy_file_range": (326, 285),
    "delete_module": (176, 106), "dup": (32, 23), "dup2": (33, None), "dup3": (292, 24), "epoll_create1": (291, 20),
    "epoll_ctl": (233, 21), "epoll_pwait": (281, 22), "epoll_wait": (232, None), "execve": (59, 221),
    "exit": (60, 93), "exit_group": (231, 94), "faccessat": (269, 48), "faccessat2": (439, 439),
    "fadvise64": (221, 223), "fchdir": (81, 50), "fchmod": (91, 52), "fchmodat": (268, 53), "fcntl": (72, 25),
    "fdatasync": (75, 83), "fgetxattr": (193, 10), "finit_module": (313, 273), "flistxattr": (196, 13),
    "flock": (73, 32), "fork": (57, None), "fsconfig": (431, 431), "fsmount": (432, 432), "fsopen": (430, 430),
    "fspick": (433, 433), "fstat": (5, 80), "fstatfs": (138, 44), "fsync": (74, 82), "ftruncate": (77, 46),
    "futex": (202, 98), "getcpu": (309, 168), "getcwd": (79, 17), "getdents64": (217, 61), "getegid": (108, 177),
    "geteuid": (107, 175), "getgid": (104, 176), "getgroups": (115, 158), "getitimer": (36, 102),
    "getpgid": (121, 155), "getpgrp": (111, None), "getpid": (39, 172), "getppid": (110, 173),
    "getrandom": (318, 278), "getresgid": (120, 150), "getresuid": (118, 148), "getrusage": (98, 165),
    "getsid": (124, 156), "gettid": (186, 178), "gettimeofday": (96, 169), "getuid": (102, 174),
    "getxattr": (191, 8), "init_module": (175, 105), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "io_uring_setup": (425, 425), "ioctl": (16, 29), "ioperm": (173, None), "iopl": (172, None), "kcmp": (312, 272),
    "kexec_file_load": (320, 294), "kexec_load": (246, 104), "keyctl": (250, 219), "kill": (62, 129),
    "lgetxattr": (192, 9), "listmount": (458, 458), "listxattr": (194, 11), "llistxattr": (195, 12),
    "lseek": (8, 62), "lstat": (6, None), "madvise": (28, 233), "mbind": (237, 235), "mkdir": (83, None),
    "mkdirat": (258, 34), "mmap": (9, 222), "mount": (165, 40), "mount_setattr": (442, 442),
    "move_mount": (429, 429), "mprotect": (10, 226), "mremap": (25, 216), "msync": (26, 227), "munmap": (11, 215),
    "name_to_handle_at": (303, 264), "nanosleep": (35, 101), "newfstatat": (262, 79), "open": (2, None),
    "open_by_handle_at": (304, 265), "open_tree": (428, 428), "open_tree_attr": (467, 467), "openat": (257, 56),
    "perf_event_open": (298, 241), "pidfd_getfd": (438, 438), "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424), "pipe2": (293, 59), "pivot_root": (155, 41), "poll": (7, None),
    "ppoll": (271, 73), "pread64": (17, 67), "prlimit64": (302, 261), "process_madvise": (440, 440),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "pselect6": (270, 72), "ptrace": (101, 117),
    "pwrite64": (18, 68), "quotactl": (179, 60), "read": (0, 63), "readlink": (89, None), "readlinkat": (267, 78),
    "readv": (19, 65), "reboot": (169, 142), "rename": (82, None), "renameat": (264, 38), "renameat2": (316, 276),
    "request_key": (249, 218), "restart_syscall": (219, 128), "rmdir": (84, None), "rseq": (334, 293),
    "rt_sigaction": (13, 134), "rt_sigprocmask": (14, 135), "rt_sigreturn": (15, 139),
    "sched_getaffinity": (204, 123), "sched_yield": (24, 124), "select": (23, None), "sendfile": (40, 71),
    "set_robust_list": (273, 99), "set_tid_address": (218, 96), "setitimer": (38, 103), "setns": (308, 268),
    "setpgid": (109, 154), "setsid": (112, 157), "sigaltstack": (131, 132), "socket": (41, 198),
    "socketpair": (53, 199), "stat": (4, None), "statfs": (137, 43), "statmount": (457, 457), "statx": (332, 291),
    "swapoff": (168, 225), "swapon": (167, 224), "sysinfo": (99, 179), "syslog": (103, 116), "tgkill": (234, 131),
    "times": (100, 153), "tkill": (200, 130), "truncate": (76, 45), "umask": (95, 166), "umount2": (166, 39),
    "uname": (63, 160), "unlink": (87, None), "unlinkat": (263, 35), "unshare": (272, 97), "uselib": (134, None),
    "userfaultfd": (323, 282), "utimensat": (280, 88), "vfork": (58, None), "write": (1, 64), "writev": (20, 66),
}

# What a worker may call: an allow-list. Every other call fails with ENOSYS, as on a kernel that lacks
# it, so that a kernel's new calls (statmount, listmount, open_tree_attr, ...) are refused by default
# and glibc falls back where it has a fallback (clone3 -> clone). Traced (strace -f -c) from workers
# checking the reference lab, the skeleton-shaped lab files (scipy.stats, a compiled im2col_cython),
# the correct variants, the false-ok and mistaken files and a lab file that starts threads; each
# group with the reason it is there. Landlock and the mounts decide which files; the limits how much.
ALLOWED: dict[str, tuple[str, tuple[str, ...]]] = {
    "start": ("the interpreter's start: the dynamic loader (arch_prctl, set_tid_address, set_robust_list, "
              "rseq), Python finding itself and its prefix, numpy reading the machine (uname, sysinfo), seeds",
              ("execve", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "uname", "sysinfo", "getrandom",
               "readlink", "readlinkat", "access", "faccessat", "faccessat2")),
    "memory": ("Python's allocator, numpy's arrays, thread stacks, OpenBLAS's buffers (mbind)",
               ("brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mbind", "msync")),
    "files": ("imports, the submission and the scratch folder (Python's open() asks isatty: ioctl); np.save, "
              "tempfile and shutil in the scratch folder",
              ("read", "write", "readv", "writev", "pread64", "pwrite64", "open", "openat", "close", "close_range",
               "lseek", "fstat", "stat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "getdents64", "fcntl",
               "ioctl", "dup", "dup2", "dup3", "pipe2", "getcwd", "chdir", "fchdir", "umask", "mkdir", "mkdirat",
               "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "truncate", "ftruncate", "fsync",
               "fdatasync", "chmod", "fchmod", "fchmodat", "utimensat", "sendfile", "copy_file_range", "fadvise64",
               "flock", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr")),
    "threads": ("threading and numpy's BLAS threads (clone itself only with CLONE_THREAD: below)",
                ("futex", "gettid", "sched_yield", "sched_getaffinity", "getcpu")),
    "signals": ("the process's own signal handling (Python's handlers, SIGXCPU at the CPU limit); kill and "
                "tgkill only to itself (below)",
                ("rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall")),
    "time": ("time.sleep, time.process_time, the student's own timing",
             ("clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "times", "getrusage",
              "getitimer", "setitimer", "alarm")),
    "waiting": ("select and selectors on its own descriptors",
                ("poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait")),
    "identity": ("who it is: inside the namespaces uid 1000 and pids of its own namespace",
                 ("getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
                  "getresgid", "getpgrp", "getpgid", "getsid")),
    "end": ("exit", ("exit", "exit_group")),
}

# Refused with EPERM and named (the rest of what is not allowed fails with ENOSYS): a new process
# (fork, vfork, clone without CLONE_THREAD: the submission is one process, so that its CPU time, memory
# and process count are its own, and RLIMIT_CPU and RLIMIT_AS hold for the whole submission), a new
# session or process group (its own scheduling group: a larger share of the machine than a classmate's),
# and every call that reaches beyond the process: debugging others, sockets, mounts (also statmount and
# listmount, which show the host's paths behind the binds), namespaces, keyrings, io_uring (it escapes
# seccomp), BPF, modules, reboot.
DENIED = ("fork", "vfork", "setsid", "setpgid", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
          "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "process_madvise", "tkill", "socket", "socketpair",
          "mount", "umount2", "pivot_root", "chroot", "open_tree", "open_tree_attr", "move_mount", "fsopen",
          "fsconfig", "fsmount", "fspick", "mount_setattr", "statmount", "listmount", "name_to_handle_at",
          "open_by_handle_at", "quotactl", "unshare", "setns", "keyctl", "add_key", "request_key",
          "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd",
          "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
          "swapoff", "acct", "syslog", "iopl", "ioperm", "uselib")
# Where no allow-list is raised (--sandbox plain), the one-process rule alone: without it no limit is
# the submission's.
PROCESS_RULE = ("fork", "vfork", "setsid", "setpgid")
CLONE_THREAD = 0x00010000

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
    return machine if sys.platform.startswith("linux") and machine in _AUDIT_ARCH else None


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
    machine = seccomp_arch()
    if machine is None:
        raise WallError(errno.ENOSYS, f"pivot_root: unknown architecture {platform.machine()}")
    _check(_libc.syscall(nr(machine, "pivot_root"), b".", b"."), "pivot_root")
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


def nr(machine: str, name: str) -> int | None:
    """The number of system call ``name`` on ``machine`` (None where it has none)."""
    return _NR[name][_AUDIT_ARCH[machine][1]]


def seccomp_program(machine: str, pid: int, allow_list: bool = True) -> bytes:
    """The filter for a process ``pid`` (as it sees itself): the architecture checked (another kills
    it), then

    - ``clone`` only with ``CLONE_THREAD`` and no namespace flag (a thread, never a process);
      ``clone3`` fails with ENOSYS (its flags are behind a pointer, out of a filter's reach), so that
      glibc falls back to ``clone``; :data:`PROCESS_RULE` refused with EPERM;
    - with ``allow_list`` (every mode but ``plain``): ``prlimit64`` only on itself, ``kill`` only to
      itself (or its process group: the launcher's, which is the submission's), ``tgkill`` only to its
      own threads; the calls of :data:`ALLOWED` allowed, those of :data:`DENIED` refused with EPERM,
      every other with ENOSYS;
    - without it, every other call allowed.

    Each allowed call's result depends on its number alone (the kernel then skips the filter for it,
    from Linux 5.11: the allow-list costs nothing on the calls numpy makes)."""
    audit_arch, _ = _AUDIT_ARCH[machine]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
        CLONE_NEWCGROUP | CLONE_NEWTIME
    arg0 = 16  # seccomp_data.args[0], its low 32 bits (little-endian)
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, audit_arch), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    if machine == "x86_64":  # the x32 ABI's numbers
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]
    number = lambda name: nr(machine, name)  # noqa: E731
    if allow_list:  # the common calls first: every one is a comparison on older kernels
        allowed = [number(n) for group in ALLOWED.values() for n in group[1]]
        for n in sorted({n for n in allowed if n is not None}, key=allowed.index):
            prog += [(jeq, 0, 1, n), (ret, 0, 0, allow)]
    # clone: a thread (CLONE_THREAD) without a namespace flag; nothing else.
    prog += [(jeq, 0, 5, number("clone")), (ld, 0, 0, arg0), (jset, 2, 0, ns_flags), (jset, 0, 1, CLONE_THREAD),
             (ret, 0, 0, allow), (ret, 0, 0, eperm)]
    prog += [(jeq, 0, 1, number("clone3")), (ret, 0, 0, enosys)]
    if not allow_list:
        for name in PROCESS_RULE:
            if number(name) is not None:
                prog += [(jeq, 0, 1, number(name)), (ret, 0, 0, eperm)]
        return _encode(prog + [(ret, 0, 0, allow)])
    # Calls on a process or thread: only this one's (arg 0 is the pid; kill's 0: its process group).
    for name, targets in (("prlimit64", (0, pid)), ("kill", (0, pid)), ("tgkill", (pid,))):
        tail = [(ret, 0, 0, allow), (ret, 0, 0, eperm)]
        tests = [(jeq, len(targets) - i - 1, 0, t) for i, t in enumerate(targets)]  # a match: on to the allow
        tests[-1] = (jeq, 0, 1, targets[-1])  # the last one's mismatch: past it, to the refusal
        body = [(ld, 0, 0, arg0), *tests, *tail]
        prog += [(jeq, 0, len(body), number(name)), *body]
    for name in DENIED:
        if number(name) is not None:
            prog += [(jeq, 0, 1, number(name)), (ret, 0, 0, eperm)]
    return _encode(prog + [(ret, 0, 0, enosys)])


def _encode(prog: list) -> bytes:
    return b"".join(struct.pack("<HBBI", *ins) for ins in prog)


def raise_seccomp(allow_list: bool = True) -> None:
    """Installs :func:`seccomp_program` on this process (its threads and what it ``exec``-s keep it)."""
    machine = seccomp_arch()
    if machine is None:
        raise WallError(errno.ENOSYS, f"seccomp: no filter for {platform.machine()}")
    code = seccomp_program(machine, os.getpid(), allow_list)
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
            _, ceiling = resource.getrlimit(which)  # a limit is only ever lowered (a Jobe run has its own)
            if ceiling != resource.RLIM_INFINITY and hard > ceiling:
                hard, value = ceiling, min(value, ceiling - 1 if key == "cpu_s" else ceiling)
            resource.setrlimit(which, (value, hard))
            set_[key] = value // unit
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
    if cfg.get("seccomp"):  # "allow-list", or (--sandbox plain) "one process" only
        raise_seccomp(allow_list=cfg["seccomp"] == "allow-list")
        walls["seccomp"] = cfg["seccomp"]
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
