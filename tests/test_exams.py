"""`jaxdl exam`: every answer against an independent derivation (closed forms, numpy by hand)."""

import json
import math

import numpy as np
import pytest

from jaxdl import cli


def run_exam(tmp_path, *argv):
    out = tmp_path / "answer.json"
    assert cli.main(["exam", *argv, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


# ---------------------------------------------------------------------------------------------
# E1


E1 = {  # configs/exam_mlp.py
    "W": np.array([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]]),
    "b": np.array([0.5, -1.0, 0.25]),
    "x": np.array([1.0, 2.0]),
    "w": np.array([1.0, -1.0, 2.0]),
    "y": 1,
}


def test_mlp_forward_and_grads_match_hand_formulas(tmp_path):
    r = run_exam(tmp_path, "mlp")
    W, b, x, w, y = E1["W"], E1["b"], E1["x"], E1["w"], E1["y"]
    # By hand: h = [1 − 4 + 0.5, 0.5 + 2 − 1, −1 + 1 + 0.25]; s = −1.5 + 0.5; L = ln(1 + e).
    np.testing.assert_allclose(r["forward"]["h"], [-2.5, 1.5, 0.25], atol=1e-12)
    np.testing.assert_allclose(r["forward"]["h_relu"], [0.0, 1.5, 0.25], atol=1e-12)
    assert r["forward"]["s"] == pytest.approx(-1.0, abs=1e-12)
    assert r["forward"]["L"] == pytest.approx(math.log(1 + math.e), abs=1e-12)
    # Numerical gradients of an independent numpy loss.
    def loss(W, b, x, w):
        s = w @ np.maximum(W @ x + b, 0)
        return -np.log(sigmoid(s)) if y == 1 else -np.log(1 - sigmoid(s))

    def num_grad(f, v, eps=1e-6):
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            e = np.zeros_like(v)
            e[i] = eps
            g[i] = (f(v + e) - f(v - e)) / (2 * eps)
        return g

    g = r["grads"]
    np.testing.assert_allclose(g["dL_dW"], num_grad(lambda v: loss(v, b, x, w), W), atol=1e-8)
    np.testing.assert_allclose(g["dL_db"], num_grad(lambda v: loss(W, v, x, w), b), atol=1e-8)
    np.testing.assert_allclose(g["dL_dw"], num_grad(lambda v: loss(W, b, x, v), w), atol=1e-8)
    assert g["dL_ds"] == pytest.approx(sigmoid(-1.0) - 1, abs=1e-12)
    np.testing.assert_allclose(g["dL_dh_relu"], (sigmoid(-1.0) - 1) * w, atol=1e-12)
    assert np.shape(g["dL_dW"]) == (3, 2) and np.shape(g["dL_db"]) == (3,)
    assert r["ok"] is True


def test_mlp_counts_structure_and_graphs(tmp_path):
    r = run_exam(tmp_path, "mlp")
    m, n = 3, 2
    assert r["op_counts"]["additions"] == m * n and r["op_counts"]["multiplications"] == m * n
    assert r["jacobians"] == {
        "w": {"shape": [m], "always_zero": 0},
        "dh_relu_dh": {"shape": [m, m], "always_zero": m * m - m},  # ReLU's Jacobian is diagonal
        "dL_dh_relu": {"shape": [1, m], "always_zero": 0},
    }
    assert all(d["ok"] for d in r["derivatives"].values())
    forward = {tuple(e) for e in r["graph_edges"]["forward"]}
    assert forward == {("W", "Wx"), ("x", "Wx"), ("Wx", "h"), ("b", "h"), ("h", "h'"), ("h'", "s"),
                       ("w", "s"), ("s", "L"), ("y", "L")}
    backward = {tuple(e) for e in r["graph_edges"]["backward"]}
    dh = "∂L/∂h = ∂L/∂b"
    assert backward == {("s", "∂L/∂s"), ("y", "∂L/∂s"), ("∂L/∂s", "∂L/∂w"), ("h'", "∂L/∂w"),
                        ("∂L/∂s", "∂L/∂h'"), ("w", "∂L/∂h'"), ("∂L/∂h'", dh), ("h", dh), (dh, "∂L/∂W"),
                        ("x", "∂L/∂W")}
    assert r["graphs"]["forward"].startswith('digraph "E1 forward"') and '"h" -> "h\'"' in r["graphs"]["forward"]
    assert {e["problem"] for e in r["errata"]} == {"E1(a)", "E1(c)", "E1(d)", "E1(e)"}


def test_mlp_counts_follow_the_config_shape(tmp_path):
    # m = 2, n = 4: 8 multiplications, 2·3 + 2 = 8 additions; the seed's (m−1)n + m would say 6.
    r = run_exam(tmp_path, "mlp", "--config.W=[[1,2,3,4],[0,1,0,1]]", "--config.b=[0,0]",
                 "--config.x=[1,1,1,1]", "--config.w=[1,1]", "--config.y=0")
    assert r["op_counts"]["additions"] == 8 and r["op_counts"]["multiplications"] == 8
    assert r["jacobians"]["dh_relu_dh"]["always_zero"] == 2
    assert "m=2, n=4: 6 vs 8" in r["errata"][0]["verified"]


def test_graphs_are_written_as_dot_files(tmp_path, capsys):
    assert cli.main(["exam", "mlp", "--graphs", str(tmp_path / "g")]) == 0
    dot = (tmp_path / "g" / "e1_backward.dot").read_text()
    assert dot.count("->") == 10


# ---------------------------------------------------------------------------------------------
# E2, E4, E5


def test_resblock_by_hand(tmp_path):
    r = run_exam(tmp_path, "resblock")
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, -1.0, 1.0]])
    b = np.array([0.5, -1.0, 0.0])
    x = np.array([[1.0, 2.0, -1.0], [0.0, 1.0, 1.0]])
    dy = np.array([[1.0, -1.0, 2.0], [0.5, 1.0, -2.0]])
    h = x @ W + b
    mask = (h > 0) * dy
    np.testing.assert_allclose(r["forward"]["out"], x + np.maximum(h, 0))
    np.testing.assert_allclose(r["backward"]["dx"], dy + mask @ W.T)
    np.testing.assert_allclose(r["backward"]["dW"], x.T @ mask)
    np.testing.assert_allclose(r["backward"]["db"], mask.sum(0))
    assert r["cross_check"]["ok"] is True
    # The in-place seed solution adds the masked gradient: off by |dy| where h <= 0, at most 2 here.
    assert any("differs from the verified one by 2" in e["evidence"] for e in r["errata"])


