"""``jaxdl check-numpy --export KIND --out DIR``: the lab checker where students already are.

jaxdl computes and verifies what the checks need and writes them out as a checker that needs only
Python (≥ 3.9) and numpy:

- ``standalone``: ``DIR/check_lab.py`` (one file: the modules of ``check-numpy`` that run the
  checks, carried as text, and :mod:`.standalone` as its command) and ``DIR/check_lab_data.npz``
  (the lab's classes, the assignment, and the reference cases: inputs, parameters, and jaxdl's
  outputs and gradients from its JAX layers in float64, which the numpy layers of
  :mod:`.numpy_reference` must reproduce, here before anything is written and again in
  ``check_lab.py`` before a student's file is read);
- ``gradescope``: ``DIR/autograder.zip`` (``setup.sh`` installing numpy, ``run_autograder``, the
  checker and its data) writing Gradescope's ``results/results.json``;
- ``prairielearn``: a question folder (``info.json``, ``question.html``, ``tests/run.sh`` with
  the checker and its data) whose external grader writes PrairieLearn's ``results/results.json``;
- ``coderunner``: ``DIR/coderunner.xml``, Moodle XML of CodeRunner questions (one per lab class,
  or one for the assignment) whose template grader runs the checker on the pasted file and returns
  CodeRunner's grader JSON; the checker and its data are the questions' support files.

    >>> export("standalone", "exported/")  # doctest: +SKIP
    ['exported/check_lab.py', 'exported/check_lab_data.npz']
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import stat
import uuid
import zipfile
from xml.sax.saxutils import escape

import numpy as np

from jaxdl.check.numpy_check import build, numpy_reference, reference, standalone
from jaxdl.errors import InputError
from jaxdl.fileio import write_atomically
from jaxdl.labspec import LabClass, Part

KINDS = ("standalone", "coderunner", "gradescope", "prairielearn")
# The modules check_lab.py carries, in jaxdl's names (packages of no code of their own are empty).
BUNDLE = (
    "jaxdl.errors", "jaxdl.fileio", "jaxdl.labspec", "jaxdl.check.errors", "jaxdl.check.im2col_standin",
    "jaxdl.check.scipy_standin", "jaxdl.check.scipy_standin.stats", "jaxdl.check.scipy_standin.special",
    "jaxdl.check.numpy_check.environment", "jaxdl.check.numpy_check.protocol", "jaxdl.check.numpy_check.results",
    "jaxdl.check.numpy_check.diagnose", "jaxdl.check.numpy_check.numpy_reference",
    "jaxdl.check.numpy_check.reference", "jaxdl.check.numpy_check.build", "jaxdl.check.numpy_check.checks",
    "jaxdl.check.numpy_check.discover", "jaxdl.check.numpy_check.sandbox", "jaxdl.check.numpy_check.walls",
    "jaxdl.check.numpy_check.worker", "jaxdl.check.numpy_check.grade", "jaxdl.check.numpy_check.command",
    "jaxdl.check.numpy_check.standalone",
)
EMPTY_PACKAGES = ("jaxdl", "jaxdl.check", "jaxdl.check.numpy_check")
PACKAGES_WITH_CODE = ("jaxdl.check.scipy_standin",)
SEED = 20261208
# CodeRunner's limits for the questions (Jobe's default memory; CPU seconds for two interpreters,
# numpy and every check of a whole lab file, with room to spare).
JOBE_MEMORY_MB, JOBE_CPU_S = 1000, 30
WORKER_MEMORY_MB = 768  # within Jobe's 1000 MB: each process has its own address space


# --------------------------------------------------------------------------------------------
# The reference data.


def _encode_arg(value):
    if isinstance(value, Part):
        return {"part": value.kind, "role": value.role}
    if isinstance(value, tuple):
        return [_encode_arg(v) for v in value]
    return value


def lab_to_json(lab: LabClass) -> dict:
    return {"names": list(lab.names), "kind": lab.kind, "input_shape": list(lab.input_shape),
            "args": {k: _encode_arg(v) for k, v in lab.args.items()},
            "aliases": {k: list(v) for k, v in lab.aliases.items()}, "defaults": dict(lab.defaults),
            "params": list(lab.params), "elementwise": lab.elementwise}


def reference_data(assignment: dict | None) -> tuple[dict, dict]:
    """``(meta, arrays)``: the lab classes, the assignment and the reference cases, computed by
    jaxdl's JAX layers in float64, then replayed on :mod:`.numpy_reference` (a mismatch is
    jaxdl's bug and raises)."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(SEED)
    classes = reference.lab_classes()
    arrays: dict[str, np.ndarray] = {}
    cases = []
    with jax.enable_x64(True):
        for name, lab in classes.items():
            if lab.kind != "layer":
                continue
            if name not in numpy_reference.BUILDERS:  # jaxdl's own omission, not the user's
                raise LookupError(f"the lab class {name!r} has no numpy twin in numpy_reference.BUILDERS: the "
                                  "exported checker could not compare a student's class with it")
            config = dict(lab.args)
            layer = lab.reference(**config)
            _, init = layer.init(jax.random.PRNGKey(0), tuple(lab.input_shape), dtype=jnp.float64)
            params = {p: rng.standard_normal(np.shape(v)) for p, v in init.items()}
            scales = [("", 2.0)] + ([("/large", 1000.0)] if lab.elementwise else [])
            for suffix, scale in scales:
                c = f"{name}{suffix}"
                x = rng.uniform(-scale, scale, lab.input_shape)
                y, vjp = jax.vjp(layer.apply, {p: jnp.asarray(v) for p, v in params.items()}, jnp.asarray(x))
                dy = rng.standard_normal(np.shape(y))
                dparams, dx = vjp(jnp.asarray(dy))
                arrays.update({f"{c}/x": x, f"{c}/dy": dy, f"{c}/expected/y": np.asarray(y),
                               f"{c}/expected/dx": np.asarray(dx)})
                for p, v in params.items():
                    arrays[f"{c}/param/{p}"] = v
                    arrays[f"{c}/expected/dparam/{p}"] = np.asarray(dparams[p])
                cases.append({"name": c, "kind": "layer", "layer": name, "config": config, "params": sorted(params)})
        from jaxdl.losses import l2_regularizer, softmax_cross_entropy

        x, labels = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
        y = np.eye(5)[labels]
        arrays.update({"softmax_cross_entropy/x": x, "softmax_cross_entropy/y": y,
                       "softmax_cross_entropy/expected/loss": np.asarray(softmax_cross_entropy.apply(x, y)),
                       "softmax_cross_entropy/expected/dx": np.asarray(softmax_cross_entropy.backward(x, y))})
        cases.append({"name": "softmax_cross_entropy", "kind": "loss"})
        lam = float(classes["l2_regularizer"].args["weight_decay"])
        w = rng.standard_normal((4, 3))
        reg = l2_regularizer(lam)
        arrays.update({"l2_regularizer/w": w, "l2_regularizer/expected/loss": np.asarray(reg.apply({"W": w})),
                       "l2_regularizer/expected/dw": np.asarray(reg.backward({"W": w})["W"])})
        cases.append({"name": "l2_regularizer", "kind": "regularizer", "config": {"weight_decay": lam}})
    meta = {"format": standalone.FORMAT, "classes": {n: lab_to_json(lab) for n, lab in classes.items()},
            "assignment": None if assignment is None else
            {n: {"points": s["points"], "all_or_nothing": s["all_or_nothing"], "build": s["build"]}
             for n, s in assignment.items()},
            "cases": cases}
    standalone.replay(meta, arrays)  # raises DataError: the numpy layers are not jaxdl's (jaxdl's bug)
    return meta, arrays


