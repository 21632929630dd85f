"""The draw pages: organisers upload a pool and quotas, run, commit, reveal and replace; the
public reads the commitment, the panel (pseudonyms) and each person's selection probability.

Every step calls the JSON API's function in :mod:`service.api_draws` (checks, background job,
audit log); these pages only collect form fields and show the answers. The computation runs as
a background job: the draw's page shows a progress bar that ``static/draw.js`` keeps up to date
by polling ``/organiser/draws/{id}/progress``; without JavaScript a refresh link does the same.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from service import api_draws
from service.api_common import DB, ApiError, Id
from service.web import charts
from service.web.pages import (
    Errors,
    Form,
    _api_error_page,
    _error_message,
    _login_needed,
    _organiser,
    _organiser_post,
    _redirect,
    _t,
    _text,
    render,
)

__all__ = ["router"]

router: APIRouter = APIRouter(include_in_schema=False)

ALGORITHMS: Final = ("leximin", "maximin", "nash")
MAX_CHART_PEOPLE: Final = 300


def _whole(form: FormData, name: str, low: int, high: int, errors: Errors) -> int:
    text = _text(form, name, 10)
    if not text.isdigit() or not low <= int(text) <= high:
        errors.add(name, "draw.error.range")
        return 0
    return int(text)


def _file(form: FormData, name: str, errors: Errors) -> UploadFile | None:
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add(name, "error.file_missing")
        return None
    return upload


def _core_field(error: ApiError, pool: UploadFile | None, quotas: UploadFile | None) -> str:
    """The form field a core error is about (the file it names), else the size."""
    named = error.extra.get("file")
    if quotas is not None and named in (quotas.filename, "quotas.csv"):
        return "quotas"
    if pool is not None and named in (pool.filename, "people.csv"):
        return "pool"
    return "size" if error.code in ("bad-size", "pool-too-small") else "quotas"


def _drafts(form: FormData) -> dict[str, str]:
    names = ("name", "size", "source", "algorithm", "panels", "households", "id_column")
    return {name: _text(form, name, 500) for name in names}


def _list_page(
    request: Request,
    organiser: Any,
    db: Any,
    *,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    check: Any = None,
    status: int = 200,
) -> HTMLResponse:
    draws = api_draws.list_draws(db, organiser)
    return render(
        request,
        "draws.html",
        status=status,
        here="/organiser/draws",
        organiser=organiser,
        draws=draws,
        form=values or {"algorithm": "leximin", "panels": "1000", "id_column": "id"},
        errors=errors,
        check=check,
        algorithms=ALGORITHMS,
    )


@router.get("/organiser/draws", response_model=None)
def draws_page(request: Request, db: DB) -> Response:
    """The organiser's draws and the form for a new one."""
    organiser = _organiser(request, db)
    if organiser is None:
        return _login_needed()
    return _list_page(request, organiser, db)


def _read_draw_form(form: FormData, errors: Errors) -> tuple[Any, Any, int, dict[str, str]]:
    values = _drafts(form)
    size = _whole(form, "size", 1, 10_000, errors)
    pool = _file(form, "pool", errors)
    quotas = _file(form, "quotas", errors)
    return pool, quotas, size, values


@router.post("/organiser/draws/check", response_model=None)
def check_page(request: Request, form: Form, db: DB) -> Response:
    """The quota feasibility check (:func:`service.api_draws.check_files`); nothing stored."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    errors = Errors()
    pool, quotas, size, values = _read_draw_form(form, errors)
    check = None
    if not errors:
        try:
            check = api_draws.check_files(
                organiser,
                pool,
                quotas,
                size,
                values["households"],
                values["id_column"] or "id",
            )
        except ApiError as error:
            errors.add(_core_field(error, pool, quotas), error.message)
    status = 422 if errors else 200
    return _list_page(
        request, organiser, db, values=values, errors=errors, check=check, status=status
    )


@router.post("/organiser/draws", response_model=None)
def create_page(request: Request, form: Form, db: DB) -> Response:
    """Start a draw (:func:`service.api_draws.create_draw`: a background job); its page."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    errors = Errors()
    pool, quotas, size, values = _read_draw_form(form, errors)
    panels = _whole(form, "panels", 1, 100_000, errors)
    if values["algorithm"] not in ALGORITHMS:
        errors.add("algorithm", "draw.error.algorithm")
    for name in ("name", "source"):
        if not values[name]:
            errors.add(name, "error.required")
    if not errors:
        try:
            answer = api_draws.create_draw(
                db=db,
                organiser=organiser,
                pool=pool,
                quotas=quotas,
                size=size,
                source=values["source"],
                name=values["name"],
                algorithm=values["algorithm"],  # type: ignore[arg-type]
                panels=panels,
                fallback="",
                households=values["households"],
                id_column=values["id_column"] or "id",
                pseudonym_key=None,
            )
        except ApiError as error:
            errors.add(_core_field(error, pool, quotas), error.message)
        except ValidationError as error:
            errors.add(None, str(error.errors()[0].get("msg", "invalid")))
        else:
            draw_id = json.loads(bytes(answer.body))["draw_id"]
            return _redirect(f"/organiser/draws/{draw_id}")
    return _list_page(request, organiser, db, values=values, errors=errors, status=422)


