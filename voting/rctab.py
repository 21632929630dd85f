"""Ranked-choice tabulation compatible with RCTab (the Bright Spots "Universal RCV Tabulator").

:func:`tabulate` counts a :class:`~voting.ballots.MarkedProfile` (ballots exactly as recorded:
overvotes, skipped ranks and repeated candidates kept) under the rules of an RCTab contest
configuration, read into :class:`RctabConfig`. The rules follow the RCTab configuration file
documentation ("RCTab Configuration File Parameters", BrightSpots/rcv,
``config_file_documentation``) and the behaviour of RCTab 2.0.0 as recorded in its regression suite:

* **overvoteRule** -- ``exhaustImmediately``: a rank with several marks (or the explicit overvote
  label) makes the ballot inactive "by overvote"; ``alwaysSkipToNextRank``: such a rank is passed
  over; ``exhaustIfMultipleContinuing``: the ballot becomes inactive only when two or more of the
  marked candidates are still continuing, otherwise it counts for the one continuing candidate.
* **maxSkippedRanksAllowed** -- a gap of more than this many unmarked ranks before the next mark
  makes the ballot inactive "by skipped ranking" (``unlimited`` switches the check off). Unmarked
  ranks after the last mark do not count: such a ballot becomes inactive by "exhausted choices"
  (as RCTab 2.0.0 reports it; later RCTab versions call it an undervote).
* **maxRankingsAllowed** -- the number of ranks a ballot may hold (``max``: the number of
  declared candidates); a record with more ranks is rejected by the readers.
* **exhaustOnDuplicateCandidate** -- a candidate marked at a second rank makes the ballot
  inactive "by repeated ranking" when that rank is reached.
* **winnerElectionMode** -- ``singleWinnerMajority`` (threshold recomputed each round from the
  active ballots), ``multiWinnerAllowOnlyOneWinnerPerRound`` and
  ``multiWinnerAllowMultipleWinnersPerRound`` (threshold fixed in round 1, fractional surplus
  transfer of every ballot of an elected candidate), ``bottomsUp`` (eliminate until as many
  candidates remain as seats), ``bottomsUpUsingPercentageThreshold`` (eliminate until every
  remaining candidate holds the percentage) and ``multiPassIrv`` (one single-winner count per
  seat, earlier winners excluded).
* **threshold** -- ``floor(active / (seats + 1)) + 1`` whole votes, or with
  ``nonIntegerWinningThreshold`` ``active / (seats + 1)`` rounded down to
  ``decimalPlacesForVoteArithmetic`` places plus one unit of the last place; with ``hareQuota``
  ``active / seats`` rounded up (to whole votes or to the decimal places). A candidate whose
  tally equals or exceeds the threshold is elected. ``minimumVoteThreshold`` raises the threshold
  to at least that value and eliminates, before anything else, every candidate below it.
* **surplus** -- the surplus fraction ``(tally - threshold) / tally`` and each ballot's new value
  ``value * fraction`` are both rounded *down* to ``decimalPlacesForVoteArithmetic`` places, as
  RCTab's ``ContestConfig.divide`` / ``multiply`` do; the winner keeps the threshold and any
  rounding residue is reported as residual surplus.
* **eliminations**, in this order: undeclared write-ins holding votes; candidates below the
  minimum vote threshold; with ``batchElimination`` every candidate whose cumulative tally (with
  all lower candidates) is below the next-higher tally (only when that removes two or more);
  else the lowest candidate, ties broken by ``tiebreakMode``.
* **tiebreakMode** -- ``useCandidateOrder`` (the earliest candidate in the configured order wins,
  the latest loses), ``random`` and ``previousRoundCountsThenRandom`` (compare the tied
  candidates' tallies in earlier rounds, latest first, then draw) and ``generatePermutation``.

Random draws reproduce RCTab exactly: RCTab draws with ``java.util.Random(randomSeed)``, so this
module implements Java's 48-bit linear congruential generator (:class:`JavaRandom`), the index
``floor(nextDouble() * n)`` over the tied candidates sorted by name, and the iteration order of
Java's ``HashSet`` where RCTab relies on it. This departs from the project's usual
:class:`sortition.randomness.SeededStream` on purpose: the point of this module is to give the
same answer as the certified tabulator from the same configuration. Without a ``randomSeed`` a
tie that needs a draw raises :class:`~voting.errors.LotNeededError`.

All vote arithmetic is exact: values and tallies are whole numbers of units of
``10**-decimalPlacesForVoteArithmetic`` votes, and the report gives them as
:class:`decimal.Decimal`.

References
----------
Bright Spots, *RCTab Configuration File Parameters* and *Tabulator User Guide*,
https://github.com/BrightSpots/rcv (MPL-2.0). No RCTab code is reproduced here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from voting.ballots import MarkedProfile
from voting.errors import InputError, LotNeededError

__all__ = [
    "EXPLICIT_OVERVOTE",
    "UNDECLARED_WRITE_INS",
    "CandidateSpec",
    "CvrSource",
    "JavaRandom",
    "RctabConfig",
    "RctabPass",
    "RctabResult",
    "RoundResult",
    "tabulate",
]

UNDECLARED_WRITE_INS = "Undeclared Write-ins"
"""Name under which RCTab reports undeclared write-ins (the ``undeclaredWriteInLabel``)."""

EXPLICIT_OVERVOTE = "overvote"
"""Pseudo-candidate a reader marks for a cell that holds the source's ``overvoteLabel``."""

