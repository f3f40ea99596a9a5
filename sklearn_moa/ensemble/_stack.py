"""Stacking: a meta-model learns to combine the members' out-of-fold predictions.

Where a blend gives each member one weight for all targets, a stack learns
how to combine them: per target (a member may be good at some mechanisms and
poor at others) and on the logit scale, where averaging confident
predictions behaves better than on probabilities. The 4th place of LISH-MoA
stacked its models' predictions with a CNN over all targets at once.
"""

import os
from numbers import Integral

import numpy as np
from scipy.special import logit
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..models._base import PROBA_EPS
from ..utils._validation import check_meta_input
from ._base import MemberEnsembleBase, _stack_probabilities

__all__ = ["StackedMoAClassifier"]

#: Probabilities are clipped to this before the logit (members clip to 1e-7 already).
_LOGIT_EPS = 1e-7


def member_logits(probas, names=None):
    """Members' probabilities as logits, shape (n_samples, n_members, n_targets)."""
    stacked = _stack_probabilities(probas, names)
    return np.moveaxis(logit(np.clip(stacked, _LOGIT_EPS, 1 - _LOGIT_EPS)), 0, 1)


class MetaModel:
    """The meta level of a stack: fitted on members' logits, predicts probabilities.

    ``meta_input="per_target"``: one clone of the binary ``final_estimator``
    per target, on the members' logits of that target; a target with a
    single class is predicted as its smoothed training prevalence.
    ``"shared"``: one multi-label ``final_estimator`` on all members' logits
    of all targets, side by side.
    """

    #: The safe model format stores it: its state is estimators, floats and strings.
    _plain_state = True

    def __init__(self, final_estimator, meta_input):
        self.final_estimator = final_estimator
        self.meta_input = meta_input

    def fit(self, logits, Y):
        n_samples, n_members, n_targets = logits.shape
        if self.meta_input == "shared":
            self.model_ = clone(self.final_estimator).fit(logits.reshape(n_samples, -1), Y)
            return self
        positives = Y.sum(axis=0)
        self.models_ = []
        for t in range(n_targets):
            if 0 < positives[t] < n_samples:
                self.models_.append(clone(self.final_estimator).fit(logits[:, :, t], Y[:, t]))
            else:
                self.models_.append((positives[t] + 0.5) / (n_samples + 1.0))
        return self

    def predict_proba(self, logits):
        n_samples = logits.shape[0]
        if self.meta_input == "shared":
            proba = np.asarray(self.model_.predict_proba(logits.reshape(n_samples, -1)), dtype=float)
        else:
            proba = np.column_stack([
                np.full(n_samples, model) if isinstance(model, float)
                else model.predict_proba(logits[:, :, t])[:, 1]
                for t, model in enumerate(self.models_)
            ])
        return np.clip(proba, PROBA_EPS, 1 - PROBA_EPS)


def default_final_estimator(meta_input):
    """Logistic regression per target, or the suite's per-target logistic model when shared."""
    if meta_input == "per_target":
        # Strongly regularised: a target has a few dozen positives at most. C=1
        # overfitted (benchmarks/bench_winners_blend.py: 0.01849 against 0.01800
        # for C=0.03 and C=0.1 on make_moa(6000), seed 0).
        return LogisticRegression(C=0.05)
    from ..models import LogisticMoAClassifier

    return LogisticMoAClassifier()


