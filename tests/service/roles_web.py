"""Role-matrix rows of the web pages (service/web/pages.py), for tests/service/test_api_roles.py.

``ROWS`` maps ``(method, path)`` to ``(state, call, expected)``: the arguments of that module's
``Row`` (wire in with ``MATRIX.update({k: Row(*v) for k, v in ROWS.items()})``). The pages use
cookies, not bearer tokens: each call puts the role's bearer token (an organiser's login token,
or the resident's voting code, which is no login) in the ``stadmaken_login`` cookie, and fetches
a CSRF token first for a POST. Expected: organiser pages redirect (303) to the login form on a
GET and answer 401 on a POST without a login; another organiser's round is 404 as in the API.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

A, B, ANON, RES = "organiser_a", "organiser_b", "anonymous", "resident"
WRONG_CODE = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
PASSWORD = "correct horse battery"
LOGIN = "stadmaken_login"

Call = Callable[[httpx.Client, Any], httpx.Response]


def everyone(status: int) -> dict[str, int]:
    return {ANON: status, RES: status, B: status, A: status}


def owner(status: int, *, other: int = 404, page: bool = False) -> dict[str, int]:
    """A gets ``status``, B a 404; without a login: 303 to the login form (GET) or 401 (POST)."""
    out = 303 if page else 401
    return {ANON: out, RES: out, B: other, A: status}


def voter(status: int) -> dict[str, int]:
    return {ANON: 403, RES: status, B: 403, A: 403}


def _token(setup: Any) -> str:
    header = setup.headers.get("Authorization", "")
    return str(header.partition(" ")[2])


def _request(
    client: httpx.Client, setup: Any, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """The request with the role's login cookie (and a CSRF token in a posted form)."""
    client.cookies.delete(LOGIN)
    if method == "POST":
        page = client.get("/organiser/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        kwargs["data"] = {"csrf": token[1], **kwargs.get("data", {})}
    if _token(setup):
        client.cookies.set(LOGIN, _token(setup))
    try:
        return client.request(method, url, follow_redirects=False, **kwargs)
    finally:
        client.cookies.delete(LOGIN)


def _get(url: Callable[[Any], str]) -> Call:
    return lambda c, s: _request(c, s, "GET", url(s))


def _post(url: Callable[[Any], str], data: Callable[[Any], dict[str, Any]] | None = None) -> Call:
    return lambda c, s: _request(c, s, "POST", url(s), data=data(s) if data else {})


def _code(setup: Any) -> str:
    return str(setup.codes[1]) if setup.role == RES else WRONG_CODE


def _r(rest: str = "") -> Callable[[Any], str]:
    return lambda s: f"/organiser/rounds/{s.round_id}{rest}"


def _v(rest: str = "") -> Callable[[Any], str]:
    return lambda s: f"/vote/{s.round_id}{rest}"


def _logout(client: httpx.Client, setup: Any) -> httpx.Response:
    """Log out with a fresh login (the matrix's own tokens stay valid)."""
    name = {A: "alice", B: "bob"}.get(setup.role)
    if name is not None:
        answer = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
        setup = type(setup)(
            setup.round_id,
            setup.codes,
            setup.role,
            {"Authorization": f"Bearer {answer.json()['token']}"},
        )
    return _request(client, setup, "POST", "/organiser/logout")


def _csv_upload(client: httpx.Client, setup: Any) -> httpx.Response:
    files = {"file": ("p.csv", b"id,name,cost\nq,Q,5\n", "text/csv")}
    return _request(client, setup, "POST", _r("/projects.csv")(setup), files=files)


ROWS: dict[tuple[str, str], tuple[str | None, Call, dict[str, int]]] = {
    ("GET", "/"): (None, _get(lambda s: "/"), everyone(200)),
    ("GET", "/static/{name}"): (None, _get(lambda s: "/static/app.css"), everyone(200)),
    ("GET", "/results/{round_id}"): (
        "published",
        _get(lambda s: f"/results/{s.round_id}"),
        everyone(200),
    ),
    ("GET", "/vote/{round_id}"): ("open", _get(_v()), everyone(200)),
    ("POST", "/vote/{round_id}"): ("open", _post(_v(), lambda s: {"code": _code(s)}), voter(200)),
    ("POST", "/vote/{round_id}/review"): (
        "open",
        _post(_v("/review"), lambda s: {"code": _code(s), "project": "a"}),
        everyone(200),  # only shows the ballot back; nothing is stored before the confirm
    ),
    ("POST", "/vote/{round_id}/ballot"): (
        "open",
        _post(_v("/ballot"), lambda s: {"code": _code(s), "project": "a"}),
        everyone(200),
    ),
    ("POST", "/vote/{round_id}/confirm"): (
        "open",
        _post(_v("/confirm"), lambda s: {"code": _code(s), "project": "a"}),
        {ANON: 403, RES: 201, B: 403, A: 403},
    ),
    ("GET", "/organiser/login"): (None, _get(lambda s: "/organiser/login"), everyone(200)),
    ("POST", "/organiser/login"): (
        None,
        _post(lambda s: "/organiser/login", lambda s: {"name": "alice", "password": PASSWORD}),
        everyone(303),
    ),
    ("POST", "/organiser/logout"): (None, _logout, everyone(303)),
    ("GET", "/organiser"): (
        None,
        _get(lambda s: "/organiser"),
        {ANON: 303, RES: 303, B: 200, A: 200},
    ),
    ("POST", "/organiser/rounds"): (
        None,
        _post(
            lambda s: "/organiser/rounds",
            lambda s: {"name": "x", "budget": "10", "vote_type": "approval", "rule": "greedy"},
        ),
        {ANON: 401, RES: 401, B: 303, A: 303},
    ),
    ("GET", "/organiser/rounds/{round_id}"): ("draft", _get(_r()), owner(200, page=True)),
    ("POST", "/organiser/rounds/{round_id}/projects"): (
        "draft",
        _post(_r("/projects"), lambda s: {"id": "q", "name": "Q", "cost": "5"}),
        owner(303),
    ),
    ("POST", "/organiser/rounds/{round_id}/projects.csv"): ("draft", _csv_upload, owner(303)),
    ("POST", "/organiser/rounds/{round_id}/codes"): (
        "open",
        _post(_r("/codes"), lambda s: {"count": "2"}),
        owner(200),
    ),
    ("POST", "/organiser/rounds/{round_id}/{action}"): (
        "draft",
        _post(_r("/open")),
        owner(303),
    ),
}


# --------------------------------------------------------------------------- draws
# Each draw row gets its own draw of organiser A (made once per client through the JSON API,
# computed, then brought to the state the row needs), so A's own call may change it.

_DRAWS: dict[tuple[int, str], tuple[int, str]] = {}
POOL = "id,gender,area\n" + "".join(
    f"R-{i:02d},{'fm'[i % 2]},{('north', 'south')[i // 2 % 2]}\n" for i in range(20)
)
QUOTAS = "feature,value,min,max\ngender,f,1,3\ngender,m,1,3\narea,north,1,3\narea,south,1,3\n"


def _files() -> dict[str, Any]:
    return {
        "pool": ("people.csv", POOL.encode(), "text/csv"),
        "quotas": ("quotas.csv", QUOTAS.encode(), "text/csv"),
    }


def _alice(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"name": "alice", "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _draw(client: httpx.Client, row: str, state: str) -> tuple[int, str]:
    """A draw of A for this row in ``state`` (committed, published, revealed) and a member."""
    key = (id(client), row)
    if key not in _DRAWS:
        alice = _alice(client)
        form = {"size": "4", "source": "dice", "panels": "50", "name": "x"}
        answer = client.post("/api/draws", files=_files(), data=form, headers=alice)
        assert answer.status_code == 202, answer.text
        draw_id = int(answer.json()["draw_id"])
        deadline = time.monotonic() + 120
        while client.get(f"/api/draws/{draw_id}", headers=alice).json()["status"] == "draft":
            assert time.monotonic() < deadline, "the draw's job did not finish"
            time.sleep(0.2)
        member = ""
        if state in ("published", "revealed"):
            client.post(f"/api/draws/{draw_id}/publish", headers=alice).raise_for_status()
        if state == "revealed":
            panel = client.post(
                f"/api/draws/{draw_id}/reveal", json={"seed": "1-2-3"}, headers=alice
            )
            member = panel.json()["panel"][0]["pseudonym"]
        _DRAWS[key] = (draw_id, member)
    return _DRAWS[key]


def _draw_get(row: str, state: str, rest: str = "", public: bool = False) -> Call:
    def call(client: httpx.Client, setup: Any) -> httpx.Response:
        draw_id, _ = _draw(client, row, state)
        base = "/draws" if public else "/organiser/draws"
        return _request(client, setup, "GET", f"{base}/{draw_id}{rest}")

    return call


def _draw_post(row: str, state: str, rest: str, data: Callable[[str], dict[str, str]]) -> Call:
    def call(client: httpx.Client, setup: Any) -> httpx.Response:
        draw_id, member = _draw(client, row, state)
        url = f"/organiser/draws/{draw_id}{rest}"
        return _request(client, setup, "POST", url, data=data(member))

    return call


def _draw_check(client: httpx.Client, setup: Any) -> httpx.Response:
    return _request(
        client, setup, "POST", "/organiser/draws/check", files=_files(), data={"size": "4"}
    )


def owner_json(status: int) -> dict[str, int]:
    return {ANON: 401, RES: 401, B: 404, A: status}


DRAW_ROWS: dict[tuple[str, str], tuple[str | None, Call, dict[str, int]]] = {
    ("GET", "/organiser/draws"): (
        None,
        _get(lambda s: "/organiser/draws"),
        {ANON: 303, RES: 303, B: 200, A: 200},
    ),
    ("POST", "/organiser/draws/check"): (None, _draw_check, {ANON: 401, RES: 401, B: 200, A: 200}),
    ("POST", "/organiser/draws"): (
        None,
        _post(lambda s: "/organiser/draws", lambda s: {"name": "x", "size": "4"}),
        {ANON: 401, RES: 401, B: 422, A: 422},  # no files: refused after the login check
    ),
    ("GET", "/organiser/draws/{draw_id}"): (
        None,
        _draw_get("page", "committed"),
        owner(200, page=True),
    ),
    ("GET", "/organiser/draws/{draw_id}/progress"): (
        None,
        _draw_get("progress", "committed", "/progress"),
        owner_json(200),
    ),
    ("GET", "/organiser/draws/{draw_id}/bundle"): (
        None,
        _draw_get("bundle", "committed", "/bundle"),
        owner(200, page=True),
    ),
    ("POST", "/organiser/draws/{draw_id}/run"): (
        None,
        _draw_post("run", "committed", "/run", lambda m: {}),
        owner(409),  # already computed
    ),
    ("POST", "/organiser/draws/{draw_id}/publish"): (
        None,
        _draw_post("publish", "committed", "/publish", lambda m: {}),
        owner(303),
    ),
    ("POST", "/organiser/draws/{draw_id}/reveal"): (
        None,
        _draw_post("reveal", "published", "/reveal", lambda m: {"seed": "4-5-6"}),
        owner(303),
    ),
    ("POST", "/organiser/draws/{draw_id}/replacements"): (
        None,
        _draw_post("replace", "revealed", "/replacements", lambda m: {"withdrawn": m}),
        owner(200),
    ),
    ("GET", "/draws/{draw_id}"): (
        None,
        _draw_get("public", "published", public=True),
        everyone(200),
    ),
}
ROWS.update(DRAW_ROWS)
