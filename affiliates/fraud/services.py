"""Writing fraud flags and reviewing them. Each rule (affiliates.fraud.rules) that finds something writes one flag
with its reason and holds the commissions it covers (affiliates.fraud.selectors.fraud_flag_commissions): its
commission's invoice, its referral, or all of its affiliate's. Ops clear a flag (its commissions are released,
unless another open flag or an open dispute still holds them) or confirm it (its unpaid commissions are reversed,
those already paid out are clawed back from the next payout).

Self-referral compares the referral's signup and click with the IP addresses and devices the affiliate itself
used (AffiliateFingerprint, written by affiliates.fraud.sightings when it signs in or uses the portal, plus its
application's address), never the click with the signup: a visitor who clicks and signs up in one browser is
every honest referral. It also compares the people: the referred workspace's owner and team against the
affiliate's email and, for an affiliate with a workspace (an agency), that workspace's team. A workspace
referring another through its referral link is checked the same way (fraud_tenant_self_referral_reason), its
reward refused rather than flagged (affiliates.referral_rewards).

Referral rules (self-referral, burst, disposable email) run once per referral and rule: a flag ops cleared is not
written again. The commission engine runs them when a referral earns its first commission; attribution may run
them at signup (fraud_referral_check) so that ops see a flag before any money is at stake."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from affiliates.commissions.holds import (
    commission_claw_back,
    commissions_hold,
    commissions_release,
    commissions_reverse,
)
from affiliates.fraud import rules
from affiliates.fraud.selectors import (
    KnownFingerprints,
    affiliate_fingerprints_known,
    fraud_flag_commissions,
    workspace_staff_emails,
)
from affiliates.models import (
    Affiliate,
    AffiliateFingerprint,
    AffiliateProgram,
    Commission,
    FraudFlag,
    Payout,
    Referral,
)
from billing.invoicing.selectors import tenants_refunded_or_disputed
from config.errors import DomainError
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Rule = FraudFlag.Rule
SYSTEM = "system"
FINGERPRINTS_KEPT_PER_KIND = 20


class FraudFlagReviewed(DomainError):
    """The flag was already cleared or confirmed."""

    code = "fraud_flag_reviewed"
    status = 409


def fraud_referral_check(*, referral: Referral, now: datetime) -> list[FraudFlag]:
    """Run the referral rules on `referral` (self-referral unless it is an agency's own client, burst of signups,
    disposable email) and return the flags written; a rule that already flagged this referral is not run again."""
    return fraud_referrals_check(referrals=[referral], now=now)


@transaction.atomic
def fraud_referrals_check(*, referrals: list[Referral], now: datetime) -> list[FraudFlag]:
    """fraud_referral_check for several referrals (each with its affiliate, click and tenant loaded), with the
    rules already run read in one query for all."""
    done: dict[int, set[str]] = {}
    for referral_id, rule in FraudFlag.objects.filter(referral__in=referrals, commission__isnull=True).values_list(
            "referral_id", "rule"):
        done.setdefault(referral_id, set()).add(rule)
    known = affiliate_fingerprints_known(affiliate_ids={referral.affiliate_id for referral in referrals})
    staff = _staff_emails_for(referrals=[referral for referral in referrals
                                         if Rule.SELF_REFERRAL not in done.get(referral.pk, set())
                                         and not _agency_client(referral)])
    flags = []
    for referral in referrals:
        flags += _referral_check(referral=referral, done=done.get(referral.pk, set()),
                                 known=known.get(referral.affiliate_id, KnownFingerprints()), staff=staff, now=now)
    return flags


def fraud_tenant_self_referral_reason(*, referral: Referral, referrer_account: Affiliate) -> str | None:
    """Why a workspace's referral of another one (its referral link) is the referrer referring itself, or None:
    the self-referral rule with the referring workspace in the affiliate's place (its owner's email and domain,
    its team, the IP addresses its staff used and its own signup's). The agency exception does not apply: an
    agency's clients are bound through its agency account, never through a workspace's link."""
    referrer = referrer_account.tenant
    known = affiliate_fingerprints_known(affiliate_ids=[referrer_account.pk]).get(referrer_account.pk,
                                                                                 KnownFingerprints())
    staff = workspace_staff_emails(tenants=[referral.tenant, referrer])
    return _self_referral_reason(referral=referral, referrer_email=referrer.owner_email, known=known,
                                 referred_staff=staff[referral.tenant_id], referrer_staff=staff[referrer.pk],
                                 referrer="the referring workspace")


@transaction.atomic
def affiliate_fingerprint_record(*, affiliate: Affiliate, kind: str, fingerprint: str, now: datetime) -> None:
    """Remember that `affiliate` itself used the IP address or device hashed as `fingerprint` (its `kind`) at
    `now`: one upsert, then only the FINGERPRINTS_KEPT_PER_KIND most recent of that kind are kept (an address the
    affiliate left long ago may be someone else's now). Callers write a hash once per session, not per request."""
    AffiliateFingerprint.objects.bulk_create(
        [AffiliateFingerprint(affiliate=affiliate, kind=kind, hash=fingerprint, first_seen_at=now, last_seen_at=now)],
        update_conflicts=True, unique_fields=["affiliate", "kind", "hash"], update_fields=["last_seen_at"])
    older = (AffiliateFingerprint.objects.filter(affiliate=affiliate, kind=kind)
             .order_by("-last_seen_at", "-pk")[FINGERPRINTS_KEPT_PER_KIND:])
    AffiliateFingerprint.objects.filter(pk__in=older.values("pk")).delete()


def _referral_check(*, referral: Referral, done: set[str], known: KnownFingerprints,
                    staff: dict[int, frozenset[str]], now: datetime) -> list[FraudFlag]:
    affiliate = referral.affiliate
    flags = []
    if Rule.SELF_REFERRAL not in done and not _agency_client(referral):
        reason = _self_referral_reason(referral=referral, referrer_email=affiliate.email, known=known,
                                       referred_staff=staff.get(referral.tenant_id, frozenset()),
                                       referrer_staff=staff.get(affiliate.tenant_id, frozenset()))
        if reason:
            flags.append(_flag_write(affiliate=affiliate, referral=referral, rule=Rule.SELF_REFERRAL, reason=reason,
                                     now=now))
    if Rule.DISPOSABLE_EMAIL not in done:
        reason = rules.disposable_email_reason(referral.owner_email)
        if reason:
            flags.append(_flag_write(affiliate=affiliate, referral=referral, rule=Rule.DISPOSABLE_EMAIL,
                                     reason=reason, now=now))
    if Rule.SIGNUP_BURST not in done:
        flags.extend(_burst_check(referral=referral, now=now))
    return flags


def _self_referral_reason(*, referral: Referral, referrer_email: str, known: KnownFingerprints,
                          referred_staff: frozenset[str], referrer_staff: frozenset[str],
                          referrer: str = "the affiliate") -> str | None:
    click = referral.click
    return rules.self_referral_reason(
        affiliate_email=referrer_email, owner_email=referral.owner_email or referral.tenant.owner_email,
        signup_ip_hash=referral.signup_ip_hash, signup_device_hash=referral.signup_device_hash,
        click_ip_hash=click.ip_hash if click else "", click_device_hash=click.device_hash if click else "",
        affiliate_ip_hashes=known.ip_hashes, affiliate_device_hashes=known.device_hashes,
        referred_staff_emails=referred_staff, referrer_staff_emails=referrer_staff, referrer=referrer)


def _staff_emails_for(*, referrals: list[Referral]) -> dict[int, frozenset[str]]:
    """The people of the referred workspaces and of the referring ones (affiliates with a workspace: agencies),
    by tenant id."""
    tenants = {referral.tenant_id: referral.tenant for referral in referrals}
    referrer_tenant_ids = {referral.affiliate.tenant_id for referral in referrals} - {None} - tenants.keys()
    tenants.update((tenant.pk, tenant) for tenant in Tenant.objects.filter(pk__in=referrer_tenant_ids))
    return workspace_staff_emails(tenants=tenants.values()) if tenants else {}


def fraud_manual_approval_reason(*, commission: Commission, program: AffiliateProgram) -> str | None:
    """Why `commission` waits for an ops approval (above program.manual_approval_above), or None."""
    return rules.manual_approval_reason(amount=commission.amount, currency=commission.currency,
                                        above=program.manual_approval_above)


@transaction.atomic
def fraud_manual_approval_flag(*, commission: Commission, reason: str, now: datetime) -> FraudFlag:
    """The flag of a commission above the manual approval amount (the commission is held)."""
    return _flag_write(affiliate=commission.affiliate, referral=commission.referral, commission=commission,
                       rule=Rule.MANUAL_APPROVAL, reason=reason, now=now)


@transaction.atomic
def fraud_refund_rate_check(*, affiliate: Affiliate, program: AffiliateProgram, now: datetime) -> FraudFlag | None:
    """Flag `affiliate` (all of its unpaid commissions held) when its paying customers refund or dispute at or
    above program.refund_rate_flag_percent; nothing while such a flag is open. Counted over the referred tenants
    that earned a commission, once there are AFFILIATE_REFUND_RATE_MIN_CUSTOMERS of them."""
    if _affiliate_flag_open(affiliate, Rule.REFUND_RATE):
        return None
    paying = _paying_tenant_ids(affiliate)
    refunded = tenants_refunded_or_disputed(tenant_ids=paying)
    reason = rules.refund_rate_reason(refunded=len(refunded), paying=len(paying),
                                      limit_percent=program.refund_rate_flag_percent,
                                      min_customers=settings.AFFILIATE_REFUND_RATE_MIN_CUSTOMERS)
    if reason is None:
        return None
    return _flag_write(affiliate=affiliate, rule=Rule.REFUND_RATE, reason=reason, now=now)


@transaction.atomic
def fraud_min_paying_customers_check(*, affiliate: Affiliate, program: AffiliateProgram,
                                     now: datetime) -> FraudFlag | None:
    """Before an affiliate's first payout: flag it (its commissions held) while it has fewer paying customers than
    program.min_paying_customers, and clear that flag on its own once it has enough. Returns the open flag."""
    open_flag = _affiliate_flag_open(affiliate, Rule.MIN_PAYING_CUSTOMERS)
    reason = None
    if not Payout.objects.filter(affiliate=affiliate).exists():
        reason = rules.min_paying_customers_reason(paying=len(_paying_tenant_ids(affiliate)),
                                                   required=program.min_paying_customers)
    if reason is None:
        if open_flag is not None:
            fraud_flag_clear(flag=open_flag, actor=SYSTEM, now=now)
        return None
    return open_flag or _flag_write(affiliate=affiliate, rule=Rule.MIN_PAYING_CUSTOMERS, reason=reason, now=now)


@transaction.atomic
def fraud_flag_clear(*, flag: FraudFlag, actor: str, now: datetime) -> FraudFlag:
    """Ops looked and found nothing: the flag is cleared and its commissions released (unless something else
    still holds them). Refused (FraudFlagReviewed) once reviewed."""
    flag = _flag_review(flag=flag, status=FraudFlag.Status.CLEARED, actor=actor, now=now)
    commissions_release(commissions=fraud_flag_commissions(flag=flag), now=now)
    return flag


@transaction.atomic
def fraud_flag_confirm(*, flag: FraudFlag, actor: str, now: datetime) -> FraudFlag:
    """Ops confirm the fraud: the commissions the flag covers are reversed if not paid yet, and clawed back
    (a negative adjustment netted from the next payout) if already paid out. Refused once reviewed."""
    flag = _flag_review(flag=flag, status=FraudFlag.Status.CONFIRMED, actor=actor, now=now)
    covered = fraud_flag_commissions(flag=flag)
    commissions_reverse(commissions=covered, now=now)
    for commission in covered.filter(kind=Commission.Kind.EARNED, payout__isnull=False):
        commission_claw_back(earned=commission, share=None, source_key=f"fraud:{flag.pk}:{commission.pk}", now=now)
    return flag


def _flag_review(*, flag: FraudFlag, status: str, actor: str, now: datetime) -> FraudFlag:
    flag = FraudFlag.objects.select_for_update(of=("self",)).select_related("commission").get(pk=flag.pk)
    if flag.status != FraudFlag.Status.OPEN:
        raise FraudFlagReviewed(f"This flag is already {flag.get_status_display().lower()}.",
                                details={"status": flag.status})
    flag.status, flag.reviewed_by, flag.reviewed_at = status, actor[:254], now
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    logger.info("fraud_flag_reviewed flag=%s rule=%s status=%s actor=%s", flag.pk, flag.rule, status, actor)
    return flag


def _flag_write(*, affiliate: Affiliate, rule: str, reason: str, now: datetime, referral: Referral | None = None,
                commission: Commission | None = None) -> FraudFlag:
    flag = FraudFlag.objects.create(affiliate=affiliate, referral=referral, commission=commission, rule=rule,
                                    reason=reason[:500], created_at=now)
    commissions_hold(commissions=fraud_flag_commissions(flag=flag), reason=flag.reason)
    logger.info("fraud_flag_opened flag=%s affiliate=%s referral=%s rule=%s", flag.pk, affiliate.pk,
                referral.pk if referral else None, rule)
    return flag


def _agency_client(referral: Referral) -> bool:
    affiliate = referral.affiliate
    return rules.is_agency_client(source=referral.source, affiliate_kind=affiliate.kind,
                                  affiliate_tenant_id=affiliate.tenant_id,
                                  parent_agency_id=referral.tenant.parent_agency_id)


def _burst_check(*, referral: Referral, now: datetime) -> list[FraudFlag]:
    """Flag every referral of the burst `referral` belongs to: AFFILIATE_SIGNUP_BURST_COUNT or more signups of its
    affiliate from its IP address (else its network) within AFFILIATE_SIGNUP_BURST_MINUTES before it."""
    minutes, limit = settings.AFFILIATE_SIGNUP_BURST_MINUTES, settings.AFFILIATE_SIGNUP_BURST_COUNT
    sources = [(field, by) for field, by in (("signup_ip_hash", "IP address"), ("signup_network_hash", "network"))
               if getattr(referral, field)]
    if not sources:
        return []
    window = Referral.objects.filter(affiliate_id=referral.affiliate_id,
                                     created_at__gt=referral.created_at - timedelta(minutes=minutes),
                                     created_at__lte=referral.created_at)
    # Both counts in one statement: this runs on every referral's first commission.
    counts = window.aggregate(**{field: Count("pk", filter=Q(**{field: getattr(referral, field)}))
                                 for field, _ in sources})
    for field, by in sources:
        reason = rules.signup_burst_reason(signups=counts[field], limit=limit, minutes=minutes, by=by)
        if reason:
            burst = window.filter(**{field: getattr(referral, field)})
            flagged = FraudFlag.objects.filter(rule=Rule.SIGNUP_BURST, referral__in=burst).values("referral_id")
            return [_flag_write(affiliate=referral.affiliate, referral=member, rule=Rule.SIGNUP_BURST, reason=reason,
                                now=now)
                    for member in burst.exclude(pk__in=flagged).select_related("affiliate")]
    return []


def _affiliate_flag_open(affiliate: Affiliate, rule: str) -> FraudFlag | None:
    return FraudFlag.objects.filter(affiliate=affiliate, rule=rule, status=FraudFlag.Status.OPEN,
                                    referral__isnull=True, commission__isnull=True).first()


def _paying_tenant_ids(affiliate: Affiliate) -> list[int]:
    """The referred tenants that earned the affiliate a commission (its paying customers)."""
    return list(Commission.objects.filter(affiliate=affiliate, kind=Commission.Kind.EARNED)
                .exclude(status=Commission.Status.REVERSED)
                .values_list("referral__tenant_id", flat=True).distinct())
