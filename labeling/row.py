"""The row object a row labeling function receives."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["Row"]


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
