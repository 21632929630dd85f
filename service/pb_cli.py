"""``stadmaken pb``: count a participatory budget (digitale wijkbegroting) from a pabulib file.

::

    stadmaken pb FILE.pb [--rule RULE] [--tie-break default|id] [--seed S]
                         [--format table|json] [--explain PROJECT_ID] [--city-limits]

The rules are those of :mod:`budgeting.rules` (``greedy``, ``greedy-cardinality``,
``greedy-no-skip``, ``max-welfare``, ``phragmen``) and of :mod:`budgeting.mes` (``mes``,
``mes-add1``, ``mes-greedy``, ``mes-add1-greedy``). Ties go to the order of
:meth:`budgeting.election.TieBreak.default` (lower cost, then more votes, then a lot drawn from
``--seed``; the empty seed unless given) or, with ``--tie-break id``, to the smallest project id
as pabutools breaks them.

The result goes to stdout: a report to read (``--format table``) or one JSON document with
``selected`` (project ids as in the file, in the order the rule funded them), ``cost`` (a
decimal string), ``budget`` and, per project, the explanation in Dutch and English.
``--explain ID`` shows only that project's explanation. Bad input (a file that cannot be read or
is not a valid pabulib file, an unknown rule or tie-break, a rule that does not apply to the
vote type, an unknown project id) is one line ``error: ...`` on stderr with exit code 2.

The command is a plain function so that the main app registers it with
``app.command("pb")(pb_command)``; the cores are imported when it runs, so ``--help`` stays
quick.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from service.common import (
    EXIT_FAILURE,
    EXIT_INPUT,
    OutputFormat,
    emit,
    one_line,
    software_version,
)

if TYPE_CHECKING:
    from budgeting.election import Election, Outcome, TieBreak
    from budgeting.model import Instance
    from budgeting.rules import GroupBudget

__all__ = ["MES_RULES", "PB_RULES", "TIE_BREAKS", "pb_command", "pb_document", "run_pb_rule"]

#: The rules of the Method of Equal Shares (:mod:`budgeting.mes`).
MES_RULES: Final = (
    "mes",
    "mes-add1",
    "mes-greedy",
    "mes-add1-greedy",
    "mes-add1-comparison",
    "mes-add1-greedy-comparison",
)
#: Every rule ``stadmaken pb`` takes, in the order ``--help`` lists them.
PB_RULES: Final = (
    "greedy",
    "greedy-cardinality",
    "greedy-no-skip",
    "max-welfare",
    *MES_RULES,
    "phragmen",
)
#: The tie-breaking orders.
TIE_BREAKS: Final = ("default", "id")

_GREEDY: Final = ("greedy", "greedy-cardinality", "greedy-no-skip")

_RULE_HELP = (
    "The counting rule: greedy (by votes; points for cumulative ballots), greedy-cardinality "
    "(votes per cost), greedy-no-skip (stop at the first project that does not fit), "
    "max-welfare, mes, mes-add1, mes-greedy, mes-add1-greedy (Method of Equal Shares and its "
    "completions) or phragmen (sequential Phragmén, approval ballots)."
)


def _fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def _read(file: Path) -> tuple[Instance, Election]:
    """Read and convert the file, or fail with one line naming it."""
    from budgeting.errors import BudgetingError

    try:
        from budgeting.pabulib import read_pb, to_election
    except ImportError:  # pragma: no cover - until budgeting/pabulib.py exists
        _fail("cannot read pabulib files: budgeting/pabulib.py is missing", EXIT_FAILURE)
    if file.is_dir():
        _fail(f"{file}: is a folder; give a pabulib .pb file")
    try:
        instance, profile = read_pb(file)
        election = to_election(instance, profile)
    except BudgetingError as error:
        if error.file is None:
            error.file = str(file)
        _fail(error.describe())
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except OSError as error:
        _fail(f"{file}: cannot read the file ({error.strerror or type(error).__name__})")
    except UnicodeDecodeError:
        _fail(f"{file}: not a text file in UTF-8; is it a pabulib .pb file?")
    return instance, election


def _city_limits(
    instance: Instance, election: Election
) -> tuple[list[GroupBudget], Fraction | None]:
    """The file's category and neighbourhood budgets and its vote threshold."""
    from budgeting.rules import GroupBudget

    position = {project_id: j for j, project_id in enumerate(election.ids)}
    groups: list[GroupBudget] = []
    for name, budget in (instance.budget_per_category or {}).items():
        members = frozenset(position[p.id] for p in instance.projects if name in p.categories)
        groups.append(GroupBudget(name, budget, members, "category"))
    for name, budget in (instance.budget_per_neighbourhood or {}).items():
        members = frozenset(position[p.id] for p in instance.projects if p.neighbourhood == name)
        groups.append(GroupBudget(name, budget, members, "neighbourhood"))
    return groups, instance.min_project_score_threshold


