"""votewise's default label model: per-LF, per-class vote precision fit by EM on vote patterns."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from labeling.core.matrix import ABSTAIN
from labeling.core.patterns import vote_patterns

from .base import BaseLabelModel
from .confusion_family import fit_confusion
from .family_choice import CLEAR_LEAD_Z, HELD_OUT_LEAD_Z, clear_lead, held_out_agreement, paired_z
from .lf_groups import NEAR_DUPLICATE, check_lf_groups, find_lf_groups, group_vote_weights
from .metrics import METRICS
from .uncovered import poisson_uncovered, smoothed_uncovered, sources_per_row

__all__ = ["LabelModel", "FAMILIES"]

#: The model families :class:`LabelModel` chooses among (``family="auto"``), in order of preference on ties.
FAMILIES = ("precision", "confusion", "majority")
# Group detection and the label-free choice look at most this many distinct vote patterns (a seeded sample,
# weighted by their counts), so that they cost the same on a million rows as on fifty thousand.
_CHOICE_PATTERNS = 4_000
# Least share of voted rows that must hold votes of two LF groups for the class balance to count as identified.
_MIN_OVERLAP = 0.05

# A dense (patterns x classes) posterior is used while it stays below this many
# cells; beyond it (many classes) only the (pattern, voted class) cells are kept.
_DENSE_CELLS = 32_000_000
_EPS = 1e-6
# The full (LF x voted class, true class) score table is used while it stays below
# this many cells (it is what models shared confusions and abstentions).
_TABLE_CELLS = 16_000_000
# Least log-odds a vote adds to its class beyond the prior gap (see LabelModel._weights).
_MIN_EVIDENCE = 0.01
# Least share of the distance from the class prior to 1 that the prior mean of a precision keeps.
_MIN_GAP_CLOSED = 0.4
# Least share of an LF's votes each class needs for the LF to count as a classifier that chooses
# between all classes (below it, stray votes of an otherwise one-class LF do not make it one).
_MIN_VOTE_SHARE = 0.01


def _row_reduce(ufunc: np.ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(a, axis=1)``; column by column when rows are short, which is several times faster."""
    if a.shape[1] > 16:
        return ufunc.reduce(a, axis=1)
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        ufunc(out, a[:, c], out=out)
    return out


def _vote_csr(P: np.ndarray, k: int, chunk: int = 65536):
    """Votes as CSR (rows x LF*class), built in row chunks to keep temporaries small."""
    import scipy.sparse as sp

    u, m = P.shape
    cols, per_row = [], []
    for lo in range(0, u, chunk):
        block = P[lo:lo + chunk]
        mask = block != ABSTAIN
        # Flat positions of the votes give their LF (position mod m) without a broadcast add over every
        # cell; about twice as fast as masking an (offsets + block) array.
        flat = np.flatnonzero(mask)
        cols.append((flat % m).astype(np.int32) * k + block.ravel()[flat])
        per_row.append(np.count_nonzero(mask, axis=1))
    indices = np.concatenate(cols)
    indptr = np.zeros(u + 1, dtype=np.int64)
    np.cumsum(np.concatenate(per_row), out=indptr[1:])
    data = np.ones(len(indices))  # float64, so products with float64 tables need no conversion
    return sp.csr_matrix((data, indices, indptr), shape=(u, m * k))


