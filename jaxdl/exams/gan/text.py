"""E6's text: the question restated for the givens, and the worked solution in each language:
(a) and (b) in words, and for (c) every example's forward values and chain-rule factors, both
gradients and the new weights."""

from __future__ import annotations

import numpy as np

from jaxdl.exams._common import display, num, tex
from jaxdl.exams.lang import Lang, both
from jaxdl.exams.problem import Body, Part, Question


def _values(a) -> str:
    return ", ".join(f"{v:g}" for v in a)


def questions(result: dict) -> tuple:
    """E6 as asked for the result's givens (the exam's: learning rate 1, three examples)."""
    gv = result["givens"]
    lr, noise, data = gv["learning_rate"], gv["noise"], gv["data"]
    points = ", ".join("[" + _values(x) + "]" for x in data)
    loss = gv.get("generator_loss", "minimax")
    say_loss = "variant" in result or loss != "minimax"
    loss_hr = ("; generator uči " + ("minimaks gubitkom" if loss == "minimax" else "nezasićujućim gubitkom")) if say_loss else ""
    loss_en = ("; the generator learns with the " + ("minimax" if loss == "minimax" else "non-saturating") + " loss") \
        if say_loss else ""
    if "variant" in result:  # the readings the exam leaves open (the errata's), stated: one answer is right
        loss_hr += ("; oba gubitka su prosjeci po minigrupi, a generator radi svoj korak kroz diskriminator već "
                    "ažuriran u tom koraku")
        loss_en += ("; both losses are means over the minibatch, and the generator takes its step through the "
                    "discriminator already updated in this step")
    return (Question(
        code="E6", title=both("Jedan korak učenja GAN-a", "One GAN training step"), points=10,
        stem=both(
            "Zadan je osnovni GAN (arhitektura i težine na slici). U generatoru su sve aktivacijske funkcije ReLU, a u "
            f"diskriminatoru LeakyReLU s nagibom {gv['leaky_slope']:g} za negativne ulaze, osim izlaznog neurona "
            "diskriminatora, koji ima sigmoidu. Svi su pomaci jednaki 0 i ne uče se. U svakom koraku najprije se "
            "ažuriraju težine diskriminatora, a zatim generatora. (Ispit daje 10 bodova za cijeli zadatak, ne po "
            "dijelovima; podjela 2 + 2 + 6 nije iz ispita, nego je dodana ovdje.)",
            "A basic GAN is given (its architecture and weights in a figure). Every activation of the generator is "
            f"ReLU, those of the discriminator LeakyReLU with negative slope {gv['leaky_slope']:g}, except the "
            "discriminator's output neuron, which has a sigmoid. Every bias is 0 and is not trained. In each step the "
            "discriminator's weights are updated first, then the generator's. (The exam gives 10 points for the whole "
            "problem, not per part; the split 2 + 2 + 6 is jaxdl's.)"),
        parts=(Part(id="a", points=2, text=both("Opišite kako se taj GAN uči.", "Describe how this GAN is trained.")),
               Part(id="b", points=2, text=both("Napišite optimizacijski cilj učenja.", "State the training objective.")),
               Part(id="c", points=6, text=both(
                   "Izračunajte nove težine slojeva $h_1$ generatora i diskriminatora nakon jednog koraka "
                   f"učenja uz stopu učenja {lr:g}, minigrupu veličine {len(noise)}, šum ${_values(noise)}$ "
                   f"na ulazu generatora i skup podataka ${points}${loss_hr}.",
                   "Compute the new weights of the generator's and the discriminator's layers $h_1$ after "
                   f"one training step with learning rate {lr:g}, a minibatch of {len(noise)}, noise "
                   f"${_values(noise)}$ into the generator and the data set ${points}${loss_en}."))),
        givens="lost",
        assumed=both(r"generator $z \in \mathbb{R} \mapsto h_1 = \operatorname{ReLU}(W_{g1} z)$, $W_{g1}$: $2 \times 1$ "
                     r"$\mapsto \hat x = \operatorname{ReLU}(W_{g2} h_1)$, $W_{g2}$: $2 \times 2$; diskriminator "
                     r"$x \in \mathbb{R}^2 \mapsto h_1 = \operatorname{LeakyReLU}_{" + f"{gv['leaky_slope']:g}" +
                     r"}(W_{d1} x)$, $W_{d1}$: "
                     r"$2 \times 2$ $\mapsto D(x) = \sigma(w_{d2} h_1)$, $w_{d2}$: $1 \times 2$; težine ispod, "
                     r"$\operatorname{ReLU}'(0) = 0$",
                     r"the generator $z \in \mathbb{R} \mapsto h_1 = \operatorname{ReLU}(W_{g1} z)$, $W_{g1}$: "
                     r"$2 \times 1$ $\mapsto \hat x = \operatorname{ReLU}(W_{g2} h_1)$, $W_{g2}$: $2 \times 2$; the "
                     r"discriminator $x \in \mathbb{R}^2 \mapsto h_1 = \operatorname{LeakyReLU}_{" + f"{gv['leaky_slope']:g}" +
                     r"}(W_{d1} x)$, $W_{d1}$: $2 \times 2$ $\mapsto D(x) = \sigma(w_{d2} h_1)$, $w_{d2}$: "
                     r"$1 \times 2$; the weights below, $\operatorname{ReLU}'(0) = 0$")),)


