"""The seeded draw: one panel from a distribution, reproducible from the seed alone.

Given the same distribution and seed, :func:`draw` returns the same panel in every process and
for every order of the input rows: the distribution is in canonical order, its probabilities are
turned into integers exactly (:func:`sortition.distribution.integer_weights`), and every random
choice comes from SHA-256 streams (:mod:`sortition.randomness`). The steps are specified in
``docs/randomness.md``:

1. ``index = SeededStream(seed, "panel").choose_weighted(integer_weights(probabilities))``;
2. the members of composition ``index`` are chosen with ``SeededStream(seed, "members")`` as
   :func:`sortition.distribution.realise` describes.

For the LEGACY algorithm the greedy procedure itself runs on ``SeededStream(seed, "legacy")``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sortition.algorithms import legacy_draw
from sortition.distribution import Distribution, integer_weights, realise
from sortition.errors import SolverError
from sortition.randomness import SeededStream
from sortition.validation import panel_violations

__all__ = ["DrawResult", "draw"]


@dataclass(frozen=True, eq=False)
class DrawResult:
    """The outcome of a draw.

    Attributes
    ----------
    selected : tuple of str
        Ids of the panel members, sorted.
    seed : str
        The seed the draw was derived from.
    panel_index : int or None
        Index of the chosen composition in ``distribution.compositions`` (None for LEGACY).
    distribution : Distribution
        The distribution the panel was drawn from.
    """

    selected: tuple[str, ...]
    seed: str
    panel_index: int | None
    distribution: Distribution


def draw(distribution: Distribution, seed: str) -> DrawResult:
    """Draw one panel from ``distribution`` by ``seed``.

    The panel is checked against the quotas and the household rule on the raw pool before it
    is returned.

    Raises
    ------
    SolverError
        If the panel breaks a rule (which would be a bug).
    """
    structure = distribution.structure
    index: int | None
    if distribution.algorithm == "legacy":
        index = None
        selected = legacy_draw(structure, SeededStream(seed, "legacy"))
    else:
        index = SeededStream(seed, "panel").choose_weighted(integer_weights(distribution.weights))
        selected = realise(
            structure, distribution.compositions[index], SeededStream(seed, "members")
        )
    problems = panel_violations(structure.pool, structure.quotas, structure.k, selected)
    if problems:
        raise SolverError("panel-invalid", "the drawn panel breaks a rule: " + problems[0])
    return DrawResult(tuple(selected), seed, index, distribution)
