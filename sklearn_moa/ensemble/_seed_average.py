"""Seed averaging: one model fitted with several random seeds, probabilities averaged.

Every LISH-MoA winner trained each network over several seeds and averaged
them; for neural networks this is worth about as much as a new model family.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import process_routing
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..utils._routing import fit_router, routing_enabled
from ..utils._validation import check_meta_input
from ._base import MoAEnsembleMixin

__all__ = ["SeedAveragedClassifier"]


def _seed_parameters(estimator, seed_params):
    """Names of the parameters that receive the seed (validated against ``get_params``)."""
    params = estimator.get_params(deep=True)
    if seed_params is None:
        found = [name for name in params if name == "random_state" or name.endswith("__random_state")]
        if not found:
            raise ValueError(
                f"{type(estimator).__name__} has no random_state parameter, even nested: name "
                "the parameter that takes the seed with seed_params."
            )
        return found
    names = [seed_params] if isinstance(seed_params, str) else list(seed_params)
    unknown = [name for name in names if name not in params]
    if not names or unknown:
        raise ValueError(
            f"seed_params {unknown or names!r} are not parameters of {type(estimator).__name__}; "
            f"its seed-like parameters are {[p for p in params if 'seed' in p or 'random_state' in p]}."
        )
    return names


def _check_seeds(seeds, random_state):
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive number of seeds or a list of seeds; got {seeds}.")
        return check_random_state(random_state).randint(np.iinfo(np.int32).max, size=seeds).tolist()
    try:
        values = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be an int or a list of int seeds; got {seeds!r}.") from None
    if not values or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise ValueError(f"seeds must be a non-empty list of int seeds; got {seeds!r}.")
    return [int(v) for v in values]


class SeedAveragedClassifier(MoAEnsembleMixin, BaseEstimator):
    """Fit one model with several random seeds and average its probabilities.

    Each member is ``clone(estimator).set_params(**{p: seed for p in seed_params})``,
    fitted on all rows; :meth:`predict_proba` is the plain mean of the members'.

    Parameters
    ----------
    estimator : estimator
        A multi-label estimator, a Pipeline or a
        :class:`~sklearn_moa.models.ControlAwareClassifier` around one.
    seeds : int or list of int, default=3
        Number of seeds (drawn from ``random_state``) or the seeds themselves.
    seed_params : str, list of str or None, default=None
        Parameters (in ``get_params(deep=True)`` notation, e.g.
        ``"estimator__mlp__random_state"``) that receive the seed. None: every
        parameter named ``random_state`` at any depth.
    random_state : None, int or RandomState, default=None
        Draws the seeds when ``seeds`` is an int; unused for a list.
    n_jobs : int, default=None
        Members fitted in parallel through joblib.
    verbose : int, default=0
        When positive, print a line as each seed's fit starts
        (``[SeedAveragedClassifier] seed 2/3 (random_state=...)``), so that a
        progress display can tell the seeds apart.

    Attributes
    ----------
    estimators_ : list of estimators
        One fitted member per seed.
    seeds_ : list of int
    seed_params_ : list of str
        The parameters that received the seed.
    classes_ : ndarray of shape (n_targets,)
    n_features_in_, feature_names_in_

    See Also
    --------
    BlendedMoAClassifier : weighted blend of different models.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn_moa.ensemble import SeedAveragedClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4); Y = (X[:, :2] > 0).astype(int)
    >>> model = SeedAveragedClassifier(MLPClassifier((8,), solver="lbfgs", max_iter=500),
    ...                                seeds=[0, 1, 2])
    >>> model.fit(X, Y).seed_params_
    ['random_state']
    >>> model.predict_proba(X).shape
    (60, 2)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "seeds": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "seed_params": [None, str, "array-like"],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator, *, seeds=3, seed_params=None, random_state=None, n_jobs=None,
                 verbose=0):
        self.estimator = estimator
        self.seeds = seeds
        self.seed_params = seed_params
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y, **fit_params):
        """Fit one clone of ``estimator`` per seed on all rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        Y : DataFrame or array-like of shape (n_samples, n_targets), or (n_samples,)
            0/1 target matrix, or a 1-D ``y`` of two labels.
        **fit_params : dict
            Passed to each member's ``fit``; with metadata routing enabled,
            those ``estimator`` requested.

        Returns
        -------
        self : object
        """
        X = check_meta_input(X)
        Y_checked, _ = self._check_targets(Y, n_samples=_num_samples(X))
        Y = self._encoded_targets(Y)
        self.seed_params_ = _seed_parameters(self.estimator, self.seed_params)
        self.seeds_ = _check_seeds(self.seeds, self.random_state)
        members = [
            (f"{type(self.estimator).__name__} (seed {seed})",
             clone(self.estimator).set_params(**{name: seed for name in self.seed_params_}))
            for seed in self.seeds_
        ]
        if routing_enabled():
            fit_params = process_routing(self, "fit", **fit_params).estimator.fit
        messages = None
        if self.verbose:
            messages = [f"[{type(self).__name__}] seed {i}/{len(self.seeds_)} (random_state={seed})"
                        for i, seed in enumerate(self.seeds_, start=1)]
        self.estimators_ = self._fit_members(
            members, X, Y, Y_checked.shape[1], [fit_params] * len(members), messages=messages
        )
        return self

    def get_metadata_routing(self):
        """Routing of fit metadata to ``estimator`` (scikit-learn's metadata routing).

        Returns
        -------
        routing : MetadataRouter
        """
        return fit_router(self, {"estimator": self.estimator})

    def predict_proba(self, X):
        """Mean of the members' probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets)
        """
        check_is_fitted(self, "estimators_")
        named = [(f"seed {seed}", member) for seed, member in zip(self.seeds_, self.estimators_)]
        return self._proba_output(
            self._average_members(named, np.full(len(named), 1.0 / len(named)), X)
        )
