"""What an invoice will say, computed once by the same code for the preview (upcoming invoice, plan comparison)
and for the invoice the billing run issues; and the one write that turns a computed draft into a draft invoice.

A subscription's cycle invoice closes the period [current_period_start, current_period_end):
- each usage charge of the price, rated on that period's usage less the time it was paused (in arrears;
  billing.invoicing.rating), with a "minimum" line when the charge's minimum is not reached; nothing for a
  trial period (usage while trialing is free);
- usage of earlier periods that arrived after they were invoiced (metering accepts events up to 35 days old):
  each earlier period still within that window re-rated, less what was billed for it, as a "late usage" line
  (_late_usage_lines; exactly once, since what was billed includes earlier late-usage lines);
- AI tokens the wallet could not cover (metering wallets' `owed`), at BILLING_TOKEN_PRICE_PER_1000;
- the next period's fixed fee and extra seats (in advance), at the scheduled price and seats when a change is
  scheduled, and none when the subscription ends with this period (cancel at period end);
- the subscription's unbilled pending items (prorations, adjustments);
- the active coupon: a percentage of, or an amount off, the subscription lines (fixed, seats, usage, late
  usage, minimum, prorations; not AI tokens owed), never more than they add up to, as one negative "discount" line;
- tax as billing.invoicing.tax decides for the tenant's billing profile.

Every line's exact amount is rounded once (config.money.money_round, half away from zero); the totals are
billing.invoicing.totals' sums of rounded lines, for the preview and the issued invoice alike."""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from psycopg.types.json import Jsonb

