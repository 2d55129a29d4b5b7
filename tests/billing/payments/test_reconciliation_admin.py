"""The reconciliation report in the ops admin: runs and disagreements are listed (filtered by status and kind),
linked to their invoice and tenant; "Mark resolved" asks for a note and resolves through the service."""

import pytest
from django.utils import timezone

from billing.models import Payment, ReconciliationDisagreement, ReconciliationRun
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.payments import stripe_invoice

pytestmark = pytest.mark.django_db
URL = "/admin/billing/reconciliationdisagreement/"
Kind = ReconciliationDisagreement.Kind


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZT", "ZU"


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(email="ops@tollgate.test"))
    return public_client


@pytest.fixture
def run():
    return ReconciliationRun.objects.create(started_at=NOW, finished_at=NOW, invoices_checked=3, disagreements=2)


def disagreement(run, tenant, kind: str, stripe_id: str, invoice=None) -> ReconciliationDisagreement:
    return ReconciliationDisagreement.objects.create(
        kind=kind, stripe_id=stripe_id, tenant=tenant, invoice=invoice, first_run=run, message="They disagree.",
        first_seen_at=NOW, last_seen_at=NOW)


def test_the_runs_are_listed_read_only(admin_client, run):
    response = admin_client.get("/admin/billing/reconciliationrun/")

    assert response.status_code == 200
    assert admin_client.get(f"/admin/billing/reconciliationrun/{run.pk}/change/").status_code == 200
    assert admin_client.get("/admin/billing/reconciliationrun/add/").status_code == 403


def test_an_interrupted_run_says_so(admin_client):
    ReconciliationRun.objects.create(started_at=NOW)

    assert b"interrupted" in admin_client.get("/admin/billing/reconciliationrun/").content


def test_disagreements_link_to_their_invoice_and_tenant(admin_client, run, tenant_alpha):
    invoice = stripe_invoice(tenant_alpha)
    disagreement(run, tenant_alpha, Kind.PAID_ELSEWHERE, "pi_elsewhere", invoice)

    content = admin_client.get(URL).content.decode()

    assert f"/admin/billing/invoice/{invoice.pk}/change/" in content
    assert f"/admin/tenants/tenant/{tenant_alpha.pk}/change/" in content


def test_a_disagreement_opens_with_links_to_its_payment(admin_client, run, tenant_alpha):
    invoice = stripe_invoice(tenant_alpha)
    payment = Payment.objects.create(tenant=tenant_alpha, invoice=invoice, attempt=1, payment_intent_id="pi_x",
                                     amount=invoice.amount_due, currency="USD", status=Payment.Status.SUCCEEDED,
                                     created_at=NOW)
    row = disagreement(run, tenant_alpha, Kind.STATE_MISMATCH, "pi_x", invoice)
    ReconciliationDisagreement.objects.filter(pk=row.pk).update(payment=payment)

    content = admin_client.get(f"{URL}{row.pk}/change/").content.decode()

    assert f"/admin/billing/payment/{payment.pk}/change/" in content


def test_disagreements_filter_by_kind(admin_client, run, tenant_alpha):
    disagreement(run, tenant_alpha, Kind.PAID_ELSEWHERE, "pi_elsewhere")
    disagreement(run, tenant_alpha, Kind.INTENT_MISSING, "pi_missing")

    content = admin_client.get(URL + "?kind__exact=intent_missing").content

    assert b"pi_missing" in content and b"pi_elsewhere" not in content


def test_mark_resolved_asks_for_a_note_first(admin_client, run, tenant_alpha):
    row = disagreement(run, tenant_alpha, Kind.INTENT_MISSING, "pi_missing")

    response = admin_client.post(URL, {"action": "mark_resolved", "_selected_action": [row.pk]})

    assert response.status_code == 200 and b"Mark resolved" in response.content
    assert ReconciliationDisagreement.objects.get().status == ReconciliationDisagreement.Status.OPEN


def test_mark_resolved_with_a_note_resolves_through_the_service(admin_client, run, tenant_alpha):
    row = disagreement(run, tenant_alpha, Kind.INTENT_MISSING, "pi_missing")

    response = admin_client.post(URL, {"action": "mark_resolved", "_selected_action": [row.pk], "apply": "1",
                                       "note": "A test intent deleted in Stripe's dashboard."})

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.resolved_by, row.resolution_note) == (
        ReconciliationDisagreement.Status.RESOLVED, "ops@tollgate.test", "A test intent deleted in Stripe's dashboard.")
    assert row.resolved_at <= timezone.now()


def test_a_disagreement_cannot_be_edited_or_deleted(admin_client, run, tenant_alpha):
    row = disagreement(run, tenant_alpha, Kind.INTENT_MISSING, "pi_missing")

    admin_client.post(f"{URL}{row.pk}/change/", {"message": "changed", "status": "resolved"})

    assert ReconciliationDisagreement.objects.get().message == "They disagree."
    assert admin_client.get(f"{URL}{row.pk}/delete/").status_code == 403
