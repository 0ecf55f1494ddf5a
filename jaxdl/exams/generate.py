"""Next year's exam: new variants of every problem, each key verified three ways before it is
published (``jaxdl exam generate``).

For a problem and a seed, variant ``i`` is drawn by its own generator (seeded by the seed, the
problem and ``i``, then the attempt), so a variant does not depend on how many were asked for.
A draw that degenerates is refused and its cause counted (:data:`jaxdl.exams.problem.CAUSES`);
so is a duplicate of an earlier variant. The variants that remain are verified in batches (one
compiled program per shape, ``jax.vmap`` over the variants) and each is then solved by the same
``solve(config)`` as ``jaxdl exam PROBLEM``: its record is that result, whose key numbers must
equal the verified ones. A key the computations disagree on is never published: the run stops
with the seed and the variant, so it can be reproduced.

Example::

  >>> from jaxdl.exams import generate
  >>> records = generate.records("mlp", seed=7, count=2)
  >>> [r["variant"] for r in records], records[0]["seed"]
  ([0, 1], 7)
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time
import zlib

import numpy as np

from jaxdl.check.numeric import agrees, largest_difference, tolerance
from jaxdl.errors import InputError
from jaxdl.exams.problem import CAUSES, Rejected, variant_id
from jaxdl.exams.registry import PROBLEMS, with_family

MAX_ATTEMPTS = 500  # draws per variant before the family gives up (a bug: every family is far from it)


class KeyDisagreement(RuntimeError):
    """The computations of a key disagree (a bug of jaxdl, never published): names the seed and
    the variant."""


@dataclasses.dataclass
class Draws:
    problem: str
    seed: int
    givens: list
    causes: collections.Counter
    attempts: int


def check_problem(problem: str) -> list[str]:
    if problem == "all":
        return with_family()
    if problem not in with_family():
        raise InputError(f"jaxdl exam generate: unknown problem {problem!r}; expected one of "
                         f"{', '.join(with_family())}, all")
    return [problem]


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        try:
            seed = int(str(seed), 10)
        except ValueError:
            raise InputError(f"jaxdl exam generate: --seed expects an integer ≥ 0; got {seed!r}") from None
    if seed < 0:
        raise InputError(f"jaxdl exam generate: --seed expects an integer ≥ 0; got {seed}")
    return int(seed)


def check_count(count, option: str = "--count") -> int:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise InputError(f"jaxdl exam generate: {option} expects an integer ≥ 1; got {count!r}")
    return int(count)


def _canonical(givens: dict) -> str:
    return json.dumps(givens, sort_keys=True)


def draw(problem: str, seed: int, count: int) -> Draws:
    """``count`` accepted givens of ``problem``'s family, and the causes of the refused draws."""
    family = PROBLEMS[problem].family
    salt = zlib.crc32(problem.encode())
    seen, out, causes, attempts = set(), [], collections.Counter(), 0
    for i in range(count):
        for attempt in range(MAX_ATTEMPTS):
            attempts += 1
            rng = np.random.default_rng([seed, salt, i, attempt])
            try:
                givens = family.draw(rng)
            except Rejected as r:
                causes[r.cause] += 1
                continue
            key = _canonical(givens)
            if key in seen:
                causes["duplicate"] += 1
                continue
            seen.add(key)
            out.append(givens)
            break
        else:
            raise KeyDisagreement(f"{problem}: seed {seed}, variant {i}: no acceptable draw in {MAX_ATTEMPTS} "
                                  f"attempts ({dict(causes)})")
    return Draws(problem, seed, out, causes, attempts)


