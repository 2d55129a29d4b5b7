"""Writes of reseller mode (consolidated billing): starting and ending a client's arrangement with its payer, the
payers' consolidated invoices, and what the payer's invoice being paid or voided does to the client invoices it
carries.

The client's invoices are finalised as consolidated by invoicing itself (billing.invoicing.services asks
billing.consolidation.selectors.invoice_collection_for), whichever path issued them. Here, once a calendar month
(UTC) has closed, each payer gets one invoice per currency and month carrying the consolidated client invoices
finalised in that month and not carried yet: one line per client invoice at wholesale, i.e. the client invoice's
amount before tax (after its discounts) less the arrangement's wholesale_discount_percent, rounded once per line
to the currency's minor units, half away from zero (config.money.money_round). Tax is the payer's, as on any
invoice, and the invoice is finalised and collected from the payer like any other (its subscription's collection
method, the draft period, dunning, past due).

Exactly once: a client invoice is carried by setting its `consolidated_into`, only where it is empty, in the
transaction that writes the payer's invoice, under the row locks of the payer (one run per payer at a time) and of
the client invoices; anything carried meanwhile rolls the whole payer invoice back. A rerun finds nothing to carry.
The discount is the arrangement's (the row the client invoice was finalised under) when the invoice is carried.

Settlement: the payer's invoice paid marks the client invoices it carries paid (through consolidation: no
amount paid by the client, no invoice_paid, so no email, commission or reward); voided, they are released and the
next run carries them onto a new invoice. Both happen in the transaction that saves the payer's invoice (the
receivers in billing.consolidation.receivers), like token packs: no crash in between can part them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models.functions import TruncMonth

from billing.consolidation.errors import ConsolidatedBillingInvalid
from billing.consolidation.selectors import CONSOLIDATED_COLLECTION
from billing.errors import BillingError
from billing.invoicing.drafting import DraftLine, InvoiceDraft, invoice_create
from billing.invoicing.services import invoice_finalize
from billing.invoicing.tax import tax_decide
from billing.invoicing.totals import invoice_totals_compute
from billing.models import CURRENT_STATUSES, BillingProfile, ConsolidatedBilling, Invoice, InvoiceLine, Subscription
from config.money import Money, money_round
from metering.usage.selectors import month_bounds
from tenants.models import Tenant

logger = logging.getLogger(__name__)

HUNDRED = Decimal(100)
Status = Invoice.Status


# --- Arrangements ---------------------------------------------------------------------------------------------

@transaction.atomic
def consolidated_billing_start(*, client: Tenant, payer: Tenant, wholesale_discount_percent: Decimal,
                               now: datetime) -> ConsolidatedBilling:
    """Bill the client through `payer` from now on, at `wholesale_discount_percent` off its invoices; return the
    current arrangement. Idempotent: a current arrangement with this payer gets the discount and is returned;
    one with another payer is ended first (the invoices finalised under it stay that payer's to be billed).

    Refused (ConsolidatedBillingInvalid): a tenant paying for itself, a payer billed through this client (a
    loop), a discount outside 0-100 %."""
    if client.pk == payer.pk:
        raise ConsolidatedBillingInvalid("A tenant cannot be billed through itself.", field="payer")
    percent = Decimal(wholesale_discount_percent)
    if not Decimal(0) <= percent <= HUNDRED:
        raise ConsolidatedBillingInvalid("The wholesale discount is a percentage between 0 and 100.",
                                         field="wholesale_discount_percent")
    # The client's row lock: two starts (or a start and an end) for one client act one after the other.
    Tenant.objects.select_for_update().only("pk").get(pk=client.pk)
    if ConsolidatedBilling.objects.filter(client=payer, payer=client, ended_at__isnull=True).exists():
        raise ConsolidatedBillingInvalid(f"{payer.name} is billed through {client.name}: one cannot pay for the "
                                         "other both ways.", field="payer")
    current = ConsolidatedBilling.objects.filter(client=client, ended_at__isnull=True).first()
    if current is not None and current.payer_id == payer.pk:
        if current.wholesale_discount_percent != percent:
            current.wholesale_discount_percent = percent
            current.save(update_fields=["wholesale_discount_percent"])
        return current
    if current is not None:
        _end(current, now=now)
    arrangement = ConsolidatedBilling.objects.create(client=client, payer=payer, wholesale_discount_percent=percent,
                                                     started_at=now)
    logger.info("consolidated_billing_started client=%s payer=%s discount=%s", client.pk, payer.pk, percent)
    return arrangement


@transaction.atomic
def consolidated_billing_end(*, client: Tenant, now: datetime,
                             payer: Tenant | None = None) -> ConsolidatedBilling | None:
    """Bill the client directly again from now on; return the arrangement ended, or None when it had none (with
    `payer`: none through that payer). Its consolidated invoices so far are still carried to the arrangement's
    payer."""
    Tenant.objects.select_for_update().only("pk").get(pk=client.pk)
    current = ConsolidatedBilling.objects.filter(client=client, ended_at__isnull=True).first()
    if current is None or (payer is not None and current.payer_id != payer.pk):
        return None
    _end(current, now=now)
    return current


def consolidated_billing_discount_set(*, payer: Tenant, wholesale_discount_percent: Decimal) -> int:
    """The payer's new wholesale discount on its current arrangements (client invoices not carried yet are
    carried at it); returns how many changed."""
    percent = Decimal(wholesale_discount_percent)
    if not Decimal(0) <= percent <= HUNDRED:
        raise ConsolidatedBillingInvalid("The wholesale discount is a percentage between 0 and 100.",
                                         field="wholesale_discount_percent")
    return (ConsolidatedBilling.objects.filter(payer=payer, ended_at__isnull=True)
            .exclude(wholesale_discount_percent=percent).update(wholesale_discount_percent=percent))


def _end(arrangement: ConsolidatedBilling, *, now: datetime) -> None:
    arrangement.ended_at = now
    arrangement.save(update_fields=["ended_at"])
    logger.info("consolidated_billing_ended client=%s payer=%s", arrangement.client_id, arrangement.payer_id)


# --- The payers' consolidated invoices ------------------------------------------------------------------------

@dataclass
class ConsolidationRunResult:
    invoices_created: int = 0
    invoices_carried: int = 0
    # (payer id, currency, month) groups that failed (logged); the next run retries them.
    failed: list[tuple[int, str, str]] = field(default_factory=list)


def consolidated_invoices_issue(*, now: datetime) -> ConsolidationRunResult:
    """Issue, for every payer, currency and closed calendar month (UTC, before the month of `now`), one invoice
    carrying the consolidated client invoices finalised in that month and not carried yet (see the module
    docstring). Safe to run again and at the same time as another run: each group is written in its own
    transaction under the payer's lock, and a rerun creates nothing."""
    result = ConsolidationRunResult()
    closed_before, _ = month_bounds(now)
    groups = (Invoice.objects.filter(collection_method=CONSOLIDATED_COLLECTION, consolidated_into__isnull=True,
                                     status=Status.OPEN, issued_at__lt=closed_before)
              .annotate(month=TruncMonth("issued_at", tzinfo=UTC))
              .values_list("consolidated_billing__payer_id", "currency", "month").distinct()
              .order_by("consolidated_billing__payer_id", "currency", "month"))
    for payer_id, currency, month in list(groups):
        try:
            invoice, carried = _payer_invoice_issue(payer_id=payer_id, currency=currency, month=month, now=now)
        except Exception:
            logger.exception("consolidated_invoice_failed payer=%s currency=%s month=%s", payer_id, currency,
                             month.date().isoformat())
            result.failed.append((payer_id, currency, month.date().isoformat()))
            continue
        if invoice is not None:
            result.invoices_created += 1
            result.invoices_carried += carried
    logger.info("consolidated_invoices_issue now=%s created=%s carried=%s failed=%s", now.isoformat(),
                result.invoices_created, result.invoices_carried, len(result.failed))
    return result


