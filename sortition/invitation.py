"""The invitation stage of a two-stage lottery: which addresses receive an invitation.

A resident panel in Haarlem is drawn in two stages. First, addresses are drawn from the address
register and their residents are invited; second, the panel is drawn from the people who
respond (:mod:`sortition`, with quotas). This module is the first stage:

1. :func:`read_register` reads the register (one row per address, with its wijk), and
   optionally :func:`read_population` a table of the population per wijk.
2. :func:`allocate` divides the number of invitations among the wijken in proportion to their
   population by the largest-remainder (Hamilton) method, never giving a wijk more invitations
   than it has addresses.
3. :func:`commit_invitation` writes the pseudonymised register, the population, the count and
   the allocation into an audit bundle of kind ``"invitation"`` (the same format as a panel
   draw's, :mod:`sortition.audit`) and commits to them with a hash, before the randomness is
   known.
4. :func:`reveal_invitation` takes the seed from the public source announced in the bundle and
   draws, in every wijk, its share of the addresses by simple random sampling without
   replacement on a :class:`~sortition.randomness.SeededStream` (stratified sampling).
5. :func:`verify_invitation` re-derives the allocation and the invited addresses from the
   bundle and names the first field that does not match.

The method is specified byte for byte in ``docs/invitation.md``, with test vectors. Everything
here is exact integer arithmetic and SHA-256; nothing depends on the order of the register's
rows.

References
----------
.. [1] M. L. Balinski, H. P. Young, *Fair Representation: Meeting the Ideal of One Man, One
   Vote*, 2nd ed., Brookings Institution Press, 2001 (Hamilton's method of largest remainders).
.. [2] W. G. Cochran, *Sampling Techniques*, 3rd ed., Wiley, 1977, ch. 5 (stratified random
   sampling with proportional allocation).
.. [3] B. Flanigan, P. Gölz, A. Gupta, B. Hennig, A. D. Procaccia, "Fair algorithms for
   selecting citizens' assemblies", Nature 596, 548–552 (2021),
   https://doi.org/10.1038/s41586-021-03788-6 (why the second stage needs fair algorithms:
   who responds to the invitations is far from representative).
.. [4] The Dutch practice of *loting* for burgerberaden: municipalities invite randomly drawn
   addresses (or residents from the BRP) by letter, then draw the panel from the respondents.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sortition.audit import FORMAT, VERSION, Bundle, canonical_json, check_integrity, digest
from sortition.audit import field_hashes as _field_hashes
from sortition.errors import AuditError, InputError
from sortition.io import _columns, _normalise, _parse_count, _quoted, _read_table
from sortition.randomness import SeededStream

__all__ = [
    "INVITATION_FIELDS",
    "Address",
    "Register",
    "VerifiedInvitation",
    "allocate",
    "commit_invitation",
    "invited_addresses",
    "pseudonymise_register",
    "read_population",
    "read_register",
    "reveal_invitation",
    "verify_invitation",
]

#: The fields of ``draw`` in an invitation bundle; each has its own hash in ``hashes``.
INVITATION_FIELDS = (
    "allocation",
    "count",
    "kind",
    "population",
    "previous",
    "randomness",
    "register",
    "software",
)
#: The first character of every address pseudonym.
PSEUDONYM_PREFIX = "A"
#: The label of a wijk's stream is this text followed by the wijk's name.
STREAM_PREFIX = "invite:"

_DIGEST = re.compile("[0-9a-f]{64}")


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True, slots=True)
class Address:
    """One address of the register.

    Attributes
    ----------
    id : str
        The address's id in the register (for example a BAG nummeraanduiding), never empty.
    wijk : str
        The wijk (district) the address is in, never empty.
    """

    id: str
    wijk: str


@dataclass(frozen=True, slots=True)
class Register:
    """The addresses an invitation lottery draws from.

    Parameters
    ----------
    addresses : tuple of Address
        The addresses, in any order; ids must be distinct and non-empty, wijken non-empty.

    Raises
    ------
    InputError
        ``empty-register``, ``empty-id``, ``empty-wijk`` or ``duplicate-id``.
    """

    addresses: tuple[Address, ...]

    def __post_init__(self) -> None:
        if not self.addresses:
            raise InputError("empty-register", "the register has no addresses")
        seen: set[str] = set()
        for address in self.addresses:
            if not address.id:
                raise InputError("empty-id", "an address has an empty id")
            if not address.wijk:
                raise InputError("empty-wijk", f"address '{address.id}' has no wijk")
            if address.id in seen:
                raise InputError(
                    "duplicate-id", f"address id '{address.id}' occurs twice; ids must be unique"
                )
            seen.add(address.id)

    def __len__(self) -> int:
        return len(self.addresses)

    def counts(self) -> dict[str, int]:
        """The number of addresses per wijk, wijken sorted by name (code point)."""
        counts = Counter(address.wijk for address in self.addresses)
        return {wijk: counts[wijk] for wijk in sorted(counts)}


def read_register(
    path: str | os.PathLike[str], id_column: str = "id", wijk_column: str = "wijk"
) -> Register:
    """Read an address register: one row per address, with its id and its wijk.

    The file is read like a pool file (:func:`sortition.io.read_people`): CSV (``,``, ``;`` or
    tab delimited, UTF-8 with or without byte order mark) or an Excel workbook; cells are
    stripped; column names are matched ignoring case and spaces; blank rows are skipped; other
    columns (street, house number, ...) are never read into a message.

    Wijk names are kept as written. Two spellings of one wijk that differ only in case or
    spaces (``Centrum`` and ``centrum``) are an error rather than two wijken or a silent merge,
    because either would change the allocation.

    Parameters
    ----------
    path : str or os.PathLike
        The register file.
    id_column, wijk_column : str
        The columns with each address's id and its wijk.

    Returns
    -------
    Register
        The addresses in file order.

    Raises
    ------
    InputError
        Naming the file, row (the header is row 1) and column: ``unreadable-file``,
        ``empty-file``, ``missing-column``, ``duplicate-column``, ``same-column``,
        ``extra-cells``, ``empty-id``, ``duplicate-id``, ``empty-wijk`` or ``ambiguous-wijk``.
    """
    table = _read_table(path)
    file = table.file
    if _normalise(id_column) == _normalise(wijk_column):
        raise InputError(
            "same-column",
            f"the id column and the wijk column are both '{id_column}'; give two columns",
            file=file,
            row=table.header_row,
            column=id_column,
        )
    wanted = {"id": id_column, "wijk": wijk_column}
    found = {role: table.find(name) for role, name in wanted.items()}
    missing = [wanted[role] for role, index in found.items() if index is None]
    if missing:
        raise InputError(
            "missing-column",
            f"the register has no {_columns(len(missing))} {_quoted(missing)}; the columns "
            f"found are {_quoted(table.found())} (names are compared ignoring case and spaces)",
            file=file,
            row=table.header_row,
            column=missing[0],
            params={"missing": missing, "found": table.found()},
        )
    id_index, wijk_index = found["id"], found["wijk"]
    assert id_index is not None and wijk_index is not None
    id_header, wijk_header = table.header[id_index], table.header[wijk_index]

    addresses: list[Address] = []
    id_rows: dict[str, int] = {}
    spellings: dict[str, tuple[str, int]] = {}  # normalised wijk -> (spelling, first row)
    for number, cells in table.rows:
        address_id, wijk = cells[id_index], cells[wijk_index]
        if not address_id:
            raise InputError(
                "empty-id",
                "the id is empty; give every address an id",
                file=file,
                row=number,
                column=id_header,
            )
        if address_id in id_rows:
            raise InputError(
                "duplicate-id",
                f"id '{address_id}' is also on row {id_rows[address_id]}; ids must be unique",
                file=file,
                row=number,
                column=id_header,
                params={"id": address_id, "rows": [id_rows[address_id], number]},
            )
        id_rows[address_id] = number
        if not wijk:
            raise InputError(
                "empty-wijk",
                "the wijk is empty; give every address its wijk",
                file=file,
                row=number,
                column=wijk_header,
                params={"id": address_id},
            )
        spelling, first = spellings.setdefault(_normalise(wijk), (wijk, number))
        if spelling != wijk:
            raise InputError(
                "ambiguous-wijk",
                f"wijk '{wijk}' differs only in case or spaces from '{spelling}' on row "
                f"{first}; spell every wijk the same way",
                file=file,
                row=number,
                column=wijk_header,
                params={"wijk": wijk, "other": spelling, "rows": [first, number]},
            )
        addresses.append(Address(address_id, wijk))
    if not addresses:
        raise InputError("empty-file", "the register has a header but no addresses", file=file)
    return Register(tuple(addresses))


def read_population(
    path: str | os.PathLike[str],
    register: Register,
    *,
    wijk_column: str = "wijk",
    population_column: str = "population",
) -> dict[str, int]:
    """Read the population of every wijk: a file with the columns ``wijk,population``.

    Wijk names are matched to the register's ignoring case and spaces and returned spelled as
    in the register. Every wijk of the register must have exactly one row, and every row must
    name a wijk of the register: a wijk without addresses cannot receive invitations, so
    ignoring its population would silently change everyone else's share.

    Parameters
    ----------
    path : str or os.PathLike
        The population file (CSV or Excel, read like the register).
    register : Register
        The register, whose wijken the file must list.
    wijk_column, population_column : str
        The column names.

    Returns
    -------
    dict
        Population per wijk (a whole number of 0 or more), wijken sorted by name.

    Raises
    ------
    InputError
        Naming the file, row and column: ``unreadable-file``, ``empty-file``,
        ``missing-column``, ``duplicate-column``, ``extra-cells``, ``empty-wijk``,
        ``not-a-count``, ``duplicate-wijk``, ``unknown-wijk`` or ``missing-wijk``.
    """
    table = _read_table(path)
    file = table.file
    wanted = {"wijk": wijk_column, "population": population_column}
    found = {role: table.find(name) for role, name in wanted.items()}
    missing = [wanted[role] for role, index in found.items() if index is None]
    if missing:
        raise InputError(
            "missing-column",
            f"the population file has no {_columns(len(missing))} {_quoted(missing)}; its "
            f"header must be {wijk_column},{population_column}; the columns found are "
            f"{_quoted(table.found())}",
            file=file,
            row=table.header_row,
            column=missing[0],
            params={"missing": missing, "found": table.found()},
        )
    wijk_index, count_index = found["wijk"], found["population"]
    assert wijk_index is not None and count_index is not None
    wijk_header, count_header = table.header[wijk_index], table.header[count_index]

    known = {_normalise(wijk): wijk for wijk in register.counts()}
    population: dict[str, int] = {}
    rows: dict[str, int] = {}
    for number, cells in table.rows:
        text, amount = cells[wijk_index], cells[count_index]
        if not text:
            raise InputError(
                "empty-wijk",
                "the wijk is empty; give every row a wijk",
                file=file,
                row=number,
                column=wijk_header,
            )
        wijk = known.get(_normalise(text))
        if wijk is None:
            raise InputError(
                "unknown-wijk",
                f"wijk '{text}' has no addresses in the register; its wijken are "
                f"{_quoted(sorted(known.values()))}",
                file=file,
                row=number,
                column=wijk_header,
                params={"wijk": text},
            )
        if wijk in rows:
            raise InputError(
                "duplicate-wijk",
                f"wijk '{wijk}' is also on row {rows[wijk]} (names are compared ignoring case "
                "and spaces); give each wijk one row",
                file=file,
                row=number,
                column=wijk_header,
                params={"wijk": wijk, "rows": [rows[wijk], number]},
            )
        value = _parse_count(amount)
        if value is None:
            shown = "empty" if not amount else f"'{amount}'"
            raise InputError(
                "not-a-count",
                f"{count_header} must be a whole number of 0 or more, but it is {shown}",
                file=file,
                row=number,
                column=count_header,
                params={"text": amount},
            )
        rows[wijk] = number
        population[wijk] = value
    if not rows:
        raise InputError("empty-file", "the population file has a header but no rows", file=file)
    absent = sorted(set(known.values()) - set(population))
    if absent:
        raise InputError(
            "missing-wijk",
            f"the population file has no row for {_quoted(absent)}, which "
            f"{'is a wijk' if len(absent) == 1 else 'are wijken'} of the register",
            file=file,
            column=wijk_header,
            params={"missing": absent},
        )
    return {wijk: population[wijk] for wijk in sorted(population)}


# --------------------------------------------------------------------------- allocation


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def allocate(
    population_by_wijk: Mapping[str, int],
    count: int,
    *,
    capacity: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Divide ``count`` invitations among the wijken in proportion to their population.

    Largest-remainder (Hamilton) apportionment [1]_ with an upper bound per wijk, in exact
    integer arithmetic:

    1. *Caps.* With ``R`` the invitations not yet fixed and ``P`` the population of the wijken
       not yet fixed, every such wijk whose exact quota ``R * p / P`` is at least its capacity
       is fixed at its capacity; repeat until no quota reaches its capacity.
    2. *Hamilton.* Each remaining wijk gets ``floor(R * p / P)``; the ``R`` minus their sum
       invitations left go one each to the wijken with the largest remainder
       ``R * p mod P``, ties to the wijk whose name comes first (by code point).

    A wijk never gets more than its capacity, and a wijk not fixed in step 1 gets less than
    one invitation more or less than its exact quota of the last round (and at least the
    floor of its first-round quota, since capping only frees invitations for the others).
    The result does not depend on the order of the mapping.

    Parameters
    ----------
    population_by_wijk : mapping of str to int
        The population of every wijk, whole numbers of 0 or more.
    count : int
        The number of invitations, 0 or more.
    capacity : mapping of str to int, optional
        The number of addresses of every wijk (the same wijken). By default the population,
        which is right when the population is the register's address count per wijk.

    Returns
    -------
    dict
        Invitations per wijk, wijken sorted by name; the values sum to ``count``.

    Raises
    ------
    InputError
        ``not-a-count`` for a negative or non-integer count or population,
        ``count-too-large`` if ``count`` exceeds the total capacity, and
        ``population-too-small`` if the wijken with a positive population have too few
        addresses for ``count`` (the others have population 0 and get none).
    ValueError
        If ``capacity`` does not name the same wijken.

    Examples
    --------
    >>> allocate({"Noord": 500, "Oost": 300, "Zuid": 200}, 7)
    {'Noord': 4, 'Oost': 2, 'Zuid': 1}
    >>> allocate({"Noord": 500, "Oost": 300, "Zuid": 200}, 7, capacity={"Noord": 2, "Oost": 9,
    ...     "Zuid": 9})
    {'Noord': 2, 'Oost': 3, 'Zuid': 2}
    """
    population = dict(population_by_wijk)
    limits = dict(population if capacity is None else capacity)
    if set(limits) != set(population):
        raise ValueError("capacity must name the same wijken as the population")
    if not _is_count(count):
        raise InputError(
            "not-a-count", f"the number of invitations must be 0 or more, not {count!r}"
        )
    for wijk in sorted(population):
        for name, table in (("population", population), ("number of addresses", limits)):
            if not _is_count(table[wijk]):
                raise InputError(
                    "not-a-count",
                    f"the {name} of wijk '{wijk}' must be a whole number of 0 or more, "
                    f"not {table[wijk]!r}",
                    params={"wijk": wijk},
                )
    total = sum(limits.values())
    if count > total:
        raise InputError(
            "count-too-large",
            f"cannot invite {count} addresses: the register has {total}",
            params={"count": count, "addresses": total},
        )

    result: dict[str, int] = {}
    open_ = sorted(population)
    while open_:
        left = count - sum(result.values())
        people = sum(population[w] for w in open_)
        if people == 0:
            if left:
                fixed = sum(result.values())
                raise InputError(
                    "population-too-small",
                    f"cannot invite {count} addresses: the wijken with a population have "
                    f"{fixed} addresses and the others have population 0",
                    params={"count": count, "addresses": fixed},
                )
            result.update((w, 0) for w in open_)
            break
        capped = [w for w in open_ if left * population[w] >= limits[w] * people]
        if not capped:
            floors = {w: left * population[w] // people for w in open_}
            spare = left - sum(floors.values())
            ranked = sorted(open_, key=lambda w: (-(left * population[w] % people), w))
            for w in ranked[:spare]:
                floors[w] += 1
            result.update(floors)
            break
        result.update((w, limits[w]) for w in capped)
        open_ = [w for w in open_ if w not in result]
    assert sum(result.values()) == count
    return {wijk: result[wijk] for wijk in sorted(result)}


# --------------------------------------------------------------------------- pseudonyms


def pseudonymise_register(
    register: Register, key: bytes
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Replace address ids by pseudonyms, as :func:`sortition.audit.pseudonymise` does for people.

    Addresses are ordered by ``HMAC-SHA256(key, utf8(id))`` (ties, which do not happen, by id)
    and numbered ``A0001``, ``A0002``, ... (at least four digits, more when there are more
    addresses). Without ``key`` nobody can link a pseudonym to an address; with it and the
    register, anyone can recompute the mapping. The order of the register's rows changes
    nothing.

    Parameters
    ----------
    register : Register
        The addresses.
    key : bytes
        The secret key.

    Returns
    -------
    (list, dict)
        The register as written in the bundle, ``[{"id": pseudonym, "wijk": wijk}, ...]``
        sorted by pseudonym, and the mapping pseudonym -> address id.
    """

    def order(address: Address) -> tuple[bytes, str]:
        code = hmac.new(key, address.id.encode("utf-8"), hashlib.sha256).digest()
        return code, address.id

    ordered = sorted(register.addresses, key=order)
    width = max(4, len(str(len(ordered))))
    field: list[dict[str, str]] = []
    mapping: dict[str, str] = {}
    for number, address in enumerate(ordered, start=1):
        pseudonym = f"{PSEUDONYM_PREFIX}{number:0{width}d}"
        field.append({"id": pseudonym, "wijk": address.wijk})
        mapping[pseudonym] = address.id
    return field, mapping


# --------------------------------------------------------------------------- commit


def commit_invitation(
    register: Register,
    count: int,
    *,
    key: bytes,
    software: str,
    source: str,
    fallback: str = "",
    population: Mapping[str, int] | None = None,
    previous: str | None = None,
) -> tuple[Bundle, dict[str, str]]:
    """The bundle of a committed, not yet revealed, invitation lottery.

    Parameters
    ----------
    register : Register
        The addresses; the bundle holds only their pseudonyms (:func:`pseudonymise_register`).
    count : int
        How many addresses to invite, at most the register's size.
    key : bytes
        The secret pseudonym key.
    software : str
        The software and version that made the bundle.
    source : str
        The public randomness announced in advance whose value will be the seed (a future
        drand round, lottery numbers, dice on camera); must not be empty.
    fallback : str
        What is used as the seed if ``source`` fails.
    population : mapping of str to int, optional
        The population per wijk (:func:`read_population`); by default the register's number
        of addresses per wijk, so every address has (up to rounding) the same chance.
    previous : str, optional
        The digest (:func:`sortition.audit.digest`) of a bundle this one continues.

    Returns
    -------
    (dict, dict)
        The bundle (``reveal`` is None) and the private mapping pseudonym -> address id.

    Raises
    ------
    InputError
        If the population does not name the register's wijken, or :func:`allocate` fails.
    ValueError
        If ``source`` is empty or ``previous`` is not a SHA-256 digest.
    """
    if not source:
        raise ValueError("the randomness source must not be empty")
    if previous is not None and not _DIGEST.fullmatch(previous):
        raise ValueError("previous must be a SHA-256 digest (64 lower-case hex digits)")
    addresses = register.counts()
    people = dict(addresses if population is None else population)
    if set(people) != set(addresses):
        wrong = sorted(set(people) ^ set(addresses))
        raise InputError(
            "population-mismatch",
            f"the population must list exactly the register's wijken; {_quoted(wrong)} differ",
            params={"wijken": wrong},
        )
    allocation = allocate(people, count, capacity=addresses)
    field, mapping = pseudonymise_register(register, key)
    draw: dict[str, Any] = {
        "allocation": allocation,
        "count": count,
        "kind": "invitation",
        "population": {wijk: people[wijk] for wijk in sorted(people)},
        "previous": previous,
        "randomness": {"source": source, "fallback": fallback},
        "register": field,
        "software": software,
    }
    bundle: Bundle = {
        "format": FORMAT,
        "version": VERSION,
        "draw": draw,
        "hashes": _field_hashes(draw),
        "reveal": None,
        "events": [],
    }
    return bundle, mapping


# --------------------------------------------------------------------------- reveal


def invited_addresses(
    register: Sequence[Mapping[str, str]], allocation: Mapping[str, int], seed: str
) -> dict[str, list[str]]:
    """The addresses the seed invites: a simple random sample in every wijk [2]_.

    For every wijk in order of name (code point), its address pseudonyms sorted, and
    ``SeededStream(seed, "invite:" + wijk).sample(pseudonyms, allocation[wijk])``. Every wijk
    has a stream of its own, so the sample of one wijk does not depend on any other wijk.
    Because :meth:`~sortition.randomness.SeededStream.sample` is a partial Fisher–Yates
    shuffle, the sample of ``n`` addresses is the first ``n`` of the sample of ``n + 1``.

    Parameters
    ----------
    register : sequence of mapping
        The ``draw.register`` of a bundle: ``{"id": pseudonym, "wijk": wijk}`` per address.
    allocation : mapping of str to int
        Invitations per wijk, one entry per wijk of the register.
    seed : str
        The revealed seed.

    Returns
    -------
    dict
        Wijk -> the invited pseudonyms in the order drawn; wijken sorted by name.
    """
    by_wijk: dict[str, list[str]] = {}
    for address in register:
        by_wijk.setdefault(address["wijk"], []).append(address["id"])
    return {
        wijk: SeededStream(seed, STREAM_PREFIX + wijk).sample(
            sorted(by_wijk[wijk]), allocation[wijk]
        )
        for wijk in sorted(by_wijk)
    }


def reveal_invitation(bundle: Bundle, seed: str) -> Bundle:
    """The bundle with the invitations revealed by ``seed``.

    Parameters
    ----------
    bundle : dict
        A committed invitation bundle.
    seed : str
        The value the announced source produced.

    Returns
    -------
    dict
        A copy of ``bundle`` with ``reveal = {"seed": seed, "invited": {wijk: [...]}}``.

    Raises
    ------
    AuditError
        If the bundle does not verify (:func:`verify_invitation`) or is already revealed.
    """
    verify_invitation(bundle)
    if bundle["reveal"] is not None:
        raise AuditError("reveal", "the invitations are already revealed", code="already-revealed")
    draw = bundle["draw"]
    revealed = dict(bundle)
    revealed["reveal"] = {
        "seed": seed,
        "invited": invited_addresses(draw["register"], draw["allocation"], seed),
    }
    return revealed


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerifiedInvitation:
    """What :func:`verify_invitation` established.

    Attributes
    ----------
    commitment : str
        The commitment (SHA-256 of the field hashes).
    digest : str
        SHA-256 of the whole bundle (what a later bundle's ``previous`` points to).
    addresses : int
        Addresses in the register.
    count : int
        Invitations.
    allocation : dict
        Invitations per wijk.
    invited : dict or None
        Wijk -> invited pseudonyms, when revealed.
    """

    commitment: str
    digest: str
    addresses: int
    count: int
    allocation: dict[str, int]
    invited: dict[str, list[str]] | None


def _expect(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise AuditError(field, message)


def _expect_kind(kind: object) -> None:
    if kind != "invitation":
        raise AuditError(
            "draw.kind",
            f"this bundle is of kind {kind!r}, not an invitation lottery",
            code="wrong-kind",
        )


def _same(a: object, b: object) -> bool:
    """Equal canonical encodings (so ``true`` is not ``1``)."""
    try:
        return canonical_json(a) == canonical_json(b)
    except TypeError:
        return False


def _check_register(value: object) -> list[dict[str, str]]:
    _expect(isinstance(value, list) and len(value) > 0, "draw.register", "not a non-empty list")
    assert isinstance(value, list)
    width = max(4, len(str(len(value))))
    for number, address in enumerate(value, start=1):
        where = f"draw.register[{number - 1}]"
        _expect(
            isinstance(address, dict)
            and set(address) == {"id", "wijk"}
            and isinstance(address["wijk"], str)
            and bool(address["wijk"]),
            where,
            "needs id and wijk (text)",
        )
        expected = f"{PSEUDONYM_PREFIX}{number:0{width}d}"
        _expect(address["id"] == expected, f"{where}.id", f"is not the pseudonym '{expected}'")
    return value


def verify_invitation(bundle: Bundle, commitment: str | None = None) -> VerifiedInvitation:
    """Re-derive everything in an invitation bundle; raise at the first mismatch.

    Checks, in this order: format, version and layout, every field of ``draw`` against its hash
    and the hashes against the commitment (and against ``commitment``, published in advance,
    when given) with :func:`sortition.audit.check_integrity`; ``draw.kind``,
    ``draw.software``, ``draw.randomness`` and ``draw.previous`` are well formed; the register
    lists the pseudonyms ``A0001``... in order, each with a wijk; the population gives a whole
    number for exactly the register's wijken; the count is a whole number; the allocation is
    what :func:`allocate` gives; there are no events; and, when revealed, the invited
    addresses are what :func:`invited_addresses` gives for the seed.

    Parameters
    ----------
    bundle : dict
        The bundle, as read by :func:`sortition.audit.load_bundle`.
    commitment : str, optional
        The commitment published before the seed was known.

    Returns
    -------
    VerifiedInvitation

    Raises
    ------
    AuditError
        Naming the first field that does not match, for example ``"draw.allocation"`` or
        ``"reveal.invited"``.
    """
    draw = bundle.get("draw")
    if bundle.get("format") == FORMAT and isinstance(draw, dict) and "kind" in draw:
        # Say so plainly, rather than naming the first field a panel bundle has and this lacks.
        _expect_kind(draw["kind"])
    check_integrity(bundle, INVITATION_FIELDS, commitment)
    draw = bundle["draw"]
    _expect(isinstance(draw["software"], str), "draw.software", "not text")
    randomness = draw["randomness"]
    _expect(
        isinstance(randomness, dict)
        and set(randomness) == {"source", "fallback"}
        and all(isinstance(v, str) for v in randomness.values())
        and bool(randomness["source"]),
        "draw.randomness",
        "needs a source (text) and a fallback (text)",
    )
    link = draw["previous"]
    _expect(
        link is None or (isinstance(link, str) and _DIGEST.fullmatch(link) is not None),
        "draw.previous",
        "not a SHA-256 digest",
    )
    register = _check_register(draw["register"])
    addresses = dict(sorted(Counter(a["wijk"] for a in register).items()))
    population = draw["population"]
    _expect(
        isinstance(population, dict) and sorted(population) == sorted(addresses),
        "draw.population",
        "needs one entry per wijk of the register",
    )
    _expect(
        all(_is_count(v) for v in population.values()),
        "draw.population",
        "not whole numbers of 0 or more",
    )
    count = draw["count"]
    _expect(
        _is_count(count) and count <= len(register),
        "draw.count",
        f"not a whole number from 0 to {len(register)}",
    )
    try:
        allocation = allocate(population, count, capacity=addresses)
    except InputError as exc:
        field = "draw.count" if exc.code == "count-too-large" else "draw.population"
        raise AuditError(field, exc.message) from None
    _expect(
        _same(draw["allocation"], allocation),
        "draw.allocation",
        f"does not follow from the population and the count; it should be {allocation}",
    )
    _expect(bundle["events"] == [], "events", "an invitation bundle has no events")
    part = bundle["reveal"]
    invited: dict[str, list[str]] | None = None
    if part is not None:
        _expect(
            isinstance(part, dict)
            and set(part) == {"seed", "invited"}
            and isinstance(part["seed"], str),
            "reveal",
            "needs seed (text) and invited",
        )
        invited = invited_addresses(register, allocation, part["seed"])
        _expect(
            _same(part["invited"], invited),
            "reveal.invited",
            "does not follow from the seed (reveal.seed)",
        )
    return VerifiedInvitation(
        commitment=bundle["hashes"]["commitment"],
        digest=digest(bundle),
        addresses=len(register),
        count=count,
        allocation=allocation,
        invited=invited,
    )
