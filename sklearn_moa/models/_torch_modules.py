"""Torch building blocks of the torch models: layers, loss, batches, networks.

This module imports torch at import time; the estimators import it only
inside ``fit`` (after :func:`~sklearn_moa.models._torch_utils.import_torch`
has checked that torch is installed), and unpickling a fitted model imports it.

Every network has an ``output`` layer and a ``reset_output(n_outputs)`` method:
the non-scored pretraining trains the network with one output size and then
swaps the output layer for the scored targets.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "WeightNormLinear",
    "WeightNormConv1d",
    "SmoothBCEWithLogitsLoss",
    "ensemble_log_loss",
    "mean_member_proba",
    "BatchIterator",
    "count_batches",
    "DenseNet",
    "DeepCNN",
]


def _norm_per_output(weight):
    """L2 norm of each output unit's weights, shaped to broadcast over ``weight``."""
    return weight.flatten(1).norm(dim=1).view(-1, *([1] * (weight.dim() - 1)))


class WeightNormLinear(nn.Module):
    """Linear layer with weight normalisation ``w = g * v / ||v||`` per output unit.

    What ``torch.nn.utils.weight_norm(nn.Linear(...))`` computes, as a plain
    module: torch's hook and parametrization versions cannot be pickled
    (the parametrization refuses serialisation except through a state dict),
    and the fitted estimators must be.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        linear = nn.Linear(in_features, out_features, bias=bias)
        self.in_features = in_features
        self.out_features = out_features
        self.weight_v = nn.Parameter(linear.weight.detach().clone())
        self.weight_g = nn.Parameter(_norm_per_output(self.weight_v.detach()).clone())
        self.bias = linear.bias

    def forward(self, x):
        weight = self.weight_v * (self.weight_g / _norm_per_output(self.weight_v))
        return F.linear(x, weight, self.bias)


class WeightNormConv1d(nn.Module):
    """Conv1d with one weight-norm gain for the whole kernel (``weight_norm(dim=None)``).

    The 2nd-place CNN normalised its convolutions this way.
    """

    def __init__(self, in_channels, out_channels, kernel_size, bias=True):
        super().__init__()
        conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.padding = kernel_size // 2
        self.weight_v = nn.Parameter(conv.weight.detach().clone())
        self.weight_g = nn.Parameter(self.weight_v.detach().norm().clone())
        self.bias = conv.bias

    def forward(self, x):
        weight = self.weight_v * (self.weight_g / self.weight_v.norm())
        return F.conv1d(x, weight, self.bias, padding=self.padding)


class SmoothBCEWithLogitsLoss(nn.Module):
    """Binary cross-entropy on logits; smoothed targets in training mode only.

    In training, targets become ``y * (1 - smoothing) + smoothing / 2`` (the
    MoA solutions' ``SmoothBCEwLogits``). In eval mode the loss is the plain
    mean binary log loss, so skorch's ``valid_loss`` is the competition metric
    (up to clipping) and early stopping monitors the right quantity.

    Logits of shape (batch, k, n_outputs) are those of an ensemble of ``k``
    members in one network (TabM). In training each member is trained on its
    own: the loss is the mean of the members' losses, not the loss of their
    mean prediction (the TabM paper insists on this). In eval mode the loss
    is that of the ensemble's prediction, the mean of the members'
    probabilities, which is what ``predict_proba`` returns.
    """

    def __init__(self, smoothing=0.0):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, logits, targets):
        members = logits.dim() == targets.dim() + 1
        if members:
            targets = targets.unsqueeze(1)
        if self.training:
            if self.smoothing:
                targets = targets * (1.0 - self.smoothing) + 0.5 * self.smoothing
            return F.binary_cross_entropy_with_logits(logits, targets.expand_as(logits))
        if members:
            return ensemble_log_loss(logits, targets.squeeze(1))
        return F.binary_cross_entropy_with_logits(logits, targets)


def ensemble_log_loss(logits, targets):
    """Mean binary log loss of the mean of ``k`` members' sigmoid probabilities.

    ``logits`` has shape (batch, k, n_outputs), ``targets`` (batch, n_outputs).
    The log of the mean probability is a log-sum-exp of the members' log
    sigmoids: no probability is rounded to 0 or 1 on the way.
    """
    log_k = math.log(logits.shape[1])
    log_p = torch.logsumexp(F.logsigmoid(logits), dim=1) - log_k
    log_not_p = torch.logsumexp(F.logsigmoid(-logits), dim=1) - log_k
    return -(targets * log_p + (1.0 - targets) * log_not_p).mean()


def mean_member_proba(logits):
    """Probabilities from logits: the sigmoid, averaged over the members axis of 3-D logits."""
    proba = torch.sigmoid(logits.double())
    return proba.mean(dim=1) if proba.dim() == 3 else proba


def count_batches(n_samples, batch_size):
    """Number of batches :class:`BatchIterator` yields per training epoch."""
    n_batches = math.ceil(n_samples / batch_size)
    if n_batches > 1 and n_samples % batch_size == 1:
        n_batches -= 1
    return n_batches


class BatchIterator:
    """Mini-batches of a ``TensorDataset`` by tensor indexing.

    A torch ``DataLoader`` with its default collation indexes one row at a
    time and stacks the rows again; for in-memory tabular data that costs more
    than the network itself on small batches. This iterator takes a whole
    batch with one indexing operation. skorch builds it through
    ``iterator_train`` / ``iterator_valid``.

    Parameters
    ----------
    dataset : torch.utils.data.TensorDataset
    batch_size : int
    shuffle : bool, default=False
        Training order: shuffled with torch's global generator (seeded locally
        by the estimator). A last training batch of a single row is merged
        into the previous one, as batch normalisation cannot train on one row.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        if self.shuffle:
            return count_batches(len(self.dataset), self.batch_size)
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n_samples = len(self.dataset)
        if not self.shuffle:
            for start in range(0, n_samples, self.batch_size):
                yield self.dataset[start : start + self.batch_size]
            return
        order = torch.randperm(n_samples)
        n_batches = count_batches(n_samples, self.batch_size)
        for k in range(n_batches):
            stop = n_samples if k == n_batches - 1 else (k + 1) * self.batch_size
            yield self.dataset[order[k * self.batch_size : stop]]


