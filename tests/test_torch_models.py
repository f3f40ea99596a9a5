"""The skorch-based torch models: DeepCNNClassifier and ResidualNNClassifier."""

import pickle
from functools import partial
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn_moa.datasets import make_moa  # noqa: E402
from sklearn_moa.metrics import moa_log_loss_scorer  # noqa: E402
from sklearn_moa.model_selection import cross_validate_moa  # noqa: E402
from sklearn_moa.models import ControlAwareClassifier, DeepCNNClassifier, ResidualNNClassifier  # noqa: E402
from sklearn_moa.models._torch_modules import (  # noqa: E402
    BatchIterator,
    SmoothBCEWithLogitsLoss,
    WeightNormConv1d,
    WeightNormLinear,
    count_batches,
)
from sklearn_moa.models._torch_utils import local_torch_seed, torch_thread_budget  # noqa: E402

from .conftest import assert_search_compared, moa_cv_scores, toy_multilabel  # noqa: E402

TINY = {
    DeepCNNClassifier: dict(hidden_size=32, n_channels=4, conv_channels=4),
    ResidualNNClassifier: dict(hidden_layer_sizes=(16, 16)),
}
MODELS = list(TINY)


def _tiny(cls, **params):
    return cls(**{**TINY[cls], "epochs": 2, "batch_size": 32, "random_state": 0, **params})


_toy = partial(toy_multilabel, threshold=1.0)


@pytest.fixture(scope="module")
def moa():
    return make_moa(600, random_state=0)


def _numeric_features():
    """Scaled g-/c- columns: a small stand-in for a feature preset."""
    return make_column_transformer((StandardScaler(), make_column_selector(pattern=r"^[gc]-")))


@pytest.mark.parametrize("cls", MODELS)
def test_fit_predict_shapes_and_bounds(cls):
    X, Y = _toy()
    Y[:, 1] = 0  # no positive: predicted as a constant, not given to the network
    model = _tiny(cls).fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1))
    np.testing.assert_array_equal(model.classes_, np.arange(4))
    assert model.predict(X).shape == Y.shape
    assert model.network_.output.out_features == 3
    assert not model.network_.training
    assert len(model.history_["loss"]) == model.n_iter_ == 2


@pytest.mark.parametrize("cls", MODELS)
def test_same_seed_same_result_and_global_rng_untouched(cls):
    X, Y = _toy()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = _tiny(cls).fit(X, Y).predict_proba(X)
    assert torch.equal(torch.rand(3), expected_next), "fit changed torch's global RNG"
    second = clone(_tiny(cls)).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = _tiny(cls, random_state=1).fit(X, Y).predict_proba(X)
    assert np.abs(first - other).max() > 1e-6


@pytest.mark.parametrize("cls", MODELS)
def test_pickle_round_trip_predicts_the_same(cls):
    X, Y = _toy()
    model = _tiny(cls).fit(X, Y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.get_params() == model.get_params()


def test_parameters_are_not_changed_by_fit():
    X, Y = _toy()
    model = _tiny(ResidualNNClassifier, early_stopping=True)
    before = model.get_params()
    model.fit(X, Y)
    assert model.get_params() == before


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(hidden_layer_sizes=()), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes"),
        (dict(epochs=0), "epochs"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(lr_schedule="cosine"), "lr_schedule"),
        (dict(dropout=1.5), "dropout"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, Y = _toy()
    with pytest.raises(ValueError, match=match):
        _tiny(ResidualNNClassifier, **params).fit(X, Y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(hidden_size=30, n_channels=4), "multiple of n_channels"),
        (dict(hidden_size=8, n_channels=4), "at least 4 positions"),
        (dict(dropout=(0.1, 0.2)), "6 rates"),
    ],
)
def test_bad_cnn_architecture_is_named(params, match):
    X, Y = _toy()
    with pytest.raises(ValueError, match=match):
        _tiny(DeepCNNClassifier, **params).fit(X, Y)


