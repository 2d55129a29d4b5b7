"""Writes on subscriptions: start, change (with proration), pause and resume, cancel and reactivate, trials, past
due, and promotion codes. Every service takes `now` (aware UTC), works under a row lock on the subscription,
records one SubscriptionEvent (who, what, the fields before and after) and forgets the tenant's cached
entitlements, so `entitlements_for` answers from the new state at once.

The rules, in short:
- start: with a trial when the price has trial days and the tenant never had one (a trial needs no payment
  method); without, the first period starts now and is invoiced at once (`_start_invoice`). A calendar-month
  anchor makes the first period run to the start of next month (its fees prorated by the start invoice).
- upgrade (a price worth more per period, same interval) and more seats: immediate, prorated to the second:
  a credit for the unused time of what was paid and a charge for the rest of the period at the new price, as
  PendingInvoiceItems, invoiced now or with the next invoice per settings.BILLING_PRORATION_INVOICING.
- downgrade and fewer seats: at period end (scheduled_price / scheduled_quantity, applied by the billing run),
  unless ops force them now (then prorated like an upgrade; a net credit ends in the account credit). A new
  scheduled change replaces the one before; an immediate change drops it.
- during a trial every change applies at once, without prorations (nothing was paid); a paused subscription or
  one canceled at period end must be resumed or reactivated before it changes.
- interval change (month ↔ quarter ↔ year): immediate, whatever the setting: the usage of the period so far is
  invoiced, the unused time credited, and a new period starts now with its fees in advance.
- A change the target plan cannot hold (members beyond its seats, custom domains, client workspaces) is refused
  with what must change first (PlanLimitsExceeded.details["blockers"]).
- pause: Free entitlements and no invoices at once; what was paid for the period is not refunded. resume: the
  plan again; if the period ended while paused, it closes now and the next billing run invoices it (usage in
  arrears) and starts a new period from now.
- cancel at period end (reactivate undoes it before the end) or now (optionally crediting the unused time; the
  usage so far is invoiced at once).
- trials: owners are reminded BILLING_TRIAL_REMINDER_DAYS before the end (once); at the end the trial converts
  (a new period starts, invoiced at once) or, when the plan needs a payment method the tenant lacks, expires to
  Free. Usage during the trial is not billed.
- past due: the plan's entitlements for BILLING_PAST_DUE_GRACE_DAYS (billing.selectors), then Free until paid.

The invoices a change needs go through billing.invoicing.drafting: `_start_invoice` (a period that starts
without a trial), `_prorations_invoice_now` (prorations, when BILLING_PRORATION_INVOICING is "immediate") and
`_period_close_invoice` (the usage of a period closed early: interval change, cancel now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum

from billing.errors import CouponInvalid, PlanLimitsExceeded, PriceUnavailable, SubscriptionStateInvalid
from billing.invoicing.drafting import (
    DISCOUNTABLE_KINDS,
    invoice_issue,
    period_close_invoice_draft,
    prorations_invoice_draft,
    start_invoice_draft,
)
from billing.models import (
    Coupon,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Price,
    PromotionCode,
    Subscription,
    SubscriptionEvent,
)
from billing.selectors import entitlements_key
from billing.subscriptions.events import subscription_starting
from billing.subscriptions.proration import (
    FULL_PRICE,
    PaidShare,
    first_period,
    paid_share,
    period_add,
    period_bounds_for,
    prorate,
    subscription_anchor,
)
from billing.subscriptions.selectors import LimitBlocker, plan_limit_blockers, trial_converts
from config.lookup_cache import lookup_forget
from config.money import Money, money_round, money_to_api
from tenants.models import Tenant

Status = Subscription.Status
SYSTEM = "system"
ChangeKind = Literal["upgrade", "downgrade", "interval_change", "seats_up", "seats_down"]


# --- Seams to the invoicing code (wired by the lead once billing.invoicing lands) -------------------------------

def _start_invoice(subscription: Subscription, now: datetime) -> None:
    """Invoice the subscription's current period in advance (fixed fee and seats, times
    proration.period_fraction for a partial first period), with its coupon. Called when a period starts without
    a trial: at start, at trial conversion."""
    invoice_issue(tenant=subscription.tenant, subscription=subscription,
                  billing_reason=Invoice.Reason.SUBSCRIPTION_CREATE,
                  draft=start_invoice_draft(subscription=subscription, now=now), now=now)


def _prorations_invoice_now(subscription: Subscription, now: datetime) -> None:
    """Invoice the subscription's pending items (prorations) now, as a subscription_update invoice."""
    draft = prorations_invoice_draft(subscription=subscription, now=now)
    if draft is not None:
        invoice_issue(tenant=subscription.tenant, subscription=subscription,
                      billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE, draft=draft, now=now)


