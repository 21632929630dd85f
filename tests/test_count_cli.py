"""``stadmaken count`` on every ballot format and method family, and its bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from service.count_cli import COUNT_METHODS, count_command

app = typer.Typer()


@app.callback()
def main() -> None:
    """Test app."""


app.command("count")(count_command)

SOI = """# FILE NAME: t.soi
# TITLE: Test
# DATA TYPE: soi
# NUMBER ALTERNATIVES: 3
# ALTERNATIVE NAME 1: A
# ALTERNATIVE NAME 2: B
# ALTERNATIVE NAME 3: C
# NUMBER VOTERS: 9
# NUMBER UNIQUE ORDERS: 3
4: 1,2
3: 2,3
2: 3,1
"""

# 6 voters approve A and B, 3 approve C: SAV ties all three
CAT_TIE = """# FILE NAME: t.cat
# TITLE: Approval
# DATA TYPE: cat
# NUMBER ALTERNATIVES: 3
# ALTERNATIVE NAME 1: A
# ALTERNATIVE NAME 2: B
# ALTERNATIVE NAME 3: C
# NUMBER VOTERS: 9
# NUMBER UNIQUE PREFERENCES: 2
# NUMBER CATEGORIES: 2
# CATEGORY NAME 1: yes
# CATEGORY NAME 2: no
6: {1,2},{3}
3: {3},{1,2}
"""
# 5 voters approve A and B, 1 approves A, 3 approve C: no ties for two seats
CAT = CAT_TIE.replace("PREFERENCES: 2", "PREFERENCES: 3").replace(
    "6: {1,2},{3}", "5: {1,2},{3}\n1: {1},{2,3}"
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["count", *args])


def counted(*args: str) -> dict[str, Any]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_preflib_ranked_methods(tmp_path: Path) -> None:
    soi = write(tmp_path / "t.soi", SOI)
    # A 4, B 3, C 2: C out, its papers go to A (6 of 9)
    assert counted(str(soi), "--method", "irv")["elected"] == ["A"]
    doc = counted(str(soi), "--method", "stv-meek", "--seats", "2")
    assert len(doc["elected"]) == 2 and doc["elected"][0] == "A"
    assert doc["arithmetic"] == "fixed" and doc["rounds"][0]["totals"]["A"] == "4.000000000"
    exact = counted(str(soi), "--method", "stv-meek", "--seats", "2", "--arithmetic", "exact")
    assert exact["arithmetic"] == "exact" and exact["elected"] == doc["elected"]
    assert all(isinstance(v, str) for v in doc["rounds"][0]["totals"].values())
    scottish = counted(str(soi), "--method", "stv-scottish", "--seats", "2")
    assert set(scottish["elected"]) == set(doc["elected"])


def test_toc_with_ties_refused_for_ranked_methods(tmp_path: Path) -> None:
    toc = write(tmp_path / "t.toi", SOI.replace("soi", "toi").replace("2: 3,1", "2: {1,3},2"))
    result = invoke(str(toc), "--method", "irv")
    assert result.exit_code == 2 and "strict rankings" in result.stderr


@pytest.mark.parametrize(
    ("method", "elected"),
    [
        ("av", {"A", "B"}),  # 6, 5, 3
        ("sav", {"A", "C"}),  # 3.5, 2.5, 3
        ("pav", {"A", "C"}),  # A+C 9, A+B 5 * 1.5 + 1 = 8.5, B+C 8
        ("cc", {"A", "C"}),  # covers all 9 voters
        ("seq-phragmen", {"A", "C"}),  # A (load 1/6), then C 1/3 < B 11/30
        ("mes", {"A", "C"}),  # A (rho 1/6), then Phragmén completion: C 1/9 < B 13/90
    ],
)
def test_cat_committee_rules(tmp_path: Path, method: str, elected: set[str]) -> None:
    cat = write(tmp_path / "t.cat", CAT)
    doc = counted(str(cat), "--method", method, "--seats", "2")
    assert set(doc["elected"]) == elected and not doc["lots"]
    assert doc["valid_poll"] == 9 and doc["rounds"]


def test_committee_tie_needs_seed(tmp_path: Path) -> None:
    cat = write(tmp_path / "t.cat", CAT_TIE)
    # SAV: every candidate scores 3 (6 voters x 1/2, 3 voters x 1): a tie for two seats
    result = invoke(str(cat), "--method", "sav", "--seats", "2")
    assert result.exit_code == 2 and "lot" in result.stderr
    doc = counted(str(cat), "--method", "sav", "--seats", "2", "--seed", "x")
    assert doc["lots"] and doc["rounds"][0]["totals"] == {"A": "3", "B": "3", "C": "3"}


def test_csv_layouts(tmp_path: Path) -> None:
    ranked = write(tmp_path / "r.csv", "rank1,rank2,weight\nA,B,4\nB,C,3\nC,A,2\n")
    assert counted(str(ranked), "--method", "schulze")["elected"] == ["A"]
    approval = write(tmp_path / "a.csv", "approved,weight\nA;B,6\nC,3\n")
    assert counted(str(approval), "--method", "approval", "--seed", "s")["elected"][0] in "AB"
    score = write(tmp_path / "s.csv", "A,B,C\n5,0,2\n0,4,1\n")
    doc = counted(str(score), "--method", "score", "--csv-layout", "score")
    assert doc["elected"] == ["A"] and doc["rounds"][0]["totals"] == {"A": "5", "B": "4", "C": "3"}


def test_rctab_config(tmp_path: Path) -> None:
    with (tmp_path / "cvr.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "A", "B", "C"])
        rows = [["1", "2", ""]] * 4 + [["", "1", "2"]] * 3 + [["2", "", "1"]] * 2
        for i, row in enumerate(rows):
            w.writerow([str(i), *row])
    config = {
        "candidates": [{"name": c, "aliases": []} for c in "ABC"],
        "cvrFileSources": [
            {
                "provider": "genericCsv",
                "filePath": "cvr.csv",
                "firstVoteColumnIndex": "2",
                "firstVoteRowIndex": "2",
            }
        ],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "alwaysSkipToNextRank",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "maxRankingsAllowed": "3",
            "maxSkippedRanksAllowed": "unlimited",
        },
    }
    path = write(tmp_path / "config.json", json.dumps(config))
    doc = counted(str(path), "--method", "stv-rctab", "--config", str(path))
    assert doc["elected"] == ["A"] and doc["seats"] == 1
    assert doc["rounds"][0]["totals"] == {"A": "4", "B": "3", "C": "2"}
    assert doc["rounds"][0]["excluded"] == ["C"]
    moved = {(t["from"], t["to"]): t["votes"] for t in doc["rounds"][1]["transfers"]}
    assert moved[("C", "A")] == "2" and doc["rounds"][1]["totals"]["A"] == "6"
    # the CVR as BALLOTS replaces the config's one source
    assert counted(str(tmp_path / "cvr.csv"), "--method", "stv-rctab", "--config", str(path))
    table = invoke(str(path), "--method", "stv-rctab", "--config", str(path))
    assert table.exit_code == 0 and "elected: A" in table.stdout


@pytest.mark.parametrize(
    ("name", "content", "args", "fragment"),
    [
        ("t.txt", "x", ["--method", "irv"], "unknown ballot file type"),
        ("t.soi", SOI.replace("4: 1,2", "4: 1,9"), ["--method", "irv"], "line 10"),
        ("t.cat", CAT, ["--method", "irv"], "counts ranked ballots"),
        ("t.soi", SOI, ["--method", "pav", "--seats", "2"], "counts approval ballots"),
        ("t.cat", CAT, ["--method", "pav"], "give --seats"),
        ("t.soi", SOI, ["--method", "score"], "score ballots"),
        ("t.soi", SOI, ["--method", "stv-rctab"], "--config"),
        ("t.soi", SOI, ["--method", "stv-meek", "--arithmetic", "float"], "--arithmetic"),
        ("t.soi", SOI, ["--method", "irv", "--config", "c.json"], "--config"),
        ("t.csv", "A,B\n1,2\n", ["--method", "score", "--csv-layout", "odd"], "--csv-layout"),
        ("t.csv", "rank1,rank2\nA,A\n", ["--method", "irv"], "line 2"),
        ("c.json", "{", ["--method", "stv-rctab", "--config", "c.json"], "c.json"),
    ],
)
def test_bad_input(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str,
    args: list[str],
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / name, content)
    result = invoke(name, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert "Traceback" not in result.output


def test_every_method_is_listed_in_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for method in COUNT_METHODS:
        assert method in result.stdout.replace("\n", " ").replace("│", "")
