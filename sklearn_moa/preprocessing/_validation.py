"""Input validation shared by the numeric block transformers."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from ..utils._validation import check_numeric_finite
from ._selection import resolve_columns

__all__ = ["validate_block", "cap_count"]


def _column_names(estimator, n_features):
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(n_features)]
    return [str(n) for n in names]


def validate_block(estimator, X, spec=None, *, reset, param="columns", resolve=None):
    """Validate ``X`` and return the float64 values of the columns ``spec`` selects.

    On ``reset=True`` (fit) this records ``n_features_in_`` and
    ``feature_names_in_`` and stores the selected positions in
    ``estimator._positions`` (``resolve(feature_names, n_features)`` replaces
    the spec for transformers with several blocks); on ``reset=False``
    (transform) it checks that the columns match those seen in fit and reuses
    the stored positions. Only the selected columns need to be numeric, so a
    raw Kaggle frame with its string treatment columns can be passed as is.

    Raises
    ------
    ValueError
        For non-numeric selected columns, or NaN/infinite values (the message
        names the columns).
    """
    is_frame = hasattr(X, "iloc")
    if not is_frame:
        X = check_array(X, dtype=np.float64, ensure_all_finite=False)
    X = validate_data(estimator, X, reset=reset, skip_check_array=True)
    if reset:
        names = getattr(estimator, "feature_names_in_", None)
        if resolve is None:
            estimator._positions = resolve_columns(spec, names, X.shape[1], param=param)
        else:
            estimator._positions = np.asarray(resolve(names, X.shape[1]), dtype=np.intp)
    positions = estimator._positions
    block = X.iloc[:, positions] if is_frame else X[:, positions]
    names = _column_names(estimator, estimator.n_features_in_)
    return check_numeric_finite(
        block, what=f"columns selected by {param}", columns=[names[p] for p in positions]
    )


def cap_count(requested, limit, *, what, param, owner):
    """``min(requested, limit)``, warning when the request had to be reduced.

    Used for PCA components and k-means clusters: a small fold (or a test
    with few rows) cannot support 600 components, and failing would make a
    preset unusable on small data. The fitted count is always stored in an
    attribute so that the actual output width is known.
    """
    if requested > limit:
        warnings.warn(
            f"{owner}: {param}={requested} is more than the {limit} {what} this data "
            f"supports; using {limit}.",
            UserWarning,
            stacklevel=3,
        )
        return int(limit)
    return int(requested)
