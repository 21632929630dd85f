"""Tests of sortition.io: reading quota and pool files, CSV and Excel, and their errors."""

from __future__ import annotations

import logging
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sortition.errors import InputError, QuotaError, SortitionError
from sortition.io import read_people, read_quotas, write_quotas
from sortition.model import Quota, Quotas

# --------------------------------------------------------------------------- helpers


def write(
    tmp_path: Path,
    name: str,
    lines: list[str],
    *,
    newline: str = "\n",
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """Write ``lines`` as a text file and return its path."""
    path = tmp_path / name
    data = newline.join(lines).encode(encoding) + newline.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    workbook.save(path)
    return path


def expect(
    excinfo: pytest.ExceptionInfo[SortitionError],
    code: str,
    path: Path,
    row: int | None = None,
    column: str | None = None,
) -> str:
    """Check an error's code and location, and that its message names the file."""
    error = excinfo.value
    assert error.code == code, error
    assert error.file == str(path)
    assert error.row == row, error
    assert error.column == column, error
    assert str(path) in str(error)
    return str(error)


def rows(quotas: Quotas) -> list[tuple[str, str, int, int]]:
    return [(q.feature, q.value, q.min, q.max) for q in quotas.quotas]


QUOTAS = Quotas.from_rows(
    [
        ("gender", "Female", 1, 2),
        ("gender", "Male", 1, 2),
        ("age", "16-29", 0, 2),
        ("age", "30+", 0, 2),
    ]
)
SECRET = "jan.jansen@example.org"


# --------------------------------------------------------------------------- quotas: formats


@pytest.mark.parametrize(
    "header",
    [
        "feature,value,min,max",
        "category,name,min,max",
        "category,feature,min,max",
        "Feature,VALUE,Min,MAX",
        " CATEGORY , Name ,min , max ",
    ],
)
def test_read_quotas_accepts_every_header(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "q.csv", [header, "gender,female,1,2", "gender,male,0,3"])
    assert rows(read_quotas(path)) == [("gender", "female", 1, 2), ("gender", "male", 0, 3)]


def test_read_quotas_ignores_extra_columns_and_column_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "q.csv",
        ["max,note,category,name,min,min_flex,max_flex", "4,x,age,16-29,2,0,10"],
    )
    assert rows(read_quotas(path)) == [("age", "16-29", 2, 4)]


def test_read_quotas_paper_format_maps_category_to_feature(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["category,feature,min,max", "age,16-29,2,4"])
    (quota,) = read_quotas(path).quotas
    assert quota == Quota("age", "16-29", 2, 4)


def test_read_quotas_dutch_excel_csv(tmp_path: Path) -> None:
    """BOM, CRLF, semicolons, surrounding whitespace and non-ASCII text, as Excel writes."""
    path = write(
        tmp_path,
        "q.csv",
        ["feature;value;min;max", " geslacht ; vrouw ;  1 ; 2 ", "leeftijd;16–29 jaar;0;1"],
        newline="\r\n",
        bom=True,
    )
    assert rows(read_quotas(path)) == [
        ("geslacht", "vrouw", 1, 2),
        ("leeftijd", "16–29 jaar", 0, 1),
    ]


