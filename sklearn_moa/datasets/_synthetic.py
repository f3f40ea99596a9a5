"""Realistic synthetic LISH-MoA data.

:func:`make_moa` returns data in exactly the layout of :func:`load_moa`, with
the label statistics of the real training set (shipped as package data, see
:mod:`sklearn_moa.datasets._columns`) and features that carry a learnable,
nonlinear and noisy signal. It is what the tests and the demos run on, since the
Kaggle files cannot be downloaded here.
"""

import numbers
import re

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ._columns import (
    CELL_PREFIX,
    CONTROL_TYPE,
    CP_DOSES,
    CP_TIMES,
    DRUG_COLUMN,
    GENE_PREFIX,
    ID_COLUMN,
    label_combination_facts,
    label_overlap_facts,
    nonscored_cooccurrence_facts,
    nonscored_target_facts,
    rows_per_drug_facts,
    scored_target_facts,
)

__all__ = ["make_moa"]

# Largest drug sizes ("regular" drugs have at most this many rows; larger ones
# are the handful of very frequent compounds, the largest is the vehicle).
_MAX_REGULAR_ROWS = 19
_MIN_BIG_ROWS = 24
# Scored labels of the very frequent compounds, largest first. Chosen so that
# each target's excess of rows over ~6 rows per positive drug in the real data
# (e.g. proteasome_inhibitor: 726 rows from 4 drugs) is explained.
_BIG_DRUG_LABELS = (
    ("proteasome_inhibitor", "nfkb_inhibitor"),
    ("hmgcr_inhibitor",),
    ("cdk_inhibitor",),
    ("egfr_inhibitor",),
    ("tubulin_inhibitor",),
    ("flt3_inhibitor", "kit_inhibitor", "pdgfr_inhibitor"),
    ("raf_inhibitor",),
    (),
)
# Targets whose drugs kill cells at high dose / late time (cell-viability
# columns collapse), as in the real data.
_CYTOTOXIC = (
    "proteasome_inhibitor", "nfkb_inhibitor", "hdac_inhibitor", "tubulin_inhibitor",
    "cdk_inhibitor", "topoisomerase_inhibitor", "hsp_inhibitor", "dna_inhibitor",
    "mtor_inhibitor", "plk_inhibitor", "aurora_kinase_inhibitor", "atpase_inhibitor",
    "rna_polymerase_inhibitor", "protein_synthesis_inhibitor", "bcl_inhibitor",
    "chk_inhibitor", "wee1_kinase_inhibitor", "ribonucleoside_reductase_inhibitor",
    "thymidylate_synthase_inhibitor", "dihydrofolate_reductase_inhibitor",
    "pi3k_inhibitor", "src_inhibitor", "kit_inhibitor", "flt3_inhibitor",
    "pdgfr_inhibitor", "raf_inhibitor", "egfr_inhibitor", "mek_inhibitor",
)
# Words of a target name that say what kind of action it is, not on what:
# two targets are related when their names share another word (``abl`` in
# abl_inhibitor and bcr-abl_inhibitor, ``histamine`` in the histamine receptor
# agonist and antagonist), or when a real drug carries both.
_GENERIC_WORDS = frozenset("""
    inhibitor receptor antagonist agonist activator channel kinase protein agent stimulant
    blocker synthesis enhancer inducer factor modulator expression release ligand cell acid
    beta alpha atp tyrosine synthase dehydrogenase reductase protease cyclase demethylase lipase
    transporter atpase oxidase transferase hydrolase phosphatase binding signaling production
    uptake reuptake secretion partial inverse positive negative allosteric selective analog
    free ii iii
""".split())
# Actions that raise what the target does; the others (inhibitor, antagonist,
# blocker, ...) lower it, and a related target acting the other way moves the
# shared programme in the opposite direction.
_RAISING_ACTIONS = frozenset(
    "agonist activator stimulant enhancer inducer opener sensitizer releaser".split()
)
# Share of a related non-scored target's signature that it takes from its
# scored relatives' programmes (the rest is its own).
_SHARED_SIGNATURE = 0.7
_COMBOS = np.array([(t, d) for t in range(len(CP_TIMES)) for d in range(len(CP_DOSES))])
_DOSE_SCALE = np.array([0.65, 1.0])
_TIME_SCALE = np.array([0.75, 1.0, 1.15])
_LATE_WEIGHT = np.array([0.0, 0.6, 1.0])


