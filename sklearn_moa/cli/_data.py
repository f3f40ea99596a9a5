"""Where the command's data comes from: a Kaggle folder or the built-in generator."""

from ..datasets import load_moa, make_moa
from ..datasets._load import read_test_features

__all__ = ["training_data", "test_features", "describe_source", "check_pretraining_data"]


def training_data(folder=None, *, n_samples=6000, random_state=0, nonscored=True):
    """The training part of a Kaggle-layout ``folder`` (or zip), or synthetic data.

    Only the training files are read (and validated): ``test_features.csv``
    is not, nor ``train_targets_nonscored.csv`` unless ``nonscored``.

    Returns
    -------
    data : Bunch
        As :func:`~sklearn_moa.datasets.load_moa` returns it (``features``,
        ``targets``, ``drugs``, ``target_names``, ...).
    """
    if folder is not None:
        return load_moa(folder, nonscored_targets=nonscored, test=False)
    if n_samples < 60:
        raise ValueError(f"--samples must be at least 60; got {n_samples}.")
    return make_moa(n_samples, n_test_samples=max(60, n_samples // 6), random_state=random_state)


def test_features(folder):
    """``test_features.csv`` of a Kaggle-layout ``folder`` (or zip), validated.

    Only that file is needed: predicting does not read the training files.
    """
    return read_test_features(folder)


def describe_source(folder, data):
    """One line saying which data a run used."""
    n_rows, n_targets = data.targets.shape
    drugs = "drug ids" if data.drugs is not None else "no drug ids (row-wise CV)"
    where = folder if folder is not None else "built-in synthetic data (make_moa)"
    return f"{where}: {n_rows} rows, {n_targets} targets, {drugs}"


def check_pretraining_data(pretrain, data):
    """Raise when pretraining is asked for but the data has no non-scored targets."""
    if pretrain and data.nonscored_targets is None:
        raise ValueError("--pretrain needs the non-scored targets: train_targets_nonscored.csv "
                         "is not in the data folder.")
