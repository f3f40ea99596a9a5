"""Multi-label and drug-aware K-fold splitters.

Both accept the signature of iterative-stratification's
``MultilabelStratifiedKFold`` and of scikit-learn's ``KFold``
(``n_splits``, ``shuffle``, ``random_state``) with the same meaning and the
same errors, so the line of every LISH-MoA kernel,
``MultilabelStratifiedKFold(n_splits=5, shuffle=True, random_state=0)``,
works unchanged.
"""

import numbers

import numpy as np
from iterstrat.ml_stratifiers import IterativeStratification
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection._split import GroupsConsumerMixin, _BaseKFold
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ..utils._targets import check_multilabel_targets

__all__ = ["MultilabelStratifiedKFold", "DrugMultilabelStratifiedKFold", "MoAStratifiedKFold"]


def _stratified_fold_ids(Y, n_splits, shuffle, seed):
    """Fold number of each row, iteratively stratified on the label matrix ``Y``.

    As iterative-stratification: with ``shuffle`` the rows are permuted before
    the stratification; ``seed`` breaks its ties either way.
    """
    n = Y.shape[0]
    if n < n_splits:
        raise ValueError(f"Cannot split {n} drugs kept whole into n_splits={n_splits} folds.")
    if Y.shape[1] == 1:
        # One label: plain stratification; a label too rare to stratify is ignored.
        labels = Y[:, 0] if min(np.bincount(Y[:, 0], minlength=2)) >= n_splits else np.zeros(n)
        splitter = StratifiedKFold(n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
        splits = splitter.split(np.zeros(n), labels)
        folds = np.empty(n, dtype=int)
        for k, (_, test) in enumerate(splits):
            folds[test] = k
        return folds
    rng = np.random.RandomState(seed)
    order = np.arange(n)
    if shuffle:
        rng.shuffle(order)
    folds = IterativeStratification(
        labels=Y[order].astype(bool), r=np.full(n_splits, 1.0 / n_splits), random_state=rng
    )
    return folds[np.argsort(order)]


class _MultilabelKFoldBase(_BaseKFold):
    """K-fold splitting defined by a fold number per row (``_fold_ids``).

    ``__init__`` validates as :class:`~sklearn.model_selection.KFold` does;
    ``get_n_splits`` and ``repr`` are scikit-learn's.
    """

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used; ``np.zeros(n_samples)`` will do.
        y : array-like of shape (n_samples, n_targets)
            0/1 label matrix to stratify on.
        groups : array-like of shape (n_samples,), default=None
            Drug id of each row (needed by the drug-aware splitter, ignored by
            the row-wise one).

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split.
        """
        n_samples = _num_samples(X)
        if self.n_splits > n_samples:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater than the "
                f"number of samples: n_samples={n_samples}."
            )
        Y, _ = check_multilabel_targets(y, n_samples=n_samples)
        # One seed drawn per split call, as in earlier versions (same folds per seed).
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        folds = self._fold_ids(Y, groups, seed)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


class MultilabelStratifiedKFold(_MultilabelKFoldBase):
    """K-fold split that preserves each label's frequency (iterative stratification).

    Row-wise: replicates of one drug can land on both sides of a split, which
    leaks. Prefer :class:`DrugMultilabelStratifiedKFold` when drug ids exist.

    A drop-in for iterative-stratification's ``MultilabelStratifiedKFold``:
    same parameters with the same meaning and the same errors.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=True
        Whether to shuffle the rows before stratifying. Unlike ``KFold`` the
        default is True: the field's kernels all shuffle, and it keeps the
        folds of earlier versions of this package.
    random_state : None, int or RandomState, default=None
        Seeds the shuffle and the random tie breaks of the iterative
        stratification. As in ``KFold``, setting it with ``shuffle=False``
        is an error; with ``shuffle=False`` the tie breaks then draw from
        NumPy's global generator, as in iterative-stratification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.model_selection import MultilabelStratifiedKFold
    >>> Y = np.array([[0, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 0]])
    >>> cv = MultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    >>> cv
    MultilabelStratifiedKFold(n_splits=3, random_state=0, shuffle=True)
    >>> [len(test) for _, test in cv.split(Y, Y)]
    [2, 2, 2]
    """

    #: The safe model format stores it (a parameter of estimators that build
    #: inner folds): its state is its plain parameters.
    _plain_state = True

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def _fold_ids(self, Y, groups, seed):
        return _stratified_fold_ids(Y, self.n_splits, self.shuffle, seed)


class DrugMultilabelStratifiedKFold(GroupsConsumerMixin, _MultilabelKFoldBase):
    """Drug-aware multi-label stratified K-fold (the LISH-MoA winners' recipe).

    Replicates of one drug are near-duplicates, so a split that puts a drug on
    both sides of a fold leaks. Drugs with at most ``max_rows_per_drug`` rows go
    to folds whole, stratified on their mean target vector; rows of more
    frequent drugs (in the real data: a few compounds with 178 to 718 rows and
    the 1,866 control rows) are stratified individually, since holding one of
    them out whole would remove a target from training altogether.

    With metadata routing enabled, ``groups`` (the drug ids) is requested by
    ``split``, so ``GridSearchCV(..., cv=DrugMultilabelStratifiedKFold()).fit(X, Y,
    groups=drugs)`` routes the drug ids here, as for ``GroupKFold``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=True
        Whether to shuffle drugs (and the rows of frequent drugs) before
        stratifying; see :class:`MultilabelStratifiedKFold`.
    random_state : None, int or RandomState, default=None
        Seeds the shuffle and the tie breaks; an error with ``shuffle=False``,
        as in ``KFold``.
    max_rows_per_drug : int, default=18
        Drugs with at most this many rows are kept whole in one fold.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold
    >>> data = make_moa(600, random_state=0)
    >>> cv = DrugMultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    >>> len(list(cv.split(data.features, data.targets, groups=data.drugs)))
    3
    """

    #: The safe model format stores it (a parameter of estimators that build
    #: inner folds): its state is its plain parameters.
    _plain_state = True

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None, max_rows_per_drug=18):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        if not isinstance(max_rows_per_drug, numbers.Integral) or isinstance(max_rows_per_drug, bool) \
                or max_rows_per_drug < 1:
            raise ValueError(f"max_rows_per_drug must be an integer >= 1; got {max_rows_per_drug!r}.")
        self.max_rows_per_drug = max_rows_per_drug

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
            drug_folds[whole] = _stratified_fold_ids(
                drug_Y, self.n_splits, self.shuffle, seed
            )
            rows = whole[drug_of_row]
            folds[rows] = drug_folds[drug_of_row[rows]]
        frequent_rows = ~whole[drug_of_row]
        if frequent_rows.any():
            folds[frequent_rows] = _stratified_fold_ids(
                Y[frequent_rows], self.n_splits, self.shuffle, seed + 1
            )
        return folds


class MoAStratifiedKFold(DrugMultilabelStratifiedKFold):
    """Multi-label stratified K-fold that is drug-aware whenever the drug ids are given.

    :class:`DrugMultilabelStratifiedKFold` when ``split`` gets ``groups``,
    :class:`MultilabelStratifiedKFold` (row-wise) when it does not: one
    splitter for estimators that build inner folds in ``fit`` and may or may
    not be handed the drug ids, such as the 3-stage NN of the model zoo
    (``MultiStageNNClassifier(cv=MoAStratifiedKFold(5))``). Parameters as
    :class:`DrugMultilabelStratifiedKFold`.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.model_selection import (
    ...     DrugMultilabelStratifiedKFold, MoAStratifiedKFold, MultilabelStratifiedKFold)
    >>> data = make_moa(600, random_state=0)
    >>> X, Y, drugs = data.features, data.targets, data.drugs
    >>> cv = MoAStratifiedKFold(n_splits=3, random_state=0)
    >>> drug_aware = DrugMultilabelStratifiedKFold(n_splits=3, random_state=0)
    >>> all((a == b).all() for (_, a), (_, b) in zip(cv.split(X, Y, drugs), drug_aware.split(X, Y, drugs)))
    True
    >>> row_wise = MultilabelStratifiedKFold(n_splits=3, random_state=0)
    >>> all((a == b).all() for (_, a), (_, b) in zip(cv.split(X, Y), row_wise.split(X, Y)))
    True
    """

    #: The safe model format stores it (a parameter of estimators that build
    #: inner folds): its state is its plain parameters.
    _plain_state = True

    def _fold_ids(self, Y, groups, seed):
        if groups is None:
            return _stratified_fold_ids(Y, self.n_splits, self.shuffle, seed)
        return super()._fold_ids(Y, groups, seed)
