"""Vote counting (issue 5): ranked ballots, ``.blt`` files and Scottish STV.

>>> from voting import Profile, scottish_stv
>>> p = Profile.from_rankings(["A", "B", "C"], [["A", "B"]] * 5 + [["B"]] * 3 + [["C"]] * 2)
>>> scottish_stv(p, 1).elected
('A',)
"""

from voting.approval import APPROVAL_METHODS, approval, score
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
from voting.committee import (
    COMMITTEE_METHODS,
    CommitteeResult,
    CommitteeRound,
    CommitteeTie,
    av,
    cc,
    ejr_violation,
    equal_shares,
    pav,
    sav,
    seq_phragmen,
    winning_committees,
)
from voting.csvballots import CsvBallots, read_csv_ballots, write_csv_ballots
from voting.cvr import load_contest, read_cvrs
from voting.errors import InputError, LotNeededError, VotingError
from voting.meek import MeekResult, MeekRound, meek_stv
from voting.preflib import PreflibFile, read_preflib, write_preflib
from voting.rctab import RctabConfig, RctabResult
from voting.rctab import tabulate as rctab_tabulate
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
    "APPROVAL_METHODS",
    "COMMITTEE_METHODS",
    "SINGLE_WINNER_METHODS",
    "UNIT",
    "ApprovalBallot",
    "ApprovalProfile",
    "Ballot",
    "BltElection",
    "CommitteeResult",
    "CommitteeRound",
    "CommitteeTie",
    "CsvBallots",
    "Decision",
    "InputError",
    "Lot",
    "LotNeededError",
    "MarkedBallot",
    "MarkedProfile",
    "MeekResult",
    "MeekRound",
    "PreflibFile",
    "Profile",
    "RctabConfig",
    "RctabResult",
    "Round",
    "ScoreBallot",
    "ScoreProfile",
    "SingleResult",
    "Stage",
    "StvResult",
    "TieLot",
    "VotingError",
    "approval",
    "av",
    "borda",
    "cc",
    "copeland",
    "ejr_violation",
    "equal_shares",
    "format_votes",
    "instant_runoff",
    "load_contest",
    "meek_stv",
    "minimax",
    "pairwise_matrix",
    "parse_blt",
    "pav",
    "plurality",
    "ranked_pairs",
    "rctab_tabulate",
    "read_blt",
    "read_csv_ballots",
    "read_cvrs",
    "read_preflib",
    "sav",
    "schulze",
    "score",
    "scottish_stv",
    "seq_phragmen",
    "winning_committees",
    "write_csv_ballots",
    "write_preflib",
]
