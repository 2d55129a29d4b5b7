"""Reads on productized services and the quotes of one tenant."""

from django.db.models import QuerySet

from billing.models import Product, ServiceQuote
from tenants.models import Tenant


def service_quote_list(*, tenant: Tenant) -> QuerySet[ServiceQuote]:
    return ServiceQuote.objects.filter(tenant=tenant).select_related("product", "invoice")


def service_quote_get(*, tenant: Tenant, quote_id: int) -> ServiceQuote | None:
    return service_quote_list(tenant=tenant).filter(pk=quote_id).first()


def product_list() -> list[Product]:
    return list(Product.objects.filter(is_active=True))


def service_quote_of_invoice(*, tenant: Tenant, invoice_id: int) -> ServiceQuote | None:
    """The accepted quote `invoice_id` bills, if it bills one."""
    return service_quote_list(tenant=tenant).filter(invoice_id=invoice_id).first()
