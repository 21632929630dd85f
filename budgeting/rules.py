"""Utilitarian budgeting rules: greedy, maximum welfare and sequential Phragmén.

Every rule takes an :class:`~budgeting.election.Election` and a
:class:`~budgeting.election.TieBreak` and returns an :class:`~budgeting.election.Outcome` with the
funded projects in the order they were funded and one :class:`~budgeting.election.Explanation`
per project, in Dutch and English. All arithmetic that decides an outcome is exact
(:class:`fractions.Fraction` or integers scaled from them; floats, with proven error bounds, only
choose which exact comparisons to make).

Satisfaction
------------
The utilitarian rules add up, per project, the satisfaction the voters get from it. The names are
those of ``benchmarks/pb_common.py`` (with the pabutools 1.2.3 class each one equals):

============== ===================================================== ============================
name           a voter's satisfaction from project ``p``             pabutools
============== ===================================================== ============================
``cost``       ``cost(p)`` if ``p`` is on the ballot, else 0          ``Cost_Sat``
``cardinality`` 1 if ``p`` is on the ballot, else 0                   ``Cardinality_Sat``
``points``     the points given to ``p`` (cumulative, scoring)        ``Additive_Cardinal_Sat``
``points-cost`` points given to ``p`` times ``cost(p)``               an ``AdditiveSatisfaction``
``borda``      ``len(ballot) - position - 1`` (ordinal)               ``Additive_Borda_Sat``
============== ===================================================== ============================

"On the ballot" means approved (approval, choose-1), given positive points (cumulative, scoring)
or ranked at any position (ordinal: pabutools' ``Cost_Sat`` and ``Cardinality_Sat`` test
``project in ballot``, which for an ordinal ballot is exactly that). The rules' defaults per vote
type (:func:`default_satisfaction`):

============================= ================= =======================
rule                          approval, choose-1, cumulative, scoring
                              ordinal
============================= ================= =======================
``greedy``                    ``cost``          ``points-cost``
``greedy-cardinality``        ``cardinality``   ``points``
``max-welfare``               ``cost``          ``points``
============================= ================= =======================

So ``greedy`` orders projects by votes (satisfaction per cost under ``cost`` is the number of
voters who chose the project) or, for cumulative and scoring ballots, by total points, as
cities do; ``greedy-cardinality`` orders by votes (or points) per unit of cost.

Where the definitions follow pabutools 1.2.3
--------------------------------------------
* :func:`greedy` is ``greedy_utilitarian_welfare`` (its additive scheme): projects sorted by
  total satisfaction divided by cost, highest first; a project with positive satisfaction and
  cost 0 comes first of all (pabutools' ``inf``; under ``cost`` and ``points-cost`` a free
  project has no satisfaction, so it comes last instead); a project with no satisfaction has
  density 0 and is still funded if it fits at its turn; ties go to the :class:`TieBreak` (pabutools'
  ``lexico_tie_breaking`` is :meth:`TieBreak.by_id`); a project that does not fit the money
  left is skipped. The variants (stop at the first misfit, the vote threshold, category and
  neighbourhood budgets) are not in pabutools; without them the outcome is pabutools'.
* :func:`sequential_phragmen` is ``sequential_phragmen``: only projects that cost at most the
  budget take part; in each round the projects whose purchase gives the lowest new maximal load
  ``(cost + sum of the supporters' loads) / supporters`` tie; if any of them would overspend the
  budget the rule stops, otherwise the first of them by the tie-break is bought and its
  supporters' loads become that value. A project nobody supports has an infinite load. It
  applies to approval and choose-1 ballots only (pabutools raises for other profiles).
* :func:`max_welfare` maximises the same additive welfare as
  ``max_additive_utilitarian_welfare``, exactly. pabutools gives no control over ties there
  (its ILP and primal/dual solvers return some optimum), so only the welfare, and the set when
  the optimum is unique, can agree; here ties are broken by the :class:`TieBreak` (see
  :func:`max_welfare`) and projects that add no welfare are never funded.

References
----------
.. [TF19] N. Talmon and P. Faliszewski, "A framework for approval-based budgeting methods",
   AAAI 2019, pp. 2181-2188. doi:10.1609/aaai.v33i01.33012181
.. [ALT18] H. Aziz, B. E. Lee and N. Talmon, "Proportionally representative participatory
   budgeting: axioms and algorithms", AAMAS 2018, pp. 23-31. arXiv:1711.08226
.. [LCG22] M. Los, Z. Christoff and D. Grossi, "Proportional budget allocations: towards a
   systematization", IJCAI 2022, pp. 398-404. doi:10.24963/ijcai.2022/57
.. [PPS21] D. Peters, G. Pierczyński and P. Skowron, "Proportional participatory budgeting with
   additive utilities", NeurIPS 2021, pp. 12726-12737. arXiv:2008.13276
.. [NU69] G. L. Nemhauser and Z. Ullmann, "Discrete dynamic programming and capital
   allocation", Management Science 15(9), 1969, pp. 494-505. doi:10.1287/mnsc.15.9.494
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

import numpy as np

from budgeting.election import Election, Explanation, Outcome, TieBreak, VoteType
from budgeting.errors import BudgetingError
from budgeting.model import format_number

__all__ = [
    "GREEDY_RULES",
    "RULE_NAMES",
    "SATISFACTIONS",
    "GroupBudget",
    "RuleError",
    "Satisfaction",
    "amount_text",
    "default_satisfaction",
    "greedy",
    "max_welfare",
    "project_welfare",
    "run_rule",
    "sequential_phragmen",
]

_UR: Final = 2.0**-53  # unit roundoff of IEEE double precision
logger = logging.getLogger(__name__)

Satisfaction = Literal["cost", "cardinality", "points", "points-cost", "borda"]
SATISFACTIONS: tuple[Satisfaction, ...] = ("cost", "cardinality", "points", "points-cost", "borda")

#: The rules of this module, as ``stadmaken pb --rule`` takes them.
RULE_NAMES: Final = ("greedy", "greedy-cardinality", "greedy-no-skip", "max-welfare", "phragmen")
#: The greedy rules and the satisfaction family they use.
GREEDY_RULES: Final = ("greedy", "greedy-cardinality", "greedy-no-skip")

_APPROVAL_LIKE: Final[frozenset[str]] = frozenset({"approval", "choose-1", "ordinal"})
_CARDINAL: Final[frozenset[str]] = frozenset({"cumulative", "scoring"})
_ALLOWED: Final[dict[Satisfaction, frozenset[str]]] = {
    "cost": frozenset({"approval", "choose-1", "ordinal", "cumulative", "scoring"}),
    "cardinality": frozenset({"approval", "choose-1", "ordinal", "cumulative", "scoring"}),
    "points": _CARDINAL,
    "points-cost": _CARDINAL,
    "borda": frozenset({"ordinal"}),
}


class RuleError(BudgetingError):
    """A rule cannot be applied as asked (wrong vote type, unknown rule or satisfaction).

    A :class:`~budgeting.errors.BudgetingError` with one of the codes ``"unknown-rule"``,
    ``"unknown-satisfaction"`` or ``"wrong-vote-type"``.
    """


@dataclass(frozen=True, slots=True)
class GroupBudget:
    """A separate budget for a group of projects: a category or a neighbourhood (wijk).

    A project in the group is funded only if it fits both the money left of the total budget and
    the money left of this group's budget (and of every other group it belongs to).

    Attributes
    ----------
    name : str
        The group's name, as the explanations show it.
    budget : Fraction
        The most the group's funded projects may cost together.
    projects : frozenset of int
        Indices of the projects in the group.
    kind : str
        ``"category"`` or ``"neighbourhood"``: only the wording of the explanations.
    """

    name: str
    budget: Fraction
    projects: frozenset[int]
    kind: Literal["category", "neighbourhood"] = "category"


# --------------------------------------------------------------------------- shared helpers


def amount_text(value: Fraction) -> str:
    """An exact value as text: a decimal when it has one, else ``numerator/denominator``.

    Parameters
    ----------
    value : Fraction

    Returns
    -------
    str

    Examples
    --------
    >>> amount_text(Fraction(25, 2)), amount_text(Fraction(3)), amount_text(Fraction(1, 3))
    ('12.5', '3', '1/3')
    """
    return format_number(value)


def _approx(value: Fraction) -> str:
    """A short decimal for the explanations' prose (the data keep the exact value)."""
    exact = amount_text(value)
    if "/" not in exact and len(exact) <= 12:
        return exact
    number = float(value)
    if number == 0:
        return "0"
    places = max(0, 5 - math.floor(math.log10(abs(number))))  # six significant digits
    return f"{number:.{places}f}".rstrip("0").rstrip(".")


