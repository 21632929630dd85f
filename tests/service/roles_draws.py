"""Role-matrix rows of the draws API (service/api_draws.py).

Each row is ``(method, path, role, expected_status)``. Roles: ``anonymous`` (no credentials),
``organiser_b`` (logged in, not the draw's owner), ``organiser_a`` (the owner). The rows are
checked against a draw of organiser A that is *published but not revealed* for the public
endpoints and the read-only organiser endpoints (tests/service/test_api_draws.py,
``test_role_matrix``); ``{draw_id}`` is that draw. Calls that change state use a body that is
refused after the role check (422/409), so the matrix can run in any order. The council rows
use a council of organiser A whose first draw is committed but not revealed
(``{council_id}``, ``{round_number}`` = 0).
"""

from __future__ import annotations

A, B, ANON = "organiser_a", "organiser_b", "anonymous"


def _organisers(
    path: str, method: str, owner: int, other: int = 404
) -> list[tuple[str, str, str, int]]:
    return [(method, path, ANON, 401), (method, path, B, other), (method, path, A, owner)]


def _everyone(path: str, status: int) -> list[tuple[str, str, str, int]]:
    return [("GET", path, role, status) for role in (ANON, B, A)]


ROWS: list[tuple[str, str, str, int]] = [
    *_organisers("/api/draws/check", "POST", 422, other=422),  # no files: refused after auth
    *_organisers("/api/draws", "POST", 422, other=422),
    *_organisers("/api/draws", "GET", 200, other=200),
    *_organisers("/api/draws/{draw_id}", "GET", 200),
    *_organisers("/api/draws/{draw_id}/run", "POST", 409),  # already computed
    *_organisers("/api/draws/{draw_id}/publish", "POST", 409),  # already published
    *_organisers("/api/draws/{draw_id}/reveal", "POST", 422),  # seed dice:1 (bad length)
    *_organisers("/api/draws/{draw_id}/panel", "GET", 409),  # not revealed
    *_organisers("/api/draws/{draw_id}/replacements", "POST", 409),  # not revealed
    *_organisers("/api/draws/{draw_id}/bundle", "GET", 200),
    *_everyone("/api/public/draws", 200),
    *_everyone("/api/public/draws/{draw_id}", 200),
    *_everyone("/api/public/draws/{draw_id}/probabilities", 200),
    *_everyone("/api/public/draws/{draw_id}/bundle", 200),
    *_organisers("/api/draws/councils", "POST", 422, other=422),
    *_organisers("/api/draws/councils", "GET", 200, other=200),
    *_organisers("/api/draws/councils/{council_id}", "GET", 200),
    *_organisers("/api/draws/councils/{council_id}/reveal", "POST", 422),  # seed dice:1
    *_organisers("/api/draws/councils/{council_id}/replacements", "POST", 422),  # no member
    *_organisers("/api/draws/councils/{council_id}/renewals", "POST", 422, other=422),
    *_organisers("/api/draws/councils/{council_id}/rounds/{round_number}/bundle", "GET", 200),
    *_everyone("/api/public/draws/councils/{council_id}", 200),
    *_everyone("/api/public/draws/councils/{council_id}/rounds/{round_number}/bundle", 200),
]
