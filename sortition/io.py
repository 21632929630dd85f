"""Reading and writing the files of a draw: quota tables and pools of people.

Two kinds of file are read:

* a **quota file**, one row per feature value with its minimum and maximum number of panel
  members (:func:`read_quotas`), and
* a **pool file**, one row per person with a value for every quota feature (:func:`read_people`).

Both may be CSV (UTF-8, with or without a byte order mark, ``,``, ``;`` or tab as delimiter, as
the various locales of Excel write them) or an Excel workbook (``.xlsx``/``.xlsm``; ``.xls`` when
the optional ``xlrd`` package is installed), chosen by the file name's extension. Every cell is
read as text and stripped of surrounding whitespace; names of columns, features and values are
compared ignoring case and runs of whitespace.

Reading stops at the first problem, in file order, with an :class:`~sortition.errors.InputError`
or :class:`~sortition.errors.QuotaError` that names the file, the row as a spreadsheet shows it
(the header is row 1) and the column. Columns that are not used (names, addresses, e-mail) are
never read into a message or a log line.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from sortition.errors import InputError, QuotaError, SortitionError
from sortition.model import Person, Pool, Quota, Quotas

__all__ = ["read_people", "read_quotas", "write_quotas"]

logger = logging.getLogger(__name__)

_Engine = Literal["openpyxl", "xlrd"]
#: Extensions of Excel workbooks; every other extension is read as CSV.
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
_XLSX_MAGIC = b"PK\x03\x04"  # a zip archive: .xlsx/.xlsm, read with openpyxl
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # an OLE2 compound file: .xls, read with xlrd

#: Pairs of (feature column, value column) accepted in a quota file, in order of preference.
_QUOTA_NAME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("feature", "value"),  # this package's own format
    ("category", "name"),  # sortition-algorithms / the older Stratification App
    ("category", "feature"),  # Flanigan et al. (2021), Nature 596, 548-552, replication data
)
_ACCEPTED_QUOTA_HEADERS = " or ".join(f"{f},{v},min,max" for f, v in _QUOTA_NAME_COLUMNS)

_ROLES = ("feature", "value", "min", "max")
#: A line with its end (\n, \r\n or \r), as ``open(newline="")`` yields them for csv.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_COUNT = re.compile(r"[0-9]+")

_CSV_HINT = "save it from Excel as 'CSV UTF-8 (comma delimited)' or as an Excel workbook (.xlsx)"

#: Separator of the household columns' values in a household key.
_HOUSEHOLD_SEPARATOR = "\x1f"


def _normalise(text: str) -> str:
    """Fold case and collapse whitespace, for comparing names typed by people."""
    return " ".join(text.split()).casefold()


def _column_letter(index: int) -> str:
    """Spreadsheet letter of the 0-based column ``index`` (0 -> A, 26 -> AA)."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _columns(count: int) -> str:
    return "column" if count == 1 else "columns"


@dataclass(frozen=True, slots=True)
class _Table:
    """The cells of a file, as stripped strings, with the spreadsheet number of every row.

    ``rows`` holds the non-blank rows below the header, each padded to the header's width.
    """

    file: str
    header: tuple[str, ...]
    header_row: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    def found(self) -> list[str]:
        """The non-empty column names, in file order."""
        return [name for name in self.header if name]

    def find(self, name: str) -> int | None:
        """Index of the column called ``name`` (ignoring case and spaces), or ``None``.

        Raises
        ------
        InputError
            ``duplicate-column`` if two columns have that name.
        """
        wanted = _normalise(name)
        matches = [i for i, cell in enumerate(self.header) if _normalise(cell) == wanted]
        if len(matches) > 1:
            letters = " and ".join(_column_letter(i) for i in matches)
            raise InputError(
                "duplicate-column",
                f"there are {len(matches)} columns called '{name}' (columns {letters}); "
                "rename or remove all but one",
                file=self.file,
                row=self.header_row,
                column=self.header[matches[0]],
                params={"column": name, "columns": [_column_letter(i) for i in matches]},
            )
        return matches[0] if matches else None


def _unreadable(file: str, message: str) -> InputError:
    return InputError("unreadable-file", message, file=file, params={"file": file})


