"""The classifier a review loop hands over: end model x label model x reviewed-rows model."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from labeling.matrix import ABSTAIN, covered_rows
from models.base import NotFittedError
from models.end_model import TextEndModel, class_probabilities, shrunk_probabilities, stack_features

__all__ = ["FinalClassifier", "combine", "other_experts"]


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


def other_experts(end_clf: Any, X: Any, k: int, lm_probs: Any = None, L: Any = None) -> np.ndarray:
    """End model x label model on the training rows: what the reviewed-rows expert is weighed against.

    Parameters
    ----------
    end_clf : fitted classifier
        The end model (``TextEndModel.fit_end``).
    X : sparse matrix
        The training rows' stacked features.
    k : int
        Number of classes.
    lm_probs, L : array-like, optional
        The label model's probabilities of the training rows and their votes; without them the
        end model stands alone.
    """
    end = class_probabilities(end_clf, X, k)
    if lm_probs is None or L is None:
        return end
    return combine(end, np.asarray(lm_probs, dtype=float), np.asarray(L))


class FinalClassifier(ClassifierMixin, BaseEstimator):
    """Classify new texts with everything a review loop learnt.

    Three experts are multiplied (:func:`labeling.review.combine`):

    - an end model (TF-IDF + linear model) trained on the loop's labels:
      label-model labels on covered rows, human labels on reviewed rows;
    - the label model itself, on rows where an LF fired, when the votes of
      the new rows are given;
    - a model of the reviewed rows alone, shrunk toward uniform until there
      are enough reviews to trust it.

    This is the classifier measured as ``combined_acc`` by
    :func:`labeling.app.simulate`.

    Parameters
    ----------
    label_model : fitted label model, optional
        Scores the votes of new rows (``predict_proba(L)``); ``None`` skips it.
    end_model : TextEndModel, optional
        Hyper-parameters of the text models (default ``TextEndModel()``).

    Attributes
    ----------
    n_uncovered_dropped_ : int
        Set by :meth:`fit`: rows left out of the end model's training because
        no LF voted on them and nobody reviewed them (0 without ``L`` or with
        ``drop_uncovered=False``).

    Examples
    --------
    >>> clf = loop.final_classifier()                       # doctest: +SKIP
    >>> clf.predict(["check out my channel"], L=L_new)     # doctest: +SKIP
    """

    def __init__(self, label_model: Any = None, *, end_model: TextEndModel | None = None) -> None:
        self.label_model = label_model
        self.end_model = end_model

    def fit(
        self, texts: Sequence[str], probs: Any, y: Any, L: Any = None, *, drop_uncovered: bool = True
    ) -> "FinalClassifier":
        """Fit the text experts.

        Parameters
        ----------
        texts : sequence of str
            The loop's rows.
        probs : array-like of shape (n, k)
            The loop's class probabilities (one-hot on reviewed rows).
        y : array-like of shape (n,)
            Human labels, -1 where a row was not reviewed.
        L : array-like of shape (n, m), optional
            The rows' votes: rows where no LF fired and nobody reviewed are
            left out of the end model's training (their label is only the
            class balance). ``None`` trains on every row.
        drop_uncovered : bool
            Leave out the rows no LF voted on (default). ``False`` trains on
            them too, with the label model's prior as their label. Reviewed
            rows are always kept: a human label is evidence. How many rows
            were left out is :attr:`n_uncovered_dropped_`.
        """
        em = self.end_model or TextEndModel()
        texts = [str(t) for t in texts]
        probs = np.asarray(probs, dtype=float)
        y = np.asarray(y, dtype=np.int64)
        if probs.ndim != 2 or probs.shape[0] != len(texts) or y.shape != (len(texts),):
            raise ValueError(
                f"{len(texts)} texts but probs has shape {probs.shape} and y {y.shape}; one row of each per text."
            )
        human = y != ABSTAIN
        keep = np.ones(len(texts), dtype=bool)
        if L is not None and drop_uncovered:
            covered = covered_rows(L)
            if covered.shape != (len(texts),):
                raise ValueError(
                    f"L has {covered.shape[0]} rows but {len(texts)} texts were given; one row of votes per text."
                )
            keep = covered | human
        self.n_uncovered_dropped_ = int((~keep).sum())
        self.vectorizers_ = em.vectorizers()
        X = stack_features(self.vectorizers_, texts, fit=True)
        self.n_classes_ = probs.shape[1]
        self.end_ = em.fit_end(X, probs, keep, human)
        lm = None if L is None or self.label_model is None else self.label_model.predict_proba(L)
        # The reviewed-rows model gets the weight its held-out reviews support on top of the other two.
        self.review_, self.review_weight_ = em.fit_review(X, y, other_experts(self.end_, X, self.n_classes_, lm, L))
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "end_")

    def _features(self, texts: Sequence[str]) -> Any:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("FinalClassifier is not fitted; call fit() or ActiveLoop.final_classifier() first.")
        return stack_features(self.vectorizers_, [str(t) for t in texts])

    def predict_proba(self, texts: Sequence[str], L: Any = None) -> np.ndarray:
        """Class probabilities of ``texts``; ``L`` (their votes) brings in the label model."""
        X = self._features(texts)
        k = self.n_classes_
        end = class_probabilities(self.end_, X, k)
        em = self.end_model or TextEndModel()
        review = shrunk_probabilities(self.review_, self.review_weight_, em.review_columns(X), k)
        if L is None or self.label_model is None:
            L_arr = np.full((X.shape[0], 1), ABSTAIN)
            lm = np.ones((X.shape[0], k))
        else:
            L_arr = np.asarray(L)
            if L_arr.shape[0] != X.shape[0]:
                raise ValueError(f"L has {L_arr.shape[0]} rows but {X.shape[0]} texts were given.")
            lm = np.asarray(self.label_model.predict_proba(L_arr), dtype=float)
        return combine(end, lm, L_arr, review)

    def predict(self, texts: Sequence[str], L: Any = None) -> np.ndarray:
        """Most probable class of each text."""
        return self.predict_proba(texts, L).argmax(axis=1)
