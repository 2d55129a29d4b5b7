"""Races on money: two payout batches for one cycle at once, and one paid invoice earned by two deliveries at once
(the signal and the catch-up sweep). Committed data, each side on its own connection."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from affiliates.commissions.services import commission_earn, commissions_approve_due
from affiliates.models import Affiliate, Commission, FraudFlag, Payout, Referral
from affiliates.payouts.services import payouts_create
from tenants.models import Tenant
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, referral_make
from tests.support.concurrency import run_together
from tests.support.tenants import tenant_metering_purge

LATER = NOW + timedelta(days=40)


@pytest.fixture
def affiliate(committed_db):
    """An affiliate whose rows, referred tenants (rows without schemas) and their invoices are removed afterwards."""
    affiliate = affiliate_make()
    yield affiliate
    tenants = list(Tenant.objects.filter(referral__affiliate=affiliate))
    FraudFlag.objects.filter(affiliate=affiliate).delete()
    Commission.objects.filter(affiliate=affiliate).delete()
    Payout.objects.filter(affiliate=affiliate).delete()
    Referral.objects.filter(affiliate=affiliate).delete()
    Affiliate.objects.filter(pk=affiliate.pk).delete()
    for tenant in tenants:
        tenant_metering_purge(tenant)  # what invoice_paid's other receivers wrote (wallets)
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows without schemas, so not tenant_purge: their invoices (finalised ones need the purge switch) and rows.
        cursor.execute("SET LOCAL tollgate.ledger_purge = 'on'")
        ids = [tenant.pk for tenant in tenants]
        cursor.execute("DELETE FROM billing_billingemail WHERE tenant_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM billing_invoiceline WHERE invoice_id IN "
                       "(SELECT id FROM billing_invoice WHERE tenant_id = ANY(%s))", [ids])
        for table in ("billing_invoice", "tenants_tenantauditlog"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM tenants_tenant WHERE id = ANY(%s)", [ids])


def test_two_payout_batches_at_once_pay_each_commission_once(affiliate):
    for amount in ("400.00", "500.00"):  # the signal earns them: 40.00 + 50.00, above the $50 threshold
        invoice_paid(referral_make(affiliate).tenant, amount)
    commissions_approve_due(now=LATER)
    runs = run_together(*[lambda: payouts_create(period_end=LATER.date(), now=LATER)] * 2)
    assert sorted(len(run.created) for run in runs) == [0, 1]
    payout = Payout.objects.get(affiliate=affiliate)
    assert payout.amount == Decimal("90.00")
    assert set(Commission.objects.filter(affiliate=affiliate).values_list("payout_id", flat=True)) == {payout.pk}


def test_one_invoice_earned_by_two_deliveries_at_once_earns_once(affiliate):
    invoice = invoice_paid(referral_make(affiliate).tenant, "100.00")
    Commission.objects.filter(invoice=invoice).delete()  # undo the signal's: both deliveries race from nothing
    outcomes = run_together(*[lambda: commission_earn(invoice=invoice, now=NOW)] * 2)
    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    assert Commission.objects.filter(invoice=invoice).count() == 1
