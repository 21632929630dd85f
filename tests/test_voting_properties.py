"""Properties of instant-runoff (:func:`voting.single.instant_runoff`) and Scottish STV
(:func:`voting.stv.scottish_stv`) on small random ranked profiles (hypothesis).

* Neither count depends on the order of the ballots, nor on whether equal papers are merged:
  the ballots are shuffled and split *inside* a :class:`Profile` (bypassing ``Profile.build``,
  which would sort and merge them again).
* The numpy tally of instant-runoff gives the same result as the plain one.
* STV conserves votes in every stage, exactly: continuing and elected totals + non-transferable
  + truncation loss == the valid poll (all in units of 0.00001).
* Both equal slow, obviously-correct references written here: IRV by trying every way to break
  a tie for last place (the set of possible winners must be ours), STV by a literal reading of
  SSI 2007/42 rules 45–52 with :class:`fractions.Fraction` and explicit truncation to five
  decimals, one paper at a time. Where the reference would need a lot, ours (without a seed)
  must raise :class:`LotNeededError`, and the profile is skipped.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting import LotNeededError
from voting.ballots import Ballot, Profile
from voting.single import _count_irv, _NumpyIrvTally, _PythonIrvTally, instant_runoff
from voting.stv import UNIT, StvResult, scottish_stv

NAMES = "ABCDEF"


@st.composite
def profiles(draw: st.DrawFn, max_candidates: int = 5) -> Profile:
    n = draw(st.integers(2, max_candidates))
    pairs = []
    for _ in range(draw(st.integers(1, 10))):
        perm = draw(st.permutations(range(n)))
        pairs.append((perm[: draw(st.integers(1, n))], draw(st.integers(1, 6))))
    return Profile.build(NAMES[:n], pairs)


def scrambled(profile: Profile, rnd: random.Random) -> Profile:
    """The same papers, split into random parcels and listed in a random order."""
    parts: list[Ballot] = []
    for b in profile.ballots:
        left = b.weight
        while left:
            take = rnd.randint(1, left)
            parts.append(Ballot(b.ranking, take))
            left -= take
    rnd.shuffle(parts)
    return Profile(profile.candidates, tuple(parts))


# --------------------------------------------------------------------------------------------
# order invariance and the two IRV tallies


@settings(max_examples=150, deadline=None)
@given(profiles(), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_counts_do_not_depend_on_ballot_order(profile: Profile, shuffle: int, seats: int) -> None:
    other = scrambled(profile, random.Random(shuffle))
    assert instant_runoff(other, seed="s") == instant_runoff(profile, seed="s")
    assert scottish_stv(other, seats, seed="s") == scottish_stv(profile, seats, seed="s")


@settings(max_examples=150, deadline=None)
@given(profiles(max_candidates=6), st.integers(0, 2**32 - 1))
def test_numpy_irv_tally_equals_plain_tally(profile: Profile, shuffle: int) -> None:
    other = scrambled(profile, random.Random(shuffle))
    plain = _count_irv(profile, _PythonIrvTally(profile), "s")
    assert _count_irv(profile, _NumpyIrvTally(profile), "s") == plain
    assert _count_irv(other, _NumpyIrvTally(other), "s") == plain


def test_numpy_irv_path_is_used_on_large_profiles() -> None:
    rnd = random.Random(7)
    pairs = []
    for _ in range(3000):
        perm = rnd.sample(range(8), 8)
        pairs.append((perm[: rnd.randint(1, 8)], rnd.randint(1, 20)))
    profile = Profile.build([f"C{i}" for i in range(8)], pairs)
    assert len(profile.ballots) >= 256
    assert instant_runoff(profile, seed="x") == _count_irv(profile, _PythonIrvTally(profile), "x")


# --------------------------------------------------------------------------------------------
# STV conservation


@settings(max_examples=200, deadline=None)
@given(profiles(max_candidates=6), st.integers(1, 4))
def test_stv_conserves_votes_in_every_stage(profile: Profile, seats: int) -> None:
    result = scottish_stv(profile, seats, seed="conservation")
    poll = result.valid_poll * UNIT
    nt = loss = 0
    for stage in result.stages:
        nt += stage.non_transferable
        loss += stage.truncation_loss
        assert stage.truncation_loss >= 0 and stage.non_transferable >= 0
        assert sum(stage.totals) + nt + loss == poll
        # what moved in the stage balances too
        assert sum(stage.transfers) + stage.non_transferable + stage.truncation_loss == 0


# --------------------------------------------------------------------------------------------
# IRV against every way of breaking ties for last place


def irv_reference(profile: Profile) -> set[int]:
    """The candidates who win instant-runoff under some order of excluding tied last places."""
    n = len(profile.candidates)
    papers = [(b.ranking, b.weight) for b in profile.ballots]

    @cache
    def winners(continuing: frozenset[int]) -> frozenset[int]:
        votes = dict.fromkeys(continuing, 0)
        for ranking, weight in papers:
            for c in ranking:
                if c in continuing:
                    votes[c] += weight
                    break
        active = sum(votes.values())
        if len(continuing) == 1:
            return continuing
        best = max(votes.values())
        if 2 * best > active:
            return frozenset(c for c in continuing if votes[c] == best)
        if active == 0:
            return continuing
        low = min(votes.values())
        last = [c for c in continuing if votes[c] == low]
        if len(continuing) == 2 and len(last) == 2:
            return continuing
        out: frozenset[int] = frozenset()
        for c in last:
            out |= winners(continuing - {c})
        return out

    return set(winners(frozenset(range(n))))


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_irv_equals_reference(profile: Profile) -> None:
    try:
        ours = instant_runoff(profile)
    except LotNeededError:
        return  # a lot is needed: the reference has no single answer to compare
    expected = {profile.candidates[c] for c in irv_reference(profile)}
    assert set(ours.winners) == expected


# --------------------------------------------------------------------------------------------
# Scottish STV against a literal reading of rules 45–52


class LotNeededRefError(Exception):
    pass


def truncate5(x: Fraction) -> Fraction:
    """Rule 48(3): 'calculated to five decimal places (any remainder being ignored)'."""
    return Fraction(math.floor(x * 100_000), 100_000)


def stv_reference(profile: Profile, seats: int) -> tuple[list[int], list[list[Fraction]]]:
    """Elected candidates (in order) and every stage's totals, one paper at a time."""
    n = len(profile.candidates)
    # rule 45: every valid paper; a paper is [ranking, position of current preference, value]
    papers = [[b.ranking, 0, Fraction(1)] for b in profile.ballots for _ in range(b.weight)]
    quota = Fraction(len(papers) // (seats + 1) + 1)  # rule 46
    piles: list[list[list]] = [[] for _ in range(n)]
    totals = [Fraction(0)] * n
    for p in papers:
        piles[p[0][0]].append(p)
        totals[p[0][0]] += 1
    state = ["continuing"] * n
    elected: list[int] = []
    surplus_pending: list[int] = []
    history: list[list[Fraction]] = []

    def next_preference(paper: list) -> int | None:
        ranking, pos, _ = paper
        for k in range(pos + 1, len(ranking)):
            if state[ranking[k]] == "continuing":
                paper[1] = k
                return ranking[k]
        return None

    def decide(tied: list[int], highest: bool) -> int:
        # rules 49(2) and 51: the most recent preceding stage at which they had unequal votes
        group = sorted(tied)
        for stage in reversed(history):
            pick = max if highest else min
            best = pick(stage[c] for c in group)
            group = [c for c in group if stage[c] == best]
            if len(group) == 1:
                return group[0]
        raise LotNeededRefError

    while True:
        history.append(list(totals))
        reached = [c for c in range(n) if state[c] == "continuing" and totals[c] >= quota]
        for c in sorted(reached, key=lambda c: (-totals[c], c)):  # rule 47
            state[c] = "elected"
            elected.append(c)
            if totals[c] > quota:
                surplus_pending.append(c)
        continuing = [c for c in range(n) if state[c] == "continuing"]
        if len(elected) >= seats:
            return elected, history
        if len(continuing) <= seats - len(elected):  # rule 52
            elected.extend(continuing)
            return elected, history
        if surplus_pending:  # rule 48: the largest surplus first
            biggest = max(totals[c] for c in surplus_pending)
            tied = [c for c in surplus_pending if totals[c] == biggest]
            c = tied[0] if len(tied) == 1 else decide(tied, highest=True)
            surplus_pending.remove(c)
            surplus = totals[c] - quota
            total = totals[c]
            for paper in piles[c]:
                # rule 48(3): surplus x value when received / total, truncated
                paper[2] = truncate5(surplus * paper[2] / total)
                d = next_preference(paper)
                if d is not None:
                    piles[d].append(paper)
                    totals[d] += paper[2]
            piles[c] = []
            totals[c] = quota
        else:  # rule 50: exclude the lowest, all papers at their current value
            lowest = min(totals[c] for c in continuing)
            tied = [c for c in continuing if totals[c] == lowest]
            c = tied[0] if len(tied) == 1 else decide(tied, highest=False)
            state[c] = "excluded"
            for paper in piles[c]:
                d = next_preference(paper)
                if d is not None:
                    piles[d].append(paper)
                    totals[d] += paper[2]
            piles[c] = []
            totals[c] = Fraction(0)


def _stage_totals(result: StvResult) -> list[list[Fraction]]:
    return [[Fraction(v, UNIT) for v in stage.totals] for stage in result.stages]


def _compare_stv(profile: Profile, seats: int) -> None:
    try:
        elected, stages = stv_reference(profile, seats)
    except LotNeededRefError:
        with pytest.raises(LotNeededError):
            scottish_stv(profile, seats)
        return
    ours = scottish_stv(profile, seats)
    assert list(ours.elected) == [profile.candidates[c] for c in elected]
    assert _stage_totals(ours) == stages


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_stv_one_seat_equals_reference(profile: Profile) -> None:
    _compare_stv(profile, 1)


@settings(max_examples=300, deadline=None)
@given(profiles(max_candidates=6), st.integers(2, 4))
def test_stv_several_seats_equals_reference(profile: Profile, seats: int) -> None:
    _compare_stv(profile, seats)


@settings(max_examples=100, deadline=None)
@given(profiles(max_candidates=5))
def test_stv_one_seat_and_irv_agree_when_no_one_exhausts(profile: Profile) -> None:
    # With complete rankings no paper exhausts, so the valid poll is the continuing vote and
    # the STV quota is a majority: both elect the same candidate (ties aside).
    n = len(profile.candidates)
    full = Profile.build(
        profile.candidates,
        (
            (b.ranking + tuple(c for c in range(n) if c not in b.ranking), b.weight)
            for b in profile.ballots
        ),
    )
    try:
        stv = scottish_stv(full, 1)
        irv = instant_runoff(full)
    except LotNeededError:
        return
    if irv.winner is not None and not any("together" in r.note for r in irv.rounds):
        assert stv.elected == (irv.winner,)
