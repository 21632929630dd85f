"""Reading and writing pabulib ``.pb`` files, and turning them into an :class:`Election`.

A ``.pb`` file (https://pabulib.org/format; Stolicki, Szufa and Talmon 2020, arXiv:2012.06539;
Faliszewski et al., IJCAI 2023, arXiv:2305.11035) has three sections, each a title line
(``META``, ``PROJECTS``, ``VOTES``), a header line and ``;``-separated rows quoted as in CSV::

    META
    key;value
    budget;100000
    vote_type;approval
    PROJECTS
    project_id;cost;name
    1;60000;Park
    VOTES
    voter_id;vote
    v1;1

:func:`read_pb` is tolerant of what real files do: a UTF-8 byte order mark, CRLF or CR line
ends, quoted fields, decimal commas in numbers (``1546168,66``), ``None`` cells (read as not
given), a missing ``key;value`` line after ``META``, blank lines, spaces around cells, trailing
empty cells, and META keys this package does not know (kept, in order). Anything else that is
wrong stops reading with an :class:`~budgeting.errors.InputError` naming the file, the line and
the field. A ballot that names a project twice is read as cast (and logged); the rules see it
once (:func:`to_election`).

:func:`write_pb` writes UTF-8 with LF line ends, quoting only fields that need it; reading the
written file gives objects equal to the ones written.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import struct
from collections.abc import Callable, Iterator
from fractions import Fraction
from operator import itemgetter
from pathlib import Path
from typing import TextIO, cast

from budgeting.election import Election, WeightedBallot
from budgeting.errors import InputError
from budgeting.model import (
    POINTS_TYPES,
    PROJECT_FIELDS,
    Ballot,
    Instance,
    Profile,
    Project,
    format_number,
    parse_number,
)

__all__ = ["format_pb", "parse_pb", "read_pb", "to_election", "write_pb"]

logger = logging.getLogger(__name__)

_SECTIONS = ("META", "PROJECTS", "VOTES")


# ----------------------------------------------------------------------------------------------
# Reading


def read_pb(path: str | os.PathLike[str]) -> tuple[Instance, Profile]:
    """Read a pabulib ``.pb`` file.

    Parameters
    ----------
    path : str or path-like
        The file. UTF-8 with or without a byte order mark (or UTF-16 with one).

    Returns
    -------
    instance : Instance
        The projects and every META entry.
    profile : Profile
        The ballots, in file order.

    Raises
    ------
    InputError
        If the file cannot be read or is malformed: ``unreadable-file``, ``unclosed-quote``,
        ``missing-section``, ``bad-meta-line``, ``duplicate-meta-key``, ``missing-meta``,
        ``bad-meta-value``, ``meta-mismatch``, ``bad-vote-type``, ``missing-column``,
        ``duplicate-column``, ``too-many-fields``, ``bad-project-id``, ``duplicate-project``,
        ``bad-cost``, ``bad-category``, ``missing-voter-id``, ``duplicate-voter``,
        ``unknown-project``, ``bad-points``, ``points-mismatch``. The error's ``file``, ``row``
        (the line) and ``column`` (the META key or the column) say where; the line of an error
        in a META value is the line of that key.

    Examples
    --------
    >>> instance, profile = read_pb("Poland_Warszawa_2026.pb")  # doctest: +SKIP
    >>> instance.budget, instance.vote_type, len(profile)  # doctest: +SKIP
    (Fraction(24186815, 1), 'approval', 61668)
    """
    file = os.fspath(path)
    try:
        data = Path(file).read_bytes()
    except FileNotFoundError:
        raise _unreadable(file, "the file does not exist") from None
    except IsADirectoryError:
        raise _unreadable(file, "this is a folder, not a file") from None
    except PermissionError:
        raise _unreadable(file, "no permission to read the file") from None
    except OSError as exc:
        raise _unreadable(file, f"the file cannot be read ({exc.strerror})") from exc
    return parse_pb(_decode(file, data), file=file)


def _unreadable(file: str, message: str) -> InputError:
    return InputError("unreadable-file", message, file=file, params={"file": file})


def _decode(file: str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _unreadable(file, "the file is not valid UTF-16 text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "unreadable-file",
            f"line {line} is not UTF-8 text (perhaps another encoding); save the file as UTF-8",
            file=file,
            row=line,
            params={"file": file},
        ) from None


def _is_absent(cell: str) -> bool:
    return not cell or (len(cell) == 4 and cell.casefold() == "none")


def _trimmed(row: list[str]) -> list[str]:
    """The row's cells, stripped, without trailing empty cells."""
    cells = [cell.strip() for cell in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


class _Reader:
    """Walks the rows of a ``.pb`` text, knowing the line each row starts on."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.text = text
        self._csv = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
        self.line = 0  # the line the current row starts on
        self._total_lines: int | None = None

    def error(
        self, code: str, message: str, column: str | None = None, **params: object
    ) -> InputError:
        """An InputError at the current row."""
        return InputError(
            code, message, file=self.file, row=self.line, column=column, params=params
        )

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, cells)`` for every non-blank row; ``line`` is where it starts."""
        reader = self._csv
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # pragma: no cover - the non-strict reader hardly raises
                self.line = start
                raise self.error("malformed-line", f"the line cannot be read ({exc})") from None
            if reader.line_num > start and any("\n" in c or "\r" in c for c in row):
                self._check_closed(start)
            if (row and row[0].strip()) or "".join(row).strip():
                self.line = start
                yield start, row

    def _check_closed(self, start: int) -> None:
        """A double quote never closed swallows the rest of the file: say where it opened."""
        if self._total_lines is None:
            self._total_lines = len(io.StringIO(self.text, newline="").readlines())
        if self._csv.line_num < self._total_lines:
            return
        lines = io.StringIO(self.text, newline="").readlines()
        if "".join(lines[start - 1 :]).count('"') % 2 == 1:
            self.line = start
            raise self.error(
                "unclosed-quote",
                'a field on this line opens a double quote (") that is never closed, so the '
                'rest of the file would be one field; close it, or write "" for a quote '
                "inside a quoted field",
            )


def _marker(cells: list[str]) -> str | None:
    if len(cells) == 1 and cells[0].upper() in _SECTIONS:
        return cells[0].upper()
    return None


def parse_pb(text: str, *, file: str = "<text>") -> tuple[Instance, Profile]:
    """Parse the text of a pabulib ``.pb`` file (see :func:`read_pb`).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    file : str, optional
        The name to use in error messages (for example an uploaded file's name).

    Returns
    -------
    instance : Instance
    profile : Profile

    Raises
    ------
    InputError
        As :func:`read_pb`.

    Examples
    --------
    >>> text = "META\\nbudget;10\\nvote_type;approval\\nPROJECTS\\nproject_id;cost\\n"
    >>> text += "a;4\\nb;7,5\\nVOTES\\nvoter_id;vote\\n1;a,b\\n"
    >>> instance, profile = parse_pb(text)
    >>> instance.projects[1].cost, profile.ballots[0].projects
    (Fraction(15, 2), ('a', 'b'))
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = _Reader(text, file)
    rows = reader.rows()
    first = next(rows, None)
    if first is None or _marker(_trimmed(first[1])) != "META":
        line = None if first is None else first[0]
        raise InputError(
            "missing-section",
            "the file must start with a line 'META' (then the META, PROJECTS and VOTES "
            "sections); is this a pabulib .pb file?",
            file=file,
            row=line,
            params={"section": "META"},
        )
    meta, meta_lines, meta_line = _read_meta(reader, rows)
    projects, project_columns = _read_projects(reader, rows)
    try:
        instance = Instance(tuple(projects), tuple(meta), tuple(project_columns))
    except InputError as exc:
        line = meta_lines.get(exc.column or "", meta_line)
        raise InputError(
            exc.code, exc.message, file=file, row=line, column=exc.column, params=exc.params
        ) from None
    profile = _read_votes(reader, rows, instance)
    _check_counts(file, instance, profile)
    return instance, profile


def _read_meta(
    reader: _Reader, rows: Iterator[tuple[int, list[str]]]
) -> tuple[list[tuple[str, str]], dict[str, int], int]:
    meta_line = reader.line
    meta: list[tuple[str, str]] = []
    lines: dict[str, int] = {}
    first = True
    for line, row in rows:
        cells = _trimmed(row)
        if first and [c.casefold() for c in cells] == ["key", "value"]:
            first = False
            continue
        first = False
        marker = _marker(cells)
        if marker == "PROJECTS":
            return meta, lines, meta_line
        if marker is not None or len(row) < 2 or not cells or not cells[0]:
            raise reader.error(
                "bad-meta-line" if marker is None else "missing-section",
                "expected a META line 'key;value' or the line 'PROJECTS'"
                if marker is None
                else f"found '{marker}' but the PROJECTS section must come first",
                column=cells[0] if cells and marker is None else None,
            )
        key = cells[0]
        if key in lines:
            raise reader.error(
                "duplicate-meta-key",
                f"META has a second '{key}' line (the first is line {lines[key]}); keep one",
                column=key,
                key=key,
            )
        lines[key] = line
        meta.append((key, ";".join(cells[1:])))
    raise reader.error(
        "missing-section",
        "the file ends in the META section; it needs a PROJECTS and a VOTES section",
        section="PROJECTS",
    )


def _header(reader: _Reader, row: list[str], section: str) -> list[str]:
    header = _trimmed(row)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        folded = name.casefold()
        if not name:
            raise reader.error(
                "missing-column",
                f"column {i + 1} of the {section} header has no name",
                column=None,
            )
        if folded in seen:
            raise reader.error(
                "duplicate-column",
                f"the {section} header has two columns called '{name}'; rename or remove one",
                column=name,
            )
        seen[folded] = i
    return header


def _fit(reader: _Reader, row: list[str], width: int, header: list[str]) -> list[str]:
    """Pad a row to the header's width; fail if it has more non-empty cells than columns."""
    if len(row) > width:
        if any(cell.strip() for cell in row[width:]):
            raise reader.error(
                "too-many-fields",
                f"this line has {len(row)} fields but the header has {width} ("
                + ";".join(header)
                + "); quote a field that contains ';'",
            )
        return row[:width]
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row


def _read_projects(
    reader: _Reader, rows: Iterator[tuple[int, list[str]]]
) -> tuple[list[Project], list[str]]:
    got = next(rows, None)
    if got is None or _marker(_trimmed(got[1])) is not None:
        raise reader.error(
            "missing-column",
            "the PROJECTS section needs a header line such as 'project_id;cost;name'",
            column="project_id",
        )
    header = _header(reader, got[1], "PROJECTS")
    folded = [name.casefold() for name in header]
    for name in ("project_id", "cost"):
        if name not in folded:
            raise reader.error(
                "missing-column",
                f"the PROJECTS header has no '{name}' column; it has "
                + ", ".join(f"'{h}'" for h in header),
                column=name,
            )
    where: dict[str, int] = {}
    extra_columns: list[tuple[int, str]] = []
    for i, name in enumerate(folded):
        role = PROJECT_FIELDS.get(name)
        if role is None:
            extra_columns.append((i, header[i]))
        elif role in where:
            raise reader.error(
                "duplicate-column",
                f"the PROJECTS header has both '{header[where[role]]}' and '{header[i]}'; keep one",
                column=header[i],
            )
        else:
            where[role] = i
    i_id, i_cost = where["id"], where["cost"]
    i_name = where.get("name", -1)
    i_categories = where.get("categories", -1)
    i_targets = where.get("targets", -1)
    i_neighbourhood = where.get("neighbourhood", -1)
    width = len(header)
    projects: list[Project] = []
    seen: dict[str, int] = {}
    costs: dict[str, Fraction] = {}
    for line, row in rows:
        if _marker(_trimmed(row)) == "VOTES":
            return projects, header
        cells = [cell.strip() for cell in _fit(reader, row, width, header)]
        cells = ["" if _is_absent(cell) else cell for cell in cells]
        project_id = cells[i_id]
        if not project_id:
            raise reader.error("bad-project-id", "the project has no id", column=header[i_id])
        if project_id in seen:
            raise reader.error(
                "duplicate-project",
                f"project id '{project_id}' is used on line {seen[project_id]} too; "
                "ids must be unique",
                column=header[i_id],
                project=project_id,
            )
        seen[project_id] = line
        try:
            project = Project(
                project_id,
                _cost(reader, cells[i_cost], costs),
                name=cells[i_name] if i_name >= 0 else "",
                categories=_labels(cells[i_categories]) if i_categories >= 0 else (),
                targets=_labels(cells[i_targets]) if i_targets >= 0 else (),
                neighbourhood=cells[i_neighbourhood] if i_neighbourhood >= 0 else "",
                extra=tuple((name, cells[i]) for i, name in extra_columns),
            )
        except InputError as exc:
            if exc.file is not None:
                raise
            raise reader.error(exc.code, exc.message, column=exc.column, **exc.params) from None
        projects.append(project)
    raise reader.error(
        "missing-section",
        "the file ends in the PROJECTS section; it needs a VOTES section (a line 'VOTES', "
        "a header such as 'voter_id;vote' and one line per voter)",
        section="VOTES",
    )


def _labels(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(",") if part.strip())


def _cost(reader: _Reader, cell: str, cache: dict[str, Fraction]) -> Fraction:
    cost = cache.get(cell)
    if cost is not None:
        return cost
    try:
        cost = parse_number(cell)
    except ValueError:
        what = "no cost" if _is_absent(cell) else f"cost '{cell}', which is not a number"
        raise reader.error(
            "bad-cost",
            f"the project has {what}; write it like 150000 or 1546168.66",
            column="cost",
            value=cell,
        ) from None
    if cost < 0:
        raise reader.error("bad-cost", f"the cost '{cell}' is negative", column="cost", value=cell)
    cache[cell] = cost
    return cost


def _read_votes(
    reader: _Reader, rows: Iterator[tuple[int, list[str]]], instance: Instance
) -> Profile:
    vote_type = instance.vote_type
    with_points = vote_type in POINTS_TYPES
    got = next(rows, None)
    if got is None:
        return Profile(vote_type, (), ("voter_id", "vote", *(("points",) if with_points else ())))
    required = ("voter_id", "vote", "points") if with_points else ("voter_id", "vote")
    header = _header(reader, got[1], "VOTES")
    folded = [name.casefold() for name in header]
    for name in required:
        if name not in folded:
            hint = f" (a {vote_type} vote gives points to projects)" if name == "points" else ""
            raise reader.error(
                "missing-column",
                f"the VOTES header has no '{name}' column{hint}; it has "
                + ", ".join(f"'{h}'" for h in header),
                column=name,
            )
    i_voter = folded.index("voter_id")
    i_vote = folded.index("vote")
    i_points = folded.index("points") if with_points else -1
    extra_columns = [
        (i, name) for i, name in enumerate(header) if i not in (i_voter, i_vote, i_points)
    ]
    extra_names = tuple(name for _, name in extra_columns)
    extra_cells = _getter(tuple(i for i, _ in extra_columns))
    extra_cache: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    width = len(header)
    known = frozenset(instance.ids)
    points_cache: dict[str, tuple[Fraction, ...]] = {}
    votes_cache: dict[str, tuple[tuple[str, ...], bool]] = {}
    voters: dict[str, int] = {}
    ballots: list[Ballot] = []
    repeated = 0
    for line, row in rows:
        if len(row) != width:
            row = _fit(reader, row, width, header)
        voter_id = row[i_voter].strip()
        if voter_id in voters or _is_absent(voter_id):
            if _is_absent(voter_id):
                raise reader.error(
                    "missing-voter-id", "the vote has no voter id", column=header[i_voter]
                )
            raise reader.error(
                "duplicate-voter",
                f"voter id '{voter_id}' is used on line {voters[voter_id]} too; "
                "each voter has one line",
                column=header[i_voter],
                voter=voter_id,
            )
        voters[voter_id] = line
        cell = row[i_vote]
        cached = votes_cache.get(cell)
        if cached is None:
            projects = _vote(reader, cell, known)
            cached = votes_cache[cell] = (projects, len(set(projects)) != len(projects))
        projects = cached[0]
        repeated += cached[1]
        points: tuple[Fraction, ...] | None = None
        if with_points:
            cell = row[i_points]
            points = points_cache.get(cell)
            if points is None:
                points = points_cache[cell] = _points(reader, cell)
            if len(points) != len(projects):
                raise reader.error(
                    "points-mismatch",
                    f"the vote lists {len(projects)} projects but {len(points)} numbers of "
                    "points; give one number per project, in the same order",
                    column=header[i_points],
                    voter=voter_id,
                )
        raw_extra = extra_cells(row) if extra_cells is not None else ()
        extra = extra_cache.get(raw_extra)
        if extra is None:
            values = [value.strip() for value in raw_extra]
            extra = tuple(
                zip(extra_names, ["" if _is_absent(v) else v for v in values], strict=True)
            )
            extra_cache[raw_extra] = extra
        ballots.append(Ballot(voter_id, projects, points, extra))
    if repeated:
        logger.warning(
            "%s: %d ballot(s) name a project more than once; the rules count it once "
            "(cumulative: its points add up)",
            reader.file,
            repeated,
        )
    return Profile(vote_type, tuple(ballots), tuple(header))


def _getter(indices: tuple[int, ...]) -> Callable[[list[str]], tuple[str, ...]] | None:
    """A function giving a row's cells at ``indices`` as a tuple (None for no indices)."""
    if not indices:
        return None
    if len(indices) == 1:
        (only,) = indices
        return lambda row: (row[only],)
    return cast("Callable[[list[str]], tuple[str, ...]]", itemgetter(*indices))


def _vote(reader: _Reader, cell: str, known: frozenset[str]) -> tuple[str, ...]:
    text = cell.strip()
    if _is_absent(text):
        return ()
    parts = text.split(",")
    if " " in text or "" in parts:
        parts = [part.strip() for part in parts if part.strip()]
    if not known.issuperset(parts):
        unknown = next(part for part in parts if part not in known)
        raise reader.error(
            "unknown-project",
            f"the vote names project '{unknown}', which is not in the PROJECTS section",
            column="vote",
            project=unknown,
        )
    return tuple(parts)


def _points(reader: _Reader, cell: str) -> tuple[Fraction, ...]:
    text = cell.strip()
    if _is_absent(text):
        return ()
    values: list[Fraction] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(parse_number(part))
        except ValueError:
            raise reader.error(
                "bad-points",
                f"'{part}' is not a number of points; write points like 3,2,1",
                column="points",
                value=part,
            ) from None
    return tuple(values)


def _check_counts(file: str, instance: Instance, profile: Profile) -> None:
    for key, actual in (("num_projects", len(instance.projects)), ("num_votes", len(profile))):
        given = instance.get(key)
        if given is not None and given.strip() != str(actual):
            logger.warning(
                "%s: META says %s;%s but the file has %d", file, key, given.strip(), actual
            )


# ----------------------------------------------------------------------------------------------
# Writing


def _cell(text: str) -> str:
    if ";" in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _line(cells: list[str]) -> str:
    return ";".join(_cell(cell) for cell in cells)


def format_pb(instance: Instance, profile: Profile) -> str:
    """The text of the ``.pb`` file for an instance and a profile (see :func:`write_pb`)."""
    if profile.vote_type != instance.vote_type:
        raise InputError(
            "vote-type-mismatch",
            f"the instance's vote_type is '{instance.vote_type}' but the profile's is "
            f"'{profile.vote_type}'",
            column="vote_type",
        )
    out: list[str] = ["META", "key;value"]
    out.extend(_line([key, value]) for key, value in instance.meta)

    out.append("PROJECTS")
    columns = list(instance.project_columns)
    present = {PROJECT_FIELDS.get(c.casefold(), c) for c in columns}
    for column in _needed_project_columns(instance):
        if PROJECT_FIELDS.get(column.casefold(), column) not in present:
            columns.append(column)
            present.add(PROJECT_FIELDS.get(column.casefold(), column))
    out.append(_line(columns))
    for project in instance.projects:
        extra = dict(project.extra)
        cells = []
        for column in columns:
            role = PROJECT_FIELDS.get(column.casefold())
            if role == "id":
                cells.append(project.id)
            elif role == "cost":
                cells.append(format_number(project.cost))
            elif role == "name":
                cells.append(project.name)
            elif role == "categories":
                cells.append(",".join(project.categories))
            elif role == "targets":
                cells.append(",".join(project.targets))
            elif role == "neighbourhood":
                cells.append(project.neighbourhood)
            else:
                cells.append(extra.get(column, ""))
        out.append(_line(cells))

    out.append("VOTES")
    with_points = profile.vote_type in POINTS_TYPES
    reserved = {"voter_id", "vote", *(("points",) if with_points else ())}
    columns = list(profile.columns)
    seen = {c.casefold() for c in columns}
    for name in ("voter_id", "vote", *(("points",) if with_points else ())):
        if name not in seen:
            columns.append(name)
            seen.add(name)
    for ballot in profile.ballots:
        for name, _ in ballot.extra:
            if name.casefold() in reserved:
                raise InputError(
                    "reserved-column",
                    f"voter '{ballot.voter_id}' has an extra column '{name}', which is a "
                    "field of its own",
                    column=name,
                )
            if name.casefold() not in seen:
                columns.append(name)
                seen.add(name.casefold())
    out.append(_line(columns))
    roles = [c.casefold() if c.casefold() in reserved else "" for c in columns]
    known = set(instance.ids)
    for ballot in profile.ballots:
        _check_writable(ballot, known, with_points)
        extra = dict(ballot.extra)
        cells = []
        for column, role in zip(columns, roles, strict=True):
            if role == "voter_id":
                cells.append(ballot.voter_id)
            elif role == "vote":
                cells.append(",".join(ballot.projects))
            elif role == "points":
                cells.append(",".join(format_number(p) for p in ballot.points or ()))
            else:
                cells.append(extra.get(column, ""))
        out.append(_line(cells))
    out.append("")
    return "\n".join(out)


def _needed_project_columns(instance: Instance) -> tuple[str, ...]:
    projects = instance.projects
    columns = ["project_id", "cost"]
    if any(p.name for p in projects):
        columns.append("name")
    if any(p.categories for p in projects):
        columns.append("category")
    if any(p.targets for p in projects):
        columns.append("target")
    if any(p.neighbourhood for p in projects):
        columns.append("neighborhood")
    for project in projects:
        columns.extend(column for column, _ in project.extra)
    return tuple(dict.fromkeys(columns))


def _check_writable(ballot: Ballot, known: set[str], with_points: bool) -> None:
    for project_id in ballot.projects:
        if project_id not in known:
            raise InputError(
                "unknown-project",
                f"voter '{ballot.voter_id}' votes for project '{project_id}', which the "
                "instance does not have",
                column="vote",
                params={"voter": ballot.voter_id, "project": project_id},
            )
    if with_points and (ballot.points is None or len(ballot.points) != len(ballot.projects)):
        raise InputError(
            "points-mismatch",
            f"voter '{ballot.voter_id}' lists {len(ballot.projects)} projects but "
            f"{0 if ballot.points is None else len(ballot.points)} numbers of points",
            column="points",
            params={"voter": ballot.voter_id},
        )
    if not with_points and ballot.points is not None:
        raise InputError(
            "unexpected-points",
            f"voter '{ballot.voter_id}' gives points, but this vote type has none",
            column="points",
            params={"voter": ballot.voter_id},
        )
    if not ballot.voter_id or ballot.voter_id != ballot.voter_id.strip():
        raise InputError(
            "missing-voter-id",
            f"voter id {ballot.voter_id!r} is empty or has surrounding spaces",
            column="voter_id",
            params={"voter": ballot.voter_id},
        )


def write_pb(instance: Instance, profile: Profile, target: str | os.PathLike[str] | TextIO) -> None:
    """Write a pabulib ``.pb`` file that :func:`read_pb` reads back to equal objects.

    META is written as it is in ``instance.meta`` (update ``num_projects``/``num_votes`` with
    :meth:`Instance.with_meta` first if the counts changed). Numbers are written exactly
    (:func:`~budgeting.model.format_number`); cells are stripped on reading, so text with
    surrounding spaces does not come back the same, nor does an extra cell ``None``.

    Parameters
    ----------
    instance : Instance
    profile : Profile
        Must have the instance's vote type and name only its projects.
    target : path or text stream
        Where to write: a path (written as UTF-8, LF line ends) or an open text stream.

    Raises
    ------
    InputError
        If the profile does not fit the instance (``vote-type-mismatch``,
        ``unknown-project``, ``points-mismatch``, ``unexpected-points``, ``reserved-column``).
    """
    text = format_pb(instance, profile)
    if isinstance(target, (str, os.PathLike)):
        Path(target).write_text(text, encoding="utf-8", newline="")
    else:
        target.write(text)


# ----------------------------------------------------------------------------------------------
# To the rules


def to_election(instance: Instance, profile: Profile) -> Election:
    """The :class:`~budgeting.election.Election` the rules work on.

    Identical ballots are merged into one :class:`~budgeting.election.WeightedBallot` with the
    number of voters who cast it, and the ballots are put in a canonical order (sorted by
    projects, then points), so the order of the voters changes nothing. Per vote type:

    * approval, choose-1: the set of projects, as sorted indices;
    * ordinal: the ranking, best first; a project named again later is ignored;
    * cumulative: points per project, sorted by index; the points of a project named twice add
      up (pabutools keeps the last entry instead);
    * scoring: points per project, sorted by index; a project named again is ignored, and a
      project not named gets ``default_score`` when META gives one.

    Only positive points are kept (so zero and negative scores are dropped). Empty ballots are
    kept: those voters count in ``n_voters``.

    Parameters
    ----------
    instance : Instance
    profile : Profile

    Returns
    -------
    Election

    Raises
    ------
    InputError
        ``vote-type-mismatch``, ``unknown-project``, or ``points-mismatch``.

    Examples
    --------
    >>> inst = Instance.build(
    ...     [Project("a", Fraction(1)), Project("b", Fraction(2))], budget=2,
    ...     vote_type="approval")
    >>> prof = Profile("approval", (Ballot("1", ("b", "a")), Ballot("2", ("a", "b"))))
    >>> to_election(inst, prof).ballots
    (WeightedBallot(projects=(0, 1), points=None, weight=2),)
    """
    vote_type = instance.vote_type
    if profile.vote_type != vote_type:
        raise InputError(
            "vote-type-mismatch",
            f"the instance's vote_type is '{vote_type}' but the profile's is '{profile.vote_type}'",
            column="vote_type",
        )
    index = {project_id: j for j, project_id in enumerate(instance.ids)}
    default = instance.rules.default_score if vote_type == "scoring" else None
    canonical: dict[tuple[tuple[str, ...], tuple[Fraction, ...] | None], _Key] = {}
    counts: dict[_Key, int] = {}
    for ballot in profile.ballots:
        raw = (ballot.projects, ballot.points)
        key = canonical.get(raw)
        if key is None:
            key = _canonical(ballot, index, vote_type, default)
            canonical[raw] = key
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts, key=_packed_with_points if vote_type in POINTS_TYPES else _packed)
    return Election(
        ids=instance.ids,
        costs=tuple(p.cost for p in instance.projects),
        budget=instance.budget,
        vote_type=vote_type,
        ballots=tuple(WeightedBallot(k[0], k[1], counts[k]) for k in ordered),
    )


