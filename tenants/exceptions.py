"""Domain errors raised by tenant services; pages show them, and config/api/errors.py maps them for the API."""

from config.errors import DomainError


class TenantError(DomainError):
    code = "tenant_error"


class SlugInvalid(TenantError):
    code = "slug_invalid"


class SlugTaken(TenantError):
    code = "slug_taken"


class TenantStatusChangeInvalid(TenantError):
    code = "status_change_invalid"


class LoginLinkInvalid(TenantError):
    code = "login_link_invalid"


class LoginLinkNeedsSecondFactor(LoginLinkInvalid):
    """The owner has MFA or the workspace requires it: a link is no second factor, so they sign in normally."""

    code = "login_link_needs_second_factor"


class ApiKeyInvalid(TenantError):
    code = "invalid_request"


class ApiKeyScopeExceeded(TenantError):
    """A key asked to create a key with scopes it does not have itself."""

    code = "insufficient_scope"
    status = 403
