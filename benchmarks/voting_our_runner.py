"""Count ONE Scottish STV ward with our package and print one JSON line.

Runs in the project's venv (``.venv/bin/python``) as a subprocess of ``voting_bench.py``, with
the repository on ``PYTHONPATH``, so that its peak memory is that of one count (as the anchors'
in ``voting_anchor_runner.py``)::

    {"file": "/path/to/ballots.blt", "repeat": 3}
    -> {"status": "ok", "elected": [names in order of election], "seconds": best of repeat,
        "parse_seconds": ..., "peak_rss_mb": ...}

``seconds`` times ``voting.stv.scottish_stv(profile, seats, seed=...)`` only; ``parse_seconds``
is ``voting.blt.read_blt`` (reading the file and building the :class:`~voting.ballots.Profile`).
"""

from __future__ import annotations

import sys
import time
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


def run(job: dict[str, Any]) -> dict[str, Any]:
    from voting.blt import read_blt
    from voting.stv import scottish_stv

    repeat = int(job.get("repeat", 3))
    started = time.perf_counter()
    election = read_blt(job["file"])
    parse_seconds = time.perf_counter() - started
    best = float("inf")
    result = None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = scottish_stv(election.profile, election.seats, seed="voting-bench")
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return {
        "side": "ours",
        "status": "ok",
        "elected": list(result.elected),
        "seconds": best,
        "build_seconds": 0.0,
        "parse_seconds": parse_seconds,
        "repeat": repeat,
        "peak_rss_mb_hwm": vm_hwm_mb(),
        "call": "voting.stv.scottish_stv(profile, seats, seed='voting-bench')",
        "stages": len(result.stages),
        "lots": len(result.lots),
    }


if __name__ == "__main__":
    sys.exit(run_main(sys.argv, "ours", run))
