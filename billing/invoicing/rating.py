"""Rating: what a usage charge costs for a period, from metering's reads (rollups; raw events only for the
partial hours at the period's edges, and for percentage charges, which price each event).

A charge's usage is the meter's aggregate over [start, end), in the meter's units, divided by the charge's
`divide_by` and quantized half up to the micro-unit (RATING_PLACES): those are the line's `units` ("12.5 hours"
of 45,000 compute seconds). The charge model prices what is left once the included units are taken off (never
below 0). A percentage charge prices each event's value instead and has its own free allowance in its
properties, so included units do not apply to it. The amount is exact; the invoice line rounds it once. When it
is below the charge's minimum, the difference is a separate "minimum" line (`minimum_topup`).

AI tokens the wallet could not cover (metering wallets' `owed`) are rated at BILLING_TOKEN_PRICE_PER_1000 in the
invoice's currency (`wallet_shortfall_rate`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from billing.charge_models import charge_amount
from billing.errors import BillingError
from billing.models import UsageCharge
from config.money import RATING_PLACES
from metering.models import Meter
from metering.usage.selectors import (
    meters_by_code,
    usage_event_values,
    usage_for_period,
    usage_for_ranges,
    usage_series,
)
from metering.wallets.selectors import wallet_get
from tenants.models import Tenant

ZERO = Decimal(0)
MICRO = Decimal(1).scaleb(-RATING_PLACES)
DAY = timedelta(days=1)
THOUSAND = Decimal(1000)


class MeterMissing(BillingError):
    """A usage charge names a meter that does not exist: the price is misconfigured, and billing it as zero
    would silently give the usage away."""

    code = "meter_missing"
    status = 500


@dataclass(frozen=True)
class RatedCharge:
    """One usage charge over one period. `quantity` is the meter's aggregate (meter units); `units` the same
    divided by `divide_by` (what the line shows); `billed_quantity` what the charge model priced (units beyond
    the included ones; for percentage, the events' values); `amount` exact; `minimum_topup` what the minimum
    adds on top (exact, 0 when the amount reaches it)."""

    charge: UsageCharge
    quantity: Decimal
    units: Decimal
    billed_quantity: Decimal
    amount: Decimal
    breakdown: list[dict]
    minimum_topup: Decimal


def usage_charge_rate(*, tenant: Tenant, charge: UsageCharge, start: datetime, end: datetime,
                      meter: Meter | None = None, quantity: Decimal | None = None,
                      ranges: list[tuple[datetime, datetime]] | None = None) -> RatedCharge:
    """Rate `charge` on the tenant's usage over [start, end), or only over `ranges` within it when given (the
    period's time less the time its subscription was paused). `meter` may be passed when the caller already
    holds it (one lookup for a whole price), and `quantity`, the meter's aggregate over that time, when the
    caller read it already (the billing run reads a whole chunk's with metering's usage_for_periods)."""
    meter = meter or _meter_for(charge)
    ranges = ranges if ranges is not None else [(start, end)]
    if quantity is None:
        quantity = usage_for_ranges(tenant=tenant, meter=meter, ranges=ranges)
    units = _units(quantity, charge)
    parts: list[dict] = []
    if charge.charge_model == UsageCharge.ChargeModel.PERCENTAGE:
        values = [_units(value, charge) for range_start, range_end in sorted(ranges)
                  for value in usage_event_values(tenant=tenant, meter=meter, start=range_start, end=range_end)]
        billed = sum(values, ZERO)
        result = charge_amount(model=charge.charge_model, properties=charge.properties, quantity=billed,
                               event_values=values)
    else:
        billed = max(units - charge.included_units, ZERO)
        if charge.included_units:
            included = min(units, charge.included_units)
            parts.append({"kind": "included_units", "units": _plain(included), "amount": "0"})
        result = charge_amount(model=charge.charge_model, properties=charge.properties, quantity=billed)
    parts += [part.as_dict() for part in result.breakdown]
    return RatedCharge(charge=charge, quantity=quantity, units=units, billed_quantity=billed, amount=result.amount,
                       breakdown=parts, minimum_topup=max(charge.minimum_amount - result.amount, ZERO))


def usage_daily(*, tenant: Tenant, charge: UsageCharge, start: datetime, end: datetime) -> list[tuple[date, Decimal]]:
    """The charge's usage per UTC day of [start, end), in the line's units, every day listed (zeros included).
    For additive meters (count, sum) the days add up exactly to the line's `units`: the whole days come from the
    daily rollups, the partial first and last days from usage_for_period (which reads their partial hours from
    the raw events), and each day is the difference of the running total quantized, so the micro-unit rounding
    of `divide_by` never makes the days disagree with the line. For max, latest and unique_count meters each
    day is that day's own figure (they do not add up, and the line's figure is the period's)."""
    meter = _meter_for(charge)
    start, end = start.astimezone(dt_timezone.utc), end.astimezone(dt_timezone.utc)
    if end <= start:
        return []
    first_whole = _day_ceil(start)
    last_whole = max(_day_floor(end), first_whole)
    raw: list[tuple[date, Decimal]] = []
    if start < first_whole:
        raw.append((start.date(), usage_for_period(tenant=tenant, meter=meter, start=start,
                                                   end=min(first_whole, end))))
    if first_whole < last_whole:
        raw += [(bucket.date(), value) for bucket, value in usage_series(
            tenant=tenant, meter=meter, start=first_whole, end=last_whole, granularity="day")]
    if last_whole < end and first_whole < end:
        raw.append((last_whole.date(), usage_for_period(tenant=tenant, meter=meter, start=last_whole, end=end)))
    if meter.aggregation not in (Meter.Aggregation.COUNT, Meter.Aggregation.SUM):
        return [(day, _units(value, charge)) for day, value in raw]
    days, running, shown = [], ZERO, ZERO
    for day, value in raw:
        running += value
        running_units = _units(running, charge)
        days.append((day, running_units - shown))
        shown = running_units
    return days


def wallet_shortfall_tokens(*, tenant: Tenant) -> int:
    """AI tokens used beyond the wallet's balance and not yet repaid: what the next invoice bills."""
    wallet = wallet_get(tenant=tenant)
    return wallet.owed if wallet else 0


def wallet_shortfall_rate(*, tokens: int, currency: str) -> Decimal:
    """What `tokens` owed tokens cost in `currency`, exact. A currency without a token price cannot be billed for
    them (BillingError), rather than billed at another currency's price."""
    price = settings.BILLING_TOKEN_PRICE_PER_1000.get(currency)
    if price is None:
        raise BillingError(f"No AI-token price in {currency} (BILLING_TOKEN_PRICE_PER_1000).", field="currency")
    return Decimal(tokens) * Decimal(price) / THOUSAND


def _meter_for(charge: UsageCharge) -> Meter:
    meter = meters_by_code(codes=[charge.meter_code]).get(charge.meter_code)
    if meter is None:
        raise MeterMissing(f"Usage charge {charge} bills meter {charge.meter_code!r}, which does not exist.",
                           field="meter_code")
    return meter


def _units(quantity: Decimal, charge: UsageCharge) -> Decimal:
    return (quantity / charge.divide_by).quantize(MICRO, rounding=ROUND_HALF_UP)


def _day_floor(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time.min, tzinfo=dt_timezone.utc)


def _day_ceil(moment: datetime) -> datetime:
    floored = _day_floor(moment)
    return floored if floored == moment else floored + DAY


def _plain(value: Decimal) -> str:
    return format(value.normalize() if value else ZERO, "f")

