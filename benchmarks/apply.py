"""Benchmark: applying 10 keyword / regex / length LFs at scale, votewise vs Snorkel's PandasLFApplier.

Run: ``python benchmarks/apply.py`` (defaults: 1,000,000 rows, Snorkel measured on 50,000 and
extrapolated, row LFs on 200,000 rows, Dask reading the rows from 8 Parquet files, streaming
10,000,000 rows). ``--quick`` runs small sizes.

Rows are YouTube comments (WRENCH youtube, all splits) drawn with replacement and made distinct by a
row-number prefix (``c17 check out my channel``), so that dedup gains nothing; one line also runs
the drawn texts as they are (repeats, as in real logs). The same 10 LFs exist three ways:
Snorkel row functions, votewise row LFs (the same functions) and votewise batch LFs (one
``pyarrow.compute`` call per chunk). Every votewise matrix is checked equal to Snorkel's on the
subsample Snorkel labels. Snorkel's time is extrapolated linearly from its subsample (its cost per
row is constant). votewise timings are the best of ``--repeat`` runs (the streaming line is a single
run): the cache lines start from the state they describe each time (an emptied cache, a cache
without the edited LF's column); the Dask line and its one-process baseline each get a warm-up
run that is not timed, then take turns. Wall-clock times on a shared machine are noisy; speed-ups of
parallel runs depend on idle cores (the load average and a control line are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from labeling import (
    ABSTAIN, LFCache, apply_lfs, apply_lfs_to_file, labeling_function, vote_patterns,
)

DATA = _HERE.parents[1] / "shared" / "data" / "youtube" / "wrench"
if not DATA.exists():  # a checkout without the shared data: the bundled test copy
    DATA = _HERE.parent / "tests" / "data" / "youtube"

SPAM, HAM = 1, 0
# Python's str.split() whitespace, spelled for RE2, so both paths count words the same way.
WS = r"[\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
NWS = WS.replace("[", "[^", 1)
PY_WS = "[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

# name, kind, pattern / bound, label
SPEC = [
    ("check_out", "regex", r"check\s*(?:it\s*)?out", SPAM),
    ("subscribe", "keyword", "subscribe", SPAM),
    ("my_channel", "regex", r"my (?:channel|page|video)", SPAM),
    ("link", "regex", r"https?://|www\.", SPAM),
    ("please", "regex", r"please|plz|pls", SPAM),
    ("song", "keyword", "song", HAM),
    ("love_it", "regex", r"(?:love|like) (?:this|it)", HAM),
    ("money", "regex", r"\$\d+|money|earn|cash", SPAM),
    ("short", "words_max", 5, HAM),
    ("long", "chars_min", 300, SPAM),
]
EDITED = ("please", "regex", r"please|plz|pls|plese", SPAM)  # the "edit one LF" step


def row_function(name: str, kind: str, arg, label: int):
    """The LF as Snorkel would write it: one row in, one vote out."""
    if kind == "regex":
        pattern = re.compile(arg, re.IGNORECASE)
        return lambda x: label if pattern.search(x.text) else ABSTAIN
    if kind == "keyword":
        word = arg
        return lambda x: label if word in x.text.lower() else ABSTAIN
    if kind == "words_max":
        return lambda x: label if len(x.text.split()) <= arg else ABSTAIN
    return lambda x: label if len(x.text) >= arg else ABSTAIN


def _arrow(df: pd.DataFrame) -> pa.ChunkedArray:
    return pa.chunked_array(pa.array(df["text"]))


def batch_function(name: str, kind: str, arg, label: int):
    """The same LF on a whole chunk: one pyarrow.compute call (RE2, no Python loop)."""
    if kind == "regex":
        def f(df):
            return np.where(pc.match_substring_regex(_arrow(df), arg, ignore_case=True).to_numpy(False), label, ABSTAIN)
    elif kind == "keyword":
        def f(df):
            return np.where(pc.match_substring(pc.utf8_lower(_arrow(df)), arg).to_numpy(False), label, ABSTAIN)
    elif kind == "words_max":
        more = rf"^{WS}*(?:{NWS}+{WS}+){{{arg}}}{NWS}"  # at least arg+1 words

        def f(df):
            return np.where(pc.match_substring_regex(_arrow(df), more).to_numpy(False), ABSTAIN, label)
    else:
        def f(df):
            return np.where(pc.greater_equal(pc.utf8_length(_arrow(df)), arg).to_numpy(False), label, ABSTAIN)
    return f


def make_lfs(style: str, spec=SPEC):
    if style == "snorkel":
        from snorkel.labeling import LabelingFunction as SnorkelLF

        return [SnorkelLF(name, row_function(name, kind, arg, label)) for name, kind, arg, label in spec]
    vectorized = style == "batch"
    build = batch_function if vectorized else row_function
    return [labeling_function(name=name, vectorized=vectorized)(build(name, kind, arg, label)) for name, kind, arg, label in spec]


def load_texts() -> np.ndarray:
    texts = []
    for split in ("train", "valid", "test"):
        records = json.loads((DATA / f"{split}.json").read_text(encoding="utf-8"))
        texts += [r["data"]["text"] for r in records.values()]
    return np.asarray(texts, dtype=object)


def make_rows(texts: np.ndarray, n: int, seed: int, start: int = 0, distinct: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng([seed, start])
    drawn = texts[rng.integers(0, len(texts), n)]
    if distinct:
        drawn = [f"c{start + i} {t}" for i, t in enumerate(drawn)]
    return pd.DataFrame({"text": pd.array(drawn, dtype="str")}, index=pd.RangeIndex(start, start + n))


def timed(fn, *args, repeat: int = 1, **kwargs):
    """Result and the best wall time of ``repeat`` runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t)
    return out, best


