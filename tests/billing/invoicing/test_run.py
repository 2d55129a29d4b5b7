"""The billing run: one invoice per ended period, exactly once whether it is rerun, crashes half-way or runs twice
at once (threads, and two real processes); the subscription rolls into its next period, takes on what was
scheduled, or ends; drafts are finalised when their draft period ends; the issued invoice is the preview."""

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from billing.invoicing import run as run_module
from billing.invoicing.drafting import upcoming_invoice
from billing.invoicing.rating import usage_daily
from billing.invoicing.run import billing_run
from billing.models import (
    Coupon,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Plan,
    Price,
    Subscription,
    SubscriptionEvent,
    UsageCharge,
)
from billing.subscriptions.proration import period_add
from billing.tasks import billing_run_task
from metering.models import Meter
from metering.usage.services import event_ingest
from tests.support.clock import NOW
from tests.support.factories import MeterFactory, PlanFactory

D = Decimal
Kind = InvoiceLine.Kind
Status = Subscription.Status
PERIOD_START = datetime(2026, 10, 20, 12, tzinfo=UTC)
NEXT_END = datetime(2026, 12, 20, 12, tzinfo=UTC)
MID = datetime(2026, 11, 5, 14, tzinfo=UTC)
_sequence = count()


def pro_price(**fields) -> Price:
    """Pro, monthly: 99.00 USD in advance, 5 seats included, 12.00 per extra seat."""
    values = {"currency": "USD", "interval": Price.Interval.MONTH, "fixed_amount": D("99.00"),
              "per_seat_amount": D("12.00"), "included_seats": 5, **fields}
    plan = values.pop("plan", None) or PlanFactory(name="Pro")
    return Price.objects.create(plan=plan, code=f"run-{next(_sequence)}", **values)


def subscribe(tenant, price: Price, **fields) -> Subscription:
    """Active on `price` for [PERIOD_START, NOW), anchored at its start, 5 seats."""
    values = {"status": Status.ACTIVE, "quantity": 5, "current_period_start": PERIOD_START,
              "current_period_end": NOW, "created_at": PERIOD_START, **fields}
    return Subscription.objects.create(tenant=tenant, plan=price.plan, price=price, **values)


def record_calls(tenant, meter: Meter, how_many: int, *, at: datetime = MID) -> None:
    events = [{"transaction_id": f"run-{next(_sequence)}", "meter": meter.code, "timestamp": at.isoformat()}
              for _ in range(how_many)]
    assert event_ingest(tenant=tenant, events=events, now=NOW).accepted == how_many


def invoices_of(subscription: Subscription) -> list[Invoice]:
    return list(Invoice.objects.filter(subscription=subscription).order_by("period_start"))


@pytest.fixture
def calls(db) -> Meter:
    return MeterFactory(code="run_calls")


# --- One period ---------------------------------------------------------------------------------------------

