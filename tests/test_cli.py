"""The sklearn-moa command: models, benchmark, train, predict, and its one-line errors."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sklearn_moa import __version__
from sklearn_moa.cli import ModelFileError, load_model, main, save_model
from sklearn_moa.cli import _persistence
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_zoo import MODEL_ZOO
from sklearn_moa.models import PriorClassifier


@pytest.fixture(scope="module")
def data():
    return make_moa(400, n_test_samples=80, random_state=0)


@pytest.fixture(scope="module")
def kaggle_dir(data, tmp_path_factory):
    """A Kaggle-layout folder of tiny synthetic data."""
    folder = tmp_path_factory.mktemp("lish-moa")
    data.features.to_csv(folder / "train_features.csv")
    data.targets.to_csv(folder / "train_targets_scored.csv")
    data.nonscored_targets.to_csv(folder / "train_targets_nonscored.csv")
    data.drugs.to_frame().to_csv(folder / "train_drug.csv")
    data.test_features.to_csv(folder / "test_features.csv")
    return folder


@pytest.fixture(scope="module")
def prior_model_file(kaggle_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "prior.skmoa"
    assert main(["train", "--data", str(kaggle_dir), "--model", "prior", "--out", str(path),
                 "--quiet"]) == 0
    return path


@pytest.fixture
def no_charts(monkeypatch):
    """Skip the (slow) matplotlib charts where a test does not look at them."""
    monkeypatch.setattr("sklearn_moa.cli._reports._charts_available", lambda: False)


def run_error(capsys, argv):
    """Run the command expecting a user error; return its one stderr line."""
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse errors leave through SystemExit
        status = exit_.code
    assert status == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sklearn-moa: error: ")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


# --------------------------------------------------------------------------- models


def test_models_lists_every_zoo_entry_with_extra_and_install_state(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:3] == ["model", "extra", "installed"]
    listed = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert set(listed) == set(MODEL_ZOO)
    assert listed["prior"] == ["-", "yes"]
    for name, spec in MODEL_ZOO.items():
        assert listed[name][1] == ("yes" if spec.available() else "no")


# --------------------------------------------------------------------------- benchmark


def test_benchmark_on_a_kaggle_folder_writes_every_report(kaggle_dir, data, tmp_path, capsys):
    out = tmp_path / "results"
    status = main(["benchmark", "--data", str(kaggle_dir), "--models", "prior", "--folds", "3",
                   "--quiet", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "400 rows, 206 targets, drug ids" in printed
    assert "3-fold drug-aware CV" in printed
    header = next(line for line in printed.splitlines() if "OOF log loss" in line and "model" in line)
    assert "fold log loss mean" in header and "fit time (s)" in header

    table = pd.read_csv(out / "comparison.csv", index_col="model")
    assert list(table.index) == ["prior"]
    assert table.loc["prior", "n_folds"] == 3
    assert 0 < table.loc["prior", "oof_log_loss"] < 0.1
    report = json.loads((out / "comparison.json").read_text())
    assert report["run"]["drug_aware"] is True and report["run"]["folds"] == 3
    assert report["models"][0]["model"] == "prior"
    assert report["models"][0]["oof_log_loss"] == pytest.approx(table.loc["prior", "oof_log_loss"])

    oof = np.load(out / "oof_predictions.npz")
    assert oof["oof__prior"].shape == (400, 206)
    assert list(oof["sig_id"]) == list(data.features.index)
    assert list(oof["target_names"]) == data.target_names
    per_target = pd.read_csv(out / "per_target_log_loss.csv", index_col="target")
    assert per_target.shape == (206, 1)
    # The mean of the per-target losses is the competition metric.
    assert per_target["prior"].mean() == pytest.approx(table.loc["prior", "oof_log_loss"])
    for chart in ("comparison.png", "per_target_log_loss.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_benchmark_defaults_to_synthetic_data_and_every_installed_model(tmp_path, capsys,
                                                                         monkeypatch, no_charts):
    # Only the fast model, so that the test does not depend on which extras are installed.
    monkeypatch.setattr("sklearn_moa.cli._zoo.MODEL_ZOO", {"prior": MODEL_ZOO["prior"]})
    out = tmp_path / "res"
    assert main(["benchmark", "--samples", "300", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "built-in synthetic data (make_moa): 300 rows" in printed
    assert "charts skipped: matplotlib is missing" in printed
    assert (out / "comparison.csv").exists() and not (out / "comparison.png").exists()


def test_benchmark_progress_bars_go_to_stderr_and_quiet_removes_them(kaggle_dir, tmp_path, capsys,
                                                                     no_charts):
    argv = ["benchmark", "--data", str(kaggle_dir), "--models", "prior", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "cross-validation" in capsys.readouterr().err
    assert main(argv + ["--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_a_failing_model_is_reported_and_the_others_still_run(kaggle_dir, tmp_path, capsys,
                                                               monkeypatch, no_charts):
    from sklearn_moa.model_zoo import ModelSpec

    class Broken:
        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

        def fit(self, X, Y):
            raise RuntimeError("boom")

    zoo = dict(MODEL_ZOO, broken=ModelSpec("broken", "always fails", None, (), lambda f, r: Broken()))
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO", zoo)
    status = main(["benchmark", "--data", str(kaggle_dir), "--models", "broken,prior", "--quiet",
                   "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1
    assert "model 'broken' failed: RuntimeError: boom" in captured.out
    assert list(pd.read_csv(tmp_path / "comparison.csv")["model"]) == ["prior"]
    assert json.loads((tmp_path / "comparison.json").read_text())["run"]["failed"] == {
        "broken": "RuntimeError: boom"}


def test_benchmark_resumes_finished_folds_from_a_checkpoint_dir(kaggle_dir, tmp_path, capsys,
                                                                 no_charts):
    argv = ["benchmark", "--data", str(kaggle_dir), "--models", "prior", "--quiet",
            "--out", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path / "ckpt")]
    assert main(argv) == 0
    first = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert "resumed" not in capsys.readouterr().out
    assert main(argv) == 0
    assert "prior: 3 of 3 folds resumed" in capsys.readouterr().out
    again = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert again["oof_log_loss"].tolist() == first["oof_log_loss"].tolist()


def test_threads_per_fold_shares_the_cores_among_parallel_folds(monkeypatch):
    from sklearn_moa.cli._benchmark import threads_per_fold

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert threads_per_fold(None) is None and threads_per_fold(1) is None
    assert threads_per_fold(2) == 4
    assert threads_per_fold(-1) == 1
    assert threads_per_fold(16) == 1


# --------------------------------------------------------------------------- train / predict


def test_train_then_predict_writes_a_kaggle_submission(prior_model_file, kaggle_dir, data,
                                                      tmp_path, capsys):
    saved = load_model(prior_model_file)
    assert saved.model_name == "prior"
    assert saved.target_names == data.target_names
    assert saved.feature_columns == list(data.features.columns)
    assert saved.metadata["sklearn_moa_version"] == __version__

    out = tmp_path / "submission.csv"
    assert main(["predict", "--model", str(prior_model_file), "--data", str(kaggle_dir),
                 "--out", str(out)]) == 0
    submission = pd.read_csv(out)
    assert list(submission.columns) == ["sig_id", *data.target_names]
    assert list(submission["sig_id"]) == list(data.test_features.index)
    values = submission[data.target_names].to_numpy()
    control = (data.test_features["cp_type"] == "ctl_vehicle").to_numpy()
    assert control.any() and (~control).any()
    assert (values[control] == 0).all()
    assert ((values[~control] > 0) & (values[~control] < 1)).all()
    expected = saved.estimator.predict_proba(data.test_features)[~control]
    np.testing.assert_allclose(values[~control], expected, rtol=1e-6)


def test_train_with_folds_reports_oof_and_predicts_the_fold_average(kaggle_dir, data, tmp_path,
                                                                    capsys):
    path = tmp_path / "prior-cv.skmoa"
    assert main(["train", "--data", str(kaggle_dir), "--model", "prior", "--out", str(path),
                 "--folds", "3", "--quiet"]) == 0
    assert "3-fold OOF log loss" in capsys.readouterr().out
    saved = load_model(path)
    assert len(saved.estimator.estimators_) == 3
    assert saved.metadata["extra"]["folds"] == 3
    assert 0 < saved.metadata["extra"]["oof_log_loss"] < 0.1
    X = data.test_features
    average = np.mean([m.predict_proba(X) for m in saved.estimator.estimators_], axis=0)
    np.testing.assert_allclose(saved.estimator.predict_proba(X), average)


def test_train_with_folds_resumes_from_a_checkpoint_dir(kaggle_dir, tmp_path, capsys):
    argv = ["train", "--data", str(kaggle_dir), "--model", "prior", "--folds", "3", "--quiet",
            "--out", str(tmp_path / "m.skmoa"), "--checkpoint-dir", str(tmp_path / "ckpt")]
    assert main(argv) == 0
    first = load_model(tmp_path / "m.skmoa").metadata["extra"]["fold_log_loss"]
    assert main(argv) == 0
    saved = load_model(tmp_path / "m.skmoa")
    assert saved.metadata["extra"]["fold_log_loss"] == first
    assert len(saved.estimator.estimators_) == 3


def test_predict_needs_only_test_features(prior_model_file, data, tmp_path):
    (tmp_path / "in").mkdir()
    data.test_features.to_csv(tmp_path / "in" / "test_features.csv")
    assert main(["predict", "--model", str(prior_model_file), "--data", str(tmp_path / "in"),
                 "--out", str(tmp_path / "s.csv")]) == 0


class _PretrainingPrior(PriorClassifier):
    """A prior model that records the non-scored matrix it is given."""

    def fit(self, X, Y, Y_nonscored=None):
        super().fit(X, Y)
        self.nonscored_shape_ = None if Y_nonscored is None else np.shape(Y_nonscored)
        return self


@pytest.fixture
def pretraining_zoo(monkeypatch):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    from sklearn_moa.model_zoo import ModelSpec
    from sklearn_moa.models import ControlAwareClassifier

    def build(full, random_state):
        return ControlAwareClassifier(make_pipeline(
            make_column_transformer(("passthrough", ["cp_time"])), _PretrainingPrior()))

    spec = ModelSpec("pretrainer", "test model", None, (), build)
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO", dict(MODEL_ZOO, pretrainer=spec))


def test_pretrain_hands_the_nonscored_targets_to_the_model(pretraining_zoo, kaggle_dir, data,
                                                          tmp_path, capsys):
    path = tmp_path / "m.skmoa"
    assert main(["train", "--data", str(kaggle_dir), "--model", "pretrainer", "--out", str(path),
                 "--pretrain", "--quiet"]) == 0
    saved = load_model(path)
    n_treated = int((data.features["cp_type"] == "trt_cp").sum())
    final = saved.estimator.estimator_.steps[-1][1]
    assert final.nonscored_shape_ == (n_treated, data.nonscored_targets.shape[1])
    assert saved.metadata["extra"]["pretrained"] is True
    # Without the flag, the model never sees them.
    assert main(["train", "--data", str(kaggle_dir), "--model", "pretrainer", "--out", str(path),
                 "--quiet"]) == 0
    assert load_model(path).estimator.estimator_.steps[-1][1].nonscored_shape_ is None


def test_pretrain_in_benchmark_is_recorded(pretraining_zoo, kaggle_dir, tmp_path, capsys,
                                           no_charts):
    assert main(["benchmark", "--data", str(kaggle_dir), "--models", "pretrainer,prior",
                 "--pretrain", "--quiet", "--out", str(tmp_path)]) == 0
    assert "pretrainer: pretraining on 402 non-scored targets" in capsys.readouterr().out
    run = json.loads((tmp_path / "comparison.json").read_text())["run"]
    assert run["pretrained_on_nonscored"] == ["pretrainer"]


def test_pretrain_errors_are_one_line(pretraining_zoo, capsys, kaggle_dir, tmp_path):
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "prior",
                              "--out", str(tmp_path / "m.skmoa"), "--pretrain"])
    assert "does not pretrain" in line
    for name in ("train_features.csv", "train_targets_scored.csv"):
        (tmp_path / name).write_bytes((kaggle_dir / name).read_bytes())
    line = run_error(capsys, ["train", "--data", str(tmp_path), "--model", "pretrainer",
                              "--out", str(tmp_path / "m.skmoa"), "--pretrain"])
    assert "train_targets_nonscored.csv" in line


# --------------------------------------------------------------------------- model files


def test_model_file_round_trip_and_checksum_sidecar(tmp_path, data):
    from sklearn_moa.model_zoo import build_model

    model = build_model("prior").fit(data.features, data.targets)
    path = tmp_path / "m.skmoa"
    digest = save_model(model, path, model_name="prior", target_names=data.target_names)
    sidecar = (tmp_path / "m.skmoa.sha256").read_text().split()
    assert sidecar == [digest, "m.skmoa"]
    loaded = load_model(path)
    assert loaded.sha256 == digest
    np.testing.assert_array_equal(loaded.estimator.predict_proba(data.features),
                                  model.predict_proba(data.features))
    # An explicit hash replaces the sidecar.
    os.remove(tmp_path / "m.skmoa.sha256")
    assert load_model(path, sha256=digest.upper()).model_name == "prior"
    with pytest.raises(ModelFileError, match="no checksum file"):
        load_model(path)


def test_a_changed_model_file_is_refused_before_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "m.skmoa"
    save_model({"weights": [1, 2, 3]}, path)
    content = path.read_bytes()
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    unpickled = []
    monkeypatch.setattr(_persistence.pickle, "loads", lambda *a: unpickled.append(a))
    with pytest.raises(ModelFileError, match="does not match m.skmoa.sha256"):
        load_model(path)
    assert unpickled == []


# --------------------------------------------------------------------------- one-line errors


def test_bad_data_folder_is_one_line(capsys, tmp_path):
    line = run_error(capsys, ["benchmark", "--data", str(tmp_path / "nope"), "--models", "prior",
                              "--quiet", "--out", str(tmp_path)])
    assert "does not exist or is not a folder" in line


def test_missing_file_is_one_line(capsys, tmp_path, data):
    data.features.to_csv(tmp_path / "train_features.csv")
    line = run_error(capsys, ["train", "--data", str(tmp_path), "--model", "prior",
                              "--out", str(tmp_path / "m.skmoa")])
    assert "train_targets_scored.csv is required" in line
    line = run_error(capsys, ["predict", "--model", str(tmp_path / "none.skmoa"),
                              "--data", str(tmp_path)])
    assert "does not exist" in line


def test_missing_test_features_is_one_line(capsys, prior_model_file, tmp_path):
    line = run_error(capsys, ["predict", "--model", str(prior_model_file), "--data", str(tmp_path)])
    assert "test_features.csv is required" in line


def test_unknown_model_is_one_line(capsys, kaggle_dir, tmp_path):
    line = run_error(capsys, ["benchmark", "--models", "prior,nosuchmodel", "--quiet",
                              "--out", str(tmp_path)])
    assert "nosuchmodel" in line and "prior" in line
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "nosuchmodel",
                              "--out", str(tmp_path / "m.skmoa")])
    assert "nosuchmodel" in line


def test_missing_extra_is_one_line_naming_it(capsys, tmp_path, monkeypatch):
    from sklearn_moa.model_zoo import ModelSpec

    spec = ModelSpec("ghost", "needs a missing framework", "ghost", ("no_such_module_xyz",),
                     lambda full, random_state: None)
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO", dict(MODEL_ZOO, ghost=spec))
    line = run_error(capsys, ["benchmark", "--models", "ghost", "--quiet", "--out", str(tmp_path)])
    assert "sklearn-moa[ghost]" in line


def test_model_file_from_another_version_is_one_line(capsys, kaggle_dir, tmp_path, monkeypatch):
    path = tmp_path / "old.skmoa"
    monkeypatch.setattr(_persistence, "__version__", "0.0.1")
    save_model({"not": "a model"}, path, target_names=["a"])
    monkeypatch.undo()
    line = run_error(capsys, ["predict", "--model", str(path), "--data", str(kaggle_dir),
                              "--out", str(tmp_path / "s.csv")])
    assert "saved by sklearn-moa 0.0.1" in line and f"this is sklearn-moa {__version__}" in line


def test_a_model_file_without_a_model_is_one_line(capsys, kaggle_dir, tmp_path):
    save_model({"weights": [1]}, tmp_path / "w.skmoa", target_names=["a"])
    line = run_error(capsys, ["predict", "--model", str(tmp_path / "w.skmoa"),
                              "--data", str(kaggle_dir), "--out", str(tmp_path / "s.csv")])
    assert "holds a dict, which has no predict_proba" in line


def test_not_a_model_file_is_one_line(capsys, kaggle_dir, tmp_path):
    import pickle

    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    line = run_error(capsys, ["predict", "--model", str(path), "--data", str(kaggle_dir)])
    assert "is not a sklearn-moa model file" in line


def test_checkpoint_dir_without_folds_is_one_line(capsys, kaggle_dir, tmp_path):
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "prior",
                              "--out", str(tmp_path / "m.skmoa"), "--checkpoint-dir", str(tmp_path)])
    assert "--checkpoint-dir needs --folds" in line


def test_bad_option_is_one_line(capsys):
    line = run_error(capsys, ["benchmark", "--folds", "three"])
    assert "invalid int value" in line
    line = run_error(capsys, ["benchmark", "--folds", "1", "--models", "prior"])
    assert "--folds must be at least 2" in line


def test_the_command_in_a_real_process_fails_with_one_line_and_status_2(tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "sklearn_moa.cli", "predict", "--model", str(tmp_path / "m.skmoa"),
         "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"sklearn-moa: error: Model file {tmp_path / 'm.skmoa'} does not exist."]


def test_traceback_flag_re_raises(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        main(["--traceback", "train", "--data", str(tmp_path / "nope"), "--model", "prior",
              "--out", str(tmp_path / "m.skmoa")])
