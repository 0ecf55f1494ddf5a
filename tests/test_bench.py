"""The benchmark harness keeps working (no timing is asserted: speed is measured by `make bench`)."""

import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import cli
from jaxdl.bench import suites
from jaxdl.registry import REGISTRY
from jaxdl.models import gan as gan_lib


def test_quick_numpy_lab_suite_writes_json_and_chart(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--suite", "numpy_lab", "--json", str(out), "--plots", str(tmp_path / "png")]) == 0
    report = json.loads(out.read_text())
    assert set(report) >= {"environment", "limits", "suites", "quick"}
    assert report["environment"]["versions"]["jax"] == jax.__version__
    rows = report["suites"]["numpy_lab"]["rows"]
    assert [r["candidate"] for r in rows] == ["numpy (the lab's layers, float64)", "jaxdl (jit, manual backward, float32)"]
    assert all(r["median_s"] > 0 for r in rows) and rows[0]["ratio"] == 1.0
    assert rows[1]["ratio"] == rows[1]["median_s"] / rows[0]["median_s"]
    assert report["limits"]["matmul_gflops"] > 0 and report["limits"]["copy_gbps"] > 0
    assert (tmp_path / "png" / "numpy_lab.png").stat().st_size > 0
    assert "== numpy_lab" in capsys.readouterr().out


def test_unknown_suite_is_exit_2(capsys):
    assert cli.main(["bench", "--suite", "nope"]) == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err


def test_every_registry_layer_family_has_one_entry_that_says_how_to_time_it():
    families = {name.split("/")[0] for name in REGISTRY}
    timed = [name.split("/")[0] for name, entry in REGISTRY.items() if entry.bench]
    assert sorted(timed) == sorted(families)  # exactly one per family
    assert set(suites.bench_layers(quick=True)) == families


def test_one_layer_can_be_timed_alone(capsys):
    assert cli.main(["bench", "--quick", "--suite", "manual_vs_autodiff", "--layer", "swish"]) == 0
    out = capsys.readouterr().out
    assert "swish (512, 512)" in out and "dense" not in out.split("== manual_vs_autodiff")[1]
    assert cli.main(["bench", "--suite", "coupling", "--layer", "swish"]) == 2


def test_flat_step_is_the_same_step():
    gan = gan_lib.exam_gan(hidden=4)
    params = gan.init(jax.random.PRNGKey(0))
    adam = optax.adam(1e-2)
    step = gan_lib.make_step(gan, adam, adam)
    opt_state = gan_lib.init_opt_state(params, adam, adam)
    flat_step, pack, unpack = gan_lib.make_flat_step(step, params, opt_state)
    z = jnp.linspace(-1.0, 1.0, 5, dtype=jnp.float32)[:, None]
    x = jnp.asarray(np.random.default_rng(0).standard_normal((5, 2)), jnp.float32)
    state = pack(params, opt_state)
    for _ in range(3):
        params, opt_state, aux = step(params, opt_state, z, x)
        state = flat_step(state, z, x)
    p, o, losses = unpack(state)
    for a, b in zip(jax.tree_util.tree_leaves((params, opt_state)), jax.tree_util.tree_leaves((p, o))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(losses, [aux["d_loss"], aux["g_loss"]], rtol=1e-6)


def test_the_machine_limits_and_a_busy_machine_are_measured():
    import subprocess
    import sys
    import time

    from jaxdl.bench.harness import CpuMonitor, machine_limits

    lim = machine_limits(quick=True)
    for key in ("matmul_gflops", "copy_gbps", "copy_cache_gbps"):
        low, median, high = lim[f"{key}_spread"]
        assert 0 < low <= median <= high == lim[key]  # the best run, and the spread of all
    assert lim["copy_cache_mib"] < lim["copy_mib"]
    # Another process burning a core while we wait is seen in /proc/stat.
    monitor = CpuMonitor()
    burner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass"])
    time.sleep(1.2)
    busy = monitor.others()
    burner.wait()
    assert busy is not None and busy > 0.5


def test_the_training_suite_has_a_pytorch_column():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    from jaxdl.bench.torch_peers import PEERS

    name = "gan_ring"  # dense layers only: the quickest peer to compile twice (scan and step)
    assert name in PEERS and suites.PEER_SPEEDUP == {"cnn_digits": 1.5, "lstm_adding": 1.5, "mnist_cnn": 1.0}
    result = suites.training(quick=True, names=[name], smoke=True)
    peer = next(r for r in result.rows if r.candidate == suites.PEER)
    assert peer.case.startswith(name) and peer.median_s > 0 and peer.ratio == 1.0 and "steps/s" in peer.note
    for loop in ("scan", "step"):
        row = next(r for r in result.rows if f"loop={loop}" in r.candidate)
        assert row.reference == suites.PEER and row.ratio == pytest.approx(row.median_s / peer.median_s)
        assert re.search(r"steps/s \(rounds [\d,]+–[\d,]+\)", row.note)
    verdicts = [t for t in result.targets if "the faster PyTorch's steps/s" in t["target"]]
    assert len(verdicts) == 1 and verdicts[0]["target"].startswith(f"{name}: jaxdl's step ≥ 1×")
    assert isinstance(verdicts[0]["met"], bool) and " vs " in verdicts[0]["detail"]


def test_the_cnn_layers_suite_times_each_layer_of_mnist_cnn_against_pytorch():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    from jaxdl.train.experiments.mnist_cnn import lab2_layers

    result = suites.cnn_layers(quick=True, limits={"matmul_gflops": 100.0})
    cases = list(dict.fromkeys(r.case for r in result.rows))
    # Every layer of the experiment's network, in order, its shapes chained from a batch of 16 digits.
    assert [c.split()[:2] for c in cases] == [[str(i), layer.name] for i, layer in enumerate(lab2_layers())]
    assert cases[0] == "0 conv2d (16, 1, 28, 28) → (16, 16, 28, 28)" and cases[-1] == "9 dense (16, 512) → (16, 10)"
    for a, b in zip(cases, cases[1:]):
        assert b.split(" → ")[0].endswith(a.split(" → ")[1])
    mine, theirs = {}, {}
    for case in cases:
        rows = {r.candidate: r for r in result.rows if r.case == case}
        expected = ["jaxdl", suites.XLA_CONV, "PyTorch (eager)"] if " conv2d " in case else ["jaxdl", "PyTorch (eager)"]
        assert list(rows) == expected
        peer = rows["PyTorch (eager)"]
        assert peer.ratio == 1.0
        for r in rows.values():
            assert r.median_s > 0 and r.ratio == pytest.approx(r.median_s / peer.median_s)
            if case.startswith("0 conv2d"):  # 16·16·28·28 outputs × 1·5·5 taps × 2 flops, forward and ∂L/∂W
                assert r.gflops == pytest.approx(2 * 2 * 16 * 16 * 28 * 28 * 25 / r.median_s / 1e9)
            elif case.startswith("3 conv2d"):  # 16·32·14·14 outputs × 16·5·5 taps × 2, and ∂L/∂x
                assert r.gflops == pytest.approx(3 * 2 * 16 * 32 * 14 * 14 * 16 * 25 / r.median_s / 1e9)
            else:
                assert r.gflops is None
            if r.gflops is not None:  # the fraction of the given 100 GFLOP/s peak
                assert r.note.startswith(f"{r.gflops:.0f}% of the matmul peak; ")
        mine[case], theirs[case] = rows["jaxdl"].median_s, peer.median_s
    (target,) = result.targets
    assert target["met"] == (sum(mine.values()) <= sum(theirs.values()))
    slower = [c.split(" (")[0] for c in cases if mine[c] > theirs[c]]
    named = re.findall(r"(\d+ [a-z_0-9]+) [\d.]+ [mµ]?s vs", target["detail"])
    assert sorted(named) == sorted(slower)


def test_the_lstm_loop_suite_times_the_lstm_per_time_step_against_nn_lstm():
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    result = suites.lstm_loop(quick=True)
    got = [(r.case, r.candidate) for r in result.rows]
    size = "(N 16, T 10, H 64)"
    assert got == [(f"forward {size}", "jaxdl"), (f"forward {size}", "PyTorch nn.LSTM (eager)"),
                   (f"forward+backward {size}", "jaxdl"), (f"forward+backward {size}", "PyTorch nn.LSTM (eager)"),
                   (f"the time loop's floor {size}", "lax.scan of h ← tanh(xw(t) + h·W_h)")]
    for r in result.rows:
        per_step = float(re.match(r"([\d.]+) (µs|ms) per time step", r.note).group(1))
        scale, digits = (1e-6, 0) if " µs per" in r.note else (1e-3, 2)  # as printed: 31 µs, 1.25 ms
        assert abs(per_step - r.median_s / 10 / scale) <= 0.5 * 10 ** -digits  # T = 10 steps
    mine, theirs = result.rows[2].median_s, result.rows[3].median_s
    assert result.rows[2].ratio == pytest.approx(mine / theirs) and result.rows[4].ratio is None
    (target,) = result.targets
    assert target["met"] == (theirs / mine >= 1.5) and target["detail"].startswith(f"{theirs / mine:.2f}×")


def test_a_timed_pytorch_step_starts_each_call_from_zero_gradients():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(2, 3, batch_first=True)
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((4, 5, 2)).astype(np.float32), rng.standard_normal((4, 5, 3)).astype(np.float32)
    step = suites._torch_layer_step(torch, suites._sequence_output(torch, lstm), x, dy, first=True)
    step()
    once = [p.grad.clone() for p in lstm.parameters()]
    step()  # a second call: the same gradients, not twice them
    for g, p in zip(once, lstm.parameters()):
        assert torch.equal(p.grad, g) and g.abs().sum() > 0


def test_without_pytorch_the_new_suites_say_their_target_could_not_be_checked():
    from jaxdl import bench

    report = bench.run(["lstm_loop", "cnn_layers"], quick=True, peers=False)
    for name, candidates in (("lstm_loop", {"jaxdl", "lax.scan of h ← tanh(xw(t) + h·W_h)"}),
                             ("cnn_layers", {"jaxdl", suites.XLA_CONV})):
        suite = report["suites"][name]
        assert {r["candidate"] for r in suite["rows"]} == candidates
        (target,) = suite["targets"]
        assert target["met"] is None and target["detail"] == "PyTorch's columns left out (its peers run on the CPU)"


def test_every_pytorch_peer_trains_its_smoke_config():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    from jaxdl.bench.torch_peers import PEERS, make_peer
    from jaxdl.train import experiments

    rng = np.random.default_rng(0)
    # The MNIST experiments' data, by shape (reading the real digits takes seconds and the peers
    # only index them): 100 images, labels 0–9.
    mnist = {"mnist_cnn": {"x_train": rng.uniform(size=(100, 1, 28, 28)), "y_train": rng.integers(0, 10, 100)},
             "nice_mnist": {"x_train": rng.uniform(size=(100, 784))}}
    torch.manual_seed(0)
    for name in PEERS:
        cfg = experiments.default_config(name)
        cfg.smoke = True
        cfg = experiments.resolve(cfg)
        data = mnist.get(name) or experiments.EXPERIMENTS[name]().data(cfg)
        step = make_peer(torch, name, cfg, data)
        losses = [float(step()) for _ in range(3)]
        assert all(np.isfinite(losses)), (name, losses)


@pytest.mark.filterwarnings("ignore")  # torch.compile warns from its own internals (torch.jit, .grad)
def test_the_compiled_peer_is_checked_against_the_eager_one_before_it_is_timed(monkeypatch):
    # `make bench` compiles every peer and checks it so; here the cheapest to compile (nn.RNN, which
    # torch.compile leaves to eager), then a compiled step that trains differently: refused.
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")
    from jaxdl.bench import suites, torch_peers
    from jaxdl.train import experiments

    cfg = experiments.default_config("rnn_adding")
    cfg.smoke = True
    cfg = experiments.resolve(cfg)
    data = experiments.EXPERIMENTS["rnn_adding"]().data(cfg)
    step, seconds = suites.compiled_peer(torch, "rnn_adding", cfg, data)
    assert seconds > 0 and np.isfinite(float(step()))
    make_peer = torch_peers.make_peer

    def drifting(torch, name, cfg, data, compiled=False):
        inner = make_peer(torch, name, cfg, data)
        return (lambda: inner() * (1 + 1e-3)) if compiled else inner  # 1e-3 relative: ten times the tolerance

    monkeypatch.setattr(torch_peers, "make_peer", drifting)
    with pytest.raises(suites.PeerMismatch, match=r"^losses .* against eager's "):
        suites.compiled_peer(torch, "rnn_adding", cfg, data)


def test_interleaved_timing_keeps_every_round_of_every_candidate():
    import time

    from jaxdl.bench.harness import measure_interleaved

    order = []

    def sleeper(seconds, label):
        def run():
            order.append(label)
            time.sleep(seconds)
        return run

    timed = measure_interleaved({"short": (sleeper(0.001, "short"), ()), "long": (sleeper(0.004, "long"), ())},
                                repeats=3, min_run_s=0.008)
    assert set(timed) == {"short", "long"}
    for label, (median, runs) in timed.items():
        assert len(runs) == 3 and min(runs) <= median <= max(runs)
    assert 0.001 <= timed["short"][0] < timed["long"][0] and timed["long"][0] >= 0.004
    # Round by round: the timed runs alternate between the candidates (calls grouped by run).
    runs_in_order = [label for i, label in enumerate(order) if i == 0 or order[i - 1] != label]
    assert runs_in_order[-6:] == ["short", "long"] * 3
