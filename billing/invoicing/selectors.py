"""Reads on invoices and credit notes, always for one tenant. Tenants see finalised invoices only: a draft may
still change during its draft period, and has no number to show."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import CreditNote, Invoice
from tenants.models import Tenant


def invoice_list(*, tenant: Tenant) -> QuerySet[Invoice]:
    """The tenant's finalised invoices (open, paid, void, uncollectible), newest first."""
    return Invoice.objects.filter(tenant=tenant).exclude(status=Invoice.Status.DRAFT).order_by("-issued_at", "-id")


def invoice_get(*, tenant: Tenant, number: str) -> Invoice | None:
    """The tenant's finalised invoice with this number and its lines and credit notes; None when the tenant
    has none by that number (another tenant's number included)."""
    return (invoice_list(tenant=tenant).filter(number=number)
            .prefetch_related("lines", "credit_notes").first())


def credit_note_list(*, tenant: Tenant) -> QuerySet[CreditNote]:
    """The tenant's credit notes, newest first, each with its invoice."""
    return CreditNote.objects.filter(tenant=tenant).select_related("invoice")
