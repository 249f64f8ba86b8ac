"""The prompted-LF builder: reading answers, building prompts, checking its inputs, rule files, groups."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labeling import ABSTAIN, apply_lfs
from labeling.core.fingerprint import lf_fingerprint
from rules import PromptLF, Span, keyword_lf, lf_groups, prompt_lf, rules_from_file
from sources.llm import Answer, LoopbackServer, OpenAIBackend, TransformersBackend

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "Comment: {text}\nIs this comment spam or ham?"


def make(**options) -> PromptLF:
    backend = options.pop("backend", None) or OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
    classes = options.pop("classes", {0: ["ham", "not spam"], 1: "spam"})
    return prompt_lf("llm", options.pop("template", TEMPLATE), classes, backend=backend, cache=False,
                     progress=False, **options)


@pytest.mark.parametrize(
    "answer, expected",
    [("spam", 1), ("Spam.", 1), ("  SPAM  ", 1), ('"spam"', 1), ("spam - it sells followers", 1),
     ("not spam", 0), ("Not spam, a fan.", 0), ("ham", 0), ("**Ham**", 0), ("spam\nbecause it links", 1),
     ("spammy", None), ("hamster", None), ("", None), ("I think it is spam", None), ("unsure", None)],
)
def test_answers_are_read_by_their_verbalisers(answer, expected):
    assert make().parse(answer) == expected


def test_unsure_abstains_without_being_unparseable():
    lf = make()
    assert lf.decide(Answer("unsure"))[0] == ABSTAIN and "unsure" in lf.abstain_words


def test_prompts_carry_system_few_shot_and_the_row():
    lf = make(few_shot=[("subscribe to me", 1), ({"text": "nice song"}, 0)])
    prompt = lf.prompt({"text": "check out my channel"})
    assert prompt.messages == (
        ("system", "Answer with exactly one of: ham, spam."),
        ("user", "Comment: subscribe to me\nIs this comment spam or ham?"), ("assistant", "spam"),
        ("user", "Comment: nice song\nIs this comment spam or ham?"), ("assistant", "ham"),
        ("user", "Comment: check out my channel\nIs this comment spam or ham?"),
    )
    assert make(system="").prompt({"text": "x"}).messages == (("user", "Comment: x\nIs this comment spam or ham?"),)
    two = make(template="Title: {title}\nComment: {text}\nSpam?")
    assert two.fields == ("title", "text") and two.column == "title"


@pytest.mark.parametrize(
    "options, message",
    [({"template": "no field here"}, "names no row field"),
     ({"template": "{text.upper}"}, "not a column name"),
     ({"template": "{text"}, "not a format string"),
     ({"classes": {0: "ham", 1: "ham"}}, "verbaliser 'ham' is given for classes 0 and 1"),
     ({"classes": {"HAM": "ham"}}, "not a class id"),
     ({"classes": {0: []}}, "needs one or more non-empty verbalisers"),
     ({"threshold": 1.5}, r"threshold=1.5; expected a probability"),
     ({"few_shot": [("x", 7)]}, "has label 7"),
     ({"backend": "http://localhost"}, "backend must be a sources.llm backend")],
)
def test_bad_options_name_the_lf_and_the_fix(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(**options)


def test_a_missing_column_names_the_lf_and_the_column(youtube):
    lf = make(template="Title: {title}\n{text}")
    with pytest.raises(Exception, match=r"LF 'llm': the template reads column 'title'"):
        apply_lfs(youtube["test"].data, [lf], progress=False)


def test_empty_rows_abstain_without_a_call(youtube, tmp_path):
    df = youtube["test"].data.iloc[:6].copy()
    df.iloc[1, 0], df.iloc[4, 0] = "   ", None
    with LoopbackServer(lambda m: "spam") as server:
        lf = make(backend=OpenAIBackend("m", base_url=server.url))
        L = apply_lfs(df, [lf], progress=False)
        assert L.values[:, 0].tolist() == [1, ABSTAIN, 1, 1, ABSTAIN, 1]
        assert len(server.requests) == 4


def test_explain_row_shows_the_answer_and_needs_every_field(youtube, tmp_path):
    from rules import explain_row

    with LoopbackServer(lambda m: "spam") as server:
        lf = make(backend=OpenAIBackend("m", base_url=server.url))
        two = make(template="Title: {title}\n{text}", backend=OpenAIBackend("m", base_url=server.url))
        row = {"text": "check out my channel", "title": "Shakira live"}
        assert explain_row([lf, two], row) == [
            {"lf": "llm", "label": None, "column": "text", "start": 0, "end": 20, "what": "m answered 'spam'"}]
        assert len(server.requests) == 1  # `two` needs its other field to ask
        assert two.explain("Shakira live", text="great") == [Span(0, 12, "m answered 'spam'")]
        assert server.requests[-1] == "Title: Shakira live\ngreat"


def test_the_fingerprint_ignores_counts_and_clients_but_not_the_prompt():
    lf = make()
    before = lf_fingerprint(lf)
    lf.stats.calls += 10
    lf.backend.client()  # a live client (pip install 'votewise[llm]')
    assert lf_fingerprint(lf) == before
    assert lf_fingerprint(make(template="Is this spam? {text}")) != before
    assert lf_fingerprint(make(backend=OpenAIBackend("another-model"))) != before
    clone = pickle.loads(pickle.dumps(lf))
    assert clone.backend._client is None and lf_fingerprint(clone) == before


def test_groups_for_the_label_model():
    a = make()
    b = make(template="Spam? {text}")
    c = make(group="my-judges")
    kw = keyword_lf("kw", "free", 1)
    assert lf_groups([a, kw, b, c]) == ["openai:m", None, "openai:m", "my-judges"]
    local = make(backend=TransformersBackend("models/qwen"))
    assert lf_groups([local]) == ["transformers:models/qwen"]


def test_label_model_takes_the_groups(youtube, tmp_path):
    from models import LabelModel

    df = youtube["test"].data
    with LoopbackServer(lambda m: "spam" if "check" in m[-1]["content"].lower() else "ham") as server:
        backend = OpenAIBackend("m", base_url=server.url)
        lfs = [prompt_lf(f"llm_{i}", t, {0: "ham", 1: "spam"}, backend=backend, cache=tmp_path / "a.sqlite",
                         progress=False) for i, t in enumerate([TEMPLATE, "Spam or ham? {text}"])]
        lfs.append(keyword_lf("kw_subscribe", "subscribe", 1))
        L = apply_lfs(df, lfs, progress=False)
    model = LabelModel().fit(L, lf_groups=lf_groups(lfs))
    assert np.allclose(model.predict_proba(L).sum(axis=1), 1.0)
    # The two prompts ask one model: one group, whatever their votes; the keyword LF is evidence of its own.
    assert model.lf_groups_[0] == model.lf_groups_[1] != model.lf_groups_[2]


def _rule_file(tmp_path: Path, body: str) -> Path:
    shutil.copy(ROOT / "tests/data/youtube/label.json", tmp_path / "label.json")
    path = tmp_path / "rules.yaml"
    path.write_text(body)
    return path


def test_prompt_rules_in_a_rule_file(youtube, tmp_path):
    df = youtube["test"].data
    with LoopbackServer(lambda m: "spam" if "subscribe" in m[-1]["content"].lower() else "ham") as server:
        path = _rule_file(tmp_path, f"""
