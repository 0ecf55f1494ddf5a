"""E3: the hand-set tic-tac-toe classifier, one forward pass, the BCE gradient, and its accuracy
over every final board of a legal game — for the exam's question (did X win?) or another target
of :data:`jaxdl.models.tictactoe.TARGETS` (O won, X won on a diagonal, someone won, …)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.exams._common import display, erratum, num, tex, tolist
from jaxdl.exams.lang import Lang, both
from jaxdl.exams._legacy_records import Body, Part, Question
from jaxdl.losses import binary_cross_entropy
from jaxdl.models import tictactoe as ttt

# The exam's example: X won on the ↘ diagonal; O holds the left column's two lower cells.
EXAMPLE_BOARD = (1, 0, 0, -1, 1, 0, -1, 0, 1)
EXAM = {"target": "x_wins", "scale": ttt.ALPHA, "board": list(EXAMPLE_BOARD)}

# What each target recognises: the clause "games in which …" (hr) and the class's name (en).
TARGET_TEXT = {
    "x_wins": both("je pobijedio X", "X won"),
    "o_wins": both("je pobijedio O", "O won"),
    "x_diagonal": both("je X pobijedio na jednoj od dijagonala", "X won on a diagonal"),
    "o_diagonal": both("je O pobijedio na jednoj od dijagonala", "O won on a diagonal"),
    "x_row": both("je X pobijedio u nekom retku", "X won on a row"),
    "o_row": both("je O pobijedio u nekom retku", "O won on a row"),
    "x_column": both("je X pobijedio u nekom stupcu", "X won on a column"),
    "o_column": both("je O pobijedio u nekom stupcu", "O won on a column"),
    "x_through_centre": both("je X pobijedio linijom kroz središnju ćeliju", "X won on a line through the centre"),
    "someone_wins": both("je netko pobijedio (X ili O)", "someone won (X or O)"),
    "draw": both("je igra završila neriješeno", "the game ended in a draw"),
}
# The convolution's detector: its scale (the weights are whole multiples of 1/k), what it sees
# and what each glyph scores.
DETECTOR_TEXT = {
    "x": (5, both("$W_c = (2X - 1)/5$: $+1/5$ na pet piksela X-a, $-1/5$ na ostala četiri",
                  "$W_c = (2X - 1)/5$: $+1/5$ on X's five pixels, $-1/5$ on the other four"),
          both("X daje $5/5 = 1$, O daje $(4 - 4)/5 = 0$, prazna ćelija 0",
               "X gives $5/5 = 1$, O gives $(4 - 4)/5 = 0$, an empty cell 0")),
    "o": (4, both("$1/4$ na četiri piksela ruba (ima ih O, X ih nema)", "$1/4$ on the four edge pixels (O has them, X not)"),
          both("O daje $4/4 = 1$, X daje 0, prazna ćelija 0", "O gives $4/4 = 1$, X gives 0, an empty cell 0")),
    "mark": (4, both("$1/4$ na četiri kuta (imaju ih i X i O)", "$1/4$ on the four corners (both X and O have them)"),
             both("X daje $4/4 = 1$, O daje $4/4 = 1$, prazna ćelija 0", "X gives $4/4 = 1$, O gives $4/4 = 1$, an empty cell 0")),
    "signed": (4, both("$1$ u središtu (ima ga samo X), $-1/4$ na četiri piksela ruba (ima ih samo O)",
                       "$1$ at the centre (only X has it), $-1/4$ on the four edge pixels (only O has them)"),
               both("X daje $1$, O daje $-4/4 = -1$, prazna ćelija 0", "X gives $1$, O gives $-4/4 = -1$, an empty cell 0")),
}
_LINE_NAMES = [both(f"redak {i}", f"row {i}") for i in (1, 2, 3)] + [both(f"stupac {i}", f"column {i}") for i in (1, 2, 3)] \
    + [both("dijagonala ↘", "diagonal ↘"), both("dijagonala ↙", "diagonal ↙")]


def _board_text(board) -> list[str]:
    sym = {1: "X", -1: "O", 0: "."}
    return [" ".join(sym[int(v)] for v in board[r * 3:(r + 1) * 3]) for r in range(3)]


def unit_names(target: str, lang: str) -> list[str]:
    """The fully connected layer's units, named by what each watches."""
    _, units = ttt.TARGETS[target]
    if units == "full":
        return [both("sve ćelije", "all cells")[lang]]
    names = []
    for lines, sign in units:
        prefix = "" if ttt.TARGETS[target][0] != "signed" else ("X: " if sign > 0 else "O: ")
        names += [prefix + _LINE_NAMES[j][lang] for j in lines]
    return names


