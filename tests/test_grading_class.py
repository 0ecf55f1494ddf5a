"""Grading a class of untrusted submissions: one submission can only ever fail itself.

A folder of hostile submissions (``fixtures/numpy_lab/class_attacks/``) is graded beside correct
classmates: each attacker fails with its reason or achieves nothing, the classmates' verdicts
equal their verdicts when graded alone, the gradebook is complete and stays as written, no
process of any submission survives the run, and nothing is left outside the scratch folders.
Then the layouts teaching assistants have (Moodle, Canvas, archives, links, odd names)."""

import csv
import io
import json
import os
import pathlib
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from jaxdl import cli
from jaxdl.check.numpy_check import sandbox

HERE = pathlib.Path(__file__).parent
ATTACKS = HERE / "fixtures" / "numpy_lab" / "class_attacks"
REFERENCE = HERE.parent / "jaxdl" / "check" / "lab_reference.py"
LAB = ["FC", "ReLU", "Convolution", "MaxPooling", "Flatten", "SoftmaxCrossEntropyWithLogits", "L2Regularizer",
       "RegularizedLoss", "Quadratic", "Swish", "ResBlock"]

pytestmark = pytest.mark.skipif(not sandbox.machine_walls()["namespaces"],
                                reason=f"no namespaces here: {sandbox.machine_walls()['why']}")


def _worker_processes(checker: int | None = None) -> list[str]:
    """Every process on this machine that a check-numpy run of this process (or of the process
    ``checker``) started, and anything those started: the launchers carry the checker's pid in
    their environment (JAXDL_CHECK_RUN); the workers, whose environment holds nothing of the
    checker's, are their descendants."""
    tag, procs = f"JAXDL_CHECK_RUN={checker or os.getpid()}".encode(), {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                env = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                ppid = int(pathlib.Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            procs[int(pid)] = (ppid, tag in env, cmd)
    ours = {pid for pid, (_, tagged, _) in procs.items() if tagged}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                grew = True
    return [f"{pid}: {procs[pid][2][:120]}" for pid in sorted(ours)]


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(pathlib.Path(path).read_text())))


def _grade(folder, out, *extra):
    book, report = out / "grades.csv", out / "grades.json"
    rc = cli.main(["check-numpy", str(folder), "--jobs", "2", "--time-limit", "2", "--gradebook", str(book),
                   "--json", str(report), "--no-progress", *extra])
    return rc, _rows(book), json.loads(report.read_text()), book


def _member_data(data: bytes, name: str) -> tuple[int, int]:
    """Where a member's compressed bytes start in a zip, and how many there are."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def _damaged_zip(method: int, name: str = "layers.py", text: str = "import numpy as np\n" * 200) -> bytes:
    """A zip whose member's stream is damaged: a deflate block of the reserved type 3 (zlib.error), or
    LZMA data flipped after its header (LZMAError), the archive's own structure intact."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr(name, text)
    data = bytearray(buf.getvalue())
    start, size = _member_data(bytes(data), name)
    if method == zipfile.ZIP_DEFLATED:
        data[start] = 0xFF  # BFINAL 1, BTYPE 11: "invalid block type"
    else:
        for i in range(start + 13, start + size - 2):  # past the 4-byte header and the 5 properties
            data[i] ^= 0x55
    return bytes(data)


def _nested_zip(depth: int, inner: str) -> bytes:
    """``depth`` zips, each the only member of the next."""
    data = inner.encode()
    name = "layers.py"
    for i in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), f"level{i}.zip"
    return data


