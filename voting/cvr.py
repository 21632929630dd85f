"""Cast-vote-record (CVR) readers for the formats RCTab reads, into a MarkedProfile.

Every reader keeps the marks exactly as recorded (:class:`~voting.ballots.MarkedProfile`):
per rank the candidates marked, several for an overvote, none for a skipped rank, a candidate
marked at several ranks kept at each. What the marks mean is decided by the counting rule
(:func:`voting.rctab.tabulate`). The candidates of the profile are the configuration's declared
candidates in their configured order, then :data:`~voting.rctab.UNDECLARED_WRITE_INS` when a
source names an ``undeclaredWriteInLabel``, then :data:`~voting.rctab.EXPLICIT_OVERVOTE` when a
cell held the source's ``overvoteLabel`` (an overvote recorded without the candidates marked).

Formats (as described in the RCTab configuration documentation, BrightSpots/rcv):

``ess``
    ES&S Excel workbook (.xlsx): one row per ballot from ``firstVoteRowIndex``, rank ``r`` in
    column ``firstVoteColumnIndex + r - 1`` for ``maxRankingsAllowed`` ranks; a cell holds a
    candidate name or alias, the ``overvoteLabel``, the ``skippedRankLabel``, the
    ``undeclaredWriteInLabel``, several names joined by ``overvoteDelimiter``, or nothing.
``cdf``
    NIST SP 1500-103 Common Data Format, JSON or XML: each CVR's current snapshot, the contest
    whose name is ``contestId``, its selections with ``Rank`` (and ``HasIndication`` not "no").
``dominion``
    Dominion export folder: ``CvrExport*.json`` sessions, contest ``contestId``, marks with
    ``Rank`` and ``CandidateId`` (a candidate alias), ambiguous marks left out.
``hart``
    Hart folder of per-ballot XML files: contest ``Id`` = ``contestId``, each option's ``Id``
    (an alias) and ``Value``, a string of 0/1 where position ``r`` set means rank ``r``.
``clearBallot``
    Clear Ballot CSV: columns ``Choice_<n>_<k>:<contest>:<rank>:<vote for>:<candidate>:<party>``,
    ``1`` where marked.
``genericCsv``
    One row per ballot, one column per candidate (header: name or alias) from
    ``firstVoteColumnIndex``, the cell holding the rank given to that candidate.

A ballot that does not take part in the contest (CDF, Dominion, Hart: the contest is absent) is
not read; a ballot that takes part with no mark is kept as an undervote. A bad file raises
:class:`~voting.errors.InputError` with the file, the row or line, and the field.

XML is parsed with :mod:`xml.etree.ElementTree`; documents with a DOCTYPE are refused, so no
entity (external or recursive) is ever expanded.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voting.ballots import MarkedProfile
from voting.errors import InputError
from voting.rctab import EXPLICIT_OVERVOTE, UNDECLARED_WRITE_INS, CvrSource, RctabConfig

__all__ = ["load_contest", "read_cvrs", "read_source"]

_OVER = -1
_UWI = -2

Record = list[tuple[int, int]]
"""One ballot: ``(rank, token)`` pairs, token a candidate index or ``_OVER`` / ``_UWI``."""


@dataclass(slots=True)
class _Labels:
    """Turns the strings of one source into candidate tokens."""

    source: CvrSource
    lookup: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, config: RctabConfig, source: CvrSource) -> _Labels:
        lookup: dict[str, int] = {}
        for i, c in enumerate(config.candidates):
            for key in (*c.aliases, c.name):
                lookup[key] = i
        return cls(source, lookup)

    def token(self, raw: object, file: str, line: int | None, where: str) -> list[int]:
        """The tokens of one cell; ``[]`` for a blank or skipped rank."""
        s = self.source
        text = "" if raw is None else str(raw).strip()
        if not text:
            return [_UWI] if s.treat_blank_as_undeclared_write_in else []
        if s.overvote_label and text == s.overvote_label:
            return [_OVER]
        if s.skipped_rank_label and text == s.skipped_rank_label:
            return []
        if s.overvote_delimiter and s.overvote_delimiter in text:
            out: list[int] = []
            for part in text.split(s.overvote_delimiter):
                out += self.token(part, file, line, where)
            return out
        if s.undeclared_write_in_label and text == s.undeclared_write_in_label:
            return [_UWI]
        if text in self.lookup:
            return [self.lookup[text]]
        raise InputError(
            "unknown-candidate",
            f"{where}: {text!r} is not a declared candidate, alias or label of the configuration.",
            file=file,
            line=line,
            params={"field": where, "value": text},
        )


def _rank(value: object, file: str, line: int | None, where: str) -> int:
    try:
        rank = int(str(value).strip())
    except ValueError:
        rank = 0
    if rank < 1:
        raise InputError(
            "bad-rank",
            f"{where}: rank {value!r} is not a whole number of at least 1.",
            file=file,
            line=line,
            params={"field": where, "value": value},
        )
    return rank


# --------------------------------------------------------------------------------------------
# readers: each yields (line, record)


def _read_ess(path: Path, labels: _Labels, max_rankings: int) -> Iterator[tuple[int, Record]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover
        raise InputError(
            "missing-dependency", "Reading .xlsx needs openpyxl.", file=str(path)
        ) from None
    s = labels.source
    first_row = s.first_vote_row or 2
    first_col = s.first_vote_column or 2
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise InputError(
            "unreadable-file", f"Not a readable .xlsx workbook: {exc}.", file=str(path)
        ) from None
    try:
        ws = wb.worksheets[0]
        for line, row in enumerate(ws.iter_rows(min_row=first_row, values_only=True), first_row):
            if all(v is None or str(v).strip() == "" for v in row):
                continue
            record: Record = []
            for r in range(1, max_rankings + 1):
                col = first_col + r - 1
                value = row[col - 1] if col - 1 < len(row) else None
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                where = f"column {openpyxl.utils.get_column_letter(col)}"
                record += [(r, t) for t in labels.token(value, str(path), line, where)]
            yield line, record
    finally:
        wb.close()


def _read_generic_csv(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    s = labels.source
    first_row = s.first_vote_row or 2
    first_col = s.first_vote_column or 1
    with _open_text(path) as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None:
            raise InputError("empty-file", "The CSV file is empty.", file=str(path), line=1)
        columns = [
            (j, labels.token(h, str(path), 1, f"column {j + 1} header"))
            for j, h in enumerate(header)
            if j >= first_col - 1
        ]
        for line, row in enumerate(rows, 2):
            if line < first_row or not any(cell.strip() for cell in row):
                continue
            record: Record = []
            for j, tokens in columns:
                cell = row[j].strip() if j < len(row) else ""
                if not cell:
                    continue
                rank = _rank(cell, str(path), line, f"column {j + 1} ({header[j]})")
                record += [(rank, t) for t in tokens]
            yield line, record


_CB_HEADER = re.compile(r"^Choice_\d+_\d+$")


def _read_clear_ballot(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    contest = labels.source.contest_id
    with _open_text(path) as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None:
            raise InputError("empty-file", "The CSV file is empty.", file=str(path), line=1)
        columns: list[tuple[int, int, list[int]]] = []
        for j, h in enumerate(header):
            parts = h.split(":")
            if len(parts) < 5 or not _CB_HEADER.match(parts[0]):
                continue
            if parts[1] != contest:
                continue
            rank = _rank(parts[2], str(path), 1, f"column {j + 1} header")
            columns.append(
                (j, rank, labels.token(parts[4], str(path), 1, f"column {j + 1} header"))
            )
        if not columns:
            raise InputError(
                "unknown-contest",
                f"No column belongs to contest {contest!r}.",
                file=str(path),
                line=1,
                params={"contest": contest},
            )
        for line, row in enumerate(rows, 2):
            if not any(cell.strip() for cell in row):
                continue
            record: Record = []
            for j, rank, tokens in columns:
                cell = row[j].strip() if j < len(row) else ""
                if cell in ("", "0"):
                    continue
                if cell != "1":
                    raise InputError(
                        "bad-mark",
                        f"column {j + 1}: mark {cell!r} must be 0 or 1.",
                        file=str(path),
                        line=line,
                        params={"field": header[j], "value": cell},
                    )
                record += [(rank, t) for t in tokens]
            yield line, record


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(
            "bad-json", f"Not valid JSON: {exc.msg}.", file=str(path), line=exc.lineno
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            "unreadable-file", f"Cannot read the file: {exc}.", file=str(path)
        ) from None


def _read_cdf_json(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    data = _load_json(path)
    file = str(path)
    try:
        candidates: dict[str, str] = {}
        selections: dict[str, str | None] = {}
        contest_ids: set[str] = set()
        for election in data.get("Election", []):
            for c in election.get("Candidate", []):
                candidates[c["@id"]] = c.get("Name", c["@id"])
            for contest in election.get("Contest", []):
                if (
                    contest.get("Name") == labels.source.contest_id
                    or contest.get("@id") == labels.source.contest_id
                ):
                    contest_ids.add(contest["@id"])
                    for sel in contest.get("ContestSelection", []):
                        ids = sel.get("CandidateIds") or []
                        selections[sel["@id"]] = ids[0] if ids else None
        cvrs = data.get("CVR", [])
    except (AttributeError, KeyError, TypeError) as exc:
        raise InputError(
            "bad-cdf", f"Not a CDF cast-vote-record report: missing {exc}.", file=file
        ) from None
    if not contest_ids:
        raise InputError(
            "unknown-contest",
            f"No contest named {labels.source.contest_id!r}.",
            file=file,
            params={"contest": labels.source.contest_id},
        )
    for n, cvr in enumerate(cvrs, 1):
        where = f"CVR[{n - 1}]"
        try:
            current = cvr.get("CurrentSnapshotId")
            snaps = [s for s in cvr.get("CVRSnapshot", []) if s.get("@id") == current] or cvr.get(
                "CVRSnapshot", []
            )[:1]
            found = False
            record: Record = []
            for snap in snaps:
                for contest in snap.get("CVRContest", []):
                    if contest.get("ContestId") not in contest_ids:
                        continue
                    found = True
                    for sel in contest.get("CVRContestSelection", []):
                        sid = sel.get("ContestSelectionId")
                        if sid is None:
                            continue
                        if sid not in selections:
                            raise InputError(
                                "unknown-candidate",
                                f"{where}: selection {sid!r} is not in the contest.",
                                file=file,
                                line=n,
                                params={"field": where, "value": sid},
                            )
                        cid = selections[sid]
                        name = candidates.get(cid, cid) if cid else None
                        for pos in sel.get("SelectionPosition", []):
                            if str(pos.get("HasIndication", "yes")) == "no":
                                continue
                            rank = _rank(pos.get("Rank", 1), file, n, where + ".Rank")
                            tokens = _cdf_tokens(labels, name, cid, file, n, where)
                            record += [(rank, t) for t in tokens]
        except (AttributeError, TypeError) as exc:
            raise InputError(
                "bad-cdf",
                f"{where}: malformed record ({exc}).",
                file=file,
                line=n,
                params={"field": where},
            ) from None
        if found:
            yield n, record


def _cdf_tokens(
    labels: _Labels, name: str | None, cid: str | None, file: str, n: int, where: str
) -> list[int]:
    if name is None:
        return [_UWI] if labels.source.undeclared_write_in_label else []
    if name in labels.lookup:
        return [labels.lookup[name]]
    if cid is not None and cid in labels.lookup:
        return [labels.lookup[cid]]
    return labels.token(name, file, n, where)


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(path: Path) -> ET.Element:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            "unreadable-file", f"Cannot read the file: {exc}.", file=str(path)
        ) from None
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise InputError(
            "unsafe-xml", "XML with a DOCTYPE or entity declarations is refused.", file=str(path)
        )
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise InputError(
            "bad-xml", f"Not well-formed XML: {exc}.", file=str(path), line=exc.position[0]
        ) from None
    for el in root.iter():
        el.tag = _strip(el.tag)
        for k in list(el.attrib):
            if "}" in k:
                el.attrib[_strip(k)] = el.attrib.pop(k)
    return root


def _text(el: ET.Element | None, child: str) -> str | None:
    if el is None:
        return None
    found = el.find(child)
    return None if found is None or found.text is None else found.text.strip()


def _read_cdf_xml(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    root = _parse_xml(path)
    file = str(path)
    candidates = {c.get("ObjectId", ""): _text(c, "Name") or "" for c in root.iter("Candidate")}
    contest_ids: set[str] = set()
    selections: dict[str, str | None] = {}
    for contest in root.iter("Contest"):
        oid = contest.get("ObjectId", "")
        if _text(contest, "Name") == labels.source.contest_id or oid == labels.source.contest_id:
            contest_ids.add(oid)
            for sel in contest.findall("ContestSelection"):
                selections[sel.get("ObjectId", "")] = _text(sel, "CandidateIds")
    if not contest_ids:
        raise InputError(
            "unknown-contest",
            f"No contest named {labels.source.contest_id!r}.",
            file=file,
            params={"contest": labels.source.contest_id},
        )
    for n, cvr in enumerate(root.findall("CVR"), 1):
        where = f"CVR #{n}"
        current = _text(cvr, "CurrentSnapshotId")
        snaps = [s for s in cvr.findall("CVRSnapshot") if s.get("ObjectId") == current]
        snaps = snaps or cvr.findall("CVRSnapshot")[:1]
        found = False
        record: Record = []
        for snap in snaps:
            for contest in snap.findall("CVRContest"):
                if _text(contest, "ContestId") not in contest_ids:
                    continue
                found = True
                for sel in contest.findall("CVRContestSelection"):
                    sid = _text(sel, "ContestSelectionId")
                    if sid is None:
                        continue
                    if sid not in selections:
                        raise InputError(
                            "unknown-candidate",
                            f"{where}: selection {sid!r} is not in the contest.",
                            file=file,
                            line=n,
                            params={"field": where, "value": sid},
                        )
                    cid = selections[sid]
                    name = candidates.get(cid, cid) if cid else None
                    for pos in sel.findall("SelectionPosition"):
                        if _text(pos, "HasIndication") == "no":
                            continue
                        rank = _rank(_text(pos, "Rank") or 1, file, n, where + " Rank")
                        record += [
                            (rank, t) for t in _cdf_tokens(labels, name, cid, file, n, where)
                        ]
        if found:
            yield n, record


def _read_dominion(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    files = sorted(path.glob("CvrExport*.json")) if path.is_dir() else [path]
    if not files:
        raise InputError(
            "missing-file", "No CvrExport*.json in the Dominion folder.", file=str(path)
        )
    contest = labels.source.contest_id
    for f in files:
        data = _load_json(f)
        sessions = data.get("Sessions") if isinstance(data, dict) else None
        if not isinstance(sessions, list):
            raise InputError("bad-dominion", "No 'Sessions' list.", file=str(f))
        for n, session in enumerate(sessions, 1):
            where = f"Sessions[{n - 1}]"
            try:
                chosen = session.get("Modified") or session["Original"]
                found = False
                record: Record = []
                for card in chosen.get("Cards", []):
                    for c in card.get("Contests", []):
                        if str(c.get("Id")) != contest:
                            continue
                        found = True
                        for mark in c.get("Marks", []):
                            if mark.get("IsAmbiguous"):
                                continue
                            rank = _rank(mark.get("Rank"), str(f), n, where + ".Rank")
                            tokens = labels.token(
                                str(mark.get("CandidateId")), str(f), n, where + ".CandidateId"
                            )
                            record += [(rank, t) for t in tokens]
            except (AttributeError, KeyError, TypeError) as exc:
                raise InputError(
                    "bad-dominion",
                    f"{where}: malformed session ({exc}).",
                    file=str(f),
                    line=n,
                    params={"field": where},
                ) from None
            if found:
                yield n, record


def _read_hart(path: Path, labels: _Labels) -> Iterator[tuple[int, Record]]:
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    contest = labels.source.contest_id
    for n, f in enumerate(files, 1):
        root = _parse_xml(f)
        for c in root.iter("Contest"):
            if _text(c, "Id") != contest:
                continue
            record: Record = []
            options = c.find("Options")
            for opt in [] if options is None else options.findall("Option"):
                oid = _text(opt, "Id") or ""
                value = _text(opt, "Value") or ""
                if not re.fullmatch(r"[01]+", value):
                    raise InputError(
                        "bad-mark",
                        f"Option {oid}: Value {value!r} must be 0s and 1s.",
                        file=str(f),
                        params={"field": "Value", "value": value},
                    )
                tokens = labels.token(oid, str(f), None, "Option Id")
                record += [(i + 1, t) for i, bit in enumerate(value) if bit == "1" for t in tokens]
            yield n, record
            break


def _open_text(path: Path) -> Any:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(
            "unreadable-file", f"Cannot read the file: {exc}.", file=str(path)
        ) from None


# --------------------------------------------------------------------------------------------


def read_source(
    config: RctabConfig, source: CvrSource, base_dir: str | Path = "."
) -> Iterator[tuple[str, int, Record]]:
    """Yield ``(file, line, record)`` for every ballot of one source (paths relative to base)."""
    path = Path(base_dir) / source.file_path
    if not path.exists():
        raise InputError(
            "missing-file",
            "The CVR file does not exist.",
            file=str(path),
            params={"key": "cvrFileSources.filePath"},
        )
    labels = _Labels.of(config, source)
    p = source.provider
    rows: Iterable[tuple[int, Record]]
    if p == "ess":
        rows = _read_ess(path, labels, config.max_rankings_resolved)
    elif p == "genericCsv":
        rows = _read_generic_csv(path, labels)
    elif p == "clearBallot":
        rows = _read_clear_ballot(path, labels)
    elif p == "cdf":
        rows = (
            _read_cdf_xml(path, labels)
            if path.suffix.lower() == ".xml"
            else _read_cdf_json(path, labels)
        )
    elif p == "dominion":
        rows = _read_dominion(path, labels)
    elif p == "hart":
        rows = _read_hart(path, labels)
    else:  # pragma: no cover - RctabConfig rejects other providers
        raise InputError("bad-config", f"Unknown provider {p!r}.", params={"key": "provider"})
    for line, record in rows:
        yield str(path), line, record


def read_cvrs(config: RctabConfig, base_dir: str | Path = ".") -> MarkedProfile:
    """Read every CVR source of ``config`` into one :class:`MarkedProfile`.

    Raises
    ------
    InputError
        For a missing or malformed file, an unknown candidate, or a rank above
        ``maxRankingsAllowed`` (naming the file, the row or line, and the field).
    """
    names = [c.name for c in config.candidates]
    uwi = len(names) if config.undeclared_write_ins else None
    if uwi is not None:
        names.append(UNDECLARED_WRITE_INS)
    saw_overvote = False
    max_rank = config.max_rankings_resolved
    pairs: list[tuple[list[list[int]], int]] = []
    for source in config.sources:
        for file, line, record in read_source(config, source, base_dir):
            top = max((r for r, _ in record), default=0)
            if top > max_rank:
                raise InputError(
                    "too-many-rankings",
                    f"Rank {top} is above maxRankingsAllowed ({max_rank}).",
                    file=file,
                    line=line,
                    params={"field": "rank", "value": top},
                )
            marks: list[list[int]] = [[] for _ in range(top)]
            for rank, token in record:
                if token == _OVER:
                    # an explicit overvote; its candidate index is given once all are read
                    saw_overvote = True
                    index = _OVER
                elif token == _UWI:
                    if uwi is None:
                        raise InputError(
                            "bad-config",
                            "An undeclared write-in needs undeclaredWriteInLabel.",
                            file=file,
                            line=line,
                        )
                    index = uwi
                else:
                    index = token
                if index not in marks[rank - 1]:
                    marks[rank - 1].append(index)
            pairs.append((marks, 1))
    if saw_overvote:
        over = len(names)
        names.append(EXPLICIT_OVERVOTE)
        pairs = [([[over if i == _OVER else i for i in rank] for rank in m], w) for m, w in pairs]
    return MarkedProfile.build(names, pairs)


def load_contest(config_path: str | Path) -> tuple[MarkedProfile, RctabConfig]:
    """Read an RCTab configuration and its CVRs (paths relative to the configuration file)."""
    config = RctabConfig.load(config_path)
    return read_cvrs(config, Path(config_path).parent), config
