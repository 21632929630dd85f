"""The web API: :func:`create_app` builds it from :class:`~service.settings.Settings`.

``stadmaken serve`` runs it with uvicorn (``service.app:app_from_env`` as a factory in each
worker process) after applying the migrations once. What every response gets:

* errors as JSON ``{"detail": "...", "code": "..."}`` (a request FastAPI cannot validate: 422
  with the problems listed under ``errors``, without echoing the values sent);
* a body larger than ``max_body_bytes`` is refused with 413, whether it announces its length
  or streams it;
* security headers: a strict ``Content-Security-Policy`` (relaxed on ``/docs`` for Swagger
  UI's script and style), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY``, ``Cache-Control: no-store`` on the API.

Adding a router: write ``service/api_NAME.py`` with ``router = APIRouter(...)`` and add it to
the list in :func:`create_app`; the role-matrix test then fails until every new endpoint has
its rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api_common import ApiError, Keys, RateLimiter
from service.common import software_version
from service.db import Database
from service.settings import Settings

__all__ = ["app_from_env", "create_app"]

logger = logging.getLogger("stadmaken.service")

_API_CSP: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The web pages (service.web): only their own static CSS and JS, forms posted to themselves.
_WEB_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (pure ASGI, streams checked too)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.limit
                except ValueError:
                    too_large = False
                if too_large:
                    await self._refuse(send)
                    return
        # Read the whole body first (at most ``limit`` bytes kept), then replay it: a body that
        # turns out too large is refused before the app sees any of it.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body = message.get("body", b"")
            received += len(body)
            if received > self.limit:
                await self._refuse(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"the request body is larger than {self.limit} bytes", "code": "too-large"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *_security_headers("/"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _csp(path: str) -> str:
    api = path.startswith("/api") or path.startswith("/openapi")
    return _API_CSP if api else _WEB_CSP


def _security_headers(path: str) -> list[tuple[bytes, bytes]]:
    docs = path.startswith("/docs") or path.startswith("/redoc")
    headers = [
        (b"content-security-policy", (_DOCS_CSP if docs else _csp(path)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if path.startswith("/api"):
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeaders:
    """Add the security headers to every HTTP response (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _security_headers(scope.get("path", "/"))
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in names]
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _error(
    status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse({**(extra or {}), "detail": message, "code": code}, status_code=status)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append({"field": where, "message": str(error.get("msg", "invalid"))})
    return problems


#: Threads per worker process that run the endpoints.
WORKER_THREADS: Final = 2


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """The API for these settings (the database must already be migrated).

    Parameters
    ----------
    settings : Settings
    database : Database, optional
        Engines to use; by default made from ``settings.database_url``.
    """
    from service import api_auth, api_rounds

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the endpoints are plain functions run in a thread pool: two threads per worker keep
        # the database busy, while anyio's default of 40 spends the CPU fighting over the GIL
        # (benchmarks/README.md, "Service load")
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="stadmaken",
        version=software_version(),
        description=(
            "Neighbourhood-budget rounds with voting codes, secret ballots and exactly-once "
            "voting; organisers log in with POST /api/auth/login and send "
            "'Authorization: Bearer TOKEN'."
        ),
    )
    app.state.settings = settings
    app.state.db = database or Database(settings.database_url)
    app.state.keys = Keys.from_settings(settings)
    app.state.rate_limiter = RateLimiter(settings.code_attempts, settings.code_window_seconds)
    app.state.instances = {}  # budgeting instances of open rounds (service.api_rounds)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = _error(exc.status, exc.code, exc.message, exc.extra)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_errors(exc)
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return _error(422, "invalid-request", f"invalid request: {summary}", {"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        response = _error(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal-error", "an unexpected error occurred; it has been logged")

    from service.web import pages as web_pages

    for router in (  # a new router joins this list
        api_auth.router,
        api_rounds.router,
        __import__("service.api_elections", fromlist=["router"]).router,
        __import__("service.api_draws", fromlist=["router"]).router,
        web_pages.router,
    ):
        app.include_router(router)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """The app for ``DATABASE_URL`` and the other variables (uvicorn's ``--factory``)."""
    return create_app(Settings.from_env())
