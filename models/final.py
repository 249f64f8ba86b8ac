"""The classifier a review loop hands over: end model x label model x reviewed-rows model."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from labeling.core.matrix import ABSTAIN, covered_rows
from models.base import NotFittedError
from models.end_model import EndModel, class_probabilities, stack_features

__all__ = [
    "FinalClassifier", "combine", "other_experts", "fit_review_model", "review_probabilities", "choose_expert_weights",
    "min_representative", "end_model_agreement", "preferred_label_model_weight",
]

#: Label-model exponents ``label_model_weight="auto"`` chooses among.
LABEL_MODEL_WEIGHTS = (1.0, 0.5, 0.0)
#: Cross-fitted agreement of the end model with the labels it learns from at and above which the label
#: model's factor counts the LFs' evidence twice (:func:`preferred_label_model_weight`).
REDUNDANT_AGREEMENT = 0.9
#: Rows and folds of the cross-fit that measures that agreement (:func:`end_model_agreement`).
AGREEMENT_ROWS, AGREEMENT_FOLDS = 3000, 3
#: Least held-out representative reviews for ``"auto"`` to choose; below it the preferred exponent stands ...
MIN_REPRESENTATIVE = 10
#: ... and at least this many per class (:func:`min_representative`).
MIN_REPRESENTATIVE_PER_CLASS = 2


def min_representative(cardinality: int) -> int:
    """Representative reviews ``label_model_weight="auto"`` needs before it chooses: two per class, at least 10.

    Below it the preferred exponent stands (:func:`preferred_label_model_weight`).
    Ten reviews of nine classes leave most classes with one review or none,
    too few to tell the exponents apart (``docs/active_learning.md`` has the
    measurements).
    """
    return max(MIN_REPRESENTATIVE, MIN_REPRESENTATIVE_PER_CLASS * int(cardinality))


def end_model_agreement(
    end_model: EndModel, X: Any, probs: np.ndarray, rows: np.ndarray, *, random_state: int = 0
) -> float:
    """How often the end model, cross-fitted, predicts the most probable class of the labels it learns from.

    Up to :data:`AGREEMENT_ROWS` of ``rows`` are split in :data:`AGREEMENT_FOLDS`
    folds; each fold is predicted by an end model trained on the others. No
    review is needed: this measures whether the text model can reproduce the
    label model, not whether either is right.

    Parameters
    ----------
    end_model : models.EndModel
        The end model's configuration.
    X : matrix of shape (n, d)
        Stacked features of every training row.
    probs : ndarray of shape (n, k)
        The end model's training labels.
    rows : ndarray of bool, shape (n,)
        Rows to measure on (the covered ones).
    random_state : int
        Seed of the sample and the folds.

    Returns
    -------
    float
        Share of held-out rows whose predicted class is the labels' most
        probable one; 1.0 when there are too few rows to cross-fit.
    """
    k = probs.shape[1]
    idx = np.flatnonzero(rows)
    rng = np.random.default_rng(random_state)
    if idx.size > AGREEMENT_ROWS:
        idx = np.sort(rng.choice(idx, AGREEMENT_ROWS, replace=False))
    target = probs[idx].argmax(axis=1)
    if idx.size < 2 * AGREEMENT_FOLDS or np.unique(target).size < 2:
        return 1.0
    folds = rng.permutation(idx.size) % AGREEMENT_FOLDS
    none = np.zeros(probs.shape[0], dtype=bool)
    hits = 0
    for f in range(AGREEMENT_FOLDS):
        train = none.copy()
        train[idx[folds != f]] = True
        if np.unique(target[folds != f]).size < 2:
            return 1.0
        clf = end_model.train_classifier(X, probs, keep=train, human=none)
        hits += int(np.sum(class_probabilities(clf, X[idx[folds == f]], k).argmax(axis=1) == target[folds == f]))
    return hits / idx.size


def preferred_label_model_weight(agreement: float) -> float:
    """The label model's exponent when no review tells otherwise: 0 when the end model reproduces it, else 1.

    An end model that predicts the label model's class on at least
    :data:`REDUNDANT_AGREEMENT` of held-out rows has learnt what the LFs say,
    and multiplying the label model in counts that evidence twice. Below it
    the label model knows what the text model cannot learn, so it stays in the
    product (``docs/active_learning.md`` gives the agreement measured on each
    benchmark dataset).
    """
    return 0.0 if agreement >= REDUNDANT_AGREEMENT else 1.0


def _clearly_better(right_a: np.ndarray, right_b: np.ndarray) -> bool:
    """Whether ``a`` beats ``b`` on the same rows by more than one standard error of the paired difference.

    With ``w`` rows only ``a`` gets right and ``l`` only ``b`` does, the
    difference ``w - l`` has standard error ``sqrt(w + l)`` when the two are
    equally good (McNemar); a lead of one row out of 40 is never enough.
    """
    w = int(np.sum(right_a & ~right_b))
    l = int(np.sum(right_b & ~right_a))
    return w - l > np.sqrt(w + l)


def combine(
    end_probs: np.ndarray,
    lm_probs: np.ndarray,
    L_test: np.ndarray,
    review_probs: np.ndarray | None = None,
    *,
    label_model_weight: float = 1.0,
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
        :func:`review_probabilities`.
    label_model_weight : float
        Exponent of the label model's factor: 1 multiplies it in, 0 leaves it out
        (the end model already learnt from its labels), values between temper it.

    Returns
    -------
    ndarray of shape (n, k)
        Normalised probabilities.
    """
    covered = covered_rows(L_test)
    lm = np.clip(lm_probs, 1e-6, 1.0) ** float(label_model_weight)
    prod = np.clip(end_probs, 1e-6, 1.0) * np.where(covered[:, None], lm, 1.0)
    if review_probs is not None:
        prod = prod * np.clip(review_probs, 1e-6, 1.0)
    return prod / prod.sum(axis=1, keepdims=True)


