"""Tests of Meek STV (:mod:`voting.meek`): hand-counted examples and properties.

The worked examples are counted by hand in the comments. The properties (hypothesis) check on
small random profiles that the count elects exactly ``seats`` candidates, does not depend on the
order of the ballots or of the candidates, conserves the valid poll exactly in every iteration
(votes + excess, both arithmetics), that exact and fixed point agree when the margins are clear,
and that with one seat Meek's method is instant-runoff.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from voting import InputError, LotNeededError, Profile, instant_runoff
from voting.meek import MeekResult, format_value, meek_stv

CASTOR = Profile.build(["Castor", "Pollux", "Helen"], [((0, 1), 4), ((2,), 2)])


def test_castor_pollux_helen_fixed_point_by_hand() -> None:
    # 6 ballots, 2 seats, 9 places: quota = trunc(6/3) + 0.000000001 = 2.000000001.
    # Round 1: Castor 4 >= quota, elected.
    # Round 2, iteration 1: same votes, surplus 1.999999999; Castor's keep factor becomes
    #   up(up(1 * 2.000000001) / 4) = up(0.50000000025) = 0.500000001.
    # Iteration 2: each of the 4 ballots keeps up(0.500000001) at Castor: 2.000000004;
    #   the rest 0.499999999 x 4 = 1.999999996 goes to Pollux; Helen 2. Surplus 0.000000003
    #   < omega 10^-6: Pollux (lowest; Helen is 0.000000004 higher, more than the surplus) is
    #   defeated, and Helen is elected as the only hopeful left for the last seat.
    r = meek_stv(CASTOR, 2, arithmetic="fixed", places=9)
    assert r.elected == ("Castor", "Helen")
    assert r.defeated == ("Pollux",)
    assert [x.status for x in r.rounds] == ["elected", "omega"]
    last = r.rounds[1]
    assert [format_value(v) for v in last.votes] == ["2.000000004", "1.999999996", "2.000000000"]
    assert format_value(last.quota) == "2.000000001"
    assert format_value(last.surplus) == "0.000000003"
    assert last.keep_factors == (Fraction(500000001, 10**9), Fraction(1), Fraction(1))
    assert r.ties == ()


def test_castor_pollux_helen_exact_is_a_tie() -> None:
    # Exactly, Castor's keep factor becomes 2/4 = 1/2: Pollux and Helen both have 2 and the
    # surplus is 0, so the defeat is a tie that only a lot (or a fixed order) can break.
    with pytest.raises(LotNeededError) as err:
        meek_stv(CASTOR, 2)
    assert err.value.params["tied"] == ("Pollux", "Helen")
    a = meek_stv(CASTOR, 2, seed="2026")
    b = meek_stv(CASTOR, 2, seed="2026")
    assert a.elected == b.elected and len(a.ties) == 1 and a.ties[0].method == "lot"
    assert a.ties[0].tied == ("Pollux", "Helen")
    assert a.elected == ("Castor", "Helen" if a.ties[0].chosen == "Pollux" else "Pollux")
    r = meek_stv(CASTOR, 2, tie_order=["Helen", "Pollux", "Castor"])
    assert r.elected == ("Castor", "Pollux") and r.ties[0].method == "tie-order"


def test_worked_example_exact_by_hand() -> None:
    # 11 ballots, 2 seats: 6 A>B, 3 C, 2 D>C. Quota 11/3.
    # Round 1: A 6 > 11/3, elected.
    # Round 2, iteration 1: surplus 6 - 11/3 = 7/3. Certain losers? B 0 and D 2 are within the
    #   surplus of each other, and 0 + 2 + 7/3 is not below C's 3: no batch. A's keep factor
    #   becomes 11/3 / 6 = 11/18 (rounded up to 20 decimals). Iteration 2: A 11/3, B 7/3, C 3,
    #   D 2 (up to 10^-19); surplus below omega: D defeated.
    # Round 3: D's ballots go to C: C 5 > 11/3, elected. Seats filled; B defeated.
    p = Profile.build(["A", "B", "C", "D"], [((0, 1), 6), ((2,), 3), ((3, 2), 2)])
    r = meek_stv(p, 2)
    assert r.elected == ("A", "C")
    assert r.defeated == ("D", "B")
    assert [x.status for x in r.rounds] == ["elected", "omega", "elected"]
    r2 = r.rounds[1]
    assert len(r2.iterations) == 2
    assert r2.iterations[0].surplus == Fraction(7, 3)
    # 11/18 = 0.6111..., rounded up to omega + 10 = 20 decimals
    kf = Fraction(61111111111111111112, 10**20)
    assert r2.keep_factors[0] == kf
    assert r2.votes == (6 * kf, 6 - 6 * kf, Fraction(3), Fraction(2))
    assert abs(r2.votes[0] - Fraction(11, 3)) < Fraction(1, 10**19)
    assert 0 < r2.surplus < Fraction(1, 10**19)
    # with more decimals the rounding error shrinks accordingly
    r40 = meek_stv(p, 2, keep_places=40)
    assert 0 < r40.rounds[1].votes[0] - Fraction(11, 3) < Fraction(1, 10**39)
    assert r.rounds[2].votes[2] == 5
    assert [d.kind for d in r.decisions] == ["elected", "defeated", "elected", "defeated"]


def test_batch_defeat_of_certain_losers() -> None:
    # 1 seat, 20 ballots: A 9, B 8, C 2 (C>B), D 1 (D>C). Nobody is elected, so the surplus is 0
    # (below omega) and only the lowest is defeated each round, as in instant-runoff: D, then C
    # (now 3), then B has 8 + 3 = 11 > 10 and is elected.
    p = Profile.build(["A", "B", "C", "D"], [((0,), 9), ((1,), 8), ((2, 1), 2), ((3, 2), 1)])
    r = meek_stv(p, 1)
    assert [x.defeated for x in r.rounds] == [("D",), ("C",), ()]
    assert r.elected == ("B",)
    # 2 seats, 28 ballots: A 10, D 1 (D>G), E 2 (E>G), F 8, G 7; quota 28/3 = 9.33.
    # Round 1: A elected. Round 2, iteration 1: surplus 2/3. Sorted hopefuls D 1, E 2, G 7, F 8
    # are each more than the surplus apart; D alone + 2/3 < E, D + E + 2/3 = 3.67 < G, and
    # defeating D, E, G would leave too few: D and E are certain losers, defeated together.
    # Round 3: G 7 + 1 + 2 = 10 > 9.33 is elected.
    q = Profile.build(
        ["A", "D", "E", "F", "G"], [((0,), 10), ((1, 4), 1), ((2, 4), 2), ((3,), 8), ((4,), 7)]
    )
    s = meek_stv(q, 2)
    assert [(x.status, x.defeated) for x in s.rounds] == [
        ("elected", ()),
        ("batch", ("D", "E")),
        ("elected", ()),
    ]
    assert len(s.rounds[1].iterations) == 1 and s.rounds[1].surplus == Fraction(2, 3)
    assert s.elected == ("A", "G")
    one_by_one = meek_stv(q, 2, batch_defeat=False)
    assert [x.defeated for x in one_by_one.rounds] == [(), ("D",), ("E",), ()]
    assert one_by_one.elected == s.elected


def test_fewer_candidates_than_seats_and_errors() -> None:
    p = Profile.build(["A", "B"], [((0,), 3), ((1, 0), 1)])
    r = meek_stv(p, 3)
    assert set(r.elected) == {"A", "B"} and r.rounds == ()
    with pytest.raises(InputError) as e1:
        meek_stv(p, 0)
    assert e1.value.code == "bad-seats"
    with pytest.raises(InputError) as e2:
        meek_stv(p, 1, arithmetic="float")  # type: ignore[arg-type]
    assert e2.value.code == "bad-arithmetic"
    with pytest.raises(InputError) as e3:
        meek_stv(p, 1, tie_order=["A"])
    assert e3.value.code == "bad-tie-order"


# ----------------------------------------------------------------------------- properties


@st.composite
def profiles(draw: st.DrawFn, min_cands: int = 3, max_cands: int = 5) -> Profile:
    n = draw(st.integers(min_cands, max_cands))
    names = [chr(ord("A") + i) for i in range(n)]
    ballots = draw(
        st.lists(
            st.tuples(
                st.permutations(range(n)).flatmap(
                    lambda perm: st.integers(1, len(perm)).map(lambda k: tuple(perm[:k]))
                ),
                st.integers(1, 30),
            ),
            min_size=1,
            max_size=10,
        )
    )
    return Profile.build(names, ballots)


def count(profile: Profile, seats: int, **kwargs: object) -> MeekResult:
    try:
        return meek_stv(profile, seats, **kwargs)  # type: ignore[arg-type]
    except LotNeededError:
        assume(False)
        raise


def check_conservation(r: MeekResult) -> None:
    for rnd in r.rounds:
        for it in rnd.iterations:
            assert sum(it.votes, Fraction(0)) + it.excess == r.valid_poll
            assert all(v >= 0 for v in it.votes) and it.excess >= 0


@settings(max_examples=120, deadline=None)
@given(profiles(), st.integers(1, 3), st.sampled_from(["exact", "fixed"]))
def test_elects_seats_and_conserves_votes(p: Profile, seats: int, arithmetic: str) -> None:
    r = count(p, seats, arithmetic=arithmetic, omega=6 if arithmetic == "exact" else None)
    assert len(r.elected) == min(seats, len(p.candidates))
    assert len(set(r.elected)) == len(r.elected)
    assert set(r.elected) | set(r.defeated) == set(p.candidates)
    check_conservation(r)


@settings(max_examples=80, deadline=None)
@given(profiles(), st.integers(1, 3), st.randoms(use_true_random=False))
def test_invariant_to_ballot_and_candidate_order(p: Profile, seats: int, rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    r = count(p, seats, arithmetic="fixed")
    pairs = [(b.ranking, b.weight) for b in p.ballots]
    rnd.shuffle(pairs)
    # split a weight into single papers, listed in another order
    papers = [(rk, 1) for rk, w in pairs for _ in range(w)]
    rnd.shuffle(papers)
    assert count(Profile.build(p.candidates, papers), seats, arithmetic="fixed") == r
    perm = list(range(len(p.candidates)))
    rnd.shuffle(perm)
    names = [p.candidates[i] for i in perm]
    where = {old: new for new, old in enumerate(perm)}
    relabelled = Profile.build(names, [(tuple(where[c] for c in rk), w) for rk, w in pairs])
    # candidates elected together (the remaining hopefuls) are listed in profile order
    assert set(count(relabelled, seats, arithmetic="fixed").elected) == set(r.elected)


def clear_margins(r: MeekResult, margin: Fraction) -> bool:
    """No decision in the exact count came within ``margin`` of going the other way."""
    for rnd in r.rounds:
        last = rnd.last
        hopeful_after = [
            i
            for i, c in enumerate(r.candidates)
            if c not in rnd.defeated and last.keep_factors[i] == 1 and c not in rnd.elected
        ]
        for i in hopeful_after:
            if abs(last.votes[i] - last.quota) < margin:
                return False
        for c in rnd.elected:
            if last.votes[r.candidates.index(c)] - last.quota < margin:
                return False
        if rnd.defeated:
            low = max(last.votes[r.candidates.index(c)] for c in rnd.defeated)
            others = [last.votes[i] for i in hopeful_after]
            if others and min(others) - low < margin:
                return False
    return True


@settings(max_examples=120, deadline=None)
@given(profiles(), st.integers(1, 3))
def test_exact_and_fixed_agree_with_clear_margins(p: Profile, seats: int) -> None:
    exact = count(p, seats, arithmetic="exact", batch_defeat=False, omega=9)
    assume(clear_margins(exact, Fraction(1, 100)))
    fixed = count(p, seats, arithmetic="fixed", places=9, batch_defeat=False)
    assert set(fixed.elected) == set(exact.elected)


@settings(max_examples=80, deadline=None)
@given(profiles(min_cands=2, max_cands=5))
def test_one_seat_is_instant_runoff(p: Profile) -> None:
    try:
        irv = instant_runoff(p)
    except LotNeededError:
        assume(False)
        raise
    assume(irv.winner is not None and not irv.lots)
    r = count(p, 1)
    assert r.elected == (irv.winner,)
    rf = count(p, 1, arithmetic="fixed")
    assert rf.elected == (irv.winner,)
