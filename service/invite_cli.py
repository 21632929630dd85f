"""``stadmaken invite commit`` and ``stadmaken invite reveal``: the invitation stage.

Two command functions, registered in :mod:`service.cli` as the ``invite`` group's ``commit``
and ``reveal``.

The help of each command is its docstring up to the form feed (typer and click cut it there),
so the numpydoc sections below it do not show in ``--help``.

It shares its error reporting and file writing with every command (:mod:`service.common`).
The method is :mod:`sortition.invitation`, specified in ``docs/invitation.md``.

Output follows the rules of :mod:`service.cli`: results on stdout (a summary, or one JSON
document with ``--format json``), messages on stderr; an error in a file is one line
``error: file, row R, column 'C': message`` with exit code 2; files are written atomically
(a temporary file, then a rename), the private mapping with mode 0600.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated

import typer

from service.common import (
    MAPPING_FORMAT,
    OutputFormat,
    bundle_bytes,
    check_key,
    check_out,
    emit,
    read_mapping,
    reported_errors,
    software_version,
    write_files,
)

__all__ = [
    "invite_command",
    "invite_reveal_command",
]


# --------------------------------------------------------------------------- option checks


def _check_column(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("the column name must not be empty")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("must not be empty")
    return value


def _distinct(**paths: Path | None) -> None:
    """A usage error if two of the files are the same file."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in seen:
            first = seen[resolved].replace("_", "-")
            raise typer.BadParameter(
                f"'{path}' is also given as --{first}; give different files",
                param_hint=f"'--{option.replace('_', '-')}'",
            )
        seen[resolved] = option


# --------------------------------------------------------------------------- shared pieces