def test_lstm_count(tmp_path):
    r = run_exam(tmp_path, "lstm")
    layer1 = 4 * (500 * (300 + 500) + 500)
    layer2 = 4 * (500 * (500 + 500) + 500)
    assert r["one_bias"] == layer1 + layer2 == 3_604_000
    assert r["two_biases"] == layer1 + layer2 + 2 * 4 * 500 == 3_608_000
    assert [p["flax"] for p in r["per_layer"]] == [layer1, layer2]
    assert r["torch"] == 3_608_000 and r["agree"] is True
    small = run_exam(tmp_path, "lstm", "--input-size", "3", "--hidden-size", "2", "--num-layers", "3")
    assert small["one_bias"] == 4 * (2 * 5 + 2) + 2 * 4 * (2 * 4 + 2)


def test_gru_and_rnn_counts_bidirectional(tmp_path):
    # GRU: 3 blocks of H·(D + H) weights per direction; one bias vector per block (3H), PyTorch two
    # (6H), flax's GRUCell its own four (3 input biases and the candidate's hidden one).
    r = run_exam(tmp_path, "lstm", "--config.cell=gru", "--config.bidirectional=True", "--input-size", "10",
                 "--hidden-size", "4", "--num-layers", "2")
    layer1 = 2 * 3 * 4 * (10 + 4)  # both directions
    layer2 = 2 * 3 * 4 * (8 + 4)  # the input of layer 2 joins both directions: 2H = 8
    assert r["one_bias"] == layer1 + layer2 + 2 * 2 * 3 * 4
    assert r["two_biases"] == layer1 + layer2 + 2 * 2 * 6 * 4
    assert r["flax"] == layer1 + layer2 + 2 * 2 * 4 * 4
    assert r["torch"] == r["two_biases"] and r["agree"] is True
    # A vanilla RNN: one block, tanh(W_xh x + W_hh h + b).
    v = run_exam(tmp_path, "lstm", "--config.cell=rnn", "--input-size", "3", "--hidden-size", "5", "--num-layers", "1")
    assert (v["one_bias"], v["two_biases"], v["flax"]) == (5 * (3 + 5) + 5, 5 * (3 + 5) + 10, 5 * (3 + 5) + 5)


