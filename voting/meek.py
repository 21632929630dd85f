"""Single transferable vote by Meek's method, exact or in fixed-point decimals.

Meek's method (Meek 1969, 1970) gives every candidate a *keep factor* ``kf``: a hopeful
(continuing) candidate keeps all of the value that reaches them (``kf = 1``), a defeated one
keeps nothing (``kf = 0``) and an elected one keeps just enough for their vote to come down to
the quota. Each ballot starts with weight 1 and passes down its ranking; at each candidate it
leaves ``weight × kf`` and carries the rest on. Value that passes every ranked candidate is the
*excess* (exhausted value); the quota is recomputed from the votes that remain, so exhausted
ballots lower it. Because the keep factors depend on the votes and the votes on the keep
factors, each round iterates (Hill, Wichmann & Woodall 1987, Algorithm 123):

1. distribute every ballot with the current keep factors; total each candidate's vote;
2. quota ``q = votes / (seats + 1)`` (see the two modes below);
3. elect every hopeful candidate whose vote reaches the quota;
4. total surplus ``s = Σ (v - q)`` over the elected; the round's iteration ends when step 3
   elected someone, when ``s`` is below ``omega``, when ``s`` stopped decreasing, or (with
   batch defeat) when a batch of certain losers exists;
5. otherwise every elected candidate's keep factor becomes ``kf × q / v`` and iteration goes on.

When a round ends without an election, candidates are defeated: the batch of certain losers
(when ``batch_defeat``: the largest group of lowest candidates, never splitting candidates within
the surplus of one another, whose votes plus the surplus are less than the next candidate's vote
and which leaves enough hopeful candidates for the seats), or else the one candidate with the
lowest vote. Every candidate whose vote is within the total surplus of the lowest vote is tied
with it (the surplus is not yet distributed and could reorder them: PR Foundation reference rule
B.3); such a tie is broken by a recorded lot (:class:`sortition.randomness.SeededStream`, label
``meek-stv/round-<n>/defeat``, tied candidates in profile order, the one at ``randbelow(len)``
is defeated), by a tie-breaking order fixed before the count (``tie_order``), or else
:class:`~voting.errors.LotNeededError` is raised. The count ends when the seats are filled
(remaining hopefuls are defeated) or the hopefuls are as many as the seats left (they are
elected).

Two arithmetics:

``arithmetic="exact"`` (rational numbers, :class:`fractions.Fraction`)
    Meek's method as in Droop's "Meek Parametric" rule with rational arithmetic (the
    ``meek-o10-rational`` references): quota exactly ``votes / (seats + 1)``, a candidate is
    elected when their vote is *greater* than the quota, iteration stops when
    ``s <= 10**-omega`` (default ``omega = 10``), batch defeat of certain losers is on by
    default. Votes, quota and surplus are exact for the keep factors in use; the new keep
    factor ``kf × q / v`` is rounded *up* to ``keep_places`` decimals (default ``omega + 10``),
    because unrounded rationals double their size at every iteration (two elected candidates
    passing surplus to each other make a count of 86 ballots run for minutes). Rounding up, as
    Hill, Wichmann & Woodall do, keeps an elected candidate's vote from falling below the quota
    by rounding; the change is far below ``omega`` and every comparison stays exact.
``arithmetic="fixed"`` (decimal fixed point with ``places`` digits, default 9)
    The New Zealand rules (Local Electoral Regulations 2001, Schedule 1A) as restated by the
    Proportional Representation Foundation's reference Meek rule (the ``meek-prf-o6-fixed-p9``
    references): ``keep = w × kf`` rounded *up* to ``places`` decimals and ``w`` reduced by the
    same amount; quota = ``votes / (seats + 1)`` truncated to ``places`` decimals plus
    ``10**-places``; elected when the vote is greater than or equal to the quota; new keep
    factor ``(kf × q rounded up) / v rounded up``; iteration stops when ``s < 10**-omega``
    (default ``omega = 2 * places // 3``, i.e. 6 for 9 places); no batch defeat by default.

In both arithmetics the value of every ballot is accounted for exactly, so in every iteration
``Σ votes + excess == valid poll`` holds without error (in fixed point the rounding only moves
value between candidates and the excess, it never loses any).

>>> from voting.ballots import Profile
>>> p = Profile.build(["A", "B", "C"], [((0, 1), 4), ((2,), 1)])
>>> r = meek_stv(p, 2)
>>> r.elected, r.rounds[-1].quota, format_value(r.rounds[-1].keep_factors[0], 6)
(('A', 'B'), Fraction(5, 3), '0.416666')

References
----------
B. L. Meek, "Une nouvelle approche du scrutin transférable", Mathématiques et sciences
humaines 25 (1969) 13–23; English translation in Voting matters 1 (1994).
I. D. Hill, B. A. Wichmann and D. R. Woodall, "Algorithm 123: Single Transferable Vote by
Meek's method", The Computer Journal 30(3) (1987) 277–281, doi:10.1093/comjnl/30.3.277.
Local Electoral Regulations 2001 (New Zealand), Schedule 1A, "Single transferable vote
calculation rules".
Proportional Representation Foundation, "Reference Meek Rule",
https://prfound.org/resources/reference/reference-meek-rule/.
J. Lundell, Droop (STV counting package), rules "meek" and "meek-prf",
https://github.com/jklundell/droop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from sortition.randomness import SeededStream
from voting.ballots import Profile
from voting.errors import InputError, LotNeededError

__all__ = [
    "MeekDecision",
    "MeekIteration",
    "MeekResult",
    "MeekRound",
    "MeekTie",
    "format_value",
    "meek_stv",
]

logger = logging.getLogger(__name__)

Arithmetic = Literal["exact", "fixed"]
RoundStatus = Literal["elected", "omega", "stable", "batch"]

_ZERO = Fraction(0)
_ONE = Fraction(1)


def format_value(value: Fraction, places: int = 9) -> str:
    """Write ``value`` with ``places`` decimals, truncated toward zero (as Droop displays).

    >>> format_value(Fraction(2, 3), 5), format_value(Fraction(-1, 8), 2), format_value(Fraction(7))
    ('0.66666', '-0.12', '7.000000000')
    """
    sign = "-" if value < 0 else ""
    scaled = abs(value.numerator) * 10**places // value.denominator
    whole, rest = divmod(scaled, 10**places)
    return f"{sign}{whole}.{rest:0{places}d}" if places else f"{sign}{whole}"


@dataclass(frozen=True, slots=True)
class MeekIteration:
    """One pass of the ballots: keep factors used, resulting votes, quota, surplus and excess.

    ``keep_factors`` and ``votes`` are aligned with :attr:`MeekResult.candidates`; ``surplus``
    is the total surplus of the elected candidates after this pass' elections, ``excess`` the
    value that passed every ranked candidate (and, in fixed point, rounding left on ballots).
    """

    number: int
    keep_factors: tuple[Fraction, ...]
    votes: tuple[Fraction, ...]
    quota: Fraction
    surplus: Fraction
    excess: Fraction
    elected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeekRound:
    """A round: iterate until someone is elected or the surplus settles, then maybe defeat.

    ``status`` says why the iteration stopped: ``"elected"`` (a candidate reached the quota),
    ``"omega"`` (total surplus below the threshold), ``"stable"`` (surplus no longer
    decreasing) or ``"batch"`` (certain losers found). ``votes``, ``keep_factors``, ``quota``,
    ``surplus`` and ``excess`` are those of the last iteration, before any defeat.
    """

    number: int
    status: RoundStatus
    iterations: tuple[MeekIteration, ...]
    elected: tuple[str, ...]
    defeated: tuple[str, ...]
    reason: str

    @property
    def last(self) -> MeekIteration:
        """The last iteration of the round."""
        return self.iterations[-1]

    @property
    def votes(self) -> tuple[Fraction, ...]:
        """Each candidate's vote at the end of the round's iteration."""
        return self.iterations[-1].votes

    @property
    def keep_factors(self) -> tuple[Fraction, ...]:
        """Each candidate's keep factor in the round's last iteration."""
        return self.iterations[-1].keep_factors

    @property
    def quota(self) -> Fraction:
        """The quota of the round's last iteration."""
        return self.iterations[-1].quota

    @property
    def surplus(self) -> Fraction:
        """The total surplus of the round's last iteration."""
        return self.iterations[-1].surplus

    @property
    def excess(self) -> Fraction:
        """The excess (exhausted value) of the round's last iteration."""
        return self.iterations[-1].excess


