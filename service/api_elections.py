"""Elections: any count of the voting core on uploaded ballots or on ballots cast with codes.

An organiser creates an election with a title, a count method (any of
:data:`service.count_cli.COUNT_METHODS` except ``stv-rctab``, which needs an RCTab
configuration), the seats, the candidates, where the ballots come from (``source``) and whether
the results become public when published (``results_public``). The ballot kind follows from the
method: ranked (single-winner ranked methods, Scottish and Meek STV), approval (``approval`` and
the committee rules) or score (``score``).

Life of an election: ``draft`` → ``open`` (``source = "codes"`` only: residents vote) →
``closed`` (the count is made) → ``published``.

* ``source = "upload"``: in ``draft`` the organiser uploads a ballot file (``.blt``, PrefLib
  ``.soc .soi .toc .toi .cat``, or ``.csv`` in the layout of the ballot kind), read by
  :func:`service.count_cli.read_ballots` exactly as ``stadmaken count`` reads it; a file that
  is not valid is refused with 422 naming the line. Closing counts it.
* ``source = "codes"``: voting codes are issued (shown once; stored only as keyed hashes, as
  for budget rounds: :mod:`service.security`), re-issued by serial (the old code is revoked,
  logged), and residents cast one ballot per code while the election is open. Which code has
  voted (``election_code_use``: the code's hash and the day) is stored apart from what was
  voted (``election_ballot``: a random id, the choice and ``sha256(receipt)``), with no link.
  Exactly once: both rows go in one transaction and the code's hash is the primary key of
  ``election_code_use``, so a second use fails on that constraint in any process (409).

The count is :func:`service.count_cli.count_document`, the JSON document of
``stadmaken count --format json``: ``elected``, ``rounds``, ``tied``, ``lots`` and the
``seed`` of the lots. The seed is the one the organiser gave when creating the election (fixed
before any ballot is counted) or, without one, drawn at the close; it is recorded in the
document. The count is hidden until published (the organiser sees it from the close); once
published, and if ``results_public``, anyone can read it and the anonymised ballots (the cast
ballots sorted by ``sha256(receipt)``, or the uploaded file).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from service import audit
from service.api_common import (
    DB,
    ERROR_RESPONSES,
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
from service.count_cli import (
    COUNT_METHODS,
    PREFLIB_SUFFIXES,
    RANKED_METHODS,
    SINGLE_METHODS,
    Ballots,
    count_document,
    read_ballots,
)
from service.models import Organiser
from service.models_elections import Election, ElectionBallot, ElectionCode, ElectionCodeUse
from service.security import keyed_hash, new_code, new_receipt, normalise_code, receipt_hash

__all__ = ["organiser_router", "public_router", "router"]

router = APIRouter()
organiser_router = APIRouter(
    prefix="/api/elections", tags=["elections (organiser)"], responses=ERROR_RESPONSES
)
public_router = APIRouter(
    prefix="/api/public/elections",
    tags=["elections (residents, public)"],
    responses=ERROR_RESPONSES,
)

#: The methods an election may use (``stv-rctab`` needs an RCTab configuration: not offered).
ELECTION_METHODS: Final = tuple(m for m in COUNT_METHODS if m != "stv-rctab")
MAX_CANDIDATES: Final = 500
MAX_CODES: Final = 10_000
#: The largest ballot file accepted (the app's request limit may be lower).
MAX_FILE_BYTES: Final = 1024 * 1024
FILE_SUFFIXES: Final = (".blt", *PREFLIB_SUFFIXES, ".csv")

BallotKind = Literal["ranked", "approval", "score"]


def ballot_kind(method: str) -> BallotKind:
    """The kind of ballot a method counts."""
    if method in RANKED_METHODS:
        return "ranked"
    if method == "score":
        return "score"
    return "approval"


# --------------------------------------------------------------------------- input types

Name = Annotated[Text, Field(min_length=1, max_length=200)]


class ElectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(min_length=1, max_length=200)
    method: Literal[ELECTION_METHODS] = Field(  # type: ignore[valid-type]
        description="One of: " + ", ".join(ELECTION_METHODS)
    )
    seats: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CANDIDATES,
        description="Seats to fill: 1 for single-winner methods (the default); a multi-seat "
        "method needs it, except with an uploaded .blt file, which names its seats.",
    )
    candidates: list[Name] = Field(
        default_factory=list,
        max_length=MAX_CANDIDATES,
        description="Needed for source 'codes'; for 'upload' optional (the file names them; "
        "when given, the file may name no others).",
    )
    source: Literal["upload", "codes"]
    results_public: bool = True
    max_score: int | None = Field(
        default=None, ge=1, le=1000, description="Score elections: the highest score (10)."
    )
    seed: Text | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The seed of the lots that break ties; without one, it is drawn at the close.",
    )


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_CODES)


class CastIn(BaseModel):
    """A resident's ballot: the code and, for the election's ballot kind, exactly one of
    ``ranking`` (names, most preferred first), ``approved`` (names) or ``scores``
    (name → whole points; candidates left out get 0)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=100)
    ranking: list[Name] | None = Field(default=None, max_length=MAX_CANDIDATES)
    approved: list[Name] | None = Field(default=None, max_length=MAX_CANDIDATES)
    scores: dict[Name, int] | None = Field(default=None, max_length=MAX_CANDIDATES)


