"""Blending (BlendedMoAClassifier, optimize_blend_weights) and seed averaging."""

import pickle

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_moa.datasets import make_moa
from sklearn_moa.ensemble import (
    BlendedMoAClassifier,
    FoldAveragedModel,
    SeedAveragedClassifier,
    blend_probabilities,
    optimize_blend_weights,
)
from sklearn_moa.ensemble._blend import _blend_loss_and_gradient
from sklearn_moa.metrics import mean_columnwise_log_loss, moa_log_loss_scorer
from sklearn_moa.model_selection import (
    DrugMultilabelStratifiedKFold,
    compare_models,
    cross_validate_moa,
)
from sklearn_moa.models import (
    ControlAwareClassifier,
    LogisticMoAClassifier,
    MoAClassifierBase,
    PriorClassifier,
)

from .conftest import moa_cv_scores


# Small, fast model families (test-only) on the suite's base class.
class RidgeMoA(MoAClassifierBase):
    """Ridge regression on the 0/1 targets, clipped into (0, 1)."""

    def __init__(self, alpha=1000.0, random_state=None):
        self.alpha = alpha
        self.random_state = random_state

    def _fit_targets(self, X, Y, seeds):
        self._ridge = Ridge(self.alpha).fit(X, Y)

    def _predict_targets(self, X):
        return np.clip(self._ridge.predict(X), 1e-3, 1 - 1e-3)


class KNNMoA(MoAClassifierBase):
    """Share of positives among the nearest neighbours, shrunk to the prior."""

    def __init__(self, n_neighbors=15, random_state=None):
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def _fit_targets(self, X, Y, seeds):
        self._knn = KNeighborsRegressor(self.n_neighbors).fit(X, Y)
        self._prior = Y.mean(axis=0)

    def _predict_targets(self, X):
        return (self._knn.predict(X) * self.n_neighbors + self._prior) / (self.n_neighbors + 1)


class ForestMoA(MoAClassifierBase):
    """A few shallow random trees: noisy, seed-dependent predictions."""

    def __init__(self, n_estimators=5, random_state=None):
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _fit_targets(self, X, Y, seeds):
        self._forest = RandomForestRegressor(
            self.n_estimators, max_depth=6, max_features=0.1, random_state=seeds[0]
        ).fit(X, Y)
        self._prior = Y.mean(axis=0)

    def _predict_targets(self, X):
        return 0.8 * self._forest.predict(X) + 0.2 * self._prior


class DropsLastTarget(PriorClassifier):
    """A member that predicts one target fewer than it was given."""

    def fit(self, X, Y, **fit_params):
        return super().fit(X, np.asarray(Y)[:, :-1], **fit_params)


@pytest.fixture(scope="module")
def data():
    data = make_moa(1200, random_state=0)
    # 300 of the 872 numeric columns keep the forests fast.
    data.X = data.features.filter(regex=r"^(g-1?\d?\d|c-\d+)$").to_numpy()
    assert data.X.shape[1] == 300
    return data


def _families():
    return [("prior", PriorClassifier()), ("ridge", RidgeMoA()), ("knn", KNNMoA()),
            ("forest", ForestMoA(random_state=0))]


# ---------------------------------------------------------------- weights from OOF


def _noisy_predictions(Y, rng, noise):
    return np.clip(0.2 + 0.5 * (Y - 0.2) + noise * rng.randn(*Y.shape), 0.01, 0.99)


def test_optimized_weights_on_the_simplex_and_better_than_any_member():
    rng = np.random.RandomState(0)
    Y = (rng.rand(800, 4) < 0.2).astype(int)
    oof = [_noisy_predictions(Y, rng, 0.15), _noisy_predictions(Y, rng, 0.25), np.full(Y.shape, 0.2)]
    weights = optimize_blend_weights(oof, Y)
    assert weights.shape == (3,) and (weights >= 0).all()
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] > weights[1] > weights[2] - 1e-9, "the less noisy model must weigh more"
    blend = mean_columnwise_log_loss(Y, blend_probabilities(oof, weights))
    for single in [*oof, blend_probabilities(oof)]:
        assert blend < mean_columnwise_log_loss(Y, single)
    # Nothing on the simplex does better: probe random weight vectors.
    for probe in rng.dirichlet(np.ones(3), size=50):
        assert blend <= mean_columnwise_log_loss(Y, blend_probabilities(oof, probe)) + 1e-9


