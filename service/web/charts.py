"""Server-rendered charts: the geometry of simple bar charts for inline SVG.

The templates draw the SVG (``templates/_charts.html``) from what these functions compute; the
numbers of every chart are also shown in a table next to it, so nothing is only in the picture.
Amounts arrive as exact decimal texts (the results document of :mod:`service.api_rounds`) and
are turned into floats only for drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final

from budgeting import parse_number

__all__ = ["Bar", "BarChart", "Segment", "StackChart", "amount", "bar_chart", "stack_chart"]

WIDTH: Final = 400
LABEL_WIDTH: Final = 0  # labels stand above their bars
LABEL_HEIGHT: Final = 18
ROW_HEIGHT: Final = 46
BAR_HEIGHT: Final = 20
VALUE_WIDTH: Final = 60


def amount(text: str | int | float | None) -> Fraction:
    """An exact amount from the text of a results document (0 for nothing or nonsense)."""
    if text is None:
        return Fraction(0)
    try:
        return parse_number(str(text))
    except Exception:  # a chart never fails a page
        return Fraction(0)


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    value_text: str
    y: int
    width: float
    highlighted: bool


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: one row per item."""

    ident: str
    title: str
    desc: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar] = field(default_factory=list)


def bar_chart(
    ident: str,
    title: str,
    desc: str,
    items: list[tuple[str, Fraction, str, bool]],
) -> BarChart:
    """Bars for ``(label, value, value text, highlighted)`` items, longest bar full width."""
    biggest = max((value for _, value, _, _ in items), default=Fraction(0))
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(
            label=_short(label, 48),
            full_label=label,
            value_text=text,
            y=index * ROW_HEIGHT + LABEL_HEIGHT + 2,
            width=round(float(value / biggest) * room, 1) if biggest > 0 else 0.0,
            highlighted=highlighted,
        )
        for index, (label, value, text, highlighted) in enumerate(items)
    ]
    return BarChart(
        ident=ident,
        title=title,
        desc=desc,
        width=WIDTH,
        height=max(ROW_HEIGHT, ROW_HEIGHT * len(items)),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )


@dataclass(frozen=True)
class Segment:
    label: str
    value_text: str
    x: float
    width: float
    shade: int  # 0, 1: alternating fills of spent parts; 2: what is left


@dataclass(frozen=True)
class StackChart:
    """One horizontal bar split into parts (e.g. the budget: funded projects and what is left)."""

    ident: str
    title: str
    desc: str
    width: int
    height: int
    segments: list[Segment] = field(default_factory=list)


def stack_chart(
    ident: str, title: str, desc: str, total: Fraction, parts: list[tuple[str, Fraction, str]]
) -> StackChart:
    """Parts of ``total`` laid end to end; the last part is drawn as "left" (shade 2)."""
    segments: list[Segment] = []
    x = 0.0
    for index, (label, value, text) in enumerate(parts):
        width = float(value / total) * WIDTH if total > 0 else 0.0
        last = index == len(parts) - 1
        segments.append(
            Segment(label, text, round(x, 1), round(width, 1), 2 if last else index % 2)
        )
        x += width
    return StackChart(
        ident=ident, title=title, desc=desc, width=WIDTH, height=40, segments=segments
    )


@dataclass(frozen=True)
class Pair:
    label: str
    y: int
    first_width: float
    first_text: str
    second_width: float
    second_text: str


@dataclass(frozen=True)
class PairedChart:
    """Two bars per item (e.g. a probability before and after rounding), on one scale."""

    ident: str
    title: str
    desc: str
    width: int
    height: int
    label_width: int
    bar_height: int
    pairs: list[Pair] = field(default_factory=list)


PAIR_ROW: Final = 30
PAIR_BAR: Final = 11


def paired_chart(
    ident: str,
    title: str,
    desc: str,
    items: list[tuple[str, Fraction, str, Fraction, str]],
    *,
    scale: Fraction | None = None,
) -> PairedChart:
    """Bars for ``(label, first, first text, second, second text)``; the scale is the largest
    value (or ``scale``)."""
    biggest = scale or max((max(a, b) for _, a, _, b, _ in items), default=Fraction(0))
    label_width = 60
    room = WIDTH - label_width - VALUE_WIDTH

    def width(value: Fraction) -> float:
        return round(float(value / biggest) * room, 1) if biggest > 0 else 0.0

    pairs = [
        Pair(
            label=_short(label, 12),
            y=index * PAIR_ROW + 3,
            first_width=width(first),
            first_text=first_text,
            second_width=width(second),
            second_text=second_text,
        )
        for index, (label, first, first_text, second, second_text) in enumerate(items)
    ]
    return PairedChart(
        ident=ident,
        title=title,
        desc=desc,
        width=WIDTH,
        height=max(PAIR_ROW, PAIR_ROW * len(items)),
        label_width=label_width,
        bar_height=PAIR_BAR,
        pairs=pairs,
    )
