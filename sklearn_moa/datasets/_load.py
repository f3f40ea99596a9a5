"""Reader for the Kaggle LISH-MoA folder layout, plain or compressed."""

import os
import zipfile

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._validation import check_numeric_finite
from ._columns import DRUG_COLUMN, FEATURE_COLUMNS, ID_COLUMN
from ._validation import _show, check_moa_features

__all__ = ["load_moa"]

TRAIN_FEATURES = "train_features.csv"
TRAIN_TARGETS_SCORED = "train_targets_scored.csv"
TRAIN_TARGETS_NONSCORED = "train_targets_nonscored.csv"
TRAIN_DRUG = "train_drug.csv"
TEST_FEATURES = "test_features.csv"

#: Compressed forms of a file that are read directly (pandas infers the codec).
COMPRESSED_SUFFIXES = (".gz", ".zip", ".bz2", ".xz")

#: What a file's first bytes say it is, for the message when it cannot be read.
_MAGIC_BYTES = [
    (b"\x1f\x8b", "a gzip file"),
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx file)"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls file"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
    (b"PAR1", "a Parquet file"),
]


class _Source:
    """Where the competition files are: a folder, or a zip archive such as lish-moa.zip.

    A file ``name`` is found as itself or compressed (``name.gz``, ``name.zip``,
    ...) in a folder, and as a member of the archive (at its root or in one
    subfolder) in a zip.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.archive = None
        if os.path.isdir(self.path):
            return
        if os.path.isfile(self.path) and self.path.lower().endswith(".zip"):
            try:
                self.archive = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ValueError(
                    f"LISH-MoA data {self.path!r} could not be opened as a zip archive "
                    f"({_what_it_is(self.path) or exc})."
                ) from None
            self.members = {}
            for info in self.archive.infolist():
                if not info.is_dir():
                    self.members.setdefault(info.filename.rsplit("/", 1)[-1], info.filename)
            return
        if os.path.isfile(self.path):
            raise ValueError(
                f"LISH-MoA data {self.path!r} is a file: give the folder holding the competition's "
                "CSV files, or the competition's zip archive (lish-moa.zip)."
            )
        raise ValueError(f"LISH-MoA data folder {self.path!r} does not exist or is not a folder.")

    def find(self, name):
        """How to open ``name`` (a path or an archive member), or None when it is absent."""
        if self.archive is not None:
            for candidate in (name, *(name + suffix for suffix in COMPRESSED_SUFFIXES)):
                if candidate in self.members:
                    return self.members[candidate]
            return None
        for candidate in (name, *(name + suffix for suffix in COMPRESSED_SUFFIXES)):
            full = os.path.join(self.path, candidate)
            if os.path.isfile(full):
                return full
        return None

    def require(self, name):
        found = self.find(name)
        if found is None:
            raise ValueError(f"{name} is required but was not found in {self.path!r}.")
        return found

    def read_csv(self, where, name):
        """Read ``where`` (from :meth:`find`) as the competition file ``name``."""
        label = os.path.basename(where) if where.rsplit("/", 1)[-1] != name else name
        try:
            if self.archive is not None:
                with self.archive.open(where) as handle:
                    compression = _compression(where)
                    df = pd.read_csv(handle, engine="c", compression=compression)
            else:
                df = pd.read_csv(where, engine="c")
        except pd.errors.EmptyDataError:
            raise ValueError(f"{label} is empty: it has no header and no rows.") from None
        except UnicodeDecodeError as exc:
            what = _what_it_is(where, self.archive)
            raise ValueError(
                f"{label} is not UTF-8 text"
                + (f": it looks like {what}" if what else f" (byte {exc.object[exc.start:exc.start + 1]!r} "
                   f"at position {exc.start})")
                + "; save it as a UTF-8 CSV file"
                + (", or name it after its compression (e.g. .csv.gz)." if what and "UTF-16" not in what
                   else ".")
            ) from None
        except (pd.errors.ParserError, ValueError, OSError, EOFError, zipfile.BadZipFile,
                NotImplementedError) as exc:
            what = _what_it_is(where, self.archive)
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(
                f"{label} could not be read as CSV"
                + (f" (it looks like {what})" if what else "")
                + f": {detail}"
            ) from None
        return df


def _compression(name):
    lower = name.lower()
    for suffix, codec in ((".gz", "gzip"), (".zip", "zip"), (".bz2", "bz2"), (".xz", "xz")):
        if lower.endswith(suffix):
            return codec
    return None


def _what_it_is(where, archive=None):
    """What a file's first bytes say it is, or None for anything else."""
    try:
        if archive is not None:
            with archive.open(where) as handle:
                start = handle.read(8)
        else:
            with open(where, "rb") as handle:
                start = handle.read(8)
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    for magic, what in _MAGIC_BYTES:
        if start.startswith(magic):
            return what
    return None


