"""The ``stadmaken`` command line.

One :class:`typer.Typer` app with a function per command. Today it has ``draw``; ``count``,
``verify``, ``council`` and others will join it the same way: read the files with the cores'
``io`` functions, run the core inside :func:`reported_errors`, and render the result as a
report for people (rich, the default) or as one canonical JSON object (``--format json``).

Output rules shared by every command:

* results go to stdout (or to ``--out FILE``); messages, the seed notice, warnings and progress
  go to stderr, so ``--format json`` on stdout is always exactly one JSON document;
* an error of the cores (:class:`sortition.SortitionError`) is one line ``error: ...`` on stderr
  naming file, row and column, with exit code 2 for bad input or quotas and 1 for a solver
  failure; usage errors (missing or malformed options, files that do not exist) are reported by
  typer with exit code 2; a traceback is only ever shown for a bug;
* nothing but ids and quota feature values is ever shown of a person: other columns of a pool
  file (names, addresses, e-mail) are not even read, and household keys are never printed.

The sortition core is pure, so everything here that touches a terminal, a file or the clock is
the command line's own business.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from service.common import (
    MAPPING_FORMAT,
    DelayedStatus,
    OutputFormat,
    bundle_bytes,
    check_key,
    check_out,
    emit,
    exit_code,
    one_line,
    read_bundle,
    read_mapping,
    reported_errors,
    software_version,
    solver_output_to_stderr,
    write_file,
    write_files,
)

if TYPE_CHECKING:  # the cores are imported when a command runs, so --help stays quick
    from sortition import Algorithm, Distribution, DrawResult, Pool, Quotas

__all__ = [
    "AlgorithmName",
    "DelayedStatus",
    "DrawReport",
    "OutputFormat",
    "QuotaRow",
    "app",
    "build_draw_report",
    "draw_report_json",
    "exit_code",
    "render_draw_report",
    "reported_errors",
]

#: Probabilities are rounded to this many decimals in every output, so that outputs compare
#: byte for byte.
PROBABILITY_DECIMALS: Final = 12
#: Probabilities this close to the lowest count as the lowest (the solvers' precision).
PROBABILITY_TOLERANCE: Final = 1e-9
#: The report lists at most this many of the ids with the lowest probability.
MAX_IDS_SHOWN: Final = 10
#: Width of a table report written to a file (a terminal uses its own width).
FILE_WIDTH: Final = 100

app = typer.Typer(
    name="stadmaken",
    help="stadmaken: stratified sortition, participatory budgeting and vote counting.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold personal data
)


class AlgorithmName(StrEnum):
    """The selection algorithms offered by ``stadmaken draw``."""

    LEXIMIN = "leximin"
    MAXIMIN = "maximin"
    NASH = "nash"
    LEGACY = "legacy"

    def core_name(self) -> Algorithm:
        """The name :func:`sortition.find_distribution` takes."""
        names: dict[AlgorithmName, Algorithm] = {
            AlgorithmName.LEXIMIN: "leximin",
            AlgorithmName.MAXIMIN: "maximin",
            AlgorithmName.NASH: "nash",
            AlgorithmName.LEGACY: "legacy",
        }
        return names[self]


# --------------------------------------------------------------------------- shared machinery


#: The packages whose log lines the command line shows.
_CORES: Final = ("sortition", "budgeting", "voting")


class _EchoHandler(logging.Handler):
    """Writes log records as ``warning: message`` lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            typer.echo(f"{record.levelname.lower()}: {one_line(record.getMessage())}", err=True)
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def _log_to_stderr(verbose: bool) -> Callable[[], None]:
    """Show the cores' warnings (with ``verbose`` also their info) on stderr.

    Returns the function that undoes it, so that a command leaves logging as it found it (which
    matters when the app runs inside another program, such as a test).
    """
    handler = _EchoHandler(logging.INFO if verbose else logging.WARNING)
    loggers = [logging.getLogger(name) for name in _CORES]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if verbose and not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)

    def undo() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)

    return undo


def _write_output(text: str, out: Path | None) -> None:
    """Write ``text`` to ``out`` (atomically), or to stdout when ``out`` is None."""
    if out is None:
        typer.echo(text, nl=False)
        return
    write_file(out, text.encode("utf-8"))


def _split_columns(value: str | None) -> list[str]:
    """Split ``--households a,b`` into column names (checked by :func:`_check_columns`)."""
    return [] if value is None else [name.strip() for name in value.split(",")]


