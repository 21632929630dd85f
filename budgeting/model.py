"""Participatory-budgeting data as a pabulib file holds it: projects, META, ballots.

The vocabulary follows pabulib (https://pabulib.org/format; Stolicki, Szufa and Talmon 2020,
arXiv:2012.06539; Faliszewski et al., IJCAI 2023, arXiv:2305.11035) and pabutools: an
:class:`Instance` (projects, budget and every META entry) is separate from the :class:`Profile`
(the ballots). Both keep everything a file holds, in file order, including columns and META keys
this package does not use, so that :func:`budgeting.pabulib.write_pb` writes back what
:func:`budgeting.pabulib.read_pb` read. The rules do not see these objects: they work on a
:class:`budgeting.election.Election` made by :func:`budgeting.pabulib.to_election`.

The META entries stay strings (``Instance.meta``); the ones with a meaning are parsed once, when
the instance is made, into exact views: :attr:`Instance.budget`, :attr:`Instance.vote_type`,
:attr:`Instance.rules` (what a valid ballot looks like: :class:`BallotRules`),
:attr:`Instance.budget_per_category`, :attr:`Instance.budget_per_neighbourhood` and
:attr:`Instance.min_project_score_threshold`. :func:`ballot_problems` says in words (English
and Dutch) what is wrong with a ballot, for the service to show a resident who votes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from budgeting.election import VOTE_TYPES, VoteType
from budgeting.errors import BallotProblem, InputError, InvalidBallotError

__all__ = [
    "Ballot",
    "BallotRules",
    "Instance",
    "Profile",
    "Project",
    "ballot_problems",
    "check_ballot",
    "format_number",
    "parse_number",
]

#: Vote types whose ballots carry points.
POINTS_TYPES: frozenset[str] = frozenset({"cumulative", "scoring"})

#: PROJECTS columns with a field of their own in :class:`Project` (lower case; the others go to
#: ``Project.extra``). The first name of each pair is the one written for a new instance.
PROJECT_FIELDS: dict[str, str] = {
    "project_id": "id",
    "cost": "cost",
    "name": "name",
    "category": "categories",
    "categories": "categories",
    "target": "targets",
    "targets": "targets",
    "neighborhood": "neighbourhood",
    "neighbourhood": "neighbourhood",
}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+/\d+")


def parse_number(text: str) -> Fraction:
    """Read a number as pabulib files write it, exactly.

    Accepts integers, decimals with a point (``1546168.66``), decimals with one comma
    (``1546168,66``, as Dutch and Polish spreadsheets write them), an exponent (``1e6``) and
    fractions (``1/3``, which :func:`format_number` writes for values with no finite decimal
    expansion). Surrounding whitespace is ignored.

    Parameters
    ----------
    text : str
        The text of one cell.

    Returns
    -------
    Fraction
        The exact value.

    Raises
    ------
    ValueError
        If ``text`` is not such a number.

    Examples
    --------
    >>> parse_number("1546168,66")
    Fraction(77308433, 50)
    >>> parse_number("250000.0")
    Fraction(250000, 1)
    """
    cleaned = text.strip()
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a number: {text!r}")
    try:
        return Fraction(cleaned)
    except ZeroDivisionError:
        raise ValueError(f"not a number: {text!r}") from None


def format_number(value: Fraction | int) -> str:
    """Write a number exactly, as a decimal when it has a finite one.

    Integers are written without a decimal point, other values with a finite decimal expansion
    as decimals (``1546168.66``), and the rest as a fraction (``1/3``), which
    :func:`parse_number` reads back.

    Examples
    --------
    >>> format_number(Fraction(77308433, 50))
    '1546168.66'
    >>> format_number(Fraction(1, 3))
    '1/3'
    """
    if not isinstance(value, Fraction):
        value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    rest, twos, fives = value.denominator, 0, 0
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = value.numerator * 10**places // value.denominator
    digits = str(abs(scaled)).rjust(places + 1, "0")
    sign = "-" if scaled < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _is_absent(text: str) -> bool:
    """An empty cell or pabulib's ``None`` stands for 'not given'."""
    stripped = text.strip()
    return not stripped or stripped.casefold() == "none"