def test_loss_gradient_is_exact():
    rng = np.random.RandomState(1)
    Y = (rng.rand(300, 5) < 0.3).astype(float)
    P = np.stack([_noisy_predictions(Y, rng, 0.2) for _ in range(3)])
    error = check_grad(
        lambda w: _blend_loss_and_gradient(w, P, Y)[0],
        lambda w: _blend_loss_and_gradient(w, P, Y)[1],
        np.array([0.2, 0.5, 0.3]),
    )
    assert error < 1e-6


def test_weights_from_precomputed_cv_results_without_retraining(data):
    table, results = compare_models(
        dict(_families()[:3]), data.X, data.targets, groups=data.drugs, cv=3, return_results=True
    )
    weights = optimize_blend_weights(results, data.targets)
    as_arrays = optimize_blend_weights([r.oof_predictions for r in results.values()], data.targets)
    np.testing.assert_allclose(weights, as_arrays)
    blended = blend_probabilities([r.oof_predictions for r in results.values()], weights)
    assert mean_columnwise_log_loss(data.targets, blended) <= table["oof_log_loss"].min()
    # The learnt weights go straight into the estimator: no inner CV is run.
    blend = BlendedMoAClassifier(_families()[:3], weights=weights).fit(data.X, data.targets)
    assert not hasattr(blend, "member_cv_results_")
    np.testing.assert_allclose(blend.weights_, weights)


def test_rows_left_out_of_every_fold_are_ignored():
    rng = np.random.RandomState(2)
    Y = (rng.rand(400, 3) < 0.2).astype(int)
    a, b = _noisy_predictions(Y, rng, 0.1), _noisy_predictions(Y, rng, 0.3)
    a_nan = a.copy()
    a_nan[:50] = np.nan
    expected = optimize_blend_weights([a[50:], b[50:]], Y[50:])
    np.testing.assert_allclose(optimize_blend_weights([a_nan, b], Y), expected)
    assert optimize_blend_weights([a], Y).tolist() == [1.0]


def test_optimize_blend_weights_errors():
    Y = np.array([[0, 1], [1, 0], [0, 0]])
    p = np.full((3, 2), 0.3)
    with pytest.raises(ValueError, match="different shapes.*'b': \\(3, 1\\)"):
        optimize_blend_weights({"a": p, "b": p[:, :1]}, Y)
    with pytest.raises(ValueError, match="Y has shape"):
        optimize_blend_weights([p, p], Y[:2])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        optimize_blend_weights([p, p * 4], Y)
    with pytest.raises(ValueError, match="No row is predicted"):
        optimize_blend_weights([p, np.full((3, 2), np.nan)], Y)
    with pytest.raises(ValueError, match="list or a dict"):
        optimize_blend_weights(p, Y)


# ---------------------------------------------------------------- BlendedMoAClassifier


def test_blend_learns_weights_with_drug_aware_inner_cv(data):
    blend = BlendedMoAClassifier(_families(), cv=3).fit(data.X, data.targets, groups=data.drugs)
    assert blend.weights_.sum() == pytest.approx(1.0) and (blend.weights_ >= 0).all()
    assert set(blend.member_cv_results_) == {"prior", "ridge", "knn", "forest"}
    assert all("DrugMultilabelStratifiedKFold" in r.cv for r in blend.member_cv_results_.values())
    best_member = min(r.oof_log_loss for r in blend.member_cv_results_.values())
    assert blend.blend_oof_log_loss_ < best_member
    # 206 targets, some without a positive in the training data: all handled.
    assert (data.targets.sum(axis=0) == 0).any()
    proba = blend.predict_proba(data.X[:50])
    assert proba.shape == (50, 206) and np.all((proba > 0) & (proba < 1))
    assert blend.predict(data.X[:5]).shape == (5, 206)
    np.testing.assert_array_equal(blend.classes_, np.arange(206))
    assert blend.named_estimators_.forest is blend.estimators_[3]


def test_blend_of_three_families_beats_its_best_member_out_of_fold(data):
    """The honest check: the blend (weights learnt inside each outer fold) vs each member."""
    outer = DrugMultilabelStratifiedKFold(3, random_state=1)
    families = _families()[1:]  # ridge, knn, forest: three different families, no prior
    members = {
        name: cross_validate_moa(model, data.X, data.targets, groups=data.drugs, cv=outer)
        for name, model in families
    }
    blend = cross_validate_moa(
        BlendedMoAClassifier(families, cv=3), data.X, data.targets, groups=data.drugs, cv=outer,
        fit_params={"groups": data.drugs.to_numpy()},
    )
    best = min(r.oof_log_loss for r in members.values())
    assert blend.oof_log_loss < best, (blend.oof_log_loss, {k: r.oof_log_loss for k, r in members.items()})