@dataclass(frozen=True, slots=True)
class MeekDecision:
    """A candidate elected or defeated, in which round (0 = before any round) and why."""

    candidate: str
    kind: Literal["elected", "defeated"]
    round: int
    reason: str


@dataclass(frozen=True, slots=True)
class MeekTie:
    """A tie for defeat broken by lot (``method="lot"``) or by the given ``tie_order``."""

    round: int
    method: Literal["lot", "tie-order"]
    label: str
    tied: tuple[str, ...]
    chosen: str


@dataclass(frozen=True, slots=True)
class MeekResult:
    """The outcome of a Meek count with every round, iteration, decision and tie."""

    candidates: tuple[str, ...]
    seats: int
    arithmetic: Arithmetic
    places: int | None
    keep_places: int | None
    omega: Fraction
    batch_defeat: bool
    valid_poll: int
    first_preferences: tuple[Fraction, ...]
    elected: tuple[str, ...]
    defeated: tuple[str, ...]
    rounds: tuple[MeekRound, ...]
    decisions: tuple[MeekDecision, ...]
    ties: tuple[MeekTie, ...]
    seed: str | None

    def round_votes(self, number: int) -> dict[str, Fraction]:
        """Each candidate's vote at the end of round ``number`` (from 1)."""
        r = self.rounds[number - 1]
        return dict(zip(self.candidates, r.votes, strict=True))

    def table(self, places: int | None = None) -> str:
        """A plain-text table: one row per candidate, one column per round (end of iteration)."""
        digits = places if places is not None else (self.places or 9)
        width = max([len(c) for c in self.candidates] + [8])
        cols = [("0", self.first_preferences, Fraction(0))]
        cols += [(str(r.number), r.votes, r.excess) for r in self.rounds]
        rows = ["round".ljust(width) + "".join(f"{n:>{digits + 8}}" for n, _, _ in cols)]
        for i, c in enumerate(self.candidates):
            rows.append(
                c.ljust(width)
                + "".join(f"{format_value(v[i], digits):>{digits + 8}}" for _, v, _ in cols)
            )
        rows.append(
            "excess".ljust(width)
            + "".join(f"{format_value(e, digits):>{digits + 8}}" for _, _, e in cols)
        )
        return "\n".join(rows)