from billing.errors import BillingError, PriceUnavailable
from billing.invoicing.credit import account_credit_to_apply
from billing.invoicing.rating import (
    RatedCharge,
    usage_charge_rate,
    wallet_shortfall_rate,
    wallet_shortfall_tokens,
)
from billing.invoicing.services import invoice_finalize, invoices_finalize_new
from billing.invoicing.tax import TaxDecision, tax_decide
from billing.invoicing.totals import InvoiceTotals, invoice_totals_compute
from billing.models import (
    CURRENT_STATUSES,
    BillingProfile,
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
from billing.subscriptions.proration import (
    first_period,
    period_bounds_for,
    period_fraction,
    subscription_anchor,
    subscription_next_period,
)
from billing.subscriptions.selectors import trial_converts
from config.money import Money, money_round
from metering.models import Meter
from metering.usage.selectors import meters_by_code, month_bounds, usage_for_periods
from metering.usage.services import PAST_WINDOW
from metering.wallets.services import wallet_credit
from tenants.models import Tenant

Kind = InvoiceLine.Kind
ZERO = Decimal(0)
HUNDRED = Decimal(100)
# The lines a coupon takes its discount from: what the subscription costs, not AI tokens bought on credit.
DISCOUNTABLE_KINDS = frozenset({Kind.FIXED, Kind.SEATS, Kind.USAGE, Kind.MINIMUM, Kind.PRORATION, Kind.LATE_USAGE})
# The invoices that open or close a billing period use up one of a coupon's periods; the invoices of a change
# in between (prorations, a period closed early) are discounted without using one.
PERIOD_REASONS = frozenset({Invoice.Reason.SUBSCRIPTION_CREATE, Invoice.Reason.SUBSCRIPTION_CYCLE})


@dataclass
class DraftLine:
    """One line as it will be written: `amount_exact` unrounded, `amount` rounded once."""

    kind: str
    description: str
    amount_exact: Decimal
    amount: Decimal
    quantity: Decimal = Decimal(1)
    unit_amount: Decimal | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    usage_charge_id: int | None = None
    meter_code: str = ""
    breakdown: list[dict] = field(default_factory=list)
    taxable: bool = True
    source_invoice_id: int | None = None  # a consolidated line: the client invoice it carries


@dataclass
class InvoiceDraft:
    """An invoice before it is written: its lines, tax decision and totals, and what writing it consumes (the
    pending items it bills, the coupon period it uses, the owed tokens it invoices)."""

    tenant: Tenant
    subscription: Subscription | None
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    tax: TaxDecision
    lines: list[DraftLine]
    totals: InvoiceTotals
    pending_item_ids: list[int] = field(default_factory=list)
    redemption: CouponRedemption | None = None
    shortfall_tokens: int = 0
    # The account credit finalising it would take (upcoming_invoice fills it in; the billing run's drafts take
    # theirs when they are finalised).
    credit_to_apply: Decimal = ZERO

    @property
    def total(self) -> Money:
        return Money(self.totals.total, self.currency)

    @property
    def credit_applied(self) -> Money:
        return Money(self.credit_to_apply, self.currency)

    @property
    def amount_due(self) -> Money:
        """What the tenant pays: the total less the account credit, never below zero (invoice_finalize's rule)."""
        return Money(max(self.totals.total - self.credit_to_apply, ZERO), self.currency)


# --- Drafts -------------------------------------------------------------------------------------------------

def cycle_invoice_draft(*, subscription: Subscription, now: datetime) -> InvoiceDraft:
    """The invoice that closes the subscription's current period (see the module docstring). At the period's
    end it is what the billing run issues; before it, what the tenant would pay if usage stopped now."""
    start, end = subscription.current_period_start, subscription.current_period_end
    currency = subscription.price.currency
    lines: list[DraftLine] = []
    if subscription.status != Subscription.Status.TRIALING:
        pauses = _pauses(subscription)
        lines += _usage_lines(tenant=subscription.tenant, price=subscription.price, start=start, end=end,
                              ranges=_active_ranges(start, end, pauses=pauses))
        lines += _late_usage_lines(subscription, before=start, pauses=pauses)
    shortfall = wallet_shortfall_tokens(tenant=subscription.tenant)
    if shortfall:
        lines.append(_shortfall_line(tokens=shortfall, currency=currency))
    lines += _next_period_lines(subscription)
    items = _pending_items(subscription)
    lines += [_pending_line(item) for item in items]
    return _draft(tenant=subscription.tenant, subscription=subscription, currency=currency, start=start, end=end,
                  lines=lines, pending_item_ids=[item.pk for item in items])


def cycle_invoice_drafts(*, subscriptions: list[Subscription], now: datetime) -> dict[int, InvoiceDraft]:
    """cycle_invoice_draft for a chunk of subscriptions (the billing run's), by subscription id: the same lines,
    coupon and tax by the same code, with the chunk's reads done once (usage charges, meters, each meter's usage
    for every period in two queries, earlier periods re-rated for late usage included, what was billed for
    those, pauses, pending items, coupon redemptions, billing profiles) instead of a dozen queries per
    subscription. A period with paused time is read on its own.

    Not for subscriptions with owed AI tokens (their invoice settles the wallet), nor prices with a percentage
    charge or a unique_count meter (read per period): ValueError; the billing run sends those through
    cycle_invoice_draft one by one."""
    if not subscriptions:
        return {}
    ids = [s.pk for s in subscriptions]
    tenant_ids = {s.tenant_id for s in subscriptions}
    charges_by_price: dict[int, list[UsageCharge]] = {}
    for charge in UsageCharge.objects.filter(price_id__in={s.price_id for s in subscriptions}):
        charges_by_price.setdefault(charge.price_id, []).append(charge)
    billed = _billed_usage(subscriptions)
    late_charges = _charges_by_id({item.charge_id for items in billed.values() for item in items})
    codes = {charge.meter_code for charges in [*charges_by_price.values(), late_charges.values()]
             for charge in charges}
    meters = meters_by_code(codes=codes)
    pauses = _pauses_by_subscription(subscriptions)
    ranges = {s.pk: _active_ranges(s.current_period_start, s.current_period_end, pauses=pauses.get(s.pk, []))
              for s in subscriptions}
    # Earlier periods re-rated for late usage are read in the same queries, under keys of their own (negative,
    # so they never meet a subscription id).
    late_keys: dict[tuple[int, int, datetime, datetime], int] = {}
    usage: dict[str, dict[int, Decimal]] = {}
    for code in codes:
        # A period with paused time is read on its own below (rare); the others in two queries per meter.
        periods = {s.pk: (s.tenant_id, s.current_period_start, s.current_period_end) for s in subscriptions
                   if s.status != Subscription.Status.TRIALING
                   and ranges[s.pk] == [(s.current_period_start, s.current_period_end)]
                   and any(charge.meter_code == code for charge in charges_by_price.get(s.price_id, []))}
        for subscription in subscriptions:
            for item in billed.get(subscription.pk, []):
                charge = late_charges.get(item.charge_id)
                if (charge is not None and charge.meter_code == code and not pauses.get(subscription.pk)
                        and code in meters and meters[code].aggregation != Meter.Aggregation.UNIQUE_COUNT):
                    key = late_keys[(subscription.pk, *item.key)] = -1 - len(late_keys)
                    periods[key] = (subscription.tenant_id, item.period_start, item.period_end)
        if code in meters and periods:
            usage[code] = usage_for_periods(meter=meters[code], periods=periods)
    items: dict[int, list[PendingInvoiceItem]] = {}
    for item in PendingInvoiceItem.objects.filter(subscription_id__in=ids, tenant_id__in=tenant_ids,
                                                  invoice__isnull=True):
        items.setdefault(item.subscription_id, []).append(item)
    redemptions = {redemption.subscription_id: redemption for redemption in (
        CouponRedemption.objects.filter(subscription_id__in=ids, tenant_id__in=tenant_ids, ended_at__isnull=True)
        .exclude(periods_left=0).select_related("coupon").prefetch_related("coupon__plans"))}
    profiles = {profile.tenant_id: profile for profile in BillingProfile.objects.filter(tenant_id__in=tenant_ids)}
    taxes: dict[tuple | None, TaxDecision] = {}
    drafts = {}
    for subscription in subscriptions:
        charges = charges_by_price.get(subscription.price_id, [])
        if any(charge.charge_model == UsageCharge.ChargeModel.PERCENTAGE for charge in charges):
            raise ValueError(f"Subscription {subscription.pk}: a percentage charge prices each event; draft it alone.")
        start, end = subscription.current_period_start, subscription.current_period_end
        lines: list[DraftLine] = []
        if subscription.status != Subscription.Status.TRIALING:
            lines += _usage_lines(tenant=subscription.tenant, price=subscription.price, start=start, end=end,
                                  ranges=ranges[subscription.pk], charges=charges, meters=meters,
                                  quantities={code: values[subscription.pk] for code, values in usage.items()
                                              if subscription.pk in values})
            late_quantities = {}
            for item in billed.get(subscription.pk, []):
                key = late_keys.get((subscription.pk, *item.key))
                if key is not None:
                    late_quantities[item.key] = usage[late_charges[item.charge_id].meter_code][key]
            lines += _late_usage_lines(subscription, before=start, pauses=pauses.get(subscription.pk, []),
                                       billed=billed.get(subscription.pk, []), charges=late_charges, meters=meters,
                                       quantities=late_quantities)
        lines += _next_period_lines(subscription)
        pending = [item for item in items.get(subscription.pk, []) if item.tenant_id == subscription.tenant_id]
        lines += [_pending_line(item) for item in pending]
        profile = profiles.get(subscription.tenant_id)
        tax_key = None if profile is None else (profile.tax_exempt, profile.country, profile.region, profile.tax_id)
        if tax_key not in taxes:
            # The decision depends on these fields alone (and the tax rates, unchanged within the chunk).
            taxes[tax_key] = tax_decide(profile=profile)
        redemption = redemptions.get(subscription.pk)
        if redemption is not None and redemption.tenant_id != subscription.tenant_id:
            redemption = None
        drafts[subscription.pk] = _draft(
            tenant=subscription.tenant, subscription=subscription, currency=subscription.price.currency,
            start=start, end=end, lines=lines, pending_item_ids=[item.pk for item in pending],
            redemption=_redemption_applicable(redemption, subscription), tax=taxes[tax_key])
    return drafts


def start_invoice_draft(*, subscription: Subscription, now: datetime) -> InvoiceDraft:
    """The invoice that opens a subscription's first paid period (a start without trial, or a trial that
    converted): the period's fixed fee and extra seats in advance, prorated when the first period is a partial
    calendar month (billing.subscriptions.proration.period_fraction), with the coupon."""
    start, end = subscription.current_period_start, subscription.current_period_end
    lines = _advance_lines(price=subscription.price, quantity=subscription.quantity, start=start, end=end,
                           fraction=period_fraction(subscription=subscription))
    return _draft(tenant=subscription.tenant, subscription=subscription, currency=subscription.price.currency,
                  start=start, end=end, lines=lines)


def prorations_invoice_draft(*, subscription: Subscription, now: datetime) -> InvoiceDraft | None:
    """An immediate invoice of the subscription's unbilled pending items (a mid-period change's prorations, when
    BILLING_PRORATION_INVOICING is "immediate"), with the coupon and tax; None when nothing is pending."""
    items = _pending_items(subscription)
    if not items:
        return None
    starts = [item.period_start for item in items if item.period_start]
    ends = [item.period_end for item in items if item.period_end]
    return _draft(tenant=subscription.tenant, subscription=subscription, currency=subscription.price.currency,
                  start=min(starts, default=None), end=max(ends, default=None),
                  lines=[_pending_line(item) for item in items], pending_item_ids=[item.pk for item in items])


def period_close_invoice_draft(*, subscription: Subscription, period_start: datetime, period_end: datetime,
                               now: datetime) -> InvoiceDraft:
    """The invoice of a period closed early (an interval change, a cancellation now): the usage charges of
    [period_start, period_end) on the subscription's current price, in arrears, with its unbilled pending items
    and the coupon; no fee in advance (whatever follows invoices its own)."""
    currency = subscription.price.currency
    lines: list[DraftLine] = []
    if subscription.status != Subscription.Status.TRIALING:
        pauses = _pauses(subscription)
        lines += _usage_lines(tenant=subscription.tenant, price=subscription.price, start=period_start,
                              end=period_end, ranges=_active_ranges(period_start, period_end, pauses=pauses))
        lines += _late_usage_lines(subscription, before=period_start, pauses=pauses)
    items = _pending_items(subscription)
    lines += [_pending_line(item) for item in items]
    return _draft(tenant=subscription.tenant, subscription=subscription, currency=currency, start=period_start,
                  end=period_end, lines=lines, pending_item_ids=[item.pk for item in items])


def upcoming_invoice(*, tenant: Tenant, now: datetime) -> InvoiceDraft | None:
    """What the tenant's current subscription will be invoiced at the end of its period if usage stopped now,
    by the code that will issue it, so the preview and the invoice cannot disagree: cycle_invoice_draft, or for
    a trial the start invoice of its conversion (the first paid period as the conversion sets it,
    proration.first_period). Its amount due is net of the account credit finalising it would take
    (billing.invoicing.credit's rule; nothing is written). None without a subscription, while paused (nothing is
    invoiced), for a trial that ends without converting, and for a subscription that ends with its period and
    has nothing to bill."""
    subscription = _subscription_current(tenant)
    if subscription is None or subscription.status == Subscription.Status.PAUSED:
        return None
    if subscription.status == Subscription.Status.TRIALING:
        draft = _trial_conversion_draft(subscription, now=now)
    else:
        draft = cycle_invoice_draft(subscription=subscription, now=now)
    if draft is None or not draft.lines:
        return None
    draft.credit_to_apply = account_credit_to_apply(tenant=tenant, total=draft.total).amount
    return draft


def _trial_conversion_draft(subscription: Subscription, *, now: datetime) -> InvoiceDraft | None:
    """The start invoice the trial's conversion will issue; None when the trial ends without converting."""
    if not trial_converts(subscription=subscription):
        return None
    converted = copy(subscription)
    converted.status = Subscription.Status.ACTIVE
    converted.created_at, converted.current_period_start, converted.current_period_end = first_period(
        price=subscription.price, billing_anchor=subscription.billing_anchor, start=subscription.trial_end)
    return start_invoice_draft(subscription=converted, now=now)


# --- Writing a draft ----------------------------------------------------------------------------------------

# No savepoint of its own inside the caller's transaction (the billing run's, per period): a failure is the
# caller's to roll back, and the run saves two round trips per invoice.
@transaction.atomic(savepoint=False)
def invoice_create(*, tenant: Tenant, subscription: Subscription | None, draft: InvoiceDraft, billing_reason: str,
                   now: datetime, opens_period: bool | None = None) -> Invoice:
    """Write `draft` as a draft invoice with its lines, in one transaction, and consume what it bills: its pending
    items are marked billed by it, an invoice that opens a period (a cycle or start invoice, or with
    `opens_period` an interval change's, which bills the new period in advance) uses one of its coupon's
    periods (the redemption ends with its last), and the owed AI tokens it invoices are settled in the wallet
    (credited, which repays the debt). The totals are the draft's, which billing.invoicing.totals computed from
    these very lines. The draft may be finalised from `finalize_after` (now + BILLING_DRAFT_PERIOD_HOURS);
    invoice_issue finalises it at once when that is now.

    A cycle or start invoice for a period that already has one violates invoice_one_per_subscription_period
    (IntegrityError): the billing run relies on it. Pending items billed by someone else meanwhile are refused
    (BillingError) rather than billed twice."""
    invoice = _invoice_row(tenant=tenant, subscription=subscription, draft=draft, billing_reason=billing_reason,
                           now=now)
    invoice.save(force_insert=True)
    InvoiceLine.objects.bulk_create(_line_rows(invoice, draft))
    if draft.pending_item_ids:
        _pending_items_bill(draft, invoice=invoice)
    if opens_period is None:
        opens_period = billing_reason in PERIOD_REASONS
    if draft.redemption is not None and opens_period:
        _redemption_period_use(draft.redemption, now=now)
    if draft.shortfall_tokens:
        wallet_credit(tenant=tenant, tokens=draft.shortfall_tokens, kind="adjustment",
                      reason=f"{draft.shortfall_tokens:,} owed AI tokens invoiced (invoice #{invoice.pk})",
                      idempotency_key=f"invoice-shortfall:{invoice.pk}", created_by="billing", now=now)
    return invoice


def invoice_issue(*, tenant: Tenant, subscription: Subscription | None, draft: InvoiceDraft, billing_reason: str,
                  now: datetime, opens_period: bool | None = None) -> Invoice | None:
    """invoice_create, then invoice_finalize at once when there is no draft period (BILLING_DRAFT_PERIOD_HOURS
    0); otherwise the billing run finalises it when its draft period ends. None, and nothing written, for a
    draft without lines. Runs in the caller's transaction when there is one (numbering must)."""
    if not draft.lines:
        return None
    with transaction.atomic(savepoint=False):
        invoice = invoice_create(tenant=tenant, subscription=subscription, draft=draft,
                                 billing_reason=billing_reason, now=now, opens_period=opens_period)
        if invoice.finalize_after <= now:
            invoice = invoice_finalize(invoice=invoice, now=now)
    return invoice


def cycle_invoices_issue(*, drafts: dict[int, InvoiceDraft], now: datetime) -> dict[int, Invoice]:
    """invoice_issue for the cycle invoices of a chunk of plain subscriptions (cycle_invoice_drafts), in the
    caller's transaction: every invoice in one INSERT, every line in another, then, without a draft period, all
    finalised together (billing.invoicing.services.invoices_finalize_new). By subscription id; a draft without
    lines writes nothing, as with invoice_issue. A period that has its invoice already violates
    invoice_one_per_subscription_period (IntegrityError): the caller's transaction rolls back whole."""
    if not connection.in_atomic_block:
        raise RuntimeError("cycle_invoices_issue must run inside the caller's transaction.")
    issued = {subscription_id: draft for subscription_id, draft in drafts.items() if draft.lines}
    if any(draft.shortfall_tokens for draft in issued.values()):
        raise ValueError("Owed AI tokens are settled one invoice at a time: invoice_issue writes those.")
    invoices = Invoice.objects.bulk_create(
        _invoice_row(tenant=draft.tenant, subscription=draft.subscription, draft=draft,
                     billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=now) for draft in issued.values())
    _lines_copy([(invoice, draft) for invoice, draft in zip(invoices, issued.values(), strict=True)])
    for invoice, draft in zip(invoices, issued.values(), strict=True):
        # What invoice_create consumes, for the few invoices that consume anything.
        if draft.pending_item_ids:
            _pending_items_bill(draft, invoice=invoice)
        if draft.redemption is not None:
            _redemption_period_use(draft.redemption, now=now)
    due = [invoice for invoice in invoices if invoice.finalize_after <= now]
    if due:
        invoices_finalize_new(invoices=due, now=now)
    return dict(zip(issued, invoices, strict=True))


def _invoice_row(*, tenant: Tenant, subscription: Subscription | None, draft: InvoiceDraft, billing_reason: str,
                 now: datetime) -> Invoice:
    return Invoice(
        tenant=tenant, subscription=subscription, billing_reason=billing_reason, currency=draft.currency,
        period_start=draft.period_start, period_end=draft.period_end, tax_name=draft.tax.name,
        tax_percentage=draft.tax.percentage, tax_inclusive=draft.tax.inclusive, tax_legend=draft.tax.legend,
        collection_method=subscription.collection_method if subscription else Subscription.CollectionMethod.MANUAL,
        finalize_after=now + timedelta(hours=settings.BILLING_DRAFT_PERIOD_HOURS), created_at=now,
        subtotal=draft.totals.subtotal, discount_total=draft.totals.discount_total,
        tax_total=draft.totals.tax_total, total=draft.totals.total,
    )


def _line_rows(invoice: Invoice, draft: InvoiceDraft) -> list[InvoiceLine]:
    return [InvoiceLine(invoice=invoice, kind=line.kind, description=line.description[:300], quantity=line.quantity,
                        unit_amount=line.unit_amount, amount_exact=line.amount_exact, amount=line.amount,
                        period_start=line.period_start, period_end=line.period_end,
                        usage_charge_id=line.usage_charge_id, meter_code=line.meter_code, breakdown=line.breakdown,
                        taxable=line.taxable, sort_order=position, source_invoice_id=line.source_invoice_id)
            for position, line in enumerate(draft.lines)]


LINE_COLUMNS = ("invoice_id", "kind", "description", "quantity", "unit_amount", "amount_exact", "amount",
                "period_start", "period_end", "usage_charge_id", "meter_code", "breakdown", "taxable", "sort_order")


def _lines_copy(invoices: list[tuple[Invoice, InvoiceDraft]]) -> None:
    """The lines of many invoices in one COPY: the same rows as _line_rows, without a model instance each (a
    chunk writes thousands). The database's line guard still checks each row's invoice is a draft."""
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY billing_invoiceline ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
        for invoice, draft in invoices:
            for position, line in enumerate(draft.lines):
                copy.write_row((invoice.pk, line.kind, line.description[:300], line.quantity, line.unit_amount,
                                line.amount_exact, line.amount, line.period_start, line.period_end,
                                line.usage_charge_id, line.meter_code, Jsonb(line.breakdown), line.taxable, position))


def _pending_items_bill(draft: InvoiceDraft, *, invoice: Invoice) -> None:
    billed = PendingInvoiceItem.objects.filter(pk__in=draft.pending_item_ids, tenant_id=invoice.tenant_id,
                                               invoice__isnull=True).update(invoice=invoice)
    if billed != len(draft.pending_item_ids):
        raise BillingError("Some pending items were billed by another invoice meanwhile.",
                           details={"pending_items": draft.pending_item_ids})


def _redemption_period_use(redemption: CouponRedemption, *, now: datetime) -> None:
    """One period of the coupon used. A "once" coupon lasts one period even if its redemption was written
    without a count; forever has none."""
    periods_left = redemption.periods_left
    if periods_left is None and redemption.coupon.duration == Coupon.Duration.ONCE:
        periods_left = 1
    if periods_left is None:
        return
    remaining = max(periods_left - 1, 0)
    CouponRedemption.objects.filter(pk=redemption.pk, ended_at__isnull=True).update(
        periods_left=remaining, ended_at=now if remaining == 0 else None)


# --- Plan comparison ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanCost:
    """What one plan would have cost on the tenant's usage: for the last closed period (None when there is none
    to compare) and for the current period so far, before discounts and tax."""

    plan: Plan
    price: Price
    last_period: Money | None
    current_period: Money
    is_current: bool


@dataclass(frozen=True)
class PlanComparison:
    currency: str
    last_period: tuple[datetime, datetime] | None
    current_period: tuple[datetime, datetime]
    plans: list[PlanCost]


def plan_comparison(*, tenant: Tenant, now: datetime) -> PlanComparison:
    """What every public, self-serve plan would have cost with the tenant's real usage, rated by the same code as
    its invoices: its fixed fee, extra seats (the tenant's seats) and usage charges, for the last closed period
    and the current one up to now. Prices are those in the tenant's currency and interval (USD monthly without a
    subscription; then the periods are calendar months)."""
    subscription = _subscription_current(tenant)
    pauses = _pauses(subscription) if subscription is not None else []
    if subscription is not None:
        currency, interval, seats = subscription.price.currency, subscription.price.interval, subscription.quantity
        current = (subscription.current_period_start, subscription.current_period_end)
        anchor = subscription_anchor(subscription)
        last = period_bounds_for(price=subscription.price, anchor=anchor,
                                 at=current[0] - timedelta(microseconds=1))
        if last[1] != current[0]:
            last = None
    else:
        currency, interval, seats = "USD", Price.Interval.MONTH, 1
        current = month_bounds(now)
        last = month_bounds(current[0] - timedelta(microseconds=1))
    prices = (Price.objects.filter(plan__is_public=True, plan__is_active=True, plan__contact_sales=False,
                                   is_active=True, currency=currency, interval=interval)
              .select_related("plan").prefetch_related("usage_charges").order_by("plan__sort_order", "plan__code"))
    costs = []
    for price in prices:
        costs.append(PlanCost(
            plan=price.plan, price=price,
            last_period=None if last is None else _period_cost(tenant=tenant, price=price, seats=seats,
                                                               start=last[0], end=last[1], pauses=pauses),
            current_period=_period_cost(tenant=tenant, price=price, seats=seats, start=current[0],
                                        end=min(current[1], now), pauses=pauses),
            is_current=subscription is not None and subscription.plan_id == price.plan_id,
        ))
    return PlanComparison(currency=currency, last_period=last, current_period=current, plans=costs)


def _period_cost(*, tenant: Tenant, price: Price, seats: int, start: datetime, end: datetime,
                 pauses: list[Pause]) -> Money:
    lines = _advance_lines(price=price, quantity=seats, start=start, end=end)
    lines += _usage_lines(tenant=tenant, price=price, start=start, end=end,
                          ranges=_active_ranges(start, end, pauses=pauses))
    return Money(sum((line.amount for line in lines), ZERO), price.currency)


# --- Lines --------------------------------------------------------------------------------------------------

_READ = object()


def _draft(*, tenant: Tenant, subscription: Subscription | None, currency: str, start: datetime | None,
           end: datetime | None, lines: list[DraftLine], pending_item_ids: list[int] | None = None,
           redemption: CouponRedemption | None | object = _READ, tax: TaxDecision | None = None) -> InvoiceDraft:
    """The draft of `lines` with the subscription's coupon and the tenant's tax; `redemption` (the applicable
    one, or None) and `tax` are read here unless the caller read them for a whole chunk."""
    if redemption is _READ:
        redemption = _redemption_active(subscription) if subscription else None
    discount = _discount_line(redemption, lines=lines, currency=currency) if redemption else None
    if discount is None:
        redemption = None
    else:
        lines = [*lines, discount]
    if tax is None:
        tax = tax_decide(profile=BillingProfile.objects.filter(tenant=tenant).first())
    shortfall = sum((int(line.quantity) for line in lines if line.kind == Kind.WALLET_SHORTFALL), 0)
    return InvoiceDraft(tenant=tenant, subscription=subscription, currency=currency, period_start=start,
                        period_end=end, tax=tax, lines=lines, totals=_totals(lines, currency=currency, tax=tax),
                        pending_item_ids=pending_item_ids or [], redemption=redemption, shortfall_tokens=shortfall)


def _totals(lines: list[DraftLine], *, currency: str, tax: TaxDecision) -> InvoiceTotals:
    # The totals module adds up invoices; an unsaved invoice and unsaved lines let the preview use it too.
    invoice = Invoice(currency=currency, tax_percentage=tax.percentage, tax_inclusive=tax.inclusive)
    return invoice_totals_compute(invoice=invoice, lines=[
        InvoiceLine(kind=line.kind, amount=line.amount, taxable=line.taxable) for line in lines])


def _line(*, kind: str, description: str, amount_exact: Decimal, currency: str, **fields) -> DraftLine:
    return DraftLine(kind=kind, description=description, amount_exact=amount_exact,
                     amount=money_round(Money(amount_exact, currency)).amount, **fields)


def _advance_lines(*, price: Price, quantity: int, start: datetime, end: datetime,
                   fraction: Decimal = Decimal(1)) -> list[DraftLine]:
    """The fixed fee of the period (always a line, so a free plan's invoice still says what it is for) and the
    seats beyond the included ones when they cost anything."""
    period = {"period_start": start, "period_end": end}
    label = f"{price.plan.name} ({price.get_interval_display().lower()})"
    if fraction != 1:
        label += f", {_plain(fraction * HUNDRED)} % of the period"
    lines = [_line(kind=Kind.FIXED, description=label, amount_exact=price.fixed_amount * fraction,
                   currency=price.currency, unit_amount=price.fixed_amount, **period)]
    extra_seats = max(quantity - price.included_seats, 0)
    if extra_seats and price.per_seat_amount:
        lines.append(_line(kind=Kind.SEATS,
                           description=f"{label}: {extra_seats} seat{'s' if extra_seats > 1 else ''} beyond the "
                                       f"{price.included_seats} included",
                           amount_exact=extra_seats * price.per_seat_amount * fraction, currency=price.currency,
                           quantity=Decimal(extra_seats), unit_amount=price.per_seat_amount, **period))
    return lines


def _next_period_lines(subscription: Subscription) -> list[DraftLine]:
    """The next period's fixed fee and seats, in advance, at the scheduled price and seats when a change is
    scheduled; none when the subscription ends with this period."""
    if subscription.cancel_at_period_end:
        return []
    currency = subscription.price.currency
    next_price = subscription.scheduled_price or subscription.price
    if next_price.currency != currency:
        raise PriceUnavailable(f"The scheduled price {next_price.code} is in {next_price.currency}, the "
                               f"subscription in {currency}: one invoice has one currency.", field="price")
    next_start, next_end = subscription_next_period(subscription=subscription)
    return _advance_lines(price=next_price, quantity=subscription.scheduled_quantity or subscription.quantity,
                          start=next_start, end=next_end)


def _usage_lines(*, tenant: Tenant, price: Price, start: datetime, end: datetime,
                 ranges: list[tuple[datetime, datetime]] | None = None, charges: list[UsageCharge] | None = None,
                 meters: dict[str, Meter] | None = None,
                 quantities: dict[str, Decimal] | None = None) -> list[DraftLine]:
    """The price's usage charges rated on [start, end), or on its `ranges` when given (the period less the
    subscription's paused time, _active_ranges). A chunk's drafts pass the charges, meters and each meter's
    aggregate they read for the whole chunk; a meter missing from `quantities` is read here."""
    if charges is None:
        charges = list(price.usage_charges.all())
    if meters is None:
        meters = meters_by_code(codes={charge.meter_code for charge in charges})
    quantities = quantities or {}
    lines = []
    for charge in charges:
        rated = usage_charge_rate(tenant=tenant, charge=charge, start=start, end=end, ranges=ranges,
                                  meter=meters.get(charge.meter_code), quantity=quantities.get(charge.meter_code))
        lines.append(_usage_line(rated, currency=price.currency, start=start, end=end))
        if rated.minimum_topup:
            lines.append(_line(kind=Kind.MINIMUM, currency=price.currency, amount_exact=rated.minimum_topup,
                               description=f"{charge.name}: minimum of {_number(charge.minimum_amount)} "
                                           f"{price.currency} per period",
                               usage_charge_id=charge.pk, meter_code=charge.meter_code, period_start=start,
                               period_end=end))
    return lines


def _usage_line(rated: RatedCharge, *, currency: str, start: datetime, end: datetime) -> DraftLine:
    charge = rated.charge
    description = f"{charge.name}: {_number(rated.units)} {charge.unit_name}"
    if charge.included_units and charge.charge_model != charge.ChargeModel.PERCENTAGE:
        description += f" ({_number(charge.included_units)} included)"
    return _line(kind=Kind.USAGE, description=description, amount_exact=rated.amount, currency=currency,
                 quantity=rated.units, usage_charge_id=charge.pk, meter_code=charge.meter_code,
                 breakdown=rated.breakdown, period_start=start, period_end=end)


def _shortfall_line(*, tokens: int, currency: str) -> DraftLine:
    price = settings.BILLING_TOKEN_PRICE_PER_1000.get(currency)
    return _line(kind=Kind.WALLET_SHORTFALL, currency=currency,
                 amount_exact=wallet_shortfall_rate(tokens=tokens, currency=currency),
                 description=f"AI tokens used beyond the wallet's balance: {tokens:,} tokens at {price} {currency} "
                             "per 1,000",
                 quantity=Decimal(tokens), unit_amount=Decimal(price) / 1000)


def _pending_line(item: PendingInvoiceItem) -> DraftLine:
    return _line(kind=item.kind, description=item.description, amount_exact=item.amount_exact,
                 currency=item.currency, quantity=item.quantity, period_start=item.period_start,
                 period_end=item.period_end)


def _discount_line(redemption: CouponRedemption, *, lines: list[DraftLine], currency: str) -> DraftLine | None:
    """The coupon's discount on the subscription lines (rounded amounts, so the discount is of what the tenant
    reads), never more than they add up to; None when it does not apply."""
    coupon = redemption.coupon
    base = sum((line.amount for line in lines if line.kind in DISCOUNTABLE_KINDS), ZERO)
    if base <= 0:
        return None
    if coupon.percent_off is not None:
        off = base * coupon.percent_off / HUNDRED
        label = f"{coupon.name} ({_plain(coupon.percent_off)} % off)"
    elif coupon.currency == currency:
        off = min(coupon.amount_off, base)
        label = f"{coupon.name} ({_plain(coupon.amount_off)} {currency} off)"
    else:
        return None
    return _line(kind=Kind.DISCOUNT, description=label, amount_exact=-off, currency=currency)


def _redemption_active(subscription: Subscription) -> CouponRedemption | None:
    redemption = (CouponRedemption.objects.filter(subscription=subscription, tenant_id=subscription.tenant_id,
                                                  ended_at__isnull=True)
                  .exclude(periods_left=0).select_related("coupon").first())
    return _redemption_applicable(redemption, subscription)


def _redemption_applicable(redemption: CouponRedemption | None,
                           subscription: Subscription) -> CouponRedemption | None:
    """The redemption unless its coupon is restricted to plans the subscription is not on."""
    if redemption is None:
        return None
    restricted_to = {plan.pk for plan in redemption.coupon.plans.all()}
    if restricted_to and subscription.plan_id not in restricted_to:
        return None
    return redemption


# --- Late usage -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BilledUsage:
    """What a subscription's invoices billed so far for one usage charge over one earlier period: the units and
    the exact amount of its usage, minimum and late-usage lines (void invoices left out)."""

    charge_id: int
    period_start: datetime
    period_end: datetime
    units: Decimal
    amount: Decimal

    @property
    def key(self) -> tuple[int, datetime, datetime]:
        return (self.charge_id, self.period_start, self.period_end)


BILLED_USAGE_KINDS = (Kind.USAGE, Kind.MINIMUM, Kind.LATE_USAGE)


def _billed_usage(subscriptions: list[Subscription]) -> dict[int, list[BilledUsage]]:
    """By subscription, the (usage charge, earlier period) pairs whose usage may have grown since they were
    billed, with what was billed for them, in one query for a chunk. An earlier period is re-rated while events
    for it could have been accepted after the previous close (metering takes events up to PAST_WINDOW old, and
    the previous close ran at or after the current period's start): its end + PAST_WINDOW is after the current
    period's start. So every late event is billed by the first close after it arrived, and only by that one."""
    if not subscriptions:
        return {}
    by_id = {s.pk: s for s in subscriptions}
    earliest = min(s.current_period_start for s in subscriptions) - PAST_WINDOW
    rows = (InvoiceLine.objects
            .filter(invoice__subscription_id__in=by_id, invoice__tenant_id__in={s.tenant_id for s in subscriptions},
                    kind__in=BILLED_USAGE_KINDS, usage_charge_id__isnull=False, period_end__gt=earliest)
            .exclude(invoice__status=Invoice.Status.VOID)
            .values_list("invoice__subscription_id", "invoice__tenant_id", "usage_charge_id", "kind",
                         "period_start", "period_end", "quantity", "amount_exact"))
    sums: dict[int, dict[tuple, list]] = {}
    for subscription_id, tenant_id, charge_id, kind, start, end, quantity, amount in rows:
        subscription = by_id[subscription_id]
        if (tenant_id != subscription.tenant_id or start is None or end > subscription.current_period_start
                or end + PAST_WINDOW <= subscription.current_period_start):
            continue
        # [units, amount, whether the period was billed at all (a usage line)]
        total = sums.setdefault(subscription_id, {}).setdefault((charge_id, start, end), [ZERO, ZERO, False])
        if kind != Kind.MINIMUM:
            total[0] += quantity
        total[1] += amount
        total[2] = total[2] or kind == Kind.USAGE
    return {subscription_id: [BilledUsage(charge_id=charge_id, period_start=start, period_end=end, units=units,
                                          amount=amount)
                              for (charge_id, start, end), (units, amount, usage_billed) in sorted(periods.items())
                              if usage_billed]
            for subscription_id, periods in sums.items()}


def _charges_by_id(ids: set[int]) -> dict[int, UsageCharge]:
    return {charge.pk: charge for charge in UsageCharge.objects.filter(pk__in=ids)} if ids else {}


def _late_usage_lines(subscription: Subscription, *, before: datetime, pauses: list[Pause],
                      billed: list[BilledUsage] | None = None, charges: dict[int, UsageCharge] | None = None,
                      meters: dict[str, Meter] | None = None,
                      quantities: dict[tuple, Decimal] | None = None) -> list[DraftLine]:
    """The usage that reached earlier periods after they were invoiced (_billed_usage says which): each such
    (charge, period) re-rated on its active time at its own charge, less everything billed for it so far (its
    usage and minimum lines and earlier late-usage lines), as one "late usage" line when that is a positive
    amount. `before` is the start of the period being closed; a chunk's drafts pass what they read for the
    whole chunk."""
    if billed is None:
        billed = _billed_usage([subscription]).get(subscription.pk, [])
    if not billed:
        return []
    charges = charges if charges is not None else _charges_by_id({item.charge_id for item in billed})
    if meters is None:
        meters = meters_by_code(codes={charge.meter_code for charge in charges.values()})
    quantities = quantities or {}
    currency = subscription.price.currency
    lines = []
    for item in billed:
        charge = charges.get(item.charge_id)
        if charge is None or charge.meter_code not in meters:
            continue  # a charge or meter ops removed since: what was billed stands
        rated = usage_charge_rate(tenant=subscription.tenant, charge=charge, start=item.period_start,
                                  end=item.period_end, meter=meters[charge.meter_code],
                                  ranges=_active_ranges(item.period_start, item.period_end, pauses=pauses),
                                  quantity=quantities.get(item.key))
        line = _line(kind=Kind.LATE_USAGE, currency=currency,
                     amount_exact=rated.amount + rated.minimum_topup - item.amount,
                     description=f"{charge.name}: {_number(rated.units - item.units)} {charge.unit_name} received "
                                 f"late for {_period_text(item.period_start, item.period_end)}",
                     quantity=rated.units - item.units, usage_charge_id=charge.pk, meter_code=charge.meter_code,
                     period_start=item.period_start, period_end=item.period_end,
                     breakdown=[*rated.breakdown, {"kind": "billed_before", "units": _plain(item.units),
                                                   "amount": _plain(-item.amount)}])
        # A difference that rounds to nothing is left for a later close to bill with whatever arrives next.
        if line.amount > 0:
            lines.append(line)
    return lines


def _period_text(start: datetime, end: datetime) -> str:
    """"1 Mar – 1 Apr 2026" (the year once when both ends share it)."""
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


# --- Paused time ----------------------------------------------------------------------------------------------

# A pause: from the "paused" event to the "resumed" one, None while still paused.
Pause = tuple[datetime, datetime | None]
PAUSE_ACTIONS = ("paused", "resumed")


def _pauses(subscription: Subscription) -> list[Pause]:
    """The subscription's pauses, from its history (billing.subscriptions' pause and resume events)."""
    return _pauses_from(SubscriptionEvent.objects.filter(subscription=subscription, tenant_id=subscription.tenant_id,
                                                         action__in=PAUSE_ACTIONS)
                        .order_by("created_at", "pk").values_list("action", "created_at"))


def _pauses_by_subscription(subscriptions: list[Subscription]) -> dict[int, list[Pause]]:
    """_pauses for a chunk, in one query; subscriptions never paused are absent."""
    tenants = {s.pk: s.tenant_id for s in subscriptions}
    events: dict[int, list[tuple[str, datetime]]] = {}
    for subscription_id, tenant_id, action, at in (
            SubscriptionEvent.objects.filter(subscription_id__in=tenants, action__in=PAUSE_ACTIONS)
            .order_by("created_at", "pk").values_list("subscription_id", "tenant_id", "action", "created_at")):
        if tenants[subscription_id] == tenant_id:
            events.setdefault(subscription_id, []).append((action, at))
    return {subscription_id: _pauses_from(history) for subscription_id, history in events.items()}


def _pauses_from(events) -> list[Pause]:
    pauses, paused_at = [], None
    for action, at in events:
        if action == "paused" and paused_at is None:
            paused_at = at
        elif action == "resumed" and paused_at is not None:
            pauses.append((paused_at, at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, None))
    return pauses


def _active_ranges(start: datetime, end: datetime, *, pauses: list[Pause]) -> list[tuple[datetime, datetime]]:
    """[start, end) less the paused time: the ranges whose usage is billed. While paused the tenant is on Free
    entitlements and told it gets no invoices, so usage then is never rated at the paused plan's prices."""
    ranges, cursor = [], start
    for paused, resumed in pauses:
        if resumed is not None and resumed <= cursor:
            continue
        if paused >= end:
            break
        if paused > cursor:
            ranges.append((cursor, paused))
        cursor = resumed if resumed is not None else end
        if cursor >= end:
            break
    if cursor < end:
        ranges.append((cursor, end))
    return ranges


def _pending_items(subscription: Subscription) -> list[PendingInvoiceItem]:
    return list(PendingInvoiceItem.objects.filter(subscription=subscription, tenant_id=subscription.tenant_id,
                                                  invoice__isnull=True))


def _subscription_current(tenant: Tenant) -> Subscription | None:
    return (Subscription.objects.filter(tenant=tenant, status__in=CURRENT_STATUSES)
            .select_related("tenant", "plan", "price__plan", "scheduled_price__plan").first())


def _plain(value: Decimal) -> str:
    return format(value.normalize() if value else ZERO, "f")


def _number(value: Decimal) -> str:
    """A quantity as a customer reads it: thousands separated, no trailing zeros ("100,000", "1,234.5")."""
    return format(value.normalize() if value else ZERO, ",f")



def one_time_invoice_draft(*, tenant: Tenant, description: str, amount: Money,
                           kind: str = Kind.ONE_TIME) -> InvoiceDraft:
    """A one-time invoice of one line of `kind` (an accepted quote; a token pack, whose line is of kind
    token_pack so revenue analytics count it as AI-token revenue): the tenant's tax applies, no coupon."""
    line = _line(kind=kind, description=description, amount_exact=amount.amount, currency=amount.currency,
                 unit_amount=amount.amount)
    return _draft(tenant=tenant, subscription=None, currency=amount.currency, start=None, end=None, lines=[line])
