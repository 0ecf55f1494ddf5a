"""E3's text: the question restated for the target, and the worked solution in each language
(every hyperparameter and weight, the forward pass on the chosen board, the BCE gradient)."""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.exams._common import display, num, tex
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.problem import Body, Part, Question
from jaxdl.exams.tictactoe.compute import DETECTOR_TEXT, EXAM, LINE_NAMES, TARGET_TEXT, board_text, unit_names
from jaxdl.models import tictactoe as ttt

_PARTS = (
    Part(id="a", points=5, text=both(
        "Odredite sve hiperparametre i parametre modela tako da ispravno klasificira svaku sliku.",
        "Give all the model's hyperparameters and parameters so that it classifies every image correctly.")),
    Part(id="b", points=2, text=both(
        "Provedite jedan unaprijedni prolaz za sliku zadanu ispod i pokažite da vaš model radi ispravno.",
        "Carry out one forward pass for the image given below and show that your model works.")),
    Part(id="c", points=3, text=both(
        "Izvedite gradijente gubitka binarne unakrsne entropije po klasifikacijskim mjerama, tj. po ulazima sigmoide.",
        "Derive the gradients of the binary cross-entropy loss by the classification scores, i.e. by the sigmoid's "
        "inputs.")),
)


def questions(result: dict) -> tuple:
    """E3 as asked for the result's target (the exam's: count the games X won). A drawn variant's
    (b) also asks for the class of its board and its (c) for ∂L/∂s at a stated logit: what every
    correct design gives, whatever its weights."""
    t = TARGET_TEXT[result["givens"]["target"]]
    parts = _PARTS
    variant = "variant" in result
    if variant:
        s0 = f"{result['asked']['s']:g}"
        a, b, c = _PARTS
        b = dataclasses.replace(b, text=both(
            b.text["hr"][:-1] + f"; navedite razred koji vaš model daje toj slici (1: igra u kojoj {t['hr']}, 0: ostale).",
            b.text["en"][:-1] + f"; give the class your model gives that image (1: {t['en']}, 0: otherwise)."))
        c = dataclasses.replace(c, text=both(
            c.text["hr"][:-1] + f"; izračunajte $\\partial L / \\partial s$ za sliku iz (b), s njezinom oznakom $y$, "
            f"u točki $s = {s0}$ (model tijekom učenja kojemu je ulaz sigmoide za tu sliku ${s0}$).",
            c.text["en"][:-1] + f"; evaluate $\\partial L / \\partial s$ for the image of (b), with its label $y$, at "
            f"$s = {s0}$ (a model in training whose sigmoid input on that image is ${s0}$)."))
        parts = (a, b, c)
    return (Question(
        code="E3", title=both("Križić-kružić", "Tic-tac-toe"), points=10,
        stem=both(
            rf"Prijatelj, profesionalni igrač križić-kružića, čuva bazu odigranih igara i želi prebrojati igre u kojima "
            rf"{t['hr']}. Završno stanje svake igre zapisano je binarnom slikom $9 \times 9$ (crni piksel je 1, bijeli "
            r"0), podijeljenom na 9 zamišljenih ćelija $3 \times 3$; u svakoj je pravilno nacrtan X ili O, ili je ćelija "
            r"prazna. Za brojanje se svaka slika razvrstava modelom koji se sastoji, tim redom, od konvolucijskog sloja, "
            r"potpuno povezanog sloja, sloja globalnog sažimanja maksimumom i sigmoide, u dva razreda: igre u kojima "
            rf"{t['hr']} i sve ostale.",
            rf"A friend who plays tic-tac-toe professionally keeps a database of played games and wants to count the "
            rf"games in which {t['en']}. The final state of each game is a $9 \times 9$ binary image (a black pixel is "
            r"1, a white one 0), divided into 9 imagined cells of $3 \times 3$, each holding a regular glyph: X, O or "
            r"nothing. To count them, each image is sorted by a model made, in this order, of a convolution layer, a "
            r"fully connected layer, a global max pooling layer and a sigmoid, into two classes: "
            rf"{t['en']}, and everything else."),
        parts=parts, givens="chosen" if variant else "lost",
        assumed=None if variant else both(
            "slika za (b) i oblici znakova ispod; tekst ispita kaže samo da slika pokazuje znak X u gornjoj lijevoj "
            "ćeliji i znak O u donjoj lijevoj, pa je za (b) odabrana završna ploča s tim dvjema ćelijama",
            "the image of (b) and the glyphs' pixels below; the exam's text says only that its figure shows an X in "
            "the top-left cell and an O in the bottom-left one, so (b) takes a final board with those two cells")),)


