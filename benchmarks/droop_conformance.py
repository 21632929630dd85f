"""Conformance with the Droop STV package's reference counts (Scottish STV and Meek).

Usage (from the repository root, in the project venv)::

    .venv/bin/python benchmarks/droop_conformance.py
    .venv/bin/python benchmarks/droop_conformance.py --only scotland
    .venv/bin/python benchmarks/droop_conformance.py --only meek --show SC-meek-o10

Reads ``$STADMAKEN_SHARED_DATA/voting/droop`` (default ``../shared/data/voting/droop``), the test
suite of Droop (J. Lundell, https://github.com/jklundell/droop, GPL-3.0; data only, nothing is
copied into the project):

(a) the 21 Glasgow 2007 wards ``blt/scotland/*-2007.blt`` are counted with
    :func:`voting.scottish_stv` and every stage is compared with Droop's text report
    ``ref/report/scotland/<ward>-scotland-fixed-p5-d5.txt``: each candidate's total (5 decimals,
    exactly), the cumulative non-transferable votes, the cumulative truncation loss (Droop's
    "Residual") and the elected set.
(b) every ``.blt`` with a Meek reference report is counted with :func:`voting.meek.meek_stv` in
    the matching mode and compared round by round (first preferences, then the first state
    listed in each round, which is the end of that round's iteration), quota and surplus, and
    the elected set:

    * ``meek-prf-o6-fixed-p9``: ``arithmetic="fixed", places=9, omega=6``, no batch defeat
      (the PR Foundation reference rule); totals must agree to the last of the 9 decimals.
    * ``meek-o10-rational``: ``arithmetic="exact", omega=10``, batch defeat; the report shows
      12 decimals, so totals must agree within 10^-12.
    * ``meek-o9-guarded-p18-g9``: Droop's guarded fixed point (18 digits + 9 guard digits)
      approximates exact arithmetic, so we count with ``arithmetic="exact", omega=9``, batch
      defeat, and require totals within 10^-15.

Droop breaks ties by a tie-breaking order (the candidates' order in the ``.blt`` file, or its
``[tie ...]`` line), which it regards as random; we pass the same order as ``tie_order``, so a
tie is reported as such but cannot make the counts differ. ``.blt`` option lines are read here:
``[tie ...]`` and ``[withdrawn ...]``; files with equal rankings (``b=c``, the ``meek/eq*``
files) are not run because :class:`voting.Profile` holds strict rankings.

Exit status: 1 if any comparison claimed to be implemented differs, else 0. Data absent: prints
"skipped: ..." and exits 0.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voting import LotNeededError, format_votes, parse_blt, scottish_stv  # noqa: E402
from voting.blt import BltElection  # noqa: E402
from voting.meek import MeekResult, format_value, meek_stv  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from instances import shared_data_dir  # noqa: E402

_STATE = re.compile(r"^\t(Elected|Hopeful|Pending|Defeated|Withdrawn):\s+(.*) \(([-0-9.]+)\)$")
_ZERO_SURPLUS = re.compile(r"^Surplus transferred: .* \(0\.0+\)$")
_FIELD = re.compile(r"^\t(Quota|Surplus|Nontransferable votes|Residual|Votes): ([-0-9.]+)$")


@dataclass
class Block:
    """One ``Action:`` block of a Droop text report."""

    round: int
    action: str
    votes: dict[str, Decimal] = field(default_factory=dict)
    fields: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Report:
    """A Droop text report: header fields and the action blocks."""

    header: dict[str, str]
    blocks: list[Block]


def parse_report(path: Path) -> Report:
    """Parse a Droop ``--report`` text file into its header and action blocks."""
    header: dict[str, str] = {}
    blocks: list[Block] = []
    rnd = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Round "):
            rnd = int(line.split()[1].rstrip(":"))
        elif line.startswith("Action: "):
            blocks.append(Block(rnd, line[len("Action: ") :]))
        elif not blocks and line.startswith("\t") and ": " in line:
            key, _, value = line.strip().partition(": ")
            header[key] = value
        elif blocks:
            m = _STATE.match(line)
            if m:
                for name in m.group(2).split(", "):
                    blocks[-1].votes[name.strip()] = Decimal(m.group(3))
                continue
            m = _FIELD.match(line)
            if m:
                blocks[-1].fields[m.group(1)] = Decimal(m.group(2))
    return Report(header, blocks)


def load_blt(path: Path) -> tuple[BltElection | None, list[str] | None, str]:
    """Read a Droop ``.blt`` with its option lines; return (election, tie order, why not)."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    tie: list[int] | None = None
    kept = [lines[0]]
    for line in lines[1:]:
        s = line.strip()
        if s.startswith("["):
            word, *args = s.strip("[] ").split()
            if word == "tie":
                tie = [int(a) for a in args]
            elif word == "withdrawn":
                kept.append(" ".join(f"-{a}" for a in args))
            elif word == "nick":
                return None, None, "equal rankings / nicknames (Profile holds strict rankings)"
            # [droop ...] options concern other rules; ignored.
            continue
        kept.append(line)
    election = parse_blt("\n".join(kept) + "\n", file=str(path))
    names = election.profile.candidates
    if tie is None:
        order = list(names)
    else:
        # tie numbers are 1-based positions in the file, withdrawn candidates included
        n = int(lines[0].split()[0])
        in_file = [q.strip() for q in re.findall(r'"([^"]*)"', text)[:n]]
        order = [in_file[i - 1] for i in tie if in_file[i - 1] in names]
    return election, order, ""


