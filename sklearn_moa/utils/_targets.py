"""Validation of the multi-label target matrix, shared by models, splitters and ensembles."""

import numpy as np
import pandas as pd

from ._validation import check_numeric_finite

__all__ = ["check_multilabel_targets"]


def check_multilabel_targets(Y, n_samples=None):
    """Validate a multi-label target matrix and return it as an int8 ndarray.

    Parameters
    ----------
    Y : array-like or DataFrame of shape (n_samples, n_targets)
        0/1 label indicator matrix.
    n_samples : int, default=None
        Expected number of rows (that of ``X``).

    Returns
    -------
    Y : ndarray of shape (n_samples, n_targets), dtype int8
    names : ndarray of str or None
        Column names when ``Y`` is a DataFrame.

    Raises
    ------
    ValueError
        On a 1-D or empty ``Y``, a row count that differs from ``X``'s,
        missing or infinite values, or values other than 0 and 1.
    """
    names = None
    if Y is None:
        raise ValueError(
            "requires y to be passed, but the target y is None: fit needs the "
            "(n_samples, n_targets) 0/1 target matrix Y."
        )
    if isinstance(Y, pd.DataFrame):
        names = np.asarray(Y.columns, dtype=object)
    numeric = check_numeric_finite(Y, name="Y", what="target columns")
    not_binary = ~np.isin(numeric, (0.0, 1.0))
    if not_binary.any():
        bad = _bad_columns(not_binary)
        found = np.unique(numeric[not_binary])[:5]
        kind = (
            "Only binary classification is supported."
            if np.array_equal(found, np.round(found))
            else "Unknown label type: continuous values."
        )
        raise ValueError(
            f"{kind} Y must be a binary 0/1 indicator matrix, but columns "
            f"{_column_names(bad, names)} hold other values, e.g. {found.tolist()}."
        )
    if numeric.ndim != 2:
        raise ValueError(
            f"Y must be a 2-D (n_samples, n_targets) 0/1 indicator matrix; got an array "
            f"of shape {numeric.shape}. For a single target use Y.reshape(-1, 1)."
        )
    if numeric.shape[1] == 0 or numeric.shape[0] == 0:
        raise ValueError(f"Y is empty: shape {numeric.shape}.")
    if n_samples is not None and numeric.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but Y has {numeric.shape[0]}; they must match."
        )
    return numeric.astype(np.int8), names


def _bad_columns(mask):
    """Columns of a (possibly 1-D) boolean mask that hold a True."""
    as_2d = mask.reshape(len(mask), -1) if mask.ndim else mask.reshape(1, 1)
    return np.flatnonzero(as_2d.any(axis=0))


def _column_names(indices, names, limit=5):
    shown = [str(names[i]) if names is not None else str(i) for i in indices[:limit]]
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return "[" + ", ".join(shown) + "]" + more
