"""Feature engineering of the LISH-MoA field as scikit-learn transformers.

Transformers (each composes in a ColumnTransformer/FeatureUnion/Pipeline,
supports ``set_output(transform="pandas")`` and ``get_feature_names_out`` and
learns only from the data it is fit on):

- :class:`TreatmentEncoder`: ``cp_time``/``cp_dose`` (and ``cp_type``) codes;
- :class:`RankGaussScaler`: quantile transform to a normal distribution;
- :class:`BlockPCA`: PCA of one block with named components;
- :class:`RowStatistics`: the seed's 15 row-wise statistics;
- :class:`ClusterLabels`: k-means cluster label of each row;
- :class:`RowQuantileNormalizer`: the 2nd place's per-sample normalisation;
- :class:`DeepInsightTransformer`: rows painted as images on a t-SNE map of
  the features (the 1st place's DeepInsight CNN input; its output is an
  image tensor, so it has no ``get_feature_names_out``).

Variance filtering is scikit-learn's
:class:`~sklearn.feature_selection.VarianceThreshold`, used as is.

:func:`make_moa_features` assembles them into the presets of the seed and the
winning solutions. Block transformers select their columns with a column spec:
None (all columns; works on arrays), name prefixes such as ``"g-"`` (needs a
DataFrame) or column positions.
"""

from ._clusters import ClusterLabels
from ._deepinsight import DeepInsightTransformer
from ._normalization import RowQuantileNormalizer
from ._pca import BlockPCA
from ._presets import PRESETS, TWO_HEAD_PREFIXES, columns_by_prefix, make_moa_features
from ._rankgauss import RankGaussScaler
from ._row_stats import RowStatistics
from ._treatment import TreatmentEncoder

__all__ = [
    "make_moa_features",
    "PRESETS",
    "TWO_HEAD_PREFIXES",
    "columns_by_prefix",
    "TreatmentEncoder",
    "RankGaussScaler",
    "BlockPCA",
    "RowStatistics",
    "ClusterLabels",
    "RowQuantileNormalizer",
    "DeepInsightTransformer",
]