QUESTIONS = questions({"givens": {"learning_rate": 1.0, "noise": [-0.5, 0.5, 0.0], "data": [[0, 0], [1, 1], [2, 2]],
                                  "leaky_slope": 0.2}})


def _givens(gv: dict, m: int, lang: Lang) -> str:
    """The weights, the minibatch, the learning rate, the noise and the data."""
    s_, lr = lang.s, gv["learning_rate"]
    return "\n\n".join([
        display(f"W_{{g1}} = {tex(gv['generator']['W1'])}", f"W_{{g2}} = {tex(gv['generator']['W2'])}",
                f"W_{{d1}} = {tex(gv['discriminator']['W1'])}", f"w_{{d2}} = {tex(gv['discriminator']['w2'])}"),
        s_(f"Minigrupa $m = {m}$, stopa učenja ${num(lr)}$ (obični stohastički gradijentni spust), šum "
           f"$z = ({', '.join(num(v) for v in gv['noise'])})$ u paru s podacima ",
           f"Minibatch $m = {m}$, learning rate ${num(lr)}$ (plain SGD), noise "
           f"$z = ({', '.join(num(v) for v in gv['noise'])})$ paired with the data ")
        + ", ".join(f"$x_{i + 1} = {tex(v, row=True)}^\\top$" for i, v in enumerate(gv["data"])) + ".",
    ])


def _part_a(lang: Lang) -> str:
    """How a GAN is trained, in words."""
    return lang.s(
        "U GAN-u se dvije mreže uče jedna nasuprot drugoj. U svakom se koraku uzima minigrupa podataka $x_i$ i "
        "uzoraka šuma $z_i$. Diskriminator $D$ provodi korak gradijentnog spusta kako bi bolje razlikovao stvarne "
        "$x_i$ (oznaka 1) od generiranih $G(z_i)$ (oznaka 0), tj. smanjuje "
        "$L_D = -\\frac{1}{m} \\sum_i [\\ln D(x_i) + \\ln(1 - D(G(z_i)))]$. Zatim generator provodi korak kroz "
        "ažurirani $D$ (čije su težine tada fiksne) kako bi $D$ generirane $G(z_i)$ proglasio stvarnima: smanjuje "
        "$\\frac{1}{m} \\sum_i \\ln(1 - D(G(z_i)))$ (minimaks) ili $-\\frac{1}{m} \\sum_i \\ln D(G(z_i))$ "
        "(nezasićujući gubitak, jači gradijenti na početku). Koraci se izmjenjuju sve dok $D$ više ne bude mogao "
        "razlikovati stvarne primjere od generiranih.",
        "A GAN trains two networks against each other. Each step draws a minibatch of data $x_i$ and of noise "
        "$z_i$. The discriminator $D$ takes a gradient step to tell the real $x_i$ (label 1) from the generated "
        "$G(z_i)$ (label 0), i.e. descends $L_D = -\\frac{1}{m} \\sum_i [\\ln D(x_i) + \\ln(1 - D(G(z_i)))]$. Then "
        "the generator takes a step through the updated $D$ (its weights held fixed) to make $D$ take $G(z_i)$ for "
        "real: it descends $\\frac{1}{m} \\sum_i \\ln(1 - D(G(z_i)))$ (minimax) or $-\\frac{1}{m} \\sum_i \\ln "
        "D(G(z_i))$ (non-saturating, stronger gradients early on). The steps alternate until $D$ can no longer tell "
        "the real examples from the generated ones.")


