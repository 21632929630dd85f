"""Neighbourhood-budget rounds: organisers set them up, residents vote with codes, all can audit.

Life of a round: ``draft`` (name, budget, vote type, ballot rules, rule, projects can change)
→ ``open`` (ballot rules and projects frozen: 409; residents vote) → ``closed`` (no more
ballots; the outcome is computed by the round's rule with a tie-breaking seed drawn at the
close) → ``published`` (results, anonymised ballots and the pabulib file become public).

Voting codes are issued in ``draft`` or ``open``: the response (JSON, or the same as CSV with
``?format=csv``) is the only place a code ever appears; the database keeps its keyed hash and the
letter's serial number. **Re-issuing** a lost code (by serial) revokes the old code, which can no
longer vote, and issues a new one with a new serial; it is logged. If the old code has
*already voted*, re-issuing is refused (409): its ballot stays counted (the database cannot tell
which ballot is its, by design), and a second code would let the letter vote twice. A resident
whose letter was stolen and used is in the same position as one whose postal vote was stolen.

Residents: ``POST /api/public/rounds/{id}/ballots`` casts a ballot with a code, checked with
:func:`budgeting.ballot_problems` (422 lists every problem in English and Dutch); the answer
holds a *receipt*, a random secret; the published ballots show ``sha256(receipt)`` next to each
ballot. When the round allows changes, ``PUT`` on the same path replaces the ballot until the
close and gives a new receipt (the old one no longer appears). Failed code attempts are rate
limited per client and round (:class:`service.api_common.RateLimiter`, in-process).

Exactly once: the ballot and its ``code_use`` row are inserted in one transaction; the primary
key of ``code_use`` is the code's hash, so a second use fails with an ``IntegrityError`` in any
process (409), and the round and the code are read with a share lock in that transaction, so a
ballot cannot slip in after the close or after a re-issue.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from sqlalchemy import Executable, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from budgeting import (
    Ballot,
    BudgetingError,
    Instance,
    Profile,
    Project,
    ballot_problems,
    format_number,
    format_pb,
    parse_number,
    to_election,
)
from budgeting.election import TieBreak, VoteType
from service import audit
from service.api_common import (
    DB,
    ERROR_RESPONSES,
    JSON_ERROR_RESPONSES,
    ApiError,
    AppKeys,
    CurrentOrganiser,
    Id,
    Text,
    client_key,
    not_found,
    owned,
    today,
    utcnow,
)
from service.codes import CodeOut, CodeSummary, codes_csv, new_codes
from service.models import Ballot as BallotRow
from service.models import BudgetProject, BudgetRound, CodeUse, Organiser, VotingCode
from service.pb_cli import PB_RULES, pb_document, run_pb_rule
from service.security import (
    keyed_hash,
    new_code,
    new_receipt,
    normalise_code,
    receipt_hash,
)

__all__ = ["organiser_router", "public_router", "router"]

router = APIRouter()
organiser_router = APIRouter(
    prefix="/api/rounds", tags=["rounds (organiser)"], responses=ERROR_RESPONSES
)
public_router = APIRouter(
    prefix="/api/public/rounds",
    tags=["rounds (residents and public)"],
    responses=ERROR_RESPONSES,
)

VOTE_TYPES: Final = ("approval", "knapsack", "cumulative", "ordinal")
MAX_PROJECTS: Final = 1000
MAX_CODES: Final = 10_000
_AMOUNT_LIMIT: Final = Fraction(10**15)

# --------------------------------------------------------------------------- input types


def _amount(value: object) -> str:
    """An exact, non-negative amount from a JSON number or a decimal text, as canonical text."""
    if isinstance(value, bool):
        raise ValueError("give an amount as a number or a decimal text")
    if isinstance(value, int):
        number = Fraction(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("give a finite amount")
        number = Fraction(repr(value))
    elif isinstance(value, str):
        if not value.strip() or len(value) > 30:
            raise ValueError("give an amount of at most 30 characters")
        exponent = value.lower().partition("e")[2]
        if exponent and not (exponent.lstrip("+-").isdigit() and abs(int(exponent)) <= 20):
            raise ValueError(f"'{value}' is not a number (exponents go up to 20)")
        try:
            number = parse_number(value)
        except (BudgetingError, ValueError, ZeroDivisionError):
            raise ValueError(f"'{value}' is not a number") from None
    else:
        raise ValueError("give an amount as a number or a decimal text")
    if number < 0 or number > _AMOUNT_LIMIT:
        raise ValueError("give an amount between 0 and 10^15")
    text = format_number(number)
    if len(text) > 40:
        raise ValueError("the amount has too many decimals")
    return text


#: What the schema documents for an amount: both forms :func:`_amount` accepts.
_AMOUNT_SCHEMA: Final = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 10**15},
        {"type": "string", "minLength": 1, "maxLength": 30, "examples": ["1250.5"]},
    ],
    "description": "A non-negative amount: a JSON number or a decimal text such as '1250.5'",
}
Amount = Annotated[str, BeforeValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA, mode="validation")]


class BallotRulesIn(BaseModel):
    """The ballot rules (pabulib's names); absent means pabulib's default."""

    model_config = ConfigDict(extra="forbid")

    min_length: int | None = Field(default=None, ge=0, le=MAX_PROJECTS)
    max_length: int | None = Field(default=None, ge=1, le=MAX_PROJECTS)
    min_sum_cost: Amount | None = None
    max_sum_cost: Amount | None = None
    min_points: Amount | None = None
    max_points: Amount | None = None
    max_sum_points: Amount | None = None


#: The name of a rule (the schema lists them; the check is in :func:`_check_round`).
RuleName = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(PB_RULES)})]


class RoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    budget: Amount
    vote_type: Literal["approval", "knapsack", "cumulative", "ordinal"]
    rule: RuleName = Field(default="greedy", description=", ".join(PB_RULES))
    currency: str = Field(default="", max_length=10, pattern=r"^[A-Za-z€$£]*$")
    ballot_rules: BallotRulesIn = Field(default_factory=BallotRulesIn)
    allow_changes: bool = False


class RoundUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    budget: Amount | None = None
    vote_type: Literal["approval", "knapsack", "cumulative", "ordinal"] | None = None
    rule: RuleName | None = None
    currency: str | None = Field(default=None, max_length=10, pattern=r"^[A-Za-z€$£]*$")
    ballot_rules: BallotRulesIn | None = None
    allow_changes: bool | None = None


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text = Field(min_length=1, max_length=100)
    name: Text = Field(default="", max_length=500)
    cost: Amount
    categories: list[Annotated[Text, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_CODES)


class BallotIn(BaseModel):
    """A resident's ballot: the code from the letter and the chosen projects."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=100)
    projects: list[Annotated[Text, Field(min_length=1, max_length=100)]] = Field(
        max_length=MAX_PROJECTS
    )
    points: list[Amount] | None = Field(default=None, max_length=MAX_PROJECTS)


# --------------------------------------------------------------------------- output types


class ProjectOut(BaseModel):
    id: str
    name: str
    cost: str
    categories: list[str]


class RoundOut(BaseModel):
    id: int
    name: str
    budget: str
    vote_type: str
    rule: str
    currency: str
    ballot_rules: dict[str, Any]
    allow_changes: bool
    status: str
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    published_at: datetime | None
    projects: list[ProjectOut]


class CodesIssued(BaseModel):
    round_id: int
    codes: list[CodeOut]
    note: str = "These codes are shown only now; they are stored only as keyed hashes."


class CodesOut(BaseModel):
    round_id: int
    issued: int
    active: int
    revoked: int
    voted: int
    codes: list[CodeSummary]


class Receipt(BaseModel):
    round_id: int
    receipt: str
    receipt_hash: str
    message: str


class PublishedBallot(BaseModel):
    receipt_hash: str
    projects: list[str]
    points: list[str] | None


class BallotsOut(BaseModel):
    round_id: int
    vote_type: str
    ballots: list[PublishedBallot]


# --------------------------------------------------------------------------- helpers


def _rules(round_: BudgetRound) -> dict[str, Any]:
    names = (
        *("min_length", "max_length", "min_sum_cost", "max_sum_cost"),
        *("min_points", "max_points", "max_sum_points"),
    )
    return {name: getattr(round_, name) for name in names if getattr(round_, name) is not None}


def _core_vote_type(vote_type: str) -> VoteType:
    return "approval" if vote_type == "knapsack" else vote_type  # type: ignore[return-value]


def _instance(round_: BudgetRound, projects: Sequence[BudgetProject]) -> Instance:
    """The budgeting core's instance of a round (raises BudgetingError)."""
    meta: dict[str, str] = {"description": round_.name}
    for key, value in _rules(round_).items():
        meta[key] = str(value)
    if round_.vote_type == "knapsack" and "max_sum_cost" not in meta:
        meta["max_sum_cost"] = round_.budget
    if round_.currency:
        meta["currency"] = round_.currency
    core = [
        Project(
            p.project_id,
            parse_number(p.cost),
            name=p.name,
            categories=tuple(c for c in p.categories.split(",") if c),
        )
        for p in projects
    ]
    return Instance.build(
        core,
        budget=parse_number(round_.budget),
        vote_type=_core_vote_type(round_.vote_type),
        meta=meta,
    )


def _check_round(round_: BudgetRound, projects: Sequence[BudgetProject]) -> Instance:
    """422 unless the round's settings make sense together and its rule fits its vote type."""
    if round_.rule not in PB_RULES:
        raise ApiError(
            422,
            "unknown-rule",
            f"unknown rule '{round_.rule}'; choose one of {', '.join(PB_RULES)}",
        )
    if round_.vote_type == "cumulative" and round_.max_sum_points is None:
        raise ApiError(
            422,
            "missing-max-sum-points",
            "a cumulative round needs ballot_rules.max_sum_points (the points each voter has)",
        )
    if round_.vote_type != "cumulative" and any(
        getattr(round_, n) is not None for n in ("min_points", "max_points", "max_sum_points")
    ):
        raise ApiError(422, "unexpected-points", "only cumulative rounds have points rules")
    if (
        round_.min_length is not None
        and round_.max_length is not None
        and round_.min_length > round_.max_length
    ):
        raise ApiError(422, "bad-ballot-rules", "min_length is larger than max_length")
    try:
        instance = _instance(round_, projects)
        election = to_election(instance, Profile(instance.vote_type, ()))
        run_pb_rule(election, instance, round_.rule, TieBreak.default(election, "check"))
    except BudgetingError as error:
        raise ApiError(422, error.code, error.message) from None
    return instance


def _projects(session: Session, round_id: int) -> list[BudgetProject]:
    return list(
        session.exec(
            select(BudgetProject)
            .where(BudgetProject.round_id == round_id)
            .order_by(col(BudgetProject.position))
        )
    )


def _project_out(p: BudgetProject) -> ProjectOut:
    return ProjectOut(
        id=p.project_id,
        name=p.name,
        cost=p.cost,
        categories=[c for c in p.categories.split(",") if c],
    )


def _round_out(round_: BudgetRound, projects: Sequence[BudgetProject]) -> RoundOut:
    assert round_.id is not None
    return RoundOut(
        id=round_.id,
        name=round_.name,
        budget=round_.budget,
        vote_type=round_.vote_type,
        rule=round_.rule,
        currency=round_.currency,
        ballot_rules=_rules(round_),
        allow_changes=round_.allow_changes,
        status=round_.status,
        created_at=round_.created_at,
        opened_at=round_.opened_at,
        closed_at=round_.closed_at,
        published_at=round_.published_at,
        projects=[_project_out(p) for p in projects],
    )


def _own_round(
    session: Session, organiser: Organiser, round_id: Id, *, lock: bool = False
) -> BudgetRound:
    """The organiser's round, or 404 (also for another organiser's round)."""
    return owned(session, BudgetRound, round_id, organiser, "round", lock=lock)


def _require(round_: BudgetRound, statuses: tuple[str, ...], doing: str) -> None:
    if round_.status not in statuses:
        raise ApiError(
            409,
            "wrong-status",
            f"cannot {doing}: the round is {round_.status} (needs: {' or '.join(statuses)})",
            {"status": round_.status},
        )


def _log(
    session: Session,
    organiser: Organiser,
    action: str,
    round_id: int | None,
    **details: Any,
) -> None:
    audit.append(
        session,
        organiser_id=organiser.id,
        action=action,
        round_id=round_id,
        details=details,
        now=utcnow(),
    )


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ApiError(
            409, "conflict", "a concurrent change got there first; reload and try again"
        ) from None


# --------------------------------------------------------------------------- organisers


@organiser_router.post("", status_code=201, response_model=RoundOut)
def create_round(body: RoundCreate, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """Create a round (in ``draft``)."""
    assert organiser.id is not None
    round_ = BudgetRound(
        organiser_id=organiser.id,
        name=body.name,
        budget=body.budget,
        vote_type=body.vote_type,
        rule=body.rule,
        currency=body.currency,
        allow_changes=body.allow_changes,
        created_at=utcnow(),
        **body.ballot_rules.model_dump(),
    )
    if parse_number(round_.budget) <= 0:
        raise ApiError(422, "bad-budget", "the budget must be more than 0")
    _check_round(round_, [])
    with db.writing() as session:
        session.add(round_)
        session.flush()
        _log(session, organiser, "round-created", round_.id, name=body.name, rule=body.rule)
        _commit(session)
    return _round_out(round_, [])


@organiser_router.get("", response_model=list[RoundOut])
def list_rounds(organiser: CurrentOrganiser, db: DB) -> list[RoundOut]:
    """The organiser's own rounds."""
    with db.reading() as session:
        rounds = session.exec(
            select(BudgetRound)
            .where(BudgetRound.organiser_id == organiser.id)
            .order_by(col(BudgetRound.id))
        ).all()
        return [_round_out(r, _projects(session, r.id or 0)) for r in rounds]


@organiser_router.get("/{round_id}", response_model=RoundOut)
def get_round(round_id: Id, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """One of the organiser's rounds, with its projects."""
    with db.reading() as session:
        round_ = _own_round(session, organiser, round_id)
        return _round_out(round_, _projects(session, round_id))


@organiser_router.patch("/{round_id}", response_model=RoundOut)
def update_round(round_id: Id, body: RoundUpdate, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """Change a round's settings; only in ``draft`` (409 once voting has opened)."""
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("draft",), "change the ballot rules")
        changes = body.model_dump(exclude_unset=True, exclude={"ballot_rules"})
        for key, value in changes.items():
            if value is None:
                raise ApiError(422, "invalid-request", f"invalid request: {key} may not be null")
            setattr(round_, key, value)
        if body.ballot_rules is not None:
            for key, value in body.ballot_rules.model_dump().items():
                setattr(round_, key, value)
        if parse_number(round_.budget) <= 0:
            raise ApiError(422, "bad-budget", "the budget must be more than 0")
        projects = _projects(session, round_id)
        _check_round(round_, projects)
        session.add(round_)
        _log(session, organiser, "round-updated", round_id, fields=sorted(body.model_fields_set))
        _commit(session)
        return _round_out(round_, projects)


def _replace_projects(
    db: Any, organiser: Organiser, round_id: Id, items: Sequence[ProjectIn], source: str
) -> RoundOut:
    if len(items) > MAX_PROJECTS:
        raise ApiError(422, "too-many-projects", f"at most {MAX_PROJECTS} projects")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ApiError(422, "duplicate-project", f"project id '{item.id}' occurs twice")
        seen.add(item.id)
        if "," in item.id or item.id != item.id.strip():
            raise ApiError(
                422, "bad-project-id", f"project id '{item.id}' has a comma or surrounding spaces"
            )
        for label in item.categories:
            if "," in label or label != label.strip():
                raise ApiError(
                    422, "bad-category", f"category '{label}' has a comma or surrounding spaces"
                )
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("draft",), "change the projects")
        for old in _projects(session, round_id):
            session.delete(old)
        session.flush()
        rows = [
            BudgetProject(
                round_id=round_id,
                project_id=item.id,
                name=item.name,
                cost=item.cost,
                categories=",".join(item.categories),
                position=position,
            )
            for position, item in enumerate(items)
        ]
        _check_round(round_, rows)
        session.add_all(rows)
        _log(session, organiser, "projects-set", round_id, count=len(rows), source=source)
        _commit(session)
        return _round_out(round_, rows)


@organiser_router.put("/{round_id}/projects", response_model=RoundOut)
def set_projects(
    round_id: Id,
    body: Annotated[list[ProjectIn], Field(max_length=MAX_PROJECTS)],
    organiser: CurrentOrganiser,
    db: DB,
) -> RoundOut:
    """Replace the round's projects (JSON list); only in ``draft``."""
    return _replace_projects(db, organiser, round_id, body, "json")


@organiser_router.post("/{round_id}/projects.csv", response_model=RoundOut)
def upload_projects(
    round_id: Id,
    organiser: CurrentOrganiser,
    db: DB,
    file: Annotated[UploadFile, File(description="CSV: id,name,cost,category")],
) -> RoundOut:
    """Replace the round's projects from a CSV file (columns ``id`` or ``project_id``,
    ``cost``, optional ``name`` and ``category``/``categories``, comma- or semicolon-separated;
    several categories in one cell are separated by ``|``)."""
    data = file.file.read()
    items = parse_projects_csv(data)
    return _replace_projects(db, organiser, round_id, items, "csv")


def parse_projects_csv(data: bytes) -> list[ProjectIn]:
    """The projects of a CSV upload; 422 naming the line for anything wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "bad-csv", "the file is not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ApiError(422, "bad-csv", "the file is empty; give a header line id,name,cost")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ApiError(422, "bad-csv", f"the file is not valid CSV: {error}") from None
    header = [cell.strip().casefold() for cell in rows[0]]

    def column(*names: str) -> int | None:
        for name in names:
            if name in header:
                return header.index(name)
        return None

    id_at, cost_at = column("id", "project_id"), column("cost")
    name_at, category_at = column("name"), column("category", "categories")
    if id_at is None or cost_at is None:
        raise ApiError(
            422, "bad-csv", "line 1: the header needs the columns 'id' (or 'project_id') and 'cost'"
        )
    items: list[ProjectIn] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ApiError(
                422, "bad-csv", f"line {line}: {len(row)} fields, the header has {len(header)}"
            )
        categories = row[category_at].strip() if category_at is not None else ""
        try:
            items.append(
                ProjectIn(
                    id=row[id_at].strip(),
                    name=row[name_at].strip() if name_at is not None else "",
                    cost=row[cost_at].strip(),
                    categories=[c.strip() for c in categories.split("|") if c.strip()],
                )
            )
        except ValueError as error:
            first = error.errors()[0] if hasattr(error, "errors") else {}
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = first.get("msg", str(error))
            raise ApiError(422, "bad-csv", f"line {line}, column '{where}': {message}") from None
        if len(items) > MAX_PROJECTS:
            raise ApiError(422, "too-many-projects", f"at most {MAX_PROJECTS} projects")
    return items


@organiser_router.post("/{round_id}/open", response_model=RoundOut)
def open_round(round_id: Id, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """Open voting; the ballot rules and projects are frozen from now on."""
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("draft",), "open the round")
        projects = _projects(session, round_id)
        if not projects:
            raise ApiError(409, "no-projects", "add projects before opening the round")
        _check_round(round_, projects)
        round_.status = "open"
        round_.opened_at = utcnow()
        session.add(round_)
        _log(session, organiser, "round-opened", round_id)
        _commit(session)
        return _round_out(round_, projects)


def _profile(instance: Instance, ballots: Sequence[BallotRow]) -> Profile:
    core = []
    for row in sorted(ballots, key=lambda b: b.receipt_hash):
        points = json.loads(row.points) if row.points is not None else None
        core.append(
            Ballot(
                row.receipt_hash,
                tuple(json.loads(row.projects)),
                None if points is None else tuple(parse_number(p) for p in points),
            )
        )
    return Profile(instance.vote_type, tuple(core))


def _ballots(session: Session, round_id: int) -> list[BallotRow]:
    return list(
        session.exec(
            select(BallotRow)
            .where(BallotRow.round_id == round_id)
            .order_by(col(BallotRow.receipt_hash))
        )
    )


def _result_document(
    round_: BudgetRound, projects: Sequence[BudgetProject], ballots: Sequence[BallotRow], seed: str
) -> dict[str, Any]:
    instance = _instance(round_, projects)
    election = to_election(instance, _profile(instance, ballots))
    tie_break = TieBreak.default(election, seed)
    outcome = run_pb_rule(election, instance, round_.rule, tie_break)
    document = pb_document(instance, election, outcome, tie_break, round_.rule)
    return {"round_id": round_.id, "name": round_.name, **document}


@organiser_router.post("/{round_id}/close", response_model=RoundOut)
def close_round(round_id: Id, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """Close voting and compute the outcome (visible to the organiser, public once published).

    Ties between projects are broken by the order of
    :meth:`budgeting.election.TieBreak.default` with a seed drawn now and published with the
    results.
    """
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("open",), "close the round")
        projects = _projects(session, round_id)
        seed = secrets.token_hex(16)
        try:
            document = _result_document(round_, projects, _ballots(session, round_id), seed)
        except BudgetingError as error:
            raise ApiError(409, error.code, f"the outcome cannot be computed: {error}") from None
        round_.status = "closed"
        round_.closed_at = utcnow()
        round_.tie_seed = seed
        round_.result_json = json.dumps(document, ensure_ascii=False, sort_keys=True)
        session.add(round_)
        _log(session, organiser, "round-closed", round_id, voters=document["voters"])
        _commit(session)
        return _round_out(round_, projects)


@organiser_router.post("/{round_id}/publish", response_model=RoundOut)
def publish_round(round_id: Id, organiser: CurrentOrganiser, db: DB) -> RoundOut:
    """Make the results, anonymised ballots and pabulib file public."""
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("closed",), "publish the round")
        round_.status = "published"
        round_.published_at = utcnow()
        session.add(round_)
        _log(session, organiser, "round-published", round_id)
        _commit(session)
        return _round_out(round_, _projects(session, round_id))


def _codes_response(round_id: Id, codes: list[CodeOut], output: Literal["json", "csv"]) -> Response:
    issued = CodesIssued(round_id=round_id, codes=codes)
    if output == "csv":
        return codes_csv("round", round_id, codes)
    return Response(issued.model_dump_json(), status_code=201, media_type="application/json")


_CODES_DOC: Final = {
    201: {
        "description": "The codes, shown only in this response",
        "content": {
            "application/json": {"schema": CodesIssued.model_json_schema()},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@organiser_router.post("/{round_id}/codes", status_code=201, responses=_CODES_DOC)  # type: ignore[arg-type]
def issue_codes(
    round_id: Id,
    body: CodeRequest,
    organiser: CurrentOrganiser,
    db: DB,
    keys: AppKeys,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Issue ``count`` voting codes (in ``draft`` or ``open``). The codes appear only in this
    response (``?format=csv`` gives the same as CSV for the letters)."""
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("draft", "open"), "issue codes")
        last = session.exec(
            select(func.max(VotingCode.serial)).where(VotingCode.round_id == round_id)
        ).one()
        first = (last or 0) + 1
        issued_on = today()
        issued = new_codes(keys, first, body.count)
        for item, code_hash in issued:
            session.add(
                VotingCode(
                    code_hash=code_hash, round_id=round_id, serial=item.serial, issued_on=issued_on
                )
            )
        codes = [item for item, _ in issued]
        _log(
            session,
            organiser,
            "codes-issued",
            round_id,
            count=body.count,
            first_serial=first,
            last_serial=first + body.count - 1,
        )
        _commit(session)
    return _codes_response(round_id, codes, output)


@organiser_router.get("/{round_id}/codes", response_model=CodesOut)
def list_codes(round_id: Id, organiser: CurrentOrganiser, db: DB) -> CodesOut:
    """The issued codes by serial and status (never the codes), and how many have voted."""
    with db.reading() as session:
        _own_round(session, organiser, round_id)
        codes = session.exec(
            select(VotingCode)
            .where(VotingCode.round_id == round_id)
            .order_by(col(VotingCode.serial))
        ).all()
        voted = session.exec(
            select(func.count()).select_from(CodeUse).where(CodeUse.round_id == round_id)
        ).one()
    return CodesOut(
        round_id=round_id,
        issued=len(codes),
        active=sum(c.status == "active" for c in codes),
        revoked=sum(c.status == "revoked" for c in codes),
        voted=voted,
        codes=[
            CodeSummary(
                serial=c.serial,
                status=c.status,
                issued_on=c.issued_on.isoformat(),
                replaces=c.replaces,
            )
            for c in codes
        ],
    )


@organiser_router.post(
    "/{round_id}/codes/{serial}/reissue",
    status_code=201,
    responses=_CODES_DOC,  # type: ignore[arg-type]
)
def reissue_code(
    round_id: Id,
    serial: Id,
    organiser: CurrentOrganiser,
    db: DB,
    keys: AppKeys,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Replace a lost code: the old one is revoked (it can no longer vote) and a new one is
    issued with a new serial. Refused (409) if the old code has already voted."""
    with db.writing() as session:
        round_ = _own_round(session, organiser, round_id, lock=True)
        _require(round_, ("draft", "open"), "re-issue a code")
        old = session.exec(
            select(VotingCode)
            .where(VotingCode.round_id == round_id, VotingCode.serial == serial)
            .with_for_update()
        ).first()
        if old is None:
            raise not_found("code serial")
        if old.status != "active":
            raise ApiError(409, "already-revoked", f"the code with serial {serial} was revoked")
        if session.get(CodeUse, old.code_hash) is not None:
            raise ApiError(
                409,
                "already-voted",
                f"the code with serial {serial} has already voted; its ballot stays counted and "
                "no new code is issued (a second code would let one letter vote twice)",
            )
        old.status = "revoked"
        session.add(old)
        last = session.exec(
            select(func.max(VotingCode.serial)).where(VotingCode.round_id == round_id)
        ).one()
        new_serial = (last or 0) + 1
        code = new_code()
        session.add(
            VotingCode(
                code_hash=keyed_hash(keys.code, normalise_code(code) or ""),
                round_id=round_id,
                serial=new_serial,
                issued_on=today(),
                replaces=serial,
            )
        )
        _log(
            session, organiser, "code-reissued", round_id, old_serial=serial, new_serial=new_serial
        )
        _commit(session)
    return _codes_response(round_id, [CodeOut(serial=new_serial, code=code)], output)


def _stored_result(round_: BudgetRound) -> dict[str, Any]:
    if round_.result_json is None:  # pragma: no cover - set at the close
        raise ApiError(409, "no-result", "the round has no result")
    result: dict[str, Any] = json.loads(round_.result_json)
    return result


@organiser_router.get("/{round_id}/results")
def organiser_results(round_id: Id, organiser: CurrentOrganiser, db: DB) -> dict[str, Any]:
    """The outcome with its explanations (after the close; before publication too)."""
    with db.reading() as session:
        round_ = _own_round(session, organiser, round_id)
    _require(round_, ("closed", "published"), "show results")
    return _stored_result(round_)


def _ballots_out(round_: BudgetRound, ballots: Sequence[BallotRow]) -> BallotsOut:
    assert round_.id is not None
    return BallotsOut(
        round_id=round_.id,
        vote_type=round_.vote_type,
        ballots=[
            PublishedBallot(
                receipt_hash=b.receipt_hash,
                projects=json.loads(b.projects),
                points=None if b.points is None else json.loads(b.points),
            )
            for b in ballots
        ],
    )


@organiser_router.get("/{round_id}/ballots", response_model=BallotsOut)
def organiser_ballots(round_id: Id, organiser: CurrentOrganiser, db: DB) -> BallotsOut:
    """The anonymised ballots, sorted by receipt hash (after the close)."""
    with db.reading() as session:
        round_ = _own_round(session, organiser, round_id)
        _require(round_, ("closed", "published"), "show ballots")
        return _ballots_out(round_, _ballots(session, round_id))


def _pb_response(session: Session, round_: BudgetRound) -> Response:
    assert round_.id is not None
    projects = _projects(session, round_.id)
    instance = _instance(round_, projects)
    profile = _profile(instance, _ballots(session, round_.id))
    instance = instance.with_meta(
        {"num_projects": str(len(projects)), "num_votes": str(len(profile.ballots))}
    )
    text = format_pb(instance, profile)
    return PlainTextResponse(
        text,
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="round-{round_.id}.pb"'},
    )


_PB_DOC: Final = {
    **JSON_ERROR_RESPONSES,
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
}


@organiser_router.get("/{round_id}/export.pb", response_class=PlainTextResponse, responses=_PB_DOC)
def organiser_export(round_id: Id, organiser: CurrentOrganiser, db: DB) -> Response:
    """The round as a pabulib ``.pb`` file (after the close); voter ids are receipt hashes."""
    with db.reading() as session:
        round_ = _own_round(session, organiser, round_id)
        _require(round_, ("closed", "published"), "export the round")
        return _pb_response(session, round_)


# --------------------------------------------------------------------------- public


class PublicRound(BaseModel):
    id: int
    name: str
    budget: str
    vote_type: str
    rule: str
    currency: str
    ballot_rules: dict[str, Any]
    allow_changes: bool
    status: str
    projects: list[ProjectOut]


def _public_round(session: Session, round_id: Id, statuses: tuple[str, ...]) -> BudgetRound:
    round_ = session.get(BudgetRound, round_id)
    if round_ is None or round_.status not in statuses:
        raise not_found()
    return round_


@public_router.get("", response_model=list[PublicRound])
def public_rounds(db: DB) -> list[PublicRound]:
    """Rounds that are open, closed or published."""
    with db.reading() as session:
        rounds = session.exec(
            select(BudgetRound)
            .where(col(BudgetRound.status).in_(("open", "closed", "published")))
            .order_by(col(BudgetRound.id))
        ).all()
        return [_public_out(r, _projects(session, r.id or 0)) for r in rounds]


def _public_out(round_: BudgetRound, projects: Sequence[BudgetProject]) -> PublicRound:
    assert round_.id is not None
    return PublicRound(
        id=round_.id,
        name=round_.name,
        budget=round_.budget,
        vote_type=round_.vote_type,
        rule=round_.rule,
        currency=round_.currency,
        ballot_rules=_rules(round_),
        allow_changes=round_.allow_changes,
        status=round_.status,
        projects=[_project_out(p) for p in projects],
    )


@public_router.get("/{round_id}", response_model=PublicRound)
def public_round(round_id: Id, db: DB) -> PublicRound:
    """A round that is open or later: what residents need to fill in a ballot."""
    with db.reading() as session:
        round_ = _public_round(session, round_id, ("open", "closed", "published"))
        return _public_out(round_, _projects(session, round_id))


def _frozen_instance(request: Request, session: Session, round_: BudgetRound) -> Instance:
    """The instance of an open round, cached in the app (an open round's projects and rules
    are frozen, so the cache never goes stale)."""
    assert round_.id is not None
    cache: dict[tuple[int, str], Instance] = request.app.state.instances
    key = (round_.id, str(round_.opened_at))
    cached = cache.get(key)
    if cached is not None:
        return cached
    instance = _instance(round_, _projects(session, round_.id))
    if len(cache) > 256:
        cache.clear()
    cache[key] = instance
    return instance


def _code_hashes(keys: Any, text: str) -> tuple[str, str] | None:
    code = normalise_code(text)
    if code is None:
        return None
    return keyed_hash(keys.code, code), keyed_hash(keys.locator, code)


def _check_ballot(instance: Instance, body: BallotIn) -> tuple[str, str | None]:
    points = None if body.points is None else tuple(parse_number(p) for p in body.points)
    problems = ballot_problems(instance, Ballot("", tuple(body.projects), points))
    if problems:
        raise ApiError(
            422,
            "invalid-ballot",
            "the ballot is not valid: " + " ".join(p.en for p in problems),
            {"problems": [{"code": p.code, "en": p.en, "nl": p.nl} for p in problems]},
        )
    return json.dumps(body.projects), None if body.points is None else json.dumps(body.points)


def _vote(
    request: Request, round_id: Id, body: BallotIn, db: Any, keys: Any, *, change: bool
) -> Receipt:
    limiter = request.app.state.rate_limiter
    client = client_key(request)
    wait = limiter.retry_after(client, round_id)
    if wait is not None:
        error = ApiError(429, "too-many-attempts", "too many wrong codes; try again later")
        error.headers["Retry-After"] = str(wait)
        raise error
    hashes = _code_hashes(keys, body.code)
    with db.writing() as session:
        # the common case in one round trip: the round and the code, both share-locked so
        # that no ballot lands after the close or after a re-issue
        found = None
        if hashes is not None:
            found = session.exec(
                select(BudgetRound, VotingCode.status)
                .join(VotingCode, col(VotingCode.round_id) == BudgetRound.id)
                .where(BudgetRound.id == round_id, VotingCode.code_hash == hashes[0])
                .with_for_update(read=True)
            ).first()
        if found is None:  # which error: look again, more slowly
            round_ = session.exec(
                select(BudgetRound).where(BudgetRound.id == round_id).with_for_update(read=True)
            ).first()
            status = None
        else:
            round_, status = found
        if round_ is None or round_.status == "draft":
            raise not_found()
        if round_.status != "open":
            raise ApiError(409, "voting-closed", "voting in this round has closed")
        if status is None:
            limiter.failed(client, round_id)
            raise ApiError(403, "invalid-code", "this voting code is not valid for this round")
        if status != "active":
            limiter.failed(client, round_id)
            raise ApiError(
                403, "code-revoked", "this voting code was replaced; use the code of the new letter"
            )
        assert hashes is not None
        if change and not round_.allow_changes:
            raise ApiError(409, "changes-not-allowed", "this round does not allow changes")
        projects, points = _check_ballot(_frozen_instance(request, session, round_), body)
        receipt = new_receipt()
        statements: list[Executable] = []  # run inside the try: a second use fails there
        if change:
            ballot = session.exec(
                select(BallotRow).where(
                    BallotRow.locator == hashes[1], BallotRow.round_id == round_id
                )
            ).first()
            if ballot is None:
                raise ApiError(409, "not-voted", "this code has not voted yet; cast a ballot first")
            ballot.projects, ballot.points = projects, points
            ballot.receipt_hash = receipt_hash(receipt)
            session.add(ballot)
        else:
            # plain INSERTs (no unit of work); on PostgreSQL both in one statement
            use = insert(CodeUse).values(code_hash=hashes[0], round_id=round_id, used_on=today())
            ballot_insert = insert(BallotRow).values(
                id=secrets.token_hex(16),
                round_id=round_id,
                projects=projects,
                points=points,
                receipt_hash=receipt_hash(receipt),
                locator=hashes[1] if round_.allow_changes else None,
            )
            statements = (
                [use, ballot_insert]
                if db.is_sqlite
                else [ballot_insert.add_cte(use.cte("code_use_row"))]
            )
        try:
            for statement in statements:
                session.connection().execute(statement)  # Core: no ORM bulk machinery
            session.commit()
        except IntegrityError:
            session.rollback()
            hint = " To change your ballot, send it with PUT." if round_.allow_changes else ""
            raise ApiError(
                409, "already-voted", "this voting code has already been used." + hint
            ) from None
    return Receipt(
        round_id=round_id,
        receipt=receipt,
        receipt_hash=receipt_hash(receipt),
        message=(
            "Keep the receipt secret. When the results are published, the anonymised ballots "
            "list sha256(receipt) next to each ballot, so you can check that yours is there."
        ),
    )


@public_router.post("/{round_id}/ballots", status_code=201, response_model=Receipt)
def cast_ballot(round_id: Id, body: BallotIn, request: Request, db: DB, keys: AppKeys) -> Receipt:
    """Cast a ballot with a voting code; the answer has the receipt."""
    return _vote(request, round_id, body, db, keys, change=False)


@public_router.put("/{round_id}/ballots", response_model=Receipt)
def change_ballot(round_id: Id, body: BallotIn, request: Request, db: DB, keys: AppKeys) -> Receipt:
    """Replace the ballot cast with this code (if the round allows it), until the close; the
    answer has a new receipt."""
    return _vote(request, round_id, body, db, keys, change=True)


@public_router.get("/{round_id}/results")
def public_results(round_id: Id, db: DB) -> dict[str, Any]:
    """The published outcome with its explanations."""
    with db.reading() as session:
        round_ = _public_round(session, round_id, ("published",))
    return _stored_result(round_)


@public_router.get("/{round_id}/ballots", response_model=BallotsOut)
def public_ballots(round_id: Id, db: DB) -> BallotsOut:
    """The published anonymised ballots, sorted by receipt hash."""
    with db.reading() as session:
        round_ = _public_round(session, round_id, ("published",))
        return _ballots_out(round_, _ballots(session, round_id))


@public_router.get("/{round_id}/export.pb", response_class=PlainTextResponse, responses=_PB_DOC)
def public_export(round_id: Id, db: DB) -> Response:
    """The published round as a pabulib ``.pb`` file."""
    with db.reading() as session:
        round_ = _public_round(session, round_id, ("published",))
        return _pb_response(session, round_)


router.include_router(organiser_router)
router.include_router(public_router)
