"""The quiz's text: Q1–Q3 restated, and their worked solutions in each language (the numpy
classes of Q1, the PyTorch modules of Q2 and Q3)."""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxdl.exams._common import code_block, display, lab_source, num, tex, without_docstrings
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.problem import Body, Part, Question
from jaxdl.exams.quiz import family
from jaxdl.exams.torch_answers import source as torch_source


def _dl(v: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {v}}}"


def _methods(init: float, fwd: float, bi: float, bp: float) -> tuple:
    """The lab's ``Layer`` methods as a question's parts, with the official points."""
    return (
        Part(id="a", points=init, text=both("konstruktor `__init__`", "the constructor `__init__`")),
        Part(id="b", points=fwd, text=both("`forward(inputs)`", "`forward(inputs)`")),
        Part(id="c", points=bi, text=both("`backward_inputs(grads)`: gradijent po ulazu",
                                          "`backward_inputs(grads)`: the gradient by the input")),
        Part(id="d", points=bp, text=both("`backward_params(grads)`: gradijenti po parametrima",
                                          "`backward_params(grads)`: the gradients by the parameters")))
_LAB_STEM = both("Izvedbu temeljite na biblioteci NumPy i sučelju `Layer` (metode `forward`, `backward_inputs` i "
                 "`backward_params`); na ulaz sloja dolaze minigrupe 1D podataka kao matrice $N \\times D$.",
                 "Base the implementation on numpy and the `Layer` interface (the methods `forward`, `backward_inputs` "
                 "and `backward_params`); the layer's input is minibatches of 1D data as $N \\times D$ matrices.")
_PARTS_NOTE = both("Ispit dijelove ne navodi: dijelovi (a)–(d) po metodama i njihovi bodovi slijede komentare službenog "
                   "rješenja.",
                   "The exam lists no parts: the parts (a)–(d), one per method, and their points follow the comments of "
                   "the official solution.")


def _stem(hr: str, en: str, *notes: dict) -> dict:
    return {"hr": " ".join([hr, *(n["hr"] for n in notes)]), "en": " ".join([en, *(n["en"] for n in notes)])}


# Q2's skeleton, written anew with the exam's names (the parts' gaps marked by comments).
_SKELETON = """```python
class ConvAvgPool2d(nn.Module):
    def __init__(self, channels, K):
        super().__init__()
        self.K = K
        # {a}
        self.conv = nn.Conv2d(..., ..., kernel_size=..., stride=..., padding=..., bias=...)
        self.conv.weight = self.init_weight()

    def init_weight(self):
        # {b}
        ...

    def parameters(self, recurse=True):
        # {c}
        ...

    def forward(self, x):
        # {d}
        ...
```"""
_SKELETON_TEXT = {
    "hr": _SKELETON.format(a="(a) dopunite argumente konvolucije", b="(b) vraća tenzor težine dimenzija (c_out, c_in, K, K)",
                           c="(c) vraća parametre sloja", d="(d) unaprijedni prolaz"),
    "en": _SKELETON.format(a="(a) fill in the convolution's arguments", b="(b) returns the weight tensor of shape (c_out, c_in, K, K)",
                           c="(c) returns the layer's parameters", d="(d) the forward pass"),
}
# Q3's sequence of transformations, written anew with the exam's names.
_SEQUENCE = """```
x1, x2 = divide(x, dim=1)
y1, y2 = x1, x2 + h(x1)
y = concatenate((y1, y2), dim=1)
```"""

QUESTIONS = (
    Question(code="Q1a", title=both("Kvadratni sloj", "The quadratic layer"), points=12,
             stem=_stem(r"Predložite izvedbu sučelja `Layer` za transformaciju $F(\mathbf{x}) = \mathbf{A}(\mathbf{x} \odot "
                        r"\mathbf{x}) + b\mathbf{x} + \mathbf{c}$, gdje su $\mathbf{A}$ i $\mathbf{c}$ parametri sloja, a $b$ "
                        r"hiperparametar (1. zadatak, (a)). " + _LAB_STEM["hr"],
                        r"Propose an implementation of the `Layer` interface for the transformation $F(\mathbf{x}) = "
                        r"\mathbf{A}(\mathbf{x} \odot \mathbf{x}) + b\mathbf{x} + \mathbf{c}$, where $\mathbf{A}$ and "
                        r"$\mathbf{c}$ are the layer's parameters and $b$ a hyperparameter (problem 1, (a)). " + _LAB_STEM["en"],
                        _PARTS_NOTE),
             parts=_methods(2, 2, 4, 4), givens="chosen"),
    Question(code="Q1b", title=both("Aktivacijska funkcija Swish", "The Swish activation"), points=10,
             stem=_stem(r"Predložite izvedbu sučelja `Layer` za aktivacijsku funkciju Swish $g(x, \beta) = x \cdot "
                        r"\sigma(\beta x)$, gdje je $\sigma$ sigmoida, a $\beta$ hiperparametar (1. zadatak, (b)). " + _LAB_STEM["hr"],
                        r"Propose an implementation of the `Layer` interface for the Swish activation $g(x, \beta) = x "
                        r"\cdot \sigma(\beta x)$, where $\sigma$ is the sigmoid and $\beta$ a hyperparameter (problem 1, "
                        r"(b)). " + _LAB_STEM["en"], _PARTS_NOTE),
             parts=_methods(2, 2, 4, 2), givens="chosen"),
    Question(code="Q2", title=both("Sažimanje prosjekom konvolucijskim slojem", "Average pooling from a convolution layer"),
             points=10,
             stem=both(r"Dopunite kod ispod tako da ostvaruje sloj sažimanja prosjekom u oknu veličine $K \times K$ s "
                       r"korakom $K$ pomoću konvolucijskog sloja `nn.Conv2d` iz PyTorcha; na ulaz sloja dolaze minigrupe "
                       r"slika dimenzija $N \times C \times H \times W$." "\n\n" + _SKELETON_TEXT["hr"] + "\n\n"
                       r"Kostur je zapisan onako kako ga Python i PyTorch prihvaćaju: ispit piše `nn.Conv2D`, "
                       r"`parameters(recurse=True)` bez `self` i docstring metode `forward` s po četiri navodnika. "
                       r"Ispit dijelove ne navodi: dijelovi (a)–(d) i njihovi bodovi slijede komentare službenog "
                       r"rješenja.",
                       r"Complete the code below so that it is an average pooling layer over $K \times K$ windows with "
                       r"stride $K$, by means of PyTorch's convolution layer `nn.Conv2d`; the layer's input is "
                       r"minibatches of images $N \times C \times H \times W$." "\n\n" + _SKELETON_TEXT["en"] + "\n\n"
                       r"The skeleton is written as Python and PyTorch accept it: the exam writes `nn.Conv2D`, "
                       r"`parameters(recurse=True)` without `self`, and `forward`'s docstring with four quotes on each "
                       r"side. The exam lists no parts: the parts (a)–(d) and their points follow the comments of the "
                       r"official solution."),
             parts=(Part(id="a", points=3, text=both("konstruktor i argumenti `nn.Conv2d`", "the constructor and the arguments of `nn.Conv2d`")),
              Part(id="b", points=4, text=both("`init_weight`", "`init_weight`")), Part(id="c", points=1, text=both("`parameters`", "`parameters`")),
              Part(id="d", points=2, text=both("`forward`", "`forward`"))), givens="chosen"),
    Question(code="Q3", title=both("Aditivni sloj sprezanja i njegov inverz", "Additive coupling and its inverse"),
             points=10,
             stem=both(r"Razmatramo sljedeći niz transformacija:" "\n\n" + _SEQUENCE + "\n\n"
                       r"Ulaz $x$ je 4D tenzor dimenzija $(N, C, H, W)$, a $C$ je uvijek paran. `divide` dijeli tenzor "
                       r"po zadanoj dimenziji na dva jednaka dijela, a `concatenate` spaja svoje argumente po zadanoj "
                       r"dimenziji. Izvedite taj niz transformacija razredom koji nasljeđuje `torch.nn.Module`, uz "
                       r"$h = \mathrm{Conv}_{1 \times 1} \circ \mathrm{ReLU}$. Smijete koristiti sve mogućnosti "
                       r"PyTorcha korištene u laboratorijskoj vježbi. Bonus: (i) algebarski odredite inverz tog niza "
                       r"transformacija, (ii) dodajte razredu metodu `inverse` koja ga računa. Ispit dijelove ne navodi: "
                       r"dijelovi (a)–(c) i bodovi, uključujući bonus, slijede komentare službenog rješenja.",
                       r"Consider this sequence of transformations:" "\n\n" + _SEQUENCE + "\n\n"
                       r"The input $x$ is a 4D tensor of shape $(N, C, H, W)$, and $C$ is always even. `divide` splits a "
                       r"tensor along the given dimension into two equal parts, and `concatenate` joins its arguments "
                       r"along the given dimension. Implement the sequence as a class inheriting `torch.nn.Module`, with "
                       r"$h = \mathrm{Conv}_{1 \times 1} \circ \mathrm{ReLU}$. Everything of PyTorch used in the lab may "
                       r"be used. Bonus: (i) derive the inverse of the sequence algebraically, (ii) add to the class a "
                       r"method `inverse` that computes it. The exam lists no parts: the parts (a)–(c) and the points, "
                       r"the bonus's included, follow the comments of the official solution."),
             parts=(Part(id="a", points=1, text=both("nasljeđivanje `nn.Module`", "inheriting `nn.Module`")),
              Part(id="b", points=3, text=both("konstruktor", "the constructor")), Part(id="c", points=6, text=both("`forward`", "`forward`")),
              Part(id="i", points=None, text=both("bonus: inverz, algebarski", "bonus: the inverse, algebraically")),
              Part(id="ii", points=None, text=both("bonus: metoda `inverse`", "bonus: an `inverse` method"))),
             givens="chosen", bonus=6),
)