def _check_columns(value: str | None) -> str | None:
    if not all(_split_columns(value)):
        raise typer.BadParameter(
            f"'{value}' has an empty column name; give names separated by commas, "
            "for example postcode,huisnummer"
        )
    return value


def _check_seed(value: str | None) -> str | None:
    if value is not None and not value:
        raise typer.BadParameter("the seed must not be empty")
    return value


def _check_id_column(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("the id column name must not be empty")
    return value


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"stadmaken {software_version()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show the algorithms' timing notes.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Set up output shared by every command.

    Parameters
    ----------
    ctx : typer.Context
        The command's context; logging is restored when it closes.
    verbose : bool
        Show the cores' info log lines on stderr (warnings are always shown).
    version : bool
        Print the version and exit.
    """
    ctx.call_on_close(_log_to_stderr(verbose))


# --------------------------------------------------------------------------- draw: the data


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """One quota with how many people have its value in the pool and on the panel."""

    feature: str
    value: str
    min: int
    max: int
    pool: int
    selected: int


@dataclass(frozen=True, slots=True)
class DrawReport:
    """Everything ``stadmaken draw`` reports, in canonical order.

    Attributes
    ----------
    algorithm : str
        The algorithm that computed the distribution.
    seed : str
        The seed the panel was drawn with.
    size : int
        The panel size.
    pool_size : int
        Number of people in the pool.
    features : tuple of str
        The quota features, in the quota file's order.
    households : tuple of str
        The household columns (empty when the household rule was not applied).
    selected : tuple of str
        The panel's ids, sorted.
    panel_features : dict
        For every selected id, its value of each feature.
    panel_index : int or None
        Index of the drawn composition in the distribution (None for LEGACY).
    probabilities : dict or None
        Selection probability of every pool member, by id (sorted), rounded to
        :data:`PROBABILITY_DECIMALS`; None for LEGACY without samples.
    estimated : bool
        True when the probabilities are Monte-Carlo estimates (LEGACY).
    legacy_samples : int or None
        The number of LEGACY panels behind the estimates (None for the other algorithms).
    quotas : tuple of QuotaRow
        The quotas in the quota file's order, with pool and panel counts.
    note : str or None
        A remark about the probabilities.
    """

    algorithm: str
    seed: str
    size: int
    pool_size: int
    features: tuple[str, ...]
    households: tuple[str, ...]
    selected: tuple[str, ...]
    panel_features: dict[str, dict[str, str]]
    panel_index: int | None
    probabilities: dict[str, float] | None
    estimated: bool
    legacy_samples: int | None
    quotas: tuple[QuotaRow, ...]
    note: str | None

    @property
    def lowest(self) -> float | None:
        """The lowest selection probability (None when not known)."""
        return min(self.probabilities.values()) if self.probabilities else None

    @property
    def median(self) -> float | None:
        """The median selection probability (None when not known)."""
        if not self.probabilities:
            return None
        return round(statistics.median(self.probabilities.values()), PROBABILITY_DECIMALS)

    @property
    def highest(self) -> float | None:
        """The highest selection probability (None when not known)."""
        return max(self.probabilities.values()) if self.probabilities else None

    @property
    def ids_with_lowest(self) -> tuple[str, ...] | None:
        """The ids whose probability is the lowest, sorted.

        Probabilities within :data:`PROBABILITY_TOLERANCE` of the lowest count as the lowest:
        the solvers find them to about that precision, so people the algorithm treats alike may
        differ in the last digits.
        """
        if not self.probabilities:
            return None
        bound = min(self.probabilities.values()) + PROBABILITY_TOLERANCE
        return tuple(i for i, p in self.probabilities.items() if p <= bound)


def build_draw_report(
    pool: Pool,
    quotas: Quotas,
    distribution: Distribution,
    result: DrawResult,
    *,
    households: Sequence[str] = (),
    legacy_samples: int = 0,
) -> DrawReport:
    """Collect what ``stadmaken draw`` reports about a drawn panel.

    Nothing depends on the order of the pool's rows: ids are sorted and counts are counts.

    Parameters
    ----------
    pool, quotas : Pool, Quotas
        The inputs of the draw.
    distribution : Distribution
        The distribution the panel was drawn from.
    result : DrawResult
        The drawn panel.
    households : sequence of str
        The household columns, to record.
    legacy_samples : int
        For LEGACY: how many panels the probabilities were estimated from (0: not estimated).

    Returns
    -------
    DrawReport
    """
    people = {person.id: person for person in pool.people}
    selected = tuple(sorted(result.selected))
    in_pool = Counter((f, v) for p in pool.people for f, v in p.features.items())
    on_panel = Counter((f, v) for i in selected for f, v in people[i].features.items())
    rows = tuple(
        QuotaRow(
            q.feature,
            q.value,
            q.min,
            q.max,
            in_pool[(q.feature, q.value)],
            on_panel[(q.feature, q.value)],
        )
        for q in quotas.quotas
    )
    features = quotas.features
    legacy = distribution.algorithm == "legacy"
    probabilities: dict[str, float] | None = None
    note: str | None = None
    if legacy and legacy_samples <= 0:
        note = (
            "LEGACY's selection probabilities are not computed; use --legacy-samples N to "
            "estimate them from N panels"
        )
    else:
        probabilities = {
            i: round(p, PROBABILITY_DECIMALS) for i, p in sorted(distribution.probabilities.items())
        }
        if legacy:
            note = (
                f"probabilities are estimates from {legacy_samples} LEGACY panels drawn with "
                "the seed"
            )
    return DrawReport(
        algorithm=distribution.algorithm,
        seed=result.seed,
        size=len(selected),
        pool_size=len(pool),
        features=features,
        households=tuple(households),
        selected=selected,
        panel_features={i: {f: people[i].features[f] for f in features} for i in selected},
        panel_index=result.panel_index,
        probabilities=probabilities,
        estimated=distribution.estimated or legacy,
        legacy_samples=legacy_samples if legacy else None,
        quotas=rows,
        note=note,
    )


def draw_report_json(report: DrawReport) -> str:
    """The report as one JSON document: sorted keys, indent 2, UTF-8 text, final newline.

    Equal reports give equal text, whatever the process.

    Parameters
    ----------
    report : DrawReport

    Returns
    -------
    str
    """
    lowest_ids = report.ids_with_lowest
    document: dict[str, Any] = {
        "algorithm": report.algorithm,
        "households": list(report.households),
        "legacy_samples": report.legacy_samples,
        "note": report.note,
        "panel_index": report.panel_index,
        "pool_size": report.pool_size,
        "probabilities": report.probabilities,
        "probabilities_estimated": report.estimated,
        "quotas": [
            {
                "feature": q.feature,
                "value": q.value,
                "min": q.min,
                "max": q.max,
                "pool": q.pool,
                "selected": q.selected,
            }
            for q in report.quotas
        ],
        "seed": report.seed,
        "selected": list(report.selected),
        "size": report.size,
        "software": {"name": "stadmaken", "version": software_version()},
        "summary": {
            "min": report.lowest,
            "median": report.median,
            "max": report.highest,
            "ids_with_min": None if lowest_ids is None else list(lowest_ids),
        },
    }
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- draw: the report


def _probability(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:MAX_IDS_SHOWN])
    more = len(ids) - MAX_IDS_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def render_draw_report(report: DrawReport) -> RenderableType:
    """The report as rich renderables, for a person to read.

    All data goes in as :class:`rich.text.Text`, so ids and values are never read as markup.

    Parameters
    ----------
    report : DrawReport

    Returns
    -------
    rich.console.RenderableType
    """
    households = ", ".join(report.households) if report.households else "not applied"
    heading = Text.assemble(
        (f"Panel of {report.size}", "bold"),
        f" drawn from {report.pool_size} people with {report.algorithm.upper()}",
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("algorithm", Text(report.algorithm))
    facts.add_row("seed", Text(report.seed))
    facts.add_row(
        "panel index", Text("- (LEGACY)" if report.panel_index is None else str(report.panel_index))
    )
    facts.add_row(
        "households",
        Text(f"at most one per household ({households})" if report.households else households),
    )

    panel = Table(title="Selected panel", title_justify="left", show_lines=False)
    panel.add_column("id")
    for feature in report.features:
        panel.add_column(Text(feature))
    for person_id in report.selected:
        values = report.panel_features[person_id]
        panel.add_row(Text(person_id), *(Text(values[f]) for f in report.features))

    quotas = Table(title="Quotas", title_justify="left")
    quotas.add_column("feature")
    quotas.add_column("value")
    for name in ("min", "max", "in pool", "selected"):
        quotas.add_column(name, justify="right")
    for q in report.quotas:
        quotas.add_row(
            Text(q.feature), Text(q.value), str(q.min), str(q.max), str(q.pool), str(q.selected)
        )

    title = "Selection probabilities" + (" (estimated)" if report.estimated else "")
    chances = Table.grid(padding=(0, 2))
    chances.add_column(style="bold")
    chances.add_column()
    if report.probabilities is None:
        chances.add_row("not computed", Text(report.note or ""))
    else:
        lowest = report.ids_with_lowest or ()
        chances.add_row("lowest", _probability(report.lowest))
        chances.add_row("median", _probability(report.median))
        chances.add_row("highest", _probability(report.highest))
        chances.add_row(
            "lowest for", Text(f"{len(lowest)} " + ("person" if len(lowest) == 1 else "people"))
        )
        chances.add_row("", Text(_listed(lowest)))
        if report.note:
            chances.add_row("note", Text(report.note))

    return Group(
        heading,
        Text(""),
        facts,
        Text(""),
        panel,
        Text(""),
        quotas,
        Text(""),
        Text(title, style="bold"),
        chances,
    )


def _table_text(renderable: RenderableType, width: int) -> str:
    """Render to plain text (no colours) at ``width`` columns."""
    console = Console(width=width, color_system=None, force_terminal=False, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    return "".join(line.rstrip() + "\n" for line in capture.get().splitlines())


# --------------------------------------------------------------------------- draw: the command

_DRAW_HELP = (
    "Draw a panel from a pool of people so that it meets the quotas.\n\n"
    "Computes the fairest distribution over all panels that meet the quotas (and the "
    "household rule), then draws one panel from it with a seed. The same files, size, "
    "algorithm and seed give the same panel everywhere, whatever the order of the rows."
)


_PEOPLE_OPTION = typer.Option(
    "--people",
    metavar="FILE",
    help="Pool file (CSV or Excel): one row per person, a column per quota feature.",
    exists=True,
    dir_okay=False,
    readable=True,
    show_default=False,
)
_QUOTAS_OPTION = typer.Option(
    "--quotas",
    metavar="FILE",
    help="Quota file (CSV or Excel) with columns feature,value,min,max.",
    exists=True,
    dir_okay=False,
    readable=True,
    show_default=False,
)

draw_app = typer.Typer(
    name="draw",
    help=_DRAW_HELP,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(draw_app)


class _MissingOption(typer.BadParameter):
    """The usage error of a required option that is missing (as click words it)."""

    def format_message(self) -> str:
        return f"Missing option {self.param_hint}."


def _require(ctx: typer.Context, **values: object) -> None:
    """Raise a usage error (exit 2) for the first required option that is missing."""
    for name, value in values.items():
        if value is None:
            param = next(p for p in ctx.command.params if p.name == name)
            raise _MissingOption("", ctx=ctx, param_hint=f"'{param.opts[0]}'")


@draw_app.callback()
def draw_command(
    ctx: typer.Context,
    people: Annotated[Path | None, _PEOPLE_OPTION] = None,
    quotas: Annotated[Path | None, _QUOTAS_OPTION] = None,
    size: Annotated[
        int | None,
        typer.Option("--size", "-k", min=1, metavar="K", help="Panel size.", show_default=False),
    ] = None,
    algorithm: Annotated[
        AlgorithmName,
        typer.Option(case_sensitive=False, help="Fairness objective of the distribution."),
    ] = AlgorithmName.LEXIMIN,
    seed: Annotated[
        str | None,
        typer.Option(
            callback=_check_seed,
            metavar="SEED",
            help="Seed of the draw; without it a fresh one is drawn and shown.",
            show_default=False,
        ),
    ] = None,
    households: Annotated[
        str | None,
        typer.Option(
            callback=_check_columns,
            metavar="COL[,COL...]",
            help="Columns that together identify a household; at most one per household "
            "is selected.",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str,
        typer.Option(
            callback=_check_id_column, metavar="NAME", help="Column with each person's id."
        ),
    ] = "id",
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A report to read, or JSON."),
    ] = OutputFormat.TABLE,
    out: Annotated[
        Path | None,
        typer.Option(
            callback=check_out,
            metavar="FILE",
            dir_okay=False,
            help="Write the output to this file instead of stdout.",
            show_default=False,
        ),
    ] = None,
    legacy_samples: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="N",
            help="For --algorithm legacy: estimate the selection probabilities from this many "
            "panels (0: do not estimate).",
        ),
    ] = 0,
) -> None:
    """Draw a panel and report it (``stadmaken draw``), unless a subcommand follows.

    Parameters
    ----------
    ctx : typer.Context
        The context; names the subcommand (``commit``, ``reveal``, ``replace``) if one is given.
    people : Path
        The pool file.
    quotas : Path
        The quota file.
    size : int
        The panel size, at least 1.
    algorithm : AlgorithmName
        The fairness objective.
    seed : str, optional
        The seed; a fresh one from :func:`sortition.new_seed` when omitted.
    households : str, optional
        Comma-separated household columns.
    id_column : str
        The id column.
    output_format : OutputFormat
        ``table`` (a report) or ``json``.
    out : Path, optional
        Output file instead of stdout.
    legacy_samples : int
        Panels to estimate LEGACY's probabilities from.

    Raises
    ------
    typer.Exit
        With code 2 for bad input or quotas, 1 for a solver failure.
    """
    if ctx.invoked_subcommand is not None:
        return
    _require(ctx, people=people, quotas=quotas, size=size)
    assert people is not None and quotas is not None and size is not None
    from sortition import draw, find_distribution, new_seed, read_people, read_quotas

    household_columns = _split_columns(households)
    chosen = algorithm.core_name()
    if legacy_samples and algorithm is not AlgorithmName.LEGACY:
        typer.echo("note: --legacy-samples only applies to --algorithm legacy", err=True)
    fresh_seed = seed is None
    if seed is None:
        seed = new_seed()

    stderr = Console(stderr=True, highlight=False)
    with (
        reported_errors(quota_file=quotas, people_file=people),
        DelayedStatus(stderr, "Reading the files") as progress,
        solver_output_to_stderr(),
    ):
        quota_table = read_quotas(quotas)
        pool = read_people(
            people, quota_table, id_column=id_column, household_columns=household_columns
        )
        progress(f"Computing the {chosen.upper()} distribution", 0, 0)
        distribution = find_distribution(
            pool,
            quota_table,
            size,
            algorithm=chosen,
            progress=progress,
            legacy_samples=max(legacy_samples, 1),
            seed=seed,
        )
        progress("Drawing the panel", 0, 0)
        result = draw(distribution, seed)

    if fresh_seed:
        typer.echo(f"seed: {seed} (use --seed {seed} to repeat this draw)", err=True)
    report = build_draw_report(
        pool,
        quota_table,
        distribution,
        result,
        households=household_columns,
        legacy_samples=legacy_samples,
    )
    if output_format is OutputFormat.JSON:
        _write_output(draw_report_json(report), out)
    elif out is not None:
        _write_output(_table_text(render_draw_report(report), FILE_WIDTH), out)
    else:
        Console(highlight=False).print(render_draw_report(report))


# --------------------------------------------------------------------------- auditable draws

_BUNDLE_ARGUMENT = typer.Argument(
    metavar="BUNDLE",
    help="An audit bundle written by 'stadmaken draw commit'.",
    exists=True,
    dir_okay=False,
    readable=True,
    show_default=False,
)


#: ``--format table|json`` of the commands that report a summary.
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", case_sensitive=False, help="A summary to read, or JSON."),
]
#: ``--mapping FILE``: the private pseudonym mapping, to name people by id.
MappingOption = Annotated[
    Path | None,
    typer.Option(
        exists=True,
        dir_okay=False,
        metavar="FILE",
        help="The private pseudonym mapping, to show ids next to pseudonyms.",
        show_default=False,
    ),
]
#: ``--out FILE`` of the commands that update a bundle.
UpdatedBundleOption = Annotated[
    Path | None,
    typer.Option(
        callback=check_out,
        metavar="FILE",
        help="Write the updated bundle here (default: update BUNDLE).",
        show_default=False,
    ),
]


def _check_algorithm_for_lottery(value: AlgorithmName) -> AlgorithmName:
    if value is AlgorithmName.LEGACY:
        raise typer.BadParameter(
            "legacy has no exact distribution to round to a lottery; use leximin, maximin or nash"
        )
    return value


def _named(ids: Sequence[str], mapping: dict[str, str] | None) -> list[dict[str, str]]:
    return [
        {"pseudonym": pid, **({"id": mapping.get(pid, "?")} if mapping is not None else {})}
        for pid in ids
    ]


_COMMIT_HELP = (
    "Commit to a transparent lottery before the randomness exists.\n\n"
    "Computes the distribution, rounds it to a uniform lottery over M panels, and writes an "
    "audit bundle holding the pseudonymised pool, the quotas, the panels and the public "
    "randomness source announced in advance. Publish the commitment it prints; when the "
    "source has produced its value, run 'stadmaken draw reveal BUNDLE --seed VALUE'."
)


@draw_app.command("commit", help=_COMMIT_HELP)
def commit_command(
    people: Annotated[Path, _PEOPLE_OPTION],
    quotas: Annotated[Path, _QUOTAS_OPTION],
    size: Annotated[
        int,
        typer.Option("--size", "-k", min=1, metavar="K", help="Panel size.", show_default=False),
    ],
    source: Annotated[
        str,
        typer.Option(
            metavar="TEXT",
            help="The public randomness whose value will be the seed, announced in advance "
            "(for example 'drand quicknet round 1234567' or 'dice:DDD on camera').",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            callback=check_out,
            metavar="BUNDLE",
            help="The audit bundle to write.",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            callback=check_out,
            metavar="FILE",
            help="Private file linking pseudonyms to ids (kept by the organiser, mode 0600).",
            show_default=False,
        ),
    ],
    fallback: Annotated[
        str,
        typer.Option(metavar="TEXT", help="What is used if the source fails."),
    ] = "",
    algorithm: Annotated[
        AlgorithmName,
        typer.Option(
            case_sensitive=False,
            callback=_check_algorithm_for_lottery,
            help="Fairness objective of the distribution.",
        ),
    ] = AlgorithmName.LEXIMIN,
    panels: Annotated[
        int,
        typer.Option(
            "--panels",
            "-m",
            min=1,
            max=100_000,
            metavar="M",
            help="Number of panels of the lottery.",
        ),
    ] = 1000,
    households: Annotated[
        str | None,
        typer.Option(
            callback=_check_columns,
            metavar="COL[,COL...]",
            help="Columns that together identify a household.",
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str,
        typer.Option(callback=_check_id_column, metavar="NAME", help="Column with each id."),
    ] = "id",
    pseudonym_key: Annotated[
        str | None,
        typer.Option(
            callback=check_key,
            metavar="HEX",
            help="Secret key of the pseudonyms (default: a fresh one, saved in the mapping).",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Compute, round and commit a draw (``stadmaken draw commit``).

    Parameters
    ----------
    people, quotas : Path
        The pool and quota files.
    size : int
        The panel size.
    source, fallback : str
        The public randomness source announced in advance, and its fallback.
    out : Path
        The bundle to write.
    mapping : Path
        The private pseudonym mapping to write.
    algorithm : AlgorithmName
        The fairness objective (not legacy).
    panels : int
        ``m``, the number of panels of the lottery.
    households : str, optional
        Comma-separated household columns.
    id_column : str
        The id column.
    pseudonym_key : str, optional
        Hexadecimal key of the pseudonyms.
    output_format : OutputFormat
        Summary as text or JSON.
    """
    import secrets

    from sortition import find_distribution, read_people, read_quotas, round_lottery
    from sortition.audit import commit, pseudonymise

    if not source.strip():
        raise typer.BadParameter("name the public randomness source", param_hint="'--source'")
    if out.resolve() == mapping.resolve():
        raise typer.BadParameter("the bundle and the mapping must be different files")
    key = bytes.fromhex(pseudonym_key) if pseudonym_key else secrets.token_bytes(32)
    stderr = Console(stderr=True, highlight=False)
    with (
        reported_errors(quota_file=quotas, people_file=people),
        DelayedStatus(stderr, "Reading the files") as progress,
        solver_output_to_stderr(),
    ):
        quota_table = read_quotas(quotas)
        pool = read_people(
            people, quota_table, id_column=id_column, household_columns=_split_columns(households)
        )
        public_pool, pseudonyms = pseudonymise(pool, key)
        chosen = algorithm.core_name()
        progress(f"Computing the {chosen.upper()} distribution", 0, 0)
        distribution = find_distribution(
            public_pool, quota_table, size, algorithm=chosen, progress=progress
        )
        progress(f"Rounding to {panels} panels", 0, 0)
        lottery = round_lottery(distribution, panels)
        bundle = commit(
            lottery,
            software=f"stadmaken {software_version()}",
            source=source,
            fallback=fallback,
        )
    private = {"format": MAPPING_FORMAT, "key": key.hex(), "pseudonyms": pseudonyms}
    write_files(
        [
            (mapping, json.dumps(private, ensure_ascii=False, indent=1).encode(), True),
            (out, bundle_bytes(bundle), False),
        ]
    )
    targets = sorted(lottery.target.values())
    data = {
        "commitment": bundle["hashes"]["commitment"],
        "panels": lottery.m,
        "pool": len(pool),
        "size": size,
        "algorithm": chosen,
        "lowest_probability_before": f"{targets[0]:.{PROBABILITY_DECIMALS}f}",
        "lowest_probability_after": str(min(lottery.counts.values()) / lottery.m),
        "rounding_loss": f"{lottery.loss:.{PROBABILITY_DECIMALS}f}",
        "source": source,
        "probabilities": {
            pid: {
                "before": f"{lottery.target[pid]:.{PROBABILITY_DECIMALS}f}",
                "after": f"{count}/{lottery.m}",
            }
            for pid, count in lottery.counts.items()
        },
    }
    emit(
        data,
        [
            f"commitment: {data['commitment']}",
            f"{lottery.m} panels of {size} from {len(pool)} people ({chosen})",
            f"lowest selection probability: {data['lowest_probability_before']} before "
            f"rounding, {data['lowest_probability_after']} after",
            f"largest change by rounding: {lottery.loss * lottery.m:.3f}/{lottery.m}",
            f"publish the commitment, then reveal with the value of: {source}",
        ],
        output_format,
    )


@draw_app.command("reveal", help="Reveal a committed draw with the seed: select the panel.")
def reveal_command(
    bundle_file: Annotated[Path, _BUNDLE_ARGUMENT],
    seed: Annotated[
        str,
        typer.Option(
            callback=_check_seed,
            metavar="SEED",
            help="The value the announced source produced (or dice:DDD).",
            show_default=False,
        ),
    ],
    mapping: MappingOption = None,
    out: UpdatedBundleOption = None,
    output_format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Select the panel of a committed draw (``stadmaken draw reveal``).

    Parameters
    ----------
    bundle_file : Path
        The committed bundle.
    seed : str
        The seed.
    mapping : Path, optional
        The private mapping.
    out : Path, optional
        Where to write the revealed bundle.
    output_format : OutputFormat
        Summary as text or JSON.
    """
    from sortition.audit import reveal

    with reported_errors(bundle_file=bundle_file):
        names = read_mapping(mapping) if mapping is not None else None
        revealed = reveal(read_bundle(bundle_file), seed)
    write_file(out or bundle_file, bundle_bytes(revealed))
    part = revealed["reveal"]
    data = {"seed": seed, "index": part["index"], "panel": _named(part["panel"], names)}
    lines = [f"seed {seed!r} selects panel {part['index']} of {revealed['draw']['m']}:"]
    lines += [" ".join(entry.values()) for entry in data["panel"]]
    emit(data, lines, output_format)


@draw_app.command("replace", help="Replace a panel member who withdraws, keeping the quotas.")
def replace_command(
    bundle_file: Annotated[Path, _BUNDLE_ARGUMENT],
    withdrawn: Annotated[
        str,
        typer.Option(
            metavar="ID",
            show_default=False,
            help="The member who withdraws: a pseudonym, or an id when --mapping is given.",
        ),
    ],
    mapping: MappingOption = None,
    out: UpdatedBundleOption = None,
    output_format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Append a replacement to a revealed draw (``stadmaken draw replace``).

    Parameters
    ----------
    bundle_file : Path
        The revealed bundle.
    withdrawn : str
        Pseudonym (or id, with ``mapping``) of the member who withdraws.
    mapping : Path, optional
        The private mapping.
    out : Path, optional
        Where to write the updated bundle.
    output_format : OutputFormat
        Summary as text or JSON.
    """
    from sortition.audit import replace

    with reported_errors(bundle_file=bundle_file):
        names = read_mapping(mapping) if mapping is not None else None
        member = withdrawn
        if names is not None and withdrawn not in names:
            member = next((p for p, i in names.items() if i == withdrawn), withdrawn)
        updated, replacement = replace(read_bundle(bundle_file), member)
    write_file(out or bundle_file, bundle_bytes(updated))
    gone, new = _named([member], names)[0], _named([replacement], names)[0]
    data = {"withdrawn": gone, "replacement": new, "event": len(updated["events"]) - 1}
    line = f"{' '.join(gone.values())} is replaced by {' '.join(new.values())}"
    emit(data, [line], output_format)


def _verify_invitation(
    bundle: dict[str, Any], bundle_file: Path, commitment: str | None, output_format: OutputFormat
) -> None:
    """Verify an invitation bundle and report it."""
    from sortition.invitation import verify_invitation

    result = verify_invitation(bundle, commitment=commitment)
    data = {
        "verified": True,
        "kind": "invitation",
        "commitment": result.commitment,
        "digest": result.digest,
        "addresses": result.addresses,
        "count": result.count,
        "allocation": result.allocation,
        "revealed": result.invited is not None,
        "invited": result.invited,
    }
    lines = [
        f"OK: {bundle_file} verifies (invitations)",
        f"commitment {result.commitment}",
        f"{result.count} of {result.addresses} addresses, per wijk: "
        + ", ".join(f"{w} {n}" for w, n in sorted(result.allocation.items())),
        "revealed" if result.invited is not None else "not revealed yet",
    ]
    emit(data, lines, output_format)


@app.command("verify", help="Re-derive an audit bundle; exit 0 if everything follows.")
def verify_command(
    bundle_file: Annotated[Path, _BUNDLE_ARGUMENT],
    previous: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="BUNDLE",
            help="The bundle this one continues (a council renewal).",
            show_default=False,
        ),
    ] = None,
    commitment: Annotated[
        str | None,
        typer.Option(
            metavar="HEX", help="The commitment published in advance.", show_default=False
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.TABLE,
) -> None:
    """Verify an audit bundle (``stadmaken verify``).

    Parameters
    ----------
    bundle_file : Path
        The bundle.
    previous : Path, optional
        The previous bundle of a chain.
    commitment : str, optional
        The commitment that was published before the draw.
    output_format : OutputFormat
        Summary as text or JSON.
    """
    from sortition.audit import verify

    with reported_errors(bundle_file=bundle_file):
        bundle = read_bundle(bundle_file)
        prior = read_bundle(previous) if previous is not None else None
        draw_part = bundle.get("draw")
        if isinstance(draw_part, dict) and draw_part.get("kind") == "invitation":
            _verify_invitation(bundle, bundle_file, commitment, output_format)
            return
        result = verify(bundle, previous=prior, commitment=commitment)
    data = {
        "verified": True,
        "commitment": result.commitment,
        "digest": result.digest,
        "panels": result.m,
        "size": result.k,
        "pool": result.pool_size,
        "rounding_loss": f"{result.loss:.{PROBABILITY_DECIMALS}f}",
        "revealed": result.index is not None,
        "index": result.index,
        "panel": list(result.panel),
        "events": result.events,
    }
    lines = [
        f"OK: {bundle_file} verifies",
        f"commitment {result.commitment}",
        f"{result.m} panels of {result.k} from {result.pool_size} people, every one meets the "
        "quotas and the household rule; largest change by rounding "
        f"{result.loss * result.m:.3f}/{result.m}",
    ]
    if result.index is None:
        lines.append("not revealed yet")
    else:
        lines.append(f"selected panel {result.index}; {result.events} replacement(s) since")
        lines.append("current panel: " + " ".join(result.panel))
    emit(data, lines, output_format)


# --------------------------------------------------------------------------- invitations

from service.invite_cli import invite_command, invite_reveal_command  # noqa: E402

invite_app = typer.Typer(
    name="invite",
    help="The invitation stage: draw the addresses to invite, stratified by wijk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
invite_app.command("commit", help="Commit to an invitation draw from an address register.")(
    invite_command
)
invite_app.command("reveal", help="Reveal an invitation draw with the seed.")(invite_reveal_command)
app.add_typer(invite_app)

# --------------------------------------------------------------------------- councils

from service.council_cli import council_app  # noqa: E402

app.add_typer(council_app, name="council")

# --------------------------------------------------------------------------- budgets

from service.pb_cli import pb_command  # noqa: E402

app.command("pb")(pb_command)

# --------------------------------------------------------------------------- vote counts

from service.count_cli import count_command  # noqa: E402

app.command("count")(count_command)

# --------------------------------------------------------------------------- the web API

from service.serve_cli import organiser_app, serve_command  # noqa: E402

app.command("serve", help="Run the web API (uvicorn); applies the database migrations first.")(
    serve_command
)
app.add_typer(organiser_app, name="organiser")
