"""The web pages: residents vote with a code, everyone reads results, organisers run rounds.

Server-rendered HTML (Jinja2) that works without JavaScript; ``static/ballot.js`` only keeps
the budget bar of a ballot up to date while choosing. Every page calls the functions of the
JSON API (:mod:`service.api_rounds`, :mod:`service.api_auth`), so the rules (ballot checks,
exactly-once voting, rate limits, the round's life cycle, audit log) live in one place.

Sessions and CSRF: every visitor gets a random ``stadmaken_session`` cookie; each form carries
``csrf`` = HMAC(key "web-csrf", session) and every POST is refused (403) unless it matches.
An organiser who logs in gets the API's login token in the ``stadmaken_login`` cookie
(HttpOnly, SameSite=Lax, Secure over HTTPS), checked on every organiser page as the API checks
a bearer token.

Resident flow: ``GET /vote/{id}`` (code) → ``POST /vote/{id}`` (code checked, rate limited by
the API's limiter; the ballot) → ``POST /vote/{id}/review`` (checked by the core's
:func:`budgeting.ballot_problems`; errors tied to their fields) → ``POST /vote/{id}/confirm``
(:func:`service.api_rounds.cast_ballot` or ``change_ballot``) → the receipt. The code travels
in a hidden field between these steps; the pages are sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlmodel import select
from starlette.datastructures import FormData, UploadFile

from budgeting import Ballot, ballot_problems, format_number, parse_number
from service import api_auth, api_draws, api_rounds
from service.api_common import (
    DB,
    ApiError,
    AppKeys,
    AppSettings,
    Id,
    client_key,
    organiser_for_token,
)
from service.models import Ballot as BallotRow
from service.models import BudgetRound, CodeUse, Organiser, VotingCode
from service.pb_cli import PB_RULES
from service.web import charts
from service.web.i18n import LANGUAGES, Translator, choose_language

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

HERE: Final = Path(__file__).parent
SESSION_COOKIE: Final = "stadmaken_session"
LOGIN_COOKIE: Final = "stadmaken_login"
STATIC: Final = {
    "app.css": "text/css",
    "ballot.js": "text/javascript",
    "draw.js": "text/javascript",
}
MAX_LETTERS: Final = 2000

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)

# --------------------------------------------------------------------------- plumbing


async def _read_form(request: Request) -> FormData:
    """The posted form (an empty one if the body is not a form)."""
    try:
        return await request.form(max_files=2, max_fields=5000)
    except Exception:
        return FormData()


Form = Annotated[FormData, Depends(_read_form)]


def _csrf_for(request: Request, session_id: str) -> str:
    key = request.app.state.settings.derived_key("web-csrf")
    return hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()


def _csrf_ok(request: Request, form: FormData) -> bool:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    sent = form.get("csrf")
    if not session_id or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent, _csrf_for(request, session_id))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _text(form: FormData, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@dataclass
class Errors:
    """Problems found in a form: per field (shown next to it) and for the whole form."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str | None, message: str) -> None:
        if name is None:
            self.general.append(message)
        else:
            self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    here: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` in the visitor's language, with a session cookie and CSRF token."""
    lang, chosen = choose_language(request)
    session_id = request.cookies.get(SESSION_COOKIE, "")
    new_session = len(session_id) < 32
    if new_session:
        session_id = secrets.token_urlsafe(32)
    if here is None:
        here = request.url.path if request.method == "GET" else "/"
    if "organiser" in context:
        organiser = context.pop("organiser")
    else:  # an organiser who reads public pages still sees the organiser menu
        organiser = _organiser(request, request.app.state.db)
    html = _env.get_template(template).render(
        t=Translator(lang),
        lang=lang,
        languages=LANGUAGES,
        here=here,
        csrf=_csrf_for(request, session_id),
        organiser=organiser,
        errors=context.pop("errors", None) or Errors(),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if new_session:
        response.set_cookie(
            SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=_secure(request)
        )
    if chosen:
        response.set_cookie(
            "lang", lang, max_age=365 * 24 * 3600, samesite="lax", secure=_secure(request)
        )
    return response


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _error_message(t: Translator, error: ApiError) -> str:
    key = f"error.{error.code}"
    return t(key) if t.has(key) else error.message


def _error_page(request: Request, status: int, message: str, **context: Any) -> HTMLResponse:
    return render(request, "error.html", status=status, message=message, **context)


def _api_error_page(request: Request, error: ApiError, **context: Any) -> HTMLResponse:
    t = Translator(choose_language(request)[0])
    return _error_page(request, error.status, _error_message(t, error), **context)


def _csrf_refused(request: Request) -> HTMLResponse:
    t = Translator(choose_language(request)[0])
    return _error_page(request, 403, t("error.csrf"))


def _t(request: Request) -> Translator:
    return Translator(choose_language(request)[0])


# --------------------------------------------------------------------------- static files


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The pages' own CSS and JavaScript (a fixed list of files)."""
    if name not in STATIC:
        raise ApiError(404, "not-found", "no such file")
    body = (HERE / "static" / name).read_bytes()
    return Response(
        body, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
    )


# --------------------------------------------------------------------------- public pages


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB) -> HTMLResponse:
    """The rounds open for voting and those with published results."""
    rounds = api_rounds.public_rounds(db)
    return render(request, "home.html", rounds=rounds, draws=api_draws.public_draws(db))


def _money(amount_text: str, currency: str) -> str:
    if not currency:
        return amount_text
    symbol = {"EUR": "€", "eur": "€"}.get(currency, currency)
    return f"{symbol} {amount_text}" if len(symbol) == 1 else f"{amount_text} {symbol}"


_env.globals["money"] = _money


@router.get("/results/{round_id}", response_class=HTMLResponse)
def results_page(round_id: Id, request: Request, db: DB) -> HTMLResponse:
    """The published outcome: funded projects, why each was or was not funded, charts."""
    t = _t(request)
    try:
        round_ = api_rounds.public_round(round_id, db)
    except ApiError as error:
        return _api_error_page(request, error)
    if round_.status != "published":
        return render(request, "not_published.html", status=404, round=round_)
    result = api_rounds.public_results(round_id, db)
    return render(request, "results.html", round=round_, **_results_context(t, round_, result))


def _results_context(t: Translator, round_: Any, result: dict[str, Any]) -> dict[str, Any]:
    currency = round_.currency
    rows = result.get("projects", [])
    explanation_field = "en" if t.lang == "en" else "nl"
    projects = [
        {
            "id": p["id"],
            "name": p.get("name") or p["id"],
            "cost": p["cost"],
            "votes": p["votes"],
            "funded": bool(p["funded"]),
            "why": p.get(explanation_field) or p.get("en", ""),
        }
        for p in rows
    ]
    vote_chart = charts.bar_chart(
        "votes",
        t("results.chart_votes"),
        t("results.chart_votes_desc", count=len(projects)),
        [
            (
                p["name"],
                charts.amount(p["votes"]),
                p["votes"],
                p["funded"],
            )
            for p in projects
        ],
    )
    budget = charts.amount(result.get("budget"))
    funded = [p for p in projects if p["funded"]]
    left = charts.amount(result.get("budget_left"))
    budget_chart = charts.stack_chart(
        "budget",
        t("results.chart_budget"),
        t(
            "results.chart_budget_desc",
            spent=_money(str(result.get("cost", "0")), currency),
            budget=_money(str(result.get("budget", "0")), currency),
        ),
        budget,
        [(p["name"], charts.amount(p["cost"]), _money(p["cost"], currency)) for p in funded]
        + [(t("results.left"), left, _money(str(result.get("budget_left", "0")), currency))],
    )
    return {
        "result": result,
        "projects": projects,
        "funded": funded,
        "vote_chart": vote_chart,
        "budget_chart": budget_chart,
    }


# --------------------------------------------------------------------------- voting


def _round_for_voting(request: Request, round_id: int, db: Any) -> Any:  # PublicRound | page
    """The public round, or an error page for a round that is absent or not open."""
    try:
        round_ = api_rounds.public_round(round_id, db)
    except ApiError as error:
        return _api_error_page(request, error)
    if round_.status != "open":
        return render(request, "vote_closed.html", status=409, round=round_)
    return round_


@router.get("/vote/{round_id}", response_model=None)
def vote_start(round_id: Id, request: Request, db: DB) -> Response:
    """Enter the voting code from the letter."""
    round_ = _round_for_voting(request, round_id, db)
    if isinstance(round_, Response):
        return round_
    return render(request, "code.html", round=round_, code="")


@dataclass
class BallotForm:
    """A ballot as filled in on the page."""

    projects: list[str] = field(default_factory=list)
    points: dict[str, str] = field(default_factory=dict)  # project id → points as typed

    def api_points(self) -> list[str] | None:
        return [self.points.get(p, "0") for p in self.projects] if self.points else None


def _parse_ballot(round_: Any, form: FormData, errors: Errors) -> BallotForm:
    """The ballot from the form fields of :func:`_ballot_fields` (problems go to ``errors``)."""
    known = [p.id for p in round_.projects]
    t_known = set(known)
    ballot = BallotForm()
    if round_.vote_type in ("approval", "knapsack"):
        chosen = {v for v in form.getlist("project") if isinstance(v, str)}
        ballot.projects = [p for p in known if p in chosen]
    elif round_.vote_type == "cumulative":
        for index, project in enumerate(known):
            typed = _text(form, f"points-{index}", 40)
            if not typed:
                continue
            try:
                value = parse_number(typed)
            except Exception:
                errors.add(f"points-{index}", "error.points_number")
                continue
            if value < 0:
                errors.add(f"points-{index}", "error.points_negative")
                continue
            if value > 0:
                ballot.projects.append(project)
                ballot.points[project] = format_number(value)
    else:  # ordinal: one select per rank
        for rank in range(1, _ranks(round_) + 1):
            choice = _text(form, f"rank-{rank}", 100)
            if not choice:
                continue
            if choice not in t_known:
                errors.add(f"rank-{rank}", "error.unknown_project")
            elif choice in ballot.projects:
                errors.add(f"rank-{rank}", "error.rank_twice")
            else:
                ballot.projects.append(choice)
    return ballot


def _ranks(round_: Any) -> int:
    limit = round_.ballot_rules.get("max_length")
    return min(len(round_.projects), int(limit)) if limit else len(round_.projects)


def _problem_field(round_: Any, code: str, params: dict[str, Any]) -> str:
    """The form field a problem of :func:`budgeting.ballot_problems` belongs to."""
    project = params.get("project")
    if project is not None and round_.vote_type == "cumulative":
        for index, p in enumerate(round_.projects):
            if p.id == project:
                return f"points-{index}"
    return "ballot"


def _ballot_context(round_: Any, ballot: BallotForm) -> dict[str, Any]:
    costs = {p.id: parse_number(p.cost) for p in round_.projects}
    spent = sum((costs[p] for p in ballot.projects if p in costs), Fraction(0))
    budget = parse_number(round_.budget)
    points_total = sum((parse_number(v) for v in ballot.points.values()), Fraction(0))
    max_points = round_.ballot_rules.get("max_sum_points")
    return {
        "ballot": ballot,
        "spent": format_number(spent),
        "left": format_number(budget - spent),
        "over": spent > budget,
        "points_total": format_number(points_total),
        "max_points": max_points,
        "max_length": round_.ballot_rules.get("max_length"),
        "ranks": _ranks(round_),
        "names": {p.id: p.name or p.id for p in round_.projects},
    }


def _render_ballot(
    request: Request,
    round_: Any,
    code: str,
    mode: str,
    ballot: BallotForm,
    *,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "ballot.html",
        status=status,
        here=f"/vote/{round_.id}",
        round=round_,
        code=code,
        mode=mode,
        errors=errors,
        **_ballot_context(round_, ballot),
    )


def _code_state(request: Request, round_: Any, code: str, db: Any, keys: Any) -> Any:
    """What a code may do: ("new" | "change", previous ballot) or an error (code, status).

    Only a look-up: the ballot itself goes through :func:`service.api_rounds.cast_ballot`,
    which checks the code again in its own transaction.
    """
    limiter = request.app.state.rate_limiter
    client = client_key(request)
    if limiter.retry_after(client, round_.id) is not None:
        return ("too-many-attempts", 429)
    hashes = api_rounds._code_hashes(keys, code)
    with db.reading() as session:
        row = None
        if hashes is not None:
            row = session.exec(
                select(VotingCode).where(
                    VotingCode.code_hash == hashes[0], VotingCode.round_id == round_.id
                )
            ).first()
        if row is None or row.status != "active":
            limiter.failed(client, round_.id)
            return ("invalid-code" if row is None else "code-revoked", 403)
        assert hashes is not None
        if session.get(CodeUse, hashes[0]) is None:
            return ("new", BallotForm())
        if not round_.allow_changes:
            return ("already-voted", 409)
        previous = session.exec(
            select(BallotRow).where(BallotRow.locator == hashes[1], BallotRow.round_id == round_.id)
        ).first()
    ballot = BallotForm()
    if previous is not None:
        ballot.projects = list(json.loads(previous.projects))
        if previous.points is not None:
            ballot.points = dict(zip(ballot.projects, json.loads(previous.points), strict=False))
    return ("change", ballot)


@router.post("/vote/{round_id}", response_model=None)
def vote_code(round_id: Id, request: Request, form: Form, db: DB, keys: AppKeys) -> Response:
    """Check the code; then the ballot (to fill in, or to change where the round allows)."""
    if not _csrf_ok(request, form):
        return _csrf_refused(request)
    round_ = _round_for_voting(request, round_id, db)
    if isinstance(round_, Response):
        return round_
    code = _text(form, "code", 100)
    errors = Errors()
    if not code:
        errors.add("code", "error.code_missing")
        return render(request, "code.html", status=422, round=round_, code=code, errors=errors)
    state, detail = _code_state(request, round_, code, db, keys)
    if state in ("new", "change"):
        return _render_ballot(request, round_, code, state, detail)
    if state == "already-voted":
        return render(request, "refused.html", status=409, round=round_)
    errors.add("code", f"error.{state}")
    return render(request, "code.html", status=detail, round=round_, code=code, errors=errors)


def _ballot_step(
    round_id: int, request: Request, form: FormData, db: Any
) -> tuple[Any, str, str, BallotForm, Errors] | Response:
    if not _csrf_ok(request, form):
        return _csrf_refused(request)
    round_ = _round_for_voting(request, round_id, db)
    if isinstance(round_, Response):
        return round_
    code = _text(form, "code", 100)
    mode = "change" if _text(form, "mode", 10) == "change" else "new"
    errors = Errors()
    ballot = _parse_ballot(round_, form, errors)
    return round_, code, mode, ballot, errors


def _check_with_core(request: Request, round_: Any, ballot: BallotForm, db: Any) -> Errors:
    """The core's ballot problems (:func:`budgeting.ballot_problems`), by form field."""
    errors = Errors()
    t = _t(request)
    points = api_rounds.BallotIn(code="x", projects=ballot.projects, points=ballot.api_points())
    with db.reading() as session:
        stored = session.get(BudgetRound, round_.id)
        if stored is None:  # pragma: no cover - it was there a moment ago
            return errors
        instance = api_rounds._frozen_instance(request, session, stored)
    values = None if points.points is None else tuple(parse_number(p) for p in points.points)
    for problem in ballot_problems(instance, Ballot("", tuple(ballot.projects), values)):
        text = problem.en if t.lang == "en" else problem.nl
        errors.add(_problem_field(round_, problem.code, problem.params), text)
    return errors


@router.post("/vote/{round_id}/review", response_model=None)
def vote_review(round_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Check the ballot and show it for review (or show it again with the problems)."""
    step = _ballot_step(round_id, request, form, db)
    if isinstance(step, Response):
        return step
    round_, code, mode, ballot, errors = step
    if not errors:
        try:
            errors = _check_with_core(request, round_, ballot, db)
        except ValidationError:
            errors.add("ballot", "error.invalid-ballot")
    if errors:
        return _render_ballot(request, round_, code, mode, ballot, errors=errors, status=422)
    return render(
        request,
        "review.html",
        here=f"/vote/{round_id}",
        round=round_,
        code=code,
        mode=mode,
        **_ballot_context(round_, ballot),
    )


@router.post("/vote/{round_id}/ballot", response_model=None)
def vote_edit(round_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Back from the review to the ballot, with the choices kept."""
    step = _ballot_step(round_id, request, form, db)
    if isinstance(step, Response):
        return step
    round_, code, mode, ballot, _ = step
    return _render_ballot(request, round_, code, mode, ballot)


@router.post("/vote/{round_id}/confirm", response_model=None)
def vote_confirm(round_id: Id, request: Request, form: Form, db: DB, keys: AppKeys) -> Response:
    """Cast (or change) the ballot through the API's function; the receipt."""
    step = _ballot_step(round_id, request, form, db)
    if isinstance(step, Response):
        return step
    round_, code, mode, ballot, errors = step
    if errors:
        return _render_ballot(request, round_, code, mode, ballot, errors=errors, status=422)
    t = _t(request)
    try:
        body = api_rounds.BallotIn(code=code, projects=ballot.projects, points=ballot.api_points())
        vote = api_rounds.change_ballot if mode == "change" else api_rounds.cast_ballot
        receipt = vote(round_id, body, request, db, keys)
    except ValidationError:
        errors.add("ballot", "error.invalid-ballot")
        return _render_ballot(request, round_, code, mode, ballot, errors=errors, status=422)
    except ApiError as error:
        if error.code == "invalid-ballot":
            for problem in error.extra.get("problems", []):
                errors.add("ballot", problem["en"] if t.lang == "en" else problem["nl"])
            return _render_ballot(request, round_, code, mode, ballot, errors=errors, status=422)
        if error.code == "already-voted" or error.code == "changes-not-allowed":
            return render(request, "refused.html", status=409, round=round_)
        if error.code in ("invalid-code", "code-revoked", "too-many-attempts"):
            errors.add("code", f"error.{error.code}")
            return render(
                request, "code.html", status=error.status, round=round_, code="", errors=errors
            )
        return _api_error_page(request, error)
    return render(
        request, "receipt.html", status=201, round=round_, receipt=receipt, mode=mode, here="/"
    )


# --------------------------------------------------------------------------- organisers


def _organiser(request: Request, db: Any) -> Organiser | None:
    """The organiser logged in with the login cookie (the API's login token), if any."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not token or len(token) > 200:
        return None
    return organiser_for_token(db, token)


def _login_needed() -> RedirectResponse:
    return _redirect("/organiser/login")


@router.get("/organiser/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", name="")


@router.post("/organiser/login", response_model=None)
def login(request: Request, form: Form, db: DB, settings: AppSettings) -> Response:
    """Log in with the API's :func:`service.api_auth.login`; the token goes in a cookie."""
    if not _csrf_ok(request, form):
        return _csrf_refused(request)
    name, password = _text(form, "name", 100), _text(form, "password", 1000)
    errors = Errors()
    if not name:
        errors.add("name", "error.name_missing")
    if not password:
        errors.add("password", "error.password_missing")
    if not errors:
        try:
            answer = api_auth.login(
                api_auth.LoginRequest(name=name, password=password), db, settings
            )
        except (ApiError, ValidationError):
            errors.add("password", "error.bad-login")
        else:
            response = _redirect("/organiser")
            response.set_cookie(
                LOGIN_COOKIE,
                answer.token,
                max_age=int(settings.token_hours * 3600),
                httponly=True,
                samesite="lax",
                secure=_secure(request),
            )
            return response
    return render(request, "login.html", status=401, name=name, errors=errors)


@router.post("/organiser/logout", response_model=None)
def logout(request: Request, form: Form, db: DB) -> Response:
    """End the login token (as ``POST /api/auth/logout`` does) and forget the cookie."""
    if not _csrf_ok(request, form):
        return _csrf_refused(request)
    organiser = _organiser(request, db)
    if organiser is not None:
        api_auth.end_login(db, organiser, request.cookies.get(LOGIN_COOKIE, ""))
    response = _redirect("/")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.get("/organiser", response_model=None)
def organiser_home(request: Request, db: DB) -> Response:
    """The organiser's rounds and a form for a new one."""
    organiser = _organiser(request, db)
    if organiser is None:
        return _login_needed()
    rounds = api_rounds.list_rounds(organiser, db)
    return render(
        request,
        "organiser.html",
        organiser=organiser,
        rounds=rounds,
        form={},
        rules=PB_RULES,
    )


_ROUND_FIELDS: Final = ("name", "budget", "vote_type", "rule", "currency")


@router.post("/organiser/rounds", response_model=None)
def create_round(request: Request, form: Form, db: DB) -> Response:
    """Create a round with :func:`service.api_rounds.create_round`."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    values = {name: _text(form, name, 200) for name in (*_ROUND_FIELDS, "max_length", "points")}
    errors = Errors()
    rules: dict[str, Any] = {}
    for name, rule in (("max_length", "max_length"), ("points", "max_sum_points")):
        if values[name]:
            if not values[name].isdigit():
                errors.add(name, "error.whole_number")
            else:
                rules[rule] = int(values[name])
    if not errors:
        try:
            body = api_rounds.RoundCreate(
                name=values["name"],
                budget=values["budget"] or "0",
                vote_type=values["vote_type"],  # type: ignore[arg-type]
                rule=values["rule"] or "greedy",
                currency=values["currency"],
                ballot_rules=api_rounds.BallotRulesIn(**rules),
                allow_changes=form.get("allow_changes") == "yes",
            )
            created = api_rounds.create_round(body, organiser, db)
        except ValidationError as error:
            for problem in error.errors():
                where = str(problem["loc"][0]) if problem.get("loc") else None
                if where == "ballot_rules":
                    where = "points" if "max_sum_points" in str(problem["loc"]) else "max_length"
                errors.add(where if where in values else None, str(problem["msg"]))
        except ApiError as error:
            field_name = {"bad-budget": "budget", "unknown-rule": "rule"}.get(error.code)
            if error.code == "missing-max-sum-points":
                field_name = "points"
            errors.add(field_name, error.message)
        else:
            return _redirect(f"/organiser/rounds/{created.id}")
    rounds = api_rounds.list_rounds(organiser, db)
    return render(
        request,
        "organiser.html",
        status=422,
        organiser=organiser,
        rounds=rounds,
        form=values,
        rules=PB_RULES,
        errors=errors,
    )


def _round_page(
    request: Request,
    organiser: Organiser,
    round_id: int,
    db: Any,
    *,
    errors: Errors | None = None,
    status: int = 200,
    project: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        round_ = api_rounds.get_round(round_id, organiser, db)
        codes = api_rounds.list_codes(round_id, organiser, db)
    except ApiError as error:
        return _api_error_page(request, error, organiser=organiser)
    result = None
    context: dict[str, Any] = {}
    if round_.status in ("closed", "published"):
        result = api_rounds.organiser_results(round_id, organiser, db)
        context = _results_context(_t(request), round_, result)
    return render(
        request,
        "round.html",
        status=status,
        here=f"/organiser/rounds/{round_id}",
        organiser=organiser,
        round=round_,
        codes=codes,
        errors=errors,
        project=project or {},
        vote_url=str(request.base_url).rstrip("/") + f"/vote/{round_id}",
        **context,
    )


@router.get("/organiser/rounds/{round_id}", response_model=None)
def round_page(round_id: Id, request: Request, db: DB) -> Response:
    """One round: its settings, projects, codes and the next step of its life."""
    organiser = _organiser(request, db)
    if organiser is None:
        return _login_needed()
    return _round_page(request, organiser, round_id, db)


def _organiser_post(request: Request, form: FormData, db: Any) -> Organiser | Response:
    """The organiser behind a form, or the refusal: 403 without the CSRF token, 401 without a
    login (a page with a link to the login form)."""
    if not _csrf_ok(request, form):
        return _csrf_refused(request)
    organiser = _organiser(request, db)
    if organiser is None:
        return render(request, "login_needed.html", status=401)
    return organiser


@router.post("/organiser/rounds/{round_id}/projects", response_model=None)
def add_project(round_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Add one project (the API replaces the list: the current ones plus this one)."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    project = {name: _text(form, name, 500) for name in ("id", "name", "cost")}
    errors = Errors()
    for name in ("id", "cost"):
        if not project[name]:
            errors.add(f"project-{name}", "error.required")
    if not errors:
        try:
            round_ = api_rounds.get_round(round_id, organiser, db)
            items = [
                api_rounds.ProjectIn(id=p.id, name=p.name, cost=p.cost, categories=p.categories)
                for p in round_.projects
            ]
            items.append(
                api_rounds.ProjectIn(id=project["id"], name=project["name"], cost=project["cost"])
            )
            api_rounds.set_projects(round_id, items, organiser, db)
        except ValidationError as error:
            for problem in error.errors():
                where = str(problem["loc"][0]) if problem.get("loc") else ""
                target = f"project-{where}" if where in ("id", "name", "cost") else None
                errors.add(target, str(problem["msg"]))
        except ApiError as error:
            target = "project-id" if "project" in error.code else None
            errors.add(target, _error_message(_t(request), error))
        else:
            return _redirect(f"/organiser/rounds/{round_id}#projects")
    return _round_page(request, organiser, round_id, db, errors=errors, status=422, project=project)


@router.post("/organiser/rounds/{round_id}/projects.csv", response_model=None)
def upload_projects(round_id: Id, request: Request, form: Form, db: DB) -> Response:
    """Replace the projects from a CSV file (:func:`service.api_rounds.parse_projects_csv`)."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    upload = form.get("file")
    errors = Errors()
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add("file", "error.file_missing")
    else:
        try:
            items = api_rounds.parse_projects_csv(upload.file.read())
            api_rounds.set_projects(round_id, items, organiser, db)
        except ApiError as error:
            errors.add("file", error.message)
        else:
            return _redirect(f"/organiser/rounds/{round_id}#projects")
    return _round_page(request, organiser, round_id, db, errors=errors, status=422)


@router.post("/organiser/rounds/{round_id}/codes", response_model=None)
def issue_codes(round_id: Id, request: Request, form: Form, db: DB, keys: AppKeys) -> Response:
    """Issue codes and show them once, as printable letters (one per page)."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    count = _text(form, "count", 10)
    errors = Errors()
    if not count.isdigit() or not 1 <= int(count) <= MAX_LETTERS:
        errors.add("count", "error.count_range")
        return _round_page(request, organiser, round_id, db, errors=errors, status=422)
    try:
        answer = api_rounds.issue_codes(
            round_id, api_rounds.CodeRequest(count=int(count)), organiser, db, keys, "json"
        )
        round_ = api_rounds.get_round(round_id, organiser, db)
    except ApiError as error:
        errors.add("count", _error_message(_t(request), error))
        return _round_page(request, organiser, round_id, db, errors=errors, status=409)
    codes = json.loads(bytes(answer.body))["codes"]
    return render(
        request,
        "letters.html",
        here=f"/organiser/rounds/{round_id}",
        organiser=organiser,
        round=round_,
        codes=codes,
        vote_url=str(request.base_url).rstrip("/") + f"/vote/{round_id}",
    )


_ACTIONS: Final = {
    "open": api_rounds.open_round,
    "close": api_rounds.close_round,
    "publish": api_rounds.publish_round,
}


@router.post("/organiser/rounds/{round_id}/{action}", response_model=None)
def round_action(round_id: Id, action: str, request: Request, form: Form, db: DB) -> Response:
    """Open, close or publish the round."""
    organiser = _organiser_post(request, form, db)
    if isinstance(organiser, Response):
        return organiser
    step = _ACTIONS.get(action)
    if step is None:
        return _error_page(request, 404, _t(request)("error.not-found"), organiser=organiser)
    try:
        step(round_id, organiser, db)
    except ApiError as error:
        errors = Errors()
        errors.add(None, _error_message(_t(request), error))
        return _round_page(request, organiser, round_id, db, errors=errors, status=error.status)
    return _redirect(f"/organiser/rounds/{round_id}")


# The draw pages (service/web/draws.py) join this router.
from service.web import draws as _draws  # noqa: E402  (it imports the helpers above)

router.routes.extend(_draws.router.routes)  # flat: one router, plain routes