QUESTIONS = questions({"givens": EXAM})


def _outcome_text(board, lang: Lang) -> str:
    """Who holds which line of the board, in words."""
    s_ = lang.s
    held = []
    for player, name in ((1, "X"), (-1, "O")):
        lines = [LINE_NAMES[j][lang.code] for j, line in enumerate(ttt.LINES) if all(board[i] == player for i in line)]
        if lines:
            held.append(s_(f"{name} ima tri u nizu: {', '.join(lines)}", f"{name} has three in a row: {', '.join(lines)}"))
    if not held:
        return s_("nitko nema tri u nizu, ploča je puna: neriješeno", "no one has three in a row, the board is full: a draw") \
            if all(v != 0 for v in board) else s_("nitko nema tri u nizu", "no one has three in a row")
    return "; ".join(held)


def _givens(result: dict, lang: Lang) -> str:
    """The glyphs and the board chosen for the forward pass."""
    s_ = lang.s
    ex, glyphs = result["forward_example"], result["glyphs"]
    return "\n\n".join([
        s_("Znakovi u ćeliji $3 \\times 3$:", "The glyphs in a $3 \\times 3$ cell:"),
        display(f"X = {tex(glyphs['X'])}", f"O = {tex(glyphs['O'])}",
                rf"\text{{{s_('prazno', 'empty')}}} = {tex(glyphs['empty'])}"),
        s_("Ploča na slici za (b): ", "The board of (b)'s image: ")
        + " / ".join(board_text(ex["board"])) + f" ({_outcome_text(ex['board'], lang)}).",
    ])


def _table(result: dict, lang: Lang, n_units: int) -> str:
    """(a)'s table: each layer's hyperparameters and parameters."""
    s_ = lang.s
    m = result["model"]["layers"]
    detector, unit_spec = ttt.TARGETS[result["givens"]["target"]]
    scale, fc_b = result["givens"]["scale"], np.asarray(m[1]["b"])
    full = unit_spec == "full"
    watch_hr = "svih 9 ćelija" if full else "3 ćelije linije koju jedinica provjerava"
    watch_en = "all 9 cells" if full else "the 3 cells of the unit's line"
    weight_hr = f"težina $\\pm {num(scale)}$" if detector == "signed" else f"težina ${num(scale)}$"
    weight_en = f"weight $\\pm {num(scale)}$" if detector == "signed" else f"weight ${num(scale)}$"
    return "\n".join([
        s_("| sloj | hiperparametri | parametri |", "| layer | hyperparameters | parameters |"),
        "|---|---|---|",
        s_(f"| konvolucijski | 1 jezgra ${m[0]['kernel_size']} \\times {m[0]['kernel_size']}$, korak {m[0]['stride']}, "
           f"nadopuna {m[0]['padding']} | $W_c$ (ispod), pomak $b_c = 0$ |",
           f"| convolution | 1 kernel ${m[0]['kernel_size']} \\times {m[0]['kernel_size']}$, stride {m[0]['stride']}, "
           f"padding {m[0]['padding']} | $W_c$ (below), bias $b_c = 0$ |"),
        s_(f"| potpuno povezani | {m[1]['inputs']} → {m[1]['outputs']} (mapa $3 \\times 3$ razvučena u vektor redak po "
           f"redak) | {weight_hr} za {watch_hr}, 0 drugdje; pomak ${num(fc_b[0])}$ |",
           f"| fully connected | {m[1]['inputs']} → {m[1]['outputs']} (the $3 \\times 3$ map flattened row by row) | "
           f"{weight_en} on {watch_en}, 0 elsewhere; bias ${num(fc_b[0])}$ |"),
        s_("| globalno sažimanje maksimumom | maksimum izlaza potpuno povezanog sloja "
           f"({lang.count(m[2]['over'], 'jedinica', 'jedinice', 'jedinica')}) | nema |",
           f"| global max pooling | over the {m[2]['over']} units | none |" if n_units > 1 else
           "| global max pooling | over the one unit | none |"),
        s_("| sigmoida | | nema |", "| sigmoid | | none |"),
    ])


