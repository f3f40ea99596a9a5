"""TabNetMoAClassifier: the pytorch-tabnet wrapper."""

import pickle
from functools import partial
import subprocess
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
pytest.importorskip("pytorch_tabnet")

from sklearn_moa.datasets import make_moa  # noqa: E402
from sklearn_moa.metrics import mean_columnwise_log_loss, moa_log_loss_scorer  # noqa: E402
from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold, cross_validate_moa  # noqa: E402
from sklearn_moa.models import ControlAwareClassifier, TabNetMoAClassifier  # noqa: E402

from .conftest import assert_search_compared, moa_cv_scores, toy_multilabel  # noqa: E402

SMALL = dict(n_d=4, n_a=4, epochs=2, batch_size=64, virtual_batch_size=32)


_data = partial(toy_multilabel, n=160, n_targets=5)


@pytest.fixture(scope="module")
def fitted():
    X, Y = _data()
    return TabNetMoAClassifier(**SMALL, random_state=0).fit(X, Y), X, Y


def test_fit_predict_shapes_and_attributes(fitted):
    model, X, Y = fitted
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1))
    assert model.predict(X).shape == Y.shape
    np.testing.assert_array_equal(model.classes_, np.arange(Y.shape[1]))
    assert model.feature_importances_.shape == (X.shape[1],)
    assert np.all(model.feature_importances_ >= 0)
    assert model.feature_importances_.sum() == pytest.approx(1.0)
    assert model.n_iter_ == 2 and len(model.history_["loss"]) == 2
    assert model.best_epoch_ is None


def test_fit_returns_self_leaves_parameters_and_global_rng_alone():
    X, Y = _data()
    model = TabNetMoAClassifier(**SMALL, random_state=3)
    params = model.get_params()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    assert model.fit(X, Y) is model
    # pytorch-tabnet seeds torch globally and overwrites its parameters in fit.
    np.testing.assert_array_equal(torch.rand(3), expected_next)
    assert model.get_params() == params


