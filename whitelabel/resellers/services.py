"""Writes for reseller billing: an agency's prices and invoicing details, its invoices to its clients (one per
consolidated Tollgate invoice of a client, exactly once), and their status, which the agency keeps itself: it
collects from its clients outside Tollgate and marks each invoice paid or void here.

How a reseller invoice is priced, from the client's consolidated Tollgate invoice, line by line:
- the subscription's fixed fee (the "fixed" line) at the agency's price for the plan, interval and currency,
  prorated by the same fraction as the Tollgate line (a partial first period at 50 % is 50 % of the agency's
  price too); never below that line's wholesale amount, should Tollgate's list price have risen above the
  agency's since it set it. Without an agency price, Tollgate's list amount, and the invoice is flagged
  (`list_price_used`; the agency's dashboard names the plan);
- every other line (seats, usage, prorations, discounts, token packs) as on Tollgate's invoice, at the list
  amount: an agency prices plans, not meters;
- the agency's tax (ResellerSettings: name and rate) on the taxable lines, rounded once; none without a rate.
`wholesale_amount` is what Tollgate's consolidated invoice charges the agency for this client invoice: its
pre-tax amount after discounts less the agency's wholesale discount, rounded once (billing.consolidation's rule),
so the margin is the reseller invoice's subtotal less it."""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from affiliates.agencies.exceptions import NotAnAgency
from billing.consolidation.selectors import consolidated_billing_list, invoice_is_consolidated
from billing.consolidation.services import wholesale_amount
from billing.invoicing.selectors import invoice_list
from billing.models import Invoice, InvoiceLine
from billing.selectors import entitlements_for
from config.money import Money, currency_minor_units, money_format, money_round, money_to_api
from tenants.models import Tenant
from whitelabel.brands.exceptions import WhiteLabelNotInPlan
from whitelabel.brands.selectors import brand_for
from whitelabel.models import (
    ResellerDocumentSequence,
    ResellerInvoice,
    ResellerInvoiceLine,
    ResellerPrice,
    ResellerSettings,
)
from whitelabel.resellers.exceptions import (
    NotAReseller,
    ResellerInvoiceNotFound,
    ResellerInvoiceStateInvalid,
    ResellerPriceBelowWholesale,
    ResellerPriceCurrencyUnavailable,
    ResellerPriceInvalid,
    ResellerSettingsInvalid,
)
from whitelabel.resellers.selectors import (
    HUNDRED,
    number_prefix_default,
    reseller_invoice_get_for_agency,
    reseller_mode_is,
    reseller_price_for,
    reseller_settings_get,
    tollgate_prices,
    wholesale_of,
    wholesale_percent_off,
)

logger = logging.getLogger(__name__)

# The advisory lock that makes one client invoice give one reseller invoice, however often its signal arrives.
ISSUE_LOCK_NAMESPACE = zlib.crc32(b"whitelabel.reseller_invoice_issue") & 0x7FFFFFFF
NUMBER_DIGITS = 4
CATCH_UP_DAYS = 35
PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")
DECIMAL_TEXT = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,10})?")
SETTINGS_FIELDS = frozenset({"legal_name", "address", "email", "tax_id", "tax_name", "tax_percentage",
                             "number_prefix", "payment_instructions", "payment_terms_days"})
Pricing = ResellerInvoiceLine.Pricing


# --- Who may resell -------------------------------------------------------------------------------------------

def _reseller_require(agency: Tenant, *, pricing: bool) -> None:
    """Refused unless an agency in reseller mode; setting prices also needs the plan's white_label."""
    if agency.type != Tenant.Type.AGENCY:
        raise NotAnAgency("Only an agency workspace bills clients.")
    if not reseller_mode_is(agency=agency):
        raise NotAReseller("Your agency is not in reseller mode: Tollgate bills your clients directly. Ask us to "
                           "switch you to reseller mode to set your own prices.")
    if pricing and not entitlements_for(tenant=agency).white_label:
        raise WhiteLabelNotInPlan("Your own prices need a plan with white-label (the White-Label plan).")


# --- Prices ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceChecked:
    plan_code: str
    interval: str
    currency: str
    amount: Decimal
    wholesale: Money


