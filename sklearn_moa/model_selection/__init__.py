"""Drug-aware splitters, the cross-validation helper and model comparison."""

from ._compare import compare_models
from ._split import DrugMultilabelStratifiedKFold, MultilabelStratifiedKFold
from ._validation import CVResult, check_moa_cv, cross_validate_moa

__all__ = [
    "CVResult",
    "DrugMultilabelStratifiedKFold",
    "MultilabelStratifiedKFold",
    "check_moa_cv",
    "compare_models",
    "cross_validate_moa",
]
