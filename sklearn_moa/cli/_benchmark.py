"""``sklearn-moa benchmark``: cross-validate models and report the comparison."""

import os
import sys
from datetime import datetime, timezone

import pandas as pd

from ..model_selection import compare_models
from ..model_zoo import MODEL_ZOO
from ._data import check_pretraining_data, describe_source, training_data
from ._environment import machine, package_versions
from ._output import model_progress
from ._persistence import locked_output_folder
from ._reports import format_table, write_reports
from ._zoo import (
    add_model_arguments, build_models, chosen_settings, drug_fit_params, nonscored_fit_params,
)

__all__ = ["add_parser", "run"]

#: What ``benchmark`` runs without ``--models`` (those installed): the blog post's six
#: models, the winners' two torch networks and the prior, which the reports measure
#: gains against. Their quick settings take about 4 minutes on two idle cores; models
#: added to the zoo later run with ``--models all`` or by name, so that the default
#: run stays under 5 minutes.
DEFAULT_MODELS = ("prior", "logistic", "svm", "xgboost", "tabnet", "two_head_nn", "cnn1d",
                  "residual_nn", "deep_cnn")
QUICK_FOLDS = 3
#: Folds of the full and blog settings: 5, the usual choice of the LISH-MoA
#: kernels. The blog post's TabNet protocol used 13 (``--settings blog --folds 13``).
FULL_FOLDS = 5


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "benchmark",
        help="cross-validate models and write a comparison table, charts and an HTML report",
        description=(
            "Cross-validate each model (with its feature preset and the control rule) on the "
            "same folds, drug-aware when drug ids exist, print the comparison table and write "
            "report.html, comparison.csv/.json, run.csv, per_target_log_loss.csv, "
            "oof_predictions.npz and two charts "
            "into --out."
        ),
    )
    parser.add_argument("--data", metavar="DIR",
                        help="Kaggle lish-moa folder (default: built-in synthetic data)")
    parser.add_argument("--models", metavar="A,B,...",
                        help="comma-separated model names, or 'all' for every installed single model "
                             "(ensembles such as winners_blend run when named) "
                             f"(default: those installed of {', '.join(DEFAULT_MODELS)}; "
                             "see `sklearn-moa models`)")
    parser.add_argument("--folds", type=int, metavar="K",
                        help=f"number of CV folds (default: {QUICK_FOLDS}, or {FULL_FOLDS} with the "
                             "full or blog settings)")
    add_model_arguments(parser)
    parser.add_argument("--samples", type=int, default=6000, metavar="N",
                        help="rows of synthetic data when --data is not given (default: 6000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of folds, data and models")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="folds fitted in parallel (default: 1)")
    parser.add_argument("--checkpoint-dir", metavar="DIR",
                        help="save each finished fold in DIR; run again with the same settings, "
                             "the folds already done are loaded instead of refitted")
    parser.add_argument("--out", default="moa-results", metavar="DIR",
                        help="folder for the reports (default: ./moa-results)")
    parser.add_argument("--pretrain", action="store_true",
                        help="pretrain the models that support it on the non-scored targets "
                             "(as the 1st-3rd places did)")
    parser.set_defaults(func=run)
    return parser


def threads_per_fold(jobs):
    """Thread budget of each fold: the cores shared among the folds that run at once."""
    if jobs in (None, 1):
        return None
    n_parallel = os.cpu_count() if jobs < 0 else jobs
    return max(1, (os.cpu_count() or 1) // n_parallel)


def chosen_models(option):
    """The ``--models`` value as :func:`build_models` takes it (None there: every installed single model)."""
    if option is None:
        return ",".join(n for n in DEFAULT_MODELS if n in MODEL_ZOO and MODEL_ZOO[n].available())
    return None if option.strip().lower() == "all" else option


def run(args):
    """Run the benchmark described by the parsed ``args``; return the exit code."""
    # Checked and locked before any work: a second run on the same --out stops here.
    with locked_output_folder(args.out, "--out"):
        return _run(args)


def _run(args):
    settings = chosen_settings(args)
    folds = args.folds if args.folds is not None else (QUICK_FOLDS if settings == "quick" else FULL_FOLDS)
    if folds < 2:
        raise ValueError(f"--folds must be at least 2; got {folds}.")
    models = build_models(chosen_models(args.models), settings=settings, random_state=args.seed,
                          device=args.device)
    data = training_data(args.data, n_samples=args.samples, random_state=args.seed)
    check_pretraining_data(args.pretrain, data)
    print(describe_source(args.data, data))
    print(f"{len(models)} model(s), {folds}-fold {'drug-aware ' if data.drugs is not None else ''}"
          f"CV, {settings} settings")
    sys.stdout.flush()

    rows, results, failed, pretrained = [], {}, {}, []
    serial = args.jobs in (None, 1)
    for name, model in models.items():
        fit_params = nonscored_fit_params(model, data.nonscored_targets) if args.pretrain else {}
        if fit_params:
            pretrained.append(name)
            print(f"{name}: pretraining on {data.nonscored_targets.shape[1]} non-scored targets")
        try:
            with model_progress(name, model, folds, args, serial=serial) as progress:
                row, result = compare_models(
                    {name: model}, data.features, data.targets, groups=data.drugs, cv=folds,
                    n_jobs=args.jobs, fit_params={**fit_params, **drug_fit_params(model, data.drugs)},
                    progress=progress.fold_done,
                    random_state=args.seed, return_results=True,
                    checkpoint_dir=args.checkpoint_dir, threads_per_fold=threads_per_fold(args.jobs),
                )
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # one broken model must not lose the others' results
            failed[name] = f"{type(exc).__name__}: {exc}"
            print(f"sklearn-moa: model {name!r} failed: {failed[name]}")
            continue
        rows.append(row)
        results.update(result)
        if result[name].resumed is not None and result[name].resumed.any():
            print(f"{name}: {int(result[name].resumed.sum())} of {folds} folds resumed from "
                  f"{args.checkpoint_dir}")
        print(f"{name}: OOF log loss {row['oof_log_loss'].iloc[0]:.5f}, "
              f"fit {row['fit_time_s'].iloc[0]:.1f} s")
        sys.stdout.flush()

    if not results:
        print("sklearn-moa: error: every model failed; nothing to report.", file=sys.stderr)
        return 1
    table = pd.concat(rows).sort_values("oof_log_loss")
    print()
    print(format_table(table))
    first = next(iter(results.values()))
    metadata = {
        "command": getattr(args, "command_line", None),
        "data": args.data or f"make_moa({args.samples}, random_state={args.seed})",
        "synthetic": args.data is None,
        "n_samples": int(len(data.features)),
        "n_targets": int(data.targets.shape[1]),
        "drug_aware": data.drugs is not None,
        "folds": folds,
        "cv": " ".join(first.cv.split()),
        "full": settings != "quick",
        "settings": settings,
        "device": args.device,
        "seed": args.seed,
        "jobs": args.jobs,
        "pretrained_on_nonscored": pretrained,
        "failed": failed,
        "versions": package_versions(),
        "machine": machine(),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    written, notes = write_reports(table, results, data.targets, args.out, metadata=metadata)
    print(f"\nwrote {', '.join(os.path.basename(p) for p in written)} into {args.out}")
    for note in notes:
        print(note)
    print(f"report: {os.path.join(args.out, 'report.html')}")
    return 1 if failed else 0
