"""Tests of the drawn neighbourhood council (``sortition.council``, ``stadmaken council``).

A small generated pool (60 respondents in three wijken, 2 seats each, six two-person
households) goes through a whole council cycle: the first draw, its reveal with cohorts, a
member stepping down, the renewal a year later with the cool-down, a step-down in an earlier
round after the renewal, and the verification of the chain, including tampering. The command
line is run in-process through a typer app that adds ``council_app``; every bad input must give
exit 2, one ``error:`` line, no traceback and no changed file. MAXIMIN and 100-panel lotteries
keep the file fast.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from service.council_cli import council_app
from sortition import InputError, Person, Pool, Quotas, audit
from sortition.council import (
    CouncilState,
    CouncilTerms,
    assign_cohorts,
    check_bundles,
    first_draw,
    parse_state,
    renew,
    reveal_round,
    step_down,
    verify_council,
)
from sortition.errors import AuditError

WIJKEN = ("Centrum", "Noord", "Oost")
KEY = "00112233445566778899aabbccddeeff" * 2
HEADER = ("id", "naam", "wijk", "geslacht", "postcode", "huisnummer")
Row = dict[str, str]

app = typer.Typer()
app.add_typer(council_app, name="council")
runner = CliRunner()


# --------------------------------------------------------------------------- data


def make_people(ids: range, seed: int = 11) -> list[Row]:
    """Respondents ``R000``...; ids 0-11 live in pairs (same postcode and number)."""
    rng = random.Random(seed)
    rows = []
    for i in ids:
        household = i // 2 if i < 12 else 100 + i
        rows.append(
            {
                "id": f"R{i:03d}",
                "naam": f"Geheim {i}",
                "wijk": WIJKEN[i % 3],
                "geslacht": rng.choice(["vrouw", "man"]),
                "postcode": f"20{household:02d}AB",
                "huisnummer": str(household),
            }
        )
    return rows


def write_csv(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as working folder, with every input of the cycle written there."""
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "people.csv", HEADER, make_people(range(60)))
    write_csv(tmp_path / "people2027.csv", HEADER, make_people(range(90), seed=12))
    write_text(tmp_path / "seats.csv", "wijk,seats\nCentrum,2\nNoord,2\nOost,2\n")
    write_text(
        tmp_path / "quotas.csv", "feature,value,min,max\ngeslacht,vrouw,2,4\ngeslacht,man,2,4\n"
    )
    write_text(tmp_path / "ineligible.csv", "id\nR003\nR007\n")
    write_text(tmp_path / "key.txt", KEY + "\n")
    (tmp_path / "public").mkdir()
    yield tmp_path


def council(*args: str) -> Any:
    return runner.invoke(app, ["council", *args], color=False)


INIT: tuple[str, ...] = (
    "init",
    "--state",
    "state.json",
    "--bundles",
    "public",
    "--name",
    "Wijkraad Test",
    "--seats",
    "seats.csv",
    "--people",
    "people.csv",
    "--year",
    "2026",
    "--term-years",
    "2",
    "--cohorts",
    "2",
    "--cooldown-years",
    "2",
    "--source",
    "drand round 1000",
    "--ineligible",
    "ineligible.csv",
    "--quotas",
    "quotas.csv",
    "--households",
    "postcode,huisnummer",
    "--algorithm",
    "maximin",
    "--panels",
    "100",
    "--key-file",
    "key.txt",
    "--format",
    "json",
)
FILES = ("--state", "state.json", "--bundles", "public")
RENEW: tuple[str, ...] = (
    "renew",
    *FILES,
    "--people",
    "people2027.csv",
    "--year",
    "2027",
    "--source",
    "drand round 2000",
    "--ineligible",
    "ineligible.csv",
    "--households",
    "postcode,huisnummer",
    "--algorithm",
    "maximin",
    "--panels",
    "100",
    "--format",
    "json",
)


