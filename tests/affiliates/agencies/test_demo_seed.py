"""The demo's agency: northwind, a reseller, with two clients, one of which gave it access, last month's consolidated
invoice paid, and the dashboard filled; a second run changes nothing."""

from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.agencies.demo import agencies_demo_seed
from affiliates.agencies.selectors import agency_dashboard
from affiliates.models import AgencyAccessGrant, Commission, Referral
from billing.models import ConsolidatedBilling, Invoice, Subscription
from tests.support.agencies import agency_make
from tests.support.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind():
    """As demo_seed and billing_demo_seed leave it: an agency on the Agency plan, bloom its client."""
    agency = agency_make("northwind")
    TenantFactory(slug="bloom", name="Bloom Studio", parent_agency=agency)
    return agency


def test_the_demo_agency_has_two_clients_one_with_access_and_a_filled_dashboard(
        northwind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        agencies_demo_seed(now=timezone.now())
    rows = {row.client.slug: row for row in agency_dashboard(agency=northwind, now=timezone.now()).rows}
    assert set(rows) == {"bloom", "fern"}
    assert rows["bloom"].access_role == "admin" and rows["fern"].access_role is None
    assert [(money.amount, money.currency) for money in rows["bloom"].mrr] == [(19, "USD")]
    assert rows["bloom"].invoices and rows["bloom"].health is not None
    assert set(Referral.objects.filter(affiliate__tenant=northwind).values_list("tenant__slug", flat=True)) == {
        "bloom", "fern"}


def test_the_demo_agency_is_a_reseller_with_last_months_consolidated_invoice_paid(
        northwind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        agencies_demo_seed(now=timezone.now())
    dashboard = agency_dashboard(agency=northwind, now=timezone.now())
    [consolidated] = dashboard.consolidated_invoices
    [bloom_invoice] = Invoice.objects.filter(tenant__slug="bloom")
    assert consolidated.status == Invoice.Status.PAID and consolidated.carried == 1
    assert consolidated.total == Decimal("15.20")  # Starter's 19.00 less 20 %
    assert (bloom_invoice.collection_method, bloom_invoice.status) == ("consolidated", Invoice.Status.PAID)
    assert all(arrangement.payer_id == northwind.pk
               for arrangement in ConsolidatedBilling.objects.filter(client__parent_agency=northwind))
    assert not Commission.objects.filter(affiliate__tenant=northwind).exists()


def test_running_the_demo_seed_again_changes_nothing(northwind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        agencies_demo_seed(now=timezone.now())
        agencies_demo_seed(now=timezone.now())
    assert northwind.client_tenants.count() == 2
    assert AgencyAccessGrant.objects.count() == 1
    assert Subscription.objects.filter(tenant__parent_agency=northwind).count() == 1
    assert Invoice.objects.filter(tenant=northwind, billing_reason=Invoice.Reason.CONSOLIDATED).count() == 1
