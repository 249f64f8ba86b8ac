"""End model: a text classifier trained on the label model's probabilistic labels."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from labeling.core.matrix import check_label_matrix, covered_rows

from .base import NotFittedError
from .metrics import classification_report, confusion_matrix, score_predictions

__all__ = ["EndModel", "soft_label_rows", "stack_features", "class_probabilities"]


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


class EndModel(ClassifierMixin, BaseEstimator):
    """A text classifier trained on the label model's labels: TF-IDF features and a linear model.

    The one end model of votewise. Its features are word n-gram TF-IDF, plus
    optionally character n-grams and sentence embeddings; its classifier is
    any scikit-learn classifier that takes ``sample_weight``. :meth:`fit`
    trains it on texts; :meth:`train_classifier` is the same training step on
    features already computed, which a review loop calls once per batch.

    Parameters
    ----------
    vectorizer : scikit-learn transformer, optional
        Turns texts into features in place of the default word TF-IDF
        (``TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True, min_df=min_df)``).
    classifier : scikit-learn classifier, optional
        Must accept ``sample_weight`` in ``fit``; default
        ``LogisticRegression(C=C, max_iter=max_iter)``.
    ngram_range : tuple of int
        Word n-gram range of the default vectorizer.
    min_df : int
        Minimum document frequency of the default vectorizer.
    char_ngrams : bool
        Add character 2-5-gram TF-IDF features (robust to spelling variants).
    encoder : object with ``fit_transform``/``transform`` of texts, optional
        A sentence encoder (:class:`sources.TextEncoder`) whose embeddings are
        appended to the TF-IDF features; :meth:`embedding_columns` finds them.
        ``None`` (default) uses TF-IDF only.
    C : float
        Inverse regularisation strength of the default classifier.
    max_iter : int
        Iterations of the default classifier's solver.
    class_weight : {None, "balanced"}
        ``"balanced"`` rescales the labels so every class carries the same
        total weight; it protects the classifier from a label model whose
        class prior is off, at the price of assuming balanced classes.
    soft_labels : bool
        Train on every class of a row, weighted by its probability (default),
        instead of on the most probable class weighted by that probability.
        Soft labels keep a row the label model is torn about from teaching one
        class outright; hard ones can sharpen a clean binary task.
    human_weight : float
        Weight of a reviewed row relative to a label-model row of probability 1.

    Attributes
    ----------
    vectorizers_ : list
        The fitted feature blocks, stacked side by side.
    classifier_ : fitted scikit-learn classifier
    n_train_rows_ : int
        Rows used for training.
    n_uncovered_dropped_ : int
        Rows left out because every LF abstained on them and nobody reviewed them
        (0 when ``fit`` got no ``L`` or ``drop_uncovered=False``).

    See Also
    --------
    EndModel.for_review_loop : the configuration a review loop uses.

    Examples
    --------
    >>> texts = ["win money now", "nice song", "free money", "love this song"]
    >>> em = EndModel().fit(texts, [[0.1, 0.9], [0.8, 0.2], [0.2, 0.8], [0.9, 0.1]])
    >>> em.predict(["money money"]).tolist()
    [1]
    """

    _parameter_constraints: dict = {
        "vectorizer": [HasMethods(["fit_transform", "transform"]), None],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "ngram_range": [tuple],
        "min_df": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "char_ngrams": ["boolean"],
        "encoder": [HasMethods(["transform"]), None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), None],
        "soft_labels": ["boolean"],
        "human_weight": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        vectorizer: Any = None,
        classifier: Any = None,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 1,
        char_ngrams: bool = False,
        encoder: Any = None,
        C: float = 1.0,
        max_iter: int = 2000,
        class_weight: str | None = None,
        soft_labels: bool = True,
        human_weight: float = 1.0,
    ) -> None:
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.encoder = encoder
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.soft_labels = soft_labels
        self.human_weight = human_weight

    @classmethod
    def for_review_loop(
        cls, *, encoder: Any = None, alpha: float = 1e-5, human_weight: float = 1.0, random_state: int = 0
    ) -> "EndModel":
        """The end model a review loop refits after every batch.

        Word and character TF-IDF (plus ``encoder``'s embeddings), a
        logistic-loss linear model fit by SGD (``alpha`` is its L2 penalty) so
        a refit takes well under a second on a few thousand rows, and hard
        labels. A reviewed row weighs as much as a certain label-model row
        (``human_weight=1``): the loop picks rows the LFs find hard, and
        weighing them more pulls the end model toward those atypical rows
        (``docs/active_learning.md``). What the reviews know beyond the
        label model reaches the final classifier through its reviewed-rows
        model, whose weight held-out reviews decide
        (:class:`models.FinalClassifier`).
        """
        from sklearn.linear_model import SGDClassifier

        sgd = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=30, tol=None, random_state=random_state)
        return cls(
            classifier=sgd, char_ngrams=True, encoder=encoder, soft_labels=False, human_weight=float(human_weight)
        )

    def make_vectorizers(self) -> list[Any]:
        """Fresh, unfitted feature blocks whose outputs are stacked side by side (:func:`stack_features`)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self.vectorizer is not None:
            parts = [clone(self.vectorizer)]
        else:
            parts = [TfidfVectorizer(ngram_range=tuple(self.ngram_range), sublinear_tf=True, min_df=self.min_df)]
        if self.char_ngrams:
            parts.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
        if self.encoder is not None:
            # Last, so that embedding_columns() finds the embeddings at the end. Not cloned: an encoder learns
            # nothing from the texts, and the same instance keeps its in-memory vectors between calls.
            parts.append(self.encoder)
        return parts

    def embedding_columns(self, X: Any) -> Any:
        """The encoder's columns of stacked features ``X``; all of ``X`` when there is no encoder."""
        if self.encoder is None:
            return X
        dim = int(self.encoder.dimension())
        return X[:, X.shape[1] - dim:]

    def train_classifier(self, X: Any, probs: np.ndarray, *, keep: np.ndarray, human: np.ndarray) -> Any:
        """Train a fresh copy of the classifier on rows ``keep`` of features ``X`` and return it.

        The training step of :meth:`fit`, without the features: rows ``human``
        (reviewed) weigh ``human_weight``; the others carry their labels as
        ``soft_labels`` says. ``self`` is not changed.
        """
        from sklearn.linear_model import LogisticRegression

        self._validate_params()
        kept = np.flatnonzero(keep)
        if self.soft_labels:
            at, labels, weights = soft_label_rows(probs[kept])
            rows = kept[at]
        else:
            rows, labels, weights = kept, probs[kept].argmax(axis=1), probs[kept].max(axis=1)
        if np.unique(labels).size < 2:
            raise ValueError("The labels put all weight on one class; a classifier needs at least two.")
        weights = np.where(human[rows], self.human_weight * weights, weights)
        if self.class_weight == "balanced":
            totals = np.bincount(labels, weights=weights, minlength=probs.shape[1])
            present = totals > 0
            scale = np.zeros_like(totals)
            scale[present] = totals.sum() / (present.sum() * totals[present])
            weights = weights * scale[labels]
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter) if self.classifier is None else clone(self.classifier)
        return clf.fit(X[rows], labels, sample_weight=weights)

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
            kept even where no LF voted, since a human label is evidence, and
            weigh ``human_weight``.
        drop_uncovered : bool
            Leave out the rows no LF voted on (default); ``False`` trains on
            them too, with the prior as their soft label. The number left out
            is :attr:`n_uncovered_dropped_`.

        Returns
        -------
        EndModel
            ``self``, fitted.
        """
        self._validate_params()
        texts = _texts(X)
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
        kept = np.flatnonzero(keep)
        vectorizers = self.make_vectorizers()
        features = stack_features(vectorizers, [texts[i] for i in kept], fit=True)
        # Features of the kept rows only, so the masks are re-indexed to them.
        self.classifier_ = self.train_classifier(features, probs[kept], keep=np.ones(kept.size, bool), human=human[kept])
        self.vectorizers_ = vectorizers
        self.cardinality_ = probs.shape[1]
        self.n_train_rows_ = int(kept.size)
        self.n_uncovered_dropped_ = int(len(texts) - kept.size)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "classifier_")

    def transform(self, X: Sequence[str]) -> Any:
        """The fitted features of texts ``X`` (CSR), as the classifier reads them."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("This EndModel is not fitted yet; call fit(X, probs) before predicting.")
        return stack_features(self.vectorizers_, _texts(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n_rows, cardinality)."""
        features = self.transform(X)
        return class_probabilities(self.classifier_, features, self.cardinality_)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Most probable class per text."""
        return self.predict_proba(X).argmax(axis=1)

    def score(self, X: Sequence[str], y: Any, *, metric: str = "accuracy") -> float:
        """Score predictions against gold ``y`` (``metric`` in :data:`models.METRICS`)."""
        return score_predictions(y, self.predict(X), metric)

    def report(self, X: Sequence[str], y: Any, *, class_names: list[str] | None = None):
        """Per-class and macro precision / recall / F1 and accuracy, as a DataFrame."""
        return classification_report(y, self.predict(X), class_names=class_names)

    def confusion(self, X: Sequence[str], y: Any) -> np.ndarray:
        """Confusion matrix of predictions on ``X`` (see :func:`models.confusion_matrix`)."""
        return confusion_matrix(y, self.predict(X), cardinality=self.cardinality_)


def _texts(X: Any) -> list[str]:
    if isinstance(X, str):
        raise TypeError("Expected a sequence of texts, got a single string; wrap it in a list.")
    return [str(t) for t in X]


def stack_features(vectorizers: Sequence[Any], texts: Sequence[str], *, fit: bool = False) -> Any:
    """The vectorizers' outputs for ``texts`` side by side, as one CSR matrix (fitting them first with ``fit``)."""
    from scipy.sparse import csr_matrix, hstack, issparse

    blocks = [v.fit_transform(texts) if fit else v.transform(texts) for v in vectorizers]
    # Dense blocks (sentence embeddings) join the sparse TF-IDF ones as CSR.
    return hstack([b if issparse(b) else csr_matrix(b) for b in blocks]).tocsr()


def class_probabilities(clf: Any, X: Any, k: int) -> np.ndarray:
    """``clf.predict_proba(X)`` spread over all ``k`` classes (zeros for classes ``clf`` never saw)."""
    out = np.zeros((X.shape[0], k))
    out[:, clf.classes_] = clf.predict_proba(X)
    return out

