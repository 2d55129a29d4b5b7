"""Server-rendered charts: turns a usage series into SVG bar geometry for a template to draw. No JavaScript, no
chart library: the page stays a plain HTML response that works without scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

WIDTH = 600
HEIGHT = 160
# Room for the value labels on the left and the date labels underneath.
MARGIN_LEFT = 56
MARGIN_TOP = 8
MARGIN_BOTTOM = 22
MARGIN_RIGHT = 4
# The share of each bar's slot that the bar fills; the rest is the gap to its neighbour.
BAR_FILL = Decimal("0.7")
# A bar with any usage is drawn at least this tall, so a small day next to a large one does not vanish.
MIN_VISIBLE_HEIGHT = Decimal(1)


@dataclass(frozen=True)
class Bar:
    day: date
    value: Decimal
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    title: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    baseline: int
    max_value: Decimal
    max_label: str
    start_label: str
    end_label: str
    bars: list[Bar]

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def plot_height(self) -> int:
        return self.baseline - self.plot_top

    @property
    def label_y(self) -> int:
        return self.height - 6


def bar_chart(series: Sequence[tuple[date, Decimal]], *, unit: str = "") -> BarChart:
    """One bar per (day, value), heights proportional to the value over the series' largest. Negative values
    are drawn as empty bars (usage is not negative; the exact value stays in the bar's title)."""
    plot_width = Decimal(WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
    plot_height = Decimal(HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)
    baseline = HEIGHT - MARGIN_BOTTOM
    max_value = max([Decimal(0), *(value for _, value in series)])
    slot = plot_width / len(series) if series else plot_width
    bars = []
    for index, (bucket, value) in enumerate(series):
        day = _as_date(bucket)
        height = _bar_height(value, max_value, plot_height)
        bars.append(Bar(
            day=day, value=value,
            x=_round(MARGIN_LEFT + slot * index + slot * (1 - BAR_FILL) / 2),
            y=_round(baseline - height),
            width=_round(slot * BAR_FILL),
            height=_round(height),
            title=f"{date_format(day)}: {quantity_format(value)}{f' {unit}' if unit else ''}",
        ))
    return BarChart(
        width=WIDTH, height=HEIGHT, plot_left=MARGIN_LEFT, plot_right=WIDTH - MARGIN_RIGHT, plot_top=MARGIN_TOP,
        baseline=baseline, max_value=max_value, max_label=quantity_format(max_value),
        start_label=date_format(bars[0].day, year=False) if bars else "",
        end_label=date_format(bars[-1].day, year=False) if bars else "",
        bars=bars,
    )


def _bar_height(value: Decimal, max_value: Decimal, plot_height: Decimal) -> Decimal:
    if value <= 0 or max_value <= 0:
        return Decimal(0)
    return max(plot_height * value / max_value, MIN_VISIBLE_HEIGHT)


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _as_date(day: date) -> date:
    # Series buckets are UTC datetimes at midnight; the chart is about days.
    return day.date() if isinstance(day, datetime) else day


def date_format(day: date, *, year: bool = True) -> str:
    """"3 Nov 2026" (or "3 Nov"): unambiguous in every locale, no zero padding."""
    text = f"{day.day} {day.strftime('%b')}"
    return f"{text} {day.year}" if year else text


def quantity_format(value: Decimal) -> str:
    """A usage quantity for people: thousands separated, no trailing zeros ("1,234", "12.5", "0.0003")."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value.normalize():,f}"


# --- Calls per endpoint: one horizontal bar per endpoint, billable and not billable stacked ----------------

ENDPOINT_WIDTH = 600
ENDPOINT_ROW = 26
ENDPOINT_BAR = 14
ENDPOINT_LABEL_WIDTH = 250
ENDPOINT_VALUE_WIDTH = 64
ENDPOINT_LABEL_CHARS = 38


@dataclass(frozen=True)
class EndpointBar:
    label: str
    title: str
    y: int
    text_y: int
    billable_width: Decimal
    other_x: Decimal
    other_width: Decimal
    total_label: str


@dataclass(frozen=True)
class EndpointChart:
    width: int
    height: int
    bar_left: int
    bar_height: int
    value_x: int
    bars: list[EndpointBar]

    @property
    def is_empty(self) -> bool:
        return not self.bars


def endpoint_chart(rows: Sequence) -> EndpointChart:
    """Bars for rows with `endpoint`, `method`, `calls` and `billable` (metering.usage.selectors.EndpointCalls),
    lengths proportional to the most called endpoint's calls."""
    bar_left = ENDPOINT_LABEL_WIDTH
    span = Decimal(ENDPOINT_WIDTH - ENDPOINT_LABEL_WIDTH - ENDPOINT_VALUE_WIDTH)
    most = max([0, *(row.calls for row in rows)])
    bars = []
    for index, row in enumerate(rows):
        label = f"{row.method} {row.endpoint}".strip()
        billable_width = _round(span * row.billable / most) if most else Decimal(0)
        other_width = _round(span * (row.calls - row.billable) / most) if most else Decimal(0)
        top = index * ENDPOINT_ROW
        bars.append(EndpointBar(
            label=label if len(label) <= ENDPOINT_LABEL_CHARS else label[:ENDPOINT_LABEL_CHARS - 1] + "…",
            title=f"{label}: {quantity_format(Decimal(row.calls))} calls, "
                  f"{quantity_format(Decimal(row.billable))} billable",
            y=top + (ENDPOINT_ROW - ENDPOINT_BAR) // 2, text_y=top + ENDPOINT_ROW // 2,
            billable_width=billable_width, other_x=bar_left + billable_width, other_width=other_width,
            total_label=quantity_format(Decimal(row.calls)),
        ))
    return EndpointChart(width=ENDPOINT_WIDTH, height=max(ENDPOINT_ROW, ENDPOINT_ROW * len(rows)),
                         bar_left=bar_left, bar_height=ENDPOINT_BAR,
                         value_x=ENDPOINT_WIDTH - ENDPOINT_VALUE_WIDTH + 6, bars=bars)
