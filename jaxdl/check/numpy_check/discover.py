"""What to grade: the submissions under the paths given, laid out as teaching assistants have them,
found once per run (:func:`discover`) and handed on.

A PATH is a ``.py`` file (one submission), a folder of submissions, or a ``.zip`` of such a
folder (a learning platform's "download all submissions"). In a folder, each entry is:

- a ``.py`` file: one submission (Canvas names it ``name_userid_subid_file.py``);
- a ``.zip``: one student's archive, unpacked once, safely: no absolute or ``..`` paths, no links,
  and caps over everything the submission holds, every archive inside it included
  (:data:`MAX_FILES` files and folders, :data:`MAX_BYTES` bytes, archives :data:`MAX_NESTING`
  deep, paths of :data:`MAX_PATH` characters);
- a subfolder: one student's folder (Moodle names it ``Full Name_123456_assignsubmission_file_``),
  whose ``layers.py`` (``--entry``), or only ``.py`` file, or only ``.zip``, is checked; its other
  modules can be imported.

Every other entry (a link, a FIFO, ``Carol.PY``, a file of another kind), an archive that is
damaged or over a cap, and an entry on which jaxdl itself failed, is a row of its own with the
reason it is not graded; links are never followed. Names starting with ``.`` (and a zip's
``__MACOSX``) are system files, skipped. Every name is stored as :func:`~.results.safe_name`
shows it. A student's files are copied before they are graded (:func:`copy_submission`): the
worker sees that copy only. What was unpacked is removed when the :class:`Found` is closed,
whatever happened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import lzma
import os
import re
import shutil
import stat
import tempfile
import traceback
import zipfile
import zlib

from jaxdl.check.numpy_check.results import safe_name, safe_text
from jaxdl.errors import InputError

MAX_FILES = 200  # files and folders of one submission, over every archive it holds
MAX_BYTES = 16 << 20  # bytes of one submission, unpacked, over every archive it holds
MAX_NESTING = 2  # archives one inside the other in a submission (a student's .zip may hold one .zip)
MAX_PATH = 255  # characters of a path inside an archive
MAX_CLASS_FILES = 20_000  # files and folders of a class archive
MAX_CLASS_BYTES = 1 << 30  # bytes of a class archive, unpacked
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[a-z]+_?$")
_CANVAS_REST = re.compile(r"^_(?:LATE_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
# What a damaged archive raises while it is read: each is the archive's failure, never the run's.
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, RuntimeError,
            ValueError, NotImplementedError, KeyError)


class BadPath(InputError):
    """A path that is not a submission or a folder of them (exit code 2, before any work)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Submission:
    name: str  # as the gradebook shows it: the path as given, joined with the entry's name (safe_name)
    file: str = ""  # the absolute path of the .py file to import
    folder: str | None = None  # a student's folder: its other modules can be imported
    problem: str = ""  # why it cannot be graded, known before any work
    student_id: str = ""  # from a Moodle folder or a Canvas file name
    student_name: str = ""
    platform: str = ""  # "moodle" or "canvas" when the name says so
    notes: tuple[str, ...] = ()  # what the grader should know of it (a platform id that cannot be read)
    internal: str = ""  # jaxdl itself failed on this entry while finding it: the traceback


def pseudonym(name: str, student_id: str = "", platform: str = "") -> str:
    """An id for a submission that does not show the student's name: the platform's id when its
    name carries one, else a hash of the name."""
    if student_id:
        return f"{platform or 'id'}-{student_id}"
    return "student-" + hashlib.sha256(name.encode("utf-8", "backslashreplace")).hexdigest()[:10]


