"""Sortition draws over the API: upload, feasibility, a background run, commit, reveal, replace.

The organiser's side (``/api/draws``) does what ``stadmaken draw commit|reveal|replace`` do
(:mod:`service.cli`), with the database in place of the files:

1. ``POST /api/draws/check`` reads a pool file and a quota file (multipart; CSV or Excel) and
   says whether a panel of the size exists (:func:`sortition.check_quotas`); a malformed file
   is a 422 naming the file, row and column (the core's :class:`sortition.SortitionError`),
   infeasible quotas come with the smallest relaxation.
2. ``POST /api/draws`` does the same checks, pseudonymises the pool at once
   (:func:`sortition.audit.pseudonymise`; the uploaded files are not kept, the private mapping
   pseudonym → id is) and answers **202** with a job that computes the distribution
   (LEXIMIN by default, as the command line), rounds it to a lottery over ``panels`` panels and
   builds the audit bundle with its commitment (:func:`sortition.audit.commit`).
3. ``POST /api/draws/{id}/publish`` makes the commitment and the bundle public, before the
   randomness source (announced with the draw) has produced its value.
4. ``POST /api/draws/{id}/reveal`` with that value as the seed selects the panel
   (:func:`sortition.audit.reveal`); ``POST /api/draws/{id}/replacements`` replaces a member
   who withdraws by the first eligible reserve of the recorded seed's order
   (:func:`sortition.audit.replace`).

Councils (``/api/draws/councils``, public ``/api/public/draws/councils``) do what ``stadmaken
council init|reveal|replace|renew|status`` do (:mod:`sortition.council`, docs/council.md): the
private council state and each round's bundle live in the database; the first draw and each
renewal are background jobs like a draw's (their inputs are kept in the job row, household keys
as keyed hashes, and cleared when the job ends); a round's bundle is public from its commitment
on; reveal and replacements (``step_down``, by real id) answer at once.

``GET /api/draws/{id}/bundle`` and ``GET /api/public/draws/{id}/bundle`` give the bundle as the
command line writes it (:func:`service.common.bundle_bytes`), so ``stadmaken verify`` and the
stand-alone ``docs/verify_bundle.py`` check it. The public side shows only pseudonyms.

Background jobs
---------------
A run goes to a pool of worker *processes* (``multiprocessing`` spawn context; size
``STADMAKEN_DRAW_WORKERS``, default 1) owned by the server process that accepted it, so a long
LEXIMIN run holds neither the event loop nor the GIL of the process that answers requests. The
job's state (``queued``/``running``/``done``/``failed``), its progress figure and message live in
``sortition_job``, so every worker process of the server answers ``GET /api/draws/{id}`` alike.
While a job is queued or running, its owning server process refreshes ``heartbeat_at`` every
:data:`HEARTBEAT_SECONDS`. **A restart**: a job whose heartbeat is older than
:data:`STALE_SECONDS` belonged to a process that stopped; it is **marked failed** (message
``interrupted``) the first time it is read or the draw is written, and is *not* requeued
automatically: the organiser starts it again with ``POST /api/draws/{id}/run`` (a run is
deterministic apart from the solver, and nothing is public before the commitment exists, so a
rerun is harmless; an automatic requeue could run one job twice in two processes).

Every organiser action is appended to the audit log with ids, counts and settings only; no id
of a person, file content or seed mapping ever goes into the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select, update

from service import audit
from service.api_common import (
    DB,
    ERROR_RESPONSES,
    ApiError,
    AppSettings,
    CurrentOrganiser,
    Id,
    Text,
    not_found,
    owned,
    utcnow,
)
from service.common import bundle_bytes, software_version
from service.db import Database
from service.models import Organiser
from service.models_draws import CouncilBundle, DrawJob, SortitionCouncil, SortitionDraw

if TYPE_CHECKING:
    from sortition import Pool, Quotas, SortitionError
    from sortition.council import CouncilState, CouncilTerms
    from sortition.council import Member as SeatedMember

__all__ = [
    "HEARTBEAT_SECONDS",
    "STALE_SECONDS",
    "organiser_router",
    "public_router",
    "router",
    "run_job",
]

logger = logging.getLogger("stadmaken.service.draws")

router = APIRouter()
organiser_router = APIRouter(
    prefix="/api/draws", tags=["draws (organiser)"], responses=ERROR_RESPONSES
)
public_router = APIRouter(
    prefix="/api/public/draws", tags=["draws (public and auditors)"], responses=ERROR_RESPONSES
)

#: Largest pool or quota file accepted (bytes).
MAX_FILE_BYTES: Final = 10_000_000
#: Largest pool (people).
MAX_POOL: Final = 100_000
#: The owning process refreshes a queued or running job's heartbeat this often (seconds).
HEARTBEAT_SECONDS: Final = 5.0
#: A job whose heartbeat is older than this (seconds) was interrupted.
STALE_SECONDS: Final = 60.0
#: Progress is written to the database at most this often (seconds).
_PROGRESS_INTERVAL: Final = 0.5
_ACTIVE_JOB: Final = ("queued", "running")
_EXCEL: Final = (".xlsx", ".xlsm", ".xls")

# --------------------------------------------------------------------------- errors


def _display_name(upload: UploadFile, default: str) -> str:
    """The uploaded file's base name, if it is a plain printable name; else ``default``."""
    name = FilePath(upload.filename or "").name
    if not name or len(name) > 100 or not re.fullmatch(r"[\w .()+,-]+", name):
        return default
    return name


def _core_error(
    error: SortitionError, *, pool_file: str | None = None, quota_file: str | None = None
) -> ApiError:
    """A 4xx for an error of the sortition core, naming file, row and column.

    When the core names no file, the file it is about is filled in as the command line does
    (:func:`service.common.reported_errors`).
    """
    from sortition import AuditError, InfeasibleQuotasError, InputError, QuotaError

    if error.file is None:
        if isinstance(error, QuotaError):
            if error.code == "pool-too-small":
                error.file = pool_file
            elif error.code != "bad-size":
                error.file = quota_file
        elif isinstance(error, InputError):
            error.file = pool_file
    extra: dict[str, Any] = {"file": error.file, "row": error.row, "column": error.column}
    if isinstance(error, InfeasibleQuotasError):
        extra["suggestion"] = [change.describe() for change in error.suggestion]
    status = 422
    if isinstance(error, AuditError) and error.code == "no-replacement":
        status = 409
    elif not isinstance(error, InputError | QuotaError | AuditError):
        status = 500
    return ApiError(status, error.code, error.describe(), extra)


# --------------------------------------------------------------------------- reading the files


def _save(folder: str, role: str, upload: UploadFile) -> FilePath:
    """Write an upload to ``folder`` (its extension kept when it is Excel's); refuse big ones."""
    data = upload.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(
            413, "too-large", f"the {role} file is larger than {MAX_FILE_BYTES} bytes", {}
        )
    suffix = FilePath(upload.filename or "").suffix.lower()
    path = FilePath(folder) / f"{role}{suffix if suffix in _EXCEL else '.csv'}"
    path.write_bytes(data)
    return path


