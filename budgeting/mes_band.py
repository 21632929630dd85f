r"""Proof that MES funds the same projects, in the same order, for a range of starting money.

Add1 (:func:`budgeting.mes.add1`) runs the Method of Equal Shares for every starting amount
``x = x0, x0 + 1, x0 + 2, ...``; on a large electorate that is tens of thousands of runs (Budapest
2024: 22,001). Between two such steps the order in which MES funds projects rarely changes
(Budapest: 124 changes in 22,001 steps). This module proves, for a given order of funded
projects ``W`` and an interval of starting money, that MES funds exactly ``W``, in that order,
for *every* real starting amount in the interval (the order inside a *block*, below, may
vary; it changes nothing); Add1 then skips its steps inside it.

The bands
---------
For ``x`` in the interval ``[x_a, x_b]`` every voter's money is kept between two affine
functions of ``x``, ``lo_i(x) <= money_i(x) <= hi_i(x)`` (stored by their values at the two
ends). MES's money function of a project, :math:`F(\rho, x) = \sum_i w_i \min(m_i(x),
\rho\,u_i)`, is then bounded by the same sum over ``lo`` and over ``hi``, and both bounds are
jointly concave in ``(rho, x)``. Hence, for the funded project of a round:

* an *upper* line of its ``rho``: the chord between the ``rho`` solving the ``lo`` sum at the two
  ends (a joint concave function is above its chord, so the sum at the chord is at least the
  cost);
* a *lower* line of any project's ``rho``: for any set ``K`` of its supporters,
  :math:`\rho \ge (\mathrm{cost} - \sum_{i \in K} w_i\,hi_i(x)) / \sum_{i \notin K} w_i u_i`
  (each term is at most ``hi_i`` and at most ``rho u_i``); ``K`` is chosen as those who would pay
  all they have in the middle of the interval, so the line touches there (at the end, for a
  project its supporters can pay for only there).

The funded project wins the round over the whole interval when every other project's lower
line lies above its upper line at both ends (lines: the ends suffice), or when its supporters
can afford the whole share (its ``rho`` is then exactly ``cost / total satisfaction``) and the
other's can at best equal that with a later place in the tie-break, or when the other's
supporters cannot pay for it at either end (``hi`` sum below the cost; their money only
shrinks, so it is out for good). After the round the payers keep ``max(0, money - rho u_i)``:
its upper bound is ``max(0, hi_i - rho_low u_i)``, a convex function of ``x`` below its chord;
its lower bound is ``lo_i - rho_up u_i`` or 0, whichever is larger on average (both are lower
bounds of the maximum). When the rounds are done, every project not funded must be out of
reach at both ends.

Where the project that may beat the funded one is the next winner and their supporters are
disjoint, the two form a *block* (and so on, while that holds): whatever order MES funds a
block's projects in, the money after them is the same, and if each of them beats every
project outside the block on the money before it, MES funds the block next (a project's rho
only rises as money shrinks; a member's stays as it was). Near ties between such projects
(local projects in different districts) are then no obstacle.

Every float operation is covered: money carries an absolute margin per round, every sum its
rounding bound, and every comparison that decides is made with a relative margin. The proof
is therefore rigorous for the exact rule; when it cannot be made, Add1 simply runs the step.

The bands widen where a payment changes form inside the interval (``rho`` is convex, not
linear, in ``x`` there) and where two projects' ``rho`` come close, so a short interval proves
more; when a proof fails, :meth:`Band.prove` also says how much of the interval the failing
condition still held on, and Add1 tries that much next.

References
----------
.. [PPS21] D. Peters, G. Pierczyński and P. Skowron, "Proportional participatory budgeting with
   additive utilities", NeurIPS 2021. arXiv:2008.13276
.. [FFPPSSST23] P. Faliszewski et al., "Participatory budgeting: data, tools and analysis",
   IJCAI 2023. arXiv:2305.11035 (Add1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse

if TYPE_CHECKING:  # pragma: no cover
    from budgeting.mes import _Prepared

FloatArray = npt.NDArray[np.float64]

_UR: Final = 2.0**-53  # unit roundoff of IEEE double precision
_NEWTON_LIMIT: Final = 60
_BUMPS: Final = (1e-9, 1e-7, 1e-5)  # relative steps above a float root


class _FailedError(Exception):
    """The proof does not go through; ``share`` estimates the part of the interval on which the
    failing condition held (0 when it failed at the start); ``project``, where known, is the
    project that may beat the funded one."""

    def __init__(self, at_start: float, at_end: float) -> None:
        super().__init__()
        self.project = -1
        if at_start > 0 > at_end:
            self.share = at_start / (at_start - at_end)
        else:
            self.share = 0.0


def _check(at_start: float, at_end: float) -> None:
    """Both ends of a line must be positive (then all of it is)."""
    if not (at_start > 0 and at_end > 0):
        raise _FailedError(at_start, at_end)


@dataclass(frozen=True, slots=True)
class _Funded:
    """A funded project's supporters, their money bounds at both ends before it is paid for,
    and the lines of its payment per unit of ``k`` (``up``, ``down``) and of its rho."""

    project: int
    idx: npt.NDArray[np.int64]
    l_a: FloatArray
    l_b: FloatArray
    h_a: FloatArray
    h_b: FloatArray
    up_a: float
    up_b: float
    down_a: float
    down_b: float
    rho_a: float
    rho_b: float
    pinned: bool


@dataclass(slots=True)
class _State:
    """A proof in progress: every voter's money bounds at both ends of the interval (``lo``,
    ``hi``), each project's lower line of rho and whether it is out of reach, the projects
    not yet funded, and the sums below which a project is surely out of reach."""

    top: float
    margin: float
    lo_a: FloatArray
    lo_b: FloatArray
    hi_a: FloatArray
    hi_b: FloatArray
    low_a: FloatArray
    low_b: FloatArray
    out: npt.NDArray[np.bool_]
    remaining: npt.NDArray[np.bool_]
    reach: FloatArray


class Band:
    """The band proof for one election (see the module docstring).

    Parameters
    ----------
    prep : budgeting.mes._Prepared
        The election's per-project supporters, weights, ``k`` and costs.
    rank : sequence of int
        The tie-break's rank of every project (lower is preferred).
    """

    def __init__(self, prep: _Prepared, rank: Sequence[int]) -> None:
        self.p = prep
        m = prep.m
        self.uniform = prep.uniform
        self.k = [k.astype(np.float64) for k in prep.sup_k]
        self.wk = [w * k for w, k in zip(prep.sup_w, self.k, strict=True)]
        self.k_total = [float(v) for v in prep.k_total]
        # rho = sigma / unit, where a supporter with ``k`` pays ``sigma * k``
        self.inv_unit = [1.0 / u if u > 0 else 0.0 for u in prep.unit_f]
        self.sigma_min = [float(prep.rho_min[j] * prep.unit[j]) * (1 - 4 * _UR) for j in range(m)]
        self.rho_min = np.array(
            [s * i * (1 - 4 * _UR) for s, i in zip(self.sigma_min, self.inv_unit, strict=True)]
        )
        # place of each project when ordered by the exact lowest rho, then the tie-break: a
        # project whose rho is surely its lowest beats every later one
        order = sorted(range(m), key=lambda j: (prep.rho_min[j], rank[j]))
        self.place = np.empty(m, dtype=np.int64)
        self.place[order] = np.arange(m)
        # rounding bound of a float sum of a project's supporters' money, per unit of money
        self.tol_scale = np.array(
            [2.0 * (len(prep.sup[j]) + 8) * _UR * float(prep.supporters[j]) for j in range(m)]
        )
        self.cost_f = np.array(prep.cost_f)
        self.hints: dict[tuple[int, int, int], float] = {}
        #: after a proof that went through: how many winners each block (a round, or a run
        #: of winners with disjoint supporters funded in any order) took, in order
        self.blocks: list[int] = []
        self.incidence = sparse.csr_matrix(
            (prep.weights_f[prep.pair_ballot], (prep.pair_proj, prep.pair_ballot)),
            shape=(m, prep.nb),
        )

    # ----------------------------------------------------------------- pieces

    def _tol(self, j: int, top: float) -> float:
        """Bound on the rounding of a float sum of ``j``'s supporters' money (each at most
        ``top`` in absolute value), and of ``float(cost)``."""
        return float(self.tol_scale[j]) * top + 4 * _UR * self.p.cost_f[j]

    def _money(self, j: int, money: FloatArray, sigma: float) -> tuple[float, float]:
        """``sum w min(money, sigma k)`` over ``j``'s supporters, and its slope in sigma."""
        w = self.p.sup_w[j]
        if self.uniform:
            return float(w @ np.minimum(money, sigma)), float(w @ (money > sigma))
        share = self.k[j] * sigma
        return float(w @ np.minimum(money, share)), float(self.wk[j] @ (money > share))

    def _root(self, j: int, money: FloatArray, key: tuple[int, int, int]) -> float:
        """A float ``sigma`` near the root of ``sum w min(money, sigma k) = cost``, or ``inf``
        if the supporters cannot pay. Newton's method on the concave money function, started
        from the root found for ``key`` in the previous proof (roots move little between
        neighbouring intervals); the root only guides the proof, which checks what it uses."""
        cost = self.p.cost_f[j]
        if float(self.p.sup_w[j] @ money) < cost:
            return np.inf
        least = cost / self.k_total[j]
        sigma = max(self.hints.get(key, least), least)
        for _ in range(_NEWTON_LIMIT):
            value, slope = self._money(j, money, sigma)
            gap = cost - value
            if abs(gap) <= cost * 1e-13:
                self.hints[key] = sigma
                return sigma
            if slope <= 0:
                if gap < 0:  # above every supporter's money: step back down
                    sigma = max(least, sigma * 0.5)
                    continue
                return np.inf
            sigma = max(least, sigma + gap / slope)
        return np.inf

    def _upper(self, j: int, money: FloatArray, top: float, key: tuple[int, int, int]) -> float:
        """A float proven to be above the root (for the ``lo`` money at one end)."""
        cost = self.p.cost_f[j]
        need = cost + self._tol(j, top)
        sigma = self._root(j, money, key)
        if np.isfinite(sigma):
            for bump in _BUMPS:
                trial = sigma * (1 + bump)
                if self._money(j, money, trial)[0] >= need:
                    return trial
        raise _FailedError(0.0, 0.0)

    def _lower(
        self, j: int, start: FloatArray, end: FloatArray, top: float, key: tuple[int, int, int]
    ) -> tuple[float, float]:
        """Lower line of ``sigma`` (values at both ends) from the ``hi`` money: the partition
        bound with ``K`` those who pay all they have in the middle of the interval (module
        docstring), or the constant ``cost / total satisfaction`` where that is better."""
        p = self.p
        cost = p.cost_f[j]
        floor = self.sigma_min[j]
        # K is chosen in the middle; where the supporters cannot pay there (it is then a
        # project that becomes affordable as money grows), at the end
        point = 0.5 * (start + end)
        sigma = self._root(j, point, key)
        if not np.isfinite(sigma):
            point = end
            sigma = self._root(j, point, key)
            if not np.isfinite(sigma):
                return floor, floor
        w = p.sup_w[j]
        capped = point < (sigma if self.uniform else self.k[j] * sigma)
        free = float((self.wk[j] if not self.uniform else w) @ ~capped)
        if free <= 0:
            return floor, floor
        budget = cost - 2 * self._tol(j, top)
        factor = (1 - 4 * (len(w) + 8) * _UR) / free
        low_start = (budget - float(w @ np.where(capped, start, 0.0))) * factor
        low_end = (budget - float(w @ np.where(capped, end, 0.0))) * factor
        # a usable line has both ends at or above 0 (payments never add money) and lies
        # above the constant on average
        if min(low_start, low_end) >= 0 and low_start + low_end > 2 * floor:
            return low_start, low_end
        return floor, floor

    # ----------------------------------------------------------------- the proof

    def prove(self, winners: Sequence[int], start: Fraction, end: Fraction) -> float:
        """Prove that MES funds exactly ``winners``, in that order, for every starting money
        per voter in ``[start, end]``.

        Parameters
        ----------
        winners : sequence of int
            The projects MES funds at ``start`` (after the free ones), in order.
        start, end : Fraction
            The interval, ``start < end``.

        Returns
        -------
        float
            1.0 if proven; otherwise an estimate, between 0 and 1, of the share of the
            interval (from ``start``) on which the condition that failed still held.
        """
        try:
            self._prove(winners, start, end)
        except _FailedError as failed:
            return min(failed.share, 0.999)
        return 1.0

    def _prove(self, winners: Sequence[int], start: Fraction, end: Fraction) -> None:
        p = self.p
        if p.nb == 0:
            raise _FailedError(0.0, 0.0)
        top = float(end) * (1 + 1e-9)  # nobody ever has more
        st = _State(
            top=top,
            margin=4 * _UR * top,  # rounding of one payment
            lo_a=np.full(p.nb, float(start) * (1 - 2 * _UR)),
            lo_b=np.full(p.nb, float(end) * (1 - 2 * _UR)),
            hi_a=np.full(p.nb, float(start) * (1 + 2 * _UR)),
            hi_b=np.full(p.nb, float(end) * (1 + 2 * _UR)),
            low_a=self.rho_min.copy(),
            low_b=self.rho_min.copy(),
            out=np.zeros(p.m, dtype=np.bool_),
            remaining=np.zeros(p.m, dtype=np.bool_),
            reach=self.cost_f - self.tol_scale * top - 4 * _UR * self.cost_f,
        )
        st.remaining[p.candidates] = True
        sizes = []
        r = 0
        while r < len(winners):
            # the round's funded project; if a later winner with supporters disjoint from
            # the block's is what beats it somewhere, the two form a block (see _block)
            block: list[_Funded] = []
            taken = np.zeros(p.nb, dtype=np.bool_)
            project = winners[r]
            while True:
                if not st.remaining[project]:
                    raise _FailedError(0.0, 0.0)
                st.remaining[project] = False
                taken[p.sup[project]] = True
                block.append(self._funded(project, r + len(block), st))
                failed = self._challenger(block, r, st)
                if failed is None:
                    break
                after = r + len(block)
                project = winners[after] if after < len(winners) else -1
                if failed.project != project or bool(taken[p.sup[project]].any()):
                    raise failed
            for f in block:
                self._pay(f, st)
            r += len(block)
            sizes.append(len(block))
        # nothing else can be paid for: every project left is out of reach at both ends
        rest = np.flatnonzero(st.remaining & ~st.out)
        if len(rest):
            sub = self.incidence[rest]
            gap_a = st.reach[rest] - sub @ st.hi_a
            gap_b = st.reach[rest] - sub @ st.hi_b
            worst = int(np.argmin(np.minimum(gap_a, gap_b)))
            _check(float(gap_a[worst]), float(gap_b[worst]))
        self.blocks = sizes

    def _funded(self, win: int, r: int, st: _State) -> _Funded:
        """The funded project's lines: its supporters can pay at both ends, the upper and lower
        lines of its payment and rho, and whether its rho is surely its lowest."""
        p = self.p
        idx = p.sup[win]
        w = p.sup_w[win]
        l_a, l_b = st.lo_a.take(idx), st.lo_b.take(idx)
        h_a, h_b = st.hi_a.take(idx), st.hi_b.take(idx)
        need = p.cost_f[win] + self._tol(win, st.top)
        _check(float(w @ l_a) - need, float(w @ l_b) - need)
        up_a = self._upper(win, l_a, st.top, (r, win, 0))
        up_b = self._upper(win, l_b, st.top, (r, win, 1))
        down_a, down_b = self._lower(win, h_a, h_b, st.top, (r, win, 2))
        scale = self.inv_unit[win] * (1 + 8 * _UR)
        share = self.sigma_min[win] / (1 - 4 * _UR) * (1 + 16 * _UR) * self.k[win]
        pinned = bool((l_a >= share).all() and (l_b >= share).all())
        return _Funded(
            win,
            idx,
            l_a,
            l_b,
            h_a,
            h_b,
            up_a,
            up_b,
            down_a,
            down_b,
            up_a * scale,
            up_b * scale,
            pinned,
        )

    def _challenger(self, block: list[_Funded], r: int, st: _State) -> _FailedError | None:
        """The first project not funded in the block that may beat one of its members, as the
        failure to report; ``None`` if every one is beaten by every member.

        A project is beaten by a member where its lower line is above the member's upper line
        at both ends, or where it is out of reach, or where the member's rho is surely its
        lowest and the project comes later in the exact order. A block is a run of winners
        with pairwise disjoint supporters: whatever order MES funds them in, the money after
        them is the same, and if each beats every other project on the money before the block,
        MES funds exactly the block next (a project's rho only rises as money shrinks, and a
        member's stays as it was).
        """
        p = self.p
        rest = np.flatnonzero(st.remaining)
        beaten = np.ones(len(rest), dtype=np.bool_)
        for f in block:
            by = (st.low_a[rest] > f.rho_a) & (st.low_b[rest] > f.rho_b)
            if f.pinned:
                by |= self.place[rest] > self.place[f.project]
            beaten &= by
        beaten |= st.out[rest]
        for c in rest[~beaten].tolist():
            cidx = p.sup[c]
            w_c = p.sup_w[c]
            c_a, c_b = st.hi_a.take(cidx), st.hi_b.take(cidx)
            if float(w_c @ c_a) < st.reach[c] and float(w_c @ c_b) < st.reach[c]:
                st.out[c] = True  # out of reach for good: money only shrinks
                st.remaining[c] = False
                continue
            fresh_a, fresh_b = self._lower(c, c_a, c_b, st.top, (r, c, 2))
            scale = self.inv_unit[c] * (1 - 8 * _UR)
            fresh_a *= scale
            fresh_b *= scale
            if fresh_a >= st.low_a[c] and fresh_b >= st.low_b[c]:
                st.low_a[c], st.low_b[c] = fresh_a, fresh_b
            for f in block:
                if f.pinned and self.place[c] > self.place[f.project]:
                    continue
                at_a, at_b = float(st.low_a[c] - f.rho_a), float(st.low_b[c] - f.rho_b)
                if not (at_a > 0 and at_b > 0):
                    failed = _FailedError(at_a, at_b)
                    failed.project = c
                    return failed
        return None

    def _pay(self, f: _Funded, st: _State) -> None:
        """The supporters pay: upper money ``max(0, hi - down k)``; lower ``lo - up k``, or 0
        where that is larger on average (both are lower bounds)."""
        margin = st.margin
        if self.uniform:
            new_ha = f.h_a - f.down_a + margin
            new_hb = f.h_b - f.down_b + margin
            new_la = f.l_a - f.up_a - margin
            new_lb = f.l_b - f.up_b - margin
        else:
            k = self.k[f.project]
            new_ha = f.h_a - k * f.down_a + margin * (1 + k)
            new_hb = f.h_b - k * f.down_b + margin * (1 + k)
            new_la = f.l_a - k * f.up_a - margin * (1 + k)
            new_lb = f.l_b - k * f.up_b - margin * (1 + k)
        st.hi_a[f.idx] = np.maximum(new_ha, 0.0)
        st.hi_b[f.idx] = np.maximum(new_hb, 0.0)
        keep = (new_la + new_lb > 0) & (np.minimum(new_la, new_lb) >= -st.top)
        st.lo_a[f.idx] = np.where(keep, new_la, 0.0)
        st.lo_b[f.idx] = np.where(keep, new_lb, 0.0)
