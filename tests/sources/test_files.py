import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA, EXAMPLES
from sources import from_pandas, read_csv, read_jsonl, read_parquet, read_table, read_wrench

UCI = EXAMPLES / "youtube_spam" / "data"


@pytest.mark.parametrize(
    "name, sizes, k, m",
    [("youtube", (1686, 120, 250), 2, 10), ("trec", (5033, 500, 500), 6, 68)],
)
def test_read_wrench_shapes_and_names(name, sizes, k, m):
    ds = read_wrench(DATA / name)
    assert tuple(len(ds[s]) for s in ("train", "valid", "test")) == sizes
    assert ds.cardinality == k and len(ds.class_names) == k
    assert all(ds[s].L.shape == (len(ds[s]), m) for s in ds)
    assert ds.train.data.columns.tolist() == ["text"]
    assert ds.train.y.min() == 0 and ds.train.y.max() == k - 1


def test_read_wrench_content(youtube):
    assert youtube.class_names == ["HAM", "SPAM"]
    assert youtube.test.data.loc["0", "text"].startswith(youtube.test.data.text.iloc[0][:10])
    # Class counts of the test split as documented for the benchmark.
    assert np.bincount(youtube.test.y).tolist() == [132, 118]


def test_read_wrench_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no label.json"):
        read_wrench(tmp_path)
    (tmp_path / "label.json").write_text('{"0": "A", "1": "B"}')
    with pytest.raises(FileNotFoundError, match="has none of"):
        read_wrench(tmp_path)
    (tmp_path / "test.json").write_text(
        json.dumps({"0": {"label": 0, "weak_labels": [0, -1], "data": {"text": "a"}},
                    "1": {"label": 1, "weak_labels": [1], "data": {"text": "b"}}})
    )
    with pytest.raises(ValueError, match="record '1' has 1 weak labels; earlier records have 2"):
        read_wrench(tmp_path)
    (tmp_path / "test.json").write_text('{"0": {"label": 0, "weak_labels": [0, -1]')
    with pytest.raises(ValueError, match=r"test.json: not valid JSON \(line 1"):
        read_wrench(tmp_path)
    with pytest.raises(KeyError, match="has no 'train' split"):
        read_wrench(DATA / "youtube", splits=["test"])["train"]


def test_read_csv_with_quoted_commas_and_newlines():
    df = read_csv(UCI / "Youtube01-Psy.csv", text_column="CONTENT", id_column="COMMENT_ID")
    assert len(df) == 350 and df.index.name == "id"
    assert df["CLASS"].value_counts().to_dict() == {1: 175, 0: 175}
    assert df["CONTENT"].str.contains(",").sum() > 20  # quoted commas stay inside the text
    eminem = read_csv(UCI / "Youtube04-Eminem.csv", text_column="CONTENT")
    assert len(eminem) == 448 and eminem["CONTENT"].str.contains("\n").any()  # embedded newlines too


def test_missing_text_column_names_the_columns():
    with pytest.raises(KeyError, match=r"no text column 'text'; the columns are \['COMMENT_ID'"):
        read_csv(UCI / "Youtube01-Psy.csv")


def test_duplicate_ids_are_rejected(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"id": [1, 2, 1], "text": ["a", "b", "c"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="duplicate value 1 \\(row 2\\)"):
        read_csv(path, id_column="id")


def test_jsonl_roundtrip_and_malformed_line(tmp_path, youtube):
    path = tmp_path / "x.jsonl"
    rows = youtube.valid.data.reset_index()
    path.write_text("\n".join(json.dumps(r) for r in rows.to_dict("records")) + "\n\n", encoding="utf-8")
    df = read_jsonl(path, id_column="id")
    assert df["text"].tolist() == youtube.valid.data["text"].tolist()
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[6] = '{"id": "x", "text": "unterminated'
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.jsonl, line 7: malformed JSON"):
        read_jsonl(path)
    path.write_text('["not", "an", "object"]\n')
    with pytest.raises(ValueError, match="line 1: expected a JSON object, got list"):
        read_jsonl(path)


def test_parquet_and_read_table_dispatch(tmp_path, trec):
    df = trec.valid.data.reset_index()
    df.to_parquet(tmp_path / "t.parquet")
    df.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    a = read_parquet(tmp_path / "t.parquet", id_column="id")
    b = read_table(tmp_path / "t.parquet", id_column="id")
    c = read_table(tmp_path / "t.tsv")
    assert a["text"].tolist() == b["text"].tolist() == c["text"].tolist() == trec.valid.data["text"].tolist()
    with pytest.raises(ValueError, match="unknown file type '.xlsx'"):
        read_table(tmp_path / "t.xlsx")


def test_missing_texts_become_empty_strings():
    df = from_pandas(pd.DataFrame({"text": ["a", None]}))
    assert df["text"].tolist() == ["a", ""]
    with pytest.raises(TypeError, match="Expected a pandas DataFrame"):
        from_pandas([1, 2])


def test_read_table_format_overrides_the_extension_and_looks_past_compression(tmp_path):
    df = pd.DataFrame({"text": ["a b", "c"], "n": [1, 2]})
    df.to_csv(tmp_path / "rows.txt", sep="\t", index=False)
    df.to_csv(tmp_path / "rows.csv.gz", index=False)
    assert read_table(tmp_path / "rows.txt", format="tsv")["text"].tolist() == ["a b", "c"]
    assert read_table(tmp_path / "rows.csv.gz")["n"].tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"format='xlsx' is not one of \['csv', 'tsv', 'jsonl', 'parquet'\]"):
        read_table(tmp_path / "rows.txt", format="xlsx")


def test_text_column_gives_lfs_x_text_whatever_the_file_calls_it(tmp_path):
    from labeling import apply_lfs, labeling_function
    from sources import read_csv

    path = tmp_path / "comments.csv"
    path.write_text("CONTENT,CLASS\ncheck out my channel,1\nlovely song,0\n", encoding="utf-8")

    @labeling_function()
    def check_out(x):
        return 1 if "check out" in x.text else -1

    df = read_csv(path, text_column="CONTENT")
    assert df["text"].tolist() == df["CONTENT"].tolist()
    assert apply_lfs(df, [check_out]).values[:, 0].tolist() == [1, -1]
    both = tmp_path / "both.csv"
    both.write_text("text,CONTENT\na,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"both\.csv has a column 'text' besides the text column 'CONTENT'"):
        read_csv(both, text_column="CONTENT")