def _entries(name: str, indices, conj: str = "and") -> str:
    """``(∂L/∂X)_{1,2}``-style LaTeX for each index (0-based in, 1-based out): "a, b and c"."""
    items = [f"${name}_{{{','.join(str(i + 1) for i in idx)}}}$" for idx in indices]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _tensors(indices, conj: str = "and") -> str:
    """PyTorch-style entries of the output (0-based, the example first): "`y[0, 1, 0, 2]`"."""
    items = ["`" + family.tensor_label(i).replace(",", ", ") + "`" for i in indices]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _asks(result: dict) -> dict:
    """What a drawn variant's keyed parts ask besides the code: ``{(code, part): both(...)}``."""
    g = result["givens"]
    ea, eb = family.q1a_entries(g), family.q1b_entries(g)
    d = len(g["q1"]["A"])
    dx = r"(\partial L / \partial X)"
    every = len(ea["dx"]) == 2 * d
    k = g["q2"]["K"]
    channels = np.shape(g["q2"]["x"])[1]
    cut = family.cut_dimension(g)[0]
    c3 = np.shape(g["q3"]["x"])[1]
    weights = "`weight[0, 0, 0, 0]`" + (" i `weight[0, 1, 0, 0]`" if channels > 1 else "")
    weights_en = "`weight[0, 0, 0, 0]`" + (" and `weight[0, 1, 0, 0]`" if channels > 1 else "")
    y_entry = _tensors([family.q2_entry(g)], "i")
    y_entry_en = _tensors([family.q2_entry(g)])
    return {
        ("Q1a", "b"): both(f"; za zadane vrijednosti izračunajte {_entries('Y', ea['y'], 'i')}",
                           f"; on the givens, compute {_entries('Y', ea['y'])}"),
        ("Q1a", "c"): both("; za zadane vrijednosti izračunajte " + (r"cijeli $\partial L / \partial X$" if every else _entries(dx, ea["dx"], "i")),
                           "; on the givens, compute " + (r"the whole $\partial L / \partial X$" if every else _entries(dx, ea["dx"]))),
        ("Q1a", "d"): both(rf"; za zadane vrijednosti izračunajte $\partial L / \partial c$ i "
                           + _entries(r"(\partial L / \partial A)", ea["dA"], "i"),
                           rf"; on the givens, compute $\partial L / \partial c$ and "
                           + _entries(r"(\partial L / \partial A)", ea["dA"])),
        ("Q1b", "b"): both(f"; za zadane vrijednosti izračunajte {_entries('Y', eb['y'], 'i')}",
                           f"; on the givens, compute {_entries('Y', eb['y'])}"),
        ("Q1b", "c"): both("; za zadane vrijednosti izračunajte " + (r"cijeli $\partial L / \partial X$" if len(eb["dx"]) == 2 * d else _entries(dx, eb["dx"], "i")),
                           "; on the givens, compute " + (r"the whole $\partial L / \partial X$" if len(eb["dx"]) == 2 * d else _entries(dx, eb["dx"]))),
        ("Q2", "a"): both(f"; koji brojevi za zadani $K = {k}$ idu u `kernel_size`, `stride` i `padding`?",
                          f"; for the given $K = {k}$, which numbers go into `kernel_size`, `stride` and `padding`?"),
        ("Q2", "b"): both(f"; za zadane $C = {channels}$ i $K = {k}$: koliko {'iznose' if channels > 1 else 'iznosi'} "
                          f"{weights} (težina `self.conv.weight`, "
                          "indeksi $(o, i, u, v)$ od 0, kao u PyTorchu)?",
                          f"; for the given $C = {channels}$ and $K = {k}$: what {'are' if channels > 1 else 'is'} {weights_en} (the weight "
                          "`self.conv.weight`, indices $(o, i, u, v)$ from 0, as in PyTorch)?"),
        ("Q2", "c"): both("; koliko parametara za učenje (elemenata s `requires_grad=True`) ima sloj?",
                          "; how many trainable parameters (entries with `requires_grad=True`) does the layer have?"),
        ("Q2", "d"): both(f"; za zadani ulaz izračunajte {'visinu' if cut == 'H' else 'širinu'} izlaza ${cut}_{{out}}$ i "
                          f"element izlaza {y_entry} (indeksi od 0, kao u PyTorchu)",
                          f"; on the given input, compute the output's {'height' if cut == 'H' else 'width'} ${cut}_{{out}}$ "
                          f"and its entry {y_entry_en} (indices from 0, as in PyTorch)"),
        ("Q3", "b"): both(f"; koliki su za zadani $C = {c3}$ `in_channels` i `out_channels` konvolucije $1 \\times 1$?",
                          f"; for the given $C = {c3}$, what are the $1 \\times 1$ convolution's `in_channels` and `out_channels`?"),
        ("Q3", "c"): both(r"; za zadani $x$, uz $h(x_1) = \mathrm{Conv}_{1 \times 1}(\mathrm{ReLU}(x_1))$ (najprije ReLU, "
                          f"zatim konvolucija), izračunajte elemente izlaza {_tensors(family.q3_entries(g), 'i')} "
                          "(indeksi od 0, kao u PyTorchu)",
                          r"; on the given $x$, with $h(x_1) = \mathrm{Conv}_{1 \times 1}(\mathrm{ReLU}(x_1))$ (ReLU first, "
                          f"then the convolution), compute the output's entries {_tensors(family.q3_entries(g))} "
                          "(indices from 0, as in PyTorch)"),
    }


