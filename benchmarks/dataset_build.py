"""Benchmark: ``votewise build`` on a large comment set, with time and peak memory per step.

Run: ``python benchmarks/dataset_build.py --rows 1000000`` (default 200,000; ``--quick``: 20,000; ``--verbose``:
the MinHash passes' candidate and confirmed pairs too).

Rows are new comments of 6 to 30 words drawn from the vocabulary of the YouTube comments (WRENCH
youtube, all splits, with their word frequencies), so most rows are distinct as in a real crawl, and
changed so the cleaning steps have work: 5% are exact copies of an earlier row, 5% near-duplicates (a
word added), 1% carry a phone number or an e-mail address, 1% HTML markup. The pipeline is the default one
a new user gets (normalisation, PII masking, then exact and near dedup of the masked text; the PII
recognisers are the built-in ones, ``--pii-engine builtin``, the choice for millions of rows: ``auto`` adds
Presidio where the ``privacy`` extra is installed, about twenty times slower), the YouTube example's labeling functions, the default label model, an 80/10/10 split with
near-duplicate grouping, the leakage check and a JSONL export.

Per step it prints the wall time (from the end of the previous step to the step's log line) and the
peak resident memory seen during the step (sampled every 50 ms), then the whole run's peak (the
process's ``VmHWM``), the load average before and after and the share of a core the run got. One run only:
on a shared machine the timings are indicative.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path and its rules.py would shadow the rules package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _hwm_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` comments with exact and near duplicates, personal data and markup (see the module docstring)."""
    from sources import read_wrench

    ds = read_wrench(ROOT / "tests" / "data" / "youtube")
    base = pd.concat([ds[s].data["text"] for s in ("train", "valid", "test")]).astype(str)
    # New comments from the YouTube vocabulary (word frequencies kept): distinct texts, like a real crawl,
    # rather than copies of the 1,956 comments, which would make every row a near-duplicate of hundreds.
    vocab = base.str.split().explode().value_counts()
    rng = np.random.default_rng(seed)
    lengths = rng.integers(6, 30, n)
    draws = rng.choice(vocab.index.to_numpy(), size=int(lengths.sum()), p=(vocab / vocab.sum()).to_numpy())
    cuts = np.cumsum(lengths)[:-1]
    texts = np.array([" ".join(w) for w in np.split(draws, cuts)], dtype=object)
    kind = rng.random(n)
    src = rng.integers(0, np.maximum(np.arange(n), 1))
    exact = (kind < 0.05) & (np.arange(n) > 0)
    texts[exact] = texts[src[exact]]
    near = (kind >= 0.05) & (kind < 0.10) & (np.arange(n) > 0)
    texts[near] = [t + " wow" for t in texts[src[near]]]
    pii = (kind >= 0.10) & (kind < 0.11)
    texts[pii] = [t + (f" call 07{rng.integers(10**8, 10**9)}" if rng.random() < 0.5 else " mail me a.b@example.com")
                  for t in texts[pii]]
    markup = (kind >= 0.11) & (kind < 0.12)
    texts[markup] = [f"<b>{t}</b> &amp; more" for t in texts[markup]]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--pii-engine", default="builtin", choices=("auto", "builtin", "presidio", "merged"),
                        help="PII recognisers (default builtin; auto adds Presidio where the privacy extra is installed)")
    parser.add_argument("--progress", action="store_true", help="show the progress bars")
    parser.add_argument("--verbose", action="store_true",
                        help="also print each MinHash pass's rows, candidate and confirmed pairs with their times")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else args.rows

    from labeling.app.pipeline import build_from_config

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_rows(n).to_parquet(tmp / "rows.parquet", index=False)
        print(f"generated {n:,} rows in {time.perf_counter() - t0:.1f} s")

        peak = {"value": 0.0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["value"] = max(peak["value"], _rss_mb())
                time.sleep(0.05)

        steps: list[tuple[str, float, float]] = []
        last = {"t": 0.0}

        class StepTimer(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                step = str(record.args[0]).strip() if isinstance(record.args, tuple) and record.args else "?"
                if step == "plan":  # the build's up-front plan and estimate, not a step
                    print(f"  {record.getMessage()}", flush=True)
                    return
                now = time.perf_counter()
                steps.append((step, now - last["t"], peak["value"]))
                print(f"  {step:<12} {now - last['t']:8.1f} s {peak['value']:8.0f} MB", flush=True)
                last["t"] = now
                peak["value"] = _rss_mb()

        logger = logging.getLogger("votewise.build")
        logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)
        logger.addHandler(StepTimer(level=logging.INFO))
        if args.verbose:
            detail = logging.StreamHandler(sys.stdout)
            detail.setLevel(logging.DEBUG)
            detail.addFilter(lambda record: record.levelno < logging.INFO)
            detail.setFormatter(logging.Formatter("    %(message)s"))
            logger.addHandler(detail)
        config = {
            "name": "benchmark", "seed": 0, "progress": args.progress, "output": str(tmp / "out"),
            "class_names": ["HAM", "SPAM"],
            "sources": [{"path": str(tmp / "rows.parquet"), "id_column": "id"}],
            "lfs": {"python": str(ROOT / "examples" / "youtube_spam" / "lfs.py")},
            "split": {"fractions": {"train": 0.8, "valid": 0.1, "test": 0.1}},
            "export": {"formats": ["jsonl"]},
        }
        if args.pii_engine != "auto":
            config["clean"] = {"pii": {"engine": args.pii_engine}}
        threading.Thread(target=sample, daemon=True).start()
        load_before = os.getloadavg()
        cpu0 = time.process_time()
        start = time.perf_counter()
        last["t"] = start
        result = build_from_config(config)
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        load_after = os.getloadavg()
        stop.set()

    print(f"\n{'step':<12} {'seconds':>8} {'peak RSS MB':>12}")
    for step, seconds, mb in steps:
        print(f"{step:<12} {seconds:8.1f} {mb:12.0f}")
    print(f"{'total':<12} {total:8.1f} {_hwm_mb():12.0f}  (whole process peak, VmHWM)")
    # The machine may be shared: the load and the share of a core this process got say how far the
    # wall times are from those of an idle machine.
    print(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after on {os.cpu_count()} cores; "
          f"this process used {cpu / total:.0%} of one core on average")
    print("rows:", {k: v for k, v in result.counts.items() if k in ("sources", "dedup_exact", "dedup_near", "pii",
                                                                   "split", "leakage", "export")})


if __name__ == "__main__":
    main()
