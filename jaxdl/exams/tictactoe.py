"""E3: the hand-set tic-tac-toe classifier, one forward pass, the BCE gradient, and its accuracy
over every final board of a legal game."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.exams._common import display, erratum, num, tex, tolist
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.sheet import Body, Part, Question
from jaxdl.losses import binary_cross_entropy
from jaxdl.models import tictactoe as ttt

# The example: X won on the ↘ diagonal; O holds the left column's two lower cells.
EXAMPLE_BOARD = (1, 0, 0, -1, 1, 0, -1, 0, 1)


def _board_text(board) -> list[str]:
    sym = {1: "X", -1: "O", 0: "."}
    return [" ".join(sym[int(v)] for v in board[r * 3:(r + 1) * 3]) for r in range(3)]


def solve(cfg=None) -> dict:
    del cfg
    boards, outcome = ttt.final_boards()
    model, params = ttt.classifier(), ttt.hand_set_params()
    images = jnp.asarray(ttt.board_images(boards))
    probs = np.asarray(model.apply(params, images))[:, 0]
    labels = (outcome == 1).astype(np.int8)
    accuracy = float(np.mean((probs > 0.5) == labels))

    # One forward pass, layer by layer.
    image = jnp.asarray(ttt.board_images([EXAMPLE_BOARD]))
    steps, x = [], image
    names = ("convolution", "flatten (a reshape)", "fully connected", "global max pooling", "sigmoid")
    for key, layer, name in zip(params, ttt.classifier_layers(), names):
        x = layer.apply(params[key], x)
        steps.append({"layer": name, "output": tolist(np.asarray(x)[0])})

    # ∂L/∂s of the BCE loss at the sigmoid's input s (the logit), for the example and label 1.
    logit = float(np.asarray(steps[3]["output"])[0])
    with jax.enable_x64(True):
        s = jnp.asarray([[logit]], jnp.float64)
        y = jnp.ones((1, 1), jnp.float64)
        manual = float(binary_cross_entropy.backward(s, y)[0, 0])
        autodiff = float(jax.grad(binary_cross_entropy.apply)(s, y)[0, 0])
        eps = 1e-6
        numeric = float((binary_cross_entropy.apply(s + eps, y) - binary_cross_entropy.apply(s - eps, y)) / (2 * eps))

    conv_w = np.asarray(params["conv2d_0"]["W"])[0, 0]
    return {
        "glyphs": {"X": tolist(ttt.GLYPHS[1]), "O": tolist(ttt.GLYPHS[-1]), "empty": tolist(ttt.GLYPHS[0])},
        "model": {
            "layers": [
                {"layer": "convolution", "filters": 1, "kernel_size": 3, "stride": 3, "padding": 0,
                 "W": tolist(conv_w), "b": 0.0,
                 "why": "per 3×3 cell: X glyph → 5/5 = 1, O glyph → (4 − 4)/5 = 0, empty → 0"},
                {"layer": "fully connected", "inputs": 9, "outputs": 8, "W": tolist(np.asarray(params["dense_2"]["W"])),
                 "b": tolist(np.asarray(params["dense_2"]["b"])), "lines": list(ttt.LINE_NAMES),
                 "why": f"one unit per line ({', '.join(ttt.LINE_NAMES)}): {ttt.ALPHA:g}·(#X on the line − 2.5)"},
                {"layer": "global max pooling", "over": 8, "why": "the best line: +10 iff three X in a row, else ≤ −10"},
                {"layer": "sigmoid", "why": "P(X won)"},
            ],
        },
        "forward_example": {"board": list(EXAMPLE_BOARD), "image": tolist(np.asarray(image)[0, 0]), "steps": steps,
                            "probability": float(np.asarray(x)[0, 0])},
        "bce_gradient": {
            "formula": "L = −y ln σ(s) − (1 − y) ln(1 − σ(s)),  ∂L/∂s = σ(s) − y  (a minibatch mean divides by N)",
            "s": logit, "y": 1, "manual": manual, "autodiff": autodiff, "finite_diff": numeric,
        },
        "boards": {
            "total": int(len(boards)),
            "x_wins": int(np.sum(outcome == 1)),
            "o_wins": int(np.sum(outcome == -1)),
            "draws": int(np.sum(outcome == 0)),
        },
        "accuracy": accuracy,
        # The smallest distance of any board's probability from the 0.5 threshold, and the lowest
        # probability the model gives any board's correct class.
        "min_margin": float(np.min(np.abs(probs - 0.5))),
        "min_correct_probability": float(min(probs[labels == 1].min(), 1 - probs[labels == 0].max())),
        "errata": [erratum(
            "E3", "no official solution", "the model, its values, the forward pass and the gradient are worked out "
            "below, and the model is checked on every final board",
            f"the seed's solutions end after E2; this model classifies all {int(len(boards))} final boards "
            f"correctly ({100 * accuracy:.2f}%)", kind="incomplete",
            hr={"seed": "nema službenog rješenja",
                "verified": "model, njegovi parametri, unaprijedni prolaz i gradijent izvedeni su u rješenju, a "
                            "model je provjeren na svim završnim pločama",
                "evidence": f"službena rješenja završavaju nakon zadatka E2; ovaj model ispravno klasificira svih "
                            f"{int(len(boards))} završnih ploča ({100 * accuracy:.2f} %)"})],
    }


def report(result: dict) -> str:
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    conv = np.asarray(m[0]["W"])
    lines = [
        "E3  Tic-tac-toe: convolution → fully connected → global max pooling → sigmoid",
        f"  convolution: {m[0]['filters']} filter {m[0]['kernel_size']}×{m[0]['kernel_size']}, stride {m[0]['stride']}, "
        f"no padding, bias 0, W = (2·X − 1)/5 = {np.rint(conv * 5).astype(int).tolist()}/5",
        f"      {m[0]['why']}",
        f"  fully connected 9 → 8, W = 20 on the line's cells, b = −50:  {m[1]['why']}",
        f"  global max pooling over the 8 lines: {m[2]['why']};  sigmoid: {m[3]['why']}",
        "  forward pass on the board " + " / ".join(_board_text(ex["board"])) + ":",
    ]
    for step in ex["steps"]:
        out = np.asarray(step["output"])
        lines.append(f"      {step['layer']:<22} {np.array2string(out.reshape(-1) if out.ndim > 1 else out, precision=5, separator=', ', max_line_width=200)}")
    lines += [
        f"  → P(X won) = {ex['probability']:.6f}",
        f"  BCE gradient at the sigmoid's input: {g['formula']}",
        f"      s = {g['s']:g}, y = 1: manual {g['manual']:.6e}, jax.grad {g['autodiff']:.6e}, finite diff {g['finite_diff']:.6e}",
        f"  all final boards of legal games (game-tree search): {b['total']} = {b['x_wins']} X wins + "
        f"{b['o_wins']} O wins + {b['draws']} draws",
        f"  accuracy over them: {100 * result['accuracy']:.2f}% (smallest distance from the 0.5 threshold: "
        f"{result['min_margin']:.6f}; lowest probability of the correct class: {result['min_correct_probability']:.6f})",
    ]
    return "\n".join(lines)


QUESTIONS = (Question(
    "E3", both("Križić-kružić", "Tic-tac-toe"), 10,
    both(r"Završno stanje igre križić-kružić zapisano je binarnom slikom $9 \times 9$ (crni piksel je 1, bijeli 0); "
         r"slika je podijeljena na 9 ćelija $3 \times 3$ i u svakoj je ispravno nacrtan X ili O, ili je ćelija "
         r"prazna. Treba prepoznati igre u kojima je pobijedio X. Model se sastoji, tim redom, od konvolucijskog sloja, "
         r"potpuno povezanog sloja, sloja globalnog sažimanja maksimumom i sigmoide, a razlikuje dva razreda: pobjedu X-a i sve ostalo.",
         r"The final state of a tic-tac-toe game is a $9 \times 9$ binary image (a black pixel is 1, a white one 0); "
         r"it is divided into 9 cells of $3 \times 3$, each holding a regular glyph: X, O or nothing. The games X "
         r"won are to be counted. The model is made, in this order, of a convolution layer, a fully connected "
         r"layer, a global max pooling layer and a sigmoid, and tells two classes apart: X won, and everything else."),
    (Part("a", 5, both("Odredite sve hiperparametre i parametre modela tako da ispravno klasificira svaku sliku.",
                       "Give all the model's hyperparameters and parameters so that it classifies every image "
                       "correctly.")),
     Part("b", 2, both("Provedite jedan unaprijedni prolaz za zadanu sliku i pokažite da model radi ispravno.",
                       "Carry out one forward pass for a given image and show that the model works.")),
     Part("c", 3, both("Izvedite gradijent gubitka binarne unakrsne entropije po klasifikacijskoj mjeri (ulazu "
                       "sigmoide).",
                       "Derive the gradient of the binary cross-entropy loss by the classification score (the "
                       "sigmoid's input)."))),
    givens="exam"),)


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E3's solution in ``lang``: every hyperparameter and weight, the forward pass on a drawn
    board, the derivation of the BCE gradient."""
    figures = figures or {}
    m, ex, g, b = result["model"]["layers"], result["forward_example"], result["bce_gradient"], result["boards"]
    glyphs = result["glyphs"]
    conv, fc_w, fc_b = np.asarray(m[0]["W"]), np.asarray(m[1]["W"]), np.asarray(m[1]["b"])
    steps = {s["layer"]: np.asarray(s["output"]) for s in ex["steps"]}
    lines_out = steps["fully connected"]
    s_ = lang.s
    line_names = [s_(f"redak {i}", f"row {i}") for i in (1, 2, 3)] + [s_(f"stupac {i}", f"column {i}") for i in (1, 2, 3)] \
        + [s_("dijagonala ↘", "diagonal ↘"), s_("dijagonala ↙", "diagonal ↙")]
    givens = "\n\n".join([
        s_("Znakovi u ćeliji $3 \\times 3$:", "The glyphs in a $3 \\times 3$ cell:"),
        display(f"X = {tex(glyphs['X'])}", f"O = {tex(glyphs['O'])}",
                rf"\text{{{s_('prazno', 'empty')}}} = {tex(glyphs['empty'])}"),
        s_("Za unaprijedni prolaz odabrana je ploča ", "For the forward pass this board is chosen: ")
        + " / ".join(_board_text(ex["board"])) + s_(" (X je pobijedio na dijagonali ↘).", " (X won on the ↘ diagonal)."),
    ])
    table = "\n".join([
        s_("| sloj | hiperparametri | parametri |", "| layer | hyperparameters | parameters |"),
        "|---|---|---|",
        s_(f"| konvolucijski | 1 jezgra ${m[0]['kernel_size']} \\times {m[0]['kernel_size']}$, korak {m[0]['stride']}, "
           f"nadopuna {m[0]['padding']} | $W_c = (2X - 1)/5$ (ispod), pomak $b_c = 0$ |",
           f"| convolution | 1 kernel ${m[0]['kernel_size']} \\times {m[0]['kernel_size']}$, stride {m[0]['stride']}, "
           f"padding {m[0]['padding']} | $W_c = (2X - 1)/5$ (below), bias $b_c = 0$ |"),
        s_(f"| potpuno povezani | {m[1]['inputs']} → {m[1]['outputs']} (mapa $3 \\times 3$ razvučena u vektor redak po "
           f"redak) | težina ${num(fc_w.max())}$ za 3 ćelije linije koju jedinica provjerava, 0 drugdje; pomak "
           f"${num(fc_b[0])}$ |",
           f"| fully connected | {m[1]['inputs']} → {m[1]['outputs']} (the $3 \\times 3$ map flattened row by row) | "
           f"${num(fc_w.max())}$ on the 3 cells of the unit's line, 0 elsewhere; bias ${num(fc_b[0])}$ |"),
        s_(f"| globalno sažimanje maksimumom | nad svih {m[2]['over']} jedinica | nema |",
           f"| global max pooling | over the {m[2]['over']} units | none |"),
        s_("| sigmoida | | nema |", "| sigmoid | | none |"),
    ])
    a = "\n\n".join([
        s_("Konvolucija ocjenjuje svaku ćeliju, svaka jedinica potpuno povezanog sloja broji X-ove na jednoj od 8 "
           "linija, globalno sažimanje maksimumom zadržava najbolju liniju, a sigmoida njezinu ocjenu pretvara u "
           "vjerojatnost pobjede X-a.",
           "The convolution scores each cell, each fully connected unit counts the X on one of the 8 lines, the "
           "global max pooling keeps the best line, the sigmoid turns it into the probability that X won."),
        table,
        display(rf"W_c = \frac{{1}}{{5}} {tex(np.rint(conv * 5))}"),
        s_(f"Ocjena ćelije je $\\langle W_c, \\text{{ćelija}} \\rangle$: X daje $5/5 = 1$, O daje $(4 - 4)/5 = 0$, "
           f"prazna ćelija 0. Uz $k$ X-ova na liniji njezina jedinica daje ${num(fc_w.max())} k - {num(-fc_b[0])}$: "
           f"$+10$ za tri X-a, najviše $-10$ inače, pa je sigmoida najbolje linije iznad $0.99995$ ako i samo ako X "
           f"ima "
           f"tri u nizu.",
           f"A cell's score is $\\langle W_c, \\text{{cell}} \\rangle$: X gives $5/5 = 1$, O gives $(4 - 4)/5 = 0$, an "
           f"empty cell 0. With $k$ X on a line, its unit gives ${num(fc_w.max())} k - {num(-fc_b[0])}$: $+10$ for "
           f"three X, at most $-10$ otherwise, so the sigmoid of the best line is above $0.99995$ exactly when X has "
           f"three in a row."),
        s_("Težine potpuno povezanog sloja, redak po liniji (", "The fully connected weights, one row per line (")
        + ", ".join(line_names) + s_("), stupci su ćelije redak po redak:", "), the columns the cells row by row:"),
        display(rf"W_{{\text{{fc}}}}^\top = {tex(fc_w.T)}", rf"b_{{\text{{fc}}}} = {tex(fc_b)}"),
    ])
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
                rf"\text{{{s_('potpuno povezani', 'fully connected')}}} = {tex(lines_out, row=True)}"),
        "\n".join([s_("| linija | ", "| line | ") + " | ".join(line_names) + " |",
                   "|---|" + "---|" * len(line_names),
                   s_("| izlaz jedinice | ", "| unit output | ") + " | ".join(f"${num(v)}$" for v in lines_out) + " |"]),
        display(rf"s = \max_k (\ldots)_k = {num(steps['global max pooling'][0])}",
                rf"\sigma(s) = {num(ex['probability'], 6)}"),
    ]
    c = "\n\n".join([
        s_("Uz $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ i $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:",
           "With $L = -y \\ln \\sigma(s) - (1 - y) \\ln(1 - \\sigma(s))$ and $\\sigma'(s) = \\sigma(s)(1 - \\sigma(s))$:"),
        display(r"\frac{\partial L}{\partial s} = -y \frac{\sigma(s)(1 - \sigma(s))}{\sigma(s)} + (1 - y) "
                r"\frac{\sigma(s)(1 - \sigma(s))}{1 - \sigma(s)} = -y (1 - \sigma(s)) + (1 - y) \sigma(s) = \sigma(s) - y",
                sep=""),
        s_(f"(ako se gubitak usrednjava po minigrupi, gradijent svakog primjera dijeli se s $N$). Na odabranoj "
           f"ploči "
           f"$s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$.",
           f"(the mean over a minibatch divides each example's gradient by $N$). On the chosen board "
           f"$s = {num(g['s'])}$, $y = {g['y']}$: $\\partial L / \\partial s = {num(g['manual'], 6)}$."),
    ])
    answers = {
        "a": s_("tablica i težine gore: konvolucija s jednom jezgrom $3 \\times 3$ i korakom 3, $W_c = (2X - 1)/5$; "
                "potpuno povezani sloj $9 \\to 8$ s težinom 20 na ćelijama linije i pomakom $-50$; globalno "
                "sažimanje maksimumom; sigmoida.",
                "the table and weights above: a convolution with one $3 \\times 3$ kernel, stride 3, "
                "$W_c = (2X - 1)/5$; a fully connected layer $9 \\to 8$ with weight 20 on the line's cells and bias "
                "$-50$; global max pooling; sigmoid."),
        "b": s_(f"$\\sigma(s) = {num(ex['probability'], 6)} > 0.5$: X je pobijedio.",
                f"$\\sigma(s) = {num(ex['probability'], 6)} > 0.5$: X won."),
        "c": r"$\partial L / \partial s = \sigma(s) - y$",
    }
    verified = s_(
        f"Model je izgrađen od jaxdl-ovih slojeva i pokrenut na svim završnim pločama legalnih igara (pretraživanjem "
        f"stabla igre: {b['total']} = {b['x_wins']} pobjeda X-a + {b['o_wins']} pobjeda O-a + {b['draws']} "
        f"neriješenih, skup UCI Tic-Tac-Toe Endgame): točnost {100 * result['accuracy']:.2f} %; najmanja udaljenost "
        f"vjerojatnosti od praga 0.5 je {result['min_margin']:.6f}, a najmanja vjerojatnost ispravnog razreda "
        f"{result['min_correct_probability']:.6f}. Gradijent (c) jednak je `jax.grad` (${num(g['autodiff'], 6)}$) i "
        f"konačnim razlikama (${num(g['finite_diff'], 6)}$). Naredba: `jaxdl exam tictactoe`.",
        f"The model is built from jaxdl's layers and run on every final board of a legal game (game-tree search: "
        f"{b['total']} = {b['x_wins']} X wins + {b['o_wins']} O wins + {b['draws']} draws, the UCI Tic-Tac-Toe "
        f"Endgame set): accuracy {100 * result['accuracy']:.2f}%; the smallest distance of a probability from the "
        f"0.5 threshold is {result['min_margin']:.6f}, the lowest probability of the correct class "
        f"{result['min_correct_probability']:.6f}. The gradient of (c) equals `jax.grad` (${num(g['autodiff'], 6)}$) and "
        f"finite differences (${num(g['finite_diff'], 6)}$). Command: `jaxdl exam tictactoe`.")
    finals = [num(ex["probability"], 6)]
    return {"E3": Body(givens, {"a": a, "b": "\n\n".join(bpart), "c": c}, answers, verified, finals)}