class _DenseVotes:
    """Few classes: the (patterns x classes) posterior is kept whole; one sparse product per EM step."""

    def __init__(self, P: np.ndarray, k: int, known: np.ndarray, groups: np.ndarray | None = None) -> None:
        self.u, self.m, self.k = P.shape[0], P.shape[1], k
        self.X = _vote_csr(P, k)
        # Scores weigh each vote by 1 / (votes of its LF group in that row), so that a group of correlated LFs
        # adds the mean of its members' evidence; counts (the M-step) keep every vote whole.
        self.Xs = self.X
        if groups is not None and len(np.unique(groups)) < len(groups):
            w = group_vote_weights(P, groups)
            self.Xs = self.X.copy()
            self.Xs.data = w[P != ABSTAIN]
        self.known = known
        self.is_known = known >= 0
        self.vote_class = np.tile(np.arange(k), self.m)  # class named by column j*k+v

    def n_votes(self, counts: np.ndarray) -> np.ndarray:
        return np.asarray(self.X.T @ counts).reshape(self.m, self.k)

    def joint(self, post: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Expected rows per (LF, voted class) and true class, shape (m*k, k); known rows fixed."""
        post[self.is_known] = 0.0
        post[np.flatnonzero(self.is_known), self.known[self.is_known]] = 1.0
        return np.asarray(self.X.T @ (post * counts[:, None]))

    def posterior(self, log_prior: np.ndarray, table: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
        """Class posteriors from a score ``table[(j, v), y]`` per vote and a per-class ``offset``."""
        scores = np.asarray(self.Xs @ table)
        scores += offset + log_prior
        scores -= _row_reduce(np.maximum, scores)[:, None]
        np.exp(scores, out=scores)
        scores /= _row_reduce(np.add, scores)[:, None]
        return scores

    def expected(self, post: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected right votes per (LF, class) and expected rows per class (known rows fixed)."""
        joint = self.joint(post, counts)
        right = joint[np.arange(self.m * self.k), self.vote_class].reshape(self.m, self.k)
        return right, post.T @ counts

    def full(self, post: np.ndarray, prior: np.ndarray) -> np.ndarray:
        return post


class _CellVotes:
    """Many classes: only (pattern, voted class) cells are stored; other classes keep the prior."""

    def __init__(self, P: np.ndarray, k: int, known: np.ndarray, groups: np.ndarray | None = None) -> None:
        u, m = P.shape
        mask = P != ABSTAIN
        self.vote_weight = None
        if groups is not None and len(np.unique(groups)) < len(groups):
            self.vote_weight = group_vote_weights(P, groups)[mask]
        per_row = mask.sum(axis=1)
        cls = P[mask].astype(np.int64)
        lf = np.nonzero(mask)[1].astype(np.int64)
        row = np.repeat(np.arange(u, dtype=np.int64), per_row)
        self.u, self.k, self.m = u, k, m
        self.row, self.cls = row, cls
        self.lf_class = lf * k + cls  # index into the (m, k) parameter table
        key = row * k + cls
        # Votes are ordered by row, so a stable sort of the keys is near-linear.
        order = np.argsort(key, kind="stable")
        skey = key[order]
        new = np.empty(len(skey), dtype=bool)
        new[:1] = True
        np.not_equal(skey[1:], skey[:-1], out=new[1:])
        cell_key = skey[new]
        self.cell = np.empty(len(key), dtype=np.int64)
        self.cell[order] = np.cumsum(new) - 1
        self.n_cells = len(cell_key)
        self.cell_row = cell_key // k
        self.cell_class = cell_key % k
        self.cell_start = np.searchsorted(self.cell_row, np.arange(u + 1))
        self.has_cells = self.cell_start[1:] > self.cell_start[:-1]
        self.known = known
        self.is_known = known >= 0

    def n_votes(self, counts: np.ndarray) -> np.ndarray:
        return np.bincount(self.lf_class, weights=counts[self.row], minlength=self.m * self.k).reshape(self.m, self.k)

    def posterior(self, log_prior: np.ndarray, weights: np.ndarray):
        w = weights.ravel()[self.lf_class]
        if self.vote_weight is not None:
            w = w * self.vote_weight
        s = np.bincount(self.cell, weights=w, minlength=self.n_cells)
        # Classes without a vote in a row all keep score 0 (prior only), so the
        # normaliser is the prior mass of unvoted classes plus the voted cells.
        prior = np.exp(log_prior)
        top = np.zeros(self.u)
        if self.n_cells:
            top[self.has_cells] = np.maximum.reduceat(s, self.cell_start[:-1][self.has_cells])
        top = np.maximum(top, 0.0)
        cell_prior = prior[self.cell_class]
        cell_mass = cell_prior * np.exp(s - top[self.cell_row])
        voted_prior = np.bincount(self.cell_row, weights=cell_prior, minlength=self.u)
        # The prior may be tempered (not summing to 1), so the unvoted mass is its total minus the voted part.
        z = np.clip(prior.sum() - voted_prior, 0.0, None) * np.exp(-top) + np.bincount(
            self.cell_row, weights=cell_mass, minlength=self.u
        )
        return cell_mass / z[self.cell_row], np.exp(-top) / z, prior

    def expected(self, post, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell_q, base, prior = post
        known_cell = self.known[self.cell_row]
        cell_q = np.where(self.is_known[self.cell_row], (self.cell_class == known_cell).astype(float), cell_q)
        base = np.where(self.is_known, 0.0, base)
        right = np.bincount(self.lf_class, weights=counts[self.row] * cell_q[self.cell], minlength=self.m * self.k)
        class_mass = prior * (counts @ base)
        extra = cell_q - prior[self.cell_class] * base[self.cell_row]
        class_mass += np.bincount(self.cell_class, weights=extra * counts[self.cell_row], minlength=self.k)
        # Known rows whose label no LF voted for still count for that class.
        voted_known = np.zeros(self.u, dtype=bool)
        voted_known[self.cell_row[self.cell_class == known_cell]] = True
        missing = self.is_known & ~voted_known
        class_mass += np.bincount(self.known[missing], weights=counts[missing], minlength=self.k)
        return right.reshape(self.m, self.k), class_mass

    def full(self, post, prior: np.ndarray) -> np.ndarray:
        cell_q, base, _ = post
        out = base[:, None] * prior[None, :]
        out[self.cell_row, self.cell_class] = cell_q
        return out


def _votes(P: np.ndarray, k: int, known: np.ndarray, m: int, groups: np.ndarray | None = None):
    """The dense form when the posterior and the score table fit, else the cell form."""
    if len(P) * k <= _DENSE_CELLS and m * k * k <= _TABLE_CELLS:
        return _DenseVotes(P, k, known, groups)
    return _CellVotes(P, k, known, groups)


def _logit(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, _EPS, 1 - _EPS)
    return np.log(x) - np.log1p(-x)


class LabelModel(BaseLabelModel):
    """Weak-supervision label model: how far to trust each LF's vote for each class.

    Three model families, chosen with evidence (``family="auto"``):

    * ``"precision"`` (described below): one precision per LF and voted class, with priors that suit sparse
      keyword LFs;
    * ``"confusion"``: one confusion matrix per LF, abstaining included (Dawid and Skene's model,
      :mod:`models.confusion_family`), which fits LFs worse than chance, LFs voting the majority class on
      every plain row and broad LFs whose firing depends on the class;
    * ``"majority"``: majority vote.

    In every family, LFs of one group count as one source of evidence: groups declared in
    ``fit(..., lf_groups=...)`` (several prompts to one LLM) and groups of near-duplicate LFs found from the
    votes (Jaccard index of their (row, vote) sets at least 0.6, :mod:`models.lf_groups`); see ``lf_groups_``.

    Without labels, the precision family is kept unless another family predicts held-out LFs' votes clearly
    better: each LF group is hidden in turn, and the model's prediction from the remaining votes is compared
    with the hidden votes (:func:`models.family_choice.held_out_agreement`, a paired test at 1.96 standard
    errors, each distinct vote pattern counting once). With validation labels
    (``fit(L, L_valid=..., y_valid=...)``) the estimator's own settings, with the validation class balance, a
    validated temperature and only the declared LF groups, are kept unless a departure beats the candidate
    chosen before it by a clear paired lead on the validation rows (1.96 standard errors). The departures, in
    order: an F1 threshold, the ``selection_grid`` settings, detected near-duplicate groups, another family,
    and last the fit that ``fit(L)`` alone gives (its label-free family choice and estimated class prior).
    Rows without a vote then take the class balance of the validation rows without one
    (``uncovered_prior_``). Known labels (``y``) always use the precision family. A ``UserWarning`` says when
    the votes cannot identify the class balance (a class no LF votes, or almost no row with votes of two
    independent LFs).

    Each LF ``j`` voting class ``c`` is right with probability ``precision_[j, c]``
    (its precision *when it votes c*), and LFs are independent given the true
    class (naive Bayes over the votes, abstentions carrying no evidence unless
    ``abstain_evidence``). When a vote for ``c`` is wrong, the true class is
    drawn from ``confusion_[c]``, one distribution per voted class shared by
    every LF (so "LFs voting DESC are usually wrong towards ENTY" is learnt from
    all of them at once). LFs are assumed better than chance: a lone vote of an
    LF that votes some of the classes (a keyword) makes its class the most
    probable; a vote of an LF that votes every class (a classifier, see
    ``chooses_``) raises its class's probability, and its prior precision on
    a rare class is low (see ``accuracy_prior``). A precision never exceeds
    ``class prior / coverage`` (an LF that fires on half of the rows for a
    class that holds a third of them is right on at most two thirds of its
    votes). A row with no vote gets ``uncovered_prior_``.

    Parameters are fit by EM from a majority-vote start on the distinct vote
    patterns weighted by their counts (cost grows with the number of distinct
    rows and votes, not with n), with a Beta prior pulling each precision
    toward ``accuracy_prior``. :meth:`predict_proba` returns a dense
    (n_rows, cardinality) array.

    Parameters
    ----------
    cardinality : int, optional
        Number of classes; inferred from the votes when omitted.
    accuracy_prior : float
        Prior mean of every LF precision, in (0, 1); for a class holding more
        than half of the rows the mean is raised to at least its class prior
        plus 0.4 of the distance to 1, so that its votes stay evidence. For a
        classifier LF it is the LF's accuracy on the rows of each class, and
        its prior precision follows from the class prior by Bayes' rule (0.7
        on balanced classes, about 0.11 on a class of 5%).
    prior_strength : float
        Weight of that prior, as pseudo-votes per row of data (0.3 on 5,000
        rows = 1,500 pseudo-votes per LF and class). Scaling by the number of
        rows makes the fit invariant to duplicating the data. A strong prior
        keeps sparse LFs near ``accuracy_prior``, so that no LF is trusted
        far more than another on little evidence; the default is the value
        that was never below majority vote on the benchmark datasets without
        validation labels.
    class_prior : {"estimate", "uniform"}
        Estimate the class balance by EM, or keep it uniform; ignored when
        ``fit`` gets ``class_balance``.
    confusion_strength : float or None
        Pseudo-rows (per row of data) pulling each shared confusion row toward
        the class prior. ``None`` fixes the confusion to the class prior (a
        wrong vote says nothing about which other class is true).
    abstain_evidence : bool
        Also count abstentions as evidence: an LF that fires on most rows of
        its class makes its silence a sign against that class. Helps when LFs
        have broad, class-specific coverage; hurts when their firing depends on
        other things, so :func:`models.fit_with_validation` chooses it on
        validation labels. Without them, prefer it only on two classes: with
        many, EM can give a class with one rare LF most of the prior, since
        that LF's silences then stop counting against it.
    temperature : float
        Scores are divided by it before the softmax (1 = the model's own
        probabilities; > 1 softer). Never changes the most probable class;
        :func:`models.fit_with_validation` fits it on validation labels.
    threshold : float or None
        Binary only: :meth:`predict` returns class 1 when its probability is at
        least this (``None`` = the most probable class). Set by
        :func:`models.fit_with_validation` for the F1 metric, whose best
        threshold is below 0.5 when the positive class is rare.
    n_iter : int
        Maximum EM iterations.
    tol : float
        Stop when no precision moves by more than this.
    review_strength : float
        How many votes the EM estimate of a precision counts for against the
        votes on reviewed rows (``y >= 0`` in :meth:`fit`). After EM each
        precision becomes ``(right votes on reviewed rows + review_strength *
        EM estimate) / (votes on reviewed rows + review_strength)``, so a
        hundred reviewed rows are enough to expose an LF that fires often but
        is rarely right, which EM alone (where the prior and the unreviewed rows
        outweigh them) would keep trusting. ``inf`` ignores the reviewed counts.
    family : {"auto", "precision", "confusion", "majority"}
        The model family, or ``"auto"`` to choose it with evidence (see above).
    detect_groups : bool
        Find groups of near-duplicate LFs from the votes (declared ``lf_groups`` are always used).
    valid_metric : str
        Metric of :data:`models.METRICS` the validated fit optimises (``"f1"`` also fits ``threshold``).
    tie_break : {"random", "abstain", "first"}
        Default tie rule of :meth:`predict`.

    Attributes
    ----------
    precision_ : ndarray, shape (n_lfs, cardinality)
        Estimated probability that a vote of LF j for class c is right.
    weights_ : ndarray, shape (n_lfs, cardinality)
        Log-odds evidence a lone vote adds to its class over the others.
    confusion_ : ndarray, shape (cardinality, cardinality) or None
        ``confusion_[c, y]``: probability that the true class is ``y`` when a
        vote for ``c`` is wrong (zero diagonal). ``None`` when not modelled.
    coverage_ : ndarray, shape (n_lfs, cardinality)
        Fraction of fitted rows where LF j voted class c.
    chooses_ : ndarray of bool, shape (n_lfs, cardinality)
        True on the row of each classifier LF: one that votes every class,
        each on at least 1% of its votes.
    class_prior_ : ndarray, shape (cardinality,)
        Estimated class balance (or the one given or taken from validation labels).
    uncovered_prior_ : ndarray, shape (cardinality,)
        Class probabilities :meth:`predict_proba` gives a row where every LF abstains: ``class_prior_``, or
        after a validated fit the class balance of the validation rows without a vote, smoothed toward
        ``class_prior_`` by one pseudo-row per class. Such rows differ from the voted ones (they hold the
        classes the LFs cover least), and the votes alone cannot say how.
    family_ : str
        The family fitted.
    family_scores_ : dict or None
        Without labels and ``family="auto"``: each family's held-out LF agreement.
    lf_groups_ : ndarray of int, shape (n_lfs,)
        Group id of each LF (declared and near-duplicate groups); LFs sharing an id count as one.
    confusion_fit_ : ConfusionFit or None
        Parameters of the confusion family when it is fitted.
    valid_table_ : DataFrame
        After a validated fit: every candidate in the order tried, its validation score, its paired lead
        over the candidate chosen before it (in standard errors) and whether it was ``chosen``.
    n_patterns_ : int
        Distinct (votes, known label) rows the model was fit on.
    n_iter_ : int
        EM iterations run.

    Notes
    -----
    Rows whose label is known (``y >= 0`` in :meth:`fit`) keep that label as
    their posterior through EM, and their votes then correct each precision
    directly (see ``review_strength``). Rows where every LF abstains get
    ``uncovered_prior_`` from :meth:`predict_proba`: they have no evidence of
    their own, and exports leave them out by default.

    The shared confusion and the abstention evidence need the full score table;
    beyond 32 million (distinct rows x classes) cells or 16 million
    (LFs x classes x classes) cells the fit falls back to the prior-proportional
    confusion and ignores abstentions (``confusion_`` is then ``None``).

    Examples
    --------
    >>> L = [[0, 0, -1], [1, 1, 1], [0, -1, 0], [-1, -1, -1]]
    >>> lm = LabelModel(cardinality=2).fit(L)
    >>> lm.predict(L).tolist()[:3]
    [0, 1, 0]
    """

    _parameter_constraints: dict = {
        **BaseLabelModel._parameter_constraints,
        "accuracy_prior": [Interval(Real, 0, 1, closed="neither")],
        "prior_strength": [Interval(Real, 0, None, closed="left")],
        "class_prior": [StrOptions({"estimate", "uniform"})],
        "confusion_strength": [Interval(Real, 0, None, closed="left"), None],
        "abstain_evidence": ["boolean"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "threshold": [Interval(Real, 0, 1, closed="both"), None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "review_strength": [Interval(Real, 0, None, closed="right")],  # inf: reviews are ignored
        "family": [StrOptions({"auto", *FAMILIES})],
        "detect_groups": ["boolean"],
        "valid_metric": [StrOptions(set(METRICS))],
    }

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        accuracy_prior: float = 0.7,
        prior_strength: float = 0.3,
        class_prior: str = "estimate",
        confusion_strength: float | None = 0.1,
        abstain_evidence: bool = False,
        temperature: float = 1.0,
        threshold: float | None = None,
        n_iter: int = 100,
        tol: float = 1e-4,
        review_strength: float = 20.0,
        family: str = "auto",
        detect_groups: bool = True,
        valid_metric: str = "accuracy",
        tie_break: str = "random",
    ) -> None:
        self.cardinality = cardinality
        self.accuracy_prior = accuracy_prior
        self.prior_strength = prior_strength
        self.class_prior = class_prior
        self.confusion_strength = confusion_strength
        self.abstain_evidence = abstain_evidence
        self.temperature = temperature
        self.threshold = threshold
        self.n_iter = n_iter
        self.tol = tol
        self.review_strength = review_strength
        self.family = family
        self.detect_groups = detect_groups
        self.valid_metric = valid_metric
        self.tie_break = tie_break

    #: ``votewise bench`` (:func:`models.fit_with_validation`) fixes the class
    #: prior to the validation class balance, picks among these settings by
    #: validation score, then fits ``temperature`` (and, for F1, ``threshold``).
    uses_class_balance = True
    selection_grid = {
        "accuracy_prior": [0.7, 0.6],
        "prior_strength": [0.01, 0.03, 0.1, 0.3, 1.0],
        "abstain_evidence": [False, True],
    }

    def _weights(self, precision: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """Log-odds a lone vote adds to its class over the rest (prior-proportional confusion)."""
        w = _logit(precision) - _logit(prior)
        # An LF is assumed better than chance (see _floor). Without this floor EM can
        # drive the LFs of one class below chance and collapse onto another class.
        return np.maximum(w, self._floor(np.log(np.clip(prior, _EPS, 1 - _EPS)), self.chooses_))

    @staticmethod
    def _floor(log_p: np.ndarray, chooses: np.ndarray) -> np.ndarray:
        """Least score, shape (n_lfs, k), a vote for each class needs over any other class.

        A keyword LF is better than chance when a lone vote makes its class the
        most probable one, whatever the class prior: it fires because it saw its
        class. A classifier LF (``chooses``) is better than chance when its vote
        raises its class's probability; on a rare class its lone vote may still
        leave that class less probable than the common one.
        """
        order = np.argsort(log_p)
        best_other = np.full(len(log_p), log_p[order[-1]])
        if len(log_p) > 1:
            best_other[order[-1]] = log_p[order[-2]]
        gap = np.maximum(best_other - log_p, 0.0)
        return np.where(chooses, 0.0, gap[None, :]) + _MIN_EVIDENCE

    @staticmethod
    def _choices(coverage: np.ndarray) -> np.ndarray:
        """``chooses[j, c]``: LF j is a classifier, voting every class (shape (n_lfs, k)).

        Such an LF fires whatever the class, so only its choice is evidence. An LF
        that votes some of the classes (a keyword for SPAM, or for three related
        topics of a hundred) is one whose firing is itself evidence for them.
        """
        share = coverage / np.maximum(coverage.sum(axis=1, keepdims=True), 1e-300)
        among = share >= _MIN_VOTE_SHARE
        return among & among.all(axis=1, keepdims=True) & (coverage.shape[1] >= 2)

    def _prior_mean(self, prior: np.ndarray) -> np.ndarray:
        """Prior mean of each precision, shape (n_lfs, k), under the current class prior.

        A keyword LF (one that votes some of the classes) is right on
        ``accuracy_prior`` of its votes, but never so few that a vote for a
        class holding most rows would barely move its probability (0.7 for a
        class of 65% lets one vote for the other class outweigh seven for it):
        at least the class prior plus ``_MIN_GAP_CLOSED``
        of the distance to 1, which never binds below a class prior of one half.
        A classifier LF (one that votes every class, ``chooses_``) is right on
        ``accuracy_prior`` of the rows of each class; its precision on a
        class then follows from Bayes' rule and the class prior: 0.7 on balanced
        classes, about 0.11 on a class of 5% (a classifier right on 70% of both
        classes mislabels far more common rows than there are rare ones).
        """
        alpha = float(self.accuracy_prior)
        keyword = np.maximum(alpha, prior + _MIN_GAP_CLOSED * (1.0 - prior))
        # A classifier votes every class: right on alpha of each class's rows, wrong ones spread over the
        # other k - 1 classes.
        hit, miss = alpha * prior, (1 - alpha) * (1 - prior) / max(len(prior) - 1, 1)
        classifier = hit / np.maximum(hit + miss, 1e-300)
        return np.where(self.chooses_, classifier[None, :], keyword[None, :])

    def _table(
        self, precision: np.ndarray, prior: np.ndarray, coverage: np.ndarray, confusion: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score table ``T[(j, v), y] = log P(y | LF j votes v) - log P(y)`` and per-class offset."""
        k, m = len(prior), precision.shape[0]
        p = np.clip(prior, _EPS, 1 - _EPS)
        log_p = np.log(p)
        a = np.clip(precision, _EPS, 1 - _EPS)
        if confusion is None:
            confusion = np.tile(p, (k, 1))
            np.fill_diagonal(confusion, 0.0)
            confusion /= confusion.sum(axis=1, keepdims=True)
        log_q = np.log(np.clip(confusion, 1e-12, None))
        # Wrong votes for v spread over the other classes as confusion[v] says.
        table = (np.log1p(-a)[:, :, None] + log_q[None, :, :] - log_p[None, None, :]).reshape(m * k, k)
        rows, vote_class = np.arange(m * k), np.tile(np.arange(k), m)
        table[rows, vote_class] = (np.log(a) - log_p[None, :]).ravel()
        others = table.copy()
        others[rows, vote_class] = -np.inf
        table[rows, vote_class] = np.maximum(
            table[rows, vote_class], others.max(axis=1) + self._floor(log_p, self.chooses_).ravel()
        )
        offset = np.zeros(k)
        if self.abstain_evidence:
            # P(LF j votes v | y): recall a*r/p on its own class, false-fire rate (1-a)*r/(1-p) on others.
            hit = np.clip(a * coverage / p[None, :], 0.0, 1.0)
            false_fire = np.clip((1 - a) * coverage / (1 - p)[None, :], 0.0, 1.0)
            fires = hit + false_fire.sum(axis=1, keepdims=True) - false_fire
            log_silent = np.log1p(-np.clip(fires, 0.0, 1 - 1e-3))  # (m, k): log P(LF j abstains | y)
            offset = log_silent.sum(axis=0)
            table -= np.repeat(log_silent, k, axis=0)  # a voting LF did not abstain
        return table, offset

    def _posterior(self, votes: Any, precision: np.ndarray, prior: np.ndarray, confusion: np.ndarray | None,
                   temperature: float = 1.0):
        log_prior = np.log(np.clip(prior, _EPS, None)) / temperature
        if isinstance(votes, _DenseVotes):
            table, offset = self._table(precision, prior, self.coverage_, confusion)
            return votes.posterior(log_prior, table / temperature, offset / temperature)
        return votes.posterior(log_prior, self._weights(precision, prior) / temperature)

    def fit_patterns(
        self, patterns: Any, counts: Any, y: Any = None, *, class_balance: Any = None, lf_groups: Any = None
    ) -> "LabelModel":
        """Fit from distinct vote patterns and the number of rows holding each.

        The same fit as :meth:`fit` on the matrix that repeats each pattern
        ``counts`` times, without building it: this is how votes gathered
        chunk by chunk (``labeling.apply_lfs_to_file``) or on a Dask cluster
        are fitted.

        Parameters
        ----------
        patterns : array-like of int, shape (n_patterns, n_lfs)
            Rows of votes (repeats are allowed).
        counts : array-like of int, shape (n_patterns,)
            How many rows have each pattern (0 is allowed).
        y : array-like of int, shape (n_patterns,), optional
            A known label per pattern (-1 = unknown).
        class_balance : array-like of float, optional
            Fixed class prior.

        Returns
        -------
        self

        Examples
        --------
        >>> lm = LabelModel().fit_patterns([[1, 1, -1], [0, -1, 0], [1, 0, 1]], [50, 40, 10])
        >>> lm.predict([[1, 1, -1]]).tolist()
        [1]
        """
        P, y_arr = self._check_fit_input(patterns, y)
        w = np.asarray(counts)
        if w.shape != (P.shape[0],) or w.dtype.kind not in "iuf" or not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(
                f"counts must hold one non-negative number per pattern ({P.shape[0]}); got shape {w.shape}, "
                f"dtype {w.dtype}."
            )
        if w.sum() <= 0:
            raise ValueError("counts sum to 0; at least one pattern must occur.")
        known = np.full(P.shape[0], -1, dtype=np.int64) if y_arr is None else y_arr.astype(np.int64)
        self._validate_params()
        declared = check_lf_groups(lf_groups, self.n_lfs_)
        self._fit_counts(P, known, w.astype(float), self._check_class_balance(class_balance), declared)
        return self

    def fit(
        self,
        L: Any,
        y: Any = None,
        *,
        class_balance: Any = None,
        L_valid: Any = None,
        y_valid: Any = None,
        lf_groups: Any = None,
    ) -> "LabelModel":
        """Fit on votes ``L``; with ``L_valid`` and ``y_valid``, the validated fit.

        Parameters
        ----------
        L : label matrix, shape (n_rows, n_lfs)
            Votes (-1 = abstain).
        y : array-like of int, optional
            Known labels of ``L``'s rows (-1 = unknown); they stay fixed through EM and anchor the
            precisions (the precision family is then used).
        class_balance : array-like of float, optional
            Fixed class prior instead of the estimate.
        L_valid, y_valid : optional
            Votes and gold labels of a labelled validation split. The class prior is then the validation
            class balance and a temperature is fit; a threshold (binary F1), the ``selection_grid`` settings
            chosen by validation ``valid_metric``, detected LF groups, another family or the label-free fit
            replaces the estimator's own settings only on a clear paired lead over the candidate chosen before
            it (see
            :func:`models.family_choice.clear_lead`).
            The chosen settings are set on the estimator (``get_params`` shows them); ``valid_table_``
            lists every candidate.
        lf_groups : sequence of hashable, optional
            One value per LF column (None = no group): LFs sharing a value are known to be correlated
            (several prompts to one LLM) and count as one source of evidence, together with the groups of
            near-duplicate LFs found from the votes (``lf_groups_``).

        Returns
        -------
        self
        """
        arr, y_arr = self._check_fit_input(L, y)
        self._validate_params()
        declared = check_lf_groups(lf_groups, self.n_lfs_)
        balance = self._check_class_balance(class_balance)
        if (L_valid is None) != (y_valid is None):
            raise ValueError("L_valid and y_valid go together: pass both (the votes and the gold labels of the "
                             "validation rows) or neither.")
        if L_valid is not None:
            self._fit_validated(arr, y_arr, balance, declared, L_valid, y_valid)
            return self
        P, known, counts = self._patterns(arr, y_arr)
        self._fit_counts(P, known, counts, balance, declared)
        return self

    def _patterns(self, L: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.n_lfs_
        if y is not None and (y >= 0).any():
            keyed = np.concatenate([L.astype(np.int16, copy=False), y.astype(np.int16)[:, None]], axis=1)
            vp = vote_patterns(keyed)
            return vp.patterns[:, :m], vp.patterns[:, m].astype(np.int64), vp.counts.astype(float)
        vp = vote_patterns(L, only_if_worth_it=True)
        return vp.patterns, np.full(len(vp), -1, dtype=np.int64), vp.counts.astype(float)

    def _fit(self, L: np.ndarray, y: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        self._validate_params()
        P, known, counts = self._patterns(L, y)
        self._fit_counts(P, known, counts, class_balance)

    @staticmethod
    def _sample(P: np.ndarray, known: np.ndarray, counts: np.ndarray):
        """At most ``_CHOICE_PATTERNS`` patterns (a seeded sample) with their counts."""
        if len(P) <= _CHOICE_PATTERNS:
            return P, known, counts, False
        keep = np.sort(np.random.default_rng(0).choice(len(P), _CHOICE_PATTERNS, replace=False))
        return P[keep], known[keep], counts[keep], True

    def _fit_counts(
        self,
        P: np.ndarray,
        known: np.ndarray,
        counts: np.ndarray,
        class_balance: np.ndarray | None,
        declared: list | None = None,
    ) -> None:
        """Find the LF groups, then fit the family asked for, or choose one by held-out agreement."""
        k = self.cardinality_
        Ps, ks, cs, sampled = self._sample(P, known, counts)
        self.lf_groups_ = find_lf_groups(Ps, cs, k, declared=declared, threshold=NEAR_DUPLICATE if self.detect_groups
                                         else np.inf)
        if class_balance is None and self.class_prior == "estimate" and not (known >= 0).any():
            self._warn_unidentified_prior(Ps, cs)
        family = self.family
        if family == "auto" and (known >= 0).any():
            family = "precision"  # reviewed rows anchor the precisions (see review_strength)
        if family != "auto":
            self._fit_family(family, P, known, counts, class_balance)
            self.family_scores_ = None
            return
        # The precision family is kept unless another one predicts held-out LFs' votes clearly better (a paired
        # test over the same hidden votes): without labels, a choice needs evidence too.
        fits, agreement, scores = {}, {}, {}
        for name in FAMILIES:
            candidate = self._candidate(name)
            candidate._fit_family(name, Ps, ks, cs, class_balance)
            fits[name] = candidate
            agreement[name], weight = held_out_agreement(candidate._predict_proba, Ps, cs, self.lf_groups_)
        best, best_z = FAMILIES[0], HELD_OUT_LEAD_Z
        for name in FAMILIES:
            total = weight.sum()
            scores[name] = float(weight @ agreement[name] / total) if total > 0 else float("nan")
            if name != FAMILIES[0]:
                z = paired_z(agreement[name] - agreement[FAMILIES[0]], weight)
                if z >= best_z:
                    best, best_z = name, z
        chosen = fits[best]
        if sampled and best == "precision":
            # The precision family is fit on every row (its EM is a few sparse products); the others keep the
            # parameters fit on the sample, a few hundred per LF at most, which a sample of thousands of rows
            # pins down, and whose EM on every row would cost many times the precision fit.
            chosen._fit_family(best, P, known, counts, class_balance)
        self._adopt(chosen)
        self.family_scores_ = scores

    def _warn_unidentified_prior(self, P: np.ndarray, counts: np.ndarray) -> None:
        """Warn when the votes cannot identify the class balance (see :meth:`fit`)."""
        k = self.cardinality_
        voted = np.array([(counts * (P == c).any(axis=1)).sum() for c in range(k)])
        silent = [c for c in range(k) if voted[c] == 0]
        # Votes of distinct groups in one row are what tells right LFs from wrong ones (agreements, conflicts).
        sources = np.zeros(len(P))
        for g in np.unique(self.lf_groups_):
            sources += (P[:, self.lf_groups_ == g] != ABSTAIN).any(axis=1)
        covered = counts[sources > 0].sum()
        overlap = counts[sources > 1].sum() / covered if covered else 0.0
        reason = None
        if silent:
            reason = f"no LF votes class {silent[0]}, so nothing tells how many rows it holds"
        elif overlap < _MIN_OVERLAP:
            reason = (f"only {100 * overlap:.1f}% of the rows with a vote have votes of two independent LFs (or "
                      "LF groups), so the LFs' accuracies, and with them the class balance, are guesses")
        if reason is not None:
            warnings.warn(
                f"The class balance cannot be identified from these votes: {reason}. Pass class_balance=... "
                "(e.g. from a few hundred labelled rows, models.class_balance_from_labels) or fit with "
                "L_valid/y_valid.",
                UserWarning,
                stacklevel=4,
            )

    def _candidate(self, family: str) -> "LabelModel":
        from sklearn.base import clone

        candidate = clone(self).set_params(family=family)
        candidate.cardinality_, candidate.n_lfs_ = self.cardinality_, self.n_lfs_
        candidate.lf_names_, candidate.lf_groups_ = self.lf_names_, self.lf_groups_
        return candidate

    def _adopt(self, other: "LabelModel") -> None:
        """Take over ``other``'s fitted attributes (its hyper-parameters stay its own)."""
        for key, value in vars(other).items():
            if key.endswith("_") and not key.startswith("_"):
                setattr(self, key, value)

    def _fit_family(
        self, family: str, P: np.ndarray, known: np.ndarray, counts: np.ndarray, class_balance: np.ndarray | None
    ) -> None:
        self._fit_family_params(family, P, known, counts, class_balance)
        if family != "precision":
            self.uncovered_prior_ = np.array(self.class_prior_, dtype=float)

    def _fit_family_params(
        self, family: str, P: np.ndarray, known: np.ndarray, counts: np.ndarray, class_balance: np.ndarray | None
    ) -> None:
        k = self.cardinality_
        self.family_ = family
        n = counts.sum()
        if family == "precision":
            self.confusion_fit_ = None
            self._fit_precision(P, known, counts, class_balance)
            return
        self.precision_ = self.weights_ = self.confusion_ = self.chooses_ = None
        self.n_patterns_ = len(P)
        voted = P != ABSTAIN
        self.coverage_ = np.stack([(counts[:, None] * (P == c)).sum(axis=0) for c in range(k)], axis=1) / n
        if family == "confusion":
            fit = fit_confusion(P, counts, k, self.lf_groups_, known=known, class_balance=class_balance)
            self.confusion_fit_ = fit
            self.class_prior_ = fit.prior
            self.n_iter_ = 0
            return
        # Majority vote counting each LF group once; its class prior is the mean vote share of covered rows.
        self.confusion_fit_ = None
        self.n_iter_ = 0
        if class_balance is not None:
            self.class_prior_ = np.asarray(class_balance, dtype=float)
        else:
            shares = self._majority_shares(P)
            covered = voted.any(axis=1)
            mass = counts[covered] @ shares[covered] if covered.any() else np.ones(k)
            self.class_prior_ = np.clip(mass / mass.sum(), _EPS, None) / np.clip(mass / mass.sum(), _EPS, None).sum()

    def _majority_shares(self, P: np.ndarray) -> np.ndarray:
        k = self.cardinality_
        w = group_vote_weights(P, self.lf_groups_)
        votes = np.stack([(w * (P == c)).sum(axis=1) for c in range(k)], axis=1)
        total = votes.sum(axis=1, keepdims=True)
        return np.where(total > 0, votes / np.where(total > 0, total, 1.0), 1.0 / k)

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        family = getattr(self, "family_", "precision")
        if family == "precision":
            return self._predict_precision(L)
        vp = vote_patterns(L, only_if_worth_it=True)
        t = float(self.temperature)
        if family == "confusion":
            probs = self.confusion_fit_.posterior(vp.patterns, temperature=t)
        else:
            shares = self._majority_shares(vp.patterns)
            probs = np.power(shares, 1.0 / t)
            probs /= probs.sum(axis=1, keepdims=True)
        probs[(vp.patterns == ABSTAIN).all(axis=1)] = self.uncovered_prior_
        return probs[vp.inverse]

    def _fit_validated(
        self, L: np.ndarray, y: np.ndarray | None, balance: np.ndarray | None, declared: list | None,
        L_valid: Any, y_valid: Any,
    ) -> None:
        """Settings and family chosen on validation labels; see :meth:`fit`."""
        import copy

        import pandas as pd
        from sklearn.base import clone

        from labeling.core.matrix import check_label_matrix

        from .selection import class_balance_from_labels, fit_temperature, fit_threshold, select_on_valid

        k, metric = self.cardinality_, self.valid_metric
        Lv = check_label_matrix(L_valid, cardinality=k, n_lfs=self.n_lfs_)
        yv = np.asarray(y_valid).ravel()
        if yv.shape != (Lv.shape[0],) or yv.dtype.kind not in "iu":
            raise ValueError(f"y_valid must hold one integer class per row of L_valid ({Lv.shape[0]}); "
                             f"got shape {yv.shape}, dtype {yv.dtype}.")
        if (yv >= k).any() or (yv < -1).any():
            i = int(np.flatnonzero((yv >= k) | (yv < -1))[0])
            raise ValueError(f"y_valid[{i}] is {yv[i]}; expected -1 or 0..{k - 1} for cardinality={k}.")
        vb = balance if balance is not None else class_balance_from_labels(yv, k)
        fit_params = {"lf_groups": declared}

        # Validation rows without a vote show which classes the LFs leave uncovered.
        silent = (Lv == ABSTAIN).all(axis=1) & (yv >= 0)
        silent_counts = np.bincount(yv[silent], minlength=k).astype(float)

        def finish(model: "LabelModel", threshold: bool = True) -> "LabelModel":
            model.uncovered_prior_ = smoothed_uncovered(silent_counts, model.class_prior_)
            fit_temperature(model, Lv, yv)
            if threshold and metric == "f1" and k == 2:
                fit_threshold(model, Lv, yv)
            return model

        from .metrics import score_predictions

        # The incumbent is the precision family with this estimator's own settings and only the declared groups;
        # every other setting (the selection grid, a threshold), family or detected near-duplicate group replaces
        # it only on a clear paired lead: a validation set of a few hundred rows prefers one of several near-equal
        # candidates by chance.
        base = clone(self).set_params(family="precision", valid_metric=metric, detect_groups=False)
        incumbent = finish(clone(base).fit(L, y, class_balance=vb, lf_groups=declared), threshold=False)
        inc_pred = incumbent.predict(Lv)
        rows, best, best_pred, best_row = [], incumbent, inc_pred, 0
        rows.append({"candidate": "precision (own settings)", "valid_score": score_predictions(yv, inc_pred, metric),
                     "lead_z": 0.0})

        def challenge(name: str, challenger: "LabelModel") -> None:
            # Candidates come in order of departure from the estimator as given; each must clearly beat the one
            # chosen so far, so that every departure is backed by evidence of its own.
            nonlocal best, best_pred, best_row
            pred = challenger.predict(Lv)
            z = clear_lead(yv, best_pred, pred, metric)
            rows.append({"candidate": name, "valid_score": score_predictions(yv, pred, metric), "lead_z": z})
            if z >= CLEAR_LEAD_Z:
                best, best_pred, best_row = challenger, pred, len(rows) - 1

        if metric == "f1" and k == 2 and self.threshold is None:
            challenge("precision (own settings), threshold", finish(copy.deepcopy(incumbent)))
        tuned, _ = select_on_valid(base, L, Lv, yv, metric=metric, y=y, class_balance=vb, fit_params=fit_params)
        challenge("precision (validated settings)", finish(tuned))
        if self.detect_groups:
            grouped, _ = select_on_valid(base.set_params(detect_groups=True), L, Lv, yv, metric=metric, y=y,
                                         class_balance=vb, fit_params=fit_params)
            challenge("precision, detected LF groups", finish(grouped))
        if y is None or not (y >= 0).any():  # reviewed rows anchor the precision family
            others = [
                (name, clone(self).set_params(family=family, valid_metric=metric, temperature=1.0, threshold=None),
                 cb, True)
                for name, family, cb in (("confusion, validation class balance", "confusion", vb),
                                         ("confusion, estimated class prior", "confusion", None),
                                         ("majority, validation class balance", "majority", vb))
            ]
            # Last, the estimator as fit without validation labels (its own family choice, detected groups and
            # estimated class prior): where the validation balance or split misleads, the votes alone can win.
            others.append(("as fit without validation labels", clone(self).set_params(valid_metric=metric),
                           balance, False))
            for name, challenger, cb, threshold in others:
                with warnings.catch_warnings():
                    # The labels in hand settle the class balance; a candidate estimating its own need not warn.
                    warnings.simplefilter("ignore", UserWarning)
                    challenger.fit(L, y, class_balance=cb, lf_groups=declared)
                challenge(name, finish(challenger, threshold=threshold))
        self._adopt(best)
        params = {key: value for key, value in best.get_params().items() if key not in ("family", "detect_groups")}
        self.set_params(**params)
        table = pd.DataFrame(rows)
        table["chosen"] = table.index == best_row
        self.valid_table_ = table

    def _fit_precision(
        self, P: np.ndarray, known: np.ndarray, counts: np.ndarray, class_balance: np.ndarray | None
    ) -> None:
        k, m = self.cardinality_, self.n_lfs_
        n = counts.sum()
        votes = _votes(P, k, known, m, self.lf_groups_)
        dense = isinstance(votes, _DenseVotes)
        n_votes = votes.n_votes(counts)
        self.coverage_ = n_votes / n
        self.chooses_ = self._choices(self.coverage_)
        # Pseudo-votes per (LF, class): the geometric mean of the rows and that LF's own votes for the class.
        # Scaled by rows alone, the prior would swamp LFs that vote a class rarely (300 LFs firing on 1% of
        # rows would all sit at accuracy_prior); scaled by the LF's votes alone, it would not hold sparse LFs
        # back more than dense ones. Both scalings keep the fit invariant to duplicating the data.
        pseudo = self.prior_strength * np.sqrt(n * n_votes)
        if class_balance is not None:
            prior = np.asarray(class_balance, dtype=float)
        else:
            prior = np.full(k, 1.0 / k)
        fixed_prior = class_balance is not None or self.class_prior == "uniform"
        learn_confusion = dense and self.confusion_strength is not None and k > 2
        confusion = None
        rows, vote_class = np.arange(m * k), np.tile(np.arange(k), m)
        # Equal precisions under a uniform prior make the first E-step a soft majority vote.
        precision = np.full((m, k), float(self.accuracy_prior))
        for it in range(1, int(self.n_iter) + 1):
            post = self._posterior(votes, precision, prior, confusion)
            if dense:
                joint = votes.joint(post, counts)
                right, class_mass = joint[rows, vote_class].reshape(m, k), post.T @ counts
            else:
                right, class_mass = votes.expected(post, counts)
            if not fixed_prior:
                prior = np.clip(class_mass / class_mass.sum(), _EPS, None)
                prior /= prior.sum()
            mean = self._prior_mean(prior)
            new_precision = (right + pseudo * mean) / (n_votes + pseudo + 1e-12)
            new_precision = np.where(n_votes + pseudo > 0, new_precision, mean)
            # P(y=c | vote c) * P(vote c) <= P(y=c): no LF is right on more rows of c than c has.
            cap = prior[None, :] / np.maximum(self.coverage_, 1e-12)
            new_precision = np.minimum(new_precision, np.clip(cap, 0.0, 1.0) * (1 - 1e-3))
            if learn_confusion:
                # Expected (voted class, true class) counts over all LFs, smoothed toward the prior.
                mix = joint.reshape(m, k, k).sum(axis=0) + self.confusion_strength * n * prior[None, :]
                np.fill_diagonal(mix, 0.0)
                confusion = mix / np.maximum(mix.sum(axis=1, keepdims=True), 1e-300)
            shift = float(np.max(np.abs(new_precision - precision)))
            precision = new_precision
            if shift < self.tol:
                break
        if (known >= 0).any() and np.isfinite(self.review_strength):
            precision = self._review_precision(votes, post, known, counts, precision)
        self.precision_ = precision
        # The prior among rows with a vote (what EM estimates, and what scores them); the class prior over all
        # rows and that of the rows without a vote differ from it when the LFs cover some classes better.
        self.vote_prior_ = prior
        self.class_prior_ = self.uncovered_prior_ = prior
        if dense and not fixed_prior:
            self.class_prior_, self.uncovered_prior_ = self._silent_rows(P, known, counts, post)
        self.confusion_ = confusion
        self.weights_ = self._weights(precision, prior)
        self.n_iter_ = it
        self.n_patterns_ = len(P)
        # Whether the table features were used, so predict_proba scores the same way.
        self.dense_ = dense

    def _silent_rows(
        self, P: np.ndarray, known: np.ndarray, counts: np.ndarray, post: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Class prior over all rows and class probabilities of rows without a vote (see :mod:`.uncovered`).

        The votes give the estimate (:func:`poisson_uncovered`); reviewed rows without a vote then move it as far
        as their number warrants (:func:`smoothed_uncovered`). Which silent rows get reviewed cannot depend on
        their votes (they have none), so they are a fair sample of the silent rows wherever the review strategy
        looks only at votes.
        """
        sources = sources_per_row(P, self.lf_groups_, ABSTAIN)
        labelled = (sources == 0) & (known >= 0)
        prior, uncovered = poisson_uncovered(post[~labelled], counts[~labelled], sources[~labelled])
        if not labelled.any():
            return prior, uncovered
        k = self.cardinality_
        seen = np.bincount(known[labelled], weights=counts[labelled], minlength=k)
        uncovered = smoothed_uncovered(seen, uncovered)
        voted = sources > 0
        mass = (post[voted] * counts[voted, None]).sum(axis=0)
        unseen = float(counts[(sources == 0) & ~labelled].sum())
        prior = mass + seen + unseen * uncovered
        return prior / prior.sum(), uncovered

    def _review_precision(
        self, votes: Any, post: Any, known: np.ndarray, counts: np.ndarray, precision: np.ndarray
    ) -> np.ndarray:
        """Pull each precision toward the hit rate of its votes on the reviewed rows."""
        reviewed = np.where(known >= 0, counts, 0.0)
        # With only reviewed rows weighted, the E-step's counts are the exact votes and right votes on them.
        right, _ = votes.expected(post, reviewed)
        s = float(self.review_strength)
        return (right + s * precision) / (votes.n_votes(reviewed) + s)

    def _predict_precision(self, L: np.ndarray) -> np.ndarray:
        vp = vote_patterns(L, only_if_worth_it=True)
        k = self.cardinality_
        temperature = float(self.temperature)
        if not self.dense_:
            votes = _CellVotes(vp.patterns, k, np.full(len(vp), -1, dtype=np.int64), self.lf_groups_)
            post = self._posterior(votes, self.precision_, self.vote_prior_, None, temperature)
            probs = votes.full(post, np.exp(np.log(np.clip(self.vote_prior_, _EPS, None)) / temperature))
        else:
            # Score the patterns in blocks so that the dense posterior stays bounded, as in the fit.
            probs = np.empty((len(vp), k))
            step = max(1, _DENSE_CELLS // k)
            for lo in range(0, len(vp), step):
                block = vp.patterns[lo:lo + step]
                votes = _DenseVotes(block, k, np.full(len(block), -1, dtype=np.int64), self.lf_groups_)
                probs[lo:lo + step] = self._posterior(
                    votes, self.precision_, self.vote_prior_, self.confusion_, temperature
                )
        # A row without a vote has no evidence of its own and gets exactly uncovered_prior_: the temperature
        # rescales evidence, and abstentions only count as evidence beside a vote.
        probs[(vp.patterns == ABSTAIN).all(axis=1)] = self.uncovered_prior_
        return probs[vp.inverse]

    def predict(self, L: Any, *, tie_break: str | None = None) -> np.ndarray:
        """Most probable class per row, or for two classes ``P(1) >= threshold`` when ``threshold`` is set."""
        if self.threshold is None:
            return super().predict(L, tie_break=tie_break)
        probs = self.predict_proba(L)
        if probs.shape[1] != 2:
            raise ValueError(f"threshold={self.threshold!r} needs two classes; this model has {probs.shape[1]}.")
        return (probs[:, 1] >= self.threshold).astype(np.int64)