# --------------------------------------------------------------------------- Scottish STV


def compare_scotland(blt: Path, report: Path) -> tuple[str, str]:
    """Count a ward with scottish_stv and compare every stage with Droop's report."""
    election, _, why = load_blt(blt)
    if election is None:
        return "not run", why
    ref = parse_report(report)
    try:
        result = scottish_stv(election.profile, election.seats)
    except LotNeededError as exc:
        droop_lots = [b.action for b in ref.blocks if b.action.startswith("Break tie by lot")]
        return "lot", f"{exc.message} Droop: {'; '.join(droop_lots) or 'no lot'}"
    snaps = [
        b
        for b in ref.blocks
        if b.action == "Begin Count"
        or b.action.startswith("Surplus transferred")
        or b.action.startswith("Transfer defeated")
    ]
    # Droop makes a stage for the "surplus" of a candidate with exactly the quota (0.00000);
    # SSI 2007/42 rule 48(1) transfers only votes in excess of the quota, so we make none.
    zero = [b for b in snaps if _ZERO_SURPLUS.match(b.action)]
    snaps = [b for b in snaps if b not in zero]
    if len(snaps) != len(result.stages):
        return "differs", f"{len(result.stages)} stages, Droop {len(snaps)}"
    nt = 0
    loss = 0
    compared = 0
    for stage, snap in zip(result.stages, snaps, strict=True):
        nt += stage.non_transferable
        loss += stage.truncation_loss
        ours = {_norm(k): v for k, v in result.totals_text(stage.number).items()}
        for name, value in snap.votes.items():
            if name not in ours:
                return "differs", f"stage {stage.number}: unknown candidate {name!r}"
            if ours[name] != f"{value:.5f}":
                return "differs", f"stage {stage.number} {name}: ours {ours[name]}, Droop {value}"
            compared += 1
        for key, mine in (("Nontransferable votes", nt), ("Residual", loss)):
            if key in snap.fields and format_votes(mine) != f"{snap.fields[key]:.5f}":
                return (
                    "differs",
                    f"stage {stage.number} {key}: ours {format_votes(mine)}, "
                    f"Droop {snap.fields[key]}",
                )
            compared += key in snap.fields
    final = ref.blocks[-1]
    droop_elected = {n for n, _ in _states(report, final) if _ == "Elected"}
    if droop_elected != {_norm(c) for c in result.elected}:
        return "differs", f"elected ours {sorted(result.elected)}, Droop {sorted(droop_elected)}"
    note = f"; Droop's {len(zero)} zero-surplus stage(s) skipped" if zero else ""
    return (
        "equal",
        f"{len(result.stages)} stages, {compared} values, elected {', '.join(result.elected)}"
        + note,
    )


def _norm(name: str) -> str:
    """Droop's reports collapse runs of spaces inside names (Canal: "Ellen   Hurcombe")."""
    return " ".join(name.split())


