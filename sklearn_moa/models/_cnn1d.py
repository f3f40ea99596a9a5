"""The blog post's 1D convolutional network as a multi-label estimator."""

from numbers import Integral, Real

import numpy as np

from sklearn.utils._param_validation import Interval

from ._keras_base import (
    COMMON_PARAMETER_CONSTRAINTS,
    KerasMoAClassifier,
    check_layer_widths,
    fill_keras_docs,
)

__all__ = ["CNN1DClassifier"]


@fill_keras_docs
class CNN1DClassifier(KerasMoAClassifier):
    """The blog post's 1D CNN, on Keras 3: the feature vector read as a one-channel signal.

    Input ``(n_features, 1)`` (the 872 g-/c- features in the blog post); Conv1D
    layers of 32, 16 and 8 filters (kernel 3, valid padding, relu, Glorot
    normal); Flatten; Dense 2048 and 1048 relu; Dense ``n_targets`` sigmoid.
    With 872 inputs and the 206 MoA targets the network has 16,556,110
    parameters. It is trained with binary cross-entropy and Adam (learning
    rate 1e-4), batch 300, for 20 epochs.

    Parameters
    ----------
    filters : tuple of int, default=(32, 16, 8)
        Filters of each Conv1D layer.
    kernel_size : int, default=3
        Kernel width of the Conv1D layers (valid padding: each layer shortens
        the signal by ``kernel_size - 1``).
    dense_units : tuple of int, default=(2048, 1048)
        Widths of the dense layers after Flatten.
    dropout : float, default=0.0
        Dropout rate after each of those dense layers (the blog post used none).
    learning_rate : float, default=1e-4
        Adam's initial learning rate.
    learning_rate_decay : float, default=0.0
        Keras 2's legacy Adam ``decay``: the rate at gradient step ``t`` is
        ``learning_rate / (1 + learning_rate_decay * t)``. 0 (the blog post's
        setting) keeps the rate constant.
    label_smoothing : float, default=0.0
        Label smoothing of the binary cross-entropy (the blog post used none).
    epochs : int, default=20
        Passes over the training data.
    batch_size : int, default=300
        Rows per gradient step.
    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    TwoHeadNNClassifier : The blog post's other Keras model.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import CNN1DClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, Y = rng.randn(64, 20), (rng.rand(64, 3) < 0.3).astype(int)
    >>> model = CNN1DClassifier(filters=(4, 2), dense_units=(16,), epochs=2, batch_size=16,
    ...                         random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    >>> CNN1DClassifier().build_keras_model(872, 206).count_params()
    16556110
    """

    _parameter_constraints = {
        **COMMON_PARAMETER_CONSTRAINTS,
        "filters": [tuple, list],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dense_units": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        filters=(32, 16, 8),
        kernel_size=3,
        dense_units=(2048, 1048),
        dropout=0.0,
        learning_rate=1e-4,
        learning_rate_decay=0.0,
        label_smoothing=0.0,
        epochs=20,
        batch_size=300,
        output_bias="prevalence",
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.label_smoothing = label_smoothing
        self.epochs = epochs
        self.batch_size = batch_size
        self.output_bias = output_bias
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_architecture(self):
        check_layer_widths("filters", self.filters, allow_empty=False)
        check_layer_widths("dense_units", self.dense_units, allow_empty=True)

    def _input_widths(self, n_features):
        n_features = int(n_features)
        shortest = len(self.filters) * (self.kernel_size - 1) + 1
        if n_features < shortest:
            raise ValueError(
                f"{len(self.filters)} Conv1D layers of kernel_size={self.kernel_size} need at "
                f"least {shortest} features; X has {n_features}."
            )
        return n_features

    def _network_inputs(self, X):
        return X.astype(np.float32)[:, :, None]

    def _build_network(self, keras, n_features, n_outputs, seeds):
        layers = keras.layers
        init = keras.initializers
        inputs = keras.Input((n_features, 1), name="signal")
        x = inputs
        for filters in self.filters:
            x = layers.Conv1D(
                filters, self.kernel_size, activation="relu", kernel_initializer=init.GlorotNormal(seed=seeds())
            )(x)
        x = layers.Flatten()(x)
        for units in self.dense_units:
            x = layers.Dense(units, activation="relu", kernel_initializer=init.GlorotUniform(seed=seeds()))(x)
            if self.dropout:
                x = layers.Dropout(self.dropout, seed=seeds())(x)
        outputs = layers.Dense(
            n_outputs, activation="sigmoid", kernel_initializer=init.GlorotUniform(seed=seeds())
        )(x)
        return keras.Model(inputs, outputs, name="cnn1d")
