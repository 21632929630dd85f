"""Transparent lotteries and audit bundles: rounding, commit, reveal, replace, verify.

Library tests build bundles from the 60-person pool of ``test_cli_draw`` (pseudonymised); the
command-line tests run ``stadmaken draw commit|reveal|replace`` and ``stadmaken verify`` on the
same files, in-process with ``CliRunner`` and, for byte-for-byte reproducibility, in separate
processes.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sortition_cases import Instance, feasible_instances
from test_cli_draw import make_people, one_error_line, write_people, write_quotas

from service.cli import app
from sortition import (
    AuditError,
    Person,
    Pool,
    Quotas,
    SeededStream,
    find_distribution,
    panel_violations,
    round_lottery,
)
from sortition.audit import (
    canonical_json,
    commit,
    digest,
    field_hashes,
    pseudonymise,
    replace,
    reserve_order,
    reveal,
    selection_index,
    verify,
)
from sortition.io import read_people, read_quotas

KEY = bytes(range(32))
SEED = "drand-4242"
M = 100
Bundle = dict[str, Any]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    write_people(folder / "people.csv", make_people())
    write_quotas(folder / "quotas.csv")
    return folder


@pytest.fixture(scope="module")
def committed(files: Path) -> Bundle:
    quotas = read_quotas(files / "quotas.csv")
    pool = read_people(files / "people.csv", quotas, household_columns=["postcode", "huisnummer"])
    public, _ = pseudonymise(pool, KEY)
    lottery = round_lottery(find_distribution(public, quotas, 10, algorithm="leximin"), M)
    return commit(lottery, software="stadmaken test", source="drand round 1", fallback="dice")


@pytest.fixture(scope="module")
def revealed(committed: Bundle) -> Bundle:
    """Revealed, with two replacements."""
    bundle = reveal(committed, SEED)
    for _ in range(2):
        bundle, _ = replace(bundle, bundle["reveal"]["panel"][0 if not bundle["events"] else 1])
    return bundle


# --------------------------------------------------------------------------- the lottery


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_instances(max_people=10, max_k=4))
def test_lottery_panels_meet_the_rules_and_follow_the_distribution(case: Instance) -> None:
    distribution = find_distribution(case.pool, case.quotas, case.k, algorithm="maximin")
    for m in (1, 7, 100):
        lottery = round_lottery(distribution, m)
        assert lottery.m == m
        assert list(lottery.panels) == sorted(lottery.panels)
        for panel in lottery.panels:
            assert panel_violations(case.pool, case.quotas, case.k, panel) == []
        counts = Counter(pid for panel in lottery.panels for pid in panel)
        assert lottery.counts == {pid: counts.get(pid, 0) for pid in sorted(case.pool.ids)}
        assert sum(lottery.counts.values()) == m * case.k
        # the worst case allowed: k/m (each panel holds k people; Flanigan, Kehne, Procaccia)
        assert lottery.loss <= case.k / m + 1e-9


def test_rounding_loss_within_two_over_m(files: Path) -> None:
    quotas = read_quotas(files / "quotas.csv")
    pool = read_people(files / "people.csv", quotas, household_columns=["postcode", "huisnummer"])
    distribution = find_distribution(pool, quotas, 10, algorithm="leximin")
    lottery = round_lottery(distribution, 1000)
    assert lottery.loss <= 2 / 1000
    # members of a class share their panels evenly: at most one apart
    structure = distribution.structure
    for person_class in structure.classes:
        counts = [lottery.counts[m] for m in person_class.members]
        assert max(counts) - min(counts) <= 1


def test_rounding_needs_an_exact_distribution() -> None:
    people = tuple(Person(f"p{i}", {"g": "a"}) for i in range(4))
    quotas = Quotas.from_rows([("g", "a", 2, 2)])
    legacy = find_distribution(Pool(people), quotas, 2, algorithm="legacy", legacy_samples=5)
    with pytest.raises(ValueError, match="estimated"):
        round_lottery(legacy)


# --------------------------------------------------------------------------- the bundle


def test_canonical_encoding() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()
    with pytest.raises(TypeError):
        canonical_json({"p": 0.5})


def test_pseudonyms_hide_ids_and_ignore_row_order() -> None:
    people = [Person(f"id{i}", {"g": "a"}, "hh" if i < 2 else None) for i in range(12)]
    first, mapping = pseudonymise(Pool(tuple(people)), KEY)
    shuffled = people[:]
    random.Random(3).shuffle(shuffled)
    second, mapping2 = pseudonymise(Pool(tuple(shuffled)), KEY)
    assert first == second and mapping == mapping2
    assert sorted(mapping.values()) == sorted(p.id for p in people)
    assert all(p.id.startswith("P") and len(p.id) == 5 for p in first.people)
    households = [p.household for p in first.people if p.household is not None]
    assert len(households) == 2 and len(set(households)) == 1
    _, mapping3 = pseudonymise(Pool(tuple(people)), bytes(32))
    assert mapping3 != mapping


def test_revealed_bundle_verifies(revealed: Bundle) -> None:
    result = verify(revealed)
    assert result.index == selection_index(SEED, M)
    assert result.events == 2
    assert len(result.panel) == 10
    assert result.commitment == revealed["hashes"]["commitment"]
    draw = revealed["draw"]
    pool = Pool(tuple(Person(p["id"], p["values"], p["household"]) for p in draw["pool"]["people"]))
    quotas = Quotas.from_rows(
        (q["feature"], q["value"], q["min"], q["max"]) for q in draw["quotas"]
    )
    assert panel_violations(pool, quotas, 10, result.panel) == []
    assert verify(revealed, commitment=result.commitment).digest == digest(revealed)


def test_reserves_replace_in_order(revealed: Bundle) -> None:
    part = revealed["reveal"]
    assert sorted(part["reserves"] + part["panel"]) == sorted(
        p["id"] for p in revealed["draw"]["pool"]["people"]
    )
    first = revealed["events"][0]
    # the replacement is the first reserve with whom the panel meets every quota
    position = part["reserves"].index(first["replacement"])
    assert position >= 0
    assert revealed["events"][1]["previous"] == first["hash"]
    assert first["previous"] == revealed["hashes"]["commitment"]


def test_dice_select_directly() -> None:
    assert selection_index("dice:471", 1000) == 471
    assert selection_index("dice:007", 1000) == 7
    # not exactly three digits for m = 1000: the seed goes through the "lottery" stream
    for seed in ("dice:47", "dice:4711", "dice:abc"):
        assert selection_index(seed, 1000) == SeededStream(seed, "lottery").randbelow(1000)
    assert selection_index("dice:47", 100) == 47
    assert selection_index("anything", 1) == 0


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Paths of the leaves (first, middle and last item of long lists), with their keys."""
    if isinstance(value, dict):
        for key in sorted(value):
            child = f"{path}.{key}" if path else key
            if isinstance(value[key], dict | list) and value[key]:
                for sub, keys in _leaves(value[key], child):
                    yield sub, [key, *keys]
            else:
                yield child, [key]
    elif isinstance(value, list):
        picks = sorted({0, len(value) // 2, len(value) - 1})
        for i in picks:
            child = f"{path}[{i}]"
            if isinstance(value[i], dict | list) and value[i]:
                for sub, keys in _leaves(value[i], child):
                    yield sub, [i, *keys]
            else:
                yield child, [i]


def _mutated(bundle: Bundle, keys: list[Any]) -> Bundle:
    changed = copy.deepcopy(bundle)
    holder = changed
    for key in keys[:-1]:
        holder = holder[key]
    old = holder[keys[-1]]
    if isinstance(old, bool) or old is None:
        new: Any = "x"
    elif isinstance(old, int):
        new = old + 1
    elif isinstance(old, str):
        new = old[:-1] + ("0" if old[-1:] != "0" else "1") if old else "x"
    else:
        new = ["x"]
    holder[keys[-1]] = new
    return changed


def _expected_field(path: str) -> str:
    """The field a report must name: the path's first two parts (``draw.pool``, ...)."""
    parts = path.replace("[", ".[").split(".")
    return ".".join(parts[:2]).replace(".[", "[")


def test_every_field_is_checked(revealed: Bundle) -> None:
    checked = 0
    for path, keys in _leaves(revealed):
        with pytest.raises(AuditError) as caught:
            verify(_mutated(revealed, keys))
        field = _expected_field(path)
        report = str(caught.value)
        assert caught.value.field.startswith(field) or field in report, (path, report)
        checked += 1
    assert checked > 100


def _forged(bundle: Bundle, change: Any) -> Bundle:
    """Change the draw and recompute every hash: only the re-derivation can notice."""
    forged = copy.deepcopy(bundle)
    change(forged)
    forged["hashes"] = field_hashes(forged["draw"])
    for i, event in enumerate(forged["events"]):
        event["previous"] = forged["events"][i - 1]["hash"] if i else forged["hashes"]["commitment"]
        event["hash"] = digest({k: v for k, v in event.items() if k != "hash"})
    return forged


def _swap_member(bundle: Bundle) -> None:
    panel = bundle["draw"]["panels"][0]
    outsider = next(p["id"] for p in bundle["draw"]["pool"]["people"] if p["id"] not in panel)
    bundle["draw"]["panels"][0] = sorted([*panel[1:], outsider])
    bundle["draw"]["panels"].sort()


def _tighten(bundle: Bundle) -> None:
    bundle["draw"]["quotas"][0]["max"] = 0
    bundle["draw"]["quotas"][0]["min"] = 0


def _shift(bundle: Bundle) -> None:
    first = next(iter(bundle["draw"]["probabilities"]))
    bundle["draw"]["probabilities"][first] = "1.000000000000"


def _recount(bundle: Bundle) -> None:
    first = next(iter(bundle["draw"]["selections"]))
    bundle["draw"]["selections"][first] += 1


def _other_replacement(bundle: Bundle) -> None:
    event = bundle["events"][0]
    event["replacement"] = next(
        r for r in bundle["reveal"]["reserves"] if r != event["replacement"]
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # a swapped member breaks a quota or, if not, the count of panels per person
        (_swap_member, ("draw.panels", "draw.selections")),
        (_tighten, ("draw.panels[0]",)),
        (_shift, ("draw.probabilities",)),
        (_recount, ("draw.selections",)),
        (_other_replacement, ("events[0].replacement",)),
    ],
)
def test_forged_bundles_are_caught_by_rederivation(
    revealed: Bundle, change: Any, field: tuple[str, ...]
) -> None:
    with pytest.raises(AuditError) as caught:
        verify(_forged(revealed, change))
    assert caught.value.field.startswith(field), str(caught.value)


def test_reveal_and_replace_refuse_what_cannot_be_done(committed: Bundle, revealed: Bundle) -> None:
    with pytest.raises(AuditError, match="already revealed"):
        reveal(revealed, "again")
    with pytest.raises(AuditError, match="not revealed"):
        replace(committed, "P0001")
    outsider = revealed["reveal"]["reserves"][-1]
    with pytest.raises(AuditError, match="not on the panel"):
        replace(revealed, outsider)


def test_no_one_can_take_the_seat() -> None:
    people = [Person("a", {"g": "rare"})] + [Person(f"b{i}", {"g": "common"}) for i in range(5)]
    quotas = Quotas.from_rows([("g", "rare", 1, 1), ("g", "common", 1, 1)])
    lottery = round_lottery(find_distribution(Pool(tuple(people)), quotas, 2), 10)
    bundle = reveal(commit(lottery, software="t", source="s"), "seed")
    with pytest.raises(AuditError, match="no one in the pool") as caught:
        replace(bundle, "a")
    assert caught.value.code == "no-replacement"
    assert reserve_order("seed", ["a"], ["a"]) == []


def test_previous_link(committed: Bundle, revealed: Bundle) -> None:
    quotas = Quotas.from_rows(
        (q["feature"], q["value"], q["min"], q["max"]) for q in committed["draw"]["quotas"]
    )
    pool = Pool(
        tuple(
            Person(p["id"], p["values"], p["household"])
            for p in committed["draw"]["pool"]["people"]
        )
    )
    lottery = round_lottery(find_distribution(pool, quotas, 10, algorithm="maximin"), 10)
    follower = commit(lottery, software="t", source="s", previous=digest(revealed))
    verify(follower, previous=revealed)
    with pytest.raises(AuditError) as caught:
        verify(follower, previous=committed)
    assert caught.value.field == "draw.previous"


# --------------------------------------------------------------------------- the commands

COMMIT = (
    "draw",
    "commit",
    "--people",
    "people.csv",
    "--quotas",
    "quotas.csv",
    "--size",
    "10",
    "--households",
    "postcode,huisnummer",
    "--panels",
    "100",
    "--source",
    "drand round 7",
    "--pseudonym-key",
    KEY.hex(),
)


def run(*args: str) -> Any:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args), color=False)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_people(tmp_path / "people.csv", make_people())
    write_quotas(tmp_path / "quotas.csv")
    return tmp_path


