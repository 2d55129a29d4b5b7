"""Refusals of the agency services; pages show them, config/api/errors.py maps them for the API."""

from config.errors import DomainError


class AgencyError(DomainError):
    code = "agency_error"


class NotAnAgency(AgencyError):
    code = "not_an_agency"
    status = 403


class ClientTenantsNotInPlan(AgencyError):
    """The agency's plan has no `client_tenants` entitlement (the Agency and White-Label plans have it)."""

    code = "plan_upgrade_required"
    status = 402


class ClientNotFound(AgencyError):
    """Not a client of this agency: answered like a workspace that does not exist, so nothing leaks."""

    code = "not_found"
    status = 404


class AgencyAccessInvalid(AgencyError):
    """A grant that cannot be given or changed as asked (no agency, unknown role, nothing to revoke)."""

    code = "agency_access_invalid"


class AgencyAccessRefused(AgencyError):
    """The agency may not open the client's workspace: no current grant, or the second factor is missing."""

    code = "agency_access_refused"
    status = 403


class HandoffInvalid(AgencyError):
    """The hand-off link is unknown, for another workspace, expired or already used."""

    code = "handoff_invalid"