def questions(result: dict) -> tuple:
    """The quiz as asked for ``result``: a drawn variant's keyed parts also ask for numbers on its
    givens (:func:`_asks`), which its blanks key."""
    if "variant" not in result:
        return QUESTIONS
    asks = _asks(result)
    out = []
    for q in QUESTIONS:
        parts = tuple(dataclasses.replace(p, text={k: p.text[k] + asks[q.code, p.id][k] for k in ("hr", "en")})
                      if (q.code, p.id) in asks else p for p in q.parts)
        out.append(dataclasses.replace(q, parts=parts))
    return tuple(out)


def _verified(r: dict, layer: str, lang: Lang) -> str:
    s_ = lang.s
    return s_(f"Izračunano u float64 jaxdl-ovim slojem `{layer}` (`jaxdl exam quiz`): ručni unatražni prolaz prema "
              f"`jax.vjp` odstupa najviše {r['max_abs_err_vs_autodiff']:.1e}, prema konačnim razlikama "
              f"{r['max_abs_err_vs_finite_diff']:.1e}. Razred u NumPyju prolazi `jaxdl check-numpy`.",
              f"Computed in float64 by jaxdl's `{layer}` layer (`jaxdl exam quiz`): the manual backward pass is "
              f"within {r['max_abs_err_vs_autodiff']:.1e} of `jax.vjp` and {r['max_abs_err_vs_finite_diff']:.1e} "
              f"of finite differences. The numpy class passes `jaxdl check-numpy`.")


