"""``stadmaken count``: count ranked ballots from a ``.blt`` file.

::

    stadmaken count FILE.blt [--method METHOD] [--seats N] [--seed S] [--format table|json]

The methods are the single-winner methods of :mod:`voting.single` (``plurality``, ``borda``,
``irv``, ``schulze``, ``ranked-pairs``, ``copeland``, ``minimax``) and Scottish STV
(``stv-scottish``, :func:`voting.stv.scottish_stv`, the default). ``--seats`` defaults to the
number in the file; the single-winner methods elect one. A tie is reported, or broken by a
recorded lot when ``--seed`` is given.

The result goes to stdout: a table to read, or one JSON document with ``elected`` (in the order
elected), ``rounds`` (per round or stage: ``totals``, each candidate's total as a decimal string,
``elected`` and ``excluded``), ``tied`` and ``lots``. Bad input (a file that cannot be read or
is not a valid ``.blt`` file, an unknown method, a tie that needs a lot without ``--seed``) is
one line ``error: ...`` on stderr with exit code 2.

The command is a plain function so that the main app registers it with
``app.command("count")(count_command)``; the cores are imported when it runs.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn

import typer

from service.common import EXIT_INPUT, OutputFormat, emit, one_line, software_version

if TYPE_CHECKING:
    from voting.blt import BltElection
    from voting.single import SingleResult
    from voting.stv import StvResult

__all__ = ["COUNT_METHODS", "count_command", "count_document", "decimal_text"]

#: Every method ``stadmaken count`` takes.
COUNT_METHODS: Final = (
    "plurality",
    "borda",
    "irv",
    "schulze",
    "ranked-pairs",
    "copeland",
    "minimax",
    "stv-scottish",
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(EXIT_INPUT)


def decimal_text(value: Fraction | int) -> str:
    """An exact decimal string: ``"12"``, ``"1.5"``; a fraction with no finite decimal as ``p/q``.

    >>> decimal_text(Fraction(3, 2)), decimal_text(7), decimal_text(Fraction(1, 3))
    ('1.5', '7', '1/3')
    """
    value = Fraction(value)
    q = value.denominator
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    if places == 0:
        return str(value.numerator)
    scaled = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 else ""
    whole, rest = divmod(scaled, 10**places)
    return f"{sign}{whole}.{rest:0{places}d}"


def _read(file: Path) -> BltElection:
    from voting.blt import read_blt
    from voting.errors import VotingError

    if file.is_dir():
        _fail(f"{file}: is a folder; give a .blt file")
    try:
        return read_blt(file)
    except VotingError as error:
        if error.file is None:
            error.file = str(file)
        _fail(error.describe())
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except UnicodeDecodeError:
        _fail(f"{file}: not a text file in UTF-8; is it a .blt file?")
    except OSError as error:
        _fail(f"{file}: cannot read the file ({error.strerror or type(error).__name__})")


def _single_document(result: SingleResult) -> dict[str, Any]:
    return {
        "elected": list(result.elected),
        "tied": list(result.winners) if len(result.winners) > 1 else [],
        "rounds": [
            {
                "number": r.number,
                "totals": {
                    c: decimal_text(t) for c, t in zip(result.candidates, r.totals, strict=True)
                },
                "exhausted": r.exhausted,
                "elected": list(r.elected),
                "excluded": list(r.excluded),
                "note": r.note,
            }
            for r in result.rounds
        ],
        "pairwise": None if result.pairwise is None else [list(row) for row in result.pairwise],
        "strongest_paths": (
            None if result.strengths is None else [list(row) for row in result.strengths]
        ),
        "locked": [list(pair) for pair in result.locked],
        "lots": [
            {"purpose": x.purpose, "label": x.label, "tied": list(x.tied), "chosen": x.chosen}
            for x in result.lots
        ],
    }


def _stv_document(result: StvResult) -> dict[str, Any]:
    from voting.stv import format_votes

    excluded = {d.stage: d.candidate for d in result.decisions if d.kind == "excluded"}
    return {
        "elected": list(result.elected),
        "tied": [],
        "quota": format_votes(result.quota),
        "rounds": [
            {
                "number": s.number,
                "action": s.action,
                "candidate": s.candidate,
                "totals": result.totals_text(s.number),
                "non_transferable": format_votes(s.non_transferable),
                "elected": list(s.elected),
                "excluded": [excluded[s.number]] if s.number in excluded else [],
                "notes": list(s.notes),
            }
            for s in result.stages
        ],
        "lots": [
            {"purpose": x.purpose, "label": x.label, "tied": list(x.tied), "chosen": x.chosen}
            for x in result.lots
        ],
    }


def count_document(
    file: Path, election: BltElection, method: str, seats: int, seed: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Count ``election`` and return the JSON document and the lines of the table.

    Raises
    ------
    voting.errors.VotingError
        If the count cannot be made (for example a tie that needs a lot and no seed).
    """
    from voting.single import SINGLE_WINNER_METHODS
    from voting.stv import scottish_stv

    candidates = election.profile.candidates
    if method == "stv-scottish":
        stv = scottish_stv(election.profile, seats, seed=seed)
        body = _stv_document(stv)
        table = stv.table()
    else:
        single = SINGLE_WINNER_METHODS[method](election.profile, seed=seed)
        body = _single_document(single)
        width = max([len(c) for c in candidates] + [10])
        rows = ["round".ljust(width) + "".join(f"{r.number:>12}" for r in single.rounds)]
        for i, c in enumerate(candidates):
            cells = "".join(f"{decimal_text(r.totals[i]):>12}" for r in single.rounds)
            rows.append(c.ljust(width) + cells)
        if method == "irv":
            rows.append(
                "exhausted".ljust(width) + "".join(f"{r.exhausted:>12}" for r in single.rounds)
            )
        for r in single.rounds:
            if r.excluded:
                rows.append(f"round {r.number}: excluded {', '.join(r.excluded)} ({r.note})")
        table = "\n".join(rows)
    document: dict[str, Any] = {
        "file": str(file),
        "title": election.title,
        "method": method,
        "seats": seats,
        "seed": seed,
        "candidates": list(candidates),
        "valid_poll": election.profile.valid_poll,
        **body,
        "software": {"name": "stadmaken", "version": software_version()},
    }
    lines = [f"{election.title or file}: {method}, {seats} seat(s)", "", table, ""]
    if body["tied"] and not body["elected"]:
        lines.append(f"tie between {', '.join(body['tied'])}; give --seed to break it by lot")
    else:
        lines.append(f"elected: {', '.join(body['elected'])}")
    for lot in body["lots"]:
        lines.append(f"lot ({lot['label']}): {lot['chosen']} from {', '.join(lot['tied'])}")
    return document, lines


