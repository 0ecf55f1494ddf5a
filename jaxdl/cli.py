"""The ``jaxdl`` command: argument parsing and printing only; every command calls the library.

Exit codes: 0 success, 1 a check failed, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import math
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0; got {text}")
    return value


def _time_limit(text: str) -> float:
    value = _positive_float(text)
    if value > 1e6:  # the wait is counted in milliseconds in a C int: about 24 days at most
        raise argparse.ArgumentTypeError(f"expected at most 1000000 seconds; got {text}")
    return value


def _memory_limit(text: str) -> int:
    value = _positive_int(text)
    if not 256 <= value <= 1 << 30:  # below 256 MB numpy itself cannot start
        raise argparse.ArgumentTypeError(f"expected a number of megabytes from 256 to {1 << 30}; got {value}")
    return value


def _check_writable(command: str, path: str) -> None:
    """Refuses, before any work, an output path that cannot be written (a folder, a path under a
    file, a read-only folder)."""
    from jaxdl.fileio import unwritable_reason

    reason = "it is a directory" if os.path.isdir(path) else unwritable_reason(path)
    if reason:
        raise UsageError(f"{command}: cannot write {path!r}: {reason}")


def _write_json(path: str | None, payload) -> None:
    """Writes ``payload`` as JSON, atomically (an OSError is reported as one line, exit 2)."""
    if not path:
        return
    from jaxdl.fileio import write_atomically

    write_atomically(path, json.dumps(payload, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# gradcheck


def _fmt(x: float) -> str:
    return f"{x:.1e}"


def _cmd_gradcheck(args) -> int:
    from jaxdl.check import TOLERANCES, check_registry
    from jaxdl.registry import REGISTRY

    reports = check_registry(args.names)
    width = max(len(r.name) for r in reports) + 2
    print("Gradient check in float64: hand-derived backward vs jax.vjp (autodiff) vs central finite differences")
    print(f"pass: |manual − autodiff| <= {TOLERANCES['vs_autodiff']:.0e}, "
          f"|· − finite diff| <= {TOLERANCES['vs_finite_diff']:.0e}\n")
    print(f"{'layer':<{width}}{'input':<18}{'ok':<6}{'vs autodiff':>13}{'vs fin. diff':>14}  tensors")
    for r in reports:
        shape = "(" + ",".join(map(str, r.input_shape)) + ")"
        status = ("ok" if r.backward == "hand-derived" else "auto") if r.ok else "FAIL"
        names = ", ".join(t.tensor for t in r.tensors)
        if len(r.tensors) > 4:
            names = f"x and {len(r.tensors) - 1} parameter tensors"
        line = f"{r.name:<{width}}{shape:<18}{status:<6}{_fmt(r.max_abs_err_vs_autodiff):>13}"
        line += f"{_fmt(r.max_abs_err_vs_finite_diff):>14}  {names}"
        if r.inverse is not None:
            line += f"  | inverse: round trip {_fmt(r.inverse['round_trip_rel_err'])}, log-det {_fmt(r.inverse['log_det_abs_err'])}"
        print(line)
        if r.error:
            print(f"    error: {r.error}")
        for t in r.tensors:
            if not t.ok:
                print(
                    f"    {t.tensor} {t.shape}: |manual − autodiff| = {_fmt(t.max_abs_err_vs_autodiff)} "
                    f"(rel {_fmt(t.max_rel_err_vs_autodiff)}) at {t.worst_index_vs_autodiff}; "
                    f"|manual − finite diff| = {_fmt(t.max_abs_err_vs_finite_diff)} at {t.worst_index_vs_finite_diff}"
                )
    failed = [r.name for r in reports if not r.ok]
    auto = [r.name for r in reports if r.ok and r.backward == "autodiff"]
    print(f"\n{len(reports) - len(failed) - len(auto)}/{len(reports)} layers ok"
          + (f"; {len(auto)} with an autodiff backward, not hand-derived (not a proven formula): {', '.join(auto)}"
             if auto else "")
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    if args.formulas:
        print("\nFormulas (forward; backward) and the check of every registry entry of that layer:")
        by_base: dict[str, list] = {}
        for r in reports:
            by_base.setdefault(r.name.split("/")[0], []).append(r)
        for base, group in by_base.items():
            layer, _ = REGISTRY[group[0].name]()
            verdict = "ok" if all(r.ok for r in group) else "FAIL"
            print(f"  [{verdict}] {base}: {layer.formula}")
    _write_json(args.json, {"layers": [r.to_json() for r in reports]})
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------
# exam


def _non_finite(tree, path="") -> str | None:
    """The path of the first NaN or infinite number in a JSON-like answer, or ``None``."""
    if isinstance(tree, float):
        return None if math.isfinite(tree) else path or "the answer"
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return None
    for k, v in items:
        found = _non_finite(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def _problem_ok(name: str, result: dict) -> bool:
    if name == "tictactoe":
        return result["accuracy"] == 1.0
    if name == "lstm":
        return result["agree"]
    if name == "resblock":
        return result["cross_check"]["ok"]
    return result.get("ok", True)


def _write_pictures(args, results: dict, scratch: str | None = None) -> dict[str, str]:
    """Draws the sheets' pictures (E1's graphs, E3's board and filter) into ``--graphs DIR``, or
    beside the ``--markdown`` sheet (or into ``scratch`` for an HTML or PDF sheet alone); a
    picture that cannot be drawn is said on stderr."""
    from jaxdl.exams.figures import write_figures

    directory = args.graphs
    if directory is None and args.markdown:
        directory = os.path.splitext(args.markdown)[0] + "_figures"
    directory = directory or scratch
    if directory is None:
        return {}
    figures, warnings = write_figures(results, directory, args.lang)
    for w in warnings:
        print(f"jaxdl exam: warning: {w}", file=sys.stderr)
    if directory != scratch:
        for path in figures.values():
            print(f"  wrote {path} (and .png)")
    return figures


WIDTH = 100  # the printed answers' longest line


def _wrapped(text: str, width: int = WIDTH) -> str:
    """Each line of ``text`` wrapped at ``width``, continuations indented 4 past the line's own
    indentation (long answers stay readable in an 80–120 column terminal)."""
    import textwrap

    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "    ", break_long_words=False,
                                 break_on_hyphens=False) if len(line) > width else line)
    return "\n".join(out)


def _print_errata(errata, lang) -> None:
    from jaxdl.exams.sheet import erratum_text

    s = lang.s
    places = lang.count(len(errata), "mjesto", "mjesta", "mjesta")
    print(s(f"\nIspravci: {places} na kojima se službena rješenja ne slažu s provjerenim odgovorom",
            f"\nErrata: {len(errata)} place{'s' if len(errata) != 1 else ''} where the seeds' official solutions "
            "disagree with the verified answer"))
    for e in errata:
        t = erratum_text(e, lang)
        kind = "" if e.get("kind", "bug") == "bug" else f" ({e['kind']})"
        lines = [f"  [{e['problem']}]{kind} {s('službeno', 'official')}: {t['seed']}",
                 f"      {s('ispravno', 'verified')}: {t['verified']}"]
        if t.get("assumes"):
            lines.append(f"      {s('pretpostavljeno tumačenje', 'reading assumed')}: {t['assumes']}")
        lines.append(f"      {s('dokaz', 'evidence')}: {t['evidence']}")
        print(_wrapped("\n".join(lines)))


def _cmd_exam(args) -> int:
    from jaxdl import exams
    from jaxdl.exams.lang import Lang

    lang = Lang(args.lang)
    if args.problem == "all":
        if args.config or args.overrides:
            raise UsageError("jaxdl exam all: runs every problem with its default config; give --config to one problem")
        if any(v is not None for v in (args.input_size, args.hidden_size, args.num_layers)):
            raise UsageError("jaxdl exam: --input-size, --hidden-size and --num-layers belong to 'exam lstm'")
        names = list(exams.PROBLEMS)
    else:
        if args.problem == "lstm":  # the config's fields, under their own options too
            sizes = {"input_size": args.input_size, "hidden_size": args.hidden_size, "num_layers": args.num_layers}
            args.overrides = [*args.overrides, *(f"{k}={v}" for k, v in sizes.items() if v is not None)]
        elif any(v is not None for v in (args.input_size, args.hidden_size, args.num_layers)):
            raise UsageError("jaxdl exam: --input-size, --hidden-size and --num-layers belong to 'exam lstm'")
        names = [args.problem]
    outputs = {"--json": args.json, "--markdown": args.markdown, "--html": args.html, "--pdf": args.pdf}
    for option, path in outputs.items():
        if path:
            _check_writable(f"jaxdl exam {option}", path)
    given = [os.path.abspath(p) for p in outputs.values() if p]
    if len(given) != len(set(given)):
        raise UsageError("jaxdl exam: two of --json, --markdown, --html and --pdf name the same file")
    if args.graphs and os.path.exists(args.graphs) and not os.path.isdir(args.graphs):
        raise UsageError(f"jaxdl exam --graphs: {args.graphs!r} is a file; expected a folder")
    if args.pdf:
        from jaxdl.render import browser

        if browser() is None:
            raise UsageError("jaxdl exam --pdf: no Chromium found (install Debian's chromium, or Chrome): the PDF is "
                             "printed from the sheet's HTML by a headless browser")
    if args.problem == "all":
        results = exams.solve_all()
    else:
        results = {args.problem: exams.solve(args.problem, args.config, args.overrides)}
    failed = []
    if lang.code == "en":
        for i, name in enumerate(names):
            if i:
                print()
            print(_wrapped(exams.report(name, results[name])))
    else:
        from jaxdl.exams import sheet

        print(_wrapped(sheet.printout(results, names, lang.code)))
    for name in names:
        bad = _non_finite(results[name])
        if bad:  # a NaN or infinite answer is never a result (e.g. a learning rate of 1e999)
            print(f"  FAILED: {name}: the answer holds a non-finite number at {bad}")
        if bad or not _problem_ok(name, results[name]):
            failed.append(name)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="jaxdl-sheet-") as scratch:
        figures = _write_pictures(args, results, scratch if (args.html or args.pdf) else None)
        errata = results["errata"] if args.problem == "all" else results[args.problem].get("errata", [])
        if errata:
            _print_errata(errata, lang)
        if failed:
            print(f"\nFAILED checks: {', '.join(failed)}")
        _write_json(args.json, results if args.problem == "all" else results[args.problem])
        _write_sheets(args, results, names, figures, lang.code, scratch)
    return 1 if failed else 0


def exam_generate_parser() -> argparse.ArgumentParser:
    """The parser of ``jaxdl exam generate`` (read apart from ``jaxdl exam``'s, whose problem is a choice)."""
    from jaxdl.exams.families import FAMILIES

    p = _Parser(prog="jaxdl exam generate",
                description="New variants of the exam's problems: new givens a student can work by hand, each key "
                            "published only when jaxdl's hand-derived computation, autodiff and finite differences "
                            "(or a closed form) agree in float64. Writes OUT/variants.json (one record per variant: "
                            "what `jaxdl exam PROBLEM --json` writes, with problem, variant and seed), each variant's "
                            "students' and teaching assistants' sheet, and a Moodle question bank.")
    p.add_argument("problem", metavar="PROBLEM", help=f"one of {', '.join(FAMILIES)}, or all")
    p.add_argument("--seed", default="0", help="an integer >= 0 (default 0): the same seed gives the same files")
    p.add_argument("--count", type=_positive_int, default=10, help="variants per problem (default 10)")
    p.add_argument("--out", metavar="DIR", help="the folder to write into (variants.json, PROBLEM/…-teachers.md, …)")
    p.add_argument("--lang", choices=("hr", "en"), default="en", help="the sheets' and the bank's language (en)")
    p.add_argument("--moodle", metavar="FILE", help="also write the variants as a Moodle XML question bank")
    p.add_argument("--pdf", action="store_true", help="also print every sheet as a PDF (headless Chromium)")
    p.add_argument("--stress", type=_positive_int, metavar="N",
                   help="draw and verify N variants of each problem and report the refused draws and the largest "
                        "disagreement (writes nothing)")
    return p


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


def _exam_generate(argv: list[str]) -> int:
    """``jaxdl exam generate``: next year's exam, every key verified three ways."""
    from jaxdl.exams import generate
    from jaxdl.fileio import unwritable_reason

    args = exam_generate_parser().parse_args(argv)
    problems = generate.check_problem(args.problem)
    seed = generate.check_seed(args.seed)
    if args.stress is not None:
        given = [o for o, v in (("--out", args.out), ("--moodle", args.moodle), ("--pdf", args.pdf)) if v]
        if given:
            raise UsageError(f"jaxdl exam generate --stress: writes nothing; drop {', '.join(given)}")
    else:
        if not args.out:
            raise UsageError("jaxdl exam generate: expected --out DIR (or --stress N)")
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise UsageError(f"jaxdl exam generate --out: {args.out!r} is a file; expected a folder")
        reason = unwritable_reason(os.path.join(args.out, "variants.json"))
        if reason:
            raise UsageError(f"jaxdl exam generate --out: cannot write into {args.out!r}: {reason}")
        if args.moodle:
            _check_writable("jaxdl exam generate --moodle", args.moodle)
        if args.pdf:
            from jaxdl.render import browser

            if browser() is None:
                raise UsageError("jaxdl exam generate --pdf: no Chromium found (install Debian's chromium, or Chrome)")
    try:
        if args.stress is not None:
            import time

            start = time.perf_counter()
            rows = generate.stress(problems, args.stress, seed)
            print(generate.stress_report(rows))
            print(f"{args.stress} variants of each of {len(rows)} problem{'s' if len(rows) > 1 else ''} drawn and verified "
                  f"in {time.perf_counter() - start:.1f} s (compilation included)")
            return 0
        from tqdm import tqdm

        records = []
        with tqdm(total=len(problems) * args.count * 2, desc="variants", unit="step", disable=None,
                  file=sys.stderr) as bar:
            for problem in problems:
                records += generate.records(problem, seed, args.count, progress=bar.update)
            written = generate.write(records, args.out, args.lang, args.moodle, args.pdf, progress=bar.update)
    except generate.KeyDisagreement as e:
        print(f"jaxdl exam generate: FAILED: {e}", file=sys.stderr)
        return 1
    sheets = sum(1 for w in written if w.endswith((".md", ".html", ".pdf")))
    print(f"{len(records)} variants of {', '.join(problems)} (seed {seed}), every key verified three ways")
    print(f"  wrote {os.path.join(args.out, 'variants.json')} and {sheets} sheets under {args.out}"
          + (f"; the Moodle bank {args.moodle}" if args.moodle else ""))
    return 0


def _write_sheets(args, results: dict, names: list, figures: dict, lang: str, scratch: str) -> None:
    """The solution sheet as Markdown, HTML and PDF, as asked (all written atomically)."""
    from jaxdl import render
    from jaxdl.exams import sheet
    from jaxdl.fileio import write_atomically

    if args.markdown:
        text = sheet.markdown(results, names, sheet.relative_figures(figures, args.markdown), lang, args.edition)
        write_atomically(args.markdown, text)
        print(f"  wrote {args.markdown} (the solution sheet)")
    if args.html or args.pdf:
        text = sheet.markdown(results, names, {k: os.path.abspath(v) for k, v in figures.items()}, lang, args.edition)
        title = text.splitlines()[0].lstrip("# ")
        page = render.standalone(text, title, lang, scratch, render.PRINT_STYLE)
        if args.html:
            write_atomically(args.html, page)
            print(f"  wrote {args.html} (the solution sheet as a page: pictures inside, prints on A4)")
        if args.pdf:
            html_path = os.path.join(scratch, "sheet.html")
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(page)
            tmp_pdf = os.path.join(scratch, "sheet.pdf")
            render.print_pdf(html_path, tmp_pdf)
            os.makedirs(os.path.dirname(os.path.abspath(args.pdf)), exist_ok=True)
            os.replace(tmp_pdf, args.pdf) if os.path.dirname(os.path.abspath(args.pdf)) == scratch else \
                _copy_atomically(tmp_pdf, args.pdf)
            print(f"  wrote {args.pdf} (the solution sheet, A4, printed by a headless Chromium)")


def _copy_atomically(src: str, dst: str) -> None:
    import shutil
    import tempfile

    folder = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(dst)}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _cmd_count_wins(args) -> int:
    import numpy as np

    from jaxdl.models.tictactoe import count_wins

    try:
        images = np.load(args.file, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"tictactoe count-wins: cannot read {args.file!r} as a .npy array: {e}") from None
    result = count_wins(images)
    print(f"{result['count']} of {result['n']} games are X wins")
    _write_json(args.json, result)
    return 0


