"""SMS spam (0 = HAM, 1 = SPAM), LFs written from the README: keywords, regexes, casual words, short messages."""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "sms"
METRIC = "f1"
HAM, SPAM = 0, 1
ABSTAIN = -1

_PHONE = re.compile(r"\b0?\d{5,}\b")
_MONEY = re.compile(r"(£|\$|€)\s?\d+|\d+\s?(p|ppm)\b|per (min|msg|week)")
_URL = re.compile(r"www\.|http|\.com\b|\.co\.uk\b")
_CASUAL = {"lol", "haha", "hey", "u", "ur", "im", "gonna", "wanna", "ok", "okay", "k", "sorry", "love", "babe",
           "home", "tonight", "later", "dinner", "sleep", "going", "da", "lor", "la"}
# A small knowledge base of words that marketing texts use.
_SPAM_LEXICON = {"free", "win", "won", "winner", "prize", "claim", "cash", "urgent", "award", "guaranteed",
                 "offer", "txt", "ringtone", "voucher", "bonus", "selected", "entry", "mobile", "reply", "service"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@labeling_function()
def kw_prize(x):
    return SPAM if any(w in x.text for w in ("prize", "winner", "won ", "claim", "award")) else ABSTAIN


@labeling_function()
def kw_free(x):
    return SPAM if "free" in x.text else ABSTAIN


@labeling_function()
def kw_free_msg(x):
    return SPAM if re.search(r"\bfree(msg)?\b", x.text) else ABSTAIN


@labeling_function()
def kw_for_free(x):
    return SPAM if re.search(r"\bfree\b|for free|free entry", x.text) else ABSTAIN


@labeling_function()
def kw_txt_stop(x):
    return SPAM if re.search(r"\b(txt|text|reply|send)\b.*\b(stop|now|to \d+)\b", x.text) else ABSTAIN


@labeling_function()
def re_phone(x):
    return SPAM if _PHONE.search(x.text) else ABSTAIN


@labeling_function()
def re_money(x):
    return SPAM if _MONEY.search(x.text) else ABSTAIN


@labeling_function()
def re_url(x):
    return SPAM if _URL.search(x.text) else ABSTAIN


@labeling_function()
def casual_words(x):
    return HAM if len(_CASUAL.intersection(_words(x.text))) >= 2 else ABSTAIN


@labeling_function()
def short_message(x):
    return HAM if len(x.text) < 60 else ABSTAIN


@labeling_function()
def kb_spam_lexicon(x):
    return SPAM if len(_SPAM_LEXICON.intersection(_words(x.text))) >= 2 else ABSTAIN


@labeling_function()
def long_message(x):
    return SPAM if len(x.text) > 130 else ABSTAIN


@labeling_function()
def plain_lowercase(x):
    # Broad: a message with no digit and no exclamation mark is a personal one.
    return HAM if not re.search(r"[0-9!]", x.text) else ABSTAIN


@labeling_function()
def bad_you(x):
    # Worse than chance: most messages that say "you" are personal.
    return SPAM if re.search(r"\byou\b", x.text) else ABSTAIN


LFS = [kw_prize, kw_free, kw_free_msg, kw_for_free, kw_txt_stop, re_phone, re_money, re_url, casual_words,
       short_message, kb_spam_lexicon, long_message, plain_lowercase, bad_you]
