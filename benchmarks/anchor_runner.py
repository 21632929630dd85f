"""Run ONE job of the anchor library ``sortition-algorithms`` and print one JSON line.

This script runs with the anchor's own interpreter (``benchmarks/.venv-anchor/bin/python``,
made by ``benchmarks/setup_anchor.sh``), as a subprocess of ``sortition_bench.py``. It imports
only the standard library, ``runner_common.py`` (standard library only, shared with
``our_runner.py``) and ``sortition_algorithms`` (GPL-3.0), never stadmaken, and stadmaken never
imports it.

Job (JSON, as the first argument, as ``@path/to/job.json``, or on stdin)::

    {"people": "people.csv",   # an ``id`` column plus one column per feature
     "quotas": "quotas.csv",   # feature,value,min,max
     "k": 20,
     "algorithm": "maximin",   # maximin | leximin | legacy | nash
     "seed": 1,
     "timeout_s": 300,         # informative: the parent enforces it by killing this process
     "legacy_samples": 1000}   # legacy only: panels drawn to estimate the probabilities

Output: one JSON line on stdout::

    {"status": "ok" | "error", "seconds": ..., "peak_rss_mb": ..., "min_probability": ...,
     "probabilities": {id: p}, "n_panels": ..., "message": ..., ...}

``seconds`` times the algorithm call only: not the interpreter start, the import or reading the
CSV files. ``peak_rss_mb`` is this process's ``ru_maxrss``: the peak of the whole run (import and
files included), which is what a user's machine must have.

What is called, per algorithm (library version 0.12.15):

* ``maximin``: ``committee_generation.find_distribution_maximin`` (column generation; the ILP and
  the LPs are solved by HiGHS through ``highspy``, the library's default ``solver_backend``), then
  ``standardize_distribution`` as ``core.find_random_sample`` does. The per-person probabilities
  are the sums of the probabilities of the panels that contain the person.
* ``leximin``: ``core.find_random_sample`` switches to MAXIMIN when ``gurobipy`` cannot be
  imported (``GUROBI_AVAILABLE`` is false; report message ``gurobi_unavailable_switching``), and
  ``find_distribution_leximin`` itself raises ``RuntimeError`` without it. This runner does the
  same as ``find_random_sample``: it reports ``effective_algorithm: "maximin"`` and the fallback
  message, and runs MAXIMIN. With ``gurobipy`` installed it would run the real LEXIMIN.
* ``nash``: ``find_distribution_nash`` (HiGHS for the ILP, cvxpy for the convex programme).
* ``legacy``: the greedy algorithm returns ONE panel per call, not a distribution, so the
  probabilities are estimated like the paper did: ``legacy_samples`` panels are drawn with
  ``find_random_sample_legacy`` (``max_attempts=100``, the library's default setting) and each
  person's probability is the share of panels that contain them. ``seconds`` is the time for all
  samples; ``seconds_per_panel`` is also given.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

from runner_common import run_main

ALGORITHMS = ("maximin", "leximin", "legacy", "nash")


class StderrProgress:
    """A ``ProgressReporter`` that writes ``[progress]`` lines to stderr, at most one a second.

    The harness keeps the last one when it kills a run, to show how far it got.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = -1e9
        self.phase = ""
        self.total: int | None = None

    def _say(self, text: str) -> None:
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"[progress] {elapsed:.1f}s {text}\n")
        sys.stderr.flush()
        self.last = time.perf_counter()

    def start_phase(
        self, name: str, total: int | None = None, *, message: str | None = None
    ) -> None:
        self.phase, self.total = name, total
        self._say(f"{name}: start ({message or ''})")

    def update(self, current: int, *, message: str | None = None) -> None:
        if time.perf_counter() - self.last >= 1.0:
            of = f"/{self.total}" if self.total else ""
            self._say(f"{self.phase}: {current}{of} {message or ''}")

    def end_phase(self) -> None:
        self._say(f"{self.phase}: done")


def read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def marginals(
    people_ids: Iterable[str], committees: list[frozenset[str]], probabilities: list[float]
) -> dict[str, float]:
    """Each person's selection probability: the total probability of the panels with them."""
    result = dict.fromkeys(people_ids, 0.0)
    for committee, probability in zip(committees, probabilities, strict=True):
        for person in committee:
            result[person] += probability
    return result


def check_panels(
    committees: Iterable[frozenset[str]],
    people: Any,
    features: Any,
    k: int,
) -> list[str]:
    """Problems with the panels (wrong size, quota broken), at most a few."""
    problems: list[str] = []
    for committee in committees:
        if len(committee) != k:
            problems.append(f"a panel has {len(committee)} members, not {k}")
        for feature_name, values in features.items():
            counts: dict[str, int] = {}
            for person in committee:
                value = people.get_person_dict(person)[feature_name].lower()
                counts[value] = counts.get(value, 0) + 1
            for value_name, minmax in values.items():
                got = counts.get(value_name.lower(), 0)
                if not minmax.min <= got <= minmax.max:
                    problems.append(
                        f"a panel has {got} of {feature_name}/{value_name}, "
                        f"quota [{minmax.min},{minmax.max}]"
                    )
        if len(problems) >= 5:
            break
    return problems


