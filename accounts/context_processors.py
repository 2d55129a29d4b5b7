from django.http import HttpRequest

from accounts.permissions import Action, user_can


def staff_permissions(request: HttpRequest) -> dict:
    """`can.<action>` for templates, e.g. `{% if can.manage_team %}`: pages offer only what the role allows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": {}}
    return {"can": {action.value: user_can(user, action) for action in Action}}
