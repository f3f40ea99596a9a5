"""Tests of the sklearn_moa.datasets layer (reader, generator, validation, submission)."""

import re
import shutil

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from sklearn_moa.datasets import (
    CELL_COLUMNS,
    CONTROL_TYPE,
    FEATURE_COLUMNS,
    GENE_COLUMNS,
    check_moa_features,
    load_moa,
    make_moa,
    nonscored_target_names,
    scored_target_names,
    write_submission,
)
from sklearn_moa.datasets._columns import (
    labels_per_drug_facts,
    nonscored_target_facts,
    rows_per_drug_facts,
    scored_target_facts,
)

SMALL = 600


@pytest.fixture(scope="module")
def small():
    return make_moa(SMALL, n_test_samples=150, random_state=0)


@pytest.fixture(scope="module")
def full():
    return make_moa(random_state=1)


_FILES = (
    "train_features.csv",
    "train_targets_scored.csv",
    "train_targets_nonscored.csv",
    "train_drug.csv",
    "test_features.csv",
)


@pytest.fixture(scope="module")
def _template_dir(small, tmp_path_factory):
    return _write_folder_slow(small, tmp_path_factory.mktemp("kaggle"))


def _write_folder_slow(d, folder, *, shuffle_seed=None, test=True, drugs=True, nonscored=True):
    rng = np.random.default_rng(shuffle_seed)

    def maybe_shuffle(frame):
        if shuffle_seed is None:
            return frame
        return frame.iloc[rng.permutation(len(frame))]

    d.features.to_csv(folder / "train_features.csv")
    maybe_shuffle(d.targets).to_csv(folder / "train_targets_scored.csv")
    if nonscored:
        maybe_shuffle(d.nonscored_targets).to_csv(folder / "train_targets_nonscored.csv")
    if drugs:
        maybe_shuffle(d.drugs.to_frame()).to_csv(folder / "train_drug.csv")
    if test:
        d.test_features.to_csv(folder / "test_features.csv")
    return folder


def _write_folder(d, folder, *, shuffle_seed=None, test=True, drugs=True, nonscored=True,
                  template=None):
    """Kaggle layout in ``folder``; copies the pre-written files where possible."""
    if template is None or shuffle_seed is not None:
        return _write_folder_slow(d, folder, shuffle_seed=shuffle_seed, test=test,
                                  drugs=drugs, nonscored=nonscored)
    keep = {"train_targets_nonscored.csv": nonscored, "train_drug.csv": drugs,
            "test_features.csv": test}
    for name in _FILES:
        if keep.get(name, True):
            shutil.copy(template / name, folder / name)
    return folder


# --------------------------------------------------------------------------- load


def test_round_trip_shuffled_files(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, shuffle_seed=3)
    # the shuffle really changed the order of the targets file
    raw = pd.read_csv(tmp_path / "train_targets_scored.csv")
    assert not raw["sig_id"].equals(pd.Series(small.targets.index, name="sig_id"))

    data = load_moa(tmp_path)
    assert_frame_equal(data.features, small.features)
    assert_frame_equal(data.targets, small.targets)
    assert_frame_equal(data.nonscored_targets, small.nonscored_targets)
    assert_series_equal(data.drugs, small.drugs)
    assert_frame_equal(data.test_features, small.test_features)
    assert data.target_names == small.target_names == scored_target_names()
    assert data.nonscored_target_names == nonscored_target_names()
    assert list(data.features.columns) == list(FEATURE_COLUMNS)
    assert data.features.index.name == "sig_id"
    assert data.features[list(GENE_COLUMNS)].dtypes.eq(np.float64).all()


def test_optional_files_absent_give_none(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, test=False, drugs=False, nonscored=False,
                  template=_template_dir)
    data = load_moa(str(tmp_path))
    assert data.nonscored_targets is None
    assert data.drugs is None
    assert data.test_features is None
    assert data.nonscored_target_names is None
    assert data.targets.shape == (SMALL, 206)


def test_features_column_order_is_normalised(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, test=False, template=_template_dir)
    shuffled = small.features[list(reversed(small.features.columns))]
    shuffled.to_csv(tmp_path / "train_features.csv")
    data = load_moa(tmp_path)
    assert_frame_equal(data.features, small.features)


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_moa(tmp_path / "nope")


