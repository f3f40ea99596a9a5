"""Column conventions of the Kaggle LISH-MoA files.

Everything that knows a column name lives here, so that the reader, the
synthetic generator, the feature presets and the control rule agree.
"""

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

N_GENES = 772
N_CELLS = 100
GENE_PREFIX = "g-"
CELL_PREFIX = "c-"
ID_COLUMN = "sig_id"
DRUG_COLUMN = "drug_id"
TREATMENT_COLUMNS = ("cp_type", "cp_time", "cp_dose")

CP_TYPES = ("trt_cp", "ctl_vehicle")
CONTROL_TYPE = "ctl_vehicle"
CP_TIMES = (24, 48, 72)
CP_DOSES = ("D1", "D2")

GENE_COLUMNS = tuple(f"{GENE_PREFIX}{i}" for i in range(N_GENES))
CELL_COLUMNS = tuple(f"{CELL_PREFIX}{i}" for i in range(N_CELLS))
FEATURE_COLUMNS = TREATMENT_COLUMNS + GENE_COLUMNS + CELL_COLUMNS

#: Name prefixes of the two inputs of the seed's two-head network, in the
#: output of the ``"two_head"`` feature preset: head 1 takes the gene and cell
#: PCA components (60 columns), head 2 the raw g-/c- features and the row
#: statistics (887 columns). The preset names its steps after them.
TWO_HEAD_PREFIXES = (("gene_pca__", "cell_pca__"), ("g-", "c-", "stats__"))


def gene_columns(columns):
    """Names in ``columns`` that belong to the gene-expression block (``g-*``)."""
    return [c for c in columns if str(c).startswith(GENE_PREFIX)]


def cell_columns(columns):
    """Names in ``columns`` that belong to the cell-viability block (``c-*``)."""
    return [c for c in columns if str(c).startswith(CELL_PREFIX)]


def names_starting_with(feature_names, prefixes):
    """Positions of ``feature_names`` that start with any of ``prefixes``."""
    prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
    return np.asarray(
        [i for i, n in enumerate(feature_names) if str(n).startswith(prefixes)], dtype=np.intp
    )


def _read_fact(name):
    with resources.files("sklearn_moa.datasets").joinpath("data", name).open() as f:
        return pd.read_csv(f)


@lru_cache(maxsize=None)
def scored_target_facts():
    """The 206 scored targets of the real data with positive row and drug counts."""
    return _read_fact("scored_targets.csv")


@lru_cache(maxsize=None)
def nonscored_target_facts():
    """The 402 non-scored targets of the real data with positive row counts."""
    return _read_fact("nonscored_targets.csv")


@lru_cache(maxsize=None)
def rows_per_drug_facts():
    """Distribution of rows per drug in the real training data."""
    return _read_fact("rows_per_drug.csv")


@lru_cache(maxsize=None)
def labels_per_drug_facts():
    """Distribution of scored labels per drug in the real training data."""
    return _read_fact("labels_per_drug.csv")


def scored_target_names():
    """The 206 scored target names, in the order of ``train_targets_scored.csv``."""
    return list(scored_target_facts()["target"])


def nonscored_target_names():
    """The 402 non-scored target names."""
    return list(nonscored_target_facts()["target"])
