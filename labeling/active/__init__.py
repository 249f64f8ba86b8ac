"""Active learning with human review: query strategies, the loop, the review store and review UIs."""

from .loop import ActiveLoop, RefitReport, lf_accuracy_estimates
from .store import Decision, ReviewStore, Sample
from .strategies import STRATEGIES, get_strategy, k_center_greedy, select

__all__ = [
    "ActiveLoop",
    "RefitReport",
    "lf_accuracy_estimates",
    "ReviewStore",
    "Sample",
    "Decision",
    "STRATEGIES",
    "get_strategy",
    "select",
    "k_center_greedy",
]
