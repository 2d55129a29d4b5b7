"""Exactly once, at the scale of a whole story: every period of every subscription invoiced once whether the
billing run is retried, dies half-way, or runs twice at the same time, with each invoice still right to the cent.

Two real billing_run processes at once are proven in tests/billing/invoicing/test_run.py
(test_two_billing_run_processes_at_once_bill_each_period_once), and four threads on bare periods there too;
here two threads run over subscriptions with seats, usage-free fees and a scheduled change, and every invoice
they leave goes through invoice_check."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import override_settings

from billing.invoicing import run as run_module
from billing.invoicing.run import billing_run
from billing.models import Invoice, InvoiceLine, Plan, Price, Subscription, SubscriptionEvent
from tests.support.billing import (
    invoice_check,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    subscription_started,
    totals_expected,
    usage_record,
)
from tests.support.factories import PlanFactory, PriceFactory

D = Decimal
Kind = InvoiceLine.Kind
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
JUN_1 = datetime(2026, 6, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
CYCLE = Invoice.Reason.SUBSCRIPTION_CYCLE


class WorkerKilled(BaseException):
    """The process dies (SIGKILL, out of memory): nothing in the run may catch it."""


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def cycle_periods(tenant) -> list[tuple[datetime, datetime]]:
    return [(invoice.period_start, invoice.period_end) for invoice in invoices_checked(tenant)
            if invoice.billing_reason == CYCLE]


@pytest.mark.django_db
def test_a_run_retried_every_fifteen_minutes_invoices_each_period_once(tenant_alpha, clock, catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=4)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    results = []
    for month in (APR_1, MAY_1):
        for retry in range(3):
            results.append(billing_run(now=at(clock, month + timedelta(minutes=15 * retry))))

    assert [result.invoices_created for result in results] == [1, 0, 0, 1, 0, 0]
    assert cycle_periods(tenant_alpha) == [(MAR_1, APR_1), (APR_1, MAY_1)]
    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 1 seat beyond the 3 included", "12.00")]
    seats = (Kind.SEATS, f"{PRO}: 1 seat beyond the 3 included", "12.00")
    assert invoice_lines(april) == [(Kind.USAGE, "API calls: 1,250 calls (1,000 included)", "1.50"),
                                    (Kind.FIXED, PRO, "99.00"), seats]
    assert invoice_totals(april) == totals_expected("112.50")
    assert invoice_totals(may) == totals_expected("111.00")
    assert SubscriptionEvent.objects.filter(subscription__tenant=tenant_alpha, action="renewed").count() == 2


@pytest.mark.django_db
def test_a_run_killed_after_the_first_subscription_leaves_each_period_invoiced_once(tenant_alpha, tenant_beta,
                                                                                   clock, catalogue, calls,
                                                                                   monkeypatch):
    for tenant in (tenant_alpha, tenant_beta):
        subscription_started(tenant, catalogue.pro, at=MAR_1)
    usage_record(tenant_beta, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))
    real_roll = run_module._subscription_roll
    rolled = []

    def roll_then_die(subscription, *, now):
        # The second subscription's invoice is written, then the worker dies before its roll commits.
        if rolled:
            raise WorkerKilled
        rolled.append(subscription.pk)
        return real_roll(subscription, now=now)

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "_subscription_roll", roll_then_die)
        with pytest.raises(WorkerKilled):
            billing_run(now=at(clock, APR_1))
    halfway = [len(cycle_periods(tenant)) for tenant in (tenant_alpha, tenant_beta)]

    result = billing_run(now=at(clock, APR_1 + timedelta(minutes=15)))

    assert sorted(halfway) == [0, 1] and result.invoices_created == 1
    for tenant in (tenant_alpha, tenant_beta):
        assert cycle_periods(tenant) == [(MAR_1, APR_1)]
        subscription = Subscription.objects.get(tenant=tenant)
        assert subscription.current_period_end == MAY_1
    for tenant in (tenant_alpha, tenant_beta):
        start = invoices_checked(tenant)[0]
        assert (invoice_lines(start), invoice_totals(start)) == ([(Kind.FIXED, PRO, "99.00")],
                                                                 totals_expected("99.00"))
    assert invoice_lines(invoices_checked(tenant_beta)[1]) == [
        (Kind.USAGE, "API calls: 1,250 calls (1,000 included)", "1.50"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(invoices_checked(tenant_alpha)[1]) == [
        (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00"), (Kind.FIXED, PRO, "99.00")]


@pytest.mark.django_db
def test_a_run_killed_while_catching_up_missed_periods_resumes_where_it_died(tenant_alpha, clock, catalogue,
                                                                              monkeypatch):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    real_roll = run_module._subscription_roll
    rolls = []

    def die_on_the_second_period(subscription, *, now):
        if rolls:
            raise WorkerKilled
        rolls.append(now)
        return real_roll(subscription, now=now)

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "_subscription_roll", die_on_the_second_period)
        with pytest.raises(WorkerKilled):
            billing_run(now=at(clock, JUN_1))
    assert cycle_periods(tenant_alpha) == [(MAR_1, APR_1)]

    billing_run(now=at(clock, JUN_1 + timedelta(minutes=15)))

    assert cycle_periods(tenant_alpha) == [(MAR_1, APR_1), (APR_1, MAY_1), (MAY_1, JUN_1)]
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (
        JUN_1, datetime(2026, 7, 1, tzinfo=UTC))


# --- Two runs at once (threads, committed data) -------------------------------------------------------------

MISSED = [(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)),
          (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),
          (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))]
RUN_AT = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)


@pytest.fixture
def three_periods_behind(committed_db):
    """Alpha (5 seats, Team) and beta (1 seat, Team, moving to Solo at its next period) each three monthly periods
    behind, committed so that the runners' connections see them. A draft period keeps the invoices deletable."""
    from tenants.models import Tenant

    team_plan, solo_plan = PlanFactory(code="scenario-team", name="Team"), PlanFactory(code="scenario-solo",
                                                                                       name="Solo")
    team = PriceFactory(plan=team_plan, code="scenario-team-month", fixed_amount=D("49.00"), included_seats=2,
                        per_seat_amount=D("7.50"))
    solo = PriceFactory(plan=solo_plan, code="scenario-solo-month", fixed_amount=D("9.99"))
    start = MISSED[0][0]
    alpha, beta = (Tenant.objects.get(slug=slug) for slug in ("alpha", "beta"))
    subscriptions = {
        "alpha": Subscription.objects.create(tenant=alpha, plan=team_plan, price=team, status="active", quantity=5,
                                             current_period_start=start, current_period_end=MISSED[0][1],
                                             created_at=start),
        "beta": Subscription.objects.create(tenant=beta, plan=team_plan, price=team, status="active", quantity=1,
                                            current_period_start=start, current_period_end=MISSED[0][1],
                                            created_at=start, scheduled_price=solo),
    }
    with override_settings(BILLING_DRAFT_PERIOD_HOURS=24 * 365):
        yield subscriptions
    invoices = Invoice.objects.filter(subscription__in=subscriptions.values())
    InvoiceLine.objects.filter(invoice__in=invoices).delete()
    invoices.delete()
    SubscriptionEvent.objects.filter(subscription__in=subscriptions.values()).delete()
    Subscription.objects.filter(pk__in=[subscription.pk for subscription in subscriptions.values()]).delete()
    Price.objects.filter(plan__in=[team_plan, solo_plan]).delete()
    Plan.objects.filter(pk__in=[team_plan.pk, solo_plan.pk]).delete()