def _part_a(result: dict, figures: dict, lang: Lang, names: list[str]) -> str:
    """(a): the model, why it works, its weights (and its pictures)."""
    s_ = lang.s
    m = result["model"]["layers"]
    target, scale = result["givens"]["target"], result["givens"]["scale"]
    detector, unit_spec = ttt.TARGETS[target]
    k, kernel_text, scores_text = DETECTOR_TEXT[detector]
    tt = TARGET_TEXT[target]
    conv, fc_w, fc_b = np.asarray(m[0]["W"]), np.asarray(m[1]["W"]), np.asarray(m[1]["b"])
    full = unit_spec == "full"
    table = _table(result, lang, len(names))
    # What a unit counts ("broji …"), and k in words ("uz k …").
    counted, k_words = {
        "x": (both("X-ove", "the X"), both("$k$ X-ova", "$k$ X")),
        "o": (both("O-ove", "the O"), both("$k$ O-ova", "$k$ O")),
        "mark": (both("zauzete ćelije", "the occupied cells"), both("$k$ zauzetih ćelija", "$k$ occupied cells")),
        "signed": (both("razliku znakova svojeg igrača i drugog igrača", "its player's marks less the other's"),
                   both("razliku $k$", "a difference $k$")),
    }[detector]
    threshold = 8.5 if full else 2.5
    top = float(1 / (1 + np.exp(-scale / 2)))
    what_hr = "cijeloj ploči" if full else "jednoj od linija"
    what_en = "the whole board" if full else "one of the lines"
    a = "\n\n".join([
        s_(f"Konvolucija ocjenjuje svaku ćeliju, svaka jedinica potpuno povezanog sloja broji {counted['hr']} na "
           f"{what_hr}, globalno sažimanje maksimumom zadržava najbolju jedinicu, a sigmoida njezinu ocjenu pretvara u "
           f"vjerojatnost da {tt['hr']}.",
           f"The convolution scores each cell, each fully connected unit counts {counted['en']} on {what_en}, the "
           f"global max pooling keeps the best unit, the sigmoid turns its score into the probability that "
           f"{tt['en']}."),
        table,
        display(rf"W_c = \frac{{1}}{{{k}}} {tex(np.rint(conv * k))}"),
        s_(f"Jezgra: {kernel_text['hr']}. Ocjena ćelije je $\\langle W_c, \\text{{ćelija}} \\rangle$: {scores_text['hr']}. "
           f"Uz {k_words['hr']} jedinica daje ${num(scale)} (k - {threshold:g})$: $+{num(scale / 2)}$ "
           f"{'za punu ploču' if full else 'za tri u nizu'}, najviše $-{num(scale / 2)}$ inače, pa je sigmoida najbolje "
           f"jedinice barem $\\sigma({num(scale / 2)}) = {num(top, 6)}$ ako i samo ako "
           f"{'je ploča puna' if full else tt['hr']}.",
           f"The kernel: {kernel_text['en']}. A cell's score is $\\langle W_c, \\text{{cell}} \\rangle$: "
           f"{scores_text['en']}. With {k_words['en']}, a unit gives ${num(scale)} (k - {threshold:g})$: "
           f"$+{num(scale / 2)}$ for {'a full board' if full else 'three in a row'}, at most $-{num(scale / 2)}$ "
           f"otherwise, so the sigmoid of the best unit is at least $\\sigma({num(scale / 2)}) = {num(top, 6)}$ exactly "
           f"when {'the board is full' if full else tt['en']}."),
        s_("Težine potpuno povezanog sloja, redak po jedinici (", "The fully connected weights, one row per unit (")
        + ", ".join(names) + s_("), stupci su ćelije redak po redak:", "), the columns the cells row by row:"),
        display(rf"W_{{\text{{fc}}}}^\top = {tex(fc_w.T)}", rf"b_{{\text{{fc}}}} = {tex(fc_b)}"),
    ])
    if full:
        a += "\n\n" + s_(
            f"Ovaj model **ne** prepoznaje neriješene igre: puna je i ploča na kojoj je netko pobijedio zadnjim potezom. "
            f"Točnost mu je {100 * result['accuracy']:.2f} %: s globalnim sažimanjem maksimumom (rastućim u svakoj "
            f"jedinici) ne može se izraziti da nijedna linija nije dobivena.",
            f"This model does **not** recognise draws: a board where someone won on the last move is full too. Its "
            f"accuracy is {100 * result['accuracy']:.2f}%: a global max pooling (increasing in every unit) cannot "
            f"express that no line is won.")
    if figures.get("e3_lines"):
        a += "\n\n" + f"![{s_('jedinice potpuno povezanog sloja kao jezgre 3×3', 'the fully connected units as 3×3 filters')}]({figures['e3_lines']})"
    if figures.get("e3_filter"):
        a += "\n\n" + f"![{s_('jezgra konvolucije', 'the convolution kernel')} W_c]({figures['e3_filter']})"
    return a


