"""``stadmaken council``: a drawn neighbourhood council (gelote wijkraad) on the command line.

The commands run the council cycle of :mod:`sortition.council`:

* ``init`` defines the council and commits its first draw (round 0);
* ``reveal`` reveals the pending round with the value of the public randomness source;
* ``replace`` replaces a member who steps down;
* ``renew`` commits the next renewal (the seats whose term ends);
* ``status`` shows the organiser's view (real ids) and ``verify`` checks the public bundles.

Two kinds of file are written, each atomically (a temporary file in the same folder, then
:func:`os.replace`, so a file is either the old one or the new one, never half written):

* the **council state** (``--state``, mode ``0600``): private, it links pseudonyms to real ids;
* the **bundles** (``--bundles`` folder, ``round-0.json``, ``round-1.json``, ..., mode
  ``0644``): public audit bundles, one per round.

Every command checks the bundles against the state before it changes anything. Bad input (a
malformed file, impossible terms or quotas, a bundle that does not verify) is one line
``error: ...`` on stderr with exit code 2; a solver failure exits with 1. Results go to stdout
as a report (``--format table``) or one JSON document (``--format json``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from service.common import (
    EXIT_FAILURE,
    EXIT_INPUT,
    DelayedStatus,
    bundle_bytes,
    one_line,
    software_version,
    solver_output_to_stderr,
    write_files,
)

if TYPE_CHECKING:  # the cores are imported when a command runs, so --help stays quick
    from sortition import Pool, Quotas
    from sortition.algorithms import Algorithm, Progress
    from sortition.audit import Bundle
    from sortition.council import CouncilDraw, CouncilState, CouncilTerms, Member

__all__ = ["CouncilFormat", "bundle_path", "council_app"]

#: Panels of the transparent lottery unless asked otherwise (three ten-sided dice).
DEFAULT_PANELS: Final = 1000

council_app = typer.Typer(
    name="council",
    help="A drawn neighbourhood council (gelote wijkraad): first draw, reveals, replacements "
    "and staggered renewals, each an audit bundle chained to the one before.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals hold real ids
)


class CouncilFormat(StrEnum):
    """How a council command writes its result."""

    TABLE = "table"
    JSON = "json"


# --------------------------------------------------------------------------- shared options

StateOption = Annotated[
    Path,
    typer.Option(
        "--state",
        metavar="FILE",
        help="The council state (private: it links pseudonyms to real ids; mode 0600).",
        show_default=False,
    ),
]
BundlesOption = Annotated[
    Path,
    typer.Option(
        "--bundles",
        metavar="DIR",
        help="Folder of the public bundles round-0.json, round-1.json, ...",
        show_default=False,
    ),
]
FormatOption = Annotated[
    CouncilFormat,
    typer.Option("--format", case_sensitive=False, help="A report to read, or JSON."),
]
PeopleOption = Annotated[
    Path,
    typer.Option(
        "--people",
        metavar="FILE",
        help="Respondents (CSV or Excel): an id column, the wijk column and a column per quota "
        "feature.",
        show_default=False,
    ),
]
IneligibleOption = Annotated[
    Path | None,
    typer.Option(
        "--ineligible",
        metavar="FILE",
        help="Ids that may not be drawn (municipal officials, elected council members): a CSV "
        "or Excel file with the id column.",
        show_default=False,
    ),
]
QuotasOption = Annotated[
    Path | None,
    typer.Option(
        "--quotas",
        metavar="FILE",
        help="Quotas on other features (feature,value,min,max), scaled to the seats drawn.",
        show_default=False,
    ),
]
HouseholdsOption = Annotated[
    str | None,
    typer.Option(
        "--households",
        metavar="COL[,COL...]",
        help="Columns that together identify a household; at most one per household sits.",
        show_default=False,
    ),
]
IdColumnOption = Annotated[
    str, typer.Option("--id-column", metavar="NAME", help="Column with each person's id.")
]
AlgorithmOption = Annotated[
    str,
    typer.Option(
        "--algorithm", metavar="NAME", help="Fairness objective: leximin, maximin or nash."
    ),
]
PanelsOption = Annotated[
    int,
    typer.Option("--panels", metavar="M", help="Panels of the transparent lottery."),
]
SourceOption = Annotated[
    str,
    typer.Option(
        "--source",
        metavar="TEXT",
        help="The public randomness announced in advance whose value will be the seed (for "
        "example a future drand round, or three ten-sided dice on camera).",
        show_default=False,
    ),
]
FallbackOption = Annotated[
    str,
    typer.Option("--fallback", metavar="TEXT", help="What is used if the source fails."),
]


# --------------------------------------------------------------------------- machinery


def bundle_path(folder: Path, round_number: int) -> Path:
    """The file of round ``round_number``'s bundle in ``folder``: ``round-<n>.json``."""
    return folder / f"round-{round_number}.json"


