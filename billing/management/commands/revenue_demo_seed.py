"""Give the ops revenue dashboard a year of history (run by `./dev up` after billing_demo_seed; a second run
changes nothing but the days that ended since):

42 small customers sign up over the last twelve calendar months on a mix of plans and intervals (Starter, Pro and
Business; monthly, quarterly and yearly; some in EUR). Some start with a trial that converts, some lose theirs;
some upgrade, add seats or downgrade; a few cancel, one of them comes back; one gets a credit note, one pays an
invoice weeks late and one stops paying (past due). Every step goes through the real services with the clock set
to its moment, every period is closed by the real billing run at its end, and ops record the bank transfers a few
days after each invoice is issued, so the invoices are what production would have issued and the dashboard's
figures reconcile with them. Then every day of the window is snapshotted (`revenue_backfill`).

Each customer is a real tenant (cloned schema, owner account, domain): migrate skips only schemas that exist and
match the template, the billing notifications are delivered inside each tenant's schema, and the admin's tenant
pages expect one; cloning costs about half a second a tenant, most of the seed's time. The story is told in one
transaction, so a failure leaves nothing behind and the next run starts again; the notifications it causes
(invoice issued, paid...) are queued when it commits, and the payments it records clear a past-due subscription
at their own moment rather than through invoice_paid's receiver at that commit.

The story is drawn from a seeded random generator, so two fresh machines get the same customers on the same days
(relative to today). A customer already present means the story was told: only the days that ended since the
last snapshot are taken."""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from billing.analytics.selectors import month_add, month_start, snapshot_latest_day
from billing.analytics.services import day_end, last_ended_day, revenue_backfill
from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue, invoice_mark_paid
from billing.models import Invoice, Price, Subscription
from billing.subscriptions.services import (
    subscription_cancel,
    subscription_change,
    subscription_past_due_clear,
    subscription_start,
)
from config.money import Money
from tenants.models import Tenant
from tenants.services import tenant_provision

OPS = "ops@tollgate.localhost"
SEED = 20_261_202
CUSTOMERS = 42
MONTHS = 12  # the dashboard's window: this month and the eleven before it
LATE_INVOICE = 3  # the late payer's third invoice is paid late
LIVE = [Subscription.Status.TRIALING, Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]

FIRST_NAMES = ["Amber", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper",
               "Kestrel", "Lumen", "Meadow", "Nimbus", "Orchid", "Pebble", "Quartz", "Raven", "Saffron", "Tidal",
               "Umber", "Vale", "Willow", "Yarrow"]
LAST_NAMES = ["Analytics", "Bakery", "Collective", "Design", "Fitness", "Goods", "Labs", "Media", "Studio",
              "Works"]


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    slug: str = field(compare=False)
    action: str = field(compare=False)
    args: dict = field(compare=False, default_factory=dict)


@dataclass
class Story:
    """What happens to every customer, and when; built before anything is written."""

    start: datetime
    steps: list[Step] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    late_payers: set[str] = field(default_factory=set)
    non_payers: dict[str, datetime] = field(default_factory=dict)  # slug -> pays nothing issued from then on

    def add(self, slug: str, day: float, action: str, **args) -> None:
        self.steps.append(Step(at=self.start + timedelta(days=day), order=len(self.steps), slug=slug,
                               action=action, args=args))


def story_build(*, start: datetime, days: int, seed: int = SEED) -> Story:
    """The customers' year: `days` days from `start`. Deterministic for a given seed, start and length."""
    rng = random.Random(seed)
    story = Story(start=start)
    pairs = rng.sample([(first, last) for first in FIRST_NAMES for last in LAST_NAMES], CUSTOMERS)
    archetypes = (["steady"] * 7 + ["trial_converts"] * 6 + ["trial_lost"] * 4 + ["yearly"] * 4
                  + ["quarterly"] * 3 + ["eur"] * 3 + ["upgrade"] * 4 + ["seats_up"] * 2 + ["downgrade"] * 2
                  + ["churn"] * 3 + ["reactivation", "credit_note", "past_due", "late_payer"])
    rng.shuffle(archetypes)
    for (first, last), archetype in zip(pairs, archetypes, strict=True):
        slug = f"{first}-{last}".lower()
        story.names[slug] = f"{first} {last}"
        # Later signups are likelier (a growing business); stories with later chapters start early enough.
        latest = days - 5 if archetype in ("steady", "trial_converts", "trial_lost", "eur", "yearly") else days // 2
        day = latest * rng.random() ** 0.7 + rng.uniform(0.35, 0.7)  # between 08:24 and 16:48 UTC
        ARCHETYPES[archetype](story, rng, slug, day)
    return story


def _monthly_usd(rng: random.Random) -> tuple[str, int]:
    price = rng.choice(["starter-month-usd"] * 5 + ["pro-month-usd"] * 5 + ["business-month-usd"] * 2)
    return price, _seats(rng, price)


