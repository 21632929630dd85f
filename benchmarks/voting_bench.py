"""Vote-counting speed: a 1,000,000-ballot instant-runoff count, and Scottish STV per ward
against pref_voting and votekit, side by side in one run.

Usage (from the repository root, in the project venv)::

    bash benchmarks/setup_voting_anchors.sh           # once; idempotent (venv + pip)
    .venv/bin/python benchmarks/voting_bench.py       # both parts
    .venv/bin/python benchmarks/voting_bench.py --no-irv --wards shetland_2017_ward4
    .venv/bin/python benchmarks/voting_bench.py --no-stv --ballots 200000 --candidates 8

(a) IRV: a synthetic profile drawn with a seeded ``numpy.random.default_rng``: Plackett–Luce
rankings of ``--candidates`` candidates (weights from a Dirichlet(2) draw; the Gumbel-max
trick), each truncated to a uniformly drawn length 1..n. The identical papers are merged with
``np.unique`` and handed to :meth:`voting.ballots.Profile.build`; we time the generation, the
build (from the merged pairs, and from one pair per paper), :func:`voting.single.instant_runoff`
(best of ``--repeat``) and, for reference, the plain per-ballot count of the same module, and
check that both give the same :class:`~voting.single.SingleResult`.

(b) Scottish STV: for each ward folder under ``$STADMAKEN_SHARED_DATA/voting/scotland_2017``
(default ``../shared/data``),
each side counts ``ballots.blt`` in its own subprocess (``harness.run_job``): ours
(``voting_our_runner.py``, project venv), pref_voting's ``stv_scottish`` and votekit's ``STV``
and ``FastSTV`` (``voting_anchor_runner.py`` in ``benchmarks/.venv-voting``; see that file for
the exact calls). Per ward: seconds of the count call (best of ``--repeat``; reading the file
and building each library's profile excluded, shown in the JSON), the ratio anchor / ours, the
peak RSS of each subprocess (``VmHWM``), and whether each side's elected set equals the
official declaration (``official_ResultsJson.json``; names matched as in
``stv_conformance.py``).

A benchmark, not a test: it never fails a build; it skips cleanly when the data or the anchor
venv are absent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from harness import run_job  # noqa: E402
from instances import shared_data_dir  # noqa: E402  (benchmarks/ is on sys.path)
from stv_conformance import _match  # noqa: E402

from voting.ballots import Profile  # noqa: E402
from voting.blt import read_blt  # noqa: E402
from voting.single import _count_irv, _PythonIrvTally, instant_runoff  # noqa: E402
from voting.stv import scottish_stv  # noqa: E402

ANCHOR_PYTHON = HERE / ".venv-voting" / "bin" / "python"
OUR_PYTHON = REPO / ".venv" / "bin" / "python"
ANCHORS = ("pref_voting", "votekit", "votekit-fast")
IRV_GOAL_S = 5.0


def data_dir() -> Path:
    return shared_data_dir()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------------------------
# (a) one million ballots, instant-runoff


def synthetic_irv(
    ballots: int, candidates: int, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Merged rows (padded with -1) and their counts of a truncated Plackett–Luce sample."""
    rng = np.random.default_rng(seed)
    support = rng.dirichlet(np.full(candidates, 2.0))
    rows = np.empty((ballots, candidates), dtype=np.int8)
    chunk = 250_000
    for start in range(0, ballots, chunk):
        size = min(chunk, ballots - start)
        keys = np.log(support) + rng.gumbel(size=(size, candidates))
        order = np.argsort(-keys, axis=1).astype(np.int8)
        length = rng.integers(1, candidates + 1, size=size)
        order[np.arange(candidates)[None, :] >= length[:, None]] = -1
        rows[start : start + size] = order
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return [f"C{i + 1}" for i in range(candidates)], unique, counts


