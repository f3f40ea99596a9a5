"""TabM's network (the ``tabm`` package) with what the torch models' base needs.

This module imports torch, ``tabm`` and ``rtdl_num_embeddings`` at import
time; :class:`~sklearn_moa.models.TabMClassifier` imports it only inside
``fit``, after checking that the ``tabm`` extra is installed.
"""

import warnings

import numpy as np
import rtdl_num_embeddings
import tabm
import torch

__all__ = ["TabMNet", "make_num_embeddings", "quantile_bins"]


class TabMNet(tabm.TabM):
    """``tabm.TabM`` with a swappable output layer.

    The network maps (batch, n_features) to the logits of its ``k`` members,
    (batch, k, n_outputs). ``output`` is a ``tabm.LinearEnsemble`` (one linear
    head per member); ``reset_output`` replaces it for the scored targets
    after the non-scored pretraining.
    """

    def reset_output(self, n_outputs):
        """Replace the output layer by a fresh one with ``n_outputs`` logits per member."""
        self.output = tabm.LinearEnsemble(self.output.in_features, n_outputs, k=self.k)


def quantile_bins(X, n_bins):
    """Piecewise-linear bin edges of every column of the training rows ``X``.

    The quantile bins of ``rtdl_num_embeddings.compute_bins`` (the edges are
    the distinct ``n_bins + 1`` quantiles of each column), also for what
    ``compute_bins`` rejects: fewer rows than bins (then one bin fewer than
    rows) and constant columns (one bin around the value; its encoding is a
    constant, as the feature is).

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    n_bins : int

    Returns
    -------
    bins : list of 1-D torch.Tensor
        Sorted edges of each column, at least two.
    """
    n_bins = max(1, min(n_bins, X.shape[0] - 1))
    quantiles = torch.quantile(X, torch.linspace(0.0, 1.0, n_bins + 1, dtype=X.dtype), dim=0).T
    bins = []
    for edges in quantiles:
        edges = edges.unique()
        if len(edges) < 2:
            edges = torch.cat([edges - 1.0, edges + 1.0])
        bins.append(edges)
    return bins


def make_num_embeddings(kind, n_features, d_embedding, bins=None):
    """The numerical feature embeddings of TabM with embeddings (TabM-dagger in the paper).

    Parameters
    ----------
    kind : {"piecewise_linear", "periodic"} or None
    n_features : int
    d_embedding : int
    bins : list of 1-D array, default=None
        Bin edges of each feature (:func:`quantile_bins` of the training
        rows); needed for ``"piecewise_linear"``.

    Returns
    -------
    module : torch.nn.Module or None
    """
    if kind is None:
        return None
    if kind == "periodic":
        return rtdl_num_embeddings.PeriodicEmbeddings(n_features, d_embedding=d_embedding, lite=False)
    with warnings.catch_warnings():
        # A binary feature (a one-hot treatment column) has two edges, one bin:
        # rtdl_num_embeddings warns that this is min-max scaling, which is right.
        warnings.filterwarnings("ignore", message=r"The \d+-th feature has just two bin edges")
        return rtdl_num_embeddings.PiecewiseLinearEmbeddings(
            [torch.as_tensor(np.asarray(edges, dtype=np.float32)) for edges in bins], d_embedding,
            activation=False, version="B",
        )