def read_config(cfg):
    known = set(EXAM)
    unknown = sorted(set(cfg.keys()) - known)
    if unknown:
        raise InputError(f"config: unknown field {unknown[0]!r} for exam tictactoe; known: {sorted(known)}")
    if cfg.target not in ttt.TARGETS:
        raise InputError(f"config: target must be one of {list(ttt.TARGETS)}; got {cfg.target!r}")
    scale = cfg.scale
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < 1e3:
        raise InputError(f"config: scale must be a number in (0, 1000); got {scale!r}")
    board = tuple(cfg.board)
    boards, _ = ttt.final_boards()
    if len(board) != 9 or not np.any(np.all(boards == np.asarray(board, dtype=np.int64), axis=1)):
        raise InputError(f"config: board must be 9 cells in {{1: X, -1: O, 0: empty}} of a final board of a legal game; "
                         f"got {list(board)!r}")
    return cfg.target, float(scale), board


def solve(cfg) -> dict:
    target, scale, board = read_config(cfg)
    boards, outcome = ttt.final_boards()
    model, params = ttt.classifier(target), ttt.hand_set_params(target, scale)
    probs = np.asarray(model.apply(params, jnp.asarray(ttt.board_images(boards))))[:, 0]
    labels = ttt.truth(target, boards)
    accuracy = float(np.mean((probs > 0.5) == labels))
    label = int(ttt.truth(target, [board])[0])

    # One forward pass, layer by layer, in float64 (the sheet's numbers).
    with jax.enable_x64(True):
        p64 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), ttt.hand_set_params(target, scale))
        image = jnp.asarray(ttt.board_images([board]), jnp.float64)
        steps, x = [], image
        names = ("convolution", "flatten (a reshape)", "fully connected", "global max pooling", "sigmoid")
        for key, layer, name in zip(params, ttt.classifier_layers(target), names):  # the layers' order
            x = layer.apply(p64[key], x)
            steps.append({"layer": name, "output": tolist(np.asarray(x)[0])})
        x = np.asarray(x)

    # ∂L/∂s of the BCE loss at the sigmoid's input s (the logit), and through the max to the units.
    with jax.enable_x64(True):
        units = jnp.asarray([steps[2]["output"]], jnp.float64)
        pool = ttt.classifier_layers(target)[3]
        s = pool.apply({}, units)
        y = jnp.full((1, 1), label, jnp.float64)
        manual = binary_cross_entropy.backward(s, y)
        by_units = pool.backward({}, units, manual)[1]
        autodiff = float(jax.grad(binary_cross_entropy.apply)(s, y)[0, 0])
        eps = 1e-6
        numeric = float((binary_cross_entropy.apply(s + eps, y) - binary_cross_entropy.apply(s - eps, y)) / (2 * eps))
        logit, manual = float(s[0, 0]), float(manual[0, 0])

    detector, unit_spec = ttt.TARGETS[target]
    conv_w = np.asarray(params["conv2d_0"]["W"])[0, 0]
    fc_w, fc_b = np.asarray(params["dense_2"]["W"]), np.asarray(params["dense_2"]["b"])
    counted = "occupied cells of the board" if unit_spec == "full" else \
        {"x": "X on its line", "o": "O on its line", "signed": "its player's marks less the other's, on its line"}[detector]
    result = {
        "givens": {"target": target, "scale": scale, "board": list(board)},
        "target": target,
        "glyphs": {"X": tolist(ttt.GLYPHS[1]), "O": tolist(ttt.GLYPHS[-1]), "empty": tolist(ttt.GLYPHS[0])},
        "model": {
            "layers": [
                {"layer": "convolution", "filters": 1, "kernel_size": 3, "stride": 3, "padding": 0,
                 "W": tolist(conv_w), "b": 0.0, "detector": detector},
                {"layer": "fully connected", "inputs": 9, "outputs": int(fc_w.shape[1]), "W": tolist(fc_w),
                 "b": tolist(fc_b), "lines": unit_names(target, "en"),
                 "why": f"one unit per {'board' if unit_spec == 'full' else 'line'}: {scale:g}·(the number of "
                        f"{counted} − {'8.5' if unit_spec == 'full' else '2.5'})"},
                {"layer": "global max pooling", "over": int(fc_w.shape[1]),
                 "why": f"the best unit: +{scale / 2:g} iff {TARGET_TEXT[target]['en']}, else ≤ −{scale / 2:g}"},
                {"layer": "sigmoid", "why": f"P({TARGET_TEXT[target]['en']})"},
            ],
        },
        "label": label,
        "forward_example": {"board": list(board), "image": tolist(np.asarray(image)[0, 0]), "steps": steps,
                            "probability": float(np.asarray(x)[0, 0])},
        "bce_gradient": {
            "formula": "L = −y ln σ(s) − (1 − y) ln(1 − σ(s)),  ∂L/∂s = σ(s) − y  (a minibatch mean divides by N)",
            "s": logit, "y": label, "manual": manual, "autodiff": autodiff, "finite_diff": numeric,
            "by_units": tolist(np.asarray(by_units)[0]),
        },
        "boards": {
            "total": int(len(boards)),
            "x_wins": int(np.sum(outcome == 1)),
            "o_wins": int(np.sum(outcome == -1)),
            "draws": int(np.sum(outcome == 0)),
            "positive": int(labels.sum()),
        },
        "accuracy": accuracy,
        # The smallest distance of any board's probability from the 0.5 threshold, and the lowest
        # probability the model gives any board's correct class.
        "min_margin": float(np.min(np.abs(probs - 0.5))),
        "min_correct_probability": float(min(probs[labels == 1].min(initial=1.0), 1 - probs[labels == 0].max(initial=0.0))),
        "errata": [],
    }
    if (target, scale, board) == (EXAM["target"], EXAM["scale"], tuple(EXAM["board"])):
        result["errata"] = [erratum(
            "E3", "no official solution", "the model, its values, the forward pass and the gradient are worked out "
            "below, and the model is checked on every final board",
            f"the seed's solutions end after E2; this model classifies all {int(len(boards))} final boards "
            f"correctly ({100 * accuracy:.2f}%)", kind="incomplete",
            hr={"seed": "nema službenog rješenja",
                "verified": "model, njegovi parametri, unaprijedni prolaz i gradijent izvedeni su u rješenju, a "
                            "model je provjeren na svim završnim pločama",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; ovaj model ispravno klasificira svih "
                            f"{int(len(boards))} završnih ploča ({100 * accuracy:.2f} %)"})]
    return result


