"""The benchmark's charts: the comparison, and per-target gains over the prior."""

import numpy as np
import pandas as pd

from ..metrics import columnwise_log_loss

__all__ = ["prior_reference", "prevalence_bins", "gain_by_prevalence", "plot_comparison",
           "plot_per_target_gain", "run_title"]

#: Upper edges of the prevalence groups of the per-target chart (share of rows).
PREVALENCE_EDGES = (0.001, 0.002, 0.005, 1.0)  # 55, 56, 62 and 33 targets of the real data


def prior_reference(table, per_target, Y):
    """The loss every model should beat: the ``prior`` model's, or the training prevalence's.

    Returns
    -------
    label : str
    overall : float
        Mean column-wise log loss of the reference.
    per_target : Series
        Its log loss per target.
    """
    if "prior" in per_target.columns:
        return "prior (CV)", float(table.loc["prior", "oof_log_loss"]), per_target["prior"]
    Y = np.asarray(Y, dtype=float)
    prevalence = np.broadcast_to(Y.mean(axis=0), Y.shape)
    losses = pd.Series(columnwise_log_loss(Y, prevalence), index=per_target.index)
    return "prevalence (in-sample)", float(losses.mean()), losses


def prevalence_bins(prevalence):
    """Label of each target's prevalence group (``"< 0.1 %"``, ``"0.1-0.2 %"``, ...)."""
    labels, lower = [], 0.0
    for upper in PREVALENCE_EDGES:
        labels.append(f"< {upper * 100:g} %" if lower == 0 else
                      (f"≥ {lower * 100:g} %" if upper == 1.0 else
                       f"{lower * 100:g}-{upper * 100:g} %"))
        lower = upper
    codes = np.searchsorted(PREVALENCE_EDGES, np.asarray(prevalence), side="right")
    codes = np.minimum(codes, len(labels) - 1)
    return pd.Series([labels[c] for c in codes], index=getattr(prevalence, "index", None)), labels


def run_title(metadata):
    """One line: data, rows, targets, folds and CV scheme of a run."""
    data = "synthetic data (make_moa)" if metadata.get("synthetic") else metadata.get("data", "?")
    scheme = str(metadata.get("cv", "")).split("(")[0] or "CV"
    scheme += " (drug-aware)" if metadata.get("drug_aware") else " (row-wise)"
    return (f"{data}: {metadata.get('n_samples', '?'):,} rows, {metadata.get('n_targets', '?')} "
            f"targets; {metadata.get('folds', '?')}-fold {scheme}, seed {metadata.get('seed', '?')}")


