"""The ``jaxdl`` command: argument parsing and printing only; every command calls the library.

Exit codes: 0 success, 1 a check failed, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from jaxdl.errors import InputError


class UsageError(InputError):
    """Bad command-line input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {value}")
    return value


def _write_json(path: str | None, payload) -> None:
    """Writes ``payload`` as JSON, atomically (an OSError is reported as one line, exit 2)."""
    if not path:
        return
    from jaxdl.fileio import write_atomically

    write_atomically(path, json.dumps(payload, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# gradcheck


def _cmd_gradcheck(args) -> int:
    from jaxdl.check import check_registry
    from jaxdl.check.gradcheck import format_reports

    reports = check_registry(args.names)
    print(format_reports(reports, args.formulas))
    _write_json(args.json, {"layers": [r.to_json() for r in reports]})
    return 0 if all(r.ok for r in reports) else 1


# --------------------------------------------------------------------------------------------
# exam


def _cmd_exam(args) -> int:
    from jaxdl.exams.command import ExamRequest, exam

    sizes = {"input_size": args.input_size, "hidden_size": args.hidden_size, "num_layers": args.num_layers}
    out = exam(ExamRequest(problem=args.problem, config=args.config, overrides=tuple(args.overrides), sizes=sizes,
                           lang=args.lang, edition=args.edition, json=args.json, markdown=args.markdown, html=args.html,
                           pdf=args.pdf, graphs=args.graphs))
    for w in out.warnings:
        print(f"jaxdl exam: warning: {w}", file=sys.stderr)
    print(out.text)
    return 1 if out.failed else 0


def exam_generate_parser() -> argparse.ArgumentParser:
    """The parser of ``jaxdl exam generate`` (read apart from ``jaxdl exam``'s, whose problem is a choice)."""
    from jaxdl.exams.registry import with_family

    p = _Parser(prog="jaxdl exam generate",
                description="New variants of the exam's problems: new givens a student can work by hand, each key "
                            "published only when jaxdl's hand-derived computation, autodiff and finite differences "
                            "(or a closed form) agree in float64. Writes OUT/variants.json (one record per variant: "
                            "what `jaxdl exam PROBLEM --json` writes, with problem, variant and seed), each variant's "
                            "students' and teaching assistants' sheet, and a Moodle question bank.")
    p.add_argument("problem", metavar="PROBLEM", help=f"one of {', '.join(with_family())}, or all")
    p.add_argument("--seed", default="0", help="an integer >= 0 (default 0): the same seed gives the same files")
    p.add_argument("--count", type=_positive_int, default=10, help="variants per problem (default 10)")
    p.add_argument("--out", metavar="DIR", help="the folder to write into (variants.json, PROBLEM/…-teachers.md, …)")
    p.add_argument("--lang", choices=("hr", "en"), default="en", help="the sheets' and the bank's language (en)")
    p.add_argument("--moodle", metavar="FILE", help="also write the variants as a Moodle XML question bank")
    p.add_argument("--pdf", action="store_true", help="also print every sheet as a PDF (headless Chromium)")
    p.add_argument("--practice", metavar="FILE", help="also (or only) write the variants as the course page's practice "
                                                         "pool (JSON, read by jaxdl site)")
    p.add_argument("--stress", type=_positive_int, metavar="N",
                   help="draw and verify N variants of each problem and report the refused draws and the largest "
                        "disagreement (writes nothing)")
    return p


def _exam_generate(argv: list[str]) -> int:
    """``jaxdl exam generate``: next year's exam, every key verified three ways."""
    from tqdm import tqdm

    from jaxdl.exams.command import GenerateRequest, generate_exam

    args = exam_generate_parser().parse_args(argv)
    req = GenerateRequest(problem=args.problem, seed=args.seed, count=args.count, out=args.out, lang=args.lang,
                          moodle=args.moodle, pdf=args.pdf, stress=args.stress, practice=args.practice)
    with tqdm(desc="variants", unit="step", disable=None if args.stress is None else True, file=sys.stderr) as bar:
        out = generate_exam(req, progress=bar)
    if out.failure:
        print(f"jaxdl exam generate: FAILED: {out.failure}", file=sys.stderr)
        return 1
    for note in out.notes:
        print(f"jaxdl exam generate: note: {note}", file=sys.stderr)
    print(out.text)
    return 0


def launch_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="jaxdl launch",
                description="A multi-process run on this machine: starts N `jaxdl train` processes with a "
                            "coordinator on 127.0.0.1 and a free port, streams process 0's output, and returns the "
                            "first non-zero exit code. On a cluster, start the processes with the scheduler "
                            "(e.g. srun jaxdl train ...) instead.")
    p.add_argument("--processes", required=True, metavar="N", help="how many processes")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- train ...",
                   help="the jaxdl train command every process runs")
    return p