def other_experts(
    end_clf: Any, X: Any, k: int, lm_probs: Any = None, L: Any = None, *, label_model_weight: float = 1.0
) -> np.ndarray:
    """End model x label model on the training rows: what the reviewed-rows expert is weighed against.

    Parameters
    ----------
    end_clf : fitted classifier
        The end model (:meth:`models.EndModel.train_classifier`).
    X : sparse matrix
        The training rows' stacked features.
    k : int
        Number of classes.
    lm_probs, L : array-like, optional
        The label model's probabilities of the training rows and their votes; without them the
        end model stands alone.
    label_model_weight : float
        As in :func:`combine`.
    """
    end = class_probabilities(end_clf, X, k)
    if lm_probs is None or L is None:
        return end
    return combine(end, np.asarray(lm_probs, dtype=float), np.asarray(L), label_model_weight=label_model_weight)



def _fit_on_rows(X: Any, y: np.ndarray, rows: np.ndarray, C: float) -> Any:
    """An L2 logistic regression of ``y[rows]`` on ``X[rows]``, optimised over the feature columns those rows use.

    A few hundred reviewed rows touch a small part of a TF-IDF vocabulary. Under an L2 penalty the weight
    of a column that is zero on every training row has gradient zero from the start, so it stays exactly 0:
    leaving those columns out of the optimisation gives the same model, and on sparse text features it is
    several times faster. The returned pipeline takes the full feature matrix.
    """
    from scipy import sparse
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X_rows, y_rows = X[rows], y[rows]
    lr = LogisticRegression(C=C, max_iter=2000)
    if not sparse.issparse(X_rows):
        return lr.fit(X_rows, y_rows)
    used = np.unique(sparse.csr_matrix(X_rows).indices)
    select = ColumnTransformer([("used", "passthrough", used)], sparse_threshold=1.0)
    return make_pipeline(select, lr).fit(X_rows, y_rows)


