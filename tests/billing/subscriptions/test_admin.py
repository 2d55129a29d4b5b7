"""The subscriptions admin under a frozen clock (NOW = 2026-11-20 12:00 UTC): the list, the read-only history,
and each lifecycle action and form going through the subscription services as the signed-in operator."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.models import Coupon, CouponRedemption, PendingInvoiceItem, Price, Subscription, SubscriptionEvent
from billing.subscriptions.services import subscription_cancel, subscription_pause, subscription_start
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/billing/subscription/"
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
OWNER = "owner@alpha.test"
Status = Subscription.Status


@pytest.fixture
def operator(db):
    return OpsUserFactory()


@pytest.fixture
def admin_client(public_client, operator, frozen_now):
    public_client.force_login(operator)
    return public_client


def price(code: str) -> Price:
    return Price.objects.get(code=code)


@pytest.fixture
def active(tenant_alpha) -> Subscription:
    """Alpha on Pro monthly since November 1, paid, with one seat."""
    return subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=OWNER, now=NOV_1, trial=False)


@pytest.fixture
def trialing(tenant_beta) -> Subscription:
    """Beta trialing Pro from NOW for 14 days."""
    return subscription_start(tenant=tenant_beta, price=price("pro-month-usd"), actor=OWNER, now=NOW)


def fresh(subscription: Subscription) -> Subscription:
    return Subscription.objects.get(pk=subscription.pk)


def last_event(subscription: Subscription) -> SubscriptionEvent:
    return SubscriptionEvent.objects.filter(subscription=subscription).order_by("-created_at", "-id").first()


def run_action(client, action: str, subscriptions: list[Subscription]):
    return client.post(SUBSCRIPTIONS, {"action": action, "_selected_action": [s.pk for s in subscriptions]},
                       follow=True)


def page(subscription: Subscription, name: str) -> str:
    return f"{SUBSCRIPTIONS}{subscription.pk}/{name}/"


def message_texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- List and detail ------------------------------------------------------------------------------

def test_the_list_shows_each_tenants_plan_status_and_period(admin_client, active):
    response = admin_client.get(SUBSCRIPTIONS)

    row = response.content.decode().split("Alpha Co", 1)[1].split("</tr>", 1)[0]
    assert "pro-month-usd" in row and "Active" in row and "Dec. 1, 2026" in row


def test_subscriptions_filter_by_status(admin_client, active, trialing):
    response = admin_client.get(SUBSCRIPTIONS, {"status__exact": "trialing"})

    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_subscriptions_are_searchable_by_tenant(admin_client, active, trialing):
    response = admin_client.get(SUBSCRIPTIONS, {"q": "alpha"})

    assert b"Alpha Co" in response.content and b"Beta Inc" not in response.content


def test_the_subscription_page_shows_its_history_read_only(admin_client, active):
    response = admin_client.get(f"{SUBSCRIPTIONS}{active.pk}/change/")

    assert response.status_code == 200
    assert b"started" in response.content and OWNER.encode() in response.content
    assert b'name="status"' not in response.content and b'name="_save"' not in response.content


def test_the_history_says_what_each_change_changed(admin_client, active):
    subscription_pause(subscription=active, actor=OWNER, now=NOW)

    response = admin_client.get(f"{SUBSCRIPTIONS}{active.pk}/change/")

    assert "status: active → paused" in response.content.decode()


def test_subscriptions_cannot_be_added_or_deleted_in_admin(admin_client, active):
    assert admin_client.get(f"{SUBSCRIPTIONS}add/").status_code == 403
    assert admin_client.get(f"{SUBSCRIPTIONS}{active.pk}/delete/").status_code == 403


def test_the_page_offers_the_actions_the_status_allows(admin_client, trialing):
    response = admin_client.get(f"{SUBSCRIPTIONS}{trialing.pk}/change/")

    assert page(trialing, "extend-trial").encode() in response.content
    assert page(trialing, "operation/pause").encode() not in response.content


# --- Actions on the list --------------------------------------------------------------------------

def test_pausing_from_the_list_pauses_as_the_operator(admin_client, operator, active):
    response = run_action(admin_client, "pause", [active])

    assert fresh(active).status == Status.PAUSED
    assert last_event(active).actor == operator.email
    assert "Paused: 1 subscription(s)." in message_texts(response)


def test_an_action_the_service_refuses_is_a_warning_not_an_error_page(admin_client, trialing):
    response = run_action(admin_client, "pause", [trialing])

    assert response.status_code == 200
    assert fresh(trialing).status == Status.TRIALING
    assert any("Only an active subscription" in text for text in message_texts(response))


def test_resuming_from_the_list_resumes(admin_client, active):
    subscription_pause(subscription=active, actor=OWNER, now=NOW)

    run_action(admin_client, "resume", [active])

    assert fresh(active).status == Status.ACTIVE


def test_canceling_at_period_end_from_the_list_keeps_the_plan_until_then(admin_client, active):
    run_action(admin_client, "cancel_at_period_end", [active])

    assert (fresh(active).status, fresh(active).cancel_at_period_end) == (Status.ACTIVE, True)


def test_reactivating_from_the_list_undoes_a_cancellation_at_period_end(admin_client, active):
    subscription_cancel(subscription=active, actor=OWNER, now=NOW, at_period_end=True)

    run_action(admin_client, "reactivate", [active])

    assert not fresh(active).cancel_at_period_end


def test_canceling_now_from_the_list_ends_the_subscription(admin_client, active):
    run_action(admin_client, "cancel_now", [active])

    assert (fresh(active).status, fresh(active).ended_at) == (Status.CANCELED, NOW)


# --- Change price or seats ------------------------------------------------------------------------

def change(client, subscription, *, price_code: str, quantity: int = 1, force_now: bool = False, preview=False):
    form = {"price": price(price_code).pk, "quantity": quantity}
    if force_now:
        form["force_now"] = "on"
    if preview:
        form["_preview"] = "Preview"
    return client.post(page(subscription, "change-price"), form)


def test_an_upgrade_applies_at_once(admin_client, operator, active):
    response = change(admin_client, active, price_code="business-month-usd")

    assert response.status_code == 302
    assert fresh(active).price.code == "business-month-usd"
    assert last_event(active).actor == operator.email


def test_an_upgrade_writes_its_prorations(admin_client, active):
    change(admin_client, active, price_code="business-month-usd")

    assert PendingInvoiceItem.objects.filter(subscription=active).count() == 2


def test_a_preview_shows_the_prorations_and_changes_nothing(admin_client, active):
    response = change(admin_client, active, price_code="business-month-usd", preview=True)

    assert response.status_code == 200
    assert response.context["preview"]["total"] == "70.35 USD"  # (299.99 - 99.00) × 0.35, rounded per line
    assert fresh(active).price.code == "pro-month-usd"
    assert not PendingInvoiceItem.objects.filter(subscription=active).exists()


def test_a_downgrade_waits_for_the_period_end(admin_client, active):
    change(admin_client, active, price_code="starter-month-usd")

    assert (fresh(active).price.code, fresh(active).scheduled_price.code) == ("pro-month-usd", "starter-month-usd")


def test_a_downgrade_forced_now_applies_at_once(admin_client, active):
    change(admin_client, active, price_code="starter-month-usd", force_now=True)

    assert (fresh(active).price.code, fresh(active).scheduled_price) == ("starter-month-usd", None)


def test_ops_may_move_a_subscription_to_a_private_plan(admin_client, active):
    change(admin_client, active, price_code="agency-month-usd")

    assert fresh(active).price.code == "agency-month-usd"


def test_a_change_the_service_refuses_is_a_form_error(admin_client, active):
    response = change(admin_client, active, price_code="pro-month-usd", quantity=1)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "The subscription is already on this price with this many seats."]


def test_only_prices_in_the_subscriptions_currency_are_offered(admin_client, active):
    response = admin_client.get(page(active, "change-price"))

    codes = {price.code for price in response.context["form"].fields["price"].queryset}
    assert "business-month-usd" in codes and "pro-month-eur" not in codes


# --- Trial, cancel and one-click operations -------------------------------------------------------

def test_extending_a_trial_moves_its_end(admin_client, trialing):
    new_end = NOW + timedelta(days=30)

    response = admin_client.post(page(trialing, "extend-trial"), {"trial_end": "2026-12-20T12:00"})

    assert response.status_code == 302
    assert fresh(trialing).trial_end == new_end


def test_extending_a_trial_into_the_past_is_a_form_error(admin_client, trialing):
    response = admin_client.post(page(trialing, "extend-trial"), {"trial_end": "2026-11-01T00:00"})

    assert response.status_code == 400
    assert response.context["form"].errors["trial_end"] == ["The trial must end in the future."]


def test_extending_a_paid_subscriptions_trial_is_refused(admin_client, active):
    response = admin_client.post(page(active, "extend-trial"), {"trial_end": "2026-12-20T12:00"})

    assert response.context["form"].non_field_errors() == ["Only a running trial can be extended."]


def test_the_cancel_form_cancels_at_period_end(admin_client, active):
    admin_client.post(page(active, "cancel"), {"when": "period_end"})

    assert fresh(active).cancel_at_period_end and fresh(active).status == Status.ACTIVE


def test_the_cancel_form_cancels_now_with_a_credit_for_the_unused_time(admin_client, active):
    admin_client.post(page(active, "cancel"), {"when": "now", "prorate_credit": "on"})

    assert fresh(active).status == Status.CANCELED
    assert PendingInvoiceItem.objects.filter(subscription=active, amount_exact__lt=0).exists()


def test_the_pause_page_pauses_on_confirmation(admin_client, active):
    confirm = admin_client.get(page(active, "operation/pause"))
    response = admin_client.post(page(active, "operation/pause"))

    assert confirm.status_code == 200 and fresh(active).status == Status.PAUSED
    assert response.status_code == 302


def test_resuming_a_subscription_that_is_not_paused_is_a_form_error(admin_client, active):
    response = admin_client.post(page(active, "operation/resume"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Only a paused subscription can be resumed."]


def test_an_unknown_operation_is_not_found(admin_client, active):
    assert admin_client.post(page(active, "operation/delete")).status_code == 404


def test_the_invoices_link_lists_the_subscriptions_invoices(admin_client, active):
    response = admin_client.get("/admin/billing/invoice/", {"subscription__id__exact": active.pk})

    assert response.status_code == 200


def test_ops_apply_a_coupon_to_a_subscription(admin_client, operator, active):
    coupon = Coupon.objects.create(code="sorry", name="Sorry 50%", percent_off=Decimal("50"))

    response = admin_client.post(page(active, "coupon"), {"coupon": coupon.pk})

    assert response.status_code == 302
    redemption = CouponRedemption.objects.get(subscription=active)
    assert (redemption.coupon, redemption.redeemed_by) == (coupon, operator.email)


def test_a_coupon_the_service_refuses_is_a_form_error(admin_client, active):
    coupon = Coupon.objects.create(code="eur", name="5 EUR off", amount_off=Decimal("5"), currency="EUR")

    response = admin_client.post(page(active, "coupon"), {"coupon": coupon.pk})

    assert response.context["form"].errors["coupon"] == ["This coupon is for EUR subscriptions."]
    assert not CouponRedemption.objects.filter(subscription=active).exists()