def _stochastic_round(x, rng):
    x = np.asarray(x, dtype=float)
    low = np.floor(x)
    return (low + (rng.random(x.shape) < (x - low))).astype(np.int64)


def _full_size_structure():
    rows = rows_per_drug_facts()
    sizes = np.repeat(rows["rows_per_drug"].to_numpy(), rows["drugs"].to_numpy())
    n_rows_full = int(sizes.sum())
    control_rows = int(sizes.max())
    big = np.sort(sizes[(sizes > _MAX_REGULAR_ROWS) & (sizes < control_rows)])[::-1]
    regular = rows[rows["rows_per_drug"] <= _MAX_REGULAR_ROWS]
    n_regular_full = int(regular["drugs"].sum())
    return n_rows_full, control_rows, big, regular, n_regular_full


def _plan_drugs(n_rows, rng, frac_scale):
    """Sizes of the drugs of one split: control first, then frequent, then regular."""
    n_rows_full, control_rows, big_full, regular, _ = _full_size_structure()
    s = n_rows / n_rows_full
    n_ctl = min(n_rows, int(round(control_rows * s)))
    n_big = min(len(big_full), int(round(len(big_full) * s * frac_scale)))
    if n_rows >= 300:
        n_big = max(n_big, 2)
    big = [max(_MIN_BIG_ROWS, int(round(b * s))) for b in big_full[:n_big]]
    while big and n_rows - n_ctl - sum(big) < 0.5 * n_rows:
        big.pop()
    remaining = n_rows - n_ctl - sum(big)
    p = regular["drugs"].to_numpy(float)
    p /= p.sum()
    values = regular["rows_per_drug"].to_numpy()
    mean = float(values @ p)
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < remaining:
        draw = rng.choice(values, size=int(remaining / mean * 1.2) + 10, p=p)
        sizes = np.concatenate([sizes, draw])
    if remaining > 0:
        csum = np.cumsum(sizes)
        k = int(np.searchsorted(csum, remaining))  # first index with csum >= remaining
        sizes = sizes[: k + 1].copy()
        sizes[-1] -= csum[k] - remaining
    else:
        sizes = sizes[:0]
    return n_ctl, np.asarray(big, dtype=np.int64), sizes.astype(np.int64)


def _big_label_indices(names, n_big):
    pos = {n: i for i, n in enumerate(names)}
    out = []
    for i in range(n_big):
        labels = _BIG_DRUG_LABELS[i] if i < len(_BIG_DRUG_LABELS) else ()
        out.append([pos[n] for n in labels if n in pos])
    return out


def _name_words(name):
    """The specific words of a target name (see ``_GENERIC_WORDS``)."""
    words = re.split(r"[_\-()/,]+", name.lower())
    return {w for w in words if len(w) > 1 and not w.isdigit() and w not in _GENERIC_WORDS}


def _direction(name):
    """+1 for a target name whose action raises its target, -1 otherwise."""
    return 1.0 if re.split(r"[_\-]", name)[-1] in _RAISING_ACTIONS else -1.0


