"""Transparent lotteries: a distribution rounded to a uniform choice among ``m`` panels.

An optimised distribution (LEXIMIN, MAXIMIN, NASH) gives panels irrational-looking
probabilities, so its final random step can only be done by a computer. Rounding it to a
*uniform lottery* over ``m`` published panels (a panel may occur several times) makes the last
step "pick one of ``m``", which three ten-sided dice can do on camera for ``m = 1000``
(B. Flanigan, G. Kehne, A. D. Procaccia, "Fair Sortition Made Transparent", NeurIPS 2021,
https://arxiv.org/abs/2006.10498). Each person's selection probability becomes
``(panels that contain them) / m``; the *rounding loss* is the largest change.

The rounding has three steps, all deterministic (no randomness is involved before the seed):

1. **Compositions.** Each composition ``P`` of the distribution gets a whole number of the ``m``
   panels, ``c_P``. Start from ``floor(m * p_P)`` and hand out the units left one at a time to
   the composition that lowers the squared deviation most; then move single units between
   compositions while that lowers it (local search). The deviation of class ``g`` is
   ``(sum_P c_P x_Pg - m * E[x_g]) / sqrt(size_g)``: the sum of squares over classes is the
   sum over *people* of ``m**2 * (change of their probability)**2`` when members of a class
   share its panels equally. Then move single units while that lowers the *largest* change of
   anyone's probability (members of a class get ``floor`` or ``ceil`` of their class's share),
   or keeps it and lowers the number of classes that reach it.
2. **Swaps.** While the class whose members are furthest from their target can be helped by
   swapping one member of one copy for a member of another class (the composition still
   meeting every quota and the household rule, the other class staying closer to its target
   than the first was), the swap is made. Swapped copies may be compositions outside the
   distribution's support; every one is feasible.
3. **People.** The ``c_P`` copies are realised as panels of people, panel after panel, each
   class's seats going to the members of that class who have had the fewest so far (then the
   one used longest ago, then the lowest id), never two from one household. So members of a
   class get equal numbers of panels, give or take one.

Every panel is checked against the quotas and the household rule on the raw pool.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from sortition.distribution import Distribution
from sortition.errors import SolverError
from sortition.structure import PoolStructure
from sortition.validation import panel_violations

__all__ = ["DEFAULT_PANELS", "Lottery", "round_lottery"]

#: Panels of a transparent lottery unless asked otherwise (three ten-sided dice).
DEFAULT_PANELS = 1000
#: The local search stops after this many moves per panel of the lottery (it converges sooner).
MOVES_PER_PANEL = 20
#: The minimax step tries moves away from at most this many compositions at a time; it is run
#: once per limit and the best result is kept (the search is greedy, so its path matters).
MINIMAX_DONORS = (32, 64, 128, 256)


@dataclass(frozen=True, eq=False)
class Lottery:
    """A uniform lottery over ``m`` panels.

    Attributes
    ----------
    structure : PoolStructure
        The pool, quotas and panel size.
    algorithm : str
        The algorithm of the distribution that was rounded.
    panels : tuple of tuple of str
        The ``m`` panels, each a sorted tuple of ids; the list is sorted too.
    target : dict of str to float
        Every pool member's selection probability before rounding, by id.
    """

    structure: PoolStructure
    algorithm: str
    panels: tuple[tuple[str, ...], ...]
    target: dict[str, float]

    @property
    def m(self) -> int:
        """Number of panels."""
        return len(self.panels)

    @property
    def counts(self) -> dict[str, int]:
        """How many panels contain each pool member (zero included), sorted by id."""
        counter = Counter(member for panel in self.panels for member in panel)
        return {pid: counter.get(pid, 0) for pid in sorted(self.target)}

    @property
    def loss(self) -> float:
        """The largest change of anyone's selection probability caused by the rounding."""
        return max(abs(c / self.m - self.target[pid]) for pid, c in self.counts.items())

    def probability(self, person: str) -> Fraction:
        """Selection probability of ``person`` in the lottery, exactly."""
        return Fraction(self.counts[person], self.m)


