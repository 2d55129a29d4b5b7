"""Domain errors raised by tenant services; views and the API map them to responses in one place each."""


class TenantError(Exception):
    code = "tenant_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