# --------------------------------------------------------------------------------------------
# check-numpy


def _refuse_option_files(argv) -> None:
    """A file named like an option (``--layer=ReLU``), expanded by the shell from ``*``, would
    change how every submission is graded: refused, with the way out."""
    for arg in argv:
        if arg == "--":
            return
        if arg.startswith("-") and os.path.lexists(arg):
            raise UsageError(f"jaxdl check-numpy: {arg!r} is an option and also a file here (a shell pattern "
                             "expanded to it?): put -- before the paths, or write ./* instead of *")


def _cmd_check_numpy(args) -> int:
    from jaxdl.check import numpy_check as nc
    from jaxdl.check.numpy_check.results import terminal

    _refuse_option_files(getattr(args, "argv", ()))
    outputs = [p for p in (args.gradebook, args.json) if p]
    if len(outputs) == 2 and os.path.abspath(args.gradebook) == os.path.abspath(args.json):
        raise UsageError("jaxdl check-numpy: --gradebook and --json name the same file")
    if args.layer and (args.require or args.assignment):
        raise UsageError("jaxdl check-numpy: --layer and --require/--assignment both choose the classes; give one")
    assignment = nc.load_assignment(args.assignment, args.require)  # exit 2 before any work
    for layer in args.layer or ():
        if not layer.isidentifier():
            from jaxdl.check.numpy_check.build import check_expression

            check_expression(layer)
    subs = nc.find_submissions(args.paths, args.entry)  # BadPath (exit 2) before any work
    inputs = {os.path.realpath(p) for p in args.paths} | {os.path.realpath(s.file) for s in subs if s.file}
    for out in outputs:
        if os.path.realpath(out) in inputs:
            raise UsageError(f"jaxdl check-numpy: refusing to write {out!r}: it is one of the files being checked")
        _check_writable("jaxdl check-numpy", out)
    opts = nc.Options(tuple(args.layer or ()), 0, args.time_limit, args.memory_limit, args.sandbox, assignment)
    from jaxdl.check.numpy_check import sandbox

    mode = nc.grade_mode(opts, len(subs), args.allow_weaker_sandbox)  # WeakSandbox (exit 2) before any work
    walls = sandbox.machine_walls()
    if mode == "namespaces":
        print(f"check-numpy: sandbox: namespaces (user, pid, net, mount, ipc, uts), Landlock ABI {walls['landlock']}, "
              f"{'seccomp' if walls['seccomp'] else 'no seccomp'}, CPU, memory, process and disk limits", file=sys.stderr)
    else:
        print(f"check-numpy: sandbox: WEAKER ({mode}: " + ("Landlock and seccomp where the kernel has them, and limits"
              if mode == "process" else "resource limits only") + f"; no namespaces: {walls['why'] or 'not asked for'}); "
              "a student's code can see this machine's files and network", file=sys.stderr)
    results = nc.grade(args.paths, entry=args.entry, jobs=args.jobs, progress=not args.no_progress, opts=opts,
                       allow_weaker=True)
    if len(results) == 1 and not assignment:
        _print_submission_detail(results[0])
    else:
        _print_class_summary(results)
    for r in results:  # one line per submission that could not be checked, on stderr too
        if r.error:
            print(terminal(f"{r.name}: {r.error}"), file=sys.stderr)
    internal = [r for r in results if r.internal]
    if internal:
        print(f"jaxdl check-numpy: the checker itself failed on {len(internal)} submission(s) (a bug in jaxdl; "
              "each is a failing row, and --json holds the traceback)", file=sys.stderr)
    # Every student process has ended (grade returns only then): the results are written now.
    try:
        if args.gradebook:
            nc.write_atomically(args.gradebook, nc.gradebook_csv(results, args.gradebook_format, args.pseudonymize))
        if args.json:
            nc.write_atomically(args.json, nc.report_json(results, args.pseudonymize))
    except OSError as e:
        print(f"jaxdl check-numpy: could not write the results to {e.filename or 'the output'!r}: "
              f"{e.strerror or e} (nothing was written there)", file=sys.stderr)
        return 1
    return 0 if all(r.ok for r in results) and not internal else 1


