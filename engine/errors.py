"""Errors a person can act on.

Every problem with user input (a scenario, a formula file, a catalog, a command-line value) is raised as
an `ImpactError` carrying one or more `Problem`s. A problem renders as one line,

    scenarios/chat.yaml:7:14: $.hardware.gpus: -2 is less than the minimum of 1; expected a positive integer
      hint: ...

which the CLI prints to stderr before exiting with status 1. Anything that is not an `ImpactError` is a bug
in impact and keeps its traceback.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

MAX_PART = 2000  # characters of a message, of its location, of what was expected, of its hint


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column, and the JSON path of the node there."""

    file: str | None
    line: int = 1
    column: int = 1
    path: str = "$"

    def render(self) -> str:
        """`file:line:col: $.path` (or `<where>: $.path` for places that are not in a file)."""
        if self.file is None:
            return self.path
        if self.line <= 0:
            return f"{self.file}: {self.path}"
        return f"{self.file}:{self.line}:{self.column}: {self.path}"


@dataclass(frozen=True)
class Problem:
    """What is wrong, where, and what was expected instead."""

    location: Location
    message: str
    expected: str | None = None
    hint: str | None = None

    def render(self) -> str:
        """One line (and a hint); no part longer than `MAX_PART` characters, whatever value it quotes."""
        text = f"{shorten(self.location.render(), MAX_PART)}: {shorten(self.message, MAX_PART)}"
        if self.expected:
            text += f"; expected {shorten(self.expected, MAX_PART)}"
        if self.hint:
            text += f"\n  hint: {shorten(self.hint, MAX_PART)}"
        return text


class ImpactError(Exception):
    """Bad input: one or more problems, each naming its file, line, column and JSON path."""

    def __init__(self, problems: Problem | list[Problem]):
        problems = [problems] if isinstance(problems, Problem) else problems
        self.problems = list(dict.fromkeys(problems))  # the same problem found twice is reported once
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(problem.render() for problem in self.problems)


def fail(location: Location, message: str, expected: str | None = None, hint: str | None = None):
    """Raise an ImpactError with a single problem."""
    raise ImpactError(Problem(location, message, expected, hint))


def suggest(name: str, candidates, what: str = "") -> str | None:
    """A 'did you mean' hint naming the closest candidates, or None when nothing is close (or the name is too
    long to be a slip of a known one)."""
    if len(str(name)) > 200:
        return None
    close = difflib.get_close_matches(str(name), sorted(set(map(str, candidates))), n=3, cutoff=0.6)
    if not close:
        return None
    quoted = ", ".join(f"'{c}'" for c in close)
    return f"did you mean {quoted}{what}?"


def shorten(text, limit: int = 60) -> str:
    """Text as shown in a message: at most `limit` characters, the middle elided, so a megabyte value written
    by mistake is not repeated back in full."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = limit - 3
    return text[: keep - keep // 3] + "..." + text[len(text) - keep // 3 :]


def display_path(path: str | os.PathLike) -> str:
    """A file name as a person should read it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve()) if path.is_absolute() else str(path)
