"""Snorkel's LabelModel behind the votewise label-model contract (for comparison and migration)."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from labeling.core.matrix import ABSTAIN

from .base import BaseLabelModel

__all__ = ["SnorkelLabelModel"]


class SnorkelLabelModel(BaseLabelModel):
    """``snorkel.labeling.model.LabelModel`` with the same API as every votewise model.

    Differences from calling Snorkel directly: rows where every LF abstains get
    uniform probabilities (Snorkel returns its class prior there); known labels
    in ``y`` are passed to Snorkel as ``Y_dev`` to estimate the class balance
    (Snorkel has no way to anchor rows) when they cover every class, and are
    left out when they miss one, which Snorkel refuses; fewer than 3 LFs is refused with a
    message, since Snorkel's matrix-completion fit needs at least 3.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    n_epochs, lr, l2, optimizer, prec_init :
        Passed to ``LabelModel.fit`` (Snorkel's defaults).
    random_state : int
        Seed passed to Snorkel (Snorkel reseeds Python, NumPy and torch with it).
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    model_ : snorkel.labeling.model.LabelModel
        The fitted Snorkel model.
    """

    _parameter_constraints: dict = {
        **BaseLabelModel._parameter_constraints,
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"sgd", "adam", "adamax"})],
        "prec_init": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        n_epochs: int = 100,
        lr: float = 0.01,
        l2: float = 0.0,
        optimizer: str = "sgd",
        prec_init: float = 0.7,
        random_state: int = 0,
        tie_break: str = "random",
    ) -> None:
        self.cardinality = cardinality
        self.n_epochs = n_epochs
        self.lr = lr
        self.l2 = l2
        self.optimizer = optimizer
        self.prec_init = prec_init
        self.random_state = random_state
        self.tie_break = tie_break

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        if L.shape[1] < 3:
            raise ValueError(
                f"SnorkelLabelModel needs at least 3 LFs; L has {L.shape[1]}. "
                "Use MajorityVote or LabelModel, which work with any number of LFs."
            )
        try:
            from snorkel.labeling.model import LabelModel as _Snorkel
        except ImportError as exc:  # pragma: no cover - snorkel is a core dependency
            raise ImportError("SnorkelLabelModel needs snorkel: pip install snorkel") from exc
        y_dev = None
        if class_balance is None and y is not None and (y >= 0).any():
            y_dev = y[y >= 0]
            if np.unique(y_dev).size < self.cardinality_:
                # Snorkel refuses a Y_dev that misses a class, as the first reviews of a loop often do.
                # Labels that miss a class say little about the balance: fall back to uniform classes,
                # as without labels.
                y_dev = None
        model = _Snorkel(cardinality=self.cardinality_, verbose=False)
        # Snorkel logs every fit at INFO level; quiet it for the fit only, leaving the caller's setting as it was.
        snorkel_log = logging.getLogger("snorkel")
        level = snorkel_log.level
        snorkel_log.setLevel(max(level, logging.WARNING))
        try:
            model.fit(
                L.astype(np.int64),
                Y_dev=y_dev,
                class_balance=None if class_balance is None else np.asarray(class_balance, float),
                n_epochs=int(self.n_epochs),
                lr=float(self.lr),
                l2=float(self.l2),
                optimizer=self.optimizer,
                prec_init=float(self.prec_init),
                seed=int(self.random_state),
                progress_bar=False,
            )
        finally:
            snorkel_log.setLevel(level)
        self.model_ = model

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        probs = np.asarray(self.model_.predict_proba(L.astype(np.int64)), dtype=float)
        probs[(L == ABSTAIN).all(axis=1)] = 1.0 / self.cardinality_
        return probs / probs.sum(axis=1, keepdims=True)
