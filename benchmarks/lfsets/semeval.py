"""SemEval-2010 relations between two marked entities, LFs written from the README on the words between them.

Classes: 0 Cause-Effect, 1 Component-Whole, 2 Content-Container, 3 Entity-Destination, 4 Entity-Origin,
5 Instrument-Agency, 6 Member-Collection, 7 Message-Topic, 8 Product-Producer.
"""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "semeval"
METRIC = "acc"
CAUSE, COMPONENT, CONTENT, DESTINATION, ORIGIN, INSTRUMENT, MEMBER, MESSAGE, PRODUCT = range(9)
ABSTAIN = -1

# A small knowledge base of collective nouns.
_COLLECTIVES = {"group", "team", "flock", "herd", "collection", "crowd", "army", "fleet", "family", "band",
                "committee", "audience", "pack", "swarm", "troop", "class", "choir", "crew", "staff", "gang",
                "orchestra", "council", "jury", "club", "set", "series", "pile", "bunch", "school", "colony"}


def _between(x) -> str:
    (a0, a1), (b0, b1) = x.span1, x.span2
    lo, hi = (a1, b0) if a0 < b0 else (b1, a0)
    return " " + x.text[lo:hi].lower().strip() + " "


def _entities(x) -> set[str]:
    return {x.entity1.lower(), x.entity2.lower()}


@labeling_function()
def kw_caused(x):
    return CAUSE if re.search(r"caused|causes|cause", _between(x)) else ABSTAIN


@labeling_function()
def kw_caused_by(x):
    return CAUSE if re.search(r"caused by|cause[sd]? ", _between(x)) else ABSTAIN


@labeling_function()
def kw_result(x):
    return CAUSE if re.search(r"result|because|due to|produce[sd]|trigger|lead to|led to", _between(x)) else ABSTAIN


@labeling_function()
def kw_into(x):
    return DESTINATION if re.search(r" into | to the | onto ", _between(x)) else ABSTAIN


@labeling_function()
def kw_from(x):
    return ORIGIN if re.search(r" from | out of | away from ", _between(x)) else ABSTAIN


@labeling_function()
def kw_inside(x):
    return CONTENT if re.search(r" in (a|an|the) | inside | contained | full of ", _between(x)) else ABSTAIN


@labeling_function()
def kw_about(x):
    return MESSAGE if re.search(r" about | on | describ| discuss| explain", _between(x)) else ABSTAIN


@labeling_function()
def kw_made_by(x):
    return PRODUCT if re.search(r"made by|produced by|built by|written by|created by|manufactur", _between(x)) \
        else ABSTAIN


@labeling_function()
def kw_used(x):
    return INSTRUMENT if re.search(r" use[sd]? | with (a|an|the) | using ", _between(x)) else ABSTAIN


@labeling_function()
def kb_collective(x):
    return MEMBER if _entities(x) & _COLLECTIVES else ABSTAIN


@labeling_function()
def broad_of(x):
    # Broad: "of" between the entities, mostly a part of a whole.
    return COMPONENT if " of " in _between(x) else ABSTAIN


@labeling_function()
def short_gap(x):
    # Majority-class default: entities one or two words apart.
    return MEMBER if len(_between(x).split()) <= 1 else ABSTAIN


@labeling_function()
def bad_with(x):
    # Worse than chance: "with" mostly marks instruments or contents, rarely parts.
    return COMPONENT if " with " in _between(x) else ABSTAIN


LFS = [kw_caused, kw_caused_by, kw_result, kw_into, kw_from, kw_inside, kw_about, kw_made_by, kw_used,
       kb_collective, broad_of, short_gap, bad_with]