@pytest.mark.parametrize("name", ["train_features.csv", "train_targets_scored.csv"])
def test_missing_required_file(small, tmp_path, name, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    (tmp_path / name).unlink()
    with pytest.raises(ValueError, match=f"{re.escape(name)} is required but was not found"):
        load_moa(tmp_path)


def test_missing_feature_columns(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    # feature checks run before the id alignment: a few rows are enough
    small.features.iloc[:20].drop(columns=["g-5", "g-6", "g-7"]).to_csv(
        tmp_path / "train_features.csv"
    )
    msg = "train_features.csv is missing 3 of the 772 gene columns: g-5, g-6, g-7"
    with pytest.raises(ValueError, match=re.escape(msg)):
        load_moa(tmp_path)


def test_missing_test_cell_columns(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    small.test_features.iloc[:20].drop(columns=["c-99"]).to_csv(tmp_path / "test_features.csv")
    with pytest.raises(ValueError, match=r"test_features.csv is missing 1 of the 100 cell"):
        load_moa(tmp_path)


def test_missing_sig_id_column(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    small.targets.reset_index(drop=True).to_csv(tmp_path / "train_targets_scored.csv")
    with pytest.raises(ValueError, match="train_targets_scored.csv is missing the 'sig_id'"):
        load_moa(tmp_path)


def test_ids_do_not_match(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    dropped = small.targets.index[[4, 9]]
    small.targets.drop(index=dropped).to_csv(tmp_path / "train_targets_scored.csv")
    with pytest.raises(ValueError) as info:
        load_moa(tmp_path)
    msg = str(info.value)
    assert msg.startswith("train_targets_scored.csv ids do not match train_features.csv")
    assert "2 sig_ids of train_features.csv are missing" in msg
    assert dropped[0] in msg and dropped[1] in msg


def test_extra_ids_in_drug_file(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    extra = pd.Series(["abcdef012"], index=pd.Index(["id_ffffffff0"], name="sig_id"),
                      name="drug_id")
    pd.concat([small.drugs, extra]).to_frame().to_csv(tmp_path / "train_drug.csv")
    with pytest.raises(ValueError, match=r"train_drug.csv ids do not match.*1 sig_ids are not in"
                                         r".*id_ffffffff0"):
        load_moa(tmp_path)


def test_duplicated_ids(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    ns = small.nonscored_targets
    pd.concat([ns, ns.iloc[[7]]]).to_csv(tmp_path / "train_targets_nonscored.csv")
    with pytest.raises(
        ValueError,
        match=rf"train_targets_nonscored.csv has 1 duplicated sig_id values: {ns.index[7]}",
    ):
        load_moa(tmp_path)


def test_non_binary_target(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    bad = small.targets.copy()
    bad.iloc[3, bad.columns.get_loc("nfkb_inhibitor")] = 2
    bad.to_csv(tmp_path / "train_targets_scored.csv")
    with pytest.raises(ValueError, match=r"train_targets_scored.csv has non-0/1 .*nfkb_inhibitor"):
        load_moa(tmp_path)


def test_nan_target(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    bad = small.targets.astype(float)
    bad.iloc[5, bad.columns.get_loc("hdac_inhibitor")] = np.nan
    bad.to_csv(tmp_path / "train_targets_scored.csv")
    with pytest.raises(ValueError, match=r"train_targets_scored.csv has 1 NaN or infinite values in 1 target columns: "
                                         r"hdac_inhibitor"):
        load_moa(tmp_path)


@pytest.mark.parametrize(
    "column, value, pattern",
    [
        ("cp_type", "trt_xx", r"train_features.csv has 1 rows with unknown cp_type .*'trt_xx'"),
        ("cp_dose", "D3", r"train_features.csv has 1 rows with unknown cp_dose .*'D3'"),
        ("cp_time", 96, r"train_features.csv has 1 rows with unknown cp_time .*96"),
    ],
)
def test_unknown_treatment_values(small, tmp_path, column, value, pattern, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    bad = small.features.iloc[:20].copy()
    bad.loc[bad.index[2], column] = value
    bad.to_csv(tmp_path / "train_features.csv")
    with pytest.raises(ValueError, match=pattern):
        load_moa(tmp_path)


def test_test_ids_overlapping_train(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    pd.concat([small.test_features, small.features.iloc[:3]]).to_csv(
        tmp_path / "test_features.csv"
    )
    with pytest.raises(ValueError, match="test_features.csv shares 3 sig_ids with train"):
        load_moa(tmp_path)


def test_drug_file_without_drug_id(small, tmp_path, _template_dir):
    _write_folder(small, tmp_path, template=_template_dir)
    small.drugs.rename("compound").to_frame().to_csv(tmp_path / "train_drug.csv")
    with pytest.raises(ValueError, match="train_drug.csv is missing the 'drug_id' column"):
        load_moa(tmp_path)


# --------------------------------------------------------------------------- validation


def test_check_moa_features_accepts_valid(small):
    assert check_moa_features(small.features) is None
    assert check_moa_features(small.test_features, source="test") is None


def test_check_moa_features_not_a_frame(small):
    with pytest.raises(ValueError, match="X must be a pandas DataFrame.*ndarray"):
        check_moa_features(small.features.to_numpy())


def test_check_moa_features_missing_columns_and_flags(small):
    X = small.features.drop(columns=[f"g-{i}" for i in range(10)] + ["cp_type"])
    with pytest.raises(ValueError, match=r"^mydata is missing 1 of the 3 treatment columns: "
                                         r"cp_type$"):
        check_moa_features(X, source="mydata")
    with pytest.raises(ValueError, match=r"missing 10 of the 772 gene columns: g-0, g-1, g-2, "
                                         r"g-3, g-4, \.\.\."):
        check_moa_features(X, require_treatment=False)
    assert check_moa_features(X, require_treatment=False, require_genes=False) is None
    cells_only = small.features[list(CELL_COLUMNS)]
    assert check_moa_features(cells_only, require_genes=False, require_treatment=False) is None


def test_check_moa_features_nonfinite(small):
    X = small.features.copy()
    X.iloc[0, X.columns.get_loc("g-10")] = np.nan
    X.iloc[1, X.columns.get_loc("c-3")] = np.inf
    with pytest.raises(ValueError, match=r"X has 2 NaN or infinite values in 2 feature columns: "
                                         r"g-10, c-3"):
        check_moa_features(X)


def test_check_moa_features_non_numeric(small):
    X = small.features.copy()
    X["g-1"] = "a"
    with pytest.raises(ValueError, match="non-numeric feature columns: g-1"):
        check_moa_features(X)


# --------------------------------------------------------------------------- make_moa


def test_layout_matches_kaggle(small):
    f = small.features
    assert list(f.columns) == list(FEATURE_COLUMNS)
    assert f.index.name == "sig_id" and small.targets.index.name == "sig_id"
    assert f.index.is_unique and f.index.is_monotonic_increasing
    assert f.index.str.fullmatch(r"id_[0-9a-f]{9}").all()
    assert small.drugs.str.fullmatch(r"[0-9a-f]{9}").all()
    assert small.drugs.name == "drug_id"
    assert f["cp_time"].dtype == np.int64
    assert (f[list(GENE_COLUMNS) + list(CELL_COLUMNS)].dtypes == np.float64).all()
    assert (small.targets.dtypes == np.int64).all()
    assert list(small.targets.columns) == scored_target_names()
    assert list(small.nonscored_targets.columns) == nonscored_target_names()
    for frame in (small.targets, small.nonscored_targets, small.drugs):
        assert frame.index.equals(f.index)
    assert small.test_targets.index.equals(small.test_features.index)
    assert list(small.test_targets.columns) == scored_target_names()
    assert isinstance(small.DESCR, str) and "Synthetic" in small.DESCR


def test_test_split_is_new_drugs(small):
    assert not set(small.test_features.index) & set(small.features.index)
    control_drug = small.drugs[small.features.cp_type == CONTROL_TYPE].unique()
    assert len(control_drug) == 1
    treated_test = small.test_drugs[small.test_features.cp_type != CONTROL_TYPE]
    treated_train = small.drugs[small.features.cp_type != CONTROL_TYPE]
    assert not set(treated_test) & set(treated_train)
    assert (small.test_features.cp_type == CONTROL_TYPE).sum() > 0
    assert small.test_targets[small.test_features.cp_type == CONTROL_TYPE].to_numpy().sum() == 0


def test_determinism():
    a = make_moa(200, n_test_samples=50, random_state=7)
    b = make_moa(200, n_test_samples=50, random_state=7)
    c = make_moa(200, n_test_samples=50, random_state=8)
    for key in ("features", "targets", "nonscored_targets", "test_features", "test_targets"):
        assert_frame_equal(a[key], b[key])
    assert_series_equal(a.drugs, b.drugs)
    assert not a.features.index.equals(c.features.index)
    assert not np.allclose(a.features["g-0"].to_numpy(), c.features["g-0"].to_numpy()[:200])


def test_random_state_instance_is_accepted():
    a = make_moa(100, n_test_samples=0, random_state=np.random.RandomState(3))
    b = make_moa(100, n_test_samples=0, random_state=np.random.RandomState(3))
    assert_frame_equal(a.features, b.features)
    assert a.test_features.shape == (0, 875)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"n_samples": 10.5}, "n_samples must be an integer"),
        ({"n_test_samples": -1}, "n_test_samples must be an integer >= 0"),
        ({"noise": -1.0}, "noise must be a finite float >= 0"),
    ],
)
def test_make_moa_bad_parameters(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        make_moa(**{"n_samples": 50, **kwargs})


def test_small_n_scales_structure(small):
    rows_per_drug = small.drugs.value_counts()
    ctl_drug = small.drugs[small.features.cp_type == CONTROL_TYPE].iloc[0]
    frequent = rows_per_drug.drop(ctl_drug)
    assert (frequent > 18).sum() >= 2          # a few very frequent drugs are kept
    assert frequent.median() == 6              # most drugs: 3 times x 2 doses
    ctl_frac = (small.features.cp_type == CONTROL_TYPE).mean()
    assert 0.06 < ctl_frac < 0.10
    # rare targets vanish at small n, frequent ones do not
    positives = small.targets.sum(axis=0)
    assert (positives == 0).sum() > 50
    assert positives["nfkb_inhibitor"] > 0
    assert check_moa_features(small.features) is None


def test_full_size_statistics(full):
    f, y, drugs = full.features, full.targets, full.drugs
    assert f.shape == (23814, 875) and y.shape == (23814, 206)
    assert full.test_features.shape == (3982, 875)
    ctl = (f.cp_type == CONTROL_TYPE).to_numpy()
    assert abs(ctl.mean() - 1866 / 23814) < 0.005
    assert y.to_numpy()[ctl].sum() == 0 and full.nonscored_targets.to_numpy()[ctl].sum() == 0
    no_moa = (y.sum(axis=1) == 0).mean()
    assert 0.36 < no_moa < 0.42

    # labels constant within a drug (scored and non-scored)
    assert (y.groupby(drugs).nunique() <= 1).all().all()
    assert (full.nonscored_targets.groupby(drugs).nunique() <= 1).all().all()

    facts = scored_target_facts()
    assert np.corrcoef(y.sum(axis=0).to_numpy(), facts.positive_rows)[0, 1] > 0.9
    drug_labels = y.groupby(drugs).max()
    assert np.corrcoef(drug_labels.sum(axis=0).to_numpy(), facts.positive_drugs)[0, 1] > 0.9
    ns_facts = nonscored_target_facts()
    ns_rows = full.nonscored_targets.sum(axis=0).to_numpy()
    assert np.corrcoef(ns_rows, ns_facts.positive_rows)[0, 1] > 0.9
    assert (ns_rows[ns_facts.positive_rows.to_numpy() == 0] == 0).all()

    # labels per drug: distribution close to the real one
    lpd = labels_per_drug_facts().set_index("labels_per_drug")["drugs"]
    syn = drug_labels.sum(axis=1).value_counts()
    n_drugs = drugs.nunique()
    assert abs(n_drugs - lpd.sum()) < 0.03 * lpd.sum()
    assert abs(syn.get(0, 0) - lpd[0]) < 0.05 * lpd.sum()
    assert abs(syn.get(1, 0) - lpd[1]) < 0.05 * lpd.sum()
    assert syn.get(1, 0) > 10 * syn.get(2, 0) > 0

    # rows per drug: 6 dominates, a handful of very frequent drugs, the vehicle
    rpd = drugs.value_counts()
    real = rows_per_drug_facts().set_index("rows_per_drug")["drugs"]
    assert abs((rpd == 6).sum() - real[6]) < 0.05 * real.sum()
    assert sorted(rpd[rpd > 19].tolist()) == sorted(real[real.index > 19].index.tolist())
    six = rpd.index[rpd == 6][:200]
    combos = f.loc[drugs.isin(six), ["cp_time", "cp_dose"]].groupby(drugs).nunique()
    assert (combos["cp_time"] == 3).all() and (combos["cp_dose"] == 2).all()

    # value ranges
    g = f[list(GENE_COLUMNS)].to_numpy()
    c = f[list(CELL_COLUMNS)].to_numpy()
    assert g.min() >= -10 and g.max() <= 10 and c.min() >= -10 and c.max() <= 6
    assert 0.6 < np.median(np.abs(g)) / 0.6745 < 1.3      # robust sd ~ N(0, 1)
    assert (np.abs(g) > 4).mean() > 1e-3                   # heavy tails
    assert (c < -5).mean() > 5e-3                          # cell-death tail
    assert (c > 6 - 1e-9).mean() < 1e-3 < (c < -10 + 1e-9).mean()

    # cytotoxic drugs push cell viability down
    cyt = y["proteasome_inhibitor"].to_numpy() == 1
    assert c[cyt].mean() < c[~cyt].mean() - 1.0


def test_features_carry_drug_signal(small):
    """Replicates of a drug are closer to each other than to other drugs."""
    f = small.features[list(GENE_COLUMNS)].to_numpy()
    drugs = small.drugs.to_numpy()
    treated = (small.features.cp_type != CONTROL_TYPE).to_numpy()
    f, drugs = f[treated], drugs[treated]
    same = drugs[:, None] == drugs[None, :]
    np.fill_diagonal(same, False)
    corr = np.corrcoef(f)
    other = ~same
    np.fill_diagonal(other, False)
    assert corr[same].mean() > corr[other].mean() + 0.05


# --------------------------------------------------------------------------- submission


def test_write_submission_layout(tmp_path):
    ids = ["id_b", "id_a", "id_c"]
    proba = np.array([[0.1, 0.2], [0.0, 1.0], [0.5, 0.25]])
    out = write_submission(ids, proba, ["t1", "t2"], tmp_path / "sub.csv")
    assert out == tmp_path / "sub.csv"
    text = out.read_text().splitlines()
    assert text[0] == "sig_id,t1,t2"
    assert text[1].startswith("id_b,0.1,0.2")
    back = pd.read_csv(out)
    assert back["sig_id"].tolist() == ids
    np.testing.assert_allclose(back[["t1", "t2"]].to_numpy(), proba)


def test_write_submission_dataframe_reordered(tmp_path):
    proba = pd.DataFrame({"t2": [0.2, 0.3], "t1": [0.7, 0.8]})
    out = write_submission(["x", "y"], proba, ["t1", "t2"], tmp_path / "s.csv")
    back = pd.read_csv(out)
    assert list(back.columns) == ["sig_id", "t1", "t2"]
    np.testing.assert_allclose(back["t1"], [0.7, 0.8])


@pytest.mark.parametrize(
    "ids, proba, names, pattern",
    [
        (["a", "b"], np.full((3, 2), 0.1), ["t1", "t2"], r"len\(sig_ids\) = 2 .*shape\[0\] = 3"),
        (["a", "b"], np.full((2, 2), 0.1), ["t1"], r"len\(target_names\) = 1 .*shape\[1\] = 2"),
        (["a", "b"], np.array([[0.1, np.nan], [0.2, 0.3]]), ["t1", "t2"], "NaN or infinite.*t2"),
        (["a", "b"], np.array([[0.1, 1.5], [-0.2, 0.3]]), ["t1", "t2"],
         r"2 values outside \[0, 1\] in columns: t1, t2"),
        (["a", "a"], np.full((2, 1), 0.1), ["t1"], "duplicated values: a"),
        (["a", "b"], np.full(2, 0.1), ["t1"], "must be 2-D"),
    ],
)
def test_write_submission_errors(tmp_path, ids, proba, names, pattern):
    path = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match=pattern):
        write_submission(ids, proba, names, path)
    assert not path.exists()


def test_signal_is_learnable_on_new_drugs_but_noisy(full):
    """A linear score learned on some drugs ranks positives of held-out drugs."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupShuffleSplit

    X = full.features[list(GENE_COLUMNS) + list(CELL_COLUMNS)].to_numpy()
    tr, te = next(GroupShuffleSplit(1, test_size=0.25, random_state=0).split(X, groups=full.drugs))
    assert not set(full.drugs.iloc[tr]) & set(full.drugs.iloc[te])
    aucs = []
    for target in ("cyclooxygenase_inhibitor", "dopamine_receptor_antagonist",
                   "glutamate_receptor_antagonist", "adrenergic_receptor_antagonist"):
        y = full.targets[target].to_numpy()
        w = (X[tr][y[tr] == 1].mean(axis=0) - X[tr][y[tr] == 0].mean(axis=0)) / X[tr].var(axis=0)
        aucs.append(roc_auc_score(y[te], X[te] @ w))
    assert 0.62 < np.mean(aucs) < 0.97