def test_rnn_closed_form(tmp_path):
    r = run_exam(tmp_path, "rnn")
    # h(1) = σ([2 ln 2, −ln 2]) = [4/5, 1/3]; h(2) = σ([0.8 ln 2 + 0.75 ln 2, ln 2 / 3]).
    np.testing.assert_allclose(r["h"][0], [0.8, 1 / 3], atol=1e-14)
    np.testing.assert_allclose(r["h"][1], [2**1.55 / (1 + 2**1.55), 2 ** (1 / 3) / (1 + 2 ** (1 / 3))], atol=1e-14)
    assert "closed_form" in r


def test_rnn_tanh_three_steps_against_a_numpy_loop(tmp_path):
    r = run_exam(tmp_path, "rnn", "--config.activation=tanh", "--config.h0=[0.5,-0.5]",
                 "--config.xs=[[1,0],[0,1],[-1,2]]")
    W_hh = np.log(2) * np.eye(2)
    W_xh = np.array([[1.0, 1.0], [-1.0, 0.0]])
    h = np.array([0.5, -0.5])
    expected = []
    for x in ([1, 0], [0, 1], [-1, 2]):
        h = np.tanh(W_hh @ h + W_xh @ np.array(x, float))
        expected.append(h)
    np.testing.assert_allclose(r["h"], expected, atol=1e-14)
    assert "closed_form" not in r


def test_rnn_a_third_step_on_the_exams_weights_is_not_the_exam(tmp_path):
    # The exam's sigmoid and weights with one more input: the errata's check of "the exam's givens"
    # compares shapes before values (it once broadcast (3, 2) against (2, 2) and raised).
    L = math.log(2)
    r = run_exam(tmp_path, "rnn", f"--config.xs=[[{L},{L}],[0,{0.75 * L}],[1,1]]")
    assert len(r["h"]) == 3 and r["errata"] == []
    np.testing.assert_allclose(r["h"][1], run_exam(tmp_path, "rnn")["h"][1], atol=1e-14)


# ---------------------------------------------------------------------------------------------
# E3


def test_tictactoe_all_boards(tmp_path):
    r = run_exam(tmp_path, "tictactoe")
    # The UCI Tic-Tac-Toe Endgame data set: 958 boards, 626 X wins ("positive").
    assert r["boards"] == {"total": 958, "x_wins": 626, "o_wins": 316, "draws": 16, "positive": 626}
    assert r["accuracy"] == 1.0
    steps = r["forward_example"]["steps"]
    # The example X . . / O X . / O . X: the convolution marks the X cells.
    np.testing.assert_allclose(np.ravel(steps[0]["output"]), [1, 0, 0, 0, 1, 0, 0, 0, 1], atol=1e-6)
    assert steps[3]["output"] == [pytest.approx(10.0, abs=1e-4)]  # the ↘ diagonal: 20·(3 − 2.5)
    g = r["bce_gradient"]
    assert g["manual"] == pytest.approx(sigmoid(10.0) - 1, rel=1e-6)
    assert g["autodiff"] == pytest.approx(g["manual"], rel=1e-9)


