"""Apply LFs to a ``dask.dataframe`` on a ``dask.distributed`` cluster, and count vote patterns with Dask.

Each partition is labelled on a worker with the same code as :func:`~labeling.apply_lfs`; the
label model is then fitted from the distinct vote patterns and their counts, which are gathered
per partition and merged, so no single machine ever holds the whole label matrix. Connect a
``distributed.Client`` to a scheduler first; everything here runs on the current client.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from .errors import LFError
from .guards import check_lfs
from .votes import compute_votes
from .lf import LabelingFunction
from .matrix import smallest_int_dtype
from .patterns import PatternCounts, fit_from_patterns

__all__ = ["apply_lfs_dask", "vote_patterns_dask", "fit_label_model_dask"]

INSTALL_HINT = "pip install 'votewise[dask]'"


def _require_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"Dask support needs dask[dataframe] and distributed: {INSTALL_HINT}") from exc
    return dd


def _label_partition(
    part: pd.DataFrame, lfs: list[LabelingFunction], cardinality: int | None, fault_tolerant: bool,
    dedup: bool, partition_info: dict | None = None,
) -> pd.DataFrame:
    names = [lf.name for lf in lfs]
    dtype = smallest_int_dtype(cardinality)
    if len(part) == 0:
        return pd.DataFrame({name: np.zeros(0, dtype=dtype) for name in names}, index=part.index)
    number = partition_info["number"] if partition_info else "?"
    try:
        votes, _ = compute_votes(
            part, lfs, progress=False, fault_tolerant=fault_tolerant, cardinality=cardinality, dedup=dedup
        )
    except LFError as exc:
        raise LFError(
            f"{exc} [in partition {number}; the row position counts from that partition's first row]",
            lf=exc.lf, position=exc.position, row_id=exc.row_id,
        ) from exc.__cause__
    if cardinality is None and votes.size and votes.max() > np.iinfo(dtype).max:
        raise ValueError(f"An LF voted {votes.max()}; pass cardinality= to store class ids above 126.")
    return pd.DataFrame(votes.astype(dtype), index=part.index, columns=names)


def apply_lfs_dask(
    data: Any,
    lfs: Iterable[LabelingFunction],
    *,
    cardinality: int | None = None,
    fault_tolerant: bool = False,
    dedup: bool = True,
) -> Any:
    """The label matrix of a Dask DataFrame, as a lazy Dask DataFrame (one int8 column per LF).

    Partitions are labelled independently on the workers, exactly as :func:`~labeling.apply_lfs`
    would label them (dedup works within each partition); the index (row ids) and divisions of
    ``data`` are kept. Nothing runs until ``.compute()``, ``.to_parquet(...)`` or
    :func:`vote_patterns_dask`. With ``fault_tolerant=True`` a failing LF call abstains; the
    failures themselves are not collected on this path (run :func:`~labeling.apply_lfs` on the
    partition in question to see them).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        The rows; e.g. ``dd.read_parquet("s3://bucket/comments/")``.
    lfs : iterable of LabelingFunction
        Row and vectorized LFs; they must be picklable (cloudpickle handles lambdas and closures).
    cardinality, fault_tolerant, dedup
        As in :func:`~labeling.apply_lfs`.

    Returns
    -------
    dask.dataframe.DataFrame
        Votes, rows x LFs.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> votes = apply_lfs_dask(dd.read_parquet("comments/"), lfs, cardinality=2)  # doctest: +SKIP
    >>> model = fit_label_model_dask(MajorityVote(cardinality=2), votes)  # doctest: +SKIP
    """
    dd = _require_dask()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(
            f"data must be a dask.dataframe.DataFrame; got {type(data).__name__}. Use apply_lfs for pandas data, "
            "or dd.from_pandas(df, npartitions=...) to distribute it."
        )
    lfs = check_lfs(lfs, cardinality)
    dtype = smallest_int_dtype(cardinality)
    meta = pd.DataFrame({lf.name: np.zeros(0, dtype=dtype) for lf in lfs}, index=data._meta.index)
    return data.map_partitions(
        _label_partition, lfs, cardinality, fault_tolerant, dedup, meta=meta, align_dataframes=False
    )


COUNT_COLUMN = "__count__"


def _partition_pattern_frame(votes: pd.DataFrame) -> pd.DataFrame:
    # Distinct vote rows of one partition with their counts, as a small DataFrame: a plain
    # map_partitions step, so Dask fuses it into the task that reads and labels the partition and
    # only this summary (not the partition's votes) leaves that task.
    vp = PatternCounts(list(map(str, votes.columns)))
    if len(votes):
        vp.add(votes.to_numpy())
    frame = pd.DataFrame(vp.patterns, columns=votes.columns)
    frame[COUNT_COLUMN] = vp.counts
    return frame


def _merge_pattern_frames(parts: list[Any]) -> PatternCounts:
    total: PatternCounts | None = None
    for part in parts:
        if isinstance(part, pd.DataFrame):
            names = [c for c in part.columns if c != COUNT_COLUMN]
            vp = PatternCounts(list(map(str, names)))
            if len(part):
                vp.add(part[names].to_numpy(), counts=part[COUNT_COLUMN].to_numpy(np.int64))
        else:
            vp = part
        total = vp if total is None else total.merge(vp)
    return total if total is not None else PatternCounts()


def vote_patterns_dask(votes: Any, *, split_every: int = 16) -> PatternCounts:
    """Distinct vote rows with counts of a Dask label matrix, counted per partition and merged on the cluster.

    Each partition's patterns are counted in the same task that labels it, so the votes never
    travel between workers; only the per-partition summaries are merged (a tree reduction).

    Parameters
    ----------
    votes : dask.dataframe.DataFrame
        From :func:`apply_lfs_dask`.
    split_every : int
        Partial results merged per task of the reduction tree.

    Returns
    -------
    PatternCounts
        ``.patterns`` and ``.counts`` for :func:`~labeling.fit_from_patterns`.
    """
    _require_dask()
    import dask

    if split_every < 2:
        raise ValueError(f"split_every={split_every}; expected at least 2 partial results per merge.")
    meta = pd.DataFrame({**{c: votes._meta[c] for c in votes.columns}, COUNT_COLUMN: np.zeros(0, dtype=np.int64)})
    frames = votes.map_partitions(_partition_pattern_frame, meta=meta, clear_divisions=True)
    level = list(frames.to_delayed())
    while len(level) > 1:
        level = [
            dask.delayed(_merge_pattern_frames)(level[i : i + split_every]) for i in range(0, len(level), split_every)
        ]
    if not level:
        return PatternCounts(list(map(str, votes.columns)))
    (result,) = dask.compute(dask.delayed(_merge_pattern_frames)(level))
    return result


def fit_label_model_dask(model: Any, votes: Any, **fit_params: Any) -> Any:
    """Fit a label model on a Dask label matrix through its vote-pattern counts; returns the model.

    See :func:`~labeling.fit_from_patterns` for how the counts reach the model.
    """
    vp = vote_patterns_dask(votes)
    if len(vp) == 0:
        raise ValueError("The label matrix has no rows; nothing to fit.")
    return fit_from_patterns(model, vp.patterns, vp.counts, **fit_params)
