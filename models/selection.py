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

from labeling.core.analysis import check_gold

from .base import BaseLabelModel
from .metrics import score_predictions

__all__ = [
    "class_balance_from_labels",
    "select_on_valid",
    "fit_temperature",
    "fit_threshold",
    "fit_with_validation",
]

#: Temperatures tried by :func:`fit_temperature` (1 included, so the model's own scale can win).
TEMPERATURES = tuple(float(t) for t in np.geomspace(0.0625, 4.0, 37))


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


def _brier_rows(model: BaseLabelModel, L_valid: Any, y_valid: np.ndarray) -> np.ndarray:
    """Brier score of each labelled row (squared distance of its probabilities to the one-hot gold label)."""
    rows = np.flatnonzero(y_valid >= 0)
    probs = model.predict_proba(L_valid)[rows]
    probs[np.arange(len(rows)), y_valid[rows]] -= 1.0
    return np.sum(probs * probs, axis=1)


#: How many standard errors a temperature's Brier gain over 1 must reach to be kept (a two-sided 95% test).
TEMPERATURE_MIN_Z = 1.96


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
    fit_params: Mapping[str, Any] | None = None,
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
    fit_params : mapping, optional
        Further keyword arguments of every fit (``lf_groups`` for :class:`LabelModel`).

    Returns
    -------
    best : BaseLabelModel
        Fitted model with the best validation score.
    table : DataFrame
        One row per setting: its parameters, validation ``metric`` and
        ``log_likelihood``.
    """
    import copy

    y_valid = _gold_valid(L_valid, y_valid, getattr(model, "cardinality", None))
    grid = dict(getattr(model, "selection_grid", {}) if param_grid is None else param_grid)
    names = list(grid)
    rows, best, best_key = [], None, None
    for values in itertools.product(*(grid[n] for n in names)) if names else [()]:
        candidate = copy.deepcopy(model).set_params(**dict(zip(names, values)))
        candidate.fit(L, y, class_balance=class_balance, **dict(fit_params or {}))
        score = score_predictions(y_valid, candidate.predict(L_valid), metric)
        loglik = _valid_log_likelihood(candidate, L_valid, y_valid)
        rows.append({**dict(zip(names, values)), metric: score, "log_likelihood": loglik})
        if best_key is None or (score, loglik) > best_key:
            best, best_key = candidate, (score, loglik)
    return best, pd.DataFrame(rows)


def _gold_valid(L_valid: Any, y_valid: Any, cardinality: int | None = None) -> np.ndarray:
    """``y_valid`` as int class ids after checking it: one per row of ``L_valid``, integers -1..k-1."""
    n = np.shape(np.asarray(L_valid))[0] if L_valid is not None else len(y_valid)
    return check_gold(y_valid, n, cardinality=cardinality, name="y_valid")


def fit_temperature(model: BaseLabelModel, L_valid: Any, y_valid: Any, *, min_z: float = TEMPERATURE_MIN_Z) -> float:
    """Set ``model.temperature`` to the value with the lowest validation Brier score, if it is clearly lower.

    Temperature scaling (Guo et al., 2017) divides every score by one number
    before the softmax: it corrects over- or under-confidence (naive Bayes over
    correlated LFs is overconfident; a strong precision prior underconfident)
    without changing any most probable class. Ties keep the value nearest 1.
    The Brier score is used rather than the log-likelihood because a few
    confidently wrong validation rows dominate the log-likelihood and push
    the temperature up on small validation sets (``docs/benchmarks.md`` gives
    the test calibration error of both choices).

    The best temperature is kept only when its per-row Brier gain over the
    model's own posterior (temperature 1) is at least ``min_z`` standard errors
    (a paired test): a few hundred validation rows, drawn under a class mix
    that need not be the test's, can prefer a temperature by chance, and a
    temperature fitted to that chance miscalibrates every other split. A model
    that is far off (a strong precision prior flattening every posterior) is
    corrected; one that is roughly right keeps its posterior.

    Parameters
    ----------
    model : BaseLabelModel
        A fitted model with a ``temperature`` parameter; it is modified.
    L_valid, y_valid :
        Votes and gold labels of the validation rows.

    Returns
    -------
    float
        The chosen temperature.
    """
    y_valid = _gold_valid(L_valid, y_valid, getattr(model, "cardinality", None))
    best, best_key = 1.0, None
    scores: dict[float, np.ndarray] = {}  # per-row Brier scores, kept for the paired test below
    for t in sorted(set(TEMPERATURES) | {1.0}, key=lambda t: abs(np.log(t))):
        model.set_params(temperature=t)
        scores[t] = _brier_rows(model, L_valid, y_valid)
        key = -float(np.mean(scores[t]))
        if best_key is None or key > best_key + 1e-12:
            best, best_key = t, key
    if best != 1.0:
        gain = scores[1.0] - scores[best]
        se = gain.std(ddof=1) / np.sqrt(gain.size) if gain.size > 1 else np.inf
        if not gain.mean() >= min_z * se:
            best = 1.0
    model.set_params(temperature=best)
    return best


def fit_threshold(model: BaseLabelModel, L_valid: Any, y_valid: Any) -> float:
    """Set a binary model's ``threshold`` on P(class 1) to the one with the best validation F1.

    The F1-optimal threshold of calibrated probabilities is half the best
    achievable F1 (Lipton et al., 2014), well below 0.5 when the positive class
    is rare; it is picked among the validation probabilities, ties going to
    the value nearest 0.5.

    Returns
    -------
    float
        The chosen threshold.
    """
    y_valid = _gold_valid(L_valid, y_valid, getattr(model, "cardinality", None))
    model.set_params(threshold=None)
    p1 = model.predict_proba(L_valid)[:, 1]
    best, best_key = 0.5, None
    for t in np.unique(np.concatenate([p1, [0.5]])):
        key = (score_predictions(y_valid, (p1 >= t).astype(np.int64), "f1"), -abs(t - 0.5))
        if best_key is None or key > best_key:
            best, best_key = float(t), key
    model.set_params(threshold=best)
    return best


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
    * A model with a ``temperature`` parameter gets it from
      :func:`fit_temperature`; for the binary ``"f1"`` metric, one with a
      ``threshold`` parameter gets it from :func:`fit_threshold`.
    * Any other model is fit on ``L`` as is.

    Validation labels never become LF parameters, and without them every
    model is simply fit on ``L``.
    """
    if y_valid is None or L_valid is None:
        return model.fit(L, y)
    y_valid = _gold_valid(L_valid, y_valid, getattr(model, "cardinality", None))
    if "valid_metric" in model.get_params():
        # LabelModel's validated fit: the same steps, plus a family choice on a clear paired lead.
        return model.set_params(valid_metric=metric).fit(L, y, L_valid=L_valid, y_valid=y_valid)
    balance = None
    if getattr(model, "uses_class_balance", False):
        k = model.cardinality or _infer_k(L, L_valid, y_valid)
        balance = class_balance_from_labels(y_valid, k)
    if getattr(model, "selection_grid", None):
        model = select_on_valid(model, L, L_valid, y_valid, metric=metric, y=y, class_balance=balance)[0]
    else:
        model = model.fit(L, y, class_balance=balance)
    params = model.get_params()
    if "temperature" in params:
        fit_temperature(model, L_valid, y_valid)
    if "threshold" in params and metric == "f1" and getattr(model, "cardinality_", 0) == 2:
        fit_threshold(model, L_valid, y_valid)
    return model


def _infer_k(L: Any, L_valid: Any, y_valid: Any) -> int:
    return int(max(np.max(np.asarray(L)), np.max(np.asarray(L_valid)), np.max(np.asarray(y_valid)))) + 1
