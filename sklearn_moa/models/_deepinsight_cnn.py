"""The 1st place's DeepInsight idea: a CNN on rows painted as images (torch, through skorch)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..preprocessing._deepinsight import DeepInsightTransformer
from ._skorch_base import SkorchMoAClassifier, fill_shared_doc

__all__ = ["DeepInsightCNNClassifier"]


@fill_shared_doc
class DeepInsightCNNClassifier(SkorchMoAClassifier):
    """A residual CNN on DeepInsight images of the rows, for multi-label MoA prediction.

    In :meth:`fit`, a :class:`~sklearn_moa.preprocessing.DeepInsightTransformer`
    learns from the training rows where each feature goes on a
    ``resolution`` x ``resolution`` grid (t-SNE of the feature vectors) and
    how to scale the features; the network then paints each batch as images
    on its device (mean, minimum and maximum of the features of each pixel)
    and classifies them with a compact residual CNN. The estimator takes the
    same 2-D ``X`` as every other model, so it works in a Pipeline, in
    cross-validation and with ``clone``/pickle; the fitted transformer is
    ``transformer_``.

    The 1st place of LISH-MoA trained EfficientNet-B3 and ResNeSt-50 on such
    images (224-300 pixels, 12-25 GPU hours for 10 folds); their predictions
    correlated only 0.63-0.73 with the team's dense networks, which is what
    made them worth blending. This network is much smaller, so that the quick
    settings train in minutes on two CPU cores; ``width``, ``n_blocks`` and
    ``resolution`` scale it up for a GPU. Swap-noise augmentation as theirs:
    in training, each row has a ``swap_probability`` chance of getting a
    ``swap_fraction`` share of its features from another row of the batch.

    Feed it the raw gene and cell features (``make_moa_features("cnn1d")``)
    in a Pipeline and wrap it in
    :class:`~sklearn_moa.models.ControlAwareClassifier` for the control rows.

    Parameters
    ----------
    resolution : int, default=32
        Side of the images in pixels.
    method : {"tsne", "kpca", "pca"}, default="tsne"
        Embedding of the feature vectors (see
        :class:`~sklearn_moa.preprocessing.DeepInsightTransformer`).
    perplexity : float, default=5.0
        t-SNE perplexity.
    channels : {"mean_min_max", "mean"}, default="mean_min_max"
        Image channels.
    scaling : {"log", "minmax"} or None, default="log"
        Feature scaling to [0, 1] before painting.
    width : int, default=32
        Channels of the stem and the first stage; stage ``i`` has ``width * 2**i``.
    n_blocks : tuple of int, default=(1, 1, 1)
        Residual blocks per stage; every stage after the first halves the image.
    dropout : float, default=0.2
        Dropout before the output layer.
    swap_probability : float, default=0.1
        Chance that a training row gets swap noise (0 disables it).
    swap_fraction : float, default=0.15
        Share of a noisy row's features taken from another row.
    epochs : int, default=15
        Passes over the training data (of the fine-tuning phase after pretraining).
    batch_size : int, default=128
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=3e-3
        Adam's learning rate; with ``lr_schedule="onecycle"`` the peak of the cycle.
    {training_parameters}

    Attributes
    ----------
    transformer_ : DeepInsightTransformer
        The feature-to-pixel map learnt from the training rows (None when
        every target had a single class in training: there is no network).
    {fitted_attributes}

    See Also
    --------
    sklearn_moa.preprocessing.DeepInsightTransformer : The images on their own.
    DeepCNNClassifier : The 2nd place's 1D-CNN, which learns its own feature order.

    Notes
    -----
    {nonscored_notes}

    References
    ----------
    A. Sharma et al., "DeepInsight: A methodology to transform a non-image
    data to an image for convolution neural network architecture", Scientific
    Reports 9, 11399 (2019). The 1st-place LISH-MoA solution (discussion 201510).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import DeepInsightCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 12); Y = (X[:, :3] > 0.5).astype(int)
    >>> model = DeepInsightCNNClassifier(resolution=8, width=4, n_blocks=(1,), epochs=2,
    ...                                  random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    >>> model.transformer_.image_shape_
    (3, 8, 8)
    """

    _parameter_constraints = {
        **SkorchMoAClassifier._parameter_constraints,
        **{name: DeepInsightTransformer._parameter_constraints[name]
           for name in ("resolution", "method", "perplexity", "channels", "scaling")},
        "width": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "swap_probability": [Interval(Real, 0, 1, closed="both")],
        "swap_fraction": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        resolution=32,
        method="tsne",
        perplexity=5.0,
        channels="mean_min_max",
        scaling="log",
        width=32,
        n_blocks=(1, 1, 1),
        dropout=0.2,
        swap_probability=0.1,
        swap_fraction=0.15,
        *,
        epochs=15,
        batch_size=128,
        learning_rate=3e-3,
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
        self.resolution = resolution
        self.method = method
        self.perplexity = perplexity
        self.channels = channels
        self.scaling = scaling
        self.width = width
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.swap_probability = swap_probability
        self.swap_fraction = swap_fraction
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
        blocks = list(self.n_blocks) if not isinstance(self.n_blocks, str) else None
        if not blocks or not all(isinstance(n, Integral) and n >= 1 for n in blocks):
            raise ValueError(
                f"n_blocks must be a non-empty sequence of positive ints (residual blocks per "
                f"stage); got {self.n_blocks!r}."
            )

    def _fit_untrained(self):
        super()._fit_untrained()
        self.transformer_ = None

    def _fit_targets(self, X, Y, seeds, Y_nonscored=None, groups=None):
        self.transformer_ = DeepInsightTransformer(
            self.resolution, method=self.method, perplexity=self.perplexity,
            channels=self.channels, scaling=self.scaling, random_state=int(seeds[0]),
        ).fit(X)
        super()._fit_targets(self.transformer_.scale(X), Y, seeds, Y_nonscored=Y_nonscored,
                             groups=groups)

    def _build_module(self, n_features, n_outputs):
        from ._torch_modules import DeepInsightCNN, PixelPainter

        transformer = self.transformer_
        painter = PixelPainter(transformer.pixel_index_, transformer.image_shape_,
                               transformer.empty_value)
        return DeepInsightCNN(
            painter, n_outputs, width=self.width, n_blocks=tuple(self.n_blocks), dropout=self.dropout,
            swap_probability=self.swap_probability, swap_fraction=self.swap_fraction,
        )

    def _predict_targets(self, X):
        return super()._predict_targets(self.transformer_.scale(X))