def _period_close_invoice(subscription: Subscription, *, period_start: datetime, period_end: datetime,
                          now: datetime, opens_period: bool) -> None:
    """Invoice now the usage charges of [period_start, period_end) on the subscription's current price (in
    arrears), with its pending items: the period closed early (interval change, cancel now). Called before the
    subscription's price or period changes. `opens_period`: the pending items bill a new period in advance (an
    interval change), so the invoice uses one of the coupon's periods like a cycle invoice."""
    draft = period_close_invoice_draft(subscription=subscription, period_start=period_start, period_end=period_end,
                                       now=now)
    invoice_issue(tenant=subscription.tenant, subscription=subscription,
                  billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE, draft=draft, now=now, opens_period=opens_period)


# --- Results --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProrationLine:
    """One proration: negative for unused time credited, positive for time charged. `amount` is exact."""

    kind: str
    description: str
    amount: Decimal
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class ChangePreview:
    """What a change would do, before it is made: its kind, whether it applies now or at period end, the
    proration lines (empty for a scheduled change or during a trial), and what must change first."""

    kind: ChangeKind
    effective: Literal["now", "period_end"]
    effective_at: datetime
    price: Price
    quantity: int
    currency: str
    lines: list[ProrationLine]
    invoice_now: bool
    new_period: tuple[datetime, datetime] | None
    blockers: list[LimitBlocker] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def as_dict(self) -> dict:
        """The API form. Each line's amount is rounded once, as the invoice will round it, and the total is the
        sum of the rounded lines (before any discount or tax the invoice adds)."""
        rounded = [money_round(Money(line.amount, self.currency)) for line in self.lines]
        return {
            "kind": self.kind, "effective": self.effective, "effective_at": self.effective_at.isoformat(),
            "price": self.price.code, "quantity": self.quantity, "invoice_now": self.invoice_now,
            "lines": [{"kind": line.kind, "description": line.description, "amount": money_to_api(amount),
                       "period_start": line.period_start.isoformat(), "period_end": line.period_end.isoformat()}
                      for line, amount in zip(self.lines, rounded, strict=True)],
            "total": money_to_api(sum(rounded, Money(Decimal("0.00"), self.currency))),
            "new_period": [moment.isoformat() for moment in self.new_period] if self.new_period else None,
            "blockers": [blocker.as_dict() for blocker in self.blockers],
        }


@dataclass(frozen=True)
class TrialsResult:
    """What one pass over trials did: the subscriptions whose owners must now be reminded (each returned once),
    and those converted, expired (to Free) or canceled at the trial's end."""

    reminders: list[Subscription]
    converted: list[Subscription]
    expired: list[Subscription]
    canceled: list[Subscription]


# --- Start ----------------------------------------------------------------------------------------------------

@transaction.atomic
def subscription_start(*, tenant: Tenant, price: Price, quantity: int = 1, actor: str, now: datetime,
                       trial: bool = True, promotion_code: str | None = None,
                       billing_anchor: str = Subscription.BillingAnchor.ANNIVERSARY,
                       allow_private: bool = False) -> Subscription:
    """Subscribe the tenant to `price` with `quantity` seats. With `trial` (and trial days on the price, and no
    trial before) it starts trialing until now + trial days; otherwise the first period starts now and is
    invoiced at once. `allow_private` lets ops use a plan that is not self-serve. Refused when the tenant already
    has a current subscription, the price is unavailable, the plan cannot hold the tenant's current use, or the
    promotion code is invalid (then nothing is created)."""
    _price_check(price, allow_private=allow_private)
    _blockers_raise(plan_limit_blockers(tenant=tenant, plan=price.plan, quantity=quantity))
    if billing_anchor not in Subscription.BillingAnchor.values:
        raise SubscriptionStateInvalid(f"Unknown billing anchor {billing_anchor!r}.", field="billing_anchor")
    trialing = trial and price.trial_days > 0 and not _had_trial(tenant)
    subscription = Subscription(
        tenant=tenant, plan=price.plan, price=price, quantity=quantity, billing_anchor=billing_anchor,
        collection_method=Subscription.CollectionMethod.MANUAL, current_period_start=now)
    if trialing:
        trial_end = now + _days(price.trial_days)
        subscription.status = Status.TRIALING
        subscription.trial_end = subscription.current_period_end = trial_end
        subscription.created_at = now
    else:
        subscription.status = Status.ACTIVE
        _first_period_set(subscription, start=now)
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as error:
        raise SubscriptionStateInvalid("The tenant already has a current subscription.") from error
    details = {}
    if promotion_code:
        redemption = _promotion_code_redeem(subscription, code=promotion_code, actor=actor, now=now)
        details = {"coupon": redemption.coupon.code, "promotion_code": redemption.promotion_code.code}
    subscription_starting.send(sender=Subscription, subscription=subscription, now=now)
    _event_record(subscription, action="started", actor=actor, before={}, now=now, details=details)
    if not trialing:
        _start_invoice(subscription, now)
    return subscription


