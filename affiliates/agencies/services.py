"""Writes on agencies: client workspaces, the client's access grants and the agency's earning accounts.

Every event is recorded in the audit log of each tenant it concerns (tenants.services.tenant_audit_record): a
client workspace created appears in both the agency's log and the client's; a grant given or revoked too."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import Role
from accounts.services import owner_invitation_create
from affiliates.agencies.exceptions import (
    AgencyAccessInvalid,
    ClientNotFound,
    ClientTenantsNotInPlan,
    NotAnAgency,
)
from affiliates.agencies.handoff import shadow_users_deactivate
from affiliates.agencies.selectors import agency_client_list
from affiliates.models import Affiliate, AgencyAccessGrant, AgencyProfile, Referral
from billing.consolidation.services import consolidated_billing_end, consolidated_billing_start
from billing.selectors import entitlements_for
from tenants.exceptions import SlugTaken
from tenants.models import Tenant, TenantAuditLog
from tenants.services import OwnerPasswordCheck, tenant_audit_record, tenant_provision
from tenants.urls_for import tenant_url

logger = logging.getLogger(__name__)

# What a client may let its agency's staff do. Admin is the default and has no billing rights
# (accounts.permissions: only owner and billing roles see or change billing); owner is never granted.
GRANTABLE_ROLES = (Role.ADMIN, Role.MEMBER)


# --- The agency -----------------------------------------------------------------------------------------------

def agency_check(*, agency: Tenant) -> None:
    """Raise unless `agency` may run client workspaces: a tenant of type agency whose plan has `client_tenants`."""
    if agency.type != Tenant.Type.AGENCY:
        raise NotAnAgency("Only an agency workspace can have client workspaces.")
    if not entitlements_for(tenant=agency).client_tenants:
        raise ClientTenantsNotInPlan("Your plan does not include client workspaces: move to the Agency plan.",
                                     details={"entitlement": "client_tenants"})


def agency_profile_ensure(*, agency: Tenant) -> AgencyProfile:
    """The agency's earnings settings (referral mode at the default rate until ops choose otherwise)."""
    profile, _ = AgencyProfile.objects.get_or_create(agency=agency)
    return profile


def agency_affiliate_ensure(*, agency: Tenant) -> Affiliate:
    """The agency's own account in the commission engine (kind agency): its clients' referrals point at it."""
    affiliate, _ = Affiliate.objects.get_or_create(
        tenant=agency, kind=Affiliate.Kind.AGENCY,
        defaults={"code": f"agency-{agency.slug}", "name": agency.name, "email": agency.email,
                  "created_at": timezone.now()},
    )
    return affiliate


def agency_client_referral_bind(*, agency: Tenant, client: Tenant) -> Referral:
    """Bind the agency's client to the agency's affiliate account (source agency), unless the client already has
    its one referrer for ever: then that referral stands."""
    agency_profile_ensure(agency=agency)
    referral, _ = Referral.objects.get_or_create(tenant=client, defaults={
        "affiliate": agency_affiliate_ensure(agency=agency), "source": Referral.Source.AGENCY,
        "owner_email": client.owner_email, "created_at": timezone.now(),
    })
    return referral


@transaction.atomic
def agency_earnings_set(*, agency: Tenant, earnings_mode: str, commission_rate: Decimal | None = None,
                        wholesale_discount_percent: Decimal | None = None, actor_email: str) -> AgencyProfile:
    """Ops choose how the agency earns (admin): its mode, referral rate and wholesale discount (None keeps the
    current value). Reseller mode bills every client of the agency through it (billing.consolidation), from
    now on; back to referral, each client is billed directly again (what was consolidated until then is still
    billed to the agency). A new discount applies to the client invoices not carried yet. Recorded in the
    agency's audit log."""
    if earnings_mode not in AgencyProfile.EarningsMode.values:
        raise ValueError(f"An agency earns in one of {', '.join(AgencyProfile.EarningsMode.values)}, not "
                         f"{earnings_mode!r}.")
    agency_profile_ensure(agency=agency)
    profile = AgencyProfile.objects.select_for_update().get(agency=agency)
    before = _earnings_of(profile)
    profile.earnings_mode = earnings_mode
    if commission_rate is not None:
        profile.commission_rate = commission_rate
    if wholesale_discount_percent is not None:
        profile.wholesale_discount_percent = wholesale_discount_percent
    profile.save()
    now = timezone.now()
    for client in agency_client_list(agency=agency).order_by("pk"):
        if earnings_mode == AgencyProfile.EarningsMode.RESELLER:
            consolidated_billing_start(client=client, payer=agency,
                                       wholesale_discount_percent=profile.wholesale_discount_percent, now=now)
        else:
            consolidated_billing_end(client=client, payer=agency, now=now)
    after = _earnings_of(profile)
    if after != before:
        tenant_audit_record(tenant=agency, actor_email=actor_email, action="agency_earnings_changed",
                            details={"before": before, "after": after})
        logger.info("agency_earnings_changed agency=%s mode=%s", agency.slug, earnings_mode)
    return profile


def _earnings_of(profile: AgencyProfile) -> dict[str, str]:
    return {"earnings_mode": profile.earnings_mode, "commission_rate": str(profile.commission_rate),
            "wholesale_discount_percent": str(profile.wholesale_discount_percent)}


# --- Client workspaces ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientCreated:
    client: Tenant
    created: bool  # False: an identical earlier request created it (a retry)
    owner_id: int | None = None  # the owner's account in the client's schema