- name: kw_check
  keywords: [check out]
  label: SPAM
- name: llm_spam
  prompt: "Comment: {{text}}\\nIs this comment spam or ham?"
  classes: {{SPAM: [spam], HAM: [ham, not spam]}}
  threshold: 0.6
  few_shot:
    - {{text: "subscribe to my channel", label: SPAM}}
  backend: {{kind: openai, model: loopback, base_url: "{server.url}", concurrency: 4}}
- prompt: "Is this YouTube comment spam? {{text}}"
  classes: {{SPAM: spam, HAM: ham}}
""")
        lfs = rules_from_file(path, prompt_options={"backend": OpenAIBackend("other", base_url=server.url),
                                                    "cache": tmp_path / "answers.sqlite", "progress": False})
        assert [lf.name for lf in lfs] == ["kw_check", "llm_spam", "rule_02_prompt"]
        llm, other = lfs[1], lfs[2]
        assert llm.classes == {1: ("spam",), 0: ("ham", "not spam")} and llm.threshold == 0.6
        assert llm.backend.model == "loopback" and llm.backend.concurrency == 4 and other.backend.model == "other"
        assert llm.few_shot == (("Comment: subscribe to my channel\nIs this comment spam or ham?", "spam"),)
        assert llm.source == "rules.yaml:rule 1"
        L = apply_lfs(df, lfs, progress=False)
        expected = np.where(df["text"].str.lower().str.contains("subscribe"), 1, 0)
        assert np.array_equal(L.values[:, 1], expected) and np.array_equal(L.values[:, 2], expected)


@pytest.mark.parametrize(
    "entry, message",
    [("backend: {kind: openai, model: m, api_key: sk-123}", "never holds an API key"),
     ("backend: {kind: vertex, model: m}", "backend kind 'vertex' is not one of"),
     ("backend: {kind: openai}", "backend needs a model"),
     ("backend: {kind: openai, model: m, speed: 3}", "backend: .*speed"),
     ("colour: red", r"unknown key\(s\) \['colour'\]"),
     ("", "needs a backend")],
)
def test_bad_prompt_rules_name_the_file_and_the_rule(tmp_path, entry, message):
    path = _rule_file(tmp_path, f"""
- prompt: "Spam? {{text}}"
  classes: {{SPAM: spam, HAM: ham}}
  {entry}
""")
    with pytest.raises(ValueError, match=rf"rules.yaml, rule 0: .*{message}"):
        rules_from_file(path)


def test_a_class_name_outside_the_labels_is_refused(tmp_path):
    path = _rule_file(tmp_path, """
- prompt: "Spam? {text}"
  classes: {SPAM: spam, EGGS: eggs}
  backend: {model: m}
""")
    with pytest.raises(ValueError, match=r"rule 0: label 'EGGS' does not name exactly one of"):
        rules_from_file(path)


def test_importing_rules_loads_no_model_client():
    code = "import sys, rules, sources.llm; print(json.dumps([m for m in ('openai', 'transformers', 'torch', 'httpx2') if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("module", ["rules.prompt", "sources.llm.cache", "sources.llm.base"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
