"""E1's text: the question restated, and the worked solution in each language (gradients as row
vectors, the exam's layout)."""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.exams._common import display, num, tex
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.mlp import family
from jaxdl.exams.problem import Body, Part, Question


def _hr_count(k: int, one: str, few: str, many: str) -> str:
    """The Croatian form of a noun after the number ``k`` (:meth:`Lang.count`'s agreement)."""
    return Lang("hr").count(k, one, few, many).split(" ", 1)[1]


def d(a: str, b: str) -> str:
    """∂a/∂b in LaTeX."""
    return rf"\frac{{\partial {a}}}{{\partial {b}}}"


_TEMPLATE = (r"\frac{\partial L}{\partial s} = \dots, \quad \frac{\partial L}{\partial \mathbf{w}} = "
             r"\frac{\partial L}{\partial s} \dots, \quad \frac{\partial L}{\partial \mathbf{h}'} = \dots, \quad \dots, "
             r"\quad \frac{\partial L}{\partial (\mathbf{W}_{[i,:]}^\top)} = \dots, \quad "
             r"\frac{\partial L}{\partial \mathbf{b}} = \frac{\partial L}{\partial \mathbf{h}}")

QUESTIONS = (Question(
    code="E1", title=both("Višeslojni perceptron s logističkim gubitkom", "An MLP with the logistic loss"), points=10,
    stem=both(r"Zadan je unaprijedni prolaz jednog primjera $\mathbf{x} \in \mathbb{R}^n$: $\mathbf{h} = "
              r"\mathbf{W}\mathbf{x} + \mathbf{b}$ uz $\mathbf{W} \in \mathbb{R}^{m \times n}$, $\mathbf{h}' = "
              r"\operatorname{ReLU}(\mathbf{h})$, $s = \mathbf{w}^\top \mathbf{h}'$ i $L = -\ln \sigma(s)\, [y = 1] - "
              r"\ln(1 - \sigma(s))\, [y = 0]$ (uglate zagrade su Iversonove: 1 kad uvjet vrijedi, inače 0). Zadan je "
              r"i nedovršeni niz jednadžbi unatražnog prolaza:" "\n\n$$\n" + _TEMPLATE + "\n$$",
              r"The forward pass of one example $\mathbf{x} \in \mathbb{R}^n$ is given: $\mathbf{h} = "
              r"\mathbf{W}\mathbf{x} + \mathbf{b}$ with $\mathbf{W} \in \mathbb{R}^{m \times n}$, $\mathbf{h}' = "
              r"\operatorname{ReLU}(\mathbf{h})$, $s = \mathbf{w}^\top \mathbf{h}'$ and $L = -\ln \sigma(s)\, [y = 1] - "
              r"\ln(1 - \sigma(s))\, [y = 0]$ (Iverson brackets: 1 where the condition holds, 0 otherwise). So is the "
              r"unfinished sequence of the backward pass's equations:" "\n\n$$\n" + _TEMPLATE + "\n$$"),
    parts=(Part(id="a", points=1, text=both(r"Koliko skalarnih zbrajanja i množenja zahtijeva najjednostavnija izvedba za računanje "
                       r"$\mathbf{h}$?",
                       r"How many scalar additions and multiplications does the plainest implementation need to "
                       r"compute $\mathbf{h}$?"),
          accepted=both("$mn + m$ zbrajanja", "$mn + m$ additions")),
     Part(id="b", points=2, text=both(r"Zapišite element $\mathbf{h}_{[i]}$ po definiciji matričnog množenja i izvedite "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{x}_{[j]}$, "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{W}_{[k,l]}$ i "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{b}_{[j]}$.",
                       r"Write the element $\mathbf{h}_{[i]}$ from the definition of the matrix product and derive "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{x}_{[j]}$, "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{W}_{[k,l]}$ and "
                       r"$\partial \mathbf{h}_{[i]} / \partial \mathbf{b}_{[j]}$.")),
     Part(id="c", points=1, text=both(r"Koje su dimenzije tenzora $\mathbf{w}$, $\partial \mathbf{h}' / \partial \mathbf{h}$ "
                       r"i $\partial L / \partial \mathbf{h}'$ i koliko je njihovih elemenata uvijek jednako 0?",
                       r"What are the shapes of the tensors $\mathbf{w}$, $\partial \mathbf{h}' / \partial \mathbf{h}$ "
                       r"and $\partial L / \partial \mathbf{h}'$, and how many of their elements are always 0?"),
          accepted=both(r"dimenzije $(m, 1)$ za $\mathbf{w}$", r"the shape $(m, 1)$ for $\mathbf{w}$")),
     Part(id="d", points=4, text=both("Dovršite jednadžbe unatražnog prolaza tako da daju derivacije gubitka (jakobijane) po "
                       "međurezultatima i parametrima, bez redundantnih operacija.",
                       "Complete the backward equations so that they give the loss's derivatives (Jacobians) by the "
                       "intermediate results and the parameters, without redundant operations.")),
     Part(id="e", points=2, text=both(r"Nacrtajte računske grafove unaprijednog i unatražnog prolaza: čvorovi su ulazne varijable "
                       r"(npr. $\mathbf{x}$, $\mathbf{w}$) i međurezultati s operacijom kojom nastaju (npr. "
                       r"$(\mathbf{h}, +)$, $(\mathbf{h}', \operatorname{ReLU})$), bridovi izravne ovisnosti. Elementarne "
                       r"operacije su matrično množenje, zbrajanje vektora, ReLU i cijeli gubitak $(s, y) \mapsto L$.",
                       r"Draw the computational graphs of the forward and the backward pass: nodes are the inputs "
                       r"(e.g. $\mathbf{x}$, $\mathbf{w}$) and the intermediate results with the operation that makes "
                       r"them (e.g. $(\mathbf{h}, +)$, $(\mathbf{h}', \operatorname{ReLU})$), edges direct dependencies. "
                       r"The elementary operations are the matrix product, vector addition, ReLU and the whole loss "
                       r"$(s, y) \mapsto L$."))),
    givens="chosen"),)


