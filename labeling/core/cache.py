"""LF result cache: each LF's column of votes on disk, keyed by a fingerprint of the LF and of the data.

Re-running ten LFs on a million rows after editing one of them should cost one column, not ten. The
fingerprints are :mod:`labeling.core.fingerprint`'s; what they cannot see is caught by re-running each
cached column on a sample of rows.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .cachedir import default_cache_dir
from .fileio import check_npz, check_writable
from .fingerprint import data_fingerprint, lf_fingerprint
from .errors import LFError, LFFailure
from .guards import validate_input
from .patterns import distinct_rows, worth_dedup
from .votes import compute_votes
from .lf import LabelingFunction

__all__ = ["LFCache", "StaleCacheWarning"]

logger = logging.getLogger(__name__)

#: Share of rows on which every cached column is recomputed and compared, and the least number of rows.
VERIFY_SHARE = 0.01
VERIFY_MIN_ROWS = 200


class StaleCacheWarning(UserWarning):
    """A cached column's votes differed from a fresh run on sampled rows; the column was recomputed."""

_WARNED: set[str] = set()


# --- the cache ---------------------------------------------------------------------------------

class LFCache:
    """A folder of LF vote columns, reused by :func:`~labeling.apply_lfs` across runs.

    Pass it as ``apply_lfs(df, lfs, cache=LFCache())`` (or ``cache="some/folder"``). Each LF's
    column is stored under the data's fingerprint and the LF's fingerprint
    (:func:`lf_fingerprint`): after editing one LF, only its column is computed again; a changed
    resource, preprocessor or data set misses the cache by construction. Delete the folder or call
    :meth:`clear` to start afresh. Writes are atomic, so concurrent runs may share a folder.

    Every column read from the cache is verified: on each run the LF is applied again to a random
    sample of rows (``verify`` of them, at least ``VERIFY_MIN_ROWS`` = 200) and its cached votes there are
    compared with the fresh ones. A column that differs on any sampled row is stale (the LF reads
    something its fingerprint does not cover), so it is recomputed in full, stored again and reported
    with a :class:`StaleCacheWarning` naming the LF and a row. The cost is that share of the LF's run
    time (1% by default) on each cached run.

    Parameters
    ----------
    location : str or path, optional
        Cache folder; default ``default_cache_dir("lf_votes")`` (``$VOTEWISE_CACHE/lf_votes`` or
        ``~/.cache/votewise/lf_votes``).
    verify : float
        Share of rows on which each cached column is checked (default ``VERIFY_SHARE`` = 0.01; at least
        ``VERIFY_MIN_ROWS`` rows, or all of them on smaller data). ``1.0`` recomputes every row (the
        cache then only saves storage of unchanged votes); ``0`` turns the check off.
    random_state : int, optional
        Seed of the sampled rows; by default each run draws other rows, so that over runs a stale
        column is found even when few of its votes changed.

    Attributes
    ----------
    hits_ : list of str
        Names of the LFs whose column the last run read from the cache (after verification).
    misses_ : list of str
        Names of the LFs the last run computed (stale columns included).
    stale_ : list of str
        Names of the LFs whose cached column differed from a fresh run on the sample, and was recomputed.
    verified_rows_ : int
        Rows in the last run's verification sample (0 without cached columns).
    uncached_ : dict of str to str
        LFs the last run could not cache, with the reason (also warned once per process).

    Notes
    -----
    What the cache cannot see: a change that alters no sampled row's vote. A fingerprint covers the
    LF's code, the globals and closure values it reads (modules attribute by attribute, containers
    two levels deep, helpers as deep as ``depth``), resources and preprocessors; an environment variable,
    a class attribute or a global reached through ``getattr``, an object's method, or a file or database
    read at call time is beyond it, and the sample catches such a change only where it changes votes
    on the sampled rows (a change affecting a share ``p`` of the rows escapes a sample of ``k`` rows
    with probability ``(1 - p) ** k``: 13% for 1% of the rows and 200 rows). The first cached run of a
    process says so in the log (logger ``labeling.core.cache``). What an LF reads at call time (a file, a database, the network) is invisible to its
    fingerprint. An LF that calls ``open``, ``read_csv``, ``read_text`` and the like is therefore
    recomputed on every run (with a warning saying so, once) unless it declares the files with
    ``@labeling_function(resources=[paths])`` (their content is fingerprinted) or its state with
    ``cache_key=`` (a value or a function of no arguments). A damaged cache file (a killed run, a
    full disk) is removed and recomputed with a warning naming it.

    Examples
    --------
    >>> import tempfile
    >>> from labeling import apply_lfs, labeling_function
    >>> cache = LFCache(tempfile.mkdtemp())
    >>> lf = labeling_function(name="lf_free")(lambda x: 1 if "free" in x.text else -1)
    >>> df = pd.DataFrame({"text": ["free stuff", "hello"]})
    >>> _ = apply_lfs(df, [lf], cache=cache, progress=False); cache.misses_
    ['lf_free']
    >>> _ = apply_lfs(df, [lf], cache=cache, progress=False); cache.hits_
    ['lf_free']
    """

    def __init__(
        self, location: str | os.PathLike | None = None, *, verify: float = VERIFY_SHARE, random_state: Any = None
    ) -> None:
        if isinstance(verify, bool) or not isinstance(verify, (int, float)) or not 0 <= verify <= 1:
            raise ValueError(f"verify={verify!r}; expected the share of rows to check, between 0 and 1.")
        self.location = Path(location).expanduser() if location is not None else default_cache_dir("lf_votes")
        self.verify = verify
        self.random_state = random_state
        self.hits_: list[str] = []
        self.misses_: list[str] = []
        self.stale_: list[str] = []
        self.verified_rows_ = 0
        self.uncached_: dict[str, str] = {}
        self._checked = False
        self._rng = np.random.default_rng(random_state)

    def __repr__(self) -> str:
        return f"LFCache({str(self.location)!r})"

    def clear(self) -> None:
        """Delete every cached column (the folder itself is kept)."""
        if not self.location.exists():
            return
        for path in sorted(self.location.glob("*/*.npz")) + sorted(self.location.glob("*/*.tmp")):
            path.unlink(missing_ok=True)
        for folder in self.location.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    @property
    def size_bytes(self) -> int:
        """Disk space taken by the cached columns."""
        return sum(p.stat().st_size for p in self.location.glob("*/*.npz")) if self.location.exists() else 0

    def _path(self, data_fp: str, lf_fp: str) -> Path:
        return self.location / data_fp / f"{lf_fp}.npz"

    def _load(
        self, path: Path, lf: LabelingFunction, data: pd.DataFrame, cardinality: int | None, fault_tolerant: bool
    ) -> tuple[np.ndarray, list[LFFailure]] | None:
        if not path.exists():
            return None
        try:
            check_npz(path, what="cache file")  # a damaged header must not make np.load allocate terabytes
            with np.load(path, allow_pickle=False) as z:
                votes, fail_pos, fail_err = z["votes"], z["fail_pos"], z["fail_err"]
            if votes.ndim != 1 or votes.dtype.kind not in "iu":
                raise ValueError(f"votes of shape {votes.shape} and dtype {votes.dtype}")
        except Exception as exc:  # truncated, corrupted (bad zip, bad CRC, EOF) or not ours
            self._damaged(path, exc, f"LF {lf.name!r}")
            return None
        if len(votes) != len(data) or (len(fail_pos) and not fault_tolerant):
            return None  # without fault tolerance the failure must be raised again: recompute
        if cardinality is not None and votes.size and votes.max() >= cardinality:
            return None  # let the apply raise the out-of-range error with its row
        failures = [LFFailure(lf.name, int(p), data.index[p], str(e)) for p, e in zip(fail_pos, fail_err)]
        return votes, failures

    @staticmethod
    def _damaged(path: Path, exc: BaseException, what: str) -> None:
        # A damaged entry is a miss, not a crash: say which file it was, remove it, recompute.
        warnings.warn(
            f"Cache file {path} ({what}) is damaged ({type(exc).__name__}: {str(exc)[:120]}); "
            "it is removed and recomputed.",
            stacklevel=4,
        )
        try:
            path.unlink()
        except OSError:
            pass

    def _store(self, path: Path, votes: np.ndarray, failures: list[LFFailure]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        small = votes.astype(np.int8) if votes.size and votes.max() < 127 else votes
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh, votes=small,
                    fail_pos=np.asarray([f.position for f in failures], dtype=np.int64),
                    fail_err=np.asarray([f.error for f in failures], dtype=str),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _groups(self, data: pd.DataFrame, data_fp: str) -> tuple[np.ndarray, np.ndarray] | None:
        # Which rows are duplicates depends on the data only: found once, reused by every later edit.
        path = self.location / data_fp / "rows.npz"
        n = len(data)
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as z:
                    kind = str(z["kind"])
                    if kind == "distinct":
                        return np.arange(n), np.arange(n)
                    if kind == "unhashable":
                        return None
                    codes, first = z["codes"].astype(np.intp), z["first"].astype(np.int64)
                if len(codes) != n or (len(codes) and (codes.max() >= len(first) or first.max() >= n)):
                    raise ValueError("row groups do not fit the data")
                return codes, first
            except Exception as exc:
                self._damaged(path, exc, "duplicate-row groups")
        found = distinct_rows(data)
        groups = None if found is None else found[:2]
        if groups is None:
            stored = {"kind": np.asarray("unhashable")}
        elif len(groups[1]) == n:
            stored = {"kind": np.asarray("distinct")}  # nothing to store but the fact
        else:
            stored = {"kind": np.asarray("groups"), "codes": groups[0].astype(np.int32 if n < 2**31 else np.int64),
                      "first": groups[1]}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **stored)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return groups

    def _verify(
        self, data: pd.DataFrame, lfs: Sequence[LabelingFunction], cols: list[int], out: np.ndarray,
        options: dict[str, Any],
    ) -> list[int]:
        """The columns among ``cols`` whose cached votes differ from a fresh run on a random sample of rows."""
        n = len(data)
        k = min(n, max(VERIFY_MIN_ROWS, math.ceil(self.verify * n)))
        sample = np.sort(self._rng.choice(n, size=k, replace=False)) if k < n else np.arange(n)
        self.verified_rows_ = int(k)
        if "labeling.core.cache" not in _WARNED:
            _WARNED.add("labeling.core.cache")
            logger.warning(
                "LFCache: reusing cached LF columns, each checked against a fresh run on %d sampled rows "
                "(verify=%g). A change the fingerprint cannot see (an environment variable, a file or database read "
                "by an LF, a class attribute) is caught only where it changes a sampled vote; clear() the cache "
                "after such a change.", k, self.verify,
            )
        part = data.iloc[sample]
        # Worker processes pay off only on a large sample.
        fresh_opts = {**options, "progress": False, "chunk_size": None, "groups": None, "offset": 0,
                      "n_jobs": options.get("n_jobs", 1) if k >= 50_000 else 1}
        stale: list[int] = []
        left = list(cols)
        while left:
            try:
                fresh, _ = compute_votes(part, [lfs[j] for j in left], **fresh_opts)
            except LFError as exc:
                # It fails now where its cached column holds a vote: stale; the full run raises the error again.
                bad = next((j for j in left if lfs[j].name == exc.lf), left[0])
                stale.append(bad)
                left.remove(bad)
                self._stale_warning(lfs[bad], f"it now raises on row {sample[exc.position or 0]} ({exc})")
                continue
            for c, j in enumerate(left):
                diff = np.flatnonzero(fresh[:, c] != out[sample, j])
                if len(diff):
                    i = int(sample[diff[0]])
                    stale.append(j)
                    self._stale_warning(
                        lfs[j], f"{len(diff)} of {k} sampled rows differ (row {i}, id {data.index[i]!r}: cached "
                        f"{int(out[i, j])}, now {int(fresh[diff[0], c])})",
                    )
            break
        return sorted(stale)

    @staticmethod
    def _stale_warning(lf: LabelingFunction, detail: str) -> None:
        warnings.warn(
            f"LFCache: the cached votes of LF {lf.name!r} are stale: {detail}. It reads something its fingerprint "
            "does not cover (an environment variable, a file, a class attribute, ...); its column is recomputed. "
            "Declare such state with cache_key= or resources= to have it fingerprinted.",
            StaleCacheWarning, stacklevel=5,
        )

    def votes(
        self, data: pd.DataFrame, lfs: Sequence[LabelingFunction], **options: Any
    ) -> tuple[np.ndarray, list[LFFailure]]:
        """Votes (int16, rows x LFs) and failures, from the cache where possible.

        Takes the options of :func:`~labeling.apply_lfs`; used by it when given ``cache=``.
        """
        data, lfs = validate_input(data, lfs, options.get("cardinality"))
        if not self._checked:
            # Before any LF runs: a cache folder that cannot be written would fail after the work.
            check_writable(self.location, what="cache folder", folder=True)
            self._checked = True
        cardinality = options.get("cardinality")
        fault_tolerant = options.get("fault_tolerant", False)
        data_fp = data_fingerprint(data)
        out = np.empty((len(data), len(lfs)), dtype=np.int16)
        failures: list[LFFailure] = []
        todo: list[int] = []
        paths: dict[int, Path] = {}
        self.hits_, self.misses_, self.uncached_, self.stale_, self.verified_rows_ = [], [], {}, [], 0
        for j, lf in enumerate(lfs):
            try:
                paths[j] = self._path(data_fp, lf_fingerprint(lf))
            except TypeError as exc:
                message = f"{exc} It is recomputed on every run."
                if message not in _WARNED:  # once per process: the reason does not change between runs
                    _WARNED.add(message)
                    warnings.warn(message, stacklevel=3)
                self.uncached_[lf.name] = str(exc)
                todo.append(j)
                continue
            hit = self._load(paths[j], lf, data, cardinality, fault_tolerant)
            if hit is None:
                todo.append(j)
            else:
                out[:, j] = hit[0]
                failures.extend(hit[1])
                self.hits_.append(lf.name)
        hit_cols = [j for j in range(len(lfs)) if j not in todo]
        if hit_cols and self.verify > 0:
            stale = self._verify(data, lfs, hit_cols, out, options)
            self.stale_ = [lfs[j].name for j in stale]
            for j in stale:
                self.hits_.remove(lfs[j].name)
                failures = [f for f in failures if f.lf != lfs[j].name]
            todo = sorted(todo + stale)
        if todo:
            if options.get("dedup", True) and worth_dedup(data, [lfs[j] for j in todo]):
                options = {**options, "groups": self._groups(data, data_fp)}
            votes, new_failures = compute_votes(data, [lfs[j] for j in todo], **options)
            for k, j in enumerate(todo):
                out[:, j] = votes[:, k]
                mine = [f for f in new_failures if f.lf == lfs[j].name]
                failures.extend(mine)
                self.misses_.append(lfs[j].name)
                if j in paths:
                    self._store(paths[j], votes[:, k], mine)
        order = {lf.name: j for j, lf in enumerate(lfs)}
        failures.sort(key=lambda f: (f.position, order[f.lf]))
        return out, failures


def as_cache(cache: Any) -> LFCache:
    """An :class:`LFCache` from ``apply_lfs``'s ``cache=`` argument."""
    if isinstance(cache, LFCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return LFCache(cache)
    raise TypeError(f"cache= takes an LFCache or a folder path; got {type(cache).__name__}.")