def _part_b(lang: Lang) -> str:
    """The minimax objective and its value at the optimal discriminator."""
    s_ = lang.s
    return display(r"\min_G \max_D V(D, G) = \mathbb{E}_{x \sim p_{\text{data}}}[\ln D(x)] + "
                   r"\mathbb{E}_{z \sim p_z}[\ln(1 - D(G(z)))]", sep="") + "\n\n" + s_(
        "za optimalni $D$ to je $2\\,\\mathrm{JS}(p_{\\text{data}} \\| p_G) - \\ln 4$, a najmanju vrijednost "
        "($-\\ln 4$) postiže ako i samo ako je $p_G = p_{\\text{data}}$.",
        "for the optimal $D$ this is $2\\,\\mathrm{JS}(p_{\\text{data}} \\| p_G) - \\ln 4$, smallest exactly when "
        "$p_G = p_{\\text{data}}$.")


def _vec(v) -> str:
    return "(" + ", ".join(num(a) for a in v) + ")"


def _forward(result: dict, lang: Lang) -> list[str]:
    """(c)'s losses and the forward pass per example, with the discriminator's loss."""
    s_ = lang.s
    rows, d = result["per_example"], result["discriminator_step"]
    minimax = result["generator_loss"] == "minimax"
    g_loss_tex = (r"L_G = \frac{1}{m} \sum_i \ln(1 - D(G(z_i)))" if minimax
                  else r"L_G = -\frac{1}{m} \sum_i \ln D(G(z_i))")
    return [
        s_("Najprije diskriminator smanjuje $L_D = -\\frac{1}{m} \\sum_i [\\ln D(x_i) + \\ln(1 - D(G(z_i)))]$; zatim "
           f"generator, s istim šumom i kroz **ažurirani** diskriminator $D'$, smanjuje ${g_loss_tex}$"
           + (" (minimaks gubitak)." if minimax else " (nezasićujući gubitak).")
           + ("" if "variant" in result else
              " Tako ovo rješenje čita ono što ispit ostavlja otvorenim: gubici su prosjeci po minigrupi (a ne "
              "zbrojevi), a generator radi korak kroz diskriminator koji je prvi ažuriran (a ne kroz izvorni); ispravci "
              "daju brojeve drugih čitanja."),
           "First the discriminator descends $L_D = -\\frac{1}{m} \\sum_i [\\ln D(x_i) + \\ln(1 - D(G(z_i)))]$; then "
           f"the generator, with the same noise and through the **updated** discriminator $D'$, descends ${g_loss_tex}$"
           + (" (the minimax loss)." if minimax else " (the non-saturating loss).")
           + ("" if "variant" in result else
              " This is jaxdl's reading of what the exam leaves open: the losses are means over the minibatch (not "
              "sums), and the generator steps through the discriminator updated first (not the original one); the "
              "errata give the other readings' numbers.")),
        s_("Unaprijedni prolaz po primjerima ($a$: predaktivacije, $s$: izlaz diskriminatora prije sigmoide):",
           "The forward pass per example ($a$: pre-activations, $s$: the discriminator's output before the sigmoid):"),
        "| $i$ | $z_i$ | $W_{g1} z_i$ | $W_{g2} h_1$ | $\\hat x_i = G(z_i)$ | $W_{d1} x_i$ | $s(x_i)$ | $D(x_i)$ | "
        "$W_{d1} \\hat x_i$ | $s(\\hat x_i)$ | $D(\\hat x_i)$ |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(f"| {i} | ${num(r['z'])}$ | ${_vec(r['g1'])}$ | ${_vec(r['g2'])}$ | ${_vec(r['x_hat'])}$ | "
                    f"${_vec(r['real']['a1'])}$ | ${num(r['real']['s'])}$ | ${num(r['real']['D'])}$ | "
                    f"${_vec(r['fake']['a1'])}$ | ${num(r['fake']['s'])}$ | ${num(r['fake']['D'])}$ |"
                    for i, r in enumerate(rows, start=1)),
        f"$L_D = {num(d['loss'], 6)}$.",
    ]


