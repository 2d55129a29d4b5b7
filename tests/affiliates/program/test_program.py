from decimal import Decimal

import pytest

from affiliates.models import AffiliateProgram
from affiliates.models.program import CommissionType
from affiliates.program import commission_terms, program_get
from tests.support.affiliate_program import affiliate_make

pytestmark = pytest.mark.django_db


def test_the_default_program_has_the_products_defaults():
    program = program_get()

    assert (program.code, program.commission_rate, program.commission_type) == (
        "default", Decimal("10.000"), CommissionType.RECURRING)
    assert (program.cookie_days, program.attribution, program.holding_days, program.payout_threshold) == (
        60, AffiliateProgram.Attribution.FIRST_TOUCH, 30, Decimal("50.0000"))


def test_a_saved_program_is_read_again_at_once():
    program_get()
    program = AffiliateProgram.objects.get(code="default")
    program.cookie_days = 30
    program.save()

    assert program_get().cookie_days == 30


def test_an_affiliate_without_overrides_earns_on_the_programs_terms():
    terms = commission_terms(affiliate_make("plain"))

    assert (terms.rate, terms.type, terms.recurring_months) == (Decimal("10.000"), CommissionType.RECURRING, None)


def test_an_affiliates_rate_overrides_the_programs_and_keeps_its_type():
    terms = commission_terms(affiliate_make("special", commission_rate=Decimal("25")))

    assert (terms.rate, terms.type) == (Decimal("25"), CommissionType.RECURRING)


def test_an_affiliates_type_brings_its_own_months():
    affiliate = affiliate_make("limited", commission_type=CommissionType.RECURRING_MONTHS, recurring_months=6)

    terms = commission_terms(affiliate)

    assert (terms.rate, terms.type, terms.recurring_months) == (Decimal("10.000"), CommissionType.RECURRING_MONTHS, 6)
