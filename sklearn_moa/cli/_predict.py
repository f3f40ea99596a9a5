"""``sklearn-moa predict``: a saved model's predictions as a Kaggle submission."""

from ..datasets import CONTROL_TYPE, write_submission
from ._data import test_features
from ._persistence import check_output_file, load_model

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict test_features.csv of a Kaggle folder into a submission file",
        description=(
            "Load a model file written by `sklearn-moa train` (after checking its version and "
            "its .sha256 checksum), predict test_features.csv of a Kaggle-layout folder and "
            "write the submission layout (sig_id + one column per target; control rows 0). "
            "Model files store data only: loading one never runs code from it. Pickle model "
            "files of sklearn-moa 0.1.x need --trust-pickle."
        ),
    )
    parser.add_argument("--model", required=True, metavar="FILE", help="model file")
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="folder holding test_features.csv")
    parser.add_argument("--out", default="submission.csv", metavar="FILE",
                        help="submission file to write (default: submission.csv)")
    parser.add_argument("--sha256", metavar="HEX",
                        help="expected sha256 of the model file (default: read <FILE>.sha256)")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="load a pickle model file (sklearn-moa 0.1.x); this runs code stored "
                             "in it: only for files you made yourself")
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Write the submission described by the parsed ``args``; return the exit code."""
    check_output_file(args.out, "--out")
    saved = load_model(args.model, sha256=args.sha256, trusted=args.trust_pickle)
    features = test_features(args.data)
    if not hasattr(saved.estimator, "predict_proba"):
        raise ValueError(f"{args.model} holds a {type(saved.estimator).__name__}, which has no "
                         "predict_proba: not a model to predict with.")
    if saved.target_names is None:
        raise ValueError(f"{args.model} does not record its target names; retrain it with "
                         "`sklearn-moa train`.")
    if saved.feature_columns is not None:
        missing = [c for c in saved.feature_columns if c not in features.columns]
        if missing:
            raise ValueError(
                f"test_features.csv lacks {len(missing)} column(s) the model was trained on: "
                f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}"
            )
        features = features[saved.feature_columns]
    proba = saved.estimator.predict_proba(features)
    # Controls never carry an MoA: the submission holds exactly 0 for them, not the
    # clipped 1e-7 the estimators return so that log losses stay finite.
    proba[(features["cp_type"] == CONTROL_TYPE).to_numpy()] = 0.0
    write_submission(features.index, proba, saved.target_names, args.out)
    n_controls = int((features["cp_type"] == CONTROL_TYPE).sum())
    print(f"wrote {args.out}: {len(features)} rows ({n_controls} control rows set to 0), "
          f"{len(saved.target_names)} targets, model {saved.model_name or '?'}")
    return 0
