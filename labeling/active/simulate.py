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

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from labeling.matrix import ABSTAIN, covered_rows

from .loop import ActiveLoop
from .store import ReviewStore
from .strategies import get_strategy

__all__ = ["simulate", "TextEndModel", "combine", "leading_token_leak", "plot_learning_curves", "summarize"]


@dataclass
class _Features:
    train: Any
    test: Any


class TextEndModel:
    """TF-IDF (word 1-2 grams + character 2-5 grams) and a logistic-loss linear model on the loop's labels.

    Parameters
    ----------
    human_weight : float
        Weight of a reviewed row relative to a label-model row of probability 1.
    alpha : float
        L2 penalty of the logistic-loss SGD classifier.
    char_ngrams : bool
        Add character n-gram features (robust to spelling variants).
    review_C : float
        Inverse L2 penalty of the logistic regression fit on the reviewed rows alone.
    review_prior : float
        How many reviews the reviewed-rows model needs before it counts as much
        as the other two experts: its probabilities are shrunk toward uniform by
        ``n / (n + review_prior)`` for ``n`` reviews, so a handful of labels,
        picked where the LFs disagree and missing whole classes, cannot veto
        a class on their own.
    soft_labels : bool
        Train on every class of a row, weighted by its probability, instead of
        on the most probable class weighted by its probability. Soft labels keep
        a row the label model is torn about from teaching one class outright;
        they help when many rows carry weak evidence (trec) and can blur a
        clean binary task (youtube).
    random_state : int
        Seed of the SGD shuffling.
    """

    def __init__(
        self,
        *,
        human_weight: float = 3.0,
        alpha: float = 1e-5,
        char_ngrams: bool = True,
        review_C: float = 10.0,
        review_prior: float = 25.0,
        soft_labels: bool = False,
        random_state: int = 0,
    ) -> None:
        self.human_weight = human_weight
        self.alpha = alpha
        self.char_ngrams = char_ngrams
        self.review_C = review_C
        self.review_prior = review_prior
        self.soft_labels = soft_labels
        self.random_state = random_state

    def vectorizers(self) -> list[Any]:
        """Fresh, unfitted TF-IDF vectorizers whose outputs are stacked side by side."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        parts = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)]
        if self.char_ngrams:
            parts.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
        return parts

    def vectorize(self, train_texts: Sequence[str], test_texts: Sequence[str]) -> _Features:
        parts = self.vectorizers()
        return _Features(stack_features(parts, train_texts, fit=True), stack_features(parts, test_texts))

    def fit_predict_proba(
        self, X_train: Any, probs: np.ndarray, keep: np.ndarray, human: np.ndarray, X_test: Any
    ) -> np.ndarray:
        """Train on rows ``keep`` (:meth:`fit_end`) and predict ``X_test``."""
        return _proba(self.fit_end(X_train, probs, keep, human), X_test, probs.shape[1])

    def fit_end(self, X_train: Any, probs: np.ndarray, keep: np.ndarray, human: np.ndarray) -> Any:
        """The end model, fit on rows ``keep``.

        Each kept row takes its most probable class, weighted by that
        probability, or with ``soft_labels`` every class, weighted by its
        probability; ``human`` rows weigh ``human_weight``. A linear model fit
        by SGD keeps a refit per batch well under a second on a few thousand rows.
        """
        from sklearn.linear_model import SGDClassifier

        from models.end_model import soft_label_rows

        kept = np.flatnonzero(keep)
        if self.soft_labels:
            at, labels, weights = soft_label_rows(probs[kept], min_weight=1e-3)
            rows = kept[at]
        else:
            rows, labels, weights = kept, probs[kept].argmax(axis=1), probs[kept].max(axis=1)
        weights = np.where(human[rows], self.human_weight, weights)
        clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=30, tol=None, random_state=self.random_state)
        return clf.fit(X_train[rows], labels, sample_weight=weights)

    def review_proba(self, X_train: Any, y: np.ndarray, X_test: Any, k: int) -> np.ndarray:
        """Predict ``X_test`` from the reviewed rows alone (:meth:`fit_review`)."""
        clf, lam = self.fit_review(X_train, y)
        return _shrunk(clf, lam, X_test, k)

    def fit_review(self, X_train: Any, y: np.ndarray) -> tuple[Any, float]:
        """A model of the reviewed rows alone (``y != -1``) and its weight ``n / (n + review_prior)``.

        The label model and the end model trained on its labels share the LFs'
        systematic mistakes; this model sees only human labels, so it can
        overrule them where the reviews show they are wrong. Its probabilities
        are mixed with the uniform distribution in the ratio ``n : review_prior``
        for ``n`` reviews. With fewer than two classes reviewed there is no
        model (``None``) and the expert is uniform.
        """
        from sklearn.linear_model import LogisticRegression

        reviewed = np.flatnonzero(np.asarray(y) != ABSTAIN)
        if np.unique(np.asarray(y)[reviewed]).size < 2:
            return None, 0.0
        clf = LogisticRegression(C=self.review_C, max_iter=2000).fit(X_train[reviewed], np.asarray(y)[reviewed])
        return clf, reviewed.size / (reviewed.size + self.review_prior)


def stack_features(vectorizers: Sequence[Any], texts: Sequence[str], *, fit: bool = False) -> Any:
    """The vectorizers' outputs for ``texts`` side by side, as one CSR matrix (fitting them first with ``fit``)."""
    from scipy.sparse import hstack

    return hstack([v.fit_transform(texts) if fit else v.transform(texts) for v in vectorizers]).tocsr()


