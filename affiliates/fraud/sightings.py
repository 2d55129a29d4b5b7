"""Noting the IP addresses and devices an affiliate uses itself, for the self-referral rule: when it signs in on the
public host and on every page of its portal, hashed as clicks and signups are (affiliates.fingerprints).

Cheap by design: the hashes already written in this session are remembered in the session itself, so a portal page
costs no query for them; a hash is written (one upsert) the first time a session sees it, as when the affiliate
moves to another network."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

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


@receiver(user_logged_in)
def affiliate_signed_in(sender, *, request: HttpRequest | None, user, **kwargs) -> None:
    # Only on the public host: a tenant's users live in its own schema, where a user id is not an affiliate's.
    tenant = getattr(request, "tenant", None)
    if tenant is None or not tenant.is_public:
        return
    affiliate = affiliate_for_user(user)
    if affiliate is not None:
        affiliate_sighting_note(request, affiliate=affiliate, device_token=request.COOKIES.get(DEVICE_COOKIE_NAME, ""))
