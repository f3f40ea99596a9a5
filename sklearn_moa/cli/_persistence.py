"""Saving and loading fitted models: a versioned, checksummed envelope.

A model file is::

    sklearn-moa model file\\n          <- magic line
    {"format_version": 1, ...}\\n      <- JSON header: versions, model name,
                                         target names, feature columns
    <pickle payload>                   <- the fitted estimator

next to a ``<file>.sha256`` sidecar in ``sha256sum`` format (so that
``sha256sum -c model.skmoa.sha256`` checks it too).

Trust model
-----------
Unpickling runs code chosen by whoever wrote the file: a model file is as
dangerous as a script. :func:`load_model` therefore reads and checks the plain
JSON header (is it our format, made by this exact sklearn-moa version?) and the
file's SHA-256 (against the sidecar, or a hash you pass) *before* unpickling
anything. The checksum catches corruption, truncation and swapped files; it is
not a signature: a sidecar that travelled with the file from an untrusted place
proves nothing. Only load files you made, or whose hash you got from their
maker over a channel you trust (pass it as ``sha256=``).
"""

import hashlib
import json
import os
import pickle
import platform
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sklearn

from .. import __version__

__all__ = ["ModelFile", "ModelFileError", "save_model", "load_model", "sidecar_path"]

MAGIC = b"sklearn-moa model file\n"
FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 64 * 2**20
_CHUNK = 2**20


class ModelFileError(ValueError):
    """A model file that cannot be loaded: wrong format, version or checksum."""


@dataclass
class ModelFile:
    """A loaded model file: the estimator and what its header says about it.

    Attributes
    ----------
    estimator : estimator
        The fitted model.
    model_name : str or None
        Name in :data:`~sklearn_moa.model_zoo.MODEL_ZOO` it was built from.
    target_names : list of str
        Target columns of ``predict_proba``, in order.
    feature_columns : list of str
        Columns of the feature frame it was fitted on.
    metadata : dict
        The whole header (versions, creation time, anything passed as ``extra``).
    sha256 : str
        Checksum of the file that was loaded.
    """

    estimator: object
    model_name: object
    target_names: list
    feature_columns: list
    metadata: dict = field(repr=False)
    sha256: str = ""


def sidecar_path(path):
    """Path of the SHA-256 sidecar of the model file ``path``."""
    return os.fspath(path) + ".sha256"


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(estimator, path, *, model_name=None, target_names=None, feature_columns=None,
               extra=None):
    """Write a fitted model and its SHA-256 sidecar.

    The file is written to a temporary name and renamed into place, so an
    interrupted save never leaves a half-written model under ``path``.

    Parameters
    ----------
    estimator : estimator
        A fitted model; it must be picklable.
    path : str or path-like
        Model file to write (conventionally ``*.skmoa``).
    model_name : str, default=None
        Name of the model in the model zoo, kept in the header.
    target_names : sequence of str, default=None
        Columns of ``predict_proba``; needed to write a submission.
    feature_columns : sequence of str, default=None
        Columns of the frame the model was fitted on; checked at prediction.
    extra : dict, default=None
        More JSON-serialisable facts for the header (e.g. CV scores).

    Returns
    -------
    sha256 : str
        Hex SHA-256 of the written file (also written to :func:`sidecar_path`).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_moa.cli import load_model, save_model
    >>> from sklearn_moa.models import PriorClassifier
    >>> model = PriorClassifier().fit(np.zeros((4, 1)), [[0, 1], [1, 1], [0, 0], [0, 1]])
    >>> path = os.path.join(tempfile.mkdtemp(), "prior.skmoa")
    >>> digest = save_model(model, path, target_names=["a", "b"])
    >>> load_model(path).target_names
    ['a', 'b']
    """
    path = os.fspath(path)
    header = {
        "format_version": FORMAT_VERSION,
        "sklearn_moa_version": __version__,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_name": model_name,
        "estimator_class": type(estimator).__name__,
        "target_names": None if target_names is None else [str(t) for t in target_names],
        "feature_columns": None if feature_columns is None else [str(c) for c in feature_columns],
        "extra": extra or {},
    }
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".skmoa")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            f.write(json.dumps(header).encode() + b"\n")
            pickle.dump(estimator, f, protocol=pickle.HIGHEST_PROTOCOL)
        digest = _file_sha256(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    with open(sidecar_path(path), "w") as f:
        f.write(f"{digest}  {os.path.basename(path)}\n")
    return digest


def _read_header(f, path):
    if f.read(len(MAGIC)) != MAGIC:
        raise ModelFileError(
            f"{path} is not a sklearn-moa model file (save models with `sklearn-moa train` "
            "or sklearn_moa.cli.save_model)."
        )
    line = f.readline(_MAX_HEADER_BYTES)
    try:
        header = json.loads(line)
    except ValueError:
        raise ModelFileError(f"{path} has a damaged header: the file is corrupt or truncated.")
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} has a damaged header: the file is corrupt or truncated.")
    return header


