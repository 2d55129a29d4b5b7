"""Writes of the affiliate program: applications (submitted on the public site, approved or rejected by ops) and
affiliate accounts (created on approval, suspended and reinstated by ops).

An affiliate's account is a user in the public schema with no role and no is_staff: it can sign in on the public
host (allauth, with password reset and MFA), never into the ops admin (which wants is_staff), and an ops account is
never made an affiliate (its email is refused). Every write here runs in the public schema whatever the caller's:
a user row created in a tenant's schema would be a member of that tenant.
"""

from __future__ import annotations

import logging
import string
from datetime import datetime

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from affiliates.exceptions import AffiliateEmailTaken, ApplicationNotPending, ApplicationPending
from affiliates.models import Affiliate, AffiliateApplication
from config.mail import email_message, email_render
from tenants.urls_for import public_url

logger = logging.getLogger(__name__)

CODE_SUFFIX_CHARS = string.ascii_lowercase + string.digits
CODE_SUFFIX_LENGTH = 5
CODE_ATTEMPTS = 5


def application_submit(*, name: str, email: str, website: str, promotion: str, ip_hash: str,
                       now: datetime) -> AffiliateApplication:
    """A new pending application. One pending application per email: a second raises ApplicationPending."""
    try:
        with schema_context(get_public_schema_name()), transaction.atomic():
            return AffiliateApplication.objects.create(
                name=name.strip(), email=email.strip().lower(), website=website.strip(), promotion=promotion.strip(),
                ip_hash=ip_hash, created_at=now,
            )
    except IntegrityError:
        raise ApplicationPending("An application from this email is already waiting for review.",
                                 field="email") from None


def application_approve(*, application: AffiliateApplication, reviewer: str, now: datetime) -> Affiliate:
    """Approve a pending application: a public-schema user without a password (neither ops nor staff), its
    affiliate with a unique code, and an email with a link to set the password (allauth's password reset).
    AffiliateEmailTaken when the email already has a public-host account (ops' or another affiliate's)."""
    with schema_context(get_public_schema_name()), transaction.atomic():
        application = AffiliateApplication.objects.select_for_update().get(pk=application.pk)
        if application.status != AffiliateApplication.Status.PENDING:
            raise ApplicationNotPending(f"This application is already {application.status}.")
        email = application.email.strip().lower()
        if User.objects.annotate(email_lower=Lower("email")).filter(email_lower=email).exists():
            raise AffiliateEmailTaken("A public-host account (ops or affiliate) already uses this email.",
                                      field="email")
        user = User.objects.create_user(email, password=None, full_name=application.name)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        affiliate = _affiliate_create(
            kind=Affiliate.Kind.AFFILIATE, name=application.name, email=email, user=user, application=application,
            website=application.website, payout_email=email, created_at=now,
        )
        application.status = AffiliateApplication.Status.APPROVED
        application.reviewed_by, application.reviewed_at = reviewer, now
        application.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        _welcome_email_send_on_commit(affiliate, user)
    logger.info("affiliate_approved affiliate_id=%s application_id=%s", affiliate.pk, application.pk)
    return affiliate


def application_reject(*, application: AffiliateApplication, reviewer: str, reason: str,
                       now: datetime) -> AffiliateApplication:
    with schema_context(get_public_schema_name()), transaction.atomic():
        application = AffiliateApplication.objects.select_for_update().get(pk=application.pk)
        if application.status != AffiliateApplication.Status.PENDING:
            raise ApplicationNotPending(f"This application is already {application.status}.")
        application.status = AffiliateApplication.Status.REJECTED
        application.reviewed_by, application.reviewed_at = reviewer, now
        application.rejection_reason = reason[:500]
        application.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason"])
    return application


def affiliate_suspend(*, affiliate: Affiliate) -> Affiliate:
    """A suspended affiliate earns nothing more (its clicks, codes and new referrals are ignored) and cannot sign
    in: its user is deactivated, which also ends the sessions it has (Django drops an inactive user's session)."""
    return _affiliate_status_set(affiliate, status=Affiliate.Status.SUSPENDED, user_active=False)


def affiliate_reinstate(*, affiliate: Affiliate) -> Affiliate:
    return _affiliate_status_set(affiliate, status=Affiliate.Status.ACTIVE, user_active=True)


def affiliate_code_generate(name: str) -> str:
    """A referral code from the name plus a random suffix: readable in a link, not guessable from the name."""
    stem = slugify(name)[:30].strip("-") or "partner"
    return f"{stem}-{get_random_string(CODE_SUFFIX_LENGTH, CODE_SUFFIX_CHARS)}"


def _affiliate_create(*, name: str, **fields) -> Affiliate:
    # 36^5 suffixes per name: a taken code is rare, and a race for the same one ends in the unique constraint.
    for _ in range(CODE_ATTEMPTS):
        code = affiliate_code_generate(name)
        if not Affiliate.objects.filter(code=code).exists():
            return Affiliate.objects.create(code=code, name=name, **fields)
    raise IntegrityError("No free referral code after several attempts.")


def _affiliate_status_set(affiliate: Affiliate, *, status: str, user_active: bool) -> Affiliate:
    with schema_context(get_public_schema_name()), transaction.atomic():
        affiliate = Affiliate.objects.select_for_update().get(pk=affiliate.pk)
        affiliate.status = status
        affiliate.save(update_fields=["status"])  # its signal forgets the cached route of its code
        if affiliate.user_id is not None:
            User.objects.filter(pk=affiliate.user_id, is_staff=False).update(is_active=user_active)
    logger.info("affiliate_status_set affiliate_id=%s status=%s", affiliate.pk, status)
    return affiliate


def _welcome_email_send_on_commit(affiliate: Affiliate, user: User) -> None:
    path = reverse("account_reset_password_from_key", urlconf=settings.PUBLIC_SCHEMA_URLCONF,
                   kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)})
    context = {
        "name": affiliate.name, "code": affiliate.code, "set_password_url": public_url(path),
        "login_url": public_url(reverse("account_login", urlconf=settings.PUBLIC_SCHEMA_URLCONF)),
        "link": public_url(f"/r/{affiliate.code}"), "home_link": public_url(f"/?ref={affiliate.code}"),
    }
    # Platform mail (the public schema): Tollgate's layout and sender, through the one email door.
    public = get_public_schema_name()
    email = email_render(schema_name=public, subject="Welcome to the Tollgate affiliate program",
                         template="affiliates/email/approved", context=context)
    transaction.on_commit(email_message(schema_name=public, email=email, to=[affiliate.email]).send)
