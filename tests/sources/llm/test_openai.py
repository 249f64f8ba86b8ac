"""The HTTP path of prompted LFs: a real chat-completions server on 127.0.0.1, driven through the openai client.

The server's "model" is a rule on the comment text, so the votes every test expects are computed from
the bundled YouTube rows themselves; failures (429, 500, stalls, malformed bodies, off-list answers)
are injected per request.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openai")

from labeling import ABSTAIN, LFCache, LFError, apply_lfs, lf_summary  # noqa: E402
from rules import lf_groups, keyword_lf, prompt_lf, prompt_report, run_prompts  # noqa: E402
from sources.llm import (  # noqa: E402
    Budget,
    BudgetExceeded,
    LoopbackServer,
    OpenAIBackend,
    PromptCallError,
    Reply,
    ResponseCache,
)

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = "Comment: {text}\nIs this comment spam or ham?"
CLASSES = {0: ["ham"], 1: ["spam"]}
SPAM_WORDS = ("check", "subscribe", "http", "channel", "visit")


def comment_of(messages: list[dict]) -> str:
    question = messages[-1]["content"]
    return question[len("Comment: "): question.rindex("\nIs this comment")]


def asked(server, start: int = 0) -> list[str]:
    """The comments of the requests the server received from ``start`` on."""
    return [comment_of([{"content": q}]) for q in server.requests[start:]]


def model_answer(comment: str) -> str:
    """The loopback server's model: a rule, with some answers outside the verbalisers."""
    low = comment.lower()
    if "love" in low:
        return "I cannot tell."  # names no class: unparseable
    if any(w in low for w in SPAM_WORDS):
        return "Spam."
    return "ham"


def expected_vote(comment: str) -> int:
    answer = model_answer(comment)
    return ABSTAIN if answer.startswith("I cannot") else (1 if answer.startswith("Spam") else 0)


@pytest.fixture()
def texts(youtube):
    return youtube["test"].data


def make_lf(server, tmp_path, **backend_options):
    options = {"concurrency": 8, "max_retries": 2, "timeout": 5.0, **backend_options}
    lf_options = {k: options.pop(k) for k in ("budget", "threshold") if k in options}
    backend = OpenAIBackend("loopback", base_url=server.url, **options)
    return prompt_lf("llm_spam", TEMPLATE, CLASSES, backend=backend, cache=tmp_path / "answers.sqlite",
                     progress=False, **lf_options)


def test_votes_follow_the_answers_and_a_rerun_makes_no_call(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path)
        L = apply_lfs(texts, [lf, keyword_lf("kw_subscribe", "subscribe", 1)], progress=False)
        expected = np.array([expected_vote(t) for t in texts["text"]])
        assert np.array_equal(L.values[:, 0], expected)
        distinct = texts["text"].nunique()
        assert len(server.requests) == distinct  # identical rows are asked once
        assert lf.stats.calls == distinct and lf.stats.cached == 0 and lf.stats.failed == 0
        unparseable = sum(1 for t in texts["text"].unique() if "love" in t.lower())
        assert unparseable > 0 and lf.stats.unparseable == unparseable
        assert lf.stats.tokens_in > 0 and lf.stats.tokens_out > 0
        assert server.max_in_flight <= 8
        summary = lf_summary(L)
        assert summary.loc["llm_spam", "coverage"] == pytest.approx(np.mean(expected != ABSTAIN))

        lf.reset_stats()
        again = apply_lfs(texts, [lf], progress=False)
        assert len(server.requests) == distinct  # no new call
        assert lf.stats.calls == 0 and lf.stats.cached == distinct
        assert np.array_equal(again.values[:, 0], expected)
        report = prompt_report([lf])
        assert report.loc["llm_spam", "cached"] == distinct and report.loc["total", "calls"] == 0
        assert report.loc["llm_spam", "unparseable"] == unparseable
        assert report.loc["llm_spam", "unparseable_examples"] == "'I cannot tell.'"  # shown, never a label


def test_explain_gives_the_model_answer(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path)
        spam = next(t for t in texts["text"] if expected_vote(t) == 1)
        unsure = next(t for t in texts["text"] if expected_vote(t) == ABSTAIN)
        (span,) = lf.explain(spam)
        assert (span.start, span.end) == (0, len(spam)) and "'Spam.'" in span.what
        assert lf.explain(unsure) == []
        assert lf.answer(unsure) == {"answer": "I cannot tell.", "vote": ABSTAIN, "class_read": None,
                                     "probability": None, "cached": True}


