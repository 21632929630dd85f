"""Single-winner approval voting and score (range) voting, with full tallies and explicit ties.

Both return a :class:`voting.single.SingleResult` with one round holding every candidate's
total, so they are shown and serialised like the ranked single-winner methods. Ties are handled
as in :mod:`voting.single`: ``winners`` lists every candidate tied for first; with a ``seed`` a
lot from :class:`sortition.randomness.SeededStream` (label ``"<method>/winner"``, the tied
candidates in profile order, ``randbelow``) chooses the winner and is recorded in ``lots``;
without one the tie stands (``winner`` is ``None``) and nothing is chosen silently.
``tie_break="index"`` instead takes the tied candidate that comes first in the profile (no lot).

>>> from voting.ballots import ApprovalProfile
>>> p = ApprovalProfile.from_sets(["A", "B", "C"], [["A", "B"], ["B"], ["C"]])
>>> approval(p).winner
'B'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Final, Literal

from sortition.randomness import SeededStream
from voting.ballots import ApprovalProfile, ScoreProfile
from voting.errors import InputError
from voting.single import Round, SingleResult, TieLot

__all__ = ["APPROVAL_METHODS", "approval", "score"]


def _result(
    method: str,
    names: tuple[str, ...],
    totals: Sequence[int],
    seed: str | None,
    tie_break: Literal["lot", "index"],
    note: str,
) -> SingleResult:
    if not names:
        raise InputError("no-candidates", "There are no candidates to count.")
    if tie_break not in ("lot", "index"):
        raise InputError(
            "bad-tie-break",
            f"Unknown tie-break {tie_break!r}; use 'lot' or 'index'.",
            params={"tie_break": tie_break},
        )
    top = max(totals)
    best = [c for c, t in enumerate(totals) if t == top]
    tied = tuple(names[c] for c in best)
    lots: list[TieLot] = []
    winner: str | None = tied[0] if len(tied) == 1 or tie_break == "index" else None
    if winner is None and seed is not None:
        label = f"{method}/winner"
        winner = tied[SeededStream(seed, label).randbelow(len(tied))]
        lots.append(TieLot("winner", label, tied, winner))
    rnd = Round(1, tuple(Fraction(t) for t in totals), 0, tied, (), note)
    return SingleResult(method, names, tied, winner, (rnd,), lots=tuple(lots), seed=seed)


def approval(
    profile: ApprovalProfile,
    *,
    seed: str | None = None,
    tie_break: Literal["lot", "index"] = "lot",
) -> SingleResult:
    """Approval voting: the candidate approved by the most voters wins.

    Parameters
    ----------
    profile : ApprovalProfile
    seed : str, optional
        Seed of the lot that breaks a tie for first; without it a tie is returned.
    tie_break : {"lot", "index"}
        ``"index"``: the tied candidate first in the profile wins (no lot is drawn).

    References
    ----------
    S. J. Brams and P. C. Fishburn, "Approval voting", *American Political Science Review*
    72(3), 1978, pp. 831-847. doi:10.2307/1955105

    Examples
    --------
    >>> p = ApprovalProfile.from_sets(["A", "B"], [["A"], ["B"]])
    >>> r = approval(p, seed="2026")
    >>> r.winners, r.lots[0].label
    (('A', 'B'), 'approval/winner')
    """
    totals = [0] * len(profile.candidates)
    for b in profile.ballots:
        for c in b.approved:
            totals[c] += b.weight
    return _result("approval", profile.candidates, totals, seed, tie_break, "approvals")


def score(
    profile: ScoreProfile,
    *,
    seed: str | None = None,
    tie_break: Literal["lot", "index"] = "lot",
) -> SingleResult:
    """Score (range) voting: the candidate with the highest total score wins.

    Every ballot gives each candidate whole points (``ScoreProfile``, bounded by its
    ``max_score`` and ``max_total``); a candidate's total is the sum over ballots. Cumulative
    voting is the same count on ballots with a ``max_total``.

    References
    ----------
    W. D. Smith, "Range voting", 2000,
    https://rangevoting.org/WarrenSmithPages/homepage/rangevote.pdf;
    C. Hillinger, "The case for utilitarian voting", *Homo Oeconomicus* 22(3), 2005,
    pp. 295-321.

    Examples
    --------
    >>> p = ScoreProfile.build(["A", "B", "C"], [((5, 3, 0), 2), ((0, 3, 5), 1)], max_score=5)
    >>> r = score(p)
    >>> r.winner, [str(t) for t in r.rounds[0].totals]
    ('A', ['10', '9', '5'])
    """
    totals = [0] * len(profile.candidates)
    for b in profile.ballots:
        for c, points in enumerate(b.scores):
            totals[c] += points * b.weight
    return _result("score", profile.candidates, totals, seed, tie_break, "total score")


#: The approval and score single-winner methods by their command-line names.
APPROVAL_METHODS: Final[dict[str, Callable[..., SingleResult]]] = {
    "approval": approval,
    "score": score,
}