def _read_bytes(file: str) -> bytes:
    try:
        return Path(file).read_bytes()
    except FileNotFoundError:
        raise _unreadable(file, "the file does not exist") from None
    except IsADirectoryError:
        raise _unreadable(file, "this is a folder, not a file") from None
    except PermissionError:
        raise _unreadable(file, "no permission to read the file") from None
    except OSError as exc:
        raise _unreadable(file, f"the file cannot be read ({exc.strerror})") from exc


def _decode(file: str, data: bytes) -> str:
    """Decode a CSV file's bytes: UTF-8 with or without BOM, or UTF-16 with a BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _unreadable(file, f"the file is not valid UTF-16 text; {_CSV_HINT}") from None
    if data.startswith((_XLSX_MAGIC, _XLS_MAGIC)):
        raise _unreadable(
            file,
            "this is an Excel workbook but its name does not end in .xlsx or .xls; "
            "rename it or save it as CSV",
        )
    if b"\x00" in data:
        raise _unreadable(file, f"this is not a text (CSV) file; {_CSV_HINT}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _unreadable(
            file, f"line {line} is not UTF-8 text (perhaps another encoding); {_CSV_HINT}"
        ) from None


def _delimiter(text: str) -> str:
    """Guess the delimiter from the first non-blank line: ``,``, ``;`` or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])  # ties go to the earliest: ","
    return best if counts[best] else ","


