"""What the participatory-budgeting benchmark's scripts share: rules, vote types, file facts.

Standard library only: imported by ``pb_anchor_runner.py`` (in ``benchmarks/.venv-pabutools``),
``pb_our_runner.py`` (project venv) and ``pb_bench.py``. It reads ``.pb`` files only for what the
benchmark itself needs (the META section, the official ``selected`` column, per-project vote and
point totals to compare welfare); the rules' own parsing is each side's business.
"""

from __future__ import annotations

import csv
import hashlib
import os
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Our rule names (as ``stadmaken pb --rule`` takes them), in table order.
RULES: tuple[str, ...] = (
    "greedy",
    "greedy-cardinality",
    "max-welfare",
    "mes",
    "mes-add1",
    "mes-greedy",
    "mes-add1-greedy",
    "phragmen",
)

# Which rules run on which vote type. pabutools reads choose-1 ballots as approval ballots (one
# project each), so everything that applies to approval applies to choose-1; sequential Phragmén
# is defined for approval ballots only (pabutools raises ValueError for other profiles).
APPLICABLE: dict[str, tuple[str, ...]] = {
    "approval": RULES,
    "choose-1": RULES,
    "cumulative": tuple(r for r in RULES if r != "phragmen"),
    "scoring": tuple(r for r in RULES if r != "phragmen"),
    "ordinal": tuple(r for r in RULES if r != "phragmen"),
}

# The utility each rule uses, per vote type (the anchor runner turns it into a pabutools
# satisfaction class; it is part of the anchor cache key):
#   "cost"        Cost_Sat: a voter gets the project's cost if the project is on the ballot
#   "cardinality" Cardinality_Sat: 1 per project on the ballot
#   "points"      Additive_Cardinal_Sat: the points the voter gave the project
#   "points-cost" points x cost (an AdditiveSatisfaction built on pabutools' class), so that
#                 greedy's satisfaction-per-cost is the project's total points
# Ordinal ballots are used as approval of every ranked project (pabutools' Cost_Sat and
# Cardinality_Sat test ``project in ballot``, which is exactly that for an OrdinalBallot).
_SAT_APPROVAL = {
    "greedy": "cost",
    "greedy-cardinality": "cardinality",
    "max-welfare": "cost",
    "mes": "cost",
    "mes-add1": "cost",
    "mes-greedy": "cost",
    "mes-add1-greedy": "cost",
    "phragmen": "none",
}
_SAT_POINTS = {
    "greedy": "points-cost",
    "greedy-cardinality": "points",
    "max-welfare": "points",
    "mes": "points",
    "mes-add1": "points",
    "mes-greedy": "points",
    "mes-add1-greedy": "points",
}
SATISFACTION: dict[str, dict[str, str]] = {
    "approval": _SAT_APPROVAL,
    "choose-1": _SAT_APPROVAL,
    "ordinal": _SAT_APPROVAL,
    "cumulative": _SAT_POINTS,
    "scoring": _SAT_POINTS,
}


def data_dir() -> Path:
    """``$STADMAKEN_SHARED_DATA/pb``; default ``/work/shared/data/pb`` or ``../shared``."""
    env = os.environ.get("STADMAKEN_SHARED_DATA")
    if env:
        return Path(env) / "pb"
    default = Path("/work/shared/data/pb")
    if default.is_dir():
        return default
    return REPO.parent / "shared" / "data" / "pb"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rows(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.reader(handle, delimiter=";")


def read_sections(path: Path, *, votes: bool = False) -> dict:
    """META (dict), PROJECTS (list of dicts) and, with ``votes``, VOTES (list of dicts).

    Tolerates a BOM, CRLF and a missing ``key;value`` header line after META.
    """
    meta: dict[str, str] = {}
    projects: list[dict[str, str]] = []
    vote_rows: list[dict[str, str]] = []
    section = ""
    header: list[str] | None = None
    for row in _rows(path):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        first = row[0].strip().lower()
        if first in ("meta", "projects", "votes") and len(row) <= 2:
            section = first
            header = None
            if section == "votes" and not votes:
                break
            continue
        if header is None:
            if section == "meta" and first != "key":
                header = ["key", "value"]  # the header line is missing: this row is data
            else:
                header = [h.strip() for h in row]
                continue
        if section == "meta":
            meta[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
        elif section == "projects":
            projects.append(
                {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
            )
        elif section == "votes":
            vote_rows.append(
                {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
            )
    return {"meta": meta, "projects": projects, "votes": vote_rows}


def file_facts(path: Path) -> dict:
    """vote_type, recorded rule, voters, projects, budget and the official selection (or None)."""
    sections = read_sections(path)
    meta = sections["meta"]
    projects = sections["projects"]
    selected = None
    if projects and "selected" in projects[0]:
        selected = sorted(
            p["project_id"] for p in projects if p.get("selected", "").strip() in ("1", "1.0")
        )
    return {
        "file": path.name,
        "vote_type": meta.get("vote_type", "approval").strip().lower(),
        "rule": meta.get("rule", ""),
        "voters": meta.get("num_votes", ""),
        "projects": len(projects),
        "budget": meta.get("budget", ""),
        "official_selected": selected,
        "bytes": path.stat().st_size,
    }


def project_totals(path: Path) -> dict[str, dict[str, Fraction]]:
    """Per project id: ``cost``, ``votes`` (voters with it on the ballot) and ``points``."""
    sections = read_sections(path, votes=True)
    totals = {
        p["project_id"]: {
            "cost": Fraction(p["cost"].replace(",", ".")),
            "votes": Fraction(0),
            "points": Fraction(0),
        }
        for p in sections["projects"]
    }
    for row in sections["votes"]:
        ids = [v.strip() for v in row.get("vote", "").split(",") if v.strip()]
        pts = [x.strip() for x in row.get("points", "").split(",")] if row.get("points") else []
        for k, pid in enumerate(ids):
            if pid not in totals:
                continue
            totals[pid]["votes"] += 1
            totals[pid]["points"] += Fraction(pts[k]) if k < len(pts) and pts[k] else 1
    return totals


def welfare(totals: dict[str, dict[str, Fraction]], selected, sat: str) -> Fraction:
    """Utilitarian welfare of ``selected`` under the utility ``sat`` (see SATISFACTION)."""
    value = Fraction(0)
    for pid in selected:
        t = totals[pid]
        if sat == "cost":
            value += t["votes"] * t["cost"]
        elif sat == "cardinality":
            value += t["votes"]
        elif sat == "points":
            value += t["points"]
        elif sat == "points-cost":
            value += t["points"] * t["cost"]
    return value
