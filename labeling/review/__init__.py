"""The human loop: query strategies, the active-learning loop, the review store and review UIs.

``ReviewWidget`` needs the ``notebook`` extra (ipywidgets); it is imported on first use.
"""

from .agreement import agreement_report, cohen_kappa
from .guidelines import ClassGuideline, Guidelines
from .loop import ActiveLoop, RefitReport, lf_accuracy_estimates
from .exchange import label_studio_config
from .store import KINDS, Decision, LeaseError, ReviewStore, Sample
from .strategies import REPRESENTATIVE_STRATEGIES, STRATEGIES, get_strategy, k_center_greedy, select, typical_batch
from .suggest import suggest_lfs, suggestion_to_lf
from .terminal import format_sample, review_terminal

__all__ = [
    "ActiveLoop",
    "RefitReport",
    "lf_accuracy_estimates",
    "ReviewStore",
    "Sample",
    "Decision",
    "KINDS",
    "LeaseError",
    "label_studio_config",
    "STRATEGIES",
    "get_strategy",
    "select",
    "k_center_greedy",
    "typical_batch",
    "REPRESENTATIVE_STRATEGIES",
    "Guidelines",
    "ClassGuideline",
    "cohen_kappa",
    "agreement_report",
    "suggest_lfs",
    "suggestion_to_lf",
    "review_terminal",
    "format_sample",
    "ReviewWidget",
]


def __getattr__(name: str):
    # ipywidgets is optional: load the widget module only when it is asked for.
    if name == "ReviewWidget":
        from .widget import ReviewWidget

        return ReviewWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