def _fail(message: str) -> typer.Exit:
    """Write ``error: message`` on stderr; returns the exit to raise (code 2)."""
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(EXIT_INPUT)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn an error of the core into one line on stderr and an exit code.

    Code 1 for a :class:`~sortition.SolverError`, 2 for everything else (malformed files,
    impossible terms or quotas, bundles that do not verify).
    """
    from sortition.errors import SolverError, SortitionError

    try:
        yield
    except SortitionError as error:
        typer.echo(f"error: {one_line(error.describe())}", err=True)
        code = EXIT_FAILURE if isinstance(error, SolverError) else EXIT_INPUT
        raise typer.Exit(code) from None


@contextmanager
def _naming_quota_file(quota_file: Path | None, wijk_feature: str) -> Iterator[None]:
    """Name ``--quotas`` in a quota error about one of its features (not the wijk feature)."""
    from sortition.errors import QuotaError

    try:
        yield
    except QuotaError as error:
        feature = error.params.get("feature")
        about_file = error.code == "wijk-quota" or (
            isinstance(feature, str) and feature != wijk_feature
        )
        if error.file is None and quota_file is not None and about_file:
            error.file = str(quota_file)
        raise


def _json_text(value: object) -> str:
    """JSON text: sorted keys, indent 2, UTF-8, final newline; equal values give equal bytes."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _input_error(message: str, file: Path | None = None) -> Exception:
    from sortition.errors import InputError

    return InputError("bad-path", message, file=None if file is None else str(file))


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise _input_error(f"the bundles folder '{folder}' {what}; create it first")


