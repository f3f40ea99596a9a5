"""Model names of the command: everything comes from :data:`~sklearn_moa.model_zoo.MODEL_ZOO`."""

import inspect

from ..model_zoo import MODEL_ZOO, build_model

__all__ = ["models_table", "build_models", "enable_epoch_progress", "nonscored_fit_params"]


def models_table():
    """Lines of ``sklearn-moa models``: name, extra, installed or not, description."""
    rows = [("model", "extra", "installed", "description")]
    for name, spec in MODEL_ZOO.items():
        rows.append((name, spec.extra or "-", "yes" if spec.available() else "no", spec.description))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3]
        for row in rows
    ]


def build_models(names=None, *, full=False, random_state=0):
    """Build the models to run: the comma-separated ``names``, or every installed one.

    Without names, entries marked ``default=False`` (the ensembles) are left out.

    Every name is checked (and its model built) before anything runs.

    Returns
    -------
    models : dict of str -> estimator

    Raises
    ------
    ValueError
        For an unknown name or an empty list.
    ImportError
        For a model whose extra is not installed (the message names the extra).
    """
    if names is None:
        chosen = [name for name, spec in MODEL_ZOO.items() if spec.default and spec.available()]
    else:
        chosen = list(dict.fromkeys(name.strip() for name in names.split(",") if name.strip()))
    if not chosen:
        raise ValueError("no model to run; see `sklearn-moa models` for the names.")
    return {name: build_model(name, full=full, random_state=random_state) for name in chosen}


def _final_step(model):
    """The model at the end of ``ControlAwareClassifier(Pipeline([..., model]))`` chains.

    Returns
    -------
    prefix : str
        What a fit parameter of that model is called at the top of the chain
        (``"<step>__"`` per Pipeline level; a wrapping meta-estimator passes
        fit parameters through).
    model : estimator
    """
    prefix = ""
    while True:
        if hasattr(model, "steps"):
            name, model = model.steps[-1]
            prefix += f"{name}__"
        elif "estimator" in getattr(model, "get_params", dict)(deep=False):
            model = model.get_params(deep=False)["estimator"]
        else:
            return prefix, model


def enable_epoch_progress(model):
    """Turn on the per-epoch progress of the final estimator, where it has ``verbose``.

    Returns whether it did. The change is made on the unfitted template, so the
    clones that cross-validation fits inherit it.
    """
    _, final = _final_step(model)
    if "verbose" in getattr(final, "get_params", dict)(deep=False):
        final.set_params(verbose=1)
        return True
    return False


def nonscored_fit_params(model, Y_nonscored):
    """Fit parameters that hand the non-scored targets to a model that pretrains on them.

    Returns an empty dict when the model's final estimator takes no
    ``Y_nonscored`` (or there is no non-scored matrix).
    """
    prefix, final = _final_step(model)
    fit = getattr(final, "fit", None)
    if Y_nonscored is None or fit is None:
        return {}
    if "Y_nonscored" not in inspect.signature(fit).parameters:
        return {}
    return {f"{prefix}Y_nonscored": Y_nonscored}
