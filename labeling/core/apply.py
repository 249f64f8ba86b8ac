"""Applying labeling functions to a DataFrame: the label matrix."""

from __future__ import annotations

import os
from typing import Iterable

import pandas as pd

from .cache import LFCache, as_cache
from .lf import LabelingFunction
from .matrix import LabelMatrix
from .guards import check_options, validate_input
from .votes import compute_votes, finish_matrix

__all__ = ["apply_lfs"]


def apply_lfs(
    data: pd.DataFrame,
    lfs: Iterable[LabelingFunction],
    *,
    n_jobs: int = 1,
    progress: bool = True,
    fault_tolerant: bool = False,
    cardinality: int | None = None,
    chunk_size: int | None = None,
    dedup: bool = True,
    cache: LFCache | str | os.PathLike | None = None,
) -> LabelMatrix:
    """Apply labeling functions to every row of ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per example; its index becomes the label matrix's row ids.
    lfs : iterable of LabelingFunction
        Row LFs and vectorized LFs may be mixed; names must be unique.
    n_jobs : int
        Worker processes (joblib); ``-1`` uses every core. All settings give the same matrix.
    progress : bool
        Show a tqdm progress bar over chunks.
    fault_tolerant : bool
        When an LF raises, abstain on that row and go on; the failures are in
        ``L.failures`` and summarised in a warning. Otherwise the first failure
        stops the run with :class:`LFError` naming the LF, row position and id.
    cardinality : int, optional
        Number of classes; votes must then lie in ``-1..cardinality-1``.
    chunk_size : int, optional
        Rows per chunk handed to vectorized LFs and to workers.
    dedup : bool
        Label each distinct row (same values in every column) once and copy its votes to its
        duplicates. Row ids, error positions and ``L.failures`` still name the original rows.
        Turn off only for LFs whose vote depends on something other than the row's values.
        With only batch LFs on large data, rows are grouped only when a sample of them holds
        at least 5% duplicates (see ``labeling.core.patterns.worth_dedup``).
    cache : LFCache or path, optional
        Reuse each LF's column from an earlier run on the same data when the LF (code,
        resources, preprocessors) is unchanged; see :class:`~labeling.LFCache`.

    Returns
    -------
    LabelMatrix
        int8 (int16 for more than 127 classes) votes, rows x LFs.

    Examples
    --------
    >>> df = pd.DataFrame({"text": ["check out my channel", "great song"]})
    >>> @labeling_function()
    ... def lf_check_out(x):
    ...     return 1 if "check out" in x.text else -1
    >>> apply_lfs(df, [lf_check_out], progress=False).values.ravel().tolist()
    [1, -1]
    """
    data, lfs = validate_input(data, lfs, cardinality)
    check_options(n_jobs, chunk_size)
    options = dict(
        n_jobs=n_jobs, progress=progress, fault_tolerant=fault_tolerant, cardinality=cardinality,
        chunk_size=chunk_size, dedup=dedup,
    )
    if cache is not None:
        votes, failures = as_cache(cache).votes(data, lfs, **options)
    else:
        votes, failures = compute_votes(data, lfs, **options)
    return finish_matrix(votes, failures, lfs, data.index, cardinality)
