"""Approval-based committee rules (voting.committee) and approval/score voting (voting.approval).

Every rule is compared with a slow, obviously correct twin written here over individual voters
and Fractions: PAV and CC with the score of every committee, seq-Phragmén and the Method of
Equal Shares with a recursion over every tie. MES and PAV committees are checked for EJR over
every group of voters, and the committee versions of MES and seq-Phragmén are compared with the
participatory-budgeting core on unit-cost instances.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgeting.election import Election, TieBreak, WeightedBallot
from budgeting.mes import equal_shares as pb_equal_shares
from budgeting.rules import sequential_phragmen as pb_phragmen
from voting.approval import approval, score
from voting.ballots import ApprovalProfile, ScoreProfile
from voting.committee import (
    COMMITTEE_METHODS,
    av,
    cc,
    ejr_violation,
    equal_shares,
    pav,
    sav,
    seq_phragmen,
    winning_committees,
)
from voting.errors import InputError, LotNeededError

F = Fraction
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Voters = list[frozenset[int]]

# --------------------------------------------------------------------------- generated data


@st.composite
def elections(draw: st.DrawFn, max_m: int = 6, max_n: int = 8) -> tuple[int, int, Voters]:
    """``(m, k, voters)``: one approval set per voter (possibly empty)."""
    m = draw(st.integers(2, max_m))
    k = draw(st.integers(1, m))
    n = draw(st.integers(1, max_n))
    voters = [frozenset(draw(st.sets(st.integers(0, m - 1), max_size=m))) for _ in range(n)]
    return m, k, voters


def names(m: int) -> list[str]:
    return [f"c{j}" for j in range(m)]


def profile_of(m: int, voters: Voters) -> ApprovalProfile:
    return ApprovalProfile.build(names(m), ((sorted(v), 1) for v in voters))


def as_indices(committees: Sequence[Sequence[str]]) -> set[tuple[int, ...]]:
    return {tuple(sorted(int(c[1:]) for c in com)) for com in committees}


# --------------------------------------------------------------------------- reference twins


def ref_optimal(m: int, k: int, voters: Voters, rule: str) -> set[tuple[int, ...]]:
    def value(t: int) -> Fraction:
        if rule == "cc":
            return F(min(t, 1))
        return sum((F(1, j) for j in range(1, t + 1)), F(0))

    scores = {
        com: sum((value(len(v & set(com))) for v in voters), F(0))
        for com in itertools.combinations(range(m), k)
    }
    best = max(scores.values())
    return {com for com, s in scores.items() if s == best}


def ref_phragmen(
    m: int, k: int, voters: Voters, committee: tuple[int, ...], load: list[Fraction]
) -> set[tuple[int, ...]]:
    """All seq-Phragmén committees (every tie order), from a partial committee and loads."""
    if len(committee) == k:
        return {tuple(sorted(committee))}
    options: dict[int, Fraction | None] = {}
    for c in range(m):
        if c in committee:
            continue
        backers = [i for i, v in enumerate(voters) if c in v]
        options[c] = (F(1) + sum(load[i] for i in backers)) / len(backers) if backers else None
    approved = {c: x for c, x in options.items() if x is not None}
    if approved:
        low = min(approved.values())
        tied = [c for c, x in approved.items() if x == low]
    else:
        tied = list(options)
    out: set[tuple[int, ...]] = set()
    for c in tied:
        new = list(load)
        if options[c] is not None:
            for i, v in enumerate(voters):
                if c in v:
                    new[i] = options[c]  # type: ignore[assignment]
        out |= ref_phragmen(m, k, voters, (*committee, c), new)
    return out


def ref_rho(money: list[Fraction]) -> Fraction | None:
    """Least q with sum(min(money_i, q)) = 1: try every number of voters who pay all they have."""
    if sum(money) < 1:
        return None
    poorest = sorted(money)
    valid = []
    for j in range(len(poorest)):
        q = (F(1) - sum(poorest[:j], F(0))) / (len(poorest) - j)
        if all(x <= q for x in poorest[:j]) and all(x >= q for x in poorest[j:]):
            valid.append(q)
    return min(valid)


def ref_mes(
    m: int, k: int, voters: Voters, committee: tuple[int, ...], money: list[Fraction]
) -> set[tuple[int, ...]]:
    """All Equal Shares committees (every tie order), completed by seq-Phragmén."""
    if len(committee) == k:
        return {tuple(sorted(committee))}
    rhos = {}
    for c in range(m):
        if c not in committee:
            backers = [money[i] for i, v in enumerate(voters) if c in v]
            rho = ref_rho(backers) if backers else None
            if rho is not None:
                rhos[c] = rho
    if not rhos:
        return ref_phragmen(m, k, voters, committee, [-x for x in money])
    low = min(rhos.values())
    out: set[tuple[int, ...]] = set()
    for c in [c for c, r in rhos.items() if r == low]:
        new = [x - min(x, low) if c in v else x for x, v in zip(money, voters, strict=True)]
        out |= ref_mes(m, k, voters, (*committee, c), new)
    return out


def ref_ejr(k: int, voters: Voters, committee: set[int]) -> bool:
    """EJR by brute force over every group of voters."""
    n = len(voters)
    for size in range(1, n + 1):
        for group in itertools.combinations(range(n), size):
            common = frozenset.intersection(*(voters[i] for i in group))
            for ell in range(1, len(common) + 1):
                if size * k >= ell * n and all(len(voters[i] & committee) < ell for i in group):
                    return False
    return True


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(elections())
def test_committee_has_k_distinct_members(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    for name, rule in COMMITTEE_METHODS.items():
        result = rule(p, k, tie_break="index")
        assert len(result.committee) == k, name
        assert len(set(result.committee)) == k, name
        assert as_indices([result.committee]) <= as_indices(winning_committees(p, k, name))
        seeded = rule(p, k, seed="s")
        assert as_indices([seeded.committee]) <= as_indices(winning_committees(p, k, name))
        assert seeded == rule(p, k, seed="s")  # the lot is reproducible


@SETTINGS
@given(elections(), st.randoms(use_true_random=False))
def test_invariant_to_ballot_order_and_merging(
    e: tuple[int, int, Voters], rnd: random.Random
) -> None:
    m, k, voters = e
    shuffled = list(voters)
    rnd.shuffle(shuffled)
    counts: dict[frozenset[int], int] = {}
    for v in voters:
        counts[v] = counts.get(v, 0) + 1
    merged = ApprovalProfile.build(names(m), ((sorted(v), w) for v, w in counts.items()))
    a, b = profile_of(m, voters), profile_of(m, shuffled)
    for name, rule in COMMITTEE_METHODS.items():
        ra = rule(a, k, seed="x")
        assert ra == rule(b, k, seed="x") == rule(merged, k, seed="x"), name
        assert winning_committees(a, k, name) == winning_committees(merged, k, name), name


@SETTINGS
@given(elections())
def test_pav_and_cc_are_exact_optima(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    for rule in ("pav", "cc"):
        expected = ref_optimal(m, k, voters, rule)
        assert as_indices(winning_committees(p, k, rule)) == expected
        result = COMMITTEE_METHODS[rule](p, k, tie_break="index")
        assert as_indices([result.committee]) == {min(expected)}
        assert (len(result.ties) == 1) == (len(expected) > 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_m=6, max_n=6))
def test_ilp_finds_every_optimum(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    for rule in ("pav", "cc"):
        expected = ref_optimal(m, k, voters, rule)
        assert as_indices(winning_committees(p, k, rule, algorithm="ilp")) == expected
        by_ilp = COMMITTEE_METHODS[rule](p, k, tie_break="index", algorithm="ilp")
        assert by_ilp == COMMITTEE_METHODS[rule](p, k, tie_break="index", algorithm="brute-force")


@SETTINGS
@given(elections())
def test_sequential_rules_equal_reference(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    n = len(voters)
    phragmen_all = ref_phragmen(m, k, voters, (), [F(0)] * n)
    mes_all = ref_mes(m, k, voters, (), [F(k, n)] * n)
    assert as_indices(winning_committees(p, k, "seq-phragmen")) == phragmen_all
    assert as_indices(winning_committees(p, k, "mes")) == mes_all


@SETTINGS
@given(elections())
def test_mes_and_pav_satisfy_ejr(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    for rule in ("mes", "pav"):
        for committee in winning_committees(p, k, rule):
            chosen = {int(c[1:]) for c in committee}
            assert ref_ejr(k, voters, chosen), (rule, committee)
            assert ejr_violation(p, k, committee) is None
    # the library's EJR check agrees with the brute force on arbitrary committees
    for com in itertools.islice(itertools.combinations(range(m), k), 10):
        ok = ref_ejr(k, voters, set(com))
        assert (ejr_violation(p, k, [f"c{c}" for c in com]) is None) == ok


@SETTINGS
@given(elections())
def test_av_and_sav_totals(e: tuple[int, int, Voters]) -> None:
    m, k, voters = e
    p = profile_of(m, voters)
    approvals = [sum(1 for v in voters if c in v) for c in range(m)]
    shares = [sum((F(1, len(v)) for v in voters if c in v), F(0)) for c in range(m)]
    for rule, totals in (("av", approvals), ("sav", shares)):
        result = COMMITTEE_METHODS[rule](p, k, tie_break="index")
        assert result.totals == tuple(F(t) for t in totals)
        best = {
            com
            for com in itertools.combinations(range(m), k)
            if sum(totals[c] for c in com)
            == max(sum(totals[c] for c in x) for x in itertools.combinations(range(m), k))
        }
        assert as_indices(winning_committees(p, k, rule)) == best


# --------------------------------------------------------------------------- budgeting core


def unit_election(m: int, k: int, voters: Voters) -> Election:
    counts: dict[tuple[int, ...], int] = {}
    for v in voters:
        counts[tuple(sorted(v))] = counts.get(tuple(sorted(v)), 0) + 1
    ballots = tuple(WeightedBallot(a, None, w) for a, w in sorted(counts.items()))
    return Election(tuple(names(m)), (F(1),) * m, F(k), "approval", ballots)


@SETTINGS
@given(elections())
def test_agrees_with_participatory_budgeting_core(e: tuple[int, int, Voters]) -> None:
    """Unit costs and budget k: budgeting's MES (no completion) is the Equal Shares phase here,
    and budgeting's seq-Phragmén is seq-Phragmén; with both breaking ties by lowest index they
    select the same candidates in the same order (ties included, not filtered out)."""
    m, k, voters = e
    p = profile_of(m, voters)
    election = unit_election(m, k, voters)
    by_index = TieBreak(tuple(range(m)), "index")
    ours = equal_shares(p, k, tie_break="index")
    mes_phase = tuple(r.elected for r in ours.rounds if r.phase == "equal-shares")
    for engine in ("fast", "reference"):
        run = pb_equal_shares(election, by_index, satisfaction="cost", engine=engine)
        assert tuple(election.ids[j] for j in run.selected) == mes_phase, engine
    outcome = pb_phragmen(election, by_index)
    assert (
        tuple(election.ids[j] for j in outcome.selected)
        == seq_phragmen(p, k, tie_break="index").committee
    )


# --------------------------------------------------------------------------- examples


def test_book_example_equal_shares_with_phragmen_phase() -> None:
    """Lackner & Skowron (2023), the MES example with a Phragmén phase (8 voters, k = 3), as
    abcvoting's example script prints it: c at q = 1/5, a at q = 13/40, then seq-Phragmén."""
    p = ApprovalProfile.from_sets(
        "abcd", [["c", "d"]] * 3 + [["a", "b"]] * 2 + [["a", "c"]] * 2 + [["b", "d"]]
    )
    r = equal_shares(p, 3)
    assert [x.elected for x in r.rounds] == ["c", "a", "d"]
    assert [x.phase for x in r.rounds] == ["equal-shares", "equal-shares", "phragmen"]
    assert r.rounds[0].values[2] == F(1, 5)
    assert r.rounds[1].values[0] == F(13, 40)
    # money left per ballot (profile order: ab, ac, bd, cd)
    assert r.rounds[1].state == (F(1, 20), F(0), F(3, 8), F(7, 40))
    assert winning_committees(p, 3, "mes") == (("a", "c", "d"),)