def test_read_quotas_tab_delimited_utf16(tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 with a BOM, tab delimited."""
    path = tmp_path / "q.txt"
    path.write_bytes("feature\tvalue\tmin\tmax\r\ngender\tfemale\t1\t2\r\n".encode("utf-16"))
    assert rows(read_quotas(path)) == [("gender", "female", 1, 2)]


def test_read_quotas_quoted_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", 'region,"Noord, Oost",1,2'])
    assert rows(read_quotas(path)) == [("region", "Noord, Oost", 1, 2)]


def test_read_quotas_skips_blank_rows_but_counts_them(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["", "feature,value,min,max", "a,x,1,2", ",,,", "", "a,y,3,2"])
    with pytest.raises(QuotaError) as excinfo:
        read_quotas(path)
    expect(excinfo, "min-above-max", path, row=6, column="max")


def test_read_quotas_feature_keeps_first_spelling(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", "Gender,f,1,2", "gender,m,1,2"])
    quotas = read_quotas(path)
    assert quotas.features == ("Gender",)
    assert quotas.values("Gender") == ("f", "m")


def test_read_quotas_from_excel(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "q.xlsx", [["Category", "Name", "Min", "Max"], ["age", "16-29", 1, 3]]
    )
    assert rows(read_quotas(path)) == [("age", "16-29", 1, 3)]


def test_read_quotas_accepts_pathlike_and_str(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", "a,x,0,1"])
    assert read_quotas(str(path)) == read_quotas(path)


# --------------------------------------------------------------------------- quotas: errors


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n", b",,,\n,,\n"])
def test_read_quotas_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "empty" in expect(excinfo, "empty-file", path)


def test_read_quotas_header_without_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "no quota rows" in expect(excinfo, "empty-file", path)


def test_read_quotas_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,minimum,max", "a,x,1,2"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "missing-column", path, row=1, column="min")
    assert "'min'" in message
    assert "feature,value,min,max" in message
    assert "category,name,min,max" in message
    assert "category,feature,min,max" in message
    assert "'minimum'" in message  # the columns found
    assert excinfo.value.params["missing"] == ["min"]


def test_read_quotas_missing_several_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["kenmerk,waarde,min,max", "a,x,1,2"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "missing-column", path, row=1)
    assert "'feature', 'value'" in message
    assert "'kenmerk', 'waarde', 'min', 'max'" in message


def test_read_quotas_duplicate_column(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max,MIN", "a,x,1,2,3"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "columns C and E" in expect(excinfo, "duplicate-column", path, row=1, column="min")


@pytest.mark.parametrize(("line", "column"), [(" ,x,1,2", "Feature"), ("a,  ,1,2", "Value")])
def test_read_quotas_empty_name(tmp_path: Path, line: str, column: str) -> None:
    path = write(tmp_path, "q.csv", ["Feature,Value,min,max", "a,y,0,1", line])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    expect(excinfo, "empty-cell", path, row=3, column=column)


@pytest.mark.parametrize(
    ("line", "column", "shown"),
    [
        ("a,x,abc,2", "Min", "'abc'"),
        ("a,x,-1,2", "Min", "'-1'"),
        ("a,x,1,2.5", "Max", "'2.5'"),
        ("a,x,,2", "Min", "empty"),
        ("a,x,1,", "Max", "empty"),
        ("a,x,1,²", "Max", "'²'"),
    ],
)
def test_read_quotas_bound_not_a_count(tmp_path: Path, line: str, column: str, shown: str) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,Min,Max", line])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "not-a-count", path, row=2, column=column)
    assert f"but it is {shown}" in message
    assert "whole number of 0 or more" in message


def test_read_quotas_min_above_max(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", "age,16-29,3,2"])
    with pytest.raises(QuotaError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "min-above-max", path, row=2, column="max")
    assert "age/16-29" in message
    assert "min 3 above max 2" in message


def test_read_quotas_duplicate_quota_ignores_case_and_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "q.csv",
        ["feature,value,min,max", "gender,female,1,2", "gender,male,1,2", "Gender , FEMALE,0,1"],
    )
    with pytest.raises(QuotaError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "duplicate-quota", path, row=4, column="value")
    assert "rows 2 and 4" in message
    assert excinfo.value.params["rows"] == [2, 4]


def test_read_quotas_extra_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", "a,x,1,2", "a,y,z,1,2"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "quotes" in expect(excinfo, "extra-cells", path, row=3)


def test_read_quotas_trailing_empty_cells_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature;value;min;max", "a;x;1;2;;"])
    assert rows(read_quotas(path)) == [("a", "x", 1, 2)]


# --------------------------------------------------------------------------- unreadable files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "does not exist" in expect(excinfo, "unreadable-file", path)
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "unreadable-file", path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        read_quotas(tmp_path)
    assert "folder" in expect(excinfo, "unreadable-file", tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", ["feature,value,min,max", "regio,Café,1,2"], encoding="cp1252")
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    message = expect(excinfo, "unreadable-file", path)
    assert "line 2 is not UTF-8" in message
    assert "CSV UTF-8" in message


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "not a text" in expect(excinfo, "unreadable-file", path)


def test_workbook_named_csv(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "q.csv", [["feature", "value", "min", "max"]])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert "Excel workbook" in expect(excinfo, "unreadable-file", path)


def test_csv_named_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "q.xlsx", ["feature,value,min,max", "a,x,1,2"])
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    assert ".csv" in expect(excinfo, "unreadable-file", path)


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "q.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    expect(excinfo, "unreadable-file", path)


def test_xlsx_named_xls_is_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "q.xls", [["feature", "value", "min", "max"], ["a", "x", 1, 2]])
    assert rows(read_quotas(path)) == [("a", "x", 1, 2)]


def test_old_xls_without_xlrd_or_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "q.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(InputError) as excinfo:
        read_quotas(path)
    expect(excinfo, "unreadable-file", path)


# --------------------------------------------------------------------------- write_quotas


def test_write_quotas_format(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_quotas(Quotas.from_rows([("region", "Noord, Oost", 1, 2), ("age", '30"+', 0, 5)]), path)
    assert path.read_bytes() == (
        b'feature,value,min,max\nregion,"Noord, Oost",1,2\nage,"30""+",0,5\n'
    )


def test_write_quotas_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_quotas(QUOTAS, path)
    assert read_quotas(path) == QUOTAS


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8
).filter(lambda s: s == " ".join(s.split()))


@st.composite
def quota_sets(draw: st.DrawFn) -> Quotas:
    features = draw(st.lists(_NAMES, min_size=1, max_size=3, unique_by=_normalise))
    quota_rows = []
    for feature in features:
        for value in draw(st.lists(_NAMES, min_size=1, max_size=3, unique_by=_normalise)):
            low = draw(st.integers(0, 50))
            quota_rows.append((feature, value, low, low + draw(st.integers(0, 50))))
    return Quotas.from_rows(quota_rows)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quotas=quota_sets())
def test_write_read_quotas_round_trip_property(tmp_path: Path, quotas: Quotas) -> None:
    path = tmp_path / "round.csv"
    write_quotas(quotas, path)
    assert read_quotas(path) == quotas


# --------------------------------------------------------------------------- people: formats


def test_read_people_basic(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        ["id,name,Gender,AGE", f"p1,{SECRET},female,16-29", "p2,Piet, MALE ,30+"],
    )
    pool = read_people(path, QUOTAS)
    assert pool.ids == ("p1", "p2")
    first, second = pool.people
    # Spelled as in the quotas, in the quotas' feature order, other columns dropped.
    assert dict(first.features) == {"gender": "Female", "age": "16-29"}
    assert list(first.features) == ["gender", "age"]
    assert dict(second.features) == {"gender": "Male", "age": "30+"}
    assert first.household is None
    assert second.household is None


def test_read_people_dutch_excel_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        ["ID;Naam;gender;age", " 7 ;Jansen, Piet;Female;16-29", "8;x;male;30+"],
        newline="\r\n",
        bom=True,
    )
    pool = read_people(path, QUOTAS, id_column="id")
    assert pool.ids == ("7", "8")


def test_read_people_multiline_quoted_cell_counts_as_one_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        ["id,note,gender,age", '1,"line one\r\nline two",female,16-29', "2,,female,old"],
        newline="\r\n",
    )
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "unknown-value", path, row=3, column="age")


def test_read_people_without_id_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["gender,age", "female,16-29", "", "male,30+", "male,16-29"])
    pool = read_people(path, QUOTAS, id_column=None)
    assert pool.ids == ("1", "2", "3")


def test_read_people_other_id_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["Volgnummer,gender,age", "a,female,16-29"])
    assert read_people(path, QUOTAS, id_column="volgnummer").ids == ("a",)


def test_read_people_households(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        [
            "id,gender,age,Street,Number,postcode",
            "1,female,16-29,Dorpsstraat,1,1234  AB",
            "2,male,30+, dorpsstraat ,1,1234 ab",
            "3,male,30+,Dorpsstraat,1A,1234 AB",
            "4,female,30+,,,",
            "5,female,30+,,,9999 ZZ",
        ],
    )
    pool = read_people(path, QUOTAS, household_columns=["street", "number", "Postcode"])
    homes = [p.household for p in pool.people]
    assert homes[0] == "dorpsstraat\x1f1\x1f1234 ab"
    assert homes[0] == homes[1]
    assert homes[2] == "dorpsstraat\x1f1a\x1f1234 ab"
    assert homes[3] is None
    assert homes[4] == "\x1f\x1f9999 zz"


def test_read_people_excel_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": [101, 102, 103],
            "email": [SECRET, "b@example.org", "c@example.org"],
            "Gender": ["Female", "male", "FEMALE"],
            "age": ["16-29", "30+", "30+"],
            "house": [12, 12, 7],
        }
    )
    path = tmp_path / "pool.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        frame.to_excel(writer, sheet_name="Pool", index=False)
    for sheet in ("Pool", 1):
        pool = read_people(path, QUOTAS, household_columns=["house"], sheet=sheet)
        assert pool.ids == ("101", "102", "103")
        assert [p.features["gender"] for p in pool.people] == ["Female", "Male", "Female"]
        assert [p.household for p in pool.people] == ["12", "12", "7"]


def test_read_people_excel_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "p.xlsx",
        [[], ["id", "gender", "age"], ["1", "female", "16-29"], [], ["2", "female", "65+"]],
    )
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "unknown-value", path, row=5, column="age")


def test_read_people_missing_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [["id", "gender", "age"]], sheet="Deelnemers")
    for sheet in ("Pool", 3):
        with pytest.raises(InputError) as excinfo:
            read_people(path, QUOTAS, sheet=sheet)
        assert "'Deelnemers'" in expect(excinfo, "missing-sheet", path)


def test_read_people_xlsm_extension(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.XLSM", [["id", "gender", "age"], [1, "male", "30+"]])
    assert read_people(path, QUOTAS).ids == ("1",)


def test_read_people_no_quotas(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,name", "1,x"])
    assert read_people(path, Quotas(())).people[0].features == {}


# --------------------------------------------------------------------------- people: errors


def test_read_people_missing_feature_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,name,gender,leeftijd", f"1,{SECRET},female,16-29"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    message = expect(excinfo, "missing-column", path, row=1, column="age")
    assert "'age' (quota feature)" in message
    assert "'id', 'name', 'gender', 'leeftijd'" in message
    assert SECRET not in message


def test_read_people_missing_columns_all_named(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["nr,geslacht", "1,female"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS, household_columns=["address"])
    message = expect(excinfo, "missing-column", path, row=1)
    for part in ("'id' (id)", "'gender' (quota feature)", "'age' (quota feature)"):
        assert part in message
    assert "'address' (household)" in message
    assert excinfo.value.params["missing"] == ["id", "gender", "age", "address"]


def test_read_people_missing_household_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender,age", "1,female,16-29"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS, household_columns=["address"])
    expect(excinfo, "missing-column", path, row=1, column="address")


def test_read_people_duplicate_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender,age,Gender ", "1,female,16-29,male"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "duplicate-column", path, row=1, column="gender")


def test_read_people_empty_id(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", ["Id,name,gender,age", "1,a,female,16-29", f"  ,{SECRET},male,30+"]
    )
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    assert SECRET not in expect(excinfo, "empty-id", path, row=3, column="Id")


def test_read_people_duplicate_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        ["id,name,gender,age", "x1,a,female,16-29", "x2,b,male,30+", f"x1 ,{SECRET},male,30+"],
    )
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    message = expect(excinfo, "duplicate-id", path, row=4, column="id")
    assert "'x1'" in message
    assert "row 2" in message
    assert excinfo.value.params["rows"] == [2, 4]
    assert SECRET not in message


def test_read_people_unknown_value(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,name,GENDER,age", "1,a,female,16-29", f"2,{SECRET},x,30+"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    message = expect(excinfo, "unknown-value", path, row=3, column="GENDER")
    assert "'x' is not a value of 'gender'" in message
    assert "'Female', 'Male'" in message
    assert excinfo.value.params["allowed"] == ["Female", "Male"]
    assert SECRET not in message


def test_read_people_empty_value(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender,age,name", f"1,female,  ,{SECRET}"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    message = expect(excinfo, "empty-value", path, row=2, column="age")
    assert "'age'" in message
    assert SECRET not in message


def test_read_people_checks_a_row_left_to_right(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,age,gender", "1,,x"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "empty-value", path, row=2, column="age")


def test_read_people_first_problem_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender,age", "1,female,x", "", "1,female,16-29"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    expect(excinfo, "unknown-value", path, row=2, column="age")


def test_read_people_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender,age", ",,"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    assert "no people" in expect(excinfo, "empty-file", path)


def test_read_people_extra_cells_do_not_quote_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,name,gender,age", f"1,Jansen,{SECRET},female,16-29"])
    with pytest.raises(InputError) as excinfo:
        read_people(path, QUOTAS)
    assert SECRET not in expect(excinfo, "extra-cells", path, row=2)


def test_read_people_ambiguous_quotas(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ["id,gender", "1,female"])
    values = Quotas.from_rows([("gender", "female", 0, 1), ("gender", "Female", 0, 1)])
    features = Quotas.from_rows([("gender", "f", 0, 1), ("Gender", "f", 0, 1)])
    for quotas in (values, features):
        with pytest.raises(QuotaError) as excinfo:
            read_people(path, quotas)
        assert excinfo.value.code == "ambiguous-quota"


def test_read_people_logs_no_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "p.csv", ["id,email,gender,age", f"1,{SECRET},female,16-29"])
    with caplog.at_level(logging.DEBUG, logger="sortition.io"):
        read_people(path, QUOTAS)
    assert caplog.records
    assert SECRET not in caplog.text