def reseller_price_check(*, agency: Tenant, plan_code: str, interval: str, currency: str,
                         amount: Decimal | str) -> PriceChecked:
    """The price as it would be set, or the refusal: an amount at or above the plan's wholesale price for this
    interval and currency (its Tollgate price less the agency's wholesale discount), in a currency Tollgate sells
    the plan in (no conversion is done), not negative, in the currency's minor units. Writes nothing."""
    _reseller_require(agency, pricing=True)
    currency = (currency or "").upper()
    prices = tollgate_prices()
    if not any(key[0] == plan_code for key in prices):
        raise ResellerPriceInvalid(f"No plan {plan_code!r} is sold publicly.", field="plan")
    price = prices.get((plan_code, interval, currency))
    if price is None:
        offered = sorted({f"{key[2]} ({key[1]})" for key in prices if key[0] == plan_code})
        raise ResellerPriceCurrencyUnavailable(
            f"Tollgate does not sell this plan per {interval} in {currency or 'no currency'}: your price must be in "
            f"a currency and interval the plan is sold in ({', '.join(offered)}).", field="currency",
            details={"offered": offered})
    value = _amount_parsed(amount, currency=currency)
    wholesale = wholesale_of(price.fixed_money, percent_off=wholesale_percent_off(agency=agency))
    if value < wholesale.amount:
        raise ResellerPriceBelowWholesale(
            f"At least {money_format(wholesale)}: your wholesale price for {price.plan.name} "
            f"({price.get_interval_display().lower()}).", field="amount",
            details={"wholesale": money_to_api(wholesale), "list_price": money_to_api(price.fixed_money)})
    return PriceChecked(plan_code=plan_code, interval=interval, currency=currency, amount=value, wholesale=wholesale)


def _amount_parsed(amount: Decimal | str, *, currency: str) -> Decimal:
    text = str(amount).strip()
    # Plain ASCII digits only: Decimal would also take exponents and other scripts' digits.
    if not DECIMAL_TEXT.fullmatch(text):
        raise ResellerPriceInvalid("An amount as a decimal number, e.g. 29.00.", field="amount")
    value = Decimal(text)
    places = currency_minor_units(currency)
    if not value.is_finite() or value < 0 or abs(value) >= Decimal("1e10"):
        raise ResellerPriceInvalid("An amount of zero or more.", field="amount")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ResellerPriceInvalid(f"{currency} has {places} decimal places.", field="amount")
    return value


@transaction.atomic
def reseller_prices_set(*, agency: Tenant, entries: list[dict[str, Any]], now: datetime) -> list[ResellerPrice]:
    """Set (`amount`) or withdraw (`amount` None) the agency's prices, each entry naming `plan` (its code),
    `interval` and `currency`: all or none. The first refusal (reseller_price_check's) is raised with the
    entry's `index` in its details. Returns the rows written, in the entries' order."""
    written = []
    for index, entry in enumerate(entries):
        try:
            written.append(_price_write(agency=agency, entry=entry, now=now))
        except (ResellerPriceInvalid, ResellerPriceCurrencyUnavailable, ResellerPriceBelowWholesale) as error:
            error.details = {"index": index, **error.details}
            raise
    return written


def _price_write(*, agency: Tenant, entry: dict[str, Any], now: datetime) -> ResellerPrice:
    plan_code, interval = entry.get("plan", ""), entry.get("interval", "")
    currency = (entry.get("currency") or "").upper()
    if entry.get("amount") is None:
        _reseller_require(agency, pricing=True)
        current = ResellerPrice.objects.select_for_update().filter(
            agency=agency, plan__code=plan_code, interval=interval, currency=currency).first()
        if current is None:
            raise ResellerPriceInvalid("You have no price for this plan to withdraw.", field="plan")
        if current.is_active:
            current.is_active, current.updated_at = False, now
            current.save(update_fields=["is_active", "updated_at"])
        return current
    checked = reseller_price_check(agency=agency, plan_code=plan_code, interval=interval, currency=currency,
                                   amount=entry["amount"])
    plan = tollgate_prices()[(checked.plan_code, checked.interval, checked.currency)].plan
    price, _ = ResellerPrice.objects.update_or_create(
        agency=agency, plan=plan, interval=checked.interval, currency=checked.currency,
        defaults={"amount": checked.amount, "is_active": True, "updated_at": now}, create_defaults={
            "amount": checked.amount, "is_active": True, "created_at": now, "updated_at": now})
    logger.info("reseller_price_set agency=%s plan=%s interval=%s currency=%s amount=%s", agency.pk, plan.code,
                checked.interval, checked.currency, checked.amount)
    return price


# --- Invoicing details ------------------------------------------------------------------------------------------

