"""RCTab-compatible tabulation (voting.rctab) and CVR readers (voting.cvr) on hand-made data.

Every CVR and configuration is written by the tests themselves; the expected results are worked
out by hand in the comments.
"""

from __future__ import annotations

import csv
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting.ballots import MarkedProfile
from voting.cvr import load_contest
from voting.errors import InputError, LotNeededError
from voting.rctab import (
    EXPLICIT_OVERVOTE,
    UNDECLARED_WRITE_INS,
    JavaRandom,
    RctabConfig,
    tabulate,
)

CANDS = ["A", "B", "C", "D"]


def cfg(**rules: Any) -> RctabConfig:
    base: dict[str, Any] = {"tiebreakMode": "useCandidateOrder", "maxRankingsAllowed": "max"}
    base.update(rules)
    return RctabConfig.from_dict({"candidates": [{"name": c} for c in CANDS], "rules": base})


def prof(*ballots: tuple[list[list[str]], int], names: list[str] = CANDS) -> MarkedProfile:
    idx = {n: i for i, n in enumerate(names)}
    return MarkedProfile.build(names, [([[idx[c] for c in r] for r in m], w) for m, w in ballots])


def dec(x: str) -> Decimal:
    return Decimal(x)


# ---------------------------------------------------------------------------- overvotes
# A: 4, B: 3, C: 2 (+ the overvote ballot [B,C] then A).  D has nothing.
OVER = prof(
    ([["A"]], 4),
    ([["B"]], 3),
    ([["C"], ["B"]], 2),
    ([["B", "C"], ["A"]], 1),
)


def test_exhaust_immediately() -> None:
    # round 1: A4 B3 C2 D0, overvote 1 inactive; threshold floor(9/2)+1 = 5. D out.
    # round 2: same; C out -> B 5 = threshold 5 (8 active... 9 active: floor(9/2)+1=5) -> B wins
    r = tabulate(OVER, cfg(overvoteRule="exhaustImmediately"))
    first = r.rounds[0]
    assert first.inactive["overvotes"] == 1
    assert first.tally == {"A": 4, "B": 3, "C": 2, "D": 0}
    assert first.threshold == 5
    assert r.rounds[-1].tally == {"A": 4, "B": 5}
    assert r.winners == ("B",)


def test_always_skip_to_next_rank() -> None:
    # The overvote rank is passed over: the ballot counts for A. A 5 of 10 -> threshold 6.
    # D out, then C out (2 to B): A 5, B 5 -> two left, tie broken by candidate order: A.
    r = tabulate(OVER, cfg(overvoteRule="alwaysSkipToNextRank"))
    assert r.rounds[0].tally == {"A": 5, "B": 3, "C": 2, "D": 0}
    assert r.rounds[0].inactive["overvotes"] == 0
    assert r.rounds[-1].tally == {"A": 5, "B": 5}
    assert r.winners == ("A",)


def test_exhaust_if_multiple_continuing() -> None:
    # [B,C] with both continuing: inactive by overvote. Ballot [A, D] / [D]:
    p = prof(([["A"]], 4), ([["B"]], 3), ([["C"]], 2), ([["C", "D"], ["B"]], 1), ([["D"]], 1))
    r = tabulate(p, cfg(overvoteRule="exhaustIfMultipleContinuing"))
    # round 1: C and D both continuing -> overvote.
    assert r.rounds[0].inactive["overvotes"] == 1
    assert r.rounds[0].tally == {"A": 4, "B": 3, "C": 2, "D": 1}
    # D is eliminated; the overvote ballot is already inactive and stays so.
    assert r.rounds[1].inactive["overvotes"] == 1
    # With D eliminated first (and no second continuing mark), [C, D] counts for C:
    p2 = prof(([["A"]], 4), ([["B"]], 3), ([["C"]], 2), ([["D"]], 1), ([["D"], ["C", "D"]], 1))
    r2 = tabulate(p2, cfg(overvoteRule="exhaustIfMultipleContinuing"))
    assert r2.rounds[0].tally["D"] == 2
    # round 1: A4 B3 C2 D2 -> tie C/D broken by order (D latest) -> D out; D's 2 ballots:
    # [D] exhausts, [D],[C,D] -> only C continuing at rank 2 -> C.
    assert r2.rounds[1].tally == {"A": 4, "B": 3, "C": 3}
    assert r2.rounds[1].inactive["exhaustedChoices"] == 1


