"""The shared multi-label base and the control rule."""

import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_moa.models import (
    ControlAwareClassifier, LogisticMoAClassifier, PriorClassifier, ResidualNNClassifier,
)
from sklearn_moa.models._base import PROBA_EPS


from .conftest import toy_multilabel

_data = partial(toy_multilabel, n=60, n_features=3, n_targets=5, threshold=0.5)


def test_shapes_classes_and_bounds():
    X, Y = _data()
    Y[:, 1] = 0  # a target without positives
    Y[:, 2] = 1  # a target without negatives
    model = PriorClassifier().fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1))
    np.testing.assert_array_equal(model.classes_, np.arange(5))
    np.testing.assert_array_equal(model.constant_targets_, [False, True, True, False, False])
    # Smoothed constant, neither 0 nor 1.
    assert proba[0, 1] == pytest.approx(0.5 / 61)
    assert proba[0, 2] == pytest.approx(60.5 / 61)
    assert model.predict(X).shape == Y.shape


def test_target_names_from_dataframe():
    X, Y = _data()
    frame = pd.DataFrame(Y, columns=[f"moa_{i}" for i in range(5)])
    model = PriorClassifier().fit(X, frame)
    assert list(model.target_names_) == list(frame.columns)


@pytest.mark.parametrize(
    "X, Y, match",
    [
        (np.full((4, 2), np.nan), np.zeros((4, 2)), "NaN"),
        (np.zeros((4, 2)), np.zeros(4), "only one class"),
        (np.zeros((4, 2)), np.arange(4), "Only binary classification.*4 classes"),
        (np.zeros((4, 2)), np.linspace(0, 1, 4), "Unknown label type: continuous"),
        (np.zeros((4, 2)), np.zeros((3, 2)), "inconsistent|rows"),
        (np.zeros((4, 2)), np.full((4, 2), 3), "binary"),
        (np.zeros((4, 2)), np.full((4, 2), 0.3), "continuous"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "0 sample"),
        (pd.DataFrame({"cp_type": ["trt_cp"] * 4, "g-0": 0.0}), np.zeros((4, 2)), "not numeric"),
    ],
)
def test_bad_input_is_named(X, Y, match):
    with pytest.raises(ValueError, match=match):
        LogisticMoAClassifier().fit(X, Y)


def test_prior_takes_any_X_like_dummy_classifier():
    X, Y = _data()
    raw = pd.DataFrame({"cp_type": ["trt_cp"] * len(X), "g-0": np.nan})
    model = PriorClassifier().fit(raw, Y)
    np.testing.assert_allclose(model.predict_proba(raw), PriorClassifier().fit(X, Y).predict_proba(X))
    assert list(model.feature_names_in_) == ["cp_type", "g-0"]


@pytest.mark.parametrize("as_series", [False, True])
def test_one_d_y_is_binary_classification(as_series):
    X, Y = _data(n=80)
    labels = np.where(X[:, 0] + 0.3 * X[:, 1] > 0, "moa", "none")
    y = pd.Series(labels, name="nfkb_inhibitor") if as_series else labels
    model = LogisticMoAClassifier(C=10.0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, ["moa", "none"])
    proba = model.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = model.predict(X)
    assert predicted.shape == (80,) and set(predicted) <= {"moa", "none"}
    assert (predicted == labels).mean() > 0.9
    # The same as a one-column 0/1 matrix for the positive class classes_[1].
    column = (labels == "none").astype(int).reshape(-1, 1)
    np.testing.assert_allclose(proba[:, 1], LogisticMoAClassifier(C=10.0).fit(X, column).predict_proba(X)[:, 0])
    if as_series:
        assert list(model.target_names_) == ["nfkb_inhibitor"]


def test_one_d_y_through_the_control_rule():
    X, Y = _treatment_frame()
    y = pd.Series(Y[:, 0], name="moa")
    model = ControlAwareClassifier(_RecordingPrior()).fit(X, y)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba[:10], [[1 - PROBA_EPS, PROBA_EPS]] * 10)
    assert model.predict(X).shape == (len(X),)


