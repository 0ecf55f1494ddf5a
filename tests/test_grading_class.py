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


def _worker_processes() -> list[str]:
    """Every process on this machine that a check-numpy run of this process started, and anything
    those started (they carry the checker's pid in their environment, JAXDL_CHECK_RUN)."""
    out, tag = [], f"JAXDL_CHECK_RUN={os.getpid()}".encode()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                env = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tag in env:
                out.append(f"{pid}: {cmd[:120]}")
    return out


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(pathlib.Path(path).read_text())))


def _grade(folder, out, *extra):
    book, report = out / "grades.csv", out / "grades.json"
    rc = cli.main(["check-numpy", str(folder), "--jobs", "2", "--time-limit", "2", "--gradebook", str(book),
                   "--json", str(report), "--no-progress", *extra])
    return rc, _rows(book), json.loads(report.read_text()), book


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The class graded once with every attacker in it, and its classmates graded alone."""
    root = tmp_path_factory.mktemp("class")
    folder, outside, out = root / "submissions", root / "outside", root / "out"
    for d in (folder, outside, out):
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
    shutil.copy(REFERENCE, folder / "alice.py")
    shutil.copy(ATTACKS / "slow_correct.py", folder / "carol.py")
    subs = {"alice.py": None, "carol.py": None}
    for path in sorted(ATTACKS.glob("[a-z]*.py")):
        if path.name == "slow_correct.py":
            continue
        text = path.read_text().replace("@PORT@", str(listener.getsockname()[1])).replace(
            "@GRADEBOOK@", str(out / "grades.csv")).replace("@CLASSMATE@", str(folder / "alice.py")).replace(
            "@ANSWER_KEY@", str(REFERENCE)).replace("@CLASS@", str(folder)).replace("@OUTSIDE@", str(outside))
        (folder / f"x_{path.name}").write_text(text + ("" if path.name == "copies.py" else "\n\n" + relu))
        subs[f"x_{path.name}"] = None
    before_tmp = set(os.listdir("/tmp"))
    rc, rows, report, book = _grade(folder, out)
    after = _worker_processes()
    written = book.read_bytes()
    alone = root / "alone"
    alone.mkdir()
    for name in ("alice.py", "carol.py"):
        shutil.copy(folder / name, alone / name)
    alone_out = root / "alone_out"
    alone_out.mkdir()
    _, alone_rows, _, _ = _grade(alone, alone_out)
    time.sleep(3)  # a daemon that outlived the run would rewrite the gradebook by now
    stop.set()
    thread.join()
    listener.close()
    yield {"rc": rc, "rows": rows, "report": {s["submission"].rsplit("/", 1)[-1]: s for s in report["submissions"]},
           "book": book, "written": written, "survivors": after, "heard": heard, "alone": alone_rows,
           "folder": folder, "outside": outside, "new_tmp": set(os.listdir("/tmp")) - before_tmp}


def _by(rows):
    return {(r["submission"].rsplit("/", 1)[-1], r["class"]): r for r in rows}


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
    assert attacked["rc"] == 1


def test_classmates_verdicts_equal_their_verdicts_alone(attacked):
    rows, alone = _by(attacked["rows"]), _by(attacked["alone"])
    for key, row in alone.items():
        assert {k: v for k, v in rows[key].items() if k != "submission"} == \
               {k: v for k, v in row.items() if k != "submission"}, key
    assert all(rows[("alice.py", c)]["ok"] == "true" for c in LAB)
    assert rows[("carol.py", "ReLU")]["ok"] == "true"  # slowish, next to six spinning threads


def test_the_gradebook_is_complete_and_stays_as_written(attacked):
    names = {r["submission"].rsplit("/", 1)[-1] for r in attacked["rows"]}
    assert names == {p.name for p in attacked["folder"].iterdir()}
    assert attacked["book"].read_bytes() == attacked["written"]
    assert not attacked["survivors"], attacked["survivors"]  # nothing left that could change it later
    assert _worker_processes() == []


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
    started = int(report["x_forks.py"]["stdout"].split("started ")[1].split()[0])
    assert started < 200  # the process limit; and none of them outlived the run (above)
    leftovers = [p for p in (attacked["folder"], attacked["outside"]) for p in p.rglob("filler*")]
    assert leftovers == [] and not any(n.startswith("filler") for n in attacked["new_tmp"])
    walls = report["alice.py"]["walls"]
    assert walls["namespaces"] == ["user", "mount", "pid", "net", "ipc", "uts"] and walls["seccomp"] is True
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
    (folder / "horvatana_4321_98765_layers.py").write_text(good)
    _zip(folder / "slip.zip", {"../../evil.py": good})
    (folder / ".DS_Store").write_text("")
    rc, rows, report, book = _grade(folder, tmp_path)
    verdicts = {r["submission"][len(str(folder)) + 1:]: (r["ok"], r["first_failure"]) for r in rows}
    assert verdicts == {
        "alice": ("true", ""),
        "bob.zip": ("true", ""),
        "Carol.PY": ("false", "not graded: the name ends in '.PY', not '.py' (rename it)"),
        "frank.py": ("false", "a FIFO, not a file"),
        "gina.py": ("false", "a symbolic link (not followed)"),
        "hank": ("false", "a symbolic link (not followed)"),
        "Ivan Horvat_123456_assignsubmission_file_": ("true", ""),
        "horvatana_4321_98765_layers.py": ("true", ""),
        "slip.zip": ("false", "the archive holds a path outside itself ('../../evil.py')"),
    }
    assert not (tmp_path / "evil.py").exists()
    ids = {s["submission"][len(str(folder)) + 1:]: s.get("student_id") for s in report["submissions"]}
    assert ids["Ivan Horvat_123456_assignsubmission_file_"] == "123456"
    assert ids["horvatana_4321_98765_layers.py"] == "4321"
    # The platforms' grade imports, and ids instead of names.
    assert cli.main(["check-numpy", str(folder), "--gradebook", str(tmp_path / "moodle.csv"), "--gradebook-format",
                     "moodle", "--no-progress"]) == 1
    moodle_rows = _rows(tmp_path / "moodle.csv")
    assert list(moodle_rows[0]) == ["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"]
    ivan = next(r for r in moodle_rows if r["Identifier"] == "Participant 123456")
    assert ivan["Full name"] == "Ivan Horvat" and ivan["Grade"] == ivan["Maximum Grade"] == "12"  # ReLU: 12 checks
    assert cli.main(["check-numpy", str(folder), "--gradebook", str(tmp_path / "canvas.csv"), "--gradebook-format",
                     "canvas", "--pseudonymize", "--no-progress"]) == 1
    canvas = list(csv.reader(io.StringIO((tmp_path / "canvas.csv").read_text())))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "check-numpy"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "12"]
    ana = next(r for r in canvas if r[1] == "4321")
    assert ana[0] == "canvas-4321" and ana[5] == "12"
    assert "Ivan" not in (tmp_path / "canvas.csv").read_text() and "alice" not in (tmp_path / "canvas.csv").read_text()


def test_a_file_named_like_an_option_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(REFERENCE, tmp_path / "alice.py")
    (tmp_path / "--layer=ReLU").write_text("")
    argv = sorted(os.listdir(tmp_path))  # what the shell makes of `jaxdl check-numpy *`
    assert cli.main(["check-numpy", *argv]) == 2
    err = capsys.readouterr().err
    assert "'--layer=ReLU' is an option and also a file here" in err and err.count("\n") == 1
    assert cli.main(["check-numpy", "--no-progress", "--", "alice.py"]) == 0


def test_a_gradebook_that_cannot_be_written_is_the_checkers_failure(tmp_path, monkeypatch, capsys):
    from jaxdl.check import numpy_check as nc

    book = tmp_path / "grades.csv"
    real = nc.grade

    def grade_then_block(*args, **kwargs):  # the path turns into a folder while the class is graded
        out = real(*args, **kwargs)
        book.mkdir()
        return out

    monkeypatch.setattr(nc, "grade", grade_then_block)
    assert cli.main(["check-numpy", str(REFERENCE), "--gradebook", str(book), "--no-progress"]) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("jaxdl check-numpy: could not write the results to") and "Is a directory" in err


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
