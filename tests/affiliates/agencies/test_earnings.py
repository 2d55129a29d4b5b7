"""Referral mode end to end: a client the agency created pays an invoice, and the agency earns its profile's rate
through the commission engine; in reseller mode it earns nothing (its clients' invoices are consolidated, and
paid through its own wholesale invoice), not even once back in referral mode."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.agencies.services import agency_earnings_set
from affiliates.commissions.services import commissions_sweep
from affiliates.models import AgencyProfile, Commission
from billing.consolidation.services import consolidated_invoices_issue
from billing.models import Invoice
from tests.support.agencies import agency_make, client_make
from tests.support.billing import invoice_pay, invoices_of, subscription_started
from tests.support.consolidation import consolidated_invoices_of, next_month
from tests.support.factories import PriceFactory

pytestmark = pytest.mark.django_db


def client_pays(agency) -> None:
    client = client_make(agency, "client-one")
    subscription_started(client, PriceFactory(), at=timezone.now() - timedelta(days=1))
    invoice_pay(invoices_of(client)[0])


def test_an_agency_in_referral_mode_earns_its_rate_on_a_client_it_created(django_capture_on_commit_callbacks):
    agency = agency_make()
    with django_capture_on_commit_callbacks(execute=True):
        client_pays(agency)
    commission = Commission.objects.get(affiliate__tenant=agency)
    assert (commission.amount, commission.currency) == (Decimal("9.90"), "USD")  # 10 % of 99.00


def test_an_agency_in_reseller_mode_earns_no_commission(django_capture_on_commit_callbacks):
    agency = agency_make()
    AgencyProfile.objects.create(agency=agency, earnings_mode=AgencyProfile.EarningsMode.RESELLER)
    with django_capture_on_commit_callbacks(execute=True):
        client = client_make(agency, "client-one")
        subscription_started(client, PriceFactory(), at=timezone.now() - timedelta(days=1))
        consolidated_invoices_issue(now=next_month(timezone.now()))
        [wholesale] = consolidated_invoices_of(agency)
        invoice_pay(wholesale)
    assert invoices_of(client)[0].status == Invoice.Status.PAID
    assert not Commission.objects.filter(affiliate__tenant=agency).exists()


def test_a_consolidated_client_invoice_earns_nothing_after_a_switch_back_to_referral(
        django_capture_on_commit_callbacks):
    agency = agency_make()
    agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.RESELLER, actor_email="ops@x.test")
    client = client_make(agency, "client-one")
    subscription_started(client, PriceFactory(), at=timezone.now() - timedelta(days=1))
    agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.REFERRAL, actor_email="ops@x.test")
    with django_capture_on_commit_callbacks(execute=True):
        consolidated_invoices_issue(now=next_month(timezone.now()))
        invoice_pay(consolidated_invoices_of(agency)[0])
    commissions_sweep(now=next_month(timezone.now()) + timedelta(hours=1))
    assert not Commission.objects.filter(affiliate__tenant=agency).exists()
