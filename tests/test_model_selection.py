"""Drug-aware splitting, the CV helper and composition with scikit-learn."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_moa.datasets import make_moa
from sklearn_moa.metrics import mean_columnwise_log_loss, moa_log_loss_scorer
from sklearn_moa.model_selection import (
    DrugMultilabelStratifiedKFold,
    MultilabelStratifiedKFold,
    compare_models,
    cross_validate_moa,
)
from sklearn_moa.models import ControlAwareClassifier, PriorClassifier

from .conftest import moa_cv_scores


@pytest.fixture(scope="module")
def data():
    return make_moa(1200, random_state=0)


def _prior_pipeline(**params):
    features = make_column_transformer((StandardScaler(), ["g-0", "g-1", "c-0"]))
    return ControlAwareClassifier(make_pipeline(features, PriorClassifier(**params)))


def test_drug_folds_keep_small_drugs_whole(data):
    cv = DrugMultilabelStratifiedKFold(n_splits=4, random_state=0)
    drugs = data.drugs.to_numpy()
    counts = data.drugs.value_counts()
    small = set(counts[counts <= 18].index)
    assert len(small) < len(counts), "make_moa should have some frequent drugs"
    seen_test = np.zeros(len(drugs), dtype=int)
    for train, test in cv.split(data.features, data.targets, groups=drugs):
        shared = (set(drugs[train]) & set(drugs[test])) & small
        assert not shared, f"small drugs on both sides: {sorted(shared)[:3]}"
        seen_test[test] += 1
    np.testing.assert_array_equal(seen_test, 1)


def test_frequent_drugs_are_spread_over_folds(data):
    cv = DrugMultilabelStratifiedKFold(n_splits=3, random_state=0)
    drugs = data.drugs.to_numpy()
    counts = data.drugs.value_counts()
    frequent = counts[counts > 18].index[0]
    folds_with_drug = [
        np.isin(frequent, drugs[test]) for _, test in cv.split(data.features, data.targets, drugs)
    ]
    assert all(folds_with_drug)


def test_splits_are_reproducible_and_seed_dependent(data):
    def folds(seed):
        cv = DrugMultilabelStratifiedKFold(3, random_state=seed)
        return [test for _, test in cv.split(data.features, data.targets, data.drugs)]

    for a, b in zip(folds(1), folds(1)):
        np.testing.assert_array_equal(a, b)
    assert any(len(a) != len(b) or (a != b).any() for a, b in zip(folds(1), folds(2)))


def test_splitter_errors(data):
    with pytest.raises(ValueError, match="drug id"):
        next(DrugMultilabelStratifiedKFold(3).split(data.features, data.targets))
    with pytest.raises(ValueError, match="one drug id per row"):
        next(DrugMultilabelStratifiedKFold(3).split(data.features, data.targets, groups=[1, 2]))
    with pytest.raises(ValueError, match="n_splits"):
        next(MultilabelStratifiedKFold(1).split(data.features, data.targets))


@pytest.mark.parametrize("Splitter", [MultilabelStratifiedKFold, DrugMultilabelStratifiedKFold])
def test_splitters_take_the_kernel_signature(data, Splitter):
    """The line of every iterative-stratification kernel works unchanged."""
    cv = Splitter(n_splits=5, shuffle=True, random_state=0)
    assert cv.get_n_splits() == 5
    assert cv.get_n_splits(data.features, data.targets, data.drugs) == 5
    shown = " ".join(repr(cv).split())
    assert shown.startswith(f"{Splitter.__name__}(") and "n_splits=5," in shown
    assert "random_state=0," in shown and "shuffle=True" in shown
    assert repr(eval(repr(cv), {Splitter.__name__: Splitter})) == repr(cv)
    folds = [test for _, test in cv.split(data.features, data.targets, groups=data.drugs)]
    np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(len(data.targets)))
    again = [test for _, test in cv.split(data.features, data.targets, groups=data.drugs)]
    for a, b in zip(folds, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shuffle", [True, False])
def test_row_wise_folds_are_stratified_with_or_without_shuffle(data, shuffle):
    Y = data.targets.to_numpy()
    common = Y.sum(axis=0) >= 20
    cv = MultilabelStratifiedKFold(4, shuffle=shuffle, random_state=0 if shuffle else None)
    for _, test in cv.split(data.features, Y):
        expected = Y[:, common].sum(axis=0) / 4
        np.testing.assert_allclose(Y[test][:, common].sum(axis=0), expected, atol=1.5)


def test_shuffle_changes_the_order_dependence(data):
    """Without shuffle the folds follow the row order; with it they do not."""
    Y = data.targets.to_numpy()[:, :3]
    order = np.random.RandomState(0).permutation(len(Y))

    def test_folds(shuffle, rows):
        np.random.seed(0)  # shuffle=False breaks ties from the global generator
        cv = MultilabelStratifiedKFold(3, shuffle=shuffle, random_state=0 if shuffle else None)
        return [set(rows[test]) for _, test in cv.split(Y[rows], Y[rows])]

    identity = np.arange(len(Y))
    assert test_folds(False, identity) == test_folds(False, identity)
    assert test_folds(True, identity) != test_folds(False, identity)


@pytest.mark.parametrize("Splitter", [MultilabelStratifiedKFold, DrugMultilabelStratifiedKFold])
def test_splitter_errors_are_kfolds(data, Splitter):
    from sklearn.model_selection import KFold

    for bad, error in [({"n_splits": 1}, ValueError), ({"n_splits": 2.5}, ValueError),
                       ({"shuffle": "yes"}, TypeError), ({"shuffle": False, "random_state": 0}, ValueError)]:
        with pytest.raises(error) as ours:
            Splitter(**bad)
        with pytest.raises(error) as kfold:
            KFold(**bad)
        assert str(ours.value) == str(kfold.value)
    Y = data.targets.to_numpy()[:4]
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of samples: n_samples=4"):
        next(Splitter(5).split(Y, Y, groups=np.arange(4)))
    assert Splitter(3, shuffle=False).random_state is None


def test_drug_splitter_requests_groups_for_routing():
    drug_request = DrugMultilabelStratifiedKFold().get_metadata_routing().consumes("split", ["groups"])
    assert drug_request == {"groups"}
    assert MultilabelStratifiedKFold().get_metadata_routing().consumes("split", ["groups"]) == set()
    with pytest.raises(ValueError, match="max_rows_per_drug"):
        DrugMultilabelStratifiedKFold(max_rows_per_drug=0)


def test_drug_aware_cv_is_harder_than_row_wise():
    """Row-wise folds leak replicates; drug-aware ones cannot (nearest-neighbour probe)."""
    from sklearn.neighbors import KNeighborsClassifier

    from sklearn_moa.models import MoAClassifierBase

    class NearestReplicate(MoAClassifierBase):
        def __init__(self, random_state=None):
            self.random_state = random_state

        def _fit_targets(self, X, Y, seeds):
            self._knn = KNeighborsClassifier(1).fit(X, Y)

        def _predict_targets(self, X):
            return np.clip(self._knn.predict(X).astype(float), 0.01, 0.99)

    data = make_moa(1500, random_state=3)
    X = data.features.filter(regex="^[gc]-")
    model = NearestReplicate()
    drug_aware = cross_validate_moa(model, X, data.targets, groups=data.drugs, cv=3)
    row_wise = cross_validate_moa(model, X, data.targets, cv=3)
    assert drug_aware.oof_log_loss > row_wise.oof_log_loss


def test_cross_validate_result(data):
    result = cross_validate_moa(
        _prior_pipeline(), data.features, data.targets, groups=data.drugs, cv=3,
        return_estimators=True,
    )
    assert result.oof_predictions.shape == data.targets.shape
    assert not np.isnan(result.oof_predictions).any()
    assert len(result.fold_log_loss) == 3 and len(result.fit_time) == 3
    assert result.oof_log_loss == pytest.approx(
        mean_columnwise_log_loss(data.targets, result.oof_predictions)
    )
    for test, score in zip(result.test_indices, result.fold_log_loss):
        assert score == pytest.approx(
            mean_columnwise_log_loss(data.targets.iloc[test], result.oof_predictions[test])
        )
    assert "DrugMultilabelStratifiedKFold" in result.cv
    assert len(result.estimators) == 3
    controls = (data.features.cp_type == "ctl_vehicle").to_numpy()
    assert (result.oof_predictions[controls] < 1e-6).all()
    assert list(result.oof_frame().columns) == list(data.targets.columns)
    assert result.per_target_log_loss(data.targets).shape == (206,)


def test_parallel_folds_match_serial(data):
    serial = cross_validate_moa(_prior_pipeline(), data.features, data.targets, groups=data.drugs, cv=3)
    with joblib.parallel_config(backend="loky", n_jobs=2):
        parallel = cross_validate_moa(
            _prior_pipeline(), data.features, data.targets, groups=data.drugs, cv=3, n_jobs=2
        )
    np.testing.assert_allclose(serial.fold_log_loss, parallel.fold_log_loss)
    np.testing.assert_allclose(serial.oof_predictions, parallel.oof_predictions)


def test_fit_params_are_subset_per_fold(data):
    class NeedsRowInfo(PriorClassifier):
        def fit(self, X, Y, row_info=None):
            assert row_info is not None and len(row_info) == len(X)
            return super().fit(X, Y)

    result = cross_validate_moa(
        NeedsRowInfo(), data.features[["g-0"]], data.targets, groups=data.drugs, cv=3,
        fit_params={"row_info": np.arange(len(data.features))},
    )
    assert result.oof_predictions.shape == data.targets.shape


def test_compare_models_table(data):
    table, results = compare_models(
        {"prior": _prior_pipeline(), "prior_smooth": _prior_pipeline(smoothing=5.0)},
        data.features, data.targets, groups=data.drugs, cv=3, return_results=True,
    )
    assert list(table.columns) == [
        "fold_log_loss_mean", "fold_log_loss_std", "oof_log_loss", "fit_time_s",
        "predict_time_s", "n_folds",
    ]
    assert set(table.index) == {"prior", "prior_smooth"}
    assert table["oof_log_loss"].is_monotonic_increasing
    assert table.loc["prior", "oof_log_loss"] == pytest.approx(results["prior"].oof_log_loss)
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_models({}, data.features, data.targets)


def test_pipeline_grid_search_and_cross_val_score(data):
    cv = DrugMultilabelStratifiedKFold(3, random_state=0)
    scores = moa_cv_scores(_prior_pipeline(), data.features, data.targets, cv, groups=data.drugs)
    assert scores.shape == (3,)
    search = GridSearchCV(
        _prior_pipeline(),
        {"estimator__priorclassifier__smoothing": [0.01, 50.0]},
        scoring=moa_log_loss_scorer, cv=cv,
    ).fit(data.features, data.targets, groups=data.drugs)
    assert search.best_params_ == {"estimator__priorclassifier__smoothing": 0.01}
    assert search.predict_proba(data.features).shape == data.targets.shape
