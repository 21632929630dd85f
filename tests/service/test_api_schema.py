"""Schemathesis against ``/openapi.json``: no 5xx and no response outside the schema.

The in-process app runs on a temporary SQLite database holding real objects (rounds, elections,
draws and a council, ids 1 to 3 or 4 each, one of them another organiser's), so generated path
ids often hit real objects and the endpoints answer beyond 404. Two passes over every operation
of the schema: anonymous (the public endpoints for real, the organiser ones up to their 401),
then as the owning organiser (a bearer token on every case). Every response must:

* not be a 5xx (``not_a_server_error``);
* have a status code, content type and body that the schema documents for the operation
  (``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``).

Bounded and deterministic: ``derandomize=True`` and at most ``MAX_EXAMPLES`` generated cases per
operation in the fuzzing phase (schemathesis's examples and coverage phases add their own,
finite sets of cases: boundary values, missing and wrongly typed fields).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from api_helpers import SECRET, Api
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks
from test_api_draws import committed, council
from test_api_elections import IRV_BLT

from service.app import create_app
from service.db import migrate
from service.settings import Settings

MAX_EXAMPLES = 20
#: Operations that must have answered some case with a 2xx (of the 66).
MIN_SUCCESSFUL_OPERATIONS = 40
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.negative_data_rejection,
]
#: Path ids the cases use half of the time: objects 1..3 are the owner's, 4 another organiser's.
REAL_IDS = st.integers(min_value=1, max_value=4)
#: Voting codes issued by the fixture (round 2 and election 2), used by half of the ballots.
CODES: list[str] = []
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class World:
    app: FastAPI
    client: TestClient
    api: Api
    owner: dict[str, str]
    calls: dict[tuple[str, str], Counter[int]]


def _elections(api: Api, headers: dict[str, str]) -> None:
    """Election 1 a draft taking codes, 2 open with codes (one used), 3 uploaded and published."""
    client = api.client
    for method in ("irv", "av"):
        body = {"title": "Buurtraad", "method": method, "source": "codes"}
        body["candidates"] = ["Ann", "Bob", "Cy"]  # type: ignore[assignment]
        if method == "av":
            body["seats"] = 2  # type: ignore[assignment]
        response = client.post("/api/elections", json=body, headers=headers)
        assert response.status_code == 201, response.text
    response = client.post("/api/elections/2/codes", json={"count": 40}, headers=headers)
    assert response.status_code == 201, response.text
    code, *unused = (item["code"] for item in response.json()["codes"])
    CODES.extend(unused)
    assert client.post("/api/elections/2/open", headers=headers).status_code == 200
    cast = client.post("/api/public/elections/2/ballots", json={"code": code, "approved": ["Ann"]})
    assert cast.status_code == 201, cast.text
    body = {"title": "Burgemeester", "method": "irv", "source": "upload", "seed": "s-1"}
    response = client.post("/api/elections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    upload = client.post(
        "/api/elections/3/ballots-file",
        files={"file": ("mayor.blt", IRV_BLT.encode(), "text/plain")},
        headers=headers,
    )
    assert upload.status_code == 200, upload.text
    assert client.post("/api/elections/3/close", headers=headers).status_code == 200
    assert client.post("/api/elections/3/publish", headers=headers).status_code == 200


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app on a fresh SQLite database with objects of two organisers."""
    directory: Path = tmp_path_factory.mktemp("schema")
    url = f"sqlite:///{directory}/test.db"
    migrate(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, app)
        anna, bert = api.organiser("anna"), api.organiser("bert")
        # rounds: 1 draft with projects, 2 open with codes and a vote, 3 published; 4 Bert's
        api.round(anna)
        CODES.clear()
        CODES.extend(api.round(anna, status="open", codes=40, votes=[["a"]])[1][1:])
        api.round(anna, status="published", codes=3, votes=[["a", "b"], ["c"]])
        api.round(bert, status="open", codes=1)
        _elections(api, anna)
        # draws: 1 committed and published, 2 committed; council 1 with its first draw
        draw = committed(api, anna)
        assert client.post(f"/api/draws/{draw}/publish", headers=anna).status_code == 200
        committed(api, anna)
        council(api, anna)
        yield World(app, client, api, anna, {})
    app.state.db.dispose()


