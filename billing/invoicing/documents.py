"""What an invoice says, once, for every rendering: the HTML page and the PDF read the same `InvoiceDocument`,
so the two can never disagree. Amounts are formatted by config.money (ISO code, minor units)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from babel.dates import format_date

from billing.models import CreditNote, Invoice, InvoiceLine
from config.money import Money, money_format

# Decimals a unit price may need beyond the currency's minor units (e.g. 0.00005 per call).
UNIT_PRICE_PLACES = 6


@dataclass(frozen=True)
class DocumentLine:
    description: str
    period: str
    quantity: str
    unit_amount: str
    amount: str
    breakdown: tuple[str, ...]
    kind: str
    meter_code: str


@dataclass(frozen=True)
class InvoiceDocument:
    title: str
    number: str
    status: str
    status_label: str
    issued_on: str
    due_on: str
    paid_on: str
    period: str
    issuer_lines: tuple[str, ...]
    issuer_tax_id: str
    customer_lines: tuple[str, ...]
    customer_tax_id: str
    lines: tuple[DocumentLine, ...]
    subtotal: str
    discount_total: str
    tax_label: str
    tax_total: str
    total: str
    credit_applied: str
    amount_due: str
    amount_paid: str
    amount_remaining: str
    amount_credited: str
    legends: tuple[str, ...]
    payment_instructions: str
    credit_notes: tuple[str, ...]


def _credit_note_destination(note: CreditNote) -> str:
    """Where a credit note's money went: the account credit, or back to the card (a failed card refund's amount
    went to the account credit instead)."""
    if note.refund_to != CreditNote.RefundTo.CARD:
        return "credited"
    status = getattr(note, "card_refund", None) and note.card_refund.status
    if status == "succeeded":
        return "refunded to card"
    if status == "pending":
        return "being refunded to card"
    return "credited (the refund to the card failed)"


def invoice_document(*, invoice: Invoice) -> InvoiceDocument:
    """The invoice as its reader sees it. A draft has no number and says so."""
    money = _formatter(invoice.currency)
    lines = tuple(_document_line(line, money) for line in invoice.lines.all())
    issuer = invoice.issuer or {}
    customer = invoice.customer or {}
    legends = [invoice.tax_legend] if invoice.tax_legend else []
    if invoice.tax_inclusive and invoice.tax_percentage is not None:
        legends.append(f"Prices include {invoice.tax_name} at {_percent(invoice.tax_percentage)} %.")
    credit_notes = tuple(
        f"{note.number}: {money(note.amount)} {_credit_note_destination(note)} on {_day(note.created_at)} "
        f"({note.get_reason_display()})"
        for note in CreditNote.objects.filter(invoice=invoice).select_related("card_refund")
        .order_by("created_at", "id")
    )
    return InvoiceDocument(
        title="Invoice", number=invoice.number or "Draft", status=invoice.status,
        status_label=invoice.get_status_display(),
        issued_on=_day(invoice.issued_at), due_on=_day(invoice.due_at), paid_on=_day(invoice.paid_at),
        period=_period(invoice.period_start, invoice.period_end),
        issuer_lines=_address_lines(name=issuer.get("name", ""), address=issuer.get("address", ""),
                                    email=issuer.get("email", "")),
        issuer_tax_id=issuer.get("tax_id", ""),
        customer_lines=_customer_lines(customer),
        customer_tax_id=customer.get("tax_id", ""),
        lines=lines,
        subtotal=money(invoice.subtotal), discount_total=money(invoice.discount_total),
        tax_label=_tax_label(invoice), tax_total=money(invoice.tax_total), total=money(invoice.total),
        credit_applied=money(invoice.credit_applied), amount_due=money(invoice.amount_due),
        amount_paid=money(invoice.amount_paid), amount_credited=money(invoice.amount_credited),
        # What is still to pay: the amount due less what was paid (nothing on a paid or void invoice).
        amount_remaining=money(Decimal(0) if invoice.status in ("paid", "void")
                               else max(invoice.amount_due - invoice.amount_paid, Decimal(0))),
        legends=tuple(legends),
        payment_instructions=issuer.get("payment_instructions", "") if invoice.collection_method == "manual" else "",
        credit_notes=credit_notes,
    )


def breakdown_text(part: dict, *, currency: str) -> str:
    """One charge part (billing.charge_models.ChargePart.as_dict()) in words, e.g.
    "Tier 2 (10 to 100): 90 × 0.04 USD + 1.00 USD flat = 4.60 USD"."""
    def money(value: str) -> str:
        return _unit_money(Decimal(value), currency)

    kind, units, amount = part.get("kind"), _number(part.get("units", "0")), money(part.get("amount", "0"))
    if kind == "tier":
        bounds = f"above {_number(part.get('from_value', '0'))}"
        if part.get("to_value") is not None:
            bounds = f"{_number(part.get('from_value', '0'))} to {_number(part['to_value'])}"
        price = f"{_number(part['rate'])} %" if "rate" in part else money(part.get("unit_amount", "0"))
        flat = f" + {money(part['flat_amount'])} flat" if Decimal(part.get("flat_amount", "0")) else ""
        return f"Tier {part.get('tier')} ({bounds}): {units} × {price}{flat} = {amount}"
    if kind == "units":
        return f"{units} × {money(part.get('unit_amount', '0'))} = {amount}"
    if kind == "free_units":
        return f"{units} free units"
    if kind == "included_units":
        return f"{units} included in the plan"
    if kind == "packages":
        return (f"{units} package(s) of {_number(part.get('package_size', '1'))} × "
                f"{money(part.get('unit_amount', '0'))} = {amount}")
    if kind == "free_allowance":
        return f"{part.get('events', 0)} event(s) and {units} of value free"
    if kind == "percentage":
        return f"{_number(part.get('rate', '0'))} % of {units} over {part.get('events', 0)} event(s) = {amount}"
    if kind == "fixed_fee":
        return f"{units} × {money(part.get('unit_amount', '0'))} per event = {amount}"
    if kind == "minimum":
        return f"{units} event(s) raised to the {money(part.get('unit_amount', '0'))} minimum: +{amount}"
    if kind == "maximum":
        return f"{units} event(s) capped at the {money(part.get('unit_amount', '0'))} maximum: {amount}"
    return f"{units}: {amount}"


def _document_line(line: InvoiceLine, money) -> DocumentLine:
    currency = line.invoice.currency
    return DocumentLine(
        description=line.description, period=_period(line.period_start, line.period_end),
        quantity=_number(line.quantity),
        unit_amount=_unit_money(line.unit_amount, currency) if line.unit_amount is not None else "",
        amount=money(line.amount),
        breakdown=tuple(breakdown_text(part, currency=currency) for part in line.breakdown or []),
        kind=line.kind, meter_code=line.meter_code,
    )


def _formatter(currency: str):
    def money(amount: Decimal) -> str:
        return money_format(Money(Decimal(amount), currency))
    return money


def _unit_money(amount: Decimal, currency: str) -> str:
    """A unit price with as many decimals as it has (at least the currency's, at most UNIT_PRICE_PLACES)."""
    exponent = -amount.normalize().as_tuple().exponent if amount else 0
    places = min(max(exponent, 2), UNIT_PRICE_PLACES)
    return money_format(Money(amount, currency), places=places)


def _number(value: Decimal | str) -> str:
    """A quantity with thousands separators and no trailing zeros: 12,000 or 0.5."""
    number = Decimal(value).normalize()
    whole, _, fraction = format(abs(number), "f").partition(".")
    sign = "-" if number < 0 else ""
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _tax_label(invoice: Invoice) -> str:
    if invoice.tax_percentage is None:
        return "Tax"
    inclusive = " (included)" if invoice.tax_inclusive else ""
    return f"{invoice.tax_name or 'Tax'} {_percent(invoice.tax_percentage)} %{inclusive}"


def _day(moment: datetime | None) -> str:
    return format_date(moment, format="d MMM yyyy", locale="en_GB") if moment else ""


def _period(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    # Periods are half-open: the last day shown is the day before the end.
    return f"{_day(start)} – {_day(end - timedelta(microseconds=1))}"


def _address_lines(*, name: str, address: str, email: str) -> tuple[str, ...]:
    return tuple(line for line in [name, *address.splitlines(), email] if line)


def _customer_lines(customer: dict) -> tuple[str, ...]:
    city = " ".join(part for part in (customer.get("postal_code", ""), customer.get("city", "")) if part)
    region_country = ", ".join(part for part in (customer.get("region", ""), customer.get("country", "")) if part)
    return tuple(line for line in (customer.get("name", ""), customer.get("address_line1", ""),
                                   customer.get("address_line2", ""), city, region_country,
                                   customer.get("email", "")) if line)