def _first_period_set(subscription: Subscription, *, start: datetime) -> None:
    """The first paid period from `start` (proration.first_period), its anchor kept in created_at."""
    subscription.created_at, subscription.current_period_start, subscription.current_period_end = first_period(
        price=subscription.price, billing_anchor=subscription.billing_anchor, start=start)


def _had_trial(tenant: Tenant) -> bool:
    # One trial per tenant: canceling and subscribing again must not start another.
    return Subscription.objects.filter(tenant=tenant, trial_end__isnull=False).exists()


# --- Change ---------------------------------------------------------------------------------------------------

def subscription_change_preview(*, subscription: Subscription, price: Price | None = None,
                                quantity: int | None = None, now: datetime, force_now: bool = False,
                                allow_private: bool = False) -> ChangePreview:
    """What changing to `price` and/or `quantity` seats would do now (see the module for the rules), without
    changing anything. Refused (SubscriptionStateInvalid) when there is nothing to change or the subscription
    cannot change; blockers are listed, not raised."""
    _changeable_check(subscription)
    price = price or subscription.price
    quantity = subscription.quantity if quantity is None else quantity
    if quantity < 1:
        raise SubscriptionStateInvalid("A subscription has at least one seat.", field="quantity")
    if price.pk != subscription.price_id:
        _price_check(price, allow_private=allow_private)
        if price.currency != subscription.price.currency:
            raise PriceUnavailable(
                f"This subscription is billed in {subscription.price.currency}; choose a price in that currency.",
                field="price")
    kind = _change_kind(subscription, price=price, quantity=quantity)
    blockers = plan_limit_blockers(tenant=subscription.tenant, plan=price.plan, quantity=quantity)
    paid_time = subscription.status != Status.TRIALING
    full_start, full_end = _full_period(subscription)

    if kind == "interval_change":
        new_end = period_add(anchor=now, months=price.interval_months, n=1)
        lines = []
        if paid_time:
            lines = _unused_credit_lines(subscription, at=now) + [
                ProrationLine(kind=kind_, description=f"{description} ({_day(now)} to {_day(new_end)})",
                              amount=amount, period_start=now, period_end=new_end)
                for kind_, description, amount in _period_components(price, quantity)]
        return ChangePreview(kind=kind, effective="now", effective_at=now, price=price, quantity=quantity,
                             currency=price.currency, lines=_nonzero(lines), invoice_now=paid_time,
                             new_period=(now, new_end) if paid_time else None, blockers=blockers)

    immediate = kind in ("upgrade", "seats_up") or force_now or not paid_time
    if not immediate:
        return ChangePreview(kind=kind, effective="period_end", effective_at=subscription.current_period_end,
                             price=price, quantity=quantity,
                             currency=price.currency, lines=[], invoice_now=False, new_period=None,
                             blockers=blockers)
    lines = []
    if paid_time:
        # On the same price only the seats change: the fixed fee's credit and charge would cancel out.
        seats_only = price.pk == subscription.price_id
        lines = _unused_credit_lines(subscription, at=now, seats_only=seats_only) + [
            ProrationLine(kind=InvoiceLine.Kind.PRORATION,
                          description=f"Remaining time on {description} from {_day(now)}",
                          amount=prorate(amount=amount, period_start=full_start, period_end=full_end, at=now),
                          period_start=now, period_end=subscription.current_period_end)
            for kind_, description, amount in _period_components(price, quantity)
            if not seats_only or kind_ == InvoiceLine.Kind.SEATS]
    lines = _nonzero(lines)
    invoice_now = bool(lines) and settings.BILLING_PRORATION_INVOICING == "immediate"
    return ChangePreview(kind=kind, effective="now", effective_at=now, price=price, quantity=quantity,
                         currency=price.currency, lines=lines, invoice_now=invoice_now,
                         new_period=None, blockers=blockers)