def report(result: dict) -> str:
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    target = result["target"]
    k = DETECTOR_TEXT[m[0]["detector"]][0]
    conv = np.asarray(m[0]["W"])
    lines = [
        f"E3  Tic-tac-toe, {TARGET_TEXT[target]['en']}: convolution → fully connected → global max pooling → sigmoid",
        f"  convolution: {m[0]['filters']} filter {m[0]['kernel_size']}×{m[0]['kernel_size']}, stride {m[0]['stride']}, "
        f"no padding, bias 0, W = {np.rint(conv * k).astype(int).tolist()}/{k}",
        f"      per 3×3 cell: {ttt_plain(DETECTOR_TEXT[m[0]['detector']][2]['en'])}",
        f"  fully connected 9 → {m[1]['outputs']}, b = {m[1]['b'][0]:g}:  {m[1]['why']}",
        f"  global max pooling over the {m[2]['over']} units: {m[2]['why']};  sigmoid: {m[3]['why']}",
        "  forward pass on the board " + " / ".join(_board_text(ex["board"])) + ":",
    ]
    for step in ex["steps"]:
        out = np.asarray(step["output"])
        lines.append(f"      {step['layer']:<22} {np.array2string(out.reshape(-1) if out.ndim > 1 else out, precision=5, separator=', ', max_line_width=200)}")
    lines += [
        f"  → P({TARGET_TEXT[target]['en']}) = {ex['probability']:.6f} (the board's label: y = {result['label']})",
        f"  BCE gradient at the sigmoid's input: {g['formula']}",
        f"      s = {g['s']:g}, y = {g['y']}: manual {g['manual']:.6e}, jax.grad {g['autodiff']:.6e}, finite diff "
        f"{g['finite_diff']:.6e}; through the max only the best unit ({m[1]['lines'][int(np.argmax(np.abs(g['by_units'])))]}) "
        "receives it",
        f"  all final boards of legal games (game-tree search): {b['total']} = {b['x_wins']} X wins + "
        f"{b['o_wins']} O wins + {b['draws']} draws; {b['positive']} of them are {TARGET_TEXT[target]['en']}",
        f"  accuracy over them: {100 * result['accuracy']:.2f}% (smallest distance from the 0.5 threshold: "
        f"{result['min_margin']:.6f}; lowest probability of the correct class: {result['min_correct_probability']:.6f})",
    ]
    return "\n".join(lines)


