"""Writes on invoices and credit notes: finalising a draft, settling it (paid, void, uncollectible), the lines ops
may change during the draft period, and credit notes.

Every service locks the invoice row first and decides from the row it locked, so two operators (or the billing
run and an operator) acting on one invoice at once act one after the other, and the second sees what the first
did. Once an invoice is finalised, only its settlement may change; migration 0004's triggers refuse anything
else whatever the code does.

Credit notes always go to the tenant's account credit, whatever the invoice's status: an open invoice still owes
its full amount due (which the trigger keeps fixed), and the credit is consumed by the tenant's next invoice.
To cancel what an open invoice asks for, ops void it instead; an invoice that has credit notes cannot be voided
(the tenant would keep the credit and owe nothing)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing.consolidation.selectors import (
    CONSOLIDATED_COLLECTION,
    InvoiceCollection,
    invoice_collection_for,
    invoice_collections_for,
)
from billing.errors import BillingError, CreditNoteTooLarge, InvoiceStateInvalid
from billing.invoicing.credit import account_credit_add, account_credit_apply
from billing.invoicing.events import (
    credit_note_event_send_on_commit,
    credit_note_issued,
    invoice_consolidated,
    invoice_event_send_on_commit,
    invoice_finalized,
    invoice_paid,
    invoice_voided,
)
from billing.invoicing.numbering import document_number_next, document_numbers_next
from billing.invoicing.totals import invoice_totals_apply, invoice_totals_compute
from billing.models import AccountCredit, AccountCreditEntry, BillingProfile, CreditNote, Invoice, InvoiceLine
from config.money import CurrencyMismatch, Money, money_format, money_round, money_to_api

logger = logging.getLogger(__name__)

Status = Invoice.Status
SETTLEABLE = (Status.OPEN, Status.UNCOLLECTIBLE)
CREDITABLE = (Status.OPEN, Status.PAID, Status.UNCOLLECTIBLE)


class CreditNoteAmountInvalid(BillingError):
    """A credit note's amount is not a positive amount in the invoice's currency and its minor units."""

    code = "credit_note_amount_invalid"


@transaction.atomic
def invoice_finalize(*, invoice: Invoice, now: datetime) -> Invoice:
    """Issue a draft invoice and return it as stored: totals from its lines, the next invoice number of the
    issue year, the tenant's billing details and the operator's as they are now, issue and due dates (the
    tenant's net terms, else BILLING_DEFAULT_NET_TERMS_DAYS), and the tenant's account credit applied.

    Open if anything is left to pay; paid at once when nothing is (credit covered it, or the total is zero or
    negative). A negative total (a credit outweighing the charges) adds what the tenant is owed to its account
    credit. Refused (InvoiceStateInvalid) unless the invoice is a draft, so finalising twice numbers once.
    invoice_finalized (and invoice_paid when paid at once) are sent after commit.

    The collection is decided here, for every path that issues invoices, by billing.consolidation's
    invoice_collection_for: a client billed through a payer (reseller mode) gets a consolidated invoice instead
    (_consolidated_settle), numbered in the same series, announced by invoice_consolidated alone."""
    invoice = _invoice_locked(invoice)
    if invoice.status != Status.DRAFT:
        raise InvoiceStateInvalid(f"Invoice {invoice} is already finalised.", details={"status": invoice.status})
    totals = invoice_totals_compute(invoice=invoice)
    invoice.subtotal, invoice.discount_total = totals.subtotal, totals.discount_total
    invoice.tax_total, invoice.total = totals.tax_total, totals.total
    profile = BillingProfile.objects.filter(tenant_id=invoice.tenant_id).first()
    invoice.customer = _customer_snapshot(invoice, profile)
    invoice.issuer = dict(settings.BILLING_ISSUER)
    invoice.issued_at = now
    collection = invoice_collection_for(tenant=invoice.tenant_id, method=invoice.collection_method)
    net_terms = profile.net_terms_days if profile else settings.BILLING_DEFAULT_NET_TERMS_DAYS
    invoice.due_at = now + timedelta(days=net_terms)
    # As late as possible: the series stays locked until this transaction commits.
    invoice.number = document_number_next(series=settings.BILLING_INVOICE_SERIES, year=now.year)
    if collection.consolidated:
        _consolidated_settle(invoice, collection)
    else:
        if invoice.total < 0:
            account_credit_add(tenant=invoice.tenant, amount=Money(-invoice.total, invoice.currency),
                               kind=AccountCreditEntry.Kind.ADJUSTMENT,
                               description=f"Credit from invoice {invoice.number}", actor="system", now=now,
                               invoice=invoice)
        invoice.credit_applied = account_credit_apply(invoice=invoice, now=now)
        invoice.amount_due = max(invoice.total - invoice.credit_applied, Decimal(0))
        if invoice.amount_due == 0:
            invoice.status, invoice.paid_at = Status.PAID, now
        else:
            invoice.status = Status.OPEN
    invoice.save()
    logger.info("invoice_finalized invoice=%s number=%s tenant=%s total=%s credit_applied=%s amount_due=%s "
                "collection=%s", invoice.pk, invoice.number, invoice.tenant_id, invoice.total,
                invoice.credit_applied, invoice.amount_due, invoice.collection_method)
    _finalized_events_send(invoice)
    return invoice


def _consolidated_settle(invoice: Invoice, collection: InvoiceCollection) -> None:
    """A client invoice billed through its payer (billing.consolidation): open, with no due date (never past
    due, never dunned, never charged), nothing of the client's account credit taken and none given for a
    negative total: the payer's consolidated invoice carries the whole amount, a credit included, and is what
    gets paid. Settled (paid) when the payer's invoice is."""
    invoice.collection_method = collection.method
    invoice.consolidated_billing = collection.consolidated_billing
    invoice.due_at = None
    invoice.credit_applied = Decimal(0)
    invoice.amount_due = max(invoice.total, Decimal(0))
    invoice.status = Status.OPEN


def _finalized_events_send(invoice: Invoice) -> None:
    """After commit: invoice_finalized (and invoice_paid when paid at once); for a consolidated client invoice,
    invoice_consolidated instead, so no receiver of a finalised invoice (its email, its charge) acts on it."""
    if invoice.collection_method == CONSOLIDATED_COLLECTION:
        invoice_event_send_on_commit(invoice_consolidated, invoice=invoice)
        return
    invoice_event_send_on_commit(invoice_finalized, invoice=invoice)
    if invoice.status == Status.PAID:
        invoice_event_send_on_commit(invoice_paid, invoice=invoice)


# The batch's finalisation in one statement: each draft's own number, customer, due date and settlement.
FINALIZE_MANY_SQL = """
UPDATE billing_invoice AS invoice
   SET number = batch.number, status = batch.status, customer = batch.customer, issuer = %(issuer)s::jsonb,
       issued_at = %(now)s, due_at = batch.due_at, credit_applied = batch.credit_applied,
       amount_due = batch.amount_due, paid_at = batch.paid_at, collection_method = batch.collection_method,
       consolidated_billing_id = batch.consolidated_billing_id, updated_at = %(updated_at)s
  FROM unnest(%(ids)s::bigint[], %(numbers)s::text[], %(statuses)s::text[], %(customers)s::jsonb[],
              %(due_at)s::timestamptz[], %(credit_applied)s::numeric[], %(amount_due)s::numeric[],
              %(paid_at)s::timestamptz[], %(collection_methods)s::text[], %(consolidated_billings)s::bigint[])
       AS batch(id, number, status, customer, due_at, credit_applied, amount_due, paid_at, collection_method,
                consolidated_billing_id)
 WHERE invoice.id = batch.id AND invoice.status = 'draft'
"""


def invoices_finalize_new(*, invoices: list[Invoice], now: datetime) -> list[Invoice]:
    """invoice_finalize for a batch of drafts the caller's transaction has just written (the billing run's chunk)
    and holds: for each, the same number, snapshots, dates, credit and status as invoice_finalize would give it,
    in a few statements for the whole batch instead of a dozen per invoice. Numbers are taken in the list's
    order in one step (document_numbers_next), under the same lock, so they stay gapless with the transaction.

    Only for drafts written by this transaction from their lines' totals (billing.invoicing.drafting does
    both): nobody else can hold them, and their totals need no recomputing. A tenant holding account credit in
    the invoice's currency, and a negative total, go through account_credit_apply / account_credit_add as in
    invoice_finalize. Signals are sent after commit, per invoice."""
    if not invoices:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("invoices_finalize_new must run inside the transaction that wrote the drafts.")
    tenant_ids = {invoice.tenant_id for invoice in invoices}
    profiles = {profile.tenant_id: profile for profile in BillingProfile.objects.filter(tenant_id__in=tenant_ids)}
    with_credit = set(AccountCredit.objects.filter(tenant_id__in=tenant_ids, balance__gt=0)
                      .values_list("tenant_id", "currency"))
    issuer = dict(settings.BILLING_ISSUER)
    collections = invoice_collections_for(invoices=invoices)
    numbers = document_numbers_next(series=settings.BILLING_INVOICE_SERIES, year=now.year, count=len(invoices))
    for invoice, number in zip(invoices, numbers, strict=True):
        profile = profiles.get(invoice.tenant_id)
        invoice.customer = _customer_snapshot(invoice, profile)
        invoice.issuer = issuer
        invoice.issued_at = now
        net_terms = profile.net_terms_days if profile else settings.BILLING_DEFAULT_NET_TERMS_DAYS
        invoice.due_at = now + timedelta(days=net_terms)
        invoice.number = number
        if collections[invoice.pk].consolidated:
            _consolidated_settle(invoice, collections[invoice.pk])
            continue
        if invoice.total < 0:
            account_credit_add(tenant=invoice.tenant, amount=Money(-invoice.total, invoice.currency),
                               kind=AccountCreditEntry.Kind.ADJUSTMENT,
                               description=f"Credit from invoice {invoice.number}", actor="system", now=now,
                               invoice=invoice)
            with_credit.add((invoice.tenant_id, invoice.currency))
        if (invoice.tenant_id, invoice.currency) in with_credit:
            invoice.credit_applied = account_credit_apply(invoice=invoice, now=now)
        invoice.amount_due = max(invoice.total - invoice.credit_applied, Decimal(0))
        if invoice.amount_due == 0:
            invoice.status, invoice.paid_at = Status.PAID, now
        else:
            invoice.status = Status.OPEN
    updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(FINALIZE_MANY_SQL, {
            "issuer": json.dumps(issuer), "now": now, "updated_at": updated_at,
            "ids": [invoice.pk for invoice in invoices], "numbers": [invoice.number for invoice in invoices],
            "statuses": [invoice.status for invoice in invoices],
            "customers": [json.dumps(invoice.customer) for invoice in invoices],
            "due_at": [invoice.due_at for invoice in invoices],
            # Decimal throughout: psycopg refuses a list mixing int (a default 0) and Decimal.
            "credit_applied": [Decimal(invoice.credit_applied) for invoice in invoices],
            "amount_due": [Decimal(invoice.amount_due) for invoice in invoices],
            "paid_at": [invoice.paid_at for invoice in invoices],
            "collection_methods": [invoice.collection_method for invoice in invoices],
            "consolidated_billings": [invoice.consolidated_billing_id for invoice in invoices]})
        if cursor.rowcount != len(invoices):
            raise InvoiceStateInvalid("Some of the batch's invoices were not drafts any more.",
                                      details={"finalised": cursor.rowcount, "batch": len(invoices)})
    for invoice in invoices:
        invoice.updated_at = updated_at
        logger.info("invoice_finalized invoice=%s number=%s tenant=%s total=%s credit_applied=%s amount_due=%s "
                    "collection=%s", invoice.pk, invoice.number, invoice.tenant_id, invoice.total,
                    invoice.credit_applied, invoice.amount_due, invoice.collection_method)
        _finalized_events_send(invoice)
    return invoices


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, actor: str, now: datetime) -> Invoice:
    """Record that an open (or uncollectible) invoice was paid in full, e.g. a bank transfer ops received.
    invoice_paid is sent after commit. Refused (InvoiceStateInvalid) in any other status, so it is paid once, and
    for a consolidated client invoice (its payer's invoice settles it)."""
    invoice = _invoice_locked(invoice)
    _status_require(invoice, SETTLEABLE, action="marked paid")
    _not_consolidated_require(invoice, action="marked paid")
    invoice.status, invoice.amount_paid, invoice.paid_at = Status.PAID, invoice.amount_due, now
    invoice.save(update_fields=["status", "amount_paid", "paid_at", "updated_at"])
    logger.info("invoice_paid invoice=%s number=%s amount=%s actor=%s", invoice.pk, invoice.number,
                invoice.amount_paid, actor)
    invoice_event_send_on_commit(invoice_paid, invoice=invoice)
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: str, now: datetime) -> Invoice:
    """Cancel an open (or uncollectible) invoice: nothing is owed on it any more, it keeps its number (numbering
    stays gapless), and the account credit it consumed goes back to the tenant. Refused (InvoiceStateInvalid)
    in any other status, and for an invoice with credit notes (their credit is already the tenant's).
    invoice_voided is sent after commit."""
    invoice = _invoice_locked(invoice)
    _status_require(invoice, SETTLEABLE, action="voided")
    if invoice.consolidated_into_id is not None:
        raise InvoiceStateInvalid(f"Invoice {invoice} is carried by its payer's consolidated invoice: void that one "
                                  "first.", details={"consolidated_into": invoice.consolidated_into_id})
    if invoice.amount_credited:
        raise InvoiceStateInvalid(f"Invoice {invoice} has credit notes and cannot be voided.",
                                  details={"amount_credited": str(invoice.amount_credited)})
    invoice.status, invoice.voided_at = Status.VOID, now
    invoice.save(update_fields=["status", "voided_at", "updated_at"])
    if invoice.credit_applied:
        account_credit_add(tenant=invoice.tenant, amount=Money(invoice.credit_applied, invoice.currency),
                           kind=AccountCreditEntry.Kind.INVOICE_VOIDED,
                           description=f"Returned from voided invoice {invoice.number}", actor=actor, now=now,
                           invoice=invoice)
    logger.info("invoice_voided invoice=%s number=%s actor=%s", invoice.pk, invoice.number, actor)
    invoice_event_send_on_commit(invoice_voided, invoice=invoice)
    return invoice


