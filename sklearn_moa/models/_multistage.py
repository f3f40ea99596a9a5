"""The 1st place's 3-stage neural network (torch, trained through skorch)."""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils._param_validation import HasMethods, Interval

from ..metrics import mean_columnwise_log_loss
from ._skorch_base import (
    SkorchMoAClassifier, _is_torch_module, _plain_history, _start_from_prevalence, fill_shared_doc,
)
from ._torch_utils import import_torch, local_torch_seed, state_arrays, torch_thread_budget

__all__ = ["MultiStageNNClassifier"]

#: The source's quantile transform of each stage's predictions.
STAGE_QUANTILES = 100


@dataclass
class FittedStage:
    """One fitted stage of :class:`MultiStageNNClassifier`.

    Attributes
    ----------
    name : str
        ``"nonscored"``, ``"scored"`` or ``"stacked"``.
    modules : list of torch.nn.Module
        One network per inner fold; the stage predicts their mean probability.
    histories : list of dict
        Their per-epoch records: ``loss`` (training), ``val_loss`` (the
        held-out fold), ``seconds``.
    oof_log_loss : float
        Mean column-wise log loss of the stage's out-of-fold predictions on
        its own targets.
    output_transformer : QuantileTransformer or None
        Maps the stage's probabilities to normal scores for the next stage
        (fitted on the out-of-fold predictions); None for the last stage.
    sizes : tuple
        ``(n_features, n_outputs, hidden_layer_sizes)`` of its networks, from
        which a saved stage rebuilds them.
    """

    #: The safe model format stores it: its state holds the networks as
    #: arrays (``__getstate__``), which the estimator rebuilds on load.
    _plain_state = True

    name: str
    modules: list = field(repr=False)
    histories: list = field(repr=False)
    oof_log_loss: float
    output_transformer: object = field(default=None, repr=False)
    sizes: tuple = field(default=None, repr=False)

    def __getstate__(self):
        state = dict(vars(self))
        state["modules"] = [
            state_arrays(module) if _is_torch_module(module) else module
            for module in self.modules
        ]
        return state


