"""Selection algorithms: LEXIMIN, MAXIMIN, NASH and LEGACY.

LEXIMIN, MAXIMIN and NASH compute a distribution over panels that meets every quota and gives the
pool members selection probabilities that are as equal as possible, each by its own measure
(Flanigan, Gölz, Gupta, Hennig, Procaccia, "Fair algorithms for selecting citizens' assemblies",
*Nature* 596, 548–552, 2021, https://doi.org/10.1038/s41586-021-03788-6):

* MAXIMIN maximises the smallest selection probability;
* LEXIMIN maximises the smallest, then the second smallest, and so on;
* NASH maximises the product of the selection probabilities (the geometric mean).

All three use column generation: a linear program over the panels found so far, and an integer
program ("pricing") that finds the panel most worth adding given the linear program's duals. Both
run on the free HiGHS solver. LEXIMIN first tries a shortcut that is exact when it succeeds: solve
its stages over the linear relaxation of the panel compositions and split the result into panels
(see :func:`_leximin_by_relaxation`). They run over classes of interchangeable people (see
:mod:`sortition.structure`) instead of over people: by symmetry and convexity the optimum gives
interchangeable people the same probability, so nothing is lost, and the integer programs shrink
from one variable per person to one per class.

LEGACY is the Sortition Foundation's greedy algorithm (stratification-app, sortition-algorithms),
kept for continuity and comparison. It draws one panel at a time; its selection probabilities are
only known by Monte-Carlo estimation.
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from sortition.distribution import Distribution
from sortition.errors import InputError, SolverError
from sortition.model import Pool, Quotas
from sortition.randomness import SeededStream
from sortition.solver import INF, CompositionOracle, RelaxedStage, RestrictedLP
from sortition.structure import PoolStructure
from sortition.validation import check_quotas

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Progress",
    "find_distribution",
    "legacy_draw",
    "legacy_panel",
]

logger = logging.getLogger(__name__)

Algorithm = Literal["leximin", "maximin", "nash", "legacy"]
ALGORITHMS: tuple[Algorithm, ...] = ("leximin", "maximin", "nash", "legacy")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Column generation stops when no panel improves the dual by more than this.
PRICING_TOLERANCE = 1e-9
#: Extra pricing rounds per LP solve, each with the weights of the classes just covered halved.
BATCH = 10
#: A class whose dual weight exceeds this at a LEXIMIN stage's optimum is fixed at that stage.
FIX_TOLERANCE = 1e-9
#: A LEXIMIN stage stops once its level is this close to the bound from the relaxation.
BOUND_TOLERANCE = 1e-9
#: The mixture found from the relaxation must give every class its level within this.
MIXTURE_TOLERANCE = 1e-8
#: NASH stops when the duality gap per person, in log-probability, is below this.
NASH_TOLERANCE = 1e-7
#: LEGACY attempts before giving up (the greedy algorithm may paint itself into a corner).
LEGACY_ATTEMPTS = 100


class Progress(Protocol):
    """Receives progress reports: a phase message, work done, and total work (0 if unknown)."""

    def __call__(self, message: str, done: int, total: int) -> None: ...


def _silent(message: str, done: int, total: int) -> None:
    return None


def find_distribution(
    pool: Pool,
    quotas: Quotas,
    k: int,
    *,
    algorithm: Algorithm = "leximin",
    progress: Progress | None = None,
    legacy_samples: int = 1000,
    seed: str = "legacy-estimate",
) -> Distribution:
    """Compute a distribution over panels of size ``k`` that meet ``quotas``.

    Parameters
    ----------
    pool : Pool
        The respondents; people sharing a ``household`` key are never selected together.
    quotas : Quotas
        Bounds per feature value.
    k : int
        Panel size.
    algorithm : {"leximin", "maximin", "nash", "legacy"}
        The fairness objective; see the module docstring.
    progress : callable, optional
        Receives ``(message, done, total)`` while the algorithm runs.
    legacy_samples : int
        For ``legacy`` only: the number of panels drawn to estimate selection probabilities.
    seed : str
        For ``legacy`` only: the seed of the estimation draws.

    Returns
    -------
    Distribution
        Panels (as compositions) with probabilities; every panel has been checked against the
        quotas and the household rule with exact integer arithmetic.

    Raises
    ------
    QuotaError, InfeasibleQuotasError
        If no panel meets the quotas (with a suggested relaxation).

    Examples
    --------
    >>> from sortition.model import Person
    >>> people = [Person(str(i), {"g": "a" if i < 6 else "b"}) for i in range(10)]
    >>> quotas = Quotas.from_rows([("g", "a", 2, 2), ("g", "b", 2, 2)])
    >>> d = find_distribution(Pool(tuple(people)), quotas, 4)
    >>> sorted({round(p, 6) for p in d.probabilities.values()})
    [0.333333, 0.5]
    """
    if algorithm not in ALGORITHMS:
        raise InputError(
            "unknown-algorithm",
            f"unknown algorithm '{algorithm}'; choose one of {', '.join(ALGORITHMS)}",
        )
    report = progress or _silent
    structure = PoolStructure.build(pool, quotas, k)
    check_quotas(structure)
    started = time.perf_counter()
    if algorithm == "legacy":
        if legacy_samples < 1:
            raise InputError("bad-samples", "LEGACY needs at least 1 sample to estimate chances")
        return _legacy_distribution(structure, legacy_samples, seed, report)
    oracle = CompositionOracle(structure)
    columns = _Columns(structure)
    weights = None
    if algorithm in ("leximin", "maximin"):
        weights = _leximin_by_relaxation(
            structure, oracle, columns, report, first_stage_only=algorithm == "maximin"
        )
        if weights is None:
            logger.info("%s: the relaxation is not tight here; column generation", algorithm)
    if weights is None:
        covered = _cover(structure, oracle, columns, report)
        if algorithm == "nash":
            weights = _nash(structure, oracle, columns, covered, report)
        else:
            weights = _leximin(structure, oracle, columns, covered, report, algorithm == "maximin")
    stats = {
        "seconds": time.perf_counter() - started,
        "pricing_calls": float(oracle.calls),
        "columns": float(len(columns.rows)),
        "classes": float(structure.n_classes),
    }
    distribution = Distribution.canonical(
        structure, algorithm, columns.matrix(), weights, stats=stats
    )
    problems = distribution.violations()
    if problems:
        raise SolverError("solver-wrong", "the computed distribution is invalid: " + problems[0])
    logger.info(
        "%s: %d classes, %d panels in support, %d pricing calls, %.2fs",
        algorithm,
        structure.n_classes,
        len(distribution.weights),
        oracle.calls,
        stats["seconds"],
    )
    return distribution


class _Columns:
    """The panels (compositions) found so far, without duplicates."""

    def __init__(self, structure: PoolStructure) -> None:
        self.structure = structure
        self.rows: list[IntArray] = []
        self._seen: dict[bytes, int] = {}

    def add(self, x: IntArray) -> bool:
        key = x.tobytes()
        if key in self._seen:
            return False
        self._seen[key] = len(self.rows)
        self.rows.append(x)
        return True

    def index(self, x: IntArray) -> int:
        """The position of ``x`` (added first if new)."""
        self.add(x)
        return self._seen[x.tobytes()]

    def matrix(self) -> IntArray:
        return np.array(self.rows, dtype=np.int64).reshape(len(self.rows), -1)

    def shares(self, x: IntArray) -> tuple[IntArray, FloatArray]:
        """Classes present in ``x`` and their members' selection chance ``x_g / size_g``."""
        nz = np.flatnonzero(x)
        return nz, x[nz] / self.structure.sizes[nz]


