"""Wallet auto-recharge: turning it on and off, starting one recharge per crossing of the threshold, and settling it.

How the falling balance reaches billing. Debits are metering's hot path: one SQL statement, no lock held in
Python, and metering never imports billing's invoicing or payments. The debit's statement already returns the
wallet's row, so it returns `Wallet.recharge_below` too: the threshold while auto-recharge is *armed*. A debit
that leaves the balance below it (or is refused while it is below) sends metering's wallet_balance_fell once it
has committed (metering.wallets.signals, a leaf billing subscribes to), and billing's receiver enqueues
auto_recharge_start. Chosen over a periodic check: the recharge starts within a second of the crossing rather
than a beat interval later, when the tokens may have run out already, and it costs nothing while nothing
crosses (no scan of every wallet, no query per debit).

One recharge per crossing. The wallet is armed only while auto-recharge is on and no recharge is in flight.
Concurrent debits crossing together may each send the signal: auto_recharge_start takes the setting's row lock,
so they act one after the other; the first disarms the wallet and orders the pack, the others find a recharge in
flight and do nothing. Behind the lock, the database holds at most one pending AutoRechargeOrder per tenant
(auto_recharge_one_in_flight). A recharge settles when its invoice is paid (token_packs credits the tokens in the
same transaction) or voided; only then is the wallet armed again, so only then can a new crossing start one.

The charge. The order's invoice is collected by Stripe, so the payment rail charges it off-session on the default
card as soon as it is finalised (billing.payments.signals enqueues invoice_charge_task, attempt 1, with that
attempt's Idempotency-Key), and its success marks the invoice paid. An invoice the account credit covers is paid
at once, without a charge.

Failures. A declined charge (or no card any more) turns auto-recharge off, tells the owners and billing members
once, and voids the invoice: the tenant did not get the tokens, so it owes nothing, and nothing is left to chase.
A bank that wants the cardholder (SCA) turns it off and tells them once too, but leaves the invoice open: the
payment rail made a hosted page to confirm the payment on, and paying there credits the tokens (cancelling the
order on the Wallet page voids it); voiding it would leave a payable page for an invoice that can no longer be
paid. Either way auto-recharge stays off until someone turns it on again. Recharge invoices have no subscription,
so dunning never takes them (billing.payments.dunning opens cases for subscription invoices only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from billing.consolidation.errors import BilledThroughPayer
from billing.errors import BillingError
from billing.models import AutoRecharge, AutoRechargeOrder, Invoice, Payment
from billing.payments import stripe_api
from billing.payments.services import STRIPE_COLLECTION, stripe_customer_ensure
from billing.token_packs import token_pack_purchase, token_pack_purchase_cancel
from config.errors import DomainError
from config.money import Money, money_format
from metering.models import TokenPack
from metering.wallets.services import MAX_TOKENS, TokenPackUnavailable, wallet_recharge_arm
from notifications.categories import Category
from notifications.services import notify
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ACTOR = "auto-recharge"
WALLET_PATH = "/wallet/"
OffReason = AutoRecharge.OffReason
Status = AutoRechargeOrder.Status
# What the payment rail records for an attempt that found no card to charge.
NO_CARD_CODE = "payment_method_missing"


class AutoRechargeInvalid(BillingError):
    code = "auto_recharge_invalid"
    status = 400


class AutoRechargeCardMissing(BillingError):
    """Auto-recharge charges the saved card: it cannot be turned on without one (or without card payments)."""

    code = "auto_recharge_card_missing"
    status = 409


@dataclass(frozen=True)
class AutoRechargeSaved:
    setting: AutoRecharge
    # A recharge started on saving: the balance was below the threshold already.
    order: AutoRechargeOrder | None


# --- Turning it on and off ------------------------------------------------------------------------------------

def auto_recharge_save(*, tenant: Tenant, enabled: bool, threshold: int, pack: TokenPack, actor: str,
                       now: datetime) -> AutoRechargeSaved:
    """Turn the tenant's auto-recharge on or off, with its threshold (tokens) and pack.

    On needs card payments and a saved default card (AutoRechargeCardMissing, and nothing saved, otherwise); the
    pack must be on sale and the threshold from 1 to MAX_TOKENS (AutoRechargeInvalid). Turning it on while the
    balance is below the threshold starts a recharge at once: the tenant asked for it now, and at a balance of 0
    no debit would ever succeed to ask for it. A recharge in flight keeps flying either way (turning auto-recharge
    off does not cancel it: cancelling its order on the Wallet page does); the wallet is armed when it settles."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= MAX_TOKENS:
        raise AutoRechargeInvalid(f"The threshold is a number of tokens from 1 to {MAX_TOKENS:,}.", field="threshold")
    if not TokenPack.objects.filter(pk=pack.pk, active=True).exists():
        raise AutoRechargeInvalid("This token pack is no longer offered.", field="pack")
    if enabled:
        _card_check(tenant)
    with transaction.atomic():
        setting = _setting_locked(tenant, pack=pack, threshold=threshold, now=now)
        setting.enabled, setting.threshold, setting.pack = enabled, threshold, pack
        setting.off_reason = "" if enabled else OffReason.TURNED_OFF
        setting.off_detail, setting.changed_by, setting.changed_at = "", actor[:255], now
        setting.save()
        in_flight = _in_flight(tenant.pk)
        armed = enabled and in_flight is None
        balance = wallet_recharge_arm(tenant=tenant, below=threshold if armed else None)
        order = _recharge_order(setting, balance=balance, now=now) if armed and balance < threshold else None
    logger.info("auto_recharge_saved tenant=%s enabled=%s threshold=%s pack=%s actor=%s started=%s", tenant.pk,
                enabled, threshold, pack.code, actor, order.pk if order else None)
    return AutoRechargeSaved(setting=setting, order=order)


