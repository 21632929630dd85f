"""Ballots, stored compactly as unique ballots with weights: ranked, as recorded, approval, score.

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

__all__ = [
    "ApprovalBallot",
    "ApprovalProfile",
    "Ballot",
    "MarkedBallot",
    "MarkedProfile",
    "Profile",
    "ScoreBallot",
    "ScoreProfile",
]


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
        names = _unique_names(candidates)
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


@dataclass(frozen=True, slots=True)
class MarkedBallot:
    """``weight`` identical papers, recorded rank by rank as the voter marked them.

    ``marks[r]`` holds the candidate indices marked at rank ``r + 1``, sorted: one index for a
    clean mark, several for an overvote (or a tie, in PrefLib files), none for a skipped rank.
    The same candidate may appear at several ranks (a duplicate ranking). Nothing is cleaned
    up: the counting rule decides what overvotes, skips and duplicates mean.
    """

    marks: tuple[tuple[int, ...], ...]
    weight: int


@dataclass(frozen=True, slots=True)
class MarkedProfile:
    """Candidates and ranked ballots kept exactly as recorded (see :class:`MarkedBallot`).

    Cast-vote records (RCTab formats) and PrefLib files with ties are read into this type.
    Trailing skipped ranks are dropped and equal records merged; a record with no mark at all
    is kept (an undervote), so the number of papers read is ``sum(weights)``.
    """

    candidates: tuple[str, ...]
    ballots: tuple[MarkedBallot, ...]

    @classmethod
    def build(
        cls,
        candidates: Sequence[str],
        ballots: Iterable[tuple[Sequence[Sequence[int]], int]],
    ) -> MarkedProfile:
        """Check and merge ``(marks, weight)`` pairs; ``marks`` is one sequence per rank."""
        names = _unique_names(candidates)
        counts: Counter[tuple[tuple[int, ...], ...]] = Counter()
        for marks, weight in ballots:
            record = [tuple(sorted(set(rank))) for rank in marks]
            while record and not record[-1]:
                record.pop()
            for rank in record:
                _check_ranking(rank, weight, len(names))
            if weight:
                counts[tuple(record)] += weight
        return cls(names, tuple(MarkedBallot(m, w) for m, w in sorted(counts.items())))

    def strict(self) -> Profile:
        """The ranked :class:`Profile` when every paper is a clean ranking; raise otherwise.

        Raises
        ------
        InputError
            If a paper has an overvote or tie, a skipped rank or a duplicate ranking: those
            need a rule that says what they mean (for example :mod:`voting.rctab`).
        """
        pairs = []
        for b in self.ballots:
            if any(len(rank) != 1 for rank in b.marks):
                raise InputError(
                    "not-a-ranking",
                    "A ballot has a tie, an overvote or a skipped rank; this method needs "
                    "strict rankings.",
                    params={"marks": b.marks},
                )
            pairs.append((tuple(rank[0] for rank in b.marks), b.weight))
        return Profile.build(self.candidates, pairs)

    @property
    def papers(self) -> int:
        """The number of papers read, including those with no mark."""
        return sum(b.weight for b in self.ballots)


@dataclass(frozen=True, slots=True)
class ApprovalBallot:
    """``weight`` identical papers approving the candidate indices ``approved`` (sorted)."""

    approved: tuple[int, ...]
    weight: int


@dataclass(frozen=True, slots=True)
class ApprovalProfile:
    """Candidates and approval ballots, equal ballots merged and kept sorted.

    An empty approval set is kept as a paper (it counts in the turnout, approves no one).
    """

    candidates: tuple[str, ...]
    ballots: tuple[ApprovalBallot, ...]

    @classmethod
    def build(
        cls, candidates: Sequence[str], ballots: Iterable[tuple[Iterable[int], int]]
    ) -> ApprovalProfile:
        """Check and merge ``(approved indices, weight)`` pairs."""
        names = _unique_names(candidates)
        counts: Counter[tuple[int, ...]] = Counter()
        for approved, weight in ballots:
            given = tuple(approved)
            _check_ranking(given, weight, len(names))
            if weight:
                counts[tuple(sorted(given))] += weight
        return cls(names, tuple(ApprovalBallot(a, w) for a, w in sorted(counts.items())))

    @classmethod
    def from_sets(
        cls, candidates: Sequence[str], ballots: Iterable[Iterable[str]]
    ) -> ApprovalProfile:
        """Build a profile from one collection of approved candidate names per paper."""
        index = {name: i for i, name in enumerate(candidates)}
        pairs = []
        for approved in ballots:
            try:
                pairs.append((tuple(index[name] for name in approved), 1))
            except KeyError as exc:
                raise InputError(
                    "unknown-candidate",
                    f"Ballot approves {exc.args[0]!r}, which is not a candidate.",
                    params={"candidate": exc.args[0]},
                ) from None
        return cls.build(candidates, pairs)

    @property
    def papers(self) -> int:
        """The number of ballot papers."""
        return sum(b.weight for b in self.ballots)


@dataclass(frozen=True, slots=True)
class ScoreBallot:
    """``weight`` identical papers giving ``scores[i]`` points to candidate index ``i``."""

    scores: tuple[int, ...]
    weight: int


@dataclass(frozen=True, slots=True)
class ScoreProfile:
    """Candidates and score (or cumulative) ballots: whole, non-negative points per candidate.

    ``max_score`` bounds each single score and ``max_total`` the points on one paper
    (cumulative voting); ``None`` means no bound.
    """

    candidates: tuple[str, ...]
    ballots: tuple[ScoreBallot, ...]
    max_score: int | None = None
    max_total: int | None = None

    @classmethod
    def build(
        cls,
        candidates: Sequence[str],
        ballots: Iterable[tuple[Sequence[int], int]],
        *,
        max_score: int | None = None,
        max_total: int | None = None,
    ) -> ScoreProfile:
        """Check and merge ``(scores, weight)`` pairs; ``scores`` has one entry per candidate."""
        names = _unique_names(candidates)
        counts: Counter[tuple[int, ...]] = Counter()
        for scores, weight in ballots:
            given = tuple(scores)
            _check_ranking((), weight, len(names))
            if len(given) != len(names):
                raise InputError(
                    "bad-scores",
                    f"A ballot gives {len(given)} scores for {len(names)} candidates.",
                    params={"scores": given},
                )
            for s in given:
                if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                    raise InputError(
                        "bad-scores",
                        f"Score {s!r} must be a non-negative whole number.",
                        params={"score": s},
                    )
                if max_score is not None and s > max_score:
                    raise InputError(
                        "bad-scores",
                        f"Score {s} is above the maximum of {max_score}.",
                        params={"score": s, "max_score": max_score},
                    )
            if max_total is not None and sum(given) > max_total:
                raise InputError(
                    "bad-scores",
                    f"A ballot gives {sum(given)} points in all; at most {max_total} may be given.",
                    params={"total": sum(given), "max_total": max_total},
                )
            if weight:
                counts[given] += weight
        merged = tuple(ScoreBallot(s, w) for s, w in sorted(counts.items()))
        return cls(names, merged, max_score, max_total)

    @property
    def papers(self) -> int:
        """The number of ballot papers."""
        return sum(b.weight for b in self.ballots)


def _unique_names(candidates: Sequence[str]) -> tuple[str, ...]:
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
    return names