@transaction.atomic
def client_workspace_create(*, agency: Tenant, name: str, slug: str, owner_email: str, actor_email: str,
                            owner_password: str | None = None,
                            owner_password_check: OwnerPasswordCheck | None = None) -> ClientCreated:
    """Provision a client workspace for the agency (the usual fast clone, `parent_agency` set), invite its owner
    by email, and bind it to the agency as a referral (source agency), all or nothing.

    Idempotent like provisioning: the same slug and owner again returns the agency's existing client. A slug
    taken by anyone else, an agency included, is refused as taken. The owner gets an invitation (accounts), not
    a password chosen by the agency: the agency never knows the client's credentials. A visitor signing up on the
    reseller's own domain (whitelabel.portals) is the owner and gives `owner_password` instead: no invitation
    then, and a replay must give that password (`owner_password_check`, as tenant_provision takes it)."""
    agency_check(agency=agency)
    # Called from the agency's own host, whose schema the connection is on: tenants are created from the public
    # schema, and the agency's request must find its own schema again afterwards.
    with schema_context(get_public_schema_name()):
        result = tenant_provision(name=name, slug=slug, owner_email=owner_email, owner_password=owner_password,
                                  parent_agency=agency, owner_password_check=owner_password_check)
    client = result.tenant
    if client.parent_agency_id != agency.pk:
        raise SlugTaken("This name is already taken.", field="slug")
    if not result.created:
        return ClientCreated(client=client, created=False, owner_id=result.owner_id)
    profile = agency_profile_ensure(agency=agency)
    agency_client_referral_bind(agency=agency, client=client)
    if profile.earnings_mode == AgencyProfile.EarningsMode.RESELLER:
        # A reseller's client is billed through it from its first invoice.
        consolidated_billing_start(client=client, payer=agency,
                                   wholesale_discount_percent=profile.wholesale_discount_percent, now=timezone.now())
    if owner_password is None:
        with schema_context(client.schema_name):
            owner_invitation_create(email=client.owner_email, site_url=tenant_url(client),
                                    workspace_name=client.name)
    details = {"agency": agency.slug, "client": client.slug, "owner_email": client.owner_email}
    tenant_audit_record(tenant=agency, actor_email=actor_email, action="agency_client_created", details=details)
    tenant_audit_record(tenant=client, actor_email=actor_email, action="agency_client_created", details=details,
                        source=TenantAuditLog.Source.AGENCY)
    logger.info("agency_client_created agency=%s client=%s", agency.slug, client.slug)
    return ClientCreated(client=client, created=True, owner_id=result.owner_id)


def client_owner_invitation_resend(*, agency: Tenant, client: Tenant, actor_email: str) -> None:
    """Send the client's owner a new invitation (the first expired or got lost); refused once they joined."""
    if client.parent_agency_id != agency.pk:
        raise ClientNotFound("No client workspace of yours has this name.")
    with schema_context(client.schema_name):
        owner_invitation_create(email=client.owner_email, site_url=tenant_url(client), workspace_name=client.name)
    tenant_audit_record(tenant=client, actor_email=actor_email, action="agency_owner_invitation_resent",
                        details={"agency": agency.slug, "owner_email": client.owner_email},
                        source=TenantAuditLog.Source.AGENCY)


# --- Access grants (the client's decision) --------------------------------------------------------------------

@transaction.atomic
def agency_access_grant(*, client: Tenant, role: str, actor_email: str) -> AgencyAccessGrant:
    """The client lets its agency's staff into its workspace with `role`. Granting again with another role
    replaces the current grant (revoking it first), so the record shows each decision."""
    if client.parent_agency_id is None:
        raise AgencyAccessInvalid("This workspace has no agency.")
    if role not in GRANTABLE_ROLES:
        raise AgencyAccessInvalid("Choose admin or member for your agency.", field="role")
    agency = Tenant.objects.get(pk=client.parent_agency_id)
    current = (AgencyAccessGrant.objects.select_for_update()
               .filter(client=client, agency=agency, revoked_at__isnull=True).first())
    if current is not None and current.role == role:
        return current
    if current is not None:
        _grant_end(current, actor_email=actor_email)
    grant = AgencyAccessGrant.objects.create(client=client, agency=agency, role=role, granted_by=actor_email,
                                             granted_at=timezone.now())
    _grant_audit(grant, action="agency_access_granted", actor_email=actor_email)
    return grant


@transaction.atomic
def agency_access_revoke(*, client: Tenant, actor_email: str) -> AgencyAccessGrant:
    """End the client's current grant. Effective at once: agency sessions open in the client's workspace are
    signed out on their next request (affiliates.agencies.middleware re-checks the grant every time) and the
    agency's staff accounts there are deactivated."""
    grant = (AgencyAccessGrant.objects.select_for_update()
             .filter(client=client, revoked_at__isnull=True).first())
    if grant is None:
        raise AgencyAccessInvalid("Your agency has no access to revoke.")
    _grant_end(grant, actor_email=actor_email)
    return grant


def _grant_end(grant: AgencyAccessGrant, *, actor_email: str) -> None:
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor_email
    grant.save(update_fields=["revoked_at", "revoked_by"])
    with schema_context(grant.client.schema_name):
        shadow_users_deactivate(agency=grant.agency)
    _grant_audit(grant, action="agency_access_revoked", actor_email=actor_email)


def _grant_audit(grant: AgencyAccessGrant, *, action: str, actor_email: str) -> None:
    details = {"agency": grant.agency.slug, "client": grant.client.slug, "role": grant.role}
    tenant_audit_record(tenant=grant.client, actor_email=actor_email, action=action, details=details)
    tenant_audit_record(tenant=grant.agency, actor_email=actor_email, action=action, details=details)
