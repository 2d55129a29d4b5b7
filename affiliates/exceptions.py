"""The affiliate program's refusals (the one domain error base: config.errors)."""

from config.errors import DomainError


class ApplicationNotPending(DomainError):
    code = "application_not_pending"
    status = 409


class ApplicationPending(DomainError):
    code = "application_pending"
    status = 409


class AffiliateEmailTaken(DomainError):
    code = "affiliate_email_taken"
    status = 409