def data_bytes(meta: dict, arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# check_lab.py.

_LOADER = '''
import importlib.abc
import importlib.util
import os
import sys

if sys.version_info < (3, 9):
    sys.exit("check_lab.py: needs Python 3.9 or newer; this is " + sys.version.split()[0])


def _keyword_dataclasses():
    """Python 3.9's dataclasses have no kw_only (3.10): the modules' keyword-only dataclasses get an
    __init__ that takes their fields by keyword (CHECK_LAB_PY39=1 does the same on a newer Python)."""
    import dataclasses

    plain = dataclasses.dataclass

    def dataclass(cls=None, **options):
        def wrap(c):
            if not options.pop("kw_only", False):
                return plain(c, **options)
            d = plain(c, init=False, **options)
            fields = [f for f in dataclasses.fields(d)]

            def __init__(self, **values):
                for f in fields:
                    if f.init and f.name in values:
                        v = values.pop(f.name)
                    elif f.default is not dataclasses.MISSING:
                        v = f.default
                    elif f.default_factory is not dataclasses.MISSING:
                        v = f.default_factory()
                    else:
                        raise TypeError(f"{c.__name__}() missing keyword argument {f.name!r}")
                    object.__setattr__(self, f.name, v)
                if values:
                    raise TypeError(f"{c.__name__}() got an unexpected keyword argument {next(iter(values))!r}")
                if hasattr(self, "__post_init__"):
                    self.__post_init__()

            d.__init__ = __init__
            return d
        return wrap if cls is None else wrap(cls)

    dataclasses.dataclass = dataclass


class _Bundle(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the checker's modules from SOURCES (before any installed package of their names)."""

    def find_spec(self, name, path=None, target=None):
        if name in SOURCES or name in EMPTY_PACKAGES:
            return importlib.util.spec_from_loader(name, self, is_package=name in EMPTY_PACKAGES + PACKAGES_WITH_CODE)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = os.path.abspath(__file__) + "/" + module.__name__.replace(".", "/") + ".py"
        exec(compile(SOURCES.get(module.__name__, ""), module.__file__, "exec", dont_inherit=True), module.__dict__)


if __name__ == "__main__":
    if sys.version_info < (3, 10) or os.environ.get("CHECK_LAB_PY39") == "1":
        _keyword_dataclasses()
    sys.meta_path.insert(0, _Bundle())
    from jaxdl.check.numpy_check import standalone

    sys.exit(standalone.main(sources=SOURCES, here=os.path.dirname(os.path.abspath(__file__)), data_sha256=DATA_SHA256))
'''


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def checker_text(data: bytes) -> str:
    """The text of ``check_lab.py``, which reads only the reference data ``data`` (by their SHA-256)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("jaxdl")
    except PackageNotFoundError:  # a checkout that is not installed
        __version__ = "(a checkout)"
    head = (f'#!/usr/bin/env python3\n"""check_lab.py: the numpy lab\'s checks of jaxdl {__version__} (check-numpy), '
            'for Python 3.9 or newer with numpy.\n\n'
            '  python check_lab.py my_layers.py [--json OUT]     (--help for more)\n\n'
            'Written by jaxdl check-numpy --export; reads check_lab_data.npz beside it. Every check, its name, its '
            'diagnosis\nand its points are those of jaxdl check-numpy. The modules below are jaxdl\'s, carried as '
            'text.\n"""\n')
    sources = {m: _source(m) for m in BUNDLE}
    body = "SOURCES = {\n" + "".join(f"    {m!r}: {s!r},\n" for m, s in sources.items()) + "}\n"
    body += f"EMPTY_PACKAGES = {EMPTY_PACKAGES!r}\nPACKAGES_WITH_CODE = {PACKAGES_WITH_CODE!r}\n"
    body += f"DATA_SHA256 = {hashlib.sha256(data).hexdigest()!r}  # check_lab_data.npz, as exported\n"
    return head + body + _LOADER