def test_commit_reveal_replace_verify(workdir: Path) -> None:
    result = run(*COMMIT, "--out", "b.json", "--mapping", "map.json", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["probabilities"]) == 60
    for entry in summary["probabilities"].values():
        after = int(entry["after"].split("/")[0]) / 100
        assert abs(after - float(entry["before"])) <= float(summary["rounding_loss"]) + 1e-12
    assert (workdir / "map.json").stat().st_mode & 0o777 == 0o600
    mapping = json.loads((workdir / "map.json").read_text())
    assert mapping["key"] == KEY.hex()
    bundle = json.loads((workdir / "b.json").read_text())
    assert (workdir / "b.json").read_bytes() == canonical_json(bundle) + b"\n"
    # no personal data in the public bundle
    text = (workdir / "b.json").read_text()
    assert "Geheimnaam" not in text and "ZQ0" not in text and '"P000"' not in text

    result = run("draw", "reveal", "b.json", "--seed", "dice:42", "--mapping", "map.json")
    assert result.exit_code == 0, result.output
    assert "selects panel 42" in result.stdout
    revealed = json.loads((workdir / "b.json").read_text())
    member = revealed["reveal"]["panel"][0]
    result = run(
        "draw",
        "replace",
        "b.json",
        "--withdrawn",
        mapping["pseudonyms"][member],
        "--mapping",
        "map.json",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["withdrawn"]["pseudonym"] == member
    result = run("verify", "b.json", "--commitment", bundle["hashes"]["commitment"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")


def _commit_in_process(folder: Path, rows: list[dict[str, str]], seed: str) -> bytes:
    write_people(folder / "people.csv", rows)
    write_quotas(folder / "quotas.csv")
    for args in (
        [*COMMIT, "--out", "b.json", "--mapping", "m.json"],
        ["draw", "reveal", "b.json", "--seed", seed],
    ):
        subprocess.run(
            [sys.executable, "-m", "service", *args],
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return (folder / "b.json").read_bytes()


def test_same_seed_same_bundle_in_other_processes_and_row_orders(tmp_path: Path) -> None:
    rows = make_people()
    shuffled = rows[:]
    random.Random(11).shuffle(shuffled)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _commit_in_process(tmp_path / "a", rows, "2026")
    second = _commit_in_process(tmp_path / "b", shuffled, "2026")
    assert first == second
    assert json.loads(first)["reveal"]["seed"] == "2026"


@pytest.fixture
def bundle_file(workdir: Path) -> Path:
    assert run(*COMMIT, "--out", "b.json", "--mapping", "map.json").exit_code == 0
    return workdir / "b.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "stadmaken-audit", "version": 1, "dr', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"format": "stadmaken-audit", "version": 9}', "format version 9 is not supported"),
        (b'{"format": "something else"}', "not a stadmaken audit bundle"),
    ],
)
def test_bad_bundles(workdir: Path, content: bytes, message: str) -> None:
    (workdir / "bad.json").write_bytes(content)
    for args in (
        ("verify", "bad.json"),
        ("draw", "reveal", "bad.json", "--seed", "1"),
        ("draw", "replace", "bad.json", "--withdrawn", "P0001"),
    ):
        line = one_error_line(run(*args), code=2)
        assert line.startswith("error: bad.json: ") and message in line, line
        assert (workdir / "bad.json").read_bytes() == content


def test_verify_names_the_changed_field_and_exits_1(bundle_file: Path) -> None:
    bundle = json.loads(bundle_file.read_text())
    bundle["draw"]["k"] = 11
    bundle_file.write_text(json.dumps(bundle))
    line = one_error_line(run("verify", "b.json"), code=1)
    assert "draw.k" in line
    line = one_error_line(run("draw", "reveal", "b.json", "--seed", "1"), code=1)
    assert "draw.k" in line


def test_wrong_commitment_and_previous(bundle_file: Path, workdir: Path) -> None:
    line = one_error_line(run("verify", "b.json", "--commitment", "00" * 32), code=1)
    assert "published commitment" in line
    line = one_error_line(run("verify", "b.json", "--previous", "b.json"), code=1)
    assert "draw.previous" in line


def test_reveal_and_replace_errors_leave_the_file_alone(bundle_file: Path) -> None:
    before = bundle_file.read_bytes()
    line = one_error_line(run("draw", "replace", "b.json", "--withdrawn", "P0001"), code=2)
    assert "not revealed" in line
    assert bundle_file.read_bytes() == before
    assert run("draw", "reveal", "b.json", "--seed", "x").exit_code == 0
    after = bundle_file.read_bytes()
    line = one_error_line(run("draw", "reveal", "b.json", "--seed", "y"), code=2)
    assert "already revealed" in line
    line = one_error_line(run("draw", "replace", "b.json", "--withdrawn", "nobody"), code=2)
    assert "'nobody' is not on the panel" in line
    assert bundle_file.read_bytes() == after
    assert [p.name for p in bundle_file.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--algorithm", "legacy"), "legacy has no exact distribution"),
        (("--pseudonym-key", "abc"), "hexadecimal"),
        (("--panels", "0"), "--panels"),
        (("--source", " "), "name the public randomness source"),
    ],
)
def test_commit_bad_options(workdir: Path, extra: tuple[str, ...], message: str) -> None:
    result = run(*COMMIT, "--out", "b.json", "--mapping", "map.json", *extra)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "b.json").exists() and not (workdir / "map.json").exists()


