"""billing.subscriptions.services under a frozen clock (NOW = 2026-11-20 12:00 UTC): start and trials, upgrades
prorated to the second, scheduled downgrades, interval and seat changes, pause and resume, cancel and
reactivate, past due, and promotion codes. Amounts are exact (before invoice rounding)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.errors import CouponInvalid, PlanLimitsExceeded, PriceUnavailable, SubscriptionStateInvalid
from billing.models import (
    BillingProfile, Coupon, CouponRedemption, PendingInvoiceItem, Plan, Price, PromotionCode, Subscription,
    SubscriptionEvent,
)
from billing.selectors import entitlements_for
from billing.subscriptions import services
from billing.subscriptions.proration import period_fraction
from billing.subscriptions.services import (
    coupon_apply, promotion_code_redeem, subscription_cancel, subscription_change, subscription_change_preview,
    subscription_past_due_clear, subscription_past_due_mark, subscription_pause, subscription_reactivate,
    subscription_resume, subscription_start, subscription_trial_extend, subscription_trials_process,
)
from tests.support.clock import NOW
from tests.support.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
ACTOR = "owner@alpha.test"
# NOW is 10.5 days before December 1: 35 % of November's 30-day period is left.
PRO_UNUSED = Decimal("34.65")  # 99.00 × 0.35


def price(code: str) -> Price:
    return Price.objects.select_related("plan").get(code=code)


@pytest.fixture
def seams(monkeypatch):
    """The invoicing seams, recorded instead of invoicing: (seam, price code at the call, arguments)."""
    calls = []

    def recorder(name):
        def record(subscription, *args, **kwargs):
            calls.append((name, subscription.price.code, args, kwargs))
        return record

    for name in ("_start_invoice", "_prorations_invoice_now", "_period_close_invoice"):
        monkeypatch.setattr(services, name, recorder(name))
    return calls


@pytest.fixture
def pro(tenant_alpha, seams) -> Subscription:
    """Alpha on Pro monthly since November 1, paid, with one seat."""
    subscription = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOV_1,
                                      trial=False)
    seams.clear()
    return subscription


@pytest.fixture
def business(tenant_alpha, seams) -> Subscription:
    subscription = subscription_start(tenant=tenant_alpha, price=price("business-month-usd"), actor=ACTOR,
                                      now=NOV_1, trial=False)
    seams.clear()
    return subscription


@pytest.fixture
def trialing(tenant_alpha, seams) -> Subscription:
    return subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW)


def pending(subscription) -> list[tuple[str, Decimal]]:
    return [(item.description, item.amount_exact)
            for item in PendingInvoiceItem.objects.filter(subscription=subscription).order_by("id")]


# --- Start ----------------------------------------------------------------------------------------------------

def test_a_trial_runs_for_the_prices_trial_days_from_now(trialing):
    assert (trialing.status, trialing.trial_end) == ("trialing", NOW + timedelta(days=14))
    assert (trialing.current_period_start, trialing.current_period_end) == (NOW, NOW + timedelta(days=14))


def test_a_trial_is_not_invoiced(trialing, seams):
    assert seams == []


def test_a_tenant_that_had_a_trial_gets_no_second_one(tenant_alpha, trialing, seams):
    subscription_cancel(subscription=trialing, actor=ACTOR, now=NOW, at_period_end=False)

    again = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW)

    assert (again.status, again.trial_end) == ("active", None)


def test_a_paid_start_opens_a_whole_period_and_invoices_it(tenant_alpha, seams):
    subscription = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                                      trial=False)

    assert (subscription.status, subscription.current_period_start, subscription.current_period_end) == (
        "active", NOW, datetime(2026, 12, 20, 12, tzinfo=UTC))
    assert [(name, code) for name, code, *_ in seams] == [("_start_invoice", "pro-month-usd")]


def test_a_calendar_month_anchor_ends_the_first_period_at_the_next_month_start(tenant_alpha, seams):
    subscription = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                                      trial=False, billing_anchor="calendar_month")

    assert (subscription.current_period_start, subscription.current_period_end) == (NOW, DEC_1)
    assert period_fraction(subscription=subscription) == Decimal("0.35")


def test_a_second_current_subscription_is_refused(tenant_alpha, pro):
    with pytest.raises(SubscriptionStateInvalid):
        subscription_start(tenant=tenant_alpha, price=price("business-month-usd"), actor=ACTOR, now=NOW)


def test_an_inactive_price_is_refused(tenant_alpha, seams):
    Price.objects.filter(code="pro-month-usd").update(is_active=False)

    with pytest.raises(PriceUnavailable):
        subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW)


@pytest.fixture
def enterprise_price() -> Price:
    return Price.objects.create(plan=Plan.objects.get(code="enterprise"), code="enterprise-month-usd",
                                fixed_amount=Decimal("2000.00"))


def test_a_tenant_cannot_subscribe_itself_to_a_private_plan(tenant_alpha, enterprise_price, seams):
    with pytest.raises(PriceUnavailable):
        subscription_start(tenant=tenant_alpha, price=enterprise_price, actor=ACTOR, now=NOW)


def test_ops_may_subscribe_a_tenant_to_a_private_plan(tenant_alpha, enterprise_price, seams):
    subscription = subscription_start(tenant=tenant_alpha, price=enterprise_price, actor="ops", now=NOW,
                                      allow_private=True)

    assert subscription.plan.code == "enterprise"


def test_a_plan_too_small_for_the_team_is_refused_with_what_must_change_first(tenant_alpha, seams):
    for _ in range(3):
        StaffUserFactory(tenant=tenant_alpha)

    with pytest.raises(PlanLimitsExceeded) as refused:
        subscription_start(tenant=tenant_alpha, price=price("starter-month-usd"), quantity=3, actor=ACTOR, now=NOW)

    assert [blocker["limit"] for blocker in refused.value.details["blockers"]] == ["seats"]


def test_starting_records_who_started_what(trialing):
    event = SubscriptionEvent.objects.get(subscription=trialing)

    assert (event.action, event.actor, event.before, event.after["price"], event.after["status"]) == (
        "started", ACTOR, {}, "pro-month-usd", "trialing")


def test_the_new_plans_entitlements_apply_at_once(tenant_alpha, seams):
    assert entitlements_for(tenant=tenant_alpha).plan_code == "free"

    subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW)

    assert entitlements_for(tenant=tenant_alpha).plan_code == "pro"


# --- Change ---------------------------------------------------------------------------------------------------

def test_an_upgrade_credits_the_unused_time_and_charges_the_rest_of_the_period_to_the_second(pro):
    subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    assert pending(pro) == [("Unused time on Pro (monthly) from 20 Nov 2026", -PRO_UNUSED),
                            ("Remaining time on Business (monthly) from 20 Nov 2026", Decimal("104.9965"))]


def test_an_upgrade_applies_at_once(pro):
    subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    pro.refresh_from_db()
    assert (pro.price.code, pro.plan.code, pro.current_period_end) == ("business-month-usd", "business", DEC_1)


def test_an_upgrade_is_invoiced_at_once_by_default(pro, seams):
    subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    assert [(name, code) for name, code, *_ in seams] == [("_prorations_invoice_now", "business-month-usd")]


@override_settings(BILLING_PRORATION_INVOICING="next_invoice")
def test_with_next_invoice_proration_the_items_wait_for_the_next_invoice(pro, seams):
    subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    assert seams == []
    assert len(pending(pro)) == 2


def test_a_downgrade_waits_for_the_period_end(business):
    subscription_change(subscription=business, price=price("pro-month-usd"), actor=ACTOR, now=NOW)

    business.refresh_from_db()
    assert (business.price.code, business.scheduled_price.code) == ("business-month-usd", "pro-month-usd")
    assert pending(business) == []


def test_a_downgrade_preview_says_when_it_applies(business):
    preview = subscription_change_preview(subscription=business, price=price("pro-month-usd"), now=NOW)

    assert (preview.kind, preview.effective, preview.effective_at, preview.lines) == (
        "downgrade", "period_end", DEC_1, [])


def test_ops_can_force_a_downgrade_now_with_its_prorations(business):
    subscription_change(subscription=business, price=price("pro-month-usd"), actor="ops", now=NOW, force_now=True)

    assert pending(business) == [("Unused time on Business (monthly) from 20 Nov 2026", Decimal("-104.9965")),
                                 ("Remaining time on Pro (monthly) from 20 Nov 2026", PRO_UNUSED)]


def test_more_seats_charge_only_the_extra_seats_for_the_rest_of_the_period(pro):
    # Pro includes 5 seats; 7 seats are 2 extra at 12.00 a month: 24.00 × 0.35.
    preview = subscription_change_preview(subscription=pro, quantity=7, now=NOW)

    assert (preview.kind, preview.effective) == ("seats_up", "now")
    assert [(line.description, line.amount) for line in preview.lines] == [
        ("Remaining time on 2 extra seat(s) on Pro (monthly) from 20 Nov 2026", Decimal("8.40"))]


def test_more_seats_within_the_included_ones_cost_nothing_and_invoice_nothing(pro, seams):
    subscription_change(subscription=pro, quantity=5, actor=ACTOR, now=NOW)

    assert (pending(pro), seams) == ([], [])


def test_a_partial_first_period_is_prorated_at_the_rate_of_the_whole_month(tenant_alpha, seams):
    subscription = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                                      trial=False, billing_anchor="calendar_month")
    # November 25 to December 1 is 6 of November's 30 days, whenever the partial period began.
    preview = subscription_change_preview(subscription=subscription, price=price("business-month-usd"),
                                          now=datetime(2026, 11, 25, tzinfo=UTC))

    assert [line.amount for line in preview.lines] == [Decimal("-19.80"), Decimal("59.998")]


def test_the_preview_in_api_form_rounds_each_line_once_and_sums_the_rounded_lines(pro):
    preview = subscription_change_preview(subscription=pro, price=price("business-month-usd"), now=NOW)

    data = preview.as_dict()

    assert [line["amount"] for line in data["lines"]] == [{"amount": "-34.65", "currency": "USD"},
                                                          {"amount": "105.00", "currency": "USD"}]
    assert (data["total"], data["kind"], data["effective"]) == ({"amount": "70.35", "currency": "USD"},
                                                                "upgrade", "now")


def test_fewer_seats_wait_for_the_period_end(pro):
    subscription_change(subscription=pro, quantity=7, actor=ACTOR, now=NOW)

    subscription_change(subscription=pro, quantity=6, actor=ACTOR, now=NOW)

    pro.refresh_from_db()
    assert (pro.quantity, pro.scheduled_quantity) == (7, 6)


def test_fewer_seats_than_active_members_are_refused(tenant_alpha, pro):
    subscription_change(subscription=pro, quantity=3, actor=ACTOR, now=NOW)
    StaffUserFactory(tenant=tenant_alpha)
    StaffUserFactory(tenant=tenant_alpha)

    with pytest.raises(PlanLimitsExceeded) as refused:
        subscription_change(subscription=pro, quantity=1, actor=ACTOR, now=NOW)

    assert refused.value.details["blockers"][0]["limit"] == "seats"


def test_an_interval_change_credits_the_month_and_charges_a_whole_year_from_now(pro):
    subscription_change(subscription=pro, price=price("pro-year-usd"), actor=ACTOR, now=NOW)

    assert pending(pro) == [("Unused time on Pro (monthly) from 20 Nov 2026", -PRO_UNUSED),
                            ("Pro (yearly) (20 Nov 2026 to 20 Nov 2027)", Decimal("999.00"))]


def test_an_interval_change_starts_a_new_period_now(pro):
    subscription_change(subscription=pro, price=price("pro-year-usd"), actor=ACTOR, now=NOW)

    pro.refresh_from_db()
    assert (pro.current_period_start, pro.current_period_end, pro.created_at) == (
        NOW, datetime(2027, 11, 20, 12, tzinfo=UTC), NOW)


def test_an_interval_change_invoices_the_usage_so_far_on_the_old_price(pro, seams):
    subscription_change(subscription=pro, price=price("pro-year-usd"), actor=ACTOR, now=NOW)

    assert seams == [("_period_close_invoice", "pro-month-usd", (), {"period_start": NOV_1, "period_end": NOW,
                                                                     "now": NOW, "opens_period": True})]


@override_settings(BILLING_PRORATION_INVOICING="next_invoice")
def test_an_interval_change_is_invoiced_at_once_whatever_the_setting(pro, seams):
    subscription_change(subscription=pro, price=price("pro-year-usd"), actor=ACTOR, now=NOW)

    assert [name for name, *_ in seams] == ["_period_close_invoice"]


def test_a_change_during_a_trial_applies_at_once_without_prorations(trialing, seams):
    subscription_change(subscription=trialing, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    trialing.refresh_from_db()
    assert (trialing.plan.code, trialing.status, trialing.trial_end) == (
        "business", "trialing", NOW + timedelta(days=14))
    assert (pending(trialing), seams) == ([], [])


def test_changing_to_what_the_subscription_already_is_is_refused(pro):
    with pytest.raises(SubscriptionStateInvalid):
        subscription_change(subscription=pro, price=price("pro-month-usd"), quantity=1, actor=ACTOR, now=NOW)


def test_changing_currency_is_refused(pro):
    with pytest.raises(PriceUnavailable):
        subscription_change(subscription=pro, price=price("pro-month-eur"), actor=ACTOR, now=NOW)


def test_a_paused_subscription_cannot_change(pro):
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)

    with pytest.raises(SubscriptionStateInvalid):
        subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)


def test_a_preview_changes_nothing(pro):
    subscription_change_preview(subscription=pro, price=price("business-month-usd"), now=NOW)

    pro.refresh_from_db()
    assert (pro.price.code, pending(pro), SubscriptionEvent.objects.filter(subscription=pro).count()) == (
        "pro-month-usd", [], 1)


def test_an_upgrade_replaces_a_scheduled_downgrade(business):
    subscription_change(subscription=business, price=price("pro-month-usd"), actor=ACTOR, now=NOW)

    subscription_change(subscription=business, quantity=12, actor=ACTOR, now=NOW)

    business.refresh_from_db()
    assert (business.quantity, business.scheduled_price) == (12, None)


def test_a_change_records_the_fields_before_and_after(pro):
    subscription_change(subscription=pro, price=price("business-month-usd"), actor=ACTOR, now=NOW)

    event = SubscriptionEvent.objects.filter(subscription=pro).first()
    assert (event.action, event.before["price"], event.after["price"], event.created_at) == (
        "upgrade", "pro-month-usd", "business-month-usd", NOW)


# --- Pause, resume, cancel, reactivate ------------------------------------------------------------------------

def test_a_paused_subscription_gets_free_entitlements(tenant_alpha, pro):
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)

    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "free"


def test_resuming_within_the_period_keeps_the_period(tenant_alpha, pro):
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)

    resumed = subscription_resume(subscription=pro, actor=ACTOR, now=NOW + timedelta(days=2))

    assert (resumed.status, resumed.current_period_end, resumed.created_at) == ("active", DEC_1, NOV_1)
    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "pro"


def test_resuming_after_the_period_ended_closes_it_now_and_anchors_the_next_one_there(pro):
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)
    later = datetime(2027, 2, 3, 8, tzinfo=UTC)

    resumed = subscription_resume(subscription=pro, actor=ACTOR, now=later)

    assert (resumed.current_period_start, resumed.current_period_end, resumed.created_at) == (NOV_1, later, later)


def test_a_trial_cannot_be_paused(trialing):
    with pytest.raises(SubscriptionStateInvalid):
        subscription_pause(subscription=trialing, actor=ACTOR, now=NOW)


def test_canceling_at_period_end_keeps_the_plan_until_then(tenant_alpha, pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=True)

    pro.refresh_from_db()
    assert (pro.status, pro.cancel_at_period_end, pro.canceled_at) == ("active", True, NOW)
    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "pro"


def test_reactivating_before_the_end_undoes_the_cancellation(pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=True)

    reactivated = subscription_reactivate(subscription=pro, actor=ACTOR, now=NOW + timedelta(days=1))

    assert (reactivated.cancel_at_period_end, reactivated.canceled_at) == (False, None)


def test_reactivating_after_the_period_end_is_refused(pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=True)

    with pytest.raises(SubscriptionStateInvalid):
        subscription_reactivate(subscription=pro, actor=ACTOR, now=DEC_1)


def test_canceling_now_ends_the_subscription_and_its_entitlements(tenant_alpha, pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)

    pro.refresh_from_db()
    assert (pro.status, pro.ended_at) == ("canceled", NOW)
    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "free"


def test_canceling_now_invoices_the_usage_so_far(pro, seams):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)

    assert seams == [("_period_close_invoice", "pro-month-usd", (), {"period_start": NOV_1, "period_end": NOW,
                                                                     "now": NOW, "opens_period": False})]


def test_canceling_now_with_a_prorated_credit_credits_the_unused_time(pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False, prorate_credit=True)

    assert pending(pro) == [("Unused time on Pro (monthly) from 20 Nov 2026", -PRO_UNUSED)]


def test_canceling_a_trial_now_invoices_nothing(trialing, seams):
    subscription_cancel(subscription=trialing, actor=ACTOR, now=NOW, at_period_end=False, prorate_credit=True)

    assert (seams, pending(trialing)) == ([], [])


def test_canceling_a_paused_subscription_now_still_invoices_the_usage_before_the_pause(pro, seams):
    # Pausing must not be a way to have the period's usage forgotten.
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)

    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW + timedelta(days=1), at_period_end=False,
                        prorate_credit=True)

    assert [(name, kwargs["period_start"]) for name, _, _, kwargs in seams] == [("_period_close_invoice", NOV_1)]
    assert pending(pro) == []


def test_a_paused_subscription_cannot_be_canceled_at_period_end(pro):
    subscription_pause(subscription=pro, actor=ACTOR, now=NOW)

    with pytest.raises(SubscriptionStateInvalid):
        subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=True)


def test_canceling_twice_is_refused(pro):
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)

    with pytest.raises(SubscriptionStateInvalid):
        subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)


# --- Trials ---------------------------------------------------------------------------------------------------

def test_the_trial_reminder_is_due_three_days_before_the_end_and_given_once(trialing):
    reminder_time = trialing.trial_end - timedelta(days=3)

    first = subscription_trials_process(now=reminder_time)
    second = subscription_trials_process(now=reminder_time + timedelta(hours=1))

    assert ([s.pk for s in first.reminders], second.reminders) == ([trialing.pk], [])


def test_no_reminder_is_due_four_days_before_the_end(trialing):
    assert subscription_trials_process(now=trialing.trial_end - timedelta(days=4)).reminders == []


def test_a_trial_converts_at_its_end_into_a_period_anchored_there(trialing, seams):
    result = subscription_trials_process(now=trialing.trial_end + timedelta(minutes=5))

    trialing.refresh_from_db()
    end = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert [s.pk for s in result.converted] == [trialing.pk]
    assert (trialing.status, trialing.current_period_start, trialing.current_period_end, trialing.created_at) == (
        "active", end, datetime(2027, 1, 4, 12, tzinfo=UTC), end)
    assert [name for name, *_ in seams] == ["_start_invoice"]


def test_a_trial_needing_a_payment_method_without_one_expires_to_free(tenant_alpha, trialing):
    Plan.objects.filter(code="pro").update(payment_method_required=True)

    result = subscription_trials_process(now=trialing.trial_end)

    trialing.refresh_from_db()
    assert ([s.pk for s in result.expired], trialing.status) == ([trialing.pk], "expired")
    assert entitlements_for(tenant=tenant_alpha, now=trialing.trial_end).plan_code == "free"


def test_a_trial_needing_a_payment_method_converts_with_manual_collection_approved(tenant_alpha, trialing):
    Plan.objects.filter(code="pro").update(payment_method_required=True)
    BillingProfile.objects.create(tenant=tenant_alpha, manual_collection_approved=True)

    result = subscription_trials_process(now=trialing.trial_end)

    assert [s.pk for s in result.converted] == [trialing.pk]


def test_a_trial_canceled_at_its_end_ends_there(trialing):
    subscription_cancel(subscription=trialing, actor=ACTOR, now=NOW, at_period_end=True)

    subscription_trials_process(now=trialing.trial_end + timedelta(days=1))

    trialing.refresh_from_db()
    assert (trialing.status, trialing.ended_at) == ("canceled", trialing.trial_end)


def test_a_trial_before_its_end_is_left_alone(trialing):
    result = subscription_trials_process(now=trialing.trial_end - timedelta(seconds=1))

    assert (result.converted, result.expired, result.canceled) == ([], [], [])


def test_ops_can_extend_a_trial_and_the_owners_are_reminded_again(trialing):
    subscription_trials_process(now=trialing.trial_end - timedelta(days=2))
    new_end = trialing.trial_end + timedelta(days=10)

    extended = subscription_trial_extend(subscription=trialing, trial_end=new_end, actor="ops", now=NOW)

    assert (extended.trial_end, extended.current_period_end, extended.trial_reminder_sent_at) == (
        new_end, new_end, None)


def test_a_trial_cannot_be_extended_into_the_past(trialing):
    with pytest.raises(SubscriptionStateInvalid):
        subscription_trial_extend(subscription=trialing, trial_end=NOW, actor="ops", now=NOW)


def test_an_active_subscription_has_no_trial_to_extend(pro):
    with pytest.raises(SubscriptionStateInvalid):
        subscription_trial_extend(subscription=pro, trial_end=DEC_1, actor="ops", now=NOW)


# --- Past due -------------------------------------------------------------------------------------------------

def test_marking_past_due_records_since_when(pro):
    marked = subscription_past_due_mark(subscription=pro, now=NOW)

    assert (marked.status, marked.past_due_since) == ("past_due", NOW)


def test_marking_past_due_again_keeps_the_first_date(pro):
    subscription_past_due_mark(subscription=pro, now=NOW)

    again = subscription_past_due_mark(subscription=pro, now=NOW + timedelta(days=3))

    assert again.past_due_since == NOW


def test_paying_what_was_overdue_makes_the_subscription_active_again(pro):
    subscription_past_due_mark(subscription=pro, now=NOW)

    cleared = subscription_past_due_clear(subscription=pro, now=NOW + timedelta(days=9))

    assert (cleared.status, cleared.past_due_since) == ("active", None)


# --- Coupons --------------------------------------------------------------------------------------------------

@pytest.fixture
def launch() -> PromotionCode:
    coupon = Coupon.objects.create(code="launch-20", name="Launch 20% off", percent_off=Decimal("20"),
                                   duration=Coupon.Duration.REPEATING, duration_periods=3)
    return PromotionCode.objects.create(code="LAUNCH20", coupon=coupon)


def test_a_promotion_code_at_start_gives_the_coupons_periods(tenant_alpha, launch, seams):
    subscription = subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                                      promotion_code="launch20")

    redemption = CouponRedemption.objects.get(subscription=subscription)
    assert (redemption.coupon.code, redemption.promotion_code.code, redemption.periods_left) == (
        "launch-20", "LAUNCH20", 3)


def test_each_redemption_is_counted_on_the_code_and_its_coupon(pro, launch):
    promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)

    launch.refresh_from_db()
    launch.coupon.refresh_from_db()
    assert (launch.times_redeemed, launch.coupon.times_redeemed) == (1, 1)


def test_an_expired_code_refuses_the_whole_start(tenant_alpha, launch, seams):
    PromotionCode.objects.filter(pk=launch.pk).update(expires_at=NOW)

    with pytest.raises(CouponInvalid):
        subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                           promotion_code="LAUNCH20")

    assert not Subscription.objects.filter(tenant=tenant_alpha).exists()


def test_a_fully_redeemed_code_is_refused_and_counts_nothing(pro, launch):
    PromotionCode.objects.filter(pk=launch.pk).update(max_redemptions=1, times_redeemed=1)

    with pytest.raises(CouponInvalid):
        promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)

    launch.coupon.refresh_from_db()
    assert launch.coupon.times_redeemed == 0


def test_a_fully_redeemed_coupon_is_refused_through_any_of_its_codes(pro, launch):
    Coupon.objects.filter(pk=launch.coupon_id).update(max_redemptions=5, times_redeemed=5)

    with pytest.raises(CouponInvalid):
        promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)


def test_a_first_subscription_code_is_refused_to_a_returning_tenant(tenant_alpha, pro, launch):
    PromotionCode.objects.filter(pk=launch.pk).update(first_subscription_only=True)
    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)

    with pytest.raises(CouponInvalid):
        subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW,
                           promotion_code="LAUNCH20")


def test_a_coupon_for_other_plans_is_refused(pro, launch):
    launch.coupon.plans.add(Plan.objects.get(code="business"))

    with pytest.raises(CouponInvalid):
        promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)


def test_an_amount_off_in_another_currency_is_refused(pro):
    coupon = Coupon.objects.create(code="ten-eur", name="10 EUR off", amount_off=Decimal("10"), currency="EUR")

    with pytest.raises(CouponInvalid):
        coupon_apply(subscription=pro, coupon=coupon, actor="ops", now=NOW)


def test_a_second_discount_is_refused_while_one_is_active(pro, launch):
    promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)
    other = Coupon.objects.create(code="forever-5", name="5% forever", percent_off=Decimal("5"),
                                  duration=Coupon.Duration.FOREVER)

    with pytest.raises(CouponInvalid):
        coupon_apply(subscription=pro, coupon=other, actor="ops", now=NOW)


def test_canceling_ends_the_active_discount(pro, launch):
    promotion_code_redeem(subscription=pro, code="LAUNCH20", actor=ACTOR, now=NOW)

    subscription_cancel(subscription=pro, actor=ACTOR, now=NOW, at_period_end=False)

    assert CouponRedemption.objects.get(subscription=pro).ended_at == NOW
