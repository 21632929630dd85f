"""Run ONE job of OUR sortition engine (package ``sortition``) and print one JSON line.

Runs with the project's interpreter (``.venv/bin/python``) as a subprocess of
``sortition_bench.py``, so that the peak memory is that of this one run. Same protocol as
``anchor_runner.py``:

Job (JSON, as the first argument, as ``@path/to/job.json``, or on stdin)::

    {"people": "people.csv", "quotas": "quotas.csv", "k": 20,
     "algorithm": "leximin",   # leximin | maximin | nash | legacy
     "seed": 1, "timeout_s": 300,
     "legacy_samples": 1000,   # legacy only, if given
     "options": {}}            # optional extra keyword arguments for find_distribution

Output: one JSON line ``{status, seconds, peak_rss_mb, min_probability, probabilities, n_panels,
message, ...}``. ``n_panels`` counts the engine's *compositions* (panels up to swapping
interchangeable people), not sets of ids as the anchor does. ``seconds`` times
``find_distribution`` only (not the import, reading the files
or building the pool); ``peak_rss_mb`` is this process's ``ru_maxrss``. Reading the job and
writing the JSON line are shared with ``anchor_runner.py`` (``runner_common.py``).
"""

from __future__ import annotations

import csv
import inspect
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, cast

from runner_common import run_main

REPO = Path(__file__).resolve().parent.parent


class StderrProgress:
    """A progress callback ``(message, done, total)`` writing ``[progress]`` lines to stderr.

    At most one line a second, except that a new kind of message (its text up to the first
    digit) is always written; the harness keeps the last line when it kills a run, to show how
    far it got.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = -1e9
        self.kind = ""

    def __call__(self, message: str, done: float | None = None, total: float | None = None) -> None:
        now = time.perf_counter()
        kind = re.split(r"\d", message, maxsplit=1)[0]
        if now - self.last >= 1.0 or kind != self.kind:
            of = f"/{total:g}" if total else ""
            at = f" {done:g}{of}" if done is not None else ""
            sys.stderr.write(f"[progress] {now - self.start:.1f}s {message}{at}\n")
            sys.stderr.flush()
            self.last, self.kind = now, kind


def run(job: dict[str, Any]) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from sortition import Pool, Quotas, find_distribution
    from sortition.model import Person

    algorithm = str(job["algorithm"]).lower()
    k = int(job["k"])
    seed = int(job.get("seed", 1))
    options = dict(job.get("options") or {})

    # Read the instance (not timed).
    with open(job["quotas"], newline="", encoding="utf-8") as handle:
        quota_rows = [
            (row["feature"], row["value"], int(row["min"]), int(row["max"]))
            for row in csv.DictReader(handle)
        ]
    with open(job["people"], newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        feature_names = [name for name in reader.fieldnames or [] if name != "id"]
        features_of = {row["id"]: {f: row[f] for f in feature_names} for row in reader}
    pool = Pool(
        tuple(Person(id=pid, features=feats, household=None) for pid, feats in features_of.items())
    )
    quotas = Quotas.from_rows(quota_rows)

    # Pass the job's seed and sample count where the engine takes them (its seed is a string).
    parameters = inspect.signature(find_distribution).parameters
    if "seed" in parameters and "seed" not in options:
        options["seed"] = str(seed)
    if "legacy_samples" in parameters and "legacy_samples" in job and algorithm == "legacy":
        options.setdefault("legacy_samples", int(job["legacy_samples"]))

    if "progress" in parameters and "progress" not in options:
        options["progress"] = StderrProgress()

    start = time.perf_counter()
    # The algorithm name is checked by the engine (a Literal in its signature).
    dist = find_distribution(pool, quotas, k, algorithm=cast(Any, algorithm), **options)
    seconds = time.perf_counter() - start

    probabilities = {str(pid): float(p) for pid, p in dist.probabilities.items()}
    for pid in features_of:  # people the engine left out have probability 0
        probabilities.setdefault(pid, 0.0)
    # The engine's distribution is over compositions (counts per class of interchangeable
    # people); it checks them itself with violations().
    compositions = getattr(dist, "compositions", None)
    problems: list[str] = []
    checker = getattr(dist, "violations", None)
    if callable(checker):
        problems = [str(problem) for problem in checker()][:5]
    total = sum(probabilities.values())
    estimated = bool(getattr(dist, "estimated", algorithm == "legacy"))
    if abs(total - k) > 1e-4 and not estimated:
        problems.append(f"the probabilities add up to {total:.6f}, not k={k}")
    stats = getattr(dist, "stats", None) or {}
    values = list(probabilities.values())
    return {
        "side": "ours",
        "library": "stadmaken sortition",
        "algorithm": algorithm,
        "effective_algorithm": str(getattr(dist, "algorithm", algorithm)),
        "n": len(pool),
        "k": k,
        "n_features": len(feature_names),
        "options": {key: value for key, value in options.items() if _jsonable(value)},
        "status": "ok",
        "seconds": seconds,
        "n_panels": len(compositions) if compositions is not None else None,
        "estimated": estimated,
        "min_probability": min(values),
        "max_probability": max(values),
        "sum_probabilities": total,
        "panels_valid": (not problems) if callable(checker) else None,
        "stats": {key: value for key, value in dict(stats).items() if _jsonable(value)},
        "probabilities": probabilities,
        "message": "; ".join(problems),
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def main(argv: list[str]) -> int:
    return run_main(argv, "ours", run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
