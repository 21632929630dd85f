"""The role matrix: every endpoint × every role, with the status each role must get.

Roles: ``anonymous`` (no credentials), ``resident`` (holds a valid voting code of the round,
and sends it as a bearer token to organiser endpoints), ``organiser_b`` (logged in, but the
round belongs to organiser A) and ``organiser_a`` (the round's owner). Every endpoint of the
app must have a row: the endpoints are listed from the OpenAPI schema and the app's other
routes, so a new endpoint without a row fails :func:`test_every_endpoint_has_a_row`. The rows
of other routers may live in ``tests/service/roles_<name>.py`` (a list ``ROWS`` of rows that
start with ``(method, path, ...)``), run by their own test module; they count as rows here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import PASSWORD, PROJECTS, SECRET, Api
from conftest import BACKENDS, empty_database
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from service.app import create_app
from service.db import migrate
from service.settings import Settings

ROLES = (
    "anonymous",
    "resident",
    "organiser_b",
    "organiser_a",
)  # the owner last: it may change state
A, B, ANON, RES = "organiser_a", "organiser_b", "anonymous", "resident"
WRONG_CODE = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"


@dataclass
class Setup:
    """What a row's request may use: A's round, its codes, a voted code, and the role."""

    round_id: int
    codes: list[str]
    role: str
    headers: dict[str, str]


Call = Callable[[httpx.Client, Setup], httpx.Response]


@dataclass
class Row:
    state: str | None  # the state of organiser A's round to set up, or None for no round
    call: Call
    expected: dict[str, int]
    allow_changes: bool = False


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def organisers_only(status: int, other: int = 404) -> dict[str, int]:
    """Organiser A gets ``status``; B gets ``other`` (404: as if absent); others 401."""
    return {ANON: 401, RES: 401, B: other, A: status}


def own(status: int) -> dict[str, int]:
    """Endpoints of the logged-in organiser's own data (no round id)."""
    return {ANON: 401, RES: 401, B: status, A: status}


def voter_only(status: int) -> dict[str, int]:
    """Only the holder of a code may vote; anyone else sends a code that is not valid."""
    return {ANON: 403, RES: status, B: 403, A: 403}


def _code(setup: Setup) -> str:
    return setup.codes[1] if setup.role == RES else WRONG_CODE


def _r(setup: Setup, rest: str = "") -> str:
    return f"/api/rounds/{setup.round_id}{rest}"


def _p(setup: Setup, rest: str = "") -> str:
    return f"/api/public/rounds/{setup.round_id}{rest}"


ROUND = {"name": "x", "budget": 10, "vote_type": "approval", "rule": "greedy"}
CSV = {"file": ("p.csv", b"id,name,cost\nq,Q,5\n", "text/csv")}

