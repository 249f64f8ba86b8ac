import re

import numpy as np
import pytest
from snorkel.labeling import PandasLFApplier
from snorkel.labeling import labeling_function as snorkel_lf

from labeling import ABSTAIN, LFError, LabelMatrix, apply_lfs, labeling_function, preprocessor

SPAM, HAM = 1, 0


def row_lfs():
    @labeling_function()
    def kw_my(x):
        return SPAM if "my" in x.text.lower().split() else ABSTAIN

    @labeling_function()
    def kw_song(x):
        return HAM if "song" in x.text.lower() else ABSTAIN

    @labeling_function()
    def re_check_out(x):
        return SPAM if re.search(r"check.*out", x.text, flags=re.I) else ABSTAIN

    @labeling_function()
    def short(x):
        return HAM if len(x.text.split()) < 5 else ABSTAIN

    return [kw_my, kw_song, re_check_out, short]


def batch_lfs():
    @labeling_function(name="kw_my", vectorized=True)
    def kw_my(df):
        words = df.text.str.lower().str.split()
        return np.where(words.apply(lambda w: "my" in w), SPAM, ABSTAIN)

    @labeling_function(name="kw_song", vectorized=True)
    def kw_song(df):
        return np.where(df.text.str.lower().str.contains("song", regex=False), HAM, ABSTAIN)

    @labeling_function(name="re_check_out", vectorized=True)
    def re_check_out(df):
        return np.where(df.text.str.contains(r"check.*out", flags=re.I), SPAM, ABSTAIN)

    @labeling_function(name="short", vectorized=True)
    def short(df):
        return np.where(df.text.str.split().str.len() < 5, HAM, ABSTAIN)

    return [kw_my, kw_song, re_check_out, short]


@pytest.fixture(scope="module")
def texts(youtube):
    return youtube.train.data


@pytest.fixture(scope="module")
def reference(texts):
    return apply_lfs(texts, row_lfs(), progress=False)


def test_matrix_matches_snorkel_applier(youtube, reference):
    sn = [snorkel_lf(name=lf.name)(lf.f) for lf in row_lfs()]
    L_snorkel = PandasLFApplier(sn).apply(youtube.train.data.reset_index(drop=True), progress_bar=False)
    assert np.array_equal(reference.values, L_snorkel)
    assert reference.lf_names == ("kw_my", "kw_song", "re_check_out", "short")
    assert reference.index.equals(youtube.train.data.index)
    assert reference.dtype == np.int8
    assert (reference.values != ABSTAIN).any(axis=0).all()  # every LF fires somewhere


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_jobs": 2},
        {"chunk_size": 7},
        {"n_jobs": 2, "chunk_size": 100},
        {"cardinality": 2},
    ],
)
def test_every_path_gives_the_same_matrix(texts, reference, kwargs):
    assert apply_lfs(texts, row_lfs(), progress=False, **kwargs) == reference


@pytest.mark.parametrize("chunk_size", [None, 13])
def test_batch_lfs_equal_row_lfs(texts, reference, chunk_size):
    assert apply_lfs(texts, batch_lfs(), progress=False, chunk_size=chunk_size) == reference


def test_mixed_row_and_batch_lfs(texts, reference):
    mixed = [row_lfs()[0], batch_lfs()[1], row_lfs()[2], batch_lfs()[3]]
    assert apply_lfs(texts, mixed, progress=False, n_jobs=2) == reference


def test_raising_lf_names_lf_row_and_id_and_chains_cause(texts):
    @labeling_function()
    def lf_author(x):
        return SPAM if x.author == "bot" else ABSTAIN

    with pytest.raises(LFError, match=r"LF 'lf_author' failed on row 0 \(id '0'\): AttributeError") as info:
        apply_lfs(texts, [lf_author], progress=False)
    assert isinstance(info.value.__cause__, AttributeError)
    assert (info.value.lf, info.value.position, info.value.row_id) == ("lf_author", 0, "0")


def test_raising_batch_lf_is_traced_to_its_row(texts):
    @labeling_function(vectorized=True)
    def lf_fragile(df):
        if df.text.str.contains("Katy").any():
            raise ValueError("cannot handle Katy")
        return np.full(len(df), ABSTAIN)

    first = int(np.flatnonzero(texts.text.str.contains("Katy").to_numpy())[0])
    with pytest.raises(LFError, match=rf"LF 'lf_fragile' failed on row {first} \(id '{texts.index[first]}'\)"):
        apply_lfs(texts, [lf_fragile], progress=False, chunk_size=500)


def test_fault_tolerant_abstains_and_reports(texts):
    @labeling_function()
    def lf_picky(x):
        if "song" in x.text:
            raise RuntimeError("boom")
        return SPAM

    with pytest.warns(UserWarning, match=r"LF call\(s\) raised and abstained instead: lf_picky"):
        L = apply_lfs(texts, [lf_picky], progress=False, fault_tolerant=True, n_jobs=2)
    song = texts.text.str.contains("song").to_numpy()
    assert (L.values[song, 0] == ABSTAIN).all() and (L.values[~song, 0] == SPAM).all()
    assert [f.position for f in L.failures] == np.flatnonzero(song).tolist()
    assert L.failures[0].error == "RuntimeError: boom"
    assert L.failures[0].row_id == texts.index[np.flatnonzero(song)[0]]