def _card_check(tenant: Tenant) -> None:
    """Refuse to turn auto-recharge on without card payments or without a saved default card (asked of Stripe:
    the card may have been removed in Stripe's portal)."""
    if not stripe_api.stripe_enabled():
        raise AutoRechargeCardMissing("Auto-recharge charges a saved card, and card payments are not available "
                                      "here: order token packs on this page instead.", field="enabled")
    customer = stripe_customer_ensure(tenant=tenant)
    if stripe_api.customer_retrieve(customer.id).default_payment_method_id is None:
        raise AutoRechargeCardMissing("Save a card first (on the Billing page): auto-recharge charges your saved "
                                      "card, and there is none.", field="enabled")


def _setting_locked(tenant: Tenant, *, pack: TokenPack, threshold: int, now: datetime) -> AutoRecharge:
    """The tenant's setting, its row locked (created off if it has none; get_or_create survives two saves
    racing to create it)."""
    AutoRecharge.objects.get_or_create(tenant=tenant, defaults={"threshold": threshold, "pack": pack,
                                                                "changed_at": now})
    return AutoRecharge.objects.select_for_update().select_related("tenant", "pack").get(tenant=tenant)


# --- A recharge -----------------------------------------------------------------------------------------------

def auto_recharge_start(*, tenant_id: int, now: datetime) -> AutoRechargeOrder | None:
    """The balance fell below the armed threshold (wallet_balance_fell): order and charge one recharge, and return
    its order. None, and nothing ordered, when auto-recharge was turned off meanwhile, a recharge is in flight
    (concurrent debits that crossed together: the first one's), or the balance is back at or above the
    threshold (a credit came first)."""
    with transaction.atomic():
        setting = (AutoRecharge.objects.select_for_update().select_related("tenant", "pack")
                   .filter(tenant_id=tenant_id).first())
        if setting is None or not setting.enabled:
            # Armed by a save that was rolled back, or turned off since: nothing asks again until it is turned on.
            wallet_recharge_arm(tenant=Tenant.objects.get(pk=tenant_id), below=None)
            return None
        if _in_flight(tenant_id) is not None:
            return None
        balance = wallet_recharge_arm(tenant=setting.tenant, below=None)
        if balance >= setting.threshold:
            wallet_recharge_arm(tenant=setting.tenant, below=setting.threshold)
            return None
        return _recharge_order(setting, balance=balance, now=now)


