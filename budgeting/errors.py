"""Errors raised by the budgeting core, and the problems a ballot can have.

Every error carries a machine-readable ``code``, a message a person can act on, and where the
problem is (``file``, ``row``, ``column``) when it comes from an input file, so the command line
and the service can show it without a traceback and a user interface can translate it. For a
pabulib ``.pb`` file, ``row`` is the line of the file (the first line is line 1) and ``column``
is the field: a META key (``budget``), or a PROJECTS/VOTES column (``cost``, ``vote``).

Hierarchy::

    BudgetingError
    ├── InputError              a file or value is malformed (missing section, bad cost,
    │                           unknown project in a vote, wrong vote_type, ...)
    └── InvalidBallotError      a ballot breaks the rules of the vote; carries its problems
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "BallotProblem",
    "BudgetingError",
    "InputError",
    "InvalidBallotError",
]


class BudgetingError(Exception):
    """Base class of every error the budgeting core raises.

    Parameters
    ----------
    code : str
        Stable identifier of the kind of error, for example ``"unknown-project"``.
    message : str
        What is wrong and what to do about it.
    file, row, column : optional
        Where the problem is: the file, its line (1-based, as an editor shows it) and the field.
    params : mapping, optional
        The values that went into ``message``, for translation.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.params = dict(params or {})
        super().__init__(message)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """Return ``file, line L, field 'F': message`` with the parts that are known."""
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column is not None:
            where.append(f"field '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(BudgetingError):
    """A file or value given to the budgeting core is malformed."""


@dataclass(frozen=True, slots=True)
class BallotProblem:
    """One thing wrong with a ballot, in words (English and Dutch) and as data.

    Attributes
    ----------
    code : str
        Stable identifier, for user interfaces: ``"unknown-project"``, ``"duplicate-project"``,
        ``"too-few-projects"``, ``"too-many-projects"``, ``"cost-too-low"``, ``"cost-too-high"``,
        ``"missing-points"``, ``"unexpected-points"``, ``"points-too-low"``,
        ``"points-too-high"``, ``"sum-points-too-low"``, ``"sum-points-too-high"``,
        ``"category-too-few"``, ``"category-too-many"``, ``"category-cost-too-low"``,
        ``"category-cost-too-high"``.
    en, nl : str
        The problem in words, addressed to the voter.
    params : dict
        The figures behind the message (exact numbers as strings).
    """

    code: str
    en: str
    nl: str
    params: dict[str, object] = field(default_factory=dict)


class InvalidBallotError(BudgetingError):
    """A ballot breaks the rules of the vote (see :func:`budgeting.model.check_ballot`).

    ``problems`` lists everything that is wrong, in a fixed order; the message joins them.
    """

    def __init__(self, problems: tuple[BallotProblem, ...], *, voter: str | None = None) -> None:
        self.problems = problems
        who = f"the ballot of voter '{voter}'" if voter is not None else "the ballot"
        message = f"{who} is not valid: " + " ".join(p.en for p in problems)
        super().__init__(
            "invalid-ballot",
            message,
            column="vote",
            params={"voter": voter, "problems": [p.code for p in problems]},
        )