@transaction.atomic
def subscription_change(*, subscription: Subscription, price: Price | None = None, quantity: int | None = None,
                        actor: str, now: datetime, force_now: bool = False,
                        allow_private: bool = False) -> Subscription:
    """Make the change `subscription_change_preview` describes (recomputed under the row lock): now, with its
    prorations as pending items (invoiced now or with the next invoice), or scheduled for the period end.
    `force_now` (ops) applies a downgrade or fewer seats at once. Refused with PlanLimitsExceeded when the
    target cannot hold the tenant's current use. Choosing the current price and seats again while a change is
    scheduled drops the scheduled change (the tenant keeps what it has)."""
    subscription = _lock(subscription)
    keeps_current = ((price or subscription.price).pk == subscription.price_id
                     and (subscription.quantity if quantity is None else quantity) == subscription.quantity)
    if keeps_current and (subscription.scheduled_price_id or subscription.scheduled_quantity):
        before = _snapshot(subscription)
        subscription.scheduled_price = subscription.scheduled_quantity = None
        subscription.save()
        _event_record(subscription, action="scheduled_change_dropped", actor=actor, before=before, now=now)
        return subscription
    preview = subscription_change_preview(subscription=subscription, price=price, quantity=quantity, now=now,
                                          force_now=force_now, allow_private=allow_private)
    _blockers_raise(preview.blockers)
    before = _snapshot(subscription)
    if preview.effective == "period_end":
        subscription.scheduled_price = preview.price if preview.price.pk != subscription.price_id else None
        subscription.scheduled_quantity = preview.quantity if preview.quantity != subscription.quantity else None
        subscription.save()
        _event_record(subscription, action=f"{preview.kind}_scheduled", actor=actor, before=before, now=now)
        return subscription

    _pending_items_write(subscription, preview.lines, now=now)
    if preview.kind == "interval_change" and preview.new_period:
        _period_close_invoice(subscription, period_start=subscription.current_period_start, period_end=now, now=now,
                              opens_period=True)
        subscription.current_period_start, subscription.current_period_end = preview.new_period
        subscription.created_at = now  # the new anchor
    subscription.price, subscription.plan, subscription.quantity = preview.price, preview.price.plan, preview.quantity
    subscription.scheduled_price = subscription.scheduled_quantity = None
    subscription.save()
    _event_record(subscription, action=preview.kind, actor=actor, before=before, now=now)
    if preview.invoice_now and preview.kind != "interval_change":
        _prorations_invoice_now(subscription, now)
    return subscription


def _change_kind(subscription: Subscription, *, price: Price, quantity: int) -> ChangeKind:
    old = subscription.price
    if price.pk == old.pk:
        if quantity == subscription.quantity:
            raise SubscriptionStateInvalid("The subscription is already on this price with this many seats.")
        return "seats_up" if quantity > subscription.quantity else "seats_down"
    if price.interval_months != old.interval_months:
        return "interval_change"
    old_amount = _period_amount(old, subscription.quantity)
    new_amount = _period_amount(price, quantity)
    if new_amount != old_amount:
        return "upgrade" if new_amount > old_amount else "downgrade"
    return "upgrade" if price.plan.sort_order > old.plan.sort_order else "downgrade"


def _period_components(price: Price, quantity: int) -> list[tuple[str, str, Decimal]]:
    """(kind, description, amount) of what a whole period of `price` with `quantity` seats costs in advance."""
    label = f"{price.plan.name} ({price.get_interval_display().lower()})"
    extra_seats = max(quantity - price.included_seats, 0)
    return [
        (InvoiceLine.Kind.FIXED, label, price.fixed_amount),
        (InvoiceLine.Kind.SEATS, f"{extra_seats} extra seat(s) on {label}", extra_seats * price.per_seat_amount),
    ]


def _period_amount(price: Price, quantity: int) -> Decimal:
    return sum((amount for _, _, amount in _period_components(price, quantity)), Decimal(0))


def _full_period(subscription: Subscription) -> tuple[datetime, datetime]:
    """The whole period of the subscription's interval that ends with the current one: the current period
    itself, but for a partial first period (calendar-month anchor) the whole month it is part of. Prorations
    divide by its length, so a partial period is credited at the rate it was charged."""
    end = subscription.current_period_end
    return period_bounds_for(price=subscription.price, anchor=subscription_anchor(subscription),
                             at=end - timedelta(microseconds=1))


def _unused_credit_lines(subscription: Subscription, *, at: datetime, seats_only: bool = False) -> list[ProrationLine]:
    """The credit for the unused time of what was paid for the current period: its fees × remaining / period,
    at the share of them its invoice charged after the discount (_period_paid_share)."""
    full_start, full_end = _full_period(subscription)
    paid = _period_paid_share(subscription)
    return [
        ProrationLine(kind=InvoiceLine.Kind.PRORATION, description=f"Unused time on {description} from {_day(at)}",
                      amount=-prorate(amount=amount, period_start=full_start, period_end=full_end, at=at, paid=paid),
                      period_start=at, period_end=subscription.current_period_end)
        for kind, description, amount in _period_components(subscription.price, subscription.quantity)
        if not seats_only or kind == InvoiceLine.Kind.SEATS]