def _cover(
    structure: PoolStructure,
    oracle: CompositionOracle,
    columns: _Columns,
    report: Progress,
) -> npt.NDArray[np.bool_]:
    """Find panels until every class that can be on some panel is on one of them.

    Each step asks for the panel covering most classes not yet covered; when the best covers
    none, the remaining classes cannot be on any panel (their members get probability 0).
    """
    covered = np.zeros(structure.n_classes, dtype=bool)
    while True:
        weights = np.where(covered, 0.0, 1.0)
        result = oracle.best(weights)
        if result is None:  # pragma: no cover - check_quotas rules this out
            raise SolverError("solver-failed", "no feasible panel although the quotas check passed")
        x, value = result
        columns.add(x)
        if value < 0.5:
            break
        covered |= x > 0
        report("Covering the pool with panels", int(covered.sum()), structure.n_classes)
        if covered.all():
            break
    if not covered.all():
        unreachable = int(structure.sizes[~covered].sum())
        logger.warning("%d pool members cannot be on any panel that meets the quotas", unreachable)
    return covered


def _leximin(
    structure: PoolStructure,
    oracle: CompositionOracle,
    columns: _Columns,
    covered: npt.NDArray[np.bool_],
    report: Progress,
    first_stage_only: bool,
) -> FloatArray:
    r"""Run the LEXIMIN stages; return the probability of each panel in ``columns``.

    Stage ``t`` solves, by column generation (Flanigan et al. 2021, Methods, "LEXIMIN"):

    .. math::

        \max z \quad\text{s.t.}\quad \sum_P \pi_P \frac{x_{Pg}}{n_g} \ge z \ (g \notin F),
        \quad \sum_P \pi_P \frac{x_{Pg}}{n_g} \ge q_g \ (g \in F),
        \quad \sum_P \pi_P \le 1, \quad \pi \ge 0,

    where ``F`` holds the classes fixed at earlier stages with probabilities ``q``. A panel ``P``
    improves the restricted problem when ``sum_g y_g x_Pg / n_g`` exceeds the dual ``y0`` of the
    last row (pricing, see :meth:`CompositionOracle.price`). At the optimum ``z``, classes with
    positive dual ``y_g`` cannot exceed ``z`` in any optimum (complementary slackness) and are
    fixed at it. MAXIMIN is the first stage alone.

    The problem is kept in this column form, with one row per class, so that the simplex basis
    stays as small as the number of classes however many panels are added. A stage also stops
    as soon as its level reaches the optimum of the same stage over the linear relaxation
    (:class:`RelaxedStage`), an upper bound; the relaxation's duals then certify the level and
    decide which classes are fixed.
    """
    n = structure.n_classes
    sizes = structure.sizes.astype(np.float64)
    classes = np.flatnonzero(covered)
    row_of = {int(g): i for i, g in enumerate(classes)}
    fixed = np.full(n, np.nan)
    fixed[~covered] = 0.0
    label = "MAXIMIN" if first_stage_only else "LEXIMIN"
    level = 0
    total_row = len(classes)

    def build() -> RestrictedLP:
        # a fresh model per stage: HiGHS solves it much faster than one modified in place
        model = RestrictedLP()
        model.add_var(1.0, lower=-INF)
        for g in classes:
            if np.isnan(fixed[g]):
                model.add_row(0.0, INF, [level], [-1.0])
            else:
                model.add_row(float(fixed[g]), INF, [], [])
        model.add_row(-INF, 1.0, [], [])
        return model

    def add_panel(x: IntArray) -> None:
        nz, share = columns.shares(x)
        lp.add_col(0.0, [*(row_of[int(g)] for g in nz), total_row], [*share.tolist(), 1.0])

    relaxed = RelaxedStage(structure)
    lp = build()
    for x in columns.rows:
        add_panel(x)
    stage = 0
    while True:
        stage += 1
        bound, bound_duals, _ = relaxed.solve(fixed)
        while True:
            objective, duals = _solve_stage(lp, fixed, classes)
            report(
                f"{label} stage {stage}: lowest open probability {objective:.6f} "
                f"({len(columns.rows)} panels)",
                int(structure.sizes[~np.isnan(fixed)].sum()),
                int(sizes.sum()),
            )
            if objective >= bound - BOUND_TOLERANCE:
                # no panel can do better: the relaxation's duals certify the level
                y = bound_duals
                break
            y = np.zeros(n)
            y[classes] = np.abs(duals[: len(classes)])
            threshold = abs(duals[total_row]) + PRICING_TOLERANCE
            priced = oracle.price(y / sizes, threshold)
            if priced.x is None or priced.value <= threshold or not columns.add(priced.x):
                break
            add_panel(priced.x)
            for extra, _ in oracle.improving(y / sizes, threshold):
                if columns.add(extra):
                    add_panel(extra)
            # more columns per LP solve: price again with the classes just covered damped
            damped = y / sizes
            x = priced.x
            for _ in range(BATCH):
                damped = np.where(x > 0, damped * 0.5, damped)
                again = oracle.price(damped, -INF)
                if again.x is None:
                    break
                x = again.x
                if float(x @ (y / sizes)) > threshold and columns.add(x):
                    add_panel(x)
        unfixed = np.isnan(fixed)
        newly = unfixed & (y > FIX_TOLERANCE)
        if not newly.any():
            newly = unfixed & (y >= y[unfixed].max())
        z = max(0.0, objective)
        fixed[newly] = z
        done = int(structure.sizes[~np.isnan(fixed)].sum())
        report(f"{label} stage {stage}: fixed probability {z:.6f}", done, int(sizes.sum()))
        if first_stage_only or not np.isnan(fixed).any():
            break
        lp = build()
        for x in columns.rows:
            add_panel(x)
    _, values, _ = lp.solution()
    return np.clip(values[level + 1 :], 0.0, None)


