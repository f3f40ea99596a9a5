"""The 2nd-place LISH-MoA 1D-CNN (torch, trained through skorch)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ._skorch_base import SkorchMoAClassifier, fill_shared_doc

__all__ = ["DeepCNNClassifier"]

_N_DROPOUT_RATES = 6


@fill_shared_doc
class DeepCNNClassifier(SkorchMoAClassifier):
    """The 2nd-place 1D-CNN for multi-label MoA prediction.

    Tabular features have no order a convolution could use, so the 2nd place
    (single model 0.01601 private) let the network make one: a weight-normed
    dense layer lifts the features to ``hidden_size`` units (CELU), reshaped
    to ``n_channels`` channels of ``hidden_size // n_channels`` positions
    (4096 -> 256 x 16). Then a kernel-5 convolution to ``conv_channels``
    channels, average pooling to half the length, three convolutions (kernels
    3, 3 and 5) whose output is multiplied by the first one's (the
    multiplicative shortcut), max pooling (kernel 4, stride 2), flatten and a
    weight-normed dense output of one logit per target. Every layer is
    preceded by BatchNorm and dropout; the convolutions are weight-normed.
    Trained with label-smoothed BCE (0.001) on logits, Adam and a OneCycle
    schedule; ``predict_proba`` is the sigmoid of the logits.

    Feed it the winners' features (``make_moa_features("winners")``) in a
    Pipeline and wrap it in :class:`~sklearn_moa.models.ControlAwareClassifier`
    for the control rows.

    Parameters
    ----------
    hidden_size : int, default=4096
        Width of the dense layer before the reshape; a multiple of
        ``n_channels`` with at least 4 positions per channel.
    n_channels : int, default=256
        Channels of the reshaped signal.
    conv_channels : int, default=512
        Channels of the convolutions.
    dropout : float or tuple of float, default=(0.1, 0.1, 0.1, 0.3, 0.2, 0.2)
        Dropout before the dense layer, the four convolutions and the output
        layer (six rates; a float uses the same rate everywhere).
    epochs : int, default=25
        Passes over the training data (of the fine-tuning phase after pretraining).
    batch_size : int, default=256
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=5e-3
        Adam's learning rate; with ``lr_schedule="onecycle"`` the peak of the
        cycle, which starts and ends 1000 times lower.
    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    ResidualNNClassifier : The winners' dense network on the same machinery.
    sklearn_moa.models.ControlAwareClassifier : Applies the control rule.

    Notes
    -----
    {nonscored_notes}

    References
    ----------
    The 2nd-place solution of the Kaggle LISH-MoA competition (discussion
    202256, "1D-CNN"), by Baosen Guo and team.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import DeepCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> model = DeepCNNClassifier(hidden_size=64, n_channels=8, conv_channels=8,
    ...                           epochs=2, random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    """

    _parameter_constraints = {
        **SkorchMoAClassifier._parameter_constraints,
        "hidden_size": [Interval(Integral, 4, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "conv_channels": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
    }

    def __init__(
        self,
        hidden_size=4096,
        n_channels=256,
        conv_channels=512,
        dropout=(0.1, 0.1, 0.1, 0.3, 0.2, 0.2),
        *,
        epochs=25,
        batch_size=256,
        learning_rate=5e-3,
        weight_decay=1e-5,
        lr_schedule="onecycle",
        label_smoothing=0.001,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        pretrain_epochs=None,
        pretrain_min_positives=1,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_size = hidden_size
        self.n_channels = n_channels
        self.conv_channels = conv_channels
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_min_positives = pretrain_min_positives
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _check_architecture(self):
        if self.hidden_size % self.n_channels or self.hidden_size // self.n_channels < 4:
            raise ValueError(
                f"hidden_size={self.hidden_size} must be a multiple of n_channels={self.n_channels} "
                "giving at least 4 positions per channel (the two poolings halve the length twice)."
            )
        self._check_dropout(_N_DROPOUT_RATES, "dense layer, four convolutions, output layer")

    def _build_module(self, n_features, n_outputs):
        from ._torch_modules import DeepCNN

        return DeepCNN(
            n_features, n_outputs, hidden_size=self.hidden_size, n_channels=self.n_channels,
            conv_channels=self.conv_channels, dropout=self.dropout,
        )
