"""Model names of the command: everything comes from :data:`~sklearn_moa.model_zoo.MODEL_ZOO`."""

import inspect

from ..model_zoo import DEVICES, MODEL_ZOO, SETTINGS, build_model

__all__ = [
    "models_table", "build_models", "add_model_arguments", "chosen_settings",
    "enable_epoch_progress", "nonscored_fit_params", "drug_fit_params",
]


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


def add_model_arguments(parser):
    """The options that pick the models' settings and device: ``--settings``, ``--full``, ``--device``."""
    parser.add_argument("--settings", choices=SETTINGS, default=None,
                        help="quick (default): small, fast settings that work; full: full-size "
                             "settings that work; blog: the blog post's published layers, "
                             "optimiser, epochs and batch sizes (models not from the blog post "
                             "use full)")
    parser.add_argument("--full", action="store_true", help="same as --settings full")
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help="device of the torch, TabNet and Keras models (auto: the GPU when "
                             "one is available); the other models run on the CPU (default: each "
                             "model's own, the CPU for torch and TabNet, the backend's choice "
                             "for Keras)")


def chosen_settings(args):
    """The settings name the parsed ``--settings``/``--full`` options ask for."""
    if args.full and args.settings not in (None, "full"):
        raise ValueError(f"--full and --settings {args.settings} contradict each other; give one.")
    return args.settings or ("full" if args.full else "quick")


def build_models(names=None, *, settings=None, full=False, random_state=0, device=None):
    """Build the models to run: the comma-separated ``names``, or every installed one.

    Without names, entries marked ``default=False`` (the ensembles) are left out.

    Every name is checked (and its model built) before anything runs;
    ``settings``, ``full``, ``random_state`` and ``device`` are those of
    :func:`~sklearn_moa.model_zoo.build_model`.

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
    return {
        name: build_model(name, settings=settings, full=full, random_state=random_state, device=device)
        for name in chosen
    }


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
    *_, (prefix, model) = _chain(model)
    return prefix, model


def _chain(model):
    """``(prefix, estimator)`` for each level of the chain that ``_final_step`` walks down.

    Pipelines are stepped through (a step is a level); a meta-estimator is a
    level, then its ``estimator``.
    """
    prefix, levels = "", []
    while True:
        if hasattr(model, "steps"):
            name, model = model.steps[-1]
            prefix += f"{name}__"
        elif "estimator" in getattr(model, "get_params", dict)(deep=False):
            levels.append((prefix, model))
            model = model.get_params(deep=False)["estimator"]
        else:
            return levels + [(prefix, model)]


def enable_epoch_progress(model):
    """Turn on the per-epoch progress of the final estimator, where it has ``verbose``.

    A meta-estimator on the way that has ``verbose`` (a seed-averaged model)
    gets it too, so that it says which seed is fitting. Returns whether the
    final estimator got it. The change is made on the unfitted template, so
    the clones that cross-validation fits inherit it.
    """
    *wrappers, (_, final) = _chain(model)
    for _, wrapper in wrappers:
        if "verbose" in wrapper.get_params(deep=False):
            wrapper.set_params(verbose=1)
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
    if Y_nonscored is None or not _fit_takes(final, "Y_nonscored"):
        return {}
    return {f"{prefix}Y_nonscored": Y_nonscored}


def _fit_takes(estimator, name):
    """Whether ``estimator.fit`` takes the fit parameter ``name``.

    Named in its signature, or declared in ``__metadata_request__fit`` (the
    suite's models take ``**fit_params`` and declare the ones they use).
    """
    fit = getattr(estimator, "fit", None)
    if fit is None:
        return False
    if name in inspect.signature(fit).parameters:
        return True
    requests = getattr(estimator, "_get_metadata_request", None)
    return requests is not None and name in requests().fit.requests


def drug_fit_params(model, drugs):
    """Fit parameters that hand the drug ids to a model whose fit splits by drug itself.

    The 3-stage NN builds inner folds in ``fit`` and the deep models hold out
    validation rows for early stopping: given ``groups`` they keep drugs
    whole. Returns an empty dict when the model's final estimator takes
    no ``groups`` (or there are no drug ids).
    """
    prefix, final = _final_step(model)
    if drugs is None or not _fit_takes(final, "groups"):
        return {}
    return {f"{prefix}groups": drugs}
