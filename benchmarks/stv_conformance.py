"""Scottish STV conformance: our count against the official 2017 council declarations.

Usage (from the repository root, in the project venv)::

    .venv/bin/python benchmarks/stv_conformance.py
    .venv/bin/python benchmarks/stv_conformance.py --wards shetland_2017_ward4 --show

For each ward folder under ``$STADMAKEN_SHARED_DATA/voting/scotland_2017`` (default
``/work/shared/data/voting/scotland_2017``) it reads ``ballots.blt``, counts it with
:func:`voting.scottish_stv`, and compares every stage's candidate totals (5 decimals) and the
elected set with ``official_ResultsJson.json``. Official names are matched to the ballot file's
names by similarity (the official files have typos such as "Allen" for ALLAN), with the
first-preference totals as a tie-breaker. A benchmark, not a test: it never fails a build and
it skips cleanly when the data are absent.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voting import format_votes, read_blt, scottish_stv  # noqa: E402

# Known mistakes in the official transcriptions: (ward, stage) -> what is wrong.
ERRATA = {
    ("glasgow_2017_ward1", 3): "official file typo: '393' for 303 (stage 2: 293, stage 4: 310)"
}


def _norm(text: str) -> str:
    text = re.sub(r"\(.*?\)", " ", text)
    return " ".join(sorted(re.sub(r"[^a-z ]", " ", text.lower()).split()))


def _match(
    ours: tuple[str, ...],
    first: dict[str, str],
    official: dict[str, str],
    our_first: dict[str, str],
) -> dict[str, str]:
    """Map official candidate key -> our name (greedy on name similarity + stage-1 totals)."""
    scored = []
    for key, label in official.items():
        for name in ours:
            score = difflib.SequenceMatcher(None, _norm(label), _norm(name)).ratio()
            if first.get(key) == our_first.get(name):
                score += 0.5
            scored.append((score, key, name))
    scored.sort(reverse=True)
    out: dict[str, str] = {}
    used: set[str] = set()
    for _, key, name in scored:
        if key not in out and name not in used:
            out[key] = name
            used.add(name)
    return out


def _agree(ours: str, official: str) -> str:
    """``"exact"`` when equal at 5 decimals, ``"printed"`` when the official figure has fewer
    decimals than 5 (trailing zeros aside) and ours rounded or truncated to them equals it,
    else ``"differs"``."""
    value = Fraction(official)
    mine = Fraction(ours)
    if value == mine:
        return "exact"
    places = len(official.partition(".")[2])
    if places < 5:
        scale = 10**places
        down = Fraction(math.floor(mine * scale), scale)
        half_up = Fraction(math.floor(mine * scale + Fraction(1, 2)), scale)
        if value in (down, half_up):
            return "printed"
    return "differs"


def compare(folder: Path) -> dict[str, Any]:
    election = read_blt(folder / "ballots.blt")
    data = json.loads((folder / "official_ResultsJson.json").read_text(encoding="utf-8"))
    info = data["Constituency"]["countInfo"]
    rows = data["Constituency"]["countGroup"]
    start = time.perf_counter()
    result = scottish_stv(election.profile, election.seats, seed="stv-conformance")
    seconds = time.perf_counter() - start
    official: dict[str, str] = {}
    stages: dict[int, dict[str, str]] = {}
    elected_keys: set[str] = set()
    for r in rows:
        key = str(r["Candidate_Id"])
        official[key] = f"{r['Firstname']} {r['Surname']}"
        stages.setdefault(int(r["Count_Number"]), {})[key] = str(r["Total_Votes"]).strip()
        if r["Status"] == "Elected":
            elected_keys.add(key)
    our_first = result.totals_text(1)
    mapping = _match(result.candidates, stages[1], official, our_first)
    first_diff = None
    coarse: set[int] = set()
    detail = ""
    equal = 0
    n_official = max(stages)
    for k in range(1, max(n_official, len(result.stages)) + 1):
        if k > n_official or k > len(result.stages):
            first_diff = first_diff or k
            detail = detail or f"stage count: ours {len(result.stages)}, official {n_official}"
            break
        ours = result.totals_text(k)
        diffs = []
        for key, v in sorted(stages[k].items()):
            verdict = _agree(ours[mapping[key]], v)
            if verdict == "differs":
                diffs.append(f"{mapping[key]}: ours {ours[mapping[key]]}, official {v}")
            elif verdict == "printed":
                coarse.add(k)
        if diffs:
            if first_diff is None:
                first_diff = k
                detail = "; ".join(diffs[:2])
        else:
            equal += 1
    elected_ok = {mapping[k] for k in elected_keys} == set(result.elected)
    return {
        "ward": folder.name,
        "seats": election.seats,
        "valid": election.profile.valid_poll,
        "quota_ok": int(info["Quota"]) == result.quota,
        "stages": n_official,
        "ours": len(result.stages),
        "equal": equal,
        "first_diff": first_diff,
        "detail": detail,
        "coarse": sorted(coarse),
        "erratum": ERRATA.get((folder.name, first_diff)) if first_diff else None,
        "elected_ok": elected_ok,
        "seconds": seconds,
        "table": result.table(),
        "loss": format_votes(sum(s.truncation_loss for s in result.stages)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wards", nargs="*", help="ward folder names (default: all)")
    parser.add_argument("--show", action="store_true", help="print our stage table per ward")
    args = parser.parse_args(argv)
    base = Path(os.environ.get("STADMAKEN_SHARED_DATA", "/work/shared/data"))
    root = base / "voting" / "scotland_2017"
    folders = (
        sorted(p for p in root.glob("*") if (p / "ballots.blt").is_file()) if root.is_dir() else []
    )
    if args.wards:
        folders = [p for p in folders if p.name in set(args.wards)]
    if not folders:
        print(f"skipped: no ward folders under {root}")
        return 0
    header = (
        f"{'ward':34} {'seats':>5} {'valid':>6} {'stages':>6} {'equal':>5} {'elected':>7}"
        "  first differing stage"
    )
    print(header)
    print("-" * len(header))
    all_equal = 0
    printed = 0
    for folder in folders:
        r = compare(folder)
        if r["first_diff"] is None and r["elected_ok"] and r["quota_ok"]:
            all_equal += 1
            diff = "-"
            if r["coarse"]:
                printed += 1
                stages_text = ", ".join(str(k) for k in r["coarse"])
                diff = f"- (stages {stages_text} official figures printed to fewer decimals)"
        elif r["first_diff"] is None:
            diff = "quota differs" if not r["quota_ok"] else "elected set differs"
        else:
            diff = f"{r['first_diff']}: {r['detail']}"
            if r["erratum"]:
                diff += f" [known erratum: {r['erratum']}]"
        print(
            f"{r['ward']:34} {r['seats']:>5} {r['valid']:>6} {r['stages']:>6} "
            f"{r['equal']:>5} {'yes' if r['elected_ok'] else 'NO':>7}  {diff}"
        )
        if args.show:
            print(r["table"])
    print(
        f"\n{all_equal} of {len(folders)} wards equal to the official count in every stage "
        f"({all_equal - printed} at 5 decimals throughout, {printed} where some official "
        "figures are printed to fewer decimals and agree at that precision)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
