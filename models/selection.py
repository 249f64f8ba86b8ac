"""Using a small labelled validation set: class balance and hyper-parameter selection.

Label models are fit on unlabelled votes; a labelled validation split may pick
hyper-parameters and the class balance (the WRENCH protocol), never the
parameters themselves, and the test split is never looked at.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .base import BaseLabelModel
from .metrics import score_predictions

__all__ = ["class_balance_from_labels", "select_on_valid", "fit_with_validation"]


def class_balance_from_labels(y: Any, cardinality: int, *, smoothing: float = 1.0) -> np.ndarray:
    """Class balance from gold labels with add-``smoothing`` counts (WRENCH uses 1).

    Parameters
    ----------
    y : array-like of int
        Gold labels; -1 (unknown) is ignored.
    cardinality : int
        Number of classes.
    smoothing : float
        Pseudo-count added to every class so that no class gets weight 0.

    Returns
    -------
    ndarray, shape (cardinality,)
        Sums to 1.

    Examples
    --------
    >>> class_balance_from_labels([0, 0, 1], 2).round(3).tolist()
    [0.6, 0.4]
    """
    y = np.asarray(y).ravel()
    y = y[y >= 0]
    if y.size and y.max() >= cardinality:
        raise ValueError(f"y holds class {int(y.max())}; expected 0..{cardinality - 1} for cardinality={cardinality}.")
    counts = np.bincount(y.astype(np.int64), minlength=cardinality) + float(smoothing)
    if counts.sum() <= 0:
        raise ValueError("No labels and smoothing=0: cannot estimate a class balance.")
    return counts / counts.sum()


def _valid_log_likelihood(model: BaseLabelModel, L_valid: Any, y_valid: np.ndarray) -> float:
    probs = model.predict_proba(L_valid)
    rows = np.flatnonzero(y_valid >= 0)
    return float(np.mean(np.log(np.clip(probs[rows, y_valid[rows]], 1e-12, None))))


def select_on_valid(
    model: BaseLabelModel,
    L: Any,
    L_valid: Any,
    y_valid: Any,
    *,
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    metric: str = "accuracy",
    y: Any = None,
    class_balance: Any = None,
) -> tuple[BaseLabelModel, pd.DataFrame]:
    """Fit ``model`` on ``L`` once per setting of ``param_grid`` and keep the best on validation.

    Every candidate is fit on the same unlabelled votes ``L`` (and known labels
    ``y``, if any); only its predictions on ``(L_valid, y_valid)`` decide: the
    highest ``metric`` wins, ties go to the higher mean log-likelihood of the
    gold labels (the better-calibrated candidate), then to the earlier setting.

    Parameters
    ----------
    model : BaseLabelModel
        Template; it is not modified (candidates are copies via ``set_params``).
    L, L_valid : label matrices
        Votes to fit on and votes of the labelled validation rows.
    y_valid : array-like of int
        Gold labels of the validation rows.
    param_grid : mapping of str to sequence, optional
        Hyper-parameter values to try (all combinations). Defaults to the
        model's ``selection_grid`` attribute, or just the model as given.
    metric : str
        Name in :data:`models.METRICS`.
    y : array-like of int, optional
        Known labels of ``L``'s rows (-1 = unknown), passed to every fit.
    class_balance : array-like, optional
        Passed to every fit.

    Returns
    -------
    best : BaseLabelModel
        Fitted model with the best validation score.
    table : DataFrame
        One row per setting: its parameters, validation ``metric`` and
        ``log_likelihood``.
    """
    import copy

    y_valid = np.asarray(y_valid).ravel()
    grid = dict(getattr(model, "selection_grid", {}) if param_grid is None else param_grid)
    names = list(grid)
    rows, best, best_key = [], None, None
    for values in itertools.product(*(grid[n] for n in names)) if names else [()]:
        candidate = copy.deepcopy(model).set_params(**dict(zip(names, values)))
        candidate.fit(L, y, class_balance=class_balance)
        score = score_predictions(y_valid, candidate.predict(L_valid), metric)
        loglik = _valid_log_likelihood(candidate, L_valid, y_valid)
        rows.append({**dict(zip(names, values)), metric: score, "log_likelihood": loglik})
        if best_key is None or (score, loglik) > best_key:
            best, best_key = candidate, (score, loglik)
    return best, pd.DataFrame(rows)


def fit_with_validation(
    model: BaseLabelModel,
    L: Any,
    L_valid: Any = None,
    y_valid: Any = None,
    *,
    metric: str = "accuracy",
    y: Any = None,
) -> BaseLabelModel:
    """Fit a label model the way ``votewise bench`` does, using validation labels where the model asks.

    * A model whose class sets ``uses_class_balance = True`` (weighted
      majority vote, :class:`LabelModel`) is fit with the validation class
      balance from :func:`class_balance_from_labels`.
    * A model with a ``selection_grid`` (:class:`LabelModel`) is then chosen
      among those settings by :func:`select_on_valid`.
    * Any other model is fit on ``L`` as is.

    Validation labels never become parameters beyond the class balance, and
    without them every model is simply fit on ``L``.
    """
    if y_valid is None or L_valid is None:
        return model.fit(L, y)
    balance = None
    if getattr(model, "uses_class_balance", False):
        k = model.cardinality or _infer_k(L, L_valid, y_valid)
        balance = class_balance_from_labels(y_valid, k)
    if getattr(model, "selection_grid", None):
        return select_on_valid(model, L, L_valid, y_valid, metric=metric, y=y, class_balance=balance)[0]
    return model.fit(L, y, class_balance=balance)


def _infer_k(L: Any, L_valid: Any, y_valid: Any) -> int:
    return int(max(np.max(np.asarray(L)), np.max(np.asarray(L_valid)), np.max(np.asarray(y_valid)))) + 1
