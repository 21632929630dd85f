"""In a real browser: residents vote, the public reads results, organisers run a round and a
draw. Every page is checked with axe-core and photographed at phone and desktop width."""

# ruff: noqa: F811  (pytest fixtures imported from web_support are redefined as arguments)
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from web_support import (  # noqa: F401  (fixtures)
    CHROMIUM,
    PASSWORD,
    Server,
    browser,
    check_page,
    page,
    page_without_js,
    server,
)

if not CHROMIUM.exists():
    pytest.skip(
        "skipped: /usr/bin/chromium is absent (install it with `apt-get install -y chromium`)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="the Python package playwright is missing")
pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="the Python package axe-playwright-python is missing",
)


def _enter_code(page: Any, round_id: int, code: str) -> None:
    page.goto(f"/vote/{round_id}")
    page.get_by_label("Uw stemcode").fill(code)
    page.get_by_role("button", name="Verder").click()


def test_knapsack_overspending_blocked_then_receipt_and_no_change(
    page: Any, server: Server
) -> None:
    round_id, codes = server.round(vote_type="knapsack", allow_changes=False)
    page.goto(f"/vote/{round_id}")
    assert page.locator("html").get_attribute("lang") == "nl"
    check_page(page, "vote-code")
    _enter_code(page, round_id, codes[0].lower().replace("-", " "))  # as typed from a letter
    check_page(page, "ballot-knapsack")
    page.get_by_label("Speeltuin").check()
    text = page.locator("#budget-text")
    assert "40" in text.inner_text() and "over" in text.inner_text()  # live, by ballot.js
    page.get_by_label("Bankjes in het park").check()
    assert "te veel" in text.inner_text()
    assert float(page.locator("#budget-meter").get_attribute("value") or 0) >= 0
    page.get_by_role("button", name="Verder naar controleren").click()
    # refused by the server, the message tied to the ballot's fieldset
    error = page.locator("#ballot-error")
    assert "110" in error.inner_text() and "100" in error.inner_text()
    described = page.locator("fieldset.ballot").get_attribute("aria-describedby") or ""
    assert "ballot-error" in described.split()
    check_page(page, "ballot-knapsack-overspent")
    page.get_by_label("Bankjes in het park").uncheck()
    page.get_by_label("Bomen in de Amsterdamstraat").check()
    page.get_by_role("button", name="Verder naar controleren").click()
    assert page.get_by_role("heading", name="Controleer uw stem").is_visible()
    check_page(page, "review")
    page.get_by_role("button", name="Stem bevestigen").click()
    receipt = page.locator("#receipt").inner_text()
    assert re.fullmatch(r"[0-9a-f]{32}", receipt)
    check_page(page, "receipt")
    # the round does not allow changes: a second visit with the same code is refused
    _enter_code(page, round_id, codes[0])
    assert page.get_by_role("heading", name="U heeft al gestemd").is_visible()
    check_page(page, "refused")
    with server.api() as client:
        client.post(f"/api/rounds/{round_id}/close", headers=server.organiser())
        client.post(f"/api/rounds/{round_id}/publish", headers=server.organiser())
        ballots = client.get(f"/api/public/rounds/{round_id}/ballots").json()["ballots"]
    assert [b["projects"] for b in ballots] == [["a", "c"]]


