"""``sklearn-moa blend``: blend weights from a benchmark's OOF predictions; their use in ``train``.

``blend --results DIR`` reads the out-of-fold predictions a finished
``benchmark`` wrote, finds the non-negative weights summing to one that
minimise the blend's OOF log loss (SciPy SLSQP,
:func:`~sklearn_moa.ensemble.optimize_blend_weights`), prints them beside each
member's OOF log loss and writes them to a JSON file. ``train --model
winners_blend --weights FILE`` then fits those members on all rows with those
weights instead of searching them again by inner cross-validation.
"""

import json
import math
import os

import numpy as np

from ..ensemble import optimize_blend_weights
from ..ensemble._blend import _blend_loss_and_gradient
from ..metrics import mean_columnwise_log_loss
from ._data import training_data

__all__ = ["add_parser", "run", "add_train_options", "prepare_blend_training", "read_weights"]

WEIGHTS_FORMAT = "sklearn-moa blend weights"
WEIGHTS_FILE = "blend_weights.json"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "blend",
        help="optimal blend weights from a benchmark folder's OOF predictions",
        description=(
            "Read oof_predictions.npz of a finished `sklearn-moa benchmark` folder, find the "
            "non-negative weights summing to one that minimise the blended out-of-fold log loss "
            "(SciPy SLSQP), print them with each model's OOF log loss and write them to a JSON "
            "file that `sklearn-moa train --model winners_blend --weights FILE` uses."
        ),
    )
    parser.add_argument("--results", required=True, metavar="DIR",
                        help="folder written by `sklearn-moa benchmark`")
    parser.add_argument("--models", metavar="A,B,...",
                        help="blend only these models of the folder (default: all of them)")
    parser.add_argument("--data", metavar="DIR",
                        help="Kaggle folder the benchmark ran on (default: the one recorded in "
                             "the folder's comparison.json, or the same synthetic data)")
    parser.add_argument("--out", metavar="FILE",
                        help=f"weights file to write (default: DIR/{WEIGHTS_FILE})")
    parser.set_defaults(func=run)
    return parser


def _read_results(folder):
    """OOF matrices by model name, target names, row ids and the run's metadata."""
    oof_path = os.path.join(folder, "oof_predictions.npz")
    meta_path = os.path.join(folder, "comparison.json")
    for path in (oof_path, meta_path):
        if not os.path.isfile(path):
            raise ValueError(f"{path} not found: --results must be a folder written by "
                             "`sklearn-moa benchmark`.")
    with np.load(oof_path, allow_pickle=False) as stored:
        names = [str(n) for n in stored["models"]]
        oof = {name: stored[f"oof__{name}"].astype(np.float64) for name in names}
        target_names = [str(t) for t in stored["target_names"]]
        sig_id = stored["sig_id"].astype(str)
    with open(meta_path) as f:
        run = json.load(f).get("run", {})
    return oof, target_names, sig_id, run


def _benchmark_data(args, run):
    """The data a benchmark ran on: ``args.data``, else the source ``run`` records."""
    recorded = str(run.get("data", ""))
    if args.data is not None:
        return training_data(args.data)
    if recorded.startswith("make_moa("):
        return training_data(None, n_samples=int(run["n_samples"]), random_state=int(run["seed"]))
    if recorded:
        return training_data(recorded)
    raise ValueError("comparison.json records no data source; pass --data DIR.")


def _aligned_targets(data, target_names, sig_id):
    """``data``'s targets in the rows and columns of the OOF predictions; an error if they differ."""
    if list(map(str, data.targets.columns)) != target_names:
        raise ValueError("The targets of the data do not match those of the OOF predictions; "
                         "pass the --data the benchmark ran on.")
    missing = np.setdiff1d(sig_id, data.targets.index.astype(str))
    if len(missing):
        raise ValueError(f"{len(missing)} rows of the OOF predictions (e.g. {missing[0]!r}) are not "
                         "in the data; pass the --data the benchmark ran on.")
    return data.targets.loc[sig_id].to_numpy()


def blend_report(oof, Y):
    """Weights, each member's OOF log loss and the blend's, on rows every model predicted."""
    weights = optimize_blend_weights(oof, Y)
    stacked = np.stack(list(oof.values()))
    covered = ~np.isnan(stacked).any(axis=(0, 2))
    losses = {name: mean_columnwise_log_loss(Y[covered], p[covered]) for name, p in oof.items()}
    blended = float(_blend_loss_and_gradient(weights, stacked[:, covered], Y[covered].astype(float))[0])
    return dict(zip(oof, weights.tolist())), losses, blended


