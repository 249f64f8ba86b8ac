"""Package attributes imported on first use (PEP 562), for packages whose parts are heavy to load.

``import models`` or ``import sources`` should not load scikit-learn, SciPy or an optional extra
before anything of them is used: ``votewise build`` checks a config in a fraction of a second, and a
module that needs only a constant does not pay for a whole package. Each lazy package names where
each public name lives; ``from models import LabelModel`` then imports ``models.label_model`` only.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public names live in its submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping of str to str
        Public name -> submodule it is defined in (relative, without the dot: ``{"LabelModel": "label_model"}``).

    Returns
    -------
    tuple of two functions
        Assign them to the package's ``__getattr__`` and ``__dir__``; set ``__all__ = list(where)``.

    Examples
    --------
    In a package's ``__init__.py``::

        _WHERE = {"read_csv": "files"}
        __all__ = list(_WHERE)
        __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
    """
    def __getattr__(name: str) -> Any:
        try:
            module = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f".{module}", package), name)
        # Later lookups find the name in the package itself and skip this function.
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | set(where))

    return __getattr__, __dir__
