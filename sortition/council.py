"""Drawn neighbourhood councils: seats per wijk, staggered terms, renewals as a chain of bundles.

A *gelote wijkraad* (drawn neighbourhood council, as in Haarlem's participation agenda
*samen stadmaken*) is a standing body whose members are drawn by lot from the residents who
respond to an invitation. This module runs its whole life as a sequence of ordinary audit bundles
(:mod:`sortition.audit`), one per draw, each with its own commitment and each linked to the one
before:

* **Terms.** :class:`CouncilTerms`: a name, the number of seats per wijk (neighbourhood), the
  pool feature that holds a respondent's wijk, the term length in years, the number of
  *cohorts* for staggered renewal and the *cool-down*: someone who left the council in year
  ``Y`` can be drawn again from year ``Y + cooldown_years``.
* **First draw** (:func:`first_draw`, round 0, in ``start_year``). Every seat is filled. The
  quotas are ``min = max = seats`` on the wijk feature plus, optionally, other quotas the
  organiser has scaled to the council's size. The distribution is LEXIMIN by default (B.
  Flanigan, P. Gölz, A. Gupta, B. Hennig, A. D. Procaccia, "Fair algorithms for selecting
  citizens' assemblies", *Nature* 596, 548–552, 2021), rounded to a transparent lottery over
  ``m`` panels and committed before the public randomness exists.
* **Cohorts** (:func:`assign_cohorts`). After the reveal, the members of round 0 are dealt
  into ``cohorts`` cohorts by a seeded lot within each wijk, so that each renewal replaces about
  ``1/cohorts`` of the seats and of every wijk's seats. Cohort ``c`` first ends its term in
  ``start_year + (c + 1) * interval`` with ``interval = term_years / cohorts``: the first
  cohorts serve a shortened first term, as in the permanent citizens' council (*Bürgerrat*) of
  Ostbelgien, where a third of the members rotates out at a time.
* **Renewals** (:func:`renew`). Round ``r >= 1`` takes place in year
  ``start_year + r * interval`` and redraws the seats of cohort ``(r - 1) % cohorts``, for a
  full term of ``term_years``: the wijk quotas are the number of that cohort's seats per wijk.
  The pool is the new respondents minus the ineligible (municipal officials, elected council
  members: a list of ids given by the organiser), the sitting members who continue, the
  members of their households, and everyone who served within the cool-down. Bundles are
  pseudonymised, so all of this is matched on real ids through the organiser's private
  mappings in the :class:`CouncilState`.
* **Stepping down** (:func:`step_down`). A member who steps down is replaced through the
  replacement chain of the bundle that drew them (:func:`sortition.audit.replace`); the
  replacement holds the seat, wijk, cohort and term end. A reserve the organiser knows to be
  ineligible now (see the renewal rules) is skipped by recording that they declined: the public
  chain then shows them withdrawing at once, like any reserve who declines.

**The chain.** Round ``r``'s ``draw.council`` field (:func:`council_field`) repeats the terms
and records the year, the cohort renewed, the seats renewed per wijk, the seats that continue
(by round and pseudonym) and ``chain``: for every earlier round, the number of events its
bundle had when round ``r`` was committed and the digest of that bundle *as it was then*. Its
``draw.previous`` is the last of those digests, the digest of the previous bundle. Events are
appended to a bundle for as long as its members sit, also after later rounds were committed;
because events only ever get appended, an earlier version is the bundle with its events cut
back, and :func:`verify_council` checks every link against that prefix. Cutting or changing an
event that a later round has seen breaks a link.

**Public checks** (:func:`verify_council`): every bundle verifies on its own
(:func:`sortition.audit.verify`, with the previous bundle as it was); the terms never change;
the year and cohort of every round follow the schedule; the wijk quotas equal the seats to fill
and the panel size their sum; the cohorts follow from round 0's seed; the seats renewed are
exactly those whose term ended and the seats listed as continuing are exactly the others. Who
is ineligible, who served and who lives with whom is private and cannot be checked publicly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sortition import audit
from sortition.algorithms import ALGORITHMS, Algorithm, Progress, find_distribution
from sortition.errors import AuditError, InputError, QuotaError
from sortition.io import _normalise, _read_table
from sortition.lottery import DEFAULT_PANELS, round_lottery
from sortition.model import Person, Pool, Quotas
from sortition.randomness import SeededStream

__all__ = [
    "COHORT_LABEL",
    "STATE_FORMAT",
    "STATE_VERSION",
    "CouncilDraw",
    "CouncilReveal",
    "CouncilState",
    "CouncilTerms",
    "CouncilVerified",
    "Exclusions",
    "FormerMember",
    "Member",
    "PublicSeat",
    "RoundRecord",
    "StepDown",
    "assign_cohorts",
    "check_bundles",
    "council_field",
    "draw_quotas",
    "dump_state",
    "first_draw",
    "load_state",
    "parse_state",
    "read_ids",
    "read_key",
    "read_seats",
    "renew",
    "respondent_quotas",
    "reveal_round",
    "step_down",
    "verify_council",
]

#: ``format`` of a council state file.
STATE_FORMAT = "stadmaken-council-state"
#: The state format version this code writes and reads.
STATE_VERSION = 1
#: Label of the :class:`SeededStream` that deals round 0's members into cohorts.
COHORT_LABEL = "cohorts"
#: Fewest bytes of a council key (128 bits).
MIN_KEY_BYTES = 16
#: Keys of ``draw.council`` in every bundle of a council.
COUNCIL_FIELDS = frozenset(
    {
        "chain",
        "cohort",
        "cohorts",
        "continuing",
        "cooldown_years",
        "name",
        "renewed",
        "round",
        "seats",
        "start_year",
        "term_end",
        "term_years",
        "wijk_feature",
        "year",
    }
)
_TERM_FIELDS = (
    "name",
    "wijk_feature",
    "seats",
    "term_years",
    "cohorts",
    "cooldown_years",
    "start_year",
)
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_COUNT = re.compile(r"[0-9]+")

Bundle = audit.Bundle


class _MalformedError(Exception):
    """A JSON value of the wrong shape; converted to InputError or AuditError by the caller."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class CouncilTerms:
    """The terms of a drawn neighbourhood council; they never change during its life.

    Parameters
    ----------
    name : str
        The council's name, for example ``"Wijkraad Haarlem-Noord"``.
    wijk_feature : str
        The pool feature (column) that holds each respondent's wijk.
    seats : mapping of str to int
        Seats per wijk, each at least 1; stored sorted by wijk name.
    term_years : int
        Length of a full term in years, at least 1.
    cohorts : int
        Number of cohorts for staggered renewal, at least 1 and a divisor of ``term_years``
        (so renewals fall on whole years) and at most the number of seats.
    cooldown_years : int
        Someone who left the council in year ``Y`` can be drawn again from ``Y +
        cooldown_years`` (0: at once).
    start_year : int
        The year of the first draw.

    Raises
    ------
    InputError
        ``bad-council`` naming the term that is wrong.

    Examples
    --------
    >>> terms = CouncilTerms("Wijkraad", "wijk", {"Noord": 4, "Oost": 2}, 2, 2, 4, 2026)
    >>> terms.interval, terms.renewal_year(1), terms.renewed_cohort(1), terms.term_end(0, 1)
    (1, 2027, 0, 2028)
    """

    name: str
    wijk_feature: str
    seats: Mapping[str, int]
    term_years: int
    cohorts: int
    cooldown_years: int
    start_year: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "seats", dict(sorted(dict(self.seats).items())))

        def bad(message: str) -> InputError:
            return InputError("bad-council", message)

        if not self.name.strip():
            raise bad("the council needs a name")
        if not self.wijk_feature.strip():
            raise bad("the wijk feature (the pool column holding each respondent's wijk) is empty")
        if not self.seats:
            raise bad("the council has no seats; give at least one wijk with seats")
        for wijk, count in self.seats.items():
            if not wijk.strip():
                raise bad("a wijk without a name has seats")
            if type(count) is not int or count < 1:
                raise bad(f"wijk '{wijk}' has {count!r} seats; give a whole number of 1 or more")
        for name, value, least in (
            ("term length (years)", self.term_years, 1),
            ("number of cohorts", self.cohorts, 1),
            ("cool-down (years)", self.cooldown_years, 0),
            ("start year", self.start_year, 1),
        ):
            if type(value) is not int or value < least:
                raise bad(f"the {name} is {value!r}; it must be a whole number of {least} or more")
        if self.term_years % self.cohorts:
            raise bad(
                f"a term of {self.term_years} years cannot be split into {self.cohorts} cohorts: "
                "the term length must be a multiple of the number of cohorts, so that renewals "
                "fall on whole years (for example a term of 2 years with 2 cohorts renews half "
                "the seats every year)"
            )
        if self.cohorts > self.total_seats:
            raise bad(
                f"{self.cohorts} cohorts need at least {self.cohorts} seats, the council has "
                f"{self.total_seats}"
            )

    @property
    def total_seats(self) -> int:
        """The number of seats."""
        return sum(self.seats.values())

    @property
    def interval(self) -> int:
        """Years between renewals: ``term_years // cohorts``."""
        return self.term_years // self.cohorts

    def renewal_year(self, round_number: int) -> int:
        """The year of round ``round_number`` (0: the first draw)."""
        return self.start_year + round_number * self.interval

    def renewed_cohort(self, round_number: int) -> int:
        """The cohort round ``round_number >= 1`` renews: ``(round_number - 1) % cohorts``."""
        return (round_number - 1) % self.cohorts

    def term_end(self, round_number: int, cohort: int) -> int:
        """The year in which a seat of ``cohort`` drawn in ``round_number`` is redrawn.

        Round 0: ``start_year + (cohort + 1) * interval`` (shortened first terms); later rounds:
        the round's year plus ``term_years``. Either way it is the year of the round that
        renews the seat.
        """
        if round_number == 0:
            return self.start_year + (cohort + 1) * self.interval
        return self.renewal_year(round_number) + self.term_years

    def to_json(self) -> dict[str, Any]:
        """The terms as JSON values (the keys of :data:`_TERM_FIELDS`)."""
        return {
            "name": self.name,
            "wijk_feature": self.wijk_feature,
            "seats": dict(self.seats),
            "term_years": self.term_years,
            "cohorts": self.cohorts,
            "cooldown_years": self.cooldown_years,
            "start_year": self.start_year,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any], where: str) -> CouncilTerms:
        """Read terms from the JSON values of :meth:`to_json` (other keys are ignored).

        Raises
        ------
        _MalformedError
            If a value has the wrong type (the caller names the file).
        InputError
            ``bad-council`` if the values break a rule.
        """
        for key in ("name", "wijk_feature"):
            _text(value.get(key), f"{where}.{key}")
        for key in ("term_years", "cohorts", "cooldown_years", "start_year"):
            _integer(value.get(key), f"{where}.{key}")
        seats = value.get("seats")
        if not isinstance(seats, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in seats.items()
        ):
            raise _MalformedError(f"{where}.seats", "not an object of wijk -> whole number")
        return cls(
            name=value["name"],
            wijk_feature=value["wijk_feature"],
            seats=seats,
            term_years=value["term_years"],
            cohorts=value["cohorts"],
            cooldown_years=value["cooldown_years"],
            start_year=value["start_year"],
        )