def _launch(argv: list[str]) -> int:
    from jaxdl.train import launch

    split = argv.index("--") if "--" in argv else len(argv)
    args = launch_parser().parse_args(argv[:split])
    n, command = launch.check(args.processes, [*args.command, *argv[split:]])
    return launch.launch(n, command)


def _cmd_count_wins(args) -> int:
    from jaxdl.models.tictactoe import count_wins_in

    result = count_wins_in(args.file)
    print(f"{result['count']} of {result['n']} games are X wins")
    _write_json(args.json, result)
    return 0


# --------------------------------------------------------------------------------------------
# check-numpy


def _cmd_check_numpy(args) -> int:
    from jaxdl.check.numpy_check.command import CheckRequest, check_numpy

    if args.export or args.out:
        return _export_checker(args)
    if not args.paths:
        raise InputError("jaxdl check-numpy: expected at least one PATH (a .py file, a folder or a .zip), or "
                         "--export KIND --out DIR")
    out = check_numpy(CheckRequest(
        paths=tuple(args.paths), layers=tuple(args.layer or ()), entry=args.entry, jobs=args.jobs,
        gradebook=args.gradebook, json=args.json, time_limit=args.time_limit, memory_mb=args.memory_limit,
        require=args.require, assignment=args.assignment, gradebook_format=args.gradebook_format,
        pseudonymize=args.pseudonymize, sandbox=args.sandbox, allow_weaker_sandbox=args.allow_weaker_sandbox,
        progress=not args.no_progress, argv=tuple(args.argv)), announce=lambda line: print(line, file=sys.stderr))
    print(out.report)
    for line in out.problems:
        print(line, file=sys.stderr)
    return out.exit_code


def _export_checker(args) -> int:
    from jaxdl.check.numpy_check.export import export

    if not (args.export and args.out):
        raise InputError("jaxdl check-numpy: --export KIND and --out DIR go together; got "
                         + ("--export without --out" if args.export else "--out without --export"))
    if args.paths or args.layer or args.gradebook or args.json:
        what = "PATH" if args.paths else "--layer" if args.layer else "--gradebook" if args.gradebook else "--json"
        raise InputError(f"jaxdl check-numpy --export writes a checker and checks no file: {what} has no place here "
                         "(--require or --assignment choose its classes)")
    for path in export(args.export, args.out, require=args.require, assignment=args.assignment):
        print(path)
    return 0


# --------------------------------------------------------------------------------------------
# train, site, docs, bench


def _cmd_train(args) -> int:
    from jaxdl.train import distributed, experiments
    from jaxdl.train.trainer import TrainingDiverged

    if args.list:
        print(experiments.listing())
        return 0
    if not args.config_file or not args.workdir:
        raise UsageError("jaxdl train: give an experiment (or a config file) and --workdir DIR; "
                         "jaxdl train --list lists the experiments")
    req = experiments.TrainRequest(config=args.config_file, workdir=args.workdir, overrides=tuple(args.overrides),
                                   coordinator=args.coordinator, num_processes=args.num_processes,
                                   process_id=args.process_id, progress=not args.no_progress)
    try:
        summary = experiments.train(req)
    except TrainingDiverged as e:
        print(str(e), file=sys.stderr)
        return 1
    except distributed.DistributedError as e:
        # One line, then out at once: JAX's own shutdown would wait on the lost process and abort.
        print(str(e), file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)
    print(experiments.summary_text(summary, args.workdir))
    return 0


def _cmd_site(args) -> int:
    from jaxdl import site

    index, warnings = site.build(args.results, args.out, args.lang)
    for w in warnings:
        print(f"jaxdl site: warning: {w}", file=sys.stderr)
    print(f"the course page: {os.path.abspath(index)}")
    return 0


def _cmd_docs(args) -> int:
    from jaxdl import docs

    for what in docs.write(args.root, args.results):
        print(f"  rewrote {what}")
    return 0


