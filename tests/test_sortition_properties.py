"""Hypothesis properties of the selection algorithms and the seeded draw on small random pools.

Pools have at most 14 people, one to three features with two or three values, and (in half of
the cases) households. Quotas are built around a random panel that meets the household rule, so
they are always feasible. Every property is checked on the raw pool, independently of the class
structure the algorithms use, wherever that is possible.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from itertools import chain, combinations, product

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sortition_cases import Instance, feasible_instances

from sortition import (
    Distribution,
    Person,
    Pool,
    Quotas,
    SolverError,
    draw,
    find_distribution,
    panel_violations,
)
from sortition.distribution import realise
from sortition.randomness import SeededStream
from sortition.structure import PoolStructure

LP_ALGORITHMS = ("leximin", "maximin", "nash")
SEEDS = ("0", "1", "2026")

# --------------------------------------------------------------------------- instances


def instances() -> st.SearchStrategy[Instance]:
    """A small pool with feasible quotas, built around one random valid panel."""
    return feasible_instances(max_people=14, max_k=6, households=("h0", "h1", "h2", "h3"))


# --------------------------------------------------------------------------- helpers


def person_panels(structure: PoolStructure, counts: np.ndarray) -> list[frozenset[str]]:
    """Every panel of people that realises the composition ``counts``.

    For each unit type: choose, class after class, which of its units give a member of the class
    (disjoint sets of the class's count), then which member of each such unit.
    """
    per_type: list[list[tuple[str, ...]]] = []
    for unit_type in structure.unit_types:
        wanted = [(g, int(counts[g])) for g in unit_type.classes if counts[g] > 0]
        options: list[tuple[str, ...]] = []

        def extend(
            i: int,
            free: list[tuple[str, ...]],
            chosen: tuple[str, ...],
            wanted: list[tuple[int, int]] = wanted,
            options: list[tuple[str, ...]] = options,
        ) -> None:
            if i == len(wanted):
                options.append(chosen)
                return
            g, count = wanted[i]
            members = set(structure.classes[g].members)
            for combo in combinations(free, count):
                rest = [u for u in free if u not in combo]
                candidates = [[m for m in unit if m in members] for unit in combo]
                for picks in product(*candidates):
                    extend(i + 1, rest, chosen + picks)

        extend(0, list(unit_type.units), ())
        per_type.append(options)
    return [frozenset(chain.from_iterable(parts)) for parts in product(*per_type)]


def expand(distribution: Distribution) -> dict[frozenset[str], float]:
    """The distribution over panels of people: each composition's realisations, uniformly."""
    out: dict[frozenset[str], float] = {}
    for row, weight in zip(distribution.compositions, distribution.weights, strict=True):
        panels = person_panels(distribution.structure, row)
        assert panels, f"composition {row.tolist()} has no realisation"
        assert len(set(panels)) == len(panels), "two realisations give the same panel"
        for panel in panels:
            assert panel not in out, "a panel realises two compositions"
            out[panel] = float(weight) / len(panels)
    return out


def solve(instance: Instance, algorithm: str) -> Distribution | None:
    """The distribution, or None when LEGACY gives up (documented, not a bug)."""
    try:
        return find_distribution(
            instance.pool, instance.quotas, instance.k, algorithm=algorithm, legacy_samples=20
        )
    except SolverError as error:
        if algorithm == "legacy" and error.code == "legacy-failed":
            return None
        raise


def log_welfare(probabilities: dict[str, float]) -> float:
    return sum(math.log(p) for p in probabilities.values() if p > 0)


# --------------------------------------------------------------------------- properties


def check_distribution(instance: Instance, d: Distribution) -> None:
    """Every property of one distribution and of the panels drawn from it."""
    structure = d.structure
    pool, quotas, k = instance.pool, instance.quotas, instance.k
    # every composition meets the quotas and the household rule
    for row in d.compositions:
        assert structure.violations(row) == [], (d.algorithm, row.tolist())
    assert d.violations() == [], d.algorithm
    assert (d.weights > 0).all(), d.algorithm

    probabilities = d.probabilities
    assert sorted(probabilities) == sorted(pool.ids)
    assert abs(sum(probabilities.values()) - k) < 1e-6, d.algorithm

    # p_i = sum_P pi_P x_Pg / size_g, recomputed from the compositions
    for person_class in structure.classes:
        g = structure.classes.index(person_class)
        expected = sum(
            float(w) * int(row[g]) / person_class.size
            for row, w in zip(d.compositions, d.weights, strict=True)
        )
        for member in person_class.members:
            assert abs(probabilities[member] - expected) < 1e-12, (d.algorithm, member)

    # p_i = the probability of the person-panels that contain i
    panels = expand(d)
    assert abs(sum(panels.values()) - 1.0) < 1e-9
    for panel in panels:
        assert panel_violations(pool, quotas, k, sorted(panel)) == [], (d.algorithm, panel)
    for person in pool.ids:
        by_panels = sum(w for panel, w in panels.items() if person in panel)
        assert abs(probabilities[person] - by_panels) < 1e-9, (d.algorithm, person)

    # the seeded draw gives valid panels that the distribution can produce
    for seed in SEEDS:
        result = draw(d, seed)
        assert panel_violations(pool, quotas, k, result.selected) == [], (d.algorithm, seed)
        assert list(result.selected) == sorted(result.selected)
        if d.algorithm != "legacy":
            assert result.panel_index is not None
            assert d.weights[result.panel_index] > 0
            assert frozenset(result.selected) in panels, (d.algorithm, seed)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instance=instances())
