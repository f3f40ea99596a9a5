"""Writer for the Kaggle ``sample_submission.csv`` layout."""

import os

import numpy as np
import pandas as pd

from ._columns import ID_COLUMN
from ._validation import _show

__all__ = ["write_submission"]


def write_submission(sig_ids, proba, target_names, path):
    """Write predicted probabilities in the Kaggle submission layout.

    The file has a ``sig_id`` column followed by one column per target, in the
    order of ``target_names``, one row per ``sig_id``.

    Parameters
    ----------
    sig_ids : array-like of str of shape (n_samples,)
        Row identifiers (e.g. ``test_features.index``).
    proba : array-like or DataFrame of shape (n_samples, n_targets)
        Positive-class probabilities, finite and within ``[0, 1]``. When a
        DataFrame is given whose columns contain all ``target_names``, its
        columns are reordered to ``target_names``.
    target_names : sequence of str of length n_targets
        Column names, e.g. ``data.target_names``.
    path : str or path-like
        Output CSV file.

    Returns
    -------
    path : str or path-like
        The ``path`` written.

    Raises
    ------
    ValueError
        If the shapes disagree, ids are duplicated, or probabilities are NaN,
        infinite or outside ``[0, 1]``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_moa.datasets import write_submission
    >>> out = os.path.join(tempfile.mkdtemp(), "submission.csv")
    >>> _ = write_submission(["id_0", "id_1"], np.full((2, 2), 0.01), ["a", "b"], out)
    >>> print(open(out).read().splitlines()[0])
    sig_id,a,b
    """
    target_names = [str(t) for t in target_names]
    if len(set(target_names)) != len(target_names):
        raise ValueError("target_names contains duplicated names.")
    if isinstance(proba, pd.DataFrame):
        cols = [str(c) for c in proba.columns]
        if set(target_names) <= set(cols) and cols != target_names:
            proba = proba.set_axis(cols, axis=1)[target_names]
        proba = proba.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            proba = np.asarray(proba, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"proba must be numeric: {exc}") from exc
    if proba.ndim != 2:
        raise ValueError(
            f"proba must be 2-D (n_samples, n_targets); got shape {proba.shape}."
        )
    sig_ids = pd.Index(np.asarray(sig_ids).ravel(), name=ID_COLUMN)
    if len(sig_ids) != proba.shape[0]:
        raise ValueError(
            f"len(sig_ids) = {len(sig_ids)} does not match proba.shape[0] = "
            f"{proba.shape[0]}."
        )
    if len(target_names) != proba.shape[1]:
        raise ValueError(
            f"len(target_names) = {len(target_names)} does not match "
            f"proba.shape[1] = {proba.shape[1]}."
        )
    if sig_ids.has_duplicates:
        raise ValueError(
            f"sig_ids has duplicated values: {_show(sig_ids[sig_ids.duplicated()].unique())}"
        )
    finite = np.isfinite(proba)
    if not finite.all():
        cols = [target_names[i] for i in np.flatnonzero(~finite.all(axis=0))]
        raise ValueError(
            f"proba has {int((~finite).sum())} NaN or infinite values in columns: "
            f"{_show(cols)}"
        )
    outside = (proba < 0) | (proba > 1)
    if outside.any():
        cols = [target_names[i] for i in np.flatnonzero(outside.any(axis=0))]
        raise ValueError(
            f"proba has {int(outside.sum())} values outside [0, 1] in columns: "
            f"{_show(cols)}"
        )
    frame = pd.DataFrame(proba, index=sig_ids, columns=target_names)
    frame.to_csv(path, index=True)
    return path