# --------------------------------------------------------------------------------------------
# The platforms.

_SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the checker needs numpy only.
set -euo pipefail
python3 -m pip install --quiet numpy || python3 -m pip install --quiet --break-system-packages numpy
"""

_RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this as root for each submission (as /autograder/run_autograder): the student's files
# are in submission/, the result is read from results/results.json. The checker and its data are made
# readable by root alone; the student's code runs in a worker that cannot read them (another user, or
# namespaces), and only this script's checker writes the results.
set -u
root="$(cd "$(dirname "$0")" && pwd)"
chmod 700 "$root/source"
chmod 600 "$root/source/check_lab.py" "$root/source/check_lab_data.npz"
mkdir -p "$root/results" && chmod 755 "$root/results" && rm -f "$root/results/results.json"
python3 "$root/source/check_lab.py" "$root/submission" --gradescope "$root/results/results.json"
if [ ! -s "$root/results/results.json" ]; then
  printf '%s\\n' '{"score": 0, "output": "The checker could not run; please tell your teaching assistant.", "tests": []}' \\
    > "$root/results/results.json"
fi
exit 0
"""

_PL_RUN = """#!/usr/bin/env bash
# PrairieLearn's external grader runs this (the question's info.json names it): the student's files
# are in /grade/student, the result goes to /grade/results/results.json. The checker and its data are
# made readable by root alone; the student's code runs in a worker that cannot read them.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
chmod 700 "$root/tests"
chmod 600 "$root/tests/check_lab.py" "$root/tests/check_lab_data.npz"
mkdir -p "$root/results" && chmod 755 "$root/results" && rm -f "$root/results/results.json"
python3 "$root/tests/check_lab.py" "$root/student" --prairielearn "$root/results/results.json"
if [ ! -s "$root/results/results.json" ]; then
  printf '%s\\n' '{"gradable": false, "message": "The checker could not run; please tell your teaching assistant."}' \\
    > "$root/results/results.json"
fi
exit 0
"""

