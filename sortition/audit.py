"""Audit bundles: commit to a lottery before the randomness exists, reveal, replace, verify.

A draw that anyone can check runs in three steps (specified byte for byte in ``docs/audit.md``):

1. **Commit.** The organiser computes the distribution, rounds it to a uniform lottery over
   ``m`` panels (:mod:`sortition.lottery`) and publishes a *commitment*: a SHA-256 over the
   pseudonymised pool, the quotas, ``k``, the algorithm, the software version, the ``m`` panels,
   the selection probabilities and the public randomness source announced in advance (a future
   drand round, lottery numbers, dice on camera), with a fallback.
2. **Reveal.** Once the source has produced its value, that value is the *seed*. It selects
   one of the ``m`` panels and orders the rest of the pool into a reserve list.
3. **Events.** When a member withdraws, the first reserve who keeps every quota and the
   household rule takes the seat; each event is appended to a hash chain.

An *audit bundle* is one JSON object holding all of it, written in a canonical encoding
(:func:`canonical_json`). :func:`verify` re-derives everything and raises :class:`AuditError`
naming the first field that does not match. Re-running an LP solver is no audit (solvers return
different, equally optimal distributions across versions), so nothing here needs one: the
bundle lists the panels themselves, and every check is exact integer arithmetic.

References
----------
B. Flanigan, G. Kehne, A. D. Procaccia, "Fair Sortition Made Transparent", NeurIPS 2021.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sortition.errors import AuditError, SortitionError
from sortition.lottery import Lottery
from sortition.model import Person, Pool, Quotas
from sortition.randomness import SeededStream
from sortition.validation import panel_violations

__all__ = [
    "FORMAT",
    "VERSION",
    "Verified",
    "canonical_json",
    "chain_digests",
    "check_integrity",
    "commit",
    "current_panel",
    "digest",
    "field_hashes",
    "load_bundle",
    "pseudonymise",
    "replace",
    "reserve_order",
    "reveal",
    "selection_index",
    "verify",
]

#: The ``format`` of every stadmaken audit bundle.
FORMAT = "stadmaken-audit"
#: The bundle format version this code writes and reads.
VERSION = 1
#: Probabilities before rounding are written with this many decimals.
DECIMALS = 12
#: The fields of ``draw`` in a panel draw's bundle; each has its own hash in ``hashes``.
PANEL_FIELDS = (
    "algorithm",
    "council",
    "k",
    "kind",
    "m",
    "panels",
    "pool",
    "previous",
    "probabilities",
    "quotas",
    "randomness",
    "selections",
    "software",
)

Bundle = dict[str, Any]


# --------------------------------------------------------------------------- encoding


def canonical_json(value: object) -> bytes:
    """The canonical encoding: JSON, keys sorted, no spaces, UTF-8, integers and text only.

    Floats are refused (their text form is not the same everywhere); probabilities are
    decimal strings.
    """
    _no_floats(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _no_floats(value: object) -> None:
    if isinstance(value, float):
        raise TypeError("floats have no canonical encoding; write a decimal string")
    if isinstance(value, Mapping):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def digest(value: object) -> str:
    """SHA-256 of the canonical encoding of ``value``, as 64 lower-case hexadecimal digits."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def chain_digests(bundle: Bundle) -> list[str]:
    """Digests of ``bundle`` as it stood before each of its events, and now.

    A later bundle links to the one it continues by one of these: the link stays valid when
    events (replacements) are appended to the earlier bundle afterwards.
    """
    events = bundle.get("events")
    if not isinstance(events, list):
        return [digest(bundle)]
    return [digest({**bundle, "events": events[:j]}) for j in range(len(events) + 1)]