def test_api_key_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPBACK_KEY", "sk-from-env")
    with LoopbackServer(lambda m: "ham") as server:
        lf = make_lf(server, tmp_path, api_key_env="LOOPBACK_KEY")
        assert lf.vote_text("nice song") == 0
        assert server.authorizations == {"Bearer sk-from-env"}
    assert "sk-from-env" not in repr(lf.__getstate__())


def test_429_and_500_are_retried_with_backoff(texts, tmp_path):
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def flaky(messages):
        comment = comment_of(messages)
        with lock:
            seen[comment] = seen.get(comment, 0) + 1
            attempt = seen[comment]
        if attempt == 1:
            return Reply(status=429, headers={"retry-after-ms": "5"})
        if attempt == 2:
            return Reply(status=500, headers={"retry-after-ms": "5"})
        return model_answer(comment)

    rows = texts.iloc[:40]
    with LoopbackServer(flaky) as server:
        lf = make_lf(server, tmp_path, max_retries=2)
        L = apply_lfs(rows, [lf], progress=False)
        assert np.array_equal(L.values[:, 0], [expected_vote(t) for t in rows["text"]])
        assert set(seen.values()) == {3}  # one 429, one 500, then the answer
        assert lf.stats.failed == 0 and lf.stats.calls == rows["text"].nunique()


def test_calls_failing_after_retries_stop_the_run_or_abstain_and_are_asked_again(texts, tmp_path):
    rows = texts.iloc[:60]
    broken = set(rows["text"].iloc[::7])
    healthy = threading.Event()

    def answer(messages):
        comment = comment_of(messages)
        if comment in broken and not healthy.is_set():
            return Reply(status=503, headers={"retry-after-ms": "1"})
        return model_answer(comment)

    with LoopbackServer(answer) as server:
        lf = make_lf(server, tmp_path, max_retries=1)
        with pytest.raises(LFError, match="llm_spam") as info:
            apply_lfs(rows, [lf], progress=False)
        assert isinstance(info.value.__cause__, PromptCallError)
        with pytest.warns(UserWarning, match="raised and abstained"):
            L = apply_lfs(rows, [lf], progress=False, fault_tolerant=True)
        bad = rows["text"].isin(broken).to_numpy()
        assert (L.values[bad, 0] == ABSTAIN).all()
        assert np.array_equal(L.values[~bad, 0], [expected_vote(t) for t in rows["text"][~bad]])
        assert {f.position for f in L.failures} == set(np.flatnonzero(bad))
        # The endpoint recovers: a re-run asks only the prompts that failed.
        healthy.set()
        before = len(server.requests)
        L = apply_lfs(rows, [lf], progress=False)
        assert sorted(asked(server, before)) == sorted(broken)
        assert np.array_equal(L.values[:, 0], [expected_vote(t) for t in rows["text"]])


def test_a_stall_past_the_deadline_fails_that_call_only(texts, tmp_path):
    rows = texts.iloc[:30]
    slow = rows["text"].iloc[3]

    def answer(messages):
        comment = comment_of(messages)
        return Reply(model_answer(comment), delay=3.0) if comment == slow else model_answer(comment)

    with LoopbackServer(answer) as server:
        lf = make_lf(server, tmp_path, timeout=0.4, max_retries=0)
        lf.backend.client()  # made before the clock starts: importing openai is not the stall
        start = time.perf_counter()
        with pytest.warns(UserWarning, match="1 LF call"):
            L = apply_lfs(rows, [lf], progress=False, fault_tolerant=True)
        assert time.perf_counter() - start < 2.9  # nobody waited for the stalled reply
        assert L.values[3, 0] == ABSTAIN and "Timeout" in L.failures[0].error
        others = np.arange(len(rows)) != 3
        assert np.array_equal(L.values[others, 0], [expected_vote(t) for t in rows["text"][others]])


@pytest.mark.parametrize("body", ["{not json", '{"object": "chat.completion"}', "[]"])
def test_malformed_bodies_are_failed_calls_not_votes(texts, tmp_path, body):
    rows = texts.iloc[:12]
    bad = rows["text"].iloc[5]

    def answer(messages):
        comment = comment_of(messages)
        return Reply(body=body) if comment == bad else model_answer(comment)

    with LoopbackServer(answer) as server:
        lf = make_lf(server, tmp_path, max_retries=0)
        with pytest.warns(UserWarning):
            L = apply_lfs(rows, [lf], progress=False, fault_tolerant=True)
        assert L.values[5, 0] == ABSTAIN and [f.position for f in L.failures] == [5]
        cache = ResponseCache(tmp_path / "answers.sqlite")
        assert len(cache) == rows["text"].nunique() - 1  # nothing cached for the malformed reply