def _read_files(
    pool_upload: UploadFile,
    quotas_upload: UploadFile,
    *,
    size: int,
    households: Sequence[str],
    id_column: str,
) -> tuple[Pool, Quotas]:
    """Read and check the files; every problem is an :class:`ApiError` naming the place."""
    from sortition import PoolStructure, SortitionError, check_quotas, read_people, read_quotas

    pool_name = _display_name(pool_upload, "pool.csv")
    quota_name = _display_name(quotas_upload, "quotas.csv")
    with tempfile.TemporaryDirectory(prefix="stadmaken-draw-") as folder:
        quota_path = _save(folder, "quotas", quotas_upload)
        pool_path = _save(folder, "pool", pool_upload)
        names = {str(quota_path): quota_name, str(pool_path): pool_name}
        try:
            quotas = read_quotas(quota_path)
            pool = read_people(
                pool_path, quotas, id_column=id_column, household_columns=list(households)
            )
            if len(pool) > MAX_POOL:
                raise ApiError(413, "too-large", f"the pool has more than {MAX_POOL} people")
            check_quotas(PoolStructure.build(pool, quotas, size))
        except SortitionError as error:
            if error.file is not None:
                error.file = names.get(error.file, error.file)
            raise _core_error(error, pool_file=pool_name, quota_file=quota_name) from None
    return pool, quotas


def _plain(**fields: str) -> None:
    """Refuse control characters in form fields, and a blank source."""
    for label, text in fields.items():
        if any(ord(c) < 32 or ord(c) == 127 for c in text) or (
            label == "source" and not text.strip()
        ):
            raise ApiError(422, "invalid-request", f"invalid request: {label}")


def _columns(value: str) -> list[str]:
    columns = [name.strip() for name in value.split(",")] if value.strip() else []
    if not all(columns):
        raise ApiError(422, "bad-households", "give household columns separated by commas")
    return columns


# --------------------------------------------------------------------------- stored pool


def _pool_document(pool: Pool, quotas: Quotas) -> str:
    people = [
        {
            "id": p.id,
            "household": p.household,
            "values": {f: p.features[f] for f in quotas.features},
        }
        for p in pool.people
    ]
    return json.dumps({"people": people}, ensure_ascii=False)


def _quotas_document(quotas: Quotas) -> str:
    return json.dumps([[q.feature, q.value, q.min, q.max] for q in quotas.quotas])


def _stored_inputs(draw: SortitionDraw) -> tuple[Pool, Quotas]:
    from sortition import Person, Pool, Quotas

    quotas = Quotas.from_rows(tuple(row) for row in json.loads(draw.quotas_json))
    people = json.loads(draw.pool_json)["people"]
    pool = Pool(tuple(Person(p["id"], dict(p["values"]), p["household"]) for p in people))
    return pool, quotas


def _bundle(draw: SortitionDraw) -> dict[str, Any]:
    if draw.bundle_json is None:
        raise ApiError(409, "not-computed", "the draw has not been computed yet")
    value: dict[str, Any] = json.loads(draw.bundle_json)
    return value


def _store_bundle(draw: SortitionDraw, bundle: dict[str, Any]) -> None:
    draw.bundle_json = bundle_bytes(bundle).decode("utf-8")


# --------------------------------------------------------------------------- the worker


