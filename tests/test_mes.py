"""The Method of Equal Shares (budgeting.mes): properties, brute force, hand-computed examples.

The fast engine (certified floats, exact payments, Add1 step skipping) is compared with the
plain exact procedure (``engine="reference"``, pabutools' loop over Fractions) and with a
step-by-step Add1 built on it. Outcomes of MES satisfy EJR up to one project (Peters,
Pierczyński and Skowron, "Proportional participatory budgeting with additive utilities",
NeurIPS 2021, arXiv:2008.13276), checked by brute force over all project sets.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgeting import mes
from budgeting.election import Election, TieBreak, WeightedBallot
from budgeting.mes_band import Band
from budgeting.rules import RuleError

F = Fraction
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- generated data

Voter = tuple[tuple[int, ...], tuple[Fraction, ...] | None]


def build(
    costs: Sequence[Fraction | int],
    budget: Fraction | int,
    voters: Sequence[Voter],
    vote_type: str = "approval",
    *,
    merge: bool = True,
) -> Election:
    """An election from individual voters: merged and in canonical order (as
    ``pabulib.to_election`` makes it), or one row per voter in the order given."""
    ids = tuple(f"p{j}" for j in range(len(costs)))
    if merge:
        counts = Counter(voters)
        rows = tuple(
            WeightedBallot(projects, points, weight)
            for (projects, points), weight in sorted(
                counts.items(), key=lambda item: (item[0][0], item[0][1] or ())
            )
        )
    else:
        rows = tuple(WeightedBallot(projects, points, 1) for projects, points in voters)
    return Election(ids, tuple(F(c) for c in costs), F(budget), vote_type, rows)  # type: ignore[arg-type]


@st.composite
def instances(draw: st.DrawFn, vote_type: str = "approval") -> tuple[list[F], F, list[Voter]]:
    m = draw(st.integers(1, 6))
    costs = [F(draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 10]))) for _ in range(m)]
    budget = F(draw(st.integers(0, 24)))
    n = draw(st.integers(1, 10))
    voters: list[Voter] = []
    for _ in range(n):
        projects = tuple(sorted(draw(st.sets(st.integers(0, m - 1), max_size=m))))
        if vote_type == "cumulative":
            points = tuple(F(draw(st.sampled_from([1, 2, 3]))) for _ in projects)
            voters.append((projects, points))
        else:
            voters.append((projects, None))
    return costs, budget, voters


def random_election(rng: random.Random, vote_type: str = "approval") -> Election:
    m = rng.randint(1, 7)
    costs = [F(rng.choice([0, 1, 2, 3, 4, 5, 6, 10, 15])) for _ in range(m)]
    voters: list[Voter] = []
    for _ in range(rng.randint(1, 12)):
        projects = tuple(sorted(rng.sample(range(m), rng.randint(0, m))))
        points = (
            tuple(F(rng.choice([1, 2, 3, F(1, 2)])) for _ in projects)
            if vote_type == "cumulative"
            else None
        )
        voters.append((projects, points))
    return build(costs, rng.randint(0, 25) * rng.choice([1, 1, 3, 10]), voters, vote_type)


def larger_election(rng: random.Random, vote_type: str = "approval") -> Election:
    """More voters, and costs whose shares floats cannot hold exactly."""
    m = rng.randint(3, 9)
    costs = [F(rng.randint(1, 1000), rng.choice([1, 3, 7])) for _ in range(m)]
    voters: list[Voter] = []
    for _ in range(rng.randint(20, 60)):
        projects = tuple(sorted(rng.sample(range(m), rng.randint(1, m))))
        points = (
            tuple(F(rng.randint(1, 5)) for _ in projects) if vote_type == "cumulative" else None
        )
        voters.append((projects, points))
    return build(costs, sum(costs) * F(rng.randint(2, 8), 10), voters, vote_type)


def satisfactions(vote_type: str) -> list[mes.MESSatisfaction]:
    return (
        ["cost", "cardinality", "points"] if vote_type == "cumulative" else ["cost", "cardinality"]
    )


def reference_add1(election: Election, satisfaction: mes.MESSatisfaction) -> list[int]:
    """pabutools' exhaustion_by_budget_increase(budget_step=n) on the reference engine."""
    prep = mes._Prepared(election, satisfaction)
    rank = TieBreak.by_id(election).rank
    budget, n = election.budget, election.n_voters
    previous: list[int] = []
    for k in range(math.floor(budget) + 1):
        selected = mes._reference_mes(prep, budget / n + k, rank)
        cost = sum((election.costs[j] for j in selected), F(0))
        if cost > budget:
            return previous
        left = budget - cost
        if all(election.costs[j] > left for j in range(election.n_projects) if j not in selected):
            return selected
        previous = selected
    return previous


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(instances(), st.sampled_from(mes.MES_RULES), st.sampled_from(["cost", "cardinality"]))
def test_outcome_fits_the_budget(data, rule, satisfaction) -> None:
    costs, budget, voters = data
    e = build(costs, budget, voters)
    out = mes.run_mes_rule(e, rule, TieBreak.by_id(e), satisfaction=satisfaction)
    assert out.cost <= e.budget
    assert out.cost == sum((e.costs[j] for j in out.selected), F(0))
    assert len(set(out.selected)) == len(out.selected)
    assert [x.project for x in out.explanations] == list(range(e.n_projects))
    assert {x.project for x in out.explanations if x.funded} == set(out.selected)
    assert all(x.nl and x.en for x in out.explanations)


