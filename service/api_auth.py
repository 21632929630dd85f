"""Organisers: created from the command line (:func:`add_organiser`), log in for a token.

``POST /api/auth/login`` with a name and password gives a bearer token (256 random bits, stored
as its SHA-256, valid ``STADMAKEN_TOKEN_HOURS``); ``POST /api/auth/logout`` ends it;
``GET /api/auth/me`` says who is logged in. A wrong name and a wrong password get the same 401
after the same slow hash.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from service import audit
from service.api_common import (
    DB,
    ERROR_RESPONSES,
    ApiError,
    AppSettings,
    CurrentOrganiser,
    Text,
    bearer_token,
    utcnow,
)
from service.db import Database
from service.models import AuditEntry, LoginToken, Organiser
from service.security import hash_password, new_token, token_hash, verify_password

__all__ = ["add_organiser", "end_login", "router"]

router = APIRouter(prefix="/api", tags=["organisers"], responses=ERROR_RESPONSES)

MIN_PASSWORD: int = 10


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100)
    password: Text = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: str
    organiser: str


class Me(BaseModel):
    id: int
    name: str


def add_organiser(database: Database, name: str, password: str) -> int:
    """Create an organiser; returns the id.

    Raises
    ------
    ValueError
        For an empty or too long name, a password shorter than :data:`MIN_PASSWORD`
        characters, or a name that is taken.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("give a name of 1 to 100 characters")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    stored = hash_password(password)
    now = utcnow()
    with database.writing() as session:
        organiser = Organiser(name=name, password_hash=stored, created_at=now)
        session.add(organiser)
        try:
            session.flush()
        except IntegrityError:
            raise ValueError(f"there is already an organiser named '{name}'") from None
        assert organiser.id is not None
        audit.append(
            session,
            organiser_id=organiser.id,
            action="organiser-added",
            details={"name": name},
            now=now,
        )
        session.commit()
        return organiser.id


@router.post("/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, db: DB, settings: AppSettings) -> LoginResponse:
    """Log in as an organiser: a bearer token for the other organiser endpoints."""
    with db.reading() as session:
        organiser = session.exec(select(Organiser).where(Organiser.name == body.name)).first()
    stored = organiser.password_hash if organiser is not None else None
    if not verify_password(body.password, stored) or organiser is None or organiser.id is None:
        raise ApiError(401, "bad-login", "the name or the password is wrong")
    token = new_token()
    now = utcnow()
    expires = now + timedelta(hours=settings.token_hours)
    with db.writing() as session:
        session.exec(delete(LoginToken).where(LoginToken.expires_at <= now))  # type: ignore[arg-type]
        session.add(
            LoginToken(token_hash=token_hash(token), organiser_id=organiser.id, expires_at=expires)
        )
        audit.append(session, organiser_id=organiser.id, action="login", now=now)
        session.commit()
    return LoginResponse(token=token, expires_at=expires.isoformat(), organiser=organiser.name)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, organiser: CurrentOrganiser, db: DB) -> None:
    """End this login token."""
    token = bearer_token(request)
    assert token is not None  # CurrentOrganiser checked it
    end_login(db, organiser, token)


def end_login(db: Database, organiser: Organiser, token: str) -> None:
    """Delete the login token ``token`` of ``organiser`` and log it (API and pages)."""
    with db.writing() as session:
        session.exec(delete(LoginToken).where(LoginToken.token_hash == token_hash(token)))  # type: ignore[arg-type]
        audit.append(session, organiser_id=organiser.id, action="logout", now=utcnow())
        session.commit()


@router.get("/auth/me", response_model=Me)
def me(organiser: CurrentOrganiser) -> Me:
    """The organiser this token belongs to."""
    assert organiser.id is not None
    return Me(id=organiser.id, name=organiser.name)


class AuditOut(BaseModel):
    seq: int
    at: str
    action: str
    round_id: int | None
    details: dict[str, object]
    prev_hash: str
    hash: str


@router.get("/audit", response_model=list[AuditOut])
def audit_log(organiser: CurrentOrganiser, db: DB) -> list[AuditOut]:
    """The organiser's own entries of the hash-chained audit log (with their hashes)."""
    import json

    with db.reading() as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.organiser_id == organiser.id)
            .order_by(col(AuditEntry.seq))
        ).all()
    return [
        AuditOut(
            seq=e.seq,
            at=e.at.isoformat(),
            action=e.action,
            round_id=e.round_id,
            details=json.loads(e.details),
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in entries
    ]