# --------------------------------------------------------------------------- output types


class FileOut(BaseModel):
    name: str
    sha256: str


class ElectionOut(BaseModel):
    id: int
    title: str
    method: str
    ballot_kind: str
    seats: int | None
    candidates: list[str]
    max_score: int | None
    source: str
    results_public: bool
    status: str
    seed: str | None
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    published_at: datetime | None
    file: FileOut | None


class PublicElection(BaseModel):
    id: int
    title: str
    method: str
    ballot_kind: str
    seats: int | None
    candidates: list[str]
    max_score: int | None
    source: str
    status: str


class CodesIssued(BaseModel):
    election_id: int
    codes: list[CodeOut]
    note: str = "These codes are shown only now; they are stored only as keyed hashes."


class CodesOut(BaseModel):
    election_id: int
    issued: int
    active: int
    revoked: int
    voted: int
    codes: list[CodeSummary]


class Receipt(BaseModel):
    election_id: int
    receipt: str
    receipt_hash: str
    message: str


class PublishedBallot(BaseModel):
    receipt_hash: str
    choice: list[str] | dict[str, int]


class PublishedFile(BaseModel):
    name: str
    sha256: str
    text: str


class BallotsOut(BaseModel):
    election_id: int
    ballot_kind: str
    source: str
    ballots: list[PublishedBallot]
    file: PublishedFile | None


# --------------------------------------------------------------------------- helpers