def _fraction(text: object) -> Fraction:
    try:
        return Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def _probability_context(t: Any, bundle: dict[str, Any], panel: list[str] | None) -> dict[str, Any]:
    """The chart of each person's probability before and after rounding, and the quota table."""
    document = bundle["draw"]
    m = int(document["m"])
    before = {p: _fraction(v) for p, v in document["probabilities"].items()}
    after = {p: Fraction(int(document["selections"].get(p, 0)), m) for p in before}
    people = sorted(before, key=lambda p: (-after[p], -before[p], p))
    rows = [
        {
            "pseudonym": p,
            "before": f"{float(before[p]):.4f}",
            "after": f"{document['selections'].get(p, 0)}/{m}",
            "after_decimal": f"{float(after[p]):.4f}",
            "selected": None if panel is None else p in panel,
        }
        for p in people
    ]
    chart = charts.paired_chart(
        "probabilities",
        t("draw.chart_title"),
        t("draw.chart_desc", count=len(people), m=m),
        [
            (p, before[p], f"{float(before[p]):.3f}", after[p], f"{float(after[p]):.3f}")
            for p in people[:MAX_CHART_PEOPLE]
        ],
    )
    values = {p["id"]: p["values"] for p in document["pool"]["people"]}
    quotas = []
    for quota in document["quotas"]:
        members = [p for p in before if values.get(p, {}).get(quota["feature"]) == quota["value"]]
        expected = sum((before[p] for p in members), Fraction(0))
        quotas.append(
            {
                **quota,
                "pool": len(members),
                "expected": f"{float(expected):.2f}",
                "panel": None if panel is None else sum(p in panel for p in members),
            }
        )
    return {"chart": chart, "people": rows, "quotas": quotas, "m": m, "shown": MAX_CHART_PEOPLE}


def _bundle_of(response: Response) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(bytes(response.body))
    return data


def _draw_page(
    request: Request,
    organiser: Any,
    draw_id: int,
    db: Any,
    *,
    errors: Errors | None = None,
    status: int = 200,
    replaced: Any = None,
) -> HTMLResponse:
    try:
        draw = api_draws.get_draw(db, organiser, draw_id)
    except ApiError as error:
        return _api_error_page(request, error, organiser=organiser)
    context: dict[str, Any] = {}
    panel = None
    if draw.status == "revealed":
        panel = api_draws.current_panel(db, organiser, draw_id)
    if draw.status != "draft":
        bundle = _bundle_of(api_draws.organiser_bundle(db, organiser, draw_id))
        members = [m.pseudonym for m in panel.panel] if panel is not None else None
        context = _probability_context(_t(request), bundle, members)
    return render(
        request,
        "draw.html",
        status=status,
        here=f"/organiser/draws/{draw_id}",
        organiser=organiser,
        draw=draw,
        panel=panel,
        errors=errors,
        replaced=replaced,
        **context,
    )


@router.get("/organiser/draws/{draw_id}", response_model=None)
def draw_page(draw_id: Id, request: Request, db: DB) -> Response:
    """A draw: its job's progress, then the probabilities, quotas and the next step."""
    organiser = _organiser(request, db)
    if organiser is None:
        return _login_needed()
    return _draw_page(request, organiser, draw_id, db)


