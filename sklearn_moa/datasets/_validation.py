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


def _check_allowed(values, allowed, column, source):
    values = pd.Series(values)
    ok = values.isin(allowed).to_numpy()
    if not ok.all():
        bad = pd.unique(values[~ok])
        raise ValueError(
            f"{source} has {int((~ok).sum())} rows with unknown {column} values "
            f"{_show([repr(v) for v in bad])}; allowed values are "
            f"{', '.join(repr(a) for a in allowed)}."
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
        check_numeric_finite(X[numeric_cols], name=source, what="feature columns")

    if "cp_type" in X.columns:
        _check_allowed(X["cp_type"], CP_TYPES, "cp_type", source)
    if "cp_dose" in X.columns:
        _check_allowed(X["cp_dose"], CP_DOSES, "cp_dose", source)
    if "cp_time" in X.columns:
        cp_time = X["cp_time"]
        if pd.api.types.is_numeric_dtype(cp_time.dtype):
            _check_allowed(cp_time, CP_TIMES, "cp_time", source)
        else:
            _check_allowed(cp_time, CP_TIMES, "cp_time (non-numeric column)", source)
    return None