def _proba(clf: Any, X: Any, k: int) -> np.ndarray:
    out = np.zeros((X.shape[0], k))
    out[:, clf.classes_] = clf.predict_proba(X)
    return out


def _shrunk(clf: Any, lam: float, X: Any, k: int) -> np.ndarray:
    uniform = np.full((X.shape[0], k), 1.0 / k)
    return uniform if clf is None else lam * _proba(clf, X, k) + (1.0 - lam) * uniform


def combine(
    end_probs: np.ndarray, lm_probs: np.ndarray, L_test: np.ndarray, review_probs: np.ndarray | None = None
) -> np.ndarray:
    """Product of experts: end model x label model (rows where an LF fired) x reviewed-rows model.

    Parameters
    ----------
    end_probs, lm_probs : ndarray of shape (n, k)
        The end model's and the label model's class probabilities.
    L_test : ndarray of shape (n, m)
        The votes on these rows; where none fired the label model only knows
        the class balance and is left out.
    review_probs : ndarray of shape (n, k), optional
        :meth:`TextEndModel.review_proba`.

    Returns
    -------
    ndarray of shape (n, k)
        Normalised probabilities.
    """
    covered = covered_rows(L_test)
    prod = np.clip(end_probs, 1e-6, 1.0) * np.where(covered[:, None], np.clip(lm_probs, 1e-6, 1.0), 1.0)
    if review_probs is not None:
        prod = prod * np.clip(review_probs, 1e-6, 1.0)
    return prod / prod.sum(axis=1, keepdims=True)


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
    try:
        from models import LabelModel
    except ImportError:  # pragma: no cover - older models package
        from models import MajorityVote as LabelModel
    return LabelModel(cardinality=k)


