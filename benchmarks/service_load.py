"""Load benchmark and crash test of the voting service (issue 6): ballots per second under load.

A **benchmark, not a test**. It starts ``stadmaken serve --workers N`` (uvicorn with
``service.app:app_from_env``) as a subprocess on a fresh PostgreSQL database (or, with
``--quick``, a SQLite file), sets up one organiser, an approval round with ten projects and
``--codes`` voting codes, then casts one ballot per code at a fixed target rate (an *open loop*:
request ``i`` is due at ``t0 + i / rate`` whether or not earlier ones have been answered, so a
slow server shows up as latency, not as a lower offered load) over ``--connections`` keep-alive
HTTP/1.1 connections. The client is one asyncio process on raw sockets (no HTTP library on the
hot path), to leave the two cores to the server and the database; its CPU share is reported.

What it reports: achieved ballots/s, latency percentiles (from the time a request was *due*,
which includes any wait for a free connection, and from the time it was sent), errors, the CPU
used by the client, the server's worker processes and PostgreSQL, and then, read directly from
the database, the number of ``ballot`` and ``code_use`` rows, which must both equal the number of
201 answers, with every receipt's ``sha256`` present next to the projects that were sent.

``--kill`` (the crash test): half-way through the load the whole server process group (the
``serve`` process and all its workers) gets SIGKILL, and the same command is started again on
the same database; the client keeps going (its connections fail and reconnect). Requests that
failed without an answer are *uncertain* (the transaction may or may not have committed before
the kill); after the load each is sent once more, and must come back either 201 (it was not
stored) or 409 ``already-voted`` (it was). The checks: every acknowledged ballot (every 201
receipt) is in the database with its projects, ``code_use`` rows == ``ballot`` rows (no
half-stored ballot: the design stores the two apart, in one transaction), the database holds
exactly the acknowledged ballots plus the uncertain ones that answered 409, and the restarted
server serves.

Run (see benchmarks/README.md, "Service load (issue 6)")::

    .venv/bin/python benchmarks/service_load.py --quick           # SQLite smoke run, < 1 min
    .venv/bin/python benchmarks/service_load.py                   # PostgreSQL, 2 workers
    .venv/bin/python benchmarks/service_load.py --kill            # the crash test

PostgreSQL: ``--pg-admin-url`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``, trust
auth) is used to create the database ``stadmaken_load_<pid>`` and drop it at the end
(``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "load-benchmark-secret-0123456789abcdef"
PASSWORD = "load-benchmark-password"
PROJECTS = [f"p{i}" for i in range(1, 11)]
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """``stadmaken serve`` in its own process group (so SIGKILL reaches every worker)."""

    def __init__(
        self, url: str, workers: int, port: int, log: Path, extra_path: str | None = None
    ) -> None:
        self.url, self.workers, self.port, self.log = url, workers, port, log
        self.extra_path = extra_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> float:
        """Start and wait until it answers; the seconds that took."""
        env = {**os.environ, "DATABASE_URL": self.url, "STADMAKEN_SECRET_KEY": SECRET}
        if self.extra_path:  # e.g. httptools + uvloop, which uvicorn then picks up
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [self.extra_path, env.get("PYTHONPATH")])
            )
        command = [str(ROOT / ".venv/bin/stadmaken"), "serve", "--workers", str(self.workers)]
        command += ["--port", str(self.port)]
        began = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=log, start_new_session=True, cwd=ROOT
            )
        self.starts += 1
        deadline = began + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}); see {self.log}")
            try:
                status, _ = http_sync(self.port, "GET", "/api/public/rounds")
                if status == 200 and self._workers_ready():
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"the server did not answer within 60 s; see {self.log}")

    def _workers_ready(self) -> bool:
        # uvicorn's supervisor answers nothing itself; wait until every worker has started
        # (one answer may come from the first worker while the others still import).
        return len(self.pids()) >= self.workers + (1 if self.workers > 1 else 0)

    def pids(self) -> list[int]:
        if self.proc is None:
            return []
        return [pid for pid, pgrp, _ in proc_stats() if pgrp == self.proc.pid]

    def kill(self) -> None:
        """SIGKILL the whole process group and reap the ``serve`` process."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