def _validate(
    profile: Profile,
    seats: int,
    arithmetic: str,
    places: int,
    omega: int | None,
    tie_order: Sequence[str] | None,
) -> None:
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise InputError(
            "bad-seats",
            f"The number of seats must be a whole number of at least 1, not {seats!r}.",
            params={"seats": seats},
        )
    if not profile.candidates:
        raise InputError("no-candidates", "There are no candidates to elect.")
    if arithmetic not in ("exact", "fixed"):
        raise InputError(
            "bad-arithmetic",
            f"Arithmetic must be 'exact' or 'fixed', not {arithmetic!r}.",
            params={"arithmetic": arithmetic},
        )
    if isinstance(places, bool) or not isinstance(places, int) or not 1 <= places <= 30:
        raise InputError(
            "bad-places",
            f"Decimal places must be a whole number from 1 to 30, not {places!r}.",
            params={"places": places},
        )
    if omega is not None and (
        isinstance(omega, bool) or not isinstance(omega, int) or not 1 <= omega <= 40
    ):
        raise InputError(
            "bad-omega",
            f"omega (the surplus threshold is 10**-omega) must be 1 to 40, not {omega!r}.",
            params={"omega": omega},
        )
    if tie_order is not None and sorted(tie_order) != sorted(profile.candidates):
        raise InputError(
            "bad-tie-order",
            "The tie-breaking order must list every candidate exactly once.",
            params={"tie_order": tuple(tie_order)},
        )


