"""What a budgeting rule sees: projects by index with exact costs, and weighted ballots.

The rules (:mod:`budgeting.rules`, :mod:`budgeting.mes`) work on an :class:`Election`, not on
files: project ``j`` has id ``ids[j]`` and cost ``costs[j]`` (an exact ``Fraction``),
and identical ballots are merged into one :class:`WeightedBallot` with a ``weight`` (the number
of voters who cast it). :func:`budgeting.pabulib.to_election` builds one from a parsed file.

Tie-breaking is an :class:`TieBreak`: a total order on projects that every rule consults when
a comparison of exact values ends equal. ``"id"`` is ascending project id compared as strings
(as pabutools does, for conformance runs); ``"default"`` is the order equalshares.net
recommends: lower cost first, then more votes (supporters), then a lot drawn from a recorded
seed (:class:`sortition.randomness.SeededStream`, label ``"budget-ties"``), which is a documented,
version-independent method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, overload

__all__ = [
    "VOTE_TYPES",
    "Election",
    "Explanation",
    "Outcome",
    "TieBreak",
    "VoteType",
    "WeightedBallot",
]

VoteType = Literal["approval", "choose-1", "cumulative", "scoring", "ordinal"]
VOTE_TYPES: tuple[VoteType, ...] = ("approval", "choose-1", "cumulative", "scoring", "ordinal")


@dataclass(frozen=True, slots=True)
class WeightedBallot:
    """One distinct ballot and how many voters cast it.

    Attributes
    ----------
    projects : tuple of int
        Indices of the projects on the ballot: approved (approval, choose-1), given points
        (cumulative, scoring; only positive points are kept), or ranked, best first (ordinal).
    points : tuple of Fraction, or None
        Points per project of ``projects`` (cumulative, scoring); None otherwise.
    weight : int
        Number of voters who cast exactly this ballot (at least 1).
    """

    projects: tuple[int, ...]
    points: tuple[Fraction, ...] | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Election:
    """Projects, budget and ballots, as the rules use them.

    Attributes
    ----------
    ids : tuple of str
        Project ids, in the file's order; project ``j`` is ``ids[j]``.
    costs : tuple of Fraction
        Exact cost of each project.
    budget : Fraction
        The total budget.
    vote_type : str
        One of :data:`VOTE_TYPES`.
    ballots : tuple of WeightedBallot
        Distinct ballots with multiplicities, in a canonical order (sorted by projects and
        points), so that the order of the voters changes nothing.
    """

    ids: tuple[str, ...]
    costs: tuple[Fraction, ...]
    budget: Fraction
    vote_type: VoteType
    ballots: tuple[WeightedBallot, ...]

    @property
    def n_projects(self) -> int:
        """Number of projects."""
        return len(self.ids)

    @property
    def n_voters(self) -> int:
        """Number of voters (the sum of the ballots' weights)."""
        return sum(b.weight for b in self.ballots)

    def supporters(self) -> list[int]:
        """Per project, the number of voters whose ballot includes it."""
        counts = [0] * self.n_projects
        for ballot in self.ballots:
            for j in ballot.projects:
                counts[j] += ballot.weight
        return counts

    def points_total(self) -> list[Fraction]:
        """Per project, the total points it got (for approval and choose-1: its supporters)."""
        whole = [0] * self.n_projects  # integer points summed as ints: Fractions are slow
        parts = [Fraction(0)] * self.n_projects
        for ballot in self.ballots:
            if ballot.points is None:
                for j in ballot.projects:
                    whole[j] += ballot.weight
            else:
                for j, p in zip(ballot.projects, ballot.points, strict=True):
                    if p.denominator == 1:
                        whole[j] += p.numerator * ballot.weight
                    else:
                        parts[j] += p * ballot.weight
        return [parts[j] + whole[j] for j in range(self.n_projects)]


@dataclass(frozen=True)
class TieBreak:
    """A total order on projects, used whenever exact comparisons end equal.

    Parameters
    ----------
    rank : tuple of int
        ``rank[j]`` is project ``j``'s position in the order; lower wins the tie.
    name : str
        ``"id"`` or ``"default"``.
    seed : str or None
        The seed of the lot (``"default"`` only).
    """

    rank: tuple[int, ...]
    name: str
    seed: str | None = None

    @classmethod
    def by_id(cls, election: Election) -> TieBreak:
        """Ascending project id, compared as strings (as pabutools does)."""
        order = sorted(range(election.n_projects), key=lambda j: election.ids[j])
        return cls(_positions(order), "id")

    @classmethod
    def default(cls, election: Election, seed: str = "") -> TieBreak:
        """Lower cost, then more supporters, then a lot from ``seed`` (equalshares.net).

        The lot: projects sorted by id are shuffled with ``SeededStream(seed,
        "budget-ties").sample(ids, len(ids))``; a project earlier in the shuffle wins.
        """
        from sortition.randomness import SeededStream  # the lot; sortition loads only here

        by_id = sorted(range(election.n_projects), key=lambda j: election.ids[j])
        shuffled = SeededStream(seed, "budget-ties").sample(by_id, len(by_id))
        lot = _positions(shuffled)
        votes = election.supporters()
        order = sorted(
            range(election.n_projects), key=lambda j: (election.costs[j], -votes[j], lot[j])
        )
        return cls(_positions(order), "default", seed)

    def first(self, candidates: Sequence[int]) -> int:
        """The candidate that wins a tie."""
        return min(candidates, key=lambda j: self.rank[j])


def _positions(order: Sequence[int]) -> tuple[int, ...]:
    rank = [0] * len(order)
    for position, j in enumerate(order):
        rank[j] = position
    return tuple(rank)


@dataclass(frozen=True)
class Explanation:
    """Why one project was or was not funded, as data and as text in Dutch and English.

    Attributes
    ----------
    project : int
        The project's index.
    funded : bool
        Whether it was funded.
    code : str
        The kind of reason, for example ``"funded"``, ``"did-not-fit"``, ``"below-threshold"``,
        ``"too-little-support"``; stable, for user interfaces.
    data : dict
        The figures behind the reason (exact values as strings), rule-specific.
    nl, en : str
        The reason in words.
    """

    project: int
    funded: bool
    code: str
    data: dict[str, object] = field(default_factory=dict)
    nl: str = ""
    en: str = ""


class Explanations(Sequence[Explanation]):
    """One :class:`Explanation` per project, built when first read.

    For the Method of Equal Shares the explanations (each project's money, round by round)
    cost more to build than the rule itself; an outcome whose explanations nobody reads does
    not build them. Reads like a tuple, and equals the tuple of the same explanations.
    """

    __slots__ = ("_build", "_items")

    def __init__(self, build: Callable[[], Iterable[Explanation]]) -> None:
        self._build: Callable[[], Iterable[Explanation]] | None = build
        self._items: tuple[Explanation, ...] | None = None

    def _all(self) -> tuple[Explanation, ...]:
        if self._items is None:
            assert self._build is not None
            self._items = tuple(self._build())
            self._build = None
        return self._items

    @overload
    def __getitem__(self, index: int) -> Explanation: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Explanation, ...]: ...

    def __getitem__(self, index: int | slice) -> Explanation | tuple[Explanation, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Explanation]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Explanations):
            other = other._all()
        return isinstance(other, tuple) and self._all() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True)
class Outcome:
    """The projects a rule funds, in the order it funded them, with explanations.

    Attributes
    ----------
    rule : str
        The rule's name as the command takes it (``"greedy"``, ``"mes-add1"``, ...).
    selected : tuple of int
        Funded project indices, in the order the rule selected them.
    cost : Fraction
        Their total cost.
    explanations : sequence of Explanation
        One per project (every project, funded or not), by index (a tuple, or
        :class:`Explanations`, built when first read).
    details : dict
        Rule-specific figures (for MES: the per-voter budget used, rounds, ...).
    """

    rule: str
    selected: tuple[int, ...]
    cost: Fraction
    explanations: Sequence[Explanation] = ()
    details: dict[str, object] = field(default_factory=dict)
