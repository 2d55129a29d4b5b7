"""AI-token packs bought through billing. Ordering a pack writes metering's TokenPurchase and issues a one-time
invoice for its price, finalised at once; from then on the invoice decides what happens to the tokens:

- paid (by ops, by the account credit when it is issued, later by card): the tokens are credited;
- voided (the tenant cancels the order, or ops void it): the order is cancelled;
- credited (a credit note on the paid invoice): the note takes back the share of the tokens it gives the money
  back for, from the tokens that never expire; if the tenant has used them, the credit note is refused. A credit
  note on an invoice not paid yet is refused too: void it instead.

Each happens in the transaction that changes the invoice (billing.signals, on the invoice's and the credit note's
save), not after it commits (invoicing's `invoice_paid`): the payment and the tokens commit together or not at
all, so no crash in between can leave a paid invoice without its tokens. And never twice: the purchase is
credited only while pending, under its row lock, with the credit's idempotency key (purchase:<id>) behind that."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum

from billing.consolidation.selectors import purchase_allowed_check
from billing.errors import BillingError
from billing.invoicing.drafting import invoice_create, one_time_invoice_draft
from billing.invoicing.services import invoice_finalize, invoice_void
from billing.models import CreditNote, Invoice, InvoiceLine
from config.money import Money
from metering.models import TokenPack, TokenPurchase
from metering.wallets.selectors import token_purchase_of_invoice
from metering.wallets.services import (
    InsufficientBalance,
    token_purchase_cancel,
    token_purchase_create,
    token_purchase_invoice_link,
    token_purchase_lock,
    token_purchase_mark_paid,
    token_purchase_refund,
)
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Status = Invoice.Status
MANUAL_COLLECTION = "manual"
# The author of what an invoice's settlement does to its order; who settled the invoice is in invoicing's log.
SETTLED_BY = "billing"


class TokenPackCreditRefused(BillingError):
    """A credit note on a token-pack invoice cannot be issued (see token_pack_credit_note_apply)."""

    code = "token_pack_credit_refused"
    status = 409


@dataclass(frozen=True)
class TokenPackOrder:
    purchase: TokenPurchase
    invoice: Invoice


@transaction.atomic
def token_pack_purchase(*, tenant: Tenant, pack: TokenPack, actor: str, now: datetime,
                        collection_method: str = MANUAL_COLLECTION) -> TokenPackOrder:
    """Order `pack` for the tenant and issue its one-time invoice; return both. The invoice is finalised at once,
    whatever the draft period (the order's price is fixed, and a draft's lines could still be edited), and is
    paid at once when the tenant's account credit covers it, crediting the tokens with it. It is collected by
    `collection_method`: by hand by default, by Stripe for auto-recharge (the payment rail charges such an
    invoice off-session as soon as it is finalised).

    Ordering a pack that already awaits payment returns that order and its invoice: the purchase's row lock
    makes a double-clicked Buy wait for the first click's invoice instead of issuing a second one. An order
    placed before invoices existed gets its invoice then. Refused (BilledThroughPayer) for a tenant billed
    through its reseller (billing.consolidation): it pays its reseller, never Tollgate."""
    purchase_allowed_check(tenant=tenant)
    purchase = token_purchase_create(tenant=tenant, pack=pack, created_by=actor)
    purchase = token_purchase_lock(purchase=purchase)
    if purchase.invoice_id is not None:
        return TokenPackOrder(purchase=purchase, invoice=Invoice.objects.get(pk=purchase.invoice_id))
    draft = one_time_invoice_draft(tenant=tenant, description=f"AI tokens: {purchase.tokens:,}-token pack "
                                                              f"(order #{purchase.pk})",
                                   amount=Money(purchase.price, purchase.currency), kind=InvoiceLine.Kind.TOKEN_PACK)
    invoice = invoice_create(tenant=tenant, subscription=None, draft=draft, billing_reason=Invoice.Reason.ONE_TIME,
                             now=now)
    if collection_method != invoice.collection_method:
        # On the draft: once finalised, an invoice's collection never changes (billing 0004).
        Invoice.objects.filter(pk=invoice.pk).update(collection_method=collection_method)
        invoice.collection_method = collection_method
    # Linked before it is finalised: an invoice the account credit pays at once settles the order as it is saved.
    token_purchase_invoice_link(purchase=purchase, invoice_id=invoice.pk)
    invoice = invoice_finalize(invoice=invoice, now=now)
    logger.info("token_pack_invoiced purchase=%s invoice=%s tenant=%s status=%s", purchase.pk, invoice.number,
                tenant.pk, invoice.status)
    return TokenPackOrder(purchase=token_purchase_lock(purchase=purchase), invoice=invoice)


@transaction.atomic
def token_pack_purchase_cancel(*, purchase: TokenPurchase, actor: str, now: datetime) -> TokenPurchase:
    """Withdraw an order awaiting payment: its invoice is voided (it keeps its number; any account credit it
    used goes back), and voiding it cancels the order. An order without an invoice is cancelled as it is; an
    order that is not pending any more is refused (PurchaseNotPending), by token_purchase_cancel either way."""
    if purchase.invoice_id is None or purchase.status != TokenPurchase.Status.PENDING:
        return token_purchase_cancel(purchase=purchase, actor=actor)
    invoice_void(invoice=Invoice.objects.get(pk=purchase.invoice_id, tenant_id=purchase.tenant_id), actor=actor,
                 now=now)
    return token_purchase_lock(purchase=purchase)


def token_pack_invoice_settle(*, invoice: Invoice) -> None:
    """Settle the order `invoice` sells, inside the transaction that saved it paid or void: paid credits the
    order's tokens (token_purchase_mark_paid), void cancels it. Nothing for an invoice that sells no order, or
    whose order is settled already (the same paid invoice saved again)."""
    if invoice.status not in (Status.PAID, Status.VOID):
        return
    purchase = token_purchase_of_invoice(tenant=invoice.tenant, invoice_id=invoice.pk)
    if purchase is None or purchase.status != TokenPurchase.Status.PENDING:
        return
    if invoice.status == Status.PAID:
        token_purchase_mark_paid(purchase=purchase, actor=SETTLED_BY)
    else:
        token_purchase_cancel(purchase=purchase, actor=SETTLED_BY)
    logger.info("token_pack_settled purchase=%s invoice=%s status=%s", purchase.pk, invoice.number, invoice.status)


def token_pack_credit_note_apply(*, credit_note: CreditNote) -> None:
    """Take back the tokens a credit note on a token-pack invoice gives the money back for, inside the transaction
    that issues it: the order's tokens × the invoice's credit notes so far / its total, rounded half up, less
    what the earlier notes took back, so crediting the whole invoice (in one note or several) takes back every
    token and never more.

    Raises TokenPackCreditRefused, and the credit note is not issued, when the order is not paid (its tokens
    were never credited: void the invoice instead), or when the tenant has fewer purchased tokens left than
    the note takes back (tokens already used cannot be returned along with their money)."""
    invoice = credit_note.invoice
    purchase = token_purchase_of_invoice(tenant=invoice.tenant, invoice_id=invoice.pk)
    if purchase is None:
        return
    if purchase.status != TokenPurchase.Status.PAID:
        raise TokenPackCreditRefused(f"Invoice {invoice.number} sells AI tokens that are not paid for yet: void it "
                                     "instead of crediting it.", field="amount")
    credited = CreditNote.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"]
    tokens = (_tokens_bought_with(purchase, invoice=invoice, amount=credited)
              - _tokens_bought_with(purchase, invoice=invoice, amount=credited - credit_note.amount))
    if tokens <= 0:
        return
    try:
        token_purchase_refund(purchase=purchase, tokens=tokens, idempotency_key=f"credit-note:{credit_note.pk}",
                              reason=f"Credit note {credit_note.number} for invoice {invoice.number}: {tokens:,} "
                                     "purchased tokens taken back",
                              actor=credit_note.created_by, now=credit_note.created_at)
    except InsufficientBalance as error:
        raise TokenPackCreditRefused(
            f"This credit note would take back {tokens:,} of the AI tokens invoice {invoice.number} sold, and "
            f"{invoice.tenant.name} has {error.balance:,} purchased tokens left (the rest are used). Credit "
            "less, or only what the unused tokens are worth.", field="amount",
            details={"tokens_to_take_back": tokens, "tokens_left": error.balance}) from error


def _tokens_bought_with(purchase: TokenPurchase, *, invoice: Invoice, amount: Decimal) -> int:
    """The order's tokens that `amount` of its invoice's total paid for."""
    if invoice.total <= 0:
        return 0
    return int((purchase.tokens * amount / invoice.total).quantize(Decimal(1), rounding=ROUND_HALF_UP))