def _q1a(result: dict, lang: Lang) -> Body:
    """Q1a: the quadratic layer's Jacobian, its backward equations on the givens, the numpy class."""
    s_ = lang.s
    dl = _dl
    a = result["Q1a"]
    ga = a["givens"]
    q1a_givens = "\n\n".join([
        s_(f"$b = {num(ga['b'])}$, $N = {len(a['x'])}$ "
           f"{lang.count(len(a['x']), 'primjer', 'primjera', 'primjera').split(' ', 1)[1]}, $M = D = {len(ga['A'])}$:",
           f"$b = {num(ga['b'])}$, $N = {len(a['x'])}$ example{'s' if len(a['x']) != 1 else ''}, $M = D = {len(ga['A'])}$:"),
        display(f"X = {tex(a['x'])}", f"A = {tex(ga['A'])}", f"c = {tex(ga['c'], row=True)}", f"{dl('Y')} = {tex(a['dy'])}"),
    ])
    q1a_steps = {
        "": "\n\n".join([
            s_("Po primjeru (stupac $x$ veličine $D$): $y = A z + b x + c$ uz $z = x \\odot x$, pa je "
               "$\\partial z / \\partial x = 2 \\operatorname{diag}(x)$, a jakobijan ($M \\times D$; $b x$ zahtijeva "
               "$M = D$) je",
               "Per example (a column $x$ of size $D$): $y = A z + b x + c$ with $z = x \\odot x$, so "
               "$\\partial z / \\partial x = 2 \\operatorname{diag}(x)$ and the Jacobian ($M \\times D$; $b x$ needs "
               "$M = D$) is"),
            display(r"\frac{\partial y}{\partial x} = 2 A \operatorname{diag}(x) + b I"),
            s_("Retčani gradijent koji dolazi iz sljedećeg sloja množi jakobijan slijeva, "
               "$\\partial L / \\partial x = \\partial L / \\partial y \\cdot \\partial y / \\partial x$. Za minigrupu "
               "$X$ ($N \\times D$, po jedan primjer u svakom retku) uz $Y = (X \\odot X) A^\\top + b X + c$:",
               "A row vector of upstream gradients goes through it from the left, "
               "$\\partial L / \\partial x = \\partial L / \\partial y \\cdot \\partial y / \\partial x$. For a "
               "minibatch $X$ ($N \\times D$, one example per row), with $Y = (X \\odot X) A^\\top + b X + c$:"),
            display(rf"{dl('X')} = 2 X \odot \left({dl('Y')} A\right) + b\, {dl('Y')}",
                    rf"{dl('A')} = {dl('Y')}^\top (X \odot X)", rf"{dl('c')} = \sum_n {dl('Y_n')}"),
            s_("Za zadane vrijednosti:", "On the givens:"),
            display(f"Y = {tex(a['y'])}", f"{dl('X')} = {tex(a['dx'])}"),
            display(f"{dl('A')} = {tex(a['dparams']['A'])}", f"{dl('c')} = {tex(a['dparams']['c'], row=True)}"),
        ]),
    }
    q1a_answers = {
        "a": s_("pamti $A$ ($M \\times D$), $c$ ($M$) i $b$; zahtijeva $M = D$ za bilo koji $b$ jer se $b x$ uvijek "
                "dodaje (razred ispod odbija $M \\neq D$).",
                "keeps $A$ ($M \\times D$), $c$ ($M$) and $b$; it requires $M = D$ whatever $b$ is, since $b x$ is always "
                "added (the class below refuses $M \\neq D$)."),
        "b": r"$Y = (X \odot X) A^\top + b X + c$",
        "c": rf"${dl('X')} = 2 X \odot ({dl('Y')} A) + b\, {dl('Y')}$",
        "d": rf"${dl('A')} = {dl('Y')}^\top (X \odot X)$, ${dl('c')} = \sum_n {dl('Y_n')}$",
    }
    q1a = Body(givens=q1a_givens, steps=q1a_steps, answers=q1a_answers, verified=_verified(a, "quadratic", lang),
               finals=[num(v) for v in np.asarray(a["dx"]).reshape(-1)[:3]],
               code=s_("Razred u NumPyju (sučelje `Layer` iz vježbe):", "The numpy class (the lab's `Layer` interface):")
               + "\n\n" + code_block(without_docstrings(lab_source("Quadratic", lang))))
    return q1a


