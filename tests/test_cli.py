"""The sklearn-moa command: models, benchmark, train, predict, and its one-line errors."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sklearn_moa import __version__
from sklearn_moa.cli import ModelFileError, load_model, main, save_model
from sklearn_moa import _safe_state
from sklearn_moa.cli import _persistence
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_zoo import MODEL_ZOO
from sklearn_moa.models import PriorClassifier

from .conftest import write_kaggle_files


@pytest.fixture(scope="module")
def data():
    return make_moa(400, n_test_samples=80, random_state=0)


@pytest.fixture(scope="module")
def kaggle_dir(data, tmp_path_factory):
    """A Kaggle-layout folder of tiny synthetic data."""
    return write_kaggle_files(data, tmp_path_factory.mktemp("lish-moa"))


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
    for chart in ("comparison.png", "per_target_gain.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # What the result depends on besides its settings, in the JSON and in run.csv.
    run = report["run"]
    assert run["command"].startswith("sklearn-moa benchmark --data ")
    assert run["cv"].startswith("DrugMultilabelStratifiedKFold(") and "n_splits=3" in run["cv"]
    for package in ("sklearn-moa", "scikit-learn", "numpy", "pandas", "python"):
        assert run["versions"][package]
    assert run["versions"]["sklearn-moa"] == __version__
    assert run["machine"]["cpu_count"] == os.cpu_count() and run["machine"]["cpus_usable"] >= 1
    assert isinstance(run["machine"]["gpus"], list)
    flat = pd.read_csv(out / "run.csv", index_col="key")["value"]
    assert flat["versions.scikit-learn"] == run["versions"]["scikit-learn"]
    assert flat["cv"] == run["cv"] and flat["command"] == run["command"]


def test_benchmark_defaults_to_synthetic_data_and_the_default_models(tmp_path, capsys,
                                                                    monkeypatch, no_charts):
    # Only the fast model, so that the test does not depend on which extras are installed.
    monkeypatch.setattr("sklearn_moa.cli._benchmark.DEFAULT_MODELS", ("prior",))
    out = tmp_path / "res"
    assert main(["benchmark", "--samples", "300", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "built-in synthetic data (make_moa): 300 rows" in printed
    assert "1 model(s)" in printed
    assert "charts skipped: matplotlib is missing" in printed
    assert (out / "comparison.csv").exists() and not (out / "comparison.png").exists()
    assert (out / "report.html").exists()


def test_default_model_list_leaves_out_new_and_missing_models_and_all_takes_every_one(monkeypatch):
    from sklearn_moa.cli._benchmark import DEFAULT_MODELS, chosen_models
    from sklearn_moa.model_zoo import ModelSpec

    assert set(DEFAULT_MODELS) <= set(MODEL_ZOO)
    missing = ModelSpec("ghost", "needs a missing module", "ghost", ("no_such_module_xyz",),
                        lambda f, r: None)
    new = ModelSpec("newcomer", "a model added later", None, (), lambda f, r: None)
    zoo = dict(MODEL_ZOO, ghost=missing, newcomer=new)
    monkeypatch.setattr("sklearn_moa.cli._benchmark.MODEL_ZOO", zoo)
    monkeypatch.setattr("sklearn_moa.cli._benchmark.DEFAULT_MODELS", ("prior", "ghost"))
    assert chosen_models(None) == "prior"
    assert chosen_models("all") is None and chosen_models(" ALL ") is None
    assert chosen_models("newcomer,prior") == "newcomer,prior"


def test_benchmark_progress_bars_go_to_stderr_and_quiet_removes_them(kaggle_dir, tmp_path, capsys,
                                                                     no_charts):
    argv = ["benchmark", "--data", str(kaggle_dir), "--models", "prior", "--out", str(tmp_path)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "prior" in captured.err and "fold" in captured.err  # the model's bar
    assert "prior: OOF log loss" in captured.out
    assert main(argv + ["--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "prior: OOF log loss" in captured.out


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
    # Model files create only allow-listed classes; this test class joins the list.
    monkeypatch.setattr("sklearn_moa._safe_state._EXTRA_CLASSES",
                        {f"{__name__}:_PretrainingPrior", *_safe_state._EXTRA_CLASSES})


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
    # An explicit hash replaces the sidecar; a safe-format file loads without one.
    assert load_model(path, sha256=digest.upper()).model_name == "prior"
    os.remove(tmp_path / "m.skmoa.sha256")
    assert load_model(path).model_name == "prior"
    with pytest.raises(ModelFileError, match="does not match the given sha256"):
        load_model(path, sha256="0" * 64)


def test_a_changed_model_file_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "m.skmoa"
    save_model({"weights": [1, 2, 3]}, path)
    content = path.read_bytes()
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    decoded = []
    monkeypatch.setattr(_persistence, "load_state", lambda *a: decoded.append(a))
    with pytest.raises(ModelFileError, match="does not match m.skmoa.sha256"):
        load_model(path)
    assert decoded == []


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


def test_train_refuses_to_save_a_model_that_predicts_nan(monkeypatch, capsys, kaggle_dir, tmp_path):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    from sklearn_moa.model_zoo import ModelSpec
    from sklearn_moa.models import ControlAwareClassifier

    def build(full, random_state):
        return ControlAwareClassifier(make_pipeline(
            make_column_transformer(("passthrough", ["cp_time"])), PriorClassifier()))

    # A fitted model that predicts NaN, as a diverged network would; patched on
    # the class (not a subclass here) so that the safe model format accepts it
    # and the check that fails is the NaN one.
    prior_proba = PriorClassifier.predict_proba
    monkeypatch.setattr(PriorClassifier, "predict_proba",
                        lambda self, X: np.full_like(prior_proba(self, X), np.nan))
    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO",
                        dict(MODEL_ZOO, nan_model=ModelSpec("nan_model", "test model", None, (), build)))
    path = tmp_path / "m.skmoa"
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "nan_model",
                              "--out", str(path), "--quiet"])
    assert "the fitted nan_model predicts" in line and "not written" in line
    assert not path.exists()


# --------------------------------------------------------------------------- make-data, --version


def test_make_data_writes_a_kaggle_folder_that_train_and_predict_accept(tmp_path, capsys):
    from sklearn_moa.datasets import load_moa

    folder = tmp_path / "lish-moa"
    assert main(["make-data", str(folder), "--rows", "120", "--seed", "3"]) == 0
    assert "wrote 6 files" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "train_features.csv", "train_targets_scored.csv", "train_targets_nonscored.csv",
        "train_drug.csv", "test_features.csv", "sample_submission.csv"])
    # load_moa reads back exactly what the generator made.
    expected = make_moa(120, n_test_samples=60, random_state=3)
    loaded = load_moa(folder)
    pd.testing.assert_frame_equal(loaded.features, expected.features, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.targets, expected.targets, check_dtype=False)
    assert (loaded.drugs == expected.drugs).all()
    assert len(loaded.test_features) == 60

    model, submission = tmp_path / "prior.skmoa", tmp_path / "submission.csv"
    assert main(["train", "--data", str(folder), "--model", "prior", "--out", str(model),
                 "--quiet"]) == 0
    assert main(["predict", "--model", str(model), "--data", str(folder),
                 "--out", str(submission)]) == 0
    written = pd.read_csv(submission)
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert list(written.columns) == list(sample.columns)
    assert list(written["sig_id"]) == list(sample["sig_id"])
    assert (sample.drop(columns="sig_id").to_numpy() == 0.5).all()


def test_make_data_never_overwrites_and_checks_rows(tmp_path, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "train_features.csv").write_text("real data\n")
    line = run_error(capsys, ["make-data", str(folder), "--rows", "100"])
    assert "already holds train_features.csv" in line
    assert (folder / "train_features.csv").read_text() == "real data\n"
    line = run_error(capsys, ["make-data", str(tmp_path / "e"), "--rows", "10"])
    assert "--rows must be at least 60" in line


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"sklearn-moa {__version__}"


# --------------------------------------------------------------------------- output levels


@pytest.mark.parametrize("printed, postfix", [
    ("Epoch 3/10\n\x1b[1m1/2\x1b[0m \x1b[32m━━━━\x1b[0m 0s 5ms/step\r", "epoch 3/10"),  # Keras
    ("epoch 4  | loss: 0.48305 |  0:00:00s\n", "epoch 5/10"),                         # TabNet
    ("  epoch    train_loss     dur\n-------  ----\n      7        \x1b[36m0.1177\x1b[0m  0.0340\n",
     "epoch 7/10"),                                                                   # skorch
    ("[XGBMoAClassifier] target 11: 12 positives, 45 trees\n", "target 12"),         # XGBoost
])
def test_the_bar_shows_the_epoch_each_framework_prints_and_hides_the_text(printed, postfix,
                                                                          capsys):
    from sklearn_moa.cli._output import ModelProgress

    with ModelProgress("m", 2, quiet=False, verbose=False, n_epochs=10) as progress:
        print(printed, end="")
        assert progress._bar.postfix == postfix
        progress.fold_done()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "train_loss" not in captured.err and "positives" not in captured.err
    with ModelProgress("m", 2, quiet=False, verbose=True, n_epochs=10):
        print(printed, end="")
    assert capsys.readouterr().out == printed  # --verbose shows it as printed


def test_the_bar_shows_the_seed_before_the_epoch_of_a_seed_averaged_model(capsys):
    from sklearn_moa.cli._output import ModelProgress

    with ModelProgress("m", 1, quiet=False, verbose=False, n_epochs=10) as progress:
        print("[SeedAveragedClassifier] seed 2/3 (random_state=7)")
        assert progress._bar.postfix == "seed 2/3"
        print("      4        0.1177  0.0340")
        assert progress._bar.postfix == "seed 2/3, epoch 4/10"
    assert capsys.readouterr().out == ""


def test_a_seed_averaged_model_says_which_seed_it_fits(capsys):
    """The CLI turns on the seed lines of a seed-averaged zoo model with the epoch lines."""
    from sklearn_moa.cli._zoo import enable_epoch_progress
    from sklearn_moa.ensemble import SeedAveragedClassifier

    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), SeedAveragedClassifier(PriorClassifier(), seeds=[4, 5]))
    assert not enable_epoch_progress(model)  # the prior prints no epochs ...
    assert model[-1].verbose == 1  # ... but the seed-averaged model says which seed fits
    rng = np.random.RandomState(0)
    clone(model).fit(rng.randn(30, 3), rng.randint(2, size=(30, 2)))
    assert capsys.readouterr().out.splitlines() == [
        "[SeedAveragedClassifier] seed 1/2 (random_state=4)",
        "[SeedAveragedClassifier] seed 2/2 (random_state=5)",
    ]


def test_every_sub_command_takes_quiet_and_verbose(capsys):
    from sklearn_moa.cli._main import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"models", "benchmark", "train", "predict", "make-data", "blend"}
    for name, command in commands.items():
        options = {o for action in command._actions for o in action.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose"} <= options, name
    line = run_error(capsys, ["models", "--quiet", "--verbose"])
    assert "not allowed with argument" in line


def test_predict_takes_quiet(prior_model_file, kaggle_dir, tmp_path, capsys):
    assert main(["predict", "--model", str(prior_model_file), "--data", str(kaggle_dir),
                 "--out", str(tmp_path / "s.csv"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_tensorflow_startup_lines_are_dropped_and_everything_else_is_kept(tmp_path):
    import subprocess
    import sys

    script = (
        "import os, sys\n"
        "from sklearn_moa.cli._output import framework_startup_filter\n"
        "with framework_startup_filter():\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\\n')\n"
        "    os.write(2, b'I0000 00:00:1796232342.734912    7534 port.cc:153] oneDNN custom "
        "operations are on. You may see slightly different numerical results.\\n')\n"
        "    os.write(2, b'E0000 00:00:1796232342.734912    7534 cuda.cc:1] a real error\\n')\n"
        "    os.write(2, b'I0000 00:00:1796232342.734912    7534 other.cc:9] other info\\n')\n"
        "    print('python stderr', file=sys.stderr)\n"
        "    os.write(2, b'no newline at the end')\n"
        "print('after', file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    # Python's writes bypass the filter thread, so the order between the two may vary.
    assert sorted(run.stderr.splitlines()) == sorted([
        "E0000 00:00:1796232342.734912    7534 cuda.cc:1] a real error",
        "I0000 00:00:1796232342.734912    7534 other.cc:9] other info",
        "python stderr",
        "no newline at the endafter",  # an unfinished line is forwarded too, at the end
    ])


# --------------------------------------------------------------------------- charts and reports


def test_gain_by_prevalence_groups_targets_and_its_all_column_is_the_metric_gain():
    from sklearn_moa.cli._charts import gain_by_prevalence, prevalence_bins, prior_reference

    targets = [f"t{i}" for i in range(6)]
    prevalence = pd.Series([0.0005, 0.0005, 0.0015, 0.003, 0.02, 0.2], index=targets)
    per_target = pd.DataFrame({
        "prior": [0.004, 0.004, 0.01, 0.02, 0.1, 0.5],
        "good": [0.004, 0.004, 0.005, 0.01, 0.05, 0.25],
        "bad": [0.008, 0.008, 0.02, 0.02, 0.1, 0.5],
    }, index=targets)
    table = pd.DataFrame({"oof_log_loss": per_target.mean()})
    reference = prior_reference(table, per_target, None)
    assert reference[0] == "prior (CV)"
    bins, labels = prevalence_bins(prevalence)
    assert list(bins) == ["< 0.1 %", "< 0.1 %", "0.1-0.2 %", "0.2-0.5 %", "≥ 0.5 %", "≥ 0.5 %"]
    gains, counts = gain_by_prevalence(per_target, reference, prevalence)
    assert list(gains.index) == ["good", "bad"]  # best first; the prior itself is left out
    assert list(gains.columns) == labels + ["all"]
    assert gains.loc["good", "< 0.1 %"] == pytest.approx(0.0)
    assert gains.loc["bad", "< 0.1 %"] == pytest.approx(-100.0)
    assert gains.loc["good", "≥ 0.5 %"] == pytest.approx(50.0)
    for model in ("good", "bad"):
        metric_gain = 100 * (1 - per_target[model].mean() / per_target["prior"].mean())
        assert gains.loc[model, "all"] == pytest.approx(metric_gain)
    assert counts.to_dict() == {"< 0.1 %": 2, "0.1-0.2 %": 1, "0.2-0.5 %": 1, "≥ 0.5 %": 2,
                                "all": 6}


def test_without_a_prior_model_the_reference_is_the_training_prevalence():
    from sklearn_moa.cli._charts import prior_reference
    from sklearn_moa.metrics import mean_columnwise_log_loss

    Y = np.array([[1, 0], [0, 0], [0, 1], [0, 1]])
    per_target = pd.DataFrame({"m": [0.1, 0.2]}, index=["a", "b"])
    label, overall, losses = prior_reference(pd.DataFrame(), per_target, Y)
    assert label == "prevalence (in-sample)"
    expected = mean_columnwise_log_loss(Y, np.tile([0.25, 0.5], (4, 1)))
    assert overall == pytest.approx(expected) and losses.mean() == pytest.approx(expected)


def test_report_html_is_one_self_contained_file_with_table_charts_settings_and_targets(
        kaggle_dir, data, tmp_path, capsys):
    import base64
    from html.parser import HTMLParser

    out = tmp_path / "results"
    assert main(["benchmark", "--data", str(kaggle_dir), "--models", "prior,logistic",
                 "--folds", "2", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.rstrip().splitlines()[-1] == f"report: {out / 'report.html'}"
    page = (out / "report.html").read_text(encoding="utf-8")

    class Collector(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.images, self.links, self.scripts = {}, [], [], 0
            self._table, self._row, self._cell, self._in_cell = None, None, None, False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self._table = self.tables.setdefault(attrs.get("id"), [])
            elif tag == "tr" and self._table is not None:
                self._row = []
                self._table.append(self._row)
            elif tag in ("td", "th") and self._row is not None:
                self._row.append("")
                self._in_cell = True
            elif tag == "img":
                self.images.append(attrs["src"])
            elif tag == "script":
                self.scripts += 1
                assert "src" not in attrs
            if tag in ("link", "iframe") or (tag == "a" and "href" in attrs):
                self.links.append(attrs)

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self._in_cell = False
            elif tag == "table":
                self._table = self._row = None

        def handle_data(self, text):
            if self._in_cell:
                self._row[-1] += text

    parsed = Collector()
    parsed.feed(page)
    # No external assets: the charts are embedded, no links, the script is inline.
    assert parsed.links == [] and parsed.scripts == 1
    assert "http://" not in page and "https://" not in page
    assert len(parsed.images) == 2
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # The comparison table: the models, best first, with the scores of comparison.csv.
    table = pd.read_csv(out / "comparison.csv", index_col="model")
    header, *rows = parsed.tables["comparison"]
    assert header[:3] == ["model", "OOF log loss", "gain over the prior (%)"]
    assert [r[0] for r in rows] == list(table.index)
    for r in rows:
        assert float(r[1]) == pytest.approx(table.loc[r[0], "oof_log_loss"], abs=1e-5)
    # The per-target table: every target once, sortable, with prevalence and each model.
    header, *rows = parsed.tables["per-target"]
    assert header[:4] == ["target", "prevalence (%)", "positive rows", "prior (CV) loss"]
    assert "logistic" in header and "best model" in header
    assert sorted(r[0] for r in rows) == sorted(data.target_names)
    positives = dict(zip(data.target_names, data.targets.sum().astype(int)))
    assert all(int(r[2]) == positives[r[0]] for r in rows)
    assert 'class="sortable" id="per-target"' in page and "addEventListener" in page
    # Settings, versions and the machine.
    assert "DrugMultilabelStratifiedKFold" in page and "sklearn-moa benchmark --data" in page
    for package in ("scikit-learn", "numpy", "pandas"):
        assert f"<dt>{package}</dt>" in page
    assert "<dt>cpu_count</dt>" in page
