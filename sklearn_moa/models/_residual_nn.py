"""The winners' dense network for MoA (torch, trained through skorch)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._skorch_base import SkorchMoAClassifier, fill_shared_doc

__all__ = ["ResidualNNClassifier"]


@fill_shared_doc
class ResidualNNClassifier(SkorchMoAClassifier):
    """Dense multi-label network of the MoA solutions, with optional residual shortcuts.

    The recipe most LISH-MoA torch solutions shared: blocks of
    ``BatchNorm1d -> Dropout -> weight-normed Linear -> activation``, a
    weight-normed linear output of one logit per target, label-smoothed BCE
    on logits, Adam with weight decay, a OneCycle learning-rate schedule
    stepped every batch, about 25 epochs. ``predict_proba`` is the sigmoid of
    the logits. With ``residual=True`` every block whose input and output
    widths match adds its input to its output (identity shortcuts, a ResNet
    style variant; the 1st place's two-head ResNet is
    :class:`~sklearn_moa.models.TwoHeadResNetClassifier`, and the Keras
    :class:`~sklearn_moa.models.TwoHeadNNClassifier` is the blog post's
    PCA-head / raw-head network, not it).

    Feed it the winners' features (``make_moa_features("winners")``) in a
    Pipeline and wrap it in :class:`~sklearn_moa.models.ControlAwareClassifier`
    for the control rows.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(1024, 1024)
        Width of each hidden block.
    input_dropout : float, default=0.2
        Dropout on the input features (before the first linear layer).
    dropout : float, default=0.5
        Dropout before every other linear layer (hidden blocks and output).
    activation : {"leaky_relu", "relu", "elu", "selu"}, default="leaky_relu"
        Activation of the hidden blocks.
    residual : bool, default=False
        Identity shortcuts around the blocks of equal input and output width.
    epochs : int, default=25
        Passes over the training data (of the fine-tuning phase after pretraining).
    batch_size : int, default=128
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=1e-2
        Adam's learning rate; with ``lr_schedule="onecycle"`` the peak of the
        cycle, which starts and ends 1000 times lower.
    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    DeepCNNClassifier : The 2nd-place 1D-CNN on the same training machinery.
    MultiStageNNClassifier : The 1st place's 3-stage network on the non-scored targets.
    TwoHeadResNetClassifier : The 1st place's two-head ResNet.
    sklearn_moa.models.ControlAwareClassifier : Applies the control rule.

    Notes
    -----
    {nonscored_notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import ResidualNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> model = ResidualNNClassifier(hidden_layer_sizes=(16,), epochs=2, random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    """

    _parameter_constraints = {
        **SkorchMoAClassifier._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions({"leaky_relu", "relu", "elu", "selu"})],
        "residual": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(1024, 1024),
        input_dropout=0.2,
        dropout=0.5,
        activation="leaky_relu",
        residual=False,
        *,
        epochs=25,
        batch_size=128,
        learning_rate=1e-2,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.input_dropout = input_dropout
        self.dropout = dropout
        self.activation = activation
        self.residual = residual
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
        sizes = list(self.hidden_layer_sizes)
        if not sizes or not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a non-empty sequence of positive ints; "
                f"got {self.hidden_layer_sizes!r}."
            )

    def _build_module(self, n_features, n_outputs):
        from ._torch_modules import DenseNet

        return DenseNet(
            n_features, n_outputs, hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            input_dropout=self.input_dropout, dropout=self.dropout, activation=self.activation, residual=self.residual,
        )