_PL_QUESTION = """<pl-question-panel>
  <p>Upload your lab file <code>layers.py</code>. It is checked as <code>jaxdl check-numpy</code> checks it:
  every check is named, with the mistake it found and the points.</p>
</pl-question-panel>
<pl-file-upload file-names="layers.py"></pl-file-upload>
<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""

# The template a CodeRunner question runs on Jobe. Twig fills in the student's answer as JSON
# (json_encode escapes every control character, NUL too, which no Python source may hold), then as
# the inside of a Python string. Jobe stops a run at twice its CPU limit on the clock (60 s for the
# questions' 30 s): the checker's budgets end a file that sleeps well before, and so does the timeout.
_CR_TEMPLATE = '''import json, subprocess, sys
HEAD = ["iscorrect", "Check", "Mark", "Diagnosis"]


def fail(why):
    print(json.dumps({{"fraction": 0.0, "testresults": [HEAD, [False, "run the checker", "0", why[-2000:]]]}}))
    sys.exit(0)


try:
    answer = json.loads("{{{{ STUDENT_ANSWER | json_encode | e('py') }}}}")
except ValueError:
    fail("the answer could not be read (is it UTF-8 text?)")
with open("layers.py", "w", encoding="utf-8") as f:
    f.write(answer)
try:
    run = subprocess.run([sys.executable, "check_lab.py", "layers.py", "--coderunner", "--memory-limit", "{memory}",
                          "--time-limit", "{time_limit}", "--budget", "{budget}"{classes}],
                         capture_output=True, text=True, timeout={timeout})
except subprocess.TimeoutExpired:
    fail("the check took longer than {timeout} s")
lines = run.stdout.strip().splitlines()
try:
    result = json.loads(lines[-1])
except (IndexError, ValueError):
    fail(run.stderr or "no output")
print(json.dumps(result))
'''
ANSWER = "{{ STUDENT_ANSWER | json_encode | e('py') }}"  # where the template takes the answer
# A call's CPU limit, the file's CPU budget (its clock budget 3 × that + 2 s = 41 s) and the
# template's own timeout, all within Jobe's 60 s.
CR_TIME_LIMIT_S, CR_BUDGET_S, CR_TIMEOUT_S = 5, 13, 50

_CR_TEXT = """<p>Paste your whole lab file (<code>layers.py</code>, with its imports). {what}</p>
<p>Each check is named, with the mistake it found and its points. This is <b>feedback while you work</b>:
here your code runs beside the checker and could read its reference data, so the graded run of the lab
is the course's own <code>jaxdl check-numpy</code> in its sandbox.</p>"""


def _cr_question(title: str, what: str, classes: tuple[str, ...], points: float, files: dict[str, bytes]) -> str:
    extra = "".join(f', "--class", {c!r}' for c in classes)
    template = _CR_TEMPLATE.format(memory=WORKER_MEMORY_MB, classes=extra, time_limit=CR_TIME_LIMIT_S,
                                   budget=CR_BUDGET_S, timeout=CR_TIMEOUT_S)
    fields = {
        "coderunnertype": "python3", "prototypetype": "0", "allornothing": "0", "penaltyregime": "0", "precheck": "0",
        "hidecheck": "0", "showsource": "0", "answerboxlines": "30", "answerboxcolumns": "100", "answerpreload": "",
        "globalextra": "", "useace": "1", "resultcolumns": "", "template": template, "iscombinatortemplate": "1",
        "allowmultiplestdins": "0", "answer": "", "validateonsave": "0", "testsplitterre": "",
        "language": "python3", "acelang": "", "sandbox": "", "grader": "TemplateGrader",
        "cputimelimitsecs": str(JOBE_CPU_S), "memlimitmb": str(JOBE_MEMORY_MB), "sandboxparams": "",
        "templateparams": "", "hoisttemplateparams": "1", "templateparamslang": "None",
        "templateparamsevalpertry": "0", "templateparamsevald": "", "twigall": "0", "uiplugin": "ace",
        "uiparameters": "", "attachments": "0", "attachmentsrequired": "0", "maxfilesize": "10240",
        "filenamesregex": "", "filenamesexplain": "", "displayfeedback": "1", "giveupallowed": "0",
        "prototypeextra": "",
    }
    xml = [f'  <question type="coderunner">', f"    <name><text>{escape(title)}</text></name>",
           f'    <questiontext format="html"><text>{escape(_CR_TEXT.format(what=escape(what)))}</text></questiontext>',
           '    <generalfeedback format="html"><text></text></generalfeedback>',
           f"    <defaultgrade>{points:g}</defaultgrade>", "    <penalty>0</penalty>", "    <hidden>0</hidden>",
           "    <idnumber></idnumber>"]
    xml += [f"    <{k}>{escape(v)}</{k}>" for k, v in fields.items()]
    xml.append("    <testcases>")
    xml.append('      <testcase testtype="0" useasexample="0" hiderestiffail="0" mark="1.0000000">')
    for f in ("testcode", "stdin", "expected", "extra"):
        xml.append(f"        <{f}><text></text></{f}>")
    xml.append("        <display><text>SHOW</text></display>")
    xml.append("      </testcase>")
    xml += [f'      <file name="{escape(name)}" path="/" encoding="base64">{base64.b64encode(data).decode()}</file>'
            for name, data in files.items()]
    xml += ["    </testcases>", "  </question>"]
    return "\n".join(xml)


