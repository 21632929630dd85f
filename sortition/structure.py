"""The pool compressed to classes of interchangeable people.

Two people with the same value for every quota feature are interchangeable in every quota, so the
optimisation runs over *classes* with counts instead of over people (and is lifted back to
people by choosing uniformly within each class). The household rule (at most one selected person
per household) breaks this symmetry only between households of different make-up, so:

* a *unit* is a household (a person living alone is a unit of one);
* a *unit type* is the multiset of the feature vectors of a unit's members; units of one type
  are interchangeable;
* a *class* is a pair (unit type, feature vector of a member); its size is the number of people
  in it, ``units of the type x members per unit with that vector``.

A *composition* gives a count per class. It is feasible when every quota holds, the counts sum to
the panel size, and each unit type contributes at most one person per unit (the sum of its
classes' counts is at most its number of units, and each class's count is at most that too).
Every composition is realised by panels of people that meet the quotas and the household rule, and
choosing uniformly within classes (see :mod:`sortition.draw`) gives each member of class ``g``
the probability ``count_g / size_g``.

All orders are canonical (sorted by feature name, value, and person id), so the order of the rows
of the input files changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sortition.errors import InputError
from sortition.model import Pool, Quotas

__all__ = ["PersonClass", "PoolStructure", "UnitType"]

Vector = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnitType:
    """Households whose members have the same multiset of feature vectors."""

    key: tuple[Vector, ...]
    units: tuple[tuple[str, ...], ...]  # each unit: its member ids, sorted
    classes: tuple[int, ...]  # indices into PoolStructure.classes


@dataclass(frozen=True, slots=True)
class PersonClass:
    """People of one unit type with one feature vector: interchangeable in every respect."""

    vector: Vector
    unit_type: int
    per_unit: int  # members with this vector in each unit of the type
    members: tuple[str, ...]  # sorted ids

    @property
    def size(self) -> int:
        """Number of people in the class."""
        return len(self.members)


@dataclass(frozen=True, slots=True, eq=False)
class PoolStructure:
    """The pool, quotas and panel size as arrays over classes, ready for the solvers.

    Attributes
    ----------
    features : tuple of str
        Quota features, sorted by name; ``PersonClass.vector`` follows this order.
    cells : tuple of (feature, value)
        Every quota, sorted; rows of ``membership``, ``lower`` and ``upper``.
    membership : ndarray, shape (cells, classes)
        1 where the class has the cell's value.
    lower, upper : ndarray, shape (cells,)
        Quota bounds.
    sizes : ndarray, shape (classes,)
        People per class.
    caps : ndarray, shape (classes,)
        Most members of a class one panel can hold (its number of units).
    household_rows : tuple of (class indices, units)
        For unit types with more than one class: their counts may sum to at most ``units``.
    """

    pool: Pool
    quotas: Quotas
    k: int
    features: tuple[str, ...]
    cells: tuple[tuple[str, str], ...]
    classes: tuple[PersonClass, ...]
    unit_types: tuple[UnitType, ...]
    membership: npt.NDArray[np.int64]
    lower: npt.NDArray[np.int64]
    upper: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    caps: npt.NDArray[np.int64]
    household_rows: tuple[tuple[tuple[int, ...], int], ...]

    @classmethod
    def build(cls, pool: Pool, quotas: Quotas, k: int) -> PoolStructure:
        """Compress ``pool`` into classes.

        Raises
        ------
        InputError
            If a person lacks a quota feature or has a value without a quota.
        """
        features = tuple(sorted(quotas.features))
        cells = quotas.canonical_cells()
        cell_index = {cell: i for i, cell in enumerate(cells)}
        vectors: dict[str, Vector] = {}
        for person in pool.people:
            values: list[str] = []
            for feature in features:
                value = person.features.get(feature)
                if value is None:
                    raise InputError(
                        "missing-value",
                        f"person '{person.id}' has no value for feature '{feature}'",
                        column=feature,
                    )
                if (feature, value) not in cell_index:
                    raise InputError(
                        "unknown-value",
                        f"person '{person.id}' has value '{value}' for '{feature}', "
                        "which has no quota",
                        column=feature,
                    )
                values.append(value)
            vectors[person.id] = tuple(values)

        households: dict[tuple[int, str], list[str]] = defaultdict(list)
        for person in pool.people:
            # people living alone (household None) form units of their own
            unit_key = (1, person.household) if person.household is not None else (0, person.id)
            households[unit_key].append(person.id)
        by_type: dict[tuple[Vector, ...], list[tuple[str, ...]]] = defaultdict(list)
        for ids in households.values():
            unit = tuple(sorted(ids))
            by_type[tuple(sorted(vectors[m] for m in unit))].append(unit)

        classes: list[PersonClass] = []
        unit_types: list[UnitType] = []
        for type_index, type_key in enumerate(sorted(by_type)):
            units = tuple(sorted(by_type[type_key]))
            class_indices = []
            for vector in sorted(set(type_key)):
                members = tuple(sorted(m for unit in units for m in unit if vectors[m] == vector))
                class_indices.append(len(classes))
                classes.append(PersonClass(vector, type_index, type_key.count(vector), members))
            unit_types.append(UnitType(type_key, units, tuple(class_indices)))

        membership = np.zeros((len(cells), len(classes)), dtype=np.int64)
        for g, person_class in enumerate(classes):
            for feature, value in zip(features, person_class.vector, strict=True):
                membership[cell_index[(feature, value)], g] = 1
        lower = np.array([quotas.get(f, v).min for f, v in cells], dtype=np.int64)
        upper = np.array([quotas.get(f, v).max for f, v in cells], dtype=np.int64)
        sizes = np.array([c.size for c in classes], dtype=np.int64)
        caps = np.array([len(unit_types[c.unit_type].units) for c in classes], dtype=np.int64)
        household_rows = tuple(
            (ut.classes, len(ut.units)) for ut in unit_types if len(ut.classes) > 1
        )
        return cls(
            pool=pool,
            quotas=quotas,
            k=k,
            features=features,
            cells=cells,
            classes=tuple(classes),
            unit_types=tuple(unit_types),
            membership=membership,
            lower=lower,
            upper=upper,
            sizes=sizes,
            caps=caps,
            household_rows=household_rows,
        )

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def violations(self, counts: Sequence[int] | npt.NDArray[np.int64]) -> list[str]:
        """Every rule a composition breaks, in words; empty when it is feasible.

        The check uses exact integer arithmetic and is applied to every composition a solver
        returns: solver output is never trusted.
        """
        x = np.asarray(counts, dtype=np.int64)
        problems = []
        if x.shape != (self.n_classes,):
            return [f"composition has {x.size} counts for {self.n_classes} classes"]
        if (x < 0).any() or (x > self.caps).any():
            problems.append("a class count is negative or above its number of households")
        if int(x.sum()) != self.k:
            problems.append(f"panel has {int(x.sum())} members, not {self.k}")
        selected = self.membership @ x
        for (feature, value), count, lo, hi in zip(
            self.cells, selected, self.lower, self.upper, strict=True
        ):
            if not lo <= count <= hi:
                problems.append(f"{feature}/{value}: {int(count)} selected, quota {lo}-{hi}")
        for class_indices, units in self.household_rows:
            if int(x[list(class_indices)].sum()) > units:
                problems.append("more than one person selected from a household")
        return problems
