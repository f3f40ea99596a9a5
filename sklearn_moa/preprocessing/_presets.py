"""The feature recipes of the seed and of the winning solutions, as unfitted pipelines."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.feature_selection import VarianceThreshold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ..datasets._columns import TWO_HEAD_PREFIXES, names_starting_with
from ..datasets._validation import _show, check_moa_features
from ._clusters import ClusterLabels
from ._pca import BlockPCA
from ._rankgauss import RankGaussScaler
from ._row_stats import RowStatistics
from ._treatment import TreatmentEncoder

__all__ = ["make_moa_features", "PRESETS", "TWO_HEAD_PREFIXES", "columns_by_prefix"]

_GENES = r"^g-"
_CELLS = r"^c-"
_GENES_AND_CELLS = r"^[gc]-"


def columns_by_prefix(feature_names, groups=TWO_HEAD_PREFIXES):
    """Split output columns into groups (e.g. network heads) by name prefix.

    Parameters
    ----------
    feature_names : sequence of str
        Output names of a fitted preset (``get_feature_names_out()``) or the
        columns of its pandas output.
    groups : sequence of (str or tuple of str), default=TWO_HEAD_PREFIXES
        Name prefixes of each group.

    Returns
    -------
    positions : list of ndarray of int
        Column positions of each group, in input order.

    Raises
    ------
    ValueError
        When a group matches no column, or a column is in no group or in two.

    Examples
    --------
    >>> from sklearn_moa.preprocessing import columns_by_prefix
    >>> head1, head2 = columns_by_prefix(["gene_pca__0", "cell_pca__0", "g-0", "stats__g_sum"])
    >>> head1.tolist(), head2.tolist()
    ([0, 1], [2, 3])
    """
    names = [str(n) for n in feature_names]
    positions = [names_starting_with(names, prefixes) for prefixes in groups]
    empty = [g for g, p in zip(groups, positions) if p.size == 0]
    if empty:
        raise ValueError(f"No column starts with the prefixes {_show([repr(g) for g in empty])}.")
    counts = np.zeros(len(names), dtype=int)
    for p in positions:
        counts[p] += 1
    if (counts != 1).any():
        bad = [names[i] for i in np.flatnonzero(counts != 1)]
        raise ValueError(
            f"{int((counts != 1).sum())} columns are in no group or in several: {_show(bad)}"
        )
    return positions


class _MoAFrameCheck(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """First step of every preset: validate the raw Kaggle frame, pass it on."""

    def __init__(self, require_treatment=True):
        self.require_treatment = require_treatment

    def _check(self, X, reset):
        check_moa_features(X, source="X", require_treatment=self.require_treatment)
        return validate_data(self, X, reset=reset, skip_check_array=True)

    def fit(self, X, y=None):
        self._check(X, reset=True)
        return self

    def fit_transform(self, X, y=None):
        return self._check(X, reset=True)

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return self._check(X, reset=False)


def _columns(pattern):
    return make_column_selector(pattern=pattern)


class _FrameColumnTransformer(ColumnTransformer):
    """A ColumnTransformer that always outputs a DataFrame.

    For the inner steps of a preset: the next step selects their columns by
    name, so a ``set_output(transform="default")`` on the whole pipeline must
    not turn them into arrays (nor may a later ``set_output`` change the
    input type a fitted step sees).
    """

    def set_output(self, *, transform=None):
        return super().set_output(transform="pandas")


def _union(transformers, n_jobs, *, pandas=False):
    """A ColumnTransformer whose transformers name their own output columns."""
    cls = _FrameColumnTransformer if pandas else ColumnTransformer
    union = cls(transformers, verbose_feature_names_out=False, n_jobs=n_jobs)
    return union.set_output(transform="pandas") if pandas else union


def _pca(n_components, block, o, random_state):
    return BlockPCA(
        n_components, feature_prefix=f"{block}_pca", svd_solver=o["svd_solver"],
        random_state=random_state,
    )


def _two_head(o, random_state):
    return Pipeline([
        ("check", _MoAFrameCheck(require_treatment=False)),
        ("features", _union([
            ("gene_pca", _pca(o["n_gene_components"], "gene", o, random_state), _columns(_GENES)),
            ("cell_pca", _pca(o["n_cell_components"], "cell", o, random_state), _columns(_CELLS)),
            ("raw", "passthrough", _columns(_GENES_AND_CELLS)),
            ("stats", RowStatistics(), _columns(_GENES_AND_CELLS)),
        ], o["n_jobs"])),
    ])


def _cnn1d(o, random_state):
    return Pipeline([
        ("check", _MoAFrameCheck(require_treatment=False)),
        ("features", _union([("raw", "passthrough", _columns(_GENES_AND_CELLS))], o["n_jobs"])),
    ])


def _tabnet(o, random_state):
    def clusters(n, block):
        # Elkan: the same clusters as Lloyd, in half the time on the gene block.
        return ClusterLabels(
            n, feature_prefix=f"{block}_cluster", n_init=o["n_init"], algorithm="elkan",
            random_state=random_state,
        )

    return Pipeline([
        ("check", _MoAFrameCheck(require_treatment=True)),
        ("features", _union([
            ("treatment", TreatmentEncoder(None, encoding=o["treatment_encoding"]),
             ["cp_type", "cp_time", "cp_dose"]),
            ("raw", "passthrough", _columns(_GENES_AND_CELLS)),
            ("gene_pca", _pca(o["n_gene_components"], "gene", o, random_state), _columns(_GENES)),
            ("cell_pca", _pca(o["n_cell_components"], "cell", o, random_state), _columns(_CELLS)),
            ("gene_cluster", clusters(o["n_gene_clusters"], "gene"), _columns(_GENES)),
            ("cell_cluster", clusters(o["n_cell_clusters"], "cell"), _columns(_CELLS)),
            ("stats", RowStatistics(), _columns(_GENES_AND_CELLS)),
        ], o["n_jobs"], pandas=True)),
        # The PCA clusters need the fitted components: a second step, which
        # keeps the column order "dataset, PCA, clusters, statistics".
        ("pca_cluster", _union([
            ("keep", "passthrough", _columns(r"^(?!stats__)")),
            ("pca_cluster", clusters(o["n_pca_clusters"], "pca"), _columns(r"^(?:gene|cell)_pca__")),
            ("stats", "passthrough", _columns(r"^stats__")),
        ], o["n_jobs"])),
    ])


def _winners(o, random_state):
    blocks = _union([
        ("raw", "passthrough", _columns(_GENES_AND_CELLS)),
        ("gene_pca", _pca(o["n_gene_components"], "gene", o, random_state), _columns(_GENES)),
        ("cell_pca", _pca(o["n_cell_components"], "cell", o, random_state), _columns(_CELLS)),
    ], o["n_jobs"], pandas=True)
    return Pipeline([
        ("check", _MoAFrameCheck(require_treatment=True)),
        ("rankgauss", _union([
            ("treatment", TreatmentEncoder(["cp_time", "cp_dose"], encoding=o["treatment_encoding"]),
             ["cp_time", "cp_dose"]),
            ("rankgauss", RankGaussScaler(o["n_quantiles"], random_state=random_state),
             _columns(_GENES_AND_CELLS)),
        ], o["n_jobs"], pandas=True)),
        ("features", _union([
            ("treatment", "passthrough", _columns(r"^cp_")),
            ("filtered", Pipeline([
                ("blocks", blocks),
                ("variance", VarianceThreshold(o["variance_threshold"])),
            ]), _columns(_GENES_AND_CELLS)),
        ], o["n_jobs"])),
    ])


_COMMON = {"n_jobs": None}
_PCA = {"svd_solver": "auto"}

#: Each preset: (builder, default options that ``**overrides`` may change).
_PRESETS = {
    "two_head": (_two_head, {**_COMMON, **_PCA, "n_gene_components": 50, "n_cell_components": 10}),
    "cnn1d": (_cnn1d, dict(_COMMON)),
    "tabnet": (_tabnet, {
        **_COMMON, **_PCA, "n_gene_components": 600, "n_cell_components": 50,
        "n_gene_clusters": 35, "n_cell_clusters": 5, "n_pca_clusters": 5, "n_init": 1,
        "treatment_encoding": "ordinal",
    }),
    "winners": (_winners, {
        **_COMMON, **_PCA, "n_quantiles": 100, "n_gene_components": 600,
        "n_cell_components": 50, "variance_threshold": 0.8, "treatment_encoding": "onehot",
    }),
}

#: Names of the presets of :func:`make_moa_features`.
PRESETS = tuple(_PRESETS)


def make_moa_features(preset, *, random_state=None, **overrides):
    """Unfitted feature pipeline of a model family, from raw LISH-MoA features.

    Every preset is a :class:`~sklearn.pipeline.Pipeline` whose first step
    validates the raw Kaggle frame (:func:`~sklearn_moa.datasets.check_moa_features`:
    missing g-/c-/treatment columns, NaN, unknown treatment values raise a
    ``ValueError`` naming them) and whose other steps are
    :class:`~sklearn.compose.ColumnTransformer` unions of this module's
    transformers. Everything is learned from the data the pipeline is fit on,
    so inside a model's Pipeline it is refit on each CV fold. The output is a
    float array, or a DataFrame after ``set_output(transform="pandas")``;
    ``get_feature_names_out()`` gives the column names.

    Output columns are named by block, so a model can route them by prefix:

    - ``g-*``, ``c-*``: raw (or, in ``"winners"``, RankGauss-scaled) features;
    - ``cp_type``, ``cp_time``, ``cp_dose`` (ordinal codes) or ``cp_time_24``,
      ``cp_dose_D1``, ... (one-hot): treatment encoding;
    - ``gene_pca__<i>``, ``cell_pca__<i>``: PCA components of each block;
    - ``gene_cluster__label``, ``cell_cluster__label``, ``pca_cluster__label``:
      k-means cluster labels;
    - ``stats__{g,c,gc}_{sum,mean,std,kurt,skew}``: row statistics.

    Presets:

    ``"two_head"``
        The seed's two-head network inputs, head 1 then head 2: 50 gene + 10
        cell PCA components (60 columns), then the 872 g-/c- features and the
        15 row statistics (887 columns). :data:`TWO_HEAD_PREFIXES` and
        :func:`columns_by_prefix` say which columns go to which head.
    ``"cnn1d"``
        The seed's 1D CNN input: the 872 g-/c- features.
    ``"tabnet"``
        The seed's TabNet features: the 875 dataset features (``cp_type``,
        ``cp_time``, ``cp_dose`` ordinal-encoded), 600 gene + 50 cell PCA
        components, the cluster labels of the gene block (35 clusters), the
        cell block (5) and the PCA components (5), and the 15 statistics:
        1,543 columns.
    ``"winners"``
        The winners' common recipe (the public "RankGauss | PCA | NN" kernel
        most top teams started from): one-hot ``cp_time``/``cp_dose`` (5
        columns), then RankGauss (``n_quantiles=100``) of the g-/c- features
        with 600 gene + 50 cell PCA components of the scaled values appended,
        and a variance threshold of 0.8 over those (the width depends on the
        data).

    Differences from the sources: the seed and the kernels fit PCA, k-means,
    RankGauss and the variance filter on train and test rows together
    (transductive); here they are fit on the fit data only. The kernel's
    ``cp_type`` column is not a feature of ``"winners"``: control rows are the
    job of :class:`~sklearn_moa.models.ControlAwareClassifier`.

    Parameters
    ----------
    preset : {"two_head", "cnn1d", "tabnet", "winners"}
        The recipe.
    random_state : None, int or RandomState, default=None
        Seed of the randomized PCA solver, k-means and RankGauss subsampling.
    **overrides
        Options of the preset: ``n_gene_components``, ``n_cell_components``,
        ``svd_solver`` (two_head, tabnet, winners); ``n_gene_clusters``,
        ``n_cell_clusters``, ``n_pca_clusters``, ``n_init`` (tabnet);
        ``n_quantiles``, ``variance_threshold`` (winners);
        ``treatment_encoding`` ("ordinal" or "onehot"; tabnet, winners);
        ``n_jobs`` (all: parallel blocks of the ColumnTransformers).

    Returns
    -------
    features : Pipeline
        Unfitted; use it as the first step of a model's Pipeline.

    Raises
    ------
    ValueError
        For an unknown preset or override (the message lists the valid ones).

    Notes
    -----
    Component and cluster counts larger than the fit data supports (e.g. 600
    gene components on a fold of 500 rows) are capped at
    ``min(n_samples, n_columns)`` (clusters: ``n_samples``) with a
    ``UserWarning``, so the output is narrower than the nominal width on such
    small data.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.preprocessing import make_moa_features, columns_by_prefix
    >>> X = make_moa(300, n_test_samples=0, random_state=0).features
    >>> features = make_moa_features("two_head", random_state=0).fit(X)
    >>> features.transform(X).shape
    (300, 947)
    >>> head1, head2 = columns_by_prefix(features.get_feature_names_out())
    >>> len(head1), len(head2)
    (60, 887)
    """
    if preset not in _PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; available: {', '.join(PRESETS)}.")
    build, defaults = _PRESETS[preset]
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for preset {preset!r}; "
            f"valid: {', '.join(sorted(defaults)) or 'random_state only'}."
        )
    return build({**defaults, **overrides}, random_state)