def _payer_invoice_issue(*, payer_id: int, currency: str, month: datetime,
                         now: datetime) -> tuple[Invoice | None, int]:
    """One payer's invoice for one currency and month, with the client invoices it carries; (None, 0) when
    another run carried them first."""
    start, end = month_bounds(month)
    with transaction.atomic():
        payer = Tenant.objects.select_for_update().get(pk=payer_id)
        carried = list(Invoice.objects.select_for_update(of=("self",))
                       .select_related("tenant", "consolidated_billing")
                       .filter(collection_method=CONSOLIDATED_COLLECTION, consolidated_billing__payer_id=payer.pk,
                               currency=currency, consolidated_into__isnull=True, status=Status.OPEN,
                               issued_at__gte=start, issued_at__lt=end)
                       .order_by("issued_at", "pk"))
        if not carried:
            return None, 0
        draft = consolidated_invoice_draft(payer=payer, currency=currency, start=start, end=end, carried=carried)
        subscription = (Subscription.objects.filter(tenant=payer, status__in=CURRENT_STATUSES,
                                                    price__currency=currency).first())
        invoice = invoice_create(tenant=payer, subscription=subscription, draft=draft,
                                 billing_reason=Invoice.Reason.CONSOLIDATED, now=now, opens_period=False)
        taken = (Invoice.objects.filter(pk__in=[client_invoice.pk for client_invoice in carried],
                                        consolidated_into__isnull=True)
                 .update(consolidated_into=invoice))
        if taken != len(carried):
            raise BillingError("Some client invoices were carried by another invoice meanwhile.",
                               details={"payer": payer.pk, "expected": len(carried), "taken": taken})
        # Finalised once it carries them (invoice_issue's rule: now, unless there is a draft period): paid at
        # once (the payer's account credit covers it, or nothing is due), it settles them as it is saved.
        if invoice.finalize_after <= now:
            invoice = invoice_finalize(invoice=invoice, now=now)
    logger.info("consolidated_invoice_issued payer=%s invoice=%s currency=%s month=%s carried=%s total=%s",
                payer.pk, invoice.pk, currency, start.date().isoformat(), len(carried), invoice.total)
    return invoice, len(carried)