def _part_b(result: dict, figures: dict, lang: Lang, names: list[str]) -> str:
    """(b): the chosen board's image and each layer's output."""
    s_ = lang.s
    ex = result["forward_example"]
    steps = {s["layer"]: np.asarray(s["output"]) for s in ex["steps"]}
    units_out = steps["fully connected"]
    bpart = [s_("Slika odabrane ploče i izlazi slojeva:", "The chosen board's image and the layers' outputs:")]
    if figures.get("e3_board"):
        bpart.append(f"![{s_('ploča kao slika 9×9', 'the board as a 9×9 image')}]({figures['e3_board']})")
    bpart += [
        display(rf"\text{{{s_('slika', 'image')}}} = {tex(ex['image'], sig=1)}"),
        display(rf"\text{{{s_('konvolucija', 'convolution')}}} = {tex(steps['convolution'].reshape(3, 3))}",
                rf"\text{{{s_('potpuno povezani', 'fully connected')}}} = {tex(units_out, row=True)}"),
        "\n".join([s_("| jedinica | ", "| unit | ") + " | ".join(names) + " |",
                   "|---|" + "---|" * len(names),
                   s_("| izlaz jedinice | ", "| unit output | ") + " | ".join(f"${num(v)}$" for v in units_out) + " |"]),
        display(rf"s = \max_k (\ldots)_k = {num(steps['global max pooling'][0])}",
                rf"\sigma(s) = {num(ex['probability'], 6)}"),
    ]
    return "\n\n".join(bpart)


