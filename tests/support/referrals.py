"""Tenant-referral helpers: one tenant referred by another through its link, and the referred tenant's first
invoice paid (subscribed through billing's service, paid by ops)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from affiliates.models import Affiliate, AffiliateProgram, Referral
from affiliates.referral_rewards.services import tenant_referrer_ensure
from billing.models import Invoice
from tenants.models import Tenant
from tests.support.billing import invoice_pay, invoices_of, subscription_started
from tests.support.factories import PriceFactory


def program_set(**fields) -> AffiliateProgram:
    program = AffiliateProgram.objects.get(code="default")
    for name, value in fields.items():
        setattr(program, name, value)
    program.save()
    return program


def tenant_referred(*, referred: Tenant, referrer: Tenant, at: datetime) -> Referral:
    """`referred` signed up through `referrer`'s link (what attribution binds with source tenant_link)."""
    account = tenant_referrer_ensure(tenant=referrer, now=at)
    return Referral.objects.create(tenant=referred, affiliate=account, source=Referral.Source.TENANT_LINK,
                                   owner_email=referred.owner_email, created_at=at)


def first_invoice_paid(tenant: Tenant, *, at: datetime, amount: str = "99.00") -> Invoice:
    """The tenant subscribes (no trial) to a monthly price of `amount` and ops record its first invoice paid."""
    subscription_started(tenant, PriceFactory(fixed_amount=Decimal(amount)), at=at)
    invoice = invoices_of(tenant)[-1]
    return invoice_pay(invoice, at=at)


def referrer_account(tenant: Tenant) -> Affiliate:
    return Affiliate.objects.get(tenant=tenant, kind=Affiliate.Kind.TENANT)
