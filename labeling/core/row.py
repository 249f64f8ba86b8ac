"""The row object a row labeling function receives."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["Row", "ReadOnlyRow", "RowWriteError"]


class Row(dict):
    """A row of data with both attribute (``x.text``) and key (``x["text"]``) access.

    Cheaper to build than a ``pandas.Series`` and writable, so preprocessors can
    add fields (``x.tokens = ...``) on their own copy.
    """

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(
                f"Row has no field {key!r}; its fields are {sorted(map(str, self))}."
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        del self[key]

    def copy(self) -> "Row":
        return Row(self)

    def cache_key(self) -> Any:
        """A hashable key of the row's values, for memoising preprocessors."""
        try:
            key = tuple(self.items())
            hash(key)
            return key
        except TypeError:
            return repr(sorted(self.items(), key=lambda kv: str(kv[0])))

    @classmethod
    def from_series(cls, s: pd.Series) -> "Row":
        return cls(s.to_dict())


class RowWriteError(TypeError):
    """A labeling function tried to change the row (or chunk) it was given."""


def _refuse(self: "ReadOnlyRow", *args: Any, **kwargs: Any) -> None:
    field = f" (field {args[0]!r})" if args and isinstance(args[0], str) else ""
    raise RowWriteError(
        f"the row is read-only{field}: every LF sees the same row, so a change would alter the votes of the "
        "LFs after it. Work on a copy (y = x.copy()) or add fields in a @preprocessor()."
    )


class ReadOnlyRow(Row):
    """The :class:`Row` a labeling function receives: reads as a Row, refuses every change.

    One row object is shared by all row LFs of a chunk (building it is the main cost of a row LF);
    refusing writes keeps an LF from changing what the LFs after it see. ``copy()`` returns a
    writable :class:`Row`, which is what preprocessors receive.
    """

    __slots__ = ()

    __setitem__ = __delitem__ = __setattr__ = __delattr__ = _refuse
    update = pop = popitem = clear = setdefault = __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        # dict pickling refills the dict item by item (through __setitem__): build it whole instead.
        return (ReadOnlyRow, (dict(self),))
