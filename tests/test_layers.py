"""The layering rule of docs/architecture.md: checked with import-linter, and measured on a fresh interpreter.

Layers, top to bottom: ``labeling.app``; ``labeling.review`` | ``labeling.dataset``; ``rules`` | ``models``;
``sources``; the ``labeling`` core. A module imports only from its own layer or the ones below.
"""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPPER = {"review", "dataset", "app"}  # labeling's subpackages above the core

# What `import labeling, models, rules, sources` must not load: the upper parts and the optional extras.
HEAVY = [
    "labeling.review", "labeling.dataset", "labeling.app", "dask", "torch", "snorkel", "transformers",
    "sentence_transformers", "ipywidgets", "anywidget", "matplotlib.pyplot", "spacy", "presidio_analyzer", "openai",
    # Core dependencies too heavy to load before a name that needs them is used (a config check, `--help`).
    "sklearn", "scipy", "nltk", "re2",
]


def _lint_imports() -> list[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe is not None, "import-linter is not installed: pip install -e '.[dev]'"
    return [exe, "--no-cache", "--config", str(ROOT / ".importlinter")]


def test_import_contracts_are_kept():
    res = subprocess.run(_lint_imports(), cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_labeling_holds_only_its_four_rooms():
    # labeling/ is the core plus the three upper rooms; a new module belongs in one of them, and the
    # contracts name rooms, not files.
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    assert config["importlinter:contract:core"]["source_modules"].split() == ["labeling.core"]
    modules = {p.stem for p in (ROOT / "labeling").glob("*.py")}
    packages = {p.name for p in (ROOT / "labeling").iterdir() if (p / "__init__.py").exists()}
    assert modules == {"__init__"}
    assert packages == UPPER | {"core"}


_PROBE = """
import json, logging, sys, time
import nltk, matplotlib
paths = list(nltk.data.path)
handlers = {name: list(logging.getLogger(name).handlers) for name in ("", "votewise", "votewise.build", "snorkel")}
levels = {name: logging.getLogger(name).level for name in handlers}
backend = matplotlib.rcParams._get_backend_or_none()
before = set(sys.modules)
t = time.perf_counter()
import labeling, models, rules, sources
seconds = time.perf_counter() - t
print(json.dumps({
    "loaded": sorted(set(sys.modules) - before),
    "seconds": seconds,
    "nltk_path_same": list(nltk.data.path) == paths,
    "handlers_same": {n: list(logging.getLogger(n).handlers) for n in handlers} == handlers,
    "levels_same": {n: logging.getLogger(n).level for n in handlers} == levels,
    "backend_same": matplotlib.rcParams._get_backend_or_none() == backend,
}))
"""


@pytest.fixture(scope="module")
def probe():
    res = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", HEAVY)
def test_the_four_packages_load_no_optional_part(probe, module):
    loaded = set(probe["loaded"])
    assert module not in loaded, f"import labeling/models/rules/sources loaded {module}"
    assert not any(m.startswith(module + ".") for m in loaded)


def test_the_four_packages_change_no_global_state(probe):
    assert probe["nltk_path_same"], "importing votewise changed nltk.data.path"
    assert probe["handlers_same"], "importing votewise added a logging handler"
    assert probe["levels_same"], "importing votewise changed a logger's level"
    assert probe["backend_same"], "importing votewise chose a matplotlib backend"


def test_the_command_line_entry_point_loads_only_what_help_needs():
    # `votewise --help` imports labeling.app.cli; the pipeline, models and review stack wait for a subcommand.
    code = ("import sys; import labeling.app.cli; "
            "print(sorted(m for m in sys.modules if m.startswith(('labeling.app.', 'labeling.review', 'models'))))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "['labeling.app.cli']"
