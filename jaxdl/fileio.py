"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, text: str | bytes) -> None:
    """Writes ``text`` (UTF-8, or bytes as they are) to ``path`` through a temporary file in the
    same folder, ``fsync`` and a rename: a crash or a kill leaves the old file or the new one,
    never a torn one. Creates the folder if needed."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # the mode a plain open() would give, not mkstemp's 0600
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    """This process's umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def unwritable_reason(path: str) -> str | None:
    """Why ``path`` cannot be created or written (a directory is wanted nowhere here: a file at
    ``path`` is fine), or ``None``: its nearest existing ancestor must be a writable directory."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        return f"{folder!r} is not a directory, it is a file"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder!r} is not writable"
    return None


def check_writable(command: str, path: str) -> None:
    """Refuses, before any work, an output path that cannot be written (a folder, a path under a
    file, a read-only folder): an :class:`~jaxdl.errors.InputError` naming ``command``."""
    from jaxdl.errors import InputError

    reason = "it is a directory" if os.path.isdir(path) else unwritable_reason(path)
    if reason:
        raise InputError(f"{command}: cannot write {path!r}: {reason}")


def copy_atomically(src: str, dst: str) -> None:
    """Copies the file ``src`` to ``dst`` through a temporary file beside ``dst`` and a rename."""
    import shutil

    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(dst)}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
