"""The walls of check-numpy's sandbox one by one: the seccomp allow-list (one process; a new
kernel's calls refused; numpy's and scipy's thread pools still work), a machine without seccomp,
what the worker can see of the machine, the clock's budget for code that sleeps, and discovery and
writing, each guarded per submission."""

import importlib
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from jaxdl.check.numpy_check import sandbox, walls
from jaxdl.check.numpy_check.discover import BadPath, Submission, discover
from jaxdl.check.numpy_check.results import Check, ClassResult, SubmissionResult

grade = importlib.import_module("jaxdl.check.numpy_check.grade")  # the package's grade() hides the module

HERE = pathlib.Path(__file__).parent
HOSTILE = HERE / "fixtures" / "numpy_lab" / "hostile"
RELU = (HERE / "fixtures" / "numpy_lab" / "class_attacks" / "_relu.py").read_text()

seccomp = pytest.mark.skipif(walls.seccomp_arch() is None, reason="no seccomp filter for this machine")
namespaces = pytest.mark.skipif(not sandbox.machine_walls()["namespaces"],
                                reason=f"no namespaces here: {sandbox.machine_walls()['why']}")

# Raises the filter in a fresh interpreter, then makes each call raw (no libc wrapper between) and
# prints its errno; then starts numpy's and scipy's thread pools.
PROBE = textwrap.dedent("""
    import ctypes, errno, json, os, sys, threading
    sys.path.insert(0, {walls_dir!r})
    import walls
    if {allow_list} is not None:
        walls.raise_seccomp(allow_list={allow_list})
    libc = ctypes.CDLL(None, use_errno=True)
    nr = lambda name: walls.nr(walls.seccomp_arch(), name)

    def call(number, *args):
        r = libc.syscall(number, *[ctypes.c_long(a) for a in args])
        return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]

    out = {{"setsid": call(nr("setsid")), "personality": call({{"x86_64": 135, "aarch64": 92}}[walls.seccomp_arch()])}}
    pid = libc.syscall(*((nr("fork"),) if nr("fork") is not None else (nr("clone"), ctypes.c_long(17), 0, 0, 0, 0)))
    if pid == 0:  # a child (without the filter): it goes no further
        os._exit(0)
    out["fork"] = "ok" if pid > 0 else errno.errorcode[ctypes.get_errno()]
    if pid > 0:
        os.waitpid(pid, 0)
    out["clone3"] = call(nr("clone3"), 0, 0)
    out["setpgid"] = call(nr("setpgid"), 0, 0)
    out["kill all"] = call(nr("kill"), -1, 0)
    out["kill parent"] = call(nr("kill"), os.getppid(), 0)
    out["kill itself"] = call(nr("kill"), os.getpid(), 0)
    out["prlimit parent"] = call(nr("prlimit64"), os.getppid(), 0, 0, 0)
    for name, number in (("statmount", 457), ("listmount", 458), ("open_tree_attr", 467), ("unknown", 470)):
        out[name] = call(number, 0, 0, 0, 0)
    for name in ("ptrace", "socket", "io_uring_setup", "unshare", "mount"):
        if {allow_list} is not None:  # (PTRACE_TRACEME, unfiltered, would hand this process to pytest)
            out[name] = call(nr(name), 0, 0, 0, 0)
    import numpy as np, scipy.linalg, scipy.stats
    a = np.random.default_rng(0).standard_normal((600, 600))
    out["matmul"] = float(np.abs(a @ np.linalg.inv(a) - np.eye(600)).max())
    out["lu"] = float(np.abs(scipy.linalg.lu_factor(a)[0]).max() > 0)
    out["truncnorm"] = scipy.stats.truncnorm(-2, 2).rvs(3, random_state=0).shape[0]
    out["threads"] = len(os.listdir("/proc/self/task"))  # the BLAS pools' threads and this one
    box = []
    t = threading.Thread(target=lambda: box.append(1))
    t.start(); t.join()
    out["thread"] = box
    print(json.dumps(out))
""")


