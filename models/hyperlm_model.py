"""HyperLM (Wu et al., ICLR 2023) behind the votewise label-model contract, for side-by-side comparison.

HyperLM is a graph neural network pretrained on synthetic label matrices that
reads a whole matrix and returns every row's label in one forward pass; it has
no parameters to fit. It is an optional extra (``pip install 'votewise[hyperlm]'``).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval

from labeling.core.matrix import ABSTAIN, covered_rows

from .base import BaseLabelModel

__all__ = ["HyperLabelModel"]


def _load_hyperlm(device: str) -> Any:
    """HyperLM's pretrained network, loaded with torch's safe unpickler.

    The checkpoint stores numpy scalars (the optimiser state), which
    ``torch.load``'s ``weights_only`` loader refuses; exactly those types are
    allowed, and nothing else is unpickled.
    """
    try:
        import hyperlm
        import torch
    except ImportError as exc:
        raise ImportError(
            "HyperLabelModel needs the hyperlm package: pip install 'votewise[hyperlm]'"
        ) from exc
    import numpy.dtypes

    try:  # numpy >= 2 names the module numpy._core; the checkpoint's pickle says numpy.core
        from numpy._core.multiarray import scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar
    allowed = [
        (scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        numpy.dtypes.Float64DType,
        numpy.dtypes.Float32DType,
        numpy.dtypes.Int64DType,
        numpy.dtypes.Int32DType,
    ]
    with torch.serialization.safe_globals(allowed):
        return hyperlm.HyperLabelModel(device=device)


class HyperLabelModel(BaseLabelModel):
    """HyperLM's pretrained hyper label model with the same API as every votewise model.

    HyperLM labels the rows of the matrix it is given, all at once, so it is
    transductive; to score new rows, :meth:`predict_proba` runs it on the fitted
    rows followed by the new ones (``max_context_rows`` of the fitted rows, at
    random, keep that bounded) and returns the new rows' probabilities. Rows
    where every LF abstains get the class prior (``class_balance`` given to
    :meth:`fit`, else uniform), as with every votewise model.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    max_context_rows : int
        Fitted rows kept as context for prediction.
    device : str
        torch device to run on.
    random_state : int
        Seed for the choice of context rows.
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    context_ : ndarray of int, shape (n_context, n_lfs)
        The fitted rows that are run with every prediction.
    class_prior_ : ndarray, shape (cardinality,)
    """

    uses_class_balance = True

    _parameter_constraints: dict = {
        **BaseLabelModel._parameter_constraints,
        "max_context_rows": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        max_context_rows: int = 20_000,
        device: str = "cpu",
        random_state: int = 0,
        tie_break: str = "random",
    ) -> None:
        self.cardinality = cardinality
        self.max_context_rows = max_context_rows
        self.device = device
        self.random_state = random_state
        self.tie_break = tie_break

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        k = self.cardinality_
        self.network_ = _load_hyperlm(self.device)
        rows = np.arange(len(L))
        if len(rows) > self.max_context_rows:
            rows = np.sort(np.random.default_rng(self.random_state).choice(rows, self.max_context_rows, replace=False))
        self.context_ = L[rows].astype(np.int64)
        self.class_prior_ = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, float)

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        k = self.cardinality_
        out = np.tile(self.class_prior_, (len(L), 1))
        covered = covered_rows(L)
        if not covered.any():
            return out
        X = np.concatenate([self.context_[covered_rows(self.context_)], L[covered].astype(np.int64)])
        # HyperLM builds its graph from the votes alone, so rows without a vote (and, with one LF,
        # numpy's squeeze of a single column) would shift or collapse its output: it sees covered
        # rows only, and a lone LF gets an all-abstain companion that adds no edge.
        if X.shape[1] == 1:
            X = np.concatenate([X, np.full_like(X, ABSTAIN)], axis=1)
        raw = np.asarray(self.network_.unsupervised_HyperLM.predict_prob(X), dtype=float)
        tie = 1.0 / raw.shape[1]
        if (raw > tie).any() and (raw < tie).any():
            # HyperLM's own rescaling of its scores to probabilities (what its infer(return_probs=True)
            # returns); it divides by zero when no score lies on one side of the tie.
            from hyperlm.hyper_label_model import calibrate_probs

            raw = calibrate_probs(raw)
        raw = raw[-covered.sum():]
        # HyperLM infers the number of classes from the largest vote; a class nobody voted gets 0.
        probs = np.zeros((len(raw), k))
        probs[:, : min(raw.shape[1], k)] = raw[:, :k]
        probs = np.nan_to_num(probs, nan=0.0)
        total = probs.sum(axis=1, keepdims=True)
        ok = total[:, 0] > 0
        rows = np.flatnonzero(covered)
        out[rows[ok]] = probs[ok] / total[ok]
        return out