@router.get("/organiser/draws/{draw_id}/progress", response_model=None)
def draw_progress(draw_id: Id, request: Request, db: DB) -> Response:
    """The job's state as JSON, for the progress bar's script (the organiser's cookie)."""
    organiser = _organiser(request, db)
    if organiser is None:
        return JSONResponse({"detail": "log in first", "code": "unauthorised"}, status_code=401)
    try:
        draw = api_draws.get_draw(db, organiser, draw_id)
    except ApiError as error:
        return JSONResponse({"detail": error.message, "code": error.code}, status_code=error.status)
    job = draw.job
    return JSONResponse(
        {
            "draw_status": draw.status,
            "status": job.status if job else None,
            "progress": job.progress if job else None,
            "message": job.message if job else "",
        },
        headers={"Cache-Control": "no-store"},
    )


def _draw_step(request: Request, form: FormData, db: Any, draw_id: int, step: Any) -> Response:
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    try:
        outcome = step(organiser)
    except ApiError as error:
        errors = Errors()
        errors.add(None, _error_message(_t(request), error))
        return _draw_page(request, organiser, draw_id, db, errors=errors, status=error.status)
    if isinstance(outcome, Response):
        return outcome
    return _redirect(f"/organiser/draws/{draw_id}")


@router.post("/organiser/draws/{draw_id}/run", response_model=None)
def rerun_page(draw_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Run the computation again after a failed or interrupted job."""
    return _draw_step(
        request, form, db, draw_id, lambda o: api_draws.rerun_draw(db, o, draw_id) and None
    )


@router.post("/organiser/draws/{draw_id}/publish", response_model=None)
def publish_page(draw_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Publish the commitment (before the randomness exists)."""
    return _draw_step(
        request, form, db, draw_id, lambda o: api_draws.publish_commitment(db, o, draw_id) and None
    )


@router.post("/organiser/draws/{draw_id}/reveal", response_model=None)
def reveal_page(draw_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Reveal with the seed: the panel."""
    seed = _text(form, "seed", 500)

    def step(organiser: Any) -> Response | None:
        if not seed:
            errors = Errors()
            errors.add("seed", "error.required")
            return _draw_page(request, organiser, draw_id, db, errors=errors, status=422)
        try:
            body = api_draws.RevealIn(seed=seed)
        except ValidationError:
            errors = Errors()
            errors.add("seed", "draw.error.seed")
            return _draw_page(request, organiser, draw_id, db, errors=errors, status=422)
        api_draws.reveal_draw(db, organiser, draw_id, body)
        return None

    return _draw_step(request, form, db, draw_id, step)


@router.post("/organiser/draws/{draw_id}/replacements", response_model=None)
def replace_page(draw_id: Id, request: Request, form: Form, db: DB) -> Response:
    """A member withdraws: the first eligible reserve takes the seat."""
    withdrawn = _text(form, "withdrawn", 200)

    def step(organiser: Any) -> Response | None:
        errors = Errors()
        if not withdrawn:
            errors.add("withdrawn", "error.required")
            return _draw_page(request, organiser, draw_id, db, errors=errors, status=422)
        try:
            replaced = api_draws.replace_member(
                db, organiser, draw_id, api_draws.ReplaceIn(withdrawn=withdrawn)
            )
        except ApiError as error:
            if error.status == 404:
                raise
            errors.add("withdrawn", error.message)
            return _draw_page(request, organiser, draw_id, db, errors=errors, status=error.status)
        except ValidationError:
            errors.add("withdrawn", "draw.error.member")
            return _draw_page(request, organiser, draw_id, db, errors=errors, status=422)
        return _draw_page(request, organiser, draw_id, db, replaced=replaced)

    return _draw_step(request, form, db, draw_id, step)


@router.get("/organiser/draws/{draw_id}/bundle", response_model=None)
def bundle_download(draw_id: Id, request: Request, db: DB) -> Response:
    """The audit bundle (as ``GET /api/draws/{id}/bundle``), for the organiser's cookie."""
    organiser = _organiser(request, db)
    if organiser is None:
        return _login_needed()
    try:
        return api_draws.organiser_bundle(db, organiser, draw_id)
    except ApiError as error:
        return _api_error_page(request, error, organiser=organiser)


@router.get("/draws/{draw_id}", response_model=None)
def public_draw_page(draw_id: Id, request: Request, db: DB) -> Response:
    """The published draw: commitment, panel (pseudonyms), probabilities, bundle."""
    try:
        draw = api_draws.public_draw(db, draw_id)
        bundle = _bundle_of(api_draws.public_bundle(db, draw_id))
    except ApiError as error:
        return _api_error_page(request, error)
    context = _probability_context(_t(request), bundle, draw.panel)
    return render(request, "draw_public.html", draw=draw, **context)
