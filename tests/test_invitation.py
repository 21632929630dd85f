"""Tests of the invitation stage (``sortition.invitation``, ``service.invite_cli``).

The test vectors are the JSON blocks of ``docs/invitation.md``; they are checked against the
library and against the *reference implementation* below, written from that document with
nothing but ``hashlib``, ``hmac``, ``json`` and ``fractions`` (it imports nothing from
:mod:`sortition`). Running this file as a script prints freshly computed vectors from the
reference implementation, in the document's format::

    python tests/test_invitation.py

The commands are called through a small typer app built here (they are not registered in
``service.cli`` by this module), with ``CliRunner`` from inside ``tmp_path``, so messages name
short relative paths.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
import random
import re
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from service.invite_cli import invite_command, invite_reveal_command
from sortition.audit import canonical_json, field_hashes
from sortition.errors import AuditError, InputError
from sortition.invitation import (
    INVITATION_FIELDS,
    Address,
    Register,
    allocate,
    commit_invitation,
    invited_addresses,
    pseudonymise_register,
    read_population,
    read_register,
    reveal_invitation,
    verify_invitation,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "invitation.md"
KEY = bytes(range(32))
WIJKEN = ("Centrum", "Noord", "Oost", "Schalkwijk", "Zuid-West")

# --------------------------------------------------------------------------- reference
# Written from docs/invitation.md (and docs/randomness.md for the stream) alone; it must not
# import anything from sortition.


class RefStream:
    """SHA-256 in counter mode over (seed, label), read in order."""

    def __init__(self, seed: str, label: str) -> None:
        s, lab = seed.encode("utf-8"), label.encode("utf-8")
        self.prefix = b"stadmaken-v1\x00" + len(s).to_bytes(4, "big") + s
        self.prefix += len(lab).to_bytes(4, "big") + lab
        self.counter, self.pending = 0, b""

    def read(self, count: int) -> bytes:
        while len(self.pending) < count:
            self.pending += hashlib.sha256(self.prefix + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        out, self.pending = self.pending[:count], self.pending[count:]
        return out

    def randbelow(self, n: int) -> int:
        if n == 1:
            return 0
        bits = (n - 1).bit_length()
        while True:
            value = int.from_bytes(self.read((bits + 7) // 8), "big") % (1 << bits)
            if value < n:
                return value

    def sample(self, items: Sequence[str], count: int) -> list[str]:
        a = list(items)
        for j in range(count):
            r = self.randbelow(len(a) - j)
            a[j], a[j + r] = a[j + r], a[j]
        return a[:count]


def ref_allocate(
    population: Mapping[str, int], count: int, capacity: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Capped largest-remainder apportionment with exact fractions; ValueError if impossible."""
    cap = dict(population if capacity is None else capacity)
    if count > sum(cap.values()):
        raise ValueError("count too large")
    seats: dict[str, int] = {}
    while True:
        rest = [w for w in population if w not in seats]
        if not rest:
            break
        left = count - sum(seats.values())
        total = sum(population[w] for w in rest)
        if total == 0:
            if left:
                raise ValueError("population too small")
            seats.update({w: 0 for w in rest})
            break
        quota = {w: Fraction(left * population[w], total) for w in rest}
        capped = [w for w in rest if quota[w] >= cap[w]]
        if capped:
            seats.update({w: cap[w] for w in capped})
            continue
        share = {w: math.floor(quota[w]) for w in rest}
        spare = left - sum(share.values())
        for w in sorted(rest, key=lambda w: (share[w] - quota[w], w))[:spare]:
            share[w] += 1
        seats.update(share)
        break
    return {w: seats[w] for w in sorted(seats)}


def ref_pseudonyms(ids: Sequence[str], key: bytes) -> dict[str, str]:
    """Pseudonym -> id: ids ordered by HMAC-SHA256(key, utf8(id)), numbered A0001..."""
    ordered = sorted(ids, key=lambda i: (hmac.new(key, i.encode(), hashlib.sha256).digest(), i))
    width = max(4, len(str(len(ordered))))
    return {f"A{n:0{width}d}": i for n, i in enumerate(ordered, start=1)}


def ref_digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ref_draw(vector: Mapping[str, Any]) -> dict[str, Any]:
    """The ``draw`` of an invitation vector's bundle."""
    rows = vector["addresses"]
    wijk_of = {row["id"]: row["wijk"] for row in rows}
    mapping = ref_pseudonyms([row["id"] for row in rows], bytes.fromhex(vector["key"]))
    counts = dict(sorted(Counter(row["wijk"] for row in rows).items()))
    population = vector["population"] if vector["population"] is not None else counts
    return {
        "allocation": ref_allocate(population, vector["count"], counts),
        "count": vector["count"],
        "kind": "invitation",
        "population": dict(sorted(population.items())),
        "previous": None,
        "randomness": {"source": vector["source"], "fallback": vector["fallback"]},
        "register": [{"id": p, "wijk": wijk_of[i]} for p, i in sorted(mapping.items())],
        "software": vector["software"],
    }


def ref_commitment(draw: Mapping[str, Any]) -> str:
    return ref_digest({name: ref_digest(value) for name, value in draw.items()})


