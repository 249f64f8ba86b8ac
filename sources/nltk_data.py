"""Where votewise keeps nltk's data, and a clear error when a piece is missing.

nltk normally downloads its data at run time; votewise never does. ``python -m sources.install_data``
puts every resource the package uses into one folder; :func:`require`, which every function that reads
nltk data calls first, adds that folder to ``nltk.data.path`` then (importing votewise changes nothing),
so nothing needs configuring.

The folder is, in order of preference: ``$VOTEWISE_NLTK_DATA``; ``sources/_nltk_data`` inside the
installed package when it is writable; ``~/.local/share/votewise/nltk_data``.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

__all__ = [
    "INSTALL_COMMAND", "RESOURCES", "MissingResourceError", "data_dirs", "default_data_dir", "require", "wordnet",
    "lemmatize_word",
]

INSTALL_COMMAND = "python -m sources.install_data"

# Resource name -> the nltk path that proves it is installed.
RESOURCES: dict[str, str] = {
    "wordnet": "corpora/wordnet/lexnames",
    "punkt_tab": "tokenizers/punkt_tab/english/abbrev_types.txt",
    "vader_lexicon": "sentiment/vader_lexicon.zip",
}

_PACKAGE_DIR = Path(__file__).resolve().parent / "_nltk_data"
_USER_DIR = Path.home() / ".local" / "share" / "votewise" / "nltk_data"


class MissingResourceError(LookupError):
    """An nltk resource votewise needs is not installed; the message says how to install it."""


def data_dirs() -> list[Path]:
    """Folders searched for votewise's nltk data, most preferred first."""
    dirs = []
    env = os.environ.get("VOTEWISE_NLTK_DATA")
    if env:
        dirs.append(Path(env).expanduser())
    dirs += [_PACKAGE_DIR, _USER_DIR]
    return dirs


def default_data_dir() -> Path:
    """The folder the installer writes to: the first of :func:`data_dirs` that is writable."""
    for d in data_dirs():
        probe = d if d.exists() else d.parent
        while not probe.exists():
            probe = probe.parent
        if os.access(probe, os.W_OK):
            return d
    raise PermissionError(
        f"None of {[str(d) for d in data_dirs()]} is writable; set VOTEWISE_NLTK_DATA to a writable folder "
        f"and run `{INSTALL_COMMAND}`."
    )


def register_paths() -> None:
    """Append votewise's data folders to ``nltk.data.path`` (once each)."""
    import nltk

    for d in data_dirs():
        if str(d) not in nltk.data.path:
            nltk.data.path.append(str(d))


def require(resource: str) -> str:
    """Return the path of an installed resource or raise :class:`MissingResourceError`.

    Parameters
    ----------
    resource : str
        One of :data:`RESOURCES` (``"wordnet"``, ``"punkt_tab"``, ``"vader_lexicon"``).

    Examples
    --------
    >>> require("wordnet")  # doctest: +SKIP
    '/.../corpora/wordnet/lexnames'
    """
    import nltk

    if resource not in RESOURCES:
        raise ValueError(f"resource={resource!r} is not one of {sorted(RESOURCES)}.")
    register_paths()
    try:
        return str(nltk.data.find(RESOURCES[resource]))
    except LookupError:
        raise MissingResourceError(
            f"The nltk resource {resource!r} is not installed (looked for {RESOURCES[resource]!r} in "
            f"{[str(d) for d in data_dirs()]} and nltk's default folders). Install votewise's nltk data, "
            f"offline, with: {INSTALL_COMMAND}"
        ) from None


@lru_cache(maxsize=1)
def wordnet():
    """A WordNet reader for lemmas and synsets, loaded once.

    nltk's default reader also builds a sense-key map to "WordNet 3.0" from a second copy of the
    database, which triples its load time and is only used by the multilingual (OMW) functions;
    this reader skips that map.
    """
    path = require("wordnet")
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _WordNet(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _WordNet(str(Path(path).parent), None)


@lru_cache(maxsize=200_000)
def lemmatize_word(word: str, pos: str = "n") -> str:
    """The shortest WordNet lemma of ``word`` (``word`` itself when WordNet has none), as nltk's lemmatizer."""
    lemmas = wordnet()._morphy(word, pos)
    return min(lemmas, key=len) if lemmas else word
