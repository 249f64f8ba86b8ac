"""The confusion family of :class:`models.LabelModel`: one confusion matrix per LF, abstaining included.

This is Dawid and Skene's model (as :class:`models.DawidSkene`) with two changes: LFs of one group (declared or
near-duplicate, see :mod:`models.lf_groups`) share their evidence, each member's log-likelihood counting
``1 / group size``, and the fit works on distinct vote patterns with their counts. It fits LFs of every style:
an LF worse than chance, one that votes the majority class on every plain row, a broad one whose firing depends on
the class; what makes it weak is many sparse LFs, whose silences it over-reads.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


from .dawid_skene import vote_outcomes

__all__ = ["ConfusionFit", "fit_confusion"]


class ConfusionFit:
    """Fitted parameters: ``confusion[j, c, v] = P(LF j votes v | class c)`` and the class prior."""

    def __init__(self, confusion: np.ndarray, prior: np.ndarray, lf_weight: np.ndarray) -> None:
        self.confusion = confusion
        self.prior = prior
        self.lf_weight = lf_weight

    def log_table(self) -> np.ndarray:
        """Rows ``j*(k+1)+v``: ``lf_weight[j] * log P(vote v | class c)`` for every class ``c``."""
        k = self.confusion.shape[1]
        table = np.log(self.confusion).transpose(0, 2, 1) * self.lf_weight[:, None, None]
        return table.reshape(-1, k)

    def posterior(self, P: np.ndarray, temperature: float = 1.0, outcomes: sp.csr_matrix | None = None) -> np.ndarray:
        """Class posteriors of vote patterns ``P`` (``outcomes``: their one-hot outcomes, when already built)."""
        prior = self.prior
        k = self.confusion.shape[1]
        X = vote_outcomes(P, k) if outcomes is None else outcomes
        scores = np.asarray(X @ self.log_table()) / temperature
        scores += np.log(np.clip(prior, 1e-12, None)) / temperature
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)


def fit_confusion(
    P: np.ndarray,
    counts: np.ndarray,
    k: int,
    groups: np.ndarray,
    *,
    known: np.ndarray | None = None,
    class_balance: np.ndarray | None = None,
    smoothing: float = 1e-3,
    n_iter: int = 100,
    tol: float = 1e-5,
    start: np.ndarray | None = None,
) -> ConfusionFit:
    """EM for the confusion family on patterns ``P`` (n_patterns x n_lfs) with row ``counts``.

    ``groups`` gives each LF's group id; ``known`` a label per pattern (-1 unknown) kept fixed; ``start`` an
    initial posterior (default: majority vote). ``smoothing`` is a pseudo-count per confusion cell as a
    fraction of the rows divided by the number of outcomes, so duplicating the data changes nothing.
    """
    u, m = P.shape
    X = vote_outcomes(P, k)
    XT = X.T.tocsr()
    sizes = np.bincount(groups, minlength=int(groups.max()) + 1)[groups].astype(float)
    lf_weight = 1.0 / sizes
    is_known = np.zeros(u, dtype=bool) if known is None else known >= 0
    n = counts.sum()
    pseudo = max(smoothing, 1e-9) * n / (k + 1)
    if start is None:
        mv = np.tile(np.vstack([np.eye(k), np.zeros((1, k))]), (m, 1))
        q = np.asarray(X @ mv)
        tot = q.sum(axis=1, keepdims=True)
        q = np.where(tot > 0, q / np.where(tot > 0, tot, 1), 1.0 / k)
    else:
        q = start.copy()
    if is_known.any():
        q[is_known] = np.eye(k)[known[is_known]]
    fit, conf = None, None
    for _ in range(int(n_iter)):
        weighted = q * counts[:, None]
        joint = (XT @ weighted).reshape(m, k + 1, k).transpose(0, 2, 1) + pseudo
        new_conf = joint / joint.sum(axis=2, keepdims=True)
        prior = class_balance if class_balance is not None else weighted.sum(axis=0) / n
        prior = np.clip(np.asarray(prior, dtype=float), 1e-6, None)
        prior /= prior.sum()
        shift = np.inf if conf is None else float(np.max(np.abs(new_conf - conf)))
        conf = new_conf
        fit = ConfusionFit(conf, prior, lf_weight)
        # Rounded so that float noise, which depends on the LFs' column order, cannot pick one of two
        # mirror-image solutions that the votes support equally (EM would otherwise amplify it).
        q = np.round(fit.posterior(P, outcomes=X), 12)
        if is_known.any():
            q[is_known] = np.eye(k)[known[is_known]]
        if shift < tol:
            break
    return fit
