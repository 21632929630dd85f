"""Single-winner methods on ranked profiles, with exact arithmetic and explicit ties.

Every method returns a :class:`SingleResult`: the tied set of best candidates (``winners``),
the winner (``winner``: the only one, or the one a recorded lot chose, or ``None`` when the tie
stands), the round tables and, for the Condorcet methods, the pairwise matrix. A tie is never
broken silently: without a seed it is returned as it is; with a seed a lot from
:class:`sortition.randomness.SeededStream` chooses, and the lot is recorded in ``lots``.

The pairwise matrix ``d[a][b]`` counts the voters who rank ``a`` above ``b``; a ranked
candidate is above every unranked one and two unranked candidates are not compared.

>>> from voting.ballots import Profile
>>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B", "C"]] * 4 + [["B", "C", "A"]] * 3
...     + [["C", "A", "B"]] * 2)
>>> schulze(p).winner, ranked_pairs(p).winner, copeland(p).winners
('A', 'A', ('A', 'B', 'C'))
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal, Protocol

import numpy as np

from sortition.randomness import SeededStream
from voting.ballots import Profile
from voting.errors import InputError, LotNeededError

__all__ = [
    "SINGLE_WINNER_METHODS",
    "Round",
    "SingleResult",
    "TieLot",
    "borda",
    "copeland",
    "instant_runoff",
    "minimax",
    "pairwise_matrix",
    "plurality",
    "ranked_pairs",
    "schulze",
]

Matrix = tuple[tuple[int, ...], ...]
_Closure = frozenset[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Round:
    """One round of a count.

    ``totals`` is aligned with :attr:`SingleResult.candidates` (excluded candidates hold 0);
    ``exhausted`` counts the ballots that rank no continuing candidate (instant-runoff).
    """

    number: int
    totals: tuple[Fraction, ...]
    exhausted: int
    elected: tuple[str, ...]
    excluded: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class TieLot:
    """A tie broken by lot: what for, the stream label, the tied candidates, the one chosen.

    For ``purpose="order"`` (ranked pairs) ``tied`` lists equally strong majorities as
    ``"A>B"`` and ``chosen`` the order drawn, separated by spaces.
    """

    purpose: Literal["winner", "exclusion", "order"]
    label: str
    tied: tuple[str, ...]
    chosen: str


@dataclass(frozen=True, slots=True)
class SingleResult:
    """The outcome of a single-winner count.

    Attributes
    ----------
    method : str
        The method's name.
    candidates : tuple of str
        The candidates, in the profile's order.
    winners : tuple of str
        The best candidates before any lot (one unless there is a tie), in candidate order.
    winner : str or None
        The winner: the only one in ``winners``, or the one a lot chose; ``None`` if a tie
        stands because no seed was given.
    rounds : tuple of Round
        The round tables (one round for the methods that score once).
    pairwise : tuple of tuple of int, optional
        ``pairwise[a][b]``, voters ranking ``a`` above ``b`` (Condorcet methods).
    strengths : tuple of tuple of int, optional
        Schulze's strongest-path strengths.
    locked : tuple of (str, str)
        Ranked pairs: the majorities locked in, strongest first (one order if there were ties).
    lots : tuple of TieLot
        The lots drawn.
    seed : str or None
        The seed the lots were drawn from.
    """

    method: str
    candidates: tuple[str, ...]
    winners: tuple[str, ...]
    winner: str | None
    rounds: tuple[Round, ...]
    pairwise: Matrix | None = None
    strengths: Matrix | None = None
    locked: tuple[tuple[str, str], ...] = ()
    lots: tuple[TieLot, ...] = ()
    seed: str | None = None

    @property
    def elected(self) -> tuple[str, ...]:
        """``(winner,)``, or ``()`` while a tie stands."""
        return () if self.winner is None else (self.winner,)


def _check(profile: Profile) -> None:
    if not profile.candidates:
        raise InputError("no-candidates", "There are no candidates to count.")


def _finish(
    method: str,
    profile: Profile,
    best: Sequence[int],
    rounds: list[Round],
    seed: str | None,
    *,
    lots: Sequence[TieLot] = (),
    pairwise: Matrix | None = None,
    strengths: Matrix | None = None,
    locked: tuple[tuple[str, str], ...] = (),
) -> SingleResult:
    names = profile.candidates
    tied = tuple(names[c] for c in sorted(best))
    all_lots = list(lots)
    winner: str | None = tied[0] if len(tied) == 1 else None
    if len(tied) > 1 and seed is not None:
        label = f"{method}/winner"
        winner = tied[SeededStream(seed, label).randbelow(len(tied))]
        all_lots.append(TieLot("winner", label, tied, winner))
    return SingleResult(
        method,
        names,
        tied,
        winner,
        tuple(rounds),
        pairwise,
        strengths,
        locked,
        tuple(all_lots),
        seed,
    )


def _argbest(scores: Sequence[Fraction], *, highest: bool = True) -> list[int]:
    target = max(scores) if highest else min(scores)
    return [c for c, s in enumerate(scores) if s == target]


def _scored(
    method: str, profile: Profile, scores: list[Fraction], seed: str | None, note: str
) -> SingleResult:
    best = _argbest(scores)
    names = profile.candidates
    rnd = Round(1, tuple(scores), 0, tuple(names[c] for c in best), (), note)
    return _finish(method, profile, best, [rnd], seed)


def plurality(profile: Profile, *, seed: str | None = None) -> SingleResult:
    """Plurality: the candidate with the most first preferences wins.

    Parameters
    ----------
    profile : Profile
        The ranked ballots (only first preferences count).
    seed : str, optional
        Seed of the lot that breaks a tie for first; without it a tie is returned.

    Returns
    -------
    SingleResult
        One round with each candidate's first preferences.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B"], [["A"], ["B", "A"], ["A", "B"]])
    >>> plurality(p).winner
    'A'
    """
    _check(profile)
    scores = [Fraction(0)] * len(profile.candidates)
    for b in profile.ballots:
        scores[b.ranking[0]] += b.weight
    return _scored("plurality", profile, scores, seed, "first preferences")


def borda(profile: Profile, *, seed: str | None = None) -> SingleResult:
    r"""Borda count: with :math:`n` candidates the :math:`k`-th preference scores :math:`n-k`.

    A ballot gives :math:`n-1, n-2, \dots` points to its first, second, ... preferences and
    0 to every candidate it does not rank (the "truncated ballots score zero" convention).

    Parameters
    ----------
    profile : Profile
        The ranked ballots.
    seed : str, optional
        Seed of the lot that breaks a tie for first.

    References
    ----------
    J.-C. de Borda (1781), "Mémoire sur les élections au scrutin", *Histoire de l'Académie
    Royale des Sciences*, Paris.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B", "C"], ["B", "C"], ["B", "A"]])
    >>> [str(t) for t in borda(p).rounds[0].totals], borda(p).winner
    (['3', '5', '1'], 'B')
    """
    _check(profile)
    n = len(profile.candidates)
    scores = [Fraction(0)] * n
    for b in profile.ballots:
        for k, c in enumerate(b.ranking):
            scores[c] += b.weight * (n - 1 - k)
    return _scored("borda", profile, scores, seed, "Borda points")


def instant_runoff(profile: Profile, *, seed: str | None = None) -> SingleResult:
    """Instant-runoff (alternative vote): exclude the lowest candidate until one has a majority.

    Each round every ballot counts for its highest-ranked continuing candidate; a ballot that
    ranks none is exhausted and no longer counts. A candidate with more than half of the
    ballots that still count wins. Otherwise the candidate with the fewest votes is excluded.
    Candidates tied for fewest whose combined votes are below the next candidate's are excluded
    together (excluding them one by one in any order gives the same result). Any other tie for
    exclusion is broken by a recorded lot; with two candidates left tied (or no ballots left
    that count) the count ends in a tie.

    Parameters
    ----------
    profile : Profile
        The ranked ballots.
    seed : str, optional
        Seed of the lots.

    Raises
    ------
    LotNeededError
        If an exclusion can only be decided by lot and no seed was given.

    Notes
    -----
    Profiles with many unique ballots (``_FAST_IRV_MIN_BALLOTS``) are counted over numpy
    arrays (:class:`_NumpyIrvTally`): a pointer per unique ballot to its current preference,
    moved only when that candidate is excluded, and one weighted ``np.bincount`` per round.
    The totals are exact integers and the result is identical to the plain count's.

    References
    ----------
    T. Hare (1859), *A Treatise on the Election of Representatives, Parliamentary and
    Municipal*, London: Longman; the single-winner form is due to W. R. Ware (1871).

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B", "C"], [["A"]] * 4 + [["B", "C"]] * 2
    ...     + [["C", "B"]] * 3)
    >>> r = instant_runoff(p)
    >>> r.winner, [x.excluded for x in r.rounds]
    ('C', [('B',), ()])
    """
    _check(profile)
    total_weight = profile.valid_poll
    fast = len(profile.ballots) >= _FAST_IRV_MIN_BALLOTS and total_weight < _FLOAT_EXACT
    tally: _IrvTally = _NumpyIrvTally(profile) if fast else _PythonIrvTally(profile)
    return _count_irv(profile, tally, seed)


#: Profiles with at least this many unique ballots are counted with numpy arrays.
_FAST_IRV_MIN_BALLOTS: Final = 256
#: Below this total weight, float64 sums of integer weights (``np.bincount``) are exact.
_FLOAT_EXACT: Final = 2**53


class _IrvTally(Protocol):
    """Counts each ballot for its highest-ranked continuing candidate (one round's table)."""

    def exclude(self, out: Sequence[int]) -> None:
        """Remove the candidates ``out`` from the continuing ones."""

    def count(self) -> tuple[list[int], int]:
        """The totals per candidate (excluded: 0) and the weight of the exhausted ballots."""


class _PythonIrvTally:
    """The plain count: every round, walk each ballot to its first continuing preference."""

    def __init__(self, profile: Profile) -> None:
        self.ballots = profile.ballots
        self.n = len(profile.candidates)
        self.continuing = set(range(self.n))

    def exclude(self, out: Sequence[int]) -> None:
        self.continuing.difference_update(out)

    def count(self) -> tuple[list[int], int]:
        totals = [0] * self.n
        exhausted = 0
        continuing = self.continuing
        for b in self.ballots:
            top = next((c for c in b.ranking if c in continuing), None)
            if top is None:
                exhausted += b.weight
            else:
                totals[top] += b.weight
        return totals, exhausted


class _NumpyIrvTally:
    """The same count over numpy arrays of the unique ballots.

    The rankings are stored in a matrix padded with the sentinel ``n`` (one column more than
    the longest ranking), with a pointer per ballot to its current preference. Excluding
    candidates advances only the pointers that stood on them, to the next continuing
    preference or the sentinel (exhausted); each round is one weighted ``np.bincount``. The
    weights are summed as float64, exact while the total weight is below ``2**53`` (the caller
    checks), and returned as Python integers, so the totals equal the plain count's.
    """

    def __init__(self, profile: Profile) -> None:
        n = len(profile.candidates)
        ballots = profile.ballots
        self.n = n
        lengths = np.fromiter((len(b.ranking) for b in ballots), dtype=np.int64, count=len(ballots))
        width = int(lengths.max()) + 1
        flat = np.fromiter(
            itertools.chain.from_iterable(b.ranking for b in ballots),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        rows = np.repeat(np.arange(len(ballots), dtype=np.int64), lengths)
        starts = np.cumsum(lengths) - lengths
        cols = np.arange(flat.size, dtype=np.int64) - np.repeat(starts, lengths)
        dtype = np.int16 if n < 2**15 - 1 else np.int64
        self.matrix = np.full((len(ballots), width), n, dtype=dtype)
        self.matrix[rows, cols] = flat
        self.weights = np.fromiter(
            (b.weight for b in ballots), dtype=np.float64, count=len(ballots)
        )
        self.pointer = np.zeros(len(ballots), dtype=np.int64)
        self.top = self.matrix[:, 0].astype(np.int64)
        # continuing[n] is the sentinel: True so that a pointer stops there (exhausted).
        self.continuing = np.ones(n + 1, dtype=bool)

    def exclude(self, out: Sequence[int]) -> None:
        self.continuing[list(out)] = False
        moving = np.flatnonzero(~self.continuing[self.top])
        while moving.size:
            self.pointer[moving] += 1
            tops = self.matrix[moving, self.pointer[moving]].astype(np.int64)
            self.top[moving] = tops
            moving = moving[~self.continuing[tops]]

    def count(self) -> tuple[list[int], int]:
        sums = np.bincount(self.top, weights=self.weights, minlength=self.n + 1)
        counts = [int(x) for x in sums.tolist()]
        return counts[: self.n], counts[self.n]


def _count_irv(profile: Profile, tally: _IrvTally, seed: str | None) -> SingleResult:
    """The rounds of :func:`instant_runoff`, with the ballots counted by ``tally``."""
    names = profile.candidates
    n = len(names)
    continuing = set(range(n))
    rounds: list[Round] = []
    lots: list[TieLot] = []
    while True:
        totals, exhausted = tally.count()
        active = sum(totals)
        number = len(rounds) + 1
        fr = tuple(Fraction(t) for t in totals)
        order = sorted(continuing)
        leader = max(order, key=lambda c: totals[c])
        if len(order) == 1 or 2 * totals[leader] > active:
            note = "only candidate left" if len(order) == 1 else "majority of continuing votes"
            rounds.append(Round(number, fr, exhausted, (names[leader],), (), note))
            return _finish("irv", profile, [leader], rounds, seed, lots=lots)
        low = min(totals[c] for c in order)
        group = [c for c in order if totals[c] == low]
        if active == 0 or (len(order) == 2 and len(group) == 2):
            rounds.append(Round(number, fr, exhausted, (), (), "tie"))
            return _finish("irv", profile, order, rounds, seed, lots=lots)
        higher = [totals[c] for c in order if totals[c] > low]
        note = "fewest votes"
        if len(group) > 1 and higher and low * len(group) < min(higher):
            out = group
            note = "fewest votes; together fewer than the next candidate"
        elif len(group) > 1:
            label = f"irv/round-{number}/exclusion"
            tied = tuple(names[c] for c in group)
            if seed is None:
                raise LotNeededError(
                    "lot-needed",
                    f"In round {number} the exclusion tie between {', '.join(tied)} can only be "
                    "broken by lot; count again with a recorded seed.",
                    params={"round": number, "tied": tied},
                )
            pick = group[SeededStream(seed, label).randbelow(len(group))]
            lots.append(TieLot("exclusion", label, tied, names[pick]))
            out = [pick]
            note = "fewest votes; tie broken by lot"
        else:
            out = group
        rounds.append(Round(number, fr, exhausted, (), tuple(names[c] for c in out), note))
        continuing.difference_update(out)
        tally.exclude(out)


def pairwise_matrix(profile: Profile) -> Matrix:
    """``d[a][b]``: the number of voters who rank ``a`` above ``b`` (ranked above unranked).

    >>> pairwise_matrix(Profile.from_rankings(["A", "B", "C"], [["A", "B"], ["C"]]))
    ((0, 1, 1), (0, 0, 1), (1, 1, 0))
    """
    n = len(profile.candidates)
    d = [[0] * n for _ in range(n)]
    for b in profile.ballots:
        unranked = [c for c in range(n) if c not in b.ranking]
        for k, a in enumerate(b.ranking):
            for c in b.ranking[k + 1 :]:
                d[a][c] += b.weight
            for c in unranked:
                d[a][c] += b.weight
    return tuple(tuple(row) for row in d)


def _pairwise_round(
    scores: Sequence[Fraction], names: Sequence[str], best: list[int], note: str
) -> Round:
    return Round(1, tuple(scores), 0, tuple(names[c] for c in best), (), note)


def schulze(profile: Profile, *, seed: str | None = None) -> SingleResult:
    r"""Schulze method: the winners are not beaten by anyone along a strongest path.

    The strength of the direct link :math:`a \to b` is :math:`d[a][b]` when
    :math:`d[a][b] > d[b][a]` (winning votes) and 0 otherwise; the strength of a path is its
    weakest link and :math:`p[a][b]` the strongest path (Floyd–Warshall). Candidate :math:`a`
    is a winner when :math:`p[a][b] \ge p[b][a]` for every :math:`b`; this set is never empty.

    The round's totals count, per candidate, the others it beats by strongest paths.

    References
    ----------
    M. Schulze (2011), "A new monotonic, clone-independent, reversal symmetric, and
    Condorcet-consistent single-winner election method", *Social Choice and Welfare* 36(2),
    267–303, doi:10.1007/s00355-010-0475-4.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B"], [["B"], ["A", "B"], ["B", "A"]])
    >>> schulze(p).winner
    'B'
    """
    _check(profile)
    names = profile.candidates
    n = len(names)
    d = pairwise_matrix(profile)
    p = [[d[i][j] if i != j and d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j:
                for k in range(n):
                    if i != k and j != k:
                        p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    best = [a for a in range(n) if all(p[a][b] >= p[b][a] for b in range(n))]
    scores = [Fraction(sum(1 for b in range(n) if p[a][b] > p[b][a])) for a in range(n)]
    strengths = tuple(tuple(row) for row in p)
    rnd = _pairwise_round(scores, names, best, "candidates beaten by strongest paths")
    return _finish("schulze", profile, best, [rnd], seed, pairwise=d, strengths=strengths)


#: How many partial lockings ranked pairs tries before it asks for a lot to order ties.
_RANKED_PAIRS_BUDGET: Final = 2_000


class _TooManyOrdersError(Exception):
    pass


def ranked_pairs(profile: Profile, *, seed: str | None = None) -> SingleResult:
    r"""Ranked pairs: lock in majorities from strongest to weakest unless they close a cycle.

    Majorities :math:`a \succ b` (:math:`d[a][b] > d[b][a]`) are taken in order of winning
    votes :math:`d[a][b]` (more first), then of opposition :math:`d[b][a]` (less first); each is
    locked unless it would create a cycle with those locked before. The winners are the
    candidates no locked majority points to. Majorities that are equally strong are tried in
    every order, and the winners of all orders form the tied set, so no tie is resolved
    silently (Tideman's tie-breaking ranking is replaced by a recorded lot among that set).
    Finding that set is NP-hard in general (Brill and Fischer 2012), so after
    ``_RANKED_PAIRS_BUDGET`` partial lockings the equally strong majorities are instead put in
    an order drawn by lot (recorded, ``purpose="order"``), or :class:`LotNeededError` is raised
    without a seed.

    The round's totals count, per candidate, the locked majorities it wins.

    References
    ----------
    T. N. Tideman (1987), "Independence of clones as a criterion for voting rules", *Social
    Choice and Welfare* 4(3), 185–206, doi:10.1007/BF00433944; M. Brill and F. Fischer
    (2012), "The price of neutrality for the ranked pairs method", *Proc. AAAI-12*, 1299–1305.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B", "C"]] * 4
    ...     + [["B", "C", "A"]] * 3 + [["C", "A", "B"]] * 2)
    >>> r = ranked_pairs(p)
    >>> r.winner, r.locked
    ('A', (('B', 'C'), ('A', 'B')))
    """
    _check(profile)
    names = profile.candidates
    n = len(names)
    d = pairwise_matrix(profile)
    majorities = [(a, b) for a in range(n) for b in range(n) if a != b and d[a][b] > d[b][a]]
    majorities.sort(key=lambda e: (-d[e[0]][e[1]], d[e[1]][e[0]], e))
    groups: list[list[tuple[int, int]]] = []
    for e in majorities:
        key = (d[e[0]][e[1]], d[e[1]][e[0]])
        if (
            groups
            and (d[groups[-1][0][0]][groups[-1][0][1]], d[groups[-1][0][1]][groups[-1][0][0]])
            == key
        ):
            groups[-1].append(e)
        else:
            groups.append([e])

    budget = [_RANKED_PAIRS_BUDGET]

    def add(closure: _Closure, a: int, b: int) -> _Closure:
        before = {x for x, y in closure if y == a} | {a}
        after = {y for x, y in closure if x == b} | {b}
        return closure | {(x, y) for x in before for y in after}

    def lock(
        closure: _Closure, rest: _Closure, out: set[_Closure], memo: set[tuple[_Closure, _Closure]]
    ) -> None:
        # Only the reachability relation decides what is locked later: states are closures.
        rest = frozenset(e for e in rest if e not in closure and e[::-1] not in closure)
        if (closure, rest) in memo:
            return
        memo.add((closure, rest))
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooManyOrdersError
        if not rest:
            out.add(closure)
            return
        whole = closure
        for a, b in sorted(rest):
            if (b, a) in whole:
                break
            whole = add(whole, a, b)
        else:  # no order skips any of them: the order does not matter
            out.add(whole)
            return
        for a, b in sorted(rest):
            lock(add(closure, a, b), rest - {(a, b)}, out, memo)

    def run(orders: list[list[tuple[int, int]]]) -> tuple[_Closure, list[tuple[int, int]]]:
        closure: _Closure = frozenset()
        done: list[tuple[int, int]] = []
        for group in orders:
            for a, b in group:
                if (b, a) not in closure:
                    closure = add(closure, a, b)
                    done.append((a, b))
        return closure, done

    lots: list[TieLot] = []
    try:
        states: set[_Closure] = {frozenset()}
        for group in groups:
            new: set[_Closure] = set()
            memo: set[tuple[_Closure, _Closure]] = set()
            for state in states:
                lock(state, frozenset(group), new, memo)
            states = new
        _, first = run(groups)  # one order, for the record: the sorted one
    except _TooManyOrdersError:
        if seed is None:
            raise LotNeededError(
                "lot-needed",
                "Ranked pairs: too many majorities are equally strong to try every order; "
                "count again with a recorded seed to order them by lot.",
            ) from None
        orders = []
        for k, group in enumerate(groups, start=1):
            if len(group) > 1:
                label = f"ranked-pairs/group-{k}/order"
                order = SeededStream(seed, label).sample(group, len(group))
                tied = tuple(f"{names[a]}>{names[b]}" for a, b in group)
                chosen = " ".join(f"{names[a]}>{names[b]}" for a, b in order)
                lots.append(TieLot("order", label, tied, chosen))
                group = order
            orders.append(group)
        closure, first = run(orders)
        states = {closure}
    best_set: set[int] = set()
    for state in states:
        best_set.update(c for c in range(n) if not any(y == c for _, y in state))
    best = sorted(best_set)
    scores = [Fraction(sum(1 for a, _ in first if a == c)) for c in range(n)]
    locked = tuple((names[a], names[b]) for a, b in first)
    rnd = _pairwise_round(scores, names, best, "locked majorities won")
    return _finish("ranked-pairs", profile, best, [rnd], seed, lots=lots, pairwise=d, locked=locked)


def copeland(profile: Profile, *, seed: str | None = None) -> SingleResult:
    r"""Copeland: one point per pairwise win and one half per pairwise tie; most points wins.

    References
    ----------
    A. H. Copeland (1951), "A 'reasonable' social welfare function", Seminar on Applications
    of Mathematics to the Social Sciences, University of Michigan; D. G. Saari and
    V. R. Merlin (1996), "The Copeland method I", *Economic Theory* 8(1), 51–76,
    doi:10.1007/BF01212012.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B", "C"], ["B", "A", "C"]])
    >>> [str(t) for t in copeland(p).rounds[0].totals], copeland(p).winners
    (['3/2', '3/2', '0'], ('A', 'B'))
    """
    _check(profile)
    names = profile.candidates
    n = len(names)
    d = pairwise_matrix(profile)

    def point(a: int, b: int) -> Fraction:
        if d[a][b] > d[b][a]:
            return Fraction(1)
        return Fraction(1, 2) if d[a][b] == d[b][a] else Fraction(0)

    scores = [sum((point(a, b) for b in range(n) if b != a), Fraction(0)) for a in range(n)]
    best = _argbest(scores)
    rnd = _pairwise_round(scores, names, best, "pairwise wins (ties count one half)")
    return _finish("copeland", profile, best, [rnd], seed, pairwise=d)


MinimaxMeasure = Literal["opposition", "winning-votes", "margins"]


def minimax(
    profile: Profile, *, measure: MinimaxMeasure = "opposition", seed: str | None = None
) -> SingleResult:
    r"""Minimax (Simpson–Kramer): the candidate whose worst pairwise defeat is mildest wins.

    With ``measure="opposition"`` (the default) a candidate's score is
    :math:`\max_b d[b][a]`, the most voters preferring some rival; ``"winning-votes"`` counts
    :math:`d[b][a]` only where :math:`b` beats :math:`a`, ``"margins"`` uses
    :math:`\max_b (d[b][a] - d[a][b])`. The lowest score wins. With complete rankings all three
    elect a Condorcet winner; with truncated ballots pairwise opposition may not.

    References
    ----------
    P. B. Simpson (1969), "On defining areas of voter choice", *The Quarterly Journal of
    Economics* 83(3), 478–490, doi:10.2307/1880533; G. H. Kramer (1977), "A dynamical model
    of political equilibrium", *Journal of Economic Theory* 16(2), 310–334,
    doi:10.1016/0022-0531(77)90011-4.

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B", "C"]] * 4
    ...     + [["B", "C", "A"]] * 3 + [["C", "A", "B"]] * 2)
    >>> [str(t) for t in minimax(p).rounds[0].totals], minimax(p).winner
    (['5', '6', '7'], 'A')
    """
    _check(profile)
    if measure not in ("opposition", "winning-votes", "margins"):
        raise InputError(
            "bad-measure",
            f"Unknown minimax measure {measure!r}; use opposition, winning-votes or margins.",
            params={"measure": measure},
        )
    names = profile.candidates
    n = len(names)
    d = pairwise_matrix(profile)
    score_of: dict[str, Callable[[int, int], int]] = {
        "opposition": lambda a, b: d[b][a],
        "winning-votes": lambda a, b: d[b][a] if d[b][a] > d[a][b] else 0,
        "margins": lambda a, b: d[b][a] - d[a][b],
    }
    f = score_of[measure]
    scores = [Fraction(max((f(a, b) for b in range(n) if b != a), default=0)) for a in range(n)]
    best = _argbest(scores, highest=False)
    rnd = _pairwise_round(scores, names, best, f"largest pairwise {measure} (lowest wins)")
    return _finish("minimax", profile, best, [rnd], seed, pairwise=d)


#: The single-winner methods by their command-line names.
SINGLE_WINNER_METHODS: Final[dict[str, Callable[..., SingleResult]]] = {
    "plurality": plurality,
    "borda": borda,
    "irv": instant_runoff,
    "schulze": schulze,
    "ranked-pairs": ranked_pairs,
    "copeland": copeland,
    "minimax": minimax,
}
