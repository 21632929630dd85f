"""``stadmaken count``: count ballots from a ballot file.

::

    stadmaken count BALLOTS [--method METHOD] [--seats N] [--seed S]
                    [--config RCTAB_CONFIG.json] [--arithmetic fixed|exact]
                    [--csv-layout ranked|approval|score]
                    [--format table|json]

``BALLOTS`` is read by its extension: ``.blt`` (ERS / OpenSTV, :mod:`voting.blt`), PrefLib
``.soc`` ``.soi`` ``.toc`` ``.toi`` ``.cat`` (:mod:`voting.preflib`) or ``.csv``
(:mod:`voting.csvballots`). The methods:

* ranked ballots: the single-winner methods of :mod:`voting.single` (``plurality``, ``borda``,
  ``irv``, ``schulze``, ``ranked-pairs``, ``copeland``, ``minimax``), Scottish STV
  (``stv-scottish``, :func:`voting.stv.scottish_stv`, the default) and Meek STV (``stv-meek``,
  :func:`voting.meek.meek_stv`: the NZ Schedule 1A fixed-point rule, or with
  ``--arithmetic exact`` rational arithmetic). Papers with ties (``.toc``, ``.toi``) are
  refused: those methods need strict rankings;
* ``stv-rctab``: the RCTab rules of ``--config`` (:mod:`voting.rctab`) on cast-vote records as
  recorded (overvotes, skipped ranks, duplicates); ``BALLOTS`` replaces the config's one CVR
  source, or is the config file itself to read the sources it names;
* approval ballots: single-winner ``approval`` and the committee rules ``av``, ``sav``,
  ``pav``, ``cc``, ``seq-phragmen``, ``mes`` (:mod:`voting.committee`);
* score ballots: ``score``.

``--seats`` defaults to the number in the file (``.blt``) or the config; the single-winner
methods elect one, the committee rules need ``--seats`` for files that do not say. A tie is
reported, or broken by a recorded lot when ``--seed`` is given.

The result goes to stdout: a table to read, or one JSON document with ``elected`` (in the order
elected), ``rounds`` (per round or stage: ``totals``, each candidate's total as a decimal string
(committee rules: a Phragmén load or an Equal Shares price per round), ``elected`` and
``excluded``), ``tied`` and ``lots``. Bad input (a file that cannot be read or is not valid, an
unknown method, ballots of the wrong kind for the method, a tie that needs a lot without
``--seed``) is one line ``error: ...`` on stderr with exit code 2.

The command is a plain function so that the main app registers it with
``app.command("count")(count_command)``; the cores are imported when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, NoReturn

import typer

from service.common import EXIT_INPUT, OutputFormat, emit, one_line, software_version

if TYPE_CHECKING:
    from voting.ballots import ApprovalProfile, MarkedProfile, Profile, ScoreProfile
    from voting.committee import CommitteeResult
    from voting.meek import MeekResult
    from voting.rctab import RctabConfig, RctabResult
    from voting.single import SingleResult
    from voting.stv import StvResult

__all__ = [
    "COUNT_METHODS",
    "Ballots",
    "count_command",
    "count_document",
    "decimal_text",
    "read_ballots",
]

#: The single-winner methods on ranked ballots.
SINGLE_RANKED: Final = (
    "plurality",
    "borda",
    "irv",
    "schulze",
    "ranked-pairs",
    "copeland",
    "minimax",
)
#: Every method on ranked ballots (strict rankings).
RANKED_METHODS: Final = (*SINGLE_RANKED, "stv-scottish", "stv-meek")
#: The methods that elect one candidate.
SINGLE_METHODS: Final = (*SINGLE_RANKED, "approval", "score")
#: Every method ``stadmaken count`` takes.
COUNT_METHODS: Final = (
    *RANKED_METHODS,
    "stv-rctab",
    "approval",
    "score",
    "av",
    "sav",
    "pav",
    "cc",
    "seq-phragmen",
    "mes",
)
#: The PrefLib file extensions.
PREFLIB_SUFFIXES: Final = (".soc", ".soi", ".toc", ".toi", ".cat")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(EXIT_INPUT)


def decimal_text(value: Fraction | int) -> str:
    """An exact decimal string: ``"12"``, ``"1.5"``; a fraction with no finite decimal as ``p/q``.

    >>> decimal_text(Fraction(3, 2)), decimal_text(7), decimal_text(Fraction(1, 3))
    ('1.5', '7', '1/3')
    """
    from budgeting.model import format_number

    return format_number(value)


@dataclass(frozen=True)
class Ballots:
    """A ballot file read for a count: the ballots, the seats it names (``.blt``) and its title."""

    profile: Profile | MarkedProfile | ApprovalProfile | ScoreProfile
    seats: int | None
    title: str


def read_ballots(file: Path, layout: str | None = None) -> Ballots:
    """Read a ballot file of any supported format, chosen by its extension.

    Raises
    ------
    voting.errors.VotingError
        If the file is not valid (the error names the file and the line).
    """
    from voting.blt import read_blt
    from voting.csvballots import read_csv_ballots
    from voting.preflib import read_preflib

    suffix = file.suffix.lower()
    if suffix == ".blt":
        election = read_blt(file)
        return Ballots(election.profile, election.seats, election.title)
    if suffix in PREFLIB_SUFFIXES:
        preflib = read_preflib(file)
        return Ballots(preflib.profile, None, preflib.title)
    if suffix == ".csv":
        kind = None if layout is None else _csv_kind(layout)
        return Ballots(read_csv_ballots(file, kind).profile, None, "")
    _fail(
        f"{file}: unknown ballot file type '{file.suffix}'; give a .blt, "
        f"{', '.join(PREFLIB_SUFFIXES)} or .csv file (or --config for stv-rctab)"
    )


def _csv_kind(layout: str) -> Literal["ranked", "approval", "score"]:
    kinds: dict[str, Literal["ranked", "approval", "score"]] = {
        "ranked": "ranked",
        "approval": "approval",
        "score": "score",
    }
    if layout not in kinds:
        _fail(f"unknown --csv-layout '{layout}'; choose ranked, approval or score")
    return kinds[layout]


def _read(file: Path, layout: str | None) -> Ballots:
    from voting.errors import VotingError

    if file.is_dir():
        _fail(f"{file}: is a folder; give a ballot file")
    try:
        return read_ballots(file, layout)
    except VotingError as error:
        if error.file is None:
            error.file = str(file)
        _fail(error.describe())
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except UnicodeDecodeError:
        _fail(f"{file}: not a text file in UTF-8")
    except OSError as error:
        _fail(f"{file}: cannot read the file ({error.strerror or type(error).__name__})")


def _read_rctab(file: Path, config: Path) -> tuple[MarkedProfile, RctabConfig]:
    import dataclasses

    from voting.cvr import read_cvrs
    from voting.errors import VotingError
    from voting.rctab import RctabConfig

    try:
        rctab = RctabConfig.load(config)
        if file.resolve() != config.resolve():
            if len(rctab.sources) != 1:
                _fail(
                    f"{config}: names {len(rctab.sources)} cast-vote-record sources; give the "
                    "config file itself as BALLOTS to read them all"
                )
            source = dataclasses.replace(rctab.sources[0], file_path=str(file.resolve()))
            rctab = dataclasses.replace(rctab, sources=(source,))
        return read_cvrs(rctab, base_dir=config.resolve().parent), rctab
    except VotingError as error:
        _fail(error.describe())
    except FileNotFoundError as error:
        _fail(f"{error.filename or file}: no such file")
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
                "transfers": {
                    c: format_votes(t) for c, t in zip(result.candidates, s.transfers, strict=True)
                },
                "non_transferable": format_votes(s.non_transferable),
                "truncation_loss": format_votes(s.truncation_loss),
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


def _grid(candidates: Sequence[str], columns: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """A plain table: one row per candidate, one column per round."""
    width = max([len(c) for c in candidates] + [10])
    cell = max([len(v) for _, values in columns for v in values] + [8]) + 2
    rows = ["round".ljust(width) + "".join(f"{name:>{cell}}" for name, _ in columns)]
    for i, c in enumerate(candidates):
        rows.append(c.ljust(width) + "".join(f"{values[i]:>{cell}}" for _, values in columns))
    return rows


def _single_table(method: str, result: SingleResult) -> str:
    irv = method == "irv"
    names = [*result.candidates, *(["exhausted"] if irv else [])]
    columns = [
        (str(r.number), [decimal_text(t) for t in r.totals] + ([str(r.exhausted)] if irv else []))
        for r in result.rounds
    ]
    rows = _grid(names, columns)
    for r in result.rounds:
        if r.excluded:
            rows.append(f"round {r.number}: excluded {', '.join(r.excluded)} ({r.note})")
    return "\n".join(rows)


def _meek_document(result: MeekResult) -> tuple[dict[str, Any], str]:
    from voting.meek import format_value

    places = result.places or 9
    rounds = [
        {
            "number": r.number,
            "iterations": len(r.iterations),
            "status": r.status,
            "quota": format_value(r.quota, places),
            "totals": {
                c: format_value(v, places) for c, v in zip(result.candidates, r.votes, strict=True)
            },
            "keep_factors": {
                c: format_value(k, places)
                for c, k in zip(result.candidates, r.keep_factors, strict=True)
            },
            "excess": format_value(r.excess, places),
            "elected": list(r.elected),
            "excluded": list(r.defeated),
            "notes": [r.reason] if r.reason else [],
        }
        for r in result.rounds
    ]
    body = {
        "elected": list(result.elected),
        "tied": [],
        "arithmetic": result.arithmetic,
        "rounds": rounds,
        "lots": [
            {"purpose": "exclusion", "label": t.label, "tied": list(t.tied), "chosen": t.chosen}
            for t in result.ties
        ],
    }
    return body, result.table(places)


def _committee_document(
    result: CommitteeResult, profile: ApprovalProfile
) -> tuple[dict[str, Any], str]:
    rounds: list[dict[str, Any]] = []
    columns: list[tuple[str, list[str]]] = []
    if result.totals is not None:  # AV, SAV: one round of scores
        totals = [decimal_text(t) for t in result.totals]
        rounds.append(
            {
                "number": 1,
                "totals": dict(zip(result.candidates, totals, strict=True)),
                "elected": list(result.committee),
                "excluded": [],
            }
        )
        columns.append(("score", totals))
    if result.score is not None and result.totals is None:  # PAV, CC: supporters, committee
        supporters = [0] * len(result.candidates)
        for ballot in profile.ballots:
            for c in ballot.approved:
                supporters[c] += ballot.weight
        rounds.append(
            {
                "number": 1,
                "totals": {c: str(n) for c, n in zip(result.candidates, supporters, strict=True)},
                "elected": list(result.committee),
                "excluded": [],
            }
        )
        columns.append(("approvals", [str(n) for n in supporters]))
    for r in result.rounds:  # sequential rules: a load (Phragmén) or rho (Equal Shares)
        values = ["" if v is None else decimal_text(v) for v in r.values]
        rounds.append(
            {
                "number": r.number,
                "phase": r.phase,
                "totals": dict(zip(result.candidates, values, strict=True)),
                "tied": list(r.tied),
                "elected": [r.elected],
                "excluded": [],
            }
        )
        columns.append((str(r.number), [v[:10] for v in values]))
    body: dict[str, Any] = {
        "elected": list(result.committee),
        "tied": [],
        "rounds": rounds,
        "score": None if result.score is None else decimal_text(result.score),
        "optimal_committees": [list(c) for c in result.optimal],
        "lots": [
            {"purpose": t.step, "label": t.label, "tied": list(t.tied), "chosen": list(t.chosen)}
            for t in result.ties
            if t.how == "lot"
        ],
    }
    lines = _grid(result.candidates, columns) if columns else []
    if result.score is not None:
        lines.append(f"committee score: {decimal_text(result.score)}")
    if len(result.optimal) > 1:
        lines.append(f"{len(result.optimal)} optimal committees; one chosen as the ties say")
    return body, "\n".join(lines)


def _rctab_document(result: RctabResult, candidates: Sequence[str]) -> tuple[dict[str, Any], str]:
    rounds: list[dict[str, Any]] = []
    columns: list[tuple[str, list[str]]] = []
    for number, rctab_pass in enumerate(result.passes, start=1):
        for r in rctab_pass.rounds:
            label = str(r.round) if len(result.passes) == 1 else f"{number}.{r.round}"
            rounds.append(
                {
                    "number": label,
                    "totals": {c: str(v) for c, v in r.tally.items()},
                    "inactive": {k: str(v) for k, v in r.inactive.items()},
                    "threshold": str(r.threshold),
                    "transfers": [
                        {"from": source, "to": target, "votes": str(votes)}
                        for (source, target), votes in r.transfers.items()
                    ],
                    "residual_surplus": str(r.residual_surplus),
                    "elected": list(r.elected),
                    "excluded": list(r.eliminated),
                    "notes": list(r.tiebreaks),
                }
            )
            columns.append((label, [str(r.tally.get(c, "")) for c in candidates]))
    body = {"elected": list(result.winners), "tied": [], "rounds": rounds, "lots": []}
    lines = _grid(candidates, columns)
    for row in rounds:
        done = [f"elected {', '.join(row['elected'])}"] if row["elected"] else []
        done += [f"excluded {', '.join(row['excluded'])}"] if row["excluded"] else []
        if done:
            lines.append(f"round {row['number']}: {'; '.join(done)}")
    return body, "\n".join(lines)


def count_document(
    file: Path,
    ballots: Ballots,
    method: str,
    seats: int,
    seed: str | None,
    rctab: RctabConfig | None = None,
    *,
    exact: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """Count ``ballots`` by ``method`` and return the JSON document and the lines of the table.

    ``rctab`` is the configuration of ``stv-rctab``; ``exact`` asks ``stv-meek`` for exact
    arithmetic instead of the NZ Schedule 1A fixed-point rule.

    Raises
    ------
    voting.errors.VotingError
        If the count cannot be made (ballots of the wrong kind for the method, or a tie that
        needs a lot and no seed).
    """
    from voting.approval import APPROVAL_METHODS
    from voting.ballots import ApprovalProfile, MarkedProfile, Profile, ScoreProfile
    from voting.committee import COMMITTEE_METHODS
    from voting.errors import InputError
    from voting.meek import meek_stv
    from voting.rctab import tabulate
    from voting.single import SINGLE_WINNER_METHODS
    from voting.stv import scottish_stv

    profile = ballots.profile
    body: dict[str, Any]
    if method == "stv-rctab":
        if rctab is None or not isinstance(profile, MarkedProfile):
            raise InputError("no-config", "stv-rctab needs --config RCTAB_CONFIG.json")
        body, table = _rctab_document(tabulate(profile, rctab), profile.candidates)
        papers = profile.papers
    elif method in RANKED_METHODS:
        if isinstance(profile, MarkedProfile):
            profile = profile.strict()
        if not isinstance(profile, Profile):
            raise InputError(
                "wrong-ballots",
                f"{method} counts ranked ballots; this file holds "
                f"{'approval' if isinstance(profile, ApprovalProfile) else 'score'} ballots",
            )
        papers = profile.valid_poll
        if method == "stv-scottish":
            stv = scottish_stv(profile, seats, seed=seed)
            body, table = _stv_document(stv), stv.table()
        elif method == "stv-meek":
            meek = meek_stv(profile, seats, arithmetic="exact" if exact else "fixed", seed=seed)
            body, table = _meek_document(meek)
        else:
            single = SINGLE_WINNER_METHODS[method](profile, seed=seed)
            body, table = _single_document(single), _single_table(method, single)
    elif method == "score":
        if not isinstance(profile, ScoreProfile):
            raise InputError("wrong-ballots", "score counts score ballots (a score CSV)")
        single = APPROVAL_METHODS["score"](profile, seed=seed)
        body, table = _single_document(single), _single_table(method, single)
        papers = profile.papers
    else:
        if not isinstance(profile, ApprovalProfile):
            raise InputError(
                "wrong-ballots",
                f"{method} counts approval ballots (a .cat file or an approval CSV)",
            )
        papers = profile.papers
        if method == "approval":
            single = APPROVAL_METHODS["approval"](profile, seed=seed)
            body, table = _single_document(single), _single_table(method, single)
        else:
            committee = COMMITTEE_METHODS[method](profile, seats, seed=seed)
            body, table = _committee_document(committee, profile)
    document: dict[str, Any] = {
        "file": str(file),
        "title": ballots.title,
        "method": method,
        "seats": seats,
        "seed": seed,
        "candidates": list(profile.candidates),
        "valid_poll": papers,
        **body,
        "software": {"name": "stadmaken", "version": software_version()},
    }
    lines = [f"{ballots.title or file}: {method}, {seats} seat(s)", "", table, ""]
    if body["tied"] and not body["elected"]:
        lines.append(f"tie between {', '.join(body['tied'])}; give --seed to break it by lot")
    else:
        lines.append(f"elected: {', '.join(body['elected'])}")
    for lot in body["lots"]:
        chosen = lot["chosen"] if isinstance(lot["chosen"], str) else ", ".join(lot["chosen"])
        lines.append(f"lot ({lot['label']}): {chosen} from {', '.join(lot['tied'])}")
    return document, lines


def count_command(
    ballots: Annotated[
        Path,
        typer.Argument(
            metavar="BALLOTS",
            help="A ballot file: .blt, PrefLib (.soc .soi .toc .toi .cat), .csv, or for "
            "stv-rctab a cast-vote record (or the RCTab config itself).",
            show_default=False,
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
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="RCTAB_CONFIG.json",
            help="The RCTab contest configuration (stv-rctab).",
            show_default=False,
        ),
    ] = None,
    arithmetic: Annotated[
        str,
        typer.Option(
            "--arithmetic",
            metavar="fixed|exact",
            help="stv-meek: the NZ Schedule 1A fixed-point rule (9 decimals) or exact fractions.",
        ),
    ] = "fixed",
    csv_layout: Annotated[
        str | None,
        typer.Option(
            "--csv-layout",
            metavar="LAYOUT",
            help="ranked, approval or score (a .csv with a column per candidate needs it).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A table to read, or JSON."),
    ] = OutputFormat.TABLE,
) -> None:
    """Count ballots: STV (Scottish, Meek, RCTab), single-winner and committee rules.
    \f

    ``stadmaken count``.

    Parameters
    ----------
    ballots : Path
        The ballot file.
    method : str
        One of :data:`COUNT_METHODS`.
    seats : int, optional
        Seats to fill; the ``.blt`` file's number when not given. Single-winner methods elect
        one; the committee rules need it unless the file gives it.
    seed : str, optional
        The seed of tie-breaking lots.
    config : Path, optional
        The RCTab configuration for ``stv-rctab``.
    arithmetic : {"fixed", "exact"}
        The arithmetic of ``stv-meek``.
    csv_layout : str, optional
        The layout of a ``.csv`` ballot file.
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
    if method in SINGLE_METHODS and seats is not None and seats != 1:
        _fail(f"the method '{method}' elects one candidate; use a multi-seat method for {seats}")
    if arithmetic not in ("fixed", "exact"):
        _fail(f"unknown --arithmetic '{arithmetic}'; choose fixed or exact")
    if (config is None) == (method == "stv-rctab"):
        _fail("--config RCTAB_CONFIG.json goes with --method stv-rctab, and only with it")
    rctab = None
    if config is not None:
        if method == "stv-rctab" and seats is not None:
            _fail("stv-rctab takes the seats from the config (numberOfWinners), not --seats")
        profile, rctab = _read_rctab(ballots, config)
        data = Ballots(profile, rctab.number_of_winners, rctab.contest_name)
    else:
        data = _read(ballots, csv_layout)
    if method in SINGLE_METHODS:
        n_seats = 1
        if seats is None and data.seats not in (None, 1):
            typer.echo(f"note: {ballots} is for {data.seats} seats; {method} elects one", err=True)
    elif seats is not None:
        n_seats = seats
    elif data.seats is not None:
        n_seats = data.seats
    else:
        _fail(f"{ballots}: the file does not say how many seats; give --seats")
    try:
        document, lines = count_document(
            ballots, data, method, n_seats, seed, rctab, exact=arithmetic == "exact"
        )
    except VotingError as error:
        _fail(f"{ballots}: {error.message}" if error.file is None else error.describe())
    emit(document, lines, output_format)
