"""Drug-aware splitters, the cross-validation helper and model comparison."""

from ._checkpoint import FoldCheckpoint, dataset_fingerprint
from ._compare import compare_models
from ._parallel import thread_budget, worker_thread_env
from ._split import DrugMultilabelStratifiedKFold, MoAStratifiedKFold, MultilabelStratifiedKFold
from ._validation import CVResult, check_moa_cv, cross_validate_moa

__all__ = [
    "CVResult",
    "DrugMultilabelStratifiedKFold",
    "FoldCheckpoint",
    "MoAStratifiedKFold",
    "MultilabelStratifiedKFold",
    "check_moa_cv",
    "compare_models",
    "cross_validate_moa",
    "dataset_fingerprint",
    "thread_budget",
    "worker_thread_env",
]
