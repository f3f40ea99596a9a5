"""sklearn-moa: drug mechanism-of-action (MoA) models as scikit-learn estimators.

Sub-packages, from data to models (nothing imports upward):

- :mod:`sklearn_moa.datasets`: read the Kaggle LISH-MoA layout, generate
  realistic synthetic data, write submissions;
- :mod:`sklearn_moa.metrics`: the competition metric and its scorer;
- :mod:`sklearn_moa.preprocessing`: feature transformers and presets;
- :mod:`sklearn_moa.models`: one estimator per model family and the control rule;
- :mod:`sklearn_moa.model_selection`: drug-aware splitters, the CV helper and
  model comparison;
- :mod:`sklearn_moa.ensemble`: blending and seed averaging.
"""

__version__ = "0.1.0"
