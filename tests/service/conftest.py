"""Fixtures of the service tests: a migrated database (SQLite always, PostgreSQL when
``TEST_DATABASE_URL`` is set, each test in a fresh schema), the app, and a helper that sets up
organisers and rounds through the API itself."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from api_helpers import SECRET, Api
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from service.app import create_app
from service.db import migrate
from service.settings import Settings, normalise_database_url


def postgres_base() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


BACKENDS = ("sqlite", "postgresql")


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in ``directory``, or a fresh PostgreSQL
    schema (dropped afterwards); skips PostgreSQL without ``TEST_DATABASE_URL``."""
    if kind == "sqlite":
        yield f"sqlite:///{directory}/test.db"
        return
    base = postgres_base()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = "t_" + secrets.token_hex(6)
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, on each backend."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    migrate(database_url)
    return Settings(database_url=database_url, secret_key=SECRET)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, app: FastAPI) -> Api:
    return Api(client, app)