def field_hashes(draw: Mapping[str, object]) -> dict[str, str]:
    """One hash per field of ``draw``, plus ``commitment``: the hash of those hashes."""
    hashes = {name: digest(value) for name, value in draw.items()}
    hashes["commitment"] = digest(hashes)
    return hashes


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def load_bundle(path: str | Path) -> Bundle:
    """Read a bundle file.

    Raises
    ------
    AuditError
        If the file cannot be read, is not UTF-8 JSON (a truncated file), or is not an object.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(
            "bundle", f"cannot read the file ({exc.strerror})", code="unreadable", file=name
        ) from None
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        raise AuditError(
            "bundle", f"the key '{exc.key}' occurs twice in one object", code="not-json", file=name
        ) from None
    except UnicodeDecodeError:
        raise AuditError(
            "bundle", "the file is not UTF-8 text", code="not-json", file=name
        ) from None
    except json.JSONDecodeError as exc:
        raise AuditError(
            "bundle",
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated",
            code="not-json",
            file=name,
        ) from None
    except (ValueError, RecursionError):
        raise AuditError(
            "bundle",
            "the JSON holds a number or a nesting too large to read",
            code="not-json",
            file=name,
        ) from None
    if not isinstance(value, dict):
        raise AuditError("bundle", "not a JSON object", code="not-a-bundle", file=name)
    return value


# --------------------------------------------------------------------------- pseudonyms


def pseudonymise(pool: Pool, key: bytes) -> tuple[Pool, dict[str, str]]:
    """Replace ids and household keys by pseudonyms.

    People are ordered by ``HMAC-SHA256(key, utf8(id))`` and numbered ``P0001``, ``P0002``, ...
    (at least four digits); households are numbered ``H0001``, ... in the order of their first
    member. Without ``key`` nobody can link a pseudonym to an id; with it, anyone holding the
    id list can recompute the mapping. The order of the pool's rows changes nothing.

    Returns
    -------
    (Pool, dict)
        The pseudonymised pool (sorted by pseudonym) and the mapping pseudonym -> id.
    """
    ordered = sorted(
        pool.people, key=lambda p: hmac.new(key, p.id.encode("utf-8"), hashlib.sha256).digest()
    )
    width = max(4, len(str(len(ordered))))
    households: dict[str, str] = {}
    people = []
    mapping = {}
    for number, person in enumerate(ordered, start=1):
        pseudonym = f"P{number:0{width}d}"
        household = None
        if person.household is not None:
            household = households.setdefault(person.household, f"H{len(households) + 1:0{width}d}")
        people.append(Person(pseudonym, dict(person.features), household))
        mapping[pseudonym] = person.id
    return Pool(tuple(people)), mapping


# --------------------------------------------------------------------------- commit


def _probability_text(value: float) -> str:
    return f"{min(max(value, 0.0), 1.0):.{DECIMALS}f}"


def pool_field(pool: Pool, features: Sequence[str]) -> dict[str, Any]:
    """The pool as written in a bundle: features, then people sorted by id."""
    return {
        "features": sorted(features),
        "people": [
            {
                "id": p.id,
                "household": p.household,
                "values": {f: p.features[f] for f in sorted(features)},
            }
            for p in sorted(pool.people, key=lambda p: p.id)
        ],
    }


def quotas_field(quotas: Quotas) -> list[dict[str, Any]]:
    """The quotas as written in a bundle, sorted by feature and value."""
    return [
        {"feature": f, "value": v, "min": quotas.get(f, v).min, "max": quotas.get(f, v).max}
        for f, v in quotas.canonical_cells()
    ]


def commit(
    lottery: Lottery,
    *,
    software: str,
    source: str,
    fallback: str = "",
    previous: str | None = None,
    council: Mapping[str, Any] | None = None,
) -> Bundle:
    """The bundle of a committed, not yet revealed, draw.

    ``lottery`` should be computed on a pseudonymised pool (:func:`pseudonymise`): the bundle
    is published. ``source`` names the public randomness announced in advance whose value will
    be the seed; ``fallback`` says what is used if it fails. ``previous`` is the digest of the
    bundle this one continues (a council renewal), ``council`` the council's terms.
    """
    structure = lottery.structure
    draw = {
        "algorithm": lottery.algorithm,
        "council": dict(council) if council is not None else None,
        "k": structure.k,
        "kind": "panel",
        "m": lottery.m,
        "panels": [list(panel) for panel in lottery.panels],
        "pool": pool_field(structure.pool, structure.quotas.features),
        "previous": previous,
        "probabilities": {pid: _probability_text(p) for pid, p in sorted(lottery.target.items())},
        "quotas": quotas_field(structure.quotas),
        "randomness": {"source": source, "fallback": fallback},
        "selections": lottery.counts,
        "software": software,
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "draw": draw,
        "hashes": field_hashes(draw),
        "reveal": None,
        "events": [],
    }


# --------------------------------------------------------------------------- randomness

_DICE = re.compile(r"dice:([0-9]+)", re.ASCII)
_PROBABILITY = re.compile(r"[01](\.[0-9]+)?", re.ASCII)


def selection_index(seed: str, m: int) -> int:
    """The index of the selected panel, in ``[0, m)``.

    If ``m`` is a power of ten, ``10**d``, and the seed is ``"dice:"`` followed by exactly ``d``
    decimal digits (three ten-sided dice read in order), the index is that number. Otherwise
    it is ``SeededStream(seed, "lottery").randbelow(m)``.
    """
    match = _DICE.fullmatch(seed)
    if match and m == 10 ** len(match.group(1)):
        return int(match.group(1))
    return SeededStream(seed, "lottery").randbelow(m)


def reserve_order(seed: str, pool_ids: Sequence[str], panel: Sequence[str]) -> list[str]:
    """Everyone not on ``panel``, in the order of ``SeededStream(seed, "reserves")``.

    The ids not on the panel are sorted (by code point) and shuffled with
    :meth:`SeededStream.sample` taking all of them.
    """
    on_panel = set(panel)
    rest = sorted(pid for pid in pool_ids if pid not in on_panel)
    return SeededStream(seed, "reserves").sample(rest, len(rest))


def reveal(bundle: Bundle, seed: str) -> Bundle:
    """The bundle with the draw revealed by ``seed``: the selected panel and the reserves.

    Raises
    ------
    AuditError
        If the bundle does not verify or is already revealed, or ``seed`` starts with
        ``dice:`` but does not have one digit per ten-sided die (``m`` a power of ten).
    """
    verify(bundle)
    if bundle["reveal"] is not None:
        raise AuditError("reveal", "the draw is already revealed", code="already-revealed")
    draw = bundle["draw"]
    digits = len(str(draw["m"] - 1)) if draw["m"] > 1 else 0
    if seed.startswith("dice:") and not (
        _DICE.fullmatch(seed) and draw["m"] == 10**digits and len(seed) == 5 + digits
    ):
        raise AuditError(
            "seed",
            f"a dice seed needs exactly {digits} digits for {draw['m']} panels "
            "(and the number of panels must be a power of ten)",
            code="bad-seed",
        )
    index = selection_index(seed, draw["m"])
    panel = list(draw["panels"][index])
    pool_ids = [p["id"] for p in draw["pool"]["people"]]
    revealed = dict(bundle)
    revealed["reveal"] = {
        "seed": seed,
        "index": index,
        "panel": panel,
        "reserves": reserve_order(seed, pool_ids, panel),
    }
    return revealed


# --------------------------------------------------------------------------- replacements


def current_panel(bundle: Bundle) -> list[str]:
    """The panel after every replacement so far, sorted."""
    panel = set(bundle["reveal"]["panel"])
    for event in bundle["events"]:
        panel.discard(event["withdrawn"])
        panel.add(event["replacement"])
    return sorted(panel)


def _chain_head(bundle: Bundle) -> str:
    events = bundle["events"]
    return str(events[-1]["hash"]) if events else str(bundle["hashes"]["commitment"])


def _find_replacement(
    draw: Mapping[str, Any],
    reveal_part: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    withdrawn: str,
) -> str | None:
    """The first reserve who keeps every quota and the household rule, or None."""
    pool, quotas = _pool_and_quotas(draw)
    panel = set(reveal_part["panel"])
    served = set(panel)
    for event in events:
        panel.discard(event["withdrawn"])
        panel.add(event["replacement"])
        served.add(event["replacement"])
    if withdrawn not in panel:
        return None
    rest = panel - {withdrawn}
    for candidate in reveal_part["reserves"]:
        if candidate in served:
            continue
        if not panel_violations(pool, quotas, draw["k"], [*rest, candidate]):
            return str(candidate)
    return None


def replace(bundle: Bundle, withdrawn: str) -> tuple[Bundle, str]:
    """Replace panel member ``withdrawn``; returns the new bundle and the replacement.

    The replacement is the first person on the reserve list who has not served on this panel
    and with whom the panel meets every quota and the household rule. The reserve list is a
    uniformly random order, so this is a uniform choice among the eligible people.

    Raises
    ------
    AuditError
        If the bundle does not verify, is not revealed, ``withdrawn`` is not on the panel, or
        nobody in the pool can take the seat.
    """
    verify(bundle)
    if bundle["reveal"] is None:
        raise AuditError("reveal", "the draw is not revealed yet", code="not-revealed")
    if withdrawn not in current_panel(bundle):
        raise AuditError("withdrawn", f"'{withdrawn}' is not on the panel", code="not-on-panel")
    replacement = _find_replacement(bundle["draw"], bundle["reveal"], bundle["events"], withdrawn)
    if replacement is None:
        raise AuditError(
            "withdrawn",
            f"no one in the pool can take the seat of '{withdrawn}' and keep every quota and "
            "the household rule",
            code="no-replacement",
        )
    event: dict[str, Any] = {
        "type": "replacement",
        "withdrawn": withdrawn,
        "replacement": replacement,
        "previous": _chain_head(bundle),
    }
    event["hash"] = digest(event)
    updated = dict(bundle)
    updated["events"] = [*bundle["events"], event]
    return updated, replacement


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verified:
    """What :func:`verify` established.

    Attributes
    ----------
    commitment : str
        The commitment (SHA-256 of the field hashes).
    digest : str
        SHA-256 of the whole bundle (what a later bundle's ``previous`` points to).
    k, m, pool_size : int
        Panel size, number of panels, people in the pool.
    loss : float
        Largest change of a selection probability caused by rounding to ``m`` panels.
    index : int or None
        The selected panel, when revealed.
    panel : tuple of str
        The current panel (after replacements), when revealed; else empty.
    events : int
        Number of events in the chain.
    """

    commitment: str
    digest: str
    k: int
    m: int
    pool_size: int
    loss: float
    index: int | None
    panel: tuple[str, ...]
    events: int


def _expect(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise AuditError(field, message)


def _check_values(value: object, path: str) -> None:
    """Only objects, lists, text (valid Unicode), integers, booleans and null; no floats."""
    if isinstance(value, float):
        raise AuditError(
            path or "bundle", "a number with a fraction or exponent; bundles hold integers only"
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise AuditError(path or "bundle", "text that is not valid Unicode") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(key, path)
            _check_values(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_values(item, f"{path}[{i}]")


def check_integrity(bundle: Bundle, fields: Sequence[str], commitment: str | None = None) -> None:
    """Check format, version, the top-level layout, and every field of ``draw`` against its
    hash and the hashes against the commitment (and ``commitment``, when given).

    ``fields`` are the fields ``draw`` must have (they depend on ``draw.kind``).
    """
    _check_values(bundle, "")
    if bundle.get("format") != FORMAT:
        raise AuditError(
            "format", f"not a stadmaken audit bundle ('{FORMAT}')", code="not-a-bundle"
        )
    version = bundle.get("version")
    if type(version) is not int or version != VERSION:
        raise AuditError(
            "version",
            f"format version {version!r} is not supported (this stadmaken reads {VERSION})",
            code="unsupported-version",
        )
    for name, kind in (("draw", dict), ("hashes", dict), ("events", list)):
        _expect(isinstance(bundle.get(name), kind), name, f"missing or not a JSON {kind.__name__}")
    _expect("reveal" in bundle, "reveal", "missing")
    extra = sorted(set(bundle) - {"format", "version", "draw", "hashes", "reveal", "events"})
    _expect(not extra, extra[0] if extra else "", "unknown field")
    draw, hashes = bundle["draw"], bundle["hashes"]
    for name in sorted(set(draw) | set(fields)):
        _expect(name in fields, f"draw.{name}", "unknown field")
        _expect(name in draw, f"draw.{name}", "missing")
    for name in sorted(hashes):
        _expect(name in draw or name == "commitment", f"hashes.{name}", "unknown field")
    stated = {name: hashes.get(name) for name in draw}
    commitment_holds = digest(stated) == hashes.get("commitment")
    if commitment is not None and hashes.get("commitment") != commitment:
        raise AuditError("hashes.commitment", "differs from the published commitment")
    for name in sorted(draw):
        if digest(draw[name]) != stated[name]:
            if commitment_holds:
                raise AuditError(
                    f"draw.{name}", f"does not match its hash in the commitment (hashes.{name})"
                )
            raise AuditError(f"hashes.{name}", f"matches neither draw.{name} nor hashes.commitment")
    _expect(commitment_holds, "hashes.commitment", "is not the SHA-256 of the field hashes")


def _pool_and_quotas(draw: Mapping[str, Any]) -> tuple[Pool, Quotas]:
    quotas_value = draw["quotas"]
    _expect(isinstance(quotas_value, list), "draw.quotas", "not a list")
    rows = []
    for i, q in enumerate(quotas_value):
        ok = (
            isinstance(q, dict)
            and set(q) == {"feature", "value", "min", "max"}
            and isinstance(q["feature"], str)
            and isinstance(q["value"], str)
            and type(q["min"]) is int
            and type(q["max"]) is int
        )
        _expect(ok, f"draw.quotas[{i}]", "needs feature, value (text), min and max (integers)")
        rows.append((q["feature"], q["value"], q["min"], q["max"]))
    _expect(rows == sorted(rows), "draw.quotas", "not sorted by feature and value")
    try:
        quotas = Quotas.from_rows(rows)
    except SortitionError as exc:
        raise AuditError("draw.quotas", exc.message) from None
    pool_value = draw["pool"]
    _expect(
        isinstance(pool_value, dict) and set(pool_value) == {"features", "people"},
        "draw.pool",
        "needs features and people",
    )
    features = pool_value["features"]
    _expect(features == sorted(quotas.features), "draw.pool.features", "not the quota features")
    _expect(isinstance(pool_value["people"], list), "draw.pool.people", "not a list")
    people = []
    for i, p in enumerate(pool_value["people"]):
        ok = (
            isinstance(p, dict)
            and set(p) == {"id", "household", "values"}
            and isinstance(p["id"], str)
            and (p["household"] is None or isinstance(p["household"], str))
            and isinstance(p["values"], dict)
            and sorted(p["values"]) == features
        )
        _expect(ok, f"draw.pool.people[{i}]", "needs id, household and a value per feature")
        for feature, value in p["values"].items():
            _expect(
                isinstance(value, str) and (feature, value) in set(quotas.canonical_cells()),
                f"draw.pool.people[{i}].values.{feature}",
                f"value {value!r} has no quota",
            )
        people.append(Person(p["id"], dict(p["values"]), p["household"]))
    try:
        pool = Pool(tuple(people))
    except SortitionError as exc:
        raise AuditError("draw.pool", exc.message) from None
    _expect([p.id for p in people] == sorted(p.id for p in people), "draw.pool", "not sorted by id")
    return pool, quotas


def _check_panels(draw: Mapping[str, Any], pool: Pool, quotas: Quotas) -> float:
    """Every panel meets the rules; selections and probabilities follow. Returns the loss."""
    k, m = draw["k"], draw["m"]
    _expect(type(k) is int and 0 < k <= len(pool), "draw.k", "not a panel size for this pool")
    _expect(draw["kind"] == "panel", "draw.kind", "not 'panel'")
    _expect(isinstance(draw["algorithm"], str), "draw.algorithm", "not text")
    _expect(isinstance(draw["software"], str), "draw.software", "not text")
    panels = draw["panels"]
    _expect(type(m) is int and m >= 1, "draw.m", "not a positive integer")
    _expect(isinstance(panels, list) and len(panels) == m, "draw.panels", f"not {m} panels")
    for i, panel in enumerate(panels):
        _expect(
            isinstance(panel, list)
            and all(isinstance(x, str) for x in panel)
            and panel == sorted(set(panel)),
            f"draw.panels[{i}]",
            "not a sorted list of distinct ids",
        )
        problems = panel_violations(pool, quotas, k, panel)
        _expect(not problems, f"draw.panels[{i}]", "; ".join(problems))
    _expect(panels == sorted(panels), "draw.panels", "not in canonical (sorted) order")
    counts = Counter(pid for panel in panels for pid in panel)
    expected = {pid: counts.get(pid, 0) for pid in sorted(pool.ids)}
    selections = draw["selections"]
    _expect(isinstance(selections, dict), "draw.selections", "not an object")
    for pid in expected:
        stated = selections.get(pid)
        _expect(
            type(stated) is int and stated == expected[pid],
            "draw.selections",
            f"'{pid}' is in {expected[pid]} panels, the bundle says {selections.get(pid)!r}",
        )
    _expect(len(selections) == len(expected), "draw.selections", "has ids not in the pool")
    probabilities = draw["probabilities"]
    _expect(
        isinstance(probabilities, dict) and sorted(probabilities) == sorted(expected),
        "draw.probabilities",
        "needs one probability per pool member",
    )
    total = Decimal(0)
    loss = Decimal(0)
    for pid, text in probabilities.items():
        _expect(
            isinstance(text, str)
            and _PROBABILITY.fullmatch(text) is not None
            and Decimal(text) <= 1,
            "draw.probabilities",
            f"'{pid}': {text!r} is not a probability written as 0.ddd or 1.000",
        )
        value = Decimal(text)
        total += value
        loss = max(loss, abs(Decimal(expected[pid]) / m - value))
    _expect(abs(total - k) <= Decimal("1e-6"), "draw.probabilities", f"sum to {total}, not {k}")
    randomness = draw["randomness"]
    _expect(
        isinstance(randomness, dict)
        and set(randomness) == {"source", "fallback"}
        and all(isinstance(v, str) for v in randomness.values())
        and bool(randomness["source"]),
        "draw.randomness",
        "needs a source (text) and a fallback (text)",
    )
    return float(loss)


def _check_reveal(bundle: Bundle, pool: Pool) -> int | None:
    part = bundle["reveal"]
    if part is None:
        _expect(not bundle["events"], "events", "events before the reveal")
        return None
    draw = bundle["draw"]
    _expect(
        isinstance(part, dict)
        and set(part) == {"seed", "index", "panel", "reserves"}
        and isinstance(part["seed"], str),
        "reveal",
        "needs seed (text), index, panel and reserves",
    )
    index = selection_index(part["seed"], draw["m"])
    _expect(
        type(part["index"]) is int and part["index"] == index,
        "reveal.index",
        f"the seed (reveal.seed) selects panel {index}, the bundle says {part['index']!r}",
    )
    _expect(part["panel"] == draw["panels"][index], "reveal.panel", f"is not draw.panels[{index}]")
    reserves = reserve_order(part["seed"], pool.ids, part["panel"])
    _expect(part["reserves"] == reserves, "reveal.reserves", "do not follow from the seed")
    return index


def _check_events(bundle: Bundle) -> None:
    head = bundle["hashes"]["commitment"]
    for i, event in enumerate(bundle["events"]):
        where = f"events[{i}]"
        _expect(
            isinstance(event, dict)
            and set(event) == {"type", "withdrawn", "replacement", "previous", "hash"}
            and event["type"] == "replacement"
            and all(isinstance(event[key], str) for key in event),
            where,
            "needs type 'replacement', withdrawn, replacement, previous and hash",
        )
        _expect(event["previous"] == head, f"{where}.previous", "does not link to the chain")
        earlier = bundle["events"][:i]
        on_panel = set(bundle["reveal"]["panel"])
        for e in earlier:
            on_panel.discard(e["withdrawn"])
            on_panel.add(e["replacement"])
        _expect(event["withdrawn"] in on_panel, f"{where}.withdrawn", "is not on the panel")
        expected = _find_replacement(bundle["draw"], bundle["reveal"], earlier, event["withdrawn"])
        _expect(
            event["replacement"] == expected,
            f"{where}.replacement",
            f"the first eligible reserve is {expected!r}, the bundle says {event['replacement']!r}",
        )
        content = {key: value for key, value in event.items() if key != "hash"}
        _expect(event["hash"] == digest(content), f"{where}.hash", "does not match the event")
        head = event["hash"]


def verify(
    bundle: Bundle, *, previous: Bundle | None = None, commitment: str | None = None
) -> Verified:
    """Re-derive everything in ``bundle``; raise :class:`AuditError` at the first mismatch.

    Checks, in this order: format and version; every field of ``draw`` against its hash and
    the hashes against the commitment (and against ``commitment``, the value published in
    advance, when given); the pool and quotas are well formed; every panel meets every quota
    and the household rule; the number of panels holding each person equals the stated
    selections; the probabilities before rounding sum to ``k``; the seed gives the stated
    index, panel and reserve list; each event links to the one before, names a panel member,
    and its replacement is the first eligible reserve; and, when ``previous`` is given, that
    ``draw.previous`` is its digest.
    """
    check_integrity(bundle, PANEL_FIELDS, commitment)
    draw = bundle["draw"]
    pool, quotas = _pool_and_quotas(draw)
    loss = _check_panels(draw, pool, quotas)
    link = draw["previous"]
    _expect(
        link is None or (isinstance(link, str) and re.fullmatch("[0-9a-f]{64}", link) is not None),
        "draw.previous",
        "not a SHA-256 digest",
    )
    if previous is not None:
        _expect(
            link in chain_digests(previous),
            "draw.previous",
            "is not the digest of the previous bundle (nor of it before any of its events)",
        )
    index = _check_reveal(bundle, pool)
    _check_events(bundle)
    panel = tuple(current_panel(bundle)) if index is not None else ()
    return Verified(
        commitment=bundle["hashes"]["commitment"],
        digest=digest(bundle),
        k=draw["k"],
        m=draw["m"],
        pool_size=len(pool),
        loss=loss,
        index=index,
        panel=panel,
        events=len(bundle["events"]),
    )