def _leximin_by_relaxation(
    structure: PoolStructure,
    oracle: CompositionOracle,
    columns: _Columns,
    report: Progress,
    first_stage_only: bool = False,
) -> FloatArray | None:
    """LEXIMIN through the linear relaxation of the composition polytope, when it is tight.

    The LEXIMIN stages are first solved over the relaxation (one small LP each, variables the
    fractional counts per class): each stage's optimum bounds the true stage's from above, and
    its duals are a feasible dual solution of the true stage with the same value. If the
    resulting fractional composition (the relaxed LEXIMIN probabilities times the class sizes)
    is a mixture of feasible compositions (:meth:`CompositionOracle.decompose`), that mixture
    attains every stage's bound, so every stage is solved exactly, the dual certificates are
    optimal, and the classes they fix are the ones the true LEXIMIN fixes: the mixture *is*
    the LEXIMIN distribution. Returns the probability of each panel in ``columns``, or
    ``None`` when the mixture cannot be found (the caller then runs column generation).

    With ``first_stage_only`` (MAXIMIN) only the first stage of positive level is solved and its
    optimal fractional composition is split: a mixture in which every class reaches the stage's
    bound is a MAXIMIN optimum.
    """
    sizes = structure.sizes.astype(np.float64)
    total = int(sizes.sum())
    relaxed = RelaxedStage(structure)
    fixed = np.full(structure.n_classes, np.nan)
    stage = 0
    label = "MAXIMIN" if first_stage_only else "LEXIMIN"
    while np.isnan(fixed).any():
        stage += 1
        level, y, counts = relaxed.solve(fixed)
        if first_stage_only and level > FIX_TOLERANCE:
            # MAXIMIN: the lowest probability of the people some panel can hold (stages of
            # level 0 only set aside those no panel can hold)
            floor = level
            fixed = np.minimum(counts, structure.caps) / sizes
            break
        unfixed = np.isnan(fixed)
        newly = unfixed & (y > FIX_TOLERANCE)
        if not newly.any():
            newly = unfixed & (y >= y[unfixed].max())
        fixed[newly] = max(0.0, level)
        report(
            f"{label} bound {stage}: probability {level:.6f}",
            int(structure.sizes[~np.isnan(fixed)].sum()),
            total,
        )
    target = np.minimum(fixed * sizes, structure.caps)
    parts = oracle.decompose(
        target, lambda step: report(f"{label}: splitting the bound into panels", step, 0)
    )
    if parts is None:
        return None
    weights = np.zeros(len(columns.rows) + len(parts))
    for weight, x in parts:
        weights[columns.index(x)] += weight
    weights = weights[: len(columns.rows)]
    achieved = (weights @ columns.matrix()) / sizes
    if (
        (weights < 0).any()
        or abs(float(weights.sum()) - 1.0) > 1e-9
        or np.abs(achieved - fixed).max() > MIXTURE_TOLERANCE
    ):  # pragma: no cover - rounding beyond the tolerances
        return None
    reached = achieved[fixed > 0]
    if first_stage_only and reached.min() < floor - MIXTURE_TOLERANCE:  # pragma: no cover
        return None
    if (fixed <= 0).any():
        # the relaxation fixed them at 0 in a stage of level 0: no panel can hold them
        unreachable = int(structure.sizes[fixed <= 0].sum())
        logger.warning("%d pool members cannot be on any panel that meets the quotas", unreachable)
    logger.debug("%s from the relaxation: %d stages, %d panels", label, stage, len(parts))
    return weights