def proc_stats() -> Iterator[tuple[int, int, str]]:
    """(pid, process group, stat line) of every process we can read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        yield int(entry), int(fields[2]), text


def cpu_seconds(text: str) -> float:
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def comm(text: str) -> str:
    return text[text.index("(") + 1 : text.rindex(")")]


@dataclass
class CpuSample:
    wall: float
    client: float
    server: dict[int, float]
    postgres: dict[int, float]
    machine_busy: float
    machine_total: float


def cpu_sample(server: Server) -> CpuSample:
    server_pgrp = server.proc.pid if server.proc else -1
    srv: dict[int, float] = {}
    pg: dict[int, float] = {}
    for pid, pgrp, text in proc_stats():
        if pgrp == server_pgrp:
            srv[pid] = cpu_seconds(text)
        elif comm(text).startswith("postgres"):
            pg[pid] = cpu_seconds(text)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in first]
    idle = ticks[3] + ticks[4]
    return CpuSample(
        time.monotonic(),
        usage.ru_utime + usage.ru_stime,
        srv,
        pg,
        (sum(ticks) - idle) / CLK_TCK,
        sum(ticks) / CLK_TCK,
    )


def cpu_shares(a: CpuSample, b: CpuSample) -> dict[str, float]:
    """CPU used between two samples, in cores (1.0 = one core busy all the time)."""
    wall = b.wall - a.wall

    def grown(x: dict[int, float], y: dict[int, float]) -> float:
        return sum(v - x.get(pid, 0.0) for pid, v in y.items())

    return {
        "client": (b.client - a.client) / wall,
        "server": grown(a.server, b.server) / wall,
        "postgres (all backends)": grown(a.postgres, b.postgres) / wall,
        "machine busy": (b.machine_busy - a.machine_busy) / wall,
    }


def server_flavour(extra_path: str | None) -> str:
    """Which HTTP parser and event loop uvicorn picks ("auto") in the server's environment."""
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = extra_path
    code = (
        "import importlib.util as u;"
        "print(('httptools' if u.find_spec('httptools') else 'h11') + ' + ' +"
        "('uvloop' if u.find_spec('uvloop') else 'asyncio'))"
    )
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", code], env=env, capture_output=True, text=True
    )
    return out.stdout.strip()


# --------------------------------------------------------------------------- HTTP


def http_sync(
    port: int, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """One request on a fresh connection (set-up and checks; not the load)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(data) if data else None
    except ValueError:
        return response.status, data.decode(errors="replace")


class Connection:
    """A keep-alive HTTP/1.1 connection on raw asyncio streams: enough for JSON POSTs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def ballot_request(port: int, round_id: int, code: str, projects: list[str]) -> bytes:
    body = json.dumps({"code": code, "projects": projects}).encode()
    return (
        f"POST /api/public/rounds/{round_id}/ballots HTTP/1.1\r\n"
        f"host: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


# --------------------------------------------------------------------------- the load


@dataclass
class LoadResult:
    sent: int = 0
    ok: dict[int, str] = field(default_factory=dict)  # index -> receipt hash
    latency_due: list[float] = field(default_factory=list)  # of the 201s, seconds
    latency_sent: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)  # non-201 status -> count
    error_samples: list[str] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)  # no answer: stored or not?
    bad_receipts: int = 0
    first_send: float = 0.0
    last_answer: float = 0.0
    kill_at: float | None = None
    restart_seconds: float | None = None
    served_after_restart: int = 0
    acknowledged_before_kill: int = 0


