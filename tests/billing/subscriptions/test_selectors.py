"""Reads on subscriptions (billing.subscriptions.selectors) and the entitlements a subscription gives
(billing.selectors.entitlements_for): trialing and active give the plan, past due gives it for the grace period
then Free, paused gives Free, and without a subscription the assigned plan or Free."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from billing.models import Plan, Price, Subscription, SubscriptionEvent
from billing.selectors import entitlements_for
from billing.services import tenant_plan_assign
from billing.subscriptions import services
from billing.subscriptions.selectors import (
    plan_limit_blockers, subscription_current, subscription_events, subscription_pending_items,
)
from billing.subscriptions.services import (
    subscription_cancel, subscription_change, subscription_past_due_mark, subscription_pause, subscription_start,
)
from tenants.models import Domain, Tenant
from tests.support.clock import NOW
from tests.support.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
ACTOR = "owner@alpha.test"


@pytest.fixture(autouse=True)
def no_invoicing(monkeypatch):
    for name in ("_start_invoice", "_prorations_invoice_now", "_period_close_invoice"):
        monkeypatch.setattr(services, name, lambda *args, **kwargs: None)


def start(tenant: Tenant, code: str = "pro-month-usd", *, trial: bool = False) -> Subscription:
    return subscription_start(tenant=tenant, price=Price.objects.get(code=code), actor=ACTOR, now=NOV_1,
                              trial=trial)


# --- Entitlements ---------------------------------------------------------------------------------------------

def test_a_trial_gives_the_plans_entitlements(tenant_alpha):
    start(tenant_alpha, trial=True)

    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "pro"


def test_an_active_subscription_gives_its_plan_over_an_assigned_one(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="business"))
    start(tenant_alpha)

    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "pro"


def test_a_past_due_subscription_keeps_its_plan_through_the_grace_period(tenant_alpha):
    subscription_past_due_mark(subscription=start(tenant_alpha), now=NOW)

    last_moment = NOW + timedelta(days=7) - timedelta(microseconds=1)
    assert entitlements_for(tenant=tenant_alpha, now=last_moment).plan_code == "pro"


def test_a_past_due_subscription_falls_to_free_when_the_grace_period_ends(tenant_alpha):
    subscription_past_due_mark(subscription=start(tenant_alpha), now=NOW)

    assert entitlements_for(tenant=tenant_alpha, now=NOW + timedelta(days=7)).plan_code == "free"


@override_settings(BILLING_PAST_DUE_GRACE_DAYS=2)
def test_the_grace_period_is_a_setting(tenant_alpha):
    subscription_past_due_mark(subscription=start(tenant_alpha), now=NOW)

    assert entitlements_for(tenant=tenant_alpha, now=NOW + timedelta(days=2)).plan_code == "free"


def test_the_grace_period_ends_without_anybody_saving_anything(tenant_alpha):
    # The cached answer must not outlive the grace period: the clock decides on every read.
    subscription_past_due_mark(subscription=start(tenant_alpha), now=NOW)
    entitlements_for(tenant=tenant_alpha, now=NOW)

    assert entitlements_for(tenant=tenant_alpha, now=NOW + timedelta(days=8)).plan_code == "free"


def test_a_paused_subscription_gives_free_even_with_an_assigned_plan(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="business"))
    subscription_pause(subscription=start(tenant_alpha), actor=ACTOR, now=NOW)

    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "free"


def test_after_a_subscription_ends_the_assigned_plan_applies_again(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="business"))
    subscription_cancel(subscription=start(tenant_alpha), actor=ACTOR, now=NOW, at_period_end=False)

    assert entitlements_for(tenant=tenant_alpha, now=NOW).plan_code == "business"


def test_one_tenants_subscription_gives_nothing_to_another(tenant_alpha, tenant_beta):
    start(tenant_alpha)

    assert entitlements_for(tenant=tenant_beta, now=NOW).plan_code == "free"


# --- Subscription reads ---------------------------------------------------------------------------------------

def test_the_current_subscription_is_the_one_not_ended(tenant_alpha):
    subscription_cancel(subscription=start(tenant_alpha), actor=ACTOR, now=NOW, at_period_end=False)
    current = start(tenant_alpha, "business-month-usd")

    assert subscription_current(tenant=tenant_alpha) == current


def test_a_tenant_without_a_subscription_has_no_current_one(tenant_alpha, tenant_beta):
    start(tenant_beta)

    assert subscription_current(tenant=tenant_alpha) is None


def test_the_history_is_the_tenants_own_newest_first(tenant_alpha, tenant_beta):
    subscription = start(tenant_alpha)
    start(tenant_beta)
    subscription_change(subscription=subscription, quantity=7, actor=ACTOR, now=NOW)

    assert [event.action for event in subscription_events(tenant=tenant_alpha)] == ["seats_up", "started"]
    assert SubscriptionEvent.objects.count() == 3


def test_pending_items_are_those_not_yet_invoiced_of_the_tenants_subscription(tenant_alpha, tenant_beta):
    subscription = start(tenant_alpha)
    subscription_change(subscription=subscription, quantity=7, actor=ACTOR, now=NOW)

    assert subscription_pending_items(tenant=tenant_alpha, subscription=subscription).count() == 1
    assert subscription_pending_items(tenant=tenant_beta, subscription=subscription).count() == 0


# --- What stands in the way of a plan -------------------------------------------------------------------------

def test_a_plan_that_holds_the_tenant_has_no_blockers(tenant_alpha):
    assert plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"), quantity=5) == []


def test_members_beyond_the_plans_seats_must_go_first(tenant_alpha):
    members = 1 + 3
    for _ in range(3):
        StaffUserFactory(tenant=tenant_alpha)

    blockers = plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="free"), quantity=1)

    assert [(b.limit, b.allowed) for b in blockers] == [("seats", 1)]
    assert blockers[0].in_use >= members


def test_more_seats_than_the_plan_allows_are_refused(tenant_alpha):
    blockers = plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="starter"), quantity=4)

    assert [(b.limit, b.allowed, b.in_use) for b in blockers] == [("seats", 3, 4)]


def test_custom_domains_beyond_the_plans_must_go_first(tenant_alpha):
    Domain.objects.create(domain="api.alpha-brand.test", tenant=tenant_alpha, is_primary=False)

    blockers = plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"), quantity=1)

    assert [(b.limit, b.allowed, b.in_use) for b in blockers] == [("custom_domains", 0, 1)]


def test_the_primary_domain_is_not_a_custom_domain(tenant_alpha):
    blockers = plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"), quantity=1)

    assert [b.limit for b in blockers] == []


def test_client_workspaces_must_be_detached_before_a_plan_without_them(tenant_alpha, tenant_beta):
    Tenant.objects.filter(pk=tenant_beta.pk).update(parent_agency=tenant_alpha)

    blockers = plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"), quantity=1)

    assert [(b.limit, b.in_use) for b in blockers] == [("client_tenants", 1)]


def test_an_agency_plan_keeps_client_workspaces(tenant_alpha, tenant_beta):
    Tenant.objects.filter(pk=tenant_beta.pk).update(parent_agency=tenant_alpha)

    assert plan_limit_blockers(tenant=tenant_alpha, plan=Plan.objects.get(code="agency"), quantity=1) == []