class StackedMoAClassifier(MemberEnsembleBase):
    """Stack MoA models: a meta-model on the members' out-of-fold predictions.

    Each member is cross-validated on the training data (drug-aware folds
    when ``groups`` reaches :meth:`fit`, else multi-label stratified ones);
    the meta-model is fitted on the logits of their out-of-fold
    probabilities; the members are then refitted on all rows, and
    :meth:`predict_proba` feeds their logits to the meta-model.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The members, typically entries of the model zoo; their parameters are
        reachable as ``<name>__<param>``.
    final_estimator : estimator, default=None
        With ``meta_input="per_target"``, a binary classifier cloned for each
        target and fitted on the members' logits of that target (None:
        ``LogisticRegression(C=0.05)``: a learnt, per-target weighting of the
        members, strongly regularised as most targets have few positives). With ``"shared"``, a multi-label estimator of the suite
        fitted once on the logits of every member for every target (None:
        :class:`~sklearn_moa.models.LogisticMoAClassifier`); a network such
        as :class:`~sklearn_moa.models.ResidualNNClassifier` here is the 4th
        place's kind of stack.
    meta_input : {"per_target", "shared"}, default="per_target"
        What the meta-model of a target sees: the members' predictions of that
        target, or of all targets.
    cv : int or splitter, default=5
        Inner cross-validation that makes the out-of-fold predictions; an int
        gives drug-aware folds when ``groups`` is given to :meth:`fit`.
    n_jobs : int, default=None
        Parallel (member, fold) fits, through joblib.
    random_state : int, default=0
        Seeds the inner splitter built when ``cv`` is an int.
    checkpoint_dir : str or path-like, default=None
        Save each finished inner fold and refitted member there and resume
        from them (as in :class:`BlendedMoAClassifier`).
    verbose : int, default=0

    Attributes
    ----------
    estimators_ : list
        The members refitted on all rows, in the order of ``estimators``.
    named_estimators_ : Bunch
    final_estimators_ : list or estimator
        Per target: the fitted meta-model of each target (a float, the
        smoothed prevalence, for a target with a single class). Shared: the
        one fitted meta-model.
    member_cv_results_ : dict of str -> CVResult
        Inner cross-validation of each member.
    classes_ : ndarray of shape (n_targets,)
    n_features_in_, feature_names_in_

    See Also
    --------
    BlendedMoAClassifier : one non-negative weight per member, for all targets.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> from sklearn_moa.ensemble import StackedMoAClassifier
    >>> from sklearn_moa.models import PriorClassifier
    >>> data = make_moa(300, random_state=0)
    >>> X = data.features.filter(like="g-")
    >>> stack = StackedMoAClassifier(
    ...     [("sharp", PriorClassifier(smoothing=0.01)), ("smooth", PriorClassifier(smoothing=5))],
    ...     cv=3)
    >>> stack.fit(X, data.targets, groups=data.drugs).predict_proba(X).shape
    (300, 206)
    """

    _parameter_constraints = {
        "estimators": [list],
        "final_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "meta_input": [StrOptions({"per_target", "shared"})],
        "cv": [Interval(Integral, 2, None, closed="left"), HasMethods(["split", "get_n_splits"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "checkpoint_dir": [str, os.PathLike, None],
        "verbose": ["verbose"],
    }

    # The drug ids make the inner folds drug-aware: requested unless told otherwise.
    __metadata_request__fit = {"groups": True}

    def __init__(self, estimators, final_estimator=None, *, meta_input="per_target", cv=5,
                 n_jobs=None, random_state=0, checkpoint_dir=None, verbose=0):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.meta_input = meta_input
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose

    def _meta_model(self):
        final = self.final_estimator
        if final is None:
            final = default_final_estimator(self.meta_input)
        elif not hasattr(final, "fit") or not hasattr(final, "predict_proba"):
            raise ValueError(f"final_estimator must have fit and predict_proba; got {final!r}.")
        elif self.meta_input == "per_target" and not is_classifier(final):
            raise ValueError(
                f"With meta_input='per_target', final_estimator must be a binary classifier "
                f"(fitted once per target); got {type(final).__name__}."
            )
        return MetaModel(final, self.meta_input)

    def fit(self, X, Y, groups=None, **fit_params):
        """Cross-validate the members, fit the meta-model on their OOF logits, refit the members.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        Y : DataFrame or array-like of shape (n_samples, n_targets), or (n_samples,)
            0/1 target matrix, or a 1-D ``y`` of two labels.
        groups : array-like of shape (n_samples,), default=None
            Drug id of each row: makes the inner folds drug-aware.
        **fit_params : dict
            Passed to every member's ``fit`` (subset to the training rows of
            each inner fold).

        Returns
        -------
        self : object
        """
        self._validate_params()
        names, members = self._validate_estimators()
        meta = self._meta_model()
        X = check_meta_input(X)
        Y_checked, _ = self._check_targets(Y, n_samples=_num_samples(X))
        Y = self._encoded_targets(Y)
        self.member_cv_results_ = self._cross_validate_members(
            names, members, X, Y, groups, fit_params, purpose="stack the members"
        )
        oof = [self.member_cv_results_[name].oof_predictions for name in names]
        covered = ~np.isnan(np.stack(oof)).any(axis=(0, 2))
        logits = member_logits([p[covered] for p in oof], names)
        meta.fit(logits, Y_checked[covered])
        self._meta = meta
        self.final_estimators_ = meta.model_ if self.meta_input == "shared" else meta.models_
        self.estimators_ = self._fit_members(
            [(name, clone(member)) for name, member in zip(names, members)], X, Y,
            Y_checked.shape[1], [fit_params] * len(members), checkpoint_dir=self.checkpoint_dir,
        )
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        return self

    def predict_proba(self, X):
        """The meta-model's probabilities from the members' logits.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
        """
        check_is_fitted(self, "estimators_")
        names = [name for name, _ in self.estimators]
        logits = member_logits([member.predict_proba(X) for member in self.estimators_], names)
        return self._proba_output(self._meta.predict_proba(logits))
