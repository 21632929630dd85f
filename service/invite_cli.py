"""``stadmaken invite commit`` and ``stadmaken invite reveal``: the invitation stage.

Two command functions, registered in :mod:`service.cli` as the ``invite`` group's ``commit``
and ``reveal``.

The help of each command is its docstring up to the form feed (typer and click cut it there),
so the numpydoc sections below it do not show in ``--help``.

This module imports nothing from :mod:`service.cli` at import time (the helpers it shares,
:func:`service.cli.reported_errors`, :func:`service.cli.write_atomic` and the software
version, are imported when a command runs), so ``service.cli`` may import it anywhere. The method is
:mod:`sortition.invitation`, specified in ``docs/invitation.md``.

Output follows the rules of :mod:`service.cli`: results on stdout (a summary, or one JSON
document with ``--format json``), messages on stderr; an error in a file is one line
``error: file, row R, column 'C': message`` with exit code 2; files are written atomically
(a temporary file, then a rename), the private mapping with mode 0600.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer

__all__ = [
    "InviteFormat",
    "invite_command",
    "invite_reveal_command",
]

#: ``format`` of the private mapping file (the same as ``stadmaken draw commit`` writes).
MAPPING_FORMAT: Final = "stadmaken-pseudonyms"


class InviteFormat(StrEnum):
    """How the invitation commands write their summary."""

    TABLE = "table"
    JSON = "json"


# --------------------------------------------------------------------------- option checks


def _check_out(value: Path | None) -> Path | None:
    """Reject an output path that cannot be written, before any work is done."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"'{value}' is a folder; give a file name")
    parent = value.parent if str(value.parent) else Path(".")
    if not parent.is_dir():
        raise typer.BadParameter(f"the folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK) or (value.exists() and not os.access(value, os.W_OK)):
        raise typer.BadParameter(f"no permission to write '{value}'")
    return value


def _check_column(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("the column name must not be empty")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise typer.BadParameter("must not be empty")
    return value


def _check_key(value: str | None) -> str | None:
    if value is not None:
        try:
            if len(bytes.fromhex(value)) < 16:
                raise ValueError
        except ValueError:
            raise typer.BadParameter(
                "give at least 32 hexadecimal digits (16 bytes), for example the key in the "
                "mapping file of an earlier commit"
            ) from None
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


@contextmanager
def _reported(*, register: Path | None = None, bundle: Path | None = None) -> Iterator[None]:
    """:func:`service.cli.reported_errors`, naming the bundle in an audit error without a file."""
    from service.cli import reported_errors
    from sortition.errors import AuditError

    with reported_errors(people_file=register):
        try:
            yield
        except AuditError as error:
            if error.file is None and bundle is not None:
                error.file = str(bundle)
            raise


def _write_files(files: list[tuple[Path, bytes, bool]]) -> None:
    """Write each ``(path, data, private)`` atomically, in order; all or (as far as can be) none.

    If a write fails, the files this call already wrote are removed, the failure is one line on
    stderr, and the exit code is 2.
    """
    from service.cli import EXIT_INPUT, write_atomic

    written: list[Path] = []
    for path, data, private in files:
        try:
            write_atomic(path, data, private=private)
        except OSError as exc:
            for done in written:
                with suppress(OSError):
                    done.unlink()
            reason = exc.strerror or type(exc).__name__
            typer.echo(f"error: {path}: cannot write the file ({reason})", err=True)
            raise typer.Exit(EXIT_INPUT) from None
        written.append(path)
    for path in written:
        typer.echo(f"wrote {path}", err=True)


def _bundle_bytes(bundle: dict[str, Any]) -> bytes:
    from sortition.audit import canonical_json

    return canonical_json(bundle) + b"\n"


def _read_mapping(path: Path, pseudonyms: set[str]) -> dict[str, str]:
    """Read the private mapping written by ``invite`` and check it belongs to the bundle."""
    from sortition.errors import InputError

    def bad(message: str) -> InputError:
        return InputError("bad-mapping", message, file=str(path))

    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise bad("not a pseudonym mapping written by stadmaken") from None
    mapping = value.get("pseudonyms") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or value.get("format") != MAPPING_FORMAT
        or not isinstance(mapping, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
    ):
        raise bad("not a pseudonym mapping written by stadmaken")
    if set(mapping) != pseudonyms:
        raise bad("the mapping does not belong to this bundle (its pseudonyms differ)")
    return dict(mapping)


def _emit(data: dict[str, Any], lines: list[str], output_format: InviteFormat) -> None:
    if output_format is InviteFormat.JSON:
        typer.echo(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2))
    else:
        typer.echo("\n".join(lines))


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
            callback=_check_out,
            metavar="BUNDLE",
            help="The audit bundle to write (public).",
            show_default=False,
        ),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            "--mapping",
            callback=_check_out,
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
            callback=_check_key,
            metavar="HEX",
            help="Secret key of the pseudonyms (default: a fresh one, saved in the mapping).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        InviteFormat,
        typer.Option("--format", case_sensitive=False, help="A summary to read, or JSON."),
    ] = InviteFormat.TABLE,
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
    output_format : InviteFormat
        Summary as text or JSON.

    Raises
    ------
    typer.Exit
        With code 2 for bad input, after one line ``error: ...`` on stderr.
    """
    from service.cli import _software_version
    from sortition.errors import InputError
    from sortition.invitation import commit_invitation, read_population, read_register

    _distinct(register=register, population=population, out=out, mapping=mapping)
    key = bytes.fromhex(pseudonym_key) if pseudonym_key else secrets.token_bytes(32)
    with _reported(register=register):
        addresses = read_register(register, id_column=id_column, wijk_column=wijk_column)
        people = read_population(population, addresses) if population is not None else None
        try:
            bundle, pseudonyms = commit_invitation(
                addresses,
                count,
                key=key,
                software=f"stadmaken {_software_version()}",
                source=source,
                fallback=fallback,
                population=people,
            )
        except InputError as error:
            if error.code == "population-too-small" and population is not None:
                error.file = str(population)
            raise
    private = {"format": MAPPING_FORMAT, "key": key.hex(), "pseudonyms": pseudonyms}
    _write_files(
        [
            (mapping, json.dumps(private, ensure_ascii=False, indent=1).encode() + b"\n", True),
            (out, _bundle_bytes(bundle), False),
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
    _emit(data, lines, output_format)


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
            callback=_check_out,
            metavar="FILE",
            help="Write the revealed bundle here (default: update BUNDLE).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        InviteFormat,
        typer.Option("--format", case_sensitive=False, help="A list to read, or JSON."),
    ] = InviteFormat.TABLE,
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
    output_format : InviteFormat
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
    with _reported(bundle=bundle):
        revealed = reveal_invitation(load_bundle(bundle), seed)
        register = revealed["draw"]["register"]
        names = _read_mapping(mapping, {a["id"] for a in register}) if mapping is not None else None
    _write_files([(out or bundle, _bundle_bytes(revealed), False)])

    invited: dict[str, list[str]] = revealed["reveal"]["invited"]
    entries = {
        wijk: [{"pseudonym": p, **({"id": names[p]} if names is not None else {})} for p in chosen]
        for wijk, chosen in invited.items()
    }
    data = {"seed": seed, "count": revealed["draw"]["count"], "invited": entries}
    header = ["wijk", "pseudonym", *(["id"] if names is not None else [])]
    lines = ["\t".join(header)]
    lines += ["\t".join([wijk, *e.values()]) for wijk, chosen in entries.items() for e in chosen]
    _emit(data, lines, output_format)
