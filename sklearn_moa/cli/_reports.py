"""Benchmark reports: the printed table, CSV/JSON files, OOF predictions, charts, HTML."""

import json
import os

import numpy as np
import pandas as pd

from ._charts import plot_comparison, plot_per_target_gain, prior_reference
from ._html import write_html_report

__all__ = [
    "format_table",
    "per_target_log_loss",
    "write_reports",
]

_TABLE_COLUMNS = {
    "fold_log_loss_mean": "fold log loss mean",
    "fold_log_loss_std": "fold log loss std",
    "oof_log_loss": "OOF log loss",
    "fit_time_s": "fit time (s)",
}


def format_table(table):
    """The comparison table as the blog post prints it: model, fold scores, OOF score, fit time."""
    shown = table[list(_TABLE_COLUMNS)].rename(columns=_TABLE_COLUMNS).reset_index()
    return shown.to_string(
        index=False,
        formatters={
            **{name: "{:.5f}".format for name in list(_TABLE_COLUMNS.values())[:3]},
            "fit time (s)": "{:.1f}".format,
        }
    )


def per_target_log_loss(results, Y):
    """Out-of-fold log loss of every target (rows) for every model (columns)."""
    return pd.DataFrame({name: result.per_target_log_loss(Y) for name, result in results.items()})


def _write_oof(results, index, path):
    names = list(results)
    first = results[names[0]]
    arrays = {f"oof__{name}": r.oof_predictions.astype(np.float32) for name, r in results.items()}
    np.savez_compressed(
        path,
        models=np.asarray(names, dtype=str),
        target_names=np.asarray(first.target_names, dtype=str),
        sig_id=np.asarray(index if index is not None else np.arange(len(first.oof_predictions)),
                          dtype=str),
        **arrays,
    )


def _charts_available():
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    return True


def write_reports(table, results, Y, out, *, metadata):
    """Write every report of a benchmark run into the folder ``out``.

    Parameters
    ----------
    table : DataFrame
        One row per model, as :func:`~sklearn_moa.model_selection.compare_models`
        returns it.
    results : dict of str -> CVResult
    Y : DataFrame
        The cross-validated targets.
    out : str
        Output folder (created if needed).
    metadata : dict
        Facts about the run, stored in the JSON file.

    Returns
    -------
    written : list of str
        Paths written.
    notes : list of str
        What could not be written, and why.
    """
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731
    written, notes = [], []

    table.to_csv(path("comparison.csv"))
    with open(path("comparison.json"), "w") as f:
        json.dump({"run": metadata, "models": table.reset_index().to_dict(orient="records")},
                  f, indent=2)
    per_target = per_target_log_loss(results, Y)
    per_target.index.name = "target"
    per_target.to_csv(path("per_target_log_loss.csv"))
    _write_oof(results, getattr(Y, "index", None), path("oof_predictions.npz"))
    written += [path(n) for n in ("comparison.csv", "comparison.json",
                                  "per_target_log_loss.csv", "oof_predictions.npz")]

    flat = pd.json_normalize(metadata, sep=".").T.squeeze(axis=1)
    flat.rename_axis("key").rename("value").to_csv(path("run.csv"))
    written.append(path("run.csv"))

    prevalence = pd.Series(np.asarray(Y).mean(axis=0), index=per_target.index)
    reference = prior_reference(table, per_target, Y)
    charts = {}
    if _charts_available():
        plot_comparison(table, results, reference, metadata, path("comparison.png"))
        plot_per_target_gain(per_target, reference, prevalence, metadata,
                             path("per_target_gain.png"))
        charts = {"Model comparison": path("comparison.png"),
                  "Gain over the prior by target prevalence": path("per_target_gain.png")}
        written += list(charts.values())
    else:
        notes.append("charts skipped: matplotlib is missing (pip install 'sklearn-moa[plots]')")
    write_html_report(path("report.html"), table=table, results=results, per_target=per_target,
                      reference=reference, prevalence=prevalence, Y=Y, metadata=metadata,
                      charts=charts)
    written.append(path("report.html"))
    return written, notes
