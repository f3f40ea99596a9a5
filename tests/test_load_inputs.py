"""load_moa and the command on awkward inputs: compressed files, empty files, bad values."""

import gzip
import os
import shutil
import zipfile

import numpy as np
import pytest

from sklearn_moa.cli import main
from sklearn_moa.datasets import load_moa, make_moa

from .conftest import write_kaggle_files

FILES = ["train_features.csv", "train_targets_scored.csv", "train_targets_nonscored.csv",
         "train_drug.csv", "test_features.csv"]


@pytest.fixture(scope="module")
def data():
    return make_moa(200, n_test_samples=40, random_state=0)


@pytest.fixture(scope="module")
def plain_dir(data, tmp_path_factory):
    return write_kaggle_files(data, tmp_path_factory.mktemp("lish-moa"))


@pytest.fixture
def folder(plain_dir, tmp_path):
    copy = tmp_path / "lish-moa"
    shutil.copytree(plain_dir, copy)
    return copy


def assert_same(loaded, reference):
    for name in ("features", "targets", "nonscored_targets", "test_features"):
        assert loaded[name].equals(reference[name]), name
    assert loaded.drugs.equals(reference.drugs)


def one_line_error(capsys, argv):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sklearn-moa: error: "), captured.err
    return lines[0]


# --------------------------------------------------------------------------- compressed


def test_gz_and_zip_files_read_like_plain_ones(folder, plain_dir):
    reference = load_moa(plain_dir)
    for i, name in enumerate(FILES):
        path = folder / name
        if i % 2:
            with gzip.open(f"{path}.gz", "wb") as out:
                out.write(path.read_bytes())
        else:
            with zipfile.ZipFile(f"{path}.zip", "w", zipfile.ZIP_DEFLATED) as out:
                out.write(path, name)
        os.remove(path)
    assert_same(load_moa(folder), reference)


@pytest.mark.parametrize("subfolder", ["", "lish-moa/"])
def test_the_competition_zip_is_read_directly(plain_dir, tmp_path, subfolder, capsys):
    archive = tmp_path / "lish-moa.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name in FILES:
            out.write(plain_dir / name, subfolder + name)
        out.writestr(subfolder + "sample_submission.csv", "sig_id\n")
    assert_same(load_moa(archive), load_moa(plain_dir))
    model = tmp_path / "m.skmoa"
    assert main(["train", "--data", str(archive), "--model", "prior", "--out", str(model),
                 "--quiet"]) == 0
    assert main(["predict", "--model", str(model), "--data", str(archive),
                 "--out", str(tmp_path / "s.csv")]) == 0


def test_a_file_that_is_not_what_its_name_says_is_named(folder, capsys):
    path = folder / "train_targets_scored.csv"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match="train_targets_scored.csv is not UTF-8 text: it looks "
                                         "like a gzip file.*name it after its compression"):
        load_moa(folder)
    (folder / "train_features.csv.gz").write_bytes(b"not gzip at all")
    os.remove(folder / "train_features.csv")
    with pytest.raises(ValueError, match="train_features.csv.gz could not be read as CSV"):
        load_moa(folder)
    (folder / "bad.zip").write_bytes(b"PK\x03\x04 broken")
    line = one_line_error(capsys, ["train", "--data", str(folder / "bad.zip"), "--model", "prior",
                                   "--out", str(folder / "m.skmoa")])
    assert "bad.zip" in line and "zip archive" in line


def test_a_utf16_file_says_so(folder):
    path = folder / "train_drug.csv"
    path.write_bytes(path.read_text().encode("utf-16"))
    with pytest.raises(ValueError, match="train_drug.csv is not UTF-8 text: it looks like UTF-16"):
        load_moa(folder)


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize("name,other", [("train_features.csv", "872 non-numeric"),
                                        ("train_targets_scored.csv", "non-numeric target")])
def test_a_file_with_a_header_and_no_rows_says_so(folder, name, other):
    path = folder / name
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match=f"^{name} has a header but no rows.$"):
        load_moa(folder)
    path.write_text("")
    with pytest.raises(ValueError, match=f"^{name} is empty"):
        load_moa(folder)


def test_one_bad_cp_time_names_its_row_and_value_only(folder, data):
    frame = data.features.copy()
    frame["cp_time"] = frame["cp_time"].astype(object)
    frame.iloc[3, frame.columns.get_loc("cp_time")] = "x"
    frame.to_csv(folder / "train_features.csv")
    with pytest.raises(ValueError) as error:
        load_moa(folder)
    message = str(error.value)
    assert f"1 row with unknown cp_time values 'x' (rows {frame.index[3]})" in message
    assert "'24'" not in message and "allowed values are 24, 48, 72." in message


def test_an_out_of_range_value_prints_as_written(folder, data):
    frame = data.features.copy()
    frame.iloc[[5, 9], frame.columns.get_loc("cp_time")] = 36
    frame.to_csv(folder / "train_features.csv")
    with pytest.raises(ValueError, match=r"2 rows with unknown cp_time values 36 \(rows "
                                         rf"{frame.index[5]}, {frame.index[9]}\)") as error:
        load_moa(folder)
    assert "np." not in str(error.value)


def test_text_in_a_number_column_names_the_cell(folder, data):
    frame = data.features.copy()
    frame["g-5"] = frame["g-5"].astype(object)
    frame.iloc[7, frame.columns.get_loc("g-5")] = "1.2.3"
    frame.to_csv(folder / "train_features.csv")
    with pytest.raises(ValueError, match=rf"non-numeric values in 1 feature column: "
                                         rf"g-5='1.2.3' in row {frame.index[7]}$"):
        load_moa(folder)


# --------------------------------------------------------------------------- what train reads


def test_train_reads_only_the_files_it_uses(folder, tmp_path, capsys):
    (folder / "test_features.csv").write_text("garbage\n1,2\n")
    (folder / "train_targets_nonscored.csv").write_text("")
    assert main(["train", "--data", str(folder), "--model", "prior",
                 "--out", str(tmp_path / "m.skmoa"), "--quiet"]) == 0
    # ... but predict reads test_features.csv, and --pretrain the non-scored targets.
    line = one_line_error(capsys, ["predict", "--model", str(tmp_path / "m.skmoa"),
                                   "--data", str(folder), "--out", str(tmp_path / "s.csv")])
    assert "test_features.csv" in line
    assert not np.any([p.name == "s.csv" for p in tmp_path.iterdir()])
