"""A MinHash LSH index over a whole dataset, built once and shared by near-dedup, split grouping and leakage.

Signatures are one-permutation MinHash (Li, Owen and Zhang 2012) with rotation densification (Shrivastava
and Li 2014), computed with numpy over all rows at once: every shingle is hashed once instead of once per
permutation, and a signature is ``num_perm`` 32-bit values (512 bytes for 128), so a million rows take
half a gigabyte. Candidate pairs come from banding the signatures (rows sharing a band key), found by
sorting the keys; each candidate is then confirmed by the exact Jaccard similarity of the two texts'
shingle sets, so a reported pair is always at least ``threshold`` similar.

Signatures are kept per row id with a hash of the text they were computed from: a later pass over the same
rows (splits, the leakage check) reuses them and computes only rows that are new (augmented variants) or
whose text changed (masked personal data).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Hashable, Sequence

import numpy as np
from ._progress import progress_bar
from .clean import normalize_text

__all__ = ["MinHashIndex", "shingles", "jaccard"]

logger = logging.getLogger("votewise.build")
_UNITS = ("char", "word")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
# Above this many rows per bucket (copies of one template), each member is only paired with the first
# _BUCKET_HEAD members: the pairs still connect the bucket, without n**2 candidates.
_BUCKET_CAP, _BUCKET_HEAD = 400, 40
# Candidates whose signature estimate is this far below the threshold are not confirmed (about 4 standard
# errors at 128 values, so a true pair is dropped with negligible probability).
_ESTIMATE_MARGIN = 0.2


def shingles(text: str, *, k: int = 5, unit: str = "char") -> frozenset[str]:
    """The set of ``k``-grams of a lower-cased text (characters or words).

    A text shorter than ``k`` units is one shingle, so it still matches its exact copies.

    Examples
    --------
    >>> sorted(shingles("a b c", k=2, unit="word"))
    ['a b', 'b c']
    """
    if unit not in _UNITS:
        raise ValueError(f"unit={unit!r} is not one of {_UNITS}.")
    if k < 1:
        raise ValueError(f"k={k} must be >= 1.")
    text = normalize_text(text, lowercase=True)
    if unit == "word":
        tokens = text.split()
        if len(tokens) <= k:
            return frozenset([" ".join(tokens)])
        return frozenset([" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)])
    if len(text) <= k:
        return frozenset([text])
    return frozenset([text[i : i + k] for i in range(len(text) - k + 1)])


def jaccard(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    both = len(a & b)
    return both / (len(a) + len(b) - both)  # the union's size, without building it


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the 64-bit word (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) whose S-curve midpoint ``(1/b)**(1/r)`` is closest to ``threshold``."""
    best, choice = np.inf, (num_perm, 1)
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if b < 2 and num_perm >= 2:
            break
        mid = (1.0 / b) ** (1.0 / r)
        # Prefer a midpoint at or below the threshold: a missed pair is worse than an extra check.
        err = abs(mid - threshold) + (0.02 if mid > threshold else 0.0)
        if err < best:
            best, choice = err, (b, r)
    return choice


