"""The ``votewise build`` config is parsed into typed settings and checked as a whole before any row is read."""

from __future__ import annotations

import re

import pytest
import yaml

from labeling.app import build_config as bc
from labeling.app.build_config import BuildConfig, ConfigError, ExportSettings, parse_config
from labeling.app.pipeline import PipelineError, build_from_config

from tests.conftest import ROOT  # noqa: E402

EXAMPLE_DIR = ROOT / "examples" / "youtube_spam"
EXAMPLE = EXAMPLE_DIR / "pipeline.yaml"


def _example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def no_rows_read(monkeypatch):
    """Any attempt to read a source row fails the test: config problems must be found before that."""
    import labeling.app.pipeline as pipeline

    def refuse(*args, **kwargs):
        raise AssertionError("a source was read before the config was checked")

    monkeypatch.setattr(pipeline, "read_table", refuse)
    monkeypatch.setattr(pipeline, "read_wrench", refuse)
    monkeypatch.setattr(pipeline, "apply_lfs", refuse)


def test_the_example_parses_into_typed_settings():
    config = parse_config(_example(), EXAMPLE_DIR)
    assert isinstance(config, BuildConfig)
    assert len(config.sources[0].files) == 5  # the glob is resolved up front
    assert config.lfs.python == (EXAMPLE_DIR / "lfs.py",)
    assert config.clean.near_duplicates.threshold == 0.8
    assert config.clean.pii.action == "mask"
    assert config.split.fractions == {"train": 0.8, "valid": 0.1, "test": 0.1}
    assert config.augment.methods == {"synonym": 1, "swap": 1}
    assert isinstance(config.export, ExportSettings)
    assert config.export.formats == ("chat", "jsonl") and config.export.ids is True
    assert config.output == EXAMPLE_DIR / "output" / "chat_dataset"
    assert set(config.input_paths().values()) == {*config.sources[0].files, EXAMPLE_DIR / "lfs.py"}


def test_a_typo_under_export_fails_before_any_row_is_read(tmp_path, no_rows_read):
    raw = _example()
    raw["export"]["formts"] = raw["export"].pop("formats")
    path = tmp_path / "pipeline.yaml"
    raw["sources"][0]["path"] = str(EXAMPLE_DIR / "data" / "Youtube0*.csv")
    raw["lfs"]["python"] = str(EXAMPLE_DIR / "lfs.py")
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    typo = r"step 'export', key 'formts': unknown key\. Did you mean 'formats'\?"
    with pytest.raises(ConfigError, match=typo) as info:
        build_from_config(path, output=tmp_path / "out")
    assert str(path) in str(info.value)  # the message names the file
    assert not (tmp_path / "out").exists()


def test_every_problem_is_reported_at_once(tmp_path, no_rows_read):
    raw = _example()
    raw["seed"] = "zero"
    raw["clean"]["near_duplicates"] = {"treshold": 0.8}
    raw["clean"]["pii"] = {"kinds": ["emial"], "action": "masks"}
    raw["split"]["fractions"] = {"train": 0.8, "test": 0.1}
    raw["augment"]["methods"] = ["synonim"]
    raw["export"]["formats"] = ["jsnl", "alpaca"]
    raw["label_model"] = {"name": "mv", "params": {"tie_brek": "random"}}
    with pytest.raises(ConfigError) as info:
        build_from_config(raw, base_dir=EXAMPLE_DIR)
    where = [(p.step, p.key) for p in info.value.problems]
    assert where == [
        ("config", "seed"),
        ("label_model", "params.tie_brek"),
        ("clean", "near_duplicates.treshold"),
        ("clean", "pii.kinds"),
        ("clean", "pii.action"),
        ("split", "fractions"),
        ("augment", "methods"),
        ("export", "formats"),
    ]
    text = str(info.value)
    for hint in ("Did you mean 'threshold'", "Did you mean 'email'", "Did you mean 'mask'",
                 "Did you mean 'synonym'", "Did you mean 'jsonl'", "Did you mean 'tie_break'", "add up to 0.9"):
        assert hint in text, hint
    assert "7 more problem(s)" in text
    # The first problem is the error's own step and key, as for any PipelineError.
    assert isinstance(info.value, PipelineError)
    assert (info.value.step, info.value.key) == ("config", "seed")


