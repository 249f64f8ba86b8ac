"""``votewise review`` and ``votewise simulate``: registered on the main CLI's subparsers."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

__all__ = ["add_subcommands"]


def _cmd_review(args: argparse.Namespace) -> int:
    from labeling.review.guidelines import Guidelines
    from labeling.review.store import ReviewStore
    from labeling.review.terminal import review_terminal

    if not Path(args.store).exists():
        print(f"No review store at {args.store}; create one with ActiveLoop(...).next_batch().", file=sys.stderr)
        return 2
    store = ReviewStore(args.store)
    guidelines = Guidelines.load(args.guidelines) if args.guidelines else None
    n = review_terminal(store, reviewer=args.reviewer, guidelines=guidelines, limit=args.limit)
    print(f"Recorded {n} decisions in {args.store}", file=sys.stderr)
    store.close()
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from models.end_model import TextEndModel

    from .simulate import plot_learning_curves, simulate

    strategies = [s for arg in (args.strategy or ["entropy"]) for s in arg.split(",") if s]
    import pandas as pd

    results = pd.concat([
        simulate(
            folder, strategies=strategies, budget=args.budget, batch_size=args.batch, seeds=args.seeds,
            end_model=False if args.no_end_model else TextEndModel(), progress=not args.quiet,
            strip_test_prefix={"auto": None, "strip": True, "keep": False}[args.test_prefix],
            metric={"acc": "accuracy", "f1": "f1"}[args.metric], audit_fraction=args.audit_fraction,
        )
        for folder in args.folder
    ], ignore_index=True)
    metric = "lm_acc" if args.no_end_model else args.curve
    if args.plot:
        plot_learning_curves(results, metric=metric).savefig(args.plot, dpi=110)
        print(f"Wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(json.dumps(results.to_dict(orient="records")))
    else:
        means = results.groupby(["dataset", "strategy", "n_labels"]).mean(numeric_only=True).drop(columns="seed")
        with pd.option_context("display.max_rows", None, "display.width", 200):
            scaled = means.mul([1 if c == "audit_n" else 100 for c in means.columns], axis=1)
            print(scaled.round(1).to_string())
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``review`` and ``simulate`` on the ``votewise`` subparsers."""
    p = subparsers.add_parser("review", help="review queued samples of a review store in the terminal")
    p.add_argument("store", help="the review store (.sqlite) written by the active loop")
    p.add_argument("--reviewer", default=getpass.getuser(), help="name recorded with each label (default: login)")
    p.add_argument("--guidelines", default=None, help="annotation guidelines (.md or .yaml) to show")
    p.add_argument("--limit", type=int, default=None, help="stop after this many decisions")
    p.set_defaults(func=_cmd_review)

    p = subparsers.add_parser("simulate", help="simulate active learning with gold labels as the human")
    p.add_argument("folder", nargs="+", help="WRENCH dataset folders with train and test splits")
    p.add_argument("--strategy", action="append", default=None,
                   help="strategy (repeatable or comma-separated); random is always run as the baseline")
    p.add_argument("--budget", type=int, default=100, help="human labels in all (default: 100)")
    p.add_argument("--batch", type=int, default=10, help="labels per batch (default: 10)")
    p.add_argument("--seeds", type=int, default=5, help="repetitions (default: 5)")
    p.add_argument("--plot", default=None, help="write a PNG learning curve of every strategy against random")
    p.add_argument("--metric", default="acc", choices=["acc", "f1"],
                   help="how test predictions are scored: accuracy, or F1 of class 1 (macro F1 beyond two "
                        "classes) as for WRENCH's F1 datasets such as sms (default: acc)")
    p.add_argument("--curve", default="combined_acc", choices=["lm_acc", "end_acc", "combined_acc"],
                   help="what the plot shows: the label model, the end model trained on the loop's labels, "
                        "or their product on covered test rows (default)")
    p.add_argument("--audit-fraction", type=float, default=0.0,
                   help="share of each batch drawn at random, for an unbiased estimate of the labels' accuracy")
    p.add_argument("--no-end-model", action="store_true", help="score the label model only (faster)")
    p.add_argument("--test-prefix", default="auto", choices=["auto", "strip", "keep"],
                   help="drop the first token of each test text before the end model reads it: 'auto' does so "
                        "when most test texts start with a token no train text starts with, a label leak "
                        "(WRENCH trec); default: auto")
    p.add_argument("--json", action="store_true", help="print one JSON record per strategy, seed and batch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

