"""Resumable cross-validation: cross_validate_moa / compare_models with checkpoint_dir."""

import json
import os
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest

from sklearn_moa.datasets import make_moa
from sklearn_moa.model_selection import (
    DrugMultilabelStratifiedKFold,
    FoldCheckpoint,
    MultilabelStratifiedKFold,
    compare_models,
    cross_validate_moa,
    dataset_fingerprint,
)
from sklearn_moa.models import PriorClassifier

FITS = []  # one entry per fit of CountingPrior, in this process


class CountingPrior(PriorClassifier):
    """A prior that logs its fits and can crash on the n-th one (an interrupted run)."""

    crash_on_fit = None

    def fit(self, X, Y, **fit_params):
        FITS.append(len(X))
        if CountingPrior.crash_on_fit is not None and len(FITS) == CountingPrior.crash_on_fit:
            raise KeyboardInterrupt("simulated interruption")
        return super().fit(X, Y)


@pytest.fixture(scope="module")
def data():
    data = make_moa(600, random_state=0)
    data.X = data.features.filter(like="c-")
    return data


@pytest.fixture(autouse=True)
def _reset_counter():
    FITS.clear()
    CountingPrior.crash_on_fit = None
    yield
    CountingPrior.crash_on_fit = None


def _cv(data, folder, model=None, **kwargs):
    kwargs.setdefault("groups", data.drugs)
    return cross_validate_moa(
        model if model is not None else CountingPrior(), data.X, data.targets, cv=4,
        checkpoint_dir=folder, **kwargs,
    )


def _run_folders(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir())


def test_rerun_skips_finished_folds(data, tmp_path):
    first = _cv(data, tmp_path)
    assert len(FITS) == 4 and not first.resumed.any()
    [run] = _run_folders(tmp_path)
    assert sorted(p.name for p in run.iterdir()) == sorted(
        [f"fold-00{k}{ext}" for k in range(4) for ext in (".json", ".npz")] + ["run.json"]
    )
    record = json.loads((run / "fold-002.json").read_text())
    assert record["log_loss"] == pytest.approx(first.fold_log_loss[2])
    FITS.clear()
    again = _cv(data, tmp_path)
    assert FITS == [] and again.resumed.all()
    np.testing.assert_array_equal(again.oof_predictions, first.oof_predictions)
    np.testing.assert_array_equal(again.fold_log_loss, first.fold_log_loss)
    np.testing.assert_array_equal(again.fit_time, first.fit_time)  # the original fits' cost
    assert again.oof_log_loss == first.oof_log_loss


def test_interrupted_run_loses_only_the_fold_in_progress(data, tmp_path):
    reference = cross_validate_moa(PriorClassifier(), data.X, data.targets, groups=data.drugs, cv=4)
    CountingPrior.crash_on_fit = 3
    with pytest.raises(KeyboardInterrupt):
        _cv(data, tmp_path)
    [run] = _run_folders(tmp_path)
    assert sorted(p.name for p in run.glob("fold-*.json")) == ["fold-000.json", "fold-001.json"]
    CountingPrior.crash_on_fit = None
    FITS.clear()
    resumed = _cv(data, tmp_path)
    assert len(FITS) == 2
    assert resumed.resumed.tolist() == [True, True, False, False]
    np.testing.assert_allclose(resumed.oof_predictions, reference.oof_predictions)
    np.testing.assert_allclose(resumed.fold_log_loss, reference.fold_log_loss)


@pytest.mark.parametrize("change", ["estimator_param", "splitter_seed", "no_groups", "fit_params"])
def test_changed_settings_never_reuse_stale_folds(data, tmp_path, change):
    _cv(data, tmp_path)
    FITS.clear()
    if change == "estimator_param":
        result = _cv(data, tmp_path, model=CountingPrior(smoothing=3.0))
    elif change == "splitter_seed":
        result = _cv(data, tmp_path, random_state=1)
    elif change == "no_groups":
        result = _cv(data, tmp_path, groups=None)
    else:
        result = _cv(data, tmp_path, fit_params={"sample_info": np.arange(len(data.X))})
    assert len(FITS) == 4 and not result.resumed.any()
    assert len(_run_folders(tmp_path)) == 2, "each setting keeps its own resumable namespace"


def test_splitter_without_seed_is_never_resumed(data, tmp_path):
    cv = MultilabelStratifiedKFold(3, random_state=None)
    for _ in range(2):
        result = cross_validate_moa(CountingPrior(), data.X, data.targets, cv=cv, checkpoint_dir=tmp_path)
        assert not result.resumed.any()
    assert len(FITS) == 6


@pytest.mark.parametrize("change", ["targets", "features", "rows"])
def test_folder_of_another_dataset_is_an_error(data, tmp_path, change):
    _cv(data, tmp_path)
    X, Y, groups = data.X, data.targets, data.drugs
    if change == "targets":
        Y = Y.copy()
        Y.iloc[0, 0] = 1 - Y.iloc[0, 0]
    elif change == "features":
        X = X.copy()
        X.iloc[5, 3] += 1e-3
    else:
        X, Y, groups = X.iloc[:500], Y.iloc[:500], groups.iloc[:500]
    with pytest.raises(ValueError, match="holds the folds of another dataset.*new checkpoint_dir"):
        cross_validate_moa(PriorClassifier(), X, Y, groups=groups, cv=4, checkpoint_dir=tmp_path)