def test_explicit_overvote_label() -> None:
    names = [*CANDS, EXPLICIT_OVERVOTE]
    p = prof(([["A"]], 2), ([[EXPLICIT_OVERVOTE], ["B"]], 1), names=names)
    assert tabulate(p, cfg(overvoteRule="exhaustImmediately")).rounds[0].inactive["overvotes"] == 1
    skip = tabulate(p, cfg(overvoteRule="alwaysSkipToNextRank")).rounds[0]
    assert skip.tally["B"] == 1 and EXPLICIT_OVERVOTE not in skip.tally
    with pytest.raises(InputError) as err:
        tabulate(p, cfg(overvoteRule="exhaustIfMultipleContinuing"))
    assert err.value.params["key"] == "rules.overvoteRule"


# ---------------------------------------------------------------------------- skipped ranks
SKIP = prof(([["A"]], 4), ([["B"]], 3), ([["C"]], 1), ([[], ["C"]], 1), ([[], [], ["B"]], 1))


def test_max_skipped_ranks_zero() -> None:
    # 0 skips allowed: [_, C] and [_, _, B] are inactive by skipped ranking from round 1.
    r = tabulate(SKIP, cfg(maxSkippedRanksAllowed="0"))
    assert r.rounds[0].inactive["skippedRankings"] == 2
    assert r.rounds[0].tally == {"A": 4, "B": 3, "C": 1, "D": 0}


def test_max_skipped_ranks_one() -> None:
    # one skip allowed: [_, C] counts for C, [_, _, B] (two skips) is inactive.
    r = tabulate(SKIP, cfg(maxSkippedRanksAllowed="1"))
    assert r.rounds[0].inactive["skippedRankings"] == 1
    assert r.rounds[0].tally == {"A": 4, "B": 3, "C": 2, "D": 0}


def test_max_skipped_ranks_unlimited() -> None:
    r = tabulate(SKIP, cfg(maxSkippedRanksAllowed="unlimited"))
    assert r.rounds[0].inactive["skippedRankings"] == 0
    assert r.rounds[0].tally == {"A": 4, "B": 4, "C": 2, "D": 0}


# ---------------------------------------------------------------------------- duplicates
DUP = prof(([["A"]], 3), ([["B"]], 3), ([["C"], ["C"], ["B"]], 1), ([["D"], ["D"], ["A"]], 1))


def test_exhaust_on_duplicate() -> None:
    # round 1: A3 B3 C1 D1; tie C/D -> D out (latest). [D, D, A]: rank 2 repeats D -> inactive.
    r = tabulate(DUP, cfg(exhaustOnDuplicateCandidate=True))
    assert r.rounds[1].inactive["repeatedRankings"] == 1
    assert r.rounds[1].tally == {"A": 3, "B": 3, "C": 1}


def test_duplicate_skipped_over() -> None:
    # without the rule D's paper goes on to A.
    r = tabulate(DUP, cfg(exhaustOnDuplicateCandidate=False))
    assert r.rounds[1].inactive["repeatedRankings"] == 0
    assert r.rounds[1].tally == {"A": 4, "B": 3, "C": 1}
    # then C out -> B 4, A 4: two left, tie to A (earliest in order)
    assert r.winners == ("A",)


# ---------------------------------------------------------------------------- multi-winner
def test_multi_winner_fractional_surplus() -> None:
    # 2 seats, 9 ballots: threshold floor(9/3)+1 = 4. A has 6: surplus 2, fraction 2/6 ->
    # 0.3333 (rounded down), each A paper keeps 1 - 0.3333 and moves 0.3333.
    p = prof(([["A"], ["B"]], 6), ([["C"]], 2), ([["B"]], 1))
    r = tabulate(
        p, cfg(winnerElectionMode="multiWinnerAllowMultipleWinnersPerRound", numberOfWinners="2")
    )
    assert r.rounds[0].threshold == 4 and r.rounds[0].elected == ("A",)
    second = r.rounds[1]
    assert second.tally["B"] == dec("1") + 6 * dec("0.3333")
    assert second.tally["A"] == 4  # 6 * 0.6667 = 4.0002 -> residual 0.0002
    assert second.residual_surplus == dec("0.0002")
    assert r.winners[0] == "A" and len(r.winners) == 2