def run_pb_rule(
    election: Election,
    instance: Instance,
    rule: str,
    tie_break: TieBreak,
    *,
    city_limits: bool = False,
) -> Outcome:
    """Run the rule named ``rule`` (one of :data:`PB_RULES`); ``city_limits`` applies the
    file's vote threshold and per-category / per-neighbourhood budgets to the greedy rules."""
    from budgeting.rules import default_satisfaction, greedy, run_rule

    if rule in MES_RULES:
        from budgeting.mes import run_mes_rule

        return run_mes_rule(election, rule, tie_break)
    if city_limits and rule in _GREEDY:
        groups, threshold = _city_limits(instance, election)
        satisfaction = default_satisfaction(
            "greedy-cardinality" if rule == "greedy-cardinality" else "greedy",
            election.vote_type,
        )
        return greedy(
            election,
            tie_break,
            satisfaction=satisfaction,
            skip=rule != "greedy-no-skip",
            min_project_score_threshold=threshold,
            group_budgets=groups,
        )
    return run_rule(election, rule, tie_break)


def _plain(value: object) -> Any:
    """A JSON-ready copy: exact numbers as decimal strings, tuples as lists."""
    from budgeting.rules import amount_text

    if isinstance(value, Fraction):
        return amount_text(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(v) for v in items]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def pb_document(
    instance: Instance,
    election: Election,
    outcome: Outcome,
    tie_break: TieBreak,
    rule: str,
) -> dict[str, Any]:
    """Everything ``stadmaken pb --format json`` writes, as plain data.

    Parameters
    ----------
    instance : Instance
        The instance (for project names).
    election : Election
        What the rule counted.
    outcome : Outcome
        Its result.
    tie_break : TieBreak
        The tie-breaking order used.
    rule : str
        The rule's name as given.

    Returns
    -------
    dict
        ``selected``, ``cost``, ``budget``, ``projects`` (per project: id, name, cost, votes,
        funded, code, nl, en, data), ``details`` and facts about the run.
    """
    from budgeting.rules import amount_text

    votes = election.points_total()
    names = {p.id: p.name for p in instance.projects}
    return {
        "rule": rule,
        "tie_break": {"name": tie_break.name, "seed": tie_break.seed},
        "vote_type": election.vote_type,
        "voters": election.n_voters,
        "budget": amount_text(election.budget),
        "cost": amount_text(outcome.cost),
        "budget_left": amount_text(election.budget - outcome.cost),
        "selected": [election.ids[j] for j in outcome.selected],
        "projects": [
            {
                "id": election.ids[e.project],
                "name": names.get(election.ids[e.project], ""),
                "cost": amount_text(election.costs[e.project]),
                "votes": amount_text(votes[e.project]),
                "funded": e.funded,
                "code": e.code,
                "nl": e.nl,
                "en": e.en,
                "data": _plain(e.data),
            }
            for e in outcome.explanations
        ],
        "details": _plain(outcome.details),
        "software": {"name": "stadmaken", "version": software_version()},
    }