def test_two_runs_at_once_invoice_each_period_of_each_story_once_and_right(three_periods_behind):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(billing_run(now=RUN_AT))
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(RUN_AT, tick=False):
        runners = [threading.Thread(target=run) for _ in range(2)]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join(timeout=120)

    assert errors == [] and not any(result.failed for result in results)
    assert sum(result.invoices_created for result in results) == 6
    alpha, beta = three_periods_behind["alpha"], three_periods_behind["beta"]
    for subscription in (alpha, beta):
        invoices = [invoice_check(invoice) for invoice in Invoice.objects.filter(subscription=subscription)
                    .order_by("period_start")]
        assert [(invoice.period_start, invoice.period_end) for invoice in invoices] == MISSED
        assert SubscriptionEvent.objects.filter(subscription=subscription, action="renewed").count() == 3
        assert all(invoice.status == Invoice.Status.DRAFT for invoice in invoices)
        subscription.refresh_from_db()
        assert subscription.current_period_start == MISSED[-1][1]
    # Alpha: 49.00 and three seats beyond the two included at 7.50, every period.
    alpha_invoices = Invoice.objects.filter(subscription=alpha).order_by("period_start")
    assert [invoice_lines(invoice) for invoice in alpha_invoices] == [
        [(Kind.FIXED, "Team (monthly)", "49.00"), (Kind.SEATS, "Team (monthly): 3 seats beyond the 2 included",
                                                   "22.50")]] * 3
    assert [invoice.total for invoice in alpha_invoices] == [D("71.50")] * 3
    # Beta: Solo from the first invoice's advance fee on, once.
    beta_invoices = Invoice.objects.filter(subscription=beta).order_by("period_start")
    assert [invoice_lines(invoice) for invoice in beta_invoices] == [[(Kind.FIXED, "Solo (monthly)", "9.99")]] * 3