OVERVOTE_RULES = ("alwaysSkipToNextRank", "exhaustImmediately", "exhaustIfMultipleContinuing")
WINNER_MODES = (
    "singleWinnerMajority",
    "multiWinnerAllowOnlyOneWinnerPerRound",
    "multiWinnerAllowMultipleWinnersPerRound",
    "bottomsUp",
    "bottomsUpUsingPercentageThreshold",
    "multiPassIrv",
)
TIEBREAK_MODES = (
    "useCandidateOrder",
    "random",
    "previousRoundCountsThenRandom",
    "generatePermutation",
)
PROVIDERS = ("ess", "cdf", "dominion", "hart", "clearBallot", "genericCsv")

INACTIVE_REASONS = ("overvotes", "skippedRankings", "repeatedRankings", "exhaustedChoices")
"""Inactive-ballot categories of the RCTab report; ``undervotes`` and ``finalRoundSurplus`` (the
surplus of the last winners, which RCTab 2.0.0 does not transfer once every seat is filled) are
reported apart."""

Status = Literal[
    "active",
    "undervotes",
    "overvotes",
    "skippedRankings",
    "repeatedRankings",
    "exhaustedChoices",
    "finalRoundSurplus",
]

_RULE_KEYS = {
    "tiebreakMode",
    "overvoteRule",
    "winnerElectionMode",
    "randomSeed",
    "numberOfWinners",
    "multiSeatBottomsUpPercentageThreshold",
    "decimalPlacesForVoteArithmetic",
    "minimumVoteThreshold",
    "maxSkippedRanksAllowed",
    "maxRankingsAllowed",
    "nonIntegerWinningThreshold",
    "doesFirstRoundDetermineThreshold",
    "hareQuota",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "stopTabulationEarlyAfterRound",
    "exhaustOnDuplicateCandidate",
    "rulesDescription",
    "treatBlankAsUndeclaredWriteIn",
    "overvoteLabel",
    "undervoteLabel",
    "undeclaredWriteInLabel",
    "overvoteDelimiter",
}
_SOURCE_KEYS = {
    "filePath",
    "contestId",
    "firstVoteColumnIndex",
    "firstVoteRowIndex",
    "idColumnIndex",
    "batchColumnIndex",
    "precinctColumnIndex",
    "overvoteDelimiter",
    "provider",
    "overvoteLabel",
    "skippedRankLabel",
    "undervoteLabel",
    "undeclaredWriteInLabel",
    "treatBlankAsUndeclaredWriteIn",
}
_CANDIDATE_KEYS = {"name", "code", "aliases", "excluded"}
_TOP_KEYS = {"tabulatorVersion", "outputSettings", "cvrFileSources", "candidates", "rules"}


# --------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True, slots=True)
class CandidateSpec:
    """A declared candidate: its ``name``, the other strings a CVR may use for it, excluded?"""

    name: str
    aliases: tuple[str, ...] = ()
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class CvrSource:
    """One entry of ``cvrFileSources``: where a CVR is and how to read it.

    Column and row indices count from 1, as in RCTab's configuration; ``None`` when not given.
    """

    provider: str
    file_path: str
    contest_id: str = ""
    first_vote_column: int | None = None
    first_vote_row: int | None = None
    id_column: int | None = None
    precinct_column: int | None = None
    overvote_delimiter: str = ""
    overvote_label: str = ""
    skipped_rank_label: str = ""
    undeclared_write_in_label: str = ""
    treat_blank_as_undeclared_write_in: bool = False