def count_command(
    ballots: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.blt", help="A .blt ballot file (ERS / OpenSTV).", show_default=False
        ),
    ],
    method: Annotated[
        str,
        typer.Option("--method", metavar="METHOD", help=f"One of: {', '.join(COUNT_METHODS)}."),
    ] = "stv-scottish",
    seats: Annotated[
        int | None,
        typer.Option(
            "--seats", metavar="N", help="Seats to fill (default: the file's).", show_default=False
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option("--seed", metavar="S", help="Seed of the lots that break ties."),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A table to read, or JSON."),
    ] = OutputFormat.TABLE,
) -> None:
    """Count ranked ballots from a .blt file (STV or a single-winner method).
    \f

    ``stadmaken count``.

    Parameters
    ----------
    ballots : Path
        The ``.blt`` file.
    method : str
        One of :data:`COUNT_METHODS`.
    seats : int, optional
        Seats to fill; the file's number when not given. Single-winner methods need 1.
    seed : str, optional
        The seed of tie-breaking lots.
    output_format : OutputFormat
        ``table`` or ``json``.

    Raises
    ------
    typer.Exit
        With code 2 for bad input.
    """
    from voting.errors import VotingError

    if method not in COUNT_METHODS:
        _fail(f"unknown method '{method}'; choose one of {', '.join(COUNT_METHODS)}")
    if seats is not None and seats < 1:
        _fail(f"--seats must be at least 1, not {seats}")
    if method != "stv-scottish" and seats is not None and seats != 1:
        _fail(f"the method '{method}' elects one candidate; use stv-scottish for {seats} seats")
    election = _read(ballots)
    if method == "stv-scottish":
        n_seats = election.seats if seats is None else seats
    else:
        n_seats = 1
        if seats is None and election.seats != 1:
            typer.echo(
                f"note: {ballots} is for {election.seats} seats; {method} elects one", err=True
            )
    try:
        document, lines = count_document(ballots, election, method, n_seats, seed)
    except VotingError as error:
        _fail(f"{ballots}: {error.message}" if error.file is None else error.describe())
    emit(document, lines, output_format)
