"""Checks of quotas against the pool and panel size, and of panels against the quotas.

:func:`check_quotas` runs before any algorithm. Cheap checks come first, each with a message that
names the quota; then an integer program decides whether any panel exists, and if none does, a
second one finds the smallest relaxation of the quotas (fewest people of slack in total) that
makes one exist, in the spirit of sortition-algorithms' infeasibility report.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp

from sortition.errors import InfeasibleQuotasError, QuotaError, Relaxation
from sortition.model import Pool, Quotas
from sortition.structure import PoolStructure

__all__ = ["check_quotas", "panel_violations", "suggest_relaxation"]


def check_quotas(structure: PoolStructure) -> None:
    """Raise a :class:`QuotaError` if no panel of size ``k`` can meet the quotas.

    Raises
    ------
    QuotaError
        With code ``bad-size`` (k < 1), ``pool-too-small`` (fewer households than k),
        ``min-above-pool`` (a minimum larger than the people with that value),
        ``mins-exceed-size`` or ``maxes-below-size`` (for one feature).
    InfeasibleQuotasError
        When the quotas pass those checks but still admit no panel; it carries the smallest
        relaxation that would.
    """
    s = structure
    if s.k < 1:
        raise QuotaError("bad-size", f"the panel size must be at least 1, not {s.k}")
    units = sum(len(ut.units) for ut in s.unit_types)
    if units < s.k:
        what = "households" if units < len(s.pool) else "people"
        raise QuotaError(
            "pool-too-small",
            f"the pool has {units} {what}, fewer than the panel size {s.k}",
            params={"units": units, "k": s.k},
        )
    in_pool = s.membership @ s.sizes
    for (feature, value), lo, count in zip(s.cells, s.lower, in_pool, strict=True):
        if lo > count:
            raise QuotaError(
                "min-above-pool",
                f"the quota for {feature}/{value} asks for at least {lo} but only {count} "
                "people in the pool have that value",
                params={"feature": feature, "value": value, "min": int(lo), "pool": int(count)},
            )
    for feature in s.features:
        rows = [i for i, (f, _) in enumerate(s.cells) if f == feature]
        mins, maxes = int(s.lower[rows].sum()), int(s.upper[rows].sum())
        if mins > s.k:
            raise QuotaError(
                "mins-exceed-size",
                f"the minimums of feature '{feature}' add up to {mins}, more than the panel "
                f"size {s.k}",
                params={"feature": feature, "sum": mins, "k": s.k},
            )
        if maxes < s.k:
            raise QuotaError(
                "maxes-below-size",
                f"the maximums of feature '{feature}' add up to {maxes}, less than the panel "
                f"size {s.k}",
                params={"feature": feature, "sum": maxes, "k": s.k},
            )
    if _solve(s, relax=False) is None:
        suggestion = suggest_relaxation(s)
        raise InfeasibleQuotasError(
            f"no panel of {s.k} people meets all quotas"
            + (" and the household rule" if s.household_rows or (s.caps < s.sizes).any() else "")
            + ".",
            suggestion=suggestion,
        )


def suggest_relaxation(structure: PoolStructure) -> tuple[Relaxation, ...]:
    """The smallest change to the quotas that lets some panel meet them.

    Minimises the total number of people by which minimums are lowered and maximums raised.
    Returns an empty tuple if the quotas are feasible or no relaxation helps.
    """
    solution = _solve(structure, relax=True)
    if solution is None:
        return ()
    n, c = structure.n_classes, len(structure.cells)
    down = np.rint(solution[n : n + c]).astype(np.int64)
    up = np.rint(solution[n + c :]).astype(np.int64)
    changes = []
    for i, (feature, value) in enumerate(structure.cells):
        if down[i] or up[i]:
            lo, hi = int(structure.lower[i]), int(structure.upper[i])
            changes.append(Relaxation(feature, value, lo, hi, lo - int(down[i]), hi + int(up[i])))
    return tuple(changes)


def _solve(structure: PoolStructure, *, relax: bool) -> npt.NDArray[np.float64] | None:
    s = structure
    n, c = s.n_classes, len(s.cells)
    extra = 2 * c if relax else 0
    if relax:
        eye, zero = np.eye(c), np.zeros((c, c))
        rows = [
            LinearConstraint(np.hstack([s.membership, eye, zero]), s.lower, np.inf),
            LinearConstraint(np.hstack([s.membership, zero, -eye]), -np.inf, s.upper),
        ]
    else:
        rows = [LinearConstraint(s.membership, s.lower, s.upper)]
    size_row = np.zeros(n + extra)
    size_row[:n] = 1
    rows.append(LinearConstraint(size_row, s.k, s.k))
    for class_indices, units in s.household_rows:
        row = np.zeros(n + extra)
        row[list(class_indices)] = 1
        rows.append(LinearConstraint(row, -np.inf, units))
    upper = np.concatenate([s.caps, s.lower, np.full(c, float(s.k))]) if relax else s.caps
    cost = np.concatenate([np.zeros(n), np.ones(2 * c)]) if relax else np.zeros(n)
    result = milp(
        cost,
        integrality=np.ones(n + extra),
        bounds=Bounds(np.zeros(n + extra), upper),
        constraints=rows,
    )
    if result.status != 0 or result.x is None:
        return None
    return np.asarray(result.x)


def panel_violations(pool: Pool, quotas: Quotas, k: int, selected: Iterable[str]) -> list[str]:
    """Check one panel of people directly against the quotas and the household rule.

    This works on the raw pool, independently of the class structure the algorithms use, so
    it can check their output. Returns every problem found, in words; empty if none.
    """
    ids = list(selected)
    people = {p.id: p for p in pool.people}
    problems = []
    if len(ids) != k:
        problems.append(f"panel has {len(ids)} members, not {k}")
    if len(set(ids)) != len(ids):
        problems.append("someone is on the panel twice")
    unknown = [i for i in ids if i not in people]
    if unknown:
        problems.append(f"{len(unknown)} panel members are not in the pool")
    members = [people[i] for i in ids if i in people]
    for quota in quotas.quotas:
        count = sum(1 for p in members if p.features.get(quota.feature) == quota.value)
        if not quota.min <= count <= quota.max:
            problems.append(
                f"{quota.feature}/{quota.value}: {count} selected, quota {quota.min}-{quota.max}"
            )
    households = [p.household for p in members if p.household is not None]
    if len(set(households)) != len(households):
        problems.append("more than one person selected from a household")
    return problems