def coderunner_xml(assignment: dict | None, files: dict[str, bytes]) -> str:
    """Moodle XML: one CodeRunner question per lab class jaxdl knows, or one for the assignment."""
    questions = []
    if assignment:
        names = ", ".join(assignment)
        points = sum(s["points"] if s["points"] is not None else 1.0 for s in assignment.values())
        questions.append(_cr_question("Lab: " + names, f"Its classes {names} are checked.", (), points, files))
    else:
        for lab in reference.lab_classes().values():
            cls = lab.names[0]
            questions.append(_cr_question(f"Lab: {cls}", f"Its class {cls} is checked.", (cls,), 1.0, files))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n  <question type="category">\n'
            '    <category><text>$course$/jaxdl lab checks</text></category>\n  </question>\n'
            + "\n".join(questions) + "\n</quiz>\n")


def _zip(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def _write(path: str, data: bytes | str, mode: int = 0o644) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_atomically(path, data)
    os.chmod(path, mode)
    return path


def export(kind: str, out: str, require: str | None = None, assignment: str | None = None) -> list[str]:
    """Writes the ``kind`` export into the folder ``out``; returns the paths written.

    Raises:
      InputError: an unknown kind, a malformed assignment, an ``out`` that is a file (before any work).
    """
    if kind not in KINDS:
        raise InputError(f"check-numpy --export: expected one of {', '.join(KINDS)}; got {kind!r}")
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError(f"check-numpy --export: --out {out!r} is a file, not a folder")
    spec = build.load_assignment(assignment, require)
    meta, arrays = reference_data(spec)
    data = data_bytes(meta, arrays)
    checker = checker_text(data).encode()
    names = {"check_lab.py": checker, "check_lab_data.npz": data}
    j = os.path.join
    if kind == "standalone":
        return [_write(j(out, "check_lab.py"), checker, 0o755), _write(j(out, "check_lab_data.npz"), data)]
    if kind == "gradescope":
        entries = {"setup.sh": (_SETUP_SH.encode(), 0o755), "run_autograder": (_RUN_AUTOGRADER.encode(), 0o755),
                   "check_lab.py": (checker, 0o644), "check_lab_data.npz": (data, 0o644)}
        return [_write(j(out, "autograder.zip"), _zip(entries))]
    if kind == "prairielearn":
        info = {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "jaxdl-lab-check/" + json.dumps(meta["assignment"]))),
                "title": "Numpy lab: the layers, checked", "topic": "Numpy lab", "tags": ["jaxdl"], "type": "v3",
                "singleVariant": True, "gradingMethod": "External",
                "externalGradingOptions": {"enabled": True, "image": "prairielearn/grader-python",
                                           "entrypoint": "/grade/tests/run.sh", "timeout": 120}}
        return [_write(j(out, "info.json"), json.dumps(info, indent=2) + "\n"),
                _write(j(out, "question.html"), _PL_QUESTION),
                _write(j(out, "tests", "run.sh"), _PL_RUN, 0o755),
                _write(j(out, "tests", "check_lab.py"), checker, 0o755),
                _write(j(out, "tests", "check_lab_data.npz"), data)]
    return [_write(j(out, "coderunner.xml"), coderunner_xml(spec, names))]