def fit_review_model(
    X: Any, y: Any, base: np.ndarray | None = None, *, C: float = 10.0, prior: float = 25.0, random_state: int = 0
) -> tuple[Any, float]:
    """A model of the reviewed rows alone (``y != -1``) and its weight in the product of experts.

    The label model and the end model trained on its labels share the LFs'
    systematic mistakes; this model sees only human labels, so it can
    overrule them where the reviews show they are wrong. Its probabilities
    are mixed with the uniform distribution: ``weight * p + (1 - weight) / k``
    (:func:`review_probabilities`).

    Parameters
    ----------
    X : matrix of shape (n_rows, n_features)
        Features of every training row (the end model's
        :meth:`~models.EndModel.embedding_columns` when it has an encoder:
        on 100 reviews, meaning generalises where TF-IDF mostly memorises words).
    y : array-like of shape (n_rows,)
        Human labels, -1 where a row was not reviewed.
    base : ndarray of shape (n_rows, k), optional
        The other experts' product on every row (:func:`other_experts`).
    C : float
        Inverse L2 penalty of the logistic regression.
    prior : float
        How many reviews the model needs before it counts as much as the other
        experts: the weight is at most ``n / (n + prior)`` for ``n`` reviews, so a
        handful of labels, picked where the LFs disagree and missing whole
        classes, cannot veto a class on their own; with ``base``, held-out
        reviews that clearly support full weight (1) lift that cap.
    random_state : int
        Seed of the fold assignment.

    Returns
    -------
    model, weight : fitted LogisticRegression or None, float
        ``None`` (a uniform expert) when fewer than two classes were reviewed.
        Without ``base`` the weight is the cap ``n / (n + prior)``. With it,
        each reviewed row is predicted by a model fit on the other folds
        (5-fold), and the weight in {0, 1/4, 1/2, 3/4, 1} x cap whose product
        with ``base`` classifies most reviewed rows right (then: the highest
        mean log-likelihood of their labels) is kept if it classifies them
        clearly better than weight 0 does, else the weight is 0. A model of 100
        rows of nine classes can be confidently wrong on most others; held-out
        reviews show that, and a model that does not clearly help stays out.
    """
    y = np.asarray(y)
    reviewed = np.flatnonzero(y != ABSTAIN)
    if np.unique(y[reviewed]).size < 2:
        return None, 0.0
    clf = _fit_on_rows(X, y, reviewed, C)
    cap = reviewed.size / (reviewed.size + prior)
    if base is None or reviewed.size < 10:
        return clf, cap
    base = np.asarray(base, dtype=float)
    held = _held_out_reviews(X, y, reviewed, base.shape[1], C, random_state)
    return clf, _best_review_weight(np.clip(base[reviewed], 1e-6, None), held, y[reviewed], cap)


#: Shares of the cap ``n / (n + prior)`` tried as the reviewed-rows model's weight; full weight (1) is tried
#: too, so that held-out reviews can lift the cap where they clearly show the model right.
_REVIEW_WEIGHT_SHARES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])


def _review_weight_scores(base: np.ndarray, held: np.ndarray, truth: np.ndarray, cap: float):
    """For each weight in ``cap x`` :data:`_REVIEW_WEIGHT_SHARES` and 1, smallest first: the weight, which of
    ``truth`` the product ``base x review`` classifies right (bool array), and the mean log-likelihood it
    gives them."""
    k = base.shape[1]
    for weight in np.append(cap * _REVIEW_WEIGHT_SHARES, 1.0):
        # Clipped as in combine(): at full weight a class the model never saw would otherwise be ruled out.
        prod = base * np.clip(weight * held + (1.0 - weight) / k, 1e-6, None)
        prod /= prod.sum(axis=1, keepdims=True)
        right = prod.argmax(axis=1) == truth
        yield float(weight), right, float(np.mean(np.log(prod[np.arange(truth.size), truth])))


def _best_review_weight(base: np.ndarray, held: np.ndarray, truth: np.ndarray, cap: float) -> float:
    """The weight whose product ``base x review`` classifies most of ``truth`` right (then: the highest mean
    log-likelihood; ties: the smaller), when it is clearly better than weight 0 (:func:`_clearly_better`); else 0.

    These reviews were mostly not picked at random: they are the rows the
    other experts find hard, and the reviewed-rows model is trained on their
    like, so on them it looks better than on the rows it will classify.
    Asking for a clear lead, rather than the best likelihood, keeps that
    flattery from adding a model that does not help.
    """
    scores = list(_review_weight_scores(base, held, truth, cap))
    return _clear_lead(scores, scores[0])[0]