@transaction.atomic
def reseller_settings_save(*, agency: Tenant, data: dict[str, Any], now: datetime) -> ResellerSettings:
    """Create or change the agency's invoicing details (fields left out keep their value). Applies to invoices
    issued from now on; issued ones keep the details they were issued with."""
    _reseller_require(agency, pricing=False)
    unknown = set(data) - SETTINGS_FIELDS
    if unknown:
        raise ResellerSettingsInvalid(f"Unknown fields: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    current = ResellerSettings.objects.select_for_update().filter(agency=agency).first()
    settings = current or ResellerSettings(agency=agency, number_prefix=number_prefix_default(agency=agency))
    for name, value in data.items():
        setattr(settings, name, value)
    settings.number_prefix = (settings.number_prefix or "").strip().upper()
    if not PREFIX.match(settings.number_prefix):
        raise ResellerSettingsInvalid("Up to 10 letters or digits, e.g. NW.", field="number_prefix")
    if settings.tax_percentage is not None and not Decimal(0) <= settings.tax_percentage <= HUNDRED:
        raise ResellerSettingsInvalid("A rate between 0 and 100.", field="tax_percentage")
    if settings.payment_terms_days is None or not 0 <= settings.payment_terms_days <= 365:
        raise ResellerSettingsInvalid("Between 0 and 365 days.", field="payment_terms_days")
    settings.updated_at = now
    settings.save()
    return settings


# --- Invoices -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    source: InvoiceLine
    amount: Decimal
    unit_amount: Decimal | None
    pricing: str
    plan_code: str = ""
    interval: str = ""


def reseller_invoice_issue(*, invoice: Invoice, now: datetime) -> ResellerInvoice | None:
    """The agency's invoice to its client for the client's consolidated Tollgate `invoice`: created once (the
    same invoice again, at once or later, returns the first). The agency is the payer the invoice was
    consolidated under (billing.consolidation's arrangement), whatever its mode now: that payer is billed
    wholesale for it. None for an invoice that is not consolidated (Tollgate bills that client directly) or not
    finalised. Priced as this module's docstring says, numbered in the agency's own gapless series, addressed from
    the agency's invoicing details to the client's billing details as Tollgate's invoice carries them."""
    if (invoice.number is None or invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID)
            or not invoice_is_consolidated(invoice)):
        return None
    arrangement = invoice.consolidated_billing
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ISSUE_LOCK_NAMESPACE, invoice.pk])
        existing = ResellerInvoice.objects.filter(source_invoice_id=invoice.pk).first()
        if existing is not None:
            return existing
        return _invoice_create(invoice=invoice, client=invoice.tenant, agency=arrangement.payer,
                               percent_off=arrangement.wholesale_discount_percent, now=now)


def reseller_invoices_catch_up(*, now: datetime, days: int = CATCH_UP_DAYS) -> list[ResellerInvoice]:
    """Issue what a lost `invoice_consolidated` left out: every consolidated client invoice finalised in the last
    `days` without its reseller invoice (billing sends the signal after commit, outside any retry, so a process
    that dies in between loses it). Run daily by beat; issues nothing twice (reseller_invoice_issue's guarantee),
    one invoice's failure is logged and the rest go on. Returns the invoices it issued."""
    since = now - timedelta(days=days)
    issued = []
    for agency in Tenant.objects.filter(type=Tenant.Type.AGENCY).order_by("pk"):
        for arrangement in consolidated_billing_list(payer=agency):
            missing = (invoice_list(tenant=arrangement.client)
                       .filter(consolidated_billing=arrangement, issued_at__gte=since)
                       .exclude(pk__in=ResellerInvoice.objects.filter(client=arrangement.client)
                                .values("source_invoice_id")))
            for invoice in missing.select_related("consolidated_billing__payer", "tenant"):
                try:
                    issued.append(reseller_invoice_issue(invoice=invoice, now=now))
                except Exception:
                    logger.exception("reseller_invoice_catch_up_failed invoice=%s", invoice.pk)
    if issued:
        logger.info("reseller_invoices_caught_up count=%s", len(issued))
    return [invoice for invoice in issued if invoice is not None]


