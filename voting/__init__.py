"""Vote counting (issue 5): ranked ballots, ``.blt`` files and Scottish STV.

>>> from voting import Profile, scottish_stv
>>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B"]] * 5 + [["B"]] * 3 + [["C"]] * 2)
>>> scottish_stv(p, 1).elected
('A',)
"""

from voting.ballots import (
    ApprovalBallot,
    ApprovalProfile,
    Ballot,
    MarkedBallot,
    MarkedProfile,
    Profile,
    ScoreBallot,
    ScoreProfile,
)
from voting.blt import BltElection, parse_blt, read_blt
from voting.errors import InputError, LotNeededError, VotingError
from voting.single import (
    SINGLE_WINNER_METHODS,
    Round,
    SingleResult,
    TieLot,
    borda,
    copeland,
    instant_runoff,
    minimax,
    pairwise_matrix,
    plurality,
    ranked_pairs,
    schulze,
)
from voting.stv import UNIT, Decision, Lot, Stage, StvResult, format_votes, scottish_stv

__all__ = [
    "SINGLE_WINNER_METHODS",
    "UNIT",
    "ApprovalBallot",
    "ApprovalProfile",
    "Ballot",
    "BltElection",
    "Decision",
    "InputError",
    "Lot",
    "LotNeededError",
    "MarkedBallot",
    "MarkedProfile",
    "Profile",
    "Round",
    "ScoreBallot",
    "ScoreProfile",
    "SingleResult",
    "Stage",
    "StvResult",
    "TieLot",
    "VotingError",
    "borda",
    "copeland",
    "format_votes",
    "instant_runoff",
    "minimax",
    "pairwise_matrix",
    "parse_blt",
    "plurality",
    "ranked_pairs",
    "read_blt",
    "schulze",
    "scottish_stv",
]