def test_refit_forgets_the_previous_fit():
    X, Y = _data()
    model = LogisticMoAClassifier().fit(X, Y)
    model.stale_ = "from an earlier fit"
    model.fit(X, np.zeros_like(Y))  # every target constant: no model is trained
    assert not hasattr(model, "stale_")
    assert model.coef_.shape == (5, 3) and model.n_iter_ == 0


def test_unknown_fit_parameter_is_named():
    X, Y = _data()
    with pytest.raises(TypeError, match=r"unexpected fit parameters \['weights'\]; it takes none"):
        PriorClassifier().fit(X, Y, weights=np.ones(len(X)))


def test_drug_aware_validation_split_keeps_drugs_whole():
    model = ResidualNNClassifier(early_stopping=True, validation_fraction=0.2)
    groups = np.repeat(np.arange(20), 5)
    train, valid = model._validation_split(100, seed=0, groups=groups)
    assert set(groups[train]).isdisjoint(groups[valid])
    assert len(train) + len(valid) == 100 and len(valid) == 20
    with pytest.raises(ValueError, match="one drug id per row"):
        model._check_fit_params({"groups": groups[:10]}, 100)


def test_predict_checks_feature_count():
    X, Y = _data()
    model = PriorClassifier().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(X[:, :2])


def _treatment_frame(n=40, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({"cp_type": "trt_cp", "g-0": rng.randn(n), "g-1": rng.randn(n)})
    frame.loc[: n // 4 - 1, "cp_type"] = "ctl_vehicle"
    Y = (rng.rand(n, 3) < 0.4).astype(int)
    Y[: n // 4] = 0
    return frame, Y


class _RecordingPrior(PriorClassifier):
    def fit(self, X, Y, **fit_params):
        super().fit(X[["g-0", "g-1"]], Y)
        self.seen_rows_ = len(X)
        self.seen_params_ = fit_params
        return self

    def predict_proba(self, X):
        return super().predict_proba(X[["g-0", "g-1"]])


def test_control_rows_dropped_and_predicted_zero():
    X, Y = _treatment_frame()
    weights = np.arange(len(X))
    model = ControlAwareClassifier(_RecordingPrior()).fit(X, Y, row_info=weights)
    assert model.estimator_.seen_rows_ == 30
    np.testing.assert_array_equal(model.estimator_.seen_params_["row_info"], weights[10:])
    assert model.n_controls_dropped_ == 10
    proba = model.predict_proba(X)
    assert np.all(proba[:10] == PROBA_EPS)
    assert np.all(proba[10:] > 0.1)


def test_control_rule_errors():
    X, Y = _treatment_frame()
    bad = X.copy()
    bad.loc[0, "cp_type"] = "trt_typo"
    with pytest.raises(ValueError, match="Unknown cp_type values \\['trt_typo'\\]"):
        ControlAwareClassifier(_RecordingPrior()).fit(bad, Y)
    with pytest.raises(ValueError, match="no 'cp_type' column"):
        ControlAwareClassifier(_RecordingPrior()).fit(X.drop(columns="cp_type"), Y)
    with pytest.raises(ValueError, match="DataFrame"):
        ControlAwareClassifier(_RecordingPrior()).fit(X.to_numpy(), Y)
    only_controls = X.assign(cp_type="ctl_vehicle")
    with pytest.raises(ValueError, match="Every row"):
        ControlAwareClassifier(_RecordingPrior()).fit(only_controls, Y * 0)
    labelled_controls = Y.copy()
    labelled_controls[0] = 1
    with pytest.warns(UserWarning, match="control rows carry MoA labels"):
        ControlAwareClassifier(_RecordingPrior()).fit(X, labelled_controls)


def test_clone_and_pickle_round_trip():
    X, Y = _treatment_frame()
    model = ControlAwareClassifier(_RecordingPrior(smoothing=1.0))
    assert clone(model).get_params()["estimator__smoothing"] == 1.0
    model.fit(X, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
