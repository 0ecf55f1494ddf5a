"""Strict test session: float64 cross-checks, no implicit rank promotion, warnings are errors."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# The tests draw many small random arrays of different shapes; RngBitGenerator-based keys
# compile several times faster than threefry on CPU. No test depends on a particular stream.
jax.config.update("jax_default_prng_impl", "rbg")


@pytest.fixture
def key(request):
    """A PRNG key that differs between tests but is the same on every run of one test."""
    seed = sum(map(ord, request.node.name))
    return jax.random.PRNGKey(seed)