def identity(name: str) -> tuple[dict, str]:
    """``({student_id, student_name, platform} or {}, note)`` from an entry's name as a platform
    writes it. Moodle's id is the number just before ``_assignsubmission_`` (it ends the name).
    Canvas writes ``name[_LATE]_userid_subid_`` before the file's own name, and both names are the
    student's to choose: the id is kept only where every way of reading the name gives the same one
    (``zzz_7_1234_5678_layers.py`` reads as user 7 or as user 1234: no id, and ``note`` says so)."""
    m = _MOODLE.match(name)
    if m:
        return {"student_id": m["id"], "student_name": m["name"], "platform": "moodle"}, ""
    readings = []
    for i, ch in enumerate(name):
        if ch == "_" and i:
            r = _CANVAS_REST.match(name[i:])
            if r:
                readings.append((name[:i].removesuffix("_LATE") or name[:i], r["id"]))
    ids = sorted({student_id for _, student_id in readings}, key=int)
    if len(ids) == 1:
        return {"student_id": ids[0], "student_name": readings[0][0], "platform": "canvas"}, ""
    if len(ids) > 1:
        return {}, (f"no Canvas id kept: the name reads as user {' or as user '.join(ids)} (a name the student "
                    "chose imitates Canvas's ids)")
    return {}, ""


def _kind(st: os.stat_result) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(st.st_mode):
            return name
    return "not a regular file"


# --------------------------------------------------------------------------------------------
# Archives, unpacked once, safely, within one budget per submission.


@dataclasses.dataclass(kw_only=True)
class _Budget:
    """What is left to one submission (or to a class archive) over all its archives."""

    entries: int = MAX_FILES
    bytes: int = MAX_BYTES
    nesting: int = MAX_NESTING  # archives that may still be entered, one inside the other
    scope: str = "a submission"


def _members(z: zipfile.ZipFile, budget: _Budget) -> tuple[list, set, str]:
    """``([(member, path parts)] of the files, {path parts} of the folders, "")`` to extract, or the
    reason the archive is refused (before any byte is written): a path outside it, a link or special
    file, a path too long, more files and folders (implied folders counted) than the budget holds."""
    out, folders = [], set()
    for m in z.infolist():
        name = m.filename.replace("\\", "/")
        if len(name) > MAX_PATH:
            return [], set(), f"the archive holds a path of {len(name)} characters (at most {MAX_PATH})"
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts or "\0" in name:
            return [], set(), f"the archive holds a path outside itself ({safe_text(name[:80])!r})"
        mode = (m.external_attr >> 16) & 0o170000
        if mode and mode not in (stat.S_IFREG, stat.S_IFDIR):
            return [], set(), f"the archive holds a link or special file ({safe_text(name[:80])!r})"
        if not parts or parts[0] == "__MACOSX" or any(p.startswith("._") for p in parts):
            continue
        folders.update(tuple(parts[:i]) for i in range(1, len(parts)))
        if m.is_dir():
            folders.add(tuple(parts))
        else:
            out.append((m, parts))
        if len(out) + len(folders) > budget.entries:
            return [], set(), (f"the archive holds more than {budget.entries} files and folders (at most {MAX_FILES} for "
                        f"{budget.scope}, over every archive it holds)" if budget.scope == "a submission" else
                        f"the archive holds more than {budget.entries} files and folders (at most {MAX_CLASS_FILES})")
    budget.entries -= len(out) + len(folders)
    return out, folders, ""


