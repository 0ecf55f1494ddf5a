"""The library side of ``jaxdl exam`` and ``jaxdl exam generate``: a request in, the outcome out
(results, what was written, what failed), every decision made here once; the command line only
parses and prints.

Example::

  >>> outcome = exam(ExamRequest(problem="rnn"))
  >>> outcome.names, outcome.failed
  (['rnn'], [])
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import textwrap
import time

from jaxdl import exams
from jaxdl.errors import InputError
from jaxdl.exams import generate, sheet
from jaxdl.exams.lang import Lang
from jaxdl.fileio import check_writable, copy_atomically, unwritable_reason, write_atomically

WIDTH = 100  # the printed answers' longest line


def wrapped(text: str, width: int = WIDTH) -> str:
    """Each line of ``text`` wrapped at ``width``, continuations indented 4 past the line's own
    indentation (long answers stay readable in an 80–120 column terminal)."""
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "    ", break_long_words=False,
                                 break_on_hyphens=False) if len(line) > width else line)
    return "\n".join(out)


def errata_text(errata: list[dict], lang: Lang) -> str:
    """The errata as the console shows them: a heading, then per place the official text, the
    verified answer, the reading assumed and the evidence."""
    s = lang.s
    places = lang.count(len(errata), "mjesto", "mjesta", "mjesta")
    lines = [s(f"\nIspravci službenih rješenja ({places}), svaki s dokazom",
               f"\nErrata: {len(errata)} place{'s' if len(errata) != 1 else ''} where the seeds' official solutions "
               "disagree with the verified answer")]
    for e in errata:
        t = sheet.erratum_text(e, lang)
        kind = "" if e.get("kind", "bug") == "bug" else f" ({lang.t('kind.' + e['kind']).split(' (')[0]})"
        source = s("zadatak", "the question") if e.get("kind") == "reading" else s("službeno", "official")
        lines += [f"  [{e['problem']}]{kind} {source}: {t['seed']}",
                  f"      {s('ispravno', 'verified')}: {t['verified']}"]
        if t.get("assumes"):
            lines.append(f"      {s('pretpostavljeno tumačenje', 'reading assumed')}: {t['assumes']}")
        lines.append(f"      {s('dokaz', 'evidence')}: {t['evidence']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# jaxdl exam


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExamRequest:
    """What ``jaxdl exam`` was asked: a problem (or ``"all"``), its config and ``NAME=VALUE``
    overrides, E4's sizes under their own names, the language and edition, and the outputs."""

    problem: str
    config: str | None = None
    overrides: tuple[str, ...] = ()
    sizes: dict = dataclasses.field(default_factory=dict)  # E4: input_size, hidden_size, num_layers
    lang: str = "en"
    edition: str = "teachers"
    json: str | None = None
    markdown: str | None = None
    html: str | None = None
    pdf: str | None = None
    graphs: str | None = None


@dataclasses.dataclass(kw_only=True)
class ExamOutcome:
    """What ``jaxdl exam`` did: the problems solved and their results, the readable answers, the
    problems whose checks failed (and where an answer is not finite), the errata, the pictures
    drawn into ``--graphs`` and the files written (path, what it is)."""

    names: list
    results: dict
    printout: str
    non_finite: dict
    failed: list
    errata: list
    pictures: list
    written: list
    warnings: list
    lang: str = "en"

    @property
    def text(self) -> str:
        """What ``jaxdl exam`` prints: the answers, the pictures and files written, the errata and
        the checks that failed."""
        lines = [wrapped(self.printout)]
        lines += [f"  FAILED: {name}: the answer holds a non-finite number at {where}"
                  for name, where in self.non_finite.items()]  # a NaN or infinite answer is never a result
        lines += [f"  wrote {path} (and .png)" for path in self.pictures]
        if self.errata:
            lines.append(wrapped(errata_text(self.errata, Lang(self.lang))))
        if self.failed:
            lines.append(f"\nFAILED checks: {', '.join(self.failed)}")
        lines += [f"  wrote {path} ({what})" for path, what in self.written]
        return "\n".join(lines)