def default_satisfaction(rule: str, vote_type: VoteType) -> Satisfaction:
    """The satisfaction a rule uses for a vote type unless told otherwise.

    Parameters
    ----------
    rule : str
        ``"greedy"``, ``"greedy-no-skip"``, ``"greedy-cardinality"`` or ``"max-welfare"``.
    vote_type : str
        One of :data:`~budgeting.election.VOTE_TYPES`.

    Returns
    -------
    str
        See the table in the module's docstring.
    """
    cardinal = vote_type in _CARDINAL
    if rule == "greedy-cardinality":
        return "points" if cardinal else "cardinality"
    if rule == "max-welfare":
        return "points" if cardinal else "cost"
    return "points-cost" if cardinal else "cost"


def _check_satisfaction(election: Election, satisfaction: str) -> Satisfaction:
    for name in SATISFACTIONS:
        if name == satisfaction:
            if election.vote_type not in _ALLOWED[name]:
                allowed = ", ".join(sorted(_ALLOWED[name]))
                raise RuleError(
                    "wrong-vote-type",
                    f"the satisfaction '{name}' needs {allowed} ballots, not {election.vote_type}",
                )
            return name
    raise RuleError(
        "unknown-satisfaction",
        f"unknown satisfaction '{satisfaction}'; choose one of {', '.join(SATISFACTIONS)}",
    )