def ttt_plain(text: str) -> str:
    return text.replace("$", "")


_PARTS = (Part("a", 5, both("Odredite sve hiperparametre i parametre modela tako da ispravno klasificira svaku sliku.",
                            "Give all the model's hyperparameters and parameters so that it classifies every image "
                            "correctly.")),
          Part("b", 2, both("Provedite jedan unaprijedni prolaz za zadanu sliku i pokažite da model radi ispravno.",
                            "Carry out one forward pass for a given image and show that the model works.")),
          Part("c", 3, both("Izvedite gradijent gubitka binarne unakrsne entropije po klasifikacijskoj mjeri (ulazu "
                            "sigmoide).",
                            "Derive the gradient of the binary cross-entropy loss by the classification score (the "
                            "sigmoid's input).")))


def questions(result: dict) -> tuple:
    """E3 as asked for the result's target (the exam's: the games X won)."""
    t = TARGET_TEXT[result["givens"]["target"]]
    return (Question(
        "E3", both("Križić-kružić", "Tic-tac-toe"), 10,
        both(r"Završno stanje igre križić-kružić zapisano je binarnom slikom $9 \times 9$ (crni piksel je 1, bijeli 0); "
             r"slika je podijeljena na 9 ćelija $3 \times 3$ i u svakoj je ispravno nacrtan X ili O, ili je ćelija "
             rf"prazna. Treba prepoznati igre u kojima {t['hr']}. Model se sastoji, tim redom, od konvolucijskog "
             r"sloja, potpuno povezanog sloja, sloja globalnog sažimanja maksimumom i sigmoide, a razlikuje dva "
             rf"razreda: igre u kojima {t['hr']} i sve ostale.",
             r"The final state of a tic-tac-toe game is a $9 \times 9$ binary image (a black pixel is 1, a white one 0); "
             r"it is divided into 9 cells of $3 \times 3$, each holding a regular glyph: X, O or nothing. The games in "
             rf"which {t['en']} are to be recognised. The model is made, in this order, of a convolution layer, a fully "
             r"connected layer, a global max pooling layer and a sigmoid, and tells two classes apart: "
             rf"{t['en']}, and everything else."),
        _PARTS, givens="exam"),)