def verify(problem: str, givens: list) -> tuple[list, dict]:
    """Verifies every variant in batches of equal shapes: ``(answers per variant, {pair:
    per-variant largest difference})``; the variants keep their order."""
    family = PROBLEMS[problem].family
    groups = collections.defaultdict(list)
    for i, g in enumerate(givens):
        groups[family.group(g)].append(i)
    answers = [None] * len(givens)
    disagreement = {}
    for indices in groups.values():
        result = family.verify([givens[i] for i in indices])
        for j, i in enumerate(indices):
            answers[i] = result.answers[j]
        for pair, values in result.disagreement.items():
            disagreement.setdefault(pair, np.zeros(len(givens)))[indices] = values
    return answers, disagreement


def check_agreement(problem: str, seed: int, disagreement: dict) -> None:
    """Raises :class:`KeyDisagreement` for the first variant whose computations disagree."""
    dtype = PROBLEMS[problem].family.dtype
    for pair, values in disagreement.items():
        bad = [i for i, v in enumerate(np.asarray(values, float)) if not agrees(pair, float(v), dtype)]
        if bad:
            i = bad[0]
            raise KeyDisagreement(f"{problem}: seed {seed}, variant {i}: the hand-derived computation and the "
                                  f"{pair} differ by {float(values[i]):.3g} (tolerance {tolerance(pair, dtype):g}); "
                                  "no key is published")


def records(problem: str, seed: int, count: int, *, progress=None) -> list[dict]:
    """The ``count`` variants of ``problem`` as records ``{"problem", "variant", "seed", **result}``
    (``result``: what ``jaxdl exam PROBLEM --json`` writes for the variant's givens)."""
    from jaxdl import exams
    from jaxdl.config import to_config

    check_problem(problem)
    seed, count = check_seed(seed), check_count(count)
    drawn = draw(problem, seed, count)
    answers, disagreement = verify(problem, drawn.givens)
    check_agreement(problem, seed, disagreement)
    family = PROBLEMS[problem].family
    out = []
    for i, (givens, verified) in enumerate(zip(drawn.givens, answers)):
        result = exams.solve_config(problem, to_config(givens))
        published = family.answers(result)
        for name, value in published.items():
            diff = largest_difference(np.asarray(value, float), np.asarray(verified[name], float))
            if not diff <= tolerance("independent"):
                raise KeyDisagreement(f"{problem}: seed {seed}, variant {i}: the published {name} differs from the "
                                      f"verified one by {diff:.3g}")
        result["errata"] = []  # the errata are the seed exam's official solutions'; a variant has none
        out.append({"problem": problem, "variant": i, "seed": seed, **result})
        if progress is not None:
            progress()
    return out


@dataclasses.dataclass
class StressRow:
    problem: str
    variants: int
    attempts: int
    causes: dict
    largest: dict
    seconds: float
    draw_seconds: float


def stress_one(problem: str, n: int, seed: int = 0) -> StressRow:
    """Draws and verifies ``n`` variants of one family (no sheets); raises :class:`KeyDisagreement`
    as :func:`records` does."""
    start = time.perf_counter()
    drawn = draw(problem, seed, n)
    drawn_at = time.perf_counter()
    _, disagreement = verify(problem, drawn.givens)
    check_agreement(problem, seed, disagreement)
    return StressRow(problem, n, drawn.attempts, dict(drawn.causes),
                     {pair: float(np.max(v)) for pair, v in disagreement.items() if np.any(v >= 0)},
                     time.perf_counter() - start, drawn_at - start)


def stress(problems: list[str], n: int, seed: int = 0, processes: int | None = None) -> list[StressRow]:
    """:func:`stress_one` for every problem: the refused draws by cause and the largest difference
    between the computations, per family. With several problems the families run side by side in
    ``processes`` worker processes (default: one per core), each its own compiled programs."""
    import os

    processes = min(len(problems), os.cpu_count() or 1) if processes is None else processes
    if processes <= 1 or len(problems) == 1:
        return [stress_one(p, n, seed) for p in problems]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The costliest first, so that the last to finish is a quick one.
    order = sorted(problems, key=lambda p: -PROBLEMS[p].family.stress_cost)
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = dict(zip(order, pool.map(stress_one, order, [n] * len(order), [seed] * len(order))))
    return [rows[p] for p in problems]


