"""Card expiry: the daily scan of every tenant's default card and Stripe's customer.source.expiring each tell the
tenant's billing people once per (card, expiry month), whichever comes first; twice, late or badly signed tells
nobody again."""

from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_tenants.utils import schema_context

from billing.payments.card_expiry import card_expiry_scan
from devtools.stripe_fake import webhook_post
from notifications.categories import Category
from notifications.models import Notification
from tests.support.payments import card_saved


@pytest.fixture
def deliver(public_client, webhook_endpoint, django_capture_on_commit_callbacks):
    def post(event, *, expect=200, **signing):
        with django_capture_on_commit_callbacks(execute=True):
            response = webhook_post(public_client, webhook_endpoint, event, **signing)
        assert response.status_code == expect, response.content
        return response
    return post


def card_expiring(stripe, tenant, deliver, *, month: int, year: int) -> dict:
    """The tenant's default card, saved through Checkout, with the expiry Stripe then reports (payment_method.updated
    brings it to dj-stripe's mirror)."""
    card = card_saved(stripe, tenant, deliver)
    stripe.update(card["id"], card={**card["card"], "exp_month": month, "exp_year": year})
    deliver(stripe.event("payment_method.updated", card["id"]))
    return stripe.get(card["id"])


def expiry_notices(tenant) -> list[Notification]:
    with schema_context(tenant.schema_name):
        return list(Notification.objects.filter(category=Category.CARD_EXPIRING).select_related("recipient"))


def source_expiring_event(stripe, card: dict, *, month: int, year: int) -> dict:
    return stripe.event("customer.source.expiring", data_object={
        "id": card["id"], "object": "card", "customer": card["customer"], "brand": "Visa", "last4": "4242",
        "exp_month": month, "exp_year": year})


def test_the_daily_scan_tells_the_billing_people_of_a_card_expiring_this_month(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)

    told = card_expiry_scan(now=now)

    [notice] = expiry_notices(tenant_alpha)
    assert told == 1
    assert notice.link == "/billing/#billing-card"
    assert "ending in 4242" in notice.title


def test_the_scan_run_twice_tells_once(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)

    card_expiry_scan(now=now)
    told_again = card_expiry_scan(now=now + timedelta(days=1))

    assert told_again == 0
    assert len(expiry_notices(tenant_alpha)) == 1


def test_a_card_expiring_next_year_is_not_news(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year + 1)

    assert card_expiry_scan(now=now) == 0
    assert expiry_notices(tenant_alpha) == []


def test_stripes_source_expiring_tells_the_billing_people_once(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card = card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)
    event = source_expiring_event(stripe, card, month=now.month, year=now.year)

    deliver(event)
    deliver(event)
    deliver(source_expiring_event(stripe, card, month=now.month, year=now.year))

    assert len(expiry_notices(tenant_alpha)) == 1


def test_the_scan_after_stripes_event_tells_nobody_again(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card = card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)
    deliver(source_expiring_event(stripe, card, month=now.month, year=now.year))

    assert card_expiry_scan(now=now) == 0
    assert len(expiry_notices(tenant_alpha)) == 1


def test_a_source_expiring_that_arrives_after_the_card_expired_tells_nobody(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card = card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)
    last_year = now.replace(day=1) - timedelta(days=365)

    deliver(source_expiring_event(stripe, card, month=last_year.month, year=last_year.year))

    assert expiry_notices(tenant_alpha) == []


def test_a_source_expiring_for_a_customer_not_ours_is_ignored(stripe, tenant_alpha, deliver):
    now = timezone.now()

    deliver(stripe.event("customer.source.expiring", data_object={
        "id": "card_elsewhere", "object": "card", "customer": "cus_notOurs", "exp_month": now.month,
        "exp_year": now.year}))

    assert expiry_notices(tenant_alpha) == []


def test_a_badly_signed_source_expiring_is_refused_and_tells_nobody(stripe, tenant_alpha, deliver):
    now = timezone.now()
    card = card_expiring(stripe, tenant_alpha, deliver, month=now.month, year=now.year)

    deliver(source_expiring_event(stripe, card, month=now.month, year=now.year), secret="whsec_notOurs", expect=400)

    assert expiry_notices(tenant_alpha) == []


def test_the_beat_job_runs_the_scan_every_morning(db):
    job = PeriodicTask.objects.get(task="billing.card_expiry_scan")

    assert (job.crontab.hour, job.crontab.minute) == ("9", "0")
    assert "billing.card_expiry_scan" in current_app.tasks