def test_same_random_state_same_predictions_other_state_differs(fitted):
    model, X, Y = fitted
    again = TabNetMoAClassifier(**SMALL, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    other = TabNetMoAClassifier(**SMALL, random_state=1).fit(X, Y)
    assert not np.allclose(other.predict_proba(X), model.predict_proba(X))


def test_pickle_round_trip_and_clone(fitted):
    model, X, _ = fitted
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert not hasattr(fresh, "network_")


def test_prediction_does_not_depend_on_the_batch(fitted):
    model, X, _ = fitted
    one_by_one = np.vstack([model.predict_proba(X[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(one_by_one, model.predict_proba(X)[:5], rtol=1e-12)


def test_single_class_targets_are_constant_and_not_trained(fitted):
    _, X, Y = fitted
    Y = Y.copy()
    Y[:, 1] = 0
    Y[:, 3] = 1
    model = TabNetMoAClassifier(**SMALL, random_state=0).fit(X, Y)
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.constant_targets_, [False, True, False, True, False])
    assert model.network_.tabnet.final_mapping.out_features == 3
    assert np.ptp(proba[:, 1]) == 0 and proba[0, 1] < 0.01
    assert np.ptp(proba[:, 3]) == 0 and proba[0, 3] > 0.99


def test_early_stopping_with_single_class_validation_columns():
    X, Y = _data(n=120)
    # Two targets with one positive each: the 12-row validation split cannot
    # hold both, so at least one validation column has a single class.
    Y[:, 0] = 0
    Y[5, 0] = 1
    Y[:, 1] = 0
    Y[70, 1] = 1
    model = TabNetMoAClassifier(
        **dict(SMALL, epochs=6), early_stopping=True, validation_fraction=0.1, patience=2,
        random_state=0,
    ).fit(X, Y)
    valid_loss = np.asarray(model.history_["val_loss"])
    assert len(valid_loss) == model.n_iter_ <= 6
    assert np.all(np.isfinite(valid_loss))
    assert valid_loss[model.best_epoch_] == valid_loss.min()


def test_early_stopping_keeps_the_best_epoch():
    X, Y = _data(n=120)
    # A learning rate this high makes the validation loss go up early on.
    model = TabNetMoAClassifier(
        **dict(SMALL, epochs=8, learning_rate=1.0), early_stopping=True, patience=1, random_state=0
    ).fit(X, Y)
    valid_loss = model.history_["val_loss"]
    assert model.best_epoch_ == int(np.argmin(valid_loss))
    assert model.n_iter_ < 8


def test_validation_loss_is_the_log_loss_of_the_predictions():
    # Rare targets: without the prevalence offset the monitored loss was that
    # of probabilities near 0.5 (about 0.69), not of what the model predicts.
    X, Y = _data(n=200, threshold=1.5)
    model = TabNetMoAClassifier(
        **dict(SMALL, epochs=4), early_stopping=True, patience=4, random_state=0
    ).fit(X, Y)
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=1)[0])
    _, valid = model._validation_split(len(X), seed)
    monitored = model.history_["val_loss"][model.best_epoch_]
    assert mean_columnwise_log_loss(Y[valid], model.predict_proba(X[valid])) == pytest.approx(monitored, rel=1e-4)
    assert monitored < 0.4


def test_label_smoothing_loss():
    from sklearn_moa.models._torch_modules import SmoothBCEWithLogitsLoss

    logits = torch.tensor([[0.0, 2.0]])
    targets = torch.tensor([[1.0, 0.0]])
    smoothed = torch.tensor([[0.9, 0.1]])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    # TabNet's loss_fn: a fresh module, in training mode, so it smooths.
    loss = SmoothBCEWithLogitsLoss(0.2)(logits, targets)
    assert float(loss) == pytest.approx(float(bce(logits, smoothed)))
    loss = SmoothBCEWithLogitsLoss(0.0)(logits, targets)
    assert float(loss) == pytest.approx(float(bce(logits, targets)))


def test_plateau_schedule_lowers_the_learning_rate():
    X, Y = _data(n=64)
    # With a huge learning rate the training loss soon stops improving, so the
    # schedule must cut it (factor 0.9 after 5 epochs without improvement).
    kept = TabNetMoAClassifier(**dict(SMALL, epochs=30, learning_rate=5.0), random_state=0).fit(X, Y)
    constant = TabNetMoAClassifier(
        **dict(SMALL, epochs=3, learning_rate=5.0), lr_schedule=None, random_state=0
    ).fit(X, Y)
    assert min(kept.history_["lr"]) <= 5.0 * 0.9
    assert constant.history_["lr"] == [5.0] * 3


def test_verbose_prints_and_silent_by_default(capsys):
    X, Y = _data(n=64)
    TabNetMoAClassifier(**SMALL, random_state=0).fit(X, Y)
    assert capsys.readouterr().out == ""
    TabNetMoAClassifier(**SMALL, verbose=1, random_state=0).fit(X, Y)
    assert "epoch 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(epochs=0), None, "epochs"),
        (dict(mask_type="softmax"), None, "mask_type"),
        (dict(label_smoothing=1.0), None, "label_smoothing"),
        (dict(validation_fraction=0.0), None, "validation_fraction"),
        (dict(early_stopping=True, validation_fraction=0.5), np.zeros((3, 3)),
         "validation_fraction=0.5"),
        ({}, pd.DataFrame({"cp_type": ["trt_cp"] * 4, "g-0": 0.0}), "not numeric"),
    ],
)
def test_bad_input_is_named(params, X, match):
    if X is None:
        X = np.zeros((8, 3))
    Y = np.zeros((len(X), 2), dtype=int)
    Y[: (len(X) + 1) // 2] = 1
    with pytest.raises(ValueError, match=match):
        TabNetMoAClassifier(**dict(SMALL, **params)).fit(X, Y)


def test_missing_pytorch_tabnet_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytorch_tabnet.tab_model", None)
    X, Y = _data(n=20)
    with pytest.raises(ImportError, match=r"sklearn-moa\[tabnet\]"):
        TabNetMoAClassifier(**SMALL).fit(X, Y)


def test_importing_the_models_does_not_import_tabnet_or_torch():
    code = (
        "import sys, sklearn_moa.models; "
        "assert 'pytorch_tabnet' not in sys.modules and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dataframe_features_keep_their_names():
    X, Y = _data(n=64)
    frame = pd.DataFrame(X, columns=[f"g-{i}" for i in range(X.shape[1])])
    targets = pd.DataFrame(Y, columns=[f"moa_{i}" for i in range(Y.shape[1])])
    model = TabNetMoAClassifier(**SMALL, random_state=0).fit(frame, targets)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert list(model.target_names_) == list(targets.columns)


def _moa_model():
    features = make_column_transformer((StandardScaler(), make_column_selector(pattern=r"^[gc]-")))
    model = TabNetMoAClassifier(**dict(SMALL, batch_size=128), random_state=0)
    return ControlAwareClassifier(make_pipeline(features, model))


@pytest.fixture(scope="module")
def moa():
    return make_moa(600, random_state=0)


def test_206_targets_drug_aware_cv_with_a_target_missing_from_a_training_fold(moa):
    Y = moa.targets.to_numpy()
    cv = DrugMultilabelStratifiedKFold(n_splits=3, random_state=0)
    folds = list(cv.split(moa.features, Y, groups=moa.drugs))
    missing = [
        (Y[train].sum(axis=0) == 0) & (Y[test].sum(axis=0) > 0) for train, test in folds
    ]
    assert any(m.any() for m in missing), "the data must exercise a target without training positives"

    result = cross_validate_moa(_moa_model(), moa.features, moa.targets, groups=moa.drugs, cv=cv)
    assert result.oof_predictions.shape == (600, 206)
    assert np.all((result.oof_predictions > 0) & (result.oof_predictions < 1))
    for (_, test), absent in zip(folds, missing):
        # A target never seen positive in training gets a small constant.
        assert np.all(result.oof_predictions[np.ix_(test, absent)] < 0.01)
    # Two epochs from sigmoid(0) = 0.5 already learn that the targets are rare.
    assert result.oof_log_loss < mean_columnwise_log_loss(Y, np.full(Y.shape, 0.5)) / 2
    controls = (moa.features["cp_type"] == "ctl_vehicle").to_numpy()
    assert controls.any() and np.all(result.oof_predictions[controls] < 1e-3)


def test_pipeline_gridsearch_and_cross_val_score(moa):
    X, Y = moa.features.iloc[:300], moa.targets.iloc[:300]
    search = GridSearchCV(
        _moa_model(),
        {"estimator__tabnetmoaclassifier__label_smoothing": [0.0, 1e-3]},
        scoring=moa_log_loss_scorer,
        cv=KFold(2),
    ).fit(X, Y)
    assert_search_compared(search)
    assert search.best_estimator_.predict_proba(X).shape == Y.shape
    assert moa_cv_scores(_moa_model(), X, Y, cv=KFold(2)).shape == (2,)



@pytest.fixture
def nan_in_epoch_3(monkeypatch):
    """TabNet's weights become NaN after the first batch of its third epoch (a diverged step)."""
    from sklearn_moa.models._tabnet import _tabnet_parts

    timer = _tabnet_parts().EpochTimer
    original = timer.on_epoch_begin

    def note_epoch(self, epoch, logs=None):
        self.epoch = epoch
        original(self, epoch, logs)

    def poison(self, batch, logs=None):
        if self.epoch == 2:
            with torch.no_grad():
                for p in self.trainer.network.parameters():
                    p.fill_(float("nan"))

    monkeypatch.setattr(timer, "on_epoch_begin", note_epoch)
    monkeypatch.setattr(timer, "on_batch_end", poison, raising=False)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_diverging_fit_raises_naming_the_epoch(nan_in_epoch_3, early_stopping):
    # Even with early stopping: the next batch would crash in pytorch-tabnet's sparsemax.
    from sklearn_moa.models import NonFiniteLossError

    X, Y = _data()
    model = TabNetMoAClassifier(**dict(SMALL, epochs=4), early_stopping=early_stopping, random_state=0)
    with pytest.raises(NonFiniteLossError, match="TabNetMoAClassifier: the network weights became nan at epoch 3"):
        model.fit(X, Y)
