"""Thin wrappers around the HiGHS solver (through ``highspy``) for the sortition algorithms.

Two kinds of problem are solved:

* :class:`CompositionOracle`: the integer program "find the feasible composition (count per
  class) of largest weight", solved once per column-generation step;
* :class:`RestrictedLP`: a linear program kept alive between solves so that columns can be
  added with a warm start.

HiGHS runs single-threaded with a fixed random seed so that the same input gives the same output
in every process (Huangfu and Hall, "Parallelizing the dual revised simplex method",
Mathematical Programming Computation 10, 119–142, 2018).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from sortition.errors import SolverError
from sortition.structure import PoolStructure

__all__ = ["CompositionOracle", "Priced", "RelaxedStage", "RestrictedLP"]

INF = highspy.kHighsInf
#: :meth:`CompositionOracle.decompose` stops when less weight than this is left to place.
DECOMPOSE_REST = 1e-10
#: Share of the integral coordinates left free in the small integer programs of ``decompose``.
NEIGHBOURHOOD = 0.1
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _new_highs() -> highspy.Highs:
    # highspy.Highs() prints a banner to standard output on first use, before any option can
    # silence it (ERGO-Code/HiGHS#1702); the core must print nothing, so the plain binding
    # class is used where it exists. It has every method used here.
    h = getattr(getattr(highspy, "_core", None), "_Highs", highspy.Highs)()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    return h


def _status(h: highspy.Highs) -> str:
    return str(h.modelStatusToString(h.getModelStatus()))


def _composition_rows(structure: PoolStructure) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The rows of :func:`_composition_model` as a dense matrix with lower and upper bounds."""
    s = structure
    n = s.n_classes
    household = np.zeros((len(s.household_rows), n))
    for r, (class_indices, _) in enumerate(s.household_rows):
        household[r, list(class_indices)] = 1.0
    matrix = np.vstack([s.membership.astype(np.float64), np.ones((1, n)), household])
    lower = np.concatenate(
        [s.lower.astype(np.float64), [float(s.k)], np.full(len(s.household_rows), -INF)]
    )
    upper = np.concatenate(
        [
            s.upper.astype(np.float64),
            [float(s.k)],
            np.array([float(units) for _, units in s.household_rows]),
        ]
    )
    return matrix, lower, upper


def _composition_model(structure: PoolStructure, integer: bool) -> highspy.Highs:
    """The composition polytope of ``structure`` as a HiGHS model, maximising (costs set later)."""
    s = structure
    h = _new_highs()
    n = s.n_classes
    for g in range(n):
        h.addVar(0.0, float(s.caps[g]))
    if integer:
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
        )
    for c in range(len(s.cells)):
        idx = np.flatnonzero(s.membership[c]).astype(np.int32)
        h.addRow(float(s.lower[c]), float(s.upper[c]), idx.size, idx, np.ones(idx.size))
    h.addRow(float(s.k), float(s.k), n, np.arange(n, dtype=np.int32), np.ones(n))
    for class_indices, units in s.household_rows:
        idx = np.array(class_indices, dtype=np.int32)
        h.addRow(-INF, float(units), idx.size, idx, np.ones(idx.size))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    return h


@dataclass(frozen=True, slots=True)
class Priced:
    """Outcome of pricing: the best panel found (if any) and an upper bound on any panel's worth."""

    x: IntArray | None
    value: float
    bound: float


