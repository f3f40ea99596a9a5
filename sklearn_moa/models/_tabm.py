"""TabM (Gorishniy et al., ICLR 2025) as a multi-label MoA estimator (torch, skorch)."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._optional import import_optional
from ._skorch_base import SkorchMoAClassifier, fill_shared_doc

__all__ = ["TabMClassifier"]

#: The sklearn-moa extra that installs the ``tabm`` package.
TABM_EXTRA = "tabm"


@fill_shared_doc
class TabMClassifier(SkorchMoAClassifier):
    """TabM: a parameter-efficient ensemble of ``k`` MLPs in one network.

    TabM (Gorishniy, Kotelnikov and Babenko, "TabM: Advancing Tabular Deep
    Learning with Parameter-Efficient Ensembling", ICLR 2025,
    arXiv:2410.24210) trains ``k`` MLPs at once. With the default
    ``arch_type="tabm"`` every linear layer is a BatchEnsemble layer: one
    weight matrix shared by the members, and per-member elementwise scalings
    of its input and output and per-member biases; only the first layer's
    input scalings differ at initialisation. Each member has its own linear
    head. The network is the ``tabm`` package's ``TabM`` (its authors'
    implementation), here with one sigmoid output per target: the 206 MoA
    targets share one network.

    Training is the paper's: each member's binary cross-entropy is minimised
    on its own (the loss is the mean over members, not the loss of the mean
    prediction), AdamW at a constant rate, gradient norms clipped at 1, early
    stopping on a held-out fraction of the rows. ``predict_proba`` is the
    mean of the members' sigmoid probabilities, and early stopping monitors
    that mean's log loss.

    The defaults are the paper's default TabM (``tabm.TabM.make`` and the
    package's default optimizer): ``k=32``, width 512, 3 blocks (2 with
    numerical embeddings), dropout 0.1, learning rate 2e-3, weight decay
    3e-4, batch size 256, patience 16. They are sized for a GPU: on the
    full MoA data (19,000 training rows of 1,027 features) one epoch takes
    about a minute of one CPU core, four to five times the winners' dense
    network, and early stopping with a patience of 16 needs at least 17
    epochs (see ``docs/models.md``); the model zoo's quick ``tabm`` entry is
    smaller.

    Early stopping holds out whole drugs when ``fit`` gets ``groups`` (drug
    ids), else random rows: with replicated drugs (MoA data) random rows
    share drugs with the training rows, so their loss keeps falling after
    the loss on unseen drugs has turned; on one drug-aware fold, without
    ``groups``, the winners' fixed-length OneCycle training did better
    (``docs/models.md``).

    Parameters
    ----------
    k : int, default=32
        Number of ensemble members.
    n_blocks : int or None, default=None
        Number of hidden blocks (``Linear -> ReLU -> Dropout``); None is the
        package's default, 3 without numerical embeddings and 2 with them.
    d_block : int, default=512
        Width of the hidden blocks.
    dropout : float, default=0.1
        Dropout after every hidden block.
    arch_type : {"tabm", "tabm-mini", "tabm-packed"}, default="tabm"
        ``"tabm"``: BatchEnsemble layers throughout. ``"tabm-mini"``: only a
        per-member scaling of the input, the MLP itself fully shared (faster).
        ``"tabm-packed"``: ``k`` independent MLPs (no sharing; slow, for
        comparison).
    num_embeddings : {"piecewise_linear", "periodic"} or None, default=None
        Numerical feature embeddings before the backbone (TabM-dagger in the
        paper), shared by the members. ``"piecewise_linear"``: the
        piecewise-linear embeddings (version "B") on quantile bins computed
        in ``fit`` from the training rows; ``"periodic"``: the periodic
        embeddings. Each feature becomes ``d_embedding`` values, so the first
        layer is ``d_embedding`` times wider: on the ~900 MoA features that
        is the dominant cost.
    d_embedding : int, default=16
        Size of each feature's embedding.
    n_bins : int, default=48
        Quantile bins per feature for ``num_embeddings="piecewise_linear"``.
    epochs : int, default=100
        Most passes over the training data (of the fine-tuning phase after
        pretraining); early stopping usually ends training sooner.
    batch_size : int, default=256
        Rows per gradient step (and per prediction batch).
    learning_rate : float, default=2e-3
        AdamW's learning rate; with ``lr_schedule="onecycle"`` the peak of
        the cycle.
    weight_decay : float, default=3e-4
        AdamW's decoupled weight decay.
    lr_schedule : {"onecycle"} or None, default=None
        None: a constant rate, as in the paper. ``"onecycle"``: torch's
        ``OneCycleLR`` stepped every batch, as the MoA torch solutions did.
    label_smoothing : float, default=0.0
        Training targets become ``y * (1 - label_smoothing) + label_smoothing / 2``
        (the MoA solutions used 0.001; the paper none).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (random rows, seeded by
        ``random_state``; whole drugs when ``fit`` gets ``groups``), stop
        when the log loss of the members' mean
        prediction on them has not improved for ``patience`` epochs, and keep
        the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the rows held out when ``early_stopping``.
    patience : int, default=16
        Epochs without improvement before early stopping.
    {runtime_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    ResidualNNClassifier : The winners' dense network on the same machinery.
    DeepCNNClassifier : The 2nd-place 1D-CNN on the same machinery.

    Notes
    -----
    {nonscored_notes}

    With pretraining, the members' heads for the non-scored targets are
    replaced by fresh heads for the scored ones; the shared layers and the
    members' scalings carry over.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_moa.models import TabMClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 10); Y = (X[:, :3] > 0.5).astype(int)
    >>> model = TabMClassifier(k=4, d_block=16, epochs=2, early_stopping=False, random_state=0)
    >>> model.fit(X, Y).predict_proba(X).shape
    (64, 3)
    """

    _parameter_constraints = {
        **SkorchMoAClassifier._parameter_constraints,
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), None],
        "d_block": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "arch_type": [StrOptions({"tabm", "tabm-mini", "tabm-packed"})],
        "num_embeddings": [StrOptions({"piecewise_linear", "periodic"}), None],
        "d_embedding": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
    }

    # The paper's optimizer (the tabm package's default) and its example's clipping.
    _optimizer = "AdamW"
    _max_grad_norm = 1.0

    def __init__(
        self,
        k=32,
        n_blocks=None,
        d_block=512,
        dropout=0.1,
        arch_type="tabm",
        num_embeddings=None,
        d_embedding=16,
        n_bins=48,
        *,
        epochs=100,
        batch_size=256,
        learning_rate=2e-3,
        weight_decay=3e-4,
        lr_schedule=None,
        label_smoothing=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        patience=16,
        pretrain_epochs=None,
        pretrain_min_positives=1,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.k = k
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.dropout = dropout
        self.arch_type = arch_type
        self.num_embeddings = num_embeddings
        self.d_embedding = d_embedding
        self.n_bins = n_bins
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
        import_optional("tabm", TABM_EXTRA, type(self).__name__)
        import_optional("rtdl_num_embeddings", TABM_EXTRA, type(self).__name__)

    def _fit_input_statistics(self, X_train):
        from ._tabm_network import quantile_bins

        # The piecewise-linear bins come from the training rows; kept as arrays
        # so that a saved model rebuilds the same network (_build_module).
        self._embedding_bins = None
        if self.num_embeddings == "piecewise_linear":
            self._embedding_bins = [edges.numpy() for edges in quantile_bins(X_train, self.n_bins)]

    def _build_module(self, n_features, n_outputs):
        from ._tabm_network import TabMNet, make_num_embeddings

        embeddings = make_num_embeddings(self.num_embeddings, n_features, self.d_embedding,
                                         getattr(self, "_embedding_bins", None))
        with_embeddings = embeddings is not None
        n_blocks = self.n_blocks if self.n_blocks is not None else (2 if with_embeddings else 3)
        # tabm.TabM.make's rule: "normal" scalings after embeddings, random signs on raw features.
        scaling_init = None if self.arch_type == "tabm-packed" else ("normal" if with_embeddings else "random-signs")
        return TabMNet(
            n_num_features=n_features, d_out=n_outputs, num_embeddings=embeddings, n_blocks=n_blocks,
            d_block=self.d_block, dropout=self.dropout, activation="ReLU", k=self.k, arch_type=self.arch_type,
            start_scaling_init=scaling_init,
        )
