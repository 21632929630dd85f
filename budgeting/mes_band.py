r"""Proof that MES funds the same projects, in the same order, for a range of starting money.

Add1 (:func:`budgeting.mes.add1`) runs the Method of Equal Shares for every starting amount
``x = x0, x0 + 1, x0 + 2, ...``; on a large electorate that is tens of thousands of runs (Budapest
2024: 22,001). Between two such steps the order in which MES funds projects rarely changes
(Budapest: 124 changes in 22,001 steps). This module proves, for a given order of funded
projects ``W`` and an interval of starting money, that MES funds exactly ``W`` in that order for
*every* real starting amount in the interval; Add1 then skips its steps inside it.

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
  project its supporters can pay for only there). The bound holds for any ``K``, so ``K`` may
  come from a nearby ``rho`` instead of the project's own: for the funded project, the mean of
  its upper line; for a rival, the funded project's ``rho`` first (its own is solved for only
  where that line is not high enough).

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
from fractions import Fraction
from types import ModuleType
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
_COMPILED_LIMIT: Final = 1024  # most projects for the compiled proof (its table of roots)


class _FailedError(Exception):
    """The proof does not go through; ``share`` estimates the part of the interval on which the
    failing condition held (0 when it failed at the start)."""

    def __init__(self, at_start: float, at_end: float) -> None:
        super().__init__()
        if at_start > 0 > at_end:
            self.share = at_start / (at_start - at_end)
        else:
            self.share = 0.0


def _check(at_start: float, at_end: float) -> None:
    """Both ends of a line must be positive (then all of it is)."""
    if not (at_start > 0 and at_end > 0):
        raise _FailedError(at_start, at_end)


class Band:
    """The band proof for one election (see the module docstring).

    Parameters
    ----------
    prep : budgeting.mes._Prepared
        The election's per-project supporters, weights, ``k`` and costs.
    rank : sequence of int
        The tie-break's rank of every project (lower is preferred).
    """

    def __init__(
        self, prep: _Prepared, rank: Sequence[int], compiled: ModuleType | None = None
    ) -> None:
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
        self.supporters_f = np.array(prep.supporters, dtype=np.float64)
        self.hints: dict[tuple[int, int, int], float] = {}
        # the same proof compiled (``budgeting/_mesrun.c``, cost and cardinality only), where
        # the roots kept for the next proof fit in a table of m * m * 3
        self.compiled = compiled if prep.uniform and m <= _COMPILED_LIMIT else None
        self.arrays: tuple[object, ...] = ()
        if self.compiled is not None:
            election = prep.compiled
            self.arrays = (
                election.supporters,
                election.weights,
                self.cost_f,
                np.array(self.inv_unit),
                np.array(self.sigma_min),
                self.rho_min,
                self.place,
                self.tol_scale,
                self.supporters_f,
                election.candidates,
                np.full(m * m * 3, np.nan),
            )
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

    def _value(self, j: int, money: FloatArray, sigma: float) -> float:
        """``sum w min(money, sigma k)`` over ``j``'s supporters."""
        share = sigma if self.uniform else self.k[j] * sigma
        return float(self.p.sup_w[j] @ np.minimum(money, share))

    def _root(
        self, j: int, money: FloatArray, key: tuple[int, int, int], total: float | None = None
    ) -> float:
        """A float ``sigma`` near the root of ``sum w min(money, sigma k) = cost``, or ``inf``
        if the supporters cannot pay. Newton's method on the concave money function, started
        from the root found for ``key`` in the previous proof (roots move little between
        neighbouring intervals); the root only guides the proof, which checks what it uses.
        ``total``: ``sum w money``, if known."""
        cost = self.p.cost_f[j]
        if (float(self.p.sup_w[j] @ money) if total is None else total) < cost:
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

    def _upper(
        self, j: int, money: FloatArray, top: float, key: tuple[int, int, int], total: float
    ) -> float:
        """A float proven to be above the root (for the ``lo`` money at one end, whose sum
        ``sum w money`` is ``total``)."""
        cost = self.p.cost_f[j]
        need = cost + self._tol(j, top)
        hint = self.hints.get(key)
        if hint is not None and total >= cost:
            # one Newton step from the last root: on the concave money function it lands at
            # or below the root, on it where no one's share crosses their money on the way;
            # kept only if the same check as after a full solution holds
            value, slope = self._money(j, money, hint)
            if slope > 0:
                sigma = max(cost / self.k_total[j], hint + (cost - value) / slope)
                trial = sigma * (1 + _BUMPS[0])
                if self._value(j, money, trial) >= need:
                    self.hints[key] = sigma
                    return trial
        sigma = self._root(j, money, key, total)
        if np.isfinite(sigma):
            for bump in _BUMPS:
                trial = sigma * (1 + bump)
                if self._value(j, money, trial) >= need:
                    return trial
        raise _FailedError(0.0, 0.0)

    def _lower(
        self,
        j: int,
        start: FloatArray,
        end: FloatArray,
        top: float,
        key: tuple[int, int, int],
        guess: float | None = None,
    ) -> tuple[float, float]:
        """Lower line of ``sigma`` (values at both ends) from the ``hi`` money: the partition
        bound with ``K`` those who pay all they have in the middle of the interval (module
        docstring), or the constant ``cost / total satisfaction`` where that is better.
        ``guess``: a ``sigma`` near the root in the middle, to choose ``K`` by without solving
        (the bound holds for any ``K``)."""
        p = self.p
        cost = p.cost_f[j]
        floor = self.sigma_min[j]
        # K is chosen in the middle; where the supporters cannot pay there (it is then a
        # project that becomes affordable as money grows), at the end
        point = 0.5 * (start + end)
        sigma = self._root(j, point, key) if guess is None else guess
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
        if self.compiled is not None:
            chosen = np.array(winners, dtype=np.int64)
            return float(self.compiled.prove(*self.arrays, chosen, float(start), float(end)))
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
        margin = 4 * _UR * top  # rounding of one payment
        # lo_a <= money <= hi_a at the start, lo_b <= money <= hi_b at the end; in between,
        # money lies between the two lines
        lo_a = np.full(p.nb, float(start) * (1 - 2 * _UR))
        lo_b = np.full(p.nb, float(end) * (1 - 2 * _UR))
        hi_a = np.full(p.nb, float(start) * (1 + 2 * _UR))
        hi_b = np.full(p.nb, float(end) * (1 + 2 * _UR))
        # per project: a lower line of its rho, and whether its supporters can no longer pay
        low_a = self.rho_min.copy()
        low_b = self.rho_min.copy()
        out = np.zeros(p.m, dtype=np.bool_)
        remaining = np.zeros(p.m, dtype=np.bool_)
        remaining[p.candidates] = True
        reach = self.cost_f - self.tol_scale * top - 4 * _UR * self.cost_f
        # out of reach from the start: all supporters' money at the end (one rounding in the
        # product, well inside ``reach``'s margin) is short of the cost
        out[remaining & (self.supporters_f * float(hi_b[0]) < reach)] = True
        remaining &= ~out
        for r, win in enumerate(winners):
            if not remaining[win]:
                raise _FailedError(0.0, 0.0)
            remaining[win] = False
            idx = p.sup[win]
            w = p.sup_w[win]
            l_a, l_b = lo_a.take(idx), lo_b.take(idx)
            h_a, h_b = hi_a.take(idx), hi_b.take(idx)
            need = p.cost_f[win] + self._tol(win, top)
            total_a, total_b = float(w @ l_a), float(w @ l_b)
            _check(total_a - need, total_b - need)
            up_a = self._upper(win, l_a, top, (r, win, 0), total_a)
            up_b = self._upper(win, l_b, top, (r, win, 1), total_b)
            # K from the upper roots' mean: the root of the ``hi`` money is a little below
            down_a, down_b = self._lower(win, h_a, h_b, top, (r, win, 2), 0.5 * (up_a + up_b))
            scale = self.inv_unit[win] * (1 + 8 * _UR)
            rho_a, rho_b = up_a * scale, up_b * scale
            share = self.sigma_min[win] / (1 - 4 * _UR) * (1 + 16 * _UR)
            if self.uniform:
                pinned = min(float(l_a.min()), float(l_b.min())) >= share
            else:
                k_share = share * self.k[win]
                pinned = bool((l_a >= k_share).all() and (l_b >= k_share).all())
            # every other project: beaten where its lower line is above, or out of reach, or
            # (the winner's rho being surely its lowest) later in the exact order
            rest = np.flatnonzero(remaining)
            beaten = ((low_a[rest] > rho_a) & (low_b[rest] > rho_b)) | out[rest]
            if pinned:
                beaten |= self.place[rest] > self.place[win]
            for c in rest[~beaten].tolist():
                cidx = p.sup[c]
                w_c = p.sup_w[c]
                c_a, c_b = hi_a.take(cidx), hi_b.take(cidx)
                if float(w_c @ c_a) < reach[c] and float(w_c @ c_b) < reach[c]:
                    out[c] = True  # out of reach for good: money only shrinks
                    remaining[c] = False
                    continue
                scale_c = self.inv_unit[c] * (1 - 8 * _UR)
                # K first from the winner's rho (c's is a little above it if c loses), then,
                # if that line is not high enough, from c's own root
                for guess in (0.5 * (rho_a + rho_b) / self.inv_unit[c], None):
                    fresh_a, fresh_b = self._lower(c, c_a, c_b, top, (r, c, 2), guess)
                    fresh_a *= scale_c
                    fresh_b *= scale_c
                    if fresh_a >= low_a[c] and fresh_b >= low_b[c]:
                        low_a[c], low_b[c] = fresh_a, fresh_b
                    if low_a[c] > rho_a and low_b[c] > rho_b:
                        break
                _check(float(low_a[c] - rho_a), float(low_b[c] - rho_b))
            # the supporters pay: upper money max(0, hi - down k), lower lo - up k or 0
            if self.uniform:  # (one rounding for the scalar, one for the array: in margin)
                new_ha = h_a - (down_a - margin)
                new_hb = h_b - (down_b - margin)
                new_la = l_a - (up_a + margin)
                new_lb = l_b - (up_b + margin)
            else:
                k = self.k[win]
                new_ha = h_a - k * down_a + margin * (1 + k)
                new_hb = h_b - k * down_b + margin * (1 + k)
                new_la = l_a - k * up_a - margin * (1 + k)
                new_lb = l_b - k * up_b - margin * (1 + k)
            hi_a[idx] = np.maximum(new_ha, 0.0)
            hi_b[idx] = np.maximum(new_hb, 0.0)
            keep = (new_la + new_lb > 0) & (np.minimum(new_la, new_lb) >= -top)
            lo_a[idx] = np.where(keep, new_la, 0.0)
            lo_b[idx] = np.where(keep, new_lb, 0.0)
        # nothing else can be paid for: every project left is out of reach at both ends
        rest = np.flatnonzero(remaining & ~out)
        if len(rest):
            sub = self.incidence[rest]
            gap_a = reach[rest] - sub @ hi_a
            gap_b = reach[rest] - sub @ hi_b
            worst = int(np.argmin(np.minimum(gap_a, gap_b)))
            _check(float(gap_a[worst]), float(gap_b[worst]))