def _solve_stage(
    lp: RestrictedLP, fixed: FloatArray, classes: IntArray
) -> tuple[float, FloatArray]:
    """Solve a LEXIMIN stage; if rounding made the fixed probabilities unattainable, lower them.

    The fixed probabilities come from earlier floating-point solves; if the current panels
    cannot quite reach them, the problem is infeasible. Then every fixed probability is lowered
    by 1e-9 (at most 1,000 times) until it is solvable again.
    """
    for _ in range(1000):
        if lp.is_optimal_after_solve():
            objective, _, duals = lp.solution()
            return objective, duals
        for i, g in enumerate(classes):
            if not np.isnan(fixed[g]) and fixed[g] > 0:
                fixed[g] = max(0.0, fixed[g] - 1e-9)
                lp.h.changeRowBounds(i, float(fixed[g]), INF)
    raise SolverError("solver-failed", "the LEXIMIN stage LP stays unsolvable")


def _nash(
    structure: PoolStructure,
    oracle: CompositionOracle,
    columns: _Columns,
    covered: npt.NDArray[np.bool_],
    report: Progress,
) -> FloatArray:
    """Maximise the Nash welfare ``sum_g n_g log p_g`` over the coverable classes.

    Column generation on a concave program (Flanigan et al. 2021, Supplementary Information,
    "NASH"): the restricted problem over the panels found so far is solved by pairwise
    Frank–Wolfe steps (Lacoste-Julien and Jaggi, "On the global linear convergence of
    Frank–Wolfe optimization variants", NeurIPS 2015); then the panel with the largest gradient
    ``grad_P = sum_g x_Pg / p_g`` is found by pricing. Since ``sum_P pi_P grad_P = W``, the
    number of coverable people, ``max_P grad_P - W`` bounds the distance to the optimum; the
    algorithm stops when no panel has ``grad_P > W (1 + NASH_TOLERANCE)``.
    """
    sizes = structure.sizes.astype(np.float64)
    classes = np.flatnonzero(covered)
    total = float(sizes[classes].sum())
    counts = columns.matrix().astype(np.float64)[:, classes] / sizes[classes]
    pi = np.full(counts.shape[0], 1.0 / counts.shape[0])
    for rounds in range(1, 100 * structure.n_classes + 1):
        pi = _nash_restricted(counts, pi, sizes[classes])
        p = pi @ counts
        weights = np.zeros(structure.n_classes)
        weights[classes] = 1.0 / p
        threshold = total * (1 + NASH_TOLERANCE)
        priced = oracle.price(weights, threshold)
        report(f"NASH: gap {max(priced.bound - total, 0.0) / total:.2e}", rounds, 0)
        if priced.x is None or priced.value <= threshold:
            return pi
        if columns.add(priced.x):
            counts = np.vstack([counts, priced.x[classes] / sizes[classes]])
            pi = np.append(pi, 0.0)
        # a known panel means the restricted problem is not solved closely enough yet
    raise SolverError("solver-failed", "NASH did not converge")