def _recharge_order(setting: AutoRecharge, *, balance: int, now: datetime) -> AutoRechargeOrder | None:
    """Order the pack on an invoice collected by Stripe, under the setting's lock with the wallet disarmed, and
    record the recharge. Turns auto-recharge off (and returns None) when it cannot be ordered."""
    if not stripe_api.stripe_enabled():
        _turn_off(setting, reason=OffReason.STRIPE_OFF, detail="", now=now)
        return None
    try:
        placed = token_pack_purchase(tenant=setting.tenant, pack=setting.pack, actor=ACTOR, now=now,
                                     collection_method=STRIPE_COLLECTION)
    except (TokenPackUnavailable, BilledThroughPayer) as error:
        _turn_off(setting, reason=OffReason.PACK_UNAVAILABLE, detail=error.message, now=now)
        return None
    invoice = placed.invoice
    if invoice.collection_method != STRIPE_COLLECTION:
        # token_pack_purchase gave back the tenant's own order of this pack, which awaits payment by hand: a
        # second order of one pack cannot be open at once, and charging that one is not what the tenant chose.
        _turn_off(setting, reason=OffReason.ORDER_AWAITING_PAYMENT, now=now,
                  detail=f"Order #{placed.purchase.pk} (invoice {invoice.number}) awaits payment.")
        return None
    paid = invoice.status == Invoice.Status.PAID  # the account credit covered it: no charge
    order = AutoRechargeOrder.objects.create(
        tenant=setting.tenant, purchase=placed.purchase, invoice=invoice,
        status=Status.PAID if paid else Status.PENDING, balance_at_start=balance, threshold=setting.threshold,
        created_at=now, settled_at=now if paid else None)
    if paid:
        wallet_recharge_arm(tenant=setting.tenant, below=setting.threshold)
    logger.info("auto_recharge_started tenant=%s order=%s invoice=%s balance=%s threshold=%s paid_by_credit=%s",
                setting.tenant_id, order.pk, invoice.number, balance, setting.threshold, paid)
    return order


def auto_recharge_invoice_settle(*, invoice: Invoice, now: datetime) -> AutoRechargeOrder | None:
    """Settle the recharge `invoice` sells, inside the transaction that saved it paid (the tokens are credited in
    it too) or void, and arm the wallet again if auto-recharge is still on. Nothing for any other invoice.

    The setting is read, not locked: this runs under the wallet's row lock (the credit took it), and every other
    path locks the setting first, then the wallet. A setting changed meanwhile arms at worst a stale threshold,
    which the next auto_recharge_start (under the lock) puts right."""
    if invoice.status not in (Invoice.Status.PAID, Invoice.Status.VOID):
        return None
    order = AutoRechargeOrder.objects.select_for_update().filter(invoice_id=invoice.pk, status=Status.PENDING).first()
    if order is None:
        return None
    order.status = Status.PAID if invoice.status == Invoice.Status.PAID else Status.FAILED
    order.settled_at = now
    order.save(update_fields=["status", "settled_at"])
    setting = AutoRecharge.objects.filter(tenant_id=order.tenant_id).first()
    if setting is not None and setting.enabled:
        wallet_recharge_arm(tenant=invoice.tenant, below=setting.threshold)
    logger.info("auto_recharge_settled tenant=%s order=%s invoice=%s status=%s", order.tenant_id, order.pk,
                invoice.number, order.status)
    return order


# --- Failures -------------------------------------------------------------------------------------------------

def auto_recharge_payment_failed(*, payment: Payment, now: datetime) -> AutoRechargeOrder | None:
    """A recharge's charge was declined or found no card: turn auto-recharge off, tell the owners and billing
    members once, and void the invoice (which settles the recharge as failed). None for a payment of any other
    invoice. A second report of the same failure changes nothing."""
    with transaction.atomic():
        locked = _order_failing(payment)
        if locked is None:
            return None
        setting, order = locked
        order.failure_code = (payment.failure_code or "card_declined")[:100]
        order.failure_message = payment.failure_message[:500]
        order.save(update_fields=["failure_code", "failure_message"])
        reason = OffReason.NO_CARD if payment.failure_code == NO_CARD_CODE else OffReason.CARD_DECLINED
        _turn_off(setting, reason=reason, detail=payment.failure_message, now=now, order=order)
    # Its own transaction, after the setting's: voiding locks the invoice, then the wallet (see the settle).
    try:
        token_pack_purchase_cancel(purchase=order.purchase, actor=ACTOR, now=now)
    except DomainError as error:  # paid or voided meanwhile (a payment on another page): nothing to void
        logger.info("auto_recharge_void_skipped order=%s reason=%s", order.pk, error.code)
    return order


def auto_recharge_action_required(*, payment: Payment, now: datetime) -> AutoRechargeOrder | None:
    """The bank wants the cardholder to confirm a recharge's payment: turn auto-recharge off and tell the owners
    and billing members once, with the hosted page where they confirm it (the invoice stays open: paying it there
    credits the tokens). None for a payment of any other invoice."""
    with transaction.atomic():
        locked = _order_failing(payment)
        if locked is None:
            return None
        setting, order = locked
        order.action_url = payment.action_url
        order.failure_code = (payment.failure_code or stripe_api.AUTHENTICATION_REQUIRED)[:100]
        order.failure_message = payment.failure_message[:500]
        order.save(update_fields=["action_url", "failure_code", "failure_message"])
        _turn_off(setting, reason=OffReason.ACTION_REQUIRED, detail=payment.failure_message, now=now, order=order)
    return order