def test_answers_outside_the_verbalisers_abstain_and_are_counted(texts, tmp_path):
    rows = texts.iloc[:20]
    replies = ["SPAM", "spam!", "Ham - a fan", "hamster", "\x1b[2Jspammy", "unsure", "", "**ham**"] * 3
    expected = [1, 1, 0, ABSTAIN, ABSTAIN, ABSTAIN, ABSTAIN, 0] * 3
    by_comment = {t: replies[i] for i, t in enumerate(rows["text"].drop_duplicates())}
    with LoopbackServer(lambda m: by_comment[comment_of(m)]) as server:
        lf = make_lf(server, tmp_path)
        L = apply_lfs(rows, [lf], progress=False, dedup=False)
    want = [expected[list(by_comment).index(t)] for t in rows["text"]]
    assert L.values[:, 0].tolist() == want
    distinct = list(by_comment.values())
    # "unsure" is an abstain word, not unparseable; "hamster", "spammy" and "" name no class.
    assert lf.stats.unparseable == sum(r in ("hamster", "\x1b[2Jspammy", "") for r in distinct)
    # Shown in the report, with control characters escaped for a terminal.
    shown = prompt_report([lf]).loc["llm_spam", "unparseable_examples"]
    assert shown == "'hamster'; '\\x1b[2Jspammy'; ''" and "\x1b" not in shown


def test_logprob_scores_are_thresholded(texts, tmp_path):
    rows = texts.iloc[:30]

    def answer(messages):
        comment = comment_of(messages)
        sure = len(comment) % 2 == 0
        lp = {"spam": -0.01, "ham": -4.6} if sure else {"spam": -0.51, "ham": -0.92}
        return Reply("spam", logprobs=lp)

    with LoopbackServer(answer) as server:
        lf = make_lf(server, tmp_path, logprobs=2, threshold=0.9)
        L = apply_lfs(rows, [lf], progress=False)
        want = [1 if len(t) % 2 == 0 else ABSTAIN for t in rows["text"]]
        assert L.values[:, 0].tolist() == want
        p = lf.scores(rows)
        assert np.allclose(p.sum(axis=1), 1.0)
        even = np.array([len(t) % 2 == 0 for t in rows["text"]])
        assert (p[even, 1] > 0.98).all() and np.allclose(p[~even, 1], np.exp(-0.51) / (np.exp(-0.51) + np.exp(-0.92)))


