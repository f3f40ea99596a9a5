"""The numeric-and-finite check every reader, transformer and metric shares."""

import numpy as np
import pandas as pd

__all__ = ["check_numeric_finite", "show_items"]

_N_SHOWN = 5


def show_items(items, n=_N_SHOWN):
    """Comma separated list of the first ``n`` items, with an ellipsis."""
    items = [str(i) for i in items]
    shown = ", ".join(items[:n])
    if len(items) > n:
        shown += ", ..."
    return shown


def check_numeric_finite(X, *, name="X", what="columns", columns=None):
    """Float64 values of ``X``; an error naming the non-numeric or non-finite columns.

    Booleans count as numeric (0 and 1), as in scikit-learn's ``check_array``.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples,) or (n_samples, n_columns)
    name : str, default="X"
        What ``X`` is, first word of the messages (``"X"``, a file name).
    what : str, default="columns"
        What its columns are, for the messages (``"feature columns"``).
    columns : sequence of str, default=None
        Column names of an array ``X`` for the messages (a DataFrame's own
        names are used); positions when None.

    Returns
    -------
    values : ndarray of float64, of the shape of ``X``

    Raises
    ------
    ValueError
        ``"{name} has 2 non-numeric {what}: a, b"`` or
        ``"{name} has 3 NaN or infinite values in 2 {what}: a, b"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_moa.utils._validation import check_numeric_finite
    >>> check_numeric_finite(pd.DataFrame({"g-0": [0.5, np.inf], "c-0": [True, False]}))
    Traceback (most recent call last):
    ...
    ValueError: X has 1 NaN or infinite values in 1 columns: g-0
    """
    if isinstance(X, (pd.DataFrame, pd.Series)):
        frame = X.to_frame() if isinstance(X, pd.Series) else X
        columns = [str(c) for c in frame.columns]
        # pandas counts booleans as numeric, as wanted.
        bad = [c for c, dt in zip(columns, frame.dtypes) if not pd.api.types.is_numeric_dtype(dt)]
        if bad:
            raise ValueError(f"{name} has {len(bad)} non-numeric {what}: {show_items(bad)}")
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raw = np.asarray(X)
        if not pd.api.types.is_numeric_dtype(raw.dtype):
            as_2d = raw.reshape(len(raw), -1) if raw.ndim else raw.reshape(1, 1)
            bad = [j for j in range(as_2d.shape[1]) if not _converts(as_2d[:, j])]
            if bad:
                names = [columns[j] if columns is not None else j for j in bad]
                raise ValueError(f"{name} has {len(bad)} non-numeric {what}: {show_items(names)}")
        values = raw.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        as_2d = finite.reshape(len(finite), -1) if finite.ndim else finite.reshape(1, 1)
        bad = np.flatnonzero(~as_2d.all(axis=0))
        names = [columns[j] if columns is not None else j for j in bad]
        raise ValueError(
            f"{name} has {int((~finite).sum())} NaN or infinite values in {len(bad)} {what}: "
            f"{show_items(names)}"
        )
    return values


def _converts(column):
    try:
        column.astype(np.float64)
    except (TypeError, ValueError):
        return False
    return True
