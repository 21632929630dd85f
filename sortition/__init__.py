"""Stratified sortition: panels that meet quotas, with chances as equal as possible.

The main entry points::

    from sortition import read_people, read_quotas, find_distribution, draw
    quotas = read_quotas("quotas.csv")
    pool = read_people("people.csv", quotas, household_columns=["postcode", "huisnummer"])
    distribution = find_distribution(pool, quotas, 30, algorithm="leximin")
    result = draw(distribution, seed="2026")

For an auditable draw, round the distribution to a lottery over ``m`` panels
(:func:`round_lottery`) and commit to it before the seed exists (:mod:`sortition.audit`).

References
----------
B. Flanigan, P. Gölz, A. Gupta, B. Hennig, A. D. Procaccia, "Fair algorithms for selecting
citizens' assemblies", Nature 596, 548–552 (2021), https://doi.org/10.1038/s41586-021-03788-6.
"""

from sortition.algorithms import ALGORITHMS, Algorithm, Progress, find_distribution
from sortition.distribution import Distribution
from sortition.draw import DrawResult, draw
from sortition.errors import (
    AuditError,
    InfeasibleQuotasError,
    InputError,
    QuotaError,
    Relaxation,
    SolverError,
    SortitionError,
)
from sortition.io import read_people, read_quotas
from sortition.lottery import DEFAULT_PANELS, Lottery, round_lottery
from sortition.model import Person, Pool, Quota, Quotas
from sortition.randomness import SeededStream, new_seed
from sortition.structure import PoolStructure
from sortition.validation import check_quotas, panel_violations

__all__ = [
    "ALGORITHMS",
    "DEFAULT_PANELS",
    "Algorithm",
    "AuditError",
    "Distribution",
    "DrawResult",
    "InfeasibleQuotasError",
    "InputError",
    "Lottery",
    "Person",
    "Pool",
    "PoolStructure",
    "Progress",
    "Quota",
    "QuotaError",
    "Quotas",
    "Relaxation",
    "SeededStream",
    "SolverError",
    "SortitionError",
    "check_quotas",
    "draw",
    "find_distribution",
    "new_seed",
    "panel_violations",
    "read_people",
    "read_quotas",
    "round_lottery",
]