def test_fixed_weights_are_normalised_and_zero_weight_members_skipped(data):
    blend = BlendedMoAClassifier(_families()[:3], weights=[2, 0, 6]).fit(data.X, data.targets)
    np.testing.assert_allclose(blend.weights_, [0.25, 0.0, 0.75])
    assert blend.estimators_[1] is None
    prior = PriorClassifier().fit(data.X, data.targets)
    knn = KNNMoA().fit(data.X, data.targets)
    expected = 0.25 * prior.predict_proba(data.X[:20]) + 0.75 * knn.predict_proba(data.X[:20])
    np.testing.assert_allclose(blend.predict_proba(data.X[:20]), expected)


@pytest.mark.parametrize("weights, message", [
    ([1, -0.5, 1], "non-negative"),
    ([1, 1], "one number per estimator: 3 estimators"),
    ([0, 0, 0], "all zero"),
    ([1, np.nan, 1], "finite"),
    ("optimise", "'weights' parameter .*'optimize'.* Got 'optimise'"),
])
def test_bad_weights(data, weights, message):
    with pytest.raises(ValueError, match=message):
        BlendedMoAClassifier(_families()[:3], weights=weights).fit(data.X[:100], data.targets[:100])


def test_members_with_different_target_counts(data):
    members = [("prior", PriorClassifier()), ("short", DropsLastTarget())]
    with pytest.raises(ValueError, match="'short' predicts 205 targets but Y has 206"):
        BlendedMoAClassifier(members, weights=[1, 1]).fit(data.X, data.targets)
    with pytest.raises(ValueError, match=r"predict_proba returned shape \(\d+, 205\)"):
        BlendedMoAClassifier(members, cv=3).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="205 targets but Y has 206"):
        SeedAveragedClassifier(DropsLastTarget()).fit(data.X, data.targets)


def test_bad_estimators(data):
    with pytest.raises(ValueError, match="non-empty list"):
        BlendedMoAClassifier([]).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="not unique"):
        BlendedMoAClassifier([("a", PriorClassifier()), ("a", RidgeMoA())]).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="no fit/predict_proba"):
        BlendedMoAClassifier([("a", PriorClassifier()), ("b", StandardScaler())]).fit(
            data.X, data.targets)
    with pytest.raises(ValueError, match="n_samples=2"):
        BlendedMoAClassifier(_families()[:2], cv=3).fit(data.X[:2], data.targets[:2])


def test_blend_in_pipeline_grid_search_and_cross_val_score(data):
    features = make_column_transformer((StandardScaler(), [f"g-{i}" for i in range(50)]))
    blend = BlendedMoAClassifier(
        [("prior", PriorClassifier()), ("ridge", RidgeMoA()), ("knn", KNNMoA())], cv=2
    )
    model = ControlAwareClassifier(make_pipeline(features, blend))
    cv = DrugMultilabelStratifiedKFold(3, random_state=0)
    assert moa_cv_scores(model, data.features, data.targets, cv, groups=data.drugs).shape == (3,)
    search = GridSearchCV(
        model, {"estimator__blendedmoaclassifier__knn__n_neighbors": [1, 30]},
        scoring=moa_log_loss_scorer, cv=cv,
    ).fit(data.features, data.targets, groups=data.drugs)
    # One neighbour predicts 0/1-like probabilities: far worse on the log loss.
    assert search.best_params_ == {"estimator__blendedmoaclassifier__knn__n_neighbors": 30}


def test_blend_clone_pickle_and_reproducibility(data):
    blend = BlendedMoAClassifier(_families()[1:3], cv=3, random_state=3)
    assert clone(blend).get_params()["ridge__alpha"] == 1000.0
    first = blend.fit(data.X, data.targets, groups=data.drugs)
    again = clone(blend).fit(data.X, data.targets, groups=data.drugs)
    np.testing.assert_array_equal(first.weights_, again.weights_)
    np.testing.assert_array_equal(first.predict_proba(data.X), again.predict_proba(data.X))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(data.X), first.predict_proba(data.X))


# ---------------------------------------------------------------- seed averaging


def _forest_pipeline():
    features = make_column_transformer((StandardScaler(), [f"c-{i}" for i in range(100)]))
    return ControlAwareClassifier(make_pipeline(features, ForestMoA()))


