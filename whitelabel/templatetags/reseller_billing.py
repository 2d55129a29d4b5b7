"""Reseller billing's panels on pages other apps own, so that billing and affiliates need not import white-label:
`{% reseller_invoices_panel %}` on the Billing page (a client's latest invoices from its agency; on a reseller
agency's own page, links to its price list and client invoices with its margin) and
`{% reseller_margin_panel %}` on an agency's Clients page (its margin, and the plans it has no price for). Each
shows nothing to staff who may not see billing, and nothing where there is nothing to show."""

from __future__ import annotations

from django import template

from accounts.permissions import Action, user_can
from tenants.models import Tenant
from whitelabel.resellers.selectors import (
    reseller_display_name,
    reseller_invoice_list_for_client,
    reseller_margin,
    reseller_mode_is,
)

register = template.Library()

PANEL_INVOICES = 3


@register.inclusion_tag("whitelabel/resellers/_client_panel.html", takes_context=True)
def reseller_invoices_panel(context) -> dict:
    request = context.get("request")
    if request is None or not user_can(request.user, Action.VIEW_BILLING):
        return {"invoices": []}
    tenant = request.tenant
    if tenant.type == Tenant.Type.AGENCY and reseller_mode_is(agency=tenant):
        # The agency's own Billing page: where its billing staff find their price list and client invoices.
        return {"invoices": [], "reseller": True, "margin": reseller_margin(agency=tenant)}
    invoices = list(reseller_invoice_list_for_client(client=tenant)[:PANEL_INVOICES])
    return {"invoices": invoices,
            "agency_name": reseller_display_name(agency=invoices[0].agency) if invoices else ""}


@register.inclusion_tag("whitelabel/resellers/_margin_panel.html", takes_context=True)
def reseller_margin_panel(context) -> dict:
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if (request is None or getattr(tenant, "type", None) != Tenant.Type.AGENCY
            or not user_can(request.user, Action.VIEW_BILLING) or not reseller_mode_is(agency=tenant)):
        return {"margin": None}
    return {"margin": reseller_margin(agency=tenant)}