def _relations(nonscored_names, scored_names):
    """How each non-scored target relates to the scored targets and to the other non-scored ones.

    Returns
    -------
    weights : ndarray of shape (n_nonscored, n_scored)
        Signed weight of each scored target in a non-scored target's shared
        programme: one per shared name word, plus the number of real drugs
        that carry both; negative where their actions go opposite ways.
    partners : ndarray of shape (n_nonscored, n_scored)
        Real drugs that carry both (``nonscored_scored_cooccurrence.csv``).
    nonscored_related : ndarray of bool, shape (n_nonscored, n_nonscored)
        Non-scored targets related by a name word or by a shared scored relative.
    """
    s_words = [_name_words(n) for n in scored_names]
    n_words = [_name_words(n) for n in nonscored_names]
    s_dir = np.array([_direction(n) for n in scored_names])
    n_dir = np.array([_direction(n) for n in nonscored_names])
    common = np.array([[len(a & b) for b in s_words] for a in n_words], dtype=float)
    partners = np.zeros_like(common)
    s_pos = {n: i for i, n in enumerate(scored_names)}
    n_pos = {n: i for i, n in enumerate(nonscored_names)}
    for ns, sc, k in nonscored_cooccurrence_facts().itertuples(index=False):
        if ns in n_pos and sc in s_pos:
            partners[n_pos[ns], s_pos[sc]] = k
    weights = (common + partners) * np.outer(n_dir, s_dir)
    by_word = np.array([[bool(a & b) for b in n_words] for a in n_words])
    by_relative = (np.abs(weights) > 0).astype(float)
    nonscored_related = by_word | (by_relative @ by_relative.T > 0)
    np.fill_diagonal(nonscored_related, False)
    return weights, partners, nonscored_related


def _shared_signatures(own, scored, weights, share):
    """Non-scored signatures: ``share`` of their variance from related scored programmes.

    Each row of ``own`` (a non-scored target's own sparse signature) is mixed
    with the weighted sum of its scored relatives' signatures, scaled to the
    same norm; rows without a relative keep their own signature.
    """
    shared = weights @ scored
    norm_shared = np.linalg.norm(shared, axis=1, keepdims=True)
    norm_own = np.linalg.norm(own, axis=1, keepdims=True)
    related = norm_shared[:, 0] > 0
    out = own.copy()
    out[related] = (
        np.sqrt(share) * shared[related] / norm_shared[related] * norm_own[related]
        + np.sqrt(1.0 - share) * own[related]
    )
    return out


def _regular_combinations(names, big_labels_full):
    """The real multi-label combinations of regular drugs: (target indices, real drug count).

    The very frequent compounds carry some of them (``_BIG_DRUG_LABELS``);
    those drugs are taken off their combination's count.
    """
    pos = {n: i for i, n in enumerate(names)}
    big = [frozenset(labels) for labels in big_labels_full if len(labels) > 1]
    out = []
    for combo, n_drugs in label_combination_facts()[["scored_targets", "drugs"]].itertuples(index=False):
        idx = frozenset(pos[n] for n in combo.split("|") if n in pos)
        n_drugs -= big.count(idx)
        if len(idx) > 1 and n_drugs > 0:
            out.append((np.array(sorted(idx)), n_drugs))
    return out


def _assign_scored_labels(counts, combinations, ratio, n_drugs, rng):
    """Binary (n_drugs, n_targets) matrix with about ``counts[t]`` drugs per target.

    Multi-label drugs carry the real combinations (``ratio`` times their
    real number of drugs, stochastically rounded); every other positive goes
    to a drug of its own; the remaining drugs get no label.
    """
    n_targets = len(counts)
    Y = np.zeros((n_drugs, n_targets), dtype=np.int8)
    if n_drugs == 0:
        return Y
    combos = [idx for idx, k in combinations for _ in range(_stochastic_round(k * ratio, rng))]
    rng.shuffle(combos)
    singles = counts.astype(np.int64).copy()
    for idx in combos:
        singles[idx] -= 1
    tokens = np.repeat(np.arange(n_targets), np.maximum(singles, 0))
    rng.shuffle(tokens)
    n_combos = min(len(combos), n_drugs)
    labelled = rng.permutation(n_drugs)[: n_combos + len(tokens)]
    for drug, idx in zip(labelled[:n_combos], combos):
        Y[drug, idx] = 1
    singles_at = labelled[n_combos:]
    Y[singles_at, tokens[: len(singles_at)]] = 1
    return Y


