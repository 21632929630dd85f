"""Domain values of the sortition core: quotas, people and pools.

These are plain frozen values. They know nothing of files (see :mod:`sortition.io`) or solvers
(see :mod:`sortition.algorithms`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sortition.errors import InputError, QuotaError

__all__ = ["Person", "Pool", "Quota", "Quotas"]


@dataclass(frozen=True, slots=True)
class Quota:
    """Bounds on how many panel members have ``value`` for ``feature``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class Quotas:
    """The quotas of one draw, one :class:`Quota` per feature value.

    Features and values keep the order in which they were given (for reports); algorithms use
    :meth:`canonical_cells`, which sorts them by name so that the order of the rows of a quota
    file changes nothing.
    """

    quotas: tuple[Quota, ...]
    _index: Mapping[tuple[str, str], Quota] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], Quota] = {}
        for quota in self.quotas:
            key = (quota.feature, quota.value)
            if key in index:
                raise QuotaError(
                    "duplicate-quota",
                    f"the quota for {quota.feature}/{quota.value} is given twice",
                    params={"feature": quota.feature, "value": quota.value},
                )
            if quota.min < 0 or quota.max < 0:
                raise QuotaError(
                    "negative-quota",
                    f"the quota for {quota.feature}/{quota.value} is negative",
                    params={"feature": quota.feature, "value": quota.value},
                )
            if quota.min > quota.max:
                raise QuotaError(
                    "min-above-max",
                    f"the quota for {quota.feature}/{quota.value} has min {quota.min} "
                    f"above max {quota.max}",
                    params={"feature": quota.feature, "value": quota.value},
                )
            index[key] = quota
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, int, int]]) -> Quotas:
        """Build quotas from ``(feature, value, min, max)`` tuples."""
        return cls(tuple(Quota(f, v, lo, hi) for f, v, lo, hi in rows))

    @property
    def features(self) -> tuple[str, ...]:
        """The features, in the order they were first given."""
        return tuple(dict.fromkeys(q.feature for q in self.quotas))

    def values(self, feature: str) -> tuple[str, ...]:
        """The values of ``feature``, in the order they were given."""
        return tuple(q.value for q in self.quotas if q.feature == feature)

    def get(self, feature: str, value: str) -> Quota:
        """The quota of one feature value; ``KeyError`` if there is none."""
        return self._index[(feature, value)]

    def canonical_cells(self) -> tuple[tuple[str, str], ...]:
        """All ``(feature, value)`` pairs, sorted by feature name, then value name."""
        return tuple(sorted(self._index))

    def __iter__(self) -> Iterator[Quota]:
        return iter(self.quotas)

    def __len__(self) -> int:
        return len(self.quotas)


@dataclass(frozen=True, slots=True)
class Person:
    """One pool member.

    ``features`` maps every quota feature to this person's value, spelled as in the quotas.
    ``household`` is a key shared by the people who live together (at most one of them may be
    selected), or ``None`` when the household rule is not applied or the person lives alone.
    """

    id: str
    features: Mapping[str, str]
    household: str | None = None


@dataclass(frozen=True, slots=True)
class Pool:
    """The people a panel is drawn from, each with a value for every quota feature."""

    people: tuple[Person, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for person in self.people:
            if person.id in seen:
                raise InputError(
                    "duplicate-id",
                    f"id '{person.id}' occurs more than once",
                    params={"id": person.id},
                )
            seen.add(person.id)

    def __len__(self) -> int:
        return len(self.people)

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the pool members, in input order."""
        return tuple(p.id for p in self.people)
