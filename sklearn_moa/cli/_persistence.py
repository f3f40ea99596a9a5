"""Saving and loading fitted models: a versioned file that loading cannot turn into code.

A model file is::

    sklearn-moa model file\\n          <- magic line
    {"format_version": 2, ...}\\n      <- JSON header: versions, model name,
                                         target names, feature columns
    <zip archive>                      <- the fitted estimator in the safe format
                                         of :mod:`sklearn_moa._safe_state`

next to a ``<file>.sha256`` sidecar in ``sha256sum`` format (so that
``sha256sum -c model.skmoa.sha256`` checks it too).

Trust model
-----------
The payload is data: a JSON tree of plain values and estimator class names
plus NumPy arrays read with ``allow_pickle=False``. Loading creates only
scikit-learn and sklearn-moa estimator classes (and a few named plain-state
helpers) and sets their attributes; it never unpickles and never calls a
function the file names. A forged file can make a wrong model or fail to
load; it cannot run code. The sidecar checksum catches corruption and
swapped files; it is not a signature.

Format 1 (sklearn-moa 0.1.x) was a pickle: it loads only with
``trusted=True`` (``--trust-pickle``), for files you made yourself.
``save_model(..., pickle=True)`` still writes one, for estimators that the
safe format cannot hold (a custom class, a callable parameter).
"""

import contextlib
import hashlib
import io
import json
import os
import pickle as _pickle
import platform
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sklearn

from .. import __version__
from .._safe_state import UnsafeStateError, dump_state, load_state

__all__ = [
    "ModelFile", "ModelFileError", "check_output_file", "check_saveable", "load_model",
    "locked_output_folder",
    "save_model", "sidecar_path",
]

MAGIC = b"sklearn-moa model file\n"
FORMAT_VERSION = 2
PICKLE_FORMAT_VERSION = 1
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


