"""Checking a file written by people as a whole: every problem collected, then reported in one error.

A config, a rule file or a guidelines file with three typos should cost one run to fix, not three. The
readers record each problem with where it is (file, rule or line, key) and keep checking; :class:`Problems`
raises them together at the end, and :func:`did_you_mean` suggests the closest known spelling of a
misspelt key or name.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

__all__ = ["Problems", "ProblemsError", "did_you_mean", "format_problems"]


def did_you_mean(word: object, options: Iterable[object]) -> str:
    """``" Did you mean 'x'?"`` for the option closest to ``word`` (:func:`difflib.get_close_matches`), else ``""``.

    Examples
    --------
    >>> did_you_mean("exmples", ["definition", "examples"])
    " Did you mean 'examples'?"
    """
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def format_problems(problems: Sequence[str], what: str = "file") -> str:
    """The first problem, then the others indented below it, counted (``what`` names the input in that line)."""
    message = str(problems[0])
    if len(problems) > 1:
        rest = "\n".join(f"  {p}" for p in problems[1:])
        message += f"\n{len(problems) - 1} more problem(s) in the same {what}:\n{rest}"
    return message


class ProblemsError(ValueError):
    """Every problem found in one input; ``problems`` lists the messages, each naming its place."""

    def __init__(self, problems: Sequence[str], what: str = "file") -> None:
        self.problems = [str(p) for p in problems]
        super().__init__(format_problems(self.problems, what))


class Problems:
    """Problems recorded while one input is checked, raised together by :meth:`check`.

    Parameters
    ----------
    what : str
        What the input is (``"rule file"``, ``"guidelines file"``), for the line counting the other problems.

    Examples
    --------
    >>> problems = Problems("rule file")
    >>> problems.add("r.yaml, rule 0: unknown key 'regx'. Did you mean 'regex'?")
    >>> problems.add("r.yaml, rule 3: unknown key 'lable'. Did you mean 'label'?")
    >>> problems.check()
    Traceback (most recent call last):
    ...
    labeling.core.problems.ProblemsError: r.yaml, rule 0: unknown key 'regx'. Did you mean 'regex'?
    1 more problem(s) in the same rule file:
      r.yaml, rule 3: unknown key 'lable'. Did you mean 'label'?
    """

    def __init__(self, what: str = "file") -> None:
        self.what = what
        self.found: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem; ``message`` names the file and the place in it."""
        self.found.append(str(message))

    def __len__(self) -> int:
        return len(self.found)

    def check(self) -> None:
        """Raise a :class:`ProblemsError` listing every recorded problem; nothing when there is none."""
        if self.found:
            raise ProblemsError(self.found, self.what)
