"""Sphinx configuration of the sklearn-moa documentation.

Built by ``bash run.sh test`` with ``-W``: any warning fails the build.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.abspath(".."))
# autodoc imports sklearn_moa; frameworks are imported lazily inside fit, but
# keep any that get imported quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import sklearn_moa  # noqa: E402

project = "sklearn-moa"
author = "sklearn-moa developers"
copyright = "sklearn-moa developers"
release = version = sklearn_moa.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
templates_path = ["_templates"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"
# Modules that import a framework at the top (the torch modules, for instance)
# are documented without it: the build needs no framework and stays quick.
autodoc_mock_imports = [
    "keras", "tensorflow", "torch", "skorch", "pytorch_tabnet", "xgboost", "dask", "distributed",
]

# numpydoc renders the parameter tables; its member lists would duplicate autosummary's.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_theme_options = {"description": "MoA models as scikit-learn estimators", "fixed_sidebar": True}
html_title = f"sklearn-moa {release}"

# ----------------------------------------------------------------------------
# API reference: one autosummary table per public module, listing its __all__,
# so that every estimator added to the package appears without editing the docs.

API_MODULES = [
    ("sklearn_moa.datasets", "Data: the Kaggle layout, the synthetic generator, submissions"),
    ("sklearn_moa.metrics", "The competition metric"),
    ("sklearn_moa.preprocessing", "Feature transformers and presets"),
    ("sklearn_moa.models", "Estimators"),
    ("sklearn_moa.model_selection", "Drug-aware splitters, cross-validation, comparison"),
    ("sklearn_moa.ensemble", "Blending and seed averaging"),
    ("sklearn_moa.model_zoo", "Named, ready-to-fit models"),
    ("sklearn_moa.cli", "The command and its model files"),
]


def _api_reference():
    import importlib
    import inspect

    title = "API reference"
    parts = [title, "=" * len(title), "",
             "Generated from the docstrings of each public module's ``__all__``. Estimators",
             "follow scikit-learn's conventions: ``fit(X, Y)`` with a 0/1 target matrix,",
             "``predict_proba`` returning an ``(n_samples, n_targets)`` matrix of",
             "positive-class probabilities.", ""]
    for name, title in API_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a sub-package still being written
            continue
        members = [
            member for member in getattr(module, "__all__", [])
            if inspect.isclass(getattr(module, member, None))
            or inspect.isfunction(getattr(module, member, None))
        ]
        if not members:
            continue
        heading = f"``{name}``: {title}"
        parts += [heading, "-" * len(heading), "", f".. automodule:: {name}", "   :no-members:",
                  "   :no-index:", "", f".. currentmodule:: {name}", "", ".. autosummary::",
                  "   :toctree: .", "   :nosignatures:", ""]
        parts += [f"   {member}" for member in sorted(members, key=str.lower)] + [""]
    return "\n".join(parts)


# The page and its stubs are rebuilt from scratch each time, so that a renamed
# or removed estimator leaves no orphan page behind (an orphan is a warning).
_generated = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api", "generated")
shutil.rmtree(_generated, ignore_errors=True)
os.makedirs(_generated)
with open(os.path.join(_generated, "index.rst"), "w") as _f:
    _f.write(_api_reference())


def _model_zoo_table():
    from sklearn_moa.model_zoo import MODEL_ZOO

    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 15 12 73", "",
             "   * - name", "     - extra", "     - model and source"]
    for name, spec in MODEL_ZOO.items():
        lines += [f"   * - ``{name}``", f"     - {spec.extra or '(core)'}",
                  f"     - {spec.description}"]
    return "\n".join(lines) + "\n"


# Included by models.md; ".inc" is not a source suffix, so it is no page of its own.
with open(os.path.join(_generated, "model_zoo.inc"), "w") as _f:
    _f.write(_model_zoo_table())


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,score,...}_request on every estimator; their
    # docstrings point into scikit-learn's own glossary, which is not built here.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_INLINE_LITERAL = re.compile(r"(``.+?``|`[^`]*`)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![\\\w])([A-Za-z]\w*?)_(?=$|[\s,.;:)\]*])")


def _escape_fitted_attribute_names(app, what, name, obj, options, lines):
    # Fitted attributes end in "_" (``n_features_in_``); in reST prose a word
    # ending in "_" is a hyperlink reference, so a docstring that mentions one
    # outside backticks (e.g. "ndarray of shape (n_features_in_,)") would fail
    # the build with "Unknown target name". Escape those underscores.
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")) or "_" not in line:
            continue
        parts = _INLINE_LITERAL.split(line)
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"\1\\_", part) for part in parts[::2]]
        lines[i] = "".join(parts)


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("autodoc-process-docstring", _escape_fitted_attribute_names)