# --------------------------------------------------------------------------- reading files


def read_seats(path: str | Path) -> dict[str, int]:
    """Read a seats file: a CSV or Excel table with the columns ``wijk,seats``.

    One row per wijk; ``seats`` is a whole number of 1 or more. Column names are compared
    ignoring case and spaces; other columns are ignored; blank rows are skipped.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    dict of str to int
        Seats per wijk, spelled as in the file, sorted by wijk.

    Raises
    ------
    InputError
        ``unreadable-file``, ``empty-file``, ``missing-column``, ``empty-cell``,
        ``not-a-count`` or ``duplicate-wijk``, naming the file, row and column.
    """
    table = _read_table(path)
    file = table.file
    indices = {name: table.find(name) for name in ("wijk", "seats")}
    missing = [name for name, index in indices.items() if index is None]
    if missing:
        found = ", ".join(f"'{name}'" for name in table.found())
        raise InputError(
            "missing-column",
            f"the seats file has no column {' or '.join(repr(m) for m in missing)}; its header "
            f"must be wijk,seats (in any case); the columns found are {found}",
            file=file,
            row=table.header_row,
            column=missing[0],
        )
    wijk_index, seats_index = indices["wijk"], indices["seats"]
    assert wijk_index is not None and seats_index is not None
    seats: dict[str, int] = {}
    rows: dict[str, int] = {}
    for number, cells in table.rows:
        wijk, text = cells[wijk_index], cells[seats_index]
        if not wijk:
            raise InputError(
                "empty-cell",
                "the wijk is empty; give every row a wijk and its seats",
                file=file,
                row=number,
                column=table.header[wijk_index],
            )
        if not _COUNT.fullmatch(text) or int(text) < 1:
            shown = "empty" if not text else f"'{text}'"
            raise InputError(
                "not-a-count",
                f"seats must be a whole number of 1 or more, but it is {shown}",
                file=file,
                row=number,
                column=table.header[seats_index],
            )
        key = _normalise(wijk)
        if key in rows:
            raise InputError(
                "duplicate-wijk",
                f"wijk '{wijk}' is also on row {rows[key]}; give each wijk once",
                file=file,
                row=number,
                column=table.header[wijk_index],
            )
        rows[key] = number
        seats[wijk] = int(text)
    if not seats:
        raise InputError("empty-file", "the seats file has a header but no wijken", file=file)
    return dict(sorted(seats.items()))


def read_ids(path: str | Path, column: str = "id") -> frozenset[str]:
    """Read a list of ids (the ineligible people): a CSV or Excel table with an id column.

    Parameters
    ----------
    path : str or Path
        The file; a header with no rows is an empty list.
    column : str
        The column with the ids (compared ignoring case and spaces); other columns are ignored.

    Returns
    -------
    frozenset of str

    Raises
    ------
    InputError
        ``unreadable-file``, ``empty-file``, ``missing-column`` or ``empty-id``.
    """
    table = _read_table(path)
    index = table.find(column)
    if index is None:
        found = ", ".join(f"'{name}'" for name in table.found())
        raise InputError(
            "missing-column",
            f"the id list has no column '{column}'; the columns found are {found}",
            file=table.file,
            row=table.header_row,
            column=column,
        )
    ids: set[str] = set()
    for number, cells in table.rows:
        if not cells[index]:
            raise InputError(
                "empty-id",
                "the id is empty; give one id per row",
                file=table.file,
                row=number,
                column=table.header[index],
            )
        ids.add(cells[index])
    return frozenset(ids)


