"""End model: a text classifier trained on the label model's probabilistic labels."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from labeling.matrix import check_label_matrix, covered_rows

from .metrics import classification_report, confusion_matrix, score_predictions

__all__ = ["EndModel", "soft_label_rows"]


def soft_label_rows(probs: Any, *, min_weight: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand soft labels into weighted hard examples.

    Row ``i`` with probabilities ``p`` becomes one example per class ``c`` with
    label ``c`` and sample weight ``p[c]`` (weights below ``min_weight`` are
    dropped), so any scikit-learn classifier that takes ``sample_weight``
    minimises the expected loss under the soft labels.

    It keeps every row it is given: leave out the rows no LF voted on first
    (:func:`labeling.covered_rows`), as :meth:`EndModel.fit` does, since their
    probabilities only restate the label model's class prior.

    Returns
    -------
    rows, labels, weights : ndarrays
        Source row index, class and weight of each expanded example.

    Examples
    --------
    >>> rows, labels, weights = soft_label_rows([[0.75, 0.25], [0.0, 1.0]])
    >>> rows.tolist(), labels.tolist(), weights.tolist()
    ([0, 0, 1], [0, 1, 1], [0.75, 0.25, 1.0])
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"probs must be 2-D (rows x classes); got shape {probs.shape}.")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("probs must be finite and non-negative.")
    rows, labels = np.nonzero(probs >= min_weight)
    return rows, labels, probs[rows, labels]


class EndModel:
    """TF-IDF n-grams + logistic regression, trained on soft labels (both parts swappable).

    Parameters
    ----------
    vectorizer : scikit-learn transformer, optional
        Turns texts into features; default ``TfidfVectorizer(ngram_range=ngram_range,
        sublinear_tf=True, min_df=min_df)``.
    classifier : scikit-learn classifier, optional
        Must accept ``sample_weight`` in ``fit``; default
        ``LogisticRegression(C=C, max_iter=max_iter)``.
    ngram_range : tuple of int
        Word n-gram range of the default vectorizer.
    min_df : int
        Minimum document frequency of the default vectorizer.
    C : float
        Inverse regularisation strength of the default classifier.
    max_iter : int
        Iterations of the default classifier's solver.
    class_weight : {None, "balanced"}
        ``"balanced"`` rescales the soft labels so every class carries the
        same total weight; it protects the classifier from a label model whose
        class prior is off, at the price of assuming balanced classes.

    Attributes
    ----------
    vectorizer_, classifier_ : fitted scikit-learn objects
    n_train_rows_ : int
        Rows used for training.
    n_uncovered_dropped_ : int
        Rows left out because every LF abstained on them and nobody reviewed them
        (0 when ``fit`` got no ``L`` or ``drop_uncovered=False``).

    Examples
    --------
    >>> texts = ["win money now", "nice song", "free money", "love this song"]
    >>> em = EndModel().fit(texts, [[0.1, 0.9], [0.8, 0.2], [0.2, 0.8], [0.9, 0.1]])
    >>> em.predict(["money money"]).tolist()
    [1]
    """

    def __init__(
        self,
        *,
        vectorizer: Any = None,
        classifier: Any = None,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 1,
        C: float = 1.0,
        max_iter: int = 2000,
        class_weight: str | None = None,
    ) -> None:
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight

    def _texts(self, X: Any) -> list[str]:
        if isinstance(X, str):
            raise TypeError("Expected a sequence of texts, got a single string; wrap it in a list.")
        return [str(t) for t in X]

    def fit(
        self,
        X: Sequence[str],
        probs: Any,
        *,
        L: Any = None,
        reviewed: Any = None,
        drop_uncovered: bool = True,
    ) -> "EndModel":
        """Train on texts ``X`` with soft labels ``probs`` (n_rows x n_classes).

        Parameters
        ----------
        X : sequence of str
            Training texts.
        probs : array-like, shape (n_rows, n_classes)
            Label-model probabilities (or one-hot gold labels).
        L : label matrix, optional
            The votes behind ``probs``; rows where every LF abstained are left
            out (their probabilities only restate the prior). Without ``L``
            every row is used: coverage cannot be told from ``probs``.
        reviewed : array-like of bool, shape (n_rows,), optional
            Rows a person labelled (give them one-hot ``probs``); they are
            kept even where no LF voted, since a human label is evidence.
        drop_uncovered : bool
            Leave out the rows no LF voted on (default); ``False`` trains on
            them too, with the prior as their soft label. The number left out
            is :attr:`n_uncovered_dropped_`.

        Returns
        -------
        EndModel
            ``self``, fitted.
        """
        from sklearn.base import clone
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = self._texts(X)
        probs = np.asarray(probs, dtype=float)
        if probs.ndim != 2 or probs.shape[0] != len(texts):
            raise ValueError(f"probs must have shape ({len(texts)}, n_classes) to match X; got {probs.shape}.")
        human = np.zeros(len(texts), dtype=bool)
        if reviewed is not None:
            human = np.asarray(reviewed)
            if human.dtype != bool or human.shape != (len(texts),):
                raise ValueError(
                    f"reviewed must be a boolean mask with one entry per text ({len(texts)}); "
                    f"got dtype {human.dtype} and shape {human.shape}."
                )
        keep = np.ones(len(texts), dtype=bool)
        if L is not None:
            votes = check_label_matrix(L)
            if votes.shape[0] != len(texts):
                raise ValueError(f"L has {votes.shape[0]} rows; X has {len(texts)}. Give one row of votes per text.")
            if drop_uncovered:
                keep = covered_rows(votes) | human
        if not keep.any():
            raise ValueError(
                "Every row has no LF vote and none was reviewed; there is nothing to train on. "
                "Pass drop_uncovered=False to train on the label model's prior anyway."
            )
        kept = [t for t, k in zip(texts, keep) if k]
        self.vectorizer_ = (
            TfidfVectorizer(ngram_range=tuple(self.ngram_range), sublinear_tf=True, min_df=self.min_df)
            if self.vectorizer is None
            else clone(self.vectorizer)
        )
        features = self.vectorizer_.fit_transform(kept)
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight={self.class_weight!r} is not one of {{None, 'balanced'}}.")
        rows, labels, weights = soft_label_rows(probs[keep])
        if np.unique(labels).size < 2:
            raise ValueError("The soft labels put all weight on one class; a classifier needs at least two.")
        if self.class_weight == "balanced":
            totals = np.bincount(labels, weights=weights, minlength=probs.shape[1])
            present = totals > 0
            scale = np.zeros_like(totals)
            scale[present] = totals.sum() / (present.sum() * totals[present])
            weights = weights * scale[labels]
        self.classifier_ = (
            LogisticRegression(C=self.C, max_iter=self.max_iter)
            if self.classifier is None
            else clone(self.classifier)
        )
        self.classifier_.fit(features[rows], labels, sample_weight=weights)
        self.cardinality_ = probs.shape[1]
        self.n_train_rows_ = int(keep.sum())
        self.n_uncovered_dropped_ = int((~keep).sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            from .base import NotFittedError

            raise NotFittedError("This EndModel is not fitted yet; call fit(X, probs) before predicting.")

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n_rows, cardinality)."""
        self._check_fitted()
        raw = self.classifier_.predict_proba(self.vectorizer_.transform(self._texts(X)))
        out = np.zeros((raw.shape[0], self.cardinality_))
        out[:, self.classifier_.classes_] = raw
        return out

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Most probable class per text."""
        return self.predict_proba(X).argmax(axis=1)

    def score(self, X: Sequence[str], y: Any, *, metric: str = "accuracy") -> float:
        """Score predictions against gold ``y`` (``metric`` in :data:`models.METRICS`)."""
        return score_predictions(y, self.predict(X), metric)

    def report(self, X: Sequence[str], y: Any, *, label_names: list[str] | None = None):
        """Per-class and macro precision / recall / F1 and accuracy, as a DataFrame."""
        return classification_report(y, self.predict(X), label_names=label_names)

    def confusion(self, X: Sequence[str], y: Any) -> np.ndarray:
        """Confusion matrix of predictions on ``X`` (see :func:`models.confusion_matrix`)."""
        return confusion_matrix(y, self.predict(X), cardinality=self.cardinality_)

    def __repr__(self) -> str:
        return (f"EndModel(ngram_range={self.ngram_range!r}, min_df={self.min_df!r}, C={self.C!r}, "
                f"max_iter={self.max_iter!r}, class_weight={self.class_weight!r})")
