"""Reseller mode from the agency's side: ops switching an agency's earnings mode start or end consolidated billing
for all its clients (audited), a client created later is billed through it from its first invoice, a new
wholesale discount reaches the current arrangements; the agency's Clients page lists its consolidated invoices;
the client's Billing page says who bills it instead of asking it to pay."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.agencies.services import agency_earnings_set
from affiliates.models import AgencyProfile
from billing.consolidation.selectors import consolidated_billing_current
from billing.consolidation.services import consolidated_invoices_issue
from billing.models import ConsolidatedBilling
from tenants.models import TenantAuditLog
from tests.support.agencies import agency_make, client_make, signed_in
from tests.support.billing import invoices_of, subscription_started
from tests.support.consolidation import consolidated_invoices_of, next_month
from tests.support.factories import OpsUserFactory, PriceFactory
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

RESELLER, REFERRAL = AgencyProfile.EarningsMode.RESELLER, AgencyProfile.EarningsMode.REFERRAL
OPS = "ops-person@tollgate.test"


@pytest.fixture
def agency():
    return agency_make()


def reseller(agency, percent: str = "20"):
    return agency_earnings_set(agency=agency, earnings_mode=RESELLER, wholesale_discount_percent=Decimal(percent),
                               actor_email=OPS)


def test_switching_to_reseller_bills_every_client_through_the_agency(agency):
    clients = [client_make(agency, "client-one"), client_make(agency, "client-two")]

    reseller(agency, "25")

    for client in clients:
        arrangement = consolidated_billing_current(client=client)
        assert (arrangement.payer_id, arrangement.wholesale_discount_percent) == (agency.pk, Decimal("25"))
    assert TenantAuditLog.objects.filter(tenant=agency, action="agency_earnings_changed").exists()


def test_a_client_created_in_reseller_mode_is_billed_through_the_agency_from_its_first_invoice(agency):
    reseller(agency)
    client = client_make(agency, "client-one")

    subscription_started(client, PriceFactory(), at=timezone.now())

    [start] = invoices_of(client)
    assert (start.collection_method, start.consolidated_billing.payer_id) == ("consolidated", agency.pk)


def test_switching_back_to_referral_bills_the_clients_directly_again(agency):
    client = client_make(agency, "client-one")
    reseller(agency)

    agency_earnings_set(agency=agency, earnings_mode=REFERRAL, actor_email=OPS)

    assert consolidated_billing_current(client=client) is None
    assert ConsolidatedBilling.objects.get(client=client).ended_at is not None
    subscription_started(client, PriceFactory(), at=timezone.now())
    assert invoices_of(client)[0].collection_method == "manual"


def test_a_new_wholesale_discount_reaches_the_current_arrangements(agency):
    client = client_make(agency, "client-one")
    reseller(agency, "20")

    reseller(agency, "30")

    assert consolidated_billing_current(client=client).wholesale_discount_percent == Decimal("30")
    assert ConsolidatedBilling.objects.filter(client=client).count() == 1


def test_ops_switching_the_mode_in_the_admin_starts_consolidated_billing(agency):
    client = client_make(agency, "client-one")
    ops = client_for(None)
    ops.force_login(OpsUserFactory(email=OPS))
    profile = AgencyProfile.objects.get(agency=agency)

    ops.post(f"/admin/affiliates/agencyprofile/{profile.pk}/change/", {
        "earnings_mode": "reseller", "commission_rate": "10", "wholesale_discount_percent": "25"})

    assert consolidated_billing_current(client=client).wholesale_discount_percent == Decimal("25")
    page = ops.get(f"/admin/affiliates/agencyprofile/{profile.pk}/change/").content.decode()
    assert "Client One (client-one): 25 % off" in page


def test_the_agency_sees_its_consolidated_invoices_on_its_clients_page(agency, django_capture_on_commit_callbacks):
    reseller(agency)
    client = client_make(agency, "client-one")
    subscription_started(client, PriceFactory(), at=timezone.now() - timedelta(days=1))
    consolidated_invoices_issue(now=next_month(timezone.now()))
    [wholesale] = consolidated_invoices_of(agency)

    page = signed_in(agency).get("/clients/").content.decode()

    assert 'data-testid="agency-consolidated-invoices"' in page
    assert wholesale.number in page and "79.20 USD" in page  # 99.00 less 20 %


def test_the_clients_billing_page_says_who_bills_it_and_offers_no_payment(agency, settings):
    reseller(agency)
    client = client_make(agency, "client-one")
    subscription_started(client, PriceFactory(), at=timezone.now())
    [start] = invoices_of(client)

    page = signed_in(client).get("/billing/").content.decode()

    assert f"billed through <strong>{agency.name}</strong>" in page
    assert f"Billed through {agency.name}" in page and "Pay now" not in page
    invoice_page = signed_in(client).get(f"/billing/invoices/{start.number}/").content.decode()
    assert f"Billed through {agency.name}" in invoice_page


def test_ops_cannot_give_a_wholesale_discount_above_100_percent(agency):
    client = client_make(agency, "client-one")
    ops = client_for(None)
    ops.force_login(OpsUserFactory(email=OPS))
    profile = AgencyProfile.objects.get(agency=agency)

    response = ops.post(f"/admin/affiliates/agencyprofile/{profile.pk}/change/", {
        "earnings_mode": "reseller", "commission_rate": "10", "wholesale_discount_percent": "120"})

    assert response.status_code == 200 and "A percentage between 0 and 100." in response.content.decode()
    assert consolidated_billing_current(client=client) is None
