"""Brute-force twins of the selection algorithms and of the infeasibility report.

For pools of at most 12 people every panel of people is enumerated (``itertools.combinations``,
then the quotas and the household rule are checked directly on the people). Over all those
panels, ``scipy.optimize.linprog`` computes

* the exact MAXIMIN value: the largest ``t`` with a distribution giving everyone who is on some
  feasible panel probability at least ``t``;
* the exact LEXIMIN vector by the textbook iteration: maximise the smallest probability of the
  people not yet fixed; fix everyone who cannot get more than that (one LP each); repeat;

and these are compared with what :func:`sortition.find_distribution` returns. Infeasible quotas
must raise :class:`InfeasibleQuotasError` with a suggestion that makes them feasible and has the
smallest total slack, which brute force finds as the least slack any single panel needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sortition_cases import Instance, feasible_instances, pools

from sortition import (
    InfeasibleQuotasError,
    Person,
    Pool,
    QuotaError,
    Quotas,
    check_quotas,
    find_distribution,
)
from sortition.errors import Relaxation
from sortition.structure import PoolStructure

TOLERANCE = 1e-6

# --------------------------------------------------------------------------- instances


@st.composite
def any_instances(draw_: st.DrawFn) -> Instance:
    """Quotas near random sets of k people, often infeasible.

    The sets may break the household rule, and each feature may take its counts from a
    different set, so that every feature on its own is satisfiable but not all together.
    """
    pool, domains = draw_(pools(max_people=10))
    k = draw_(st.integers(1, min(5, len(pool))))
    one_set = draw_(st.integers(0, 3)) == 0
    # mostly quotas every feature can meet on its own; sometimes noise the simple checks catch
    noisy = draw_(st.integers(0, 3)) == 0
    lo_shifts, hi_shifts = ([-1, 0, 1], [-1, 0, 1]) if noisy else ([-1, 0, 0], [0, 0, 1])
    people = draw_(st.permutations(list(pool.people)))[:k]
    rows = []
    for f, values in domains.items():
        if not one_set:
            people = draw_(st.permutations(list(pool.people)))[:k]
        for v in values:
            count = sum(p.features[f] == v for p in people)
            lo = max(0, count + draw_(st.sampled_from(lo_shifts)))
            hi = max(lo, count + draw_(st.sampled_from(hi_shifts)))
            rows.append((f, v, lo, hi))
    return Instance(pool, Quotas.from_rows(rows), k)


# --------------------------------------------------------------------------- brute force


def panel_slack(instance: Instance, panel: Sequence[str]) -> int:
    """How many people of slack the quotas need for ``panel`` to meet them (0 if it does)."""
    by_id = {p.id: p for p in instance.pool.people}
    slack = 0
    for q in instance.quotas:
        count = sum(by_id[i].features[q.feature] == q.value for i in panel)
        slack += max(0, q.min - count) + max(0, count - q.max)
    return slack


def household_panels(instance: Instance) -> Iterator[tuple[str, ...]]:
    """Every set of k people with at most one per household."""
    household = {p.id: p.household for p in instance.pool.people}
    for panel in combinations(sorted(instance.pool.ids), instance.k):
        keys = [household[i] for i in panel if household[i] is not None]
        if len(set(keys)) == len(keys):
            yield panel


def feasible_panels(instance: Instance) -> list[tuple[str, ...]]:
    return [p for p in household_panels(instance) if panel_slack(instance, p) == 0]


def incidence(ids: Sequence[str], panels: Sequence[tuple[str, ...]]) -> np.ndarray:
    index = {i: r for r, i in enumerate(ids)}
    m = np.zeros((len(ids), len(panels)))
    for c, panel in enumerate(panels):
        for i in panel:
            m[index[i], c] = 1.0
    return m


def maximin_value(instance: Instance, panels: Sequence[tuple[str, ...]]) -> float:
    """max t s.t. some distribution gives every coverable person at least t."""
    coverable = sorted({i for p in panels for i in p})
    m = incidence(coverable, panels)
    n = len(panels)
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    a_ub = np.hstack([-m, np.ones((len(coverable), 1))])
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    bounds = [(0, None)] * n + [(None, None)]
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(len(coverable)), A_eq=a_eq, b_eq=[1.0],
                  bounds=bounds, method="highs")  # fmt: skip
    assert res.status == 0, res.message
    return float(-res.fun)


def leximin_vector(instance: Instance, panels: Sequence[tuple[str, ...]]) -> dict[str, float]:
    """The LEXIMIN probabilities over all panels, by the iterative LP (fix the minimum, repeat)."""
    ids = sorted(instance.pool.ids)
    coverable = sorted({i for p in panels for i in p})
    m = incidence(coverable, panels)
    n, people = len(panels), len(coverable)
    fixed: dict[int, float] = {}
    eps = 1e-9
    while len(fixed) < people:
        unfixed = [r for r in range(people) if r not in fixed]
        lower = [fixed[r] - eps for r in fixed]
        fixed_rows = list(fixed)
        # stage: maximise t with p_r >= t for the unfixed and p_r >= fixed_r for the fixed
        cost = np.zeros(n + 1)
        cost[-1] = -1.0
        a_ub = np.vstack(
            [
                np.hstack([-m[unfixed], np.ones((len(unfixed), 1))]),
                np.hstack([-m[fixed_rows], np.zeros((len(fixed_rows), 1))]),
            ]
        )
        b_ub = np.concatenate([np.zeros(len(unfixed)), -np.array(lower)])
        a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                      bounds=[(0, None)] * n + [(None, None)], method="highs")  # fmt: skip
        assert res.status == 0, res.message
        level = float(-res.fun)
        at_level = m @ res.x[:n]
        # everyone who cannot get more than `level` (given all the floors) is fixed at it
        floors_a = -np.vstack([m[unfixed], m[fixed_rows]])
        floors_b = -np.concatenate([np.full(len(unfixed), level - eps), lower])
        newly = []
        for r in unfixed:
            if at_level[r] > level + 1e-7:
                continue  # already more than the level in this solution
            res = linprog(-m[r], A_ub=floors_a, b_ub=floors_b, A_eq=np.ones((1, n)), b_eq=[1.0],
                          bounds=[(0, None)] * n, method="highs")  # fmt: skip
            assert res.status == 0, res.message
            if -res.fun <= level + 1e-7:
                newly.append(r)
        assert newly, "the LEXIMIN iteration fixed nobody"
        for r in newly:
            fixed[r] = level
    out = dict.fromkeys(ids, 0.0)
    out.update({coverable[r]: p for r, p in fixed.items()})
    return out


def nash_gap(instance: Instance, panels: Sequence[tuple[str, ...]]) -> float:
    """The Frank–Wolfe gap of NASH's answer over every feasible panel, per selectable person.

    With ``W`` people who can be selected and probabilities ``p``, the concavity of
    ``sum_i log p_i`` gives ``optimum - sum_i log p_i <= max_P sum_{i in P} 1 / p_i - W``. NASH
    documents that it stops when this gap is below ``1e-7 * W``; the tests allow ``1e-6 * W``.
    """
    nash = find_distribution(instance.pool, instance.quotas, instance.k, algorithm="nash")
    p = nash.probabilities
    coverable = {i for panel in panels for i in panel}
    assert all(p[i] > 0 for i in coverable), "NASH leaves someone who can be selected at 0"
    gap = max(sum(1.0 / p[i] for i in panel) for panel in panels) - len(coverable)
    return gap / len(coverable)


def check_against_brute_force(instance: Instance) -> None:
    panels = feasible_panels(instance)
    assert panels, "the instance should be feasible"
    coverable = {i for p in panels for i in p}
    best_min = maximin_value(instance, panels)

    maximin = find_distribution(instance.pool, instance.quotas, instance.k, algorithm="maximin")
    p_max = maximin.probabilities
    assert all(p_max[i] < 1e-9 for i in instance.pool.ids if i not in coverable)
    assert abs(min(p_max[i] for i in coverable) - best_min) < TOLERANCE, (
        min(p_max[i] for i in coverable),
        best_min,
    )

    leximin = find_distribution(instance.pool, instance.quotas, instance.k, algorithm="leximin")
    p_lex = leximin.probabilities
    exact = leximin_vector(instance, panels)
    assert abs(min(exact[i] for i in coverable) - best_min) < TOLERANCE  # the twins agree
    ours = sorted(p_lex.values())
    theirs = sorted(exact.values())
    worst = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
    assert worst < TOLERANCE, (worst, ours, theirs)
    # and person by person: equal people get equal probabilities in both
    for i in instance.pool.ids:
        assert abs(p_lex[i] - exact[i]) < TOLERANCE, (i, p_lex[i], exact[i])


# --------------------------------------------------------------------------- fixed instances


def person(pid: str, household: str | None = None, **features: str) -> Person:
    return Person(pid, features, household)


def fixed_feasible() -> dict[str, Instance]:
    ten = tuple(person(str(i), g="a" if i < 6 else "b") for i in range(10))
    skewed = (
        person("a", g="f", age="y"),
        person("b", g="f", age="y"),
        person("c", g="f", age="o"),
        person("d", g="m", age="y"),
        person("e", g="m", age="o"),
        person("f", g="m", age="o"),
        person("g", g="m", age="o"),
        person("h", g="m", age="o"),
        person("i", g="x", age="o"),
    )
    households = (
        person("a", "h1", g="f", age="y"),
        person("b", "h1", g="m", age="y"),
        person("c", "h2", g="f", age="o"),
        person("d", "h2", g="m", age="o"),
        person("e", "h2", g="m", age="o"),
        person("f", g="f", age="o"),
        person("g", g="m", age="y"),
        person("h", "h3", g="m", age="y"),
        person("i", "h3", g="m", age="y"),
        person("j", g="f", age="y"),
    )
    blocked = tuple(person(f"q{i}", c="xyz"[i % 3]) for i in range(8))
    # the LP relaxation is not tight: r, s and t at 1/2 each meet the quotas, but no panel
    # holds any of them (LEXIMIN then falls back to column generation per stage)
    odd = (
        person("r", a="1", b="1", c="0"),
        person("s", a="1", b="0", c="1"),
        person("t", a="0", b="1", c="1"),
        person("u", a="1", b="1", c="1"),
        *(person(f"v{i}", a="0", b="0", c="0") for i in range(3)),
    )
    return {
        "ten": Instance(Pool(ten), Quotas.from_rows([("g", "a", 2, 2), ("g", "b", 2, 2)]), 4),
        "skewed": Instance(
            Pool(skewed),
            Quotas.from_rows(
                [
                    ("g", "f", 1, 2),
                    ("g", "m", 1, 3),
                    ("g", "x", 0, 1),
                    ("age", "y", 2, 2),
                    ("age", "o", 2, 3),
                ]
            ),
            4,
        ),
        "households": Instance(
            Pool(households),
            Quotas.from_rows(
                [("g", "f", 2, 3), ("g", "m", 1, 3), ("age", "y", 1, 3), ("age", "o", 2, 2)]
            ),
            4,
        ),
        "odd_cycle": Instance(
            Pool(odd),
            Quotas.from_rows(
                [(f, v, 1, 1) if v == "1" else (f, v, 0, 3) for f in "abc" for v in "01"]
            ),
            3,
        ),
        "blocked": Instance(
            Pool(blocked),
            Quotas.from_rows([("c", "x", 0, 0), ("c", "y", 1, 2), ("c", "z", 1, 2)]),
            3,
        ),
    }


@pytest.mark.parametrize("name", list(fixed_feasible()))
def test_fixed_instances_match_brute_force(name: str) -> None:
    check_against_brute_force(fixed_feasible()[name])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instance=feasible_instances())
def test_random_instances_match_brute_force(instance: Instance) -> None:
    event("with households" if any(p.household for p in instance.pool.people) else "no households")
    check_against_brute_force(instance)


def nash_boundary() -> dict[str, Instance]:
    """NASH instances whose optimum gives some panel weight 0 (found by hypothesis).

    Two people live alone, two share a household, and 2 of the 4 are selected: the optimum
    never selects both people living alone, so that composition must get weight 0.
    """
    four = (
        person("a", w="c"),
        person("b", "h", w="c"),
        person("c", "h", w="c"),
        person("d", w="c"),
    )
    eight = (
        *(person(f"p{i}", w="noord") for i in range(4)),
        person("p4", w="centrum"),
        person("p5", w="centrum"),
        person("p6", "h0", w="centrum"),
        person("p7", "h0", w="centrum"),
    )
    return {
        "four": Instance(Pool(four), Quotas.from_rows([("w", "c", 2, 2)]), 2),
        "eight": Instance(
            Pool(eight), Quotas.from_rows([("w", "noord", 4, 4), ("w", "centrum", 2, 2)]), 6
        ),
    }


@pytest.mark.parametrize("name", [*fixed_feasible(), *nash_boundary()])
def test_nash_is_optimal_by_its_certificate(name: str) -> None:
    instance = {**fixed_feasible(), **nash_boundary()}[name]
    gap = nash_gap(instance, feasible_panels(instance))
    assert gap <= TOLERANCE, f"NASH stopped with a duality gap of {gap:.2e} per person"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instance=feasible_instances())
def test_random_nash_is_optimal_by_its_certificate(instance: Instance) -> None:
    gap = nash_gap(instance, feasible_panels(instance))
    assert gap <= TOLERANCE, f"NASH stopped with a duality gap of {gap:.2e} per person"


# --------------------------------------------------------------------------- infeasible quotas


def relaxed(instance: Instance, suggestion: Sequence[Relaxation]) -> tuple[Instance, int]:
    """The instance with the suggestion applied, and the suggestion's total slack."""
    changes = {(r.feature, r.value): r for r in suggestion}
    assert len(changes) == len(suggestion), "a quota is changed twice"
    rows, slack = [], 0
    for q in instance.quotas:
        r = changes.pop((q.feature, q.value), None)
        if r is None:
            rows.append((q.feature, q.value, q.min, q.max))
            continue
        assert (r.old_min, r.old_max) == (q.min, q.max), r
        assert 0 <= r.new_min <= r.old_min and r.new_max >= r.old_max, r
        assert (r.new_min, r.new_max) != (r.old_min, r.old_max), "a change that changes nothing"
        rows.append((q.feature, q.value, r.new_min, r.new_max))
        slack += (r.old_min - r.new_min) + (r.new_max - r.old_max)
    assert not changes, f"the suggestion names quotas that do not exist: {changes}"
    return Instance(instance.pool, Quotas.from_rows(rows), instance.k), slack