def _q1b(result: dict, lang: Lang) -> Body:
    """Q1b: Swish's derivative on the givens, the numpy class."""
    s_ = lang.s
    dl = _dl
    b = result["Q1b"]
    q1b_givens = "\n\n".join([
        s_(f"$\\beta = {num(b['givens']['beta'])}$, $N = {len(b['x'])}$ "
           f"{lang.count(len(b['x']), 'primjer', 'primjera', 'primjera').split(' ', 1)[1]}, $D = {len(b['x'][0])}$ "
           "(isti $X$ i isti gradijent kao u Q1a):",
           f"$\\beta = {num(b['givens']['beta'])}$, $N = {len(b['x'])}$ example{'s' if len(b['x']) != 1 else ''}, "
           f"$D = {len(b['x'][0])}$ (the same $X$ and gradient as in Q1a):"),
        display(f"X = {tex(b['x'])}", f"{dl('Y')} = {tex(b['dy'])}"),
    ])
    q1b_steps = {"": "\n\n".join([
        display(r"g'(x) = \sigma(\beta x) + \beta x\, \sigma(\beta x) (1 - \sigma(\beta x))",
                rf"{dl('X')} = {dl('Y')} \odot g'(X)"),
        s_("po elementima: Swish nema parametara i svaki izlaz ovisi samo o svom ulazu. Za zadane vrijednosti:",
           "elementwise: Swish has no parameters, and each output depends on its own input only. On the givens:"),
        display(f"Y = {tex(b['y'])}", f"g'(X) = {tex(b['g_prime'])}", f"{dl('X')} = {tex(b['dx'])}"),
    ])}
    q1b_answers = {
        "a": s_("pamti $\\beta$; nema parametara (`has_params = False`).", "keeps $\\beta$; no parameters (`has_params = False`)."),
        "b": r"$Y = X \odot \sigma(\beta X)$",
        "c": rf"${dl('X')} = {dl('Y')} \odot [\sigma(\beta X) + \beta X \odot \sigma(\beta X) \odot (1 - \sigma(\beta X))]$",
        "d": s_("Swish nema parametara: razred postavlja `has_params = False`, pa ga petlja učenja iz vježbe ne pita za "
                "gradijente po parametrima. Razred ispod zato ne definira `backward_params`; nasljeđuje je od `Layer`, "
                "gdje vraća `None`.",
                "Swish has no parameters: the class sets `has_params = False`, so the lab's training loop never asks it "
                "for gradients by parameters. The class below therefore does not define `backward_params`; it inherits "
                "`Layer`'s, which returns `None`."),
    }
    q1b = Body(givens=q1b_givens, steps=q1b_steps, answers=q1b_answers, verified=_verified(b, "swish", lang),
               finals=[num(v) for v in np.asarray(b["dx"]).reshape(-1)[:3]],
               code=s_("Razred u NumPyju:", "The numpy class:") + "\n\n" + code_block(without_docstrings(lab_source("Swish", lang))))
    return q1b


