"""End-to-end tests of ``stadmaken draw``: every algorithm, both formats, and every bad input.

The pools are generated here, small (60 people, 3 features, 10 two-person households), so that
the whole file runs in seconds. Most tests call the typer app in-process with ``CliRunner`` from
inside ``tmp_path`` (so messages name short relative paths); the byte-for-byte reproducibility
across processes and the ``python -m service`` entry point are checked with subprocesses.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from rich.console import Console
from typer.testing import CliRunner

import sortition
from service.cli import DelayedStatus, app
from sortition import SolverError

ALGORITHMS = ("leximin", "maximin", "nash", "legacy")
SIZE = 10
FEATURES = ("gender", "age", "area")
#: (feature, value, min, max) in quota file order.
QUOTAS = (
    ("gender", "f", 4, 6),
    ("gender", "m", 4, 6),
    ("age", "young", 2, 4),
    ("age", "mid", 3, 5),
    ("age", "old", 2, 4),
    ("area", "north", 2, 5),
    ("area", "south", 2, 5),
    ("area", "east", 2, 5),
)
HEADER = ("id", "naam", "email", "gender", "age", "area", "postcode", "huisnummer")
HOUSEHOLDS = "postcode,huisnummer"

Row = dict[str, str]


# --------------------------------------------------------------------------- fixtures


def make_people(n: int = 60, seed: int = 7) -> list[Row]:
    """A pool with personal data in ignored columns; people 0-19 live in pairs."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        household = i // 2 if i < 20 else 100 + i
        rows.append(
            {
                "id": f"P{i:03d}",
                "naam": f"Geheimnaam{i} de Vries",
                "email": f"geheim{i}@voorbeeld.nl",
                "gender": rng.choice(["f", "m"]),
                "age": rng.choice(["young", "mid", "old"]),
                "area": rng.choice(["north", "south", "east"]),
                "postcode": f"ZQ{household:03d}XQ",
                "huisnummer": f"{household}-huisnr",
            }
        )
    return rows


def write_people(path: Path, rows: list[Row], header: tuple[str, ...] = HEADER) -> Path:
    """Write ``rows`` as a CSV pool file with ``header``'s columns."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_quotas(path: Path, quotas: tuple[tuple[str, str, object, object], ...] = QUOTAS) -> Path:
    """Write a quota file ``feature,value,min,max``."""
    lines = ["feature,value,min,max"] + [f"{f},{v},{lo},{hi}" for f, v, lo, hi in quotas]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in ``tmp_path`` with the standard pool and quotas written there."""
    monkeypatch.chdir(tmp_path)
    write_people(tmp_path / "people.csv", make_people())
    write_quotas(tmp_path / "quotas.csv")
    yield tmp_path


runner = CliRunner()


def invoke(*args: str) -> Any:
    """Run ``stadmaken draw`` with the standard files plus ``args``."""
    return runner.invoke(
        app, ["draw", "--people", "people.csv", "--quotas", "quotas.csv", *args], color=False
    )


def invoke_raw(*args: str) -> Any:
    """Run ``stadmaken`` with exactly ``args``."""
    return runner.invoke(app, list(args), color=False)