@dataclass(frozen=True, slots=True)
class RctabConfig:
    """An RCTab contest configuration (``*_config.json``), checked.

    Build it with :meth:`load` (a file) or :meth:`from_dict`; every bad value raises
    :class:`~voting.errors.InputError` naming the key. ``max_skipped_ranks`` is ``None`` for
    ``unlimited``; ``max_rankings`` is ``None`` for ``max`` (the number of declared candidates).
    """

    contest_name: str = ""
    candidates: tuple[CandidateSpec, ...] = ()
    sources: tuple[CvrSource, ...] = ()
    tiebreak_mode: str = "useCandidateOrder"
    overvote_rule: str = "alwaysSkipToNextRank"
    winner_election_mode: str = "singleWinnerMajority"
    random_seed: int | None = None
    number_of_winners: int = 1
    bottoms_up_percentage: Fraction | None = None
    decimal_places: int = 4
    minimum_vote_threshold: Fraction = Fraction(0)
    max_skipped_ranks: int | None = None
    max_rankings: int | None = None
    non_integer_threshold: bool = False
    first_round_determines_threshold: bool = False
    hare_quota: bool = False
    batch_elimination: bool = False
    continue_until_two: bool = False
    stop_after_round: int | None = None
    exhaust_on_duplicate: bool = False
    file: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> RctabConfig:
        """Read and check a configuration file."""
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(
                "unreadable-file", f"Cannot read the configuration: {exc}.", file=name
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                "bad-json", f"Not valid JSON: {exc.msg}.", file=name, line=exc.lineno
            ) from None
        return cls.from_dict(data, file=name)

    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> RctabConfig:
        """Check a parsed configuration; ``data`` may hold only ``rules`` (and ``candidates``)."""
        if not isinstance(data, Mapping):
            raise InputError("bad-config", "The configuration must be a JSON object.", file=file)
        _check_keys(data, _TOP_KEYS, "", file)
        rules = data.get("rules", {})
        if not isinstance(rules, Mapping):
            raise InputError("bad-config", "'rules' must be an object.", file=file)
        _check_keys(rules, _RULE_KEYS, "rules.", file)
        r = _Reader(rules, "rules.", file)
        candidates = tuple(
            _candidate(c, i, file) for i, c in enumerate(_list(data, "candidates", file))
        )
        names = [c.name for c in candidates]
        if len(set(names)) != len(names):
            raise InputError(
                "duplicate-candidate",
                "A candidate name appears twice.",
                file=file,
                params={"key": "candidates"},
            )
        sources = tuple(
            _source(s, i, file) for i, s in enumerate(_list(data, "cvrFileSources", file))
        )
        mode = r.choice("winnerElectionMode", WINNER_MODES, "singleWinnerMajority")
        seats = r.integer("numberOfWinners", 1, minimum=0)
        if seats == 0:
            seats = 1
        if mode == "singleWinnerMajority" and seats != 1:
            raise InputError(
                "bad-config",
                "rules.numberOfWinners must be 1 in singleWinnerMajority.",
                file=file,
                params={"key": "rules.numberOfWinners"},
            )
        pct: Fraction | None = None
        if mode == "bottomsUpUsingPercentageThreshold":
            pct = r.fraction("multiSeatBottomsUpPercentageThreshold", None)
            if pct is None or not 0 < pct <= 100:
                raise InputError(
                    "bad-config",
                    "rules.multiSeatBottomsUpPercentageThreshold must be a percentage in (0, 100].",
                    file=file,
                    params={"key": "rules.multiSeatBottomsUpPercentageThreshold"},
                )
            pct /= 100
        tiebreak = r.choice("tiebreakMode", TIEBREAK_MODES, "useCandidateOrder")
        overvote = r.choice("overvoteRule", OVERVOTE_RULES, "alwaysSkipToNextRank")
        max_skipped = (
            None
            if r.text("maxSkippedRanksAllowed") == "unlimited"
            else r.integer("maxSkippedRanksAllowed", 0, minimum=0)
        )
        max_rankings = (
            None
            if r.text("maxRankingsAllowed") in ("max", "")
            else r.integer("maxRankingsAllowed", 0, minimum=1)
        )
        return cls(
            contest_name=str(data.get("outputSettings", {}).get("contestName", "")),
            candidates=candidates,
            sources=sources,
            tiebreak_mode=tiebreak,
            overvote_rule=overvote,
            winner_election_mode=mode,
            random_seed=r.integer("randomSeed", None, minimum=-(2**63)),
            number_of_winners=seats,
            bottoms_up_percentage=pct,
            decimal_places=r.integer("decimalPlacesForVoteArithmetic", 4, minimum=0, maximum=20),
            minimum_vote_threshold=r.fraction("minimumVoteThreshold", Fraction(0)) or Fraction(0),
            max_skipped_ranks=max_skipped,
            max_rankings=max_rankings,
            non_integer_threshold=r.flag("nonIntegerWinningThreshold"),
            first_round_determines_threshold=r.flag("doesFirstRoundDetermineThreshold"),
            hare_quota=r.flag("hareQuota"),
            batch_elimination=r.flag("batchElimination"),
            continue_until_two=r.flag("continueUntilTwoCandidatesRemain"),
            stop_after_round=r.integer("stopTabulationEarlyAfterRound", None, minimum=1),
            exhaust_on_duplicate=r.flag("exhaustOnDuplicateCandidate"),
            file=file,
        )

    @property
    def max_rankings_resolved(self) -> int:
        """``maxRankingsAllowed`` as a number (``max``: the number of declared candidates)."""
        return self.max_rankings if self.max_rankings is not None else len(self.candidates)

    @property
    def undeclared_write_ins(self) -> bool:
        """Whether a source declares an undeclared write-in label (RCTab then reports them)."""
        return any(s.undeclared_write_in_label for s in self.sources)


