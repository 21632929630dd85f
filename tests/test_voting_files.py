"""Tests of the ballot-file readers and writers: PrefLib (:mod:`voting.preflib`) and plain CSV
(:mod:`voting.csvballots`).

Round trips: hypothesis draws profiles of every kind, writes them, reads them back (also with a
byte-order mark and Windows line ends) and checks the profile is equal. Bad files: each broken
file must raise :class:`voting.errors.InputError` naming the file and the offending line (and
for CSV the column). All data are generated here.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.ballots import ApprovalProfile, MarkedProfile, Profile, ScoreProfile
from voting.csvballots import (
    format_csv_ballots,
    parse_csv_ballots,
    read_csv_ballots,
    write_csv_ballots,
)
from voting.errors import InputError
from voting.preflib import format_preflib, parse_preflib, read_preflib, write_preflib

NAME = st.text(alphabet="ABCDEFGHJKabcdefghjk xyz-'.", min_size=1, max_size=8).filter(
    lambda s: s == s.strip() and bool(s)
)


@st.composite
def names(draw: st.DrawFn, min_size: int = 1, max_size: int = 6) -> list[str]:
    # unique also when case is ignored (CSV column names are matched without case)
    drawn = draw(
        st.lists(NAME, min_size=min_size, max_size=max_size, unique_by=lambda s: s.lower())
    )
    return [n for n in drawn if n.lower() not in ("weight", "id", "approved")] or ["Solo"]


@st.composite
def ranked_profiles(draw: st.DrawFn, *, complete: bool = False) -> Profile:
    cands = draw(names())
    n = len(cands)
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        perm = draw(st.permutations(range(n)))
        length = n if complete else draw(st.integers(1, n))
        pairs.append((perm[:length], draw(st.integers(1, 50))))
    return Profile.build(cands, pairs)


@st.composite
def marked_profiles(draw: st.DrawFn, *, complete: bool = False) -> MarkedProfile:
    cands = draw(names())
    n = len(cands)
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        perm = list(draw(st.permutations(range(n))))
        length = n if complete else draw(st.integers(1, n))
        chosen = perm[:length]
        cuts = sorted(draw(st.sets(st.integers(1, max(1, length - 1)), max_size=length)))
        cuts = [c for c in cuts if 0 < c < length]
        bounds = [0, *cuts, length]
        marks = [chosen[a:b] for a, b in itertools.pairwise(bounds)]
        pairs.append((marks, draw(st.integers(1, 50))))
    return MarkedProfile.build(cands, pairs)


@st.composite
def approval_profiles(draw: st.DrawFn) -> ApprovalProfile:
    cands = draw(names())
    n = len(cands)
    pairs = [
        (sorted(draw(st.sets(st.integers(0, n - 1)))), draw(st.integers(1, 50)))
        for _ in range(draw(st.integers(0, 8)))
    ]
    return ApprovalProfile.build(cands, pairs)


@st.composite
def score_profiles(draw: st.DrawFn) -> ScoreProfile:
    cands = draw(names())
    n = len(cands)
    pairs = [
        (draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), draw(st.integers(1, 50)))
        for _ in range(draw(st.integers(0, 8)))
    ]
    return ScoreProfile.build(cands, pairs)


def _windows(text: str) -> bytes:
    return ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")


def _preflib_round_trip(profile: Profile | MarkedProfile | ApprovalProfile, kind: str) -> None:
    text = format_preflib(profile, kind)  # type: ignore[arg-type]
    assert parse_preflib(text, kind=kind).profile == profile  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"election.{kind}"
        write_preflib(path, profile)
        read = read_preflib(path)
        assert read.kind == kind and read.profile == profile
        # kind from the DATA TYPE header; BOM and CRLF accepted
        other = Path(tmp) / "election.txt"
        other.write_bytes(_windows(text))
        assert read_preflib(other).profile == profile


# --------------------------------------------------------------------------------------------
# PrefLib round trips


@settings(max_examples=60, deadline=None)
@given(ranked_profiles(complete=True))
def test_soc_round_trip(profile: Profile) -> None:
    _preflib_round_trip(profile, "soc")


@settings(max_examples=60, deadline=None)
@given(ranked_profiles())
def test_soi_round_trip(profile: Profile) -> None:
    _preflib_round_trip(profile, "soi")


@settings(max_examples=60, deadline=None)
@given(marked_profiles(complete=True))
def test_toc_round_trip(profile: MarkedProfile) -> None:
    _preflib_round_trip(profile, "toc")


@settings(max_examples=60, deadline=None)
@given(marked_profiles())
def test_toi_round_trip(profile: MarkedProfile) -> None:
    _preflib_round_trip(profile, "toi")


@settings(max_examples=60, deadline=None)
@given(approval_profiles())
def test_cat_round_trip(profile: ApprovalProfile) -> None:
    _preflib_round_trip(profile, "cat")


def test_preflib_by_hand() -> None:
    text = (
        "# FILE NAME: x.toi\n# TITLE: Club vote\n# DATA TYPE: toi\n# NUMBER ALTERNATIVES: 4\n"
        "# NUMBER VOTERS: 9\n# NUMBER UNIQUE ORDERS: 3\n"
        "# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Bob: the builder\n"
        "# ALTERNATIVE NAME 3: Cy\n# ALTERNATIVE NAME 4: Dee\n"
        "5: 2, {1, 3}, 4\n3: {4,2}\n1: 3\n"
    )
    f = parse_preflib(text)
    assert f.kind == "toi" and f.title == "Club vote"
    assert f.profile.candidates == ("Ann", "Bob: the builder", "Cy", "Dee")
    assert isinstance(f.profile, MarkedProfile)
    got = {b.marks: b.weight for b in f.profile.ballots}
    assert got == {((1,), (0, 2), (3,)): 5, ((1, 3),): 3, ((2,),): 1}
    assert f.headers["NUMBER UNIQUE ORDERS"] == "3"


def test_cat_first_category_is_approved() -> None:
    # the layout of PrefLib's own example (a single number or a {group} per category)
    text = (
        "# DATA TYPE: cat\n# NUMBER ALTERNATIVES: 5\n# NUMBER VOTERS: 5\n"
        "# NUMBER CATEGORIES: 2\n# CATEGORY NAME 1: Approved\n# CATEGORY NAME 2: Not approved\n"
        + "".join(f"# ALTERNATIVE NAME {i}: {c}\n" for i, c in enumerate("ABCDE", start=1))
        + "2: 4, {1, 2, 3, 5}\n1: {1, 2}, {3, 4, 5}\n1: {}, {1, 2, 3, 4, 5}\n1: {2, 4, 5}, {1, 3}\n"
    )
    f = parse_preflib(text)
    assert isinstance(f.profile, ApprovalProfile)
    assert {b.approved: b.weight for b in f.profile.ballots} == {
        (3,): 2,
        (0, 1): 1,
        (): 1,
        (1, 3, 4): 1,
    }


def test_soi_reads_as_profile_and_missing_names_are_numbers() -> None:
    f = parse_preflib(
        "# NUMBER ALTERNATIVES: 3\n# ALTERNATIVE NAME 2: Bob\n2: 2,3\n1: 1\n", kind="soi"
    )
    assert isinstance(f.profile, Profile)
    assert f.profile.candidates == ("1", "Bob", "3")
    assert [(b.ranking, b.weight) for b in f.profile.ballots] == [((0,), 1), ((1, 2), 2)]


HEAD3 = "# NUMBER ALTERNATIVES: 3\n# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: B\n" + (
    "# ALTERNATIVE NAME 3: C\n"
)


@pytest.mark.parametrize(
    ("kind", "text", "code", "line"),
    [
        ("soc", HEAD3 + "2: 1,2,3\n1: 1,2\n", "incomplete-order", 6),
        ("soi", HEAD3 + "2: 1,{2,3}\n", "tie-in-strict-order", 5),
        ("soi", HEAD3 + "1: 1\n2: 1,4\n", "unknown-candidate", 6),
        ("toi", HEAD3 + "2: 1,{2,1}\n", "repeated-preference", 5),
        ("toi", HEAD3 + "2: 1,{2,3\n", "bad-preference", 5),
        ("toi", HEAD3 + "2: 1 2\n", "bad-number", 5),
        ("toi", HEAD3 + "two: 1,2\n", "bad-number", 5),
        ("toc", HEAD3 + "2 1,2,3\n", "bad-data-line", 5),
        ("toi", HEAD3 + "2: 1,{},3\n", "bad-preference", 5),
        ("soi", HEAD3 + "1: 1\n# NUMBER VOTERS: 1\n", "header-after-data", 6),
        ("soi", "# NUMBER VOTERS: 4\n" + HEAD3 + "3: 1,2\n", "voter-count-mismatch", 1),
        ("soi", "# NUMBER ALTERNATIVES: three\n1: 1\n", "bad-number", 1),
        ("cat", HEAD3 + "1: {1,2}, {2,3}\n", "repeated-preference", 5),
    ],
)
def test_bad_preflib_names_file_and_line(kind: str, text: str, code: str, line: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bad.{kind}"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as err:
            read_preflib(path)
    assert err.value.code == code
    assert err.value.file == str(path) and err.value.line == line
    assert f"bad.{kind}, line {line}:" in str(err.value)


def test_bad_preflib_without_line() -> None:
    with pytest.raises(InputError) as err:
        parse_preflib("# DATA TYPE: soi\n1: 1\n", file="x.soi")
    assert err.value.code == "missing-header" and err.value.file == "x.soi"
    with pytest.raises(InputError) as err:
        parse_preflib("# NUMBER ALTERNATIVES: 2\n1: 1\n", file="x.txt")
    assert err.value.code == "unknown-kind"
    with pytest.raises(InputError) as err:  # duplicate names, reported with the file
        parse_preflib(
            "# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: A\n",
            kind="soi",
            file="d.soi",
        )
    assert err.value.code == "duplicate-candidate" and err.value.file == "d.soi"


def test_preflib_writer_refuses_what_it_cannot_hold() -> None:
    p = Profile.from_rankings(["A", "B"], [["A"]])
    with pytest.raises(InputError):
        format_preflib(p, "soc")
    with pytest.raises(InputError):
        format_preflib(p, "toi")
    skipped = MarkedProfile.build(["A", "B"], [([[], [1]], 1)])
    with pytest.raises(InputError):
        format_preflib(skipped, "toi")
    twice = MarkedProfile.build(["A", "B"], [([[0], [0]], 1)])
    with pytest.raises(InputError):
        format_preflib(twice)


# --------------------------------------------------------------------------------------------
# CSV round trips


def _csv_round_trip(profile: object, kind: str, **read: object) -> None:
    text = format_csv_ballots(
        profile, **({} if "layout" not in read else {"approval_layout": read.pop("layout")})
    )  # type: ignore[arg-type]
    assert parse_csv_ballots(text, kind, **read).profile == profile  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ballots.csv"
        path.write_bytes(_windows(text))
        assert read_csv_ballots(path, kind, **read).profile == profile  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(ranked_profiles())
def test_csv_ranked_round_trip(profile: Profile) -> None:
    _csv_round_trip(profile, "ranked", candidates=profile.candidates)
    # detected from the header as well
    text = format_csv_ballots(profile)
    assert parse_csv_ballots(text, candidates=profile.candidates).kind == "ranked"


@settings(max_examples=60, deadline=None)
@given(approval_profiles())
def test_csv_approval_round_trip(profile: ApprovalProfile) -> None:
    _csv_round_trip(profile, "approval")
    _csv_round_trip(profile, "approval", candidates=profile.candidates, layout="approved")


@settings(max_examples=60, deadline=None)
@given(score_profiles())
def test_csv_score_round_trip(profile: ScoreProfile) -> None:
    _csv_round_trip(profile, "score")


def test_csv_by_hand() -> None:
    f = parse_csv_ballots(
        "ID, Rank1 ,rank2,rank3, Weight\n7,Ann,Bob,,2\n\n8,Cy,,,1\n9,Ann,Bob,,1\n"
    )
    assert f.kind == "ranked" and f.profile.candidates == ("Ann", "Bob", "Cy")
    assert isinstance(f.profile, Profile)
    assert [(b.ranking, b.weight) for b in f.profile.ballots] == [((0, 1), 3), ((2,), 1)]
    g = parse_csv_ballots('approved\nAnn; Cy\n"Bob"\n,\n')
    assert isinstance(g.profile, ApprovalProfile) and g.profile.papers == 3
    s = parse_csv_ballots("A,B,weight\n3,,2\n", "score", max_score=5)
    assert isinstance(s.profile, ScoreProfile)
    assert [(b.scores, b.weight) for b in s.profile.ballots] == [((3, 0), 2)]


@pytest.mark.parametrize(
    ("text", "kind", "code", "line", "column"),
    [
        ("rank1,rank2\nA,B\nA,A\n", None, "repeated-preference", 3, "rank2"),
        ("rank1,rank2,rank3\nA,,B\n", None, "skipped-rank", 2, "rank3"),
        ("rank1,weight\nA,1\nB,x\n", None, "bad-number", 3, "weight"),
        ("rank1,weight\nA,-1\n", None, "bad-number", 2, "weight"),
        ("rank1,colour\nA,red\n", None, "bad-header", 1, "colour"),
        ("rank1,rank1\nA,B\n", None, "bad-header", 1, "rank1"),
        ("A,B\n1,2\n", "approval", "bad-approval", 2, "B"),
        ("A,B\n1,2\n0,1.5\n", "score", "bad-number", 3, "B"),
        ("approved\nA;;B\n", None, "bad-approval", 2, "approved"),
        ("rank1\nZed\n", "ranked", "unknown-candidate", 2, "rank1"),
        ("A,B\n1,2\n", None, "unknown-layout", 1, None),
        ('rank1\n"A\n', None, "bad-csv", 2, None),
        ("rank1\nA,B\n", None, "bad-row", 2, None),
    ],
)
def test_bad_csv_names_file_line_and_column(
    text: str, kind: str | None, code: str, line: int, column: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as err:
            read_csv_ballots(
                path, kind, candidates=["A", "B"] if code == "unknown-candidate" else None
            )  # type: ignore[arg-type]
    assert err.value.code == code
    assert err.value.file == str(path) and err.value.line == line
    if column is not None:
        assert err.value.params["column"] == column
        assert f"column {column!r}" in str(err.value)


def test_csv_score_bounds_and_empty_file() -> None:
    with pytest.raises(InputError) as err:
        parse_csv_ballots("A,B\n6,0\n", "score", max_score=5, file="s.csv")
    assert err.value.code == "bad-scores" and err.value.file == "s.csv"
    with pytest.raises(InputError) as err:
        parse_csv_ballots("\n\n", file="e.csv")
    assert err.value.code == "empty-file"


def test_csv_writer_refuses_names_it_cannot_hold() -> None:
    with pytest.raises(InputError):
        format_csv_ballots(ApprovalProfile.from_sets(["weight", "B"], [["B"]]))
    with pytest.raises(InputError):
        format_csv_ballots(
            ApprovalProfile.from_sets(["A;B", "C"], [["C"]]), approval_layout="approved"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.csv"
        write_csv_ballots(path, ScoreProfile.build(["A"], [((2,), 3)]))
        assert path.read_text(encoding="utf-8") == "A,weight\n2,3\n"