def _nash_restricted(shares: FloatArray, pi: FloatArray, n_g: FloatArray) -> FloatArray:
    """Maximise ``sum_g n_g log (pi @ shares)_g`` over the simplex by pairwise Frank–Wolfe.

    Each step moves weight from the worst panel in the support to the best panel, by exact line
    search (bisection on the derivative, which decreases along the step).
    """
    pi = pi.copy()
    total = float(n_g.sum())
    for _ in range(50_000):
        p = pi @ shares
        grad = shares @ (n_g / p)
        best = int(np.argmax(grad))
        support = np.flatnonzero(pi > 0)
        worst = int(support[np.argmin(grad[support])])
        if grad[best] - total <= 0.1 * NASH_TOLERANCE * total:  # Frank–Wolfe gap
            break
        direction = shares[best] - shares[worst]
        step = float(pi[worst])

        def slope(t: float, direction: FloatArray = direction, p: FloatArray = p) -> float:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = float((n_g * direction / (p + t * direction)).sum())
            return value if np.isfinite(value) else -np.inf

        if slope(step) < 0:
            lo, hi = 0.0, step
            for _ in range(60):
                mid = (lo + hi) / 2
                if slope(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            step = lo
        pi[best] += step
        pi[worst] -= step
        if pi[worst] < 1e-15:
            pi[worst] = 0.0
    return pi


def legacy_panel(structure: PoolStructure, stream: SeededStream) -> list[str] | None:
    """Draw one panel with the Sortition Foundation's greedy LEGACY algorithm.

    Repeatedly take the feature value whose remaining need is most urgent (largest ratio of
    people still needed to reach its minimum over people still available with that value; ties
    to the first in canonical order), select a uniformly random available person with that
    value, drop the person's household members, and drop everyone with a value whose maximum is
    reached. Ratios are compared as exact fractions and people are in id order, so the result
    depends only on the seed. Returns ``None`` when the attempt fails (the caller retries).

    References
    ----------
    Sortition Foundation, stratification-app and sortition-algorithms ("legacy"); described in
    Flanigan et al. 2021, Methods, "LEGACY".
    """
    cells = structure.cells
    cell_index = {cell: i for i, cell in enumerate(cells)}
    lower, upper = structure.lower, structure.upper
    people = sorted(structure.pool.people, key=lambda p: p.id)
    person_cells = {
        p.id: [cell_index[(f, p.features[f])] for f in structure.features] for p in people
    }
    household_of = {p.id: p.household for p in people}
    members: dict[str, list[str]] = {}
    for p in people:
        if p.household is not None:
            members.setdefault(p.household, []).append(p.id)
    alive = {p.id: True for p in people}
    remaining = np.zeros(len(cells), dtype=np.int64)
    selected_count = np.zeros(len(cells), dtype=np.int64)
    for p in people:
        remaining[person_cells[p.id]] += 1

    def remove(pid: str) -> bool:
        alive[pid] = False
        for c in person_cells[pid]:
            remaining[c] -= 1
            if remaining[c] == 0 and selected_count[c] < lower[c]:
                return False
        return True

    def remove_value(c: int) -> bool:
        return all(remove(pid) for pid in alive if alive[pid] and c in person_cells[pid])

    for c in range(len(cells)):
        if upper[c] == 0 and not remove_value(c):
            return None
    selected: list[str] = []
    for _ in range(structure.k):
        best: tuple[Fraction, int, int] | None = None
        for c in range(len(cells)):
            needed = max(int(lower[c] - selected_count[c]), 0)
            if selected_count[c] < lower[c] and remaining[c] < needed:
                return None
            if remaining[c] == 0 or upper[c] == 0:
                continue
            ratio = Fraction(needed, int(remaining[c]))
            if best is None or ratio > best[0]:
                best = (ratio, c, stream.randbelow(int(remaining[c])))
        if best is None:
            return None
        _, c, position = best
        candidates = [pid for pid in alive if alive[pid] and c in person_cells[pid]]
        chosen = candidates[position]
        selected.append(chosen)
        for cc in person_cells[chosen]:
            selected_count[cc] += 1
        alive[chosen] = False
        for cc in person_cells[chosen]:
            remaining[cc] -= 1
        household = household_of[chosen]
        if household is not None:
            for other in members[household]:
                if alive[other] and not remove(other):
                    return None
        for cc in person_cells[chosen]:
            if selected_count[cc] == upper[cc] and not remove_value(cc):
                return None
        if len(selected) < structure.k and not any(alive.values()):
            return None
    return sorted(selected)


def _legacy_distribution(
    structure: PoolStructure, samples: int, seed: str, report: Progress
) -> Distribution:
    """Estimate LEGACY's distribution from ``samples`` panels drawn from ``seed``.

    Panels are mapped to compositions and counted; each class's probability is then the
    empirical mean over its interchangeable members, which is the same estimate as counting
    people one by one, with less variance.
    """
    stream = SeededStream(seed, "legacy-estimate")
    rows: list[IntArray] = []
    for i in range(samples):
        panel = legacy_draw(structure, stream)
        rows.append(_counts(structure, panel))
        if i % 50 == 0:
            report("LEGACY: estimating probabilities", i, samples)
    matrix = np.array(rows, dtype=np.int64)
    weights = np.full(len(rows), 1.0 / len(rows))
    return Distribution.canonical(
        structure,
        "legacy",
        matrix,
        weights,
        estimated=True,
        stats={"samples": float(len(rows))},
        min_weight=0.0,
    )


def legacy_draw(structure: PoolStructure, stream: SeededStream) -> list[str]:
    """Run LEGACY until an attempt gives a panel that meets every quota."""
    for _ in range(LEGACY_ATTEMPTS):
        panel = legacy_panel(structure, stream)
        if panel is not None and not structure.violations(_counts(structure, panel)):
            return panel
    raise SolverError(
        "legacy-failed",
        f"the LEGACY algorithm found no panel meeting the quotas in {LEGACY_ATTEMPTS} attempts; "
        "try another algorithm",
    )


def _counts(structure: PoolStructure, panel: list[str]) -> IntArray:
    class_of = {m: g for g, c in enumerate(structure.classes) for m in c.members}
    x = np.zeros(structure.n_classes, dtype=np.int64)
    for pid in panel:
        x[class_of[pid]] += 1
    return x
