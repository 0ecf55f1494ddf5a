"""What to grade: the submissions under the paths given, laid out as teaching assistants have them.

A PATH is a ``.py`` file (one submission), a folder of submissions, or a ``.zip`` of such a
folder (a learning platform's "download all submissions"). In a folder, each entry is:

- a ``.py`` file: one submission (Canvas names it ``name_userid_subid_file.py``);
- a ``.zip``: one student's archive, unpacked safely (no absolute or ``..`` paths, no links,
  capped in size and count);
- a subfolder: one student's folder (Moodle names it ``Full Name_123456_assignsubmission_file_``),
  whose ``layers.py`` (``--entry``), or only ``.py`` file, or only ``.zip``, is checked; its other
  modules can be imported.

Every other entry (a link, a FIFO, ``Carol.PY``, a file of another kind) is a row of its own with
the reason it is not graded; links are never followed. Names starting with ``.`` (and a zip's
``__MACOSX``) are system files, skipped and counted. A student's files are copied before they
are graded (:func:`copy_submission`): the worker sees that copy only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile

from jaxdl.errors import InputError

MAX_FILES = 200  # files in one student's folder or archive
MAX_BYTES = 16 << 20  # bytes of one student's folder or archive, unpacked
MAX_CLASS_FILES = 20_000  # members of a class archive
MAX_CLASS_BYTES = 1 << 30  # bytes of a class archive, unpacked
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[a-z]+_?$")
_CANVAS = re.compile(r"^(?P<name>[^_]+)(?:_LATE)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")


class BadPath(InputError):
    """A path that is not a submission or a folder of them (exit code 2, before any work)."""


@dataclasses.dataclass(frozen=True)
class Submission:
    name: str  # as the gradebook shows it: the path as given, joined with the entry's name
    file: str  # the absolute path of the .py file to import
    folder: str | None = None  # a student's folder: its other modules can be imported
    problem: str = ""  # why it cannot be graded, known before any work
    student_id: str = ""  # from a Moodle folder or a Canvas file name
    student_name: str = ""
    platform: str = ""  # "moodle" or "canvas" when the name says so


def pseudonym(name: str, student_id: str = "", platform: str = "") -> str:
    """An id for a submission that does not show the student's name: the platform's id when its
    name carries one, else a hash of the name."""
    if student_id:
        return f"{platform or 'id'}-{student_id}"
    return "student-" + hashlib.sha256(name.encode()).hexdigest()[:10]


def _identity(name: str) -> dict:
    m = _MOODLE.match(name)
    if m:
        return {"student_id": m["id"], "student_name": m["name"], "platform": "moodle"}
    m = _CANVAS.match(name)
    if m:
        return {"student_id": m["id"], "student_name": m["name"], "platform": "canvas"}
    return {}


def _kind(st: os.stat_result) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(st.st_mode):
            return name
    return "not a regular file"


# --------------------------------------------------------------------------------------------
# Archives, unpacked safely.


def unpack(archive: str, dest: str, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> str:
    """Unpacks ``archive`` into ``dest`` (regular files and folders only); returns "" or why not.

    Refused: a member with an absolute path or a ``..`` component, a link or other special
    file, more than ``max_files`` files or ``max_bytes`` unpacked, a damaged archive."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = z.infolist()
            files = [m for m in members if not m.is_dir()]
            if len(files) > max_files:
                return f"the archive holds {len(files)} files (at most {max_files})"
            total = 0
            for m in members:
                name = m.filename.replace("\\", "/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                    return f"the archive holds a path outside itself ({name[:80]!r})"
                mode = (m.external_attr >> 16) & 0o170000
                if mode and mode not in (stat.S_IFREG, stat.S_IFDIR):
                    return f"the archive holds a link or special file ({name[:80]!r})"
                if not parts or parts[0] == "__MACOSX" or any(p.startswith("._") for p in parts):
                    continue
                target = os.path.join(dest, *parts)
                if m.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with z.open(m) as src, open(target, "wb") as out:
                    while True:
                        chunk = src.read(1 << 16)
                        if not chunk:
                            break
                        total += len(chunk)
                        if total > max_bytes:
                            return f"the archive unpacks to more than {max_bytes >> 20} MiB"
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, ValueError) as e:
        return f"not a readable .zip archive ({type(e).__name__})"
    return ""


# --------------------------------------------------------------------------------------------
# Finding the submissions.

_TEMP_ROOTS: list[str] = []