def _extract(z: zipfile.ZipFile, m: zipfile.ZipInfo, target: str, budget: _Budget) -> str:
    """One member into ``target``: "" or why not (the budget's bytes)."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with z.open(m) as src, open(target, "wb") as out:
        while True:
            chunk = src.read(1 << 16)
            if not chunk:
                return ""
            budget.bytes -= len(chunk)
            if budget.bytes < 0:
                cap = MAX_BYTES if budget.scope == "a submission" else MAX_CLASS_BYTES
                return (f"the archive unpacks to more than {cap >> 20} MiB (at most that for {budget.scope}, over "
                        "every archive it holds)")
            out.write(chunk)


def _damage(e: Exception) -> str:
    """What a damaged archive raised, in words (``zlib.error``'s own name says nothing; an OSError's
    file name, a folder of this run, is left out)."""
    what = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return f"{'zlib.error' if isinstance(e, zlib.error) else type(e).__name__}: {safe_text(what)[:120]}"


def unpack(archive: str, dest: str, budget: _Budget | None = None) -> str:
    """Unpacks a student's ``archive`` into ``dest`` (regular files and folders only) within
    ``budget`` (a fresh submission's by default); returns "" or why not: a member with an absolute
    path or a ``..`` component, a link or special file, a cap of the budget, a damaged archive (a
    broken deflate or LZMA stream, a bad CRC)."""
    budget = budget or _Budget()
    if budget.nesting <= 0:  # a student's folder takes at most one archive: a chain, one budget along it
        return f"archives nested more than {MAX_NESTING} deep (an archive in an archive, at most {MAX_NESTING})"
    budget.nesting -= 1
    try:
        with zipfile.ZipFile(archive) as z:
            members, folders, problem = _members(z, budget)
            if problem:
                return problem
            for parts in folders:
                os.makedirs(os.path.join(dest, *parts), exist_ok=True)
            for m, parts in members:
                problem = _extract(z, m, os.path.join(dest, *parts), budget)
                if problem:
                    return problem
    except _DAMAGED as e:
        return f"not a readable .zip archive ({_damage(e)})"
    return ""


def _unpack_class(archive: str, dest: str) -> tuple[str, dict[str, str]]:
    """A class archive (a platform's "download all submissions"): ``(problem of the whole archive,
    {top-level entry: its problem})``. A damaged member, or a student's part over a submission's
    caps, is that entry's problem alone; the others are unpacked."""
    budget = _Budget(entries=MAX_CLASS_FILES, bytes=MAX_CLASS_BYTES, scope="a class archive")
    problems: dict[str, str] = {}
    students: dict[str, _Budget] = {}
    try:
        with zipfile.ZipFile(archive) as z:
            members, folders, problem = _members(z, budget)
            if problem:
                return problem, {}
            for parts in [*folders, *(p for _, p in members)]:  # a student's part: a submission's caps
                student = students.setdefault(parts[0], _Budget())
                student.entries -= 1
                if student.entries < -1:  # the student's own top-level folder is not counted
                    problems[parts[0]] = (f"the submission holds more than {MAX_FILES} files and folders (at most "
                                          "that, over every archive it holds)")
            for parts in folders:
                if parts[0] not in problems:
                    os.makedirs(os.path.join(dest, *parts), exist_ok=True)
            for m, parts in members:
                top = parts[0]
                if top in problems:
                    continue
                student = students[top]
                before = student.bytes
                try:
                    problem = _extract(z, m, os.path.join(dest, *parts), student)
                    budget.bytes -= before - student.bytes
                    if budget.bytes < 0:
                        return f"the archive unpacks to more than {MAX_CLASS_BYTES >> 20} MiB", {}
                except _DAMAGED as e:
                    problem = f"its file {safe_text('/'.join(parts[1:]))[:80]!r} in the class archive is damaged " \
                              f"({_damage(e)})"
                if problem:
                    problems[top] = problem
    except _DAMAGED as e:
        return f"not a readable .zip archive ({_damage(e)})", {}
    return "", problems


# --------------------------------------------------------------------------------------------
# Finding the submissions.


class Found:
    """The submissions of one run and the folders their archives were unpacked into; use as a
    context manager (or call :meth:`close`): the folders are removed whatever happened."""

    def __init__(self):
        self.submissions: list[Submission] = []
        self._temps: list[str] = []

    def temp(self, prefix: str) -> str:
        path = tempfile.mkdtemp(prefix=prefix)
        self._temps.append(path)
        return path

    def close(self) -> None:
        while self._temps:
            shutil.rmtree(self._temps.pop(), ignore_errors=True)

    def __enter__(self) -> Found:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.submissions)

    def __iter__(self):
        return iter(self.submissions)