_Key = tuple[tuple[int, ...], tuple[Fraction, ...] | None]


def _packed(key: _Key) -> bytes:
    """The projects as big-endian bytes, which sort like the tuple of indices (but faster)."""
    projects = key[0]
    return struct.pack(f">{len(projects)}I", *projects)


def _packed_with_points(key: _Key) -> tuple[bytes, tuple[Fraction, ...]]:
    return _packed(key), key[1] or ()


def _canonical(
    ballot: Ballot, index: dict[str, int], vote_type: str, default: Fraction | None
) -> _Key:
    try:
        positions = list(map(index.__getitem__, ballot.projects))
    except KeyError as exc:
        raise InputError(
            "unknown-project",
            f"voter '{ballot.voter_id}' votes for project '{exc.args[0]}', which the instance "
            "does not have",
            column="vote",
            params={"voter": ballot.voter_id, "project": exc.args[0]},
        ) from None
    if vote_type in ("approval", "choose-1"):
        return tuple(sorted(set(positions))), None
    if vote_type == "ordinal":
        return tuple(dict.fromkeys(positions)), None
    if ballot.points is None or len(ballot.points) != len(positions):
        raise InputError(
            "points-mismatch",
            f"voter '{ballot.voter_id}' lists {len(positions)} projects but "
            f"{0 if ballot.points is None else len(ballot.points)} numbers of points",
            column="points",
            params={"voter": ballot.voter_id},
        )
    given: dict[int, Fraction] = {}
    if vote_type == "cumulative":
        for j, value in zip(positions, ballot.points, strict=True):
            given[j] = given.get(j, Fraction(0)) + value
    else:
        for j, value in zip(positions, ballot.points, strict=True):
            given.setdefault(j, value)
        if default:
            for j in range(len(index)):
                given.setdefault(j, default)
    kept = sorted((j, value) for j, value in given.items() if value > 0)
    return tuple(j for j, _ in kept), tuple(value for _, value in kept)
