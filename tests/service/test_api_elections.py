"""Elections through the API: uploaded files counted as ``stadmaken count`` counts them, ballots
cast with codes, exactly once, publication, and refusals of bad input and of other roles."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api
from roles_elections import HIDDEN, ROWS, run_row
from sqlmodel import select
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.models import AuditEntry

IRV_BLT = """4 1
3 1 2 3 0
2 2 1 0
2 3 2 0
1 4 3 0
0
"Ann"
"Bob"
"Cy"
"Dee"
"Mayor of Testdorp"
"""

STV_BLT = """5 2
4 1 2 0
3 2 1 3 0
2 3 4 0
2 4 3 0
1 5 1 0
1 5 4 0
0
"Ann"
"Bob"
"Cy"
"Dee"
"Eve"
"Council of Testdorp"
"""

APPROVAL_CSV = """approved,weight
Ann;Bob,3
Bob;Cy,2
Cy;Dee,2
Dee,1
Ann;Dee,1
"""


def _create(api: Api, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.client.post("/api/elections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _upload(api: Api, headers: dict[str, str], election_id: int, name: str, text: str) -> Any:
    return api.client.post(
        f"/api/elections/{election_id}/ballots-file",
        files={"file": (name, text.encode(), "text/plain")},
        headers=headers,
    )


def _cli_json(tmp_path: Path, name: str, text: str, *args: str) -> dict[str, Any]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["count", name, "--format", "json", *args])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize(
    ("name", "text", "method", "seats", "cli_args"),
    [
        ("mayor.blt", IRV_BLT, "irv", None, []),
        ("council.blt", STV_BLT, "stv-scottish", None, []),
        ("council.blt", STV_BLT, "stv-meek", None, []),
        ("committee.csv", APPROVAL_CSV, "pav", 2, ["--seats", "2", "--csv-layout", "approval"]),
        ("committee.csv", APPROVAL_CSV, "seq-phragmen", 2, ["--seats", "2"]),
    ],
)
def test_upload_counts_as_the_cli(
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    text: str,
    method: str,
    seats: int | None,
    cli_args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    alice = api.organiser("alice")
    body: dict[str, Any] = {"title": "t", "method": method, "source": "upload", "seed": "s-1"}
    if seats is not None:
        body["seats"] = seats
    election = _create(api, alice, **body)
    eid = election["id"]
    response = _upload(api, alice, eid, name, text)
    assert response.status_code == 200, response.text
    assert api.client.post(f"/api/elections/{eid}/close", headers=alice).status_code == 200
    counted = api.client.get(f"/api/elections/{eid}/results", headers=alice).json()
    expected = _cli_json(tmp_path, name, text, "--method", method, "--seed", "s-1", *cli_args)
    assert counted == expected
    assert counted["elected"]  # a real count
    # hidden from the public until published, then public with the file
    assert api.client.get(f"/api/public/elections/{eid}/results").status_code == 404
    assert api.client.post(f"/api/elections/{eid}/publish", headers=alice).status_code == 200
    assert api.client.get(f"/api/public/elections/{eid}/results").json() == expected
    ballots = api.client.get(f"/api/public/elections/{eid}/ballots").json()
    assert ballots["file"]["text"] == text
    assert ballots["file"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def _codes(api: Api, headers: dict[str, str], eid: int, count: int) -> list[str]:
    response = api.client.post(
        f"/api/elections/{eid}/codes", json={"count": count}, headers=headers
    )
    assert response.status_code == 201, response.text
    return [item["code"] for item in response.json()["codes"]]


def _cast(api: Api, eid: int, code: str, **choice: Any) -> Any:
    return api.client.post(f"/api/public/elections/{eid}/ballots", json={"code": code, **choice})


@pytest.mark.parametrize(
    ("method", "seats", "field", "votes"),
    [
        ("irv", None, "ranking", [["Ann", "Bob"], ["Bob"], ["Cy", "Bob"], ["Ann"], ["Bob", "Ann"]]),
        ("stv-scottish", 2, "ranking", [["Ann"], ["Ann", "Cy"], ["Bob"], ["Cy", "Bob"], ["Bob"]]),
        ("av", 2, "approved", [["Ann", "Bob"], ["Bob"], ["Cy", "Bob"], [], ["Ann", "Cy"]]),
    ],
)
def test_codes_cast_close_publish(
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    seats: int | None,
    field: str,
    votes: list[list[str]],
) -> None:
    alice = api.organiser("alice")
    body: dict[str, Any] = {
        "title": "Buurtraad",
        "method": method,
        "source": "codes",
        "candidates": ["Ann", "Bob", "Cy"],
    }
    if seats is not None:
        body["seats"] = seats
    eid = _create(api, alice, **body)["id"]
    codes = _codes(api, alice, eid, len(votes) + 1)
    # a draft election takes no ballots and is not public
    assert _cast(api, eid, codes[0], **{field: votes[0]}).status_code == 404
    assert api.client.get(f"/api/public/elections/{eid}").status_code == 404
    assert api.client.post(f"/api/elections/{eid}/open", headers=alice).status_code == 200
    assert api.client.get(f"/api/public/elections/{eid}").json()["candidates"] == [
        "Ann",
        "Bob",
        "Cy",
    ]
    receipts = []
    for code, vote in zip(codes, votes, strict=False):
        response = _cast(api, eid, code, **{field: vote})
        assert response.status_code == 201, response.text
        receipts.append(response.json()["receipt"])
    # exactly once: the same code again (formatted differently) is refused
    again = _cast(api, eid, codes[0].lower().replace("-", " "), **{field: votes[1]})
    assert again.status_code == 409
    assert again.json()["code"] == "already-voted"
    listed = api.client.get(f"/api/elections/{eid}/codes", headers=alice).json()
    assert listed["voted"] == len(votes)
    assert api.client.get(f"/api/elections/{eid}/results", headers=alice).status_code == 409
    closed = api.client.post(f"/api/elections/{eid}/close", headers=alice)
    assert closed.status_code == 200
    seed = closed.json()["seed"]
    assert seed
    # cast after the close
    late = _cast(api, eid, codes[-1], **{field: votes[0]})
    assert late.status_code == 409
    assert late.json()["code"] == "voting-closed"
    result = api.client.get(f"/api/elections/{eid}/results", headers=alice).json()
    assert api.client.get(f"/api/public/elections/{eid}/results").status_code == 404
    assert api.client.post(f"/api/elections/{eid}/publish", headers=alice).status_code == 200
    public = api.client.get(f"/api/public/elections/{eid}/results").json()
    assert public == result
    assert public["seed"] == seed
    assert public["valid_poll"] == sum(1 for v in votes if v or field == "approved")
    # the same ballots as a file, counted by the CLI, give the same count
    monkeypatch.chdir(tmp_path)
    if field == "ranking":
        width = max(len(v) for v in votes)
        lines = [",".join(f"rank{i + 1}" for i in range(width))]
        lines += [",".join(v + [""] * (width - len(v))) for v in votes]
        args = ["--csv-layout", "ranked"]
    else:
        lines = ["Ann,Bob,Cy"] + [
            ",".join("1" if c in v else "0" for c in ["Ann", "Bob", "Cy"]) for v in votes
        ]
        args = ["--csv-layout", "approval"]
    extra = ["--seats", str(seats)] if seats is not None else []
    cli = _cli_json(
        tmp_path,
        "cast.csv",
        "\n".join(lines) + "\n",
        "--method",
        method,
        "--seed",
        seed,
        *args,
        *extra,
    )
    for key in ("elected", "rounds", "lots", "tied", "valid_poll"):
        if key == "rounds" and cli["candidates"] != public["candidates"]:
            continue  # a ranked CSV names the candidates in order of first appearance
        assert public[key] == cli[key], key
    # the anonymised ballots: each receipt's hash beside its ballot, nothing else
    ballots = api.client.get(f"/api/public/elections/{eid}/ballots").json()
    published = {b["receipt_hash"]: b["choice"] for b in ballots["ballots"]}
    assert len(published) == len(votes)
    for receipt, vote in zip(receipts, votes, strict=True):
        shown = published[hashlib.sha256(receipt.encode()).hexdigest()]
        assert shown == (vote if field == "ranking" else sorted(vote))
    assert [b["receipt_hash"] for b in ballots["ballots"]] == sorted(published)


def test_score_ballots_and_private_results(api: Api) -> None:
    alice = api.organiser("alice")
    eid = _create(
        api,
        alice,
        title="Beste plein",
        method="score",
        source="codes",
        candidates=["Markt", "Plein"],
        max_score=5,
        results_public=False,
    )["id"]
    codes = _codes(api, alice, eid, 3)
    api.client.post(f"/api/elections/{eid}/open", headers=alice)
    assert _cast(api, eid, codes[0], scores={"Markt": 5, "Plein": 1}).status_code == 201
    assert _cast(api, eid, codes[1], scores={"Plein": 3}).status_code == 201
    bad = _cast(api, eid, codes[2], scores={"Plein": 6})
    assert bad.status_code == 422
    assert bad.json()["code"] == "bad-score"
    wrong = _cast(api, eid, codes[2], ranking=["Plein"])
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "wrong-ballot-kind"
    assert api.client.post(f"/api/elections/{eid}/close", headers=alice).status_code == 200
    assert api.client.post(f"/api/elections/{eid}/publish", headers=alice).status_code == 200
    result = api.client.get(f"/api/elections/{eid}/results", headers=alice).json()
    assert result["elected"] == ["Markt"]
    assert result["method"] == "score"
    # not public: the public sees nothing
    assert api.client.get(f"/api/public/elections/{eid}/results").status_code == 404
    assert api.client.get(f"/api/public/elections/{eid}/ballots").status_code == 404


def test_reissue_and_audit(api: Api) -> None:
    alice = api.organiser("alice")
    eid = _create(api, alice, title="t", method="irv", source="codes", candidates=["Ann", "Bob"])[
        "id"
    ]
    codes = _codes(api, alice, eid, 2)
    api.client.post(f"/api/elections/{eid}/open", headers=alice)
    assert _cast(api, eid, codes[0], ranking=["Ann"]).status_code == 201
    voted = api.client.post(f"/api/elections/{eid}/codes/1/reissue", headers=alice)
    assert voted.status_code == 409
    response = api.client.post(f"/api/elections/{eid}/codes/2/reissue", headers=alice)
    assert response.status_code == 201
    new = response.json()["codes"][0]
    assert new["serial"] == 3
    revoked = _cast(api, eid, codes[1], ranking=["Bob"])
    assert revoked.status_code == 403
    assert revoked.json()["code"] == "code-revoked"
    assert _cast(api, eid, new["code"], ranking=["Bob"]).status_code == 201
    with api.app.state.db.reading() as session:
        entries = session.exec(select(AuditEntry)).all()
    actions = [e.action for e in entries if json.loads(e.details).get("election_id") == eid]
    assert actions == [
        "election-created",
        "election-codes-issued",
        "election-opened",
        "election-code-reissued",
    ]
    for entry in entries:
        for code in (*codes, new["code"]):
            assert code not in entry.details


@pytest.mark.parametrize(
    ("name", "text", "method", "status", "needle"),
    [
        ("bad.blt", '3 1\n1 1 2 0\n1 1 x 0\n0\n"A"\n"B"\n"C"\n"t"\n', "irv", 422, "line 3"),
        ("unknown.blt", '2 1\n1 1 3 0\n0\n"A"\n"B"\n"t"\n', "irv", 422, "line 2"),
        ("bad.csv", "rank1,rank2\nA,B\nA,A\n", "irv", 422, "line 3"),
        ("approval.csv", APPROVAL_CSV, "irv", 422, "approval"),
        ("ranked.blt", IRV_BLT, "pav", 422, "ranked"),
        ("ballots.txt", "hello", "irv", 422, "unknown ballot file type"),
        ("bad.blt", "\xff", "irv", 422, "line 1"),
    ],
)
def test_bad_uploads(api: Api, name: str, text: str, method: str, status: int, needle: str) -> None:
    alice = api.organiser("alice")
    eid = _create(
        api, alice, title="t", method=method, source="upload", seats=2 if method == "pav" else None
    )["id"]
    response = _upload(api, alice, eid, name, text)
    assert response.status_code == status, response.text
    assert needle.lower() in response.json()["detail"].lower() or needle in str(response.json())
    # nothing was stored: closing still needs a file
    assert api.client.post(f"/api/elections/{eid}/close", headers=alice).status_code == 409


def test_upload_unknown_candidate_and_not_utf8(api: Api) -> None:
    alice = api.organiser("alice")
    eid = _create(
        api, alice, title="t", method="irv", source="upload", candidates=["Ann", "Bob", "Cy"]
    )["id"]
    response = _upload(api, alice, eid, "mayor.blt", IRV_BLT)  # also names Dee
    assert response.status_code == 422
    assert response.json()["code"] == "unknown-candidate"
    assert "Dee" in response.json()["detail"]
    response = api.client.post(
        f"/api/elections/{eid}/ballots-file",
        files={"file": ("x.blt", b"\xff\xfe\x00", "text/plain")},
        headers=alice,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not-utf8"
    response = api.client.post(
        f"/api/elections/{eid}/ballots-file",
        files={"file": ("x\x07.blt", b"2 1\n1 1 0\n\x00", "text/plain")},
        headers=alice,
    )
    assert response.status_code == 422
    assert response.json()["line"] == 3


def test_bad_casts_and_creation(api: Api) -> None:
    alice = api.organiser("alice")
    eid = _create(
        api,
        alice,
        title="t",
        method="stv-scottish",
        seats=1,
        source="codes",
        candidates=["Ann", "Bob"],
    )["id"]
    codes = _codes(api, alice, eid, 2)
    api.client.post(f"/api/elections/{eid}/open", headers=alice)
    unknown = _cast(api, eid, codes[0], ranking=["Ann", "Zed"])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown-candidate"
    assert _cast(api, eid, codes[0], ranking=["Ann", "Ann"]).status_code == 422
    assert _cast(api, eid, codes[0], approved=["Ann"]).json()["code"] == "wrong-ballot-kind"
    assert _cast(api, eid, codes[0], ranking=["Ann"], approved=["Ann"]).status_code == 422
    assert _cast(api, eid, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", ranking=["Ann"]).status_code == 403
    assert _cast(api, eid, "nonsense", ranking=["Ann"]).status_code == 403
    # the refused attempts did not use the code
    assert _cast(api, eid, codes[0], ranking=["Bob"]).status_code == 201
    # no upload into a codes election, no codes for an upload election
    assert _upload(api, alice, eid, "a.blt", IRV_BLT).status_code == 409
    up = _create(api, alice, title="t", method="irv", source="upload")["id"]
    assert (
        api.client.post(f"/api/elections/{up}/codes", json={"count": 1}, headers=alice).status_code
        == 409
    )
    assert api.client.post(f"/api/elections/{up}/open", headers=alice).status_code == 409
    for body in (
        {"title": "t", "method": "stv-rctab", "source": "upload"},
        {"title": "t", "method": "nope", "source": "upload"},
        {"title": "t", "method": "irv", "seats": 2, "source": "upload"},
        {"title": "t", "method": "pav", "source": "codes", "candidates": ["A", "B"]},
        {"title": "t", "method": "pav", "seats": 3, "source": "codes", "candidates": ["A", "B"]},
        {"title": "t", "method": "irv", "source": "codes"},
        {"title": "t", "method": "irv", "source": "codes", "candidates": ["A", "A"]},
        {"title": "t", "method": "irv", "source": "upload", "max_score": 3},
        {"title": "", "method": "irv", "source": "upload"},
    ):
        response = api.client.post("/api/elections", json=body, headers=alice)
        assert response.status_code == 422, (body, response.text)


@pytest.mark.parametrize("index", range(len(ROWS)), ids=lambda i: " ".join(ROWS[i][:2]))
def test_role_rows(api: Api, index: int) -> None:
    """The role-matrix rows of the election endpoints (tests/service/roles_elections.py)."""
    _, _, state, call, expected = ROWS[index]
    assert run_row(api, state, call) == expected


def test_every_election_endpoint_has_a_row(api: Api) -> None:
    endpoints = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
        if "/elections" in path
    }
    assert endpoints == {(row[0], row[1]) for row in ROWS}


@pytest.mark.parametrize("index", range(len(HIDDEN)), ids=lambda i: " ".join(HIDDEN[i][:3]))
def test_hidden_rows(api: Api, index: int) -> None:
    _, _, state, call, expected = HIDDEN[index]
    assert run_row(api, state, call) == expected