def _q2(result: dict, lang: Lang) -> Body:
    """Q2: the pooling convolution's weight, its output on the givens, the PyTorch module."""
    s_ = lang.s
    q2 = result["Q2"]
    k, shape = q2["K"], tuple(q2["input_shape"])
    notes = [(name, v) for name, v in (("H", shape[2]), ("W", shape[3])) if v % k]
    floor_hr = ", ".join(f"${n} = {v}$" for n, v in notes)
    q2_givens = "\n\n".join([
        s_(f"$C = {shape[1]}$ kanala, $K = {k}$, ulaz dimenzija {shape}"
           + (f": {floor_hr} nije višekratnik od $K$." if len(notes) == 1 else
              f": {floor_hr} nisu višekratnici od $K$." if notes else "."),
           f"$C = {shape[1]}$ channels, $K = {k}$, an input of shape {shape}"
           + (f": {floor_hr} {'is not a multiple' if len(notes) == 1 else 'are not multiples'} of $K$." if notes else ".")),
        display(*[rf"x_{{0, {c}}} = {tex(np.asarray(q2['x'])[0, c])}" for c in range(shape[1])]),
    ])
    q2_steps = {"": "\n\n".join([
        s_("Težina $(C_{out}, C_{in}, K, K)$ ima vrijednost $1/K^2$ na mjestima gdje je indeks izlaznog kanala jednak "
           "indeksu ulaznog ($o = i$), a drugdje 0, pa izlazni kanal $o$ usrednjava okno $K \\times K$ "
           "odgovarajućeg ulaznog kanala:",
           "The weight $(C_{out}, C_{in}, K, K)$ holds $1/K^2$ where the output and input channel indices are equal "
           "($o = i$) and 0 elsewhere, so output channel $o$ averages the $K \\times K$ window of its own input "
           "channel:"),
        display(r"W_{o, i, :, :} = \frac{[o = i]}{K^2}",
                r"y_{n, o, p, q} = \frac{1}{K^2} \sum_{u, v < K} x_{n, o, pK + u, qK + v}"),
        s_("Težina se ne uči: `init_weight` je vraća kao `nn.Parameter` s `requires_grad=False` (to je isključuje iz "
           "učenja; sam nadjačani `parameters()` to ne bi učinio), a `parameters()` ne vraća ništa. "
           f"Izlaz ima dimenzije {tuple(q2['output_shape'])}"
           + (": ono što ne stane u cijelo okno otpada (zaokruživanje nadolje)." if notes else "."),
           "The weight is not trained: `init_weight` returns it as an `nn.Parameter` with `requires_grad=False` (that "
           "keeps it out of training; an overridden `parameters()` alone would not), and `parameters()` returns "
           f"nothing. The output has shape {tuple(q2['output_shape'])}"
           + (": what does not fill a whole window is dropped (floor)." if notes else ".")),
        s_("Za zadani ulaz:", "For the given input:"),
        display(*[rf"y_{{0, {c}}} = {tex(np.asarray(q2['output'])[0, c])}" for c in range(shape[1])]),
    ])}
    conv, weight = q2["conv"], np.asarray(q2["weight"])
    cut = [(n, i) for n, i in (("H", 2), ("W", 3)) if shape[i] % k] or [("W", 3)]
    q2_answers = {
        "a": "`nn.Conv2d(channels, channels, kernel_size=K, stride=K, padding=0, bias=False)`; "
             + s_(f"ovdje `kernel_size` = {conv['kernel_size']}, `stride` = {conv['stride']}, `padding` = {conv['padding']}.",
                  f"here `kernel_size` = {conv['kernel_size']}, `stride` = {conv['stride']}, `padding` = {conv['padding']}."),
        "b": r"$W_{o, i} = [o = i] / K^2$ " + s_("kao `nn.Parameter(..., requires_grad=False)`",
                                                 "as `nn.Parameter(..., requires_grad=False)`")
             + f"; $W_{{1,1,1,1}} = {num(weight[0, 0, 0, 0])}$"
             + (f", $W_{{1,2,1,1}} = {num(weight[0, 1, 0, 0])}$" if len(weight) > 1 else "") + ".",
        "c": s_(f"prazna lista: sloj nema parametara za učenje ({q2['dense']['params']}).",
                f"an empty list: the layer has no trainable parameters ({q2['dense']['params']})."),
        "d": "`return self.conv(x)`; " + s_(f"${cut[0][0]}_{{out}} = {q2['output_shape'][cut[0][1]]}$.",
                                            f"${cut[0][0]}_{{out}} = {q2['output_shape'][cut[0][1]]}$."),
    }
    q2_verified = s_(
        f"jaxdl-ov gusti oblik (`conv_avg_pool2d`) odstupa od usrednjavanja s `lax.reduce_window` "
        f"{q2['dense']['max_abs_err_vs_reduce_window']:.1e}, grupirani oblik ($C$ grupa, težina $(C, 1, K, K)$, "
        f"$C$ puta manje posla) {q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}; parametara za učenje: "
        f"{q2['dense']['params']}. Modul u PyTorchu testiran je prema `conv_avg_pool2d` (izlaz i gradijent).",
        f"jaxdl's dense form (`conv_avg_pool2d`) differs from `lax.reduce_window` averaging by "
        f"{q2['dense']['max_abs_err_vs_reduce_window']:.1e}, the grouped form ($C$ groups, weight $(C, 1, K, K)$, $C$ "
        f"times less work) by {q2['depthwise']['max_abs_err_vs_reduce_window']:.1e}; trainable parameters: "
        f"{q2['dense']['params']}. The PyTorch module is tested against `conv_avg_pool2d` (output and gradient).")
    q2b = Body(givens=q2_givens, steps=q2_steps, answers=q2_answers, verified=q2_verified, finals=["0"],
               code=s_("Modul u PyTorchu:", "The PyTorch module:") + "\n\n" + code_block(without_docstrings(torch_source("conv_avg_pool", lang))))
    return q2b


