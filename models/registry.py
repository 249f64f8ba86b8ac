"""Short names for label models, used by the CLI (``--model mv``) and benchmarks."""

from __future__ import annotations

from typing import Callable

from .base import BaseLabelModel
from .dawid_skene import DawidSkene
from .hyperlm_model import HyperLabelModel
from .label_model import LabelModel
from .majority import MajorityVote
from .snorkel_model import SnorkelLabelModel
from .weighted import WeightedMajorityVote

__all__ = ["MODEL_REGISTRY", "make_model", "register_model"]

MODEL_REGISTRY: dict[str, Callable[..., BaseLabelModel]] = {
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "ds": DawidSkene,
    "snorkel": SnorkelLabelModel,
    "hyperlm": HyperLabelModel,  # needs the optional hyperlm extra; imported only when fitted
    "default": LabelModel,
}


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
