"""Reseller invoices issued at the same moment, each on its own connection: an agency's numbers stay gapless and
unique, and one client invoice delivered twice at once still gives one reseller invoice."""

import pytest
from django.db import connection
from django.utils import timezone

from billing.invoicing.events import invoice_consolidated
from billing.models import ConsolidatedBilling
from tests.support.agencies import client_make
from tests.support.concurrency import run_together
from tests.support.resellers import client_invoice_make, reseller_make
from tests.support.tenants import tenant_billing_purge, tenant_purge
from whitelabel.models import ResellerInvoice
from whitelabel.resellers.services import reseller_invoice_issue


@pytest.fixture
def racing(committed_db, monkeypatch):
    """A reseller and two clients with a consolidated invoice each, committed, their signal not sent (the test
    issues); purged afterwards, reseller invoices first (they point at the clients' invoices)."""
    monkeypatch.setattr(invoice_consolidated, "send", lambda *args, **kwargs: [])
    agency = reseller_make("race-reseller")
    clients = [client_make(agency, slug) for slug in ("race-a", "race-b")]
    invoices = [client_invoice_make(client, now=timezone.now()) for client in clients]
    yield invoices
    connection.set_schema_to_public()
    ResellerInvoice.objects.filter(agency=agency).delete()
    for client in clients:
        tenant_billing_purge(client)
        ConsolidatedBilling.objects.filter(client=client).delete()
        tenant_purge(client)


def issue(invoice):
    return lambda: reseller_invoice_issue(invoice=invoice, now=timezone.now()).number


def test_two_clients_invoiced_at_once_get_consecutive_numbers(racing):
    outcomes = run_together(issue(racing[0]), issue(racing[1]))
    year = timezone.now().year
    assert sorted(outcomes) == [f"RACERESELL-{year}-0001", f"RACERESELL-{year}-0002"], outcomes


def test_one_client_invoice_delivered_twice_at_once_is_invoiced_once(racing):
    outcomes = run_together(issue(racing[0]), issue(racing[0]))
    assert outcomes == [f"RACERESELL-{timezone.now().year}-0001"] * 2, outcomes
    assert ResellerInvoice.objects.filter(source_invoice=racing[0]).count() == 1
