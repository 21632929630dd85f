"""Neighbourhood-budget rounds through the API: the life of a round, codes, secrecy, receipts."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_helpers import Api
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select

from budgeting import parse_pb, to_election
from budgeting.election import TieBreak
from budgeting.rules import run_rule
from service import audit
from service.api_common import utcnow
from service.models import AuditEntry, LoginToken
from service.security import CODE_ALPHABET, CODE_LENGTH, hash_password, verify_password
from service.settings import Settings, normalise_database_url


def _db_rows(api: Api, table: str) -> list[dict[str, Any]]:
    with api.app.state.db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table}"))]


def test_life_of_a_round_results_hidden_until_published(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    votes = [["a"], ["a", "c"], ["b", "c"], ["c"]]
    round_id, _, receipts = api.round(alice, status="closed", codes=5, votes=votes)
    for path in ("results", "ballots", "export.pb"):
        assert client.get(f"/api/public/rounds/{round_id}/{path}").status_code == 404
    organiser_view = client.get(f"/api/rounds/{round_id}/results", headers=alice).json()
    assert organiser_view["voters"] == 4
    assert client.post(f"/api/rounds/{round_id}/publish", headers=alice).status_code == 200

    results = client.get(f"/api/public/rounds/{round_id}/results").json()
    assert results == organiser_view
    # greedy by votes: c (3 votes, 40) then a (2 votes, 60) fill the 100
    assert results["selected"] == ["c", "a"]
    assert {p["id"]: p["votes"] for p in results["projects"]} == {"a": "2", "b": "1", "c": "3"}
    assert all(p["en"] and p["nl"] for p in results["projects"])

    ballots = client.get(f"/api/public/rounds/{round_id}/ballots").json()["ballots"]
    hashes = [b["receipt_hash"] for b in ballots]
    assert hashes == sorted(hashes)
    mine = {hashlib.sha256(r.encode()).hexdigest(): v for r, v in zip(receipts, votes, strict=True)}
    assert {b["receipt_hash"]: b["projects"] for b in ballots} == mine

    response = client.get(f"/api/public/rounds/{round_id}/export.pb")
    assert response.status_code == 200
    instance, profile = parse_pb(response.text)
    assert len(profile.ballots) == 4 and instance.get("num_votes") == "4"
    election = to_election(instance, profile)
    outcome = run_rule(election, "greedy", TieBreak.default(election, results["tie_break"]["seed"]))
    assert [election.ids[j] for j in outcome.selected] == results["selected"]


def test_codes_are_random_shown_once_and_stored_only_as_keyed_hashes(
    api: Api, client: TestClient
) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(alice, codes=20)
    response = client.post(
        f"/api/rounds/{round_id}/codes?format=csv", json={"count": 3}, headers=alice
    )
    assert response.status_code == 201 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0] == "round_id,serial,code" and len(lines) == 4
    codes += [line.split(",")[2] for line in lines[1:]]
    assert len(set(codes)) == len(codes) == 23
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == CODE_LENGTH and set(raw) <= set(CODE_ALPHABET)
    assert CODE_LENGTH * 5 >= 112 and len(CODE_ALPHABET) == 32
    listed = client.get(f"/api/rounds/{round_id}/codes", headers=alice).json()
    assert listed["issued"] == 23 and "code" not in listed["codes"][0]
    stored = json.dumps(
        [_db_rows(api, t) for t in ("voting_code", "audit_log", "budget_round")], default=str
    )
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored


def test_ballot_secrecy_no_link_between_code_use_and_ballot(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    for allow_changes in (False, True):
        api.round(alice, status="open", codes=3, votes=[["a"], ["b"]], allow_changes=allow_changes)
    uses = _db_rows(api, "code_use")
    ballots = _db_rows(api, "ballot")
    assert set(uses[0]) == {"code_hash", "round_id", "used_on"}  # the day, no time, no ballot
    assert set(ballots[0]) == {"id", "round_id", "projects", "points", "receipt_hash", "locator"}
    use_values = {str(v) for row in uses for k, v in row.items() if k != "round_id"}
    ballot_values = {str(v) for row in ballots for k, v in row.items() if k != "round_id"}
    assert not use_values & ballot_values
    locators = [b["locator"] for b in ballots]
    assert locators.count(None) == 2  # the round without changes keeps no locator
    inspector = inspect(api.app.state.db.engine)
    assert inspector.get_foreign_keys("ballot") == [
        fk for fk in inspector.get_foreign_keys("ballot") if fk["referred_table"] == "budget_round"
    ]


def test_changing_a_ballot_until_the_close(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, codes, receipts = api.round(
        alice, status="open", codes=2, votes=[["a"]], allow_changes=True
    )
    path = f"/api/public/rounds/{round_id}/ballots"
    again = client.post(path, json={"code": codes[0], "projects": ["b"]})
    assert again.status_code == 409 and "PUT" in again.json()["detail"]
    changed = client.put(path, json={"code": codes[0], "projects": ["b", "c"]})
    assert changed.status_code == 200
    assert client.put(path, json={"code": codes[1], "projects": ["b"]}).status_code == 409
    assert client.post(f"/api/rounds/{round_id}/close", headers=alice).status_code == 200
    assert client.put(path, json={"code": codes[0], "projects": ["a"]}).status_code == 409
    assert client.post(f"/api/rounds/{round_id}/publish", headers=alice).status_code == 200
    ballots = client.get(f"/api/public/rounds/{round_id}/ballots").json()["ballots"]
    assert [(b["receipt_hash"], b["projects"]) for b in ballots] == [
        (changed.json()["receipt_hash"], ["b", "c"])
    ]
    assert hashlib.sha256(receipts[0].encode()).hexdigest() != ballots[0]["receipt_hash"]


def test_no_changes_when_the_round_does_not_allow_them(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(alice, status="open", codes=1, votes=[["a"]])
    path = f"/api/public/rounds/{round_id}/ballots"
    response = client.put(path, json={"code": codes[0], "projects": ["b"]})
    assert response.status_code == 409 and response.json()["code"] == "changes-not-allowed"
    assert client.post(path, json={"code": codes[0], "projects": ["b"]}).status_code == 409


def test_reissue_revokes_the_old_code_and_is_logged(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(alice, status="open", codes=2, votes=[["a"]])
    voted = client.post(f"/api/rounds/{round_id}/codes/1/reissue", headers=alice)
    assert voted.status_code == 409 and voted.json()["code"] == "already-voted"
    response = client.post(f"/api/rounds/{round_id}/codes/2/reissue", headers=alice)
    assert response.status_code == 201
    new = response.json()["codes"][0]
    assert new["serial"] == 3
    path = f"/api/public/rounds/{round_id}/ballots"
    old = client.post(path, json={"code": codes[1], "projects": ["a"]})
    assert old.status_code == 403 and old.json()["code"] == "code-revoked"
    assert client.post(path, json={"code": new["code"], "projects": ["a"]}).status_code == 201
    again = client.post(f"/api/rounds/{round_id}/codes/2/reissue", headers=alice)
    assert again.status_code == 409
    assert client.post(f"/api/rounds/{round_id}/codes/99/reissue", headers=alice).status_code == 404
    entries = client.get("/api/audit", headers=alice).json()
    reissues = [e for e in entries if e["action"] == "code-reissued"]
    assert [e["details"] for e in reissues] == [{"old_serial": 2, "new_serial": 3}]
    listed = client.get(f"/api/rounds/{round_id}/codes", headers=alice).json()
    assert (listed["active"], listed["revoked"], listed["voted"]) == (2, 1, 2)


def test_ballot_rules_and_projects_frozen_once_open(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, _, _ = api.round(alice, status="open")
    changes = [
        client.patch(f"/api/rounds/{round_id}", json={"ballot_rules": {}}, headers=alice),
        client.put(f"/api/rounds/{round_id}/projects", json=[], headers=alice),
        client.post(
            f"/api/rounds/{round_id}/projects.csv",
            files={"file": ("p.csv", b"id,cost\nx,1\n")},
            headers=alice,
        ),
        client.post(f"/api/rounds/{round_id}/open", headers=alice),
    ]
    assert [r.status_code for r in changes] == [409] * 4
    assert client.get(f"/api/rounds/{round_id}", headers=alice).json()["ballot_rules"] == {
        "max_length": 2
    }


def test_invalid_ballots_are_explained(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(
        alice, status="open", codes=2, vote_type="knapsack", ballot_rules={}
    )
    path = f"/api/public/rounds/{round_id}/ballots"
    response = client.post(path, json={"code": codes[0], "projects": ["a", "b", "zz"]})
    assert response.status_code == 422
    problems = [p["code"] for p in response.json()["problems"]]
    assert problems == ["unknown-project", "cost-too-high"]
    assert all(p["nl"] for p in response.json()["problems"])
    points = client.post(path, json={"code": codes[0], "projects": ["a"], "points": [1]})
    assert points.status_code == 422
    # the code was not used up by the invalid attempts
    assert client.post(path, json={"code": codes[0], "projects": ["a"]}).status_code == 201


def test_cumulative_round(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    rules = {"max_sum_points": "10"}
    missing = client.post(
        "/api/rounds",
        json={"name": "x", "budget": 100, "vote_type": "cumulative", "rule": "greedy"},
        headers=alice,
    )
    assert missing.status_code == 422
    round_id, codes, _ = api.round(
        alice, status="open", codes=2, vote_type="cumulative", ballot_rules=rules
    )
    path = f"/api/public/rounds/{round_id}/ballots"
    too_many = client.post(path, json={"code": codes[0], "projects": ["a", "b"], "points": [8, 5]})
    assert too_many.status_code == 422
    ok = client.post(path, json={"code": codes[0], "projects": ["a", "b"], "points": [7, "3"]})
    assert ok.status_code == 201
    assert client.post(f"/api/rounds/{round_id}/close", headers=alice).status_code == 200
    results = client.get(f"/api/rounds/{round_id}/results", headers=alice).json()
    assert {p["id"]: p["votes"] for p in results["projects"]} == {"a": "7", "b": "3", "c": "0"}


def test_rule_must_fit_the_vote_type(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    body = {"name": "x", "budget": 100, "vote_type": "ordinal", "rule": "phragmen"}
    response = client.post("/api/rounds", json=body, headers=alice)
    assert response.status_code == 422 and response.json()["code"] == "wrong-vote-type"
    body["rule"] = "no-such-rule"
    assert client.post("/api/rounds", json=body, headers=alice).status_code == 422


def test_projects_csv_upload(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, _, _ = api.round(alice)
    data = (
        "\ufeffproject_id;name;cost;category\r\np1;Bankje;1250,5;\r\n"
        'p2;"Park; groot";99,5;groen|spel\r\n'
    )
    response = client.post(
        f"/api/rounds/{round_id}/projects.csv",
        files={"file": ("p.csv", data.encode("utf-8"), "text/csv")},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert response.json()["projects"] == [
        {"id": "p1", "name": "Bankje", "cost": "1250.5", "categories": []},
        {"id": "p2", "name": "Park; groot", "cost": "99.5", "categories": ["groen", "spel"]},
    ]
    bad = [
        b"",
        b"name,cost\nx,1\n",
        b"id,cost\nx,abc\n",
        b"id,cost\nx,1,2\n",
        b"id,cost\nx,1\nx,2\n",
        b"id,cost\nx,-1\n",
        b"\xff\xfe\x00",
        b'id,cost\n"x,1\n',
    ]
    for body in bad:
        response = client.post(
            f"/api/rounds/{round_id}/projects.csv", files={"file": ("p.csv", body)}, headers=alice
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"]


def test_failed_code_attempts_are_rate_limited(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(alice, status="open", codes=1)
    path = f"/api/public/rounds/{round_id}/ballots"
    limit = api.app.state.settings.code_attempts
    wrong = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
    for _ in range(limit):
        assert client.post(path, json={"code": wrong, "projects": ["a"]}).status_code == 403
    blocked = client.post(path, json={"code": codes[0], "projects": ["a"]})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    other_round, other_codes, _ = api.round(alice, status="open", codes=1)
    other = client.post(
        f"/api/public/rounds/{other_round}/ballots",
        json={"code": other_codes[0], "projects": ["a"]},
    )
    assert other.status_code == 201  # per client *and round*


def test_organisers_see_only_their_own_rounds(api: Api, client: TestClient) -> None:
    alice, bob = api.organiser("alice"), api.organiser("bob")
    mine, _, _ = api.round(alice)
    theirs, _, _ = api.round(bob)
    assert [r["id"] for r in client.get("/api/rounds", headers=alice).json()] == [mine]
    assert [r["id"] for r in client.get("/api/rounds", headers=bob).json()] == [theirs]
    assert client.get(f"/api/rounds/{theirs}", headers=alice).json()["detail"] == "no such round"
    assert client.get("/api/rounds/999999", headers=alice).json()["detail"] == "no such round"


def test_login_logout_and_expiry(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    wrong = client.post("/api/auth/login", json={"name": "alice", "password": "nope"})
    nobody = client.post("/api/auth/login", json={"name": "nobody", "password": "nope"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"]
    assert client.get("/api/auth/me", headers=alice).json()["name"] == "alice"
    with api.app.state.db.writing() as session:
        for token in session.exec(select(LoginToken)).all():
            token.expires_at = utcnow() - timedelta(seconds=1)
            session.add(token)
        session.commit()
    assert client.get("/api/auth/me", headers=alice).status_code == 401
    fresh = api.login("alice")
    assert client.post("/api/auth/logout", headers=fresh).status_code == 204
    assert client.get("/api/auth/me", headers=fresh).status_code == 401


def test_audit_log_is_chained_and_append_only(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    api.round(alice, status="published", codes=2, votes=[["a"]])
    with api.app.state.db.reading() as session:
        entries = list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)))  # type: ignore[arg-type]
    assert len(entries) >= 7
    assert audit.verify_chain(entries) is None
    text_of_log = json.dumps([e.model_dump(mode="json") for e in entries])
    assert "receipt" not in text_of_log and "password" not in text_of_log
    tampered = [e.model_copy() for e in entries]
    tampered[3].details = json.dumps({"count": 999})
    assert audit.verify_chain(tampered) == tampered[3].seq
    assert audit.verify_chain(entries[:2] + entries[3:]) == entries[3].seq
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), api.app.state.db.write_engine.begin() as connection:
            connection.execute(text(statement))
    own = client.get("/api/audit", headers=alice).json()
    assert [e["hash"] for e in own] == [e.hash for e in entries if e.organiser_id is not None][
        : len(own)
    ]


def test_migrations_match_the_models(api: Api) -> None:
    with api.app.state.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (
        client.get("/api/public/rounds"),
        client.get("/api/nothing-here"),
        client.post("/api/auth/login", content=b"x" * (3 * 1024 * 1024)),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert client.get("/docs").status_code == 200


def test_body_limit_also_for_streamed_bodies(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 100_000

    response = client.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["code"] == "too-large"


def test_passwords_use_scrypt_with_salt() -> None:
    first, second = hash_password("geheim wachtwoord"), hash_password("geheim wachtwoord")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("geheim wachtwoord", first)
    assert not verify_password("geheim wachtwoorD", first)
    assert not verify_password("x", "garbage")


def test_settings_from_env(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    first = Settings.from_env({"DATABASE_URL": url})
    secret_file = tmp_path / "x.db.secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings.from_env({"DATABASE_URL": url}).secret_key == first.secret_key
    given = Settings.from_env({"DATABASE_URL": url, "STADMAKEN_SECRET_KEY": "k" * 40})
    assert given.secret_key == b"k" * 40 and given.derived_key("a") != given.derived_key("b")
    with pytest.raises(ValueError):
        Settings.from_env({"DATABASE_URL": url, "STADMAKEN_SECRET_KEY": "short"})
    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    with pytest.raises(ValueError, match="STADMAKEN_SECRET_KEY"):
        Settings.from_env({"DATABASE_URL": "postgresql://u@h/d"})
    pg_file = tmp_path / "pg.secret"
    pg = Settings.from_env(
        {"DATABASE_URL": "postgresql://u@h/d", "STADMAKEN_SECRET_FILE": str(pg_file)}
    )
    assert pg.secret_key == pg_file.read_bytes().strip()


def test_organiser_add_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("STADMAKEN_SECRET_KEY", raising=False)
    runner = CliRunner()
    added = runner.invoke(app, ["organiser", "add", "alice"], input="a long password\n")
    assert added.exit_code == 0, added.output
    assert (tmp_path / "stadmaken.db").exists() and (tmp_path / "stadmaken.db.secret").exists()
    again = runner.invoke(app, ["organiser", "add", "alice"], input="a long password\n")
    assert again.exit_code == 2 and "already" in again.output
    short = runner.invoke(app, ["organiser", "add", "bob"], input="short\n")
    assert short.exit_code == 2 and "at least" in short.output
