"""Count ONE Scottish STV ward with an anchor library and print one JSON line.

This script runs with the anchors' own interpreter (``benchmarks/.venv-voting/bin/python``,
made by ``benchmarks/setup_voting_anchors.sh``), as a subprocess of ``voting_bench.py``. It
imports only the standard library, ``runner_common.py`` and the anchor libraries (pref_voting,
votekit; MIT), never stadmaken; stadmaken never imports them. It reads the ``.blt`` file
itself (:func:`read_blt_plain`, a minimal reader of the same layout as ``voting.blt``).

Job (JSON on stdin, as the first argument, or ``@path/to/job.json``)::

    {"file": "/path/to/ballots.blt", "library": "pref_voting" | "votekit" | "votekit-fast",
     "repeat": 3}

Output (one JSON line on stdout)::

    {"status": "ok", "elected": [candidate names], "seconds": best of ``repeat`` calls,
     "build_seconds": building the library's profile, "parse_seconds": reading the file,
     "call": "...", "version": "...", "peak_rss_mb": ...}

The calls:

* ``pref_voting``: ``pref_voting.proportional_methods.stv_scottish(P, num_seats=seats,
  rng=random.Random(0))`` on a ``ProfileWithTies`` (the ballots are truncated rankings). It is
  pref_voting's implementation of SSI 2007/42 rules 45–52 (float values, truncation to 5
  decimals, history tie-break then lot).
* ``votekit``: ``votekit.elections.STV(P, n_seats=seats, quota="droop", simultaneous=False,
  tiebreak="first_place")``: votekit's general STV, Droop quota ``floor(N/(k+1)) + 1``,
  fractional (inclusive Gregory) transfers in floats without truncation, one candidate elected
  per round. votekit has no Scottish rule; this is its nearest.
* ``votekit-fast``: the same options with ``votekit.elections.FastSTV`` (its numpy
  implementation).
"""

from __future__ import annotations

import random
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from runner_common import run_main


def vm_hwm_mb() -> float | None:
    """Peak resident memory of this process image (``VmHWM``; unlike ``ru_maxrss`` it does not
    carry over the parent's peak across ``fork``/``exec``), in MiB; ``None`` off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def read_blt_plain(path: str) -> tuple[list[str], int, list[tuple[list[int], int]]]:
    """Names, seats and ``(ranking of 0-based indices, weight)`` from a ``.blt`` file.

    Withdrawn candidates (a line of negative numbers after the header) are dropped from the
    rankings (their names stay, so indices are those of the file).
    """
    lines = [s.strip() for s in Path(path).read_text(encoding="utf-8-sig").splitlines()]
    lines = [s for s in lines if s]
    n, seats = (int(x) for x in lines[0].split())
    pos = 1
    withdrawn: set[int] = set()
    if lines[pos].startswith("-"):
        withdrawn = {-int(x) - 1 for x in lines[pos].split()}
        pos += 1
    ballots: list[tuple[list[int], int]] = []
    while lines[pos] != "0":
        nums = [int(x) for x in lines[pos].split()]
        ranking = [c - 1 for c in nums[1:-1] if c - 1 not in withdrawn]
        if ranking and nums[0]:
            ballots.append((ranking, nums[0]))
        pos += 1
    pos += 1
    names: list[str] = []
    while len(names) < n:
        s = lines[pos]
        if s.startswith('"'):
            names.extend(part.strip() for part in s.split('"')[1::2])
        else:
            names.append(s)
        pos += 1
    return names[:n], seats, ballots


def _time_best(fn, repeat: int) -> tuple[Any, float]:
    best = float("inf")
    out = None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return out, best


def run(job: dict[str, Any]) -> dict[str, Any]:
    library = job["library"]
    repeat = int(job.get("repeat", 3))
    started = time.perf_counter()
    names, seats, ballots = read_blt_plain(job["file"])
    parse_seconds = time.perf_counter() - started

    if library == "pref_voting":
        from pref_voting.profiles_with_ties import ProfileWithTies
        from pref_voting.proportional_methods import stv_scottish

        started = time.perf_counter()
        profile = ProfileWithTies(
            [{c: r for r, c in enumerate(ranking, start=1)} for ranking, _ in ballots],
            rcounts=[w for _, w in ballots],
            candidates=list(range(len(names))),
        )
        build_seconds = time.perf_counter() - started
        call = "stv_scottish(ProfileWithTies, num_seats=seats, rng=random.Random(0))"
        elected, seconds = _time_best(
            lambda: stv_scottish(profile, num_seats=seats, rng=random.Random(0)), repeat
        )
        winners = [names[c] for c in elected]
        lib_version = version("pref_voting")
    elif library in ("votekit", "votekit-fast"):
        from votekit.ballot import RankBallot
        from votekit.elections import STV, FastSTV
        from votekit.pref_profile import RankProfile

        started = time.perf_counter()
        labels = [str(i) for i in range(len(names))]
        profile = RankProfile(
            ballots=[
                RankBallot(ranking=[{labels[c]} for c in ranking], weight=w)
                for ranking, w in ballots
            ],
            candidates=labels,
        )
        build_seconds = time.perf_counter() - started
        cls = STV if library == "votekit" else FastSTV
        call = (
            f"{cls.__name__}(RankProfile, n_seats=seats, quota='droop', simultaneous=False, "
            "tiebreak='first_place')"
        )
        if cls is FastSTV:
            call = call.replace("first_place", "borda")

        def count():
            election = cls(
                profile,
                n_seats=seats,
                quota="droop",
                simultaneous=False,
                tiebreak="first_place" if cls is STV else "borda",
            )
            return [c for group in election.get_elected() for c in sorted(group)]

        elected, seconds = _time_best(count, repeat)
        winners = [names[int(c)] for c in elected]
        lib_version = version("votekit")
    else:
        raise ValueError(f"unknown library {library!r}")
    return {
        "side": library,
        "status": "ok",
        "elected": winners,
        "seconds": seconds,
        "build_seconds": build_seconds,
        "parse_seconds": parse_seconds,
        "repeat": repeat,
        "peak_rss_mb_hwm": vm_hwm_mb(),
        "call": call,
        "version": lib_version,
    }


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, "anchor", run))