def _period_paid_share(subscription: Subscription) -> PaidShare:
    """What the tenant paid for the current period's fees, as a share of their price: the latest invoice (not
    void) that charged time up to the period's end (the fee in advance, or a change's remaining time) tells, by
    its discount over its discountable lines (proration.paid_share). The full price when no invoice did (nothing
    billed yet, e.g. prorations waiting for the next invoice)."""
    invoice_id = (InvoiceLine.objects.filter(
        invoice__subscription=subscription, invoice__tenant_id=subscription.tenant_id,
        period_end=subscription.current_period_end, amount__gt=0,
        kind__in=(InvoiceLine.Kind.FIXED, InvoiceLine.Kind.SEATS, InvoiceLine.Kind.PRORATION))
        .exclude(invoice__status=Invoice.Status.VOID)
        .order_by("-invoice__created_at", "-invoice_id").values_list("invoice_id", flat=True).first())
    if invoice_id is None:
        return FULL_PRICE
    sums = InvoiceLine.objects.filter(invoice_id=invoice_id).aggregate(
        charged=Sum("amount", filter=Q(kind__in=DISCOUNTABLE_KINDS), default=Decimal(0)),
        discount=Sum("amount", filter=Q(kind=InvoiceLine.Kind.DISCOUNT), default=Decimal(0)))
    return paid_share(charged=sums["charged"], discount=sums["discount"])


def _nonzero(lines: list[ProrationLine]) -> list[ProrationLine]:
    return [line for line in lines if line.amount]


def _pending_items_write(subscription: Subscription, lines: list[ProrationLine], *, now: datetime) -> None:
    PendingInvoiceItem.objects.bulk_create([
        PendingInvoiceItem(tenant_id=subscription.tenant_id, subscription=subscription, kind=line.kind,
                           description=line.description, currency=subscription.price.currency,
                           amount_exact=line.amount, period_start=line.period_start, period_end=line.period_end,
                           created_at=now)
        for line in lines])


# --- Pause, resume, cancel, reactivate ------------------------------------------------------------------------

@transaction.atomic
def subscription_pause(*, subscription: Subscription, actor: str, now: datetime) -> Subscription:
    """Pause an active subscription: Free entitlements and no invoices from now until resumed. What was paid for
    the current period is not refunded."""
    subscription = _lock(subscription)
    if subscription.status != Status.ACTIVE or subscription.cancel_at_period_end:
        raise SubscriptionStateInvalid("Only an active subscription that is not being canceled can be paused.")
    before = _snapshot(subscription)
    subscription.status, subscription.paused_at = Status.PAUSED, now
    subscription.save()
    _event_record(subscription, action="paused", actor=actor, before=before, now=now)
    return subscription


@transaction.atomic
def subscription_resume(*, subscription: Subscription, actor: str, now: datetime) -> Subscription:
    """Resume a paused subscription: the plan's entitlements at once. Within its period, nothing else changes
    (the period was paid). If the period ended while paused, it closes now, and the anchor moves to now: the
    next billing run invoices the closed period's usage and starts a new period from now, fees in advance."""
    subscription = _lock(subscription)
    if subscription.status != Status.PAUSED:
        raise SubscriptionStateInvalid("Only a paused subscription can be resumed.")
    before = _snapshot(subscription)
    subscription.status, subscription.paused_at = Status.ACTIVE, None
    if subscription.current_period_end <= now:
        subscription.current_period_end = subscription.created_at = now
    subscription.save()
    _event_record(subscription, action="resumed", actor=actor, before=before, now=now)
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor: str, now: datetime, at_period_end: bool,
                        prorate_credit: bool = False) -> Subscription:
    """Cancel at the period's end (the plan stays until then; `subscription_reactivate` undoes it) or now: the
    subscription ends, the usage of the period so far is invoiced at once and, with `prorate_credit` on an
    active subscription, the unused time of its fees is credited (to the account credit)."""
    subscription = _lock(subscription)
    if not subscription.is_current:
        raise SubscriptionStateInvalid("This subscription has already ended.")
    before = _snapshot(subscription)
    if at_period_end:
        if subscription.status == Status.PAUSED:
            raise SubscriptionStateInvalid("Resume the subscription first, or cancel it now.")
        if subscription.cancel_at_period_end:
            raise SubscriptionStateInvalid("This subscription is already canceled at its period end.")
        subscription.cancel_at_period_end, subscription.canceled_at = True, now
        subscription.scheduled_price = subscription.scheduled_quantity = None
        subscription.save()
        _event_record(subscription, action="cancel_scheduled", actor=actor, before=before, now=now)
        return subscription

    if subscription.status != Status.TRIALING:  # usage during a trial is not billed
        if prorate_credit and subscription.status == Status.ACTIVE:
            _pending_items_write(subscription, _nonzero(_unused_credit_lines(subscription, at=now)), now=now)
        _period_close_invoice(subscription, period_start=subscription.current_period_start, period_end=now, now=now,
                              opens_period=False)
    subscription.status = Status.CANCELED
    subscription.canceled_at = subscription.ended_at = now
    subscription.cancel_at_period_end = False
    subscription.scheduled_price = subscription.scheduled_quantity = None
    subscription.save()
    _redemption_end(subscription, now=now)
    _event_record(subscription, action="canceled", actor=actor, before=before, now=now)
    return subscription


