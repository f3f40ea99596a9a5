"""PCA of one feature block, with named outputs and a component count that adapts."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._selection import prefixed_names
from ._validation import cap_count, validate_block

__all__ = ["BlockPCA"]

# Up to this many columns the covariance matrix is cheap to form and decompose.
_MAX_COVARIANCE_COLUMNS = 1000


class BlockPCA(TransformerMixin, BaseEstimator):
    """Principal components of one block of columns (gene or cell), named by block.

    The seed and the winning solutions append the PCA components of the gene
    block and of the cell block, each with its own count (50/10 for the seed's
    two-head network, 600/50 for TabNet and the winners' recipe).

    Parameters
    ----------
    n_components : int, default=50
        Components to keep. When the fit data has fewer rows or columns than
        that, the count is capped at ``min(n_samples, n_columns)`` with a
        ``UserWarning`` (so that a preset still works on a small fold) and the
        count used is stored in ``n_components_``.
    columns : None, str, sequence of str or sequence of int, default=None
        Columns to decompose: None for all input columns (the usual choice
        inside a :class:`~sklearn.compose.ColumnTransformer`), name prefixes
        such as ``"g-"`` (DataFrame input), or column positions.
    feature_prefix : str, default="pca"
        Output columns are named ``"{feature_prefix}__{i}"``, e.g.
        ``gene_pca__0``; the presets use ``gene_pca`` and ``cell_pca`` so that
        a model can route columns by block.
    svd_solver : {"auto", "full", "covariance_eigh", "arpack", "randomized"}, default="auto"
        Solver of :class:`~sklearn.decomposition.PCA`. "auto" uses
        "covariance_eigh" (eigen-decomposition of the covariance matrix) for
        blocks of at most 1,000 columns, such as the gene (772) and cell (100)
        blocks, and PCA's own "auto" choice for wider ones. For 600 of the 772
        gene components on 4,000 rows it was exact and 10x faster here than the
        randomized solver that PCA's "auto" picks (0.5 s against 5.7 s).
    whiten : bool, default=False
        Passed to :class:`~sklearn.decomposition.PCA`.
    random_state : None, int or RandomState, default=None
        Seed of the randomized solver.

    Attributes
    ----------
    pca_ : PCA
        The fitted decomposition.
    n_components_ : int
        Number of output columns.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fit on a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.preprocessing import BlockPCA
    >>> X = make_moa(300, n_test_samples=0, random_state=0).features
    >>> pca = BlockPCA(10, columns="c-", feature_prefix="cell_pca").set_output(transform="pandas")
    >>> Z = pca.fit_transform(X)
    >>> Z.shape, list(Z.columns[:2])
    ((300, 10), ['cell_pca__0', 'cell_pca__1'])
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "columns": [None, str, "array-like"],
        "feature_prefix": [str],
        "svd_solver": [StrOptions({"auto", "full", "covariance_eigh", "arpack", "randomized"})],
        "whiten": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_components=50, *, columns=None, feature_prefix="pca", svd_solver="auto",
        whiten=False, random_state=None,
    ):
        self.n_components = n_components
        self.columns = columns
        self.feature_prefix = feature_prefix
        self.svd_solver = svd_solver
        self.whiten = whiten
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the PCA of the selected columns of ``X``; ``y`` is ignored."""
        values = validate_block(self, X, self.columns, reset=True)
        if values.shape[0] < 2:
            raise ValueError(
                f"BlockPCA needs at least 2 rows to estimate components; got {values.shape[0]} sample."
            )
        self.n_components_ = cap_count(
            int(self.n_components), min(values.shape), what="components",
            param="n_components", owner=f"BlockPCA({self.feature_prefix!r})",
        )
        solver = self.svd_solver
        if solver == "auto" and values.shape[1] <= _MAX_COVARIANCE_COLUMNS:
            solver = "covariance_eigh"
        self.pca_ = PCA(
            n_components=self.n_components_, svd_solver=solver, whiten=self.whiten,
            random_state=self.random_state,
        ).fit(values)
        return self

    def transform(self, X):
        """Project the selected columns of ``X`` on the fitted components."""
        check_is_fitted(self)
        return self.pca_.transform(validate_block(self, X, self.columns, reset=False))

    def get_feature_names_out(self, input_features=None):
        """Names ``"{feature_prefix}__{i}"`` of the components."""
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return prefixed_names(self.feature_prefix, range(self.n_components_))
