"""Lazy import of the optional frameworks with an error naming the extra."""

import importlib

__all__ = ["MissingOptionalDependency", "import_optional"]


class MissingOptionalDependency(ImportError):
    """An optional framework (an extra of sklearn-moa) is not installed.

    A subclass of ImportError, so ``except ImportError`` still catches it;
    tests tell it apart from a broken import of the package's own code.
    """


def import_optional(module, extra, purpose=None):
    """Import ``module`` or raise an ImportError that names the extra to install.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"xgboost"``.
    extra : str
        Name of the sklearn-moa extra that installs it, e.g. ``"xgboost"``.
    purpose : str, default=None
        What needs it (an estimator name), for the message.

    Returns
    -------
    module : module
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        who = f"{purpose} needs" if purpose else "This feature needs"
        raise MissingOptionalDependency(
            f"{who} the optional package {module!r}, which is not installed. "
            f"Install it with: pip install 'sklearn-moa[{extra}]'"
        ) from exc
