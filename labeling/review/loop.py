"""The active-learning loop: pick rows, get human labels, fold them back into the label model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from labeling.core.analysis import wilson_interval
from labeling.core.apply import apply_lfs
from labeling.core.matrix import ABSTAIN, LabelMatrix, check_label_matrix
from models import probs_to_preds

from models.final import FinalClassifier
from .store import ReviewStore
from .strategies import get_strategy, select

__all__ = ["ActiveLoop", "RefitReport", "lf_accuracy_estimates", "with_human_labels"]


@dataclass
class RefitReport:
    """What one :meth:`ActiveLoop.refit` changed.

    ``label_accuracy_before``/``after`` estimate the accuracy of the loop's
    labels over all rows before and after the refit, both judged by the
    **refitted** model (the better-informed of the two): a reviewed row counts
    1 if the label held for it was right (so a newly reviewed row counts for
    "before" only if the old label matched the human one), an unreviewed row
    counts the refitted model's probability of the label held for it. Judging
    both by one model keeps the gain honest: a refit that makes the model less
    sure of itself, because the reviews exposed an over-trusted LF, no longer
    reads as a loss. ``lf_accuracy`` has one row per LF with its estimated
    accuracy before and after and its accuracy on the reviewed rows.

    With an audit slice (``ActiveLoop(audit_fraction=...)``), ``audit_n`` rows
    drawn uniformly at random have been reviewed so far; ``audit_accuracy`` is
    the share of them whose label, as held just before their review, matched
    the human label: an unbiased estimate of the accuracy of the unreviewed
    rows' labels (pooled over batches, so it lags the latest refit), with a
    95% Wilson interval ``audit_low``-``audit_high``.
    """

    n_reviewed: int
    n_new: int
    label_accuracy_before: float
    label_accuracy_after: float
    lf_accuracy: pd.DataFrame = field(repr=False)
    batch_accuracy: float | None = None
    audit_n: int = 0
    audit_accuracy: float | None = None
    audit_low: float | None = None
    audit_high: float | None = None

    @property
    def gain(self) -> float:
        return self.label_accuracy_after - self.label_accuracy_before

    @property
    def gain_per_label(self) -> float:
        return self.gain / self.n_new if self.n_new else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_reviewed": self.n_reviewed, "n_new": self.n_new,
            "label_accuracy_before": self.label_accuracy_before, "label_accuracy_after": self.label_accuracy_after,
            "gain": self.gain, "gain_per_label": self.gain_per_label, "batch_accuracy": self.batch_accuracy,
            "audit_n": self.audit_n, "audit_accuracy": self.audit_accuracy,
            "audit_low": self.audit_low, "audit_high": self.audit_high,
        }


def with_human_labels(probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The human label overrides: ``(probs, labels)`` with every reviewed row (``y != -1``) one-hot on its label.

    ``labels`` is the human label on reviewed rows and ``-1`` elsewhere, for the caller's own prediction
    (tie rule, threshold) to fill in. ``probs`` is not changed; a copy is returned.

    Examples
    --------
    >>> p, labels = with_human_labels(np.array([[0.7, 0.3], [0.6, 0.4]]), np.array([-1, 1]))
    >>> p.tolist(), labels.tolist()
    ([[0.7, 0.3], [0.0, 1.0]], [-1, 1])
    """
    probs = np.array(probs, dtype=float)
    y = np.asarray(y, dtype=np.int64)
    if y.shape != (probs.shape[0],):
        raise ValueError(f"y has shape {y.shape}; expected one label (or -1) per row of probs, ({probs.shape[0]},).")
    known = y != ABSTAIN
    probs[known] = np.eye(probs.shape[1])[y[known]]
    return probs, np.where(known, y, ABSTAIN)


