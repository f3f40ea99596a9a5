"""``sklearn-moa make-data``: a synthetic folder in the Kaggle ``lish-moa`` layout."""

import os

import numpy as np
import pandas as pd

from ..datasets import make_moa
from ..datasets._columns import DRUG_COLUMN
from ..datasets._load import (
    TEST_FEATURES,
    TRAIN_DRUG,
    TRAIN_FEATURES,
    TRAIN_TARGETS_NONSCORED,
    TRAIN_TARGETS_SCORED,
)

__all__ = ["add_parser", "run", "write_kaggle_folder", "SAMPLE_SUBMISSION"]

SAMPLE_SUBMISSION = "sample_submission.csv"
KAGGLE_FILES = (TRAIN_FEATURES, TRAIN_TARGETS_SCORED, TRAIN_TARGETS_NONSCORED, TRAIN_DRUG,
                TEST_FEATURES, SAMPLE_SUBMISSION)
MIN_ROWS = 60


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "make-data",
        help="write a synthetic data folder in the Kaggle lish-moa layout",
        description=(
            "Write the six files of the Kaggle lish-moa folder (train_features.csv, "
            "train_targets_scored.csv, train_targets_nonscored.csv, train_drug.csv, "
            "test_features.csv, sample_submission.csv) filled with the built-in synthetic "
            "data (make_moa), so that train, benchmark and predict can be tried without the "
            "real files. Existing files are never overwritten."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="folder to write (created if needed)")
    parser.add_argument("--rows", type=int, default=6000, metavar="N",
                        help="training rows (default: 6000; the real data has 23814); the test "
                             "file gets N/6 rows, at least 60")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(func=run)
    return parser


def write_kaggle_folder(data, folder):
    """Write ``data`` (as :func:`~sklearn_moa.datasets.make_moa` returns it) as a Kaggle folder.

    Parameters
    ----------
    data : Bunch
        ``features``, ``targets``, ``nonscored_targets``, ``drugs`` and
        ``test_features`` indexed by ``sig_id``.
    folder : str or path-like
        Created if needed; must not hold any of the six files already.

    Returns
    -------
    paths : list of str
        The files written, in the order of the Kaggle folder listing.
    """
    folder = os.fspath(folder)
    existing = [name for name in KAGGLE_FILES if os.path.exists(os.path.join(folder, name))]
    if existing:
        raise ValueError(f"{folder!r} already holds {', '.join(existing)}; make-data never "
                         "overwrites data: choose a new folder.")
    os.makedirs(folder, exist_ok=True)
    # A uniform 0.5 for every test row and scored target, as Kaggle's own sample file.
    sample = pd.DataFrame(np.full((len(data.test_features), data.targets.shape[1]), 0.5),
                          index=data.test_features.index, columns=data.targets.columns)
    frames = {
        TRAIN_FEATURES: data.features,
        TRAIN_TARGETS_SCORED: data.targets,
        TRAIN_TARGETS_NONSCORED: data.nonscored_targets,
        TRAIN_DRUG: data.drugs.rename(DRUG_COLUMN).to_frame(),
        TEST_FEATURES: data.test_features,
        SAMPLE_SUBMISSION: sample,
    }
    paths = []
    for name in KAGGLE_FILES:
        path = os.path.join(folder, name)
        frames[name].to_csv(path)
        paths.append(path)
    return paths


def run(args):
    """Write the folder described by the parsed ``args``; return the exit code."""
    if args.rows < MIN_ROWS:
        raise ValueError(f"--rows must be at least {MIN_ROWS}; got {args.rows}.")
    n_test = max(MIN_ROWS, args.rows // 6)
    data = make_moa(args.rows, n_test_samples=n_test, random_state=args.seed)
    paths = write_kaggle_folder(data, args.folder)
    print(f"wrote {len(paths)} files into {args.folder}: {args.rows} training rows "
          f"({data.drugs.nunique()} drugs), {n_test} test rows, {data.targets.shape[1]} scored "
          f"and {data.nonscored_targets.shape[1]} non-scored targets (synthetic, seed {args.seed})")
    return 0