def bench_irv(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    names, unique, counts = synthetic_irv(args.ballots, args.candidates, args.seed)
    gen_s = time.perf_counter() - started

    started = time.perf_counter()
    pairs = [
        (tuple(c for c in row if c >= 0), k)
        for row, k in zip(unique.tolist(), counts.tolist(), strict=True)
    ]
    profile = Profile.build(names, pairs)
    build_s = time.perf_counter() - started

    per_paper_s = None
    if args.build_per_paper:
        started = time.perf_counter()
        papers = (
            (list(pair[0]), 1)  # a fresh ranking per paper, as a reader would make
            for pair, k in zip(pairs, counts.tolist(), strict=True)
            for _ in range(k)
        )
        again = Profile.build(names, papers)
        per_paper_s = time.perf_counter() - started
        if again != profile:
            raise RuntimeError("building per paper gave another profile")
        del again

    best = math.inf
    result = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = instant_runoff(profile, seed="voting-bench")
        best = min(best, time.perf_counter() - started)
    started = time.perf_counter()
    plain = _count_irv(profile, _PythonIrvTally(profile), "voting-bench")
    plain_s = time.perf_counter() - started
    assert result is not None
    return {
        "ballots": profile.valid_poll,
        "unique": len(profile.ballots),
        "candidates": len(names),
        "seed": args.seed,
        "generate_s": gen_s,
        "build_s": build_s,
        "build_per_paper_s": per_paper_s,
        "irv_s": best,
        "plain_irv_s": plain_s,
        "identical": plain == result,
        "winner": result.winner,
        "rounds": len(result.rounds),
        "peak_rss_mb": peak_rss_mb(),
    }


def print_irv(r: dict[str, Any]) -> None:
    print("## (a) instant-runoff, synthetic profile\n")
    print(
        f"{r['ballots']:,} ballots, {r['unique']:,} unique rankings, {r['candidates']} candidates "
        f"(truncated Plackett–Luce, numpy seed {r['seed']})"
    )
    print(f"  generate (numpy, incl. np.unique)   {r['generate_s']:8.3f} s")
    print(f"  Profile.build from merged pairs     {r['build_s']:8.3f} s")
    if r["build_per_paper_s"] is not None:
        print(f"  Profile.build, one pair per paper   {r['build_per_paper_s']:8.3f} s")
    verdict = "within" if r["irv_s"] <= IRV_GOAL_S else "OVER"
    print(
        f"  instant_runoff (best)               {r['irv_s']:8.3f} s   ({verdict} the "
        f"{IRV_GOAL_S:g} s goal)"
    )
    print(f"  plain per-ballot count (reference)  {r['plain_irv_s']:8.3f} s")
    print(
        f"  same SingleResult: {r['identical']}; winner {r['winner']} after {r['rounds']} rounds; "
        f"peak RSS of this process {r['peak_rss_mb']} MB\n"
    )


# --------------------------------------------------------------------------------------------
# (b) Scottish STV per ward


def official_elected(folder: Path) -> set[str]:
    """The declared councillors, as our profile's candidate names."""
    election = read_blt(folder / "ballots.blt")
    result = scottish_stv(election.profile, election.seats, seed="voting-bench")
    data = json.loads((folder / "official_ResultsJson.json").read_text(encoding="utf-8"))
    official: dict[str, str] = {}
    first: dict[str, str] = {}
    keys: set[str] = set()
    for row in data["Constituency"]["countGroup"]:
        key = str(row["Candidate_Id"])
        official[key] = f"{row['Firstname']} {row['Surname']}"
        if int(row["Count_Number"]) == 1:
            first[key] = str(row["Total_Votes"]).strip()
        if row["Status"] == "Elected":
            keys.add(key)
    mapping = _match(result.candidates, first, official, result.totals_text(1))
    return {mapping[k] for k in keys}


def bench_stv(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    root = data_dir() / "voting" / "scotland_2017"
    folders = (
        sorted(p for p in root.iterdir() if (p / "ballots.blt").is_file()) if root.is_dir() else []
    )
    if args.wards:
        folders = [p for p in folders if p.name in set(args.wards)]
    if not folders:
        print(f"skipped: no ward folders with ballots.blt under {root} (set STADMAKEN_SHARED_DATA)")
        return None
    anchors = [] if args.no_anchors else list(args.anchors)
    if anchors and not ANCHOR_PYTHON.exists():
        print(
            f"skipped anchors: {ANCHOR_PYTHON} not found (bash benchmarks/setup_voting_anchors.sh)"
        )
        anchors = []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    rows = []
    for folder in folders:
        blt = folder / "ballots.blt"
        election = read_blt(blt)
        row: dict[str, Any] = {
            "ward": folder.name,
            "seats": election.seats,
            "valid": election.profile.valid_poll,
            "unique": len(election.profile.ballots),
            "official": sorted(official_elected(folder)),
        }
        job = {"file": str(blt), "repeat": args.repeat}
        row["ours"] = run_job(
            args.our_python, HERE / "voting_our_runner.py", job, args.timeout, env=env
        )
        for lib in anchors:
            row[lib] = run_job(
                ANCHOR_PYTHON,
                HERE / "voting_anchor_runner.py",
                {**job, "library": lib},
                args.timeout,
            )
        for side in ("ours", *anchors):
            res = row[side]
            res["elected_ok"] = res.get("status") == "ok" and set(res["elected"]) == set(
                row["official"]
            )
        rows.append(row)
        print(
            f"[{folder.name}] "
            + ", ".join(f"{side} {_secs(row[side])} ms" for side in ("ours", *anchors)),
            file=sys.stderr,
            flush=True,
        )
    return rows


def _secs(res: dict[str, Any] | None) -> str:
    if not res:
        return "–"
    if res.get("status") != "ok":
        return str(res.get("status"))
    return f"{res['seconds'] * 1000:.2f}"


def _ratio(res: dict[str, Any] | None, ours: dict[str, Any]) -> float | None:
    if not res or res.get("status") != "ok" or ours.get("status") != "ok":
        return None
    return float(res["seconds"]) / max(float(ours["seconds"]), 1e-9)


def print_stv(rows: list[dict[str, Any]], anchors: list[str]) -> None:
    print("## (b) Scottish STV (SSI 2007/42) per ward: ms of the count call, best of repeat\n")
    short = {"pref_voting": "pref_voting", "votekit": "votekit STV", "votekit-fast": "vk FastSTV"}
    head = "| ward | seats | ballots | unique | ours ms |"
    head += "".join(f" {short[a]} ms |" for a in anchors)
    head += "".join(f" {short[a]}/ours |" for a in anchors)
    head += " elected = official (ours" + "".join(f", {short[a]}" for a in anchors) + ") |"
    head += " peak RSS MB (ours" + "".join(f", {short[a]}" for a in anchors) + ") |"
    print(head)
    print("|" + "---|" * (6 + 2 * len(anchors) + 1))
    ratios: dict[str, list[float]] = {a: [] for a in anchors}
    ok_count = {side: 0 for side in ("ours", *anchors)}
    for row in rows:
        ours = row["ours"]
        cells = [row["ward"], str(row["seats"]), str(row["valid"]), str(row["unique"]), _secs(ours)]
        cells += [_secs(row.get(a)) for a in anchors]
        for a in anchors:
            r = _ratio(row.get(a), ours)
            if r is not None:
                ratios[a].append(r)
            cells.append("–" if r is None else f"{r:.1f}×")
        oks = []
        for side in ("ours", *anchors):
            ok = row[side].get("elected_ok")
            ok_count[side] += bool(ok)
            oks.append("yes" if ok else "NO")
        cells.append(" / ".join(oks))
        cells.append(
            " / ".join(str(row[side].get("peak_rss_mb_hwm", "–")) for side in ("ours", *anchors))
        )
        print("| " + " | ".join(cells) + " |")
    print()
    total_ours = sum(r["ours"]["seconds"] or 0 for r in rows if r["ours"].get("status") == "ok")
    print(f"ours: total {total_ours:.4f} s over {len(rows)} wards")
    for a in anchors:
        vals = ratios[a]
        if not vals:
            continue
        geo = math.exp(statistics.fmean(math.log(v) for v in vals))
        total = sum(r[a]["seconds"] for r in rows if r[a].get("status") == "ok")
        print(
            f"{short[a]}: total {total:.4f} s; {short[a]}/ours min {min(vals):.1f}×, "
            f"median {statistics.median(vals):.1f}×, geometric mean {geo:.1f}×"
        )
    print(
        "elected set = official: "
        + ", ".join(f"{short.get(s, s)} {ok_count[s]}/{len(rows)}" for s in ("ours", *anchors))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-irv", action="store_true", help="skip part (a)")
    parser.add_argument("--no-stv", action="store_true", help="skip part (b)")
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--build-per-paper",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time Profile.build from one (ranking, 1) pair per paper",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed calls; the best is kept")
    parser.add_argument("--wards", nargs="*", help="ward folder names (default: all)")
    parser.add_argument("--anchors", nargs="*", default=list(ANCHORS), choices=ANCHORS)
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--timeout", type=float, default=600.0, help="per subprocess, seconds")
    parser.add_argument("--our-python", type=Path, default=OUR_PYTHON)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.our_python.exists():
        args.our_python = Path(sys.executable)

    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M:%S")}
    if not args.no_irv:
        report["irv"] = bench_irv(args)
        print_irv(report["irv"])
    if not args.no_stv:
        rows = bench_stv(args)
        if rows is not None:
            anchors = [a for a in ANCHORS if a in rows[0]]
            report["stv"] = rows
            print_stv(rows, anchors)
            versions = {
                a: rows[0][a].get("version") for a in anchors if rows[0][a].get("status") == "ok"
            }
            if versions:
                print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
        print(f"\n(saved to {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