class _Reader:
    def __init__(self, data: Mapping[str, Any], prefix: str, file: str | None) -> None:
        self.data, self.prefix, self.file = data, prefix, file

    def _bad(self, key: str, what: str) -> InputError:
        value = self.data.get(key)
        return InputError(
            "bad-config",
            f"{self.prefix}{key} is {value!r}; it must be {what}.",
            file=self.file,
            params={"key": self.prefix + key, "value": value},
        )

    def text(self, key: str) -> str:
        value = self.data.get(key, "")
        return "" if value is None else str(value).strip()

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if isinstance(value, bool):
            return value
        if value in ("true", "false", ""):
            return bool(value == "true")
        raise self._bad(key, "true or false")

    def integer(
        self, key: str, default: int | None, *, minimum: int, maximum: int | None = None
    ) -> Any:
        value = self.data.get(key, "")
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise self._bad(key, "a whole number")
        try:
            n = int(str(value).strip())
        except ValueError:
            raise self._bad(key, "a whole number") from None
        if n < minimum or (maximum is not None and n > maximum):
            bound = f" between {minimum} and {maximum}" if maximum is not None else f" >= {minimum}"
            raise self._bad(key, "a whole number" + bound)
        return n

    def fraction(self, key: str, default: Fraction | None) -> Fraction | None:
        value = self.data.get(key, "")
        if value is None or value == "":
            return default
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise self._bad(key, "a decimal number") from None
        if not d.is_finite() or d < 0:
            raise self._bad(key, "a non-negative decimal number")
        return Fraction(d)

    def choice(self, key: str, allowed: Sequence[str], default: str) -> str:
        value = self.data.get(key, "")
        if value in ("", None):
            return default
        if value not in allowed:
            raise self._bad(key, "one of " + ", ".join(allowed))
        return str(value)


def _check_keys(data: Mapping[str, Any], known: set[str], prefix: str, file: str | None) -> None:
    for key in data:
        if key not in known:
            raise InputError(
                "unknown-key",
                f"Unknown configuration key {prefix}{key}.",
                file=file,
                params={"key": prefix + str(key)},
            )


def _list(data: Mapping[str, Any], key: str, file: str | None) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InputError("bad-config", f"'{key}' must be a list.", file=file, params={"key": key})
    return value


def _candidate(raw: Any, i: int, file: str | None) -> CandidateSpec:
    where = f"candidates[{i}]"
    if not isinstance(raw, Mapping):
        raise InputError(
            "bad-config", f"{where} must be an object.", file=file, params={"key": where}
        )
    _check_keys(raw, _CANDIDATE_KEYS, where + ".", file)
    name = str(raw.get("name", "")).strip()
    if not name:
        raise InputError(
            "bad-config", f"{where}.name is empty.", file=file, params={"key": where + ".name"}
        )
    aliases = [str(a).strip() for a in raw.get("aliases", []) or []]
    if raw.get("code"):
        aliases.append(str(raw["code"]).strip())
    r = _Reader(raw, where + ".", file)
    return CandidateSpec(name, tuple(a for a in aliases if a), r.flag("excluded"))


def _source(raw: Any, i: int, file: str | None) -> CvrSource:
    where = f"cvrFileSources[{i}]"
    if not isinstance(raw, Mapping):
        raise InputError(
            "bad-config", f"{where} must be an object.", file=file, params={"key": where}
        )
    _check_keys(raw, _SOURCE_KEYS, where + ".", file)
    r = _Reader(raw, where + ".", file)
    provider = r.choice("provider", PROVIDERS, "")
    if not provider:
        raise InputError(
            "bad-config",
            f"{where}.provider is missing.",
            file=file,
            params={"key": where + ".provider"},
        )
    path = r.text("filePath")
    if not path:
        raise InputError(
            "bad-config",
            f"{where}.filePath is missing.",
            file=file,
            params={"key": where + ".filePath"},
        )
    return CvrSource(
        provider=provider,
        file_path=path,
        contest_id=r.text("contestId"),
        first_vote_column=r.integer("firstVoteColumnIndex", None, minimum=1),
        first_vote_row=r.integer("firstVoteRowIndex", None, minimum=1),
        id_column=r.integer("idColumnIndex", None, minimum=1),
        precinct_column=r.integer("precinctColumnIndex", None, minimum=1),
        overvote_delimiter=str(raw.get("overvoteDelimiter", "") or ""),
        overvote_label=r.text("overvoteLabel"),
        skipped_rank_label=r.text("skippedRankLabel") or r.text("undervoteLabel"),
        undeclared_write_in_label=r.text("undeclaredWriteInLabel"),
        treat_blank_as_undeclared_write_in=r.flag("treatBlankAsUndeclaredWriteIn"),
    )


# --------------------------------------------------------------------------------------------
# Java's random number generator and hash set order (to reproduce RCTab's draws)


class JavaRandom:
    """``java.util.Random``: the 48-bit LCG of Knuth, TAOCP vol. 2, 3.2.1, as Java specifies it.

    >>> r = JavaRandom(0)
    >>> r.next_double(), r.next_double(), r.next_double()
    (0.730967787376657, 0.24053641567148587, 0.6374174253501083)
    """

    _MULT = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULT) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULT + 0xB) & self._MASK
        value = self._seed >> (48 - bits)
        return value - (1 << bits) if bits == 32 and value >= 1 << 31 else value

    def next_double(self) -> float:
        """Java's ``nextDouble()``: 53 random bits over ``2**53``."""
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))

    def next_int(self, bound: int) -> int:
        """Java's ``nextInt(bound)``, uniform on ``0 .. bound-1``."""
        if bound & (bound - 1) == 0:
            return (bound * self._next(31)) >> 31
        while True:
            bits = self._next(31)
            val = bits % bound
            if bits - val + (bound - 1) < 1 << 31:
                return val


