"""API authentication and access: `Authorization: Bearer tg_live_...` keys bound to one tenant, with scopes;
browser sessions (with CSRF) on the same endpoints, checked against the staff member's role."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from accounts.permissions import Action, user_can
from config.api.errors import ApiError
from tenants.models import ApiKey
from tenants.selectors import api_key_for_secret
from tenants.services import api_key_mark_used


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """request.user for a request made with an API key: a program, not a person, so it has no role."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True
    role: str = ""

    @property
    def email(self) -> str:
        return f"api-key:{self.api_key.prefix}"


def invalid_api_key() -> ApiError:
    return ApiError(status_code=401, code="invalid_api_key", message="The API key is missing, unknown or revoked.",
                    headers={"WWW-Authenticate": 'Bearer realm="api"'})


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            raise invalid_api_key()
        api_key = api_key_for_secret(secret.strip())
        # A key of another tenant is answered exactly like an unknown one: no hint that it exists.
        if api_key is None or not api_key.is_active or api_key.tenant_id != request.tenant.pk:
            raise invalid_api_key()
        if not request.tenant.is_active:
            raise ApiError(status_code=403, code="tenant_suspended", message="This workspace is suspended.")
        api_key_mark_used(api_key=api_key)
        return ApiKeyPrincipal(api_key=api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes ApiKeyAuthentication (drf-spectacular registers it on definition)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http", "scheme": "bearer", "bearerFormat": "tg_live_<key>",
            "description": "A tenant API key, sent on the tenant's own host. Scopes: read, write, usage:write, ai, "
                           "billing, coach, agency.",
        }


class ApiAccess(BasePermission):
    """A view declares, per HTTP method, the key scope and the staff action it needs:

        required_scopes = {"GET": "read", "POST": "write"}
        required_actions = {"GET": Action.USE_PRODUCT, "POST": Action.MANAGE_API_KEYS}
    """

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method == "HEAD" else request.method
        if method not in view.required_scopes:
            # Not an operation of this view: let DRF answer 405 method_not_allowed.
            return True
        if isinstance(request.auth, ApiKey):
            scope = view.required_scopes.get(method)
            if scope is None or scope not in request.auth.scopes:
                raise ApiError(status_code=403, code="insufficient_scope",
                               message=f"This API key needs the '{scope}' scope for this request.",
                               details={"required_scope": scope, "key_scopes": list(request.auth.scopes)})
            return True
        if not getattr(request.user, "is_authenticated", False):
            raise ApiError(status_code=401, code="unauthenticated",
                           message="Send an API key as 'Authorization: Bearer tg_live_...'.",
                           headers={"WWW-Authenticate": 'Bearer realm="api"'})
        action: Action | None = view.required_actions.get(method)
        if action is None or not user_can(request.user, action):
            raise ApiError(status_code=403, code="forbidden", message="Your role does not allow this.",
                           details={"required_action": str(action) if action else None})
        return True
