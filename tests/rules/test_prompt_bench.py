"""`votewise bench` with prompted LFs in the LF set: how label quality of prompted LFs is measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openai")

from labeling.app.bench import run_bench  # noqa: E402
from labeling.app.cli import main  # noqa: E402
from sources import read_wrench  # noqa: E402
from sources.llm import LoopbackServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
YOUTUBE = ROOT / "tests" / "data" / "youtube"


def says_spam(text: str) -> bool:
    return any(w in text.lower() for w in ("check", "subscribe", "http", "channel"))


def answer(messages):
    question = messages[-1]["content"]
    return "spam" if says_spam(question[len("Comment: "):]) else "ham"


def rule_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "prompted.yaml"
    path.write_text(f"""
- name: llm_spam
  prompt: "Comment: {{text}}"
  classes: {{SPAM: spam, HAM: ham}}
  backend: {{kind: openai, model: loopback, base_url: "{url}"}}
""")
    return path


@pytest.mark.slow
def test_bench_scores_prompted_lfs_on_the_test_split(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VOTEWISE_CACHE", str(tmp_path / "cache"))
    test = read_wrench(YOUTUBE)["test"]
    with LoopbackServer(answer) as server:
        path = rule_file(tmp_path, server.url)
        assert main(["bench", str(YOUTUBE), "--lfs", str(path), "--lfs-only", "--model", "mv", "--json",
                     "--quiet"]) == 0
        (record,) = json.loads(capsys.readouterr().out)
        # Majority vote over one LF that always votes is that LF: its accuracy on the gold labels.
        want = np.mean(np.array([says_spam(t) for t in test.data["text"]], dtype=int) == test.y)
        assert record["coverage"] == 1.0 and record["value"] == pytest.approx(want)
        n_asked = len(server.requests)
        both = run_bench([str(YOUTUBE)], "mv", lfs=path, progress=False)
        assert len(server.requests) == n_asked  # the stored answers serve the second run
    stored = run_bench([str(YOUTUBE)], "mv", progress=False)
    assert both[0]["value"] != stored[0]["value"]  # the prompted LF's votes count


def test_bench_lfs_only_needs_lfs():
    with pytest.raises(ValueError, match="lfs_only=True needs lfs="):
        run_bench([str(YOUTUBE)], "mv", lfs_only=True, progress=False)


def test_the_shipped_bench_file_builds_without_calling():
    from rules import rules_from_file

    (lf,) = rules_from_file(ROOT / "examples/prompted/bench_youtube.yaml", class_names=["HAM", "SPAM"])
    assert lf.backend.base_url == "http://localhost:11434/v1" and lf.classes == {1: ("spam",), 0: ("ham",)}
