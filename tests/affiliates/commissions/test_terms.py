"""The pure pieces of the engine: calendar months, scheme steps, rounding."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from affiliates.commissions.services import commission_earn
from affiliates.commissions.terms import SchemeInvalid, calendar_months_between, commission_amount, scheme_parse
from affiliates.models.program import CommissionType
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, referral_make


def test_calendar_months_count_month_boundaries_not_days():
    assert calendar_months_between(datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == 1
    assert calendar_months_between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC)) == 0
    assert calendar_months_between(datetime(2025, 11, 5, tzinfo=UTC), datetime(2026, 2, 5, tzinfo=UTC)) == 3


@pytest.mark.parametrize("scheme", [
    "40", [{"months": 3}], [{"months": 0, "rate": "40"}], [{"months": "3", "rate": "40"}],
    [{"months": 3, "rate": "abc"}], [{"months": 3, "rate": "140"}], [{"months": True, "rate": "10"}],
])
def test_a_malformed_scheme_is_refused(scheme):
    with pytest.raises(SchemeInvalid):
        scheme_parse(scheme)


def test_amounts_round_half_up_in_the_currencys_minor_units():
    assert commission_amount(base=Decimal("0.05"), rate=Decimal("10"), currency="USD") == Decimal("0.01")
    assert commission_amount(base=Decimal("105"), rate=Decimal("10"), currency="JPY") == Decimal("11")


@pytest.mark.django_db
def test_an_affiliate_with_a_malformed_scheme_earns_nothing_until_it_is_fixed():
    affiliate = affiliate_make(commission_type=CommissionType.SCHEME, scheme=[{"months": 3}])
    invoice = invoice_paid(referral_make(affiliate).tenant, "100.00")
    assert commission_earn(invoice=invoice, now=NOW) is None
    affiliate.scheme = [{"months": None, "rate": "30"}]
    affiliate.save()
    assert commission_earn(invoice=invoice, now=NOW).amount == Decimal("30.00")
