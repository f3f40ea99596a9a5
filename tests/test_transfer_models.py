"""The 1st place's non-scored transfer models: MultiStageNNClassifier and TwoHeadResNetClassifier."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn_moa.datasets import make_moa  # noqa: E402
from sklearn_moa.ensemble import SeedAveragedClassifier  # noqa: E402
from sklearn_moa.metrics import moa_log_loss_scorer  # noqa: E402
from sklearn_moa.model_selection import (  # noqa: E402
    DrugMultilabelStratifiedKFold, MoAStratifiedKFold, cross_validate_moa,
)
from sklearn_moa.models import (  # noqa: E402
    ControlAwareClassifier,
    MultiStageNNClassifier,
    PriorClassifier,
    ResidualNNClassifier,
    TwoHeadResNetClassifier,
)
from sklearn_moa.models._two_head_resnet import t_test_scores  # noqa: E402

TINY = {
    MultiStageNNClassifier: dict(
        hidden_layer_sizes=(16,), stage3_hidden_layer_sizes=(8,), dropout=0.1, cv=3, pretrain_epochs=2
    ),
    TwoHeadResNetClassifier: dict(hidden_layer_sizes=(16, 8), tail_units=(8,), refine_rounds=1, refine_epochs=2),
}
MODELS = list(TINY)


def _tiny(cls, **params):
    return cls(**{**TINY[cls], "epochs": 2, "batch_size": 32, "random_state": 0, **params})


def _toy(n=150, n_features=12, n_targets=4, n_nonscored=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    Y = (X[:, :n_targets] + 0.5 * rng.randn(n, n_targets) > 1.0).astype(int)
    Y_ns = (X[:, 2 : 2 + n_nonscored] + 0.5 * rng.randn(n, n_nonscored) > 1.2).astype(int)
    return X, Y, Y_ns


@pytest.fixture(scope="module")
def moa():
    return make_moa(600, random_state=0)


def _numeric_features():
    return make_column_transformer((StandardScaler(), make_column_selector(pattern=r"^[gc]-")))


# --- both models --------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS)
def test_fit_predict_with_a_single_class_target(cls):
    X, Y, Y_ns = _toy()
    Y[:, 1] = 0  # no positive: predicted as a constant, not given to the networks
    model = _tiny(cls).fit(X, Y, Y_nonscored=Y_ns)
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape and proba.dtype == np.float64
    assert np.all((proba > 0) & (proba < 1)) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba[:, 1], 0.5 / (len(X) + 1))
    np.testing.assert_array_equal(model.classes_, np.arange(4))
    assert model.predict(X).shape == Y.shape


@pytest.mark.parametrize("cls", MODELS)
def test_same_seed_same_result_and_global_rng_untouched(cls):
    X, Y, Y_ns = _toy()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = _tiny(cls).fit(X, Y, Y_nonscored=Y_ns).predict_proba(X)
    assert torch.equal(torch.rand(3), expected_next), "fit changed torch's global RNG"
    second = clone(_tiny(cls)).fit(X, Y, Y_nonscored=Y_ns).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = _tiny(cls, random_state=1).fit(X, Y, Y_nonscored=Y_ns).predict_proba(X)
    assert np.abs(first - other).max() > 1e-6


@pytest.mark.parametrize("cls", MODELS)
def test_pickle_round_trip_and_clone(cls):
    X, Y, Y_ns = _toy()
    model = _tiny(cls).fit(X, Y, Y_nonscored=Y_ns)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.get_params() == model.get_params()
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "classes_")


def _small(cls):
    """The tiny model with two inner folds (the 3-stage NN): for the 206-target tests."""
    return _tiny(cls, cv=2) if cls is MultiStageNNClassifier else _tiny(cls)


@pytest.mark.parametrize("cls", MODELS)
def test_pipeline_grid_search_and_cross_val_score(cls, moa):
    treated = (moa.features.cp_type == "trt_cp").to_numpy()
    X = moa.features[treated].filter(regex=r"^[gc]-").to_numpy()
    Y = moa.targets[treated]
    pipe = make_pipeline(StandardScaler(), _small(cls))
    scores = cross_val_score(pipe, X, Y, cv=KFold(2), scoring=moa_log_loss_scorer)
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    step = pipe.steps[-1][0]
    search = GridSearchCV(
        pipe, {f"{step}__label_smoothing": [0.0, 0.001]}, cv=KFold(2), scoring=moa_log_loss_scorer
    ).fit(X, Y)
    assert search.best_params_[f"{step}__label_smoothing"] in (0.0, 0.001)
    assert search.predict_proba(X).shape == Y.shape


@pytest.mark.parametrize("cls", MODELS)
def test_nonscored_targets_reach_the_model_through_controls_pipeline_and_cv(cls, moa):
    step = cls.__name__.lower()
    model = ControlAwareClassifier(make_pipeline(_numeric_features(), _small(cls)))
    model.fit(moa.features, moa.targets, **{f"{step}__Y_nonscored": moa.nonscored_targets})
    inner = model.estimator_[-1]
    treated = (moa.features.cp_type == "trt_cp").to_numpy()
    treated_ns = moa.nonscored_targets[treated].to_numpy()
    positives = treated_ns.sum(axis=0)
    np.testing.assert_array_equal(
        inner.pretrain_targets_, np.flatnonzero((positives >= 1) & (positives < treated.sum()))
    )
    result = cross_validate_moa(
        model, moa.features, moa.targets, groups=moa.drugs, cv=2,
        fit_params={f"{step}__Y_nonscored": moa.nonscored_targets}, return_estimators=True,
    )
    assert result.oof_predictions.shape == moa.targets.shape
    assert np.isfinite(result.oof_log_loss) and result.oof_log_loss < 0.1
    assert all(fold.estimator_[-1].pretrain_targets_ is not None for fold in result.estimators)


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (MultiStageNNClassifier, dict(hidden_layer_sizes=()), "hidden_layer_sizes"),
        (MultiStageNNClassifier, dict(stage3_hidden_layer_sizes=(8, 0)), "stage3_hidden_layer_sizes"),
        (MultiStageNNClassifier, dict(dropout=(0.1, 0.2)), "dropout"),
        (MultiStageNNClassifier, dict(hidden_layer_sizes=(8, 8), dropout=(0.1, 0.2)), "different lengths"),
        (MultiStageNNClassifier, dict(cv=1), "cv"),
        (MultiStageNNClassifier, dict(validation_fraction=0.2), "validation_fraction"),
        (TwoHeadResNetClassifier, dict(hidden_layer_sizes=(8,)), "hidden_layer_sizes"),
        (TwoHeadResNetClassifier, dict(tail_units=()), "tail_units"),
        (TwoHeadResNetClassifier, dict(selected_columns=-1), "selected_columns"),
        (TwoHeadResNetClassifier, dict(selected_columns=50), "more columns than X has"),
        (TwoHeadResNetClassifier, dict(selected_columns="g-"), "feature names|DataFrame"),
        (TwoHeadResNetClassifier, dict(refine_rounds=-1), "refine_rounds"),
        (TwoHeadResNetClassifier, dict(lr_schedule="cosine"), "lr_schedule"),
    ],
)
def test_bad_parameters_are_named(cls, params, match):
    X, Y, _ = _toy()
    with pytest.raises((ValueError, TypeError), match=match):
        _tiny(cls, **params).fit(X, Y)


# --- MultiStageNNClassifier ----------------------------------------------------


def test_three_stages_with_nonscored_targets_two_without():
    X, Y, Y_ns = _toy()
    model = _tiny(MultiStageNNClassifier).fit(X, Y, Y_nonscored=Y_ns)
    assert [stage.name for stage in model.stages_] == ["nonscored", "scored", "stacked"]
    assert model.n_splits_ == 3 and all(len(stage.modules) == 3 for stage in model.stages_)
    nonscored, scored, stacked = model.stages_
    assert nonscored.modules[0].output.out_features == len(model.pretrain_targets_)
    # Stage 2 reads the features and one normal score per non-scored target.
    assert scored.modules[0].blocks[0][2].in_features == X.shape[1] + len(model.pretrain_targets_)
    assert stacked.modules[0].blocks[0][2].in_features == Y.shape[1]
    assert stacked.output_transformer is None
    assert set(model.stage_oof_log_loss_) == {"nonscored", "scored", "stacked"}
    assert all(np.isfinite(v) and v > 0 for v in model.stage_oof_log_loss_.values())
    assert len(nonscored.histories[0]["loss"]) == len(nonscored.histories[0]["val_loss"]) == 2

    plain = _tiny(MultiStageNNClassifier).fit(X, Y)
    assert [stage.name for stage in plain.stages_] == ["scored", "stacked"]
    assert plain.pretrain_targets_ is None
    off = _tiny(MultiStageNNClassifier, pretrain_epochs=0).fit(X, Y, Y_nonscored=Y_ns)
    np.testing.assert_array_equal(off.predict_proba(X), plain.predict_proba(X))


def test_prediction_is_the_mean_of_the_fold_networks_stage_by_stage():
    X, Y, Y_ns = _toy()
    model = _tiny(MultiStageNNClassifier).fit(X, Y, Y_nonscored=Y_ns)
    nonscored, scored, stacked = model.stages_

    def mean_proba(stage, features):
        with torch.inference_mode():
            return np.mean(
                [torch.sigmoid(m(torch.as_tensor(features, dtype=torch.float32))).numpy() for m in stage.modules],
                axis=0,
            )

    features = np.hstack([X, nonscored.output_transformer.transform(mean_proba(nonscored, X))])
    expected = mean_proba(stacked, scored.output_transformer.transform(mean_proba(scored, features)))
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-5, atol=1e-7)


def test_inner_folds_keep_each_drug_together_when_groups_reach_fit():
    X, Y, Y_ns = _toy(n=180)
    drugs = np.repeat(np.arange(30), 6)
    model = _tiny(MultiStageNNClassifier)
    folds = model._inner_folds(X, Y, drugs, seed=0)
    for _, test in folds:
        held_out = set(drugs[test])
        train_drugs = set(drugs[np.setdiff1d(np.arange(len(X)), test)])
        assert not held_out & train_drugs
    # groups also reach fit (and change the folds, hence the model).
    grouped = model.fit(X, Y, Y_nonscored=Y_ns, groups=drugs).predict_proba(X)
    rowwise = clone(model).fit(X, Y, Y_nonscored=Y_ns).predict_proba(X)
    assert np.abs(grouped - rowwise).max() > 1e-6
    # A splitter is used as given.
    custom = _tiny(MultiStageNNClassifier, cv=GroupKFold(2)).fit(X, Y, groups=drugs)
    assert custom.n_splits_ == 2
    stratified = _tiny(MultiStageNNClassifier, cv=DrugMultilabelStratifiedKFold(2, random_state=0))
    assert stratified.fit(X, Y, groups=drugs).n_splits_ == 2


def test_metadata_routing_brings_nonscored_targets_and_drug_ids():
    from sklearn import config_context

    X, Y, Y_ns = _toy(n=120)
    drugs = np.repeat(np.arange(20), 6)
    with config_context(enable_metadata_routing=True):
        model = _tiny(MultiStageNNClassifier, cv=2).set_fit_request(Y_nonscored=True, groups=True)
        pipe = make_pipeline(StandardScaler(), model).fit(X, Y, Y_nonscored=Y_ns, groups=drugs)
    assert [stage.name for stage in pipe[-1].stages_] == ["nonscored", "scored", "stacked"]


def test_early_stopping_keeps_the_best_epoch_on_the_held_out_fold():
    X, Y, Y_ns = _toy()
    model = _tiny(
        MultiStageNNClassifier, epochs=30, pretrain_epochs=30, early_stopping=True, patience=2,
        lr_schedule=None, learning_rate=3e-2, hidden_layer_sizes=(64,),
    ).fit(X, Y, Y_nonscored=Y_ns)
    lengths = [len(h["val_loss"]) for stage in model.stages_ for h in stage.histories]
    assert min(lengths) < 30


def test_too_many_inner_folds_for_the_rows_is_a_clear_error():
    X, Y, _ = _toy(n=4)
    Y[:2, 0], Y[2:, 0] = 1, 0
    with pytest.raises(ValueError, match="fold|rows"):
        _tiny(MultiStageNNClassifier, cv=5).fit(X, Y)


# --- TwoHeadResNetClassifier ----------------------------------------------------


def test_t_test_scores_rank_the_informative_columns_first():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 10)
    Y = np.zeros((400, 3), dtype=int)
    Y[:20, 0] = 1
    Y[20:21, 1] = 1  # a single positive row
    Y[50:90, 2] = 1
    X[:20, 3] += 2.0
    X[50:90, 7] -= 1.5
    scores = t_test_scores(X, Y)
    assert set(np.argsort(-scores)[:2]) == {3, 7}


@pytest.mark.parametrize(
    "spec, expected",
    [(0.25, 3), (5, 5), ([0, 2, 4], [0, 2, 4]), (("a",), [0, 1, 2, 3, 4, 5])],
)
def test_selected_columns(spec, expected):
    X, Y, _ = _toy()
    frame = pd.DataFrame(X, columns=[f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)])
    model = _tiny(TwoHeadResNetClassifier, selected_columns=spec).fit(frame, Y)
    if isinstance(expected, int):
        assert len(model.selected_columns_) == expected
        best = np.argsort(-t_test_scores(X, Y))[:expected]
        np.testing.assert_array_equal(model.selected_columns_, np.sort(best))
    else:
        np.testing.assert_array_equal(model.selected_columns_, expected)
    np.testing.assert_array_equal(model.network_.selected.numpy(), model.selected_columns_)


def test_frozen_body_keeps_its_weights_and_batch_statistics():
    from sklearn_moa.models._transfer_modules import TwoHeadResNet

    torch.manual_seed(0)
    net = TwoHeadResNet(6, [0, 3], 2, hidden_layer_sizes=(8, 4), tail_units=(4,)).freeze_body(True)
    body = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith(("tail", "output"))}
    tail = {k: v.clone() for k, v in net.state_dict().items() if k.startswith("tail")}
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.1)
    net.train()
    assert not net.head.training and net.tail.training
    for _ in range(3):
        optimizer.zero_grad()
        net(torch.randn(16, 6)).pow(2).mean().backward()
        optimizer.step()
    state = net.state_dict()
    assert all(torch.equal(state[k], v) for k, v in body.items())
    assert any(not torch.equal(state[k], v) for k, v in tail.items())
    net.freeze_body(False).train()
    assert net.head.training and all(p.requires_grad for p in net.parameters())


def test_pretraining_then_fresh_output_then_refinement_rounds():
    X, Y, Y_ns = _toy()
    model = _tiny(TwoHeadResNetClassifier, early_stopping=False, refine_rounds=2).fit(X, Y, Y_nonscored=Y_ns)
    assert model.pretrain_history_ is not None and len(model.pretrain_history_["loss"]) == 2
    assert model.network_.output.out_features == Y.shape[1]
    # Without a held-out set nothing can judge the phases: all four run and are kept.
    assert len(model.refine_histories_) == 4 and all(model.refine_improvements_)
    assert not model.network_.body_frozen


def test_refinement_keeps_a_phase_only_when_it_lowers_the_validation_loss():
    X, Y, Y_ns = _toy(n=300)
    params = dict(early_stopping=True, validation_fraction=0.3, epochs=3)
    plain = _tiny(TwoHeadResNetClassifier, refine_rounds=0, **params).fit(X, Y, Y_nonscored=Y_ns)
    refined = _tiny(TwoHeadResNetClassifier, refine_rounds=3, **params).fit(X, Y, Y_nonscored=Y_ns)
    assert plain.refine_histories_ == [] and len(refined.refine_histories_) >= 2
    # Each round has two phases; a round without improvement ends the loop.
    improvements = refined.refine_improvements_
    rounds = [improvements[i : i + 2] for i in range(0, len(improvements), 2)]
    assert all(any(r) for r in rounds[:-1])
    same = np.allclose(plain.predict_proba(X), refined.predict_proba(X))
    assert same == (not any(improvements))


def test_plateau_schedule_halves_the_rate_on_the_shared_base():
    rng = np.random.RandomState(0)
    X = rng.randn(150, 12)
    noise = (rng.rand(150, 3) < 0.3).astype(int)  # nothing to learn: the held-out loss soon stalls
    model = ResidualNNClassifier(
        hidden_layer_sizes=(64, 64), epochs=12, lr_schedule="plateau", learning_rate=1e-2, early_stopping=True,
        patience=20, batch_size=32, random_state=0,
    )
    torch.manual_seed(0)
    net = model._train(model._build_module(X.shape[1], 3), torch.from_numpy(X.astype(np.float32)), noise,
                       np.arange(120), np.arange(120, 150), 12)
    rates = net.history[:, "event_lr"]
    assert len(rates) == 12 and rates[0] == 1e-2
    assert 5e-3 in rates and all(a >= b for a, b in zip(rates, rates[1:]))


def test_model_zoo_entries_build():
    pytest.importorskip("sklearn_moa.preprocessing")
    from sklearn_moa.model_zoo import build_model

    quick = build_model("multistage_nn").estimator[-1]
    assert isinstance(quick, MultiStageNNClassifier)
    assert (quick.hidden_layer_sizes, quick.epochs, quick.pretrain_epochs) == ((256, 256), 10, 8)
    # 5 inner folds, stratified, drug-aware whenever fit gets the drug ids
    assert isinstance(quick.cv, MoAStratifiedKFold) and quick.cv.get_n_splits() == 5
    # Full: the quick networks averaged over 3 seeds (the source's 2048-wide
    # ones overfit; benchmarks/README.md, criterion 4).
    full = build_model("multistage_nn", full=True, random_state=5).estimator[-1]
    assert isinstance(full, SeedAveragedClassifier) and (full.seeds, full.random_state) == (3, 5)
    def settings(model):
        return {k: v for k, v in model.get_params(deep=False).items() if k not in ("cv", "random_state")}
    assert settings(full.estimator) == settings(quick)
    assert isinstance(build_model("two_head_resnet").estimator[-1], TwoHeadResNetClassifier)
    # Full: the source's network averaged over 3 seeds (one full-size fit is
    # seed-unstable; benchmarks/README.md, criterion 4).
    full = build_model("two_head_resnet", full=True, random_state=5).estimator[-1]
    assert isinstance(full, SeedAveragedClassifier) and (full.seeds, full.random_state) == (3, 5)
    assert isinstance(full.estimator, TwoHeadResNetClassifier) and full.estimator.epochs == 50


_TINY_NETWORKS = {
    "two_head_resnet": dict(epochs=1, refine_rounds=0, hidden_layer_sizes=(16, 8), tail_units=(8, 8)),
    "multistage_nn": dict(epochs=1, pretrain_epochs=1, hidden_layer_sizes=(16, 16),
                          stage3_hidden_layer_sizes=(8, 8)),
}


def _pretrained(member):
    """Whether a fitted network learnt the non-scored targets first."""
    if isinstance(member, MultiStageNNClassifier):
        return member.stages_[0].name == "nonscored"
    return bool(member.pretrain_history_)


@pytest.mark.parametrize("name", sorted(_TINY_NETWORKS))
def test_full_seed_averaged_models_hand_the_cli_fit_params_to_every_seed(name):
    from sklearn_moa.cli._zoo import drug_fit_params, nonscored_fit_params
    from sklearn_moa.model_zoo import build_model

    data = make_moa(240, n_test_samples=0, random_state=0)
    model = build_model(name, full=True, random_state=0)
    model.set_params(**{f"estimator__seedaveragedclassifier__estimator__{key}": value
                        for key, value in _TINY_NETWORKS[name].items()})
    fit_params = {**drug_fit_params(model, data.drugs.to_numpy()),
                  **nonscored_fit_params(model, data.nonscored_targets)}
    assert sorted(fit_params) == ["seedaveragedclassifier__Y_nonscored", "seedaveragedclassifier__groups"]
    model.fit(data.features, data.targets, **fit_params)
    members = model.estimator_.steps[-1][1].estimators_
    assert len({member.random_state for member in members}) == 3
    # Each member got the fit parameters: it pretrained on the non-scored targets.
    assert all(_pretrained(member) for member in members)


# --- command line -----------------------------------------------------------


class _DrugAwarePrior(PriorClassifier):
    """A prior whose fit takes the non-scored targets and the drug ids, and records them."""

    def fit(self, X, Y, Y_nonscored=None, groups=None):
        super().fit(X, Y)
        self.seen_ = (None if Y_nonscored is None else np.shape(Y_nonscored),
                      None if groups is None else len(np.unique(groups)))
        return self


def test_train_command_hands_nonscored_targets_and_drug_ids_to_the_model(monkeypatch, tmp_path):
    """``sklearn-moa train --pretrain`` reaches a model whose fit takes Y_nonscored and groups."""
    from sklearn.compose import make_column_transformer

    from sklearn_moa.cli import main
    from sklearn_moa.model_zoo import MODEL_ZOO, ModelSpec
    def build(full, random_state):
        return ControlAwareClassifier(make_pipeline(
            make_column_transformer(("passthrough", ["cp_time"])), _DrugAwarePrior()))

    # The test's prior is a class of this module, which the safe model format
    # refuses: the fitted model is caught where train would save it.
    saved = {}
    monkeypatch.setattr("sklearn_moa.cli._train.check_saveable", lambda model, path: None)
    monkeypatch.setattr("sklearn_moa.cli._train.save_model",
                        lambda model, path, **kwargs: saved.update(model=model, **kwargs) or "0" * 64)
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO",
                        dict(MODEL_ZOO, drugaware=ModelSpec("drugaware", "test", None, (), build)))
    data = make_moa(300, n_test_samples=10, random_state=0)
    for name, frame in [("train_features", data.features), ("train_targets_scored", data.targets),
                        ("train_targets_nonscored", data.nonscored_targets),
                        ("train_drug", data.drugs.to_frame()), ("test_features", data.test_features)]:
        frame.to_csv(tmp_path / f"{name}.csv")
    treated = (data.features.cp_type == "trt_cp").to_numpy()
    for flags, expected_nonscored in [(["--pretrain"], (int(treated.sum()), 402)), ([], None)]:
        path = tmp_path / "m.skmoa"
        assert main(["train", "--data", str(tmp_path), "--model", "drugaware", "--out", str(path),
                     "--quiet", *flags]) == 0
        seen = saved["model"].estimator_.steps[-1][1].seen_
        assert seen == (expected_nonscored, len(np.unique(data.drugs[treated])))
        assert saved["extra"]["pretrained"] is bool(flags)


def test_cli_finds_the_fit_parameters_the_suite_models_declare():
    """The suite's models take ``**fit_params`` and declare Y_nonscored and groups for routing."""
    from sklearn_moa.cli._zoo import drug_fit_params, nonscored_fit_params
    from sklearn_moa.model_zoo import build_model

    for name in ("residual_nn", "multistage_nn", "two_head_resnet"):
        model = build_model(name)
        step = model.estimator.steps[-1][0]
        assert nonscored_fit_params(model, "Y_ns") == {f"{step}__Y_nonscored": "Y_ns"}
        assert drug_fit_params(model, "drugs") == {f"{step}__groups": "drugs"}
    assert nonscored_fit_params(build_model("logistic"), "Y_ns") == {}
    assert drug_fit_params(build_model("residual_nn"), None) == {}
