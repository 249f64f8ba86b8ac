"""The LF cache misses exactly when an LF's votes may change: one test per kind of edit.

Each scenario writes an LF file (and its neighbours) to a folder, loads it with ``load_lfs``, applies
it with a cache, then either reloads it unchanged (every column must hit) or edits one thing the LF
depends on (its column must miss and the votes must be the new ones).
"""

import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from labeling import LFCache, apply_lfs, labeling_function, load_lfs
from labeling.core.fingerprint import lf_fingerprint

# Every scenario must be cached through its fingerprint, not skipped as uncacheable (which warns).
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

DATA = pd.DataFrame({"text": ["free money now", "great song", "win a free prize", "hi", "check out my channel"]})


@pytest.fixture(autouse=True)
def _no_bytecode(monkeypatch):
    # Edits within one second can keep a module's size and mtime: no stale .pyc may hide them.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


@pytest.fixture()
def project(tmp_path):
    class Project:
        folder = tmp_path / "proj"
        cache = LFCache(tmp_path / "cache")

        def write(self, name, source):
            self.folder.mkdir(exist_ok=True)
            (self.folder / name).write_text(textwrap.dedent(source), encoding="utf-8")

        def run(self, **kwargs):
            lfs = load_lfs(self.folder / "lfs.py")
            return lfs, apply_lfs(DATA, lfs, cache=self.cache, progress=False, **kwargs)

    return Project()


def votes(L, name):
    return L.values[:, L.lf_names.index(name)].tolist()


def test_helper_function_in_an_imported_module(project):
    project.write("helpers.py", "def is_spam(text):\n    return 'free' in text\n")
    project.write("lfs.py", """
        import helpers
        from labeling import labeling_function

        @labeling_function()
        def lf_helper(x):
            return 1 if helpers.is_spam(x.text) else -1
    """)
    _, L = project.run()
    assert project.cache.misses_ == ["lf_helper"] and votes(L, "lf_helper") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_helper"]
    project.write("helpers.py", "def is_spam(text):\n    return 'channel' in text\n")
    _, L = project.run()
    assert project.cache.misses_ == ["lf_helper"] and votes(L, "lf_helper") == [-1, -1, -1, -1, 1]


def test_constant_in_a_sibling_module(project):
    project.write("cfg.py", "MIN_LEN = 3\nUNUSED = 1\n")
    project.write("lfs.py", """
        import cfg
        from labeling import labeling_function

        @labeling_function()
        def lf_long(x):
            return 0 if len(x.text.split()) >= cfg.MIN_LEN else -1
    """)
    _, L = project.run()
    assert votes(L, "lf_long") == [0, -1, 0, -1, 0]
    project.write("cfg.py", "MIN_LEN = 3\nUNUSED = 2\n")  # another name in cfg: still a hit
    project.run()
    assert project.cache.hits_ == ["lf_long"]
    project.write("cfg.py", "MIN_LEN = 4\nUNUSED = 2\n")
    _, L = project.run()
    assert project.cache.misses_ == ["lf_long"] and votes(L, "lf_long") == [-1, -1, 0, -1, 0]


LEXICON_LF = """
    import pandas as pd
    from labeling import labeling_function

    LEXICON = pd.DataFrame({"word": ["free", "win"], "label": [1, 1]})

    @labeling_function()
    def lf_lexicon(x):
        hits = LEXICON[LEXICON.word.isin(x.text.split())]
        return int(hits.label.iloc[0]) if len(hits) else -1
"""