def _java_hash(s: str) -> int:
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _java_hashset_order(items: Sequence[str]) -> list[str]:
    """The iteration order of ``new HashSet<>(items)`` in Java 8+ (no tree bins: few items)."""
    capacity = max(int(len(items) / 0.75) + 1, 16)
    n = 1
    while n < capacity:
        n *= 2
    buckets: dict[int, list[str]] = {}
    for s in dict.fromkeys(items):
        h = _java_hash(s)
        buckets.setdefault((h ^ (h >> 16)) & (n - 1), []).append(s)
    return [s for b in sorted(buckets) for s in buckets[b]]


def _java_sorted(names: Sequence[str]) -> list[str]:
    return sorted(names, key=lambda s: s.encode("utf-16-be"))


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class RoundResult:
    """One round of the count, as RCTab reports it.

    ``tally`` holds every candidate still counted (continuing, and in multi-seat counts the
    earlier winners at the threshold), ``inactive`` the value of inactive ballots by reason
    (:data:`INACTIVE_REASONS` plus ``undervotes``), ``transfers`` the moves made when this
    round's tallies were computed (``(from, to)``, ``to`` ``None`` = became inactive, ``from``
    ``None`` = first count; ``"residual surplus"`` for rounding residue), ``elected`` and
    ``eliminated`` the decisions taken on this round's tallies.
    """

    round: int
    tally: dict[str, Decimal]
    inactive: dict[str, Decimal]
    threshold: Decimal
    elected: tuple[str, ...]
    eliminated: tuple[str, ...]
    transfers: dict[tuple[str | None, str | None], Decimal] = field(default_factory=dict)
    residual_surplus: Decimal = Decimal(0)
    tiebreaks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RctabPass:
    """One tabulation (a ``multiPassIrv`` count has one per seat)."""

    rounds: tuple[RoundResult, ...]
    winners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RctabResult:
    """Winners in order of election, and the passes with their rounds."""

    winners: tuple[str, ...]
    passes: tuple[RctabPass, ...]
    ballots: int

    @property
    def rounds(self) -> tuple[RoundResult, ...]:
        """The rounds of the (first) pass."""
        return self.passes[0].rounds


# --------------------------------------------------------------------------------------------
# tabulation


@dataclass(slots=True)
class _Paper:
    marks: tuple[tuple[int, ...], ...]
    weight: int
    value: int  # units per paper
    recipient: int | None = None
    status: Status = "active"
    kept: dict[int, int] = field(default_factory=dict)  # winner -> units kept per paper