def _misspell(word: str) -> str:
    """The word with two neighbouring, different letters swapped (else one doubled): the commonest typos."""
    for i in range(max(1, len(word) // 2 - 1), len(word) - 1):
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word + word[-1]


_SECTIONS = [
    ("config", None, bc.TOP_KEYS),
    ("lfs", "lfs", bc._LF_KEYS),
    ("label_model", "label_model", bc._MODEL_KEYS),
    ("review", "review", bc._REVIEW_KEYS),
    ("clean", "clean", bc._CLEAN_KEYS),
    ("clean", "clean.near_duplicates", bc._NEAR_KEYS),
    ("clean", "clean.pii", bc._PII_KEYS),
    ("split", "split", bc._SPLIT_KEYS),
    ("augment", "augment", bc._AUG_KEYS),
    ("augment", "augment.back_translation", bc._BT_KEYS),
    ("export", "export", bc._EXPORT_KEYS),
    ("sources", "sources.0", bc._SOURCE_KEYS),
]


@pytest.mark.parametrize("step, where, key", [(s, w, k) for s, w, keys in _SECTIONS for k in keys])
def test_a_typo_of_any_key_names_it_and_its_closest_spelling(step, where, key):
    raw = _example()
    raw["review"] = {"path": "data/Youtube01-Psy.csv", "id_column": "COMMENT_ID", "label_column": "CLASS"}
    raw["augment"]["back_translation"] = {}
    section = raw
    for part in (where or "").split(".") if where else []:
        section = section[int(part)] if part.isdigit() else section[part]
    typo = _misspell(key)
    section[typo] = section.pop(key, "x")
    with pytest.raises(ConfigError) as info:
        parse_config(raw, EXAMPLE_DIR)
    prefix = "[0]." if step == "sources" else (where.split(".", 1)[1] + "." if where and "." in where else "")
    problem = next(p for p in info.value.problems if p.key == prefix + typo)
    assert problem.step == step
    assert f"Did you mean {key!r}?" in problem.message


@pytest.mark.parametrize(
    "change, step, key, message",
    [
        ({"export": {"formats": ["xml"]}}, "export", "formats", "unknown format 'xml'"),
        ({"export": {"formats": ["chat"], "prompt_template": "Spam? {labels}"}}, "export", "prompt_template",
         "has no {text} field"),
        ({"export": {"instruction": "Classify {text"}}, "export", "instruction", "is not a template"),
        ({"augment": {"methods": ["back_translation"], "back_translation": {"forward": "nowhere",
                                                                             "backward": "nowhere"}}},
         "augment", "back_translation.forward", "MarianMT model folder"),
        ({"augment": {"methods": {"swap": 1.5}}}, "augment", "methods.swap", "integer >= 0"),
        ({"clean": {"min_chars": -1}}, "clean", "min_chars", "an integer >= 0"),
        ({"clean": {"near_duplicates": {"threshold": "high"}}}, "clean", "near_duplicates.threshold",
         "a number in (0.0, 1.0]"),
        ({"clean": {"pii": {"template": "<{kind}:{value}>"}}}, "clean", "pii.template", "may only use {kind}"),
        ({"split": {"groups": "AUTHOR"}}, "split", "groups", "keep_columns: [AUTHOR]"),
        ({"lfs": {"rules": ["missing_rules.yaml"]}}, "lfs", "rules", "does not exist"),
        ({"class_names": ["HAM"]}, "config", "class_names", "two or more distinct class names"),
        ({"progress": "yes"}, "config", "progress", "true or false"),
        ({"output": "lfs.py"}, "config", "output", "is a file"),
        ({"sources": []}, "sources", None, "non-empty list"),
    ],
)
def test_bad_values_are_caught_with_step_key_and_fix(change, step, key, message):
    raw = {**_example(), **change}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, EXAMPLE_DIR)
    problem = info.value.problems[0]
    assert (problem.step, problem.key) == (step, key)
    assert message in problem.message


def test_labels_are_required_unless_every_source_is_wrench():
    raw = _example()
    del raw["class_names"]
    with pytest.raises(ConfigError, match=re.escape("step 'config', key 'class_names'")):
        parse_config(raw, EXAMPLE_DIR)
    wrench = {"sources": [{"wrench": str(ROOT / "tests" / "data" / "youtube")}]}
    assert parse_config(wrench, EXAMPLE_DIR).class_names is None


def test_labeling_functions_are_required_unless_wrench_votes_stand_in():
    with pytest.raises(ConfigError, match=r"step 'lfs', key 'python': no labeling functions"):
        parse_config({"class_names": ["A", "B"], "sources": ["data/*.csv"]}, EXAMPLE_DIR)
    wrench = {"sources": [{"wrench": str(ROOT / "tests" / "data" / "youtube")}]}
    assert parse_config(wrench, EXAMPLE_DIR).lfs.stored
    with pytest.raises(ConfigError, match=r"step 'lfs', key 'python'"):
        parse_config({**wrench, "lfs": {"stored": False}}, EXAMPLE_DIR)


def test_tie_break_is_checked_when_the_config_is_parsed():
    from models import TIE_BREAKS

    base = {"class_names": ["A", "B"], "sources": ["data/*.csv"], "lfs": {"python": "lfs.py"}}
    for rule in TIE_BREAKS:
        assert parse_config({**base, "label_model": {"name": "mv", "tie_break": rule}}, EXAMPLE_DIR
                            ).label_model.tie_break == rule
    assert parse_config(base, EXAMPLE_DIR).label_model.tie_break is None
    with pytest.raises(ConfigError) as info:
        parse_config({**base, "label_model": {"name": "mv", "tie_break": "randm"}}, EXAMPLE_DIR)
    [problem] = info.value.problems
    assert (problem.step, problem.key) == ("label_model", "tie_break")
    assert problem.message == "'randm' is not one of ['random', 'abstain', 'first']. Did you mean 'random'?"


def test_steps_protecting_shipped_data_stay_on_unless_turned_off():
    config = parse_config({"class_names": ["A", "B"], "sources": ["data/*.csv"], "lfs": {"python": "lfs.py"}}, EXAMPLE_DIR)
    assert config.clean.pii is not None and config.clean.near_duplicates is not None
    assert config.review is None and config.augment is None and config.output is None
    off = parse_config({"class_names": ["A", "B"], "sources": ["data/*.csv"], "lfs": {"python": "lfs.py"},
                        "clean": {"pii": False, "near_duplicates": False}}, EXAMPLE_DIR)
    assert off.clean.pii is None and off.clean.near_duplicates is None


@pytest.mark.parametrize("change, expected", [
    ({"exprt": {}}, "key 'exprt': unknown key. Did you mean 'export'?"),
    ({"label_model": {"name": "wmv", "params": {"tie_brak": "random"}}},
     "key 'params.tie_brak': wmv has no parameter 'tie_brak'. Did you mean 'tie_break'?"),
    ({"label_model": {"name": "defualt"}}, "unknown label model 'defualt'. Did you mean 'default'?"),
])
def test_the_command_line_reports_a_typo_without_loading_the_pipeline_or_a_model(tmp_path, change, expected):
    # What makes `votewise build` answer a typo at once: nothing heavier than the config checker is
    # imported before it speaks (scikit-learn alone takes about a second to import).
    import subprocess
    import sys

    config = {**_example(), **change}
    config["sources"] = [{**config["sources"][0], "path": str(EXAMPLE_DIR / "data" / "Youtube0*.csv")}]
    config["lfs"] = {"python": str(EXAMPLE_DIR / "lfs.py")}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    code = ("import sys\nfrom labeling.app.cli import main\ntry:\n    main(['build', sys.argv[1]])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'snorkel', 'torch'}),"
            " 'labeling.app.pipeline' in sys.modules, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True)
    assert expected in res.stderr
    assert res.stderr.strip().splitlines()[-1] == "[] False"


def test_model_parameters_read_from_source_are_those_of_the_constructor():
    import inspect

    from models.registry import MODEL_REGISTRY, ModelRegistry

    builtin = {"mv", "wmv", "ds", "snorkel", "hyperlm", "default"}
    assert builtin <= set(MODEL_REGISTRY)
    for name in builtin:
        factory = MODEL_REGISTRY[name]
        # A registry that has not imported the model reads its parameters from the source.
        from_source = ModelRegistry({name: f"{factory.__module__}:{factory.__name__}"}).parameter_names(name)
        assert from_source == [p for p in inspect.signature(factory).parameters], name


@pytest.mark.parametrize("params, key, message", [
    ({"prior_strength": -1}, "params.prior_strength", "must be a float in the range [0.0, inf). Got -1"),
    ({"family": "precison"}, "params.family", "'family' parameter of LabelModel must be a str among"),
])
def test_a_bad_label_model_value_is_refused_before_any_row_is_read(no_rows_read, params, key, message):
    raw = _example()
    raw["label_model"] = {"name": "default", "params": params}
    with pytest.raises(ConfigError) as info:
        build_from_config(raw, base_dir=EXAMPLE_DIR)
    assert [(p.step, p.key) for p in info.value.problems] == [("label_model", key)]
    assert message in str(info.value)
    # Good values pass.
    raw["label_model"]["params"] = {"prior_strength": 0.5}
    assert parse_config(raw, EXAMPLE_DIR).label_model.params == {"prior_strength": 0.5}
