"""SemEval-2010 relations between two marked entities, a second LF set written independently.

Classes: 0 Cause-Effect, 1 Component-Whole, 2 Content-Container, 3 Entity-Destination, 4 Entity-Origin,
5 Instrument-Agency, 6 Member-Collection, 7 Message-Topic, 8 Product-Producer.

entity1 is the first argument of the relation (the cause, component, content, entity, instrument, member,
message, product) and entity2 the second, whichever comes first in the sentence. The LFs look at the two entity
words themselves (small hand-written term lists), the words between them, and their order and distance.
"""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "semeval"
METRIC = "acc"
CAUSE, COMPONENT, CONTENT, DESTINATION, ORIGIN, INSTRUMENT, MEMBER, MESSAGE, PRODUCT = range(9)
ABSTAIN = -1

# Knowledge base: things that hold other things.
_CONTAINERS = {"box", "bag", "bottle", "jar", "basket", "suitcase", "drawer", "container", "cup", "bucket", "can",
               "tank", "envelope", "pot", "bowl", "crate", "chest", "case", "pocket", "barrel", "vessel", "carton",
               "sack", "package", "briefcase", "purse", "wallet", "tin", "vase", "cabinet", "trunk", "cage",
               "fridge", "refrigerator", "closet", "bin", "jug", "flask", "vial", "tube", "capsule", "mug"}

# Knowledge base: things that carry a message.
_MESSAGES = {"article", "book", "report", "paper", "lecture", "speech", "film", "documentary", "essay", "poem",
             "letter", "story", "survey", "study", "news", "message", "debate", "thesis", "song", "movie", "review",
             "novel", "chapter", "statement", "announcement", "presentation", "video", "show", "talk", "memo",
             "column", "editorial", "summary", "textbook", "manual", "guide", "website", "blog", "sermon"}

# Knowledge base: typical parts of a larger whole.
_PARTS = {"wheel", "door", "engine", "handle", "roof", "leg", "arm", "blade", "screen", "keyboard", "button",
          "page", "wing", "branch", "leaf", "root", "window", "wall", "floor", "lid", "cover", "frame", "motor",
          "battery", "tail", "head", "seat", "trunk", "hood", "switch", "cable", "lens", "pedal", "chip",
          "processor", "sensor", "valve", "shaft", "core", "shell", "edge", "base", "top", "bottom", "side"}

# Entity words that usually name a cause or an effect.
_CAUSES = {"virus", "bacteria", "infection", "smoking", "stress", "storm", "earthquake", "fire", "explosion",
           "radiation", "heat", "pressure", "disease", "bite", "injury", "accident", "war", "drought", "flood"}
_EFFECTS = {"pain", "damage", "death", "deaths", "injury", "injuries", "fever", "nausea", "symptoms", "illness",
            "fatigue", "anxiety", "panic", "loss", "destruction", "inflammation", "cancer", "headache", "fear",
            "increase", "decrease", "problems", "crisis", "changes", "outbreak", "sickness", "disorder"}


def _ordered(x):
    """(start, end) of the entity that comes first in the text, then of the one that comes second."""
    a, b = tuple(x.span1), tuple(x.span2)
    return (a, b) if a[0] <= b[0] else (b, a)


def _gap(x) -> str:
    (_, first_end), (second_start, _) = _ordered(x)
    return " " + x.text[first_end:second_start].lower().strip() + " "


def _gap_words(x) -> list[str]:
    return _gap(x).split()


def _head(entity: str) -> str:
    words = entity.lower().split()
    return words[-1] if words else ""


def _reversed(x) -> bool:
    """entity2 (the whole, the container, the collection, ...) is written before entity1."""
    return x.span2[0] < x.span1[0]


@labeling_function()
def kb_container(x):
    return CONTENT if _head(x.entity2) in _CONTAINERS else ABSTAIN


@labeling_function()
def kb_message(x):
    return MESSAGE if _head(x.entity1) in _MESSAGES else ABSTAIN


@labeling_function()
def kb_part(x):
    return COMPONENT if _head(x.entity1) in _PARTS else ABSTAIN


@labeling_function()
def kw_cause_verbs(x):
    return CAUSE if re.search(r"\b(generated|induced|provoked|spark(s|ed)?|brought on|stems? from|arises? from|"
                              r"gives? rise|leads? to|responsible for|resulting from|emit\w*|evoked|brought about)\b",
                              _gap(x)) else ABSTAIN