def test_unreadable_dataset_manifest_is_an_error(data, tmp_path):
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable dataset.json"):
        _cv(data, tmp_path)


def test_partial_and_corrupt_files_are_never_read_back(data, tmp_path):
    first = _cv(data, tmp_path)
    [run] = _run_folders(tmp_path)
    # A crash mid-write leaves a hidden temporary file (here: a truncated npz) ...
    payload = (run / "fold-000.npz").read_bytes()
    (run / ".fold-000.npz.abc123.tmp").write_bytes(payload[: len(payload) // 2])
    # ... or, after a crash between the data file and its record, no record at all.
    (run / "fold-001.json").unlink()
    # A damaged prediction file and a truncated record are detected too.
    with open(run / "fold-002.npz", "r+b") as handle:
        handle.seek(len(payload) // 2)
        handle.write(b"\x00garbage\x00")
    record = (run / "fold-003.json").read_text()
    (run / "fold-003.json").write_text(record[: len(record) // 2])
    FITS.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = _cv(data, tmp_path)
    assert again.resumed.tolist() == [True, False, False, False]
    assert len(FITS) == 3
    messages = [str(w.message) for w in caught]
    assert any("fold 2" in m and "checksum" in m for m in messages), messages
    assert any("fold 3" in m for m in messages), messages
    np.testing.assert_array_equal(again.oof_predictions, first.oof_predictions)
    # The refitted folds were written again, completely.
    FITS.clear()
    assert _cv(data, tmp_path).resumed.all() and FITS == []


def test_fitted_fold_models_are_checkpointed_when_asked(data, tmp_path):
    first = _cv(data, tmp_path, return_estimators=True)
    [run] = _run_folders(tmp_path)
    assert len(list(run.glob("fold-*.model"))) == 4
    FITS.clear()
    again = _cv(data, tmp_path, return_estimators=True)
    assert FITS == [] and again.resumed.all()
    for old, new in zip(first.estimators, again.estimators):
        np.testing.assert_array_equal(new.prior_, old.prior_)
    # Folds saved without their model are refitted when the models are wanted.
    other = tmp_path / "predictions_only"
    _cv(data, other)
    FITS.clear()
    with_models = _cv(data, other, return_estimators=True)
    assert len(FITS) == 4 and all(e is not None for e in with_models.estimators)


def test_compare_models_resumes_per_model(data, tmp_path):
    models = {"prior": CountingPrior(), "smooth": CountingPrior(smoothing=5.0)}
    table = compare_models(models, data.X, data.targets, groups=data.drugs, cv=3,
                           checkpoint_dir=tmp_path)
    assert len(FITS) == 6
    FITS.clear()
    models["sharp"] = CountingPrior(smoothing=0.01)
    bigger, results = compare_models(models, data.X, data.targets, groups=data.drugs, cv=3,
                                     checkpoint_dir=tmp_path, return_results=True)
    assert len(FITS) == 3, "only the new model is fitted"
    assert results["prior"].resumed.all() and not results["sharp"].resumed.any()
    assert bigger.loc["prior", "oof_log_loss"] == table.loc["prior", "oof_log_loss"]


def test_parallel_folds_are_checkpointed(data, tmp_path):
    serial = cross_validate_moa(PriorClassifier(), data.X, data.targets, groups=data.drugs, cv=3)
    with joblib.parallel_config(backend="threading"):
        parallel = cross_validate_moa(PriorClassifier(), data.X, data.targets, groups=data.drugs,
                                      cv=3, n_jobs=2, checkpoint_dir=tmp_path)
    np.testing.assert_allclose(parallel.fold_log_loss, serial.fold_log_loss)
    resumed = cross_validate_moa(PriorClassifier(), data.X, data.targets, groups=data.drugs, cv=3,
                                 checkpoint_dir=tmp_path)
    assert resumed.resumed.all()


_FINGERPRINT_SCRIPT = """
import json, sys
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold, FoldCheckpoint
from sklearn_moa.models import PriorClassifier
data = make_moa(600, random_state=0)
X = data.features.filter(like="c-")
folds = list(DrugMultilabelStratifiedKFold(4, random_state=0).split(X, data.targets, data.drugs))
store = FoldCheckpoint(sys.argv[1], X, data.targets).run_store(
    "m", PriorClassifier(smoothing=2.0), folds, groups=data.drugs)
print(json.dumps(store.key))
"""


def test_run_key_is_stable_across_processes(data, tmp_path):
    """A resume happens in a new process: the fingerprints must not depend on it."""
    folds = list(DrugMultilabelStratifiedKFold(4, random_state=0).split(data.X, data.targets, data.drugs))
    here = FoldCheckpoint(tmp_path, data.X, data.targets).run_store(
        "m", PriorClassifier(smoothing=2.0), folds, groups=data.drugs
    )
    env = dict(os.environ, PYTHONHASHSEED="123", OMP_NUM_THREADS="1")
    output = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT_SCRIPT, str(tmp_path)], capture_output=True, text=True,
        env=env, check=True,
    ).stdout
    assert json.loads(output.strip().splitlines()[-1]) == here.key
    assert dataset_fingerprint(data.X, data.targets)["n_targets"] == 206
