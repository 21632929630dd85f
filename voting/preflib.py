"""Read and write PrefLib election files: ``.soc``, ``.soi``, ``.toc``, ``.toi`` and ``.cat``.

A PrefLib file (https://www.preflib.org/format) is a header of ``# KEY: value`` lines followed
by one data line per distinct preference, ``count: preference``::

    # FILE NAME: 00001-00000001.toi
    # DATA TYPE: toi
    # NUMBER ALTERNATIVES: 3
    # NUMBER VOTERS: 7
    # NUMBER UNIQUE ORDERS: 2
    # ALTERNATIVE NAME 1: Ann
    # ALTERNATIVE NAME 2: Bob
    # ALTERNATIVE NAME 3: Cy
    4: 1,{2,3}
    3: 3

Alternatives are numbered from 1 in the file and become candidate indices from 0, in that
order, named by the ``ALTERNATIVE NAME i`` lines (a missing name becomes ``"i"``). The five
data types and what they are read into:

========  =======================================  ===============================================
type      preference                               read into
========  =======================================  ===============================================
``soc``   strict order, every alternative once     :class:`~voting.ballots.Profile`
``soi``   strict order of some alternatives        :class:`~voting.ballots.Profile`
``toc``   order with ties (``{a,b}`` = a tie),     :class:`~voting.ballots.MarkedProfile`: a tie
          every alternative once                   at one rank is several indices in ``marks[r]``
``toi``   order with ties of some alternatives     :class:`~voting.ballots.MarkedProfile`
``cat``   categories, best first: ``{1,2}, {3}``   :class:`~voting.ballots.ApprovalProfile`: the
                                                   first category is the approved set
========  =======================================  ===============================================

The type is taken from the file's extension, else from its ``DATA TYPE`` header. A byte-order
mark and Windows line ends are accepted. ``NUMBER ALTERNATIVES`` is required; ``NUMBER
VOTERS``, when present, must equal the sum of the counts. Anything malformed raises
:class:`~voting.errors.InputError` naming the file and the line.

>>> f = parse_preflib("# NUMBER ALTERNATIVES: 3\\n# ALTERNATIVE NAME 1: Ann\\n"
...     "# ALTERNATIVE NAME 2: Bob\\n# ALTERNATIVE NAME 3: Cy\\n4: 1,{2,3}\\n3: 3\\n", kind="toi")
>>> f.profile.candidates, [(b.marks, b.weight) for b in f.profile.ballots]
(('Ann', 'Bob', 'Cy'), [(((0,), (1, 2)), 4), (((2,),), 3)])

References
----------
N. Mattei and T. Walsh (2013), "PrefLib: A library for preferences",
*Algorithmic Decision Theory (ADT 2013)*, LNCS 8176, 259–270, doi:10.1007/978-3-642-41575-3_20;
the format as specified at https://www.preflib.org/format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, NoReturn, get_args

from voting.ballots import ApprovalProfile, MarkedProfile, Profile
from voting.errors import InputError, read_text

__all__ = [
    "PREFLIB_KINDS",
    "PreflibFile",
    "PreflibKind",
    "format_preflib",
    "parse_preflib",
    "read_preflib",
    "write_preflib",
]

PreflibKind = Literal["soc", "soi", "toc", "toi", "cat"]
#: The PrefLib data types this module reads and writes (file extensions, without the dot).
PREFLIB_KINDS: Final[tuple[PreflibKind, ...]] = get_args(PreflibKind)

AnyProfile = Profile | MarkedProfile | ApprovalProfile
_NOWHERE: Final = (None, None)


@dataclass(frozen=True, slots=True)
class PreflibFile:
    """What a PrefLib file holds.

    Attributes
    ----------
    kind : {"soc", "soi", "toc", "toi", "cat"}
        The data type.
    profile : Profile, MarkedProfile or ApprovalProfile
        The ballots (see the module's table).
    title : str
        The ``TITLE`` header ("" when absent).
    headers : dict of str to str
        Every header except the alternative names, keys in capitals as written.
    """

    kind: PreflibKind
    profile: AnyProfile
    title: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def read_preflib(path: str | Path, *, kind: PreflibKind | None = None) -> PreflibFile:
    """Read the PrefLib file at ``path`` (UTF-8); the type comes from ``kind``, the extension
    or the ``DATA TYPE`` header, in that order. See :func:`parse_preflib`."""
    path = Path(path)
    if kind is None:
        ext = path.suffix.lower().lstrip(".")
        if ext in PREFLIB_KINDS:
            kind = ext
    text = read_text(path)
    return parse_preflib(text, kind=kind, file=str(path))


def _error(
    code: str, message: str, file: str | None, line: int | None, **params: object
) -> NoReturn:
    raise InputError(code, message, file=file, line=line, params=params)


def _parse_int(text: str, what: str, file: str | None, line: int) -> int:
    token = text.strip()
    if not (token.isascii() and token.isdigit()):
        _error(
            "bad-number",
            f"Expected {what} (a whole number), found {token!r}.",
            file,
            line,
            text=token,
        )
    return int(token)


def _parse_groups(body: str, file: str | None, line: int) -> list[list[int]]:
    """``1,{2,3},4`` -> ``[[1], [2, 3], [4]]``; ``{}`` is an empty group."""
    body = body.strip()
    if not body:
        return []
    if "{" not in body and "}" not in body:
        return [[_parse_int(tok, "an alternative number", file, line)] for tok in body.split(",")]
    groups: list[list[int]] = []
    pos = 0
    size = len(body)
    while True:
        while pos < size and body[pos] in " \t":
            pos += 1
        if pos < size and body[pos] == "{":
            end = body.find("}", pos)
            if end < 0 or "{" in body[pos + 1 : end]:
                _error("bad-preference", "A '{' group is not closed by '}'.", file, line)
            inner = body[pos + 1 : end].strip()
            groups.append(
                [_parse_int(t, "an alternative number", file, line) for t in inner.split(",")]
                if inner
                else []
            )
            pos = end + 1
        else:
            end = body.find(",", pos)
            end = size if end < 0 else end
            token = body[pos:end]
            if "{" in token or "}" in token:
                _error("bad-preference", f"Unexpected brace in {token.strip()!r}.", file, line)
            groups.append([_parse_int(token, "an alternative number", file, line)])
            pos = end
        while pos < size and body[pos] in " \t":
            pos += 1
        if pos >= size:
            return groups
        if body[pos] != ",":
            _error(
                "bad-preference",
                f"Expected ',' between preferences, found {body[pos]!r}.",
                file,
                line,
            )
        pos += 1


def parse_preflib(
    text: str, *, kind: PreflibKind | None = None, file: str | None = None
) -> PreflibFile:
    """Parse the text of a PrefLib file; ``file`` is only used in error messages.

    Parameters
    ----------
    text : str
        The file's text.
    kind : {"soc", "soi", "toc", "toi", "cat"}, optional
        The data type; without it the ``DATA TYPE`` header decides.
    file : str, optional
        The file's name, for error messages.

    Returns
    -------
    PreflibFile

    Raises
    ------
    InputError
        For a header or data line that breaks the format (naming the line), an unknown
        alternative, a repeated alternative, an incomplete order in a ``soc``/``toc`` file, a
        tie in a ``soi``/``soc`` file, or a ``NUMBER VOTERS`` that is not the sum of the counts.
    """
    if kind is not None and kind not in PREFLIB_KINDS:
        _error("bad-kind", f"Unknown PrefLib data type {kind!r}.", file, None, kind=kind)
    headers: dict[str, str] = {}
    header_line: dict[str, int] = {}
    names: dict[int, str] = {}
    data: list[tuple[int, int, list[list[int]]]] = []
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if data:
                _error("header-after-data", "A header line follows the data lines.", file, lineno)
            key, colon, value = line[1:].partition(":")
            if not colon:
                continue  # a comment
            key = " ".join(key.split()).upper()
            value = value.strip()
            if key.startswith("ALTERNATIVE NAME "):
                number = _parse_int(key.rsplit(" ", 1)[1], "an alternative number", file, lineno)
                if number in names:
                    _error(
                        "duplicate-header",
                        f"Alternative {number} is named twice.",
                        file,
                        lineno,
                        alternative=number,
                    )
                names[number] = value
            else:
                headers[key] = value
                header_line[key] = lineno
            continue
        count_text, colon, body = line.partition(":")
        if not colon:
            _error(
                "bad-data-line",
                "A data line is 'count: preference', e.g. '3: 1,{2,3},4'.",
                file,
                lineno,
            )
        count = _parse_int(count_text, "the number of voters", file, lineno)
        data.append((lineno, count, _parse_groups(body, file, lineno)))

    if kind is None:
        declared = headers.get("DATA TYPE", "").lower()
        if declared not in PREFLIB_KINDS:
            _error(
                "unknown-kind",
                "Cannot tell the PrefLib data type: name the file .soc, .soi, .toc, .toi or "
                f".cat, or give a DATA TYPE header (found {declared!r}).",
                file,
                header_line.get("DATA TYPE"),
            )
        kind = declared
    if "NUMBER ALTERNATIVES" not in headers:
        _error(
            "missing-header",
            "The header '# NUMBER ALTERNATIVES: n' is missing.",
            file,
            None,
            header="NUMBER ALTERNATIVES",
        )
    n = _parse_int(
        headers["NUMBER ALTERNATIVES"],
        "the number of alternatives",
        file,
        header_line["NUMBER ALTERNATIVES"],
    )
    for number in names:
        if not 1 <= number <= n:
            _error(
                "unknown-candidate",
                f"Alternative {number} is named, but the alternatives are 1 to {n}.",
                file,
                None,
                alternative=number,
            )
    candidates = [names.get(i, str(i)) for i in range(1, n + 1)]

    pairs: list[tuple[list[list[int]], int]] = []
    for lineno, count, groups in data:
        seen: set[int] = set()
        for group in groups:
            if not group and kind != "cat":
                _error("bad-preference", "An order has an empty group '{}'.", file, lineno)
            if len(group) > 1 and kind in ("soc", "soi"):
                _error(
                    "tie-in-strict-order",
                    f"A {kind} file holds strict orders; this line has a tie {{...}}.",
                    file,
                    lineno,
                )
            for a in group:
                if not 1 <= a <= n:
                    _error(
                        "unknown-candidate",
                        f"Alternative {a} is not between 1 and {n}.",
                        file,
                        lineno,
                        alternative=a,
                    )
                if a in seen:
                    _error(
                        "repeated-preference",
                        f"Alternative {a} appears twice.",
                        file,
                        lineno,
                        alternative=a,
                    )
                seen.add(a)
        if kind in ("soc", "toc") and len(seen) != n:
            _error(
                "incomplete-order",
                f"A {kind} file holds complete orders; this line ranks {len(seen)} of the "
                f"{n} alternatives.",
                file,
                lineno,
            )
        pairs.append(([[a - 1 for a in group] for group in groups], count))

    if "NUMBER VOTERS" in headers:
        declared_voters = _parse_int(
            headers["NUMBER VOTERS"], "the number of voters", file, header_line["NUMBER VOTERS"]
        )
        total = sum(count for _, count, _ in data)
        if declared_voters != total:
            _error(
                "voter-count-mismatch",
                f"NUMBER VOTERS says {declared_voters}, the data lines count {total}.",
                file,
                header_line["NUMBER VOTERS"],
                declared=declared_voters,
                counted=total,
            )

    profile: AnyProfile
    try:
        if kind in ("soc", "soi"):
            profile = Profile.build(candidates, (([g[0] for g in gs], w) for gs, w in pairs))
        elif kind in ("toc", "toi"):
            profile = MarkedProfile.build(candidates, pairs)
        else:
            approved = ((gs[0] if gs else [], w) for gs, w in pairs)
            profile = ApprovalProfile.build(candidates, approved)
    except InputError as exc:
        exc.file = file
        raise
    return PreflibFile(kind, profile, headers.get("TITLE", ""), headers)


def _default_kind(profile: AnyProfile) -> PreflibKind:
    n = len(profile.candidates)
    if isinstance(profile, Profile):
        return "soc" if all(len(b.ranking) == n for b in profile.ballots) else "soi"
    if isinstance(profile, MarkedProfile):
        complete = all(sum(len(r) for r in b.marks) == n for b in profile.ballots)
        return "toc" if complete else "toi"
    return "cat"


def _group_text(group: Sequence[int], *, braces: bool = False) -> str:
    items = ",".join(str(c + 1) for c in group)
    return items if len(group) == 1 and not braces else "{" + items + "}"


def format_preflib(
    profile: AnyProfile,
    kind: PreflibKind | None = None,
    *,
    title: str = "",
    file_name: str = "",
) -> str:
    """The text of a PrefLib file holding ``profile``.

    Parameters
    ----------
    profile : Profile, MarkedProfile or ApprovalProfile
        The ballots. A :class:`Profile` is written as ``soc`` or ``soi``, a
        :class:`MarkedProfile` as ``toc`` or ``toi``, an :class:`ApprovalProfile` as ``cat``
        with the two categories ``Approved`` and ``Not approved``.
    kind : {"soc", "soi", "toc", "toi", "cat"}, optional
        The data type; by default the narrowest that fits (``soc`` when every ranking is
        complete, else ``soi``; the same for ``toc``/``toi``).
    title, file_name : str
        The ``TITLE`` and ``FILE NAME`` headers.

    Raises
    ------
    InputError
        If ``kind`` does not fit the profile (a ``soc`` with an incomplete ranking, a
        ``toi`` with a skipped rank or a candidate marked twice, ...).

    Examples
    --------
    >>> p = Profile.from_rankings(["A", "B"], [["B"], ["B"], ["A", "B"]])
    >>> print(format_preflib(p).split("\\n# ALTERNATIVE NAME 2: B\\n")[1])
    2: 2
    1: 1,2
    <BLANKLINE>
    """
    wanted = _default_kind(profile) if kind is None else kind
    if wanted not in PREFLIB_KINDS:
        _error("bad-kind", f"Unknown PrefLib data type {wanted!r}.", None, None, kind=wanted)
    n = len(profile.candidates)
    lines: list[str] = []
    units: list[tuple[int, str]] = []
    if isinstance(profile, Profile):
        if wanted not in ("soc", "soi"):
            _error("bad-kind", f"A Profile is written as soc or soi, not {wanted}.", None, None)
        for b in profile.ballots:
            if wanted == "soc" and len(b.ranking) != n:
                _error(
                    "incomplete-order",
                    f"A soc file needs complete rankings; {b.ranking!r} is not.",
                    None,
                    None,
                )
            units.append((b.weight, ",".join(str(c + 1) for c in b.ranking)))
    elif isinstance(profile, MarkedProfile):
        if wanted not in ("toc", "toi"):
            _error(
                "bad-kind", f"A MarkedProfile is written as toc or toi, not {wanted}.", *_NOWHERE
            )
        for mb in profile.ballots:
            flat = [c for rank in mb.marks for c in rank]
            if any(not rank for rank in mb.marks) or len(set(flat)) != len(flat):
                _error(
                    "not-an-order",
                    "PrefLib orders cannot hold a skipped rank or a candidate marked twice: "
                    f"{mb.marks!r}.",
                    None,
                    None,
                )
            if wanted == "toc" and len(flat) != n:
                _error(
                    "incomplete-order",
                    f"A toc file needs complete orders; {mb.marks!r} is not.",
                    None,
                    None,
                )
            units.append((mb.weight, ",".join(_group_text(rank) for rank in mb.marks)))
    else:
        if wanted != "cat":
            _error("bad-kind", f"An ApprovalProfile is written as cat, not {wanted}.", None, None)
        for ab in profile.ballots:
            rest = [c for c in range(n) if c not in set(ab.approved)]
            units.append(
                (
                    ab.weight,
                    f"{_group_text(ab.approved, braces=True)}, {_group_text(rest, braces=True)}",
                )
            )
    voters = sum(w for w, _ in units)
    lines.append(f"# FILE NAME: {file_name}")
    lines.append(f"# TITLE: {title}")
    lines.append(f"# DATA TYPE: {wanted}")
    lines.append(f"# NUMBER ALTERNATIVES: {n}")
    lines.append(f"# NUMBER VOTERS: {voters}")
    if wanted == "cat":
        lines.append(f"# NUMBER UNIQUE PREFERENCES: {len(units)}")
        lines.append("# NUMBER CATEGORIES: 2")
        lines.append("# CATEGORY NAME 1: Approved")
        lines.append("# CATEGORY NAME 2: Not approved")
    else:
        lines.append(f"# NUMBER UNIQUE ORDERS: {len(units)}")
    for i, name in enumerate(profile.candidates, start=1):
        lines.append(f"# ALTERNATIVE NAME {i}: {name}")
    order = sorted(range(len(units)), key=lambda k: -units[k][0])
    lines.extend(f"{units[k][0]}: {units[k][1]}" for k in order)
    return "\n".join(lines) + "\n"


def write_preflib(
    path: str | Path, profile: AnyProfile, kind: PreflibKind | None = None, *, title: str = ""
) -> None:
    """Write ``profile`` to ``path`` (UTF-8); the type is ``kind``, else the extension's,
    else the narrowest that fits. See :func:`format_preflib`."""
    path = Path(path)
    if kind is None:
        ext = path.suffix.lower().lstrip(".")
        if ext in PREFLIB_KINDS:
            kind = ext
    text = format_preflib(profile, kind, title=title, file_name=path.name)
    path.write_text(text, encoding="utf-8")
