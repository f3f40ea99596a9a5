"""TabMClassifier: TabM (the ``tabm`` package) on the torch models' base."""

import math
import pickle
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
pytest.importorskip("tabm")

import torch.nn.functional as F  # noqa: E402

from sklearn_moa.datasets import make_moa  # noqa: E402
from sklearn_moa.metrics import moa_log_loss_scorer  # noqa: E402
from sklearn_moa.model_selection import cross_validate_moa  # noqa: E402
from sklearn_moa.models import ControlAwareClassifier, TabMClassifier  # noqa: E402
from sklearn_moa.models._tabm_network import quantile_bins  # noqa: E402
from sklearn_moa.models._torch_modules import SmoothBCEWithLogitsLoss, ensemble_log_loss  # noqa: E402


def _tiny(**params):
    return TabMClassifier(**{
        "k": 4, "d_block": 16, "epochs": 2, "batch_size": 32, "early_stopping": False,
        "random_state": 0, **params,
    })


def _toy(n=120, n_features=12, n_targets=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    Y = (X[:, :n_targets] + 0.5 * rng.randn(n, n_targets) > 1.0).astype(int)
    return X, Y


EMBEDDINGS = [None, "piecewise_linear", "periodic"]


@pytest.mark.parametrize("num_embeddings", EMBEDDINGS)
def test_fit_predict_shapes_members_and_bounds(num_embeddings):
    X, Y = _toy()
    Y[:, 1] = 0  # no positive: predicted as a constant, not given to the network
    model = _tiny(num_embeddings=num_embeddings).fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1))
    assert model.predict(X).shape == Y.shape
    net = model.network_
    assert not net.training and net.k == 4
    assert len(net.backbone.blocks) == (3 if num_embeddings is None else 2)  # the package's default depth
    # One linear head per member: (batch, k, targets) logits.
    with torch.inference_mode():
        logits = net(torch.as_tensor(X[:5], dtype=torch.float32))
    assert logits.shape == (5, 4, 3)
    # predict_proba is the mean of the members' probabilities, not the sigmoid of the mean logit.
    members = torch.sigmoid(logits.double()).numpy()
    np.testing.assert_allclose(proba[:5, [0, 2, 3]], members.mean(axis=1), rtol=1e-6)
    assert np.abs(members.std(axis=1)).max() > 1e-4, "the members should differ"
    assert model.n_iter_ == 2 and len(model.history_["loss"]) == 2


def test_loss_trains_each_member_and_validates_the_ensemble():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, 5)
    targets = (torch.rand(6, 5) < 0.3).float()
    loss = SmoothBCEWithLogitsLoss(smoothing=0.1)
    # Training: the mean of the members' own (smoothed) losses.
    smoothed = targets * 0.9 + 0.05
    per_member = [F.binary_cross_entropy_with_logits(logits[:, j], smoothed) for j in range(3)]
    assert torch.allclose(loss.train()(logits, targets), torch.stack(per_member).mean())
    # Eval: the unsmoothed log loss of the members' mean probability.
    p = torch.sigmoid(logits.double()).mean(dim=1)
    expected = -(targets * p.log() + (1 - targets) * (1 - p).log()).mean()
    assert torch.allclose(loss.eval()(logits, targets).double(), expected, atol=1e-6)
    assert torch.allclose(ensemble_log_loss(logits, targets).double(), expected, atol=1e-6)
    # Extreme logits: still finite (log-sum-exp of log-sigmoids, no log(0)).
    assert torch.isfinite(ensemble_log_loss(torch.full((2, 3, 1), 200.0), torch.zeros(2, 1)))
    # 2-D logits keep the plain loss.
    flat = logits[:, 0]
    assert torch.allclose(loss.eval()(flat, targets), F.binary_cross_entropy_with_logits(flat, targets))


def test_paper_training_recipe():
    model = TabMClassifier()
    assert (model.k, model.d_block, model.dropout, model.learning_rate, model.weight_decay) == (
        32, 512, 0.1, 2e-3, 3e-4
    )
    assert model._optimizer == "AdamW" and model._max_grad_norm == 1.0
    names = [name for name, _ in model._callbacks(epochs=3, n_train=100, learning_rate=2e-3, has_valid=True)]
    assert names == ["gradient_clipping", "early_stopping"]


def test_early_stopping_monitors_the_ensemble_and_stops():
    X, Y = _toy(n=200)
    model = _tiny(early_stopping=True, patience=2, epochs=30, learning_rate=0.05).fit(X, Y)
    valid = model.history_["val_loss"]
    assert len(valid) < 30
    assert np.isfinite(valid).all()


@pytest.mark.parametrize("num_embeddings", EMBEDDINGS)
def test_same_seed_same_result_and_global_rng_untouched(num_embeddings):
    X, Y = _toy()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = _tiny(num_embeddings=num_embeddings).fit(X, Y).predict_proba(X)
    assert torch.equal(torch.rand(3), expected_next), "fit changed torch's global RNG"
    second = clone(_tiny(num_embeddings=num_embeddings)).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = _tiny(num_embeddings=num_embeddings, random_state=1).fit(X, Y).predict_proba(X)
    assert np.abs(first - other).max() > 1e-6


@pytest.mark.parametrize("num_embeddings", EMBEDDINGS)
def test_pickle_round_trip_predicts_the_same(num_embeddings):
    X, Y = _toy()
    model = _tiny(num_embeddings=num_embeddings, early_stopping=True).fit(X, Y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.get_params() == model.get_params()


def test_piecewise_linear_bins_come_from_the_training_rows():
    X, Y = _toy(n=100)
    X[:, 5] = 3.0  # a constant feature: compute_bins would reject it
    X[:, 6] = (X[:, 6] > 0).astype(float)  # a binary feature: one bin, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _tiny(num_embeddings="piecewise_linear", n_bins=8, early_stopping=True,
                      validation_fraction=0.2).fit(X, Y)
    train, _ = model._validation_split(len(X), int(np.random.RandomState(0).randint(2**31 - 1)))

    def encoding(rows):
        from rtdl_num_embeddings import _PiecewiseLinearEncodingImpl

        return _PiecewiseLinearEncodingImpl(quantile_bins(torch.as_tensor(X[rows], dtype=torch.float32), 8))

    fitted = model.network_.num_module.impl
    assert torch.equal(fitted.weight, encoding(train).weight) and torch.equal(fitted.bias, encoding(train).bias)
    assert not torch.equal(fitted.bias, encoding(np.arange(len(X))).bias)
    assert fitted.get_max_n_bins() == 8
    assert np.isfinite(model.predict_proba(X)).all()


def test_quantile_bins_handle_constant_columns_and_few_rows():
    X = torch.tensor([[0.0, 5.0, 1.0], [1.0, 5.0, 0.0], [2.0, 5.0, 1.0]])
    bins = quantile_bins(X, 48)  # 48 bins on 3 rows: 2 bins
    assert [len(b) for b in bins] == [3, 2, 2]
    assert torch.equal(bins[1], torch.tensor([4.0, 6.0]))
    assert all(bool((b[1:] > b[:-1]).all()) for b in bins)
    assert [len(b) for b in quantile_bins(X[:2], 48)] == [2, 2, 2]


def test_pretraining_swaps_the_members_heads():
    X, Y = _toy()
    rng = np.random.RandomState(1)
    Y_ns = (rng.rand(len(X), 6) < 0.2).astype(int)
    model = _tiny(pretrain_epochs=3).fit(X, Y, Y_nonscored=Y_ns)
    assert len(model.pretrain_history_["loss"]) == 3 and model.n_iter_ == 2
    assert model.network_.output.out_features == Y.shape[1]
    assert model.network_.output.bias.shape == (4, Y.shape[1])
    plain = _tiny().fit(X, Y)
    assert np.abs(model.predict_proba(X) - plain.predict_proba(X)).max() > 1e-4


def test_output_biases_start_at_the_prevalence():
    X, Y = _toy()
    model = _tiny(epochs=1, learning_rate=1e-9).fit(X, Y)
    prevalence = Y.mean(axis=0)
    bias = model.network_.output.bias.detach().numpy()
    np.testing.assert_allclose(bias, np.tile(np.log(prevalence / (1 - prevalence)), (4, 1)), atol=1e-4)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(k=0), "'k'"),
        (dict(arch_type="resnet"), "arch_type"),
        (dict(num_embeddings="linear"), "num_embeddings"),
        (dict(n_blocks=0), "n_blocks"),
        (dict(dropout=1.0), "dropout"),
        (dict(lr_schedule="cosine"), "lr_schedule"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, Y = _toy()
    with pytest.raises(ValueError, match=match):
        _tiny(**params).fit(X, Y)


def test_bad_data_gets_a_clear_error():
    X, Y = _toy()
    with pytest.raises(ValueError, match="binary"):
        _tiny().fit(X, Y * 2)
    with pytest.raises(ValueError, match="at least 2 training samples after holding out"):
        _tiny(early_stopping=True, validation_fraction=0.5).fit(X[:2], [[0, 1], [1, 0]])


@pytest.mark.parametrize("module", ["tabm", "rtdl_num_embeddings"])
def test_missing_package_names_the_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    X, Y = _toy()
    with pytest.raises(ImportError, match=rf"'{module}'.*sklearn-moa\[tabm\]"):
        _tiny().fit(X, Y)


@pytest.fixture(scope="module")
def moa():
    return make_moa(600, random_state=0)


def test_moa_targets_with_drug_aware_cv_and_grid_search(moa):
    """206 targets, drug-aware folds (a target without positives in a training fold), then GridSearchCV."""
    from sklearn.compose import make_column_selector, make_column_transformer

    features = make_column_transformer((StandardScaler(), make_column_selector(pattern=r"^[gc]-")))
    model = ControlAwareClassifier(make_pipeline(features, _tiny()))
    result = cross_validate_moa(model, moa.features, moa.targets, groups=moa.drugs, cv=3,
                                return_estimators=True)
    assert result.oof_predictions.shape == (600, 206)
    assert any(fold.estimator_[-1].constant_targets_.any() for fold in result.estimators)
    assert np.all(np.isfinite(result.fold_log_loss)) and result.oof_log_loss < 0.1

    treated = (moa.features.cp_type == "trt_cp").to_numpy()
    X = moa.features[treated].filter(regex=r"^[gc]-").to_numpy()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _tiny(epochs=1)), {"tabmclassifier__k": [2, 4]}, cv=KFold(2),
        scoring=moa_log_loss_scorer,
    ).fit(X, moa.targets[treated])
    assert search.best_params_["tabmclassifier__k"] in (2, 4)
    assert search.predict_proba(X).shape == (treated.sum(), 206)


def test_model_zoo_entry_builds():
    from sklearn_moa.model_zoo import build_model

    quick, full = build_model("tabm"), build_model("tabm", full=True)
    assert isinstance(quick.estimator[-1], TabMClassifier)
    # Issue 12: the paper's TabM (the estimator's defaults) lost to these
    # settings at full size, so the full entry keeps them.
    assert full.estimator[-1].get_params() == quick.estimator[-1].get_params()
    assert quick.estimator[-1].k < TabMClassifier().k and not quick.estimator[-1].early_stopping
    assert math.isclose(full.estimator[-1].label_smoothing, 0.001)
