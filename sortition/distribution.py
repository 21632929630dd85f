"""Distributions over panels, and the seeded draw of one panel.

A :class:`Distribution` holds *compositions* (a count per class of interchangeable people, see
:mod:`sortition.structure`) with probabilities. A composition stands for all the panels of people
that realise it, each equally likely: the draw first picks a composition by its probability, then
picks the members of each class uniformly. So each member of class ``g`` is selected with
probability ``sum_P pi_P * count_Pg / size_g``, and every panel that can come out meets every
quota and the household rule.

The draw uses only integers derived from the seed by SHA-256 (:mod:`sortition.randomness`); its
steps are specified in ``docs/randomness.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from sortition.randomness import SeededStream
from sortition.structure import PoolStructure

__all__ = ["WEIGHT_DENOMINATOR", "Distribution", "integer_weights", "realise"]

#: Panel probabilities are turned into integer weights summing to this before the draw.
WEIGHT_DENOMINATOR = 2**32


@dataclass(frozen=True, eq=False)
class Distribution:
    """A probability distribution over panels, by composition.

    Attributes
    ----------
    structure : PoolStructure
        The pool, quotas and panel size the distribution is for.
    algorithm : str
        The algorithm that computed it.
    compositions : ndarray of int, shape (panels, classes)
        Each row a feasible composition, rows sorted lexicographically (canonical order).
    weights : ndarray of float, shape (panels,)
        Probability of each composition; they sum to 1.
    estimated : bool
        True when the probabilities are Monte-Carlo estimates (the legacy algorithm).
    stats : dict
        Figures about the computation (solver calls, columns, seconds).
    """

    structure: PoolStructure
    algorithm: str
    compositions: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    estimated: bool = False
    stats: dict[str, float] = field(default_factory=dict)

    @classmethod
    def canonical(
        cls,
        structure: PoolStructure,
        algorithm: str,
        compositions: npt.NDArray[np.int64],
        weights: npt.NDArray[np.float64],
        *,
        estimated: bool = False,
        stats: dict[str, float] | None = None,
        min_weight: float = 1e-12,
    ) -> Distribution:
        """Drop negligible compositions, merge duplicates, normalise, and sort canonically."""
        merged: dict[tuple[int, ...], float] = {}
        for row, w in zip(compositions, weights, strict=True):
            if w > min_weight:
                key = tuple(int(v) for v in row)
                merged[key] = merged.get(key, 0.0) + float(w)
        keys = sorted(merged)
        comp = np.array(keys, dtype=np.int64).reshape(len(keys), structure.n_classes)
        w_arr = np.array([merged[k] for k in keys], dtype=np.float64)
        w_arr = w_arr / w_arr.sum()
        return cls(structure, algorithm, comp, w_arr, estimated, dict(stats or {}))

    @property
    def class_probabilities(self) -> npt.NDArray[np.float64]:
        """Selection probability of a member of each class."""
        expected = self.weights @ self.compositions
        return np.asarray(expected / self.structure.sizes, dtype=np.float64)

    @property
    def probabilities(self) -> dict[str, float]:
        """Selection probability of every pool member, by id (sorted by id)."""
        out: dict[str, float] = {}
        for person_class, p in zip(self.structure.classes, self.class_probabilities, strict=True):
            for member in person_class.members:
                out[member] = float(p)
        return dict(sorted(out.items()))

    def violations(self) -> list[str]:
        """Every rule any composition breaks, plus problems with the weights; empty if none."""
        problems = []
        for i, row in enumerate(self.compositions):
            problems += [f"panel {i}: {p}" for p in self.structure.violations(row)]
        if (self.weights < 0).any() or abs(float(self.weights.sum()) - 1.0) > 1e-9:
            problems.append("panel probabilities are negative or do not sum to 1")
        return problems


def integer_weights(weights: npt.NDArray[np.float64]) -> list[int]:
    """Turn probabilities into integers summing to :data:`WEIGHT_DENOMINATOR`, exactly.

    Each float is read as the exact rational it is; ``w_i / sum(w)`` times the denominator is
    floored, and the units left over go one each to the largest remainders (ties to the lower
    index). No floating-point operation is involved, so the result is the same everywhere.
    """
    exact = [Fraction(float(w)) for w in weights]
    total = sum(exact, Fraction(0))
    scaled = [w / total * WEIGHT_DENOMINATOR for w in exact]
    floors = [int(s) for s in scaled]  # s >= 0, so int() floors
    left = WEIGHT_DENOMINATOR - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def realise(
    structure: PoolStructure, counts: npt.NDArray[np.int64], stream: SeededStream
) -> list[str]:
    """Choose the people of one composition, uniformly within each class.

    Unit types are visited in canonical order. For each with ``t`` members to select (the sum of
    its classes' counts), ``t`` of its units (households, sorted by their sorted member ids) are
    sampled with :meth:`SeededStream.sample`; the first ``count`` sampled units go to the type's
    first class, the next to the second, and so on. From each unit the member with the class's
    feature vector is taken; if the unit has several, one is chosen with ``randbelow``.
    Returns the selected ids, sorted.
    """
    selected: list[str] = []
    for unit_type in structure.unit_types:
        wanted = [(g, int(counts[g])) for g in unit_type.classes if counts[g] > 0]
        total = sum(c for _, c in wanted)
        if total == 0:
            continue
        units = stream.sample(unit_type.units, total)
        position = 0
        for g, count in wanted:
            person_class = structure.classes[g]
            member_set = set(person_class.members)
            for unit in units[position : position + count]:
                candidates = [m for m in unit if m in member_set]
                selected.append(candidates[stream.randbelow(len(candidates))])
            position += count
    return sorted(selected)
