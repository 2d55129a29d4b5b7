"""Affiliate-portal helpers: an approved affiliate with its public-host account, a client signed in as it, and its
figures written as the program would have (clicks, referrals of real tenants, commissions on their invoices)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from affiliates.models import Affiliate, Commission, Referral, ReferralClick
from billing.models import Invoice
from tenants.models import Tenant
from tests.support.tenants import client_for

PORTAL = "/affiliates/portal/"
PASSWORD = "pw-affiliate-portal-1"


def affiliate_with_account(*, code: str, at: datetime, **fields) -> Affiliate:
    """An approved, active affiliate (kind affiliate) and its public-schema user, neither ops nor staff."""
    email = fields.pop("email", f"{code}@affiliates.test")
    with schema_context(get_public_schema_name()):
        user = User.objects.create_user(email=email, password=PASSWORD)
    return Affiliate.objects.create(kind=Affiliate.Kind.AFFILIATE, code=code, name=code.title(), email=email,
                                    user=user, created_at=at, **fields)


def portal_client(affiliate: Affiliate) -> Client:
    client = client_for(None)
    with schema_context(get_public_schema_name()):
        client.force_login(affiliate.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def clicks_record(affiliate: Affiliate, how_many: int, *, at: datetime) -> None:
    ReferralClick.objects.bulk_create([
        ReferralClick(click_id=uuid.uuid4(), affiliate=affiliate, landing_path="/", ip_hash=f"ip-{n}",
                      user_agent_class=ReferralClick.UserAgentClass.DESKTOP, created_at=at) for n in range(how_many)])


def referral_of(tenant: Tenant, affiliate: Affiliate, *, at: datetime, status: str = Referral.Status.SIGNED_UP,
                paid_at: datetime | None = None) -> Referral:
    return Referral.objects.create(tenant=tenant, affiliate=affiliate, source=Referral.Source.CLICK, status=status,
                                   created_at=at, first_paid_at=paid_at)


def commission_on(invoice: Invoice, referral: Referral, *, amount: str, status: str, at: datetime,
                  kind: str = Commission.Kind.EARNED) -> Commission:
    """A commission as the engine writes it (10 % of the invoice's amount before tax)."""
    return Commission.objects.create(
        affiliate=referral.affiliate, referral=referral, invoice=invoice, kind=kind,
        source_key=f"{kind}:{invoice.pk}:{uuid.uuid4().hex[:8]}", base_amount=Decimal(amount) * 10,
        rate=Decimal("10"), amount=Decimal(amount), currency=invoice.currency, status=status,
        payable_at=at + timedelta(days=30), created_at=at)
