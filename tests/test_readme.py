"""The README's commands must run as written: the quickstart gives sensible labels, every command block runs."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quickstart_runs_and_labels_follow_the_votes():
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    L, probs = namespace["L"], namespace["probs"]
    assert L.shape == (4, 3) and L.lf_names == ("check_out", "short", "subscribe")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    # Rows where only SPAM LFs fire lean SPAM; rows where only the HAM LF fires lean HAM.
    votes = np.asarray(L)
    only_spam = ((votes == 1).any(axis=1)) & ~((votes == 0).any(axis=1))
    only_ham = ((votes == 0).any(axis=1)) & ~((votes == 1).any(axis=1))
    assert only_ham.any()
    assert (probs[only_ham, 0] > 0.5).all()
    assert (probs[only_spam, 1] > 0.5).all()


# Every command block of the README, run as written in a copy of the repository ------------------------------
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
SHELL = ("bash", "sh", "shell", "console")
#: Lines that set up the environment the others run in (a virtual environment, the nltk data, an extra) or
#: start a server that runs until stopped: the test provides that environment itself, as `make demo` leaves it.
SETUP = ("make ", "pip install", "python -m pip install", "jupyter lab", "jupyter notebook")


def runnable(code: str) -> str:
    """``code`` without its set-up lines."""
    return "".join(line for line in code.splitlines(keepends=True) if not line.strip().startswith(SETUP))


def readme_blocks(text: str) -> list[tuple[int, str, str]]:
    """``(line, language, code)`` of every fenced code block in the README."""
    return [(text[: m.start()].count("\n") + 1, m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def command_blocks() -> list[tuple[int, str, str]]:
    return [(line, lang, runnable(code)) for line, lang, code in readme_blocks(README.read_text(encoding="utf-8"))
            if lang in SHELL + ("python",)
            and any(c.strip() and not c.strip().startswith("#") for c in runnable(code).splitlines())]


def test_readme_lists_command_blocks():
    # Guards the parser below: the README's command line and review sections are found.
    langs = [lang for _, lang, _ in command_blocks()]
    assert langs.count("bash") >= 2 and "python" in langs
    assert any("votewise import-store" in code for _, _, code in command_blocks())


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory):
    """The repository as a fresh clone after `make demo` has it: tracked files, nltk data, and a `.venv` whose
    `votewise` and `python` run this interpreter on the copy's code."""
    root = README.parent
    dest = tmp_path_factory.mktemp("clone") / "votewise"
    try:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                               check=True, capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the README test copies the repository's files with git; no git checkout here")
    for name in filter(None, files):
        src = root / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    env = {**os.environ, "PYTHONPATH": str(dest), "HOME": str(dest.parent / "home")}
    nltk_data = root / "sources" / "_nltk_data"
    if nltk_data.is_dir():
        shutil.copytree(nltk_data, dest / "sources" / "_nltk_data")
    else:
        subprocess.run([sys.executable, "-m", "sources.install_data"], cwd=dest, env=env, check=True,
                       capture_output=True)
    bin_dir = dest / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "votewise").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m labeling.app.cli "$@"\n')
    (bin_dir / "votewise").chmod(0o755)
    (bin_dir / "activate").write_text(f'VIRTUAL_ENV="{dest / ".venv"}"\nexport VIRTUAL_ENV\n'
                                      'PATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n')
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != str(Path(sys.executable).parent))
    env["MPLBACKEND"] = "Agg"
    return dest, env


@pytest.mark.slow
@pytest.mark.parametrize("line, lang, code", [pytest.param(*b, id=f"line{b[0]}-{b[1]}") for b in command_blocks()])
def test_readme_command_block_runs_as_written(repo_copy, line, lang, code):
    """Blocks run in README order in one copy, so a block may use what an earlier one made (review.sqlite)."""
    dest, env = repo_copy
    if lang == "python":
        argv = [sys.executable, "-c", code]
    else:
        argv = ["bash", "-e", "-u", "-o", "pipefail", "-c", code]
    done = subprocess.run(argv, cwd=dest, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, (
        f"README.md block at line {line} failed (exit {done.returncode}):\n{code}\n--- stderr ---\n"
        f"{done.stderr[-3000:]}\n--- stdout ---\n{done.stdout[-1500:]}"
    )
    if "votewise queue" in code:
        # Two queue commands on one store never store a row twice.
        with sqlite3.connect(dest / "review.sqlite") as con:
            n, distinct = con.execute("SELECT COUNT(*), COUNT(DISTINCT sample_id) FROM samples").fetchone()
            texts = con.execute("SELECT COUNT(DISTINCT position) FROM samples").fetchone()[0]
        assert n == distinct == texts