def _discriminator(result: dict, lang: Lang) -> list[str]:
    """(c)'s discriminator step: the chain-rule factors per example, the gradients, the new weights."""
    s_ = lang.s
    gv, d, rows = result["givens"], result["discriminator_step"], result["per_example"]
    slope, lr, m = gv["leaky_slope"], gv["learning_rate"], len(rows)
    return [
        s_("**Gradijenti diskriminatora.** Gradijent gubitka po izlazu prije sigmoide, $\\delta$, je "
           "$\\partial L_D / \\partial s = (D(x_i) - 1)/m$ za stvarni primjer i $D(\\hat x_i)/m$ za generirani; zatim "
           "$\\partial L_D / \\partial w_{d2} = \\sum \\delta\\, h_1^\\top$ i "
           f"$\\partial L_D / \\partial W_{{d1}} = \\sum (\\delta\\, w_{{d2}}^\\top \\odot \\mathrm{{LeakyReLU}}'(a)) x^\\top$ "
           f"(nagib je 1 gdje je $a > 0$, inače ${num(slope)}$), zbrojeno preko svih {2 * m} primjera:",
           "**The discriminator's gradients.** The chain-rule factor before the sigmoid is "
           "$\\partial L_D / \\partial s = (D(x_i) - 1)/m$ for a real example and $D(\\hat x_i)/m$ for a generated one; "
           "then $\\partial L_D / \\partial w_{d2} = \\sum \\delta\\, h_1^\\top$ and "
           f"$\\partial L_D / \\partial W_{{d1}} = \\sum (\\delta\\, w_{{d2}}^\\top \\odot \\mathrm{{LeakyReLU}}'(a)) x^\\top$ "
           f"(the slope is 1 where $a > 0$, ${num(slope)}$ elsewhere), summed over all {2 * m} examples:"),
        s_("| $i$ | $\\delta$ stvarni | $\\delta$ generirani |", "| $i$ | $\\delta$ real | $\\delta$ generated |")
        + "\n|---|---|---|\n"
        + "\n".join(f"| {i} | ${num(r['real']['delta'])}$ | ${num(r['fake']['delta'])}$ |" for i, r in enumerate(rows, start=1)),
        display(rf"\frac{{\partial L_D}}{{\partial W_{{d1}}}} = {tex(d['grads']['W1'])}",
                rf"\frac{{\partial L_D}}{{\partial w_{{d2}}}} = {tex(d['grads']['w2'])}"),
        display(rf"W_{{d1}}' = W_{{d1}} - {num(lr)} \cdot \frac{{\partial L_D}}{{\partial W_{{d1}}}} = {tex(d['new']['W1'])}",
                rf"w_{{d2}}' = {tex(d['new']['w2'])}"),
    ]


