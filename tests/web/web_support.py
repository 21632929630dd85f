"""Fixtures and helpers of the browser tests: a real server (uvicorn in a thread, temporary
SQLite) and Debian's chromium driven by Playwright; :func:`check_page` runs axe-core and takes
screenshots. The test modules import the fixtures from here (a ``conftest.py`` would be imported
as the module ``conftest`` and clash with tests/service/conftest.py in one pytest run).

The browser tests (test_browser.py) skip themselves with a message when ``/usr/bin/chromium``
or the Python packages ``playwright`` and ``axe-playwright-python`` are missing. Screenshots go
to ``$STADMAKEN_ARTIFACTS`` (default ``tests/web/artifacts``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"
SECRET = b"web-test-secret-" + b"y" * 32
ARTIFACTS = Path(os.environ.get("STADMAKEN_ARTIFACTS") or Path(__file__).parent / "artifacts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """The running service: its base URL and an organiser API client."""

    url: str
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def organiser(self, name: str = "alice") -> dict[str, str]:
        """Bearer headers of an organiser (created on first use)."""
        if name not in self.tokens:
            from service.api_auth import add_organiser

            add_organiser(self.app.state.db, name, PASSWORD)
            with self.api() as client:
                answer = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
                answer.raise_for_status()
                self.tokens[name] = answer.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def round(
        self,
        *,
        vote_type: str = "knapsack",
        status: str = "open",
        codes: int = 2,
        votes: list[dict[str, Any]] | None = None,
        allow_changes: bool = False,
        ballot_rules: dict[str, Any] | None = None,
        projects: list[dict[str, Any]] | None = None,
        name: str = "Wijkbudget Schalkwijk",
    ) -> tuple[int, list[str]]:
        """A round set up through the JSON API; ``votes`` are cast with the first codes."""
        headers = self.organiser()
        body = {
            "name": name,
            "budget": "100",
            "vote_type": vote_type,
            "rule": "greedy",
            "currency": "EUR",
            "allow_changes": allow_changes,
            "ballot_rules": ballot_rules or {},
        }
        projects = projects or [
            {"id": "a", "name": "Speeltuin", "cost": "60"},
            {"id": "b", "name": "Bankjes in het park", "cost": "50"},
            {"id": "c", "name": "Bomen in de Amsterdamstraat", "cost": "40"},
        ]
        with self.api() as client:
            answer = client.post("/api/rounds", json=body, headers=headers)
            assert answer.status_code == 201, answer.text
            round_id = int(answer.json()["id"])
            answer = client.put(f"/api/rounds/{round_id}/projects", json=projects, headers=headers)
            assert answer.status_code == 200, answer.text
            issued: list[str] = []
            if codes:
                answer = client.post(
                    f"/api/rounds/{round_id}/codes", json={"count": codes}, headers=headers
                )
                issued = [c["code"] for c in answer.json()["codes"]]
            if status == "draft":
                return round_id, issued
            client.post(f"/api/rounds/{round_id}/open", headers=headers).raise_for_status()
            for code, vote in zip(issued, votes or [], strict=False):
                answer = client.post(
                    f"/api/public/rounds/{round_id}/ballots", json={"code": code, **vote}
                )
                assert answer.status_code == 201, answer.text
            for step in {"open": (), "closed": ("close",), "published": ("close", "publish")}[
                status
            ]:
                client.post(f"/api/rounds/{round_id}/{step}", headers=headers).raise_for_status()
        return round_id, issued


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    from service.app import create_app
    from service.db import migrate
    from service.settings import Settings

    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'web.db'}"
    migrate(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", app)
    uv.should_exit = True
    thread.join(timeout=10)
    app.state.db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport=PHONE, locale="nl-NL")
    context.set_default_timeout(15000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def page_without_js(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(15000)
    opened = context.new_page()
    yield opened
    context.close()


_axe = None


def check_page(page: Any, name: str) -> None:
    """axe-core finds no serious or critical violation; screenshots at phone and desktop size."""
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    results = _axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{name}: accessibility violations {bad}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9_-]+", "-", name.lower())
    size = page.viewport_size
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(ARTIFACTS / f"{safe}-{label}.png"), full_page=True)
    page.set_viewport_size(size)