@SETTINGS
@given(instances("cumulative"), st.sampled_from(["mes", "mes-add1", "mes-add1-greedy"]))
def test_points_outcome_fits_the_budget(data, rule) -> None:
    costs, budget, voters = data
    e = build(costs, budget, voters, "cumulative")
    out = mes.run_mes_rule(e, rule, TieBreak.by_id(e))
    assert out.cost <= e.budget
    assert out.details["satisfaction"] == "points"


@SETTINGS
@given(instances(), st.randoms(use_true_random=False), st.sampled_from(mes.MES_RULES[:4]))
def test_invariant_to_voter_order_and_merging(data, rnd, rule) -> None:
    costs, budget, voters = data
    merged = build(costs, budget, voters)
    shuffled = list(voters)
    rnd.shuffle(shuffled)
    loose = build(costs, budget, shuffled, merge=False)  # one row per voter, any order
    a = mes.run_mes_rule(merged, rule, TieBreak.by_id(merged))
    b = mes.run_mes_rule(loose, rule, TieBreak.by_id(loose))
    assert a.selected == b.selected
    assert a.details["rounds"] == b.details["rounds"]


def ejr_up_to_one_violation(
    e: Election, selected: Sequence[int], satisfaction: str
) -> tuple[int, ...] | None:
    """A project set T whose cohesive group is not served, by brute force (PPS21, Def. of EJR up
    to one project): a group S of voters who all approve T with |S| / n >= cost(T) / budget
    such that for every i in S, u_i(W) < u_i(T) and u_i(W) + u_i(a) <= u_i(T) for every a in T
    outside W. The failing voters for T form such a group if they are numerous enough."""
    chosen = set(selected)

    def u(j: int) -> F:
        return e.costs[j] if satisfaction == "cost" else F(1)

    for size in range(1, e.n_projects + 1):
        for group in itertools.combinations(range(e.n_projects), size):
            needed = sum((e.costs[j] for j in group), F(0)) * e.n_voters
            u_t = sum((u(j) for j in group), F(0))
            failing = 0
            for ballot in e.ballots:
                approved = set(ballot.projects)
                if not set(group) <= approved:
                    continue
                u_w = sum((u(j) for j in approved & chosen), F(0))
                if u_w >= u_t or any(u_w + u(j) > u_t for j in group if j not in chosen):
                    continue
                failing += ballot.weight
            if failing and needed <= failing * e.budget:
                return group
    return None


@SETTINGS
@given(
    instances(),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["none", "add1"]),
)
def test_mes_is_ejr_up_to_one(data, satisfaction, completion) -> None:
    """Peters, Pierczyński and Skowron (NeurIPS 2021): MES satisfies EJR up to one project; with
    Add1 the voters' money is larger, so groups cohesive for the real budget are still served."""
    costs, budget, voters = data
    e = build(costs, budget, voters)
    out = mes.method_of_equal_shares(
        e, TieBreak.by_id(e), satisfaction=satisfaction, completion=completion
    )
    assert ejr_up_to_one_violation(e, out.selected, satisfaction) is None


# --------------------------------------------------------------------------- fast = exact


