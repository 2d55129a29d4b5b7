"""Noting the IP addresses and devices an affiliate uses itself, for the self-referral rule: when it signs in on the
public host and on every page of its portal, hashed as clicks and signups are (affiliates.fingerprints). A
workspace's referral account (a tenant's or an agency's) is noted too, from its own host: when its staff sign in
and when they open the Referrals page, where its link is. Only the IP address there: the device cookie is the
public host's (host-only), a workspace's host never sees it. An agency's staff acting in a client's workspace
(shadow accounts) are the agency's, not the client's, and are not noted for it.

Cheap by design: the hashes already written in this session are remembered in the session itself, so a portal page
costs no query for them; a hash is written (one upsert) the first time a session sees it, as when the affiliate
moves to another network."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from affiliates.agencies.handoff import is_shadow_email
from affiliates.clicks import DEVICE_COOKIE_NAME
from affiliates.fingerprints import client_ip, device_hash, ip_hash
from affiliates.fraud.services import affiliate_fingerprint_record
from affiliates.models import Affiliate, AffiliateFingerprint
from affiliates.selectors import affiliate_for_user

SESSION_KEY = "affiliates.fingerprints_noted"
NOTED_PER_SESSION = 20

Kind = AffiliateFingerprint.Kind


def affiliate_sighting_note(request: HttpRequest, *, affiliate: Affiliate, device_token: str) -> None:
    """Record the request's IP address and `device_token` (the browser's tg_device cookie) as `affiliate`'s own,
    unless this session already did."""
    noted = list(request.session.get(SESSION_KEY, []))
    fresh = [(kind, fingerprint) for kind, fingerprint in ((Kind.IP, ip_hash(client_ip(request))),
                                                           (Kind.DEVICE, device_hash(device_token)))
             if fingerprint and f"{kind}:{fingerprint}" not in noted]
    if not fresh:
        return
    now = timezone.now()
    for kind, fingerprint in fresh:
        affiliate_fingerprint_record(affiliate=affiliate, kind=kind, fingerprint=fingerprint, now=now)
    # A session that wanders across many networks keeps only its latest ones: the list stays small.
    request.session[SESSION_KEY] = (noted + [f"{kind}:{fingerprint}" for kind, fingerprint in fresh])[
        -NOTED_PER_SESSION:]


def workspace_sighting_note(request: HttpRequest, *, user) -> None:
    """Record the request's IP address as its workspace's own (`request.tenant`'s referral account, if it has one
    yet), unless `user` is an agency's staff acting there or this session already did."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public or is_shadow_email(getattr(user, "email", "")):
        return
    account = Affiliate.objects.filter(tenant=tenant).first()
    if account is not None:
        affiliate_sighting_note(request, affiliate=account, device_token="")


@receiver(user_logged_in)
def affiliate_signed_in(sender, *, request: HttpRequest | None, user, **kwargs) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return
    if not tenant.is_public:
        # A tenant's users live in its own schema, where a user id is not an affiliate's: the workspace is noted.
        workspace_sighting_note(request, user=user)
        return
    affiliate = affiliate_for_user(user)
    if affiliate is not None:
        affiliate_sighting_note(request, affiliate=affiliate, device_token=request.COOKIES.get(DEVICE_COOKIE_NAME, ""))
