"""The winners' blend from the command line: `blend --results`, `train --weights`, resuming."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline

from sklearn_moa.cli import load_model, main
from sklearn_moa.datasets import make_moa
from sklearn_moa.ensemble import BlendedMoAClassifier, optimize_blend_weights
from sklearn_moa.model_zoo import MODEL_ZOO, ModelSpec, build_winners_blend
from sklearn_moa.models import ControlAwareClassifier, LogisticMoAClassifier, PriorClassifier


def _prior(smoothing):
    def build(full, random_state):
        return ControlAwareClassifier(make_pipeline(
            make_column_transformer(("passthrough", ["cp_time"])), PriorClassifier(smoothing=smoothing)
        ))
    return build


def _linear(full, random_state):
    return ControlAwareClassifier(make_pipeline(
        make_column_transformer(("passthrough", [f"g-{i}" for i in range(10)])),
        LogisticMoAClassifier(C=0.05, max_iter=50),
    ))


@pytest.fixture
def fast_zoo(monkeypatch):
    """Two fast members that blend to something better than either."""
    zoo = dict(
        MODEL_ZOO,
        sharp=ModelSpec("sharp", "prior, little smoothing", None, (), _prior(0.01)),
        smooth=ModelSpec("smooth", "logistic on 10 columns", None, (), _linear),
        winners_blend=ModelSpec("winners_blend", "blend", None, (), MODEL_ZOO["winners_blend"].build,
                                default=False),
    )
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO", zoo)
    monkeypatch.setattr("sklearn_moa.cli._zoo.MODEL_ZOO", zoo)
    monkeypatch.setattr("sklearn_moa.model_zoo.WINNERS_BLEND_MEMBERS", ("sharp", "smooth"))
    return zoo


@pytest.fixture(scope="module")
def kaggle_dir(tmp_path_factory):
    data = make_moa(300, n_test_samples=60, random_state=0)
    folder = tmp_path_factory.mktemp("lish-moa")
    data.features.to_csv(folder / "train_features.csv")
    data.targets.to_csv(folder / "train_targets_scored.csv")
    data.drugs.to_frame().to_csv(folder / "train_drug.csv")
    data.test_features.to_csv(folder / "test_features.csv")
    return folder


def test_winners_blend_is_built_from_the_member_list_and_left_out_of_default_runs():
    assert not MODEL_ZOO["winners_blend"].default
    blend = build_winners_blend(["residual_nn", "deep_cnn"], full=True, random_state=3)
    assert isinstance(blend, BlendedMoAClassifier) and blend.cv == 5
    assert [name for name, _ in blend.estimators] == ["residual_nn", "deep_cnn"]
    with pytest.raises(ValueError, match="unknown: \\['nope'\\]"):
        build_winners_blend(["residual_nn", "nope"])


def test_blend_prints_and_writes_the_optimal_weights_of_a_benchmark(fast_zoo, kaggle_dir, tmp_path,
                                                                    capsys, monkeypatch):
    monkeypatch.setattr("sklearn_moa.cli._reports._charts_available", lambda: False)
    results = tmp_path / "bench"
    assert main(["benchmark", "--data", str(kaggle_dir), "--models", "sharp,smooth", "--quiet",
                 "--out", str(results)]) == 0
    capsys.readouterr()
    assert main(["blend", "--results", str(results)]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((results / "blend_weights.json").read_text())
    weights = saved["weights"]
    assert set(weights) == {"sharp", "smooth"} and sum(weights.values()) == pytest.approx(1)
    assert all(0 <= w <= 1 for w in weights.values())
    assert saved["blend_oof_log_loss"] <= min(saved["oof_log_loss"].values()) + 1e-12
    assert "blend" in printed and f"{weights['sharp']:.3f}" in printed

    # The same weights as optimize_blend_weights on the stored OOF matrices.
    stored = np.load(results / "oof_predictions.npz")
    Y = pd.read_csv(kaggle_dir / "train_targets_scored.csv", index_col="sig_id").loc[stored["sig_id"]]
    expected = optimize_blend_weights(
        {name: stored[f"oof__{name}"].astype(float) for name in ("sharp", "smooth")}, Y.to_numpy())
    np.testing.assert_allclose([weights["sharp"], weights["smooth"]], expected, atol=1e-6)

    # train reuses them: no inner CV, one model file predicting the blend.
    model_path = tmp_path / "blend.skmoa"
    assert main(["train", "--data", str(kaggle_dir), "--model", "winners_blend", "--weights",
                 str(results / "blend_weights.json"), "--out", str(model_path), "--quiet"]) == 0
    blend = load_model(model_path).estimator
    assert isinstance(blend, BlendedMoAClassifier) and not hasattr(blend, "member_cv_results_")
    np.testing.assert_allclose(blend.weights_, expected, atol=1e-6)
    X = pd.read_csv(kaggle_dir / "train_features.csv", index_col="sig_id")
    sharp, smooth = (m.fit(X, Y.loc[X.index]) for m in (_prior(0.01)(0, 0), _linear(0, 0)))
    np.testing.assert_allclose(
        blend.predict_proba(X[:20]),
        expected[0] * sharp.predict_proba(X[:20]) + expected[1] * smooth.predict_proba(X[:20]),
    )
    # predict writes the blend's submission.
    submission = tmp_path / "submission.csv"
    assert main(["predict", "--model", str(model_path), "--data", str(kaggle_dir),
                 "--out", str(submission)]) == 0
    written = pd.read_csv(submission, index_col="sig_id")
    test = pd.read_csv(kaggle_dir / "test_features.csv", index_col="sig_id")
    treated = (test["cp_type"] == "trt_cp").to_numpy()
    np.testing.assert_allclose(written.to_numpy()[treated], blend.predict_proba(test)[treated], atol=1e-6)


def test_train_winners_blend_learns_weights_drug_aware_and_resumes(fast_zoo, kaggle_dir, tmp_path,
                                                                   capsys):
    argv = ["train", "--data", str(kaggle_dir), "--model", "winners_blend", "--quiet",
            "--checkpoint-dir", str(tmp_path / "ckpt")]
    assert main(argv + ["--out", str(tmp_path / "a.skmoa")]) == 0
    first = load_model(tmp_path / "a.skmoa").estimator
    assert all("DrugMultilabelStratifiedKFold" in r.cv for r in first.member_cv_results_.values())
    runs = [p.name for p in (tmp_path / "ckpt").iterdir() if p.is_dir()]
    # Inner folds of each member, and the refit of each member with a positive weight.
    refits = sorted(name.split("-")[0] for name in runs if "-refit-" in name)
    assert sorted(name.split("-")[0] for name in runs if "-refit-" not in name) == ["sharp", "smooth"]
    assert refits == [name for name, w in zip(["sharp", "smooth"], first.weights_) if w > 0]
    assert main(argv + ["--out", str(tmp_path / "b.skmoa")]) == 0
    second = load_model(tmp_path / "b.skmoa").estimator
    assert all(r.resumed.all() for r in second.member_cv_results_.values())
    np.testing.assert_array_equal(first.weights_, second.weights_)


def test_blend_errors_are_one_line(fast_zoo, kaggle_dir, tmp_path, capsys):
    def error(argv):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("sklearn-moa: error: ")
        return err[0]

    assert "not found" in error(["blend", "--results", str(tmp_path)])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "sklearn-moa blend weights", "weights": {"sharp": -1}}))
    base = ["train", "--data", str(kaggle_dir), "--out", str(tmp_path / "m.skmoa"), "--quiet"]
    assert "non-negative" in error(base + ["--model", "winners_blend", "--weights", str(bad)])
    assert "winners_blend" in error(base + ["--model", "prior", "--weights", str(bad)])
    bad.write_text("not json")
    assert "not a blend weights file" in error(base + ["--model", "winners_blend", "--weights", str(bad)])