def _cmd_bench(args) -> int:
    from jaxdl import bench

    report = bench.run(args.suite, quick=args.quick, layers=args.layer,
                       progress=None if args.json == "-" else (lambda n: print(f"… {n}", file=sys.stderr, flush=True)))
    print(bench.format_report(report))
    if args.plots:
        for path in bench.plot(report, args.plots):
            print(f"wrote {path}")
    _write_json(args.json, report)
    return 0


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line's declaration, one ``add_argument`` per option: long as a table, not as logic."""
    from jaxdl import __version__

    parser = _Parser(prog="jaxdl", description="Layers of a deep-learning course, verified in JAX.")
    parser.add_argument("--version", action="version", version=f"jaxdl {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("gradcheck", help="check every layer's hand-derived backward pass")
    p.add_argument("names", nargs="*", metavar="NAME", help="registry names (default: all)")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--formulas", action="store_true", help="also print each layer's formulas")
    p.set_defaults(run=_cmd_gradcheck)

    from jaxdl.exams import PROBLEMS

    p = sub.add_parser("exam", help="reproduce the exam answers, each cross-checked (exam generate: next year's)",
                       description="Config fields can be overridden with --config.NAME=VALUE. New variants of the "
                                   "problems, keys verified three ways: jaxdl exam generate --help.")
    p.add_argument("problem", choices=[*PROBLEMS, "all"])
    p.add_argument("--config", metavar="FILE", help="a Python file with get_config() (default: configs/exam_<problem>.py)")
    p.add_argument("--json", metavar="FILE", help="write the answers as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the solution sheet: questions, givens, worked steps, "
                                                      "answers, code, errata (Markdown with $…$ math; pictures beside it)")
    p.add_argument("--html", metavar="FILE", help="write the sheet as one HTML page (MathML, pictures inside, A4 print)")
    p.add_argument("--pdf", metavar="FILE", help="write the sheet as a PDF (A4, printed by a headless Chromium)")
    p.add_argument("--lang", choices=("hr", "en"), default="en",
                   help="the sheet's and the printout's language: hr (the course's) or en (default)")
    p.add_argument("--edition", choices=("teachers", "students"), default="teachers",
                   help="teachers: everything (default); students: the questions and givens, with room to work")
    p.add_argument("--graphs", metavar="DIR", help="draw the pictures here: E1's computational graphs (DOT, SVG, PNG), "
                                                   "E3's board and filter (SVG, PNG)")
    p.add_argument("--input-size", type=_positive_int, help="exam lstm: input size of the first layer (300)")
    p.add_argument("--hidden-size", type=_positive_int, help="exam lstm: hidden size (500)")
    p.add_argument("--num-layers", type=_positive_int, help="exam lstm: number of layers (2)")
    p.set_defaults(run=_cmd_exam, accepts_overrides=True)

    p = sub.add_parser("site", help="build the course page (static HTML, works offline) from make run's results",
                       description="Reads DIR/exam.json (required), DIR/gradcheck.json, DIR/runs/*/ and DIR/bench.json "
                                   "when present; writes index.html and assets/.")
    p.add_argument("--results", metavar="DIR", default="results", help="where make run wrote its results (results)")
    p.add_argument("--out", metavar="DIR", help="where to write the page (DIR/site)")
    p.add_argument("--lang", choices=("hr", "en"), default="hr",
                   help="the language the page opens in (it has both, with a switch): hr (default) or en")
    p.set_defaults(run=_cmd_site)

    p = sub.add_parser("docs", help="rewrite the documentation's generated parts from the results (errata, "
                                    "training table, benchmarks page)")
    p.add_argument("--root", default=".", metavar="DIR", help="jaxdl's checkout, holding docs/ (.)")
    p.add_argument("--results", default="results", metavar="DIR",
                   help="where make run and make bench wrote exam.json, runs/ and bench.json (results)")
    p.set_defaults(run=_cmd_docs)

    p = sub.add_parser("check-numpy", help="check numpy lab layers: one student's file, or grade a whole class",
                       description="Each PATH is a .py file, a folder of submissions or a .zip of one "
                                   "(docs/grading.md). Students' code runs only in sandboxed workers, one process each.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="a .py file, a folder of submissions or a .zip of one")
    p.add_argument("--layer", action="append", metavar="NAME", help="a class name, or a constructor expression like "
                                                                    "'Swish(name=\"s\", beta=1.5)' (repeatable)")
    p.add_argument("--entry", default="layers.py", metavar="NAME", help="the file checked in each student folder")
    p.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="submissions graded at once (default: the number of cores)")
    p.add_argument("--gradebook", metavar="FILE.csv", help="write one row per submission and class as CSV")
    p.add_argument("--json", metavar="FILE", help="write every check of every submission as JSON")
    p.add_argument("--time-limit", type=float, default=20.0, metavar="SECONDS", help="CPU time per call (default 20)")
    p.add_argument("--memory-limit", type=int, default=2048, metavar="MB", help="memory per submission (default 2048)")
    p.add_argument("--require", metavar="CLASSES", help="classes every submission must have, e.g. FC,ReLU,Convolution")
    p.add_argument("--assignment", metavar="FILE.toml", help="the required classes, how each is built, their points")
    p.add_argument("--gradebook-format", choices=("jaxdl", "moodle", "canvas"), default="jaxdl",
                   help="jaxdl: one row per submission and class; moodle/canvas: the platform's grade import")
    p.add_argument("--pseudonymize", action="store_true", help="ids instead of names in the gradebook and the JSON")
    p.add_argument("--sandbox", choices=("auto", "namespaces", "process", "plain"), default="auto",
                   help="the workers' walls (default: the strongest this machine allows)")
    p.add_argument("--allow-weaker-sandbox", action="store_true", help="grade a folder without the namespaces")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--export", choices=("standalone", "coderunner", "gradescope", "prairielearn"),
                   help="write the checker for numpy alone (check_lab.py and its data), as itself or for a platform")
    p.add_argument("--out", metavar="DIR", help="the folder --export writes into")
    p.set_defaults(run=_cmd_check_numpy)

    p = sub.add_parser("train", help="train an experiment by name or from a config (resumes from the workdir)",
                       description="Config fields can be overridden with --config.NAME=VALUE.")
    p.add_argument("config_file", nargs="?", metavar="EXPERIMENT|CONFIG.py",
                   help="an experiment's name (jaxdl train --list) or a config file, e.g. configs/cnn_digits.py")
    p.add_argument("--workdir", metavar="DIR", help="where the config, metrics, checkpoints and plots go")
    p.add_argument("--list", action="store_true", help="list the experiments, one line each")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--coordinator", metavar="HOST:PORT",
                   help="a multi-process run: process 0's address (with --num-processes and --process-id); "
                        "without them, a SLURM or Open MPI job is joined by itself")
    p.add_argument("--num-processes", metavar="N", help="a multi-process run: how many processes")
    p.add_argument("--process-id", metavar="I", help="a multi-process run: this process's index in [0, N)")
    p.set_defaults(run=_cmd_train, accepts_overrides=True)

    sub.add_parser("launch", help="a multi-process training run on this machine (jaxdl launch --processes N -- train ...)",
                   add_help=False)

    p = sub.add_parser("bench", help="time the layers and steps side by side (medians, ratios, machine limits)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a check in about a minute")
    p.add_argument("--suite", action="append", metavar="NAME", help="run only this suite (repeatable)")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="with --suite manual_vs_autodiff: time only this registry layer family (repeatable)")
    p.add_argument("--json", metavar="FILE", help="write every median, ratio and the environment as JSON")
    p.add_argument("--plots", metavar="DIR", help="write one bar chart (PNG) per suite")
    p.set_defaults(run=_cmd_bench)

    p = sub.add_parser("tictactoe", help="the exam's tic-tac-toe classifier on your boards")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = tsub.add_parser("count-wins", help="count the X wins in a .npy stack of 9×9 board images")
    q.add_argument("file", metavar="FILE.npy", help="(N, 9, 9) or (N, 1, 9, 9) binary images")
    q.add_argument("--json", metavar="FILE", help="write n, count, probabilities and predictions as JSON")
    q.set_defaults(run=_cmd_count_wins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. Exit codes: 0 success, 1 a check failed (or an internal error), 2 bad
    input (``InputError`` or an ``OSError`` on a path: one line on stderr, no traceback).
    ``--debug`` (anywhere on the line) shows the traceback of an internal error."""
    from jaxdl.config import split_config_args

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        if argv[:2] == ["exam", "generate"]:
            return _exam_generate(argv[2:])
        if argv[:1] == ["launch"]:  # read before the --config.* overrides, which belong to its train command
            return _launch(argv[1:])
        argv, overrides = split_config_args(argv)
        args = build_parser().parse_args(argv)
        if overrides and not getattr(args, "accepts_overrides", False):
            raise UsageError(f"jaxdl {args.command}: takes no --config.NAME=VALUE overrides")
        args.overrides = overrides
        args.argv = argv
        return args.run(args)
    except InputError as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        if not message.startswith("jaxdl"):
            message = f"jaxdl: error: {message}"
        print(message, file=sys.stderr)
        return 2
    except OSError as e:  # a path the user gave: missing, a directory, not writable, a full disk
        where = f" {e.filename!r}" if e.filename else ""
        print(f"jaxdl: error: cannot use{where}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxdl: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - jaxdl's own bug: visible, never reported as bad input
        if debug:
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        print(f"jaxdl: internal error: {type(e).__name__}: {first[:300]} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