def _aligned(rows: list[list[str]]) -> list[str]:
    """Rows of cells as lines: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


# --------------------------------------------------------------------------- invite


def invite_command(
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            metavar="FILE",
            help="Address register (CSV or Excel): one row per address, with its id and wijk.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ],
    count: Annotated[
        int,
        typer.Option(
            "--count", "-n", min=1, metavar="N", help="Addresses to invite.", show_default=False
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            callback=_check_text,
            metavar="TEXT",
            help="The public randomness whose value will be the seed, announced in advance "
            "(for example 'drand quicknet round 1234567').",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            callback=check_out,
            metavar="BUNDLE",
            help="The audit bundle to write (public).",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            "--mapping",
            callback=check_out,
            metavar="FILE",
            help="Private file linking pseudonyms to address ids (mode 0600; keep it secret).",
            show_default=False,
        ),
    ],
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            metavar="FILE",
            help="Population per wijk (columns wijk,population); default: the number of "
            "addresses per wijk.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ] = None,
    id_column: Annotated[
        str,
        typer.Option(
            "--id-column", callback=_check_column, metavar="NAME", help="Column of address ids."
        ),
    ] = "id",
    wijk_column: Annotated[
        str,
        typer.Option(
            "--wijk-column", callback=_check_column, metavar="NAME", help="Column of the wijk."
        ),
    ] = "wijk",
    fallback: Annotated[
        str,
        typer.Option("--fallback", metavar="TEXT", help="What is used if the source fails."),
    ] = "",
    pseudonym_key: Annotated[
        str | None,
        typer.Option(
            "--pseudonym-key",
            callback=check_key,
            metavar="HEX",
            help="Secret key of the pseudonyms (default: a fresh one, saved in the mapping).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A summary to read, or JSON."),
    ] = OutputFormat.TABLE,
) -> None:
    """Commit to an invitation lottery: which addresses of the register will be invited.

    Divides --count invitations among the wijken in proportion to their population.
    The population is the number of addresses per wijk, or given by --population.
    Writes an audit bundle (public) and a file linking pseudonyms to addresses (private).
    Publish the commitment; then run 'stadmaken invite reveal BUNDLE --seed VALUE'.
    \f

    ``stadmaken invite commit``.

    Parameters
    ----------
    register : Path
        The address register.
    count : int
        The number of addresses to invite, at least 1.
    source, fallback : str
        The public randomness source announced in advance, and its fallback.
    out : Path
        The bundle to write.
    mapping : Path
        The private mapping to write: ``{"format": "stadmaken-pseudonyms", "key": HEX,
        "pseudonyms": {pseudonym: address id}}``.
    population : Path, optional
        Population per wijk; by default the register's address count per wijk.
    id_column, wijk_column : str
        The register's columns.
    pseudonym_key : str, optional
        Hexadecimal key of the pseudonyms; a fresh 32-byte key when omitted.
    output_format : OutputFormat
        Summary as text or JSON.

    Raises
    ------
    typer.Exit
        With code 2 for bad input, after one line ``error: ...`` on stderr.
    """
    from sortition.errors import InputError
    from sortition.invitation import commit_invitation, read_population, read_register

    _distinct(register=register, population=population, out=out, mapping=mapping)
    key = bytes.fromhex(pseudonym_key) if pseudonym_key else secrets.token_bytes(32)
    with reported_errors(people_file=register):
        addresses = read_register(register, id_column=id_column, wijk_column=wijk_column)
        people = read_population(population, addresses) if population is not None else None
        try:
            bundle, pseudonyms = commit_invitation(
                addresses,
                count,
                key=key,
                software=f"stadmaken {software_version()}",
                source=source,
                fallback=fallback,
                population=people,
            )
        except InputError as error:
            if error.code == "population-too-small" and population is not None:
                error.file = str(population)
            raise
    private = {"format": MAPPING_FORMAT, "key": key.hex(), "pseudonyms": pseudonyms}
    write_files(
        [
            (mapping, json.dumps(private, ensure_ascii=False, indent=1).encode() + b"\n", True),
            (out, bundle_bytes(bundle), False),
        ]
    )
    if pseudonym_key is None:
        typer.echo(f"note: the pseudonym key is in {mapping}; keep that file secret", err=True)

    draw = bundle["draw"]
    counts = addresses.counts()
    basis = "file" if population is not None else "addresses"
    data = {
        "addresses": len(addresses),
        "allocation": {
            wijk: {
                "addresses": counts[wijk],
                "population": draw["population"][wijk],
                "invitations": invited,
            }
            for wijk, invited in draw["allocation"].items()
        },
        "commitment": bundle["hashes"]["commitment"],
        "count": count,
        "fallback": fallback,
        "population": basis,
        "source": source,
    }
    table = [["wijk", "addresses", "population", "invitations"]]
    table += [
        [wijk, str(row["addresses"]), str(row["population"]), str(row["invitations"])]
        for wijk, row in data["allocation"].items()
    ]
    table.append(["total", str(len(addresses)), str(sum(draw["population"].values())), str(count)])
    lines = [
        f"commitment: {data['commitment']}",
        f"{count} of {len(addresses)} addresses in {len(counts)} wijken, in proportion to "
        + ("the population file" if population is not None else "the number of addresses"),
        "",
        *_aligned(table),
        "",
        f"publish the commitment, then reveal with the value of: {source}",
    ]
    emit(data, lines, output_format)


# --------------------------------------------------------------------------- invite-reveal


def invite_reveal_command(
    bundle: Annotated[
        Path,
        typer.Argument(
            metavar="BUNDLE",
            help="An invitation bundle written by 'stadmaken invite commit'.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ],
    seed: Annotated[
        str,
        typer.Option(
            "--seed",
            callback=_check_text,
            metavar="SEED",
            help="The value the announced source produced.",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="FILE",
            help="The private mapping, to show address ids next to pseudonyms.",
            exists=True,
            dir_okay=False,
            readable=True,
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            callback=check_out,
            metavar="FILE",
            help="Write the revealed bundle here (default: update BUNDLE).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", case_sensitive=False, help="A list to read, or JSON."),
    ] = OutputFormat.TABLE,
) -> None:
    """Reveal an invitation lottery with the seed: draw the addresses to invite in every wijk.

    Checks the bundle, draws the addresses and writes the revealed bundle.
    Lists one invited address a line, tab-separated: wijk, pseudonym, and id (with --mapping).
    \f

    ``stadmaken invite reveal``. Wijken are listed in order of name, addresses in the order
    drawn.

    Parameters
    ----------
    bundle : Path
        The committed bundle.
    seed : str
        The seed: the value the announced source produced.
    mapping : Path, optional
        The private mapping written by ``stadmaken invite commit``.
    out : Path, optional
        Where to write the revealed bundle; by default ``bundle`` is replaced (atomically).
    output_format : OutputFormat
        Lines of text or JSON.

    Raises
    ------
    typer.Exit
        After one line ``error: ...`` on stderr: code 2 for a file that is not an invitation
        bundle or mapping, or a bundle already revealed; the code of
        :func:`service.cli.exit_code` for a bundle that does not verify.
    """
    from sortition.audit import load_bundle
    from sortition.invitation import reveal_invitation

    _distinct(mapping=mapping, out=out)
    with reported_errors(bundle_file=bundle):
        revealed = reveal_invitation(load_bundle(bundle), seed)
        register = revealed["draw"]["register"]
        names = read_mapping(mapping, {a["id"] for a in register}) if mapping is not None else None
    write_files([(out or bundle, bundle_bytes(revealed), False)])

    invited: dict[str, list[str]] = revealed["reveal"]["invited"]
    entries = {
        wijk: [{"pseudonym": p, **({"id": names[p]} if names is not None else {})} for p in chosen]
        for wijk, chosen in invited.items()
    }
    data = {"seed": seed, "count": revealed["draw"]["count"], "invited": entries}
    header = ["wijk", "pseudonym", *(["id"] if names is not None else [])]
    lines = ["\t".join(header)]
    lines += ["\t".join([wijk, *e.values()]) for wijk, chosen in entries.items() for e in chosen]
    emit(data, lines, output_format)
