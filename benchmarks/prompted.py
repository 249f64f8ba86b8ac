"""Benchmark: prompted LFs against a chat-completions server with 200 ms latency per call.

Run: ``python benchmarks/prompted.py [--rows 5000] [--latency 0.2] [--concurrency 64] [--sequential-rows 100]``.

The server is votewise's loopback server on 127.0.0.1 (the same HTTP protocol and ``openai`` client as a
real endpoint; its "model" answers by a keyword rule after ``--latency`` seconds). Rows are YouTube
comments drawn with replacement and made distinct by a row-number prefix, so every row is one call.
Measured, in one run:

- one call at a time, two ways: votewise with ``concurrency=1`` and the plain ``openai`` client in a
  ``for`` loop (the competitor: what a script without votewise does). Both run on ``--sequential-rows``
  rows and are extrapolated linearly to ``--rows`` (each call costs the same latency);
- votewise with ``--concurrency`` calls in flight, on every row, from an empty response cache;
- a fully cached re-run of every row (a fresh LF object, so nothing is remembered in memory);
- the response cache's size per 1,000 answers.

Targets: concurrent wall time <= 1/10 of one-at-a-time; the cached re-run <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the `rules` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np
import pandas as pd

from labeling import apply_lfs
from rules import prompt_lf
from sources.llm import LoopbackServer, OpenAIBackend, ResponseCache

DATA = _HERE.parents[1] / "shared" / "data" / "youtube" / "wrench"
if not DATA.exists():  # a checkout without the shared data: the bundled test copy
    DATA = _HERE.parent / "tests" / "data" / "youtube"

TEMPLATE = "Comment: {text}\nIs this YouTube comment spam or ham?"
CLASSES = {0: ["ham"], 1: ["spam"]}


def load_rows(n: int, seed: int = 0) -> pd.DataFrame:
    texts = []
    for split in ("train", "valid", "test"):
        records = json.loads((DATA / f"{split}.json").read_text(encoding="utf-8"))
        texts += [r["data"]["text"] for r in records.values()]
    rng = np.random.default_rng(seed)
    drawn = rng.choice(np.asarray(texts, dtype=object), size=n, replace=True)
    return pd.DataFrame({"text": [f"#{i} {t}" for i, t in enumerate(drawn)]})


def answer(messages: list[dict]) -> str:
    low = messages[-1]["content"].lower()
    return "spam" if any(w in low for w in ("check", "subscribe", "http", "channel")) else "ham"


def lf_for(server: LoopbackServer, cache: Path, concurrency: int):
    backend = OpenAIBackend("loopback", base_url=server.url, concurrency=concurrency, timeout=30.0)
    return prompt_lf("llm_spam", TEMPLATE, CLASSES, backend=backend, cache=cache, progress=False)


def timed_apply(df: pd.DataFrame, lf) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    L = apply_lfs(df, [lf], progress=False)
    return time.perf_counter() - start, L.values[:, 0]


def plain_client_loop(server: LoopbackServer, df: pd.DataFrame, lf) -> float:
    import openai

    client = openai.OpenAI(base_url=server.url, api_key="not-needed", timeout=30.0)
    start = time.perf_counter()
    for text in df["text"]:
        client.chat.completions.create(model="loopback", messages=lf.prompt({"text": text}).chat(),
                                       temperature=0.0, max_tokens=8)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call at the server")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sequential-rows", type=int, default=100,
                        help="rows run one call at a time (extrapolated to --rows)")
    args = parser.parse_args()

    df = load_rows(args.rows)
    seq = df.iloc[: args.sequential_rows]
    eta = args.sequential_rows * args.latency * 2 + args.rows * args.latency / args.concurrency
    print(f"{args.rows:,} rows, {args.latency * 1000:.0f} ms per call; one-at-a-time runs on "
          f"{len(seq):,} rows. About {eta / 60:.1f} minutes plus client overhead.", file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="votewise-prompted-"))
    with LoopbackServer(answer, latency=args.latency) as server:
        # Warm up the client import and the connection, outside every timing.
        lf_for(server, folder / "warm.sqlite", 1).vote_text("warm up")

        t_plain = plain_client_loop(server, seq, lf_for(server, folder / "unused.sqlite", 1))
        t_seq, _ = timed_apply(seq, lf_for(server, folder / "seq.sqlite", 1))
        before = len(server.requests)
        t_conc, votes = timed_apply(df, lf_for(server, folder / "answers.sqlite", args.concurrency))
        calls = len(server.requests) - before
        t_cached, again = timed_apply(df, lf_for(server, folder / "answers.sqlite", args.concurrency))
        assert len(server.requests) - before == calls, "the cached re-run made calls"
        assert np.array_equal(votes, again)
        in_flight = server.max_in_flight

    expected = np.array([1 if answer([{"content": t}]) == "spam" else 0 for t in df["text"]])
    assert np.array_equal(votes, expected), "votes differ from the server's answers"
    cache = ResponseCache(folder / "answers.sqlite")
    n_answers = len(cache)
    cache.checkpoint()  # the size of the answers, not of a write-ahead log waiting to be folded in
    size = cache.path.stat().st_size
    cache.close()
    scale = args.rows / len(seq)
    rows = [
        ("openai client, for loop (competitor)", len(seq), t_plain, t_plain * scale),
        ("votewise, concurrency=1", len(seq), t_seq, t_seq * scale),
        (f"votewise, concurrency={args.concurrency}", args.rows, t_conc, t_conc),
        ("votewise, fully cached re-run", args.rows, t_cached, t_cached),
    ]
    print(f"\n{args.rows:,} rows, {calls:,} calls, server latency {args.latency * 1000:.0f} ms, "
          f"most requests in flight at once: {in_flight}\n")
    print(f"| run | rows run | wall s (measured) | wall s for {args.rows:,} rows | vs one at a time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    base = t_seq * scale
    for name, n, t, full in rows:
        extrapolated = "" if n == args.rows else " (extrapolated)"
        print(f"| {name} | {n:,} | {t:.2f} | {full:.1f}{extrapolated} | {full / base:.3f} |")
    print(f"\nresponse cache: {n_answers:,} answers in {size / 1e6:.2f} MB = {size / n_answers:.0f} kB "
          "per 1,000 answers")
    print(f"target concurrent <= 1/10 of one at a time: {t_conc / base:.3f} -> "
          f"{'met' if t_conc <= base / 10 else 'NOT met'}")
    print(f"target cached re-run <= 2 s: {t_cached:.2f} s -> {'met' if t_cached <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
