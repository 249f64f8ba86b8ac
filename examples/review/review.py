# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Review the comments the label model is least sure of
#
# The label model votes on every YouTube comment; the rows it is least sure of go to a
# review store (one SQLite file). Click a class (or type its number in the shortcut box)
# to label the comment shown; each click is saved at once, and keys typed quickly are
# applied in order, one per comment. The words each labeling function matched are
# highlighted, one colour per LF (the legend under the text names them). "next batch +
# refit" folds your labels back into the label model, shows what changed and queues the
# next batch; "adjudicate" settles comments two reviewers labelled differently.
#
# To open it: `jupytext --to ipynb examples/review/review.py`, then
# `jupyter lab examples/review/review.ipynb` (as root, Jupyter needs `--allow-root`). The converted
# notebook is ignored by git; this `.py` file is the source.
#
# The same loop runs from the shell: `votewise queue review.sqlite --data
# examples/youtube_spam/data/*.csv --text-column CONTENT --id-column COMMENT_ID --dedupe-ids suffix
# --lfs examples/youtube_spam/lfs.py --classes HAM,SPAM` queues a batch, `votewise review review.sqlite`
# reviews it in the terminal.

# %%
import os
from pathlib import Path

from labeling import apply_lfs, load_lfs
from labeling.review import ActiveLoop, Guidelines, ReviewStore, ReviewWidget
from models import LabelModel
from sources import read_wrench

HERE = Path.cwd()
ROOT = Path(os.environ.get("VOTEWISE_ROOT") or next(
    p for p in [HERE, *HERE.parents] if (p / "tests" / "data" / "youtube").exists()))
STORE = Path(os.environ.get("VOTEWISE_REVIEW_STORE", HERE / "review.sqlite"))

ds = read_wrench(ROOT / "tests" / "data" / "youtube")
# The example's rule LFs: they can explain each vote, so the widget highlights what they matched.
lfs = load_lfs(ROOT / "examples" / "youtube_spam" / "lfs.py")
L = apply_lfs(ds.train.data, lfs, cardinality=ds.cardinality, progress=False)
store = ReviewStore(STORE, class_names=ds.class_names)
loop = ActiveLoop(LabelModel(cardinality=ds.cardinality), ds.train.data, L, lfs=lfs,
                  strategy="diverse:entropy", store=store, batch_size=10, random_state=0)
if not store.queued_ids():
    loop.next_batch()
guidelines = Guidelines.load(ROOT / "examples" / "review" / "guidelines.md")

# %%
widget = ReviewWidget(store, reviewer=os.environ.get("VOTEWISE_REVIEWER", "notebook"), guidelines=guidelines,
                      loop=loop)
widget

# %% [markdown]
# Labels so far, and how the label model's view of each LF changed:

# %%
store.progress()

# %%
loop.lf_accuracy().round(3)
