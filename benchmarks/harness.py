"""Run one runner script in a subprocess under a time limit, and read its JSON line.

Standard library only, shared by ``sortition_bench.py`` for both sides (ours in the project's
venv, the anchor in ``benchmarks/.venv-anchor``). Each job gets a fresh process, so the peak
memory is that of the one run.

The parent enforces the time limit: past ``timeout_s`` it kills the runner's whole process group
and reports ``status: timeout``. It reaps the child with :func:`os.wait4`, whose resource usage
gives the child's peak resident memory even when it was killed (``peak_rss_mb_os``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

POLL_S = 0.02


def _maxrss_mb(kib: int) -> float:
    return round((kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024), 1)


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def run_job(
    python: Path | str,
    script: Path | str,
    job: dict[str, Any],
    timeout_s: float,
    *,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``python script`` with ``job`` on stdin; the runner's JSON result plus bookkeeping.

    Always returns a dict with at least ``status`` (``ok``, ``error`` or ``timeout``),
    ``seconds``, ``min_probability``, ``probabilities``, ``n_panels``, ``peak_rss_mb`` and
    ``message``, ``wall_seconds`` (the whole subprocess, interpreter start included) and
    ``cpu_seconds_os`` (user + system CPU time of the subprocess: above ``wall_seconds`` when the
    solver used both cores).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(python), str(script)],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,  # its own process group, so a kill takes every child too
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout_s:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(POLL_S)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")

    progress = [line for line in stderr.splitlines() if line.startswith("[progress]")]
    last_progress = progress[-1][len("[progress] ") :] if progress else None
    peak_os = _maxrss_mb(usage.ru_maxrss)
    cpu = round(usage.ru_utime + usage.ru_stime, 2)
    if timed_out:
        return {
            "status": "timeout",
            "seconds": None,
            "min_probability": None,
            "probabilities": {},
            "n_panels": 0,
            "peak_rss_mb": peak_os,
            "message": f"killed after {timeout_s:g} s"
            + (f"; last progress: {last_progress}" if last_progress else ""),
            "last_progress": last_progress,
            "wall_seconds": wall,
            "peak_rss_mb_os": peak_os,
            "cpu_seconds_os": cpu,
            "timeout_s": timeout_s,
        }
    result = _last_json_line(stdout)
    if result is None:
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        result = {
            "status": "error",
            "seconds": None,
            "min_probability": None,
            "probabilities": {},
            "n_panels": 0,
            "peak_rss_mb": peak_os,
            "message": f"exit code {proc.returncode}, no JSON result: {tail}",
            "stderr_tail": stderr[-4000:],
        }
    elif result.get("status") != "ok":
        result.setdefault("stderr_tail", stderr[-4000:])
    result["last_progress"] = last_progress
    result["wall_seconds"] = wall
    result["peak_rss_mb_os"] = peak_os
    result["cpu_seconds_os"] = cpu
    result["timeout_s"] = timeout_s
    return result
