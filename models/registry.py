"""Short names for label models, used by the CLI (``--model mv``), ``votewise build`` and benchmarks."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .base import BaseLabelModel

__all__ = ["MODEL_REGISTRY", "ModelRegistry", "make_model", "register_model"]


class ModelRegistry(MutableMapping):
    """Name -> label-model factory; the built-in models are imported when first looked up.

    Checking a name (``"mv" in MODEL_REGISTRY``, ``sorted(MODEL_REGISTRY)``) imports no model, so a
    pipeline config is checked without loading scikit-learn.
    """

    def __init__(self, builtin: dict[str, str]) -> None:
        self._where = dict(builtin)  # name -> "module:Class" of a built-in not looked up yet
        self._factories: dict[str, Callable[..., BaseLabelModel]] = {}
        self._order = list(builtin)

    def __getitem__(self, name: str) -> Callable[..., BaseLabelModel]:
        if name not in self._factories:
            if name not in self._where:
                raise KeyError(name)
            module, cls = self._where.pop(name).split(":")
            self._factories[name] = getattr(importlib.import_module(module), cls)
        return self._factories[name]

    def __setitem__(self, name: str, factory: Callable[..., BaseLabelModel]) -> None:
        self._where.pop(name, None)
        self._factories[name] = factory
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._where.pop(name, None)
        self._factories.pop(name, None)
        self._order.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._factories or name in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"ModelRegistry({self._order})"

    def parameter_names(self, name: str) -> list[str] | None:
        """The keyword parameters a model's constructor takes; None when it takes any (``**kwargs``).

        For a built-in model not imported yet they are read from its source, so that checking a
        pipeline config's ``label_model.params`` does not import scikit-learn.
        """
        where = self._where.get(name)
        if where is not None:
            names = _init_parameters_in_source(*where.split(":"))
            if names is not None:
                return names
        try:
            parameters = inspect.signature(self[name]).parameters
        except (TypeError, ValueError):
            return None
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return None
        return [p for p in parameters if p != "self"]


def _init_parameters_in_source(module: str, cls: str, depth: int = 0) -> list[str] | None:
    """``cls.__init__``'s parameter names from the module's source, following a base class imported
    relatively when ``cls`` defines no ``__init__``; None when the source does not say plainly."""
    spec = importlib.util.find_spec(module)
    if depth > 3 or spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
    if node is None:
        return None
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is not None:
        if init.args.vararg is not None or init.args.kwarg is not None:
            return None
        return [a.arg for a in (*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs) if a.arg != "self"]
    if len(node.bases) != 1 or not isinstance(node.bases[0], ast.Name):
        return None
    base = node.bases[0].id
    for imp in tree.body:
        if isinstance(imp, ast.ImportFrom) and imp.level == 1 and any(a.name == base and a.asname is None
                                                                       for a in imp.names):
            package = module.rsplit(".", 1)[0]
            return _init_parameters_in_source(f"{package}.{imp.module}", base, depth + 1)
    return None


MODEL_REGISTRY = ModelRegistry({
    "mv": "models.majority:MajorityVote",
    "wmv": "models.weighted:WeightedMajorityVote",
    "ds": "models.dawid_skene:DawidSkene",
    "snorkel": "models.snorkel_model:SnorkelLabelModel",
    "hyperlm": "models.hyperlm_model:HyperLabelModel",  # needs the optional hyperlm extra; imported only when fitted
    "default": "models.label_model:LabelModel",
})


def register_model(name: str, factory: Callable[..., BaseLabelModel]) -> None:
    """Make a label model available by a short name."""
    MODEL_REGISTRY[name] = factory


def make_model(name: str, **params: object) -> BaseLabelModel:
    """Build a label model from its short name, e.g. ``make_model("mv", cardinality=2)``."""
    try:
        factory = MODEL_REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; known models: {sorted(MODEL_REGISTRY)}.") from None
    return factory(**params)