def _pairs(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple((str(k), str(v)) for k, v in items)


def _lookup(pairs: tuple[tuple[str, str], ...], key: str) -> str | None:
    for name, value in pairs:
        if name == key:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Project:
    """One project of a participatory budget.

    Attributes
    ----------
    id : str
        The project's id (pabulib ``project_id``); unique, not empty, without commas (a vote
        lists ids separated by commas).
    cost : Fraction
        What the project costs, exactly.
    name : str
        Its full name; empty if not given.
    categories, targets : tuple of str
        Its categories and target groups (pabulib ``category`` and ``target``, comma-separated
        lists), in the file's order.
    neighbourhood : str
        The neighbourhood it is in (pabulib ``neighborhood``); empty if not given.
    extra : tuple of (str, str)
        The other columns (``votes``, ``score``, ``selected``, ``district``, ``latitude``, ...)
        as ``(column, text)`` pairs in the file's order; a ``None`` cell is kept as ``""``.
    """

    id: str
    cost: Fraction
    name: str = ""
    categories: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    neighbourhood: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.cost, Fraction):  # an int, or a float as its decimal text
            cost = self.cost
            object.__setattr__(
                self, "cost", Fraction(repr(cost)) if isinstance(cost, float) else Fraction(cost)
            )
        if not self.id or "," in self.id or self.id != self.id.strip():
            raise InputError(
                "bad-project-id",
                f"the project id {self.id!r} is empty, has a comma or surrounding spaces; "
                "ballots list ids separated by commas, so an id must be a non-empty text "
                "without commas",
                column="project_id",
                params={"project": self.id},
            )
        if self.cost < 0:
            raise InputError(
                "bad-cost",
                f"project '{self.id}' has a negative cost ({format_number(self.cost)})",
                column="cost",
                params={"project": self.id, "cost": format_number(self.cost)},
            )
        for label in (*self.categories, *self.targets):
            if not label or "," in label or label != label.strip():
                raise InputError(
                    "bad-category",
                    f"project '{self.id}' has a category or target {label!r} that is empty, "
                    "has a comma or surrounding spaces",
                    column="category",
                    params={"project": self.id, "label": label},
                )
        for column, _ in self.extra:
            if column.casefold() in PROJECT_FIELDS:
                raise InputError(
                    "reserved-column",
                    f"project '{self.id}' has an extra column '{column}', which is a field of "
                    "its own; set that field instead",
                    column=column,
                    params={"project": self.id, "column": column},
                )

    def get(self, column: str, default: str | None = None) -> str | None:
        """The text of an extra column (``"votes"``, ``"selected"``, ...), or ``default``."""
        value = _lookup(self.extra, column)
        return default if value is None else value


