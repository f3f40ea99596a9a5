"""Model files and checkpoints that loading cannot turn into code, and their round trips."""

import hashlib
import io
import json
import os
import pickle
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from sklearn_moa import _safe_state
from sklearn_moa.cli import ModelFileError, load_model, main, save_model
from sklearn_moa.cli._persistence import MAGIC, check_output_file
from sklearn_moa.datasets import make_moa
from sklearn_moa.model_selection import cross_validate_moa
from sklearn_moa.model_selection._checkpoint import CheckpointError
from sklearn_moa.model_zoo import MODEL_ZOO, build_model
from sklearn_moa.models import PriorClassifier

from .conftest import write_kaggle_files

# Tiny data: the full-size presets keep fewer PCA components than they ask for, and say so.
pytestmark = pytest.mark.filterwarnings("ignore:BlockPCA.*n_components:UserWarning")


class _Payload:
    """Unpickling this creates the marker file: the attack every test below must stop."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def data():
    return make_moa(240, n_test_samples=60, random_state=0)


@pytest.fixture(scope="module")
def kaggle_dir(data, tmp_path_factory):
    return write_kaggle_files(data, tmp_path_factory.mktemp("lish-moa"), nonscored=False)


@pytest.fixture(scope="module")
def prior_file(kaggle_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "prior.skmoa"
    assert main(["train", "--data", str(kaggle_dir), "--model", "prior", "--out", str(path),
                 "--quiet"]) == 0
    return path


def run_error(capsys, argv):
    """Run the command expecting a user error; return its one stderr line."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sklearn-moa: error: ")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def forge(genuine, target, body, header_changes=None):
    """A file with ``genuine``'s magic line and header, ``body`` after it, and a matching sidecar."""
    with open(genuine, "rb") as f:
        assert f.readline() == MAGIC
        header = json.loads(f.readline())
    header.update(header_changes or {})
    content = MAGIC + json.dumps(header).encode() + b"\n" + body
    target.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    (target.parent / (target.name + ".sha256")).write_text(f"{digest}  {target.name}\n")
    return digest


