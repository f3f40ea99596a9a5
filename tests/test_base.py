"""The shared multi-label base and the control rule."""

import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_moa.models import ControlAwareClassifier, PriorClassifier
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
        (np.zeros((4, 2)), np.zeros(4), "2-D"),
        (np.zeros((4, 2)), np.zeros((3, 2)), "inconsistent|rows"),
        (np.zeros((4, 2)), np.full((4, 2), 3), "binary"),
        (np.zeros((4, 2)), np.full((4, 2), 0.3), "continuous"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "0 sample"),
        (pd.DataFrame({"cp_type": ["trt_cp"] * 4, "g-0": 0.0}), np.zeros((4, 2)), "not numeric"),
    ],
)
def test_bad_input_is_named(X, Y, match):
    with pytest.raises(ValueError, match=match):
        PriorClassifier().fit(X, Y)


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
        self.seen_rows_ = len(X)
        self.seen_params_ = fit_params
        return super().fit(X[["g-0", "g-1"]], Y)

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
