"""A resumable store of finished cross-validation folds.

Long protocols (the seed's TabNet run is 13 folds x 200 epochs) must survive an
interruption: :func:`~sklearn_moa.model_selection.cross_validate_moa` with
``checkpoint_dir=...`` saves each fold as soon as it finishes and, run again
with the same settings on the same data, loads the finished folds instead of
refitting them. Layout of a checkpoint folder::

    checkpoint_dir/
        dataset.json                 fingerprint of X and Y: one folder, one dataset
        <name>-<run key>/            one subfolder per (estimator, folds, groups, fit_params)
            run.json                 what the run key stands for (for humans)
            fold-000.npz             validation rows and their predicted probabilities
            fold-000.model           the fitted fold model (only with return_estimators=True),
                                     in the safe format of sklearn_moa._safe_state
            fold-000.json            written last: score, timings, run key, file checksums

Rules, in order of importance:

- **Changed data is an error.** A folder records the fingerprint of the ``X``
  and ``Y`` it was made with; another dataset raises a ``ValueError`` that says
  so (pointing a resume at the wrong folder is a mistake to hear about, not to
  absorb silently).
- **Changed settings get their own namespace.** The run key hashes the
  unfitted estimator (all its parameters), the fold indices actually produced
  by the splitter, the drug ids and the fit parameters. Changing any of them
  gives another subfolder, so stale folds are never reused, and both runs stay
  resumable. A splitter without a fixed ``random_state`` yields new folds, hence
  a new key, on every run.
- **Only complete folds are read back.** Every file is written to a hidden
  temporary file in the same folder and moved into place with
  :func:`os.replace` (atomic on POSIX and Windows). The fold's JSON record is
  moved last and holds the SHA-256 of the other files; a fold counts as done
  only when the record parses, carries the run key and the checksums match.
  Anything else (a crash mid-write, a truncated or damaged file, a record of
  an older sklearn-moa) is ignored with a warning and the fold is refitted:
  nothing of it was used.
- **Loading a fold never runs code from the folder.** Fold models are stored
  in the safe format of :mod:`sklearn_moa._safe_state` (plain values and
  NumPy arrays; only scikit-learn and sklearn-moa estimator classes are
  created), never pickled. The checksums only catch damage: whoever can write
  the folder can rewrite them too. A fold model whose checksum matches but
  whose content the safe format refuses was not written by sklearn-moa: that
  is an error (:class:`CheckpointError`), not a refit, so that a tampered
  folder is noticed.
"""

import json
import os
import re
import tempfile
import warnings
from hashlib import sha256
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone

from .._safe_state import UnsafeStateError, dump_state, estimator_classes, load_state

__all__ = ["CheckpointError", "FoldCheckpoint", "FoldRecord", "dataset_fingerprint"]

# 2: fold models in the safe format (1, sklearn-moa 0.1.x: joblib pickles, never loaded).
_FORMAT = 2


class CheckpointError(ValueError):
    """A checkpoint folder holding content that sklearn-moa did not write."""


def _hash_data(data):
    """Stable hash of an array, DataFrame or Series (index labels left out)."""
    if data is None:
        return "none"
    if isinstance(data, (pd.DataFrame, pd.Series)):
        columns = list(map(str, data.columns)) if isinstance(data, pd.DataFrame) else [str(data.name)]
        dtypes = list(map(str, np.atleast_1d(data.dtypes)))
        rows = pd.util.hash_pandas_object(data, index=False).to_numpy()
        return joblib.hash((columns, dtypes, rows))
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return joblib.hash(np.ascontiguousarray(data))
    return joblib.hash(data)


def dataset_fingerprint(X, Y):
    """Fingerprint of a dataset: shapes and a content hash of ``X`` and ``Y``.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
    Y : DataFrame or array-like of shape (n_samples, n_targets)

    Returns
    -------
    fingerprint : dict
        ``n_samples``, ``n_features``, ``n_targets`` and ``hash``.
    """
    shape_x, shape_y = np.shape(X), np.shape(Y)
    return {
        "n_samples": int(shape_x[0]),
        "n_features": int(shape_x[1]) if len(shape_x) > 1 else 1,
        "n_targets": int(shape_y[1]) if len(shape_y) > 1 else 1,
        "hash": joblib.hash((_hash_data(X), _hash_data(Y))),
    }


