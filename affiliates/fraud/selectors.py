"""Reads on fraud flags (which open flags hold a commission) and on what identifies a referrer (the IPs and devices
it used itself, the people of its workspace)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django_tenants.utils import schema_context

from accounts.models import Role
from accounts.selectors import member_emails
from affiliates.agencies.handoff import is_shadow_email
from affiliates.models import Affiliate, AffiliateFingerprint, Commission, FraudFlag, Referral
from tenants.models import Tenant


@dataclass(frozen=True)
class KnownFingerprints:
    """The hashed IP addresses and device ids an affiliate used itself."""

    ip_hashes: frozenset[str] = field(default_factory=frozenset)
    device_hashes: frozenset[str] = field(default_factory=frozenset)


def fraud_flags_holding(*, commission: Commission) -> QuerySet[FraudFlag]:
    """The open flags that hold `commission`: one on its invoice's commission, one on its referral, or one on its
    affiliate as a whole (no referral, no commission)."""
    return FraudFlag.objects.filter(status=FraudFlag.Status.OPEN, affiliate_id=commission.affiliate_id).filter(
        Q(commission__invoice_id=commission.invoice_id)
        | Q(commission__isnull=True, referral_id=commission.referral_id)
        | Q(commission__isnull=True, referral__isnull=True)).order_by("created_at", "pk")


def fraud_flag_commissions(*, flag: FraudFlag) -> QuerySet[Commission]:
    """The commissions `flag` covers: its commission's invoice (the earned one and its adjustments), else its
    referral's, else all of its affiliate's."""
    commissions = Commission.objects.filter(affiliate_id=flag.affiliate_id)
    if flag.commission_id is not None:
        return commissions.filter(invoice_id=flag.commission.invoice_id)
    if flag.referral_id is not None:
        return commissions.filter(referral_id=flag.referral_id)
    return commissions


def affiliate_fingerprints_known(*, affiliate_ids: Iterable[int]) -> dict[int, KnownFingerprints]:
    """The fingerprints of each of `affiliate_ids` that has any: those recorded as it signed in or used the portal
    (a workspace's referral account: as its staff signed in or opened the Referrals page, affiliates.fraud.
    sightings), the IP address its application came from, and, for a workspace's account, the IP address and
    device its own signup came from when it was referred itself. Three queries whatever the number of accounts."""
    affiliate_ids = set(affiliate_ids)
    ips: dict[int, set[str]] = {}
    devices: dict[int, set[str]] = {}
    for affiliate_id, application_ip in Affiliate.objects.filter(
            pk__in=affiliate_ids, application__ip_hash__gt="").values_list("pk", "application__ip_hash"):
        ips.setdefault(affiliate_id, set()).add(application_ip)
    own_signups = Referral.objects.filter(tenant__referrer_account__in=affiliate_ids).values_list(
        "tenant__referrer_account", "signup_ip_hash", "signup_device_hash")
    for affiliate_id, signup_ip, signup_device in own_signups:
        if signup_ip:
            ips.setdefault(affiliate_id, set()).add(signup_ip)
        if signup_device:
            devices.setdefault(affiliate_id, set()).add(signup_device)
    fingerprints = AffiliateFingerprint.objects.filter(affiliate_id__in=affiliate_ids)
    for affiliate_id, kind, fingerprint in fingerprints.values_list("affiliate_id", "kind", "hash"):
        (ips if kind == AffiliateFingerprint.Kind.IP else devices).setdefault(affiliate_id, set()).add(fingerprint)
    return {affiliate_id: KnownFingerprints(ip_hashes=frozenset(ips.get(affiliate_id, ())),
                                            device_hashes=frozenset(devices.get(affiliate_id, ())))
            for affiliate_id in ips.keys() | devices.keys()}


def workspace_staff_emails(*, tenants: Iterable[Tenant]) -> dict[int, frozenset[str]]:
    """The lower-cased email addresses of each workspace's people, by tenant id: its owner email and its active
    staff of any role. Agency staff acting there through a grant (shadow accounts) are left out: they are the
    agency's people, alike in every client's workspace. One query for which schemas exist (a tenant row without
    its schema has its owner email only: an absent schema in the search path would read the public users), then
    one per workspace."""
    tenants = list(tenants)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                       [[tenant.schema_name for tenant in tenants if tenant.schema_name]])
        existing = {row[0] for row in cursor.fetchall()}
    emails = {}
    for tenant in tenants:
        found = [tenant.owner_email]
        if tenant.schema_name in existing and not tenant.is_public:
            with schema_context(tenant.schema_name):
                found += member_emails(roles=tuple(Role.values))
        emails[tenant.pk] = frozenset(email.strip().lower() for email in found
                                      if email.strip() and not is_shadow_email(email))
    return emails