def ref_invited(draw: Mapping[str, Any], seed: str) -> dict[str, list[str]]:
    by_wijk: dict[str, list[str]] = {}
    for address in draw["register"]:
        by_wijk.setdefault(address["wijk"], []).append(address["id"])
    return {
        w: RefStream(seed, "invite:" + w).sample(sorted(by_wijk[w]), draw["allocation"][w])
        for w in sorted(by_wijk)
    }


# --------------------------------------------------------------------------- the document's vectors


def doc_vectors() -> list[dict[str, Any]]:
    """Every JSON block of docs/invitation.md that has a ``"kind"``."""
    blocks = re.findall(r"^```json\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    vectors = [json.loads(b) for b in blocks]
    return [v for v in vectors if isinstance(v, dict) and "kind" in v]


def vectors_of(kind: str) -> list[dict[str, Any]]:
    found = [v for v in doc_vectors() if v["kind"] == kind]
    assert found, f"docs/invitation.md has no '{kind}' vector"
    return found


def test_doc_has_every_kind_of_vector() -> None:
    kinds = Counter(v["kind"] for v in doc_vectors())
    assert set(kinds) == {"allocation", "pseudonyms", "invitation"}
    assert kinds["allocation"] >= 4 and kinds["invitation"] >= 2


@pytest.mark.parametrize("implementation", ["library", "reference"])
def test_allocation_vectors(implementation: str) -> None:
    for v in vectors_of("allocation"):
        if implementation == "library":
            result = allocate(v["population"], v["count"], capacity=v["capacity"])
        else:
            result = ref_allocate(v["population"], v["count"], v["capacity"])
        assert result == v["allocation"], v
        assert list(result) == list(v["allocation"])  # wijken sorted by code point


@pytest.mark.parametrize("implementation", ["library", "reference"])
def test_pseudonym_vectors(implementation: str) -> None:
    for v in vectors_of("pseudonyms"):
        key = bytes.fromhex(v["key"])
        if implementation == "library":
            register = Register(tuple(Address(i, "W") for i in v["ids"]))
            mapping = pseudonymise_register(register, key)[1]
        else:
            mapping = ref_pseudonyms(v["ids"], key)
        assert mapping == v["pseudonyms"]


def _vector_bundle(v: Mapping[str, Any]) -> dict[str, Any]:
    register = Register(tuple(Address(a["id"], a["wijk"]) for a in v["addresses"]))
    bundle, _ = commit_invitation(
        register,
        v["count"],
        key=bytes.fromhex(v["key"]),
        software=v["software"],
        source=v["source"],
        fallback=v["fallback"],
        population=v["population"],
    )
    return bundle


@pytest.mark.parametrize("implementation", ["library", "reference"])
def test_invitation_vectors(implementation: str) -> None:
    for v in vectors_of("invitation"):
        if implementation == "library":
            bundle = _vector_bundle(v)
            assert bundle["draw"] == v["draw"]
            assert bundle["hashes"]["commitment"] == v["commitment"]
            for reveal in v["reveals"]:
                revealed = reveal_invitation(bundle, reveal["seed"])
                assert revealed["reveal"]["invited"] == reveal["invited"]
                verify_invitation(revealed, commitment=v["commitment"])
        else:
            draw = ref_draw(v)
            assert draw == v["draw"]
            assert ref_commitment(draw) == v["commitment"]
            for reveal in v["reveals"]:
                assert ref_invited(draw, reveal["seed"]) == reveal["invited"]


# --------------------------------------------------------------------------- allocation

wijk_names = st.text(alphabet="abcZé-ü ", min_size=1, max_size=4)
populations = st.dictionaries(wijk_names, st.integers(0, 60), min_size=1, max_size=7)


def _shuffled(mapping: Mapping[str, int], seed: int) -> dict[str, int]:
    items = list(mapping.items())
    random.Random(seed).shuffle(items)
    return dict(items)


@settings(database=None, deadline=None, max_examples=300)
@given(population=populations, fraction=st.fractions(0, 1), order=st.integers(0, 10**6))
def test_allocation_by_addresses(
    population: dict[str, int], fraction: Fraction, order: int
) -> None:
    """Population = addresses: sums to count, within 1 of the quota, never above the addresses."""
    total = sum(population.values())
    count = math.floor(fraction * total)
    if total == 0:
        count = 0
    result = allocate(population, count)
    assert list(result) == sorted(population)
    assert sum(result.values()) == count
    for wijk, seats in result.items():
        assert seats <= population[wijk]
        if total:
            assert abs(seats - Fraction(count * population[wijk], total)) < 1
    assert allocate(_shuffled(population, order), count) == result
    assert result == ref_allocate(population, count)


@settings(database=None, deadline=None, max_examples=300)
@given(
    data=st.data(),
    population=populations,
    count=st.integers(0, 80),
    order=st.integers(0, 10**6),
)
def test_allocation_with_a_population(
    data: st.DataObject, population: dict[str, int], count: int, order: int
) -> None:
    """Population and addresses differ: capped Hamilton, matching the reference."""
    capacity = {w: data.draw(st.integers(0, 20), label=w) for w in population}
    try:
        expected: dict[str, int] | None = ref_allocate(population, count, capacity)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InputError) as caught:
            allocate(population, count, capacity=capacity)
        assert caught.value.code in {"count-too-large", "population-too-small"}
        return
    result = allocate(population, count, capacity=capacity)
    assert result == expected
    assert sum(result.values()) == count
    total = sum(population.values())
    for wijk, seats in result.items():
        assert seats <= capacity[wijk]
        if total:  # capping only frees invitations for the others
            assert seats >= min(capacity[wijk], count * population[wijk] // total)
    shuffled = _shuffled(population, order)
    assert allocate(shuffled, count, capacity=_shuffled(capacity, order + 1)) == result


def test_allocation_rejects_bad_numbers() -> None:
    with pytest.raises(InputError, match="0 or more"):
        allocate({"a": 1}, -1)
    with pytest.raises(InputError, match="wijk 'a'"):
        allocate({"a": -1, "b": 3}, 1)
    with pytest.raises(InputError, match="wijk 'a'"):
        allocate({"a": True, "b": 3}, 1)
    with pytest.raises(ValueError, match="same wijken"):
        allocate({"a": 1}, 1, capacity={"b": 1})


# --------------------------------------------------------------------------- files and bundles


def make_register(n: int = 120, seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [
        {
            "id": f"0392{i:012d}",
            "straat": f"Geheimstraat {i}",
            "wijk": rng.choice(WIJKEN),
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: Sequence[Mapping[str, str]], header: Sequence[str]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(name, "") for name in header])
    return path


def write_register(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    return write_csv(path, rows, ("id", "straat", "wijk"))


def committed(
    rows: Sequence[Mapping[str, str]] | None = None, count: int = 12
) -> tuple[dict[str, Any], dict[str, str]]:
    register = Register(tuple(Address(r["id"], r["wijk"]) for r in rows or make_register()))
    return commit_invitation(register, count, key=KEY, software="stadmaken test", source="dice")


def test_read_register_and_population(tmp_path: Path) -> None:
    rows = make_register(20)
    path = tmp_path / "r.csv"
    path.write_text(
        "\ufeffID;Straat;Wijk\n" + "".join(f"{r['id']};x;{r['wijk']}\n" for r in rows) + "\n;;\n",
        encoding="utf-8",
    )
    register = read_register(path)
    assert [(a.id, a.wijk) for a in register.addresses] == [(r["id"], r["wijk"]) for r in rows]
    counts = register.counts()
    assert list(counts) == sorted(counts) and sum(counts.values()) == 20
    population_file = tmp_path / "p.csv"
    population_file.write_text(
        "wijk,population\n" + "".join(f"{w.upper()},{i}\n" for i, w in enumerate(counts)),
        encoding="utf-8",
    )
    assert read_population(population_file, register) == {w: i for i, w in enumerate(counts)}


def test_bundle_layout_and_mapping() -> None:
    bundle, mapping = committed()
    assert list(bundle) == ["format", "version", "draw", "hashes", "reveal", "events"]
    assert bundle["format"] == "stadmaken-audit" and bundle["version"] == 1
    assert sorted(bundle["draw"]) == list(INVITATION_FIELDS)
    assert bundle["hashes"] == field_hashes(bundle["draw"])
    assert bundle["reveal"] is None and bundle["events"] == []
    register = bundle["draw"]["register"]
    assert [a["id"] for a in register] == [f"A{n:04d}" for n in range(1, 121)]
    rows = {r["id"]: r["wijk"] for r in make_register()}
    assert {p: rows[i] for p, i in mapping.items()} == {a["id"]: a["wijk"] for a in register}
    text = canonical_json(bundle).decode()
    assert "Geheim" not in text and "0392" not in text
    verified = verify_invitation(bundle)
    assert verified.count == 12 and verified.addresses == 120 and verified.invited is None
    assert verified.commitment == bundle["hashes"]["commitment"]


def test_reveal_draws_the_allocation_in_every_wijk() -> None:
    bundle, _ = committed()
    revealed = reveal_invitation(bundle, "2026")
    assert bundle["reveal"] is None  # the input is not changed
    invited = revealed["reveal"]["invited"]
    wijk_of = {a["id"]: a["wijk"] for a in bundle["draw"]["register"]}
    assert {w: len(ids) for w, ids in invited.items()} == bundle["draw"]["allocation"]
    for wijk, ids in invited.items():
        assert len(set(ids)) == len(ids) and all(wijk_of[i] == wijk for i in ids)
    assert verify_invitation(revealed).invited == invited
    other = reveal_invitation(bundle, "2027")["reveal"]["invited"]
    assert other != invited
    with pytest.raises(AuditError, match="already revealed") as caught:
        reveal_invitation(revealed, "2026")
    assert caught.value.field == "reveal"


def test_a_larger_count_extends_each_wijks_sample() -> None:
    """Partial Fisher-Yates: n addresses are the first n of n + 1 (per wijk stream)."""
    register = [{"id": f"A{i:04d}", "wijk": "W"} for i in range(1, 30)]
    small = invited_addresses(register, {"W": 5}, "seed")["W"]
    large = invited_addresses(register, {"W": 9}, "seed")["W"]
    assert large[:5] == small


def test_wrong_kind_is_named() -> None:
    bundle, _ = committed()
    bundle["draw"]["kind"] = "panel"
    with pytest.raises(AuditError) as caught:
        verify_invitation(bundle)
    assert caught.value.field == "draw.kind" and caught.value.code == "wrong-kind"


# --------------------------------------------------------------------------- verification


def _rehash(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["hashes"] = field_hashes(bundle["draw"])
    return bundle


def _swap_first_invited(b: dict[str, Any]) -> None:
    """Replace an invited address by an address of the same wijk that was not invited."""
    invited = b["reveal"]["invited"]
    wijk = next(w for w, ids in invited.items() if ids)
    chosen = set(invited[wijk])
    register = b["draw"]["register"]
    invited[wijk][0] = next(
        a["id"] for a in register if a["wijk"] == wijk and a["id"] not in chosen
    )


Mutation = Callable[[dict[str, Any]], object]


def _set(field: str, value: object) -> Mutation:
    return lambda b: b["draw"].__setitem__(field, value)


def _first_two_wijken(b: dict[str, Any]) -> None:
    allocation = b["draw"]["allocation"]
    first, second = sorted(allocation)[:2]
    allocation[first] += 1
    allocation[second] -= 1


#: name -> (the field of draw it changes, the field named once the hashes are recomputed, how)
MUTATIONS: dict[str, tuple[str, str, Mutation]] = {
    "allocation": ("allocation", "draw.allocation", _first_two_wijken),
    "allocation as text": (
        "allocation",
        "draw.allocation",
        lambda b: b["draw"]["allocation"].update(
            {w: str(n) for w, n in b["draw"]["allocation"].items()}
        ),
    ),
    "count": ("count", "draw.allocation", _set("count", 13)),
    "count too large": ("count", "draw.count", _set("count", 121)),
    "count negative": ("count", "draw.count", _set("count", -1)),
    "count as text": ("count", "draw.count", _set("count", "12")),
    "kind": ("kind", "draw.kind", _set("kind", "panel")),
    "population": (
        "population",
        "draw.allocation",
        lambda b: b["draw"]["population"].__setitem__("Centrum", 1000),
    ),
    "population missing a wijk": (
        "population",
        "draw.population",
        lambda b: b["draw"]["population"].pop("Oost"),
    ),
    "population not a number": (
        "population",
        "draw.population",
        lambda b: b["draw"]["population"].__setitem__("Oost", "12"),
    ),
    "previous": ("previous", "draw.previous", _set("previous", "abc")),
    "randomness": ("randomness", "draw.randomness", _set("randomness", {"source": ""})),
    "register id": (
        "register",
        "draw.register[0].id",
        lambda b: b["draw"]["register"][0].__setitem__("id", "A9999"),
    ),
    "register wijk": (
        "register",
        "draw.population",
        lambda b: b["draw"]["register"][0].__setitem__("wijk", "Nieuw"),
    ),
    "register empty wijk": (
        "register",
        "draw.register[3]",
        lambda b: b["draw"]["register"][3].__setitem__("wijk", ""),
    ),
    "register removed": ("register", "draw.register", lambda b: b["draw"]["register"].clear()),
    "software": ("software", "draw.software", _set("software", 1)),
}


def test_every_draw_field_has_a_mutation() -> None:
    assert {field for field, _, _ in MUTATIONS.values()} == set(INVITATION_FIELDS)


@pytest.mark.parametrize("name", list(MUTATIONS))
@pytest.mark.parametrize("rehashed", [False, True])
def test_a_mutated_draw_field_is_named(name: str, rehashed: bool) -> None:
    field, named, mutate = MUTATIONS[name]
    forged = reveal_invitation(committed()[0], "2026")
    verify_invitation(forged)
    mutate(forged)
    if rehashed:  # a forger who also recomputes the hashes: the content checks catch it
        _rehash(forged)
    with pytest.raises(AuditError) as caught:
        verify_invitation(forged)
    expected = named if rehashed else f"draw.{field}"
    assert caught.value.field == expected, (name, caught.value.describe())


def test_true_is_not_one() -> None:
    bundle = committed(count=5)[0]
    assert set(bundle["draw"]["allocation"].values()) == {1}
    bundle["draw"]["allocation"] = {w: True for w in bundle["draw"]["allocation"]}
    with pytest.raises(AuditError) as caught:
        verify_invitation(_rehash(bundle))
    assert caught.value.field == "draw.allocation"


@pytest.mark.parametrize(
    ("field", "mutate"),
    [
        ("reveal.invited", _swap_first_invited),
        ("reveal.invited", lambda b: b["reveal"].__setitem__("seed", "2027")),
        (
            "reveal.invited",
            lambda b: b["reveal"]["invited"].__setitem__(
                "Oost", list(reversed(b["reveal"]["invited"]["Oost"]))
            ),
        ),
        ("reveal.invited", lambda b: b["reveal"]["invited"].pop("Oost")),
        ("reveal", lambda b: b["reveal"].pop("seed")),
        ("reveal", lambda b: b["reveal"].__setitem__("extra", 1)),
        ("events", lambda b: b["events"].append({"type": "replacement"})),
        ("hashes.count", lambda b: b["hashes"].__setitem__("count", "0" * 64)),
        ("hashes.commitment", lambda b: b["hashes"].__setitem__("commitment", "0" * 64)),
        ("hashes.extra", lambda b: b["hashes"].__setitem__("extra", "0" * 64)),
        ("draw.extra", lambda b: b["draw"].__setitem__("extra", 1)),
        ("draw.software", lambda b: b["draw"].pop("software")),
        ("format", lambda b: b.__setitem__("format", "other")),
        ("version", lambda b: b.__setitem__("version", 2)),
        ("extra", lambda b: b.__setitem__("extra", 1)),
    ],
)
def test_a_mutated_bundle_is_named(field: str, mutate: Mutation) -> None:
    forged = reveal_invitation(committed()[0], "2026")
    assert len(forged["reveal"]["invited"]["Oost"]) >= 2
    mutate(forged)
    with pytest.raises(AuditError) as caught:
        verify_invitation(forged)
    assert caught.value.field == field, caught.value.describe()


def test_the_published_commitment_is_checked() -> None:
    bundle, _ = committed()
    verify_invitation(bundle, commitment=bundle["hashes"]["commitment"])
    with pytest.raises(AuditError) as caught:
        verify_invitation(bundle, commitment="f" * 64)
    assert caught.value.field == "hashes.commitment"


# --------------------------------------------------------------------------- the commands


def make_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)

    @app.callback()
    def main() -> None:
        """Test app."""

    app.command("invite")(invite_command)
    app.command("invite-reveal")(invite_reveal_command)
    return app


APP = make_app()
runner = CliRunner()
KEY_HEX = KEY.hex()
COMMIT = ("--count", "12", "--source", "drand quicknet round 1234", "--pseudonym-key", KEY_HEX)


def invite(*args: str) -> Any:
    return runner.invoke(APP, ["invite", *args], color=False)


def invite_standard(*extra: str) -> Any:
    base = ["--register", "r.csv", *COMMIT, "--out", "b.json", "--mapping", "m.json"]
    return invite(*base, *extra)


def reveal(*args: str) -> Any:
    return runner.invoke(APP, ["invite-reveal", *args], color=False)


def succeeded(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def one_error_line(result: Any, code: int = 2) -> str:
    assert result.exit_code == code, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    line: str = lines[0]
    return line


def usage_error(result: Any) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_register(tmp_path / "r.csv", make_register())
    return tmp_path


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_invite_writes_the_bundle_and_a_private_mapping(workdir: Path) -> None:
    result = succeeded(invite_standard("--format", "json"))
    summary = json.loads(result.stdout)
    bundle = json.loads((workdir / "b.json").read_text(encoding="utf-8"))
    assert (workdir / "b.json").read_bytes() == canonical_json(bundle) + b"\n"
    assert summary["commitment"] == bundle["hashes"]["commitment"]
    assert summary["count"] == 12 and summary["addresses"] == 120
    assert {w: a["invitations"] for w, a in summary["allocation"].items()} == (
        bundle["draw"]["allocation"]
    )
    verify_invitation(bundle, commitment=summary["commitment"])
    assert stat.S_IMODE((workdir / "m.json").stat().st_mode) == 0o600
    private = json.loads((workdir / "m.json").read_text(encoding="utf-8"))
    assert private["format"] == "stadmaken-pseudonyms" and private["key"] == KEY_HEX
    assert sorted(private["pseudonyms"].values()) == sorted(r["id"] for r in make_register())
    assert files(workdir) == ["b.json", "m.json", "r.csv"]  # no temporary files left
    assert "Geheim" not in result.output
    table = succeeded(invite_standard())
    assert table.stdout.startswith(f"commitment: {summary['commitment']}\n")
    assert "Schalkwijk" in table.stdout


def test_invite_without_a_key_makes_one(workdir: Path) -> None:
    base = ["--register", "r.csv", "--count", "5", "--source", "dice"]
    first = succeeded(invite(*base, "--out", "b1.json", "--mapping", "m1.json"))
    assert "keep that file secret" in first.stderr
    succeeded(invite(*base, "--out", "b2.json", "--mapping", "m2.json"))
    keys = [json.loads((workdir / f"m{i}.json").read_text())["key"] for i in (1, 2)]
    assert keys[0] != keys[1] and len(bytes.fromhex(keys[0])) == 32
    assert (workdir / "b1.json").read_bytes() != (workdir / "b2.json").read_bytes()


def test_invite_with_a_population_file(workdir: Path) -> None:
    (workdir / "p.csv").write_text(
        "Wijk;Population\ncentrum;9000\nNoord;100\nOost;100\nSchalkwijk;100\nzuid-west;100\n",
        encoding="utf-8",
    )
    result = succeeded(invite_standard("--population", "p.csv", "--format", "json"))
    summary = json.loads(result.stdout)
    assert summary["population"] == "file"
    population = {w: 100 for w in WIJKEN} | {"Centrum": 9000}
    addresses = Counter(r["wijk"] for r in make_register())
    expected = allocate(population, 12, capacity=addresses)
    assert {w: a["invitations"] for w, a in summary["allocation"].items()} == expected
    assert {w: a["population"] for w, a in summary["allocation"].items()} == population


def test_reveal_lists_the_invited_addresses(workdir: Path) -> None:
    succeeded(invite_standard())
    committed_bytes = (workdir / "b.json").read_bytes()
    result = succeeded(reveal("b.json", "--seed", "2026", "--out", "rb.json", "--format", "json"))
    assert (workdir / "b.json").read_bytes() == committed_bytes
    revealed = json.loads((workdir / "rb.json").read_text(encoding="utf-8"))
    assert verify_invitation(revealed).invited == revealed["reveal"]["invited"]
    listed = json.loads(result.stdout)
    assert listed["invited"] == {
        w: [{"pseudonym": p} for p in ids] for w, ids in revealed["reveal"]["invited"].items()
    }
    # with the mapping: real ids, each in its wijk
    named = succeeded(reveal("b.json", "--seed", "2026", "--mapping", "m.json", "--out", "x.json"))
    lines = named.stdout.splitlines()
    assert lines[0] == "wijk\tpseudonym\tid"
    rows = {r["id"]: r["wijk"] for r in make_register()}
    assert len(lines) == 13
    for line in lines[1:]:
        wijk, _, address = line.split("\t")
        assert rows[address] == wijk
    # without --out the bundle itself is updated
    succeeded(reveal("b.json", "--seed", "2026"))
    assert (workdir / "b.json").read_bytes() == (workdir / "rb.json").read_bytes()
    assert sorted(files(workdir)) == ["b.json", "m.json", "r.csv", "rb.json", "x.json"]


def test_bundles_do_not_depend_on_the_row_order(workdir: Path) -> None:
    rows = make_register()
    shuffled = rows[:]
    random.Random(9).shuffle(shuffled)
    write_register(workdir / "s.csv", shuffled)
    write_csv(workdir / "t.csv", rows, ("wijk", "straat", "id"))  # columns in another order
    outputs = []
    for name in ("r.csv", "s.csv", "t.csv"):
        out, mapping = f"b-{name}.json", f"m-{name}.json"
        succeeded(invite("--register", name, *COMMIT, "--out", out, "--mapping", mapping))
        succeeded(reveal(out, "--seed", "Haarlem 2026"))
        outputs.append(((workdir / out).read_bytes(), (workdir / mapping).read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]


SCRIPT = """
import sys, typer
from service.invite_cli import invite_command, invite_reveal_command
app = typer.Typer(add_completion=False)
@app.callback()
def main() -> None:
    pass
app.command("invite")(invite_command)
app.command("invite-reveal")(invite_reveal_command)
app()
"""


def test_bundles_are_byte_identical_across_processes(tmp_path: Path) -> None:
    rows = make_register()
    shuffled = rows[:]
    random.Random(4).shuffle(shuffled)
    processes = []
    for name, register in (("a", rows), ("b", shuffled)):
        folder = tmp_path / name
        folder.mkdir()
        write_register(folder / "r.csv", register)
        args = ["--register", "r.csv", *COMMIT, "--out", "b.json", "--mapping", "m.json"]
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", SCRIPT, "invite", *args],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    for folder in (tmp_path / "a", tmp_path / "b"):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, "invite-reveal", "b.json", "--seed", "ü 2026"],
            cwd=folder,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
    first, second = (
        (tmp_path / "a" / "b.json").read_bytes(),
        (tmp_path / "b" / "b.json").read_bytes(),
    )
    assert first == second
    # and the same as in this process
    bundle = reveal_invitation(committed(count=12)[0], "ü 2026")
    assert json.loads(first)["reveal"] == bundle["reveal"]
    assert json.loads(first)["draw"]["register"] == bundle["draw"]["register"]


# --------------------------------------------------------------------------- bad input

BAD_REGISTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "missing wijk column": (
        "id,straat\n1,a\n",
        ("error: r.csv, row 1, column 'wijk'", "no column 'wijk'"),
    ),
    "missing both columns": (
        "nummer,buurt\n1,a\n",
        ("error: r.csv, row 1, column 'id'", "no columns 'id', 'wijk'"),
    ),
    "empty id": (
        "id,wijk\n1,Noord\n,Oost\n",
        ("error: r.csv, row 3, column 'id'", "the id is empty"),
    ),
    "duplicate id": (
        "id,wijk\n1,Noord\n2,Oost\n1,Zuid\n",
        ("error: r.csv, row 4, column 'id'", "also on row 2"),
    ),
    "empty wijk": (
        "id,Wijk\n1,Noord\n2,\n",
        ("error: r.csv, row 3, column 'Wijk'", "the wijk is empty"),
    ),
    "ambiguous wijk": (
        "id,wijk\n1,Noord\n2,noord\n",
        ("error: r.csv, row 3, column 'wijk'", "'noord' differs only in case", "row 2"),
    ),
    "duplicate column": (
        "id,wijk,Wijk\n1,Noord,Oost\n",
        ("error: r.csv, row 1, column 'wijk'", "2 columns called 'wijk'"),
    ),
    "extra cells": (
        "id,wijk\n1,Noord\n2,Oost,x\n",
        ("error: r.csv, row 3", "cells beyond the 2 columns"),
    ),
    "empty file": ("", ("error: r.csv: the file is empty",)),
    "header only": ("id,wijk\n", ("error: r.csv: the register has a header but no addresses",)),
    "not UTF-8": ("id,wijk\n1,Zu\udcefd\n", ("error: r.csv:", "not UTF-8")),
    "count too large": (
        "id,wijk\n1,Noord\n2,Oost\n",
        ("error: r.csv: cannot invite 12 addresses: the register has 2",),
    ),
}


@pytest.mark.parametrize("case", list(BAD_REGISTERS))
def test_bad_registers(workdir: Path, case: str) -> None:
    content, fragments = BAD_REGISTERS[case]
    (workdir / "r.csv").write_bytes(content.encode("utf-8", "surrogateescape"))
    line = one_error_line(invite_standard())
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert files(workdir) == ["r.csv"]


BAD_POPULATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "missing column": (
        "wijk,inwoners\nNoord,1\n",
        ("error: p.csv, row 1, column 'population'", "wijk,population"),
    ),
    "empty wijk": ("wijk,population\n,5\n", ("error: p.csv, row 2, column 'wijk'", "empty")),
    "unknown wijk": (
        "wijk,population\nNoord,5\nHaven,3\n",
        ("error: p.csv, row 3, column 'wijk'", "'Haven' has no addresses"),
    ),
    "duplicate wijk": (
        "wijk,population\nNoord,5\nnoord,3\n",
        ("error: p.csv, row 3, column 'wijk'", "also on row 2"),
    ),
    "not a count": (
        "wijk,population\nNoord,5.5\n",
        ("error: p.csv, row 2, column 'population'", "whole number", "'5.5'"),
    ),
    "negative": (
        "wijk,population\nNoord,-5\n",
        ("error: p.csv, row 2, column 'population'", "whole number"),
    ),
    "missing wijken": (
        "wijk,population\nNoord,5\nOost,4\n",
        ("error: p.csv, column 'wijk'", "no row for 'Centrum', 'Schalkwijk', 'Zuid-West'"),
    ),
    "header only": ("wijk,population\n", ("error: p.csv: the population file has a header",)),
    "all zero": (
        "wijk,population\nCentrum,0\nNoord,0\nOost,0\nSchalkwijk,0\nZuid-West,0\n",
        ("error: p.csv: cannot invite 12 addresses", "population 0"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_POPULATIONS))
def test_bad_population_files(workdir: Path, case: str) -> None:
    content, fragments = BAD_POPULATIONS[case]
    (workdir / "p.csv").write_text(content, encoding="utf-8")
    line = one_error_line(invite_standard("--population", "p.csv"))
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert files(workdir) == ["p.csv", "r.csv"]


def test_bad_column_options(workdir: Path) -> None:
    line = one_error_line(invite_standard("--id-column", "bag"))
    assert line.startswith("error: r.csv, row 1, column 'bag': the register has no column")
    line = one_error_line(invite_standard("--id-column", "wijk"))
    assert "the id column and the wijk column are both 'wijk'" in line
    assert files(workdir) == ["r.csv"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--count", "0"), "Invalid value for '--count'"),
        (("--count", "two"), "Invalid value for '--count'"),
        (("--source", " "), "Invalid value for '--source'"),
        (("--pseudonym-key", "abc"), "at least 32 hexadecimal digits"),
        (("--pseudonym-key", "zz" * 16), "at least 32 hexadecimal digits"),
        (("--id-column", ""), "must not be empty"),
        (("--mapping", "b.json"), "also given as --out"),
        (("--out", "r.csv"), "also given as --register"),
        (("--out", "no/such/b.json"), "does not exist"),
        (("--out", "."), "is a folder"),
        (("--population", "nope.csv"), "'nope.csv' does not exist"),
        (("--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_bad_usage(workdir: Path, args: tuple[str, ...], fragment: str) -> None:
    message = usage_error(invite_standard(*args))
    assert fragment in message, message
    assert files(workdir) == ["r.csv"]


def test_missing_options(workdir: Path) -> None:
    message = usage_error(invite("--register", "r.csv", "--count", "3"))
    assert "Missing option" in message
    message = usage_error(invite("--register", "nope.csv", *COMMIT, "--out", "b", "--mapping", "m"))
    assert "'nope.csv' does not exist" in message
    assert files(workdir) == ["r.csv"]


def test_a_failed_write_leaves_no_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both files are staged first; if the bundle cannot be written, neither is left."""
    import tempfile

    real = tempfile.mkstemp

    def failing(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".b.json"):
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", failing)
    line = one_error_line(invite_standard())
    assert line == "error: b.json: cannot write the file (No space left on device)"
    assert files(workdir) == ["r.csv"]


@pytest.fixture
def revealable(workdir: Path) -> Path:
    succeeded(invite_standard())
    return workdir


def _exit_code_of_mismatch() -> int:
    from service.cli import exit_code

    return exit_code(AuditError("draw", "x"))


@pytest.mark.parametrize(
    ("case", "fragments", "code"),
    [
        ("truncated", ("error: b.json: bundle: not valid JSON", "truncated"), 2),
        ("not an object", ("error: b.json: bundle: not a JSON object",), 2),
        ("panel bundle", ("error: b.json: draw.kind: this bundle is of kind 'panel'",), 2),
        ("tampered", ("error: b.json: draw.allocation: does not match its hash",), None),
        ("revealed", ("error: b.json: reveal: the invitations are already revealed",), 2),
        ("bad mapping", ("error: m.json: not a pseudonym mapping",), 2),
        ("other mapping", ("error: m.json: the mapping does not belong to this bundle",), 2),
    ],
)
def test_bad_reveal_input(
    revealable: Path, case: str, fragments: tuple[str, ...], code: int | None
) -> None:
    bundle_path, mapping_path = revealable / "b.json", revealable / "m.json"
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    if case == "truncated":
        bundle_path.write_bytes(bundle_path.read_bytes()[:100])
    elif case == "not an object":
        bundle_path.write_text("[1, 2]", encoding="utf-8")
    elif case == "panel bundle":
        bundle["draw"]["kind"] = "panel"
        bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    elif case == "tampered":
        first = sorted(bundle["draw"]["allocation"])[0]
        bundle["draw"]["allocation"][first] += 1
        bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    elif case == "revealed":
        succeeded(reveal("b.json", "--seed", "1"))
    elif case == "bad mapping":
        mapping_path.write_text('{"pseudonyms": []}', encoding="utf-8")
    elif case == "other mapping":
        private = json.loads(mapping_path.read_text(encoding="utf-8"))
        private["pseudonyms"].pop("A0001")
        mapping_path.write_text(json.dumps(private), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in revealable.iterdir()}
    result = reveal("b.json", "--seed", "2026", "--mapping", "m.json", "--out", "out.json")
    line = one_error_line(result, code if code is not None else _exit_code_of_mismatch())
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert {p.name: p.read_bytes() for p in revealable.iterdir()} == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("b.json", "--seed", ""), "Invalid value for '--seed'"),
        (("b.json",), "Missing option '--seed'"),
        (("nope.json", "--seed", "1"), "'nope.json' does not exist"),
        (("b.json", "--seed", "1", "--mapping", "nope.json"), "'nope.json' does not exist"),
        (("b.json", "--seed", "1", "--mapping", "m.json", "--out", "m.json"), "also given"),
        (("b.json", "--seed", "1", "--out", "no/such/x.json"), "does not exist"),
    ],
)
def test_bad_reveal_usage(revealable: Path, args: tuple[str, ...], fragment: str) -> None:
    before = {p.name: p.read_bytes() for p in revealable.iterdir()}
    message = usage_error(reveal(*args))
    assert fragment in message, message
    assert {p.name: p.read_bytes() for p in revealable.iterdir()} == before


# --------------------------------------------------------------------------- vector generation


def _generate() -> list[dict[str, Any]]:  # pragma: no cover
    vectors: list[dict[str, Any]] = []
    allocations = [
        ({"Centrum": 500, "Noord": 300, "Zuid": 200}, None, 7),
        ({"Zuid": 1, "noord": 1, "Écluse": 1}, None, 2),
        (
            {"Centrum": 1000, "Noord": 2000, "Oost": 500, "Schalkwijk": 1200, "Zuid-West": 3000},
            {"Centrum": 10, "Noord": 4, "Oost": 10, "Schalkwijk": 10, "Zuid-West": 5},
            20,
        ),
        ({"Haven": 0, "Noord": 10, "Zuid": 10}, {"Haven": 5, "Noord": 10, "Zuid": 10}, 5),
        ({"a": 3, "b": 2}, None, 5),
    ]
    for population, capacity, count in allocations:
        vectors.append(
            {
                "kind": "allocation",
                "population": population,
                "capacity": capacity,
                "count": count,
                "allocation": ref_allocate(population, count, capacity),
            }
        )
    key = bytes(range(32)).hex()
    ids = ["0392200000000001", "0392200000000002", "10", "9", "é-straat 3", "Grote Markt 2"]
    vectors.append(
        {
            "kind": "pseudonyms",
            "key": key,
            "ids": ids,
            "pseudonyms": ref_pseudonyms(ids, bytes.fromhex(key)),
        }
    )
    wijken = ["Centrum"] * 5 + ["Noord"] * 4 + ["Schalkwijk"] * 4 + ["Zuid-West"] * 3
    addresses = [{"id": f"03922{i:011d}", "wijk": w} for i, w in enumerate(wijken, start=1)]
    cases: list[tuple[dict[str, int] | None, int]] = [
        (None, 6),
        ({"Centrum": 1000, "Noord": 4000, "Schalkwijk": 2000, "Zuid-West": 3000}, 8),
    ]
    for people, count in cases:
        v: dict[str, Any] = {
            "kind": "invitation",
            "addresses": addresses,
            "key": key,
            "population": people,
            "count": count,
            "software": "stadmaken test",
            "source": "drand quicknet round 1234567",
            "fallback": "dice on camera",
        }
        v["draw"] = ref_draw(v)
        v["commitment"] = ref_commitment(v["draw"])
        v["reveals"] = [
            {"seed": seed, "invited": ref_invited(v["draw"], seed)}
            for seed in ("2026", "Haarlem burgerberaad 2026 — loting")
        ]
        vectors.append(v)
    return vectors


def _format(vector: dict[str, Any]) -> str:  # pragma: no cover
    """One key per line; lists of objects one element per line."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in vector.items():
        if isinstance(value, list) and len(value) > 1 and isinstance(value[0], dict):
            inner = ",\n".join(f"    {dump(item)}" for item in value)
            lines.append(f"  {dump(key)}: [\n{inner}\n  ]")
        elif key == "draw":
            inner = ",\n".join(
                f"    {dump(k)}: "
                + (
                    "[\n" + ",\n".join(f"      {dump(a)}" for a in item) + "\n    ]"
                    if k == "register"
                    else dump(item)
                )
                for k, item in value.items()
            )
            lines.append(f"  {dump(key)}: {{\n{inner}\n  }}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


if __name__ == "__main__":  # pragma: no cover
    for vector in _generate():
        print("```json\n" + _format(vector) + "\n```\n")
