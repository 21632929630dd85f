"""The tables of sortition draws (issue 6): a draw and the background jobs that compute it.

What each table may and may not hold:

* ``sortition_draw`` holds the **pseudonymised** pool (:func:`sortition.audit.pseudonymise`:
  ids become ``P0001``..., household keys ``H0001``...; only the quota features are kept), the
  quotas, the settings of the draw and, once computed, the audit bundle (canonical JSON, the
  same bytes ``stadmaken draw commit`` writes). The uploaded files themselves are never stored:
  names, addresses and other columns are not even read. ``mapping`` (pseudonym → id, JSON) is the
  private mapping the command line writes with mode 0600; it is shown to the draw's organiser
  only, and never published or logged.
* ``sortition_job`` holds the state of one run of the distribution, the rounding and the
  commitment: ``queued`` → ``running`` → ``done`` or ``failed``, a progress figure in
  ``[0, 1]``, the core's progress message (no personal data: quota names and counts), and a
  *heartbeat* that the server process owning the job refreshes every few seconds. Any worker
  process can answer for any job from these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["CouncilBundle", "DrawJob", "SortitionCouncil", "SortitionDraw"]


class SortitionDraw(SQLModel, table=True):
    """An auditable panel draw: ``draft`` → ``committed`` → ``published`` → ``revealed``.

    ``draft``: the files are read and pseudonymised; a job computes the lottery. ``committed``:
    the bundle and its commitment exist (seen by the organiser only). ``published``: the
    commitment and the bundle are public, the seed can now be revealed. ``revealed``: the seed
    has selected the panel; replacements append events to the bundle.
    """

    __tablename__ = "sortition_draw"

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    name: str = Field(max_length=200)
    status: str = Field(default="draft", max_length=20)
    size: int
    algorithm: str = Field(max_length=20)
    panels: int
    source: str = Field(max_length=500)
    fallback: str = Field(default="", max_length=500)
    households: str = Field(default="", max_length=500)
    pool_size: int
    pool_json: str = Field(sa_column=Column(Text, nullable=False))
    quotas_json: str = Field(sa_column=Column(Text, nullable=False))
    mapping_json: str = Field(sa_column=Column(Text, nullable=False))
    bundle_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    commitment: str | None = Field(default=None, max_length=64)
    seed: str | None = Field(default=None, max_length=500)
    created_at: datetime
    committed_at: datetime | None = None
    published_at: datetime | None = None
    revealed_at: datetime | None = None


class SortitionCouncil(SQLModel, table=True):
    """A drawn neighbourhood council (:mod:`sortition.council`).

    ``state_json`` is the private council state (:func:`sortition.council.dump_state`: terms,
    secret key, pseudonym → id per round, members), as ``stadmaken council`` keeps it in a file
    of mode 0600; None until the first draw is committed. It is shown to its organiser only
    through the member list, never published or logged.
    """

    __tablename__ = "sortition_council"

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    name: str = Field(max_length=200)
    state_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime


class CouncilBundle(SQLModel, table=True):
    """The public audit bundle of one round of a council (``round-<n>.json`` of the CLI)."""

    __tablename__ = "sortition_council_bundle"
    __table_args__ = (UniqueConstraint("council_id", "round", name="uq_council_round"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="sortition_council.id", index=True)
    round: int
    bundle_json: str = Field(sa_column=Column(Text, nullable=False))


class DrawJob(SQLModel, table=True):
    """One background run of a draw's or a council round's computation.

    ``payload_json`` holds a council job's inputs (respondents' ids and quota values,
    household keys replaced by keyed hashes); it is cleared when the job ends.
    """

    __tablename__ = "sortition_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="draw", max_length=20)
    draw_id: int | None = Field(default=None, foreign_key="sortition_draw.id", index=True)
    council_id: int | None = Field(default=None, foreign_key="sortition_council.id", index=True)
    payload_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="queued", max_length=10)
    progress: float = 0.0
    message: str = Field(default="", max_length=500)
    error_code: str | None = Field(default=None, max_length=50)
    owner: str = Field(max_length=100)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime
