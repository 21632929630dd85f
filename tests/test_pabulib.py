"""Pabulib ``.pb`` files: round trips, tolerance, precise errors, ballot rules, to_election.

Every file these tests read is one they write themselves (no shared data).
"""

from __future__ import annotations

import io
import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgeting import (
    VOTE_TYPES,
    Ballot,
    BudgetingError,
    Election,
    InputError,
    Instance,
    InvalidBallotError,
    Profile,
    Project,
    VoteType,
    WeightedBallot,
    ballot_problems,
    check_ballot,
    format_number,
    format_pb,
    parse_number,
    parse_pb,
    read_pb,
    to_election,
    write_pb,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------------------------
# Strategies


def _texts(*, commas: bool = True, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Cells as a reader gives them back: stripped, not 'None', with quoting-worthy characters."""
    letters = st.characters(
        categories=("L", "N", "P", "S", "Zs"), exclude_characters="" if commas else ","
    )
    specials = st.sampled_from([";", '"', "\n", "\r", " ", "é", "ł", "ż"])
    return (
        st.text(letters | specials, max_size=max_size)
        .map(str.strip)
        .filter(lambda s: len(s) >= min_size and s.casefold() != "none")
        .filter(lambda s: commas or "," not in s)
    )


_ids = _texts(commas=False, min_size=1, max_size=8)
_labels = st.lists(
    st.sampled_from(["groen", "jeugd", "sport", "cultuur; kunst", '"wijk"']),
    max_size=3,
    unique=True,
)
_column_names = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True).filter(
    lambda c: (
        c
        not in {
            "project_id",
            "cost",
            "name",
            "category",
            "categories",
            "target",
            "targets",
            "neighborhood",
            "neighbourhood",
            "voter_id",
            "vote",
            "points",
        }
    )
)


def _exact(max_places: int = 3) -> st.SearchStrategy[Fraction]:
    decimals = st.builds(
        lambda n, k: Fraction(n, 10**k), st.integers(0, 10**9), st.integers(0, max_places)
    )
    thirds = st.builds(lambda n: Fraction(n, 3), st.integers(1, 10**6))
    return st.one_of(decimals, decimals, thirds)


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    """A random instance: projects with decimal costs, labels, extras; META with unknown keys."""
    vote_type: VoteType = draw(st.sampled_from(VOTE_TYPES))
    ids = draw(st.lists(_ids, min_size=1, max_size=7, unique=True))
    extra_columns = draw(st.lists(_column_names, max_size=3, unique=True))
    with_names = draw(st.booleans())
    with_neighbourhoods = draw(st.booleans())
    projects = [
        Project(
            project_id,
            draw(_exact()),
            name=draw(_texts()) if with_names else "",
            categories=tuple(draw(_labels)),
            targets=tuple(draw(_labels)),
            neighbourhood=draw(st.sampled_from(["", "Noord", "Zuid"]))
            if with_neighbourhoods
            else "",
            extra=tuple((c, draw(_texts())) for c in extra_columns),
        )
        for project_id in ids
    ]
    meta: list[tuple[str, str]] = [("description", draw(_texts())), ("country", "Netherlands")]
    unknown = draw(
        st.lists(st.from_regex(r"x_[a-z0-9_]{1,10}", fullmatch=True), max_size=4, unique=True)
    )
    meta += [(key, draw(_texts())) for key in unknown]
    if draw(st.booleans()):
        meta.append(("max_length", str(draw(st.integers(1, 5)))))
    if vote_type == "cumulative":
        meta.append(("max_sum_points", format_number(draw(_exact(1)))))
    categories = list(dict.fromkeys(c for p in projects for c in p.categories))
    with_category_budgets: bool = draw(st.booleans())
    if categories and with_category_budgets:
        meta.append(("categories", ",".join(categories)))
        amounts = [format_number(draw(_exact(2))) for _ in categories]
        meta.append(("budget_per_category", ",".join(amounts)))
    return Instance.build(projects, budget=draw(_exact()), vote_type=vote_type, meta=meta)


@st.composite
def profiles(draw: st.DrawFn, instance: Instance) -> Profile:
    """Random ballots for an instance, with repeated projects, empty ballots and extras."""
    ids = list(instance.ids)
    extra_columns = draw(st.lists(_column_names, max_size=3, unique=True))
    voters = draw(st.lists(_ids, max_size=12, unique=True))
    with_points = instance.vote_type in ("cumulative", "scoring")
    ballots = []
    for voter in voters:
        projects = tuple(draw(st.lists(st.sampled_from(ids), max_size=5)))
        points = None
        if with_points:
            low = -10 if instance.vote_type == "scoring" else 0
            values = st.builds(
                lambda n, k: Fraction(n, 10**k), st.integers(low, 20), st.integers(0, 1)
            )
            points = tuple(draw(st.lists(values, min_size=len(projects), max_size=len(projects))))
        extra = tuple((c, draw(_texts())) for c in extra_columns)
        ballots.append(Ballot(voter, projects, points, extra))
    return Profile(instance.vote_type, tuple(ballots))


@st.composite
def elections(draw: st.DrawFn) -> tuple[Instance, Profile]:
    instance = draw(instances())
    return instance, draw(profiles(instance))


# ----------------------------------------------------------------------------------------------
# Round trips


@SETTINGS
@given(elections())
def test_write_then_read_gives_equal_objects(case: tuple[Instance, Profile]) -> None:
    instance, profile = case
    text = format_pb(instance, profile)
    read_instance, read_profile = parse_pb(text)
    assert read_instance == instance
    assert read_profile == profile
    assert read_instance.budget == instance.budget
    assert read_instance.budget_per_category == instance.budget_per_category
    assert to_election(read_instance, read_profile) == to_election(instance, profile)


@settings(max_examples=15, deadline=None)
@given(elections())
def test_round_trip_through_a_file_and_a_stream(case: tuple[Instance, Profile]) -> None:
    instance, profile = case
    stream = io.StringIO()
    write_pb(instance, profile, stream)
    assert parse_pb(stream.getvalue()) == (instance, profile)


def test_round_trip_through_a_path(tmp_path: Path) -> None:
    instance, profile = _amsterdam_like()
    path = tmp_path / "out.pb"
    write_pb(instance, profile, path)
    assert read_pb(path) == (instance, profile)
    assert path.read_bytes().count(b"\r") == 0  # LF line ends


@SETTINGS
@given(_exact(6) | st.builds(Fraction, st.integers(-(10**12), 10**12), st.integers(1, 10**6)))
def test_numbers_are_written_exactly(value: Fraction) -> None:
    assert parse_number(format_number(value)) == value


def test_number_formats() -> None:
    assert parse_number("1546168.66") == Fraction(154616866, 100)
    assert parse_number(" 1546168,66 ") == Fraction(154616866, 100)
    assert parse_number("250000.0") == 250000
    assert parse_number("1e6") == 10**6
    assert parse_number("1/3") == Fraction(1, 3)
    assert format_number(Fraction(5, 2)) == "2.5"
    assert format_number(Fraction(-1, 8)) == "-0.125"
    for bad in ("", "abc", "1,000,000", "1.000,5", "nan", "inf", "1/0"):
        with pytest.raises(ValueError):
            parse_number(bad)


# ----------------------------------------------------------------------------------------------
# Tolerance

BASE = """META
key;value
description;Buurtbudget test
budget;1000
vote_type;approval
max_length;2
PROJECTS
project_id;cost;name;category
p1;250;Park;groen
p2;600.5;Speeltuin;jeugd,groen
p3;300;Bankjes;groen
VOTES
voter_id;vote;age;sex
v1;p1,p2;34;F
v2;p3;51;M
v3;;19;M
"""


def _expected() -> tuple[Instance, Profile]:
    projects = (
        Project("p1", Fraction(250), name="Park", categories=("groen",)),
        Project("p2", Fraction(1201, 2), name="Speeltuin", categories=("jeugd", "groen")),
        Project("p3", Fraction(300), name="Bankjes", categories=("groen",)),
    )
    meta = (
        ("description", "Buurtbudget test"),
        ("budget", "1000"),
        ("vote_type", "approval"),
        ("max_length", "2"),
    )
    instance = Instance(projects, meta, ("project_id", "cost", "name", "category"))
    ballots = (
        Ballot("v1", ("p1", "p2"), None, (("age", "34"), ("sex", "F"))),
        Ballot("v2", ("p3",), None, (("age", "51"), ("sex", "M"))),
        Ballot("v3", (), None, (("age", "19"), ("sex", "M"))),
    )
    return instance, Profile("approval", ballots, ("voter_id", "vote", "age", "sex"))


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "in.pb") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_base_file_reads_as_expected(tmp_path: Path) -> None:
    assert read_pb(_write(tmp_path, BASE)) == _expected()


@pytest.mark.parametrize(
    ("variant", "transform"),
    [
        ("byte order mark", lambda t: "\ufeff" + t),
        ("CRLF line ends", lambda t: t.replace("\n", "\r\n")),
        ("CR line ends", lambda t: t.replace("\n", "\r")),
        ("no key;value line", lambda t: t.replace("key;value\n", "")),
        ("key; value with spaces", lambda t: t.replace("key;value", "key; value")),
        (
            "blank lines",
            lambda t: t.replace("\nPROJECTS", "\n\nPROJECTS\n").replace("v2;", "\nv2;"),
        ),
        ("spaces around cells", lambda t: t.replace("p3;300;Bankjes", " p3 ; 300 ;  Bankjes ")),
        ("trailing semicolons", lambda t: t.replace("p1;250;Park;groen", "p1;250;Park;groen;;")),
        ("quoted plain fields", lambda t: t.replace("p1;250;Park", '"p1";"250";"Park"')),
        (
            "lower-case sections",
            lambda t: t.replace("PROJECTS", "projects").replace("VOTES", "votes"),
        ),
        ("decimal comma", lambda t: t.replace("600.5", "600,5")),
        ("spaces in a vote", lambda t: t.replace("v1;p1,p2", "v1; p1 , p2 ,")),
    ],
)
def test_tolerated_variants_read_the_same(tmp_path: Path, variant: str, transform: object) -> None:
    assert callable(transform)
    path = _write(tmp_path, transform(BASE))
    assert read_pb(path) == _expected(), variant


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    assert read_pb(_write(tmp_path, BASE, encoding="utf-16")) == _expected()


def test_quoted_fields_keep_semicolons_quotes_and_newlines(tmp_path: Path) -> None:
    text = BASE.replace("p1;250;Park", 'p1;250;"Park; ""groen"" en\nmooi"')
    instance, _ = read_pb(_write(tmp_path, text))
    assert instance.projects[0].name == 'Park; "groen" en\nmooi'
    assert instance.projects[0].cost == 250


def test_none_cells_are_not_given(tmp_path: Path) -> None:
    text = (
        BASE.replace("p3;300;Bankjes;groen", "p3;300;None;None")
        .replace("v2;p3;51;M", "v2;p3;None;M")
        .replace("v3;;19;M", "v3;None;19;M")
        .replace("max_length;2", "max_length;None")
    )
    instance, profile = read_pb(_write(tmp_path, text))
    assert instance.projects[2] == Project("p3", Fraction(300))
    assert profile.ballots[1].get("age") == ""
    assert profile.ballots[2].projects == ()
    assert instance.rules.max_length is None
    assert instance.get("max_length") == "None"  # META text is kept as written


def test_decimal_comma_in_the_budget(tmp_path: Path) -> None:
    instance, _ = read_pb(_write(tmp_path, BASE.replace("budget;1000", "budget;1546168,66")))
    assert instance.budget == Fraction(154616866, 100)
    assert instance.get("budget") == "1546168,66"


def test_unknown_meta_keys_are_kept_in_order(tmp_path: Path) -> None:
    text = BASE.replace(
        "max_length;2", "x_first;1\nmax_length;2\nleftover_budget;Fund more;by score\nzz;"
    )
    instance, _ = read_pb(_write(tmp_path, text))
    assert [key for key, _ in instance.meta] == [
        "description",
        "budget",
        "vote_type",
        "x_first",
        "max_length",
        "leftover_budget",
        "zz",
    ]
    assert instance.get("leftover_budget") == "Fund more;by score"
    assert instance.get("zz") == ""


def test_a_repeated_project_in_a_vote_is_kept_as_cast(tmp_path: Path) -> None:
    text = BASE.replace("v2;p3;", "v2;p3,p3;")
    instance, profile = read_pb(_write(tmp_path, text))
    assert profile.ballots[1].projects == ("p3", "p3")
    codes = [p.code for p in ballot_problems(instance, profile.ballots[1])]
    assert codes == ["duplicate-project"]


def test_empty_votes_section(tmp_path: Path) -> None:
    text = BASE.split("VOTES")[0] + "VOTES\nvoter_id;vote\n"
    instance, profile = read_pb(_write(tmp_path, text))
    assert len(profile) == 0
    assert to_election(instance, profile).n_voters == 0


# ----------------------------------------------------------------------------------------------
# Malformed files: every error names the file, the line and the field

_LINES = BASE.splitlines()


def _replace_line(number: int, new: str | None) -> str:
    """BASE with line ``number`` (1-based) replaced (or removed when ``new`` is None)."""
    lines = list(_LINES)
    if new is None:
        del lines[number - 1]
    else:
        lines[number - 1] = new
    return "\n".join(lines) + "\n"


MALFORMED = [
    # (what, text, code, line, field)
    ("no META line", "\n".join(_LINES[1:]), "missing-section", 1, None),
    (
        "META without key;value",
        _replace_line(3, "rule: greedy"),
        "bad-meta-line",
        3,
        "rule: greedy",
    ),
    ("META key twice", _replace_line(6, "budget;2000"), "duplicate-meta-key", 6, "budget"),
    ("no budget", _replace_line(4, None), "missing-meta", 1, "budget"),
    ("budget not a number", _replace_line(4, "budget;lots"), "bad-meta-value", 4, "budget"),
    ("unknown vote_type", _replace_line(5, "vote_type;approve"), "bad-vote-type", 5, "vote_type"),
    ("max_length not whole", _replace_line(6, "max_length;2.5"), "bad-meta-value", 6, "max_length"),
    (
        "budget_per_category without categories",
        _replace_line(6, "budget_per_category;100,200"),
        "meta-mismatch",
        6,
        "budget_per_category",
    ),
    ("file ends in META", "\n".join(_LINES[:5]), "missing-section", 5, None),
    ("VOTES before PROJECTS", _replace_line(7, "VOTES"), "missing-section", 7, None),
    (
        "no cost column",
        _replace_line(8, "project_id;price;name;category"),
        "missing-column",
        8,
        "cost",
    ),
    (
        "duplicate column",
        _replace_line(8, "project_id;cost;name;name"),
        "duplicate-column",
        8,
        "name",
    ),
    ("bad cost", _replace_line(10, "p2;6OO;Speeltuin;jeugd"), "bad-cost", 10, "cost"),
    ("no cost", _replace_line(10, "p2;;Speeltuin;jeugd"), "bad-cost", 10, "cost"),
    ("negative cost", _replace_line(10, "p2;-5;Speeltuin;jeugd"), "bad-cost", 10, "cost"),
    (
        "duplicate project",
        _replace_line(11, "p1;300;Bankjes;groen"),
        "duplicate-project",
        11,
        "project_id",
    ),
    (
        "project without id",
        _replace_line(11, ";300;Bankjes;groen"),
        "bad-project-id",
        11,
        "project_id",
    ),
    ("too many fields", _replace_line(9, "p1;250;Park;groen;extra"), "too-many-fields", 9, None),
    ("no VOTES section", "\n".join(_LINES[:11]), "missing-section", 11, None),
    ("no vote column", _replace_line(13, "voter_id;ballot;age;sex"), "missing-column", 13, "vote"),
    ("unknown project", _replace_line(15, "v2;p4;51;M"), "unknown-project", 15, "vote"),
    ("voter twice", _replace_line(16, "v1;p3;19;M"), "duplicate-voter", 16, "voter_id"),
    ("voter without id", _replace_line(16, ";p3;19;M"), "missing-voter-id", 16, "voter_id"),
    ("unclosed quote", _replace_line(10, 'p2;600;"Speeltuin;jeugd'), "unclosed-quote", 10, None),
]


@pytest.mark.parametrize(
    ("what", "text", "code", "line", "field"), MALFORMED, ids=[case[0] for case in MALFORMED]
)
def test_malformed_files_name_file_line_and_field(
    tmp_path: Path, what: str, text: str, code: str, line: int, field: str | None
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        read_pb(path)
    error = caught.value
    assert (error.code, error.row, error.column) == (code, line, field), what
    assert error.file == str(path)
    assert f"line {line}" in str(error)
    assert str(path) in error.describe()
    if field is not None:
        assert f"'{field}'" in str(error)


CUMULATIVE = """META
budget;100
vote_type;cumulative
max_sum_points;5
PROJECTS
project_id;cost
a;40
b;70
VOTES
voter_id;vote;points
1;a,b;3,2
2;b;5
"""


@pytest.mark.parametrize(
    ("what", "old", "new", "code", "line", "field"),
    [
        (
            "no points column",
            "voter_id;vote;points",
            "voter_id;vote",
            "missing-column",
            10,
            "points",
        ),
        ("bad points", "1;a,b;3,2", "1;a,b;3,x", "bad-points", 11, "points"),
        ("too few points", "1;a,b;3,2", "1;a,b;3", "points-mismatch", 11, "points"),
        ("no points at all", "2;b;5", "2;b;", "points-mismatch", 12, "points"),
        (
            "bad max_sum_points",
            "max_sum_points;5",
            "max_sum_points;five",
            "bad-meta-value",
            4,
            "max_sum_points",
        ),
    ],
)
def test_malformed_points(
    tmp_path: Path, what: str, old: str, new: str, code: str, line: int, field: str
) -> None:
    assert old in CUMULATIVE
    path = _write(tmp_path, CUMULATIVE.replace(old, new))
    with pytest.raises(InputError) as caught:
        read_pb(path)
    assert (caught.value.code, caught.value.row, caught.value.column) == (code, line, field), what
    assert caught.value.file == str(path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.pb"
    path.write_bytes(BASE.replace("Bankjes", "Bänkjes").encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_pb(path)
    assert caught.value.code == "unreadable-file"
    assert caught.value.row == 11


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_pb(tmp_path / "nope.pb")
    assert caught.value.code == "unreadable-file"
    assert isinstance(caught.value, BudgetingError)


def test_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_pb(_write(tmp_path, ""))
    assert caught.value.code == "missing-section"


# ----------------------------------------------------------------------------------------------
# Parsed META views


def _amsterdam_like() -> tuple[Instance, Profile]:
    text = """META
key;value
budget;250000
vote_type;approval
max_sum_cost;250000
categories;Groen,Jeugd
budget_per_category;150000,100000.5
neighborhoods;Noord,Other
budget_per_neighborhood;50000,200000
max_length_per_category;2
max_sum_cost_per_category;120000,90000
min_project_score_threshold;30
leftover_budget;Fund additional projects that fit within leftover budget ordered by score
currency;EUR
PROJECTS
project_id;cost;votes;name;category;neighborhood
1;100000;50;Bomen;Groen;Noord
2;80000;40;Speeltuin;Jeugd,Groen;Other
3;30000;20;Sport;Jeugd;Other
4;20000;10;Struiken;Groen;Other
VOTES
voter_id;vote;age
a;1,2;30
b;3;None
"""
    return parse_pb(text, file="amsterdam.pb")


def test_amsterdam_meta_views() -> None:
    instance, _ = _amsterdam_like()
    assert instance.budget == 250000
    assert instance.categories == ("Groen", "Jeugd")
    assert instance.budget_per_category == {"Groen": Fraction(150000), "Jeugd": Fraction(200001, 2)}
    assert instance.neighbourhoods == ("Noord", "Other")
    assert instance.budget_per_neighbourhood == {
        "Noord": Fraction(50000),
        "Other": Fraction(200000),
    }
    assert instance.min_project_score_threshold == 30
    assert instance.rules.max_sum_cost == 250000
    assert instance.rules.max_length_per_category == {"Groen": 2, "Jeugd": 2}
    assert instance.rules.max_sum_cost_per_category == {"Groen": 120000, "Jeugd": 90000}
    assert instance.projects[1].categories == ("Jeugd", "Groen")
    assert instance.projects[1].neighbourhood == "Other"
    assert instance.projects[1].get("votes") == "40"


def test_views_without_meta_lists_come_from_the_projects() -> None:
    instance, _ = parse_pb(BASE)
    assert instance.categories == ("groen", "jeugd")
    assert instance.budget_per_category is None
    assert instance.neighbourhoods == ()
    assert instance.min_project_score_threshold is None


def test_with_meta_replaces_in_place_and_appends() -> None:
    instance, profile = parse_pb(BASE)
    updated = instance.with_meta({"budget": "2000", "num_votes": str(len(profile))})
    assert updated.budget == 2000
    assert [k for k, _ in updated.meta] == [k for k, _ in instance.meta] + ["num_votes"]


# ----------------------------------------------------------------------------------------------
# Ballot validation


def _codes(instance: Instance, ballot: Ballot) -> list[str]:
    return [p.code for p in ballot_problems(instance, ballot)]


def test_ballot_problems_approval() -> None:
    instance, _ = _amsterdam_like()
    assert _codes(instance, Ballot("x", ("1", "3"))) == []
    assert _codes(instance, Ballot("x", ())) == ["too-few-projects"]
    assert _codes(instance, Ballot("x", ("1", "9"))) == ["unknown-project"]
    assert _codes(instance, Ballot("x", ("3", "3"))) == ["duplicate-project"]
    assert _codes(instance, Ballot("x", ("1", "2", "4"))) == [
        "category-too-many",
        "category-cost-too-high",
    ]
    assert _codes(instance, Ballot("x", ("1",), (Fraction(1),))) == ["unexpected-points"]
    over = Instance.build(
        instance.projects, budget=100000, vote_type="approval", meta={"max_sum_cost": "100000"}
    )
    problems = ballot_problems(over, Ballot("x", ("1", "2")))
    assert [p.code for p in problems] == ["cost-too-high"]
    assert problems[0].params == {"total": "180000", "limit": "100000", "category": None}
    assert "180000" in problems[0].en and "100000" in problems[0].en
    assert "180000" in problems[0].nl and "hoogstens" in problems[0].nl


def test_ballot_problems_in_words() -> None:
    instance, _ = _amsterdam_like()
    problems = ballot_problems(instance, Ballot("x", ("1", "2", "4")))
    assert problems[0].en == "You chose 3 projects in category 'Groen'; choose at most 2."
    assert problems[0].nl == "U koos 3 projecten in de categorie 'Groen'; kies er hoogstens 2."
    assert problems[1].en == (
        "The projects you chose in category 'Groen' cost 200000 EUR together; "
        "the most you may choose is 120000 EUR."
    )


def test_ballot_problems_length_and_choose_one() -> None:
    instance, _ = parse_pb(BASE)  # max_length 2
    assert _codes(instance, Ballot("x", ("p1", "p2", "p3"))) == ["too-many-projects"]
    choose_one = Instance.build(instance.projects, budget=1000, vote_type="choose-1")
    assert _codes(choose_one, Ballot("x", ("p1",))) == []
    problems = ballot_problems(choose_one, Ballot("x", ("p1", "p2")))
    assert [p.code for p in problems] == ["too-many-projects"]
    assert problems[0].en == "You chose 2 projects; choose at most 1."
    few = Instance.build(
        instance.projects, budget=1000, vote_type="ordinal", meta={"min_length": "3"}
    )
    problems = ballot_problems(few, Ballot("x", ("p1",)))
    assert problems[0].en == "You chose 1 project; choose at least 3."
    assert problems[0].nl == "U koos 1 project; kies er ten minste 3."


def test_ballot_problems_points() -> None:
    instance, _ = parse_pb(CUMULATIVE)  # max_sum_points 5, so max_points 5, min_points 0
    one = Fraction(1)
    assert _codes(instance, Ballot("x", ("a", "b"), (Fraction(3), Fraction(2)))) == []
    assert _codes(instance, Ballot("x", ("a",), None)) == ["missing-points"]
    assert _codes(instance, Ballot("x", ("a", "b"), (one,))) == ["missing-points"]
    assert _codes(instance, Ballot("x", ("a",), (Fraction(6),))) == [
        "points-too-high",
        "sum-points-too-high",
    ]
    assert _codes(instance, Ballot("x", ("a", "b"), (-one, one))) == ["points-too-low"]
    scoring = Instance.build(
        instance.projects,
        budget=100,
        vote_type="scoring",
        meta={"min_points": "-2", "max_points": "2", "min_sum_points": "1"},
    )
    assert _codes(scoring, Ballot("x", ("a", "b"), (-one, Fraction(2)))) == []
    assert _codes(scoring, Ballot("x", ("a", "b"), (Fraction(-3), one))) == [
        "points-too-low",
        "sum-points-too-low",
    ]


def test_check_ballot_raises_with_all_problems() -> None:
    instance, _ = parse_pb(BASE)
    check_ballot(instance, Ballot("ok", ("p1",)))
    with pytest.raises(InvalidBallotError) as caught:
        check_ballot(instance, Ballot("v9", ("p1", "p1", "p2", "p3", "zz")))
    error = caught.value
    assert [p.code for p in error.problems] == [
        "unknown-project",
        "duplicate-project",
        "too-many-projects",
    ]
    assert error.code == "invalid-ballot"
    assert "v9" in str(error)


# ----------------------------------------------------------------------------------------------
# to_election


@SETTINGS
@given(elections(), st.randoms(use_true_random=False))
def test_to_election_ignores_the_order_of_voters(
    case: tuple[Instance, Profile], rng: random.Random
) -> None:
    instance, profile = case
    ballots = list(profile.ballots)
    rng.shuffle(ballots)
    shuffled = Profile(profile.vote_type, tuple(ballots), profile.columns)
    election = to_election(instance, profile)
    assert to_election(instance, shuffled) == election
    assert election.n_voters == len(profile)
    keys = [(b.projects, b.points or ()) for b in election.ballots]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)  # identical ballots are merged
    for ballot in election.ballots:
        assert ballot.weight >= 1
        if ballot.points is not None:
            assert all(p > 0 for p in ballot.points)
            assert list(ballot.projects) == sorted(set(ballot.projects))
        elif election.vote_type != "ordinal":
            assert list(ballot.projects) == sorted(set(ballot.projects))
        else:
            assert len(set(ballot.projects)) == len(ballot.projects)


def _tiny(vote_type: VoteType, ballots: list[Ballot], **meta: str) -> Election:
    projects = [Project(p, Fraction(10)) for p in ("a", "b", "c")]
    instance = Instance.build(projects, budget=20, vote_type=vote_type, meta=meta)
    return to_election(instance, Profile(vote_type, tuple(ballots)))


def test_to_election_per_vote_type() -> None:
    approval = _tiny("approval", [Ballot("1", ("c", "a")), Ballot("2", ("a", "c", "a"))])
    assert approval.ballots == (WeightedBallot((0, 2), None, 2),)
    assert approval.ids == ("a", "b", "c")
    assert approval.costs == (Fraction(10),) * 3

    ordinal = _tiny("ordinal", [Ballot("1", ("c", "a", "c")), Ballot("2", ("a", "c"))])
    assert ordinal.ballots == (WeightedBallot((0, 2), None, 1), WeightedBallot((2, 0), None, 1))

    f = Fraction
    cumulative = _tiny(
        "cumulative",
        [
            Ballot("1", ("c", "a", "c", "b"), (f(1), f(2), f(1), f(0))),
            Ballot("2", ("a", "c"), (f(2), f(2))),
            Ballot("3", (), ()),
        ],
    )
    assert cumulative.ballots == (
        WeightedBallot((), (), 1),
        WeightedBallot((0, 2), (f(2), f(2)), 2),
    )

    scoring = _tiny(
        "scoring", [Ballot("1", ("b", "a", "b"), (f(5), f(-1), f(7)))], default_score="1"
    )
    assert scoring.ballots == (WeightedBallot((1, 2), (f(5), f(1)), 1),)


def test_to_election_rejects_a_profile_that_does_not_fit() -> None:
    instance, profile = parse_pb(BASE)
    with pytest.raises(InputError) as caught:
        to_election(instance, Profile("approval", (Ballot("x", ("zz",)),)))
    assert caught.value.code == "unknown-project"
    with pytest.raises(InputError) as caught:
        to_election(instance, Profile("ordinal", profile.ballots))
    assert caught.value.code == "vote-type-mismatch"


def test_write_rejects_what_it_could_not_read_back() -> None:
    instance, _ = parse_pb(BASE)
    for ballots, code in [
        ((Ballot("x", ("zz",)),), "unknown-project"),
        ((Ballot("x", ("p1",), (Fraction(1),)),), "unexpected-points"),
        ((Ballot(" x", ("p1",)),), "missing-voter-id"),
        ((Ballot("x", ("p1",), None, (("vote", "1"),)),), "reserved-column"),
    ]:
        with pytest.raises(InputError) as caught:
            format_pb(instance, Profile("approval", ballots))
        assert caught.value.code == code


def test_projects_and_instances_check_their_values() -> None:
    for bad in ("", "a,b", " a"):
        with pytest.raises(InputError):
            Project(bad, Fraction(1))
    with pytest.raises(InputError):
        Project("a", Fraction(-1))
    with pytest.raises(InputError):
        Project("a", Fraction(1), extra=(("cost", "3"),))
    with pytest.raises(InputError) as caught:
        Instance((Project("a", Fraction(1)), Project("a", Fraction(2))), (("budget", "1"),))
    assert caught.value.code == "duplicate-project"
    with pytest.raises(InputError) as caught:
        Instance((), (("budget", "1"), ("vote_type", "approval"), ("budget", "2")))
    assert caught.value.code == "duplicate-meta-key"
