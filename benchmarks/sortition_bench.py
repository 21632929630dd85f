"""Benchmark: our sortition engine against the anchor ``sortition-algorithms`` (0.12.15).

Run with the project's interpreter::

    .venv/bin/python benchmarks/sortition_bench.py [--instances NAME ...] [--algorithms ALG ...]
        [--anchor/--no-anchor] [--ours/--no-ours] [--timeout 300] [--anchor-cache]

Each (instance, algorithm, side) runs in a fresh subprocess: ours with this interpreter
(``our_runner.py``), the anchor with ``benchmarks/.venv-anchor/bin/python``
(``anchor_runner.py``; set it up with ``benchmarks/setup_anchor.sh``). The anchor is GPL-3.0 and
lives only in that venv; nothing here imports it. One table is printed at the end, the goals are
checked, and every raw result (per-person probabilities included) is saved as JSON in
``benchmarks/results/`` (git-ignored). Anchor results are also kept in
``benchmarks/results/anchor-cache/``; ``--anchor-cache`` reuses them when the instance files, the
job and the anchor's version are the same (the anchor side takes many minutes).

This is a benchmark, not a test: it never fails a build. Its exit code is 0 unless it could not
run at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import run_job  # noqa: E402
from instances import (  # noqa: E402
    ALL_INSTANCES,
    Instance,
    InstanceUnavailableError,
    load_instance,
    write_instance,
)

REPO = HERE.parent
RESULTS = HERE / "results"
ANCHOR_CACHE = RESULTS / "anchor-cache"
ANCHOR_VENV = HERE / ".venv-anchor"
DEFAULT_ALGORITHMS = ("leximin", "maximin", "legacy")
TOLERANCE = 1e-6


@dataclass
class Row:
    instance: str
    n: int
    k: int
    algorithm: str
    ours: dict[str, Any] | None = None
    anchor: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# the two sides


def our_engine_available(python: str) -> str | None:
    """``None`` when ``from sortition import find_distribution`` works, else why not."""
    probe = subprocess.run(
        [python, "-c", "from sortition import Pool, Quotas, find_distribution"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {probe.returncode}"


def anchor_version(python: Path) -> str | None:
    """The installed anchor's version, read from its metadata folder (no import, no subprocess)."""
    if not python.exists():
        return None
    for info in sorted((python.parent.parent / "lib").glob("python*/site-packages/*.dist-info")):
        name = info.name.lower()
        if name.startswith(("sortition_algorithms-", "sortition-algorithms-")):
            return info.name.rsplit(".dist-info", 1)[0].split("-", 1)[1]
    return None


def cache_key(people: Path, quotas: Path, job: dict[str, Any], version: str) -> str:
    digest = hashlib.sha256()
    digest.update(people.read_bytes())
    digest.update(quotas.read_bytes())
    stable = {key: value for key, value in job.items() if key not in ("people", "quotas")}
    digest.update(json.dumps(stable, sort_keys=True).encode())
    digest.update(version.encode())
    return digest.hexdigest()[:16]


def make_job(
    args: argparse.Namespace, instance: Instance, people: Path, quotas: Path, algorithm: str
) -> dict[str, Any]:
    """The JSON job both runners take."""
    return {
        "people": str(people),
        "quotas": str(quotas),
        "k": instance.k,
        "algorithm": algorithm,
        "seed": args.seed,
        "timeout_s": args.timeout,
        "legacy_samples": args.legacy_samples,
    }


def run_anchor(
    args: argparse.Namespace,
    instance: Instance,
    people: Path,
    quotas: Path,
    algorithm: str,
    version: str,
) -> dict[str, Any]:
    job = make_job(args, instance, people, quotas, algorithm)
    key = cache_key(people, quotas, job, version)
    cached = ANCHOR_CACHE / f"{instance.name}-{algorithm}-{key}.json"
    if args.anchor_cache and cached.is_file():
        result: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        result["from_cache"] = str(cached.relative_to(HERE))
        return result
    result = run_job(args.anchor_python, HERE / "anchor_runner.py", job, args.timeout)
    result["job"] = job
    ANCHOR_CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result), encoding="utf-8")
    return result


