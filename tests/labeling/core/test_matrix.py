import numpy as np
import pandas as pd
import pytest

from labeling import LabelMatrix, check_label_matrix, covered_rows, label_coverage


def test_wrench_votes_are_int8_with_ids(youtube):
    L = youtube.train.L
    assert L.dtype == np.int8
    assert L.shape == (1686, 10)
    assert L.index[0] == "0" and L.index[-1] == "1685"
    assert np.asarray(L) is L.values  # no copy when viewed as an array


@pytest.mark.parametrize("split", ["train", "test"])
def test_save_load_roundtrip(tmp_path, trec, split):
    L = trec[split].L
    L.save(tmp_path / "L.npz")
    back = LabelMatrix.load(tmp_path / "L.npz")
    assert back == L
    assert back.dtype == L.dtype


def test_save_load_integer_index(tmp_path):
    L = LabelMatrix(np.array([[0, -1], [1, 1]]), lf_names=["a", "b"], index=[10, 20])
    L.save(tmp_path / "m.npz")
    back = LabelMatrix.load(tmp_path / "m.npz")
    assert back.index.tolist() == [10, 20]
    assert back.to_dataframe().loc[20, "b"] == 1


def test_to_dataframe_and_select(youtube):
    df = youtube.test.L.to_dataframe()
    assert list(df.columns) == [f"lf_{j}" for j in range(10)]
    assert df.index.equals(youtube.test.data.index)
    sub = youtube.test.L.select_lfs(["lf_3", "lf_1"])
    assert np.array_equal(sub.values, youtube.test.L.values[:, [3, 1]])
    with pytest.raises(KeyError, match="No LF named"):
        youtube.test.L.select_lfs(["nope"])


def test_out_of_range_vote_names_row_and_lf():
    L = LabelMatrix(np.array([[0, -1], [1, 5]]), lf_names=["lf_a", "lf_refund"])
    with pytest.raises(ValueError, match=r"L\[1, 1\] \(LF 'lf_refund'\) is 5; expected -1 or 0..2 for cardinality=3"):
        check_label_matrix(L, cardinality=3)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([0, 1, -1]), "must be 2-D"),
        (np.zeros((0, 3), dtype=int), "no rows"),
        (np.array([[0.0, np.nan]]), r"L\[0, 1\] is nan"),
        (np.array([[0.5, 1.0]]), r"L\[0, 0\] is 0.5"),
        (np.array([[-2, 0]]), r"L\[0, 0\] is -2"),
        (np.array([["a", "b"]]), "integer votes"),
        (np.array([[True, False]]), "integer votes"),
    ],
)
def test_check_label_matrix_rejects(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_label_matrix(bad)


def test_integral_floats_and_dataframes_are_accepted():
    arr = check_label_matrix(np.array([[0.0, -1.0]]))
    assert arr.dtype.kind == "i" and arr.tolist() == [[0, -1]]
    df = pd.DataFrame({"x": [0, 1], "y": [-1, 7]})
    with pytest.raises(ValueError, match=r"\(LF 'y'\) is 7"):
        check_label_matrix(df, cardinality=2)


def test_lf_name_and_index_checks():
    with pytest.raises(ValueError, match="appear more than once"):
        LabelMatrix(np.zeros((2, 2), dtype=int), lf_names=["a", "a"])
    with pytest.raises(ValueError, match="3 row ids for 2 rows"):
        LabelMatrix(np.zeros((2, 2), dtype=int), index=[1, 2, 3])


def test_load_rejects_foreign_npz(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a votewise label matrix"):
        LabelMatrix.load(tmp_path / "x.npz")


def test_covered_rows_marks_the_rows_with_a_vote(youtube):
    votes = [[0, -1], [-1, -1], [-1, 1]]
    expected = [True, False, True]
    for L in (votes, np.asarray(votes, dtype=np.int8), LabelMatrix(votes), pd.DataFrame(votes)):
        out = covered_rows(L)
        assert out.dtype == bool and out.tolist() == expected
    L = youtube.train.L
    assert covered_rows(L).mean() == pytest.approx(label_coverage(L))
    assert not covered_rows(L).all()  # the bundled data has rows every LF abstains on
    with pytest.raises(ValueError, match=r"must be 2-D .* votes\.reshape\(-1, 1\)"):
        covered_rows(np.array([0, -1, 1]))
