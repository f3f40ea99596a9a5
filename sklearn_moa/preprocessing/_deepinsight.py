"""DeepInsight: tabular rows painted as images on a learnt feature map.

DeepInsight (Sharma et al., Scientific Reports 2019) places the *features* on
a 2-D plane, by t-SNE or kernel PCA of the feature vectors (one point per
column, its coordinates the column's values over the training rows), rotates
the cloud into its minimum-area bounding rectangle and rasterises it onto a
``resolution`` x ``resolution`` grid. Each row then becomes an image: a
pixel holds the (scaled) values of the features that land on it, so that
correlated features sit side by side and a CNN can use their neighbourhood.

The 1st place of LISH-MoA fed such images to EfficientNet-B3 and ResNeSt
models (t-SNE, perplexity 5 for ResNeSt, the paper's log scaling, empty
pixels 1, and three channels: mean, minimum and maximum of the features of
a pixel); they correlated 0.63-0.73 with the team's dense networks.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["DeepInsightTransformer"]

#: Below this many features there is no layout to learn: features go on a line.
_MIN_FEATURES_TO_EMBED = 4


class DeepInsightTransformer(TransformerMixin, BaseEstimator):
    """Paint each row as an image on a feature-to-pixel map learnt from training data.

    :meth:`fit` scales the features to [0, 1], embeds the feature vectors
    (columns of the training matrix) in 2-D, rotates the embedding into its
    minimum-area bounding rectangle and assigns each feature a pixel of a
    ``resolution`` x ``resolution`` grid. :meth:`transform` scales new rows
    with the training statistics and paints them: a pixel holds the mean (and
    with ``channels="mean_min_max"`` also the minimum and maximum) of its
    features; pixels without a feature hold ``empty_value``.

    Parameters
    ----------
    resolution : int, default=50
        Side of the square image in pixels. The 1st place used 224 (ResNeSt)
        and 300 (EfficientNet-B3) on 872 features; several features share a
        pixel when the grid is coarse.
    method : {"tsne", "kpca", "pca"}, default="tsne"
        How the feature vectors are embedded: t-SNE with the cosine metric
        (the paper's and the 1st place's choice), RBF kernel PCA, or PCA.
    perplexity : float, default=5.0
        t-SNE perplexity (the 1st place's ResNeSt setting); capped below the
        number of features.
    channels : {"mean_min_max", "mean"}, default="mean_min_max"
        Three channels (mean, minimum, maximum of the features of a pixel,
        the 1st place's ResNeSt images) or one (the mean, the paper's).
    scaling : {"log", "minmax"} or None, default="log"
        ``"log"``: the paper's norm-2, used by the 1st place:
        ``log(x + |min_j| + 1)`` with the training minimum of feature ``j``
        (new values are clipped to it), divided by the training maximum of
        that log matrix. ``"minmax"``: per-feature min-max scaling. None: the
        values as given. Scaled values are clipped to [0, 1].
    empty_value : float, default=1.0
        Value of pixels that no feature lands on (1 in the paper and the 1st
        place's notebooks).
    random_state : None, int or RandomState, default=None
        Seeds t-SNE and kernel PCA.
    n_jobs : int, default=None
        Threads of t-SNE's neighbour search and kernel PCA.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_features, 2)
        The 2-D coordinates of each feature, rotated into the bounding rectangle.
    pixel_coords_ : ndarray of int of shape (n_features, 2)
        Row and column of the pixel of each feature.
    pixel_index_ : ndarray of int of shape (n_features,)
        Flat pixel index ``row * resolution + column`` of each feature.
    feature_density_ : ndarray of int of shape (resolution, resolution)
        Number of features on each pixel.
    image_shape_ : tuple of int
        ``(n_channels, resolution, resolution)``.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    sklearn_moa.models.DeepInsightCNNClassifier : A CNN on these images.

    References
    ----------
    A. Sharma, E. Vans, D. Shigemizu, K. A. Boroevich and T. Tsunoda,
    "DeepInsight: A methodology to transform a non-image data to an image for
    convolution neural network architecture", Scientific Reports 9, 11399 (2019).
    The 1st-place LISH-MoA solution (discussion 201510), DeepInsight ResNeSt v2.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.preprocessing import DeepInsightTransformer
    >>> X = np.random.RandomState(0).randn(40, 12)
    >>> images = DeepInsightTransformer(resolution=8, random_state=0).fit_transform(X)
    >>> images.shape, images.dtype
    ((40, 3, 8, 8), dtype('float32'))
    """

    _parameter_constraints = {
        "resolution": [Interval(Integral, 2, None, closed="left")],
        "method": [StrOptions({"tsne", "kpca", "pca"})],
        "perplexity": [Interval(Real, 0, None, closed="neither")],
        "channels": [StrOptions({"mean_min_max", "mean"})],
        "scaling": [StrOptions({"log", "minmax"}), None],
        "empty_value": [Real],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, resolution=50, *, method="tsne", perplexity=5.0, channels="mean_min_max",
                 scaling="log", empty_value=1.0, random_state=None, n_jobs=None):
        self.resolution = resolution
        self.method = method
        self.perplexity = perplexity
        self.channels = channels
        self.scaling = scaling
        self.empty_value = empty_value
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learn the scaling and the pixel of each feature from the training rows ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64)
        self._fit_scaling(X)
        scaled = self.scale(X)
        self.embedding_ = _rotate_to_bounding_rectangle(self._embed(scaled.T))
        self.pixel_coords_ = np.column_stack([
            _to_pixels(self.embedding_[:, axis], self.resolution) for axis in range(2)
        ])
        self.pixel_index_ = self.pixel_coords_[:, 0] * self.resolution + self.pixel_coords_[:, 1]
        counts = np.bincount(self.pixel_index_, minlength=self.resolution**2)
        self.feature_density_ = counts.reshape(self.resolution, self.resolution)
        n_channels = 3 if self.channels == "mean_min_max" else 1
        self.image_shape_ = (n_channels, self.resolution, self.resolution)
        # Features sorted by pixel: one reduceat per channel paints every pixel.
        self._order = np.argsort(self.pixel_index_, kind="stable")
        self._occupied = np.flatnonzero(counts)
        self._starts = np.concatenate([[0], np.cumsum(counts[self._occupied])[:-1]])
        return self

    def _fit_scaling(self, X):
        self._min = X.min(axis=0)
        if self.scaling == "log":
            self._max = float(np.log1p(X + np.abs(self._min)).max())
        elif self.scaling == "minmax":
            self._max = X.max(axis=0)

    def scale(self, X):
        """The features scaled to [0, 1] with the training statistics.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Already validated (as :meth:`transform` does).

        Returns
        -------
        scaled : ndarray of shape (n_samples, n_features)
        """
        if self.scaling == "log":
            # Values below the training minimum are clipped to it, as in the paper.
            logged = np.log1p(np.maximum(X, self._min) + np.abs(self._min))
            scaled = logged / self._max if self._max > 0 else np.zeros_like(logged)
        elif self.scaling == "minmax":
            span = self._max - self._min
            scaled = (X - self._min) / np.where(span > 0, span, 1.0)
        else:
            scaled = X
        return np.clip(scaled, 0.0, 1.0)

    def _embed(self, vectors):
        """2-D coordinates of the feature vectors (one row per feature)."""
        n_features = vectors.shape[0]
        if n_features < _MIN_FEATURES_TO_EMBED:
            return np.column_stack([np.arange(n_features, dtype=float), np.zeros(n_features)])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if self.method == "tsne":
            from sklearn.manifold import TSNE

            # Cosine distances are undefined for an all-zero vector (a constant
            # feature): give those a common direction instead.
            vectors = np.where(np.linalg.norm(vectors, axis=1, keepdims=True) > 0, vectors, 1.0)
            return TSNE(
                n_components=2, perplexity=min(float(self.perplexity), n_features - 1.0),
                metric="cosine", init="pca" if vectors.shape[1] >= 2 else "random",
                random_state=seed, n_jobs=self.n_jobs,
            ).fit_transform(vectors)
        if self.method == "kpca":
            from sklearn.decomposition import KernelPCA

            embedding = KernelPCA(2, kernel="rbf", random_state=seed, n_jobs=self.n_jobs)
            return _two_columns(embedding.fit_transform(vectors))
        from sklearn.decomposition import PCA

        n_components = min(2, *vectors.shape)
        return _two_columns(PCA(n_components, random_state=seed).fit_transform(vectors))

    def transform(self, X):
        """Paint each row as an image.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        images : ndarray of float32 of shape (n_samples, n_channels, resolution, resolution)
        """
        check_is_fitted(self, "pixel_index_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.paint(self.scale(X))

    def paint(self, scaled):
        """Images of already scaled rows (the output of :meth:`scale`)."""
        ordered = scaled[:, self._order]
        counts = np.diff(np.append(self._starts, ordered.shape[1]))
        values = [np.add.reduceat(ordered, self._starts, axis=1) / counts]
        if self.image_shape_[0] == 3:
            values += [np.minimum.reduceat(ordered, self._starts, axis=1),
                       np.maximum.reduceat(ordered, self._starts, axis=1)]
        n_channels, height, width = self.image_shape_
        images = np.full((len(scaled), n_channels, height * width), self.empty_value, dtype=np.float32)
        for channel, value in enumerate(values):
            images[:, channel, self._occupied] = value
        return images.reshape(len(scaled), n_channels, height, width)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # images are always float32
        return tags


def _two_columns(embedding):
    """Pad a one-column embedding (a rank-1 input) with zeros."""
    if embedding.shape[1] == 2:
        return embedding
    return np.column_stack([embedding, np.zeros(len(embedding))])


def _rotate_to_bounding_rectangle(points):
    """Rotate 2-D points so that their minimum-area bounding rectangle is axis-aligned.

    The optimal rectangle has a side on an edge of the convex hull, so only
    the hull edges' angles are tried. Degenerate clouds (fewer than three
    points, all on a line) are returned as they are.
    """
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        return points
    edges = np.diff(np.vstack([hull, hull[:1]]), axis=0)
    angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    best, best_area = None, np.inf
    for angle in angles:
        rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        rotated = hull @ rotation.T
        area = np.prod(rotated.max(axis=0) - rotated.min(axis=0))
        if area < best_area:
            best, best_area = rotation, area
    rotated = points @ best.T
    # The longer side runs along the rows, so that layouts do not depend on the hull's angle.
    if np.ptp(rotated[:, 0]) < np.ptp(rotated[:, 1]):
        rotated = rotated[:, ::-1]
    return rotated


def _to_pixels(values, size):
    """Pixel index in ``[0, size)`` of each coordinate, linear over its range."""
    low, span = values.min(), np.ptp(values)
    if span == 0:
        return np.zeros(len(values), dtype=np.intp)
    return np.round((values - low) / span * (size - 1)).astype(np.intp)
