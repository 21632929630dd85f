"""Tests of :mod:`budgeting.rules` (greedy, max welfare, sequential Phragmén) and ``stadmaken pb``.

Elections are generated with hypothesis: a few projects with integer or decimal costs, a budget,
and ballots of every vote type. Each rule is checked against a plain twin written from the
definition (pabutools' generic greedy scheme, a per-voter Phragmén, brute force over all
subsets for max welfare), and for the promised properties: the outcome fits the budget, the
skip variants are exhaustive, the voters' order and the merging of identical ballots change
nothing, ties follow the :class:`TieBreak`. The command is tested end to end through a small
typer app, on pabulib files written here.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from budgeting.election import Election, Outcome, TieBreak, VoteType, WeightedBallot
from budgeting.rules import (
    RULE_NAMES,
    GroupBudget,
    RuleError,
    Satisfaction,
    amount_text,
    default_satisfaction,
    greedy,
    max_welfare,
    project_welfare,
    run_rule,
    sequential_phragmen,
)
from service.pb_cli import pb_command

#: (projects, points or None) as a voter cast it, before merging.
Raw = tuple[tuple[int, ...], tuple[Fraction, ...] | None]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

APPROVAL_LIKE: tuple[VoteType, ...] = ("approval", "choose-1", "ordinal")
CARDINAL: tuple[VoteType, ...] = ("cumulative", "scoring")
ALL_TYPES: tuple[VoteType, ...] = (*APPROVAL_LIKE, *CARDINAL)


# --------------------------------------------------------------------------- building elections


def merged(raw: Sequence[Raw]) -> tuple[WeightedBallot, ...]:
    """Identical ballots merged, in canonical order (as the reader makes them)."""
    counts: dict[Raw, int] = {}
    for ballot in raw:
        counts[ballot] = counts.get(ballot, 0) + 1
    return tuple(
        WeightedBallot(projects, points, weight)
        for (projects, points), weight in sorted(counts.items(), key=lambda kv: repr(kv[0]))
    )


def make_election(
    costs: Sequence[Fraction | int],
    budget: Fraction | int,
    raw: Sequence[Raw],
    vote_type: VoteType = "approval",
    ids: Sequence[str] | None = None,
) -> Election:
    names = tuple(ids) if ids is not None else tuple(f"p{j}" for j in range(len(costs)))
    return Election(
        names,
        tuple(Fraction(c) for c in costs),
        Fraction(budget),
        vote_type,
        merged(raw),
    )


def approvals(*ballots: Sequence[int]) -> list[Raw]:
    return [(tuple(b), None) for b in ballots]


_COSTS = st.one_of(
    st.integers(0, 20).map(Fraction),
    st.builds(Fraction, st.integers(0, 2000), st.sampled_from([2, 4, 100])),
)


@st.composite
def raw_ballot(draw: st.DrawFn, vote_type: VoteType, n: int) -> Raw:
    if vote_type == "choose-1":
        return ((draw(st.integers(0, n - 1)),), None)
    chosen = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
    if vote_type == "ordinal":
        return (tuple(chosen), None)
    if vote_type == "approval":
        return (tuple(sorted(chosen)), None)
    chosen.sort()
    points = tuple(
        draw(st.builds(Fraction, st.integers(1, 10), st.sampled_from([1, 2]))) for _ in chosen
    )
    return (tuple(chosen), points)


@st.composite
def elections(
    draw: st.DrawFn,
    vote_types: Sequence[VoteType] = ALL_TYPES,
    max_projects: int = 7,
    max_voters: int = 9,
) -> tuple[Election, list[Raw]]:
    vote_type = draw(st.sampled_from(list(vote_types)))
    n = draw(st.integers(1, max_projects))
    costs = [draw(_COSTS) for _ in range(n)]
    total = sum(costs, Fraction(0))
    budget = draw(
        st.one_of(
            st.builds(lambda k: total * k / 8, st.integers(0, 8)),
            st.builds(Fraction, st.integers(0, 60)),
        )
    )
    ids = [str(i) for i in draw(st.lists(st.integers(0, 40), unique=True, min_size=n, max_size=n))]
    raw = [draw(raw_ballot(vote_type, n)) for _ in range(draw(st.integers(0, max_voters)))]
    return make_election(costs, budget, raw, vote_type, ids), raw


@st.composite
def tie_breaks(draw: st.DrawFn, election: Election) -> TieBreak:
    kind = draw(st.sampled_from(["id", "default", "random"]))
    if kind == "id":
        return TieBreak.by_id(election)
    if kind == "default":
        return TieBreak.default(election, draw(st.text("abc123", max_size=4)))
    perm = draw(st.permutations(range(election.n_projects)))
    return TieBreak(tuple(perm), "random")


def applicable_rules(election: Election) -> list[str]:
    if election.vote_type in ("approval", "choose-1"):
        return list(RULE_NAMES)
    return [r for r in RULE_NAMES if r != "phragmen"]


def satisfactions(election: Election) -> list[Satisfaction]:
    if election.vote_type in CARDINAL:
        return ["cost", "cardinality", "points", "points-cost"]
    if election.vote_type == "ordinal":
        return ["cost", "cardinality", "borda"]
    return ["cost", "cardinality"]


def spent(election: Election, selected: Sequence[int]) -> Fraction:
    return sum((election.costs[j] for j in selected), Fraction(0))


def order_of(election: Election, outcome: Outcome) -> list[int]:
    """The greedy order, as project indices, from ``details["order"]`` (ids)."""
    ids = outcome.details["order"]
    assert isinstance(ids, list)
    return [election.ids.index(i) for i in ids]


def check_outcome(election: Election, outcome: Outcome) -> None:
    """The invariants every outcome keeps."""
    assert len(set(outcome.selected)) == len(outcome.selected)
    assert outcome.cost == spent(election, outcome.selected)
    assert outcome.cost <= election.budget
    assert len(outcome.explanations) == election.n_projects
    chosen = set(outcome.selected)
    for j, explanation in enumerate(outcome.explanations):
        assert explanation.project == j
        assert explanation.funded == (j in chosen)
        assert (explanation.code == "funded") == explanation.funded
        assert explanation.nl and explanation.en
        json.dumps(explanation.data)  # plain data only


# --------------------------------------------------------------------------- twins


def density_key(welfare: Fraction, cost: Fraction) -> tuple[int, Fraction]:
    if welfare > 0:
        return (1, Fraction(0)) if cost == 0 else (0, welfare / cost)
    return (0, Fraction(0))


def greedy_twin(
    election: Election,
    tie_break: TieBreak,
    satisfaction: Satisfaction,
    eligible: set[int] | None = None,
    groups: Sequence[GroupBudget] = (),
) -> list[int]:
    """pabutools' generic greedy scheme: each round, the feasible project of best density."""
    welfare = project_welfare(election, satisfaction)
    chosen: list[int] = []
    pool = set(range(election.n_projects)) if eligible is None else set(eligible)
    while True:

        def fits(j: int) -> bool:
            if spent(election, chosen) + election.costs[j] > election.budget:
                return False
            for group in groups:
                if j in group.projects:
                    used = spent(election, [k for k in chosen if k in group.projects])
                    if used + election.costs[j] > group.budget:
                        return False
            return True

        feasible = [j for j in pool if fits(j)]
        if not feasible:
            return chosen
        best = max(density_key(welfare[j], election.costs[j]) for j in feasible)
        tied = [j for j in feasible if density_key(welfare[j], election.costs[j]) == best]
        pick = tie_break.first(tied)
        chosen.append(pick)
        pool.discard(pick)