def read_key(path: str | Path) -> bytes:
    """Read a council key: hexadecimal text of at least 32 digits (128 bits), spaces ignored.

    Raises
    ------
    InputError
        ``unreadable-file`` or ``bad-key``.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError("unreadable-file", f"cannot read the key ({reason})", file=file) from None
    digits = "".join(text.split())
    if not _HEX.fullmatch(digits) or len(digits) % 2 or len(digits) < 2 * MIN_KEY_BYTES:
        raise InputError(
            "bad-key",
            f"the key must be hexadecimal text of at least {2 * MIN_KEY_BYTES} digits (an even "
            "number), for example from "
            "'python -c \"import secrets; print(secrets.token_hex(32))\"'",
            file=file,
        )
    return bytes.fromhex(digits)


# --------------------------------------------------------------------------- quotas


def _check_other(terms: CouncilTerms, other: Quotas | None) -> None:
    if other is None:
        return
    for feature in other.features:
        if _normalise(feature) == _normalise(terms.wijk_feature):
            raise QuotaError(
                "wijk-quota",
                f"the quotas have rows for '{feature}', the wijk feature; the seats per wijk come "
                "from the council's seats, so give quotas for other features only",
            )


def respondent_quotas(terms: CouncilTerms, other: Quotas | None = None) -> Quotas:
    """The quotas to read a respondents file with (:func:`sortition.read_people`).

    Every wijk of the council with bounds ``0..seats``, then ``other``: the file's wijk
    column must then hold one of the council's wijken, spelled as in the seats.

    Raises
    ------
    QuotaError
        ``wijk-quota`` if ``other`` has quotas on the wijk feature.
    """
    _check_other(terms, other)
    rows = [(terms.wijk_feature, wijk, 0, count) for wijk, count in terms.seats.items()]
    rows += [(q.feature, q.value, q.min, q.max) for q in (other or ())]
    return Quotas.from_rows(rows)


def draw_quotas(
    terms: CouncilTerms, seats_to_fill: Mapping[str, int], other: Quotas | None = None
) -> Quotas:
    """The quotas of one draw: ``min = max`` = the seats to fill, per wijk, then ``other``.

    Wijken with no seat to fill in this draw get no quota (their respondents are not in the
    draw's pool). ``other`` is used as given: the organiser scales it to the seats drawn.

    Raises
    ------
    QuotaError
        ``wijk-quota`` if ``other`` has quotas on the wijk feature.
    """
    _check_other(terms, other)
    rows = [(terms.wijk_feature, w, n, n) for w, n in sorted(seats_to_fill.items()) if n > 0]
    rows += [(q.feature, q.value, q.min, q.max) for q in (other or ())]
    return Quotas.from_rows(rows)


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class Member:
    """A sitting member: a real id and the seat they hold.

    Attributes
    ----------
    id : str
        The respondent's real id (private).
    round : int
        The round whose bundle drew them (their replacement chain is in that bundle).
    pseudonym : str
        Their pseudonym in that bundle.
    wijk : str
        The wijk of the seat.
    cohort : int
        The seat's cohort.
    since : int
        The year they took the seat.
    term_end : int
        The year the seat is redrawn.
    """

    id: str
    round: int
    pseudonym: str
    wijk: str
    cohort: int
    since: int
    term_end: int

    def to_json(self) -> dict[str, Any]:
        """The member as JSON values."""
        return {
            "id": self.id,
            "round": self.round,
            "pseudonym": self.pseudonym,
            "wijk": self.wijk,
            "cohort": self.cohort,
            "since": self.since,
            "term_end": self.term_end,
        }


@dataclass(frozen=True)
class FormerMember:
    """Someone who held a seat: the seat, until when, and why they left.

    ``until`` is the year they left; they can be drawn again from ``until + cooldown_years``.
    ``reason`` is ``"term-ended"`` or ``"stepped-down"``.
    """

    id: str
    round: int
    pseudonym: str
    wijk: str
    cohort: int
    since: int
    until: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The former member as JSON values."""
        return {
            "id": self.id,
            "round": self.round,
            "pseudonym": self.pseudonym,
            "wijk": self.wijk,
            "cohort": self.cohort,
            "since": self.since,
            "until": self.until,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RoundRecord:
    """The organiser's private record of one round (one bundle).

    Attributes
    ----------
    round, year : int
        The round number and its year.
    commitment : str
        The bundle's commitment.
    digest : str
        The digest of the bundle as this state last wrote it (every command checks it).
    events : int
        Events in that bundle.
    revealed : bool
        Whether the bundle is revealed.
    mapping : dict of str to str
        Pseudonym -> real id, for the whole pool of the draw.
    households : dict of str to str
        Pseudonym -> keyed hash of the household (addresses are not kept), for the people
        who gave one.
    """

    round: int
    year: int
    commitment: str
    digest: str
    events: int
    revealed: bool
    mapping: Mapping[str, str]
    households: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """The record as JSON values."""
        return {
            "round": self.round,
            "year": self.year,
            "commitment": self.commitment,
            "digest": self.digest,
            "events": self.events,
            "revealed": self.revealed,
            "mapping": dict(sorted(self.mapping.items())),
            "households": dict(sorted(self.households.items())),
        }

    def updated(self, bundle: Bundle) -> RoundRecord:
        """The record after ``bundle`` (this round's bundle) was revealed or got events."""
        return RoundRecord(
            self.round,
            self.year,
            self.commitment,
            audit.digest(bundle),
            len(bundle["events"]),
            bundle["reveal"] is not None,
            self.mapping,
            self.households,
        )


@dataclass(frozen=True)
class CouncilState:
    """The organiser's private state of a council (it holds real ids: keep it private).

    Attributes
    ----------
    terms : CouncilTerms
    key : bytes
        The council's secret key: pseudonyms (per round, see :func:`first_draw`) and household
        hashes are derived from it.
    rounds : tuple of RoundRecord
        One per bundle of the chain, in order.
    members : tuple of Member
        The sitting members, sorted by wijk, cohort and id.
    former : tuple of FormerMember
        Everyone who left, in the order they left.
    """

    terms: CouncilTerms
    key: bytes = field(repr=False)
    rounds: tuple[RoundRecord, ...]
    members: tuple[Member, ...]
    former: tuple[FormerMember, ...]

    @property
    def pending(self) -> bool:
        """Whether the last round is committed but not revealed."""
        return bool(self.rounds) and not self.rounds[-1].revealed

    @property
    def next_round(self) -> int:
        """The number of the next round to commit."""
        return len(self.rounds)

    def member(self, person_id: str) -> Member | None:
        """The sitting member with real id ``person_id``, if any."""
        return next((m for m in self.members if m.id == person_id), None)

    def household_of(self, member: Member) -> str | None:
        """The household hash of ``member``, if they gave a household."""
        return self.rounds[member.round].households.get(member.pseudonym)

    def to_json(self) -> dict[str, Any]:
        """The state as JSON values."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "terms": self.terms.to_json(),
            "key": self.key.hex(),
            "rounds": [r.to_json() for r in self.rounds],
            "members": [m.to_json() for m in self.members],
            "former": [f.to_json() for f in self.former],
        }


def _sorted_members(members: Sequence[Member]) -> tuple[Member, ...]:
    return tuple(sorted(members, key=lambda m: (m.wijk, m.cohort, m.id)))


def dump_state(state: CouncilState) -> str:
    """The state as JSON text: sorted keys, indent 2, UTF-8, final newline (byte-stable)."""
    return json.dumps(state.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def load_state(path: str | Path) -> CouncilState:
    """Read a state file written by :func:`dump_state`.

    Raises
    ------
    InputError
        ``unreadable-file`` or ``bad-state`` (truncated, not JSON, or not a council state),
        naming the file.
    """
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            "unreadable-file", f"cannot read the council state ({exc.strerror})", file=file
        ) from None
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            "bad-state",
            "the council state is not valid JSON; the file may be truncated",
            file=file,
        ) from None
    return parse_state(value, file=file)


def parse_state(value: object, *, file: str | None = None) -> CouncilState:
    """Check and read a state's JSON values.

    Raises
    ------
    InputError
        ``bad-state`` naming the first wrong field.
    """
    try:
        return _parse_state(value)
    except (_MalformedError, InputError) as exc:
        where = exc.where if isinstance(exc, _MalformedError) else "terms"
        raise InputError(
            "bad-state",
            f"{where}: {exc.message}; this is not a council state written by stadmaken, or it "
            "was edited",
            file=file,
        ) from None


def _parse_state(value: object) -> CouncilState:
    top = _object(value, "state", {"format", "version", "terms", "key", "rounds", "members"})
    if top.get("format") != STATE_FORMAT:
        raise _MalformedError("format", f"is not '{STATE_FORMAT}'")
    if top.get("version") != STATE_VERSION:
        raise _MalformedError("version", f"{top.get('version')!r} is not supported")
    terms = CouncilTerms.from_json(_object(top["terms"], "terms", _TERM_FIELDS), "terms")
    key_text = _text(top["key"], "key")
    if not _HEX.fullmatch(key_text) or len(key_text) % 2 or len(key_text) < 2 * MIN_KEY_BYTES:
        raise _MalformedError("key", "not a hexadecimal key")
    rounds = []
    for i, item in enumerate(_list(top["rounds"], "rounds")):
        where = f"rounds[{i}]"
        record = _object(
            item,
            where,
            {"round", "year", "commitment", "digest", "events", "revealed", "mapping"},
        )
        if record["round"] != i:
            raise _MalformedError(f"{where}.round", "out of order")
        for name in ("commitment", "digest"):
            if not _DIGEST.fullmatch(_text(record[name], f"{where}.{name}")):
                raise _MalformedError(f"{where}.{name}", "not a SHA-256 digest")
        if not isinstance(record["revealed"], bool):
            raise _MalformedError(f"{where}.revealed", "not true or false")
        rounds.append(
            RoundRecord(
                i,
                _integer(record["year"], f"{where}.year"),
                record["commitment"],
                record["digest"],
                _integer(record["events"], f"{where}.events"),
                record["revealed"],
                _text_map(record["mapping"], f"{where}.mapping"),
                _text_map(record.get("households", {}), f"{where}.households"),
            )
        )
    members = []
    for i, item in enumerate(_list(top["members"], "members")):
        where = f"members[{i}]"
        m = _object(
            item, where, ("id", "round", "pseudonym", "wijk", "cohort", "since", "term_end")
        )
        members.append(
            Member(
                _text(m["id"], f"{where}.id"),
                _round_ref(m["round"], f"{where}.round", len(rounds)),
                _text(m["pseudonym"], f"{where}.pseudonym"),
                _text(m["wijk"], f"{where}.wijk"),
                _integer(m["cohort"], f"{where}.cohort"),
                _integer(m["since"], f"{where}.since"),
                _integer(m["term_end"], f"{where}.term_end"),
            )
        )
    former = []
    for i, item in enumerate(_list(top.get("former", []), "former")):
        where = f"former[{i}]"
        f = _object(
            item,
            where,
            ("id", "round", "pseudonym", "wijk", "cohort", "since", "until", "reason"),
        )
        if f["reason"] not in ("term-ended", "stepped-down"):
            raise _MalformedError(f"{where}.reason", "not 'term-ended' or 'stepped-down'")
        former.append(
            FormerMember(
                _text(f["id"], f"{where}.id"),
                _round_ref(f["round"], f"{where}.round", len(rounds)),
                _text(f["pseudonym"], f"{where}.pseudonym"),
                _text(f["wijk"], f"{where}.wijk"),
                _integer(f["cohort"], f"{where}.cohort"),
                _integer(f["since"], f"{where}.since"),
                _integer(f["until"], f"{where}.until"),
                f["reason"],
            )
        )
    return CouncilState(
        terms, bytes.fromhex(key_text), tuple(rounds), _sorted_members(members), tuple(former)
    )


def _object(value: object, where: str, required: Collection[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _MalformedError(where, "not a JSON object")
    missing = [name for name in required if name not in value]
    if missing:
        raise _MalformedError(where, f"has no '{missing[0]}'")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _MalformedError(where, "not a list")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _MalformedError(where, "not text")
    return value


def _integer(value: object, where: str) -> int:
    if type(value) is not int:
        raise _MalformedError(where, "not a whole number")
    return value


def _round_ref(value: object, where: str, rounds: int) -> int:
    number = _integer(value, where)
    if not 0 <= number < rounds:
        raise _MalformedError(where, "names no round of this council")
    return number


def _text_map(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _MalformedError(where, "not an object of text")
    return value


# --------------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class Exclusions:
    """How many respondents were left out of a draw's pool, by reason (counts only).

    Attributes
    ----------
    ineligible : int
        On the organiser's list of ineligible ids.
    sitting : int
        Sitting members who continue.
    cooldown : int
        Served within the cool-down (including members whose term ends now, when the
        cool-down is at least a year).
    household : int
        Live with a sitting member who continues.
    no_seat : int
        Live in a wijk with no seat to fill in this draw.
    """

    ineligible: int = 0
    sitting: int = 0
    cooldown: int = 0
    household: int = 0
    no_seat: int = 0

    @property
    def total(self) -> int:
        """All respondents left out."""
        return self.ineligible + self.sitting + self.cooldown + self.household + self.no_seat

    def to_json(self) -> dict[str, int]:
        """The counts as JSON values."""
        return {
            "ineligible": self.ineligible,
            "sitting": self.sitting,
            "cooldown": self.cooldown,
            "household": self.household,
            "no_seat": self.no_seat,
        }


@dataclass(frozen=True)
class _Rules:
    """Who may not be drawn (private; matched on real ids)."""

    ineligible: frozenset[str]
    sitting: frozenset[str]
    cooling: frozenset[str]
    households: frozenset[str]

    def reason(self, person_id: str, household: str | None) -> str | None:
        """``ineligible``, ``sitting``, ``cooldown``, ``household`` or None (eligible).

        ``household`` is the household hash (:func:`_household_tag`).
        """
        if person_id in self.ineligible:
            return "ineligible"
        if person_id in self.sitting:
            return "sitting"
        if person_id in self.cooling:
            return "cooldown"
        if household is not None and household in self.households:
            return "household"
        return None


def _rules(
    state: CouncilState | None,
    year: int,
    ineligible: Collection[str],
    leaving: Collection[Member] = (),
) -> _Rules:
    """The rules for a draw (or a replacement) in ``year``, with ``leaving`` leaving then."""
    if state is None:
        return _Rules(frozenset(ineligible), frozenset(), frozenset(), frozenset())
    staying = [m for m in state.members if m not in leaving]
    until: dict[str, int] = {}
    for past in state.former:
        until[past.id] = max(until.get(past.id, past.until), past.until)
    for member in leaving:
        until[member.id] = max(until.get(member.id, year), year)
    cooldown = state.terms.cooldown_years
    households = {state.household_of(m) for m in staying}
    return _Rules(
        frozenset(ineligible),
        frozenset(m.id for m in staying),
        frozenset(i for i, last in until.items() if year < last + cooldown),
        frozenset(h for h in households if h is not None),
    )


def _household_tag(key: bytes, household: str | None) -> str | None:
    """A keyed hash of a household key: equal households match, addresses are not kept."""
    if household is None:
        return None
    message = b"stadmaken-council household\x00" + household.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _round_key(key: bytes, round_number: int) -> bytes:
    """The pseudonymisation key of one round, so that pseudonyms do not link across rounds."""
    message = f"stadmaken-council round {round_number}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


# --------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class CouncilDraw:
    """A committed draw (first draw or renewal).

    Attributes
    ----------
    state : CouncilState
        The state with the new, pending round.
    bundle : dict
        The committed bundle, to publish.
    exclusions : Exclusions
        Who was left out of the pool, by reason.
    pool_size : int
        The people in the draw's pool.
    seats : dict of str to int
        The seats drawn, per wijk.
    """

    state: CouncilState
    bundle: Bundle
    exclusions: Exclusions
    pool_size: int
    seats: dict[str, int]


def council_field(
    terms: CouncilTerms,
    round_number: int,
    *,
    renewed: Mapping[str, int],
    continuing: Sequence[Mapping[str, Any]] = (),
    chain: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The ``draw.council`` field of round ``round_number``'s bundle.

    Keys: the terms (:meth:`CouncilTerms.to_json`); ``round``; ``year``; ``cohort`` and
    ``term_end`` (the cohort renewed and the year its new term ends; ``null`` in round 0,
    where every cohort is drawn); ``renewed`` (seats drawn per wijk); ``continuing`` (the seats
    that continue: ``round``, ``member`` (pseudonym in that round), ``wijk``, ``cohort``,
    ``term_end``, sorted by round and member); ``chain`` (per earlier round: ``round``,
    ``events`` and ``digest`` of its bundle as it was when this round was committed).
    """
    first = round_number == 0
    return {
        **terms.to_json(),
        "round": round_number,
        "year": terms.renewal_year(round_number),
        "cohort": None if first else terms.renewed_cohort(round_number),
        "term_end": None if first else terms.renewal_year(round_number) + terms.term_years,
        "renewed": {w: n for w, n in sorted(renewed.items()) if n > 0},
        "continuing": [dict(entry) for entry in continuing],
        "chain": [dict(entry) for entry in chain],
    }


def _commit_round(
    terms: CouncilTerms,
    state: CouncilState | None,
    key: bytes,
    respondents: Pool,
    seats_to_fill: Mapping[str, int],
    rules: _Rules,
    other: Quotas | None,
    council: dict[str, Any],
    previous: str | None,
    *,
    algorithm: Algorithm,
    panels: int,
    software: str,
    source: str,
    fallback: str,
    progress: Progress | None,
) -> CouncilDraw:
    if algorithm not in ALGORITHMS or algorithm == "legacy":
        raise InputError(
            "unknown-algorithm",
            f"algorithm '{algorithm}' cannot be used for a council: choose leximin, maximin or "
            "nash (legacy's distribution is not known, so it cannot be published as a lottery)",
        )
    if type(panels) is not int or panels < 1:
        raise InputError("bad-panels", f"the lottery needs at least 1 panel, not {panels!r}")
    if not source.strip():
        raise InputError(
            "no-source",
            "name the public randomness source announced in advance (for example a drand round "
            "or three ten-sided dice on camera)",
        )
    if len(key) < MIN_KEY_BYTES:
        raise InputError("bad-key", f"the council key must have at least {MIN_KEY_BYTES} bytes")
    quotas = draw_quotas(terms, seats_to_fill, other)
    cells = set(quotas.canonical_cells())
    features = quotas.features
    counts: Counter[str] = Counter()
    eligible: Counter[str] = Counter()
    kept: list[Person] = []
    tags: dict[str, str] = {}
    for person in respondents.people:
        wijk = person.features.get(terms.wijk_feature)
        if wijk is None or wijk not in terms.seats:
            problem = (
                f"has no value for the wijk feature '{terms.wijk_feature}'"
                if wijk is None
                else f"lives in wijk '{wijk}', which has no seats on the council"
            )
            raise InputError(
                "unknown-wijk", f"respondent '{person.id}' {problem}", params={"id": person.id}
            )
        if seats_to_fill.get(wijk, 0) == 0:
            counts["no_seat"] += 1
            continue
        for feature in features:
            value = person.features.get(feature)
            if value is None or (feature, value) not in cells:
                raise InputError(
                    "unknown-value",
                    f"respondent '{person.id}' has no valid value for '{feature}'",
                    params={"id": person.id, "feature": feature},
                )
        tag = _household_tag(key, person.household)
        reason = rules.reason(person.id, tag)
        if reason is not None:
            counts[reason] += 1
            continue
        eligible[wijk] += 1
        kept.append(Person(person.id, {f: person.features[f] for f in features}, person.household))
        if tag is not None:
            tags[person.id] = tag
    for wijk, need in sorted(seats_to_fill.items()):
        if need > 0 and eligible[wijk] < need:
            raise QuotaError(
                "too-few-respondents",
                f"wijk '{wijk}' has {need} seats to fill but only {eligible[wijk]} eligible "
                "respondents; invite more residents of this wijk",
                params={"wijk": wijk, "seats": need, "eligible": eligible[wijk]},
            )
    round_number = council["round"]
    pool, mapping = audit.pseudonymise(Pool(tuple(kept)), _round_key(key, round_number))
    size = sum(seats_to_fill.values())
    distribution = find_distribution(pool, quotas, size, algorithm=algorithm, progress=progress)
    lottery = round_lottery(distribution, panels)
    bundle = audit.commit(
        lottery,
        software=software,
        source=source,
        fallback=fallback,
        previous=previous,
        council=council,
    )
    record = RoundRecord(
        round_number,
        council["year"],
        bundle["hashes"]["commitment"],
        audit.digest(bundle),
        0,
        False,
        dict(sorted(mapping.items())),
        {p: tags[i] for p, i in sorted(mapping.items()) if i in tags},
    )
    if state is None:
        new_state = CouncilState(terms, key, (record,), (), ())
    else:
        new_state = CouncilState(terms, key, (*state.rounds, record), state.members, state.former)
    exclusions = Exclusions(
        counts["ineligible"],
        counts["sitting"],
        counts["cooldown"],
        counts["household"],
        counts["no_seat"],
    )
    seats = {w: n for w, n in sorted(seats_to_fill.items()) if n > 0}
    return CouncilDraw(new_state, bundle, exclusions, len(pool), seats)


def first_draw(
    terms: CouncilTerms,
    respondents: Pool,
    *,
    key: bytes,
    software: str,
    source: str,
    fallback: str = "",
    ineligible: Collection[str] = frozenset(),
    quotas: Quotas | None = None,
    algorithm: Algorithm = "leximin",
    panels: int = DEFAULT_PANELS,
    progress: Progress | None = None,
) -> CouncilDraw:
    """Commit the first draw of a council (round 0, in ``terms.start_year``): every seat.

    The pool is ``respondents`` minus the ids in ``ineligible``; the quotas are the seats per
    wijk (``min = max``) plus ``quotas`` (other features, scaled by the organiser to the
    council's size). The pool is pseudonymised with a key derived from ``key`` and the round
    number (``HMAC-SHA256(key, "stadmaken-council round 0")``), the distribution computed with
    ``algorithm``, rounded to a lottery over ``panels`` panels and committed
    (:func:`sortition.audit.commit`) with :func:`council_field` and no ``previous``.

    Parameters
    ----------
    terms : CouncilTerms
        The council's terms.
    respondents : Pool
        The respondents with their real ids; read them with :func:`respondent_quotas`.
        Household keys, when given, keep two people of one household off the council.
    key : bytes
        The council's secret key (at least 16 bytes); the same key, files and seed give the
        same bundles byte for byte.
    software : str
        The software and version, recorded in the bundle.
    source, fallback : str
        The public randomness source announced in advance, and what is used if it fails.
    ineligible : collection of str
        Real ids that may not be drawn (municipal officials, elected council members).
    quotas : Quotas, optional
        Quotas on other features.
    algorithm : {"leximin", "maximin", "nash"}
        The fairness objective (Flanigan et al., Nature 596, 2021).
    panels : int
        Panels of the transparent lottery (1000: three ten-sided dice).
    progress : callable, optional
        Receives progress reports.

    Returns
    -------
    CouncilDraw

    Raises
    ------
    InputError
        A respondent in a wijk without seats, a bad algorithm, panel count, key or source.
    QuotaError
        Too few eligible respondents in a wijk, quotas on the wijk feature, or quotas that no
        panel meets (with the smallest relaxation).
    """
    seats = dict(terms.seats)
    council = council_field(terms, 0, renewed=seats)
    return _commit_round(
        terms,
        None,
        key,
        respondents,
        seats,
        _rules(None, terms.start_year, ineligible),
        quotas,
        council,
        None,
        algorithm=algorithm,
        panels=panels,
        software=software,
        source=source,
        fallback=fallback,
        progress=progress,
    )


def renew(
    state: CouncilState,
    bundles: Sequence[Bundle],
    respondents: Pool,
    *,
    software: str,
    source: str,
    fallback: str = "",
    year: int | None = None,
    ineligible: Collection[str] = frozenset(),
    quotas: Quotas | None = None,
    algorithm: Algorithm = "leximin",
    panels: int = DEFAULT_PANELS,
    progress: Progress | None = None,
) -> CouncilDraw:
    """Commit the next renewal: redraw the seats whose term ends in its year.

    Round ``r = len(state.rounds)`` takes place in ``terms.renewal_year(r)`` and renews cohort
    ``terms.renewed_cohort(r)``; the new members serve until ``year + term_years``. The pool
    is ``respondents`` from the wijken with seats to fill, minus the ids in ``ineligible``,
    the members who continue, the people of their households, and everyone who left the
    council less than ``cooldown_years`` ago (the outgoing members leave this year). The
    bundle's ``draw.previous`` is the digest of the previous bundle and its ``council`` field
    records the continuing and renewed seats (:func:`council_field`).

    Parameters
    ----------
    state : CouncilState
        The council state; its last round must be revealed.
    bundles : sequence of dict
        The council's bundles, as the state last wrote them.
    respondents : Pool
        The new respondents with real ids (read with :func:`respondent_quotas`).
    software, source, fallback : str
        As for :func:`first_draw`.
    year : int, optional
        The year of the renewal, to check against the schedule.
    ineligible : collection of str
        Real ids that may not be drawn.
    quotas : Quotas, optional
        Quotas on other features, scaled by the organiser to the seats renewed.
    algorithm, panels, progress
        As for :func:`first_draw`.

    Returns
    -------
    CouncilDraw

    Raises
    ------
    InputError
        ``pending-round`` if the last round is not revealed, ``bad-year`` if ``year`` is not the
        next renewal's year, and the errors of :func:`first_draw`.
    AuditError
        If the bundles do not verify or are not the ones the state last wrote.
    QuotaError
        As for :func:`first_draw`.
    """
    check_bundles(state, bundles)
    terms = state.terms
    _no_pending(state)
    round_number = state.next_round
    expected = terms.renewal_year(round_number)
    if year is not None and year != expected:
        raise InputError(
            "bad-year",
            f"the next renewal of '{terms.name}' is round {round_number} in {expected}, not "
            f"{year}: every {terms.interval} year(s) 1/{terms.cohorts} of the seats is renewed",
            params={"year": year, "expected": expected},
        )
    cohort = terms.renewed_cohort(round_number)
    leaving = [m for m in state.members if m.cohort == cohort]
    seats = dict(sorted(Counter(m.wijk for m in leaving).items()))
    continuing = [
        {
            "round": m.round,
            "member": m.pseudonym,
            "wijk": m.wijk,
            "cohort": m.cohort,
            "term_end": m.term_end,
        }
        for m in sorted(state.members, key=lambda m: (m.round, m.pseudonym))
        if m.cohort != cohort
    ]
    chain: list[dict[str, Any]] = [
        {"round": i, "events": len(b["events"]), "digest": audit.digest(b)}
        for i, b in enumerate(bundles)
    ]
    council = council_field(terms, round_number, renewed=seats, continuing=continuing, chain=chain)
    return _commit_round(
        terms,
        state,
        state.key,
        respondents,
        seats,
        _rules(state, expected, ineligible, leaving),
        quotas,
        council,
        chain[-1]["digest"],
        algorithm=algorithm,
        panels=panels,
        software=software,
        source=source,
        fallback=fallback,
        progress=progress,
    )


def _no_pending(state: CouncilState) -> None:
    if state.pending:
        last = state.rounds[-1]
        raise InputError(
            "pending-round",
            f"round {last.round} ({last.year}) is committed but not revealed; reveal it first",
        )


# --------------------------------------------------------------------------- cohorts


def assign_cohorts(seed: str, wijk_of: Mapping[str, str], cohorts: int) -> dict[str, int]:
    """Deal the members of the first draw into cohorts by a seeded lot within each wijk.

    With ``stream = SeededStream(seed, "cohorts")``: ``offset = stream.randbelow(cohorts)``;
    then for every wijk in sorted order (by code point), its members sorted by pseudonym are
    shuffled with ``stream.sample(members, len(members))``, and the ``i``-th member dealt
    overall (counting on across wijken, from 0) gets cohort ``(offset + i) % cohorts``. So the
    cohorts' sizes differ by at most one, overall and within every wijk, and each member's
    cohort is a uniform lot.

    Parameters
    ----------
    seed : str
        The reveal seed of the first draw.
    wijk_of : mapping of str to str
        Each member's wijk, by pseudonym.
    cohorts : int
        Number of cohorts, at least 1.

    Returns
    -------
    dict of str to int
        Cohort by pseudonym, sorted by pseudonym.

    Examples
    --------
    >>> assign_cohorts("2026", {"P1": "Noord", "P2": "Noord", "P3": "Oost"}, 1)
    {'P1': 0, 'P2': 0, 'P3': 0}
    """
    stream = SeededStream(seed, COHORT_LABEL)
    offset = stream.randbelow(cohorts)
    result: dict[str, int] = {}
    dealt = 0
    for wijk in sorted(set(wijk_of.values())):
        members = sorted(p for p, w in wijk_of.items() if w == wijk)
        for pseudonym in stream.sample(members, len(members)):
            result[pseudonym] = (offset + dealt) % cohorts
            dealt += 1
    return dict(sorted(result.items()))


# --------------------------------------------------------------------------- reveal


@dataclass(frozen=True)
class CouncilReveal:
    """A revealed round.

    Attributes
    ----------
    state : CouncilState
        The state with the new members seated.
    bundle : dict
        The revealed bundle.
    joined : tuple of Member
        The members drawn, with their seats.
    left : tuple of FormerMember
        The members whose term ended.
    """

    state: CouncilState
    bundle: Bundle
    joined: tuple[Member, ...]
    left: tuple[FormerMember, ...]


def reveal_round(state: CouncilState, bundles: Sequence[Bundle], seed: str) -> CouncilReveal:
    """Reveal the pending round with ``seed`` and seat its members.

    ``seed`` is the value of the public randomness source (:func:`sortition.audit.reveal`). In
    round 0 the members are dealt into cohorts by :func:`assign_cohorts` with this seed; in a
    renewal they take the renewed cohort and the outgoing members leave.

    Raises
    ------
    InputError
        ``nothing-to-reveal`` if no round is pending, ``empty-seed``.
    AuditError
        If the bundles do not verify or are not the ones the state last wrote.
    """
    check_bundles(state, bundles)
    if not state.pending:
        last = state.rounds[-1]
        raise InputError(
            "nothing-to-reveal",
            f"round {last.round} ({last.year}) is already revealed; the next draw is the "
            f"renewal of {state.terms.renewal_year(state.next_round)}",
        )
    if not seed:
        raise InputError("empty-seed", "the seed must not be empty")
    terms = state.terms
    record = state.rounds[-1]
    bundle = audit.reveal(bundles[-1], seed)
    cohorts = _round_cohorts(terms, bundle, record.round)
    wijk_of = _wijk_of(terms, bundle)
    joined = [
        Member(
            record.mapping[p],
            record.round,
            p,
            wijk_of[p],
            cohort,
            record.year,
            terms.term_end(record.round, cohort),
        )
        for p, cohort in cohorts.items()
    ]
    left: list[FormerMember] = []
    members = list(state.members)
    if record.round > 0:
        renewed = terms.renewed_cohort(record.round)
        left = [_former(m, record.year, "term-ended") for m in members if m.cohort == renewed]
        members = [m for m in members if m.cohort != renewed]
    new_state = CouncilState(
        terms,
        state.key,
        (*state.rounds[:-1], record.updated(bundle)),
        _sorted_members([*members, *joined]),
        (*state.former, *left),
    )
    return CouncilReveal(new_state, bundle, _sorted_members(joined), tuple(left))


def _former(member: Member, until: int, reason: str) -> FormerMember:
    return FormerMember(
        member.id,
        member.round,
        member.pseudonym,
        member.wijk,
        member.cohort,
        member.since,
        until,
        reason,
    )


# --------------------------------------------------------------------------- stepping down


@dataclass(frozen=True)
class StepDown:
    """A member stepped down and was replaced.

    Attributes
    ----------
    state : CouncilState
        The state after the replacement.
    bundle : dict
        The bundle of the member's round, with the new events.
    withdrawn : FormerMember
        The member who stepped down.
    replacement : Member
        Who took the seat.
    skipped : int
        Reserves skipped before them because they may not sit now (recorded publicly as a
        reserve who declined).
    """

    state: CouncilState
    bundle: Bundle
    withdrawn: FormerMember
    replacement: Member
    skipped: int


def step_down(
    state: CouncilState,
    bundles: Sequence[Bundle],
    member_id: str,
    *,
    year: int | None = None,
    ineligible: Collection[str] = frozenset(),
) -> StepDown:
    """Replace member ``member_id`` (a real id), who steps down in ``year``.

    The replacement is found by :func:`sortition.audit.replace` in the bundle that drew the
    member: the first reserve of that round who keeps every quota and the household rule. If
    that reserve may not sit now (on ``ineligible``, a sitting member, within the cool-down, or
    in a sitting member's household), they are recorded as declining (replaced at once) and the
    next reserve is taken. The replacement holds the seat: wijk, cohort and term end.

    Parameters
    ----------
    state : CouncilState
        The council state; no round may be pending.
    bundles : sequence of dict
        The council's bundles, as the state last wrote them.
    member_id : str
        The real id of the member who steps down.
    year : int, optional
        The year they step down (their cool-down counts from it); default the year of the
        latest round.
    ineligible : collection of str
        Real ids that may not sit now.

    Returns
    -------
    StepDown

    Raises
    ------
    InputError
        ``not-a-member``, ``pending-round`` or ``bad-year``.
    AuditError
        If the bundles do not verify, or ``no-replacement`` when no reserve can take the seat.
    """
    check_bundles(state, bundles)
    _no_pending(state)
    member = state.member(member_id)
    if member is None:
        raise InputError(
            "not-a-member",
            f"'{member_id}' is not a sitting member of '{state.terms.name}' ('status' lists them)",
            params={"id": member_id},
        )
    when = state.rounds[-1].year if year is None else year
    if not member.since <= when <= member.term_end:
        raise InputError(
            "bad-year",
            f"'{member_id}' holds the seat from {member.since} until {member.term_end}, so "
            f"cannot step down in {when}",
            params={"id": member_id, "year": when},
        )
    record = state.rounds[member.round]
    rules = _rules(state, when, ineligible, [member])
    bundle = bundles[member.round]
    leaving = member.pseudonym
    skipped = 0
    while True:
        try:
            bundle, candidate = audit.replace(bundle, leaving)
        except AuditError as exc:
            if exc.code != "no-replacement":
                raise
            raise AuditError(
                "withdrawn",
                f"no one on the reserve list of round {record.round} ({record.year}) can take "
                f"the seat of '{member_id}' and keep every quota and the household rule "
                f"({skipped} reserves skipped because they may not sit now)",
                code="no-replacement",
            ) from None
        person_id = record.mapping[candidate]
        if rules.reason(person_id, record.households.get(candidate)) is None:
            break
        skipped += 1
        leaving = candidate
    replacement = Member(
        person_id,
        member.round,
        candidate,
        member.wijk,
        member.cohort,
        when,
        member.term_end,
    )
    withdrawn = _former(member, when, "stepped-down")
    rounds = list(state.rounds)
    rounds[member.round] = record.updated(bundle)
    new_state = CouncilState(
        state.terms,
        state.key,
        tuple(rounds),
        _sorted_members([*(m for m in state.members if m != member), replacement]),
        (*state.former, withdrawn),
    )
    return StepDown(new_state, bundle, withdrawn, replacement, skipped)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class PublicSeat:
    """A seat as the bundles show it: the round that drew the member and their pseudonym.

    Attributes
    ----------
    round : int
    member : str
        Pseudonym in that round's bundle.
    wijk : str
    cohort : int
    term_end : int
    """

    round: int
    member: str
    wijk: str
    cohort: int
    term_end: int

    def to_json(self) -> dict[str, Any]:
        """The seat as in a bundle's ``council.continuing``."""
        return {
            "round": self.round,
            "member": self.member,
            "wijk": self.wijk,
            "cohort": self.cohort,
            "term_end": self.term_end,
        }


@dataclass(frozen=True)
class CouncilVerified:
    """What :func:`verify_council` established.

    Attributes
    ----------
    terms : CouncilTerms
    rounds : tuple of sortition.audit.Verified
        Each bundle's own verification, in order.
    years : tuple of int
        Each round's year.
    seats : tuple of PublicSeat
        The seats now (after the last revealed round and every replacement), sorted by wijk,
        cohort, round and member.
    pending : bool
        Whether the last round is committed but not revealed.
    """

    terms: CouncilTerms
    rounds: tuple[audit.Verified, ...]
    years: tuple[int, ...]
    seats: tuple[PublicSeat, ...]
    pending: bool

    @property
    def next_year(self) -> int:
        """The year of the next round to commit."""
        return self.terms.renewal_year(len(self.rounds))


def _fail(where: str, message: str) -> AuditError:
    return AuditError(where, message)


def _snapshot(bundle: Bundle, events: int) -> Bundle:
    """The bundle as it was with only its first ``events`` events."""
    earlier = dict(bundle)
    earlier["events"] = list(bundle["events"][:events])
    return earlier


def _wijk_of(terms: CouncilTerms, bundle: Bundle) -> dict[str, str]:
    people = bundle["draw"]["pool"]["people"]
    try:
        return {p["id"]: p["values"][terms.wijk_feature] for p in people}
    except KeyError:
        raise _fail(
            "draw.pool.features", f"has no '{terms.wijk_feature}', the council's wijk feature"
        ) from None


def _round_cohorts(terms: CouncilTerms, bundle: Bundle, round_number: int) -> dict[str, int]:
    """The current members of a revealed round's bundle (all its events), with cohorts."""
    panel = bundle["reveal"]["panel"]
    if round_number == 0:
        wijk_of = _wijk_of(terms, bundle)
        cohort_of = assign_cohorts(
            bundle["reveal"]["seed"], {p: wijk_of[p] for p in panel}, terms.cohorts
        )
    else:
        cohort_of = {p: terms.renewed_cohort(round_number) for p in panel}
    for event in bundle["events"]:
        cohort_of[event["replacement"]] = cohort_of.pop(event["withdrawn"])
    return dict(sorted(cohort_of.items()))


def _seating(terms: CouncilTerms, bundles: Sequence[Bundle], upto: int) -> list[PublicSeat]:
    """The seats after rounds ``0 .. upto-1`` (``bundles`` as they were then; all revealed)."""
    latest: dict[int, int] = {}
    for i in range(upto):
        if i == 0:
            latest = dict.fromkeys(range(terms.cohorts), 0)
        else:
            latest[terms.renewed_cohort(i)] = i
    seats = []
    for cohort, i in sorted(latest.items()):
        bundle = bundles[i]
        wijk_of = _wijk_of(terms, bundle)
        for pseudonym, c in _round_cohorts(terms, bundle, i).items():
            if c == cohort:
                seats.append(PublicSeat(i, pseudonym, wijk_of[pseudonym], c, terms.term_end(i, c)))
    return sorted(seats, key=lambda s: (s.round, s.member))


def _council_of(bundle: Bundle) -> dict[str, Any]:
    council = bundle["draw"]["council"]
    if not isinstance(council, dict):
        raise _fail("draw.council", "missing: this bundle is not a council's draw")
    missing = sorted(COUNCIL_FIELDS - set(council))
    extra = sorted(set(council) - COUNCIL_FIELDS)
    if missing:
        raise _fail(f"draw.council.{missing[0]}", "missing")
    if extra:
        raise _fail(f"draw.council.{extra[0]}", "unknown field")
    return council


def _expect_equal(actual: object, expected: object, where: str, what: str) -> None:
    if actual != expected:
        raise _fail(where, f"is {_short(actual)}, but {what} is {_short(expected)}")


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def verify_council(
    bundles: Sequence[Bundle], *, names: Sequence[str] | None = None
) -> CouncilVerified:
    """Check a council's chain of bundles from public data alone.

    For every round ``r`` (bundle ``r``): the bundle verifies (:func:`sortition.audit.verify`),
    linked to the previous bundle as it was when round ``r`` was committed (its first
    ``council.chain[r-1].events`` events); ``council.chain`` holds, for every earlier round,
    the digest of that bundle cut back to the recorded number of events (never fewer than an
    earlier round recorded), and that version is revealed; the terms equal round 0's; ``round``,
    ``year``, ``cohort`` and ``term_end`` follow the schedule; ``continuing`` lists exactly the
    seats whose term goes on (cohorts of round 0 from its seed by :func:`assign_cohorts`,
    replacements holding the seat they took) and ``renewed`` the seats per wijk of the cohort
    whose term ended (round 0: all seats); the quotas on the wijk feature are ``min = max`` =
    ``renewed`` and the panel size is their sum; round 0 links to nothing.

    Parameters
    ----------
    bundles : sequence of dict
        The bundles in order, as published (latest versions, with every event).
    names : sequence of str, optional
        File names of the bundles, to name in errors (default ``"round r"``).

    Returns
    -------
    CouncilVerified

    Raises
    ------
    AuditError
        At the first mismatch, with ``file`` the bundle and ``field`` the first field that
        does not match.
    """
    if not bundles:
        raise AuditError("bundles", "there are no bundles to verify", code="no-bundles")
    terms: CouncilTerms | None = None
    verified: list[audit.Verified] = []
    years: list[int] = []
    recorded: dict[int, int] = {}
    for r in range(len(bundles)):
        label = names[r] if names is not None else f"round {r}"
        try:
            terms = _verify_round(terms, bundles, r, recorded, verified, years)
        except AuditError as exc:
            exc.file = label
            raise
    assert terms is not None
    pending = bundles[-1]["reveal"] is None
    seats = _seating(terms, bundles, len(bundles) - 1 if pending else len(bundles))
    return CouncilVerified(
        terms,
        tuple(verified),
        tuple(years),
        tuple(sorted(seats, key=lambda s: (s.wijk, s.cohort, s.round, s.member))),
        pending,
    )


def _verify_round(
    first: CouncilTerms | None,
    bundles: Sequence[Bundle],
    r: int,
    recorded: dict[int, int],
    verified: list[audit.Verified],
    years: list[int],
) -> CouncilTerms:
    """Check round ``r``; returns the terms. ``recorded``: events per round seen so far."""
    bundle = bundles[r]
    if not isinstance(bundle, dict):
        raise _fail("bundle", "not a JSON object")
    audit.check_integrity(bundle, audit.PANEL_FIELDS)
    council = _council_of(bundle)
    try:
        terms = CouncilTerms.from_json(council, "draw.council")
    except _MalformedError as exc:
        raise _fail(exc.where, exc.message) from None
    except InputError as exc:
        raise _fail("draw.council", exc.message) from None
    if first is not None and terms != first:
        raise _fail(
            "draw.council",
            "the council's terms differ from round 0's; terms cannot change during a council's "
            "life",
        )
    _expect_equal(council["round"], r, "draw.council.round", "its place in the chain")
    _expect_equal(council["year"], terms.renewal_year(r), "draw.council.year", "the schedule")
    renewing = None if r == 0 else terms.renewed_cohort(r)
    _expect_equal(council["cohort"], renewing, "draw.council.cohort", "the schedule")
    term_end = None if r == 0 else terms.renewal_year(r) + terms.term_years
    _expect_equal(council["term_end"], term_end, "draw.council.term_end", "the schedule")

    chain = council["chain"]
    if not isinstance(chain, list) or len(chain) != r:
        raise _fail("draw.council.chain", f"must list the {r} earlier rounds")
    snapshots: list[Bundle] = []
    for i, entry in enumerate(chain):
        where = f"draw.council.chain[{i}]"
        if not (
            isinstance(entry, dict)
            and set(entry) == {"round", "events", "digest"}
            and entry["round"] == i
            and type(entry["events"]) is int
        ):
            raise _fail(where, f"needs round {i}, events (a whole number) and digest")
        events = entry["events"]
        available = len(bundles[i]["events"])
        if events > available:
            raise _fail(
                f"{where}.events",
                f"is {events}, but round {i}'s bundle has only {available}: events were removed "
                f"from round {i} after this round was committed",
            )
        if events < recorded.get(i, 0):
            raise _fail(
                f"{where}.events",
                f"is {events}, but an earlier round already saw {recorded[i]} events of round {i}",
            )
        snapshot = _snapshot(bundles[i], events)
        if entry["digest"] != audit.digest(snapshot):
            raise _fail(
                f"{where}.digest",
                f"is not the digest of round {i}'s bundle with its first {events} events: that "
                "bundle was changed after this round was committed",
            )
        if snapshot["reveal"] is None:
            raise _fail(where, f"round {i} was not revealed when this round was committed")
        recorded[i] = events
        snapshots.append(snapshot)
    if r == 0 and bundle["draw"]["previous"] is not None:
        raise _fail("draw.previous", "the first draw of a council links to no earlier bundle")
    verified.append(audit.verify(bundle, previous=snapshots[-1] if snapshots else None))
    years.append(terms.renewal_year(r))

    if r == 0:
        continuing: list[PublicSeat] = []
        renewed = dict(terms.seats)
    else:
        seating = _seating(terms, snapshots, r)
        continuing = [s for s in seating if s.cohort != renewing]
        renewed = dict(sorted(Counter(s.wijk for s in seating if s.cohort == renewing).items()))
    expected = [s.to_json() for s in continuing]
    stated = council["continuing"]
    if stated != expected:
        detail = "a different number of seats"
        if isinstance(stated, list) and len(stated) == len(expected):
            i = next(i for i, (a, b) in enumerate(zip(stated, expected, strict=True)) if a != b)
            detail = f"entry {i} is {_short(stated[i])}, expected {_short(expected[i])}"
        raise _fail(
            "draw.council.continuing",
            "is not the seats whose term continues (cohorts of round 0 from its seed, terms "
            f"from the schedule): {detail}",
        )
    _expect_equal(council["renewed"], renewed, "draw.council.renewed", "the seats whose term ended")
    in_council = Counter(s.wijk for s in continuing) + Counter(renewed)
    _expect_equal(dict(sorted(in_council.items())), dict(terms.seats), "draw.council", "seats")
    wijk_quotas = {
        q["value"]: [q["min"], q["max"]]
        for q in bundle["draw"]["quotas"]
        if q["feature"] == terms.wijk_feature
    }
    _expect_equal(
        wijk_quotas,
        {w: [n, n] for w, n in renewed.items()},
        "draw.quotas",
        f"min = max = the seats to fill per wijk ('{terms.wijk_feature}')",
    )
    _expect_equal(bundle["draw"]["k"], sum(renewed.values()), "draw.k", "the seats to fill")
    return terms


def check_bundles(
    state: CouncilState, bundles: Sequence[Bundle], *, names: Sequence[str] | None = None
) -> CouncilVerified:
    """Check that ``bundles`` are the ones ``state`` last wrote, verify them, and match seats.

    ``names`` are the bundles' file names, to name in errors (default ``"round r"``).

    Raises
    ------
    AuditError
        ``state-mismatch`` if a bundle is missing, extra, or differs from what the state
        recorded (an edited bundle or an old copy), or the state's members are not the
        bundles' seats; any error of :func:`verify_council`.
    """
    if len(bundles) != len(state.rounds):
        raise AuditError(
            "bundles",
            f"the council state has {len(state.rounds)} rounds but {len(bundles)} bundles were "
            "given",
            code="state-mismatch",
        )
    for record, bundle in zip(state.rounds, bundles, strict=True):
        if audit.digest(bundle) != record.digest:
            raise AuditError(
                "",
                f"the bundle of round {record.round} is not the one this council state last "
                "wrote (was it edited, or is it an old copy?)",
                code="state-mismatch",
                file=names[record.round] if names is not None else None,
            )
    result = verify_council(bundles, names=names)
    held = sorted((m.round, m.pseudonym, m.wijk, m.cohort, m.term_end) for m in state.members)
    public = sorted((s.round, s.member, s.wijk, s.cohort, s.term_end) for s in result.seats)
    if held != public:
        raise AuditError(
            "members",
            "the council state's members are not the seats the bundles show",
            code="state-mismatch",
        )
    return result
