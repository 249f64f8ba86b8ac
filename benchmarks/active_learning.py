"""Active learning, simulated on WRENCH youtube, trec, sms and semeval: strategies against random, TF-IDF
experts against TF-IDF plus sentence embeddings, and (``--snorkel``) Snorkel's label model in the same loop.

The train split's gold labels play the reviewer; after each batch the test accuracy of the
final classifier (``combined_acc``: end model x label model x reviewed-rows model, see
``models.FinalClassifier``) is recorded. The text experts run twice: on TF-IDF alone
(``EndModel.for_review_loop()``) and with sentence embeddings of the packaged MiniLM encoder added
(``EndModel.for_review_loop(encoder=TextEncoder())``, the reviewed-rows model then reads the embeddings).

    python benchmarks/active_learning.py                          # four datasets, 5 seeds (about 45 min on 2 cores)
    python benchmarks/active_learning.py --encoder-only           # TF-IDF + embeddings experts only
    python benchmarks/active_learning.py --datasets trec --seeds 2 --no-encoder

Strategies: ``typical`` and ``lf_disagreement`` by default, and ``random`` always; with the encoder,
``typical`` clusters the sentence embeddings.

Targets (budget 100, batch 10, mean of 5 seeds): ``combined_acc`` >= 96.0 on youtube and
>= 74.0 on trec; on every dataset the best strategy beats random at every budget and the final
classifier is never below where it started (0 labels). trec's test texts carry their
fine-grained label as a first token; the simulation drops it (``leading_token_leak``). The
script also times encoding trec's train and test texts once, with an empty cache.
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
FOLDERS = {"youtube": SHARED / "youtube" / "wrench", "trec": SHARED / "trec", "sms": SHARED / "sms",
           "semeval": SHARED / "semeval"}
TARGETS = {"youtube": 96.0, "trec": 74.0}


def _configs(use_encoder: bool, snorkel: bool) -> dict:
    from models import LabelModel, SnorkelLabelModel
    from models.end_model import EndModel

    votewise = lambda k: LabelModel(cardinality=k)  # noqa: E731
    out = {"votewise, tfidf": (votewise, None)}
    if use_encoder:
        from sources import TextEncoder

        out["votewise, tfidf+emb"] = (votewise, EndModel.for_review_loop(encoder=TextEncoder(progress=False)))
    if snorkel:
        out["snorkel, tfidf"] = (lambda k: SnorkelLabelModel(cardinality=k), None)
    return out


def time_encoding() -> float | None:
    """Seconds to encode trec's train and test texts once, with an empty cache (None without the encoder)."""
    import tempfile

    from sources import TextEncoder, read_wrench

    ds = read_wrench(FOLDERS["trec"])
    texts = [str(t) for split in ("train", "test") for t in ds[split].data["text"]]
    with tempfile.TemporaryDirectory() as tmp:
        enc = TextEncoder(cache_dir=tmp, progress=True)
        enc.dimension()  # load the network before the clock starts
        t0 = time.perf_counter()
        enc.encode(texts)
        return time.perf_counter() - t0


def run(name: str, folder: Path, strategies: list[str], seeds: int, budget: int, batch: int,
        configs: dict) -> pd.DataFrame:
    frames = []
    for label, (factory, end_model) in configs.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the trec prefix warning, once per run
            # With an encoder, its embeddings are also the row vectors that `typical` clusters.
            encoder = None if end_model is None else end_model.encoder
            res = simulate(folder, strategies=strategies, budget=budget, batch_size=batch, seeds=seeds,
                           model_factory=factory, end_model=end_model, diversity_encoder=encoder, progress=True)
        res["config"] = label
        res["seconds"] = time.perf_counter() - t0
        frames.append(res)
    return pd.concat(frames, ignore_index=True)


def report(name: str, res: pd.DataFrame, target: float | None) -> None:
    mean = res.groupby(["config", "strategy", "n_labels"])[["lm_acc", "end_acc", "combined_acc"]].mean() * 100
    print(f"\n## {name}: combined_acc (%), mean of {res['seed'].nunique()} seeds")
    print(mean["combined_acc"].unstack(["config", "strategy"]).round(1).to_string())
    budget = int(res["n_labels"].max())
    print(f"\nAt {budget} labels: label model / end model / combination; does the strategy beat random at every "
          "budget, and is it never below its start (0 labels)?")
    rows = []
    for (config, strategy), grp in mean.groupby(level=["config", "strategy"]):
        curve = grp["combined_acc"].droplevel([0, 1])
        base = mean.loc[(config, "random"), "combined_acc"]
        beats = bool((curve[curve.index > 0] > base[base.index > 0]).all()) if strategy != "random" else None
        last = grp.xs(budget, level="n_labels").iloc[0]
        rows.append({"config": config, "strategy": strategy, "lm_acc": round(last["lm_acc"], 1),
                     "end_acc": round(last["end_acc"], 1), "combined_acc": round(last["combined_acc"], 1),
                     "beats random everywhere": beats,
                     "never below start": bool((curve >= curve.loc[0] - 1e-9).all()),
                     "meets target": None if target is None else bool(last["combined_acc"] >= target)})
    print(pd.DataFrame(rows).to_string(index=False))
    secs = res.groupby("config")["seconds"].first().round(0)
    print("\nwall time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in secs.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(FOLDERS), choices=list(FOLDERS))
    parser.add_argument("--strategies", default="typical,lf_disagreement",
                        help="comma-separated; random is always run (default: typical,lf_disagreement)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--no-encoder", action="store_true", help="TF-IDF experts only")
    parser.add_argument("--encoder-only", action="store_true", help="TF-IDF + embeddings experts only")
    parser.add_argument("--snorkel", action="store_true", help="also run Snorkel's label model in the loop")
    parser.add_argument("--plot", type=Path, help="save the combined_acc curves of every dataset to this image")
    args = parser.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    missing = [str(FOLDERS[n]) for n in args.datasets if not FOLDERS[n].exists()]
    if missing:
        print(f"{missing} not found: this benchmark reads the WRENCH files of the shared data folder.", file=sys.stderr)
        return 2
    if not args.no_encoder:
        print(f"encoding trec train + test (5,533 texts) with an empty cache: {time_encoding():.1f} s")
    configs = _configs(not args.no_encoder, args.snorkel)
    if args.encoder_only and not args.no_encoder:
        configs = {name: c for name, c in configs.items() if name.endswith("+emb")}
    results = []
    for name in args.datasets:
        res = run(name, FOLDERS[name], strategies, args.seeds, args.budget, args.batch, configs)
        report(name, res, TARGETS.get(name))
        res["dataset"] = name  # the benchmark's name: youtube's WRENCH folder is called "wrench"
        results.append(res)
    if args.plot is not None:
        from labeling.app.simulation import plot_learning_curves

        # One panel per dataset and configuration: the curves of one run, as the tables above.
        allres = pd.concat(results, ignore_index=True)
        allres["dataset"] = allres["dataset"] + " (" + allres["config"] + ")"
        plot_learning_curves(allres).savefig(args.plot, dpi=110)
        print(f"curves: {args.plot}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