def _folders_zip(count: int, inner: str) -> bytes:
    """A zip of ``count`` empty folders (and the file)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(count):
            z.writestr(zipfile.ZipInfo(f"d{i}/"), "")
        z.writestr("layers.py", inner)
    return buf.getvalue()


def _moodle_class_zip(good: str) -> bytes:
    """Moodle's "download all submissions": one participant's upload is fine, the other's damaged."""
    damaged = _damaged_zip(zipfile.ZIP_DEFLATED, "Ivo Ivic_222_assignsubmission_file_/layers.py")
    buf = io.BytesIO(damaged)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Ana Horvat_111_assignsubmission_file_/layers.py", good)
    return buf.getvalue()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The class graded once, as a whole command, with every attacker in it (hostile files, damaged,
    nested and folder-flooded archives, a Latin-1 name, a class archive with a damaged upload), and
    its classmates graded alone."""
    root = tmp_path_factory.mktemp("class")
    folder, outside, out, tmp = root / "submissions", root / "outside", root / "out", root / "tmp"
    for d in (folder, outside, out, tmp):
        d.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    heard, stop = [], threading.Event()

    def listen():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                heard.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    relu = (ATTACKS / "_relu.py").read_text()
    good = "import numpy as np\n" + relu
    shutil.copy(REFERENCE, folder / "alice.py")
    shutil.copy(ATTACKS / "slow_correct.py", folder / "carol.py")
    (folder / "caf\udce9.py").write_text(good)  # a Latin-1 name, as unzip leaves it (not UTF-8)
    for path in sorted(ATTACKS.glob("[a-z]*.py")):
        if path.name == "slow_correct.py":
            continue
        text = path.read_text().replace("@PORT@", str(listener.getsockname()[1])).replace(
            "@GRADEBOOK@", str(out / "grades.csv")).replace("@CLASSMATE@", str(folder / "alice.py")).replace(
            "@ANSWER_KEY@", str(REFERENCE)).replace("@CLASS@", str(folder)).replace("@OUTSIDE@", str(outside))
        (folder / f"x_{path.name}").write_text(text + ("" if path.name == "copies.py" else "\n\n" + relu))
    (folder / "z_deflate.zip").write_bytes(_damaged_zip(zipfile.ZIP_DEFLATED))
    (folder / "z_lzma.zip").write_bytes(_damaged_zip(zipfile.ZIP_LZMA))
    (folder / "z_nested.zip").write_bytes(_nested_zip(1000, good))
    (folder / "z_folders.zip").write_bytes(_folders_zip(60_000, good))
    moodle = root / "moodle_class.zip"
    moodle.write_bytes(_moodle_class_zip(good))
    # A whole command, with a TMPDIR of its own: nothing may be left in it, nor any process of it.
    book, report = out / "grades.csv", out / "grades.json"
    done = subprocess.Popen([sys.executable, "-m", "jaxdl.cli", "check-numpy", str(folder), str(moodle), "--jobs", "2",
                             "--time-limit", "2", "--gradebook", str(book), "--json", str(report), "--no-progress"],
                            env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stdout, stderr = done.communicate(timeout=900)
    after = _worker_processes(done.pid)
    rows, written = _rows(book), book.read_bytes()
    alone = root / "alone"
    alone.mkdir()
    for name in ("alice.py", "carol.py", "caf\udce9.py"):
        shutil.copy(folder / name, alone / name)
    alone_out = root / "alone_out"
    alone_out.mkdir()
    _, alone_rows, _, _ = _grade(alone, alone_out)
    time.sleep(3)  # a daemon that outlived the run would rewrite the gradebook by now
    stop.set()
    thread.join()
    listener.close()
    yield {"rc": done.returncode, "stderr": stderr, "rows": rows,
           "report": {s["submission"].rsplit("/", 1)[-1]: s for s in json.loads(report.read_text())["submissions"]},
           "book": book, "written": written, "survivors": after, "heard": heard, "alone": alone_rows,
           "folder": folder, "outside": outside, "tmp": tmp}


def _by(rows):
    return {(r["submission"].rsplit("/", 1)[-1], r["class"]): r for r in rows}


ONE_PROCESS = "[Errno 1] a lab file runs in one process: {} is refused (threads are allowed)"


def _first_failure(report, name: str, cls: str) -> str:
    c = next(c for c in report[name]["classes"] if c["class"] == cls)
    return next(f"{k['name']}: {k['detail']}" for k in c["checks"] if not k["ok"])


def test_each_attacker_fails_with_its_reason(attacked):
    report = attacked["report"]
    assert report["x_deep_frame.py"]["error"] == ("the student's process sent a malformed reply during import: "
                                                  "a header nested more than 24 deep")
    assert report["x_huge_shape.py"]["error"] == ("the student's process sent a malformed reply during import: an "
                                                  "array of a kind that is not allowed (dtype, rank or dimensions)")
    fake = {c["class"]: c for c in report["x_fake_signature.py"]["classes"]}
    assert fake["FC"]["checks"][0]["detail"] == "cannot build: its constructor's signature cannot be read"
    assert report["x_copies.py"]["error"] == "nothing to check: the file defines no class with a forward method"
    assert "copied" not in report["x_copies.py"]["stdout"].replace("could not copy", "")
    # A submission is one process: children (reaped by the kernel or not) and sessions are refused,
    # through Python's functions and through the C library alike.
    assert _first_failure(report, "x_reaped_children.py", "ForksSpinners") == \
        f"forward: raised PermissionError: {ONE_PROCESS.format('os.fork')} (line 21)"
    assert _first_failure(report, "x_reaped_children.py", "ForksThroughLibc") == \
        "forward: raised PermissionError: [Errno 1] Operation not permitted (line 49)"
    assert _first_failure(report, "x_forked_memory.py", "ForksMemory") == \
        f"forward: raised PermissionError: {ONE_PROCESS.format('os.fork')} (line 19)"
    sessions = report["x_sessions.py"]["stdout"]
    assert f"fork: {ONE_PROCESS.format('os.fork')}" in sessions and "spinners started 0" in sessions
    assert f"setsid: {ONE_PROCESS.format('os.setsid')}" in sessions
    assert f"setpgid: {ONE_PROCESS.format('os.setpgid')}" in sessions
    # A lone surrogate in an exception: stored escaped, and the gradebook and JSON are written.
    assert _first_failure(report, "x_surrogate.py", "RaisesSurrogate") == \
        "forward: raised ValueError: caf\\udce9 (line 10)"
    # Sleeping: the clock stops it; graded beside classmates, it was graded again alone.
    assert _first_failure(report, "x_sleeps.py", "SleepsInForward") == \
        "forward: stopped after 8 s during forward without using its 2 s of CPU time (sleeping or waiting?)"
    assert report["x_sleeps.py"]["graded_again_alone"] is True
    assert not any(r.get("graded_again_alone") for n, r in report.items() if n != "x_sleeps.py")
    # Archives: each one's failure names the cap or the damage.
    assert report["z_deflate.zip"]["error"] == \
        "not a readable .zip archive (zlib.error: Error -3 while decompressing data: invalid block type)"
    assert report["z_lzma.zip"]["error"] == "not a readable .zip archive (LZMAError: Corrupt input data)"
    assert report["z_nested.zip"]["error"] == \
        "archives nested more than 2 deep (an archive in an archive, at most 2)"
    assert report["z_folders.zip"]["error"] == \
        "the archive holds more than 200 files and folders (at most 200 for a submission, over every archive it holds)"
    assert report["Ivo Ivic_222_assignsubmission_file_"]["error"] == (
        "its file 'layers.py' in the class archive is damaged (zlib.error: Error -3 while decompressing data: "
        "invalid block type)")
    assert report["Ana Horvat_111_assignsubmission_file_"]["ok"] is True
    assert attacked["rc"] == 1


def test_classmates_verdicts_equal_their_verdicts_alone(attacked):
    rows, alone = _by(attacked["rows"]), _by(attacked["alone"])
    assert {name for name, _ in alone} == {"alice.py", "carol.py", "caf\\xe9.py"}
    for key, row in alone.items():
        assert {k: v for k, v in rows[key].items() if k != "submission"} == \
               {k: v for k, v in row.items() if k != "submission"}, key
    assert all(rows[("alice.py", c)]["ok"] == "true" for c in LAB)
    assert rows[("carol.py", "ReLU")]["ok"] == "true"  # slowish, next to spinning threads and sleepers
    assert rows[("caf\\xe9.py", "ReLU")]["ok"] == "true"  # its name shown with the byte escaped


def test_the_gradebook_is_complete_and_stays_as_written(attacked):
    from jaxdl.check.numpy_check.results import safe_name

    names = {r["submission"].rsplit("/", 1)[-1] for r in attacked["rows"]}
    entries = {safe_name(p.name) for p in attacked["folder"].iterdir()}
    assert names == entries | {"Ana Horvat_111_assignsubmission_file_", "Ivo Ivic_222_assignsubmission_file_"}
    assert set(attacked["report"]) == names  # the JSON too
    assert attacked["book"].read_bytes() == attacked["written"]
    assert not attacked["survivors"], attacked["survivors"]  # nothing left that could change it later
    assert _worker_processes() == []
    assert os.listdir(attacked["tmp"]) == []  # every archive unpacked, every copy and scratch removed
    assert "internal error" not in attacked["stderr"] and "Traceback" not in attacked["stderr"]


def test_nothing_reaches_the_network_or_other_files(attacked):
    report = attacked["report"]
    assert attacked["heard"] == []
    assert "no connection: [Errno 1] Operation not permitted" in report["x_connects.py"]["stdout"]
    assert "pipes written: 0" in report["x_sibling_pipes.py"]["stdout"]
    secrets = report["x_prints_secrets.py"]["stdout"]
    assert "root:x:0:0" not in secrets  # no /etc/passwd
    assert "def variance_scaling_initializer" not in secrets  # no classmate's file
    assert "'alice.py'" not in secrets and "'carol.py'" not in secrets  # no listing of the class folder
    assert f"{attacked['folder']}/alice.py FileNotFoundError" in secrets
    assert "started 0" in report["x_forks.py"]["stdout"]  # one process: not one of the 200 started
    leftovers = [p for p in (attacked["folder"], attacked["outside"]) for p in p.rglob("filler*")]
    assert leftovers == []
    walls = report["alice.py"]["walls"]
    assert walls["namespaces"] == ["user", "mount", "pid", "net", "ipc", "uts"] and walls["seccomp"] == "allow-list"
    assert walls["landlock"] >= 1 and walls["rlimits"]["nproc"] == sandbox.MAX_PROCESSES


def test_names_a_spreadsheet_or_a_terminal_would_obey_are_neutralised(attacked, capsys):
    odd = [r for r in attacked["rows"] if r["submission"].endswith("x_odd_names.py")]
    assert len(odd) == 7  # six odd names and the ReLU
    raw = attacked["book"].read_text()
    for row in csv.reader(io.StringIO(raw)):
        for value in row:
            assert value[:1] not in ("=", "+", "@") or value.startswith("'"), value
            assert not any(ord(ch) < 32 for ch in value), repr(value)
    assert "'=HYPERLINK" in raw and "'+1+1" in raw and "'@SUM(A1)" in raw
    assert {"-2", "Evil ok   alice.py   10/10 classes ok"} <= {r["class"] for r in odd}  # a number stays one


def test_terminal_output_escapes_control_characters(tmp_path, capsys):
    shutil.copy(ATTACKS / "odd_names.py", tmp_path / "odd.py")
    assert cli.main(["check-numpy", str(tmp_path / "odd.py"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[32mGreen" in out
    assert not any(line.startswith("ok   alice.py") for line in out.splitlines())


# --------------------------------------------------------------------------------------------
# Layouts.


def _zip(path, members: dict):
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)


def test_layouts_teaching_assistants_have(tmp_path, capsys):
    from jaxdl.check.numpy_check import gradebook_csv

    relu = (ATTACKS / "_relu.py").read_text()
    good = "import numpy as np\n" + relu
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice").mkdir()
    (folder / "alice" / "layers.py").write_text(good)
    _zip(folder / "bob.zip", {"bob/layers.py": good, "__MACOSX/._layers.py": "junk"})
    (folder / "Carol.PY").write_text(good)
    os.mkfifo(folder / "frank.py")
    os.symlink(tmp_path / "nowhere.py", folder / "gina.py")
    os.symlink(folder / "alice", folder / "hank")
    moodle = folder / "Ivan Horvat_123456_assignsubmission_file_"
    moodle.mkdir()
    (moodle / "lab2.py").write_text(good)
    html = folder / "Eve Evil_654321_assignsubmission_file_"  # a class named in HTML, for Moodle's feedback
    html.mkdir()
    shutil.copy(ATTACKS / "html_name.py", html / "layers.py")
    (folder / "horvatana_4321_98765_layers.py").write_text(good)
    (folder / "bobic_7_2222_layers.py").write_text(good)  # Canvas's user 7
    # A name the student chose that imitates Canvas's ids: it reads as user 7 or as user 1234.
    (folder / "zzz_7_1234_5678_layers.py").write_text(good)
    (folder / "ana_55_1_layers.py").write_text(good)  # two files carry one id
    (folder / "ena_55_2_layers.py").write_text(good)
    _zip(folder / "slip.zip", {"../../evil.py": good})
    (folder / ".DS_Store").write_text("")
    rc, rows, report, book = _grade(folder, tmp_path)
    verdicts = {r["submission"][len(str(folder)) + 1:]: (r["ok"], r["first_failure"]) for r in rows if r["class"] in
                ("*", "ReLU")}
    assert verdicts == {
        "alice": ("true", ""),
        "bob.zip": ("true", ""),
        "Carol.PY": ("false", "not graded: the name ends in '.PY', not '.py' (rename it)"),
        "frank.py": ("false", "a FIFO, not a file"),
        "gina.py": ("false", "a symbolic link (not followed)"),
        "hank": ("false", "a symbolic link (not followed)"),
        "Ivan Horvat_123456_assignsubmission_file_": ("true", ""),
        "horvatana_4321_98765_layers.py": ("true", ""),
        "bobic_7_2222_layers.py": ("true", ""),
        "zzz_7_1234_5678_layers.py": ("true", ""),
        "ana_55_1_layers.py": ("true", ""),
        "ena_55_2_layers.py": ("true", ""),
        "slip.zip": ("false", "the archive holds a path outside itself ('../../evil.py')"),
    }
    assert not (tmp_path / "evil.py").exists()
    subs = {s["submission"][len(str(folder)) + 1:]: s for s in report["submissions"]}
    ids = {name: s.get("student_id") for name, s in subs.items()}
    assert ids["Ivan Horvat_123456_assignsubmission_file_"] == "123456"
    assert ids["horvatana_4321_98765_layers.py"] == "4321" and ids["bobic_7_2222_layers.py"] == "7"
    assert ids["zzz_7_1234_5678_layers.py"] is None
    assert subs["zzz_7_1234_5678_layers.py"]["notes"] == [
        "no Canvas id kept: the name reads as user 7 or as user 1234 (a name the student chose imitates Canvas's ids)"]
    assert report["duplicate_ids"] == {"canvas-55": [str(folder / "ana_55_1_layers.py"),
                                                     str(folder / "ena_55_2_layers.py")]}
    err = capsys.readouterr().err
    assert f"{folder}/zzz_7_1234_5678_layers.py: no Canvas id kept: the name reads as user 7 or as user 1234" in err
    assert f"jaxdl check-numpy: canvas-55 is carried by 2 submissions: {folder}/ana_55_1_layers.py, " in err
    # The platforms' grade imports (from the same results), and ids instead of names.
    from jaxdl.check.numpy_check import CheckRequest, check_numpy

    out = check_numpy(CheckRequest(paths=(str(folder),), jobs=2))
    moodle_rows = list(csv.DictReader(io.StringIO(gradebook_csv(out.results, "moodle"))))
    assert list(moodle_rows[0]) == ["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"]
    ivan = next(r for r in moodle_rows if r["Identifier"] == "Participant 123456")
    assert ivan["Full name"] == "Ivan Horvat" and ivan["Grade"] == ivan["Maximum Grade"] == "12"  # ReLU: 12 checks
    eve = next(r for r in moodle_rows if r["Identifier"] == "Participant 654321")["Feedback comments"]
    assert eve.startswith("&lt;a href=\"http://example.com/\"&gt;click&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;: ")
    assert "<" not in eve and ">" not in eve
    canvas = list(csv.reader(io.StringIO(gradebook_csv(out.results, "canvas", pseudonymize=True))))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "check-numpy"]
    assert canvas[1][:5] == ["Points Possible", "", "", "", ""]
    ana = next(r for r in canvas if r[1] == "4321")
    assert ana[0] == "canvas-4321" and ana[5] == "12"
    assert [r[1] for r in canvas].count("7") == 1  # the imitation gives user 7 no second row
    assert "55" not in [r[1] for r in canvas]  # an id two files carry: left out, the grader told
    assert out.problems[-1].startswith("jaxdl check-numpy: canvas-55 is carried by 2 submissions")
    text = "\n".join(",".join(r) for r in canvas)
    assert "Ivan" not in text and "alice" not in text


def test_a_file_named_like_an_option_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(REFERENCE, tmp_path / "alice.py")
    (tmp_path / "--layer=ReLU").write_text("")
    argv = sorted(os.listdir(tmp_path))  # what the shell makes of `jaxdl check-numpy *`
    assert cli.main(["check-numpy", *argv]) == 2
    err = capsys.readouterr().err
    assert "'--layer=ReLU' is an option and also a file here" in err and err.count("\n") == 1
    assert cli.main(["check-numpy", "--no-progress", "--", "alice.py"]) == 0


def test_a_gradebook_that_cannot_be_written_is_the_checkers_failure(tmp_path):
    from jaxdl.check.numpy_check import CheckRequest, check_numpy

    book = tmp_path / "grades.csv"
    # The path turns into a folder once it was checked, while the class is graded.
    out = check_numpy(CheckRequest(paths=(str(REFERENCE),), gradebook=str(book)), announce=lambda line: book.mkdir())
    assert out.exit_code == 1 and out.results[0].ok
    assert out.write_error.startswith("jaxdl check-numpy: could not write the results to") and "Is a directory" in \
        out.write_error and out.problems == [out.write_error]


# --------------------------------------------------------------------------------------------
# As an unprivileged user.


def _unprivileged_command(uid: int, home: str, command: list[str]) -> list[str]:
    """``command`` as ``uid`` (no groups); where an ancestor of the interpreter or the checkout
    cannot be entered by others (a 0700 /root), a private mount namespace shows it through a tmpfs."""
    needed = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), str(HERE.parent)]
    blocked = set()
    for path in needed:
        parts = pathlib.Path(path).parts
        for i in range(2, len(parts) + 1):
            d = os.path.join(*parts[:i])
            if not os.stat(d).st_mode & stat.S_IXOTH:
                blocked.add(d)
                break
    script = []
    for i, d in enumerate(sorted(blocked)):
        children = sorted({pathlib.Path(p).relative_to(d).parts[0] for p in needed if p.startswith(d + os.sep)})
        for j, child in enumerate(children):
            script.append(f"mkdir -p /tmp/.hold{i}_{j} && mount --bind '{d}/{child}' /tmp/.hold{i}_{j}")
        script.append(f"mount -t tmpfs -o mode=755 tmpfs '{d}'")
        for j, child in enumerate(children):
            script.append(f"mkdir -p '{d}/{child}' && mount --move /tmp/.hold{i}_{j} '{d}/{child}'")
    quoted = " ".join("'" + c.replace("'", "'\\''") + "'" for c in command)
    script.append(f"cd '{home}' && exec env HOME='{home}' setpriv --reuid={uid} --regid={uid} --clear-groups -- {quoted}")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", " && ".join(script)]


def test_a_whole_class_graded_as_an_unprivileged_user(tmp_path):
    import tempfile

    if os.getuid() != 0:  # already unprivileged: the batch runs as this user
        cmd, home = None, str(tmp_path)
    elif shutil.which("setpriv") is None or shutil.which("unshare") is None:
        pytest.skip("running as root without setpriv and unshare to become another user")
    else:
        home = tempfile.mkdtemp(prefix="jaxdl-unprivileged-")
        os.chmod(home, 0o755)
        os.chown(home, 64123, 64123)
    try:
        folder = pathlib.Path(home) / "class"
        folder.mkdir()
        shutil.copy(REFERENCE, folder / "alice.py")
        shutil.copy(HERE / "fixtures" / "numpy_lab" / "seed_quiz.py", folder / "bob.py")
        for p in (folder, *folder.iterdir()):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        command = [sys.executable, "-m", "jaxdl.cli", "check-numpy", str(folder), "--gradebook",
                   f"{home}/grades.csv", "--no-progress"]
        if os.getuid() == 0:
            os.chown(home, 64123, 64123)
            command = _unprivileged_command(64123, home, command)
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=home)
        assert done.returncode == 1, done.stderr
        assert "sandbox: namespaces (user, pid, net, mount, ipc, uts)" in done.stderr
        rows = _rows(f"{home}/grades.csv")
        assert [(pathlib.Path(r["submission"]).name, r["class"], r["ok"]) for r in rows] == (
            [("alice.py", c, "true") for c in LAB] + [("bob.py", "Quadratic", "false"), ("bob.py", "Swish", "false")])
        if os.getuid() == 0:
            assert os.stat(f"{home}/grades.csv").st_uid == 64123  # written by the unprivileged checker
    finally:
        if home != str(tmp_path):
            shutil.rmtree(home, ignore_errors=True)
