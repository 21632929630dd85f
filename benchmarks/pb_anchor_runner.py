"""Run ONE participatory-budgeting job of the anchor library ``pabutools`` and print one JSON line.

This script runs with the anchor's own interpreter (``benchmarks/.venv-pabutools/bin/python``,
made by ``benchmarks/setup_pabutools.sh``), as a subprocess of ``pb_bench.py``. It imports only
the standard library, ``runner_common.py`` / ``pb_common.py`` (standard library only) and
``pabutools`` (GPL-3.0), never stadmaken; stadmaken never imports it.

Job (JSON, as the first argument, as ``@path/to/job.json``, or on stdin)::

    {"file": "/path/to/X.pb", "rule": "mes-add1", "tie_break": "id",
     "sat": "cost"}              # optional: overrides pb_common.SATISFACTION

Output: one JSON line on stdout::

    {"status": "ok" | "error", "selected": [ids in the order returned], "cost": "123/1",
     "seconds": ..., "parse_seconds": ..., "peak_rss_mb": ..., "call": "...", ...}

``seconds`` times the rule call only (not the interpreter start, the import, or parsing the file:
that is ``parse_seconds``). ``peak_rss_mb`` is this process's ``ru_maxrss``.

The pabutools 1.2.3 calls, per rule (``T = lexico_tie_breaking``: ties go to the project whose
id is smallest as a string, ``sorted(..., key=project.name)``; ``S`` is the satisfaction class
of ``pb_common.SATISFACTION``; ``n = profile.num_ballots()``):

* ``greedy``: ``greedy_utilitarian_welfare(I, P, sat_class=S, tie_breaking=T)``; with Cost_Sat
  the satisfaction per cost is the number of voters with the project on the ballot, so this is
  greedy by votes; for cumulative ballots S gives points x cost, so greedy by total points.
* ``greedy-cardinality``: the same with Cardinality_Sat (points for cumulative): votes per cost.
* ``max-welfare``: ``max_additive_utilitarian_welfare(I, P, sat_class=S)`` (its default inner
  algorithm for a resolute outcome, the primal/dual knapsack; no tie-breaking parameter).
* ``mes``: ``method_of_equal_shares(I, P, sat_class=S, tie_breaking=T)``.
* ``mes-add1``: ``exhaustion_by_budget_increase(I, P, method_of_equal_shares,
  {"sat_class": S, "tie_breaking": T}, budget_step=n)``: MES re-run with the total budget raised
  by n (one unit per voter) until the outcome is exhaustive or would overspend the real budget.
* ``mes-greedy``: ``completion_by_rule_combination(I, P, [method_of_equal_shares,
  greedy_utilitarian_welfare], [{"sat_class": S, "tie_breaking": T}, {"sat_class": S,
  "tie_breaking": T}])``.
* ``mes-add1-greedy``: ``completion_by_rule_combination(I, P, [exhaustion_by_budget_increase,
  greedy_utilitarian_welfare], [{"rule": method_of_equal_shares, "rule_params": {...},
  "budget_step": n}, {"sat_class": S, "tie_breaking": T}])``.
* ``phragmen``: ``sequential_phragmen(I, P, tie_breaking=T)`` (approval profiles only).
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from typing import Any

from runner_common import run_main


def _sat_class(name: str):
    from pabutools.election import (
        Additive_Cardinal_Sat,
        AdditiveSatisfaction,
        Cardinality_Sat,
        Cost_Sat,
    )

    if name == "cost":
        return Cost_Sat
    if name == "cardinality":
        return Cardinality_Sat
    if name == "points":
        return Additive_Cardinal_Sat
    if name == "points-cost":

        def points_cost(instance, profile, ballot, project, precomputed):
            return ballot.get(project, 0) * project.cost

        class PointsCostSat(AdditiveSatisfaction):
            """Points x cost: greedy's satisfaction per cost is then the total points."""

            def __init__(self, instance, profile, ballot):
                AdditiveSatisfaction.__init__(self, instance, profile, ballot, points_cost)

        return PointsCostSat
    raise ValueError(f"unknown satisfaction {name!r}")


