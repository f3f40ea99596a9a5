"""The seed's Keras models: two-head NN and 1D CNN.

Every fit here is tiny (small widths, one or two epochs, one batch per epoch
where possible: TensorFlow traces its training step once per batch shape, and
that tracing, not the arithmetic, is what a tiny fit costs).
"""

import os
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("keras")

from sklearn_moa.datasets import make_moa  # noqa: E402
from sklearn_moa.datasets._columns import CELL_COLUMNS, GENE_COLUMNS  # noqa: E402
from sklearn_moa.metrics import moa_log_loss_scorer  # noqa: E402
from sklearn_moa.model_selection import cross_validate_moa  # noqa: E402
from sklearn_moa.models import (  # noqa: E402
    CNN1DClassifier,
    ControlAwareClassifier,
    PriorClassifier,
    TwoHeadNNClassifier,
)

from .conftest import assert_search_compared, moa_cv_scores  # noqa: E402
from .conftest import toy_multilabel as _data  # noqa: E402

SMALL_TWO_HEAD = dict(head1_units=(8, 4), body_units=(8, 4), tail_units=(4,), batch_size=256)
SMALL_CNN = dict(filters=(4, 2), dense_units=(8,), batch_size=256)


def _small(cls, **params):
    defaults = SMALL_TWO_HEAD if cls is TwoHeadNNClassifier else SMALL_CNN
    return cls(**{**defaults, "epochs": 2, "learning_rate": 1e-2, "random_state": 0, **params})


def _weights(model):
    return [w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in model.get_weights()]


def _n_params(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def test_two_head_parameter_count_matches_the_seed():
    model = TwoHeadNNClassifier().build_keras_model((60, 887), 206)
    assert model.count_params() == 1_384_292
    assert _n_params(model.trainable_weights) == 1_376_866
    assert _n_params(model.non_trainable_weights) == 7_426
    # An int width is split by head1_columns ("auto": the seed's 60 for head 1).
    assert TwoHeadNNClassifier().build_keras_model(947, 206).count_params() == 1_384_292


def test_cnn1d_parameter_count_matches_the_seed():
    model = CNN1DClassifier().build_keras_model(872, 206)
    assert model.count_params() == 16_556_110
    assert model.input_shape == (None, 872, 1) and model.output_shape == (None, 206)


@pytest.mark.parametrize("cls", [TwoHeadNNClassifier, CNN1DClassifier])
def test_fit_predict_shapes_history_and_constant_targets(cls):
    X, Y = _data()
    Y[:, 1] = 0  # a target without positives is not given to the network
    model = _small(cls, head1_columns=3) if cls is TwoHeadNNClassifier else _small(cls)
    assert model.fit(X, Y) is model
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1))
    assert model.network_.output_shape == (None, 3)
    assert proba[0, 1] == pytest.approx(0.5 / (len(X) + 1))
    assert model.predict(X).shape == Y.shape
    assert list(model.history_) == ["loss"] and len(model.history_["loss"]) == model.n_iter_ == 2
    assert model.network_.run_eagerly, "two gradient steps: cheaper eager than traced"
    np.testing.assert_array_equal(model.classes_, np.arange(4))


@pytest.mark.parametrize("cls", [TwoHeadNNClassifier, CNN1DClassifier])
def test_same_random_state_same_predictions_pickle_and_global_state(cls):
    X, Y = _data()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    first = _small(cls, head1_columns=3) if cls is TwoHeadNNClassifier else _small(cls)
    proba = first.fit(X, Y).predict_proba(X)
    # Python's and NumPy's global generators are given back as they were.
    assert random.getstate() == python_state
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state[1])

    again = clone(first).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(again, proba)
    if cls is CNN1DClassifier:  # one model is enough to show the seed matters
        other = clone(first).set_params(random_state=1).fit(X, Y).predict_proba(X)
        assert np.abs(other - proba).max() > 1e-3

    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    np.testing.assert_array_equal(first.predict_proba(X), proba)  # pickling left it intact
    assert restored.history_ == first.history_


def test_build_keras_model_has_the_initial_weights_of_fit():
    X, Y = _data()
    model = _small(CNN1DClassifier, epochs=1, learning_rate=1e-12)
    built = model.build_keras_model(X.shape[1], Y.shape[1])
    fitted = model.fit(X, Y).network_
    *hidden_before, output_bias_before = _weights(built)
    *hidden_after, output_bias_after = _weights(fitted)
    for before, after in zip(hidden_before, hidden_after):
        np.testing.assert_allclose(before, after, atol=1e-6)
    # fit starts the output bias at the logit of each target's prevalence.
    np.testing.assert_array_equal(output_bias_before, 0.0)
    prevalence = Y.mean(axis=0)
    np.testing.assert_allclose(output_bias_after, np.log(prevalence / (1 - prevalence)), atol=1e-5)