@transaction.atomic
def invoice_mark_uncollectible(*, invoice: Invoice, actor: str, now: datetime) -> Invoice:
    """Record that an open invoice will probably not be paid (it may still be paid or voided later)."""
    invoice = _invoice_locked(invoice)
    _status_require(invoice, (Status.OPEN,), action="marked uncollectible")
    invoice.status, invoice.uncollectible_at = Status.UNCOLLECTIBLE, now
    invoice.save(update_fields=["status", "uncollectible_at", "updated_at"])
    logger.info("invoice_uncollectible invoice=%s number=%s actor=%s", invoice.pk, invoice.number, actor)
    return invoice


@transaction.atomic
def draft_invoice_line_add(*, invoice: Invoice, description: str, amount: Money, actor: str) -> InvoiceLine:
    """Add a one-time line to a draft invoice during its draft period (a charge, or a negative correction) and
    recompute its totals. The amount is taken as given and rounded once to the currency's minor units.
    Refused (InvoiceStateInvalid) once the invoice is finalised; the currency must be the invoice's."""
    invoice = _invoice_locked(invoice)
    _status_require(invoice, (Status.DRAFT,), action="changed")
    if amount.currency != invoice.currency:
        raise CurrencyMismatch(f"Invoice {invoice} is in {invoice.currency}, not {amount.currency}.")
    last_sort_order = invoice.lines.aggregate(last=Max("sort_order"))["last"]
    line = InvoiceLine.objects.create(
        invoice=invoice, kind=InvoiceLine.Kind.ONE_TIME, description=description[:300], quantity=Decimal(1),
        unit_amount=amount.amount, amount_exact=amount.amount, amount=money_round(amount).amount,
        sort_order=0 if last_sort_order is None else last_sort_order + 1)
    invoice_totals_apply(invoice=invoice)
    logger.info("invoice_line_added invoice=%s line=%s amount=%s actor=%s", invoice.pk, line.pk, line.amount, actor)
    return line


