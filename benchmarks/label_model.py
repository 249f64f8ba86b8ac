"""Label-model speed and memory: votewise LabelModel against Snorkel's LabelModel on synthetic votes.

Each model and case runs in a fresh subprocess (libraries imported before
timing) that fits ``--repeat`` times; the table shows the first fit in
seconds (what a one-off run costs), the fastest fit (the warm cost, least
disturbed by other processes), the largest peak extra resident memory during a fit
(the process's peak RSS is reset right before fitting, so making the data does
not count), and accuracy against the hidden true labels.

    python benchmarks/label_model.py                 # all cases; Snorkel on the two it can finish
    python benchmarks/label_model.py --cases 1m      # one case
    python benchmarks/label_model.py --snorkel-all   # also try Snorkel on the many-class cases

Targets: "1m" <= 5 s, <= 1 GB and >= 5x faster than Snorkel; "many-classes"
<= 5 minutes; "many-lfs" <= 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# name: (rows, LFs, classes, LF firing rate range, LF accuracy range, Snorkel by default)
CASES = {
    "1m": (1_000_000, 50, 2, (0.05, 0.5), (0.55, 0.95), True),
    "200k-k6": (200_000, 100, 6, (0.02, 0.3), (0.4, 0.9), True),
    "many-classes": (300_000, 30, 1461, (0.05, 0.4), (0.4, 0.9), False),
    "many-lfs": (100_000, 1200, 56, (0.01, 0.05), (0.4, 0.9), False),
}


def make_votes(case: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic votes: LFs independent given the class, each with its own firing rate and accuracy."""
    n, m, k, fire, acc, _ = CASES[case]
    rng = np.random.default_rng(seed)
    balance = rng.dirichlet(np.full(k, 5.0))
    y = rng.choice(k, size=n, p=balance)
    rate = rng.uniform(*fire, size=m)
    accuracy = rng.uniform(*acc, size=m)
    L = np.full((n, m), -1, dtype=np.int8 if k <= 127 else np.int16)
    for j in range(m):
        rows = np.flatnonzero(rng.random(n) < rate[j])
        right = rng.random(len(rows)) < accuracy[j]
        wrong = (y[rows] + rng.integers(1, k, size=len(rows))) % k
        L[rows, j] = np.where(right, y[rows], wrong)
    return L, y


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(case: str, model_name: str, repeat: int) -> dict:
    from models import LabelModel, SnorkelLabelModel, probs_to_preds

    if model_name == "snorkel":  # import torch and Snorkel before any timing
        import snorkel.labeling.model  # noqa: F401

    L, y = make_votes(case)
    k = CASES[case][2]
    times, peaks = [], []
    for _ in range(repeat):
        model = LabelModel(cardinality=k) if model_name == "votewise" else SnorkelLabelModel(cardinality=k)
        before = _rss_mb("VmRSS")
        try:  # Linux: reset the peak-RSS counter so only the fit is measured
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass
        start = time.perf_counter()
        model.fit(L)
        times.append(time.perf_counter() - start)
        peaks.append(_rss_mb("VmHWM") - before)
    sample = slice(0, min(len(y), 100_000))
    acc = float(np.mean(probs_to_preds(model.predict_proba(L[sample]), tie_break="first") == y[sample]))
    # The first fit is what a one-off run costs; the fastest repeat is the least
    # disturbed by other processes and shows the warm cost.
    return {"case": case, "model": model_name, "first": times[0], "best": min(times), "peak_mb": max(peaks),
            "accuracy": acc}


def run(case: str, model_name: str, timeout: float, repeat: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", case, model_name, "--repeat", str(repeat)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"case": case, "model": model_name, "error": f"timed out after {timeout:.0f} s"}
    if out.returncode != 0:
        return {"case": case, "model": model_name, "error": out.stderr.strip().splitlines()[-1:] or "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--snorkel-all", action="store_true", help="run Snorkel on every case")
    parser.add_argument("--no-snorkel", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per fit")
    parser.add_argument("--repeat", type=int, default=3, help="fits per model and case; the fastest counts")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, repeat=args.repeat)))
        return
    header = (f"{'case':<14}{'rows x LFs, k':<22}{'model':<10}{'first s':>9}{'best s':>9}{'peak MB':>9}"
              f"{'acc %':>7}{'x first':>9}{'x best':>8}")
    print(header)
    print("-" * len(header))
    for case in args.cases:
        n, m, k, *_, snorkel_default = CASES[case]
        results = [run(case, "votewise", args.timeout, args.repeat)]
        if not args.no_snorkel and (snorkel_default or args.snorkel_all):
            results.append(run(case, "snorkel", args.timeout, args.repeat))
        base = results[0]
        for r in results:
            shape = f"{n:,} x {m}, k={k}"
            if "error" in r:
                print(f"{case:<14}{shape:<22}{r['model']:<10}  {r['error']}")
                continue
            ratios = ["", ""]
            if r["model"] != "votewise" and "first" in base:
                ratios = [f"{r['first'] / base['first']:.1f}x", f"{r['best'] / base['best']:.1f}x"]
            print(f"{case:<14}{shape:<22}{r['model']:<10}{r['first']:>9.2f}{r['best']:>9.2f}{r['peak_mb']:>9.0f}"
                  f"{100 * r['accuracy']:>7.1f}{ratios[0]:>9}{ratios[1]:>8}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