def test_hare_and_bottoms_up() -> None:
    p = prof(([["A"]], 5), ([["B"]], 3), ([["C"]], 2), ([["D"], ["C"]], 1))
    hare = tabulate(
        p,
        cfg(
            winnerElectionMode="multiWinnerAllowMultipleWinnersPerRound",
            numberOfWinners="2",
            hareQuota=True,
        ),
    )
    assert hare.rounds[0].threshold == 6  # ceil(11 / 2)
    bottoms = tabulate(p, cfg(winnerElectionMode="bottomsUp", numberOfWinners="2"))
    assert set(bottoms.winners) == {"A", "B"}
    assert bottoms.rounds[-1].tally == {"A": 5, "B": 3}


def test_multi_pass_irv() -> None:
    p = prof(([["A"], ["B"]], 5), ([["B"]], 3), ([["C"], ["B"]], 2))
    r = tabulate(p, cfg(winnerElectionMode="multiPassIrv", numberOfWinners="2"))
    assert r.winners == ("A", "B")
    assert len(r.passes) == 2
    assert "A" not in r.passes[1].rounds[0].tally


# ---------------------------------------------------------------------------- tie-breaks
def test_random_tiebreak_needs_seed_and_follows_java_random() -> None:
    p = prof(([["A"]], 1), ([["B"]], 1), ([["C"]], 1), ([["D"]], 1))
    with pytest.raises(LotNeededError):
        tabulate(p, cfg(tiebreakMode="random"))
    # java.util.Random(0).nextDouble() = 0.7309... -> index 2 of [A, B, C, D] is eliminated.
    r = tabulate(p, cfg(tiebreakMode="random", randomSeed="0"))
    assert r.rounds[0].eliminated == ("C",)


def test_java_random_matches_openjdk() -> None:
    # values printed by OpenJDK for new Random(12345)
    rnd = JavaRandom(12345)
    assert rnd.next_double() == 0.3618031071604718
    assert [rnd.next_int(10), rnd.next_int(7), rnd.next_int(16)] == [1, 6, 13]


# ---------------------------------------------------------------------------- configuration
def test_config_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        RctabConfig.from_dict({"rules": {"overvoteRule": "sometimes"}})
    assert err.value.params["key"] == "rules.overvoteRule"
    with pytest.raises(InputError) as err:
        RctabConfig.from_dict(
            {"rules": {"winnerElectionMode": "singleWinnerMajority", "unknownOption": 1}}
        )
    assert err.value.params["key"] == "rules.unknownOption"
    with pytest.raises(InputError) as err:
        RctabConfig.from_dict({"rules": {"maxSkippedRanksAllowed": "-1"}})
    assert err.value.params["key"] == "rules.maxSkippedRanksAllowed"
    bad = tmp_path / "c.json"
    bad.write_text('{"rules": {\n "x": }', encoding="utf-8")
    with pytest.raises(InputError) as err:
        RctabConfig.load(bad)
    assert err.value.file == str(bad) and err.value.line == 2


# ---------------------------------------------------------------------------- readers
def write_config(
    tmp_path: Path,
    source: dict[str, Any],
    rules: dict[str, Any] | None = None,
    candidates: list[dict[str, Any]] | None = None,
) -> Path:
    data = {
        "candidates": candidates or [{"name": c, "aliases": []} for c in CANDS],
        "cvrFileSources": [source],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "alwaysSkipToNextRank",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "maxRankingsAllowed": "4",
            "maxSkippedRanksAllowed": "unlimited",
            **(rules or {}),
        },
    }
    path = tmp_path / "contest_config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def marks(profile: MarkedProfile) -> dict[tuple[tuple[str, ...], ...], int]:
    n = profile.candidates
    return {tuple(tuple(n[i] for i in r) for r in b.marks): b.weight for b in profile.ballots}


