"""Benchmark instances for the sortition engines (ours and the anchor).

Two kinds:

* **Paper data** (``example_small_20``, ``example_large_200``): the synthetic examples of Flanigan
  et al., *Fair algorithms for selecting citizens' assemblies* (Nature 2021), copied in
  ``shared/data/sortition/``. Their ``categories.csv`` has ``category,feature,min,max`` and their
  ``respondents.csv`` one column per category and no id; people get the ids ``p0001``, ``p0002``...
  (1-based row numbers). The ``data`` folder is ``$STADMAKEN_SHARED_DATA`` or, by default,
  ``<repo>/../shared/data``.
* **Generated pools** (``generated_400_40``, ``generated_1727_110``): respondent pools made here
  with :class:`random.Random` from a fixed seed (standard library only, so anyone can make them
  again), shaped like a real pool: skewed marginals, correlated features, and a self-selection
  bias, so that the population shares behind the quotas differ from the pool's shares.
  ``generated_1727_110`` has the shape of the paper's instance ``sf_e_110`` (n=1727, k=110,
  7 features), whose pool is not public.

This module imports neither engine. ``write_instance`` writes ``people.csv`` (``id`` plus one
column per feature) and ``quotas.csv`` (``feature,value,min,max``), the files both runners read.

Command line (any Python 3.11)::

    python benchmarks/instances.py                 # summary of every instance
    python benchmarks/instances.py --write DIR     # also write DIR/<instance>/{people,quotas}.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PAPER_INSTANCES = ("example_small_20", "example_large_200")
GENERATED_INSTANCES = ("generated_400_40", "generated_1727_110")
ALL_INSTANCES = PAPER_INSTANCES + GENERATED_INSTANCES

# Panel sizes of the paper's examples (the files do not say; paper_results.csv and the names do).
PAPER_K = {"example_small_20": 20, "example_large_200": 200}


class InstanceUnavailableError(Exception):
    """The instance's data cannot be found; the message says what to set."""


@dataclass(frozen=True)
class Instance:
    """One benchmark instance: a pool, its quotas and the panel size."""

    name: str
    k: int
    features: tuple[str, ...]
    # (id, values in the order of ``features``)
    people: tuple[tuple[str, tuple[str, ...]], ...]
    # (feature, value, min, max)
    quotas: tuple[tuple[str, str, int, int], ...]
    source: str

    @property
    def n(self) -> int:
        return len(self.people)

    def feature_dicts(self) -> list[tuple[str, dict[str, str]]]:
        """The people as ``(id, {feature: value})``."""
        return [(pid, dict(zip(self.features, values, strict=True))) for pid, values in self.people]


# --------------------------------------------------------------------------------------------
# paper data


def shared_data_dir() -> Path:
    """The shared ``data`` folder: ``$STADMAKEN_SHARED_DATA`` or ``<repo>/../shared/data``."""
    override = os.environ.get("STADMAKEN_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def load_paper_instance(name: str, data_dir: Path | None = None) -> Instance:
    """Read one of the paper's example instances from ``<data>/sortition/<name>/``."""
    if name not in PAPER_K:
        raise KeyError(f"unknown paper instance {name!r}")
    folder = (data_dir or shared_data_dir()) / "sortition" / name
    categories = folder / "categories.csv"
    respondents = folder / "respondents.csv"
    for path in (categories, respondents):
        if not path.is_file():
            raise InstanceUnavailableError(
                f"skipped: {name}: {path} not found (set STADMAKEN_SHARED_DATA to the shared "
                "'data' folder, the one that holds sortition/)"
            )
    quotas: list[tuple[str, str, int, int]] = []
    with categories.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            quotas.append(
                (row["category"].strip(), row["feature"].strip(), int(row["min"]), int(row["max"]))
            )
    features = tuple(dict.fromkeys(q[0] for q in quotas))
    people: list[tuple[str, tuple[str, ...]]] = []
    with respondents.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    width = max(4, len(str(len(rows))))
    for number, row in enumerate(rows, start=1):
        people.append((f"p{number:0{width}d}", tuple(row[f].strip() for f in features)))
    return Instance(
        name=name,
        k=PAPER_K[name],
        features=features,
        people=tuple(people),
        quotas=tuple(quotas),
        source=f"paper data, {folder}",
    )


# --------------------------------------------------------------------------------------------
# generated pools

# Each feature: (name, values). A person is drawn value by value; ``_draw_person`` makes later
# features depend on earlier ones, which gives the correlation of a real pool.
FEATURES_7: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gender", ("female", "male", "nonbinary")),
    ("age", ("16-24", "25-34", "35-49", "50-64", "65+")),
    ("education", ("none", "secondary", "vocational", "degree")),
    ("region", ("north", "midlands", "capital", "south", "coast")),
    ("ethnicity", ("white", "asian", "black", "mixed")),
    ("tenure", ("owner", "social_rent", "private_rent")),
    ("concern", ("low", "medium", "high")),
)


