"""The web pages' rows of the role matrix (roles_web.ROWS), run with the matrix's machinery."""

from __future__ import annotations

import pytest
from api_helpers import Api
from roles_web import ROWS
from starlette.routing import Route
from test_api_roles import Row, _run, matrix_api  # noqa: F401  (matrix_api is a fixture)


@pytest.mark.parametrize("endpoint", sorted(ROWS), ids=lambda e: " ".join(e))
def test_web_role_rows(matrix_api: Api, endpoint: tuple[str, str]) -> None:  # noqa: F811
    state, call, expected = ROWS[endpoint]
    assert _run(matrix_api, Row(state, call, expected)) == expected


def test_every_web_route_has_a_row() -> None:
    """Every route of the pages' router has a row (the app's route list does not show them:
    FastAPI 0.165 keeps included routers as ``_IncludedRouter`` objects in ``app.routes``, and
    the pages are left out of the OpenAPI schema)."""
    from service.web.pages import router

    pages = {
        (method, route.path)
        for route in router.routes
        if isinstance(route, Route) and route.methods
        for method in route.methods
        if method != "HEAD"
    }
    assert sorted(pages - set(ROWS)) == []
    assert sorted(set(ROWS) - pages) == []
