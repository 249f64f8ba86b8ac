import importlib.util

import numpy as np
import pandas as pd

from tests.conftest import EXAMPLES
from labeling import LabelMatrix, covered_rows


def _load_example():
    spec = importlib.util.spec_from_file_location("youtube_example", EXAMPLES / "youtube_spam" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_youtube_example_end_to_end(tmp_path, capsys):
    example = _load_example()
    labelled = example.main(tmp_path, n_review=5)
    out = capsys.readouterr().out
    assert "most uncertain training comments" in out
    # Comments no LF voted on carry only the class prior: left out of the CSV by default, and counted.
    L_train = LabelMatrix.load(tmp_path / "L_train.npz")
    covered = covered_rows(L_train)
    n_uncovered = int((~covered).sum())
    assert len(covered) == 1586 and 0 < n_uncovered < 1586
    assert f"left out {n_uncovered} of 1586 comments no LF voted on" in out
    assert labelled.index.is_unique and labelled["covered"].all()
    assert labelled.index.tolist() == L_train.index[covered].tolist()
    csv = pd.read_csv(tmp_path / "labelled_train.csv", index_col="id")
    assert len(csv) == len(labelled) == 1586 - n_uncovered and csv["covered"].all()
    assert set(labelled["label"]) <= {-1, 0, 1}
    np.testing.assert_allclose(labelled["prob_spam"].between(0, 1), True)
    for name in ("labelled_train.csv", "L_train.npz", "lf_summary.png"):
        assert (tmp_path / name).stat().st_size > 0
    # Gold labels of the training videos were never used; the weak labels must still agree with them.
    train = example.load_comments(sorted((EXAMPLES / "youtube_spam" / "data").glob("Youtube0*.csv"))[:4])
    agree = labelled["label"].to_numpy() == train.loc[labelled.index, "gold"].to_numpy()
    assert agree.mean() > 0.85


def test_youtube_example_keeps_uncovered_rows_on_request(tmp_path, capsys):
    example = _load_example()
    labelled = example.main(tmp_path, n_review=1, drop_uncovered=False)
    out = capsys.readouterr().out
    assert len(labelled) == 1586 and "left out" not in out
    csv = pd.read_csv(tmp_path / "labelled_train.csv", index_col="id")
    assert len(csv) == 1586
    assert csv["covered"].tolist() == covered_rows(LabelMatrix.load(tmp_path / "L_train.npz")).tolist()
    assert not csv["covered"].all()