def simulate(
    folder: str | os.PathLike,
    *,
    strategies: Sequence[str] = ("entropy",),
    budget: int = 100,
    batch_size: int = 10,
    seeds: int = 5,
    model_factory: Any = None,
    end_model: TextEndModel | None = None,
    store_dir: str | os.PathLike | None = None,
    strip_test_prefix: bool | None = None,
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
    end_model : TextEndModel, optional
        ``None`` uses the default; ``False`` skips end-model scores.
    store_dir : path, optional
        Where the per-run SQLite stores go (default: a temporary folder).
    strip_test_prefix : bool, optional
        Drop the first token of every test text before the end model reads it.
        ``None`` does so, with a warning, when more than half of the test texts
        start with a token that starts no train text (:func:`leading_token_leak`:
        WRENCH's trec test split carries each row's fine-grained gold label
        there). The label model is unaffected: it reads the stored votes.
    progress : bool
        Show a progress bar over the runs.

    Returns
    -------
    DataFrame
        One row per (strategy, seed, batch) with ``n_labels``, ``lm_acc``,
        ``end_acc``, ``combined_acc`` and the loop's estimated accuracy.
    """
    from sources.wrench import read_wrench

    ds = read_wrench(folder)
    train, test = ds.train, ds.test
    k = ds.cardinality
    names = list(dict.fromkeys(["random", *strategies]))
    for s in names:
        get_strategy(s)
    make_model = model_factory or _default_model
    em = TextEndModel() if end_model is None else end_model
    L_test = np.asarray(test.L)
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
    feats = em.vectorize(train_texts, test_texts) if em else None
    covered_train = covered_rows(train.L)
    y_train = np.asarray(train.y)
    records: list[dict] = []
    tmp = tempfile.TemporaryDirectory() if store_dir is None else None
    root = Path(store_dir if store_dir is not None else tmp.name)
    try:
        runs = [(s, seed) for s in names for seed in range(seeds)]
        it = runs
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(runs, desc=f"simulate {ds.name}")
        for strategy, seed in it:
            path = root / f"{ds.name}-{strategy.replace(':', '_')}-{seed}.sqlite"
            if path.exists():
                path.unlink()
            store = ReviewStore(path, class_names=ds.label_names)
            model = make_model(k)
            loop = ActiveLoop(model, train.data, train.L, strategy=strategy, store=store,
                              batch_size=batch_size, random_state=seed)
            pos = {sid: i for i, sid in enumerate(loop.ids)}

            def oracle(ids: list[str]) -> list[int]:
                return [int(y_train[pos[i]]) for i in ids]

            def score(lp: ActiveLoop, n_labels: int) -> None:
                lm_probs = np.asarray(lp.model.predict_proba(L_test))
                rec = {"dataset": ds.name, "strategy": strategy, "seed": seed, "n_labels": n_labels,
                       "lm_acc": float((lm_probs.argmax(1) == test.y).mean()),
                       "est_acc": lp.estimated_accuracy()}
                if em:
                    y_h = lp.human_labels()
                    human = y_h != ABSTAIN
                    end = em.fit_predict_proba(feats.train, lp.predict_proba(), covered_train | human, human,
                                               feats.test)
                    review = em.review_proba(feats.train, y_h, feats.test, k)
                    rec["end_acc"] = float((end.argmax(1) == test.y).mean())
                    rec["combined_acc"] = float((combine(end, lm_probs, L_test, review).argmax(1) == test.y).mean())
                records.append(rec)

            loop.fit()
            score(loop, 0)
            loop.run(oracle, budget=budget, callback=lambda lp, r: score(lp, r.n_reviewed))
            store.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return pd.DataFrame.from_records(records)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean (and std) of each metric per dataset, strategy and number of labels, over seeds."""
    metrics = [c for c in ("lm_acc", "end_acc", "combined_acc", "est_acc") if c in results]
    return results.groupby(["dataset", "strategy", "n_labels"])[metrics].agg(["mean", "std"]).round(4)


def plot_learning_curves(results: pd.DataFrame, path: str | os.PathLike, *, metric: str = "combined_acc") -> Path:
    """Save a PNG: ``metric`` against labels spent, one line per strategy (mean over seeds, +- 1 std band)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if metric not in results:
        metric = "lm_acc"
    datasets = list(dict.fromkeys(results["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
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
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