class _JobProgress:
    """The core's progress callback: writes the figure and message at most every 0.5 s."""

    def __init__(self, database: Database, job_id: int) -> None:
        self.database = database
        self.job_id = job_id
        self.last = 0.0
        self.base, self.span = 0.0, 0.0

    def phase(self, message: str, start: float, end: float) -> None:
        self.base, self.span = start, end - start
        self.write(start, message, force=True)

    def __call__(self, message: str, done: int, total: int) -> None:
        fraction = self.base + (self.span * min(done, total) / total if total > 0 else 0.0)
        text = f"{message} ({done}/{total})" if total > 0 else message
        self.write(fraction, text)

    def write(self, fraction: float, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < _PROGRESS_INTERVAL:
            return
        self.last = now
        with self.database.writing() as session:
            session.exec(
                update(DrawJob)
                .where(col(DrawJob.id) == self.job_id)
                .where(col(DrawJob.status) == "running")
                .values(progress=round(fraction, 4), message=message[:500], heartbeat_at=utcnow())
            )
            session.commit()


def _finish(
    database: Database, job_id: int, status: str, message: str, code: str | None = None
) -> None:
    with database.writing() as session:
        job = session.get(DrawJob, job_id)
        if job is not None and job.status in _ACTIVE_JOB:
            job.status, job.message, job.error_code = status, message[:500], code
            job.finished_at, job.payload_json = utcnow(), None
            if status == "done":
                job.progress = 1.0
            session.add(job)
            session.commit()


def run_job(database_url: str, job_id: int) -> None:
    """Run one job in a worker process; it must be ``queued``.

    It becomes ``running``, then ``done`` or ``failed`` with the core's message (quota names
    and counts only). A draw's job computes the distribution, the lottery and the commitment
    and stores the bundle (the draw becomes ``committed``); a council's job commits the first
    draw or a renewal (:func:`sortition.council.first_draw`, :func:`sortition.council.renew`).
    """
    from sortition import SortitionError

    database = Database(database_url)
    try:
        with database.writing() as session:
            job = session.get(DrawJob, job_id)
            if job is None or job.status != "queued":
                return
            job.status, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
            kind = job.kind
            session.add(job)
            session.commit()
        progress = _JobProgress(database, job_id)
        try:
            if kind == "draw":
                _run_draw(database, job_id, progress)
            else:
                _run_council(database, job_id, progress)
        except SortitionError as error:
            _finish(database, job_id, "failed", error.describe(), error.code)
        except Exception:
            logger.exception("draw job %s failed", job_id)
            _finish(database, job_id, "failed", "an unexpected error occurred; it is logged")
    finally:
        database.dispose()


def _run_draw(database: Database, job_id: int, progress: _JobProgress) -> None:
    from sortition import find_distribution, round_lottery
    from sortition.audit import commit

    with database.reading() as session:
        job = session.get(DrawJob, job_id)
        draw = session.get(SortitionDraw, job.draw_id) if job is not None else None
    if draw is None:  # pragma: no cover - the foreign key rules this out
        return
    pool, quotas = _stored_inputs(draw)
    algorithm = draw.algorithm
    progress.phase(f"Computing the {algorithm.upper()} distribution", 0.05, 0.8)
    distribution = find_distribution(
        pool,
        quotas,
        draw.size,
        algorithm=algorithm,  # type: ignore[arg-type]
        progress=progress,
    )
    progress.phase(f"Rounding to {draw.panels} panels", 0.8, 0.95)
    lottery = round_lottery(distribution, draw.panels)
    progress.phase("Writing the audit bundle", 0.95, 1.0)
    bundle = commit(
        lottery,
        software=f"stadmaken {software_version()}",
        source=draw.source,
        fallback=draw.fallback,
    )
    with database.writing() as session:
        job = session.get(DrawJob, job_id)
        stored = session.get(SortitionDraw, draw.id)
        if job is None or stored is None or job.status != "running":
            return  # marked failed meanwhile (stale): the result is dropped
        _store_bundle(stored, bundle)
        stored.commitment = bundle["hashes"]["commitment"]
        stored.status, stored.committed_at = "committed", utcnow()
        job.status, job.progress, job.finished_at = "done", 1.0, utcnow()
        job.message = "committed"
        session.add(stored)
        session.add(job)
        session.commit()


class _Runner:
    """The worker pool of this server process, and the heartbeat of its jobs."""

    def __init__(self) -> None:
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._active: dict[int, str] = {}
        self._beating = False

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            workers = max(1, int(os.environ.get("STADMAKEN_DRAW_WORKERS", "1") or 1))
            self._executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
        if not self._beating:
            self._beating = True
            threading.Thread(target=self._beat, name="draw-heartbeat", daemon=True).start()
        return self._executor

    def submit(self, database_url: str, job_id: int) -> None:
        with self._lock:
            self._active[job_id] = database_url
            try:
                future = self._pool().submit(run_job, database_url, job_id)
            except BrokenProcessPool:
                self._executor = None
                future = self._pool().submit(run_job, database_url, job_id)
        future.add_done_callback(lambda f: self._done(database_url, job_id, f))

    def _done(self, database_url: str, job_id: int, future: Future[None]) -> None:
        with self._lock:
            self._active.pop(job_id, None)
        error = future.exception()
        if error is None:
            return
        if isinstance(error, BrokenProcessPool):
            with self._lock:
                self._executor = None
        logger.error("draw job %s: the worker stopped (%s)", job_id, type(error).__name__)
        database = Database(database_url)
        try:
            _finish(database, job_id, "failed", "the worker process stopped", "worker-stopped")
        finally:
            database.dispose()

    def _beat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self._lock:
                by_url: dict[str, list[int]] = {}
                for job_id, url in self._active.items():
                    by_url.setdefault(url, []).append(job_id)
            for url, ids in by_url.items():
                try:
                    database = Database(url)
                    try:
                        with database.writing() as session:
                            session.exec(
                                update(DrawJob)
                                .where(col(DrawJob.id).in_(ids))
                                .where(col(DrawJob.status).in_(_ACTIVE_JOB))
                                .values(heartbeat_at=utcnow())
                            )
                            session.commit()
                    finally:
                        database.dispose()
                except Exception:  # a database that went away must not stop the heartbeat
                    logger.warning("draw heartbeat: cannot reach a database", exc_info=True)


_RUNNER: Final = _Runner()


def _stale(job: DrawJob, now: datetime) -> bool:
    return job.status in _ACTIVE_JOB and now - job.heartbeat_at > timedelta(seconds=STALE_SECONDS)


def _job_owner(draw_id: int | None, council_id: int | None) -> Any:
    if council_id is not None:
        return DrawJob.council_id == council_id
    return DrawJob.draw_id == draw_id


def _fail_stale(
    session: Session, draw_id: int | None = None, council_id: int | None = None
) -> None:
    """Mark the interrupted jobs of a draw or council failed (in the caller's transaction)."""
    now = utcnow()
    for job in session.exec(
        select(DrawJob)
        .where(_job_owner(draw_id, council_id))
        .where(col(DrawJob.status).in_(_ACTIVE_JOB))
    ).all():
        if _stale(job, now):
            job.status, job.finished_at, job.error_code = "failed", now, "interrupted"
            job.message = "interrupted: the server stopped during the job; run it again"
            job.payload_json = None
            session.add(job)


def _queue_job(
    session: Session,
    *,
    draw_id: int | None = None,
    council_id: int | None = None,
    kind: str = "draw",
    payload: str | None = None,
) -> DrawJob:
    now = utcnow()
    job = DrawJob(
        kind=kind,
        draw_id=draw_id,
        council_id=council_id,
        payload_json=payload,
        status="queued",
        message="queued",
        owner=_RUNNER.owner,
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job


# --------------------------------------------------------------------------- output types


class JobOut(BaseModel):
    id: int
    status: str
    progress: float
    message: str
    error_code: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DrawOut(BaseModel):
    id: int
    name: str
    status: str
    size: int
    algorithm: str
    panels: int
    source: str
    fallback: str
    households: list[str]
    pool_size: int
    commitment: str | None
    seed: str | None
    created_at: datetime
    committed_at: datetime | None
    published_at: datetime | None
    revealed_at: datetime | None
    job: JobOut | None


class JobAccepted(BaseModel):
    draw_id: int | None
    council_id: int | None
    job_id: int
    status: str
    location: str


class Feasibility(BaseModel):
    feasible: bool
    pool_size: int
    size: int
    features: list[str]
    quotas: list[dict[str, Any]]


class Member(BaseModel):
    pseudonym: str
    id: str | None = None


class PanelOut(BaseModel):
    draw_id: int
    seed: str
    index: int
    panel: list[Member]
    events: int


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: Text = Field(min_length=1, max_length=500)


class ReplaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn: Text = Field(
        min_length=1, max_length=200, description="A pseudonym, or the person's id."
    )


class ReplacementOut(BaseModel):
    draw_id: int
    withdrawn: Member
    replacement: Member
    event: int


class PublicDrawOut(BaseModel):
    id: int
    name: str
    status: str
    size: int
    algorithm: str
    panels: int
    pool_size: int
    source: str
    fallback: str
    commitment: str
    published_at: datetime | None
    seed: str | None
    index: int | None
    panel: list[str] | None
    events: list[dict[str, str]]


def _job_out(job: DrawJob | None) -> JobOut | None:
    if job is None:
        return None
    return JobOut(
        id=job.id or 0,
        status=job.status,
        progress=job.progress,
        message=job.message,
        error_code=job.error_code,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _draw_out(draw: SortitionDraw, job: DrawJob | None) -> DrawOut:
    return DrawOut(
        id=draw.id or 0,
        name=draw.name,
        status=draw.status,
        size=draw.size,
        algorithm=draw.algorithm,
        panels=draw.panels,
        source=draw.source,
        fallback=draw.fallback,
        households=[c for c in draw.households.split(",") if c],
        pool_size=draw.pool_size,
        commitment=draw.commitment,
        seed=draw.seed,
        created_at=draw.created_at,
        committed_at=draw.committed_at,
        published_at=draw.published_at,
        revealed_at=draw.revealed_at,
        job=_job_out(job),
    )


# --------------------------------------------------------------------------- helpers


def _own(
    session: Session, organiser: Organiser, draw_id: int, *, lock: bool = False
) -> SortitionDraw:
    return owned(session, SortitionDraw, draw_id, organiser, "draw", lock=lock)


def _latest_job(
    session: Session, draw_id: int | None = None, council_id: int | None = None
) -> DrawJob | None:
    return session.exec(
        select(DrawJob).where(_job_owner(draw_id, council_id)).order_by(col(DrawJob.id).desc())
    ).first()


def _log(session: Session, organiser: Organiser, action: str, draw_id: int, **details: Any) -> None:
    audit.append(
        session,
        organiser_id=organiser.id,
        action=action,
        details={"draw_id": draw_id, **details},
        now=utcnow(),
    )


def _accepted(object_id: int, job_id: int, location: str | None = None) -> Response:
    """202 with the job; ``Location`` is where its status is read."""
    council = location is not None
    location = location or f"/api/draws/{object_id}"
    body = JobAccepted(
        draw_id=None if council else object_id,
        council_id=object_id if council else None,
        job_id=job_id,
        status="queued",
        location=location,
    )
    return Response(
        body.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={"Location": location},
    )


def _mapping(draw: SortitionDraw) -> dict[str, str]:
    value: dict[str, str] = json.loads(draw.mapping_json)
    return value


def _bundle_response(draw: SortitionDraw) -> Response:
    body = bundle_bytes(_bundle(draw))
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="draw-{draw.id}-bundle.json"'},
    )


# --------------------------------------------------------------------------- organiser endpoints

PoolFile = Annotated[UploadFile, File(description="Pool: CSV (or Excel), one row per person.")]
QuotaFile = Annotated[UploadFile, File(description="Quotas: CSV (or Excel) feature,value,min,max.")]
SizeForm = Annotated[int, Form(ge=1, le=10_000, description="Panel size.")]
HouseholdsForm = Annotated[
    str, Form(max_length=500, description="Household columns, separated by commas.")
]
IdColumnForm = Annotated[str, Form(min_length=1, max_length=100)]


@organiser_router.post("/check", response_model=Feasibility)
def check_files(
    organiser: CurrentOrganiser,
    pool: PoolFile,
    quotas: QuotaFile,
    size: SizeForm,
    households: HouseholdsForm = "",
    id_column: IdColumnForm = "id",
) -> Feasibility:
    """Read both files and check that a panel of ``size`` meets the quotas (nothing stored)."""
    people, table = _read_files(
        pool, quotas, size=size, households=_columns(households), id_column=id_column
    )
    in_pool: dict[tuple[str, str], int] = {}
    for person in people.people:
        for feature, value in person.features.items():
            in_pool[(feature, value)] = in_pool.get((feature, value), 0) + 1
    return Feasibility(
        feasible=True,
        pool_size=len(people),
        size=size,
        features=list(table.features),
        quotas=[
            {
                "feature": q.feature,
                "value": q.value,
                "min": q.min,
                "max": q.max,
                "pool": in_pool.get((q.feature, q.value), 0),
            }
            for q in table.quotas
        ],
    )


@organiser_router.post("", status_code=202, response_model=JobAccepted)
def create_draw(
    db: DB,
    organiser: CurrentOrganiser,
    pool: PoolFile,
    quotas: QuotaFile,
    size: SizeForm,
    source: Annotated[
        str,
        Form(
            min_length=1,
            max_length=500,
            description="The public randomness, announced in advance, whose value is the seed.",
        ),
    ],
    name: Annotated[str, Form(min_length=1, max_length=200)] = "Panel",
    algorithm: Annotated[Literal["leximin", "maximin", "nash"], Form()] = "leximin",
    panels: Annotated[int, Form(ge=1, le=100_000, description="Panels of the lottery.")] = 1000,
    fallback: Annotated[str, Form(max_length=500)] = "",
    households: HouseholdsForm = "",
    id_column: IdColumnForm = "id",
    pseudonym_key: Annotated[
        str | None,
        Form(
            pattern="^([0-9a-fA-F]{2}){16,64}$",
            description="Hex key of the pseudonyms (default: a fresh one, not stored).",
        ),
    ] = None,
) -> Response:
    """Read the files, pseudonymise the pool, and queue the computation (202 with the job)."""
    from sortition.audit import pseudonymise

    _plain(name=name, source=source, fallback=fallback)
    columns = _columns(households)
    people, table = _read_files(pool, quotas, size=size, households=columns, id_column=id_column)
    key = bytes.fromhex(pseudonym_key) if pseudonym_key else secrets.token_bytes(32)
    public_pool, mapping = pseudonymise(people, key)
    with db.writing() as session:
        draw = SortitionDraw(
            organiser_id=organiser.id or 0,
            name=name,
            size=size,
            algorithm=algorithm,
            panels=panels,
            source=source,
            fallback=fallback,
            households=",".join(columns),
            pool_size=len(people),
            pool_json=_pool_document(public_pool, table),
            quotas_json=_quotas_document(table),
            mapping_json=json.dumps(mapping, ensure_ascii=False),
            created_at=utcnow(),
        )
        session.add(draw)
        session.flush()
        job = _queue_job(session, draw_id=draw.id)
        _log(
            session,
            organiser,
            "draw.create",
            draw.id or 0,
            size=size,
            pool=len(people),
            algorithm=algorithm,
            panels=panels,
            job_id=job.id,
        )
        session.commit()
        draw_id, job_id = draw.id or 0, job.id or 0
    _RUNNER.submit(db.url, job_id)
    return _accepted(draw_id, job_id)


@organiser_router.get("", response_model=list[DrawOut])
def list_draws(db: DB, organiser: CurrentOrganiser) -> list[DrawOut]:
    """The organiser's own draws, newest first."""
    with db.reading() as session:
        draws = session.exec(
            select(SortitionDraw)
            .where(SortitionDraw.organiser_id == organiser.id)
            .order_by(col(SortitionDraw.id).desc())
        ).all()
        return [_draw_out(d, _latest_job(session, d.id or 0)) for d in draws]


@organiser_router.get("/{draw_id}", response_model=DrawOut)
def get_draw(db: DB, organiser: CurrentOrganiser, draw_id: Id) -> DrawOut:
    """The draw with its latest job: status, progress (0 to 1) and message."""
    with db.reading() as session:
        draw = _own(session, organiser, draw_id)
        job = _latest_job(session, draw_id)
    if job is not None and _stale(job, utcnow()):
        with db.writing() as session:
            _fail_stale(session, draw_id)
            session.commit()
            job = _latest_job(session, draw_id)
    return _draw_out(draw, job)


@organiser_router.post("/{draw_id}/run", status_code=202, response_model=JobAccepted)
def rerun_draw(db: DB, organiser: CurrentOrganiser, draw_id: Id) -> Response:
    """Queue the computation again after a failed (or interrupted) job."""
    with db.writing() as session:
        draw = _own(session, organiser, draw_id, lock=True)
        _fail_stale(session, draw_id)
        latest = _latest_job(session, draw_id)
        if latest is not None and latest.status in _ACTIVE_JOB:
            raise ApiError(409, "job-running", "the draw is being computed; wait for the job")
        if draw.status != "draft":
            raise ApiError(409, "already-computed", "the draw is already computed")
        job = _queue_job(session, draw_id=draw.id)
        _log(session, organiser, "draw.run", draw_id, job_id=job.id)
        session.commit()
        job_id = job.id or 0
    _RUNNER.submit(db.url, job_id)
    return _accepted(draw_id, job_id)


@organiser_router.post("/{draw_id}/publish", response_model=DrawOut)
def publish_commitment(db: DB, organiser: CurrentOrganiser, draw_id: Id) -> DrawOut:
    """Publish the commitment (and the bundle) before the randomness exists."""
    with db.writing() as session:
        draw = _own(session, organiser, draw_id, lock=True)
        if draw.status == "draft":
            raise ApiError(409, "not-computed", "the draw has not been computed yet")
        if draw.status != "committed":
            raise ApiError(409, "already-published", "the commitment is already published")
        draw.status, draw.published_at = "published", utcnow()
        session.add(draw)
        _log(session, organiser, "draw.publish", draw_id, commitment=draw.commitment)
        session.commit()
        return _draw_out(draw, _latest_job(session, draw_id))


@organiser_router.post("/{draw_id}/reveal", response_model=PanelOut)
def reveal_draw(db: DB, organiser: CurrentOrganiser, draw_id: Id, body: RevealIn) -> PanelOut:
    """Select the panel with the seed (the value the announced source produced)."""
    from sortition import SortitionError
    from sortition.audit import reveal

    with db.writing() as session:
        draw = _own(session, organiser, draw_id, lock=True)
        if draw.status in ("draft", "committed"):
            raise ApiError(
                409,
                "not-published",
                "publish the commitment (POST .../publish) before revealing the draw",
            )
        if draw.status == "revealed":
            raise ApiError(409, "already-revealed", "the draw is already revealed")
        try:
            revealed = reveal(_bundle(draw), body.seed)
        except SortitionError as error:
            raise _core_error(error) from None
        _store_bundle(draw, revealed)
        draw.status, draw.seed, draw.revealed_at = "revealed", body.seed, utcnow()
        session.add(draw)
        index = revealed["reveal"]["index"]
        _log(session, organiser, "draw.reveal", draw_id, index=index)
        session.commit()
    mapping = _mapping(draw)
    return PanelOut(
        draw_id=draw_id,
        seed=body.seed,
        index=index,
        panel=[Member(pseudonym=p, id=mapping.get(p)) for p in revealed["reveal"]["panel"]],
        events=0,
    )


@organiser_router.get("/{draw_id}/panel", response_model=PanelOut)
def current_panel(db: DB, organiser: CurrentOrganiser, draw_id: Id) -> PanelOut:
    """The current panel (after replacements) with each member's id (the private mapping)."""
    from sortition.audit import current_panel as panel_of

    with db.reading() as session:
        draw = _own(session, organiser, draw_id)
    if draw.status != "revealed":
        raise ApiError(409, "not-revealed", "the draw is not revealed yet")
    bundle = _bundle(draw)
    mapping = _mapping(draw)
    return PanelOut(
        draw_id=draw_id,
        seed=bundle["reveal"]["seed"],
        index=bundle["reveal"]["index"],
        panel=[Member(pseudonym=p, id=mapping.get(p)) for p in panel_of(bundle)],
        events=len(bundle["events"]),
    )


@organiser_router.post("/{draw_id}/replacements", response_model=ReplacementOut)
def replace_member(
    db: DB, organiser: CurrentOrganiser, draw_id: Id, body: ReplaceIn
) -> ReplacementOut:
    """A member withdraws: the first eligible reserve (the recorded seed's order) takes the seat."""
    from sortition import SortitionError
    from sortition.audit import replace

    with db.writing() as session:
        draw = _own(session, organiser, draw_id, lock=True)
        if draw.status != "revealed":
            raise ApiError(409, "not-revealed", "the draw is not revealed yet")
        mapping = _mapping(draw)
        member = body.withdrawn
        if member not in mapping:
            member = next((p for p, i in mapping.items() if i == body.withdrawn), member)
        try:
            updated, replacement = replace(_bundle(draw), member)
        except SortitionError as error:
            raise _core_error(error) from None
        _store_bundle(draw, updated)
        session.add(draw)
        event = len(updated["events"]) - 1
        _log(session, organiser, "draw.replace", draw_id, event=event)
        session.commit()
    return ReplacementOut(
        draw_id=draw_id,
        withdrawn=Member(pseudonym=member, id=mapping.get(member)),
        replacement=Member(pseudonym=replacement, id=mapping.get(replacement)),
        event=event,
    )


@organiser_router.get("/{draw_id}/bundle")
def organiser_bundle(db: DB, organiser: CurrentOrganiser, draw_id: Id) -> Response:
    """The audit bundle, byte for byte as ``stadmaken draw commit`` writes it."""
    with db.reading() as session:
        draw = _own(session, organiser, draw_id)
    return _bundle_response(draw)


# --------------------------------------------------------------------------- public endpoints


def _public(session: Session, draw_id: int) -> SortitionDraw:
    draw = session.get(SortitionDraw, draw_id)
    if draw is None or draw.status not in ("published", "revealed"):
        raise not_found("draw")
    return draw


def _public_out(draw: SortitionDraw) -> PublicDrawOut:
    from sortition.audit import current_panel as panel_of

    bundle = _bundle(draw)
    part = bundle["reveal"]
    return PublicDrawOut(
        id=draw.id or 0,
        name=draw.name,
        status=draw.status,
        size=draw.size,
        algorithm=draw.algorithm,
        panels=draw.panels,
        pool_size=draw.pool_size,
        source=draw.source,
        fallback=draw.fallback,
        commitment=draw.commitment or "",
        published_at=draw.published_at,
        seed=None if part is None else part["seed"],
        index=None if part is None else part["index"],
        panel=None if part is None else panel_of(bundle),
        events=[
            {"withdrawn": e["withdrawn"], "replacement": e["replacement"], "hash": e["hash"]}
            for e in bundle["events"]
        ],
    )


@public_router.get("", response_model=list[PublicDrawOut])
def public_draws(db: DB) -> list[PublicDrawOut]:
    """Every draw whose commitment is published, newest first (pseudonyms only)."""
    with db.reading() as session:
        draws = session.exec(
            select(SortitionDraw)
            .where(col(SortitionDraw.status).in_(("published", "revealed")))
            .order_by(col(SortitionDraw.id).desc())
        ).all()
    return [_public_out(d) for d in draws]


@public_router.get("/{draw_id}", response_model=PublicDrawOut)
def public_draw(db: DB, draw_id: Id) -> PublicDrawOut:
    """The published commitment, the source, and after the reveal the panel (pseudonyms)."""
    with db.reading() as session:
        draw = _public(session, draw_id)
    return _public_out(draw)


@public_router.get("/{draw_id}/probabilities")
def public_probabilities(db: DB, draw_id: Id) -> dict[str, Any]:
    """Each pseudonym's selection probability before rounding and after (count/m)."""
    with db.reading() as session:
        draw = _public(session, draw_id)
    document = _bundle(draw)["draw"]
    m = document["m"]
    return {
        "draw_id": draw_id,
        "panels": m,
        "probabilities": {
            pid: {"before": before, "after": f"{document['selections'][pid]}/{m}"}
            for pid, before in document["probabilities"].items()
        },
    }


@public_router.get("/{draw_id}/bundle")
def public_bundle(db: DB, draw_id: Id) -> Response:
    """The published audit bundle (check it with ``stadmaken verify`` or verify_bundle.py)."""
    with db.reading() as session:
        draw = _public(session, draw_id)
    return _bundle_response(draw)


# --------------------------------------------------------------------------- councils
#
# A drawn neighbourhood council (docs/council.md) as ``stadmaken council`` runs it, with the
# private state and the bundles (``round-<n>.json``) in the database. The first draw and every
# renewal are background jobs like a draw's; reveal and replacements are immediate. A round's
# bundle is public from its commitment on (the command line tells the organiser to publish it
# at once), so a council round has no separate publish step.

council_router = APIRouter(
    prefix="/api/draws/councils", tags=["councils (organiser)"], responses=ERROR_RESPONSES
)
public_council_router = APIRouter(
    prefix="/api/public/draws/councils",
    tags=["councils (public and auditors)"],
    responses=ERROR_RESPONSES,
)

OptionalFile = Annotated[UploadFile | None, File()]
AlgorithmForm = Annotated[Literal["leximin", "maximin", "nash"], Form()]
PanelsForm = Annotated[int, Form(ge=1, le=100_000, description="Panels of the lottery.")]


def _household_hash(settings_key: bytes, household: str | None) -> str | None:
    """A keyed hash standing in for a household key (an address) in a job's stored inputs."""
    if household is None:
        return None
    return hmac.new(settings_key, household.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _read_council_files(
    terms: CouncilTerms,
    people: UploadFile,
    quotas: UploadFile | None,
    ineligible: UploadFile | None,
    *,
    households: Sequence[str],
    id_column: str,
) -> tuple[Pool, Quotas | None, frozenset[str]]:
    """The respondents, the quotas on other features and the ineligible ids, as the CLI reads
    them (:func:`sortition.council.respondent_quotas`)."""
    from sortition import SortitionError, read_people, read_quotas
    from sortition.council import read_ids, respondent_quotas

    people_name = _display_name(people, "people.csv")
    quota_name = _display_name(quotas, "quotas.csv") if quotas is not None else None
    with tempfile.TemporaryDirectory(prefix="stadmaken-council-") as folder:
        names: dict[str, str] = {}
        try:
            other = None
            if quotas is not None:
                quota_path = _save(folder, "quotas", quotas)
                names[str(quota_path)] = quota_name or "quotas.csv"
                other = read_quotas(quota_path)
            people_path = _save(folder, "people", people)
            names[str(people_path)] = people_name
            pool = read_people(
                people_path,
                respondent_quotas(terms, other),
                id_column=id_column,
                household_columns=list(households),
            )
            excluded: frozenset[str] = frozenset()
            if ineligible is not None:
                path = _save(folder, "ineligible", ineligible)
                names[str(path)] = _display_name(ineligible, "ineligible.csv")
                excluded = read_ids(path, id_column)
        except SortitionError as error:
            if error.file is not None:
                error.file = names.get(error.file, error.file)
            raise _core_error(error, pool_file=people_name, quota_file=quota_name) from None
    if len(pool) > MAX_POOL:
        raise ApiError(413, "too-large", f"the pool has more than {MAX_POOL} people")
    return pool, other, excluded


def _council_payload(
    settings_key: bytes,
    pool: Pool,
    other: Quotas | None,
    excluded: frozenset[str],
    **settings: Any,
) -> str:
    people = [
        {
            "id": p.id,
            "household": _household_hash(settings_key, p.household),
            "values": dict(p.features),
        }
        for p in pool.people
    ]
    quota_rows = None if other is None else [[q.feature, q.value, q.min, q.max] for q in other]
    document = {
        "people": people,
        "quotas": quota_rows,
        "ineligible": sorted(excluded),
        **settings,
    }
    return json.dumps(document, ensure_ascii=False)


def _council_chain(
    session: Session, council: SortitionCouncil
) -> tuple[CouncilState, list[dict[str, Any]]]:
    """The state and its bundles, checked against each other (as ``council`` commands do)."""
    from sortition import SortitionError
    from sortition.council import check_bundles, parse_state

    if council.state_json is None:
        raise ApiError(409, "not-computed", "the council's first draw is not committed yet")
    rows = session.exec(
        select(CouncilBundle)
        .where(CouncilBundle.council_id == council.id)
        .order_by(col(CouncilBundle.round))
    ).all()
    try:
        state = parse_state(json.loads(council.state_json))
        bundles = [json.loads(row.bundle_json) for row in rows]
        check_bundles(state, bundles)
    except SortitionError as error:  # pragma: no cover - only an edited database gets here
        raise _core_error(error) from None
    return state, bundles


def _save_round(
    session: Session, council: SortitionCouncil, state: CouncilState, round_number: int, bundle: Any
) -> None:
    from sortition.council import dump_state

    council.state_json = dump_state(state)
    session.add(council)
    row = session.exec(
        select(CouncilBundle)
        .where(CouncilBundle.council_id == council.id)
        .where(CouncilBundle.round == round_number)
    ).first()
    text = bundle_bytes(bundle).decode("utf-8")
    if row is None:
        row = CouncilBundle(council_id=council.id or 0, round=round_number, bundle_json=text)
    else:
        row.bundle_json = text
    session.add(row)


def _run_council(database: Database, job_id: int, progress: _JobProgress) -> None:
    from sortition import Person, Pool, Quotas
    from sortition.council import CouncilTerms, first_draw, renew

    with database.reading() as session:
        job = session.get(DrawJob, job_id)
        if job is None or job.payload_json is None or job.council_id is None:
            return
        council = session.get(SortitionCouncil, job.council_id)
        if council is None:  # pragma: no cover
            return
        payload = json.loads(job.payload_json)
        chain = _council_chain(session, council) if job.kind == "council-renew" else None
    pool = Pool(
        tuple(Person(p["id"], dict(p["values"]), p["household"]) for p in payload["people"])
    )
    other = None
    if payload["quotas"] is not None:
        other = Quotas.from_rows(tuple(row) for row in payload["quotas"])
    common: dict[str, Any] = {
        "software": f"stadmaken {software_version()}",
        "source": payload["source"],
        "fallback": payload["fallback"],
        "ineligible": frozenset(payload["ineligible"]),
        "quotas": other,
        "algorithm": payload["algorithm"],
        "panels": payload["panels"],
        "progress": progress,
    }
    progress.phase("Computing the council draw", 0.05, 0.95)
    if chain is None:
        terms = CouncilTerms(**payload["terms"])
        result = first_draw(terms, pool, key=bytes.fromhex(payload["key"]), **common)
    else:
        result = renew(chain[0], chain[1], pool, year=payload["year"], **common)
    with database.writing() as session:
        job = session.get(DrawJob, job_id)
        stored = session.get(SortitionCouncil, council.id)
        if job is None or stored is None or job.status != "running":
            return
        if stored.state_json != council.state_json:  # pragma: no cover - writes are refused
            _finish(database, job_id, "failed", "the council changed during the job", "changed")
            return
        round_number = result.state.rounds[-1].round
        _save_round(session, stored, result.state, round_number, result.bundle)
        job.status, job.progress, job.finished_at = "done", 1.0, utcnow()
        job.message, job.payload_json = f"round {round_number} committed", None
        session.add(job)
        session.commit()


class CouncilRoundOut(BaseModel):
    round: int
    year: int
    commitment: str
    revealed: bool
    events: int


class CouncilMemberOut(BaseModel):
    id: str
    pseudonym: str
    round: int
    wijk: str
    cohort: int
    since: int
    term_end: int


class CouncilOut(BaseModel):
    id: int
    name: str
    status: str
    terms: dict[str, Any] | None
    rounds: list[CouncilRoundOut]
    members: list[CouncilMemberOut]
    former: int
    job: JobOut | None


class CouncilRevealOut(BaseModel):
    council_id: int
    round: int
    index: int
    joined: list[CouncilMemberOut]
    left: list[str]


class StepDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: Text = Field(min_length=1, max_length=200, description="The member's real id.")
    year: int | None = Field(default=None, ge=1900, le=3000)


class StepDownOut(BaseModel):
    council_id: int
    stepped_down: str
    replacement: CouncilMemberOut
    skipped: int


class PublicCouncilRound(BaseModel):
    round: int
    year: int
    commitment: str
    source: str
    seed: str | None
    panel: list[str] | None
    events: int


class PublicCouncilOut(BaseModel):
    id: int
    name: str
    seats: dict[str, int]
    term_years: int
    cohorts: int
    rounds: list[PublicCouncilRound]


def _terms_document(terms: CouncilTerms) -> dict[str, Any]:
    return {
        "name": terms.name,
        "wijk_feature": terms.wijk_feature,
        "seats": dict(terms.seats),
        "term_years": terms.term_years,
        "cohorts": terms.cohorts,
        "cooldown_years": terms.cooldown_years,
        "start_year": terms.start_year,
    }


def _member_out(member: SeatedMember) -> CouncilMemberOut:
    return CouncilMemberOut(
        id=member.id,
        pseudonym=member.pseudonym,
        round=member.round,
        wijk=member.wijk,
        cohort=member.cohort,
        since=member.since,
        term_end=member.term_end,
    )


def _council_out(session: Session, council: SortitionCouncil) -> CouncilOut:
    from sortition.council import parse_state

    job = _latest_job(session, council_id=council.id)
    if job is not None and _stale(job, utcnow()):
        job = job.model_copy(update={"status": "failed", "error_code": "interrupted"})
    if council.state_json is None:
        status = "computing" if job is not None and job.status in _ACTIVE_JOB else "failed"
        return CouncilOut(
            id=council.id or 0,
            name=council.name,
            status=status,
            terms=None,
            rounds=[],
            members=[],
            former=0,
            job=_job_out(job),
        )
    state = parse_state(json.loads(council.state_json))
    if job is not None and job.status in _ACTIVE_JOB:
        status = "computing"
    else:
        status = "pending" if state.pending else "seated"
    return CouncilOut(
        id=council.id or 0,
        name=council.name,
        status=status,
        terms=_terms_document(state.terms),
        rounds=[
            CouncilRoundOut(
                round=r.round,
                year=r.year,
                commitment=r.commitment,
                revealed=r.revealed,
                events=r.events,
            )
            for r in state.rounds
        ],
        members=[_member_out(m) for m in state.members],
        former=len(state.former),
        job=_job_out(job),
    )


def _own_council(
    session: Session, organiser: Organiser, council_id: int, *, lock: bool = False
) -> SortitionCouncil:
    return owned(session, SortitionCouncil, council_id, organiser, "council", lock=lock)


def _no_job_running(session: Session, council_id: int) -> None:
    _fail_stale(session, council_id=council_id)
    latest = _latest_job(session, council_id=council_id)
    if latest is not None and latest.status in _ACTIVE_JOB:
        raise ApiError(409, "job-running", "a draw of the council is being computed; wait for it")


def _log_council(
    session: Session, organiser: Organiser, action: str, council_id: int, **details: Any
) -> None:
    audit.append(
        session,
        organiser_id=organiser.id,
        action=action,
        details={"council_id": council_id, **details},
        now=utcnow(),
    )


@council_router.post("", status_code=202, response_model=JobAccepted)
def create_council(
    db: DB,
    settings: AppSettings,
    organiser: CurrentOrganiser,
    seats: Annotated[UploadFile, File(description="CSV wijk,seats.")],
    people: Annotated[UploadFile, File(description="The respondents (CSV or Excel).")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    year: Annotated[int, Form(ge=1900, le=3000)],
    term_years: Annotated[int, Form(ge=1, le=50)],
    cohorts: Annotated[int, Form(ge=1, le=50)],
    cooldown_years: Annotated[int, Form(ge=0, le=50)],
    source: Annotated[str, Form(min_length=1, max_length=500)],
    fallback: Annotated[str, Form(max_length=500)] = "",
    quotas: OptionalFile = None,
    ineligible: OptionalFile = None,
    wijk_feature: Annotated[str, Form(min_length=1, max_length=100)] = "wijk",
    households: HouseholdsForm = "",
    id_column: IdColumnForm = "id",
    algorithm: AlgorithmForm = "leximin",
    panels: PanelsForm = 1000,
) -> Response:
    """Define a council and queue its first draw (round 0, every seat): 202 with the job."""
    from sortition import SortitionError
    from sortition.council import CouncilTerms, read_seats

    _plain(name=name, source=source, fallback=fallback)
    with tempfile.TemporaryDirectory(prefix="stadmaken-seats-") as folder:
        seats_name = _display_name(seats, "seats.csv")
        path = _save(folder, "seats", seats)
        try:
            table = read_seats(path)
            terms = CouncilTerms(
                name, wijk_feature, table, term_years, cohorts, cooldown_years, year
            )
        except SortitionError as error:
            if error.file == str(path) or error.file is None:
                error.file = seats_name if error.file is not None else None
            raise _core_error(error) from None
    pool, other, excluded = _read_council_files(
        terms, people, quotas, ineligible, households=_columns(households), id_column=id_column
    )
    payload = _council_payload(
        settings.derived_key("council-households"),
        pool,
        other,
        excluded,
        terms=_terms_document(terms),
        key=secrets.token_bytes(32).hex(),
        source=source,
        fallback=fallback,
        algorithm=algorithm,
        panels=panels,
        year=None,
    )
    with db.writing() as session:
        council = SortitionCouncil(organiser_id=organiser.id or 0, name=name, created_at=utcnow())
        session.add(council)
        session.flush()
        job = _queue_job(session, council_id=council.id, kind="council-init", payload=payload)
        _log_council(
            session,
            organiser,
            "council.create",
            council.id or 0,
            seats=sum(table.values()),
            pool=len(pool),
            algorithm=algorithm,
            panels=panels,
            job_id=job.id,
        )
        session.commit()
        council_id, job_id = council.id or 0, job.id or 0
    _RUNNER.submit(db.url, job_id)
    return _accepted(council_id, job_id, f"/api/draws/councils/{council_id}")


@council_router.get("", response_model=list[CouncilOut])
def list_councils(db: DB, organiser: CurrentOrganiser) -> list[CouncilOut]:
    """The organiser's own councils."""
    with db.reading() as session:
        councils = session.exec(
            select(SortitionCouncil)
            .where(SortitionCouncil.organiser_id == organiser.id)
            .order_by(col(SortitionCouncil.id).desc())
        ).all()
        return [_council_out(session, c) for c in councils]


@council_router.get("/{council_id}", response_model=CouncilOut)
def get_council(db: DB, organiser: CurrentOrganiser, council_id: Id) -> CouncilOut:
    """The council: terms, rounds, sitting members (real ids) and the latest job."""
    with db.reading() as session:
        council = _own_council(session, organiser, council_id)
        return _council_out(session, council)


@council_router.post("/{council_id}/reveal", response_model=CouncilRevealOut)
def reveal_council(
    db: DB, organiser: CurrentOrganiser, council_id: Id, body: RevealIn
) -> CouncilRevealOut:
    """Reveal the pending round with the seed and seat its members (``council reveal``)."""
    from sortition import SortitionError
    from sortition.council import reveal_round

    with db.writing() as session:
        council = _own_council(session, organiser, council_id, lock=True)
        _no_job_running(session, council_id)
        state, bundles = _council_chain(session, council)
        if not state.pending:
            raise ApiError(409, "not-pending", "no round of the council is waiting to be revealed")
        try:
            result = reveal_round(state, bundles, body.seed)
        except SortitionError as error:
            raise _core_error(error) from None
        record = result.state.rounds[-1]
        _save_round(session, council, result.state, record.round, result.bundle)
        index = result.bundle["reveal"]["index"]
        _log_council(session, organiser, "council.reveal", council_id, round=record.round)
        session.commit()
    return CouncilRevealOut(
        council_id=council_id,
        round=record.round,
        index=index,
        joined=[_member_out(m) for m in result.joined],
        left=[f.id for f in result.left],
    )


@council_router.post("/{council_id}/replacements", response_model=StepDownOut)
def replace_council_member(
    db: DB, organiser: CurrentOrganiser, council_id: Id, body: StepDownIn
) -> StepDownOut:
    """A member steps down; the next eligible reserve of their round takes the seat."""
    from sortition import SortitionError
    from sortition.council import step_down

    with db.writing() as session:
        council = _own_council(session, organiser, council_id, lock=True)
        _no_job_running(session, council_id)
        state, bundles = _council_chain(session, council)
        try:
            result = step_down(state, bundles, body.member, year=body.year)
        except SortitionError as error:
            raise _core_error(error) from None
        _save_round(session, council, result.state, result.replacement.round, result.bundle)
        _log_council(
            session, organiser, "council.replace", council_id, round=result.replacement.round
        )
        session.commit()
    return StepDownOut(
        council_id=council_id,
        stepped_down=result.withdrawn.id,
        replacement=_member_out(result.replacement),
        skipped=result.skipped,
    )


@council_router.post("/{council_id}/renewals", status_code=202, response_model=JobAccepted)
def renew_council(
    db: DB,
    settings: AppSettings,
    organiser: CurrentOrganiser,
    council_id: Id,
    people: Annotated[UploadFile, File(description="This year's respondents.")],
    source: Annotated[str, Form(min_length=1, max_length=500)],
    fallback: Annotated[str, Form(max_length=500)] = "",
    year: Annotated[int | None, Form(ge=1900, le=3000)] = None,
    quotas: OptionalFile = None,
    ineligible: OptionalFile = None,
    households: HouseholdsForm = "",
    id_column: IdColumnForm = "id",
    algorithm: AlgorithmForm = "leximin",
    panels: PanelsForm = 1000,
) -> Response:
    """Queue the next renewal (``council renew``): redraw the seats whose term ends."""
    from sortition.council import parse_state

    _plain(source=source, fallback=fallback)
    with db.reading() as session:
        council = _own_council(session, organiser, council_id)
        state, _ = _council_chain(session, council)
    if state.pending:
        raise ApiError(409, "pending", "reveal the pending round before the next renewal")
    terms = parse_state(json.loads(council.state_json or "{}")).terms
    pool, other, excluded = _read_council_files(
        terms, people, quotas, ineligible, households=_columns(households), id_column=id_column
    )
    payload = _council_payload(
        settings.derived_key("council-households"),
        pool,
        other,
        excluded,
        source=source,
        fallback=fallback,
        algorithm=algorithm,
        panels=panels,
        year=year,
    )
    with db.writing() as session:
        council = _own_council(session, organiser, council_id, lock=True)
        _no_job_running(session, council_id)
        job = _queue_job(session, council_id=council_id, kind="council-renew", payload=payload)
        _log_council(
            session,
            organiser,
            "council.renew",
            council_id,
            round=state.next_round,
            pool=len(pool),
            job_id=job.id,
        )
        session.commit()
        job_id = job.id or 0
    _RUNNER.submit(db.url, job_id)
    return _accepted(council_id, job_id, f"/api/draws/councils/{council_id}")


def _round_bundle(session: Session, council_id: int, round_number: int) -> Response:
    row = session.exec(
        select(CouncilBundle)
        .where(CouncilBundle.council_id == council_id)
        .where(CouncilBundle.round == round_number)
    ).first()
    if row is None:
        raise not_found("round")
    return Response(
        row.bundle_json.encode("utf-8"),
        media_type="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="council-{council_id}-round-{round_number}.json"'
            )
        },
    )


RoundNumber = Annotated[int, Path(ge=0, le=10_000)]


@council_router.get("/{council_id}/rounds/{round_number}/bundle")
def council_bundle(
    db: DB, organiser: CurrentOrganiser, council_id: Id, round_number: RoundNumber
) -> Response:
    """A round's audit bundle, as ``stadmaken council`` writes ``round-<n>.json``."""
    with db.reading() as session:
        _own_council(session, organiser, council_id)
        return _round_bundle(session, council_id, round_number)


def _public_council(session: Session, council_id: int) -> SortitionCouncil:
    council = session.get(SortitionCouncil, council_id)
    if council is None or council.state_json is None:
        raise not_found("council")
    return council


@public_council_router.get("/{council_id}", response_model=PublicCouncilOut)
def public_council(db: DB, council_id: Id) -> PublicCouncilOut:
    """The council's terms and rounds: commitments, sources, seeds, panels (pseudonyms)."""
    from sortition.audit import current_panel as panel_of
    from sortition.council import parse_state

    with db.reading() as session:
        council = _public_council(session, council_id)
        rows = session.exec(
            select(CouncilBundle)
            .where(CouncilBundle.council_id == council_id)
            .order_by(col(CouncilBundle.round))
        ).all()
    state = parse_state(json.loads(council.state_json or "{}"))
    rounds = []
    for record, row in zip(state.rounds, rows, strict=True):
        bundle = json.loads(row.bundle_json)
        part = bundle["reveal"]
        rounds.append(
            PublicCouncilRound(
                round=record.round,
                year=record.year,
                commitment=record.commitment,
                source=bundle["draw"]["randomness"]["source"],
                seed=None if part is None else part["seed"],
                panel=None if part is None else panel_of(bundle),
                events=len(bundle["events"]),
            )
        )
    return PublicCouncilOut(
        id=council_id,
        name=council.name,
        seats=dict(state.terms.seats),
        term_years=state.terms.term_years,
        cohorts=state.terms.cohorts,
        rounds=rounds,
    )


@public_council_router.get("/{council_id}/rounds/{round_number}/bundle")
def public_council_bundle(db: DB, council_id: Id, round_number: RoundNumber) -> Response:
    """A round's published audit bundle (``stadmaken verify --previous`` links the rounds)."""
    with db.reading() as session:
        _public_council(session, council_id)
        return _round_bundle(session, council_id, round_number)


router.include_router(council_router)
router.include_router(public_council_router)
router.include_router(organiser_router)
router.include_router(public_router)
