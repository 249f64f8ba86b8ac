"""LFs that reach beyond their vote, and files that are not what they claim: each gets a clear error.

Row LFs may not change shared cells nor end the program; duplicate columns and ids are refused on
every path; damaged, truncated, crafted or oddly typed files name the file, line, field or LF.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from labeling import LabelingFunction, LabelMatrix, LFError, apply_lfs, labeling_function, preprocessor
from labeling.app.cli import main
from labeling.core.stream import apply_lfs_to_file, read_votes
from models import MajorityVote
from models.selection import fit_temperature, fit_with_validation, select_on_valid
from sources import read_table

from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def comments(youtube):
    return youtube["valid"].data[["text"]].reset_index(drop=True)


@labeling_function()
def lf_check(x):
    return 1 if "check" in x.text.lower() else -1


# --- family: LFs that change what they were given ----------------------------------------------

def _tagged(comments):
    df = comments.copy()
    df["tags"] = [["music"] if i % 2 else ["spam", "link"] for i in range(len(df))]
    df["meta"] = [{"lang": "en"} for _ in range(len(df))]
    return df


@pytest.mark.parametrize("change", [
    lambda x: x.tags.append("seen"), lambda x: x.meta.update(lang="fr"), lambda x: x.tags.sort(),
    lambda x: x.meta.pop("lang"),
])
def test_a_row_lf_changing_a_cell_in_place_is_stopped_and_the_callers_frame_kept(comments, change):
    df = _tagged(comments)
    before = df.copy(deep=True)
    before_cells = [list(t) for t in df.tags], [dict(m) for m in df.meta]

    @labeling_function()
    def lf_changes(x):
        change(x)
        return -1

    with pytest.raises(LFError, match=r"LF 'lf_changes' changed the (list|dict) in column '(tags|meta)' of row 0"):
        apply_lfs(df, [lf_changes, lf_check], progress=False)
    assert [list(t) for t in df.tags] == before_cells[0] and [dict(m) for m in df.meta] == before_cells[1]
    pd.testing.assert_frame_equal(df, before)


def test_the_lfs_after_a_reader_see_the_original_cells(comments):
    df = _tagged(comments)

    @labeling_function()
    def lf_reads(x):
        return 1 if len(x.tags) == 2 else 0

    @labeling_function()
    def lf_copies(x):
        tags = list(x.tags)  # the documented way: work on a copy
        tags.append("x")
        return len(tags) - 2

    L = apply_lfs(df, [lf_copies, lf_reads], progress=False, dedup=False)
    assert L.values[:, 1].tolist() == [1 if i % 2 == 0 else 0 for i in range(len(df))]
    assert [len(t) for t in df.tags] == [2 if i % 2 == 0 else 1 for i in range(len(df))]


def test_array_cells_are_read_only_and_a_preprocessor_changing_a_cell_names_the_lf(comments):
    df = comments.head(5).copy()
    df["vec"] = [np.zeros(3) for _ in range(len(df))]

    @labeling_function()
    def lf_writes_array(x):
        x.vec[0] = 1.0
        return -1

    with pytest.raises(LFError, match="lf_writes_array.*read-only"):
        apply_lfs(df, [lf_writes_array], progress=False)
    assert all((v == 0).all() for v in df.vec)

    @preprocessor()
    def tokens(x):
        x.tags.append("pre")  # its own copy of the row, but the same list cell
        return x

    df["tags"] = [["a"] for _ in range(len(df))]

    @labeling_function(pre=[tokens])
    def lf_pre(x):
        return -1

    with pytest.raises(LFError, match="LF 'lf_pre' changed the list in column 'tags'"):
        apply_lfs(df, [lf_pre], progress=False)
    assert [t for t in df.tags] == [["a"]] * len(df)


@pytest.mark.parametrize("how", ["exit0", "exit1", "builtin_exit", "vectorized"])
def test_an_lf_calling_sys_exit_is_an_lf_error(comments, how):
    if how == "vectorized":
        lf = LabelingFunction("lf_quits", lambda df: sys.exit(0), vectorized=True)
    else:
        code = {"exit0": 0, "exit1": 1, "builtin_exit": None}[how]

        @labeling_function(name="lf_quits")
        def lf(x):
            if "check" in x.text.lower():
                sys.exit(code)
            return -1

    with pytest.raises(LFError, match=r"LF 'lf_quits' called sys.exit\(.*\) on rows? .*must not end the program"):
        apply_lfs(comments, [lf], progress=False)
    with pytest.raises(LFError, match="lf_quits"):
        apply_lfs(comments, [lf], progress=False, fault_tolerant=True)  # a bug, never a failed row


def test_votewise_apply_exits_non_zero_when_an_lf_exits(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["check this", "hello"]}).to_csv(data, index=False)
    (tmp_path / "lfs.py").write_text(
        "import sys\nfrom labeling import labeling_function\n\n@labeling_function()\n"
        "def lf_exit(x):\n    sys.exit(0)\n"
    )
    assert main(["apply", "--data", str(data), "--lfs", str(tmp_path / "lfs.py"), "--out", str(tmp_path / "L"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "lf_exit" in err and "sys.exit(0)" in err and not (tmp_path / "L.npz").exists()
    (tmp_path / "top.py").write_text("import sys\nsys.exit(0)\n")
    assert main(["apply", "--data", str(data), "--lfs", str(tmp_path / "top.py"), "--out", str(tmp_path / "L"),
                 "--quiet"]) == 2
    assert "top.py, line 2: importing the LF file raised SystemExit" in capsys.readouterr().err


# --- family: two of what must be one -----------------------------------------------------------

def test_two_columns_of_one_name_are_refused_on_every_path(tmp_path, comments):
    df = pd.concat([comments.head(3), comments.head(3)], axis=1)
    with pytest.raises(ValueError, match=r"data has 2 columns named 'text' \(positions \[0, 1\]\)"):
        apply_lfs(df, [lf_check], progress=False)
    csv = tmp_path / "two.csv"
    csv.write_text("text,id,text\nfree,1,great song\n")
    with pytest.raises(ValueError, match=r"two\.csv, line 1: the header names the column 'text' twice \(fields 1 and 3\)"):
        read_table(csv)
    with pytest.raises(ValueError, match="names the column 'text' twice"):
        apply_lfs_to_file(csv, [lf_check], tmp_path / "v.npy", progress=False)
    jsonl = tmp_path / "two.jsonl"
    jsonl.write_text('{"text": "a"}\n{"text": "free", "id": 1, "text": "great song"}\n')
    with pytest.raises(ValueError, match=r"two\.jsonl, line 2: the key 'text' appears twice"):
        read_table(jsonl)
    ok = tmp_path / "ok.csv"
    ok.write_text("text,text.1\nfree,great\n")  # a column really named "text.1" is fine
    assert list(read_table(ok).columns) == ["text", "text.1"]


@pytest.mark.parametrize("chunk_size", [1000, 7])
def test_streaming_refuses_duplicate_ids_like_read_table(tmp_path, comments, chunk_size):
    path = tmp_path / "d.csv"
    ids = [f"c{i}" for i in range(len(comments))]
    ids[97] = "c3"
    comments.assign(id=ids).to_csv(path, index=False)
    with pytest.raises(ValueError, match="duplicate value 'c3'") as from_reader:
        read_table(path, id_column="id")
    with pytest.raises(ValueError, match=r"d\.csv: id column 'id' has duplicate value 'c3' \(rows 3 and 97\)"):
        apply_lfs_to_file(path, [lf_check], tmp_path / "v.npy", id_column="id", chunk_size=chunk_size, progress=False)
    assert "row" in str(from_reader.value) and not (tmp_path / "v.npy").exists()


# --- family: files that are not what they claim ------------------------------------------------

@pytest.mark.parametrize("suffix, compress", [(".csv.gz", gzip.compress), (".jsonl.xz", lzma.compress),
                                              (".csv.xz", lzma.compress)])
def test_a_truncated_compressed_file_is_named(tmp_path, comments, suffix, compress):
    text = comments.to_csv(index=False) if ".csv" in suffix else comments.to_json(orient="records", lines=True)
    blob = compress(text.encode())
    path = tmp_path / f"d{suffix}"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match=rf"d{suffix.replace('.', r'[.]')}.*truncated or damaged"):
        read_table(path)
    with pytest.raises(ValueError, match="truncated or damaged"):
        apply_lfs_to_file(path, [lf_check], tmp_path / "v.npy", progress=False)


@pytest.mark.parametrize("cell, kind", [({"body": "hi"}, "dict"), (["a", "b"], "list"), ([[1]], "list")])
def test_a_nested_value_in_the_text_column_is_named(tmp_path, cell, kind):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps({"text": cell}) + "\n")
    with pytest.raises(ValueError, match=rf"d\.jsonl, row 1: the text column 'text' holds a {kind}"):
        read_table(path)
    with pytest.raises(ValueError, match=rf"row 1: the text column 'text' holds a {kind}"):
        apply_lfs_to_file(path, [lf_check], tmp_path / "v.npy", progress=False)


def test_a_parquet_text_column_of_arrays_is_named(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"text": [["a", "b"], ["c"]]}).to_parquet(path)
    with pytest.raises(ValueError, match=r"row 0: the text column 'text' holds a ndarray"):
        read_table(path)


def _npz(path, **members):
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in members.items():
            z.writestr(f"{name}.npy", raw)


def _npy(arr, **kw):
    b = io.BytesIO()
    np.save(b, arr, **kw)
    return b.getvalue()


def test_a_garbage_or_pickled_label_matrix_is_refused_without_numpys_hint(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"\x00garbage" * 20)
    pickled = _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _npz(tmp_path / "pickled.npz", values=pickled, lf_names=_npy(np.array(["a"])), index=_npy(np.arange(1)))
    for name in ("junk.npz", "pickled.npz"):
        with pytest.raises(ValueError, match=rf"{name} is not a votewise label matrix") as err:
            LabelMatrix.load(tmp_path / name)
        assert "allow_pickle" not in str(err.value) and "pickle.load" not in str(err.value)
    assert main(["analyze", str(tmp_path / "pickled.npz")]) == 2


def test_a_header_claiming_10_to_the_12_rows_is_refused_before_allocating(tmp_path):
    header = "{'descr': '<i1', 'fortran_order': False, 'shape': (1000000000000, 3), }".ljust(117) + "\n"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\x00" * 30
    _npz(tmp_path / "huge.npz", values=raw, lf_names=_npy(np.array(["a", "b", "c"])), index=_npy(np.arange(10)))
    with pytest.raises(ValueError, match=r"huge\.npz is not a votewise label matrix .*claims shape \(1000000000000, 3\)"):
        LabelMatrix.load(tmp_path / "huge.npz")
    # The same for a streamed votes file (its .json present, so only the header is wrong).
    votes = tmp_path / "v.npy"
    votes.write_bytes(raw)
    (tmp_path / "v.json").write_text(json.dumps({"lf_names": ["a", "b", "c"], "n_rows": 10}))
    for mmap in (True, False):
        with pytest.raises(ValueError, match=r"v\.npy: its header claims an array of shape \(1000000000000, 3\)"):
            read_votes(votes, mmap=mmap)


def test_deeply_nested_json_is_named_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "x", "meta": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    with pytest.raises(ValueError, match=r"deep\.jsonl, line 2: JSON nested too deeply"):
        read_table(path)
    meta = tmp_path / "v.json"
    meta.write_text("[" * 200_000 + "]" * 200_000)
    np.save(tmp_path / "v.npy", np.zeros((1, 1), dtype=np.int8))
    with pytest.raises(ValueError, match=r"v\.json: JSON nested too deeply"):
        read_votes(tmp_path / "v.npy")


@pytest.mark.parametrize("vote", [10**30, -(10**30), 2**63])
def test_a_huge_vote_names_the_lf_and_row(comments, vote):
    @labeling_function()
    def lf_huge(x):
        return vote if "check" in x.text.lower() else -1

    with pytest.raises(LFError, match=rf"LF 'lf_huge' voted {vote} on row \d+"):
        apply_lfs(comments, [lf_huge], progress=False)
    vec = LabelingFunction("lf_huge_vec", lambda df: [vote] * len(df), vectorized=True)
    with pytest.raises(LFError, match=rf"LF 'lf_huge_vec' voted {vote} on row 0"):
        apply_lfs(comments, [vec], progress=False)
    floats = LabelingFunction("lf_float", lambda df: np.full(len(df), float(vote)), vectorized=True)
    with pytest.raises(LFError, match=r"LF 'lf_float' returned -?1e\+30|LF 'lf_float' returned -?9\.2"):
        apply_lfs(comments, [floats], progress=False)
    with pytest.raises(ValueError, match=rf"L\[0, 1\] is ({vote}|-?9\.2|-?1e\+30)"):
        LabelMatrix([[0, vote]])
    with pytest.raises(ValueError, match=rf"y\[1\] is ({vote}|9\.223e\+18)"):
        MajorityVote(cardinality=2).fit([[0, 1], [1, 1]], [0, vote])


@pytest.mark.parametrize("y_valid, match", [
    (["HAM", "SPAM", "HAM"], r"y_valid\[0\] is 'HAM' \(str\)"),
    ([0, 1], r"y_valid has 2"),
    ([0, 1, 7], r"y_valid\[2\] is 7; expected -1..1"),
    ([0, 1.5, 1], r"y_valid\[1\] is '1.5' \(float\)"),
])
def test_y_valid_as_strings_or_of_the_wrong_length_is_named(y_valid, match):
    L = np.array([[0, 1], [1, 1], [0, -1]])
    for call in (lambda: fit_with_validation(MajorityVote(cardinality=2), L, L, y_valid),
                 lambda: select_on_valid(MajorityVote(cardinality=2), L, L, y_valid)):
        with pytest.raises(ValueError, match=match):
            call()


def test_fit_temperature_checks_y_valid():
    from models import LabelModel

    L = np.array([[0, 1], [1, 1], [0, -1]])
    model = LabelModel(cardinality=2).fit(L)
    with pytest.raises(ValueError, match=r"y_valid\[0\] is 'a'"):
        fit_temperature(model, L, ["a", "b", "a"])


def test_a_header_only_file_is_named_when_streamed(tmp_path):
    for name, text in (("h.csv", "text,id\n"), ("h.tsv", "text\tid\n"), ("h.jsonl", "\n\n")):
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=rf"{name.replace('.', '[.]')} has no rows"):
            apply_lfs_to_file(tmp_path / name, [lf_check], tmp_path / "v.npy", progress=False)
    assert not (tmp_path / "v.npy").exists() and not (tmp_path / "v.npy.partial").exists()


def test_a_vectorized_lf_changing_list_cells_is_stopped_and_the_callers_frame_kept(comments):
    df = _tagged(comments)

    def appends(chunk):
        chunk["tags"].map(lambda t: t.append("seen"))
        return np.full(len(chunk), -1)

    with pytest.raises(LFError, match="LF 'lf_appends' changed the list in column 'tags' of row 0"):
        apply_lfs(df, [LabelingFunction("lf_appends", appends, vectorized=True)], progress=False)
    assert [len(t) for t in df.tags] == [2 if i % 2 == 0 else 1 for i in range(len(df))]
    reads = LabelingFunction("lf_len", lambda chunk: chunk["tags"].map(len).to_numpy() - 1, vectorized=True)
    assert apply_lfs(df, [reads], progress=False).values[:, 0].tolist() == [1 if i % 2 == 0 else 0
                                                                            for i in range(len(df))]


class _Stop(BaseException):
    pass


def test_an_lf_raising_another_base_exception_is_an_lf_error(comments):
    @labeling_function()
    def lf_stops(x):
        raise _Stop()

    with pytest.raises(LFError, match="LF 'lf_stops' raised _Stop on row 0"):
        apply_lfs(comments, [lf_stops], progress=False)


@pytest.mark.parametrize("name", ["g.csv.bz2", "g.jsonl.bz2", "g.csv.gz", "g.csv.zip"])
def test_bytes_that_are_not_the_compression_they_claim_are_named(tmp_path, name):
    (tmp_path / name).write_bytes(b"not compressed at all " * 50)
    with pytest.raises(ValueError, match=rf"{name.replace('.', '[.]')}.*truncated or damaged"):
        read_table(tmp_path / name)


def test_a_cardinality_no_matrix_can_hold_is_refused(comments):
    with pytest.raises(ValueError, match=r"cardinality=10+; a label matrix holds at most 2\*\*31-1 classes"):
        apply_lfs(comments, [lf_check], cardinality=10**30, progress=False)


def test_a_wrench_vote_or_label_past_int64_names_the_record(tmp_path):
    from sources import read_wrench_split

    for record, match in (({"label": 0, "weak_labels": [0, 10**30], "data": {"text": "a"}}, "has weak label 10+ for LF 1"),
                          ({"label": 10**30, "weak_labels": [0, 1], "data": {"text": "a"}}, "has label 10+"),
                          ({"label": 0, "weak_labels": [0, 1], "data": {"text": {"a": 1}}}, "has a dict as its text")):
        path = tmp_path / "train.json"
        path.write_text(json.dumps({"0": {"label": 1, "weak_labels": [1, 1], "data": {"text": "b"}}, "7": record}))
        with pytest.raises(ValueError, match=rf"train\.json: record '7' {match}"):
            read_wrench_split(path)


def test_a_tuple_cell_holding_a_list_is_protected_too(comments):
    df = comments.head(4).copy()
    df["pair"] = [(["a"], 1) for _ in range(len(df))]

    @labeling_function()
    def lf_inner(x):
        x.pair[0].append("b")
        return -1

    with pytest.raises(LFError, match="LF 'lf_inner' changed the tuple in column 'pair'"):
        apply_lfs(df, [lf_inner], progress=False)
    assert all(p == (["a"], 1) for p in df.pair)


def test_json_lines_in_a_zip_are_read(tmp_path):
    path = tmp_path / "d.jsonl.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("d.jsonl", '{"text": "check"}\n{"text": "b"}\n')
    assert read_table(path)["text"].tolist() == ["check", "b"]
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"d\.jsonl\.zip.*truncated or damaged"):
        read_table(path)


def test_a_parquet_file_naming_a_column_twice_is_named(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "two.parquet"
    pq.write_table(pa.table([pa.array(["free"]), pa.array(["great"])], names=["text", "text"]), path)
    with pytest.raises(ValueError, match=r"two\.parquet: the schema names the column 'text' twice"):
        read_table(path)
    with pytest.raises(ValueError, match="names the column 'text' twice"):
        apply_lfs_to_file(path, [lf_check], tmp_path / "v.npy", progress=False)


def test_a_knowledge_base_json_file_that_is_malformed_or_repeats_a_term_is_named(tmp_path):
    from sources import KnowledgeBase

    path = tmp_path / "kb.json"
    path.write_text('{"free money": "SPAM", "free money": "HAM"}')
    with pytest.raises(ValueError, match=r"kb\.json: the key 'free money' appears twice"):
        KnowledgeBase.from_json(path)
    path.write_text('{"free money": ')
    with pytest.raises(ValueError, match=r"kb\.json: malformed JSON"):
        KnowledgeBase.from_json(path)


def test_a_vectorized_lf_exiting_on_one_row_of_a_failing_chunk_names_that_row(comments):
    def vec(df):
        if len(df) > 1:
            raise ValueError("a chunk-level failure: re-run row by row")
        if "check" in df.text.iloc[0].lower():
            sys.exit(3)
        return np.full(len(df), -1)

    first = next(i for i, t in enumerate(comments.text) if "check" in t.lower())
    with pytest.raises(LFError, match=rf"LF 'lf_vec_exit' called sys.exit\(3\) on row {first} "):
        apply_lfs(comments, [LabelingFunction("lf_vec_exit", vec, vectorized=True)], progress=False, dedup=False)
