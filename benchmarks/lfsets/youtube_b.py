"""YouTube comment spam (0 = ham, 1 = spam), a second LF set written independently from the README and a few
train comments: self-promotion of one's own music, social-network and giveaway sites, like-begging, comment
shape (length, capitals, links) and VADER sentiment."""

from __future__ import annotations

import re
from functools import lru_cache

from labeling import labeling_function

FOLDER = "youtube/wrench"
METRIC = "acc"
HAM, SPAM = 0, 1
ABSTAIN = -1

# A small knowledge base: sites and platforms that spam comments push people towards.
_SPAM_SITES = {"facebook", "twitter", "instagram", "twitch", "swagbucks", "paypal", "amazon", "ebay", "steam",
               "soundcloud", "tumblr", "bubblews", "reverbnation", "bandcamp", "spotify", "itunes", "kickstarter",
               "indiegogo", "gofundme", "snapchat", "vine", "tinyurl"}

_URLISH = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(com|net|org|tv|ly|gl|me|co)\b")
_ADDRESS = re.compile(r"\b(you|your|you'?re|u|ur|guys|everyone|everybody|people)\b")


def _t(x) -> str:
    # Comments carry HTML entities for apostrophes and quotes; undo the common ones.
    return x.text.replace("\ufeff", "").replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&").lower()


def _words(x) -> list[str]:
    return re.findall(r"[a-z0-9']+", _t(x))


@lru_cache(maxsize=1)
def _vader():
    from sources.nltk_data import require

    require("vader_lexicon")
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


# --- self-promotion of one's own music: four near-duplicate takes on the same idea -----------------------------

@labeling_function()
def promo_my_track(x):
    return SPAM if re.search(r"\b(my|our) (new |first |latest )?(song|track|cover|mixtape|album|rap|beat|single)s?\b",
                             _t(x)) else ABSTAIN


@labeling_function()
def promo_listen_to_my(x):
    return SPAM if re.search(r"\b(listen to|hear|give) (my|me|us)\b|\bmy (stuff|work)\b", _t(x)) else ABSTAIN


@labeling_function()
def promo_i_am_artist(x):
    return SPAM if re.search(r"\b(i'm|im|i am|we are|we're) (a |an )?(young |new |small |upcoming |up and coming )?"
                             r"(rapper|singer|artist|producer|musician|band|youtuber)s?\b", _t(x)) else ABSTAIN


@labeling_function()
def promo_upcoming(x):
    return SPAM if re.search(r"\b(upcoming|up and coming|aspiring|unsigned|independent artist|small youtuber)\b",
                             _t(x)) else ABSTAIN


# --- other spam keywords and regexes -----------------------------------------------------------------------------

@labeling_function()
def kw_like_begging(x):
    return SPAM if re.search(r"thumbs? up|give (me|this|it) a like|like (this|my) comment|get (this|me) to the top"
                             r"|so (everyone|people) can see", _t(x)) else ABSTAIN


@labeling_function()
def kw_follow_me(x):
    return SPAM if re.search(r"\b(follow|add) (me|us|my)\b|\bfollow (him|her) on\b", _t(x)) else ABSTAIN


@labeling_function()
def re_urlish(x):
    return SPAM if _URLISH.search(_t(x)) else ABSTAIN


@labeling_function()
def kb_spam_sites(x):
    t = _t(x)
    words = set(re.findall(r"[a-z0-9]+", t))
    return SPAM if words & _SPAM_SITES or any(s in t for s in ("bit.ly", "goo.gl")) else ABSTAIN


# --- shape and sentiment -----------------------------------------------------------------------------------------

@labeling_function()
def caps_shouting(x):
    # Classifier-like: comments written mostly in capital letters are ads shouting for attention.
    letters = [c for c in x.text if c.isalpha()]
    if len(letters) < 15:
        return ABSTAIN
    return SPAM if sum(c.isupper() for c in letters) / len(letters) > 0.6 else ABSTAIN


@labeling_function()
def spam_score(x):
    # Classifier-like: add up weak signs of an ad; vote spam when three or more agree, ham when none does.
    t = _t(x)
    score = 0
    score += bool(_URLISH.search(t))
    score += len(t) > 120
    score += bool(re.search(r"\b(my|me)\b", t))
    score += bool(_ADDRESS.search(t))
    score += bool(re.search(r"\b(please|plz|pls|thanks|thank you)\b", t))
    score += bool(re.search(r"\b(channel|subscrib\w*|views|video)\b", t))
    if score >= 3:
        return SPAM
    if score == 0:
        return HAM
    return ABSTAIN


@labeling_function()
def vader_positive(x):
    # Genuine fans gush about the song; ads are mostly neutral in tone.
    return HAM if _vader().polarity_scores(_t(x))["compound"] >= 0.5 and len(_t(x)) < 150 else ABSTAIN


# --- broad heuristics and a majority-class default ---------------------------------------------------------------

@labeling_function()
def no_link_no_address(x):
    # Broad: a comment that neither links anywhere, nor talks to the reader, nor asks anything of them is a
    # reaction to the video.
    t = _t(x)
    return HAM if not (_URLISH.search(t) or _ADDRESS.search(t) or re.search(r"check|please|plz", t)) else ABSTAIN


@labeling_function()
def no_first_person(x):
    # Broad: spammers talk about themselves (my channel, me, I); fans talk about the song.
    return HAM if not re.search(r"\b(i|i'm|im|me|my|mine|we|our|us)\b", _t(x)) else ABSTAIN


@labeling_function()
def few_words(x):
    return HAM if len(_words(x)) <= 6 and not _URLISH.search(_t(x)) else ABSTAIN


@labeling_function()
def bad_views(x):
    # Worse than chance: "views" sounds like view-begging, but it is mostly fans marvelling at the view counter.
    return SPAM if re.search(r"\b(views|billion|million)\b", _t(x)) else ABSTAIN


LFS = [promo_my_track, promo_listen_to_my, promo_i_am_artist, promo_upcoming, kw_like_begging, kw_follow_me,
       re_urlish, kb_spam_sites, caps_shouting, spam_score, vader_positive, no_link_no_address, no_first_person,
       few_words, bad_views]
