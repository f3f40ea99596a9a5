"""Blending and seed averaging of MoA models.

- :class:`BlendedMoAClassifier`: weighted average of several model families,
  weights learnt on out-of-fold predictions;
- :func:`optimize_blend_weights`: the same weights from OOF matrices you
  already have, without retraining anything;
- :class:`StackedMoAClassifier`: a meta-model (per target, or shared across
  targets) on the members' out-of-fold logits;
- :class:`SeedAveragedClassifier`: one model fitted with several seeds;
- :class:`FoldAveragedModel`: the fitted fold models of a CV run, predicting
  as one (the seed's test-time protocol);
- :func:`blend_probabilities`: weighted average of probability matrices.
"""

from ._base import blend_probabilities
from ._blend import BlendedMoAClassifier, optimize_blend_weights
from ._fold_average import FoldAveragedModel
from ._seed_average import SeedAveragedClassifier
from ._stack import StackedMoAClassifier

__all__ = [
    "BlendedMoAClassifier",
    "FoldAveragedModel",
    "SeedAveragedClassifier",
    "StackedMoAClassifier",
    "blend_probabilities",
    "optimize_blend_weights",
]
