"""Small random sortition instances, shared by the brute-force and the property tests.

A plain module, not a test file: pytest prepends ``tests/`` to ``sys.path`` (no ``__init__.py``,
default import mode), so the tests import it as ``sortition_cases``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from sortition import Person, Pool, Quotas

# feature names and values deliberately out of sorted order, to exercise the canonical orders
FEATURES = {"wijk": ("noord", "centrum", "zuid"), "gender": ("m", "f", "x"), "age": ("o", "y")}
HOUSEHOLDS = ("h0", "h1", "h2")


@dataclass(frozen=True)
class Instance:
    pool: Pool
    quotas: Quotas
    k: int

    def __repr__(self) -> str:  # a readable counterexample
        people = ", ".join(
            f"{p.id}:{'/'.join(p.features[f] for f in sorted(p.features))}"
            + (f"@{p.household}" if p.household else "")
            for p in self.pool.people
        )
        quotas = ", ".join(f"{q.feature}/{q.value}:{q.min}-{q.max}" for q in self.quotas)
        return f"Instance(k={self.k}; people: {people}; quotas: {quotas})"


def units_of(pool: Pool) -> list[list[str]]:
    """Households (and people living alone) as lists of ids."""
    units: dict[object, list[str]] = {}
    for p in pool.people:
        key = ("h", p.household) if p.household is not None else ("p", p.id)
        units.setdefault(key, []).append(p.id)
    return list(units.values())


@st.composite
def pools(
    draw_: st.DrawFn, max_people: int = 12, households: Sequence[str] = HOUSEHOLDS
) -> tuple[Pool, dict[str, tuple[str, ...]]]:
    """A pool of 2 to ``max_people`` people with one to three features (and their values).

    In half of the cases people may share one of ``households``.
    """
    names = draw_(st.permutations(list(FEATURES)))
    features = names[: draw_(st.integers(1, 3))]
    domains = {f: FEATURES[f][: draw_(st.integers(2, len(FEATURES[f])))] for f in features}
    n = draw_(st.integers(2, max_people))
    with_households = draw_(st.booleans())
    people = []
    for i in range(n):
        values = {f: draw_(st.sampled_from(domains[f])) for f in features}
        household = None
        if with_households:
            household = draw_(st.one_of(st.none(), st.sampled_from(list(households))))
        people.append(Person(f"p{i}", values, household))
    return Pool(tuple(people)), domains


@st.composite
def feasible_instances(
    draw_: st.DrawFn,
    max_people: int = 12,
    max_k: int = 6,
    households: Sequence[str] = HOUSEHOLDS,
) -> Instance:
    """Quotas around a random panel that meets the household rule: always feasible."""
    pool, domains = draw_(pools(max_people, households))
    units = units_of(pool)
    k = draw_(st.integers(1, min(max_k, len(units))))
    panel = [draw_(st.sampled_from(sorted(u))) for u in draw_(st.permutations(units))[:k]]
    by_id = {p.id: p for p in pool.people}
    rows = []
    for f, values in domains.items():
        for v in values:
            count = sum(by_id[i].features[f] == v for i in panel)
            below, above = draw_(st.integers(0, 2)), draw_(st.integers(0, 2))
            rows.append((f, v, max(0, count - below), count + above))
    return Instance(pool, Quotas.from_rows(rows), k)
