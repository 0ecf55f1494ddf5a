"""The documentation's generated parts: blocks of the README and pages of ``docs/`` written from
results, never by hand. A generated block sits between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->``; ``jaxdl docs`` rewrites every block from the data it stands for.
"""

from __future__ import annotations

import json
import os
import re

from jaxdl.errors import InputError


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with its block ``name`` replaced by ``content``.

    Raises:
      InputError: no such block in the text.
    """
    pattern = re.compile(rf"(<!-- {re.escape(name)}:begin -->\n)(.*?)\n?(<!-- {re.escape(name)}:end -->)", re.S)
    if not pattern.search(text):
        raise InputError(f"docs: no block {name!r} (<!-- {name}:begin --> … <!-- {name}:end -->)")
    return pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(3), text, count=1)


def errata_block(results_dir: str | None) -> str:
    """The errata table, from ``results_dir/exam.json`` when there, else from the answers computed now."""
    from jaxdl.exams.lang import Lang
    from jaxdl.exams.sheet import errata_table

    path = os.path.join(results_dir, "exam.json") if results_dir else None
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            errata = json.load(f)["errata"]
    else:
        from jaxdl.exams import solve_all

        errata = solve_all()["errata"]
    return errata_table(errata, Lang("en"))


def write(readme: str = "README.md", results_dir: str | None = "results") -> list[str]:
    """Rewrites every generated block of ``readme``; returns the blocks written."""
    from jaxdl.fileio import write_atomically

    with open(readme, encoding="utf-8") as f:
        text = f.read()
    text = replace_block(text, "errata", errata_block(results_dir))
    write_atomically(readme, text)
    return ["errata"]