def _print_submission_detail(r) -> None:
    from jaxdl.check.numpy_check.results import terminal as t

    print(f"check-numpy {t(r.name)}: float64, finite differences of your own forward, and jaxdl's layers")
    if r.error:
        print(f"\nFAIL {t(r.error)}")
        return
    for c in r.classes:
        passed = sum(k.ok for k in c.checks)
        print(f"\n{'ok  ' if c.ok else 'FAIL'} {t(c.cls)}  ({passed}/{len(c.checks)} checks)   built as {t(c.built_as)}")
        blocked: dict[str, list] = {}  # the checks a failure kept from running: one line per reason
        for k in c.checks:
            if k.ok:
                continue
            if k.detail.startswith("could not run: "):
                blocked.setdefault(k.detail.removeprefix("could not run: "), []).append(k.name)
            else:
                print(f"      ✗ {t(k.name)}: {t(k.detail)}" if k.detail else f"      ✗ {t(k.name)}")
        for reason, names in blocked.items():
            more = f" (and {len(names) - 1} more check{'s' if len(names) > 2 else ''} that need it)" if len(names) > 1 else ""
            print(f"      ✗ {t(names[0])}: could not run: {t(reason)}{more}")
        for note in c.notes:
            print(f"      note: {t(note)}")
    for note in r.notes:
        print(f"\nnote: {t(note)}")
    failed = [t(c.cls) for c in r.classes if not c.ok]
    print(f"\n{len(r.classes) - len(failed)}/{len(r.classes)} classes ok" + (f"; failing: {', '.join(failed)}" if failed else ""))


