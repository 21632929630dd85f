"""Tests of audit bundles against ``docs/audit.md`` and its stand-alone verifier.

The specification's test vectors are the JSON blocks of ``docs/audit.md`` (so the document and
the tests cannot drift apart). Each is checked twice: against the library
(:mod:`sortition.audit`) and against ``docs/verify_bundle.py``, the verifier written from the
document with the standard library alone, which is loaded here by path. The two must also agree
on many random seeds, and reject the same broken bundles naming the same field. Running this
file as a script prints the vectors, freshly computed by the library, in the document's format::

    python tests/test_audit_spec.py
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sortition import Person, Pool, Quotas, audit, find_distribution
from sortition.errors import AuditError
from sortition.lottery import Lottery, round_lottery
from sortition.randomness import SeededStream

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "audit.md"
VERIFIER = ROOT / "docs" / "verify_bundle.py"

Bundle = dict[str, Any]


def _load_verifier() -> ModuleType:
    """``docs/verify_bundle.py`` as a module (it is no package, so load it by path)."""
    spec = importlib.util.spec_from_file_location("verify_bundle", VERIFIER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_bundle"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


vb = _load_verifier()


# --------------------------------------------------------------------------- the example draw

#: The example pool of the document: id, gender, age, household.
ROWS = [
    ("ann", "f", "young", "A"),
    ("bob", "m", "young", "A"),
    ("cas", "m", "old", None),
    ("dé", "f", "old", None),
    ("eva", "f", "young", "B"),
    ("fé", "m", "old", "B"),
    ("gus", "m", "young", None),
    ("hal", "m", "old", "C"),
    ("ida", "f", "old", "C"),
    ("jan", "m", "young", None),
    ("kim", "f", "young", "D"),
    ("Lou", "f", "old", "D"),
]
QUOTAS = [
    ("gender", "f", 2, 2),
    ("gender", "m", 2, 2),
    ("age", "young", 1, 3),
    ("age", "old", 1, 3),
]
KEY = "stadmaken example key"
COUNCIL = {"name": "Burgerraad Voorbeeldstad", "seats": 4, "term": "2027-2028"}
SOURCE = (
    "one ten-sided die rolled on camera at the council meeting of 11 March 2027: 'dice:<digit>'"
)
FALLBACK = (
    "if the roll does not take place: the randomness of drand quicknet round 37349812 "
    "(12 March 2027 12:00 UTC), 64 lower-case hexadecimal digits"
)


def example_pool() -> tuple[Pool, Quotas]:
    """The example pool (real ids, before pseudonymisation) and its quotas."""
    people = tuple(Person(i, {"gender": g, "age": a}, h) for i, g, a, h in ROWS)
    return Pool(people), Quotas.from_rows(QUOTAS)


@cache
def example_lottery(m: int = 10) -> Lottery:
    """The example's lottery over ``m`` panels, on the pseudonymised pool (MAXIMIN, k = 4)."""
    pool, quotas = example_pool()
    pseudonymous, _ = audit.pseudonymise(pool, KEY.encode("utf-8"))
    return round_lottery(find_distribution(pseudonymous, quotas, 4, algorithm="maximin"), m)


def example_bundle(seed: str = "dice:7", withdrawn: int | None = 1) -> Bundle:
    """Commit, reveal with ``seed``, and replace panel member ``withdrawn`` (a position)."""
    bundle = audit.commit(
        example_lottery(),
        software="stadmaken 0.1.0",
        source=SOURCE,
        fallback=FALLBACK,
        council=COUNCIL,
    )
    bundle = audit.reveal(bundle, seed)
    if withdrawn is not None:
        bundle, _ = audit.replace(bundle, bundle["reveal"]["panel"][withdrawn])
    return bundle


# --------------------------------------------------------------------------- the document's vectors