def succeeded(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def run_json(*args: str) -> dict[str, Any]:
    result = succeeded(invoke("--size", str(SIZE), "--format", "json", *args))
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def one_error_line(result: Any, code: int = 2) -> str:
    """Check a core error: exit ``code``, one ``error:`` line on stderr, nothing on stdout."""
    assert result.exit_code == code, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    line: str = lines[0]
    return line


def usage_error(result: Any) -> str:
    """Check a usage error (exit 2, no traceback); return its message without box drawing."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())


def check_panel(document: dict[str, Any], rows: list[Row]) -> None:
    """The panel has SIZE people, meets every quota and takes one per household."""
    people = {row["id"]: row for row in rows}
    selected = document["selected"]
    assert selected == sorted(selected)
    assert len(set(selected)) == len(selected) == SIZE == document["size"]
    for feature, value, lo, hi in QUOTAS:
        count = sum(1 for i in selected if people[i][feature] == value)
        assert lo <= count <= hi, (feature, value, count)
    addresses = [(people[i]["postcode"], people[i]["huisnummer"]) for i in selected]
    assert len(set(addresses)) == len(addresses)


def check_json(document: dict[str, Any], algorithm: str) -> None:
    """Check every field of a JSON report of the standard pool."""
    rows = make_people()
    check_panel(document, rows)
    assert document["algorithm"] == algorithm
    assert document["seed"] == "2026"
    assert document["pool_size"] == 60
    assert document["households"] == ["postcode", "huisnummer"]
    assert document["software"]["name"] == "stadmaken"
    assert isinstance(document["software"]["version"], str)

    quotas = document["quotas"]
    assert [(q["feature"], q["value"], q["min"], q["max"]) for q in quotas] == list(QUOTAS)
    in_pool = Counter((f, row[f]) for row in rows for f in FEATURES)
    for q in quotas:
        assert q["pool"] == in_pool[(q["feature"], q["value"])]
        chosen = [i for i in document["selected"] if rows[int(i[1:])][q["feature"]] == q["value"]]
        assert q["selected"] == len(chosen)

    probabilities = document["probabilities"]
    assert list(probabilities) == sorted(row["id"] for row in rows)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert all(p == round(p, 12) for p in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(SIZE, abs=1e-6)
    summary = document["summary"]
    values = list(probabilities.values())
    assert summary["min"] == min(values)
    assert summary["max"] == max(values)
    assert summary["median"] == round(statistics.median(values), 12)
    lowest = [i for i, p in probabilities.items() if p <= min(values) + 1e-9]  # solver precision
    assert summary["ids_with_min"] == sorted(lowest)
    if algorithm == "legacy":
        assert document["panel_index"] is None
        assert document["probabilities_estimated"] is True
        assert document["legacy_samples"] == 20
        assert "estimate" in document["note"]
    else:
        assert isinstance(document["panel_index"], int)
        assert document["probabilities_estimated"] is False
        assert document["legacy_samples"] is None
        assert document["note"] is None
        assert summary["min"] > 0  # every person can be on some panel


def check_table(text: str, document: dict[str, Any]) -> None:
    """Check a table report against the JSON report of the same draw."""
    algorithm = document["algorithm"]
    assert "\x1b[" not in text  # no colours when not a terminal
    for heading in ("Selected panel", "Quotas", "Selection probabilities", "in pool", "selected"):
        assert heading in text
    assert "2026" in text and algorithm in text
    panel = text.split("Selected panel")[1].split("Quotas")[0]
    assert re.findall(r"P\d{3}", panel) == document["selected"]
    rows = {row["id"]: row for row in make_people()}
    for person_id in document["selected"]:
        line = next(line for line in text.splitlines() if person_id in line)
        assert all(rows[person_id][f] in line for f in FEATURES)
    expected_index = "- (LEGACY)" if algorithm == "legacy" else str(document["panel_index"])
    assert re.search(r"panel index\s+" + re.escape(expected_index), text)
    summary = document["summary"]
    assert f"{summary['min']:.6f}" in text and f"{summary['max']:.6f}" in text
    lowest = summary["ids_with_min"]
    listed = " ".join(text.split("lowest for")[1].split())
    shown = ", ".join(lowest[:10])
    if len(lowest) > 10:
        shown += f" and {len(lowest) - 10} more"
        assert lowest[10] not in listed
    people = "person" if len(lowest) == 1 else "people"
    assert listed.startswith(f"{len(lowest)} {people} {shown}"), listed


# --------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_draw_in_both_formats(workdir: Path, algorithm: str) -> None:
    args: tuple[str, ...] = ("--algorithm", algorithm, "--seed", "2026", "--households", HOUSEHOLDS)
    if algorithm == "legacy":
        args += ("--legacy-samples", "20")
    document = run_json(*args)
    check_json(document, algorithm)
    result = succeeded(invoke("--size", str(SIZE), *args))
    assert result.stderr == ""  # --seed given: nothing to say
    check_table(result.stdout, document)


def test_json_is_canonical_text(workdir: Path) -> None:
    result = succeeded(invoke("--size", str(SIZE), "--format", "json", "--seed", "x"))
    document = json.loads(result.stdout)
    expected = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert result.stdout == expected


def test_legacy_without_samples_has_no_probabilities(workdir: Path) -> None:
    document = run_json("--algorithm", "legacy", "--seed", "1", "--households", HOUSEHOLDS)
    check_panel(document, make_people())
    assert document["probabilities"] is None
    assert document["probabilities_estimated"] is True
    assert "--legacy-samples" in document["note"]
    assert document["summary"] == {"min": None, "median": None, "max": None, "ids_with_min": None}
    table = succeeded(invoke("--size", str(SIZE), "--algorithm", "legacy", "--seed", "1"))
    assert "not computed" in table.stdout


def test_same_seed_same_output_and_seeds_differ(workdir: Path) -> None:
    first = succeeded(invoke("--size", str(SIZE), "--format", "json", "--seed", "s1"))
    again = succeeded(invoke("--size", str(SIZE), "--format", "json", "--seed", "s1"))
    assert first.stdout == again.stdout
    panels = {tuple(run_json("--seed", f"s{i}")["selected"]) for i in range(2, 4)}
    assert len(panels) > 1


def test_without_seed_a_seed_is_drawn_and_shown(workdir: Path) -> None:
    result = succeeded(invoke("--size", str(SIZE), "--format", "json"))
    match = re.fullmatch(r"seed: (\S+) \(use --seed (\S+) to repeat this draw\)\n", result.stderr)
    assert match is not None and match[1] == match[2]
    document = json.loads(result.stdout)
    assert document["seed"] == match[1]
    repeat = succeeded(invoke("--size", str(SIZE), "--format", "json", "--seed", match[1]))
    assert repeat.stdout == result.stdout
    table = succeeded(invoke("--size", str(SIZE)))
    seed = re.fullmatch(r"seed: (\S+) .*\n", table.stderr)
    assert seed is not None and seed[1] in table.stdout


@pytest.mark.parametrize("output_format", ["json", "table"])
def test_out_writes_the_file(workdir: Path, output_format: str) -> None:
    result = succeeded(
        invoke("--size", str(SIZE), "--seed", "9", "--format", output_format, "--out", "r.txt")
    )
    assert result.stdout == ""
    assert "r.txt" in result.stderr
    text = (workdir / "r.txt").read_text(encoding="utf-8")
    if output_format == "json":
        assert text == invoke("--size", str(SIZE), "--seed", "9", "--format", "json").stdout
    else:
        assert "Selected panel" in text and "\x1b[" not in text
        assert all(line == line.rstrip() for line in text.splitlines())


def test_algorithm_names_ignore_case(workdir: Path) -> None:
    assert run_json("--algorithm", "MAXIMIN", "--seed", "1")["algorithm"] == "maximin"


def test_warnings_and_verbose_notes_go_to_stderr(workdir: Path) -> None:
    write_people(workdir / "people.csv", _no_young_women())
    write_quotas(
        workdir / "quotas.csv",
        (("gender", "f", 5, 5), ("gender", "m", 0, 5), ("age", "young", 5, 5), ("age", "old", 0, 5),
         ("age", "mid", 0, 5)),
    )  # fmt: skip
    result = succeeded(
        invoke_raw(*_verbose_first(("--verbose", "--format", "json", "--seed", "1")))
    )
    document = json.loads(result.stdout)
    assert document["summary"]["min"] == 0.0  # older men cannot be on any panel
    lines = result.stderr.splitlines()
    assert any(
        re.fullmatch(r"warning: \d+ pool members cannot be on any panel.*", x) for x in lines
    )
    assert any(line.startswith("info: leximin") for line in lines)
    sortition_logger = logging.getLogger("sortition")
    assert sortition_logger.handlers == [] and sortition_logger.level == logging.NOTSET


def test_personal_data_never_appears(workdir: Path) -> None:
    outputs = []
    for args in (
        ("--format", "json", "--households", HOUSEHOLDS),
        ("--verbose", "--households", HOUSEHOLDS, "--out", "report.txt"),
        ("--algorithm", "legacy", "--legacy-samples", "5", "--households", HOUSEHOLDS),
    ):
        result = succeeded(invoke_raw(*_verbose_first(args)))
        outputs += [result.stdout, result.stderr]
    outputs.append((workdir / "report.txt").read_text(encoding="utf-8"))
    # an error about a row must not quote that row's other cells either
    rows = make_people()
    rows[3]["area"] = "west"
    write_people(workdir / "people.csv", rows)
    error = one_error_line(invoke("--size", str(SIZE), "--households", HOUSEHOLDS))
    outputs.append(error)
    text = "\n".join(outputs)
    for row in make_people():
        for column in ("naam", "email", "postcode", "huisnummer"):
            assert row[column] not in text
    assert "Geheim" not in text and "geheim" not in text and "@" not in text
    assert "XQ" not in text and "huisnr" not in text and "\x1f" not in text


def _verbose_first(args: tuple[str, ...]) -> list[str]:
    """Put ``--verbose`` before the command, where the app takes it."""
    common = ["--people", "people.csv", "--quotas", "quotas.csv", "--size", str(SIZE)]
    rest = [a for a in args if a != "--verbose"]
    return [*(["--verbose"] if "--verbose" in args else []), "draw", *common, *rest]


def test_markup_in_ids_and_values_is_shown_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [{"id": f"[bold]{i}", "level": "[laag]" if i % 2 else "hoog"} for i in range(8)]
    write_people(tmp_path / "people.csv", rows, header=("id", "level"))
    write_quotas(tmp_path / "quotas.csv", (("level", "[laag]", 1, 1), ("level", "hoog", 1, 1)))
    result = succeeded(invoke("--size", "2", "--seed", "1"))
    assert "[laag]" in result.stdout and "[bold]" in result.stdout


# --------------------------------------------------------------------------- bad input

QuotaRows = tuple[tuple[str, str, object, object], ...]


class BadInput(NamedTuple):
    """Files with one problem, the options of the draw, and what the error line must say."""

    fragments: tuple[str, ...]
    rows: list[Row] = make_people()
    quotas: QuotaRows = QUOTAS
    header: tuple[str, ...] = HEADER
    args: tuple[str, ...] = ("--size", str(SIZE))


def _changed(row: int, column: str, value: str) -> list[Row]:
    rows = make_people()
    rows[row][column] = value
    return rows


def _quotas(*changes: tuple[int, object, object]) -> QuotaRows:
    quotas: list[tuple[str, str, object, object]] = list(QUOTAS)
    for index, lo, hi in changes:
        feature, value, _, _ = quotas[index]
        quotas[index] = (feature, value, lo, hi)
    return tuple(quotas)


def _no_young_women() -> list[Row]:
    rows = make_people()
    for row in rows:
        if row["age"] == "young":
            row["gender"] = "m"
    return rows


BAD_INPUTS: dict[str, BadInput] = {
    "missing people column": BadInput(
        ("error: people.csv, row 1, column 'area'", "no column 'area' (quota feature)"),
        header=tuple(c for c in HEADER if c != "area"),
    ),
    "duplicate id": BadInput(
        ("error: people.csv, row 6, column 'id'", "'P001'", "also on row 3"),
        rows=_changed(4, "id", "P001"),
    ),
    "value not in quotas": BadInput(
        ("error: people.csv, row 7, column 'area'", "'west' is not a value of 'area'"),
        rows=_changed(5, "area", "west"),
    ),
    "empty value": BadInput(
        ("error: people.csv, row 9, column 'age'", "empty"),
        rows=_changed(7, "age", ""),
    ),
    "min above max": BadInput(
        ("error: quotas.csv, row 3, column 'max'", "min 6 above max 4"),
        quotas=_quotas((1, 6, 4)),
    ),
    "not a count": BadInput(
        ("error: quotas.csv, row 2, column 'min'", "'two'"),
        quotas=_quotas((0, "two", 6)),
    ),
    "mins exceed size": BadInput(
        ("error: quotas.csv:", "'gender'", "12, more than the panel size 10"),
        quotas=_quotas((0, 6, 6), (1, 6, 6)),
    ),
    "maxes short of size": BadInput(
        ("error: quotas.csv:", "'gender'", "6, less than the panel size 10"),
        quotas=_quotas((0, 2, 3), (1, 2, 3)),
    ),
    "infeasible quotas": BadInput(
        (
            "error: quotas.csv:",
            "no panel of 10 people meets all quotas",
            "Smallest relaxation that makes a panel possible:",
            "->",
        ),
        rows=_no_young_women(),
        # 5 young people, all men, but at most 4 men
        quotas=(
            ("gender", "f", 6, 6),
            ("gender", "m", 4, 4),
            ("age", "young", 5, 5),
            ("age", "mid", 0, 5),
            ("age", "old", 0, 5),
            ("area", "north", 0, 10),
            ("area", "south", 0, 10),
            ("area", "east", 0, 10),
        ),
    ),
    "pool too small for the households": BadInput(
        ("error: people.csv:", "50 households, fewer than the panel size 55"),
        args=("--size", "55", "--households", HOUSEHOLDS),
    ),
    "unknown household column": BadInput(
        ("error: people.csv, row 1, column 'straat'", "(household)"),
        args=("--size", str(SIZE), "--households", "postcode,straat"),
    ),
    "bad id column": BadInput(
        ("error: people.csv, row 1, column 'nummer'", "(id)"),
        args=("--size", str(SIZE), "--id-column", "nummer"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = BAD_INPUTS[case]
    write_people(tmp_path / "people.csv", bad.rows, bad.header)
    write_quotas(tmp_path / "quotas.csv", bad.quotas)
    line = one_error_line(invoke(*bad.args, "--seed", "1"))
    for fragment in bad.fragments:
        assert fragment in line, (fragment, line)


@pytest.mark.parametrize(
    ("which", "content", "fragment"),
    [
        ("people", "", "error: people.csv: the file is empty"),
        ("quotas", "", "error: quotas.csv: the file is empty"),
        ("people", ",".join(HEADER) + "\n", "error: people.csv: the pool file has a header but"),
        ("quotas", "feature,value,min,max\n", "error: quotas.csv: the quota file has a header"),
        ("quotas", "categorie,waarde\nx,y\n", "error: quotas.csv, row 1: the quota file has no"),
    ],
)
def test_empty_files(workdir: Path, which: str, content: str, fragment: str) -> None:
    (workdir / f"{which}.csv").write_text(content, encoding="utf-8")
    line = one_error_line(invoke("--size", str(SIZE)))
    assert line.startswith(fragment), line


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--size", "0"), "Invalid value for '--size'"),
        (("--size", "-3"), "Invalid value for '--size'"),
        (("--size", "ten"), "Invalid value for '--size'"),
        (("--size", "2.5"), "Invalid value for '--size'"),
        ((), "Missing option '--size'"),
        (("--size", "10", "--algorithm", "random"), "Invalid value for '--algorithm'"),
        (("--size", "10", "--format", "xml"), "Invalid value for '--format'"),
        (("--size", "10", "--legacy-samples", "-1"), "Invalid value for '--legacy-samples'"),
        (("--size", "10", "--households", "postcode,,huisnummer"), "empty column name"),
        (("--size", "10", "--seed", ""), "the seed must not be empty"),
        (("--size", "10", "--id-column", " "), "must not be empty"),
        (("--size", "10", "--out", "no/such/folder/r.json"), "does not exist"),
        (("--size", "10", "--out", "."), "Invalid value for '--out'"),
    ],
)
def test_bad_usage(workdir: Path, args: tuple[str, ...], fragment: str) -> None:
    message = usage_error(invoke(*args))
    assert fragment in message, message
    assert not list(workdir.glob("no"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--people", "nope.csv", "--quotas", "quotas.csv"), "'nope.csv' does not exist"),
        (("--people", "people.csv", "--quotas", "nope.csv"), "'nope.csv' does not exist"),
        (("--people", ".", "--quotas", "quotas.csv"), "Invalid value for '--people'"),
        (("--quotas", "quotas.csv"), "Missing option '--people'"),
    ],
)
def test_missing_files(workdir: Path, args: tuple[str, ...], fragment: str) -> None:
    message = usage_error(invoke_raw("draw", *args, "--size", str(SIZE)))
    assert fragment in message, message


def test_solver_failure_exits_with_1(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise SolverError("solver-failed", "the solver gave up")

    monkeypatch.setattr(sortition, "find_distribution", broken)
    line = one_error_line(invoke("--size", str(SIZE), "--seed", "1"), code=1)
    assert line == "error: the solver gave up"


def test_no_arguments_shows_help() -> None:
    result = invoke_raw()
    assert "draw" in result.output


# --------------------------------------------------------------------------- progress


def test_progress_shows_only_on_a_terminal_and_after_the_delay() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=60)
    with DelayedStatus(terminal, "Working", delay=0.0) as progress:
        deadline = time.monotonic() + 5
        while not progress.shown and time.monotonic() < deadline:
            time.sleep(0.01)
        assert progress.shown
        progress("LEXIMIN stage 1", 3, 9)
        time.sleep(0.3)  # a few refreshes
    assert not progress.shown
    assert isinstance(terminal.file, io.StringIO)
    assert "LEXIMIN stage 1 (3/9)" in terminal.file.getvalue()

    with DelayedStatus(terminal, "Working", delay=60.0) as progress:
        progress("quick", 1, 1)
    assert not progress.shown  # finished before the delay

    plain = Console(file=io.StringIO())
    with DelayedStatus(plain, "Working", delay=0.0) as progress:
        time.sleep(0.05)
        assert not progress.shown
    assert isinstance(plain.file, io.StringIO) and plain.file.getvalue() == ""


# --------------------------------------------------------------------------- other processes


def _module(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m service *args`` in ``cwd``."""
    return subprocess.Popen(
        [sys.executable, "-m", "service", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(process: subprocess.Popen[bytes]) -> tuple[int, bytes, bytes]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def test_json_is_byte_identical_across_processes_and_row_order(tmp_path: Path) -> None:
    rows = make_people()
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != rows
    processes = []
    for name, pool in (("a", rows), ("b", shuffled)):
        folder = tmp_path / name
        folder.mkdir()
        write_people(folder / "people.csv", pool)
        write_quotas(folder / "quotas.csv")
        args = ("--people", "people.csv", "--quotas", "quotas.csv", "--size", str(SIZE))
        options = ("--households", HOUSEHOLDS, "--seed", "2026", "--format", "json")
        processes.append(_module("draw", *args, *options, cwd=folder))  # both run at once
    outputs = []
    for process in processes:
        code, stdout, stderr = _finish(process)
        assert code == 0, stderr.decode()
        outputs.append(stdout)
    assert outputs[0] == outputs[1]
    document = json.loads(outputs[0])  # nothing but the JSON on stdout (no solver banner)
    check_panel(document, rows)


def test_python_m_service_help(tmp_path: Path) -> None:
    code, stdout, _ = _finish(_module("draw", "--help", cwd=tmp_path))
    assert code == 0
    help_text = stdout.decode()
    for option in ("--people", "--quotas", "--size", "--algorithm", "--seed", "--households"):
        assert option in help_text


def test_help_does_not_import_the_solvers(tmp_path: Path) -> None:
    code = (
        "import sys, service.cli; print(sorted({'pandas', 'scipy', 'highspy'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=60, check=True
    )
    assert done.stdout.decode().strip() == "[]"
