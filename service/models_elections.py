"""The tables of elections (issue 6: "any count of the voting core on uploaded ballots or on
ballots cast with codes").

They follow the pattern of the budget rounds' tables (:mod:`service.models`), whose code tables
point at ``budget_round`` and so cannot hold an election's codes:

* ``election`` holds the settings, the state, the uploaded ballot file (if the ballots are
  uploaded), the tie-breaking seed and the count (the JSON document of
  :func:`service.count_cli.count_document`).
* ``election_code`` holds each issued code only as ``HMAC-SHA256(code key, code)``
  (:func:`service.security.keyed_hash`), with the letter's serial number.
* ``election_code_use`` says which code has voted: the code's hash, the election and the
  *day*; nothing else.
* ``election_ballot`` says what was voted: a random id, the election, the choice (JSON) and
  ``sha256(receipt)``. There is no column linking it to a code, and no time.

Exactly once: the primary key of ``election_code_use`` is the code's hash, inserted in the same
transaction as the ballot. ``election_code_use`` and ``election_ballot`` have random primary
keys and no ``rowid`` on SQLite, as ``code_use`` and ``ballot`` have.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["Election", "ElectionBallot", "ElectionCode", "ElectionCodeUse"]


class Election(SQLModel, table=True):
    """An election: its count method, seats, candidates and state.

    ``source`` is ``upload`` (the organiser uploads a ballot file in ``draft``, then closes) or
    ``codes`` (residents cast ballots with voting codes while ``open``). ``status`` goes
    ``draft`` → (``open`` →) ``closed`` → ``published``. ``candidates`` is a JSON list.
    """

    __tablename__ = "election"

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    title: str = Field(max_length=200)
    method: str = Field(max_length=40)
    ballot_kind: str = Field(max_length=20)
    seats: int | None = None
    candidates: str = Field(sa_column=Column(Text, nullable=False))
    max_score: int | None = None
    source: str = Field(max_length=10)
    results_public: bool = True
    status: str = Field(default="draft", max_length=20)
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    tie_seed: str | None = Field(default=None, max_length=200)
    file_name: str | None = Field(default=None, max_length=200)
    file_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    file_sha256: str | None = Field(default=None, max_length=64)
    result_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ElectionCode(SQLModel, table=True):
    """An issued voting code of an election, as its keyed hash; ``active`` or ``revoked``."""

    __tablename__ = "election_code"
    __table_args__ = (UniqueConstraint("election_id", "serial", name="uq_election_code_serial"),)

    code_hash: str = Field(primary_key=True, max_length=64)
    election_id: int = Field(foreign_key="election.id", index=True)
    serial: int
    status: str = Field(default="active", max_length=10)
    issued_on: date
    replaces: int | None = None


class ElectionCodeUse(SQLModel, table=True):
    """That a code has voted in an election, with the day only. No link to the ballot."""

    __tablename__ = "election_code_use"
    __table_args__ = {"sqlite_with_rowid": False}

    code_hash: str = Field(primary_key=True, max_length=64)
    election_id: int = Field(foreign_key="election.id", index=True)
    used_on: date


class ElectionBallot(SQLModel, table=True):
    """What one voter chose (JSON), with ``sha256(receipt)``; no link to the code."""

    __tablename__ = "election_ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    election_id: int = Field(foreign_key="election.id", index=True)
    choice: str = Field(sa_column=Column(Text, nullable=False))
    receipt_hash: str = Field(max_length=64, unique=True)
