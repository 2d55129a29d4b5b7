from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from billing.models import (
    Dispute,
    Product,
    ReconciliationDisagreement,
    ReconciliationRun,
    RevenueDay,
    RevenueMoneyDay,
    RevenueSnapshot,
)
from billing.quotes.services import service_quote_request
from billing.selectors import ops_revenue_headline
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


def app_labels(response) -> list[str]:
    return [app["app_label"] for app in response.context["app_list"]]


def test_the_index_lists_tenants_billing_metering_notifications_then_stripe_first(admin_client):
    labels = app_labels(admin_client.get("/admin/"))

    ours_first = [label for label in labels if label in {"tenants", "billing", "metering", "notifications", "djstripe"}]
    assert ours_first == ["tenants", "billing", "metering", "notifications", "djstripe"]
    assert labels.index("djstripe") < labels.index("django_celery_beat")


def test_the_index_shows_only_the_stripe_models_ops_act_on(admin_client):
    [stripe] = [app for app in admin_client.get("/admin/").context["app_list"] if app["app_label"] == "djstripe"]

    assert sorted(model["object_name"] for model in stripe["models"]) == [
        "Customer", "Dispute", "PaymentIntent", "Refund", "WebhookEndpoint", "WebhookEventTrigger"]


def test_a_hidden_stripe_model_is_still_reachable_by_its_url(admin_client):
    assert admin_client.get("/admin/djstripe/charge/").status_code == 200


def test_the_index_counts_the_quotes_awaiting_a_price(admin_client, tenant_alpha):
    service_quote_request(tenant=tenant_alpha, product=Product.objects.first(), brief="Audit my site",
                          actor="owner@alpha.test", now=timezone.now())

    response = admin_client.get("/admin/")

    queues = {queue.label: queue.count for queue in response.context["attention_queues"]}
    assert queues["Quotes awaiting a price"] == 1
    assert b"Needs attention" in response.content


def test_webhook_deliveries_offer_dj_stripes_reprocess_action(admin_client):
    response = admin_client.get("/admin/djstripe/webhookeventtrigger/")

    assert "reprocess" in dict(response.context["action_form"].fields["action"].choices)


def queues(response) -> dict[str, tuple[int, str]]:
    return {queue.label: (queue.count, queue.url) for queue in response.context["attention_queues"]}


def dispute(tenant, status: str, number: int) -> Dispute:
    return Dispute.objects.create(dispute_id=f"dp_test{number}", charge_id=f"ch_test{number}", tenant=tenant,
                                  amount=Decimal("25.00"), currency="USD", status=status, opened_at=NOW,
                                  updated_at=NOW)


def test_the_index_counts_open_disputes_only(admin_client, tenant_alpha):
    dispute(tenant_alpha, Dispute.Status.NEEDS_RESPONSE, 1)
    dispute(tenant_alpha, Dispute.Status.WARNING_UNDER_REVIEW, 2)
    dispute(tenant_alpha, Dispute.Status.WON, 3)

    count, url = queues(admin_client.get("/admin/"))["Open disputes (chargebacks)"]

    assert count == 2
    listed = admin_client.get(url)
    assert listed.status_code == 200
    assert b"dp_test1" in listed.content and b"dp_test3" not in listed.content


def disagreement(tenant, status: str, stripe_id: str) -> ReconciliationDisagreement:
    run = ReconciliationRun.objects.create(started_at=NOW, finished_at=NOW)
    return ReconciliationDisagreement.objects.create(
        kind=ReconciliationDisagreement.Kind.INTENT_MISSING, stripe_id=stripe_id, tenant=tenant, first_run=run,
        message="Stripe has no such intent.", status=status, first_seen_at=NOW, last_seen_at=NOW,
        resolved_at=None if status == "open" else NOW, resolved_by="" if status == "open" else "reconciliation")


def test_the_index_counts_open_reconciliation_disagreements_and_links_to_them(admin_client, tenant_alpha):
    disagreement(tenant_alpha, "open", "pi_open")
    disagreement(tenant_alpha, "resolved", "pi_resolved")

    count, url = queues(admin_client.get("/admin/"))["Reconciliation disagreements with Stripe"]

    assert count == 1
    listed = admin_client.get(url)
    assert b"pi_open" in listed.content and b"pi_resolved" not in listed.content


def test_without_a_revenue_snapshot_the_index_says_how_to_take_one(admin_client):
    response = admin_client.get("/admin/")

    assert response.context["revenue"] is None
    assert b"No revenue snapshot yet" in response.content
    assert b"./dev manage revenue_backfill" in response.content


@pytest.fixture
def snapshots(settings):
    """Two snapshotted days of November in USD, and a payment failure of October mostly recovered."""
    settings.BILLING_DEFAULT_CURRENCY = "USD"
    today, yesterday = date(2026, 11, 20), date(2026, 11, 19)
    for day in (yesterday, today):
        RevenueSnapshot.objects.create(day=day, taken_at=NOW)
    RevenueDay.objects.create(day=yesterday, currency="USD", mrr=Decimal("900"), customers=9, subscriptions_paying=9,
                              new_mrr=Decimal("100"))
    RevenueDay.objects.create(day=today, currency="USD", mrr=Decimal("1000"), customers=10, subscriptions_paying=11,
                              subscriptions_trialing=2, new_mrr=Decimal("150"), churned_mrr=Decimal("50"))
    RevenueMoneyDay.objects.create(day=today - timedelta(days=40), currency="USD", failed_amount=Decimal("200"),
                                   recovered_amount=Decimal("150"))
    return today


def test_the_revenue_headline_reads_the_latest_snapshot(snapshots):
    headline = ops_revenue_headline()

    assert (headline.day, headline.currency, headline.mrr, headline.arr) == (snapshots, "USD", Decimal("1000"),
                                                                             Decimal("12000"))
    assert headline.net_new_mrr_this_month == Decimal("200")
    assert (headline.subscriptions_active, headline.subscriptions_trialing) == (11, 2)
    assert headline.failed_recovered_percent == Decimal("75.0")


def test_the_index_shows_the_revenue_headline(admin_client, snapshots):
    response = admin_client.get("/admin/")

    figures = {figure.label: figure.value for figure in response.context["revenue"].figures}
    assert figures == {"MRR": "1000.00 USD", "ARR": "12000.00 USD", "Net new MRR this month": "200.00 USD",
                       "Active subscriptions (paying)": "11, and 2 trialing",
                       "Failed payments recovered (12 months)": "75.0 %"}
    assert b"12000.00 USD" in response.content
    assert b'href="/admin/billing/revenuesnapshot/"' in response.content


def test_a_signed_in_user_who_is_not_staff_is_refused_the_ops_home(public_client):
    user = User.objects.create_user("not-staff@tollgate.test", "pw-visitor-5521")
    public_client.force_login(user)

    response = public_client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
