"""Fast, vectorised validation of MoA feature frames.

Every layer that accepts a LISH-MoA style feature frame (the reader, the
preprocessing presets, the control-row wrapper) calls
:func:`check_moa_features`, so that a wrong input fails early with a message
that names the source and the problem.
"""

import numpy as np
import pandas as pd

from ..utils._validation import check_numeric_finite, show_items
from ._columns import (
    CELL_COLUMNS,
    CELL_PREFIX,
    CP_DOSES,
    CP_TIMES,
    CP_TYPES,
    GENE_COLUMNS,
    GENE_PREFIX,
    TREATMENT_COLUMNS,
)

__all__ = ["check_moa_features"]

_show = show_items


def _check_missing(columns, required, what, source):
    present = set(columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise ValueError(
            f"{source} is missing {len(missing)} of the {len(required)} {what} "
            f"columns: {_show(missing)}"
        )


def _as_written(value):
    """A value as the user wrote it: ``36`` and ``'x'``, never ``np.int64(36)``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return repr(value)


def _rows(index, mask):
    """The row labels (sig_ids) where ``mask`` holds, for a message."""
    return _show(np.asarray(index)[mask])


def _check_allowed(values, allowed, column, source):
    values = pd.Series(values)
    ok = values.isin(allowed).to_numpy()
    if not pd.api.types.is_numeric_dtype(values.dtype) and all(
        isinstance(a, (int, np.integer)) for a in allowed
    ):
        # A number column that pandas read as text because of some bad values:
        # the numbers among them are fine, only the others are reported.
        ok = ok | pd.to_numeric(values, errors="coerce").isin(allowed).to_numpy()
    if not ok.all():
        bad = pd.unique(values[~ok])
        n_bad = int((~ok).sum())
        raise ValueError(
            f"{source} has {n_bad} row{'s' if n_bad > 1 else ''} with unknown {column} values "
            f"{_show([_as_written(v) for v in bad])} (rows {_rows(values.index, ~ok)}); "
            f"allowed values are {', '.join(_as_written(a) for a in allowed)}."
        )


def _check_numeric_columns(block, columns, source):
    """Name the cells of text in number columns (with their rows), not just the columns."""
    parts = []
    for column in columns:
        values = block[column]
        converted = pd.to_numeric(values, errors="coerce")
        bad = (converted.isna() & values.notna()).to_numpy()
        if bad.any():
            n_bad = int(bad.sum())
            row, value = np.asarray(values.index)[bad][0], values[bad].iloc[0]
            more = f" and {n_bad - 1} more row{'s' if n_bad > 2 else ''}" if n_bad > 1 else ""
            parts.append(f"{column}={_as_written(value)} in row {row}{more}")
    if parts:
        raise ValueError(
            f"{source} has non-numeric values in {len(parts)} feature "
            f"column{'s' if len(parts) > 1 else ''}: {'; '.join(parts[:5])}"
            + ("; ..." if len(parts) > 5 else "")
        )
    raise ValueError(
        f"{source} has {len(columns)} non-numeric feature columns: {_show(columns)}"
    )


def check_moa_features(
    X, *, source="X", require_genes=True, require_cells=True, require_treatment=True
):
    """Validate a LISH-MoA feature frame; raise ``ValueError`` naming the problem.

    The checks are vectorised and cheap (a few milliseconds at full size):

    - ``X`` is a :class:`pandas.DataFrame`;
    - the required columns are present (``g-0..g-771``, ``c-0..c-99``,
      ``cp_type``/``cp_time``/``cp_dose``, each group only when required);
    - every ``g-*`` and ``c-*`` column present is numeric and finite;
    - ``cp_type`` is one of ``trt_cp``/``ctl_vehicle``, ``cp_dose`` one of
      ``D1``/``D2`` and ``cp_time`` one of 24/48/72 (where present).

    Parameters
    ----------
    X : DataFrame
        Feature frame in the layout of ``train_features.csv``.
    source : str, default="X"
        Name of the input used in error messages (a file name, ``"X"``).
    require_genes : bool, default=True
        Require all 772 gene-expression columns ``g-0..g-771``.
    require_cells : bool, default=True
        Require all 100 cell-viability columns ``c-0..c-99``.
    require_treatment : bool, default=True
        Require the treatment columns ``cp_type``, ``cp_time``, ``cp_dose``.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        With a message naming ``source`` and the offending columns or values.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa, check_moa_features
    >>> X = make_moa(300, n_test_samples=0, random_state=0).features
    >>> check_moa_features(X)
    >>> check_moa_features(X.drop(columns=["g-5"]))
    Traceback (most recent call last):
    ...
    ValueError: X is missing 1 of the 772 gene columns: g-5
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{source} must be a pandas DataFrame with the LISH-MoA columns; "
            f"got {type(X).__name__}."
        )
    columns = list(X.columns)
    if require_treatment:
        _check_missing(columns, TREATMENT_COLUMNS, "treatment", source)
    if require_genes:
        _check_missing(columns, GENE_COLUMNS, "gene", source)
    if require_cells:
        _check_missing(columns, CELL_COLUMNS, "cell", source)

    numeric_cols = [
        c for c in columns if isinstance(c, str) and c.startswith((GENE_PREFIX, CELL_PREFIX))
    ]
    if numeric_cols:
        block = X[numeric_cols]
        not_numeric = [c for c, dt in zip(numeric_cols, block.dtypes)
                       if not pd.api.types.is_numeric_dtype(dt)]
        if not_numeric:  # name the cells of text, with their rows
            _check_numeric_columns(block, not_numeric, source)
        check_numeric_finite(block, name=source, what="feature columns")

    if "cp_type" in X.columns:
        _check_allowed(X["cp_type"], CP_TYPES, "cp_type", source)
    if "cp_dose" in X.columns:
        _check_allowed(X["cp_dose"], CP_DOSES, "cp_dose", source)
    if "cp_time" in X.columns:
        cp_time = X["cp_time"]
        _check_allowed(cp_time, CP_TIMES, "cp_time", source)
        if not pd.api.types.is_numeric_dtype(cp_time.dtype):
            raise ValueError(f"{source}: cp_time must be a number column (24, 48 or 72).")
    return None
