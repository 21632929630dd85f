"""The database tables (SQLModel), and what each one may and may not hold.

Ballot secrecy (issue 6) is a property of these tables:

* ``voting_code`` holds each issued code only as ``HMAC-SHA256(code key, code)``, with the
  letter's serial number, so a lost letter can be replaced by serial.
* ``code_use`` says which code has voted: the code's hash, the round, and the *day*. Nothing
  else: no time of day, no address, no ballot id.
* ``ballot`` says what was voted: a random id, the round, the choice, ``sha256(receipt)`` and,
  only when the round lets voters change their ballot, a *locator*:
  ``HMAC-SHA256(locator key, code)`` with a key derived from the server secret under a
  different label, so the database alone cannot link a ballot to a code (and so to a letter).
* ``code_use`` and ``ballot`` have random primary keys and, on SQLite, no ``rowid``
  (``WITHOUT ROWID``), so the order of the rows in the file is the order of those keys, not of
  insertion. On PostgreSQL the physical order of a table's rows (``ctid``) follows insertion
  until ``VACUUM FULL``/``CLUSTER``; someone with a copy of the raw database files could try to
  pair rows inserted together. Running ``CLUSTER ballot USING ballot_pkey`` after the close
  removes that order.

Exactly once: the primary key of ``code_use`` is the code's hash, and the row is inserted in the
same transaction as the ballot; a second insert of the same code fails on that constraint in
every process, whatever the timing.

The audit log (``audit_log``) is append-only (database triggers refuse UPDATE and DELETE) and
hash-chained: each row's ``hash`` covers its fields and the previous row's hash
(:func:`service.audit.entry_hash`); ``prev_hash`` is unique, so the chain cannot fork.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AuditEntry",
    "Ballot",
    "BudgetProject",
    "BudgetRound",
    "CodeUse",
    "LoginToken",
    "Organiser",
    "VotingCode",
]


class Organiser(SQLModel, table=True):
    """A person who runs rounds; logs in with a name and a password (scrypt)."""

    __tablename__ = "organiser"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    password_hash: str = Field(max_length=300)
    created_at: datetime


class LoginToken(SQLModel, table=True):
    """A bearer token, stored as its SHA-256 (the token itself has 256 random bits)."""

    __tablename__ = "login_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    expires_at: datetime


class BudgetRound(SQLModel, table=True):
    """A neighbourhood-budget round: its budget, vote type, ballot rules, rule and state.

    Amounts are exact decimals as text (:func:`budgeting.format_number`). ``status`` goes
    ``draft`` → ``open`` → ``closed`` → ``published``; the ballot rules and projects can change
    only in ``draft``.
    """

    __tablename__ = "budget_round"

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    name: str = Field(max_length=200)
    budget: str = Field(max_length=40)
    vote_type: str = Field(max_length=20)
    rule: str = Field(max_length=40)
    currency: str = Field(default="", max_length=10)
    min_length: int | None = None
    max_length: int | None = None
    min_sum_cost: str | None = Field(default=None, max_length=40)
    max_sum_cost: str | None = Field(default=None, max_length=40)
    min_points: str | None = Field(default=None, max_length=40)
    max_points: str | None = Field(default=None, max_length=40)
    max_sum_points: str | None = Field(default=None, max_length=40)
    allow_changes: bool = False
    status: str = Field(default="draft", max_length=20)
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    tie_seed: str | None = Field(default=None, max_length=64)
    result_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class BudgetProject(SQLModel, table=True):
    """A project of a round; ``categories`` is a comma-separated list."""

    __tablename__ = "budget_project"
    __table_args__ = (UniqueConstraint("round_id", "project_id", name="uq_project_round_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="budget_round.id", index=True)
    project_id: str = Field(max_length=100)
    name: str = Field(default="", max_length=500)
    cost: str = Field(max_length=40)
    categories: str = Field(default="", max_length=500)
    position: int = 0


class VotingCode(SQLModel, table=True):
    """An issued voting code, as its keyed hash; ``status`` is ``active`` or ``revoked``."""

    __tablename__ = "voting_code"
    __table_args__ = (UniqueConstraint("round_id", "serial", name="uq_code_round_serial"),)

    code_hash: str = Field(primary_key=True, max_length=64)
    round_id: int = Field(foreign_key="budget_round.id", index=True)
    serial: int
    status: str = Field(default="active", max_length=10)
    issued_on: date
    replaces: int | None = None


class CodeUse(SQLModel, table=True):
    """That a code has voted, with the day only. No link to the ballot."""

    __tablename__ = "code_use"
    __table_args__ = {"sqlite_with_rowid": False}

    code_hash: str = Field(primary_key=True, max_length=64)
    round_id: int = Field(foreign_key="budget_round.id", index=True)
    used_on: date


class Ballot(SQLModel, table=True):
    """What one voter chose (JSON lists), with ``sha256(receipt)``; no link to the code."""

    __tablename__ = "ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="budget_round.id", index=True)
    projects: str = Field(sa_column=Column(Text, nullable=False))
    points: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    receipt_hash: str = Field(max_length=64, unique=True)
    locator: str | None = Field(default=None, max_length=64, unique=True)


class AuditEntry(SQLModel, table=True):
    """One organiser action; ``hash`` chains it to the row before (see :mod:`service.audit`)."""

    __tablename__ = "audit_log"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    organiser_id: int | None = None
    action: str = Field(max_length=50)
    round_id: int | None = None
    details: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64)