def _log(
    session: Session, organiser: Organiser, action: str, election_id: int | None, **details: Any
) -> None:
    audit.append(
        session,
        organiser_id=organiser.id,
        action=action,
        details={"election_id": election_id, **details},
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


def _own_election(
    session: Session, organiser: Organiser, election_id: int, *, lock: bool = False
) -> Election:
    return owned(session, Election, election_id, organiser, "election", lock=lock)


def _require(election: Election, statuses: tuple[str, ...], action: str) -> None:
    if election.status not in statuses:
        raise ApiError(
            409,
            "wrong-status",
            f"cannot {action}: the election is {election.status} "
            f"(this needs it {' or '.join(statuses)})",
        )


def _require_codes(election: Election, action: str) -> None:
    if election.source != "codes":
        raise ApiError(
            409, "wrong-source", f"cannot {action}: the ballots of this election are uploaded"
        )


def _candidates(election: Election) -> list[str]:
    names: list[str] = json.loads(election.candidates)
    return names


def _election_out(election: Election) -> ElectionOut:
    assert election.id is not None
    return ElectionOut(
        id=election.id,
        title=election.title,
        method=election.method,
        ballot_kind=election.ballot_kind,
        seats=election.seats,
        candidates=_candidates(election),
        max_score=election.max_score,
        source=election.source,
        results_public=election.results_public,
        status=election.status,
        seed=election.tie_seed,
        created_at=election.created_at,
        opened_at=election.opened_at,
        closed_at=election.closed_at,
        published_at=election.published_at,
        file=None
        if election.file_name is None or election.file_sha256 is None
        else FileOut(name=election.file_name, sha256=election.file_sha256),
    )


def _public_out(election: Election) -> PublicElection:
    assert election.id is not None
    return PublicElection(
        id=election.id,
        title=election.title,
        method=election.method,
        ballot_kind=election.ballot_kind,
        seats=election.seats,
        candidates=_candidates(election),
        max_score=election.max_score,
        source=election.source,
        status=election.status,
    )


def _voting_error(error: Any, name: str, status: int = 422) -> ApiError:
    """An ApiError for a :class:`voting.errors.VotingError` about the file called ``name``."""
    error.file = name
    return ApiError(
        status,
        error.code,
        error.describe(),
        {"line": error.line, "file": name},
    )


def _count(
    election: Election, ballots: Ballots, file_name: str, seats: int, seed: str
) -> dict[str, Any]:
    """The count document of ``stadmaken count --format json`` (409 if it cannot be made)."""
    from voting.errors import VotingError

    try:
        document, _ = count_document(Path(file_name), ballots, election.method, seats, seed)
    except VotingError as error:
        raise _voting_error(error, file_name, 409 if election.source == "codes" else 422) from None
    return document


def _cast_profile(election: Election, rows: Sequence[ElectionBallot]) -> Ballots:
    """The ballots cast with codes as a profile of the voting core."""
    from voting.ballots import ApprovalProfile, Profile, ScoreProfile

    names = _candidates(election)
    choices = [json.loads(row.choice) for row in sorted(rows, key=lambda r: r.receipt_hash)]
    profile: Profile | ApprovalProfile | ScoreProfile
    if election.ballot_kind == "ranked":
        profile = Profile.from_rankings(names, choices)
    elif election.ballot_kind == "approval":
        profile = ApprovalProfile.from_sets(names, choices)
    else:
        profile = ScoreProfile.build(
            names,
            [([c.get(n, 0) for n in names], 1) for c in choices],
            max_score=election.max_score,
        )
    return Ballots(profile, election.seats, election.title)


def _seats(election: Election, ballots: Ballots, name: str) -> int:
    if election.method in SINGLE_METHODS:
        return 1
    if election.seats is not None:
        return election.seats
    if ballots.seats is not None:
        return ballots.seats
    raise ApiError(
        422,
        "no-seats",
        f"{name}: the file does not say how many seats; create the election with 'seats'",
    )


def _read_upload(election: Election, name: str, data: bytes) -> Ballots:
    """The ballots of an uploaded file, read as ``stadmaken count`` reads it (422 if bad)."""
    from voting.ballots import ApprovalProfile, MarkedProfile, Profile, ScoreProfile
    from voting.errors import VotingError

    suffix = Path(name).suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise ApiError(
            422,
            "unknown-file-type",
            f"{name}: unknown ballot file type '{Path(name).suffix}'; give a "
            f"{', '.join(FILE_SUFFIXES)} file",
        )
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(413, "too-large", f"{name}: the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "not-utf8", f"{name}: not a text file in UTF-8") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ApiError(
            422, "nul-byte", f"{name}, line {line}: a NUL byte; not a text file", {"line": line}
        )
    with tempfile.TemporaryDirectory(prefix="stadmaken-election-") as folder:
        path = Path(folder) / f"ballots{suffix}"
        path.write_bytes(data)
        try:
            ballots = read_ballots(path, election.ballot_kind if suffix == ".csv" else None)
        except VotingError as error:
            raise _voting_error(error, name) from None
    expected = {
        "ranked": (Profile, MarkedProfile),
        "approval": (ApprovalProfile,),
        "score": (ScoreProfile,),
    }[election.ballot_kind]
    if not isinstance(ballots.profile, expected):
        held = {
            Profile: "ranked",
            MarkedProfile: "ranked",
            ApprovalProfile: "approval",
            ScoreProfile: "score",
        }[type(ballots.profile)]
        raise ApiError(
            422,
            "wrong-ballots",
            f"{name}: holds {held} ballots; {election.method} counts {election.ballot_kind} "
            "ballots",
        )
    known = _candidates(election)
    if known:
        unknown = [c for c in ballots.profile.candidates if c not in known]
        if unknown:
            raise ApiError(
                422,
                "unknown-candidate",
                f"{name}: names {', '.join(repr(c) for c in unknown)}, not a candidate of this "
                f"election ({', '.join(known)})",
                {"candidates": unknown},
            )
    return ballots


def _stored_result(election: Election) -> dict[str, Any]:
    if election.result_json is None:  # pragma: no cover - set at the close
        raise ApiError(409, "no-result", "the election has no result")
    result: dict[str, Any] = json.loads(election.result_json)
    return result


def _ballot_rows(session: Session, election_id: int) -> list[ElectionBallot]:
    return list(
        session.exec(
            select(ElectionBallot)
            .where(ElectionBallot.election_id == election_id)
            .order_by(col(ElectionBallot.receipt_hash))
        )
    )


def _ballots_out(session: Session, election: Election) -> BallotsOut:
    assert election.id is not None
    rows = _ballot_rows(session, election.id) if election.source == "codes" else []
    return BallotsOut(
        election_id=election.id,
        ballot_kind=election.ballot_kind,
        source=election.source,
        ballots=[
            PublishedBallot(receipt_hash=r.receipt_hash, choice=json.loads(r.choice)) for r in rows
        ],
        file=None
        if election.file_text is None
        else PublishedFile(
            name=election.file_name or "",
            sha256=election.file_sha256 or "",
            text=election.file_text,
        ),
    )


# --------------------------------------------------------------------------- organisers


@organiser_router.post("", status_code=201, response_model=ElectionOut)
def create_election(body: ElectionCreate, organiser: CurrentOrganiser, db: DB) -> ElectionOut:
    """Create an election (in ``draft``)."""
    assert organiser.id is not None
    method: str = body.method
    kind = ballot_kind(method)
    if len(set(body.candidates)) != len(body.candidates):
        raise ApiError(422, "duplicate-candidate", "a candidate is named twice")
    if any(c != c.strip() for c in body.candidates):
        raise ApiError(422, "bad-candidate", "a candidate name has surrounding spaces")
    if body.source == "codes" and not body.candidates:
        raise ApiError(422, "no-candidates", "an election with codes needs its candidates")
    seats = body.seats
    if method in SINGLE_METHODS:
        if seats not in (None, 1):
            raise ApiError(
                422,
                "bad-seats",
                f"the method '{method}' elects one candidate; use a multi-seat method for {seats}",
            )
        seats = 1
    elif seats is None and body.source == "codes":
        raise ApiError(422, "no-seats", f"the method '{method}' needs 'seats'")
    if seats is not None and body.candidates and seats > len(body.candidates):
        raise ApiError(
            422, "bad-seats", f"{seats} seats but only {len(body.candidates)} candidates"
        )
    if body.max_score is not None and kind != "score":
        raise ApiError(422, "unexpected-max-score", "only score elections have max_score")
    election = Election(
        organiser_id=organiser.id,
        title=body.title,
        method=method,
        ballot_kind=kind,
        seats=seats,
        candidates=json.dumps(list(body.candidates), ensure_ascii=False),
        max_score=(body.max_score or 10) if kind == "score" else None,
        source=body.source,
        results_public=body.results_public,
        tie_seed=body.seed,
        created_at=utcnow(),
    )
    with db.writing() as session:
        session.add(election)
        session.flush()
        _log(
            session,
            organiser,
            "election-created",
            election.id,
            title=body.title,
            method=method,
            seats=seats,
            source=body.source,
            seed_given=body.seed is not None,
        )
        _commit(session)
    return _election_out(election)


@organiser_router.get("", response_model=list[ElectionOut])
def list_elections(organiser: CurrentOrganiser, db: DB) -> list[ElectionOut]:
    """The organiser's own elections."""
    with db.reading() as session:
        elections = session.exec(
            select(Election).where(Election.organiser_id == organiser.id).order_by(col(Election.id))
        ).all()
    return [_election_out(e) for e in elections]


@organiser_router.get("/{election_id}", response_model=ElectionOut)
def get_election(election_id: Id, organiser: CurrentOrganiser, db: DB) -> ElectionOut:
    """One of the organiser's elections."""
    with db.reading() as session:
        return _election_out(_own_election(session, organiser, election_id))


@organiser_router.post("/{election_id}/ballots-file", response_model=ElectionOut)
def upload_ballots(
    election_id: Id,
    organiser: CurrentOrganiser,
    db: DB,
    file: Annotated[UploadFile, File(description="A .blt, PrefLib or .csv ballot file")],
) -> ElectionOut:
    """Upload (or replace) the ballot file of an ``upload`` election, in ``draft``.

    The file is read as ``stadmaken count`` reads it and counted once as a check, so a file
    that cannot be counted is refused now (422 naming the line where the reader can) rather
    than at the close.
    """
    given = "".join(c for c in (file.filename or "") if c.isprintable())
    name = Path(given).name[-200:] or "ballots"
    data = file.file.read(MAX_FILE_BYTES + 1)
    with db.reading() as session:
        election = _own_election(session, organiser, election_id)
    if election.source != "upload":
        raise ApiError(409, "wrong-source", "this election's ballots are cast with codes")
    _require(election, ("draft",), "upload ballots")
    ballots = _read_upload(election, name, data)
    seats = _seats(election, ballots, name)
    if seats > len(ballots.profile.candidates):
        raise ApiError(
            422,
            "bad-seats",
            f"{name}: {seats} seats but {len(ballots.profile.candidates)} candidates",
        )
    document = _count(election, ballots, name, seats, election.tie_seed or "check")
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        _require(election, ("draft",), "upload ballots")
        election.file_name = name
        election.file_text = data.decode("utf-8")
        election.file_sha256 = hashlib.sha256(data).hexdigest()
        election.candidates = json.dumps(list(ballots.profile.candidates), ensure_ascii=False)
        election.seats = seats
        session.add(election)
        _log(
            session,
            organiser,
            "election-ballots-uploaded",
            election_id,
            file=name,
            sha256=election.file_sha256,
            papers=document["valid_poll"],
        )
        _commit(session)
    return _election_out(election)


@organiser_router.post("/{election_id}/open", response_model=ElectionOut)
def open_election(election_id: Id, organiser: CurrentOrganiser, db: DB) -> ElectionOut:
    """Open voting (elections with codes); the settings are fixed from now on."""
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        _require_codes(election, "open the election")
        _require(election, ("draft",), "open the election")
        election.status = "open"
        election.opened_at = utcnow()
        session.add(election)
        _log(session, organiser, "election-opened", election_id)
        _commit(session)
    return _election_out(election)


@organiser_router.post("/{election_id}/close", response_model=ElectionOut)
def close_election(election_id: Id, organiser: CurrentOrganiser, db: DB) -> ElectionOut:
    """Close voting (or, for an upload election, the draft with its file) and count.

    The seed of the lots is the one given at creation, or drawn now; the count document
    records it. The count is visible to the organiser now, to the public once published.
    """
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        if election.source == "codes":
            _require(election, ("open",), "close the election")
            rows = _ballot_rows(session, election_id)
            if not rows:
                raise ApiError(409, "no-ballots", "no ballot has been cast; nothing to count")
            ballots = _cast_profile(election, rows)
            name = f"election-{election_id}"
        else:
            _require(election, ("draft",), "close the election")
            if election.file_text is None or election.file_name is None:
                raise ApiError(409, "no-ballots", "upload the ballot file before closing")
            name = election.file_name
            ballots = _read_upload(election, name, election.file_text.encode("utf-8"))
        seed = election.tie_seed or secrets.token_hex(16)
        document = _count(election, ballots, name, _seats(election, ballots, name), seed)
        election.status = "closed"
        election.closed_at = utcnow()
        election.tie_seed = seed
        election.result_json = json.dumps(document, ensure_ascii=False, sort_keys=True)
        session.add(election)
        _log(
            session,
            organiser,
            "election-closed",
            election_id,
            papers=document["valid_poll"],
            seed=seed,
        )
        _commit(session)
    return _election_out(election)


@organiser_router.post("/{election_id}/publish", response_model=ElectionOut)
def publish_election(election_id: Id, organiser: CurrentOrganiser, db: DB) -> ElectionOut:
    """Publish the count and the anonymised ballots (public if ``results_public``)."""
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        _require(election, ("closed",), "publish the election")
        election.status = "published"
        election.published_at = utcnow()
        session.add(election)
        _log(
            session,
            organiser,
            "election-published",
            election_id,
            results_public=election.results_public,
        )
        _commit(session)
    return _election_out(election)


@organiser_router.get("/{election_id}/results")
def organiser_results(election_id: Id, organiser: CurrentOrganiser, db: DB) -> dict[str, Any]:
    """The count document (after the close; before publication too)."""
    with db.reading() as session:
        election = _own_election(session, organiser, election_id)
    _require(election, ("closed", "published"), "show the count")
    return _stored_result(election)


@organiser_router.get("/{election_id}/ballots", response_model=BallotsOut)
def organiser_ballots(election_id: Id, organiser: CurrentOrganiser, db: DB) -> BallotsOut:
    """The anonymised ballots sorted by receipt hash, or the uploaded file (after the close)."""
    with db.reading() as session:
        election = _own_election(session, organiser, election_id)
        _require(election, ("closed", "published"), "show the ballots")
        return _ballots_out(session, election)


def _codes_response(
    election_id: int, codes: list[CodeOut], output: Literal["json", "csv"]
) -> Response:
    if output == "csv":
        return codes_csv("election", election_id, codes)
    issued = CodesIssued(election_id=election_id, codes=codes)
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


@organiser_router.post("/{election_id}/codes", status_code=201, responses=_CODES_DOC)  # type: ignore[arg-type]
def issue_codes(
    election_id: Id,
    body: CodeRequest,
    organiser: CurrentOrganiser,
    db: DB,
    keys: AppKeys,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Issue ``count`` voting codes (in ``draft`` or ``open``); they appear only in this
    response (``?format=csv`` for the letters)."""
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        _require_codes(election, "issue codes")
        _require(election, ("draft", "open"), "issue codes")
        last = session.exec(
            select(func.max(ElectionCode.serial)).where(ElectionCode.election_id == election_id)
        ).one()
        first = (last or 0) + 1
        issued_on = today()
        issued = new_codes(keys, first, body.count)
        for item, code_hash in issued:
            session.add(
                ElectionCode(
                    code_hash=code_hash,
                    election_id=election_id,
                    serial=item.serial,
                    issued_on=issued_on,
                )
            )
        codes = [item for item, _ in issued]
        _log(
            session,
            organiser,
            "election-codes-issued",
            election_id,
            count=body.count,
            first_serial=first,
            last_serial=first + body.count - 1,
        )
        _commit(session)
    return _codes_response(election_id, codes, output)


@organiser_router.get("/{election_id}/codes", response_model=CodesOut)
def list_codes(election_id: Id, organiser: CurrentOrganiser, db: DB) -> CodesOut:
    """The issued codes by serial and status (never the codes), and how many have voted."""
    with db.reading() as session:
        _own_election(session, organiser, election_id)
        codes = session.exec(
            select(ElectionCode)
            .where(ElectionCode.election_id == election_id)
            .order_by(col(ElectionCode.serial))
        ).all()
        voted = session.exec(
            select(func.count())
            .select_from(ElectionCodeUse)
            .where(ElectionCodeUse.election_id == election_id)
        ).one()
    return CodesOut(
        election_id=election_id,
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
    "/{election_id}/codes/{serial}/reissue",
    status_code=201,
    responses=_CODES_DOC,  # type: ignore[arg-type]
)
def reissue_code(
    election_id: Id,
    serial: Id,
    organiser: CurrentOrganiser,
    db: DB,
    keys: AppKeys,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Replace a lost code: the old one is revoked and a new one issued with a new serial.
    Refused (409) if the old code has already voted."""
    with db.writing() as session:
        election = _own_election(session, organiser, election_id, lock=True)
        _require_codes(election, "re-issue a code")
        _require(election, ("draft", "open"), "re-issue a code")
        old = session.exec(
            select(ElectionCode)
            .where(ElectionCode.election_id == election_id, ElectionCode.serial == serial)
            .with_for_update()
        ).first()
        if old is None:
            raise not_found("code serial")
        if old.status != "active":
            raise ApiError(409, "already-revoked", f"the code with serial {serial} was revoked")
        if session.get(ElectionCodeUse, old.code_hash) is not None:
            raise ApiError(
                409,
                "already-voted",
                f"the code with serial {serial} has already voted; its ballot stays counted and "
                "no new code is issued (a second code would let one letter vote twice)",
            )
        old.status = "revoked"
        session.add(old)
        last = session.exec(
            select(func.max(ElectionCode.serial)).where(ElectionCode.election_id == election_id)
        ).one()
        new_serial = (last or 0) + 1
        code = new_code()
        session.add(
            ElectionCode(
                code_hash=keyed_hash(keys.code, normalise_code(code) or ""),
                election_id=election_id,
                serial=new_serial,
                issued_on=today(),
                replaces=serial,
            )
        )
        _log(
            session,
            organiser,
            "election-code-reissued",
            election_id,
            old_serial=serial,
            new_serial=new_serial,
        )
        _commit(session)
    return _codes_response(election_id, [CodeOut(serial=new_serial, code=code)], output)


# --------------------------------------------------------------------------- public


def _public_election(session: Session, election_id: int, statuses: tuple[str, ...]) -> Election:
    election = session.get(Election, election_id)
    if election is None or election.status not in statuses:
        raise not_found("election")
    return election


def _published(session: Session, election_id: int) -> Election:
    election = _public_election(session, election_id, ("published",))
    if not election.results_public:
        raise not_found("election")
    return election


@public_router.get("", response_model=list[PublicElection])
def public_elections(db: DB) -> list[PublicElection]:
    """Elections that are open, closed or published."""
    with db.reading() as session:
        elections = session.exec(
            select(Election)
            .where(col(Election.status).in_(("open", "closed", "published")))
            .order_by(col(Election.id))
        ).all()
    return [_public_out(e) for e in elections]


@public_router.get("/{election_id}", response_model=PublicElection)
def public_election(election_id: Id, db: DB) -> PublicElection:
    """An election that is open or later: what a voter needs to fill in a ballot."""
    with db.reading() as session:
        return _public_out(_public_election(session, election_id, ("open", "closed", "published")))


def _choice(election: Election, body: CastIn) -> str:
    """The ballot as stored (JSON), or 422 if it is not a valid ballot of this election."""
    given = {
        "ranking": body.ranking is not None,
        "approved": body.approved is not None,
        "scores": body.scores is not None,
    }
    field = {"ranked": "ranking", "approval": "approved", "score": "scores"}[election.ballot_kind]
    if not given[field] or sum(given.values()) != 1:
        raise ApiError(
            422,
            "wrong-ballot-kind",
            f"this election counts {election.ballot_kind} ballots: send '{field}' (only)",
        )
    names = _candidates(election)
    known = set(names)
    chosen: Sequence[str] = (
        body.ranking
        if body.ranking is not None
        else body.approved
        if body.approved is not None
        else list((body.scores or {}).keys())
    )
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ApiError(
            422,
            "unknown-candidate",
            f"not a candidate of this election: {', '.join(repr(c) for c in unknown)}",
            {"candidates": unknown},
        )
    if len(set(chosen)) != len(chosen):
        raise ApiError(422, "repeated-candidate", "the ballot names a candidate twice")
    if body.ranking is not None:
        if not body.ranking:
            raise ApiError(422, "empty-ranking", "rank at least one candidate")
        return json.dumps(body.ranking, ensure_ascii=False)
    if body.approved is not None:
        order = {n: i for i, n in enumerate(names)}
        return json.dumps(sorted(body.approved, key=order.__getitem__), ensure_ascii=False)
    scores = body.scores or {}
    top = election.max_score or 10
    for name, score in scores.items():
        if not 0 <= score <= top:
            raise ApiError(
                422, "bad-score", f"the score of {name!r} must be a whole number from 0 to {top}"
            )
    return json.dumps({n: scores[n] for n in names if scores.get(n)}, ensure_ascii=False)


@public_router.post("/{election_id}/ballots", status_code=201, response_model=Receipt)
def cast_ballot(election_id: Id, body: CastIn, request: Request, db: DB, keys: AppKeys) -> Receipt:
    """Cast a ballot with a voting code, once; the answer has the receipt."""
    limiter = request.app.state.rate_limiter
    client = "election:" + client_key(request)
    wait = limiter.retry_after(client, election_id)
    if wait is not None:
        error = ApiError(429, "too-many-attempts", "too many wrong codes; try again later")
        error.headers["Retry-After"] = str(wait)
        raise error
    code = normalise_code(body.code)
    code_hash = None if code is None else keyed_hash(keys.code, code)
    with db.writing() as session:
        election = session.exec(
            select(Election).where(Election.id == election_id).with_for_update(read=True)
        ).first()
        if election is None or election.status == "draft" or election.source != "codes":
            raise not_found("election")
        if election.status != "open":
            raise ApiError(409, "voting-closed", "voting in this election has closed")
        row = None
        if code_hash is not None:
            row = session.exec(
                select(ElectionCode)
                .where(ElectionCode.code_hash == code_hash, ElectionCode.election_id == election_id)
                .with_for_update(read=True)
            ).first()
        if row is None:
            limiter.failed(client, election_id)
            raise ApiError(403, "invalid-code", "this voting code is not valid for this election")
        if row.status != "active":
            limiter.failed(client, election_id)
            raise ApiError(
                403, "code-revoked", "this voting code was replaced; use the code of the new letter"
            )
        assert code_hash is not None
        choice = _choice(election, body)
        receipt = new_receipt()
        session.add(ElectionCodeUse(code_hash=code_hash, election_id=election_id, used_on=today()))
        session.add(
            ElectionBallot(
                id=secrets.token_hex(16),
                election_id=election_id,
                choice=choice,
                receipt_hash=receipt_hash(receipt),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise ApiError(409, "already-voted", "this voting code has already been used") from None
    return Receipt(
        election_id=election_id,
        receipt=receipt,
        receipt_hash=receipt_hash(receipt),
        message=(
            "Keep the receipt secret. When the results are published, the anonymised ballots "
            "list sha256(receipt) next to each ballot, so you can check that yours is there."
        ),
    )


@public_router.get("/{election_id}/results")
def public_results(election_id: Id, db: DB) -> dict[str, Any]:
    """The published count (if the election's results are public)."""
    with db.reading() as session:
        election = _published(session, election_id)
    return _stored_result(election)


@public_router.get("/{election_id}/ballots", response_model=BallotsOut)
def public_ballots(election_id: Id, db: DB) -> BallotsOut:
    """The published anonymised ballots (sorted by receipt hash), or the uploaded file."""
    with db.reading() as session:
        return _ballots_out(session, _published(session, election_id))


router.include_router(organiser_router)
router.include_router(public_router)