@fill_shared_doc
class MultiStageNNClassifier(SkorchMoAClassifier):
    """The 1st place's 3-stage network: non-scored predictions, then scored, then stacked.

    The model of the 1st place ("Hungry for gold") that learns from the
    non-scored targets by stacking (CV 0.01561, private 0.01618 as a single
    model, the best of their blend):

    1. **non-scored stage**: a dense network learns the non-scored targets
       that have positives (``Y_nonscored``); its out-of-fold predictions,
       quantile-transformed to normal scores, become extra features;
    2. **scored stage**: a dense network learns the scored targets from the
       features and those predictions;
    3. **stacked stage**: a smaller dense network learns the scored targets
       again from stage 2's out-of-fold predictions (quantile-transformed)
       alone.

    Each stage is ``cv`` networks, one per inner fold of the training rows:
    each predicts its held-out fold (the out-of-fold predictions the next
    stage learns from) and, at predict time, the stage's prediction is the
    mean of its fold networks' probabilities, as the source did. The inner
    folds are drug-aware when ``fit`` gets the drug ids (``groups``: each
    drug's rows in one fold, scikit-learn's shuffled ``GroupKFold``), else
    row-wise and multi-label stratified (iterative stratification, as the
    source); the same folds serve the three stages. For drug-aware folds
    that are also stratified on the labels, pass
    ``cv=DrugMultilabelStratifiedKFold(5)`` (from
    :mod:`sklearn_moa.model_selection`) together with ``groups``.

    Without ``Y_nonscored`` (or with ``pretrain_epochs=0``) stage 1 is
    skipped and the model is stages 2 and 3: a dense network stacked with a
    second one on its out-of-fold predictions.

    Every network is the source's: ``BatchNorm, Dropout, weight-normed
    Linear, LeakyReLU`` blocks and a weight-normed linear output, Adam
    (weight decay 1e-5), a OneCycle schedule (20 % warm-up, peak 1e-2),
    batch 256; 15 epochs for stage 1, 25 for stages 2 and 3; hidden widths
    2048 (stages 1 and 2) and 1024 (stage 3). The source clipped the
    targets of stages 1 and 3 to [0.0005, 0.9995], which is
    ``label_smoothing=0.001``.

    Differences from the source: it averaged 5 seeds per stage (here one fit
    is one seed: wrap it in
    :class:`~sklearn_moa.ensemble.SeedAveragedClassifier`); it did not smooth
    stage 2's targets (here ``label_smoothing`` applies to all three); its
    middle hidden layer was not weight-normed; it kept each fold network's
    best epoch on the held-out fold (here with ``early_stopping=True``, which
    also stops after ``patience`` epochs without improvement); its folds were
    row-wise and stratified on each stage's own targets; its features were
    RankGauss-ed g-/c- columns with factor analysis and UMAP components (feed
    this model any preset, e.g. ``make_moa_features("winners")``).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(2048, 2048)
        Hidden widths of the networks of stages 1 and 2.
    stage3_hidden_layer_sizes : tuple of int, default=(1024, 1024)
        Hidden widths of the stage-3 networks.
    input_dropout : float, default=0.15
        Dropout on each network's input.
    dropout : float or tuple of float, default=(0.3, 0.25)
        Dropout before every later hidden layer and the output: one rate, or
        one per hidden layer (both stage sizes must then have that many).
    cv : int or cross-validation splitter, default=5
        The inner folds: an int is a number of folds (whole drugs per fold
        with ``groups``, else stratified rows); a splitter is used as given
        (its ``split(X, Y, groups)``).
    epochs : int, default=25
        Passes over the training rows of each stage-2 and stage-3 network.
    batch_size : int, default=256
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=1e-2
        Peak of the OneCycle schedule (or Adam's constant rate).
    weight_decay : float, default=1e-5
        Adam's L2 penalty.
    lr_schedule : {"onecycle", "plateau"} or None, default="onecycle"
        ``"onecycle"``: torch's ``OneCycleLR`` stepped every batch (20 %
        warm-up, ``div_factor=1e3``), as the source. ``"plateau"``: halve the
        rate after 4 epochs without improvement on the held-out fold. None:
        constant rate.
    label_smoothing : float, default=0.001
        Training targets of every stage become
        ``y * (1 - label_smoothing) + label_smoothing / 2``.
    early_stopping : bool, default=False
        Each fold network is monitored on its held-out fold (``valid_loss``
        in its history) in any case; with ``early_stopping`` it stops after
        ``patience`` epochs without improvement and keeps its best epoch.
        There is no ``validation_fraction``: the held-out fold is the
        validation set.
    patience : int, default=5
        Epochs without improvement before early stopping.
    pretrain_epochs : int or None, default=15
        Epochs of each stage-1 network; None means ``epochs``, 0 skips stage 1.
    pretrain_min_positives : int, default=1
        Non-scored targets with fewer positive rows (or with no negative) are
        left out of stage 1.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Torch device; ``"auto"`` picks CUDA when available.
    n_jobs : int or None, default=None
        Torch threads during fit and predict (restored afterwards); None keeps
        torch's setting, -1 uses every core.
    random_state : None, int or RandomState, default=None
        Seeds the inner folds, the weights, dropout and batch order of every
        network. Torch's global random state is left as it was.
    verbose : int, default=0
        0 is silent; > 0 prints skorch's table of losses per epoch of every
        network.

    Attributes
    ----------
    stages_ : list of FittedStage
        The fitted stages in order (``"nonscored"`` when stage 1 ran,
        ``"scored"``, ``"stacked"``), each with its fold networks, their
        histories, its out-of-fold log loss and its output transform; empty
        when every target had a single class in training.
    stage_oof_log_loss_ : dict
        ``{stage name: out-of-fold log loss}`` (inner folds of the training
        rows; ``"nonscored"`` is on the non-scored targets).
    pretrain_targets_ : ndarray of int or None
        Columns of ``Y_nonscored`` stage 1 learned.
    n_splits_ : int
        Number of inner folds.
    classes_, n_targets_, target_names_, target_prior_, constant_targets_
        See :class:`~sklearn_moa.models.MoAClassifierBase`.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    TwoHeadResNetClassifier : The 1st place's other non-scored transfer model.
    ResidualNNClassifier : The winners' dense network (pretraining by transfer).

    Notes
    -----
    ``fit(X, Y, Y_nonscored=None, groups=None)``: ``Y_nonscored`` (0/1
    non-scored targets of the same rows, learned by stage 1; without them
    stage 1 is skipped) and ``groups`` (the drug id of each row: inner folds
    keep each drug's rows together) reach ``fit`` as any per-row fit parameter:
    ``pipe.fit(X, Y, <step>__Y_nonscored=Y_ns, <step>__groups=drugs)``,
    through :class:`~sklearn_moa.models.ControlAwareClassifier` (subset to
    the treated rows), ``fit_params=`` of
    :func:`~sklearn_moa.model_selection.cross_validate_moa`, or metadata
    routing (``set_fit_request(Y_nonscored=True, groups=True)``).

    A fit trains ``3 * cv`` networks (``2 * cv`` without stage 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import MultiStageNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(90, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> Y_ns = (X[:, 3:7] > 0.8).astype(int)
    >>> model = MultiStageNNClassifier(hidden_layer_sizes=(16,), stage3_hidden_layer_sizes=(8,),
    ...                                dropout=0.2, cv=3, epochs=2, pretrain_epochs=2,
    ...                                random_state=0)
    >>> model.fit(X, Y, Y_nonscored=Y_ns).predict_proba(X).shape
    (90, 3)
    >>> [stage.name for stage in model.stages_]
    ['nonscored', 'scored', 'stacked']
    """

    _parameter_constraints = {
        **{k: v for k, v in SkorchMoAClassifier._parameter_constraints.items() if k != "validation_fraction"},
        "hidden_layer_sizes": ["array-like"],
        "stage3_hidden_layer_sizes": ["array-like"],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "cv": [Interval(Integral, 2, None, closed="left"), HasMethods(["split", "get_n_splits"])],
    }

    _onecycle_pct_start = 0.2

    def __init__(
        self,
        hidden_layer_sizes=(2048, 2048),
        stage3_hidden_layer_sizes=(1024, 1024),
        input_dropout=0.15,
        dropout=(0.3, 0.25),
        cv=5,
        *,
        epochs=25,
        batch_size=256,
        learning_rate=1e-2,
        weight_decay=1e-5,
        lr_schedule="onecycle",
        label_smoothing=0.001,
        early_stopping=False,
        patience=5,
        pretrain_epochs=15,
        pretrain_min_positives=1,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.stage3_hidden_layer_sizes = stage3_hidden_layer_sizes
        self.input_dropout = input_dropout
        self.dropout = dropout
        self.cv = cv
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.early_stopping = early_stopping
        self.patience = patience
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_min_positives = pretrain_min_positives
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit_untrained(self):
        self.stages_ = []
        self.stage_oof_log_loss_ = {}
        self.pretrain_targets_ = None
        self.n_splits_ = 0

    def _check_architecture(self):
        for name in ("hidden_layer_sizes", "stage3_hidden_layer_sizes"):
            sizes = list(getattr(self, name))
            if not sizes or not all(isinstance(s, Integral) and s >= 1 for s in sizes):
                raise ValueError(
                    f"{name} must be a non-empty sequence of positive ints; got {getattr(self, name)!r}."
                )
        if len(self.hidden_layer_sizes) != len(self.stage3_hidden_layer_sizes) and not isinstance(
            self.dropout, Real
        ):
            raise ValueError(
                "dropout holds one rate per hidden layer, but hidden_layer_sizes and "
                "stage3_hidden_layer_sizes have different lengths: give dropout as one float."
            )
        self._check_dropout(len(self.hidden_layer_sizes), "one per hidden layer")

    def _build_module(self, n_features, n_outputs, hidden_layer_sizes=None):
        from ._torch_modules import DenseNet

        return DenseNet(
            n_features, n_outputs, hidden_layer_sizes=tuple(hidden_layer_sizes or self.hidden_layer_sizes),
            input_dropout=self.input_dropout, dropout=self.dropout, activation="leaky_relu",
        )

    def _inner_folds(self, X, Y, groups, seed):
        # The suite's drug-aware stratified splitter lives in model_selection,
        # a layer above the models: an int cv uses scikit-learn's and
        # iterative-stratification's splitters, a splitter object anything.
        if isinstance(self.cv, Integral):
            if X.shape[0] < self.cv:
                raise ValueError(
                    f"{type(self).__name__}: cannot split {X.shape[0]} rows into cv={self.cv} inner folds."
                )
            if groups is not None:
                splitter = GroupKFold(self.cv, shuffle=True, random_state=seed)
            elif Y.shape[1] > 1:
                from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

                splitter = MultilabelStratifiedKFold(self.cv, shuffle=True, random_state=seed)
            elif np.bincount(Y[:, 0], minlength=2).min() >= self.cv:
                splitter = StratifiedKFold(self.cv, shuffle=True, random_state=seed)
                Y = Y[:, 0]
            else:
                splitter = KFold(self.cv, shuffle=True, random_state=seed)
        else:
            splitter = self.cv
        folds = list(splitter.split(X, Y, groups))
        for k, (train, test) in enumerate(folds):
            if len(train) < 2 or not len(test):
                raise ValueError(
                    f"{type(self).__name__}: inner fold {k} has {len(train)} training and "
                    f"{len(test)} held-out rows; use fewer folds (cv={self.cv!r}) or more rows."
                )
        return folds

    def _fit_targets(self, X, Y, seeds, Y_nonscored=None, groups=None):
        import_torch(type(self).__name__)
        self.pretrain_targets_ = None
        rng = np.random.RandomState(int(seeds[0]))
        folds = self._inner_folds(X, Y, groups, rng.randint(np.iinfo(np.int32).max))
        self.n_splits_ = len(folds)
        nonscored = self._pretraining_targets(Y_nonscored, X.shape[0])
        stages = []
        with torch_thread_budget(self.n_jobs):
            features = X
            if nonscored is not None:
                epochs = self.epochs if self.pretrain_epochs is None else self.pretrain_epochs
                stage, oof = self._fit_stage("nonscored", X, nonscored.numpy(), folds, epochs, rng)
                stages.append(stage)
                features = np.hstack([X, stage.output_transformer.transform(oof)])
            stage, oof = self._fit_stage("scored", features, Y, folds, self.epochs, rng)
            stages.append(stage)
            stacked = stage.output_transformer.transform(oof)
            stage, _ = self._fit_stage(
                "stacked", stacked, Y, folds, self.epochs, rng, self.stage3_hidden_layer_sizes, last=True
            )
            stages.append(stage)
        self.stages_ = stages
        self.stage_oof_log_loss_ = {stage.name: stage.oof_log_loss for stage in stages}

    def _fit_stage(self, name, X, Y, folds, epochs, rng, hidden_layer_sizes=None, last=False):
        """Train one network per inner fold; return the stage and its out-of-fold probabilities."""
        torch = import_torch(type(self).__name__)
        X_tensor = torch.from_numpy(X.astype(np.float32))
        oof = np.zeros(Y.shape, dtype=np.float64)
        modules, histories = [], []
        for train, test in folds:
            with local_torch_seed(int(rng.randint(np.iinfo(np.int32).max))):
                module = self._build_module(X.shape[1], Y.shape[1], hidden_layer_sizes)
                _start_from_prevalence(module.output, Y[train])
                net = self._train(module, X_tensor, Y, train, test, epochs, f"{name} (an inner fold)")
            module = net.module_.eval()
            oof[test] = self._module_proba(module, X[test])
            modules.append(module)
            histories.append(_plain_history(net.history))
        transformer = None
        if not last:
            transformer = QuantileTransformer(
                n_quantiles=min(STAGE_QUANTILES, X.shape[0]), output_distribution="normal",
                random_state=int(rng.randint(np.iinfo(np.int32).max)),
            ).fit(oof)
        loss = mean_columnwise_log_loss(Y, oof)
        sizes = (int(X.shape[1]), int(Y.shape[1]), hidden_layer_sizes)
        return FittedStage(name, modules, histories, float(loss), transformer, sizes), oof

    def __setstate__(self, state):
        super().__setstate__(state)
        for stage in getattr(self, "stages_", ()):
            stage.modules = [self._rebuild_stage_module(stage, weights) if isinstance(weights, dict)
                             else weights for weights in stage.modules]

    def _rebuild_stage_module(self, stage, weights):
        """One of ``stage``'s networks, built from its sizes and given ``weights``."""
        n_features, n_outputs, hidden_layer_sizes = stage.sizes
        return self._rebuild_module(weights, int(n_features), int(n_outputs), hidden_layer_sizes,
                                    what=f"{stage.name} stage")

    def _stage_proba(self, stage, X):
        return np.mean([self._module_proba(module, X) for module in stage.modules], axis=0)

    def _predict_targets(self, X):
        stages = list(self.stages_)
        features = X
        if stages[0].name == "nonscored":
            nonscored = stages.pop(0)
            features = np.hstack([X, nonscored.output_transformer.transform(self._stage_proba(nonscored, X))])
        scored, stacked = stages
        return self._stage_proba(stacked, scored.output_transformer.transform(self._stage_proba(scored, features)))
