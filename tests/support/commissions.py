"""Commission test helpers: affiliates, referred tenants (bare rows: the engine never enters a tenant's schema, so
no schema is cloned), their paid invoices through billing's own services, and the program's rules for one test."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from itertools import count

from affiliates.models import Affiliate, AffiliateProgram, AgencyProfile, Referral, ReferralClick
from affiliates.program import program_get
from billing.invoicing.services import invoice_finalize, invoice_mark_paid
from billing.invoicing.totals import invoice_totals_apply
from billing.models import Invoice, InvoiceLine
from config.lookup_cache import lookup_clear
from tenants.models import Tenant
from tests.support.clock import NOW

_serial = count(1)


def program_set(**fields) -> AffiliateProgram:
    """The program's row with `fields` changed (and the cached copy forgotten)."""
    program = AffiliateProgram.objects.get(code="default")
    for name, value in fields.items():
        setattr(program, name, value)
    program.save()
    lookup_clear()
    return program_get()


def affiliate_make(*, email: str | None = None, kind: str = Affiliate.Kind.AFFILIATE, tenant: Tenant | None = None,
                   **fields) -> Affiliate:
    n = next(_serial)
    return Affiliate.objects.create(kind=kind, code=fields.pop("code", f"aff{n}"), name=fields.pop("name", f"Aff {n}"),
                                    email=email or f"partner{n}@promoter.test", tenant=tenant, created_at=NOW,
                                    **fields)


def agency_make(*, earnings_mode: str = AgencyProfile.EarningsMode.REFERRAL,
                commission_rate: str = "10") -> Affiliate:
    """An agency tenant (a bare row), its profile and its affiliate account."""
    agency = tenant_bare(type=Tenant.Type.AGENCY)
    AgencyProfile.objects.create(agency=agency, earnings_mode=earnings_mode, commission_rate=Decimal(commission_rate))
    return affiliate_make(kind=Affiliate.Kind.AGENCY, tenant=agency, email=agency.owner_email)


def tenant_bare(**fields) -> Tenant:
    """A tenant row without a schema (the commission engine reads only its id)."""
    n = next(_serial)
    slug = fields.pop("slug", f"referred-{n}")
    return Tenant.objects.create(schema_name=slug.replace("-", "_"), slug=slug, name=fields.pop("name", slug),
                                 owner_email=fields.pop("owner_email", f"owner@{slug}.test"), **fields)


def click_make(affiliate: Affiliate, *, ip_hash: str = "", device_hash: str = "", network_hash: str = "",
               at: datetime = NOW) -> ReferralClick:
    return ReferralClick.objects.create(click_id=uuid.uuid4(), affiliate=affiliate, landing_path="/",
                                        ip_hash=ip_hash, network_hash=network_hash, device_hash=device_hash,
                                        user_agent_class=ReferralClick.UserAgentClass.DESKTOP, created_at=at)


def referral_make(affiliate: Affiliate, *, tenant: Tenant | None = None, source: str = Referral.Source.CLICK,
                  at: datetime = NOW, **fields) -> Referral:
    tenant = tenant or tenant_bare()
    fields.setdefault("owner_email", tenant.owner_email)
    return Referral.objects.create(tenant=tenant, affiliate=affiliate, source=source, created_at=at, **fields)


def invoice_paid(tenant: Tenant, amount: str, *, at: datetime = NOW, tax_percent: str | None = None,
                 currency: str = "USD") -> Invoice:
    """An invoice of one line for `amount` (before tax), finalised and marked paid at `at` through billing's
    services (invoice_paid is sent on commit: tests call the engine themselves unless they run on-commit hooks)."""
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency=currency,
                                     tax_percentage=Decimal(tax_percent) if tax_percent else None, created_at=at)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal(amount), amount=Decimal(amount))
    invoice_totals_apply(invoice=invoice)
    invoice = invoice_finalize(invoice=invoice, now=at)
    return invoice_mark_paid(invoice=invoice, actor="ops@tollgate.test", now=at)