@transaction.atomic
def subscription_reactivate(*, subscription: Subscription, actor: str, now: datetime) -> Subscription:
    """Undo a cancellation at period end, before the period ends."""
    subscription = _lock(subscription)
    if not (subscription.is_current and subscription.cancel_at_period_end and now < subscription.current_period_end):
        raise SubscriptionStateInvalid("Only a subscription canceled at its period end can be reactivated, "
                                       "before that end.")
    before = _snapshot(subscription)
    subscription.cancel_at_period_end, subscription.canceled_at = False, None
    subscription.save()
    _event_record(subscription, action="reactivated", actor=actor, before=before, now=now)
    return subscription


# --- Trials and past due --------------------------------------------------------------------------------------

@transaction.atomic
def subscription_trial_extend(*, subscription: Subscription, trial_end: datetime, actor: str,
                              now: datetime) -> Subscription:
    """Ops: move a running trial's end to `trial_end` (later than now). The reminder is due again when the new
    end leaves more than BILLING_TRIAL_REMINDER_DAYS."""
    subscription = _lock(subscription)
    if subscription.status != Status.TRIALING:
        raise SubscriptionStateInvalid("Only a running trial can be extended.")
    if trial_end <= now:
        raise SubscriptionStateInvalid("The trial must end in the future.", field="trial_end")
    before = _snapshot(subscription)
    subscription.trial_end = subscription.current_period_end = trial_end
    if trial_end - now > _days(settings.BILLING_TRIAL_REMINDER_DAYS):
        subscription.trial_reminder_sent_at = None
    subscription.save()
    _event_record(subscription, action="trial_extended", actor=actor, before=before, now=now)
    return subscription


def subscription_trials_process(*, now: datetime) -> TrialsResult:
    """One pass over trials (the billing run calls it before its own work): marks and returns the trials whose
    reminder is due (each once: the caller sends the email after commit), and ends the trials whose end has
    come: canceled ones end, those whose plan needs a payment method the tenant lacks expire (to Free), the
    others convert (a new period from the trial's end, invoiced at once). Each subscription in its own
    transaction, locked with SKIP LOCKED, so concurrent passes share the work."""
    reminder_from = now + _days(settings.BILLING_TRIAL_REMINDER_DAYS)
    reminders = []
    due = Subscription.objects.filter(status=Status.TRIALING, trial_reminder_sent_at__isnull=True,
                                      trial_end__gt=now, trial_end__lte=reminder_from)
    for subscription_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            subscription = due.select_for_update(skip_locked=True).filter(pk=subscription_id).first()
            if subscription is not None:
                subscription.trial_reminder_sent_at = now
                subscription.save(update_fields=["trial_reminder_sent_at", "updated_at"])
                reminders.append(subscription)

    outcomes: dict[str, list[Subscription]] = {"converted": [], "expired": [], "canceled": []}
    ended = Subscription.objects.filter(status=Status.TRIALING, trial_end__lte=now)
    for subscription_id in ended.values_list("pk", flat=True):
        with transaction.atomic():
            subscription = (ended.select_for_update(skip_locked=True, of=("self",))
                            .select_related("price", "plan").filter(pk=subscription_id).first())
            if subscription is not None:
                outcome = _trial_end(subscription, now=now)
                outcomes[outcome].append(subscription)
    return TrialsResult(reminders=reminders, **outcomes)


def _trial_end(subscription: Subscription, *, now: datetime) -> str:
    before = _snapshot(subscription)
    trial_end = subscription.trial_end
    if subscription.cancel_at_period_end:
        subscription.status, subscription.ended_at = Status.CANCELED, trial_end
        outcome, action = "canceled", "canceled"
    elif not trial_converts(subscription=subscription):
        subscription.status, subscription.ended_at = Status.EXPIRED, trial_end
        outcome, action = "expired", "trial_expired"
    else:
        subscription.status = Status.ACTIVE
        _first_period_set(subscription, start=trial_end)
        outcome, action = "converted", "trial_converted"
    subscription.save()
    if subscription.status != Status.ACTIVE:
        _redemption_end(subscription, now=now)
    _event_record(subscription, action=action, actor=SYSTEM, before=before, now=now)
    if outcome == "converted":
        _start_invoice(subscription, now)
    return outcome