def test_ess_reader(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Ballot", "Choice 1", "Choice 2", "Choice 3"])
    ws.append([1, "A ", "overvote", "B"])
    ws.append([2, "undervote", "C|D", None])
    ws.append([3, "UWI", "B", "B"])
    wb.save(tmp_path / "cvr.xlsx")
    config = write_config(
        tmp_path,
        {
            "provider": "ess",
            "filePath": "cvr.xlsx",
            "firstVoteColumnIndex": "2",
            "firstVoteRowIndex": "2",
            "overvoteLabel": "overvote",
            "skippedRankLabel": "undervote",
            "overvoteDelimiter": "|",
            "undeclaredWriteInLabel": "UWI",
        },
        {"maxRankingsAllowed": "3"},
    )
    profile, _ = load_contest(config)
    assert profile.candidates == (*CANDS, UNDECLARED_WRITE_INS, EXPLICIT_OVERVOTE)
    assert marks(profile) == {
        (("A",), (EXPLICIT_OVERVOTE,), ("B",)): 1,
        ((), ("C", "D")): 1,
        ((UNDECLARED_WRITE_INS,), ("B",), ("B",)): 1,
    }


def test_ess_unknown_candidate_names_row_and_column(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Ballot", "Choice 1", "Choice 2"])
    ws.append([1, "A", "B"])
    ws.append([2, "Zorro", "B"])
    wb.save(tmp_path / "cvr.xlsx")
    config = write_config(
        tmp_path,
        {
            "provider": "ess",
            "filePath": "cvr.xlsx",
            "firstVoteColumnIndex": "2",
            "firstVoteRowIndex": "2",
        },
    )
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.file is not None and err.value.file.endswith("cvr.xlsx")
    assert err.value.line == 3 and err.value.params["field"] == "column B"


def write_generic(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", *CANDS])
        for i, row in enumerate(rows):
            w.writerow([str(i), *row])


def generic_source() -> dict[str, Any]:
    return {
        "provider": "genericCsv",
        "filePath": "cvr.csv",
        "firstVoteColumnIndex": "2",
        "firstVoteRowIndex": "2",
    }


def test_generic_csv_reader_and_bad_rank(tmp_path: Path) -> None:
    write_generic(tmp_path / "cvr.csv", [["1", "2", "", ""], ["", "1", "1", "3"], ["", "", "", ""]])
    config = write_config(tmp_path, generic_source())
    profile, _ = load_contest(config)
    # the third row has an id and no rank: a ballot with no mark (an undervote)
    assert marks(profile) == {(("A",), ("B",)): 1, (("B", "C"), (), ("D",)): 1, (): 1}
    write_generic(tmp_path / "cvr.csv", [["1", "x", "", ""]])
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.line == 2 and "column 3" in err.value.params["field"]
    write_generic(tmp_path / "cvr.csv", [["1", "5", "", ""]])
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.code == "too-many-rankings" and err.value.line == 2


def test_clear_ballot_reader(tmp_path: Path) -> None:
    header = ["RowNumber", "BallotID"] + [
        f"Choice_{k}_1:Mayor:{r}:Vote For 1:{c}:NP"
        for k, (r, c) in enumerate(((r, c) for r in (1, 2) for c in CANDS), 1)
    ]
    with (tmp_path / "cb.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerow(["1", "b1", "0", "1", "0", "0", "1", "0", "0", "0"])  # B, A
        w.writerow(["2", "b2", "0", "0", "0", "0", "0", "0", "0", "0"])  # undervote
        w.writerow(["3", "b3", "0", "0", "2", "0", "0", "0", "0", "0"])  # bad mark
    config = write_config(
        tmp_path, {"provider": "clearBallot", "filePath": "cb.csv", "contestId": "Mayor"}
    )
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.line == 4
    lines = (tmp_path / "cb.csv").read_text(encoding="utf-8").splitlines()[:-1]
    (tmp_path / "cb.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    profile, _ = load_contest(config)
    assert marks(profile) == {(("B",), ("A",)): 1, (): 1}


def cdf_json(selections: list[list[tuple[str, int]]]) -> dict[str, Any]:
    return {
        "Election": [
            {
                "@id": "e",
                "Candidate": [{"@id": f"c-{c}", "Name": c} for c in CANDS],
                "Contest": [
                    {
                        "@id": "k",
                        "Name": "Mayor",
                        "ContestSelection": [
                            {"@id": f"s-{c}", "CandidateIds": [f"c-{c}"]} for c in CANDS
                        ],
                    }
                ],
            }
        ],
        "CVR": [
            {
                "CurrentSnapshotId": "x",
                "CVRSnapshot": [
                    {
                        "@id": "x",
                        "CVRContest": [
                            {
                                "ContestId": "k",
                                "CVRContestSelection": [
                                    {
                                        "ContestSelectionId": f"s-{c}",
                                        "SelectionPosition": [{"HasIndication": "yes", "Rank": r}],
                                    }
                                    for c, r in ballot
                                ],
                            }
                        ],
                    }
                ],
            }
            for ballot in selections
        ],
    }


def test_cdf_json_reader(tmp_path: Path) -> None:
    data = cdf_json([[("A", 1), ("B", 1), ("C", 2)], [("D", 2)]])
    (tmp_path / "cvr.json").write_text(json.dumps(data), encoding="utf-8")
    config = write_config(
        tmp_path, {"provider": "cdf", "filePath": "cvr.json", "contestId": "Mayor"}
    )
    profile, _ = load_contest(config)
    assert marks(profile) == {(("A", "B"), ("C",)): 1, ((), ("D",)): 1}
    (tmp_path / "cvr.json").write_text('{"CVR": [\n\n oops', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.line == 3 and err.value.file is not None


CDF_XML = """<?xml version="1.0"?>
<cdf:CastVoteRecordReport xmlns:cdf="NIST_V0_cast_vote_records.xsd">
 <cdf:CVR><cdf:CurrentSnapshotId>s1</cdf:CurrentSnapshotId>
  <cdf:CVRSnapshot ObjectId="s1"><cdf:CVRContest><cdf:ContestId>k</cdf:ContestId>
   <cdf:CVRContestSelection><cdf:ContestSelectionId>sC</cdf:ContestSelectionId>
    <cdf:SelectionPosition><cdf:HasIndication>yes</cdf:HasIndication><cdf:Rank>1</cdf:Rank>
    </cdf:SelectionPosition></cdf:CVRContestSelection>
   <cdf:CVRContestSelection><cdf:ContestSelectionId>sA</cdf:ContestSelectionId>
    <cdf:SelectionPosition><cdf:HasIndication>yes</cdf:HasIndication><cdf:Rank>2</cdf:Rank>
    </cdf:SelectionPosition></cdf:CVRContestSelection>
  </cdf:CVRContest></cdf:CVRSnapshot></cdf:CVR>
 <cdf:CVR><cdf:CurrentSnapshotId>s2</cdf:CurrentSnapshotId>
  <cdf:CVRSnapshot ObjectId="s2"><cdf:CVRContest><cdf:ContestId>other</cdf:ContestId>
  </cdf:CVRContest></cdf:CVRSnapshot></cdf:CVR>
 <cdf:Election ObjectId="e">
  <cdf:Candidate ObjectId="cA"><cdf:Name>A</cdf:Name></cdf:Candidate>
  <cdf:Candidate ObjectId="cC"><cdf:Name>C</cdf:Name></cdf:Candidate>
  <cdf:Contest ObjectId="k"><cdf:Name>Mayor</cdf:Name>
   <cdf:ContestSelection ObjectId="sA"><cdf:CandidateIds>cA</cdf:CandidateIds>
   </cdf:ContestSelection>
   <cdf:ContestSelection ObjectId="sC"><cdf:CandidateIds>cC</cdf:CandidateIds>
   </cdf:ContestSelection>
  </cdf:Contest></cdf:Election>
</cdf:CastVoteRecordReport>
"""


def test_cdf_xml_reader_and_unsafe_xml(tmp_path: Path) -> None:
    (tmp_path / "cvr.xml").write_text(CDF_XML, encoding="utf-8")
    config = write_config(
        tmp_path, {"provider": "cdf", "filePath": "cvr.xml", "contestId": "Mayor"}
    )
    profile, _ = load_contest(config)
    assert marks(profile) == {(("C",), ("A",)): 1}  # the second CVR is not in the contest
    (tmp_path / "cvr.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.code == "unsafe-xml"
    (tmp_path / "cvr.xml").write_text("<a>\n<b>\n</a>", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.code == "bad-xml" and err.value.line == 3


def test_dominion_reader(tmp_path: Path) -> None:
    folder = tmp_path / "dominion"
    folder.mkdir()

    def session(ms: list[tuple[int, int]], contest: int = 1) -> dict[str, Any]:
        return {
            "Original": {
                "Cards": [
                    {
                        "Contests": [
                            {
                                "Id": contest,
                                "Marks": [
                                    {"CandidateId": c, "Rank": r, "IsAmbiguous": False}
                                    for c, r in ms
                                ],
                            }
                        ]
                    }
                ]
            }
        }

    sessions = [
        session([(1, 1), (3, 2)]),
        session([(9, 1)]),
        session([(1, 1)], contest=2),
        session([]),
    ]
    (folder / "CvrExport.json").write_text(json.dumps({"Sessions": sessions}), encoding="utf-8")
    config = write_config(
        tmp_path,
        {
            "provider": "dominion",
            "filePath": "dominion",
            "contestId": "1",
            "undeclaredWriteInLabel": "9",
        },
        candidates=[{"name": c, "aliases": [str(i + 1)]} for i, c in enumerate(CANDS)],
    )
    profile, _ = load_contest(config)
    assert marks(profile) == {(("A",), ("C",)): 1, ((UNDECLARED_WRITE_INS,),): 1, (): 1}


def test_hart_reader(tmp_path: Path) -> None:
    folder = tmp_path / "hart"
    folder.mkdir()
    ns = 'xmlns="http://tempuri.org/CVRDesign.xsd"'

    def ballot(options: list[tuple[str, str]]) -> str:
        opts = "".join(f"<Option><Id>id-{c}</Id><Value>{v}</Value></Option>" for c, v in options)
        return (
            f'<?xml version="1.0"?><Cvr {ns}><Contests><Contest><Id>K</Id>'
            f"<Options>{opts}</Options></Contest></Contests></Cvr>"
        )

    (folder / "1.xml").write_text(ballot([("A", "10"), ("B", "01")]), encoding="utf-8")
    (folder / "2.xml").write_text(ballot([("C", "1"), ("D", "1")]), encoding="utf-8")
    (folder / "3.xml").write_text(f"<Cvr {ns}><Contests/></Cvr>", encoding="utf-8")
    config = write_config(
        tmp_path,
        {"provider": "hart", "filePath": "hart", "contestId": "K"},
        candidates=[{"name": c, "aliases": [f"id-{c}"]} for c in CANDS],
    )
    profile, _ = load_contest(config)
    assert marks(profile) == {(("A",), ("B",)): 1, (("C", "D"),): 1}
    (folder / "2.xml").write_text(ballot([("C", "1x")]), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_contest(config)
    assert err.value.file is not None and err.value.file.endswith("2.xml")


# ---------------------------------------------------------------------------- properties
rank_marks = st.lists(st.sampled_from([0, 1, 2, 3]), max_size=2)
ballots_st = st.lists(
    st.tuples(st.lists(rank_marks, min_size=0, max_size=4), st.integers(1, 3)),
    min_size=1,
    max_size=12,
)
rules_st = st.fixed_dictionaries(
    {
        "overvoteRule": st.sampled_from(
            ["alwaysSkipToNextRank", "exhaustImmediately", "exhaustIfMultipleContinuing"]
        ),
        "maxSkippedRanksAllowed": st.sampled_from(["0", "1", "unlimited"]),
        "exhaustOnDuplicateCandidate": st.booleans(),
        "batchElimination": st.booleans(),
        "continueUntilTwoCandidatesRemain": st.booleans(),
        "tiebreakMode": st.sampled_from(["useCandidateOrder", "previousRoundCountsThenRandom"]),
        "randomSeed": st.just("7"),
    }
)


@settings(max_examples=150, deadline=None)
@given(ballots=ballots_st, rules=rules_st)
def test_conservation_single_winner(
    ballots: list[tuple[list[list[int]], int]], rules: dict[str, Any]
) -> None:
    profile = MarkedProfile.build(CANDS, ballots)
    result = tabulate(profile, cfg(**rules))
    assert result.winners and len(result.winners) == 1
    for rnd in result.rounds:
        assert sum(rnd.tally.values()) + sum(rnd.inactive.values()) == profile.papers


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ballots=ballots_st, rules=rules_st, seed=st.integers(0, 1000))
def test_invariant_to_ballot_order(
    tmp_path: Path, ballots: list[tuple[list[list[int]], int]], rules: dict[str, Any], seed: int
) -> None:
    # Write the same papers to a generic CSV in two orders: same profile, same count.
    papers = [m for m, w in ballots for _ in range(w)]

    def rows(order: list[list[list[int]]]) -> list[list[str]]:
        out = []
        for m in order:
            cells = [""] * 4
            for r, rank in enumerate(m, 1):
                for c in rank:
                    cells[c] = cells[c] or str(r)  # a generic CSV holds one rank per candidate
            out.append(cells)
        return out

    results = []
    for k in range(2):
        order = list(papers)
        random.Random(seed + k).shuffle(order)
        write_generic(tmp_path / "cvr.csv", rows(order))
        profile, config = load_contest(write_config(tmp_path, generic_source(), rules))
        r = tabulate(profile, config)
        results.append((profile, r.winners, [(x.tally, x.inactive) for x in r.rounds]))
    assert results[0] == results[1]