def _assign_nonscored_labels(Y, ratio, partners, nonscored_related, rng):
    """Drug-level non-scored labels of the regular drugs, given their scored labels ``Y``.

    As in the real data: each non-scored target gets ``ratio`` times its real
    number of positive drugs, of which as many as really do carry a scored
    label too, those preferably drugs carrying the scored targets it really
    co-occurs with (``partners``); the others go to drugs without a scored
    label. A drug gets a second non-scored label (a related one, where there
    is one) as often as in the real data, so the real numbers of distinct
    drugs hold.
    """
    facts = nonscored_target_facts()
    overlap = label_overlap_facts()
    n_drugs, n_targets = len(Y), len(facts)
    Yn = np.zeros((n_drugs, n_targets), dtype=np.int8)
    if n_drugs == 0:
        return Yn
    drugs_full = facts["positive_drugs"].to_numpy(float)
    both_full = facts["drugs_also_with_a_scored_label"].to_numpy(float)
    n_drugs_t = np.minimum(_stochastic_round(drugs_full * ratio, rng), n_drugs)
    n_both_t = np.minimum(_stochastic_round(both_full * ratio, rng), n_drugs_t)
    # labels beyond one per drug, in the real data: on drugs with a scored label, and without
    reuse = [
        _stochastic_round((both_full.sum() - overlap["drugs_with_both"]) * ratio, rng)[()],
        _stochastic_round(
            (drugs_full.sum() - both_full.sum()
             - overlap["drugs_with_nonscored_label"] + overlap["drugs_with_both"]) * ratio, rng
        )[()],
    ]
    scored = Y.any(axis=1)
    labelled = np.zeros(n_drugs, dtype=bool)  # drugs with a non-scored label so far
    for t in rng.permutation(n_targets):
        if n_drugs_t[t] == 0:
            continue
        carried = Y @ partners[t] if partners[t].any() else np.zeros(n_drugs)
        related = Yn[:, nonscored_related[t]].any(axis=1)
        for n_picks, with_scored in ((n_both_t[t], True), (n_drugs_t[t] - n_both_t[t], False)):
            for _ in range(int(n_picks)):
                weight = ((scored if with_scored else ~scored) & (Yn[:, t] == 0)).astype(float)
                if with_scored and (carried * weight).any():
                    weight *= carried
                budget = int(not with_scored)
                if reuse[budget] > 0 and (weight * labelled).any():
                    weight *= labelled
                    if (weight * related).any():
                        weight *= related
                    reuse[budget] -= 1
                elif (weight * ~labelled).any():
                    weight *= ~labelled
                if not weight.any():
                    break
                drug = rng.choice(n_drugs, p=weight / weight.sum())
                Yn[drug, t] = 1
                labelled[drug] = True
    return Yn


def _split_labels(n_rows, rng, frac_scale, scored, relations):
    """Drug sizes and drug-level scored / non-scored labels for one split."""
    n_rows_full, _, big_full, regular, n_regular_full = _full_size_structure()
    names = list(scored["target"])
    n_ctl, big, reg = _plan_drugs(n_rows, rng, frac_scale)
    big_labels_full = _big_label_indices(names, len(big_full))
    big_labels = big_labels_full[: len(big)]

    n_scored = len(names)
    d_full = scored["positive_drugs"].to_numpy().astype(float)
    for labels in big_labels_full:
        d_full[labels] -= 1
    d_full = np.maximum(d_full, 0)
    ratio = len(reg) / n_regular_full
    counts = _stochastic_round(d_full * ratio, rng)
    combinations = _regular_combinations(names, big_labels_full)
    Y_reg = _assign_scored_labels(counts, combinations, ratio, len(reg), rng)

    Y_big = np.zeros((len(big), n_scored), dtype=np.int8)
    for i, labels in enumerate(big_labels):
        Y_big[i, labels] = 1

    # non-scored labels sit on regular drugs only (the real ones: ~6 rows per drug)
    _, partners, nonscored_related = relations
    Yn_reg = _assign_nonscored_labels(Y_reg, ratio, partners, nonscored_related, rng)
    n_nonscored = Yn_reg.shape[1]

    sizes = np.concatenate([[n_ctl] if n_ctl else [], big, reg]).astype(np.int64)
    is_control = np.zeros(len(sizes), dtype=bool)
    if n_ctl:
        is_control[0] = True
    Y = np.vstack([np.zeros((int(n_ctl > 0), n_scored), np.int8), Y_big, Y_reg])
    Yn = np.vstack([np.zeros((int(n_ctl > 0) + len(big), n_nonscored), np.int8), Yn_reg])
    return sizes, is_control, Y, Yn


