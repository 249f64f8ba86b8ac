"""Where votewise keeps what it caches on disk: one root, one folder per kind of cache."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "default_cache_dir"]

CACHE_ENV = "VOTEWISE_CACHE"


def default_cache_dir(kind: str) -> Path:
    """The folder for one kind of cache (``"lf_votes"``, ``"embeddings"``, ``"llm"``...).

    ``$VOTEWISE_CACHE/<kind>`` when that variable is set, else ``$XDG_CACHE_HOME/votewise/<kind>``, else
    ``~/.cache/votewise/<kind>``. Every cache reads the variable the same way, so pointing it elsewhere moves
    all of them together.

    Parameters
    ----------
    kind : str
        The cache's folder name.

    Returns
    -------
    Path
        The folder (not created).

    Examples
    --------
    >>> import os
    >>> os.environ["VOTEWISE_CACHE"] = "/tmp/vw"
    >>> str(default_cache_dir("lf_votes"))
    '/tmp/vw/lf_votes'
    >>> del os.environ["VOTEWISE_CACHE"]
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / kind
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "votewise" / kind
