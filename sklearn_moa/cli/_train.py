"""``sklearn-moa train``: fit a model of the zoo on a Kaggle folder and save it."""

import sys
import time

import numpy as np

# FoldAveragedModel lived here in 0.1.0: model files saved by that version name
# this module, so the name stays importable from it.
from ..datasets import CONTROL_TYPE
from ..ensemble import FoldAveragedModel
from ..model_selection import cross_validate_moa
from ._benchmark import threads_per_fold
from ._blend import add_train_options, prepare_blend_training
from ._data import check_pretraining_data, describe_source, training_data
from ._output import model_progress
from ._persistence import check_output_file, check_saveable, save_model
from ._zoo import (
    add_model_arguments, build_models, chosen_settings, drug_fit_params, nonscored_fit_params,
)

__all__ = ["FoldAveragedModel", "add_parser", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="fit a model on a Kaggle folder and save it",
        description=(
            "Fit one model of the zoo (with its feature preset and the control rule) on the "
            "training files of a Kaggle-layout folder and save it (a file that loading cannot turn "
            "into code) with a .sha256 checksum file. "
            "With --folds K, follow the blog post's protocol instead: one model per CV fold "
            "(drug-aware when train_drug.csv exists), report the OOF log loss, and predict with "
            "the average of the K fold models."
        ),
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="Kaggle lish-moa folder")
    parser.add_argument("--model", required=True, metavar="NAME",
                        help="model name (see `sklearn-moa models`)")
    parser.add_argument("--out", required=True, metavar="FILE", help="model file to write")
    parser.add_argument("--folds", type=int, metavar="K",
                        help="fit one model per CV fold and average them (the blog post's protocol)")
    parser.add_argument("--checkpoint-dir", metavar="DIR",
                        help="with --folds (or a blend): save each finished fold model (and "
                             "blend member) in DIR and resume from it when run again with the "
                             "same settings")
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed of folds and model")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="folds fitted in parallel (default: 1)")
    parser.add_argument("--pretrain", action="store_true",
                        help="pretrain on the non-scored targets, if the model supports it")
    add_train_options(parser)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Fit and save the model described by the parsed ``args``; return the exit code."""
    if "," in args.model:
        raise ValueError("--model takes one name; `benchmark --models` compares several.")
    if args.folds is not None and args.folds < 2:
        raise ValueError(f"--folds must be at least 2; got {args.folds}.")
    check_output_file(args.out, "--out")
    settings = chosen_settings(args)
    [(name, model)] = build_models(args.model, settings=settings, random_state=args.seed,
                                   device=args.device).items()
    data = training_data(args.data, nonscored=args.pretrain)
    model, blend_fit_params, is_ensemble = prepare_blend_training(name, model, args, data)
    if args.checkpoint_dir is not None and args.folds is None and not is_ensemble:
        raise ValueError("--checkpoint-dir needs --folds: only CV folds are checkpointed.")
    check_pretraining_data(args.pretrain, data)
    fit_params = nonscored_fit_params(model, data.nonscored_targets) if args.pretrain else {}
    if args.pretrain and not fit_params:
        raise ValueError(f"model {name!r} does not pretrain on non-scored targets; drop --pretrain.")
    check_saveable(model, args.out)  # before hours of fitting, not after
    print(describe_source(args.data, data))
    sys.stdout.flush()

    extra = {"full": settings != "quick", "settings": settings, "device": args.device,
             "seed": args.seed, "pretrained": bool(fit_params)}
    fit_params = {**fit_params, **drug_fit_params(model, data.drugs), **blend_fit_params}
    start = time.perf_counter()
    if args.folds is None:
        with model_progress(name, model, 1, args, serial=True, unit="fit") as progress:
            fitted = model.fit(data.features, data.targets, **fit_params)
            progress.fold_done()
        extra["fit_time_s"] = time.perf_counter() - start
        print(f"fitted {name} on {len(data.features)} rows in {extra['fit_time_s']:.1f} s")
    else:
        with model_progress(name, model, args.folds, args,
                            serial=args.jobs in (None, 1)) as progress:
            result = cross_validate_moa(
                model, data.features, data.targets, groups=data.drugs, cv=args.folds,
                n_jobs=args.jobs, fit_params=fit_params, progress=progress.fold_done,
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

    check_fitted_predictions(fitted, data.features, name)
    digest = save_model(
        fitted, args.out, model_name=name, target_names=data.target_names,
        feature_columns=list(data.features.columns), extra=extra,
    )
    print(f"saved {args.out} (sha256 {digest}, checksum in {args.out}.sha256)")
    return 0


def check_fitted_predictions(fitted, features, name, n_rows=64):
    """Raise unless ``fitted`` predicts finite probabilities in (0, 1) for a few treated rows.

    The deep models stop a fit whose loss turns NaN; this is the last check
    before a model file is written, whatever went wrong.
    """
    rows = features[(features["cp_type"] != CONTROL_TYPE).to_numpy()].iloc[:n_rows]
    if rows.empty:
        return
    proba = np.asarray(fitted.predict_proba(rows), dtype=float)
    if not (np.isfinite(proba) & (proba > 0) & (proba < 1)).all():
        bad = int((~(np.isfinite(proba) & (proba > 0) & (proba < 1))).sum())
        raise ValueError(
            f"the fitted {name} predicts {bad} of {proba.size} probabilities on {len(rows)} training "
            "rows outside (0, 1) or NaN; the model file is not written."
        )
