"""Croatian nouns after a number, for the tests of the Croatian sheets."""

import re

# Croatian nouns after a number: the form for 1 (and 21, 31, … but not 11), for 2–4 (and 22–24, …
# but not 12–14), and for the rest. Written out here, apart from the code's own rule.
NOUNS = {
    "jedinica": ("jedinica", "jedinice", "jedinica"), "ulaz": ("ulaz", "ulaza", "ulaza"),
    "primjer": ("primjer", "primjera", "primjera"), "sloj": ("sloj", "sloja", "slojeva"),
    "parametar": ("parametar", "parametra", "parametara"), "bod": ("bod", "boda", "bodova"),
    "element": ("element", "elementa", "elemenata"), "mjesto": ("mjesto", "mjesta", "mjesta"),
    "kanal": ("kanal", "kanala", "kanala"), "korak": ("korak", "koraka", "koraka"),
    "ploča": ("ploča", "ploče", "ploča"), "redak": ("redak", "retka", "redaka"),
    "množenje": ("množenje", "množenja", "množenja"), "zbrajanje": ("zbrajanje", "zbrajanja", "zbrajanja"),
    "brid": ("brid", "brida", "bridova"), "igra": ("igra", "igre", "igara"),
}


def form(n: int) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def wrong_counts(text: str) -> list[str]:
    """Every ``<number> <noun>`` of a Croatian text whose noun does not agree with the number."""
    plain = text.replace("\u00a0", " ").replace("$", " ")
    wrong = []
    for forms in NOUNS.values():
        pattern = r"(?<![\w.,−-])(\d+) (" + "|".join(sorted(set(forms), key=len, reverse=True)) + r")\b"
        for n_text, word in re.findall(pattern, plain):
            n = int(n_text)
            if word != forms[form(n)] and not (forms[1] == forms[2] and word == forms[1] and form(n)):
                wrong.append(f"{n} {word} (expected {n} {forms[form(n)]})")
    return wrong