def _generator(result: dict, lang: Lang) -> list[str]:
    """(c)'s generator step, through the updated discriminator: the factors per example and the gradients."""
    s_ = lang.s
    g, rows, lr = result["generator_step"], result["per_example"], result["givens"]["learning_rate"]
    minimax = result["generator_loss"] == "minimax"
    g_delta_tex = r"-D'(\hat x_i)/m" if minimax else r"(D'(\hat x_i) - 1)/m"
    return [
        s_("**Gradijenti generatora**, kroz $D'$: po primjeru $D'(\\hat x_i)$, faktor "
           f"$\\partial L_G / \\partial s = {g_delta_tex}$ i gradijent koji stiže do $\\hat x_i$ (zatim maskiran s "
           "$\\mathrm{ReLU}'$ u $W_{g2} h_1$ i u $W_{g1} z_i$):",
           "**The generator's gradients**, through $D'$: per example $D'(\\hat x_i)$, the factor "
           f"$\\partial L_G / \\partial s = {g_delta_tex}$, and the gradient reaching $\\hat x_i$ (then masked by "
           "$\\mathrm{ReLU}'$ at $W_{g2} h_1$ and at $W_{g1} z_i$):"),
        "| $i$ | $D'(\\hat x_i)$ | $\\partial L_G / \\partial s$ | $\\partial L_G / \\partial \\hat x_i$ |\n|---|---|---|---|\n"
        + "\n".join(f"| {i} | ${num(r['after']['D'])}$ | ${num(r['after']['delta'])}$ | ${_vec(r['dL_G_dx_hat'])}$ |"
                    for i, r in enumerate(rows, start=1)),
        f"$L_G = {num(g['loss'], 6)}$.",
        display(rf"\frac{{\partial L_G}}{{\partial W_{{g1}}}} = {tex(g['grads']['W1'])}",
                rf"\frac{{\partial L_G}}{{\partial W_{{g2}}}} = {tex(g['grads']['W2'])}"),
        display(rf"W_{{g1}}' = W_{{g1}} - {num(lr)} \cdot \frac{{\partial L_G}}{{\partial W_{{g1}}}} = {tex(g['new']['W1'])}",
                rf"W_{{g2}}' = {tex(g['new']['W2'])}"),
    ]


def sheet(result: dict, figures: dict | None, lang: Lang) -> dict:
    """E6's solution in ``lang``: (a), (b), and for (c) every example's forward values and
    chain-rule factors, both gradients and the new weights."""
    del figures
    s_ = lang.s
    gv, d, g = result["givens"], result["discriminator_step"], result["generator_step"]
    givens = _givens(gv, len(result["per_example"]), lang)
    c = _forward(result, lang) + _discriminator(result, lang) + _generator(result, lang)
    answers = {
        "a": s_("vidi gore.", "see above."),
        "b": r"$\min_G \max_D V(D, G)$, " + s_("gore.", "above."),
        # The exam asks for the h1 layers (the other two are in the working).
        "c": display(rf"W_{{g1}}' = {tex(g['new']['W1'])}", rf"W_{{d1}}' = {tex(d['new']['W1'])}"),
    }
    verified = s_(
        "Korak je jaxdl-ov prevedeni (jit) korak učenja na ručno izvedenim unatražnim prolazima slojeva "
        f"(`jaxdl exam gan`, `configs/exam_gan.py`); račun po primjerima gore (float64 numpy) slaže se s njim do "
        f"{result['by_hand_max_abs_err']:.1e}.",
        "The step is jaxdl's jit-compiled training step on the layers' hand-derived backward passes "
        f"(`jaxdl exam gan`, `configs/exam_gan.py`); the per-example working above (float64 numpy) agrees with it to "
        f"{result['by_hand_max_abs_err']:.1e}.")
    finals = [num(v) for v in np.asarray(g["new"]["W1"]).reshape(-1)] + [num(v) for v in np.asarray(d["new"]["W1"]).reshape(-1)]
    return {"E6": Body(givens=givens, steps={"a": _part_a(lang), "b": _part_b(lang), "c": "\n\n".join(c)},
                       answers=answers, verified=verified, finals=finals)}