def _print_class_summary(results) -> None:
    from jaxdl.check.numpy_check.results import terminal as t

    width = min(max(len(t(r.name)) for r in results) + 2, 48)
    print(f"check-numpy: {len(results)} submissions (float64, finite differences and jaxdl's layers)\n")
    for r in results:
        ok = sum(c.ok for c in r.classes)
        status = "ok  " if r.ok else "FAIL"
        points = f"  {r.points:g}/{r.out_of:g} points" if r.out_of else ""
        print(f"{status} {t(r.name):<{width}} " + (t(r.error) if r.error else f"{ok}/{len(r.classes)} classes ok") + points)
        for c in r.classes:
            if not c.ok:
                print(f"       ✗ {t(c.cls)}: {t(c.first_failure)}")
    passed = sum(r.ok for r in results)
    print(f"\n{passed}/{len(results)} submissions pass")


# --------------------------------------------------------------------------------------------
# train


def _train_config_path(arg: str):
    """A config file's path, or an experiment's name (its config among jaxdl's own)."""
    from jaxdl.config import default_config_path
    from jaxdl.train.experiments import EXPERIMENTS

    if os.path.isfile(arg) or arg.endswith(".py") or os.sep in arg:
        return arg
    if arg in EXPERIMENTS:
        return str(default_config_path(EXPERIMENTS[arg].config))
    raise UsageError(f"jaxdl train: {arg!r} is neither a config file nor an experiment; "
                     f"known: {', '.join(EXPERIMENTS)} (jaxdl train --list)")


