"""The exam's PyTorch answers (jaxdl/exams/torch_answers/) against jaxdl's layers on the same
weights: forward, gradients (to 1e-6 in float32) and the coupling's round trip; and the official
Q2 solution's TypeError."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.layers import additive_coupling, conv_avg_pool2d, res_block

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'jaxdl[torch]')")

TOL = 1e-6


def _t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, np.float32), requires_grad=requires_grad)


def _close(torch_value, jax_value, tol=TOL):
    got = torch_value.detach().numpy()
    want = np.asarray(jax_value)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=tol, rtol=0)


def test_q2_conv_avg_pool_equals_jaxdl_and_average_pooling():
    from jaxdl.exams.torch_answers.conv_avg_pool import ConvAvgPool2d

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    dy = rng.standard_normal((2, 3, 3, 2)).astype(np.float32)
    module = ConvAvgPool2d(channels=3, K=2)
    assert list(module.parameters()) == []  # nothing an optimizer could train
    assert not module.conv.weight.requires_grad
    w = module.conv.weight.detach().numpy()  # the exam's dense form: 1/K² on the channel diagonal
    assert w.shape == (3, 3, 2, 2)
    np.testing.assert_array_equal(w, np.einsum("ij,kl->ijkl", np.eye(3), np.full((2, 2), 0.25)))

    xt = _t(x, requires_grad=True)
    y = module(xt)
    y.backward(_t(dy))
    layer = conv_avg_pool2d(3, 2)
    _close(y, layer.apply({}, jnp.asarray(x)))
    _close(xt.grad, layer.backward({}, jnp.asarray(x), jnp.asarray(dy))[1])
    # Independently: the mean of each 2×2 window (W = 5: the last column is dropped).
    _close(y, x[:, :, :6, :4].reshape(2, 3, 3, 2, 2, 2).mean(axis=(3, 5)))


def test_q3_additive_coupling_equals_jaxdl_and_inverts():
    from jaxdl.exams.torch_answers.additive_coupling import AdditiveCoupling

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    layer = additive_coupling(4)
    _, params = layer.init(jax.random.PRNGKey(0), x.shape)
    module = AdditiveCoupling(in_channels=4)
    with torch.no_grad():
        module.conv.weight.copy_(_t(params["conv2d_1"]["W"]))
        module.conv.bias.copy_(_t(params["conv2d_1"]["b"]))

    xt = _t(x, requires_grad=True)
    y = module(xt)
    y.backward(_t(dy))
    dparams, dx = layer.backward(params, jnp.asarray(x), jnp.asarray(dy))
    _close(y, layer.apply(params, jnp.asarray(x)))
    _close(xt.grad, dx)
    _close(module.conv.weight.grad, dparams["conv2d_1"]["W"])
    _close(module.conv.bias.grad, dparams["conv2d_1"]["b"])
    _close(y[:, :2], x[:, :2], tol=0)  # y1 = x1 exactly
    with torch.no_grad():
        _close(module.inverse(y), x)
        _close(module.inverse(y), layer.inverse(params, jnp.asarray(np.asarray(y.detach()))))
    assert sum(p.numel() for p in module.parameters()) == 2 * 2 + 2  # Conv1×1 from C/2 to C/2, with bias


def test_e2_res_block_equals_jaxdl():
    from jaxdl.exams.torch_answers.res_block import ResBlock

    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    layer = res_block()
    params = {"W": rng.standard_normal((3, 3)).astype(np.float32), "b": rng.standard_normal(3).astype(np.float32)}
    module = ResBlock(3)
    with torch.no_grad():
        module.fc.weight.copy_(_t(params["W"].T))  # nn.Linear computes x Wᵀ + b
        module.fc.bias.copy_(_t(params["b"]))
    xt = _t(x, requires_grad=True)
    out = module(xt)
    out.backward(_t(dy))
    p = {k: jnp.asarray(v) for k, v in params.items()}
    dparams, dx = layer.backward(p, jnp.asarray(x), jnp.asarray(dy))
    _close(out, layer.apply(p, jnp.asarray(x)))
    _close(out, x + np.maximum(x @ params["W"] + params["b"], 0))
    _close(xt.grad, dx)
    _close(module.fc.weight.grad.T, dparams["W"])
    _close(module.fc.bias.grad, dparams["b"])


def test_official_q2_cannot_be_constructed():
    from jaxdl.exams.torch_answers import official_q2, official_q2_error

    with pytest.raises(TypeError, match=r"cannot assign .* as parameter 'weight' \(torch.nn.Parameter or None expected\)"):
        official_q2.ConvAvgPool2d(channels=3, K=2)
    assert official_q2_error().startswith("TypeError: cannot assign")