def run_ours(
    args: argparse.Namespace, instance: Instance, people: Path, quotas: Path, algorithm: str
) -> dict[str, Any]:
    job = make_job(args, instance, people, quotas, algorithm)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = run_job(args.our_python, HERE / "our_runner.py", job, args.timeout, env=env)
    result["job"] = job
    return result


# --------------------------------------------------------------------------------------------
# table and goals


def contended(result: dict[str, Any] | None) -> bool:
    """Whether the run's process got less than 75 % of a core on average (CPU time / wall time).

    The solvers keep at least one core busy, so a lower share means other work on the machine
    took the CPU, and the time is inflated.
    """
    if not result:
        return False
    cpu, wall = result.get("cpu_seconds_os"), result.get("wall_seconds")
    return bool(cpu is not None and wall and wall > 2.0 and cpu / wall < 0.75)


def _seconds(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    status = result.get("status")
    busy = "!" if contended(result) else ""
    if status == "timeout":
        return f">{result['timeout_s']:g}{busy}"
    if status != "ok":
        return "error"
    mark = ""
    if result.get("effective_algorithm") not in (None, result.get("algorithm")):
        mark = "*"
    return f"{result['seconds']:.2f}{mark}{busy}"


def _prob(result: dict[str, Any] | None) -> str:
    if result is None or result.get("status") != "ok":
        return "-"
    mark = "~" if result.get("estimated") else ""
    return f"{mark}{result['min_probability']:.6f}"


def _mb(result: dict[str, Any] | None) -> str:
    if result is None or result.get("peak_rss_mb") is None:
        return "-"
    return f"{result['peak_rss_mb']:.0f}"


def _ok(result: dict[str, Any] | None) -> bool:
    return result is not None and result.get("status") == "ok"


def time_ratio(row: Row) -> tuple[float | None, bool]:
    """anchor seconds / our seconds, and whether it is only a lower bound (anchor timed out)."""
    if not _ok(row.ours) or row.anchor is None:
        return None, False
    assert row.ours is not None
    ours = max(float(row.ours["seconds"]), 1e-9)
    if row.anchor.get("status") == "timeout":
        return float(row.anchor["timeout_s"]) / ours, True
    if not _ok(row.anchor):
        return None, False
    return float(row.anchor["seconds"]) / ours, False


def render_table(rows: Sequence[Row]) -> str:
    header = (
        "instance",
        "n",
        "k",
        "algorithm",
        "ours s",
        "anchor s",
        "anchor/ours",
        "ours min p",
        "anchor min p",
        "diff",
        "ours MB",
        "anchor MB",
    )
    body: list[tuple[str, ...]] = []
    for row in rows:
        ratio, lower = time_ratio(row)
        ratio_text = "-" if ratio is None else f"{'>' if lower else ''}{ratio:.1f}x"
        diff = "-"
        if _ok(row.ours) and _ok(row.anchor):
            assert row.ours is not None and row.anchor is not None
            diff = f"{row.ours['min_probability'] - row.anchor['min_probability']:+.6f}"
        body.append(
            (
                row.instance,
                str(row.n),
                str(row.k),
                row.algorithm,
                _seconds(row.ours),
                _seconds(row.anchor),
                ratio_text,
                _prob(row.ours),
                _prob(row.anchor),
                diff,
                _mb(row.ours),
                _mb(row.anchor),
            )
        )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    left = {0, 3}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


def footnotes(rows: Sequence[Row]) -> list[str]:
    notes: list[str] = []
    if any(
        r.anchor and r.anchor.get("effective_algorithm") == "maximin" and r.algorithm == "leximin"
        for r in rows
    ):
        notes.append(
            "* the anchor has no LEXIMIN without Gurobi: sortition-algorithms switches to MAXIMIN "
            "(message 'gurobi_unavailable_switching'), so its LEXIMIN row is a MAXIMIN run."
        )
    if any((r.anchor or {}).get("estimated") or (r.ours or {}).get("estimated") for r in rows):
        notes.append(
            "~ LEGACY draws one panel per call: its probabilities are estimated from sampled "
            "panels (anchor: --legacy-samples), and its time is for all samples."
        )
    if any(contended(r.ours) or contended(r.anchor) for r in rows):
        notes.append(
            "! the run's process had less than 75 % of a core on average (CPU time / wall "
            "time): other work on the machine took the CPU, so that time is inflated."
        )
    if any((r.anchor or {}).get("status") == "timeout" for r in rows):
        notes.append(">T: killed at the time limit; the ratio is then a lower bound.")
    notes.append(
        "seconds: the algorithm call only; MB: peak resident memory of the run's process; "
        "diff: ours - anchor."
    )
    return notes


GOALS = (
    ("example_large_200", "leximin", 30.0, 0.1),
    ("example_small_20", "leximin", 2.0, None),
    ("generated_1727_110", "leximin", 120.0, None),
)


def check_goals(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    by_key = {(r.instance, r.algorithm): r for r in rows}
    for instance, algorithm, limit, min_p in GOALS:
        row = by_key.get((instance, algorithm))
        label = f"{instance} {algorithm.upper()} <= {limit:g} s" + (
            f" with min probability {min_p:g}" if min_p is not None else ""
        )
        if row is not None and row.ours is not None and row.ours.get("status") == "timeout":
            lines.append(f"  FAIL  {label}: killed at {row.ours['timeout_s']:g} s")
            continue
        if row is None or not _ok(row.ours):
            why = "not run" if row is None or row.ours is None else row.ours.get("status")
            lines.append(f"  N/A   {label} (ours: {why})")
            continue
        assert row.ours is not None
        passed = row.ours["seconds"] <= limit
        detail = f"{row.ours['seconds']:.2f} s"
        if min_p is not None:
            passed = passed and row.ours["min_probability"] >= min_p - TOLERANCE
            detail += f", min p {row.ours['min_probability']:.6f}"
        lines.append(f"  {'PASS' if passed else 'FAIL'}  {label}: {detail}")
    for row in rows:
        if row.algorithm != "maximin":
            continue
        label = f"{row.instance} MAXIMIN ours >= 10x faster, min p no lower (within {TOLERANCE:g})"
        ratio, lower = time_ratio(row)
        if ratio is None:
            ours_status = (row.ours or {}).get("status")
            if ours_status == "timeout" and _ok(row.anchor):
                lines.append(f"  FAIL  {label}: ours killed at the time limit, the anchor finished")
            else:
                anchor_status = (row.anchor or {}).get("status", "not run")
                lines.append(
                    f"  N/A   {label} (ours: {ours_status or 'not run'}, anchor: {anchor_status})"
                )
            continue
        assert row.ours is not None and row.anchor is not None
        fast = ratio >= 10
        if _ok(row.anchor):
            fair = row.ours["min_probability"] >= row.anchor["min_probability"] - TOLERANCE
            fair_text = (
                f"min p {row.ours['min_probability']:.6f} vs {row.anchor['min_probability']:.6f}"
            )
        else:
            fair, fair_text = True, "anchor min p unknown (timed out)"
        verdict = "PASS" if fast and fair else "FAIL"
        if lower and not fast:
            verdict = "N/A "  # the anchor was killed before we could tell
        lines.append(f"  {verdict}  {label}: {'>' if lower else ''}{ratio:.1f}x, {fair_text}")
    return lines


# --------------------------------------------------------------------------------------------


def environment(args: argparse.Namespace, version: str | None) -> dict[str, Any]:
    cpu = ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "anchor": f"sortition-algorithms {version}" if version else None,
        "timeout_s": args.timeout,
        "seed": args.seed,
        "legacy_samples": args.legacy_samples,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare our sortition engine with sortition-algorithms 0.12.15."
    )
    parser.add_argument(
        "--instances",
        nargs="+",
        default=list(ALL_INSTANCES),
        metavar="NAME",
        help=f"instances to run (default: all of {', '.join(ALL_INSTANCES)})",
    )
    parser.add_argument(
        "--algorithms",
        nargs="+",
        default=list(DEFAULT_ALGORITHMS),
        choices=("leximin", "maximin", "nash", "legacy"),
        help="algorithms to run (default: %(default)s)",
    )
    parser.add_argument(
        "--anchor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the anchor library (default: yes)",
    )
    parser.add_argument(
        "--ours",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run our engine (default: yes)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds per run before it is killed (default: 300)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of every run")
    parser.add_argument(
        "--legacy-samples",
        type=int,
        default=1000,
        help="panels drawn (by each side) to estimate LEGACY probabilities (default: 1000)",
    )
    parser.add_argument(
        "--anchor-cache",
        action="store_true",
        help="reuse saved anchor results of the same job instead of rerunning",
    )
    parser.add_argument("--anchor-python", type=Path, default=ANCHOR_VENV / "bin" / "python")
    parser.add_argument("--our-python", default=sys.executable)
    parser.add_argument("--out", type=Path, help="where to save the raw JSON results")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="run nothing: print the table and goals of a saved results file",
    )
    return parser.parse_args(argv)


def print_report(rows: Sequence[Row], env: dict[str, Any], with_goals: bool) -> None:
    print(
        f"environment: {env.get('cores')} cores, {env.get('cpu') or 'cpu unknown'}, Python "
        f"{env.get('python')}, anchor {env.get('anchor') or 'not run'}, "
        f"timeout {env.get('timeout_s'):g} s"
    )
    print(render_table(rows))
    for note in footnotes(rows):
        print(note)
    if with_goals:
        print("goals:")
        for text in check_goals(rows):
            print(text)


def report_saved(path: Path) -> int:
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = [
        Row(r["instance"], r["n"], r["k"], r["algorithm"], r.get("ours"), r.get("anchor"))
        for r in payload["runs"]
    ]
    print_report(rows, payload["environment"], any(r.ours for r in rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        return report_saved(args.report)
    version = anchor_version(args.anchor_python)
    if args.anchor and version is None:
        print(f"anchor: skipped: {args.anchor_python} not found; run benchmarks/setup_anchor.sh")
        args.anchor = False
    if args.ours:
        why = our_engine_available(args.our_python)
        if why is not None:
            print(f"ours: skipped: sortition.find_distribution not importable ({why})")
            args.ours = False

    rows: list[Row] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sortition-bench-") as tmp:
        for name in args.instances:
            try:
                instance = load_instance(name)
            except InstanceUnavailableError as error:
                print(error)
                skipped.append(str(error))
                continue
            people, quotas = write_instance(instance, Path(tmp) / name)
            for algorithm in args.algorithms:
                row = Row(name, instance.n, instance.k, algorithm)
                if args.ours:
                    row.ours = run_ours(args, instance, people, quotas, algorithm)
                if args.anchor:
                    assert version is not None
                    row.anchor = run_anchor(args, instance, people, quotas, algorithm, version)
                rows.append(row)
                print(
                    f"  {name} {algorithm}: ours {_seconds(row.ours)} s "
                    f"(min p {_prob(row.ours)}), anchor {_seconds(row.anchor)} s "
                    f"(min p {_prob(row.anchor)})",
                    flush=True,
                )
                for side, result in (("ours", row.ours), ("anchor", row.anchor)):
                    if result is not None and result.get("message"):
                        print(f"    {side}: {result['status']}: {result['message'][:300]}")

    env = environment(args, version)
    print()
    print_report(rows, env, args.ours)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"bench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    payload = {
        "environment": env,
        "skipped": skipped,
        "runs": [
            {
                "instance": r.instance,
                "n": r.n,
                "k": r.k,
                "algorithm": r.algorithm,
                "ours": r.ours,
                "anchor": r.anchor,
            }
            for r in rows
        ],
    }
    out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    print(f"raw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
