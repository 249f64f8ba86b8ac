"""Benchmark: the 68 TREC rules on 1,000,000 rows, votewise's batch path vs Snorkel's PandasLFApplier.

Run: ``python benchmarks/rules.py [--rows 1000000] [--snorkel-rows 20000]``.

Rows are TREC questions (train + valid + test) drawn with replacement, in two versions: as drawn
(many repeated texts, as in real logs) and made distinct by prefixing a row number (``q17 what is
...``; no rule can match the prefix, so every vote stays the same). Snorkel gets the same 68 regular
expressions as row LFs (``re.search`` per row). Snorkel runs on a subsample and its time is
extrapolated linearly to the full row count (its cost per row is constant); both paths' votes are
checked to be identical on the subsample.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the `rules` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np
import pandas as pd

from labeling import apply_lfs
from rules import rules_from_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "trec"
if not DATA.exists():  # a checkout without the shared data: fall back to the test copy
    DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "trec"


def load_texts() -> list[str]:
    texts = []
    for split in ("train", "valid", "test"):
        records = json.loads((DATA / f"{split}.json").read_text(encoding="utf-8"))
        texts += [r["data"]["text"] for r in records.values()]
    return texts


def snorkel_lfs(lfs):
    from snorkel.labeling import LabelingFunction as SnorkelLF

    def make(lf):
        pattern, label = lf.pattern, lf.label

        def f(x):
            return label if pattern.search(x.text) else -1

        return SnorkelLF(lf.name, f)

    return [make(lf) for lf in lfs]


def run_snorkel(df: pd.DataFrame, lfs) -> tuple[np.ndarray, float]:
    from snorkel.labeling import PandasLFApplier

    applier = PandasLFApplier(snorkel_lfs(lfs))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L = applier.apply(df, progress_bar=False)
    return L, time.perf_counter() - start


def run_votewise(df: pd.DataFrame, lfs) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    L = apply_lfs(df, lfs, progress=False)
    return np.asarray(L), time.perf_counter() - start


def main(n_rows: int, n_snorkel: int, seed: int) -> pd.DataFrame:
    lfs = rules_from_file(DATA / "readme.txt")
    texts = np.asarray(load_texts(), dtype=object)
    rng = np.random.default_rng(seed)
    drawn = texts[rng.integers(0, len(texts), n_rows)]
    datasets = {
        "repeated texts": pd.DataFrame({"text": drawn}),
        "distinct texts": pd.DataFrame({"text": [f"q{i} {t}" for i, t in enumerate(drawn)]}),
    }
    rows = []
    for kind, df in datasets.items():
        L_vw, t_vw = run_votewise(df, lfs)
        sub = df.iloc[:n_snorkel]
        L_sn, t_sn = run_snorkel(sub, lfs)
        if not np.array_equal(L_vw[:n_snorkel], L_sn):
            raise AssertionError(f"{kind}: votewise and Snorkel votes differ on the subsample")
        t_sn_full = t_sn * n_rows / len(sub)
        rows.append({"data": kind, "method": f"Snorkel PandasLFApplier (row LFs), {len(sub):,} rows measured",
                     "seconds": t_sn_full, "rows/s": n_rows / t_sn_full, "speed-up": 1.0, "extrapolated": True})
        rows.append({"data": kind, "method": f"votewise apply_lfs (batch rules), {n_rows:,} rows measured",
                     "seconds": t_vw, "rows/s": n_rows / t_vw, "speed-up": t_sn_full / t_vw, "extrapolated": False})
    table = pd.DataFrame(rows)
    print(f"68 TREC rules ({len(lfs)} LFs) on {n_rows:,} rows; Snorkel time extrapolated from {n_snorkel:,} rows.")
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(table.to_string(index=False, formatters={"seconds": "{:.1f}".format, "rows/s": "{:,.0f}".format,
                                                       "speed-up": "{:.1f}x".format}))
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--snorkel-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.rows, args.snorkel_rows, args.seed)