@pytest.mark.parametrize("cls", MODELS)
def test_bad_data_gets_a_clear_error(cls):
    X, Y = _toy()
    with pytest.raises(ValueError, match="binary"):
        _tiny(cls).fit(X, Y * 2)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _tiny(cls).fit(X_nan, Y)
    with pytest.raises(ValueError, match="at least 2 training samples after holding out"):
        _tiny(cls, early_stopping=True, validation_fraction=0.5).fit(X[:2], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="Y_nonscored.*rows"):
        _tiny(cls).fit(X, Y, Y_nonscored=Y[:10])


def test_single_row_last_batch_is_merged():
    # 33 rows in batches of 32 would leave a 1-row batch, which batch
    # normalisation cannot train on.
    assert count_batches(33, 32) == 1 and count_batches(34, 32) == 2 and count_batches(5, 32) == 1
    data = torch.utils.data.TensorDataset(torch.arange(33.0).reshape(-1, 1))
    batches = [b[0] for b in BatchIterator(data, 32, shuffle=True)]
    assert [len(b) for b in batches] == [33]
    assert sorted(torch.cat(batches).ravel().tolist()) == list(range(33))
    X, Y = _toy(n=33)
    assert np.isfinite(_tiny(ResidualNNClassifier).fit(X, Y).predict_proba(X)).all()


def test_early_stopping_holds_out_rows_and_stops():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 12)
    Y = (rng.rand(200, 3) < 0.3).astype(int)  # noise: the validation loss soon rises
    model = _tiny(
        ResidualNNClassifier, hidden_layer_sizes=(64, 64), epochs=60, patience=2, early_stopping=True,
        lr_schedule=None, learning_rate=1e-2,
    ).fit(X, Y)
    assert set(model.history_) == {"loss", "val_loss", "seconds"}
    assert len(model.history_["val_loss"]) == model.n_iter_ < 60


def test_smoothed_loss_only_smooths_in_training():
    loss = SmoothBCEWithLogitsLoss(smoothing=0.2)
    logits = torch.tensor([[3.0, -3.0]])
    targets = torch.tensor([[1.0, 0.0]])
    smoothed = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[0.9, 0.1]]))
    plain = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    assert torch.isclose(loss.train()(logits, targets), smoothed)
    assert torch.isclose(loss.eval()(logits, targets), plain)


def test_weight_norm_layers_match_torch_weight_norm():
    torch.manual_seed(0)
    linear = WeightNormLinear(5, 3)
    reference = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(5, 3))
    with torch.no_grad():
        reference.parametrizations.weight.original0.copy_(linear.weight_g)
        reference.parametrizations.weight.original1.copy_(linear.weight_v)
        reference.bias.copy_(linear.bias)
    x = torch.randn(4, 5)
    assert torch.allclose(linear(x), reference(x), atol=1e-6)
    conv = WeightNormConv1d(2, 3, 5)
    plain = torch.nn.Conv1d(2, 3, 5, padding=2)
    with torch.no_grad():
        plain.weight.copy_(conv.weight_v * conv.weight_g / conv.weight_v.norm())
        plain.bias.copy_(conv.bias)
    x = torch.randn(4, 2, 7)
    assert torch.allclose(conv(x), plain(x), atol=1e-6)
    # Scaling the direction leaves the layer unchanged: only g sets the norm.
    with torch.no_grad():
        before = conv(x)
        conv.weight_v.mul_(3.0)
        assert torch.allclose(conv(x), before, atol=1e-5)


def test_thread_budget_and_local_seed_restore_torch_state():
    threads = torch.get_num_threads()
    with torch_thread_budget(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == threads
    state = torch.random.get_rng_state()
    with local_torch_seed(5):
        first = torch.rand(2)
    with local_torch_seed(5):
        assert torch.equal(torch.rand(2), first)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_missing_skorch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skorch", None)
    X, Y = _toy()
    with pytest.raises(ImportError, match=r"sklearn-moa\[torch\]"):
        _tiny(ResidualNNClassifier).fit(X, Y)


# --- non-scored pretraining -------------------------------------------------


def test_pretraining_uses_informative_nonscored_targets_then_fine_tunes():
    X, Y = _toy()
    rng = np.random.RandomState(1)
    Y_ns = (rng.rand(len(X), 6) < 0.2).astype(int)
    Y_ns[:, 2] = 0  # no positive: left out of pretraining
    Y_ns[:, 4] = 1  # no negative: left out too
    Y_ns[:3, 5] = 1
    Y_ns[3:, 5] = 0  # 3 positives: kept only while pretrain_min_positives <= 3
    model = _tiny(ResidualNNClassifier, pretrain_epochs=3).fit(X, Y, Y_nonscored=Y_ns)
    np.testing.assert_array_equal(model.pretrain_targets_, [0, 1, 3, 5])
    assert len(model.pretrain_history_["loss"]) == 3 and model.n_iter_ == len(model.history_["loss"]) == 2
    assert model.network_.output.out_features == Y.shape[1]
    plain = _tiny(ResidualNNClassifier).fit(X, Y)
    assert np.abs(model.predict_proba(X) - plain.predict_proba(X)).max() > 1e-4
    strict = _tiny(ResidualNNClassifier, pretrain_min_positives=4).fit(X, Y, Y_nonscored=Y_ns)
    np.testing.assert_array_equal(strict.pretrain_targets_, [0, 1, 3])
    # pretrain_epochs=0 switches it off: same model as without Y_nonscored.
    off = _tiny(ResidualNNClassifier, pretrain_epochs=0).fit(X, Y, Y_nonscored=Y_ns)
    assert off.pretrain_history_ is None
    np.testing.assert_array_equal(off.predict_proba(X), plain.predict_proba(X))


def test_uninformative_nonscored_targets_warn_and_skip_pretraining():
    X, Y = _toy()
    with pytest.warns(UserWarning, match="without pretraining"):
        model = _tiny(DeepCNNClassifier).fit(X, Y, Y_nonscored=np.zeros((len(X), 3)))
    assert model.pretrain_history_ is None


def test_nonscored_targets_reach_the_model_through_pipeline_controls_and_cv(moa):
    """``<step>__Y_nonscored`` is routed by Pipeline, subset by the control rule and the CV helper."""
    step = "residualnnclassifier"
    model = ControlAwareClassifier(make_pipeline(
        _numeric_features(), _tiny(ResidualNNClassifier, pretrain_epochs=1)
    ))
    model.fit(moa.features, moa.targets, **{f"{step}__Y_nonscored": moa.nonscored_targets})
    inner = model.estimator_[-1]
    n_treated = int((moa.features.cp_type == "trt_cp").sum())
    assert inner.pretrain_history_ is not None
    treated = (moa.features.cp_type == "trt_cp").to_numpy()
    np.testing.assert_allclose(inner.target_prior_, moa.targets[treated].to_numpy().mean(axis=0))
    treated_ns = moa.nonscored_targets[(moa.features.cp_type == "trt_cp").to_numpy()].to_numpy()
    expected = np.flatnonzero((treated_ns.sum(axis=0) >= 1) & (treated_ns.sum(axis=0) < n_treated))
    np.testing.assert_array_equal(inner.pretrain_targets_, expected)

    result = cross_validate_moa(
        model, moa.features, moa.targets, groups=moa.drugs, cv=2,
        fit_params={f"{step}__Y_nonscored": moa.nonscored_targets}, return_estimators=True,
    )
    assert np.isfinite(result.oof_log_loss)
    assert all(fold.estimator_[-1].pretrain_history_ is not None for fold in result.estimators)


def test_metadata_routing_request():
    from sklearn import config_context

    X, Y = _toy()
    Y_ns = (np.random.RandomState(0).rand(len(X), 5) < 0.2).astype(int)
    with config_context(enable_metadata_routing=True):
        model = _tiny(ResidualNNClassifier).set_fit_request(Y_nonscored=True)
        pipe = make_pipeline(StandardScaler(), model).fit(X, Y, Y_nonscored=Y_ns)
    assert pipe[-1].pretrain_history_ is not None


# --- the MoA case ------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS)
def test_moa_targets_with_drug_aware_cv(moa, cls):
    """206 targets, drug-aware folds: some targets have no positive in a training fold."""
    model = ControlAwareClassifier(make_pipeline(_numeric_features(), _tiny(cls)))
    result = cross_validate_moa(
        model, moa.features, moa.targets, groups=moa.drugs, cv=3, return_estimators=True
    )
    assert result.oof_predictions.shape == (600, 206)
    assert np.all((result.oof_predictions > 0) & (result.oof_predictions < 1))
    constant = [fold.estimator_[-1].constant_targets_ for fold in result.estimators]
    assert any(c.any() for c in constant), "expected a target without positives in a training fold"
    for fold in result.estimators:
        inner = fold.estimator_[-1]
        assert inner.network_.output.out_features == int((~inner.constant_targets_).sum())
    assert np.all(np.isfinite(result.fold_log_loss)) and result.oof_log_loss < 0.1


def test_pipeline_grid_search_and_cross_val_score(moa):
    treated = (moa.features.cp_type == "trt_cp").to_numpy()
    X = moa.features[treated].filter(regex=r"^[gc]-").to_numpy()
    Y = moa.targets[treated]
    pipe = make_pipeline(StandardScaler(), _tiny(ResidualNNClassifier))
    assert moa_cv_scores(pipe, X, Y, cv=KFold(2)).shape == (2,)
    search = GridSearchCV(
        pipe, {"residualnnclassifier__dropout": [0.1, 0.5]}, cv=KFold(2), scoring=moa_log_loss_scorer
    ).fit(X, Y)
    assert_search_compared(search)
    assert search.predict_proba(X).shape == Y.shape


def test_dataframe_targets_keep_their_names():
    X, Y = _toy()
    frame = pd.DataFrame(Y, columns=[f"moa_{i}" for i in range(Y.shape[1])])
    model = _tiny(DeepCNNClassifier).fit(X, frame)
    assert list(model.target_names_) == list(frame.columns)


def test_model_zoo_entries_build():
    pytest.importorskip("sklearn_moa.preprocessing")
    from sklearn_moa.model_zoo import build_model

    for name, cls in [("residual_nn", ResidualNNClassifier), ("deep_cnn", DeepCNNClassifier)]:
        quick, full = build_model(name), build_model(name, full=True)
        assert isinstance(quick.estimator[-1], cls) and isinstance(full.estimator[-1], cls)
        assert full.estimator[-1].epochs == 25


def test_default_cnn_has_the_2nd_place_shapes():
    from sklearn_moa.models._torch_modules import DeepCNN

    net = DeepCNN(988, 206)  # DeepCNNClassifier's defaults
    assert (net.n_channels, net.length) == (256, 16)
    assert net.output.in_features == 512 * 4  # 512 channels after max pooling 8 -> 4
    assert net(torch.randn(3, 988)).shape == (3, 206)


def test_residual_shortcuts_change_the_network():
    from sklearn_moa.models._torch_modules import DenseNet

    torch.manual_seed(0)
    plain = DenseNet(6, 2, hidden_layer_sizes=(8, 8, 4)).eval()
    torch.manual_seed(0)
    residual = DenseNet(6, 2, hidden_layer_sizes=(8, 8, 4), residual=True).eval()
    x = torch.randn(5, 6)
    first = plain.blocks[0](x)
    # Only the 8 -> 8 block has a shortcut: its output is block(h) + h.
    expected = plain.output(plain.output_norm(plain.blocks[2](plain.blocks[1](first) + first)))
    assert torch.allclose(residual(x), expected, atol=1e-6)
    assert not torch.allclose(plain(x), residual(x))
