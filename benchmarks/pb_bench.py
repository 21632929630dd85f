"""Participatory-budgeting benchmark: our rules against pabutools 1.2.3 on the real pabulib files.

Usage (from the repository root, in the project venv)::

    bash benchmarks/setup_pabutools.sh                      # once
    .venv/bin/python benchmarks/pb_bench.py                 # everything (anchor from the cache)
    .venv/bin/python benchmarks/pb_bench.py --no-anchor     # ours only (cached anchor still shown)
    .venv/bin/python benchmarks/pb_bench.py --no-ours       # fill the anchor cache
    .venv/bin/python benchmarks/pb_bench.py --files Netherlands_Assen_2024 --rules mes mes-add1
    .venv/bin/python benchmarks/pb_bench.py --report benchmarks/results/pb-ours-full.json

A benchmark, not a test: it never fails a build. Each job (file x rule x side) runs in a fresh
subprocess (``harness.run_job``) under a time limit (``--anchor-timeout``, default 300 s;
``--ours-timeout``, default 60 s). pabutools (GPL-3.0) runs only in
``benchmarks/.venv-pabutools`` through ``pb_anchor_runner.py``; this file and ``pb_common.py``
use the standard library only.

Anchor results are cached in ``benchmarks/results/pb-anchor-cache/`` (git-ignored), one JSON per
job, keyed by the file's SHA-256, the rule, the utility, the tie-breaking and the pabutools
version; they are reused unless ``--no-anchor-cache``. A cached time-out is reused only when its
limit was at least the current one. When the anchor's ``mes-add1`` (or ``mes``) timed out on a
file, its ``mes-add1-greedy`` (``mes-greedy``) is not run (it starts with the same computation) and
is recorded as a time-out too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pb_common  # noqa: E402
from harness import run_job  # noqa: E402
from pb_common import APPLICABLE, RULES, SATISFACTION  # noqa: E402

REPO = HERE.parent
RESULTS = HERE / "results"
ANCHOR_CACHE = RESULTS / "pb-anchor-cache"
DEFAULT_ANCHOR_PYTHON = HERE / ".venv-pabutools" / "bin" / "python"
DEFAULT_OUR_PYTHON = REPO / ".venv" / "bin" / "python"
OUR_GOAL_S = 60.0
BIG_FILE = "Poland_Warszawa_2026.pb"

# META ``rule`` values -> our rule that implements it (others: not implemented / not comparable).
OFFICIAL_RULES = {
    "greedy": "greedy",
    "equalshares/add1": "mes-add1",
    "equalshares": "mes",
    "greedy-no-skip": "greedy-no-skip",  # ours only: pabutools has no such rule
}
OURS_ONLY_RULES = ("greedy-no-skip",)


# --------------------------------------------------------------------------------------------
# the two sides


def anchor_version(python: Path) -> str | None:
    """The installed pabutools' version, read from its metadata folder (no import)."""
    if not python.exists():
        return None
    for info in sorted((python.parent.parent / "lib").glob("python*/site-packages/*.dist-info")):
        if info.name.lower().startswith("pabutools-"):
            return info.name.rsplit(".dist-info", 1)[0].split("-", 1)[1]
    return None