def _unique_hex(n, rng, exclude=()):
    """``n`` unique 9-digit hex strings (random order), none in ``exclude``."""
    exclude = set(exclude)
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        draw = rng.integers(0, 16**9, size=n - len(out) + 16)
        out = np.concatenate([out, draw])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
        if exclude:
            out = out[[f"{v:09x}" not in exclude for v in out]]
    return [f"{v:09x}" for v in out[:n]]


def _signatures(n_targets, n_genes, n_cells, rng, genes_range, strength):
    """Sparse target signatures over gene and cell columns."""
    S = np.zeros((n_targets, n_genes + n_cells))
    for t in range(n_targets):
        k = rng.integers(*genes_range)
        idx = rng.choice(n_genes, size=min(k, n_genes), replace=False)
        S[t, idx] = rng.normal(size=len(idx)) * rng.uniform(0.5, 1.5, size=len(idx))
        kc = rng.integers(0, 4)
        if kc and n_cells:
            idx = rng.choice(n_cells, size=min(kc, n_cells), replace=False)
            S[t, n_genes + idx] = rng.normal(scale=0.5, size=len(idx))
    return S * strength


def make_moa(
    n_samples=23814,
    *,
    n_test_samples=3982,
    random_state=None,
    n_genes=772,
    n_cells=100,
    signal_strength=1.0,
    drug_effect=1.0,
    noise=1.0,
):
    """Generate synthetic LISH-MoA data with the real data's layout and statistics.

    The result has the layout of :func:`load_moa` (same column names, dtypes,
    order, index names) and reproduces the label statistics of the real training
    set: the 206 scored and 402 non-scored target names, per-target prevalence
    and number of positive drugs, labels constant within a drug, the
    labels-per-drug and rows-per-drug distributions (most drugs have 6 rows,
    one per ``cp_time`` x ``cp_dose``; a few frequent compounds have hundreds),
    ~7.8 % ``ctl_vehicle`` rows with no MoA, ~39 % of rows with no scored MoA.
    Drugs with several scored labels carry the real combinations (kit, pdgfr
    and vegfr inhibitors; dopamine and serotonin receptor antagonists; ...).
    The non-scored labels sit on drugs as in the real data: each target on
    its real number of drugs, mostly drugs without a scored label (at full
    size ~755 drugs carry one, ~118 of them also a scored label), and those
    that do have one preferably carry the scored targets the real drugs
    combine it with (``ret_inhibitor`` with vegfr/kit/pdgfr inhibitors).
    With fewer samples the structure is scaled down (rare targets then have no
    positive at all, as in a small real subset).

    The features carry a learnable, nonlinear, noisy signal: each target has a
    sparse signature over gene and cell columns, partly time dependent. A
    non-scored target related to scored ones (a shared specific word in the
    name, such as ``abl`` or ``histamine``, or real drugs carrying both) takes
    70 % of its signature's variance from their signatures (negated where
    the actions go opposite ways, agonist against antagonist) and the rest
    from its own; about half the non-scored targets have such relatives. A drug's
    profile is the sum of its targets' signatures times a drug potency, scaled
    by dose and time, plus an idiosyncratic drug effect shared by all its
    replicates (so row-wise CV leaks), saturated by ``tanh``; cytotoxic drugs
    kill cells above a dose/time threshold, which drives the ``c-*`` columns
    strongly negative. Row noise is heavy tailed; gene values are clipped to
    ``[-10, 10]`` and cell values to ``[-10, 6]``.

    Parameters
    ----------
    n_samples : int, default=23814
        Number of training rows (the real training set has 23814).
    n_test_samples : int, default=3982
        Number of test rows (the real public test set has 3982). The test rows
        come from new drugs, not in the training set (and from the control
        vehicle); their sig_ids are disjoint from the training ones.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives identical frames.
    n_genes, n_cells : int, default=772, 100
        Number of ``g-*`` and ``c-*`` columns. Other values than the defaults
        give data that :func:`check_moa_features` (which expects the Kaggle
        layout) rejects.
    signal_strength : float, default=1.0
        Scale of the target signatures (the learnable signal).
    drug_effect : float, default=1.0
        Scale of the idiosyncratic, drug-specific effect shared by replicates.
    noise : float, default=1.0
        Scale of the row noise.

    Returns
    -------
    data : :class:`sklearn.utils.Bunch`
        ``features``, ``targets``, ``nonscored_targets``, ``drugs``,
        ``test_features``, ``target_names``, ``nonscored_target_names`` as in
        :func:`load_moa`, plus ``test_targets`` (scored ground truth of the test
        rows), ``test_drugs`` (their drug ids; control rows share the vehicle's
        id with the training controls) and ``DESCR``.

    Examples
    --------
    >>> from sklearn_moa.datasets import make_moa
    >>> d = make_moa(600, n_test_samples=100, random_state=0)
    >>> d.features.shape, d.targets.shape, d.test_features.shape
    ((600, 875), (600, 206), (100, 875))
    >>> d.features.columns[:4].tolist()
    ['cp_type', 'cp_time', 'cp_dose', 'g-0']
    >>> bool((d.targets.groupby(d.drugs).nunique() <= 1).all().all())
    True
    """
    for name, value, low in (
        ("n_samples", n_samples, 1), ("n_test_samples", n_test_samples, 0),
        ("n_genes", n_genes, 1), ("n_cells", n_cells, 1),
    ):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    for name, value in (
        ("signal_strength", signal_strength), ("drug_effect", drug_effect), ("noise", noise),
    ):
        if not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite float >= 0; got {value!r}.")
    rs = check_random_state(random_state)
    rng = np.random.default_rng(rs.randint(0, 2**31 - 1, size=4))

    scored = scored_target_facts()
    target_names = list(scored["target"])
    nonscored_names = list(nonscored_target_facts()["target"])
    n_scored, n_nonscored = len(target_names), len(nonscored_names)
    n_features = n_genes + n_cells

    # --- drugs and labels of each split ------------------------------------
    relations = _relations(nonscored_names, target_names)
    tr = _split_labels(int(n_samples), rng, 1.0, scored, relations)
    te = _split_labels(int(n_test_samples), rng, 1.0, scored, relations)
    sizes = np.concatenate([tr[0], te[0]])
    is_control = np.concatenate([tr[1], te[1]])
    Y = np.vstack([tr[2], te[2]])
    Yn = np.vstack([tr[3], te[3]])
    n_drugs_tr, n_drugs = len(tr[0]), len(sizes)
    split = np.repeat(np.r_[np.zeros(n_drugs_tr, bool), np.ones(n_drugs - n_drugs_tr, bool)],
                      sizes)

    drug_hex = np.array(_unique_hex(n_drugs, rng), dtype=object)
    control_ids = np.flatnonzero(is_control)
    if len(control_ids) > 1:  # the vehicle is one "drug" in both splits
        drug_hex[control_ids[1:]] = drug_hex[control_ids[0]]

    # --- rows: treatment design ---------------------------------------------
    n_rows = int(sizes.sum())
    drug_of_row = np.repeat(np.arange(n_drugs), sizes)
    starts = np.cumsum(sizes) - sizes
    pos = np.arange(n_rows) - np.repeat(starts, sizes)
    perms = np.argsort(rng.random((n_drugs, len(_COMBOS))), axis=1)
    combo = perms[drug_of_row, pos % len(_COMBOS)]
    row_control = is_control[drug_of_row]
    combo[row_control] = rng.integers(0, len(_COMBOS), size=int(row_control.sum()))
    time_idx, dose_idx = _COMBOS[combo, 0], _COMBOS[combo, 1]

    # --- drug-level profiles --------------------------------------------------
    # amplitudes calibrated so that, on a drug-held-out split at full size, a
    # one-vs-rest LogisticRegression(C=0.05) scores ~0.017 against ~0.021 for the prior
    S1 = _signatures(n_scored, n_genes, n_cells, rng, (15, 60), 0.6)
    S2 = _signatures(n_scored, n_genes, n_cells, rng, (5, 25), 0.48)
    # non-scored mechanisms move the programmes of their scored relatives
    # (same kinase family, receptor subtypes, drugs that carry both) plus their own
    weights = relations[0]
    Sn1 = _shared_signatures(_signatures(n_nonscored, n_genes, n_cells, rng, (15, 60), 0.6), S1,
                             weights, _SHARED_SIGNATURE)
    Sn2 = _shared_signatures(_signatures(n_nonscored, n_genes, n_cells, rng, (5, 25), 0.48), S2,
                             weights, _SHARED_SIGNATURE)
    potency = rng.lognormal(0.0, 0.5, size=n_drugs)
    potency *= np.where(rng.random(n_drugs) < 0.15, 0.25, 1.0)  # barely active drugs
    # the very frequent compounds are strong reference compounds
    frequent = (sizes > _MAX_REGULAR_ROWS) & ~is_control
    potency[frequent] = np.maximum(potency[frequent], 1.2)
    Yf = Y.astype(float)
    Ynf = Yn.astype(float)
    early = signal_strength * potency[:, None] * (Yf @ S1 + Ynf @ Sn1)
    late = signal_strength * potency[:, None] * (Yf @ S2 + Ynf @ Sn2)
    # idiosyncratic drug effect: low-rank + sparse, shared by all replicates
    n_factors = 12
    B = rng.normal(size=(n_factors, n_features)) / np.sqrt(n_factors)
    idio = rng.normal(size=(n_drugs, n_factors)) @ B * 0.35
    k_sparse = 25
    rows_i = np.repeat(np.arange(n_drugs), k_sparse)
    cols_i = rng.integers(0, n_genes, size=n_drugs * k_sparse)
    np.add.at(idio, (rows_i, cols_i), rng.normal(scale=0.8, size=n_drugs * k_sparse))
    idio *= drug_effect
    early += idio
    early[is_control] = 0.0
    late[is_control] = 0.0

    # cytotoxicity (cell death): threshold effect of dose x time x potency
    tox_t = np.zeros(n_scored)
    tox_t[[target_names.index(t) for t in _CYTOTOXIC if t in target_names]] = 1.0
    tox_t[rng.random(n_scored) < 0.05] = 0.6
    tox_drug = (0.5 + potency) * (Yf * tox_t).max(axis=1, initial=0.0)
    tox_drug += np.where(rng.random(n_drugs) < 0.03, rng.uniform(0.8, 2.0, n_drugs), 0.0)
    tox_drug *= rng.uniform(0.7, 1.5, size=n_drugs)
    tox_drug[is_control] = 0.0

    # --- rows: features ---------------------------------------------------------
    # computed in float32, in place (the frames are float64, as pandas reads them)
    f32 = np.float32
    scale = _DOSE_SCALE[dose_idx] * _TIME_SCALE[time_idx]
    X = early.astype(f32)[drug_of_row]
    late_rows = late.astype(f32)[drug_of_row]
    late_rows *= _LATE_WEIGHT[time_idx].astype(f32)[:, None]
    X += late_rows
    del late_rows
    X *= (scale / 4.0).astype(f32)[:, None]
    np.tanh(X, out=X)  # saturation
    X *= f32(4.0)

    viability = tox_drug[drug_of_row] * scale + rng.normal(scale=0.15, size=n_rows)
    death = np.logaddexp(0.0, 4.0 * (viability - 0.9)) / 4.0 * 5.0  # softplus threshold
    death = np.minimum(death, 12.0)

    # baseline: correlated gene modules + heavy tailed noise; cells share a factor
    n_modules = 8
    Wg = rng.normal(size=(n_modules, n_genes)) * (rng.random((n_modules, n_genes)) < 0.3)
    Z = rng.normal(size=(n_rows, n_modules)).astype(f32)
    eps = rng.standard_normal((n_rows, n_features), dtype=f32)
    heavy = rng.random((n_rows, n_features), dtype=f32) < 0.03
    np.multiply(eps, f32(3.0), out=eps, where=heavy)
    del heavy
    eps *= f32(0.55 * noise)
    X += eps
    del eps
    X[:, :n_genes] += Z @ (0.35 * noise * Wg).astype(f32)
    cell_factor = rng.normal(scale=0.35 * noise, size=n_rows)
    death_genes = rng.normal(scale=0.6, size=n_genes) * (rng.random(n_genes) < 0.4)
    cell_load = rng.uniform(0.6, 1.3, size=n_cells)
    X[:, :n_genes] += np.outer(death, death_genes).astype(f32)
    X[:, n_genes:] += (cell_factor[:, None] - death[:, None] * cell_load).astype(f32)
    np.clip(X[:, :n_genes], -10.0, 10.0, out=X[:, :n_genes])
    np.clip(X[:, n_genes:], -10.0, 6.0, out=X[:, n_genes:])

    # --- frames -----------------------------------------------------------------
    sig_hex = _unique_hex(n_rows, rng)
    sig_ids = np.array(["id_" + h for h in sig_hex], dtype=object)
    gene_names = [f"{GENE_PREFIX}{i}" for i in range(n_genes)]
    cell_names = [f"{CELL_PREFIX}{i}" for i in range(n_cells)]
    cp_type = np.where(row_control, CONTROL_TYPE, "trt_cp").astype(object)
    cp_time = np.asarray(CP_TIMES, dtype=np.int64)[time_idx]
    cp_dose = np.asarray(CP_DOSES, dtype=object)[dose_idx]

    def frames(mask):
        order = np.flatnonzero(mask)
        order = order[np.argsort(sig_ids[order], kind="stable")]  # Kaggle files are sorted
        index = pd.Index(sig_ids[order].tolist(), name=ID_COLUMN)
        feats = pd.concat(
            [
                pd.DataFrame(
                    {
                        "cp_type": cp_type[order].tolist(),
                        "cp_time": cp_time[order],
                        "cp_dose": cp_dose[order].tolist(),
                    },
                    index=index,
                ),
                pd.DataFrame(
                    X[order].astype(np.float64), index=index, columns=gene_names + cell_names
                ),
            ],
            axis=1,
        )
        targets = pd.DataFrame(Y[drug_of_row[order]].astype(np.int64), index=index, columns=target_names)
        ns = pd.DataFrame(Yn[drug_of_row[order]].astype(np.int64), index=index, columns=nonscored_names)
        drugs = pd.Series(drug_hex[drug_of_row[order]].tolist(), index=index, name=DRUG_COLUMN)
        return feats, targets, ns, drugs

    features, targets, ns_targets, drugs = frames(~split)
    test_features, test_targets, _, test_drugs = frames(split)
    descr = (
        "Synthetic LISH-MoA data (sklearn_moa.datasets.make_moa)\n"
        f"train: {len(features)} rows, {drugs.nunique()} drugs; "
        f"test: {len(test_features)} rows from new drugs.\n"
        f"{n_genes} gene (g-*) and {n_cells} cell (c-*) columns; {n_scored} scored and "
        f"{n_nonscored} non-scored targets with the real training set's prevalences.\n"
        "Labels are constant within a drug; ctl_vehicle rows carry no MoA.\n"
        "Signal: sparse per-target signatures (partly time dependent; non-scored ones share\n"
        "those of related scored targets) x drug potency x\n"
        "dose/time, plus a drug-specific effect shared by replicates, tanh saturation,\n"
        "a cell-death threshold on cytotoxic drugs, heavy tailed row noise."
    )
    return Bunch(
        features=features,
        targets=targets,
        nonscored_targets=ns_targets,
        drugs=drugs,
        test_features=test_features,
        target_names=target_names,
        nonscored_target_names=nonscored_names,
        test_targets=test_targets,
        test_drugs=test_drugs,
        DESCR=descr,
    )