MATRIX: dict[tuple[str, str], Row] = {
    ("POST", "/api/auth/login"): Row(
        None,
        lambda c, s: c.post("/api/auth/login", json={"name": "alice", "password": PASSWORD}),
        everyone(200),
    ),
    ("POST", "/api/auth/logout"): Row(
        None, lambda c, s: c.post("/api/auth/logout", headers=s.headers), own(204)
    ),
    ("GET", "/api/auth/me"): Row(
        None, lambda c, s: c.get("/api/auth/me", headers=s.headers), own(200)
    ),
    ("GET", "/api/audit"): Row(None, lambda c, s: c.get("/api/audit", headers=s.headers), own(200)),
    ("POST", "/api/rounds"): Row(
        None, lambda c, s: c.post("/api/rounds", json=ROUND, headers=s.headers), own(201)
    ),
    ("GET", "/api/rounds"): Row(
        None, lambda c, s: c.get("/api/rounds", headers=s.headers), own(200)
    ),
    ("GET", "/api/rounds/{round_id}"): Row(
        "draft", lambda c, s: c.get(_r(s), headers=s.headers), organisers_only(200)
    ),
    ("PATCH", "/api/rounds/{round_id}"): Row(
        "draft",
        lambda c, s: c.patch(_r(s), json={"name": "y"}, headers=s.headers),
        organisers_only(200),
    ),
    ("PUT", "/api/rounds/{round_id}/projects"): Row(
        "draft",
        lambda c, s: c.put(_r(s, "/projects"), json=PROJECTS, headers=s.headers),
        organisers_only(200),
    ),
    ("POST", "/api/rounds/{round_id}/projects.csv"): Row(
        "draft",
        lambda c, s: c.post(_r(s, "/projects.csv"), files=CSV, headers=s.headers),
        organisers_only(200),
    ),
    ("POST", "/api/rounds/{round_id}/open"): Row(
        "draft", lambda c, s: c.post(_r(s, "/open"), headers=s.headers), organisers_only(200)
    ),
    ("POST", "/api/rounds/{round_id}/close"): Row(
        "open", lambda c, s: c.post(_r(s, "/close"), headers=s.headers), organisers_only(200)
    ),
    ("POST", "/api/rounds/{round_id}/publish"): Row(
        "closed", lambda c, s: c.post(_r(s, "/publish"), headers=s.headers), organisers_only(200)
    ),
    ("POST", "/api/rounds/{round_id}/codes"): Row(
        "open",
        lambda c, s: c.post(_r(s, "/codes"), json={"count": 2}, headers=s.headers),
        organisers_only(201),
    ),
    ("GET", "/api/rounds/{round_id}/codes"): Row(
        "open", lambda c, s: c.get(_r(s, "/codes"), headers=s.headers), organisers_only(200)
    ),
    ("POST", "/api/rounds/{round_id}/codes/{serial}/reissue"): Row(
        "open",
        lambda c, s: c.post(_r(s, "/codes/3/reissue"), headers=s.headers),
        organisers_only(201),
    ),
    ("GET", "/api/rounds/{round_id}/results"): Row(
        "closed", lambda c, s: c.get(_r(s, "/results"), headers=s.headers), organisers_only(200)
    ),
    ("GET", "/api/rounds/{round_id}/ballots"): Row(
        "closed", lambda c, s: c.get(_r(s, "/ballots"), headers=s.headers), organisers_only(200)
    ),
    ("GET", "/api/rounds/{round_id}/export.pb"): Row(
        "closed", lambda c, s: c.get(_r(s, "/export.pb"), headers=s.headers), organisers_only(200)
    ),
    ("GET", "/api/public/rounds"): Row(
        "open", lambda c, s: c.get("/api/public/rounds", headers=s.headers), everyone(200)
    ),
    ("GET", "/api/public/rounds/{round_id}"): Row(
        "open", lambda c, s: c.get(_p(s), headers=s.headers), everyone(200)
    ),
    ("POST", "/api/public/rounds/{round_id}/ballots"): Row(
        "open",
        lambda c, s: c.post(
            _p(s, "/ballots"), json={"code": _code(s), "projects": ["a"]}, headers=s.headers
        ),
        voter_only(201),
    ),
    ("PUT", "/api/public/rounds/{round_id}/ballots"): Row(
        "open",
        lambda c, s: c.put(
            _p(s, "/ballots"),
            json={"code": s.codes[0] if s.role == RES else WRONG_CODE, "projects": ["b"]},
            headers=s.headers,
        ),
        voter_only(200),
        allow_changes=True,
    ),
    ("GET", "/api/public/rounds/{round_id}/results"): Row(
        "published", lambda c, s: c.get(_p(s, "/results"), headers=s.headers), everyone(200)
    ),
    ("GET", "/api/public/rounds/{round_id}/ballots"): Row(
        "published", lambda c, s: c.get(_p(s, "/ballots"), headers=s.headers), everyone(200)
    ),
    ("GET", "/api/public/rounds/{round_id}/export.pb"): Row(
        "published", lambda c, s: c.get(_p(s, "/export.pb"), headers=s.headers), everyone(200)
    ),
    ("GET", "/openapi.json"): Row(None, lambda c, s: c.get("/openapi.json"), everyone(200)),
    ("GET", "/docs"): Row(None, lambda c, s: c.get("/docs"), everyone(200)),
    ("GET", "/docs/oauth2-redirect"): Row(
        None, lambda c, s: c.get("/docs/oauth2-redirect"), everyone(200)
    ),
    ("GET", "/redoc"): Row(None, lambda c, s: c.get("/redoc"), everyone(200)),
}