def _seats(rng: random.Random, price: str) -> int:
    if price.startswith("starter"):
        return 1
    if price.startswith("pro"):
        return rng.choice([1, 2, 3, 5, 6, 8])
    return rng.choice([5, 10, 12, 14])


def _steady(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price, seats = _monthly_usd(rng)
    story.add(slug, day, "start", price=price, quantity=seats)


def _trial_converts(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price, seats = _monthly_usd(rng)
    story.add(slug, day, "start", price=price, quantity=seats, trial=True)


def _trial_lost(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price = rng.choice(["starter-month-usd", "pro-month-usd"])
    story.add(slug, day, "start", price=price, quantity=1, trial=True)
    story.add(slug, day + rng.randint(3, 10), "cancel", at_period_end=True)


def _yearly(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price = rng.choice(["starter-year-usd", "pro-year-usd", "pro-year-usd", "business-year-usd"])
    story.add(slug, day, "start", price=price, quantity=_seats(rng, price))


def _quarterly(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="business-quarter-usd", quantity=_seats(rng, "business"))


def _eur(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price = rng.choice(["starter-month-eur", "pro-month-eur"])
    story.add(slug, day, "start", price=price, quantity=_seats(rng, price))


def _upgrade(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="starter-month-usd", quantity=1)
    story.add(slug, day + rng.randint(45, 120), "change", price="pro-month-usd", quantity=rng.choice([3, 6]))


def _seats_up(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="pro-month-usd", quantity=3)
    story.add(slug, day + rng.randint(40, 100), "change", quantity=rng.choice([7, 9]))


def _downgrade(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="business-month-usd", quantity=10)
    # Scheduled for the period's end: the billing run moves it to Pro then.
    story.add(slug, day + rng.randint(50, 110), "change", price="pro-month-usd", quantity=5)


def _churn(story: Story, rng: random.Random, slug: str, day: float) -> None:
    price, seats = _monthly_usd(rng)
    story.add(slug, day, "start", price=price, quantity=seats)
    story.add(slug, day + rng.randint(50, 150), "cancel", at_period_end=rng.random() < 0.7)


def _reactivation(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="pro-month-usd", quantity=2)
    story.add(slug, day + 70, "cancel", at_period_end=True)
    story.add(slug, day + 150, "start", price="pro-month-usd", quantity=4)


def _credit_note(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="pro-month-usd", quantity=6)
    story.add(slug, day + 40, "credit_note", amount="25.00",
              memo="Two days of degraded API service: credited to your account.")


def _past_due(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="starter-month-usd", quantity=1)
    story.non_payers[slug] = story.start + timedelta(days=day + 95)


def _late_payer(story: Story, rng: random.Random, slug: str, day: float) -> None:
    story.add(slug, day, "start", price="pro-month-usd", quantity=2)
    story.late_payers.add(slug)


ARCHETYPES: dict[str, Callable[[Story, random.Random, str, float], None]] = {
    "steady": _steady, "trial_converts": _trial_converts, "trial_lost": _trial_lost, "yearly": _yearly,
    "quarterly": _quarterly, "eur": _eur, "upgrade": _upgrade, "seats_up": _seats_up, "downgrade": _downgrade,
    "churn": _churn, "reactivation": _reactivation, "credit_note": _credit_note, "past_due": _past_due,
    "late_payer": _late_payer,
}


def history_start(now: datetime) -> datetime:
    """The first instant of the dashboard's twelve-month window (the eleventh month before the last ended
    day's)."""
    first = month_add(month_start(last_ended_day(now)), -(MONTHS - 1))
    return datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)


class Command(BaseCommand):
    help = "Seed a year of revenue history for the ops dashboard (42 demo customers; idempotent)."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        now = timezone.now()
        start = history_start(now)
        cutoff = day_end(last_ended_day(now))  # today 00:00 UTC: the beat's billing runs take over from here
        story = story_build(start=start, days=(cutoff - start).days)
        if Tenant.objects.filter(slug__in=story.names).exists():
            since = (snapshot_latest_day() or start.date()) + timedelta(days=1)
            taken = revenue_backfill(since=since, now=now).days if since <= last_ended_day(now) else []
            self.stdout.write(f"Revenue history already seeded; {len(taken)} new day(s) snapshotted.")
            return
        with transaction.atomic():
            Teller(story=story, cutoff=cutoff).tell()
        run = revenue_backfill(since=start.date() - timedelta(days=1), now=now)
        self.stdout.write(f"Revenue history: {len(story.names)} customers since {start:%Y-%m-%d}, "
                          f"{Invoice.objects.filter(tenant__slug__in=story.names).count()} invoices, "
                          f"{len(run.days)} days snapshotted, in {time.perf_counter() - started:.1f} s.")


class Teller:
    """Plays a story in time order: each step, each period end (the billing run) and each bank transfer at its
    moment, up to `cutoff`."""

    def __init__(self, *, story: Story, cutoff: datetime):
        self.story = story
        self.cutoff = cutoff
        self.queue: list[Step] = list(story.steps)
        heapq.heapify(self.queue)
        self.tenants: dict[str, Tenant] = {}
        self.tenant_ids: set[int] = set()
        self.scheduled: set[int] = set()
        self.issued: dict[str, int] = {}
        self.rng = random.Random(SEED + 1)
        self.prices = {price.code: price for price in Price.objects.all()}

    def tell(self) -> None:
        for slug, name in self.story.names.items():
            tenant = tenant_provision(name=name, slug=slug, owner_email=f"owner@{slug}.test",
                                      owner_password=None).tenant
            self.tenants[slug] = tenant
            self.tenant_ids.add(tenant.pk)
        changed = True
        while True:
            step_at = self.queue[0].at if self.queue else None
            if changed:  # after a bank transfer, which moves no period end and issues no invoice, nothing to look up
                period_end = (Subscription.objects.filter(tenant_id__in=self.tenant_ids, status__in=LIVE)
                              .aggregate(end=Min("current_period_end"))["end"])
            moments = [moment for moment in (step_at, period_end) if moment is not None and moment <= self.cutoff]
            if not moments:
                break
            if period_end in moments and (step_at not in moments or period_end <= step_at):
                self._bill(period_end)
                changed = True
            else:
                step = heapq.heappop(self.queue)
                self._do(step)
                changed = step.action != "pay"
            if changed:
                self._payments_schedule()
        self._bill(self.cutoff)

    def _bill(self, now: datetime) -> None:
        result = billing_run(now=now)
        if result.failed or result.failed_invoices:
            # Left alone, the same period end would come round again for ever.
            raise CommandError(f"The billing run at {now.isoformat()} failed for subscriptions {result.failed} "
                               f"and invoices {result.failed_invoices}: see the log.")

    def _do(self, step: Step) -> None:
        tenant, now = self.tenants[step.slug], step.at
        if step.action == "start":
            subscription_start(tenant=tenant, price=self.prices[step.args["price"]], quantity=step.args["quantity"],
                               actor=tenant.owner_email, now=now, trial=step.args.get("trial", False))
        elif step.action == "change":
            price = self.prices[step.args["price"]] if "price" in step.args else None
            subscription_change(subscription=self._current(tenant), price=price, quantity=step.args["quantity"],
                                actor=tenant.owner_email, now=now)
        elif step.action == "cancel":
            subscription_cancel(subscription=self._current(tenant), actor=tenant.owner_email, now=now,
                                at_period_end=step.args["at_period_end"])
        elif step.action == "credit_note":
            invoice = Invoice.objects.filter(tenant=tenant, status=Invoice.Status.PAID).latest("issued_at")
            credit_note_issue(invoice=invoice, amount=Money(Decimal(step.args["amount"]), invoice.currency),
                              reason="product_unsatisfactory", memo=step.args["memo"], actor=OPS, now=now)
        elif step.action == "pay":
            invoice = Invoice.objects.get(pk=step.args["invoice_id"])
            if invoice.status == Invoice.Status.OPEN:
                invoice_mark_paid(invoice=invoice, actor=OPS, now=now)
                self._past_due_clear(invoice, now=now)

    def _past_due_clear(self, invoice: Invoice, *, now: datetime) -> None:
        """What invoice_paid's receiver does once the payment commits, done at the payment's moment: the story is
        one transaction, and the receiver, run at its commit, would date the change today."""
        overdue = Invoice.objects.filter(subscription_id=invoice.subscription_id, status=Invoice.Status.OPEN,
                                         due_at__lte=now)
        if invoice.subscription_id and not overdue.exists():
            subscription_past_due_clear(subscription=Subscription.objects.get(pk=invoice.subscription_id), now=now)

    def _current(self, tenant: Tenant) -> Subscription:
        return Subscription.objects.get(tenant=tenant, status__in=LIVE)

    def _payments_schedule(self) -> None:
        """Ops record each new invoice's bank transfer a few days after it is issued, before it falls due;
        one customer pays an invoice weeks late once, one stops paying."""
        slugs = {tenant.pk: slug for slug, tenant in self.tenants.items()}
        opened = (Invoice.objects.filter(tenant_id__in=self.tenant_ids, status=Invoice.Status.OPEN)
                  .exclude(pk__in=self.scheduled).order_by("issued_at", "pk").values("pk", "tenant_id", "issued_at"))
        for invoice in opened:
            self.scheduled.add(invoice["pk"])
            slug = slugs[invoice["tenant_id"]]
            stops = self.story.non_payers.get(slug)
            if stops is not None and invoice["issued_at"] >= stops:
                continue
            self.issued[slug] = self.issued.get(slug, 0) + 1
            delay = timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(2, 20))
            if slug in self.story.late_payers and self.issued[slug] == LATE_INVOICE:
                delay = timedelta(days=24)  # ten days past due: a failed payment, recovered
            heapq.heappush(self.queue, Step(at=invoice["issued_at"] + delay, order=-invoice["pk"], slug=slug,
                                            action="pay", args={"invoice_id": invoice["pk"]}))