def _part_c(result: dict, lang: Lang, names: list[str]) -> str:
    """(c): the BCE gradient by the logit, derived, and its value on the chosen board."""
    s_ = lang.s
    g = result["bce_gradient"]
    units_out = {s["layer"]: np.asarray(s["output"]) for s in result["forward_example"]["steps"]}["fully connected"]
    best = int(np.argmax(units_out))
    parts = [
        s_("Uz $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ i $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:",
           "With $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ and $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:"),
        display(r"\frac{\partial L}{\partial s} = -y \frac{\sigma(s)(1 - \sigma(s))}{\sigma(s)} + (1 - y) "
                r"\frac{\sigma(s)(1 - \sigma(s))}{1 - \sigma(s)} = -y (1 - \sigma(s)) + (1 - y) \sigma(s) = \sigma(s) - y",
                sep=""),
        s_(f"(ako se gubitak usrednjava po minigrupi, gradijent svakog primjera dijeli se s $N$; za minigrupu slika "
           f"gradijent po ulazu sigmoide svake slike $i$ je $(\\sigma(s_i) - y_i)/N$). Na odabranoj "
           f"ploči $s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$. Kroz "
           f"globalno sažimanje maksimumom gradijent dobiva samo najbolja jedinica ({names[best]}): "
           f"$\\partial L / \\partial u = {tex(g['by_units'], 6, row=True)}$.",
           f"(the mean over a minibatch divides each example's gradient by $N$: for a minibatch of images the "
           f"gradient by image $i$'s sigmoid input is $(\\sigma(s_i) - y_i)/N$). On the chosen board "
           f"$s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$. Through the "
           f"global max pooling only the best unit ({names[best]}) receives it: "
           f"$\\partial L / \\partial u = {tex(g['by_units'], 6, row=True)}$."),
    ]
    asked = result["asked"]
    if asked["stated"]:  # what the question keys: the same formula at its logit, whatever the model
        parts.append(s_(
            f"U točki koju zadaje zadatak, $s = {num(asked['s'])}$, uz oznaku ploče $y = {asked['y']}$: "
            f"$\\partial L / \\partial s = \\sigma({num(asked['s'])}) - {asked['y']} = {num(asked['manual'], 6)}$ "
            "(isto za svaki ispravan model: ovisi samo o $s$ i $y$).",
            f"At the logit the question states, $s = {num(asked['s'])}$, with the board's label $y = {asked['y']}$: "
            f"$\\partial L / \\partial s = \\sigma({num(asked['s'])}) - {asked['y']} = {num(asked['manual'], 6)}$ "
            "(the same for every correct model: it depends on $s$ and $y$ alone)."))
    return "\n\n".join(parts)


def _answers(result: dict, lang: Lang) -> dict:
    """Each part's answer, in short."""
    s_ = lang.s
    m, ex, asked = result["model"]["layers"], result["forward_example"], result["asked"]
    scale, fc_b = result["givens"]["scale"], np.asarray(m[1]["b"])
    tt = TARGET_TEXT[result["givens"]["target"]]
    verdict = ex["probability"] > 0.5
    # The signed detector's units count one player's marks with +α and the other's with −α.
    weight = f"\\pm {num(scale)}" if ttt.TARGETS[result["givens"]["target"]][0] == "signed" else num(scale)
    accepted = s_(
        " Prihvaća se svaki model zadanog oblika (konvolucija → potpuno povezani sloj → globalno sažimanje maksimumom → "
        "sigmoida) koji ispravno klasificira svaku završnu ploču legalne igre, bilo kojih hiperparametara i težina; "
        "brojevi gore su jedan takav model.",
        " Any model of the given shape (convolution → fully connected → global max pooling → sigmoid) that classifies "
        "every final board of a legal game rightly is accepted, whatever its hyperparameters and weights; the numbers "
        "above are one such model.")
    c = r"$\partial L / \partial s = \sigma(s) - y$"
    if asked["stated"]:
        c += s_(f"; uz $s = {num(asked['s'])}$ i $y = {asked['y']}$: $\\partial L / \\partial s = "
                f"{num(asked['manual'], 6)}$",
                f"; at $s = {num(asked['s'])}$ and $y = {asked['y']}$: $\\partial L / \\partial s = "
                f"{num(asked['manual'], 6)}$")
    return {
        "a": s_(f"tablica i težine gore: konvolucija s jednom jezgrom $3 \\times 3$ i korakom 3, $W_c$ gore; potpuno "
                f"povezani sloj $9 \\to {m[1]['outputs']}$ s težinom ${weight}$ na ćelijama koje jedinica provjerava "
                f"i pomakom ${num(fc_b[0])}$; globalno sažimanje maksimumom; sigmoida.",
                f"the table and weights above: a convolution with one $3 \\times 3$ kernel, stride 3, $W_c$ above; a "
                f"fully connected layer $9 \\to {m[1]['outputs']}$ with weight ${weight}$ on the cells its unit "
                f"watches and bias ${num(fc_b[0])}$; global max pooling; sigmoid.") + accepted,
        "b": s_(f"$\\sigma(s) = {num(ex['probability'], 6)} {'>' if verdict else '<'} 0.5$: model "
                + ("je svrstava" if verdict else "ne svrstava ploču") + f" u igre u kojima {tt['hr']}, razred "
                f"${result['label']}$ (oznaka ploče $y = {result['label']}$; takav je razred svakog ispravnog modela).",
                f"$\\sigma(s) = {num(ex['probability'], 6)} {'>' if verdict else '<'} 0.5$: the model says "
                + ("" if verdict else "not: ") + f"{tt['en']}, class ${result['label']}$ (the board's label "
                f"$y = {result['label']}$: every correct model's class)."),
        "c": c,
    }