def run(job: dict[str, Any]) -> dict[str, Any]:
    import sortition_algorithms as sa
    from sortition_algorithms.committee_generation import (
        GUROBI_AVAILABLE,
        find_distribution_leximin,
        find_distribution_maximin,
        find_distribution_nash,
        find_random_sample_legacy,
        standardize_distribution,
    )
    from sortition_algorithms.report_messages import get_message
    from sortition_algorithms.settings import DEFAULT_BACKEND
    from sortition_algorithms.utils import override_logging_handlers, set_random_provider

    # The library logs to stdout; our stdout is for the one JSON line.
    override_logging_handlers([logging.NullHandler()], [logging.NullHandler()])

    algorithm = str(job["algorithm"]).lower()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    k = int(job["k"])
    seed = int(job.get("seed", 1))
    legacy_samples = int(job.get("legacy_samples", 1000))

    out: dict[str, Any] = {
        "side": "anchor",
        "library": f"sortition-algorithms=={version('sortition-algorithms')}",
        "solver_backend": DEFAULT_BACKEND,
        "highspy": version("highspy"),
        "gurobi_available": GUROBI_AVAILABLE,
        "algorithm": algorithm,
        "effective_algorithm": algorithm,
    }

    # Read the instance with the library's own readers (not timed).
    features_head, features_body = read_csv(job["quotas"])
    features, _, _ = sa.read_in_features(features_head, features_body, number_to_select=k)
    people_head, people_body = read_csv(job["people"])
    feature_columns = [name for name in people_head if name != "id"]
    settings = sa.Settings(id_column="id", columns_to_keep=[], check_same_address=False)
    people, _ = sa.read_in_people(people_head, people_body, features, settings)
    out["n"] = people.count
    out["k"] = k
    out["n_features"] = len(feature_columns)

    # Seeds both the legacy draws and HiGHS's random_seed (HighsSolver takes it from here).
    set_random_provider(seed)

    if algorithm == "leximin" and not GUROBI_AVAILABLE:
        # What core.find_random_sample does; confirm that the LEXIMIN function cannot run.
        try:
            find_distribution_leximin(features, people, k, [])
        except RuntimeError as error:
            out["leximin_error"] = str(error.args[0])
        out["effective_algorithm"] = "maximin"
        out["fallback"] = get_message("gurobi_unavailable_switching")
        set_random_provider(seed)

    effective = out["effective_algorithm"]
    if effective == "legacy":
        counts = dict.fromkeys(people, 0)
        failures = 0
        distinct: set[frozenset[str]] = set()
        start = time.perf_counter()
        # Keep within the parent's time limit: stop drawing at 80 % of it and say so.
        budget = 0.8 * float(job.get("timeout_s", 300))
        tried = 0
        for _ in range(legacy_samples):
            if time.perf_counter() - start > budget:
                break
            tried += 1
            try:
                committees, _ = find_random_sample_legacy(people, features, k, [], max_attempts=100)
            except sa.SelectionError:
                failures += 1
                continue
            panel = committees[0]
            distinct.add(panel)
            for person in panel:
                counts[person] += 1
        seconds = time.perf_counter() - start
        drawn = tried - failures
        probabilities = {p: c / drawn if drawn else 0.0 for p, c in counts.items()}
        if tried < legacy_samples:
            out["legacy_note"] = f"stopped after {tried} of {legacy_samples} samples (time budget)"
        out.update(
            seconds=seconds,
            seconds_per_panel=seconds / tried if tried else None,
            samples=tried,
            failed_samples=failures,
            n_panels=len(distinct),
            estimated=True,
        )
        panels_to_check: Iterable[frozenset[str]] = distinct
    else:
        find = {
            "maximin": find_distribution_maximin,
            "leximin": find_distribution_leximin,
            "nash": find_distribution_nash,
        }[effective]
        start = time.perf_counter()
        committees, panel_probs, _ = find(
            features, people, k, [], DEFAULT_BACKEND, progress_reporter=StderrProgress()
        )
        committees, panel_probs = standardize_distribution(committees, panel_probs)
        probabilities = marginals(people, committees, panel_probs)
        seconds = time.perf_counter() - start
        out.update(seconds=seconds, n_panels=len(committees), estimated=False)
        panels_to_check = committees

    problems = check_panels(panels_to_check, people, features, k)
    values = list(probabilities.values())
    out.update(
        status="ok",
        min_probability=min(values),
        max_probability=max(values),
        sum_probabilities=sum(values),
        panels_valid=not problems,
        probabilities=probabilities,
        message="; ".join(
            note for note in (*problems, out.get("legacy_note"), out.get("fallback")) if note
        ),
    )
    return out


def main(argv: list[str]) -> int:
    return run_main(argv, "anchor", run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
