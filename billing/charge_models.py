"""Charge models: what a usage charge costs, as small pure functions of the period's usage and the charge's
properties (after Lago's charge models). No database, no clock, no rounding.

`charge_amount(model=..., properties=..., quantity=..., event_values=...)` answers a `ChargeResult`: the exact
amount and its breakdown, the parts an invoice line prints ("Tier 2: 90 units × 0.04 + 1.00 flat = 4.60"); the
amount is always the sum of the parts. `charge_properties_validate(model=..., properties=...)` checks a charge's
properties and returns them normalised (billing's model clean() and admin call it on save); `charge_amount`
runs it too, so properties that skipped it are refused rather than misread. `CHARGE_MODELS` lists the models
with their labels.

Properties are JSON whose numbers are decimal strings ("0.04"; an integer is exact and accepted too). A float is
refused, since 0.1 has no exact binary value, and so are NaN and the infinities; unknown keys are refused too.
Amounts, unit amounts, flat amounts and rates are >= 0; a rate is a percentage ("2.5" is 2.5 %). The examples
below use these tiers, written T:
`[{"up_to": "10", "unit_amount": "0.05", "flat_amount": "1.00"},
  {"up_to": "100", "unit_amount": "0.04", "flat_amount": "1.00"},
  {"up_to": null, "unit_amount": "0.03", "flat_amount": "0"}]`.
A tier covers the quantities above the previous tier's `up_to` (0 for the first) up to and including its own;
`up_to` increases strictly, and only the last tier, which must, has `up_to` null. A tier is reached when the
quantity is above the previous tier's `up_to`. `flat_amount` may be left out (0).

- standard `{"unit_amount"}`: quantity × unit amount. 1,500 calls at "0.002" cost 3.000.
- graduated `{"tiers": T}`: each unit is priced at the rate of the tier it falls in, and each tier reached adds
  its flat amount once. Fractional quantities are priced continuously: half a unit costs half the unit amount.
  150 units: tier 1 10 × 0.05 + 1.00 = 1.50, tier 2 90 × 0.04 + 1.00 = 4.60, tier 3 50 × 0.03 = 1.50; 7.60.
  10.5 units: 1.50 + 0.5 × 0.04 + 1.00 = 2.52.
- volume `{"tiers": T}`: the tier the whole quantity falls in prices every unit, plus that tier's flat amount.
  100 units: 100 × 0.04 + 1.00 = 5.00; 101 units: 101 × 0.03 = 3.03.
- package `{"amount", "package_size", "free_units"}`: the units beyond the free ones are billed in whole
  packages, a started package being a whole one; `package_size` is a whole number above 0, `free_units` may be
  left out (0). With amount "5.00", size "100" and 50 free units: 50 units cost 0, 50.5 units 5.00 (one package
  started), 150 units 5.00, 251 units 15.00 (201 billable units, 3 packages).
- percentage `{"rate", "fixed_amount", "free_events", "free_amount", "per_transaction_min",
  "per_transaction_max"}` (all but `rate` optional; null is the same as left out) over `event_values`, the summed
  property of each event in event order. Each charged event costs `rate` % of its value plus `fixed_amount`,
  then clamped to [per_transaction_min, per_transaction_max] where set. The free allowance covers the first
  `free_events` events and the first `free_amount` of value, and ends as soon as either runs out: once
  `free_events` events have been seen, or once the value so far has reached `free_amount`. With only one of
  the two set, that one alone bounds it; with neither there is no allowance. An event wholly inside the allowance
  costs nothing and is not clamped; the event that crosses the free amount while still within the free events
  pays `rate` % of its value above the free amount, plus `fixed_amount`, then clamped; every later event is
  charged in full. `quantity` must be the sum of `event_values` (the caller's two readings of the same usage
  must agree; a mismatch is refused rather than billed). With rate "2.5", fixed "0.30", 2 free events, free
  amount "100", min "0.50", max "10": events 40, 80, 1000, 10 cost 0 (free), 20 × 2.5 % + 0.30 = 0.80 (crossing),
  25.30 clamped to 10.00, and 0.25 + 0.30 = 0.55; 11.35 in all.
- graduated_percentage `{"tiers": [{"up_to", "rate", "flat_amount"}, ...]}`: like graduated over the total value
  (the quantity): each tier's part of the value is charged at the tier's rate %, and each tier reached adds its
  flat amount. With tiers up to "1000" at 3 % + 0.50 flat and then 2 %: a value of 1500 costs
  1000 × 3 % + 0.50 = 30.50 plus 500 × 2 % = 10.00, 40.50 in all.

Zero usage (Lago's rule): a graduated, volume or graduated_percentage charge with zero usage bills the first
tier's flat amount (ops who want nothing there set it to 0); every other model bills 0. For percentage, zero
usage means the event values sum to 0 (no events, or only zero-valued ones): it bills 0, fixed fees and
per-transaction minimums included. A negative quantity or event value is refused (`ChargeUsageInvalid`).

Amounts are exact: nothing here rounds, and the arithmetic runs in a decimal context that raises instead of
rounding, should a product ever need more digits than it holds. Rounding happens once per invoice line
elsewhere (config.money.money_round).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext
from enum import StrEnum
from functools import partial
from typing import Any

from billing.errors import BillingError

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Far more digits than any price times any usage needs, and Inexact trapped: an amount is exact or an error,
# never silently rounded.
EXACT_CONTEXT = Context(prec=100, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


class ChargeError(BillingError):
    code = "charge_error"


class ChargePropertiesInvalid(ChargeError):
    """The properties do not describe a charge of their model; `field` names the key at fault (e.g.
    "tiers[1].up_to", 0-based like the JSON) and `details` the model."""

    code = "charge_properties_invalid"


class ChargeUsageInvalid(ChargeError):
    """The usage handed in cannot be priced: negative, not finite, or inconsistent with its events."""

    code = "charge_usage_invalid"


class ChargePartKind(StrEnum):
    UNITS = "units"                    # standard: units × unit_amount
    TIER = "tier"                      # graduated, volume, graduated_percentage: one tier's units (or value)
    FREE_UNITS = "free_units"          # package: the free units, at 0
    PACKAGES = "packages"              # package: units = packages started, unit_amount = price of one
    FREE_ALLOWANCE = "free_allowance"  # percentage: events = wholly free events, units = value not charged
    PERCENTAGE = "percentage"          # percentage: units = value charged, events = events charged, at rate %
    FIXED_FEE = "fixed_fee"            # percentage: units = events charged, × unit_amount = fixed_amount
    # percentage: units = events raised to per_transaction_min (unit_amount), amount = what the raises added
    MINIMUM = "minimum"
    # percentage: units = events cut to per_transaction_max (unit_amount), amount = minus what the cuts took
    MAXIMUM = "maximum"


@dataclass(frozen=True, slots=True)
class ChargePart:
    """One part of a charge, enough for an invoice line to print it: a tier part reads "Tier {tier}: {units}
    units × {unit_amount} + {flat_amount} flat = {amount}". `units` is what the part prices (see
    ChargePartKind); fields a kind does not use are None; every amount is exact."""

    kind: ChargePartKind
    units: Decimal
    amount: Decimal
    tier: int | None = None             # 1-based
    from_value: Decimal | None = None   # the tier's lower bound, excluded (0 for the first tier)
    to_value: Decimal | None = None     # the tier's upper bound, included; None for the last tier
    unit_amount: Decimal | None = None
    rate: Decimal | None = None         # percent
    flat_amount: Decimal | None = None
    package_size: Decimal | None = None
    events: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        """The JSON form for an invoice line: decimals as plain strings, unused fields left out."""
        result: dict[str, str | int] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Decimal):
                result[field.name] = _plain(value)
            elif value is not None:
                result[field.name] = str(value) if isinstance(value, ChargePartKind) else value
        return result


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The exact, unrounded amount of a charge and the parts it is the sum of."""

    amount: Decimal
    breakdown: tuple[ChargePart, ...]