def round_lottery(distribution: Distribution, m: int = DEFAULT_PANELS) -> Lottery:
    """Round ``distribution`` to a uniform lottery over ``m`` panels.

    Parameters
    ----------
    distribution : Distribution
        An optimised distribution (not LEGACY's Monte-Carlo estimate).
    m : int
        Number of panels, at least 1.

    Returns
    -------
    Lottery

    Raises
    ------
    ValueError
        If ``m < 1`` or the distribution is an estimate.
    SolverError
        If a panel breaks a rule (which would be a bug).

    References
    ----------
    B. Flanigan, G. Kehne, A. D. Procaccia, "Fair Sortition Made Transparent", NeurIPS 2021.
    """
    if m < 1:
        raise ValueError("a lottery needs at least one panel")
    if distribution.estimated:
        raise ValueError("an estimated distribution cannot be rounded to a lottery")
    structure = distribution.structure
    start = _round_compositions(structure, distribution.compositions, distribution.weights, m)
    target = m * (distribution.weights @ distribution.compositions)
    best: tuple[float, npt.NDArray[np.int64], list[int]] | None = None
    for donors in MINIMAX_DONORS:
        moved = start.copy()
        _minimax(moved, distribution.compositions, structure.sizes, target, m, donors)
        rows, counts = _swap_members(
            structure, distribution.compositions, [int(c) for c in moved], target, m
        )
        seats = np.asarray(np.array(counts) @ rows, dtype=np.int64)
        worst = float(_person_deviation(seats, structure.sizes, target).max())
        if best is None or worst < best[0] - 1e-12:
            best = (worst, rows, counts)
    assert best is not None
    panels = _realise_all(structure, best[1], best[2])
    for panel in panels:
        problems = panel_violations(structure.pool, structure.quotas, structure.k, panel)
        if problems:
            raise SolverError("panel-invalid", "a lottery panel breaks a rule: " + problems[0])
    return Lottery(
        structure, distribution.algorithm, tuple(sorted(panels)), distribution.probabilities
    )