@pytest.mark.parametrize("model_class", [CNN1DClassifier, TwoHeadNNClassifier])
def test_output_bias_zeros_starts_where_keras_does(model_class):
    # The blog post's code: Keras' zero output biases (learning rate 1e-12: they stay there).
    X, Y = _data(n_features=12)
    heads = dict(head1_columns=4) if model_class is TwoHeadNNClassifier else {}
    model = _small(model_class, epochs=1, learning_rate=1e-12, output_bias="zeros", **heads)
    fitted = model.fit(X, Y).network_
    np.testing.assert_allclose(_weights(fitted)[-1], 0.0, atol=1e-6)


def test_output_bias_is_validated():
    X, Y = _data()
    with pytest.raises(ValueError, match="output_bias"):
        _small(CNN1DClassifier, output_bias="prior").fit(X, Y)


def test_two_head_routes_columns_by_name_prefix_or_count():
    X, Y = _data(n_features=6)
    names = ["g-0", "gene_pca__0", "c-0", "cell_pca__0", "stats__g_sum", "other"]
    frame = pd.DataFrame(X, columns=names)
    model = _small(TwoHeadNNClassifier, epochs=1).fit(frame, Y)  # "auto": the preset's prefix
    np.testing.assert_array_equal(model.head_columns_[0], [1, 3])
    np.testing.assert_array_equal(model.head_columns_[1], [0, 2, 4, 5])
    assert model.network_.input_shape == [(None, 2), (None, 4)]

    by_prefix = _small(TwoHeadNNClassifier, epochs=1, head1_columns=("c-", "other")).fit(frame, Y)
    np.testing.assert_array_equal(by_prefix.head_columns_[0], [2, 5])
    # By count (plain arrays): the other tests fit with head1_columns=3.


@pytest.mark.parametrize(
    "params, X_kind, match",
    [
        (dict(head1_columns="auto"), "array", "first 60 columns"),
        (dict(head1_columns=12), "array", "each head needs"),
        (dict(head1_columns="gene_pca__"), "array", "no feature names"),
        (dict(head1_columns="nope"), "frame", "no column of X to head 1"),
        (dict(head1_columns="f"), "frame", "every column of X to head 1"),
        (dict(head1_units=(8, 5)), "array", "must be equal"),
        (dict(body_units=()), "array", "non-empty tuple"),
        (dict(head1_dropout=1.5), "array", "head1_dropout"),
        (dict(epochs=0), "array", "epochs"),
    ],
)
def test_two_head_bad_parameters_are_named(params, X_kind, match):
    X, Y = _data()
    if X_kind == "frame":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = _small(TwoHeadNNClassifier, **{"head1_columns": 3, **params})
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(filters=(4, 4, 4, 4, 4, 4), kernel_size=3), "need at least 13 features"),
        (dict(dense_units=(8, -1)), "positive layer widths"),
        (dict(learning_rate=0), "learning_rate"),
        (dict(early_stopping=True, validation_fraction=1.0), "validation_fraction"),
    ],
)
def test_cnn1d_bad_parameters_are_named(params, match):
    X, Y = _data()
    with pytest.raises(ValueError, match=match):
        _small(CNN1DClassifier, **params).fit(X, Y)


def test_early_stopping_validation_history_and_callbacks():
    import keras

    class CountEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.seen_epochs = epoch + 1

    X, Y = _data()
    callback = CountEpochs()
    model = _small(
        CNN1DClassifier, epochs=30, learning_rate=0.3, early_stopping=True, patience=1,
        validation_fraction=0.25, batch_size=16, callbacks=[callback],
    ).fit(X, Y)
    assert set(model.history_) == {"loss", "val_loss"}
    assert 1 < model.n_iter_ < 30, "a learning rate this high overfits at once: early stopping must stop"
    assert model.network_.seen_epochs == model.n_iter_
    assert model.callbacks == [callback], "the parameter is left as given"
    assert not model.network_.run_eagerly, "hundreds of gradient steps: traced"