@transaction.atomic
def subscription_past_due_mark(*, subscription: Subscription, now: datetime) -> Subscription:
    """An invoice went unpaid past its due date: the subscription is past due from now (its plan's entitlements
    last BILLING_PAST_DUE_GRACE_DAYS more). Marking a past-due subscription again changes nothing."""
    subscription = _lock(subscription)
    if subscription.status == Status.PAST_DUE:
        return subscription
    if subscription.status != Status.ACTIVE:
        raise SubscriptionStateInvalid("Only an active subscription can become past due.")
    before = _snapshot(subscription)
    subscription.status, subscription.past_due_since = Status.PAST_DUE, now
    subscription.save()
    _event_record(subscription, action="past_due", actor=SYSTEM, before=before, now=now)
    return subscription


@transaction.atomic
def subscription_past_due_clear(*, subscription: Subscription, now: datetime) -> Subscription:
    """What was overdue is paid: a past-due subscription is active again (other states are left as they are)."""
    subscription = _lock(subscription)
    if subscription.status != Status.PAST_DUE:
        return subscription
    before = _snapshot(subscription)
    subscription.status, subscription.past_due_since = Status.ACTIVE, None
    subscription.save()
    _event_record(subscription, action="past_due_cleared", actor=SYSTEM, before=before, now=now)
    return subscription


@transaction.atomic
def subscription_collection_method_set(*, subscription: Subscription, collection_method: str, actor: str,
                                       now: datetime) -> Subscription:
    """How the subscription's next invoices are collected: `stripe` (charged to the tenant's default card) or
    `manual` (paid by transfer). Invoices already issued keep theirs. Setting the method it has changes
    nothing (no history entry)."""
    if collection_method not in Subscription.CollectionMethod.values:
        raise SubscriptionStateInvalid(f"Unknown collection method {collection_method!r}.")
    subscription = _lock(subscription)
    if subscription.collection_method == collection_method:
        return subscription
    before = _snapshot(subscription) | {"collection_method": subscription.collection_method}
    subscription.collection_method = collection_method
    subscription.save()
    _event_record(subscription, action="collection_changed", actor=actor, before=before, now=now,
                  details={"collection_method": collection_method})
    return subscription


# --- Coupons --------------------------------------------------------------------------------------------------

@transaction.atomic
def promotion_code_redeem(*, subscription: Subscription, code: str, actor: str, now: datetime) -> CouponRedemption:
    """Apply a promotion code to the current subscription: its coupon discounts the subscription's next invoices
    (once, for N periods, or forever). Refused (CouponInvalid) when the code or its coupon is inactive, expired,
    fully redeemed, restricted to other plans or another currency, for first subscriptions only and this is
    not the tenant's first, or a discount is already active."""
    subscription = _lock(subscription)
    redemption = _promotion_code_redeem(subscription, code=code, actor=actor, now=now)
    _event_record(subscription, action="coupon_redeemed", actor=actor, before={}, now=now,
                  details={"coupon": redemption.coupon.code, "promotion_code": redemption.promotion_code.code})
    return redemption


@transaction.atomic
def coupon_apply(*, subscription: Subscription, coupon: Coupon, actor: str, now: datetime) -> CouponRedemption:
    """Ops: apply a coupon directly (no promotion code), with the coupon's own checks and limit."""
    subscription = _lock(subscription)
    redemption = _coupon_redeem(subscription, coupon=coupon, promotion_code=None, actor=actor, now=now)
    _event_record(subscription, action="coupon_applied", actor=actor, before={}, now=now,
                  details={"coupon": coupon.code})
    return redemption


def _promotion_code_redeem(subscription: Subscription, *, code: str, actor: str, now: datetime) -> CouponRedemption:
    promotion = PromotionCode.objects.select_related("coupon").filter(code=code.strip().upper()).first()
    if promotion is None or not promotion.is_active:
        raise CouponInvalid("This promotion code does not exist.", field="promotion_code")
    if promotion.expires_at is not None and promotion.expires_at <= now:
        raise CouponInvalid("This promotion code has expired.", field="promotion_code")
    if promotion.first_subscription_only and (
            Subscription.objects.filter(tenant_id=subscription.tenant_id).exclude(pk=subscription.pk).exists()):
        raise CouponInvalid("This promotion code is for a first subscription only.", field="promotion_code")
    redemption = _coupon_redeem(subscription, coupon=promotion.coupon, promotion_code=promotion, actor=actor, now=now)
    # Counted after the coupon's own checks, in the same transaction: a refusal above rolls both counts back.
    if not _redemption_count(PromotionCode.objects.filter(pk=promotion.pk)):
        raise CouponInvalid("This promotion code has been fully redeemed.", field="promotion_code")
    return redemption


