"""Custom-domain pages: the Domains page of a tenant's staff (Settings → Domains), and the page for a host the
routing table does not know (settings.DEFAULT_NOT_FOUND_TENANT_VIEW).

The Domains page is for staff who manage settings, on a plan with white_label and custom domains; elsewhere it
answers 402 with the upgrade message. Another tenant's domain id is a 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from tenants.models import Tenant
from whitelabel.domains.exceptions import CustomDomainError, CustomDomainNotHeld
from whitelabel.domains.forms import DomainAddForm
from whitelabel.domains.selectors import (
    custom_domains_offered,
    domain_check_findings,
    domain_get,
    domain_list,
    domain_record_rows,
    domain_waiting_for_route,
)
from whitelabel.domains.services import domain_check, domain_claim, domain_remove
from whitelabel.models import CustomDomain
from whitelabel.models.domains import HOLDING_STATUSES

# What the last check's reason codes mean, for people (the API gives the codes).
REASONS = {
    "challenge_missing": "The TXT record is missing.",
    "challenge_mismatch": "The TXT record is there but does not carry this domain's token.",
    "not_pointed": "The domain points nowhere: create the CNAME (or, for an apex, the A records).",
    "cname_elsewhere": "The CNAME points somewhere else.",
    "addresses_elsewhere": "The domain resolves to other addresses than ours.",
}
# The existing badge colours: green routed, amber failing, grey waiting for its records, blue waiting for TLS.
BADGES = {"active": "badge-active", "failing": "badge-suspended", "pending": "badge-closed", "verified": "badge-role"}


def unknown_host(request: HttpRequest) -> HttpResponse:
    """A custom domain claimed but not routed yet (pending, verified) gets a neutral "not ready" page: nothing of
    the tenant, not even its name, since whoever points a hostname at us has not proven it is theirs until it is
    active. Any other unknown host gets the plain 404 page. Neither is cached: the answer changes with DNS."""
    hostname, _port = split_domain_port(request.get_host())
    if hostname and domain_waiting_for_route(hostname):
        response = render(request, "whitelabel/domain_not_ready.html", status=404)
    else:
        response = render(request, "404_host.html", status=404)
    add_never_cache_headers(response)
    return response


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def domains_page(request: HttpRequest) -> HttpResponse:
    """GET lists the tenant's domains with the records to create and what the last check found; POST adds one
    through domain_claim, whose refusals (invalid, ours, taken, over the plan's limit) show under the field."""
    tenant = request.tenant
    offered = custom_domains_offered(tenant=tenant)
    if not offered:
        return _upsell(request)
    form = DomainAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = domain_claim(tenant=tenant, hostname=form.cleaned_data["hostname"], now=timezone.now())
        except CustomDomainError as error:
            form.add_error("hostname", error.message)
        else:
            messages.success(request, f"{domain.hostname} added. Create the records below, then check it.")
            return redirect(f"{reverse('section_domains')}#domain-{domain.pk}")
    domains = list(domain_list(tenant=tenant, held_only=True).select_related("tenant"))
    return render(request, "whitelabel/domains/domains.html", {
        "active_section": "domains", "form": form, "offered": offered, "held": len(domains),
        "domains": [_domain_view(domain) for domain in domains],
    }, status=400 if form.errors else 200)


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def domain_check_now(request: HttpRequest, domain_id: int) -> HttpResponse:
    """Look the domain's records up now (the daily re-check's work, at once) and say what it found."""
    domain = _own_domain(request, domain_id)
    try:
        checked = domain_check(domain=domain, now=timezone.now())
    except CustomDomainNotHeld as error:
        messages.error(request, error.message)
    else:
        result = checked.last_check.get("result")
        if result == "passed":
            messages.success(request, f"{checked.hostname} checks out: it is {checked.get_status_display().lower()}.")
        elif result == "inconclusive":
            messages.warning(request, f"The DNS lookups for {checked.hostname} timed out or failed; try again later.")
        else:
            messages.error(request, f"{checked.hostname} does not check out yet: see what the check found.")
    return redirect(f"{reverse('section_domains')}#domain-{domain.pk}")


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def domain_remove_confirm(request: HttpRequest, domain_id: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the domain: it stops routing at once and is free to be claimed."""
    domain = _own_domain(request, domain_id)
    if request.method == "POST":
        try:
            domain_remove(domain=domain, now=timezone.now())
        except CustomDomainNotHeld as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{domain.hostname} removed. It no longer reaches your workspace.")
        return redirect("section_domains")
    return render(request, "whitelabel/domains/remove_confirm.html",
                  {"active_section": "domains", "domain": domain})


def _own_domain(request: HttpRequest, domain_id: int) -> CustomDomain:
    """One of this tenant's held domains; 404 for another tenant's, an ended one or none. Behind the plan's gate
    like the page: a tenant that lost white_label keeps its claims but changes them only after upgrading."""
    tenant: Tenant = request.tenant
    if not custom_domains_offered(tenant=tenant):
        raise Http404("No custom domains on this plan.")
    try:
        domain = domain_get(tenant=tenant, domain_id=domain_id)
    except CustomDomain.DoesNotExist as error:
        raise Http404("No such domain.") from error
    if domain.status not in HOLDING_STATUSES:
        raise Http404("This domain is no longer claimed.")
    return domain


def _domain_view(domain: CustomDomain) -> dict[str, Any]:
    last = domain.last_check or {}
    return {
        "domain": domain, "badge": BADGES.get(domain.status, "badge-closed"), "records": domain_record_rows(domain),
        "findings": domain_check_findings(domain),
        "result": last.get("result"), "reasons": [_reason_text(code) for code in last.get("reasons", [])],
    }


def _reason_text(code: str) -> str:
    if code.endswith("_timeout"):
        return f"The {code.removesuffix('_timeout').upper()} lookup timed out."
    if code.endswith("_error"):
        return f"The nameservers failed the {code.removesuffix('_error').upper()} lookup."
    return REASONS.get(code, code)


def _upsell(request: HttpRequest) -> HttpResponse:
    return render(request, "whitelabel/domains/upsell.html", {"active_section": "domains"}, status=402)
