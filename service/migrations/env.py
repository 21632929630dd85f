"""Alembic environment of the service: the URL or connection comes from :mod:`service.db`."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import service
from service.db import Database

# every ``service.models*`` module registers its tables on SQLModel.metadata
for _module in pkgutil.iter_modules(service.__path__):
    if _module.name.startswith("models"):
        importlib.import_module(f"service.{_module.name}")

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = Database(config.attributes["database_url"])
    try:
        with database.write_engine.begin() as new_connection:
            _run(new_connection)
    finally:
        database.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not used
    raise SystemExit("stadmaken applies its migrations online only")
run_migrations_online()
