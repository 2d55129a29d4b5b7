"""The sender-domain part of the Branding page (Settings → Branding): set the domain the brand sends from, see
the DKIM, SPF and DMARC records to create, check them now, remove the domain.

Staff who manage settings only, on a plan with white_label (402 with the upgrade message otherwise), and always
the tenant's own brand: there is no id in these URLs, so nobody can reach another workspace's sender domain."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import Action, staff_action_required
from billing.selectors import entitlements_for
from tenants.models import Tenant
from whitelabel.brands.selectors import brand_own
from whitelabel.email.exceptions import SenderDomainError, SenderDomainNeedsBrand
from whitelabel.email.forms import SenderDomainForm
from whitelabel.email.selectors import sender_address_on_domain, sender_domain_own, sender_records
from whitelabel.email.services import sender_domain_check, sender_domain_remove, sender_domain_set
from whitelabel.models import Brand

RECORD_TYPES = {"dkim": "DKIM", "spf": "SPF", "dmarc": "DMARC"}
# The existing badge colours: green verified, amber failing, grey waiting for its records.
BADGES = {"verified": "badge-active", "failing": "badge-suspended", "pending": "badge-closed"}


def sender_domain_section(*, tenant: Tenant, form: SenderDomainForm | None = None) -> dict[str, Any]:
    """What the Branding page shows of the sender domain (its template includes whitelabel/email/_sender_domain)."""
    brand = brand_own(tenant=tenant)
    sender = sender_domain_own(tenant=tenant) if brand else None
    records = sender_records(sender) if sender else ()
    findings = sender.last_check if sender else {}
    return {
        "sender_brand": brand,
        "sender": sender,
        "sender_form": form or SenderDomainForm(initial={"domain": sender.domain if sender else ""}),
        "sender_badge": BADGES.get(sender.status, "") if sender else "",
        "sender_rows": [{"key": record.key, "label": RECORD_TYPES[record.key], "name": record.name,
                         "value": record.value, "finding": findings.get(record.key)} for record in records],
        "sender_address_ok": bool(sender and sender_address_on_domain(sender_domain=sender,
                                                                      address=brand.email_sender_address)),
    }


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def sender_domain_save(request: HttpRequest) -> HttpResponse:
    """Set (or change) the domain; its refusals are shown on the Branding page."""
    tenant = request.tenant
    if not entitlements_for(tenant=tenant).white_label:
        return _upsell(request)
    form = SenderDomainForm(request.POST)
    if form.is_valid():
        try:
            sender = sender_domain_set(brand=_brand(tenant), domain=form.cleaned_data["domain"], now=timezone.now())
        except SenderDomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Create the records below for {sender.domain}, then check them.")
    else:
        messages.error(request, "Enter a domain such as mail.example.com.")
    return _back()


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def sender_domain_check_now(request: HttpRequest) -> HttpResponse:
    """Look the records up now (the daily re-check's work, at once) and say what it found."""
    tenant = request.tenant
    if not entitlements_for(tenant=tenant).white_label:
        return _upsell(request)
    sender = sender_domain_own(tenant=tenant)
    if sender is None:
        messages.error(request, "Set a sending domain first.")
        return _back()
    checked = sender_domain_check(sender_domain=sender, now=timezone.now())
    result = checked.last_check.get("result")
    if result == "passed":
        messages.success(request, f"{checked.domain} is verified: your emails are sent from it.")
    elif result == "inconclusive":
        messages.warning(request, f"The DNS lookups for {checked.domain} timed out or failed; try again later.")
    else:
        messages.error(request, f"{checked.domain} does not check out yet: see what the check found.")
    return _back()


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def sender_domain_delete(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    if not entitlements_for(tenant=tenant).white_label:
        return _upsell(request)
    brand = brand_own(tenant=tenant)
    if brand is not None:
        sender_domain_remove(brand=brand)
        messages.success(request, "Sending domain removed: your emails come from the platform's address again.")
    return _back()


def _brand(tenant: Tenant) -> Brand:
    brand = brand_own(tenant=tenant)
    if brand is None:
        raise SenderDomainNeedsBrand("Save your brand first: the sending domain belongs to it.")
    return brand


def _back() -> HttpResponse:
    return redirect(f"{reverse('section_branding')}#sender-domain")


def _upsell(request: HttpRequest) -> HttpResponse:
    return render(request, "whitelabel/brands/upsell.html", {"active_section": "branding"}, status=402)
