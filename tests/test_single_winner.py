"""Tests of the single-winner methods (:mod:`voting.single`) and ``stadmaken count``.

The worked examples are counted by hand in the comments; the properties (hypothesis) check that
the result does not depend on how ballots or candidates are listed, that a Condorcet winner wins
every Condorcet method, and that instant-runoff agrees with a slow reference that tries every
way of breaking exclusion ties.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from service.count_cli import count_command, decimal_text
from voting import LotNeededError, Profile
from voting.single import (
    SINGLE_WINNER_METHODS,
    SingleResult,
    borda,
    copeland,
    instant_runoff,
    minimax,
    pairwise_matrix,
    plurality,
    ranked_pairs,
    schulze,
)

ABC = ["A", "B", "C"]


def cycle() -> Profile:
    # 4 A>B>C, 3 B>C>A, 2 C>A>B: A beats B 6-3, B beats C 7-2, C beats A 5-4 (a cycle).
    return Profile.from_rankings(
        ABC, [["A", "B", "C"]] * 4 + [["B", "C", "A"]] * 3 + [["C", "A", "B"]] * 2
    )


def totals(result: SingleResult, number: int = 1) -> list[Fraction]:
    return list(result.rounds[number - 1].totals)


def test_plurality_by_hand() -> None:
    # First preferences: A 4, B 3, C 2.
    r = plurality(cycle())
    assert totals(r) == [4, 3, 2]
    assert r.winner == "A" and r.elected == ("A",)


def test_plurality_tie_is_returned_or_broken_by_recorded_lot() -> None:
    p = Profile.from_rankings(ABC, [["A"], ["B"], ["C", "A"]])
    r = plurality(p)
    assert r.winners == ("A", "B", "C") and r.winner is None and r.elected == ()
    s = plurality(p, seed="2026")
    assert s.winner in s.winners and len(s.lots) == 1
    assert s.lots[0].tied == ("A", "B", "C") and s.lots[0].chosen == s.winner
    assert plurality(p, seed="2026") == s  # reproducible


def test_borda_by_hand() -> None:
    # Cycle profile, 3 candidates: 2, 1, 0 points.
    # A: 4*2 + 3*0 + 2*1 = 10; B: 4*1 + 3*2 + 2*0 = 10; C: 0 + 3*1 + 2*2 = 7.
    r = borda(cycle())
    assert totals(r) == [10, 10, 7]
    assert r.winners == ("A", "B") and r.winner is None
    # Truncated: "B" alone gives B 2 and the others 0.
    p = Profile.from_rankings(ABC, [["B"], ["A", "C"]])
    assert totals(borda(p)) == [2, 2, 1]


def test_irv_by_hand() -> None:
    # Round 1: A 4, B 2, C 3 of 9: no majority; B excluded.
    # Round 2: B's 2 papers go to C: A 4, C 5 of 9: C wins.
    p = Profile.from_rankings(ABC, [["A"]] * 4 + [["B", "C"]] * 2 + [["C", "B"]] * 3)
    r = instant_runoff(p)
    assert [totals(r, 1), totals(r, 2)] == [[4, 2, 3], [4, 0, 5]]
    assert r.rounds[0].excluded == ("B",) and r.rounds[1].elected == ("C",)
    assert r.winner == "C"


def test_irv_exhausted_ballots() -> None:
    # Round 1: A 3, B 2, C 2 of 7 -> B and C tied lowest, together 4 >= 3: lot needed.
    p = Profile.from_rankings(ABC, [["A"]] * 3 + [["B"]] * 2 + [["C", "B"]] * 2)
    with pytest.raises(LotNeededError):
        instant_runoff(p)
    r = instant_runoff(p, seed="s")
    assert r.lots and r.lots[0].purpose == "exclusion"
    # Whoever goes, the round after: excluding B exhausts its 2 papers (A 3, C 2 of 5: A wins);
    # excluding C moves 2 to B (A 3, B 4 of 7: B wins).
    second = r.rounds[1]
    if r.lots[0].chosen == "B":
        assert second.exhausted == 2 and r.winner == "A"
    else:
        assert second.exhausted == 0 and r.winner == "B"


def test_irv_bulk_exclusion_and_final_tie() -> None:
    # Round 1: A 3, B 3, C 0, D 0: C and D (together 0 < 3) go together; then A and B tie.
    p = Profile.from_rankings(["A", "B", "C", "D"], [["A"]] * 3 + [["B"]] * 3)
    r = instant_runoff(p)
    assert r.rounds[0].excluded == ("C", "D")
    assert r.winners == ("A", "B") and r.winner is None and not r.lots


def test_pairwise_matrix_counts_ranked_above_unranked() -> None:
    # "A" puts A over B and C; "B>C" puts B over C and both over the unranked A.
    p = Profile.from_rankings(ABC, [["A"], ["B", "C"]])
    assert pairwise_matrix(p) == ((0, 1, 1), (1, 0, 1), (1, 0, 0))


def test_condorcet_cycle_methods_differ() -> None:
    # Majorities B>C 7, A>B 6, C>A 5.
    p = cycle()
    # Ranked pairs locks B>C, then A>B; C>A would close a cycle. A wins.
    rp = ranked_pairs(p)
    assert rp.locked == (("B", "C"), ("A", "B")) and rp.winner == "A"
    # Schulze: A->B 6, A->C via B min(6, 7) = 6 vs C->A 5; B->A via C min(7, 5) = 5 < 6.
    s = schulze(p)
    assert s.strengths == ((0, 6, 6), (5, 0, 7), (5, 5, 0)) and s.winner == "A"
    # Copeland: every candidate wins once: a three-way tie.
    c = copeland(p)
    assert totals(c) == [1, 1, 1] and c.winners == ("A", "B", "C") and c.winner is None
    # Minimax (opposition): A 5 (C over A), B 6, C 7: A.
    assert totals(minimax(p)) == [5, 6, 7] and minimax(p).winner == "A"


def test_schulze_wikipedia_example() -> None:
    # Schulze (2011), section 3.1 / Wikipedia's 45-voter example; E wins.
    spec = [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]
    names = list("ABCDE")
    p = Profile.build(names, [(tuple(names.index(x) for x in r), w) for w, r in spec])
    r = schulze(p)
    assert r.pairwise == (
        (0, 20, 26, 30, 22),
        (25, 0, 16, 33, 18),
        (19, 29, 0, 17, 24),
        (15, 12, 28, 0, 14),
        (23, 27, 21, 31, 0),
    )
    assert r.strengths == (
        (0, 28, 28, 30, 24),
        (25, 0, 28, 33, 24),
        (25, 29, 0, 29, 24),
        (25, 28, 28, 0, 24),
        (25, 28, 28, 31, 0),
    )
    assert r.winner == "E"


def test_ranked_pairs_equal_majorities_are_tried_in_every_order() -> None:
    # A>B, B>C, C>A each 1-0 (three voters, one pair each): all equally strong; any order
    # locks two of them, so each candidate can win: a three-way tie.
    p = Profile.from_rankings(ABC, [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]])
    assert ranked_pairs(p).winners == ("A", "B", "C")
    assert schulze(p).winners == ("A", "B", "C")


def test_ranked_pairs_orders_by_lot_when_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    import voting.single

    monkeypatch.setattr(voting.single, "_RANKED_PAIRS_BUDGET", 0)
    p = Profile.from_rankings(ABC, [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]])
    with pytest.raises(LotNeededError):
        ranked_pairs(p)
    r = ranked_pairs(p, seed="1")
    assert r.lots[0].purpose == "order" and sorted(r.lots[0].tied) == ["A>B", "B>C", "C>A"]
    # The first two majorities of the drawn order are locked; the third closes a cycle.
    first, second, _ = r.lots[0].chosen.split()
    assert [f"{a}>{b}" for a, b in r.locked] == [first, second]
    assert r.winners == (r.winner,)


def test_minimax_measures() -> None:
    # 3 "A", 2 "B>C", 2 "C>B": d[A][B] = d[A][C] = 3, d[B][A] = d[C][A] = 4 (B and C are
    # ranked above the unranked A), d[B][C] = d[C][B] = 2.
    # Opposition: A max(4, 4) = 4, B max(3, 2) = 3, C 3. Margins: A 1, B max(-1, 0) = 0, C 0.
    # Winning votes: A 4 (beaten by B and C with 4), B and C are never beaten: 0.
    p = Profile.from_rankings(ABC, [["A"]] * 3 + [["B", "C"]] * 2 + [["C", "B"]] * 2)
    assert totals(minimax(p)) == [4, 3, 3]
    assert totals(minimax(p, measure="margins")) == [1, 0, 0]
    assert totals(minimax(p, measure="winning-votes")) == [4, 0, 0]
    assert minimax(p).winners == ("B", "C")


# -- properties ------------------------------------------------------------------------------


@st.composite
def profiles(draw: st.DrawFn, *, complete: bool = False, max_n: int = 4) -> Profile:
    n = draw(st.integers(1, max_n))
    names = [chr(ord("A") + i) for i in range(n)]
    ballots = []
    for _ in range(draw(st.integers(0, 7))):
        order = draw(st.permutations(range(n)))
        k = n if complete else draw(st.integers(1, n))
        ballots.append((tuple(order[:k]), draw(st.integers(1, 3))))
    return Profile.build(names, ballots)


def condorcet_winner(p: Profile) -> str | None:
    d = pairwise_matrix(p)
    n = len(p.candidates)
    for c in range(n):
        if all(d[c][x] > d[x][c] for x in range(n) if x != c):
            return p.candidates[c]
    return None


def run(method: Callable[..., SingleResult], p: Profile) -> tuple[str, ...] | None:
    try:
        return method(p).winners
    except LotNeededError:
        return None


@settings(max_examples=60, deadline=None)
@given(profiles(), st.randoms(use_true_random=False))
def test_invariant_to_ballot_and_candidate_order(p: Profile, rnd: random.Random) -> None:
    pairs = [(b.ranking, 1) for b in p.ballots for _ in range(b.weight)]
    rnd.shuffle(pairs)
    perm = list(range(len(p.candidates)))
    rnd.shuffle(perm)  # candidate i is listed at position perm[i]
    names = [""] * len(perm)
    for i, j in enumerate(perm):
        names[j] = p.candidates[i]
    q = Profile.build(names, [(tuple(perm[c] for c in r), w) for r, w in pairs])
    for name, method in SINGLE_WINNER_METHODS.items():
        a, b = run(method, p), run(method, q)
        if name == "irv" and (a is None or b is None):
            continue
        assert a is not None and b is not None
        assert sorted(a) == sorted(b), name


@settings(max_examples=60, deadline=None)
@given(profiles(complete=True))
def test_condorcet_winner_wins_complete(p: Profile) -> None:
    w = condorcet_winner(p)
    if w is None:
        return
    for method in (schulze, ranked_pairs, copeland, minimax):
        assert method(p).winners == (w,)


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_condorcet_winner_wins_truncated(p: Profile) -> None:
    w = condorcet_winner(p)
    if w is None:
        return
    for r in (
        schulze(p),
        ranked_pairs(p),
        copeland(p),
        minimax(p, measure="margins"),
        minimax(p, measure="winning-votes"),
    ):
        assert r.winners == (w,)


def ranked_pairs_reference(p: Profile) -> set[str]:
    """Winners of ranked pairs over every order of the majorities that keeps strength order."""
    d = pairwise_matrix(p)
    n = len(p.candidates)
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b and d[a][b] > d[b][a]]
    out: set[str] = set()
    for order in itertools.permutations(pairs):
        keys = [(-d[a][b], d[b][a]) for a, b in order]
        if keys != sorted(keys):
            continue
        locked: set[tuple[int, int]] = set()
        for a, b in order:
            reach, stack = {b}, [b]
            while stack:
                x = stack.pop()
                for u, v in locked:
                    if u == x and v not in reach:
                        reach.add(v)
                        stack.append(v)
            if a not in reach:
                locked.add((a, b))
        out.update(p.candidates[c] for c in range(n) if all(v != c for _, v in locked))
    return out


@settings(max_examples=40, deadline=None)
@given(profiles(max_n=4))
def test_ranked_pairs_matches_every_order(p: Profile) -> None:
    assert set(ranked_pairs(p).winners) == ranked_pairs_reference(p)


def irv_reference(p: Profile) -> set[str]:
    """Every candidate who wins some way of excluding one lowest candidate at a time."""
    out: set[str] = set()

    def go(continuing: frozenset[int]) -> None:
        votes = dict.fromkeys(continuing, 0)
        for b in p.ballots:
            for c in b.ranking:
                if c in continuing:
                    votes[c] += b.weight
                    break
        active = sum(votes.values())
        top = max(votes.values())
        if len(continuing) == 1 or 2 * top > active:
            out.update(p.candidates[c] for c in continuing if votes[c] == top)
            return
        low = min(votes.values())
        if len(continuing) == 2 and top == low:
            out.update(p.candidates[c] for c in continuing)
            return
        for c in continuing:
            if votes[c] == low:
                go(continuing - {c})

    go(frozenset(range(len(p.candidates))))
    return out


@settings(max_examples=100, deadline=None)
@given(profiles(max_n=5), st.text(max_size=3))
def test_irv_matches_slow_reference(p: Profile, seed: str) -> None:
    ref = irv_reference(p)
    r = instant_runoff(p, seed=seed)
    assert r.winner in ref
    if not any(lot.purpose == "exclusion" for lot in r.lots):
        assert set(r.winners) == ref
    # totals plus exhausted always add up to the valid poll
    for rnd in r.rounds:
        assert sum(rnd.totals) + rnd.exhausted == p.valid_poll


# -- command line ----------------------------------------------------------------------------

app = typer.Typer()


@app.callback()
def main() -> None:
    """Test app."""


app.command("count")(count_command)

CYCLE_BLT = '3 2\n4 1 2 3 0\n3 2 3 1 0\n2 3 1 2 0\n0\n"A"\n"B"\n"C"\n"Cycle"\n'


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["count", *args])


@pytest.fixture
def blt(tmp_path: Path) -> Path:
    path = tmp_path / "cycle.blt"
    path.write_text(CYCLE_BLT, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("method", "elected"),
    [
        ("plurality", ["A"]),
        ("irv", ["A"]),  # C (2) excluded, its papers go to A: 6 of 9
        ("schulze", ["A"]),
        ("ranked-pairs", ["A"]),
        ("minimax", ["A"]),
    ],
)
def test_cli_single_json(blt: Path, method: str, elected: list[str]) -> None:
    result = invoke(str(blt), "--method", method, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["elected"] == elected and doc["seats"] == 1
    first = doc["rounds"][0]
    assert set(first["totals"]) == {"A", "B", "C"}
    assert all(isinstance(v, str) for v in first["totals"].values())


def test_cli_irv_rounds(blt: Path) -> None:
    doc = json.loads(invoke(str(blt), "--method", "irv", "--format", "json").stdout)
    assert [r["totals"] for r in doc["rounds"]] == [
        {"A": "4", "B": "3", "C": "2"},
        {"A": "6", "B": "3", "C": "0"},
    ]
    assert doc["rounds"][0]["excluded"] == ["C"] and doc["rounds"][1]["elected"] == ["A"]


def test_cli_copeland_tie_and_seed(blt: Path) -> None:
    doc = json.loads(invoke(str(blt), "--method", "copeland", "--format", "json").stdout)
    assert doc["elected"] == [] and doc["tied"] == ["A", "B", "C"]
    seeded = invoke(str(blt), "--method", "copeland", "--seed", "7", "--format", "json")
    doc = json.loads(seeded.stdout)
    assert doc["elected"][0] in {"A", "B", "C"} and doc["lots"][0]["chosen"] == doc["elected"][0]
    table = invoke(str(blt), "--method", "copeland")
    assert table.exit_code == 0 and "tie between A, B, C" in table.stdout


def test_cli_stv(blt: Path) -> None:
    result = invoke(str(blt), "--method", "stv-scottish", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["seats"] == 2 and len(doc["elected"]) == 2
    assert doc["rounds"][0]["totals"] == {"A": "4.00000", "B": "3.00000", "C": "2.00000"}
    assert invoke(str(blt), "--seats", "1", "--format", "json").exit_code == 0
    table = invoke(str(blt))
    assert table.exit_code == 0 and "elected:" in table.stdout


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        (None, [], "no such file"),
        ("3 1\n1 1 x 0\n0\n", [], "line 2"),
        (CYCLE_BLT, ["--method", "nonsense"], "unknown method"),
        (CYCLE_BLT, ["--method", "av", "--seats", "2"], "counts approval ballots"),
        (CYCLE_BLT, ["--method", "borda", "--seats", "2"], "elects one"),
        (CYCLE_BLT, ["--seats", "0"], "at least 1"),
    ],
)
def test_cli_bad_input(tmp_path: Path, content: str | None, args: list[str], fragment: str) -> None:
    path = tmp_path / "in.blt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = invoke(str(path), *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in result.output


def test_cli_irv_lot_needed(tmp_path: Path) -> None:
    path = tmp_path / "tie.blt"
    path.write_text('3 1\n3 1 0\n2 2 0\n2 3 2 0\n0\n"A"\n"B"\n"C"\n', encoding="utf-8")
    result = invoke(str(path), "--method", "irv")
    assert result.exit_code == 2 and "lot" in result.stderr
    assert invoke(str(path), "--method", "irv", "--seed", "x").exit_code == 0


def test_decimal_text() -> None:
    assert decimal_text(Fraction(-5, 4)) == "-1.25"
    assert decimal_text(Fraction(2, 3)) == "2/3"
