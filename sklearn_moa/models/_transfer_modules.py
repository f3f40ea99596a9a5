"""Torch network of the 1st place's two-head ResNet (see ``_two_head_resnet.py``).

Imports torch at import time, like :mod:`._torch_modules`: the estimator
imports it only inside ``fit``.
"""

import torch
from torch import nn

__all__ = ["TwoHeadResNet"]


def _linear(n_in, n_out, init="glorot"):
    """A linear layer initialised as Keras' ``Dense`` (Glorot uniform or LeCun normal, zero bias)."""
    linear = nn.Linear(n_in, n_out)
    if init == "lecun":
        nn.init.normal_(linear.weight, std=(1.0 / n_in) ** 0.5)
    else:
        nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


def _dense(n_in, n_out, activation, init="glorot"):
    """:func:`_linear` followed by ``activation``, as a list of modules."""
    return [_linear(n_in, n_out, init), activation()]


class TwoHeadResNet(nn.Module):
    """Two inputs, densely joined residual blocks, a transferable tail.

    The all-features head (``BatchNorm, Dropout, Dense wide ELU, BatchNorm,
    Dense narrow ELU``) gives ``h``; the selected columns ``s`` join it:

    - ``b1 = Dense wide ReLU (BatchNorm, Dropout) of [h, s]``;
    - ``b2 = Dense wide ELU, Dense narrow ReLU (BatchNorms) of [h, s, b1]``;
    - ``b3 = Dense narrow ELU of [b1, b2]``;
    - ``b4 = Dense narrow ReLU of [b1, b2, b3]``;
    - tail: ``tail_units`` SELU layers (LeCun normal, each after a BatchNorm)
      of ``[h, b2, b3, b4]``;
    - output: BatchNorm and a linear layer to the logits.

    Everything before the tail is the *body*: :meth:`freeze_body` stops its
    training (weights and batch statistics), as the 1st place froze every
    layer before the one it named ``last_frozen``.

    Parameters
    ----------
    n_features : int
        Columns of the input (all of them feed the head).
    selected : sequence of int
        Positions of the columns that also feed the blocks directly.
    n_outputs : int
    hidden_layer_sizes : (int, int)
        The wide and the narrow width (512 and 256 in the source).
    tail_units : tuple of int
    input_dropout, dropout : float
        Dropout on the head's input and on the first block's input.
    """

    def __init__(self, n_features, selected, n_outputs, hidden_layer_sizes=(512, 256),
                 tail_units=(256, 206), input_dropout=0.2, dropout=0.3):
        super().__init__()
        wide, narrow = hidden_layer_sizes
        n_selected = len(selected)
        self.register_buffer("selected", torch.as_tensor(list(selected), dtype=torch.long))
        self.head = nn.Sequential(
            nn.BatchNorm1d(n_features), nn.Dropout(input_dropout), *_dense(n_features, wide, nn.ELU),
            nn.BatchNorm1d(wide), *_dense(wide, narrow, nn.ELU),
        )
        width = narrow + n_selected
        self.block1 = nn.Sequential(nn.BatchNorm1d(width), nn.Dropout(dropout), *_dense(width, wide, nn.ReLU))
        width = narrow + n_selected + wide
        self.block2 = nn.Sequential(
            nn.BatchNorm1d(width), *_dense(width, wide, nn.ELU), nn.BatchNorm1d(wide), *_dense(wide, narrow, nn.ReLU),
        )
        self.block3 = nn.Sequential(nn.BatchNorm1d(wide + narrow), *_dense(wide + narrow, narrow, nn.ELU))
        self.block4 = nn.Sequential(nn.BatchNorm1d(wide + 2 * narrow), *_dense(wide + 2 * narrow, narrow, nn.ReLU))
        tail, width = [], 4 * narrow
        for units in tail_units:
            tail += [nn.BatchNorm1d(width), *_dense(width, units, nn.SELU, init="lecun")]
            width = units
        self.tail = nn.Sequential(*tail)
        self.output_norm = nn.BatchNorm1d(width)
        self.output = _linear(width, n_outputs)
        self.body_frozen = False

    def _body(self):
        return [self.head, self.block1, self.block2, self.block3, self.block4]

    def reset_output(self, n_outputs):
        """Replace the output layer (and its BatchNorm) by fresh ones with ``n_outputs`` logits."""
        self.output_norm = nn.BatchNorm1d(self.output.in_features)
        self.output = _linear(self.output.in_features, n_outputs)

    def freeze_body(self, frozen=True):
        """Freeze (or unfreeze) the body: only the tail and the output keep training."""
        self.body_frozen = frozen
        for part in self._body():
            part.requires_grad_(not frozen)
        return self.train(self.training)

    def train(self, mode=True):
        """Set the training mode; a frozen body stays in eval mode (fixed batch statistics)."""
        super().train(mode)
        if self.body_frozen:
            for part in self._body():
                part.eval()
        return self

    def forward(self, x):
        s = x.index_select(1, self.selected)
        h = self.head(x)
        b1 = self.block1(torch.cat([h, s], dim=1))
        b2 = self.block2(torch.cat([h, s, b1], dim=1))
        b3 = self.block3(torch.cat([b1, b2], dim=1))
        b4 = self.block4(torch.cat([b1, b2, b3], dim=1))
        tail = self.tail(torch.cat([h, b2, b3, b4], dim=1))
        return self.output(self.output_norm(tail))
