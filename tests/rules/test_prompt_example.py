"""examples/prompted/run.py end to end, with its --demo loopback server standing in for a model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("openai")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prompted" / "run.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("prompted_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_prompted_example_mixes_rule_and_prompted_lfs(tmp_path, capsys):
    example = _load_example()
    cache = str(tmp_path / "answers.sqlite")
    plan = example.main(["--demo", "--rows", "120", "--cache", cache, "--dry-run"])
    assert (plan["cached"] == 0).all() and (plan["calls"] == plan["prompts"]).all()
    report = example.main(["--demo", "--rows", "120", "--cache", cache])
    out = capsys.readouterr().out
    assert "rule + prompted LFs" in out and "llm_few_shot" in out and "not what a language model" in out
    assert report.loc["total", "failed"] == 0 and report.loc["total", "unparseable"] == 0
    assert report.loc["llm_zero_shot", "calls"] == plan.loc["llm_zero_shot", "calls"]
    again = example.main(["--demo", "--rows", "120", "--cache", cache])
    assert again.loc["total", "calls"] == 0  # every answer comes from the response cache
    with pytest.raises(SystemExit):
        example.main(["--base-url", "http://127.0.0.1:9/v1"])  # --model is required with an endpoint


@pytest.mark.slow
def test_prompted_example_runs_with_a_local_model(tmp_path, capsys, youtube):
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    spec = importlib.util.spec_from_file_location(
        "llm_local_tests", Path(__file__).resolve().parents[1] / "sources" / "llm" / "test_local.py")
    local_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(local_tests)
    local_tests.build_tiny_lm(tmp_path / "tiny-lm", youtube["test"].data["text"])
    example = _load_example()
    report = example.main(["--local", str(tmp_path / "tiny-lm"), "--device", "cpu", "--rows", "40",
                           "--cache", str(tmp_path / "answers.sqlite")])
    assert "rule + prompted LFs" in capsys.readouterr().out
    # A scoring backend always answers a verbaliser: nothing fails, nothing is unparseable.
    assert report.loc["total", "calls"] > 0 and report.loc["total", "failed"] == 0
    assert report.loc["total", "unparseable"] == 0 and report.loc["total", "tokens_out"] == 0
