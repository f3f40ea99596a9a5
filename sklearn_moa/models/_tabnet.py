"""TabNet for multi-label MoA prediction (pytorch-tabnet, wrapped by composition).

pytorch-tabnet 4.1 has no multi-label model that fits this suite:
``TabNetClassifier`` rejects a label matrix, and ``TabNetMultiTaskClassifier``
returns per-task lists, collapses a task with a single class and crashes on a
single-class column of its evaluation set. ``TabNetRegressor`` trained with a
binary cross-entropy on logits is a multi-label classifier once the sigmoid is
applied to its outputs, which is what the MoA solutions did and what
:class:`TabNetMoAClassifier` does.

The pytorch-tabnet model is built inside ``fit`` only: its constructor seeds
torch globally and its ``fit`` overwrites its own parameters, so it is created,
trained and reduced to its torch network under a forked torch RNG, and nothing
of it leaks into the estimator's parameters or the global random state.
"""

import contextlib
import functools
import io
import threading
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import Interval, StrOptions

from ..metrics import mean_columnwise_log_loss
from ..utils._optional import import_optional
from ..utils._prevalence import prevalence_logits
from ._base import DEEP_MODEL_PARAMETER_CONSTRAINTS, MoAClassifierBase
from ._divergence import non_finite_loss, non_finite_loss_error
from ._torch_utils import load_state_arrays, local_torch_seed, resolve_torch_device, state_arrays

__all__ = ["TabNetMoAClassifier"]

_EXTRA = "tabnet"

#: Name of the validation metric in pytorch-tabnet's history ("valid_" + it).
_METRIC_NAME = "moa_logloss"

#: The logit offset of the fit running in this thread, read by the validation
#: metric: pytorch-tabnet instantiates a metric from its name, through the
#: direct subclasses of its ``Metric``, so a metric cannot carry a fit's state
#: itself (a subclass made per fit is never found: the base class was used,
#: without the offset, until this was fixed).
_fit_state = threading.local()


