"""Reads on fraud flags (which open flags hold a commission) and on what identifies an affiliate (the IPs and
devices it used itself)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from affiliates.models import Affiliate, AffiliateFingerprint, Commission, FraudFlag


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
    """The fingerprints of each of `affiliate_ids` that has any: those recorded as it signed in or used the portal,
    and the IP address its application came from. Two queries whatever the number of affiliates."""
    affiliate_ids = set(affiliate_ids)
    ips: dict[int, set[str]] = {}
    devices: dict[int, set[str]] = {}
    for affiliate_id, application_ip in Affiliate.objects.filter(
            pk__in=affiliate_ids, application__ip_hash__gt="").values_list("pk", "application__ip_hash"):
        ips.setdefault(affiliate_id, set()).add(application_ip)
    fingerprints = AffiliateFingerprint.objects.filter(affiliate_id__in=affiliate_ids)
    for affiliate_id, kind, fingerprint in fingerprints.values_list("affiliate_id", "kind", "hash"):
        (ips if kind == AffiliateFingerprint.Kind.IP else devices).setdefault(affiliate_id, set()).add(fingerprint)
    return {affiliate_id: KnownFingerprints(ip_hashes=frozenset(ips.get(affiliate_id, ())),
                                            device_hashes=frozenset(devices.get(affiliate_id, ())))
            for affiliate_id in ips.keys() | devices.keys()}
