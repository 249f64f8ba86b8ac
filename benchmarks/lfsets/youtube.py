"""YouTube comment spam (0 = ham, 1 = spam), LFs written from the README."""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "youtube/wrench"
METRIC = "acc"
HAM, SPAM = 0, 1
ABSTAIN = -1

# A small knowledge base: the artists and songs of the five videos, which genuine comments talk about.
_MUSIC = {"eminem", "shakira", "katy", "perry", "psy", "gangnam", "lmfao", "party", "rock", "roar", "waka",
          "rihanna", "song", "songs", "music", "voice", "dance", "video", "love the way you lie"}


def _t(x) -> str:
    return x.text.lower()


@labeling_function()
def kw_subscribe(x):
    return SPAM if "subscribe" in _t(x) else ABSTAIN


@labeling_function()
def kw_sub(x):
    return SPAM if re.search(r"\bsub(scribe|s)?\b", _t(x)) else ABSTAIN


@labeling_function()
def kw_subscribe_to(x):
    return SPAM if re.search(r"subscribe (to|me|my)|sub (to|me|my)", _t(x)) else ABSTAIN


@labeling_function()
def kw_check_out(x):
    return SPAM if re.search(r"check (out|it|my)", _t(x)) else ABSTAIN


@labeling_function()
def kw_channel(x):
    return SPAM if re.search(r"my (channel|page|video|music)", _t(x)) else ABSTAIN


@labeling_function()
def re_link(x):
    return SPAM if re.search(r"https?://|www\.|\.com\b", _t(x)) else ABSTAIN


@labeling_function()
def kw_money(x):
    return SPAM if re.search(r"\b(money|cash|earn|free|gift|win)\b", _t(x)) else ABSTAIN


@labeling_function()
def kb_music(x):
    words = set(re.findall(r"[a-z]+", _t(x)))
    return HAM if words & _MUSIC else ABSTAIN


@labeling_function()
def short_comment(x):
    return HAM if len(x.text) < 40 else ABSTAIN


@labeling_function()
def plain_no_link(x):
    # Broad: no link, no "please", no "my": a plain reaction to the video.
    return HAM if not re.search(r"http|www|please|plz|\bmy\b", _t(x)) else ABSTAIN


@labeling_function()
def kw_please(x):
    return SPAM if re.search(r"\b(please|plz|pls)\b", _t(x)) else ABSTAIN


@labeling_function()
def bad_love(x):
    # Worse than chance: "love" is mostly said by genuine fans.
    return SPAM if "love" in _t(x) else ABSTAIN


LFS = [kw_subscribe, kw_sub, kw_subscribe_to, kw_check_out, kw_channel, re_link, kw_money, kb_music,
       short_comment, plain_no_link, kw_please, bad_love]