QUESTIONS = questions({"givens": EXAM})


def _outcome_text(board, lang: Lang) -> str:
    """Who holds which line of the board, in words."""
    s_ = lang.s
    held = []
    for player, name in ((1, "X"), (-1, "O")):
        lines = [_LINE_NAMES[j][lang.code] for j, line in enumerate(ttt.LINES) if all(board[i] == player for i in line)]
        if lines:
            held.append(s_(f"{name} ima tri u nizu: {', '.join(lines)}", f"{name} has three in a row: {', '.join(lines)}"))
    if not held:
        return s_("nitko nema tri u nizu, ploča je puna: neriješeno", "no one has three in a row, the board is full: a draw") \
            if all(v != 0 for v in board) else s_("nitko nema tri u nizu", "no one has three in a row")
    return "; ".join(held)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E3's solution in ``lang``: every hyperparameter and weight, the forward pass on a drawn
    board, the derivation of the BCE gradient."""
    figures = figures or {}
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    target = result["givens"]["target"]
    detector, unit_spec = ttt.TARGETS[target]
    k, kernel_text, scores_text = DETECTOR_TEXT[detector]
    tt = TARGET_TEXT[target]
    scale = result["givens"]["scale"]
    glyphs = result["glyphs"]
    conv, fc_w, fc_b = np.asarray(m[0]["W"]), np.asarray(m[1]["W"]), np.asarray(m[1]["b"])
    steps = {s["layer"]: np.asarray(s["output"]) for s in ex["steps"]}
    units_out = steps["fully connected"]
    s_ = lang.s
    names = unit_names(target, lang.code)
    n_units = len(names)
    givens = "\n\n".join([
        s_("Znakovi u ćeliji $3 \\times 3$:", "The glyphs in a $3 \\times 3$ cell:"),
        display(f"X = {tex(glyphs['X'])}", f"O = {tex(glyphs['O'])}",
                rf"\text{{{s_('prazno', 'empty')}}} = {tex(glyphs['empty'])}"),
        s_("Za unaprijedni prolaz odabrana je ploča ", "For the forward pass this board is chosen: ")
        + " / ".join(_board_text(ex["board"])) + f" ({_outcome_text(ex['board'], lang)}).",
    ])
    full = unit_spec == "full"
    watch_hr = "svih 9 ćelija" if full else "3 ćelije linije koju jedinica provjerava"
    watch_en = "all 9 cells" if full else "the 3 cells of the unit's line"
    weight_hr = f"težina $\\pm {num(scale)}$" if detector == "signed" else f"težina ${num(scale)}$"
    weight_en = f"weight $\\pm {num(scale)}$" if detector == "signed" else f"weight ${num(scale)}$"
    table = "\n".join([
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
        s_(f"| globalno sažimanje maksimumom | nad svih {m[2]['over']} jedinica | nema |" if n_units > 1 else
           "| globalno sažimanje maksimumom | nad jednom jedinicom | nema |",
           f"| global max pooling | over the {m[2]['over']} units | none |" if n_units > 1 else
           "| global max pooling | over the one unit | none |"),
        s_("| sigmoida | | nema |", "| sigmoid | | none |"),
    ])
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
    best = int(np.argmax(units_out))
    c = "\n\n".join([
        s_("Uz $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ i $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:",
           "With $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ and $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:"),
        display(r"\frac{\partial L}{\partial s} = -y \frac{\sigma(s)(1 - \sigma(s))}{\sigma(s)} + (1 - y) "
                r"\frac{\sigma(s)(1 - \sigma(s))}{1 - \sigma(s)} = -y (1 - \sigma(s)) + (1 - y) \sigma(s) = \sigma(s) - y",
                sep=""),
        s_(f"(ako se gubitak usrednjava po minigrupi, gradijent svakog primjera dijeli se s $N$). Na odabranoj "
           f"ploči $s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$. Kroz "
           f"globalno sažimanje maksimumom gradijent dobiva samo najbolja jedinica ({names[best]}): "
           f"$\\partial L / \\partial u = {tex(g['by_units'], 6, row=True)}$.",
           f"(the mean over a minibatch divides each example's gradient by $N$). On the chosen board "
           f"$s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$. Through the "
           f"global max pooling only the best unit ({names[best]}) receives it: "
           f"$\\partial L / \\partial u = {tex(g['by_units'], 6, row=True)}$."),
    ])
    verdict = ex["probability"] > 0.5
    answers = {
        "a": s_(f"tablica i težine gore: konvolucija s jednom jezgrom $3 \\times 3$ i korakom 3, $W_c$ gore; potpuno "
                f"povezani sloj $9 \\to {m[1]['outputs']}$ s težinom ${num(scale)}$ na ćelijama koje jedinica provjerava "
                f"i pomakom ${num(fc_b[0])}$; globalno sažimanje maksimumom; sigmoida.",
                f"the table and weights above: a convolution with one $3 \\times 3$ kernel, stride 3, $W_c$ above; a "
                f"fully connected layer $9 \\to {m[1]['outputs']}$ with weight ${num(scale)}$ on the cells its unit "
                f"watches and bias ${num(fc_b[0])}$; global max pooling; sigmoid."),
        "b": s_(f"$\\sigma(s) = {num(ex['probability'], 6)} {'>' if verdict else '<'} 0.5$: model "
                + ("je svrstava" if verdict else "ne svrstava ploču") + f" u igre u kojima {tt['hr']} (oznaka ploče "
                f"$y = {result['label']}$).",
                f"$\\sigma(s) = {num(ex['probability'], 6)} {'>' if verdict else '<'} 0.5$: the model says "
                + ("" if verdict else "not: ") + f"{tt['en']} (the board's label $y = {result['label']}$)."),
        "c": r"$\partial L / \partial s = \sigma(s) - y$",
    }
    verified = s_(
        f"Model je izgrađen od jaxdl-ovih slojeva i pokrenut na svim završnim pločama legalnih igara (pretraživanjem "
        f"stabla igre: {b['total']} = {b['x_wins']} pobjeda X-a + {b['o_wins']} pobjeda O-a + {b['draws']} "
        f"neriješenih, skup UCI Tic-Tac-Toe Endgame; u razredu je {b['positive']}): točnost "
        f"{100 * result['accuracy']:.2f} %; najmanja udaljenost vjerojatnosti od praga 0.5 je "
        f"{result['min_margin']:.6f}, a najmanja vjerojatnost ispravnog razreda {result['min_correct_probability']:.6f}. "
        f"Gradijent (c) jednak je `jax.grad` (${num(g['autodiff'], 6)}$) i konačnim razlikama "
        f"(${num(g['finite_diff'], 6)}$). Naredba: `jaxdl exam tictactoe`.",
        f"The model is built from jaxdl's layers and run on every final board of a legal game (game-tree search: "
        f"{b['total']} = {b['x_wins']} X wins + {b['o_wins']} O wins + {b['draws']} draws, the UCI Tic-Tac-Toe "
        f"Endgame set; {b['positive']} in the class): accuracy {100 * result['accuracy']:.2f}%; the smallest distance "
        f"of a probability from the 0.5 threshold is {result['min_margin']:.6f}, the lowest probability of the "
        f"correct class {result['min_correct_probability']:.6f}. The gradient of (c) equals `jax.grad` "
        f"(${num(g['autodiff'], 6)}$) and finite differences (${num(g['finite_diff'], 6)}$). Command: "
        f"`jaxdl exam tictactoe`.")
    finals = [num(ex["probability"], 6)]
    return {"E3": Body(givens, {"a": a, "b": "\n\n".join(bpart), "c": c}, answers, verified, finals)}
