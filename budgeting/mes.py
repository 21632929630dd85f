r"""The Method of Equal Shares (MES) and its completions, exact and fast.

The rule
--------
The Method of Equal Shares ([PPS21]_, [PS20]_; explained for cities at equalshares.net) divides
the budget equally among the ``n`` voters: each starts with ``b0 = budget / n``. A project can
only be paid for by its supporters, out of what they have left. Voter ``i`` gets satisfaction
``u_i(c)`` from project ``c``; a project costing ``cost(c)`` is *affordable at* ``rho`` when

.. math:: \sum_{i \text{ supports } c} \min(b_i, \rho\, u_i(c)) = \mathrm{cost}(c),

that is, when every supporter pays ``rho`` per unit of satisfaction, or everything they have left
if that is less. In each round the rule funds the affordable project with the smallest ``rho``
(the cheapest satisfaction), its supporters pay, and the rounds go on until no project not yet
funded can be paid for by its supporters' money. Ties between equal ``rho`` go to the
:class:`~budgeting.election.TieBreak`.

Satisfaction (``u_i(c)`` for ``c`` on ``i``'s ballot; 0 otherwise), as pabutools 1.2.3 names it:

=============== ============================================ ===========================
name            ``u_i(c)``                                   pabutools
=============== ============================================ ===========================
``cost``        ``cost(c)`` (the default for approval-like)  ``Cost_Sat``
``cardinality`` 1                                            ``Cardinality_Sat``
``points``      the points ``i`` gave ``c`` (the default for ``Additive_Cardinal_Sat``
                cumulative and scoring ballots)
=============== ============================================ ===========================

Approval-like means approval, choose-1 and ordinal ballots (an ordinal ballot supports every
project it ranks, as pabutools' ``project in ballot``). With ``cost``, ``rho`` is the share of a
project's cost one supporter pays, so MES funds first the project whose cost can be spread most
thinly ("effective vote count" ``cost / max payment`` on equalshares.net).

Where the definition is pabutools'
----------------------------------
Outcomes equal those of pabutools 1.2.3 under :meth:`TieBreak.by_id` (its
``lexico_tie_breaking``), for the calls that ``benchmarks/pb_anchor_runner.py`` documents:

* ``mes`` is ``method_of_equal_shares``: projects that cost nothing but give someone
  satisfaction are funded first (before any round; under ``cost`` a free project gives no
  satisfaction, so it is never funded by MES); projects that cost something and that nobody gets
  satisfaction from never take part; a project whose supporters together have less than its
  cost is out for good (their money only shrinks); exact arithmetic throughout.
* ``mes-add1`` is ``exhaustion_by_budget_increase(..., budget_step=n)``: MES is run with the
  total budget ``B + k n`` for ``k = 0, 1, 2, ...`` (each voter starts with ``B / n + k``: one
  currency unit more per step, exactly, with no rounding of ``B / n``). It stops at the first
  ``k`` whose outcome costs more than ``B``, returning the outcome of ``k - 1``; or at the first
  whose outcome is *exhaustive*, returning it; an outcome is exhaustive when no project outside
  it, of all the projects (also those nobody voted for), fits in what is left of ``B``. It gives up
  after ``k = floor(B)`` (pabutools' ``budget_bound = B (n + 1)``), returning the last outcome.
* ``mes-greedy`` and ``mes-add1-greedy`` are ``completion_by_rule_combination`` of the above
  with ``greedy_utilitarian_welfare`` (same satisfaction): if the MES outcome is not exhaustive,
  the projects left are taken in order of total satisfaction per cost (votes under ``cost``),
  highest first, ties by the tie-break, each funded if it fits what is left.

equalshares.net's tool differs in two details, both options here: it starts Add1 at the whole
per-voter amount ``floor(B / n)`` (``add1_start="integral"``), and it has the *comparison step*
(``comparison=``): the outcome (after completion) is compared with the greedy outcome (the city's
usual rule: by votes, or by points on cumulative and scoring ballots) and the greedy outcome is
taken if more voters prefer it than prefer the MES outcome. A voter prefers the outcome in which
more of the projects on their ballot are funded (``"satisfaction"``), or, with ``"exclusion"``,
the one that funds at least one of them when the other funds none. (The tool's JavaScript counts
a voter with no funded project in one outcome for neither side; here that voter has 0 there.)

How it is computed
------------------
A plain implementation recomputes every project's ``rho`` over every voter in every round, and
Add1 repeats MES for every step; pabutools gives no result for Warsaw 2026 (61,668 voters, 185
Add1 steps) in 300 seconds. Here (Warsaw 2026, MES + Add1: about 1 second):

* Identical ballots are one row with a weight. With ``cost`` or ``cardinality`` every supporter
  who can pays the same share, so in the first rounds voters with the same funded projects are
  one group with one amount of money (the *group phase*); later every ballot has its own.
* ``rho`` is found by Newton's method on the concave, piecewise linear money function above,
  started from the project's previous ``rho`` (a lower bound: money only shrinks); only projects
  whose previous ``rho`` is not above the best so far are recomputed (as pabutools does).
* Every floating-point decision is *certified*: each voter's float money carries a proven error
  bound, each ``rho`` an interval that provably contains the exact value, and a decision is
  taken from floats only when the intervals (or money and cost) are apart. In an *exact run*
  the funded project's exact ``rho`` and payments are computed with integers over a common
  denominator (a voter's exact money is ``b0`` minus the exact shares of the funded projects on
  the ballot, so the money of any set of voters costs one pass over their ballots), and near
  ties are decided exactly; floats only choose which exact computations to do. In a *float run*
  (used for Add1's many steps) payments are floats too and the error bound grows with them; a
  decision the bound cannot settle makes the step be run exactly, taking the winners already
  certified as given. Two cases that would often stop a float run are settled in floats: a
  project whose supporters with money left all pay the full share has the exact ``rho =
  cost / (unit * their weight)`` (ties with supporters who ran out), and a project its
  supporters can barely afford gets looser certified bounds (:meth:`_FastRun._loose`) and
  may be paid for within them. The outcome returned is then replayed exactly for the
  explanations (and must agree).
* Add1's float runs and band proofs for ``cost`` and ``cardinality`` satisfaction also exist
  compiled (``budgeting/_mesrun.c``, built by ``pip install`` where a C compiler is present):
  the same certified computation, on every ballot's money with its own error bound, without
  the groups (in C a pass over the ballots costs less than grouping them). Where it is not
  built, or for ``points``, the Python code below does the same; the tests run both.
* Add1 skips steps only where it is proven that they give the same outcome: between two
  steps the order in which MES funds projects rarely changes (Budapest 2024: 124 changes in
  22,001 steps), and :mod:`budgeting.mes_band` proves, with bands of affine bounds on every
  voter's money, that MES funds the same projects in the same order for *every* starting
  money in an interval (rigorous for the exact rule, float rounding included). Proofs start
  at 32 steps and double after each success; a failed proof reports how much of its interval
  the failing condition held on, and the next one tries that much; steps next to a change
  are run. Once every voter starts with at least the total cost of the projects on their
  ballot nobody ever runs short, so no later step changes anything either.
* The BLAS library is held to one thread throughout: its threads only add synchronisation on
  vectors and matrices this small, and on a busy machine they slow each product down a
  hundredfold.

:func:`_reference_mes` is pabutools' procedure over Fractions, the brute-force twin that the
tests compare every path against.

References
----------
.. [PPS21] D. Peters, G. Pierczyński and P. Skowron, "Proportional participatory budgeting with
   additive utilities", NeurIPS 2021, pp. 12726-12737. arXiv:2008.13276
.. [PS20] D. Peters and P. Skowron, "Proportionality and the limits of welfarism", EC 2020,
   pp. 793-794. doi:10.1145/3391403.3399465
.. [FFPPSSST23] P. Faliszewski, J. Flis, D. Peters, G. Pierczyński, P. Skowron, D. Stolicki,
   S. Szufa and N. Talmon, "Participatory budgeting: data, tools and analysis", IJCAI 2023,
   pp. 2667-2674. arXiv:2305.11035 (Add1 and its effect on real instances)
.. [ES] D. Peters, G. Pierczyński, P. Skowron et al., equalshares.net: "Completion" and
   "Computation" (implementation notes), and the equalshares compute tool.
"""

from __future__ import annotations

import functools
import heapq
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain
from operator import attrgetter
from types import ModuleType
from typing import Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse
from threadpoolctl import threadpool_limits

from budgeting.election import (
    Election,
    Explanation,
    Explanations,
    Outcome,
    TieBreak,
    VoteType,
)
from budgeting.mes_band import Band
from budgeting.rules import RuleError, amount_text, greedy

__all__ = [
    "COMPARISONS",
    "COMPLETIONS",
    "MES_RULES",
    "MES_SATISFACTIONS",
    "Add1Result",
    "Comparison",
    "Completion",
    "MESRound",
    "MESRun",
    "MESSatisfaction",
    "add1",
    "default_mes_satisfaction",
    "equal_shares",
    "method_of_equal_shares",
    "run_mes_rule",
]

_mesrun: ModuleType | None
try:
    from budgeting import _mesrun  # the float run compiled (budgeting/_mesrun.c)
except ImportError:  # built without a C compiler: the Python float run does the same
    _mesrun = None

logger = logging.getLogger(__name__)

MESSatisfaction = Literal["cost", "cardinality", "points"]
MES_SATISFACTIONS: tuple[MESSatisfaction, ...] = ("cost", "cardinality", "points")
Completion = Literal["none", "add1", "greedy", "add1-greedy"]
COMPLETIONS: tuple[Completion, ...] = ("none", "add1", "greedy", "add1-greedy")
Comparison = Literal["satisfaction", "exclusion"]
COMPARISONS: tuple[Comparison, ...] = ("satisfaction", "exclusion")

#: The rule names :func:`run_mes_rule` takes (``stadmaken pb --rule``).
MES_RULES: Final = (
    "mes",
    "mes-add1",
    "mes-greedy",
    "mes-add1-greedy",
    "mes-add1-comparison",
    "mes-add1-greedy-comparison",
)
_RULE_COMPLETION: Final[dict[str, Completion]] = {
    "mes": "none",
    "mes-add1": "add1",
    "mes-greedy": "greedy",
    "mes-add1-greedy": "add1-greedy",
    "mes-add1-comparison": "add1",
    "mes-add1-greedy-comparison": "add1-greedy",
}

_CARDINAL: Final[frozenset[str]] = frozenset({"cumulative", "scoring"})
_UR: Final = 2.0**-53  # unit roundoff of IEEE double precision
_ETA: Final = 1e-5  # relative width up to which a float rho interval is accepted
_LOOSE_ETA: Final = 1e-3  # the same for a project its supporters can barely afford
_LOOSE_STEPS: Final = 8
_NEWTON_LIMIT: Final = 60

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class MESRound:
    """One purchase of the Method of Equal Shares.

    Attributes
    ----------
    project : int
        The project funded in this round.
    rho : Fraction
        What one unit of satisfaction cost its supporters: a supporter paid
        ``min(money left, rho * u_i(project))``.
    price : Fraction
        The most one supporter paid (``rho`` times the largest satisfaction among them; for
        ``cost`` and ``cardinality`` every supporter who could afford it paid exactly this).
    supporters : int
        Voters with the project on their ballot.
    paid_all : int
        Of those, the voters who paid everything they had left (they had less than their share,
        or had nothing left at all).
    money_before : Fraction
        What the supporters had left together just before this purchase.
    """

    project: int
    rho: Fraction
    price: Fraction
    supporters: int
    paid_all: int
    money_before: Fraction


@dataclass(frozen=True)
class MESRun:
    """The outcome of one run of MES with a given starting budget per voter.

    Attributes
    ----------
    selected : tuple of int
        Funded projects in the order funded (free projects first, before the rounds).
    cost : Fraction
        Their total cost.
    budget_per_voter : Fraction
        What each voter started with.
    rounds : tuple of MESRound
        One per purchase (free projects have none).
    money_by_round : tuple of tuple of Fraction
        Only with ``trace=True``, else empty: ``money_by_round[r][j]`` is what the supporters of
        project ``j`` had left at the start of round ``r`` (``r = len(rounds)`` is the end).
    """

    selected: tuple[int, ...]
    cost: Fraction
    budget_per_voter: Fraction
    rounds: tuple[MESRound, ...]
    money_by_round: tuple[tuple[Fraction, ...], ...] = ()


# --------------------------------------------------------------------------- preparation


def default_mes_satisfaction(vote_type: VoteType) -> MESSatisfaction:
    """``"points"`` for cumulative and scoring ballots, ``"cost"`` otherwise.

    Parameters
    ----------
    vote_type : str

    Returns
    -------
    str
    """
    return "points" if vote_type in _CARDINAL else "cost"


def _check_satisfaction(election: Election, satisfaction: str | None) -> MESSatisfaction:
    if satisfaction is None:
        return default_mes_satisfaction(election.vote_type)
    for name in MES_SATISFACTIONS:
        if name == satisfaction:
            if name == "points" and election.vote_type not in _CARDINAL:
                raise RuleError(
                    "wrong-vote-type",
                    f"the satisfaction 'points' needs cumulative or scoring ballots, not "
                    f"{election.vote_type}",
                )
            return name
    raise RuleError(
        "unknown-satisfaction",
        f"unknown satisfaction '{satisfaction}' for the Method of Equal Shares; choose one of "
        f"{', '.join(MES_SATISFACTIONS)}",
    )


class _Compiled(NamedTuple):
    """An election as the compiled module takes it (see ``budgeting/_mesrun.c``)."""

    supporters: object  # ``_mesrun.Supporters``: each project's ballots, checked once
    weights: FloatArray
    near_ptr: IntArray  # per project, the projects sharing a ballot with it
    near: IntArray
    cost: FloatArray
    unit: FloatArray
    rho_min: FloatArray  # a float lower bound of each rho
    candidates: IntArray
    # ``cost / unit`` as ``q_num / q_den``; ``q_den = 0`` where it does not fit in 36 bits
    # (a near tie of known rho then goes to the exact run)
    q_num: IntArray
    q_den: IntArray