def _invoice_create(*, invoice: Invoice, client: Tenant, agency: Tenant, percent_off: Decimal,
                    now: datetime) -> ResellerInvoice:
    lines = _lines_priced(invoice=invoice, agency=agency, percent_off=percent_off)
    settings = reseller_settings_get(agency=agency)
    currency = invoice.currency
    subtotal = sum((line.amount for line in lines), Decimal(0))
    taxable = sum((line.amount for line in lines if line.source.taxable), Decimal(0))
    tax_percentage = settings.tax_percentage if settings else None
    tax_total = (money_round(Money(max(taxable, Decimal(0)) * tax_percentage / HUNDRED, currency)).amount
                 if tax_percentage is not None else Decimal(0))
    total = subtotal + tax_total
    # The consolidated invoice's own figure for this client invoice (billing.consolidation's rule and rounding).
    _, wholesale = wholesale_amount(client_invoice=invoice, discount_percent=percent_off)
    settled = total <= 0
    terms = settings.payment_terms_days if settings else 14
    reseller_invoice = ResellerInvoice(
        agency=agency, client=client, source_invoice=invoice, currency=currency, subtotal=subtotal,
        tax_name=(settings.tax_name if settings else "") if tax_percentage is not None else "",
        tax_percentage=tax_percentage, tax_total=tax_total, total=total, wholesale_amount=wholesale,
        list_price_used=any(line.pricing == Pricing.LIST_PRICE for line in lines),
        period_start=invoice.period_start, period_end=invoice.period_end,
        issuer=_issuer_snapshot(agency=agency, settings=settings), customer=dict(invoice.customer or {}),
        issued_at=now, due_at=None if settled else now + timedelta(days=terms),
        status=ResellerInvoice.Status.PAID if settled else ResellerInvoice.Status.OPEN,
        paid_at=now if settled else None,
    )
    # Numbered last: the sequence's row lock is held until commit, so the agency's other invoices wait the
    # shortest time.
    reseller_invoice.number = _number_next(agency=agency, settings=settings, year=now.year)
    reseller_invoice.save()
    ResellerInvoiceLine.objects.bulk_create([
        ResellerInvoiceLine(invoice=reseller_invoice, kind=line.source.kind, description=line.source.description,
                            period_start=line.source.period_start, period_end=line.source.period_end,
                            quantity=line.source.quantity, unit_amount=line.unit_amount, amount=line.amount,
                            list_amount=line.source.amount, pricing=line.pricing, taxable=line.source.taxable,
                            plan_code=line.plan_code, interval=line.interval, sort_order=index)
        for index, line in enumerate(lines)])
    logger.info("reseller_invoice_issued agency=%s client=%s source_invoice=%s number=%s total=%s currency=%s "
                "wholesale=%s list_price_used=%s", agency.pk, client.pk, invoice.pk, reseller_invoice.number, total,
                currency, wholesale, reseller_invoice.list_price_used)
    return reseller_invoice


def _lines_priced(*, invoice: Invoice, agency: Tenant, percent_off: Decimal) -> list[_Line]:
    subscription = invoice.subscription
    lines = []
    for source in invoice.lines.all():
        if source.kind != InvoiceLine.Kind.FIXED or subscription is None:
            lines.append(_Line(source=source, amount=source.amount, unit_amount=source.unit_amount,
                               pricing=Pricing.PASSED_THROUGH))
            continue
        price = subscription.price
        own = reseller_price_for(agency, price.plan, price.interval, price.currency)
        plan = {"plan_code": price.plan.code, "interval": price.interval}
        if own is None:
            lines.append(_Line(source=source, amount=source.amount, unit_amount=source.unit_amount,
                               pricing=Pricing.LIST_PRICE, **plan))
            continue
        # The Tollgate line's share of a whole period (its amount over its unit price): the agency's price is
        # prorated alike.
        fraction = source.amount_exact / source.unit_amount if source.unit_amount else Decimal(1)
        amount = money_round(Money(own.amount * fraction, invoice.currency))
        floor = wholesale_of(Money(source.amount, invoice.currency), percent_off=percent_off)
        lines.append(_Line(source=source, amount=max(amount, floor).amount, unit_amount=own.amount,
                           pricing=Pricing.RESELLER_PRICE, **plan))
    return lines


def _issuer_snapshot(*, agency: Tenant, settings: ResellerSettings | None) -> dict[str, str]:
    brand = brand_for(tenant=agency)
    name = (settings.legal_name if settings else "") or (brand.display_name if brand else "") or agency.name
    return {
        "name": name, "brand_name": brand.display_name if brand else agency.name,
        "address": settings.address if settings else "", "email": (settings.email if settings else "")
        or (brand.support_email if brand else "") or agency.billing_email or agency.owner_email,
        "tax_id": settings.tax_id if settings else "",
        "payment_instructions": settings.payment_instructions if settings else "",
    }


