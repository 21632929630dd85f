#!/usr/bin/env python3
"""Check a stadmaken audit bundle with nothing but the Python standard library.

Written from ``docs/audit.md`` (and ``docs/randomness.md`` for the byte stream); it shares no
code with stadmaken, so it can be copied and read on its own. Usage::

    python verify_bundle.py BUNDLE [--previous PREV] [--commitment HEX]

Exit status 0: the bundle verifies and a summary is printed. 1: it does not; the output is
``FAIL <field>: <message>`` naming the first field that does not match. 2: a file cannot be
read or is not JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

FORMAT = "stadmaken-audit"
VERSION = 1
#: The fields of ``draw`` (docs/audit.md, section 5).
FIELDS: tuple[str, ...] = ("algorithm", "council", "k", "kind", "m", "panels", "pool")
FIELDS += ("previous", "probabilities", "quotas", "randomness", "selections", "software")
TOP_LEVEL = ("draw", "events", "format", "hashes", "reveal", "version")
EVENT_KEYS = {"type", "withdrawn", "replacement", "previous", "hash"}
_DICE = re.compile(r"dice:([0-9]+)")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES.update({"\b": "\\b", "\f": "\\f"})
_TO_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SURROGATE = re.compile(r"[\ud800-\udfff]")

Quota = tuple[str, str, int, int]


class BundleError(Exception):
    """The first field of a bundle that does not verify (exit status 1).

    Parameters
    ----------
    field : str
        Path of the field, e.g. ``"reveal.index"`` or ``"events[0].hash"``.
    message : str
        What is wrong.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnreadableError(Exception):
    """A file cannot be read or is not JSON (exit status 2)."""


def _expect(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise BundleError(field, message)


def _is_int(value: object) -> bool:
    return type(value) is int


def _text(value: str) -> str:
    return '"' + _TO_ESCAPE.sub(lambda c: _ESCAPES.get(c[0]) or f"\\u{ord(c[0]):04x}", value) + '"'


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_int(value):
        return str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_text(k) + ":" + _encode(value[k]) for k in sorted(value)) + "}"
    raise ValueError(f"a {type(value).__name__} has no canonical encoding")


def canonical_json(value: object) -> bytes:
    """The canonical encoding of a JSON value (docs/audit.md, section 3).

    Raises
    ------
    ValueError
        For a number with a fraction or exponent, or text that is not valid Unicode.
    """
    return _encode(value).encode("utf-8")


