"""Reads on invoices and credit notes, always for one tenant. Tenants see finalised invoices only: a draft may
still change during its draft period, and has no number to show."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import QuerySet

from billing.models import CreditNote, Dispute, Invoice
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


def invoices_paid_between(*, tenant_ids: Collection[int] | QuerySet, start: datetime,
                          end: datetime) -> QuerySet[Invoice]:
    """The paid invoices of `tenant_ids` (a list or a values_list query) paid in [start, end), oldest first: the
    affiliate program's catch-up of commissions whose invoice_paid signal was lost."""
    return (Invoice.objects.filter(tenant_id__in=tenant_ids, status=Invoice.Status.PAID, paid_at__gte=start,
                                   paid_at__lt=end).order_by("paid_at", "id"))


def tenants_refunded_or_disputed(*, tenant_ids: Collection[int]) -> set[int]:
    """Those of `tenant_ids` with a credit note or a card dispute on any of their invoices (the affiliate
    program's refund-rate check)."""
    credited = CreditNote.objects.filter(tenant_id__in=tenant_ids).values_list("tenant_id", flat=True)
    disputed = Dispute.objects.filter(tenant_id__in=tenant_ids).values_list("tenant_id", flat=True)
    return set(credited) | set(disputed)