def test_global_dataframe_lexicon(project):
    project.write("lfs.py", LEXICON_LF)
    lfs, L = project.run()
    assert votes(L, "lf_lexicon") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_lexicon"]
    lf = lfs[0]
    lf.f.__globals__["LEXICON"] = pd.DataFrame({"word": ["song"], "label": [0]})
    L = apply_lfs(DATA, [lf], cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_lexicon"] and votes(L, "lf_lexicon") == [-1, 0, -1, -1, -1]
    # Edited in place (same object, new value) also misses.
    lf.f.__globals__["LEXICON"].loc[0, "word"] = "hi"
    L = apply_lfs(DATA, [lf], cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_lexicon"] and votes(L, "lf_lexicon") == [-1, -1, -1, 0, -1]


def test_global_dataclass_config(project):
    project.write("lfs.py", """
        from dataclasses import dataclass
        from labeling import labeling_function

        @dataclass
        class Config:
            word: str = "free"

        CFG = Config()

        @labeling_function()
        def lf_cfg(x):
            return 1 if CFG.word in x.text else -1
    """)
    lfs, L = project.run()
    assert votes(L, "lf_cfg") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_cfg"]
    lfs[0].f.__globals__["CFG"].word = "song"
    L = apply_lfs(DATA, lfs, cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_cfg"] and votes(L, "lf_cfg") == [-1, 1, -1, -1, -1]


def test_global_sklearn_model_retrained(project):
    project.write("lfs.py", """
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from labeling import labeling_function

        MODEL = LogisticRegression().fit(np.array([[1.0], [2.0], [3.0], [4.0]]), [0, 0, 1, 1])

        @labeling_function()
        def lf_model(x):
            return int(MODEL.predict(np.array([[len(x.text.split())]]))[0])
    """)
    lfs, L = project.run()
    first = votes(L, "lf_model")
    project.run()
    assert project.cache.hits_ == ["lf_model"]
    lfs[0].f.__globals__["MODEL"].fit(np.array([[1.0], [2.0], [3.0], [4.0]]), [1, 1, 0, 0])  # retrained in place
    L = apply_lfs(DATA, lfs, cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_model"] and votes(L, "lf_model") == [1 - v for v in first]


def test_lru_cache_helper(project):
    source = """
        import functools
        from labeling import labeling_function

        @functools.lru_cache(maxsize=None)
        def spam_words():
            return frozenset({WORDS})

        @labeling_function()
        def lf_cached_words(x):
            return 1 if spam_words() & set(x.text.split()) else -1
    """
    project.write("lfs.py", source.replace("WORDS", "'free'"))
    _, L = project.run()
    assert votes(L, "lf_cached_words") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_cached_words"]
    project.write("lfs.py", source.replace("WORDS", "'song'"))
    _, L = project.run()
    assert project.cache.misses_ == ["lf_cached_words"] and votes(L, "lf_cached_words") == [-1, 1, -1, -1, -1]


def test_callable_object(project):
    source = """
        from labeling import labeling_function

        class Matcher:
            def __init__(self, word):
                self.word = word

            def __call__(self, text):
                return OP

        MATCH = Matcher("free")
        direct = labeling_function(name="lf_direct")(lambda x: 1 if MATCH(x.text) else -1)
        object_lf = labeling_function(name="lf_object")(MATCH)
        lfs = [direct]
    """
    project.write("lfs.py", source.replace("OP", "self.word in text"))
    lfs, L = project.run()
    assert votes(L, "lf_direct") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_direct"]
    lfs[0].f.__globals__["MATCH"].word = "song"  # the object's state
    L = apply_lfs(DATA, lfs, cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_direct"] and votes(L, "lf_direct") == [-1, 1, -1, -1, -1]
    project.write("lfs.py", source.replace("OP", "self.word not in text"))  # the class's code
    lfs, L = project.run()
    assert project.cache.misses_ == ["lf_direct"] and votes(L, "lf_direct") == [-1, 1, -1, 1, 1]
    # A callable object as the LF itself: its state is part of its fingerprint.
    module = sys.modules[lfs[0].f.__module__]
    before = lf_fingerprint(module.object_lf)
    module.MATCH.word = "win"
    assert lf_fingerprint(module.object_lf) != before


def test_file_read_at_call_time_is_uncached_unless_declared(project, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("free\n", encoding="utf-8")
    project.write("lfs.py", f"""
        from labeling import labeling_function

        @labeling_function()
        def lf_file(x):
            with open({str(words)!r}, encoding="utf-8") as fh:
                return 1 if any(w in x.text for w in fh.read().split()) else -1

        @labeling_function(resources=[{str(words)!r}])
        def lf_declared(x):
            with open({str(words)!r}, encoding="utf-8") as fh:
                return 1 if any(w in x.text for w in fh.read().split()) else -1
    """)
    with pytest.warns(UserWarning, match=r"LF 'lf_file'.*calls open\(\).*resources=\[paths\]"):
        project.run()
    assert project.cache.misses_ == ["lf_file", "lf_declared"] and "lf_file" in project.cache.uncached_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the reason is printed once, not on every run
        project.run()
    assert project.cache.hits_ == ["lf_declared"] and project.cache.misses_ == ["lf_file"]
    words.write_text("song\n", encoding="utf-8")
    _, L = project.run()
    assert project.cache.misses_ == ["lf_file", "lf_declared"]
    assert votes(L, "lf_declared") == votes(L, "lf_file") == [-1, 1, -1, -1, -1]


def test_cache_key_hook(project):
    project.write("lfs.py", """
        from labeling import labeling_function

        STATE = {"version": 1}

        @labeling_function(cache_key=lambda: STATE["version"])
        def lf_keyed(x):
            return 1 if "free" in x.text else -1
    """)
    lfs, _ = project.run()
    project.run()
    assert project.cache.hits_ == ["lf_keyed"]
    lfs[0].f.__globals__["STATE"]["version"] = 2
    apply_lfs(DATA, lfs, cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_keyed"]


def test_module_attribute_is_not_a_global_of_the_same_name(project):
    source = """
        import numpy as np
        from labeling import labeling_function

        @labeling_function(vectorized=True)
        def where(df):
            return np.full(len(df), WHERE_VOTE)

        @labeling_function(vectorized=True)
        def what(df):
            return np.where(df.text.str.contains("free"), 1, -1)

        @labeling_function(vectorized=True)
        def who(df):
            return np.where(df.text.str.contains("song"), 0, -1)
    """
    project.write("lfs.py", source.replace("WHERE_VOTE", "-1"))
    project.run()
    project.write("lfs.py", source.replace("WHERE_VOTE", "0"))
    _, L = project.run()
    assert project.cache.misses_ == ["where"] and project.cache.hits_ == ["what", "who"]
    assert votes(L, "where") == [0] * 5


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04garbage", "truncate", "flip"])
def test_damaged_cache_file_is_recomputed_with_a_warning_naming_it(project, damage):
    project.write("lfs.py", LEXICON_LF)
    _, first = project.run()
    [entry] = [p for p in project.cache.location.glob("*/*.npz") if p.name != "rows.npz"]
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":  # a bad CRC inside the zip
        entry.write_bytes(raw[:60] + bytes([raw[60] ^ 0xFF]) + raw[61:])
    else:
        entry.write_bytes(damage)
    with pytest.warns(UserWarning, match=rf"Cache file .*{entry.name}.*damaged"):
        _, again = project.run()
    assert project.cache.misses_ == ["lf_lexicon"] and again == first
    project.run()
    assert project.cache.hits_ == ["lf_lexicon"]


def test_file_reads_outside_the_voting_code_do_not_make_an_lf_uncacheable(project, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("free\n", encoding="utf-8")
    project.write("lfs.py", f"""
        from labeling import labeling_function, load_lfs
        from rules import kb_lf
        from sources import KnowledgeBase

        class Matcher:
            @classmethod
            def from_file(cls, path):
                with open(path, encoding="utf-8") as fh:
                    return cls(fh.read().split())

            def __init__(self, words):
                self.words = words

            def __call__(self, text):
                return any(w in text for w in self.words)

        MATCH = Matcher.from_file({str(words)!r})
        KB = KnowledgeBase.from_mapping({{"free": 1}})
        lfs = [labeling_function(name="lf_matcher")(lambda x: 1 if MATCH(x.text) else -1), kb_lf("lf_kb", KB)]
    """)
    project.run()
    project.run()
    assert project.cache.hits_ == ["lf_matcher", "lf_kb"] and project.cache.uncached_ == {}


def test_knowledge_base_read_as_a_global(project):
    project.write("lfs.py", """
        from labeling import labeling_function
        from sources import KnowledgeBase

        KB = KnowledgeBase.from_mapping({"free": 1})

        @labeling_function()
        def lf_kb_global(x):
            return 1 if KB.match(x.text) else -1
    """)
    lfs, L = project.run()
    assert votes(L, "lf_kb_global") == [1, -1, 1, -1, -1]
    project.run()
    assert project.cache.hits_ == ["lf_kb_global"], (project.cache.misses_, project.cache.uncached_)
    from sources import KnowledgeBase

    lfs[0].f.__globals__["KB"] = KnowledgeBase.from_mapping({"song": 1})
    L = apply_lfs(DATA, lfs, cache=project.cache, progress=False)
    assert project.cache.misses_ == ["lf_kb_global"] and votes(L, "lf_kb_global") == [-1, 1, -1, -1, -1]


def test_adding_a_regex_lf_keeps_the_other_regex_lfs_cached(project):
    project.write("lfs.py", """
        from rules import regex_lf
        lfs = [regex_lf("r_free", r"fr.e", 1)]
    """)
    project.run()
    project.write("lfs.py", """
        from rules import regex_lf
        lfs = [regex_lf("r_free", r"fr.e", 1), regex_lf("r_song", r"s.ng", 0)]
    """)
    project.run()
    assert project.cache.hits_ == ["r_free"] and project.cache.misses_ == ["r_song"]