def _clear_lead(candidates: Sequence[tuple], none: tuple) -> tuple:
    """Of ``(weight, right, log-likelihood, ...)`` candidates, the one that classifies most rows right (then: the
    highest log-likelihood; ties: the first) if it is clearly better than ``none`` (:func:`_clearly_better`);
    else ``none``, the candidate without the reviewed-rows model."""
    best = max(candidates, key=lambda c: (int(c[1].sum()), c[2]))
    return best if _clearly_better(best[1], none[1]) else none


def _held_out_reviews(X: Any, y: np.ndarray, rows: np.ndarray, k: int, C: float, random_state: int) -> np.ndarray:
    """Reviewed-rows model probabilities of ``rows``, each from a model fit without its fold of ``rows`` (5 folds)."""
    reviewed = np.flatnonzero(y != ABSTAIN)
    held = np.full((rows.size, k), 1.0 / k)
    folds = np.random.default_rng(random_state).permutation(rows.size) % 5
    for f in range(5):
        fit_rows = np.setdiff1d(reviewed, rows[folds == f])
        if np.unique(y[fit_rows]).size < 2:
            continue
        clf = _fit_on_rows(X, y, fit_rows, C)
        held[folds == f] = class_probabilities(clf, X[rows[folds == f]], k)
    return held


def choose_expert_weights(
    end_model: EndModel, X: Any, probs: np.ndarray, y: np.ndarray, keep: np.ndarray, lm_probs: np.ndarray,
    L: np.ndarray, held_out: np.ndarray, *, review_Cs: Sequence[float] = (10.0, 100.0), prior: float = 25.0,
    preferred: float = 1.0, random_state: int = 0,
) -> tuple[float, float, float]:
    """The label model's exponent, the reviewed-rows model's ``C`` and its weight, judged on held-out reviews.

    The end model learns from the label model's labels, so multiplying the two
    counts the LFs' evidence twice: right where the end model reads the text
    poorly, wrong where it repeats the label model's mistakes.
    Which holds is a property of the data, so it is measured: an end model is
    fit without the ``held_out`` rows, the reviewed-rows model is cross-fitted
    on them, and for each exponent the (``C``, weight) whose product
    classifies most of them right (then: the highest mean log-likelihood of
    their labels) is kept. The ``preferred`` exponent
    (:func:`preferred_label_model_weight`) stands unless another one classifies
    the held-out reviews clearly better (:func:`_clearly_better`): on a few dozen
    reviews most exponents tie or differ by a row, and a one-row lead is noise.
    Likewise, for each exponent the reviewed-rows model joins only if it
    classifies the held-out reviews clearly better than that exponent's product
    without it; its weight may then reach 1, beyond the ``n / (n + prior)`` cap.
    Accuracy decides rather than the likelihood alone, so that a few
    confident mistakes of the label model cannot drop it where it wins most
    rows. The rows must have been picked without looking at the model
    (random, typical or audit rows): reviews picked where the LFs disagree
    would judge the experts on the rows where the label model is weakest.

    Parameters
    ----------
    end_model : models.EndModel
        The end model's configuration.
    X : matrix of shape (n, d)
        Stacked features of every training row.
    probs : ndarray of shape (n, k)
        Training labels of the end model (one-hot on reviewed rows).
    y : ndarray of shape (n,)
        Human labels, -1 where not reviewed.
    keep : ndarray of bool, shape (n,)
        Rows the end model trains on.
    lm_probs, L : ndarray
        The label model's probabilities of the training rows and their votes.
    held_out : ndarray of bool, shape (n,)
        Reviewed rows to judge on.
    review_Cs : sequence of float
        Inverse L2 penalties tried for the reviewed-rows model.
    prior : float
        As in :func:`fit_review_model`: the weight is at most ``n / (n + prior)``, or 1 where the held-out
        reviews clearly support it.
    preferred : float
        One of :data:`LABEL_MODEL_WEIGHTS`: the exponent kept unless the
        reviews clearly favour another.
    random_state : int
        Seed of the folds.

    Returns
    -------
    label_model_weight, C, weight : float
    """
    if preferred not in LABEL_MODEL_WEIGHTS:
        raise ValueError(f"preferred={preferred!r}; expected one of {LABEL_MODEL_WEIGHTS}.")
    k = probs.shape[1]
    rows = np.flatnonzero(held_out & (y != ABSTAIN))
    reviewed = y != ABSTAIN
    train = np.asarray(keep, dtype=bool).copy()
    train[rows] = False
    end = class_probabilities(end_model.train_classifier(X, probs, keep=train, human=reviewed & train), X[rows], k)
    Xr = end_model.embedding_columns(X)
    cap = reviewed.sum() / (reviewed.sum() + prior)
    truth = y[rows]
    # Per exponent, every (weight, which rows it gets right, log-likelihood, C); the first is weight 0, the
    # product without the reviewed-rows model (the same for every C).
    candidates: dict[float, list[tuple]] = {w: [] for w in LABEL_MODEL_WEIGHTS}
    for C in review_Cs:
        held = _held_out_reviews(Xr, y, rows, k, float(C), random_state)
        for lm_weight in LABEL_MODEL_WEIGHTS:
            base = combine(end, lm_probs[rows], L[rows], label_model_weight=lm_weight)
            candidates[lm_weight] += [(*score, float(C)) for score in _review_weight_scores(base, held, truth, cap)]
    best = {w: _clear_lead(c, c[0]) for w, c in candidates.items()}
    # The challenger: most rows right, ties to the exponent nearest the preferred one, then the likelihood.
    challenger = max(best, key=lambda w: (int(best[w][1].sum()), -abs(w - preferred), best[w][2]))
    chosen = challenger if _clearly_better(best[challenger][1], best[preferred][1]) else preferred
    weight, _, _, C = best[chosen]
    return chosen, C, weight


