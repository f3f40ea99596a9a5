"""Datasets layer: read the Kaggle LISH-MoA layout, generate realistic
synthetic data, validate feature frames and write submissions.

This layer knows the column conventions and nothing about models.
"""

from ._columns import (
    CELL_COLUMNS,
    CONTROL_TYPE,
    FEATURE_COLUMNS,
    GENE_COLUMNS,
    TREATMENT_COLUMNS,
    cell_columns,
    gene_columns,
    nonscored_target_names,
    scored_target_names,
)
from ._load import load_moa
from ._submission import write_submission
from ._synthetic import make_moa
from ._validation import check_moa_features

__all__ = [
    "load_moa",
    "make_moa",
    "write_submission",
    "check_moa_features",
    "GENE_COLUMNS",
    "CELL_COLUMNS",
    "TREATMENT_COLUMNS",
    "FEATURE_COLUMNS",
    "CONTROL_TYPE",
    "gene_columns",
    "cell_columns",
    "scored_target_names",
    "nonscored_target_names",
]