def _cmd_train(args) -> int:
    from jaxdl.config import load_config
    from jaxdl.train import experiments
    from jaxdl.train.trainer import TrainingDiverged

    if args.list:
        width = max(map(len, experiments.EXPERIMENTS)) + 2
        for name, e in experiments.EXPERIMENTS.items():
            print(f"{name:<{width}}{e.description}")
        return 0
    if not args.config_file or not args.workdir:
        raise UsageError("jaxdl train: give an experiment (or a config file) and --workdir DIR; "
                         "jaxdl train --list lists the experiments")
    from jaxdl.train import distributed

    cluster = distributed.parse(args.coordinator, args.num_processes, args.process_id)
    cfg = load_config(_train_config_path(args.config_file), args.overrides)
    if "experiment" not in cfg:
        raise InputError(f"train: {args.config_file!r} names no experiment (config.experiment)")
    if cluster is not None:
        if "distributed" not in cfg:
            raise InputError(f"train: {args.config_file!r} has no distributed field (base_config gives it one)")
        cfg.distributed.coordinator_address = cluster.coordinator
        cfg.distributed.num_processes = cluster.num_processes
        cfg.distributed.process_id = cluster.process_id
    try:
        summary = experiments.run(cfg, args.workdir, progress=not args.no_progress, explicit=args.overrides)
    except TrainingDiverged as e:
        print(str(e), file=sys.stderr)
        return 1
    except distributed.DistributedError as e:
        # One line, then out at once: JAX's own shutdown would wait on the lost process and abort.
        print(str(e), file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)
    skip = {"confusion_matrix", "plots", "generated", "already_finished", "compile_seconds", "processes"}
    if summary.get("already_finished"):
        print(f"{summary['experiment']}: already finished ({summary['steps']} steps) in workdir {args.workdir}; "
              "its summary (raise --config.num_steps to train further):")
    else:
        print(f"{summary['experiment']}: {summary['steps']} steps in {summary['wall_seconds']:.1f} s on "
              f"{summary['devices']} device(s) ({summary.get('compile_seconds', 0):.1f} s compiling); "
              f"workdir {args.workdir}")
    for k, v in summary.items():
        if k in skip or k in ("experiment", "steps", "wall_seconds", "devices"):
            continue
        print(f"  {k}: {v:.6g}" if isinstance(v, float) else f"  {k}: {v}")
    for path in summary.get("plots", []):
        print(f"  wrote {path}")
    return 0


