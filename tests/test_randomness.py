"""Tests of the seeded randomness and the seeded draw against ``docs/randomness.md``.

The specification's test vectors are read from the JSON blocks of ``docs/randomness.md`` (so the
document and the tests cannot drift apart) and checked twice: against the library, and against
the *reference implementation* below, which is written from the specification with nothing but
``hashlib`` and ``fractions`` and shares no code with :mod:`sortition`. Running this file as a
script prints freshly computed vectors (from the reference implementation) in the document's
format::

    python tests/test_randomness.py
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.distribution import WEIGHT_DENOMINATOR, Distribution, integer_weights
from sortition.draw import draw
from sortition.model import Person, Pool, Quotas
from sortition.randomness import SeededStream, new_seed
from sortition.structure import PoolStructure

DOC = Path(__file__).resolve().parent.parent / "docs" / "randomness.md"

# --------------------------------------------------------------------------- reference
# Written from docs/randomness.md alone; it must not import anything from sortition.


class RefStream:
    """The byte stream of (seed, label): SHA-256 blocks in counter mode, read in order."""

    def __init__(self, seed: str, label: str) -> None:
        s, lab = seed.encode("utf-8"), label.encode("utf-8")
        self.prefix = (
            b"stadmaken-v1" + b"\x00" + len(s).to_bytes(4, "big") + s + len(lab).to_bytes(4, "big")
        ) + lab
        self.counter = 0
        self.pending = b""

    def message(self, counter: int) -> bytes:
        return self.prefix + counter.to_bytes(8, "big")

    def read(self, count: int) -> bytes:
        while len(self.pending) < count:
            self.pending += hashlib.sha256(self.message(self.counter)).digest()
            self.counter += 1
        out, self.pending = self.pending[:count], self.pending[count:]
        return out

    def randbelow(self, n: int) -> int:
        if n < 1:
            raise ValueError(n)
        if n == 1:
            return 0
        bits = (n - 1).bit_length()
        nbytes = (bits + 7) // 8
        while True:
            value = int.from_bytes(self.read(nbytes), "big") % (1 << bits)
            if value < n:
                return value

    def sample(self, items: Sequence[Any], count: int) -> list[Any]:
        a = list(items)
        for j in range(count):
            r = self.randbelow(len(a) - j)
            a[j], a[j + r] = a[j + r], a[j]
        return a[:count]

    def choose_weighted(self, weights: Sequence[int]) -> int:
        r = self.randbelow(sum(weights))
        running = 0
        for i, w in enumerate(weights):
            running += w
            if running > r:
                return i
        raise ValueError("empty weights")


def ref_integer_weights(weights: Sequence[float], denominator: int = 2**32) -> list[int]:
    exact = [Fraction(w) for w in weights]  # a float is an exact binary rational
    total = sum(exact)
    scaled = [w * denominator / total for w in exact]
    out = [math.floor(s) for s in scaled]
    leftover = denominator - sum(out)
    # largest remainder first; among equal remainders the lower index first
    ranked = sorted(range(len(out)), key=lambda i: (scaled[i] - out[i], -i), reverse=True)
    for i in ranked[:leftover]:
        out[i] += 1
    return out


def ref_structure(
    people: Sequence[dict[str, Any]], features: Sequence[str]
) -> tuple[list[list[tuple[str, ...]]], list[tuple[int, tuple[str, ...], list[str]]]]:
    """Canonical unit types and classes: ([units of each type], [(type, vector, members)])."""
    order = sorted(set(features))
    vector = {p["id"]: tuple(p["features"][f] for f in order) for p in people}
    units: dict[object, list[str]] = defaultdict(list)
    for p in people:
        key = ("household", p["household"]) if p.get("household") is not None else ("id", p["id"])
        units[key].append(p["id"])
    types: dict[tuple[tuple[str, ...], ...], list[tuple[str, ...]]] = defaultdict(list)
    for members in units.values():
        unit = tuple(sorted(members))
        types[tuple(sorted(vector[m] for m in unit))].append(unit)
    type_units: list[list[tuple[str, ...]]] = []
    classes: list[tuple[int, tuple[str, ...], list[str]]] = []
    for t, key in enumerate(sorted(types)):
        us = sorted(types[key])
        type_units.append(us)
        for v in sorted(set(key)):
            classes.append((t, v, sorted(m for u in us for m in u if vector[m] == v)))
    return type_units, classes


def ref_realise(
    type_units: list[list[tuple[str, ...]]],
    classes: list[tuple[int, tuple[str, ...], list[str]]],
    counts: Sequence[int],
    stream: RefStream,
) -> list[str]:
    chosen: list[str] = []
    for t, us in enumerate(type_units):
        wanted = [(g, counts[g]) for g, c in enumerate(classes) if c[0] == t and counts[g] > 0]
        picked = stream.sample(us, sum(c for _, c in wanted))
        at = 0
        for g, c in wanted:
            members = set(classes[g][2])
            for unit in picked[at : at + c]:
                candidates = [m for m in unit if m in members]
                chosen.append(candidates[stream.randbelow(len(candidates))])
            at += c
    return sorted(chosen)


def ref_draw(vector: dict[str, Any], seed: str) -> tuple[int, list[str]]:
    type_units, classes = ref_structure(vector["people"], [q[0] for q in vector["quotas"]])
    weights = ref_integer_weights(vector["weights"])
    index = RefStream(seed, "panel").choose_weighted(weights)
    members = ref_realise(
        type_units, classes, vector["compositions"][index], RefStream(seed, "members")
    )
    return index, members


def ref_legacy_panel(
    people: Sequence[dict[str, Any]],
    quotas: Sequence[Sequence[Any]],
    k: int,
    stream: RefStream,
) -> list[str] | None:
    """One LEGACY attempt as docs/randomness.md describes it; None when it fails."""
    cells = sorted((q[0], q[1]) for q in quotas)
    lo = {(q[0], q[1]): q[2] for q in quotas}
    hi = {(q[0], q[1]): q[3] for q in quotas}
    features = sorted({q[0] for q in quotas})
    ids = sorted(p["id"] for p in people)
    by_id = {p["id"]: p for p in people}
    values = {i: [(f, by_id[i]["features"][f]) for f in features] for i in ids}
    alive = dict.fromkeys(ids, True)
    avail = {c: sum(1 for i in ids if c in values[i]) for c in cells}
    got = dict.fromkeys(cells, 0)

    def drop(i: str) -> bool:
        alive[i] = False
        for c in values[i]:
            avail[c] -= 1
            if avail[c] == 0 and got[c] < lo[c]:
                return False
        return True

    def drop_value(c: tuple[str, str]) -> bool:
        return all(drop(i) for i in ids if alive[i] and c in values[i])

    for c in cells:
        if hi[c] == 0 and not drop_value(c):
            return None
    panel: list[str] = []
    for _ in range(k):
        best: tuple[Fraction, tuple[str, str], int] | None = None
        for c in cells:
            need = max(lo[c] - got[c], 0)
            if avail[c] < need:
                return None
            if avail[c] == 0 or hi[c] == 0:
                continue
            ratio = Fraction(need, avail[c])
            if best is None or ratio > best[0]:
                best = (ratio, c, stream.randbelow(avail[c]))
        if best is None:
            return None
        _, c, position = best
        person = [i for i in ids if alive[i] and c in values[i]][position]
        panel.append(person)
        alive[person] = False
        for cc in values[person]:
            got[cc] += 1
            avail[cc] -= 1
        household = by_id[person].get("household")
        if household is not None:
            for other in ids:
                if by_id[other].get("household") == household and alive[other] and not drop(other):
                    return None
        for cc in values[person]:
            if got[cc] == hi[cc] and not drop_value(cc):
                return None
        if len(panel) < k and not any(alive.values()):
            return None
    return sorted(panel)


def ref_legacy_draw(vector: dict[str, Any], seed: str) -> list[str]:
    stream = RefStream(seed, "legacy")
    for _ in range(100):
        panel = ref_legacy_panel(vector["people"], vector["quotas"], vector["k"], stream)
        if panel is not None and ref_panel_ok(vector, panel):
            return panel
    raise RuntimeError("LEGACY failed")


def ref_panel_ok(vector: dict[str, Any], panel: Sequence[str]) -> bool:
    by_id = {p["id"]: p for p in vector["people"]}
    for f, v, lo, hi in vector["quotas"]:
        if not lo <= sum(by_id[i]["features"][f] == v for i in panel) <= hi:
            return False
    households = [by_id[i].get("household") for i in panel]
    households = [h for h in households if h is not None]
    return len(panel) == vector["k"] and len(set(households)) == len(households)


# --------------------------------------------------------------------------- the document's vectors


def doc_vectors() -> list[dict[str, Any]]:
    """Every JSON block of docs/randomness.md that has a ``"kind"``."""
    blocks = re.findall(r"^```json\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    vectors = [json.loads(b) for b in blocks]
    return [v for v in vectors if isinstance(v, dict) and "kind" in v]


def vectors_of(kind: str) -> list[dict[str, Any]]:
    found = [v for v in doc_vectors() if v["kind"] == kind]
    assert found, f"docs/randomness.md has no '{kind}' vector"
    return found


def test_doc_has_every_kind_of_vector() -> None:
    kinds = Counter(v["kind"] for v in doc_vectors())
    expected = {
        "stream",
        "randbelow",
        "sample",
        "choose_weighted",
        "integer_weights",
        "draw",
        "legacy",
    }
    assert set(kinds) == expected


def library_stream(seed: str, label: str) -> SeededStream:
    return SeededStream(seed, label)


STREAMS: list[Callable[[str, str], Any]] = [library_stream, RefStream]
STREAM_IDS = ["library", "reference"]


@pytest.mark.parametrize("make", STREAMS, ids=STREAM_IDS)
def test_stream_bytes(make: Callable[[str, str], Any]) -> None:
    for v in vectors_of("stream"):
        assert make(v["seed"], v["label"]).read(64).hex() == v["first_64_bytes"], v
        # reading in odd pieces gives the same bytes: the stream is one sequence
        s = make(v["seed"], v["label"])
        pieces = b"".join(s.read(n) for n in (1, 5, 0, 26, 31, 1))
        assert pieces.hex() == v["first_64_bytes"]
        if "block_0_input" in v:
            assert RefStream(v["seed"], v["label"]).message(0).hex() == v["block_0_input"]
            digest = hashlib.sha256(bytes.fromhex(v["block_0_input"])).hexdigest()
            assert digest == v["first_64_bytes"][:64]


@pytest.mark.parametrize("make", STREAMS, ids=STREAM_IDS)
def test_randbelow(make: Callable[[str, str], Any]) -> None:
    for v in vectors_of("randbelow"):
        s = make(v["seed"], v["label"])
        ns = v["n"] if isinstance(v["n"], list) else [v["n"]] * len(v["values"])
        assert [s.randbelow(n) for n in ns] == v["values"], v
        # what is left of the stream pins how many bytes were consumed
        assert s.read(8).hex() == v["next_8_bytes"], v


@pytest.mark.parametrize("make", STREAMS, ids=STREAM_IDS)
def test_sample(make: Callable[[str, str], Any]) -> None:
    for v in vectors_of("sample"):
        s = make(v["seed"], v["label"])
        assert s.sample(v["items"], v["count"]) == v["result"], v
        assert s.read(8).hex() == v["next_8_bytes"], v


@pytest.mark.parametrize("make", STREAMS, ids=STREAM_IDS)
def test_choose_weighted(make: Callable[[str, str], Any]) -> None:
    for v in vectors_of("choose_weighted"):
        s = make(v["seed"], v["label"])
        assert [s.choose_weighted(v["weights"]) for _ in v["result"]] == v["result"], v


@pytest.mark.parametrize(
    "convert",
    [lambda w: integer_weights(np.array(w, dtype=np.float64)), ref_integer_weights],
    ids=STREAM_IDS,
)
def test_integer_weights(convert: Callable[[list[float]], list[int]]) -> None:
    for v in vectors_of("integer_weights"):
        floats = [float.fromhex(h) for h in v["weights_hex"]]
        assert floats == v["weights"], "the decimal and hexadecimal floats differ"
        assert convert(floats) == v["result"], v
        assert sum(v["result"]) == 2**32


def doc_pool(vector: dict[str, Any]) -> tuple[Pool, Quotas]:
    people = tuple(Person(p["id"], p["features"], p.get("household")) for p in vector["people"])
    return Pool(people), Quotas.from_rows(tuple(q) for q in vector["quotas"])


def test_draw_vectors_structure() -> None:
    """The document lists the canonical classes; both implementations agree with it."""
    for v in vectors_of("draw") + vectors_of("legacy"):
        pool, quotas = doc_pool(v)
        structure = PoolStructure.build(pool, quotas, v["k"])
        listed = [(c["unit_type"], tuple(c["vector"]), c["members"]) for c in v["classes"]]
        library = [(c.unit_type, c.vector, list(c.members)) for c in structure.classes]
        assert library == listed
        assert [[list(u) for u in ut.units] for ut in structure.unit_types] == v["unit_types"]
        type_units, classes = ref_structure(v["people"], [q[0] for q in v["quotas"]])
        assert classes == listed
        assert [[list(u) for u in us] for us in type_units] == v["unit_types"]
        assert list(structure.features) == v["features"]


def test_draw_vectors() -> None:
    for v in vectors_of("draw"):
        pool, quotas = doc_pool(v)
        structure = PoolStructure.build(pool, quotas, v["k"])
        compositions = np.array(v["compositions"], dtype=np.int64)
        assert [list(r) for r in compositions] == sorted(v["compositions"])
        for row in compositions:
            assert structure.violations(row) == []
        weights = np.array(v["weights"], dtype=np.float64)
        assert integer_weights(weights) == v["integer_weights"]
        assert ref_integer_weights(v["weights"]) == v["integer_weights"]
        distribution = Distribution(structure, "leximin", compositions, weights)
        for case in v["draws"]:
            result = draw(distribution, case["seed"])
            assert result.panel_index == case["panel_index"], case
            assert list(result.selected) == case["selected"], case
            assert ref_draw(v, case["seed"]) == (case["panel_index"], case["selected"]), case


def test_legacy_vectors() -> None:
    for v in vectors_of("legacy"):
        pool, quotas = doc_pool(v)
        structure = PoolStructure.build(pool, quotas, v["k"])
        distribution = Distribution(
            structure, "legacy", np.zeros((0, structure.n_classes), np.int64), np.zeros(0)
        )
        for case in v["draws"]:
            assert list(draw(distribution, case["seed"]).selected) == case["selected"], case
            assert ref_legacy_draw(v, case["seed"]) == case["selected"], case


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    seed=st.text(max_size=20),
    label=st.text(max_size=10),
    ns=st.lists(st.integers(1, 2**70), max_size=20),
)
def test_library_matches_reference(seed: str, label: str, ns: list[int]) -> None:
    lib, ref = SeededStream(seed, label), RefStream(seed, label)
    assert [lib.randbelow(n) for n in ns] == [ref.randbelow(n) for n in ns]
    assert lib.sample(range(9), 5) == ref.sample(range(9), 5)
    assert lib.choose_weighted([3, 0, 5, 1]) == ref.choose_weighted([3, 0, 5, 1])
    assert lib.read(33) == ref.read(33)


def test_randbelow_one_reads_nothing() -> None:
    a, b = SeededStream("x", "y"), SeededStream("x", "y")
    assert [a.randbelow(1) for _ in range(100)] == [0] * 100
    assert a.read(40) == b.read(40)


def test_randbelow_rejects_nonpositive() -> None:
    with pytest.raises(ValueError):
        SeededStream("x", "y").randbelow(0)


def test_streams_are_independent_by_seed_and_label() -> None:
    first = {SeededStream(s, lab).read(16) for s in ("a", "b", "ab", "") for lab in ("", "b")}
    assert len(first) == 8
    # the length prefixes keep ("ab", "") and ("a", "b") apart
    assert SeededStream("ab", "").read(32) != SeededStream("a", "b").read(32)


@pytest.mark.parametrize("n", [2, 3, 7, 10, 129, 1000])
def test_randbelow_is_uniform(n: int) -> None:
    """Loose chi-square test: 200 draws per value on average, threshold far in the tail."""
    draws = 200 * n
    s = SeededStream("uniformity", f"n={n}")
    counts = Counter(s.randbelow(n) for _ in range(draws))
    assert set(counts) <= set(range(n))
    expected = draws / n
    chi2 = sum((counts.get(i, 0) - expected) ** 2 / expected for i in range(n))
    df = n - 1
    # mean df, standard deviation sqrt(2 df): 6 standard deviations is a one-in-a-billion event
    assert chi2 < df + 6 * math.sqrt(2 * df) + 10, (n, chi2)


def test_randbelow_big_n_uses_top_bits_too() -> None:
    n = 2**40 + 3
    s = SeededStream("big", "n")
    values = [s.randbelow(n) for _ in range(2000)]
    assert all(0 <= x < n for x in values)
    # about half of the values lie above 2**39 (they would never if high bits were lost)
    above = sum(x >= 2**39 for x in values)
    assert 850 < above < 1150


def test_sample_is_uniform_over_ordered_choices() -> None:
    s = SeededStream("sample", "uniformity")
    counts = Counter(tuple(s.sample("abcd", 2)) for _ in range(12_000))
    assert len(counts) == 12  # every ordered pair of distinct items
    assert all(800 < c < 1200 for c in counts.values()), counts


def test_choose_weighted_follows_weights() -> None:
    s = SeededStream("weighted", "frequencies")
    weights = [1, 0, 3, 6]
    counts = Counter(s.choose_weighted(weights) for _ in range(10_000))
    assert counts[1] == 0
    for i, w in enumerate(weights):
        assert abs(counts[i] - 1000 * w) < 5 * math.sqrt(1000 * w + 1), counts


def test_choose_weighted_rejects_bad_weights() -> None:
    s = SeededStream("x", "y")
    for bad in ([], [0, 0], [2, -1]):
        with pytest.raises(ValueError):
            s.choose_weighted(bad)


def test_new_seed_is_128_bit_hex() -> None:
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", s) for s in seeds)


positive_floats = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False)
weight_lists = st.lists(
    st.one_of(st.just(0.0), positive_floats, st.floats(0.0, 1.0)), min_size=1, max_size=12
).filter(lambda ws: sum(Fraction(w) for w in ws) > 0)


@settings(max_examples=300, deadline=None)
@given(weights=weight_lists, exponent=st.integers(-60, 60))
def test_integer_weights_exact_sum_and_scale_invariance(
    weights: list[float], exponent: int
) -> None:
    result = integer_weights(np.array(weights, dtype=np.float64))
    assert sum(result) == WEIGHT_DENOMINATOR
    assert all(r >= 0 for r in result)
    assert all(r == 0 for r, w in zip(result, weights, strict=True) if w == 0)
    assert result == ref_integer_weights(weights)
    # each integer is the floor or the ceiling of its exact share
    total = sum(Fraction(w) for w in weights)
    for r, w in zip(result, weights, strict=True):
        share = Fraction(w) / total * WEIGHT_DENOMINATOR
        assert math.floor(share) <= r <= math.ceil(share)
    # multiplying by a power of two is exact in floating point, so nothing may change
    scale = 2.0**exponent
    scaled = [w * scale for w in weights]
    if all(s == 0 or (math.isfinite(s) and s >= 5e-324) for s in scaled) and all(
        Fraction(s) == Fraction(w) * Fraction(scale) for s, w in zip(scaled, weights, strict=True)
    ):
        assert integer_weights(np.array(scaled, dtype=np.float64)) == result


@settings(max_examples=100, deadline=None)
@given(weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=10), factor=st.integers(1, 999))
def test_integer_weights_scale_invariance_integers(weights: list[int], factor: int) -> None:
    """Scaling by any factor (not just powers of two) changes nothing when it is exact."""
    if sum(weights) == 0:
        weights = [*weights, 1]
    base = integer_weights(np.array(weights, dtype=np.float64))
    scaled = integer_weights(np.array([w * factor for w in weights], dtype=np.float64))
    assert base == scaled


def test_integer_weights_ties_go_to_lower_index() -> None:
    assert integer_weights(np.array([1.0, 1.0, 1.0])) == [1431655766, 1431655765, 1431655765]
    assert ref_integer_weights([1.0, 1.0, 1.0]) == [1431655766, 1431655765, 1431655765]


# --------------------------------------------------------------------------- vector generator


def _generate() -> list[dict[str, Any]]:  # pragma: no cover - run by hand to refresh the docs
    """Compute every vector of the document with the reference implementation."""
    out: list[dict[str, Any]] = []
    for seed, label in [
        ("2026", "panel"),
        ("", ""),
        ("Haarlem burgerberaad 2026 — loting", "members"),
        ("0123456789abcdef0123456789abcdef", "legacy"),
    ]:
        v: dict[str, Any] = {"kind": "stream", "seed": seed, "label": label}
        if seed == "2026":
            v["block_0_input"] = RefStream(seed, label).message(0).hex()
        v["first_64_bytes"] = RefStream(seed, label).read(64).hex()
        out.append(v)
    for n in [1, 2, 7, 10, 1000, 2**40 + 3]:
        s = RefStream("2026", "example")
        values = [s.randbelow(n) for _ in range(12)]
        out.append(
            {
                "kind": "randbelow",
                "seed": "2026",
                "label": "example",
                "n": n,
                "values": values,
                "next_8_bytes": s.read(8).hex(),
            }
        )
    ns = [1, 6, 1, 256, 257, 2**16, 3, 1, 2**64 + 1, 5]
    s = RefStream("mixed", "sequence")
    values = [s.randbelow(n) for n in ns]
    out.append(
        {
            "kind": "randbelow",
            "seed": "mixed",
            "label": "sequence",
            "n": ns,
            "values": values,
            "next_8_bytes": s.read(8).hex(),
        }
    )
    items = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
    for count in (4, 10, 0):
        s = RefStream("2026", "sample")
        result = s.sample(items, count)
        out.append(
            {
                "kind": "sample",
                "seed": "2026",
                "label": "sample",
                "items": items,
                "count": count,
                "result": result,
                "next_8_bytes": s.read(8).hex(),
            }
        )
    for weights in ([1, 2, 3, 4], [0, 5, 0, 1], [1431655766, 1431655765, 1431655765]):
        s = RefStream("2026", "weighted")
        out.append(
            {
                "kind": "choose_weighted",
                "seed": "2026",
                "label": "weighted",
                "weights": weights,
                "result": [s.choose_weighted(weights) for _ in range(12)],
            }
        )
    for floats in (
        [0.5, 0.3, 0.2],
        [1 / 3, 1 / 3, 1 / 3],
        [0.1] * 7,
        [2.0, 6.0],
        [0.25, 0.75],
        [1e-12, 1.0, 0.0],
        [0.7, 0.2, 0.1],
    ):
        out.append(
            {
                "kind": "integer_weights",
                "weights": floats,
                "weights_hex": [f.hex() for f in floats],
                "result": ref_integer_weights(floats),
            }
        )
    out.append(_draw_vector())
    out.append(_legacy_vector())
    return out


def _people() -> list[dict[str, Any]]:
    rows = [
        ("10", "young", "f", "A"),
        ("9", "young", "m", "A"),
        ("a2", "old", "f", None),
        ("Z1", "old", "f", None),
        ("é3", "old", "m", "B"),
        ("b4", "young", "m", "B"),
        ("c5", "young", "f", "C"),
        ("c6", "young", "m", "C"),
        ("d7", "old", "m", None),
        ("d8", "young", "m", "D"),
        ("d9", "young", "m", "D"),
    ]
    return [{"id": i, "features": {"gender": g, "age": a}, "household": h} for i, a, g, h in rows]


def _structure_listing(vector: dict[str, Any]) -> None:
    type_units, classes = ref_structure(vector["people"], [q[0] for q in vector["quotas"]])
    vector["features"] = sorted({q[0] for q in vector["quotas"]})
    vector["unit_types"] = [[list(u) for u in us] for us in type_units]
    vector["classes"] = [{"unit_type": t, "vector": list(v), "members": m} for t, v, m in classes]


def _draw_vector() -> dict[str, Any]:  # pragma: no cover
    v: dict[str, Any] = {
        "kind": "draw",
        "people": _people(),
        "quotas": [
            ["gender", "m", 1, 3],
            ["gender", "f", 1, 3],
            ["age", "young", 1, 4],
            ["age", "old", 1, 3],
        ],
        "k": 4,
    }
    _structure_listing(v)
    v["compositions"] = [[0, 1, 0, 1, 1, 0, 1], [1, 0, 1, 0, 1, 1, 0], [2, 1, 0, 0, 0, 0, 1]]
    v["weights"] = [0.2, 0.5, 0.3]
    v["integer_weights"] = ref_integer_weights(v["weights"])
    v["draws"] = []
    for seed in ("2026", "1", "2", "3", "4", "7", "0123456789abcdef0123456789abcdef", "ü"):
        index, members = ref_draw(v, seed)
        v["draws"].append({"seed": seed, "panel_index": index, "selected": members})
    return v


def _legacy_vector() -> dict[str, Any]:  # pragma: no cover
    v: dict[str, Any] = {
        "kind": "legacy",
        "people": _people(),
        "quotas": [
            ["gender", "m", 2, 3],
            ["gender", "f", 1, 2],
            ["age", "young", 2, 3],
            ["age", "old", 1, 2],
        ],
        "k": 4,
    }
    _structure_listing(v)
    v["draws"] = [
        {"seed": seed, "selected": ref_legacy_draw(v, seed)}
        for seed in ("2026", "1", "Haarlem", "seed-4")
    ]
    return v


def _format(vector: dict[str, Any]) -> str:  # pragma: no cover
    """One key per line; long lists of lists or objects one element per line."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in vector.items():
        if isinstance(value, list) and len(value) > 2 and isinstance(value[0], dict | list):
            inner = ",\n".join(f"    {dump(item)}" for item in value)
            lines.append(f"  {dump(key)}: [\n{inner}\n  ]")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


if __name__ == "__main__":  # pragma: no cover
    for vector in _generate():
        print("```json\n" + _format(vector) + "\n```\n")