def test_commit_refuses_one_file_for_both(workdir: Path) -> None:
    result = run(*COMMIT, "--out", "b.json", "--mapping", "b.json")
    assert result.exit_code == 2 and "different files" in result.output


def test_commit_bad_pool_names_file_row_column(workdir: Path) -> None:
    rows = make_people()
    rows[3]["area"] = "west"
    write_people(workdir / "people.csv", rows)
    line = one_error_line(run(*COMMIT, "--out", "b.json", "--mapping", "map.json"))
    assert line.startswith("error: people.csv, row 5, column 'area'")
    assert not (workdir / "b.json").exists() and not (workdir / "map.json").exists()


def test_bad_mapping(bundle_file: Path, workdir: Path) -> None:
    (workdir / "m.json").write_text('{"format": "other"}')
    line = one_error_line(run("draw", "reveal", "b.json", "--seed", "1", "--mapping", "m.json"))
    assert "m.json" in line and "not a pseudonym mapping" in line


def test_malformed_dice_seeds_are_refused(committed: Bundle) -> None:
    for seed in ("dice:4", "dice:420", "dice:4a"):
        with pytest.raises(AuditError, match="exactly 2 digits") as caught:
            reveal(committed, seed)
        assert caught.value.code == "bad-seed"
    assert reveal(committed, "dice:07")["reveal"]["index"] == 7
