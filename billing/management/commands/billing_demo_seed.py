"""Give the demo its billing (run by `./dev up` after usage_demo_seed; a second run changes nothing):

- acme on Pro monthly (6 seats, one beyond the included five) since three months ago: the first invoice with a
  WELCOME20 promotion code, a period with API-call overage, a credit note that the next invoice consumed as account
  credit, the older invoices paid by bank transfer and the latest open; its upcoming invoice is the current period;
- sprout (a creator) on a Starter trial that ends in two days;
- northwind on the Agency plan;
- an open quote for acme (a website audit at 450.00 USD).

Each month is billed by the real billing run with the clock set to the end of the period, so the invoices are
exactly what production would have issued."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue, invoice_mark_paid
from billing.models import Coupon, CreditNote, Invoice, Price, Product, PromotionCode, ServiceQuote, Subscription
from billing.quotes.services import service_quote_request, service_quote_send
from billing.subscriptions.proration import period_add
from billing.subscriptions.services import subscription_start
from config.money import Money
from metering.usage.services import MAX_BATCH, event_ingest, usage_partitions_ensure
from tenants.models import Tenant

OPS = "ops@tollgate.localhost"
HISTORY_MONTHS = 3
# API calls beyond Pro's 100,000 included in the second month: 12,345 extra, billed in started packages of 1,000.
OVERAGE_CALLS = 112_345


class Command(BaseCommand):
    help = "Seed the demo's subscriptions, invoices, credit note and quote (idempotent)."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=["acme", "northwind", "sprout"])}
        if "acme" in tenants:
            self._acme(tenants["acme"], now=now)
        if "sprout" in tenants:
            self._subscribe(tenants["sprout"], "starter-month-usd", now=now - timedelta(days=12), trial=True)
        if "northwind" in tenants:
            self._subscribe(tenants["northwind"], "agency-month-usd", now=now - timedelta(days=10), trial=False)
        self.stdout.write("Demo billing: acme on Pro with three months of invoices, sprout trialing Starter, "
                          "northwind on Agency, one open quote.")

    def _acme(self, acme: Tenant, *, now: datetime) -> None:
        if Subscription.objects.filter(tenant=acme).exists():
            return
        start = period_add(anchor=now, months=1, n=-HISTORY_MONTHS) - timedelta(days=1)
        usage_partitions_ensure(today=now.date(), months_back=HISTORY_MONTHS + 2)
        coupon, _ = Coupon.objects.get_or_create(code="welcome-20", defaults={
            "name": "Welcome: 20% off the first month", "percent_off": Decimal("20"), "duration": "once"})
        PromotionCode.objects.get_or_create(code="WELCOME20", defaults={"coupon": coupon,
                                                                        "first_subscription_only": True})
        subscription = subscription_start(tenant=acme, price=Price.objects.get(code="pro-month-usd"), quantity=6,
                                          actor=acme.owner_email, now=start, trial=False,
                                          promotion_code="WELCOME20")
        ends = [period_add(anchor=start, months=1, n=month) for month in range(1, HISTORY_MONTHS + 1)]
        self._compute_hours(acme, hours=3, at=start + timedelta(days=10))
        self._api_calls(acme, count=OVERAGE_CALLS, at=ends[0] + timedelta(days=12))
        self._compute_hours(acme, hours=5, at=ends[1] + timedelta(days=3))
        self._pay_open(acme, now=start + timedelta(days=5))
        for month, end in enumerate(ends):
            billing_run(now=end + timedelta(minutes=15))
            invoice = Invoice.objects.get(subscription=subscription, billing_reason="subscription_cycle",
                                          period_end=end)
            if month == 0:
                credit_note_issue(invoice=invoice, amount=Money(Decimal("10.00"), "USD"), reason="correction",
                                  memo="Compute hours counted twice on the 10th: credited to your account.",
                                  actor=OPS, now=end + timedelta(days=2))
            if month < HISTORY_MONTHS - 1:
                self._pay_open(acme, now=end + timedelta(days=5))
        product = Product.objects.get(code="website-audit")
        quote = service_quote_request(tenant=acme, product=product, brief=(
            "Audit acme.example's pricing and signup pages: speed, accessibility and where visitors drop off."),
            actor=acme.owner_email, now=now - timedelta(days=2))
        service_quote_send(quote=quote, amount=Money(Decimal("450.00"), "USD"), now=now - timedelta(days=1),
                           note="Two weeks, delivered as a PDF report with a prioritised list of fixes.",
                           valid_until=now + timedelta(days=29), actor=OPS)
        assert CreditNote.objects.filter(tenant=acme).count() == 1
        assert ServiceQuote.objects.filter(tenant=acme, status=ServiceQuote.Status.QUOTED).count() == 1

    def _pay_open(self, tenant: Tenant, *, now: datetime) -> None:
        """Ops record the bank transfers of everything open, before it falls due."""
        for invoice in Invoice.objects.filter(tenant=tenant, status=Invoice.Status.OPEN):
            invoice_mark_paid(invoice=invoice, actor=OPS, now=now)

    def _subscribe(self, tenant: Tenant, price_code: str, *, now: datetime, trial: bool) -> None:
        if Subscription.objects.filter(tenant=tenant).exists():
            return
        with transaction.atomic():
            subscription_start(tenant=tenant, price=Price.objects.get(code=price_code), actor=tenant.owner_email,
                               now=now, trial=trial)

    def _api_calls(self, tenant: Tenant, *, count: int, at: datetime) -> None:
        events = [{"transaction_id": f"demo-overage-{n}", "meter": "api_calls",
                   "timestamp": (at + timedelta(seconds=n % 86_400)).isoformat(),
                   "properties": {"billable": True, "endpoint": "/api/v1/events", "method": "POST", "status": 202}}
                  for n in range(count)]
        for first in range(0, count, MAX_BATCH):
            event_ingest(tenant=tenant, events=events[first:first + MAX_BATCH], now=at + timedelta(days=1))

    def _compute_hours(self, tenant: Tenant, *, hours: int, at: datetime) -> None:
        event_ingest(tenant=tenant, now=at + timedelta(hours=1), events=[{
            "transaction_id": f"demo-compute-{at:%Y%m%d}", "meter": "compute_seconds", "timestamp": at.isoformat(),
            "properties": {"seconds": hours * 3600}}])