@pytest.mark.parametrize(
    "value, match",
    [
        (None, r"returned None \(NoneType\) on row 0 \(id '0'\); expected an integer class id or -1 \(return ABSTAIN"),
        (0.5, r"returned 0.5 \(float\)"),
        (True, r"returned True \(bool\)"),
        ("SPAM", r"returned 'SPAM' \(str\)"),
        (3, r"voted 3 on row 0 \(id '0'\); expected -1..1"),
        (-5, r"voted -5 on row 0"),
    ],
)
def test_invalid_votes_name_lf_row_and_value(texts, value, match):
    lf = labeling_function(name="lf_bad")(lambda x: value)
    with pytest.raises(LFError, match=match):
        apply_lfs(texts.head(3), [lf], progress=False, cardinality=2, fault_tolerant=True)


def test_batch_lf_output_checks(texts):
    wrong_len = labeling_function(name="lf_len", vectorized=True)(lambda df: np.zeros(len(df) - 1, dtype=int))
    with pytest.raises(LFError, match=r"'lf_len' returned shape \(9,\) for a chunk of 10 rows"):
        apply_lfs(texts.head(10), [wrong_len], progress=False)
    floats = labeling_function(name="lf_nan", vectorized=True)(lambda df: np.r_[np.nan, np.zeros(len(df) - 1)])
    with pytest.raises(LFError, match=r"'lf_nan' returned nan .* on row 0"):
        apply_lfs(texts.head(10), [floats], progress=False)


def test_bad_arguments(texts):
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        apply_lfs([{"text": "a"}], row_lfs(), progress=False)
    with pytest.raises(ValueError, match="No labeling functions"):
        apply_lfs(texts, [], progress=False)
    with pytest.raises(ValueError, match="Two LFs are named 'kw_my'"):
        apply_lfs(texts, row_lfs() + batch_lfs()[:1], progress=False)


def test_preprocessors_run_before_row_and_batch_lfs(texts):
    @preprocessor(memoize=True)
    def lower(x):
        x.lower = x.text.lower()
        return x

    @preprocessor(vectorized=True)
    def lower_df(df):
        return df.assign(lower=df.text.str.lower())

    row = labeling_function(name="lf", pre=[lower])(lambda x: SPAM if "subscribe" in x.lower else ABSTAIN)
    batch = labeling_function(name="lf", pre=[lower_df], vectorized=True)(
        lambda df: np.where(df.lower.str.contains("subscribe"), SPAM, ABSTAIN)
    )
    a = apply_lfs(texts, [row], progress=False)
    b = apply_lfs(texts, [batch], progress=False)
    assert a == b
    assert (a.values == SPAM).sum() == texts.text.str.lower().str.contains("subscribe").sum() > 100


def test_series_input_and_saved_matrix(tmp_path, texts):
    L = apply_lfs(texts.text, row_lfs()[:2], progress=False)
    L.save(tmp_path / "L.npz")
    assert LabelMatrix.load(tmp_path / "L.npz") == L


def test_fault_tolerant_row_lf_is_called_once_per_row_and_resumes_after_failures(texts):
    calls = []

    @labeling_function()
    def lf_counting(x):
        calls.append(x.text)
        if "song" in x.text:
            raise RuntimeError("boom")
        return np.int64(SPAM) if "check" in x.text else SPAM  # numpy ints are votes too

    with pytest.warns(UserWarning, match="lf_counting"):
        L = apply_lfs(texts, [lf_counting], progress=False, fault_tolerant=True, dedup=False, chunk_size=300)
    assert calls == texts.text.tolist()
    song = texts.text.str.contains("song").to_numpy()
    assert (L.values[song, 0] == ABSTAIN).all() and (L.values[~song, 0] == SPAM).all()
    assert [f.position for f in L.failures] == np.flatnonzero(song).tolist()


def test_an_invalid_vote_is_reported_before_a_later_raising_row(texts):
    song = int(np.flatnonzero(texts.text.str.contains("song").to_numpy())[0])

    @labeling_function()
    def lf_sloppy(x):
        if "song" in x.text:
            raise RuntimeError("boom")
        return None

    with pytest.raises(LFError, match=r"returned None \(NoneType\) on row 0 "):
        apply_lfs(texts.iloc[: song + 1], [lf_sloppy], progress=False)


def test_row_lfs_see_every_column_with_its_python_value(texts):
    df = texts.head(50).assign(n_chars=texts.head(50).text.str.len(), flag=True)

    @labeling_function()
    def lf_columns(x):
        assert sorted(x) == sorted(df.columns) and type(x.n_chars) is int and x.flag is True
        return SPAM if x.n_chars > 40 and x["text"] else HAM

    L = apply_lfs(df, [lf_columns], progress=False)
    assert L.values[:, 0].tolist() == np.where(df.n_chars > 40, SPAM, HAM).tolist()