def meek_stv(
    profile: Profile,
    seats: int,
    *,
    arithmetic: Arithmetic = "exact",
    places: int = 9,
    omega: int | None = None,
    batch_defeat: bool | None = None,
    keep_places: int | None = None,
    seed: str | None = None,
    tie_order: Sequence[str] | None = None,
) -> MeekResult:
    """Count ``profile`` for ``seats`` by Meek's method.

    Parameters
    ----------
    profile : Profile
        The valid ballots (strict rankings).
    seats : int
        The number of candidates to elect.
    arithmetic : {"exact", "fixed"}
        Rational arithmetic (Droop "meek" rational) or fixed point with ``places`` decimals and
        the rounding of NZ Schedule 1A / PR Foundation reference rule; see the module text.
    places : int
        Decimal places of the fixed-point arithmetic (ignored when exact); default 9.
    omega : int, optional
        Iteration stops when the total surplus is below ``10**-omega``. Default 10 when exact,
        ``2 * places // 3`` when fixed (6 for 9 places, as the PR Foundation rule).
    batch_defeat : bool, optional
        Defeat all certain losers at once. Default: on when exact, off when fixed.
    keep_places : int, optional
        Exact arithmetic only: decimals to which new keep factors are rounded up; default
        ``omega + 10``, at least ``omega + 1``.
    seed : str, optional
        The recorded seed for ties that only a lot can break.
    tie_order : sequence of str, optional
        A tie-breaking order fixed before the count (for instance drawn by lot in advance, or
        the order of a ``.blt`` file as Droop uses): among tied candidates the first in this
        order is defeated. Takes precedence over ``seed``; each use is recorded in ``ties``.

    Returns
    -------
    MeekResult
        Elected candidates in order of election, every round with every iteration's keep
        factors, votes, quota, surplus and excess, every decision and every tie broken.

    Raises
    ------
    InputError
        For bad seats, arithmetic, places, omega or tie order.
    LotNeededError
        When a tie for defeat must be broken by lot and neither ``seed`` nor ``tie_order``
        was given.
    """
    _validate(profile, seats, arithmetic, places, omega, tie_order)
    exact = arithmetic == "exact"
    if omega is None:
        omega = 10 if exact else 2 * places // 3
    if keep_places is None:
        keep_places = omega + 10
    if isinstance(keep_places, bool) or not isinstance(keep_places, int) or keep_places <= omega:
        raise InputError(
            "bad-keep-places",
            f"keep_places must be a whole number greater than omega ({omega}), "
            f"not {keep_places!r}.",
            params={"keep_places": keep_places, "omega": omega},
        )
    keep_scale = 10**keep_places
    omega_value = Fraction(1, 10**omega)
    batch = exact if batch_defeat is None else batch_defeat
    scale = 10**places
    epsilon = Fraction(1, scale)

    def up(x: Fraction) -> Fraction:
        return Fraction(-((-x.numerator * scale) // x.denominator), scale)

    def keep_up(x: Fraction) -> Fraction:
        return Fraction(-((-x.numerator * keep_scale) // x.denominator), keep_scale)

    def down(x: Fraction) -> Fraction:
        return Fraction((x.numerator * scale) // x.denominator, scale)

    cands = profile.candidates
    n = len(cands)
    ballots = [(b.ranking, b.weight) for b in profile.ballots]
    valid = profile.valid_poll
    order_rank = {c: i for i, c in enumerate(tie_order)} if tie_order is not None else None

    first = [_ZERO] * n
    for ranking, weight in ballots:
        first[ranking[0]] += weight
    kf = [_ONE] * n
    state = ["hopeful"] * n
    elected: list[int] = []
    defeated: list[int] = []
    rounds: list[MeekRound] = []
    decisions: list[MeekDecision] = []
    ties: list[MeekTie] = []

    def hopeful() -> list[int]:
        return [c for c in range(n) if state[c] == "hopeful"]

    def distribute() -> tuple[list[Fraction], Fraction]:
        votes = [_ZERO] * n
        excess = _ZERO
        for ranking, weight in ballots:
            w = _ONE
            for c in ranking:
                k = kf[c]
                if k == 0:
                    continue
                if k == 1:
                    votes[c] += w * weight
                    w = _ZERO
                    break
                keep = w * k if exact else up(w * k)
                votes[c] += keep * weight
                w -= keep
                if w <= 0:
                    break
            if w:
                excess += w * weight
        return votes, excess

    def compute_quota(total: Fraction) -> Fraction:
        if exact:
            return total / (seats + 1)
        return down(total / (seats + 1)) + epsilon

    def reaches(v: Fraction, q: Fraction) -> bool:
        return v > q if exact else v >= q

    def sure_losers(votes: list[Fraction], surplus: Fraction) -> list[int]:
        hop = sorted(hopeful(), key=lambda c: (votes[c], c))
        groups: list[list[int]] = []
        for c in hop:
            if groups and votes[groups[-1][0]] + surplus >= votes[c]:
                groups[-1].append(c)
            else:
                groups.append([c])
        max_defeat = len(hop) - (seats - len(elected))
        count = 0
        total = _ZERO
        best = -1
        for g in range(len(groups) - 1):
            count += len(groups[g])
            if count > max_defeat:
                break
            total += sum((votes[c] for c in groups[g]), _ZERO)
            if total + surplus < votes[groups[g + 1][0]]:
                best = g
        return [c for g in groups[: best + 1] for c in g]

    def break_tie(tied: list[int], round_no: int) -> int:
        names = tuple(cands[c] for c in tied)
        label = f"meek-stv/round-{round_no}/defeat"
        if order_rank is not None:
            chosen = min(tied, key=lambda c: order_rank[cands[c]])
            ties.append(MeekTie(round_no, "tie-order", label, names, cands[chosen]))
            return chosen
        if seed is None:
            raise LotNeededError(
                "lot-needed",
                f"In round {round_no} the candidates {', '.join(names)} are tied for defeat "
                "(within the total surplus of the lowest vote); count again with a recorded "
                "seed or a tie-breaking order.",
                params={"round": round_no, "tied": names},
            )
        chosen = tied[SeededStream(seed, label).randbelow(len(tied))]
        ties.append(MeekTie(round_no, "lot", label, names, cands[chosen]))
        return chosen

    round_no = 0
    while 0 < seats - len(elected) < len(hopeful()):
        round_no += 1
        iterations: list[MeekIteration] = []
        last_surplus = Fraction(valid)
        status: RoundStatus
        newly: list[int] = []
        losers: list[int] = []
        while True:
            votes, excess = distribute()
            q = compute_quota(sum(votes, _ZERO))
            reached = [c for c in hopeful() if reaches(votes[c], q)]
            for c in sorted(reached, key=lambda c: (-votes[c], c)):
                state[c] = "elected"
                elected.append(c)
                newly.append(c)
                decisions.append(
                    MeekDecision(
                        cands[c],
                        "elected",
                        round_no,
                        f"vote {format_value(votes[c], places)} "
                        f"{'>' if exact else '>='} quota {format_value(q, places)}",
                    )
                )
            surplus = sum((votes[c] - q for c in elected), _ZERO)
            if surplus < 0:
                surplus = _ZERO
            iterations.append(
                MeekIteration(
                    len(iterations) + 1,
                    tuple(kf),
                    tuple(votes),
                    q,
                    surplus,
                    excess,
                    tuple(cands[c] for c in reached),
                )
            )
            if newly:
                status = "elected"
                break
            if (surplus <= omega_value) if exact else (surplus < omega_value):
                status = "omega"
                break
            if surplus >= last_surplus:
                status = "stable"
                break
            if batch:
                losers = sure_losers(votes, surplus)
                if losers:
                    status = "batch"
                    break
            last_surplus = surplus
            for c in elected:
                if votes[c] == 0:  # nothing reaches them: nothing to scale
                    continue
                if exact:
                    kf[c] = keep_up(kf[c] * q / votes[c])
                else:
                    kf[c] = up(up(kf[c] * q) / votes[c])
        reason = ""
        if status == "batch":
            reason = (
                f"certain losers: their votes plus the surplus {format_value(surplus, places)} "
                "are less than the next candidate's vote"
            )
        elif status in ("omega", "stable"):
            hop = hopeful()
            low = min(votes[c] for c in hop)
            tied = [c for c in hop if votes[c] <= low + surplus]
            loser = tied[0] if len(tied) == 1 else break_tie(tied, round_no)
            losers = [loser]
            reason = (
                f"lowest vote {format_value(votes[loser], places)}; surplus "
                f"{format_value(surplus, places)} "
                + (f"< omega 10^-{omega}" if status == "omega" else "no longer decreasing (stable)")
            )
            if len(tied) > 1:
                reason += f"; tied with {', '.join(cands[t] for t in tied if t != loser)}"
        elif status == "elected":
            reason = "reached the quota"
        for c in losers:
            state[c] = "defeated"
            kf[c] = _ZERO
            defeated.append(c)
            decisions.append(MeekDecision(cands[c], "defeated", round_no, reason))
        rounds.append(
            MeekRound(
                round_no,
                status,
                tuple(iterations),
                tuple(cands[c] for c in newly),
                tuple(cands[c] for c in losers),
                reason,
            )
        )
        logger.debug("round %d: %s (%d iterations)", round_no, status, len(iterations))

    for c in hopeful():
        if len(elected) < seats:
            state[c] = "elected"
            elected.append(c)
            decisions.append(
                MeekDecision(cands[c], "elected", round_no, "hopefuls no more than the seats left")
            )
        else:
            state[c] = "defeated"
            defeated.append(c)
            decisions.append(MeekDecision(cands[c], "defeated", round_no, "all seats filled"))

    return MeekResult(
        candidates=cands,
        seats=seats,
        arithmetic=arithmetic,
        places=None if exact else places,
        keep_places=keep_places if exact else None,
        omega=omega_value,
        batch_defeat=batch,
        valid_poll=valid,
        first_preferences=tuple(first),
        elected=tuple(cands[c] for c in elected),
        defeated=tuple(cands[c] for c in defeated),
        rounds=tuple(rounds),
        decisions=tuple(decisions),
        ties=tuple(ties),
        seed=seed,
    )