def test_budget_stops_cleanly_and_a_larger_one_asks_only_the_rest(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        budget = Budget(max_calls=50)
        lf = make_lf(server, tmp_path, budget=budget)
        with pytest.raises(LFError) as info:
            apply_lfs(texts, [lf], progress=False)
        assert isinstance(info.value.__cause__, BudgetExceeded)
        assert "call budget of 50 calls" in str(info.value)
        assert len(server.requests) == 50 and budget.calls == 50
        assert len(ResponseCache(tmp_path / "answers.sqlite")) == 50
        distinct = texts["text"].nunique()
        lf._runtime.budget = Budget(max_calls=distinct)
        L = apply_lfs(texts, [lf], progress=False)
        assert len(server.requests) == distinct and len(set(server.requests)) == distinct
        assert np.array_equal(L.values[:, 0], [expected_vote(t) for t in texts["text"]])


def test_token_budget_stops_cleanly(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path, budget=Budget(max_tokens=300), concurrency=1)
        with pytest.raises(BudgetExceeded, match="token budget of 300"):
            run_prompts(texts, [lf], progress=False)
        assert 0 < len(server.requests) < 40
        assert lf.stats.calls == len(server.requests)
        assert lf.stats.tokens_in + lf.stats.tokens_out >= 300


def test_dry_run_counts_calls_and_tokens_without_calling(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path)
        distinct = texts["text"].nunique()
        plan = run_prompts(texts, [lf], dry_run=True)
        assert server.requests == []
        assert plan.loc["llm_spam", "calls"] == distinct and plan.loc["llm_spam", "cached"] == 0
        assert plan.loc["llm_spam", "tokens_out_max"] == distinct * lf.backend.max_tokens
        chars = sum(len(lf.prompt({"text": t}).as_text()) for t in texts["text"].unique())
        assert chars / 8 < plan.loc["llm_spam", "tokens_in"] < chars
        apply_lfs(texts.iloc[:100], [lf], progress=False)
        plan = run_prompts(texts, [lf], dry_run=True)
        done = texts["text"].iloc[:100].nunique()
        assert plan.loc["llm_spam", "cached"] == done and plan.loc["llm_spam", "calls"] == distinct - done
        report = run_prompts(texts, [lf], progress=False)
        assert report.loc["llm_spam", "calls"] == distinct - done and len(server.requests) == distinct


def test_the_lf_cache_and_the_groups(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path)
        cache = LFCache(tmp_path / "votes")
        first = apply_lfs(texts, [lf], cache=cache, progress=False)
        assert cache.misses_ == ["llm_spam"]
        second = apply_lfs(texts, [lf], cache=cache, progress=False)
        assert cache.hits_ == ["llm_spam"] and np.array_equal(first.values, second.values)
        stricter = make_lf(server, tmp_path, threshold=0.99)
        apply_lfs(texts, [stricter], cache=cache, progress=False)
        assert cache.misses_ == ["llm_spam"]  # a changed threshold is another LF
        other = prompt_lf("llm_spam_2", "Is this YouTube comment spam? {text}", CLASSES, backend=lf.backend,
                          cache=False, progress=False)
        assert lf_groups([lf, keyword_lf("kw", "free", 1), other]) == ["openai:loopback", None, "openai:loopback"]


@pytest.mark.slow
def test_workers_streaming_and_dask_vote_the_same(texts, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    from labeling.core.distributed import apply_lfs_dask
    from labeling.core.stream import apply_lfs_to_file

    with LoopbackServer(lambda m: model_answer(comment_of(m))) as server:
        lf = make_lf(server, tmp_path)
        expected = np.array([expected_vote(t) for t in texts["text"]])
        # joblib workers get a pickled LF: no client, no connection, each opens its own.
        workers = apply_lfs(texts, [lf], progress=False, n_jobs=2, chunk_size=64)
        assert np.array_equal(workers.values[:, 0], expected)
        calls = len(server.requests)
        assert calls == texts["text"].nunique()
        lazy = apply_lfs_dask(dd.from_pandas(texts, npartitions=3), [lf])
        assert np.array_equal(lazy.compute().loc[texts.index].to_numpy()[:, 0], expected)  # dask sorts the ids
        csv = tmp_path / "comments.csv"
        texts.to_csv(csv, index=False)
        result = apply_lfs_to_file(csv, [lf], tmp_path / "votes.npy", chunk_size=100, progress=False)
        assert np.array_equal(result.label_matrix().values[:, 0], expected)
        assert len(server.requests) == calls  # both answered from the response cache


_KILLED_RUN = textwrap.dedent(
    """
    import sys
    from sources import read_wrench
    from labeling import apply_lfs
    from rules import prompt_lf
    from sources.llm import OpenAIBackend
    url, cache = sys.argv[1], sys.argv[2]
    backend = OpenAIBackend("loopback", base_url=url, concurrency=4)
    lf = prompt_lf("llm_spam", {template!r}, {classes!r}, backend=backend, cache=cache, progress=False)
    apply_lfs(read_wrench({data!r})["test"].data, [lf], progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_makes_exactly_the_missing_calls(texts, tmp_path):
    with LoopbackServer(lambda m: model_answer(comment_of(m)), latency=0.02) as server:
        script = tmp_path / "run.py"
        script.write_text(_KILLED_RUN.format(template=TEMPLATE, classes=CLASSES, data=str(ROOT / "tests/data/youtube")))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, str(script), server.url, str(tmp_path / "answers.sqlite")], env=env)
        deadline = time.monotonic() + 60
        while len(server.requests) < 80 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        asked_before = asked(server)

        with sqlite3.connect(tmp_path / "answers.sqlite") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        lf = make_lf(server, tmp_path)
        cache = ResponseCache(tmp_path / "answers.sqlite")
        keys = {t: lf.backend.cache_key(lf.prompt({"text": t})) for t in texts["text"].unique()}
        stored = cache.get_many(keys.values())
        cached = {t for t, k in keys.items() if k in stored}
        assert 80 - 4 <= len(cached) < len(keys)  # calls in flight at the kill may be lost, nothing else
        assert cached <= set(asked_before)
        assert all(a.text == model_answer(t) for t, a in ((t, stored[keys[t]]) for t in cached))

        server.requests.clear()
        L = apply_lfs(texts, [lf], progress=False)
        assert sorted(asked(server)) == sorted(set(keys) - cached)  # exactly the missing calls, once each
        assert lf.stats.cached == len(cached) and lf.stats.calls == len(keys) - len(cached)
        assert np.array_equal(L.values[:, 0], [expected_vote(t) for t in texts["text"]])