def check_infeasibility_report(instance: Instance) -> str:
    """Compare check_quotas with brute force; return what happened (for hypothesis events)."""
    structure = PoolStructure.build(instance.pool, instance.quotas, instance.k)
    feasible = feasible_panels(instance)
    try:
        check_quotas(structure)
    except InfeasibleQuotasError as error:
        assert not feasible, f"quotas called infeasible, but {feasible[0]} meets them"
        assert error.code == "infeasible-quotas"
        # brute force: the least slack with which some panel meets the quotas
        least = min(panel_slack(instance, p) for p in household_panels(instance))
        assert error.suggestion, "no suggestion although relaxing the quotas would help"
        fixed, slack = relaxed(instance, error.suggestion)
        assert feasible_panels(fixed), f"the suggestion {error.suggestion} does not help"
        assert slack == least, f"the suggestion has slack {slack}; {least} is enough"
        return "infeasible, with suggestion"
    except QuotaError as error:
        assert not feasible, f"{error.code}, but {feasible[0]} meets the quotas"
        return f"quota error {error.code}"
    assert feasible, "check_quotas passed, but no panel meets the quotas"
    return "feasible"


def contradictory() -> Instance:
    """Men are all young and women all old: 2 men and 2 women cannot be 1 young and 3 old."""
    people = [person(f"m{i}", g="m", age="y") for i in range(3)]
    people += [person(f"f{i}", g="f", age="o") for i in range(3)]
    quotas = Quotas.from_rows(
        [("g", "m", 2, 2), ("g", "f", 2, 2), ("age", "y", 1, 1), ("age", "o", 3, 3)]
    )
    return Instance(Pool(tuple(people)), quotas, 4)


