"""E4's errata: the seed has no official solution for it, so on the exam's network the erratum
says so, with the agreement of the closed form and the independent counts as its evidence."""

from __future__ import annotations

from jaxdl.exams._common import erratum
from jaxdl.exams.lstm.compute import EXAM, source_names


def errata(result: dict) -> list[dict]:
    """E4's errata, their evidence read from ``result``."""
    if result["givens"] != EXAM:
        return []
    checked, agree = result["checked_against"], result["agree"]
    return [erratum(
        "E4", "no official solution", "the count per layer and in total, under both bias conventions, below",
        f"the seed's solutions end after E2; the closed form {'equals' if agree else 'differs from'} the count of "
        f"{source_names(checked, 'en')}", kind="incomplete",
        hr={"seed": "nema službenog rješenja",
            "verified": "broj parametara po sloju i ukupno, za obje konvencije pomaka, dan je u rješenju",
            "evidence": f"službena rješenja završavaju nakon zadatka E2; zatvoreni oblik {'jednak je' if agree else 'nije jednak'} "
                        f"broju parametara {source_names(checked, 'hr')}"})]