def digest(value: object) -> str:
    """SHA-256 of the canonical encoding of ``value``, as 64 lower-case hexadecimal digits."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _first_bad(value: object, path: str) -> str | None:
    """The path of the first key or value that has no canonical encoding, or None."""
    if isinstance(value, dict | list):
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in pairs:
            where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}".lstrip(".")
            found = _first_bad(key, where) or _first_bad(item, where)
            if found is not None:
                return found
        return None
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    return None if value is None or isinstance(value, bool) or _is_int(value) else path


def stream(seed: str, label: str) -> Iterator[int]:
    """The bytes of the stream ``(seed, label)``: SHA-256 in counter mode (randomness.md, 2)."""
    s, lab = seed.encode("utf-8"), label.encode("utf-8")
    prefix = b"stadmaken-v1\x00" + len(s).to_bytes(4, "big") + s + len(lab).to_bytes(4, "big") + lab
    for counter in itertools.count():
        yield from hashlib.sha256(prefix + counter.to_bytes(8, "big")).digest()


def randbelow(source: Iterator[int], n: int) -> int:
    """A uniform integer in ``[0, n)`` by rejection sampling (randomness.md, 3)."""
    if n < 1:
        raise ValueError("randbelow needs n >= 1")
    bits = (n - 1).bit_length()
    size, mask = (bits + 7) // 8, (1 << bits) - 1
    while n > 1:
        value = int.from_bytes(bytes(next(source) for _ in range(size)), "big") & mask
        if value < n:
            return value
    return 0


def sample(source: Iterator[int], items: Sequence[str], count: int) -> list[str]:
    """``count`` of ``items`` by a partial Fisher–Yates shuffle (randomness.md, 4)."""
    a = list(items)
    for j in range(count):
        r = randbelow(source, len(a) - j)
        a[j], a[j + r] = a[j + r], a[j]
    return a[:count]


def selection_index(seed: str, m: int) -> int:
    """The selected panel: the dice rule, else ``randbelow(m)`` on the stream ``"lottery"``."""
    match = _DICE.fullmatch(seed)
    if match and m == 10 ** len(match.group(1)):
        return int(match.group(1))
    return randbelow(stream(seed, "lottery"), m)


def reserve_order(seed: str, pool_ids: Sequence[str], panel: Sequence[str]) -> list[str]:
    """Everyone not on ``panel``, sorted by code point, shuffled on the stream ``"reserves"``."""
    rest = sorted(set(pool_ids) - set(panel))
    return sample(stream(seed, "reserves"), rest, len(rest))


@dataclass(frozen=True)
class Rules:
    """The pool (id -> (values, household)), the quotas and the panel size of a draw."""

    people: dict[str, tuple[dict[str, str], str | None]]
    quotas: list[Quota]
    k: int

    def problems(self, panel: Sequence[str]) -> list[str]:
        """Every way ``panel`` breaks the size, a quota or the household rule."""
        found = []
        if len(panel) != self.k:
            found.append(f"panel has {len(panel)} members, not {self.k}")
        if len(set(panel)) != len(panel):
            found.append("someone is on the panel twice")
        members = [self.people[i] for i in panel if i in self.people]
        if len(members) != len(panel):
            found.append(f"{len(panel) - len(members)} panel members are not in the pool")
        for feature, value, lo, hi in self.quotas:
            count = sum(1 for values, _ in members if values.get(feature) == value)
            if not lo <= count <= hi:
                found.append(f"{feature}/{value}: {count} selected, quota {lo}-{hi}")
        households = [h for _, h in members if h is not None]
        if len(set(households)) != len(households):
            found.append("more than one person selected from a household")
        return found


@dataclass(frozen=True)
class Summary:
    """What :func:`verify` established.

    ``digest`` is the SHA-256 of the whole bundle, ``loss`` the rounding loss, ``index`` the
    selected panel (None before the reveal) and ``panel`` the current panel, after ``events``
    replacements.
    """

    commitment: str
    digest: str
    k: int
    m: int
    pool_size: int
    loss: Decimal
    index: int | None
    panel: tuple[str, ...]
    events: int


def check_integrity(bundle: object, commitment: str | None = None) -> None:
    """Steps 1-4 of docs/audit.md, section 11: layout, field hashes and commitment."""
    _expect(isinstance(bundle, dict), "bundle", "not a JSON object")
    assert isinstance(bundle, dict)
    _expect(bundle.get("format") == FORMAT, "format", f"not a stadmaken audit bundle ('{FORMAT}')")
    version = bundle.get("version")
    _expect(_is_int(version) and version == VERSION, "version", f"{version!r} is not {VERSION}")
    bad = _first_bad(bundle, "")
    _expect(
        bad is None, bad or "", "no canonical encoding (a non-integer number, a lone surrogate)"
    )
    for name, kind in (("draw", dict), ("hashes", dict), ("events", list)):
        what = "object" if kind is dict else "array"
        _expect(isinstance(bundle.get(name), kind), name, f"missing or not a JSON {what}")
    _expect("reveal" in bundle, "reveal", "missing")
    extra = sorted(set(bundle) - set(TOP_LEVEL))
    _expect(not extra, extra[0] if extra else "", "unknown field")
    draw, hashes = bundle["draw"], bundle["hashes"]
    for name in sorted(set(draw) | set(FIELDS)):
        _expect(name in FIELDS, f"draw.{name}", "unknown field")
        _expect(name in draw, f"draw.{name}", "missing")
    for name in sorted(hashes):
        _expect(name in draw or name == "commitment", f"hashes.{name}", "unknown field")
    stated = {name: hashes.get(name) for name in draw}
    holds = digest(stated) == hashes.get("commitment")
    if commitment is not None and hashes.get("commitment") != commitment:
        raise BundleError("hashes.commitment", "differs from the published commitment")
    for name in sorted(draw):
        if digest(draw[name]) != stated[name]:
            if holds:
                raise BundleError(f"draw.{name}", f"does not match its hash (hashes.{name})")
            raise BundleError(f"hashes.{name}", f"matches neither draw.{name} nor the commitment")
    _expect(holds, "hashes.commitment", "is not the SHA-256 of the field hashes")


def _rules(draw: Mapping[str, Any]) -> tuple[Rules, list[str]]:
    """Step 5: the quotas and the pool are well formed. Returns the rules and the pool ids."""
    rows = draw["quotas"]
    _expect(isinstance(rows, list), "draw.quotas", "not a list")
    quotas: list[Quota] = []
    for i, q in enumerate(rows):
        ok = isinstance(q, dict) and set(q) == {"feature", "value", "min", "max"}
        ok = ok and isinstance(q["feature"], str) and isinstance(q["value"], str)
        ok = ok and _is_int(q["min"]) and _is_int(q["max"])
        _expect(ok, f"draw.quotas[{i}]", "needs feature, value (text), min and max (integers)")
        quotas.append((q["feature"], q["value"], q["min"], q["max"]))
    _expect(quotas == sorted(quotas), "draw.quotas", "not sorted by feature and value")
    cells: set[tuple[str, str]] = set()
    for feature, value, lo, hi in quotas:
        _expect((feature, value) not in cells, "draw.quotas", f"{feature}/{value} given twice")
        _expect(0 <= lo <= hi, "draw.quotas", f"{feature}/{value}: min {lo}, max {hi}")
        cells.add((feature, value))
    pool = draw["pool"]
    _expect(
        isinstance(pool, dict) and set(pool) == {"features", "people"},
        "draw.pool",
        "needs features, people",
    )
    features = pool["features"]
    _expect(features == sorted({f for f, _ in cells}), "draw.pool.features", "not the quotas'")
    _expect(isinstance(pool["people"], list), "draw.pool.people", "not a list")
    people: dict[str, tuple[dict[str, str], str | None]] = {}
    ids: list[str] = []
    for i, p in enumerate(pool["people"]):
        ok = isinstance(p, dict) and set(p) == {"id", "household", "values"}
        ok = ok and isinstance(p["id"], str) and isinstance(p["household"], str | None)
        ok = ok and isinstance(p["values"], dict) and sorted(p["values"]) == features
        _expect(ok, f"draw.pool.people[{i}]", "needs id, household and a value per feature")
        for feature in sorted(p["values"]):
            value = p["values"][feature]
            where = f"draw.pool.people[{i}].values.{feature}"
            _expect(isinstance(value, str) and (feature, value) in cells, where, "has no quota")
        people[p["id"]] = (dict(p["values"]), p["household"])
        ids.append(p["id"])
    _expect(len(people) == len(ids), "draw.pool", "an id occurs more than once")
    _expect(ids == sorted(ids), "draw.pool", "not sorted by id")
    k = draw["k"]
    _expect(_is_int(k) and 0 < k <= len(ids), "draw.k", "not a panel size for this pool")
    return Rules(people, quotas, k), ids


def _check_panels(draw: Mapping[str, Any], rules: Rules, ids: list[str]) -> Decimal:
    """Steps 6-9: panels, selections, probabilities, randomness. Returns the rounding loss."""
    m = draw["m"]
    _expect(draw["kind"] == "panel", "draw.kind", "not 'panel'")
    _expect(isinstance(draw["algorithm"], str), "draw.algorithm", "not text")
    _expect(isinstance(draw["software"], str), "draw.software", "not text")
    _expect(_is_int(m) and m >= 1, "draw.m", "not a positive integer")
    panels = draw["panels"]
    _expect(isinstance(panels, list) and len(panels) == m, "draw.panels", f"not {m} panels")
    for i, panel in enumerate(panels):
        ok = isinstance(panel, list) and all(isinstance(x, str) for x in panel)
        _expect(ok and panel == sorted(set(panel)), f"draw.panels[{i}]", "not sorted, distinct")
        problems = rules.problems(panel)
        _expect(not problems, f"draw.panels[{i}]", "; ".join(problems))
    _expect(panels == sorted(panels), "draw.panels", "not in canonical (sorted) order")
    counts = Counter(pid for panel in panels for pid in panel)
    selections = draw["selections"]
    _expect(isinstance(selections, dict), "draw.selections", "not an object")
    for pid in sorted(ids):
        got = selections.get(pid)
        ok = _is_int(got) and got == counts[pid]
        _expect(ok, "draw.selections", f"'{pid}' is in {counts[pid]} panels, not {got!r}")
    _expect(len(selections) == len(ids), "draw.selections", "has ids not in the pool")
    probabilities = draw["probabilities"]
    ok = isinstance(probabilities, dict) and sorted(probabilities) == sorted(ids)
    _expect(ok, "draw.probabilities", "needs one probability per pool member")
    total = loss = Decimal(0)
    for pid, text in probabilities.items():
        ok = isinstance(text, str) and _DECIMAL.fullmatch(text) is not None
        _expect(ok and Decimal(text) <= 1, "draw.probabilities", f"'{pid}': {text!r}")
        total += Decimal(text)
        loss = max(loss, abs(Decimal(counts[pid]) / m - Decimal(text)))
    ok = abs(total - rules.k) <= Decimal("0.000001")
    _expect(ok, "draw.probabilities", f"sum to {total}, not {rules.k}")
    rnd = draw["randomness"]
    ok = isinstance(rnd, dict) and set(rnd) == {"source", "fallback"}
    ok = ok and all(isinstance(v, str) for v in rnd.values()) and bool(rnd["source"])
    _expect(ok, "draw.randomness", "needs a source (text) and a fallback (text)")
    return loss


def _check_reveal(bundle: Mapping[str, Any], ids: list[str]) -> int | None:
    """Step 11: the seed gives the stated index, panel and reserves."""
    part = bundle["reveal"]
    if part is None:
        _expect(not bundle["events"], "events", "events before the reveal")
        return None
    ok = isinstance(part, dict) and set(part) == {"seed", "index", "panel", "reserves"}
    _expect(ok and isinstance(part["seed"], str), "reveal", "needs seed, index, panel, reserves")
    panels = bundle["draw"]["panels"]
    index = selection_index(part["seed"], len(panels))
    ok = _is_int(part["index"]) and part["index"] == index
    _expect(ok, "reveal.index", f"the seed selects panel {index}, not {part['index']!r}")
    _expect(part["panel"] == panels[index], "reveal.panel", f"is not draw.panels[{index}]")
    reserves = reserve_order(part["seed"], ids, part["panel"])
    _expect(part["reserves"] == reserves, "reveal.reserves", "do not follow from the seed")
    return index


def _check_events(bundle: Mapping[str, Any], rules: Rules) -> list[str]:
    """Step 13: the event chain and the replacement rule. Returns the current panel, sorted."""
    head, reveal = bundle["hashes"]["commitment"], bundle["reveal"]
    panel = set(reveal["panel"]) if reveal is not None else set()
    served = set(panel)
    for i, event in enumerate(bundle["events"]):
        where = f"events[{i}]"
        ok = isinstance(event, dict) and set(event) == EVENT_KEYS
        _expect(ok and event["type"] == "replacement", where, "not a replacement event")
        _expect(event["previous"] == head, f"{where}.previous", "does not link to the chain")
        withdrawn = event["withdrawn"]
        ok = isinstance(withdrawn, str) and withdrawn in panel
        _expect(ok, f"{where}.withdrawn", "is not on the panel")
        rest = sorted(panel - {withdrawn})
        eligible = (c for c in reveal["reserves"] if c not in served)
        expected = next((c for c in eligible if not rules.problems([*rest, c])), None)
        why = f"the first eligible reserve is {expected!r}" if expected else "nobody can replace"
        _expect(
            expected is not None and event["replacement"] == expected, f"{where}.replacement", why
        )
        content = {key: value for key, value in event.items() if key != "hash"}
        _expect(event["hash"] == digest(content), f"{where}.hash", "does not match the event")
        panel = {*rest, expected}
        served.add(expected)
        head = event["hash"]
    return sorted(panel)


def verify(
    bundle: object, previous: object | None = None, commitment: str | None = None
) -> Summary:
    """Check ``bundle`` step by step (docs/audit.md, section 11).

    Parameters
    ----------
    bundle : object
        The parsed bundle.
    previous : object, optional
        The parsed bundle of the previous draw of a council; ``draw.previous`` must be its
        digest.
    commitment : str, optional
        The commitment published before the randomness existed.

    Returns
    -------
    Summary

    Raises
    ------
    BundleError
        Naming the first field that does not verify.
    """
    check_integrity(bundle, commitment)
    assert isinstance(bundle, dict)
    draw = bundle["draw"]
    rules, ids = _rules(draw)
    loss = _check_panels(draw, rules, ids)
    link = draw["previous"]
    ok = link is None or (isinstance(link, str) and _HEX64.fullmatch(link) is not None)
    _expect(ok, "draw.previous", "not a SHA-256 digest")
    if previous is not None:
        try:
            events = previous.get("events") if isinstance(previous, dict) else None
            states = [previous]
            if isinstance(previous, dict) and isinstance(events, list):
                states = [{**previous, "events": events[:j]} for j in range(len(events) + 1)]
            linked = link in [digest(state) for state in states]
        except ValueError:
            linked = False
        _expect(
            linked,
            "draw.previous",
            "is not the digest of the previous bundle (nor of it before any of its events)",
        )
    index = _check_reveal(bundle, ids)
    panel, events, m = tuple(_check_events(bundle, rules)), len(bundle["events"]), draw["m"]
    commitment = bundle["hashes"]["commitment"]
    return Summary(commitment, digest(bundle), rules.k, m, len(ids), loss, index, panel, events)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        key = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
        raise BundleError("bundle", f"the key {key!r} occurs twice in one object")
    return result


def load(path: str) -> Any:
    """Parse a file as JSON; numbers with a fraction or exponent become :class:`Decimal`.

    Raises
    ------
    UnreadableError
        If the file cannot be read or is not UTF-8 JSON.
    BundleError
        If an object has the same key twice.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UnreadableError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise UnreadableError(f"{path}: not JSON ({exc.msg} at {where}); truncated?") from None
    except (ValueError, RecursionError) as exc:
        raise UnreadableError(f"{path}: not usable JSON ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(description="Verify a stadmaken audit bundle.")
    parser.add_argument("bundle", help="the bundle (JSON)")
    parser.add_argument("--previous", help="the previous bundle of the same council")
    parser.add_argument("--commitment", help="the commitment published in advance (hex)")
    args = parser.parse_args(argv)

    def out(text: str, stream: TextIO = sys.stdout) -> None:
        encoding = stream.encoding or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    try:
        bundle = load(args.bundle)
        previous = load(args.previous) if args.previous is not None else None
        s = verify(bundle, previous, args.commitment)
    except UnreadableError as exc:
        out(f"ERROR {exc}\n", sys.stderr)
        return 2
    except BundleError as exc:
        out(f"FAIL {exc.field}: {exc.message}\n")
        return 1
    except RecursionError:
        out("FAIL bundle: nested too deeply\n")
        return 1
    out(f"OK {FORMAT} version {VERSION}\n")
    out(f"commitment {s.commitment}\ndigest     {s.digest}\n")
    out(f"pool of {s.pool_size}, panels of {s.k}, lottery over {s.m} panels, ")
    out(f"rounding loss {float(s.loss):.6f}\n")
    if s.index is None:
        out("not revealed yet\n")
    else:
        out(f"revealed: panel {s.index} selected, {s.events} replacement(s)\n")
        out(f"current panel: {' '.join(s.panel)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
