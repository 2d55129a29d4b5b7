"""The demo's reseller billing (whitelabel/management/commands/reseller_demo_seed.py, run by `./dev up` after the
agencies and white-label seeds, which make northwind a reseller on the White-Label plan): northwind's brand when it
has none (Northwind Digital: a generated logo, green and amber that pass the contrast check, a little CSS, invoice
header and footers), its invoicing details, its price list above wholesale, and its invoices to its clients:

- bloom's, from the consolidated invoice the agencies seed made before northwind had prices, so at Tollgate's
  list price (flagged as such on its invoice), marked paid (northwind was paid by transfer);
- fern's, from fern's first consolidated invoice: northwind puts fern on Starter, invoiced at northwind's price.

A second run changes nothing. Every write goes through the services."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from PIL import Image, ImageDraw

from billing.errors import BillingError
from billing.invoicing.selectors import invoice_list
from billing.models import Price
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_start
from config.money import Money, money_format
from tenants.models import Tenant
from whitelabel.brands.exceptions import BrandError
from whitelabel.brands.selectors import brand_own
from whitelabel.brands.services import brand_save
from whitelabel.models import ResellerInvoice
from whitelabel.resellers.exceptions import ResellerError
from whitelabel.resellers.selectors import reseller_invoice_list_for_agency, reseller_settings_get
from whitelabel.resellers.services import (
    reseller_invoice_issue,
    reseller_invoice_mark_paid,
    reseller_prices_set,
    reseller_settings_save,
)

AGENCY, PAID_CLIENT, NEW_CLIENT = "northwind", "bloom", "fern"
NEW_CLIENT_PRICE = "starter-month-usd"
BRAND = {
    "display_name": "Northwind Digital", "primary_colour": "#0b5f3a", "accent_colour": "#f2b134",
    "custom_css": ".sidebar-tenant-name { letter-spacing: 0.02em; }\n.invoice-brand-name { font-variant: small-caps; }",
    "support_email": "help@northwind.test", "support_url": "https://northwind.test/help",
    "legal_footer": "Northwind Digital Ltd · Registered in England and Wales, no. 09876543 · VAT GB 123 4567 89",
    "invoice_header": "Thank you for growing with Northwind Digital.",
    "invoice_footer": "Questions about this invoice? billing@northwind.test", "show_powered_by": False,
}
SETTINGS = {
    "legal_name": "Northwind Digital Ltd", "address": "12 Harbour Street\nLeeds LS1 4AB\nUnited Kingdom",
    "email": "billing@northwind.test", "tax_id": "GB 123 4567 89", "tax_name": "VAT",
    "tax_percentage": Decimal("20"), "number_prefix": "NW", "payment_terms_days": 14,
    "payment_instructions": "Bank transfer to Northwind Digital Ltd, IBAN GB29 NWBK 6016 1331 9268 19, quoting the "
                            "invoice number.",
}
# Above wholesale at the demo's 20 % discount (starter 19.00 USD → 15.20; pro 99.00 USD → 79.20).
PRICES = [("starter", "month", "USD", "25.00"), ("starter", "year", "USD", "249.00"),
          ("starter", "month", "EUR", "23.00"), ("pro", "month", "USD", "129.00"), ("pro", "year", "USD", "1290.00"),
          ("pro", "month", "EUR", "119.00")]
OPS = "ops@tollgate.localhost"


def reseller_demo_seed(*, now: datetime) -> list[str]:
    """What it did, a line each (nothing when northwind is missing)."""
    northwind = Tenant.objects.filter(slug=AGENCY, type=Tenant.Type.AGENCY).first()
    if northwind is None:
        return []
    done = [_brand(northwind, now=now)]
    try:
        if reseller_settings_get(agency=northwind) is None:
            reseller_settings_save(agency=northwind, data=SETTINGS, now=now)
            done.append(f"{AGENCY}: invoicing details (NW numbers, VAT 20 %)")
        reseller_prices_set(agency=northwind, now=now, entries=[
            {"plan": plan, "interval": interval, "currency": currency, "amount": amount}
            for plan, interval, currency, amount in PRICES])
    except (ResellerError, BrandError) as error:
        return [*done, f"{AGENCY}: no price list ({error.message})"]
    done.append(f"{AGENCY}: price list of {len(PRICES)} prices above wholesale")
    done += _client_invoices(northwind, now=now)
    return [line for line in done if line]


def _brand(northwind: Tenant, *, now: datetime) -> str:
    if brand_own(tenant=northwind) is not None:
        return ""
    try:
        brand_save(tenant=northwind, data={**BRAND, "logo": _logo_png()}, now=now)
    except BrandError as error:
        return f"{AGENCY}: no brand ({error.message})"
    return f"{AGENCY}: brand Northwind Digital (logo, colours, CSS, invoice header and footers)"


def _logo_png() -> io.BytesIO:
    """A small generated logo: a white N on northwind's green, an amber bar under it."""
    image = Image.new("RGB", (240, 96), "#0b5f3a")
    draw = ImageDraw.Draw(image)
    draw.polygon([(30, 78), (30, 18), (44, 18), (74, 58), (74, 18), (88, 18), (88, 78), (74, 78), (44, 38),
                  (44, 78)], fill="#ffffff")
    draw.rectangle([(104, 60), (214, 70)], fill="#f2b134")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def _client_invoices(northwind: Tenant, *, now: datetime) -> list[str]:
    done = []
    bloom = Tenant.objects.filter(slug=PAID_CLIENT, parent_agency=northwind).first()
    if bloom is not None:
        # Issued when billing consolidated them (the agencies seed); issued here only if that signal was lost.
        for invoice in invoice_list(tenant=bloom).exclude(number__isnull=True):
            issued = reseller_invoice_issue(invoice=invoice, now=now)
            if issued is not None and issued.status == "open":
                reseller_invoice_mark_paid(agency=northwind, number=issued.number, actor=northwind.owner_email,
                                           now=now)
                done.append(f"{bloom.slug}: invoice {issued.number} from {AGENCY} ({_money(issued)}"
                            f"{', at list price' if issued.list_price_used else ''}), paid by transfer")
    fern = Tenant.objects.filter(slug=NEW_CLIENT, parent_agency=northwind).first()
    if fern is not None and subscription_current(tenant=fern) is None:
        try:
            subscription_start(tenant=fern, price=Price.objects.get(code=NEW_CLIENT_PRICE), actor=OPS, now=now,
                               trial=False)
        except BillingError as error:
            done.append(f"{fern.slug}: not subscribed ({error.message})")
        for invoice in invoice_list(tenant=fern).exclude(number__isnull=True):
            issued = reseller_invoice_issue(invoice=invoice, now=now)
            if issued is not None:
                done.append(f"{fern.slug}: on Starter through {AGENCY}, invoice {issued.number} "
                            f"({_money(issued)} at {AGENCY}'s price)")
    count = reseller_invoice_list_for_agency(agency=northwind).count()
    done.append(f"{AGENCY}: {count} invoice(s) to its clients")
    return done


def _money(invoice: ResellerInvoice) -> str:
    return money_format(Money(invoice.total, invoice.currency))