def _q3(result: dict, lang: Lang) -> Body:
    """Q3: the coupling, its inverse, the PyTorch module."""
    s_ = lang.s
    q3 = result["Q3"]
    x3 = np.asarray(q3["x"])
    shape3 = tuple(x3.shape)
    q3_givens = "\n\n".join([
        s_(f"$C = {shape3[1]}$, ulaz dimenzija {shape3}; $h$ je konvolucija $1 \\times 1$ s težinom $W_h$ "
           f"(${shape3[1] // 2} \\times {shape3[1] // 2}$, izlazni kanal po retku) i pomakom $b_h$ nakon ReLU-a:",
           f"$C = {shape3[1]}$, an input of shape {shape3}; $h$ is a $1 \\times 1$ convolution with weight $W_h$ "
           f"(${shape3[1] // 2} \\times {shape3[1] // 2}$, one output channel per row) and bias $b_h$ after a ReLU:"),
        display(f"W_h = {tex(q3['W'])}", f"b_h = {tex(q3['b'])}"),
        display(*[rf"x_{{0, {c}}} = {tex(x3[0, c])}" for c in range(shape3[1])]),
    ])
    q3_steps = {"": "\n\n".join([
        s_("$h = \\mathrm{Conv}_{1 \\times 1} \\circ \\mathrm{ReLU}$ čita se kao kompozicija funkcija: najprije ReLU, "
           "zatim konvolucija, $h(x_1) = \\mathrm{Conv}_{1 \\times 1}(\\mathrm{ReLU}(x_1))$ (kao u službenom kodu). $h$ "
           "preslikava $C/2$ kanala u $C/2$ kanala. **Inverz** (bonus i): iz $y_1 = x_1$ odmah slijedi $x_1$, "
           "pa je $h(x_1) = h(y_1)$ poznato:",
           "$h = \\mathrm{Conv}_{1 \\times 1} \\circ \\mathrm{ReLU}$ reads as a composition of functions: ReLU first, "
           "then the convolution, $h(x_1) = \\mathrm{Conv}_{1 \\times 1}(\\mathrm{ReLU}(x_1))$ (as the official code "
           "has it). $h$ maps $C/2$ channels to $C/2$ channels. **Inverse** (bonus i): $y_1 = x_1$ gives $x_1$ back, "
           "hence $h(x_1) = h(y_1)$ is known:"),
        display(r"x_1 = y_1", r"x_2 = y_2 - h(y_1)"),
        s_("Za zadani ulaz:", "For the given input:"),
        display(*[rf"y_{{0, {c}}} = {tex(np.asarray(q3['y'])[0, c])}" for c in range(shape3[1])]),
        s_("Sam $h$ ne mora biti invertibilan. Jakobijan je blok-trokutast s jediničnim blokovima na dijagonali, pa je "
           "$\\ln |\\det| = 0$ (sloj sprezanja iz NICE: čuva volumen).",
           "$h$ itself need not be invertible. The Jacobian is block triangular with identity blocks on its "
           "diagonal, so $\\ln |\\det| = 0$ (the NICE coupling: volume preserving)."),
    ])}
    q3_answers = {
        "a": "`class AdditiveCoupling(nn.Module)`",
        "b": s_("`nn.Conv2d(C // 2, C // 2, kernel_size=1)` i ReLU", "`nn.Conv2d(C // 2, C // 2, kernel_size=1)` and ReLU"),
        "c": r"$y_1 = x_1$, $y_2 = x_2 + \mathrm{Conv}_{1 \times 1}(\mathrm{ReLU}(x_1))$",
        "i": r"$x_1 = y_1$, $x_2 = y_2 - h(y_1)$",
        "ii": s_("metoda `inverse` ispod.", "the `inverse` method below."),
    }
    q3_verified = s_(
        f"Na ulazu dimenzija {shape3} jaxdl-ov `additive_coupling`: povratak kroz inverz odstupa "
        f"{q3['round_trip_max_abs_err']:.1e}, log-det {', '.join(num(v) for v in q3['log_det'])}, "
        f"{'$y_1 = x_1$ vrijedi točno' if q3['y1_equals_x1'] else '$y_1 = x_1$ ne vrijedi točno'}. Modul u PyTorchu testiran je prema njemu na istim težinama "
        "(izlaz, gradijenti, povratak).",
        f"On the {shape3} input jaxdl's `additive_coupling`: the round trip through the inverse is off by "
        f"{q3['round_trip_max_abs_err']:.1e}, log-det {', '.join(num(v) for v in q3['log_det'])}, $y_1 = x_1$ exactly: "
        f"{'yes' if q3['y1_equals_x1'] else 'no'}. The PyTorch module is tested against it on the same weights "
        "(output, gradients, round trip).")
    q3b = Body(givens=q3_givens, steps=q3_steps, answers=q3_answers, verified=q3_verified, finals=["0"],
               code=s_("Modul u PyTorchu, s metodom `inverse` (bonus ii):", "The PyTorch module, with `inverse` (bonus ii):")
               + "\n\n" + code_block(without_docstrings(torch_source("additive_coupling", lang))))
    return q3b


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """The quiz's solutions in ``lang``: Q1a, Q1b (numpy classes), Q2, Q3 (PyTorch modules), worked."""
    del figures
    return {"Q1a": _q1a(result, lang), "Q1b": _q1b(result, lang), "Q2": _q2(result, lang), "Q3": _q3(result, lang)}
