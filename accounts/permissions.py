"""Who may do what in a tenant. The one place roles are interpreted: pages and the API both ask here, and
every app's staff pages take their role check (`staff_action_required`) from here, never from another view."""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role

View = Callable[..., HttpResponse]


class Action(StrEnum):
    USE_PRODUCT = "use_product"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_TEAM = "manage_team"
    VIEW_BILLING = "view_billing"
    MANAGE_BILLING = "manage_billing"  # change the plan, seats, cancel, coupons, billing details, accept quotes
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_SECURITY = "manage_security"
    MANAGE_CLIENTS = "manage_clients"  # an agency's staff: create client workspaces, open those that granted access


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.ADMIN: frozenset({Action.USE_PRODUCT, Action.MANAGE_API_KEYS, Action.MANAGE_TEAM,
                           Action.MANAGE_SETTINGS, Action.MANAGE_CLIENTS}),
    Role.BILLING: frozenset({Action.USE_PRODUCT, Action.VIEW_BILLING, Action.MANAGE_BILLING}),
    Role.MEMBER: frozenset({Action.USE_PRODUCT}),
}

# Which roles a given role may hand out when inviting or changing someone's role.
ASSIGNABLE_ROLES: dict[str, tuple[str, ...]] = {
    Role.OWNER: (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.BILLING),
    Role.ADMIN: (Role.ADMIN, Role.MEMBER, Role.BILLING),
}


def role_can(role: str, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())


def user_can(user, action: Action) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and role_can(user.role, action)


def roles_assignable_by(role: str) -> tuple[str, ...]:
    return ASSIGNABLE_ROLES.get(role, ())


def staff_action_required(action: Action) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in staff whose role lacks `action` get a 403 page,
    whatever the method, so a direct URL or a crafted POST is refused like a hidden button."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_can(request.user, action):
                return render(request, "staff/403.html", status=403)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator
