"""Logistic regression, SVM and XGBoost estimators on real-shaped MoA labels."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_moa.datasets import make_moa
from sklearn_moa.metrics import mean_columnwise_log_loss, moa_log_loss_scorer
from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold, cross_validate_moa
from sklearn_moa.models import (
    ControlAwareClassifier,
    LogisticMoAClassifier,
    PriorClassifier,
    SVMMoAClassifier,
    XGBMoAClassifier,
)
from sklearn_moa.models._base import PROBA_EPS
from sklearn_moa.models._svm import platt_scaling

from .conftest import assert_search_compared, installed, moa_cv_scores, toy_multilabel

FAST = {
    "logistic": lambda **kw: LogisticMoAClassifier(C=0.05, max_iter=100, **kw),
    "svm": lambda **kw: SVMMoAClassifier(C=0.05, n_components=40, random_state=0, **kw),
    "xgboost": lambda **kw: XGBMoAClassifier(n_estimators=15, max_depth=2, random_state=0, **kw),
}
# Only the XGBoost tests need the optional xgboost package; logistic and SVM run without it.
needs_xgboost = pytest.mark.skipif(
    not installed("xgboost"), reason="xgboost (the 'xgboost' extra) is not installed"
)
MODELS = [pytest.param(name, marks=needs_xgboost if name == "xgboost" else ()) for name in sorted(FAST)]


def _toy(n=240, seed=0):
    """Features with signal in the first columns, and single-class targets 2 and 3."""
    X, Y = toy_multilabel(n, n_features=6, n_targets=2, threshold=0.9, seed=seed)
    return X, np.c_[Y, np.zeros(n, dtype=int), np.ones(n, dtype=int)]


@pytest.fixture(scope="module")
def moa():
    """Small MoA data: 206 real-shaped targets, drug ids, a few g-/c- columns."""
    data = make_moa(900, n_test_samples=0, random_state=0)
    columns = [f"g-{i}" for i in range(12)] + [f"c-{i}" for i in range(6)]
    cv = DrugMultilabelStratifiedKFold(3, random_state=0)
    prior = cross_validate_moa(_moa_model(PriorClassifier(), columns), data.features, data.targets,
                               groups=data.drugs, cv=cv)
    return data, columns, cv, prior.oof_log_loss


def _moa_model(model, columns):
    features = make_column_transformer((StandardScaler(), columns))
    return ControlAwareClassifier(make_pipeline(features, model))


@pytest.mark.parametrize("name", MODELS)
def test_shapes_bounds_and_single_class_targets(name):
    X, Y = _toy()
    model = FAST[name]().fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba >= PROBA_EPS) & (proba <= 1 - PROBA_EPS))
    np.testing.assert_array_equal(model.classes_, np.arange(4))
    np.testing.assert_array_equal(model.constant_targets_, [False, False, True, True])
    np.testing.assert_allclose(proba[:, 2], 0.5 / 241)
    # The models learn: positives rank above negatives on the informative targets.
    for j in (0, 1):
        assert proba[Y[:, j] == 1, j].mean() > 2 * proba[Y[:, j] == 0, j].mean()
    assert model.predict(X).shape == Y.shape


@pytest.mark.parametrize("name", MODELS)
def test_drug_aware_cv_with_targets_missing_from_training_folds(moa, name):
    data, columns, cv, prior_log_loss = moa
    Y = data.targets.to_numpy()
    folds = list(cv.split(data.features, Y, data.drugs))
    # The situation under test: a target with no positive in a training fold
    # that has positives in the matching validation fold.
    missing = [(Y[train].sum(0) == 0) & (Y[test].sum(0) > 0) for train, test in folds]
    assert sum(m.sum() for m in missing) > 0

    result = cross_validate_moa(_moa_model(FAST[name](), columns), data.features, data.targets,
                                groups=data.drugs, cv=cv)
    oof = result.oof_predictions
    treated = (data.features.cp_type == "trt_cp").to_numpy()
    assert np.isfinite(oof).all() and (oof > 0).all() and (oof < 1).all()
    assert np.isfinite(result.oof_log_loss)
    for (_, test), m in zip(folds, missing):
        rows = test[treated[test]]
        # Neither the 0.0 of OneVsRestClassifier nor a crash: a small, sane constant.
        assert (oof[np.ix_(rows, np.flatnonzero(m))] > 1e-4).all()
    # Beats the prior on these few noisy columns (measured: prior 0.0244,
    # logistic 0.0234, SVM 0.0237, XGBoost 0.0234).
    assert result.oof_log_loss < prior_log_loss


@pytest.mark.parametrize("name, grid", [
    ("logistic", {"logisticmoaclassifier__C": [0.01, 1.0]}),
    ("svm", {"svmmoaclassifier__kernel": ["linear", "rbf"]}),
    pytest.param("xgboost", {"xgbmoaclassifier__max_depth": [1, 2]}, marks=needs_xgboost),
])
def test_grid_search_and_cross_val_score_in_a_pipeline(name, grid):
    X, Y = _toy(160)
    pipeline = make_pipeline(StandardScaler(), FAST[name]())
    search = GridSearchCV(pipeline, grid, scoring=moa_log_loss_scorer, cv=2).fit(X, Y)
    assert_search_compared(search)
    scores = moa_cv_scores(pipeline, X, Y, cv=2)
    prior_scores = moa_cv_scores(PriorClassifier(), X, Y, cv=2)
    # The informative targets are learnt: every fold beats the prior.
    assert (scores > prior_scores).all() and search.best_score_ > prior_scores.mean()


@pytest.mark.parametrize("name", MODELS)
def test_clone_pickle_and_reproducibility(name):
    X, Y = _toy()
    model = FAST[name](n_jobs=2).fit(X, Y)
    proba = model.predict_proba(X)
    again = clone(model).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(proba, again)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    # One thread or two: the same result.
    np.testing.assert_allclose(clone(model).set_params(n_jobs=1).fit(X, Y).predict_proba(X), proba)


@needs_xgboost
def test_different_seeds_give_different_svm_and_xgboost_models():
    X, Y = _toy()
    for name in ("svm", "xgboost"):
        a = FAST[name]().set_params(random_state=1).fit(X, Y).predict_proba(X)
        b = FAST[name]().set_params(random_state=2).fit(X, Y).predict_proba(X)
        assert not np.allclose(a, b)


def test_logistic_regularisation_and_coefficients():
    X, Y = _toy()
    strong = LogisticMoAClassifier(C=1e-4).fit(X, Y)
    weak = LogisticMoAClassifier(C=10.0).fit(X, Y)
    assert np.abs(strong.coef_).sum() < np.abs(weak.coef_).sum()
    assert strong.coef_.shape == (4, 6) and not strong.coef_[2:].any()
    # coef_/intercept_ alone reproduce the probabilities.
    by_hand = expit(X @ weak.coef_[:2].T + weak.intercept_[:2])
    np.testing.assert_allclose(weak.predict_proba(X)[:, :2],
                               np.clip(by_hand, PROBA_EPS, 1 - PROBA_EPS), rtol=1e-6)


def test_platt_scaling_recovers_a_known_sigmoid():
    rng = np.random.RandomState(0)
    decision = rng.randn(20000)
    y = (rng.rand(20000) < expit(2.0 * decision - 1.0)).astype(int)
    a, b = platt_scaling(decision, y)
    assert a == pytest.approx(2.0, abs=0.1) and b == pytest.approx(-1.0, abs=0.1)


def test_svm_targets_with_fewer_positives_than_calibration_folds():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    Y = np.zeros((300, 3), dtype=int)
    Y[:2, 0] = 1  # two positives, three calibration folds
    Y[:1, 1] = 1  # a single positive: cannot be calibrated out of sample
    Y[:, 2] = X[:, 0] > 1
    model = SVMMoAClassifier(calibration_folds=3, n_components=30, random_state=0).fit(X, Y)
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    # Calibrated, not overconfident: rare targets stay near their prevalence.
    assert proba[:, 0].mean() < 0.05 and proba[:, 0].max() < 0.5
    np.testing.assert_allclose(proba[:, 1], 1.5 / 301)
    assert proba[Y[:, 2] == 1, 2].mean() > 0.5 > proba[Y[:, 2] == 0, 2].mean()


@pytest.mark.parametrize("model, match", [
    (SVMMoAClassifier(kernel="laplacian"), "kernel"),
    (SVMMoAClassifier(calibration_folds=1), "calibration_folds"),
    pytest.param(XGBMoAClassifier(validation_fraction=1.0), "validation_fraction", marks=needs_xgboost),
    pytest.param(XGBMoAClassifier(n_estimators=0), "n_estimators", marks=needs_xgboost),
    pytest.param(XGBMoAClassifier(early_stopping_rounds=0), "early_stopping_rounds", marks=needs_xgboost),
])
def test_bad_parameters_are_named(model, match):
    X, Y = _toy()
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y)


@needs_xgboost
def test_xgboost_on_an_all_zero_label_matrix_keeps_the_convention():
    X, _ = _toy()
    Y = np.zeros((len(X), 5), dtype=int)
    model = XGBMoAClassifier(n_estimators=5).fit(X, Y)
    proba = model.predict_proba(X[:7])
    assert proba.shape == (7, 5)
    np.testing.assert_array_equal(model.classes_, np.arange(5))
    assert model.boosters_ == [] and not model.n_estimators_.any()
    assert moa_log_loss_scorer(model, X, Y) > -0.01


@needs_xgboost
def test_xgboost_coarser_bins_train_and_change_the_model():
    # The booster must be told the QuantileDMatrix's max_bin, or XGBoost refuses to train.
    X, Y = _toy()
    coarse = XGBMoAClassifier(n_estimators=5, max_bin=16, random_state=0).fit(X, Y)
    fine = XGBMoAClassifier(n_estimators=5, random_state=0).fit(X, Y)
    assert coarse.predict_proba(X).shape == Y.shape
    assert not np.allclose(coarse.predict_proba(X), fine.predict_proba(X))


@needs_xgboost
def test_xgboost_early_stopping_per_target():
    rng = np.random.RandomState(0)
    X = rng.randn(600, 5)
    Y = np.c_[X[:, 0] + 0.3 * rng.randn(600) > 0, rng.rand(600) < 0.2, np.zeros(600)]
    Y[0, 2] = 1  # one positive: nothing to hold out, so all trees on all rows
    model = XGBMoAClassifier(n_estimators=200, learning_rate=0.3, early_stopping_rounds=5,
                             random_state=0).fit(X, Y)
    signal, noise, single = model.n_estimators_
    assert noise < signal and noise < 50
    assert single == 200
    # The recorded held-out curve is what early stopping saw: its minimum is
    # the last kept round, followed by exactly `early_stopping_rounds` rounds.
    for curve, n_trees in zip(model.validation_loss_[:2], model.n_estimators_[:2]):
        assert np.argmin(curve) == n_trees - 1 and len(curve) == n_trees + 5
    assert model.validation_loss_[2] is None
    never = XGBMoAClassifier(n_estimators=30, early_stopping_rounds=None, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(never.n_estimators_, 30)


@needs_xgboost
def test_scorer_matches_the_metric():
    X, Y = _toy()
    model = FAST["xgboost"]().fit(X, Y)
    assert moa_log_loss_scorer(model, X, Y) == pytest.approx(
        -mean_columnwise_log_loss(Y, model.predict_proba(X)))


@pytest.mark.parametrize("name, quicker", [
    ("logistic", {}),
    ("svm", {"svmmoaclassifier__n_components": 20}),
    pytest.param("xgboost", {"xgbmoaclassifier__n_estimators": 5}, marks=needs_xgboost),
])
def test_model_zoo_entries_fit_the_raw_kaggle_frame(name, quicker):
    from sklearn_moa.model_zoo import build_model

    data = make_moa(300, n_test_samples=0, random_state=1)
    model = build_model(name, random_state=0)
    model.estimator.set_params(**quicker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PCA components capped on 300 rows
        proba = model.fit(data.features, data.targets).predict_proba(data.features)
    assert proba.shape == data.targets.shape
    controls = (data.features.cp_type == "ctl_vehicle").to_numpy()
    assert (proba[controls] <= PROBA_EPS).all() and (proba[~controls] > 0).all()


@needs_xgboost
def test_xgboost_threads_change_speed_not_the_model():
    # Targets are handed to whichever worker is free, and every worker bins X
    # with the same cut points, so the fitted boosters cannot depend on n_jobs.
    rng = np.random.RandomState(0)
    X = rng.randn(400, 6)
    Y = (X[:, :5] + rng.randn(400, 5) > 1).astype(int)
    serial = XGBMoAClassifier(n_estimators=20, n_jobs=1, random_state=0).fit(X, Y)
    threaded = XGBMoAClassifier(n_estimators=20, n_jobs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(serial.n_estimators_, threaded.n_estimators_)
    np.testing.assert_array_equal(serial.predict_proba(X), threaded.predict_proba(X))