def test_moa_targets_with_drug_aware_cv_and_control_rule():
    data = make_moa(600, random_state=0)
    gc = list(GENE_COLUMNS) + list(CELL_COLUMNS)
    model = ControlAwareClassifier(
        make_pipeline(
            make_column_transformer((StandardScaler(), gc)),
            _small(CNN1DClassifier, epochs=60, learning_rate=0.1, filters=(2,), batch_size=512),
        )
    )
    result = cross_validate_moa(
        model, data.features, data.targets, groups=data.drugs, cv=3, return_estimators=True
    )
    assert result.oof_predictions.shape == (600, 206)
    assert np.all(np.isfinite(result.oof_predictions))
    # Drug-aware folds leave targets that do have positives without one in a
    # training fold: the network is fitted on the others, they get a constant.
    has_positives = data.targets.to_numpy().sum(axis=0) > 0
    constant = [fold.estimator_[-1].constant_targets_ for fold in result.estimators]
    assert any((c & has_positives).any() for c in constant)
    assert all(fold.estimator_[-1].network_.output_shape[1] == (~c).sum() for fold, c in zip(result.estimators, constant))
    prior = cross_validate_moa(
        ControlAwareClassifier(make_pipeline(make_column_transformer(("passthrough", gc)), PriorClassifier())),
        data.features, data.targets, groups=data.drugs, cv=3,
    )
    # An untrained network scores ~0.69, one epoch ~0.16: it has learnt how rare
    # the targets are (a tiny network on 600 rows does not beat the prior).
    assert 0 < result.oof_log_loss < 1.5 * prior.oof_log_loss


def test_pipeline_grid_search_and_cross_val_score_with_the_moa_scorer():
    X, Y = _data(n=90)
    pipe = make_pipeline(StandardScaler(), _small(CNN1DClassifier, epochs=1))
    search = GridSearchCV(
        pipe,
        {"cnn1dclassifier__dense_units": [(8,), (4, 4)]},
        cv=KFold(2),
        scoring=moa_log_loss_scorer,
    ).fit(X, Y)
    assert search.best_estimator_.predict_proba(X).shape == Y.shape
    assert_search_compared(search)
    two_head = make_pipeline(StandardScaler(), _small(TwoHeadNNClassifier, head1_columns=3, epochs=1))
    assert moa_cv_scores(two_head, X, Y, cv=KFold(2)).shape == (2,)


_TORCH_SCRIPT = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np
    import keras
    assert keras.backend.backend() == "torch"
    from sklearn_moa.models import CNN1DClassifier, TwoHeadNNClassifier
    rng = np.random.RandomState(0)
    X = rng.randn(80, 10)
    Y = (X[:, :3] + 0.5 * rng.randn(80, 3) > 0.8).astype(int)
    for model in (
        TwoHeadNNClassifier(head1_columns=3, head1_units=(8, 4), body_units=(8, 4), tail_units=(4,),
                            epochs=2, batch_size=32, random_state=0),
        CNN1DClassifier(filters=(4, 2), dense_units=(8,), epochs=2, batch_size=32, random_state=0),
    ):
        proba = model.fit(X, Y).predict_proba(X)
        again = model.fit(X, Y).predict_proba(X)
        np.testing.assert_array_equal(proba, again)
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(restored.predict_proba(X), proba)
        assert proba.shape == (80, 3) and np.all((proba > 0) & (proba < 1))
    # device= on the torch backend, which has no keras.distribution.list_devices
    import torch
    pinned = CNN1DClassifier(filters=(4, 2), dense_units=(8,), epochs=1, batch_size=32, random_state=0,
                             device="cpu").fit(X, Y)
    assert pinned.predict_proba(X).shape == (80, 3)
    if not torch.cuda.is_available():
        try:
            pinned.set_params(device="cuda").fit(X, Y)
        except ValueError as error:
            assert "torch backend sees no GPU" in str(error), error
        else:
            raise AssertionError("device='cuda' without a GPU fitted")
    print("tensorflow imported:", "tensorflow" in sys.modules)
    """
)


def test_torch_backend_reproducible_and_picklable():
    pytest.importorskip("torch")
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _TORCH_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tensorflow imported: False" in done.stdout


def _poison_weights_from(epoch_index):
    """A Keras callback that sets every weight to NaN when epoch ``epoch_index`` (0-based) begins."""
    import keras

    class PoisonWeights(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == epoch_index:
                self.model.set_weights([np.full(w.shape, np.nan, dtype=w.dtype) for w in self.model.get_weights()])

    return PoisonWeights()


def test_diverging_fit_raises_naming_the_epoch():
    from sklearn_moa.models import NonFiniteLossError

    X, Y = _data()
    model = _small(CNN1DClassifier, epochs=4, callbacks=[_poison_weights_from(2)])
    with pytest.raises(NonFiniteLossError, match="CNN1DClassifier: the training loss became nan at epoch 3"):
        model.fit(X, Y)


def test_diverging_fit_with_early_stopping_restores_the_best_epoch():
    X, Y = _data()
    model = _small(TwoHeadNNClassifier, head1_columns=3, epochs=4, early_stopping=True, patience=10,
                   validation_fraction=0.25, callbacks=[_poison_weights_from(2)])
    with pytest.warns(RuntimeWarning, match=r"at epoch 3 of training; .* best epoch \([12]\) were restored"):
        model.fit(X, Y)
    assert model.n_iter_ == 3
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all() and ((proba > 0) & (proba < 1)).all()