def phragmen_twin(election: Election, tie_break: TieBreak) -> list[int]:
    """Sequential Phragmén with one entry per voter, loads recomputed from scratch."""
    voters: list[set[int]] = []
    for ballot in election.ballots:
        voters.extend(set(ballot.projects) for _ in range(ballot.weight))
    load = [Fraction(0)] * len(voters)
    remaining = {j for j in range(election.n_projects) if election.costs[j] <= election.budget}
    chosen: list[int] = []
    total = Fraction(0)
    infinity = (1, Fraction(0))
    while remaining:
        values: dict[int, tuple[int, Fraction]] = {}
        for j in remaining:
            supporters = [i for i, b in enumerate(voters) if j in b]
            if not supporters:
                values[j] = infinity
            else:
                values[j] = (
                    0,
                    (sum((load[i] for i in supporters), Fraction(0)) + election.costs[j])
                    / len(supporters),
                )
        lowest = min(values.values())
        tied = [j for j in remaining if values[j] == lowest]
        if any(total + election.costs[j] > election.budget for j in tied):
            return chosen
        pick = tie_break.first(tied)
        for i, b in enumerate(voters):
            if pick in b:
                load[i] = lowest[1]
        chosen.append(pick)
        total += election.costs[pick]
        remaining.discard(pick)
    return chosen


def brute_max_welfare(
    election: Election, tie_break: TieBreak, satisfaction: Satisfaction
) -> tuple[Fraction, set[int]]:
    """The highest welfare over all subsets, and the set the tie-break prefers among them."""
    welfare = project_welfare(election, satisfaction)
    useful = [j for j in range(election.n_projects) if welfare[j] > 0]
    n = election.n_projects
    best: tuple[Fraction, int] = (Fraction(-1), -1)
    best_set: set[int] = set()
    for size in range(len(useful) + 1):
        for subset in itertools.combinations(useful, size):
            if spent(election, subset) > election.budget:
                continue
            value = sum((welfare[j] for j in subset), Fraction(0))
            mask = sum(1 << (n - 1 - tie_break.rank[j]) for j in subset)
            if (value, mask) > best:
                best = (value, mask)
                best_set = set(subset)
    return best[0], best_set


# --------------------------------------------------------------------------- every rule


