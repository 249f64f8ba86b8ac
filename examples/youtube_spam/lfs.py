"""Labeling functions for YouTube comment spam (0 = HAM, 1 = SPAM).

Each LF votes one class or abstains. They are the kinds users write first:
keywords, a regular expression, a length rule, and a knowledge-base lookup.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from labeling import ABSTAIN, labeling_function

HAM, SPAM = 0, 1


def _load_terms(path: Path) -> list[str]:
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


SPAM_TERMS = _load_terms(Path(__file__).with_name("spam_terms.txt"))
# One compiled alternation instead of a Python loop over terms: fast for thousands of entries.
SPAM_TERMS_RE = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, SPAM_TERMS)) + r")(?!\w)", re.IGNORECASE)


@labeling_function()
def keyword_my(x):
    """Spam talks about 'my channel', 'my video', ..."""
    return SPAM if "my" in x.text.lower().split() else ABSTAIN


@labeling_function()
def keyword_subscribe(x):
    return SPAM if "subscribe" in x.text.lower() else ABSTAIN


@labeling_function()
def keyword_link(x):
    return SPAM if "http" in x.text.lower() else ABSTAIN


@labeling_function()
def keyword_please(x):
    text = x.text.lower()
    return SPAM if any(word in text for word in ("please", "plz")) else ABSTAIN


@labeling_function()
def keyword_song(x):
    """Ham comments talk about the video's content."""
    return HAM if "song" in x.text.lower() else ABSTAIN


@labeling_function(vectorized=True)
def regex_check_out(df):
    """Spam asks people to check out a link; a vectorised LF runs on a whole chunk at once."""
    return np.where(df["text"].str.contains(r"check.*out", case=False, regex=True), SPAM, ABSTAIN)


@labeling_function(vectorized=True)
def short_comment(df):
    """Ham comments are often short, such as 'cool video!'."""
    return np.where(df["text"].str.split().str.len() < 5, HAM, ABSTAIN)


@labeling_function(resources={"pattern": SPAM_TERMS_RE})
def kb_spam_terms(x, pattern):
    """Distant supervision from a list of known spam phrases and domains (spam_terms.txt)."""
    return SPAM if pattern.search(x.text) else ABSTAIN


lfs = [
    keyword_my,
    keyword_subscribe,
    keyword_link,
    keyword_please,
    keyword_song,
    regex_check_out,
    short_comment,
    kb_spam_terms,
]
