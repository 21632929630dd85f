"""Tests of Scottish STV (:mod:`voting.stv`), the ballot profile and the ``.blt`` reader.

The worked examples are counted by hand in the comments; the properties (hypothesis) check that
the count does not depend on how the ballots are listed, and that every stage conserves the
valid poll exactly: candidates' totals + non-transferable + truncation loss = valid poll.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.randomness import SeededStream
from voting import (
    UNIT,
    InputError,
    LotNeededError,
    Profile,
    StvResult,
    format_votes,
    parse_blt,
    scottish_stv,
)


def totals(result: StvResult, stage: int) -> dict[str, str]:
    return result.totals_text(stage)


def test_worked_example_by_hand() -> None:
    # valid poll 100, 2 seats: quota = floor(100 / 3) + 1 = 34.
    # Stage 1: A 50 (elected), B 10, C 20, D 20.
    # Stage 2: A's surplus 16 over 50 votes: transfer value 16/50 = 0.32000 for each paper;
    #   30 papers A>B give B 9.6, 15 papers A>C give C 4.8, 5 papers A give 1.6 non-transferable.
    # Stage 3: B (19.6) is lowest and excluded: 10 papers at 1 and 30 at 0.32 have no further
    #   preference, so 19.6 become non-transferable.
    # Stage 4: D (20) is excluded: 12 papers D>C give C 12 -> 36.8 >= 34, C elected.
    p = Profile.build(
        ["A", "B", "C", "D"],
        [((0, 1), 30), ((0, 2), 15), ((0,), 5), ((1,), 10), ((2, 1), 20), ((3, 2), 12), ((3,), 8)],
    )
    r = scottish_stv(p, 2)
    assert r.quota == 34
    assert r.elected == ("A", "C")
    assert [s.action for s in r.stages] == [
        "first-preferences",
        "surplus",
        "exclusion",
        "exclusion",
    ]
    assert totals(r, 1) == {"A": "50.00000", "B": "10.00000", "C": "20.00000", "D": "20.00000"}
    assert totals(r, 2) == {"A": "34.00000", "B": "19.60000", "C": "24.80000", "D": "20.00000"}
    assert totals(r, 3) == {"A": "34.00000", "B": "0.00000", "C": "24.80000", "D": "20.00000"}
    assert totals(r, 4) == {"A": "34.00000", "B": "0.00000", "C": "36.80000", "D": "0.00000"}
    assert [format_votes(s.non_transferable) for s in r.stages] == [
        "0.00000",
        "1.60000",
        "19.60000",
        "8.00000",
    ]
    assert r.stages[1].transfers == (-16 * UNIT, 960_000, 480_000, 0)
    assert [(d.candidate, d.kind, d.stage, d.rule) for d in r.decisions] == [
        ("A", "elected", 1, "47"),
        ("B", "excluded", 3, "50"),
        ("D", "excluded", 4, "50"),
        ("C", "elected", 4, "47"),
    ]


def test_truncation_and_last_vacancy() -> None:
    # valid 10, 2 seats: quota 4. A has 7, surplus 3: transfer value 3/7 = 0.428571...
    # truncated to 0.42857. B gets 5 x 0.42857 = 2.14285, C gets 2 x 0.42857 = 0.85714, and
    # 3 - 2.14285 - 0.85714 = 0.00001 is lost to truncation. C (2.85714) is excluded; then B is
    # the only continuing candidate for the last vacancy and is elected under rule 52.
    p = Profile.build(["A", "B", "C"], [((0, 1), 5), ((0, 2), 2), ((1,), 1), ((2,), 2)])
    r = scottish_stv(p, 2)
    assert totals(r, 2) == {"A": "4.00000", "B": "3.14285", "C": "2.85714"}
    assert r.stages[1].truncation_loss == 1
    assert r.stages[2].non_transferable == 2 * UNIT + 2 * 42857
    assert r.elected == ("A", "B")
    assert r.decisions[-1].rule == "52"
    assert len(r.stages) == 3


def test_exclusion_tie_broken_by_earlier_stage() -> None:
    # Stage 1: A 4, B 3, C 2, D 1; D excluded, C 3. Stage 2: B and C tie at 3; at stage 1 C had
    # fewer (2 < 3), so C is excluded (rule 51).
    p = Profile.build(["A", "B", "C", "D"], [((0,), 4), ((1,), 3), ((2,), 2), ((3, 2), 1)])
    r = scottish_stv(p, 1)
    excluded = [(d.candidate, d.rule) for d in r.decisions if d.kind == "excluded"]
    assert excluded[:2] == [("D", "50"), ("C", "51")]
    assert not r.lots


def test_tie_by_lot_needs_seed_and_is_recorded() -> None:
    p = Profile.build(["A", "B", "C"], [((0,), 2), ((1,), 2), ((2,), 3)])
    with pytest.raises(LotNeededError) as info:
        scottish_stv(p, 1)
    assert info.value.code == "lot-needed"
    r = scottish_stv(p, 1, seed="2026")
    assert len(r.lots) == 1
    lot = r.lots[0]
    assert lot.label == "scottish-stv/stage-2/exclusion"
    expected = ["A", "B"][SeededStream("2026", lot.label).randbelow(2)]
    assert lot.chosen == expected
    assert r == scottish_stv(p, 1, seed="2026")


def test_surpluses_go_largest_first() -> None:
    # valid 21, 3 seats: quota 21 // 4 + 1 = 6. A (7) and B (9) are elected at stage 1; B's
    # surplus (3) moves before A's (1).
    p = Profile.build(["A", "B", "C", "D"], [((0, 2), 7), ((1, 3), 9), ((2,), 3), ((3,), 2)])
    r = scottish_stv(p, 3)
    assert r.stages[1].candidate == "B"
    assert r.stages[2].candidate == "A"


def test_equal_surpluses_broken_by_earlier_stage() -> None:
    # valid 45, 4 seats: quota 10. Stage 1: C 20 (elected), A 8, B 6, D 2, E 9. Stage 2: C's
    # surplus 10 at 10/20 = 0.5 gives A 8 x 0.5 and B 12 x 0.5: both reach 12, equal surpluses of
    # 2. A had more at stage 1, so A's surplus moves first (rule 49(2)).
    p = Profile.build(
        ["A", "B", "C", "D", "E"],
        [((2, 0), 8), ((2, 1), 12), ((0, 3), 8), ((1, 3), 6), ((3,), 2), ((4,), 9)],
    )
    r = scottish_stv(p, 4)
    assert totals(r, 2)["A"] == totals(r, 2)["B"] == "12.00000"
    assert r.stages[2].action == "surplus"
    assert r.stages[2].candidate == "A"
    assert any("larger at stage 1" in note for note in r.stages[2].notes)
    assert not r.lots


def test_bad_seats() -> None:
    p = Profile.build(["A"], [((0,), 1)])
    with pytest.raises(InputError):
        scottish_stv(p, 0)


@st.composite
def profiles(draw: st.DrawFn) -> tuple[list[tuple[tuple[int, ...], int]], int, int]:
    n = draw(st.integers(2, 6))
    seats = draw(st.integers(1, n))
    ballots = draw(
        st.lists(
            st.tuples(
                st.permutations(list(range(n))).flatmap(
                    lambda perm: st.integers(1, len(perm)).map(lambda k: tuple(perm[:k]))
                ),
                st.integers(1, 9),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return ballots, n, seats


def _names(n: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(profiles(), st.randoms(use_true_random=False))
def test_invariant_to_ballot_order_and_splitting(
    case: tuple[list[tuple[tuple[int, ...], int]], int, int], rnd: random.Random
) -> None:
    ballots, n, seats = case
    split = []
    for ranking, weight in ballots:
        split.extend([(ranking, 1)] * weight)
    rnd.shuffle(split)
    a = scottish_stv(Profile.build(_names(n), ballots), seats, seed="s")
    b = scottish_stv(Profile.build(_names(n), split), seats, seed="s")
    assert a == b


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_conservation_in_every_stage(
    case: tuple[list[tuple[tuple[int, ...], int]], int, int],
) -> None:
    ballots, n, seats = case
    p = Profile.build(_names(n), ballots)
    r = scottish_stv(p, seats, seed="s")
    non_transferable = 0
    loss = 0
    for stage in r.stages:
        non_transferable += stage.non_transferable
        loss += stage.truncation_loss
        assert stage.truncation_loss >= 0
        assert sum(stage.totals) + non_transferable + loss == p.valid_poll * UNIT
    assert len(r.elected) == len(set(r.elected)) == min(seats, n)
    assert all(d.rule in {"47", "50", "51", "52"} for d in r.decisions)


BLT = """4 2
-4
3 1 2 0
2 2 4 3 0
1 3 0
0
"Ann" "Bob"
"Cy"
"Dee"
"Title here"
"""


def test_blt_reads_withdrawn_and_names() -> None:
    e = parse_blt(BLT)
    assert e.seats == 2
    assert e.profile.candidates == ("Ann", "Bob", "Cy")
    assert e.withdrawn == ("Dee",)
    assert e.title == "Title here"
    assert [(b.ranking, b.weight) for b in e.profile.ballots] == [
        ((0, 1), 3),
        ((1, 2), 2),
        ((2,), 1),
    ]


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("3 1\n1 1 2\n0\nA\nB\nC\n", "bad-ballot", 2),
        ("3 1\n1 1 0\n1 1 4 0\n0\nA\nB\nC\n", "unknown-candidate", 3),
        ("3 1\n1 1 0\n\n1 2 2 0\n0\nA\nB\nC\n", "repeated-preference", 4),
        ("3 1\n1 x 0\n0\nA\nB\nC\n", "bad-number", 2),
        ('3 1\n1 1 0\n"A"\n"B"\n"C"\n', "missing-end", 3),
        ("3 1\n1 1 0\n0\nA\nB\n", "missing-names", 5),
        ("3\n1 1 0\n0\nA\nB\nC\n", "bad-header", 1),
        ("3 1\n-5\n1 1 0\n0\nA\nB\nC\n", "bad-withdrawal", 2),
    ],
)
def test_blt_errors_name_the_line(text: str, code: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_blt(text, file="x.blt")
    assert info.value.code == code
    assert info.value.line == line
    assert str(info.value).startswith(f"x.blt, line {line}: ")


def test_voting_core_is_pure() -> None:
    code = (
        "import sys, voting; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('service', 'fastapi', 'sqlmodel', 'typer', 'rich')]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
