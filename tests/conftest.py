"""Shared fixtures: the bundled WRENCH datasets (real data, read once per session)."""

from __future__ import annotations

import os
from pathlib import Path

# Under pytest-xdist each worker gets its share of the cores for BLAS and OpenMP (numpy, scipy, scikit-learn,
# torch): with every worker's pools as wide as the machine, threads outnumber cores and spin waiting for one
# another (scipy's L-BFGS-B runs twice as slow on small problems). Set before numpy or torch is imported;
# subprocesses the tests start inherit it. A value already in the environment is kept.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _THREADS)

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from sources import read_wrench  # noqa: E402

# Property tests draw the same examples on every run, so a run's verdict depends on the code alone; explore
# new ones with `pytest --hypothesis-profile=explore`.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"

#: The files that take longest (tens of seconds each on two cores), longest first. With ``--dist loadfile``
#: a file runs on one worker from start to end, and pytest-xdist hands out files with the most tests first,
#: which leaves these few-test files for last: one worker then runs the README's commands alone while the
#: others have finished. Started first, they run beside the many short files. Only the order changes.
LONGEST_FIRST = (
    "tests/test_readme.py",
    "tests/sources/test_encoder.py",
    "tests/labeling/app/test_simulate.py",
    "tests/labeling/review/test_browser.py",
    "tests/sources/llm/test_openai.py",
    "tests/labeling/app/test_pipeline.py",
)


def pytest_configure(config):
    if getattr(config.option, "dist", "no") == "loadfile":
        config.option.loadscopereorder = False  # keep the order below rather than most tests first


def pytest_collection_modifyitems(config, items):
    if _WORKERS:
        rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files stay whole


@pytest.fixture(scope="session")
def youtube():
    return read_wrench(DATA / "youtube")


@pytest.fixture(scope="session")
def trec():
    return read_wrench(DATA / "trec")


@pytest.fixture(scope="session")
def semeval():
    return read_wrench(DATA / "semeval")


def pattern_table(patterns, counts) -> dict[tuple[int, ...], int]:
    """``{pattern: count}``, to compare vote patterns whatever order each path lists them in."""
    return {tuple(int(v) for v in row): int(c) for row, c in zip(patterns, counts)}