def _round_compositions(
    structure: PoolStructure,
    compositions: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    m: int,
) -> npt.NDArray[np.int64]:
    """Whole numbers of panels per composition, summing to ``m``: the sum-of-squares part of
    step 1 of the module doc."""
    x = compositions.astype(np.float64)
    scale = 1.0 / np.sqrt(structure.sizes.astype(np.float64))
    target = m * (weights @ x)
    copies = np.floor(m * weights).astype(np.int64)
    z = x * scale
    gram = z @ z.T
    norms = np.diag(gram).copy()
    deviation = (copies @ x - target) * scale
    slope = z @ deviation  # adding one copy of P changes the sum of squares by 2 slope_P + norm_P
    for _ in range(m - int(copies.sum())):
        best = int(np.argmin(2.0 * slope + norms))
        copies[best] += 1
        slope += gram[:, best]
    for _ in range(MOVES_PER_PANEL * m):
        # moving one copy from a to b changes it by 2 (slope_b - slope_a) + |z_b - z_a|^2
        donors = np.flatnonzero(copies > 0)
        change = (
            2.0 * (slope[None, :] - slope[donors, None])
            + norms[donors, None]
            + norms[None, :]
            - 2.0 * gram[donors, :]
        )
        flat = int(np.argmin(change))
        a, b = int(donors[flat // len(norms)]), flat % len(norms)
        if change.flat[flat] >= -1e-9:
            break
        copies[a] -= 1
        copies[b] += 1
        slope += gram[:, b] - gram[:, a]
    return copies


def _person_deviation(
    seats: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Largest ``|panels - m * probability|`` of a class's members, given its seats.

    The members of a class share its seats as evenly as possible, so each has ``floor`` or
    ``ceil`` of ``seats / size``.
    """
    share = target / sizes
    low = np.abs(seats // sizes - share)
    high = np.abs(-(-seats // sizes) - share)
    return np.asarray(np.maximum(low, high), dtype=np.float64)


def _minimax(
    copies: npt.NDArray[np.int64],
    compositions: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    target: npt.NDArray[np.float64],
    m: int,
    donors_limit: int,
) -> None:
    """Move single copies while that lowers the largest change of anyone's probability.

    Each step looks at the class with the largest change and tries every move of one copy
    between compositions that pushes that class the right way (from at most
    ``donors_limit`` donors); it takes the move that leaves the smallest largest change,
    then the fewest classes at it. Stops when no move improves, in place.
    """
    seats = copies @ compositions
    for _ in range(MOVES_PER_PANEL * m):
        deviation = _person_deviation(seats, sizes, target)
        worst = int(np.argmax(deviation))
        current = (float(deviation[worst]), int((deviation >= deviation[worst] - 1e-9).sum()))
        column = compositions[:, worst]
        excess = bool(seats[worst] > target[worst])
        if excess:
            donors = np.flatnonzero((copies > 0) & (column > 0))[:donors_limit]
            receivers = np.arange(len(copies))
        else:
            donors = np.flatnonzero(copies > 0)[:donors_limit]
            receivers = np.flatnonzero(column > 0)
        best: tuple[float, int, int, int] | None = None
        for a in donors:
            trial = seats[None, :] - compositions[a][None, :] + compositions[receivers]
            dev = _person_deviation(trial, sizes[None, :], target[None, :])
            top = dev.max(axis=1)
            ties = (dev >= top[:, None] - 1e-9).sum(axis=1)
            for r in np.lexsort((ties, top))[:1]:
                key = (float(top[r]), int(ties[r]), int(a), int(receivers[r]))
                if best is None or key < best:
                    best = key
        if best is None:
            return
        top_after, ties_after, a, b = best
        better = top_after < current[0] - 1e-9 or (
            top_after <= current[0] + 1e-9 and ties_after < current[1]
        )
        if not better or a == b:
            return
        copies[a] -= 1
        copies[b] += 1
        seats += compositions[b] - compositions[a]


def _swap_members(
    structure: PoolStructure,
    compositions: npt.NDArray[np.int64],
    copies: list[int],
    target: npt.NDArray[np.float64],
    m: int,
) -> tuple[npt.NDArray[np.int64], list[int]]:
    """Swap single members between classes in single panels (step 2 of the module doc).

    While some class's members are furthest from their target, take one copy of a composition
    and swap one member: out of that class if it has too many panels, into it if too few, with
    the other class chosen so that the composition still meets every quota and the household
    rule and the largest deviation of the two classes is smallest. A move is made only if the
    largest deviation overall falls, or stays and fewer classes reach it. The swapped
    composition (possibly new, outside the distribution's support) gets the copy.
    """
    sizes = structure.sizes
    membership = structure.membership
    unit_of = np.array([c.unit_type for c in structure.classes], dtype=np.int64)
    units = np.array([len(u.units) for u in structure.unit_types], dtype=np.int64)
    rows = [row.copy() for row in compositions]
    count = list(copies)
    where = {tuple(int(v) for v in row): i for i, row in enumerate(rows)}
    seats = np.asarray(np.array(count) @ compositions, dtype=np.int64)
    for _ in range(MOVES_PER_PANEL * m):
        deviation = _person_deviation(seats, sizes, target)
        worst = int(np.argmax(deviation))
        top = float(deviation[worst])
        excess = bool(seats[worst] * 1.0 > target[worst])
        step = -1 if excess else 1
        after_worst = float(
            _person_deviation(seats[[worst]] + step, sizes[[worst]], target[[worst]])[0]
        )
        # the partner class moves the other way: +1 if the worst loses a member, -1 if it gains
        partner = _person_deviation(seats - step, sizes, target)
        best: tuple[float, float, int, int] | None = None
        for a, row in enumerate(rows):
            if count[a] == 0 or (excess and row[worst] == 0):
                continue
            quota = membership @ row
            if excess:  # worst out, partner h in
                counts = quota[:, None] - membership[:, [worst]] + membership
                room = units[unit_of] - np.bincount(unit_of, row, len(units))[unit_of]
                room = room + (unit_of == unit_of[worst])
                possible = room >= 1
            else:  # partner g out, worst in
                counts = quota[:, None] + membership[:, [worst]] - membership
                used = np.bincount(unit_of, row, len(units))[unit_of[worst]]
                same = unit_of == unit_of[worst]
                possible = (row > 0) & ((used < units[unit_of[worst]]) | same)
            possible &= (
                (counts >= structure.lower[:, None]) & (counts <= structure.upper[:, None])
            ).all(axis=0)
            possible[worst] = False
            if not possible.any():
                continue
            candidates = np.flatnonzero(possible)
            scores = np.maximum(partner[candidates], after_worst)
            pick = int(np.lexsort((partner[candidates], scores))[0])
            key = (float(scores[pick]), float(partner[candidates[pick]]), a, int(candidates[pick]))
            if best is None or key < best:
                best = key
        if best is None:
            break
        if best[0] >= top - 1e-9:
            break
        _, _, a, other = best
        row = rows[a].copy()
        row[worst] += step
        row[other] -= step
        seats[worst] += step
        seats[other] -= step
        count[a] -= 1
        key_row = tuple(int(v) for v in row)
        if key_row not in where:
            where[key_row] = len(rows)
            rows.append(row)
            count.append(0)
        count[where[key_row]] += 1
    return np.array(rows, dtype=np.int64), count


def _realise_all(
    structure: PoolStructure, compositions: npt.NDArray[np.int64], copies: list[int]
) -> list[tuple[str, ...]]:
    """Panels of people for the composition copies (step 3 of the module doc)."""
    used: Counter[str] = Counter()
    last: dict[str, int] = {}
    panels: list[tuple[str, ...]] = []
    for composition, count in zip(compositions, copies, strict=True):
        for _ in range(count):
            tick = len(panels)
            selected: list[str] = []
            for unit_type in structure.unit_types:
                taken: set[int] = set()
                for g in unit_type.classes:
                    need = int(composition[g])
                    if need == 0:
                        continue
                    members = set(structure.classes[g].members)
                    options = []
                    for u, unit in enumerate(unit_type.units):
                        if u in taken:
                            continue
                        person = min(
                            (p for p in unit if p in members),
                            key=lambda p: (used[p], last.get(p, -1), p),
                        )
                        options.append((used[person], last.get(person, -1), u, person))
                    for _, _, u, person in sorted(options)[:need]:
                        taken.add(u)
                        selected.append(person)
                        used[person] += 1
                        last[person] = tick
            panels.append(tuple(sorted(selected)))
    return panels
