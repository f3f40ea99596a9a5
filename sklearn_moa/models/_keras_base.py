"""The shared machinery of the Keras models: a multi-label estimator around a Keras 3 network.

:class:`KerasMoAClassifier` builds a fresh Keras model inside ``fit`` and owns
what scikeras 0.13 gets wrong with scikit-learn 1.9 (see
``docs/keras_backend_choice.md``):

- validation, ``classes_``, constant targets, clipping and tags
  (:class:`~sklearn_moa.models.MoAClassifierBase`);
- the lazy import of Keras (extra ``keras``), on whatever backend
  ``KERAS_BACKEND`` names when Keras is first imported (TensorFlow by default,
  torch and JAX too); TensorFlow is never imported under another backend;
- local seeding: every initialiser and dropout layer gets its own seed drawn
  from ``random_state``, and the batch order comes from the backend's global
  generator, seeded for the fit and given back afterwards;
- the training recipe of the blog post's notebooks: binary cross-entropy with label
  smoothing, Adam with the legacy Keras 2 inverse-time ``decay``, optional
  early stopping on an explicit inner validation fraction, user callbacks,
  the per-epoch history as ``history_``;
- pickling: the network travels as its weights and is rebuilt on unpickling,
  so a fitted estimator pickles, deep-copies and unpickles to the same
  predictions, on any backend.

Subclasses build the network (``_build_network``), say how wide its inputs
are (``_input_widths``) and cut ``X`` into them (``_network_inputs``).
"""

import contextlib
import functools
import logging
import math
import random
import sys
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._optional import MissingOptionalDependency, import_optional
from ..utils._prevalence import prevalence_logits
from ._base import DEEP_MODEL_PARAMETER_CONSTRAINTS, MoAClassifierBase
from ._divergence import non_finite_loss, non_finite_loss_error, warn_restored

__all__ = ["KERAS_EXTRA", "KerasMoAClassifier", "check_layer_widths", "fill_keras_docs", "import_keras", "local_keras_seed"]

#: The sklearn-moa extra that installs Keras and its default backend.
KERAS_EXTRA = "keras"

#: Rows per forward pass in ``predict_proba``.
_PREDICT_CHUNK = 2048

#: On TensorFlow, fits of at most this many gradient steps run eagerly: tracing
#: the training step takes seconds once per fit, more than a few eager steps.
_EAGER_MAX_STEPS = 10

#: Constructor parameters shared by the Keras models, in the suite's vocabulary.
COMMON_PARAMETER_CONSTRAINTS = {
    **DEEP_MODEL_PARAMETER_CONSTRAINTS,
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "learning_rate_decay": [Interval(Real, 0, None, closed="left")],
    "callbacks": [list, tuple, None],
    "device": [StrOptions({"cpu", "cuda", "auto"})],
    "output_bias": [StrOptions({"prevalence", "zeros"})],
}

# numpydoc fragment shared by the subclasses' docstrings.
TRAINING_PARAMETERS_DOC = """output_bias : {{"prevalence", "zeros"}}, default="prevalence"
        Where the sigmoid output's biases start: at the logit of each
        target's training prevalence, or at Keras' zeros (every probability
        starts at 0.5, as in the blog post's code). The blog settings of the
        model zoo use ``"zeros"``: on full-size ``make_moa`` the prevalence
        start made the blog post's networks, trained as published, overfit
        (see ``benchmarks/bench_blog_fidelity.py``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (random rows, seeded by
        ``random_state``; whole drugs when ``fit`` gets ``groups``), stop when their loss has not improved for
        ``patience`` epochs, and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the rows held out when ``early_stopping``.
    patience : int, default=5
        Epochs without improvement of the validation loss before stopping.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Extra Keras callbacks for ``Model.fit`` (e.g. ``ReduceLROnPlateau``);
        each fit works on a copy of the list.
    device : {{"auto", "cpu", "cuda"}}, default="auto"
        Where the network trains and predicts: ``"auto"`` leaves it to the
        Keras backend (its GPU when it sees one), ``"cpu"`` and ``"cuda"``
        (the first GPU; a ValueError when the backend sees none) pin it.
    random_state : None, int or RandomState, default=None
        Seeds the initial weights, dropout masks, batch order and validation
        split. The global random states of Python, NumPy and the backend are
        given back after fit (see Notes).
    verbose : int, default=0
        Keras' ``verbose`` of ``Model.fit``: 0 silent, 1 a progress bar,
        2 one line per epoch."""