class CompositionOracle:
    """Finds feasible compositions of largest weight.

    Variables are the counts ``x_g`` of each class (integers in ``[0, caps_g]``); constraints are
    the quotas, the panel size and the household rows of ``structure``. Two HiGHS models are
    kept: the integer program and its linear relaxation (re-solved with a warm start).
    """

    def __init__(self, structure: PoolStructure) -> None:
        self.structure = structure
        h = _composition_model(structure, integer=True)
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.setOptionValue("mip_abs_gap", 1e-10)
        h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        h.setOptionValue("mip_improving_solution_save", True)
        self._h = h
        relaxation = _composition_model(structure, integer=False)
        relaxation.setOptionValue("presolve", "off")
        relaxation.setOptionValue("primal_feasibility_tolerance", 1e-9)
        relaxation.setOptionValue("dual_feasibility_tolerance", 1e-9)
        self._lp = relaxation
        self.calls = 0
        self.lp_calls = 0

    def price(self, weights: Sequence[float] | FloatArray, threshold: float) -> Priced:
        """Find a panel worth more than ``threshold``, or show that none exists.

        The linear relaxation is solved first: if its optimum is at most ``threshold`` no panel
        is worth more (``Priced.x`` is None); if its solution is integral, it is the best panel.
        Otherwise the integer program is solved with the relaxation's integral coordinates
        fixed, and only if that gives nothing above the threshold, in full. The relaxation of
        the quota polytope is tight in practice, so most steps need no branch-and-bound.
        """
        s = self.structure
        w = np.asarray(weights, dtype=np.float64)
        n = s.n_classes
        cols = np.arange(n, dtype=np.int32)
        self._lp.changeColsCost(n, cols, w)
        self._lp.run()
        self.lp_calls += 1
        if self._lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                "solver-failed", f"HiGHS could not solve the panel LP: {_status(self._lp)}"
            )
        bound = float(self._lp.getInfo().objective_function_value)
        if bound <= threshold:
            return Priced(None, -INF, bound)
        relaxed = np.asarray(self._lp.getSolution().col_value, dtype=np.float64)
        rounded = np.rint(relaxed)
        integral = np.abs(relaxed - rounded) <= 1e-9
        if integral.all() and not s.violations(rounded.astype(np.int64)):
            x = rounded.astype(np.int64)
            return Priced(x, float(w @ x), bound)
        # a small integer program over the fractional coordinates only
        fixed = np.flatnonzero(integral).astype(np.int32)
        self._h.changeColsBounds(fixed.size, fixed, rounded[fixed], rounded[fixed])
        partial = self.best(w)
        self._h.changeColsBounds(
            fixed.size, fixed, np.zeros(fixed.size), s.caps[fixed].astype(np.float64)
        )
        if partial is not None and partial[1] > threshold:
            return Priced(partial[0], partial[1], bound)
        full = self.best(w)
        if full is None:  # pragma: no cover - the relaxation had a solution
            raise SolverError("solver-failed", "no feasible panel although the relaxation has one")
        return Priced(full[0], full[1], bound)

    def best(self, weights: Sequence[float] | FloatArray) -> tuple[IntArray, float] | None:
        """Return the feasible composition maximising ``weights @ x`` and its weight.

        Returns ``None`` when no composition is feasible. The composition is checked with
        exact integer arithmetic before it is returned.
        """
        w = np.asarray(weights, dtype=np.float64)
        n = self.structure.n_classes
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), w)
        self._h.run()
        self.calls += 1
        status = self._h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                "solver-failed", f"HiGHS could not solve a panel ILP: {_status(self._h)}"
            )
        x = self._checked(self._h.getSolution().col_value)
        return x, float(w @ x)

    def improving(
        self, weights: Sequence[float] | FloatArray, threshold: float
    ) -> list[tuple[IntArray, float]]:
        """The panels worth more than ``threshold`` that the last :meth:`best` call met on its way.

        HiGHS records every improving solution of a branch-and-bound run; those above the
        threshold are further columns for free.
        """
        w = np.asarray(weights, dtype=np.float64)
        out = []
        for saved in self._h.getSavedMipSolutions():
            x = self._checked(saved.col_value)
            value = float(w @ x)
            if value > threshold:
                out.append((x, value))
        return out

    def decompose(
        self, target: FloatArray, progress: Callable[[int], None] | None = None
    ) -> list[tuple[float, IntArray]] | None:
        """Write the fractional composition ``target`` as a mixture of feasible compositions.

        Carathéodory's construction, walking down the faces of the relaxation: find a feasible
        composition ``v`` on the smallest face that holds the current point ``x``, with ``v``
        between ``floor(x)`` and ``ceil(x)`` (see :meth:`_on_face`), give it the
        largest weight that keeps the rest ``x + lam (x - v)`` in the relaxation, and go on
        with that rest, which lies on a smaller face. Returns ``(weight, composition)`` pairs
        whose weights sum to 1 and whose mixture is ``target`` up to rounding (the last
        ``DECOMPOSE_REST`` of weight goes to the last composition), or ``None`` when some face
        holds no feasible composition (``target`` is then not a mixture of the ones found).
        """
        s = self.structure
        n = s.n_classes
        cols = np.arange(n, dtype=np.int32)
        matrix, lower, upper = _composition_rows(s)
        caps = s.caps.astype(np.float64)
        h = self._h
        h.setOptionValue("mip_rel_gap", 1e-4)
        h.setOptionValue("mip_heuristic_effort", 0.3)
        parts: list[tuple[float, IntArray]] = []
        done = np.zeros(n)
        mass = 1.0
        x = np.clip(target, 0.0, caps)
        try:
            for step in range(4 * n + 100):
                if progress is not None:
                    progress(step)
                tol = 1e-9 + 1e-13 / mass
                rows = matrix @ x
                at_lower, at_upper = x <= tol, x >= caps - tol
                row_lower, row_upper = rows - lower <= tol, upper - rows <= tol
                if (np.abs(x - np.rint(x)) <= tol).all():
                    parts.append((mass, self._checked(x)))
                    return parts
                # the smallest face holding x, and the box around it
                floor, ceil = np.floor(x + tol), np.ceil(x - tol)
                lo = np.where(at_lower, 0.0, np.where(at_upper, caps, floor))
                hi = np.where(at_lower, 0.0, np.where(at_upper, caps, ceil))
                for model in (self._lp, h):
                    model.changeColsBounds(n, cols, lo, hi)
                    for r in range(lower.size):
                        a = upper[r] if row_upper[r] else lower[r]
                        b = lower[r] if row_lower[r] else upper[r]
                        model.changeRowBounds(r, float(a), float(b))
                # round each coordinate the way that costs the next step least: going up (down)
                # limits lam to x / (1 - f) ((cap - x) / f), f the fractional part
                f = x - floor
                free = ceil > floor
                up_limit = np.maximum(x, 1e-9) / np.maximum(1.0 - f, 1e-12)
                down_limit = np.maximum(caps - x, 1e-9) / np.maximum(f, 1e-12)
                w = np.where(free, down_limit**-3.0 - up_limit**-3.0, 0.0)
                w /= max(float(np.abs(w).max()), 1e-300)
                found = self._on_face(w, lo, hi, np.random.default_rng(step))
                if found is None:
                    return None
                v = found
                d = x - v
                dr = matrix @ d
                lam = INF
                for slack, rate, keep in (
                    (x, -d, at_lower),
                    (caps - x, d, at_upper),
                    (rows - lower, -dr, row_lower),
                    (upper - rows, dr, row_upper),
                ):
                    moving = (rate > 1e-12) & ~keep
                    if moving.any():
                        lam = min(lam, float((np.maximum(slack, 0.0)[moving] / rate[moving]).min()))
                alpha = lam / (1.0 + lam) if np.isfinite(lam) else 1.0
                parts.append((mass * alpha, v))
                done += mass * alpha * v
                mass *= 1.0 - alpha
                if mass < DECOMPOSE_REST:
                    parts[-1] = (parts[-1][0] + mass, v)
                    return parts
                x = np.clip((target - done) / mass, 0.0, caps)
            return None
        finally:
            h.setOptionValue("mip_rel_gap", 1e-9)
            h.setOptionValue("mip_heuristic_effort", 0.05)
            for model in (self._lp, h):
                model.changeColsBounds(n, cols, np.zeros(n), caps)
                for r in range(lower.size):
                    model.changeRowBounds(r, float(lower[r]), float(upper[r]))

    def _on_face(
        self, w: FloatArray, lo: FloatArray, hi: FloatArray, rng: np.random.Generator
    ) -> IntArray | None:
        """A feasible composition within the current bounds of both models, good for ``w``.

        The linear relaxation first; if its solution is fractional, the integer program with
        the relaxation's integral coordinates fixed except a random tenth of them (a small
        neighbourhood), and only if that has no solution, the integer program in full.
        """
        n = self.structure.n_classes
        cols = np.arange(n, dtype=np.int32)
        self._lp.changeColsCost(n, cols, w)
        self._lp.run()
        self.lp_calls += 1
        if self._lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        relaxed = np.asarray(self._lp.getSolution().col_value, dtype=np.float64)
        rounded = np.rint(relaxed)
        integral = np.abs(relaxed - rounded) <= 1e-9
        if integral.all() and not self.structure.violations(rounded.astype(np.int64)):
            return rounded.astype(np.int64)
        h = self._h
        h.changeColsCost(n, cols, w)
        keep = np.flatnonzero(integral & (rng.random(n) >= NEIGHBOURHOOD)).astype(np.int32)
        h.changeColsBounds(keep.size, keep, rounded[keep], rounded[keep])
        h.run()
        self.calls += 1
        solved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        values = h.getSolution().col_value
        # (changing bounds resets the model status, so it is read first)
        h.changeColsBounds(keep.size, keep, lo[keep], hi[keep])
        if not solved:
            h.run()
            self.calls += 1
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            values = h.getSolution().col_value
        return self._checked(values)

    def _checked(self, values: Sequence[float] | FloatArray) -> IntArray:
        x = np.rint(np.asarray(values, dtype=np.float64)).astype(np.int64)
        problems = self.structure.violations(x)
        if problems:
            raise SolverError(
                "solver-wrong",
                "HiGHS returned a panel that breaks the rules: " + "; ".join(problems),
            )
        return x


