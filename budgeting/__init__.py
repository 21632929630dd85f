"""Participatory budgeting (issue 4): instances, ballots, pabulib files, and what rules see.

* :mod:`budgeting.model`: an :class:`Instance` (projects, budget, every META entry and the
  ballot rules it states) kept apart from the :class:`Profile` (the ballots), and
  :func:`ballot_problems`, which says in words what is wrong with a resident's ballot.
* :mod:`budgeting.pabulib`: :func:`read_pb` and :func:`write_pb` for pabulib ``.pb`` files, and
  :func:`to_election`, which makes the :class:`Election` (projects by index, exact costs,
  merged weighted ballots) the rules work on.
* :mod:`budgeting.election`: :class:`Election`, :class:`TieBreak`, :class:`Outcome`,
  :class:`Explanation`, :class:`Explanations`.
* :mod:`budgeting.errors`: :class:`BudgetingError` and its subclasses, each with a code, a
  message and the file, line and field.

The file format and the data are those of Pabulib: D. Stolicki, S. Szufa and N. Talmon,
"Pabulib: A Participatory Budgeting Library", arXiv:2012.06539 (2020); P. Faliszewski,
J. Flis, D. Peters, G. Pierczyński, P. Skowron, D. Stolicki, S. Szufa and N. Talmon,
"Participatory Budgeting: Data, Tools and Analysis", IJCAI 2023, arXiv:2305.11035.
"""

from budgeting.election import (
    VOTE_TYPES,
    Election,
    Explanation,
    Explanations,
    Outcome,
    TieBreak,
    VoteType,
    WeightedBallot,
)
from budgeting.errors import BallotProblem, BudgetingError, InputError, InvalidBallotError
from budgeting.model import (
    Ballot,
    BallotRules,
    Instance,
    Profile,
    Project,
    ballot_problems,
    check_ballot,
    format_number,
    parse_number,
)
from budgeting.pabulib import format_pb, parse_pb, read_pb, to_election, write_pb

__all__ = [
    "VOTE_TYPES",
    "Ballot",
    "BallotProblem",
    "BallotRules",
    "BudgetingError",
    "Election",
    "Explanation",
    "Explanations",
    "InputError",
    "Instance",
    "InvalidBallotError",
    "Outcome",
    "Profile",
    "Project",
    "TieBreak",
    "VoteType",
    "WeightedBallot",
    "ballot_problems",
    "check_ballot",
    "format_number",
    "format_pb",
    "parse_number",
    "parse_pb",
    "read_pb",
    "to_election",
    "write_pb",
]
