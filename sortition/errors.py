"""Errors raised by the sortition core.

Every error carries a machine-readable ``code``, a message a person can act on, and where the
problem is (``file``, ``row``, ``column``) when it comes from an input file, so the command line
and the service can show it without a traceback and a user interface can translate it.

Hierarchy::

    SortitionError
    ├── InputError              a file or value is malformed (missing column, duplicate id, ...)
    ├── QuotaError              the quotas contradict themselves or the panel size
    │   └── InfeasibleQuotasError   no panel meets the quotas; carries a suggested relaxation
    ├── SolverError             the LP/MIP solver failed (a bug or numerical trouble)
    └── AuditError              an audit bundle is malformed or does not verify; names the field
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AuditError",
    "InfeasibleQuotasError",
    "InputError",
    "QuotaError",
    "Relaxation",
    "SolverError",
    "SortitionError",
]


class SortitionError(Exception):
    """Base class of every error the sortition core raises.

    Parameters
    ----------
    code : str
        Stable identifier of the kind of error, for example ``"duplicate-id"``.
    message : str
        What is wrong and what to do about it.
    file, row, column : optional
        Where the problem is. ``row`` counts data rows as a spreadsheet shows them: the header
        is row 1, the first data row is row 2.
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
        """Return ``file, row R, column 'C': message`` with the parts that are known."""
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(SortitionError):
    """A file or value given to the core is malformed."""


class QuotaError(SortitionError):
    """The quotas contradict each other, the pool, or the panel size."""


@dataclass(frozen=True, slots=True)
class Relaxation:
    """A change to one quota that is part of a suggested relaxation.

    ``new_min``/``new_max`` are the bounds that, together with the other changes of the same
    suggestion, make the quotas feasible.
    """

    feature: str
    value: str
    old_min: int
    old_max: int
    new_min: int
    new_max: int

    def describe(self) -> str:
        """Say the change in words, for example ``age/16-24: min 5 -> 3``."""
        parts = []
        if self.new_min != self.old_min:
            parts.append(f"min {self.old_min} -> {self.new_min}")
        if self.new_max != self.old_max:
            parts.append(f"max {self.old_max} -> {self.new_max}")
        return f"{self.feature}/{self.value}: {', '.join(parts)}"


class InfeasibleQuotasError(QuotaError):
    """No panel of the requested size meets every quota (and the household rule).

    ``suggestion`` holds the smallest relaxation (fewest people of slack, summed over all
    quotas) that makes a panel possible, or is empty when no relaxation of the quotas helps
    (for example when the pool holds fewer eligible people than the panel size).
    """

    def __init__(
        self,
        message: str,
        *,
        suggestion: tuple[Relaxation, ...] = (),
        file: str | None = None,
    ) -> None:
        self.suggestion = suggestion
        if suggestion:
            message += " Smallest relaxation that makes a panel possible: " + "; ".join(
                r.describe() for r in suggestion
            )
            message += "."
        super().__init__("infeasible-quotas", message, file=file)


class SolverError(SortitionError):
    """The solver failed to solve a problem it should have solved."""


class AuditError(SortitionError):
    """An audit bundle is malformed, or something in it does not follow from the rest.

    ``field`` is the path of the first thing that does not match, for example
    ``"draw.pool"``, ``"reveal.index"`` or ``"events[2].replacement"``.
    """

    def __init__(
        self, field: str, message: str, *, code: str = "mismatch", file: str | None = None
    ) -> None:
        self.field = field
        super().__init__(code, message, file=file, column=field)

    def describe(self) -> str:
        """Return ``file: field: message``."""
        where = [part for part in (self.file, self.field) if part]
        return ": ".join([*where, self.message])