@example(  # found by hypothesis: NASH 2.0e-6 below LEXIMIN in log welfare (both optimal here)
    instance=Instance(
        Pool(
            tuple(Person(f"p{i}", {"wijk": "noord"}) for i in range(4))
            + tuple(Person(f"p{i}", {"wijk": "centrum"}) for i in (4, 5))
            + tuple(Person(f"p{i}", {"wijk": "centrum"}, "h0") for i in (6, 7))
        ),
        Quotas.from_rows([("wijk", "noord", 4, 4), ("wijk", "centrum", 2, 2)]),
        6,
    )
)
def test_distributions_are_valid_consistent_and_ordered(instance: Instance) -> None:
    distributions = {a: solve(instance, a) for a in (*LP_ALGORITHMS, "legacy")}
    for d in distributions.values():
        if d is not None:
            check_distribution(instance, d)

    leximin, maximin, nash = (distributions[a] for a in LP_ALGORITHMS)
    assert leximin is not None and maximin is not None and nash is not None
    p_lex, p_max, p_nash = leximin.probabilities, maximin.probabilities, nash.probabilities
    # LEXIMIN's first stage is MAXIMIN, so its minimum is at least as good
    assert min(p_lex.values()) >= min(p_max.values()) - 1e-6
    positive = [p for p in p_lex.values() if p > 1e-9]
    assert min(positive) >= min(p for p in p_max.values() if p > 1e-9) - 1e-6
    # NASH maximises the product of the (positive) probabilities
    assert log_welfare(p_nash) >= log_welfare(p_lex) - 1e-6
    # the three agree on who can be selected at all
    assert {i for i, p in p_lex.items() if p > 1e-9} == {i for i, p in p_nash.items() if p > 1e-9}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instance=instances(), shuffle_seed=st.integers(0, 2**32 - 1))
def test_row_order_changes_nothing(instance: Instance, shuffle_seed: int) -> None:
    """Permuting the people and the quota rows changes no probability and no seeded draw."""
    rng = random.Random(shuffle_seed)
    people, rows = list(instance.pool.people), list(instance.quotas)
    rng.shuffle(people)
    rng.shuffle(rows)
    shuffled = Instance(Pool(tuple(people)), Quotas(tuple(rows)), instance.k)
    for algorithm in (*LP_ALGORITHMS, "legacy"):
        a, b = solve(instance, algorithm), solve(shuffled, algorithm)
        assert (a is None) == (b is None), algorithm
        if a is None or b is None:
            continue
        assert a.probabilities == b.probabilities, algorithm  # exactly equal floats
        assert np.array_equal(a.compositions, b.compositions), algorithm
        assert np.array_equal(a.weights, b.weights), algorithm
        for seed in SEEDS:
            assert draw(a, seed).selected == draw(b, seed).selected, (algorithm, seed)


# --------------------------------------------------------------------------- fixed cases


def fixed_instances() -> Iterator[Instance]:
    """A few hand-made instances, so that the properties also run on known ground."""
    ten = tuple(Person(str(i), {"g": "a" if i < 6 else "b"}) for i in range(10))
    yield Instance(Pool(ten), Quotas.from_rows([("g", "a", 2, 2), ("g", "b", 2, 2)]), 4)
    households = (
        Person("a", {"g": "f", "age": "y"}, "h1"),
        Person("b", {"g": "m", "age": "y"}, "h1"),
        Person("c", {"g": "f", "age": "o"}, "h2"),
        Person("d", {"g": "m", "age": "o"}, "h2"),
        Person("e", {"g": "m", "age": "o"}, "h2"),
        Person("f", {"g": "f", "age": "o"}),
        Person("g", {"g": "m", "age": "y"}),
        Person("h", {"g": "m", "age": "y"}, "h3"),
        Person("i", {"g": "m", "age": "y"}, "h3"),
    )
    yield Instance(
        Pool(households),
        Quotas.from_rows(
            [("g", "f", 1, 2), ("g", "m", 1, 3), ("age", "y", 1, 3), ("age", "o", 1, 2)]
        ),
        4,
    )
    # somebody nobody can select: value "x" has maximum 0
    blocked = tuple(Person(f"q{i}", {"c": "xyz"[i % 3]}) for i in range(7))
    yield Instance(
        Pool(blocked),
        Quotas.from_rows([("c", "x", 0, 0), ("c", "y", 1, 2), ("c", "z", 1, 2)]),
        3,
    )


@pytest.mark.parametrize("instance", list(fixed_instances()), ids=["ten", "households", "blocked"])
def test_fixed_instances(instance: Instance) -> None:
    for algorithm in (*LP_ALGORITHMS, "legacy"):
        d = solve(instance, algorithm)
        assert d is not None
        check_distribution(instance, d)


def test_realise_is_uniform_over_the_panels_of_a_composition() -> None:
    """The property above assumes each realisation is equally likely; check it empirically."""
    instance = list(fixed_instances())[1]
    structure = PoolStructure.build(instance.pool, instance.quotas, instance.k)
    d = find_distribution(instance.pool, instance.quotas, instance.k)
    row = max(d.compositions, key=lambda r: len(person_panels(structure, r)))
    panels = person_panels(structure, row)
    assert len(panels) >= 4
    draws = 400 * len(panels)
    counts = Counter(
        frozenset(realise(structure, row, SeededStream(f"uniform-{i}", "members")))
        for i in range(draws)
    )
    assert set(counts) == set(panels)
    expected = draws / len(panels)
    chi2 = sum((counts[p] - expected) ** 2 / expected for p in panels)
    df = len(panels) - 1
    assert chi2 < df + 6 * math.sqrt(2 * df) + 10, (chi2, df)
