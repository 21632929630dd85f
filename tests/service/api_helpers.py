"""Helpers of the service tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api_auth import add_organiser

SECRET = b"test-secret-" + b"x" * 32
PASSWORD = "correct horse battery"
PROJECTS = [
    {"id": "a", "name": "Speeltuin", "cost": "60", "categories": ["groen"]},
    {"id": "b", "name": "Bankjes", "cost": "50"},
    {"id": "c", "name": "Bomen", "cost": "40", "categories": ["groen"]},
]


@dataclass
class Api:
    """Sets up organisers and rounds through the API."""

    client: TestClient
    app: FastAPI
    organisers: dict[str, dict[str, str]] = field(default_factory=dict)

    def organiser(self, name: str) -> dict[str, str]:
        """Headers of a logged-in organiser (created on first use)."""
        if name not in self.organisers:
            add_organiser(self.app.state.db, name, PASSWORD)
            self.organisers[name] = self.login(name)
        return self.organisers[name]

    def login(self, name: str) -> dict[str, str]:
        response = self.client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def round(
        self,
        headers: dict[str, str],
        *,
        status: str = "draft",
        codes: int = 0,
        votes: list[list[str]] | None = None,
        allow_changes: bool = False,
        **settings: Any,
    ) -> tuple[int, list[str], list[str]]:
        """A round in ``status`` with ``codes`` codes, the first ones having cast ``votes``.

        Returns the round id, the codes, and the receipts of the votes.
        """
        body = {
            "name": "Wijkbudget Schalkwijk",
            "budget": "100",
            "vote_type": "approval",
            "rule": "greedy",
            "ballot_rules": {"max_length": 2},
            "allow_changes": allow_changes,
            **settings,
        }
        response = self.client.post("/api/rounds", json=body, headers=headers)
        assert response.status_code == 201, response.text
        round_id = int(response.json()["id"])
        response = self.client.put(
            f"/api/rounds/{round_id}/projects", json=PROJECTS, headers=headers
        )
        assert response.status_code == 200, response.text
        issued: list[str] = []
        if codes:
            response = self.client.post(
                f"/api/rounds/{round_id}/codes", json={"count": codes}, headers=headers
            )
            assert response.status_code == 201, response.text
            issued = [item["code"] for item in response.json()["codes"]]
        receipts: list[str] = []
        if status == "draft":
            return round_id, issued, receipts
        assert self.client.post(f"/api/rounds/{round_id}/open", headers=headers).status_code == 200
        for code, projects in zip(issued, votes or [], strict=False):
            response = self.client.post(
                f"/api/public/rounds/{round_id}/ballots", json={"code": code, "projects": projects}
            )
            assert response.status_code == 201, response.text
            receipts.append(response.json()["receipt"])
        if status == "open":
            return round_id, issued, receipts
        assert self.client.post(f"/api/rounds/{round_id}/close", headers=headers).status_code == 200
        if status == "closed":
            return round_id, issued, receipts
        response = self.client.post(f"/api/rounds/{round_id}/publish", headers=headers)
        assert response.status_code == 200
        return round_id, issued, receipts
