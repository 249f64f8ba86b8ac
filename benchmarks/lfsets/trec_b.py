"""TREC question type (0 DESC, 1 ENTY, 2 HUM, 3 ABBR, 4 LOC, 5 NUM), a second LF set written independently.

Written from the class list and a few dozen training questions: answer-type nouns right after the wh-word, small
hand-written term lists (units, occupations, entity categories), a few broad wh-word defaults and a weak scorer.
"""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "trec"
METRIC = "acc"
DESC, ENTY, HUM, ABBR, LOC, NUM = range(6)
ABSTAIN = -1

# Knowledge base: quantities and units a numeric answer is measured in.
_UNITS = {"population", "temperature", "distance", "speed", "height", "weight", "depth", "length", "width", "area",
          "cost", "price", "salary", "percentage", "percent", "degrees", "miles", "feet", "inches", "pounds",
          "tons", "acres", "kilometers", "meters", "gallons", "calories", "dollars", "rate", "average", "number",
          "age", "size", "volume", "altitude", "elevation", "diameter", "circumference", "capacity"}

# Knowledge base: occupations and roles that point to a person as the answer.
_ROLES = {"inventor", "singer", "painter", "scientist", "poet", "king", "queen", "general", "explorer", "composer",
          "writer", "novelist", "artist", "actress", "director", "player", "leader", "emperor", "pope", "senator",
          "astronaut", "philosopher", "architect", "founder", "star", "villain", "hero", "character", "coach",
          "governor", "prime", "minister", "wife", "husband", "son", "daughter", "father", "mother", "hunter"}

# Entity categories that often follow "what" / "which".
_ENTITY_CATS = {"animal", "color", "colour", "sport", "game", "book", "film", "movie", "song", "instrument",
                "language", "food", "disease", "drug", "breed", "plant", "bird", "dog", "fish", "flower", "tree",
                "car", "currency", "religion", "award", "prize", "novel", "play", "magazine", "newspaper", "dish",
                "drink", "fruit", "vegetable", "insect", "planet", "event", "war", "medal", "ship", "horse"}


def _low(x) -> str:
    return x.text.lower().strip()


def _words(x) -> list[str]:
    return re.findall(r"[a-z']+", _low(x))


@labeling_function()
def kw_expand_abbr(x):
    return ABBR if re.search(r"full form|\bstands? for\b|what do the letters|initials|for short|abbreviation for|"
                             r"expansion of", _low(x)) else ABSTAIN


@labeling_function()
def kw_whose_whom(x):
    return HUM if re.search(r"\bwhose\b|\bwhom\b|\bwho\b", _low(x)) else ABSTAIN


@labeling_function()
def kb_roles(x):
    # "what (famous) painter ...", "name the inventor of ..."
    m = re.match(r"^(what|which|name)( the| a| an)?( \w+)? (\w+)", _low(x))
    if m and (m.group(4) in _ROLES or (m.group(3) or "").strip() in _ROLES):
        return HUM
    return ABSTAIN


@labeling_function()
def kb_units(x):
    return NUM if set(_words(x)) & _UNITS and re.search(r"^(what|how)\b", _low(x)) else ABSTAIN


@labeling_function()
def kw_dates(x):
    return NUM if re.search(r"^when\b|\bwhat (year|century|decade|month|day)\b|\bin (what|which) year\b",
                            _low(x)) else ABSTAIN


@labeling_function()
def kw_place_noun(x):
    return LOC if re.search(r"\b(what|which) (\w+ )?(country|city|state|province|continent|county|town|"
                            r"region|nation|port|island|desert|sea|peninsula)\b", _low(x)) else ABSTAIN


@labeling_function()
def kw_reason_origin(x):
    return DESC if re.search(r"\breason\b|\borigin of\b|difference between|what happens|what happened|\bhow to\b|"
                             r"what causes|\bexplain\b", _low(x)) else ABSTAIN


