"""Run ONE participatory-budgeting job of our package (``budgeting``) and print one JSON line.

Runs in the project's venv (``.venv/bin/python``) as a subprocess of ``pb_bench.py``, with the
repository on ``PYTHONPATH``. Same job and output as ``pb_anchor_runner.py``::

    {"file": "/path/to/X.pb", "rule": "mes-add1", "tie_break": "id"}
    -> {"status": "ok", "selected": [ids in selection order], "cost": "...", "seconds": ...,
        "parse_seconds": ..., "peak_rss_mb": ...}

``seconds`` times the rule call only; ``parse_seconds`` is ``read_pb`` + ``to_election``.
Until the package has ``budgeting.pabulib``, ``budgeting.rules`` and ``budgeting.mes``, the runner
reports ``status: error`` with ``message: "not available: ..."``.

What is called: ``read_pb(path)`` and ``to_election(instance, profile)``
(:mod:`budgeting.pabulib`); the MES family (``mes``, ``mes-add1``, ``mes-greedy``,
``mes-add1-greedy``) through ``budgeting.mes.run_mes_rule(election, rule, tie_break)``; the other
rules through ``budgeting.rules`` (its ``run_rule`` dispatcher when it has one, else the function
named after the rule); the tie-breaking is ``TieBreak.by_id`` (ascending id as a string, as
pabutools' ``lexico_tie_breaking``).
"""

from __future__ import annotations

import inspect
import sys
import time
from typing import Any

from runner_common import run_main

MES_RULES = ("mes", "mes-add1", "mes-greedy", "mes-add1-greedy")


def _tie_argument(function, election, tie_break: str):
    """A ``TieBreak`` or its name, whichever ``function``'s ``tie_break`` parameter takes."""
    from budgeting.election import TieBreak

    try:
        parameter = inspect.signature(function).parameters.get("tie_break")
    except (TypeError, ValueError):
        parameter = None
    annotation = str(parameter.annotation) if parameter is not None else ""
    if "TieBreak" in annotation and "str" not in annotation:
        return TieBreak.by_id(election) if tie_break == "id" else TieBreak.default(election)
    return tie_break


def run(job: dict[str, Any]) -> dict[str, Any]:
    rule = job["rule"]
    try:
        from budgeting import rules as rules_module
        from budgeting.pabulib import read_pb, to_election

        if rule in MES_RULES:
            from budgeting import mes as mes_module
    except ImportError as error:
        return {
            "side": "ours",
            "status": "error",
            "seconds": None,
            "selected": [],
            "message": f"not available: {type(error).__name__}: {error}",
        }

    tie_break = job.get("tie_break", "id")
    started = time.perf_counter()
    instance, profile = read_pb(job["file"])
    election = to_election(instance, profile)
    parse_seconds = time.perf_counter() - started
    print(f"[progress] parsed in {parse_seconds:.2f} s; running {rule}", file=sys.stderr)

    if rule in MES_RULES:
        function = mes_module.run_mes_rule
        call = f"budgeting.mes.run_mes_rule(election, {rule!r}, tie_break)"
        tie = _tie_argument(function, election, tie_break)
        started = time.perf_counter()
        outcome = function(election, rule, tie)
    elif hasattr(rules_module, "run_rule"):
        function = rules_module.run_rule
        call = f"budgeting.rules.run_rule(election, {rule!r}, tie_break)"
        tie = _tie_argument(function, election, tie_break)
        started = time.perf_counter()
        outcome = function(election, rule, tie)
    else:
        function = getattr(rules_module, rule.replace("-", "_"))
        call = f"budgeting.rules.{function.__name__}(election, tie_break)"
        tie = _tie_argument(function, election, tie_break)
        started = time.perf_counter()
        outcome = function(election, tie)
    seconds = time.perf_counter() - started

    selected = [election.ids[j] for j in outcome.selected]
    return {
        "side": "ours",
        "status": "ok",
        "rule": rule,
        "file": job["file"],
        "vote_type": election.vote_type,
        "call": call,
        "selected": selected,
        "cost": str(outcome.cost),
        "budget": str(election.budget),
        "n_ballots": election.n_voters,
        "n_distinct_ballots": len(election.ballots),
        "seconds": seconds,
        "parse_seconds": parse_seconds,
    }


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, "ours", run))
