"""TREC question type (0 DESC, 1 ENTY, 2 HUM, 3 ABBR, 4 LOC, 5 NUM), LFs written from the README."""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "trec"
METRIC = "acc"
DESC, ENTY, HUM, ABBR, LOC, NUM = range(6)
ABSTAIN = -1

# A small knowledge base of place words.
_PLACES = {"country", "countries", "city", "cities", "state", "states", "river", "mountain", "capital", "continent",
           "island", "ocean", "lake", "where", "located", "america", "europe", "africa", "asia", "china", "france",
           "england", "japan", "california", "texas", "york", "london", "paris"}


def _q(x) -> str:
    return x.text.lower()


@labeling_function()
def kw_abbr(x):
    return ABBR if re.search(r"stand for|abbreviat|acronym|short for", _q(x)) else ABSTAIN


@labeling_function()
def kw_who(x):
    return HUM if re.search(r"^(who|whom)\b|\bwho (is|was|were)\b", _q(x)) else ABSTAIN


@labeling_function()
def kw_person(x):
    return HUM if re.search(r"what (person|man|woman|president|actor|author|company|team)", _q(x)) else ABSTAIN


@labeling_function()
def kw_where(x):
    return LOC if re.search(r"^where\b|\bwhere (is|was|are|did|do)\b", _q(x)) else ABSTAIN


@labeling_function()
def kb_places(x):
    return LOC if set(re.findall(r"[a-z]+", _q(x))) & _PLACES else ABSTAIN


@labeling_function()
def kw_how_many(x):
    return NUM if "how many" in _q(x) else ABSTAIN


@labeling_function()
def kw_how_much(x):
    return NUM if re.search(r"how (many|much)", _q(x)) else ABSTAIN


@labeling_function()
def kw_how_number(x):
    return NUM if re.search(r"how (many|much|long|far|old|tall|big)", _q(x)) else ABSTAIN


@labeling_function()
def kw_when(x):
    return NUM if re.search(r"^when\b|what year|what date|what time", _q(x)) else ABSTAIN


@labeling_function()
def kw_why_define(x):
    return DESC if re.search(r"^why\b|^how (do|does|did|can|is)\b|define|definition|meaning of|what is an? ",
                             _q(x)) else ABSTAIN


@labeling_function()
def broad_what(x):
    # Broad: about half the questions start with "what", and many of them ask for a thing.
    return ENTY if re.search(r"^what\b", _q(x)) else ABSTAIN


@labeling_function()
def kw_name_a(x):
    return ENTY if re.search(r"name (a|an|the)\b|what (kind|type|sort) of|what is the name", _q(x)) else ABSTAIN


@labeling_function()
def short_plain(x):
    # Majority-class default for short plain questions.
    return DESC if len(_q(x).split()) <= 5 else ABSTAIN


@labeling_function()
def bad_name(x):
    # Worse than chance: "name" questions are rarely asking for a description.
    return DESC if "name" in _q(x) else ABSTAIN


LFS = [kw_abbr, kw_who, kw_person, kw_where, kb_places, kw_how_many, kw_how_much, kw_how_number, kw_when,
       kw_why_define, broad_what, kw_name_a, short_plain, bad_name]
