"""Multi-label and drug-aware K-fold splitters."""

import numbers

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils import check_random_state

from ..models._base import check_multilabel_targets

__all__ = ["MultilabelStratifiedKFold", "DrugMultilabelStratifiedKFold"]


def _stratified_fold_ids(Y, n_splits, seed):
    """Fold number of each row, iteratively stratified on the label matrix ``Y``."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold as _IterStratKFold

    n = Y.shape[0]
    if n < n_splits:
        raise ValueError(f"Cannot split {n} rows (or drugs) into {n_splits} folds.")
    folds = np.empty(n, dtype=int)
    if Y.shape[1] == 1:
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        labels = Y[:, 0] if min(np.bincount(Y[:, 0], minlength=2)) >= n_splits else np.zeros(n)
        splits = splitter.split(np.zeros(n), labels)
    else:
        splits = _IterStratKFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n), Y)
    for k, (_, test) in enumerate(splits):
        folds[test] = k
    return folds


class _FoldAssignmentCV(BaseCrossValidator):
    """A splitter defined by a fold number per row (``_fold_ids``)."""

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds."""
        return self.n_splits

    def split(self, X, y, groups=None):
        """Yield ``(train, test)`` index arrays, one pair per fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used.
        y : array-like of shape (n_samples, n_targets)
            0/1 label matrix to stratify on.
        groups : array-like of shape (n_samples,)
            Drug id of each row (needed by the drug-aware splitter).
        """
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2; got {self.n_splits!r}.")
        Y, _ = check_multilabel_targets(y, n_samples=len(X) if X is not None else None)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        folds = self._fold_ids(Y, groups, seed)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


class MultilabelStratifiedKFold(_FoldAssignmentCV):
    """K-fold split that preserves each label's frequency (iterative stratification).

    Row-wise: replicates of one drug can land on both sides of a split, which
    leaks. Prefer :class:`DrugMultilabelStratifiedKFold` when drug ids exist.

    Parameters
    ----------
    n_splits : int, default=5
    random_state : None, int or RandomState, default=None
        Seeds the shuffle and the tie breaks of the stratification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.model_selection import MultilabelStratifiedKFold
    >>> Y = np.array([[0, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 0]])
    >>> [len(test) for _, test in MultilabelStratifiedKFold(3, random_state=0).split(Y, Y)]
    [2, 2, 2]
    """

    def __init__(self, n_splits=5, *, random_state=None):
        self.n_splits = n_splits
        self.random_state = random_state

    def _fold_ids(self, Y, groups, seed):
        return _stratified_fold_ids(Y, self.n_splits, seed)


class DrugMultilabelStratifiedKFold(_FoldAssignmentCV):
    """Drug-aware multi-label stratified K-fold (the LISH-MoA winners' recipe).

    Replicates of one drug are near-duplicates, so a split that puts a drug on
    both sides of a fold leaks. Drugs with at most ``max_rows_per_drug`` rows go
    to folds whole, stratified on their mean target vector; rows of more
    frequent drugs (in the real data: a few compounds with 178 to 718 rows and
    the 1,866 control rows) are stratified individually, since holding one of
    them out whole would remove a target from training altogether.

    Parameters
    ----------
    n_splits : int, default=5
    max_rows_per_drug : int, default=18
        Drugs with at most this many rows are kept whole in one fold.
    random_state : None, int or RandomState, default=None

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold
    >>> data = make_moa(600, random_state=0)
    >>> cv = DrugMultilabelStratifiedKFold(n_splits=3, random_state=0)
    >>> len(list(cv.split(data.features, data.targets, groups=data.drugs)))
    3
    """

    def __init__(self, n_splits=5, *, max_rows_per_drug=18, random_state=None):
        self.n_splits = n_splits
        self.max_rows_per_drug = max_rows_per_drug
        self.random_state = random_state

    def _fold_ids(self, Y, groups, seed):
        if groups is None:
            raise ValueError(
                "DrugMultilabelStratifiedKFold needs the drug id of each row: "
                "split(X, Y, groups=drugs)."
            )
        groups = np.asarray(groups)
        if groups.shape != (Y.shape[0],):
            raise ValueError(
                f"groups must hold one drug id per row: {Y.shape[0]} rows, groups of shape {groups.shape}."
            )
        drugs, drug_of_row, rows_per_drug = np.unique(groups, return_inverse=True, return_counts=True)
        whole = rows_per_drug <= self.max_rows_per_drug
        folds = np.empty(Y.shape[0], dtype=int)
        if whole.any():
            # Mean target vector per drug; labels are constant within a drug in
            # the real data, the threshold only settles inconsistent ones.
            sums = np.zeros((len(drugs), Y.shape[1]))
            np.add.at(sums, drug_of_row, Y)
            drug_Y = (sums / rows_per_drug[:, None] >= 0.5)[whole].astype(np.int8)
            drug_folds = np.full(len(drugs), -1)
            drug_folds[whole] = _stratified_fold_ids(drug_Y, self.n_splits, seed)
            rows = whole[drug_of_row]
            folds[rows] = drug_folds[drug_of_row[rows]]
        frequent_rows = ~whole[drug_of_row]
        if frequent_rows.any():
            folds[frequent_rows] = _stratified_fold_ids(Y[frequent_rows], self.n_splits, seed + 1)
        return folds