@labeling_function()
def kw_moved_into(x):
    return DESTINATION if re.search(r"\b(moved|put|placed|poured|thrown|sent|dropped|inserted|released|delivered|"
                                    r"migrated|emptied|loaded|added|injected|pushed|carried|brought)\b( \w+)?"
                                    r" (into|in|to|onto|inside|toward|towards)\b", _gap(x)) else ABSTAIN


@labeling_function()
def kw_came_from(x):
    return ORIGIN if re.search(r"\b(left|departed|emerged|escaped|extracted|derived|came|comes|arrived|fled|"
                               r"removed|taken|originat\w*|imported|distilled|harvested)\b( \w+)? (from|out)\b",
                               _gap(x)) else ABSTAIN


@labeling_function()
def kw_wields(x):
    return INSTRUMENT if re.search(r"\b(wields?|wielded|operates?|operated|applied|utiliz\w+|employs?|employed|"
                                   r"with (his|her|their|its)|by means of|armed with|equipped with)\b",
                                   _gap(x)) else ABSTAIN


@labeling_function()
def kw_topic_verbs(x):
    return MESSAGE if re.search(r"\b(concerning|regarding|depicts?|tells?|reports?|focus\w*|address\w*|devoted to|"
                                r"dedicated to|portray\w*|reflects?|highlights?|outlines?|summari\w+|reviews?|"
                                r"argues|criticis\w+|warns?|defin\w+|shows|surveys?|related to)\b",
                                _gap(x)) else ABSTAIN


@labeling_function()
def kw_authored(x):
    return PRODUCT if re.search(r"\b(invented|designed|developed|written|composed|painted|baked|brewed|authored|"
                                r"built|crafted|grown|laid|sculpted|coined|published|founded|constructed|created)\b",
                                _gap(x)) else ABSTAIN


# --- near-duplicates: "a <collection> of <members>" ----------------------------------------------------------

@labeling_function()
def of_only(x):
    return MEMBER if _gap(x) == " of " else ABSTAIN


@labeling_function()
def of_with_det(x):
    return MEMBER if re.fullmatch(r" of( (the|a|an|these|those|his|her|their))? ", _gap(x)) else ABSTAIN


@labeling_function()
def of_reversed(x):
    return MEMBER if _reversed(x) and re.match(r" of\b", _gap(x)) else ABSTAIN


@labeling_function()
def of_short(x):
    g = _gap_words(x)
    return MEMBER if g and g[0] == "of" and len(g) <= 3 else ABSTAIN


# --- broad heuristics and defaults ---------------------------------------------------------------------------

@labeling_function()
def broad_reversed(x):
    # Broad: the collection / whole usually comes first ("a flock of birds"), so entity2 before entity1.
    return MEMBER if _reversed(x) else ABSTAIN


@labeling_function()
def broad_forward(x):
    # Broad: entity1 written first and more than a word apart, typically "X caused / led to / produced Y".
    return CAUSE if not _reversed(x) and len(_gap_words(x)) >= 2 else ABSTAIN


@labeling_function()
def default_short(x):
    # Majority-class default for short, plain sentences.
    return MEMBER if len(x.text.split()) <= 14 and len(_gap_words(x)) <= 3 else ABSTAIN


@labeling_function()
def score_cause(x):
    # Classifier-like: weigh several weak cause-effect cues and vote when enough of them agree.
    g = _gap(x)
    score = 0.0
    score += 1.5 * bool(re.search(r"\b(caus\w*|result\w*|lead\w*|led|trigger\w*|due|because|produc\w*)\b", g))
    score += 1.0 * (_head(x.entity1) in _CAUSES)
    score += 1.0 * (_head(x.entity2) in _EFFECTS)
    score += 0.5 * bool(re.search(r"\b(by|from|after)\b", g))
    score -= 1.0 * (_head(x.entity2) in _CONTAINERS or _head(x.entity1) in _MESSAGES)
    score -= 0.5 * (g == " of ")
    return CAUSE if score >= 2.0 else ABSTAIN


@labeling_function()
def bad_ing_instrument(x):
    # Worse than chance: an "-ing" word between the entities sounds like someone using a tool.
    return INSTRUMENT if any(w.endswith("ing") and len(w) > 4 for w in _gap_words(x)) else ABSTAIN


LFS = [kb_container, kb_message, kb_part, kw_cause_verbs, kw_moved_into, kw_came_from, kw_wields, kw_topic_verbs,
       kw_authored, of_only, of_with_det, of_reversed, of_short, broad_reversed, broad_forward, default_short,
       score_cause, bad_ing_instrument]