# --------------------------------------------------------------------------------------------
# bench


def _cmd_site(args) -> int:
    from jaxdl import site

    if not os.path.isdir(args.results):
        raise UsageError(f"jaxdl site: --results {args.results!r} is not a folder; expected where `make run` wrote "
                         "its results (results/)")
    out = args.out or os.path.join(args.results, "site")
    _check_writable("jaxdl site --out", os.path.join(out, "index.html"))
    index, warnings = site.build(args.results, out, args.lang)
    for w in warnings:
        print(f"jaxdl site: warning: {w}", file=sys.stderr)
    print(f"the course page: {os.path.abspath(index)}")
    return 0


def _cmd_docs(args) -> int:
    from jaxdl import docs

    if not os.path.isfile(os.path.join(args.root, "docs", "exams.md")):
        raise UsageError(f"jaxdl docs: --root {args.root!r} holds no docs/exams.md; expected jaxdl's checkout")
    for what in docs.write(args.root, args.results):
        print(f"  rewrote {what}")
    return 0


def _cmd_bench(args) -> int:
    from jaxdl import bench
    from jaxdl.bench.harness import format_seconds

    names = args.suite or (["manual_vs_autodiff"] if args.layer else None)
    if args.layer and names != ["manual_vs_autodiff"]:
        raise UsageError("jaxdl bench: --layer belongs to --suite manual_vs_autodiff")
    if names:  # validated before anything runs
        unknown = [n for n in names if n not in bench.SUITES]
        if unknown:
            raise UsageError(f"jaxdl bench: unknown suite {unknown[0]!r}; known: {', '.join(bench.SUITES)}")
    report = bench.run(names, quick=args.quick, layers=args.layer,
                       progress=None if args.json == "-" else (lambda n: print(f"… {n}", file=sys.stderr, flush=True)))
    env, lim = report["environment"], report["limits"]
    print(f"jaxdl bench{' --quick' if args.quick else ''} on {env['device']} ({env['cpu_count']} CPUs), "
          f"jax {env['versions'].get('jax')}" + (f", torch {env['versions']['torch']}" if "torch" in env["versions"] else ", no PyTorch"))
    spread = lambda v: f"runs {v[0]:.0f}–{v[2]:.0f}"  # noqa: E731
    by_lib = ", ".join(f"{k} {v['best']:.0f}" for k, v in lim.get("matmul_by_library", {}).items())
    print(f"machine limits measured now: float32 matmul {lim['matmul_gflops']:.0f} GFLOP/s ({lim['matmul_size']}², "
          f"{lim.get('matmul_library', 'xla')}'s, {spread(lim['matmul_gflops_spread'])}; best per library: {by_lib}); "
          f"copy with donated buffers "
          f"{lim['copy_cache_gbps']:.0f} GB/s in cache ({lim['copy_cache_mib']} MiB, {spread(lim['copy_cache_gbps_spread'])}), "
          f"{lim['copy_gbps']:.1f} GB/s from DRAM ({lim['copy_mib']} MiB, {spread(lim['copy_gbps_spread'])})")
    for name, suite in report["suites"].items():
        busy = suite.get("busy_other_cores")
        print(f"\n== {name} ({suite['wall_seconds']:.0f} s" + (f"; other processes: {busy:.2f} cores busy" if busy is not None else "")
              + ")")
        case = None
        cases = list(dict.fromkeys(r["case"] for r in suite["rows"]))
        for r in sorted(suite["rows"], key=lambda r: cases.index(r["case"])):
            if r["case"] != case:
                case = r["case"]
                print(f"  {case}")
            extra = []
            if r["ratio"] is not None and r["candidate"] != r["reference"]:
                extra.append(f"{r['ratio']:.2f}× {r['reference']}")
            if r["gflops"] is not None:
                extra.append(f"{r['gflops']:.1f} GFLOP/s")
            if r["gbps"] is not None:
                extra.append(f"{r['gbps']:.1f} GB/s")
            if r["note"]:
                extra.append(r["note"])
            print(f"    {r['candidate']:<58} {format_seconds(r['median_s']):>10}   {'; '.join(extra)}")
        for note in suite["notes"]:
            print(f"  note: {note}")
        for t in suite["targets"]:
            verdict = {True: "met", False: "NOT MET", None: "n/a"}[t["met"]]
            print(f"  target [{verdict}] {t['target']}: {t['detail']}")
    print(f"\ntotal {report['wall_seconds']:.0f} s")
    if args.plots:
        for path in bench.plot(report, args.plots):
            print(f"wrote {path}")
    _write_json(args.json, report)
    return 0


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
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
                       description="Each PATH is a .py file (one submission) or a folder whose .py files and "
                                   "student subfolders (holding --entry) are submissions. Students' code runs "
                                   "only in separate worker processes with time and memory limits.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a .py file or a folder of submissions")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="a class name, or a constructor expression like 'Swish(name=\"s\", beta=1.5)' (repeatable)")
    p.add_argument("--entry", default="layers.py", metavar="NAME",
                   help="the file checked in each student folder (default layers.py)")
    p.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="submissions graded at once (default: the number of cores)")
    p.add_argument("--gradebook", metavar="FILE.csv", help="write one row per submission and class as CSV")
    p.add_argument("--json", metavar="FILE", help="write every check of every submission as JSON")
    p.add_argument("--time-limit", type=_time_limit, default=20.0, metavar="SECONDS",
                   help="stop a call into the student's code that uses more CPU time (default 20)")
    p.add_argument("--memory-limit", type=_memory_limit, default=2048, metavar="MB",
                   help="the student's process's address-space limit (default 2048)")
    p.add_argument("--require", metavar="CLASSES", help="the classes every submission must have, e.g. FC,ReLU,Convolution "
                                                        "(a missing one is a failing row)")
    p.add_argument("--assignment", metavar="FILE.toml",
                   help="the required classes, how each is built and its points (see the README)")
    p.add_argument("--gradebook-format", choices=("jaxdl", "moodle", "canvas"), default="jaxdl",
                   help="jaxdl: one row per submission and class; moodle/canvas: the platform's grade import")
    p.add_argument("--pseudonymize", action="store_true", help="ids instead of names in the gradebook and the JSON")
    p.add_argument("--sandbox", choices=("auto", "namespaces", "process", "plain"), default="auto",
                   help="the workers' walls (default: the strongest this machine allows)")
    p.add_argument("--allow-weaker-sandbox", action="store_true",
                   help="grade a folder of submissions even where the sandbox's namespaces cannot be made")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
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