def run(job: dict[str, Any]) -> dict[str, Any]:
    import pb_common
    from pabutools.election import parse_pabulib
    from pabutools.rules import (
        completion_by_rule_combination,
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        max_additive_utilitarian_welfare,
        method_of_equal_shares,
        sequential_phragmen,
    )
    from pabutools.tiebreaking import lexico_tie_breaking

    rule = job["rule"]
    if job.get("tie_break", "id") != "id":
        raise ValueError("only tie_break 'id' (lexico_tie_breaking) is supported")
    tie = lexico_tie_breaking

    started = time.perf_counter()
    instance, profile = parse_pabulib(job["file"])
    parse_seconds = time.perf_counter() - started
    vote_type = instance.meta.get("vote_type", "approval")
    sat_name = job.get("sat") or pb_common.SATISFACTION[vote_type].get(rule, "none")
    n = profile.num_ballots()
    sat = _sat_class(sat_name) if sat_name != "none" else None
    mes_params = {"sat_class": sat, "tie_breaking": tie}
    greedy_params = {"sat_class": sat, "tie_breaking": tie}
    print(
        f"[progress] parsed {n} ballots in {parse_seconds:.2f} s; running {rule}", file=sys.stderr
    )

    started = time.perf_counter()
    if rule in ("greedy", "greedy-cardinality"):
        call = (
            f"greedy_utilitarian_welfare(I, P, sat_class={sat.__name__}, "
            "tie_breaking=lexico_tie_breaking)"
        )
        outcome = greedy_utilitarian_welfare(instance, profile, **greedy_params)
    elif rule == "max-welfare":
        call = f"max_additive_utilitarian_welfare(I, P, sat_class={sat.__name__})"
        outcome = max_additive_utilitarian_welfare(instance, profile, sat_class=sat)
    elif rule == "mes":
        call = (
            f"method_of_equal_shares(I, P, sat_class={sat.__name__}, "
            "tie_breaking=lexico_tie_breaking)"
        )
        outcome = method_of_equal_shares(instance, profile, **mes_params)
    elif rule == "mes-add1":
        call = (
            "exhaustion_by_budget_increase(I, P, method_of_equal_shares, "
            f"{{sat_class: {sat.__name__}, tie_breaking: lexico_tie_breaking}}, budget_step={n})"
        )
        outcome = exhaustion_by_budget_increase(
            instance, profile, method_of_equal_shares, dict(mes_params), budget_step=n
        )
    elif rule == "mes-greedy":
        call = (
            "completion_by_rule_combination(I, P, [method_of_equal_shares, "
            f"greedy_utilitarian_welfare], [{{sat_class: {sat.__name__}, tie_breaking: T}}] * 2)"
        )
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [dict(mes_params), dict(greedy_params)],
        )
    elif rule == "mes-add1-greedy":
        call = (
            "completion_by_rule_combination(I, P, [exhaustion_by_budget_increase, "
            "greedy_utilitarian_welfare], [{rule: method_of_equal_shares, rule_params: "
            f"{{sat_class: {sat.__name__}, tie_breaking: T}}, budget_step: {n}}}, "
            f"{{sat_class: {sat.__name__}, tie_breaking: T}}])"
        )
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [exhaustion_by_budget_increase, greedy_utilitarian_welfare],
            [
                {"rule": method_of_equal_shares, "rule_params": dict(mes_params), "budget_step": n},
                dict(greedy_params),
            ],
        )
    elif rule == "phragmen":
        call = "sequential_phragmen(I, P, tie_breaking=lexico_tie_breaking)"
        outcome = sequential_phragmen(instance, profile, tie_breaking=tie)
    else:
        raise ValueError(f"unknown rule {rule!r}")
    seconds = time.perf_counter() - started

    selected = [p.name for p in outcome]
    cost = sum((p.cost for p in outcome), 0)
    return {
        "side": "anchor",
        "status": "ok",
        "rule": rule,
        "file": job["file"],
        "vote_type": vote_type,
        "sat": sat_name,
        "call": call,
        "selected": selected,
        "cost": str(cost),
        "budget": str(instance.budget_limit),
        "n_ballots": n,
        "seconds": seconds,
        "parse_seconds": parse_seconds,
        "pabutools": version("pabutools"),
    }


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, "anchor", run))