def plot_comparison(table, results, reference, metadata, path):
    """OOF log loss per model, each fold's score, the prior as a line, and fit time.

    The loss axis spans the data (not from 0), so that differences of 1e-4
    show; the error bar is the standard deviation of the fold scores.
    """
    import matplotlib.pyplot as plt

    label, prior_loss, _ = reference
    table = table.iloc[::-1]  # best model at the top
    names = list(table.index)
    y = np.arange(len(names))
    height = 2.2 + 0.42 * len(names)
    fig, (ax, ax_time) = plt.subplots(1, 2, figsize=(11, height), sharey=True,
                                      gridspec_kw={"width_ratios": [3, 1.3]})
    for i, name in enumerate(names):
        folds = results[name].fold_log_loss
        ax.scatter(folds, np.full(len(folds), i), s=14, color="0.6", zorder=2,
                   label="fold" if i == 0 else None)
    better = (table["oof_log_loss"] < prior_loss).to_numpy()
    colours = np.where(better, "tab:blue", "tab:red").astype(object)
    colours[[name == "prior" for name in names]] = "tab:orange"
    ax.errorbar(table["oof_log_loss"], y, xerr=table["fold_log_loss_std"], fmt="none",
                ecolor="0.3", elinewidth=1, capsize=3, zorder=3)
    ax.scatter(table["oof_log_loss"], y, s=55, zorder=4,
               c=colours, label="out-of-fold (± fold std): blue beats the prior, red does not")
    ax.axvline(prior_loss, color="tab:orange", linestyle="--", linewidth=1.2,
               label=f"{label}: {prior_loss:.5f}")
    for i, (name, loss) in enumerate(table["oof_log_loss"].items()):
        gain = (1 - loss / prior_loss) * 100
        ax.annotate(f"{loss:.5f} ({gain:+.1f} %)", (loss, i), xytext=(0, 7),
                    textcoords="offset points", ha="center", fontsize="x-small")
    values = np.concatenate([np.concatenate([results[n].fold_log_loss for n in names]),
                             table["oof_log_loss"].to_numpy(), [prior_loss]])
    low, high = values.min(), values.max()
    pad = (high - low) * 0.08 or high * 0.01
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_yticks(y, names)
    ax.set_xlabel("mean column-wise log loss (lower is better; % = gain over the prior)")
    ax.grid(axis="x", color="0.9")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize="x-small",
              frameon=False)
    ax_time.barh(y, table["fit_time_s"], color="0.55")
    ax_time.set_xscale("log")
    ax_time.set_xlabel("fit time, all folds (s, log scale)")
    for i, seconds in enumerate(table["fit_time_s"]):
        ax_time.annotate(f"{seconds:.1f}", (seconds, i), xytext=(3, 0), textcoords="offset points",
                         va="center", fontsize="x-small")
    ax_time.set_xlim(right=table["fit_time_s"].max() * 4)
    fig.suptitle(f"Model comparison: {run_title(metadata)}", fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gain_by_prevalence(per_target, reference, prevalence):
    """Gain over the prior (%) of each model on each prevalence group, and on all targets.

    A group's gain is ``1 - (sum of the model's losses) / (sum of the prior's
    losses)`` over its targets, so the ``"all"`` column is the gain of the
    competition metric itself.

    Returns
    -------
    gains : DataFrame
        Models (best first) by groups (rarest first) and ``"all"``.
    counts : Series
        Targets per group.
    """
    _, _, prior = reference
    bins, labels = prevalence_bins(prevalence)
    labels = [label for label in labels if (bins == label).any()]
    models = [m for m in per_target.columns if m != "prior"] or list(per_target.columns)
    columns = {}
    for label in labels + ["all"]:
        targets = per_target.index if label == "all" else bins.index[bins == label]
        denominator = prior.loc[targets].sum()
        columns[label] = (100 * (1 - per_target.loc[targets, models].sum() / denominator)
                          if denominator > 0 else pd.Series(np.nan, index=models))
    gains = pd.DataFrame(columns).sort_values("all", ascending=False)
    counts = bins.value_counts().reindex(labels)
    counts["all"] = len(per_target)
    return gains, counts


def plot_per_target_gain(per_target, reference, prevalence, metadata, path):
    """Gain over the prior by prevalence group (numbers), and per target (heat map).

    Gain is ``1 - loss / prior loss`` in percent (blue: better than the
    prior, red: worse). Top: each model on each group of targets of similar
    training prevalence. Bottom: each target with at least one positive row,
    rarest left, the groups separated by lines.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    label, _, prior_per_target = reference
    gains, counts = gain_by_prevalence(per_target, reference, prevalence)
    models = list(gains.index)
    learnable = prevalence[prevalence > 0].index
    order = np.argsort(prevalence.loc[learnable].to_numpy(), kind="stable")
    targets = learnable[order]
    gain = 100 * (1 - per_target.loc[targets, models].to_numpy().T
                  / prior_per_target.loc[targets].to_numpy())
    limit = max(float(np.nanpercentile(np.abs(gain), 98)) if gain.size else 1.0, 1.0)
    norm = TwoSlopeNorm(vcenter=0, vmin=-limit, vmax=limit)
    cmap = plt.get_cmap("RdBu")

    height = 0.45 * len(models)
    fig, (ax_bins, ax_targets) = plt.subplots(
        2, 1, figsize=(12, 3.2 + 2 * height), gridspec_kw={"height_ratios": [1, 1.25],
                                                            "hspace": 0.35})
    ax_bins.imshow(gains.to_numpy(), aspect="auto", cmap=cmap, norm=norm)
    for (i, j), value in np.ndenumerate(gains.to_numpy()):
        text = "n/a" if np.isnan(value) else f"{value:+.1f} %"
        dark = not np.isnan(value) and abs(value) > 0.6 * limit
        ax_bins.text(j, i, text, ha="center", va="center", fontsize="small",
                     color="white" if dark else "black")
    ax_bins.set_yticks(np.arange(len(models)), models)
    ax_bins.set_xticks(np.arange(gains.shape[1]),
                       [f"{'all targets' if c == 'all' else 'prevalence ' + c}\n({counts[c]} targets)"
                        for c in gains.columns], fontsize="small")
    ax_bins.axvline(gains.shape[1] - 1.5, color="black", linewidth=1)

    image = ax_targets.imshow(gain, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax_targets.set_yticks(np.arange(len(models)), models)
    bins, _ = prevalence_bins(prevalence.loc[targets])
    for i in np.flatnonzero(bins.to_numpy()[1:] != bins.to_numpy()[:-1]) + 1:
        ax_targets.axvline(i - 0.5, color="black", linewidth=0.8)
    ax_targets.set_xticks([])
    ax_targets.set_xlabel(f"each of the {len(targets)} targets with a positive row, rarest left "
                          f"(lines: the prevalence groups above; {len(per_target) - len(targets)} "
                          "targets without one left out)", fontsize="small")
    colorbar = fig.colorbar(image, ax=[ax_bins, ax_targets], pad=0.01, extend="both",
                            fraction=0.03)
    colorbar.set_label(f"gain over {label} (%)")
    fig.suptitle(f"Gain over the prior by target prevalence\n{run_title(metadata)}",
                 fontsize="medium")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