async def run_load(
    port: int,
    requests: list[bytes],
    rate: float,
    connections: int,
    server: Server,
    kill_after: float | None,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    result = LoadResult()
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    restarted = asyncio.Event()
    down = False

    async def producer(t0: float) -> None:
        i, n = 0, len(requests)
        while i < n:
            now = loop.time()
            while i < n and t0 + i / rate <= now:
                queue.put_nowait((i, t0 + i / rate))
                i += 1
            if i < n:
                await asyncio.sleep(max(0.0, t0 + i / rate - loop.time()))
        for _ in range(connections):
            queue.put_nowait(None)

    async def worker() -> None:
        conn = Connection(port)
        while (item := await queue.get()) is not None:
            index, due = item
            while down:  # during the restart: wait rather than fail everything queued
                await restarted.wait()
            sent = loop.time()
            result.sent += 1
            if not result.first_send:
                result.first_send = sent
            try:
                status, body = await conn.post(requests[index])
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
                conn.close()
                result.uncertain.append(index)
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"no answer: {type(error).__name__}: {error}")
                continue
            end = loop.time()
            result.last_answer = end
            if restarted.is_set():
                result.served_after_restart += 1
            if status == 201:
                answer = json.loads(body)
                digest = hashlib.sha256(answer["receipt"].encode()).hexdigest()
                if digest != answer["receipt_hash"]:
                    result.bad_receipts += 1
                result.ok[index] = answer["receipt_hash"]
                result.latency_due.append(end - due)
                result.latency_sent.append(end - sent)
            else:
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{status}: {body[:200].decode(errors='replace')}")
        conn.close()

    async def killer(t0: float) -> None:
        nonlocal down
        assert kill_after is not None
        await asyncio.sleep(max(0.0, t0 + kill_after - loop.time()))
        result.kill_at = loop.time() - t0
        result.acknowledged_before_kill = len(result.ok)
        down = True  # requests not yet sent wait for the restart; those in flight fail
        await loop.run_in_executor(None, server.kill)
        result.restart_seconds = await loop.run_in_executor(None, server.start)
        down = False
        restarted.set()

    t0 = loop.time() + 0.2
    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    tasks.append(asyncio.create_task(producer(t0)))
    if kill_after is not None:
        tasks.append(asyncio.create_task(killer(t0)))
    await asyncio.gather(*tasks)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# --------------------------------------------------------------------------- database


@contextmanager
def database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh database, dropped afterwards."""
    if args.sqlite:
        yield f"sqlite:///{workdir / 'load.db'}"
        return
    import psycopg

    name = f"stadmaken_load_{os.getpid()}"
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = args.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        if args.keep_db:
            print(f"kept the database {name}", file=sys.stderr)
        else:
            with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_ballots(url: str, round_id: int) -> tuple[int, int, dict[str, list[str]]]:
    """(code_use rows, ballot rows, receipt hash -> projects) of the round, read directly."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            uses = conn.execute(
                text("SELECT count(*) FROM code_use WHERE round_id = :r"), {"r": round_id}
            ).scalar_one()
            rows = conn.execute(
                text("SELECT receipt_hash, projects FROM ballot WHERE round_id = :r"),
                {"r": round_id},
            ).all()
    finally:
        engine.dispose()
    return int(uses), len(rows), {h: json.loads(p) for h, p in rows}


# --------------------------------------------------------------------------- set-up


def set_up(url: str, port: int, codes: int) -> tuple[str, int, list[str]]:
    """Organiser, an open approval round with ten projects, ``codes`` codes: (token, id, codes)."""
    from service.api_auth import add_organiser
    from service.db import Database

    db = Database(url)
    try:
        add_organiser(db, "load-organiser", PASSWORD)
    finally:
        db.dispose()
    status, answer = http_sync(
        port, "POST", "/api/auth/login", {"name": "load-organiser", "password": PASSWORD}
    )
    assert status == 200, answer
    token = answer["token"]
    status, answer = http_sync(
        port,
        "POST",
        "/api/rounds",
        {"name": "load test", "budget": 500, "vote_type": "approval", "rule": "greedy"},
        token,
    )
    assert status == 201, answer
    round_id = int(answer["id"])
    projects = [{"id": p, "name": f"project {p}", "cost": 100} for p in PROJECTS]
    status, answer = http_sync(port, "PUT", f"/api/rounds/{round_id}/projects", projects, token)
    assert status == 200, answer
    status, answer = http_sync(port, "POST", f"/api/rounds/{round_id}/open", None, token)
    assert status == 200, answer
    issued: list[str] = []
    while len(issued) < codes:
        batch = min(10_000, codes - len(issued))
        status, answer = http_sync(
            port, "POST", f"/api/rounds/{round_id}/codes", {"count": batch}, token
        )
        assert status == 201, answer
        issued += [c["code"] for c in answer["codes"]]
    return token, round_id, issued


