"""Refusals of the sender-domain services; config/api/errors.py maps them for the API, pages show their message."""

from config.errors import DomainError


class SenderDomainError(DomainError):
    code = "sender_domain_error"


class SenderDomainInvalid(SenderDomainError):
    """Not a domain a brand can send from: malformed, or one of the platform's own."""

    code = "sender_domain_invalid"


class SenderDomainNeedsBrand(SenderDomainError):
    """A sender domain belongs to a brand: the workspace saves its brand first."""

    code = "sender_domain_needs_brand"
    status = 409