def consolidated_invoice_draft(*, payer: Tenant, currency: str, start: datetime, end: datetime,
                               carried: list[Invoice]) -> InvoiceDraft:
    """The payer's invoice for `carried` (client invoices in `currency`): a wholesale line each (the module
    docstring's rule), the payer's tax, no coupon."""
    lines = [_wholesale_line(client_invoice) for client_invoice in carried]
    tax = tax_decide(profile=BillingProfile.objects.filter(tenant=payer).first())
    unsaved = Invoice(currency=currency, tax_percentage=tax.percentage, tax_inclusive=tax.inclusive)
    totals = invoice_totals_compute(invoice=unsaved, lines=[
        InvoiceLine(kind=line.kind, amount=line.amount, taxable=line.taxable) for line in lines])
    return InvoiceDraft(tenant=payer, subscription=None, currency=currency, period_start=start, period_end=end,
                        tax=tax, lines=lines, totals=totals)


def wholesale_amount(*, client_invoice: Invoice, discount_percent: Decimal) -> tuple[Decimal, Decimal]:
    """(exact, rounded) wholesale amount of a client invoice: its amount before tax, after its discounts, less
    `discount_percent`; rounded once to the currency's minor units, half away from zero."""
    before_tax = client_invoice.total - client_invoice.tax_total
    exact = before_tax * (HUNDRED - discount_percent) / HUNDRED
    return exact, money_round(Money(exact, client_invoice.currency)).amount


def _wholesale_line(client_invoice: Invoice) -> DraftLine:
    discount = client_invoice.consolidated_billing.wholesale_discount_percent
    exact, rounded = wholesale_amount(client_invoice=client_invoice, discount_percent=discount)
    before_tax = client_invoice.total - client_invoice.tax_total
    period = (f", {client_invoice.period_start:%-d %b %Y} – {client_invoice.period_end:%-d %b %Y}"
              if client_invoice.period_start and client_invoice.period_end else "")
    return DraftLine(
        kind=InvoiceLine.Kind.CONSOLIDATED, amount_exact=exact, amount=rounded, unit_amount=before_tax,
        description=f"{client_invoice.tenant.name}: invoice {client_invoice.number}{period} "
                    f"({_plain(discount)} % wholesale discount)",
        period_start=client_invoice.period_start, period_end=client_invoice.period_end,
        source_invoice_id=client_invoice.pk,
        breakdown=[{"kind": "list", "client": client_invoice.tenant.slug, "invoice": client_invoice.number,
                    "amount": _plain(before_tax)},
                   {"kind": "wholesale_discount", "percent": _plain(discount)}])


def _plain(value: Decimal) -> str:
    return format(value.normalize() if value else Decimal(0), "f")


# --- Settlement of the carried client invoices ----------------------------------------------------------------

def carried_invoices_settle(*, payer_invoice: Invoice) -> int:
    """The payer's consolidated invoice was saved paid or void, inside that transaction: paid marks the client
    invoices it carries paid (through consolidation: the client paid nothing, amount_paid stays 0, and no
    invoice_paid is sent); void releases them, to be carried by the next run. Returns how many changed; nothing
    for any other invoice."""
    if payer_invoice.billing_reason != Invoice.Reason.CONSOLIDATED:
        return 0
    carried = Invoice.objects.filter(consolidated_into_id=payer_invoice.pk,
                                     status__in=(Status.OPEN, Status.UNCOLLECTIBLE))
    if payer_invoice.status == Status.PAID:
        changed = carried.update(status=Status.PAID, paid_at=payer_invoice.paid_at)
    elif payer_invoice.status == Status.VOID:
        changed = carried.update(consolidated_into=None)
    else:
        return 0
    if changed:
        logger.info("consolidated_invoices_settled payer_invoice=%s status=%s client_invoices=%s",
                    payer_invoice.pk, payer_invoice.status, changed)
    return changed
