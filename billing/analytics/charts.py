"""Server-rendered month charts for the revenue dashboard: SVG geometry for a template to draw, after the usage
page's charts (metering/usage/charts.py), with what money needs beyond them: negative bars below a zero line
(net new MRR), two series side by side (issued vs cash), and a low/high band on each bar (the forecast)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WIDTH = 600
HEIGHT = 170
MARGIN_LEFT = 64
MARGIN_TOP = 8
MARGIN_BOTTOM = 22
MARGIN_RIGHT = 4
BAR_FILL = Decimal("0.7")
PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: Sequence[Decimal]
    # The forecast's band: (low, high) per value; empty for none.
    bands: Sequence[tuple[Decimal, Decimal]] = ()


@dataclass(frozen=True)
class ChartBar:
    series: int
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    negative: bool
    title: str
    band_x: Decimal | None = None
    band_top: Decimal | None = None
    band_bottom: Decimal | None = None


@dataclass(frozen=True)
class ChartLabel:
    x: Decimal
    text: str


@dataclass(frozen=True)
class MonthChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    zero_y: Decimal
    max_label: str
    min_label: str
    bars: list[ChartBar]
    labels: list[ChartLabel]
    series_names: list[str]

    @property
    def is_empty(self) -> bool:
        return not any(bar.height for bar in self.bars)

    @property
    def label_y(self) -> int:
        return self.height - 6


def month_chart(*, months: Sequence[date], series: Sequence[ChartSeries], currency: str) -> MonthChart:
    """Bars per month, one per series side by side, on a shared scale from the lowest value (or 0) to the
    highest (or 0), so that a negative month hangs below the zero line."""
    values = [value for one in series for value in one.values]
    values += [bound for one in series for band in one.bands for bound in band]
    top = max([Decimal(0), *values])
    bottom = min([Decimal(0), *values])
    span = (top - bottom) or Decimal(1)
    plot_height = Decimal(HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)
    plot_width = Decimal(WIDTH - MARGIN_LEFT - MARGIN_RIGHT)

    def y_of(value: Decimal) -> Decimal:
        return MARGIN_TOP + (top - value) * plot_height / span

    slot = plot_width / len(months) if months else plot_width
    bar_width = slot * BAR_FILL / max(len(series), 1)
    zero_y = y_of(Decimal(0))
    bars = []
    for month_index, month in enumerate(months):
        left = MARGIN_LEFT + slot * month_index + slot * (1 - BAR_FILL) / 2
        for series_index, one in enumerate(series):
            value = one.values[month_index]
            x = left + bar_width * series_index
            band = one.bands[month_index] if one.bands else None
            bars.append(ChartBar(
                series=series_index, x=_round(x), y=_round(min(y_of(value), zero_y)), width=_round(bar_width),
                height=_round(abs(zero_y - y_of(value))), negative=value < 0,
                title=f"{month:%b %Y} {one.name}: {amount_label(value, currency)}"
                      + (f" (low {amount_label(band[0], currency)}, high {amount_label(band[1], currency)})"
                         if band else ""),
                band_x=_round(x + bar_width / 2) if band else None,
                band_top=_round(y_of(band[1])) if band else None,
                band_bottom=_round(y_of(band[0])) if band else None))
    labels = [ChartLabel(x=_round(MARGIN_LEFT + slot * index + slot / 2), text=f"{month:%b}")
              for index, month in enumerate(months)]
    return MonthChart(width=WIDTH, height=HEIGHT, plot_left=MARGIN_LEFT, plot_right=WIDTH - MARGIN_RIGHT,
                      plot_top=MARGIN_TOP, plot_bottom=HEIGHT - MARGIN_BOTTOM, zero_y=_round(zero_y),
                      max_label=amount_label(top, currency), min_label=amount_label(bottom, currency),
                      bars=bars, labels=labels, series_names=[one.name for one in series])


def amount_label(value: Decimal, currency: str) -> str:
    """A whole amount for an axis or a bar title: "12,345 USD", "-1,200 EUR"."""
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,} {currency}"


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES)