def _asks(result: dict) -> dict:
    """What a drawn variant's keyed parts ask on its givens: ``{part: both(...)}``."""
    gv = result["givens"]
    m, n = len(gv["b"]), len(gv["x"])
    e = family.entries(gv)
    (i, j), (i2, k, l) = e["dh_dx"], e["dh_dW"]
    iw, jb, (kw, lw) = e["dw"], e["db"], e["dW"]
    dh_dx = rf"$\partial h_{{{i + 1}}} / \partial x_{{{j + 1}}}$"
    dh_dW = rf"$\partial h_{{{i2 + 1}}} / \partial W_{{{k + 1}{l + 1}}}$"
    grads = (r"$\partial L / \partial s$, " + rf"$(\partial L / \partial \mathbf{{w}})_{{{iw + 1}}}$, "
             rf"$(\partial L / \partial \mathbf{{b}})_{{{jb + 1}}}$")
    dW = rf"$(\partial L / \partial \mathbf{{W}})_{{{kw + 1}{lw + 1}}}$"
    return {
        "a": both(f" Za zadane $m = {m}$ i $n = {n}$: koliko je skalarnih množenja?",
                  f" For the given $m = {m}$ and $n = {n}$: how many scalar multiplications?"),
        "b": both(f" Za zadane vrijednosti: koliko je {dh_dx}, a koliko {dh_dW}?",
                  f" On the givens: what are {dh_dx} and {dh_dW}?"),
        "c": both(rf" Za zadani $m = {m}$: koliko je elemenata od $\partial \mathbf{{h}}' / \partial \mathbf{{h}}$ uvijek 0?",
                  rf" For the given $m = {m}$: how many entries of $\partial \mathbf{{h}}' / \partial \mathbf{{h}}$ are always 0?"),
        "d": both(f" Za zadane vrijednosti izračunajte {grads} i {dW}.", f" On the givens, compute {grads} and {dW}."),
    }


def questions(result: dict) -> tuple:
    """E1 as asked for ``result``: a drawn variant's parts (a)–(d) also ask for numbers on its
    givens, which its blanks key; (e), the graphs, is marked by hand."""
    if "variant" not in result:
        return QUESTIONS
    asks = _asks(result)
    q = QUESTIONS[0]
    parts = tuple(dataclasses.replace(p, text={k: p.text[k] + asks[p.id][k] for k in ("hr", "en")}) if p.id in asks else p
                  for p in q.parts)
    return (dataclasses.replace(q, parts=parts),)


