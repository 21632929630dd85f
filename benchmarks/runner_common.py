"""What both runners share: reading the job, measuring the memory, writing the one JSON line.

Imported by ``our_runner.py`` (project venv) and ``anchor_runner.py`` (``.venv-anchor``), which
run as scripts from this folder, so ``sys.path[0]`` is this folder. Standard library only: it
must import in either interpreter. (``harness.py`` is the parent's side of the protocol.)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_job(argv: list[str]) -> dict[str, Any]:
    """The job from argv (JSON text or ``@file``) or, without arguments, from stdin."""
    if len(argv) > 1:
        text = argv[1]
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
    else:
        text = sys.stdin.read()
    job = json.loads(text)
    if not isinstance(job, dict):
        raise ValueError("the job must be a JSON object")
    return job


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kib //= 1024
    return round(kib / 1024, 1)


def run_main(argv: list[str], side: str, run: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Read the job, ``run`` it and write its result (or the error) as one JSON line on stdout.

    ``side`` (``"ours"`` or ``"anchor"``) names the runner in an error result. The exit code is
    0 when the result's ``status`` is ``ok``, else 1.
    """
    started = time.perf_counter()
    # Solvers (HiGHS's banner, for one) may print from C straight to file descriptor 1: point
    # that at stderr for the run and keep the real stdout for the one JSON line.
    sys.stdout.flush()
    json_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        job = read_job(argv)
        result = run(job)
    except Exception as error:
        result = {
            "side": side,
            "status": "error",
            "seconds": None,
            "elapsed_s": time.perf_counter() - started,
            "min_probability": None,
            "probabilities": {},
            "n_panels": 0,
            "message": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(limit=8),
        }
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.flush()
    json_out.write(json.dumps(result) + "\n")
    json_out.flush()
    return 0 if result["status"] == "ok" else 1
