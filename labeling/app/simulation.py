"""Simulated review: the gold labels of the train split play the human, to compare strategies.

For each seed and strategy the loop runs batch by batch until the budget is spent;
after each batch it scores on the test split (i) the label model's labels, (ii) an
end model (TF-IDF + logistic regression) trained on the loop's labels -- label-model
probabilities on covered rows, human labels on reviewed rows -- and (iii) the
combination: the end model's probabilities times the label model's (on test rows
where an LF fired) times those of a small model fit on the reviewed rows alone,
which counts for more as reviews accumulate.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from labeling.core.matrix import ABSTAIN, covered_rows
from models.final import FinalClassifier
from labeling.review.loop import ActiveLoop
from labeling.review.store import ReviewStore
from labeling.review.strategies import get_strategy
from models import LabelModel, score_predictions
from models.end_model import EndModel, class_probabilities, stack_features
from sources.wrench import read_wrench

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["simulate", "leading_token_leak", "plot_learning_curves", "summarize"]


def leading_token_leak(train_texts: Sequence[str], test_texts: Sequence[str]) -> float:
    """Share of test texts whose first token begins no train text.

    WRENCH's trec test split prefixes every question with its fine-grained
    gold label (``"city What county is Modesto , California in ?"``); an end
    model scored on those texts reads part of the answer. A share near 1
    flags such a prefix.
    """
    starts = {t.split(maxsplit=1)[0].lower() for t in train_texts if t.strip()}
    firsts = [t.split(maxsplit=1)[0].lower() for t in test_texts if t.strip()]
    return float(np.mean([f not in starts for f in firsts])) if firsts else 0.0


def _default_model(k: int) -> Any:
    return LabelModel(cardinality=k)


def simulate(
    folder: str | os.PathLike,
    *,
    strategies: Sequence[str] = ("entropy",),
    budget: int = 100,
    batch_size: int = 10,
    seeds: int = 5,
    model_factory: Any = None,
    end_model: EndModel | None | bool = None,
    store_dir: str | os.PathLike | None = None,
    strip_test_prefix: bool | None = None,
    metric: str = "accuracy",
    audit_fraction: float = 0.0,
    diversity_encoder: Any = None,
    label_model_weight: float | str = "auto",
    progress: bool = False,
) -> pd.DataFrame:
    """Run the loop with the train split's gold labels as the oracle.

    Parameters
    ----------
    folder : path
        A WRENCH folder (``train.json``, ``test.json``, ``label.json``).
    strategies : sequence of str
        Strategies to run; ``"random"`` is added as the baseline.
    budget, batch_size : int
        Human labels in all, and per batch.
    seeds : int
        Repetitions with seeds ``0..seeds-1``.
    model_factory : callable, optional
        ``cardinality -> label model`` (default: :class:`models.LabelModel`).
    end_model : models.EndModel, optional
        The final classifier's end model; ``None`` uses
        :meth:`models.EndModel.for_review_loop`; ``False`` skips end-model scores.
    store_dir : path, optional
        Where the per-run SQLite stores go (default: a temporary folder).
    strip_test_prefix : bool, optional
        Drop the first token of every test text before the end model reads it.
        ``None`` does so, with a warning, when more than half of the test texts
        start with a token that starts no train text (:func:`leading_token_leak`:
        WRENCH's trec test split carries each row's fine-grained gold label
        there). The label model is unaffected: it reads the stored votes.
    metric : {"accuracy", "f1"}
        How the test predictions are scored: accuracy, or F1 of class 1 (two
        classes) / macro F1 (more), as WRENCH scores its F1 datasets. The
        columns keep their ``*_acc`` names whatever the metric.
    audit_fraction : float
        Passed to :class:`ActiveLoop`: the random share of each batch behind
        ``RefitReport.audit_*``.
    diversity_encoder : text encoder, optional
        Its embeddings of the train texts (:class:`sources.TextEncoder`) are the
        row vectors that spread ``diverse:*`` batches and that ``typical``
        clusters, instead of TF-IDF vectors.
    label_model_weight : float or "auto"
        The final classifier's exponent of the label model
        (:class:`models.FinalClassifier`; 0 leaves it out of the product,
        ``"auto"`` prefers 0 where the end model reproduces the label model and 1
        elsewhere, and departs from that only when the reviews of rows picked
        without the model clearly favour another exponent).
    progress : bool
        Say on stderr what will run (strategies, seeds, refits) and, once the first run's first batch
        is refit, about how long it all takes; show a progress bar over the refits.

    Returns
    -------
    DataFrame
        One row per (strategy, seed, batch) with ``n_labels``, ``lm_acc``,
        ``end_acc``, ``combined_acc`` (test, scored by ``metric``), the loop's
        estimated accuracy ``est_acc``, and for every batch after the first:
        ``gain_est`` (the refit report's gain), ``gain_true`` (the change in the
        accuracy of the loop's train labels against the train gold labels) and
        ``label_acc_true`` (that accuracy after the refit), plus the audit
        estimate ``audit_acc`` with its 95% interval (``audit_low``,
        ``audit_high``) when ``audit_fraction > 0``.
    """
    if metric not in ("accuracy", "f1"):
        raise ValueError(f"metric={metric!r} is not one of {{'accuracy', 'f1'}}.")
    ds = read_wrench(folder)
    train, test = ds.train, ds.test
    k = ds.cardinality
    metric_name = "accuracy" if metric == "accuracy" else ("f1" if k == 2 else "f1_macro")

    def scored(probs: np.ndarray) -> float:
        return float(score_predictions(test.y, probs.argmax(1), metric_name))

    names = list(dict.fromkeys(["random", *strategies]))
    for s in names:
        get_strategy(s)
    make_model = model_factory or _default_model
    final = None if end_model is False else FinalClassifier(
        end_model=end_model, label_model_weight=label_model_weight)
    L_test = np.asarray(test.L)
    L_train = np.asarray(train.L)
    train_texts = train.data["text"].astype(str).tolist()
    test_texts = test.data["text"].astype(str).tolist()
    if strip_test_prefix is None:
        share = leading_token_leak(train_texts, test_texts)
        strip_test_prefix = share > 0.5
        if strip_test_prefix:
            warnings.warn(
                f"{share:.0%} of the test texts of {ds.name} start with a token that starts no train text "
                f"(e.g. {test_texts[0].split()[0]!r}), as when a split carries its gold label in the text; "
                "the end model is scored without that first token. Pass strip_test_prefix=False to keep it.",
                stacklevel=2,
            )
    if strip_test_prefix:
        test_texts = [t.split(maxsplit=1)[-1] if t.strip() else t for t in test_texts]
    if final is not None:
        # Features once per dataset; every refit below reuses them.
        vectorizers = final.make_vectorizers()
        X_train = stack_features(vectorizers, train_texts, fit=True)
        X_test = stack_features(vectorizers, test_texts)
    covered_train = covered_rows(train.L)
    # Computed once: every run of a diverse strategy reads the same row vectors.
    spread = None if diversity_encoder is None else diversity_encoder.fit_transform(train_texts)
    y_train = np.asarray(train.y)
    records: list[dict] = []
    tmp = tempfile.TemporaryDirectory() if store_dir is None else None
    root = Path(store_dir if store_dir is not None else tmp.name)
    runs = [(s, seed) for s in names for seed in range(seeds)]
    # Scored steps per run: the fit before any review, then one refit per batch until the budget is spent.
    steps = 1 + math.ceil(budget / max(batch_size, 1))
    bar = None
    if progress:
        print(f"simulate {ds.name}: {len(names)} strategies ({', '.join(names)}) x {seeds} seeds, {steps} scored "
              f"refits each (budget {budget}, batch {batch_size}) = {len(runs) * steps} refits on "
              f"{len(train.data)} train rows.", file=sys.stderr, flush=True)
        bar = tqdm(total=len(runs) * steps, desc=f"simulate {ds.name}", unit="refit")
    clock = [time.perf_counter()]   # when the simulation started, then when each scored step ended
    try:
        for strategy, seed in runs:
            path = root / f"{ds.name}-{strategy.replace(':', '_')}-{seed}.sqlite"
            if path.exists():
                path.unlink()
            store = ReviewStore(path, class_names=ds.class_names)
            model = make_model(k)
            loop = ActiveLoop(model, train.data, train.L, strategy=strategy, store=store,
                              batch_size=batch_size, audit_fraction=audit_fraction, features=spread,
                              random_state=seed)
            pos = {sid: i for i, sid in enumerate(loop.ids)}

            def oracle(ids: list[str]) -> list[int]:
                return [int(y_train[pos[i]]) for i in ids]

            held = {"acc": None}

            def score(lp: ActiveLoop, n_labels: int, report: Any = None) -> None:
                lm_probs = np.asarray(lp.model.predict_proba(L_test))
                label_acc = float((lp.predict() == y_train).mean())
                rec = {"dataset": ds.name, "strategy": strategy, "seed": seed, "n_labels": n_labels,
                       "lm_acc": scored(lm_probs), "est_acc": lp.estimated_accuracy(), "label_acc_true": label_acc}
                if report is not None:
                    rec["gain_est"] = report.gain
                    rec["gain_true"] = label_acc - held["acc"]
                    if report.audit_n:
                        rec.update(audit_acc=report.audit_accuracy, audit_low=report.audit_low,
                                   audit_high=report.audit_high, audit_n=report.audit_n)
                held["acc"] = label_acc
                if final is not None:
                    y_h = lp.human_labels()
                    final.fit_features(X_train, lp.predict_proba(), y_h, covered_train | (y_h != ABSTAIN),
                                       lp.model.predict_proba(L_train), L_train,
                                       representative=lp.representative_rows())
                    rec["end_acc"] = scored(class_probabilities(final.end_, X_test, k))
                    rec["combined_acc"] = scored(final.predict_proba_features(X_test, lm_probs, L_test))
                records.append(rec)
                if bar is not None:
                    bar.update()
                    clock.append(time.perf_counter())
                    if len(clock) == 3 and steps > 1:
                        # The fit before any review, then a batch and refit with reviews (the costlier kind):
                        # every run repeats that pattern, so the whole simulation costs about this.
                        first, refit = clock[1] - clock[0], clock[2] - clock[1]
                        total = len(runs) * (first + (steps - 1) * refit)
                        bar.write(f"simulate {ds.name}: the first fit took {first:.1f} s and a batch with its refit "
                                  f"{refit:.1f} s, so this takes about {_duration(total)} in all; --quick (1 seed, "
                                  "a smaller budget) gives a first look.", file=sys.stderr)

            loop.fit()
            score(loop, 0)
            loop.run(oracle, budget=budget, callback=lambda lp, r: score(lp, r.n_reviewed, r))
            store.close()
    finally:
        if bar is not None:
            bar.close()
        if tmp is not None:
            tmp.cleanup()
    return pd.DataFrame.from_records(records)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean (and std) of each metric per dataset, strategy and number of labels, over seeds."""
    metrics = [c for c in ("lm_acc", "end_acc", "combined_acc", "est_acc", "label_acc_true", "audit_acc")
               if c in results]
    return results.groupby(["dataset", "strategy", "n_labels"])[metrics].agg(["mean", "std"]).round(4)


def plot_learning_curves(results: pd.DataFrame, *, metric: str = "combined_acc") -> "Figure":
    """``metric`` against labels spent, one line per strategy (mean over seeds, +- 1 std band), one panel per dataset.

    Returns a :class:`matplotlib.figure.Figure` (no pyplot state, no backend change); save it with
    ``fig.savefig(path)``.
    """
    from matplotlib.figure import Figure

    if metric not in results:
        metric = "lm_acc"
    datasets = list(dict.fromkeys(results["dataset"]))
    fig = Figure(figsize=(5.5 * len(datasets), 4))
    axes = fig.subplots(1, len(datasets), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        sub = results[results["dataset"] == name]
        for strategy, grp in sub.groupby("strategy", sort=False):
            agg = grp.groupby("n_labels")[metric].agg(["mean", "std"]).fillna(0)
            style = "--" if strategy == "random" else "-"
            ax.plot(agg.index, 100 * agg["mean"], style, marker="o", ms=3, label=strategy)
            ax.fill_between(agg.index, 100 * (agg["mean"] - agg["std"]), 100 * (agg["mean"] + agg["std"]), alpha=0.15)
        ax.set_title(f"{name}: {metric} (test)")
        ax.set_xlabel("human labels")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
