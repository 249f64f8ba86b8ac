"""Hand-written LF sets for the generalisation suite, one module per shared WRENCH dataset.

Each module was written from the dataset's README alone, the way a new user writes LFs: keyword lists, regexes,
broad heuristics that fire on half the rows, majority-class defaults for short or plain rows, several
near-duplicate copies of one idea, a small knowledge base and at least one LF that is worse than chance. Each
module defines ``FOLDER`` (the dataset folder under the data root), ``METRIC`` (``"acc"`` or ``"f1"``) and
``LFS`` (a list of :class:`labeling.LabelingFunction`).
"""

from . import semeval, sms, trec, youtube

#: Dataset name -> LF-set module.
LF_SETS = {"youtube": youtube, "sms": sms, "trec": trec, "semeval": semeval}

__all__ = ["LF_SETS"]