@pytest.mark.parametrize("seed", range(4))
def test_fast_engine_equals_reference(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(250):
        vote_type = rng.choice(["approval", "approval", "cumulative"])
        e = random_election(rng, vote_type)
        tb = TieBreak.by_id(e) if rng.random() < 0.7 else TieBreak.default(e, seed=str(seed))
        for satisfaction in satisfactions(vote_type):
            b0 = e.budget / e.n_voters + rng.choice([0, 0, 1, 3, F(1, 3)])
            fast = mes.equal_shares(e, tb, satisfaction=satisfaction, budget_per_voter=b0)
            slow = mes.equal_shares(
                e, tb, satisfaction=satisfaction, budget_per_voter=b0, engine="reference"
            )
            assert fast.selected == slow.selected, (e, satisfaction, b0)


def float_run(e: Election, satisfaction: mes.MESSatisfaction, b0: Fraction):
    """MES's winners by the exact reference, and the float run's record (None if it refuses)."""
    prep = mes._Prepared(e, satisfaction)
    rank = TieBreak.by_id(e).rank
    want = mes._reference_mes(prep, b0, rank)
    try:
        record = mes._FastRun(prep, b0, rank, exact=False).run()
    except mes._UncertainError:
        return prep, rank, want, None
    return prep, rank, want, record


@pytest.mark.parametrize("seed", range(3))
def test_float_runs_are_certified_or_refused(seed: int) -> None:
    """The float-payment run either proves its decisions (and then equals the exact run) or
    refuses; it never returns a wrong outcome."""
    rng = random.Random(100 + seed)
    certified = 0
    for _ in range(300):
        vote_type = rng.choice(["approval", "cumulative"])
        e = random_election(rng, vote_type)
        satisfaction = rng.choice(satisfactions(vote_type))
        b0 = e.budget / e.n_voters + rng.choice([0, 1, F(5, 2)])
        prep, rank, want, record = float_run(e, satisfaction, b0)
        if record is None:
            continue
        certified += 1
        free = sorted(prep.free, key=lambda j: rank[j])
        assert free + record.winners == want
    assert certified > 200


def _ballot_money(run: mes._FastRun) -> tuple[list[float], list[float], list[Fraction]]:
    """Per ballot after a run: its float money, its own error bound, and (exact runs only)
    its exact money."""
    if run.grouped:
        ids, alive, floats, errors = run.slot, run.galive, run.gb, run.gerr
        count = run.groups
    else:
        ids = np.arange(len(run.bb))
        alive, floats, errors, count = run.alive, run.bb, run.berr, len(run.bb)
    exact: list[Fraction] = []
    if run.exact:
        nums = run._item_money_nums(np.arange(count))
        exact = [F(nums[t], run.ledger.den) if alive[t] else F(0) for t in ids]
    return [float(floats[t]) for t in ids], [float(errors[t]) for t in ids], exact


@pytest.mark.parametrize("group_limit", [0, 512])
def test_float_money_is_within_its_error_bounds(
    group_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a certified float run, every ballot's float money is within its own error bound
    of the exact money (an exact run's ledger), in the ballot phase and in the group phase."""
    monkeypatch.setattr(mes, "_GROUP_LIMIT", group_limit)
    rng = random.Random(500 + group_limit)
    checked = 0
    for _ in range(300):
        vote_type = rng.choice(["approval", "cumulative"])
        e = (
            random_election(rng, vote_type)
            if rng.random() < 0.5
            else larger_election(rng, vote_type)
        )
        satisfaction = rng.choice(satisfactions(vote_type))
        prep = mes._Prepared(e, satisfaction)
        rank = TieBreak.by_id(e).rank
        b0 = e.budget / e.n_voters + rng.choice([0, 1, F(5, 2), F(1, 7)])
        fast = mes._FastRun(prep, b0, rank, exact=False)
        try:
            fast.run()
        except mes._UncertainError:
            continue
        exact = mes._FastRun(prep, b0, rank)
        exact.run()
        floats, errors, _ = _ballot_money(fast)
        _, _, money = _ballot_money(exact)
        for value, error, want in zip(floats, errors, money, strict=True):
            assert error <= fast.err
            assert abs(F(value) - want) <= F(error), (e, b0, value, want, error)
            assert value > 0 or want == 0  # a float 0 is exact: that voter has nothing
        checked += 1
    assert checked > 200


def test_loose_bounds_are_certified(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the width accepted from Newton's residual made tiny, every payment-per-voter rho
    goes through the loose bounds (``_FastRun._loose``: a partition bound below, a checked
    payment above) and float payments within them: the runs that certify still equal the
    reference, and most do."""
    monkeypatch.setattr(mes, "_ETA", 1e-300)
    rng = random.Random(400)
    certified = 0
    for _ in range(300):
        e = random_election(rng, "approval")
        satisfaction = rng.choice(satisfactions("approval"))
        b0 = e.budget / e.n_voters + rng.choice([0, 1, F(5, 2)])
        prep, rank, want, record = float_run(e, satisfaction, b0)
        if record is None:
            continue
        certified += 1
        assert sorted(prep.free, key=lambda j: rank[j]) + record.winners == want
        exact = mes._FastRun(prep, b0, rank).run()  # exact runs use the loose bounds too
        assert exact.winners == record.winners
    assert certified > 150


compiled = pytest.mark.skipif(
    mes._mesrun is None, reason="budgeting._mesrun is not built (no C compiler at install)"
)


@compiled
@pytest.mark.parametrize("eta", [mes._ETA, 1e-300])
def test_compiled_runs_are_certified_or_refused(
    eta: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled float run (``budgeting/_mesrun.c``) either certifies every decision, and
    then funds what the exact reference funds and leaves every ballot's float money within its
    own error bound of the exact money, or stops, and the winners it certified before are the
    reference's first ones. With ``_ETA`` tiny every payment goes through the loose bounds."""
    monkeypatch.setattr(mes, "_ETA", eta)
    rng = random.Random(600 if eta == mes._ETA else 601)
    certified = 0
    for _ in range(300):
        e = random_election(rng) if rng.random() < 0.5 else larger_election(rng)
        satisfaction = rng.choice(satisfactions("approval"))
        prep = mes._Prepared(e, satisfaction)
        rank = TieBreak.by_id(e).rank
        b0 = e.budget / e.n_voters + rng.choice([0, 1, F(5, 2), F(1, 7)])
        want = [j for j in mes._reference_mes(prep, b0, rank) if j not in prep.free]
        result = mes._compiled_run(prep, b0, rank)
        assert result is not None
        ok, winners, money, error = result
        assert winners == want[: len(winners)], (e, b0)
        if not ok:
            continue
        certified += 1
        assert winners == want, (e, b0)
        exact = mes._FastRun(prep, b0, rank)
        exact.run()
        _, _, exact_money = _ballot_money(exact)
        for value, bound, target in zip(money.tolist(), error.tolist(), exact_money, strict=True):
            assert abs(F(value) - target) <= F(bound), (e, b0, value, target, bound)
            assert value > 0 or target == 0  # a float 0 is exact: that voter has nothing
    assert certified > (250 if eta == mes._ETA else 150)


@compiled
def test_compiled_run_checks_its_arrays() -> None:
    """The compiled module refuses supporters and arrays of the wrong type, length or range
    instead of reading past them."""
    assert mes._mesrun is not None
    e = random_election(random.Random(7))
    prep = mes._Prepared(e, "cost")
    supporters, *arrays = prep.compiled
    ranks = np.arange(prep.m, dtype=np.int64)
    money = np.ones(prep.nb)
    sup_ptr = np.array([0, 2], dtype=np.int64)
    with pytest.raises(ValueError, match="sup_ptr"):
        mes._mesrun.Supporters(sup_ptr, np.zeros(3, dtype=np.int64), 1)
    with pytest.raises(ValueError, match="sup_ballot"):
        mes._mesrun.Supporters(sup_ptr, np.array([0, 1], dtype=np.int64), 1)
    with pytest.raises(TypeError, match="sup_ballot"):
        mes._mesrun.Supporters(sup_ptr, np.zeros(2, dtype=np.float64), 1)
    with pytest.raises(TypeError, match="supporters"):
        mes._mesrun.run(None, *arrays[:6], ranks, *arrays[6:], 1.0, 1e-5, 1e-3, money, money)
    with pytest.raises(TypeError, match="weight"):
        weights = arrays[0].astype(np.float32)
        mes._mesrun.run(
            supporters, weights, *arrays[1:6], ranks, *arrays[6:], 1.0, 1e-5, 1e-3, money, money
        )
    with pytest.raises(ValueError, match="bb"):
        mes._mesrun.run(
            supporters, *arrays[:6], ranks, *arrays[6:], 1.0, 1e-5, 1e-3, money[:0], money
        )
    with pytest.raises(ValueError, match="candidates"):
        wrong = np.array([prep.m], dtype=np.int64)
        mes._mesrun.run(
            supporters, *arrays[:6], ranks, wrong, *arrays[7:], 1.0, 1e-5, 1e-3, money, money
        )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("compiled_runs", [True, False])
def test_add1_equals_step_by_step_reference(
    seed: int, compiled_runs: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Add1 with float runs (compiled or in Python), exact fallback and certified step
    skipping gives exactly the outcome of running the reference MES at every step."""
    if not compiled_runs:
        monkeypatch.setattr(mes, "_mesrun", None)
    rng = random.Random(200 + seed)
    for _ in range(120):
        vote_type = rng.choice(["approval", "approval", "cumulative"])
        e = random_election(rng, vote_type)
        satisfaction = rng.choice(satisfactions(vote_type))
        got = mes.add1(e, TieBreak.by_id(e), satisfaction=satisfaction)
        assert list(got.run.selected) == reference_add1(e, satisfaction), (e, satisfaction)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("compiled_proofs", [False, pytest.param(True, marks=compiled)])
def test_band_proofs_hold_at_every_point(seed: int, compiled_proofs: bool) -> None:
    """Whenever a band proof (in Python or compiled) succeeds, the reference MES funds the
    same projects in the same order at both ends, at every whole step and at random points
    inside; an order that is not MES's at the start (swapped, cut short, one project too many)
    is never proven."""
    rng = random.Random(300 + seed)
    proven = refused = 0
    for _ in range(150):
        vote_type = rng.choice(["approval", "approval", "cumulative"])
        e = (
            random_election(rng, vote_type)
            if rng.random() < 0.8
            else larger_election(rng, vote_type)
        )
        satisfaction = rng.choice(satisfactions(vote_type))
        prep = mes._Prepared(e, satisfaction)
        tb = TieBreak.by_id(e) if rng.random() < 0.7 else TieBreak.default(e, seed=str(seed))
        band = Band(prep, tb.rank, mes._mesrun if compiled_proofs else None)
        start = e.budget / max(e.n_voters, 1) + rng.choice([0, F(1, 3), 1, 2])
        width = rng.choice([F(1, 2), F(1), F(2), F(5), F(20)])

        def order(x: Fraction) -> list[int]:
            return [j for j in mes._reference_mes(prep, x, tb.rank) if j not in prep.free]  # noqa: B023

        winners = order(start)
        wrong = []
        if len(winners) >= 2:
            wrong += [[winners[1], winners[0], *winners[2:]], winners[:-1]]
        wrong += [[*winners, j] for j in prep.candidates if j not in winners][:1]
        for other in wrong:
            assert band.prove(other, start, start + width) < 1, (e, other)
            refused += 1
        if band.prove(winners, start, start + width) < 1:
            continue
        proven += 1
        inside = {start + width * F(rng.randint(0, 999), 999) for _ in range(6)}
        steps = {start + t for t in range(math.floor(width) + 1)}
        for x in {start, start + width} | inside | steps:
            assert order(x) == winners, (e, satisfaction, start, width, x)
    assert proven > 60 and refused > 60


def test_add1_skips_steps_that_cannot_change_the_outcome() -> None:
    # 4 voters, a large budget per voter: thousands of Add1 steps, almost all the same outcome
    voters: list[Voter] = [((0, 1), None)] * 2 + [((2,), None), ((1, 2), None)]
    e = build([3000, 2500, 4000, 100], 8000, voters)
    result = mes.add1(e, TieBreak.by_id(e))
    assert list(result.run.selected) == reference_add1(e, "cost")
    assert result.runs < result.steps / 10


def test_trace_matches_a_direct_replay() -> None:
    """money_by_round[r][j] is exactly what j's supporters had at the start of round r."""
    rng = random.Random(7)
    for _ in range(60):
        vote_type = rng.choice(["approval", "cumulative"])
        e = random_election(rng, vote_type)
        satisfaction = rng.choice(satisfactions(vote_type))
        run = mes.equal_shares(e, TieBreak.by_id(e), satisfaction=satisfaction)
        prep = mes._Prepared(e, satisfaction)
        budgets = [run.budget_per_voter] * len(e.ballots)
        for r, rnd in enumerate(run.rounds):
            for j in range(e.n_projects):
                money = sum(
                    (b.weight * budgets[i] for i, b in enumerate(e.ballots) if j in b.projects),
                    F(0),
                )
                assert run.money_by_round[r][j] == money
            j = rnd.project
            for i, k in zip(prep.sup[j].tolist(), prep.sup_k[j].tolist(), strict=True):
                budgets[i] -= min(budgets[i], rnd.rho * prep.unit[j] * k)
        assert run.money_by_round[-1] == tuple(
            sum((b.weight * budgets[i] for i, b in enumerate(e.ballots) if j in b.projects), F(0))
            for j in range(e.n_projects)
        )


# --------------------------------------------------------------------------- hand-computed


def two_camps() -> Election:
    # 6 voters want a and b, 4 want c and d; budget 10: each voter starts with 1
    voters: list[Voter] = [((0, 1), None)] * 6 + [((2, 3), None)] * 4
    return build([4, 4, 4, 4], 10, voters)


def test_mes_splits_the_budget_in_proportion() -> None:
    e = two_camps()
    run = mes.equal_shares(e, TieBreak.by_id(e))
    # a: 6 supporters pay 2/3 each (rho = 1/6 per unit of cost); c: 4 pay 1 each; then the 6
    # have 1/3 each (2 together) and the 4 have nothing: neither b nor d is affordable
    assert [e.ids[j] for j in run.selected] == ["p0", "p2"]
    assert [r.rho for r in run.rounds] == [F(1, 6), F(1, 4)]
    assert [r.price for r in run.rounds] == [F(2, 3), F(1)]
    assert run.money_by_round[2] == (F(2), F(2), F(0), F(0))
    assert run.rounds[1].paid_all == 4


def test_add1_hand_example() -> None:
    # three voters want a (5), one wants b (3) and c (4); budget 8, so 2 each
    voters: list[Voter] = [((0,), None)] * 3 + [((1, 2), None)]
    e = build([5, 3, 4], 8, voters)
    tb = TieBreak.by_id(e)
    assert [e.ids[j] for j in mes.equal_shares(e, tb).selected] == ["p0"]  # b: 2 < 3
    result = mes.add1(e, tb)
    # with 3 each: a (5/3 each), then b (the one pays all 3); cost 8, exhaustive
    assert [e.ids[j] for j in result.run.selected] == ["p0", "p1"]
    assert (result.run.budget_per_voter, result.steps, result.stop) == (F(3), 1, "exhaustive")
    out = mes.run_mes_rule(e, "mes-add1", tb)
    assert out.details["add1"] == {
        "steps": 1,
        "stop": "exhaustive",
        "runs": 2,
        "proofs": 1,
        "start": "exact",
    }
    assert out.explanations[2].code == "too-little-support"
    assert out.explanations[2].data["shortfall"] == "4"


def test_add1_returns_the_last_outcome_that_fits() -> None:
    # 2 voters want a (6), 3 want b (4) and c (3); budget 10, so 2 each. b and c tie at
    # rho 1/3 (p0 < p1 < p2 by id): b, then the three have 2/3 each, too little for c.
    # With 3 each: b, c and a (13 > 10), so Add1 keeps the first outcome.
    voters: list[Voter] = [((0,), None)] * 2 + [((1, 2), None)] * 3
    e = build([6, 4, 3], 10, voters)
    result = mes.add1(e, TieBreak.by_id(e))
    assert [e.ids[j] for j in result.run.selected] == ["p1"]
    assert (result.steps, result.stop) == (0, "next-overspends")


def test_greedy_completion_hand_example() -> None:
    voters: list[Voter] = [((0,), None)] * 3 + [((1, 2), None)]
    e = build([5, 3, 4], 8, voters)
    out = mes.run_mes_rule(e, "mes-greedy", TieBreak.by_id(e))
    # MES funds a (5); 3 is left: greedy by votes takes b (1 vote, cost 3), not c
    assert [e.ids[j] for j in out.selected] == ["p0", "p1"]
    assert out.details["greedy_added"] == ["p1"]
    assert [x.code for x in out.explanations] == ["funded", "funded-greedy", "did-not-fit"]


def test_add1_stops_at_once_when_exhaustive() -> None:
    # 3 voters want a (6), one b (4), one c (1); budget 10, so 2 each: a (2 each), then c (the
    # one pays 1; rho 1 against a's 1/3); b (4) is out of reach. 3 is left and b costs 4: the
    # outcome is exhaustive, so Add1 stops at step 0 and greedy has nothing to add.
    voters: list[Voter] = [((0,), None)] * 3 + [((1,), None), ((2,), None)]
    e = build([6, 4, 1], 10, voters)
    tb = TieBreak.by_id(e)
    add1_out = mes.run_mes_rule(e, "mes-add1", tb)
    assert [e.ids[j] for j in add1_out.selected] == ["p0", "p2"]
    assert add1_out.details["budget_per_voter"] == "2"
    assert add1_out.details["add1"]["stop"] == "exhaustive"
    both = mes.run_mes_rule(e, "mes-add1-greedy", tb)
    assert both.selected == add1_out.selected and both.details["greedy_added"] == []


def test_add1_then_greedy_hand_example() -> None:
    # a (2) has no votes; voter 1 wants b (5) and c (5), voter 2 c, voter 3 b; budget 8.
    # Step 0 (8/3 each): b and c tie at rho 1/2, b (by id) is funded, 1/6 is left to voter 1
    # and c (17/6 < 5) is out. Step 1 (11/3 each): the same. Step 2 (14/3 each): b, then c
    # (voter 1 pays all 13/6, voter 2 pays 17/6), cost 10 > 8. So Add1 returns step 1: {b},
    # 3 left; greedy by votes: c (2 votes) costs 5 and does not fit, a (no votes) does.
    voters: list[Voter] = [((1, 2), None), ((2,), None), ((1,), None)]
    e = build([2, 5, 5], 8, voters)
    tb = TieBreak.by_id(e)
    add1_out = mes.run_mes_rule(e, "mes-add1", tb)
    assert [e.ids[j] for j in add1_out.selected] == ["p1"]
    assert add1_out.details["budget_per_voter"] == "11/3"
    assert add1_out.details["add1"]["stop"] == "next-overspends"
    both = mes.run_mes_rule(e, "mes-add1-greedy", tb)
    assert [e.ids[j] for j in both.selected] == ["p1", "p0"]
    assert [x.code for x in both.explanations] == ["funded-greedy", "funded", "did-not-fit"]
    assert both.explanations[0].data["mes_reason"] == "no-support"


def test_comparison_step_takes_greedy_when_more_voters_prefer_it() -> None:
    # 6 voters want a (10), 5 want b (3) and c (3); budget 10, so 10/11 each. MES: a is out of
    # reach (60/11 < 10); b costs its 5 supporters 3/5 each; then they have 17/11 together, too
    # little for c. Greedy by votes: a. 6 voters prefer greedy's outcome, 5 MES's.
    voters: list[Voter] = [((0,), None)] * 6 + [((1, 2), None)] * 5
    e = build([10, 3, 3], 10, voters)
    tb = TieBreak.by_id(e)
    plain = mes.run_mes_rule(e, "mes", tb)
    assert [e.ids[j] for j in plain.selected] == ["p1"]
    out = mes.method_of_equal_shares(e, tb, completion="none", comparison="satisfaction")
    assert [e.ids[j] for j in out.selected] == ["p0"]
    assert out.details["comparison"]["prefer_greedy"] == 6
    assert out.details["comparison"]["prefer_mes"] == 5
    assert out.explanations[0].en.startswith("The comparison step chose the greedy outcome")
    # with Add1, step 1 buys a, b and c (16 > 10): the outcome stays {b}, and greedy wins again
    kept = mes.run_mes_rule(e, "mes-add1-comparison", tb)
    assert kept.details["comparison"]["chosen"] == "greedy"
    assert kept.rule == "mes-add1-comparison"


def test_comparison_keeps_mes_on_a_draw() -> None:
    # 5 want a (10), 5 want b and c (3 each), 1 each: MES {b}, greedy {a} (a before b by id)
    voters: list[Voter] = [((0,), None)] * 5 + [((1, 2), None)] * 5
    e = build([10, 3, 3], 10, voters)
    out = mes.method_of_equal_shares(
        e, TieBreak.by_id(e), completion="none", comparison="exclusion"
    )
    assert out.details["comparison"]["prefer_mes"] == out.details["comparison"]["prefer_greedy"]
    assert out.details["comparison"]["chosen"] == "mes"
    assert [e.ids[j] for j in out.selected] == ["p1"]


def test_cardinality_satisfaction_prefers_cheap_projects() -> None:
    # u = 1: rho is the payment per voter, so the cheaper of two equally supported projects wins
    voters: list[Voter] = [((0, 1), None)] * 4
    e = build([4, 2], 4, voters)
    cost_run = mes.equal_shares(e, TieBreak.by_id(e), satisfaction="cost")
    card_run = mes.equal_shares(e, TieBreak.by_id(e), satisfaction="cardinality")
    assert cost_run.selected == (0,)  # rho 1/4 for both; p0 by id; then 0 left
    assert card_run.selected[0] == 1  # 1/2 per voter against 1 per voter


def test_points_are_utilities() -> None:
    # A gives a 3 points; B gives a 1 point and b 2; budget 6, so 3 each. rho(a) = 4 / 4 points
    # = 1 (A pays 3, B pays 1), rho(b) = 2 / 2 = 1: a by id, then b (B pays its last 2)
    voters: list[Voter] = [((0,), (F(3),)), ((0, 1), (F(1), F(2)))]
    e = build([4, 2], 6, voters, "cumulative")
    run = mes.equal_shares(e, TieBreak.by_id(e))
    assert run.selected == (0, 1)
    assert [r.rho for r in run.rounds] == [F(1), F(1)]
    assert run.rounds[0].price == 3  # A's share
    assert run.money_by_round[1] == (F(2), F(2))


def test_free_projects() -> None:
    voters: list[Voter] = [((0, 1), None)] * 2
    e = build([0, 2], 2, voters)
    tb = TieBreak.by_id(e)
    # cardinality: a free project with supporters is funded before the rounds
    card = mes.method_of_equal_shares(e, tb, satisfaction="cardinality", completion="none")
    assert card.selected == (0, 1) and card.explanations[0].code == "funded-free"
    # cost: it gives no satisfaction, so MES skips it; greedy completion adds it (it fits)
    cost = mes.method_of_equal_shares(e, tb, satisfaction="cost", completion="greedy")
    assert cost.selected == (1, 0)
    assert cost.explanations[0].data["mes_reason"] == "no-satisfaction"


def test_no_voters_and_no_support() -> None:
    e = Election(("a", "b"), (F(1), F(2)), F(3), "approval", ())
    out = mes.run_mes_rule(e, "mes-add1", TieBreak.by_id(e))
    assert out.selected == () and out.cost == 0
    voters: list[Voter] = [((0,), None)]
    e2 = build([1, 2], 3, voters)
    out2 = mes.run_mes_rule(e2, "mes", TieBreak.by_id(e2))
    assert out2.explanations[1].code == "no-support"


def test_tie_break_decides_equal_rho() -> None:
    # two camps of two voters, equal costs, 1 each: both projects at rho 1/2
    e = Election(
        ("b", "a"),
        (F(2), F(2)),
        F(4),
        "approval",
        tuple(WeightedBallot(p, None, 2) for p in [(0,), (1,)]),
    )
    assert mes.equal_shares(e, TieBreak.by_id(e)).selected == (1, 0)  # "a" < "b"
    for seed in ("x", "y", "z"):
        tie = TieBreak.default(e, seed=seed)
        assert mes.equal_shares(e, tie).selected[0] == tie.first([0, 1])


def test_explanations_carry_the_money_per_round() -> None:
    e = two_camps()
    out = mes.run_mes_rule(e, "mes", TieBreak.by_id(e))
    funded = out.explanations[0].data
    assert funded["round"] == 1 and funded["money_before"] == "6" and funded["price"] == "2/3"
    assert funded["history"] == [{"round": 1, "left": "6", "spent": "0"}]
    b = out.explanations[1]
    assert not b.funded and b.code == "too-little-support"
    assert b.data["money_left"] == "2" and b.data["shortfall"] == "2"
    assert b.data["spent_elsewhere"] == "4" and b.data["out_from_round"] == 2
    assert [row["left"] for row in b.data["history"]] == ["6", "2", "2"]
    assert "needed 2 more support" in b.en and "2 meer steun nodig" in b.nl


def test_errors() -> None:
    e = two_camps()
    with pytest.raises(RuleError) as info:
        mes.run_mes_rule(e, "mes-add2", TieBreak.by_id(e))
    assert info.value.code == "unknown-rule"
    with pytest.raises(RuleError) as info:
        mes.equal_shares(e, TieBreak.by_id(e), satisfaction="points")
    assert info.value.code == "wrong-vote-type"
    with pytest.raises(RuleError) as info:
        mes.method_of_equal_shares(e, TieBreak.by_id(e), completion="add2")  # type: ignore[arg-type]
    assert info.value.code == "unknown-completion"


def test_integral_add1_start() -> None:
    voters: list[Voter] = [((0,), None)] * 3 + [((1, 2), None)]
    e = build([5, 3, 4], F(17, 2), voters)
    exact = mes.add1(e, TieBreak.by_id(e))
    integral = mes.add1(e, TieBreak.by_id(e), start="integral")
    assert exact.run.budget_per_voter == F(17, 8) + exact.steps
    assert integral.run.budget_per_voter == 2 + integral.steps
