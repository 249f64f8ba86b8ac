"""Bad inputs and faults across the API, the CLI and the files.

Every case asserts the error type and that the message names where the problem is (the file and
line, the row, the LF or the value), or, for inputs that used to give silently wrong results, the
right result. The LF cache's edit scenarios are in ``tests/labeling/core/test_cache_scenarios.py``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from labeling import (
    LabelMatrix, LFError, apply_lfs, apply_lfs_to_file, iter_chunks, labeling_function, lf_summary, load_lfs,
    preprocessor, read_votes,
)
from labeling.app.cli import main
from rules import regex_lf, rules_from_file
from sources import read_csv, read_jsonl, read_parquet, read_table, read_wrench

TEXTS = ["free money now", "great song", "win a free prize", "hi", "check out my channel"]


def frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"text": [TEXTS[i % len(TEXTS)] for i in range(n)]})


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def cli(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


# --- 3. YAML: size and alias-expansion limits, short quotes -------------------------------------

LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
)


def _yaml():
    # Imported per test, so that each case fails on its own (not the whole file) where the limits are missing.
    from labeling.core import safe_yaml

    return safe_yaml


def laughs_rule_file(tmp_path):
    return write(tmp_path / "rules.yaml", LAUGHS + "\nrules:\n  - label: 1\n    keywords: *i\n")


def test_yaml_alias_bomb_in_a_rule_file_is_refused_quickly(tmp_path):
    path = laughs_rule_file(tmp_path)
    assert path.stat().st_size < 600
    start = time.perf_counter()
    with pytest.raises(_yaml().YAMLLimitError, match=r"rules\.yaml.*expands to more than"):
        rules_from_file(path, class_names=["ham", "spam"])
    assert time.perf_counter() - start < 5


def test_yaml_alias_bomb_in_a_pipeline_config(tmp_path):
    from labeling.app.pipeline import PipelineError, load_config

    path = write(tmp_path / "pipeline.yaml", LAUGHS + "\n")
    with pytest.raises(PipelineError, match=r"pipeline\.yaml.*expands to more than"):
        load_config(path)


def test_yaml_alias_bomb_in_guidelines(tmp_path):
    from labeling.review.guidelines import Guidelines

    path = write(tmp_path / "guide.yaml", LAUGHS + "\n")
    with pytest.raises(_yaml().YAMLLimitError, match=r"guide\.yaml"):
        Guidelines.load(path)


def test_yaml_size_limit(tmp_path):
    path = write(tmp_path / "big.yaml", "rules: []\n" + "# padding\n" * 200)
    with pytest.raises(_yaml().YAMLLimitError, match=r"big\.yaml: .* bytes"):
        _yaml().load_yaml(path, max_bytes=1000)


def test_yaml_undefined_alias_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "rules.yaml", "rules:\n  - label: 1\n    keywords: *nowhere\n")
    with pytest.raises(ValueError, match=r"rules\.yaml, line 3, column 15: not valid YAML \(found undefined alias 'nowhere'\)"):
        rules_from_file(path)


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "rules.yaml", "rules:\n  - label: 1\n   keywords: [free\n")
    with pytest.raises(ValueError, match=r"rules\.yaml, line 3, column 4: not valid YAML \(while parsing"):
        rules_from_file(path)


def test_messages_quote_a_short_prefix_of_huge_values(tmp_path):
    path = write(tmp_path / "rules.yaml", "rules:\n  - label: 1\n    keywords: [" + ", ".join(["1"] * 5000) + "]\n")
    with pytest.raises(ValueError, match=r"rules\.yaml, rule 0: .*keywords must be non-empty strings") as info:
        rules_from_file(path)
    assert len(str(info.value)) < 400
    assert len(_yaml().short_repr(list(range(10**6)))) <= 80


# --- 2. Regexes cannot hang -------------------------------------------------------------------

EVIL_TEXT = "a" * 30 + "!"


@pytest.mark.parametrize("kind", ["yaml", "tsv"])
def test_nested_quantifier_from_a_rule_file_returns(tmp_path, kind):
    if kind == "yaml":
        path = write(tmp_path / "rules.yaml", "rules:\n  - label: 1\n    regex: '(a+)+$'\n")
    else:
        path = write(tmp_path / "rules.txt", "1\t(a+)+$\n")
    [lf] = rules_from_file(path, class_names=["ham", "spam"])
    start = time.perf_counter()
    L = apply_lfs(pd.DataFrame({"text": [EVIL_TEXT, "aaaa"]}), [lf], progress=False)
    assert time.perf_counter() - start < 10
    assert L.values[:, 0].tolist() == [-1, 1]  # the same votes as re.search


def test_catastrophic_regex_from_a_rule_file_gets_its_votes_on_re2(tmp_path):
    path = write(tmp_path / "rules.txt", "1\t(a|aa)+$\n")
    [lf] = rules_from_file(path, class_names=["ham", "spam"])
    data = pd.DataFrame({"text": ["fine", "a" * 60 + "!", "a" * 150_000, "a" * 150_000 + "!"]})
    start = time.perf_counter()
    L = apply_lfs(data, [lf], progress=False)
    assert time.perf_counter() - start < 10
    assert L.values[:, 0].tolist() == [-1, -1, 1, -1]


def test_python_engine_rule_past_its_time_limit_names_rule_and_row(tmp_path):
    path = write(tmp_path / "rules.yaml", "rules:\n  - {label: 1, regex: '(a|aa)+$', engine: python, timeout: 0.2}\n")
    [lf] = rules_from_file(path, class_names=["ham", "spam"])
    data = pd.DataFrame({"text": ["fine", "a" * 60 + "!"]}, index=["r1", "r2"])
    start = time.perf_counter()
    with pytest.raises(LFError, match=r"LF 'rule_00_1' failed on row 1 \(id 'r2'\).*rules\.yaml:rule 0.*0\.2 s limit"):
        apply_lfs(data, [lf], progress=False)
    assert time.perf_counter() - start < 20


def test_votewise_build_with_a_rule_re2_cannot_run_stops_naming_it(tmp_path, capsys):
    rows = [{"text": f"comment {i}: " + ("a" * 40 + "!" if i == 7 else TEXTS[i % 5])} for i in range(40)]
    write(tmp_path / "rows.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    write(tmp_path / "rules.yaml", "rules:\n  - {name: r_evil, label: SPAM, regex: '(?<=a)b'}\n"
                                   "  - {name: r_free, label: SPAM, keywords: [free]}\n")
    config = {"class_names": ["HAM", "SPAM"], "progress": False, "output": "out",
              "sources": [{"path": "rows.jsonl", "format": "jsonl"}], "lfs": {"rules": ["rules.yaml"]},
              "export": {"formats": ["csv"]}}
    write(tmp_path / "pipeline.yaml", yaml.safe_dump(config))
    start = time.perf_counter()
    code, err = cli(["build", tmp_path / "pipeline.yaml", "--quiet"], capsys)
    assert time.perf_counter() - start < 60
    assert code == 2 and "LF 'r_evil'" in err and "rules.yaml, rule 0" in err and "lookbehind" in err, err


def test_regex_timeout_names_pattern_and_text():
    from rules import RegexTimeout

    lf = regex_lf("evil", r"(x|xx)+y", 1, engine="python", timeout=0.2)
    with pytest.raises(RegexTimeout, match=r"LF 'evil'.*\(x\|xx\)\+y.*0\.2 s.*'xxxx"):
        lf.explain("x" * 60)


def test_python_engine_outside_the_main_thread_is_time_limited_too():
    import threading

    lf = regex_lf("evil", r"(x|xx)+y", 1, engine="python", timeout=0.2)
    caught: list[BaseException] = []

    def run():
        try:
            apply_lfs(pd.DataFrame({"text": ["x" * 60]}), [lf], progress=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            caught.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert isinstance(caught[0], LFError) and "LF 'evil' failed on row 0" in str(caught[0])


def test_regex_engines_leave_signal_handlers_alone():
    import signal

    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        for lf in (regex_lf("risky", r"(a|b)+c", 1), regex_lf("risky", r"(a|b)+c", 1, engine="python", timeout=0.2)):
            assert lf(pd.DataFrame({"text": ["abc", "ab"]})).tolist() == [1, -1]
        assert signal.getsignal(signal.SIGALRM) is mine and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


# --- 9. Rule files: every error names the file and the rule -----------------------------------

@pytest.mark.parametrize("rule, message", [
    ("label: 1\n    keywords: null", r"rule 0: LF .*keywords must be a string or a list of strings; got None"),
    ("label: 1\n    keywords: 5", r"rule 0: LF .*keywords must be a string or a list of strings; got 5"),
    ("label: 1\n    regex: 5", r"rule 0: regex must be a non-empty string; got 5"),
    ("label: 7\n    keywords: [free]", r"rule 0: label 7 is not a class id; expected 0\.\.1"),
    ("label: null\n    keywords: [free]", r"rule 0: each rule is a mapping with a 'label'"),
    ("label: [1]\n    keywords: [free]", r"rule 0: label \[1\] is not a class name or a class id"),
    ("label: 1\n    regex: 'a'\n    flags: 5", r"rule 0: flags takes a flag name or a list of names; got 5"),
    ("label: 1\n    regex: '(unclosed'", r"rule 0: LF .*invalid regular expression"),
    ("label: 1\n    length: 5", r"rule 0: length takes a mapping"),
])
def test_bad_yaml_rules_name_file_and_rule(tmp_path, rule, message):
    path = write(tmp_path / "rules.yaml", f"rules:\n  - {rule}\n")
    with pytest.raises(ValueError, match=r"rules\.yaml, " + message):
        rules_from_file(path, class_names=["ham", "spam"])


def test_tsv_label_outside_the_class_list(tmp_path):
    path = write(tmp_path / "rules.txt", "0\tsong\n9\tfree\n")
    with pytest.raises(ValueError, match=r"rules\.txt, line 2: label '9' is not a class id; expected 0\.\.1"):
        rules_from_file(path, class_names=["ham", "spam"])


def test_latin1_rule_file_names_the_line(tmp_path):
    path = write(tmp_path / "rules.txt", "0\tsong\n1\tcaf\u00e9\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"rules\.txt, line 2: not UTF-8 \(byte 0xe9\)"):
        rules_from_file(path, class_names=["ham", "spam"])


def test_rule_file_with_a_bom_reads_its_first_label(tmp_path):
    path = write(tmp_path / "rules.txt", "\ufeffSPAM\tfree\n", encoding="utf-8")
    [lf] = rules_from_file(path, class_names=["ham", "spam"])
    assert lf.label == 1


# --- 4. LFs see read-only rows and chunks --------------------------------------------------------

def test_row_lf_assigning_a_field_is_named():
    @labeling_function()
    def lf_lowers(x):
        x.text = x.text.lower()
        return -1

    with pytest.raises(LFError, match=r"LF 'lf_lowers' failed on row 0.*read-only \(field 'text'\)"):
        apply_lfs(frame(), [lf_lowers], progress=False)


@pytest.mark.parametrize("write_row", [
    lambda x: x.__setitem__("new", 1), lambda x: x.pop("text"), lambda x: x.update(text="b"), lambda x: x.clear(),
])
def test_every_row_write_is_refused_even_when_fault_tolerant(write_row):
    lf = labeling_function(name="lf_writer")(lambda x: write_row(x) or -1)
    with pytest.raises(LFError, match=r"LF 'lf_writer' failed on row 0.*RowWriteError"):
        apply_lfs(frame(), [lf], progress=False, fault_tolerant=True)


def test_later_lfs_are_not_affected_by_a_preprocessor():
    @preprocessor()
    def upper(x):
        x.text = x.text.upper()
        return x

    shout = labeling_function(name="shout", pre=[upper])(lambda x: 1 if "FREE" in x.text else -1)
    quiet = labeling_function(name="quiet")(lambda x: 1 if "free" in x.text else -1)
    L = apply_lfs(frame(), [shout, quiet], progress=False)
    assert L.values[:, 0].tolist() == L.values[:, 1].tolist() == [1, -1, 1, -1, -1]


def test_vectorized_lf_adding_a_column_is_named():
    @labeling_function(vectorized=True)
    def lf_adds(df):
        df["n"] = df.text.str.len()
        return np.full(len(df), -1)

    with pytest.raises(LFError, match=r"Vectorized LF 'lf_adds' added column\(s\) \['n'\]"):
        apply_lfs(frame(), [lf_adds], progress=False)


def test_vectorized_lf_writing_in_place_is_named_and_others_see_the_original():
    @labeling_function(vectorized=True)
    def lf_blanks(df):
        df.loc[df.index[0], "text"] = ""
        return np.full(len(df), -1)

    with pytest.raises(LFError, match=r"Vectorized LF 'lf_blanks' wrote into column 'text'"):
        apply_lfs(frame(), [lf_blanks], progress=False)


def test_vectorized_series_in_another_order_is_aligned_by_row_id():
    @labeling_function(vectorized=True)
    def lf_sorted(df):
        return df.text.str.contains("free").map({True: 1, False: -1}).sort_values()

    data = frame().set_axis(["a", "b", "c", "d", "e"])
    assert apply_lfs(data, [lf_sorted], progress=False).values[:, 0].tolist() == [1, -1, 1, -1, -1]


def test_vectorized_series_with_foreign_ids_is_refused():
    lf = labeling_function(name="lf_foreign", vectorized=True)(
        lambda df: pd.Series(-1, index=[f"z{i}" for i in range(len(df))])
    )
    with pytest.raises(LFError, match=r"Vectorized LF 'lf_foreign' returned a Series whose index.*'z0'"):
        apply_lfs(frame().set_axis(list("abcde")), [lf], progress=False)


def test_fresh_series_without_ids_keeps_the_chunk_order():
    lf = labeling_function(name="lf_fresh", vectorized=True)(
        lambda df: pd.Series(np.where(df.text.str.contains("free"), 1, -1))
    )
    data = frame().set_axis([10, 11, 12, 13, 14])
    assert apply_lfs(data, [lf], progress=False).values[:, 0].tolist() == [1, -1, 1, -1, -1]


# --- 5 and 9. Readers ---------------------------------------------------------------------------

def test_trailing_comma_on_data_rows_does_not_shift_columns(tmp_path):
    path = write(tmp_path / "d.csv", "id,text\n1,free money,\n2,great song,\n")
    df = read_csv(path, id_column="id")
    assert df.text.tolist() == ["free money", "great song"] and df.index.tolist() == [1, 2]


def test_trailing_comma_in_the_streaming_path(tmp_path):
    path = write(tmp_path / "d.csv", "id,text\n1,free money,\n2,great song,\n")
    [chunk] = list(iter_chunks(path))
    assert chunk.text.tolist() == ["free money", "great song"]


@pytest.mark.parametrize("reader", [read_csv, read_table, lambda p: next(iter_chunks(p))])
def test_latin1_csv_names_the_file_and_line(tmp_path, reader):
    path = write(tmp_path / "d.csv", "text\nhello\ncaf\u00e9\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"d\.csv, line 3: not valid utf-8 \(byte 0xe9"):
        reader(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_csv_with_a_byte_order_mark_is_read(tmp_path, encoding):
    path = write(tmp_path / "d.csv", "text,label\ncaf\u00e9,1\n", encoding=encoding)
    assert read_csv(path).to_dict("list") == {"text": ["caf\u00e9"], "label": [1]}
    assert next(iter_chunks(path)).columns.tolist() == ["text", "label"]


@pytest.mark.parametrize("reader", [read_csv, lambda p: next(iter_chunks(p))])
def test_empty_csv_names_the_file(tmp_path, reader):
    path = write(tmp_path / "empty.csv", "")
    with pytest.raises(ValueError, match=r"empty\.csv: the file is empty"):
        reader(path)


def test_broken_jsonl_in_the_streaming_path_names_file_and_line(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"text": "a"}\n{"text": "b"}\n{"text": "c"\n')
    with pytest.raises(ValueError, match=r"d\.jsonl, line 3: malformed JSON"):
        apply_lfs_to_file(path, [regex_lf("r", "a", 1)], tmp_path / "v.npy", progress=False)


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"text": "a"}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"d\.jsonl, line 2: expected a JSON object, got list"):
        list(iter_chunks(path))


def test_latin1_jsonl_names_the_line(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"text": "a"}\n{"text": "caf\u00e9"}\n', encoding="latin-1")
    with pytest.raises(ValueError, match=r"d\.jsonl, line 2: not valid utf-8"):
        read_jsonl(path)


def test_empty_jsonl_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"e\.jsonl: no JSON objects"):
        read_jsonl(write(tmp_path / "e.jsonl", "\n\n"))


@pytest.mark.parametrize("reader", [read_parquet, lambda p: next(iter_chunks(p))])
def test_garbage_parquet_names_the_file(tmp_path, reader):
    path = write(tmp_path / "d.parquet", b"not parquet at all")
    with pytest.raises(ValueError, match=r"d\.parquet: not a readable Parquet file"):
        reader(path)


def test_wrench_file_not_utf8_names_the_line(tmp_path):
    write(tmp_path / "label.json", '{"0": "ham", "1": "spam"}')
    write(tmp_path / "test.json", '{"0": {"label": 0, "weak_labels": [0],\n "data": {"text": "caf\u00e9"}}}',
          encoding="latin-1")
    with pytest.raises(ValueError, match=r"test\.json, line 2: not valid utf-8"):
        read_wrench(tmp_path)


# --- 6. Streaming never overwrites a complete result in place, and resumes ------------------------

def _stream_files(tmp_path, n=1000):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": [TEXTS[i % 5] for i in range(n)]}).to_csv(path, index=False)
    return path


def _counting_lf(calls, fail_at=None):
    @labeling_function(vectorized=True)
    def lf_count(df):
        calls.append(len(df))
        if fail_at is not None and sum(calls) > fail_at:
            raise KeyboardInterrupt  # a run killed midway
        return np.where(df.text.str.contains("free"), 1, -1)

    return lf_count


def test_killed_rerun_leaves_the_complete_result_as_it_was(tmp_path):
    path, out = _stream_files(tmp_path), tmp_path / "v.npy"
    apply_lfs_to_file(path, [_counting_lf([])], out, chunk_size=100, id_column="id", progress=False)
    before = read_votes(out)
    with pytest.raises(KeyboardInterrupt):
        apply_lfs_to_file(path, [_counting_lf([], fail_at=450)], out, chunk_size=100, id_column="id", progress=False)
    after = read_votes(out)
    assert after.shape == (1000, 1) and after == before
    assert json.loads(out.with_suffix(".json").read_text())["n_rows"] == 1000
    assert len(pd.read_parquet(out.with_suffix(".ids.parquet"))) == 1000
    assert (tmp_path / "v.npy.partial").exists()


def test_resume_labels_only_the_chunks_left(tmp_path, monkeypatch):
    import labeling.core.stream as stream

    path, out = _stream_files(tmp_path), tmp_path / "v.npy"
    done: list[int] = []
    real = stream.compute_votes

    def killed_after_four_chunks(*args, **kwargs):  # the run is killed from outside: the LF itself is unchanged
        if len(done) == 4:
            raise KeyboardInterrupt
        done.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "compute_votes", killed_after_four_chunks)
    with pytest.raises(KeyboardInterrupt):
        apply_lfs_to_file(path, [_counting_lf([])], out, chunk_size=100, id_column="id", progress=False)
    monkeypatch.setattr(stream, "compute_votes", real)
    assert not out.exists() and not out.with_suffix(".json").exists()
    calls: list[int] = []
    result = apply_lfs_to_file(path, [_counting_lf(calls)], out, chunk_size=100, id_column="id", progress=False,
                               resume=True)
    assert sum(calls) == 600  # chunks 5..10: the four finished ones are not labelled again
    full = apply_lfs_to_file(path, [_counting_lf([])], tmp_path / "full.npy", chunk_size=100, id_column="id",
                             progress=False)
    assert result.label_matrix() == full.label_matrix()
    assert result.patterns.counts.sum() == 1000
    assert not (tmp_path / "v.npy.partial").exists()


def test_votes_and_metadata_from_different_runs_are_refused(tmp_path):
    path, out = _stream_files(tmp_path), tmp_path / "v.npy"
    apply_lfs_to_file(path, [_counting_lf([])], out, chunk_size=100, progress=False)
    np.save(out, np.zeros((0, 1), dtype=np.int8))
    with pytest.raises(ValueError, match=r"v\.json says 1000 rows but .*v\.npy holds 0"):
        read_votes(out)


def test_unwritable_stream_output_fails_before_labelling(tmp_path):
    path = _stream_files(tmp_path)
    write(tmp_path / "afile", "x")
    calls: list[int] = []
    with pytest.raises(NotADirectoryError, match=r"afile"):
        apply_lfs_to_file(path, [_counting_lf(calls)], tmp_path / "afile" / "v.npy", progress=False)
    assert calls == []


# --- 7. LabelMatrix: no wrapped values, row ids keep their types ----------------------------------

@pytest.mark.parametrize("values", [
    np.array([[0], [4294967295]], dtype=np.uint32), np.array([[0], [2**31]], dtype=np.int64),
    np.array([[0.0], [3e9]]),
])
def test_values_past_int32_are_refused_not_wrapped(values):
    with pytest.raises(ValueError, match=r"\[1, 0\].*(4294967295|2147483648|3000000000)"):
        LabelMatrix(values)


def test_float_votes_without_cardinality_are_not_wrapped_into_int8():
    assert LabelMatrix(np.array([[300.0], [1.0]])).values[:, 0].tolist() == [300, 1]


@pytest.mark.parametrize("index", [
    pd.Index([1, "1"], dtype=object),
    pd.MultiIndex.from_tuples([("u", 1), ("u", 2)], names=["user", "n"]),
    pd.Index([0.5, 1.5]),
    pd.to_datetime(["2024-01-01", "2024-01-02"]),
    pd.Index([2**63 + 1, 2**63 + 2], dtype=np.uint64),
    pd.Index(["a", "b"], name="id"),
])
def test_row_ids_round_trip_with_their_types(tmp_path, index):
    L = LabelMatrix([[0], [1]], lf_names=["a"], index=index)
    back = LabelMatrix.load(L.save(tmp_path / "L.npz"))
    assert back.index.equals(index) and list(map(type, back.index)) == list(map(type, index))
    assert back.index.names == index.names


def test_row_ids_that_cannot_round_trip_are_refused(tmp_path):
    L = LabelMatrix([[0], [1]], index=pd.Index([("u", 1), ("v", 2)], tupleize_cols=False))
    with pytest.raises(TypeError, match=r"Row id at position 0 is a tuple"):
        L.save(tmp_path / "L.npz")


def test_save_reports_the_npz_it_wrote(tmp_path):
    written = LabelMatrix([[0]]).save(tmp_path / "L_nosuffix")
    assert written == tmp_path / "L_nosuffix.npz" and written.exists()


def test_loading_something_else_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"junk\.npz is not a votewise label matrix"):
        LabelMatrix.load(write(tmp_path / "junk.npz", b"nope"))


# --- 8. Gold labels are never dropped or scored silently ----------------------------------------

@pytest.fixture()
def matrix_and_gold(tmp_path):
    L = LabelMatrix([[1, -1], [0, 0], [1, 1]], lf_names=["a", "b"])
    L.save(tmp_path / "L.npz")
    write(tmp_path / "gold.csv", "text,label\nx,SPAM\ny,HAM\nz,SPAM\n")
    return tmp_path / "L.npz", tmp_path / "gold.csv"


def test_cli_analyze_string_gold_labels_without_names_is_an_error(matrix_and_gold, capsys):
    matrix, gold = matrix_and_gold
    code, err = cli(["analyze", matrix, "--data", gold], capsys)
    assert code == 2 and "gold.csv, row 0: gold label 'SPAM'" in err and "--classes" in err


def test_cli_analyze_maps_gold_names_with_labels(matrix_and_gold, capsys):
    matrix, gold = matrix_and_gold
    assert main(["analyze", str(matrix), "--data", str(gold), "--classes", "HAM,SPAM", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["correct"], r["incorrect"]) for r in records] == [(3, 0), (2, 0)]


def test_cli_analyze_gold_label_past_the_classes(tmp_path, capsys):
    LabelMatrix([[1], [0]]).save(tmp_path / "L.npz")
    write(tmp_path / "gold.csv", "text,label\nx,1\ny,5\n")
    code, err = cli(["analyze", tmp_path / "L.npz", "--data", tmp_path / "gold.csv", "--cardinality", "2"], capsys)
    assert code == 2 and "gold.csv: label[1] is 5; expected -1..1" in err


@pytest.mark.parametrize("y, message", [
    (["SPAM", "HAM"], r"y\[0\] is 'SPAM' \(str\)"), ([0.5, 1], r"y\[0\] is '0\.5'"), ([0, -3], r"y\[1\] is -3"),
])
def test_lf_summary_refuses_bad_gold_labels(y, message):
    with pytest.raises(ValueError, match=message):
        lf_summary([[0], [1]], y)


def test_lf_summary_gold_past_cardinality():
    with pytest.raises(ValueError, match=r"y\[1\] is 5; expected -1\.\.1"):
        lf_summary([[0], [1]], [0, 5], cardinality=2)


def _wrench(tmp_path, label, weak=0):
    write(tmp_path / "label.json", '{"0": "ham", "1": "spam"}')
    write(tmp_path / "test.json", json.dumps({"7": {"label": label, "weak_labels": [weak], "data": {"text": "x"}}}))
    return tmp_path


def test_wrench_gold_label_past_the_classes(tmp_path):
    with pytest.raises(ValueError, match=r"test\.json: record '7' has gold label 5; label\.json names 2 classes"):
        read_wrench(_wrench(tmp_path, 5))


def test_wrench_weak_label_past_the_classes(tmp_path):
    with pytest.raises(ValueError, match=r"test\.json: record '7' has weak label 3 from LF 0"):
        read_wrench(_wrench(tmp_path, 1, weak=3))


def test_wrench_string_gold_label(tmp_path):
    with pytest.raises(ValueError, match=r"test\.json: record '7' has label 'spam'"):
        read_wrench(_wrench(tmp_path, "spam"))


def test_cli_bench_bad_gold_is_one_line(tmp_path, capsys):
    code, err = cli(["bench", _wrench(tmp_path, 5), "--quiet"], capsys)
    assert code == 2 and "record '7' has gold label 5" in err


# --- 9. CLI: errors that say where, checked before the work ------------------------------------

@pytest.fixture()
def project(tmp_path):
    write(tmp_path / "d.csv", "text\nfree money\ngreat song\n")
    write(tmp_path / "lfs.py", "from labeling import labeling_function\n"
                               "@labeling_function()\n"
                               "def lf_free(x):\n"
                               "    open(__file__ + '.called', 'w').close()\n"
                               "    return 1 if 'free' in x.text else -1\n")
    return tmp_path


@pytest.mark.parametrize("option", ["--out", "--cache"])
def test_cli_unwritable_output_fails_before_the_apply(project, capsys, option):
    write(project / "afile", "x")
    argv = ["apply", "--data", project / "d.csv", "--lfs", project / "lfs.py", "--quiet", "--out", project / "L.npz"]
    argv += [option, project / "afile" / ("L.npz" if option == "--out" else "cache")]
    code, err = cli(argv, capsys)
    assert code == 2 and f"{option} " in err and "afile" in err
    assert not (project / "lfs.py.called").exists()


def test_cli_out_without_suffix_reports_the_file_written(project, capsys):
    code, err = cli(["apply", "--data", project / "d.csv", "--lfs", project / "lfs.py", "--quiet",
                     "--out", project / "L_nosuffix"], capsys)
    assert code == 0 and f"to {project / 'L_nosuffix.npz'}" in err and (project / "L_nosuffix.npz").exists()


@pytest.mark.parametrize("source, message", [
    ("lfs = 5\n", r"lfs\.py: `lfs` is a int, not a list"),
    ("lfs = [5]\n", r"lfs\.py: lfs\[0\] is a int, not a LabelingFunction"),
    ("def broken(:\n", r"lfs\.py, line 1: syntax error"),
])
def test_cli_bad_lf_file_names_it(project, capsys, source, message):
    write(project / "lfs.py", source)
    code, err = cli(["apply", "--data", project / "d.csv", "--lfs", project / "lfs.py", "--out", project / "L.npz",
                     "--quiet"], capsys)
    assert code == 2
    assert pytest.importorskip("re").search(message, err), err


def test_load_lfs_non_list_raises_type_error(project):
    write(project / "lfs.py", "lfs = 5\n")
    with pytest.raises(TypeError, match=r"lfs\.py: `lfs` is a int"):
        load_lfs(project / "lfs.py")


@pytest.mark.parametrize("content, message", [
    ("text\ncaf\u00e9\n".encode("latin-1"), r"d\.csv, line 2: not valid utf-8"),
    (b"", r"d\.csv: the file is empty"),
])
def test_cli_apply_bad_data_file_is_one_line(project, capsys, content, message):
    write(project / "d.csv", content)
    code, err = cli(["apply", "--data", project / "d.csv", "--lfs", project / "lfs.py", "--out", project / "L.npz",
                     "--quiet"], capsys)
    assert code == 2 and pytest.importorskip("re").search(message, err), err


def test_cli_analyze_not_a_matrix(tmp_path, capsys):
    code, err = cli(["analyze", write(tmp_path / "x.npz", b"garbage")], capsys)
    assert code == 2 and "x.npz is not a votewise label matrix" in err


def test_cli_analyze_missing_matrix(tmp_path, capsys):
    code, err = cli(["analyze", tmp_path / "missing.npz"], capsys)
    assert code == 2 and "missing.npz" in err


# --- 1. The cache (scenarios in tests/labeling/core/test_cache_scenarios.py) ---------------------------

def test_lf_declaring_a_missing_resource_file_is_uncached_with_the_path(tmp_path):
    from labeling import LFCache

    lf = labeling_function(name="lf_res", resources=[tmp_path / "nowhere.txt"])(lambda x: -1)
    cache = LFCache(tmp_path / "c")
    with pytest.warns(UserWarning, match=r"LF 'lf_res': resource file .*nowhere\.txt' does not exist"):
        apply_lfs(frame(), [lf], cache=cache, progress=False)
    assert "lf_res" in cache.uncached_


def test_resources_list_of_non_paths_is_refused():
    with pytest.raises(TypeError, match=r"LF 'bad': resources= takes a mapping .* got a int"):
        labeling_function(name="bad", resources=[5])(lambda x: -1)


# --- Options and files checked before the work ----------------------------------------------------

@pytest.mark.parametrize("options, error, message", [
    ({"chunk_size": 0}, ValueError, r"chunk_size=0; expected a positive number of rows"),
    ({"chunk_size": -5}, ValueError, r"chunk_size=-5"),
    ({"n_jobs": 0}, ValueError, r"n_jobs=0"),
    ({"cardinality": "2"}, TypeError, r"cardinality='2'; expected an integer"),
    ({"cardinality": 1}, ValueError, r"cardinality=1; expected at least 2 classes"),
])
def test_bad_apply_options_are_named(options, error, message):
    lf = labeling_function(name="lf_any")(lambda x: -1)
    with pytest.raises(error, match=message):
        apply_lfs(frame(), [lf], progress=False, **options)


def test_a_single_lf_instead_of_a_list_is_named():
    lf = labeling_function(name="lf_alone")(lambda x: -1)
    with pytest.raises(TypeError, match=r"got the single LF 'lf_alone'"):
        apply_lfs(frame(), lf, progress=False)


def test_unwritable_cache_folder_fails_before_any_lf_runs(tmp_path):
    write(tmp_path / "afile", "x")
    calls = []
    lf = labeling_function(name="lf_calls")(lambda x: calls.append(1) or -1)
    with pytest.raises(NotADirectoryError, match=r"cache folder .*afile"):
        apply_lfs(frame(), [lf], progress=False, cache=tmp_path / "afile" / "cache")
    assert calls == []


def test_lf_file_raising_at_import_names_file_and_line(tmp_path):
    write(tmp_path / "lfs.py", "import os\n\nWORDS = undefined_name\n")
    with pytest.raises(ValueError, match=r"lfs\.py, line 3: importing the LF file raised NameError"):
        load_lfs(tmp_path / "lfs.py")


@pytest.mark.parametrize("content, message", [
    ('{"0": "ham", "one": "spam"}', r"label\.json: class ids must be 0\.\.1"),
    ("not json", r"label\.json: not a JSON mapping"),
])
def test_bad_label_json_beside_a_rule_file(tmp_path, content, message):
    write(tmp_path / "label.json", content)
    write(tmp_path / "rules.txt", "ham\tsong\n")
    with pytest.raises(ValueError, match=message):
        rules_from_file(tmp_path / "rules.txt")


def test_wrench_label_json_that_is_a_list(tmp_path):
    write(tmp_path / "label.json", '["ham", "spam"]')
    write(tmp_path / "test.json", '{"0": {"label": 0, "weak_labels": [0], "data": {"text": "x"}}}')
    with pytest.raises(ValueError, match=r"label\.json: expected a JSON object of class id -> name"):
        read_wrench(tmp_path)


def test_malformed_csv_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "bad.csv", "text,label\na,1\nb,2,3,4\n")
    with pytest.raises(ValueError, match=r"bad\.csv: malformed CSV: .*line 3"):
        read_csv(path)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_streaming_a_missing_column_names_the_file(tmp_path, suffix):
    path = tmp_path / f"d.{suffix}"
    frame().to_csv(path, index=False) if suffix == "csv" else frame().to_parquet(path)
    with pytest.raises((ValueError, KeyError), match=rf"d\.{suffix}: .*body"):
        list(iter_chunks(path, columns=["body"]))


def test_csv_text_is_read_as_written(tmp_path):
    path = write(tmp_path / "d.csv", "id,text,score\n1,NA,NA\n2,007,3\n3,,1\n4,null,\n")
    df = read_csv(path)
    assert df.text.tolist() == ["NA", "007", "", "null"]
    assert df.score.isna().tolist() == [True, False, False, True]  # other columns keep pandas' parsing


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_rule_file_that_is_not_a_regular_file_is_refused():
    with pytest.raises(ValueError, match=r"/dev/zero is not a regular file"):
        rules_from_file("/dev/zero")


def test_streamed_csv_text_is_read_as_written(tmp_path):
    path = write(tmp_path / "d.csv", "text\nNA\n007\nnull\n")
    seen = []
    lf = labeling_function(name="lf_seen", vectorized=True)(lambda df: seen.extend(df.text) or np.full(len(df), -1))
    apply_lfs_to_file(path, [lf], tmp_path / "v.npy", progress=False, dedup=False)
    assert seen == ["NA", "007", "null"]


def test_csv_row_with_an_unquoted_comma_names_the_line(tmp_path):
    path = write(tmp_path / "d.csv", "id,text\n1,great, song\n2,free, money\n")  # every row: pandas drops a field
    with pytest.raises(ValueError, match=r"d\.csv, line 2: 3 fields but the header has 2 \(extra: ' song'\)"):
        read_csv(path)


def test_streamed_csv_row_with_an_unquoted_comma_names_the_line(tmp_path):
    path = write(tmp_path / "d.csv", "id,text\n1,great, song\n2,free, money\n")
    with pytest.raises(ValueError, match=r"d\.csv, line 2: 3 fields but the header has 2"):
        list(iter_chunks(path))


def test_streamed_ids_of_mixed_types_are_named(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"id": 1, "text": "a"}\n{"id": "x", "text": "b"}\n')
    with pytest.raises(TypeError, match=r"row ids \(id_column\) cannot be stored in one Parquet column"):
        apply_lfs_to_file(path, [regex_lf("r", "a", 1)], tmp_path / "v.npy", id_column="id", progress=False)
    assert not (tmp_path / "v.npy").exists()


def test_cli_lfs_pointing_at_a_data_file(project, capsys):
    code, err = cli(["apply", "--data", project / "d.csv", "--lfs", project / "d.csv", "--out", project / "L.npz",
                     "--quiet"], capsys)
    assert code == 2 and "d.csv is not a Python file" in err