def _states(report: Path, block: Block) -> list[tuple[str, str]]:
    """(name, state) pairs of the last ``Count Complete`` block (re-read for the state)."""
    out: list[tuple[str, str]] = []
    lines = report.read_text(encoding="utf-8").splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("Action: Count Complete"))
    for line in lines[start + 1 :]:
        m = _STATE.match(line)
        if not m:
            if line.startswith("Action"):
                break
            continue
        out.extend((n.strip(), m.group(1)) for n in m.group(2).split(", "))
    return out


# --------------------------------------------------------------------------- Meek


@dataclass
class MeekMode:
    """How a Droop Meek reference is reproduced, and how closely totals must agree."""

    kwargs: dict[str, object]
    tolerance: Fraction
    note: str


def meek_mode(tag: str, stem: str) -> MeekMode | None:
    """The meek_stv arguments and tolerance that match a Droop reference tag."""
    if tag.startswith("meek-prf-o6-fixed-p9"):
        return MeekMode(
            {"arithmetic": "fixed", "places": 9, "omega": 6, "batch_defeat": False},
            Fraction(0),
            "fixed p9 o6",
        )
    if tag.startswith("meek-o10-rational"):
        return MeekMode(
            {"arithmetic": "exact", "omega": 10, "batch_defeat": True},
            Fraction(1, 10**12),
            "exact o10",
        )
    if tag.startswith("meek-o9-guarded-p18"):
        return MeekMode(
            {"arithmetic": "exact", "omega": 9, "batch_defeat": True},
            Fraction(1, 10**15),
            "exact o9 (for guarded)",
        )
    return None


def _close(ours: Fraction, ref: Decimal, tol: Fraction) -> bool:
    return abs(ours - Fraction(ref)) <= tol


def compare_meek(blt: Path, report: Path, stem: str, tag: str) -> tuple[str, str]:
    """Count with meek_stv in the matching mode and compare with Droop's report."""
    mode = meek_mode(tag, stem)
    if mode is None:
        return "not run", f"no mode for {tag}"
    election, order, why = load_blt(blt)
    if election is None:
        return "not run", why
    result: MeekResult = meek_stv(
        election.profile,
        election.seats,
        tie_order=order,
        **mode.kwargs,  # type: ignore[arg-type]
    )
    ref = parse_report(report)
    tol = mode.tolerance
    cands = tuple(_norm(c) for c in result.candidates)
    names = set(cands)

    compared = 0

    def check(label: str, ours: dict[str, Fraction], block: Block) -> str | None:
        nonlocal compared
        for name, value in block.votes.items():
            if name not in names:
                continue  # withdrawn candidates
            if not _close(ours[name], value, tol):
                places = len(str(value).split(".")[1])
                return f"{label} {name}: ours {format_value(ours[name], places)}, Droop {value}"
            compared += 1
        return None

    begin = next(b for b in ref.blocks if b.action == "Begin Count")
    firsts = dict(zip(cands, result.first_preferences, strict=True))
    diff = check("first preferences", firsts, begin)
    if diff:
        return "differs", diff
    droop_rounds = sorted({b.round for b in ref.blocks if b.round > 0})
    if len(droop_rounds) != len(result.rounds):
        return "differs", f"{len(result.rounds)} rounds, Droop {len(droop_rounds)}"
    for rnd in result.rounds:
        blocks = [b for b in ref.blocks if b.round == rnd.number]
        first = next((b for b in blocks if b.votes), None)
        if first is None:
            return "differs", f"round {rnd.number}: Droop lists no votes"
        diff = check(f"round {rnd.number}", dict(zip(cands, rnd.votes, strict=True)), first)
        if diff:
            return "differs", diff
        # Droop logs an election before it recomputes the surplus: an Elect block shows the
        # previous iteration's surplus, so the surplus is compared in defeat rounds only.
        checks = [("Quota", rnd.quota)]
        if rnd.status != "elected":
            checks.append(("Surplus", rnd.surplus))
        for key, mine in checks:
            if key in first.fields and not _close(mine, first.fields[key], tol):
                return (
                    "differs",
                    f"round {rnd.number} {key}: ours {float(mine)}, Droop {first.fields[key]}",
                )
        droop_defeated = {
            b.action.split(": ", 1)[1]
            for b in blocks
            if b.action.startswith("Defeat") and "remaining" not in b.action
        }
        if droop_defeated != {_norm(c) for c in rnd.defeated}:
            return (
                "differs",
                f"round {rnd.number}: defeated ours {sorted(rnd.defeated)}, "
                f"Droop {sorted(droop_defeated)}",
            )
    droop_elected = {n for n, s in _states(report, ref.blocks[-1]) if s == "Elected"}
    if droop_elected != {_norm(c) for c in result.elected}:
        return "differs", f"elected ours {sorted(result.elected)}, Droop {sorted(droop_elected)}"
    ties = f", {len(result.ties)} tie(s) by Droop's tie order" if result.ties else ""
    return (
        "equal",
        f"[{mode.note}] {len(result.rounds)} rounds, {compared} values, "
        f"elected {', '.join(result.elected)}{ties}",
    )


