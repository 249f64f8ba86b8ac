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
        # name -> factory, or the "module:Class" of a built-in not looked up yet (a factory is never a str)
        self._entries: dict[str, Callable[..., BaseLabelModel] | str] = dict(builtin)

    def __getitem__(self, name: str) -> Callable[..., BaseLabelModel]:
        entry = self._entries[name]
        if isinstance(entry, str):
            module, cls = entry.split(":")
            entry = self._entries[name] = getattr(importlib.import_module(module), cls)
        return entry

    def __setitem__(self, name: str, factory: Callable[..., BaseLabelModel]) -> None:
        self._entries[name] = factory

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"ModelRegistry({list(self._entries)})"

    def parameter_names(self, name: str) -> list[str] | None:
        """The keyword parameters a model's constructor takes; None when it takes any (``**kwargs``).

        For a built-in model not imported yet they are read from its source, so that checking a
        pipeline config's ``label_model.params`` does not import scikit-learn.
        """
        where = self._entries.get(name)
        if isinstance(where, str):
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
