"""Hand-written LF sets for the generalisation suite, two per shared WRENCH dataset.

Each module was written from the dataset's README, the way a new user writes LFs: keyword lists, regexes, broad
heuristics that fire on half the rows, majority-class defaults for short or plain rows, several near-duplicate
copies of one idea, a small knowledge base and at least one LF that is worse than chance. The ``_b`` modules were
written independently of the first ones, from the README and a few train rows, with other ideas and a
classifier-like score as well, so that a model choice made on one set can be checked on another. Each module
defines ``FOLDER`` (the dataset folder under the data root), ``METRIC`` (``"acc"`` or ``"f1"``) and ``LFS`` (a list
of :class:`labeling.LabelingFunction`).
"""

from . import semeval, semeval_b, sms, sms_b, trec, trec_b, youtube, youtube_b

#: Dataset name -> {set label -> LF-set module}.
HAND_SETS = {
    "youtube": {"hand": youtube, "hand2": youtube_b},
    "sms": {"hand": sms, "hand2": sms_b},
    "trec": {"hand": trec, "hand2": trec_b},
    "semeval": {"hand": semeval, "hand2": semeval_b},
}

#: Dataset name -> its first LF-set module (folder and metric of the dataset).
LF_SETS = {name: sets["hand"] for name, sets in HAND_SETS.items()}

__all__ = ["HAND_SETS", "LF_SETS"]
