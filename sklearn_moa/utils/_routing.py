"""Metadata routing helpers shared by the meta-estimators and the CV helper.

With ``sklearn.set_config(enable_metadata_routing=True)`` metadata such as the
drug ids (``groups``) or the non-scored targets (``Y_nonscored``) reaches only
the estimators that requested it (``set_fit_request``); with routing off (the
default) every fit parameter goes to every fitted estimator, as before.
"""

from sklearn import get_config
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

__all__ = ["routing_enabled", "route_fit_params"]


def routing_enabled():
    """Whether scikit-learn's metadata routing is on (``enable_metadata_routing``)."""
    return bool(get_config().get("enable_metadata_routing", False))


def route_fit_params(owner, estimators, fit_params, groups=None):
    """Each estimator's fit parameters, by name.

    Routing off: every estimator gets all of ``fit_params`` (the suite's own
    ``fit_params=`` path). Routing on: each gets what it requested, and
    ``groups`` (drug ids, used by the caller for its folds) is passed on to
    those that requested it; a parameter nobody requested is an error, as in
    scikit-learn's ``cross_validate``.

    Parameters
    ----------
    owner : str
        Name of the caller, for scikit-learn's routing errors.
    estimators : dict of str -> estimator
    fit_params : dict or None
    groups : array-like or None

    Returns
    -------
    params : dict of str -> dict
    """
    fit_params = dict(fit_params or {})
    if not routing_enabled():
        return {name: fit_params for name in estimators}
    router = MetadataRouter(owner=owner)
    for name, estimator in estimators.items():
        router.add(**{name: estimator}, method_mapping=MethodMapping().add(caller="fit", callee="fit"))
    if groups is not None and router.consumes("fit", ["groups"]):
        fit_params["groups"] = groups
    routed = process_routing(router, "fit", **fit_params)
    return {name: dict(routed[name].fit) for name in estimators}
