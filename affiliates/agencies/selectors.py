"""Reads for agencies: their clients (always through the agency), the client's grant, and the dashboard.

Without a current grant an agency sees what billing says about a client (plan, status, MRR, invoices), never
anything of its usage or its schema; with one, usage against its limits and its churn-risk health too."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, QuerySet

from affiliates.models import AgencyAccessGrant, AgencyProfile
from billing.analytics.selectors import churn_risk_by_tenant, tenant_mrr_latest
from billing.consolidation.selectors import CONSOLIDATED_COLLECTION, consolidated_invoice_list
from billing.invoicing.selectors import invoice_list
from billing.models import Invoice, TenantChurnRisk
from billing.selectors import entitlements_for
from config.money import Money
from metering.usage.selectors import MeterSummary, usage_summary
from tenants.models import Tenant
from tenants.selectors import tenant_client_list

INVOICES_SHOWN = 3
CONSOLIDATED_SHOWN = 12


def agency_client_list(*, agency: Tenant) -> QuerySet[Tenant]:
    return tenant_client_list(agency=agency)


def agency_client_get(*, agency: Tenant, slug: str) -> Tenant | None:
    """The agency's client with this slug; None for anyone else's workspace (answered like a missing one)."""
    return tenant_client_list(agency=agency).filter(slug=slug).first()


def agency_grant_current(*, client: Tenant) -> AgencyAccessGrant | None:
    """The client's current grant to its agency, if any."""
    if client.parent_agency_id is None:
        return None
    return (AgencyAccessGrant.objects.select_related("agency")
            .filter(client=client, agency_id=client.parent_agency_id, revoked_at__isnull=True).first())


def agency_grant_history(*, client: Tenant) -> QuerySet[AgencyAccessGrant]:
    return AgencyAccessGrant.objects.filter(client=client).select_related("agency")


def agency_profile_get(*, agency: Tenant) -> AgencyProfile | None:
    return AgencyProfile.objects.filter(agency=agency).first()


@dataclass(frozen=True)
class ClientHealth:
    score: Decimal
    level: str


@dataclass(frozen=True)
class ClientRow:
    client: Tenant
    plan_name: str
    plan_code: str
    mrr: list[Money]
    invoices: list[Invoice]
    open_due: list[Money]
    access_role: str | None  # the grant's role; None without a current grant
    usage: list[MeterSummary] | None = None  # with a grant only
    health: ClientHealth | None = None  # with a grant only

    @property
    def has_access(self) -> bool:
        return self.access_role is not None


@dataclass(frozen=True)
class AgencyDashboard:
    rows: list[ClientRow]
    mrr_total: list[Money] = field(default_factory=list)
    open_due_total: list[Money] = field(default_factory=list)
    # Reseller mode: the agency's own consolidated invoices (its clients at wholesale), newest first.
    consolidated_invoices: list[Invoice] = field(default_factory=list)

    @property
    def client_count(self) -> int:
        return len(self.rows)

    @property
    def active_count(self) -> int:
        return sum(1 for row in self.rows if row.client.is_active)

    @property
    def granted_count(self) -> int:
        return sum(1 for row in self.rows if row.has_access)


def agency_dashboard(*, agency: Tenant, now: datetime) -> AgencyDashboard:
    clients = list(agency_client_list(agency=agency))
    batch = _Batch.load(agency_id=agency.pk, clients=clients)
    rows = [client_summary(client=client, now=now, batch=batch) for client in clients]
    consolidated = list(consolidated_invoice_list(payer=agency).annotate(carried=Count("carried_invoices"))
                        [:CONSOLIDATED_SHOWN])
    return AgencyDashboard(rows=rows, mrr_total=_sum_by_currency(m for row in rows for m in row.mrr),
                           open_due_total=_sum_by_currency(m for row in rows for m in row.open_due),
                           consolidated_invoices=consolidated)


def client_summary(*, client: Tenant, now: datetime, batch: _Batch | None = None) -> ClientRow:
    """One client as its agency may see it (the caller has checked the client is the agency's)."""
    batch = batch or _Batch.load(agency_id=client.parent_agency_id, clients=[client])
    entitlements = entitlements_for(tenant=client, now=now)
    grant = batch.grants.get(client.pk)
    invoices = list(invoice_list(tenant=client)[:INVOICES_SHOWN])
    # A consolidated invoice is not the client's to pay: the agency's consolidated invoice carries it.
    open_due = _sum_by_currency(Money(invoice.amount_due, invoice.currency)
                                for invoice in invoice_list(tenant=client).filter(status=Invoice.Status.OPEN)
                                .exclude(collection_method=CONSOLIDATED_COLLECTION))
    usage = health = None
    if grant is not None:
        usage = [meter for meter in usage_summary(tenant=client, now=now).meters if meter.quota or meter.used]
        risk = batch.risks.get(client.pk)
        health = ClientHealth(score=risk.score, level=risk.level) if risk else None
    return ClientRow(
        client=client, plan_name=entitlements.plan_name, plan_code=entitlements.plan_code,
        mrr=[Money(amount, currency) for currency, amount in sorted(batch.mrr.get(client.pk, {}).items())],
        invoices=invoices, open_due=open_due, access_role=grant.role if grant else None, usage=usage,
        health=health,
    )


@dataclass(frozen=True)
class _Batch:
    """What the dashboard reads for all clients at once."""

    grants: dict[int, AgencyAccessGrant]
    mrr: dict[int, dict[str, Decimal]]
    risks: dict[int, TenantChurnRisk]

    @classmethod
    def load(cls, *, agency_id: int, clients: list[Tenant]) -> _Batch:
        ids = [client.pk for client in clients]
        current = AgencyAccessGrant.objects.filter(client_id__in=ids, agency_id=agency_id, revoked_at__isnull=True)
        return cls(grants={grant.client_id: grant for grant in current}, mrr=tenant_mrr_latest(tenant_ids=ids),
                   risks=churn_risk_by_tenant(tenant_ids=ids))


def _sum_by_currency(amounts) -> list[Money]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for money in amounts:
        totals[money.currency] += money.amount
    return [Money(amount, currency) for currency, amount in sorted(totals.items())]