def run(args):
    """Compute, print and write the blend weights; return the exit code."""
    oof, target_names, sig_id, run_info = _read_results(args.results)
    if args.models:
        chosen = list(dict.fromkeys(n.strip() for n in args.models.split(",") if n.strip()))
        unknown = [n for n in chosen if n not in oof]
        if unknown or not chosen:
            raise ValueError(f"models {unknown or chosen} are not in {args.results}; it holds "
                             f"{', '.join(oof)}.")
        oof = {name: oof[name] for name in chosen}
    if len(oof) < 2:
        raise ValueError(f"A blend needs at least two models; {args.results} holds {', '.join(oof)}.")
    Y = _aligned_targets(_benchmark_data(args, run_info), target_names, sig_id)
    weights, losses, blended = blend_report(oof, Y)
    width = max(map(len, oof))
    print(f"{'model'.ljust(width)}  weight  OOF log loss")
    for name in sorted(oof, key=losses.get):
        print(f"{name.ljust(width)}  {weights[name]:6.3f}  {losses[name]:.5f}")
    print(f"{'blend'.ljust(width)}  {1:6.3f}  {blended:.5f}  (in-sample: the weights were fitted "
          "on these predictions)")
    out = args.out or os.path.join(args.results, WEIGHTS_FILE)
    payload = {
        "format": WEIGHTS_FORMAT,
        "weights": weights,
        "oof_log_loss": losses,
        "blend_oof_log_loss": blended,
        "benchmark": {key: run_info.get(key) for key in ("data", "n_samples", "folds", "full", "seed")},
    }
    with open(out, "w") as f:
        json.dump(payload, f, indent=2)
    print(f"wrote {out}")
    return 0


def read_weights(path):
    """The ``{model name: weight}`` of a file written by ``sklearn-moa blend`` (plain JSON)."""
    try:
        with open(path) as f:
            payload = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a blend weights file (invalid JSON: {exc}).") from None
    weights = payload.get("weights") if isinstance(payload, dict) else None
    if (not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT
            or not isinstance(weights, dict) or not weights):
        raise ValueError(f"{path} is not a blend weights file written by `sklearn-moa blend`.")
    bad = {k: v for k, v in weights.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0}
    if bad or sum(weights.values()) <= 0:
        raise ValueError(f"{path}: weights must be non-negative numbers, not all zero; got {weights}.")
    return {str(k): float(v) for k, v in weights.items()}, payload.get("benchmark") or {}


def add_train_options(parser):
    """``train``'s blend option."""
    parser.add_argument("--weights", metavar="FILE",
                        help="with --model winners_blend: the members and weights of a "
                             "`sklearn-moa blend` file instead of an inner-CV weight search")


def prepare_blend_training(name, model, args, data):
    """The model ``train`` fits and its extra fit parameters, for the ensemble entries.

    A blend (or stack) gets the drug ids, so that its inner folds are drug-aware,
    and ``--checkpoint-dir``, so that an interrupted fit resumes member by member
    and fold by fold; with ``--weights`` it is rebuilt from the weights file.
    Other models are returned as they are.

    Returns
    -------
    model : estimator
    fit_params : dict
    is_ensemble : bool
    """
    from ..model_zoo import build_winners_blend
    from ._zoo import chosen_settings

    is_ensemble = hasattr(model, "estimators") and "checkpoint_dir" in model.get_params(deep=False)
    if args.weights is not None:
        if name != "winners_blend":
            raise ValueError(f"--weights goes with --model winners_blend, not {name!r}.")
        weights, benchmark = read_weights(args.weights)
        settings = chosen_settings(args)
        measured = benchmark.get("settings") or (
            None if benchmark.get("full") is None else ("full" if benchmark["full"] else "quick"))
        if measured is not None and measured != settings:
            print(f"note: the weights come from a benchmark with {measured} settings; "
                  f"training with {settings} settings")
        model = build_winners_blend(list(weights), weights=list(weights.values()), settings=settings,
                                    random_state=args.seed, device=args.device)
        print("blend weights from " + args.weights + ": "
              + ", ".join(f"{k} {v:.3f}" for k, v in weights.items()))
    if not is_ensemble:
        return model, {}, False
    if args.folds is not None:
        raise ValueError(f"--folds does not apply to {name!r}: its inner cross-validation "
                         "learns the weights; use --checkpoint-dir to make it resumable.")
    if args.checkpoint_dir is not None:
        model.set_params(checkpoint_dir=args.checkpoint_dir)
    return model, ({"groups": data.drugs} if data.drugs is not None else {}), True