def _read_csv(source, where, name):
    df = source.read_csv(where, name)
    if ID_COLUMN not in df.columns:
        raise ValueError(
            f"{name} is missing the {ID_COLUMN!r} column; found columns "
            f"{_show(df.columns)}"
        )
    if len(df) == 0:
        raise ValueError(f"{name} has a header but no rows.")
    ids = df[ID_COLUMN]
    if ids.isna().any():
        raise ValueError(f"{name} has {int(ids.isna().sum())} empty {ID_COLUMN} values.")
    dup = ids.duplicated()
    if dup.any():
        raise ValueError(
            f"{name} has {int(dup.sum())} duplicated {ID_COLUMN} values: "
            f"{_show(pd.unique(ids[dup]))}"
        )
    return df.set_index(ID_COLUMN)


def _align(df, index, name, reference):
    """Reorder ``df`` to ``index``; raise if the id sets differ."""
    if df.index.equals(index):
        return df
    missing = index.difference(df.index, sort=False)
    extra = df.index.difference(index, sort=False)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(
                f"{len(missing)} {ID_COLUMN}s of {reference} are missing "
                f"({_show(missing)})"
            )
        if len(extra):
            parts.append(
                f"{len(extra)} {ID_COLUMN}s are not in {reference} ({_show(extra)})"
            )
        raise ValueError(f"{name} ids do not match {reference}: " + "; ".join(parts))
    return df.reindex(index)


def _check_targets(df, name):
    if df.shape[1] == 0:
        raise ValueError(f"{name} has no target columns besides {ID_COLUMN!r}.")
    values = check_numeric_finite(df, name=name, what="target columns")
    bad = (values != 0) & (values != 1)
    if bad.any():
        cols = df.columns[bad.any(axis=0)]
        example = values[bad][0]
        raise ValueError(
            f"{name} has non-0/1 target values (e.g. {example:g}) in "
            f"{len(cols)} columns: {_show(cols)}"
        )
    return df.astype(np.int64)


def _read_features(source, where, name):
    df = _read_csv(source, where, name)
    check_moa_features(df, source=name)
    return df.loc[:, list(FEATURE_COLUMNS)]


def read_test_features(path):
    """``test_features.csv`` of a LISH-MoA folder or zip archive, validated.

    Only that file is read (predicting needs no training file).
    """
    source = _Source(path)
    return _read_features(source, source.require(TEST_FEATURES), TEST_FEATURES)


