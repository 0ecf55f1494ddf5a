"""Operation counts, structural Jacobian zeros and traced graphs, on functions whose answers are
known by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import analysis


def test_count_ops_of_affine_maps_and_sums():
    # W (m×n) x: m·n multiplications, m·(n−1) additions; + b: m more additions.
    assert analysis.count_ops(lambda W, x, b: W @ x + b, jnp.ones((4, 5)), jnp.ones(5), jnp.ones(4)) == {
        "additions": 20, "multiplications": 20, "other": {}}
    # A batched matrix product (2, 3, 4) @ (2, 4, 5): 2·3·5 outputs of length-4 dot products.
    counts = analysis.count_ops(lambda a, b: a @ b, jnp.ones((2, 3, 4)), jnp.ones((2, 4, 5)))
    assert (counts["multiplications"], counts["additions"]) == (120, 90)
    # Summing 12 numbers takes 11 additions; exp is reported as "other".
    counts = analysis.count_ops(lambda x: jnp.exp(x).sum(), jnp.ones((3, 4)))
    assert counts["additions"] == 11 and counts["other"] == {"exp": 12}


def test_jacobian_sparsity_by_structure_not_by_sample():
    relu = lambda h: jnp.where(h > 0, h, 0)  # noqa: E731
    # At h = 0 every entry of ReLU's Jacobian is 0 numerically; structurally the diagonal is not.
    pattern = analysis.jacobian_sparsity(relu, [jnp.zeros(4)])
    np.testing.assert_array_equal(pattern, np.eye(4, dtype=bool))
    # ∂(W x)_i/∂W_kl is non-zero only for k = i.
    pattern = analysis.jacobian_sparsity(lambda W, x: W @ x, [jnp.ones((3, 2)), jnp.ones(2)], argnum=0)
    assert pattern.shape == (3, 3, 2)
    np.testing.assert_array_equal(pattern, np.eye(3, dtype=bool)[:, :, None].repeat(2, axis=2))
    # Softmax couples every output with every input; a reversed slice is a permutation.
    assert analysis.jacobian_sparsity(jax.nn.softmax, [jnp.ones(5)]).all()
    np.testing.assert_array_equal(analysis.jacobian_sparsity(lambda v: v[::-1] * 2, [jnp.ones(3)]),
                                  np.eye(3, dtype=bool)[::-1])
    # A convolution's output pixel depends only on its window (1D, kernel 3, VALID: 3 per row).
    conv = lambda x: jax.lax.conv(x[None, None], jnp.ones((1, 1, 3)), (1,), "VALID")[0, 0]  # noqa: E731
    with pytest.raises(NotImplementedError, match="conv_general_dilated"):
        analysis.jacobian_sparsity(conv, [jnp.ones(6)])


def test_graph_of_named_operations():
    @jax.jit
    def mul(a, b):
        return a * b

    @jax.jit
    def add(a, b):
        return a + b

    def f(a, b, c):
        ab = mul(a, b)
        return {"ab": ab, "out": add(ab, c)}

    g = analysis.computational_graph(f, ["a", "b", "c"], [1.0, 2.0, 3.0], {"mul": "×", "add": "+"})
    assert g.nodes == (("a", None), ("b", None), ("c", None), ("ab", "×"), ("out", "+"))
    assert g.edges == (("a", "ab"), ("b", "ab"), ("ab", "out"), ("c", "out"))
    assert '"ab" [shape=ellipse, label="(ab, ×)"];' in analysis.to_dot(g, "t")
    with pytest.raises(ValueError, match="not a named elementary operation"):
        analysis.computational_graph(lambda a: {"y": a * 2}, ["a"], [1.0], {})
