"""RCTab conformance: our CVR readers and tabulation against RCTab 2.0.0's own regression suite.

Usage (from the repository root, in the project venv)::

    .venv/bin/python benchmarks/rctab_conformance.py
    .venv/bin/python benchmarks/rctab_conformance.py --only test_set_1_exhaust_at_overvote --show

For every contest folder under ``$STADMAKEN_SHARED_DATA/voting/rctab`` (default
``/work/shared/data/voting/rctab``) it reads ``<test>_config.json`` and its CVR files with
:func:`voting.cvr.load_contest`, counts with :func:`voting.rctab.tabulate`, and compares with
``<test>_expected_detailed_report.json`` (``multiPassIrv``: ``<test>_<pass>_expected...``):
the winners, every round's tally per candidate, every round's inactive-ballot counts by reason,
every round's threshold, and the summary ballot and undervote counts. It prints one line per
contest (equal / differs with the first difference / not supported with the reason), the totals,
and exits 1 when a contest differs or fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instances import shared_data_dir  # noqa: E402  (benchmarks/ is on sys.path)

from voting.cvr import load_contest  # noqa: E402
from voting.errors import VotingError  # noqa: E402
from voting.rctab import INACTIVE_REASONS, RctabPass, tabulate  # noqa: E402


def _data_dir() -> Path:
    return shared_data_dir() / "voting" / "rctab"


def _compare(ours: RctabPass, expected: dict[str, Any], ballots: int) -> str | None:
    """The first difference between one pass and one expected report, or None."""
    summary = expected.get("summary", {})
    if "totalNumBallots" in summary and Decimal(summary["totalNumBallots"]) != ballots:
        return f"ballots read: ours {ballots}, RCTab {summary['totalNumBallots']}"
    results = expected["results"]
    exp_winners = [
        t["elected"] for r in results for t in r.get("tallyResults", []) if "elected" in t
    ]
    if sorted(exp_winners) != sorted(ours.winners):
        return f"winners: ours {list(ours.winners)}, RCTab {exp_winners}"
    if len(results) != len(ours.rounds):
        return f"rounds: ours {len(ours.rounds)}, RCTab {len(results)}"
    for exp, got in zip(results, ours.rounds, strict=True):
        n = exp["round"]
        exp_tally = {k: Decimal(v) for k, v in exp["tally"].items()}
        if exp_tally != got.tally:
            keys = sorted(set(exp_tally) | set(got.tally))
            diff = [
                (k, str(got.tally.get(k)), str(exp_tally.get(k)))
                for k in keys
                if exp_tally.get(k) != got.tally.get(k)
            ]
            return f"round {n} tally (candidate, ours, RCTab): {diff[:3]}"
        for reason in (*INACTIVE_REASONS, "finalRoundSurplus"):
            want = Decimal(exp.get("inactiveBallots", {}).get(reason, "0"))
            if got.inactive[reason] != want:
                return f"round {n} inactive {reason}: ours {got.inactive[reason]}, RCTab {want}"
        if Decimal(exp["threshold"]) != got.threshold:
            return f"round {n} threshold: ours {got.threshold}, RCTab {exp['threshold']}"
    if (
        "undervotes" in summary
        and ours.rounds
        and ours.rounds[0].inactive["undervotes"] != Decimal(summary["undervotes"])
    ):
        return (
            f"undervotes: ours {ours.rounds[0].inactive['undervotes']}, "
            f"RCTab {summary['undervotes']}"
        )
    return None


def run_one(folder: Path, show: bool) -> tuple[str, str]:
    configs = sorted(folder.glob("*_config.json"))
    if not configs:
        return "not supported", "no *_config.json"
    config_path = configs[0]
    stem = config_path.name[: -len("_config.json")]
    try:
        profile, config = load_contest(config_path)
        result = tabulate(profile, config)
    except VotingError as exc:
        return "not supported", f"{exc.code}: {exc.describe()}"
    if config.winner_election_mode == "multiPassIrv":
        reports = [
            folder / f"{stem}_{i}_expected_detailed_report.json"
            for i in range(1, len(result.passes) + 1)
        ]
    else:
        reports = [folder / f"{stem}_expected_detailed_report.json"]
    for i, (report, one) in enumerate(zip(reports, result.passes, strict=True), 1):
        if not report.exists():
            return "not supported", f"missing {report.name}"
        expected = json.loads(report.read_text(encoding="utf-8"))
        if show:
            for rnd in one.rounds:
                print(
                    f"  pass {i} round {rnd.round}: thr {rnd.threshold} "
                    f"{ {k: str(v) for k, v in rnd.tally.items()} } "
                    f"inactive { {k: str(v) for k, v in rnd.inactive.items() if v} } "
                    f"elected {rnd.elected} eliminated {rnd.eliminated} {rnd.tiebreaks}"
                )
        diff = _compare(one, expected, result.ballots)
        if diff is not None:
            prefix = f"pass {i}: " if len(reports) > 1 else ""
            return "differs", prefix + diff
    return "equal", f"winners {', '.join(result.winners)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="contest folder names to run")
    parser.add_argument("--show", action="store_true", help="print our rounds")
    args = parser.parse_args(argv)
    data = _data_dir()
    if not data.is_dir():
        print(f"skipped: {data} not found (set STADMAKEN_SHARED_DATA)")
        return 0
    folders = sorted(p for p in data.iterdir() if p.is_dir() and not p.name.startswith("_"))
    if args.only:
        folders = [p for p in folders if p.name in set(args.only)]
    totals: dict[str, int] = {}
    failed = False
    for folder in folders:
        start = time.perf_counter()
        status, detail = run_one(folder, args.show)
        took = time.perf_counter() - start
        totals[status] = totals.get(status, 0) + 1
        failed |= status != "equal"
        print(f"{folder.name:50s} {status:14s} {took:6.1f}s  {detail}", flush=True)
    print(
        "totals: "
        + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
        + f" (of {len(folders)})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