def _probe(allow_list: bool | None) -> tuple[dict, str]:
    """What the calls give behind the filter (``None``: no filter, the control)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "4"  # a pool of 4, whatever the machine's cores
    done = subprocess.run([sys.executable, "-c", PROBE.format(walls_dir=os.path.dirname(walls.__file__),
                                                              allow_list=allow_list)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@seccomp
def test_the_filter_allows_what_a_lab_file_needs_and_refuses_the_rest():
    out, stderr = _probe(allow_list=True)
    # One process: no child, no session or process group of its own.
    assert out["fork"] == out["setsid"] == out["setpgid"] == "EPERM"
    assert out["clone3"] == "ENOSYS"  # so that glibc falls back to clone, where CLONE_THREAD is checked
    # Signals and limits on itself only.
    assert out["kill all"] == out["kill parent"] == out["prlimit parent"] == "EPERM" and out["kill itself"] == "ok"
    # Named and refused; not in the allow-list (a new kernel's calls, unknown numbers): ENOSYS.
    assert out["statmount"] == out["listmount"] == out["open_tree_attr"] == "EPERM"
    assert out["unknown"] == out["personality"] == "ENOSYS"
    assert {out[n] for n in ("ptrace", "socket", "io_uring_setup", "unshare", "mount")} == {"EPERM"}
    # numpy's and scipy's BLAS start their pool of threads (clone with CLONE_THREAD) and compute.
    assert out["matmul"] < 1e-8 and out["lu"] == 1.0 and out["truncnorm"] == 3 and out["thread"] == [1]
    control, _ = _probe(allow_list=None)  # the same interpreter without the filter: the same pool
    assert out["threads"] == control["threads"] >= 2 and "pthread_create failed" not in stderr
    assert control["fork"] != "EPERM" and control["statmount"] != "EPERM"


@seccomp
def test_plain_keeps_the_one_process_rule_alone():
    out, _ = _probe(allow_list=False)
    assert out["fork"] == out["setsid"] == out["setpgid"] == "EPERM" and out["clone3"] == "ENOSYS"
    assert out["personality"] == "ok" and out["matmul"] < 1e-8 and out["threads"] == _probe(None)[0]["threads"]


def test_without_seccomp_nothing_is_graded_unmeasured(tmp_path, monkeypatch):
    path = tmp_path / "alice.py"
    path.write_text("import numpy as np\n" + RELU)
    monkeypatch.setattr(sandbox, "machine_walls", lambda: {"namespaces": False, "landlock": 0, "seccomp": False,
                                                           "why": "no namespaces"})
    result = grade.grade_submission(Submission(name=str(path), file=str(path)), grade.Options(sandbox="plain"))
    assert result.error == ("not graded: this machine cannot keep the student's code to one process (no seccomp "
                            "filter here), so the CPU time and memory of the processes it could start would be "
                            "counted nowhere")
    assert not result.ok and result.classes == []


@namespaces
def test_the_worker_sees_nothing_of_the_checkers_machine(tmp_path):
    import getpass

    result = grade.grade_submission(Submission(name="looks_around.py", file=str(HOSTILE / "looks_around.py")),
                                    grade.Options(time_limit=5))
    assert result.ok, result.error or [c.first_failure for c in result.classes]
    seen = json.loads(result.stdout)
    assert seen["environ"] == {"LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
                               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HOME": "/scratch",
                               "TMPDIR": "/scratch",
                               **{k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                                  if k in os.environ}}
    assert seen["ids"] == [2, 1, 0, 0, 1000, 1000]  # its own pid namespace; the session is outside it
    assert seen["cwd"] == "/scratch" and seen["numpy"] == "/site/numpy/__init__.py" and seen["uname"][1] == "sandbox"
    assert seen["user"].startswith("KeyError") or seen["user"].startswith("OSError")  # no user name to find
    assert seen["mountinfo"].startswith("FileNotFoundError") and seen["proc"].startswith("FileNotFoundError")
    assert seen["statmount"] == seen["listmount"] == seen["open_tree_attr"] == "EPERM" and seen["unknown"] == "ENOSYS"
    text = result.stdout
    host = {str(HERE.parent), sys.prefix, os.path.realpath(sys.base_prefix), str(tmp_path),
            os.path.expanduser("~"), str(pathlib.Path(os.__file__).parent)}
    assert not [h for h in host if h in text], [h for h in host if h in text]
    assert f"JAXDL_CHECK_RUN" not in text and str(os.getpid()) not in seen["ids"] and getpass.getuser() not in \
        seen["path"] + seen["argv"]


@seccomp
def test_a_submission_that_sleeps_uses_up_its_clock_budget(tmp_path):
    path = tmp_path / "sleepy.py"
    path.write_text(textwrap.dedent("""
        import time
        import numpy as np


        class _Sleepy:
            def __init__(self, input_layer, name):
                time.sleep(1.0)  # each build: a second of the submission's clock, no CPU time
                self.name = name

            def forward(self, inputs):
                self.inputs = inputs
                return np.maximum(inputs, 0)

            def backward_inputs(self, grads):
                return grads * (self.inputs > 0)


        for i in range(8):
            globals()[f"Sleepy{i}"] = type(f"Sleepy{i}", (_Sleepy,), {"__module__": "submission"})
    """))
    # A CPU budget of 1 s: the clock's budget is 3 × 1 + 2 = 5 s, under the 8 s the builds sleep.
    result = grade.grade_submission(Submission(name=str(path), file=str(path)),
                                    grade.Options(time_limit=1, cpu_budget=1))
    failures = [c.first_failure for c in result.classes if not c.ok]
    assert result.waited and 1 <= len(failures) < 8 and result.classes[0].ok
    # It runs out during a build (a second asleep), or during the request after the last build that fit.
    assert re.fullmatch(r"[a-z_ ]+: the submission used up its time budget of 5 s during [a-z ]+ \(sleeping or "
                        r"waiting\?\)", failures[0]), failures[0]
    assert set(failures[1:]) <= {"import: not checked: the submission used up its time budget of 5 s (sleeping or "
                                 "waiting?)"}


# --------------------------------------------------------------------------------------------
# Discovery and writing, guarded per submission.


def test_an_entry_jaxdl_fails_on_is_its_row_and_cleanup_runs_whatever_happens(tmp_path, monkeypatch):
    import tempfile

    D = importlib.import_module("jaxdl.check.numpy_check.discover")

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice.py", "bob.py"):
        (folder / name).write_text("x = 1\n")
    real = D._entry

    def broken(found, full, shown, name, entry):
        if name == "bob.py":
            raise RecursionError("maximum recursion depth exceeded")
        return real(found, full, shown, name, entry)

    monkeypatch.setattr(D, "_entry", broken)
    with discover([str(folder)]) as found:
        subs = {pathlib.Path(s.name).name: s for s in found}
    assert subs["alice.py"].problem == "" and subs["bob.py"].problem == (
        "the checker failed on this entry (RecursionError: maximum recursion depth exceeded): a bug in jaxdl, not "
        "the student's") and "RecursionError" in subs["bob.py"].internal
    # A class archive unpacked, then a bad path: the error, and nothing unpacked is left.
    import zipfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with zipfile.ZipFile(tmp_path / "class.zip", "w") as z:
        z.writestr("carol/layers.py", "x = 1\n")
    with pytest.raises(BadPath, match="no such file or directory"):
        discover([str(tmp_path / "class.zip"), str(tmp_path / "missing")])
    assert os.listdir(tmp_path / "tmp") == []


def test_a_row_jaxdl_cannot_write_is_that_submissions_and_the_rest_are_written(monkeypatch):
    def result(name, ok=True):
        c = ClassResult(cls="ReLU", built_as="ReLU()", completed=True)
        c.checks.append(Check(name="forward", ok=ok))
        return SubmissionResult(name=name, path=name, classes=[c])

    good, bad = result("alice.py"), result("bob.py")
    real = SubmissionResult.rows
    monkeypatch.setattr(SubmissionResult, "rows",
                        lambda self: (_ for _ in ()).throw(KeyError("boom")) if self.name == "bob.py" else real(self))
    text = grade.gradebook_csv([good, bad])
    assert text.splitlines()[1:] == [
        "alice.py,ReLU,true,1,1,1,1,,",
        "bob.py,*,false,0,0,0,0,\"the checker could not write this submission's results (KeyError: 'boom'): a bug "
        "in jaxdl, not the student's\","]
    assert "KeyError" in bad.internal and good.internal == ""
    payload = json.loads(grade.report_json([good, result("carol\udce9.py")]))  # a surrogate cannot be written
    assert payload["submissions"][1]["error"].startswith("the checker could not write this submission's results "
                                                         "(UnicodeEncodeError")
    assert payload["ok"] is False


def test_an_archive_may_hold_one_archive_in_a_folder_as_in_a_class_folder(tmp_path):
    import io
    import zipfile

    def zipped(name: str, data: bytes) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, data)
        return buf.getvalue()

    two = zipped("inner.zip", zipped("layers.py", b"x = 1\n"))  # a zip holding a zip: 2 deep
    three = zipped("outer.zip", two)
    folder = tmp_path / "class"
    for student, data in (("ana", two), ("ivo", three)):
        (folder / student).mkdir(parents=True)
        (folder / student / "work.zip").write_bytes(data)
        (folder / f"{student}.zip").write_bytes(data)
    with discover([str(folder)]) as found:
        problems = {s.name[len(str(folder)) + 1:]: s.problem for s in found}
    deep = "archives nested more than 2 deep (an archive in an archive, at most 2)"
    assert problems == {"ana": "", "ana.zip": "", "ivo/work.zip": deep, "ivo.zip": deep}