def _givens(result: dict, lang: Lang) -> str:
    gv = result["givens"]
    m, n = len(gv["b"]), len(gv["x"])
    y = gv["y"]
    s_ = lang.s
    return "\n\n".join([
        s_(f"$m = {m}$ {_hr_count(m, 'skrivena jedinica', 'skrivene jedinice', 'skrivenih jedinica')}, $n = {n}$ "
           f"{_hr_count(n, 'ulaz', 'ulaza', 'ulaza')}:", f"$m = {m}$ hidden units, $n = {n}$ inputs:"),
        display(f"W = {tex(gv['W'])}", f"b = {tex(gv['b'])}", f"x = {tex(gv['x'])}", f"w = {tex(gv['w'])}",
                f"y = {y}"),
    ])


def _forward_and_counting(result: dict, lang: Lang) -> tuple[dict, dict]:
    """The forward pass, and parts (a)–(c): ``(steps, answers)``."""
    gv, f, j = result["givens"], result["forward"], result["jacobians"]
    m, n = len(gv["b"]), len(gv["x"])
    loss_term = r"-\ln \sigma(s)" if gv["y"] == 1 else r"-\ln(1 - \sigma(s))"
    s_ = lang.s
    steps, answers = {}, {}
    steps[""] = "\n\n".join([
        s_("Unaprijedni prolaz za zadane vrijednosti:", "The forward pass on the givens:"),
        display(f"W x = {tex(f['Wx'])}", f"h = W x + b = {tex(f['h'])}",
                rf"h' = \operatorname{{ReLU}}(h) = {tex(f['h_relu'])}"),
        display(rf"s = w^\top h' = {num(f['s'])}", rf"\sigma(s) = {num(f['sigma_s'])}",
                rf"L = {loss_term} = {num(f['L'])}"),
    ])
    steps["a"] = s_(
        f"Svaki $h_i = \\sum_{{j=1}}^{{n}} W_{{ij}} x_j + b_i$ zahtijeva $n$ množenja i $n - 1$ zbrajanja za "
        f"skalarni produkt te još jedno zbrajanje za $b_i$; redaka je $m$.",
        f"Each $h_i = \\sum_{{j=1}}^{{n}} W_{{ij}} x_j + b_i$ takes $n$ multiplications and $n - 1$ additions for "
        f"the dot product, and one more addition for $b_i$; there are $m$ rows.")
    answers["a"] = s_(f"$mn = {m * n}$ množenja i $m(n-1) + m = mn = {m * n}$ zbrajanja.",
                      f"$mn = {m * n}$ multiplications and $m(n-1) + m = mn = {m * n}$ additions.")
    steps["b"] = s_("Po definiciji matričnog množenja $h_i = \\sum_j W_{ij} x_j + b_i$; $x_j$ se u $h_i$ javlja "
                    "samo uz $W_{ij}$, a $W_{kl}$ samo kad je $k = i$:",
                    "From the definition of the matrix product, $h_i = \\sum_j W_{ij} x_j + b_i$; $x_j$ appears in "
                    "$h_i$ only with $W_{ij}$, and $W_{kl}$ only when $k = i$:")
    answers["b"] = display(rf"{d('h_i', 'x_j')} = W_{{ij}}", rf"{d('h_i', 'W_{kl}')} = [k = i]\, x_l",
                           rf"{d('h_i', 'b_j')} = [i = j]")
    steps["c"] = "\n".join([
        s_("Elementi koji su 0 za svaki ulaz:", "The elements that are 0 for every input:"),
        "",
        s_("| veličina | dimenzije | uvijek 0 | zašto |", "| quantity | shape | always 0 | why |"),
        "|---|---|---|---|",
        f"| $w$ | ${m} \\times 1$ | {j['w']['always_zero']} | "
        + s_("parametar: može biti bilo koji broj |", "a parameter: any value |"),
        f"| ${d(chr(104) + chr(39), 'h')}$ | ${m} \\times {m}$ | {j['dh_relu_dh']['always_zero']} | "
        + s_(f"$h'_i$ ovisi samo o $h_i$: $m^2 - m$ elemenata izvan dijagonale |",
             f"$h'_i$ depends on $h_i$ only: the $m^2 - m$ entries off the diagonal |"),
        f"| ${d('L', chr(104) + chr(39))}$ | $1 \\times {m}$ | {j['dL_dh_relu']['always_zero']} | "
        + s_("$(\\sigma(s) - y)\\, w^\\top$: nijedan element nije 0 za svaki ulaz |",
             "$(\\sigma(s) - y)\\, w^\\top$: no entry is 0 for every input |"),
    ])
    answers["c"] = s_(
        f"$w$: ${m} \\times 1$, nijedan element nije uvijek 0; $\\partial h' / \\partial h$: ${m} \\times {m}$, uvijek 0 ih "
        f"je $m^2 - m = {j['dh_relu_dh']['always_zero']}$ (izvan dijagonale); $\\partial L / \\partial h'$: "
        f"$1 \\times {m}$, nijedan element nije uvijek 0.",
        f"$w$: ${m} \\times 1$, none always 0; $\\partial h' / \\partial h$: ${m} \\times {m}$, "
        f"$m^2 - m = {j['dh_relu_dh']['always_zero']}$ always 0 (off the diagonal); $\\partial L / \\partial h'$: "
        f"$1 \\times {m}$, none always 0.")
    return steps, answers


