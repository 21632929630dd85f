"""What every router shares: errors, the database and settings of the app, the organiser check.

A router (``service/api_*.py``) is an :class:`fastapi.APIRouter` whose endpoints take

* ``db: DB`` (the :class:`~service.db.Database`; ``with db.reading() as s`` or
  ``with db.writing() as s: ...; s.commit()``),
* ``organiser: CurrentOrganiser`` for organiser endpoints (401 without a valid token),
* ``settings: AppSettings``, ``keys: AppKeys`` when they need them,

and raise :class:`ApiError` for every refusal; :func:`service.app.create_app` includes the
router. Another organiser's object is answered with the same 404 as a missing one
(:func:`not_found`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from threading import Lock
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Path, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from service.db import Database
from service.models import LoginToken, Organiser
from service.security import token_hash
from service.settings import Settings

__all__ = [
    "DB",
    "ERROR_RESPONSES",
    "JSON_ERROR_RESPONSES",
    "ApiError",
    "AppKeys",
    "AppSettings",
    "CurrentOrganiser",
    "ErrorOut",
    "Id",
    "Keys",
    "RateLimiter",
    "Text",
    "client_key",
    "not_found",
    "organiser_for_token",
    "today",
    "utcnow",
]


class ApiError(Exception):
    """A refusal: ``status`` with ``{"detail": message, "code": code, **extra}``."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers: dict[str, str] = {}


def _clean_text(value: str) -> str:
    """Refuse control characters and text that is not valid Unicode (lone surrogates)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode") from None
    return value


#: A single line of text that any database stores (no NUL, no control characters); the
#: schema documents the rule as a pattern (the check itself is :func:`_clean_text`).
Text = Annotated[
    str,
    AfterValidator(_clean_text),
    Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f]*$"}),
]

#: A database id in a path: a positive 32-bit integer (larger ones are 422, not a 500).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


class ErrorOut(BaseModel):
    """Every refusal: a message for people and a stable code for programs (some add fields:
    ``errors`` for 422, ``problems`` for an invalid ballot)."""

    model_config = ConfigDict(extra="allow")

    detail: str
    code: str


#: The refusals every router documents (``APIRouter(responses=ERROR_RESPONSES)``).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "The body cannot be read"),
        (401, "Not logged in as an organiser"),
        (403, "The voting code is not valid"),
        (404, "No such object, or not yours"),
        (409, "Not possible in the object's current state"),
        (413, "The body is too large"),
        (422, "The request is not valid"),
        (429, "Too many failed attempts"),
    )
}


#: :data:`ERROR_RESPONSES` for a route with a non-JSON ``response_class`` (a file download):
#: FastAPI would document the refusals in the route's media type, but they are JSON.
JSON_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": response["description"],
        "content": {"application/json": {"schema": ErrorOut.model_json_schema()}},
    }
    for status, response in ERROR_RESPONSES.items()
}


def not_found(what: str = "round") -> ApiError:
    return ApiError(404, "not-found", f"no such {what}")


class _Owned(Protocol):
    id: int | None
    organiser_id: int


OwnedT = TypeVar("OwnedT", bound=_Owned)


def owned(
    session: Session,
    model: type[OwnedT],
    object_id: int,
    organiser: Organiser,
    what: str,
    *,
    lock: bool = False,
) -> OwnedT:
    """The organiser's ``model`` row with this id (locked for update with ``lock``), or 404
    ``no such <what>``, also for another organiser's: whether it exists is not told."""
    query = select(model).where(model.id == object_id)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None or row.organiser_id != organiser.id:
        raise not_found(what)
    return row


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Keys:
    """The keys derived from the server secret."""

    code: bytes
    locator: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        return cls(settings.derived_key("voting-code"), settings.derived_key("ballot-locator"))


class RateLimiter:
    """Failed voting-code attempts per (client, round) in a sliding window, in this process.

    With several worker processes each keeps its own count, so a client gets at most
    ``limit × workers`` failed attempts per window; with 120-bit codes that is no help to a
    guesser either way. Counts are lost at a restart.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, int], deque[float]] = {}
        self._lock = Lock()

    def _recent(self, key: tuple[str, int], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, client: str, round_id: int) -> int | None:
        """Seconds to wait if the client is blocked for this round, else None."""
        now = time.monotonic()
        with self._lock:
            times = self._recent((client, round_id), now)
            if len(times) >= self.limit:
                return max(1, int(times[0] + self.window - now) + 1)
            if not times:
                self._failures.pop((client, round_id), None)
        return None

    def failed(self, client: str, round_id: int) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # bound the memory an attacker can make us use
                self._failures.clear()
            self._recent((client, round_id), time.monotonic()).append(time.monotonic())


def client_key(request: Request) -> str:
    """The client, for rate limiting only (never stored)."""
    return request.client.host if request.client else "unknown"


async def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _keys(request: Request) -> Keys:
    keys: Keys = request.app.state.keys
    return keys


# the dependencies that only read app.state are async: no thread-pool hop per request
DB = Annotated[Database, Depends(_database)]
AppSettings = Annotated[Settings, Depends(_settings)]
AppKeys = Annotated[Keys, Depends(_keys)]


def _unauthorised(message: str) -> ApiError:
    error = ApiError(401, "unauthorised", message)
    error.headers["WWW-Authenticate"] = "Bearer"
    return error


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def organiser_for_token(db: Database, token: str) -> Organiser | None:
    """The organiser logged in with ``token`` (a bearer token or the pages' login cookie), or
    ``None`` when the token is unknown or has expired."""
    with db.reading() as session:
        row = session.exec(
            select(LoginToken, Organiser)
            .join(Organiser, Organiser.id == LoginToken.organiser_id)  # type: ignore[arg-type]
            .where(LoginToken.token_hash == token_hash(token))
        ).first()
    if row is None or row[0].expires_at <= utcnow():
        return None
    organiser: Organiser = row[1]
    return organiser


def _current_organiser(request: Request, db: DB) -> Organiser:
    token = bearer_token(request)
    if token is None:
        raise _unauthorised("log in as an organiser: send 'Authorization: Bearer TOKEN'")
    organiser = organiser_for_token(db, token)
    if organiser is None:
        raise _unauthorised("the login token is not valid or has expired; log in again")
    return organiser


CurrentOrganiser = Annotated[Organiser, Depends(_current_organiser)]
