"""The Referrals page on a tenant's host: the workspace's own referral link, how many workspaces signed up through
it and pay, the rewards earned, and the program's rules. Every member may see and share the link; everything is
read for `request.tenant` only, and the workspaces it referred are never named."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import Action, staff_action_required
from affiliates.fraud.sightings import workspace_sighting_note
from affiliates.models import AffiliateProgram
from affiliates.program import program_get
from affiliates.referral_rewards.selectors import tenant_referral_summary
from affiliates.referral_rewards.services import tenant_referrer_ensure


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def referrals_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # The link exists from the first visit: a GET that writes once, like a lazily opened account.
    account = tenant_referrer_ensure(tenant=request.tenant, now=now)
    # Where the link is copied from: the self-referral rule knows this IP address as the workspace's own.
    workspace_sighting_note(request, user=request.user)
    program = program_get()
    return render(request, "affiliates/referrals.html", {
        "active_section": "referrals",
        "summary": tenant_referral_summary(tenant=request.tenant, account=account, now=now),
        "program": program,
        "reward_is_tokens": program.referrer_reward == AffiliateProgram.ReferrerReward.TOKENS,
        "year": now.year,
    })
