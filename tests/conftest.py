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


def pattern_table(patterns, counts) -> dict[tuple[int, ...], int]:
    """``{pattern: count}``, to compare vote patterns whatever order each path lists them in."""
    return {tuple(int(v) for v in row): int(c) for row, c in zip(patterns, counts)}