def _pick(rng: random.Random, values: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(values, weights=weights, k=1)[0]


def _draw_person(rng: random.Random, names: Sequence[str]) -> dict[str, str]:
    """One member of the population (before self-selection), features correlated."""
    values = dict(FEATURES_7)
    p: dict[str, str] = {}
    p["gender"] = _pick(rng, values["gender"], (0.505, 0.485, 0.01))
    p["region"] = _pick(rng, values["region"], (0.27, 0.22, 0.14, 0.25, 0.12))
    # Ethnicity depends on region: the capital is far more diverse.
    eth = (0.58, 0.2, 0.14, 0.08) if p["region"] == "capital" else (0.88, 0.06, 0.03, 0.03)
    p["ethnicity"] = _pick(rng, values["ethnicity"], eth)
    # Minorities are younger on average.
    age = (
        (0.12, 0.17, 0.24, 0.25, 0.22)
        if p["ethnicity"] == "white"
        else (0.2, 0.24, 0.28, 0.18, 0.1)
    )
    p["age"] = _pick(rng, values["age"], age)
    # Education depends on age (the young have not finished yet, the old had fewer chances).
    edu = {
        "16-24": (0.2, 0.5, 0.15, 0.15),
        "25-34": (0.08, 0.27, 0.2, 0.45),
        "35-49": (0.1, 0.3, 0.22, 0.38),
        "50-64": (0.18, 0.35, 0.22, 0.25),
        "65+": (0.35, 0.33, 0.17, 0.15),
    }[p["age"]]
    p["education"] = _pick(rng, values["education"], edu)
    # Tenure depends on age, education and region.
    if p["age"] in ("16-24", "25-34"):
        ten = [0.25, 0.2, 0.55]
    elif p["age"] == "65+":
        ten = [0.75, 0.18, 0.07]
    else:
        ten = [0.62, 0.16, 0.22]
    if p["education"] == "degree":
        ten = [ten[0] * 1.3, ten[1] * 0.4, ten[2]]
    if p["education"] == "none":
        ten = [ten[0] * 0.7, ten[1] * 2.0, ten[2]]
    if p["region"] == "capital":
        ten = [ten[0] * 0.7, ten[1], ten[2] * 1.6]
    p["tenure"] = _pick(rng, values["tenure"], ten)
    # Concern (an attitude question) depends on education and age.
    con = {
        "none": [0.45, 0.38, 0.17],
        "secondary": [0.33, 0.42, 0.25],
        "vocational": [0.3, 0.42, 0.28],
        "degree": [0.15, 0.38, 0.47],
    }[p["education"]]
    if p["age"] == "16-24":
        con = [con[0] * 0.7, con[1], con[2] * 1.4]
    p["concern"] = _pick(rng, values["concern"], con)
    return {name: p[name] for name in names}


# Self-selection: how much likelier than average someone with this value answers the invitation.
# Tuned so that the mean squared difference between pool and quota shares is about 3.5e-3
# (sf_e_110's pool differs from its population by about that much: MSE 2.4e-3 to the LEXIMIN
# panel shares in the paper's statistics).
_PROPENSITY = {
    ("age", "16-24"): 0.67,
    ("age", "25-34"): 0.87,
    ("age", "65+"): 1.22,
    ("education", "none"): 0.67,
    ("education", "degree"): 1.45,
    ("ethnicity", "black"): 0.77,
    ("ethnicity", "asian"): 0.87,
    ("tenure", "social_rent"): 0.74,
    ("tenure", "owner"): 1.12,
    ("concern", "low"): 0.59,
    ("concern", "high"): 1.41,
    ("region", "coast"): 0.89,
}


def _propensity(person: dict[str, str]) -> float:
    weight = 1.0
    for feature, value in person.items():
        weight *= _PROPENSITY.get((feature, value), 1.0)
    return weight


def _quota_bounds(share: float, k: int, available: int) -> tuple[int, int]:
    """Quota of one value: the population's share of ``k`` give or take one, within the pool."""
    target = share * k
    low = max(0, math.floor(target) - 1)
    high = math.ceil(target) + 1
    return min(low, available), max(high, 1)


def generate_pool(
    name: str,
    *,
    n: int,
    k: int,
    n_features: int,
    seed: int,
    population_sample: int = 50_000,
) -> Instance:
    """A pool of ``n`` respondents with the first ``n_features`` features of :data:`FEATURES_7`.

    Deterministic for a given ``seed``. The population shares (the quotas' basis) are measured on
    ``population_sample`` people drawn before self-selection; the pool is drawn with
    self-selection, so its shares differ, as in a real recruitment.
    """
    names = [f for f, _ in FEATURES_7[:n_features]]
    values = {f: v for f, v in FEATURES_7[:n_features]}
    rng = random.Random(seed)

    population: Counter[tuple[str, str]] = Counter()
    for _ in range(population_sample):
        person = _draw_person(rng, names)
        population.update(person.items())
    max_propensity = math.prod(
        max([w for (f, _), w in _PROPENSITY.items() if f == feature] + [1.0]) for feature in names
    )
    pool: list[dict[str, str]] = []
    while len(pool) < n:
        person = _draw_person(rng, names)
        if rng.random() * max_propensity < _propensity(person):
            pool.append(person)

    in_pool = Counter(item for person in pool for item in person.items())
    quotas: list[tuple[str, str, int, int]] = []
    for feature in names:
        for value in values[feature]:
            share = population[(feature, value)] / population_sample
            low, high = _quota_bounds(round(share, 3), k, in_pool[(feature, value)])
            quotas.append((feature, value, low, high))

    width = max(4, len(str(n)))
    people = tuple(
        (f"p{i:0{width}d}", tuple(person[f] for f in names)) for i, person in enumerate(pool, 1)
    )
    instance = Instance(
        name=name,
        k=k,
        features=tuple(names),
        people=people,
        quotas=tuple(quotas),
        source=f"generated: random.Random({seed}), n={n}, k={k}, {n_features} features",
    )
    panel = find_feasible_panel(instance)
    if panel is None:
        raise RuntimeError(f"{name}: no feasible panel found; the generator needs other settings")
    return instance


def find_feasible_panel(
    instance: Instance, *, seed: int = 0, steps: int = 200_000
) -> list[str] | None:
    """A panel meeting every quota, found by local search; ``None`` if none was found.

    A panel found is a certificate that the quotas are feasible (no solver needed).
    """
    rng = random.Random(seed)
    cells = {(f, v): (lo, hi) for f, v, lo, hi in instance.quotas}
    people = instance.people
    features = instance.features
    keys = [[(f, v) for f, v in zip(features, values, strict=True)] for _, values in people]

    chosen = rng.sample(range(len(people)), instance.k)
    inside = set(chosen)
    count = Counter(cell for i in chosen for cell in keys[i])

    def excess(c: int, cell: tuple[str, str]) -> int:
        lo, hi = cells.get(cell, (0, instance.k))
        return max(0, lo - c) + max(0, c - hi)

    def violation() -> int:
        return sum(excess(count[cell], cell) for cell in cells)

    def delta(out_person: int, in_person: int) -> int:
        change: Counter[tuple[str, str]] = Counter()
        for cell in keys[out_person]:
            change[cell] -= 1
        for cell in keys[in_person]:
            change[cell] += 1
        return sum(
            excess(count[cell] + d, cell) - excess(count[cell], cell)
            for cell, d in change.items()
            if d
        )

    current = violation()
    outside = [i for i in range(len(people)) if i not in inside]
    for _ in range(steps):
        if current == 0:
            return [people[i][0] for i in sorted(inside)]
        best: tuple[int, int, int] | None = None
        for _ in range(60):
            a = rng.randrange(instance.k)
            b = rng.randrange(len(outside))
            d = delta(chosen[a], outside[b])
            if best is None or d < best[0]:
                best = (d, a, b)
        assert best is not None
        d, a, b = best
        if d <= 0 or rng.random() < 0.05:
            old, new = chosen[a], outside[b]
            for cell in keys[old]:
                count[cell] -= 1
            for cell in keys[new]:
                count[cell] += 1
            chosen[a], outside[b] = new, old
            inside.discard(old)
            inside.add(new)
            current += d
    return None


# --------------------------------------------------------------------------------------------
# registry and files

GENERATORS: dict[str, Callable[[], Instance]] = {
    "generated_400_40": lambda: generate_pool(
        "generated_400_40", n=400, k=40, n_features=6, seed=20240401
    ),
    "generated_1727_110": lambda: generate_pool(
        "generated_1727_110", n=1727, k=110, n_features=7, seed=20210811
    ),
}


def load_instance(name: str, data_dir: Path | None = None) -> Instance:
    """An instance by name; raises :class:`InstanceUnavailableError` when its data is missing."""
    if name in PAPER_K:
        return load_paper_instance(name, data_dir)
    if name in GENERATORS:
        return GENERATORS[name]()
    raise KeyError(f"unknown instance {name!r}; known: {', '.join(ALL_INSTANCES)}")


def write_instance(instance: Instance, folder: Path) -> tuple[Path, Path]:
    """Write ``people.csv`` and ``quotas.csv`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    people_path = folder / "people.csv"
    quotas_path = folder / "quotas.csv"
    with people_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *instance.features])
        for pid, values in instance.people:
            writer.writerow([pid, *values])
    with quotas_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["feature", "value", "min", "max"])
        writer.writerows(instance.quotas)
    return people_path, quotas_path


def summary(instance: Instance) -> str:
    """A few lines: size, and per value its pool share next to its quota."""
    lines = [
        f"{instance.name}: n={instance.n} k={instance.k} features={len(instance.features)} "
        f"({instance.source})"
    ]
    counts = Counter(
        (f, v)
        for _, values in instance.people
        for f, v in zip(instance.features, values, strict=True)
    )
    for feature in instance.features:
        parts = []
        for f, v, lo, hi in instance.quotas:
            if f == feature:
                parts.append(f"{v} {counts[(f, v)] / instance.n:.0%}→[{lo},{hi}]")
        lines.append(f"  {feature}: " + ", ".join(parts))
    types = len({values for _, values in instance.people})
    gaps = [
        (counts[(f, v)] / instance.n - (lo + hi) / 2 / instance.k) ** 2
        for f, v, lo, hi in instance.quotas
    ]
    lines.append(
        f"  distinct feature vectors: {types}; mean squared gap pool share vs quota midpoint "
        f"share: {sum(gaps) / len(gaps):.1e}"
    )
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="*", default=list(ALL_INSTANCES))
    parser.add_argument("--write", type=Path, help="write <DIR>/<instance>/{people,quotas}.csv")
    args = parser.parse_args(list(argv) if argv is not None else None)
    for name in args.instances:
        try:
            instance = load_instance(name)
        except InstanceUnavailableError as error:
            print(error)
            continue
        print(summary(instance))
        if find_feasible_panel(instance) is None:
            print("  WARNING: local search found no feasible panel")
        if args.write:
            people, quotas = write_instance(instance, args.write / name)
            print(f"  wrote {people} and {quotas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