def _student_folder(found: Found, full: str, shown: str, entry: str, ident: dict, budget: _Budget,
                    unpacked: bool = False) -> Submission:
    """The submission in a student's folder: its entry file, its only .py file, or its only .zip
    (``unpacked``: the folder an archive was unpacked into; one folder alone in it is looked into)."""
    while True:
        try:
            names = sorted(n for n in os.listdir(full) if not n.startswith("."))
        except OSError as e:
            return Submission(name=shown, folder=full, problem=f"the folder cannot be read ({e.strerror})", **ident)
        if not (unpacked and len(names) == 1 and os.path.isdir(os.path.join(full, names[0]))):
            break
        full = os.path.join(full, names[0])  # an archive of one folder
    candidate = os.path.join(full, entry)
    if os.path.lexists(candidate):
        st = os.lstat(candidate)
        if stat.S_ISLNK(st.st_mode):
            return Submission(name=shown, folder=full, problem=f"{entry} is a symbolic link (not followed)", **ident)
        if not stat.S_ISREG(st.st_mode):
            return Submission(name=shown, folder=full, problem=f"{entry} is {_kind(st)}", **ident)
        return Submission(name=shown, file=os.path.abspath(candidate), folder=os.path.abspath(full), **ident)
    regular = [n for n in names if stat.S_ISREG(os.lstat(os.path.join(full, n)).st_mode)]
    py = [n for n in regular if n.endswith(".py")]
    zips = [n for n in regular if n.lower().endswith(".zip")]
    if len(py) == 1:
        return Submission(name=shown, file=os.path.abspath(os.path.join(full, py[0])), folder=os.path.abspath(full),
                          **ident)
    if not py and len(zips) == 1:
        inner = _archive(found, os.path.join(full, zips[0]), safe_name(os.path.join(shown, zips[0])), entry, ident,
                         budget)
        return inner if inner.problem else dataclasses.replace(inner, name=shown)
    held = ", ".join(safe_name(n) for n in names[:6]) + (" …" if len(names) > 6 else "") if names else "nothing"
    return Submission(name=shown, folder=full,
                      problem=f"the folder has no {entry} (it holds {held}; --entry NAME names the file)", **ident)


def _archive(found: Found, path: str, shown: str, entry: str, ident: dict, budget: _Budget) -> Submission:
    """A student's archive, unpacked (within ``budget``) and looked into as a student's folder."""
    dest = found.temp("jaxdl-unzip-")
    problem = unpack(path, dest, budget)
    if problem:
        return Submission(name=shown, problem=problem, **ident)
    inner = _student_folder(found, dest, shown, entry, ident, budget, unpacked=True)
    return dataclasses.replace(inner, name=shown)


def _entry(found: Found, full: str, shown: str, name: str, entry: str) -> Submission:
    """One entry of a class folder as a submission (or a row saying why it is not one)."""
    st = os.lstat(full)
    ident, note = identity(safe_name(name))
    ident["notes"] = (note,) if note else ()
    if stat.S_ISLNK(st.st_mode):
        return Submission(name=shown, problem="a symbolic link (not followed)", **ident)
    if stat.S_ISDIR(st.st_mode):
        return _student_folder(found, full, shown, entry, ident, _Budget())
    if not stat.S_ISREG(st.st_mode):
        return Submission(name=shown, problem=f"{_kind(st)}, not a file", **ident)
    if name.endswith(".py"):
        return Submission(name=shown, file=os.path.abspath(full), **ident)
    if name.lower().endswith(".zip"):
        return _archive(found, full, shown, entry, ident, _Budget())
    ext = os.path.splitext(name)[1]
    if ext.lower() == ".py":
        return Submission(name=shown, problem=f"not graded: the name ends in {safe_name(ext)!r}, not '.py' (rename it)",
                          **ident)
    return Submission(name=shown, problem="not graded: not a .py file, a .zip archive or a student's folder", **ident)


def _folder(found: Found, path: str, shown_root: str, entry: str, problems: dict | None = None) -> list[Submission]:
    """Every entry of a class folder, each guarded: whatever finding one raises is that entry's row."""
    out = []
    for name in sorted(os.listdir(path)):
        if name.startswith(".") or name == "__MACOSX":
            continue
        shown = safe_name(os.path.join(shown_root, name))
        if problems and name in problems:
            ident, note = identity(safe_name(name))
            out.append(Submission(name=shown, problem=problems[name], notes=(note,) if note else (), **ident))
            continue
        try:
            out.append(_entry(found, os.path.join(path, name), shown, name, entry))
        except Exception as e:  # noqa: BLE001 - jaxdl's own bug on this entry: its row, visibly, and the run goes on
            out.append(Submission(name=shown, problem=f"the checker failed on this entry ({type(e).__name__}: "
                                                      f"{safe_text(str(e))[:200]}): a bug in jaxdl, not the student's",
                                  internal="".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]))
    return out