def _verified(result: dict, lang: Lang) -> str:
    """How the model and the gradient were checked."""
    g, b, asked = result["bce_gradient"], result["boards"], result["asked"]
    at = lang.s(f" U zadanoj točki $s = {num(asked['s'])}$: `jax.grad` ${num(asked['autodiff'], 6)}$, konačne razlike "
                f"${num(asked['finite_diff'], 6)}$.",
                f" At the stated $s = {num(asked['s'])}$: `jax.grad` ${num(asked['autodiff'], 6)}$, finite differences "
                f"${num(asked['finite_diff'], 6)}$.") if asked["stated"] else ""
    return lang.s(
        f"Model je izgrađen od jaxdl-ovih slojeva i pokrenut na svim završnim pločama legalnih igara (pretraživanjem "
        f"stabla igre: {b['total']} = {b['x_wins']} pobjeda X-a + {b['o_wins']} pobjeda O-a + {b['draws']} "
        f"neriješenih, skup UCI Tic-Tac-Toe Endgame; u razredu je {b['positive']}): točnost "
        f"{100 * result['accuracy']:.2f} %; najmanja udaljenost vjerojatnosti od praga 0.5 je "
        f"{result['min_margin']:.6f}, a najmanja vjerojatnost ispravnog razreda {result['min_correct_probability']:.6f}. "
        f"Gradijent (c) jednak je `jax.grad` (${num(g['autodiff'], 6)}$) i konačnim razlikama "
        f"(${num(g['finite_diff'], 6)}$).{at} Naredba: `jaxdl exam tictactoe`.",
        f"The model is built from jaxdl's layers and run on every final board of a legal game (game-tree search: "
        f"{b['total']} = {b['x_wins']} X wins + {b['o_wins']} O wins + {b['draws']} draws, the UCI Tic-Tac-Toe "
        f"Endgame set; {b['positive']} in the class): accuracy {100 * result['accuracy']:.2f}%; the smallest distance "
        f"of a probability from the 0.5 threshold is {result['min_margin']:.6f}, the lowest probability of the "
        f"correct class {result['min_correct_probability']:.6f}. The gradient of (c) equals `jax.grad` "
        f"(${num(g['autodiff'], 6)}$) and finite differences (${num(g['finite_diff'], 6)}$).{at} Command: "
        f"`jaxdl exam tictactoe`.")


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E3's solution in ``lang``: every hyperparameter and weight, the forward pass on a drawn
    board, the derivation of the BCE gradient."""
    figures = figures or {}
    names = unit_names(result["givens"]["target"], lang.code)
    steps = {"a": _part_a(result, figures, lang, names), "b": _part_b(result, figures, lang, names),
             "c": _part_c(result, lang, names)}
    finals = [num(result["forward_example"]["probability"], 6)]
    return {"E3": Body(givens=_givens(result, lang), steps=steps, answers=_answers(result, lang),
                       verified=_verified(result, lang), finals=finals)}
