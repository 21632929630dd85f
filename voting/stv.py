"""Single transferable vote as counted in Scottish local government elections.

:func:`scottish_stv` follows the Scottish Local Government Elections Order 2007 (SSI 2007/42),
schedule 1, rules 45–52, to the letter:

* rule 46, the quota: ``floor(valid poll / (seats + 1)) + 1`` whole votes;
* rule 47: a candidate whose votes equal or exceed the quota is deemed elected;
* rules 48–49, the weighted inclusive Gregory method: *all* papers of an elected candidate
  move, each with transfer value ``surplus × value of the paper when received / total votes of
  the candidate``, "calculated to five decimal places (any remainder being ignored)", that is
  truncated. Surpluses move one at a time, largest first; equal surpluses go in order of the
  votes at the most recent preceding stage at which they differed, then by lot;
* rules 50–51: when no surplus remains, the continuing candidate with fewest votes is excluded
  and all their papers move in one stage, each at the value at which it was received; equal
  lowest candidates are separated by the most recent preceding stage at which they differed,
  then by lot;
* rule 52: when the continuing candidates are as many as the vacancies, they are all elected and
  nothing more moves.

Arithmetic is exact: every vote value and total is an integer number of units of 0.00001
(:data:`UNIT` units make one vote), so the transfer value is ``surplus * value // total`` and
nothing is rounded anywhere else. A surplus transfer loses at most a few units to truncation;
each stage reports that loss next to the non-transferable votes, so that in every stage
``sum(totals) + non-transferable + truncation loss == valid poll`` (cumulative), exactly.

Lots are drawn from :class:`sortition.randomness.SeededStream` with the recorded ``seed`` and
the label ``scottish-stv/stage-<n>/<surplus|exclusion>``: the tied candidates are listed in
profile order and the one at index ``randbelow(len(tied))`` is chosen (transferred first, or
excluded).

>>> from voting.ballots import Profile
>>> p = Profile.build(["A", "B", "C"], [((0, 1), 6), ((1,), 2), ((2,), 3)])
>>> r = scottish_stv(p, 1)
>>> r.quota, r.elected
(6, ('A',))

References
----------
The Scottish Local Government Elections Order 2007, SSI 2007/42, schedule 1, rules 45–52,
https://www.legislation.gov.uk/ssi/2007/42/schedule/1/made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sortition.randomness import SeededStream
from voting.ballots import Profile
from voting.errors import InputError, LotNeededError

__all__ = ["UNIT", "Decision", "Lot", "Stage", "StvResult", "format_votes", "scottish_stv"]

logger = logging.getLogger(__name__)

UNIT = 100_000
"""Units of vote value in one vote: values are exact multiples of 0.00001."""


def format_votes(units: int) -> str:
    """Write a value in units of 0.00001 as a decimal with five places.

    >>> format_votes(13961250), format_votes(-7600000), format_votes(3)
    ('139.61250', '-76.00000', '0.00003')
    """
    sign = "-" if units < 0 else ""
    whole, rest = divmod(abs(units), UNIT)
    return f"{sign}{whole}.{rest:05d}"


@dataclass(frozen=True, slots=True)
class Decision:
    """A candidate deemed elected or excluded, at which stage, under which rule and why.

    For an exclusion, ``stage`` is the stage in which the candidate's papers are transferred
    (official result sheets often name the stage before it, whose totals decided it).
    """

    candidate: str
    kind: Literal["elected", "excluded"]
    stage: int
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class Lot:
    """A tie broken by lot: the stream label, the tied candidates and the one chosen."""

    stage: int
    purpose: Literal["surplus", "exclusion"]
    label: str
    tied: tuple[str, ...]
    chosen: str


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of the count; vote values are integers in units of 0.00001 (:data:`UNIT`).

    ``totals`` and ``transfers`` are aligned with :attr:`StvResult.candidates`. ``action`` is
    what happened in the stage and ``candidate`` whose surplus or papers moved.
    ``non_transferable`` and ``truncation_loss`` are those of this stage only.
    """

    number: int
    action: Literal["first-preferences", "surplus", "exclusion"]
    candidate: str | None
    totals: tuple[int, ...]
    transfers: tuple[int, ...]
    non_transferable: int
    truncation_loss: int
    elected: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StvResult:
    """The outcome of a count with every stage and every decision, explained."""

    candidates: tuple[str, ...]
    seats: int
    valid_poll: int
    quota: int
    elected: tuple[str, ...]
    stages: tuple[Stage, ...]
    decisions: tuple[Decision, ...]
    lots: tuple[Lot, ...]
    seed: str | None

    def totals_text(self, stage: int) -> dict[str, str]:
        """Each candidate's total at the end of stage ``stage`` (from 1), as ``"123.45678"``."""
        st = self.stages[stage - 1]
        return {c: format_votes(v) for c, v in zip(self.candidates, st.totals, strict=True)}

    def table(self) -> str:
        """A plain-text table: one row per candidate, one column per stage."""
        width = max([len(c) for c in self.candidates] + [16])
        rows = ["stage".ljust(width) + "".join(f"{s.number:>14}" for s in self.stages)]
        for i, c in enumerate(self.candidates):
            rows.append(
                c.ljust(width) + "".join(f"{format_votes(s.totals[i]):>14}" for s in self.stages)
            )
        nt = 0
        loss = 0
        cells_nt = []
        cells_loss = []
        for s in self.stages:
            nt += s.non_transferable
            loss += s.truncation_loss
            cells_nt.append(f"{format_votes(nt):>14}")
            cells_loss.append(f"{format_votes(loss):>14}")
        rows.append("non-transferable".ljust(width) + "".join(cells_nt))
        rows.append("truncation loss".ljust(width) + "".join(cells_loss))
        return "\n".join(rows)