def _check_target(path: Path, what: str, *, new: bool) -> None:
    """Check that ``path`` can be written: a file in an existing folder (and new if ``new``)."""
    if path.is_dir():
        raise _input_error(f"'{path}' is a folder; give a file name for {what}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise _input_error(f"the folder '{parent}' of {what} does not exist")
    if new and path.exists():
        raise _input_error(
            f"{what} '{path}' already exists; it is never overwritten (remove it yourself if it "
            "was never published)"
        )


def _load(state_file: Path, folder: Path) -> tuple[CouncilState, list[Bundle]]:
    """Read the state and its bundles, and check them against each other (naming the files)."""
    from sortition.audit import load_bundle
    from sortition.council import check_bundles, load_state

    state = load_state(state_file)
    _check_folder(folder)
    paths = [bundle_path(folder, r.round) for r in state.rounds]
    bundles = [load_bundle(path) for path in paths]
    check_bundles(state, bundles, names=[str(path) for path in paths])
    return state, bundles


def _split_columns(value: str | None) -> list[str]:
    if value is None:
        return []
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise _input_error(
            f"--households '{value}' has an empty column name; give names separated by commas, "
            "for example postcode,huisnummer"
        )
    return names


def _algorithm(value: str) -> Algorithm:
    from sortition.errors import InputError

    names: dict[str, Algorithm] = {"leximin": "leximin", "maximin": "maximin", "nash": "nash"}
    try:
        return names[value.strip().lower()]
    except KeyError:
        raise InputError(
            "unknown-algorithm",
            f"unknown algorithm '{value}'; choose leximin, maximin or nash",
        ) from None


def _read_inputs(
    terms: CouncilTerms,
    people: Path,
    quotas: Path | None,
    ineligible: Path | None,
    households: str | None,
    id_column: str,
) -> tuple[Pool, Quotas | None, frozenset[str]]:
    """Read the respondents, the other quotas and the ineligible ids."""
    from sortition import read_people, read_quotas
    from sortition.council import read_ids, respondent_quotas

    columns = _split_columns(households)
    if not id_column.strip():
        raise _input_error("the id column name must not be empty")
    other = read_quotas(quotas) if quotas is not None else None
    pool = read_people(
        people, respondent_quotas(terms, other), id_column=id_column, household_columns=columns
    )
    excluded = read_ids(ineligible, id_column) if ineligible is not None else frozenset()
    return pool, other, excluded


@contextmanager
def _computing(message: str) -> Iterator[Progress]:
    """Show a delayed spinner on stderr and keep the solver's output off stdout."""

    status: AbstractContextManager[DelayedStatus] = DelayedStatus(
        Console(stderr=True, highlight=False), message
    )
    with status as progress, solver_output_to_stderr():
        yield progress


# --------------------------------------------------------------------------- output


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{str(k).replace('_', ' ')}: {_cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value) or "-"
    return str(value)


def _render(title: str, document: Mapping[str, Any]) -> RenderableType:
    """Facts as a grid, lists of records as tables; all data as :class:`rich.text.Text`."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    parts: list[RenderableType] = [Text(title, style="bold"), Text(""), facts]
    for key, value in document.items():
        label = key.replace("_", " ")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            table = Table(title=label, title_justify="left")
            columns = list(value[0])
            for column in columns:
                table.add_column(Text(column.replace("_", " ")), overflow="fold")
            for row in value:
                table.add_row(*(Text(_cell(row.get(c))) for c in columns))
            parts += [Text(""), table]
        else:
            facts.add_row(label, Text(_cell(value)))
    return Group(*parts)


def _emit(title: str, document: Mapping[str, Any], output_format: CouncilFormat) -> None:
    if output_format is CouncilFormat.JSON:
        typer.echo(_json_text(document), nl=False)
    else:
        Console(highlight=False).print(_render(title, document))


def _member_row(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "pseudonym": member.pseudonym,
        "round": member.round,
        "wijk": member.wijk,
        "cohort": member.cohort,
        "since": member.since,
        "term_end": member.term_end,
    }


def _draw_document(
    result: CouncilDraw, path: Path, algorithm: str, source: str, fallback: str
) -> dict[str, Any]:
    record = result.state.rounds[-1]
    draw = result.bundle["draw"]
    return {
        "council": result.state.terms.name,
        "round": record.round,
        "year": record.year,
        "seats": result.seats,
        "pool_size": result.pool_size,
        "excluded": result.exclusions.to_json(),
        "algorithm": algorithm,
        "panels": draw["m"],
        "randomness": {"source": source, "fallback": fallback},
        "commitment": record.commitment,
        "bundle": str(path),
        "next": f"publish {path} (at least its commitment) before the source produces its "
        "value, then run 'stadmaken council reveal --seed VALUE'",
    }


# --------------------------------------------------------------------------- commands

_INIT_HELP: Final = (
    "Define a council and commit its first draw (round 0): every seat.\n\n"
    "Writes round-0.json in the bundles folder (publish it, or at least its commitment, before "
    "the randomness source produces its value) and the private council state. Neither may "
    "exist yet."
)
_REVEAL_HELP: Final = (
    "Reveal the pending round with the seed and seat its members.\n\n"
    "In the first draw the members are dealt into cohorts by a seeded lot within each wijk; in "
    "a renewal the members whose term ended leave."
)
_REPLACE_HELP: Final = (
    "Replace a member who steps down, through the reserve list of the round that drew them.\n\n"
    "A reserve who may not sit now (ineligible, sitting, within the cool-down, or in a sitting "
    "member's household) is recorded as declining and skipped."
)
_RENEW_HELP: Final = (
    "Commit the next renewal: redraw the seats whose term ends this year.\n\n"
    "The pool leaves out the ineligible, the members who continue and their households, and "
    "everyone who served within the cool-down. Writes the next round-<n>.json, linked to the "
    "previous bundle, and the state."
)
_STATUS_HELP: Final = (
    "Show the council as the organiser sees it: members with real ids, rounds and the next "
    "step. The output is as private as the state."
)
_VERIFY_HELP: Final = (
    "Verify a council's public bundles: each bundle, the chain links and the council rules.\n\n"
    "Reads round-0.json, round-1.json, ... from the folder until one is missing."
)


@council_app.command("init", help=_INIT_HELP)
def init_command(
    state: StateOption,
    bundles: BundlesOption,
    name: Annotated[
        str, typer.Option("--name", metavar="TEXT", help="The council's name.", show_default=False)
    ],
    seats: Annotated[
        Path,
        typer.Option(
            "--seats",
            metavar="FILE",
            help="Seats per wijk (CSV or Excel): columns wijk,seats.",
            show_default=False,
        ),
    ],
    people: PeopleOption,
    year: Annotated[
        int,
        typer.Option("--year", metavar="YEAR", help="Year of the first draw.", show_default=False),
    ],
    term_years: Annotated[
        int,
        typer.Option(
            "--term-years", metavar="N", help="Length of a full term in years.", show_default=False
        ),
    ],
    cohorts: Annotated[
        int,
        typer.Option(
            "--cohorts",
            metavar="C",
            help="Cohorts for staggered renewal: every term-years/C years, 1/C of the seats is "
            "renewed.",
            show_default=False,
        ),
    ],
    cooldown_years: Annotated[
        int,
        typer.Option(
            "--cooldown-years",
            metavar="N",
            help="Someone who left in year Y can be drawn again from Y + N.",
            show_default=False,
        ),
    ],
    source: SourceOption,
    fallback: FallbackOption = "",
    wijk_feature: Annotated[
        str,
        typer.Option("--wijk-feature", metavar="NAME", help="The column holding the wijk."),
    ] = "wijk",
    ineligible: IneligibleOption = None,
    quotas: QuotasOption = None,
    households: HouseholdsOption = None,
    id_column: IdColumnOption = "id",
    algorithm: AlgorithmOption = "leximin",
    panels: PanelsOption = DEFAULT_PANELS,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            metavar="FILE",
            help="The council's secret key (hexadecimal, at least 32 digits); default a fresh "
            "one, kept in the state. The same key, files and seed give identical files.",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Define a council and commit its first draw (round 0): every seat.

    Writes ``round-0.json`` in the bundles folder (publish it, or at least its commitment,
    before the randomness source produces its value) and the private council state. Neither
    may exist yet.

    Parameters
    ----------
    state, bundles : Path
        The state file to create, and the (existing) folder of the bundles.
    name, seats, people : str, Path, Path
        The council's name, the seats file (``wijk,seats``) and the respondents.
    year, term_years, cohorts, cooldown_years : int
        The council's terms (:class:`sortition.council.CouncilTerms`).
    source, fallback : str
        The public randomness source and its fallback.
    wijk_feature, ineligible, quotas, households, id_column : optional
        The wijk column, ineligible ids, quotas on other features, household columns, id column.
    algorithm : str
        ``leximin``, ``maximin`` or ``nash``.
    panels : int
        Panels of the transparent lottery.
    key_file : Path, optional
        The council's key.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 for bad input, 1 for a solver failure.
    """
    from sortition.council import CouncilTerms, dump_state, first_draw, read_key, read_seats

    target = bundle_path(bundles, 0)
    with _errors(), _naming_quota_file(quotas, wijk_feature):
        _check_folder(bundles)
        _check_target(state, "the council state", new=True)
        _check_target(target, "the bundle", new=True)
        chosen = _algorithm(algorithm)
        terms = CouncilTerms(
            name, wijk_feature, read_seats(seats), term_years, cohorts, cooldown_years, year
        )
        pool, other, excluded = _read_inputs(
            terms, people, quotas, ineligible, households, id_column
        )
        key = read_key(key_file) if key_file is not None else secrets.token_bytes(32)
        with _computing("Computing the distribution") as progress:
            result = first_draw(
                terms,
                pool,
                key=key,
                software=f"stadmaken {software_version()}",
                source=source,
                fallback=fallback,
                ineligible=excluded,
                quotas=other,
                algorithm=chosen,
                panels=panels,
                progress=progress,
            )
    write_files(
        [
            (target, bundle_bytes(result.bundle), False),
            (state, dump_state(result.state).encode("utf-8"), True),
        ]
    )
    document = _draw_document(result, target, chosen, source, fallback)
    _emit(f"{terms.name}: first draw committed", document, output_format)


@council_app.command("reveal", help=_REVEAL_HELP)
def reveal_command(
    state: StateOption,
    bundles: BundlesOption,
    seed: Annotated[
        str,
        typer.Option(
            "--seed",
            metavar="SEED",
            help="The value the announced randomness source produced.",
            show_default=False,
        ),
    ],
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Reveal the pending round with the seed and seat its members.

    In the first draw the members are dealt into cohorts by a seeded lot within each wijk;
    in a renewal the members whose term ended leave.

    Parameters
    ----------
    state, bundles : Path
        The council state and the bundles folder.
    seed : str
        The value of the randomness source.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 for bad input.
    """
    from sortition.council import dump_state, reveal_round

    with _errors():
        council, chain = _load(state, bundles)
        result = reveal_round(council, chain, seed)
    record = result.state.rounds[-1]
    target = bundle_path(bundles, record.round)
    write_files(
        [
            (target, bundle_bytes(result.bundle), False),
            (state, dump_state(result.state).encode("utf-8"), True),
        ]
    )
    document = {
        "council": result.state.terms.name,
        "round": record.round,
        "year": record.year,
        "seed": seed,
        "panel_index": result.bundle["reveal"]["index"],
        "bundle": str(target),
        "joined": [_member_row(m) for m in result.joined],
        "left": [
            {"id": f.id, "wijk": f.wijk, "cohort": f.cohort, "since": f.since, "until": f.until}
            for f in result.left
        ],
    }
    _emit(f"{result.state.terms.name}: round {record.round} revealed", document, output_format)


@council_app.command("replace", help=_REPLACE_HELP)
def replace_command(
    state: StateOption,
    bundles: BundlesOption,
    member: Annotated[
        str,
        typer.Option(
            "--member",
            metavar="ID",
            help="The real id of the member who steps down.",
            show_default=False,
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            metavar="YEAR",
            help="The year they step down (default: the year of the latest round).",
            show_default=False,
        ),
    ] = None,
    ineligible: IneligibleOption = None,
    id_column: IdColumnOption = "id",
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Replace a member who steps down, through the reserve list of the round that drew them.

    Parameters
    ----------
    state, bundles : Path
        The council state and the bundles folder.
    member : str
        The member's real id.
    year : int, optional
        The year they step down.
    ineligible : Path, optional
        Ids that may not sit now (skipped on the reserve list).
    id_column : str
        The id column of the ineligible file.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 for bad input or when no reserve can take the seat.
    """
    from sortition.council import dump_state, read_ids, step_down

    with _errors():
        council, chain = _load(state, bundles)
        excluded = read_ids(ineligible, id_column) if ineligible is not None else frozenset()
        result = step_down(council, chain, member, year=year, ineligible=excluded)
    target = bundle_path(bundles, result.replacement.round)
    write_files(
        [
            (target, bundle_bytes(result.bundle), False),
            (state, dump_state(result.state).encode("utf-8"), True),
        ]
    )
    document = {
        "council": result.state.terms.name,
        "stepped_down": result.withdrawn.id,
        "year": result.withdrawn.until,
        "replacement": result.replacement.id,
        "pseudonym": result.replacement.pseudonym,
        "round": result.replacement.round,
        "wijk": result.replacement.wijk,
        "cohort": result.replacement.cohort,
        "term_end": result.replacement.term_end,
        "skipped": result.skipped,
        "bundle": str(target),
    }
    _emit(f"{result.state.terms.name}: member replaced", document, output_format)


@council_app.command("renew", help=_RENEW_HELP)
def renew_command(
    state: StateOption,
    bundles: BundlesOption,
    people: PeopleOption,
    source: SourceOption,
    fallback: FallbackOption = "",
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            metavar="YEAR",
            help="The year of the renewal, checked against the schedule (default: the next).",
            show_default=False,
        ),
    ] = None,
    ineligible: IneligibleOption = None,
    quotas: QuotasOption = None,
    households: HouseholdsOption = None,
    id_column: IdColumnOption = "id",
    algorithm: AlgorithmOption = "leximin",
    panels: PanelsOption = DEFAULT_PANELS,
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Commit the next renewal: redraw the seats whose term ends this year.

    The pool leaves out the ineligible, the members who continue and their households, and
    everyone who served within the cool-down. Writes the next ``round-<n>.json``, linked to the
    previous bundle, and the state.

    Parameters
    ----------
    state, bundles : Path
        The council state and the bundles folder.
    people : Path
        The new respondents.
    source, fallback : str
        The public randomness source and its fallback.
    year : int, optional
        The year of the renewal.
    ineligible, quotas, households, id_column : optional
        As for ``init``.
    algorithm : str
        ``leximin``, ``maximin`` or ``nash``.
    panels : int
        Panels of the transparent lottery.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 for bad input, 1 for a solver failure.
    """
    from sortition.council import dump_state, renew

    with _errors():
        council, chain = _load(state, bundles)
        target = bundle_path(bundles, council.next_round)
        _check_target(target, "the bundle", new=True)
        _check_target(state, "the council state", new=False)
        chosen = _algorithm(algorithm)
        pool, other, excluded = _read_inputs(
            council.terms, people, quotas, ineligible, households, id_column
        )
        with (
            _naming_quota_file(quotas, council.terms.wijk_feature),
            _computing("Computing the distribution") as progress,
        ):
            result = renew(
                council,
                chain,
                pool,
                software=f"stadmaken {software_version()}",
                source=source,
                fallback=fallback,
                year=year,
                ineligible=excluded,
                quotas=other,
                algorithm=chosen,
                panels=panels,
                progress=progress,
            )
    write_files(
        [
            (target, bundle_bytes(result.bundle), False),
            (state, dump_state(result.state).encode("utf-8"), True),
        ]
    )
    document = _draw_document(result, target, chosen, source, fallback)
    document["continuing"] = len(result.bundle["draw"]["council"]["continuing"])
    title = f"{council.terms.name}: renewal committed"
    _emit(title, document, output_format)


@council_app.command("status", help=_STATUS_HELP)
def status_command(
    state: StateOption,
    bundles: Annotated[
        Path | None,
        typer.Option(
            "--bundles",
            metavar="DIR",
            help="Also check the bundles in this folder against the state.",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Show the council as the organiser sees it: members with real ids, rounds, next renewal.

    The output holds real ids: it is as private as the state.

    Parameters
    ----------
    state : Path
        The council state.
    bundles : Path, optional
        The bundles folder, to check against the state.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 for bad input.
    """
    from sortition.council import load_state

    with _errors():
        council = load_state(state) if bundles is None else _load(state, bundles)[0]
    terms = council.terms
    if council.pending:
        last = council.rounds[-1]
        upcoming: dict[str, Any] = {
            "action": f"reveal round {last.round} ({last.year})",
            "round": last.round,
            "year": last.year,
        }
    else:
        following = council.next_round
        cohort = terms.renewed_cohort(following)
        upcoming = {
            "action": f"renew cohort {cohort}",
            "round": following,
            "year": terms.renewal_year(following),
            "seats": dict(
                sorted(
                    (w, sum(1 for m in council.members if m.wijk == w and m.cohort == cohort))
                    for w in terms.seats
                )
            ),
        }
    document: dict[str, Any] = {
        "council": terms.name,
        "terms": {
            "wijk feature": terms.wijk_feature,
            "seats": terms.total_seats,
            "term years": terms.term_years,
            "cohorts": terms.cohorts,
            "cooldown years": terms.cooldown_years,
            "start year": terms.start_year,
        },
        "seats": dict(terms.seats),
        "next": upcoming,
        "former_members": len(council.former),
        "rounds": [
            {
                "round": r.round,
                "year": r.year,
                "revealed": r.revealed,
                "events": r.events,
                "commitment": r.commitment,
                "digest": r.digest,
            }
            for r in council.rounds
        ],
        "members": [_member_row(m) for m in council.members],
    }
    _emit(f"{terms.name} (private: real ids)", document, output_format)


@council_app.command("verify", help=_VERIFY_HELP)
def verify_command(
    bundles: BundlesOption,
    output_format: FormatOption = CouncilFormat.TABLE,
) -> None:
    """Verify a council's public bundles: each bundle, the chain links and the council rules.

    Reads ``round-0.json``, ``round-1.json``, ... from the folder until one is missing.

    Parameters
    ----------
    bundles : Path
        The bundles folder.
    output_format : CouncilFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        Code 2 if anything does not verify.
    """
    from sortition.audit import load_bundle
    from sortition.council import verify_council

    with _errors():
        _check_folder(bundles)
        paths: list[Path] = []
        while bundle_path(bundles, len(paths)).exists():
            paths.append(bundle_path(bundles, len(paths)))
        if not paths:
            raise _input_error(f"the folder '{bundles}' has no round-0.json")
        chain = [load_bundle(path) for path in paths]
        result = verify_council(chain, names=[str(path) for path in paths])
    document = {
        "council": result.terms.name,
        "verified": True,
        "pending": result.pending,
        "next_year": result.next_year,
        "rounds": [
            {
                "round": i,
                "year": result.years[i],
                "revealed": v.index is not None,
                "events": v.events,
                "k": v.k,
                "m": v.m,
                "commitment": v.commitment,
                "digest": v.digest,
            }
            for i, v in enumerate(result.rounds)
        ],
        "seats": [s.to_json() for s in result.seats],
    }
    _emit(f"{result.terms.name}: the chain verifies", document, output_format)
