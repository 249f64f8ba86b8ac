"""Labeling functions for YouTube comment spam (0 = HAM, 1 = SPAM), written with votewise's rule builders.

Each builder returns a batch LF (one call per chunk of rows) that can also explain its vote:
``keyword_subscribe.explain("Please subscribe!")`` gives the matched span. They are the kinds users
write first: keywords, a regular expression, a length rule and a knowledge-base lookup.
"""

from __future__ import annotations

import re
from pathlib import Path

from rules import keyword_lf, kb_lf, length_lf, regex_lf
from sources import KnowledgeBase

HAM, SPAM = 0, 1

# Spam talks about 'my channel', 'my video', ...
keyword_my = keyword_lf("keyword_my", ["my"], SPAM, whole_word=True)
keyword_subscribe = keyword_lf("keyword_subscribe", ["subscribe"], SPAM)
keyword_link = keyword_lf("keyword_link", ["http"], SPAM)
keyword_please = keyword_lf("keyword_please", ["please", "plz"], SPAM)
# Ham comments talk about the video's content.
keyword_song = keyword_lf("keyword_song", ["song"], HAM)
# Spam asks people to check out a link.
regex_check_out = regex_lf("regex_check_out", r"check.*out", SPAM, flags=re.IGNORECASE)
# Ham comments are often short, such as 'cool video!'.
short_comment = length_lf("short_comment", HAM, max_len=4)
# Distant supervision from a list of known spam phrases and domains (spam_terms.txt): matched as whole
# words after case and Unicode normalisation; explain() names the line of the list that fired.
kb_spam_terms = kb_lf("kb_spam_terms", KnowledgeBase.from_lines(Path(__file__).with_name("spam_terms.txt")), SPAM)

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