def _coupon_redeem(subscription: Subscription, *, coupon: Coupon, promotion_code: PromotionCode | None, actor: str,
                   now: datetime) -> CouponRedemption:
    if not subscription.is_current:
        raise CouponInvalid("A coupon applies to a current subscription only.", field="promotion_code")
    if not coupon.is_active or (coupon.redeem_by is not None and coupon.redeem_by <= now):
        raise CouponInvalid("This coupon has expired.", field="promotion_code")
    if coupon.amount_off is not None and coupon.currency != subscription.price.currency:
        raise CouponInvalid(f"This coupon is for {coupon.currency} subscriptions.", field="promotion_code")
    if coupon.plans.exists() and not coupon.plans.filter(pk=subscription.plan_id).exists():
        raise CouponInvalid("This coupon does not apply to your plan.", field="promotion_code")
    if CouponRedemption.objects.filter(subscription=subscription, ended_at__isnull=True).exists():
        raise CouponInvalid("A discount is already active on this subscription.", field="promotion_code")
    if not _redemption_count(Coupon.objects.filter(pk=coupon.pk)):
        raise CouponInvalid("This coupon has been fully redeemed.", field="promotion_code")
    periods_left = {Coupon.Duration.ONCE: 1, Coupon.Duration.REPEATING: coupon.duration_periods}.get(coupon.duration)
    return CouponRedemption.objects.create(
        tenant_id=subscription.tenant_id, subscription=subscription, coupon=coupon, promotion_code=promotion_code,
        periods_left=periods_left, redeemed_at=now, redeemed_by=actor)


def _redemption_count(rows) -> bool:
    """Count one more redemption unless the limit is reached: one guarded UPDATE, so two redeemers racing for the
    last one cannot both get it."""
    return bool(rows.filter(Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions")))
                .update(times_redeemed=F("times_redeemed") + 1))


def _redemption_end(subscription: Subscription, *, now: datetime) -> None:
    CouponRedemption.objects.filter(subscription=subscription, ended_at__isnull=True).update(ended_at=now)


# --- Shared ---------------------------------------------------------------------------------------------------

def _lock(subscription: Subscription) -> Subscription:
    # The caller's copy may be stale: every decision is made on the locked row.
    return (Subscription.objects.select_for_update(of=("self",))
            .select_related("tenant", "plan", "price", "price__plan", "scheduled_price")
            .get(pk=subscription.pk, tenant_id=subscription.tenant_id))


def _changeable_check(subscription: Subscription) -> None:
    if subscription.status not in (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE):
        raise SubscriptionStateInvalid(f"A {subscription.get_status_display().lower()} subscription cannot change.")
    if subscription.cancel_at_period_end:
        raise SubscriptionStateInvalid("This subscription ends at its period end; reactivate it first.")


def _price_check(price: Price, *, allow_private: bool) -> None:
    plan = price.plan
    if not (price.is_active and plan.is_active):
        raise PriceUnavailable("This price is no longer available.", field="price")
    if not allow_private and (not plan.is_public or plan.contact_sales):
        raise PriceUnavailable("This plan is available through sales only.", field="price")


def _blockers_raise(blockers: list[LimitBlocker]) -> None:
    if blockers:
        raise PlanLimitsExceeded(" ".join(blocker.message for blocker in blockers),
                                 details={"blockers": [blocker.as_dict() for blocker in blockers]})


def _snapshot(subscription: Subscription) -> dict:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "status": subscription.status, "plan": subscription.plan.code, "price": subscription.price.code,
        "quantity": subscription.quantity, "current_period_start": when(subscription.current_period_start),
        "current_period_end": when(subscription.current_period_end), "trial_end": when(subscription.trial_end),
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "scheduled_price": subscription.scheduled_price.code if subscription.scheduled_price else None,
        "scheduled_quantity": subscription.scheduled_quantity, "paused_at": when(subscription.paused_at),
        "past_due_since": when(subscription.past_due_since), "ended_at": when(subscription.ended_at),
        "anchor": when(subscription_anchor(subscription)),
    }


def _event_record(subscription: Subscription, *, action: str, actor: str, before: dict, now: datetime,
                  details: dict | None = None) -> SubscriptionEvent:
    event = SubscriptionEvent.objects.create(subscription=subscription, tenant_id=subscription.tenant_id,
                                             action=action, actor=actor, before=before,
                                             after=_snapshot(subscription) | (details or {}), created_at=now)
    lookup_forget(entitlements_key(subscription.tenant_id))
    return event


def _days(days: int) -> timedelta:
    return timedelta(days=days)


def _day(at: datetime) -> str:
    return f"{at:%d %b %Y}"