def lf_accuracy_estimates(
    L: np.ndarray, probs: np.ndarray, lf_names: Sequence[str], y: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-LF coverage, expected accuracy under ``probs``, and accuracy on known labels ``y`` (-1 = unknown)."""
    L = np.asarray(L)
    fired = L != ABSTAIN
    n_fired = fired.sum(axis=0)
    rows, cols = np.nonzero(fired)
    hit = probs[rows, L[rows, cols]]
    expected = np.bincount(cols, weights=hit, minlength=L.shape[1]) / np.maximum(n_fired, 1)
    out = pd.DataFrame(
        {"coverage": n_fired / max(L.shape[0], 1), "est_accuracy": np.where(n_fired > 0, expected, np.nan)},
        index=pd.Index(list(lf_names), name="lf"),
    )
    if y is not None:
        known = (y != ABSTAIN)[:, None] & fired
        correct = known & (L == y[:, None])
        n_known = known.sum(axis=0)
        out["reviewed_n"] = n_known
        out["reviewed_accuracy"] = np.where(n_known > 0, correct.sum(axis=0) / np.maximum(n_known, 1), np.nan)
    return out


class ActiveLoop:
    """Route the rows the label model is least sure of to humans and learn from their labels.

    Parameters
    ----------
    model : BaseLabelModel
        Any label model; its ``fit(L, y)`` receives the human labels as a partial
        ``y`` (-1 = unknown) so that known labels anchor the fit.
    data : DataFrame
        One row per example; its index holds the stable row ids used in the store.
    L : LabelMatrix or array of shape (n, m)
        The LF votes on ``data``.
    strategy : str
        A name from :data:`labeling.review.STRATEGIES` (``"entropy"``, ``"diverse:margin"``, ...).
    store : ReviewStore
        Where batches are queued and human decisions are read from.
    batch_size : int
        Rows per :meth:`next_batch`.
    text_column : str
        Column of ``data`` shown to reviewers and used for TF-IDF features. When it is not
        ``text`` and ``data`` has no ``text`` column, the loop's copy of ``data`` gets one
        (the same values), so the LFs it applies (:meth:`add_lf`) read ``x.text``.
    class_names : sequence of str, optional
        Defaults to the store's class names, else ``"0".."k-1"``.
    lfs : sequence of LabelingFunction, optional
        The LFs behind ``L``; those with ``explain(text)`` (rule LFs) give the
        spans highlighted in the review widget.
    features : array, sparse matrix or text encoder, optional
        Row vectors for ``diverse:*`` strategies (default: TF-IDF of ``text_column``),
        or an encoder with ``fit_transform(texts)`` (:class:`sources.TextEncoder`)
        whose sentence embeddings spread the batch by meaning rather than by words.
    class_balance : array-like, optional
        Passed to ``model.fit``.
    audit_fraction : float
        Share of each batch drawn uniformly at random from the unreviewed rows
        instead of by the strategy (at least one row per batch when > 0). The
        strategy picks rows where the model is weak, so their accuracy says
        little about the rest; the random rows give an unbiased estimate of the
        labels' accuracy, reported by :meth:`refit` (``RefitReport.audit_*``).
    random_state : int, optional
        Seed for tie-breaking and random strategies.
    id_scheme : str, optional
        How ``data``'s index was made, in words (``"row numbers"``, ``"column 'id'"``); the
        store refuses rows keyed another way than the samples it holds
        (:meth:`ReviewStore.check_id_scheme`). Default: ``"row numbers"`` for a plain
        ``0..n-1`` index, else the index's name.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from models import MajorityVote
    >>> data = pd.DataFrame({"text": ["win cash", "nice song", "hello"]}, index=["a", "b", "c"])
    >>> store = ReviewStore(os.path.join(tempfile.mkdtemp(), "r.sqlite"), class_names=["ham", "spam"])
    >>> loop = ActiveLoop(MajorityVote(cardinality=2), data, [[1, -1], [-1, 0], [-1, -1]],
    ...                   strategy="uncovered", store=store, batch_size=1, random_state=0)
    >>> loop.next_batch().index.tolist()
    ['c']
    >>> loop.record("c", 0, reviewer="ann")
    >>> loop.refit().n_reviewed
    1
    >>> loop.predict().tolist()
    [1, 0, 0]
    """

    def __init__(
        self,
        model: Any,
        data: pd.DataFrame,
        L: Any,
        *,
        strategy: str = "entropy",
        store: ReviewStore,
        batch_size: int = 10,
        text_column: str = "text",
        class_names: Sequence[str] | None = None,
        lfs: Sequence[Any] | None = None,
        features: Any = None,
        class_balance: Any = None,
        audit_fraction: float = 0.0,
        random_state: int | None = None,
        id_scheme: str | None = None,
    ) -> None:
        get_strategy(strategy)
        if not 0.0 <= float(audit_fraction) <= 1.0:
            raise ValueError(f"audit_fraction={audit_fraction!r}; expected a share of each batch in [0, 1].")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; expected a positive number of rows per batch.")
        arr = check_label_matrix(L)
        if arr.shape[0] != len(data):
            raise ValueError(f"L has {arr.shape[0]} rows but data has {len(data)}; they must describe the same rows.")
        if text_column not in data.columns:
            raise ValueError(f"data has no column {text_column!r}; columns: {list(data.columns)}.")
        self.model = model
        if text_column != "text" and "text" not in data.columns:
            # LFs read x.text (rule builders, accepted suggestions): the text column is given that name too,
            # in a copy, whatever the source calls it.
            data = data.assign(text=data[text_column])
        self.data = data
        self.L = np.asarray(arr)
        self.lf_names = list(getattr(L, "lf_names", None) or [f"lf_{j}" for j in range(arr.shape[1])])
        self.strategy = strategy
        self.store = store
        self.batch_size = int(batch_size)
        self.text_column = text_column
        self.lfs = list(lfs) if lfs is not None else None
        self.features = features
        self._feature_matrix: Any = None  # the row vectors diverse:* reads, computed on first use
        self.class_balance = class_balance
        self.audit_fraction = float(audit_fraction)
        self.random_state = random_state
        self._rng = np.random.default_rng(random_state)
        self.ids = [str(i) for i in data.index]
        if len(set(self.ids)) != len(self.ids):
            dup = pd.Index(self.ids)[pd.Index(self.ids).duplicated()][0]
            raise ValueError(f"data index has duplicate id {dup!r}; the loop needs one stable id per row.")
        self._pos = {sid: i for i, sid in enumerate(self.ids)}
        if id_scheme is None:
            plain = isinstance(data.index, pd.RangeIndex) and data.index.start == 0 and data.index.step == 1
            id_scheme = "row numbers" if plain else f"index {data.index.name or '(unnamed)'!r}"
        store.check_id_scheme(id_scheme, self.ids)
        names = list(class_names) if class_names is not None else store.class_names
        if not names:
            k = int(getattr(model, "cardinality", None) or max(int(self.L.max()) + 1, 2))
            names = [str(c) for c in range(k)]
        self.class_names = names
        if not store.class_names:
            store.set_meta("class_names", names)
        self.probs_: np.ndarray | None = None
        self.history_: list[RefitReport] = []
        self._batch = 0
        self._known = np.zeros(len(self.ids), dtype=bool)
        # Rows drawn for the audit slice, and the audit tally: (rows reviewed, rows whose held label was right).
        self._audit = np.zeros(len(self.ids), dtype=bool)
        # Rows picked without looking at the model (audit rows, random or typical batches, random draws
        # from a tie of nearly all rows): their reviews estimate how the final classifier does on any row.
        self._representative = np.zeros(len(self.ids), dtype=bool)
        self._audit_tally = [0, 0]
        for sid in store.sample_ids():  # a loop reopened on an existing store keeps its audit rows
            i = self._pos.get(sid)
            if i is None:
                continue
            payload = store.sample(sid).payload
            self._audit[i] = bool(payload.get("audit"))
            self._representative[i] = bool(payload.get("audit") or payload.get("representative"))

    # state ------------------------------------------------------------------
    @property
    def cardinality(self) -> int:
        return len(self.class_names)

    def human_labels(self) -> np.ndarray:
        """Partial ``y``: the resolved human label of each row, -1 where there is none."""
        y = np.full(len(self.ids), ABSTAIN, dtype=np.int64)
        for sid, label in self.store.resolved_labels().items():
            i = self._pos.get(sid)
            if i is not None and label is not None:
                y[i] = label
        return y

    def _fit(self, y: np.ndarray) -> np.ndarray:
        L = LabelMatrix(self.L.astype(np.int16), lf_names=self.lf_names) if self.lf_names else self.L
        y_fit = y if (y != ABSTAIN).any() else None
        self.model.fit(L, y_fit, class_balance=self.class_balance)
        return np.asarray(self.model.predict_proba(L), dtype=float)

    def fit(self) -> "ActiveLoop":
        """Fit the label model on the votes and the human labels gathered so far."""
        y = self.human_labels()
        self.probs_ = self._fit(y)
        self._known = y != ABSTAIN
        return self

    def predict_proba(self) -> np.ndarray:
        """Class probabilities of every row; reviewed rows are one-hot on the human label."""
        if self.probs_ is None:
            self.fit()
        return with_human_labels(self.probs_, self.human_labels())[0]

    def predict(self) -> np.ndarray:
        """One label per row: the human label where reviewed, else the model's most probable class."""
        y = self.human_labels()
        return np.where(y != ABSTAIN, y, probs_to_preds(self.predict_proba(), tie_break="random"))

    def estimated_accuracy(self, probs: np.ndarray | None = None, y: np.ndarray | None = None) -> float:
        """Expected accuracy of :meth:`predict` under the model (1 for reviewed rows)."""
        probs = self.probs_ if probs is None else probs
        y = self.human_labels() if y is None else y
        conf = probs.max(axis=1)
        return float(np.where(y != ABSTAIN, 1.0, conf).mean())

    def lf_accuracy(self) -> pd.DataFrame:
        """Per-LF coverage, model-estimated accuracy and accuracy on reviewed rows."""
        if self.probs_ is None:
            self.fit()
        return lf_accuracy_estimates(self.L, self.probs_, self.lf_names, self.human_labels())

    # the loop ---------------------------------------------------------------
    def _texts(self) -> list[str]:
        return self.data[self.text_column].fillna("").astype(str).tolist()

    def _features(self) -> Any:
        if self._feature_matrix is None:
            if self.features is None:
                from sklearn.feature_extraction.text import TfidfVectorizer

                self._feature_matrix = TfidfVectorizer(sublinear_tf=True, min_df=1).fit_transform(self._texts())
            elif hasattr(self.features, "fit_transform") and not hasattr(self.features, "shape"):
                self._feature_matrix = self.features.fit_transform(self._texts())
            else:
                self._feature_matrix = self.features
        return self._feature_matrix

    def _payload(self, i: int, probs: np.ndarray) -> dict:
        votes = {self.lf_names[j]: int(v) for j, v in enumerate(self.L[i]) if v != ABSTAIN}
        spans = []
        if self.lfs is not None:
            text = str(self.data[self.text_column].iloc[i])
            for lf in self.lfs:
                if lf.name in votes and hasattr(lf, "explain"):
                    try:
                        spans += [[int(s[0]), int(s[1]), lf.name] for s in lf.explain(text)]
                    except Exception:  # noqa: BLE001 - a broken explain must not block review
                        pass
        out = {"votes": votes, "probs": [round(float(p), 4) for p in probs[i]], "spans": spans}
        if self._audit[i]:
            out["audit"] = True  # drawn at random: its review measures the labels' accuracy without bias
        if self._representative[i]:
            out["representative"] = True
        return out

    def next_batch(self, n: int | None = None) -> pd.DataFrame:
        """Queue the next batch in the store and return those rows of ``data`` (best first)."""
        if self.probs_ is None:
            self.fit()
        n = self.batch_size if n is None else int(n)
        taken = self.store.queued_ids()
        exclude = np.fromiter((sid in taken for sid in self.ids), dtype=bool, count=len(self.ids))
        _, diverse = get_strategy(self.strategy)
        n_audit = 0
        if self.audit_fraction > 0 and n > 0:
            n_audit = min(n, max(1, int(round(n * self.audit_fraction))))
        audit_idx = np.zeros(0, dtype=np.int64)
        if n_audit:
            free = np.flatnonzero(~exclude)
            audit_idx = self._rng.choice(free, size=min(n_audit, len(free)), replace=False)
            exclude = exclude.copy()
            exclude[audit_idx] = True
        idx, fair = select(
            self.probs_, self.L, n - len(audit_idx), strategy=self.strategy, exclude=exclude,
            features=self._features() if diverse and n > len(audit_idx) else None, random_state=self._rng,
            return_representative=True,
        ) if n > len(audit_idx) else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        self._audit[audit_idx] = True
        self._representative[audit_idx] = True
        self._representative[np.asarray(idx, dtype=np.int64)[fair]] = True
        idx = np.concatenate([np.asarray(idx, dtype=np.int64), audit_idx.astype(np.int64)])
        self._batch += 1
        texts = self.data[self.text_column].iloc[idx].fillna("").astype(str).tolist()
        self.store.add_samples(
            [self.ids[i] for i in idx], texts,
            payloads=[self._payload(i, self.probs_) for i in idx],
            positions=idx.tolist(),
            priorities=[-(self._batch * 1e6 + r) for r in range(len(idx))],
            batch=self._batch,
        )
        return self.data.iloc[idx]

    def record(
        self, sample_id: Any, label: int | None, *, reviewer: str = "human", kind: str = "label",
        note: str | None = None,
    ) -> None:
        """Record one human decision in the store (committed at once).

        A row that was never queued is added to the store first, with its payload (votes,
        probabilities, spans), so exports and the review UIs show it like any other.

        Raises
        ------
        KeyError
            When ``sample_id`` is not a row of the loop's data.
        LeaseError
            When another reviewer holds the row's lease (see :meth:`ReviewStore.record`).
        """
        sid = str(sample_id)
        if sid not in self._pos:
            raise KeyError(f"Row id {sample_id!r} is not in the loop's data.")
        if sid not in self.store.queued_ids():
            i = self._pos[sid]
            payload = [self._payload(i, self.probs_)] if self.probs_ is not None else None
            self.store.add_samples([sid], [str(self.data[self.text_column].iloc[i])], positions=[i], payloads=payload)
        self.store.record(sid, label, reviewer=reviewer, kind=kind, note=note)

    def refit(self) -> RefitReport:
        """Fold the human labels into the label model and report what changed (see :class:`RefitReport`)."""
        if self.probs_ is None:
            self.fit()
        y = self.human_labels()
        before_probs = self.probs_
        lf_before = lf_accuracy_estimates(self.L, before_probs, self.lf_names)
        newly = np.flatnonzero((y != ABSTAIN) & ~self._known)
        new = len(newly)
        before_pred = probs_to_preds(before_probs, tie_break="random")
        # How often the model was right on the rows humans labelled since the last fit.
        batch_acc = float((before_pred[newly] == y[newly]).mean()) if new else None
        audited = newly[self._audit[newly]]
        self._audit_tally[0] += len(audited)
        self._audit_tally[1] += int((before_pred[audited] == y[audited]).sum())
        self.probs_ = self._fit(y)
        after_pred = probs_to_preds(self.probs_, tie_break="random")
        # Both label sets judged by the refitted model; reviewed rows by the human label.
        unreviewed, rows = y == ABSTAIN, np.arange(len(y))
        before_score = np.where(unreviewed, self.probs_[rows, before_pred], 1.0)
        before_score[newly] = (before_pred[newly] == y[newly]).astype(float)
        after_score = np.where(unreviewed, self.probs_[rows, after_pred], 1.0)
        lf_after = lf_accuracy_estimates(self.L, self.probs_, self.lf_names, y)
        lf_table = lf_after.rename(columns={"est_accuracy": "est_accuracy_after"})
        lf_table.insert(1, "est_accuracy_before", lf_before["est_accuracy"].to_numpy())
        n_audit, hits = self._audit_tally
        low, high = (float(v) for v in wilson_interval(hits, n_audit))
        report = RefitReport(
            n_reviewed=int((y != ABSTAIN).sum()), n_new=int(new),
            label_accuracy_before=float(before_score.mean()), label_accuracy_after=float(after_score.mean()),
            lf_accuracy=lf_table, batch_accuracy=batch_acc,
            audit_n=n_audit, audit_accuracy=hits / n_audit if n_audit else None,
            audit_low=low if n_audit else None, audit_high=high if n_audit else None,
        )
        self._known = y != ABSTAIN
        self.history_.append(report)
        return report

    def should_stop(self, *, budget: int | None = None, min_gain: float | None = None) -> bool:
        """True once ``budget`` labels are spent or the last refit gained less than ``min_gain`` per label."""
        n = int((self.human_labels() != ABSTAIN).sum())
        if budget is not None and n >= budget:
            return True
        if min_gain is not None and self.history_ and self.history_[-1].n_new:
            return self.history_[-1].gain_per_label < min_gain
        return False

    def run(
        self,
        oracle: Callable[[list[str]], Sequence[int]],
        *,
        budget: int,
        min_gain: float | None = None,
        reviewer: str = "oracle",
        callback: Callable[["ActiveLoop", RefitReport], None] | None = None,
    ) -> list[RefitReport]:
        """Run batches with ``oracle(ids) -> labels`` standing in for humans (simulation, tests)."""
        while not self.should_stop(budget=budget, min_gain=min_gain):
            n_have = int((self.human_labels() != ABSTAIN).sum())
            batch = self.next_batch(min(self.batch_size, budget - n_have))
            if len(batch) == 0:
                break
            ids = [str(i) for i in batch.index]
            for sid, label in zip(ids, oracle(ids)):
                self.store.record(sid, int(label), reviewer=reviewer)
            report = self.refit()
            if callback is not None:
                callback(self, report)
        return self.history_

    def representative_rows(self) -> np.ndarray:
        """Boolean mask of the rows picked without looking at the model.

        Audit rows, random or typical batches, and rows a strategy drew at
        random from a tie of nearly all candidates (``select(...,
        return_representative=True)``).
        """
        return self._representative.copy()

    def final_classifier(
        self, end_model: Any = None, *, drop_uncovered: bool = True, label_model_weight: float | str = "auto"
    ) -> Any:
        """The classifier to hand over: end model x label model x reviewed-rows model.

        Fit on this loop's texts, labels and reviews; see
        :class:`models.FinalClassifier`.

        Parameters
        ----------
        end_model : models.EndModel, optional
            The end model (default :meth:`models.EndModel.for_review_loop`).
        drop_uncovered : bool
            Leave rows no LF voted on and nobody reviewed out of the end model's training
            (default); their label would only be the class prior. The count is the returned
            classifier's ``n_uncovered_dropped_``.
        label_model_weight : float or "auto"
            Exponent of the label model in the product; 0 leaves it out; ``"auto"``
            prefers 0 where the end model reproduces the label model, else 1, and
            lets the reviews of :meth:`representative_rows` overrule that when they
            clearly favour another (see :class:`models.FinalClassifier`).
        """
        clf = FinalClassifier(self.model, end_model=end_model, label_model_weight=label_model_weight)
        return clf.fit(self._texts(), self.predict_proba(), self.human_labels(), self.L,
                       drop_uncovered=drop_uncovered, representative=self._representative)

    # LFs ---------------------------------------------------------------------
    def add_lf(self, lf: Any) -> "ActiveLoop":
        """Apply one new LF to ``data`` (only that LF), append its column to ``L`` and refit."""
        if lf.name in self.lf_names:
            raise ValueError(f"An LF named {lf.name!r} is already in the loop; rename the new one.")
        col = np.asarray(apply_lfs(self.data, [lf], progress=False)).reshape(-1, 1)
        self.L = np.hstack([self.L, col.astype(self.L.dtype)])
        self.lf_names.append(lf.name)
        if self.lfs is not None:
            self.lfs.append(lf)
        self.fit()
        return self