# --------------------------------------------------------------------------- profile


async def asgi_call(
    app: Any, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """One request straight into the ASGI app (no sockets, no HTTP parser)."""
    data = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": data, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    raw = b"".join(chunks)
    return status, json.loads(raw) if raw else None


def profile(url: str, ballots: int, top: int) -> None:
    """Cast ``ballots`` ballots in this process, in one thread, under cProfile.

    FastAPI runs plain ``def`` endpoints and dependencies in a thread pool, which cProfile does
    not see; here they run inline, so the profile shows the whole application path (routing,
    validation, middleware, the endpoint, SQLAlchemy, the driver). It leaves out uvicorn's HTTP
    parsing and the hand-over to the thread pool.
    """
    import cProfile
    import pstats

    import fastapi.dependencies.utils
    import fastapi.routing

    from service.api_auth import add_organiser
    from service.app import create_app
    from service.db import Database, migrate
    from service.settings import Settings

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[attr-defined]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[attr-defined]

    migrate(url)
    db = Database(url)
    add_organiser(db, "load-organiser", PASSWORD)
    app = create_app(Settings(database_url=url, secret_key=SECRET.encode()), database=db)

    async def go() -> None:
        _, answer = await asgi_call(
            app, "POST", "/api/auth/login", {"name": "load-organiser", "password": PASSWORD}
        )
        token = answer["token"]
        _, answer = await asgi_call(
            app,
            "POST",
            "/api/rounds",
            {"name": "profile", "budget": 500, "vote_type": "approval", "rule": "greedy"},
            token,
        )
        rid = answer["id"]
        projects = [{"id": p, "cost": 100} for p in PROJECTS]
        await asgi_call(app, "PUT", f"/api/rounds/{rid}/projects", projects, token)
        await asgi_call(app, "POST", f"/api/rounds/{rid}/open", None, token)
        _, answer = await asgi_call(
            app, "POST", f"/api/rounds/{rid}/codes", {"count": ballots}, token
        )
        codes = [c["code"] for c in answer["codes"]]
        rng = random.Random(6)
        bodies = [
            {"code": c, "projects": sorted(rng.sample(PROJECTS, rng.randint(1, 5)))} for c in codes
        ]
        for body in bodies[:20]:  # warm up (caches, pool)
            await asgi_call(app, "POST", f"/api/public/rounds/{rid}/ballots", body)
        half = (len(bodies) + 20) // 2
        began, cpu = time.perf_counter(), time.process_time()
        for body in bodies[20:half]:
            status, _ = await asgi_call(app, "POST", f"/api/public/rounds/{rid}/ballots", body)
            assert status == 201, status
        n = half - 20
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        print(
            f"{n} ballots, one after another in one thread, not profiled: "
            f"{wall / n * 1000:.2f} ms each, of which {cpu / n * 1000:.2f} ms CPU in this process"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for body in bodies[half:]:
            status, _ = await asgi_call(app, "POST", f"/api/public/rounds/{rid}/ballots", body)
            assert status == 201, status
        profiler.disable()
        n = len(bodies) - half
        print(f"{n} more ballots under cProfile:")
        stats = pstats.Stats(profiler)
        groups: dict[str, float] = {}
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        for (filename, _, _), (_, _, tottime, _, _) in raw.items():
            groups[package_of(filename)] = groups.get(package_of(filename), 0.0) + tottime
        total = sum(groups.values())
        print("own time by package (share of the profiled total):")
        for name, seconds in sorted(groups.items(), key=lambda kv: -kv[1])[:15]:
            print(f"  {name:<28} {seconds / n * 1000:6.3f} ms/ballot  {seconds / total:6.1%}")
        stats.sort_stats("cumulative").print_stats(top)

    asyncio.run(go())
    db.dispose()


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if str(ROOT) in filename:
        return filename.split(str(ROOT) + "/", 1)[1].split("/", 1)[0] + " (stadmaken)"
    if filename.startswith("<") or filename == "~":
        return "builtins (C calls)"
    return "stdlib:" + Path(filename).stem


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--codes", type=int, default=30_000, help="voting codes (30000)")
    parser.add_argument("--rate", type=float, default=600.0, help="target ballots/s (600)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load")
    parser.add_argument("--connections", type=int, default=64, help="client connections (64)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL and restart mid-load")
    parser.add_argument("--kill-after", type=float, default=None, help="seconds (half-way)")
    parser.add_argument("--quick", action="store_true", help="2000 codes, 5 s, SQLite")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "STADMAKEN_LOAD_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--server-path",
        help="a directory put on the server's PYTHONPATH (e.g. one with httptools and uvloop, "
        "installed with pip install --target DIR httptools uvloop)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile N ballots in-process instead (cProfile)"
    )
    args = parser.parse_args(argv)
    if args.profile:
        with tempfile.TemporaryDirectory() as tmp, database(args, Path(tmp)) as url:
            profile(url, args.profile + 20, 40)
        return 0
    if args.quick:
        args.sqlite = True
        args.codes = min(args.codes, 2000)
        args.rate = args.rate if args.rate != 600.0 else 300.0
        args.duration = args.duration or 5.0
    duration = args.duration or args.codes / args.rate
    count = min(args.codes, int(duration * args.rate))
    if count < 1:
        parser.error("nothing to send: raise --codes or --duration")
    kill_after = (args.kill_after or count / args.rate / 2) if args.kill else None

    workdir = Path(tempfile.mkdtemp(prefix="stadmaken-load-"))
    port = free_port()
    log = workdir / "server.log"
    with database(args, workdir) as url:
        server = Server(url, args.workers, port, log, args.server_path)
        try:
            from service.db import migrate

            migrate(url)
            startup = server.start()
            began = time.monotonic()
            _token, round_id, codes = set_up(url, port, args.codes)
            setup_seconds = time.monotonic() - began
            rng = random.Random(6)
            chosen = [sorted(rng.sample(PROJECTS, rng.randint(1, 5))) for _ in range(count)]
            requests = [ballot_request(port, round_id, codes[i], chosen[i]) for i in range(count)]
            backend = "SQLite" if args.sqlite else "PostgreSQL"
            print(
                f"{backend}, {args.workers} workers, started in {startup:.1f} s; set-up "
                f"({len(codes)} codes) {setup_seconds:.1f} s; casting {count} ballots at "
                f"{args.rate:g}/s over {args.connections} connections"
                + (f", SIGKILL after {kill_after:.1f} s" if kill_after else ""),
                file=sys.stderr,
            )
            before = cpu_sample(server)
            result = asyncio.run(
                run_load(port, requests, args.rate, args.connections, server, kill_after)
            )
            after = cpu_sample(server)
            # The uncertain requests (no answer, e.g. at the kill): ask again, once each.
            retried: dict[str, int] = {}
            stored_before = 0
            for index in result.uncertain:
                status, answer = http_sync(
                    port,
                    "POST",
                    f"/api/public/rounds/{round_id}/ballots",
                    {"code": codes[index], "projects": chosen[index]},
                )
                key = str(status) if status != 409 else f"409 {answer.get('code')}"
                retried[key] = retried.get(key, 0) + 1
                if status == 201:
                    result.ok[index] = answer["receipt_hash"]
                elif status == 409 and answer.get("code") == "already-voted":
                    stored_before += 1
            serves_after = http_sync(port, "GET", f"/api/public/rounds/{round_id}")[0] == 200
            uses, ballots, receipts = stored_ballots(url, round_id)
        finally:
            server.stop()
            server_log = log.read_text(errors="replace")
            if "Traceback" in server_log:
                kept = Path(tempfile.mkdtemp(prefix="stadmaken-load-log-")) / "server.log"
                kept.write_text(server_log)
                print(f"the server logged tracebacks: see {kept}", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)

    acknowledged = len(result.ok) - retried.get("201", 0)  # 201 during the load itself
    missing = [i for i, h in result.ok.items() if h not in receipts]
    wrong = [i for i, h in result.ok.items() if h in receipts and receipts[h] != chosen[i]]
    span = max(result.last_answer - result.first_send, 1e-9)
    errors = sum(result.statuses.values()) + len(result.uncertain)
    shares = cpu_shares(before, after)
    figures: dict[str, Any] = {
        "backend": "sqlite" if args.sqlite else "postgresql",
        "server_http_and_loop": server_flavour(args.server_path),
        "workers": args.workers,
        "connections": args.connections,
        "target_rate": args.rate,
        "requests": count,
        "seconds": round(span, 2),
        "ballots_per_s": round(acknowledged / span, 1),
        "acknowledged_201": acknowledged,
        "latency_ms_from_due": {
            f"p{q}": round(1000 * percentile(result.latency_due, q), 1) for q in (50, 95, 99)
        }
        | {"max": round(1000 * max(result.latency_due, default=float("nan")), 1)},
        "latency_ms_from_send": {
            f"p{q}": round(1000 * percentile(result.latency_sent, q), 1) for q in (50, 95, 99)
        },
        "errors": errors,
        "error_statuses": result.statuses,
        "no_answer": len(result.uncertain),
        "error_samples": result.error_samples,
        "bad_receipts": result.bad_receipts,
        "cpu_cores": {k: round(v, 2) for k, v in shares.items()},
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "db_code_use_rows": uses,
        "db_ballot_rows": ballots,
        "acknowledged_missing_in_db": len(missing),
        "acknowledged_with_other_projects": len(wrong),
        "server_log_tracebacks": server_log.count("Traceback"),
    }
    if args.kill:
        figures |= {
            "kill_at_s": round(result.kill_at or 0, 2),
            "restart_s": round(result.restart_seconds or 0, 2),
            "acknowledged_before_kill": result.acknowledged_before_kill,
            "answered_after_restart": result.served_after_restart,
            "uncertain_retried": retried,
            "uncertain_already_stored": stored_before,
            "serves_after_restart": serves_after,
        }
    checks = {
        "db ballots == db code_use": ballots == uses,
        "every acknowledged ballot in db, as sent": not missing and not wrong,
        "receipts hash correctly": result.bad_receipts == 0,
        "server serves at the end": serves_after,
    }
    if args.kill:
        checks["db ballots == acknowledged + uncertain already stored + retried 201"] = (
            ballots == acknowledged + stored_before + retried.get("201", 0)
        )
        checks["every uncertain request resolved (201 or 409 already-voted)"] = retried.get(
            "201", 0
        ) + stored_before == len(result.uncertain)
        checks["served after the restart"] = result.served_after_restart > 0
    else:
        checks["db ballots == 201 answers"] = ballots == acknowledged
        goals = {
            "sustained >= 30 s": span >= 30,
            ">= 500 ballots/s": acknowledged / span >= 500,
            "p99 < 200 ms": percentile(result.latency_due, 99) < 0.2,
            "zero errors": errors == 0,
        }
        figures["goals"] = goals
    figures["checks"] = checks
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if result.latency_due:
        print(
            f"\n{acknowledged} ballots in {span:.1f} s = {acknowledged / span:.0f}/s; latency "
            f"p50 {figures['latency_ms_from_due']['p50']} ms, p95 "
            f"{figures['latency_ms_from_due']['p95']} ms, p99 "
            f"{figures['latency_ms_from_due']['p99']} ms (median of sends "
            f"{statistics.median(result.latency_sent) * 1000:.1f} ms); errors {errors}; "
            f"database: {ballots} ballots, {uses} code uses",
            file=sys.stderr,
        )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
