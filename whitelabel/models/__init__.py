"""Brands, custom domains, sender domains and reseller price lists: in the public schema, because routing reads
domains before any tenant's schema is chosen and an agency's brand applies to its clients' workspaces."""

from whitelabel.models.brands import Brand
from whitelabel.models.domains import CustomDomain, SenderDomain
from whitelabel.models.resellers import (
    ResellerDocumentSequence,
    ResellerInvoice,
    ResellerInvoiceLine,
    ResellerPrice,
    ResellerSettings,
)

__all__ = ["Brand", "CustomDomain", "ResellerDocumentSequence", "ResellerInvoice", "ResellerInvoiceLine",
           "ResellerPrice", "ResellerSettings", "SenderDomain"]