class RelaxedStage:
    """A LEXIMIN stage over the linear relaxation of the composition polytope.

    Variables are fractional counts ``x_g`` in the relaxation and the level ``t``; rows are
    ``x_g >= size_g t`` for open classes and ``x_g >= size_g q_g`` for classes fixed at ``q_g``.
    Every distribution over feasible compositions gives a point of the relaxation (its expected
    counts), so the optimum bounds the stage's optimum over panels from above, and the row
    duals are a feasible dual solution of the stage over panels with the same value.
    """

    def __init__(self, structure: PoolStructure) -> None:
        self.structure = structure
        h = _composition_model(structure, integer=False)
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        n = structure.n_classes
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        h.addVar(-INF, INF)
        h.changeColCost(n, 1.0)
        self._first = int(h.getNumRow())
        sizes = structure.sizes.astype(np.float64)
        for g in range(n):
            h.addRow(0.0, INF, 2, np.array([g, n], dtype=np.int32), np.array([1.0, -sizes[g]]))
        self._open = np.ones(n, dtype=bool)
        self.h = h

    def solve(self, fixed: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Solve the stage with the classes ``fixed`` (NaN when open) at their probabilities.

        Returns
        -------
        level : float
            The optimal level ``t``.
        weights : ndarray
            Per class, ``size_g`` times the row dual: the same scale as the duals of the stage
            over panels (they sum to 1 over the open classes).
        counts : ndarray
            The optimal fractional composition ``x``.
        """
        s = self.structure
        n = s.n_classes
        sizes = s.sizes.astype(np.float64)
        for g in np.flatnonzero(~np.isnan(fixed)):
            row = self._first + int(g)
            if self._open[g]:
                self.h.changeCoeff(row, n, 0.0)
                self._open[g] = False
            self.h.changeRowBounds(row, min(float(fixed[g] * sizes[g]), float(s.caps[g])), INF)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                "solver-failed", f"HiGHS could not solve the relaxed stage: {_status(self.h)}"
            )
        solution = self.h.getSolution()
        duals = np.abs(np.asarray(solution.row_dual, dtype=np.float64))
        counts = np.asarray(solution.col_value, dtype=np.float64)[:n]
        level = float(self.h.getInfo().objective_function_value)
        return level, duals[self._first : self._first + n] * sizes, counts


class RestrictedLP:
    """A maximisation LP over a growing set of columns, re-solved with a warm start.

    New columns keep the basis primal feasible, so the primal simplex method continues from it.
    """

    def __init__(self) -> None:
        h = _new_highs()
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("simplex_strategy", 4)  # primal simplex
        h.setOptionValue("presolve", "off")  # presolve would discard the warm start
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h

    def add_var(self, cost: float, lower: float = 0.0, upper: float = INF) -> int:
        """Add a column without coefficients; return its index."""
        self.h.addVar(lower, upper)
        index = int(self.h.getNumCol()) - 1
        self.h.changeColCost(index, cost)
        return index

    def add_col(
        self, cost: float, rows: Sequence[int], values: Sequence[float], lower: float = 0.0
    ) -> int:
        """Add a column with coefficients in existing rows; return its index."""
        idx = np.asarray(rows, dtype=np.int32)
        self.h.addCol(cost, lower, INF, idx.size, idx, np.asarray(values, dtype=np.float64))
        return int(self.h.getNumCol()) - 1

    def add_row(
        self, lower: float, upper: float, cols: Sequence[int], values: Sequence[float]
    ) -> int:
        """Add a row over existing columns; return its index."""
        idx = np.asarray(cols, dtype=np.int32)
        self.h.addRow(lower, upper, idx.size, idx, np.asarray(values, dtype=np.float64))
        return int(self.h.getNumRow()) - 1

    def solution(self) -> tuple[float, FloatArray, FloatArray]:
        """The objective value, column values and row duals of the last optimal solve."""
        solution = self.h.getSolution()
        return (
            float(self.h.getInfo().objective_function_value),
            np.asarray(solution.col_value, dtype=np.float64),
            np.asarray(solution.row_dual, dtype=np.float64),
        )

    def is_optimal_after_solve(self) -> bool:
        """Solve and say whether an optimum was found (without raising)."""
        self.h.run()
        return bool(self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal)