@SETTINGS
@given(data=st.data())
def test_every_outcome_fits_the_budget_and_explains_every_project(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    for rule in applicable_rules(election):
        outcome = run_rule(election, rule, tie_break)
        assert outcome.rule == rule
        check_outcome(election, outcome)


@SETTINGS
@given(data=st.data())
def test_voter_order_and_merging_change_nothing(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    split = [replace(b, weight=1) for b in election.ballots for _ in range(b.weight)]
    data.draw(st.randoms()).shuffle(split)
    unmerged = replace(election, ballots=tuple(split))
    assert unmerged.points_total() == election.points_total()
    for rule in applicable_rules(election):
        assert run_rule(unmerged, rule, tie_break) == run_rule(election, rule, tie_break)


def test_identical_ballots_merge_like_separate_voters() -> None:
    once = make_election([4, 3, 3], 6, approvals([0], [0], [1, 2], [1, 2], [1]))
    assert sorted(b.weight for b in once.ballots) == [1, 2, 2]
    tie = TieBreak.by_id(once)
    split = replace(
        once, ballots=tuple(replace(b, weight=1) for b in once.ballots for _ in range(b.weight))
    )
    for rule in applicable_rules(once):
        assert run_rule(split, rule, tie).selected == run_rule(once, rule, tie).selected


# --------------------------------------------------------------------------- greedy


@SETTINGS
@given(data=st.data())
def test_greedy_is_pabutools_generic_scheme(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    satisfaction = data.draw(st.sampled_from(satisfactions(election)))
    outcome = greedy(election, tie_break, satisfaction=satisfaction)
    assert list(outcome.selected) == greedy_twin(election, tie_break, satisfaction)


@SETTINGS
@given(data=st.data())
def test_greedy_skip_is_exhaustive(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    for rule in ("greedy", "greedy-cardinality"):
        outcome = run_rule(election, rule, tie_break)
        left = election.budget - outcome.cost
        unfunded = set(range(election.n_projects)) - set(outcome.selected)
        assert all(election.costs[j] > left for j in unfunded)


@SETTINGS
@given(data=st.data())
def test_greedy_orders_by_votes_or_points_and_then_the_tie_break(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    outcome = greedy(election, tie_break)
    order = order_of(election, outcome)
    votes = election.points_total()
    costs = election.costs

    def key(j: int) -> tuple[Fraction, int]:
        # satisfaction per cost is votes (points) x cost / cost; a free project has none
        return (-votes[j] if costs[j] > 0 else Fraction(0), tie_break.rank[j])

    assert order == sorted(range(election.n_projects), key=key)
    for position, j in enumerate(order, start=1):
        assert outcome.explanations[j].data["rank"] == position


@SETTINGS
@given(data=st.data())
def test_greedy_no_skip_funds_the_longest_prefix_that_fits(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    outcome = greedy(election, tie_break, skip=False)
    assert outcome.rule == "greedy-no-skip"
    check_outcome(election, outcome)
    order = order_of(election, outcome)
    prefix: list[int] = []
    for j in order:
        if spent(election, prefix) + election.costs[j] > election.budget:
            break
        prefix.append(j)
    assert list(outcome.selected) == prefix
    codes = [outcome.explanations[j].code for j in order[len(prefix) :]]
    assert codes[:1] in ([], ["did-not-fit"])
    assert all(code == "stopped" for code in codes[1:])


@SETTINGS
@given(data=st.data(), threshold=st.integers(0, 12))
def test_greedy_never_funds_below_the_threshold(data: st.DataObject, threshold: int) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    outcome = greedy(election, tie_break, min_project_score_threshold=threshold)
    check_outcome(election, outcome)
    votes = election.points_total()
    eligible = {j for j in range(election.n_projects) if votes[j] >= threshold}
    assert set(outcome.selected) <= eligible
    satisfaction = default_satisfaction("greedy", election.vote_type)
    assert list(outcome.selected) == greedy_twin(election, tie_break, satisfaction, eligible)
    for j in set(range(election.n_projects)) - eligible:
        assert outcome.explanations[j].code == "below-threshold"


@st.composite
def group_budgets(draw: st.DrawFn, election: Election) -> list[GroupBudget]:
    groups = []
    for k in range(draw(st.integers(1, 3))):
        members = frozenset(
            draw(st.lists(st.integers(0, election.n_projects - 1), unique=True, min_size=1))
        )
        budget = draw(st.builds(Fraction, st.integers(0, 40)))
        kind: Literal["category", "neighbourhood"] = draw(
            st.sampled_from(["category", "neighbourhood"])
        )
        groups.append(GroupBudget(f"g{k}", budget, members, kind))
    return groups


@SETTINGS
@given(data=st.data())
def test_greedy_with_group_budgets(data: st.DataObject) -> None:
    election, _ = data.draw(elections())
    tie_break = data.draw(tie_breaks(election))
    groups = data.draw(group_budgets(election))
    satisfaction = default_satisfaction("greedy", election.vote_type)
    for skip in (True, False):
        outcome = greedy(election, tie_break, skip=skip, group_budgets=groups)
        check_outcome(election, outcome)
        for group in groups:
            used = spent(election, [j for j in outcome.selected if j in group.projects])
            assert used <= group.budget
            assert outcome.details["groups"][group.name]["spent"] == amount_text(used)  # type: ignore[index]
        if skip:
            assert list(outcome.selected) == greedy_twin(
                election, tie_break, satisfaction, groups=groups
            )
        else:
            assert list(outcome.selected) == no_skip_twin(election, outcome, groups)


def no_skip_twin(election: Election, outcome: Outcome, groups: Sequence[GroupBudget]) -> list[int]:
    """Down the order: fund what fits every open budget; a misfit closes the budgets it broke."""
    order = order_of(election, outcome)
    left = election.budget
    group_left = [g.budget for g in groups]
    open_total = True
    open_groups = [True] * len(groups)
    chosen = []
    for j in order:
        mine = [k for k, g in enumerate(groups) if j in g.projects]
        if not open_total or not all(open_groups[k] for k in mine):
            continue
        cost = election.costs[j]
        if cost > left:
            open_total = False
            continue
        broken = [k for k in mine if cost > group_left[k]]
        if broken:
            for k in broken:
                open_groups[k] = False
            continue
        left -= cost
        for k in mine:
            group_left[k] -= cost
        chosen.append(j)
    return chosen


def test_greedy_category_budget_blocks_a_project_that_fits_the_total() -> None:
    election = make_election([5, 4, 3], 20, approvals([0, 1, 2], [0, 1], [0]))
    groups = [GroupBudget("groen", Fraction(6), frozenset({0, 1}), "category")]
    outcome = greedy(election, TieBreak.by_id(election), group_budgets=groups)
    assert outcome.selected == (0, 2)
    blocked = outcome.explanations[1]
    assert blocked.code == "did-not-fit-group"
    assert blocked.data["group"] == "groen"
    assert "categorie groen" in blocked.nl and "category groen" in blocked.en
    assert "nog maar 1 over" in blocked.nl


def test_greedy_explains_rank_score_and_money_left() -> None:
    election = make_election([60, 50, 40], 100, approvals([0, 1], [0, 1], [0, 1], [1, 2]))
    outcome = greedy(election, TieBreak.by_id(election))
    assert outcome.selected == (1, 2)
    b, a, c = (outcome.explanations[j] for j in (1, 0, 2))
    assert b.data == {
        "rank": 1,
        "score": "4",
        "satisfaction": "cost",
        "votes": "4",
        "cost": "50",
        "budget_left": "100",
        "budget_left_after": "50",
    }
    assert a.code == "did-not-fit" and a.data["budget_left"] == "50" and a.data["rank"] == 2
    assert a.en == (
        "Not funded: ranked 2nd with 3 votes, but when its turn came only 50 was left and it "
        "costs 60."
    )
    assert a.nl == (
        "Niet gefinancierd: plaats 2 met 3 stemmen, maar toen het aan de beurt was, was er nog "
        "maar 50 over en het kost 60."
    )
    assert c.funded and c.data["budget_left"] == "50" and c.data["rank"] == 3
    assert "1 stem" in c.nl and "1 vote" in c.en


def test_greedy_cardinality_orders_by_votes_per_cost() -> None:
    election = make_election([60, 50, 10], 60, approvals([0, 1], [0, 1], [0, 1], [1, 2]))
    assert greedy(election, TieBreak.by_id(election)).selected == (1, 2)
    outcome = run_rule(election, "greedy-cardinality", TieBreak.by_id(election))
    assert outcome.selected == (2, 1)  # 1/10 > 4/50 > 3/60
    assert outcome.explanations[2].data["score"] == "0.1"
    assert "per eenheid van de kosten" in outcome.explanations[2].nl


def test_greedy_on_cumulative_ballots_orders_by_total_points() -> None:
    raw: list[Raw] = [
        ((0, 1), (Fraction(1), Fraction(9))),
        ((0, 2), (Fraction(5), Fraction(5))),
        ((0,), (Fraction(3),)),
    ]
    election = make_election([10, 10, 10], 20, raw, "cumulative")
    outcome = greedy(election, TieBreak.by_id(election))
    assert outcome.details["satisfaction"] == "points-cost"
    # points: p0 = 9, p1 = 9, p2 = 5; the tie between p0 and p1 goes to the smaller id
    assert outcome.details["order"] == ["p0", "p1", "p2"]
    assert outcome.selected == (0, 1)
    assert "9 punten" in outcome.explanations[0].nl and "9 points" in outcome.explanations[0].en


def test_greedy_follows_pabutools_on_zero_votes_and_zero_cost() -> None:
    # a project nobody chose still gets money that is left (density 0, like pabutools)
    election = make_election([5, 0, 3], 10, approvals([0], [0], [1]))
    tie = TieBreak.by_id(election)
    outcome = greedy(election, tie)
    # Cost_Sat: a free project gives no satisfaction, so its density is 0, not infinite
    assert outcome.selected == (0, 1, 2)
    assert outcome.explanations[1].data["score"] == "0"
    assert outcome.explanations[2].data["score"] == "0"
    # Cardinality_Sat: 1 vote at cost 0 is pabutools' inf: first of all
    cardinality = run_rule(election, "greedy-cardinality", tie)
    assert cardinality.selected == (1, 0, 2)
    assert cardinality.explanations[1].data["score"] == "inf"


def test_greedy_is_exact_with_decimal_costs() -> None:
    election = make_election(
        [Fraction("0.1"), Fraction("0.2"), Fraction("0.3")], Fraction("0.6"), approvals([0, 1, 2])
    )
    for rule in ("greedy", "greedy-cardinality", "max-welfare", "phragmen"):
        outcome = run_rule(election, rule, TieBreak.by_id(election))
        assert sorted(outcome.selected) == [0, 1, 2], rule  # 0.1 + 0.2 + 0.3 == 0.6 exactly
        assert outcome.cost == Fraction("0.6")


# --------------------------------------------------------------------------- max welfare


@SETTINGS
@given(data=st.data())
def test_max_welfare_equals_brute_force(data: st.DataObject) -> None:
    election, _ = data.draw(elections(max_projects=8))
    tie_break = data.draw(tie_breaks(election))
    satisfaction = data.draw(st.sampled_from(satisfactions(election)))
    outcome = max_welfare(election, tie_break, satisfaction=satisfaction)
    check_outcome(election, outcome)
    value, chosen = brute_max_welfare(election, tie_break, satisfaction)
    assert outcome.details["welfare"] == amount_text(value)
    assert set(outcome.selected) == chosen
    assert list(outcome.selected) == sorted(chosen, key=lambda j: tie_break.rank[j])


def test_max_welfare_beats_greedy_where_greedy_wastes_money() -> None:
    election = make_election([6, 5, 5], 10, approvals(*[[0]] * 5, *[[1, 2]] * 4))
    tie = TieBreak.by_id(election)
    assert greedy(election, tie).selected == (0,)
    outcome = max_welfare(election, tie)
    assert outcome.selected == (1, 2)
    assert outcome.details["welfare"] == "40"
    a = outcome.explanations[0]
    assert a.code == "not-in-optimum" and a.data["welfare"] == "30"
    assert "40" in a.nl and "40" in a.en


def test_max_welfare_breaks_ties_by_the_tie_break() -> None:
    # four identical projects, room for two: the two that come first in the order
    election = make_election([3, 3, 3, 3], 7, approvals([0, 1, 2, 3]), ids=["d", "c", "b", "a"])
    assert set(max_welfare(election, TieBreak.by_id(election)).selected) == {3, 2}
    order = TieBreak((2, 0, 3, 1), "test")
    assert max_welfare(election, order).selected == (1, 3)


def test_max_welfare_never_funds_projects_without_welfare() -> None:
    election = make_election([1, 1, 50], 10, approvals([0]))
    outcome = max_welfare(election, TieBreak.by_id(election))
    assert outcome.selected == (0,)
    assert outcome.explanations[1].code == "no-support"
    assert outcome.explanations[2].code in ("no-support", "too-expensive")


def _meet_in_the_middle(costs: Sequence[int], welfare: Sequence[int], budget: int) -> int:
    half = len(costs) // 2

    def sums(indices: range) -> list[tuple[int, int]]:
        out = []
        for size in range(len(indices) + 1):
            for subset in itertools.combinations(indices, size):
                out.append((sum(costs[j] for j in subset), sum(welfare[j] for j in subset)))
        return out

    right = sorted(sums(range(half, len(costs))))
    best_upto: list[int] = []
    running = -1
    for _, value in right:
        running = max(running, value)
        best_upto.append(running)
    right_costs = [c for c, _ in right]
    import bisect

    best = 0
    for cost, value in sums(range(half)):
        if cost <= budget:
            k = bisect.bisect_right(right_costs, budget - cost) - 1
            best = max(best, value + best_upto[k])
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_max_welfare_is_exact_and_quick_with_large_costs(seed: int) -> None:
    rng = random.Random(seed)
    n = 20
    costs = [rng.randrange(10**9, 10**12) for _ in range(n)]
    raw = [(tuple(sorted(rng.sample(range(n), rng.randint(1, 6)))), None) for _ in range(300)]
    election = make_election(costs, sum(costs) // 3, raw)
    welfare = [int(w) for w in project_welfare(election, "cost")]
    started = time.perf_counter()
    outcome = max_welfare(election, TieBreak.by_id(election))
    assert time.perf_counter() - started < 10
    best = _meet_in_the_middle(costs, welfare, sum(costs) // 3)
    assert outcome.details["welfare"] == str(best)
    check_outcome(election, outcome)


def test_max_welfare_handles_many_projects() -> None:
    rng = random.Random(7)
    n = 60
    costs = [rng.randrange(1, 400) * 1000 for _ in range(n)]
    raw = [(tuple(sorted(rng.sample(range(n), rng.randint(1, 8)))), None) for _ in range(2000)]
    election = make_election(costs, sum(costs) // 4, raw)
    started = time.perf_counter()
    outcome = max_welfare(election, TieBreak.by_id(election))
    assert time.perf_counter() - started < 20
    check_outcome(election, outcome)
    greedy_value = sum(
        (
            project_welfare(election, "cost")[j]
            for j in greedy(election, TieBreak.by_id(election)).selected
        ),
        Fraction(0),
    )
    assert Fraction(str(outcome.details["welfare"])) >= greedy_value


# --------------------------------------------------------------------------- Phragmén


@SETTINGS
@given(data=st.data())
def test_phragmen_equals_the_per_voter_twin(data: st.DataObject) -> None:
    election, _ = data.draw(elections(vote_types=("approval", "choose-1")))
    tie_break = data.draw(tie_breaks(election))
    outcome = sequential_phragmen(election, tie_break)
    check_outcome(election, outcome)
    assert list(outcome.selected) == phragmen_twin(election, tie_break)


def test_phragmen_float_loads_decide_like_exact_ones() -> None:
    """Larger electorates with costs in thirds and sevenths (loads with long denominators, and
    exact ties between loads reached by different purchases): the float loads with their error
    bounds pick the same projects, in the same order, as the per-voter twin in Fractions."""
    rng = random.Random(11)
    for _ in range(40):
        m = rng.randint(4, 10)
        costs = [Fraction(rng.randint(1, 60), rng.choice([1, 3, 7])) for _ in range(m)]
        if rng.random() < 0.5:  # equal costs: equal loads come up often
            costs = [costs[0]] * m
        raw = [
            (tuple(sorted(rng.sample(range(m), rng.randint(1, 3)))), None)
            for _ in range(rng.randint(20, 80))
        ]
        election = make_election(costs, sum(costs) * Fraction(rng.randint(3, 9), 10), raw)
        tie_break = TieBreak.by_id(election)
        outcome = sequential_phragmen(election, tie_break)
        assert list(outcome.selected) == phragmen_twin(election, tie_break), election


def test_phragmen_breaks_an_exact_tie_that_floats_miss() -> None:
    # voters x, y, z buy p0, p1, p2 alone at loads 1/10, 2/10, 3/10; then p3 (x and y, cost
    # 23/10) and p4 (z, cost 1) both need a load of exactly 13/10, but in floats
    # 0.1 + 0.2 + 2.3 is above 0.3 + 1: the tie-break, not the rounding, must decide
    costs = [Fraction(1, 10), Fraction(2, 10), Fraction(3, 10), Fraction(23, 10), Fraction(1)]
    election = make_election(costs, sum(costs), approvals((0, 3), (1, 3), (2, 4)))
    assert sequential_phragmen(election, TieBreak.by_id(election)).selected == (0, 1, 2, 3, 4)
    order = TieBreak((0, 1, 2, 4, 3), "test")
    assert sequential_phragmen(election, order).selected == (0, 1, 2, 4, 3)


@SETTINGS
@given(data=st.data())
def test_phragmen_stops_only_when_the_next_project_does_not_fit(data: st.DataObject) -> None:
    election, _ = data.draw(elections(vote_types=("approval", "choose-1")))
    tie_break = data.draw(tie_breaks(election))
    outcome = sequential_phragmen(election, tie_break)
    left = election.budget - outcome.cost
    affordable = {j for j in range(election.n_projects) if election.costs[j] <= election.budget}
    stoppers = [e for e in outcome.explanations if e.code == "did-not-fit"]
    if affordable <= set(outcome.selected):
        assert stoppers == []
    else:
        assert stoppers
        assert all(election.costs[e.project] > left for e in stoppers)
        assert outcome.details["stopped_at"] == [
            election.ids[e.project]
            for e in sorted(stoppers, key=lambda e: tie_break.rank[e.project])
        ]
    for j in outcome.selected:  # loads only rise, and a bought project's load is its round's
        assert outcome.explanations[j].data["round"] == outcome.selected.index(j) + 1
    loads = [outcome.explanations[j].data["load"] for j in outcome.selected]
    supported = [Fraction(str(load)) for load in loads if load is not None]
    assert supported == sorted(supported)


def test_phragmen_explains_loads_and_the_stop() -> None:
    election = make_election([6, 5, 4], 10, approvals(*[[0, 1]] * 3, [1, 2]))
    outcome = sequential_phragmen(election, TieBreak.by_id(election))
    assert outcome.selected == (1,)
    b = outcome.explanations[1]
    assert b.data["load"] == "1.25" and b.data["round"] == 1 and b.data["supporters"] == 4
    assert "1.25" in b.nl and "4 voorstanders" in b.nl and "4 supporters" in b.en
    a = outcome.explanations[0]
    assert a.code == "did-not-fit" and a.data["load"] == "3.25"
    c = outcome.explanations[2]
    assert c.code == "stopped" and c.data["stopped_at"] == "p0" and c.data["load"] == "5.25"
    assert outcome.details["max_load"] == "1.25"


def test_phragmen_is_proportional_where_greedy_is_not() -> None:
    # 6 voters want a, b (costs 1); 4 voters want c, d; budget 2: greedy gives a and b, Phragmén
    # gives each group a project (Los, Christoff and Grossi 2022)
    raw = approvals(*[[0, 1]] * 6, *[[2, 3]] * 4)
    election = make_election([1, 1, 1, 1], 2, raw)
    tie = TieBreak.by_id(election)
    assert greedy(election, tie).selected == (0, 1)
    assert sequential_phragmen(election, tie).selected == (0, 2)


def test_phragmen_breaks_ties_by_the_tie_break() -> None:
    election = make_election([2, 2, 2], 4, approvals([0], [1], [2]), ids=["x", "y", "z"])
    assert sequential_phragmen(election, TieBreak((2, 1, 0), "test")).selected == (2, 1)
    assert sequential_phragmen(election, TieBreak.by_id(election)).selected == (0, 1)


def test_phragmen_rejects_ballots_that_are_not_approvals() -> None:
    election = make_election([1], 1, [((0,), (Fraction(1),))], "cumulative")
    with pytest.raises(RuleError) as caught:
        sequential_phragmen(election, TieBreak.by_id(election))
    assert caught.value.code == "wrong-vote-type"


# --------------------------------------------------------------------------- tie-breaking, names


@SETTINGS
@given(n=st.integers(2, 6), data=st.data())
def test_symmetric_projects_follow_the_tie_break(n: int, data: st.DataObject) -> None:
    election = make_election([3] * n, 3 * (n - 1), approvals(list(range(n))))
    perm = tuple(data.draw(st.permutations(range(n))))
    order = TieBreak(perm, "test")
    expected = tuple(sorted(range(n), key=lambda j: perm[j])[: n - 1])
    assert greedy(election, order).selected == expected
    assert greedy(election, order, skip=False).selected == expected
    assert sequential_phragmen(election, order).selected == expected
    assert max_welfare(election, order).selected == expected


def test_by_id_compares_ids_as_strings_like_pabutools() -> None:
    election = make_election([1, 1], 1, approvals([0, 1]), ids=["9", "10"])
    for rule in RULE_NAMES:
        assert run_rule(election, rule, TieBreak.by_id(election)).selected == (1,), rule


def test_unknown_rule_and_wrong_satisfaction_are_errors() -> None:
    election = make_election([1], 1, approvals([0]))
    with pytest.raises(RuleError) as caught:
        run_rule(election, "borda-greedy", TieBreak.by_id(election))
    assert caught.value.code == "unknown-rule"
    with pytest.raises(RuleError) as caught:
        greedy(election, TieBreak.by_id(election), satisfaction="points")
    assert caught.value.code == "wrong-vote-type"
    with pytest.raises(RuleError) as caught:
        max_welfare(election, TieBreak.by_id(election), satisfaction="happiness")  # type: ignore[arg-type]
    assert caught.value.code == "unknown-satisfaction"


def test_borda_satisfaction_for_ordinal_ballots() -> None:
    raw: list[Raw] = [((0, 1, 2), None), ((1, 0, 2), None), ((1, 2), None)]
    election = make_election([1, 1, 1], 1, raw, "ordinal")
    assert [str(w) for w in project_welfare(election, "borda")] == ["3", "4", "0"]
    assert greedy(election, TieBreak.by_id(election), satisfaction="borda").selected == (1,)


def test_amount_text() -> None:
    assert amount_text(Fraction(-5, 4)) == "-1.25"
    assert amount_text(Fraction(1, 1000)) == "0.001"
    assert amount_text(Fraction(2, 3)) == "2/3"
    assert amount_text(Fraction(0)) == "0"


def test_rules_module_has_no_print_and_no_outer_layer() -> None:
    import ast

    import budgeting.rules

    tree = ast.parse(Path(budgeting.rules.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "print"
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in ("service", "typer", "rich")


# --------------------------------------------------------------------------- stadmaken pb

pb_app = typer.Typer(add_completion=False)


@pb_app.callback()
def _main() -> None:
    """A stand-in for the stadmaken app (the command is a subcommand there too)."""


pb_app.command("pb")(pb_command)
runner = CliRunner()


def pb_text(
    projects: Sequence[tuple[str, str, str]],
    votes: Sequence[str],
    *,
    budget: str,
    vote_type: str = "approval",
    points: Sequence[str] | None = None,
    meta: Sequence[tuple[str, str]] = (),
    category: Sequence[str] | None = None,
) -> str:
    """A pabulib file: projects as (id, cost, name), votes as comma-separated ids."""
    lines = ["META", "key;value", f"budget;{budget}", f"vote_type;{vote_type}"]
    lines += [f"num_projects;{len(projects)}", f"num_votes;{len(votes)}"]
    lines += [f"{k};{v}" for k, v in meta]
    lines += ["PROJECTS", "project_id;cost;name" + (";category" if category else "")]
    for k, (pid, cost, name) in enumerate(projects):
        lines.append(f"{pid};{cost};{name}" + (f";{category[k]}" if category else ""))
    lines += ["VOTES", "voter_id;vote" + (";points" if points is not None else "")]
    for k, vote in enumerate(votes):
        lines.append(f"v{k};{vote}" + (f";{points[k]}" if points is not None else ""))
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "wijk.pb") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def wijk(tmp_path: Path) -> Path:
    projects = [
        ("1", "60000", "Speeltuin"),
        ("2", "50000.50", "Bankjes"),
        ("3", "40000", "Bomen"),
        ("4", "10000", "Moestuin"),
    ]
    votes = ["1,2", "1,2", "1,2", "2,3", "3,4", "4"]
    return write(tmp_path, pb_text(projects, votes, budget="100000.50"))


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(pb_app, ["pb", *args])
    return result.exit_code, result.stdout, result.stderr


def test_pb_json_has_selected_cost_and_explanations(wijk: Path) -> None:
    code, out, err = invoke(str(wijk), "--rule", "greedy", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    # votes: 1 -> 3, 2 -> 4, 3 -> 2, 4 -> 2; greedy by votes: 2, then 1 does not fit
    # (110000.50 > budget), then the tie of 3 and 4 goes to the cheaper one (default order)
    assert document["selected"] == ["2", "4", "3"]
    assert document["cost"] == "100000.5"
    assert document["budget"] == "100000.5"
    assert document["vote_type"] == "approval" and document["voters"] == 6
    by_id = {p["id"]: p for p in document["projects"]}
    assert set(by_id) == {"1", "2", "3", "4"}
    assert by_id["1"]["funded"] is False and by_id["1"]["code"] == "did-not-fit"
    assert by_id["2"]["name"] == "Bankjes" and by_id["2"]["cost"] == "50000.5"
    assert by_id["2"]["data"]["rank"] == 1 and by_id["2"]["data"]["budget_left"] == "100000.5"
    assert by_id["1"]["nl"].startswith("Niet gefinancierd") and by_id["1"]["en"]
    assert document["tie_break"] == {"name": "default", "seed": ""}


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_pb_every_rule_of_this_module_matches_the_library(wijk: Path, rule: str) -> None:
    from budgeting.pabulib import read_pb, to_election

    election = to_election(*read_pb(wijk))
    expected = run_rule(election, rule, TieBreak.by_id(election))
    code, out, err = invoke(str(wijk), "--rule", rule, "--tie-break", "id", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["selected"] == [election.ids[j] for j in expected.selected]
    assert document["cost"] == amount_text(expected.cost)
    assert document["tie_break"]["name"] == "id"


def test_pb_table_is_a_readable_report(wijk: Path) -> None:
    code, out, err = invoke(str(wijk), "--rule", "max-welfare")
    assert code == 0, err
    assert "projects funded with max-welfare" in out
    assert "Speeltuin" in out and "Moestuin" in out
    assert "funded" in out and "--explain" in out
    assert err == ""


def test_pb_explain_prints_dutch_and_english(wijk: Path) -> None:
    code, out, err = invoke(str(wijk), "--explain", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Project 1 (Speeltuin):"
    assert lines[1].startswith("nl: Niet gefinancierd: plaats 2 met 3 stemmen")
    assert lines[2].startswith("en: Not funded: ranked 2nd with 3 votes")
    code, out, _ = invoke(str(wijk), "--explain", "4", "--format", "json", "--rule", "phragmen")
    assert code == 0
    document = json.loads(out)
    assert document["id"] == "4" and document["rule"] == "phragmen"
    assert {"nl", "en", "funded", "code", "data"} <= set(document)


def test_pb_tie_break_id_and_default_differ(tmp_path: Path) -> None:
    projects = [("1", "60", "Duur"), ("2", "50", "Goedkoop")]
    path = write(tmp_path, pb_text(projects, ["1", "2"], budget="60"))
    code, out, _ = invoke(str(path), "--tie-break", "id", "--format", "json")
    assert code == 0 and json.loads(out)["selected"] == ["1"]  # smallest id first
    code, out, _ = invoke(str(path), "--format", "json")
    assert code == 0 and json.loads(out)["selected"] == ["2"]  # lower cost first


def test_pb_seed_decides_only_a_complete_tie(tmp_path: Path) -> None:
    projects = [(str(k), "10", f"P{k}") for k in range(1, 9)]
    path = write(tmp_path, pb_text(projects, [str(k) for k in range(1, 9)], budget="10"))
    winners = set()
    for seed in ("a", "b", "c", "d", "e", "f"):
        code, out, _ = invoke(str(path), "--seed", seed, "--format", "json")
        assert code == 0
        document = json.loads(out)
        assert document["tie_break"]["seed"] == seed
        winners.add(tuple(document["selected"]))
    assert len(winners) > 1  # the lot decides
    code, out, err = invoke(str(path), "--seed", "a", "--tie-break", "id", "--format", "json")
    assert code == 0 and json.loads(out)["selected"] == ["1"]
    assert "--seed only applies" in err


def test_pb_city_limits_apply_threshold_and_category_budgets(tmp_path: Path) -> None:
    projects = [("1", "50", "A"), ("2", "40", "B"), ("3", "30", "C"), ("4", "5", "D")]
    text = pb_text(
        projects,
        ["1,2", "1,2", "1,2,3", "3", "3,4"],
        budget="200",
        category=["groen", "groen", "verkeer", "verkeer"],
        meta=[
            ("categories", "groen,verkeer"),
            ("budget_per_category", "60,100"),
            ("min_project_score_threshold", "2"),
        ],
    )
    path = write(tmp_path, text)
    code, out, _ = invoke(str(path), "--format", "json")
    # 1, 2 and 3 have 3 votes each: cheapest first; everything fits 200
    assert code == 0 and json.loads(out)["selected"] == ["3", "2", "1", "4"]
    code, out, err = invoke(str(path), "--city-limits", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["selected"] == ["3", "2"]  # 1 breaks groen's 60; 4 has 1 vote < 2
    codes = {p["id"]: p["code"] for p in document["projects"]}
    assert codes == {
        "1": "did-not-fit-group",
        "2": "funded",
        "3": "funded",
        "4": "below-threshold",
    }
    code, _, err = invoke(str(path), "--city-limits", "--rule", "max-welfare")
    assert code == 0 and "--city-limits only applies" in err


def test_pb_cumulative_file(tmp_path: Path) -> None:
    projects = [("a", "10", "A"), ("b", "10", "B"), ("c", "10", "C")]
    text = pb_text(
        projects,
        ["a,b", "a,c", "a"],
        budget="20",
        vote_type="cumulative",
        points=["1,9", "5,5", "3"],
    )
    path = write(tmp_path, text)
    code, out, err = invoke(str(path), "--tie-break", "id", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["selected"] == ["a", "b"]
    assert [p["votes"] for p in document["projects"]] == ["9", "9", "5"]
    code, out, err = invoke(str(path), "--rule", "phragmen")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "approval or choose-1" in err


def test_pb_mes_rules_come_from_budgeting_mes(wijk: Path) -> None:
    import importlib.util

    code, out, err = invoke(str(wijk), "--rule", "mes", "--format", "json")
    if importlib.util.find_spec("budgeting.mes") is None:
        assert code == 1 and err.startswith("error: ") and "budgeting.mes" in err
        return
    assert code == 0, err
    document = json.loads(out)
    assert Fraction(document["cost"]) <= Fraction(document["budget"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.pb"], "missing.pb"),
        (["."], "folder"),
        (["wijk.pb", "--rule", "borda"], "unknown rule 'borda'"),
        (["wijk.pb", "--tie-break", "random"], "unknown tie-break 'random'"),
        (["wijk.pb", "--explain", "99"], "no project with id '99'"),
        (["broken.pb"], "broken.pb"),
        (["binary.pb"], "binary.pb"),
    ],
)
def test_pb_bad_input_is_one_error_line_and_exit_2(
    wijk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    write(tmp_path, "META\nkey;value\nbudget;ten\nvote_type;approval\n", "broken.pb")
    (tmp_path / "binary.pb").write_bytes(b"\xff\xfe\x00META\x00\x81")
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(*args)
    assert code == 2, err
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