ADVANCE_SQL = """
UPDATE whitelabel_resellerdocumentsequence SET last_number = last_number + 1
 WHERE agency_id = %s AND year = %s
RETURNING last_number
"""


def _number_next(*, agency: Tenant, settings: ResellerSettings | None, year: int) -> str:
    """The agency's next invoice number, e.g. NW-2026-0001: under its sequence row's lock until the caller's
    transaction ends, so numbers are gapless and unique per agency (a rolled-back invoice gives its number back).
    The count is per agency and year whatever the prefix, so changing the prefix skips no number."""
    if not connection.in_atomic_block:
        raise RuntimeError("_number_next must run inside the transaction that stores the invoice.")
    number = _advance(agency.pk, year)
    if number is None:
        # A first number of the year creates the row; ON CONFLICT DO NOTHING waits for a concurrent creator.
        ResellerDocumentSequence.objects.bulk_create([ResellerDocumentSequence(agency=agency, year=year)],
                                                     ignore_conflicts=True)
        number = _advance(agency.pk, year)
    prefix = settings.number_prefix if settings else number_prefix_default(agency=agency)
    return f"{prefix}-{year}-{number:0{NUMBER_DIGITS}d}"


def _advance(agency_id: int, year: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(ADVANCE_SQL, [agency_id, year])
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic
def reseller_invoice_mark_paid(*, agency: Tenant, number: str, actor: str, now: datetime) -> ResellerInvoice:
    """The agency was paid by its client (outside Tollgate). Only an open invoice."""
    invoice = _invoice_locked(agency=agency, number=number)
    _status_require(invoice, action="marked paid")
    invoice.status, invoice.paid_at, invoice.status_changed_by = ResellerInvoice.Status.PAID, now, actor
    invoice.save(update_fields=["status", "paid_at", "status_changed_by"])
    logger.info("reseller_invoice_paid agency=%s number=%s", agency.pk, number)
    return invoice


@transaction.atomic
def reseller_invoice_void(*, agency: Tenant, number: str, actor: str, now: datetime) -> ResellerInvoice:
    """The agency withdraws the invoice; it stays, numbered, as void (the number is never reused). Only an
    open invoice. What Tollgate charges the agency is not changed by it."""
    invoice = _invoice_locked(agency=agency, number=number)
    _status_require(invoice, action="voided")
    invoice.status, invoice.voided_at, invoice.status_changed_by = ResellerInvoice.Status.VOID, now, actor
    invoice.save(update_fields=["status", "voided_at", "status_changed_by"])
    logger.info("reseller_invoice_voided agency=%s number=%s", agency.pk, number)
    return invoice


@transaction.atomic
def reseller_invoice_follow_void(*, invoice: Invoice, now: datetime) -> ResellerInvoice | None:
    """Tollgate voided the client invoice a reseller invoice was made from (before any consolidated invoice carried
    it, so the agency is not billed for it either): an open reseller invoice is voided with it. One the agency has
    already marked paid is left as it is (the agency refunds its client itself), and logged."""
    reseller_invoice = (ResellerInvoice.objects.select_for_update().filter(source_invoice_id=invoice.pk).first())
    if reseller_invoice is None:
        return None
    if reseller_invoice.status != ResellerInvoice.Status.OPEN:
        logger.warning("reseller_invoice_source_voided agency=%s number=%s status=%s", reseller_invoice.agency_id,
                       reseller_invoice.number, reseller_invoice.status)
        return reseller_invoice
    reseller_invoice.status, reseller_invoice.voided_at = ResellerInvoice.Status.VOID, now
    reseller_invoice.status_changed_by = f"Tollgate voided {invoice.number}"
    reseller_invoice.save(update_fields=["status", "voided_at", "status_changed_by"])
    logger.info("reseller_invoice_voided agency=%s number=%s source_invoice=%s", reseller_invoice.agency_id,
                reseller_invoice.number, invoice.pk)
    return reseller_invoice


def _invoice_locked(*, agency: Tenant, number: str) -> ResellerInvoice:
    if reseller_invoice_get_for_agency(agency=agency, number=number) is None:
        raise ResellerInvoiceNotFound("No invoice of yours has this number.")
    return ResellerInvoice.objects.select_for_update().get(agency=agency, number=number)


def _status_require(invoice: ResellerInvoice, *, action: str) -> None:
    if invoice.status != ResellerInvoice.Status.OPEN:
        raise ResellerInvoiceStateInvalid(f"This invoice is {invoice.get_status_display().lower()}: it cannot be "
                                          f"{action}.", details={"status": invoice.status})