def household_bound() -> Instance:
    """The only two women live together, and the quota asks for two women."""
    people = [person("f1", "h", g="f"), person("f2", "h", g="f")]
    people += [person(f"m{i}", g="m") for i in range(4)]
    quotas = Quotas.from_rows([("g", "f", 2, 2), ("g", "m", 1, 2)])
    return Instance(Pool(tuple(people)), quotas, 4)


@pytest.mark.parametrize("make", [contradictory, household_bound])
def test_fixed_infeasible_quotas(make: type[Instance]) -> None:
    instance = make()
    assert check_infeasibility_report(instance) == "infeasible, with suggestion"
    with pytest.raises(InfeasibleQuotasError) as excinfo:
        find_distribution(instance.pool, instance.quotas, instance.k)
    assert "Smallest relaxation" in str(excinfo.value)


def test_contradictory_needs_two_people_of_slack() -> None:
    with pytest.raises(InfeasibleQuotasError) as excinfo:
        check_quotas(PoolStructure.build(contradictory().pool, contradictory().quotas, 4))
    assert relaxed(contradictory(), excinfo.value.suggestion)[1] == 2


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instance=any_instances())
def test_random_quotas_feasibility_and_suggestions(instance: Instance) -> None:
    event(check_infeasibility_report(instance))