def _estimator_key(estimator):
    """Hash of the unfitted estimator's parameters; never equal for different settings."""
    try:
        unfitted = clone(estimator)
    except Exception:  # not a scikit-learn estimator: hash it as given
        unfitted = estimator
    try:
        return joblib.hash(unfitted)
    except Exception:
        # Unpicklable parameter (a lambda, a framework object): fall back to the
        # parameter repr. A repr with a memory address changes from run to run,
        # which only costs a refit, never a stale reuse.
        params = unfitted.get_params(deep=True) if hasattr(unfitted, "get_params") else {}
        return joblib.hash((type(unfitted).__qualname__, repr(sorted(params.items(), key=str))))


def _run_key(estimator, folds, groups, fit_params):
    fit_params = fit_params or {}
    parts = (
        _estimator_key(estimator),
        [(joblib.hash(np.asarray(train)), joblib.hash(np.asarray(test))) for train, test in folds],
        _hash_data(groups),
        sorted((name, _hash_data(value)) for name, value in fit_params.items()),
    )
    return joblib.hash(parts)


def _file_sha256(path):
    digest = sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path, write):
    """Call ``write(handle)`` on a hidden temporary file, then move it to ``path``."""
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(
        mode="wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def _write_json(path, payload):
    _atomic_write(path, lambda h: h.write(json.dumps(payload, indent=1, sort_keys=True).encode()))


def _safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))[:60] or "model"


class FoldRecord:
    """One finished fold: validation rows, their probabilities, timings, maybe the model."""

    def __init__(self, test, proba, fit_time, predict_time, estimator=None):
        self.test = test
        self.proba = proba
        self.fit_time = fit_time
        self.predict_time = predict_time
        self.estimator = estimator


class _RunStore:
    """The folds of one run key inside a checkpoint folder."""

    def __init__(self, folder, key, classes=()):
        self.folder = Path(folder)
        self.key = key
        # The run's own estimator classes: the caller runs their code anyway,
        # so fold models may be made of them besides the safe format's allow-list.
        self.classes = tuple(classes)

    def _paths(self, k):
        stem = self.folder / f"fold-{k:03d}"
        return stem.with_suffix(".npz"), stem.with_suffix(".model"), stem.with_suffix(".json")

    def load(self, k, test, n_targets, need_estimator=False):
        """The finished fold ``k`` or None when it is missing, incomplete or corrupt."""
        npz_path, model_path, record_path = self._paths(k)
        if not record_path.exists():
            return None
        try:
            record = json.loads(record_path.read_text())
            if record.get("format") != _FORMAT:
                raise ValueError(f"record of checkpoint format {record.get('format')!r}, "
                                 f"not {_FORMAT} (an older sklearn-moa)")
            if record.get("run_key") != self.key:
                raise ValueError("record of another run")
            if _file_sha256(npz_path) != record["npz_sha256"]:
                raise ValueError("prediction file does not match its checksum")
            with np.load(npz_path, allow_pickle=False) as stored:
                stored_test, proba = stored["test"], stored["proba"]
            if not np.array_equal(stored_test, test) or proba.shape != (len(test), n_targets):
                raise ValueError("validation rows or prediction shape differ")
            estimator = None
            if need_estimator:
                if not record.get("model_sha256") or not model_path.exists():
                    return None  # predictions only: refit to get the model back
                if _file_sha256(model_path) != record["model_sha256"]:
                    raise ValueError("model file does not match its checksum")
                estimator = _load_fold_model(model_path, self.classes)
            return FoldRecord(test, proba, float(record["fit_time"]), float(record["predict_time"]),
                              estimator)
        except CheckpointError:
            raise
        except Exception as exc:  # any unreadable state means "not done"
            warnings.warn(
                f"Ignoring checkpoint of fold {k} in {self.folder} ({type(exc).__name__}: {exc}); "
                "the fold is refitted.",
                UserWarning,
            )
            return None

    def save(self, k, record, score):
        """Write fold ``k``: data files first, the JSON record (with checksums) last."""
        npz_path, model_path, record_path = self._paths(k)
        _atomic_write(npz_path, lambda h: np.savez(h, test=np.asarray(record.test), proba=record.proba))
        model_sha = None
        if record.estimator is not None:
            try:
                _atomic_write(model_path, lambda h: dump_state(record.estimator, h, self.classes))
                model_sha = _file_sha256(model_path)
            except Exception as exc:
                warnings.warn(
                    f"Could not save the fitted model of fold {k} ({type(exc).__name__}: {exc}); "
                    "only its predictions are checkpointed.",
                    UserWarning,
                )
        _write_json(record_path, {
            "format": _FORMAT,
            "run_key": self.key,
            "fold": k,
            "log_loss": float(score),
            "fit_time": float(record.fit_time),
            "predict_time": float(record.predict_time),
            "n_test": int(len(record.test)),
            "npz_sha256": _file_sha256(npz_path),
            "model_sha256": model_sha,
        })