def expand_dropout(dropout, n_layers, name="dropout"):
    """A dropout rate per layer from a float or a sequence of ``n_layers`` rates."""
    if isinstance(dropout, (int, float)):
        return [float(dropout)] * n_layers
    rates = [float(rate) for rate in dropout]
    if len(rates) != n_layers:
        raise ValueError(f"{name} needs {n_layers} rates (one per layer); got {len(rates)}: {dropout!r}.")
    return rates


class DenseNet(nn.Module):
    """The MoA solutions' dense network: blocks of BatchNorm, dropout, weight-normed linear.

    ``hidden_layer_sizes`` blocks ``BatchNorm1d -> Dropout -> WeightNormLinear ->
    activation``, then ``BatchNorm1d -> Dropout -> WeightNormLinear`` to the
    logits; the first dropout is ``input_dropout``, the others ``dropout``. With ``residual=True`` a block whose input and output widths are
    equal adds its input to its output (an identity shortcut).
    """

    _activations = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU}

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(1024, 1024), input_dropout=0.2,
                 dropout=0.5, activation="leaky_relu", residual=False):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        rates = [input_dropout] + [dropout] * len(hidden_layer_sizes)
        self.residual = residual
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.BatchNorm1d(n_in), nn.Dropout(rate), WeightNormLinear(n_in, n_out),
                self._activations[activation](),
            )
            for n_in, n_out, rate in zip(widths[:-1], widths[1:], rates)
        )
        self.output_norm = nn.Sequential(nn.BatchNorm1d(widths[-1]), nn.Dropout(rates[-1]))
        self.output = WeightNormLinear(widths[-1], n_outputs)

    def reset_output(self, n_outputs):
        """Replace the output layer by a fresh one with ``n_outputs`` logits."""
        self.output = WeightNormLinear(self.output.in_features, n_outputs)

    def forward(self, x):
        for block in self.blocks:
            out = block(x)
            x = out + x if self.residual and out.shape == x.shape else out
        return self.output(self.output_norm(x))


class DeepCNN(nn.Module):
    """The 2nd-place LISH-MoA 1D-CNN.

    A weight-normed dense layer (CELU, alpha 0.06) lifts the features to
    ``hidden_size`` units, reshaped to ``n_channels`` channels of
    ``hidden_size // n_channels`` positions, so that the network learns its own
    "sequence" of features. Then: a kernel-5 convolution to ``conv_channels``,
    adaptive average pooling to half the length, three convolutions (kernels
    3, 3, 5) whose output is multiplied by the first one's (the multiplicative
    shortcut), max pooling (kernel 4, stride 2), flatten, and a weight-normed
    dense output. Each layer is preceded by BatchNorm and dropout.

    ``dropout`` holds six rates: input, then the four convolutions, then the
    output layer.
    """

    def __init__(self, n_features, n_outputs, hidden_size=4096, n_channels=256, conv_channels=512,
                 dropout=(0.1, 0.1, 0.1, 0.3, 0.2, 0.2)):
        super().__init__()
        rates = expand_dropout(dropout, 6)
        self.n_channels = n_channels
        self.length = hidden_size // n_channels
        pooled = self.length // 2
        flat = conv_channels * ((pooled + 2 - 4) // 2 + 1)
        self.dense = nn.Sequential(
            nn.BatchNorm1d(n_features), nn.Dropout(rates[0]), WeightNormLinear(n_features, hidden_size)
        )
        self.conv_in = nn.Sequential(
            nn.BatchNorm1d(n_channels), nn.Dropout(rates[1]),
            WeightNormConv1d(n_channels, conv_channels, 5, bias=False), nn.ReLU(),
            nn.AdaptiveAvgPool1d(pooled),
        )
        self.conv_shortcut = self._conv_block(conv_channels, 3, rates[2])
        self.conv_body = nn.Sequential(
            self._conv_block(conv_channels, 3, rates[3]), self._conv_block(conv_channels, 5, rates[4])
        )
        self.pool = nn.Sequential(nn.MaxPool1d(kernel_size=4, stride=2, padding=1), nn.Flatten())
        self.output_norm = nn.Sequential(nn.BatchNorm1d(flat), nn.Dropout(rates[5]))
        self.output = WeightNormLinear(flat, n_outputs)

    @staticmethod
    def _conv_block(channels, kernel_size, rate):
        return nn.Sequential(
            nn.BatchNorm1d(channels), nn.Dropout(rate), WeightNormConv1d(channels, channels, kernel_size),
            nn.ReLU(),
        )

    def reset_output(self, n_outputs):
        """Replace the output layer by a fresh one with ``n_outputs`` logits."""
        self.output = WeightNormLinear(self.output.in_features, n_outputs)

    def forward(self, x):
        x = F.celu(self.dense(x), alpha=0.06)
        x = self.conv_in(x.reshape(x.shape[0], self.n_channels, self.length))
        shortcut = self.conv_shortcut(x)
        x = self.conv_body(shortcut) * shortcut
        return self.output(self.output_norm(self.pool(x)))
