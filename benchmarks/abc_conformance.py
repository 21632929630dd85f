"""Approval-committee conformance: voting.committee against abcvoting's stored instances.

Usage (from the repository root)::

    .venv/bin/pip install pyyaml        # once: the instance files are YAML
    .venv/bin/python benchmarks/abc_conformance.py
    .venv/bin/python benchmarks/abc_conformance.py --show      # list the committees that differ

It reads every ``*.abc.yaml`` under ``$STADMAKEN_SHARED_DATA/voting/abcvoting_instances`` (default
``../shared/data`` next to the repository). Each file holds a profile (one list of approved
candidate indices per voter), ``committeesize`` and, per abcvoting rule id, the winning
committees with ``resolute: false`` (all of them) and ``resolute: true`` (the committees any one
of which abcvoting's resolute mode may return). For the rule ids implemented here it checks:

* ``all``: :func:`voting.committee.winning_committees` equals the ``resolute: false`` list;
* ``one``: the resolute committee (``tie_break="index"``, abcvoting's lowest-index tie-break)
  is in the ``resolute: true`` list.

It prints a table instance x rule (``=`` both agree, ``differs`` otherwise, ``known`` for a
documented difference of abcvoting's own, see :data:`KNOWN`) and the totals, and exits with
status 1 on any difference that is not documented, 0 otherwise (also when it skips because
the data or PyYAML are absent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instances import shared_data_dir  # noqa: E402  (benchmarks/ is on sys.path)

from voting.ballots import ApprovalProfile  # noqa: E402
from voting.committee import COMMITTEE_METHODS, winning_committees  # noqa: E402

#: abcvoting rule id -> our method name.
RULES = {
    "av": "av",
    "sav": "sav",
    "pav": "pav",
    "cc": "cc",
    "seqphragmen": "seq-phragmen",
    "equal-shares": "mes",
}

#: Documented differences where abcvoting itself is off, (instance, rule id) -> why.
KNOWN = {
    ("instanceS0003", "sav"): (
        "the file (abcvoting, float SAV scores) lists 1 committee; candidates 2 and 5 both "
        "score exactly 1/3+1/3+1/3+1/4+1/5, so 2 committees tie (the data README notes that "
        "the PyPI release 2.19.2 of abcvoting also returns 2)"
    ),
}


def _data_dir() -> Path:
    return shared_data_dir() / "voting" / "abcvoting_instances"


def _load(path: Path) -> dict[str, Any]:
    import yaml  # PyYAML: pip install pyyaml

    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _profile(data: dict[str, Any]) -> ApprovalProfile:
    m = int(data["num_cand"])
    names = [str(c) for c in range(m)]
    return ApprovalProfile.build(names, ((tuple(v), 1) for v in data["profile"]))


def _as_sets(committees: Any) -> list[tuple[int, ...]]:
    return sorted(tuple(sorted(int(c) for c in com)) for com in committees)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print the committees that differ")
    parser.add_argument(
        "--ilp", action="store_true", help="compute PAV and CC by the ILP, not by enumeration"
    )
    args = parser.parse_args(argv)
    algorithm = "ilp" if args.ilp else "auto"
    folder = _data_dir()
    files = sorted(folder.glob("*.abc.yaml"))
    if not files:
        print(f"skipped: no *.abc.yaml files found in {folder} (set STADMAKEN_SHARED_DATA)")
        return 0
    try:
        import yaml  # noqa: F401
    except ImportError:
        print("skipped: PyYAML is not installed (.venv/bin/pip install pyyaml)")
        return 0
    started = time.perf_counter()
    header = ["instance", "m", "n", "k", *RULES]
    rows: list[list[str]] = []
    counts = {"equal": 0, "differs": 0, "known": 0}
    details: list[str] = []
    for path in files:
        data = _load(path)
        name = path.name.removesuffix(".abc.yaml")
        profile = _profile(data)
        k = int(data["committeesize"])
        expected: dict[tuple[str, bool], list[tuple[int, ...]]] = {}
        for entry in data["compute"]:
            if entry.get("result") is None:  # abcvoting stored no result (rule not computed)
                continue
            expected[(entry["rule_id"], bool(entry["resolute"]))] = _as_sets(entry["result"])
        row = [name, str(len(profile.candidates)), str(len(data["profile"])), str(k)]
        for rule_id, ours in RULES.items():
            want_all = expected.get((rule_id, False))
            want_one = expected.get((rule_id, True), want_all)
            if want_all is None or want_one is None:
                row.append("-")
                continue
            extra = {"algorithm": algorithm} if ours in ("pav", "cc") else {}
            got_all = _as_sets(winning_committees(profile, k, ours, **extra))  # type: ignore[arg-type]
            result = COMMITTEE_METHODS[ours](profile, k, tie_break="index", **extra)
            got_one = tuple(sorted(int(c) for c in result.committee))
            ok = got_all == want_all and got_one in want_one
            if ok:
                status = "equal"
            elif (name, rule_id) in KNOWN:
                status = "known"
            else:
                status = "differs"
            counts[status] += 1
            row.append({"equal": "=", "differs": "differs", "known": "known"}[status])
            if not ok and args.show:
                details.append(
                    f"{name} {rule_id}: all ours={got_all} abcvoting={want_all}; "
                    f"resolute ours={got_one} in abcvoting's: {got_one in want_one}"
                )
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    print(
        f"\n{total} instance x rule checks: {counts['equal']} equal, {counts['known']} known "
        f"differences, {counts['differs']} differ ({seconds:.1f} s)"
    )
    for (name, rule_id), why in KNOWN.items():
        print(f"known: {name} {rule_id}: {why}")
    for line in details:
        print(line)
    return 1 if counts["differs"] else 0


if __name__ == "__main__":
    sys.exit(main())
