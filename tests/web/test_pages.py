"""The web pages without a browser: catalogues, templates, CSRF, headers, every ballot type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.db import migrate
from service.settings import Settings
from service.web.i18n import LANGUAGES, MESSAGES, Translator

SECRET = b"web-page-test-secret-" + b"z" * 32
TEMPLATES = Path(__file__).parents[2] / "service" / "web" / "templates"


def test_every_catalogue_has_the_keys_of_the_dutch_one() -> None:
    dutch = json.loads((MESSAGES / "nl.json").read_text(encoding="utf-8"))
    assert len(LANGUAGES) >= 2 and LANGUAGES[0] == "nl"
    for lang in LANGUAGES:
        texts = json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))
        assert set(texts) == set(dutch), lang
        for key, text in texts.items():
            assert text.strip(), (lang, key)
            # the same placeholders in every language
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", dutch[key]))


def test_templates_use_only_known_keys() -> None:
    dutch = json.loads((MESSAGES / "nl.json").read_text(encoding="utf-8"))
    used: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.\-]*[a-z0-9_\-])["']""", path.read_text())
        )
    pages = (TEMPLATES.parent / "pages.py").read_text()
    used |= set(re.findall(r'"(error\.[a-z_\-]+)"', pages)) - {"error.html"}
    assert used, "no keys found"
    assert sorted(used - set(dutch)) == []


def test_translator_falls_back_and_fills_placeholders() -> None:
    english = Translator("en")
    assert english("home.budget", amount="€ 5") == "Budget: € 5"
    assert Translator("xx")("home.title") == Translator("nl")("home.title")
    assert english("no.such.key") == "no.such.key"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    migrate(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    return TestClient(app, raise_server_exceptions=True)


def _csrf(client: TestClient) -> str:
    page = client.get("/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text) or re.search(
        r'name="csrf" value="([^"]+)"', client.get("/organiser/login").text
    )
    assert found is not None
    return found[1]


def _round(client: TestClient, vote_type: str, rules: dict[str, int], *, changes: bool = False):
    from service.api_auth import add_organiser

    add_organiser(client.app.state.db, "alice", "correct horse battery")  # type: ignore[attr-defined]
    token = client.post(
        "/api/auth/login", json={"name": "alice", "password": "correct horse battery"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "name": "Ronde",
        "budget": "100",
        "vote_type": vote_type,
        "ballot_rules": rules,
        "allow_changes": changes,
    }
    round_id = client.post("/api/rounds", json=body, headers=headers).json()["id"]
    projects = [
        {"id": "a", "name": "Speeltuin", "cost": "60"},
        {"id": "b", "name": "Bankjes", "cost": "50"},
        {"id": "c", "name": "Bomen", "cost": "40"},
    ]
    client.put(f"/api/rounds/{round_id}/projects", json=projects, headers=headers)
    codes = client.post(f"/api/rounds/{round_id}/codes", json={"count": 2}, headers=headers)
    client.post(f"/api/rounds/{round_id}/open", headers=headers).raise_for_status()
    return round_id, [c["code"] for c in codes.json()["codes"]], headers


def test_pages_have_the_web_security_policy_and_static_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "form-action 'self'" in csp
    assert "<script>" not in page.text and " style=" not in page.text
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/ballot.js").status_code == 200
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404
    assert (
        client.get("/api/public/rounds")
        .headers["content-security-policy"]
        .startswith("default-src 'none'")
    )
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/").text  # remembered


@pytest.mark.parametrize(
    ("vote_type", "rules", "bad", "good", "stored"),
    [
        ("knapsack", {}, {"project": ["a", "b"]}, {"project": ["a", "c"]}, (["a", "c"], None)),
        (
            "approval",
            {"max_length": 1},
            {"project": ["a", "b"]},
            {"project": ["b"]},
            (["b"], None),
        ),
        (
            "cumulative",
            {"max_sum_points": 10},
            {"points-0": "7", "points-1": "4"},
            {"points-0": "7", "points-2": "3"},
            (["a", "c"], ["7", "3"]),
        ),
        (
            "ordinal",
            {"max_length": 2},
            {"rank-1": "a", "rank-2": "a"},
            {"rank-1": "c", "rank-2": "a"},
            (["c", "a"], None),
        ),
    ],
)
def test_every_ballot_type_without_a_browser(
    client: TestClient,
    vote_type: str,
    rules: dict[str, int],
    bad: dict[str, object],
    good: dict[str, object],
    stored: tuple[list[str], list[str] | None],
) -> None:
    round_id, codes, headers = _round(client, vote_type, rules)
    csrf = _csrf(client)
    base = {"csrf": csrf, "code": codes[0]}
    assert client.post(f"/vote/{round_id}", data=base).status_code == 200
    refused = client.post(f"/vote/{round_id}/review", data={**base, **bad})
    assert refused.status_code == 422 and 'class="field-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    review = client.post(f"/vote/{round_id}/review", data={**base, **good})
    assert review.status_code == 200, review.text
    # a forged confirm with the bad ballot is still refused by the API's own check
    forged = client.post(f"/vote/{round_id}/confirm", data={**base, **bad})
    assert forged.status_code == 422
    receipt = client.post(f"/vote/{round_id}/confirm", data={**base, **good})
    assert receipt.status_code == 201 and 'id="receipt"' in receipt.text
    again = client.post(f"/vote/{round_id}/confirm", data={**base, **good})
    assert again.status_code == 409
    client.post(f"/api/rounds/{round_id}/close", headers=headers).raise_for_status()
    ballots = client.get(f"/api/rounds/{round_id}/ballots", headers=headers).json()["ballots"]
    assert [(b["projects"], b["points"]) for b in ballots] == [stored]


def test_code_entry_is_rate_limited_by_the_api_limiter(client: TestClient) -> None:
    round_id, codes, _ = _round(client, "knapsack", {})
    csrf = _csrf(client)
    limit = client.app.state.settings.code_attempts  # type: ignore[attr-defined]
    for _ in range(limit):
        wrong = client.post(f"/vote/{round_id}", data={"csrf": csrf, "code": "WRONG-CODE"})
        assert wrong.status_code == 403
    blocked = client.post(f"/vote/{round_id}", data={"csrf": csrf, "code": codes[0]})
    assert blocked.status_code == 429 and 'id="code-error"' in blocked.text


def test_organiser_pages_need_a_login(client: TestClient) -> None:
    csrf = _csrf(client)
    answer = client.get("/organiser", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/organiser/login"
    answer = client.post("/organiser/rounds", data={"csrf": csrf, "name": "x"})
    assert answer.status_code == 401
    answer = client.post("/organiser/rounds", data={"name": "x"})
    assert answer.status_code == 403  # no CSRF token