def _validate(profile: Profile, seats: int) -> None:
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise InputError(
            "bad-seats",
            f"The number of seats must be a whole number of at least 1, not {seats!r}.",
            params={"seats": seats},
        )
    if not profile.candidates:
        raise InputError("no-candidates", "There are no candidates to elect.")


def scottish_stv(profile: Profile, seats: int, *, seed: str | None = None) -> StvResult:
    """Count ``profile`` for ``seats`` vacancies under SSI 2007/42 rules 45–52.

    Parameters
    ----------
    profile : Profile
        The valid ballot papers.
    seats : int
        The number of councillors to elect.
    seed : str, optional
        The recorded seed for ties that only a lot can break. Without a seed such a tie raises
        :class:`~voting.errors.LotNeededError`.

    Returns
    -------
    StvResult
        The quota, the elected candidates in order of election, every stage's totals,
        transfers, non-transferable votes and truncation loss, and every decision with its rule.
    """
    _validate(profile, seats)
    cands = profile.candidates
    n = len(cands)
    rankings = [b.ranking for b in profile.ballots]
    valid = profile.valid_poll
    quota_votes = valid // (seats + 1) + 1
    quota = quota_votes * UNIT

    # A parcel is (ballot index, position of the current preference, value per paper, papers).
    piles: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n)]
    totals = [0] * n
    for bi, b in enumerate(profile.ballots):
        first = b.ranking[0]
        piles[first].append((bi, 0, UNIT, b.weight))
        totals[first] += UNIT * b.weight
    continuing = [True] * n
    pending: list[int] = []  # elected, surplus not yet transferred
    elected: list[int] = []
    history: list[tuple[int, ...]] = []
    stages: list[Stage] = []
    decisions: list[Decision] = []
    lots: list[Lot] = []

    def break_tie(
        tied: list[int], *, highest: bool, stage_no: int, purpose: Literal["surplus", "exclusion"]
    ) -> tuple[int, str]:
        group = sorted(tied)
        for k in range(len(history) - 1, -1, -1):
            votes = [history[k][c] for c in group]
            best = max(votes) if highest else min(votes)
            narrowed = [c for c, v in zip(group, votes, strict=True) if v == best]
            if len(narrowed) < len(group):
                group = narrowed
                if len(group) == 1:
                    return group[0], f"stage {k + 1}"
        label = f"scottish-stv/stage-{stage_no}/{purpose}"
        names = tuple(cands[c] for c in group)
        if seed is None:
            raise LotNeededError(
                "lot-needed",
                f"At stage {stage_no} the {purpose} tie between {', '.join(names)} can only be "
                "broken by lot; count again with a recorded seed.",
                params={"stage": stage_no, "tied": names},
            )
        chosen = group[SeededStream(seed, label).randbelow(len(group))]
        lots.append(Lot(stage_no, purpose, label, names, cands[chosen]))
        return chosen, "lot"

    def move(
        parcels: list[tuple[int, int, int, int]],
        fraction: tuple[int, int] | None,
        transfers: list[int],
    ) -> int:
        """Move parcels to their next continuing preferences; return the non-transferable value.

        With ``fraction = (surplus, total)`` each paper's new value is ``surplus * value //
        total`` (rule 48(3), truncated); without it papers keep their value (rule 50(4)).
        """
        nt = 0
        for bi, pos, value, count in parcels:
            new_value = value if fraction is None else fraction[0] * value // fraction[1]
            ranking = rankings[bi]
            p = pos + 1
            while p < len(ranking) and not continuing[ranking[p]]:
                p += 1
            if p < len(ranking):
                d = ranking[p]
                piles[d].append((bi, p, new_value, count))
                transfers[d] += new_value * count
            else:
                nt += new_value * count
        return nt

    stage_no = 1
    action: Literal["first-preferences", "surplus", "exclusion"] = "first-preferences"
    subject: int | None = None
    transfers = [0] * n
    nt = 0
    loss = 0
    notes: list[str] = [f"valid poll {valid}, quota {quota_votes}"]
    while True:
        history.append(tuple(totals))
        newly: list[int] = []
        reached = [c for c in range(n) if continuing[c] and totals[c] >= quota]
        for c in sorted(reached, key=lambda c: (-totals[c], c)):
            continuing[c] = False
            elected.append(c)
            newly.append(c)
            if totals[c] > quota:
                pending.append(c)
            decisions.append(
                Decision(
                    cands[c],
                    "elected",
                    stage_no,
                    "47",
                    f"reached the quota of {quota_votes} with {format_votes(totals[c])} votes",
                )
            )
        vacancies = seats - len(elected)
        left = [c for c in range(n) if continuing[c]]
        done = vacancies <= 0
        if not done and len(left) <= vacancies:
            for c in left:
                continuing[c] = False
                elected.append(c)
                newly.append(c)
                decisions.append(
                    Decision(
                        cands[c],
                        "elected",
                        stage_no,
                        "52",
                        f"{len(left)} continuing candidate(s) for {vacancies} vacancy(ies)",
                    )
                )
            done = True
        stages.append(
            Stage(
                number=stage_no,
                action=action,
                candidate=None if subject is None else cands[subject],
                totals=tuple(totals),
                transfers=tuple(transfers),
                non_transferable=nt,
                truncation_loss=loss,
                elected=tuple(cands[c] for c in newly),
                notes=tuple(notes),
            )
        )
        if done:
            break
        stage_no += 1
        transfers = [0] * n
        notes = []
        with_surplus = [c for c in pending if totals[c] > quota]
        if with_surplus:
            top = max(totals[c] for c in with_surplus)
            tied = [c for c in with_surplus if totals[c] == top]
            if len(tied) == 1:
                c = tied[0]
            else:
                c, how = break_tie(tied, highest=True, stage_no=stage_no, purpose="surplus")
                notes.append(
                    f"equal surpluses of {', '.join(cands[t] for t in sorted(tied))}: "
                    f"{cands[c]} first ({'by lot' if how == 'lot' else 'larger at ' + how})"
                )
            pending.remove(c)
            total = totals[c]
            surplus = total - quota
            parcels, piles[c] = piles[c], []
            nt = move(parcels, (surplus, total), transfers)
            loss = surplus - sum(transfers) - nt
            transfers[c] = -surplus
            totals[c] = quota
            action, subject = "surplus", c
            notes.append(
                f"surplus {format_votes(surplus)} of {cands[c]} ({format_votes(total)} votes)"
            )
        else:
            left_votes = min(totals[c] for c in left)
            tied = [c for c in left if totals[c] == left_votes]
            rule, why = "50", f"fewest votes ({format_votes(left_votes)})"
            if len(tied) == 1:
                c = tied[0]
            else:
                c, how = break_tie(tied, highest=False, stage_no=stage_no, purpose="exclusion")
                rule = "51"
                why += f", tied with {', '.join(cands[t] for t in sorted(tied) if t != c)}; " + (
                    "chosen by lot" if how == "lot" else f"fewer at {how}"
                )
            continuing[c] = False
            parcels, piles[c] = piles[c], []
            nt = move(parcels, None, transfers)
            loss = 0
            transfers[c] = -totals[c]
            totals[c] = 0
            action, subject = "exclusion", c
            decisions.append(Decision(cands[c], "excluded", stage_no, rule, why))
            notes.append(f"exclusion of {cands[c]}")
        for c in range(n):
            if c != subject:
                totals[c] += transfers[c]
        logger.debug("stage %d: %s", stage_no, "; ".join(notes))

    return StvResult(
        candidates=cands,
        seats=seats,
        valid_poll=valid,
        quota=quota_votes,
        elected=tuple(cands[c] for c in elected),
        stages=tuple(stages),
        decisions=tuple(decisions),
        lots=tuple(lots),
        seed=seed,
    )