def zip_with_tree(tree, arrays=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tree.json", json.dumps(tree))
        for i, arr in enumerate(arrays):
            with archive.open(f"{i}.npy", "w") as member:
                np.lib.format.write_array(member, arr, allow_pickle=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------- attacks


@pytest.mark.parametrize("header", [{}, {"format_version": 1}], ids=["safe-header", "pickle-header"])
def test_a_forged_model_file_runs_nothing_and_fails_with_one_line(
        header, prior_file, kaggle_dir, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.skmoa"
    forge(prior_file, evil, pickle.dumps(_Payload(marker)), header)
    line = run_error(capsys, ["predict", "--model", str(evil), "--data", str(kaggle_dir),
                              "--out", str(tmp_path / "s.csv")])
    assert not marker.exists()
    assert "evil.skmoa" in line
    assert ("--trust-pickle" in line) if header else ("not a valid sklearn-moa model" in line)
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("tree", [
    {"$object": "posix:system", "id": 0, "state": []},
    {"$object": "builtins:eval", "id": 0, "state": []},
    {"$object": "sklearn_moa.cli.__main__:main", "id": 0, "state": []},
    {"$object": "sklearn_moa.cli._persistence:ModelFile", "id": 0, "state": []},
    {"$object": "sklearn.utils._testing:TempMemmap", "id": 0, "state": []},
    {"$object": ["not", "a", "name"], "id": 0, "state": []},
    {"$type": "builtins.eval"},
    {"$type": "os.system"},
    {"$array": 0},  # an object array: a pickle inside the .npy member
    ["x", {"$reduce": ["os.system", "touch pwned"]}],
], ids=["posix.system", "eval", "__main__", "non-estimator", "test-module", "list-name",
        "type-eval", "type-system", "pickled-npy", "unknown-tag"])
def test_the_safe_format_creates_only_allow_listed_classes(tree, prior_file, tmp_path):
    marker = tmp_path / "pwned"
    arrays = [np.array([_Payload(marker)], dtype=object)] if tree == {"$array": 0} else []
    evil = tmp_path / "evil.skmoa"
    forge(prior_file, evil, zip_with_tree(tree, arrays))
    modules_before = set(sys.modules)
    with pytest.raises(ModelFileError, match="not a valid sklearn-moa model.*nothing in it was run"):
        load_model(evil)
    assert not marker.exists()
    assert "sklearn_moa.cli.__main__" not in set(sys.modules) - modules_before


def test_a_compressed_member_is_refused(prior_file, tmp_path):
    """Compression would let a small file expand to any size in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tree.json", json.dumps([0] * 1000))
    forge(prior_file, tmp_path / "zip.skmoa", buffer.getvalue())
    with pytest.raises(ModelFileError, match="compressed members"):
        load_model(tmp_path / "zip.skmoa")


def test_an_array_larger_than_its_file_is_refused(prior_file, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tree.json", json.dumps({"$array": 0}))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        archive.writestr("0.npy", header.getvalue())
    forge(prior_file, tmp_path / "bomb.skmoa", buffer.getvalue())
    with pytest.raises(ModelFileError, match="claims more data than the file holds"):
        load_model(tmp_path / "bomb.skmoa")


def _fold_checkpoint(data, folder, estimator=None):
    X = data.features.filter(like="g-")
    return cross_validate_moa(estimator or PriorClassifier(), X, data.targets, cv=2,
                              checkpoint_dir=folder, return_estimators=True)


def _rewrite_record(record_path, model_path, **changes):
    record = json.loads(record_path.read_text())
    record["model_sha256"] = hashlib.sha256(model_path.read_bytes()).hexdigest()
    record.update(changes)
    record_path.write_text(json.dumps(record))


def test_a_tampered_checkpoint_runs_nothing_and_is_an_error(data, tmp_path):
    marker = tmp_path / "pwned"
    _fold_checkpoint(data, tmp_path / "ckpt")
    [model_path] = (tmp_path / "ckpt").glob("*/fold-000.model")
    model_path.write_bytes(pickle.dumps(_Payload(marker)))
    _rewrite_record(model_path.with_suffix(".json"), model_path)
    with pytest.raises(CheckpointError, match="not a fold model written by sklearn-moa"):
        _fold_checkpoint(data, tmp_path / "ckpt")
    assert not marker.exists()


def test_a_checkpoint_of_the_pickle_era_is_refitted_never_loaded(data, tmp_path):
    """A fold record of format 1 (joblib pickles, sklearn-moa 0.1.x): ignored with a warning."""
    marker = tmp_path / "pwned"
    _fold_checkpoint(data, tmp_path / "ckpt")
    [model_path] = (tmp_path / "ckpt").glob("*/fold-000.model")
    old = model_path.with_suffix(".joblib")
    old.write_bytes(pickle.dumps(_Payload(marker)))
    _rewrite_record(model_path.with_suffix(".json"), old, format=1)
    with pytest.warns(UserWarning, match="checkpoint format 1.*refitted"):
        result = _fold_checkpoint(data, tmp_path / "ckpt")
    assert not marker.exists()
    assert result.resumed.tolist() == [False, True]


def test_a_damaged_checkpoint_is_refitted_with_a_warning(data, tmp_path):
    first = _fold_checkpoint(data, tmp_path / "ckpt")
    [model_path] = (tmp_path / "ckpt").glob("*/fold-000.model")
    model_path.write_bytes(model_path.read_bytes()[:-10])
    with pytest.warns(UserWarning, match="does not match its checksum.*refitted"):
        again = _fold_checkpoint(data, tmp_path / "ckpt")
    assert again.resumed.tolist() == [False, True]
    np.testing.assert_array_equal(again.oof_predictions, first.oof_predictions)


def test_the_cli_reports_a_tampered_checkpoint_in_one_line(kaggle_dir, tmp_path, capsys):
    marker = tmp_path / "pwned"
    argv = ["train", "--data", str(kaggle_dir), "--model", "prior", "--folds", "2",
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--out", str(tmp_path / "m.skmoa"), "--quiet"]
    assert main(argv) == 0
    capsys.readouterr()
    [model_path] = (tmp_path / "ckpt").glob("*/fold-001.model")
    model_path.write_bytes(pickle.dumps(_Payload(marker)))
    _rewrite_record(model_path.with_suffix(".json"), model_path)
    line = run_error(capsys, argv)
    assert "fold-001.model" in line and "not a fold model written by sklearn-moa" in line
    assert not marker.exists()


# --------------------------------------------------------------------------- pickle opt-in


def test_pickle_files_load_only_when_trusted(prior_file, kaggle_dir, tmp_path, capsys):
    model = load_model(prior_file)
    path = tmp_path / "old.skmoa"
    save_model(model.estimator, path, model_name="prior", target_names=model.target_names,
               pickle=True)
    with pytest.raises(ModelFileError, match="pickle model file.*--trust-pickle"):
        load_model(path)
    with pytest.warns(UserWarning, match="runs code stored in the file"):
        loaded = load_model(path, trusted=True)
    np.testing.assert_array_equal(loaded.estimator.predict_proba(kaggle_dir_features(kaggle_dir)),
                                  model.estimator.predict_proba(kaggle_dir_features(kaggle_dir)))
    line = run_error(capsys, ["predict", "--model", str(path), "--data", str(kaggle_dir),
                              "--out", str(tmp_path / "s.csv")])
    assert "--trust-pickle" in line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["predict", "--model", str(path), "--data", str(kaggle_dir), "--trust-pickle",
                     "--out", str(tmp_path / "s.csv")]) == 0
    # Trusted or not, a pickle needs its checksum.
    os.remove(tmp_path / "old.skmoa.sha256")
    with pytest.raises(ModelFileError, match="no checksum file"):
        load_model(path, trusted=True)


def kaggle_dir_features(folder):
    from sklearn_moa.cli._data import test_features

    return test_features(folder)


def test_an_unsaveable_estimator_says_how_before_writing(tmp_path):
    model = PriorClassifier().fit(np.zeros((4, 1)), [[0, 1], [1, 1], [0, 0], [0, 1]])
    model.callback_ = lambda x: x
    with pytest.raises(ModelFileError, match=r"estimator\.callback_ is a builtins\.function.*pickle=True"):
        save_model(model, tmp_path / "m.skmoa")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- round trips


def _quick(name):
    model = build_model(name, random_state=0)
    final = model.estimator.steps[-1][1]
    params = final.get_params()
    tiny = {key: value for key, value in
            dict(epochs=1, n_estimators=3, batch_size=64, virtual_batch_size=32).items()
            if key in params}
    final.set_params(**tiny)
    return model


def _round_trip(estimator, tmp_path, **kwargs):
    path = tmp_path / "model.skmoa"
    save_model(estimator, path, **kwargs)
    return load_model(path).estimator


# Ensembles (winners_blend) fit every member several times: the blend and the
# stack round-trip in test_the_ensembles_round_trip, on prior members.
@pytest.mark.parametrize("name", [name for name, spec in MODEL_ZOO.items()
                                  if spec.available() and spec.default])
def test_every_zoo_model_round_trips_with_identical_predictions(name, data, tmp_path):
    model = _quick(name).fit(data.features, data.targets)
    restored = _round_trip(model, tmp_path)
    # Equal up to float round-off: with a PCA step (quick svm and tabnet) a
    # loaded model differed by at most 2.8e-17 in 29 of 12,360 entries (the
    # same arrays, other BLAS code paths for freshly read buffers; not traced
    # further). Anything lost on the way would differ by far more.
    close = dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(restored.predict_proba(data.test_features),
                               model.predict_proba(data.test_features), **close)
    # Saving the restored model gives the same file content (nothing lost on the way).
    again = _round_trip(restored, tmp_path)
    np.testing.assert_allclose(again.predict_proba(data.test_features),
                               model.predict_proba(data.test_features), **close)


def test_a_torch_model_round_trips_without_touching_the_global_torch_rng(data, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("skorch")
    model = _quick("residual_nn").fit(data.features, data.targets)
    state = torch.random.get_rng_state()
    restored = _round_trip(model, tmp_path)
    assert torch.equal(torch.random.get_rng_state(), state)
    final = restored.estimator_.steps[-1][1]
    assert final.history_ == model.estimator_.steps[-1][1].history_


def test_the_ensembles_round_trip(data, tmp_path):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    from sklearn_moa.ensemble import (
        BlendedMoAClassifier, FoldAveragedModel, SeedAveragedClassifier, StackedMoAClassifier,
    )

    X = data.features.filter(like="g-").iloc[:, :20]
    Y = data.targets
    blend = BlendedMoAClassifier(
        [("prior", PriorClassifier()),
         ("logistic", make_pipeline(make_column_transformer(("passthrough", list(X.columns))),
                                    build_model("logistic").estimator.steps[-1][1]))],
        cv=2, random_state=0,
    ).fit(X, Y)
    seeds = SeedAveragedClassifier(PriorClassifier(), seeds=2, random_state=0).fit(X, Y)
    folds = FoldAveragedModel(
        cross_validate_moa(PriorClassifier(), X, Y, cv=2, return_estimators=True).estimators)
    stack = StackedMoAClassifier(blend.estimators, cv=2, random_state=0).fit(X, Y)
    for model in (blend, stack, seeds, folds):
        restored = _round_trip(model, tmp_path)
        assert type(restored) is type(model)
        np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("preset", ["two_head", "cnn1d", "tabnet", "winners"])
def test_the_feature_presets_round_trip(preset, data, tmp_path):
    from sklearn_moa.preprocessing import make_moa_features

    features = make_moa_features(preset, random_state=0).fit(data.features)
    restored = _round_trip(features, tmp_path)
    np.testing.assert_array_equal(np.asarray(restored.transform(data.test_features)),
                                  np.asarray(features.transform(data.test_features)))


def test_plain_values_round_trip():
    value = {
        "tuple": (1, 2.5, None), 3: [True, "x"], ("k", 1): {1, 2}, "slice": slice(1, None, 2),
        "bytes": b"\x00\x01", "scalar": np.float32(1.5), "int": np.int64(7), "dtype": np.dtype("<f4"),
        "type": np.float64, "builtin": float, "nan": float("nan"), "complex": 1 + 2j,
        "strings": np.array(["a", "bc"]), "objects": np.array(["a", 1, None], dtype=object),
        "nested": np.array([None, None], dtype=object),
        "rng": np.random.RandomState(3),
        "index": pd.Index(["id_1", "id_2"], name="sig_id"), "range": pd.RangeIndex(3),
    }
    value["nested"][0], value["nested"][1] = [1, 2], [3, 4]  # lists as elements
    shared = np.arange(3)
    value["shared"] = [shared, shared]
    buffer = io.BytesIO()
    _safe_state.dump_state(value, buffer)
    restored = _safe_state.load_state(buffer.getvalue())
    assert restored["tuple"] == (1, 2.5, None) and restored[3] == [True, "x"]
    assert restored[("k", 1)] == {1, 2} and restored["slice"] == slice(1, None, 2)
    assert restored["bytes"] == b"\x00\x01" and restored["complex"] == 1 + 2j
    assert type(restored["scalar"]) is np.float32 and type(restored["int"]) is np.int64
    assert restored["dtype"] == np.dtype("<f4") and restored["type"] is np.float64
    assert restored["builtin"] is float and np.isnan(restored["nan"])
    assert restored["strings"].tolist() == ["a", "bc"]
    assert restored["objects"].tolist() == ["a", 1, None]
    assert restored["nested"].shape == (2,) and restored["nested"][1] == [3, 4]
    assert restored["rng"].randint(1000) == np.random.RandomState(3).randint(1000)
    assert restored["shared"][0] is restored["shared"][1]
    pd.testing.assert_index_equal(restored["index"], value["index"])
    pd.testing.assert_index_equal(restored["range"], value["range"], exact=False)


# --------------------------------------------------------------------------- output paths


def test_check_output_file_names_the_users_path(tmp_path):
    with pytest.raises(ValueError, match=f"--out {tmp_path} is a folder"):
        check_output_file(tmp_path, "--out")
    check_output_file(tmp_path / "new" / "deeper" / "m.skmoa")
    assert (tmp_path / "new" / "deeper").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot create its folder"):
        check_output_file(tmp_path / "file" / "m.skmoa", "--out")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_check_output_file_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            check_output_file(folder / "m.skmoa", "--out")
    finally:
        folder.chmod(0o700)


def test_train_checks_out_before_fitting(kaggle_dir, tmp_path, capsys, monkeypatch):
    fitted = []
    monkeypatch.setattr(PriorClassifier, "_fit_targets",
                        lambda self, *a, **k: fitted.append(1))
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "prior",
                              "--out", str(tmp_path), "--quiet"])
    assert f"--out {tmp_path} is a folder" in line
    assert fitted == []


def test_predict_checks_out_before_loading(prior_file, kaggle_dir, tmp_path, capsys):
    line = run_error(capsys, ["predict", "--model", str(prior_file), "--data", str(kaggle_dir),
                              "--out", str(tmp_path)])
    assert f"--out {tmp_path} is a folder" in line


def test_a_second_benchmark_on_the_same_out_says_so(tmp_path, capsys, monkeypatch):
    from sklearn_moa.cli._persistence import locked_output_folder

    ran = []
    monkeypatch.setattr("sklearn_moa.cli._benchmark._run", lambda args: ran.append(1) or 0)
    out = tmp_path / "results"
    with locked_output_folder(out, "--out"):  # a first run is writing there
        line = run_error(capsys, ["benchmark", "--models", "prior", "--quiet", "--out", str(out)])
    assert f"--out {out} is being written by another sklearn-moa run (process {os.getpid()}" in line
    assert ran == []
    # Once the first run is over, the folder is free again.
    assert main(["benchmark", "--models", "prior", "--quiet", "--out", str(out)]) == 0
    assert ran == [1] and os.listdir(out) == []


def test_a_lock_of_a_dead_run_is_taken_over(tmp_path, monkeypatch):
    import platform
    import subprocess

    from sklearn_moa.cli._persistence import locked_output_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".sklearn-moa.lock").write_text(json.dumps(
        {"pid": dead.pid, "host": platform.node(), "started_utc": "2026-01-01T00:00:00+00:00"}))
    with locked_output_folder(tmp_path, "--out"):
        assert json.loads((tmp_path / ".sklearn-moa.lock").read_text())["pid"] == os.getpid()
    assert not (tmp_path / ".sklearn-moa.lock").exists()


def test_benchmark_out_that_is_a_file_fails_before_work(tmp_path, capsys):
    (tmp_path / "results").write_text("")
    line = run_error(capsys, ["benchmark", "--models", "prior", "--quiet",
                              "--out", str(tmp_path / "results")])
    assert f"--out {tmp_path / 'results'} is a file" in line


def test_train_refuses_an_unsaveable_model_before_fitting(kaggle_dir, tmp_path, capsys, monkeypatch):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_moa.model_zoo import ModelSpec
    from sklearn_moa.models import ControlAwareClassifier

    fitted = []
    monkeypatch.setattr(PriorClassifier, "_fit_targets", lambda self, *a, **k: fitted.append(1))

    def build(full, random_state):
        features = FunctionTransformer(lambda X: X[["cp_time"]])
        return ControlAwareClassifier(make_pipeline(features, PriorClassifier()))

    monkeypatch.setattr("sklearn_moa.model_zoo.MODEL_ZOO",
                        dict(MODEL_ZOO, lambdas=ModelSpec("lambdas", "test", None, (), build)))
    line = run_error(capsys, ["train", "--data", str(kaggle_dir), "--model", "lambdas",
                              "--out", str(tmp_path / "m.skmoa"), "--quiet"])
    assert "Cannot save ControlAwareClassifier" in line and "builtins.function" in line
    assert fitted == [] and not (tmp_path / "m.skmoa").exists()


def test_a_control_aware_pickle_of_0_1_predicts(data):
    """0.1.x pickles (trusted=True) have no n_targets_ on the control wrapper."""
    model = build_model("prior").fit(data.features, data.targets)
    expected = model.predict_proba(data.test_features)
    del model.n_targets_
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(data.test_features), expected)


@pytest.mark.parametrize("kind", ["single", "multistage"])
def test_saved_weights_that_do_not_fit_the_network_are_refused_by_name(kind):
    pytest.importorskip("skorch")
    from sklearn_moa.models import MultiStageNNClassifier, ResidualNNClassifier

    rng = np.random.RandomState(0)
    X, Y = rng.randn(40, 5), (rng.rand(40, 3) < 0.4).astype(int)
    if kind == "single":
        model = ResidualNNClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, Y)
    else:
        model = MultiStageNNClassifier(hidden_layer_sizes=(4,), stage3_hidden_layer_sizes=(4,), dropout=0.1, cv=2,
                                       epochs=1, random_state=0).fit(X, Y)
    state = pickle.loads(pickle.dumps(model.__getstate__()))
    # A forged or mismatched file: the first layer's weights lose a column.
    weights = state["_module_state"] if kind == "single" else state["stages_"][0].modules[0]
    first = next(key for key, value in weights.items() if np.ndim(value) == 2)
    weights[first] = weights[first][:, :-1]
    restored = type(model).__new__(type(model))
    expected = "network" if kind == "single" else "scored stage"
    with pytest.raises(ValueError, match=f"saved weights of the {expected} do not fit the {type(model).__name__}"):
        restored.__setstate__(state)
