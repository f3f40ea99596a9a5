"""``report.html``: the benchmark in one self-contained file (no external assets)."""

import base64
import html
import json

import numpy as np

from .. import __version__
from ._charts import run_title

__all__ = ["write_html_report"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; position: sticky; top: 0; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-order="asc"]::after { content: " \\25B2"; }
table.sortable th[data-order="desc"]::after { content: " \\25BC"; }
td.better { color: #1f5fa8; } td.worse { color: #b2301f; } td.best { font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; }
.scroll { max-height: 36em; max-width: 100%; overflow: auto; display: inline-block; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; font-size: 0.9em; }
dt { color: #555; } dd { margin: 0; font-family: ui-monospace, monospace; }
.note { color: #555; font-size: 0.85em; }
"""

# Click a header to sort by it (again: the other way); numbers sort by data-value.
_SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var ascending = th.dataset.order !== "asc";
    table.querySelectorAll("th").forEach(function (other) { delete other.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    function key(row) {
      var cell = row.cells[column], value = cell.dataset.value;
      return value !== undefined ? parseFloat(value) : cell.textContent;
    }
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""


def _e(value):
    return html.escape(str(value))


def _number(value, fmt, css=""):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return '<td data-value="NaN">n/a</td>'
    css = f' class="{css}"' if css else ""
    return f'<td data-value="{float(value)!r}"{css}>{format(value, fmt)}</td>'


def _summary_table(table, results, prior_loss):
    rows = []
    for name, row in table.iterrows():
        gain = 100 * (1 - row["oof_log_loss"] / prior_loss)
        folds = ", ".join(f"{x:.5f}" for x in results[name].fold_log_loss)
        rows.append(
            f"<tr><td>{_e(name)}</td>"
            + _number(row["oof_log_loss"], ".5f")
            + _number(gain, "+.1f", "better" if gain > 0 else ("worse" if gain < 0 else ""))
            + _number(row["fold_log_loss_mean"], ".5f")
            + _number(row["fold_log_loss_std"], ".5f")
            + f"<td>{_e(folds)}</td>"
            + _number(row["fit_time_s"], ".1f")
            + _number(row["predict_time_s"], ".2f")
            + "</tr>"
        )
    header = ("<tr><th>model</th><th>OOF log loss</th><th>gain over the prior (%)</th>"
              "<th>fold mean</th><th>fold std</th><th>fold scores</th><th>fit time (s)</th>"
              "<th>predict time (s)</th></tr>")
    return (f'<table class="sortable" id="comparison"><thead>{header}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _per_target_table(per_target, reference, prevalence, Y):
    label, _, prior = reference
    models = [m for m in per_target.columns if m != "prior"] or list(per_target.columns)
    positives = np.asarray(Y).sum(axis=0)
    header = ("<tr><th>target</th><th>prevalence (%)</th><th>positive rows</th>"
              f"<th>{_e(label)} loss</th>"
              + "".join(f"<th>{_e(m)}</th>" for m in models)
              + "<th>best model</th><th>best gain (%)</th></tr>")
    rows = []
    for i, target in enumerate(per_target.index):
        losses = per_target.loc[target, models]
        best = losses.idxmin() if losses.max() - losses.min() > 1e-12 else "(tie)"
        best_gain = 100 * (1 - losses.min() / prior[target]) if prior[target] > 0 else np.nan
        cells = [f"<td>{_e(target)}</td>",
                 _number(100 * prevalence[target], ".3f"),
                 _number(int(positives[i]), "d"),
                 _number(prior[target], ".5f")]
        for m in models:
            css = "best" if m == best else ""
            cells.append(_number(per_target.loc[target, m], ".5f", css))
        cells += [f"<td>{_e(best)}</td>", _number(best_gain, "+.1f")]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="sortable" id="per-target"><thead>{header}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _definition_list(mapping):
    items = []
    for key, value in mapping.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value) if value else "none"
        items.append(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>")
    return f"<dl>{''.join(items)}</dl>"


def _image(path, alt):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def write_html_report(path, *, table, results, per_target, reference, prevalence, Y, metadata,
                      charts):
    """Write the benchmark as one HTML file: table, charts, settings, per-target table.

    Parameters
    ----------
    path : str
    table : DataFrame
        The comparison table, best model first.
    results : dict of str -> CVResult
    per_target : DataFrame
        OOF log loss, targets by models.
    reference : tuple
        :func:`~sklearn_moa.cli._charts.prior_reference`.
    prevalence : Series
        Training prevalence of each target.
    Y : array-like
        The cross-validated targets.
    metadata : dict
        The run's settings, versions and machine.
    charts : dict of str -> str
        Title to PNG path; embedded as base64 (none when matplotlib is missing).
    """
    label, prior_loss, _ = reference
    settings = {k: v for k, v in metadata.items() if k not in ("versions", "machine")}
    images = "".join(f"<h3>{_e(title)}</h3>{_image(png, title)}" for title, png in charts.items())
    if not charts:
        images = '<p class="note">No charts: matplotlib is not installed.</p>'
    failed = metadata.get("failed") or {}
    failures = "".join(f"<li><b>{_e(n)}</b>: {_e(m)}</li>" for n, m in failed.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sklearn-moa benchmark report</title>
<style>{_STYLE}</style></head>
<body>
<h1>sklearn-moa benchmark</h1>
<p class="subtitle">{_e(run_title(metadata))}</p>
<h2>Comparison</h2>
<p class="note">Mean column-wise log loss of the out-of-fold predictions (the competition
metric; lower is better). Gain over the prior: how much of the {_e(label)} loss
({prior_loss:.5f}) a model removes. Click a column header to sort.</p>
{_summary_table(table, results, prior_loss)}
{f'<h2>Failed models</h2><ul>{failures}</ul>' if failures else ''}
<h2>Charts</h2>
{images}
<h2>Per-target out-of-fold log loss</h2>
<p class="note">One row per target; the best model's loss in bold. Click a header to sort
(for example by prevalence, or by best gain to find the targets no model learns).</p>
{_per_target_table(per_target, reference, prevalence, Y)}
<h2>Run</h2>
{_definition_list(settings)}
<h2>Versions</h2>
{_definition_list(metadata.get("versions", {}))}
<h2>Machine</h2>
{_definition_list(metadata.get("machine", {}))}
<p class="note">Written by sklearn-moa {_e(__version__)}.</p>
<script>{_SORT_SCRIPT}</script>
</body></html>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
