"""End model: a text classifier trained on the label model's probabilistic labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from labeling.matrix import ABSTAIN, check_label_matrix, covered_rows

from .base import NotFittedError
from .metrics import classification_report, confusion_matrix, score_predictions

__all__ = [
    "EndModel", "TextEndModel", "soft_label_rows", "stack_features", "class_probabilities", "shrunk_probabilities",
]


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

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "classifier_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
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


@dataclass
class _Features:
    train: Any
    test: Any


class TextEndModel(BaseEstimator):
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
    encoder : object with ``fit_transform``/``transform`` of texts, optional
        A sentence encoder (:class:`sources.TextEncoder`): its embeddings are
        appended to the TF-IDF features of the end model, and the reviewed-rows
        model reads the embeddings alone (on 100 reviews it generalises from
        meaning, where TF-IDF of so few rows mostly memorises words). ``None``
        (default) uses TF-IDF only and loads no network.
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
        encoder: Any = None,
        random_state: int = 0,
    ) -> None:
        self.human_weight = human_weight
        self.alpha = alpha
        self.char_ngrams = char_ngrams
        self.review_C = review_C
        self.review_prior = review_prior
        self.soft_labels = soft_labels
        self.encoder = encoder
        self.random_state = random_state

    def vectorizers(self) -> list[Any]:
        """Fresh, unfitted TF-IDF vectorizers whose outputs are stacked side by side."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        parts = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)]
        if self.char_ngrams:
            parts.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
        if self.encoder is not None:
            # Last, so that review_columns() finds the embeddings at the end. Not cloned: an encoder learns
            # nothing from the texts, and the same instance keeps its in-memory vectors between calls.
            parts.append(self.encoder)
        return parts

    def review_columns(self, X: Any) -> Any:
        """The columns of stacked features the reviewed-rows model reads: the embeddings when there is an encoder."""
        if self.encoder is None:
            return X
        dim = int(self.encoder.dimension())
        return X[:, X.shape[1] - dim:]

    def vectorize(self, train_texts: Sequence[str], test_texts: Sequence[str]) -> _Features:
        parts = self.vectorizers()
        return _Features(stack_features(parts, train_texts, fit=True), stack_features(parts, test_texts))

    def fit_predict_proba(
        self, X_train: Any, probs: np.ndarray, keep: np.ndarray, human: np.ndarray, X_test: Any
    ) -> np.ndarray:
        """Train on rows ``keep`` (:meth:`fit_end`) and predict ``X_test``."""
        return class_probabilities(self.fit_end(X_train, probs, keep, human), X_test, probs.shape[1])

    def fit_end(self, X_train: Any, probs: np.ndarray, keep: np.ndarray, human: np.ndarray) -> Any:
        """The end model, fit on rows ``keep``.

        Each kept row takes its most probable class, weighted by that
        probability, or with ``soft_labels`` every class, weighted by its
        probability; ``human`` rows weigh ``human_weight``. A linear model fit
        by SGD keeps a refit per batch well under a second on a few thousand rows.
        """
        from sklearn.linear_model import SGDClassifier

        kept = np.flatnonzero(keep)
        if self.soft_labels:
            at, labels, weights = soft_label_rows(probs[kept], min_weight=1e-3)
            rows = kept[at]
        else:
            rows, labels, weights = kept, probs[kept].argmax(axis=1), probs[kept].max(axis=1)
        weights = np.where(human[rows], self.human_weight, weights)
        clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=30, tol=None, random_state=self.random_state)
        return clf.fit(X_train[rows], labels, sample_weight=weights)

    def review_proba(
        self, X_train: Any, y: np.ndarray, X_test: Any, k: int, base: np.ndarray | None = None
    ) -> np.ndarray:
        """Predict ``X_test`` from the reviewed rows alone (:meth:`fit_review`, ``base`` as there)."""
        clf, lam = self.fit_review(X_train, y, base)
        return shrunk_probabilities(clf, lam, self.review_columns(X_test), k)

    def fit_review(self, X_train: Any, y: np.ndarray, base: np.ndarray | None = None) -> tuple[Any, float]:
        """A model of the reviewed rows alone (``y != -1``) and its weight in the product of experts.

        The label model and the end model trained on its labels share the LFs'
        systematic mistakes; this model sees only human labels, so it can
        overrule them where the reviews show they are wrong. Its probabilities
        are mixed with the uniform distribution: ``weight * p + (1 - weight) / k``.
        With fewer than two classes reviewed there is no model (``None``) and the
        expert is uniform.

        Without ``base`` the weight is ``n / (n + review_prior)`` for ``n``
        reviews. With ``base`` (the other experts' product on every train row,
        shape (n_rows, k)) the weight is chosen where it matters: each reviewed
        row is predicted by a review model fit on the other folds (5-fold), and
        the weight in {0, 1/4, 1/2, 3/4, 1} x ``n / (n + review_prior)`` whose
        product with ``base`` gives the reviewed rows' labels the highest mean
        log-likelihood wins (ties: the smaller). A review model of 100 rows of
        nine classes can be confidently wrong on most others; held-out reviews
        show that, and its weight drops to what they support, down to 0.
        """
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y)
        reviewed = np.flatnonzero(y != ABSTAIN)
        if np.unique(y[reviewed]).size < 2:
            return None, 0.0
        X_review = self.review_columns(X_train)
        clf = LogisticRegression(C=self.review_C, max_iter=2000).fit(X_review[reviewed], y[reviewed])
        cap = reviewed.size / (reviewed.size + self.review_prior)
        if base is None or reviewed.size < 10:
            return clf, cap
        base = np.asarray(base, dtype=float)
        k = base.shape[1]
        held = np.full((reviewed.size, k), 1.0 / k)
        folds = np.random.default_rng(self.random_state).permutation(reviewed.size) % 5
        for f in range(5):
            fit_rows, test_rows = reviewed[folds != f], reviewed[folds == f]
            if np.unique(y[fit_rows]).size < 2:
                continue
            fold_clf = LogisticRegression(C=self.review_C, max_iter=2000).fit(X_review[fit_rows], y[fit_rows])
            held[folds == f] = class_probabilities(fold_clf, X_review[test_rows], k)
        b = np.clip(base[reviewed], 1e-6, None)
        best, best_ll = 0.0, None
        for weight in cap * np.array([0.0, 0.25, 0.5, 0.75, 1.0]):
            prod = b * (weight * held + (1.0 - weight) / k)
            ll = float(np.mean(np.log(prod[np.arange(reviewed.size), y[reviewed]] / prod.sum(axis=1))))
            if best_ll is None or ll > best_ll + 1e-9:
                best, best_ll = float(weight), ll
        return clf, best

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



def shrunk_probabilities(clf: Any, lam: float, X: Any, k: int) -> np.ndarray:
    """``clf``'s class probabilities mixed with the uniform distribution in the ratio ``lam : 1 - lam``."""
    uniform = np.full((X.shape[0], k), 1.0 / k)
    return uniform if clf is None else lam * class_probabilities(clf, X, k) + (1.0 - lam) * uniform
