"""SMS spam (0 = ham, 1 = spam), a second LF set written independently from the README and a few train
messages: opt-out and short-code instructions, premium-rate numbers, terms-and-conditions small print,
phone brands and networks, chat slang and message shape. Texts are lower-cased, and the pound sign shows up
as "??" (e.g. "??250 weekly comp")."""

from __future__ import annotations

import re

from labeling import labeling_function

FOLDER = "sms"
METRIC = "f1"
HAM, SPAM = 0, 1
ABSTAIN = -1

# A small knowledge base: phone brands, networks and gadgets that marketing texts advertise.
_BRANDS = {"nokia", "motorola", "samsung", "sony", "ericsson", "vodafone", "orange", "o2", "t-mobile", "virgin",
           "tesco", "bluetooth", "camcorder", "ipod", "mp3", "polyphonic", "wap", "video phone", "camera phone",
           "3g", "xbox", "playstation"}
# Chat slang that friends type and marketing texts never use.
_SLANG = {"lor", "lah", "leh", "meh", "mah", "dun", "haf", "thk", "wat", "juz", "oso", "abt", "nite", "gud",
          "tmr", "tmrw", "wan", "cos", "coz", "hav", "nw", "dat", "wen", "knw", "yup", "ya", "lol", "hmm", "huh"}

_SHORTCODE = re.compile(r"\b[0-9]{5}\b")
_PREMIUM = re.compile(r"\b0[789]0\d{7,9}\b")
_POUNDS = re.compile(r"\?\?\s?\d+|\b\d+\s?(gbp|pounds)\b")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9'&-]+", text.lower())


# --- opt-out instructions: four near-duplicate takes on the same idea ---------------------------------------------

@labeling_function()
def optout_send_stop(x):
    return SPAM if re.search(r"\b(send|txt|text|reply) stop\b", x.text) else ABSTAIN


@labeling_function()
def optout_stop_to(x):
    return SPAM if re.search(r"\bstop\b.{0,12}\b\d{4,6}\b|\bstop (to|2) (end|opt|unsub|cancel)", x.text) else ABSTAIN


@labeling_function()
def optout_words(x):
    return SPAM if re.search(r"opt[- ]?out|unsub(scribe)?\b|to stop\b|stop\?", x.text) else ABSTAIN


@labeling_function()
def optout_any_stop(x):
    return SPAM if re.search(r"\bstop\b", x.text) and re.search(r"\d", x.text) else ABSTAIN


# --- other spam keywords and regexes -----------------------------------------------------------------------------

@labeling_function()
def re_shortcode_instruction(x):
    # "txt WORD to 86688", "send ENTER to 88877", "call 87121".
    return SPAM if re.search(r"\b(txt|text|send|reply|call)\b[^.]{0,25}\b(to |on )?[0-9]{5}\b", x.text) else ABSTAIN


@labeling_function()
def re_premium_number(x):
    return SPAM if _PREMIUM.search(x.text) else ABSTAIN


@labeling_function()
def kw_small_print(x):
    return SPAM if re.search(r"t&c|t&cs|t & c|\b1[68]\+|\bpobox|\bpo box|\bbox ?\d+|\d+p ?/ ?(min|msg)|150p|"
                             r"\bcustomer (service|care)\b|\bsae\b", x.text) else ABSTAIN


@labeling_function()
def kw_congrats(x):
    return SPAM if re.search(r"congrat|you have been (selected|chosen)|you('ve| have) won|\bgift voucher|"
                             r"\bcall now\b|\bringtone|\bcollect (your|ur)\b", x.text) else ABSTAIN


@labeling_function()
def kb_brands(x):
    t = x.text
    words = set(_words(t))
    return SPAM if words & _BRANDS or any(b in t for b in _BRANDS if " " in b) else ABSTAIN


# --- classifier-like score, broad heuristics, defaults -------------------------------------------------------------

@labeling_function()
def digit_money_score(x):
    # Classifier-like: digits-per-character, a pound amount, a 5-digit code and length as weak features.
    t = x.text
    digits = sum(c.isdigit() for c in t) / max(len(t), 1)
    score = (digits > 0.08) + bool(_POUNDS.search(t)) + bool(_SHORTCODE.search(t)) + (len(t) > 120)
    score += t.count("!") >= 2
    return SPAM if score >= 3 else ABSTAIN


@labeling_function()
def kb_chat_slang(x):
    return HAM if set(_words(x.text)) & _SLANG else ABSTAIN


@labeling_function()
def first_person_i(x):
    # Broad: people write about themselves ("i'm", "i'll", "me"); ads talk about "you".
    return HAM if re.search(r"\b(i|i'm|im|i'll|i'd|i've|me|my)\b", x.text) else ABSTAIN


@labeling_function()
def no_long_number_no_price(x):
    # Broad: without a number of four or more digits, or a price, there is nothing to call or pay.
    t = x.text
    return HAM if not re.search(r"\d{4,}", t) and not _POUNDS.search(t) and len(t) < 80 else ABSTAIN


@labeling_function()
def question_mark(x):
    return HAM if "?" in x.text.replace("??", "") else ABSTAIN


@labeling_function()
def few_words(x):
    return HAM if len(_words(x.text)) <= 8 else ABSTAIN


@labeling_function()
def bad_romance(x):
    # Worse than chance: sexy or lovey words sound like chat-line ads, but they are mostly between partners.
    return SPAM if re.search(r"\b(love|luv|sexy|kiss|babe|baby|darling|miss you|dating|date)\b", x.text) else ABSTAIN


LFS = [optout_send_stop, optout_stop_to, optout_words, optout_any_stop, re_shortcode_instruction,
       re_premium_number, kw_small_print, kw_congrats, kb_brands, digit_money_score, kb_chat_slang, first_person_i,
       no_long_number_no_price, question_mark, few_words, bad_romance]
