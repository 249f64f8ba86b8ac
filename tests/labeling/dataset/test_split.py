"""Tests of stratified, group-aware splits and the cross-split leakage check on youtube comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.dataset import assign_splits, augment, leakage_report, near_duplicate_groups, split_dataset

FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}


@pytest.fixture(scope="module")
def comments(youtube):
    df = youtube.train.data.copy()
    df["label"] = youtube.train.y
    return df


def test_stratified_split_on_youtube(comments):
    where = assign_splits(comments, fractions=FRACTIONS, random_state=0)
    assert where.index.equals(comments.index)
    sizes = where.value_counts()
    for name, share in FRACTIONS.items():
        assert abs(sizes[name] - share * len(comments)) <= 2
    overall = comments["label"].mean()
    for name in FRACTIONS:
        assert abs(comments.loc[where == name, "label"].mean() - overall) < 0.01


def test_split_is_seeded(comments):
    a = assign_splits(comments, random_state=1)
    assert a.equals(assign_splits(comments, random_state=1))
    assert not a.equals(assign_splits(comments, random_state=2))


def test_near_duplicates_stay_together(comments):
    where = assign_splits(comments, near_duplicate_threshold=0.7, random_state=0)
    groups = near_duplicate_groups(comments["text"].tolist(), threshold=0.7)
    per_group = pd.Series(where.to_numpy()).groupby(groups).nunique()
    assert (per_group == 1).all()
    assert (pd.Series(groups).value_counts() > 1).sum() > 20  # real near-duplicate clusters exist
    splits = split_dataset(comments, near_duplicate_threshold=0.7, random_state=0)
    assert leakage_report(splits, threshold=0.8).empty


def test_leakage_report_finds_a_planted_leak(comments):
    splits = split_dataset(comments, random_state=0)
    assert len(leakage_report(splits, threshold=0.8)) > 0  # exact copies in the raw data leak
    train = splits["train"]
    test = train.iloc[:1].copy()
    test.index = ["planted"]
    test["text"] = test["text"] + "!"
    report = leakage_report({"train": train, "test": test}, threshold=0.8)
    assert ("train", train.index[0], "test", "planted") in set(
        zip(report["split_a"], report["id_a"], report["split_b"], report["id_b"])
    )


def test_augmented_rows_follow_their_source(comments):
    small = comments.iloc[:200]
    extra = augment(small, methods=["swap", "delete"], random_state=0)
    both = pd.concat([small, extra])
    groups = both["source_id"].fillna(pd.Series(both.index, index=both.index))
    where = assign_splits(both, groups=groups.to_numpy(), random_state=0)
    src_split = where.loc[extra["source_id"]].to_numpy()
    assert (where.loc[extra.index].to_numpy() == src_split).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2)), min_size=1, max_size=60),
    st.integers(0, 1000),
)
def test_groups_never_split(rows, seed):
    df = pd.DataFrame(rows, columns=["group", "label"])
    where = assign_splits(df, groups="group", random_state=seed)
    assert (where.groupby(df["group"]).nunique() == 1).all()
    assert set(where) <= set(FRACTIONS)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"fractions": {"train": 0.8, "test": 0.1}}, ValueError, "add up to 0.9; they must add up to 1"),
    ({"fractions": {"train": -1, "test": 2}}, ValueError, "must be numbers >= 0"),
    ({"fractions": {}}, ValueError, "fractions is empty"),
    ({"label_column": "gold"}, KeyError, "label_column='gold' is not a column"),
    ({"groups": "video"}, KeyError, "groups='video' is not a column"),
    ({"groups": np.arange(3)}, ValueError, "groups has 3 entries for"),
])
def test_split_errors(comments, kwargs, error, match):
    with pytest.raises(error, match=match):
        assign_splits(comments, **kwargs)


def test_unstratified_and_zero_share(comments):
    where = assign_splits(comments, fractions={"train": 0.9, "valid": 0.0, "test": 0.1}, label_column=None)
    assert "valid" not in set(where)