def test_wrong_code_is_an_error_tied_to_the_field(page: Any, server: Server) -> None:
    round_id, _ = server.round(vote_type="knapsack", codes=1)
    _enter_code(page, round_id, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    code_input = page.get_by_label("Uw stemcode")
    assert code_input.get_attribute("aria-invalid") == "true"
    assert "code-error" in (code_input.get_attribute("aria-describedby") or "")
    assert "klopt niet" in page.locator("#code-error").inner_text()
    check_page(page, "vote-code-wrong")


def test_change_ballot_where_the_round_allows_it(page: Any, server: Server) -> None:
    round_id, codes = server.round(
        vote_type="approval", allow_changes=True, ballot_rules={"max_length": 2}
    )
    _enter_code(page, round_id, codes[0])
    page.get_by_label("Speeltuin").check()
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Stem bevestigen").click()
    first = page.locator("#receipt").inner_text()
    assert "wijzigen" in page.locator("main").inner_text()
    _enter_code(page, round_id, codes[0])
    assert page.get_by_text("U heeft al gestemd. Hieronder staat uw stem").is_visible()
    assert page.get_by_label("Speeltuin").is_checked()
    check_page(page, "ballot-change")
    page.get_by_label("Speeltuin").uncheck()
    page.get_by_label("Bankjes in het park").check()
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Stem bevestigen").click()
    assert "gewijzigde stem" in page.locator("main").inner_text()
    assert page.locator("#receipt").inner_text() != first


def test_approval_up_to_k(page: Any, server: Server) -> None:
    round_id, codes = server.round(vote_type="approval", ballot_rules={"max_length": 2})
    _enter_code(page, round_id, codes[0])
    assert "hoogstens 2" in page.locator("#ballot-hint").inner_text()
    check_page(page, "ballot-approval")
    for name in ("Speeltuin", "Bankjes in het park", "Bomen in de Amsterdamstraat"):
        page.get_by_label(name).check()
    page.get_by_role("button", name="Verder naar controleren").click()
    assert "kies er hoogstens 2" in page.locator("#ballot-error").inner_text()
    page.get_by_label("Speeltuin").uncheck()
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Stem bevestigen").click()
    assert page.locator("#receipt").is_visible()


def test_points_ballot(page: Any, server: Server) -> None:
    round_id, codes = server.round(vote_type="cumulative", ballot_rules={"max_sum_points": 10})
    _enter_code(page, round_id, codes[0])
    check_page(page, "ballot-points")
    page.get_by_label("Speeltuin").fill("8")
    page.get_by_label("Bankjes in het park").fill("5")
    assert "-3" in page.locator("#points-text").inner_text()  # live count by ballot.js
    page.get_by_role("button", name="Verder naar controleren").click()
    assert "13" in page.locator("#ballot-error").inner_text()
    page.get_by_label("Bankjes in het park").fill("2")
    page.get_by_role("button", name="Verder naar controleren").click()
    check_page(page, "review-points")
    page.get_by_role("button", name="Stem bevestigen").click()
    assert page.locator("#receipt").is_visible()
    with server.api() as client:
        headers = server.organiser()
        client.post(f"/api/rounds/{round_id}/close", headers=headers)
        ballots = client.get(f"/api/rounds/{round_id}/ballots", headers=headers).json()
    assert [(b["projects"], b["points"]) for b in ballots["ballots"]] == [(["a", "b"], ["8", "2"])]


def test_ranking_ballot_with_a_select_per_rank(page: Any, server: Server) -> None:
    round_id, codes = server.round(vote_type="ordinal")
    _enter_code(page, round_id, codes[0])
    check_page(page, "ballot-ranking")
    page.get_by_label("Plaats 1").select_option("c")
    page.get_by_label("Plaats 2").select_option("a")
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Stem bevestigen").click()
    assert page.locator("#receipt").is_visible()


def test_knapsack_ballot_works_without_javascript(page_without_js: Any, server: Server) -> None:
    page = page_without_js
    round_id, codes = server.round(vote_type="knapsack")
    _enter_code(page, round_id, codes[0])
    page.get_by_label("Speeltuin").check()
    page.get_by_label("Bankjes in het park").check()
    assert "te veel" not in page.locator("#budget-text").inner_text()  # no script, no update
    page.get_by_role("button", name="Verder naar controleren").click()
    assert "110" in page.locator("#ballot-error").inner_text()
    assert "te veel" in page.locator("#budget-text").inner_text()  # the server's own bar
    page.get_by_label("Bankjes in het park").uncheck()
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Terug, keuze aanpassen").click()
    assert page.get_by_label("Speeltuin").is_checked()
    page.get_by_role("button", name="Verder naar controleren").click()
    page.get_by_role("button", name="Stem bevestigen").click()
    assert page.locator("#receipt").is_visible()


def test_results_with_charts_and_downloads(page: Any, server: Server) -> None:
    votes = [{"projects": ["a", "c"]}, {"projects": ["a"]}, {"projects": ["b", "c"]}]
    round_id, _ = server.round(vote_type="knapsack", codes=3, votes=votes, status="published")
    page.goto("/")
    check_page(page, "home")
    page.get_by_role("link", name=re.compile("Bekijk de uitslag")).first.click()
    page.goto(f"/results/{round_id}")
    charts = page.locator("svg[role=img]")
    assert charts.count() == 2
    for index in range(2):
        labelled = charts.nth(index).get_attribute("aria-labelledby") or ""
        assert all(page.locator(f"#{ident}").count() == 1 for ident in labelled.split())
    table = page.locator("#results-table")
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    text = table.inner_text()
    assert "Speeltuin" in text and "ja" in text and "nee" in text
    assert page.locator("svg rect.bar-on").count() == 2  # a (60) and c (40) are funded
    check_page(page, "results")
    with server.api() as client:
        for link in ("Anonieme stemmen (JSON)", "Pabulib-bestand (.pb)"):
            href = page.get_by_role("link", name=link).get_attribute("href")
            answer = client.get(href or "")
            assert answer.status_code == 200
        ballots = client.get(f"/api/public/rounds/{round_id}/ballots").json()
    assert len(ballots["ballots"]) == 3
    page.goto(f"/results/{round_id}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Why or why not").is_visible()
    page.goto("/")  # the choice is remembered in the lang cookie
    assert page.get_by_role("heading", name="Neighbourhood budget").is_visible()
    check_page(page, "home-en")


def test_organiser_runs_a_round(page: Any, server: Server, tmp_path: Any) -> None:
    server.organiser("carol")
    page.goto("/organiser")
    assert page.get_by_role("heading", name="Inloggen voor organisatoren").is_visible()
    page.get_by_label("Naam").fill("carol")
    page.get_by_label("Wachtwoord").fill("wrong password")
    page.get_by_role("button", name="Inloggen").click()
    assert "klopt niet" in page.locator("#password-error").inner_text()
    check_page(page, "organiser-login")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    assert page.get_by_role("heading", name="Mijn stemrondes").is_visible()
    check_page(page, "organiser-rounds")
    page.get_by_label("Naam van de ronde").fill("Buurtbudget Oost")
    page.get_by_label("Budget", exact=True).fill("1000")
    page.get_by_label("Soort stembiljet").select_option("knapsack")
    page.get_by_role("button", name="Ronde aanmaken").click()
    assert page.get_by_role("heading", name="Buurtbudget Oost").is_visible()
    # one project by hand, then a CSV upload (replaces the list)
    page.get_by_label("Kenmerk").fill("p1")
    page.get_by_label("Kosten", exact=True).fill("abc")
    page.get_by_role("button", name="Toevoegen").click()
    assert (
        "getal" in page.locator("#project-cost-error").inner_text()
        or page.locator("#project-cost-error").is_visible()
    )
    assert page.locator("#project-id-error").count() == 0
    check_page(page, "organiser-round-error")
    page.get_by_label("Kosten", exact=True).fill("300")
    page.get_by_role("button", name="Toevoegen").click()
    assert "p1" in page.locator("#projects table").inner_text()
    csv = tmp_path / "projects.csv"
    csv.write_text("id,name,cost\nq1,Speelplek,400\nq2,Moestuin,350\nq3,Bankjes,500\n")
    page.get_by_label("CSV-bestand").set_input_files(str(csv))
    page.get_by_role("button", name="Uploaden").click()
    assert "Moestuin" in page.locator("#projects table").inner_text()
    check_page(page, "organiser-round-draft")
    # letters: a printable page, one letter per sheet
    page.get_by_label("Aantal brieven").fill("3")
    page.get_by_role("button", name="Codes maken en brieven tonen").click()
    letters = page.locator("article.letter")
    assert letters.count() == 3
    codes = [letters.nth(i).locator(".code code").inner_text() for i in range(3)]
    check_page(page, "letters")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    breaks = page.evaluate(
        "[...document.querySelectorAll('article.letter')].map(e => getComputedStyle(e).breakAfter)"
    )
    assert breaks[:2] == ["page", "page"]
    page.pdf(path=str(tmp_path / "letters.pdf"))
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Terug naar de ronde").click()
    page.get_by_role("button", name="Stemmen openen").click()
    assert page.locator("#round-status").inner_text() == "open"
    round_url = page.url
    # a resident votes with a printed code
    round_id = int(round_url.rstrip("/").split("/")[-1])
    resident = page.context.new_page()
    _enter_code(resident, round_id, codes[0])
    resident.get_by_label("Moestuin").check()
    resident.get_by_label("Speelplek").check()
    resident.get_by_role("button", name="Verder naar controleren").click()
    resident.get_by_role("button", name="Stem bevestigen").click()
    assert resident.locator("#receipt").is_visible()
    resident.close()
    page.reload()
    page.get_by_role("button", name="Stemmen sluiten").click()
    assert page.locator("#round-status").inner_text() == "gesloten"
    assert page.locator("#results-table").is_visible()
    check_page(page, "organiser-round-closed")
    page.get_by_role("button", name="Uitslag publiceren").click()
    assert page.locator("#round-status").inner_text() == "gepubliceerd"
    page.get_by_role("link", name="Bekijk de uitslag").click()
    funded = page.locator("ul.funded").inner_text()
    assert "Moestuin" in funded and "Speelplek" in funded
    # log out: the organiser pages ask for a login again
    page.get_by_role("button", name=re.compile("Uitloggen")).click()
    page.goto("/organiser")
    assert page.get_by_role("heading", name="Inloggen voor organisatoren").is_visible()


def test_skip_link_is_the_first_tab_stop(page: Any, server: Server) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_forms_refuse_a_post_without_the_csrf_token(server: Server) -> None:
    round_id, codes = server.round(vote_type="knapsack", codes=1)
    with server.api() as client:
        answer = client.post(f"/vote/{round_id}", data={"code": codes[0]})
        assert answer.status_code == 403
        page = client.get(f"/vote/{round_id}")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(f"/vote/{round_id}", data={"code": codes[0], "csrf": "0" * 64})
        assert answer.status_code == 403
        answer = client.post(f"/vote/{round_id}", data={"code": codes[0], "csrf": token[1]})
        assert answer.status_code == 200
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


# --------------------------------------------------------------------------- draws

QUOTAS = (
    ("gender", "f", 3, 5),
    ("gender", "m", 3, 5),
    ("age", "young", 2, 4),
    ("age", "old", 2, 5),
    ("area", "north", 2, 5),
    ("area", "south", 2, 5),
)


def _files(folder: Path) -> tuple[Path, Path]:
    rng = random.Random(11)
    lines = ["id,naam,gender,age,area"]
    for i in range(40):
        gender, age, area = (
            rng.choice("fm"),
            rng.choice(["young", "old"]),
            rng.choice(["north", "south"]),
        )
        lines.append(f"R-{i:03d},Naam {i},{gender},{age},{area}")
    pool = folder / "people.csv"
    pool.write_text("\n".join(lines) + "\n")
    quotas = folder / "quotas.csv"
    quotas.write_text(
        "feature,value,min,max\n" + "".join(f"{f},{v},{lo},{hi}\n" for f, v, lo, hi in QUOTAS)
    )
    return pool, quotas


def _login(page: Any, server: Server, name: str) -> None:
    server.organiser(name)
    page.goto("/organiser/login")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def test_organiser_runs_a_draw_end_to_end(page: Any, server: Server, tmp_path: Path) -> None:
    pool, quotas = _files(tmp_path)
    _login(page, server, "dora")
    page.goto("/organiser/draws")
    check_page(page, "draws")
    page.get_by_label("Naam van de loting").fill("Burgerpanel Noord")
    page.get_by_label("Bestand met de kandidaten").set_input_files(str(pool))
    page.get_by_label("Bestand met de quota").set_input_files(str(quotas))
    page.get_by_label("Grootte van het panel").fill("8")
    page.get_by_label("Bron van het toeval").fill("dobbelstenen voor de camera, 1 december")
    page.get_by_label("Aantal panels in de loterij").fill("200")
    # the feasibility check with an impossible size first: the error is tied to a field
    page.get_by_label("Grootte van het panel").fill("100")
    page.get_by_role("button", name="Quota controleren").click()
    assert page.locator(".field-error").count() >= 1
    assert page.locator("[aria-invalid=true]").count() >= 1
    page.get_by_label("Bestand met de kandidaten").set_input_files(str(pool))
    page.get_by_label("Bestand met de quota").set_input_files(str(quotas))
    page.get_by_label("Grootte van het panel").fill("8")
    page.get_by_role("button", name="Quota controleren").click()
    assert page.locator("#check-table tbody tr").count() == len(QUOTAS)
    check_page(page, "draws-check")
    page.get_by_label("Bestand met de kandidaten").set_input_files(str(pool))
    page.get_by_label("Bestand met de quota").set_input_files(str(quotas))
    page.get_by_role("button", name="Loting berekenen").click()
    assert re.search(r"/organiser/draws/\d+$", page.url)
    draw_id = int(page.url.rsplit("/", 1)[1])
    if page.locator("#job-bar").count():  # still computing: a progress bar and a refresh link
        assert page.locator("#refresh").get_attribute("href") == f"/organiser/draws/{draw_id}"
        check_page(page, "draw-progress")
    # draw.js polls the job and reloads the page when it is done
    page.locator("#commitment").wait_for(timeout=90_000)
    assert page.locator("#draw-status").inner_text() == "berekend, nog niet gepubliceerd"
    assert page.locator("svg[role=img]").count() == 1
    assert page.locator("#quota-table tbody tr").count() == len(QUOTAS)
    assert page.locator("#probability-table tbody tr").count() == 40
    check_page(page, "draw-computed")
    commitment = page.locator("#commitment").inner_text()
    page.get_by_role("button", name="Vastlegging publiceren").click()
    assert page.locator("#draw-status").inner_text() == "vastlegging gepubliceerd"
    public = page.context.new_page()
    public.goto(f"/draws/{draw_id}")
    assert public.locator("#commitment").inner_text() == commitment
    check_page(public, "draw-public-committed")
    page.get_by_label("Toevalswaarde").fill("3-6-1-4-2-5")
    page.get_by_role("button", name="Loten").click()
    assert page.locator("#draw-status").inner_text() == "geloot"
    members = page.locator("#panel-table tbody tr th")
    assert members.count() == 8
    first = members.first.inner_text()
    check_page(page, "draw-revealed")
    page.get_by_label("Lid dat niet meer meedoet").fill(first)
    page.get_by_role("button", name="Vervangen").click()
    assert first in page.locator("[role=status]").inner_text()
    assert first not in page.locator("#panel-table").inner_text()
    with page.expect_download() as info:
        page.locator("#bundle-link").click()
    bundle = json.loads(Path(info.value.path()).read_text())
    assert bundle["reveal"]["seed"] == "3-6-1-4-2-5"
    assert len(bundle["events"]) == 1
    public.goto(f"/draws/{draw_id}")
    panel = public.locator("#panel-list li")
    assert panel.count() == 8
    assert "R-0" not in public.locator("main").inner_text()  # pseudonyms only
    check_page(public, "draw-public-revealed")
    public.close()