def _temp(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    _TEMP_ROOTS.append(path)
    return path


def cleanup() -> None:
    """Removes the folders archives were unpacked into."""
    while _TEMP_ROOTS:
        shutil.rmtree(_TEMP_ROOTS.pop(), ignore_errors=True)


def _student_folder(full: str, shown: str, entry: str, ident: dict, unpacked: bool = False) -> Submission:
    """The submission in a student's folder: its entry file, its only .py file, or its only .zip
    (``unpacked``: the folder an archive was unpacked into; one folder alone in it is looked into)."""
    try:
        names = sorted(n for n in os.listdir(full) if not n.startswith("."))
    except OSError as e:
        return Submission(shown, "", full, f"the folder cannot be read ({e.strerror})", **ident)
    if unpacked and len(names) == 1 and os.path.isdir(os.path.join(full, names[0])):
        return _student_folder(os.path.join(full, names[0]), shown, entry, ident)  # an archive of one folder
    candidate = os.path.join(full, entry)
    if os.path.lexists(candidate):
        st = os.lstat(candidate)
        if stat.S_ISLNK(st.st_mode):
            return Submission(shown, "", full, f"{entry} is a symbolic link (not followed)", **ident)
        if not stat.S_ISREG(st.st_mode):
            return Submission(shown, "", full, f"{entry} is {_kind(st)}", **ident)
        return Submission(shown, os.path.abspath(candidate), os.path.abspath(full), **ident)
    regular = [n for n in names if stat.S_ISREG(os.lstat(os.path.join(full, n)).st_mode)]
    py = [n for n in regular if n.endswith(".py")]
    zips = [n for n in regular if n.lower().endswith(".zip")]
    if len(py) == 1:
        return Submission(shown, os.path.abspath(os.path.join(full, py[0])), os.path.abspath(full), **ident)
    if not py and len(zips) == 1:
        dest = _temp("jaxdl-unzip-")
        problem = unpack(os.path.join(full, zips[0]), dest)
        if problem:
            return Submission(os.path.join(shown, zips[0]), "", None, problem, **ident)
        inner = _student_folder(dest, os.path.join(shown, zips[0]), entry, ident, unpacked=True)
        if inner.problem:
            return dataclasses.replace(inner, name=os.path.join(shown, zips[0]))
        return inner
    held = ", ".join(names[:6]) + (" …" if len(names) > 6 else "") if names else "nothing"
    return Submission(shown, "", full, f"the folder has no {entry} (it holds {held}; --entry NAME names the file)",
                      **ident)


def _entry(full: str, shown: str, name: str, entry: str) -> Submission | None:
    """One entry of a class folder as a submission (or a row saying why it is not one)."""
    st = os.lstat(full)
    ident = _identity(name)
    if stat.S_ISLNK(st.st_mode):
        return Submission(shown, "", None, "a symbolic link (not followed)", **ident)
    if stat.S_ISDIR(st.st_mode):
        return _student_folder(full, shown, entry, ident)
    if not stat.S_ISREG(st.st_mode):
        return Submission(shown, "", None, f"{_kind(st)}, not a file", **ident)
    if name.endswith(".py"):
        return Submission(shown, os.path.abspath(full), None, **ident)
    if name.lower().endswith(".zip"):
        dest = _temp("jaxdl-unzip-")
        problem = unpack(full, dest)
        if problem:
            return Submission(shown, "", None, problem, **ident)
        inner = _student_folder(dest, shown, entry, ident, unpacked=True)
        return dataclasses.replace(inner, name=shown)
    ext = os.path.splitext(name)[1]
    if ext.lower() == ".py":
        return Submission(shown, "", None, f"not graded: the name ends in {ext!r}, not '.py' (rename it)", **ident)
    return Submission(shown, "", None, f"not graded: not a .py file, a .zip archive or a student's folder", **ident)


def _folder(path: str, shown_root: str, entry: str) -> tuple[list[Submission], int]:
    out, hidden = [], 0
    for name in sorted(os.listdir(path)):
        if name.startswith(".") or name == "__MACOSX":
            hidden += 1
            continue
        sub = _entry(os.path.join(path, name), os.path.join(shown_root, name), name, entry)
        if sub is not None:
            out.append(sub)
    return out, hidden


def find_submissions(paths, entry: str = "layers.py") -> list[Submission]:
    """Every submission under ``paths``, in the order given and sorted by name within a folder
    (entries that cannot be graded included, each with its ``problem``).

    Raises:
      BadPath: a path that does not exist, is neither a ``.py`` file, a ``.zip`` nor a folder, a
        path that begins with ``-``, or a folder without entries.
    """
    out = []
    for path in paths:
        if not os.path.lexists(path):
            raise BadPath(f"jaxdl check-numpy: no such file or directory: {path!r}")
        if os.path.isfile(path):
            if path.endswith(".py"):
                out.append(Submission(path, os.path.abspath(path)))
                continue
            if path.lower().endswith(".zip"):
                dest = _temp("jaxdl-class-")
                problem = unpack(path, dest, MAX_CLASS_FILES, MAX_CLASS_BYTES)
                if problem:
                    raise BadPath(f"jaxdl check-numpy: {path!r}: {problem}")
                found, _ = _folder(dest, path, entry)
                if not found:
                    raise BadPath(f"jaxdl check-numpy: no submissions in {path!r}")
                out.extend(found)
                continue
            raise BadPath(f"jaxdl check-numpy: {path!r} is not a .py file, a .zip or a directory of submissions")
        if not os.path.isdir(path):
            raise BadPath(f"jaxdl check-numpy: {path!r} is not a .py file, a .zip or a directory of submissions")
        found, _ = _folder(path, path, entry)
        if not found:
            raise BadPath(f"jaxdl check-numpy: no submissions in {path!r} (expected .py files, .zip archives or "
                          f"student folders holding {entry})")
        out.extend(found)
    return out


def copy_submission(sub: Submission, dest: str) -> tuple[str, str]:
    """Copies the submission into ``dest`` (its folder's regular files, links left out, capped);
    returns ``(the entry file's path relative to dest, problem)``."""
    if not sub.folder:
        shutil.copyfile(sub.file, os.path.join(dest, "submission.py"))
        return "submission.py", ""
    count = size = 0
    root = os.path.abspath(sub.folder)
    for here, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(here, d))]
        rel = os.path.relpath(here, root)
        for name in files:
            src = os.path.join(here, name)
            st = os.lstat(src)
            if not stat.S_ISREG(st.st_mode):
                continue
            count += 1
            size += st.st_size
            if count > MAX_FILES or size > MAX_BYTES:
                return "", f"the folder holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MiB"
            target_dir = os.path.join(dest, rel) if rel != "." else dest
            os.makedirs(target_dir, mode=0o755, exist_ok=True)
            shutil.copyfile(src, os.path.join(target_dir, name))
    return os.path.relpath(sub.file, root), ""