def stress_report(rows: list[StressRow]) -> str:
    """The stress run as a table: per family the variants, the draws refused by cause, the largest
    difference per pair of computations, and the time."""
    causes = [c for c in CAUSES if any(r.causes.get(c) for r in rows)]
    lines = ["family     variants  draws  " + "  ".join(f"{c:>9}" for c in causes)
             + "  largest difference (per pair)                    seconds"]
    for r in rows:
        largest = ", ".join(f"{pair} {v:.1e}" for pair, v in sorted(r.largest.items()))
        lines.append(f"{r.problem:<10} {r.variants:>8}  {r.attempts:>5}  "
                     + "  ".join(f"{r.causes.get(c, 0):>9}" for c in causes)
                     + f"  {largest:<48} {r.seconds:>7.2f}")
    lines.append("refused draws: " + "; ".join(f"{c}: {CAUSES[c]}" for c in causes))
    return "\n".join(lines)


def small_seed(seed: int) -> bool:
    """A seed anyone could find by trying every seed up to it (the keys' secret is the seed)."""
    return seed < 2**40


def sheet_paths(out: str, record: dict) -> dict:
    """Where a variant's sheets go: ``OUT/PROBLEM/PROBLEM-VVV-{teachers,students}.{md,html,pdf}``."""
    import os

    stem = os.path.join(out, record["problem"], f"{record['problem']}-{record['variant']:03d}")
    return {(edition, ext): f"{stem}-{edition}.{ext}" for edition in ("teachers", "students")
            for ext in ("md", "html", "pdf")}


def write(records: list[dict], out: str, lang: str = "en", moodle: str | None = None, pdf: bool = False,
          progress=None) -> list[str]:
    """Writes ``OUT/variants.json``, every variant's two sheets (Markdown and HTML, and PDF with
    ``pdf``) and, with ``moodle``, the question bank; each file atomically. Returns the paths."""
    import os
    import tempfile

    from jaxdl import render
    from jaxdl.exams import moodle as bank
    from jaxdl.exams import sheet
    from jaxdl.exams.lang import Lang
    from jaxdl.fileio import write_atomically

    language = Lang(lang)
    written = [os.path.join(out, "variants.json")]
    write_atomically(written[0], json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    with tempfile.TemporaryDirectory(prefix="jaxdl-variants-") as scratch:
        for record in records:
            paths = sheet_paths(out, record)
            for edition in ("teachers", "students"):
                subtitle = f"{record['problem']} · {language.t('variant')} {variant_id(record)}"
                if edition == "teachers":  # the seed and the mapping stay in the teachers' files
                    subtitle += f" ({language.t('seed')} {record['seed']}, {language.t('variant_number')} " \
                                f"{record['variant']})"
                title = language.t("variant_title" if edition == "teachers" else "variant_title_students")
                text = sheet.markdown({record["problem"]: record}, [record["problem"]], None, language, edition,
                                      title=title, subtitle=subtitle)
                write_atomically(paths[(edition, "md")], text)
                page = render.standalone(text, title, lang, scratch, render.PRINT_STYLE)
                write_atomically(paths[(edition, "html")], page)
                written += [paths[(edition, "md")], paths[(edition, "html")]]
                if pdf:
                    html_path, pdf_path = os.path.join(scratch, "sheet.html"), os.path.join(scratch, "sheet.pdf")
                    with open(html_path, "w", encoding="utf-8") as f:
                        f.write(page)
                    render.print_pdf(html_path, pdf_path)
                    with open(pdf_path, "rb") as f:
                        data = f.read()
                    write_atomically(paths[(edition, "pdf")], data)
                    written.append(paths[(edition, "pdf")])
            if progress is not None:
                progress()
    if moodle:
        write_atomically(moodle, bank.bank(records, lang))
        written.append(moodle)
    return written

