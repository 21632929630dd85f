"""Role-matrix rows of the election endpoints (service/api_elections.py).

``ROWS`` is a list of ``(method, path, state, call, expected)``:

* ``state``: the state of organiser A's election to set up first: ``None`` (no election),
  ``"draft"``, ``"open"``, ``"closed"``, ``"published"`` (an IRV election with codes, 3 codes,
  the first of which has voted while open), or ``"upload"`` (an upload election in draft);
* ``call(client, setup)`` makes the request; ``setup`` has ``election_id``, ``codes``,
  ``role`` and ``headers`` (the role's headers, as in tests/service/test_api_roles.py);
* ``expected``: the status per role, with the roles of test_api_roles.py (``anonymous``,
  ``resident`` (holds code 2 of the election and sends it as a bearer token), ``organiser_b``
  (logged in, not the owner: 404 as if absent) and ``organiser_a`` (the owner, last)).

:func:`run_row` runs one row with the helpers of api_helpers.py; tests/service/
test_api_elections.py runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from api_helpers import Api

ROLES = ("anonymous", "resident", "organiser_b", "organiser_a")
A, B, ANON, RES = "organiser_a", "organiser_b", "anonymous", "resident"
WRONG_CODE = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
BLT = b'2 1\n2 1 2 0\n1 2 0\n0\n"Ann"\n"Bob"\n"t"\n'


@dataclass
class Setup:
    election_id: int
    codes: list[str]
    role: str
    headers: dict[str, str]


Call = Callable[[httpx.Client, Setup], httpx.Response]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def organisers_only(status: int, other: int = 404) -> dict[str, int]:
    return {ANON: 401, RES: 401, B: other, A: status}


def own(status: int) -> dict[str, int]:
    return {ANON: 401, RES: 401, B: status, A: status}


def voter_only(status: int) -> dict[str, int]:
    return {ANON: 403, RES: status, B: 403, A: 403}


def _e(s: Setup, rest: str = "") -> str:
    return f"/api/elections/{s.election_id}{rest}"


def _p(s: Setup, rest: str = "") -> str:
    return f"/api/public/elections/{s.election_id}{rest}"


def _code(s: Setup) -> str:
    return s.codes[1] if s.role == RES else WRONG_CODE


CREATE = {"title": "x", "method": "irv", "source": "codes", "candidates": ["Ann", "Bob"]}

ROWS: list[tuple[str, str, str | None, Call, dict[str, int]]] = [
    (
        "POST",
        "/api/elections",
        None,
        lambda c, s: c.post("/api/elections", json=CREATE, headers=s.headers),
        own(201),
    ),
    (
        "GET",
        "/api/elections",
        None,
        lambda c, s: c.get("/api/elections", headers=s.headers),
        own(200),
    ),
    (
        "GET",
        "/api/elections/{election_id}",
        "draft",
        lambda c, s: c.get(_e(s), headers=s.headers),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/ballots-file",
        "upload",
        lambda c, s: c.post(
            _e(s, "/ballots-file"), files={"file": ("b.blt", BLT, "text/plain")}, headers=s.headers
        ),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/open",
        "draft",
        lambda c, s: c.post(_e(s, "/open"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/close",
        "open",
        lambda c, s: c.post(_e(s, "/close"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/publish",
        "closed",
        lambda c, s: c.post(_e(s, "/publish"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "GET",
        "/api/elections/{election_id}/results",
        "closed",
        lambda c, s: c.get(_e(s, "/results"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "GET",
        "/api/elections/{election_id}/ballots",
        "closed",
        lambda c, s: c.get(_e(s, "/ballots"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/codes",
        "open",
        lambda c, s: c.post(_e(s, "/codes"), json={"count": 2}, headers=s.headers),
        organisers_only(201),
    ),
    (
        "GET",
        "/api/elections/{election_id}/codes",
        "open",
        lambda c, s: c.get(_e(s, "/codes"), headers=s.headers),
        organisers_only(200),
    ),
    (
        "POST",
        "/api/elections/{election_id}/codes/{serial}/reissue",
        "open",
        lambda c, s: c.post(_e(s, "/codes/3/reissue"), headers=s.headers),
        organisers_only(201),
    ),
    (
        "GET",
        "/api/public/elections",
        "open",
        lambda c, s: c.get("/api/public/elections", headers=s.headers),
        everyone(200),
    ),
    (
        "GET",
        "/api/public/elections/{election_id}",
        "open",
        lambda c, s: c.get(_p(s), headers=s.headers),
        everyone(200),
    ),
    (
        "POST",
        "/api/public/elections/{election_id}/ballots",
        "open",
        lambda c, s: c.post(
            _p(s, "/ballots"), json={"code": _code(s), "ranking": ["Ann"]}, headers=s.headers
        ),
        voter_only(201),
    ),
    (
        "GET",
        "/api/public/elections/{election_id}/results",
        "published",
        lambda c, s: c.get(_p(s, "/results"), headers=s.headers),
        everyone(200),
    ),
    (
        "GET",
        "/api/public/elections/{election_id}/ballots",
        "published",
        lambda c, s: c.get(_p(s, "/ballots"), headers=s.headers),
        everyone(200),
    ),
]


def election(api: Api, headers: dict[str, str], state: str) -> tuple[int, list[str]]:
    """Organiser A's election in ``state`` (see the module docstring) and its codes."""
    client = api.client
    if state == "upload":
        body: dict[str, Any] = {"title": "x", "method": "irv", "source": "upload"}
        response = client.post("/api/elections", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"]), ["", ""]
    response = client.post("/api/elections", json=CREATE, headers=headers)
    assert response.status_code == 201, response.text
    eid = int(response.json()["id"])
    response = client.post(f"/api/elections/{eid}/codes", json={"count": 3}, headers=headers)
    assert response.status_code == 201, response.text
    codes = [item["code"] for item in response.json()["codes"]]
    if state == "draft":
        return eid, codes
    assert client.post(f"/api/elections/{eid}/open", headers=headers).status_code == 200
    response = client.post(
        f"/api/public/elections/{eid}/ballots", json={"code": codes[0], "ranking": ["Ann"]}
    )
    assert response.status_code == 201, response.text
    for step in ("close", "publish"):
        if state == {"close": "open", "publish": "closed"}[step]:
            return eid, codes
        assert client.post(f"/api/elections/{eid}/{step}", headers=headers).status_code == 200
    return eid, codes


def run_row(api: Api, state: str | None, call: Call) -> dict[str, int]:
    """The status each role gets for a row (organiser A last: it may change the state)."""
    alice, bob = api.organiser("alice"), api.organiser("bob")
    eid, codes = (0, ["", ""]) if state is None else election(api, alice, state)
    got: dict[str, int] = {}
    for role in ROLES:
        headers = {
            ANON: {},
            RES: {"Authorization": f"Bearer {codes[1] or WRONG_CODE}"},
            B: bob,
            A: alice,
        }[role]
        got[role] = call(api.client, Setup(eid, codes, role, headers)).status_code
    return got


#: Further rows: what must stay hidden in other states (same format).
HIDDEN: list[tuple[str, str, str | None, Call, dict[str, int]]] = [
    (
        "GET",
        "/api/public/elections/{election_id}/results",
        "closed",
        lambda c, s: c.get(_p(s, "/results"), headers=s.headers),
        everyone(404),
    ),
    (
        "GET",
        "/api/public/elections/{election_id}/ballots",
        "closed",
        lambda c, s: c.get(_p(s, "/ballots"), headers=s.headers),
        everyone(404),
    ),
    (
        "GET",
        "/api/public/elections/{election_id}",
        "draft",
        lambda c, s: c.get(_p(s), headers=s.headers),
        everyone(404),
    ),
    (
        "GET",
        "/api/elections/{election_id}/results",
        "open",
        lambda c, s: c.get(_e(s, "/results"), headers=s.headers),
        organisers_only(409),
    ),
]
