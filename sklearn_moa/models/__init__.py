"""MoA estimators: one per model family, on a shared multi-label base.

Framework-backed models (Keras, torch/skorch, TabNet, XGBoost) import their
framework only when fitted or built, and raise an ImportError naming the
extra to install when it is missing.
"""

from ..utils._targets import check_multilabel_targets
from ._base import MoAClassifierBase, MultiLabelClassifierMixin
from ._cnn1d import CNN1DClassifier
from ._control import ControlAwareClassifier
from ._deep_cnn import DeepCNNClassifier
from ._deepinsight_cnn import DeepInsightCNNClassifier
from ._divergence import NonFiniteLossError
from ._linear import LogisticMoAClassifier
from ._multistage import MultiStageNNClassifier
from ._prior import PriorClassifier
from ._residual_nn import ResidualNNClassifier
from ._svm import SVMMoAClassifier
from ._tabm import TabMClassifier
from ._tabnet import TabNetMoAClassifier
from ._two_head import TwoHeadNNClassifier
from ._two_head_resnet import TwoHeadResNetClassifier
from ._xgboost import XGBMoAClassifier

__all__ = [
    "CNN1DClassifier",
    "ControlAwareClassifier",
    "DeepCNNClassifier",
    "DeepInsightCNNClassifier",
    "LogisticMoAClassifier",
    "MoAClassifierBase",
    "MultiLabelClassifierMixin",
    "MultiStageNNClassifier",
    "NonFiniteLossError",
    "PriorClassifier",
    "ResidualNNClassifier",
    "SVMMoAClassifier",
    "TabMClassifier",
    "TabNetMoAClassifier",
    "TwoHeadNNClassifier",
    "TwoHeadResNetClassifier",
    "XGBMoAClassifier",
    "check_multilabel_targets",
]
