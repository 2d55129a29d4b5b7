from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from metering.usage.charts import bar_chart, endpoint_chart, quantity_format
from metering.usage.selectors import EndpointCalls

DAY = date(2026, 11, 1)


def series(*values) -> list[tuple[date, Decimal]]:
    return [(DAY + timedelta(days=offset), Decimal(value)) for offset, value in enumerate(values)]


def test_bar_heights_are_proportional_to_the_values():
    chart = bar_chart(series(40, 20, 10, 30))

    full = Decimal(chart.plot_height)
    assert [bar.height for bar in chart.bars] == [full, full / 2, full / 4, full * 3 / 4]


def test_bars_stand_on_the_baseline():
    chart = bar_chart(series(40, 20, 10))

    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)


def test_bars_are_in_day_order_left_to_right_without_overlapping():
    chart = bar_chart(series(*range(1, 31)))

    assert [bar.day for bar in chart.bars] == [DAY + timedelta(days=n) for n in range(30)]
    for left, right in zip(chart.bars, chart.bars[1:]):
        assert left.x + left.width < right.x
    assert chart.bars[0].x >= chart.plot_left and chart.bars[-1].x + chart.bars[-1].width <= chart.plot_right


def test_an_all_zero_series_has_flat_bars_and_is_empty():
    chart = bar_chart(series(0, 0, 0))

    assert chart.is_empty
    assert [bar.height for bar in chart.bars] == [0, 0, 0]
    assert chart.max_label == "0"


def test_a_single_value_fills_the_plot_height():
    chart = bar_chart(series(7))

    assert len(chart.bars) == 1
    assert chart.bars[0].height == chart.plot_height
    assert not chart.is_empty


def test_an_empty_series_draws_nothing():
    chart = bar_chart([])

    assert chart.bars == [] and chart.is_empty
    assert (chart.start_label, chart.end_label) == ("", "")


def test_a_tiny_value_next_to_a_large_one_stays_visible():
    chart = bar_chart(series(1_000_000, 1))

    assert chart.bars[1].height == 1


def test_a_negative_value_draws_no_bar_but_keeps_its_value_in_the_title():
    chart = bar_chart(series(10, -3), unit="GB")

    assert chart.bars[1].height == 0
    assert chart.bars[1].title == "2 Nov 2026: -3 GB"


def test_each_bar_title_names_its_day_value_and_unit():
    chart = bar_chart(series(1234, "0.5"), unit="calls")

    assert [bar.title for bar in chart.bars] == ["1 Nov 2026: 1,234 calls", "2 Nov 2026: 0.5 calls"]


def test_axis_labels_are_the_max_value_and_the_first_and_last_days():
    chart = bar_chart(series(3, 12_500, 8))

    assert (chart.max_label, chart.start_label, chart.end_label) == ("12,500", "1 Nov", "3 Nov")


def test_datetime_buckets_are_shown_as_their_day():
    chart = bar_chart([(datetime(2026, 11, 5, tzinfo=timezone.utc), Decimal(1))])

    assert chart.bars[0].day == date(2026, 11, 5)
    assert chart.start_label == "5 Nov"


@pytest.mark.parametrize("value, shown", [
    ("0", "0"), ("1234", "1,234"), ("1234567.000000", "1,234,567"), ("12.500000", "12.5"), ("0.000300", "0.0003"),
    ("-42", "-42"),
])
def test_quantities_are_shown_grouped_without_trailing_zeros(value, shown):
    assert quantity_format(Decimal(value)) == shown


# --- Calls per endpoint --------------------------------------------------------------------------------

def endpoint_rows(*counts: tuple[str, int, int]) -> list[EndpointCalls]:
    return [EndpointCalls(endpoint=endpoint, method="GET", calls=calls, billable=billable)
            for endpoint, calls, billable in counts]


def test_endpoint_bars_are_proportional_to_the_most_called_endpoint():
    chart = endpoint_chart(endpoint_rows(("/api/v1/a", 100, 100), ("/api/v1/b", 25, 25)))
    first, second = chart.bars

    assert first.billable_width == 4 * second.billable_width
    assert first.billable_width + first.other_width == chart.width - chart.bar_left - 64


def test_an_endpoints_bar_stacks_not_billable_calls_after_billable_ones():
    bar = endpoint_chart(endpoint_rows(("/api/v1/a", 10, 6))).bars[0]

    assert bar.other_x == 250 + bar.billable_width
    assert bar.billable_width / (bar.billable_width + bar.other_width) == Decimal("0.6")
    assert bar.title == "GET /api/v1/a: 10 calls, 6 billable"


def test_endpoint_rows_do_not_overlap():
    chart = endpoint_chart(endpoint_rows(("/a", 3, 3), ("/b", 2, 2), ("/c", 1, 0)))

    tops = [bar.y for bar in chart.bars]
    assert tops == sorted(tops) and len(set(tops)) == 3
    assert chart.height >= tops[-1] + chart.bar_height


def test_a_long_endpoint_label_is_shortened_but_its_title_is_whole():
    path = "/api/v1/" + "x" * 80
    bar = endpoint_chart(endpoint_rows((path, 1, 1))).bars[0]

    assert len(bar.label) == 38 and bar.label.endswith("…")
    assert path in bar.title


def test_no_calls_draw_an_empty_endpoint_chart():
    assert endpoint_chart([]).is_empty
