"""Column selection by name prefix or position, shared by the block transformers.

A *column spec* says which input columns a transformer works on:

- ``None``: every input column (the only choice that needs no names, so the
  default of the single-block transformers, which get their block from a
  :class:`~sklearn.compose.ColumnTransformer`);
- a ``str`` or a tuple/list of ``str``: name prefixes, e.g. ``"g-"`` or
  ``("g-", "c-")``; needs a :class:`pandas.DataFrame` input with column names;
- a list of ``int``: column positions (for arrays).

Selecting by prefix on an array is an error, not a silent fall-back to all
columns: a NumPy copy of a Kaggle frame would otherwise mix the treatment
columns into the gene statistics.
"""

import numbers

import numpy as np

from ..datasets._columns import names_starting_with
from ..datasets._validation import _show

__all__ = ["resolve_columns", "prefixed_names", "names_starting_with"]


def _is_prefix_spec(spec):
    if isinstance(spec, str):
        return True
    return (
        isinstance(spec, (list, tuple))
        and len(spec) > 0
        and all(isinstance(s, str) for s in spec)
    )


def resolve_columns(spec, feature_names, n_features, *, param="columns"):
    """Positions of the columns that ``spec`` selects.

    Parameters
    ----------
    spec : None, str, sequence of str or sequence of int
        The column spec (see the module docstring).
    feature_names : ndarray of str or None
        Column names of the input (``feature_names_in_``), None for arrays.
    n_features : int
        Number of input columns.
    param : str, default="columns"
        Name of the parameter that holds ``spec``, for error messages.

    Returns
    -------
    positions : ndarray of int
        Selected positions, in input order.

    Raises
    ------
    ValueError
        When a prefix is used without column names, when a prefix matches no
        column, or when a position is out of range.
    """
    if spec is None:
        return np.arange(n_features)
    if _is_prefix_spec(spec):
        prefixes = (spec,) if isinstance(spec, str) else tuple(spec)
        if feature_names is None:
            raise ValueError(
                f"{param}={spec!r} selects columns by name prefix, which needs a pandas "
                f"DataFrame with column names; X has none. Pass {param}=None (all "
                "columns) or a list of column positions for arrays."
            )
        names = [str(n) for n in feature_names]
        positions = [i for i, n in enumerate(names) if n.startswith(prefixes)]
        missing = [p for p in prefixes if not any(n.startswith(p) for n in names)]
        if missing:
            raise ValueError(
                f"X has no columns whose name starts with {_show([repr(p) for p in missing])} "
                f"({param}={spec!r})."
            )
        return np.asarray(positions, dtype=np.intp)
    try:
        positions = np.asarray(spec)
    except Exception:  # pragma: no cover - defensive
        positions = np.asarray([], dtype=object)
    if (
        positions.ndim != 1
        or positions.size == 0
        or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in spec)
    ):
        raise ValueError(
            f"{param} must be None, a name prefix (str), a sequence of prefixes or a "
            f"non-empty sequence of column positions; got {spec!r}."
        )
    positions = positions.astype(np.intp)
    bad = positions[(positions < 0) | (positions >= n_features)]
    if bad.size:
        raise ValueError(
            f"{param} has positions {_show(bad.tolist())} out of range for X with "
            f"{n_features} columns."
        )
    return positions


def prefixed_names(prefix, suffixes):
    """Output feature names ``"{prefix}__{suffix}"`` as an object array."""
    return np.asarray([f"{prefix}__{s}" for s in suffixes], dtype=object)
