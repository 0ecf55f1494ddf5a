"""What the manual path costs once compiled: serial's backward reruns the forward pass and each
coupling's backward recomputes its h, yet XLA's common-subexpression elimination removes the
repetition — the optimised programs of a training step have as many matrix products and
convolutions on the hand-derived backward as on autodiff."""

import dataclasses
import re

import jax
import jax.numpy as jnp
import pytest

from jaxdl import layers as L
from jaxdl import serial, with_manual_grad
from jaxdl.models.nice import nice


def _compiled_ops(f, *args) -> dict[str, int]:
    text = jax.jit(f).lower(*args).compile().as_text()
    return {op: len(re.findall(rf"= \S+ {op}\(", text)) for op in ("dot", "convolution")}


def _jaxpr_dots(f, *args) -> int:
    return str(jax.make_jaxpr(f)(*args)).count("dot_general")


def _mlp():
    net = serial(L.dense(32), L.relu(), L.dense(32), L.relu(), L.dense(1))
    _, params = net.init(jax.random.PRNGKey(0), (-1, 8))
    return net, params, jnp.ones((16, 8)), lambda net: lambda p, x: jnp.sum(net.apply(p, x) ** 2)


def _flow():
    flow = nice((1, 8, 8), num_couplings=4, hidden=(32, 32))
    return flow, flow.init(jax.random.PRNGKey(0)), jnp.ones((16, 1, 8, 8))


@pytest.mark.parametrize("which", ["dense_mlp", "nice_flow"])
def test_manual_and_autodiff_compile_to_the_same_matmuls(which):
    if which == "dense_mlp":
        net, params, x, objective = _mlp()
        manual = jax.grad(objective(with_manual_grad(net)))
        auto = jax.grad(objective(net))
    else:
        flow, params, x = _flow()
        manual_flow = dataclasses.replace(flow, bijection=with_manual_grad(flow.bijection))
        manual = jax.grad(lambda p, x: -jnp.mean(manual_flow.log_prob(p, x)))
        auto = jax.grad(lambda p, x: -jnp.mean(flow.log_prob(p, x)))
    ops_manual, ops_auto = _compiled_ops(manual, params, x), _compiled_ops(auto, params, x)
    assert ops_manual == ops_auto and ops_manual["dot"] > 0
    if which == "nice_flow":
        # Before compilation the manual program does repeat work (h recomputed per coupling).
        assert _jaxpr_dots(manual, params, x) > _jaxpr_dots(auto, params, x) > ops_auto["dot"]
