"""billing.charge_models: every model at its boundaries (0, a fraction, 1, the last unit of a tier, the first
of the next, far beyond the last), the percentage free allowance and clamps, validation, and properties that
hold for any tiers (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.charge_models import (
    CHARGE_MODELS,
    ChargePartKind,
    ChargePropertiesInvalid,
    ChargeUsageInvalid,
    charge_amount,
    charge_properties_validate,
)

D = Decimal
# The tiers of the module docstring: 10 units at 0.05 + 1.00 flat, up to 100 at 0.04 + 1.00 flat, then 0.03.
TIERS = [
    {"up_to": "10", "unit_amount": "0.05", "flat_amount": "1.00"},
    {"up_to": "100", "unit_amount": "0.04", "flat_amount": "1.00"},
    {"up_to": None, "unit_amount": "0.03", "flat_amount": "0"},
]
PERCENT_TIERS = [
    {"up_to": "1000", "rate": "3", "flat_amount": "0.50"},
    {"up_to": None, "rate": "2", "flat_amount": "1"},
]
PACKAGE = {"amount": "5.00", "package_size": "100", "free_units": "50"}
SETTINGS = settings(max_examples=200, deadline=None)


def priced(model: str, properties: dict, quantity: str) -> Decimal:
    return charge_amount(model=model, properties=properties, quantity=D(quantity)).amount


def percentage(properties: dict, values: list[str]) -> Decimal:
    event_values = [D(value) for value in values]
    return charge_amount(model="percentage", properties=properties, quantity=sum(event_values, D(0)),
                         event_values=event_values).amount


def refusal(model: str, properties) -> ChargePropertiesInvalid:
    with pytest.raises(ChargePropertiesInvalid) as caught:
        charge_properties_validate(model=model, properties=properties)
    return caught.value


# --- standard -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "expected"), [
    ("0", "0"), ("0.5", "0.001"), ("1", "0.002"), ("1500", "3.000"), ("1000000000", "2000000.000"),
])
def test_standard_costs_the_quantity_times_the_unit_amount(quantity, expected):
    assert priced("standard", {"unit_amount": "0.002"}, quantity) == D(expected)


def test_standard_amount_is_exact_and_unrounded():
    assert priced("standard", {"unit_amount": "0.0000031"}, "3.333333") == D("0.0000103333323")


# --- graduated ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "expected"), [
    ("0.5", "1.025"),        # a fraction of tier 1's first unit, plus tier 1's flat amount
    ("1", "1.05"),
    ("10", "1.50"),          # the last unit of tier 1
    ("10.5", "2.52"),        # half a unit into tier 2: its flat amount and half its unit amount
    ("11", "2.54"),          # the first whole unit of tier 2
    ("100", "6.10"),         # the last unit of tier 2
    ("101", "6.13"),         # the first unit of tier 3, which has no flat amount
    ("100000", "3003.10"),   # far beyond the last bound
])
def test_graduated_prices_each_unit_at_its_tiers_rate_and_adds_each_reached_tiers_flat_amount(quantity, expected):
    assert priced("graduated", {"tiers": TIERS}, quantity) == D(expected)


def test_graduated_with_zero_usage_bills_the_first_tiers_flat_amount():
    assert priced("graduated", {"tiers": TIERS}, "0") == D("1.00")


def test_graduated_with_zero_usage_bills_nothing_when_the_first_flat_amount_is_zero():
    tiers = [{**TIERS[0], "flat_amount": "0"}, *TIERS[1:]]

    assert priced("graduated", {"tiers": tiers}, "0") == 0


def test_graduated_reaches_a_tier_as_soon_as_the_quantity_passes_the_previous_bound():
    assert priced("graduated", {"tiers": TIERS}, "10.000001") == D("1.50") + D("0.000001") * D("0.04") + D("1.00")


def test_graduated_breakdown_lists_each_reached_tier_for_the_invoice_line():
    result = charge_amount(model="graduated", properties={"tiers": TIERS}, quantity=D("150"))

    assert [(part.tier, part.from_value, part.to_value, part.units, part.unit_amount, part.flat_amount, part.amount)
            for part in result.breakdown] == [
        (1, D("0"), D("10"), D("10"), D("0.05"), D("1.00"), D("1.50")),
        (2, D("10"), D("100"), D("90"), D("0.04"), D("1.00"), D("4.60")),
        (3, D("100"), None, D("50"), D("0.03"), D("0"), D("1.50")),
    ]


def test_a_tier_part_holds_what_the_invoice_line_prints():
    part = charge_amount(model="graduated", properties={"tiers": TIERS}, quantity=D("100")).breakdown[1]

    line = f"Tier {part.tier}: {part.units} units × {part.unit_amount} + {part.flat_amount} flat = {part.amount}"
    assert line == "Tier 2: 90 units × 0.04 + 1.00 flat = 4.60"


def test_graduated_breakdown_at_zero_usage_is_the_first_tiers_flat_amount():
    (part,) = charge_amount(model="graduated", properties={"tiers": TIERS}, quantity=D("0")).breakdown

    assert (part.tier, part.units, part.flat_amount, part.amount) == (1, D("0"), D("1.00"), D("1.00"))


# --- volume -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "expected"), [
    ("0.5", "1.025"),
    ("1", "1.05"),
    ("10", "1.50"),          # the last unit of tier 1: 10 × 0.05 + 1.00
    ("10.5", "1.42"),        # tier 2 prices all 10.5 units: 10.5 × 0.04 + 1.00
    ("11", "1.44"),
    ("100", "5.00"),         # the last unit of tier 2
    ("101", "3.03"),         # tier 3 prices all 101 units, no flat amount
    ("100000", "3000.00"),
])
def test_volume_prices_every_unit_at_the_tier_the_whole_quantity_falls_in(quantity, expected):
    assert priced("volume", {"tiers": TIERS}, quantity) == D(expected)


def test_volume_with_zero_usage_bills_the_first_tiers_flat_amount():
    assert priced("volume", {"tiers": TIERS}, "0") == D("1.00")


def test_volume_breakdown_is_the_one_tier_that_priced_the_quantity():
    (part,) = charge_amount(model="volume", properties={"tiers": TIERS}, quantity=D("101")).breakdown

    assert (part.kind, part.tier, part.from_value, part.to_value, part.units, part.unit_amount, part.amount) == (
        ChargePartKind.TIER, 3, D("100"), None, D("101"), D("0.03"), D("3.03"))


# --- package ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "expected"), [
    ("0", "0"),
    ("0.5", "0"),
    ("1", "0"),
    ("50", "0"),             # the last free unit
    ("50.5", "5.00"),        # half a unit beyond the free ones starts a package
    ("51", "5.00"),
    ("150", "5.00"),         # the last unit of the first package
    ("150.5", "10.00"),      # a started second package is a whole one
    ("151", "10.00"),
    ("1000050", "50000.00"),
])
def test_package_bills_the_units_beyond_the_free_ones_in_whole_packages(quantity, expected):
    assert priced("package", PACKAGE, quantity) == D(expected)


@pytest.mark.parametrize(("quantity", "expected"), [
    ("0", "0"), ("0.5", "5.00"), ("1", "5.00"), ("100", "5.00"), ("101", "10.00"),
])
def test_package_without_free_units_bills_the_first_started_package(quantity, expected):
    assert priced("package", {"amount": "5.00", "package_size": "100"}, quantity) == D(expected)


def test_package_breakdown_gives_the_free_units_and_the_packages_started():
    result = charge_amount(model="package", properties=PACKAGE, quantity=D("251"))

    assert [(part.kind, part.units, part.unit_amount, part.package_size, part.amount)
            for part in result.breakdown] == [
        (ChargePartKind.FREE_UNITS, D("50"), None, None, D("0")),
        (ChargePartKind.PACKAGES, D("3"), D("5.00"), D("100"), D("15.00")),
    ]


# --- percentage ---------------------------------------------------------------------------------------------

def test_percentage_charges_the_rate_of_each_events_value():
    assert percentage({"rate": "2.5"}, ["100", "50"]) == D("3.75")


def test_percentage_adds_the_fixed_amount_to_each_charged_event():
    assert percentage({"rate": "2.5", "fixed_amount": "0.30"}, ["100", "50"]) == D("4.35")


def test_percentage_with_no_events_bills_nothing():
    assert percentage({"rate": "2.5", "fixed_amount": "0.30", "per_transaction_min": "1"}, []) == 0


def test_percentage_with_only_zero_valued_events_is_zero_usage_and_bills_nothing():
    assert percentage({"rate": "2.5", "fixed_amount": "0.30", "per_transaction_min": "1"}, ["0", "0"]) == 0


def test_percentage_allowance_ends_when_the_free_events_run_out():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_events": "2", "free_amount": "100"}

    # 40 + 50 leaves free amount, but the two free events are used: the third is charged in full.
    assert percentage(properties, ["40", "50", "10"]) == D("0.55")


def test_percentage_allowance_ends_when_the_value_reaches_the_free_amount():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_events": "5", "free_amount": "100"}

    # 60 + 40 reaches the free amount exactly: both free, and the third is charged in full despite free events left.
    assert percentage(properties, ["60", "40", "10"]) == D("0.55")


def test_percentage_event_crossing_the_free_amount_is_charged_only_above_it():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_events": "5", "free_amount": "100"}

    assert percentage(properties, ["60", "80"]) == D("40") * D("0.025") + D("0.30")


def test_percentage_after_the_crossing_event_every_event_is_charged_in_full():
    properties = {"rate": "2.5", "free_events": "5", "free_amount": "100"}

    assert percentage(properties, ["60", "80", "10"]) == D("1.00") + D("0.25")


def test_percentage_with_only_a_free_amount_frees_value_whatever_the_number_of_events():
    properties = {"rate": "2.5", "free_amount": "100"}

    assert percentage(properties, ["10"] * 10 + ["150"]) == D("150") * D("0.025")


def test_percentage_with_only_free_events_frees_them_whatever_their_value():
    properties = {"rate": "2.5", "free_events": "2"}

    assert percentage(properties, ["1000", "1000", "10"]) == D("0.25")


def test_percentage_with_zero_free_events_frees_nothing():
    properties = {"rate": "2.5", "free_events": "0", "free_amount": "100"}

    assert percentage(properties, ["10"]) == D("0.25")


def test_percentage_raises_a_charged_event_to_the_minimum():
    assert percentage({"rate": "2.5", "fixed_amount": "0.30", "per_transaction_min": "0.50"}, ["4"]) == D("0.50")


def test_percentage_cuts_a_charged_event_to_the_maximum():
    assert percentage({"rate": "2.5", "fixed_amount": "0.30", "per_transaction_max": "10"}, ["1000"]) == D("10")


def test_percentage_leaves_an_event_between_minimum_and_maximum_as_it_is():
    properties = {"rate": "2.5", "per_transaction_min": "0.50", "per_transaction_max": "10"}

    assert percentage(properties, ["100"]) == D("2.5")


def test_percentage_free_events_are_not_raised_to_the_minimum():
    properties = {"rate": "2.5", "free_events": "1", "per_transaction_min": "0.50"}

    assert percentage(properties, ["4", "4"]) == D("0.50")


def test_percentage_crossing_event_is_clamped_on_what_it_pays():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_amount": "100", "per_transaction_min": "0.50"}

    # 1 above the free amount: 0.025 + 0.30 = 0.325, raised to 0.50.
    assert percentage(properties, ["101"]) == D("0.50")


def test_percentage_worked_example_of_the_docstring():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_events": "2", "free_amount": "100",
                  "per_transaction_min": "0.50", "per_transaction_max": "10"}

    assert percentage(properties, ["40", "80", "1000", "10"]) == D("11.35")


def test_percentage_breakdown_adds_up_to_the_amount_through_its_minimum_and_maximum_parts():
    properties = {"rate": "2.5", "fixed_amount": "0.30", "free_events": "1", "per_transaction_min": "0.50",
                  "per_transaction_max": "10"}
    values = [D("7"), D("4"), D("1000"), D("100")]
    result = charge_amount(model="percentage", properties=properties, quantity=sum(values), event_values=values)

    assert {part.kind: (part.events, part.units, part.amount) for part in result.breakdown} == {
        ChargePartKind.FREE_ALLOWANCE: (1, D("7"), D("0")),
        ChargePartKind.PERCENTAGE: (3, D("1104"), D("27.600")),
        ChargePartKind.FIXED_FEE: (3, D("3"), D("0.90")),
        ChargePartKind.MINIMUM: (1, D("1"), D("0.100")),
        ChargePartKind.MAXIMUM: (1, D("1"), D("-15.300")),
    }
    assert result.amount == sum(part.amount for part in result.breakdown) == D("13.30")


def test_percentage_without_event_values_is_refused():
    with pytest.raises(ChargeUsageInvalid) as caught:
        charge_amount(model="percentage", properties={"rate": "1"}, quantity=D("10"))

    assert caught.value.field == "event_values"


def test_percentage_quantity_that_is_not_the_sum_of_the_events_is_refused():
    with pytest.raises(ChargeUsageInvalid) as caught:
        charge_amount(model="percentage", properties={"rate": "1"}, quantity=D("10"), event_values=[D("4"), D("5")])

    assert caught.value.field == "quantity"


def test_percentage_negative_event_value_is_refused():
    with pytest.raises(ChargeUsageInvalid):
        charge_amount(model="percentage", properties={"rate": "1"}, quantity=D("1"), event_values=[D("2"), D("-1")])


def test_models_other_than_percentage_ignore_event_values():
    result = charge_amount(model="standard", properties={"unit_amount": "2"}, quantity=D("3"),
                           event_values=[D("100")])

    assert result.amount == D("6")


# --- graduated percentage -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "expected"), [
    ("0.5", "0.515"),
    ("1", "0.53"),
    ("1000", "30.50"),       # the last unit of tier 1: 1000 × 3 % + 0.50
    ("1000.5", "31.51"),     # tier 2 reached: its flat amount and 2 % of the half unit
    ("1001", "31.52"),
    ("1000000", "20011.50"),
])
def test_graduated_percentage_charges_each_tiers_part_of_the_value_at_its_rate(quantity, expected):
    assert priced("graduated_percentage", {"tiers": PERCENT_TIERS}, quantity) == D(expected)


def test_graduated_percentage_with_zero_usage_bills_the_first_tiers_flat_amount():
    assert priced("graduated_percentage", {"tiers": PERCENT_TIERS}, "0") == D("0.50")


def test_graduated_percentage_breakdown_gives_each_tiers_rate():
    result = charge_amount(model="graduated_percentage", properties={"tiers": PERCENT_TIERS}, quantity=D("1500"))

    assert [(part.tier, part.units, part.rate, part.unit_amount, part.amount) for part in result.breakdown] == [
        (1, D("1000"), D("3"), None, D("30.50")), (2, D("500"), D("2"), None, D("11"))]


# --- usage --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, properties", [
    ("standard", {"unit_amount": "1"}), ("graduated", {"tiers": TIERS}), ("package", PACKAGE),
])
def test_a_negative_quantity_is_refused(model, properties):
    with pytest.raises(ChargeUsageInvalid):
        charge_amount(model=model, properties=properties, quantity=D("-1"))


def test_a_non_finite_quantity_is_refused():
    with pytest.raises(ChargeUsageInvalid):
        charge_amount(model="standard", properties={"unit_amount": "1"}, quantity=D("Infinity"))


def test_a_float_quantity_is_refused():
    with pytest.raises(TypeError):
        charge_amount(model="standard", properties={"unit_amount": "1"}, quantity=1.5)


def test_an_integer_quantity_is_priced_exactly():
    assert charge_amount(model="standard", properties={"unit_amount": "0.1"}, quantity=3).amount == D("0.3")


def test_pricing_refuses_properties_that_do_not_validate():
    with pytest.raises(ChargePropertiesInvalid):
        charge_amount(model="standard", properties={"unit_amount": 0.1}, quantity=D("1"))


# --- breakdown JSON -----------------------------------------------------------------------------------------

def test_a_part_as_json_has_decimal_strings_and_leaves_unused_fields_out():
    part = charge_amount(model="graduated", properties={"tiers": TIERS}, quantity=D("150")).breakdown[2]

    assert part.as_dict() == {"kind": "tier", "tier": 3, "from_value": "100", "units": "50", "unit_amount": "0.03",
                              "flat_amount": "0", "amount": "1.50"}


# --- validation ---------------------------------------------------------------------------------------------

def test_every_model_billing_offers_is_one_this_module_prices():
    from billing.models import UsageCharge

    assert UsageCharge.ChargeModel.choices == CHARGE_MODELS


def test_an_unknown_model_is_refused():
    error = refusal("tiered", {"tiers": TIERS})

    assert (error.field, error.details["allowed"]) == ("model", [name for name, _ in CHARGE_MODELS])


@pytest.mark.parametrize(("model", "properties", "field"), [
    ("standard", {"unit_amount": 0.1}, "unit_amount"),
    ("package", {"amount": "5", "package_size": 100.0}, "package_size"),
    ("graduated", {"tiers": [{"up_to": None, "unit_amount": "1", "flat_amount": 0.5}]}, "tiers[0].flat_amount"),
    ("percentage", {"rate": "1", "free_amount": 10.0}, "free_amount"),
])
def test_a_float_in_the_properties_is_refused(model, properties, field):
    assert refusal(model, properties).field == field


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_a_non_finite_value_is_refused(value):
    assert refusal("standard", {"unit_amount": value}).field == "unit_amount"


@pytest.mark.parametrize("value", ["abc", "", "1,5", True, None, ["1"]])
def test_a_value_that_is_not_a_decimal_string_is_refused(value):
    assert refusal("standard", {"unit_amount": value}).field == "unit_amount"


@pytest.mark.parametrize(("model", "properties", "field"), [
    ("standard", {"unit_amount": "-0.01"}, "unit_amount"),
    ("package", {"amount": "-5", "package_size": "100"}, "amount"),
    ("package", {"amount": "5", "package_size": "100", "free_units": "-1"}, "free_units"),
    ("graduated", {"tiers": [{"up_to": None, "unit_amount": "-1"}]}, "tiers[0].unit_amount"),
    ("graduated_percentage", {"tiers": [{"up_to": None, "rate": "-1"}]}, "tiers[0].rate"),
    ("percentage", {"rate": "-2.5"}, "rate"),
    ("percentage", {"rate": "1", "per_transaction_min": "-1"}, "per_transaction_min"),
])
def test_a_negative_amount_or_rate_is_refused(model, properties, field):
    assert refusal(model, properties).field == field


@pytest.mark.parametrize(("model", "properties", "field"), [
    ("standard", {}, "unit_amount"),
    ("graduated", {}, "tiers"),
    ("graduated", {"tiers": [{"unit_amount": "1"}]}, "tiers[0].up_to"),
    ("volume", {"tiers": [{"up_to": None}]}, "tiers[0].unit_amount"),
    ("graduated_percentage", {"tiers": [{"up_to": None}]}, "tiers[0].rate"),
    ("package", {"amount": "5"}, "package_size"),
    ("percentage", {"fixed_amount": "1"}, "rate"),
])
def test_a_missing_required_key_is_named(model, properties, field):
    assert refusal(model, properties).field == field


@pytest.mark.parametrize(("model", "properties", "field"), [
    ("standard", {"unit_amount": "1", "currency": "USD"}, "currency"),
    ("package", {"amount": "5", "package_size": "100", "free_packages": "1"}, "free_packages"),
    ("graduated", {"tiers": [{"up_to": None, "unit_amount": "1", "from": "0"}]}, "tiers[0].from"),
    ("percentage", {"rate": "1", "free_units": "1"}, "free_units"),
])
def test_an_unknown_key_is_refused(model, properties, field):
    assert refusal(model, properties).field == field


@pytest.mark.parametrize("size", ["0", "2.5"])
def test_a_package_size_that_is_not_a_whole_number_above_zero_is_refused(size):
    assert refusal("package", {"amount": "5", "package_size": size}).field == "package_size"


@pytest.mark.parametrize("tiers", [[], None, {"up_to": None, "unit_amount": "1"}])
def test_tiers_must_be_a_non_empty_list(tiers):
    assert refusal("graduated", {"tiers": tiers}).field == "tiers"


def test_a_tier_that_is_not_an_object_is_refused():
    assert refusal("graduated", {"tiers": ["10"]}).field == "tiers[0]"


@pytest.mark.parametrize("second_up_to", ["10", "5"])
def test_tier_bounds_must_increase_strictly(second_up_to):
    tiers = [{"up_to": "10", "unit_amount": "1"}, {"up_to": second_up_to, "unit_amount": "1"},
             {"up_to": None, "unit_amount": "1"}]

    assert refusal("volume", {"tiers": tiers}).field == "tiers[1].up_to"


def test_the_first_tier_bound_must_be_above_zero():
    tiers = [{"up_to": "0", "unit_amount": "1"}, {"up_to": None, "unit_amount": "1"}]

    assert refusal("graduated", {"tiers": tiers}).field == "tiers[0].up_to"


def test_only_the_last_tier_may_have_no_bound():
    tiers = [{"up_to": None, "unit_amount": "1"}, {"up_to": None, "unit_amount": "1"}]

    assert refusal("graduated", {"tiers": tiers}).field == "tiers[0].up_to"


def test_the_last_tier_must_have_no_bound():
    tiers = [{"up_to": "10", "unit_amount": "1"}, {"up_to": "20", "unit_amount": "1"}]

    assert refusal("graduated", {"tiers": tiers}).field == "tiers[1].up_to"


def test_a_minimum_above_the_maximum_is_refused():
    error = refusal("percentage", {"rate": "1", "per_transaction_min": "2", "per_transaction_max": "1"})

    assert (error.field, error.details) == ("per_transaction_min", {"model": "percentage"})


def test_a_fractional_number_of_free_events_is_refused():
    assert refusal("percentage", {"rate": "1", "free_events": "1.5"}).field == "free_events"


def test_properties_that_are_not_an_object_are_refused():
    assert refusal("standard", ["0.1"]).field == "properties"


def test_validation_normalises_numbers_to_plain_decimal_strings_and_fills_the_defaults():
    normalised = charge_properties_validate(model="graduated", properties={"tiers": [
        {"up_to": "1E+2", "unit_amount": "0.040"}, {"up_to": None, "unit_amount": 3, "flat_amount": "-0"}]})

    assert normalised == {"tiers": [{"up_to": "100", "unit_amount": "0.040", "flat_amount": "0"},
                                    {"up_to": None, "unit_amount": "3", "flat_amount": "0"}]}


def test_validation_fills_the_optional_percentage_keys():
    assert charge_properties_validate(model="percentage", properties={"rate": "2.5", "free_events": 3}) == {
        "rate": "2.5", "fixed_amount": "0", "free_events": "3", "free_amount": None, "per_transaction_min": None,
        "per_transaction_max": None}


def test_normalised_properties_validate_again_unchanged():
    normalised = charge_properties_validate(model="package", properties={"amount": "5", "package_size": "1e2"})

    assert charge_properties_validate(model="package", properties=normalised) == normalised


# --- properties that hold for any tiers ---------------------------------------------------------------------

AMOUNTS = st.decimals(min_value=0, max_value=1000, places=4)
QUANTITIES = st.decimals(min_value=0, max_value=100_000, places=6)


@st.composite
def tier_lists(draw, *, bounds=st.decimals(min_value=D("0.01"), max_value=10_000, places=2)) -> list[dict]:
    up_tos = sorted(draw(st.lists(bounds, unique=True, max_size=5)))
    return [{"up_to": None if up_to is None else str(up_to), "unit_amount": str(draw(AMOUNTS)),
             "flat_amount": str(draw(AMOUNTS))} for up_to in [*up_tos, None]]


@SETTINGS
@given(tiers=tier_lists(), quantities=st.lists(QUANTITIES, min_size=2, max_size=2).map(sorted))
def test_graduated_never_costs_less_for_more_usage(tiers, quantities):
    smaller, larger = quantities

    assert priced("graduated", {"tiers": tiers}, smaller) <= priced("graduated", {"tiers": tiers}, larger)


@SETTINGS
@given(tiers=tier_lists(), quantity=QUANTITIES)
def test_graduated_equals_the_sum_of_its_breakdown(tiers, quantity):
    result = charge_amount(model="graduated", properties={"tiers": tiers}, quantity=quantity)

    assert result.amount == sum(part.amount for part in result.breakdown)


@SETTINGS
@given(tiers=tier_lists(), quantity=QUANTITIES.filter(lambda quantity: quantity > 0))
def test_graduated_breakdown_units_add_up_to_the_quantity(tiers, quantity):
    result = charge_amount(model="graduated", properties={"tiers": tiers}, quantity=quantity)

    assert sum(part.units for part in result.breakdown) == quantity


@SETTINGS
@given(tiers=tier_lists(bounds=st.integers(min_value=1, max_value=200)), quantity=st.integers(0, 300))
def test_graduated_equals_pricing_each_whole_unit_one_by_one(tiers, quantity):
    bounds = [None if tier["up_to"] is None else int(tier["up_to"]) for tier in tiers]
    starts = [0, *bounds[:-1]]

    def tier_of(unit: int) -> dict:
        return next(tier for tier, bound in zip(tiers, bounds) if bound is None or unit <= bound)

    expected = sum((D(tier_of(unit)["unit_amount"]) for unit in range(1, quantity + 1)), D(0))
    expected += sum(D(tier["flat_amount"]) for tier, start in zip(tiers, starts) if quantity > start)
    if quantity == 0:
        expected = D(tiers[0]["flat_amount"])
    assert priced("graduated", {"tiers": tiers}, quantity) == expected


@SETTINGS
@given(tiers=tier_lists(), quantity=QUANTITIES)
def test_volume_equals_its_one_part_from_the_tier_holding_the_quantity(tiers, quantity):
    result = charge_amount(model="volume", properties={"tiers": tiers}, quantity=quantity)
    (part,) = result.breakdown

    assert result.amount == part.amount == quantity * part.unit_amount + part.flat_amount
    assert part.units == quantity
    assert part.from_value < quantity or part.tier == 1
    assert part.to_value is None or quantity <= part.to_value


@SETTINGS
@given(tiers=tier_lists(), quantity=QUANTITIES)
def test_graduated_percentage_is_graduated_at_the_rate_over_a_hundred(tiers, quantity):
    percent_tiers = [{"up_to": tier["up_to"], "rate": tier["unit_amount"], "flat_amount": tier["flat_amount"]}
                     for tier in tiers]
    as_unit_amounts = [{**tier, "unit_amount": str(D(tier["unit_amount"]) / 100)} for tier in tiers]

    assert priced("graduated_percentage", {"tiers": percent_tiers}, quantity) == priced(
        "graduated", {"tiers": as_unit_amounts}, quantity)


@SETTINGS
@given(quantity=QUANTITIES, size=st.integers(min_value=1, max_value=500),
       free_units=st.decimals(min_value=0, max_value=1000, places=2), amount=AMOUNTS)
def test_package_is_a_step_function_flat_to_the_end_of_each_started_package(quantity, size, free_units, amount):
    properties = {"amount": str(amount), "package_size": str(size), "free_units": str(free_units)}
    packages = charge_amount(model="package", properties=properties, quantity=quantity).breakdown[-1].units
    end_of_package = free_units + packages * size

    assert priced("package", properties, quantity) == packages * amount
    assert (packages - 1) * size < quantity - free_units <= packages * size or packages == 0
    assert priced("package", properties, end_of_package) == packages * amount
    assert priced("package", properties, end_of_package + D("0.000001")) == (packages + 1) * amount