def test_book_example_1_first_round() -> None:
    """Lackner & Skowron (2023), Example 1 (12 voters, k = 4): MES elects a first at q = 1/8."""
    sets = (
        [["a", "b"]] * 3
        + [["a", "c"]] * 3
        + [["a", "d"]] * 2
        + [["b", "c", "f"], ["e"], ["f"], ["g"]]
    )
    p = ApprovalProfile.from_sets("abcdefgh", sets)
    r = equal_shares(p, 4, tie_break="index")
    assert r.rounds[0].elected == "a" and r.rounds[0].values[0] == F(1, 8)
    assert r.rounds[0].state[0] == F(5, 24)  # an {a, b} voter: 1/3 - 1/8


def test_party_list_profile_is_proportional() -> None:
    """Disjoint parties of 6, 3 and 1 voters, 10 seats: PAV, seq-Phragmén and MES give the
    D'Hondt apportionment 6 : 3 : 1 (Lackner & Skowron 2023, section 4.1)."""
    cands = [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)] + ["c0", "c1"]
    p = ApprovalProfile.from_sets(cands, [cands[:10]] * 6 + [cands[10:20]] * 3 + [cands[20:]])
    for rule in (seq_phragmen, equal_shares):
        committee = rule(p, 10, tie_break="index").committee
        assert sum(c[0] == "a" for c in committee) == 6
        assert sum(c[0] == "b" for c in committee) == 3
        assert sum(c[0] == "c" for c in committee) == 1
    # ILP path (C(22, 10) committees), with 50,400 optimal committees: more than are listed
    r = pav(p, 10, tie_break="index")
    assert r.committee == (*cands[:6], *cands[10:13], "c0")  # the lexicographically smallest
    assert r.score == 6 * sum(F(1, j) for j in range(1, 7)) + 3 * (1 + F(1, 2) + F(1, 3)) + 1
    assert r.ties[0].how == "index" and r.ties[0].tied[-1] == "..."
    lot = pav(p, 10, seed="2026")
    assert [sum(c[0] == x for c in lot.committee) for x in "abc"] == [6, 3, 1]
    assert lot.ties[0].label == "pav/optimum-order" and lot.score == r.score
    with pytest.raises(LotNeededError):
        pav(p, 10)