def test_an_ended_period_gets_its_invoice_issued_at_once(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    result = billing_run(now=NOW)

    [invoice] = invoices_of(subscription)
    assert (invoice.billing_reason, invoice.period_start, invoice.period_end) == (
        Invoice.Reason.SUBSCRIPTION_CYCLE, PERIOD_START, NOW)
    assert (invoice.status, invoice.total, invoice.amount_due) == (Invoice.Status.OPEN, D("99.00"), D("99.00"))
    assert invoice.number.startswith("TG-2026-")
    assert (result.invoices_created, result.invoices_finalized, result.subscriptions_rolled) == (1, 1, 1)


def test_the_subscription_rolls_into_its_next_period_and_records_it(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (NOW, NEXT_END)
    event = SubscriptionEvent.objects.get(subscription=subscription)
    assert (event.action, event.actor, event.before["current_period_end"], event.after["current_period_end"]) == (
        "renewed", "system", NOW.isoformat(), NEXT_END.isoformat())


def test_a_period_that_has_not_ended_is_left_alone(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), current_period_end=NEXT_END)

    result = billing_run(now=NOW)

    assert invoices_of(subscription) == []
    assert result.invoices_created == 0


def test_a_period_ending_exactly_now_is_billed(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    billing_run(now=NOW)

    assert len(invoices_of(subscription)) == 1


@pytest.mark.parametrize("status", [Status.PAUSED, Status.CANCELED, Status.EXPIRED])
def test_paused_and_ended_subscriptions_are_not_billed_by_the_run(tenant_alpha, status):
    subscription = subscribe(tenant_alpha, pro_price(), status=status)

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert invoices_of(subscription) == [] and subscription.current_period_end == NOW


def test_a_trial_that_ended_is_converted_not_billed_as_a_paid_period(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), status=Status.TRIALING, trial_end=NOW)

    result = billing_run(now=NOW)

    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_start) == (Status.ACTIVE, NOW)
    assert not Invoice.objects.filter(subscription=subscription, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
    assert result.trials_converted == 1


def test_owners_are_emailed_once_when_a_trial_is_about_to_end(tenant_alpha, django_capture_on_commit_callbacks,
                                                              mailoutbox):
    subscribe(tenant_alpha, pro_price(), status=Status.TRIALING, trial_end=NOW + timedelta(days=2),
              current_period_end=NOW + timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        first = billing_run(now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        second = billing_run(now=NOW + timedelta(minutes=15))

    assert (first.trial_reminders, second.trial_reminders) == (1, 0)
    assert [message.subject for message in mailoutbox] == [f"{tenant_alpha.name}: your trial ends on 22 Nov 2026"]


def test_an_invoice_unpaid_past_its_due_date_makes_the_subscription_past_due(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    billing_run(now=NOW)
    [invoice] = invoices_of(subscription)

    before_due = billing_run(now=invoice.due_at - timedelta(seconds=1))
    at_due = billing_run(now=invoice.due_at)

    subscription.refresh_from_db()
    assert (before_due.subscriptions_past_due, at_due.subscriptions_past_due) == (0, 1)
    assert (subscription.status, subscription.past_due_since) == (Status.PAST_DUE, invoice.due_at)


def test_a_past_due_subscription_is_still_billed(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), status=Status.PAST_DUE, past_due_since=MID)

    billing_run(now=NOW)

    assert len(invoices_of(subscription)) == 1


# --- Changes taking effect at the period's end --------------------------------------------------------------

def test_a_subscription_canceled_at_period_end_gets_its_usage_invoice_and_ends(tenant_alpha, calls):
    price = pro_price()
    UsageCharge.objects.create(price=price, meter_code=calls.code, name="Calls", charge_model="standard",
                               properties={"unit_amount": "0.10"})
    record_calls(tenant_alpha, calls, 25)
    subscription = subscribe(tenant_alpha, price, cancel_at_period_end=True, canceled_at=MID)

    result = billing_run(now=NOW)

    [invoice] = invoices_of(subscription)
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [(Kind.USAGE, D("2.50"))]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.ended_at, subscription.canceled_at) == (Status.CANCELED, NOW, MID)
    assert (result.subscriptions_ended, result.subscriptions_rolled) == (1, 0)
    assert SubscriptionEvent.objects.get(subscription=subscription).action == "ended"


def test_a_subscription_ending_with_nothing_to_bill_gets_no_invoice(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), cancel_at_period_end=True)

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert invoices_of(subscription) == [] and subscription.status == Status.CANCELED


def test_a_scheduled_price_and_seat_count_take_effect_with_the_next_period(tenant_alpha):
    starter = pro_price(plan=PlanFactory(name="Starter"), fixed_amount=D("19.00"), included_seats=3,
                        per_seat_amount=D("5.00"))
    subscription = subscribe(tenant_alpha, pro_price(), quantity=8, scheduled_price=starter, scheduled_quantity=4)

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert (subscription.price, subscription.plan, subscription.quantity) == (starter, starter.plan, 4)
    assert (subscription.scheduled_price, subscription.scheduled_quantity) == (None, None)
    [invoice] = invoices_of(subscription)
    assert invoice.total == D("24.00")


# --- Exactly once -------------------------------------------------------------------------------------------

def test_a_rerun_creates_nothing(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    billing_run(now=NOW)

    result = billing_run(now=NOW + timedelta(minutes=15))

    assert len(invoices_of(subscription)) == 1
    assert (result.invoices_created, result.subscriptions_rolled, result.invoices_finalized) == (0, 0, 0)
    assert SubscriptionEvent.objects.filter(subscription=subscription).count() == 1


def test_missed_periods_are_each_billed_once(tenant_alpha):
    start = datetime(2026, 8, 31, 12, tzinfo=UTC)
    subscription = subscribe(tenant_alpha, pro_price(), current_period_start=start, created_at=start,
                             current_period_end=datetime(2026, 9, 30, 12, tzinfo=UTC))

    result = billing_run(now=NOW)

    # Anchored on the 31st: September is clamped to the 30th, October keeps the 31st.
    assert [(invoice.period_start.date().isoformat(), invoice.period_end.date().isoformat())
            for invoice in invoices_of(subscription)] == [("2026-08-31", "2026-09-30"), ("2026-09-30", "2026-10-31")]
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (
        datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert result.invoices_created == 2


@pytest.mark.parametrize(("interval", "start", "next_end"), [
    (Price.Interval.QUARTER, datetime(2026, 8, 20, 12, tzinfo=UTC), datetime(2027, 2, 20, 12, tzinfo=UTC)),
    (Price.Interval.YEAR, datetime(2025, 11, 20, 12, tzinfo=UTC), datetime(2027, 11, 20, 12, tzinfo=UTC)),
])
def test_a_longer_interval_rolls_by_its_months(tenant_alpha, interval, start, next_end):
    subscription = subscribe(tenant_alpha, pro_price(interval=interval), current_period_start=start,
                             created_at=start)

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (NOW, next_end)
    assert invoices_of(subscription)[0].lines.get(kind=Kind.FIXED).period_end == next_end


def test_a_calendar_month_subscription_rolls_to_the_first_of_the_next_month(tenant_alpha):
    november = datetime(2026, 11, 1, tzinfo=UTC)
    december = datetime(2026, 12, 1, tzinfo=UTC)
    subscription = subscribe(tenant_alpha, pro_price(), billing_anchor=Subscription.BillingAnchor.CALENDAR_MONTH,
                             current_period_start=datetime(2026, 10, 1, tzinfo=UTC), current_period_end=november,
                             created_at=november)

    billing_run(now=NOW)

    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (november, december)


def test_a_crash_half_way_leaves_the_period_due_and_the_next_run_bills_it_once(tenant_alpha, monkeypatch):
    subscription = subscribe(tenant_alpha, pro_price())

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed after the invoice was written")

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "_subscription_roll", crash)
        crashed = billing_run(now=NOW)
    assert crashed.failed == [subscription.pk] and invoices_of(subscription) == []

    result = billing_run(now=NOW)

    assert len(invoices_of(subscription)) == 1 and result.invoices_created == 1
    subscription.refresh_from_db()
    assert subscription.current_period_end == NEXT_END


def test_an_invoice_already_written_for_the_period_is_not_written_again(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    Invoice.objects.create(tenant=tenant_alpha, subscription=subscription, currency="USD",
                           billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, period_start=PERIOD_START,
                           period_end=NOW, created_at=NOW, finalize_after=NOW + timedelta(days=1))

    billing_run(now=NOW)

    assert len(invoices_of(subscription)) == 1
    subscription.refresh_from_db()
    assert subscription.current_period_end == NEXT_END


def test_one_failing_subscription_does_not_stop_the_others(tenant_alpha, tenant_beta):
    broken = pro_price()
    UsageCharge.objects.create(price=broken, meter_code="no_such_meter", name="Broken", charge_model="standard",
                               properties={"unit_amount": "1"})
    failing = subscribe(tenant_alpha, broken)
    working = subscribe(tenant_beta, pro_price())

    result = billing_run(now=NOW)

    assert result.failed == [failing.pk]
    assert len(invoices_of(working)) == 1 and invoices_of(failing) == []


# --- Draft period -------------------------------------------------------------------------------------------

@override_settings(BILLING_DRAFT_PERIOD_HOURS=24)
def test_with_a_draft_period_the_invoice_waits_as_a_draft(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    result = billing_run(now=NOW)

    [invoice] = invoices_of(subscription)
    assert (invoice.status, invoice.number, result.invoices_finalized) == (Invoice.Status.DRAFT, None, 0)


@override_settings(BILLING_DRAFT_PERIOD_HOURS=24)
def test_a_draft_is_finalised_by_the_first_run_after_its_draft_period(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    billing_run(now=NOW)
    billing_run(now=NOW + timedelta(hours=23))
    assert invoices_of(subscription)[0].status == Invoice.Status.DRAFT

    result = billing_run(now=NOW + timedelta(hours=24))

    [invoice] = invoices_of(subscription)
    assert (invoice.status, invoice.issued_at, result.invoices_finalized) == (
        Invoice.Status.OPEN, NOW + timedelta(hours=24), 1)


# --- The issued invoice is the preview ----------------------------------------------------------------------

def test_the_issued_invoice_equals_the_last_preview_of_an_unchanged_period(tenant_alpha, calls):
    price = pro_price()
    UsageCharge.objects.create(price=price, meter_code=calls.code, name="Calls", charge_model="package",
                               properties={"amount": "1.50", "package_size": "10"}, included_units=D(5))
    record_calls(tenant_alpha, calls, 16, at=MID - timedelta(hours=3))
    subscription = subscribe(tenant_alpha, price, quantity=7)
    coupon = Coupon.objects.create(code="run-launch", name="Launch", percent_off=D("12.5"),
                                   duration=Coupon.Duration.REPEATING, duration_periods=3)
    CouponRedemption.objects.create(tenant=tenant_alpha, subscription=subscription, coupon=coupon, periods_left=3,
                                    redeemed_at=PERIOD_START)
    PendingInvoiceItem.objects.create(tenant=tenant_alpha, subscription=subscription, kind=Kind.PRORATION,
                                      description="Proration", currency="USD", amount_exact=D("-7.777777"),
                                      created_at=PERIOD_START + timedelta(days=1))

    preview = upcoming_invoice(tenant=tenant_alpha, now=MID)
    billing_run(now=NOW)

    [invoice] = invoices_of(subscription)
    assert [(line.kind, line.description, line.quantity, line.amount_exact, line.amount)
            for line in invoice.lines.all()] == [
        (line.kind, line.description, line.quantity, line.amount_exact, line.amount) for line in preview.lines]
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        preview.totals.subtotal, preview.totals.discount_total, preview.totals.tax_total, preview.totals.total)


def test_the_days_behind_an_issued_usage_line_add_up_to_its_quantity(tenant_alpha):
    compute = MeterFactory(code="run_compute", aggregation=Meter.Aggregation.SUM, event_property="seconds")
    price = pro_price()
    charge = UsageCharge.objects.create(price=price, meter_code=compute.code, name="Compute", unit_name="hours",
                                        charge_model="standard", properties={"unit_amount": "0.12"},
                                        divide_by=D(3600))
    events = [{"transaction_id": f"run-compute-{n}", "meter": compute.code,
               "timestamp": (PERIOD_START + timedelta(days=n, minutes=7 * n)).isoformat(),
               "properties": {"seconds": 1000 + n}} for n in range(30)]
    assert event_ingest(tenant=tenant_alpha, events=events, now=NOW).accepted == 30
    subscription = subscribe(tenant_alpha, price)

    billing_run(now=NOW)

    [invoice] = invoices_of(subscription)
    line = invoice.lines.get(kind=Kind.USAGE)
    days = usage_daily(tenant=tenant_alpha, charge=charge, start=invoice.period_start, end=invoice.period_end)
    assert sum(value for _, value in days) == line.quantity
    assert line.quantity == (D(sum(1000 + n for n in range(30))) / 3600).quantize(D("0.000001"))


# --- Entry points -------------------------------------------------------------------------------------------

def test_the_beat_task_runs_the_billing_run_now(tenant_alpha, frozen_now):
    subscription = subscribe(tenant_alpha, pro_price())

    outcome = billing_run_task()

    assert outcome["invoices_created"] == 1 and len(invoices_of(subscription)) == 1


def test_the_management_command_runs_the_billing_run_now(tenant_alpha, frozen_now, capsys):
    subscription = subscribe(tenant_alpha, pro_price())

    call_command("billing_run")

    assert "invoices created: 1" in capsys.readouterr().out
    assert len(invoices_of(subscription)) == 1


def test_the_run_is_scheduled_every_fifteen_minutes(db):
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="billing.billing_run")
    assert (job.interval.every, job.interval.period, job.enabled) == (15, "minutes", True)


# --- Two runs at once (real commits) -----------------------------------------------------------------------

MISSED_FROM = datetime(2026, 5, 20, 12, tzinfo=UTC)
MISSED_PERIODS = 6  # May 20 to November 20


@pytest.fixture
def overdue_subscriptions(committed_db):
    """Alpha and beta each six periods behind, committed so that other connections see them; the invoices stay
    drafts (a draft period), so that the test can delete what it made."""
    from tenants.models import Tenant

    plan = PlanFactory(name="Concurrent")
    price = pro_price(plan=plan)
    subscriptions = [
        subscribe(tenant, price, current_period_start=MISSED_FROM, created_at=MISSED_FROM,
                  current_period_end=datetime(2026, 6, 20, 12, tzinfo=UTC))
        for tenant in Tenant.objects.filter(slug__in=["alpha", "beta"])]
    with override_settings(BILLING_DRAFT_PERIOD_HOURS=24 * 365):
        yield subscriptions
    invoices = Invoice.objects.filter(subscription__in=subscriptions)
    InvoiceLine.objects.filter(invoice__in=invoices).delete()
    invoices.delete()
    SubscriptionEvent.objects.filter(subscription__in=subscriptions).delete()
    Subscription.objects.filter(pk__in=[subscription.pk for subscription in subscriptions]).delete()
    Price.objects.filter(plan=plan).delete()
    Plan.objects.filter(pk=plan.pk).delete()


def assert_each_period_billed_once(subscriptions: list[Subscription], *, through: datetime) -> None:
    for subscription in subscriptions:
        starts = [invoice.period_start for invoice in invoices_of(subscription)]
        assert len(starts) == MISSED_PERIODS and len(set(starts)) == MISSED_PERIODS
        subscription.refresh_from_db()
        assert subscription.current_period_start == through
        assert SubscriptionEvent.objects.filter(subscription=subscription, action="renewed").count() == MISSED_PERIODS


def test_two_runs_at_once_share_the_work_and_bill_each_period_once(overdue_subscriptions):
    runners = 4
    barrier = threading.Barrier(runners)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(billing_run(now=NOW))
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == [] and all(not result.failed for result in results)
    assert sum(result.invoices_created for result in results) == 2 * MISSED_PERIODS
    assert_each_period_billed_once(overdue_subscriptions, through=NOW)


def test_two_billing_run_processes_at_once_bill_each_period_once(overdue_subscriptions):
    # The processes bill at the real time: anchor the subscriptions six periods before an hour ago.
    anchor = period_add(anchor=timezone.now().replace(microsecond=0) - timedelta(hours=1), months=1,
                        n=-MISSED_PERIODS)
    for subscription in overdue_subscriptions:
        Subscription.objects.filter(pk=subscription.pk).update(
            current_period_start=anchor, current_period_end=period_add(anchor=anchor, months=1, n=1),
            created_at=anchor)
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{settings.DATABASES['default']['NAME']}")
    env = {**os.environ, "DATABASE_URL": database_url.geturl(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "BILLING_DRAFT_PERIOD_HOURS": str(24 * 365)}
    command = [sys.executable, "manage.py", "billing_run"]
    processes = [subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    created = sum(int(out.split("invoices created: ")[1].split(",")[0]) for out, _ in outputs)
    assert created == 2 * MISSED_PERIODS, outputs
    assert_each_period_billed_once(overdue_subscriptions,
                                   through=period_add(anchor=anchor, months=1, n=MISSED_PERIODS))


# --- Chunks (subscriptions closed together) -----------------------------------------------------------------

def bare_tenants(how_many: int) -> list:
    """Tenant rows without a schema: the billing run never enters a tenant's schema."""
    from tenants.models import Tenant

    first = next(_sequence)
    return [Tenant.objects.create(schema_name=f"run_chunk_{first}_{n}", name=f"Chunk {first}-{n}",
                                  slug=f"run-chunk-{first}-{n}") for n in range(how_many)]


def chunk_of(how_many: int, calls: Meter, price: Price | None = None) -> list[Subscription]:
    price = price or pro_price()
    UsageCharge.objects.get_or_create(price=price, meter_code=calls.code, defaults={
        "name": "Calls", "charge_model": "graduated", "properties": {"tiers": [
            {"up_to": "3", "unit_amount": "0.50", "flat_amount": "1.00"},
            {"up_to": None, "unit_amount": "0.25", "flat_amount": "0"}]}})
    subscriptions = []
    for n, tenant in enumerate(bare_tenants(how_many)):
        record_calls(tenant, calls, n + 1, at=PERIOD_START + timedelta(minutes=30 + n))
        subscriptions.append(subscribe(tenant, price, quantity=5 + n))
    return subscriptions


def line_facts(invoice_or_draft) -> list[tuple]:
    lines = invoice_or_draft.lines.all() if isinstance(invoice_or_draft, Invoice) else invoice_or_draft.lines
    return [(line.kind, line.description, line.quantity, line.unit_amount, line.amount_exact, line.amount,
             line.period_start, line.period_end, line.usage_charge_id, line.meter_code, line.breakdown, line.taxable)
            for line in lines]


def test_a_chunk_issues_each_subscription_the_invoice_it_would_get_alone(tenant_alpha, calls):
    from billing.invoicing.drafting import cycle_invoice_draft

    subscriptions = chunk_of(4, calls)
    coupon = Coupon.objects.create(code="run-chunk", name="Chunk", amount_off=D("10.00"), currency="USD",
                                   duration=Coupon.Duration.ONCE)
    CouponRedemption.objects.create(tenant_id=subscriptions[1].tenant_id, subscription=subscriptions[1],
                                    coupon=coupon, periods_left=1, redeemed_at=PERIOD_START)
    PendingInvoiceItem.objects.create(tenant_id=subscriptions[2].tenant_id, subscription=subscriptions[2],
                                      kind=Kind.PRORATION, description="Proration", currency="USD",
                                      amount_exact=D("3.333333"), created_at=PERIOD_START)
    Subscription.objects.filter(pk=subscriptions[3].pk).update(scheduled_quantity=2)
    alone = {s.pk: cycle_invoice_draft(subscription=Subscription.objects.get(pk=s.pk), now=NOW)
             for s in subscriptions}

    result = billing_run(now=NOW)

    assert result.invoices_created == 4 and result.failed == []
    for subscription in subscriptions:
        [invoice] = invoices_of(subscription)
        draft = alone[subscription.pk]
        assert line_facts(invoice) == line_facts(draft)
        assert (invoice.subtotal, invoice.discount_total, invoice.total, invoice.amount_due) == (
            draft.totals.subtotal, draft.totals.discount_total, draft.totals.total, draft.totals.total)
    assert CouponRedemption.objects.get(subscription=subscriptions[1]).ended_at == NOW
    assert PendingInvoiceItem.objects.get(subscription=subscriptions[2]).invoice == invoices_of(subscriptions[2])[0]
    subscriptions[3].refresh_from_db()
    assert (subscriptions[3].quantity, subscriptions[3].scheduled_quantity) == (2, None)


def test_a_chunk_with_a_tenant_holding_account_credit_does_not_fail_into_one_by_one(tenant_alpha, calls, caplog):
    from billing.invoicing.credit import account_credit_add
    from billing.models import AccountCreditEntry
    from config.money import Money

    subscriptions = chunk_of(3, calls)
    account_credit_add(tenant=subscriptions[1].tenant, amount=Money(D("25.00"), "USD"),
                       kind=AccountCreditEntry.Kind.ADJUSTMENT, description="Goodwill", actor="ops", now=PERIOD_START)

    result = billing_run(now=NOW)

    assert (result.invoices_created, result.failed) == (3, [])
    assert "billing_run_chunk_failed" not in caplog.text
    [credited] = invoices_of(subscriptions[1])
    assert credited.credit_applied == D("25.00") and credited.amount_due == credited.total - D("25.00")


def test_a_chunks_invoices_are_numbered_in_order_without_gaps(tenant_alpha, calls):
    subscriptions = chunk_of(3, calls)

    billing_run(now=NOW)

    numbers = [invoices_of(subscription)[0].number for subscription in subscriptions]
    first = int(numbers[0].rsplit("-", 1)[1])
    assert numbers == [f"TG-2026-{n:06d}" for n in range(first, first + 3)]


def test_a_chunk_costs_the_same_queries_whatever_its_size(tenant_alpha, calls):
    from django.test.utils import CaptureQueriesContext

    price = pro_price()
    chunk_of(1, calls, price)
    billing_run(now=NOW)  # the year's first number creates its sequence
    chunk_of(2, calls, price)
    with CaptureQueriesContext(connection) as small:
        billing_run(now=NOW)
    chunk_of(6, calls, price)
    with CaptureQueriesContext(connection) as large:
        billing_run(now=NOW)

    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_crash_in_a_chunk_rolls_it_back_whole_and_each_subscription_is_billed_once(tenant_alpha, calls,
                                                                                    monkeypatch):
    subscriptions = chunk_of(3, calls)
    real_roll = run_module._subscription_roll

    def crash_on_the_last(subscription, **kwargs):
        if subscription.pk == subscriptions[-1].pk:
            raise RuntimeError("worker killed while rolling the chunk")
        return real_roll(subscription, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "_subscription_roll", crash_on_the_last)
        crashed = billing_run(now=NOW)
    # The chunk rolled back; closed one by one, the first two went through and the last failed alone.
    assert crashed.failed == [subscriptions[-1].pk] and crashed.invoices_created == 2
    assert invoices_of(subscriptions[-1]) == []

    result = billing_run(now=NOW)

    assert result.invoices_created == 1
    numbers = sorted(int(invoices_of(s)[0].number.rsplit("-", 1)[1]) for s in subscriptions)
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_usage_for_many_periods_is_what_each_period_reads_alone(tenant_alpha, tenant_beta):
    from metering.usage.selectors import usage_for_period, usage_for_periods

    meters = [MeterFactory(code="run_sum", aggregation=Meter.Aggregation.SUM, event_property="v"),
              MeterFactory(code="run_max", aggregation=Meter.Aggregation.MAX, event_property="v"),
              MeterFactory(code="run_latest", aggregation=Meter.Aggregation.LATEST, event_property="v"),
              MeterFactory(code="run_count")]
    for tenant in (tenant_alpha, tenant_beta):
        events = [{"transaction_id": f"run-many-{tenant.pk}-{meter.code}-{n}", "meter": meter.code,
                   "timestamp": (PERIOD_START + timedelta(minutes=17 * n + tenant.pk)).isoformat(),
                   "properties": {"v": (n * 7919 + tenant.pk) % 97}} for meter in meters for n in range(200)]
        assert event_ingest(tenant=tenant, events=events, now=NOW).accepted == len(events)
    periods = {
        1: (tenant_alpha.pk, PERIOD_START + timedelta(minutes=5), PERIOD_START + timedelta(hours=30, minutes=1)),
        2: (tenant_beta.pk, PERIOD_START + timedelta(minutes=5), PERIOD_START + timedelta(minutes=50)),
        3: (tenant_beta.pk, PERIOD_START, PERIOD_START + timedelta(hours=40)),
        4: (tenant_alpha.pk, PERIOD_START + timedelta(hours=2), PERIOD_START + timedelta(hours=2)),
        5: (tenant_alpha.pk, NOW, NEXT_END),
    }
    tenants = {tenant_alpha.pk: tenant_alpha, tenant_beta.pk: tenant_beta}

    for meter in meters:
        together = usage_for_periods(meter=meter, periods=periods)
        assert together == {key: usage_for_period(tenant=tenants[tenant_id], meter=meter, start=start, end=end)
                            for key, (tenant_id, start, end) in periods.items()}, meter.code


def test_the_upcoming_invoice_reads_whole_hours_from_the_rollups_not_the_events(tenant_alpha, calls):
    from django.test.utils import CaptureQueriesContext

    price = pro_price()
    UsageCharge.objects.create(price=price, meter_code=calls.code, name="Calls", charge_model="standard",
                               properties={"unit_amount": "0.10"})
    record_calls(tenant_alpha, calls, 40)
    subscribe(tenant_alpha, price, current_period_end=NEXT_END)

    with CaptureQueriesContext(connection) as captured:
        draft = upcoming_invoice(tenant=tenant_alpha, now=MID + timedelta(days=1))

    assert [line.amount for line in draft.lines if line.kind == Kind.USAGE] == [D("4.00")]
    assert not [query for query in captured.captured_queries if "metering_usageevent" in query["sql"]]


def test_a_chunk_that_meets_the_one_invoice_per_period_constraint_rolls_back_and_bills_each_once(
        tenant_alpha, calls, monkeypatch):
    subscriptions = chunk_of(3, calls)
    invoiced = subscriptions[1]
    Invoice.objects.create(tenant_id=invoiced.tenant_id, subscription=invoiced, currency="USD",
                           billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, period_start=PERIOD_START,
                           period_end=NOW, created_at=NOW, finalize_after=NOW + timedelta(days=1))
    # As if the check under the lock had missed it: the constraint must still refuse the second invoice.
    monkeypatch.setattr(run_module, "_one_by_one", lambda subscriptions: set())

    result = billing_run(now=NOW)

    assert result.failed == [] and result.invoices_created == 2
    assert [len(invoices_of(subscription)) for subscription in subscriptions] == [1, 1, 1]
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert subscription.current_period_end == NEXT_END