def _check_exam(req: ExamRequest) -> tuple[list[str], tuple[str, ...]]:
    """Every refusal of a request, before any work: ``(problems, overrides)``."""
    Lang(req.lang)
    sizes = {k: v for k, v in req.sizes.items() if v is not None}
    if req.problem == "all":
        if req.config or req.overrides:
            raise InputError("jaxdl exam all: runs every problem with its default config; give --config to one problem")
        names = list(exams.PROBLEMS)
    else:
        exams.registry.get(req.problem)
        names = [req.problem]
    if sizes and req.problem != "lstm":
        raise InputError("jaxdl exam: --input-size, --hidden-size and --num-layers belong to 'exam lstm'")
    outputs = {"--json": req.json, "--markdown": req.markdown, "--html": req.html, "--pdf": req.pdf}
    for option, path in outputs.items():
        if path:
            check_writable(f"jaxdl exam {option}", path)
    given = [os.path.abspath(p) for p in outputs.values() if p]
    if len(given) != len(set(given)):
        raise InputError("jaxdl exam: two of --json, --markdown, --html and --pdf name the same file")
    if req.graphs and os.path.exists(req.graphs) and not os.path.isdir(req.graphs):
        raise InputError(f"jaxdl exam --graphs: {req.graphs!r} is a file; expected a folder")
    if req.pdf:
        from jaxdl.render import browser

        if browser() is None:
            raise InputError("jaxdl exam --pdf: no Chromium found (install Debian's chromium, or Chrome): the PDF is "
                             "printed from the sheet's HTML by a headless browser")
    return names, (*req.overrides, *(f"{k}={v}" for k, v in sizes.items()))


def exam(req: ExamRequest) -> ExamOutcome:
    """Solves the problems of ``req``, checks them, draws their pictures and writes the JSON and the
    sheets asked for (each file atomically). A bad request raises :class:`InputError` first."""
    names, overrides = _check_exam(req)
    lang = Lang(req.lang)
    if req.problem == "all":
        results = exams.solve_all()
    else:
        results = {req.problem: exams.solve(req.problem, req.config, overrides)}
    if lang.code == "en":
        printout = "\n\n".join(exams.report(name, results[name]) for name in names)
    else:
        printout = sheet.printout(results, names, lang.code)
    non_finite = {name: exams.non_finite(results[name]) for name in names if exams.non_finite(results[name])}
    failed = [name for name in names if not exams.ok(name, results[name])]
    errata = results["errata"] if req.problem == "all" else results[req.problem].get("errata", [])
    written: list = []
    with tempfile.TemporaryDirectory(prefix="jaxdl-sheet-") as scratch:
        directory = req.graphs or (os.path.splitext(req.markdown)[0] + "_figures" if req.markdown else None)
        pictures = []
        figures, warnings = {}, []
        if directory or req.html or req.pdf:
            figures, warnings = exams.draw_figures(results, directory or scratch, lang)
            pictures = list(figures.values()) if directory else []
        if req.json:
            import json

            write_atomically(req.json, json.dumps(results if req.problem == "all" else results[req.problem],
                                                  indent=2) + "\n")
        written = _write_sheets(req, results, names, figures, scratch)
    return ExamOutcome(names=names, results=results, printout=printout, non_finite=non_finite, failed=failed,
                       errata=errata, pictures=pictures, written=written, warnings=warnings, lang=lang.code)


def _write_sheets(req: ExamRequest, results: dict, names: list, figures: dict, scratch: str) -> list:
    """The solution sheet as Markdown, HTML and PDF, as asked: ``[(path, what it is), ...]``."""
    from jaxdl import render

    written = []
    if req.markdown:
        text = sheet.markdown(results, names, sheet.relative_figures(figures, req.markdown), req.lang, req.edition)
        write_atomically(req.markdown, text)
        written.append((req.markdown, "the solution sheet"))
    if req.html or req.pdf:
        text = sheet.markdown(results, names, {k: os.path.abspath(v) for k, v in figures.items()}, req.lang,
                              req.edition)
        title = text.splitlines()[0].lstrip("# ")
        page = render.standalone(text, title, req.lang, scratch, render.PRINT_STYLE)
        if req.html:
            write_atomically(req.html, page)
            written.append((req.html, "the solution sheet as a page: pictures inside, prints on A4"))
        if req.pdf:
            html_path, pdf_path = os.path.join(scratch, "sheet.html"), os.path.join(scratch, "sheet.pdf")
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(page)
            render.print_pdf(html_path, pdf_path)
            copy_atomically(pdf_path, req.pdf)
            written.append((req.pdf, "the solution sheet, A4, printed by a headless Chromium"))
    return written


# --------------------------------------------------------------------------------------------
# jaxdl exam generate


@dataclasses.dataclass(frozen=True, kw_only=True)
class GenerateRequest:
    """What ``jaxdl exam generate`` was asked: the problems (a name or ``"all"``), the seed, how
    many variants, where to write them and the bank, the language, PDFs; or ``stress`` N (draw
    and verify N variants per problem, writing nothing)."""

    problem: str
    seed: object = 0
    count: int = 10
    out: str | None = None
    lang: str = "en"
    moodle: str | None = None
    pdf: bool = False
    stress: int | None = None
    practice: str | None = None