def with_option(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    """``args`` with ``option``'s value replaced (or the option added)."""
    items = list(args)
    if option in items:
        items[items.index(option) + 1] = value
        return tuple(items)
    return (*items, option, value)


def succeeded(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def one_error(result: Any) -> str:
    """Exit 2, one ``error:`` line on stderr, nothing on stdout, no traceback."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    line: str = lines[0]
    return line


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mode (temporary files included)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def state_json(folder: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    return value


def load_bundles(folder: Path) -> list[dict[str, Any]]:
    paths = sorted((folder / "public").glob("round-*.json"))
    return [audit.load_bundle(p) for p in paths]


@pytest.fixture
def revealed(workdir: Path) -> Path:
    """The first draw committed and revealed."""
    succeeded(council(*INIT))
    succeeded(council("reveal", *FILES, "--seed", "2026-seed", "--format", "json"))
    return workdir


# --------------------------------------------------------------------------- the cycle


def test_full_cycle_through_the_command_line(workdir: Path) -> None:
    people = {row["id"]: row for row in make_people(range(90), seed=12)}

    # 1. the first draw: committed, private state 0600, public bundle 0644
    committed = succeeded(council(*INIT))
    assert committed["round"] == 0 and committed["year"] == 2026
    assert committed["seats"] == {"Centrum": 2, "Noord": 2, "Oost": 2}
    assert committed["excluded"]["ineligible"] == 2
    assert committed["pool_size"] == 58
    assert (workdir / "state.json").stat().st_mode & 0o777 == 0o600
    assert (workdir / "public" / "round-0.json").stat().st_mode & 0o777 == 0o644
    bundle = audit.load_bundle(workdir / "public" / "round-0.json")
    assert bundle["hashes"]["commitment"] == committed["commitment"]
    assert bundle["reveal"] is None and bundle["draw"]["previous"] is None
    assert bundle["draw"]["council"]["seats"] == {"Centrum": 2, "Noord": 2, "Oost": 2}
    published = json.dumps(bundle)
    assert "R0" not in published and "Geheim" not in published  # pseudonymised

    # 2. the reveal: six members, one per wijk in each of the two cohorts
    shown = succeeded(council("reveal", *FILES, "--seed", "2026-seed", "--format", "json"))
    joined = shown["joined"]
    assert len(joined) == 6
    assert Counter((m["wijk"], m["cohort"]) for m in joined) == {
        (w, c): 1 for w in WIJKEN for c in (0, 1)
    }
    assert {m["term_end"] for m in joined if m["cohort"] == 0} == {2027}
    assert {m["term_end"] for m in joined if m["cohort"] == 1} == {2028}
    assert not {m["id"] for m in joined} & {"R003", "R007"}
    assert (workdir / "state.json").stat().st_mode & 0o777 == 0o600

    # 3. a member of cohort 0 steps down and is replaced in the same wijk and cohort
    leaving = next(m for m in joined if m["cohort"] == 0)
    replaced = succeeded(
        council("replace", *FILES, "--member", leaving["id"], "--year", "2026", "--format", "json")
    )
    assert replaced["stepped_down"] == leaving["id"]
    assert replaced["replacement"] != leaving["id"]
    assert (replaced["wijk"], replaced["cohort"], replaced["term_end"]) == (
        leaving["wijk"],
        0,
        2027,
    )

    # 4. renewal in 2027: cohort 0's three seats, with the cool-down
    status = succeeded(council("status", *FILES, "--format", "json"))
    before = {m["id"]: m for m in status["members"]}
    assert status["next"]["year"] == 2027 and status["next"]["seats"] == dict.fromkeys(WIJKEN, 1)
    renewal = succeeded(council(*RENEW))
    assert renewal["round"] == 1 and renewal["seats"] == dict.fromkeys(WIJKEN, 1)
    assert renewal["continuing"] == 3
    assert renewal["excluded"]["sitting"] == 3
    assert renewal["excluded"]["cooldown"] == 4  # three outgoing and the one who stepped down
    bundle1 = audit.load_bundle(workdir / "public" / "round-1.json")
    assert bundle1["draw"]["previous"] == audit.digest(
        audit.load_bundle(workdir / "public" / "round-0.json")
    )
    state = state_json(workdir)
    drawn_from = set(state["rounds"][1]["mapping"].values())
    continuing = {i for i, m in before.items() if m["cohort"] == 1}
    outgoing = {i for i, m in before.items() if m["cohort"] == 0}
    housemates = {
        j
        for i in continuing
        for j, row in people.items()
        if j != i and row["postcode"] == people[i]["postcode"]
    }
    assert not drawn_from & (continuing | outgoing | {leaving["id"], "R003", "R007"})
    assert not drawn_from & housemates
    assert len(drawn_from) == 90 - 2 - 3 - 4 - renewal["excluded"]["household"]

    # 5. its reveal: the outgoing cohort leaves, the new members serve until 2029
    shown = succeeded(council("reveal", *FILES, "--seed", "2027-seed", "--format", "json"))
    assert {m["id"] for m in shown["left"]} == outgoing
    assert {m["term_end"] for m in shown["joined"]} == {2029}
    assert {m["cohort"] for m in shown["joined"]} == {0}

    # 6. a member of round 0 steps down after the renewal: round 0's chain grows
    staying = sorted(continuing)[0]
    succeeded(council("replace", *FILES, "--member", staying, "--year", "2027", "--format", "json"))
    status = succeeded(council("status", *FILES, "--format", "json"))
    assert len(status["members"]) == 6
    assert [r["events"] for r in status["rounds"]] == [2, 0]
    assert staying not in {m["id"] for m in status["members"]}

    # 7. the public chain verifies
    verified = succeeded(council("verify", "--bundles", "public", "--format", "json"))
    assert verified["verified"] is True and verified["next_year"] == 2028
    assert [r["year"] for r in verified["rounds"]] == [2026, 2027]
    assert Counter(s["wijk"] for s in verified["seats"]) == dict.fromkeys(WIJKEN, 2)
    assert Counter(s["cohort"] for s in verified["seats"]) == {0: 3, 1: 3}
    table = council("verify", "--bundles", "public")
    assert table.exit_code == 0 and "the chain verifies" in table.stdout

    # 8. tampering with a link is detected: cut the event round 1 has seen from round 0
    path = workdir / "public" / "round-0.json"
    tampered = audit.load_bundle(path)
    tampered["events"] = tampered["events"][:0]
    path.write_text(json.dumps(tampered), encoding="utf-8")
    line = one_error(council("verify", "--bundles", "public"))
    assert "round-1.json" in line and "draw.council.chain[0].events" in line
    line = one_error(council("status", *FILES))
    assert "public/round-0.json: the bundle of round 0 is not the one this council" in line


def test_same_key_files_and_seed_give_identical_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.chdir(folder)
        write_csv(folder / "people.csv", HEADER, make_people(range(60)))
        write_text(folder / "seats.csv", "wijk,seats\nCentrum,2\nNoord,2\nOost,2\n")
        write_text(
            folder / "quotas.csv", "feature,value,min,max\ngeslacht,vrouw,2,4\ngeslacht,man,2,4\n"
        )
        write_text(folder / "ineligible.csv", "id\nR003\nR007\n")
        write_text(folder / "key.txt", KEY)
        (folder / "public").mkdir()
        first = council(*INIT)
        second = council("reveal", *FILES, "--seed", "dice:42", "--format", "json")
        assert first.exit_code == second.exit_code == 0
        outputs.append((first.stdout, second.stdout, files(folder)))
    assert outputs[0] == outputs[1]
    assert (
        json.loads(outputs[0][1])["panel_index"] == 42
    )  # two ten-sided dice pick the panel when m = 100


# --------------------------------------------------------------------------- the library


def library_pool(ids: range, seed: int = 5) -> Pool:
    rng = random.Random(seed)
    return Pool(
        tuple(
            Person(
                f"R{i:03d}",
                {"wijk": WIJKEN[i % 3], "geslacht": rng.choice(["vrouw", "man"])},
                f"h{i // 2}" if i < 12 else None,
            )
            for i in ids
        )
    )


TERMS = CouncilTerms("Wijkraad", "wijk", dict.fromkeys(WIJKEN, 2), 2, 2, 2, 2026)
OPTIONS: dict[str, Any] = {"algorithm": "maximin", "panels": 100, "software": "test"}


@pytest.fixture(scope="module")
def chain() -> tuple[CouncilState, list[dict[str, Any]]]:
    """Round 0 revealed with one replacement, round 1 revealed, then a round-0 replacement."""
    drawn = first_draw(TERMS, library_pool(range(60)), key=bytes(32), source="s0", **OPTIONS)
    shown = reveal_round(drawn.state, [drawn.bundle], "seed-0")
    first = shown.state.members[0]
    out = step_down(shown.state, [shown.bundle], first.id, year=2026)
    renewal = renew(out.state, [out.bundle], library_pool(range(90), 6), source="s1", **OPTIONS)
    bundles = [out.bundle, renewal.bundle]
    shown = reveal_round(renewal.state, bundles, "seed-1")
    bundles[1] = shown.bundle
    staying = next(m for m in shown.state.members if m.round == 0)
    out = step_down(shown.state, bundles, staying.id, year=2027)
    bundles[0] = out.bundle
    return out.state, bundles


def refresh(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with its hashes recomputed, as a forger who edits ``draw`` would do."""
    bundle["hashes"] = audit.field_hashes(bundle["draw"])
    return bundle


def test_the_chain_verifies_and_matches_the_state(
    chain: tuple[CouncilState, list[dict[str, Any]]],
) -> None:
    state, bundles = chain
    result = check_bundles(state, bundles)
    assert len(result.rounds) == 2 and not result.pending
    assert len(result.seats) == 6
    assert parse_state(json.loads(json.dumps(state.to_json()))) == state
    assert [f.reason for f in state.former] == ["stepped-down"] + ["term-ended"] * 3 + [
        "stepped-down"
    ]
    council1 = bundles[1]["draw"]["council"]
    assert council1["chain"][0]["events"] == 1  # round 0 had one event when round 1 was drawn
    assert len(bundles[0]["events"]) == 2
    assert council1["renewed"] == dict.fromkeys(WIJKEN, 1)


@pytest.mark.parametrize(
    ("where", "edit"),
    [
        ("draw.council.chain[0].digest", "event"),
        ("draw.council.chain[0].events", "cut"),
        ("draw.previous", "previous"),
        ("draw.council.continuing", "continuing"),
        ("draw.council.renewed", "renewed"),
        ("draw.council.round", "order"),
        ("draw.council", "terms"),
    ],
)
def test_tampering_is_detected(
    chain: tuple[CouncilState, list[dict[str, Any]]], where: str, edit: str
) -> None:
    bundles = copy.deepcopy(chain[1])
    if edit == "event":  # change the event round 1 saw, with a consistent event chain
        event = bundles[0]["events"][0]
        event["previous"] = "0" * 64
        bundles[0]["events"] = [event]
        bundles = [bundles[0], bundles[1]]
        with pytest.raises(AuditError) as raised:
            verify_council(bundles)
        assert raised.value.file == "round 0"  # round 0's own chain is broken first
        return
    if edit == "cut":
        bundles[0]["events"] = []
    elif edit == "previous":
        bundles[1]["draw"]["previous"] = "f" * 64
        refresh(bundles[1])
    elif edit == "continuing":
        bundles[1]["draw"]["council"]["continuing"][0]["cohort"] = 0
        refresh(bundles[1])
    elif edit == "renewed":
        bundles[1]["draw"]["council"]["renewed"]["Oost"] = 2
        refresh(bundles[1])
    elif edit == "order":
        bundles = [bundles[1], bundles[0]]
    elif edit == "terms":
        bundles[1]["draw"]["council"]["cooldown_years"] = 0
        refresh(bundles[1])
    with pytest.raises(AuditError) as raised:
        verify_council(bundles)
    assert raised.value.field == where, raised.value.describe()


def test_a_reserve_who_may_not_sit_is_skipped() -> None:
    drawn = first_draw(TERMS, library_pool(range(60)), key=bytes(32), source="s0", **OPTIONS)
    shown = reveal_round(drawn.state, [drawn.bundle], "seed-0")
    member = shown.state.members[0]
    _, first_reserve = audit.replace(shown.bundle, member.pseudonym)
    blocked = shown.state.rounds[0].mapping[first_reserve]
    out = step_down(shown.state, [shown.bundle], member.id, ineligible={blocked})
    assert out.skipped == 1 and out.replacement.id != blocked
    assert [e["withdrawn"] for e in out.bundle["events"]] == [member.pseudonym, first_reserve]
    assert blocked not in {m.id for m in out.state.members}
    assert len(check_bundles(out.state, [out.bundle]).seats) == 6


def test_cohorts_are_balanced_overall_and_per_wijk() -> None:
    wijk_of = {f"P{i:02d}": WIJKEN[i % 3] for i in range(11)}
    for seed in ("a", "b", "c", "d"):
        cohorts = assign_cohorts(seed, wijk_of, 3)
        assert cohorts == assign_cohorts(seed, wijk_of, 3)
        sizes = Counter(cohorts.values())
        assert max(sizes.values()) - min(sizes.values()) <= 1 and len(sizes) == 3
        for wijk in WIJKEN:
            within = Counter(c for p, c in cohorts.items() if wijk_of[p] == wijk)
            assert max(within.values()) - min(within.values()) <= 1
    assert len({tuple(assign_cohorts(s, wijk_of, 3).values()) for s in "abcdefgh"}) > 1


def test_the_schedule_of_staggered_terms() -> None:
    terms = CouncilTerms("Raad", "wijk", {"A": 6, "B": 3}, 3, 3, 4, 2026)  # a third every year
    assert [terms.renewal_year(r) for r in range(1, 7)] == list(range(2027, 2033))
    assert [terms.renewed_cohort(r) for r in range(1, 7)] == [0, 1, 2, 0, 1, 2]
    assert [terms.term_end(0, c) for c in range(3)] == [2027, 2028, 2029]
    assert terms.term_end(1, 0) == 2030 == terms.renewal_year(4)
    with pytest.raises(InputError, match="multiple of the number of cohorts"):
        CouncilTerms("Raad", "wijk", {"A": 6}, 3, 2, 0, 2026)
    with pytest.raises(InputError, match="at least 3 seats"):
        CouncilTerms("Raad", "wijk", {"A": 2}, 3, 3, 0, 2026)


def test_quotas_on_other_features_are_kept() -> None:
    quotas = Quotas.from_rows([("geslacht", "vrouw", 3, 3), ("geslacht", "man", 3, 3)])
    drawn = first_draw(
        TERMS, library_pool(range(60)), key=bytes(32), source="s", quotas=quotas, **OPTIONS
    )
    cells = {
        (q["feature"], q["value"]): (q["min"], q["max"]) for q in drawn.bundle["draw"]["quotas"]
    }
    assert cells == {
        **{("wijk", w): (2, 2) for w in WIJKEN},
        ("geslacht", "vrouw"): (3, 3),
        ("geslacht", "man"): (3, 3),
    }


# --------------------------------------------------------------------------- bad input


BAD_INIT = [
    ("seats.csv", "wijk,zetels\nCentrum,2\n", (), "no column 'seats'"),
    ("seats.csv", "wijk,seats\nCentrum,0\nNoord,2\nOost,2\n", (), "whole number of 1 or more"),
    ("seats.csv", "wijk,seats\nCentrum,twee\n", (), "row 2, column 'seats'"),
    ("seats.csv", "wijk,seats\nCentrum,2\ncentrum,2\n", (), "also on row 2"),
    ("seats.csv", "wijk,seats\nCentrum,2\nNoord,2\n", (), "'Oost' is not a value of 'wijk'"),
    ("seats.csv", "wijk,seats\nCentrum,40\nNoord,2\nOost,2\n", (), "only 19 eligible"),
    ("quotas.csv", "feature,value,min,max\nwijk,Centrum,1,2\n", (), "quotas.csv"),
    (
        "quotas.csv",
        "feature,value,min,max\ngeslacht,vrouw,5,6\ngeslacht,man,2,4\n",
        (),
        "quotas.csv: the minimums of feature 'geslacht' add up to 7",
    ),
    ("ineligible.csv", "nummer\nR003\n", (), "no column 'id'"),
    ("key.txt", "abc\n", (), "hexadecimal"),
    (
        "people.csv",
        "id,geslacht,postcode,huisnummer\nR001,man,2000AB,1\n",
        (),
        "no column 'wijk' (quota feature)",
    ),
    (None, "", ("--seats", "missing.csv"), "missing.csv"),
    (None, "", ("--term-years", "3"), "multiple of the number of cohorts"),
    (None, "", ("--cohorts", "0"), "number of cohorts is 0"),
    (None, "", ("--cooldown-years", "-1"), "cool-down"),
    (None, "", ("--algorithm", "legacy"), "choose leximin, maximin or nash"),
    (None, "", ("--panels", "0"), "at least 1 panel"),
    (None, "", ("--source", " "), "randomness source"),
    (None, "", ("--households", "postcode,"), "empty column name"),
    (None, "", ("--bundles", "nowhere"), "does not exist"),
    (None, "", ("--name", " "), "needs a name"),
]


@pytest.mark.parametrize(("file", "text", "options", "message"), BAD_INIT)
def test_bad_input_to_init(
    workdir: Path, file: str | None, text: str, options: tuple[str, ...], message: str
) -> None:
    if file is not None:
        write_text(workdir / file, text)
    args = INIT
    for option, value in zip(options[::2], options[1::2], strict=True):
        args = with_option(args, option, value)
    before = files(workdir)
    line = one_error(council(*args))
    assert message in line, line
    assert files(workdir) == before


def test_init_never_overwrites(revealed: Path) -> None:
    before = files(revealed)
    assert "already exists" in one_error(council(*INIT))
    (revealed / "state.json").rename(revealed / "elsewhere.json")
    before = files(revealed)
    line = one_error(council(*INIT))
    assert "round-0.json' already exists" in line
    assert files(revealed) == before


def test_bad_input_after_init(workdir: Path) -> None:
    succeeded(council(*INIT))
    cases: list[tuple[tuple[str, ...], str]] = [
        (("reveal", *FILES, "--seed", ""), "the seed must not be empty"),
        (RENEW, "committed but not revealed"),
        (("replace", *FILES, "--member", "R010"), "committed but not revealed"),
        (("verify", "--bundles", "."), "has no round-0.json"),
    ]
    for args, message in cases:
        before = files(workdir)
        line = one_error(council(*args))
        assert message in line, line
        assert files(workdir) == before


def test_bad_input_after_reveal(revealed: Path) -> None:
    member = state_json(revealed)["members"][0]["id"]
    write_text(
        revealed / "people-bad.csv", "id,wijk,geslacht,postcode,huisnummer\nR001,Zuid,man,1,2\n"
    )
    cases: list[tuple[tuple[str, ...], str]] = [
        (("reveal", *FILES, "--seed", "again"), "already revealed"),
        (("replace", *FILES, "--member", "R999"), "'R999' is not a sitting member"),
        (("replace", *FILES, "--member", member, "--year", "2030"), "cannot step down in 2030"),
        (("replace", *FILES, "--member", member, "--ineligible", "nope.csv"), "nope.csv"),
        (with_option(RENEW, "--year", "2028"), "round 1 in 2027, not 2028"),
        (with_option(RENEW, "--people", "people-bad.csv"), "'Zuid' is not a value of 'wijk'"),
        (with_option(RENEW, "--bundles", "elsewhere"), "does not exist"),
        (("status", "--state", "nothing.json"), "nothing.json"),
    ]
    for args, message in cases:
        before = files(revealed)
        line = one_error(council(*args))
        assert message in line, line
        assert files(revealed) == before


def test_damaged_files_are_refused(revealed: Path) -> None:
    state = revealed / "state.json"
    good = state.read_bytes()
    state.write_bytes(good[: len(good) // 2])
    line = one_error(council("status", *FILES))
    assert "state.json" in line and "truncated" in line
    state.write_bytes(good)

    edited = json.loads(good)
    del edited["rounds"][0]["mapping"]
    write_text(state, json.dumps(edited))
    assert "rounds[0]: has no 'mapping'" in one_error(council("status", *FILES))
    state.write_bytes(good)

    bundle = revealed / "public" / "round-0.json"
    original = bundle.read_bytes()
    changed = json.loads(original)
    changed["reveal"]["seed"] = "another seed"
    write_text(bundle, json.dumps(changed))
    member = state_json(revealed)["members"][0]["id"]
    before = files(revealed)
    line = one_error(council("replace", *FILES, "--member", member))
    assert "round-0.json: the bundle of round 0 is not the one this council state" in line
    assert files(revealed) == before
    line = one_error(council("verify", "--bundles", "public"))
    assert "round-0.json" in line and "reveal.index" in line

    bundle.unlink()
    assert "round-0.json" in one_error(council("status", *FILES))


def test_missing_options_are_usage_errors(workdir: Path) -> None:
    result = council("init", "--state", "state.json")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Missing option" in result.stderr
    assert not (workdir / "state.json").exists()


def test_a_failed_write_leaves_every_file_as_it_was(
    revealed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle and the state are staged together: if the second fails, neither changes."""
    member = state_json(revealed)["members"][0]["id"]
    before = files(revealed)
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    line = one_error(council("replace", *FILES, "--member", member, "--format", "json"))
    assert "cannot write the file (No space left on device)" in line
    assert files(revealed) == before
