"""Errors raised by the voting core.

Every error carries a machine-readable ``code``, a message a person can act on, and where the
problem is (``file``, ``line``) when it comes from an input file, so the command line and the
service can show it without a traceback and a user interface can translate it.

Hierarchy::

    VotingError
    ├── InputError      ballots, candidates or a ballot file are malformed (names the line)
    └── LotNeededError  a tie must be broken by lot but no seed was given
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["InputError", "LotNeededError", "VotingError", "read_text"]


class VotingError(Exception):
    """Base class of every error the voting core raises.

    Parameters
    ----------
    code : str
        Stable identifier of the kind of error, for example ``"bad-preference"``.
    message : str
        What is wrong and what to do about it.
    file, line : optional
        Where the problem is; ``line`` counts from 1 as an editor shows it.
    params : mapping, optional
        The values that went into ``message``, for translation.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.params = dict(params or {})
        super().__init__(message)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """Return ``file, line L: message`` with the parts that are known."""
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(VotingError):
    """Ballots, candidates or a ballot file given to the core are malformed."""


class LotNeededError(VotingError):
    """A tie can only be broken by lot, and the count was started without a seed."""


def read_text(path: str | Path) -> str:
    """The text of the UTF-8 file at ``path`` (a byte-order mark is dropped).

    Raises
    ------
    InputError
        ``bad-encoding`` if the file is not UTF-8, naming the file and the byte.
    OSError
        If the file cannot be read (the caller says which file is missing).
    """
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "bad-encoding",
            f"The file is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            file=str(path),
        ) from None