class Table:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, what: str, rows: int, seconds: float, ratio: str = "", target: str = "", met: bool | None = None,
            note: str = "") -> None:
        self.rows.append({"measurement": what, "rows": f"{rows:,}", "seconds": f"{seconds:.2f}",
                          "rows/s": f"{rows / seconds:,.0f}" if seconds > 0 else "", "result": ratio,
                          "target": target, "met": "" if met is None else ("yes" if met else "NO"), "note": note})
        print(f"  {what}: {seconds:.2f} s {ratio}", flush=True)

    def show(self) -> None:
        with pd.option_context("display.width", 250, "display.max_colwidth", 70):
            print(pd.DataFrame(self.rows).to_string(index=False))


def snorkel_apply(df: pd.DataFrame) -> np.ndarray:
    from snorkel.labeling import PandasLFApplier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PandasLFApplier(make_lfs("snorkel")).apply(df.reset_index(drop=True), progress_bar=False)


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def bench_control(table: Table) -> None:
    """How much two processes can gain on this machine right now, with no data and no votewise."""
    from joblib import Parallel, delayed

    Parallel(n_jobs=2)(delayed(_burn)(10) for _ in range(2))
    _, t1 = timed(lambda: [_burn(2_000_000) for _ in range(8)], repeat=2)
    _, t2 = timed(lambda: Parallel(n_jobs=2)(delayed(_burn)(2_000_000) for _ in range(8)), repeat=2)
    table.add("control: pure-Python loop, 2 processes vs 1 (no votewise)", 8, t2, f"{t1 / t2:.2f}x 1 process",
              note="the parallel speed-up this machine allows now")