def _backward(result: dict, lang: Lang) -> tuple[str, str]:
    """Part (d): the backward equations on the givens, and as an answer."""
    gv, f, g = result["givens"], result["forward"], result["grads"]
    y = gv["y"]
    mask = (np.asarray(f["h"]) > 0).astype(float)
    s_ = lang.s
    steps, answers = {}, {}
    bc = result["backward_op_counts"]
    m = len(gv["b"])
    adds = bc["additions"]
    steps["d"] = "\n\n".join([
        s_("Gradijenti su retčani vektori; svaka jednadžba koristi rezultat prethodne, a $\\sigma(s)$ se uzima iz "
           "unaprijednog prolaza:",
           "Gradients are row vectors; each equation uses the result of an earlier one, and $\\sigma(s)$ is kept "
           "from the forward pass:"),
        display(rf"{d('L', 's')} = \sigma(s) - y = {num(f['sigma_s'])} - {y} = {num(g['dL_ds'])}"),
        display(rf"{d('L', 'w')} = {d('L', 's')}\, h'^\top = {tex(g['dL_dw'], row=True)}",
                rf"{d('L', chr(104) + chr(39))} = {d('L', 's')}\, w^\top = {tex(g['dL_dh_relu'], row=True)}"),
        display(rf"{d('L', 'h')} = {d('L', chr(104) + chr(39))} \odot [h > 0] = "
                rf"{tex(g['dL_dh_relu'], row=True)} \odot {tex(mask, row=True)} = "
                rf"{tex(g['dL_dh'], row=True)}", sep=""),
        display(rf"{d('L', '(W_{[i,:]}^' + chr(92) + 'top)')} = {d('L', 'h_i')}\, x^\top",
                rf"{d('L', 'W')} = \left({d('L', 'h')}\right)^{{\!\top}} x^\top = {tex(g['dL_dW'])}",
                rf"{d('L', 'b')} = {d('L', 'h')} = {tex(g['dL_db'], row=True)}"),
        s_(f"Ništa se ne računa dvaput: prebrojano u kodu ovih jednadžbi (kao u (a)), to je "
           f"{lang.count(bc['multiplications'], 'množenje', 'množenja', 'množenja')} i "
           f"{lang.count(adds, 'zbrajanje', 'zbrajanja', 'zbrajanja')} (oduzimanje u $\\sigma(s) - y$), upravo onoliko "
           f"koliko jednadžbe traže: $mn + 3m = {bc['closed_form']['multiplications']}$ i {bc['closed_form']['additions']}. "
           f"Maska $[h > 0]$ množi po elementima: umnožak s $\\operatorname{{diag}}([h > 0])$ tražio bi "
           f"$m^2 = {m * m}$ množenja i $m(m - 1) = {m * (m - 1)}$ zbrajanja umjesto $m = {m}$ množenja.",
           f"Nothing is computed twice: counted in the code of these equations (as in (a)), they take "
           f"{bc['multiplications']} multiplications and {adds} addition{'s' if adds != 1 else ''} (the "
           f"subtraction in $\\sigma(s) - y$), exactly the equations' $mn + 3m = {bc['closed_form']['multiplications']}$ "
           f"and {bc['closed_form']['additions']}. The mask $[h > 0]$ multiplies elementwise: the product with "
           f"$\\operatorname{{diag}}([h > 0])$ would take $m^2 = {m * m}$ multiplications and $m(m - 1) = {m * (m - 1)}$ "
           f"additions instead of $m = {m}$ multiplications."),
    ])
    answers["d"] = display(
        rf"{d('L', 's')} = \sigma(s) - [y = 1]", rf"{d('L', 'w')} = {d('L', 's')}\, h'^\top",
        rf"{d('L', chr(104) + chr(39))} = {d('L', 's')}\, w^\top",
        rf"{d('L', 'h')} = {d('L', chr(104) + chr(39))} \odot [h > 0]",
        rf"{d('L', '(W_{[i,:]}^' + chr(92) + 'top)')} = {d('L', 'h_i')}\, x^\top", rf"{d('L', 'b')} = {d('L', 'h')}")
    return steps["d"], answers["d"]