@dataclass(frozen=True, slots=True)
class BallotRules:
    """What a valid ballot looks like, as the META section says (pabulib's names).

    Every limit is ``None`` when the file does not give it; :func:`ballot_problems` then applies
    pabulib's default: ``min_length`` 1 (and ``max_length`` 1 for ``choose-1``), no cost
    limits, ``min_points`` 0 and ``max_points`` = ``max_sum_points`` for cumulative ballots.

    Attributes
    ----------
    min_length, max_length : int or None
        Fewest and most projects on a ballot.
    min_sum_cost, max_sum_cost : Fraction or None
        Least and most total cost of the projects on an (approval) ballot.
    min_points, max_points : Fraction or None
        Least and most points for one project (cumulative, scoring).
    min_sum_points, max_sum_points : Fraction or None
        Least and most points in all (cumulative).
    default_score : Fraction or None
        Points of a project a scoring ballot does not list (pabulib default 0).
    scoring_fn : str or None
        How ranks become scores (ordinal; pabulib default Borda), as text.
    min_length_per_category, max_length_per_category : dict of str to int
        Fewest and most projects per category (Amsterdam); empty when not given.
    min_sum_cost_per_category, max_sum_cost_per_category : dict of str to Fraction
        Least and most cost per category (Amsterdam); empty when not given.
    """

    min_length: int | None = None
    max_length: int | None = None
    min_sum_cost: Fraction | None = None
    max_sum_cost: Fraction | None = None
    min_points: Fraction | None = None
    max_points: Fraction | None = None
    min_sum_points: Fraction | None = None
    max_sum_points: Fraction | None = None
    default_score: Fraction | None = None
    scoring_fn: str | None = None
    min_length_per_category: dict[str, int] = field(default_factory=dict)
    max_length_per_category: dict[str, int] = field(default_factory=dict)
    min_sum_cost_per_category: dict[str, Fraction] = field(default_factory=dict)
    max_sum_cost_per_category: dict[str, Fraction] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Instance:
    """The projects and the META section of a participatory budget.

    ``meta`` is the single source of truth: the views below are parsed from it when the
    instance is made (and an :class:`~budgeting.errors.InputError` naming the META key is
    raised if one is malformed). Use :meth:`build` to make an instance from exact values.

    Attributes
    ----------
    projects : tuple of Project
        The projects, in the file's order; ids are unique.
    meta : tuple of (str, str)
        Every META entry as ``(key, text)``, in the file's order, unknown keys included.
        ``budget`` and ``vote_type`` must be there.
    project_columns : tuple of str
        The PROJECTS header, as read (for writing the file back); derived from the projects
        when not given.
    budget : Fraction
        The META ``budget``.
    vote_type : VoteType
        The META ``vote_type``.
    rules : BallotRules
        The ballot rules given in META.
    categories : tuple of str
        The META ``categories`` list if given, otherwise the projects' categories in order of
        first appearance.
    neighbourhoods : tuple of str
        The META ``neighborhoods`` list if given, otherwise the projects' neighbourhoods in
        order of first appearance.
    budget_per_category : dict of str to Fraction, or None
        Amsterdam's ``budget_per_category`` (aligned with META ``categories``): the most the
        funded projects of each category may cost.
    budget_per_neighbourhood : dict of str to Fraction, or None
        Amsterdam's ``budget_per_neighborhood`` (aligned with META ``neighborhoods``).
    min_project_score_threshold : Fraction or None
        The least score (votes, for approval) a project needs to be funded.
    """

    projects: tuple[Project, ...]
    meta: tuple[tuple[str, str], ...]
    project_columns: tuple[str, ...] = ()
    budget: Fraction = field(init=False, compare=False, repr=False)
    vote_type: VoteType = field(init=False, compare=False, repr=False)
    rules: BallotRules = field(init=False, compare=False, repr=False)
    categories: tuple[str, ...] = field(init=False, compare=False, repr=False)
    neighbourhoods: tuple[str, ...] = field(init=False, compare=False, repr=False)
    budget_per_category: dict[str, Fraction] | None = field(init=False, compare=False, repr=False)
    budget_per_neighbourhood: dict[str, Fraction] | None = field(
        init=False, compare=False, repr=False
    )
    min_project_score_threshold: Fraction | None = field(init=False, compare=False, repr=False)
    _index: dict[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "meta", _pairs(self.meta))
        index: dict[str, int] = {}
        for j, project in enumerate(self.projects):
            if project.id in index:
                raise InputError(
                    "duplicate-project",
                    f"project id '{project.id}' occurs more than once; ids must be unique",
                    column="project_id",
                    params={"project": project.id},
                )
            index[project.id] = j
        object.__setattr__(self, "_index", index)
        if not self.project_columns:
            object.__setattr__(self, "project_columns", _project_columns(self.projects))
        else:
            object.__setattr__(self, "project_columns", tuple(self.project_columns))
        _MetaParser(self).parse()

    @classmethod
    def build(
        cls,
        projects: Iterable[Project],
        *,
        budget: Fraction | int,
        vote_type: VoteType,
        meta: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> Instance:
        """Make an instance from exact values; ``budget`` and ``vote_type`` go into ``meta``.

        Parameters
        ----------
        projects : iterable of Project
            The projects, in order.
        budget : Fraction or int
            The total budget.
        vote_type : VoteType
            One of :data:`budgeting.election.VOTE_TYPES`.
        meta : mapping or pairs, optional
            Further META entries (``description``, ``max_length``, ...), as text. A ``budget``
            or ``vote_type`` entry in it is replaced.

        Examples
        --------
        >>> inst = Instance.build([Project("a", Fraction(3))], budget=5, vote_type="approval")
        >>> inst.meta
        (('budget', '5'), ('vote_type', 'approval'))
        """
        updates = {"budget": format_number(Fraction(budget)), "vote_type": str(vote_type)}
        pairs = [(k, v) for k, v in _pairs(meta) if k not in updates]
        return cls(tuple(projects), (*updates.items(), *pairs))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The text of a META entry, or ``default`` when the file does not have it."""
        value = _lookup(self.meta, key)
        return default if value is None else value

    def with_meta(self, updates: Mapping[str, str]) -> Instance:
        """A copy with META entries replaced in place (or appended when new).

        Useful to set ``num_projects``/``num_votes`` before writing a file.
        """
        known = {key for key, _ in self.meta}
        pairs = [(k, updates.get(k, v)) for k, v in self.meta]
        pairs += [(k, str(v)) for k, v in updates.items() if k not in known]
        return Instance(self.projects, tuple(pairs), self.project_columns)

    @property
    def ids(self) -> tuple[str, ...]:
        """The project ids, in order."""
        return tuple(p.id for p in self.projects)

    def index(self, project_id: str) -> int:
        """The position of the project with this id; ``KeyError`` if there is none."""
        return self._index[project_id]

    def project(self, project_id: str) -> Project:
        """The project with this id; ``KeyError`` if there is none."""
        return self.projects[self._index[project_id]]

    def __contains__(self, project_id: object) -> bool:
        return project_id in self._index


def _project_columns(projects: Sequence[Project]) -> tuple[str, ...]:
    columns = ["project_id", "cost"]
    if any(p.name for p in projects):
        columns.append("name")
    if any(p.categories for p in projects):
        columns.append("category")
    if any(p.targets for p in projects):
        columns.append("target")
    if any(p.neighbourhood for p in projects):
        columns.append("neighborhood")
    seen = set(columns)
    for project in projects:
        for column, _ in project.extra:
            if column not in seen:
                seen.add(column)
                columns.append(column)
    return tuple(columns)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _first_seen(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(label for group in groups for label in group if label))


class _MetaParser:
    """Parses the META views of an instance, raising InputError with the key as column."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.values: dict[str, str] = {}
        for key, value in instance.meta:
            if not key or key != key.strip():
                raise InputError(
                    "bad-meta-key",
                    f"META key {key!r} is empty or has surrounding spaces",
                    column=key,
                    params={"key": key},
                )
            if key in self.values:
                raise InputError(
                    "duplicate-meta-key",
                    f"META has more than one '{key}' line; keep one",
                    column=key,
                    params={"key": key},
                )
            self.values[key] = value

    def set(self, name: str, value: object) -> None:
        object.__setattr__(self.instance, name, value)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value is None or _is_absent(value) else value.strip()

    def number(self, key: str, *, what: str = "a number") -> Fraction | None:
        text = self.text(key)
        if text is None:
            return None
        try:
            return parse_number(text)
        except ValueError:
            raise self.error(key, f"'{key}' must be {what}, not '{text}'") from None

    def count(self, key: str) -> int | None:
        value = self.number(key, what="a whole number")
        if value is None:
            return None
        if value.denominator != 1 or value < 0:
            raise self.error(key, f"'{key}' must be a whole number, not '{self.text(key)}'")
        return int(value)

    def error(self, key: str, message: str, code: str = "bad-meta-value") -> InputError:
        return InputError(
            code, message, column=key, params={"key": key, "value": self.values.get(key)}
        )

    def aligned(self, key: str, labels: tuple[str, ...], labels_key: str) -> list[str] | None:
        """The comma-separated list under ``key``, one per label (a single value: for all)."""
        text = self.text(key)
        if text is None:
            return None
        parts = [part.strip() for part in text.split(",")]
        if len(parts) == 1:
            return parts * len(labels)
        if self.text(labels_key) is None:
            raise self.error(
                key,
                f"'{key}' lists {len(parts)} values but META has no '{labels_key}' line "
                "saying which value belongs to which",
                code="meta-mismatch",
            )
        if len(parts) != len(labels):
            raise self.error(
                key,
                f"'{key}' lists {len(parts)} values but '{labels_key}' lists {len(labels)}; "
                "give one value per entry of "
                f"'{labels_key}'",
                code="meta-mismatch",
            )
        return parts

    def per_label(
        self, key: str, labels: tuple[str, ...], labels_key: str, *, whole: bool
    ) -> dict[str, Fraction]:
        parts = self.aligned(key, labels, labels_key)
        result: dict[str, Fraction] = {}
        for label, part in zip(labels, parts or (), strict=False):
            try:
                value = parse_number(part)
            except ValueError:
                raise self.error(key, f"'{key}' has '{part}', which is not a number") from None
            if whole and (value.denominator != 1 or value < 0):
                raise self.error(key, f"'{key}' has '{part}', which is not a whole number")
            result[label] = value
        return result

    def parse(self) -> None:
        instance = self.instance
        budget = self.number("budget")
        if budget is None:
            raise InputError(
                "missing-meta",
                "META has no 'budget' line; add one, for example 'budget;100000'",
                column="budget",
                params={"key": "budget"},
            )
        if budget < 0:
            raise self.error("budget", f"the budget must not be negative ({budget})")
        self.set("budget", budget)
        vote_type = (self.text("vote_type") or "").casefold()
        if vote_type not in VOTE_TYPES:
            given = self.values.get("vote_type")
            message = (
                "META has no 'vote_type' line"
                if given is None
                else f"'vote_type' is '{given}', which pabulib does not know"
            )
            raise InputError(
                "bad-vote-type" if given is not None else "missing-meta",
                f"{message}; use one of {', '.join(VOTE_TYPES)}",
                column="vote_type",
                params={"key": "vote_type", "value": given, "allowed": list(VOTE_TYPES)},
            )
        self.set("vote_type", vote_type)

        listed = self.text("categories")
        categories = (
            tuple(_split_list(listed))
            if listed is not None
            else _first_seen(p.categories for p in instance.projects)
        )
        self.set("categories", categories)
        listed = self.text("neighborhoods") or self.text("neighbourhoods")
        neighbourhoods = (
            tuple(_split_list(listed))
            if listed is not None
            else _first_seen([p.neighbourhood] for p in instance.projects)
        )
        self.set("neighbourhoods", neighbourhoods)

        per_category = self.per_label("budget_per_category", categories, "categories", whole=False)
        self.set("budget_per_category", per_category if self.text("budget_per_category") else None)
        neighbourhood_key = (
            "budget_per_neighbourhood"
            if "budget_per_neighbourhood" in self.values
            else "budget_per_neighborhood"
        )
        labels_key = "neighbourhoods" if "neighbourhoods" in self.values else "neighborhoods"
        per_neighbourhood = self.per_label(
            neighbourhood_key, neighbourhoods, labels_key, whole=False
        )
        self.set(
            "budget_per_neighbourhood",
            per_neighbourhood if self.text(neighbourhood_key) else None,
        )
        self.set("min_project_score_threshold", self.number("min_project_score_threshold"))

        def whole_map(key: str) -> dict[str, int]:
            values = self.per_label(key, categories, "categories", whole=True)
            return {label: int(value) for label, value in values.items()}

        rules = BallotRules(
            min_length=self.count("min_length"),
            max_length=self.count("max_length"),
            min_sum_cost=self.number("min_sum_cost"),
            max_sum_cost=self.number("max_sum_cost"),
            min_points=self.number("min_points"),
            max_points=self.number("max_points"),
            min_sum_points=self.number("min_sum_points"),
            max_sum_points=self.number("max_sum_points"),
            default_score=self.number("default_score"),
            scoring_fn=self.text("scoring_fn"),
            min_length_per_category=whole_map("min_length_per_category"),
            max_length_per_category=whole_map("max_length_per_category"),
            min_sum_cost_per_category=self.per_label(
                "min_sum_cost_per_category", categories, "categories", whole=False
            ),
            max_sum_cost_per_category=self.per_label(
                "max_sum_cost_per_category", categories, "categories", whole=False
            ),
        )
        self.set("rules", rules)


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter's ballot, as cast.

    Attributes
    ----------
    voter_id : str
        The voter's id (pabulib ``voter_id``).
    projects : tuple of str
        Project ids in the order the ballot lists them: approved projects (approval,
        choose-1), ranked best first (ordinal), or given points (cumulative, scoring). Kept
        as cast, so a ballot may name a project twice or an unknown project;
        :func:`ballot_problems` says so.
    points : tuple of Fraction, or None
        Points per entry of ``projects`` (cumulative, scoring); None for other vote types.
    extra : tuple of (str, str)
        The other columns (``age``, ``sex``, ``neighborhood``, ``voting_method``, ...) as
        ``(column, text)`` pairs, in the file's order; a ``None`` cell is kept as ``""``.
    """

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[Fraction, ...] | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, column: str, default: str | None = None) -> str | None:
        """The text of an extra column (``"age"``, ``"sex"``, ...), or ``default``."""
        value = _lookup(self.extra, column)
        return default if value is None else value


@dataclass(frozen=True, slots=True)
class Profile:
    """The ballots of a participatory budget.

    Attributes
    ----------
    vote_type : VoteType
        One of :data:`budgeting.election.VOTE_TYPES`, the same as the instance's.
    ballots : tuple of Ballot
        The ballots, in the file's order.
    columns : tuple of str
        The VOTES header, as read (for writing the file back); derived from the ballots when
        not given: ``voter_id``, ``vote``, ``points`` (cumulative, scoring), then the extra
        columns in order of first appearance.
    """

    vote_type: VoteType
    ballots: tuple[Ballot, ...]
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.vote_type not in VOTE_TYPES:
            raise InputError(
                "bad-vote-type",
                f"vote type '{self.vote_type}' is not one of {', '.join(VOTE_TYPES)}",
                column="vote_type",
                params={"value": self.vote_type, "allowed": list(VOTE_TYPES)},
            )
        object.__setattr__(self, "ballots", tuple(self.ballots))
        if not self.columns:
            columns = ["voter_id", "vote"]
            if self.vote_type in POINTS_TYPES:
                columns.append("points")
            seen = set(columns)
            for ballot in self.ballots:
                for column, _ in ballot.extra:
                    if column not in seen:
                        seen.add(column)
                        columns.append(column)
            object.__setattr__(self, "columns", tuple(columns))
        else:
            object.__setattr__(self, "columns", tuple(self.columns))

    def __len__(self) -> int:
        return len(self.ballots)


# ----------------------------------------------------------------------------------------------
# Ballot validation


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class _Problems:
    """Collects ballot problems with their English and Dutch messages."""

    def __init__(self, currency: str | None) -> None:
        self.items: list[BallotProblem] = []
        self.currency = f" {currency}" if currency else ""

    def add(self, code: str, en: str, nl: str, **params: object) -> None:
        self.items.append(BallotProblem(code, en, nl, dict(params)))

    def money(self, value: Fraction) -> str:
        return f"{format_number(value)}{self.currency}"

    def length(self, code: str, chosen: int, limit: int, category: str | None = None) -> None:
        too_few = "-few" in code
        en_in = f" in category '{category}'" if category is not None else ""
        nl_in = f" in de categorie '{category}'" if category is not None else ""
        en_limit = "at least" if too_few else "at most"
        nl_limit = "ten minste" if too_few else "hoogstens"
        self.add(
            code,
            f"You chose {_plural(chosen, 'project', 'projects')}{en_in}; "
            f"choose {en_limit} {limit}.",
            f"U koos {_plural(chosen, 'project', 'projecten')}{nl_in}; kies er {nl_limit} {limit}.",
            chosen=chosen,
            limit=limit,
            category=category,
        )

    def cost(self, code: str, total: Fraction, limit: Fraction, category: str | None) -> None:
        too_low = "-low" in code
        en_in = f" in category '{category}'" if category is not None else ""
        nl_in = f" in de categorie '{category}'" if category is not None else ""
        en_end = (
            f"choose projects worth at least {self.money(limit)}."
            if too_low
            else f"the most you may choose is {self.money(limit)}."
        )
        nl_end = (
            f"kies projecten voor ten minste {self.money(limit)}."
            if too_low
            else f"u mag voor hoogstens {self.money(limit)} kiezen."
        )
        self.add(
            code,
            f"The projects you chose{en_in} cost {self.money(total)} together; {en_end}",
            f"De projecten die u koos{nl_in} kosten samen {self.money(total)}; {nl_end}",
            total=format_number(total),
            limit=format_number(limit),
            category=category,
        )


def ballot_problems(instance: Instance, ballot: Ballot) -> tuple[BallotProblem, ...]:
    """Everything that is wrong with a ballot under the instance's rules, in words.

    Checked, in this order: projects that are not in the instance, projects listed twice,
    points missing or given when the vote type has none, the number of projects
    (``min_length``/``max_length``; by default at least 1, and at most 1 for ``choose-1``), the
    total cost (``min_sum_cost``/``max_sum_cost``), the points per project
    (``min_points``/``max_points``; by default at least 0 and at most ``max_sum_points`` for
    cumulative ballots), the points in all (``min_sum_points``/``max_sum_points``), and the
    per-category limits (``min``/``max_length_per_category``,
    ``min``/``max_sum_cost_per_category``). Lengths and costs count each listed project once.

    Parameters
    ----------
    instance : Instance
        The projects and the rules.
    ballot : Ballot
        The ballot to check.

    Returns
    -------
    tuple of BallotProblem
        Empty when the ballot is valid.

    Examples
    --------
    >>> inst = Instance.build(
    ...     [Project("a", Fraction(60)), Project("b", Fraction(50))],
    ...     budget=100, vote_type="approval", meta={"max_sum_cost": "100", "currency": "EUR"},
    ... )
    >>> [p.en for p in ballot_problems(inst, Ballot("v1", ("a", "b")))]
    ['The projects you chose cost 110 EUR together; the most you may choose is 100 EUR.']
    """
    found = _Problems(instance.get("currency"))
    rules = instance.rules
    vote_type = instance.vote_type
    listed = list(dict.fromkeys(ballot.projects))
    for project_id in listed:
        if project_id not in instance:
            found.add(
                "unknown-project",
                f"Project '{project_id}' is not one of the projects of this vote.",
                f"Project '{project_id}' hoort niet bij deze stemming.",
                project=project_id,
            )
    if len(listed) != len(ballot.projects):
        counts: dict[str, int] = {}
        for project_id in ballot.projects:
            counts[project_id] = counts.get(project_id, 0) + 1
        for project_id in listed:
            if counts[project_id] > 1:
                found.add(
                    "duplicate-project",
                    f"Project '{project_id}' is on the ballot {counts[project_id]} times; "
                    "list it once.",
                    f"Project '{project_id}' staat {counts[project_id]} keer op het "
                    "stembiljet; noem het één keer.",
                    project=project_id,
                    times=counts[project_id],
                )
    points_ok = False
    if vote_type in POINTS_TYPES:
        if ballot.points is None or len(ballot.points) != len(ballot.projects):
            given = 0 if ballot.points is None else len(ballot.points)
            found.add(
                "missing-points",
                f"The ballot lists {_plural(len(ballot.projects), 'project', 'projects')} "
                f"but {given} numbers of points; give each project its points.",
                f"Het stembiljet noemt {_plural(len(ballot.projects), 'project', 'projecten')}"
                f" maar {given} aantallen punten; geef elk project zijn punten.",
                projects=len(ballot.projects),
                points=given,
            )
        else:
            points_ok = True
    elif ballot.points is not None:
        found.add(
            "unexpected-points",
            "This vote does not use points; choose projects without giving points.",
            "Bij deze stemming geeft u geen punten; kies alleen projecten.",
        )

    min_length = rules.min_length if rules.min_length is not None else 1
    max_length = rules.max_length
    if max_length is None and vote_type == "choose-1":
        max_length = 1
    if len(listed) < min_length:
        found.length("too-few-projects", len(listed), min_length)
    if max_length is not None and len(listed) > max_length:
        found.length("too-many-projects", len(listed), max_length)

    known = [instance.project(p) for p in listed if p in instance]
    total = sum((p.cost for p in known), Fraction(0))
    if rules.min_sum_cost is not None and total < rules.min_sum_cost:
        found.cost("cost-too-low", total, rules.min_sum_cost, None)
    if rules.max_sum_cost is not None and total > rules.max_sum_cost:
        found.cost("cost-too-high", total, rules.max_sum_cost, None)

    if points_ok and ballot.points is not None:
        _check_points(found, rules, vote_type, ballot.projects, ballot.points)

    for category in instance.categories:
        in_category = [p for p in known if category in p.categories]
        chosen = len(in_category)
        low = rules.min_length_per_category.get(category)
        high = rules.max_length_per_category.get(category)
        if low is not None and chosen < low:
            found.length("category-too-few", chosen, low, category)
        if high is not None and chosen > high:
            found.length("category-too-many", chosen, high, category)
        spent = sum((p.cost for p in in_category), Fraction(0))
        low_cost = rules.min_sum_cost_per_category.get(category)
        high_cost = rules.max_sum_cost_per_category.get(category)
        if low_cost is not None and spent < low_cost:
            found.cost("category-cost-too-low", spent, low_cost, category)
        if high_cost is not None and spent > high_cost:
            found.cost("category-cost-too-high", spent, high_cost, category)
    return tuple(found.items)


def _check_points(
    found: _Problems,
    rules: BallotRules,
    vote_type: str,
    projects: tuple[str, ...],
    points: tuple[Fraction, ...],
) -> None:
    low = rules.min_points
    high = rules.max_points
    if vote_type == "cumulative":
        low = Fraction(0) if low is None else low
        high = rules.max_sum_points if high is None else high
    for project_id, value in zip(projects, points, strict=True):
        if low is not None and value < low:
            found.add(
                "points-too-low",
                f"Project '{project_id}' got {format_number(value)} points; "
                f"give at least {format_number(low)}.",
                f"Project '{project_id}' kreeg {format_number(value)} punten; "
                f"geef ten minste {format_number(low)}.",
                project=project_id,
                points=format_number(value),
                limit=format_number(low),
            )
        if high is not None and value > high:
            found.add(
                "points-too-high",
                f"Project '{project_id}' got {format_number(value)} points; "
                f"give at most {format_number(high)}.",
                f"Project '{project_id}' kreeg {format_number(value)} punten; "
                f"geef hoogstens {format_number(high)}.",
                project=project_id,
                points=format_number(value),
                limit=format_number(high),
            )
    total = sum(points, Fraction(0))
    for code, limit, en_word, nl_word in (
        ("sum-points-too-low", rules.min_sum_points, "at least", "ten minste"),
        ("sum-points-too-high", rules.max_sum_points, "at most", "hoogstens"),
    ):
        if limit is None:
            continue
        if (total < limit) if code.endswith("low") else (total > limit):
            found.add(
                code,
                f"You gave {format_number(total)} points in all; "
                f"give {en_word} {format_number(limit)}.",
                f"U gaf in totaal {format_number(total)} punten; "
                f"geef er {nl_word} {format_number(limit)}.",
                total=format_number(total),
                limit=format_number(limit),
            )


def check_ballot(instance: Instance, ballot: Ballot) -> None:
    """Raise :class:`~budgeting.errors.InvalidBallotError` if the ballot breaks the rules.

    See :func:`ballot_problems` for what is checked.
    """
    problems = ballot_problems(instance, ballot)
    if problems:
        raise InvalidBallotError(problems, voter=ballot.voter_id)
