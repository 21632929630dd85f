"""``stadmaken serve`` (the web API under uvicorn) and ``stadmaken organiser add NAME``.

``serve`` applies the Alembic migrations once, in this process, then starts uvicorn with
``service.app:app_from_env`` as a factory, so each of ``--workers`` processes builds its app
from the same environment (``DATABASE_URL``, ``STADMAKEN_SECRET_KEY``, ...; see
:mod:`service.settings`). A generated secret file is created here, before the workers start,
so they all read the same one.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from service.common import EXIT_INPUT, one_line

__all__ = ["organiser_app", "serve_command"]


def _prepare() -> str:
    """Read the settings (creating the secret file if needed), migrate; the database URL."""
    from service.db import migrate
    from service.settings import Settings

    try:
        settings = Settings.from_env()
        migrate(settings.database_url)
    except Exception as error:  # a bad URL, an unreachable server, a bad secret
        typer.echo(f"error: cannot prepare the database: {one_line(str(error))}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    return settings.database_url


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the web API (OpenAPI documentation at /docs); migrates the database first."""
    import uvicorn

    url = _prepare()
    typer.echo(f"database: {_redacted(url)}; serving on http://{host}:{port}/docs", err=True)
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


organiser_app = typer.Typer(
    name="organiser",
    help="Manage the organisers who may log in to the web API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@organiser_app.command("add", help="Add an organiser; the password is read from a prompt/stdin.")
def organiser_add(
    name: Annotated[str, typer.Argument(help="The organiser's login name.")],
) -> None:
    from service.api_auth import add_organiser
    from service.db import Database

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    url = _prepare()
    database = Database(url)
    try:
        organiser_id = add_organiser(database, name, password)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    finally:
        database.dispose()
    typer.echo(f"added organiser '{name.strip()}' (id {organiser_id})", err=True)