def test_count_wins_counts_and_json(tmp_path, capsys):
    from jaxdl.models.tictactoe import board_images, final_boards

    boards, outcome = final_boards()
    pick = np.arange(0, 958, 37)
    images = board_images(boards[pick])[:, 0].astype(np.uint8)  # (N, 9, 9)
    path = tmp_path / "games.npy"
    np.save(path, images)
    out = tmp_path / "wins.json"
    assert cli.main(["tictactoe", "count-wins", str(path), "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["n"] == len(pick) and r["count"] == int(np.sum(outcome[pick] == 1))
    assert r["predictions"] == (outcome[pick] == 1).astype(int).tolist()
    assert f"{r['count']} of {len(pick)}" in capsys.readouterr().out


def _bad_images():
    from jaxdl.models.tictactoe import board_images

    board = board_images([(1, 0, 0, -1, 1, 0, -1, 0, 1)])[:, 0]
    grey = board.copy()
    grey[0, 4, 4] = 0.5
    broken = np.concatenate([board, board])
    broken[1, 3, 7] = 1  # cell [1, 2]: an empty cell with one black pixel
    return [
        (grey, "image 0 is not binary: pixel [4, 4] is 0.5"),
        (broken, "image 1, cell [1, 2] (pixels [3:6, 6:9]) is neither X, O nor empty"),
        (np.zeros((2, 8, 9)), "expected images of shape (N, 9, 9) or (N, 1, 9, 9); got shape (2, 8, 9)"),
    ]


@pytest.mark.parametrize("index", range(3))
def test_count_wins_rejects_malformed_images(tmp_path, capsys, index):
    images, match = _bad_images()[index]
    path = tmp_path / "bad.npy"
    np.save(path, images)
    assert cli.main(["tictactoe", "count-wins", str(path)]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# E6


def leaky(a, slope=0.2):
    return np.where(a > 0, a, slope * a)


def gan_step_by_hand(Wg1, Wg2, Wd1, wd2, z, X, lr, loss):
    """The exam's step in the column convention, derived independently of jaxdl's layers."""
    m = len(z)
    Z = np.asarray(z)[None, :]  # (1, m)
    X = np.asarray(X).T  # (2, m)
    P1 = Wg1 @ Z
    H1 = np.maximum(P1, 0)
    P2 = Wg2 @ H1
    Xf = np.maximum(P2, 0)

    def disc(Wd1, wd2, X):
        A1 = Wd1 @ X
        return A1, leaky(A1), wd2 @ leaky(A1)

    # Discriminator: L_D = −mean ln σ(a_r) − mean ln(1 − σ(a_f)).
    A_r, H_r, a_r = disc(Wd1, wd2, X)
    A_f, H_f, a_f = disc(Wd1, wd2, Xf)
    L_D = -np.mean(np.log(sigmoid(a_r))) - np.mean(np.log(1 - sigmoid(a_f)))
    da_r, da_f = (sigmoid(a_r) - 1) / m, sigmoid(a_f) / m
    d_wd2 = da_r @ H_r.T + da_f @ H_f.T
    dA_r = (wd2.T @ da_r) * np.where(A_r > 0, 1, 0.2)
    dA_f = (wd2.T @ da_f) * np.where(A_f > 0, 1, 0.2)
    d_Wd1 = dA_r @ X.T + dA_f @ Xf.T
    Wd1n, wd2n = Wd1 - lr * d_Wd1, wd2 - lr * d_wd2
    # Generator through the updated discriminator.
    A, _, a = disc(Wd1n, wd2n, Xf)
    if loss == "minimax":
        L_G, da = np.mean(np.log(1 - sigmoid(a))), -sigmoid(a) / m
    else:
        L_G, da = -np.mean(np.log(sigmoid(a))), (sigmoid(a) - 1) / m
    dXf = Wd1n.T @ ((wd2n.T @ da) * np.where(A > 0, 1, 0.2))
    dP2 = dXf * (P2 > 0)
    d_Wg2 = dP2 @ H1.T
    dP1 = (Wg2.T @ dP2) * (P1 > 0)
    d_Wg1 = dP1 @ Z.T
    return {
        "discriminator_step": {"loss": L_D, "grads": {"W1": d_Wd1, "w2": d_wd2}, "new": {"W1": Wd1n, "w2": wd2n}},
        "generator_step": {"loss": L_G, "grads": {"W1": d_Wg1, "W2": d_Wg2},
                           "new": {"W1": Wg1 - lr * d_Wg1, "W2": Wg2 - lr * d_Wg2}},
    }


EXAM_GAN = dict(
    Wg1=np.array([[0.5], [-1.0]]), Wg2=np.array([[0.8, 0.5], [0.4, 1.2]]),
    Wd1=np.array([[1.0, -0.5], [-0.5, 1.5]]), wd2=np.array([[0.5, -1.0]]),
    z=[-0.5, 0.5, 0.0], X=[[0, 0], [1, 1], [2, 2]], lr=1.0,
)


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_gan_step_matches_hand_derivation(tmp_path, loss):
    r = run_exam(tmp_path, "gan", f"--config.generator_loss={loss}")
    expected = gan_step_by_hand(**EXAM_GAN, loss=loss)
    for part in ("discriminator_step", "generator_step"):
        assert r[part]["loss"] == pytest.approx(expected[part]["loss"], abs=1e-12)
        for group in ("grads", "new"):
            for k, v in expected[part][group].items():
                np.testing.assert_allclose(r[part][group][k], v, atol=1e-12, err_msg=f"{part}.{group}.{k}")
    # By hand: G(−0.5) = ReLU(W_g2 [0, 0.5]) = [0.25, 0.6]; G(0.5) = [0.2, 0.1]; G(0) = 0.
    np.testing.assert_allclose(r["intermediate"]["G(z)"], [[0.25, 0.6], [0.2, 0.1], [0, 0]], atol=1e-15)


def test_gan_step_equals_autodiff_on_a_wide_gan(key):
    import jax
    import jax.numpy as jnp
    import optax

    from jaxdl.models import gan as gan_lib

    gan = gan_lib.exam_gan(hidden=8, latent_size=3, data_size=2, leaky_slope=0.2)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), gan.init(key))
    kz, kx = jax.random.split(jax.random.fold_in(key, 1))
    z, x = jax.random.normal(kz, (16, 3)), jax.random.normal(kx, (16, 2))
    sgd = optax.sgd(0.1)
    for loss in gan_lib.GENERATOR_LOSSES:
        step = gan_lib.make_step(gan, sgd, sgd, loss)
        new, _, aux = step(params, gan_lib.init_opt_state(params, sgd, sgd), z, x)
        pg, pd = params["generator"], params["discriminator"]
        fake = gan.generator.apply(pg, z)
        d_ref = jax.grad(gan_lib.discriminator_objective, argnums=1)(gan, pd, x, fake)
        pd_new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, pd, d_ref)
        g_ref = jax.grad(gan_lib.generator_objective, argnums=1)(gan, pg, pd_new, z, loss)
        for got, ref in ((aux["d_grads"], d_ref), (aux["g_grads"], g_ref), (new["discriminator"], pd_new)):
            for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(ref)):
                np.testing.assert_allclose(a, b, atol=1e-12)
        assert float(aux["d_loss"]) == pytest.approx(float(gan_lib.discriminator_objective(gan, pd, x, fake)), abs=1e-12)
        assert jnp.all(jnp.isfinite(aux["g_loss"]))


