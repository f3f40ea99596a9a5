"""Torch building blocks of the torch models: layers, loss, batches, networks.

This module imports torch at import time; the estimators import it only
inside ``fit`` (after :func:`~sklearn_moa.models._torch_utils.import_torch`
has checked that torch is installed), and unpickling a fitted model imports it.

Every network has an ``output`` layer and a ``reset_output(n_outputs)`` method:
the non-scored pretraining trains the network with one output size and then
swaps the output layer for the scored targets.
"""

import math

import numpy as np
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
    "SwapNoise",
    "PixelPainter",
    "DeepInsightCNN",
]


#: Floor of the weight norm's ``||v||`` (as ``F.normalize``'s ``eps``).
_NORM_FLOOR = 1e-12


def _norm_per_output(weight):
    """L2 norm of each output unit's weights (floored), shaped to broadcast over ``weight``."""
    norm = weight.flatten(1).norm(dim=1).clamp_min(_NORM_FLOOR)
    return norm.view(-1, *([1] * (weight.dim() - 1)))


class WeightNormLinear(nn.Module):
    """Linear layer with weight normalisation ``w = g * v / ||v||`` per output unit.

    What ``torch.nn.utils.weight_norm(nn.Linear(...))`` computes, as a plain
    module: torch's hook and parametrization versions cannot be pickled
    (the parametrization refuses serialisation except through a state dict),
    and the fitted estimators must be.

    ``||v||`` is floored at ``1e-12``, which torch's version does not do. A
    weight-normed layer followed by BatchNorm is scale invariant: the loss
    does not depend on ``g`` or the size of ``v``, so only Adam's weight
    decay acts on them, and in long trainings (pretraining then fine-tuning
    on 20,000 rows) it shrinks the ``g`` and ``v`` of some units
    geometrically, to ``1e-21`` and below, until ``||v||**2`` underflows in
    float32: ``||v||`` becomes 0 and ``g * v / ||v||`` NaN, which then spreads
    to every weight in one step. With the floor such a unit's weights stay
    finite (and about zero, as they were).
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
        weight = self.weight_v * (self.weight_g / self.weight_v.norm().clamp_min(_NORM_FLOOR))
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
    logits; the first dropout is ``input_dropout``, the others ``dropout``
    (one rate, or one per hidden layer: before each later block and the
    output). With ``residual=True`` a block whose input and output widths are
    equal adds its input to its output (an identity shortcut).
    """

    _activations = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU}

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(1024, 1024), input_dropout=0.2,
                 dropout=0.5, activation="leaky_relu", residual=False):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes]
        rates = [input_dropout, *expand_dropout(dropout, len(hidden_layer_sizes))]
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


class SwapNoise(nn.Module):
    """Swap noise in training mode: some rows take a share of their features from another row.

    Each row of a batch is picked with probability ``probability``; a picked
    row gets ``round(fraction * n_features)`` of its features, chosen at
    random, from another row of the batch (the 1st place's DeepInsight
    augmentation drew the partner from the whole training set). The identity
    in eval mode.
    """

    def __init__(self, probability=0.1, fraction=0.15):
        super().__init__()
        self.probability = probability
        self.fraction = fraction

    def forward(self, x):
        n_rows, n_features = x.shape
        n_swapped = round(self.fraction * n_features)
        if not self.training or self.probability == 0 or n_swapped == 0 or n_rows < 2:
            return x
        rows = torch.nonzero(torch.rand(n_rows, device=x.device) < self.probability).flatten()
        if len(rows) == 0:
            return x
        # A partner other than the row itself: shift by 1 .. n_rows - 1.
        partners = (rows + torch.randint(1, n_rows, rows.shape, device=x.device)) % n_rows
        columns = torch.rand(len(rows), n_features, device=x.device).topk(n_swapped, dim=1).indices
        noisy = x.clone()
        noisy[rows[:, None], columns] = x[partners[:, None], columns]
        return noisy


class PixelPainter(nn.Module):
    """Paint rows of scaled features as images, as :class:`DeepInsightTransformer` does.

    The feature-to-pixel map is a buffer, so that images are made batch by
    batch on the network's device instead of being stored (6,000 rows of
    3 x 224 x 224 floats are 3.6 GB).

    Parameters
    ----------
    pixel_index : array-like of int of shape (n_features,)
        Flat pixel of each feature.
    image_shape : tuple of int
        ``(n_channels, height, width)``; 3 channels are mean, minimum, maximum.
    empty_value : float
    """

    def __init__(self, pixel_index, image_shape, empty_value=1.0):
        super().__init__()
        n_channels, height, width = image_shape
        # A copy: the buffer is written by load_state_dict, and pixel_index may be
        # a read-only memmap (joblib), which a shared tensor would crash on.
        index = torch.tensor(np.array(pixel_index), dtype=torch.long)
        counts = torch.bincount(index, minlength=height * width).float()
        self.register_buffer("pixel_index", index)
        self.register_buffer("counts", counts)
        self.image_shape = tuple(image_shape)
        self.empty_value = float(empty_value)

    def forward(self, x):
        n_rows = x.shape[0]
        n_channels, height, width = self.image_shape
        index = self.pixel_index.expand(n_rows, -1)
        sums = x.new_zeros(n_rows, height * width).scatter_add_(1, index, x)
        channels = [sums / self.counts.clamp(min=1)]
        if n_channels == 3:
            for reduce, start in (("amin", math.inf), ("amax", -math.inf)):
                channels.append(
                    x.new_full((n_rows, height * width), start).scatter_reduce_(1, index, x, reduce)
                )
        occupied = self.counts > 0
        images = torch.stack(channels, dim=1)
        images = torch.where(occupied, images, images.new_tensor(self.empty_value))
        return images.reshape(n_rows, n_channels, height, width)


class _ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch normalisation and an identity (or 1x1) shortcut."""

    def __init__(self, n_in, n_out, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(n_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(n_out, n_out, 3, padding=1, bias=False), nn.BatchNorm2d(n_out),
        )
        self.shortcut = (
            nn.Identity() if stride == 1 and n_in == n_out
            else nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False), nn.BatchNorm2d(n_out))
        )

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class DeepInsightCNN(nn.Module):
    """A compact residual CNN on DeepInsight images of the input rows.

    Swap noise (training only) on the scaled features, the pixel painter,
    a 3x3 stem of ``width`` channels, then one stage per entry of
    ``n_blocks`` (stage ``i`` has ``width * 2**i`` channels and halves the
    image, except the first), global average pooling, dropout and a linear
    output of one logit per target.
    """

    def __init__(self, painter, n_outputs, width=32, n_blocks=(1, 1, 1), dropout=0.2,
                 swap_probability=0.1, swap_fraction=0.15):
        super().__init__()
        self.swap_noise = SwapNoise(swap_probability, swap_fraction)
        self.painter = painter
        n_channels = painter.image_shape[0]
        self.stem = nn.Sequential(
            nn.Conv2d(n_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        stages, n_in = [], width
        for i, count in enumerate(n_blocks):
            n_out = width * 2**i
            for k in range(count):
                stages.append(_ResidualBlock(n_in, n_out, stride=2 if i > 0 and k == 0 else 1))
                n_in = n_out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout))
        self.output = nn.Linear(n_in, n_outputs)

    def reset_output(self, n_outputs):
        """Replace the output layer by a fresh one with ``n_outputs`` logits."""
        self.output = nn.Linear(self.output.in_features, n_outputs)

    def forward(self, x):
        images = self.painter(self.swap_noise(x))
        return self.output(self.pool(self.stages(self.stem(images))))
