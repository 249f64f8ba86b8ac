"""Active learning, simulated on WRENCH youtube and trec: votewise's loop with its own label model and with Snorkel's.

The train split's gold labels play the reviewer; after each batch the test accuracy of the
final classifier (``combined_acc``: end model x label model x reviewed-rows model, see
``labeling.review.FinalClassifier``) is recorded. Each strategy runs once with votewise's
``LabelModel`` (which uses the reviews to correct LF precisions) and once with Snorkel's
``LabelModel`` (which uses them only for the class balance), in the same loop, end model
and seeds, so the table compares the label models side by side.

    python benchmarks/active_learning.py                       # both datasets, 5 seeds
    python benchmarks/active_learning.py --datasets trec --seeds 2

Targets (budget 100, batch 10, mean of 5 seeds): ``combined_acc`` >= 95.0 on youtube and
>= 72.0 on trec, and the best strategy beats random at every budget. trec's test texts carry
their fine-grained label as a first token; the simulation drops it (``leading_token_leak``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from labeling.app import simulate  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
FOLDERS = {"youtube": SHARED / "youtube" / "wrench", "trec": SHARED / "trec"}
TARGETS = {"youtube": 95.0, "trec": 72.0}


def _models():
    from models import LabelModel, SnorkelLabelModel

    return {
        "votewise": lambda k: LabelModel(cardinality=k),
        "snorkel": lambda k: SnorkelLabelModel(cardinality=k),
    }


def run(name: str, folder: Path, strategies: list[str], seeds: int, budget: int, batch: int) -> pd.DataFrame:
    frames = []
    for label, factory in _models().items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the trec prefix warning, once per run
            res = simulate(folder, strategies=strategies, budget=budget, batch_size=batch, seeds=seeds,
                           model_factory=factory, progress=True)
        res["label_model"] = label
        res["seconds"] = time.perf_counter() - t0
        frames.append(res)
    return pd.concat(frames, ignore_index=True)


def report(name: str, res: pd.DataFrame, target: float) -> None:
    mean = res.groupby(["label_model", "strategy", "n_labels"])[["lm_acc", "end_acc", "combined_acc"]].mean() * 100
    print(f"\n## {name}: combined_acc (%), mean of {res['seed'].nunique()} seeds")
    table = mean["combined_acc"].unstack(["label_model", "strategy"]).round(1)
    print(table.to_string())
    budget = int(res["n_labels"].max())
    print(f"\nAt {budget} labels: label model / end model / combination, and whether the strategy beats random "
          "at every budget")
    rows = []
    for (lm, strategy), grp in mean.groupby(level=["label_model", "strategy"]):
        curve = grp["combined_acc"].droplevel([0, 1])
        base = mean.loc[(lm, "random"), "combined_acc"]
        beats = bool((curve[curve.index > 0] > base[base.index > 0]).all()) if strategy != "random" else None
        last = grp.xs(budget, level="n_labels").iloc[0]
        rows.append({"label model": lm, "strategy": strategy, "lm_acc": round(last["lm_acc"], 1),
                     "end_acc": round(last["end_acc"], 1), "combined_acc": round(last["combined_acc"], 1),
                     "beats random everywhere": beats, "target": target,
                     "meets target": bool(last["combined_acc"] >= target)})
    print(pd.DataFrame(rows).to_string(index=False))
    secs = res.groupby("label_model")["seconds"].first().round(0)
    print("\nwall time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in secs.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(FOLDERS), choices=list(FOLDERS))
    parser.add_argument("--strategies", default="lf_disagreement,lf_audit",
                        help="comma-separated; random is always run (default: lf_disagreement,lf_audit)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    for name in args.datasets:
        folder = FOLDERS[name]
        if not folder.exists():
            print(f"{folder} not found: this benchmark reads the WRENCH files of the shared data folder.",
                  file=sys.stderr)
            return 2
        res = run(name, folder, strategies, args.seeds, args.budget, args.batch)
        report(name, res, TARGETS[name])
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