@transaction.atomic
def draft_invoice_line_remove(*, line: InvoiceLine, actor: str) -> Invoice:
    """Remove a line from a draft invoice during its draft period and recompute its totals; returns the
    invoice. Refused (InvoiceStateInvalid) once the invoice is finalised."""
    invoice = _invoice_locked(line.invoice)
    _status_require(invoice, (Status.DRAFT,), action="changed")
    deleted, _ = InvoiceLine.objects.filter(pk=line.pk, invoice=invoice).delete()
    invoice_totals_apply(invoice=invoice)
    if deleted:
        logger.info("invoice_line_removed invoice=%s line=%s actor=%s", invoice.pk, line.pk, actor)
    return invoice


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, amount: Money, reason: str, memo: str, actor: str, now: datetime,
                      refund_to: str = CreditNote.RefundTo.ACCOUNT_CREDIT,
                      stripe_refund_id: str = "") -> CreditNote:
    """Credit part or all of a finalised invoice (open, paid or uncollectible) and return the credit note,
    numbered in BILLING_CREDIT_NOTE_SERIES.

    Its amount goes to the tenant's account credit, or, with `refund_to` card, back to the card that paid the
    invoice: a pending card refund is recorded with the note and Stripe is asked once this transaction commits
    (billing.payments.refunds; refused with CardRefundNotPossible when the invoice was not paid by card or the
    card has less left to give back). `stripe_refund_id` names a refund already made in Stripe's dashboard, which
    the note only records.

    The credit notes of one invoice never add up to more than its total (CreditNoteTooLarge, nothing changed);
    the amount must be positive, in the invoice's currency and its minor units. credit_note_issued is sent after
    commit."""
    # Deferred: the payment rail imports invoicing (it settles invoices), so invoicing reaches it at call time.
    from billing.payments.refunds import card_refund_open, card_refund_payment

    invoice = _invoice_locked(invoice)
    _status_require(invoice, CREDITABLE, action="credited")
    _not_consolidated_require(invoice, action="credited")
    if amount.currency != invoice.currency:
        raise CreditNoteAmountInvalid(f"Invoice {invoice} is in {invoice.currency}, not {amount.currency}.",
                                      field="amount")
    if amount.amount <= 0 or money_round(amount) != amount:
        raise CreditNoteAmountInvalid(f"A credit note is a positive amount in the currency's minor units, not "
                                      f"{amount.amount}.", field="amount")
    creditable = money_round(Money(max(invoice.total - invoice.amount_credited, Decimal(0)), invoice.currency))
    if amount > creditable:
        raise CreditNoteTooLarge(f"Invoice {invoice} can be credited {money_format(creditable)} at most.",
                                 field="amount", details={"creditable": money_to_api(creditable)})
    if reason not in CreditNote.Reason.values:
        raise ValueError(f"A credit note's reason is one of {', '.join(CreditNote.Reason.values)}, not {reason!r}.")
    if refund_to not in CreditNote.RefundTo.values:
        raise ValueError(f"A credit note goes to one of {', '.join(CreditNote.RefundTo.values)}, not {refund_to!r}.")
    to_card = refund_to == CreditNote.RefundTo.CARD
    payment = card_refund_payment(invoice=invoice, amount=amount, stripe_refund_id=stripe_refund_id) \
        if to_card else None
    credit_note = CreditNote.objects.create(
        tenant_id=invoice.tenant_id, invoice=invoice,
        number=document_number_next(series=settings.BILLING_CREDIT_NOTE_SERIES, year=now.year),
        currency=invoice.currency, amount=amount.amount, reason=reason, memo=memo, refund_to=refund_to,
        created_by=actor[:254], created_at=now)
    invoice.amount_credited += amount.amount
    invoice.save(update_fields=["amount_credited", "updated_at"])
    if to_card:
        card_refund_open(credit_note=credit_note, payment=payment, stripe_refund_id=stripe_refund_id, now=now)
    else:
        # Tied to the credit note only: one invoice may have several, and the ledger allows one entry per
        # (invoice, kind).
        account_credit_add(tenant=invoice.tenant, amount=amount, kind=AccountCreditEntry.Kind.CREDIT_NOTE,
                           description=f"Credit note {credit_note.number} for invoice {invoice.number}",
                           actor=actor, now=now, credit_note=credit_note)
    logger.info("credit_note_issued credit_note=%s invoice=%s amount=%s refund_to=%s actor=%s", credit_note.number,
                invoice.number, amount.amount, refund_to, actor)
    credit_note_event_send_on_commit(credit_note_issued, credit_note=credit_note)
    return credit_note


