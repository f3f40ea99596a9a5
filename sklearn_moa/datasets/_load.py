"""Reader for the Kaggle LISH-MoA folder layout."""

import os

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


def _read_csv(path, name):
    try:
        df = pd.read_csv(path, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name} could not be parsed as CSV: {exc}") from exc
    if ID_COLUMN not in df.columns:
        raise ValueError(
            f"{name} is missing the {ID_COLUMN!r} column; found columns "
            f"{_show(df.columns)}"
        )
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


def _read_features(path, name):
    df = _read_csv(path, name)
    check_moa_features(df, source=name)
    return df.loc[:, list(FEATURE_COLUMNS)]


def load_moa(path):
    """Load a Kaggle LISH-MoA data folder.

    Reads ``train_features.csv`` and ``train_targets_scored.csv`` (required)
    and, where present, ``train_targets_nonscored.csv``, ``train_drug.csv`` and
    ``test_features.csv``. Every training frame is aligned to the row order of
    ``train_features.csv``, whatever the order inside each file. Values are read
    with pandas' defaults (float64 features, int64 targets) so that results
    equal those of the public real-data kernels.

    Parameters
    ----------
    path : str or path-like
        Folder holding the competition files.

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
        Naming the file and the problem: missing folder or required file,
        missing columns, ids that do not match between files, duplicated ids,
        NaN or non-0/1 targets, unknown ``cp_type``/``cp_dose``/``cp_time``.

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
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ValueError(f"LISH-MoA data folder {path!r} does not exist or is not a folder.")

    def file(name, required):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            return full
        if required:
            raise ValueError(f"{name} is required but was not found in {path!r}.")
        return None

    features_path = file(TRAIN_FEATURES, True)
    targets_path = file(TRAIN_TARGETS_SCORED, True)
    nonscored_path = file(TRAIN_TARGETS_NONSCORED, False)
    drug_path = file(TRAIN_DRUG, False)
    test_path = file(TEST_FEATURES, False)

    features = _read_features(features_path, TRAIN_FEATURES)
    index = features.index

    targets = _read_csv(targets_path, TRAIN_TARGETS_SCORED)
    targets = _check_targets(targets, TRAIN_TARGETS_SCORED)
    targets = _align(targets, index, TRAIN_TARGETS_SCORED, TRAIN_FEATURES)

    nonscored = None
    if nonscored_path is not None:
        nonscored = _read_csv(nonscored_path, TRAIN_TARGETS_NONSCORED)
        nonscored = _check_targets(nonscored, TRAIN_TARGETS_NONSCORED)
        nonscored = _align(nonscored, index, TRAIN_TARGETS_NONSCORED, TRAIN_FEATURES)

    drugs = None
    if drug_path is not None:
        drug_df = _read_csv(drug_path, TRAIN_DRUG)
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
    if test_path is not None:
        test_features = _read_features(test_path, TEST_FEATURES)
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