def _tallies(election: Election) -> tuple[list[int], list[Fraction]]:
    """Per project: its supporters and its votes (points for cumulative and scoring ballots).

    The same as :meth:`Election.supporters` and :meth:`Election.points_total`, in integer
    arithmetic over the points' common denominator (much faster on large files).
    """
    n = election.n_projects
    supporters = [0] * n
    unit = 1
    for ballot in election.ballots:
        if ballot.points is not None:
            for point in ballot.points:
                unit = math.lcm(unit, point.denominator)
    scaled = [0] * n
    for ballot in election.ballots:
        weight = ballot.weight
        if ballot.points is None:
            for j in ballot.projects:
                supporters[j] += weight
                scaled[j] += weight * unit
        else:
            for j, point in zip(ballot.projects, ballot.points, strict=True):
                supporters[j] += weight
                scaled[j] += weight * point.numerator * (unit // point.denominator)
    return supporters, [Fraction(total, unit) for total in scaled]


def project_welfare(election: Election, satisfaction: Satisfaction) -> list[Fraction]:
    """Per project, the voters' total satisfaction from it (its additive welfare).

    Parameters
    ----------
    election : Election
    satisfaction : str
        One of :data:`SATISFACTIONS` (see the module's docstring).

    Returns
    -------
    list of Fraction
        Indexed by project.

    Raises
    ------
    RuleError
        If the satisfaction does not apply to the election's vote type.

    Examples
    --------
    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b"), (Fraction(10), Fraction(4)), Fraction(12), "approval",
    ...              (WeightedBallot((0,), weight=2), WeightedBallot((0, 1))))
    >>> [str(w) for w in project_welfare(e, "cost")]
    ['30', '4']
    >>> [str(w) for w in project_welfare(e, "cardinality")]
    ['3', '1']
    """
    satisfaction = _check_satisfaction(election, satisfaction)
    costs = election.costs
    if satisfaction != "borda":
        supporters, points = _tallies(election)
        if satisfaction == "cost":
            return [votes * cost for votes, cost in zip(supporters, costs, strict=True)]
        if satisfaction == "cardinality":
            return [Fraction(votes) for votes in supporters]
        if satisfaction == "points":
            return points
        return [p * c for p, c in zip(points, costs, strict=True)]  # points-cost
    totals = [Fraction(0)] * election.n_projects  # borda
    for ballot in election.ballots:
        length = len(ballot.projects)
        for position, j in enumerate(ballot.projects):
            totals[j] += (length - position - 1) * ballot.weight
    return totals


def _ordinal(k: int) -> str:
    if 10 <= k % 100 <= 20:
        return f"{k}th"
    return f"{k}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th') }"


def _votes_words(election: Election, votes: Fraction) -> tuple[str, str]:
    """'12 stemmen' / '12 votes', or points for cumulative and scoring ballots."""
    text = _approx(votes)
    if election.vote_type in _CARDINAL:
        return f"{text} punten", f"{text} points"
    if votes == 1:
        return "1 stem", "1 vote"
    return f"{text} stemmen", f"{text} votes"


# --------------------------------------------------------------------------- greedy


def _density(welfare: Fraction, cost: Fraction) -> tuple[int, Fraction]:
    """pabutools' satisfaction density: (1, 0) stands for infinity (positive welfare, no cost)."""
    if welfare > 0:
        return (1, Fraction(0)) if cost == 0 else (0, welfare / cost)
    return (0, Fraction(0))


def greedy(
    election: Election,
    tie_break: TieBreak,
    *,
    satisfaction: Satisfaction | None = None,
    skip: bool = True,
    min_project_score_threshold: Fraction | int | None = None,
    group_budgets: Sequence[GroupBudget] = (),
) -> Outcome:
    """Greedy utilitarian welfare: fund projects in order of satisfaction per cost while they fit.

    Projects are ordered by their total satisfaction divided by their cost, highest first (with
    the default ``cost`` satisfaction: by votes, or by total points on cumulative and scoring
    ballots), ties by ``tie_break``. Going down the list, a project is funded if its cost fits
    the money left; otherwise it is skipped (``skip=True``, the default: the rule goes on with
    cheaper projects) or the rule stops (``skip=False``, greedy without skipping, as some cities
    count). This is the rule most cities use ("greedy", [TF19]_, [ALT18]_) and pabutools'
    ``greedy_utilitarian_welfare`` with an additive satisfaction.

    Parameters
    ----------
    election : Election
        The projects, budget and ballots.
    tie_break : TieBreak
        Orders projects of equal satisfaction per cost.
    satisfaction : str, optional
        One of :data:`SATISFACTIONS`; by default :func:`default_satisfaction` of ``"greedy"``.
    skip : bool
        Skip a project that does not fit (default), or stop at the first one. With group
        budgets, a project that does not fit a group's budget closes that group only (a
        project that does not fit the total budget closes everything): each budget is a
        greedy without skipping of its own.
    min_project_score_threshold : Fraction or int, optional
        Projects with fewer votes (cumulative, scoring: fewer points) than this are never
        funded and take no turn.
    group_budgets : sequence of GroupBudget
        Category or neighbourhood budgets; a project must fit the total budget and the budget of
        every group it is in.

    Returns
    -------
    Outcome
        ``selected`` in the order funded; per project an explanation with its rank, its score
        (satisfaction per cost) and the money left when its turn came. ``details`` holds the
        satisfaction, the order, the money left and each group's spending.

    Raises
    ------
    RuleError
        If the satisfaction does not apply to the vote type.

    References
    ----------
    .. [TF19] Talmon and Faliszewski, AAAI 2019. doi:10.1609/aaai.v33i01.33012181
    .. [ALT18] Aziz, Lee and Talmon, AAMAS 2018. arXiv:1711.08226

    Examples
    --------
    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c"), (Fraction(6), Fraction(5), Fraction(4)), Fraction(10),
    ...              "approval", (WeightedBallot((0, 1), weight=3), WeightedBallot((1, 2))))
    >>> outcome = greedy(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in outcome.selected], outcome.cost
    (['b', 'c'], Fraction(9, 1))
    >>> print(outcome.explanations[0].en)
    Not funded: ranked 2nd with 3 votes, but when its turn came only 5 was left and it costs 6.
    """
    if satisfaction is None:
        satisfaction = default_satisfaction("greedy", election.vote_type)
    welfare = project_welfare(election, satisfaction)
    if not skip:
        rule = "greedy-no-skip"
    elif satisfaction == default_satisfaction("greedy-cardinality", election.vote_type):
        rule = "greedy-cardinality"
    else:
        rule = "greedy"
    costs = election.costs
    votes = _tallies(election)[1]
    rank = tie_break.rank
    density = [_density(w, c) for w, c in zip(welfare, costs, strict=True)]
    order = sorted(
        range(election.n_projects),
        key=lambda j: (-density[j][0], -density[j][1], rank[j]),
    )
    threshold = (
        None if min_project_score_threshold is None else Fraction(min_project_score_threshold)
    )
    groups_of: list[list[int]] = [[] for _ in range(election.n_projects)]
    for g, group in enumerate(group_budgets):
        for j in sorted(group.projects):
            groups_of[j].append(g)
    group_left = [group.budget for group in group_budgets]
    group_closed = [False] * len(group_budgets)
    left = election.budget
    closed_by: int | None = None  # the project whose misfit stopped the rule (skip=False)

    per_cost = satisfaction in ("cardinality", "points", "borda")
    explanations: dict[int, Explanation] = {}
    selected: list[int] = []
    for position, j in enumerate(order, start=1):
        cost = costs[j]
        score = density[j]
        score_text = "inf" if score[0] else amount_text(score[1])
        data: dict[str, object] = {
            "rank": position,
            "score": score_text,
            "satisfaction": satisfaction,
            "votes": amount_text(votes[j]),
            "cost": amount_text(cost),
            "budget_left": amount_text(left),
        }
        words_nl, words_en = _votes_words(election, votes[j])
        if per_cost:
            shown = "∞" if score[0] else _approx(score[1])
            rank_nl = f"plaats {position} met {words_nl} ({shown} per eenheid van de kosten)"
            rank_en = f"ranked {_ordinal(position)} with {words_en} ({shown} per unit of cost)"
        else:
            rank_nl = f"plaats {position} met {words_nl}"
            rank_en = f"ranked {_ordinal(position)} with {words_en}"
        if threshold is not None and votes[j] < threshold:
            data["threshold"] = amount_text(threshold)
            explanations[j] = Explanation(
                j,
                False,
                "below-threshold",
                data,
                nl=f"Niet gefinancierd: {words_nl}, minder dan de drempel van "
                f"{_approx(threshold)}; zulke projecten komen niet in aanmerking.",
                en=f"Not funded: {words_en}, below the threshold of {_approx(threshold)}; such "
                "projects are not eligible.",
            )
            continue
        closed_groups = [group_budgets[g].name for g in groups_of[j] if group_closed[g]]
        if closed_by is not None or closed_groups:
            data["stopped"] = True
            if closed_by is not None:
                stopper = election.ids[closed_by]
                data["stopped_at"] = stopper
                nl = (
                    f"Niet gefinancierd: {rank_nl}, maar de telling was al gestopt bij project "
                    f"{stopper}, dat niet meer in het budget paste."
                )
                en = (
                    f"Not funded: {rank_en}, but counting had already stopped at project "
                    f"{stopper}, which no longer fit the budget."
                )
            else:
                data["closed_groups"] = closed_groups
                names = ", ".join(closed_groups)
                nl = (
                    f"Niet gefinancierd: {rank_nl}, maar de telling voor {names} was al "
                    "gestopt bij een project dat niet meer in dat budget paste."
                )
                en = (
                    f"Not funded: {rank_en}, but counting for {names} had already stopped at "
                    "a project that no longer fit that budget."
                )
            explanations[j] = Explanation(j, False, "stopped", data, nl=nl, en=en)
            continue
        misfit_groups = [g for g in groups_of[j] if cost > group_left[g]]
        for g in groups_of[j]:
            data[f"group_left:{group_budgets[g].name}"] = amount_text(group_left[g])
        if cost > left:
            explanations[j] = Explanation(
                j,
                False,
                "did-not-fit",
                data,
                nl=f"Niet gefinancierd: {rank_nl}, maar toen het aan de beurt was, was er nog "
                f"maar {_approx(left)} over en het kost {_approx(cost)}.",
                en=f"Not funded: {rank_en}, but when its turn came only {_approx(left)} was "
                f"left and it costs {_approx(cost)}.",
            )
            if not skip:
                closed_by = j
                data["stopped"] = True
            continue
        if misfit_groups:
            group = group_budgets[misfit_groups[0]]
            kind_nl = "categorie" if group.kind == "category" else "wijk"
            kind_en = group.kind
            short = _approx(group_left[misfit_groups[0]])
            explanations[j] = Explanation(
                j,
                False,
                "did-not-fit-group",
                {**data, "group": group.name},
                nl=f"Niet gefinancierd: {rank_nl}, maar toen het aan de beurt was, was er in het "
                f"budget van {kind_nl} {group.name} nog maar {short} over en het kost "
                f"{_approx(cost)}.",
                en=f"Not funded: {rank_en}, but when its turn came only {short} was left in "
                f"the budget of {kind_en} {group.name} and it costs {_approx(cost)}.",
            )
            if not skip:
                for g in misfit_groups:
                    group_closed[g] = True
            continue
        left -= cost
        for g in groups_of[j]:
            group_left[g] -= cost
        selected.append(j)
        data["budget_left_after"] = amount_text(left)
        explanations[j] = Explanation(
            j,
            True,
            "funded",
            data,
            nl=f"Gefinancierd: {rank_nl}; toen het aan de beurt was, was er nog "
            f"{_approx(left + cost)} over en het kost {_approx(cost)}.",
            en=f"Funded: {rank_en}; when its turn came {_approx(left + cost)} was left and it "
            f"costs {_approx(cost)}.",
        )
    total = election.budget - left
    return Outcome(
        rule=rule,
        selected=tuple(selected),
        cost=total,
        explanations=tuple(explanations[j] for j in range(election.n_projects)),
        details={
            "satisfaction": satisfaction,
            "skip": skip,
            "threshold": None if threshold is None else amount_text(threshold),
            "order": [election.ids[j] for j in order],
            "budget_left": amount_text(left),
            "groups": {
                group.name: {
                    "budget": amount_text(group.budget),
                    "spent": amount_text(group.budget - group_left[g]),
                }
                for g, group in enumerate(group_budgets)
            },
        },
    )


# --------------------------------------------------------------------------- max welfare


def _scale(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """Integers proportional to ``values`` and the common denominator they were scaled by."""
    denominator = 1
    for value in values:
        denominator = math.lcm(denominator, value.denominator)
    return [int(value * denominator) for value in values], denominator


#: A state of the knapsack: (cost, welfare, set of projects as a bit mask, priority order).
_State = tuple[int, int, int]


def _lp_bound_check(
    items: Sequence[tuple[int, int]],
) -> Callable[[int, int, int], bool]:
    """A test ``reaches(capacity, welfare, target)``: can ``items`` lift ``welfare`` to ``target``?

    The bound is the fractional (LP) knapsack of ``items`` in ``capacity``: an upper bound on
    what any subset adds. Exact integer arithmetic.
    """
    ordered = sorted(
        items, key=lambda it: (0, Fraction(0)) if it[0] == 0 else (1, -Fraction(it[1], it[0]))
    )
    prefix_cost = [0]
    prefix_welfare = [0]
    for cost, welfare in ordered:
        prefix_cost.append(prefix_cost[-1] + cost)
        prefix_welfare.append(prefix_welfare[-1] + welfare)

    def reaches(capacity: int, welfare: int, target: int) -> bool:
        k = bisect_right(prefix_cost, capacity) - 1  # items 0..k-1 fit whole
        full = welfare + prefix_welfare[k]
        if k >= len(ordered):
            return full >= target
        cost, value = ordered[k]  # cost > 0: zero-cost items always fit whole
        return (full - target) * cost + (capacity - prefix_cost[k]) * value >= 0

    return reaches


def max_welfare(
    election: Election,
    tie_break: TieBreak,
    *,
    satisfaction: Satisfaction | None = None,
) -> Outcome:
    """The projects with the highest total welfare that fit the budget (an exact knapsack).

    Maximises ``sum of welfare(p) over funded p`` subject to ``sum of cost(p) <= budget``, with
    the additive welfare of :func:`project_welfare` (by default ``cost`` for approval-type
    ballots, ``points`` for cumulative and scoring ballots), as pabutools'
    ``max_additive_utilitarian_welfare`` does ([TF19]_ call it the knapsack rule).

    Ties: among the sets of highest welfare, the one that contains the project ranked first by
    ``tie_break`` among the projects in which they differ. Projects with no welfare are never
    funded, even if money is left (they add nothing).

    The algorithm is a dynamic program over Pareto-optimal (cost, welfare) states [NU69]_, on
    integers scaled from the exact costs and welfare, so costs may be large or decimal. Projects
    are added from the last in the tie-break order to the first, and each state carries its set
    as a bit mask in which a project ranked earlier is a higher bit: among equal welfare the
    larger mask is the set the tie-break prefers, so the dominance test ``cost <= and (welfare,
    mask) >=`` keeps exactly what can still win. States that even the fractional relaxation of
    the projects still to come cannot lift to the best welfare found are dropped.

    Parameters
    ----------
    election : Election
    tie_break : TieBreak
    satisfaction : str, optional
        One of :data:`SATISFACTIONS`; by default :func:`default_satisfaction` of
        ``"max-welfare"``.

    Returns
    -------
    Outcome
        ``selected`` in tie-break order; ``details["welfare"]`` the highest welfare (exact).

    Raises
    ------
    RuleError
        If the satisfaction does not apply to the vote type.

    References
    ----------
    .. [TF19] Talmon and Faliszewski, AAAI 2019. doi:10.1609/aaai.v33i01.33012181
    .. [NU69] Nemhauser and Ullmann, Management Science 15(9), 1969. doi:10.1287/mnsc.15.9.494

    Examples
    --------
    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c"), (Fraction(6), Fraction(5), Fraction(5)), Fraction(10),
    ...              "approval", (WeightedBallot((0,), weight=5), WeightedBallot((1, 2), weight=4)))
    >>> [e.ids[j] for j in greedy(e, TieBreak.by_id(e)).selected]
    ['a']
    >>> outcome = max_welfare(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in outcome.selected], outcome.details["welfare"]
    (['b', 'c'], '40')
    """
    if satisfaction is None:
        satisfaction = default_satisfaction("max-welfare", election.vote_type)
    welfare = project_welfare(election, satisfaction)
    costs = election.costs
    candidates = [
        j
        for j in sorted(range(election.n_projects), key=lambda j: tie_break.rank[j])
        if welfare[j] > 0 and costs[j] <= election.budget
    ]
    n = len(candidates)
    scaled_costs, cost_unit = _scale([costs[j] for j in candidates] + [election.budget])
    capacity = scaled_costs.pop()
    scaled_welfare, welfare_unit = _scale([welfare[j] for j in candidates])
    # candidates[k] is the k-th by tie-break, bit n-1-k: the first project is the highest bit
    items = list(zip(scaled_costs, scaled_welfare, strict=True))

    # a lower bound: greedy by welfare per cost
    best = 0
    room = capacity
    for cost, value in sorted(
        items, key=lambda it: (0, Fraction(0)) if it[0] == 0 else (1, -Fraction(it[1], it[0]))
    ):
        if cost <= room:
            room -= cost
            best += value

    frontier: list[_State] = [(0, 0, 0)]
    largest = 1
    for k in range(n - 1, -1, -1):
        cost, value = items[k]
        bit = 1 << (n - 1 - k)
        added = [(c + cost, w + value, m | bit) for c, w, m in frontier if c + cost <= capacity]
        merged = sorted(frontier + added, key=lambda s: (s[0], -s[1], -s[2]))
        reaches = _lp_bound_check(items[:k])
        kept: list[_State] = []
        top = (-1, -1)
        for state in merged:
            key = (state[1], state[2])
            if key <= top:
                continue  # a cheaper (or equal) state is at least as good
            top = key
            best = max(best, state[1])
            kept.append(state)
        frontier = [s for s in kept if reaches(capacity - s[0], s[1], best)]
        largest = max(largest, len(frontier))
    _, top_welfare, mask = max(frontier, key=lambda s: (s[1], s[2]))
    chosen = {candidates[k] for k in range(n) if mask >> (n - 1 - k) & 1}
    selected = tuple(j for j in candidates if j in chosen)
    total_welfare = Fraction(top_welfare, welfare_unit)
    spent = sum((costs[j] for j in selected), Fraction(0))
    logger.info("max-welfare: %d projects, at most %d states", n, largest)

    explanations = []
    for j in range(election.n_projects):
        data: dict[str, object] = {
            "welfare": amount_text(welfare[j]),
            "total_welfare": amount_text(total_welfare),
            "satisfaction": satisfaction,
            "cost": amount_text(costs[j]),
        }
        own = _approx(welfare[j])
        total = _approx(total_welfare)
        if j in chosen:
            explanations.append(
                Explanation(
                    j,
                    True,
                    "funded",
                    data,
                    nl=f"Gefinancierd: het hoort bij de combinatie van projecten binnen het "
                    f"budget met de hoogste totale waardering ({total}); dit project draagt "
                    f"{own} bij.",
                    en=f"Funded: it is part of the combination of projects within the budget "
                    f"with the highest total welfare ({total}); this project adds {own}.",
                )
            )
        elif welfare[j] <= 0:
            explanations.append(
                Explanation(
                    j,
                    False,
                    "no-support",
                    data,
                    nl="Niet gefinancierd: niemand heeft erop gestemd, dus het voegt niets toe "
                    "aan de totale waardering.",
                    en="Not funded: nobody voted for it, so it adds nothing to the total welfare.",
                )
            )
        elif costs[j] > election.budget:
            explanations.append(
                Explanation(
                    j,
                    False,
                    "too-expensive",
                    data,
                    nl=f"Niet gefinancierd: het kost {_approx(costs[j])}, meer dan het hele "
                    f"budget ({_approx(election.budget)}).",
                    en=f"Not funded: it costs {_approx(costs[j])}, more than the whole budget "
                    f"({_approx(election.budget)}).",
                )
            )
        else:
            explanations.append(
                Explanation(
                    j,
                    False,
                    "not-in-optimum",
                    data,
                    nl=f"Niet gefinancierd: het hoort niet bij de combinatie van projecten "
                    f"binnen het budget met de hoogste totale waardering ({total}); dit project "
                    f"zou {own} bijdragen.",
                    en=f"Not funded: it is not part of the combination of projects within the "
                    f"budget with the highest total welfare ({total}); this project would add "
                    f"{own}.",
                )
            )
    return Outcome(
        rule="max-welfare",
        selected=selected,
        cost=spent,
        explanations=tuple(explanations),
        details={
            "satisfaction": satisfaction,
            "welfare": amount_text(total_welfare),
            "states": largest,
            "cost_unit": amount_text(Fraction(1, cost_unit)),
        },
    )


# --------------------------------------------------------------------------- sequential Phragmén


def sequential_phragmen(election: Election, tie_break: TieBreak) -> Outcome:
    """Sequential Phragmén for participatory budgeting (approval and choose-1 ballots).

    Each voter earns virtual money at the same steady rate from time 0. As soon as the
    supporters of a project together have earned its cost (counting what they already spent),
    they buy it: each supporter's *load* (total spending) becomes
    ``(cost + sum of the supporters' loads) / number of supporters``, the lowest such value over
    all projects. If the next project to be bought would overspend the budget, the rule stops:
    it is not exhaustive. [ALT18]_ adapt Phragmén's rule to budgets; [LCG22]_ study it among
    proportional budgeting rules; this is pabutools' ``sequential_phragmen`` (see the module's
    docstring for the details it fixes, including ties). The loads are kept in floats with a
    proven error bound, and the projects whose new load may be the lowest get it exactly, so
    every comparison that decides is exact.

    Parameters
    ----------
    election : Election
        Approval or choose-1 ballots.
    tie_break : TieBreak
        Orders projects whose purchase gives the same load.

    Returns
    -------
    Outcome
        ``selected`` in the order bought; per project the load at which it was bought, or why
        it was not; ``details`` the final loads and the project that stopped the rule.

    Raises
    ------
    RuleError
        For cumulative, scoring or ordinal ballots.

    References
    ----------
    .. [ALT18] Aziz, Lee and Talmon, AAMAS 2018. arXiv:1711.08226
    .. [LCG22] Los, Christoff and Grossi, IJCAI 2022. doi:10.24963/ijcai.2022/57
    .. [PPS21] Peters, Pierczyński and Skowron, NeurIPS 2021 (the Method of Equal Shares, the
       proportional rule this one is compared with). arXiv:2008.13276

    Examples
    --------
    >>> from budgeting.election import WeightedBallot
    >>> e = Election(("a", "b", "c"), (Fraction(6), Fraction(5), Fraction(4)), Fraction(10),
    ...              "approval", (WeightedBallot((0, 1), weight=3), WeightedBallot((1, 2))))
    >>> outcome = sequential_phragmen(e, TieBreak.by_id(e))
    >>> [e.ids[j] for j in outcome.selected], outcome.cost
    (['b'], Fraction(5, 1))
    >>> a = outcome.explanations[0]  # a is next, at load 13/4, but costs 6 > 5: stop
    >>> a.code, a.data["load"], a.data["budget_left"]
    ('did-not-fit', '3.25', '5')
    >>> outcome.explanations[2].code  # c still fits, but the rule has stopped
    'stopped'
    """
    if election.vote_type not in ("approval", "choose-1"):
        raise RuleError(
            "wrong-vote-type",
            f"sequential Phragmén needs approval or choose-1 ballots, not {election.vote_type}",
        )
    n = election.n_projects
    costs = election.costs
    approvals = _tallies(election)[0]
    # ballot -> projects (CSR) and project -> ballots
    lengths = np.array([len(ballot.projects) for ballot in election.ballots], dtype=np.int64)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    projects = np.fromiter(
        (j for ballot in election.ballots for j in ballot.projects), np.int64, int(indptr[-1])
    )
    weights = np.array([ballot.weight for ballot in election.ballots], dtype=np.int64)
    owners = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    by_project = np.argsort(projects, kind="stable")
    bounds = np.searchsorted(projects[by_project], np.arange(n + 1))
    ballots_of = [owners[by_project[bounds[j] : bounds[j + 1]]] for j in range(n)]
    # Voters bought together carry the same load: a ballot's load is that of its class (the
    # round in which its voters last paid). A project's spent load (the sum of its supporters'
    # loads) is kept in floats with a proven error bound; only the projects whose new load may
    # be the lowest get it exactly (a Fraction per class among their supporters).
    class_of = np.zeros(len(lengths), dtype=np.int64)
    class_load = [Fraction(0)]
    class_load_f = np.zeros(n + 1, dtype=np.float64)  # float(class_load), one per round at most
    weights_f = weights.astype(np.float64)
    spent_f = np.zeros(n, dtype=np.float64)
    spent_err = np.zeros(n, dtype=np.float64)  # |spent_f - exact spent load| is at most this
    cost_f = np.array([float(c) for c in costs], dtype=np.float64)
    approvals_f = np.array(approvals, dtype=np.float64)
    active = {j for j in range(n) if costs[j] <= election.budget}
    is_active = np.zeros(n, dtype=np.bool_)
    is_active[list(active)] = True
    spent = Fraction(0)
    selected: list[int] = []
    bought_at: dict[int, tuple[int, Fraction | None, Fraction]] = {}  # round, load, money left
    stop: list[int] = []
    candidate_load: dict[int, Fraction | None] = {}
    # exact new loads of projects whose supporters did not pay since
    known: dict[int, Fraction | None] = {}

    def new_load(j: int) -> Fraction | None:
        if j not in known:
            if approvals[j] == 0:
                known[j] = None
            else:
                payers = ballots_of[j]
                per_class = np.bincount(
                    class_of[payers], weights=weights_f[payers], minlength=len(class_load)
                )
                total = sum(
                    (class_load[c] * int(per_class[c]) for c in np.flatnonzero(per_class).tolist()),
                    Fraction(0),
                )
                known[j] = (total + costs[j]) / approvals[j]
        return known[j]

    while active:
        lowest: Fraction | None = None
        tied: list[int] = []
        finite = np.flatnonzero(is_active & (approvals_f > 0))
        if len(finite) == 0:  # only projects nobody supports: all tie at an infinite load
            tied = sorted(active)
        else:
            total_f = spent_f[finite] + cost_f[finite]
            load_f = total_f / approvals_f[finite]
            # the float load's error: the spent load's, the cost's and the sum's and the
            # quotient's rounding (doubled for the rounding of this bound itself)
            bound = 2 * ((spent_err[finite] + 4 * _UR * total_f) / approvals_f[finite])
            bound += 4 * _UR * load_f
            near = finite[load_f - bound <= float(np.min(load_f + bound))]
            for j in near.tolist():
                value = new_load(j)
                assert value is not None
                if lowest is None or value < lowest:
                    lowest, tied = value, [j]
                elif value == lowest:
                    tied.append(j)
        misfits = [j for j in tied if spent + costs[j] > election.budget]
        if misfits:
            stop = sorted(misfits, key=lambda j: tie_break.rank[j])
            break
        chosen = tie_break.first(tied)
        active.discard(chosen)
        is_active[chosen] = False
        bought_at[chosen] = (len(selected) + 1, lowest, election.budget - spent)
        selected.append(chosen)
        spent += costs[chosen]
        if lowest is not None:
            new_class = len(class_load)
            class_load.append(lowest)
            level = float(lowest)
            class_load_f[new_class] = level
            payers = ballots_of[chosen]
            old = class_of[payers]
            class_of[payers] = new_class
            # each project still active on the payers' ballots: its spent load grows by
            # (new load - old load) * weight per payer
            starts, counts = indptr[payers], lengths[payers]
            offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
                np.cumsum(counts) - counts - starts, counts
            )
            q = projects[offsets]
            keep = is_active[q]
            q = q[keep]
            w = np.repeat(weights_f[payers], counts)[keep]
            was = class_load_f[np.repeat(old, counts)[keep]]
            delta = (level - was) * w  # >= 0: loads only rise
            spent_f += np.bincount(q, weights=delta, minlength=n)
            # each term: the two loads rounded once each, the difference and the product
            # once; the sum of the terms (at most len(q) of them) and the addition once
            terms = (level + was) * w + (len(q) + 3) * delta
            spent_err += _UR * np.bincount(q, weights=terms, minlength=n)
            touched = np.unique(q)
            spent_err[touched] += _UR * spent_f[touched]
            for j in touched.tolist():
                known.pop(j, None)
    for j in active:
        candidate_load[j] = new_load(j)

    left = election.budget - spent
    explanations = []
    for j in range(n):
        supporters = approvals[j]
        data: dict[str, object] = {"supporters": supporters, "cost": amount_text(costs[j])}
        if j in bought_at:
            round_no, load, before = bought_at[j]
            data.update(
                round=round_no,
                load=None if load is None else amount_text(load),
                budget_left=amount_text(before),
            )
            if load is not None:
                nl = (
                    f"Gefinancierd in ronde {round_no}: zodra elk van de {supporters} "
                    f"voorstanders in totaal {_approx(load)} had uitgegeven, konden zij het "
                    f"samen betalen (er was nog {_approx(before)} over)."
                )
                en = (
                    f"Funded in round {round_no}: as soon as each of its {supporters} "
                    f"supporters had spent {_approx(load)} in all, together they could pay for "
                    f"it ({_approx(before)} was left)."
                )
            else:
                nl = (
                    f"Gefinancierd in ronde {round_no}: er waren alleen nog projecten zonder "
                    f"voorstanders over en het paste in het budget ({_approx(before)} over)."
                )
                en = (
                    f"Funded in round {round_no}: only projects without supporters were left "
                    f"and it fit the budget ({_approx(before)} was left)."
                )
            explanations.append(Explanation(j, True, "funded", data, nl=nl, en=en))
            continue
        if costs[j] > election.budget:
            explanations.append(
                Explanation(
                    j,
                    False,
                    "too-expensive",
                    data,
                    nl=f"Niet gefinancierd: het kost {_approx(costs[j])}, meer dan het hele "
                    f"budget ({_approx(election.budget)}).",
                    en=f"Not funded: it costs {_approx(costs[j])}, more than the whole budget "
                    f"({_approx(election.budget)}).",
                )
            )
            continue
        load_now = candidate_load.get(j)
        data["load"] = None if load_now is None else amount_text(load_now)
        data["budget_left"] = amount_text(left)
        if j in stop:
            explanations.append(
                Explanation(
                    j,
                    False,
                    "did-not-fit",
                    data,
                    nl=f"Niet gefinancierd: het was als volgende aan de beurt, bij een last van "
                    f"{_approx(load_now or Fraction(0))} per voorstander, maar er was nog maar "
                    f"{_approx(left)} over en het kost {_approx(costs[j])}; daarom stopte de "
                    "telling.",
                    en=f"Not funded: it was next, at a load of "
                    f"{_approx(load_now or Fraction(0))} per supporter, but only {_approx(left)} "
                    f"was left and it costs {_approx(costs[j])}; so counting stopped.",
                )
                if load_now is not None
                else Explanation(
                    j,
                    False,
                    "did-not-fit",
                    data,
                    nl=f"Niet gefinancierd: het heeft geen voorstanders en er was nog maar "
                    f"{_approx(left)} over terwijl het {_approx(costs[j])} kost; daarom stopte "
                    "de telling.",
                    en=f"Not funded: it has no supporters and only {_approx(left)} was left "
                    f"while it costs {_approx(costs[j])}; so counting stopped.",
                )
            )
            continue
        stopper = election.ids[stop[0]] if stop else "?"
        data["stopped_at"] = stopper
        if load_now is None:
            nl = (
                "Niet gefinancierd: niemand heeft erop gestemd, en de telling stopte voordat "
                f"het aan de beurt kwam (bij project {stopper})."
            )
            en = (
                "Not funded: nobody voted for it, and counting stopped before its turn (at "
                f"project {stopper})."
            )
            code = "no-support"
        else:
            nl = (
                f"Niet gefinancierd: de telling stopte bij project {stopper}, dat niet meer "
                f"paste; dit project zou een last van {_approx(load_now)} per voorstander "
                "hebben gevraagd."
            )
            en = (
                f"Not funded: counting stopped at project {stopper}, which no longer fit; this "
                f"project would have needed a load of {_approx(load_now)} per supporter."
            )
            code = "stopped"
        explanations.append(Explanation(j, False, code, data, nl=nl, en=en))
    return Outcome(
        rule="phragmen",
        selected=tuple(selected),
        cost=spent,
        explanations=tuple(explanations),
        details={
            "max_load": amount_text(max(class_load[k] for k in set(class_of.tolist()) | {0})),
            "stopped_at": [election.ids[j] for j in stop],
            "budget_left": amount_text(left),
        },
    )


# --------------------------------------------------------------------------- by name


def run_rule(election: Election, rule: str, tie_break: TieBreak) -> Outcome:
    """Run one of :data:`RULE_NAMES` with its defaults.

    Parameters
    ----------
    election : Election
    rule : str
        ``"greedy"``, ``"greedy-cardinality"``, ``"greedy-no-skip"``, ``"max-welfare"`` or
        ``"phragmen"``.
    tie_break : TieBreak

    Returns
    -------
    Outcome

    Raises
    ------
    RuleError
        For an unknown rule or one that does not apply to the vote type.
    """
    if rule == "greedy":
        return greedy(election, tie_break)
    if rule == "greedy-no-skip":
        return greedy(election, tie_break, skip=False)
    if rule == "greedy-cardinality":
        satisfaction = default_satisfaction("greedy-cardinality", election.vote_type)
        return greedy(election, tie_break, satisfaction=satisfaction)
    if rule == "max-welfare":
        return max_welfare(election, tie_break)
    if rule == "phragmen":
        return sequential_phragmen(election, tie_break)
    raise RuleError("unknown-rule", f"unknown rule '{rule}'; choose one of {', '.join(RULE_NAMES)}")
