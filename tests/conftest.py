"""Shared fixtures: the bundled WRENCH datasets (real data, read once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources import read_wrench

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def youtube():
    return read_wrench(DATA / "youtube")


@pytest.fixture(scope="session")
def trec():
    return read_wrench(DATA / "trec")


@pytest.fixture(scope="session")
def semeval():
    return read_wrench(DATA / "semeval")