def _order_failing(payment: Payment) -> tuple[AutoRecharge, AutoRechargeOrder] | None:
    """The setting and the pending recharge that `payment` failed to pay, locked in the one order every path
    takes (the setting, the wallet, the recharge); None if the payment is not a recharge's, or if its failure was
    recorded already."""
    seen = AutoRechargeOrder.objects.filter(invoice_id=payment.invoice_id, status=Status.PENDING).first()
    if seen is None:
        return None
    setting = AutoRecharge.objects.select_for_update().select_related("tenant", "pack").get(tenant_id=seen.tenant_id)
    wallet_recharge_arm(tenant=setting.tenant, below=None)  # the wallet's lock, before the recharge's
    order = (AutoRechargeOrder.objects.select_for_update(of=("self",)).select_related("purchase", "invoice")
             .filter(pk=seen.pk, status=Status.PENDING).first())
    if order is None or order.failure_code:
        _arm(setting)  # settled meanwhile: the wallet is as the settlement left it
        return None
    return setting, order


def _turn_off(setting: AutoRecharge, *, reason: str, detail: str, now: datetime,
              order: AutoRechargeOrder | None = None) -> None:
    """Turn a locked setting off for `reason`, disarm the wallet, and tell the owners and billing members once."""
    setting.enabled, setting.off_reason, setting.off_detail = False, reason, detail[:500]
    setting.changed_by, setting.changed_at = ACTOR, now
    setting.save()
    wallet_recharge_arm(tenant=setting.tenant, below=None)
    _off_notify(setting, order=order, now=now)
    logger.warning("auto_recharge_turned_off tenant=%s reason=%s order=%s", setting.tenant_id, reason,
                   order.pk if order else None)


def _off_notify(setting: AutoRecharge, *, order: AutoRechargeOrder | None, now: datetime) -> None:
    tenant, pack = setting.tenant, setting.pack
    what = f"the {pack.name} ({pack.tokens:,} tokens)"
    again = "Turn auto-recharge on again on the Wallet page"
    if order is not None:
        amount = money_format(Money(order.invoice.amount_due, order.invoice.currency))
        what = f"{amount} for {what}, invoice {order.invoice.number}"
    if setting.off_reason == OffReason.ACTION_REQUIRED:
        category = Category.ACTION_REQUIRED
        title = f"{tenant.name}: confirm your AI-token recharge"
        body = (f"Your bank asks you to confirm the payment of {what}: {order.action_url} . The tokens are added "
                f"once it is paid (or cancel the order on the Wallet page). Auto-recharge is off: {again.lower()} "
                "when you want it back.")
    else:
        category = Category.PAYMENT_FAILED
        title = f"{tenant.name}: auto-recharge is off"
        because = {
            OffReason.CARD_DECLINED: f"Your card was declined ({setting.off_detail or 'no reason given'}) for {what}, "
                                     "so the invoice was voided and no tokens were added.",
            OffReason.NO_CARD: f"There was no saved card to charge {what}, so the invoice was voided and no tokens "
                               "were added.",
            OffReason.PACK_UNAVAILABLE: f"{what[0].upper()}{what[1:]} is no longer offered.",
            OffReason.ORDER_AWAITING_PAYMENT: f"{setting.off_detail} Pay or cancel it: a second order of {what} "
                                              "cannot be open at the same time.",
            OffReason.STRIPE_OFF: "Card payments are not available any more.",
        }[setting.off_reason]
        body = (f"Your AI-token balance fell below {setting.threshold:,} tokens and could not be recharged. "
                f"{because} {again} once this is fixed.")
    cause = f"auto_recharge:{order.pk}" if order is not None else f"auto_recharge_off:{setting.pk}:{now.isoformat()}"
    notify(tenant=tenant, category=category, cause=cause, title=title, body=body, link=WALLET_PATH, now=now)


def _arm(setting: AutoRecharge) -> None:
    """Arm the wallet at the setting's threshold if it is on and nothing is in flight, else disarm it."""
    armed = setting.enabled and _in_flight(setting.tenant_id) is None
    wallet_recharge_arm(tenant=setting.tenant, below=setting.threshold if armed else None)


def _in_flight(tenant_id: int) -> AutoRechargeOrder | None:
    return AutoRechargeOrder.objects.filter(tenant_id=tenant_id, status=Status.PENDING).first()