class FoldCheckpoint:
    """A checkpoint folder for one dataset, holding the folds of any number of runs.

    Parameters
    ----------
    directory : str or path-like
        Created when missing.
    X : DataFrame or array-like of shape (n_samples, n_features)
    Y : DataFrame or array-like of shape (n_samples, n_targets)

    Raises
    ------
    ValueError
        When ``directory`` already holds the checkpoints of another dataset,
        or its ``dataset.json`` is unreadable.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.model_selection import cross_validate_moa
    >>> from sklearn_moa.models import PriorClassifier
    >>> data = make_moa(300, random_state=0)
    >>> X = data.features.filter(like="g-")
    >>> folder = tempfile.mkdtemp()
    >>> first = cross_validate_moa(PriorClassifier(), X, data.targets, cv=3, checkpoint_dir=folder)
    >>> again = cross_validate_moa(PriorClassifier(), X, data.targets, cv=3, checkpoint_dir=folder)
    >>> again.resumed.tolist()
    [True, True, True]
    """

    def __init__(self, directory, X, Y):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.dataset = dataset_fingerprint(X, Y)
        manifest = self.directory / "dataset.json"
        if manifest.exists():
            try:
                stored = json.loads(manifest.read_text())["dataset"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(
                    f"checkpoint_dir {str(self.directory)!r} has an unreadable dataset.json ({exc}); "
                    "delete that file or the folder to start over."
                ) from exc
            if stored != self.dataset:
                raise ValueError(
                    f"checkpoint_dir {str(self.directory)!r} holds the folds of another dataset: "
                    f"{_describe(stored)} there, {_describe(self.dataset)} now. A checkpoint folder "
                    "belongs to one dataset; use a new checkpoint_dir for this data (or delete the "
                    "folder to start over)."
                )
        else:
            _write_json(manifest, {"format": _FORMAT, "dataset": self.dataset})

    def run_store(self, name, estimator, folds, *, groups=None, fit_params=None, cv=None):
        """The store of one run: ``estimator`` cross-validated over ``folds``.

        Parameters
        ----------
        name : str
            Label of the subfolder (the model's name); the run key makes it unique.
        estimator : estimator
            Unfitted estimator; all its parameters enter the run key.
        folds : list of (train, test)
            The index arrays produced by the splitter.
        groups, fit_params
            Enter the run key.
        cv : object, default=None
            Its repr is recorded in ``run.json`` for humans.
        """
        key = _run_key(estimator, folds, groups, fit_params)
        folder = self.directory / f"{_safe_name(name)}-{key[:16]}"
        folder.mkdir(exist_ok=True)
        info = folder / "run.json"
        if not info.exists():
            _write_json(info, {
                "format": _FORMAT,
                "run_key": key,
                "name": str(name),
                "estimator": repr(estimator),
                "cv": repr(cv),
                "n_folds": len(folds),
                "groups": groups is not None,
                "fit_params": sorted(fit_params or {}),
            })
        return _RunStore(folder, key, estimator_classes(estimator))


def _load_fold_model(path, classes):
    """The fold model stored at ``path``; a CheckpointError for content not ours."""
    try:
        with open(path, "rb") as handle:
            return load_state(handle, classes)
    except (UnsafeStateError, RecursionError) as exc:
        raise CheckpointError(
            f"Checkpoint file {path} matches its recorded checksum but is not a fold model "
            f"written by sklearn-moa ({exc}); nothing in it was run. Someone else wrote to this "
            "checkpoint folder: delete it (or use a new checkpoint_dir) and run again."
        ) from None


def _describe(fingerprint):
    return (
        f"{fingerprint.get('n_samples')} rows x {fingerprint.get('n_features')} features, "
        f"{fingerprint.get('n_targets')} targets (hash {str(fingerprint.get('hash'))[:10]})"
    )
