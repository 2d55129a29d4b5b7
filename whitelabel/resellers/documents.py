"""What a reseller invoice says, once, for every rendering: the HTML page (the client's and the agency's) and the
PDF read the same `ResellerInvoiceDocument`, dressed in the agency's brand (its name, logo, colours, invoice header
and footer, legal footer), never Tollgate's name unless the brand shows "Powered by Tollgate". Amounts are
formatted by config.money (ISO code, minor units), dates like Tollgate's own invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from babel.dates import format_date

from config.money import Money, money_format
from whitelabel.brands.contrast import text_colour_on
from whitelabel.brands.rendering import powered_by_shown
from whitelabel.brands.selectors import brand_for
from whitelabel.models import Brand, ResellerInvoice, ResellerInvoiceLine

UNIT_PRICE_PLACES = 6
DEFAULT_PRIMARY = "#1f4b99"


@dataclass(frozen=True)
class InvoiceBrand:
    display_name: str
    logo_url: str
    logo_name: str  # the logo's name in the storage, for the PDF
    primary_colour: str
    primary_text: str
    accent_colour: str
    invoice_header: str
    invoice_footer: str
    legal_footer: str
    powered_by: bool


@dataclass(frozen=True)
class DocumentLine:
    description: str
    period: str
    quantity: str
    unit_amount: str
    amount: str


@dataclass(frozen=True)
class ResellerInvoiceDocument:
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
    tax_label: str
    tax_total: str
    total: str
    payment_instructions: str
    brand: InvoiceBrand


def reseller_invoice_document(*, invoice: ResellerInvoice) -> ResellerInvoiceDocument:
    """The invoice as its reader sees it, under the agency's brand as it is now (its legal details as they were
    when the invoice was issued)."""
    money = _formatter(invoice.currency)
    issuer, customer = invoice.issuer or {}, invoice.customer or {}
    tax_label = ""
    if invoice.tax_percentage is not None:
        tax_label = f"{invoice.tax_name or 'Tax'} {format(invoice.tax_percentage.normalize(), 'f')} %"
    return ResellerInvoiceDocument(
        number=invoice.number, status=invoice.status, status_label=invoice.get_status_display(),
        issued_on=_day(invoice.issued_at), due_on=_day(invoice.due_at), paid_on=_day(invoice.paid_at),
        period=_period(invoice.period_start, invoice.period_end),
        issuer_lines=tuple(line for line in [issuer.get("name", ""), *issuer.get("address", "").splitlines(),
                                             issuer.get("email", "")] if line),
        issuer_tax_id=issuer.get("tax_id", ""),
        customer_lines=_customer_lines(customer), customer_tax_id=customer.get("tax_id", ""),
        lines=tuple(_document_line(line, invoice.currency, money) for line in invoice.lines.all()),
        subtotal=money(invoice.subtotal), tax_label=tax_label, tax_total=money(invoice.tax_total),
        total=money(invoice.total),
        payment_instructions=issuer.get("payment_instructions", "") if invoice.status == "open" else "",
        brand=_brand_of(invoice),
    )


def _brand_of(invoice: ResellerInvoice) -> InvoiceBrand:
    """The agency's brand (only while its plan has white_label, like every branded page); without one, its name
    on Tollgate's plain invoice look, still without Tollgate's name."""
    brand: Brand | None = brand_for(tenant=invoice.agency)
    if brand is None:
        name = (invoice.issuer or {}).get("brand_name") or invoice.agency.name
        return InvoiceBrand(display_name=name, logo_url="", logo_name="", primary_colour=DEFAULT_PRIMARY,
                            primary_text=text_colour_on(DEFAULT_PRIMARY), accent_colour=DEFAULT_PRIMARY,
                            invoice_header="", invoice_footer="", legal_footer="", powered_by=False)
    return InvoiceBrand(
        display_name=brand.display_name, logo_url=brand.logo.url if brand.logo else "",
        logo_name=brand.logo.name if brand.logo else "", primary_colour=brand.primary_colour,
        primary_text=text_colour_on(brand.primary_colour), accent_colour=brand.accent_colour,
        invoice_header=brand.invoice_header, invoice_footer=brand.invoice_footer, legal_footer=brand.legal_footer,
        powered_by=powered_by_shown(brand),
    )


def _document_line(line: ResellerInvoiceLine, currency: str, money) -> DocumentLine:
    return DocumentLine(description=line.description, period=_period(line.period_start, line.period_end),
                        quantity=_number(line.quantity),
                        unit_amount=_unit_money(line.unit_amount, currency) if line.unit_amount is not None else "",
                        amount=money(line.amount))


def _formatter(currency: str):
    def money(amount: Decimal) -> str:
        return money_format(Money(Decimal(amount), currency))
    return money


def _unit_money(amount: Decimal, currency: str) -> str:
    exponent = -amount.normalize().as_tuple().exponent if amount else 0
    return money_format(Money(amount, currency), places=min(max(exponent, 2), UNIT_PRICE_PLACES))


def _number(value: Decimal) -> str:
    number = Decimal(value).normalize()
    whole, _, fraction = format(abs(number), "f").partition(".")
    return ("-" if number < 0 else "") + f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _day(moment: datetime | None) -> str:
    return format_date(moment, format="d MMM yyyy", locale="en_GB") if moment else ""


def _period(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    return f"{_day(start)} – {_day(end - timedelta(microseconds=1))}"  # half-open: the last day is the day before


def _customer_lines(customer: dict) -> tuple[str, ...]:
    city = " ".join(part for part in (customer.get("postal_code", ""), customer.get("city", "")) if part)
    region_country = ", ".join(part for part in (customer.get("region", ""), customer.get("country", "")) if part)
    return tuple(line for line in (customer.get("name", ""), customer.get("address_line1", ""),
                                   customer.get("address_line2", ""), city, region_country,
                                   customer.get("email", "")) if line)
