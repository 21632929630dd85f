"""Read and write ballots kept as a plain CSV table: one row per ballot paper.

The file is UTF-8 (a byte-order mark is accepted), comma-separated with a header row, quoted as
:mod:`csv` does; empty lines are skipped (a paper with no mark in a one-column file is
written ``""``). Column names are matched without regard to case or
surrounding spaces. Three layouts:

**ranked** (read into :class:`~voting.ballots.Profile`): columns ``rank1``, ``rank2``, ...
(consecutive from 1) hold candidate names, most preferred first. Blank cells at the end are
unused ranks; a blank rank followed by a filled one, or a name given twice, is an error::

    rank1,rank2,rank3,weight
    Ann,Bob,,2
    Cy,,,1

**approval** (read into :class:`~voting.ballots.ApprovalProfile`), either a column
``approved`` holding the approved names separated by ``;`` (blank: approves no one)::

    approved,weight
    Ann;Cy,3
    ,1

or one column per candidate holding ``1`` (approved) or ``0``/blank (not approved).

**score** (read into :class:`~voting.ballots.ScoreProfile`): one column per candidate holding
whole, non-negative points (blank = 0)::

    Ann,Bob,Cy
    5,0,2

Every layout may have a column ``weight`` (a whole number of identical papers, default 1) and
a column ``id`` (a paper identifier, ignored). Any other column is an error in the ranked and
``approved`` layouts, and is a candidate in the column-per-candidate layouts, in column order.

The layout is the ``kind`` argument; without it a ``rank1`` column means ranked and an
``approved`` column means approval, and a column-per-candidate file needs ``kind="approval"``
or ``kind="score"``. In the ranked and ``approved`` layouts the candidates are ``candidates``
when given (a name not among them is an error), else the names in order of first appearance.

Errors are :class:`~voting.errors.InputError` with the file, the line (``line``, as an editor
counts, so the header is line 1) and the column (``params["column"]``) in the message.

>>> f = parse_csv_ballots("rank1,rank2,weight\\nAnn,Bob,2\\nBob,,1\\n")
>>> f.profile.candidates, [(b.ranking, b.weight) for b in f.profile.ballots]
(('Ann', 'Bob'), [((0, 1), 2), ((1,), 1)])
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, NoReturn

from voting.ballots import ApprovalProfile, Profile, ScoreProfile
from voting.errors import InputError, read_text

__all__ = [
    "CsvBallots",
    "CsvKind",
    "format_csv_ballots",
    "parse_csv_ballots",
    "read_csv_ballots",
    "write_csv_ballots",
]

CsvKind = Literal["ranked", "approval", "score"]
CSV_KINDS: Final[tuple[CsvKind, ...]] = ("ranked", "approval", "score")


@dataclass(frozen=True, slots=True)
class CsvBallots:
    """What a ballot CSV holds: the layout read and the ballots."""

    kind: CsvKind
    profile: Profile | ApprovalProfile | ScoreProfile


def read_csv_ballots(
    path: str | Path,
    kind: CsvKind | None = None,
    *,
    candidates: Sequence[str] | None = None,
    max_score: int | None = None,
    max_total: int | None = None,
) -> CsvBallots:
    """Read the ballot CSV at ``path``; see :func:`parse_csv_ballots`."""
    path = Path(path)
    text = read_text(path)
    return parse_csv_ballots(
        text,
        kind,
        candidates=candidates,
        max_score=max_score,
        max_total=max_total,
        file=str(path),
    )


def _fail(
    code: str, message: str, file: str | None, line: int | None, column: str | None = None
) -> NoReturn:
    where = f"column {column!r}: " if column is not None else ""
    raise InputError(
        code, where + message, file=file, line=line, params={"column": column} if column else {}
    )


def _whole(text: str, what: str, file: str | None, line: int, column: str) -> int:
    token = text.strip()
    if not (token.isascii() and token.isdigit()):
        _fail("bad-number", f"{what} must be a whole number, not {token!r}.", file, line, column)
    return int(token)


def parse_csv_ballots(
    text: str,
    kind: CsvKind | None = None,
    *,
    candidates: Sequence[str] | None = None,
    max_score: int | None = None,
    max_total: int | None = None,
    file: str | None = None,
) -> CsvBallots:
    """Parse the text of a ballot CSV (layouts in the module docstring).

    Parameters
    ----------
    text : str
        The file's text.
    kind : {"ranked", "approval", "score"}, optional
        The layout; detected from the header when omitted (not possible for the
        column-per-candidate layouts).
    candidates : sequence of str, optional
        The candidates, in order, for the ranked and ``approved`` layouts.
    max_score, max_total : int, optional
        Bounds for score ballots (see :class:`~voting.ballots.ScoreProfile`).
    file : str, optional
        The file's name, for error messages.

    Raises
    ------
    InputError
        For a bad header, an unknown or repeated name, a skipped rank, a value that is not a
        whole number (or not 0/1 for approval), naming the line and the column.
    """
    if kind is not None and kind not in CSV_KINDS:
        _fail(
            "bad-kind",
            f"Unknown ballot layout {kind!r}; use ranked, approval or score.",
            file,
            None,
        )
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    header: list[str] | None = None
    header_line = 1
    rows: list[tuple[int, list[str]]] = []
    try:
        for raw in reader:
            if not raw:  # an empty line
                continue
            if header is None:
                header = [cell.strip() for cell in raw]
                header_line = reader.line_num
            else:
                rows.append((reader.line_num, raw))
    except csv.Error as exc:
        _fail("bad-csv", f"Malformed CSV: {exc}.", file, reader.line_num)
    if header is None:
        _fail("empty-file", "The ballot file is empty.", file, None)
    keys = [h.lower() for h in header]
    for k, key in enumerate(keys):
        if not key:
            _fail("bad-header", f"Column {k + 1} has no name.", file, header_line)
        if keys.index(key) != k:
            _fail("bad-header", "The column name appears twice.", file, header_line, header[k])
    if kind is None:
        if "rank1" in keys:
            kind = "ranked"
        elif "approved" in keys:
            kind = "approval"
        else:
            _fail(
                "unknown-layout",
                "Cannot tell the layout: no 'rank1' or 'approved' column; for one column per "
                "candidate say whether the values are approvals or scores.",
                file,
                header_line,
            )
    weight_col = keys.index("weight") if "weight" in keys else None
    skip = {k for k, key in enumerate(keys) if key in ("weight", "id")}

    def weight_of(line: int, cells: list[str]) -> int:
        if weight_col is None:
            return 1
        cell = cells[weight_col] if weight_col < len(cells) else ""
        return _whole(cell, "The weight", file, line, header[weight_col])

    def check_width(line: int, cells: list[str]) -> None:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            _fail(
                "bad-row",
                f"The row has {len(cells)} cells; the header has {len(header)}.",
                file,
                line,
            )

    names: list[str] = list(candidates) if candidates is not None else []
    index = {name: i for i, name in enumerate(names)}

    def candidate(name: str, line: int, column: str) -> int:
        if name not in index:
            if candidates is not None:
                _fail("unknown-candidate", f"{name!r} is not a candidate.", file, line, column)
            index[name] = len(names)
            names.append(name)
        return index[name]

    try:
        if kind == "ranked" or (kind == "approval" and "approved" in keys):
            if kind == "ranked":
                rank_cols: list[int] = []
                r = 1
                while f"rank{r}" in keys:
                    rank_cols.append(keys.index(f"rank{r}"))
                    r += 1
                if not rank_cols:
                    _fail(
                        "bad-header", "The ranked layout needs a column 'rank1'.", file, header_line
                    )
                used = set(rank_cols)
            else:
                used = {keys.index("approved")}
            for k in range(len(keys)):
                if k not in used and k not in skip:
                    _fail(
                        "bad-header",
                        "Unexpected column (expected "
                        + ("rank1, rank2, ..." if kind == "ranked" else "approved")
                        + ", weight, id).",
                        file,
                        header_line,
                        header[k],
                    )
            ranked: list[tuple[tuple[int, ...], int]] = []
            for line, cells in rows:
                check_width(line, cells)
                weight = weight_of(line, cells)
                if kind == "ranked":
                    ranking: list[int] = []
                    gap: str | None = None
                    for k in rank_cols:
                        cell = cells[k].strip() if k < len(cells) else ""
                        if not cell:
                            gap = gap or header[k]
                            continue
                        if gap is not None:
                            _fail(
                                "skipped-rank",
                                f"A name follows the blank rank {gap!r}.",
                                file,
                                line,
                                header[k],
                            )
                        c = candidate(cell, line, header[k])
                        if c in ranking:
                            _fail(
                                "repeated-preference",
                                f"{cell!r} is ranked twice.",
                                file,
                                line,
                                header[k],
                            )
                        ranking.append(c)
                    ranked.append((tuple(ranking), weight))
                else:
                    k = keys.index("approved")
                    cell = cells[k] if k < len(cells) else ""
                    parts = [p.strip() for p in cell.split(";")] if cell.strip() else []
                    chosen: list[int] = []
                    for part in parts:
                        if not part:
                            _fail(
                                "bad-approval", "An empty name between ';'.", file, line, header[k]
                            )
                        c = candidate(part, line, header[k])
                        if c in chosen:
                            _fail(
                                "repeated-preference",
                                f"{part!r} is approved twice.",
                                file,
                                line,
                                header[k],
                            )
                        chosen.append(c)
                    ranked.append((tuple(chosen), weight))
            if kind == "ranked":
                return CsvBallots("ranked", Profile.build(names, ranked))
            return CsvBallots("approval", ApprovalProfile.build(names, ranked))

        cand_cols = [k for k in range(len(keys)) if k not in skip]
        col_names = [header[k] for k in cand_cols]
        if candidates is not None and list(candidates) != col_names:
            _fail(
                "bad-header",
                f"The candidate columns {col_names!r} differ from the candidates given.",
                file,
                header_line,
            )
        values: list[tuple[tuple[int, ...], int]] = []
        for line, cells in rows:
            check_width(line, cells)
            weight = weight_of(line, cells)
            row: list[int] = []
            for k in cand_cols:
                cell = cells[k].strip() if k < len(cells) else ""
                v = 0 if not cell else _whole(cell, "The value", file, line, header[k])
                if kind == "approval" and v > 1:
                    _fail(
                        "bad-approval",
                        f"Approval is 1 or 0 (or blank), not {cell!r}.",
                        file,
                        line,
                        header[k],
                    )
                row.append(v)
            values.append((tuple(row), weight))
        if kind == "approval":
            return CsvBallots(
                "approval",
                ApprovalProfile.build(
                    col_names, ((tuple(i for i, v in enumerate(r) if v), w) for r, w in values)
                ),
            )
        return CsvBallots(
            "score",
            ScoreProfile.build(col_names, values, max_score=max_score, max_total=max_total),
        )
    except InputError as exc:
        exc.file = file
        raise


def format_csv_ballots(
    profile: Profile | ApprovalProfile | ScoreProfile,
    *,
    approval_layout: Literal["columns", "approved"] = "columns",
) -> str:
    """The CSV text of ``profile``, one row per distinct ballot with its ``weight``.

    A :class:`Profile` is written in the ranked layout (as many ``rank`` columns as the longest
    ranking), a :class:`ScoreProfile` with one column per candidate, an
    :class:`ApprovalProfile` with one 0/1 column per candidate or, with
    ``approval_layout="approved"``, as ``;``-separated names. The ranked and ``approved``
    layouts do not record candidates that no ballot names: pass ``candidates`` when reading
    back.

    >>> print(format_csv_ballots(Profile.from_rankings(["A", "B"], [["B", "A"], ["A"]])), end="")
    rank1,rank2,weight
    A,,1
    B,A,1
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = profile.candidates
    as_columns = not isinstance(profile, Profile) and approval_layout == "columns"
    folded = [name.lower() for name in names]
    for name in names:
        bad = not name or name != name.strip() or "\n" in name or "\r" in name
        if as_columns:
            bad = bad or name.lower() in ("weight", "id") or folded.count(name.lower()) > 1
        elif isinstance(profile, ApprovalProfile):
            bad = bad or ";" in name
        if bad:
            raise InputError(
                "bad-candidate-name",
                f"Candidate name {name!r} cannot be written in this CSV layout.",
                params={"candidate": name},
            )
    if isinstance(profile, Profile):
        width = max((len(b.ranking) for b in profile.ballots), default=1)
        writer.writerow([f"rank{r}" for r in range(1, width + 1)] + ["weight"])
        for b in profile.ballots:
            cells = [names[c] for c in b.ranking] + [""] * (width - len(b.ranking))
            writer.writerow([*cells, b.weight])
    elif isinstance(profile, ApprovalProfile) and approval_layout == "approved":
        writer.writerow(["approved", "weight"])
        for ab in profile.ballots:
            writer.writerow([";".join(names[c] for c in ab.approved), ab.weight])
    elif isinstance(profile, ApprovalProfile):
        writer.writerow([*names, "weight"])
        for ab in profile.ballots:
            writer.writerow([*(int(c in ab.approved) for c in range(len(names))), ab.weight])
    else:
        writer.writerow([*names, "weight"])
        for sb in profile.ballots:
            writer.writerow([*sb.scores, sb.weight])
    return out.getvalue()


def write_csv_ballots(
    path: str | Path,
    profile: Profile | ApprovalProfile | ScoreProfile,
    *,
    approval_layout: Literal["columns", "approved"] = "columns",
) -> None:
    """Write ``profile`` to ``path`` (UTF-8); see :func:`format_csv_ballots`."""
    text = format_csv_ballots(profile, approval_layout=approval_layout)
    Path(path).write_text(text, encoding="utf-8", newline="")
