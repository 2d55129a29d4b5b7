"""Agencies and their clients for tests: an agency on the Agency plan, client workspaces created through the
agency service, grants, and test clients signed in on either side (agency staff, a client's owner)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Role, User
from affiliates.agencies.services import agency_access_grant, client_workspace_create
from affiliates.models import AgencyAccessGrant
from billing.models import Plan
from billing.services import tenant_plan_assign
from tenants.models import Tenant
from tests.support.factories import TenantFactory
from tests.support.tenants import client_for

AGENCY_PLAN_CODE = "agency"


def agency_make(slug: str = "agency-one", *, plan_code: str | None = AGENCY_PLAN_CODE) -> Tenant:
    """A provisioned agency tenant on the Agency plan (or `plan_code`; None leaves it on Free)."""
    agency = TenantFactory(slug=slug, name=slug.replace("-", " ").title(), tenant_type=Tenant.Type.AGENCY)
    if plan_code:
        tenant_plan_assign(tenant=agency, plan=Plan.objects.get(code=plan_code))
    return agency


def client_make(agency: Tenant, slug: str = "client-one") -> Tenant:
    return client_workspace_create(agency=agency, name=slug.replace("-", " ").title(), slug=slug,
                                   owner_email=f"owner@{slug}.test", actor_email=agency.owner_email).client


def grant_make(client: Tenant, role: str = Role.ADMIN) -> AgencyAccessGrant:
    return agency_access_grant(client=client, role=role, actor_email=client.owner_email)


def host_of(tenant: Tenant) -> str:
    return f"{tenant.slug}.localhost"


def signed_in(tenant: Tenant, *, email: str | None = None, role: str = Role.OWNER) -> Client:
    """A client on the tenant's host signed in as the account with this email (its owner by default; created with
    `role` if missing). A client's owner is active again here: in production they accept their invitation."""
    email = email or tenant.owner_email
    client = client_for(tenant)
    with schema_context(tenant.schema_name):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, "pw-agency-staff-123", role=role)
        elif not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def path_of(url: str) -> str:
    return urlsplit(url).path
