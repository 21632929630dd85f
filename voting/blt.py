"""Read ``.blt`` ballot files (the ERS / OpenSTV / Droop format).

Layout::

    4 2                 number of candidates, number of seats
    -3                  optional: withdrawn candidates, as negative numbers
    12 1 2 0            weight, then candidate numbers (1-based) in order of preference, then 0
    5 3 0
    0                   end of the ballots
    "Ann"               one name per candidate (quoted or not; several quoted names may share a
    "Bob"               line)
    "Cy"
    "Dee"
    "Example election"  the title (optional)

Withdrawn candidates are removed from the profile and from every ranking. A ballot that
names a candidate twice, or a number that is not a candidate, is an error naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from voting.ballots import Profile
from voting.errors import InputError, read_text

__all__ = ["BltElection", "parse_blt", "read_blt"]

_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True, slots=True)
class BltElection:
    """What a ``.blt`` file holds: the profile, the number of seats, the title, withdrawals."""

    profile: Profile
    seats: int
    title: str
    withdrawn: tuple[str, ...]


def read_blt(path: str | Path) -> BltElection:
    """Read the ``.blt`` file at ``path`` (UTF-8); see :func:`parse_blt`."""
    path = Path(path)
    return parse_blt(read_text(path), file=str(path))


def _ints(text: str, lineno: int, file: str | None) -> list[int]:
    try:
        return [int(tok) for tok in text.split()]
    except ValueError:
        raise InputError(
            "bad-number",
            f"Expected whole numbers separated by spaces, found {text.strip()!r}.",
            file=file,
            line=lineno,
            params={"text": text.strip()},
        ) from None


def parse_blt(text: str, *, file: str | None = None) -> BltElection:
    """Parse the text of a ``.blt`` file; ``file`` is only used in error messages.

    >>> e = parse_blt('3 1\\n2 1 2 0\\n1 3 0\\n0\\n"A"\\n"B"\\n"C"\\n"Test"\\n')
    >>> e.seats, e.profile.candidates, e.profile.valid_poll, e.title
    (1, ('A', 'B', 'C'), 3, 'Test')
    """
    lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1)]
    lines = [(i, s) for i, s in lines if s]
    if not lines:
        raise InputError("empty-file", "The ballot file is empty.", file=file)
    pos = 0
    lineno, head = lines[pos]
    numbers = _ints(head, lineno, file)
    if len(numbers) != 2 or numbers[0] < 1 or numbers[1] < 1:
        raise InputError(
            "bad-header",
            "The first line must hold two positive numbers: candidates and seats.",
            file=file,
            line=lineno,
        )
    n, seats = numbers
    pos += 1
    withdrawn: set[int] = set()
    if pos < len(lines) and lines[pos][1].startswith("-"):
        lineno, s = lines[pos]
        for w in _ints(s, lineno, file):
            if not -n <= w <= -1:
                raise InputError(
                    "bad-withdrawal",
                    f"Withdrawn candidate {w} must be written -1 to -{n}.",
                    file=file,
                    line=lineno,
                )
            withdrawn.add(-w - 1)
        pos += 1
    raw: list[tuple[int, tuple[int, ...], int]] = []
    while True:
        if pos >= len(lines):
            raise InputError(
                "missing-end",
                "The ballots must end with a line holding only 0.",
                file=file,
                line=lines[-1][0],
            )
        lineno, s = lines[pos]
        pos += 1
        if s.startswith('"'):
            raise InputError(
                "missing-end",
                "Candidate names start before the line holding only 0 that ends the ballots.",
                file=file,
                line=lineno,
            )
        nums = _ints(s, lineno, file)
        if nums == [0]:
            break
        if len(nums) < 2 or nums[-1] != 0:
            raise InputError(
                "bad-ballot",
                "A ballot line is: weight, candidate numbers, then 0.",
                file=file,
                line=lineno,
            )
        weight, prefs = nums[0], nums[1:-1]
        if weight < 0:
            raise InputError(
                "bad-weight", f"Ballot weight {weight} is negative.", file=file, line=lineno
            )
        for c in prefs:
            if not 1 <= c <= n:
                raise InputError(
                    "unknown-candidate",
                    f"Candidate number {c} is not between 1 and {n}.",
                    file=file,
                    line=lineno,
                    params={"candidate": c},
                )
        if len(set(prefs)) != len(prefs):
            raise InputError(
                "repeated-preference",
                "The ballot ranks a candidate twice.",
                file=file,
                line=lineno,
            )
        raw.append((lineno, tuple(c - 1 for c in prefs), weight))
    names: list[str] = []
    while len(names) < n:
        if pos >= len(lines):
            raise InputError(
                "missing-names",
                f"The file names {len(names)} candidates; the first line says {n}.",
                file=file,
                line=lines[-1][0],
            )
        lineno, s = lines[pos]
        pos += 1
        quoted = _QUOTED.findall(s) if s.startswith('"') else [s]
        names.extend(q.strip() for q in quoted)
    if len(names) > n:
        raise InputError(
            "extra-names",
            f"The file names more candidates than the {n} of the first line.",
            file=file,
            line=lineno,
        )
    title = ""
    if pos < len(lines):
        s = lines[pos][1]
        title = " ".join(_QUOTED.findall(s)) if s.startswith('"') else s
    kept = [i for i in range(n) if i not in withdrawn]
    new_index = {old: new for new, old in enumerate(kept)}
    try:
        profile = Profile.build(
            [names[i] for i in kept],
            (
                (tuple(new_index[c] for c in prefs if c in new_index), weight)
                for _, prefs, weight in raw
            ),
        )
    except InputError as exc:
        exc.file = file
        raise
    return BltElection(
        profile=profile,
        seats=seats,
        title=title,
        withdrawn=tuple(names[i] for i in sorted(withdrawn)),
    )