def load_moa(path, *, nonscored_targets=True, test=True):
    """Load a Kaggle LISH-MoA data folder, or the competition's zip archive.

    Reads ``train_features.csv`` and ``train_targets_scored.csv`` (required)
    and, where present, ``train_targets_nonscored.csv``, ``train_drug.csv`` and
    ``test_features.csv``. Each file may also be compressed (``.csv.gz``,
    ``.csv.zip``, ``.csv.bz2``, ``.csv.xz``), and ``path`` may be the
    competition's download ``lish-moa.zip`` itself. Every training frame is aligned to the row order of
    ``train_features.csv``, whatever the order inside each file. Values are read
    with pandas' defaults (float64 features, int64 targets) so that results
    equal those of the public real-data kernels.

    Parameters
    ----------
    path : str or path-like
        Folder holding the competition files, or a zip archive of them.
    nonscored_targets : bool, default=True
        Read ``train_targets_nonscored.csv`` (when present).
    test : bool, default=True
        Read ``test_features.csv`` (when present). A file that is not read is
        not validated either.

    Returns
    -------
    data : :class:`sklearn.utils.Bunch`
        - ``features``: DataFrame indexed by ``sig_id`` with columns
          ``cp_type, cp_time, cp_dose, g-0..g-771, c-0..c-99``;
        - ``targets``: DataFrame indexed by ``sig_id``, int64 0/1, the scored
          targets in the file's column order;
        - ``nonscored_targets``: same for the non-scored targets, or None;
        - ``drugs``: Series of ``drug_id`` indexed by ``sig_id``, or None;
        - ``test_features``: DataFrame like ``features``, or None;
        - ``target_names``: list of the scored target names;
        - ``nonscored_target_names``: list, or None.

    Raises
    ------
    ValueError
        Naming the file and the problem: missing folder or required file, a
        file that is not CSV (saying what it looks like), a file without rows,
        missing columns, ids that do not match between files, duplicated ids,
        NaN or non-0/1 targets, unknown ``cp_type``/``cp_dose``/``cp_time``
        (with the rows and values).

    See Also
    --------
    make_moa : Synthetic data with the same layout.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_moa.datasets import make_moa, load_moa
    >>> d = make_moa(300, n_test_samples=60, random_state=0)
    >>> folder = tempfile.mkdtemp()
    >>> d.features.to_csv(f"{folder}/train_features.csv")
    >>> d.targets.to_csv(f"{folder}/train_targets_scored.csv")
    >>> data = load_moa(folder)
    >>> data.features.shape, data.targets.shape
    ((300, 875), (300, 206))
    >>> data.drugs is None
    True
    """
    source = _Source(path)
    features = _read_features(source, source.require(TRAIN_FEATURES), TRAIN_FEATURES)
    index = features.index

    targets = _read_csv(source, source.require(TRAIN_TARGETS_SCORED), TRAIN_TARGETS_SCORED)
    targets = _check_targets(targets, TRAIN_TARGETS_SCORED)
    targets = _align(targets, index, TRAIN_TARGETS_SCORED, TRAIN_FEATURES)

    nonscored = None
    nonscored_path = source.find(TRAIN_TARGETS_NONSCORED) if nonscored_targets else None
    if nonscored_path is not None:
        nonscored = _read_csv(source, nonscored_path, TRAIN_TARGETS_NONSCORED)
        nonscored = _check_targets(nonscored, TRAIN_TARGETS_NONSCORED)
        nonscored = _align(nonscored, index, TRAIN_TARGETS_NONSCORED, TRAIN_FEATURES)

    drugs = None
    drug_path = source.find(TRAIN_DRUG)
    if drug_path is not None:
        drug_df = _read_csv(source, drug_path, TRAIN_DRUG)
        if DRUG_COLUMN not in drug_df.columns:
            raise ValueError(
                f"{TRAIN_DRUG} is missing the {DRUG_COLUMN!r} column; found columns "
                f"{_show([ID_COLUMN, *drug_df.columns])}"
            )
        if drug_df[DRUG_COLUMN].isna().any():
            raise ValueError(
                f"{TRAIN_DRUG} has {int(drug_df[DRUG_COLUMN].isna().sum())} empty "
                f"{DRUG_COLUMN} values."
            )
        drugs = _align(drug_df[DRUG_COLUMN], index, TRAIN_DRUG, TRAIN_FEATURES)

    test_features = None
    test_path = source.find(TEST_FEATURES) if test else None
    if test_path is not None:
        test_features = _read_features(source, test_path, TEST_FEATURES)
        shared = test_features.index.intersection(index, sort=False)
        if len(shared):
            raise ValueError(
                f"{TEST_FEATURES} shares {len(shared)} {ID_COLUMN}s with "
                f"{TRAIN_FEATURES}: {_show(shared)}"
            )

    return Bunch(
        features=features,
        targets=targets,
        nonscored_targets=nonscored,
        drugs=drugs,
        test_features=test_features,
        target_names=list(targets.columns),
        nonscored_target_names=None if nonscored is None else list(nonscored.columns),
    )
