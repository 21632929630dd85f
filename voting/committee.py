r"""Approval-based committee rules: AV, SAV, PAV, CC, sequential Phragmén, Equal Shares.

Every rule takes an :class:`~voting.ballots.ApprovalProfile` and the number of seats ``k`` and
returns a :class:`CommitteeResult`: the committee (in order of selection for the sequential
rules), the round tables, the committee's score for the rules that optimise one, and every tie
at a decisive step with how it was broken. Arithmetic is exact (:class:`fractions.Fraction` and
integers); the integer linear programs of PAV and CC have integer objectives and their answers
are checked with exact arithmetic.

Ties are never resolved silently. With ``tie_break="lot"`` (the default) a tie is broken by a lot
drawn from :class:`sortition.randomness.SeededStream` with the recorded ``seed`` and the label
``<method>/<step>`` (the tied options listed in candidate order, or committees in lexicographic
order; one is chosen with ``randbelow``, several with ``sample``); without a seed
:class:`~voting.errors.LotNeededError` is raised. ``tie_break="index"`` takes the candidate with
the lowest index (for optimising rules: the lexicographically smallest committee), which is what
abcvoting does in resolute mode; every such choice is still recorded in
:attr:`CommitteeResult.ties`.

:func:`winning_committees` returns *all* winning committees: for AV, SAV, PAV and CC every
committee with the best score; for the sequential rules every committee some order of breaking
the ties produces (abcvoting's ``resolute=False``, "parallel universes" tie-breaking).

The definitions, and how each rule id of abcvoting 2.x (``av``, ``sav``, ``pav``, ``cc``,
``seqphragmen``, ``equal-shares``) computes them, are those of [LS23]_; the conformance script
``benchmarks/abc_conformance.py`` checks them against abcvoting's stored instances.

>>> from voting.ballots import ApprovalProfile
>>> p = ApprovalProfile.from_sets("abcde", [["a", "b"]] * 6 + [["c"]] * 4 + [["d", "e"]])
>>> av(p, 3).committee, pav(p, 3).committee, seq_phragmen(p, 3, tie_break="index").committee
(('a', 'b', 'c'), ('a', 'b', 'c'), ('a', 'c', 'b'))

References
----------
.. [LS23] M. Lackner and P. Skowron, *Multi-Winner Voting with Approval Preferences*, Springer
   Briefs in Intelligent Systems, 2023. doi:10.1007/978-3-031-09016-5
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal, TypeVar

from sortition.randomness import SeededStream
from voting.ballots import ApprovalProfile
from voting.errors import InputError, LotNeededError

__all__ = [
    "COMMITTEE_METHODS",
    "CommitteeResult",
    "CommitteeRound",
    "CommitteeTie",
    "ThieleAlgorithm",
    "TieBreakMode",
    "av",
    "cc",
    "ejr_violation",
    "equal_shares",
    "pav",
    "sav",
    "seq_phragmen",
    "winning_committees",
]

TieBreakMode = Literal["lot", "index"]
ThieleAlgorithm = Literal["auto", "brute-force", "ilp"]
T = TypeVar("T")

#: Below this many committees PAV and CC are computed by enumerating all of them.
BRUTE_FORCE_LIMIT: Final = 20_000
#: With the ILP, at most this many optimal committees of PAV and CC are listed; beyond it the
#: tie is broken without listing them all (see :func:`pav`).
MAX_LISTED: Final = 100


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CommitteeRound:
    """One selection of a sequential rule.

    Attributes
    ----------
    number : int
        1 for the first seat filled.
    phase : str
        ``"phragmen"`` (a load is what a voter has paid so far) or ``"equal-shares"`` (``rho``
        is what each supporter pays, at most all they have left).
    values : tuple of Fraction or None
        Per candidate (profile order): the maximal load after electing it (Phragmén) or its
        ``rho`` (Equal Shares); ``None`` if it was already elected, could not be afforded or has
        no supporter.
    tied : tuple of str
        The candidates with the best value (one unless there was a tie).
    elected : str
        The candidate elected in this round.
    state : tuple of Fraction
        After the round, per ballot of the profile (``profile.ballots`` order): each voter's
        load (Phragmén; negative while money from the Equal Shares phase is left) or money left
        (Equal Shares).
    """

    number: int
    phase: Literal["phragmen", "equal-shares"]
    values: tuple[Fraction | None, ...]
    tied: tuple[str, ...]
    elected: str
    state: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True)
class CommitteeTie:
    """A tie at a decisive step and how it was broken.

    Attributes
    ----------
    step : str
        ``"round-3"``, ``"cutoff"`` (AV, SAV) or ``"optimum"`` (PAV, CC).
    tied : tuple of str
        The tied candidates, or the tied committees written ``"A+B+C"``.
    chosen : tuple of str
        The options chosen (one, or for AV and SAV as many seats as were left).
    how : {"lot", "index"}
        By a lot, or by the lowest candidate index (lexicographically smallest committee).
    label : str or None
        The :class:`~sortition.randomness.SeededStream` label of the lot.
    """

    step: str
    tied: tuple[str, ...]
    chosen: tuple[str, ...]
    how: TieBreakMode
    label: str | None


@dataclass(frozen=True, slots=True)
class CommitteeResult:
    """The outcome of an approval-based committee rule.

    Attributes
    ----------
    method : str
        The rule's name (a key of :data:`COMMITTEE_METHODS`).
    candidates : tuple of str
        The candidates, in the profile's order.
    seats : int
        The committee size ``k``.
    committee : tuple of str
        The elected candidates: in order of selection (sequential rules), by score then tie-break
        (AV, SAV) or in candidate order (PAV, CC).
    totals : tuple of Fraction, or None
        AV and SAV: each candidate's score.
    score : Fraction or None
        The committee's score: its AV, SAV, PAV or CC score (the sequential rules: ``None``).
    rounds : tuple of CommitteeRound
        The sequential rules' rounds.
    optimal : tuple of tuple of str
        PAV and CC: the optimal committees (each in candidate order), at most :data:`MAX_LISTED`.
    ties : tuple of CommitteeTie
        The ties that had to be broken, in order.
    seed : str or None
        The seed of the lots.
    tie_break : {"lot", "index"}
        How ties were to be broken.
    """

    method: str
    candidates: tuple[str, ...]
    seats: int
    committee: tuple[str, ...]
    totals: tuple[Fraction, ...] | None
    score: Fraction | None
    rounds: tuple[CommitteeRound, ...]
    optimal: tuple[tuple[str, ...], ...]
    ties: tuple[CommitteeTie, ...]
    seed: str | None
    tie_break: TieBreakMode

    @property
    def elected(self) -> tuple[str, ...]:
        """The committee, as :attr:`committee`."""
        return self.committee


# --------------------------------------------------------------------------- common parts


@dataclass(frozen=True, slots=True)
class _Data:
    names: tuple[str, ...]
    approved: tuple[frozenset[int], ...]  # per ballot
    weights: tuple[int, ...]
    supporters: tuple[tuple[int, ...], ...]  # per candidate: the ballots approving it
    support: tuple[int, ...]  # per candidate: the number of voters approving it
    n: int
    k: int

    @property
    def m(self) -> int:
        return len(self.names)


def _prepare(profile: ApprovalProfile, seats: int) -> _Data:
    m = len(profile.candidates)
    if m == 0:
        raise InputError("no-candidates", "There are no candidates to elect.")
    if isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= m:
        raise InputError(
            "bad-seats",
            f"The number of seats must be a whole number from 1 to {m} (the candidates); "
            f"got {seats!r}.",
            params={"seats": seats, "candidates": m},
        )
    if profile.papers == 0:
        raise InputError("no-ballots", "There are no ballots to count.")
    approved = tuple(frozenset(b.approved) for b in profile.ballots)
    weights = tuple(b.weight for b in profile.ballots)
    supporters = tuple(tuple(i for i, a in enumerate(approved) if c in a) for c in range(m))
    support = tuple(sum(weights[i] for i in sup) for sup in supporters)
    return _Data(profile.candidates, approved, weights, supporters, support, profile.papers, seats)


def _check_mode(tie_break: str) -> None:
    if tie_break not in ("lot", "index"):
        raise InputError(
            "bad-tie-break",
            f"Unknown tie-break {tie_break!r}; use 'lot' or 'index'.",
            params={"tie_break": tie_break},
        )


class _Resolver:
    """Breaks ties by lowest index or by a recorded lot, and records every tie it breaks."""

    def __init__(self, method: str, seed: str | None, mode: TieBreakMode) -> None:
        self.method = method
        self.seed = seed
        self.mode: TieBreakMode = mode
        self.ties: list[CommitteeTie] = []

    def choose(
        self, step: str, options: Sequence[T], describe: Callable[[T], str], count: int = 1
    ) -> list[T]:
        """Choose ``count`` of ``options`` (given in index order); record it if it was a tie."""
        if len(options) <= count:
            return list(options)
        words = tuple(describe(o) for o in options)
        if self.mode == "index":
            chosen = list(options[:count])
            label = None
        else:
            label = f"{self.method}/{step}"
            if self.seed is None:
                raise LotNeededError(
                    "lot-needed",
                    f"{self.method}: at {step} {', '.join(words)} are tied for "
                    f"{'a seat' if count == 1 else f'{count} seats'}; the tie can only be broken "
                    "by lot: count again with a recorded seed.",
                    params={"method": self.method, "step": step, "tied": words},
                )
            chosen = SeededStream(self.seed, label).sample(list(options), count)
        self.ties.append(
            CommitteeTie(step, words, tuple(describe(o) for o in chosen), self.mode, label)
        )
        return chosen


def _argmin(values: Sequence[Fraction | None]) -> list[int]:
    present = [v for v in values if v is not None]
    if not present:
        return []
    low = min(present)
    return [c for c, v in enumerate(values) if v is not None and v == low]


# --------------------------------------------------------------------------- AV and SAV


def _separable_totals(data: _Data, satisfaction: bool) -> list[Fraction]:
    totals = [Fraction(0)] * data.m
    for a, w in zip(data.approved, data.weights, strict=True):
        share = Fraction(w, len(a)) if satisfaction and a else Fraction(w)
        for c in a:
            totals[c] += share
    return totals


def _separable_split(totals: Sequence[Fraction], k: int) -> tuple[list[int], list[int], int]:
    """Certain candidates, candidates tied at the cutoff, and how many of those are elected."""
    cutoff = sorted(totals, reverse=True)[k - 1]
    certain = sorted(
        (c for c in range(len(totals)) if totals[c] > cutoff), key=lambda c: (-totals[c], c)
    )
    possible = [c for c in range(len(totals)) if totals[c] == cutoff]
    return certain, possible, k - len(certain)


def _separable(
    method: str,
    profile: ApprovalProfile,
    seats: int,
    seed: str | None,
    tie_break: TieBreakMode,
) -> CommitteeResult:
    _check_mode(tie_break)
    data = _prepare(profile, seats)
    totals = _separable_totals(data, method == "sav")
    certain, possible, missing = _separable_split(totals, data.k)
    resolver = _Resolver(method, seed, tie_break)
    chosen = resolver.choose("cutoff", possible, lambda c: data.names[c], missing)
    members = certain + chosen
    committee = tuple(data.names[c] for c in members)
    score = sum((totals[c] for c in members), Fraction(0))
    return CommitteeResult(
        method,
        data.names,
        data.k,
        committee,
        tuple(totals),
        score,
        (),
        (),
        tuple(resolver.ties),
        seed,
        tie_break,
    )


def av(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
) -> CommitteeResult:
    """Approval voting (AV, "block approval"): the ``k`` candidates with the most approvals.

    Candidates tied at the last seat(s) are chosen by the tie-break; ``totals`` holds every
    candidate's approvals and ``score`` the committee's. This is abcvoting's rule id ``av``.

    Parameters
    ----------
    profile : ApprovalProfile
    seats : int
        The committee size ``k``, from 1 to the number of candidates.
    seed : str, optional
        Seed of the lot that breaks a tie at the cutoff.
    tie_break : {"lot", "index"}
        ``"index"``: the lowest candidate indices win a tie (abcvoting's resolute mode).

    Raises
    ------
    InputError
        For a bad number of seats or a profile without candidates or ballots.
    LotNeededError
        For a tie at the cutoff with ``tie_break="lot"`` and no seed.

    References
    ----------
    S. J. Brams and P. C. Fishburn, *Approval Voting*, Birkhäuser 1983; [LS23]_, section 2.2.

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"], ["a"], ["c"]])
    >>> r = av(p, 2, tie_break="index")
    >>> r.committee, [str(t) for t in r.totals], r.ties[0].tied
    (('a', 'b'), ['2', '1', '1'], ('b', 'c'))
    """
    return _separable("av", profile, seats, seed, tie_break)


def sav(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
) -> CommitteeResult:
    r"""Satisfaction approval voting (SAV): each voter splits one vote over their approvals.

    A candidate's score is :math:`\sum_{i: c \in A_i} 1/|A_i|`; the ``k`` highest are elected
    (exactly, in fractions; abcvoting's rule id ``sav`` adds floats, which can miss exact ties).

    References
    ----------
    S. J. Brams and D. M. Kilgour, "Satisfaction approval voting", in *Voting Power and
    Procedures*, Springer 2014, pp. 323-346. doi:10.1007/978-3-319-05158-1_18

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 3 + [["c"]] * 2)
    >>> r = sav(p, 1)
    >>> r.committee, [str(t) for t in r.totals]
    (('c',), ['3/2', '3/2', '2'])
    """
    return _separable("sav", profile, seats, seed, tie_break)


# --------------------------------------------------------------------------- PAV and CC


def _harmonic_scaled(k: int) -> tuple[int, list[int]]:
    """``L = lcm(1..k)`` and ``L * H(t)`` for ``t = 0..k`` (integers)."""
    big = math.lcm(*range(1, k + 1))
    values = [0]
    for t in range(1, k + 1):
        values.append(values[-1] + big // t)
    return big, values


def _thiele_weights(rule: str, k: int) -> tuple[int, list[int]]:
    """Integer score per number of approved members (0..k) and the scale they carry."""
    if rule == "pav":
        return _harmonic_scaled(k)
    return 1, [0] + [1] * k


def _thiele_score(data: _Data, committee: Sequence[int], table: Sequence[int]) -> int:
    chosen = set(committee)
    return sum(w * table[len(a & chosen)] for a, w in zip(data.approved, data.weights, strict=True))


def _brute_force_optimal(data: _Data, table: Sequence[int]) -> tuple[int, list[tuple[int, ...]]]:
    best = -1
    found: list[tuple[int, ...]] = []
    for committee in itertools.combinations(range(data.m), data.k):
        s = _thiele_score(data, committee, table)
        if s > best:
            best, found = s, [committee]
        elif s == best:
            found.append(committee)
    return best, found


class _ThieleILP:
    """PAV or CC as an integer linear program (``scipy.optimize.milp``, HiGHS).

    Variables: ``x_c`` (candidate ``c`` elected) and, per ballot with approvals, ``y_{b,t}`` for
    ``t = 1..min(|A_b|, k)`` (at least ``t`` approved members), with ``sum_t y_{b,t} <=
    sum_{c in A_b} x_c`` and ``sum_c x_c = k``; the objective ``sum_b w_b sum_t (table[t] -
    table[t-1]) y_{b,t}`` is the Thiele score because the marginal weights do not increase.
    The weights are integers (PAV's harmonic weights scaled by ``lcm(1..k)``), the relative gap
    is 0, and every committee returned is scored again with exact integers.
    """

    def __init__(self, data: _Data, table: Sequence[int]) -> None:
        import numpy as np
        from scipy.sparse import lil_matrix

        self.data = data
        self.table = table
        m, k = data.m, data.k
        columns = [
            (b, t) for b, a in enumerate(data.approved) for t in range(1, min(len(a), k) + 1)
        ]
        self.nvar = m + len(columns)
        self.cost = np.zeros(self.nvar)
        for j, (b, t) in enumerate(columns):
            self.cost[m + j] = -float(data.weights[b] * (table[t] - table[t - 1]))
        rows = len(data.approved) + 1
        base = lil_matrix((rows, self.nvar))
        for j, (b, _) in enumerate(columns):
            base[b, m + j] = 1.0
        for b, a in enumerate(data.approved):
            for c in a:
                base[b, c] = -1.0
        base[len(data.approved), :m] = 1.0
        self.base = base
        self.lower = [-np.inf] * len(data.approved) + [float(k)]
        self.upper = [0.0] * len(data.approved) + [float(k)]

    def solve(
        self,
        cuts: Sequence[tuple[int, ...]] = (),
        fixed_in: Sequence[int] = (),
        fixed_out: Sequence[int] = (),
    ) -> tuple[int, tuple[int, ...]] | None:
        """An optimal committee (exact score, members) under the cuts and fixings, or None."""
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import lil_matrix

        m, k = self.data.m, self.data.k
        rows = self.base.shape[0]
        matrix = lil_matrix((rows + len(cuts), self.nvar))
        matrix[:rows, :] = self.base
        for r, committee in enumerate(cuts):
            for c in committee:
                matrix[rows + r, c] = 1.0
        lb = np.zeros(self.nvar)
        ub = np.ones(self.nvar)
        lb[list(fixed_in)] = 1.0
        ub[list(fixed_out)] = 0.0
        res = milp(
            self.cost,
            integrality=np.ones(self.nvar),
            bounds=Bounds(lb, ub),
            constraints=LinearConstraint(
                matrix.tocsr(),
                [*self.lower, *([-np.inf] * len(cuts))],
                [*self.upper, *([float(k - 1)] * len(cuts))],
            ),
            options={"mip_rel_gap": 0.0},
        )
        if res.x is None:
            return None
        committee = tuple(c for c in range(m) if res.x[c] > 0.5)
        if len(committee) != k:  # pragma: no cover - the solver's answer is always checked
            raise RuntimeError("the ILP solver returned a committee of the wrong size")
        return _thiele_score(self.data, committee, self.table), committee

    def optimal(self, limit: int) -> tuple[int, list[tuple[int, ...]], bool]:
        """The optimum and up to ``limit`` optimal committees (no-good cuts), and whether that
        is all of them."""
        first = self.solve()
        if first is None:  # pragma: no cover - k <= m, so a committee always exists
            raise RuntimeError("the ILP has no solution")
        best, committee = first
        found = [committee]
        while len(found) < limit:
            nxt = self.solve(cuts=found)
            if nxt is None or nxt[0] < best:
                return best, sorted(found), True
            if nxt[0] > best:  # pragma: no cover - a wrong optimum would show here
                raise RuntimeError("the ILP solver's first optimum was not optimal")
            found.append(nxt[1])
        nxt = self.solve(cuts=found)
        return best, sorted(found), nxt is None or nxt[0] < best

    def first_optimal(self, best: int, order: Sequence[int]) -> tuple[int, ...]:
        """The optimal committee that comes first when candidates are preferred in ``order``
        (the identity order gives the lexicographically smallest): each candidate in turn is
        fixed in if an optimal committee still contains it, else fixed out."""
        fixed_in: list[int] = []
        fixed_out: list[int] = []
        for c in order:
            if len(fixed_in) == self.data.k:
                break
            found = self.solve(fixed_in=[*fixed_in, c], fixed_out=fixed_out)
            if found is not None and found[0] == best:
                fixed_in.append(c)
            else:
                fixed_out.append(c)
        return tuple(sorted(fixed_in))


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ("auto", "brute-force", "ilp"):
        raise InputError(
            "bad-algorithm",
            f"Unknown algorithm {algorithm!r}; use 'auto', 'brute-force' or 'ilp'.",
            params={"algorithm": algorithm},
        )


def _use_ilp(data: _Data, algorithm: ThieleAlgorithm) -> bool:
    _check_algorithm(algorithm)
    small = math.comb(data.m, data.k) <= BRUTE_FORCE_LIMIT
    return algorithm == "ilp" or (algorithm == "auto" and not small)


def _optimal_committees(
    data: _Data, rule: str, algorithm: ThieleAlgorithm, limit: int = MAX_LISTED
) -> tuple[Fraction, list[tuple[int, ...]], bool]:
    scale, table = _thiele_weights(rule, data.k)
    if not _use_ilp(data, algorithm):
        best, found = _brute_force_optimal(data, table)
        return Fraction(best, scale), found, True
    best, found, complete = _ThieleILP(data, table).optimal(limit)
    return Fraction(best, scale), found, complete


def _thiele(
    rule: str,
    profile: ApprovalProfile,
    seats: int,
    seed: str | None,
    tie_break: TieBreakMode,
    algorithm: ThieleAlgorithm,
) -> CommitteeResult:
    _check_mode(tie_break)
    data = _prepare(profile, seats)
    scale, table = _thiele_weights(rule, data.k)
    resolver = _Resolver(rule, seed, tie_break)

    def words(com: Sequence[int]) -> str:
        return "+".join(data.names[c] for c in com)

    if not _use_ilp(data, algorithm):
        best, found = _brute_force_optimal(data, table)
        complete = True
    else:
        ilp = _ThieleILP(data, table)
        best, found, complete = ilp.optimal(MAX_LISTED)
    if complete:
        [chosen] = resolver.choose("optimum", found, words)
    elif tie_break == "index":
        chosen = ilp.first_optimal(best, range(data.m))
        resolver.ties.append(
            CommitteeTie("optimum", (*map(words, found), "..."), (words(chosen),), "index", None)
        )
    else:
        # Too many optimal committees to list: the lot orders the candidates instead, and the
        # optimal committee that comes first in that order is elected.
        label = f"{rule}/optimum-order"
        if seed is None:
            raise LotNeededError(
                "lot-needed",
                f"{rule}: more than {MAX_LISTED} committees are optimal; the tie can only be "
                "broken by lot: count again with a recorded seed.",
                params={"method": rule, "listed": len(found)},
            )
        order = SeededStream(seed, label).sample(range(data.m), data.m)
        chosen = ilp.first_optimal(best, order)
        resolver.ties.append(
            CommitteeTie("optimum", (*map(words, found), "..."), (words(chosen),), "lot", label)
        )
    optimal = tuple(tuple(data.names[c] for c in com) for com in found)
    return CommitteeResult(
        rule,
        data.names,
        data.k,
        tuple(data.names[c] for c in chosen),
        None,
        Fraction(best, scale),
        (),
        optimal,
        tuple(resolver.ties),
        seed,
        tie_break,
    )


def pav(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
    algorithm: ThieleAlgorithm = "auto",
) -> CommitteeResult:
    r"""Proportional approval voting (PAV): the committee with the highest PAV score.

    A voter with :math:`t` approved members contributes :math:`1 + 1/2 + \dots + 1/t`. The optimum
    is exact: all committees are scored when there are at most :data:`BRUTE_FORCE_LIMIT`, else an
    integer linear program (``scipy.optimize.milp``, HiGHS, with the harmonic weights scaled to
    integers) finds it and no-good cuts list the optimal committees (up to :data:`MAX_LISTED`).
    ``optimal`` lists them, ``score`` is the optimum; a tie between optimal committees is broken
    by the tie-break (``"index"``: the lexicographically smallest, as abcvoting's brute force;
    ``"lot"``: one of the listed committees by lot). When the ILP finds more than
    :data:`MAX_LISTED` optimal committees, ``"index"`` still finds the lexicographically
    smallest (fixing candidates in index order), and the lot instead draws an order of the
    candidates (label ``<rule>/optimum-order``, ``sample``) and elects the optimal committee
    that comes first in it. abcvoting's rule id ``pav``.

    Parameters
    ----------
    profile : ApprovalProfile
    seats : int
    seed : str, optional
        Seed of the lot among optimal committees.
    tie_break : {"lot", "index"}
    algorithm : {"auto", "brute-force", "ilp"}
        ``"auto"``: enumeration up to :data:`BRUTE_FORCE_LIMIT` committees, else the ILP.

    Raises
    ------
    InputError
        For bad seats or an unknown algorithm or tie-break.
    LotNeededError
        If several committees are optimal, ``tie_break="lot"`` and no seed was given.

    References
    ----------
    T. N. Thiele, "Om Flerfoldsvalg", *Oversigt over det Kongelige Danske Videnskabernes
    Selskabs Forhandlinger*, 1895, pp. 415-441; H. Aziz, M. Brill, V. Conitzer, E. Elkind,
    R. Freeman and T. Walsh, "Justified representation in approval-based committee voting",
    *Social Choice and Welfare* 48(2), 2017, pp. 461-485. doi:10.1007/s00355-016-1019-3

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 4 + [["a"]] + [["c"]] * 3)
    >>> r = pav(p, 2)
    >>> r.committee, r.score, r.ties
    (('a', 'c'), Fraction(8, 1), ())
    """
    return _thiele("pav", profile, seats, seed, tie_break, algorithm)


def cc(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
    algorithm: ThieleAlgorithm = "auto",
) -> CommitteeResult:
    """Approval Chamberlin–Courant (CC): the committee that most voters approve a member of.

    Computed, listed and tie-broken as :func:`pav` (with score 1 for a voter with at least one
    approved member). abcvoting's rule id ``cc``.

    References
    ----------
    J. R. Chamberlin and P. N. Courant, "Representative deliberations and representative
    decisions: proportional representation and the Borda rule", *American Political Science
    Review* 77(3), 1983, pp. 718-733. doi:10.2307/1957270

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 3 + [["c"]])
    >>> r = cc(p, 2, tie_break="index")
    >>> r.committee, r.score, r.optimal
    (('a', 'c'), Fraction(4, 1), (('a', 'c'), ('b', 'c')))
    """
    return _thiele("cc", profile, seats, seed, tie_break, algorithm)


# --------------------------------------------------------------------------- sequential rules


@dataclass(frozen=True, slots=True)
class _State:
    committee: tuple[int, ...]
    phase: Literal["phragmen", "equal-shares"]
    level: tuple[Fraction, ...]  # per ballot: load per voter, or money left per voter


def _phragmen_values(data: _Data, state: _State) -> tuple[list[Fraction | None], list[int]]:
    """New maximal loads per candidate and the candidates that tie for the next seat.

    A candidate nobody approves has no load; those are taken (all tied) only when no approved
    candidate is left, as abcvoting does (it gives them load ``k + 1``).
    """
    elected = set(state.committee)
    values: list[Fraction | None] = [None] * data.m
    for c in range(data.m):
        if c in elected or data.support[c] == 0:
            continue
        paid = sum((data.weights[b] * state.level[b] for b in data.supporters[c]), Fraction(0))
        values[c] = (paid + 1) / data.support[c]
    tied = _argmin(values)
    if not tied:
        tied = [c for c in range(data.m) if c not in elected]
    return values, tied


def _phragmen_apply(data: _Data, state: _State, c: int, value: Fraction | None) -> _State:
    level = list(state.level)
    if value is not None:
        for b in data.supporters[c]:
            level[b] = value
    return _State((*state.committee, c), "phragmen", tuple(level))


def _rho(data: _Data, money: Sequence[Fraction], c: int) -> Fraction | None:
    """The least ``rho`` with ``sum_i w_i min(money_i, rho) = 1``, or None if unaffordable."""
    members = sorted((money[b], data.weights[b]) for b in data.supporters[c])
    if sum((mo * w for mo, w in members), Fraction(0)) < 1:
        return None
    cost = Fraction(1)
    weight = sum(w for _, w in members)
    for mo, w in members:
        rho = cost / weight
        if mo >= rho:
            return rho
        cost -= mo * w  # this voter pays all they have
        weight -= w
    raise AssertionError("unreachable: affordable candidates are paid for")  # pragma: no cover


def _mes_values(data: _Data, state: _State) -> tuple[list[Fraction | None], list[int]]:
    elected = set(state.committee)
    values: list[Fraction | None] = [None] * data.m
    for c in range(data.m):
        if c not in elected and data.support[c] > 0:
            values[c] = _rho(data, state.level, c)
    return values, _argmin(values)


def _mes_apply(data: _Data, state: _State, c: int, rho: Fraction | None) -> _State:
    if rho is None:  # pragma: no cover - only affordable candidates are elected here
        raise AssertionError("an unaffordable candidate cannot be bought")
    money = list(state.level)
    for b in data.supporters[c]:
        money[b] -= min(money[b], rho)
    return _State((*state.committee, c), "equal-shares", tuple(money))


def _step(data: _Data, state: _State) -> tuple[_State, list[Fraction | None], list[int]]:
    """The state to choose from (switching Equal Shares to Phragmén if nothing is affordable)."""
    if state.phase == "equal-shares":
        values, tied = _mes_values(data, state)
        if tied:
            return state, values, tied
        # abcvoting's completion: seq-Phragmén starting from the money left, as negative loads
        state = _State(state.committee, "phragmen", tuple(-x for x in state.level))
    values, tied = _phragmen_values(data, state)
    return state, values, tied


def _apply(data: _Data, state: _State, c: int, values: Sequence[Fraction | None]) -> _State:
    if state.phase == "equal-shares":
        return _mes_apply(data, state, c, values[c])
    return _phragmen_apply(data, state, c, values[c])


def _start(data: _Data, method: str) -> _State:
    if method == "mes":
        b0 = Fraction(data.k, data.n)
        return _State((), "equal-shares", tuple(b0 for _ in data.weights))
    return _State((), "phragmen", tuple(Fraction(0) for _ in data.weights))


def _sequential(
    method: str,
    profile: ApprovalProfile,
    seats: int,
    seed: str | None,
    tie_break: TieBreakMode,
) -> CommitteeResult:
    _check_mode(tie_break)
    data = _prepare(profile, seats)
    resolver = _Resolver(method, seed, tie_break)
    state = _start(data, method)
    rounds: list[CommitteeRound] = []
    while len(state.committee) < data.k:
        number = len(state.committee) + 1
        state, values, tied = _step(data, state)
        [c] = resolver.choose(f"round-{number}", tied, lambda x: data.names[x])
        phase = state.phase
        state = _apply(data, state, c, values)
        rounds.append(
            CommitteeRound(
                number,
                phase,
                tuple(values),
                tuple(data.names[x] for x in tied),
                data.names[c],
                state.level,
            )
        )
    return CommitteeResult(
        method,
        data.names,
        data.k,
        tuple(data.names[c] for c in state.committee),
        None,
        None,
        tuple(rounds),
        (),
        tuple(resolver.ties),
        seed,
        tie_break,
    )


def _all_sequential(data: _Data, method: str) -> set[tuple[int, ...]]:
    """Every committee some tie-breaking order gives (depth-first, equal states merged)."""
    out: set[tuple[int, ...]] = set()
    seen: set[tuple[frozenset[int], str, tuple[Fraction, ...]]] = set()
    stack = [_start(data, method)]
    while stack:
        state = stack.pop()
        if len(state.committee) == data.k:
            out.add(tuple(sorted(state.committee)))
            continue
        key = (frozenset(state.committee), state.phase, state.level)
        if key in seen:
            continue
        seen.add(key)
        state, values, tied = _step(data, state)
        stack.extend(_apply(data, state, c, values) for c in tied)
    return out


def seq_phragmen(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
) -> CommitteeResult:
    r"""Phragmén's sequential rule (seq-Phragmén), with exact rational loads.

    Every voter starts with load 0. Electing candidate :math:`c` spreads one unit of load over
    its supporters so that they all end with the same load
    :math:`\ell_c = (1 + \sum_{i \ni c} w_i \ell_i) / \sum_{i \ni c} w_i`; each round elects the
    candidate with the smallest :math:`\ell_c` and sets its supporters' loads to it. Candidates
    nobody approves come last (tied). Each round lists every candidate's :math:`\ell_c` and the
    loads after it. abcvoting's rule id ``seqphragmen``.

    References
    ----------
    M. Brill, R. Freeman, S. Janson and M. Lackner, "Phragmén's voting methods and justified
    representation", AAAI 2017, pp. 406-413. doi:10.1609/aaai.v31i1.10598; E. Phragmén,
    "Sur une méthode nouvelle pour réaliser, dans les élections, la représentation
    proportionnelle des partis", *Öfversigt af Kongl. Vetenskaps-Akademiens Förhandlingar*,
    1894, pp. 133-137.

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 3 + [["c"]] * 2)
    >>> r = seq_phragmen(p, 2, seed="2026")
    >>> r.rounds[0].tied, [str(v) for v in r.rounds[1].values if v is not None]
    (('a', 'b'), ['2/3', '1/2'])
    >>> r.ties[0].label
    'seq-phragmen/round-1'
    """
    return _sequential("seq-phragmen", profile, seats, seed, tie_break)


def equal_shares(
    profile: ApprovalProfile,
    seats: int,
    *,
    seed: str | None = None,
    tie_break: TieBreakMode = "lot",
) -> CommitteeResult:
    r"""The Method of Equal Shares (MES, "Rule X") with abcvoting's seq-Phragmén completion.

    Each of the :math:`n` voters starts with :math:`k/n`; a candidate costs 1. A candidate is
    affordable when its supporters together have at least 1 left; it then costs each supporter
    :math:`\min(\text{money}_i, \rho)` with the least :math:`\rho` that pays for it. Each round
    elects the affordable candidate with the smallest :math:`\rho` ([PS20]_; Lackner & Skowron
    2023, section 4.1). When none is affordable and seats are left, they are filled by
    seq-Phragmén (:func:`seq_phragmen`) started with each voter's load equal to minus the money
    they have left; this is abcvoting's rule id ``equal-shares`` (``completion="seqphragmen"``,
    its default). Rounds of the first phase have ``phase="equal-shares"``, values ``rho`` and
    state the money left; those of the completion ``phase="phragmen"``.

    References
    ----------
    .. [PS20] D. Peters and P. Skowron, "Proportionality and the limits of welfarism", EC 2020,
       pp. 793-794. doi:10.1145/3391403.3399465 (arXiv:1911.11747, rule X and its Phragmén
       completion, page 7)

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abcd", [["a", "b"]] * 3 + [["c", "d"]])
    >>> r = equal_shares(p, 3, tie_break="index")
    >>> r.committee, [x.phase for x in r.rounds], r.rounds[0].values[0]
    (('a', 'b', 'c'), ['equal-shares', 'equal-shares', 'phragmen'], Fraction(1, 3))
    """
    return _sequential("mes", profile, seats, seed, tie_break)


# --------------------------------------------------------------------------- all committees


def winning_committees(
    profile: ApprovalProfile,
    seats: int,
    method: str,
    *,
    limit: int = MAX_LISTED,
    algorithm: ThieleAlgorithm = "auto",
) -> tuple[tuple[str, ...], ...]:
    """All winning committees of a rule (abcvoting's ``resolute=False``).

    For AV and SAV every committee of the best candidates with any choice among those tied at
    the cutoff; for PAV and CC every optimal committee (at most ``limit``); for seq-Phragmén and
    Equal Shares every committee that some order of breaking the ties produces. Each committee
    lists its members in candidate order; the list is in lexicographic order of indices.

    Parameters
    ----------
    profile : ApprovalProfile
    seats : int
    method : str
        A key of :data:`COMMITTEE_METHODS`.
    limit : int
        The most committees listed for PAV and CC (beyond it a ``too-many-ties`` error).
    algorithm : {"auto", "brute-force", "ilp"}
        How PAV and CC are optimised (see :func:`pav`).

    Raises
    ------
    InputError
        For an unknown method, bad seats, or more than ``limit`` optimal committees.

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 2 + [["c"]] * 2)
    >>> winning_committees(p, 2, "seq-phragmen"), winning_committees(p, 2, "pav")
    ((('a', 'c'), ('b', 'c')), (('a', 'c'), ('b', 'c')))
    """
    data = _prepare(profile, seats)
    found: Iterator[tuple[int, ...]] | list[tuple[int, ...]] | set[tuple[int, ...]]
    if method in ("av", "sav"):
        totals = _separable_totals(data, method == "sav")
        certain, possible, missing = _separable_split(totals, data.k)
        found = (
            tuple(sorted(certain + list(extra)))
            for extra in itertools.combinations(possible, missing)
        )
    elif method in ("pav", "cc"):
        _, listed, complete = _optimal_committees(data, method, algorithm, limit)
        if not complete:
            raise InputError(
                "too-many-ties",
                f"{method}: more than {limit} committees are optimal.",
                params={"method": method, "limit": limit},
            )
        found = listed
    elif method in ("seq-phragmen", "mes"):
        found = _all_sequential(data, method)
    else:
        raise InputError(
            "unknown-method",
            f"Unknown committee method {method!r}; use one of {', '.join(COMMITTEE_METHODS)}.",
            params={"method": method},
        )
    return tuple(tuple(data.names[c] for c in com) for com in sorted(set(found)))


# --------------------------------------------------------------------------- axioms


def ejr_violation(
    profile: ApprovalProfile, seats: int, committee: Sequence[str]
) -> tuple[int, tuple[str, ...], int] | None:
    r"""A witness that ``committee`` fails extended justified representation, or None.

    EJR ([ABCEFW17]_) asks, for every :math:`\ell \ge 1`: no group of at least
    :math:`\ell n / k` voters who all approve the same :math:`\ell` candidates may have every
    member with fewer than :math:`\ell` approved members in the committee. For each set ``T``
    of :math:`\ell` candidates the largest such group is the voters approving ``T`` who have
    fewer than :math:`\ell` approved members; this checks every ``T`` (brute force, for small
    profiles). Returns ``(ell, T, group size)`` for the first violation found.

    References
    ----------
    .. [ABCEFW17] H. Aziz, M. Brill, V. Conitzer, E. Elkind, R. Freeman and T. Walsh,
       "Justified representation in approval-based committee voting", *Social Choice and
       Welfare* 48(2), 2017, pp. 461-485. doi:10.1007/s00355-016-1019-3

    Examples
    --------
    >>> p = ApprovalProfile.from_sets("abcd", [["a", "b"]] * 2 + [["c", "d"]] * 2)
    >>> ejr_violation(p, 2, ["a", "b"])
    (1, ('c',), 2)
    >>> ejr_violation(p, 2, ["a", "c"]) is None
    True
    """
    data = _prepare(profile, seats)
    index = {name: c for c, name in enumerate(data.names)}
    members = {index[name] for name in committee}
    for ell in range(1, data.k + 1):
        for group in itertools.combinations(range(data.m), ell):
            need = set(group)
            size = sum(
                w
                for a, w in zip(data.approved, data.weights, strict=True)
                if need <= a and len(a & members) < ell
            )
            if size * data.k >= ell * data.n and size > 0:
                return ell, tuple(data.names[c] for c in group), size
    return None


#: The committee rules by their command-line names.
COMMITTEE_METHODS: Final[dict[str, Callable[..., CommitteeResult]]] = {
    "av": av,
    "sav": sav,
    "pav": pav,
    "cc": cc,
    "seq-phragmen": seq_phragmen,
    "mes": equal_shares,
}