def _report(document: dict[str, Any], outcome: Outcome) -> Group:
    projects = {p["id"]: p for p in document["projects"]}
    funded_ids = document["selected"]
    others = [p for p in document["projects"] if not p["funded"]]
    heading = Text.assemble(
        (f"{len(funded_ids)} of {len(projects)} projects funded", "bold"),
        f" with {document['rule']} ({document['vote_type']} ballots, {document['voters']} voters)",
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("file", Text(document["file"]))
    tie = document["tie_break"]
    seed = f" (seed '{tie['seed']}')" if tie["name"] == "default" else ""
    facts.add_row("tie-break", Text(f"{tie['name']}{seed}"))
    facts.add_row("budget", Text(document["budget"]))
    facts.add_row("spent", Text(document["cost"]))
    facts.add_row("left", Text(document["budget_left"]))
    table = Table(title="Projects", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("id")
    table.add_column("name")
    table.add_column("cost", justify="right")
    table.add_column("votes", justify="right")
    table.add_column("result")
    for order, project_id in enumerate(funded_ids, start=1):
        p = projects[project_id]
        table.add_row(str(order), Text(p["id"]), Text(p["name"]), p["cost"], p["votes"], "funded")
    for p in others:
        table.add_row("", Text(p["id"]), Text(p["name"]), p["cost"], p["votes"], Text(p["code"]))
    footer = Text("Use --explain ID for why a project was or was not funded.", style="dim")
    return Group(heading, Text(""), facts, Text(""), table, footer)


def pb_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.pb",
            help="A pabulib file: META, PROJECTS and VOTES sections.",
            show_default=False,
        ),
    ],
    rule: Annotated[str, typer.Option("--rule", metavar="RULE", help=_RULE_HELP)] = "greedy",
    tie_break: Annotated[
        str,
        typer.Option(
            "--tie-break",
            metavar="default|id",
            help="How ties are broken: default (lower cost, then more votes, then a lot from "
            "--seed) or id (smallest project id first, as pabutools does).",
        ),
    ] = "default",
    seed: Annotated[
        str,
        typer.Option(
            "--seed", metavar="S", help="Seed of the tie-breaking lot (--tie-break default)."
        ),
    ] = "",
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A report to read, or JSON."),
    ] = OutputFormat.TABLE,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            metavar="PROJECT_ID",
            help="Show why this project was or was not funded, in Dutch and English.",
            show_default=False,
        ),
    ] = None,
    city_limits: Annotated[
        bool,
        typer.Option(
            "--city-limits",
            help="For the greedy rules: apply the file's min_project_score_threshold and "
            "budget_per_category / budget_per_neighborhood (pabutools ignores them).",
        ),
    ] = False,
) -> None:
    """Count a participatory budget (wijkbegroting) from a pabulib file.

    Reports which projects the rule funds and why; --explain ID gives one project's reasons.
    \f

    ``stadmaken pb``.

    Parameters
    ----------
    file : Path
        The pabulib ``.pb`` file.
    rule : str
        One of :data:`PB_RULES`.
    tie_break : str
        ``"default"`` or ``"id"``.
    seed : str
        The seed of the default tie-break's lot.
    output_format : OutputFormat
        ``table`` (a report) or ``json``.
    explain : str, optional
        A project id: show only its explanation.
    city_limits : bool
        Apply the file's threshold and category / neighbourhood budgets (greedy rules).

    Raises
    ------
    typer.Exit
        With code 2 for bad input, 1 when a rule is not available.
    """
    from budgeting.election import TieBreak
    from budgeting.errors import BudgetingError

    if rule not in PB_RULES:
        _fail(f"unknown rule '{rule}'; choose one of {', '.join(PB_RULES)}")
    if tie_break not in TIE_BREAKS:
        _fail(f"unknown tie-break '{tie_break}'; choose default or id")
    if seed and tie_break != "default":
        typer.echo("note: --seed only applies to --tie-break default", err=True)
    if city_limits and rule not in _GREEDY:
        typer.echo("note: --city-limits only applies to the greedy rules", err=True)

    instance, election = _read(file)
    if explain is not None and explain not in election.ids:
        _fail(f"{file}: there is no project with id '{explain}'")
    order = TieBreak.by_id(election) if tie_break == "id" else TieBreak.default(election, seed)
    try:
        outcome = run_pb_rule(election, instance, rule, order, city_limits=city_limits)
    except BudgetingError as error:
        _fail(f"{file}: {error.message}" if error.file is None else error.describe())

    document = {"file": str(file), **pb_document(instance, election, outcome, order, rule)}
    if explain is not None:
        project = next(p for p in document["projects"] if p["id"] == explain)
        lines = [
            f"Project {explain}" + (f" ({project['name']})" if project["name"] else "") + ":",
            f"nl: {project['nl']}",
            f"en: {project['en']}",
        ]
        emit({"rule": rule, **project}, lines, output_format)
        return
    if output_format is OutputFormat.JSON:
        emit(document, [], output_format)
        return
    Console(highlight=False).print(_report(document, outcome))
