"""Training on the manual backward passes: the same trajectory as autodiff, and real learning."""

import chex
import jax
import numpy as np
import optax

from jaxdl.losses import l2_regularizer, softmax_cross_entropy
from jaxdl.train import Dataset, load_digits, train_classifier
from jaxdl.train.loop import digits_cnn


def test_digits_split_is_the_documented_one():
    data = load_digits()
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_test.shape == (360, 1, 8, 8)
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    # Stratified: every class has 35 or 36 test images.
    assert set(np.bincount(data.y_test)) <= {35, 36, 37}


def test_manual_and_autodiff_training_follow_the_same_trajectory():
    data = load_digits()
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    small = Dataset(f64(data.x_train[:256]), data.y_train[:256], f64(data.x_test[:64]), data.y_test[:64])
    kwargs = dict(epochs=2, batch_size=64, optimizer=optax.sgd(0.1, momentum=0.9), seed=1,
                  regularizer=l2_regularizer(1e-3), progress=False)
    manual = train_classifier(digits_cnn(4), softmax_cross_entropy, small, manual=True, **kwargs)
    auto = train_classifier(digits_cnn(4), softmax_cross_entropy, small, manual=False, **kwargs)
    assert jax.tree_util.tree_leaves(manual.params)[0].dtype == np.float64
    chex.assert_trees_all_close(manual.params, auto.params, atol=1e-9, rtol=1e-9)
    np.testing.assert_allclose(manual.losses, auto.losses, rtol=1e-10)
    assert manual.losses[-1] < manual.losses[0]
