"""The output guard: no writer of the API or the CLI overwrites an input, the store or another output."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
import pytest

from labeling import labeling_function
from labeling.app.build_config import ConfigError
from labeling.app.cli import main
from labeling.core.outputs import (
    BUILD_MARKER, OutputError, atomic_write, check_outputs, output_lock, replace_folder,
)
from labeling.core.stream import apply_lfs_to_file, read_votes

from tests.conftest import EXAMPLES

LFS = EXAMPLES / "youtube_spam" / "lfs.py"


@labeling_function()
def lf_check(x):
    return 1 if "check" in x.text.lower() else -1


def _comments(tmp_path, n=150, name="comments.csv"):
    raw = pd.read_csv(EXAMPLES / "youtube_spam" / "data" / "Youtube01-Psy.csv").head(n)
    df = raw.rename(columns={"COMMENT_ID": "id", "CONTENT": "text"})[["id", "text"]]
    path = tmp_path / name
    tmp_path.mkdir(parents=True, exist_ok=True)
    if name.endswith((".json", ".jsonl")):
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_csv(path, index=False)
    return path


# --- the check itself ---------------------------------------------------------------------------

def test_an_output_that_is_an_input_is_refused_naming_both(tmp_path):
    data = _comments(tmp_path)
    with pytest.raises(OutputError, match=r"--labels-out '.*comments\.csv' is the input --data '.*comments\.csv'"):
        check_outputs({"--labels-out": data}, {"--data": data})


def test_the_same_file_under_another_name_is_refused(tmp_path):
    data = _comments(tmp_path)
    (tmp_path / "sub").mkdir()
    os.symlink(data, tmp_path / "link.csv")
    os.link(data, tmp_path / "hard.csv")
    for other in (tmp_path / "link.csv", tmp_path / "hard.csv", tmp_path / "sub" / ".." / "comments.csv"):
        with pytest.raises(OutputError, match="is the input"):
            check_outputs([other], [data])


def test_an_output_folder_holding_an_input_or_a_file_inside_an_input_folder_is_refused(tmp_path):
    data = _comments(tmp_path / "out" / "jsonl", name="train.jsonl")
    with pytest.raises(OutputError, match=r"output '.*out' contains the input"):
        check_outputs((), {"sources[0].path": data}, folders={"output": tmp_path / "out"})
    wrench = tmp_path / "wrench"
    wrench.mkdir()
    with pytest.raises(OutputError, match="is inside the input"):
        check_outputs({"out": wrench / "votes.npy"}, {"wrench": wrench})


def test_the_store_and_its_journal_are_inputs(tmp_path):
    store = tmp_path / "r.sqlite"
    with pytest.raises(OutputError, match="the review store"):
        check_outputs({"out": store}, store=store)
    with pytest.raises(OutputError, match="journal"):
        check_outputs({"out": tmp_path / "r.sqlite-wal"}, store=store)
    check_outputs({"out": tmp_path / "r.jsonl"}, store=store)  # beside it is fine


def test_two_outputs_on_one_path_are_refused(tmp_path):
    with pytest.raises(OutputError, match="are the same file"):
        check_outputs({"--out": tmp_path / "a.csv", "--labels-out": tmp_path / "x" / ".." / "a.csv"})


def test_a_replaced_folder_may_not_be_a_file_nor_hold_foreign_files(tmp_path):
    (tmp_path / "data.csv").write_text("text\nhi\n")
    with pytest.raises(OutputError, match="exists and is a file, not a folder"):
        check_outputs((), folders={"output": tmp_path / "data.csv"})
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="holds files that no votewise build wrote"):
        check_outputs((), folders={"output": tmp_path / "home"})
    (tmp_path / "empty").mkdir()
    check_outputs((), folders={"output": tmp_path / "empty"})


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "labels.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half of the ne")
            raise RuntimeError("killed")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["labels.csv"]


def test_a_second_run_into_a_locked_output_is_refused(tmp_path):
    data, out = _comments(tmp_path), tmp_path / "votes.npy"
    with output_lock(out, what="votes file"):
        with pytest.raises(OutputError, match="being written by another run"):
            apply_lfs_to_file(data, [lf_check], out, progress=False)
    assert not out.exists()
    apply_lfs_to_file(data, [lf_check], out, progress=False)  # the lock is gone with the run that held it
    assert read_votes(out).shape == (150, 1)


def test_replace_folder_swaps_the_whole_folder_or_nothing(tmp_path):
    out = tmp_path / "out"
    with replace_folder(out) as d:
        (d / "csv").mkdir()
        (d / "csv" / "train.csv").write_text("a")
    assert (out / "csv" / "train.csv").exists() and (out / BUILD_MARKER).exists()
    with pytest.raises(RuntimeError):
        with replace_folder(out) as d:
            (d / "jsonl").mkdir()
            raise RuntimeError("the build failed")
    assert (out / "csv" / "train.csv").exists() and not (out / "jsonl").exists()
    with replace_folder(out) as d:
        (d / "jsonl").mkdir()
    assert (out / "jsonl").exists() and not (out / "csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging or old folder left behind


# --- the writers --------------------------------------------------------------------------------

def test_streaming_into_the_input_json_lines_file_is_refused_before_any_work(tmp_path):
    data = _comments(tmp_path, name="d.json")
    before = data.read_bytes()
    calls = []

    @labeling_function()
    def lf_count(x):
        calls.append(1)
        return -1

    with pytest.raises(OutputError, match=r"the votes' metadata '.*d\.json' is the input"):
        apply_lfs_to_file(data, [lf_count], tmp_path / "d.npy", progress=False)
    assert data.read_bytes() == before and not calls
    ids_input = _comments(tmp_path, name="v.ids.parquet.csv")
    os.replace(ids_input, tmp_path / "v.ids.parquet")
    with pytest.raises(OutputError, match="the row ids"):
        apply_lfs_to_file(tmp_path / "v.ids.parquet", [lf_count], tmp_path / "v.npy", format="csv", id_column="id",
                          progress=False)


def _parse_review(argv):
    from labeling.app.review_cli import add_subcommands

    parser = argparse.ArgumentParser(prog="votewise")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_queue_labels_out_over_the_data_is_refused_and_the_data_kept(tmp_path, capsys):
    data = _comments(tmp_path)
    before = data.read_bytes()
    code = main(["queue", str(tmp_path / "q.sqlite"), "--data", str(data), "--lfs", str(LFS), "--classes", "HAM,SPAM",
                 "--id-column", "id", "--quiet", "--labels-out", str(data)])
    assert code == 2 and data.read_bytes() == before
    assert "--labels-out" in capsys.readouterr().err and not (tmp_path / "q.sqlite").exists()
    code = main(["queue", str(data), "--data", str(data), "--lfs", str(LFS), "--classes", "HAM,SPAM", "--quiet"])
    assert code == 2 and data.read_bytes() == before


def test_export_store_onto_itself_keeps_the_store(tmp_path, capsys):
    from labeling.review.store import ReviewStore

    path = tmp_path / "r.sqlite"
    store = ReviewStore(path, class_names=["HAM", "SPAM"])
    store.put_sample("a", "hello")
    store.record("a", 1, reviewer="ann")
    store.close()
    before = path.read_bytes()
    assert main(["export-store", str(path), str(path)]) == 2
    assert "the review store" in capsys.readouterr().err and path.read_bytes() == before
    assert main(["import-store", str(path), str(path)]) == 2
    assert ReviewStore(path).resolved_labels() == {"a": 1}


def test_a_store_path_that_is_a_text_file_is_named(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    for argv in (["review", str(notes)], ["export-store", str(notes), str(tmp_path / "e.jsonl")],
                 ["queue", str(notes), "--data", str(_comments(tmp_path)), "--lfs", str(LFS)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "notes.txt' is not a review store" in err and "SQLite" in err
    assert notes.read_text() == "my notes\n"


def test_apply_out_inside_the_cache_folder_is_refused(tmp_path, capsys):
    data = _comments(tmp_path)
    assert main(["apply", "--data", str(data), "--lfs", str(LFS), "--out", str(tmp_path / "c" / "L.npz"),
                 "--cache", str(tmp_path / "c"), "--quiet"]) == 2
    assert "is inside the input --cache" in capsys.readouterr().err


# --- votewise build -----------------------------------------------------------------------------

def _build_config(tmp_path, source, output, formats=("jsonl",)):
    return {
        "name": "guard", "seed": 0, "class_names": ["HAM", "SPAM"], "progress": False, "output": str(output),
        "sources": [{"path": str(source), "text_column": "text", "id_column": "id"}],
        "lfs": {"python": str(LFS)},
        "split": {"fractions": {"train": 0.8, "test": 0.2}},
        "export": {"formats": list(formats), "drop_uncovered": False},
    }


def test_build_refuses_an_output_holding_its_input_or_being_a_file_before_any_work(tmp_path, monkeypatch):
    from labeling.app import pipeline
    from labeling.app.pipeline import build_from_config

    data = _comments(tmp_path)
    first = build_from_config(_build_config(tmp_path, data, tmp_path / "out"))
    train = first.output / "jsonl" / "train.jsonl"
    before = train.read_bytes()
    applied = []
    monkeypatch.setattr(pipeline, "apply_lfs", lambda *a, **k: applied.append(1))
    with pytest.raises(OutputError, match=r"output '.*out' contains the input sources\[0\]\.path"):
        build_from_config(_build_config(tmp_path, train, tmp_path / "out"))
    assert train.read_bytes() == before
    # An output that is a file is a config error, reported with the other config problems before any work.
    with pytest.raises(ConfigError, match=r"key 'output': .*comments\.csv is a file"):
        build_from_config(_build_config(tmp_path, data, data))
    other = _comments(tmp_path, name="data.csv")
    with pytest.raises(ConfigError, match=r"key 'output': .*data\.csv is a file"):
        build_from_config(_build_config(tmp_path, data, other))
    assert not applied  # refused before the LFs ran


def test_a_rebuild_replaces_the_folder_as_a_whole(tmp_path):
    from labeling.app.pipeline import build_from_config

    data = _comments(tmp_path)
    first = build_from_config(_build_config(tmp_path, data, tmp_path / "out", formats=("csv", "jsonl")))
    assert (first.output / "csv").is_dir()
    second = build_from_config(_build_config(tmp_path, data, tmp_path / "out", formats=("jsonl",)))
    assert second.output == tmp_path / "out" and not (second.output / "csv").exists()
    assert all(p.exists() for ps in second.export.paths.values() for p in ps)  # paths name the final folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comments.csv", "out"]
    assert (second.output / "removed.csv").exists() and (second.output / "DATASET.md").exists()


def test_analyze_plot_over_the_matrix_is_refused(tmp_path, capsys):
    from labeling import LabelMatrix

    path = LabelMatrix(np.array([[0, 1], [1, -1]]), lf_names=["a", "b"]).save(tmp_path / "L.npz")
    before = path.read_bytes()
    assert main(["analyze", str(path), "--plot", str(path)]) == 2
    assert "--plot" in capsys.readouterr().err and path.read_bytes() == before


def test_a_saved_label_matrix_is_written_atomically(tmp_path, monkeypatch):
    from labeling import LabelMatrix

    path = LabelMatrix(np.array([[0, 1]]), lf_names=["a", "b"]).save(tmp_path / "L.npz")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", killed)
    with pytest.raises(KeyboardInterrupt):
        LabelMatrix(np.array([[1, 1], [0, 0]]), lf_names=["a", "b"]).save(path)
    monkeypatch.undo()
    assert LabelMatrix.load(path).shape == (1, 2) and os.listdir(tmp_path) == ["L.npz"]