def _check_version(header, path):
    file_format = header.get("format_version")
    saved_by = header.get("sklearn_moa_version")
    if file_format != FORMAT_VERSION or saved_by != __version__:
        raise ModelFileError(
            f"{path} was saved by sklearn-moa {saved_by} (file format {file_format}); this is "
            f"sklearn-moa {__version__} (format {FORMAT_VERSION}). Pickled models only load in "
            "the version that made them: retrain it with this version, or install "
            f"sklearn-moa=={saved_by} to use it."
        )


def _expected_sha256(path, sha256):
    if sha256 is not None:
        return str(sha256).strip().lower(), "the given sha256"
    sidecar = sidecar_path(path)
    try:
        with open(sidecar) as f:
            text = f.read(4096).split()
    except FileNotFoundError:
        raise ModelFileError(
            f"{path} has no checksum file {os.path.basename(sidecar)}: loading a model runs code "
            "stored in it, so it is refused unchecked. Pass the file's sha256 from a source you "
            "trust (--sha256 / load_model(..., sha256=...))."
        )
    if not text:
        raise ModelFileError(f"Checksum file {sidecar} is empty.")
    return text[0].lower(), os.path.basename(sidecar)


def load_model(path, *, sha256=None):
    """Load a model file written by :func:`save_model`, checking it first.

    Nothing is unpickled before the header says the file is a sklearn-moa model
    file of this exact version and its SHA-256 matches ``sha256`` (or, when
    ``sha256`` is None, its sidecar file). Loading still runs code from the
    file: only load files you made or whose hash comes from someone you trust.

    Parameters
    ----------
    path : str or path-like
        Model file.
    sha256 : str, default=None
        Expected hex SHA-256 of the file; by default read from the sidecar
        ``<path>.sha256``.

    Returns
    -------
    model_file : ModelFile

    Raises
    ------
    ModelFileError
        For a missing file, another format, another sklearn-moa version, a
        missing sidecar or a checksum mismatch (the message says which).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"Model file {path} does not exist.")
    with open(path, "rb") as f:
        header = _read_header(f, path)
        _check_version(header, path)
        expected, source = _expected_sha256(path, sha256)
        payload_start = f.tell()
        f.seek(0)
        # Hash and unpickle the same bytes, so the file cannot change in between.
        content = f.read()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ModelFileError(
            f"{path} does not match {source} (sha256 {actual[:12]}... != {expected[:12]}...): "
            "the file was changed, damaged or swapped; refusing to load it."
        )
    try:
        estimator = pickle.loads(memoryview(content)[payload_start:])
    except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as exc:
        raise ModelFileError(f"{path} could not be unpickled: {exc}") from exc
    return ModelFile(
        estimator=estimator,
        model_name=header.get("model_name"),
        target_names=header.get("target_names"),
        feature_columns=header.get("feature_columns"),
        metadata=header,
        sha256=actual,
    )
