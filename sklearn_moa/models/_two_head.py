"""The blog post's two-head neural network as a multi-label estimator."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..datasets._columns import TWO_HEAD_PREFIXES, names_starting_with
from ._keras_base import (
    COMMON_PARAMETER_CONSTRAINTS,
    KerasMoAClassifier,
    check_layer_widths,
    fill_keras_docs,
)

__all__ = ["TwoHeadNNClassifier"]

#: Width of head 1 in the blog post: 50 gene + 10 cell PCA components.
SEED_HEAD1_WIDTH = 60

#: Name prefixes of the ``"two_head"`` preset's head-1 columns (gene and cell PCA).
HEAD1_PREFIXES = TWO_HEAD_PREFIXES[0]


@fill_keras_docs
class TwoHeadNNClassifier(KerasMoAClassifier):
    """The blog post's two-head neural network ("NN model"), on Keras 3.

    Head 1 reads the PCA components (50 gene + 10 cell in the blog post), head 2
    the 872 g-/c- features and the 15 row statistics. Layer for layer:

    - head 1: BatchNorm, Dropout ``head1_dropout``, Dense 512 elu, BatchNorm,
      Dense 256 elu (Glorot normal);
    - body: head 1's output concatenated with head 2, BatchNorm, Dropout
      ``body_dropout``, then Dense 512, 512, 256, 256 relu (Glorot normal),
      each but the first after a BatchNorm;
    - tail: the average of head 1's and the body's outputs, BatchNorm, Dense
      256 relu, BatchNorm, Dense ``n_targets`` relu (LeCun normal), BatchNorm,
      Dense ``n_targets`` sigmoid (Glorot uniform, Keras' default).

    The initialisers are the blog post's (its code lists them per layer).

    With the blog post's input widths (60 and 887) and the 206 MoA targets the
    network has 1,384,292 parameters (1,376,866 trainable). It is trained with
    binary cross-entropy (label smoothing 0.001) and Adam (learning rate 1e-4,
    Keras 2 decay 1e-4), batch 128, for 50 epochs.

    Parameters
    ----------
    head1_columns : "auto", int, str or tuple of str, default="auto"
        The columns of ``X`` that feed head 1; every other column feeds head 2.

        - int ``k``: the first ``k`` columns;
        - str or tuple of str: the columns whose feature name starts with one
          of these prefixes (``X`` must be a DataFrame, e.g. a
          ``ColumnTransformer`` output with ``set_output(transform="pandas")``);
        - ``"auto"``: the columns of the ``"two_head"`` feature preset's
          head 1 (names starting with ``"gene_pca__"`` or ``"cell_pca__"``)
          when ``X`` carries feature names that have them, else the first 60
          columns (where the preset's array output puts its 50 + 10 PCA
          components).
    head1_units : tuple of int, default=(512, 256)
        Widths of head 1's dense layers.
    body_units : tuple of int, default=(512, 512, 256, 256)
        Widths of the body's dense layers. The last one must equal the last of
        ``head1_units``: the two are averaged.
    tail_units : tuple of int, default=(256,)
        Widths of the dense layers after the average, before the
        ``n_targets``-wide relu layer and the sigmoid output.
    head1_dropout : float, default=0.1
        Dropout rate on head 1's (batch-normalised) input.
    body_dropout : float, default=0.3
        Dropout rate on the (batch-normalised) concatenation.
    learning_rate : float, default=1e-4
        Adam's initial learning rate.
    learning_rate_decay : float, default=1e-4
        Keras 2's legacy Adam ``decay``, which Keras 3 dropped: the rate at
        gradient step ``t`` is ``learning_rate / (1 + learning_rate_decay * t)``.
        0 keeps the rate constant.
    label_smoothing : float, default=0.001
        Label smoothing of the binary cross-entropy.
    epochs : int, default=50
        Passes over the training data.
    batch_size : int, default=128
        Rows per gradient step.
    {training_parameters}

    Attributes
    ----------
    head_columns_ : tuple of two ndarray of int
        Positions of the columns of ``X`` that feed head 1 and head 2.
    {fitted_attributes}

    See Also
    --------
    CNN1DClassifier : The blog post's other Keras model.

    Notes
    -----
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import TwoHeadNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, Y = rng.randn(64, 12), (rng.rand(64, 3) < 0.3).astype(int)
    >>> model = TwoHeadNNClassifier(head1_columns=4, head1_units=(16, 8), body_units=(16, 8),
    ...                             tail_units=(8,), epochs=2, batch_size=16, random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    >>> TwoHeadNNClassifier().build_keras_model((60, 887), 206).count_params()
    1384292
    """

    _parameter_constraints = {
        **COMMON_PARAMETER_CONSTRAINTS,
        # "auto" or a name prefix: any string (StrOptions would not be disjoint from str).
        "head1_columns": [Interval(Integral, 1, None, closed="left"), str, tuple, list],
        "head1_units": [tuple, list],
        "body_units": [tuple, list],
        "tail_units": [tuple, list],
        "head1_dropout": [Interval(Real, 0, 1, closed="left")],
        "body_dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        head1_columns="auto",
        head1_units=(512, 256),
        body_units=(512, 512, 256, 256),
        tail_units=(256,),
        head1_dropout=0.1,
        body_dropout=0.3,
        learning_rate=1e-4,
        learning_rate_decay=1e-4,
        label_smoothing=0.001,
        epochs=50,
        batch_size=128,
        output_bias="prevalence",
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.head1_columns = head1_columns
        self.head1_units = head1_units
        self.body_units = body_units
        self.tail_units = tail_units
        self.head1_dropout = head1_dropout
        self.body_dropout = body_dropout
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
        for name in ("head1_units", "body_units"):
            check_layer_widths(name, getattr(self, name), allow_empty=False)
        check_layer_widths("tail_units", self.tail_units, allow_empty=True)
        if self.head1_units[-1] != self.body_units[-1]:
            raise ValueError(
                "The last widths of head1_units and body_units are averaged, so they must be "
                f"equal; got {self.head1_units[-1]} and {self.body_units[-1]}."
            )

    def _input_widths(self, n_features):
        if isinstance(n_features, tuple):
            if len(n_features) != 2 or min(n_features) < 1:
                raise ValueError(f"Give the two heads' widths as (n_head1, n_head2); got {n_features}.")
            return tuple(int(n) for n in n_features)
        by_prefix = isinstance(self.head1_columns, (tuple, list)) or (
            isinstance(self.head1_columns, str) and self.head1_columns != "auto"
        )
        if by_prefix:
            raise ValueError(
                "With head1_columns given as name prefixes the heads' widths depend on the "
                "feature names; give n_features as (n_head1, n_head2)."
            )
        n_head1 = SEED_HEAD1_WIDTH if self.head1_columns == "auto" else self.head1_columns
        return _split_widths(n_head1, int(n_features), "head1_columns")

    def _learn_input_layout(self, X):
        names = getattr(self, "feature_names_in_", None)
        head1 = _head1_mask(self.head1_columns, names, X.shape[1])
        if head1.all() or not head1.any():
            where = "every" if head1.any() else "no"
            raise ValueError(
                f"head1_columns={self.head1_columns!r} sends {where} column of X to head 1; "
                "each head needs at least one column."
            )
        self.head_columns_ = (np.flatnonzero(head1), np.flatnonzero(~head1))
        return tuple(len(columns) for columns in self.head_columns_)

    def _network_inputs(self, X):
        return [_float32_columns(X, columns) for columns in self.head_columns_]

    def _build_network(self, keras, widths, n_outputs, seeds):
        layers = keras.layers
        init = keras.initializers

        def dense(units, activation, initializer=init.GlorotUniform):
            return layers.Dense(units, activation=activation, kernel_initializer=initializer(seed=seeds()))

        head1_input = keras.Input((widths[0],), name="head1")
        head2_input = keras.Input((widths[1],), name="head2")

        head1 = layers.BatchNormalization()(head1_input)
        head1 = layers.Dropout(self.head1_dropout, seed=seeds())(head1)
        for i, units in enumerate(self.head1_units):
            if i:
                head1 = layers.BatchNormalization()(head1)
            head1 = dense(units, "elu", init.GlorotNormal)(head1)

        body = layers.Concatenate()([head1, head2_input])
        body = layers.BatchNormalization()(body)
        body = layers.Dropout(self.body_dropout, seed=seeds())(body)
        for i, units in enumerate(self.body_units):
            if i:
                body = layers.BatchNormalization()(body)
            body = dense(units, "relu", init.GlorotNormal)(body)

        tail = layers.Average()([body, head1])
        for i, units in enumerate(self.tail_units):
            tail = layers.BatchNormalization()(tail)
            tail = dense(units, "relu", init.LecunNormal)(tail)
        tail = layers.BatchNormalization()(tail)
        tail = dense(n_outputs, "relu", init.LecunNormal)(tail)
        tail = layers.BatchNormalization()(tail)
        output = dense(n_outputs, "sigmoid")(tail)
        return keras.Model([head1_input, head2_input], output, name="two_head_nn")


def _float32_columns(X, columns):
    """``X[:, columns]`` as float32, without a slow fancy-indexed gather.

    On the preset's 23,814 x 947 output, ``X[:, columns]`` took 0.7-1.6 s
    here; a slice (adjacent columns) or ``np.take`` 0.2 s.
    """
    if columns[-1] - columns[0] + 1 == len(columns):
        return X[:, columns[0] : columns[-1] + 1].astype(np.float32)
    return np.take(X, columns, axis=1).astype(np.float32)


def _split_widths(n_head1, n_features, param):
    if not 1 <= n_head1 < n_features:
        raise ValueError(
            f"{param} sends the first {n_head1} columns to head 1, but X has {n_features} "
            "feature(s); each head needs at least one."
        )
    return n_head1, n_features - n_head1


def _head1_mask(head1_columns, names, n_features):
    """Boolean mask of the columns that feed head 1."""
    if isinstance(head1_columns, Integral):
        _split_widths(head1_columns, n_features, "head1_columns")
        return np.arange(n_features) < head1_columns
    prefixes = head1_columns
    if head1_columns == "auto":
        if names is None or not len(names_starting_with(names, HEAD1_PREFIXES)):
            _split_widths(SEED_HEAD1_WIDTH, n_features, 'head1_columns="auto" without preset names')
            return np.arange(n_features) < SEED_HEAD1_WIDTH
        prefixes = HEAD1_PREFIXES
    if names is None:
        raise ValueError(
            f"head1_columns={head1_columns!r} selects columns by name prefix, but X has no "
            "feature names; pass a DataFrame or give head1_columns as a column count."
        )
    mask = np.zeros(n_features, dtype=bool)
    mask[names_starting_with(names, prefixes)] = True
    return mask