def ours_available(python: Path) -> str | None:
    """``None`` when our budgeting modules import, else why not (MES rules: own check per job)."""
    probe = subprocess.run(
        [str(python), "-c", "import budgeting.pabulib, budgeting.rules"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {probe.returncode}"


def _cache_path(path: Path, rule: str, sat: str) -> Path:
    return ANCHOR_CACHE / f"{path.stem}__{rule}__{sat}.json"


def cached_anchor(path: Path, rule: str, sat: str, key: dict[str, Any], timeout: float):
    cached = _cache_path(path, rule, sat)
    if not cached.is_file():
        return None
    entry = json.loads(cached.read_text(encoding="utf-8"))
    if entry.get("key") != key:
        return None
    result = entry["result"]
    if result.get("status") == "timeout" and (result.get("timeout_s") or 0) < timeout:
        return None
    result["from_cache"] = True
    return result


def run_anchor(args, path: Path, rule: str, digest: str, version: str, done: dict) -> dict:
    vote_type = done["vote_type"]
    sat = SATISFACTION[vote_type].get(rule, "none")
    key = {"sha256": digest, "rule": rule, "sat": sat, "tie_break": "id", "pabutools": version}
    if args.anchor_cache:
        hit = cached_anchor(path, rule, sat, key, args.anchor_timeout)
        if hit is not None:
            return hit
    base = {"mes-add1-greedy": "mes-add1", "mes-greedy": "mes"}.get(rule)
    first = done.get(base or "", {})
    if rule == "mes-add1-greedy" and _ok(first) and _exhaustive(done["path"], first["selected"]):
        # completion_by_rule_combination returns the first rule's outcome as soon as it is
        # exhaustive (instance.is_exhaustive), so the greedy stage does nothing: no second run.
        result = dict(first)
        result.pop("from_cache", None)
        result.pop("job_key", None)
        result.update(
            rule=rule,
            derived=True,
            message="derived: the mes-add1 outcome is exhaustive, so "
            "completion_by_rule_combination "
            "returns it unchanged (seconds: those of mes-add1)",
        )
    elif base and first.get("status") == "timeout":
        result = {
            "status": "timeout",
            "seconds": None,
            "timeout_s": done[base].get("timeout_s"),
            "implied": True,
            "message": f"not run: its first stage ({base}) timed out",
        }
    else:
        job = {"file": str(path), "rule": rule, "tie_break": "id", "sat": sat}
        result = run_job(args.anchor_python, HERE / "pb_anchor_runner.py", job, args.anchor_timeout)
    result["job_key"] = key
    ANCHOR_CACHE.mkdir(parents=True, exist_ok=True)
    _cache_path(path, rule, sat).write_text(
        json.dumps({"key": key, "result": result}), encoding="utf-8"
    )
    return result


def _exhaustive(path: Path, selected: Sequence[str]) -> bool:
    """Whether no unselected project fits in the budget left (pabutools' ``is_exhaustive``)."""
    sections = pb_common.read_sections(path)
    budget = Fraction(sections["meta"]["budget"].replace(",", "."))
    costs = {p["project_id"]: Fraction(p["cost"].replace(",", ".")) for p in sections["projects"]}
    left = budget - sum(costs[pid] for pid in selected)
    return all(cost > left for pid, cost in costs.items() if pid not in set(selected))


def run_ours(args, path: Path, rule: str) -> dict:
    job = {"file": str(path), "rule": rule, "tie_break": "id"}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return run_job(args.our_python, HERE / "pb_our_runner.py", job, args.ours_timeout, env=env)


# --------------------------------------------------------------------------------------------
# comparison


def _ok(result: dict | None) -> bool:
    return bool(result) and result.get("status") == "ok"


def compare(row: dict, totals_cache: dict) -> tuple[str, str]:
    """(verdict, detail): equal / differs / welfare-tie / no-anchor / ours-failed / not-run."""
    anchor, ours = row.get("anchor"), row.get("ours")
    if ours is None and anchor is None:
        return "not-run", ""
    if anchor is not None and not _ok(anchor):
        what = "timeout" if anchor.get("status") == "timeout" else "error"
        return "no-anchor", f"pabutools {what}: {str(anchor.get('message', ''))[:120]}"
    if ours is None:
        return "not-run", "ours not run"
    if not _ok(ours) and str(ours.get("message", "")).startswith("not available"):
        return "ours-n/a", str(ours.get("message", ""))[:160]
    if not _ok(ours):
        what = "timeout" if ours.get("status") == "timeout" else "error"
        return "ours-failed", f"ours {what}: {str(ours.get('message', ''))[:160]}"
    if anchor is None:
        return "anchor-pending", "pabutools not run (not in the cache)"
    a, o = set(anchor["selected"]), set(ours["selected"])
    if a == o:
        return "equal", ""
    detail = f"only pabutools: {sorted(a - o)}; only ours: {sorted(o - a)}"
    if row["rule"] == "max-welfare":
        path = Path(row["path"])
        if path not in totals_cache:
            totals_cache[path] = pb_common.project_totals(path)
        sat = SATISFACTION[row["vote_type"]]["max-welfare"]
        wa = pb_common.welfare(totals_cache[path], a, sat)
        wo = pb_common.welfare(totals_cache[path], o, sat)
        detail += f"; welfare pabutools {float(wa):.6g}, ours {float(wo):.6g}"
        if wa == wo:
            return "welfare-tie", detail
    return "differs", detail


SYMBOL = {
    "equal": "=",
    "differs": "≠",
    "welfare-tie": "=w",
    "no-anchor": "A?",
    "ours-failed": "O✗",
    "ours-n/a": "O–",
    "anchor-pending": "A–",
    "not-run": "",
}


def _short(name: str) -> str:
    stem = name.removesuffix(".pb")
    for prefix, short in (
        ("US_Stanford_Dataset_PB_", "US_"),
        ("US_Stanford_Dataset_", "US_"),
        ("Worldwide_Mechanical_Turk_", "MTurk_"),
        ("Netherlands_", "NL_"),
        ("Switzerland_", "CH_"),
    ):
        if stem.startswith(prefix):
            stem = short + stem[len(prefix) :]
    return stem[:42]


def _secs(result: dict | None) -> str:
    if not result:
        return "–"
    if result.get("status") == "timeout":
        return f"> {result.get('timeout_s') or 0:g}"
    if result.get("status") != "ok":
        return "error"
    return f"{result['seconds']:.3f}"


def report(run: dict) -> str:
    rows = run["rows"]
    files = run["files"]
    rules = run["rules"]
    out: list[str] = []
    totals_cache: dict = {}
    verdicts: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        if not row.get("ours_only"):
            verdicts[(row["file"], row["rule"])] = compare(row, totals_cache)

    out.append(f"pabutools {run.get('pabutools')}; ours: {run.get('ours_status')}")
    out.append("")
    out.append("## Conformance (file x rule)")
    out.append("")
    out.append(
        "`=` same set of projects; `=w` (max-welfare) other set of equal welfare (a tie: pabutools "
        "cannot break max-welfare ties); `≠` differs; `A?` pabutools gave no result (time-out or "
        "error); `A–` pabutools not run yet (not in the cache); `O✗` ours failed; `O–` our rule is "
        "not available yet; `·` rule does not apply; empty: not run."
    )
    out.append("")
    out.append("| file | type | " + " | ".join(rules) + " |")
    out.append("|---|---|" + "---|" * len(rules))
    counts: dict[str, int] = {}
    for facts in files:
        cells = []
        for rule in rules:
            if rule not in APPLICABLE[facts["vote_type"]]:
                cells.append("·")
                continue
            verdict, _ = verdicts.get((facts["file"], rule), ("not-run", ""))
            counts[verdict] = counts.get(verdict, 0) + 1
            cells.append(SYMBOL[verdict])
        out.append(
            f"| {_short(facts['file'])} | {facts['vote_type']} | " + " | ".join(cells) + " |"
        )
    out.append("")
    out.append("Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    missing = sorted({v[1] for v in verdicts.values() if v[0] == "ours-n/a"})
    for message in missing:
        out.append(f"Ours {message}")
    diffs = [
        (k, v) for k, v in verdicts.items() if v[0] in ("differs", "welfare-tie", "ours-failed")
    ]
    if diffs:
        out.append("")
        out.append("Differences:")
        for (name, rule), (verdict, detail) in sorted(diffs):
            out.append(f"- {_short(name)} {rule} ({verdict}): {detail}")

    # official outcomes
    out.append("")
    out.append("## Official outcomes (the `selected` column)")
    out.append("")
    out.append("| file | META rule | our rule | ours = official | pabutools = official |")
    out.append("|---|---|---|---|---|")
    by_key = {(r["file"], r["rule"]): r for r in rows}
    for facts in files:
        official = facts.get("official_selected")
        if official is None:
            continue
        wanted = []
        ours_rule = OFFICIAL_RULES.get(facts["rule"])
        if facts["file"].startswith("Netherlands_Assen"):
            wanted.append("mes-add1")
        if ours_rule and ours_rule not in wanted:
            wanted.append(ours_rule)
        if not wanted:
            out.append(
                f"| {_short(facts['file'])} | {facts['rule']} | – (not implemented) | – | – |"
            )
            continue
        for rule in wanted:
            row = by_key.get((facts["file"], rule), {})
            cells = []
            for side in ("ours", "anchor"):
                res = row.get(side)
                if side == "anchor" and row.get("ours_only"):
                    cells.append("– (no such rule)")
                    continue
                if not _ok(res):
                    cells.append("–" if res is None else res.get("status", "–"))
                    continue
                got = set(res["selected"])
                if got == set(official):
                    cells.append("yes")
                else:
                    cells.append(
                        f"no (missing {sorted(set(official) - got)}, "
                        f"extra {sorted(got - set(official))})"
                    )
            out.append(
                f"| {_short(facts['file'])} | {facts['rule']} | {rule} | {cells[0]} | {cells[1]} |"
            )

    # speed
    out.append("")
    out.append("## Speed (rule call only; parsing excluded)")
    out.append("")
    out.append(
        "| rule | jobs both ok | ours s | pabutools s | pabutools/ours | pabutools time-outs |"
    )
    out.append("|---|---|---|---|---|---|")
    for rule in rules:
        both = [
            r for r in rows if r["rule"] == rule and _ok(r.get("ours")) and _ok(r.get("anchor"))
        ]
        t_o = sum(r["ours"]["seconds"] for r in both)
        t_a = sum(r["anchor"]["seconds"] for r in both)
        timeouts = sum(
            1
            for r in rows
            if r["rule"] == rule and (r.get("anchor") or {}).get("status") == "timeout"
        )
        ratio = f"{t_a / t_o:,.0f}×" if t_o > 0 and both else "–"
        out.append(f"| {rule} | {len(both)} | {t_o:.2f} | {t_a:.2f} | {ratio} | {timeouts} |")
    big = by_key.get((BIG_FILE, "mes-add1"), {})
    out.append("")
    out.append(
        f"MES + Add1 on {BIG_FILE}: ours {_secs(big.get('ours'))} s, "
        f"pabutools {_secs(big.get('anchor'))} s"
        + (
            f" (ours parse {big['ours'].get('parse_seconds', 0):.2f} s)"
            if _ok(big.get("ours"))
            else ""
        )
    )
    ours_rows = [r for r in rows if r.get("ours") is not None and not r.get("ours_only")]
    if ours_rows:
        ok = [r for r in ours_rows if _ok(r["ours"])]
        rule_s = sum(r["ours"]["seconds"] for r in ok)
        parse_s = sum(r["ours"].get("parse_seconds") or 0 for r in ok)
        wall_s = sum(r["ours"].get("wall_seconds") or 0 for r in ours_rows)
        # a city computing every rule reads its file once; each job here reads it again
        once: dict[str, float] = {}
        for r in ok:
            seconds = r["ours"].get("parse_seconds") or 0
            once[r["file"]] = min(once.get(r["file"], seconds), seconds)
        once_s = sum(once.values())
        failed = len(ours_rows) - len(ok)
        verdict = "pass" if rule_s + once_s <= OUR_GOAL_S and not failed else "FAIL"
        out.append(
            f"Ours over {len(ours_rows)} file x rule jobs: rules {rule_s:.2f} s; reading each "
            f"file once {once_s:.2f} s, rules + reading {rule_s + once_s:.2f} s (goal ≤ "
            f"{OUR_GOAL_S:g} s: {verdict}{f', {failed} failed' if failed else ''}); reading in "
            f"every job {parse_s:.2f} s; whole subprocesses {wall_s:.1f} s"
        )
    anchor_rows = [r for r in rows if r.get("anchor") is not None]
    if anchor_rows:
        ok = [r for r in anchor_rows if _ok(r["anchor"])]
        out.append(
            f"pabutools: {len(ok)} of {len(anchor_rows)} jobs finished, "
            f"{sum(r['anchor']['seconds'] for r in ok):.1f} s of rule time in the finished ones; "
            f"{sum(1 for r in anchor_rows if r['anchor'].get('status') == 'timeout')} time-outs, "
            f"{sum(1 for r in anchor_rows if r['anchor'].get('status') == 'error')} errors"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="*", help="file names or stems (default: all)")
    parser.add_argument("--rules", nargs="*", choices=RULES, help="default: all that apply")
    parser.add_argument("--anchor", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ours", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--anchor-cache", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--anchor-timeout", type=float, default=300.0)
    parser.add_argument("--ours-timeout", type=float, default=60.0)
    parser.add_argument("--anchor-python", type=Path, default=DEFAULT_ANCHOR_PYTHON)
    parser.add_argument("--our-python", type=Path, default=DEFAULT_OUR_PYTHON)
    parser.add_argument(
        "--data", type=Path, default=None, help="default: $STADMAKEN_SHARED_DATA/pb"
    )
    parser.add_argument("--max-bytes", type=int, default=None, help="skip larger files")
    parser.add_argument(
        "--order",
        choices=("cheap-first", "by-file"),
        default="cheap-first",
        help="cheap-first: every file's fast rules, then the Add1 rules; by-file: file by file",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--report", type=Path, default=None, help="print a saved run, run nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        print(report(json.loads(args.report.read_text(encoding="utf-8"))))
        return 0
    data = args.data or pb_common.data_dir()
    if not data.is_dir():
        print(f"skipped: {data} not found (set STADMAKEN_SHARED_DATA to the folder holding pb/)")
        return 0
    paths = sorted(data.glob("*.pb"), key=lambda p: (p.stat().st_size, p.name))
    if args.files:
        wanted = {f.removesuffix(".pb") for f in args.files}
        paths = [p for p in paths if p.stem in wanted]
    if args.max_bytes:
        paths = [p for p in paths if p.stat().st_size <= args.max_bytes]
    rules = list(args.rules or RULES)

    version = anchor_version(args.anchor_python)
    run_anchor_side = args.anchor
    if run_anchor_side and version is None:
        print(f"anchor: {args.anchor_python} has no pabutools: run benchmarks/setup_pabutools.sh")
        run_anchor_side = False
    ours_status = "not run"
    run_ours_side = args.ours
    if run_ours_side:
        why = ours_available(args.our_python)
        if why:
            ours_status = f"not available ({why})"
            print(f"ours: {ours_status}")
            run_ours_side = False
        else:
            ours_status = "run"

    files = [pb_common.file_facts(p) for p in paths]
    rows: list[dict[str, Any]] = []
    jobs = [
        (path, facts, rule)
        for path, facts in zip(paths, files, strict=True)
        for rule in rules
        if rule in APPLICABLE[facts["vote_type"]]
    ]
    # official outcomes of rules only we implement (ours only; not in the conformance table)
    jobs += [
        (path, facts, OFFICIAL_RULES[facts["rule"]])
        for path, facts in zip(paths, files, strict=True)
        if OFFICIAL_RULES.get(facts["rule"]) in OURS_ONLY_RULES and facts["official_selected"]
    ]
    if args.order == "cheap-first":
        # the Add1 rules re-run MES once per budget step: by far the slowest for pabutools. Run
        # every other job first, then the Add1 ones (Warszawa 2026 first: its time is a goal).
        def order(job):
            path, _, rule = job
            slow = rule in ("mes-add1", "mes-add1-greedy")
            rank = rules.index(rule) if rule in rules else len(rules)
            return (slow, not (slow and path.name == BIG_FILE), path.stat().st_size, rank)

        jobs.sort(key=order)
    digests: dict[Path, str] = {}
    done_by_file: dict[Path, dict[str, Any]] = {}
    started = time.perf_counter()
    for path, facts, rule in jobs:
        if path not in digests:
            digests[path] = pb_common.sha256(path)
        digest = digests[path]
        done = done_by_file.setdefault(path, {"vote_type": facts["vote_type"], "path": path})
        row: dict[str, Any] = {
            "file": path.name,
            "path": str(path),
            "rule": rule,
            "vote_type": facts["vote_type"],
        }
        if rule in OURS_ONLY_RULES:
            row["ours_only"] = True
        elif run_anchor_side or (version and args.anchor_cache):
            if run_anchor_side:
                row["anchor"] = run_anchor(args, path, rule, digest, version, done)
            else:
                sat = SATISFACTION[facts["vote_type"]].get(rule, "none")
                key = {
                    "sha256": digest,
                    "rule": rule,
                    "sat": sat,
                    "tie_break": "id",
                    "pabutools": version,
                }
                row["anchor"] = cached_anchor(path, rule, sat, key, 0)
            if row["anchor"] is not None:
                done[rule] = row["anchor"]
        if run_ours_side:
            row["ours"] = run_ours(args, path, rule)
        rows.append(row)
        a, o = row.get("anchor"), row.get("ours")
        print(
            f"[{time.perf_counter() - started:7.1f} s] {path.name} {rule}: "
            f"pabutools {_secs(a)}{' (cache)' if a and a.get('from_cache') else ''}, "
            f"ours {_secs(o) if o else '–'}",
            file=sys.stderr,
            flush=True,
        )
    file_rank = {f["file"]: i for i, f in enumerate(files)}
    rows.sort(
        key=lambda r: (file_rank[r["file"]], rules.index(r["rule"]) if r["rule"] in rules else 99)
    )

    run = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "pabutools": version,
        "ours_status": ours_status,
        "anchor_timeout": args.anchor_timeout,
        "ours_timeout": args.ours_timeout,
        "files": files,
        "rules": rules,
        "rows": rows,
    }
    out = args.out or RESULTS / f"pb-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(run, indent=1, default=str), encoding="utf-8")
    print(report(run))
    print(f"\n(saved to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