class _Count:
    def __init__(self, profile: MarkedProfile, config: RctabConfig, excluded: set[str]) -> None:
        self.cfg = config
        self.names = profile.candidates
        self.unit: int = 10**config.decimal_places
        self.uwi = (
            self.names.index(UNDECLARED_WRITE_INS) if UNDECLARED_WRITE_INS in self.names else None
        )
        self.over = self.names.index(EXPLICIT_OVERVOTE) if EXPLICIT_OVERVOTE in self.names else None
        self.real = [i for i in range(len(self.names)) if i != self.over]
        excluded_idx = {i for i in self.real if self.names[i] in excluded}
        self.status: dict[int, str] = {
            i: ("excluded" if i in excluded_idx else "continuing") for i in self.real
        }
        self.num_candidates = len(self.real) - len(excluded_idx)
        self.num_declared = self.num_candidates - (1 if self.uwi is not None else 0)
        self.max_rankings = config.max_rankings_resolved
        self.papers = [_Paper(b.marks, b.weight, self.unit) for b in profile.ballots]
        self.winner_round: dict[int, int] = {}
        self.elim_round: dict[int, int] = {}
        self.tallies: list[dict[int, int]] = []
        self.thresholds: list[int] = []
        self.rounds: list[RoundResult] = []
        self.random: JavaRandom | None = None
        order = [c.name for c in config.candidates] or list(self.names)
        self.permutation = [n for n in order if n in self.names] + [
            self.names[i] for i in self.real if self.names[i] not in order
        ]
        if config.tiebreak_mode in (
            "random",
            "previousRoundCountsThenRandom",
            "generatePermutation",
        ):
            if config.random_seed is not None:
                self.random = JavaRandom(config.random_seed)
            if config.tiebreak_mode == "generatePermutation":
                if self.random is None:
                    raise LotNeededError(
                        "lot-needed",
                        "tiebreakMode generatePermutation needs rules.randomSeed.",
                        params={"key": "rules.randomSeed"},
                    )
                perm = _java_sorted(self.permutation)
                for i in range(len(perm) - 1, 0, -1):
                    j = self.random.next_int(i + 1)
                    perm[i], perm[j] = perm[j], perm[i]
                self.permutation = perm

    # -- helpers
    def continuing(self, c: int) -> bool:
        s = self.status.get(c)
        return s == "continuing" or (s == "winner" and self.cfg.continue_until_two)

    def dec(self, units: int) -> Decimal:
        d = Decimal(units).scaleb(-self.cfg.decimal_places).normalize()
        return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d  # type: ignore[operator]

    def divide(self, a: int, b: int) -> int:
        return a * self.unit // b

    def multiply(self, a: int, b: int) -> int:
        return a * b // self.unit

    # -- one round's tallies
    def compute_tallies(self, rnd: int) -> tuple[dict[int, int], dict[str, int], dict[Any, int]]:
        cfg = self.cfg
        tally = {c: 0 for c in self.real if self.continuing(c)}
        inactive = {k: 0 for k in ("undervotes", *INACTIVE_REASONS, "finalRoundSurplus")}
        seats_filled = cfg.number_of_winners > 1 and len(self.winner_round) >= cfg.number_of_winners
        transfers: dict[Any, int] = {}
        max_skip = cfg.max_skipped_ranks

        def record(p: _Paper, to: int | None, status: Status) -> None:
            if p.value > 0:
                key = (p.recipient, to)
                transfers[key] = transfers.get(key, 0) + p.value * p.weight
            p.recipient = to
            if to is None:
                p.status = status
                inactive[status] += p.value * p.weight

        for p in self.papers:
            if p.status != "active":
                inactive[p.status] += p.value * p.weight
                continue
            if p.recipient is not None and self.continuing(p.recipient):
                tally[p.recipient] += p.value * p.weight
                continue
            if seats_filled and p.recipient is not None:
                record(p, None, "finalRoundSurplus")
                continue
            ranked = [(r, cands) for r, cands in enumerate(p.marks, 1) if cands]
            if not ranked:
                record(p, None, "undervotes")
                continue
            last_rank = ranked[-1][0]
            last_seen = 0
            seen: set[int] = set()
            for rank, cands in ranked:
                if max_skip is not None and rank - last_seen > max_skip + 1:
                    record(p, None, "skippedRankings")
                    break
                last_seen = rank
                if cfg.exhaust_on_duplicate:
                    dup = False
                    for c in cands:
                        if c in seen:
                            dup = True
                            break
                        seen.add(c)
                    if dup:
                        record(p, None, "repeatedRankings")
                        break
                decision = self.overvote_decision(cands)
                if decision == "exhaust":
                    record(p, None, "overvotes")
                    break
                if decision == "skip":
                    if rank == last_rank:
                        record(p, None, "exhaustedChoices")
                    continue
                chosen = next((c for c in cands if self.continuing(c)), None)
                if chosen is not None:
                    record(p, chosen, "active")
                    tally[chosen] += p.value * p.weight
                    break
                if rank == last_rank:
                    record(p, None, "exhaustedChoices")
        return tally, inactive, transfers

    def overvote_decision(self, cands: tuple[int, ...]) -> str:
        rule = self.cfg.overvote_rule
        if self.over is not None and self.over in cands:
            if len(cands) != 1:
                raise InputError("bad-ballot", "A rank holds the overvote label and a candidate.")
            if rule == "exhaustIfMultipleContinuing":
                raise InputError(
                    "bad-config",
                    "rules.overvoteRule exhaustIfMultipleContinuing cannot be used with an "
                    "explicit overvote label.",
                    params={"key": "rules.overvoteRule"},
                )
            return "exhaust" if rule == "exhaustImmediately" else "skip"
        if len(cands) <= 1:
            return "none"
        if rule == "exhaustImmediately":
            return "exhaust"
        if rule == "alwaysSkipToNextRank":
            return "skip"
        return "exhaust" if sum(1 for c in cands if self.continuing(c)) > 1 else "none"

    # -- threshold
    def threshold(self, tally: dict[int, int]) -> int:
        cfg = self.cfg
        total = sum(tally.values())
        if cfg.winner_election_mode == "bottomsUpUsingPercentageThreshold":
            assert cfg.bottoms_up_percentage is not None
            value = Fraction(total) * cfg.bottoms_up_percentage
            # keep exact: ceil to units is equivalent for ">=" on unit-valued tallies
            units = -(-value.numerator // value.denominator)
        else:
            div = cfg.number_of_winners if cfg.hare_quota else cfg.number_of_winners + 1
            step = 1 if cfg.non_integer_threshold else self.unit
            if cfg.hare_quota:
                units = -(-total // (div * step)) * step
            else:
                units = total // (div * step) * step + step
        minimum = cfg.minimum_vote_threshold * self.unit
        if minimum > 0 and minimum > units:
            units = -(-minimum.numerator // minimum.denominator)
        return units

    # -- tie-breaks
    def tiebreak(self, tied: list[int], winner: bool, rnd: int, notes: list[str]) -> int:
        mode = self.cfg.tiebreak_mode
        names = _java_sorted([self.names[c] for c in tied])
        if mode in ("useCandidateOrder", "generatePermutation"):
            order = self.permutation if winner else list(reversed(self.permutation))
            pick = next(n for n in order if n in names)
            notes.append(f"tie {names} broken by candidate order: {pick}")
            return self.names.index(pick)
        contention = names
        if mode == "previousRoundCountsThenRandom":
            for back in range(rnd - 1, 0, -1):
                past = self.tallies[back - 1]
                ordered = _java_hashset_order(contention)
                values = {n: past.get(self.names.index(n), 0) for n in ordered}
                best = max(values.values()) if winner else min(values.values())
                contention = [n for n in ordered if values[n] == best]
                if len(contention) == 1:
                    notes.append(f"tie {names} broken by round {back} counts: {contention[0]}")
                    return self.names.index(contention[0])
        if self.random is None:
            raise LotNeededError(
                "lot-needed",
                f"Candidates {', '.join(names)} are tied in round {rnd}; a draw needs "
                "rules.randomSeed.",
                params={"candidates": names, "round": rnd},
            )
        pick = contention[int(self.random.next_double() * len(contention))]
        notes.append(f"tie {names} broken by random draw: {pick}")
        return self.names.index(pick)

    # -- winners and eliminations
    def identify_winners(
        self, tally: dict[int, int], thr: int, rnd: int, notes: list[str]
    ) -> list[int]:
        cfg = self.cfg
        mode = cfg.winner_election_mode
        if self.uwi is not None and tally.get(self.uwi, 0) != 0:
            return []
        winners: list[int] = []
        if mode == "bottomsUpUsingPercentageThreshold":
            cands = [c for c in tally if c != self.uwi]
            if all(tally[c] >= thr for c in cands):
                winners = cands
            return winners
        unfilled = cfg.number_of_winners - len(self.winner_round)
        if unfilled > 0:
            if len(tally) == unfilled:
                winners = list(tally)
            elif cfg.first_round_determines_threshold and len(tally) - 1 == cfg.number_of_winners:
                top = max(tally.values())
                winners = [c for c in tally if tally[c] == top]
            elif mode != "bottomsUp":
                winners = [c for c in tally if tally[c] >= thr and c != self.uwi]
        many = len(winners) > 1 and (
            mode == "multiWinnerAllowOnlyOneWinnerPerRound" or cfg.first_round_determines_threshold
        )
        none = (
            cfg.number_of_winners == 1
            and not winners
            and len(tally) == 2
            and unfilled == 1
            and all(Fraction(v, self.unit) >= cfg.minimum_vote_threshold for v in tally.values())
        )
        if many or none:
            top = max(tally.values())
            winners = [c for c in tally if tally[c] == top]
            if len(winners) > 1:
                winners = [self.tiebreak(winners, True, rnd, notes)]
        return winners

    def eliminate(self, tally: dict[int, int], rnd: int, notes: list[str]) -> list[int]:
        cfg = self.cfg
        if self.uwi is not None and tally.get(self.uwi, 0) > 0:
            return [self.uwi]
        ordered = sorted(set(tally.values()))
        minimum = cfg.minimum_vote_threshold * self.unit
        if minimum > 0 and ordered[0] < minimum:
            out = [c for c in tally if tally[c] < minimum]
            if len(out) == self.num_declared:
                raise InputError(
                    "all-below-minimum",
                    "Every declared candidate is below the minimum vote threshold.",
                    params={"key": "rules.minimumVoteThreshold"},
                )
            return out
        if cfg.batch_elimination:
            out = self.batch(tally, ordered)
            if len(out) > 1:
                return out
        low = [c for c in tally if tally[c] == ordered[0]]
        if len(low) > 1:
            return [self.tiebreak(low, False, rnd, notes)]
        return low

    def batch(self, tally: dict[int, int], ordered: list[int]) -> list[int]:
        running = 0
        seen: list[int] = []
        out: list[int] = []
        previous: list[int] = []
        for value in ordered:
            new = list(out)
            if running < value:
                new += [c for c in seen if c not in out]
            group = [c for c in tally if tally[c] == value]
            running += value * len(group)
            seen += group
            if len(new) > len(out):
                previous, out = out, new
        if (
            self.cfg.continue_until_two
            and len(out) + len(self.elim_round) == self.num_candidates - 1
        ):
            out = previous
        return out

    def update_winner_tallies(
        self, rnd: int, tally: dict[int, int], thr: int, transfers: dict[Any, int]
    ) -> int:
        residual_total = 0
        previous = self.tallies[-2] if len(self.tallies) > 1 else {}
        for w, won in self.winner_round.items():
            if won == rnd:
                continue
            if won == rnd - 1:
                total = sum(p.kept.get(w, 0) * p.weight for p in self.papers)
                residual = total - thr
                if residual > 0:
                    residual_total += residual
                    total = thr
                    key = (w, "residual surplus")
                    transfers[key] = transfers.get(key, 0) + residual
                tally[w] = total
            else:
                tally[w] = previous.get(w, 0)
        return residual_total

    def keep_going(self, rnd: int) -> bool:
        cfg = self.cfg
        if cfg.stop_after_round is not None and rnd >= cfg.stop_after_round:
            return False
        if cfg.continue_until_two:
            return (
                len(self.elim_round) + len(self.winner_round) + 1 < self.num_candidates
                or rnd in self.elim_round.values()
            )
        if cfg.winner_election_mode == "bottomsUpUsingPercentageThreshold":
            return not self.winner_round
        return len(self.winner_round) < cfg.number_of_winners or (
            cfg.number_of_winners > 1
            and rnd in self.winner_round.values()
            and cfg.winner_election_mode != "bottomsUp"
        )

    def run(self) -> RctabPass:
        cfg = self.cfg
        rnd = 0
        residual_carry = 0
        while self.keep_going(rnd):
            rnd += 1
            if rnd > 10 * (len(self.names) + 2):
                raise InputError("no-progress", "The count makes no progress.")
            notes: list[str] = []
            tally, inactive, transfers = self.compute_tallies(rnd)
            self.tallies.append(tally)
            recompute = rnd == 1 or (
                cfg.number_of_winners == 1
                and not cfg.first_round_determines_threshold
                and not self.winner_round
            )
            thr = self.threshold(tally) if recompute else self.thresholds[-1]
            self.thresholds.append(thr)
            winners = self.identify_winners(tally, thr, rnd, notes)
            eliminated: list[int] = []
            if winners:
                for w in winners:
                    self.winner_round[w] = rnd
                    self.status[w] = "winner"
                if cfg.number_of_winners > 1 and cfg.winner_election_mode != "bottomsUp":
                    for w in winners:
                        votes = tally[w]
                        extra = votes - thr
                        fraction = self.divide(extra, votes) if extra > 0 else 0
                        for p in self.papers:
                            if p.recipient == w and p.status == "active":
                                moved = self.multiply(p.value, fraction)
                                p.kept[w] = p.value - moved
                                p.value = moved
            elif (
                len(self.winner_round) < cfg.number_of_winners
                or (cfg.continue_until_two and len(self.elim_round) < self.num_candidates - 2)
                or cfg.winner_election_mode == "bottomsUpUsingPercentageThreshold"
            ):
                eliminated = self.eliminate(tally, rnd, notes)
                for c in eliminated:
                    self.elim_round[c] = rnd
                    self.status[c] = "eliminated"
            if cfg.number_of_winners > 1:
                residual_carry += self.update_winner_tallies(rnd, tally, thr, transfers)
            self.rounds.append(
                RoundResult(
                    round=rnd,
                    tally={self.names[c]: self.dec(v) for c, v in tally.items()},
                    inactive={k: self.dec(v) for k, v in inactive.items()},
                    threshold=self.dec(thr),
                    elected=tuple(self.names[c] for c in winners),
                    eliminated=tuple(self.names[c] for c in eliminated),
                    transfers={
                        (
                            None if a is None else self.names[a],
                            b if isinstance(b, str) or b is None else self.names[b],
                        ): self.dec(v)
                        for (a, b), v in transfers.items()
                    },
                    residual_surplus=self.dec(residual_carry),
                    tiebreaks=tuple(notes),
                )
            )
        order = sorted(
            self.winner_round,
            key=lambda c: (self.winner_round[c], -self.tallies[self.winner_round[c] - 1].get(c, 0)),
        )
        return RctabPass(tuple(self.rounds), tuple(self.names[c] for c in order))


def tabulate(profile: MarkedProfile, config: RctabConfig) -> RctabResult:
    """Count ``profile`` under the RCTab rules in ``config``; see the module docstring.

    ``profile.candidates`` are the candidates counted (an :data:`UNDECLARED_WRITE_INS` entry
    is treated as RCTab's undeclared write-ins, an :data:`EXPLICIT_OVERVOTE` entry as the
    overvote label); the configuration's ``excluded`` candidates never receive votes.

    Raises
    ------
    InputError
        If an option combination cannot be counted (explicit overvote label with
        ``exhaustIfMultipleContinuing``, every candidate below the minimum vote threshold).
    LotNeededError
        If a tie must be drawn and the configuration has no ``randomSeed``.

    >>> cfg = RctabConfig.from_dict({"rules": {"overvoteRule": "exhaustImmediately"}})
    >>> p = MarkedProfile.build(["A", "B", "C"], [([[0]], 3), ([[1], [0]], 2), ([[2], [1]], 2)])
    >>> r = tabulate(p, cfg)
    >>> r.winners, [dict(x.tally) for x in r.rounds][-1]
    (('B',), {'A': Decimal('3'), 'B': Decimal('4')})
    """
    excluded = {c.name for c in config.candidates if c.excluded}
    if config.winner_election_mode != "multiPassIrv":
        count = _Count(profile, config, excluded)
        one = count.run()
        return RctabResult(one.winners, (one,), profile.papers)
    passes: list[RctabPass] = []
    winners: list[str] = []
    single = replace(config, number_of_winners=1, winner_election_mode="singleWinnerMajority")
    for _ in range(config.number_of_winners):
        count = _Count(profile, single, excluded | set(winners))
        if count.num_declared < 1:
            break
        one = count.run()
        passes.append(one)
        winners.extend(one.winners)
    return RctabResult(tuple(winners), tuple(passes), profile.papers)