def doc_vectors() -> list[dict[str, Any]]:
    """Every JSON block of docs/audit.md that has a ``"kind"``."""
    blocks = re.findall(r"^```json\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    vectors = [json.loads(b) for b in blocks]
    return [v for v in vectors if isinstance(v, dict) and "kind" in v]


def vectors_of(kind: str) -> list[dict[str, Any]]:
    found = [v for v in doc_vectors() if v["kind"] == kind]
    assert found, f"docs/audit.md has no '{kind}' vector"
    return found


def doc_bundle() -> tuple[Bundle, dict[str, Any]]:
    vector = vectors_of("bundle")[0]
    return copy.deepcopy(vector["bundle"]), vector


def test_doc_has_every_kind_of_vector() -> None:
    kinds = Counter(v["kind"] for v in doc_vectors())
    assert set(kinds) == {
        "canonical",
        "pseudonyms",
        "selection_index",
        "reserve_order",
        "bundle",
        "rejections",
    }


DIGESTS: list[Callable[[object], str]] = [audit.digest, vb.digest]
IMPLEMENTATIONS = ["library", "verifier"]


@pytest.mark.parametrize("digest", DIGESTS, ids=IMPLEMENTATIONS)
def test_canonical_vectors(digest: Callable[[object], str]) -> None:
    for v in vectors_of("canonical"):
        for case in v["cases"]:
            encoded = case["canonical"].encode("utf-8")
            assert encoded.hex() == case["utf8_hex"], case
            assert hashlib.sha256(encoded).hexdigest() == case["sha256"], case
            assert digest(case["value"]) == case["sha256"], case
    for value in (1.5, {"a": [0.0]}):
        with pytest.raises((TypeError, ValueError)):
            digest(value)


def test_canonical_matches_python_json() -> None:
    """The verifier's own encoder gives the bytes of json.dumps(sort_keys, no spaces)."""
    for v in vectors_of("canonical"):
        for case in v["cases"]:
            assert vb.canonical_json(case["value"]) == audit.canonical_json(case["value"])
    text = "".join(chr(c) for c in range(0, 0x300)) + "\u2028\ufeff\U0001f600"
    value = {text: [text, -(10**40), True, None, {}, []], "\x7f": 0, "": ""}
    assert vb.canonical_json(value) == audit.canonical_json(value)


def test_pseudonym_vectors() -> None:
    for v in vectors_of("pseudonyms"):
        key = v["key"].encode("utf-8")
        assert key.hex() == v["key_hex"]
        people = tuple(Person(p["id"], {}, p["household"]) for p in v["people"])
        pool, mapping = audit.pseudonymise(Pool(people), key)
        hmacs = [
            hmac.new(key, mapping[p.id].encode(), hashlib.sha256).hexdigest() for p in pool.people
        ]
        rows = [
            {"pseudonym": p.id, "id": mapping[p.id], "hmac": h, "household": p.household}
            for p, h in zip(pool.people, hmacs, strict=True)
        ]
        assert rows == v["result"]
        assert hmacs == sorted(hmacs)  # numbered in the order of the HMACs


SELECTIONS: list[Callable[[str, int], int]] = [audit.selection_index, vb.selection_index]
RESERVES: list[Callable[..., list[str]]] = [audit.reserve_order, vb.reserve_order]


@pytest.mark.parametrize("select", SELECTIONS, ids=IMPLEMENTATIONS)
def test_selection_index_vectors(select: Callable[[str, int], int]) -> None:
    for v in vectors_of("selection_index"):
        for case in v["cases"]:
            assert select(case["seed"], case["m"]) == case["index"], case
            assert is_dice(case["seed"], case["m"]) == case["dice"]
            if not case["dice"]:
                stream = SeededStream(case["seed"], "lottery").randbelow(case["m"])
                assert stream == case["index"]


@pytest.mark.parametrize("order", RESERVES, ids=IMPLEMENTATIONS)
def test_reserve_order_vectors(order: Callable[..., list[str]]) -> None:
    for v in vectors_of("reserve_order"):
        for case in v["cases"]:
            assert order(case["seed"], case["pool"], case["panel"]) == case["reserves"], case


def test_bundle_vector_verifies() -> None:
    bundle, v = doc_bundle()
    assert audit.digest(bundle["draw"]) == audit.digest(json.loads(json.dumps(bundle["draw"])))
    library = audit.verify(bundle, commitment=v["commitment"])
    verifier = vb.verify(bundle, commitment=v["commitment"])
    for result in (library, verifier):
        assert result.commitment == v["commitment"] == bundle["hashes"]["commitment"]
        assert result.digest == v["digest"]
        assert result.index == v["index"] == bundle["reveal"]["index"]
        assert list(result.panel) == v["panel"]
        assert result.events == 1
    assert audit.field_hashes(bundle["draw"]) == bundle["hashes"]
    assert bundle["events"][0]["previous"] == v["commitment"]


def test_bundle_vector_follows_from_the_draw() -> None:
    """Reveal and replace, run on the committed part of the vector, give the vector back."""
    bundle, v = doc_bundle()
    committed = {**bundle, "reveal": None, "events": []}
    assert audit.digest(committed) == v["committed_digest"]
    assert vb.verify(committed).digest == v["committed_digest"]
    revealed = audit.reveal(committed, bundle["reveal"]["seed"])
    assert revealed["reveal"] == bundle["reveal"]
    replaced, replacement = audit.replace(revealed, bundle["events"][0]["withdrawn"])
    assert replacement == bundle["events"][0]["replacement"]
    assert replaced == bundle


def mutate(bundle: Bundle, case: dict[str, Any]) -> Bundle:
    """Apply a ``rejections`` case: set the value at ``path``; ``rehash`` recomputes hashes."""
    changed = copy.deepcopy(bundle)
    *parents, last = case["path"]
    target: Any = changed
    for step in parents:
        target = target[step]
    target[last] = case["value"]
    if case.get("rehash"):
        changed["hashes"] = audit.field_hashes(changed["draw"])
    return changed


def library_field(bundle: Bundle, **kwargs: Any) -> str | None:
    try:
        audit.verify(bundle, **kwargs)
    except AuditError as exc:
        return exc.field
    return None


def verifier_field(bundle: object, **kwargs: Any) -> str | None:
    try:
        vb.verify(bundle, **kwargs)
    except vb.BundleError as exc:
        return str(exc.field)
    return None


def test_rejection_vectors() -> None:
    bundle, _ = doc_bundle()
    for v in vectors_of("rejections"):
        for case in v["cases"]:
            changed = mutate(bundle, case)
            kwargs = {"commitment": case["commitment"]} if "commitment" in case else {}
            assert library_field(changed, **kwargs) == case["field"], case
            assert verifier_field(changed, **kwargs) == case["field"], case


# --------------------------------------------------------------------------- agreement


def test_selection_index_agrees_on_many_seeds() -> None:
    ms = [1, 2, 7, 10, 12, 100, 999, 1000, 1001, 1024, 2**40 + 3]
    for i in range(1000):
        seed = hashlib.sha256(str(i).encode()).hexdigest()[: 1 + i % 40]
        for m in ms:
            index = audit.selection_index(seed, m)
            assert vb.selection_index(seed, m) == index
            assert 0 <= index < m
    for i in range(1000):
        for seed in (f"dice:{i:03d}", f"dice:{i}"):
            for m in (1000, 999):
                assert vb.selection_index(seed, m) == audit.selection_index(seed, m)
        assert audit.selection_index(f"dice:{i:03d}", 1000) == i


def test_verifier_stream_is_the_library_stream() -> None:
    """The verifier's own stream and randbelow give the bytes of docs/randomness.md."""
    for seed, label in [("2026", "panel"), ("", ""), ("ü", "lottery"), ("dice:471", "reserves")]:
        source = vb.stream(seed, label)
        assert bytes(next(source) for _ in range(64)) == SeededStream(seed, label).read(64)
    ns = [1, 6, 1, 256, 257, 2**16, 3, 1, 2**64 + 1, 5, 1000, 2**40 + 3]
    library, source = SeededStream("mixed", "sequence"), vb.stream("mixed", "sequence")
    assert [vb.randbelow(source, n) for n in ns] == [library.randbelow(n) for n in ns]
    assert bytes(next(source) for _ in range(8)) == library.read(8)


def test_reserve_order_agrees_on_many_seeds() -> None:
    ids = [pid for pid, _, _, _ in ROWS] + ["10", "9", "Z1", "é3", "\U0001f600", "\ufb01"]
    for i in range(1000):
        seed = f"seed {i}"
        panel = ids[i % 7 : i % 7 + i % 5]
        expected = audit.reserve_order(seed, ids, panel)
        assert vb.reserve_order(seed, ids, panel) == expected
        assert sorted(expected) == sorted(set(ids) - set(panel))


def test_verifier_agrees_on_many_revealed_bundles() -> None:
    committed = audit.commit(example_lottery(), software="stadmaken 0.1.0", source="beacon")
    assert audit.reveal(committed, "beacon value 0") == {
        **committed,
        "reveal": {
            "seed": "beacon value 0",
            "index": audit.selection_index("beacon value 0", 10),
            "panel": committed["draw"]["panels"][audit.selection_index("beacon value 0", 10)],
            "reserves": audit.reserve_order(
                "beacon value 0",
                [p["id"] for p in committed["draw"]["pool"]["people"]],
                committed["draw"]["panels"][audit.selection_index("beacon value 0", 10)],
            ),
        },
    }
    ids = [p["id"] for p in committed["draw"]["pool"]["people"]]
    seen = set()
    no_replacement = 0
    for i in range(1000):
        seed = f"beacon value {i}"
        index = audit.selection_index(seed, 10)
        panel = committed["draw"]["panels"][index]
        reserves = audit.reserve_order(seed, ids, panel)
        # what audit.reveal does, without its verify (the replacement below verifies it)
        reveal = {"seed": seed, "index": index, "panel": panel, "reserves": reserves}
        bundle = {**committed, "reveal": reveal}
        withdrawn = bundle["reveal"]["panel"][i % 4]
        bundle, _ = audit.replace(bundle, withdrawn)
        if i % 10 == 0:  # a second replacement, when someone can take the seat
            try:
                bundle, _ = audit.replace(bundle, audit.current_panel(bundle)[(i // 10) % 4])
            except AuditError as exc:
                assert exc.code == "no-replacement"
                no_replacement += 1
        library = audit.verify(bundle)
        verifier = vb.verify(bundle)
        assert verifier.index == library.index
        assert verifier.panel == library.panel
        assert verifier.digest == library.digest
        assert verifier.commitment == library.commitment
        assert verifier.events == library.events
        assert abs(float(verifier.loss) - library.loss) < 1e-12
        seen.add(library.index)
    assert seen == set(range(10))
    assert no_replacement < 50


def leaves(value: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every text and integer in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield path


def changed_leaf(value: str | int) -> str | int:
    if isinstance(value, int):
        return value + 1
    if re.fullmatch("P[0-9]{4}", value):  # another pool member, so that it stays plausible
        return f"P{int(value[1:]) % 12 + 1:04d}"
    return value[:-1] + ("0" if value[-1:] != "0" else "1")


def test_both_reject_every_changed_value_naming_the_same_field() -> None:
    """Change each text and integer of a bundle, with and without recomputing the hashes."""
    bundle = example_bundle()
    fields: Counter[str] = Counter()
    for path in leaves(bundle):
        target: Any = bundle
        for step in path:
            target = target[step]
        for rehash in (False, True) if path[0] != "hashes" else (False,):
            case = {"path": list(path), "value": changed_leaf(target), "rehash": rehash}
            changed = mutate(bundle, case)
            field = library_field(changed)
            assert verifier_field(changed) == field, case
            assert field is not None, case  # a changed commitment breaks the event chain
            fields[field] += 1
    assert {"draw.panels", "reveal.index", "hashes.commitment", "events[0].hash"} <= set(fields)


def test_both_reject_structural_damage_naming_the_same_field() -> None:
    bundle = example_bundle()
    damaged: list[tuple[str, Callable[[Bundle], object]]] = [
        ("format", lambda b: b.pop("format")),
        ("reveal", lambda b: b.pop("reveal")),
        ("extra", lambda b: b.update(extra=1)),
        ("draw.k", lambda b: b["draw"].pop("k")),
        ("draw.colour", lambda b: b["draw"].update(colour="red")),
        ("hashes.colour", lambda b: b["hashes"].update(colour="00")),
        ("hashes.k", lambda b: b["hashes"].pop("k")),
        ("events", lambda b: b.update(events={})),
        ("events", lambda b: b.update(reveal=None)),
        ("reveal", lambda b: b["reveal"].pop("reserves")),
        ("events[1]", lambda b: b["events"].append({"type": "withdrawal"})),
        ("reveal.index", lambda b: b["reveal"].update(index="7")),
    ]
    for field, damage in damaged:
        changed = copy.deepcopy(bundle)
        damage(changed)
        assert library_field(changed) == field
        assert verifier_field(changed) == field
    assert verifier_field([bundle]) == "bundle"


def test_council_link_and_published_commitment() -> None:
    first = example_bundle()
    second = audit.commit(
        example_lottery(), software="stadmaken 0.1.0", source="beacon", previous=audit.digest(first)
    )
    commitment = second["hashes"]["commitment"]
    assert audit.verify(second, previous=first, commitment=commitment).index is None
    assert vb.verify(second, previous=first, commitment=commitment).index is None
    other = example_bundle(seed="dice:3")
    assert library_field(second, previous=other) == "draw.previous"
    assert verifier_field(second, previous=other) == "draw.previous"
    assert library_field(second, commitment="0" * 64) == "hashes.commitment"
    assert verifier_field(second, commitment="0" * 64) == "hashes.commitment"


def test_verifier_is_stricter_than_the_library_on_types() -> None:
    """Cases the library lets through or crashes on (docs/audit.md, end of section 13)."""
    bundle = example_bundle()
    assert verifier_field({**bundle, "version": True}) == "version"
    assert verifier_field({**bundle, "version": 1.0}) == "version"
    changed = copy.deepcopy(bundle)
    changed["reveal"]["seed"] = "\ud800"
    assert verifier_field(changed) == "reveal.seed"
    changed = copy.deepcopy(bundle)
    changed["events"][0]["withdrawn"] = ["P0006"]
    assert verifier_field(changed) == "events[0].withdrawn"


def _no_one_can_replace() -> Bundle:
    """A revealed bundle with an event whose replacement is null: nobody could take the seat."""
    pool = Pool(tuple(Person(f"P{i}", {"g": g}) for i, g in enumerate("ffmmm")))
    quotas = Quotas.from_rows([("g", "f", 2, 2), ("g", "m", 2, 2)])
    lottery = round_lottery(find_distribution(pool, quotas, 4, algorithm="maximin"), 10)
    bundle = audit.reveal(audit.commit(lottery, software="x", source="s"), "1")
    withdrawn = next(p for p in bundle["reveal"]["panel"] if p in {"P0", "P1"})
    event = {"type": "replacement", "withdrawn": withdrawn, "replacement": None}
    event["previous"] = bundle["hashes"]["commitment"]
    event["hash"] = audit.digest(event)
    return {**bundle, "events": [event]}


def _rehashed(bundle: Bundle) -> Bundle:
    return {**bundle, "reveal": None, "events": [], "hashes": audit.field_hashes(bundle["draw"])}


def _lenient_probability(bundle: Bundle) -> Bundle:
    changed = copy.deepcopy(bundle)
    changed["draw"]["probabilities"]["P0001"] = " \u0660." + "\u0663" * 12 + " "
    return _rehashed(changed)


def _set(path: tuple[Any, ...], value: object) -> Callable[[Bundle], Bundle]:
    def change(bundle: Bundle) -> Bundle:
        return mutate(bundle, {"path": list(path), "value": value})

    return change


#: Malformed values both implementations must reject with an AuditError (audit.md, 13).
LIBRARY_GAPS: dict[str, Callable[[Bundle], Bundle]] = {
    "version true": _set(("version",), True),
    "integer as float": _set(("draw", "k"), 4.0),
    "lone surrogate": _set(("reveal", "seed"), "\ud800"),
    "withdrawn not text": _set(("events", 0, "withdrawn"), ["P0005"]),
    "non-ASCII probability": _lenient_probability,
    "replacement null": lambda _: _no_one_can_replace(),
}


@pytest.mark.parametrize("case", sorted(LIBRARY_GAPS))
def test_library_rejects_malformed_values(case: str) -> None:
    changed = LIBRARY_GAPS[case](example_bundle())
    assert verifier_field(changed) is not None
    with pytest.raises(AuditError):
        audit.verify(changed)


@pytest.mark.parametrize("text", ["1" * 5000, "[" * 100_000])
def test_library_loader_rejects_unusable_json(text: str, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(vb.UnreadableError):
        vb.load(str(path))
    with pytest.raises(AuditError):
        audit.load_bundle(path)


# --------------------------------------------------------------------------- command line


def run_verifier(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_command_line_exit_codes(tmp_path: Path) -> None:
    bundle, v = doc_bundle()
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle, indent=1, ensure_ascii=False), encoding="utf-8")
    done = run_verifier(str(good), "--commitment", v["commitment"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert v["digest"] in done.stdout

    bad = tmp_path / "mutated.json"
    bad.write_text(json.dumps(mutate(bundle, {"path": ["reveal", "seed"], "value": "dice:8"})))
    done = run_verifier(str(bad))
    assert done.returncode == 1
    assert done.stdout.startswith("FAIL reveal.index: ")
    assert "Traceback" not in done.stderr

    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(good.read_bytes()[:500])
    done = run_verifier(str(truncated))
    assert done.returncode == 2
    assert done.stderr.startswith("ERROR ")
    assert "Traceback" not in done.stderr


def test_loader_rejects_what_is_not_plain_json(tmp_path: Path) -> None:
    """In-process (no subprocess): duplicate keys, NaN, floats, a file that is not there."""
    path = tmp_path / "b.json"
    path.write_text('{"format": 1, "format": 2}', encoding="utf-8")
    with pytest.raises(vb.BundleError):
        vb.load(str(path))
    path.write_text('{"format": "stadmaken-audit", "version": NaN}', encoding="utf-8")
    assert verifier_field(vb.load(str(path))) == "version"
    path.write_text('{"format": "stadmaken-audit", "version": 1, "draw": {"k": 4e0}}')
    assert verifier_field(vb.load(str(path))) == "draw.k"
    path.write_text("1" * 5000, encoding="utf-8")
    with pytest.raises(vb.UnreadableError):
        vb.load(str(path))
    with pytest.raises(vb.UnreadableError):
        vb.load(str(tmp_path / "missing.json"))
    bundle = example_bundle()
    bundle["draw"]["k"] = 4.0
    assert verifier_field(bundle) == "draw.k"


# --------------------------------------------------------------------------- vector generator


def _generate() -> list[dict[str, Any]]:  # pragma: no cover - run by hand to refresh the docs
    """Compute every vector of the document with the library."""
    values: list[Any] = [
        None,
        True,
        0,
        -12,
        2**70,
        "",
        "Zoë",
        'a"b\\c/d\ne\tf\x01\x1fg\x7f\u2028',
        [],
        {},
        [1, "1", [None, False]],
        {"b": 1, "a": {"d": [], "c": "x"}},
        {"é": 1, "z": 2, "Z": 3, "\ufb01": 4, "\U0001f600": 5, "": 6, "10": 7, "9": 8},
    ]
    cases = []
    for value in values:
        encoded = audit.canonical_json(value)
        cases.append(
            {
                "value": value,
                "canonical": encoded.decode("utf-8"),
                "utf8_hex": encoded.hex(),
                "sha256": hashlib.sha256(encoded).hexdigest(),
            }
        )
    out: list[dict[str, Any]] = [{"kind": "canonical", "cases": cases}]

    pool, _ = example_pool()
    key = KEY.encode("utf-8")
    pseudonymous, mapping = audit.pseudonymise(pool, key)
    out.append(
        {
            "kind": "pseudonyms",
            "key": KEY,
            "key_hex": key.hex(),
            "people": [{"id": p.id, "household": p.household} for p in pool.people],
            "result": [
                {
                    "pseudonym": p.id,
                    "id": mapping[p.id],
                    "hmac": hmac.new(key, mapping[p.id].encode(), hashlib.sha256).hexdigest(),
                    "household": p.household,
                }
                for p in pseudonymous.people
            ],
        }
    )

    seeds = [
        ("dice:471", 1000),
        ("dice:047", 1000),
        ("dice:7", 10),
        ("dice:4711", 10000),
        ("dice:47", 1000),
        ("dice:0471", 1000),
        ("dice:471", 999),
        ("DICE:471", 1000),
        ("dice:471 ", 1000),
        ("dice:\u0664\u0667\u0661", 1000),
        ("dice:", 1),
        ("2026", 1),
        ("2026", 10),
        ("2026", 12),
        ("2026", 999),
        ("2026", 1000),
        ("", 7),
        ("ü", 1000),
        ("a9b4e0f6c2d8e1f3a5b7c9d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0", 1000),
        ("2026", 2**40 + 3),
    ]
    out.append(
        {
            "kind": "selection_index",
            "cases": [
                {
                    "seed": seed,
                    "m": m,
                    "index": audit.selection_index(seed, m),
                    "dice": is_dice(seed, m),
                }
                for seed, m in seeds
            ],
        }
    )

    bundle = example_bundle()
    ids = [p["id"] for p in bundle["draw"]["pool"]["people"]]
    odd = ["10", "9", "a2", "Z1", "é3", "b4", "c5"]
    reserve_cases = [
        (bundle["reveal"]["seed"], ids, bundle["reveal"]["panel"]),
        ("2026", ids, bundle["reveal"]["panel"]),
        ("2026", odd, ["9", "b4"]),
        ("2026", odd, []),
        ("2026", odd, odd),
    ]
    out.append(
        {
            "kind": "reserve_order",
            "cases": [
                {
                    "seed": seed,
                    "pool": pool_ids,
                    "panel": panel,
                    "reserves": audit.reserve_order(seed, pool_ids, panel),
                }
                for seed, pool_ids, panel in reserve_cases
            ],
        }
    )

    verified = audit.verify(bundle)
    out.append(
        {
            "kind": "bundle",
            "commitment": verified.commitment,
            "committed_digest": audit.digest({**bundle, "reveal": None, "events": []}),
            "digest": verified.digest,
            "index": verified.index,
            "panel": list(verified.panel),
            "bundle": bundle,
        }
    )

    rejections: list[dict[str, Any]] = [
        {"path": ["reveal", "seed"], "value": "dice:8"},
        {"path": ["reveal", "index"], "value": 3},
        {"path": ["reveal", "panel", 0], "value": "P0005"},
        {"path": ["reveal", "reserves", 0], "value": "P0005"},
        {"path": ["draw", "panels", 0, 0], "value": "P0002"},
        {"path": ["draw", "k"], "value": 5},
        {"path": ["hashes", "k"], "value": "0" * 64},
        {"path": ["hashes", "commitment"], "value": "0" * 64},
        {"path": ["events", 0, "previous"], "value": "0" * 64},
        {"path": ["events", 0, "withdrawn"], "value": "P0001"},
        {"path": ["events", 0, "replacement"], "value": "P0012"},
        {"path": ["events", 0, "hash"], "value": "0" * 64},
        {"path": ["version"], "value": 2},
        {"path": ["format"], "value": "stadmaken-audit-v1"},
        {"path": ["draw", "software"], "value": "stadmaken 0.2.0", "rehash": True},
        {"path": ["draw", "panels", 0, 0], "value": "P0002", "rehash": True},
        {"path": ["draw", "selections", "P0001"], "value": 5, "rehash": True},
        {"path": ["draw", "probabilities", "P0001"], "value": "0.4", "rehash": True},
        {"path": ["draw", "quotas", 0, "max"], "value": 0, "rehash": True},
        {"path": ["draw", "previous"], "value": "0" * 63, "rehash": True},
        {
            "path": ["draw", "software"],
            "value": "stadmaken 0.2.0",
            "rehash": True,
            "commitment": verified.commitment,
        },
    ]
    for case in rejections:
        kwargs = {"commitment": case["commitment"]} if "commitment" in case else {}
        case["field"] = library_field(mutate(bundle, case), **kwargs)
    out.append({"kind": "rejections", "cases": rejections})
    return out


def is_dice(seed: str, m: int) -> bool:
    """Whether the dice rule applies (written out again here, for the vectors)."""
    match = re.fullmatch("dice:([0-9]+)", seed)
    return match is not None and m == 10 ** len(match.group(1))


def _pretty(value: Any, indent: int = 0, ascii_only: bool = False) -> str:  # pragma: no cover
    """JSON with lists of texts and short lists and objects on one line."""
    flat = json.dumps(value, ensure_ascii=ascii_only)
    scalars = isinstance(value, list) and all(isinstance(v, str | int) for v in value)
    if len(flat) + indent <= 96 or scalars or not value or not isinstance(value, dict | list):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + _pretty(item, indent + 2, ascii_only) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [
        pad + json.dumps(k, ensure_ascii=ascii_only) + ": " + _pretty(v, indent + 2, ascii_only)
        for k, v in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


if __name__ == "__main__":  # pragma: no cover
    for vector in _generate():
        print("```json\n" + _pretty(vector, ascii_only=vector["kind"] == "canonical") + "\n```\n")
