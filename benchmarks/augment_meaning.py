"""Does augmentation keep meaning? Synonym replacement and deletion on the hand-written sentences of
``tests/data/augment/sentences.json`` (48 sentences in SMS, comment, review, e-mail and question styles, with
seven keyword LFs), side by side:

- ``eda``: EDA as published (Wei and Zou, 2019): a random WordNet synonym from any sense and part of speech,
  random deletion with probability alpha; nothing protected.
- ``wordnet_pos``: synonyms only from the two most frequent WordNet senses in the word's part of speech
  (TextBlob's tagger), uninflected; nothing protected.
- ``votewise`` (tagger ``textblob`` and ``spacy``): :func:`labeling.dataset.augment` with ``lfs=``: part of
  speech and inflection kept, multi-word, rare and (for TextBlob) ambiguous words skipped, LF spans protected.

A replacement keeps its part of speech when spaCy's ``en_core_web_sm`` (the judge; TextBlob when spaCy is not
installed) gives the new word, in the new sentence, the Penn tag it gave the old word in the old one. A variant
keeps its label-bearing words when every word inside an LF's ``explain()`` span in the source is still there.

    python benchmarks/augment_meaning.py            # about a minute (loading WordNet, wordfreq and spaCy)
    python benchmarks/augment_meaning.py --variants 5

Targets: ``votewise`` keeps the part of speech in >= 95% of replacements and the label-bearing words in 100% of
variants, with either tagger.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from labeling.dataset.augment import (  # noqa: E402
    _spacy_tagger, augment, penn_tags_batch, pos_tags, protected_words, random_delete, synonyms,
)
from rules import keyword_lf  # noqa: E402

DATA = ROOT / "tests" / "data" / "augment" / "sentences.json"


def _replace(words, n, rng, pick):
    words = list(words)
    idx = list(range(len(words)))
    rng.shuffle(idx)
    done = 0
    for i in idx:
        options = pick(words, i)
        if options:
            words[i] = options[rng.integers(len(options))]
            done += 1
            if done >= n:
                break
    return words


def baseline_variants(df, method, k, alpha, seed):
    """(source id, method, text) of the two unprotected baselines."""
    rng = np.random.default_rng(seed)
    rows = []
    for sid, text in df["text"].items():
        words = text.split()
        n = max(1, int(round(alpha * len(words))))
        if method == "eda":
            def pick(ws, i):
                return [s for s in synonyms(ws[i]) if " " not in s] if ws[i].isalpha() else []
        else:
            tags = pos_tags(words, tagger="textblob")

            def pick(ws, i, tags=tags):
                return [s for s in synonyms(ws[i], tags[i], 2)] if tags[i] and ws[i].isalpha() else []
        for _ in range(k):
            rows.append((sid, "synonym", " ".join(_replace(words, n, rng, pick))))
            rows.append((sid, "delete", " ".join(random_delete(words, alpha, rng))))
    return pd.DataFrame(rows, columns=["source_id", "augmentation", "text"])


def measure(df, out, lfs, judge):
    syn = out[out["augmentation"] == "synonym"]
    src = [df.loc[s, "text"].split() for s in syn["source_id"]]
    var = [t.split() for t in syn["text"]]
    total = kept = 0
    same_len = [(a, b) for a, b in zip(src, var) if len(a) == len(b)]  # multi-word synonyms shift positions
    if same_len:
        ta = penn_tags_batch([a for a, _ in same_len], tagger=judge)
        tb = penn_tags_batch([b for _, b in same_len], tagger=judge)
        for (a, b), x, y in zip(same_len, ta, tb):
            for i in range(len(a)):
                if a[i] != b[i]:
                    total += 1
                    kept += x[i] == y[i]
    multi = sum(len(b) - len(a) for a, b in zip(src, var) if len(b) > len(a))
    result = {"replacements": total + multi, "pos_kept_%": 100 * kept / max(total + multi, 1)}
    for method in ("synonym", "delete"):
        part = out[out["augmentation"] == method]
        ok = 0
        for text, sid in zip(part["text"], part["source_id"]):
            source = df.loc[sid, "text"]
            words = source.split()
            need = Counter(words[i] for i in protected_words(source, words, lfs)[0])
            have = Counter(text.split())
            ok += all(have[w] >= c for w, c in need.items())
        result[f"{method}_label_words_kept_%"] = 100 * ok / max(len(part), 1)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=int, default=3, help="variants per sentence and method")
    ap.add_argument("--alpha", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    spec = json.loads(DATA.read_text(encoding="utf-8"))
    lfs = [keyword_lf(d["name"], d["keywords"], d["label"]) for d in spec["lfs"]]
    df = pd.DataFrame(spec["sentences"])
    df.index = [f"s{i}" for i in range(len(df))]
    judge = "spacy" if _spacy_tagger() is not None else "textblob"
    print(f"{len(df)} sentences, {args.variants} variants per sentence and method, alpha={args.alpha}; "
          f"judge: {judge}. Loading WordNet, wordfreq and the taggers takes up to a minute.", flush=True)
    rows = {}
    for name in ("eda", "wordnet_pos"):
        rows[name] = measure(df, baseline_variants(df, name, args.variants, args.alpha, args.seed), lfs, judge)
    for tagger in ("textblob", "spacy"):
        if tagger == "spacy" and _spacy_tagger() is None:
            continue
        out = augment(df, methods={"synonym": args.variants, "delete": args.variants}, lfs=lfs, alpha=args.alpha,
                      tagger=tagger, random_state=args.seed)
        rows[f"votewise ({tagger})"] = measure(df, out, lfs, judge)
    table = pd.DataFrame(rows).T
    table["replacements"] = table["replacements"].astype(int)
    print(table.round(1).to_string())


if __name__ == "__main__":
    main()
