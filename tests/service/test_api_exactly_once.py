"""Exactly once, across worker processes: ``stadmaken serve --workers 2`` in a subprocess.

100 concurrent submissions of one code give exactly one ballot and exactly one 2xx (the others
409); N distinct codes submitted concurrently give exactly N ballots. On SQLite always and on
PostgreSQL when ``TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from api_helpers import PASSWORD, PROJECTS, SECRET
from sqlalchemy import text

from service.api_auth import add_organiser
from service.db import Database, migrate

SAME_CODE_SUBMISSIONS = 100
DISTINCT_CODES = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    migrate(database_url)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STADMAKEN_SECRET_KEY": SECRET.decode(),
    }
    command = [sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/public/rounds", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("the server did not start: " + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield base, database_url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()
        log.close()


def _post_all(url: str, bodies: list[dict[str, object]]) -> list[int]:
    """POST every body at once, from its own thread and connection."""
    barrier = threading.Barrier(len(bodies))

    def post(body: dict[str, object]) -> int:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_exactly_once_across_worker_processes(
    server: tuple[str, str, subprocess.Popen[bytes]],
) -> None:
    base, database_url, process = server
    assert len(_children(process.pid)) >= 2, "uvicorn should run two worker processes"
    database = Database(database_url)
    try:
        add_organiser(database, "alice", PASSWORD)
        with httpx.Client(base_url=base, timeout=30) as client:
            token = client.post(
                "/api/auth/login", json={"name": "alice", "password": PASSWORD}
            ).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {"name": "Wijkbudget", "budget": 100, "vote_type": "approval", "rule": "greedy"}
            round_id = client.post("/api/rounds", json=body, headers=headers).json()["id"]
            client.put(f"/api/rounds/{round_id}/projects", json=PROJECTS, headers=headers)
            issued = client.post(
                f"/api/rounds/{round_id}/codes",
                json={"count": DISTINCT_CODES + 1},
                headers=headers,
            ).json()["codes"]
            assert client.post(f"/api/rounds/{round_id}/open", headers=headers).status_code == 200
        codes = [item["code"] for item in issued]
        url = f"{base}/api/public/rounds/{round_id}/ballots"

        same = _post_all(url, [{"code": codes[0], "projects": ["a"]}] * SAME_CODE_SUBMISSIONS)
        assert Counter(same) == {201: 1, 409: SAME_CODE_SUBMISSIONS - 1}

        distinct = _post_all(url, [{"code": c, "projects": ["b"]} for c in codes[1:]])
        assert Counter(distinct) == {201: DISTINCT_CODES}

        with database.engine.connect() as connection:
            counts = {
                table: connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE round_id = :r"), {"r": round_id}
                ).scalar_one()
                for table in ("ballot", "code_use")
            }
            by_choice = dict(
                connection.execute(
                    text("SELECT projects, count(*) FROM ballot GROUP BY projects")
                ).all()
            )
        assert counts == {"ballot": 1 + DISTINCT_CODES, "code_use": 1 + DISTINCT_CODES}
        assert by_choice == {'["a"]': 1, '["b"]': DISTINCT_CODES}
    finally:
        database.dispose()
