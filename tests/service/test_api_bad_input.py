"""Bad input: every endpoint answers a malformed request with a 4xx and a clear JSON message,
never a 5xx. The endpoints are listed from the OpenAPI schema, so new ones are covered too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_helpers import Api
from fastapi.testclient import TestClient

BAD_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999", "2147483648", "%00"]

BAD_BODIES: list[tuple[str, bytes]] = [
    ("invalid JSON", b"{"),
    ("empty", b""),
    ("null", b"null"),
    ("a string", b'"x"'),
    ("a number", b"1e999"),
    ("a list", b"[1, 2]"),
    ("an empty object", b"{}"),
    ("unknown fields", b'{"unexpected": true}'),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000),
    ("NUL in a name", b'{"name": "a\\u0000b", "password": "x", "budget": 1}'),
    ("lone surrogate", b'{"name": "\\ud800", "password": "\\ud800", "code": "\\ud800"}'),
    ("not UTF-8", b'{"name": "\xff\xfe"}'),
]


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def _check(response: Any, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], (what, body)


def test_every_endpoint_refuses_malformed_requests(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, _, _ = api.round(alice, status="open", codes=2)
    checked = 0

    def fill(path: str) -> str:  # a real round; any other id is 1
        path = path.replace("{round_id}", str(round_id))
        return re.sub(r"{\w+}", "1", path)

    for method, path, operation in _operations(client):
        good = fill(path)
        for name in re.findall(r"{(\w+)}", path):
            for bad in BAD_IDS:
                url = fill(path.replace(f"{{{name}}}", bad))
                response = client.request(method, url, headers=alice, json={})
                _check(response, f"{method} {url}")
                checked += 1
        if "requestBody" not in operation:
            continue
        for what, body in BAD_BODIES:
            for content_type in ("application/json", "text/plain", "multipart/form-data"):
                headers = {**alice, "content-type": content_type}
                response = client.request(method, good, headers=headers, content=body)
                _check(response, f"{method} {good} with {what} as {content_type}")
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "body",
    [
        {"budget": "abc"},
        {"budget": -5},
        {"budget": 0},
        {"budget": "1e999999999"},
        {"budget": "1/0"},
        {"budget": "NaN"},
        {"budget": True},
        {"budget": [1]},
        {"budget": 10**30},
        {"vote_type": "choose-17"},
        {"rule": "x" * 41},
        {"name": ""},
        {"name": "x" * 201},
        {"currency": "<script>"},
        {"ballot_rules": {"min_length": -1}},
        {"ballot_rules": {"max_length": 10**9}},
        {"ballot_rules": {"min_length": 3, "max_length": 2}},
        {"ballot_rules": {"max_points": 5}},
        {"ballot_rules": {"nonsense": 1}},
        {"allow_changes": "maybe"},
    ],
)
def test_bad_round_settings(api: Api, client: TestClient, body: dict[str, Any]) -> None:
    alice = api.organiser("alice")
    base = {"name": "x", "budget": 100, "vote_type": "approval", "rule": "greedy"}
    response = client.post("/api/rounds", json={**base, **body}, headers=alice)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "projects",
    [
        [{"id": "a,b", "cost": 1}],
        [{"id": " a", "cost": 1}],
        [{"id": "a", "cost": 1}, {"id": "a", "cost": 2}],
        [{"id": "a", "cost": -1}],
        [{"id": "a", "cost": "1e400"}],
        [{"id": "a", "cost": 1, "categories": ["x,y"]}],
        [{"id": "a", "cost": 1, "categories": [""]}],
        [{"id": "", "cost": 1}],
        [{"id": "a"}],
        [{"id": "a", "cost": 1}] * 1001,
        {"id": "a", "cost": 1},
    ],
)
def test_bad_projects(api: Api, client: TestClient, projects: Any) -> None:
    alice = api.organiser("alice")
    round_id, _, _ = api.round(alice)
    response = client.put(f"/api/rounds/{round_id}/projects", json=projects, headers=alice)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "ballot",
    [
        {"projects": ["a"]},
        {"code": "", "projects": ["a"]},
        {"code": "x" * 101, "projects": ["a"]},
        {"code": "CODE", "projects": "a"},
        {"code": "CODE", "projects": [1]},
        {"code": "CODE", "projects": ["a"] * 1001},
        {"code": "CODE", "projects": ["a"], "points": ["x"]},
        {"code": "CODE", "projects": ["a"], "extra": 1},
        {"code": 12345, "projects": ["a"]},
    ],
)
def test_bad_ballots(api: Api, client: TestClient, ballot: dict[str, Any]) -> None:
    alice = api.organiser("alice")
    round_id, codes, _ = api.round(alice, status="open", codes=1)
    if ballot.get("code") == "CODE":
        ballot = {**ballot, "code": codes[0]}
    for method in ("POST", "PUT"):
        response = client.request(
            method, f"/api/public/rounds/{round_id}/ballots", json=ballot, headers={}
        )
        assert response.status_code == 422, response.text


def test_bad_code_requests(api: Api, client: TestClient) -> None:
    alice = api.organiser("alice")
    round_id, _, _ = api.round(alice)
    path = f"/api/rounds/{round_id}/codes"
    for body in ({"count": 0}, {"count": 10_001}, {"count": "many"}, {"count": 1.5}, {}):
        assert client.post(path, json=body, headers=alice).status_code == 422
    assert client.post(path + "?format=xml", json={"count": 1}, headers=alice).status_code == 422


def test_wrong_methods_and_paths(client: TestClient) -> None:
    _check(client.delete("/api/rounds"), "DELETE /api/rounds")
    _check(client.get("/api/nowhere"), "GET /api/nowhere")
    assert client.delete("/api/rounds").status_code == 405