@dataclass(frozen=True, slots=True)
class _Tier:
    index: int                 # 1-based
    from_value: Decimal        # excluded
    up_to: Decimal | None      # included; None: no bound
    price: Decimal             # unit_amount, or rate % for graduated_percentage
    flat_amount: Decimal


# --- Validation ---------------------------------------------------------------------------------------------

def _refuse(model: str, field: str, message: str) -> ChargePropertiesInvalid:
    return ChargePropertiesInvalid(message, field=field, details={"model": model})


def _plain(value: Decimal) -> str:
    # "f" never uses exponent notation ("1E+2" becomes "100"); copy_abs turns "-0" into "0" without rounding.
    return format(value.copy_abs() if value == 0 else value, "f")


def _decimal(raw: Any, *, model: str, field: str, integral: bool = False, positive: bool = False) -> Decimal:
    if isinstance(raw, float):
        raise _refuse(model, field, f"{field} is a float ({raw!r}); write it as a decimal string, e.g. \"0.04\".")
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _refuse(model, field, f"{field} must be a decimal string, e.g. \"0.04\".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _refuse(model, field, f"{field} ({raw!r}) is not a decimal number.") from None
    if not value.is_finite():
        raise _refuse(model, field, f"{field} must be a finite number, not {raw!r}.")
    if value < 0:
        raise _refuse(model, field, f"{field} must not be negative ({raw}).")
    if positive and value == 0:
        raise _refuse(model, field, f"{field} must be greater than 0.")
    if integral and value != value.to_integral_value():
        raise _refuse(model, field, f"{field} must be a whole number ({raw}).")
    return value.copy_abs()


def _optional_decimal(properties: dict, key: str, *, model: str, integral: bool = False) -> Decimal | None:
    raw = properties.get(key)
    return None if raw is None else _decimal(raw, model=model, field=key, integral=integral)


def _keys_check(obj: Any, *, model: str, what: str, prefix: str, required: Sequence[str],
                optional: Sequence[str] = ()) -> None:
    """`what` names the object in messages ("A package charge", "Tier 2"), `prefix` its keys' field path."""
    if not isinstance(obj, dict):
        raise _refuse(model, prefix.rstrip(".") or "properties", f"{what}: expected a JSON object.")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise _refuse(model, prefix + unknown[0],
                      f"{what} has no {unknown[0]!r}; it takes {', '.join([*required, *optional])}.")
    for key in required:
        if key not in obj:
            raise _refuse(model, prefix + key, f"{what} needs {key}.")


def _standard_validate(model: str, properties: dict) -> dict[str, Any]:
    _keys_check(properties, model=model, what=f"A {model} charge", prefix="", required=["unit_amount"])
    return {"unit_amount": _decimal(properties["unit_amount"], model=model, field="unit_amount")}


def _tiers_validate(model: str, properties: dict, *, price_key: str) -> dict[str, Any]:
    _keys_check(properties, model=model, what=f"A {model} charge", prefix="", required=["tiers"])
    raw_tiers = properties["tiers"]
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise _refuse(model, "tiers", "tiers must be a non-empty list of tiers.")
    tiers = []
    previous_up_to = ZERO
    last = len(raw_tiers) - 1
    for position, raw in enumerate(raw_tiers):
        field = f"tiers[{position}]"
        _keys_check(raw, model=model, what=f"Tier {position + 1}", prefix=f"{field}.",
                    required=["up_to", price_key], optional=["flat_amount"])
        if raw["up_to"] is None:
            if position != last:
                raise _refuse(model, f"{field}.up_to",
                              f"Tier {position + 1} has no upper bound (up_to null), but only the last tier may.")
            up_to = None
        else:
            if position == last:
                raise _refuse(model, f"{field}.up_to", "The last tier must have no upper bound (up_to null), "
                                                       "so that every quantity has a tier.")
            up_to = _decimal(raw["up_to"], model=model, field=f"{field}.up_to")
            if up_to <= previous_up_to:
                raise _refuse(model, f"{field}.up_to",
                              f"Tier {position + 1}'s up_to ({_plain(up_to)}) must be greater than "
                              f"{_plain(previous_up_to)}, where the tier starts.")
            previous_up_to = up_to
        flat_amount = raw.get("flat_amount")
        tiers.append({
            "up_to": up_to,
            price_key: _decimal(raw[price_key], model=model, field=f"{field}.{price_key}"),
            "flat_amount": ZERO if flat_amount is None else _decimal(flat_amount, model=model,
                                                                     field=f"{field}.flat_amount"),
        })
    return {"tiers": tiers}


def _package_validate(model: str, properties: dict) -> dict[str, Any]:
    _keys_check(properties, model=model, what=f"A {model} charge", prefix="", required=["amount", "package_size"],
                optional=["free_units"])
    return {
        "amount": _decimal(properties["amount"], model=model, field="amount"),
        "package_size": _decimal(properties["package_size"], model=model, field="package_size", integral=True,
                                 positive=True),
        "free_units": _optional_decimal(properties, "free_units", model=model) or ZERO,
    }


def _percentage_validate(model: str, properties: dict) -> dict[str, Any]:
    _keys_check(properties, model=model, what=f"A {model} charge", prefix="", required=["rate"],
                optional=["fixed_amount", "free_events", "free_amount", "per_transaction_min",
                          "per_transaction_max"])
    minimum = _optional_decimal(properties, "per_transaction_min", model=model)
    maximum = _optional_decimal(properties, "per_transaction_max", model=model)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _refuse(model, "per_transaction_min",
                      f"per_transaction_min ({_plain(minimum)}) must not exceed per_transaction_max "
                      f"({_plain(maximum)}).")
    return {
        "rate": _decimal(properties["rate"], model=model, field="rate"),
        "fixed_amount": _optional_decimal(properties, "fixed_amount", model=model) or ZERO,
        "free_events": _optional_decimal(properties, "free_events", model=model, integral=True),
        "free_amount": _optional_decimal(properties, "free_amount", model=model),
        "per_transaction_min": minimum,
        "per_transaction_max": maximum,
    }


def _properties_parse(model: str, properties: Any) -> dict[str, Any]:
    validate = _VALIDATORS.get(model)
    if validate is None:
        raise ChargePropertiesInvalid(f"There is no charge model {model!r}.", field="model",
                                      details={"model": model, "allowed": [name for name, _ in CHARGE_MODELS]})
    return validate(model, properties)


def _as_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value


def charge_properties_validate(*, model: str, properties: dict) -> dict:
    """The properties normalised for storage: every number a plain decimal string ("1E+2" becomes "100"), and
    every optional key present (flat_amount, free_units and fixed_amount as "0"; the other optional percentage
    keys as null). Raises ChargePropertiesInvalid naming the first key at fault."""
    return _as_json(_properties_parse(model, properties))


# --- Pricing ------------------------------------------------------------------------------------------------

def _result(parts: list[ChargePart]) -> ChargeResult:
    return ChargeResult(amount=sum((part.amount for part in parts), ZERO), breakdown=tuple(parts))


def _tiers(terms: dict[str, Any], *, price_key: str) -> list[_Tier]:
    tiers = []
    from_value = ZERO
    for index, tier in enumerate(terms["tiers"], start=1):
        tiers.append(_Tier(index=index, from_value=from_value, up_to=tier["up_to"], price=tier[price_key],
                           flat_amount=tier["flat_amount"]))
        from_value = tier["up_to"]
    return tiers


def _tier_part(tier: _Tier, units: Decimal, *, percent: bool) -> ChargePart:
    variable = units * tier.price / HUNDRED if percent else units * tier.price
    return ChargePart(kind=ChargePartKind.TIER, tier=tier.index, from_value=tier.from_value, to_value=tier.up_to,
                      units=units, unit_amount=None if percent else tier.price, rate=tier.price if percent else None,
                      flat_amount=tier.flat_amount, amount=variable + tier.flat_amount)


def _graduated_parts(tiers: list[_Tier], quantity: Decimal, *, percent: bool) -> list[ChargePart]:
    if quantity == 0:
        return [_tier_part(tiers[0], ZERO, percent=percent)]
    parts = []
    for tier in tiers:
        if quantity <= tier.from_value:
            break
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        parts.append(_tier_part(tier, top - tier.from_value, percent=percent))
    return parts


def _standard_charge(terms: dict[str, Any], quantity: Decimal) -> ChargeResult:
    unit_amount = terms["unit_amount"]
    return _result([ChargePart(kind=ChargePartKind.UNITS, units=quantity, unit_amount=unit_amount,
                               amount=quantity * unit_amount)])


def _graduated_charge(terms: dict[str, Any], quantity: Decimal) -> ChargeResult:
    return _result(_graduated_parts(_tiers(terms, price_key="unit_amount"), quantity, percent=False))


def _graduated_percentage_charge(terms: dict[str, Any], quantity: Decimal) -> ChargeResult:
    return _result(_graduated_parts(_tiers(terms, price_key="rate"), quantity, percent=True))


def _volume_charge(terms: dict[str, Any], quantity: Decimal) -> ChargeResult:
    # Zero falls in the first tier (0 <= its up_to), which is the zero-usage rule: its flat amount alone.
    tiers = _tiers(terms, price_key="unit_amount")
    tier = next(tier for tier in tiers if tier.up_to is None or quantity <= tier.up_to)
    return _result([_tier_part(tier, quantity, percent=False)])


def _package_charge(terms: dict[str, Any], quantity: Decimal) -> ChargeResult:
    free_units, package_size, amount = terms["free_units"], terms["package_size"], terms["amount"]
    billable = max(quantity - free_units, ZERO)
    # divmod rather than a division and a ceiling: exact for any quantity, and a remainder is a started package.
    whole, started = divmod(billable, package_size)
    packages = whole + (1 if started else 0)
    parts = []
    if free_units:
        parts.append(ChargePart(kind=ChargePartKind.FREE_UNITS, units=min(quantity, free_units), amount=ZERO))
    parts.append(ChargePart(kind=ChargePartKind.PACKAGES, units=packages, unit_amount=amount,
                            package_size=package_size, amount=packages * amount))
    return _result(parts)


def _chargeable_values(values: list[Decimal], *, free_events: Decimal | None,
                       free_amount: Decimal | None) -> Iterator[Decimal | None]:
    """For each event value, the part of it that is charged, or None for an event wholly inside the free
    allowance. None for a bound means that bound does not limit the allowance."""
    events_left, amount_left = free_events, free_amount
    allowance_open = (free_events is not None or free_amount is not None) and events_left != 0 and amount_left != 0
    for value in values:
        if not allowance_open:
            yield value
        elif amount_left is not None and value > amount_left:
            # The crossing event: still within the free events (the allowance is open), so only its value above
            # the free amount is charged, and the allowance ends with it.
            allowance_open = False
            yield value - amount_left
        else:
            if amount_left is not None:
                amount_left -= value
            if events_left is not None:
                events_left -= 1
            allowance_open = events_left != 0 and amount_left != 0
            yield None


def _percentage_charge(terms: dict[str, Any], quantity: Decimal, values: list[Decimal]) -> ChargeResult:
    rate, fixed_amount = terms["rate"], terms["fixed_amount"]
    minimum, maximum = terms["per_transaction_min"], terms["per_transaction_max"]
    if quantity == 0:
        return _result([ChargePart(kind=ChargePartKind.PERCENTAGE, units=ZERO, rate=rate, events=0, amount=ZERO)])
    free_events = charged_events = raised_events = cut_events = 0
    free_value = charged_value = raised_by = cut_by = ZERO
    chargeable = _chargeable_values(values, free_events=terms["free_events"], free_amount=terms["free_amount"])
    for value, charged in zip(values, chargeable):
        if charged is None:
            free_events += 1
            free_value += value
            continue
        free_value += value - charged
        charged_events += 1
        charged_value += charged
        fee = charged * rate / HUNDRED + fixed_amount
        if minimum is not None and fee < minimum:
            raised_events += 1
            raised_by += minimum - fee
        if maximum is not None and fee > maximum:
            cut_events += 1
            cut_by += fee - maximum
    parts = []
    if terms["free_events"] is not None or terms["free_amount"] is not None:
        parts.append(ChargePart(kind=ChargePartKind.FREE_ALLOWANCE, units=free_value, events=free_events,
                                amount=ZERO))
    parts.append(ChargePart(kind=ChargePartKind.PERCENTAGE, units=charged_value, rate=rate, events=charged_events,
                            amount=charged_value * rate / HUNDRED))
    if fixed_amount:
        parts.append(ChargePart(kind=ChargePartKind.FIXED_FEE, units=Decimal(charged_events), events=charged_events,
                                unit_amount=fixed_amount, amount=charged_events * fixed_amount))
    if raised_events:
        parts.append(ChargePart(kind=ChargePartKind.MINIMUM, units=Decimal(raised_events), events=raised_events,
                                unit_amount=minimum, amount=raised_by))
    if cut_events:
        parts.append(ChargePart(kind=ChargePartKind.MAXIMUM, units=Decimal(cut_events), events=cut_events,
                                unit_amount=maximum, amount=-cut_by))
    return _result(parts)


def _usage(value: Any, *, field: str) -> Decimal:
    # Floats are a caller's bug (a meter sums in Decimal), not bad data: TypeError, as config.money does.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{field} must be a Decimal, not {type(value).__name__}.")
    usage = Decimal(value)
    if not usage.is_finite():
        raise ChargeUsageInvalid(f"{field} must be finite, not {usage}.", field=field)
    if usage < 0:
        raise ChargeUsageInvalid(f"{field} must not be negative ({usage}).", field=field)
    return usage


def _event_values(event_values: list[Decimal] | None, *, quantity: Decimal) -> list[Decimal]:
    if event_values is None:
        raise ChargeUsageInvalid("A percentage charge is priced per event: it needs the events' values.",
                                 field="event_values")
    values = [_usage(value, field="event_values") for value in event_values]
    total = sum(values, ZERO)
    if total != quantity:
        raise ChargeUsageInvalid(f"The quantity ({quantity}) is not the sum of the event values ({total}).",
                                 field="quantity", details={"quantity": str(quantity), "event_values_sum": str(total)})
    return values


def charge_amount(*, model: str, properties: dict, quantity: Decimal,
                  event_values: list[Decimal] | None = None) -> ChargeResult:
    """What `quantity` units of usage cost under the charge `model` with `properties`, exact and unrounded,
    with its breakdown. `event_values` (each event's summed property, in event order) is needed by percentage
    only, whose `quantity` must be their sum; the other models ignore it.

    Raises ChargePropertiesInvalid for properties that do not validate, ChargeUsageInvalid for a negative or
    non-finite quantity or event value (and for percentage, missing or inconsistent event values), TypeError for
    a usage that is not a Decimal or an int, and decimal.Inexact should an amount ever need more than the 100
    digits it is computed with, rather than round it."""
    terms = _properties_parse(model, properties)
    with localcontext(EXACT_CONTEXT):
        usage = _usage(quantity, field="quantity")
        if model == "percentage":
            return _percentage_charge(terms, usage, _event_values(event_values, quantity=usage))
        return _CHARGES[model](terms, usage)


CHARGE_MODELS: list[tuple[str, str]] = [
    ("standard", "Standard"),
    ("graduated", "Graduated"),
    ("volume", "Volume"),
    ("package", "Package"),
    ("percentage", "Percentage"),
    ("graduated_percentage", "Graduated percentage"),
]
_VALIDATORS: dict[str, Callable[[str, dict], dict[str, Any]]] = {
    "standard": _standard_validate,
    "graduated": partial(_tiers_validate, price_key="unit_amount"),
    "volume": partial(_tiers_validate, price_key="unit_amount"),
    "package": _package_validate,
    "percentage": _percentage_validate,
    "graduated_percentage": partial(_tiers_validate, price_key="rate"),
}
_CHARGES: dict[str, Callable[[dict[str, Any], Decimal], ChargeResult]] = {
    "standard": _standard_charge,
    "graduated": _graduated_charge,
    "volume": _volume_charge,
    "package": _package_charge,
    "graduated_percentage": _graduated_percentage_charge,
}