# ---------------------------------------------------------------------------------------------
# all, quiz and bad input


def test_exam_all_is_keyed_by_problem_with_errata(tmp_path, capsys):
    r = run_exam(tmp_path, "all")
    assert set(r) == {"mlp", "resblock", "tictactoe", "lstm", "rnn", "gan", "quiz", "errata"}
    problems = [e["problem"] for e in r["errata"]]
    assert {"E1(a)", "E1(d)", "Q1a", "Q1b", "Q3"} <= set(problems)
    assert r["quiz"]["ok"] is True
    assert r["quiz"]["Q2"]["dense"]["params"] == 0
    printed = capsys.readouterr().out
    assert "Errata:" in printed and "E6  One GAN step" in printed


@pytest.mark.parametrize(
    "argv, match",
    [
        (["gan", "--config.generator.W2=[[1,2],[3,4],[5,6]]"], "generator.W2 must have shape (2, 2); got (3, 2)"),
        (["gan", "--config.noise=[0.1, 0.2]"], "noise and data must have the same length m; got 2 and 3"),
        (["gan", "--config.generator_loss=wasserstein"], "generator_loss must be one of"),
        (["gan", "--config.learning_rate=fast"], "learning_rate expects a number; got 'fast'"),
        (["gan", "--config.discriminator.w3=1"], "unknown field 'discriminator.w3'"),
        (["mlp", "--config.y=2"], "y must be 0 or 1; got 2"),
        (["mlp", "--config.W=[['a', 'b']]"], "W must be numeric"),
        (["mlp", "--config.b=[1, 2]"], "b must have shape (3,); got (2,)"),
        (["rnn", "--config.xs=[[1, 2, 3]]"], "xs must have shape (any, 2); got (1, 3)"),
        (["quiz", "--config.x=1"], "unknown field 'x'; known: ['q1', 'q2', 'q3']"),
        (["all", "--config.y=1"], "exam all: runs every problem with its default config"),
        (["mlp", "--config", "no/such/file.py"], "no such file"),
        (["lstm", "--hidden-size", "0"], "--hidden-size: expected an integer >= 1; got 0"),
    ],
)
def test_bad_config_is_exit_2_naming_the_field(argv, match, capsys):
    assert cli.main(["exam", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