def check_output_file(path, what="output file"):
    """Raise a ValueError naming ``path`` unless a file can be written there.

    Called before any work, so that a run of hours does not end on a path that
    was wrong from the start. The parent folder is created when missing.

    Parameters
    ----------
    path : str or path-like
    what : str, default="output file"
        What the path is for (the option's name), for the message.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{what} {path} is a folder; give the name of a file to write.")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot create its folder {folder} "
                         f"({exc.strerror or exc}).") from None
    if not os.path.isdir(folder):
        raise ValueError(f"{what} {path}: {folder} is not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK)
    ):
        raise ValueError(f"{what} {path} is not writable (permission denied).")


def check_saveable(estimator, path):
    """Raise the error :func:`save_model` would, for an (unfitted) estimator, before fitting it.

    Its parameters must be storable in the safe format; the fitted attributes
    of the models of this package are.
    """
    try:
        dump_state(estimator, io.BytesIO())
    except UnsafeStateError as exc:
        raise ModelFileError(_unsaveable_message(estimator, path, exc)) from None


def _unsaveable_message(estimator, path, exc):
    return (
        f"Cannot save {type(estimator).__name__} to {path} in the safe model format: {exc}. "
        "Models of scikit-learn and sklearn-moa classes with plain parameters can be saved; "
        "save_model(..., pickle=True) writes a pickle that only load_model(..., trusted=True) "
        "reads."
    )


def save_model(estimator, path, *, model_name=None, target_names=None, feature_columns=None,
               extra=None, pickle=False):
    """Write a fitted model and its SHA-256 sidecar.

    The model is stored in a format that loading cannot turn into code
    execution (see the module's trust model). The file is written to a
    temporary name and renamed into place, so an interrupted save never leaves
    a half-written model under ``path``.

    Parameters
    ----------
    estimator : estimator
        A fitted model of scikit-learn and sklearn-moa classes.
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
    pickle : bool, default=False
        Write a pickle (format 1) instead, for an estimator the safe format
        cannot hold (other classes, callable parameters). Such a file loads
        only with ``load_model(..., trusted=True)``: loading it runs code.

    Returns
    -------
    sha256 : str
        Hex SHA-256 of the written file (also written to :func:`sidecar_path`).

    Raises
    ------
    ModelFileError
        When the estimator holds something the safe format does not store
        (the message names where), before anything is written.

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
    check_output_file(path, "model file")
    header = {
        "format_version": PICKLE_FORMAT_VERSION if pickle else FORMAT_VERSION,
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
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".skmoa")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            f.write(json.dumps(header).encode() + b"\n")
            if pickle:
                _pickle.dump(estimator, f, protocol=_pickle.HIGHEST_PROTOCOL)
            else:
                dump_state(estimator, f)
        digest = _file_sha256(tmp)
        os.replace(tmp, path)
    except UnsafeStateError as exc:
        raise ModelFileError(_unsaveable_message(estimator, path, exc)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
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


def _check_version(header, path, trusted):
    file_format = header.get("format_version")
    saved_by = header.get("sklearn_moa_version")
    if file_format == PICKLE_FORMAT_VERSION and not trusted:
        raise ModelFileError(
            f"{path} is a pickle model file (format 1, written by sklearn-moa {saved_by}): loading "
            "it runs code stored in it, so it is refused by default. Only if you made it yourself: "
            "load it with `sklearn-moa predict --trust-pickle` (load_model(..., trusted=True)), "
            "then save it again with save_model to get a safe file; or retrain it."
        )
    if file_format == PICKLE_FORMAT_VERSION and saved_by != __version__:
        warnings.warn(
            f"{path} was pickled by sklearn-moa {saved_by}; this is {__version__}: classes may "
            "have changed since, check its predictions.",
            UserWarning,
        )
        return
    if file_format not in (FORMAT_VERSION, PICKLE_FORMAT_VERSION) or saved_by != __version__:
        raise ModelFileError(
            f"{path} was saved by sklearn-moa {saved_by} (file format {file_format}); this is "
            f"sklearn-moa {__version__} (format {FORMAT_VERSION}). A model file stores the "
            "attributes of that version's classes: retrain it with this version, or install "
            f"sklearn-moa=={saved_by} to use it."
        )


def _expected_sha256(path, sha256, required):
    if sha256 is not None:
        return str(sha256).strip().lower(), "the given sha256"
    sidecar = sidecar_path(path)
    try:
        with open(sidecar) as f:
            text = f.read(4096).split()
    except FileNotFoundError:
        if not required:
            return None, None
        raise ModelFileError(
            f"{path} has no checksum file {os.path.basename(sidecar)}: loading a pickle runs code "
            "stored in it, so it is refused unchecked. Pass the file's sha256 from a source you "
            "trust (--sha256 / load_model(..., sha256=...))."
        )
    if not text:
        raise ModelFileError(f"Checksum file {sidecar} is empty.")
    return text[0].lower(), os.path.basename(sidecar)


def load_model(path, *, sha256=None, trusted=False):
    """Load a model file written by :func:`save_model`, checking it first.

    A model file in the safe format (format 2, what :func:`save_model`
    writes by default) never runs code from the file, whoever wrote it: a forged file fails with
    a :class:`ModelFileError`. Its checksum (``sha256``, else the sidecar when
    there is one) is checked too, to catch corruption and swapped files.

    Pickle files (format 1, sklearn-moa 0.1.x, or ``save_model(...,
    pickle=True)``) load only with ``trusted=True``, after the header and the
    checksum (``sha256`` or the sidecar, required) are checked, with a
    warning: unpickling runs code chosen by whoever wrote the file.

    Parameters
    ----------
    path : str or path-like
        Model file.
    sha256 : str, default=None
        Expected hex SHA-256 of the file; by default read from the sidecar
        ``<path>.sha256``.
    trusted : bool, default=False
        Allow a pickle file. Only for files you made yourself.

    Returns
    -------
    model_file : ModelFile

    Raises
    ------
    ModelFileError
        For a missing file, another format, another sklearn-moa version, a
        checksum mismatch, content outside the safe format, or a pickle file
        without ``trusted=True`` (the message says which).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"Model file {path} does not exist.")
    with open(path, "rb") as f:
        header = _read_header(f, path)
        _check_version(header, path, trusted)
        is_pickle = header.get("format_version") == PICKLE_FORMAT_VERSION
        expected, source = _expected_sha256(path, sha256, required=is_pickle)
        payload_start = f.tell()
        f.seek(0)
        # Hash and decode the same bytes, so the file cannot change in between.
        content = f.read()
    actual = hashlib.sha256(content).hexdigest()
    if expected is not None and actual != expected:
        raise ModelFileError(
            f"{path} does not match {source} (sha256 {actual[:12]}... != {expected[:12]}...): "
            "the file was changed, damaged or swapped; refusing to load it."
        )
    payload = memoryview(content)[payload_start:]
    if is_pickle:
        warnings.warn(
            f"Unpickling {path} (trusted=True): this runs code stored in the file. Save it again "
            "with save_model to get a file in the safe format.",
            UserWarning,
        )
        try:
            estimator = _pickle.loads(payload)
        except (_pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as exc:
            raise ModelFileError(f"{path} could not be unpickled: {exc}") from exc
    else:
        try:
            estimator = load_state(payload)
        except RecursionError:
            raise ModelFileError(f"{path} is not a valid sklearn-moa model: nested too deeply.")
        except Exception as exc:  # whatever a forged state makes our classes raise
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelFileError(
                f"{path} is not a valid sklearn-moa model ({detail}); nothing in it was run."
            ) from None
    return ModelFile(
        estimator=estimator,
        model_name=header.get("model_name"),
        target_names=header.get("target_names"),
        feature_columns=header.get("feature_columns"),
        metadata=header,
        sha256=actual,
    )


_LOCK_NAME = ".sklearn-moa.lock"


@contextlib.contextmanager
def locked_output_folder(folder, what="output folder"):
    """Check that ``folder`` can take a run's files, and hold it for this run.

    The folder is created when missing. A lock file inside it marks the run
    that writes there; a second run on the same folder stops with a message
    naming the first (its process id and start time) instead of mixing its
    files with the first's. A lock left by a run that died (its process is
    gone) is taken over.

    Parameters
    ----------
    folder : str or path-like
    what : str, default="output folder"
        What the folder is for (the option's name), for the messages.
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{what} {folder} is a file; give a folder to write the reports in.")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {folder} cannot be created ({exc.strerror or exc}).") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {folder} is not writable (permission denied).")
    lock = os.path.join(folder, _LOCK_NAME)
    owner = {"pid": os.getpid(), "host": platform.node(),
             "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is None or _alive(holder):
                who = "another run" if holder is None else (
                    f"another sklearn-moa run (process {holder.get('pid')} on "
                    f"{holder.get('host')}, started {holder.get('started_utc')} UTC)")
                raise ValueError(
                    f"{what} {folder} is being written by {who}; wait for it to finish or choose "
                    f"another {what}. (If no run is left, delete {lock}.)"
                ) from None
            os.unlink(lock)  # its run is gone
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(owner, f)
        break
    try:
        yield folder
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass


def _lock_holder(lock):
    try:
        with open(lock) as f:
            holder = json.load(f)
        return holder if isinstance(holder, dict) else None
    except (OSError, ValueError):
        return None  # being written right now, or unreadable: assume a live run


def _alive(holder):
    """Whether the process that holds a lock still runs (unknown: assume it does)."""
    pid = holder.get("pid")
    if holder.get("host") != platform.node() or not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
