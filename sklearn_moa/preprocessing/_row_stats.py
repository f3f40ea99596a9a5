"""Row-wise statistics of feature blocks (the seed's 15 statistics)."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._selection import prefixed_names, resolve_columns
from ._validation import validate_block

__all__ = ["RowStatistics", "MOA_BLOCKS"]

#: The seed's blocks: the gene block, the cell block and both together.
MOA_BLOCKS = (("g", "g-"), ("c", "c-"), ("gc", ("g-", "c-")))

_STATISTICS = ("sum", "mean", "std", "kurt", "skew")


# Rows per chunk: keeps the temporaries in cache (3x faster at full size).
_CHUNK_ROWS = 512


def _row_statistics_of(values):
    """sum, mean, std, kurtosis, skewness of each row, as pandas computes them.

    ``std`` has ``ddof=1``; ``kurt`` is the unbiased excess kurtosis and
    ``skew`` the adjusted Fisher-Pearson skewness (``DataFrame.kurtosis`` /
    ``DataFrame.skew``). Where a statistic is undefined (too few columns, or a
    constant row) it is 0 rather than NaN, so that downstream models never see
    NaN.
    """
    n = values.shape[1]
    total = values.sum(axis=1)
    mean = total / n
    dev = values - mean[:, None]
    dev2 = dev * dev
    m2 = dev2.sum(axis=1)
    m3 = (dev2 * dev).sum(axis=1)
    m4 = (dev2 * dev2).sum(axis=1)
    std = np.sqrt(m2 / (n - 1)) if n > 1 else np.zeros_like(total)
    # Relative tolerance: a row of equal values has m2 ~ rounding noise.
    flat = m2 <= 1e-14 * np.maximum(1.0, (values * values).sum(axis=1))
    safe_m2 = np.where(flat, 1.0, m2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if n > 2:
            skew = n * np.sqrt(n - 1) / (n - 2) * m3 / safe_m2**1.5
        else:
            skew = np.zeros_like(total)
        if n > 3:
            kurt = (n * (n + 1) * (n - 1) * m4) / ((n - 2) * (n - 3) * safe_m2**2) - (
                3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
            )
        else:
            kurt = np.zeros_like(total)
    skew = np.where(flat, 0.0, skew)
    kurt = np.where(flat, 0.0, kurt)
    return np.column_stack([total, mean, std, kurt, skew])


class RowStatistics(TransformerMixin, BaseEstimator):
    """Sum, mean, std, kurtosis and skewness of each row, per block of columns.

    With the default ``blocks="moa"`` these are the seed's 15 statistics: of
    the gene block (``g-*``), of the cell block (``c-*``) and of both together,
    named ``stats__g_sum, stats__g_mean, stats__g_std, stats__g_kurt,
    stats__g_skew, stats__c_sum, ..., stats__gc_skew``. Nothing is learned
    from the data: ``fit`` only records the columns.

    Parameters
    ----------
    blocks : "moa", None or sequence of (name, column spec), default="moa"
        ``"moa"``: the seed's three blocks (needs a DataFrame with ``g-``/``c-``
        columns). ``None``: one block ``"all"`` of every input column (for
        arrays). Otherwise pairs ``(name, spec)`` where ``spec`` is a name
        prefix, a tuple of prefixes or a list of column positions.
    feature_prefix : str, default="stats"
        Outputs are named ``"{feature_prefix}__{block}_{statistic}"``.

    Attributes
    ----------
    block_positions_ : dict of str -> ndarray of int
        Input positions of each block.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fit on a DataFrame with string column names.

    Notes
    -----
    Statistics that are undefined (std of one column, skewness of fewer than
    three, kurtosis of fewer than four, skewness/kurtosis of a constant row)
    are reported as 0.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.preprocessing import RowStatistics
    >>> X = make_moa(300, n_test_samples=0, random_state=0).features
    >>> stats = RowStatistics().fit(X)
    >>> stats.transform(X).shape, list(stats.get_feature_names_out()[:2])
    ((300, 15), ['stats__g_sum', 'stats__g_mean'])
    """

    _parameter_constraints = {
        "blocks": [StrOptions({"moa"}), None, list, tuple],
        "feature_prefix": [str],
    }

    def __init__(self, blocks="moa", *, feature_prefix="stats"):
        self.blocks = blocks
        self.feature_prefix = feature_prefix

    def _block_specs(self):
        if isinstance(self.blocks, str):
            if self.blocks != "moa":
                raise ValueError(f"blocks must be 'moa', None or (name, columns) pairs; got {self.blocks!r}.")
            return MOA_BLOCKS
        if self.blocks is None:
            return (("all", None),)
        try:
            specs = tuple((str(name), spec) for name, spec in self.blocks)
        except (TypeError, ValueError):
            raise ValueError(
                f"blocks must be 'moa', None or (name, columns) pairs; got {self.blocks!r}."
            ) from None
        if not specs:
            raise ValueError("blocks is empty.")
        return specs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the input columns and resolve each block; ``y`` is ignored."""
        specs = self._block_specs()
        blocks = {}

        def resolve(names, n_features):
            for name, spec in specs:
                blocks[name] = resolve_columns(spec, names, n_features, param=f"blocks[{name!r}]")
            return np.unique(np.concatenate(list(blocks.values())))

        # Only the columns of some block are validated (and must be numeric).
        validate_block(self, X, reset=True, param="blocks", resolve=resolve)
        self.block_positions_ = blocks
        return self

    def transform(self, X):
        """The statistics of each block, shape (n_samples, 5 * n_blocks)."""
        check_is_fitted(self)
        values = validate_block(self, X, reset=False, param="blocks")
        # ``values`` holds the union of the blocks' columns: map positions into it.
        where = np.full(self.n_features_in_, -1)
        where[self._positions] = np.arange(len(self._positions))
        blocks = [where[pos] for pos in self.block_positions_.values()]
        return np.vstack([
            np.hstack([_row_statistics_of(chunk[:, cols]) for cols in blocks])
            for chunk in (
                values[i : i + _CHUNK_ROWS] for i in range(0, max(len(values), 1), _CHUNK_ROWS)
            )
        ])

    def get_feature_names_out(self, input_features=None):
        """Names ``"{feature_prefix}__{block}_{statistic}"``."""
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return prefixed_names(
            self.feature_prefix, [f"{b}_{s}" for b in self.block_positions_ for s in _STATISTICS]
        )