# numpydoc fragment: the fitted attributes every Keras model has.
FITTED_ATTRIBUTES_DOC = """network_ : keras.Model or None
        The trained network, or None when every target had a single class in
        training.
    history_ : dict of list
        Keras' per-epoch record (``History.history``): ``loss`` and, with
        early stopping, ``val_loss``, plus whatever the callbacks log.
    n_iter_ : int
        Epochs run (fewer than ``epochs`` after early stopping).
    classes_, n_targets_, target_names_, target_prior_, constant_targets_
        See :class:`~sklearn_moa.models.MoAClassifierBase`.
    n_features_in_, feature_names_in_
        As in scikit-learn."""

# numpydoc fragment: backend, seeding and pickling notes.
KERAS_NOTES_DOC = """Keras 3 runs on the backend named by the ``KERAS_BACKEND`` environment
    variable when Keras is first imported in the process (TensorFlow by
    default; torch works too). The same ``random_state`` gives the same
    predictions on a given backend, from one fit to the next and from one
    process to the next; the backends do not give the same numbers as each
    other. Fits running at the same time in threads of one process share the
    backend's global generator and are then not reproducible (processes,
    joblib's default, are not affected).

    On TensorFlow, a fit of at most 10 gradient steps (``epochs`` times the
    batches per epoch) runs eagerly: tracing the training step costs seconds
    once per fit, more than such a fit's steps.

    A fitted estimator pickles with its network's weights (the network is
    rebuilt from the parameters when unpickled); it can be unpickled in a
    process whose Keras runs another backend."""


def fill_keras_docs(cls):
    """Class decorator: put the shared numpydoc fragments into a Keras model's docstring."""
    cls.__doc__ = cls.__doc__.format(
        training_parameters=TRAINING_PARAMETERS_DOC,
        fitted_attributes=FITTED_ATTRIBUTES_DOC,
        notes=KERAS_NOTES_DOC,
    )
    return cls


def import_keras(purpose=None):
    """Import Keras 3, or raise an ImportError naming the ``keras`` extra.

    Parameters
    ----------
    purpose : str, default=None
        What needs it (an estimator name), for the message.

    Returns
    -------
    keras : module
    """
    keras = import_optional("keras", KERAS_EXTRA, purpose)
    if not hasattr(keras, "ops"):
        raise MissingOptionalDependency(
            f"{purpose or 'This feature'} needs Keras 3; Keras {keras.__version__} is installed. "
            f"Install it with: pip install 'sklearn-moa[{KERAS_EXTRA}]'"
        )
    return keras


@contextlib.contextmanager
def local_keras_seed(keras, seed):
    """Seed the random generators a Keras fit draws from, and give them back after it.

    Keras' ``set_random_seed`` would do the seeding, but it changes the
    process-wide state for good and imports TensorFlow under every backend.
    Here Python's and NumPy's generators and the backend's own global
    generator (torch's, or TensorFlow's global seed that ``tf.data``'s
    shuffle uses) are seeded for the block and restored after it.

    Parameters
    ----------
    keras : module
    seed : int
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        with _backend_seed(keras.backend.backend(), seed):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


@contextlib.contextmanager
def _backend_seed(backend, seed):
    if backend == "torch":
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    elif backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.eager import context

        # TensorFlow has no public getter for its global seed.
        previous = context.global_seed()
        tf.random.set_seed(seed)
        try:
            yield
        finally:
            tf.random.set_seed(previous)
    else:  # JAX and NumPy backends draw only from seeds Keras passes explicitly.
        yield


def _backend_sees_gpu(keras):
    """Whether Keras' backend has a GPU to place the network on."""
    if keras.backend.backend() == "torch":
        # Keras has no distribution library for torch (keras.distribution.list_devices
        # fails there); torch itself knows.
        import torch

        return torch.cuda.is_available()
    return bool(keras.distribution.list_devices("gpu"))