@dataclasses.dataclass(kw_only=True)
class GenerateOutcome:
    """What ``jaxdl exam generate`` did: the problems and seed, the records and files written, or
    the stress rows; ``failure`` is a key the computations disagreed on (nothing was published)."""

    problems: list
    seed: int
    records: list = dataclasses.field(default_factory=list)
    written: list = dataclasses.field(default_factory=list)
    rows: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    notes: list = dataclasses.field(default_factory=list)
    failure: str | None = None
    request: GenerateRequest | None = None

    @property
    def text(self) -> str:
        """What ``jaxdl exam generate`` prints: the stress report, or what was drawn and written."""
        req = self.request
        if req.stress is not None:
            many = "s" if len(self.rows) > 1 else ""
            return (generate.stress_report(self.rows) + f"\n{req.stress} variants of each of {len(self.rows)} "
                    f"problem{many} drawn and verified in {self.seconds:.1f} s (compilation included)")
        lines = []
        if req.practice:
            lines.append(f"{req.count} variants of each of {', '.join(self.problems)}, every key verified three "
                         f"ways: the practice pool {req.practice}")
        if req.out:
            sheets = sum(1 for w in self.written if w.endswith((".md", ".html", ".pdf")))
            lines += [f"{len(self.records)} variants of {', '.join(self.problems)} (seed {self.seed}), every key "
                      "verified three ways",
                      f"  wrote {os.path.join(req.out, 'variants.json')} and {sheets} sheets under {req.out}"
                      + (f"; the Moodle bank {req.moodle}" if req.moodle else "")]
        return "\n".join(lines)


def _check_generate(req: GenerateRequest) -> tuple[list[str], int]:
    problems = generate.check_problem(req.problem)
    seed = generate.check_seed(req.seed)
    Lang(req.lang)
    if req.stress is not None:
        given = [o for o, v in (("--out", req.out), ("--moodle", req.moodle), ("--pdf", req.pdf),
                                ("--practice", req.practice)) if v]
        if given:
            raise InputError(f"jaxdl exam generate --stress: writes nothing; drop {', '.join(given)}")
        generate.check_count(req.stress, "--stress")
        return problems, seed
    generate.check_count(req.count)
    if req.practice:
        check_writable("jaxdl exam generate --practice", req.practice)
        if not req.out and (req.moodle or req.pdf):
            raise InputError("jaxdl exam generate: --moodle and --pdf come with --out DIR")
        if not req.out:
            return problems, seed
    if not req.out:
        raise InputError("jaxdl exam generate: expected --out DIR, --practice FILE or --stress N")
    if os.path.exists(req.out) and not os.path.isdir(req.out):
        raise InputError(f"jaxdl exam generate --out: {req.out!r} is a file; expected a folder")
    reason = unwritable_reason(os.path.join(req.out, "variants.json"))
    if reason:
        raise InputError(f"jaxdl exam generate --out: cannot write into {req.out!r}: {reason}")
    if req.moodle:
        check_writable("jaxdl exam generate --moodle", req.moodle)
    if req.pdf:
        from jaxdl.render import browser

        if browser() is None:
            raise InputError("jaxdl exam generate --pdf: no Chromium found (install Debian's chromium, or Chrome)")
    return problems, seed


def generate_exam(req: GenerateRequest, progress=None) -> GenerateOutcome:
    """Draws, verifies and writes the variants of ``req`` (or stress-tests the families).
    ``progress`` (a ``tqdm`` bar, or anything with ``total`` and ``update(n)``) counts the steps:
    two per variant, verified and written. A bad request raises :class:`InputError` before any
    work."""
    problems, seed = _check_generate(req)
    outcome = GenerateOutcome(problems=problems, seed=seed, request=req)
    if progress is not None and req.stress is None and req.out:
        progress.total = len(problems) * req.count * 2
    try:
        if req.stress is not None:
            start = time.perf_counter()
            outcome.rows = generate.stress(problems, req.stress, seed)
            outcome.seconds = time.perf_counter() - start
            return outcome
        step = (lambda: progress.update(1)) if progress is not None else None
        if req.practice:
            import json

            from jaxdl.exams import practice

            data = practice.build(problems, seed, req.count)
            write_atomically(req.practice, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
            outcome.written.append(req.practice)
        if req.out:
            if generate.small_seed(seed):
                outcome.notes.append(f"seed {seed} is small: the seed is the keys' secret, and anyone with jaxdl can "
                                     "try every small seed; for an exam, use a long random one (e.g. --seed "
                                     "$(python3 -c 'import secrets; print(secrets.randbits(63))'))")
            for problem in problems:
                outcome.records += generate.records(problem, seed, req.count, progress=step)
            outcome.written += generate.write(outcome.records, req.out, req.lang, req.moodle, req.pdf, progress=step)
    except generate.KeyDisagreement as e:
        outcome.failure = str(e)
    return outcome