def _csv_rows(file: str, data: bytes) -> list[list[str]]:
    text = _decode(file, data)
    delimiter = _delimiter(text)
    reader = csv.reader(_LINE.findall(text), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise _unreadable(
            file, f"the CSV file is malformed near line {reader.line_num} ({exc})"
        ) from None


def _excel_rows(file: str, engine: _Engine, sheet: str | int) -> list[list[str]]:
    try:
        with pd.ExcelFile(file, engine=engine) as workbook:
            names = [str(name) for name in workbook.sheet_names]
            found = sheet in names if isinstance(sheet, str) else 0 <= sheet < len(names)
            if not found:
                raise InputError(
                    "missing-sheet",
                    f"the workbook has no sheet {sheet!r}; its sheets are {_quoted(names)}",
                    file=file,
                    params={"sheet": sheet, "sheets": names},
                )
            frame = pd.read_excel(
                workbook, sheet_name=sheet, header=None, dtype=str, keep_default_na=False
            )
    except ImportError:
        raise _unreadable(
            file,
            "reading old .xls workbooks needs the optional package xlrd; install it, or save "
            "the file as .xlsx or CSV",
        ) from None
    except SortitionError:
        raise
    except Exception as exc:  # openpyxl/xlrd raise many kinds; the file is what is wrong
        # The exception's text may quote cells, so only its kind is reported.
        raise _unreadable(
            file, f"the file cannot be read as an Excel workbook ({type(exc).__name__})"
        ) from exc
    return [
        [
            "" if cell is None or (isinstance(cell, float) and cell != cell) else str(cell)
            for cell in row
        ]
        for row in frame.itertuples(index=False, name=None)
    ]


def _read_table(path: str | os.PathLike[str], sheet: str | int = 0) -> _Table:
    """Read a CSV or Excel file into a :class:`_Table`.

    Raises
    ------
    InputError
        ``unreadable-file``, ``missing-sheet``, ``empty-file`` or ``extra-cells``.
    """
    file = os.fspath(path)
    data = _read_bytes(file)
    suffix = Path(file).suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        # By content, not name: a workbook saved as .xlsx but named .xls is common.
        if data.startswith(_XLSX_MAGIC):
            raw = _excel_rows(file, "openpyxl", sheet)
        elif data.startswith(_XLS_MAGIC):
            raw = _excel_rows(file, "xlrd", sheet)
        else:
            raise _unreadable(
                file,
                f"the file is not an Excel workbook although its name ends in {suffix}; "
                "if it is a CSV file, give it the extension .csv",
            )
    else:
        raw = _csv_rows(file, data)

    header: tuple[str, ...] | None = None
    header_row = 0
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, record in enumerate(raw, start=1):
        cells = tuple(cell.strip() for cell in record)
        if not any(cells):
            continue
        if header is None:
            header, header_row = cells, number
            continue
        width = len(header)
        if len(cells) > width and any(cells[width:]):
            raise InputError(
                "extra-cells",
                f"this row has cells beyond the {width} columns of the header (row "
                f"{header_row}); a value that contains the delimiter must be in quotes",
                file=file,
                row=number,
                params={"columns": width},
            )
        rows.append((number, cells[:width] + ("",) * (width - len(cells))))
    if header is None:
        raise InputError("empty-file", "the file is empty", file=file)
    return _Table(file, header, header_row, tuple(rows))


def _parse_count(text: str) -> int | None:
    return int(text) if _COUNT.fullmatch(text) else None


def read_quotas(path: str | os.PathLike[str]) -> Quotas:
    """Read a quota file.

    The header (row 1) must name a feature column, a value column, ``min`` and ``max``, as
    ``feature,value,min,max``, ``category,name,min,max`` or ``category,feature,min,max``
    (where ``category`` is the feature and ``feature`` the value, as in the replication data of
    Flanigan et al. 2021). Header names are compared ignoring case; other columns, such as the
    ``min_flex`` and ``max_flex`` of sortition-algorithms, are ignored. Blank rows are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file (``,``, ``;`` or tab delimited, UTF-8) or an Excel workbook (first sheet).

    Returns
    -------
    Quotas
        One quota per row, in file order. A feature is spelled as on its first row.

    Raises
    ------
    InputError
        ``unreadable-file``, ``empty-file``, ``missing-column``, ``duplicate-column``,
        ``extra-cells``, ``empty-cell`` (no feature or value) or ``not-a-count`` (a min or max
        that is not a whole number of 0 or more).
    QuotaError
        ``min-above-max``, or ``duplicate-quota`` when a feature value occurs twice (ignoring
        case and spaces).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "quotas.csv"
    >>> _ = file.write_text("feature;value;min;max\\ngender;female;2;3\\ngender;male;2;3\\n")
    >>> [(q.feature, q.value, q.min, q.max) for q in read_quotas(file).quotas]
    [('gender', 'female', 2, 3), ('gender', 'male', 2, 3)]
    """
    table = _read_table(path)
    file = table.file
    columns: dict[str, int] | None = None
    best_missing: list[str] = []
    for feature_name, value_name in _QUOTA_NAME_COLUMNS:
        wanted = (feature_name, value_name, "min", "max")
        indices = {role: table.find(name) for role, name in zip(_ROLES, wanted, strict=True)}
        missing = [name for name, i in zip(wanted, indices.values(), strict=True) if i is None]
        if not missing:
            columns = {role: i for role, i in indices.items() if i is not None}
            break
        if not best_missing or len(missing) < len(best_missing):
            best_missing = missing
    if columns is None:
        raise InputError(
            "missing-column",
            f"the quota file has no {_columns(len(best_missing))} {_quoted(best_missing)}; "
            f"its header must be {_ACCEPTED_QUOTA_HEADERS} "
            "(in any case, other columns are ignored); "
            f"the columns found are {_quoted(table.found())}",
            file=file,
            row=table.header_row,
            column=best_missing[0] if len(best_missing) == 1 else None,
            params={"missing": best_missing, "found": table.found()},
        )
    header = {role: table.header[i] for role, i in columns.items()}

    spelling: dict[str, str] = {}  # normalised feature -> its first spelling
    seen: dict[tuple[str, str], int] = {}  # normalised (feature, value) -> row
    entries: list[tuple[Quota, int]] = []
    for number, cells in table.rows:
        names: dict[str, str] = {}
        for role in ("feature", "value"):
            names[role] = cells[columns[role]]
            if not names[role]:
                raise InputError(
                    "empty-cell",
                    f"the {header[role]} is empty; give every quota row a feature and a value",
                    file=file,
                    row=number,
                    column=header[role],
                )
        bounds: dict[str, int] = {}
        for role in ("min", "max"):
            text = cells[columns[role]]
            count = _parse_count(text)
            if count is None:
                shown = "empty" if not text else f"'{text}'"
                raise InputError(
                    "not-a-count",
                    f"{header[role]} must be a whole number of 0 or more, but it is {shown}",
                    file=file,
                    row=number,
                    column=header[role],
                    params={"text": text},
                )
            bounds[role] = count
        feature = spelling.setdefault(_normalise(names["feature"]), names["feature"])
        value = names["value"]
        if bounds["min"] > bounds["max"]:
            raise QuotaError(
                "min-above-max",
                f"the quota for {feature}/{value} has min {bounds['min']} above max "
                f"{bounds['max']}",
                file=file,
                row=number,
                column=header["max"],
                params={"feature": feature, "value": value, **bounds},
            )
        key = (_normalise(feature), _normalise(value))
        if key in seen:
            raise QuotaError(
                "duplicate-quota",
                f"the quota for {feature}/{value} is given twice, on rows {seen[key]} and "
                f"{number} (names are compared ignoring case and spaces); remove one",
                file=file,
                row=number,
                column=header["value"],
                params={"feature": feature, "value": value, "rows": [seen[key], number]},
            )
        seen[key] = number
        entries.append((Quota(feature, value, bounds["min"], bounds["max"]), number))
    if not entries:
        raise InputError("empty-file", "the quota file has a header but no quota rows", file=file)
    try:
        quotas = Quotas(tuple(quota for quota, _ in entries))
    except QuotaError as exc:  # checked above; kept so that a new check in model names its row
        rows = {(q.feature, q.value): n for q, n in entries}
        row = rows.get((str(exc.params.get("feature")), str(exc.params.get("value"))))
        raise QuotaError(exc.code, exc.message, file=file, row=row, params=exc.params) from exc
    logger.debug("read %d quotas on %d features from %s", len(quotas), len(spelling), file)
    return quotas


def _lookups(quotas: Quotas) -> dict[str, dict[str, str]]:
    """For every feature, its values by normalised name.

    Raises
    ------
    QuotaError
        ``ambiguous-quota`` if two features, or two values of one feature, differ only in case
        or spaces (a file read by :func:`read_quotas` never has them).
    """
    lookups: dict[str, dict[str, str]] = {}
    features: dict[str, str] = {}
    for quota in quotas.quotas:
        other = features.setdefault(_normalise(quota.feature), quota.feature)
        if other != quota.feature:
            raise QuotaError(
                "ambiguous-quota",
                f"the quota features '{other}' and '{quota.feature}' differ only in case or "
                "spaces, so a column cannot be matched to one of them",
                params={"feature": quota.feature},
            )
        values = lookups.setdefault(quota.feature, {})
        other = values.setdefault(_normalise(quota.value), quota.value)
        if other != quota.value:
            raise QuotaError(
                "ambiguous-quota",
                f"the values '{other}' and '{quota.value}' of feature '{quota.feature}' differ "
                "only in case or spaces, so a person's value cannot be matched to one of them",
                params={"feature": quota.feature, "value": quota.value},
            )
    return lookups


def read_people(
    path: str | os.PathLike[str],
    quotas: Quotas,
    *,
    id_column: str | None = "id",
    household_columns: Sequence[str] = (),
    sheet: str | int = 0,
) -> Pool:
    """Read a pool file: one person per row, with a value for every quota feature.

    Every quota feature must be a column; its cells must hold one of the feature's values in
    the quotas (ignoring case and spaces), and are stored spelled as in the quotas. Column
    names are matched ignoring case and spaces. Columns that are neither the id, a feature nor
    a household column are ignored and never quoted in an error or a log. Blank rows are
    skipped.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file (``,``, ``;`` or tab delimited, UTF-8) or an Excel workbook.
    quotas : Quotas
        The quotas of the draw; they name the features and their values.
    id_column : str or None, default "id"
        The column that holds each person's id. ``None`` means the file has no id column and
        the people get the ids ``"1"``, ``"2"``, ... in row order (blank rows not counted), as
        in the replication data of Flanigan et al. (2021).
    household_columns : sequence of str, default ()
        Columns that together identify a household, for example street, house number and
        postcode. People whose household cells are equal (ignoring case and spaces) share a
        household; a person whose household cells are all empty lives alone.
    sheet : str or int, default 0
        The sheet of an Excel workbook, by name or 0-based position; ignored for CSV.

    Returns
    -------
    Pool
        The people in file order. ``Person.household`` is ``None`` when there are no household
        columns or the person's household cells are all empty, and otherwise the normalised
        household cells joined with ``"\\x1f"``.

    Raises
    ------
    InputError
        ``unreadable-file``, ``missing-sheet``, ``empty-file``, ``missing-column``,
        ``duplicate-column``, ``extra-cells``, ``empty-id``, ``duplicate-id``, ``empty-value``
        or ``unknown-value``.
    QuotaError
        ``ambiguous-quota`` if ``quotas`` has two features, or two values of a feature, that
        differ only in case or spaces.
    """
    lookups = _lookups(quotas)
    table = _read_table(path, sheet)
    file = table.file

    missing: list[tuple[str, str]] = []

    def find(name: str, role: str) -> int:
        index = table.find(name)
        if index is None:
            missing.append((name, role))
            return -1
        return index

    id_index = find(id_column, "id") if id_column is not None else None
    feature_indices = {feature: find(feature, "quota feature") for feature in lookups}
    household_indices = [find(name, "household") for name in household_columns]
    if missing:
        names = [name for name, _ in missing]
        described = ", ".join(f"'{name}' ({role})" for name, role in missing)
        raise InputError(
            "missing-column",
            f"the pool file has no {_columns(len(missing))} {described}; the columns found are "
            f"{_quoted(table.found())} (names are compared ignoring case and spaces)",
            file=file,
            row=table.header_row,
            column=names[0] if len(names) == 1 else None,
            params={"missing": names, "found": table.found()},
        )
    # Check a row's features left to right, as a person reads the row.
    checks = sorted(feature_indices.items(), key=lambda item: item[1])

    people: list[Person] = []
    id_rows: dict[str, int] = {}
    for number, cells in table.rows:
        if id_index is None:
            person_id = str(len(people) + 1)
        else:
            person_id = cells[id_index]
            if not person_id:
                raise InputError(
                    "empty-id",
                    "the id is empty; give every person an id",
                    file=file,
                    row=number,
                    column=table.header[id_index],
                )
        if person_id in id_rows:
            raise InputError(
                "duplicate-id",
                f"id '{person_id}' is also on row {id_rows[person_id]}; ids must be unique",
                file=file,
                row=number,
                column=table.header[id_index] if id_index is not None else None,
                params={"id": person_id, "rows": [id_rows[person_id], number]},
            )
        id_rows[person_id] = number

        features: dict[str, str] = {}
        for feature, index in checks:
            text = cells[index]
            column = table.header[index]
            if not text:
                raise InputError(
                    "empty-value",
                    f"the value of '{feature}' is empty; every person needs a value for every "
                    "quota feature",
                    file=file,
                    row=number,
                    column=column,
                    params={"feature": feature, "id": person_id},
                )
            value = lookups[feature].get(_normalise(text))
            if value is None:
                allowed = list(quotas.values(feature))
                raise InputError(
                    "unknown-value",
                    f"'{text}' is not a value of '{feature}' in the quotas; the values are "
                    f"{_quoted(allowed)}",
                    file=file,
                    row=number,
                    column=column,
                    params={"feature": feature, "value": text, "allowed": allowed},
                )
            features[feature] = value
        # Keep the quotas' feature order, whatever the column order.
        features = {feature: features[feature] for feature in lookups}

        parts = [_normalise(cells[i]) for i in household_indices]
        household = _HOUSEHOLD_SEPARATOR.join(parts) if any(parts) else None
        people.append(Person(person_id, features, household))

    if not people:
        raise InputError("empty-file", "the pool file has a header but no people", file=file)
    logger.debug("read %d people from %s", len(people), file)
    return Pool(tuple(people))


def write_quotas(quotas: Quotas, path: str | os.PathLike[str]) -> None:
    """Write quotas as a UTF-8 CSV file with the header ``feature,value,min,max``.

    The file has ``\\n`` line endings and no byte order mark, so equal quotas give equal bytes;
    :func:`read_quotas` reads it back to equal quotas.

    Parameters
    ----------
    quotas : Quotas
        The quotas, written in their order.
    path : str or os.PathLike
        The file to write; it is replaced if it exists.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["feature", "value", "min", "max"])
        for quota in quotas.quotas:
            writer.writerow([quota.feature, quota.value, quota.min, quota.max])
