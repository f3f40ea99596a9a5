"""``sklearn-moa train``: fit a model of the zoo on a Kaggle folder and save it."""

import sys
import time

# FoldAveragedModel lived here in 0.1.0: model files saved by that version name
# this module, so the name stays importable from it.
from ..ensemble import FoldAveragedModel
from ..model_selection import cross_validate_moa
from ._benchmark import threads_per_fold
from ._blend import add_train_options, prepare_blend_training
from ._data import check_pretraining_data, describe_source, training_data
from ._persistence import save_model
from ._zoo import build_models, enable_epoch_progress, nonscored_fit_params

__all__ = ["FoldAveragedModel", "add_parser", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="fit a model on a Kaggle folder and save it",
        description=(
            "Fit one model of the zoo (with its feature preset and the control rule) on the "
            "training files of a Kaggle-layout folder and save it with a .sha256 checksum file. "
            "With --folds K, follow the seed's protocol instead: one model per CV fold "
            "(drug-aware when train_drug.csv exists), report the OOF log loss, and predict with "
            "the average of the K fold models."
        ),
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="Kaggle lish-moa folder")
    parser.add_argument("--model", required=True, metavar="NAME",
                        help="model name (see `sklearn-moa models`)")
    parser.add_argument("--out", required=True, metavar="FILE", help="model file to write")
    parser.add_argument("--folds", type=int, metavar="K",
                        help="fit one model per CV fold and average them (the seed's protocol)")
    parser.add_argument("--checkpoint-dir", metavar="DIR",
                        help="with --folds (or a blend): save each finished fold model (and "
                             "blend member) in DIR and resume from it when run again with the "
                             "same settings")
    parser.add_argument("--full", action="store_true",
                        help="the seed's epochs and sizes instead of the quick settings")
    parser.add_argument("--seed", type=int, default=0, help="random seed of folds and model")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="folds fitted in parallel (default: 1)")
    parser.add_argument("--pretrain", action="store_true",
                        help="pretrain on the non-scored targets, if the model supports it")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_train_options(parser)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Fit and save the model described by the parsed ``args``; return the exit code."""
    if "," in args.model:
        raise ValueError("--model takes one name; `benchmark --models` compares several.")
    if args.folds is not None and args.folds < 2:
        raise ValueError(f"--folds must be at least 2; got {args.folds}.")
    [(name, model)] = build_models(args.model, full=args.full, random_state=args.seed).items()
    data = training_data(args.data)
    model, blend_fit_params, is_ensemble = prepare_blend_training(name, model, args, data)
    if args.checkpoint_dir is not None and args.folds is None and not is_ensemble:
        raise ValueError("--checkpoint-dir needs --folds: only CV folds are checkpointed.")
    check_pretraining_data(args.pretrain, data)
    fit_params = nonscored_fit_params(model, data.nonscored_targets) if args.pretrain else {}
    if args.pretrain and not fit_params:
        raise ValueError(f"model {name!r} does not pretrain on non-scored targets; drop --pretrain.")
    print(describe_source(args.data, data))
    sys.stdout.flush()
    if not args.quiet and args.jobs in (None, 1):
        enable_epoch_progress(model)

    extra = {"full": bool(args.full), "seed": args.seed, "pretrained": bool(fit_params)}
    start = time.perf_counter()
    if args.folds is None:
        fitted = model.fit(data.features, data.targets, **fit_params, **blend_fit_params)
        extra["fit_time_s"] = time.perf_counter() - start
        print(f"fitted {name} on {len(data.features)} rows in {extra['fit_time_s']:.1f} s")
    else:
        result = cross_validate_moa(
            model, data.features, data.targets, groups=data.drugs, cv=args.folds,
            n_jobs=args.jobs, fit_params=fit_params, verbose=0 if args.quiet else 1,
            return_estimators=True, random_state=args.seed, checkpoint_dir=args.checkpoint_dir,
            threads_per_fold=threads_per_fold(args.jobs),
        )
        fitted = FoldAveragedModel(result.estimators)
        extra.update(folds=args.folds, cv=result.cv, oof_log_loss=result.oof_log_loss,
                     fold_log_loss=result.fold_log_loss.tolist(),
                     fit_time_s=float(result.fit_time.sum()))
        print(f"{name}: {args.folds}-fold OOF log loss {result.oof_log_loss:.5f} "
              f"(folds {result.fold_log_loss_mean:.5f} ± {result.fold_log_loss_std:.5f}), "
              f"fit {extra['fit_time_s']:.1f} s")

    digest = save_model(
        fitted, args.out, model_name=name, target_names=data.target_names,
        feature_columns=list(data.features.columns), extra=extra,
    )
    print(f"saved {args.out} (sha256 {digest}, checksum in {args.out}.sha256)")
    return 0