class _Prepared:
    """Everything about an election that does not depend on the per-voter budget.

    A voter's satisfaction from project ``j`` is ``unit[j] * k`` with an integer ``k >= 1``
    (``k = 1`` for ``cost`` and ``cardinality``; for ``points``, ``unit[j] = 1 / L`` with ``L``
    the common denominator of the points given to ``j``).
    """

    def __init__(self, election: Election, satisfaction: MESSatisfaction) -> None:
        self.election = election
        self.satisfaction: MESSatisfaction = satisfaction
        m = election.n_projects
        ballots = election.ballots
        self.m = m
        self.nb = len(ballots)
        self.costs = election.costs
        self.cost_f = [float(c) for c in election.costs]
        self.weights: IntArray = np.fromiter(
            map(attrgetter("weight"), ballots), dtype=np.int64, count=self.nb
        )
        self.weights_f: FloatArray = self.weights.astype(np.float64)
        self.n = int(self.weights.sum())
        projects = list(map(attrgetter("projects"), ballots))
        lengths = np.fromiter(map(len, projects), dtype=np.int64, count=self.nb)
        total = int(lengths.sum())
        self.indptr: IntArray = np.zeros(self.nb + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        self.pair_proj: IntArray = np.fromiter(
            chain.from_iterable(projects), dtype=np.int64, count=total
        )
        self.pair_ballot: IntArray = np.repeat(np.arange(self.nb, dtype=np.int64), lengths)
        units: list[Fraction] = []
        if satisfaction == "points":
            points = [Fraction(0)] * total
            position = 0
            for b in ballots:
                if b.points is None:
                    raise RuleError(
                        "wrong-vote-type", "the satisfaction 'points' needs ballots with points"
                    )
                for value in b.points:
                    points[position] = value
                    position += 1
            scale = [1] * m
            for j, value in zip(self.pair_proj.tolist(), points, strict=True):
                scale[j] = math.lcm(scale[j], value.denominator)
            ks = [
                (value * scale[j]).numerator
                for j, value in zip(self.pair_proj.tolist(), points, strict=True)
            ]
            self.pair_k: IntArray = np.array(ks, dtype=np.int64)
            units = [Fraction(1, s) for s in scale]
            self.uniform = False
        else:
            self.pair_k = np.ones(total, dtype=np.int64)
            units = list(election.costs) if satisfaction == "cost" else [Fraction(1)] * m
            self.uniform = True
        self.unit = units
        self.unit_f = [float(u) for u in units]
        order = np.argsort(self.pair_proj, kind="stable")
        counts = np.bincount(self.pair_proj, minlength=m) if total else np.zeros(m, np.int64)
        bounds = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(counts, out=bounds[1:])
        sup_all = self.pair_ballot[order]
        k_all = self.pair_k[order]
        self.sup: list[IntArray] = []
        self.sup_k: list[IntArray] = []
        self.sup_w: list[FloatArray] = []
        self.sup_u: list[FloatArray] = []  # float satisfaction per supporter (points only)
        self.supporters: list[int] = []  # voters with the project on the ballot
        self.k_total: list[int] = []  # sum of weight * k over them
        for j in range(m):
            lo, hi = int(bounds[j]), int(bounds[j + 1])
            idx = sup_all[lo:hi]
            kk = k_all[lo:hi]
            ww = self.weights[idx]
            self.sup.append(idx)
            self.sup_k.append(kk)
            self.sup_w.append(ww.astype(np.float64))
            self.sup_u.append(kk.astype(np.float64) * self.unit_f[j])
            self.supporters.append(int(ww.sum()))
            self.k_total.append(int((ww * kk).sum()))
        # ballots as rows of project indices padded with m (round_of[m] is always -1)
        width = int(lengths.max()) if self.nb else 0
        self.padded: IntArray | None = None
        self.padded_k: IntArray | None = None
        if self.nb * width <= 8_000_000:
            column = np.arange(total, dtype=np.int64) - np.repeat(self.indptr[:-1], lengths)
            self.padded = np.full((self.nb, max(width, 1)), m, dtype=np.int64)
            self.padded[self.pair_ballot, column] = self.pair_proj
            if satisfaction == "points":
                self.padded_k = np.zeros((self.nb, max(width, 1)), dtype=np.int64)
                self.padded_k[self.pair_ballot, column] = self.pair_k
        max_k = int(self.pair_k.max()) if total else 1
        # bincount sums in float64 are exact while every total stays below 2**53
        self.float_sums_exact = (self.n + 1) * (max_k + 1) < 2**52
        self.utility = [self.unit[j] * self.k_total[j] for j in range(m)]
        self.candidates = [j for j in range(m) if self.costs[j] > 0 and self.utility[j] > 0]
        self.free = [j for j in range(m) if self.costs[j] == 0 and self.utility[j] > 0]
        # exact lower bound of rho: nobody short of money
        self.rho_min = [
            self.costs[j] / self.utility[j] if self.utility[j] > 0 else Fraction(0)
            for j in range(m)
        ]
        self.rho_min_f = [float(r) * (1 - 4 * _UR) for r in self.rho_min]

    @functools.cached_property
    def near(self) -> tuple[IntArray, IntArray]:
        """Per project, the projects that share a ballot with it (itself included), as the
        starts (``m + 1``) and the entries of one list."""
        incidence = sparse.csr_matrix(
            (np.ones(len(self.pair_proj)), (self.pair_proj, self.pair_ballot)),
            shape=(self.m, self.nb),
        )
        shared = (incidence @ incidence.T).tocsr()
        shared.sort_indices()
        return shared.indptr.astype(np.int64), shared.indices.astype(np.int64)

    def neighbours(self, j: int) -> IntArray:
        """The projects that share a ballot with ``j`` (itself included)."""
        starts, entries = self.near
        return entries[starts[j] : starts[j + 1]]

    @functools.cached_property
    def compiled(self) -> _Compiled:
        """What the compiled module (``budgeting/_mesrun.c``) needs of the election."""
        assert _mesrun is not None
        sizes = np.array([len(s) for s in self.sup], dtype=np.int64)
        sup_ptr = np.zeros(self.m + 1, dtype=np.int64)
        np.cumsum(sizes, out=sup_ptr[1:])
        sup_ballot = np.concatenate([*self.sup, np.zeros(0, dtype=np.int64)]).astype(np.int64)
        q = [c / u if u else Fraction(0) for c, u in zip(self.costs, self.unit, strict=True)]
        fitting = [r if r.numerator < 2**36 and r.denominator < 2**36 else None for r in q]
        return _Compiled(
            _mesrun.Supporters(sup_ptr, sup_ballot, self.nb),
            self.weights_f,
            *self.near,
            np.array(self.cost_f, dtype=np.float64),
            np.array(self.unit_f, dtype=np.float64),
            np.array(self.rho_min_f, dtype=np.float64),
            np.array(self.candidates, dtype=np.int64),
            np.array([0 if r is None else r.numerator for r in fitting], dtype=np.int64),
            np.array([0 if r is None else r.denominator for r in fitting], dtype=np.int64),
        )

    def pairs_of(self, ballots: IntArray) -> IntArray:
        """Positions in the pair arrays of all the pairs of the given ballots."""
        starts = self.indptr[ballots]
        lengths = self.indptr[ballots + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        result: IntArray = np.arange(total, dtype=np.int64) + shift
        return result


# --------------------------------------------------------------------------- exact ledger


class _Ledger:
    """Exact money over a common denominator ``D``.

    ``pi[r]`` is what one unit of ``k`` cost in round ``r`` (``rho * unit`` of the project
    funded then). A voter who has not run out has exactly
    ``b0 - sum over the funded projects on the ballot of pi[round] * k``; ``b0`` and each
    ``pi`` are kept as integers over ``D``.
    """

    def __init__(self, b0: Fraction) -> None:
        self.den = b0.denominator
        self.b0 = b0.numerator
        self.pi: list[int] = []
        self.pi_exact: list[Fraction] = []

    def add(self, pi: Fraction) -> None:
        factor = pi.denominator // math.gcd(self.den, pi.denominator)
        if factor != 1:
            self.den *= factor
            self.b0 *= factor
            self.pi = [value * factor for value in self.pi]
        self.pi.append(pi.numerator * (self.den // pi.denominator))
        self.pi_exact.append(pi)

    def money(self, weight: int, k_sums: Sequence[int]) -> int:
        """Numerator over ``den`` of the money of voters of total weight ``weight`` whose
        ``sum(weight * k)`` over the project funded in round ``r`` is ``k_sums[r]``."""
        total = self.b0 * weight
        for value, count in zip(self.pi, k_sums, strict=False):
            if count:
                total -= value * count
        return total


# --------------------------------------------------------------------------- the fast run


class _UncertainError(Exception):
    """A float computation could not be certified (internal; handled by exact recomputation)."""


@dataclass
class _Exact:
    """A project's exact rho, and who would pay all they have (``dead``) and who would pay
    their share and keep money (``keep``, with their ``k``) if it were funded.

    In the group phase the ballots are found only when needed (for the explanations), from
    ``slots``: the supporters, their slots, and which slots die and which keep money.
    """

    rho: Fraction
    pi: Fraction
    dead: IntArray | None
    keep: IntArray | None
    keep_k: IntArray | None
    # group phase: the supporters, their groups, and per group with supporters (``ids``,
    # ``counts``) whether its supporters are left with nothing or keep money
    slots: tuple[IntArray, IntArray, IntArray, IntArray, BoolArray, BoolArray] | None = None

    def ballots(self) -> tuple[IntArray, IntArray, IntArray]:
        if self.dead is None or self.keep is None or self.keep_k is None:
            assert self.slots is not None
            supporters, old, ids, _, dead, keep = self.slots
            size = int(old.max()) + 1 if len(old) else 1
            dead_slot = np.zeros(size, dtype=np.bool_)
            keep_slot = np.zeros(size, dtype=np.bool_)
            dead_slot[ids[dead]] = True
            keep_slot[ids[keep]] = True
            self.dead = supporters[dead_slot[old]]
            self.keep = supporters[keep_slot[old]]
            self.keep_k = np.ones(len(self.keep), dtype=np.int64)
        return self.dead, self.keep, self.keep_k


@dataclass
class _Eval:
    project: int
    rho: float  # float estimate
    lo: float  # certified bounds of the exact rho
    hi: float
    items: tuple[IntArray, FloatArray, FloatArray] | None = None  # ids, weights, float money
    exact: _Exact | None = None
    # the Newton's own numbers: the payment (uniform) or rho (general), |F - cost| plus
    # rounding, and the weight surely paying the full share
    center: float = 0.0
    resid: float = 0.0
    sure: float = 0.0


@dataclass
class _Record:
    """What a run did: for Add1's decisions and for the explanations."""

    b0: Fraction
    winners: list[int] = field(default_factory=list)
    rounds: list[_Exact] = field(default_factory=list)
    exact_checks: int = 0


def _weighted(
    w: FloatArray,
    err: float | FloatArray,
    total: float | None = None,
    mask: BoolArray | None = None,
) -> float:
    """``sum w * err`` over the voters in ``mask`` (all: ``total`` is then ``sum w``, if known),
    for one error bound for all or one per voter."""
    if isinstance(err, float):
        if mask is not None:
            return float(np.dot(w, mask)) * err
        return (float(w.sum()) if total is None else total) * err
    return float(np.dot(w, err if mask is None else np.where(mask, err, 0.0)))


_GROUP_LIMIT: Final = 512
_TINY: Final = 1e-300  # float money of a voter who may have an exact, tiny positive amount


class _FastRun:
    """One run of MES with starting budget ``b0``: certified floats, exact decisions.

    With ``cost`` or ``cardinality`` satisfaction every supporter who can pays the same share,
    so voters who supported the same funded projects have the same money. For the first rounds
    (the *group phase*, while there are at most ``_GROUP_LIMIT`` groups) a voter is tracked by
    the group of voters with the same history (``slot``; group 0 holds those who ran out), and
    each project's supporters are summed per group; afterwards (the *ballot phase*) every
    distinct ballot has its own money. With ``exact=True`` payments are exact and floats only
    choose which exact computations to do; with ``exact=False`` payments are floats with a
    proven error bound, and any decision the bound cannot settle raises
    :class:`_UncertainError`. ``prefix``: winners of the first rounds, already decided (an
    exact run then computes only their payments).
    """

    def __init__(
        self,
        prep: _Prepared,
        b0: Fraction,
        rank: Sequence[int],
        exact: bool = True,
        prefix: Sequence[int] = (),
    ) -> None:
        self.p = prep
        self.rank = rank
        self.exact = exact
        self.prefix = prefix
        self.b0f = float(b0)
        # proven bound on |float money - exact money| of every voter (dead voters: exact 0.0);
        # a float run also keeps one per group or ballot (``gerr``, ``berr``), often far smaller
        self.err = 2 * _UR * self.b0f
        self.ledger = _Ledger(b0)
        self.round_of: IntArray = np.full(prep.m + 1, -1, dtype=np.int64)
        self.sup = list(prep.sup)
        self.sup_w = list(prep.sup_w)
        self.sup_u = list(prep.sup_u)
        self.sup_k = list(prep.sup_k)
        self.weight_now = [float(s) for s in prep.supporters]
        self.record = _Record(b0)
        # A float run keeps what it found out about a project (its supporters' groups, its
        # evaluation) until a project sharing a ballot with it is funded: until then its
        # supporters' groups and money, and so its rho, are unchanged. ``touched[j]``: the
        # ``clock`` (rounds paid) when that last happened.
        self.clock = 0
        self.touched: IntArray = np.zeros(prep.m, dtype=np.int64)
        self.group_items: dict[int, tuple[int, IntArray, FloatArray]] = {}
        self.seen: dict[int, tuple[int, _Eval]] = {}
        self.grouped = prep.uniform
        if self.grouped:
            # group 0 holds the voters who ran out; group 1 starts with everyone
            capacity = 1024
            self.slot: IntArray = np.ones(prep.nb, dtype=np.int64)
            self.groups = 2
            self.gb: FloatArray = np.zeros(capacity, dtype=np.float64)
            self.gb[1] = self.b0f
            self.galive: BoolArray = np.zeros(capacity, dtype=np.bool_)
            self.galive[1] = True
            self.gsize: IntArray = np.zeros(capacity, dtype=np.int64)
            self.gsize[1] = prep.n
            self.gerr: FloatArray = np.zeros(capacity, dtype=np.float64)
            self.gerr[1] = self.err
            # which rounds each group paid in: exact runs only (for exact money)
            rows = capacity if exact else 0
            self.hist: npt.NDArray[np.int64] = np.zeros((rows, prep.m), dtype=np.int64)
            self.bb: FloatArray = np.zeros(0, dtype=np.float64)
            self.berr: FloatArray = np.zeros(0, dtype=np.float64)
            self.alive: BoolArray = np.zeros(0, dtype=np.bool_)
        else:
            self.bb = np.full(prep.nb, self.b0f, dtype=np.float64)
            self.berr = np.full(prep.nb, self.err, dtype=np.float64)
            self.alive = np.ones(prep.nb, dtype=np.bool_)

    def _grow(self, needed: int) -> None:
        capacity = len(self.gb)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        extra = capacity - len(self.gb)
        self.gb = np.concatenate([self.gb, np.zeros(extra, dtype=np.float64)])
        self.galive = np.concatenate([self.galive, np.zeros(extra, dtype=np.bool_)])
        self.gsize = np.concatenate([self.gsize, np.zeros(extra, dtype=np.int64)])
        self.gerr = np.concatenate([self.gerr, np.zeros(extra, dtype=np.float64)])
        if self.exact:
            self.hist = np.concatenate([self.hist, np.zeros((extra, self.p.m), dtype=np.int64)])

    def _ungroup(self) -> None:
        """Leave the group phase: give every ballot its own money."""
        self.group_items.clear()
        self.seen.clear()
        self.bb = self.gb[self.slot]
        self.berr = self.gerr[self.slot]
        self.alive = self.galive[self.slot]
        self.grouped = False

    # ----------------------------------------------------------------- exact money

    def _pair_sums(self, ballots: IntArray) -> list[int]:
        """Per round so far, the sum of weight * k over ``ballots`` supporting its project."""
        p = self.p
        rounds = len(self.ledger.pi)
        if rounds == 0:
            return []
        if p.padded is not None:
            # rounds shifted by one, so that projects not funded (-1) land in bin 0
            shifted = self.round_of[p.padded[ballots]] + 1
            if p.padded_k is None:
                values: IntArray = np.repeat(p.weights[ballots], shifted.shape[1])
            else:
                values = (p.weights[ballots][:, None] * p.padded_k[ballots]).ravel()
            if p.float_sums_exact:
                sums = np.bincount(
                    shifted.ravel(), weights=values.astype(np.float64), minlength=rounds + 1
                )
                return [int(v) for v in sums[1:].tolist()]
            rnd: IntArray = shifted.ravel() - 1
            keep = rnd >= 0
            rnd = rnd[keep]
            values = values[keep]
        else:
            pos = p.pairs_of(ballots)
            rnd = self.round_of[p.pair_proj[pos]]
            keep = rnd >= 0
            rnd = rnd[keep]
            pos = pos[keep]
            values = p.weights[p.pair_ballot[pos]] * p.pair_k[pos]
        if p.float_sums_exact:
            sums = np.bincount(rnd, weights=values.astype(np.float64), minlength=rounds)
            return [int(v) for v in sums.tolist()]
        exact: list[int] = [0] * rounds
        for r, v in zip(rnd.tolist(), values.tolist(), strict=True):
            exact[int(r)] += int(v)
        return exact

    def _slot_sums(self, groups: IntArray, counts: IntArray) -> list[int]:
        """Per round so far, how many of ``counts[t]`` voters in group ``groups[t]`` paid."""
        rounds = len(self.ledger.pi)
        if rounds == 0 or len(groups) == 0:
            return [0] * rounds
        return [int(v) for v in (counts @ self.hist[groups, :rounds]).tolist()]

    def _money_num(self, ids: IntArray, weights: IntArray) -> int:
        """Exact money (numerator over the ledger's ``den``) of live voters: ballots ``ids``,
        or, in the group phase, ``weights[t]`` voters in slot ``ids[t]``."""
        if len(ids) == 0:
            return 0
        total = int(weights.sum())
        if self.grouped:
            return self.ledger.money(total, self._slot_sums(ids, weights))
        return self.ledger.money(total, self._pair_sums(ids))

    def _item_money_nums(self, ids: IntArray) -> list[int]:
        """Exact money of one voter of each ballot (or slot) in ``ids``, over ``den``."""
        p = self.p
        pi = self.ledger.pi
        result = []
        if self.grouped:
            for group in ids.tolist():
                total = self.ledger.b0
                for r, value in enumerate(pi):
                    if self.hist[group, r]:
                        total -= value
                result.append(total)
            return result
        for i in ids.tolist():
            total = self.ledger.b0
            for pos in range(int(p.indptr[i]), int(p.indptr[i + 1])):
                r = int(self.round_of[p.pair_proj[pos]])
                if r >= 0:
                    total -= pi[r] * int(p.pair_k[pos])
            result.append(total)
        return result

    # ----------------------------------------------------------------- supporters

    def _items(self, j: int) -> tuple[IntArray, FloatArray, FloatArray]:
        """The supporters of ``j`` as (ids, weights, float money): ballots, or slots with the
        number of supporters in each."""
        if self.grouped:
            known = self.group_items.get(j)
            if known is not None and self.touched[j] <= known[0]:
                return known[1], known[2], self.gb[known[1]]
            counts: FloatArray = np.bincount(
                self.slot[self.sup[j]], weights=self.sup_w[j], minlength=self.groups
            ).astype(np.float64, copy=False)
            ids: IntArray = np.flatnonzero(counts).astype(np.int64)
            weights = counts[ids]
            if not self.exact:
                self.group_items[j] = (self.clock, ids, weights)
            return ids, weights, self.gb[ids]
        idx = self.sup[j]
        b = self.bb[idx]
        if len(b) > 64 and 2 * np.count_nonzero(b) < len(b):
            self._compact(j)  # more than half of its supporters may have run out
            idx = self.sup[j]
            b = self.bb[idx]
        return idx, self.sup_w[j], b

    def _compact(self, j: int) -> None:
        """Drop supporters of ``j`` who have run out (their money is exactly 0 for good)."""
        idx = self.sup[j]
        keep = self.alive[idx] if self.exact else self.bb[idx] > 0
        self.sup[j] = idx[keep]
        self.sup_w[j] = self.sup_w[j][keep]
        self.sup_u[j] = self.sup_u[j][keep]
        self.sup_k[j] = self.sup_k[j][keep]
        self.weight_now[j] = float(self.sup_w[j].sum())

    def _errors(self, ids: IntArray) -> FloatArray:
        """A float run's own error bound of each of ``ids`` (groups or ballots)."""
        return self.gerr[ids] if self.grouped else self.berr[ids]

    # ----------------------------------------------------------------- exact rho

    def _exact_rho(
        self,
        j: int,
        lo: float | None,
        hi: float | None,
        items: tuple[IntArray, FloatArray, FloatArray] | None = None,
    ) -> _Exact:
        """Exact rho of project ``j``, and who would pay what if it were funded.

        ``lo`` and ``hi`` are certified float bounds of rho (``None``: unknown). Voters whose
        money is clearly below their share at ``lo`` pay all they have; those clearly above
        their share at ``hi`` pay it; only the others are sorted by their exact money, as in
        pabutools' loop.
        """
        p = self.p
        self.record.exact_checks += 1
        ids, weights_f, b = items if items is not None else self._items(j)
        alive = self.galive[ids] if self.grouped else self.alive[ids]
        kk = self.sup_k[j] if not p.uniform else None
        if lo is None or hi is None:
            capped: BoolArray = np.zeros(len(ids), dtype=np.bool_)
            free: BoolArray = np.zeros(len(ids), dtype=np.bool_)
        elif p.uniform:
            capped = (b < lo * p.unit_f[j] * (1 - 4 * _UR) - self.err) & alive
            free = b > hi * p.unit_f[j] * (1 + 4 * _UR) + self.err
        else:
            u = self.sup_u[j]
            capped = (b + self.err < lo * (1 - 4 * _UR) * u) & alive
            free = b - self.err > hi * (1 + 4 * _UR) * u
        unsure = alive & ~(capped | free)
        cost = p.costs[j]
        den = self.ledger.den
        paid_num = self._money_num(ids[capped], weights_f[capped].astype(np.int64))  # over den
        if not unsure.any():
            k_rest = int(np.dot(weights_f, free) if kk is None else np.dot(weights_f * kk, free))
            if k_rest <= 0:
                raise _UncertainError
            # pi = (cost - paid) / k_rest: what one unit of k costs; rho = pi / unit
            pi = Fraction(
                cost.numerator * den - paid_num * cost.denominator,
                cost.denominator * den * k_rest,
            )
            if lo is not None and hi is not None:
                value = float(pi) / p.unit_f[j]
                if not (lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9)):
                    raise _UncertainError
            return self._outcome(j, pi / p.unit[j], pi, ids, capped, free, kk)
        if kk is None:
            kk = np.ones(len(ids), dtype=np.int64)
        weights = weights_f.astype(np.int64)
        k_rest = int(np.dot(weights[alive & ~capped], kk[alive & ~capped]))
        unit = p.unit[j]
        paid = Fraction(paid_num, den)
        a_pos = np.flatnonzero(unsure)
        a_w = weights[a_pos].tolist()
        a_k = kk[a_pos].tolist()
        a_money = [Fraction(v, den) for v in self._item_money_nums(ids[a_pos])]
        order = sorted(range(len(a_money)), key=lambda t: a_money[t] / a_k[t])
        found: Fraction | None = None
        for t in order:
            if k_rest <= 0:
                raise _UncertainError
            candidate = (cost - paid) / (unit * k_rest)
            if candidate * unit * a_k[t] <= a_money[t]:
                found = candidate
                break
            paid += a_w[t] * a_money[t]
            k_rest -= a_w[t] * a_k[t]
        if found is None:
            if k_rest <= 0:
                raise _UncertainError
            found = (cost - paid) / (unit * k_rest)
        rho = found
        if lo is not None and hi is not None and not (Fraction(lo) <= rho <= Fraction(hi)):
            raise _UncertainError
        pi = rho * unit
        # left with nothing: those who paid all they had (money <= share, equality included)
        dead_mask = capped.copy()
        for t, position in enumerate(a_pos.tolist()):
            if a_money[t] <= pi * a_k[t]:
                dead_mask[position] = True
        return self._outcome(j, rho, pi, ids, dead_mask, alive & ~dead_mask, kk)

    def _outcome(
        self,
        j: int,
        rho: Fraction,
        pi: Fraction,
        ids: IntArray,
        dead: BoolArray,
        keep: BoolArray,
        kk: IntArray | None,
    ) -> _Exact:
        if not self.grouped:
            kept = ids[keep]
            k_kept = kk[keep] if kk is not None else np.ones(len(kept), dtype=np.int64)
            return _Exact(rho, pi, ids[dead], kept, k_kept)
        supporters = self.sup[j]
        counts = np.bincount(self.slot[supporters], weights=self.sup_w[j], minlength=self.groups)[
            ids
        ].astype(np.int64)
        return _Exact(
            rho, pi, None, None, None, (supporters, self.slot[supporters], ids, counts, dead, keep)
        )

    def _exact_affordable(self, j: int) -> bool:
        ids, weights_f, _ = self._items(j)
        alive = self.galive[ids] if self.grouped else self.alive[ids]
        weights = weights_f.astype(np.int64)
        money = Fraction(self._money_num(ids[alive], weights[alive]), self.ledger.den)
        return money >= self.p.costs[j]

    # ----------------------------------------------------------------- float evaluation

    def _evaluate(self, j: int, start: float) -> _Eval | None:
        """Certified float rho of ``j``; ``None`` if its supporters cannot afford it."""
        p = self.p
        items = self._items(j)
        ids, w, b = items
        money = float(np.dot(w, b))
        cost = p.cost_f[j]
        rounding = (len(ids) + 8) * _UR * (money + 2 * cost)
        err_money = self.weight_now[j] * self.err + rounding
        if money + err_money < cost:
            return None
        err: float | FloatArray = self.err
        if money - err_money < cost:
            if self.exact:
                if not self._exact_affordable(j):
                    return None
            else:
                err = self._errors(ids)
                err_money = float(np.dot(w, err)) + rounding
                if money + err_money < cost:
                    return None
                if money - err_money < cost:
                    raise _UncertainError
        newton = self._newton_uniform if p.uniform else self._newton_general
        try:
            try:
                ev = newton(j, b, w, money, start, err)
            except _UncertainError:
                if self.exact or not isinstance(err, float):
                    raise
                ev = newton(j, b, w, money, start, self._errors(ids))
        except _UncertainError:
            if not self.exact:
                raise
            exact = self._exact_rho(j, None, None, items)
            value = float(exact.rho)
            return _Eval(j, value, value * (1 - 4 * _UR), value * (1 + 4 * _UR), items, exact)
        ev.items = items
        return ev

    def _newton_uniform(
        self,
        j: int,
        b: FloatArray,
        w: FloatArray,
        money: float,
        start: float,
        err: float | FloatArray,
    ) -> _Eval:
        # in money per supporter (the payment ``pay = rho * unit``)
        cost = self.p.cost_f[j]
        unit = self.p.unit_f[j]
        weight = self.weight_now[j]
        pay = max(start * unit, cost / weight)
        tol = 4 * (len(b) + 8) * _UR * (money + cost)
        f_val = 0.0
        for _ in range(_NEWTON_LIMIT):
            f_val = float(np.dot(w, np.minimum(b, pay)))
            gap = cost - f_val
            if gap <= tol:
                break
            s_val = float(np.dot(w, b >= pay))
            if s_val <= 0:
                raise _UncertainError
            pay += gap / s_val
        else:
            raise _UncertainError
        # F is the money function; |F(pay) - cost| <= resid, and F rises at least at rate
        # ``sure`` between pay / (1 + eta) and pay * (1 + eta)
        resid = abs(cost - f_val) + _weighted(w, err, weight) + tol
        surely = b >= (pay * (1 + _ETA) + err) * (1 + 2 * _UR)
        sure = float(np.dot(w, surely))
        if sure <= 0:
            raise _UncertainError
        delta = resid / sure
        if delta > _ETA * pay:
            # tighter: only voters with money who may be short of their share carry error
            resid = abs(cost - f_val) + _weighted(w, err, mask=(b > 0) & (b < pay + err)) + tol
            delta = resid / sure
            if delta > _ETA * pay:
                return self._loose(j, b, w, pay, tol, err)
        return _Eval(
            j,
            pay / unit,
            (pay - delta) / unit * (1 - 8 * _UR),
            (pay + delta) / unit * (1 + 8 * _UR),
            center=pay,
            resid=abs(cost - f_val) + tol,
            sure=sure,
        )

    def _loose(
        self, j: int, b: FloatArray, w: FloatArray, pay: float, tol: float, err: float | FloatArray
    ) -> _Eval:
        """Certified bounds of the payment of a project few of whose supporters pay the full
        share (one they can barely afford), where Newton's residual gives too wide a bound.

        Lower: with ``K`` the supporters short of ``pay``, the money function is at most
        ``sum_K w (b + err) + p sum_{not K} w``, so the payment ``p`` is at least
        ``(cost - sum_K w (b + err)) / sum_{not K} w``. Upper: a payment at which the money
        function, every voter's money lowered by ``err``, is surely at least the cost.
        """
        p = self.p
        cost = p.cost_f[j]
        unit = p.unit_f[j]
        short = b < pay
        free = float(np.dot(w, ~short))
        kept = float(np.dot(w, np.where(short, b + err, 0.0)))
        lower = max((cost - kept - 2 * tol) / free * (1 - 8 * _UR), 0.0) if free > 0 else 0.0
        lowered = np.maximum(b - err, 0.0)
        upper = pay
        for _ in range(_LOOSE_STEPS):
            upper *= 1 + _LOOSE_ETA / _LOOSE_STEPS
            if float(np.dot(w, np.minimum(lowered, upper))) >= cost + 2 * tol:
                break
        else:
            raise _UncertainError
        return _Eval(
            j,
            pay / unit,
            lower / unit * (1 - 8 * _UR),
            upper / unit * (1 + 8 * _UR),
            center=pay,
            resid=math.inf,  # the bounds above are all that is known
            sure=1.0,
        )

    def _newton_general(
        self,
        j: int,
        b: FloatArray,
        w: FloatArray,
        money: float,
        start: float,
        err: float | FloatArray,
    ) -> _Eval:
        cost = self.p.cost_f[j]
        u = self.sup_u[j]
        wu = w * u
        total_u = float(wu.sum())
        rho = max(start, cost / total_u)
        tol = 4 * (len(b) + 8) * _UR * (money + cost)
        f_val = 0.0
        for _ in range(_NEWTON_LIMIT):
            share = rho * u
            f_val = float(np.dot(w, np.minimum(b, share)))
            gap = cost - f_val
            if gap <= tol:
                break
            s_val = float(np.dot(wu, b >= share))
            if s_val <= 0:
                raise _UncertainError
            rho += gap / s_val
        else:
            raise _UncertainError
        base = abs(cost - f_val) + tol + 4 * _UR * rho * total_u
        resid = base + _weighted(w, err, self.weight_now[j])
        surely = b - err >= rho * (1 + _ETA) * (1 + 2 * _UR) * u
        sure = float(np.dot(wu, surely))
        if sure <= 0:
            raise _UncertainError
        delta = resid / sure
        if delta > _ETA * rho:
            resid = base + _weighted(w, err, mask=(b > 0) & (b < rho * u + err))
            delta = resid / sure
            if delta > _ETA * rho:
                raise _UncertainError
        return _Eval(
            j,
            rho,
            (rho - delta) * (1 - 8 * _UR),
            (rho + delta) * (1 + 8 * _UR),
            center=rho,
            resid=abs(cost - f_val) + tol + 4 * _UR * rho * total_u,
            sure=sure,
        )

    def _known_rho(self, ev: _Eval) -> Fraction | None:
        """Exact rho of a project whose supporters with money left all surely pay the full
        share at its highest possible rho (the others have exactly nothing): ``cost / (unit *
        their weight * k)``; ``None`` otherwise."""
        p = self.p
        j = ev.project
        ids, w, b = ev.items if ev.items is not None else self._items(j)
        err = self.err if self.exact else self._errors(ids)
        alive = b > 0
        if p.uniform:
            surely = b >= (ev.hi * p.unit_f[j] + err) * (1 + 4 * _UR)
            weight = w
        else:
            surely = b - err >= ev.hi * (1 + 4 * _UR) * self.sup_u[j]
            weight = w * self.sup_k[j]
        if not bool((surely | ~alive).all()):
            return None
        paying = int(np.dot(weight, alive))
        return p.costs[j] / (p.unit[j] * paying) if paying else None

    # ----------------------------------------------------------------- rounds

    def _exact_of(self, ev: _Eval) -> _Exact:
        if ev.exact is None:
            try:
                ev.exact = self._exact_rho(ev.project, ev.lo, ev.hi, ev.items)
            except _UncertainError:
                ev.exact = self._exact_rho(ev.project, None, None, ev.items)
        return ev.exact

    def _regroup(
        self,
        supporters: IntArray,
        old: IntArray,
        ids: IntArray,
        counts: IntArray,
        dead: BoolArray,
        keep: BoolArray,
        money: FloatArray,
        err: FloatArray | None = None,
    ) -> None:
        """Group phase: the supporters of the funded project pay. Per group ``ids[t]`` with
        ``counts[t]`` supporters in it: those are left with nothing (``dead[t]``) or keep
        ``money[t]`` (``keep[t]``); payers who keep money become a group of their own unless
        the whole group paid. A float run passes each group's new error bound ``err``."""
        target = np.arange(self.groups, dtype=np.int64)
        r = len(self.record.winners) - 1
        gone = ids[dead]
        gone_count = counts[dead]
        target[gone] = 0
        self.gsize[gone] -= gone_count
        self.gsize[0] += int(gone_count.sum())
        self.galive[gone[self.gsize[gone] == 0]] = False
        paying = ids[keep]
        paid = counts[keep]
        left = money[keep]
        whole = paid == self.gsize[paying]
        stay = paying[whole]
        self.gb[stay] = left[whole]
        kept_err = err[keep] if err is not None else None
        if kept_err is not None:
            self.gerr[stay] = kept_err[whole]
        part = ~whole
        split = paying[part]
        n_split = len(split)
        if n_split:
            self._grow(self.groups + n_split)
            fresh = np.arange(self.groups, self.groups + n_split, dtype=np.int64)
            self.gb[fresh] = left[part]
            if kept_err is not None:
                self.gerr[fresh] = kept_err[part]
            self.galive[fresh] = True
            self.gsize[fresh] = paid[part]
            self.gsize[split] -= paid[part]
            target[split] = fresh
            if self.exact:
                self.hist[fresh] = self.hist[split]
                self.hist[fresh, r] = 1
            self.groups += n_split
        if self.exact:
            self.hist[stay, r] = 1
        self.slot[supporters] = target[old]

    def _pay(self, j: int, exact: _Exact) -> None:
        p = self.p
        self.record.rounds.append(exact)
        self.record.winners.append(j)
        share = float(exact.pi)
        if self.grouped:
            assert exact.slots is not None
            supporters, old, ids, counts, dead, keep = exact.slots
            self._regroup(supporters, old, ids, counts, dead, keep, self.gb[ids] - share)
        else:
            dead_ballots, payers, payers_k = exact.dead, exact.keep, exact.keep_k
            assert dead_ballots is not None and payers is not None and payers_k is not None
            if len(payers):
                if p.uniform:
                    self.bb[payers] -= share
                else:
                    self.bb[payers] -= share * payers_k.astype(np.float64)
            if len(dead_ballots):
                self.bb[dead_ballots] = 0.0
                self.alive[dead_ballots] = False
        # one rounding in the share and one in the subtraction, per voter and round
        self.err += 4 * _UR * self.b0f
        self.round_of[j] = len(self.ledger.pi)
        self.ledger.add(exact.pi)

    def _pay_float(self, ev: _Eval) -> None:
        """Pay for ``ev``'s project at its float rho; the error bound grows by the rho's."""
        p = self.p
        j = ev.project
        ids, w, b = self._items(j) if ev.items is None else ev.items
        err = self._errors(ids)
        if p.uniform:
            share: float | FloatArray = ev.center
        else:
            share = ev.center * self.sup_u[j]
        if math.isinf(ev.resid):  # loose bounds (uniform only): the payment lies within them
            unit = p.unit_f[j]
            radius = max(ev.center - ev.lo * unit, ev.hi * unit - ev.center) * (1 + 8 * _UR)
            if radius > _LOOSE_ETA * ev.center:
                raise _UncertainError
        else:
            # tight error: only voters with money who may be short of their share carry error
            # (voters with nothing have no error: err is 0 exactly where b is)
            radius = (ev.resid + float(np.dot(w, np.where(b < share + err, err, 0.0)))) / ev.sure
            if radius > _ETA * ev.center:
                raise _UncertainError
        reach = radius if p.uniform else radius * self.sup_u[j]
        money = b - share
        np.maximum(money, _TINY, out=money)
        # surely paid everything: exactly 0 from now on (``share - reach`` is positive, so
        # this includes those who had nothing: err is 0 there)
        gone = b + err <= (share - reach) * (1 - 4 * _UR)
        money[gone] = 0.0
        # one rounding in the share and one in the subtraction
        if p.uniform:
            err += radius + 4 * _UR * self.b0f
        else:
            err += reach
            err += 4 * _UR * self.b0f
        err[gone] = 0.0
        self.record.winners.append(j)
        self.round_of[j] = len(self.record.winners) - 1
        if self.grouped:
            supporters = self.sup[j]
            self._regroup(
                supporters,
                self.slot[supporters],
                ids,
                w.astype(np.int64),
                gone & (b > 0),
                ~gone,
                money,
                err,
            )
        else:
            self.bb[ids] = money
            self.berr[ids] = err
        if len(err):
            self.err = max(self.err, float(err.max()))
        self.clock += 1
        self.touched[p.neighbours(j)] = self.clock

    def run(self) -> _Record:
        p = self.p
        rank = self.rank
        stale = list(p.rho_min_f)
        prefix = set(self.prefix)
        for j in self.prefix:  # winners already decided (by a float run that then failed)
            if self.grouped and self.groups > _GROUP_LIMIT:
                self._ungroup()
            decided = self._evaluate(j, stale[j])
            assert decided is not None, "a decided winner is affordable"
            self._pay(j, self._exact_of(decided))
        # projects left, by their lower bound of rho (then the tie-break): lazy evaluation
        # takes them in this order until the bound exceeds the best upper bound found
        queue = [(stale[j], rank[j], j) for j in p.candidates if j not in prefix]
        heapq.heapify(queue)
        while queue:
            if self.grouped and self.groups > _GROUP_LIMIT:
                self._ungroup()
            best_hi = math.inf
            evals: list[_Eval] = []
            while queue and queue[0][0] <= best_hi:
                j = heapq.heappop(queue)[2]
                kept = self.seen.get(j)
                ev: _Eval | None
                if kept is not None and self.touched[j] <= kept[0]:
                    ev = kept[1]
                else:
                    ev = self._evaluate(j, stale[j])
                    if ev is not None and not self.exact:
                        self.seen[j] = (self.clock, ev)
                if ev is None:
                    continue  # its supporters cannot pay for it, now or later
                evals.append(ev)
                if ev.lo >= stale[j]:
                    stale[j] = ev.lo
                best_hi = min(best_hi, ev.hi)
            if not evals:
                break
            lead = min(evals, key=lambda e: e.rho)
            close = [e for e in evals if e.lo <= lead.hi]
            if len(close) == 1:
                winner = lead
            else:
                # where nobody with money left is short of the share, each rho is known exactly
                known = [self._known_rho(e) for e in close]
                if all(r is not None for r in known):
                    rhos = dict(zip((e.project for e in close), known, strict=True))
                    winner = min(close, key=lambda e: (rhos[e.project], rank[e.project]))
                elif not self.exact:
                    raise _UncertainError
                else:
                    winner = min(close, key=lambda e: (self._exact_of(e).rho, rank[e.project]))
            if self.exact:
                self._pay(winner.project, self._exact_of(winner))
            else:
                self._pay_float(winner)
            for ev in evals:
                if ev is not winner:
                    heapq.heappush(queue, (stale[ev.project], rank[ev.project], ev.project))
        return self.record


# --------------------------------------------------------------------------- reference twin


def _reference_rho(
    costs: Fraction, unit: Fraction, members: list[tuple[Fraction, int, int]]
) -> Fraction:
    """pabutools' loop: supporters ``(money, weight, k)`` sorted by money per satisfaction."""
    members = sorted(members, key=lambda t: t[0] / t[2])
    paid = Fraction(0)
    rest = sum(w * k for _, w, k in members)
    for money, w, k in members:
        rho = (costs - paid) / (unit * rest)
        if rho * unit * k <= money:
            return rho
        paid += w * money
        rest -= w * k
    raise AssertionError("unaffordable project reached the rho computation")  # pragma: no cover


def _reference_mes(prep: _Prepared, b0: Fraction, rank: Sequence[int]) -> list[int]:
    """MES as pabutools computes it, with Fractions and every project in every round.

    Slow (quadratic); the brute-force twin of :class:`_FastRun` for tests and audits.
    """
    if prep.n == 0:
        return []
    budgets = [b0] * prep.nb
    weights = prep.weights.tolist()
    sup = [s.tolist() for s in prep.sup]
    ks = [k.tolist() for k in prep.sup_k]
    remaining = list(prep.candidates)
    selected: list[int] = list(sorted(prep.free, key=lambda j: rank[j]))
    while True:
        best: tuple[Fraction, int, int] | None = None
        still = []
        for j in remaining:
            money = sum((weights[i] * budgets[i] for i in sup[j]), Fraction(0))
            if money < prep.costs[j]:
                continue
            still.append(j)
            members = [(budgets[i], weights[i], k) for i, k in zip(sup[j], ks[j], strict=True)]
            rho = _reference_rho(prep.costs[j], prep.unit[j], members)
            if best is None or (rho, rank[j]) < (best[0], best[1]):
                best = (rho, rank[j], j)
        remaining = still
        if best is None:
            return selected
        rho, _, j = best
        selected.append(j)
        remaining.remove(j)
        for i, k in zip(sup[j], ks[j], strict=True):
            budgets[i] -= min(budgets[i], rho * prep.unit[j] * k)


# --------------------------------------------------------------------------- trace


def _trace(prep: _Prepared, record: _Record) -> list[list[Fraction]]:
    """Exact money of each project's supporters at the start of every round, and at the end."""
    m = prep.m
    ledger = _Ledger(record.b0)
    money = [ledger.b0 * s for s in prep.supporters]
    round_of = np.full(m, -1, dtype=np.int64)
    snapshots: list[list[Fraction]] = []
    use_float = prep.float_sums_exact
    current = [Fraction(v, ledger.den) for v in money]
    for r, (j, exact) in enumerate(zip(record.winners, record.rounds, strict=True)):
        snapshots.append(current)
        delta = [0] * m
        dead, keep, keep_k = exact.ballots()
        if len(dead):
            pos = prep.pairs_of(dead)
            lengths = prep.indptr[dead + 1] - prep.indptr[dead]
            local = np.repeat(np.arange(len(dead), dtype=np.int64), lengths)
            dtype = np.float64 if use_float else np.int64
            a = np.zeros((len(dead), m), dtype=dtype)
            a[local, prep.pair_proj[pos]] = prep.weights[dead][local]
            weight_dead = a.sum(axis=0)
            z = None
            if r:
                rnd = round_of[prep.pair_proj[pos]]
                sel = rnd >= 0
                kmat = np.zeros((len(dead), r), dtype=dtype)
                kmat[local[sel], rnd[sel]] = prep.pair_k[pos][sel]
                z = a.T @ kmat
            hit = np.flatnonzero(weight_dead)
            # their exact money: b0 * weight - sum over rounds of pi * (weight * k) paid then,
            # as Python integers (object arrays: the products outgrow int64)
            paid = (
                z[hit].astype(np.int64).astype(object) @ np.array(ledger.pi, dtype=object)
                if z is not None
                else np.zeros(len(hit), dtype=np.int64)
            )
            for t, weight, less in zip(
                hit.tolist(), weight_dead[hit].tolist(), paid.tolist(), strict=True
            ):
                delta[t] += ledger.b0 * int(weight) - less
        old = ledger.den
        ledger.add(exact.pi)
        factor = ledger.den // old
        if factor != 1:
            money = [v * factor for v in money]
            delta = [v * factor for v in delta]
        if len(keep):
            pos = prep.pairs_of(keep)
            lengths = prep.indptr[keep + 1] - prep.indptr[keep]
            local = np.repeat(np.arange(len(keep), dtype=np.int64), lengths)
            values = prep.weights[keep][local] * keep_k[local]
            if use_float:
                sums = np.bincount(
                    prep.pair_proj[pos], weights=values.astype(np.float64), minlength=m
                )
                counts = [int(v) for v in sums.tolist()]
            else:
                counts = [0] * m
                for t, v in zip(prep.pair_proj[pos].tolist(), values.tolist(), strict=True):
                    counts[t] += v
            last = ledger.pi[-1]
            for t, count in enumerate(counts):
                if count:
                    delta[t] += last * count
        money = [a - d for a, d in zip(money, delta, strict=True)]
        round_of[j] = r
        # only the projects some payer supports have other money now
        current = list(current)
        for t, d in enumerate(delta):
            if d:
                current[t] = Fraction(money[t], ledger.den)
    snapshots.append(current)
    return snapshots


def _exact_record(prep: _Prepared, record: _Record, rank: Sequence[int]) -> _Record:
    """The same run with exact payments (for the explanations), if it was run in floats."""
    if len(record.rounds) == len(record.winners) and (record.winners or record.exact_checks):
        return record
    if not prep.float_sums_exact:
        return _replay(prep, record)
    exact = _run_record(prep, record.b0, rank)
    if exact.winners != record.winners:  # pragma: no cover - a certified run cannot differ
        raise RuntimeError("the certified float run and the exact run disagree")
    return exact


def _replay(prep: _Prepared, record: _Record) -> _Record:
    """Exact payments for a known sequence of winners, with Fractions (huge weights only)."""
    budgets = [record.b0] * prep.nb
    weights = prep.weights.tolist()
    result = _Record(record.b0, list(record.winners))
    for j in record.winners:
        sup = prep.sup[j].tolist()
        ks = prep.sup_k[j].tolist()
        members = [(budgets[i], weights[i], k) for i, k in zip(sup, ks, strict=True)]
        rho = _reference_rho(prep.costs[j], prep.unit[j], members)
        pi = rho * prep.unit[j]
        dead, keep, keep_k = [], [], []
        for i, k in zip(sup, ks, strict=True):
            if budgets[i] == 0:
                continue
            if budgets[i] <= pi * k:
                budgets[i] = Fraction(0)
                dead.append(i)
            else:
                budgets[i] -= pi * k
                keep.append(i)
                keep_k.append(k)
        result.rounds.append(
            _Exact(
                rho,
                pi,
                np.array(dead, dtype=np.int64),
                np.array(keep, dtype=np.int64),
                np.array(keep_k, dtype=np.int64),
            )
        )
    return result


def _make_run(prep: _Prepared, record: _Record, rank: Sequence[int]) -> MESRun:
    free = sorted(prep.free, key=lambda j: rank[j])
    snapshots = _trace(prep, record)
    rounds = []
    for r, (j, exact) in enumerate(zip(record.winners, record.rounds, strict=True)):
        keep = exact.ballots()[1]
        kept = int(prep.weights[keep].sum()) if len(keep) else 0
        max_k = int(prep.sup_k[j].max()) if len(prep.sup_k[j]) else 1
        rounds.append(
            MESRound(
                project=j,
                rho=exact.rho,
                price=exact.pi * max_k,
                supporters=prep.supporters[j],
                paid_all=prep.supporters[j] - kept,
                money_before=snapshots[r][j],
            )
        )
    selected = tuple(free + record.winners)
    return MESRun(
        selected=selected,
        cost=sum((prep.costs[j] for j in selected), Fraction(0)),
        budget_per_voter=record.b0,
        rounds=tuple(rounds),
        money_by_round=tuple(tuple(row) for row in snapshots),
    )


def _run_record(
    prep: _Prepared,
    b0: Fraction,
    rank: Sequence[int],
    exact: bool = True,
) -> _Record:
    """One run; with ``exact=False`` payments are floats with a proven error bound and, if a
    decision cannot be certified, the run goes on exactly from the start, taking the winners
    decided so far as given (only ``winners`` is filled when the float run succeeds)."""
    if prep.n == 0:
        return _Record(b0)
    if not prep.float_sums_exact:  # more than 2**52 voter-points: floats cannot count them
        record = _Record(b0, [j for j in _reference_mes(prep, b0, rank) if j not in prep.free])
        return _exact_record(prep, record, rank) if exact else record
    prefix: list[int] = []
    compiled = None if exact else _compiled_run(prep, b0, rank)
    if compiled is not None:
        certified, prefix, _, _ = compiled
        if certified:
            return _Record(b0, prefix)
        logger.debug("float run at %s per voter not certified after %d rounds", b0, len(prefix))
    elif not exact:
        run = _FastRun(prep, b0, rank, exact=False)
        try:
            return run.run()
        except _UncertainError:
            # every winner it had paid for was certified: the exact run takes them as given
            prefix = run.record.winners
            logger.debug("float run at %s per voter not certified after %d rounds", b0, len(prefix))
    return _FastRun(prep, b0, rank, prefix=prefix).run()


def _compiled_run(
    prep: _Prepared, b0: Fraction, rank: Sequence[int]
) -> tuple[bool, list[int], FloatArray, FloatArray] | None:
    """A float run by the compiled module, where it is built and the satisfaction is ``cost``
    or ``cardinality``: whether it certified every decision, the winners it certified, and
    every ballot's float money and error bound at the end.

    ``budgeting/_mesrun.c`` does what :class:`_FastRun` does with ``exact=False`` in its
    ballot phase (no groups: in C a pass over the ballots costs less than grouping them), with
    each ballot's own error bound throughout. ``None`` where it does not apply.
    """
    if _mesrun is None or not prep.uniform:
        return None
    c = prep.compiled
    b0f = float(b0)
    money = np.full(prep.nb, b0f, dtype=np.float64)
    error = np.full(prep.nb, 2 * _UR * b0f, dtype=np.float64)
    ranks = np.fromiter(rank, dtype=np.int64, count=prep.m)
    certified, winners = _mesrun.run(
        c.supporters,
        c.weights,
        c.near_ptr,
        c.near,
        c.cost,
        c.unit,
        c.rho_min,
        ranks,
        c.candidates,
        c.q_num,
        c.q_den,
        b0f,
        _ETA,
        _LOOSE_ETA,
        money,
        error,
    )
    return bool(certified), list(winners), money, error


# --------------------------------------------------------------------------- public: one run


def equal_shares(
    election: Election,
    tie_break: TieBreak,
    *,
    satisfaction: MESSatisfaction | None = None,
    budget_per_voter: Fraction | int | None = None,
    engine: Literal["fast", "reference"] = "fast",
) -> MESRun:
    """One run of the Method of Equal Shares, without completion.

    Parameters
    ----------
    election : Election
    tie_break : TieBreak
        Decides between projects of exactly equal ``rho``.
    satisfaction : {"cost", "cardinality", "points"}, optional
        By default ``"cost"``, or ``"points"`` for cumulative and scoring ballots.
    budget_per_voter : Fraction or int, optional
        What each voter starts with; by default ``budget / n`` (Add1 raises it).
    engine : {"fast", "reference"}
        ``"reference"`` runs the plain exact procedure (slow; for audits and tests) and returns
        only ``selected``, ``cost`` and ``budget_per_voter``.

    Returns
    -------
    MESRun
        The funded projects in order, each round's ``rho`` and payments, and the money each
        project's supporters had left at the start of every round.

    Raises
    ------
    RuleError
        For an unknown satisfaction or one that does not fit the ballots.

    References
    ----------
    .. [PPS21] Peters, Pierczyński and Skowron, NeurIPS 2021. arXiv:2008.13276

    Examples
    --------
    Two groups of voters, 6 and 4, want different projects; the budget of 10 is theirs in
    proportion:

    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c", "d"), (Fraction(4),) * 4, Fraction(10), "approval",
    ...              (WeightedBallot((0, 1), weight=6), WeightedBallot((2, 3), weight=4)))
    >>> run = equal_shares(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in run.selected], run.cost
    (['a', 'c'], Fraction(8, 1))
    >>> run.rounds[0].price, run.money_by_round[1][1]
    (Fraction(2, 3), Fraction(2, 1))
    """
    chosen = _check_satisfaction(election, satisfaction)
    prep = _Prepared(election, chosen)
    rank = tie_break.rank
    b0 = Fraction(budget_per_voter) if budget_per_voter is not None else _equal_share(prep)
    if engine == "reference":
        selected = tuple(_reference_mes(prep, b0, rank))
        cost = sum((prep.costs[j] for j in selected), Fraction(0))
        return MESRun(selected, cost, b0, ())
    with threadpool_limits(limits=1, user_api="blas"):
        return _make_run(prep, _run_record(prep, b0, rank), rank)


def _equal_share(prep: _Prepared) -> Fraction:
    return prep.election.budget / prep.n if prep.n else Fraction(0)


# --------------------------------------------------------------------------- Add1


@dataclass(frozen=True)
class Add1Result:
    """The outcome of MES with the Add1 completion.

    Attributes
    ----------
    run : MESRun
        The run whose outcome is returned (its ``budget_per_voter`` is the one used).
    steps : int
        ``k``: the returned run started each voter on ``budget / n + k`` (or
        ``floor(budget / n) + k``).
    stop : str
        Why it stopped: ``"exhaustive"`` (nothing else fits), ``"next-overspends"`` (the next
        step's outcome would cost more than the budget), ``"saturated"`` (no voter can run short
        any more, so every later step gives this outcome) or ``"bound"`` (pabutools' limit).
    runs : int
        How many MES runs it took.
    proofs : int
        How many band proofs (:mod:`budgeting.mes_band`) it tried to skip steps with.
    """

    run: MESRun
    steps: int
    stop: str
    runs: int
    proofs: int = 0


def _exhaustive(prep: _Prepared, selected: Sequence[int], cost: Fraction) -> bool:
    left = prep.election.budget - cost
    chosen = set(selected)
    return all(prep.costs[j] > left for j in range(prep.m) if j not in chosen)


def _saturation(prep: _Prepared) -> Fraction:
    """The largest total cost of the projects that can take part on one ballot.

    Once every voter starts with at least this, nobody ever runs short, every project that can
    take part is bought at its lowest rho, and raising the budget changes nothing.
    """
    if prep.nb == 0 or len(prep.pair_proj) == 0:
        return Fraction(0)
    scale = 1
    for j in prep.candidates:
        scale = math.lcm(scale, prep.costs[j].denominator)
    scaled = [0] * prep.m
    for j in prep.candidates:
        scaled[j] = int(prep.costs[j] * scale)
    if max(scaled) * int(np.diff(prep.indptr).max()) < 2**62:
        values = np.array(scaled, dtype=np.int64)[prep.pair_proj]
        starts = prep.indptr[:-1]
        nonempty = starts < prep.indptr[1:]
        totals = np.add.reduceat(values, starts[nonempty]) if nonempty.any() else np.zeros(1)
        return Fraction(int(totals.max()), scale)
    best = 0
    for i in range(prep.nb):
        projects = prep.pair_proj[prep.indptr[i] : prep.indptr[i + 1]].tolist()
        best = max(best, sum(scaled[j] for j in projects))
    return Fraction(best, scale)


_FIRST_SPAN: Final = 32  # steps the first proof after a new order tries to cover
_MAX_PAUSE: Final = 63  # most steps run without trying a proof
_NEAR_SPAN: Final = 8  # steps tried past an expected change that did not come


def _add1_record(
    prep: _Prepared, rank: Sequence[int], start: Literal["exact", "integral"]
) -> tuple[_Record, int, str, int, int]:
    """Add1's loop: the record of the step returned, that step, why it stopped, and how many
    MES runs and band proofs it took.

    Steps are run, or skipped where :class:`budgeting.mes_band.Band` proves that MES funds the
    same projects in the same order for every starting money from the last step known up to
    the next ones (``span`` of them; the span doubles after a proof). A failed proof says on
    what part of its span the failing condition held: the order is expected to change there,
    so the next proof goes up to that step and the steps after it are run until the order
    changes (``_NEAR_SPAN`` steps are tried by proof if it has not changed by then). Where the
    order changes, the step is run: near a change point, proofs shorter than two steps cost
    more than runs. Where the order changes at almost every step (small electorates, or many
    near ties), a proof costs about what a run does and never succeeds: after ``t`` tries in
    a row that proved nothing, the next ``2 ** t - 1`` steps (at most 63) are run without
    trying.
    """
    budget = prep.election.budget
    if prep.n == 0:
        return _Record(Fraction(0)), 0, "exhaustive", 0, 0
    base = budget / prep.n
    if start == "integral":
        base = Fraction(math.floor(base))
    limit = math.floor(budget)  # pabutools: total budget at most B * (n + 1)
    # from this step on nobody can run short any more: every later step gives its outcome
    saturated = max(0, math.ceil(_saturation(prep) - base))
    last = min(limit, saturated)
    free_cost = sum((prep.costs[j] for j in prep.free), Fraction(0))
    band = Band(prep, rank, _mesrun) if prep.float_sums_exact else None
    runs, proofs = 1, 0
    k = 0
    current = _run_record(prep, base, rank, exact=False)
    previous: _Record | None = None
    winners = current.winners
    span = _FIRST_SPAN
    edge: float | None = None  # where the last failed proof expects the order to change
    misses = 0  # tries in a row that proved nothing
    pause = 0  # steps to run before the next try
    checked: frozenset[int] | None = None  # the last set funded: fits, not exhaustive
    while True:
        if checked != frozenset(winners):
            cost = free_cost + sum((prep.costs[j] for j in winners), Fraction(0))
            if cost > budget:
                if previous is None:  # cannot happen: MES with b0 <= B / n never overspends
                    return current, k, "next-overspends", runs, proofs
                return previous, k - 1, "next-overspends", runs, proofs
            if _exhaustive(prep, prep.free + winners, cost):
                return current, k, "exhaustive", runs, proofs
            checked = frozenset(winners)
        if k >= saturated:
            return current, k, "saturated", runs, proofs
        if k >= limit:
            return current, k, "bound", runs, proofs
        tried = proved = False
        while band is not None and pause == 0:
            if edge is not None:
                if edge < k:  # the change expected has not come yet: it is near
                    edge = None
                    span = _NEAR_SPAN
                else:
                    span = int(edge - k)  # up to the change expected, not across it
            span = min(span, last - k)
            if span < 2:
                break
            proofs += 1
            tried = True
            share = band.prove(winners, base + k, base + k + span)
            if share == 1.0:  # steps k + 1, ..., k + span give this very outcome
                proved = True
                k += span
                current = _Record(base + k, list(winners))
                span *= 2
            elif share > 0:
                edge = k + span * share
            else:
                edge = None
                span //= 4
        if proved:
            misses = 0
        elif tried:
            misses += 1
            pause = min(2**misses - 1, _MAX_PAUSE)
        else:
            pause = max(0, pause - 1)
        if k >= last:
            continue  # the checks above end it
        previous = current
        k += 1
        current = _run_record(prep, base + k, rank, exact=False)
        runs += 1
        if current.winners != winners:
            edge = None
            span = max(span, _FIRST_SPAN)
        winners = current.winners


def add1(
    election: Election,
    tie_break: TieBreak,
    *,
    satisfaction: MESSatisfaction | None = None,
    start: Literal["exact", "integral"] = "exact",
) -> Add1Result:
    """MES with the Add1 completion: raise every voter's starting money by 1 while it fits.

    MES is run with each voter starting on ``budget / n + k`` for ``k = 0, 1, 2, ...``; the
    first outcome that is exhaustive is returned, or, if the next step's outcome would cost
    more than the budget, the last one that did not ([FFPPSSST23]_; pabutools'
    ``exhaustion_by_budget_increase`` with ``budget_step = n``; see the module's docstring for the
    exact stopping rule).

    Parameters
    ----------
    election : Election
    tie_break : TieBreak
    satisfaction : {"cost", "cardinality", "points"}, optional
    start : {"exact", "integral"}
        ``"exact"`` (pabutools) starts at ``budget / n``; ``"integral"`` (equalshares.net's
        tool) at ``floor(budget / n)``.

    Returns
    -------
    Add1Result

    References
    ----------
    .. [FFPPSSST23] Faliszewski et al., IJCAI 2023. arXiv:2305.11035

    Examples
    --------
    Three voters want ``a``, one wants ``b`` and ``c``. Starting with 2 each, the one cannot
    pay for ``b``; with 3 each, MES funds ``a`` and ``b`` and spends the whole budget:

    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c"), (Fraction(5), Fraction(3), Fraction(4)), Fraction(8),
    ...              "approval", (WeightedBallot((0,), weight=3), WeightedBallot((1, 2))))
    >>> [e.ids[j] for j in equal_shares(e, TieBreak.by_id(e)).selected]
    ['a']
    >>> result = add1(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in result.run.selected], result.run.budget_per_voter, result.stop
    (['a', 'b'], Fraction(3, 1), 'exhaustive')
    """
    chosen = _check_satisfaction(election, satisfaction)
    with threadpool_limits(limits=1, user_api="blas"):
        return _add1(_Prepared(election, chosen), tie_break.rank, start)


def _add1(prep: _Prepared, rank: Sequence[int], start: Literal["exact", "integral"]) -> Add1Result:
    """:func:`add1` on a prepared election (the caller holds BLAS to one thread)."""
    record, steps, stop, runs, proofs = _add1_record(prep, rank, start)
    run = _make_run(prep, _exact_record(prep, record, rank), rank)
    return Add1Result(run, steps, stop, runs, proofs)


# --------------------------------------------------------------------------- greedy completion


@dataclass(frozen=True, slots=True)
class _GreedyStep:
    position: int  # place in the greedy order (1-based)
    left: Fraction  # money left when its turn came
    funded: bool


def _greedy_fill(
    prep: _Prepared, selected: Sequence[int], spent: Fraction, rank: Sequence[int]
) -> dict[int, _GreedyStep]:
    """pabutools' ``greedy_utilitarian_welfare`` (additive) started from ``selected``.

    The other projects in order of total satisfaction per cost, highest first (a free project
    that gives satisfaction first of all, one that gives none last), ties by the tie-break; each
    is funded if it fits what is left.
    """
    chosen = set(selected)

    def key(j: int) -> tuple[int, Fraction, int]:
        utility, cost = prep.utility[j], prep.costs[j]
        if utility > 0 and cost == 0:
            return (0, Fraction(0), rank[j])
        return (1, -(utility / cost) if utility > 0 else Fraction(0), rank[j])

    left = prep.election.budget - spent
    steps: dict[int, _GreedyStep] = {}
    order = sorted((j for j in range(prep.m) if j not in chosen), key=key)
    for position, j in enumerate(order, start=1):
        fits = prep.costs[j] <= left
        steps[j] = _GreedyStep(position, left, fits)
        if fits:
            left -= prep.costs[j]
    return steps


# --------------------------------------------------------------------------- explanations


def _money_text(value: Fraction) -> str:
    """An amount for the prose: exact when it has at most two decimals, else rounded to two."""
    exact = amount_text(value)
    if "/" not in exact and len(exact.partition(".")[2]) <= 2:
        return exact
    return f"{float(value):.2f}"


@dataclass(frozen=True, slots=True)
class _Words:
    """Phrases about a project's supporters, in Dutch and English, singular or plural."""

    nl_who: str
    en_who: str
    nl_had: str
    nl_share: str
    en_share: str
    nl_paid: str
    en_paid: str
    nl_each: str
    en_each: str


def _words(count: int, spent: Fraction) -> _Words:
    money = _money_text(spent)
    if count == 1:
        return _Words(
            nl_who="de enige voorstander",
            en_who="its only supporter",
            nl_had="had",
            nl_share="van het eigen aandeel",
            en_share="of their share",
            nl_paid="en had nog niets betaald voor andere projecten"
            if spent == 0
            else f"en had {money} betaald voor eerder gekozen projecten",
            en_paid="they had not paid for other projects yet"
            if spent == 0
            else f"they had paid {money} for projects funded earlier",
            nl_each="die betaalde",
            en_each="they paid",
        )
    return _Words(
        nl_who=f"de {count} voorstanders",
        en_who=f"its {count} supporters",
        nl_had="hadden",
        nl_share="van hun aandelen samen",
        en_share="of their shares together",
        nl_paid="ze hadden nog niets betaald voor andere projecten"
        if spent == 0
        else f"ze hadden {money} betaald voor eerder gekozen projecten",
        en_paid="they had not paid for other projects yet"
        if spent == 0
        else f"they had paid {money} for projects funded earlier",
        nl_each="ieder betaalde hoogstens",
        en_each="each paid at most",
    )


@dataclass(frozen=True)
class _Context:
    prep: _Prepared
    run: MESRun
    add1: Add1Result | None
    greedy: dict[int, _GreedyStep]
    greedy_used: bool


def _history(ctx: _Context, j: int, until: int) -> list[dict[str, object]]:
    b0 = ctx.run.budget_per_voter
    start = b0 * ctx.prep.supporters[j]
    rows = []
    last: Fraction | None = None
    left_text = spent_text = ""
    for r in range(until + 1):
        left = ctx.run.money_by_round[r][j]
        if left != last:  # (rounds in which none of its supporters paid repeat the texts)
            left_text, spent_text, last = amount_text(left), amount_text(start - left), left
        rows.append({"round": r + 1, "left": left_text, "spent": spent_text})
    return rows


def _add1_words(ctx: _Context) -> tuple[str, str]:
    if ctx.add1 is None:
        return "", ""
    b0 = _money_text(ctx.run.budget_per_voter)
    share = _money_text(_equal_share(ctx.prep))
    k = ctx.add1.steps
    if k == 0:
        return (
            f" Elke kiezer begon met het gelijke deel van het budget, {b0}; de Add1-aanvulling "
            "verhoogde dat niet.",
            f" Each voter started with the equal share of the budget, {b0}; the Add1 "
            "completion did not raise it.",
        )
    return (
        f" Elke kiezer begon met {b0}: het gelijke deel van het budget is {share}, door de "
        f"Add1-aanvulling verhoogd met {k} (telkens 1, zolang de uitkomst binnen het budget "
        "bleef).",
        f" Each voter started with {b0}: the equal share of the budget is {share}, raised by "
        f"the Add1 completion by {k} (1 at a time, as long as the outcome stayed within the "
        "budget).",
    )


def _explain(ctx: _Context, j: int) -> Explanation:
    prep, run = ctx.prep, ctx.run
    cost = prep.costs[j]
    supporters = prep.supporters[j]
    b0 = run.budget_per_voter
    data: dict[str, object] = {
        "cost": amount_text(cost),
        "supporters": supporters,
        "budget_per_voter": amount_text(b0),
        "satisfaction": prep.satisfaction,
    }
    add_nl, add_en = _add1_words(ctx)
    rounds = {r.project: (t, r) for t, r in enumerate(run.rounds)}
    if j in prep.free and j in run.selected:
        return Explanation(
            j,
            True,
            "funded-free",
            data,
            nl="Gefinancierd vóór de rondes: het kost niets en er is steun voor "
            f"({supporters} kiezers).",
            en=f"Funded before the rounds: it costs nothing and {supporters} voters want it.",
        )
    if j in rounds:
        t, rnd = rounds[j]
        spent = b0 * supporters - rnd.money_before
        data.update(
            {
                "round": t + 1,
                "rho": amount_text(rnd.rho),
                "price": amount_text(rnd.price),
                "money_before": amount_text(rnd.money_before),
                "spent_before": amount_text(spent),
                "paid_all": rnd.paid_all,
                "history": _history(ctx, j, t),
            }
        )
        say = _words(supporters, spent)
        tail_nl = tail_en = ""
        if rnd.paid_all and supporters > 1:
            tail_nl = f"; {rnd.paid_all} van hen betaalden alles wat ze nog hadden"
            tail_en = f"; {rnd.paid_all} of them paid all they had left"
        return Explanation(
            j,
            True,
            "funded",
            data,
            nl=f"Gefinancierd in ronde {t + 1} van de Methode van Gelijke Delen: {say.nl_who} "
            f"{say.nl_had} nog {_money_text(rnd.money_before)} {say.nl_share} over "
            f"({say.nl_paid}), genoeg voor de kosten van {_money_text(cost)}; {say.nl_each} "
            f"{_money_text(rnd.price)}{tail_nl}.{add_nl}",
            en=f"Funded in round {t + 1} of the Method of Equal Shares: {say.en_who} still had "
            f"{_money_text(rnd.money_before)} {say.en_share} ({say.en_paid}), enough for its "
            f"cost of {_money_text(cost)}; {say.en_each} {_money_text(rnd.price)}{tail_en}."
            f"{add_en}",
        )
    # not funded by MES
    if supporters == 0:
        code = "no-support"
        nl = "Niet gefinancierd door de Methode van Gelijke Delen: niemand heeft erop gestemd."
        en = "Not funded by the Method of Equal Shares: nobody voted for it."
    elif prep.utility[j] == 0:
        code = "no-satisfaction"
        nl = (
            "Niet gefinancierd door de Methode van Gelijke Delen: met tevredenheid naar kosten "
            "geeft een project dat niets kost geen tevredenheid, dus het doet niet mee."
        )
        en = (
            "Not funded by the Method of Equal Shares: under cost satisfaction a project that "
            "costs nothing gives no satisfaction, so it takes no part."
        )
    else:
        last = len(run.rounds)
        left = run.money_by_round[last][j]
        spent = b0 * supporters - left
        short = cost - left
        dropped = next((r for r in range(last + 1) if run.money_by_round[r][j] < cost), last)
        data.update(
            {
                "money_left": amount_text(left),
                "spent_elsewhere": amount_text(spent),
                "shortfall": amount_text(short),
                "out_from_round": dropped + 1,
                "money_when_out": amount_text(run.money_by_round[dropped][j]),
                "history": _history(ctx, j, last),
            }
        )
        code = "too-little-support"
        say = _words(supporters, spent)
        if dropped == 0:
            when_nl = " Hun geld was vanaf het begin minder dan de kosten."
            when_en = " Their money was below its cost from the start."
        else:
            when_nl = f" Vanaf ronde {dropped + 1} was hun geld minder dan de kosten."
            when_en = f" From round {dropped + 1} on their money was below its cost."
        if left == 0:
            nl_left = f"{say.nl_had} niets meer over {say.nl_share}"
            en_left = f"had nothing left {say.en_share}"
        else:
            nl_left = f"{say.nl_had} nog maar {_money_text(left)} {say.nl_share} over"
            en_left = f"had only {_money_text(left)} {say.en_share} left"
        nl = (
            f"Niet gefinancierd door de Methode van Gelijke Delen: {say.nl_who} {nl_left} "
            f"({say.nl_paid}), maar het kost {_money_text(cost)}: het had "
            f"{_money_text(short)} meer steun nodig.{when_nl}{add_nl}"
        )
        en = (
            f"Not funded by the Method of Equal Shares: {say.en_who} {en_left} "
            f"({say.en_paid}), but it costs {_money_text(cost)}: it needed "
            f"{_money_text(short)} more support.{when_en}{add_en}"
        )
    step = ctx.greedy.get(j)
    if not ctx.greedy_used or step is None:
        return Explanation(j, False, code, data, nl=nl, en=en)
    data.update({"greedy_position": step.position, "greedy_left": amount_text(step.left)})
    criterion_nl, criterion_en = _greedy_criterion(prep)
    if step.funded:
        return Explanation(
            j,
            True,
            "funded-greedy",
            {**data, "mes_reason": code},
            nl=f"{nl} Gefinancierd door de aanvulling met de gulzige regel: van de overgebleven "
            f"projecten kwam het als {step.position}e aan de beurt ({criterion_nl}), en toen was "
            f"er nog {_money_text(step.left)} beschikbaar, genoeg voor de kosten.",
            en=f"{en} Funded by the greedy completion: among the projects left it came "
            f"{_ordinal(step.position)} in order of {criterion_en}, and when its turn came "
            f"{_money_text(step.left)} was still available, enough for its cost.",
        )
    return Explanation(
        j,
        False,
        "did-not-fit",
        {**data, "mes_reason": code},
        nl=f"{nl} De aanvulling met de gulzige regel kon het ook niet betalen: toen het aan de "
        f"beurt was, was er nog maar {_money_text(step.left)} over.",
        en=f"{en} The greedy completion could not fit it either: when its turn came only "
        f"{_money_text(step.left)} was left.",
    )


def _ordinal(k: int) -> str:
    if 10 <= k % 100 <= 20:
        return f"{k}th"
    return f"{k}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th') }"


def _greedy_criterion(prep: _Prepared) -> tuple[str, str]:
    if prep.satisfaction == "cost":
        return "op aantal stemmen", "votes"
    if prep.satisfaction == "cardinality":
        return "op stemmen per kosten", "votes per cost"
    return "op punten per kosten", "points per cost"


# --------------------------------------------------------------------------- the rule


def _details_rounds(prep: _Prepared, run: MESRun) -> list[dict[str, object]]:
    ids = prep.election.ids
    return [
        {
            "project": ids[r.project],
            "rho": amount_text(r.rho),
            "price": amount_text(r.price),
            "supporters": r.supporters,
            "paid_all": r.paid_all,
            "money_before": amount_text(r.money_before),
        }
        for r in run.rounds
    ]


def _preference_counts(
    election: Election, first: Sequence[int], second: Sequence[int], how: Comparison
) -> tuple[int, int]:
    """How many voters prefer ``first``, and how many ``second`` (equalshares.net)."""
    a, b = set(first), set(second)
    prefer_first = prefer_second = 0
    for ballot in election.ballots:
        in_a = sum(1 for j in ballot.projects if j in a)
        in_b = sum(1 for j in ballot.projects if j in b)
        if how == "exclusion":
            in_a, in_b = min(in_a, 1), min(in_b, 1)
        if in_a > in_b:
            prefer_first += ballot.weight
        elif in_b > in_a:
            prefer_second += ballot.weight
    return prefer_first, prefer_second


def _compare(election: Election, outcome: Outcome, tie_break: TieBreak, how: Comparison) -> Outcome:
    """equalshares.net's comparison step: the greedy outcome replaces MES's if more voters
    prefer it."""
    if how not in COMPARISONS:
        raise RuleError(
            "unknown-comparison",
            f"unknown comparison '{how}'; choose one of {', '.join(COMPARISONS)}",
        )
    rival = greedy(election, tie_break)
    for_mes, for_greedy = _preference_counts(election, outcome.selected, rival.selected, how)
    info = {
        "measure": how,
        "prefer_mes": for_mes,
        "prefer_greedy": for_greedy,
        "greedy_selected": [election.ids[j] for j in rival.selected],
        "chosen": "greedy" if for_greedy > for_mes else "mes",
    }
    if for_greedy <= for_mes:
        return Outcome(
            outcome.rule,
            outcome.selected,
            outcome.cost,
            outcome.explanations,
            {**outcome.details, "comparison": info},
        )
    nl = (
        f"De vergelijkingsstap koos de uitkomst van de gulzige regel: {for_greedy} kiezers "
        f"geven daar de voorkeur aan, {for_mes} aan die van de Methode van Gelijke Delen. "
    )
    en = (
        f"The comparison step chose the greedy outcome: {for_greedy} voters prefer it, "
        f"{for_mes} prefer that of the Method of Equal Shares. "
    )
    explanations = tuple(
        Explanation(
            e.project,
            e.funded,
            e.code,
            {**e.data, "comparison": "greedy"},
            nl=nl + e.nl,
            en=en + e.en,
        )
        for e in rival.explanations
    )
    return Outcome(
        outcome.rule,
        rival.selected,
        rival.cost,
        explanations,
        {**outcome.details, "comparison": info, "greedy": rival.details},
    )


def method_of_equal_shares(
    election: Election,
    tie_break: TieBreak,
    *,
    satisfaction: MESSatisfaction | None = None,
    completion: Completion = "add1",
    comparison: Comparison | None = None,
    add1_start: Literal["exact", "integral"] = "exact",
    rule: str | None = None,
) -> Outcome:
    """The Method of Equal Shares with a completion, as an :class:`Outcome` with explanations.

    Parameters
    ----------
    election : Election
    tie_break : TieBreak
        Decides between projects of exactly equal ``rho`` (and in the greedy completion).
    satisfaction : {"cost", "cardinality", "points"}, optional
        By default ``"cost"``, or ``"points"`` for cumulative and scoring ballots.
    completion : {"add1", "none", "greedy", "add1-greedy"}
        ``"add1"`` (the default, as equalshares.net recommends) raises each voter's starting
        money by 1 while the outcome fits; ``"greedy"`` fills what is left greedily;
        ``"add1-greedy"`` does both; ``"none"`` is the bare rule, which typically spends only
        part of the budget. See the module's docstring for the exact definitions.
    comparison : {"satisfaction", "exclusion"}, optional
        equalshares.net's comparison step with the greedy rule (off by default).
    add1_start : {"exact", "integral"}
        Where Add1 starts: ``budget / n`` (pabutools) or ``floor(budget / n)`` (equalshares.net).
    rule : str, optional
        The name to put in the outcome (by default derived from ``completion``).

    Returns
    -------
    Outcome
        ``selected`` in the order funded (MES rounds first, then the greedy completion); one
        explanation per project with, for MES, the round, what its supporters had left and had
        paid for earlier projects, and for projects not funded how much more money they needed;
        ``details`` with the per-voter budget, each round's ``rho`` and price, Add1's steps and
        the comparison.

    Raises
    ------
    RuleError
        For an unknown satisfaction, completion or comparison, or one that does not fit the
        ballots.

    References
    ----------
    .. [PPS21] Peters, Pierczyński and Skowron, NeurIPS 2021. arXiv:2008.13276
    .. [FFPPSSST23] Faliszewski et al., IJCAI 2023. arXiv:2305.11035

    Examples
    --------
    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c"), (Fraction(5), Fraction(3), Fraction(4)), Fraction(8),
    ...              "approval", (WeightedBallot((0,), weight=3), WeightedBallot((1, 2))))
    >>> out = method_of_equal_shares(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in out.selected], out.cost, out.details["budget_per_voter"]
    (['a', 'b'], Fraction(8, 1), '3')
    >>> print(out.explanations[0].en)  # doctest: +NORMALIZE_WHITESPACE
    Funded in round 1 of the Method of Equal Shares: its 3 supporters still had 9 of their
    shares together (they had not paid for other projects yet), enough for its cost of 5; each
    paid at most 1.67. Each voter started with 3: the equal share of the budget is 2, raised by
    the Add1 completion by 1 (1 at a time, as long as the outcome stayed within the budget).
    >>> print(out.explanations[2].en)  # doctest: +NORMALIZE_WHITESPACE
    Not funded by the Method of Equal Shares: its only supporter had nothing left of their share
    (they had paid 3 for projects funded earlier), but it costs 4: it needed 4 more support.
    Their money was below its cost from the start. Each voter started with 3: the equal share
    of the budget is 2, raised by the Add1 completion by 1 (1 at a time, as long as the outcome
    stayed within the budget).
    """
    chosen = _check_satisfaction(election, satisfaction)
    if completion not in COMPLETIONS:
        raise RuleError(
            "unknown-completion",
            f"unknown completion '{completion}'; choose one of {', '.join(COMPLETIONS)}",
        )
    if comparison is not None and comparison not in COMPARISONS:
        raise RuleError(
            "unknown-comparison",
            f"unknown comparison '{comparison}'; choose one of {', '.join(COMPARISONS)}",
        )
    prep = _Prepared(election, chosen)
    rank = tie_break.rank
    add1_result: Add1Result | None = None
    with threadpool_limits(limits=1, user_api="blas"):
        if completion in ("add1", "add1-greedy"):
            add1_result = _add1(prep, rank, add1_start)
            run = add1_result.run
        else:
            run = _make_run(prep, _run_record(prep, _equal_share(prep), rank), rank)
    selected = list(run.selected)
    cost = run.cost
    steps_of: dict[int, _GreedyStep] = {}
    greedy_used = completion in ("greedy", "add1-greedy") and not _exhaustive(prep, selected, cost)
    if greedy_used:
        steps_of = _greedy_fill(prep, selected, cost, rank)
        added = sorted(
            (j for j, s in steps_of.items() if s.funded), key=lambda j: steps_of[j].position
        )
        selected += added
        cost += sum((prep.costs[j] for j in added), Fraction(0))
    ctx = _Context(prep, run, add1_result, steps_of, greedy_used)
    ids = election.ids
    details: dict[str, object] = {
        "satisfaction": chosen,
        "completion": completion,
        "tie_break": tie_break.name,
        "budget_per_voter": amount_text(run.budget_per_voter),
        "equal_share": amount_text(_equal_share(prep)),
        "rounds": _details_rounds(prep, run),
        "mes_selected": [ids[j] for j in run.selected],
        "mes_cost": amount_text(run.cost),
        "greedy_added": [ids[j] for j in selected[len(run.selected) :]],
        "budget_left": amount_text(election.budget - cost),
    }
    if add1_result is not None:
        details["add1"] = {
            "steps": add1_result.steps,
            "stop": add1_result.stop,
            "runs": add1_result.runs,
            "proofs": add1_result.proofs,
            "start": add1_start,
        }
    name = rule or _rule_name(completion, comparison)
    outcome = Outcome(
        rule=name,
        selected=tuple(selected),
        cost=cost,
        explanations=Explanations(lambda: (_explain(ctx, j) for j in range(election.n_projects))),
        details=details,
    )
    if comparison is not None:
        outcome = _compare(election, outcome, tie_break, comparison)
    return outcome


def _rule_name(completion: Completion, comparison: Comparison | None) -> str:
    base = {"none": "mes", "add1": "mes-add1", "greedy": "mes-greedy"}.get(
        completion, "mes-add1-greedy"
    )
    return base + ("-comparison" if comparison is not None else "")


def run_mes_rule(
    election: Election,
    rule_name: str,
    tie_break: TieBreak,
    *,
    satisfaction: MESSatisfaction | None = None,
) -> Outcome:
    """Run one of :data:`MES_RULES` by name.

    ``mes`` (no completion), ``mes-add1``, ``mes-greedy``, ``mes-add1-greedy``, and
    ``mes-add1-comparison`` / ``mes-add1-greedy-comparison`` (with equalshares.net's comparison
    step, by satisfaction). The satisfaction follows the vote type unless given: ``cost`` for
    approval, choose-1 and ordinal ballots, ``points`` for cumulative and scoring ballots;
    ``satisfaction="cardinality"`` counts one per supported project.

    Parameters
    ----------
    election : Election
    rule_name : str
    tie_break : TieBreak
    satisfaction : {"cost", "cardinality", "points"}, optional

    Returns
    -------
    Outcome

    Raises
    ------
    RuleError
        ``unknown-rule`` for a name not in :data:`MES_RULES`; see
        :func:`method_of_equal_shares`.
    """
    completion = _RULE_COMPLETION.get(rule_name)
    if completion is None:
        raise RuleError(
            "unknown-rule",
            f"unknown rule '{rule_name}'; choose one of {', '.join(MES_RULES)}",
        )
    comparison: Comparison | None = "satisfaction" if rule_name.endswith("-comparison") else None
    return method_of_equal_shares(
        election,
        tie_break,
        satisfaction=satisfaction,
        completion=completion,
        comparison=comparison,
        rule=rule_name,
    )