# --------------------------------------------------------------------------- main

STATUSES = ("equal", "differs", "lot", "not run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("scotland", "meek"), default=None)
    parser.add_argument("--show", default=None, help="print our Meek table for this report stem")
    args = parser.parse_args(argv)
    base = shared_data_dir() / "voting" / "droop"
    if not (base / "blt").is_dir() or not (base / "ref" / "report").is_dir():
        print(f"skipped: Droop reference data not found under {base}")
        return 0
    rows: list[tuple[str, str, str, str]] = []
    jobs: list[tuple[str, str, Callable[[], tuple[str, str]]]] = []
    if args.only in (None, "scotland"):
        for blt in sorted((base / "blt" / "scotland").glob("*.blt")):
            rep = base / "ref" / "report" / "scotland" / f"{blt.stem}-scotland-fixed-p5-d5.txt"
            if not rep.exists():
                rows.append((blt.stem, "scotland-fixed-p5", "not run", "no reference report"))
                continue
            jobs.append(
                (blt.stem, "scotland-fixed-p5", functools.partial(compare_scotland, blt, rep))
            )
    if args.only in (None, "meek"):
        reports = sorted((base / "ref" / "report").rglob("*meek*.txt"))
        for rep in reports:
            m = re.match(r"(.+?)-(meek-.*)\.txt$", rep.name)
            if not m:
                continue
            stem, tag = m.group(1), m.group(2)
            rel = rep.parent.relative_to(base / "ref" / "report")
            blt = base / "blt" / rel / f"{stem}.blt"
            name = str(rel / stem) if str(rel) != "." else stem
            if not blt.exists():
                rows.append((name, tag, "not run", "no .blt file"))
                continue
            jobs.append((name, tag, functools.partial(compare_meek, blt, rep, stem, tag)))
    for name, tag, job in jobs:
        t0 = time.perf_counter()
        try:
            status, detail = job()
        except Exception as exc:  # a crash is a difference, shown with its message
            status, detail = "differs", f"error: {type(exc).__name__}: {exc}"
        rows.append((name, tag, status, f"{detail} ({time.perf_counter() - t0:.2f} s)"))
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    for name, tag, status, detail in rows:
        print(f"{name:<{w1}}  {tag:<{w2}}  {status:<8}  {detail}")
    print()

    def group_of(row: tuple[str, str, str, str]) -> str:
        if row[1].startswith("scotland"):
            return "scotland (Glasgow 2007)" if "-2007" in row[0] else "scotland (edge cases)"
        return "meek"

    for group in ("scotland (Glasgow 2007)", "scotland (edge cases)", "meek"):
        sel = [r for r in rows if group_of(r) == group]
        if sel:
            counts = {s: sum(1 for r in sel if r[2] == s) for s in STATUSES}
            print(
                f"{group}: {len(sel)} references: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
    if args.show:
        for rep in (base / "ref" / "report").rglob(f"{args.show}*.txt"):
            stem, tag = re.match(r"(.+?)-(meek-.*)\.txt$", rep.name).groups()  # type: ignore[union-attr]
            mode = meek_mode(tag, stem)
            election, order, _ = load_blt(
                base / "blt" / rep.parent.relative_to(base / "ref" / "report") / f"{stem}.blt"
            )
            if mode and election:
                r = meek_stv(election.profile, election.seats, tie_order=order, **mode.kwargs)  # type: ignore[arg-type]
                print(f"\n{rep.name}\n{r.table(12)}")
    return 1 if any(r[2] == "differs" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
