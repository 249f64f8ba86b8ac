import json

import numpy as np
import pytest

from tests.conftest import EXAMPLES
from labeling import LabelMatrix, apply_lfs, lf_summary, load_lfs
from labeling.app.cli import main

LFS = EXAMPLES / "youtube_spam" / "lfs.py"


@pytest.fixture()
def comments_csv(tmp_path, youtube):
    df = youtube.test.data.assign(label=youtube.test.y).reset_index()
    path = tmp_path / "comments.csv"
    df.to_csv(path, index=False)
    return path


def test_apply_then_analyze(tmp_path, comments_csv, youtube, capsys):
    out = tmp_path / "L.npz"
    assert main(["apply", "--data", str(comments_csv), "--lfs", str(LFS), "--out", str(out),
                 "--id-column", "id", "--quiet", "--cardinality", "2"]) == 0
    L = LabelMatrix.load(out)
    expected = apply_lfs(youtube.test.data, load_lfs(LFS), progress=False)
    assert np.array_equal(L.values, expected.values) and L.lf_names == expected.lf_names
    assert [str(i) for i in L.index] == youtube.test.data.index.tolist()  # CSV reads the ids back as ints

    assert main(["analyze", str(out), "--data", str(comments_csv), "--json", "--plot", str(tmp_path / "s.png")]) == 0
    records = json.loads(capsys.readouterr().out)
    summary = lf_summary(expected, youtube.test.y)
    assert [r["lf"] for r in records] == list(summary.index)
    assert [r["correct"] for r in records] == summary["correct"].tolist()
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_apply_reports_bad_input_in_one_line(tmp_path, comments_csv, capsys):
    code = main(["apply", "--data", str(comments_csv), "--lfs", str(LFS), "--out", str(tmp_path / "L.npz"),
                 "--text-column", "body", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "votewise apply: error:" in err and "no text column 'body'" in err


def test_apply_names_failing_lf(tmp_path, comments_csv, capsys):
    lfs = tmp_path / "lfs.py"
    lfs.write_text(
        "from labeling import labeling_function\n"
        "@labeling_function()\n"
        "def lf_author(x):\n"
        "    return 1 if x.author == 'bot' else -1\n"
    )
    assert main(["apply", "--data", str(comments_csv), "--lfs", str(lfs), "--out", str(tmp_path / "L.npz"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "LF 'lf_author' failed on row 0" in err and "caused by: AttributeError" in err


def test_lf_file_without_lfs(tmp_path):
    empty = tmp_path / "none.py"
    empty.write_text("x = 1\n")
    with pytest.raises(ValueError, match="defines no labeling functions"):
        load_lfs(empty)


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("apply", "analyze", "bench", "build", "review", "simulate"):
        assert cmd in out


def test_console_entry_point_runs_as_a_module():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "labeling.app.cli", "apply", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--fault-tolerant" in res.stdout


def test_apply_with_cache_reuses_columns(tmp_path, comments_csv):
    args = ["apply", "--data", str(comments_csv), "--lfs", str(LFS), "--quiet", "--cache", str(tmp_path / "cache")]
    assert main(args + ["--out", str(tmp_path / "a.npz")]) == 0
    assert any((tmp_path / "cache").rglob("*")), "the first run fills the cache"
    assert main(args + ["--out", str(tmp_path / "b.npz")]) == 0
    assert LabelMatrix.load(tmp_path / "a.npz") == LabelMatrix.load(tmp_path / "b.npz")
