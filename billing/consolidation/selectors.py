"""Reads of reseller mode (consolidated billing), and the one decision every invoice path takes from here: how
an invoice of a tenant is collected (invoice_collection_for). Invoicing asks it when it finalises an invoice,
whichever path wrote the invoice (the billing run, a subscription's start, change or proration, a token pack, a
quote, ops in the admin), so a path added later cannot forget to ask."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import QuerySet

from billing.consolidation.errors import BilledThroughPayer
from billing.models import ConsolidatedBilling, Invoice
from tenants.models import Tenant

CONSOLIDATED_COLLECTION = "consolidated"


@dataclass(frozen=True)
class InvoiceCollection:
    """How an invoice is collected once finalised: `method` (manual, stripe, or consolidated), and for a
    consolidated one the arrangement (its payer and wholesale discount) it is finalised under."""

    method: str
    consolidated_billing: ConsolidatedBilling | None = None

    @property
    def consolidated(self) -> bool:
        return self.consolidated_billing is not None


def consolidated_billing_current(*, client: Tenant | int) -> ConsolidatedBilling | None:
    """The client's current arrangement (its payer and discount), or None when it pays Tollgate itself."""
    client_id = client if isinstance(client, int) else client.pk
    return (ConsolidatedBilling.objects.filter(client_id=client_id, ended_at__isnull=True)
            .select_related("payer").first())


def consolidated_billings_current(*, client_ids: Collection[int]) -> dict[int, ConsolidatedBilling]:
    """consolidated_billing_current for many clients in one query, by client id (absent: billed directly)."""
    if not client_ids:
        return {}
    return {row.client_id: row for row in ConsolidatedBilling.objects.filter(client_id__in=list(client_ids),
                                                                            ended_at__isnull=True)}


def invoice_collection_for(*, tenant: Tenant | int, method: str) -> InvoiceCollection:
    """How an invoice of `tenant` that would otherwise be collected by `method` is collected: consolidated
    through its payer while the tenant has a current arrangement, `method` otherwise. Decided when the invoice
    is finalised (a draft written before the arrangement started is consolidated if finalised after)."""
    arrangement = consolidated_billing_current(client=tenant)
    if arrangement is None:
        return InvoiceCollection(method=method)
    return InvoiceCollection(method=CONSOLIDATED_COLLECTION, consolidated_billing=arrangement)


def invoice_collections_for(*, invoices: Collection[Invoice]) -> dict[int, InvoiceCollection]:
    """invoice_collection_for for a batch of drafts (the billing run's chunk), by invoice id, in one query."""
    arrangements = consolidated_billings_current(client_ids={invoice.tenant_id for invoice in invoices})
    collections = {}
    for invoice in invoices:
        arrangement = arrangements.get(invoice.tenant_id)
        collections[invoice.pk] = (InvoiceCollection(method=invoice.collection_method) if arrangement is None
                                   else InvoiceCollection(method=CONSOLIDATED_COLLECTION,
                                                          consolidated_billing=arrangement))
    return collections


def invoice_is_consolidated(invoice: Invoice) -> bool:
    """Whether a finalised invoice is a client invoice billed through a payer (never charged to its tenant)."""
    return invoice.collection_method == CONSOLIDATED_COLLECTION


def consolidated_payer_name(*, client: Tenant) -> str | None:
    """The name of whoever bills the client now (its reseller), or None when Tollgate bills it directly."""
    arrangement = consolidated_billing_current(client=client)
    return arrangement.payer.name if arrangement is not None else None


def invoice_payer_name(invoice: Invoice) -> str | None:
    """For a consolidated client invoice, the name of the payer it is billed through; None for any other."""
    if invoice.consolidated_billing_id is None:
        return None
    return ConsolidatedBilling.objects.select_related("payer").get(pk=invoice.consolidated_billing_id).payer.name


def consolidated_billing_list(*, payer: Tenant) -> QuerySet[ConsolidatedBilling]:
    """The payer's arrangements, current and ended, newest first, each with its client."""
    return ConsolidatedBilling.objects.filter(payer=payer).select_related("client")


def consolidated_invoice_list(*, payer: Tenant) -> QuerySet[Invoice]:
    """The payer's consolidated invoices (finalised), newest first: what it is billed for its clients."""
    return (Invoice.objects.filter(tenant=payer, billing_reason=Invoice.Reason.CONSOLIDATED)
            .exclude(status=Invoice.Status.DRAFT).order_by("-issued_at", "-id"))

def purchase_allowed_check(*, tenant: Tenant) -> None:
    """Refuse (BilledThroughPayer) a purchase the tenant would pay Tollgate for itself, such as an AI-token pack,
    while it is billed through a payer: its reseller sells it tokens, Tollgate never collects from it."""
    payer = consolidated_payer_name(client=tenant)
    if payer is not None:
        raise BilledThroughPayer(f"Your AI tokens are billed through {payer}: ask them for more tokens.",
                                 details={"billed_through": payer})
