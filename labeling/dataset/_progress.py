"""Progress bars of the dataset steps: on stderr, only where someone can see them."""

from __future__ import annotations

import sys
from typing import Any, Iterable

from tqdm.auto import tqdm

__all__ = ["progress_bar", "bars_shown"]


def _visible() -> bool:
    """True when stderr is a terminal or a notebook shows the bars (``tqdm.auto`` picked its widget).

    A bar redrawn into a log file or a CI capture is noise, so it is only drawn where it can be watched.
    """
    from tqdm import autonotebook, std

    if autonotebook.tqdm is not std.tqdm:  # running in a notebook kernel
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def bars_shown(enabled: bool) -> bool:
    """Whether bars asked for with ``enabled`` would be seen; for steps that draw their own tqdm bars."""
    return bool(enabled) and _visible()


def progress_bar(iterable: Iterable | None = None, *, enabled: bool, desc: str, total: int | None = None,
                 unit: str = "row", min_total: int = 0, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, disabled unless ``enabled``, visible (terminal or notebook) and ``total >= min_total``.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over; ``None`` for a bar advanced with ``update``.
    enabled : bool
        The caller's switch (``progress=False`` or ``votewise build --quiet`` turn every bar off).
    desc, unit : str
        Label and unit shown.
    total : int, optional
        Number of steps (default: ``len(iterable)`` when it has one).
    min_total : int
        Fewer steps than this draw no bar: such a step ends before a bar would tell anything.
    """
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    disable = not enabled or (total is not None and total < min_total) or not _visible()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, mininterval=1.0, file=sys.stderr,
                **kwargs)
