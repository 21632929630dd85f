"""Rounding loss of the transparent lottery (m panels): a benchmark, not a test.

For each instance: compute the LEXIMIN distribution, round it to a uniform lottery over ``m``
panels with :func:`sortition.round_lottery`, and print the largest change of anyone's
selection probability (the *rounding loss*, in units of ``1/m``), next to

* the same distribution rounded by largest remainders of ``m * p`` per composition, then
  realised the same way (what one gets without optimising the rounding), and
* ``k/m``, a worst-case scale (each panel holds ``k`` people; B. Flanigan, G. Kehne,
  A. D. Procaccia, "Fair Sortition Made Transparent", NeurIPS 2021).

Usage (from the repository root)::

    .venv/bin/python benchmarks/lottery_bench.py [--panels 1000] [--instances NAME ...]

Instances: ``example_small_20`` and ``example_large_200`` (paper data, read from
``$STADMAKEN_SHARED_DATA/sortition``, skipped with a message when absent), ``generated_400_40``
and ``haarlem`` (the bundled example, households by postcode and house number; its LEXIMIN
takes about a minute).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from instances import InstanceUnavailableError, load_instance  # noqa: E402

from sortition import (  # noqa: E402
    Distribution,
    Person,
    Pool,
    Quotas,
    find_distribution,
    read_people,
    read_quotas,
    round_lottery,
)
from sortition.lottery import _realise_all  # noqa: E402

INSTANCES = ("example_small_20", "example_large_200", "generated_400_40", "haarlem")


def _load(name: str) -> tuple[Pool, Quotas, int]:
    if name == "haarlem":
        folder = REPO / "examples" / "haarlem"
        quotas = read_quotas(folder / "quotas.csv")
        pool = read_people(
            folder / "people.csv", quotas, household_columns=["postcode", "huisnummer"]
        )
        return pool, quotas, 30
    instance = load_instance(name)
    quotas = Quotas.from_rows(instance.quotas)
    people = tuple(Person(pid, values) for pid, values in instance.feature_dicts())
    return Pool(people), quotas, instance.k


def _largest_remainder_loss(distribution: Distribution, m: int) -> float:
    scaled = m * distribution.weights
    copies = np.floor(scaled).astype(np.int64)
    order = np.argsort(-(scaled - copies), kind="stable")
    copies[order[: m - int(copies.sum())]] += 1
    panels = _realise_all(distribution.structure, distribution.compositions, list(copies))
    counts: dict[str, int] = {}
    for panel in panels:
        for member in panel:
            counts[member] = counts.get(member, 0) + 1
    target = distribution.probabilities
    return max(abs(counts.get(pid, 0) / m - p) for pid, p in target.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panels", type=int, default=1000)
    parser.add_argument("--instances", nargs="+", default=list(INSTANCES))
    args = parser.parse_args(argv)
    m = args.panels
    header = (
        f"{'instance':<20} {'n':>5} {'k':>4} {'support':>7} {'leximin s':>9} "
        f"{'round s':>7} {'loss*m':>7} {'largest-rem.*m':>14} {'k':>4}  min before -> after"
    )
    print(f"transparent lottery, m = {m}: rounding loss in units of 1/m")
    print(header)
    for name in args.instances:
        try:
            pool, quotas, k = _load(name)
        except InstanceUnavailableError as exc:
            print(f"skipped: {name}: {exc}")
            continue
        start = time.perf_counter()
        distribution = find_distribution(pool, quotas, k, algorithm="leximin")
        solve = time.perf_counter() - start
        start = time.perf_counter()
        lottery = round_lottery(distribution, m)
        rounding = time.perf_counter() - start
        naive = _largest_remainder_loss(distribution, m)
        before = min(lottery.target.values())
        after = min(lottery.counts.values()) / m
        print(
            f"{name:<20} {len(pool):>5} {k:>4} {len(distribution.weights):>7} {solve:>9.1f} "
            f"{rounding:>7.2f} {lottery.loss * m:>7.3f} {naive * m:>14.3f} {k:>4}  "
            f"{before:.6f} -> {after:.6f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
