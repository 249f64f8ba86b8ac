"""The contract every label model follows (scikit-learn conventions)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils._param_validation import Interval, StrOptions

from labeling.core.matrix import ABSTAIN, check_label_matrix

from ._tiebreak import TIE_BREAKS, probs_to_preds
from .metrics import score_predictions

__all__ = ["BaseLabelModel", "NotFittedError", "vote_counts"]


class NotFittedError(_SklearnNotFittedError, RuntimeError):
    """Raised when ``predict*`` is called before ``fit``.

    scikit-learn's :class:`~sklearn.exceptions.NotFittedError` (so ``check_is_fitted`` callers and
    ``except NotFittedError`` from either package catch it), and a ``RuntimeError`` as before.
    """


def vote_counts(L: np.ndarray, cardinality: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-row (optionally LF-weighted) number of votes for each class, shape (n, k).

    Uses one ``bincount`` over the non-abstain cells, so the cost is O(n*m)
    whatever the number of classes.
    """
    n, m = L.shape
    rows, cols = np.nonzero(L != ABSTAIN)
    flat = rows * cardinality + L[rows, cols].astype(np.int64)
    w = None if weights is None else np.asarray(weights, dtype=float)[cols]
    return np.bincount(flat, weights=w, minlength=n * cardinality).reshape(n, cardinality).astype(float)


class BaseLabelModel(ClassifierMixin, BaseEstimator):
    """Base class: turns a label matrix into class probabilities.

    A scikit-learn classifier whose ``X`` is a label matrix: ``get_params``/``set_params``, ``clone``,
    ``repr``, ``check_is_fitted``, pipelines and ``GridSearchCV`` come from
    :class:`~sklearn.base.BaseEstimator`. ``y`` is optional and may be partial (-1 = unknown).

    Subclasses implement ``_fit(L, y)`` (``L`` validated int array, ``y`` int
    array with -1 for unknown or None) and ``_predict_proba(L)``. Learned
    attributes end in ``_``; the constructor only stores hyper-parameters.
    """

    cardinality: int | None = None
    tie_break: str = "random"
    #: Whether how often a vote pattern occurs changes the fit. ``labeling.fit_from_patterns`` fits a model
    #: that says False on the distinct patterns alone, without repeating them by their counts.
    uses_pattern_counts: bool = True

    #: Hyper-parameter constraints in scikit-learn's form, checked by ``_validate_params`` when ``fit`` starts;
    #: a subclass extends them with its own (``{**BaseLabelModel._parameter_constraints, ...}``).
    _parameter_constraints: dict = {
        "cardinality": [Interval(Integral, 2, None, closed="left"), None],
        "tie_break": [StrOptions(set(TIE_BREAKS))],
    }

    # validation -------------------------------------------------------------
    def _check_fit_input(self, L: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        self._validate_params()
        arr = check_label_matrix(L, cardinality=self.cardinality)
        y_arr = None
        if y is not None:
            y_arr = np.asarray(y)
            if y_arr.ndim != 1 or y_arr.shape[0] != arr.shape[0]:
                raise ValueError(
                    f"Found inconsistent numbers of samples: L has {arr.shape[0]} rows, y has shape {y_arr.shape}."
                )
            if y_arr.dtype.kind == "O" and all(type(v) is int for v in y_arr.tolist()):
                # Python ints past int64 make an object array: name the value, not the dtype.
                big = [i for i, v in enumerate(y_arr.tolist()) if not -(2**31) < v < 2**31]
                if big:
                    raise ValueError(f"y[{big[0]}] is {y_arr[big[0]]}; expected -1 (unknown) or a class id.")
                y_arr = y_arr.astype(np.int64)
            if y_arr.dtype.kind == "f" and (np.abs(y_arr) >= 2**31).any():  # an int past int64, read as a float
                i = int(np.flatnonzero(np.abs(y_arr) >= 2**31)[0])
                raise ValueError(f"y[{i}] is {y_arr[i]:.4g}; expected -1 (unknown) or a class id.")
            if y_arr.dtype.kind not in "iu":
                raise TypeError(f"y must hold integer class ids (-1 = unknown); got dtype {y_arr.dtype}.")
            if (y_arr < ABSTAIN).any():
                i = int(np.flatnonzero(y_arr < ABSTAIN)[0])
                raise ValueError(f"y[{i}] is {y_arr[i]}; expected -1 (unknown) or a class id.")
        k = self.cardinality
        if k is None:
            top = int(arr.max())
            if y_arr is not None:
                top = max(top, int(y_arr.max()))
            k = max(top + 1, 2)
        elif y_arr is not None and (y_arr >= k).any():
            i = int(np.flatnonzero(y_arr >= k)[0])
            raise ValueError(f"y[{i}] is {y_arr[i]}; expected -1 or 0..{k - 1} for cardinality={k}.")
        self.cardinality_ = int(k)
        self.n_lfs_ = int(arr.shape[1])
        self.lf_names_ = list(getattr(L, "lf_names", [f"lf_{j}" for j in range(arr.shape[1])]))
        return arr, y_arr

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cardinality_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # y is optional: label models learn from the votes alone
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(L) before predicting."
            )

    def _check_predict_input(self, L: Any) -> np.ndarray:
        self._check_fitted()
        return check_label_matrix(L, cardinality=self.cardinality_, n_lfs=self.n_lfs_)

    # public API -------------------------------------------------------------
    def fit(self, L: Any, y: Any = None, *, class_balance: Any = None) -> "BaseLabelModel":
        """Fit the model on votes ``L``; ``y`` may give known labels (-1 = unknown)."""
        arr, y_arr = self._check_fit_input(L, y)
        self._fit(arr, y_arr, self._check_class_balance(class_balance))
        return self

    def _check_class_balance(self, class_balance: Any) -> np.ndarray | None:
        if class_balance is None:
            return None
        balance = np.asarray(class_balance, dtype=float)
        if balance.shape != (self.cardinality_,) or (balance < 0).any() or not np.isclose(balance.sum(), 1):
            raise ValueError(
                f"class_balance must be {self.cardinality_} non-negative numbers summing to 1; got {balance}."
            )
        return balance

    def predict_proba(self, L: Any) -> np.ndarray:
        """Class probabilities, shape (n_rows, cardinality); each row sums to 1."""
        return self._predict_proba(self._check_predict_input(L))

    def predict(self, L: Any, *, tie_break: str | None = None) -> np.ndarray:
        """Most probable class per row; ties resolved by ``tie_break`` (default: the model's).

        A ``tie_break`` given here is checked by :func:`~models.probs_to_preds`; the model's own was checked
        by ``fit`` (``_parameter_constraints``).
        """
        rule = self.tie_break if tie_break is None else tie_break
        return probs_to_preds(self.predict_proba(L), tie_break=rule)

    def score(self, L: Any, y: Any, *, metric: str = "accuracy", tie_break: str | None = None) -> float:
        """Score predictions on ``L`` against gold ``y`` (``metric`` in models.metrics.METRICS)."""
        return score_predictions(y, self.predict(L, tie_break=tie_break), metric)

    # subclass hooks ---------------------------------------------------------
    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        raise NotImplementedError

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        raise NotImplementedError

