"""Who may do what in a tenant. The one place roles are interpreted: pages and the API both ask here."""

from enum import StrEnum

from accounts.models import Role


class Action(StrEnum):
    USE_PRODUCT = "use_product"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_TEAM = "manage_team"
    VIEW_BILLING = "view_billing"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_SECURITY = "manage_security"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.ADMIN: frozenset({Action.USE_PRODUCT, Action.MANAGE_API_KEYS, Action.MANAGE_TEAM,
                           Action.MANAGE_SETTINGS}),
    Role.BILLING: frozenset({Action.USE_PRODUCT, Action.VIEW_BILLING}),
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