class TabNetMoAClassifier(MoAClassifierBase):
    """Multi-label TabNet classifier (pytorch-tabnet) for the MoA targets.

    One TabNet network with one logit per target, trained with a
    label-smoothed binary cross-entropy; ``predict_proba`` applies the
    sigmoid. The defaults are the settings of the MoA solutions:

    - the blog post's training protocol (its best model, 0.01627
      private): 200 epochs, batch size 1024, Adam with learning rate 2e-2
      and weight decay 1e-5, the learning rate reduced on plateau;
    - the 1st-place TabNet's architecture: ``n_d = n_a = 32``, one decision
      step, entmax attention masks, no sparsity penalty, label smoothing 1e-4.

    Feed it the blog post's TabNet features with
    ``make_moa_features("tabnet")`` in a Pipeline, and wrap it in
    :class:`~sklearn_moa.models.ControlAwareClassifier` for the control rows.

    Parameters
    ----------
    n_d : int, default=32
        Width of the decision layer.
    n_a : int, default=32
        Width of the attention embedding.
    n_steps : int, default=1
        Number of decision steps.
    gamma : float, default=1.3
        Feature re-use coefficient of the attention masks (1 forbids re-use).
    n_independent : int, default=2
        Step-specific GLU layers per feature transformer.
    n_shared : int, default=2
        GLU layers shared by all steps.
    mask_type : {"entmax", "sparsemax"}, default="entmax"
        Normalisation of the attention masks.
    lambda_sparse : float, default=0.0
        Weight of TabNet's mask sparsity penalty.
    momentum : float, default=0.02
        Momentum of the ghost batch normalisation.
    virtual_batch_size : int, default=128
        Ghost batch normalisation chunk size (pytorch-tabnet's default).
    epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int, default=1024
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=2e-2
        Adam learning rate.
    weight_decay : float, default=1e-5
        Adam L2 penalty.
    lr_schedule : {"plateau"} or None, default="plateau"
        ``"plateau"``: multiply the learning rate by 0.9 after 5 epochs
        without improvement of the monitored loss (the validation loss when
        ``early_stopping``, else the training loss), down to 1e-5, as the blog post
        did. None: constant learning rate.
    label_smoothing : float, default=1e-4
        Training targets become ``y * (1 - label_smoothing) + label_smoothing / 2``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the
        competition metric on them has not improved for ``patience`` epochs
        and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the rows held out when ``early_stopping``.
    patience : int, default=20
        Epochs without improvement before early stopping.
    device : str, default="cpu"
        Torch device of training: ``"cpu"``, ``"cuda"`` or ``"auto"`` (cuda
        when available). Prediction runs on the CPU.
    random_state : None, int or RandomState, default=None
        Seeds the weights, the batch order and the validation split. Torch's
        global random state is left as it was.
    verbose : int, default=0
        0 is silent; ``k > 0`` prints the losses every ``k`` epochs.

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained ``pytorch_tabnet.tab_network.TabNet``, in eval mode, on
        the CPU and in float64 (prediction runs there, whatever ``device``
        trained it).
    logit_offset_ : ndarray of shape (n_varying_targets,)
        Logit of each (non-constant) target's training prevalence, added to
        the network's outputs in training and prediction.
    feature_importances_ : ndarray of shape (n_features_in_,)
        TabNet's global feature importances (aggregated attention masks on
        the training rows), summing to 1.
    history_ : dict of list
        Per-epoch ``"loss"`` (training), ``"lr"``, ``"seconds"`` (wall clock)
        and, with early stopping, ``"val_loss"`` (the competition metric on
        the held-out rows).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int or None
        Epoch whose weights were kept (with early stopping), else None.
    classes_, n_targets_, target_names_, target_prior_, constant_targets_
        See :class:`~sklearn_moa.models.MoAClassifierBase`.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    sklearn_moa.models.ControlAwareClassifier : Applies the control rule.

    Notes
    -----
    TabNet's output layer has no bias, so a fresh network predicts 0.5 for
    targets of 0.1 % to 3 % prevalence and short trainings spend their steps
    unlearning it. The network's outputs are offset by the logit of each
    target's training prevalence (a fixed bias, ``logit_offset_``), as the
    torch and Keras models start their output biases there.

    Targets with a single class in the training data are not given to the
    network; the base predicts their smoothed prevalence. The validation split
    of early stopping may still hold a target with a single class: the
    competition metric used to monitor it is defined for such columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import TabNetMoAClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> model = TabNetMoAClassifier(n_d=8, n_a=8, epochs=2, batch_size=32,
    ...                             virtual_batch_size=16, random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    >>> model.feature_importances_.shape
    (10,)
    """

    _parameter_constraints = {
        **DEEP_MODEL_PARAMETER_CONSTRAINTS,
        "n_d": [Interval(Integral, 1, None, closed="left")],
        "n_a": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 1, None, closed="left")],
        "n_independent": [Interval(Integral, 0, None, closed="left")],
        "n_shared": [Interval(Integral, 0, None, closed="left")],
        "mask_type": [StrOptions({"entmax", "sparsemax"})],
        "lambda_sparse": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "virtual_batch_size": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"plateau"}), None],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
    }

    def __init__(
        self,
        n_d=32,
        n_a=32,
        n_steps=1,
        gamma=1.3,
        n_independent=2,
        n_shared=2,
        mask_type="entmax",
        lambda_sparse=0.0,
        momentum=0.02,
        virtual_batch_size=128,
        epochs=200,
        batch_size=1024,
        learning_rate=2e-2,
        weight_decay=1e-5,
        lr_schedule="plateau",
        label_smoothing=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        patience=20,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_d = n_d
        self.n_a = n_a
        self.n_steps = n_steps
        self.gamma = gamma
        self.n_independent = n_independent
        self.n_shared = n_shared
        self.mask_type = mask_type
        self.lambda_sparse = lambda_sparse
        self.momentum = momentum
        self.virtual_batch_size = virtual_batch_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    __metadata_request__fit = {"groups": None}

    @property
    def n_epochs_(self):
        """Deprecated alias of ``n_iter_``."""
        warnings.warn("n_epochs_ is deprecated; use n_iter_ (epochs run).", FutureWarning)
        return self.n_iter_

    def _fit_untrained(self):
        self.network_ = None
        self.history_ = {}
        self.n_iter_ = 0
        self.best_epoch_ = None
        self.feature_importances_ = np.full(self.n_features_in_, 1.0 / self.n_features_in_)

    def _fit_targets(self, X, Y, seeds, groups=None):
        torch = import_optional("torch", _EXTRA, type(self).__name__)
        tab_model = import_optional("pytorch_tabnet.tab_model", _EXTRA, type(self).__name__)
        from ._torch_modules import SmoothBCEWithLogitsLoss

        seed = int(seeds[0])
        X = X.astype(np.float32)
        Y = Y.astype(np.float32)
        train, valid = self._validation_split(X.shape[0], seed, groups=groups)
        X_train, Y_train = X[train], Y[train]
        eval_set = [] if valid is None else [(X[valid], Y[valid])]
        # TabNet's output layer has no bias: a fixed offset, the logit of each
        # target's training prevalence, starts the outputs there (see Notes).
        self.logit_offset_ = prevalence_logits(Y_train)
        parts = _tabnet_parts()
        timer = parts.EpochTimer()
        callbacks = [timer, parts.NonFiniteLossGuard(type(self).__name__)]
        if self.lr_schedule == "plateau":
            monitor = "valid_" + parts.metric_name if eval_set else "loss"
            callbacks.append(parts.PlateauSchedule(monitor))
        with local_torch_seed(seed), _quiet(self.verbose), _validation_offset(self.logit_offset_):
            inner = tab_model.TabNetRegressor(
                n_d=self.n_d,
                n_a=self.n_a,
                n_steps=self.n_steps,
                gamma=self.gamma,
                n_independent=self.n_independent,
                n_shared=self.n_shared,
                mask_type=self.mask_type,
                lambda_sparse=self.lambda_sparse,
                momentum=self.momentum,
                optimizer_fn=torch.optim.Adam,
                optimizer_params=dict(lr=self.learning_rate, weight_decay=self.weight_decay),
                device_name=resolve_torch_device(self.device, type(self).__name__),
                seed=seed,
                verbose=self.verbose,
            )
            inner.fit(
                X_train,
                Y_train,
                eval_set=eval_set,
                eval_name=["valid"] if eval_set else None,
                eval_metric=[parts.ValidationLogLoss] if eval_set else None,
                # A fresh module is in training mode: it always smooths, as TabNet's loss must.
                loss_fn=_OffsetLoss(SmoothBCEWithLogitsLoss(self.label_smoothing),
                                    torch.as_tensor(self.logit_offset_, dtype=torch.float32)),
                max_epochs=self.epochs,
                patience=self.patience if eval_set else 0,
                batch_size=self.batch_size,
                virtual_batch_size=self.virtual_batch_size,
                # A last batch of one row would break batch normalisation.
                drop_last=len(X_train) > self.batch_size and len(X_train) % self.batch_size == 1,
                callbacks=callbacks,
                compute_importance=True,
            )
        # Keep only what prediction needs: the optimiser, callbacks and
        # metric objects of the inner model are training-time state. The
        # network predicts on the CPU, so that a model trained on a GPU
        # unpickles anywhere, and in float64, so that a row's probabilities do
        # not depend on the batch it is predicted in (float32 products differ
        # at ~1e-7).
        self.network_ = _as_float64(torch, inner.network.cpu()).eval()
        self.feature_importances_ = np.asarray(inner.feature_importances_, dtype=np.float64)
        self.history_ = _plain_history(inner.history.history, timer.seconds)
        self.n_iter_ = len(self.history_["loss"])
        self.best_epoch_ = int(inner.best_epoch) if eval_set else None

    # The network travels as its state_dict (NumPy arrays) and is rebuilt from
    # the parameters, so the fitted state holds no torch object (see
    # sklearn_moa.models._skorch_base for why).

    def __getstate__(self):
        state = dict(super().__getstate__())
        network = state.pop("network_", None)
        if network is not None:
            state["_network_state"] = state_arrays(network)
            state["_network_sizes"] = (int(network.input_dim), int(network.output_dim))
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = state.pop("_network_state", None)
        sizes = state.pop("_network_sizes", None)
        super().__setstate__(state)
        if weights is not None:  # else: no network, or a pickle of 0.1.x holding it itself
            self.network_ = self._rebuild_network(weights, *sizes)

    def _rebuild_network(self, weights, input_dim, output_dim):
        torch = import_optional("torch", _EXTRA, type(self).__name__)
        from pytorch_tabnet.tab_network import TabNet
        from pytorch_tabnet.utils import create_group_matrix

        input_dim, output_dim = int(input_dim), int(output_dim)
        with local_torch_seed(0):  # initial weights are overwritten: leave torch's RNG alone
            network = TabNet(
                input_dim, output_dim, n_d=self.n_d, n_a=self.n_a, n_steps=self.n_steps,
                gamma=self.gamma, n_independent=self.n_independent, n_shared=self.n_shared,
                virtual_batch_size=self.virtual_batch_size, momentum=self.momentum,
                mask_type=self.mask_type, group_attention_matrix=create_group_matrix([], input_dim),
            )
        network = _as_float64(torch, network)
        return load_state_arrays(
            network, weights, "The saved weights do not fit the TabNet network its parameters build"
        )

    def _predict_targets(self, X):
        torch = import_optional("torch", _EXTRA, type(self).__name__)
        logits = []
        with torch.no_grad():
            for start in range(0, X.shape[0], self.batch_size):
                batch = torch.tensor(X[start : start + self.batch_size], dtype=torch.float64)
                output, _ = self.network_(batch)
                logits.append(output.numpy())
        return expit(np.concatenate(logits) + self.logit_offset_)


class _OffsetLoss:
    """``loss(logits + offset, targets)``: the loss of a network whose outputs start at ``offset``."""

    def __init__(self, loss, offset):
        self.loss = loss
        self.offset = offset

    def __call__(self, logits, targets):
        return self.loss(logits + self.offset.to(logits.device), targets)


def _plain_history(history, seconds):
    """pytorch-tabnet's history in the suite's names: ``loss``, ``val_loss``, ``lr``, ``seconds``."""
    renamed = {"valid_" + _METRIC_NAME: "val_loss"}
    plain = {renamed.get(name, name): [float(v) for v in values] for name, values in history.items()}
    plain["seconds"] = list(seconds)
    return plain


def _as_float64(torch, network):
    """Convert a TabNet network to float64, plain tensor attributes included.

    ``Module.double()`` converts parameters and buffers only; TabNet also keeps
    its (float) group attention matrices as plain attributes.
    """
    network.double()
    for module in network.modules():
        for name, value in list(vars(module).items()):
            if torch.is_tensor(value) and value.is_floating_point():
                setattr(module, name, value.double())
    return network


@contextlib.contextmanager
def _validation_offset(offset):
    """Hand ``offset`` to the validation metric of the fit running in this thread."""
    previous = getattr(_fit_state, "offset", None)
    _fit_state.offset = offset
    try:
        yield
    finally:
        _fit_state.offset = previous


@contextlib.contextmanager
def _quiet(verbose):
    """Silence pytorch-tabnet's warnings, and its prints unless ``verbose``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pytorch_tabnet\.")
        if verbose:
            yield
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                yield


@functools.cache
def _tabnet_parts():
    """pytorch-tabnet subclasses, defined on first use (the import is optional).

    Only live during ``fit``: nothing of them is kept on the fitted estimator,
    so pickling does not need them.
    """
    metrics = import_optional("pytorch_tabnet.metrics", _EXTRA, "TabNetMoAClassifier")
    callbacks = import_optional("pytorch_tabnet.callbacks", _EXTRA, "TabNetMoAClassifier")
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    metric_name = _METRIC_NAME

    class ValidationLogLoss(metrics.Metric):
        """The competition metric on logits plus the fit's offset (NaN for non-finite logits); defined for single-class columns."""

        def __init__(self):
            self._name = metric_name
            self._maximize = False

        def __call__(self, y_true, y_score):
            if not np.isfinite(y_score).all():  # diverged: NonFiniteLossGuard names the epoch
                return float("nan")
            return mean_columnwise_log_loss(y_true, expit(y_score + _fit_state.offset))

    class PlateauSchedule(callbacks.Callback):
        """The blog post's ReduceLROnPlateau(factor=0.9, patience=5, min_lr=1e-5) on ``monitor``."""

        def __init__(self, monitor):
            super().__init__()
            self.monitor = monitor

        def on_train_begin(self, logs=None):
            self.scheduler = ReduceLROnPlateau(
                self.trainer._optimizer, mode="min", factor=0.9, patience=5, min_lr=1e-5
            )

        def on_epoch_end(self, epoch, logs=None):
            self.scheduler.step(logs[self.monitor])

    class EpochTimer(callbacks.Callback):
        """Wall-clock seconds of each epoch (training and validation)."""

        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    class NonFiniteLossGuard(callbacks.Callback):
        """Stop the fit with a NonFiniteLossError once a loss or the weights are not finite.

        Checked after every batch, not only every epoch: pytorch-tabnet's
        sparsemax fails with an IndexError on NaN attention, so the next
        batch of a diverged network would crash inside pytorch-tabnet. The
        fit therefore stops at once, with or without early stopping.
        """

        def __init__(self, model_name):
            super().__init__()
            self.model_name = model_name

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_batch_end(self, batch, logs=None):
            self._check({"training loss": (logs or {}).get("loss")})

        def on_epoch_end(self, epoch, logs=None):
            self._check({"validation loss": (logs or {}).get("valid_" + metric_name)})

        def _check(self, losses):
            import torch

            weights_finite = all(bool(torch.isfinite(p).all()) for p in self.trainer.network.parameters())
            bad = non_finite_loss({**losses, "network weights": None if weights_finite else float("nan")})
            if bad is not None:
                raise non_finite_loss_error(self.model_name, "training", self.epoch, *bad)

    return type(
        "TabNetParts",
        (),
        dict(
            metric_name=metric_name,
            ValidationLogLoss=ValidationLogLoss,
            PlateauSchedule=PlateauSchedule,
            EpochTimer=EpochTimer,
            NonFiniteLossGuard=NonFiniteLossGuard,
        ),
    )
