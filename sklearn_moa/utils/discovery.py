"""Find every public estimator of the package (for the common checks)."""

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

_PUBLIC_MODULES = ("sklearn_moa.models", "sklearn_moa.preprocessing", "sklearn_moa.ensemble")


def all_estimators():
    """List ``(name, class)`` of every concrete public estimator, sorted by name.

    Walks the ``__all__`` of the models, preprocessing and ensemble packages;
    abstract bases (names ending in ``Base`` or ``Mixin``) are left out.
    Importing a package does not import any deep-learning framework, so an
    ImportError here is a bug and propagates (it would otherwise drop
    estimators from the common checks without a word).
    """
    found = {}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not name.endswith(("Base", "Mixin"))
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    return sorted(found.items())