def _contains(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Whether each of ``codes`` is in the sorted array ``sorted_codes``."""
    at = np.searchsorted(sorted_codes, codes)
    return sorted_codes[np.minimum(at, len(sorted_codes) - 1)] == codes


# Candidate pairs confirmed at a time by the exact check (a few hundred megabytes of shingle numbers at most).
_CONFIRM_CHUNK = 10_000
# Pairs estimated at a time (a few tens of megabytes of gathered signatures).
_PAIR_CHUNK = 100_000
_NIBBLE_LOW = np.uint64(0x1111111111111111)
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _nibbles(sig: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, int]:
    """The low 4 bits of every signature value, 16 to a 64-bit word: ``(m, ceil(P / 16))`` words, and the padding.

    Two rows' words compare a whole signature in a few operations and an eighth of the memory; values
    equal in full are equal in their low bits, so the equal nibbles are an upper bound of the equal values.
    """
    m = len(sig) if rows is None else len(rows)
    P = sig.shape[1]
    width = -(-P // 16) * 16
    out = np.zeros((m, width // 2), dtype=np.uint8)
    for lo in range(0, m, 65_536):
        block = sig[lo:lo + 65_536] if rows is None else sig[rows[lo:lo + 65_536]]
        low = np.zeros((len(block), width), dtype=np.uint8)
        low[:, :P] = block & 0xF
        out[lo:lo + len(block)] = low[:, 0::2] | (low[:, 1::2] << 4)
    return out.view(np.uint64), width - P


def _equal_nibbles(nib: np.ndarray, a: np.ndarray, c: np.ndarray, pad: int) -> np.ndarray:
    """Per pair, how many signature values agree in their low 4 bits (padding nibbles not counted)."""
    x = nib[a] ^ nib[c]
    x |= x >> np.uint64(1)
    x |= x >> np.uint64(2)
    x &= _NIBBLE_LOW  # bit 0 of each nibble: set where the two nibbles differ
    if hasattr(np, "bitwise_count"):
        differ = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
    else:  # numpy < 2
        differ = _POPCOUNT8[x.view(np.uint8)].sum(axis=1, dtype=np.int64)
    return nib.shape[1] * 16 - pad - differ


def _bucket_pairs(key: np.ndarray, m: int, groups: np.ndarray | None) -> np.ndarray:
    """Pair codes ``i * m + j`` (``i < j``, possibly repeated) of the rows sharing a band key.

    Buckets are handled by size, all buckets of one size at once, so a band costs a few numpy calls
    however many buckets it has.
    """
    order = np.argsort(key, kind="stable")
    sk = key[order]
    edges = np.flatnonzero(np.diff(sk) != 0) + 1
    starts = np.concatenate([[0], edges])
    sizes = np.diff(np.concatenate([starts, [m]]))
    out = []
    for size in np.unique(sizes[sizes >= 2]):
        sel = starts[sizes == size]
        if size > _BUCKET_CAP:
            for s in sel:
                members = np.sort(order[s:s + size])
                head = members[:_BUCKET_HEAD]
                a, c = np.repeat(head, len(members)), np.tile(members, len(head))
                keep = a < c
                if groups is not None:
                    keep &= groups[a] != groups[c]
                out.append(a[keep] * m + c[keep])
            continue
        iu, ju = np.triu_indices(int(size), 1)
        # Chunks of buckets keep the pairs of one size bounded (a few million at a time).
        step = max(1, 2_000_000 // len(iu))
        for lo in range(0, len(sel), step):
            members = np.sort(order[sel[lo:lo + step, None] + np.arange(size)], axis=1)
            a, c = members[:, iu].ravel(), members[:, ju].ravel()
            if groups is not None:
                keep = groups[a] != groups[c]
                a, c = a[keep], c[keep]
            out.append(a * m + c)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class MinHashIndex:
    """MinHash signatures of texts by row id, and the near-duplicate pairs among any subset of them.

    Parameters
    ----------
    num_perm : int
        Signature length: more finds pairs near the threshold more reliably and costs memory.
    k, unit
        Shingles: ``k``-grams of characters (default) or words, as :func:`labeling.dataset.shingles`.
    random_state : int
        Seed of the hash functions.
    progress : bool
        Progress bars for signing and confirming (useful from about 100,000 rows).

    Examples
    --------
    >>> index = MinHashIndex()
    >>> texts = ["check out my channel", "check out my channel!", "nice song"]
    >>> [(i, j, round(s, 2)) for i, j, s in index.pairs(["a", "b", "c"], texts, threshold=0.7)]
    [(0, 1, 0.94)]
    """

    def __init__(self, *, num_perm: int = 128, k: int = 5, unit: str = "char", random_state: int = 0,
                 progress: bool = False) -> None:
        if unit not in _UNITS:
            raise ValueError(f"unit={unit!r} is not one of {_UNITS}.")
        if k < 1:
            raise ValueError(f"k={k} must be >= 1.")
        if num_perm < 16:
            raise ValueError(f"num_perm={num_perm} is too small for MinHash LSH; use 16 or more.")
        self.num_perm, self.k, self.unit, self.progress = int(num_perm), int(k), unit, progress
        rng = np.random.default_rng(random_state)
        self._seed = rng.integers(1, 2**63, dtype=np.uint64) | np.uint64(1)
        self._rot = rng.integers(1, 2**31, dtype=np.uint64)
        self._band_mult = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self._row: dict[Hashable, int] = {}
        self._key: list[int] = []  # hash of the text each stored signature was computed from
        self._sig: np.ndarray = np.zeros((0, num_perm), dtype=np.uint32)

    # ------------------------------------------------------------------ signatures
    def _shingle_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """64-bit hashes of every shingle, and the text each belongs to (normalised, lower-cased texts)."""
        norm = [normalize_text(str(t), lowercase=True) for t in texts]
        if self.unit == "word":
            import xxhash

            hashes, owner = [], []
            for i, t in enumerate(norm):
                toks = t.split()
                grams = [" ".join(toks)] if len(toks) <= self.k else [
                    " ".join(toks[j:j + self.k]) for j in range(len(toks) - self.k + 1)]
                hashes += [xxhash.xxh64_intdigest(g.encode("utf-8")) for g in grams]
                owner += [i] * len(grams)
            return np.array(hashes, dtype=np.uint64), np.array(owner, dtype=np.int64)
        k = self.k
        lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
        codes = np.frombuffer("".join(norm).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(norm) else np.zeros(0, np.int64)
        # Polynomial hash of each window of k code points, then mixed; windows crossing a text end are dropped.
        n = len(codes)
        h = np.zeros(max(n - k + 1, 0), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(k):
                h = h * np.uint64(0x100000001B3) + codes[j:n - k + 1 + j]
        counts = np.maximum(lengths - k + 1, 0)
        owner = np.repeat(np.arange(len(norm)), counts)
        pos = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        hashes = h[pos] if len(pos) else np.zeros(0, np.uint64)
        # A text shorter than k is one shingle (itself), so it still matches its exact copies.
        short = np.flatnonzero((lengths < k) & (lengths > 0))
        if len(short):
            extra = np.zeros(len(short), dtype=np.uint64)
            with np.errstate(over="ignore"):
                for i, row in enumerate(short):
                    v = np.uint64(0)
                    for c in codes[starts[row]:starts[row] + lengths[row]]:
                        v = v * np.uint64(0x100000001B3) + c
                    extra[i] = v ^ np.uint64(len(norm[row]))
            hashes = np.concatenate([hashes, extra])
            owner = np.concatenate([owner, short])
        return hashes, owner

    def _sign(self, texts: Sequence[str]) -> np.ndarray:
        m = len(texts)
        P = self.num_perm
        hashes, owner = self._shingle_hashes(texts)
        with np.errstate(over="ignore"):
            h = _mix64(hashes ^ self._seed)
        bins = (h % np.uint64(P)).astype(np.int64)
        vals = (h >> np.uint64(32)).astype(np.uint32)
        sig = np.full(m * P, _EMPTY, dtype=np.uint32)
        np.minimum.at(sig, owner * P + bins, vals)
        sig = sig.reshape(m, P)
        empty = sig == _EMPTY
        has_any = ~empty.all(axis=1)
        if empty[has_any].any():
            # Rotation densification: an empty bin borrows the next non-empty bin to its right (circularly),
            # shifted by the distance, so two texts agree on it with the probability of a real bin.
            idx = np.where(~empty, np.arange(P), 2 * P)
            both = np.concatenate([idx, idx + P], axis=1)
            nxt = np.minimum.accumulate(both[:, ::-1], axis=1)[:, ::-1][:, :P]
            dist = (nxt - np.arange(P)).astype(np.uint64)
            src = np.take_along_axis(sig, nxt % P, axis=1).astype(np.uint64)
            with np.errstate(over="ignore"):
                filled = ((src + dist * self._rot) & np.uint64(0xFFFFFFFE)).astype(np.uint32)
            sig = np.where(empty & has_any[:, None], filled, sig)
        return sig

    def add(self, ids: Sequence[Hashable], texts: Sequence[str], *, chunk: int = 20_000) -> None:
        """Compute and keep the signatures of rows that are new or whose text changed."""
        import xxhash

        keys = [xxhash.xxh64_intdigest(str(t).encode("utf-8")) for t in texts]
        todo = [i for i, (rid, key) in enumerate(zip(ids, keys))
                if rid not in self._row or self._key[self._row[rid]] != key]
        if not todo:
            return
        # Room for the new rows is made once: growing by blocks and joining them would hold every
        # signature twice for a moment (a gigabyte at a million rows).
        fresh = {ids[i] for i in todo if ids[i] not in self._row}
        if fresh:
            grown = np.empty((len(self._sig) + len(fresh), self.num_perm), dtype=np.uint32)
            grown[:len(self._sig)] = self._sig
            self._sig = grown
        bar = progress_bar(total=len(todo), desc="minhash", enabled=self.progress, min_total=50_000)
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            sig = self._sign([texts[i] for i in part])
            for j, i in enumerate(part):
                rid = ids[i]
                row = self._row.get(rid)
                if row is None:
                    row = self._row[rid] = len(self._key)
                    self._key.append(keys[i])
                else:  # changed text: overwrite in place
                    self._key[row] = keys[i]
                self._sig[row] = sig[j]
            bar.update(len(part))
        bar.close()

    def _positions(self, ids: Sequence[Hashable]) -> np.ndarray:
        return np.fromiter((self._row[r] for r in ids), dtype=np.int64, count=len(ids))

    def signatures(self, ids: Sequence[Hashable], texts: Sequence[str]) -> np.ndarray:
        """The ``(len(ids), num_perm)`` uint32 signatures of these rows (computed where missing or stale)."""
        self.add(ids, texts)
        return self._sig[self._positions(ids)]

    # ------------------------------------------------------------------ pairs
    def candidates(self, sig: np.ndarray, threshold: float, groups: np.ndarray | None = None,
                   min_estimate: float | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """Candidate pairs ``(i, j)``, ``i < j``, sharing a band; only across groups when ``groups`` is given.

        With ``min_estimate``, each band's new pairs whose share of equal signature values is below it are
        dropped at once, so memory holds only plausible pairs, not every random band collision, and a pair
        found again by a later band is not estimated again.

        ``rows`` (optional) says which rows of ``sig`` the positions refer to, so the caller need not copy
        the signatures of a subset (half a gigabyte at a million rows).
        """
        m = len(sig) if rows is None else len(rows)
        if m < 2:
            return np.zeros((0, 2), dtype=np.int64)
        b, r = _bands(threshold, self.num_perm)
        at = (lambda pos: sig[pos]) if rows is None else (lambda pos: sig[rows[pos]])
        found: list[np.ndarray] = []
        kept = np.zeros(0, dtype=np.int64)  # sorted pair codes i * m + j that passed the estimate
        P = sig.shape[1]
        if min_estimate is not None:
            nib, pad = _nibbles(sig, rows)
        for band in range(b):
            cols = (sig[:, band * r:(band + 1) * r] if rows is None else sig[rows, band * r:(band + 1) * r])
            with np.errstate(over="ignore"):
                key = _mix64((cols.astype(np.uint64) * self._band_mult[band * r:(band + 1) * r])
                             .sum(axis=1, dtype=np.uint64) + np.uint64(band))
            del cols
            codes = _bucket_pairs(key, m, groups)
            if min_estimate is None:
                found.append(codes)
                continue
            # A band's pairs are distinct already (a pair shares at most one bucket per band); pairs kept
            # by an earlier band are not estimated again.
            if len(kept) and len(codes):
                codes = codes[~_contains(kept, codes)]
            passed = []
            for lo in range(0, len(codes), _PAIR_CHUNK):
                part = codes[lo:lo + _PAIR_CHUNK]
                # Equal low nibbles count at least every equal value: pairs failing on them fail the estimate.
                part = part[_equal_nibbles(nib, part // m, part % m, pad) / P >= min_estimate]
                passed.append(part[(at(part // m) == at(part % m)).mean(axis=1) >= min_estimate])
            if passed:
                kept = np.union1d(kept, np.concatenate(passed))
        flat = kept if min_estimate is not None else (np.unique(np.concatenate(found)) if found else kept)
        return np.stack([flat // m, flat % m], axis=1)

    def _exact_chars(self, texts: Sequence[str], pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact Jaccard similarity of character shingle sets for many pairs at once, with numpy.

        Each row's text is normalised as :func:`shingles` does; within this batch every distinct character
        gets a small number, so a ``k``-character shingle is one 64-bit integer, exactly (no hashing: two
        shingles have the same number only when they are the same string). Per-row sets are then sorted
        unique numbers and a pair's intersection is counted by sorting the two sets together. Values equal
        :func:`jaccard` on :func:`shingles` (the same integer counts, divided the same way).

        Returns
        -------
        (ndarray, ndarray)
            Similarity per pair, and a mask of pairs left to the caller's per-pair check: a text no longer
            than ``k`` (its one shingle is the text) or a batch with too many distinct characters to number.
        """
        k = self.k
        rows, local = np.unique(pairs, return_inverse=True)
        local = local.reshape(pairs.shape)
        norm = [normalize_text(str(texts[r]), lowercase=True) for r in rows.tolist()]
        lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
        short = lengths <= k
        slow = short[local].any(axis=1)
        sims = np.zeros(len(pairs))
        chars = np.frombuffer("".join(norm).encode("utf-32-le"), dtype=np.uint32)
        # Characters numbered by a table over all code points (sorting millions of them costs more).
        seen = np.zeros(0x110000, dtype=bool)
        seen[chars] = True
        bits = 64 // k
        if int(seen.sum()) > 2 ** bits:
            return sims, np.ones(len(pairs), dtype=bool)
        cid = (np.cumsum(seen, dtype=np.int64) - 1).astype(np.uint64)[chars]
        del seen
        # Every window of k characters inside one text, as one integer.
        counts = np.where(short, 0, lengths - k + 1)
        starts = np.cumsum(lengths) - lengths
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(norm)), counts)
        pos = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        code = np.zeros(total, dtype=np.uint64)
        for t in range(k):
            code = (code << np.uint64(bits)) | cid[pos + t]
        del pos
        # Dense shingle numbers, then each row's set: sorted unique (row, shingle). Sorting by hand: numpy's
        # hash-based unique is several times slower on these arrays.
        order = np.argsort(code)
        ranked = code[order]
        sid = np.empty(total, dtype=np.int64)
        sid[order] = np.cumsum(np.concatenate([[0], ranked[1:] != ranked[:-1]]))
        del code, order, ranked
        member = np.sort((owner.astype(np.int64) << 32) | sid)
        member = member[np.concatenate([[True], member[1:] != member[:-1]])]
        del owner, sid
        set_row = member >> 32
        size = np.bincount(set_row, minlength=len(norm))
        begin = np.cumsum(size) - size
        shingle = member & 0xFFFFFFFF

        def elements(side: np.ndarray) -> np.ndarray:
            """(pair << 32) | shingle for every shingle of each pair's row on this side."""
            n = size[side]
            at = np.repeat(begin[side], n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
            return (np.repeat(np.arange(len(side), dtype=np.int64), n) << 32) | shingle[at]

        fast = np.flatnonzero(~slow)
        both = np.sort(np.concatenate([elements(local[fast, 0]), elements(local[fast, 1])]))
        dup = both[1:][both[1:] == both[:-1]] >> 32
        inter = np.bincount(dup, minlength=len(fast))
        sa, sb = size[local[fast, 0]], size[local[fast, 1]]
        sims[fast] = inter / (sa + sb - inter)
        return sims, slow

    def pairs(self, ids: Sequence[Hashable], texts: Sequence[str], *, threshold: float,
              groups: Any = None) -> list[tuple[int, int, float]]:
        """Positions ``(i, j, similarity)``, ``i < j``, of rows whose Jaccard similarity is >= ``threshold``.

        Parameters
        ----------
        ids, texts : sequences
            Row ids (signatures are cached by id) and their texts.
        threshold : float
            Minimum Jaccard similarity of the shingle sets.
        groups : array-like, optional
            One label per row; only pairs whose rows have different labels are returned (e.g. splits,
            for the leakage check), which saves confirming the others.
        """
        started = time.perf_counter()
        self.add(ids, texts)
        signed = time.perf_counter()
        # Index a little below the threshold: cheap exact checks buy recall near it.
        # Random band collisions between unrelated texts grow with the square of the rows; the share of
        # equal signature entries estimates Jaccard (standard error about 0.04 at 128 values), so pairs
        # estimated far below the threshold are dropped, band by band, before the exact, costlier check.
        cand = self.candidates(self._sig, max(0.05, threshold - 0.1), None if groups is None else np.asarray(groups),
                               min_estimate=threshold - _ESTIMATE_MARGIN, rows=self._positions(ids))
        found = time.perf_counter()
        out: list[tuple[int, int, float]] = []
        bar = progress_bar(total=len(cand), desc="near-duplicates", unit="pair", enabled=self.progress,
                           min_total=200_000)
        for lo in range(0, len(cand), _CONFIRM_CHUNK):
            part = cand[lo:lo + _CONFIRM_CHUNK]
            sims, slow = (self._exact_chars(texts, part) if self.unit == "char"
                          else (np.zeros(len(part)), np.ones(len(part), dtype=bool)))
            ok = ~slow & (sims >= threshold)
            out += zip(part[ok, 0].tolist(), part[ok, 1].tolist(), sims[ok].tolist())
            out += [(i, j, sim) for i, j in part[slow].tolist()
                    if (sim := jaccard(shingles(str(texts[i]), k=self.k, unit=self.unit),
                                       shingles(str(texts[j]), k=self.k, unit=self.unit))) >= threshold]
            bar.update(len(part))
        bar.close()
        out.sort()
        logger.debug("minhash: %d rows (signing %.1f s), %d candidate pairs (%.1f s), %d at Jaccard >= %s (%.1f s)",
                     len(ids), signed - started, len(cand), found - signed, len(out), threshold,
                     time.perf_counter() - found)
        return out
