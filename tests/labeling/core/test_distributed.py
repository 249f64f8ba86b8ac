import numpy as np
import pandas as pd
import pytest

import rules
from labeling import (
    ABSTAIN, LFError, apply_lfs, apply_lfs_dask, fit_label_model_dask, labeling_function, vote_patterns,
    vote_patterns_dask,
)
from models import MajorityVote
from tests.conftest import pattern_table

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

SPAM, HAM = 1, 0


def lfs():
    @labeling_function()
    def kw_check(x):
        return SPAM if "check" in x.text.lower() else ABSTAIN

    @labeling_function(vectorized=True)
    def short(df):
        return np.where(df.text.str.split().str.len() < 5, HAM, ABSTAIN)

    return [kw_check, short, rules.keyword_lf("kw_song", ["song", "music"], HAM), rules.regex_lf("re_sub", r"sub\w*", SPAM)]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data(youtube):
    test = youtube.test.data[["text"]]
    return pd.concat([youtube.train.data[["text"]], test.set_axis([f"test-{i}" for i in test.index])])


def test_dask_votes_equal_apply_lfs(client, data):
    votes = apply_lfs_dask(dd.from_pandas(data, npartitions=5, sort=False), lfs(), cardinality=2)
    assert list(votes.dtypes) == [np.int8] * 4
    got = votes.compute()
    expected = apply_lfs(data, lfs(), cardinality=2, progress=False)
    assert got.index.tolist() == expected.index.tolist()
    assert np.array_equal(got.to_numpy(), expected.values)
    assert len(client.scheduler_info()["workers"]) == 2


def test_pattern_counts_and_model_fit_on_the_cluster(client, data):
    votes = apply_lfs_dask(dd.from_pandas(data, npartitions=7, sort=False), lfs(), cardinality=2)
    vp = vote_patterns_dask(votes, split_every=2)
    expected = apply_lfs(data, lfs(), cardinality=2, progress=False)
    exact = vote_patterns(expected)
    assert pattern_table(vp.patterns, vp.counts) == pattern_table(exact.patterns, exact.counts)
    assert vp.lf_names == ["kw_check", "short", "kw_song", "re_sub"]
    model = fit_label_model_dask(MajorityVote(cardinality=2), votes)
    assert np.allclose(model.predict_proba(expected), MajorityVote(cardinality=2).fit(expected).predict_proba(expected))


def test_errors_come_back_named(client, data):
    @labeling_function()
    def lf_author(x):
        return SPAM if x.author == "bot" else ABSTAIN

    votes = apply_lfs_dask(dd.from_pandas(data, npartitions=3, sort=False), [lf_author])
    with pytest.raises(LFError, match=r"LF 'lf_author' failed on row 0 \(id '[\w-]+'\): AttributeError.*in partition \d"):
        votes.compute()
    with pytest.raises(TypeError, match="must be a dask.dataframe.DataFrame"):
        apply_lfs_dask(data, lfs())


@pytest.mark.parametrize("split_every", [2, 3, 16])
def test_pattern_counts_of_any_vote_frame_with_empty_partitions(client, data, split_every):
    expected = apply_lfs(data, lfs(), cardinality=2, progress=False)
    keep = len(data) // 3
    frame = expected.to_dataframe().assign(keep=np.arange(len(data)) < keep)
    ddf = dd.from_pandas(frame, npartitions=6, sort=False)
    with_empty = ddf[ddf.keep].drop(columns="keep")  # the last partitions keep no row at all
    vp = vote_patterns_dask(with_empty, split_every=split_every)
    exact = vote_patterns(expected.values[:keep])
    assert pattern_table(vp.patterns, vp.counts) == pattern_table(exact.patterns, exact.counts)
    assert vp.n_rows == keep and vp.lf_names == list(expected.lf_names)
    with pytest.raises(ValueError, match="split_every=1"):
        vote_patterns_dask(ddf, split_every=1)
