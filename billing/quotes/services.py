"""Productized services: a tenant asks for a product with a brief, ops quote a fixed price inside the product's
range, the tenant accepts (a one-time invoice is issued at once) or declines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from billing.errors import BillingError
from billing.invoicing.drafting import invoice_issue, one_time_invoice_draft
from billing.models import BillingEmail, Product, ServiceQuote
from billing.notifications import billing_email_queue
from config.money import Money, currency_minor_units
from tenants.models import Tenant

Status = ServiceQuote.Status
BRIEF_MAX_CHARS = 5000


class QuoteStateInvalid(BillingError):
    code = "quote_state_invalid"
    status = 409


class QuoteAmountInvalid(BillingError):
    code = "quote_amount_invalid"


def service_quote_request(*, tenant: Tenant, product: Product, brief: str, actor: str, now: datetime) -> ServiceQuote:
    brief = brief.strip()
    if not product.is_active:
        raise BillingError("This service is no longer offered.", field="product")
    if not brief:
        raise BillingError("Describe what you need: the brief is what the quote is based on.", field="brief")
    if len(brief) > BRIEF_MAX_CHARS:
        raise BillingError(f"Keep the brief under {BRIEF_MAX_CHARS:,} characters.", field="brief")
    return ServiceQuote.objects.create(tenant=tenant, product=product, brief=brief, requested_by=actor,
                                       currency=product.currency, created_at=now)


@transaction.atomic
def service_quote_send(*, quote: ServiceQuote, amount: Money, note: str, valid_until: datetime | None, actor: str,
                       now: datetime) -> ServiceQuote:
    """Ops quote (or re-quote, before the tenant answers) a fixed price inside the product's range."""
    quote = _locked(quote)
    if quote.status not in (Status.REQUESTED, Status.QUOTED):
        raise QuoteStateInvalid(f"This request is {quote.get_status_display().lower()}: it cannot be quoted.")
    product = quote.product
    if amount.currency != quote.currency:
        raise QuoteAmountInvalid(f"Quote in {quote.currency}, the currency of {product.name}.", field="amount")
    if not product.min_amount <= amount.amount <= product.max_amount:
        raise QuoteAmountInvalid(
            f"{product.name} is quoted between {product.min_amount:,.2f} and {product.max_amount:,.2f} "
            f"{product.currency}.", field="amount",
            details={"min": format(product.min_amount, "f"), "max": format(product.max_amount, "f")})
    if amount.amount != amount.amount.quantize(_minor_unit(quote.currency)):
        raise QuoteAmountInvalid(f"{quote.currency} has {currency_minor_units(quote.currency)} decimal places.",
                                 field="amount")
    if valid_until is not None and valid_until <= now:
        raise QuoteAmountInvalid("A quote must be valid until a moment in the future.", field="valid_until")
    quote.status, quote.amount, quote.quote_note = Status.QUOTED, amount.amount, note.strip()
    quote.quoted_by, quote.quoted_at, quote.valid_until = actor, now, valid_until
    quote.save(update_fields=["status", "amount", "quote_note", "quoted_by", "quoted_at", "valid_until"])
    billing_email_queue(kind=BillingEmail.Kind.QUOTE_SENT, about=quote)
    return quote


@transaction.atomic
def service_quote_accept(*, quote: ServiceQuote, actor: str, now: datetime) -> ServiceQuote:
    """The tenant accepts the quoted price: the one-time invoice is issued in the same transaction, so a quote is
    accepted once and invoiced once (a second accept finds it accepted)."""
    quote = _locked(quote)
    _quoted_require(quote, now=now, action="accepted")
    draft = one_time_invoice_draft(tenant=quote.tenant, description=f"{quote.product.name} (quote #{quote.pk})",
                                   amount=Money(quote.amount, quote.currency))
    quote.invoice = invoice_issue(tenant=quote.tenant, subscription=None, draft=draft,
                                  billing_reason="one_time", now=now)
    quote.status, quote.answered_at = Status.ACCEPTED, now
    quote.save(update_fields=["status", "answered_at", "invoice"])
    return quote


@transaction.atomic
def service_quote_decline(*, quote: ServiceQuote, actor: str, now: datetime) -> ServiceQuote:
    quote = _locked(quote)
    _quoted_require(quote, now=now, action="declined")
    quote.status, quote.answered_at = Status.DECLINED, now
    quote.save(update_fields=["status", "answered_at"])
    return quote


@transaction.atomic
def service_quote_withdraw(*, quote: ServiceQuote, actor: str, now: datetime) -> ServiceQuote:
    """The tenant no longer wants it (before accepting)."""
    quote = _locked(quote)
    if quote.status not in (Status.REQUESTED, Status.QUOTED):
        raise QuoteStateInvalid(f"This request is {quote.get_status_display().lower()}: it cannot be withdrawn.")
    quote.status, quote.answered_at = Status.WITHDRAWN, now
    quote.save(update_fields=["status", "answered_at"])
    return quote


def _locked(quote: ServiceQuote) -> ServiceQuote:
    return ServiceQuote.objects.select_for_update().select_related("product", "tenant").get(pk=quote.pk)


def _quoted_require(quote: ServiceQuote, *, now: datetime, action: str) -> None:
    if quote.status != Status.QUOTED:
        raise QuoteStateInvalid(f"This request is {quote.get_status_display().lower()}: it cannot be {action}.")
    if quote.valid_until is not None and quote.valid_until <= now:
        raise QuoteStateInvalid("This quote has expired: ask for a new one.", details={
            "valid_until": quote.valid_until.isoformat()})


def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_minor_units(currency))