class _RetracingFilter(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning.

    Every fit builds a new model with its own ``tf.function``; TensorFlow
    counts them together and warns after the fifth, which floods the output of
    a grid search although nothing is retraced needlessly.
    """

    def filter(self, record):
        return "tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _quiet_tensorflow():
    if "tensorflow" not in sys.modules:
        yield
        return
    logger = logging.getLogger("tensorflow")
    quiet = _RetracingFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class KerasMoAClassifier(MoAClassifierBase):
    """Base of the Keras models: training loop, seeding, validation split and pickling.

    Subclasses define ``_parameter_constraints`` (extending
    :data:`COMMON_PARAMETER_CONSTRAINTS`) and implement ``_input_widths``,
    ``_network_inputs`` and ``_build_network``.
    """

    _parameter_constraints = dict(COMMON_PARAMETER_CONSTRAINTS)

    __metadata_request__fit = {"groups": None}

    @property
    def model_(self):
        """Deprecated alias of ``network_``."""
        warnings.warn("model_ is deprecated; use network_ (the same Keras model).", FutureWarning)
        return self.network_

    def build_keras_model(self, n_features, n_outputs):
        """Build and compile the Keras network for the given sizes, without fitting.

        The network is the one ``fit`` would train, with the same initial
        weights for the same ``random_state``, except the output layer's bias,
        which ``fit`` starts at the logit of each target's training prevalence
        (with ``output_bias="prevalence"``, the default).

        Parameters
        ----------
        n_features : int or tuple of int
            Input width (see the subclass for the inputs it accepts).
        n_outputs : int
            Number of targets.

        Returns
        -------
        model : keras.Model
            Compiled, untrained.
        """
        self._validate_params()
        self._check_architecture()
        keras = import_keras(type(self).__name__)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return self._compiled_network(keras, self._input_widths(n_features), int(n_outputs), seed)

    # -- hooks of the subclasses -------------------------------------------------

    def _check_architecture(self):
        """Raise a ValueError on parameters that do not make a network."""

    def _input_widths(self, n_features):  # pragma: no cover - abstract
        """Widths of the network's inputs for ``n_features`` columns (or as given)."""
        raise NotImplementedError

    def _learn_input_layout(self, X):
        """Learn at fit time how ``X``'s columns feed the network (default: as they are)."""
        return X.shape[1]

    def _network_inputs(self, X):  # pragma: no cover - abstract
        """Cut the float64 matrix ``X`` into the network's float32 inputs."""
        raise NotImplementedError

    def _build_network(self, keras, widths, n_outputs, seeds):  # pragma: no cover - abstract
        """Return the uncompiled ``keras.Model``; ``seeds()`` gives a fresh layer seed."""
        raise NotImplementedError

    # -- training ----------------------------------------------------------------

    def _compiled_network(self, keras, widths, n_outputs, seed, run_eagerly=False):
        layer_seeds = np.random.RandomState(seed)
        model = self._build_network(
            keras, widths, n_outputs, lambda: int(layer_seeds.randint(np.iinfo(np.int32).max))
        )
        learning_rate = self.learning_rate
        if self.learning_rate_decay:
            learning_rate = keras.optimizers.schedules.InverseTimeDecay(
                self.learning_rate, decay_steps=1, decay_rate=self.learning_rate_decay
            )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=keras.losses.BinaryCrossentropy(label_smoothing=self.label_smoothing),
            run_eagerly=run_eagerly,
        )
        return model

    def _fit_untrained(self):
        self.network_ = None
        self.history_ = {}
        self.n_iter_ = 0

    def _fit_targets(self, X, Y, seeds, groups=None):
        keras = import_keras(type(self).__name__)
        seed = int(seeds[0])
        widths = self._input_widths(self._learn_input_layout(X))
        inputs = self._network_inputs(X)
        Y = Y.astype(np.float32)
        train, valid = self._validation_split(len(Y), seed, groups=groups, min_train=1)
        validation_data = None
        if valid is not None:
            validation_data = (_take(inputs, valid), Y[valid])
            inputs, Y = _take(inputs, train), Y[train]
        callbacks = list(self.callbacks or [])
        stopper = None
        if self.early_stopping:
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=self.patience, restore_best_weights=True
            )
            callbacks.append(stopper)
        callbacks.append(_guard_class(keras)(type(self).__name__, stopper))
        n_steps = self.epochs * -(-len(Y) // self.batch_size)
        run_eagerly = keras.backend.backend() == "tensorflow" and n_steps <= _EAGER_MAX_STEPS
        with local_keras_seed(keras, seed), _quiet_tensorflow(), self._device_scope(keras):
            model = self._compiled_network(keras, widths, Y.shape[1], seed, run_eagerly)
            if self.output_bias == "prevalence":
                _start_from_prevalence(model.layers[-1], Y)
            history = model.fit(
                inputs,
                Y,
                epochs=self.epochs,
                batch_size=self.batch_size,
                validation_data=validation_data,
                callbacks=callbacks,
                shuffle=True,
                verbose=self.verbose,
            )
        self.network_ = model
        self._network_shape = (widths, Y.shape[1])
        self.history_ = {name: list(values) for name, values in history.history.items()}
        self.n_iter_ = len(history.epoch)

    def _predict_targets(self, X):
        keras = import_keras(type(self).__name__)
        inputs = self._network_inputs(X)
        chunks = []
        # A direct call instead of Model.predict: no tf.function to trace per
        # model, which costs more than the forward pass on small inputs.
        with _inference_mode(keras), self._device_scope(keras):
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                batch = _take(inputs, slice(start, start + _PREDICT_CHUNK))
                chunks.append(keras.ops.convert_to_numpy(self.network_(batch, training=False)))
        return np.concatenate(chunks).astype(np.float64)

    def _device_scope(self, keras):
        """Keras' device scope for ``device`` (no scope for ``"auto"``)."""
        if self.device == "auto":
            return contextlib.nullcontext()
        if self.device == "cuda" and not _backend_sees_gpu(keras):
            raise ValueError(
                f"{type(self).__name__}(device='cuda'): Keras' {keras.backend.backend()} backend "
                "sees no GPU; use device='cpu' or 'auto' (set_params(device='cpu') lets a "
                "network fitted on a GPU predict on the CPU)."
            )
        if self.device == "cuda":
            return keras.device("gpu:0")
        # Keras' torch backend compares a tensor's device with the scope's name:
        # torch calls the CPU "cpu", so under "cpu:0" every variable is copied on
        # use and the copies get no gradients ("No gradients provided").
        return keras.device("cpu" if keras.backend.backend() == "torch" else "cpu:0")

    # -- pickling ----------------------------------------------------------------
    # The network travels as its weights and is rebuilt from the estimator's
    # own parameters: Keras' config serialisation imports TensorFlow under
    # every backend, and the weights alone unpickle on any backend.

    # The state holds only NumPy arrays and plain values, so sklearn-moa's safe
    # model files store it too.

    def __getstate__(self):
        # A copy: object.__getstate__ hands out the instance's own __dict__.
        state = dict(super().__getstate__())
        # Found by type, not by name, so that a renamed attribute still travels as arrays.
        keras = sys.modules.get("keras")
        networks = [key for key, value in state.items()
                    if keras is not None and isinstance(value, keras.Model)]
        if networks:
            [key] = networks
            state["_model_weights"] = [np.asarray(w) for w in state.pop(key).get_weights()]
            state["_model_attribute"] = key
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "model_" in state:  # pickled by sklearn-moa 0.1
            state["network_"] = state.pop("model_")
        weights = state.pop("_model_weights", None)
        attribute = str(state.pop("_model_attribute", "network_"))
        saved = state.get("network_")
        if isinstance(saved, _SavedWeights):  # pickled by sklearn-moa 0.1
            weights, attribute, state["network_"] = saved.weights, "network_", None
        super().__setstate__(state)
        if weights is not None:
            keras = import_keras(type(self).__name__)
            # Rebuilt where the backend places it, so that a network trained
            # on a GPU unpickles on a machine without one.
            widths, n_outputs = self._network_shape
            network = self._compiled_network(keras, widths, int(n_outputs), seed=0)
            try:
                network.set_weights(weights)
            except ValueError as exc:
                raise ValueError(
                    f"The saved weights do not fit the {type(self).__name__} network its "
                    f"parameters build: {exc}"
                ) from None
            setattr(self, attribute, network)
        # Files saved before ``device`` existed ran where the backend chose;
        # before ``output_bias``, the output started at the prevalences.
        self.__dict__.setdefault("device", "auto")
        self.__dict__.setdefault("output_bias", "prevalence")


class _SavedWeights:
    """The weights of a fitted network, as NumPy arrays (the pickles of sklearn-moa 0.1.x)."""

    def __init__(self, weights):
        self.weights = weights


def check_layer_widths(name, units, allow_empty):
    """Raise a ValueError unless ``units`` is a tuple of positive layer widths."""
    if (not units and not allow_empty) or not all(
        isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in units
    ):
        need = "" if allow_empty else "a non-empty "
        raise ValueError(f"{name} must be {need}tuple of positive layer widths; got {units!r}.")



@contextlib.contextmanager
def _inference_mode(keras):
    if keras.backend.backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


def _take(inputs, rows):
    """Rows of one input array or of each array of a list of inputs."""
    if isinstance(inputs, list):
        return [part[rows] for part in inputs]
    return inputs[rows]


@functools.cache
def _guard_class(keras):
    """The Keras callback class that stops a diverged fit (Keras is imported on first use)."""

    class NonFiniteLossGuard(keras.callbacks.Callback):
        """At each epoch's end, stop if ``loss``, ``val_loss`` or the weights are not finite.

        With ``stopper`` (the fit's ``EarlyStopping``) holding a best epoch of
        finite validation loss, its weights are restored, training stops and
        a warning says so; otherwise a
        :class:`~sklearn_moa.models.NonFiniteLossError` is raised.
        """

        def __init__(self, model_name, stopper):
            super().__init__()
            self.model_name = model_name
            self.stopper = stopper

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            weights_finite = all(np.isfinite(w).all() for w in self.model.get_weights())
            bad = non_finite_loss({
                "training loss": logs.get("loss"), "validation loss": logs.get("val_loss"),
                "network weights": None if weights_finite else float("nan"),
            })
            if bad is None:
                return
            stopper = self.stopper
            if stopper is not None and stopper.best_weights is not None and math.isfinite(stopper.best):
                self.model.set_weights(stopper.best_weights)
                self.model.stop_training = True
                warn_restored(self.model_name, "training", epoch + 1, *bad, stopper.best_epoch + 1)
                return
            raise non_finite_loss_error(self.model_name, "training", epoch + 1, *bad)

    return NonFiniteLossGuard


def _start_from_prevalence(output_layer, Y):
    """Start the sigmoid output at each target's training prevalence (see ``prevalence_logits``)."""
    output_layer.bias.assign(prevalence_logits(Y).astype(np.float32))