def test_seed_averaging_sets_nested_seeds_and_averages(data):
    model = SeedAveragedClassifier(_forest_pipeline(), seeds=[11, 12, 13])
    model.fit(data.features, data.targets)
    assert model.seed_params_ == ["estimator__forestmoa__random_state"]
    assert [m.get_params()["estimator__forestmoa__random_state"] for m in model.estimators_] == [
        11, 12, 13]
    member_probas = [m.predict_proba(data.features[:40]) for m in model.estimators_]
    assert not np.allclose(member_probas[0], member_probas[1]), "seeds must change the members"
    np.testing.assert_allclose(model.predict_proba(data.features[:40]), np.mean(member_probas, axis=0))
    controls = (data.features.cp_type == "ctl_vehicle").to_numpy()
    assert (model.predict_proba(data.features)[controls] < 1e-6).all()


def test_seed_averaging_improves_a_noisy_model_out_of_fold(data):
    cv = DrugMultilabelStratifiedKFold(3, random_state=0)
    single = cross_validate_moa(ForestMoA(random_state=0), data.X, data.targets,
                                groups=data.drugs, cv=cv)
    averaged = cross_validate_moa(SeedAveragedClassifier(ForestMoA(), seeds=5, random_state=0),
                                  data.X, data.targets, groups=data.drugs, cv=cv)
    assert averaged.oof_log_loss < single.oof_log_loss


def test_seed_averaging_reproducible_clone_pickle(data):
    model = SeedAveragedClassifier(ForestMoA(), seeds=3, random_state=7)
    first = model.fit(data.X, data.targets)
    again = clone(model).fit(data.X, data.targets)
    assert first.seeds_ == again.seeds_ and len(set(first.seeds_)) == 3
    np.testing.assert_array_equal(first.predict_proba(data.X), again.predict_proba(data.X))
    other = SeedAveragedClassifier(ForestMoA(), seeds=3, random_state=8).fit(data.X, data.targets)
    assert other.seeds_ != first.seeds_
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(data.X), first.predict_proba(data.X))


def test_seed_averaging_explicit_param_and_errors(data):
    model = SeedAveragedClassifier(ForestMoA(), seeds=[1, 2], seed_params="random_state")
    assert model.fit(data.X[:200], data.targets[:200]).seed_params_ == ["random_state"]
    with pytest.raises(ValueError, match="not parameters of ForestMoA"):
        SeedAveragedClassifier(ForestMoA(), seed_params="seed").fit(data.X, data.targets)
    with pytest.raises(ValueError, match="has no random_state parameter"):
        SeedAveragedClassifier(KNeighborsClassifier()).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="predict_proba"):
        SeedAveragedClassifier(StandardScaler()).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="'seeds' parameter"):
        SeedAveragedClassifier(ForestMoA(), seeds=0).fit(data.X, data.targets)
    with pytest.raises(ValueError, match="list of int seeds"):
        SeedAveragedClassifier(ForestMoA(), seeds=[1.5]).fit(data.X, data.targets)


def test_fold_averaged_model_is_the_mean_of_its_fold_models():
    data = make_moa(300, n_test_samples=0, random_state=0)
    X, Y = data.features.filter(like="g-").to_numpy(), data.targets.to_numpy()
    result = cross_validate_moa(LogisticMoAClassifier(C=0.05), X, Y, groups=data.drugs, cv=3,
                                return_estimators=True)
    model = FoldAveragedModel(result.estimators)
    expected = np.mean([fold.predict_proba(X) for fold in result.estimators], axis=0)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_array_equal(model.classes_, np.arange(Y.shape[1]))
    with pytest.raises(ValueError, match="at least one"):
        FoldAveragedModel([])


def test_fold_averaged_model_files_of_version_0_1_0_still_load():
    # 0.1.0 defined the class in sklearn_moa.cli._train; its pickles name that module.
    import sklearn_moa.cli._train as old_home

    model = FoldAveragedModel([PriorClassifier().fit(np.zeros((4, 1)), np.eye(4, 2, dtype=int))])
    FoldAveragedModel.__module__ = old_home.__name__
    try:
        old_file = pickle.dumps(model)
    finally:
        FoldAveragedModel.__module__ = "sklearn_moa.ensemble._fold_average"
    assert b"sklearn_moa.cli._train" in old_file
    np.testing.assert_array_equal(pickle.loads(old_file).predict_proba(np.zeros((2, 1))),
                                  model.predict_proba(np.zeros((2, 1))))
