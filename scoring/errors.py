"""The exceptions of rounds: one base class and a few meaningful children.

Ineligibility is data (reason codes), never an exception. These are for input
that cannot be processed, configuration that is wrong, and situations where the
round must stop for a person to decide.
"""
from __future__ import annotations

from dataclasses import dataclass


class RoundsError(Exception):
    """Base class of every error rounds reports to a user."""

    def lines(self) -> list[str]:
        """One clear line per problem, for the command line."""
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One problem in one input file, located as precisely as possible.

    `row` is the row number a person sees in the file (the header is row 1 in
    a spreadsheet or CSV), `column` the column name as written in the file.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class InputError(RoundsError):
    """One or more problems in the input files; nothing was written."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ConfigError(RoundsError):
    """A programme file, round.toml or setting is wrong."""


class InfeasibleError(RoundsError):
    """Constraints (caps, assignment) that cannot all be met."""


class DecisionRequired(RoundsError):
    """The round stops until a manager records a decision (e.g. a tie at the cut-off)."""

    def __init__(
        self, message: str, *, kind: str, subject: tuple[str, ...], groups: tuple[tuple[str, ...], ...] = ()
    ):
        self.kind = kind
        self.subject = subject
        self.groups = groups or (subject,)
        super().__init__(message)
