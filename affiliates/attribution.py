"""Attribution: a new tenant bound to the affiliate who brought it, once and for ever.

On `tenants.events.tenant_signed_up` the signup's referral cookie (affiliates.clicks) gives the visitor's first and
latest click inside the program's cookie window; the program's attribution setting picks one (first touch by
default). A promotion code bound to an affiliate, typed at signup, attributes even without a click, and wins over a
click: it is the visitor's own, latest and most deliberate statement of who sent them. Codes and clicks of suspended
or unknown affiliates are ignored (the next candidate is tried). A tenant has at most one referrer, ever: the
Referral is one-to-one with the tenant, and a second binding (another path, a race) changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from affiliates.clicks import DEVICE_COOKIE_NAME, clicks_flush, referral_cookie_read
from affiliates.fingerprints import device_hash as device_hash_of
from affiliates.fingerprints import ip_hash, network_hash
from affiliates.models import Affiliate, AffiliateProgram, Referral, ReferralClick
from affiliates.program import program_get
from affiliates.selectors import affiliate_by_promotion_code
from billing.models import Subscription
from billing.subscriptions.selectors import subscription_current
from tenants.events import tenant_signed_up
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@receiver(tenant_signed_up)
def tenant_signed_up_attribute(sender, *, tenant: Tenant, owner_email: str, cookies: dict[str, str], ip: str,
                               promotion_code: str, **kwargs) -> None:
    now = timezone.now()
    program = program_get()
    cookie = referral_cookie_read(cookies, now=now, window_days=program.cookie_days)
    touch = None
    if cookie is not None:
        touch = cookie.first if program.attribution == AffiliateProgram.Attribution.FIRST_TOUCH else cookie.last
    referral_bind(
        tenant=tenant, click_id=touch.click_id if touch else None, promotion_code=promotion_code,
        device_hash=device_hash_of(cookies.get(DEVICE_COOKIE_NAME, "")), signup_ip=ip, owner_email=owner_email,
        now=now, clicked_affiliate_id=touch.affiliate_id if touch else None,
        clicked_at=touch.at if touch else None,
    )


def referral_bind(*, tenant: Tenant, click_id: uuid.UUID | None = None, promotion_code: str = "",
                  device_hash: str = "", signup_ip: str = "", owner_email: str = "", source: str | None = None,
                  now: datetime, affiliate: Affiliate | None = None, clicked_affiliate_id: int | None = None,
                  clicked_at: datetime | None = None) -> Referral | None:
    """Bind `tenant` to its referrer, if it has one and had none. Returns the referral made now, or None (no
    attribution, or the tenant already has its referrer, which stays).

    Candidates, the first active one wins: `affiliate` given by the caller (an agency creating its client, with
    `source` "agency"); the affiliate of `promotion_code`; the click `click_id`, inside the program's window.
    A click still in the buffer (the signup came seconds after it) is flushed first; if another flush holds it,
    `clicked_affiliate_id` and `clicked_at` (from the signed cookie) bind the referral without its click row.
    `source` defaults to what found the affiliate ("tenant_link" for a tenant's own referral link)."""
    program = program_get()
    click = None
    if affiliate is not None and affiliate.status != Affiliate.Status.ACTIVE:
        affiliate = None
    if affiliate is None:
        coded = affiliate_by_promotion_code(promotion_code)
        if coded is not None and coded.status == Affiliate.Status.ACTIVE:
            affiliate, source = coded, source or Referral.Source.PROMOTION_CODE
    if affiliate is None and click_id is not None:
        affiliate, click = _click_affiliate(click_id, window_start=now - timedelta(days=program.cookie_days),
                                            clicked_affiliate_id=clicked_affiliate_id, clicked_at=clicked_at)
    if affiliate is None or affiliate.tenant_id == tenant.pk:
        return None
    if source is None:
        source = Referral.Source.TENANT_LINK if affiliate.kind == Affiliate.Kind.TENANT else Referral.Source.CLICK
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                tenant=tenant, affiliate=affiliate, click=click, source=source, status=_status_now(tenant),
                signup_ip_hash=ip_hash(signup_ip), signup_network_hash=network_hash(signup_ip),
                signup_device_hash=device_hash, owner_email=owner_email.strip().lower(), created_at=now,
            )
    except IntegrityError:
        logger.info("referral_already_bound tenant_id=%s affiliate_id=%s", tenant.pk, affiliate.pk)
        return None
    logger.info("referral_bound tenant_id=%s affiliate_id=%s source=%s", tenant.pk, affiliate.pk, source)
    return referral


def _click_affiliate(click_id: uuid.UUID, *, window_start: datetime, clicked_affiliate_id: int | None,
                     clicked_at: datetime | None) -> tuple[Affiliate | None, ReferralClick | None]:
    click = _click_get(click_id)
    if click is None:
        try:
            clicks_flush()
        except Exception as error:  # Redis or the database: bind from the cookie below
            logger.warning("referral_click_flush_failed error=%s", type(error).__name__)
        click = _click_get(click_id)
    if click is not None:
        if click.created_at < window_start or click.affiliate.status != Affiliate.Status.ACTIVE:
            return None, None
        return click.affiliate, click
    if clicked_affiliate_id is None or clicked_at is None or clicked_at < window_start:
        return None, None
    logger.info("referral_click_not_flushed_yet click_id=%s", click_id)
    return Affiliate.objects.filter(pk=clicked_affiliate_id, status=Affiliate.Status.ACTIVE).first(), None


def _click_get(click_id: uuid.UUID) -> ReferralClick | None:
    return ReferralClick.objects.select_related("affiliate").filter(click_id=click_id).first()


def _status_now(tenant: Tenant) -> str:
    subscription = subscription_current(tenant=tenant)
    if subscription is not None and subscription.status == Subscription.Status.TRIALING:
        return Referral.Status.TRIALING
    return Referral.Status.SIGNED_UP
