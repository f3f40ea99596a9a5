"""Property-based fuzzing of malformed Kaggle folders through the command.

Whatever is wrong with a folder (columns dropped, renamed, duplicated, types
swapped, values out of range, rows truncated or duplicated, other encodings or
compressions, files emptied or missing), ``train`` and ``predict`` either
end with one ``sklearn-moa: error: ...`` line and status 2, or succeed with a
submission that is right for the data as it stands: never a traceback, never a
silently wrong file.

The default run is short (``SKLEARN_MOA_FUZZ_EXAMPLES``, 12 examples);
``benchmarks/fuzz_inputs.py`` runs it longer.
"""

import contextlib
import gzip
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_moa.cli import main  # noqa: E402
from sklearn_moa.datasets import make_moa  # noqa: E402

N_EXAMPLES = int(os.environ.get("SKLEARN_MOA_FUZZ_EXAMPLES", "12"))
FILES = ["train_features.csv", "train_targets_scored.csv", "train_targets_nonscored.csv",
         "train_drug.csv", "test_features.csv"]


def _base_frames():
    data = make_moa(80, n_test_samples=30, random_state=0)
    return {
        "train_features.csv": data.features.reset_index(),
        "train_targets_scored.csv": data.targets.reset_index(),
        "train_targets_nonscored.csv": data.nonscored_targets.reset_index(),
        "train_drug.csv": data.drugs.to_frame().reset_index(),
        "test_features.csv": data.test_features.reset_index(),
    }


BASE = _base_frames()
ODD_VALUES = [-1, 2, 0.5, 36, 1e308, float("nan"), float("inf"), "", "x", "D3", "trt_xx",
              "24", True, "é", "1,5", None]


@st.composite
def mutation(draw):
    """One change to one file: (file name, kind, details)."""
    name = draw(st.sampled_from(FILES))
    columns = list(BASE[name].columns)
    kind = draw(st.sampled_from([
        "drop_column", "rename_column", "duplicate_column", "swap_type", "set_value",
        "truncate_bytes", "drop_rows", "duplicate_row", "encoding", "compress", "empty",
        "header_only", "delete", "shuffle_rows",
    ]))
    # Favour the columns that carry meaning: the id, the treatment columns, the first ones.
    column = draw(st.one_of(st.sampled_from(columns[:6]), st.sampled_from(columns)))
    row = draw(st.integers(0, len(BASE[name]) - 1))
    value = draw(st.sampled_from(ODD_VALUES))
    fraction = draw(st.floats(0.0, 1.0))
    encoding = draw(st.sampled_from(["utf-16", "latin-1", "utf-8-sig"]))
    compression = draw(st.sampled_from(["gz-as-csv", "gz", "zip", "garbage-gz"]))
    return name, kind, dict(column=column, row=row, value=value, fraction=fraction,
                            encoding=encoding, compression=compression)


def _apply(frames, raw, name, kind, spec):
    """Change ``frames[name]`` (a DataFrame) or ``raw[name]`` (the file's bytes)."""
    frame = frames[name]
    column = spec["column"]
    if column not in frame.columns:  # an earlier mutation dropped or renamed it
        column = frame.columns[0]
    if kind == "drop_column":
        frames[name] = frame.drop(columns=[column])
    elif kind == "rename_column":
        frames[name] = frame.rename(columns={column: column + "_renamed"})
    elif kind == "duplicate_column":
        frames[name] = pd.concat([frame, frame[[column]]], axis=1)
    elif kind == "swap_type":
        frames[name] = frame.assign(**{column: frame[column].astype(str) + "x"})
    elif kind == "set_value":
        changed = frame.copy().astype({column: object})
        changed.iloc[spec["row"], changed.columns.get_loc(column)] = spec["value"]
        frames[name] = changed
    elif kind == "drop_rows":
        frames[name] = frame.iloc[: int(len(frame) * spec["fraction"])]
    elif kind == "duplicate_row":
        frames[name] = pd.concat([frame, frame.iloc[[spec["row"]]]])
    elif kind == "shuffle_rows":
        frames[name] = frame.sample(frac=1.0, random_state=spec["row"])
    elif kind == "delete":
        frames[name] = None
    else:
        text = frame.to_csv(index=False).encode()
        if kind == "truncate_bytes":
            raw[name] = text[: int(len(text) * spec["fraction"])]
        elif kind == "encoding":
            raw[name] = text.decode().replace("trt_cp", "trt_cp\u00e9", 1).encode(spec["encoding"]) \
                if spec["encoding"] == "latin-1" else text.decode().encode(spec["encoding"])
        elif kind == "compress":
            raw[name] = (name, spec["compression"], text)
        elif kind == "empty":
            raw[name] = b""
        elif kind == "header_only":
            raw[name] = text.splitlines(keepends=True)[0]


def _write(folder, frames, raw):
    for name in FILES:
        if name in raw:
            content = raw[name]
            if isinstance(content, tuple):
                _, how, text = content
                if how == "gz-as-csv":
                    (folder / name).write_bytes(gzip.compress(text))
                elif how == "gz":
                    (folder / f"{name}.gz").write_bytes(gzip.compress(text))
                elif how == "zip":
                    import zipfile

                    with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
                        archive.writestr(name, text)
                else:
                    (folder / f"{name}.gz").write_bytes(b"\x1f\x8b not really gzip")
            else:
                (folder / name).write_bytes(content)
        elif frames[name] is not None:
            frames[name].to_csv(folder / name, index=False)


def _run(argv):
    """Run the command in-process: (status, stdout, stderr); a traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def _assert_one_line_error(status, out, err):
    assert status == 2, (status, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sklearn-moa: error: "), err
    assert "Traceback" not in out + err


def _check_submission(path, folder):
    """The submission is right for the data as it stands in ``folder``."""
    submission = pd.read_csv(path)
    test = pd.read_csv(next(folder.glob("test_features.csv*")))
    targets = pd.read_csv(next(folder.glob("train_targets_scored.csv*")), nrows=0)
    assert list(submission.columns) == list(targets.columns)
    assert submission["sig_id"].tolist() == test["sig_id"].tolist()
    proba = submission.drop(columns="sig_id").to_numpy(dtype=float)
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    controls = (test["cp_type"] == "ctl_vehicle").to_numpy()
    assert (proba[controls] == 0).all()
    assert (proba[~controls] > 0).all()


@settings(max_examples=N_EXAMPLES, deadline=None, derandomize=N_EXAMPLES <= 12,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_a_malformed_folder_gives_one_line_or_a_right_submission(mutations):
    frames = {name: frame.copy() for name, frame in BASE.items()}
    raw = {}
    for name, kind, spec in mutations:
        if frames[name] is None or name in raw:
            continue
        _apply(frames, raw, name, kind, spec)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "lish-moa"
        folder.mkdir()
        _write(folder, frames, raw)
        model = Path(tmp) / "m.skmoa"
        status, out, err = _run(["train", "--data", str(folder), "--model", "prior",
                                 "--out", str(model), "--quiet"])
        if status != 0:
            _assert_one_line_error(status, out, err)
            return
        submission = Path(tmp) / "submission.csv"
        status, out, err = _run(["predict", "--model", str(model), "--data", str(folder),
                                 "--out", str(submission)])
        if status != 0:
            _assert_one_line_error(status, out, err)
            assert not submission.exists()
            return
        _check_submission(submission, folder)
