"""``sklearn-moa benchmark``: cross-validate models and report the comparison."""

import os
import platform
import sys
from datetime import datetime, timezone

import pandas as pd

from .. import __version__
from ..model_selection import compare_models
from ._data import check_pretraining_data, describe_source, training_data
from ._reports import format_table, write_reports
from ._zoo import build_models, drug_fit_params, enable_epoch_progress, nonscored_fit_params

__all__ = ["add_parser", "run"]

QUICK_FOLDS = 3
#: Folds of ``--full``: 5, the usual choice of the LISH-MoA kernels. The seed's
#: TabNet protocol used 13 (``--full --folds 13``).
FULL_FOLDS = 5


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "benchmark",
        help="cross-validate models and write a comparison table, OOF predictions and charts",
        description=(
            "Cross-validate each model (with its feature preset and the control rule) on the "
            "same folds, drug-aware when drug ids exist, print the comparison table and write "
            "comparison.csv/.json, per_target_log_loss.csv, oof_predictions.npz and two charts "
            "into --out."
        ),
    )
    parser.add_argument("--data", metavar="DIR",
                        help="Kaggle lish-moa folder (default: built-in synthetic data)")
    parser.add_argument("--models", metavar="A,B,...",
                        help="comma-separated model names (default: every installed model; "
                             "see `sklearn-moa models`)")
    parser.add_argument("--folds", type=int, metavar="K",
                        help=f"number of CV folds (default: {QUICK_FOLDS}, or {FULL_FOLDS} with --full)")
    parser.add_argument("--full", action="store_true",
                        help="the seed's epochs, sizes and folds instead of the quick settings")
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
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
    return parser


def threads_per_fold(jobs):
    """Thread budget of each fold: the cores shared among the folds that run at once."""
    if jobs in (None, 1):
        return None
    n_parallel = os.cpu_count() if jobs < 0 else jobs
    return max(1, (os.cpu_count() or 1) // n_parallel)


def _progress(items, desc, quiet):
    if quiet:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="model")


def _say(message, quiet):
    if quiet:
        print(message)
    else:
        from tqdm.auto import tqdm

        tqdm.write(message)


def run(args):
    """Run the benchmark described by the parsed ``args``; return the exit code."""
    folds = args.folds if args.folds is not None else (FULL_FOLDS if args.full else QUICK_FOLDS)
    if folds < 2:
        raise ValueError(f"--folds must be at least 2; got {folds}.")
    models = build_models(args.models, full=args.full, random_state=args.seed)
    data = training_data(args.data, n_samples=args.samples, random_state=args.seed)
    check_pretraining_data(args.pretrain, data)
    print(describe_source(args.data, data))
    print(f"{len(models)} model(s), {folds}-fold {'drug-aware ' if data.drugs is not None else ''}"
          f"CV, {'full' if args.full else 'quick'} settings")
    sys.stdout.flush()

    rows, results, failed, pretrained = [], {}, {}, []
    serial = args.jobs in (None, 1)
    for name in _progress(list(models), "models", args.quiet):
        model = models[name]
        if not args.quiet and serial:
            enable_epoch_progress(model)
        fit_params = nonscored_fit_params(model, data.nonscored_targets) if args.pretrain else {}
        if fit_params:
            pretrained.append(name)
            _say(f"{name}: pretraining on {data.nonscored_targets.shape[1]} non-scored targets",
                 args.quiet)
        try:
            row, result = compare_models(
                {name: model}, data.features, data.targets, groups=data.drugs, cv=folds,
                n_jobs=args.jobs, fit_params={**fit_params, **drug_fit_params(model, data.drugs)},
                verbose=0 if args.quiet else 1,
                random_state=args.seed, return_results=True, checkpoint_dir=args.checkpoint_dir,
                threads_per_fold=threads_per_fold(args.jobs),
            )
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # one broken model must not lose the others' results
            failed[name] = f"{type(exc).__name__}: {exc}"
            _say(f"sklearn-moa: model {name!r} failed: {failed[name]}", args.quiet)
            continue
        rows.append(row)
        results.update(result)
        if result[name].resumed is not None and result[name].resumed.any():
            _say(f"{name}: {int(result[name].resumed.sum())} of {folds} folds resumed from "
                 f"{args.checkpoint_dir}", args.quiet)
        _say(f"{name}: OOF log loss {row['oof_log_loss'].iloc[0]:.5f}, "
             f"fit {row['fit_time_s'].iloc[0]:.1f} s", args.quiet)

    if not results:
        print("sklearn-moa: error: every model failed; nothing to report.", file=sys.stderr)
        return 1
    table = pd.concat(rows).sort_values("oof_log_loss")
    print()
    print(format_table(table))
    metadata = {
        "data": args.data or f"make_moa({args.samples}, random_state={args.seed})",
        "n_samples": int(len(data.features)),
        "n_targets": int(data.targets.shape[1]),
        "drug_aware": data.drugs is not None,
        "folds": folds,
        "full": bool(args.full),
        "seed": args.seed,
        "pretrained_on_nonscored": pretrained,
        "failed": failed,
        "sklearn_moa_version": __version__,
        "python_version": platform.python_version(),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    written, notes = write_reports(table, results, data.targets, args.out, metadata=metadata)
    print(f"\nwrote {', '.join(written)}")
    for note in notes:
        print(note)
    return 1 if failed else 0