def review_probabilities(clf: Any, weight: float, X: Any, k: int) -> np.ndarray:
    """The reviewed-rows model's class probabilities mixed with uniform in the ratio ``weight : 1 - weight``."""
    uniform = np.full((X.shape[0], k), 1.0 / k)
    return uniform if clf is None else weight * class_probabilities(clf, X, k) + (1.0 - weight) * uniform


class FinalClassifier(ClassifierMixin, BaseEstimator):
    """Classify new texts with everything a review loop learnt.

    Three experts are multiplied (:func:`models.combine`):

    - an end model (TF-IDF + linear model) trained on the loop's labels:
      label-model labels on covered rows, human labels on reviewed rows;
    - the label model itself, on rows where an LF fired, when the votes of
      the new rows are given;
    - a model of the reviewed rows alone (:func:`fit_review_model`), shrunk
      toward uniform until held-out reviews show it can be trusted.

    This is the classifier measured as ``combined_acc`` by
    :func:`labeling.app.simulate`.

    Parameters
    ----------
    label_model : fitted label model, optional
        Scores the votes of new rows (``predict_proba(L)``); ``None`` skips it.
    end_model : models.EndModel, optional
        The end model; default :meth:`models.EndModel.for_review_loop`. With an
        ``encoder`` the reviewed-rows model reads its embeddings.
    review_C : float
        Inverse L2 penalty of the reviewed-rows model (> 0).
    review_prior : float
        Reviews the reviewed-rows model needs before it can count as much as
        the other experts (``prior`` of :func:`fit_review_model`, >= 0), unless
        held-out reviews clearly support full weight.
    label_model_weight : float >= 0 or "auto"
        Exponent of the label model in the product (:func:`combine`). The end
        model is trained on the label model's labels, so the product counts the
        LFs' evidence twice; 0 leaves the label model out, which helps where
        the end model reads the text well and hurts where it does not
        (``docs/active_learning.md``).
        ``"auto"`` (default): with enough reviews of rows picked without
        looking at the model (``representative`` in :meth:`fit`; two per class,
        at least 10: :func:`min_representative`), the exponent
        (1, 1/2 or 0), the reviewed-rows model's ``C`` (``review_C`` or ten times
        it) and its weight are chosen together on them
        (:func:`choose_expert_weights`), keeping the preferred exponent unless
        they clearly favour another; otherwise the preferred exponent is used.
        It is 0 when the end model, cross-fitted, reproduces the label model's
        class on at least 90% of covered rows (it already holds the LFs'
        evidence), else 1 (:func:`end_model_agreement`,
        :func:`preferred_label_model_weight`).
    random_state : int or None
        Seed of the reviewed-rows model's folds (an int >= 0; None draws fresh ones).

    Attributes
    ----------
    end_model_ : models.EndModel
        The end model the classifier was fit with (``end_model`` or the default).
    end_ : fitted classifier
        The end model's classifier.
    review_, review_weight_ : fitted classifier or None, float
        The reviewed-rows model and its weight.
    label_model_weight_, review_C_ : float
        The label model's exponent and the reviewed-rows model's ``C`` in use.
    end_model_agreement_ : float or None
        :func:`end_model_agreement` on the covered rows, measured with
        ``label_model_weight="auto"`` when the votes are given.
    n_uncovered_dropped_ : int
        Set by :meth:`fit`: rows left out of the end model's training because
        no LF voted on them and nobody reviewed them (0 without ``L`` or with
        ``drop_uncovered=False``).

    Examples
    --------
    >>> clf = loop.final_classifier()                       # doctest: +SKIP
    >>> clf.predict(["check out my channel"], L=L_new)     # doctest: +SKIP
    """

    #: Hyper-parameter constraints in scikit-learn's form, checked by ``_validate_params`` when ``fit`` and
    #: ``fit_features`` start, so a bad value is refused before any text is vectorised.
    _parameter_constraints: dict = {
        "label_model": [HasMethods(["predict_proba"]), None],
        "end_model": [HasMethods(["make_vectorizers", "train_classifier", "embedding_columns"]), None],
        "review_C": [Interval(Real, 0, None, closed="neither")],
        "review_prior": [Interval(Real, 0, None, closed="left")],
        "label_model_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        label_model: Any = None,
        *,
        end_model: EndModel | None = None,
        review_C: float = 10.0,
        review_prior: float = 25.0,
        label_model_weight: float | str = "auto",
        random_state: int = 0,
    ) -> None:
        self.label_model = label_model
        self.end_model = end_model
        self.review_C = review_C
        self.review_prior = review_prior
        self.label_model_weight = label_model_weight
        self.random_state = random_state

    def _end_model(self) -> EndModel:
        """The end model in use: ``end_model`` or the review-loop default."""
        return self.end_model if self.end_model is not None else EndModel.for_review_loop()

    def make_vectorizers(self) -> list[Any]:
        """Fresh feature blocks of the end model; :meth:`fit_features` expects their stacked outputs."""
        return self._end_model().make_vectorizers()

    def fit(
        self, texts: Sequence[str], probs: Any, y: Any, L: Any = None, *, drop_uncovered: bool = True,
        representative: Any = None,
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
        representative : array-like of bool, shape (n,), optional
            Rows picked without looking at the model
            (:meth:`ActiveLoop.representative_rows`): their reviews choose
            the experts' weights when ``label_model_weight="auto"``.
        """
        self._validate_params()  # before the texts are vectorised
        texts = [str(t) for t in texts]
        probs = np.asarray(probs, dtype=float)
        y = np.asarray(y, dtype=np.int64)
        if probs.ndim != 2 or probs.shape[0] != len(texts) or y.shape != (len(texts),):
            raise ValueError(
                f"{len(texts)} texts but probs has shape {probs.shape} and y {y.shape}; one row of each per text."
            )
        keep = y != ABSTAIN
        if L is not None and drop_uncovered:
            covered = covered_rows(L)
            if covered.shape != (len(texts),):
                raise ValueError(
                    f"L has {covered.shape[0]} rows but {len(texts)} texts were given; one row of votes per text."
                )
            keep = keep | covered
        else:
            keep = np.ones(len(texts), dtype=bool)
        self.n_uncovered_dropped_ = int((~keep).sum())
        self.vectorizers_ = self.make_vectorizers()
        X = stack_features(self.vectorizers_, texts, fit=True)
        lm = None if L is None or self.label_model is None else self.label_model.predict_proba(L)
        return self.fit_features(X, probs, y, keep, lm, L, representative=representative)

    def fit_features(
        self, X: Any, probs: Any, y: Any, keep: Any, lm_probs: Any = None, L: Any = None, *,
        representative: Any = None,
    ) -> "FinalClassifier":
        """Fit the experts on stacked features ``X`` already computed (what :meth:`fit` does after vectorising).

        A simulation computes the features once and refits after every batch
        through this method. ``keep`` marks the rows the end model trains on;
        ``lm_probs`` and ``L`` (the label model's probabilities of these rows
        and their votes) let the reviewed-rows model be weighed against the
        full product; without them against the end model alone.
        """
        self._validate_params()
        auto = isinstance(self.label_model_weight, str)  # "auto", the one string the constraints accept
        em = self.end_model_ = self._end_model()
        probs = np.asarray(probs, dtype=float)
        y = np.asarray(y, dtype=np.int64)
        self.cardinality_ = probs.shape[1]
        keep = np.asarray(keep, dtype=bool)
        self.end_ = em.train_classifier(X, probs, keep=keep, human=y != ABSTAIN)
        self.end_model_agreement_ = None
        preferred = 1.0
        if auto and lm_probs is not None and L is not None:
            self.end_model_agreement_ = end_model_agreement(
                em, X, probs, keep & covered_rows(L), random_state=self.random_state
            )
            preferred = preferred_label_model_weight(self.end_model_agreement_)
            held = None if representative is None else np.asarray(representative, dtype=bool) & (y != ABSTAIN)
            if held is not None and held.sum() >= min_representative(self.cardinality_):
                self.label_model_weight_, self.review_C_, weight = choose_expert_weights(
                    em, X, probs, y, keep, np.asarray(lm_probs, dtype=float), np.asarray(L), held,
                    review_Cs=(self.review_C, 10 * self.review_C), prior=self.review_prior, preferred=preferred,
                    random_state=self.random_state,
                )
                self.review_, _ = fit_review_model(
                    em.embedding_columns(X), y, C=self.review_C_, prior=self.review_prior
                )
                self.review_weight_ = weight if self.review_ is not None else 0.0
                return self
        self.label_model_weight_ = preferred if auto else float(self.label_model_weight)
        self.review_C_ = float(self.review_C)
        # The reviewed-rows model gets the weight its held-out reviews support on top of the other two.
        base = other_experts(self.end_, X, self.cardinality_, lm_probs, L, label_model_weight=self.label_model_weight_)
        self.review_, self.review_weight_ = fit_review_model(
            em.embedding_columns(X), y, base, C=self.review_C, prior=self.review_prior, random_state=self.random_state
        )
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "end_")

    def _features(self, texts: Sequence[str]) -> Any:
        if not hasattr(self, "vectorizers_"):
            raise NotFittedError("FinalClassifier is not fitted; call fit() or ActiveLoop.final_classifier() first.")
        return stack_features(self.vectorizers_, [str(t) for t in texts])

    def predict_proba_features(self, X: Any, lm_probs: Any = None, L: Any = None) -> np.ndarray:
        """The experts' product on stacked features ``X``; the label model joins where ``lm_probs`` and ``L`` are given."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError("FinalClassifier is not fitted; call fit() or ActiveLoop.final_classifier() first.")
        k = self.cardinality_
        end = class_probabilities(self.end_, X, k)
        review = review_probabilities(self.review_, self.review_weight_, self.end_model_.embedding_columns(X), k)
        if lm_probs is None or L is None:
            return combine(end, np.ones_like(end), np.full((X.shape[0], 1), ABSTAIN), review)
        L_arr = np.asarray(L)
        if L_arr.shape[0] != X.shape[0]:
            raise ValueError(f"L has {L_arr.shape[0]} rows but {X.shape[0]} texts were given.")
        return combine(end, np.asarray(lm_probs, dtype=float), L_arr, review, label_model_weight=self.label_model_weight_)

    def predict_proba(self, texts: Sequence[str], L: Any = None) -> np.ndarray:
        """Class probabilities of ``texts``; ``L`` (their votes) brings in the label model."""
        X = self._features(texts)
        lm = None if L is None or self.label_model is None else self.label_model.predict_proba(np.asarray(L))
        return self.predict_proba_features(X, lm, None if lm is None else L)

    def predict(self, texts: Sequence[str], L: Any = None) -> np.ndarray:
        """Most probable class of each text."""
        return self.predict_proba(texts, L).argmax(axis=1)