#: Further rows: what must stay hidden in the other states of a round.
HIDDEN: list[tuple[str, Row]] = [
    (
        "public results before publication",
        Row("closed", lambda c, s: c.get(_p(s, "/results"), headers=s.headers), everyone(404)),
    ),
    (
        "public ballots before publication",
        Row("closed", lambda c, s: c.get(_p(s, "/ballots"), headers=s.headers), everyone(404)),
    ),
    (
        "public export before publication",
        Row("closed", lambda c, s: c.get(_p(s, "/export.pb"), headers=s.headers), everyone(404)),
    ),
    (
        "a draft round is not public",
        Row("draft", lambda c, s: c.get(_p(s), headers=s.headers), everyone(404)),
    ),
    (
        "no ballots in a draft round",
        Row(
            "draft",
            lambda c, s: c.post(
                _p(s, "/ballots"), json={"code": _code(s), "projects": ["a"]}, headers=s.headers
            ),
            everyone(404),
        ),
    ),
    (
        "organiser results while voting is open",
        Row(
            "open",
            lambda c, s: c.get(_r(s, "/results"), headers=s.headers),
            organisers_only(409),
        ),
    ),
]


def app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers: the OpenAPI operations and the other routes."""
    endpoints = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    endpoints |= _plain_routes(app.routes, "")
    return endpoints


def _plain_routes(routes: Sequence[object], prefix: str) -> set[tuple[str, str]]:
    """The (method, path) of every route, also inside included routers (FastAPI keeps
    ``include_router`` lazily as a wrapper holding the router and the prefix)."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods:
            found |= {(m, prefix + route.path) for m in route.methods if m != "HEAD"}
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found |= _plain_routes(inner.routes, prefix + getattr(context, "prefix", ""))
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """One app per backend for the whole matrix (every row sets up its own round)."""
    with empty_database(request.param, tmp_path_factory.mktemp("matrix")) as url:
        migrate(url)
        app = create_app(Settings(database_url=url, secret_key=SECRET))
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(client, app)
        app.state.db.dispose()


def other_rows() -> set[tuple[str, str]]:
    """The endpoints that the ``ROWS`` of the other routers' ``roles_<name>.py`` modules cover.

    Each row starts with ``(method, path, ...)``; the rows are run by that router's own test
    module (``test_api_<name>.py``), which knows how to set up its objects.
    """
    covered: set[tuple[str, str]] = set()
    for path in sorted(Path(__file__).parent.glob("roles_*.py")):
        module = importlib.import_module(path.stem)
        covered |= {(str(row[0]).upper(), str(row[1])) for row in module.ROWS}
    return covered


def test_every_endpoint_has_a_row(app: FastAPI) -> None:
    endpoints = app_endpoints(app)
    rows = set(MATRIX) | other_rows()
    missing = sorted(endpoints - rows)
    assert not missing, f"endpoints without a row in the role matrix: {missing}"
    assert not sorted(rows - endpoints), "rows for endpoints that do not exist"


def _run(api: Api, row: Row) -> dict[str, int]:
    alice, bob = api.organiser("alice"), api.organiser("bob")
    round_id, codes = 0, ["", ""]
    if row.state is not None:
        round_id, codes, _ = api.round(
            alice,
            status=row.state,
            codes=3,
            votes=[["a"]] if row.state != "draft" else None,
            allow_changes=row.allow_changes,
        )
    got: dict[str, int] = {}
    for role in ROLES:
        headers: dict[str, Any] = {
            ANON: {},
            RES: {"Authorization": f"Bearer {codes[1] or WRONG_CODE}"},
            A: api.login("alice")
            if row.call is MATRIX[("POST", "/api/auth/logout")].call
            else alice,
            B: api.login("bob") if row.call is MATRIX[("POST", "/api/auth/logout")].call else bob,
        }[role]
        setup = Setup(round_id, codes, role, headers)
        got[role] = row.call(api.client, setup).status_code
    return got


@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=lambda e: " ".join(e))
def test_role_matrix(matrix_api: Api, endpoint: tuple[str, str]) -> None:
    row = MATRIX[endpoint]
    assert _run(matrix_api, row) == row.expected


@pytest.mark.parametrize("name", [name for name, _ in HIDDEN])
def test_hidden_until_allowed(matrix_api: Api, name: str) -> None:
    row = dict(HIDDEN)[name]
    assert _run(matrix_api, row) == row.expected
