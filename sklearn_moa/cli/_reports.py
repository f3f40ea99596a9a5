"""Benchmark reports: the printed table, CSV/JSON files, OOF predictions, charts."""

import json
import os

import numpy as np
import pandas as pd

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


def _plot_comparison(table, path):
    import matplotlib.pyplot as plt

    table = table.iloc[::-1]  # best model at the top of a horizontal bar chart
    height = 2.4 + 0.45 * len(table)
    fig, (ax_loss, ax_time) = plt.subplots(
        1, 2, figsize=(10, height), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    y = np.arange(len(table))
    ax_loss.barh(y - 0.2, table["oof_log_loss"], height=0.4, label="OOF")
    ax_loss.barh(y + 0.2, table["fold_log_loss_mean"], height=0.4,
                 xerr=table["fold_log_loss_std"], label="fold mean ± std", alpha=0.7)
    ax_loss.set_yticks(y, table.index)
    ax_loss.set_xlabel("mean column-wise log loss (lower is better)")
    fig.legend(*ax_loss.get_legend_handles_labels(), loc="lower left", ncol=2, fontsize="small")
    ax_time.barh(y, table["fit_time_s"], color="tab:gray")
    ax_time.set_xlabel("fit time, all folds (s)")
    fig.suptitle("sklearn-moa benchmark")
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))  # room for the legend at the bottom
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_per_target(per_target, prevalence, path):
    import matplotlib.pyplot as plt

    order = np.argsort(prevalence.to_numpy(), kind="stable")
    fig, ax = plt.subplots(figsize=(12, 4.5))
    x = np.arange(len(order))
    for name in per_target.columns:
        ax.plot(x, per_target[name].to_numpy()[order], marker=".", linewidth=0.8, label=name)
    ax.set_yscale("log")
    ax.set_xlabel(f"target ({len(order)}), ordered by training prevalence (rarest left)")
    ax.set_ylabel("OOF log loss")
    worst = per_target.mean(axis=1).nlargest(3)
    position = {target: i for i, target in enumerate(per_target.index[order])}
    for rank, (target, loss) in enumerate(worst.items()):
        ax.annotate(target, (position[target], loss), xytext=(-160, -14 * (rank + 1)),
                    textcoords="offset points", fontsize="x-small",
                    arrowprops={"arrowstyle": "-", "linewidth": 0.5})
    ax.legend(fontsize="small", ncol=2)
    ax.set_title("Per-target out-of-fold log loss")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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

    if _charts_available():
        prevalence = pd.Series(np.asarray(Y).mean(axis=0), index=per_target.index)
        _plot_comparison(table, path("comparison.png"))
        _plot_per_target(per_target, prevalence, path("per_target_log_loss.png"))
        written += [path("comparison.png"), path("per_target_log_loss.png")]
    else:
        notes.append("charts skipped: matplotlib is missing (pip install 'sklearn-moa[plots]')")
    return written, notes