def _invoice_locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)


def _not_consolidated_require(invoice: Invoice, *, action: str) -> None:
    """A client invoice billed through its payer is settled and credited through the payer's consolidated
    invoice, never on its own: the client paid nothing (a credit note would give it money it never paid)."""
    if invoice.collection_method == CONSOLIDATED_COLLECTION:
        raise InvoiceStateInvalid(f"Invoice {invoice} is billed through its payer: it cannot be {action} on its own; "
                                  "its payer's consolidated invoice can.",
                                  details={"collection_method": invoice.collection_method})


def _status_require(invoice: Invoice, allowed: tuple[str, ...], *, action: str) -> None:
    if invoice.status not in allowed:
        raise InvoiceStateInvalid(f"This invoice is {invoice.get_status_display().lower()}: it cannot be {action}.",
                                  details={"status": invoice.status})


def _customer_snapshot(invoice: Invoice, profile: BillingProfile | None) -> dict[str, str | bool]:
    """Who the invoice is addressed to, frozen at issue: later edits to the profile do not rewrite it."""
    tenant = invoice.tenant
    email = (profile.email if profile else "") or tenant.billing_email or tenant.owner_email
    if profile is None:
        return {"name": tenant.name, "email": email, "address_line1": "", "address_line2": "", "city": "",
                "postal_code": "", "region": "", "country": "", "tax_id": "", "tax_exempt": False}
    return {"name": profile.legal_name or tenant.name, "email": email, "address_line1": profile.address_line1,
            "address_line2": profile.address_line2, "city": profile.city, "postal_code": profile.postal_code,
            "region": profile.region, "country": profile.country, "tax_id": profile.tax_id,
            "tax_exempt": profile.tax_exempt}
