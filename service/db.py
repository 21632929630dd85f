"""The database: engines, sessions, and the Alembic migrations applied at start.

SQLite (the default) runs in WAL mode with a busy timeout, foreign keys on, and write
transactions that begin with ``BEGIN IMMEDIATE``: a write transaction takes the write lock
before it reads, so two processes never both read and then fail to upgrade (which SQLite
reports at once, past any busy timeout). Read-only requests use deferred transactions and do
not wait for writers. PostgreSQL (psycopg 3) uses one engine for both, at READ COMMITTED; the
exactly-once guarantee comes from unique constraints, not from the isolation level.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

__all__ = ["MIGRATIONS", "Database", "migrate"]

#: The Alembic scripts, shipped inside the package.
MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"

_BUSY_TIMEOUT_MS: Final = 30_000


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged ballot survives a crash
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The engines of one database URL.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``sqlite:///file.db`` or ``postgresql+psycopg://...``).

    Attributes
    ----------
    engine : Engine
        For reading.
    write_engine : Engine
        For transactions that write (the same engine except on SQLite).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=False)
            self.write_engine = _sqlite_engine(url, immediate=True)
        else:
            # no pre-ping (a round trip per request): after a database restart a stale
            # pooled connection fails once, and is then replaced
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)
            self.write_engine = self.engine

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading (rolled back at the end)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for one write transaction; the caller commits."""
        with Session(self.write_engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` without an ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (Alembic's ``upgrade``)."""
    database = Database(url)
    try:
        with database.write_engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        database.dispose()