def bench_apply(table: Table, texts, args) -> None:
    n = args.rows
    df = make_rows(texts, n, args.seed)
    sub = df.iloc[: args.snorkel_rows]
    L_sn, t_sn = timed(snorkel_apply, sub)
    t_sn_full = t_sn * n / len(sub)
    table.add(f"Snorkel PandasLFApplier, row LFs (measured on {len(sub):,}, extrapolated)", n, t_sn_full, "1.0x",
              note="extrapolated")
    L, t = timed(apply_lfs, df, make_lfs("batch"), progress=False, repeat=args.repeat)
    assert np.array_equal(L.values[: len(sub)], L_sn), "batch votes differ from Snorkel's"
    table.add("votewise batch LFs, n_jobs=1", n, t, f"{t_sn_full / t:.0f}x Snorkel", ">= 50x", t_sn_full / t >= 50)
    apply_lfs(df.iloc[:1000], make_lfs("batch"), progress=False, n_jobs=2)  # start the 2 workers before the clock
    L2, t2 = timed(apply_lfs, df, make_lfs("batch"), progress=False, n_jobs=2, repeat=args.repeat)
    assert L2 == L
    table.add("votewise batch LFs, n_jobs=2", n, t2, f"{t_sn_full / t2:.0f}x Snorkel", ">= 50x", t_sn_full / t2 >= 50)
    rep = make_rows(texts, n, args.seed, distinct=False)
    L3, t3 = timed(apply_lfs, rep, make_lfs("batch"), progress=False, repeat=args.repeat)
    L3_sn = snorkel_apply(rep.iloc[: args.snorkel_rows // 5])
    assert np.array_equal(L3.values[: len(L3_sn)], L3_sn)
    table.add("votewise batch LFs, repeated texts (dedup)", n, t3, f"{t_sn_full / t3:.0f}x Snorkel",
              note=f"{rep.text.nunique():,} distinct texts")

    m = args.row_rows
    part = df.iloc[:m]
    R1, r1 = timed(apply_lfs, part, make_lfs("row"), progress=False, n_jobs=1, repeat=args.repeat)
    assert np.array_equal(R1.values[: len(sub)], L_sn[:m]), "row votes differ from Snorkel's"
    table.add("votewise row LFs, n_jobs=1", m, r1, f"{t_sn * m / len(sub) / r1:.1f}x Snorkel")
    R2, r2 = timed(apply_lfs, part, make_lfs("row"), progress=False, n_jobs=2, repeat=args.repeat)
    assert R2 == R1
    table.add("votewise row LFs, n_jobs=2", m, r2, f"{r1 / r2:.2f}x n_jobs=1", ">= 1.7x", r1 / r2 >= 1.7)

    with tempfile.TemporaryDirectory() as tmp:
        for style, rows, full in (("batch", df, t), ("row", part, r1)):
            cache = LFCache(Path(tmp) / style)

            def cold_run(lfs):
                cache.clear()
                return apply_lfs(rows, lfs, progress=False, cache=cache)

            _, cold = timed(cold_run, make_lfs(style), repeat=args.repeat)
            _, warm = timed(apply_lfs, rows, make_lfs(style), progress=False, cache=cache, repeat=args.repeat)
            # The same cache without its check of each column on a sample of rows: what the check costs.
            unchecked = LFCache(cache.location, verify=0)
            _, warm0 = timed(apply_lfs, rows, make_lfs(style), progress=False, cache=unchecked, repeat=args.repeat)
            stored = set(cache.location.rglob("*.npz"))
            edited = make_lfs(style, [EDITED if s[0] == "please" else s for s in SPEC])

            def edited_run(lfs):
                # Each repeat recomputes the edited LF: its column from the previous repeat is removed.
                for path in set(cache.location.rglob("*.npz")) - stored:
                    path.unlink()
                return apply_lfs(rows, lfs, progress=False, cache=cache)

            L_e, t_e = timed(edited_run, edited, repeat=args.repeat)
            assert cache.misses_ == ["please"], cache.misses_
            assert L_e == apply_lfs(rows, edited, progress=False)
            table.add(f"{style} LFs with cache, first run (stores 10 columns)", len(rows), cold, f"{cold / full:.0%} of apply")
            table.add(f"{style} LFs with cache, nothing changed", len(rows), warm, f"{warm / full:.0%} of apply",
                      note=f"each column checked on {cache.verified_rows_:,} sampled rows")
            table.add(f"{style} LFs with cache, nothing changed, verify=0", len(rows), warm0,
                      f"{warm0 / full:.0%} of apply", note="no sample check (stale state goes unseen)")
            table.add(f"{style} LFs with cache, 1 of 10 LFs edited", len(rows), t_e, f"{t_e / full:.0%} of apply",
                      "<= 15%", t_e / full <= 0.15, note="recomputes 1 column; reads 9 from the cache")


def _runs(seconds: list[float]) -> str:
    return "/".join(f"{t:.2f}" for t in seconds)


def bench_dask(table: Table, texts, args) -> None:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from labeling import apply_lfs_dask, vote_patterns_dask

    with tempfile.TemporaryDirectory() as tmp:
        for style, n in (("batch", args.rows), ("row", args.row_rows)):
            folder = Path(tmp) / style
            folder.mkdir()
            parts = args.dask_files
            for i, s in enumerate(range(0, n, -(-n // parts))):
                make_rows(texts, min(-(-n // parts), n - s), args.seed, start=s).to_parquet(folder / f"part-{i:03d}.parquet")

            def one_process():
                df = pd.read_parquet(folder)
                return vote_patterns(apply_lfs(df, make_lfs(style), progress=False))

            # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which hands freed memory back to
            # the OS at once and so makes every large allocation fault its pages in afresh (about 8%
            # slower here); the one-process side runs with glibc's defaults, and so do these workers.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                    LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                 silence_logs=40) as cluster, Client(cluster):

                def on_dask():
                    return vote_patterns_dask(apply_lfs_dask(dd.read_parquet(folder), make_lfs(style)))

                # Warm-up runs, not timed: imports, the file cache, both workers. Then the two sides
                # take turns, so that a burst of other load on the machine hits both alike.
                one_process(), on_dask()
                runs1, runs2 = [], []
                for _ in range(args.repeat):
                    (patterns, counts), t = timed(one_process)
                    runs1.append(t)
                    vp, t = timed(on_dask)
                    runs2.append(t)
            t1, t2 = min(runs1), min(runs2)
            assert np.array_equal(vp.patterns, patterns) and np.array_equal(vp.counts, counts)
            table.add(f"read {parts} Parquet files + {style} LFs + pattern counts, one process", n, t1,
                      note="pd.read_parquet + apply_lfs(n_jobs=1) + vote_patterns; runs " + _runs(runs1))
            table.add(f"read {parts} Parquet files + {style} LFs + pattern counts, Dask 2 workers", n, t2,
                      f"{t1 / t2:.2f}x one process", ">= 1.5x", t1 / t2 >= 1.5,
                      note="workers read the files; 2 processes x 1 thread, glibc malloc defaults; runs " + _runs(runs2))


def _peak_rss() -> int:
    """This process's peak resident memory in bytes.

    Linux's VmHWM belongs to the address space created at exec, so it does not include the parent's
    memory; ru_maxrss would (it is kept across fork and exec).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stream_child(path: str, out: str, chunk_size: int) -> None:
    result, t = timed(apply_lfs_to_file, path, make_lfs("batch"), out, chunk_size=chunk_size, progress=False)
    peak = _peak_rss()
    print(json.dumps({"n_rows": result.n_rows, "seconds": t, "peak_bytes": peak, "patterns": len(result.patterns)}))


def bench_stream(table: Table, texts, args) -> None:
    import pyarrow.parquet as pq

    n, group = args.stream_rows, 200_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.parquet"
        writer = None
        for s in range(0, n, group):  # written group by group: the generator stays small too
            tbl = pa.Table.from_pandas(make_rows(texts, min(group, n - s), args.seed, start=s), preserve_index=False)
            writer = writer or pq.ParquetWriter(path, tbl.schema)
            writer.write_table(tbl)
        writer.close()
        size = path.stat().st_size
        cmd = [sys.executable, __file__, "--stream-child", str(path), str(Path(tmp) / "L.npy"), str(args.stream_chunk)]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        L = np.load(Path(tmp) / "L.npy", mmap_mode="r")
        assert L.shape == (n, len(SPEC))
        ref = apply_lfs(make_rows(texts, min(group, n), args.seed), make_lfs("batch"), progress=False)
        assert np.array_equal(L[: len(ref)], ref.values)
        gb = res["peak_bytes"] / 2**30
        table.add(f"stream {n:,} rows from Parquet ({size / 2**20:,.0f} MiB) to .npy, chunks of {args.stream_chunk:,}",
                  n, res["seconds"], f"peak RSS {gb:.2f} GiB", "<= 1 GB", res["peak_bytes"] <= 1e9,
                  note=f"{res['patterns']} vote patterns")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--snorkel-rows", type=int, default=50_000)
    parser.add_argument("--row-rows", type=int, default=200_000)
    parser.add_argument("--stream-rows", type=int, default=10_000_000)
    parser.add_argument("--stream-chunk", type=int, default=100_000)
    parser.add_argument("--dask-files", type=int, default=8,
                        help="Parquet files (Dask partitions) the Dask comparison reads, on both sides")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs for the votewise apply timings")
    parser.add_argument("--only", choices=["apply", "dask", "stream"], action="append")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--stream-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        stream_child(args.stream_child[0], args.stream_child[1], int(args.stream_child[2]))
        return
    if args.quick:
        args.rows, args.snorkel_rows, args.row_rows, args.stream_rows = 40_000, 5_000, 10_000, 300_000
    texts = load_texts()
    table = Table()
    print(f"10 LFs; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    steps = args.only or ["apply", "dask", "stream"]
    bench_control(table)
    if "apply" in steps:
        bench_apply(table, texts, args)
    if "dask" in steps:
        bench_dask(table, texts, args)
    if "stream" in steps:
        bench_stream(table, texts, args)
    bench_control(table)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    table.show()


if __name__ == "__main__":
    main()