def discover(paths, entry: str = "layers.py") -> Found:
    """Every submission under ``paths``, in the order given and sorted by name within a folder
    (entries that cannot be graded included, each with its ``problem``), each archive unpacked
    once. Close the result (a context manager) to remove what was unpacked.

    Raises:
      BadPath: a path that does not exist, is neither a ``.py`` file, a ``.zip`` nor a folder, a
        class archive that cannot be read or is over its caps, or a folder without entries
        (what was unpacked so far is removed).
    """
    found = Found()
    try:
        for path in paths:
            shown = safe_name(path)
            if not os.path.lexists(path):
                raise BadPath(f"jaxdl check-numpy: no such file or directory: {shown!r}")
            if os.path.isfile(path):
                if path.endswith(".py"):
                    found.submissions.append(Submission(name=shown, file=os.path.abspath(path)))
                    continue
                if path.lower().endswith(".zip"):
                    dest = found.temp("jaxdl-class-")
                    problem, problems = _unpack_class(path, dest)
                    if problem:
                        raise BadPath(f"jaxdl check-numpy: {shown!r}: {problem}")
                    subs = _folder(found, dest, path, entry, problems)
                    if not subs:
                        raise BadPath(f"jaxdl check-numpy: no submissions in {shown!r}")
                    found.submissions.extend(subs)
                    continue
                raise BadPath(f"jaxdl check-numpy: {shown!r} is not a .py file, a .zip or a directory of submissions")
            if not os.path.isdir(path):
                raise BadPath(f"jaxdl check-numpy: {shown!r} is not a .py file, a .zip or a directory of submissions")
            subs = _folder(found, path, path, entry)
            if not subs:
                raise BadPath(f"jaxdl check-numpy: no submissions in {shown!r} (expected .py files, .zip archives or "
                              f"student folders holding {entry})")
            found.submissions.extend(subs)
    except BaseException:
        found.close()
        raise
    return found


def one_submission(path: str, entry: str = "layers.py") -> Found:
    """A learning platform's folder of one student's files (Gradescope's, PrairieLearn's) as one
    submission: its ``entry``, its only ``.py`` or its only ``.zip``, as a student's folder in a
    class folder. Close the result to remove what was unpacked."""
    found = Found()
    try:
        if os.path.isdir(path):
            found.submissions.append(_student_folder(found, path, safe_name(path), entry, {}, _Budget()))
        else:
            found.submissions.append(_entry(found, path, safe_name(path), os.path.basename(path), entry))
    except BaseException:
        found.close()
        raise
    return found


def copy_submission(sub: Submission, dest: str) -> tuple[str, str]:
    """Copies the submission into ``dest`` (its folder's regular files, links left out, capped:
    :data:`MAX_FILES` files and folders, :data:`MAX_BYTES` bytes); returns ``(the entry file's path
    relative to dest, problem)``."""
    try:
        if not sub.folder:
            shutil.copyfile(sub.file, os.path.join(dest, "submission.py"))
            return "submission.py", ""
        count = size = 0
        root = os.path.abspath(sub.folder)
        for here, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(here, d))]
            count += len(dirs)
            rel = os.path.relpath(here, root)
            for name in files:
                src = os.path.join(here, name)
                st = os.lstat(src)
                if not stat.S_ISREG(st.st_mode):
                    continue
                count += 1
                size += st.st_size
                if count > MAX_FILES or size > MAX_BYTES:
                    break
                target_dir = os.path.join(dest, rel) if rel != "." else dest
                os.makedirs(target_dir, mode=0o755, exist_ok=True)
                shutil.copyfile(src, os.path.join(target_dir, name))
            if count > MAX_FILES or size > MAX_BYTES:
                return "", f"the folder holds more than {MAX_FILES} files and folders or {MAX_BYTES >> 20} MiB"
        return os.path.relpath(sub.file, root), ""
    except OSError as e:
        return "", f"the submission cannot be copied ({e.strerror or type(e).__name__}: {safe_name(e.filename or '')})"
