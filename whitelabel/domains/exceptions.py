"""Refusals of the custom-domain services; config/api/errors.py maps them for the API, pages show their message."""

from config.errors import DomainError


class CustomDomainError(DomainError):
    code = "custom_domain_error"


class HostnameInvalid(CustomDomainError):
    """Not a hostname a tenant can bring: malformed, an address, a wildcard, or one of the platform's own."""

    code = "hostname_invalid"


class CustomDomainLimitReached(CustomDomainError):
    """The plan allows no more custom domains than the tenant already holds."""

    code = "custom_domain_limit_reached"
    status = 402


class HostnameTaken(CustomDomainError):
    """Another claim holds the hostname (this tenant's, or another's that is not yet 7 days pending)."""

    code = "hostname_taken"
    status = 409


class CustomDomainNotHeld(CustomDomainError):
    """The claim was released, removed or expired: nothing is left to check or remove."""

    code = "custom_domain_not_held"
    status = 409


class CustomDomainsNotInPlan(CustomDomainError):
    """The tenant's plan has no white_label entitlement, or offers no custom domain."""

    code = "plan_upgrade_required"
    status = 402