def _raw_schema() -> dict[str, Any]:
    """The app's OpenAPI document (building it never opens the database)."""
    unused = Path(tempfile.gettempdir()) / "stadmaken-openapi-never-opened.db"
    app = create_app(Settings(database_url=f"sqlite:///{unused}", secret_key=SECRET))
    document: dict[str, Any] = app.openapi()
    app.state.db.dispose()
    return document


schema = schemathesis.openapi.from_dict(_raw_schema())


@schema.hook  # type: ignore[untyped-decorator]
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the cases get small ids, most of them of real objects."""
    ids = {k: REAL_IDS for k, v in (path_parameters or {}).items() if isinstance(v, int)}
    if not ids:
        return st.just(path_parameters)
    real = st.fixed_dictionaries(ids).map(lambda chosen: {**path_parameters, **chosen})
    return st.one_of(st.just(path_parameters), real)


#: Real choices for a ballot's fields (the projects of round 2, the candidates of election 2).
_CHOICES = {"projects": ("a", "b", "c"), "approved": ("Ann", "Bob", "Cy")}


@schema.hook  # type: ignore[untyped-decorator]
def flatmap_body(context: Any, body: Any) -> Any:
    """Two thirds of the ballots carry a real, unused voting code (of round 2 or election 2),
    with the generated choices or with real ones only."""
    if not (isinstance(body, dict) and "code" in body and CODES):
        return st.just(body)
    codes = st.fixed_dictionaries({"code": st.sampled_from(CODES)})
    variants = [st.just(body), codes.map(lambda chosen: {**body, **chosen})]
    for name, choices in _CHOICES.items():
        if name in body:  # a ballot of only real choices
            real = st.lists(st.sampled_from(choices), unique=True, max_size=2)
            variants.append(st.fixed_dictionaries({"code": st.sampled_from(CODES), name: real}))
    return st.one_of(variants)


def _count(world: World, label: str, case: Any, status: int) -> None:
    world.calls.setdefault((label, case.operation.label), Counter())[status] += 1


@schema.parametrize()
@SETTINGS
def test_anonymous(case: Any, world: World) -> None:
    response = case.call(app=world.app)
    _count(world, "anonymous", case, response.status_code)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_organiser(case: Any, world: World) -> None:
    headers = world.owner
    if case.operation.path == "/api/auth/logout":  # keep the shared token: log out another one
        headers = world.api.login("anna")
    response = case.call(app=world.app, headers=headers)
    _count(world, "organiser", case, response.status_code)
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_the_passes_reached_the_endpoints(world: World) -> None:
    """The passes above exercised the API beyond its refusals, and the roles held."""
    if not world.calls:
        pytest.skip("the schemathesis passes did not run")
    operations = {operation for _, operation in world.calls}
    assert len(operations) == len(list(schema.get_all_operations()))
    succeeded = {
        (label, operation)
        for (label, operation), statuses in world.calls.items()
        if any(200 <= status < 300 for status in statuses)
    }
    # most operations answered a real request with success, as the organiser or the public
    assert len({operation for _, operation in succeeded}) >= MIN_SUCCESSFUL_OPERATIONS, succeeded
    # anonymous cases never got past an organiser endpoint (login aside: no valid password)
    organiser_only = {
        operation
        for label, operation in succeeded
        if label == "anonymous" and " /api/public/" not in operation
    }
    assert not organiser_only
    assert ("organiser", "POST /api/rounds/{round_id}/codes") in succeeded
    assert ("organiser", "GET /api/draws/{draw_id}/panel") in succeeded