def test_ties_need_a_seed_and_are_recorded() -> None:
    p = ApprovalProfile.from_sets("abc", [["a"], ["b"], ["c"]])
    for name, rule in COMMITTEE_METHODS.items():
        with pytest.raises(LotNeededError):
            rule(p, 2)
        r = rule(p, 2, seed="2026")
        assert r.ties and r.ties[0].how == "lot" and r.ties[0].label is not None, name
        assert r.ties[0].label.startswith(name)
        i = rule(p, 2, tie_break="index")
        assert i.ties and i.ties[0].how == "index" and i.ties[0].label is None
        assert set(i.committee) == {"a", "b"}, name


def test_cc_reports_all_optimal_committees() -> None:
    p = ApprovalProfile.from_sets("abc", [["a", "b"]] * 3 + [["c"]])
    r = cc(p, 2, seed="1")
    assert r.optimal == (("a", "c"), ("b", "c"))
    assert r.score == 4
    assert r.ties[0].tied == ("a+c", "b+c")


def test_bad_input() -> None:
    p = ApprovalProfile.from_sets("ab", [["a"]])
    with pytest.raises(InputError) as err:
        av(p, 3)
    assert err.value.code == "bad-seats"
    with pytest.raises(InputError):
        sav(p, 0)
    with pytest.raises(InputError) as err:
        winning_committees(p, 1, "stv")
    assert err.value.code == "unknown-method"
    with pytest.raises(InputError):
        seq_phragmen(ApprovalProfile.build(["a"], []), 1)
    with pytest.raises(InputError):
        pav(p, 1, tie_break="coin")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- single winner


def test_approval_and_score_tallies_and_ties() -> None:
    p = ApprovalProfile.from_sets("abc", [["a", "b"], ["b"], ["a"], ["c"]])
    r = approval(p)
    assert r.winners == ("a", "b") and r.winner is None
    assert [str(t) for t in r.rounds[0].totals] == ["2", "2", "1"]
    lot = approval(p, seed="7")
    assert lot.winner in ("a", "b") and lot.lots[0].tied == ("a", "b")
    assert approval(p, tie_break="index").winner == "a"
    s = ScoreProfile.build(["a", "b"], [((3, 1), 2), ((0, 5), 1)], max_score=5)
    rs = score(s)
    assert rs.rounds[0].totals == (F(6), F(7)) and rs.winner == "b"


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=1, max_size=8))
def test_score_is_the_highest_total(rows: list[list[int]]) -> None:
    s = ScoreProfile.build(["x", "y", "z"], ((r, 1) for r in rows), max_score=4)
    totals = [sum(r[c] for r in rows) for c in range(3)]
    r = score(s, seed="s")
    assert list(r.rounds[0].totals) == totals
    assert r.winner is not None and totals["xyz".index(r.winner)] == max(totals)
