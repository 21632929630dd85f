"""Ranked ballots, stored compactly as unique rankings with weights.

A :class:`Profile` holds the candidates (names, in a fixed order) and the ballots, each a
ranking of candidate indices (most preferred first) with the number of voters who cast it.
Equal rankings are merged and the ballots are kept sorted, so two profiles built from the same
papers in any order are equal.

>>> p = Profile.from_rankings(["Ann", "Bob", "Cy"], [["Bob", "Ann"], ["Cy"], ["Bob", "Ann"]])
>>> [(b.ranking, b.weight) for b in p.ballots]
[((1, 0), 2), ((2,), 1)]
>>> p.valid_poll
3
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voting.errors import InputError

__all__ = ["Ballot", "Profile"]


@dataclass(frozen=True, slots=True)
class Ballot:
    """``weight`` identical ballot papers ranking candidate indices ``ranking`` in order."""

    ranking: tuple[int, ...]
    weight: int


@dataclass(frozen=True, slots=True)
class Profile:
    """Candidates and ranked ballots; build it with :meth:`build` or :meth:`from_rankings`.

    Blank rankings are not kept: a paper with no preference is not a valid vote.
    """

    candidates: tuple[str, ...]
    ballots: tuple[Ballot, ...]

    @classmethod
    def build(
        cls, candidates: Sequence[str], ballots: Iterable[tuple[Sequence[int], int]]
    ) -> Profile:
        """Check and merge ``(ranking, weight)`` pairs whose rankings hold candidate indices."""
        names = tuple(candidates)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise InputError(
                    "duplicate-candidate",
                    f"Candidate {name!r} appears twice; candidate names must be unique.",
                    params={"candidate": name},
                )
            seen.add(name)
        counts: Counter[tuple[int, ...]] = Counter()
        for ranking, weight in ballots:
            rank = tuple(ranking)
            _check_ranking(rank, weight, len(names))
            if rank and weight:
                counts[rank] += weight
        merged = tuple(Ballot(r, w) for r, w in sorted(counts.items()))
        return cls(names, merged)

    @classmethod
    def from_rankings(cls, candidates: Sequence[str], rankings: Iterable[Sequence[str]]) -> Profile:
        """Build a profile from one ranking of candidate names per ballot paper."""
        index = {name: i for i, name in enumerate(candidates)}
        pairs = []
        for ranking in rankings:
            try:
                pairs.append((tuple(index[name] for name in ranking), 1))
            except KeyError as exc:
                raise InputError(
                    "unknown-candidate",
                    f"Ballot ranks {exc.args[0]!r}, which is not a candidate.",
                    params={"candidate": exc.args[0]},
                ) from None
        return cls.build(candidates, pairs)

    @property
    def valid_poll(self) -> int:
        """The number of valid ballot papers (papers with at least one preference)."""
        return sum(b.weight for b in self.ballots)


def _check_ranking(ranking: tuple[int, ...], weight: int, n: int) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        raise InputError(
            "bad-weight",
            f"Ballot weight {weight!r} must be a non-negative whole number.",
            params={"weight": weight},
        )
    for c in ranking:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < n:
            raise InputError(
                "unknown-candidate",
                f"Ballot ranks candidate {c!r}; candidates are numbered 0 to {n - 1}.",
                params={"candidate": c},
            )
    if len(set(ranking)) != len(ranking):
        raise InputError(
            "repeated-preference",
            f"Ballot {ranking!r} ranks a candidate twice.",
            params={"ranking": ranking},
        )