def _graphs(result: dict, figures: dict, lang: Lang) -> tuple[str, str]:
    """Part (e): the two computational graphs (pictures where drawn) and their edges."""
    s_ = lang.s
    steps, answers = {}, {}
    graph_parts = [s_("Čvorovi su ulazi i međurezultati s operacijom; bridovi su izravne ovisnosti.",
                      "Nodes are the inputs and the intermediate results with their operation; edges are direct "
                      "dependencies.")]
    for kind in ("forward", "backward"):
        name = s_("unaprijedni prolaz", "forward pass") if kind == "forward" else s_("unatražni prolaz", "backward pass")
        if figures.get(f"e1_{kind}"):
            graph_parts.append(f"![E1 {name}]({figures[f'e1_{kind}']})")
    steps["e"] = "\n\n".join(graph_parts)
    answers["e"] = "; ".join(
        (s_("unaprijedni", "forward") if kind == "forward" else s_("unatražni", "backward")) + ": "
        + ", ".join(f"{a} → {b}" for a, b in result["graph_edges"][kind]) for kind in ("forward", "backward")) + "."
    return steps["e"], answers["e"]


def _verified(result: dict, lang: Lang) -> str:
    worst_ad = max(v["vs_autodiff"] for v in result["cross_check"].values())
    worst_fd = max(v["vs_finite_diff"] for v in result["cross_check"].values() if v["vs_finite_diff"] is not None)
    bc = result["backward_op_counts"]
    s_ = lang.s
    return s_(
        f"Sve je izračunano u float64 (`jaxdl exam mlp`, zadane vrijednosti u `configs/exam_mlp.py`). Jednadžbe "
        f"(d) uspoređene su s `jax.grad` (najveća razlika {worst_ad:.1e}) i s centralnim konačnim razlikama "
        f"({worst_fd:.1e}); broj operacija u (a) i (d) prebrojan je u jaxpr-u koda (`count_ops`; (d): "
        f"{lang.count(bc['multiplications'], 'množenje', 'množenja', 'množenja')} i "
        f"{lang.count(bc['additions'], 'zbrajanje', 'zbrajanja', 'zbrajanja')}, jednako zatvorenom obliku: "
        f"{'da' if bc['agree'] else 'ne'}); derivacije (b) "
        f"jednake su `jax.jacobian` koda; nule u (c) očitane su iz jaxpr-a; grafovi (e) iscrtani su iz koda.",
        f"Everything computed in float64 (`jaxdl exam mlp`, givens in `configs/exam_mlp.py`). The equations of (d) "
        f"against `jax.grad` (largest difference {worst_ad:.1e}) and against central finite differences "
        f"({worst_fd:.1e}); the counts of (a) and (d) read off the code's jaxpr (`count_ops`; (d): "
        f"{bc['multiplications']} multiplications and {bc['additions']} addition{'s' if bc['additions'] != 1 else ''}, "
        f"equal to the closed form: {'yes' if bc['agree'] else 'no'}); the derivatives of (b) equal "
        f"to `jax.jacobian` of the code; the zeros of (c) read off the jaxpr; the graphs of (e) traced from the code.")


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E1's solution in ``lang``: givens, each part's steps and answer (gradients as row vectors)."""
    gv, f, g = result["givens"], result["forward"], result["grads"]
    m, n = len(gv["b"]), len(gv["x"])
    steps, answers = _forward_and_counting(result, lang)
    steps["d"], answers["d"] = _backward(result, lang)
    steps["e"], answers["e"] = _graphs(result, figures or {}, lang)
    finals = [str(m * n), num(f["L"]), num(g["dL_ds"]), *(num(v) for v in g["dL_dh"] if v != 0)]
    return {"E1": Body(givens=_givens(result, lang), steps=steps, answers=answers, verified=_verified(result, lang),
                       finals=finals)}