@labeling_function()
def kb_entity_cats(x):
    m = re.match(r"^(what|which|name a|name an|name the)( \w+)?( \w+)?", _low(x))
    if not m:
        return ABSTAIN
    heads = {(m.group(2) or "").strip(), (m.group(3) or "").strip()}
    return ENTY if heads & _ENTITY_CATS or heads & {c + "s" for c in _ENTITY_CATS} else ABSTAIN


# --- near-duplicates: "what is a X ?" asks for a definition ---------------------------------------------------

@labeling_function()
def def_what_is_a(x):
    return DESC if re.match(r"^what (is|are) (a|an) \w+ \?$", _low(x)) else ABSTAIN


@labeling_function()
def def_what_is_short(x):
    return DESC if re.match(r"^what (is|are|was) (a |an |the )?[\w\-]+( [\w\-]+)? \?$", _low(x)) else ABSTAIN


@labeling_function()
def def_what_is_any(x):
    return DESC if re.match(r"^what (is|are|'s) (a |an )?[\w\-]+( [\w\-]+){0,2} \?$", _low(x)) else ABSTAIN


@labeling_function()
def def_mean(x):
    return DESC if re.search(r"\bmean\b|\bmeaning\b|\bdefinition\b|^what (is|are) (a|an) ", _low(x)) else ABSTAIN


# --- broad heuristics and defaults ---------------------------------------------------------------------------

@labeling_function()
def broad_what_noun(x):
    # Broad: "what/which" followed straight by a noun ("what films ...") or "name ..." asks for a thing.
    return ENTY if re.match(r"^(name|(what|which) (?!is\b|are\b|was\b|were\b|'s\b|does\b|do\b|did\b|can\b)\w+)",
                            _low(x)) else ABSTAIN


@labeling_function()
def broad_copula(x):
    # Broad: a question built on is/are/was/were mostly wants something described.
    return DESC if re.search(r"\b(is|are|was|were)\b", _low(x)) else ABSTAIN


@labeling_function()
def default_short(x):
    # Majority-class default: short questions with no wh-word cue beyond "what".
    w = _words(x)
    if len(w) <= 7 and not re.search(r"\b(who|where|when|how|why|whom|whose)\b", _low(x)):
        return ENTY
    return ABSTAIN


@labeling_function()
def score_question(x):
    # Classifier-like: add up weak cues per class, vote the best if it is clearly ahead.
    q, w = _low(x), set(_words(x))
    s = [0.0] * 6
    s[NUM] += 2 * bool(re.search(r"^how (many|much|long|far|old|big|tall|fast|hot|cold)", q))
    s[NUM] += len(w & _UNITS) + bool(re.search(r"\b(when|year|date)\b", q))
    s[LOC] += 2 * bool(re.search(r"^where\b", q)) + bool(re.search(r"\b(located|situated|live|capital)\b", q))
    s[HUM] += 2 * bool(re.search(r"^who\b", q)) + len(w & _ROLES) + bool(re.search(r"\b(invented|wrote|founded|"
                                                                                   r"discovered|played)\b", q))
    s[DESC] += 2 * bool(re.search(r"^(why|how (do|does|did|can|is))\b", q)) + bool("mean" in w)
    s[ENTY] += bool(re.search(r"^(what|which) \w+s\b", q)) + len(w & _ENTITY_CATS)
    s[ABBR] += 3 * bool(re.search(r"stand for|abbreviat|acronym", q))
    best = max(range(6), key=lambda c: s[c])
    runner_up = max(s[c] for c in range(6) if c != best)
    return best if s[best] >= 2 and s[best] - runner_up >= 1 else ABSTAIN


@labeling_function()
def bad_first(x):
    # Worse than chance: "first"/"last" sounds like a date, but mostly asks who or what was first.
    return NUM if re.search(r"\b(first|last)\b", _low(x)) else ABSTAIN


LFS = [kw_expand_abbr, kw_whose_whom, kb_roles, kb_units, kw_dates, kw_place_noun, kw_reason_origin, kb_entity_cats,
       def_what_is_a, def_what_is_short, def_what_is_any, def_mean, broad_what_noun, broad_copula, default_short,
       score_question, bad_first]
