from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class TenantAccountAdapter(DefaultAccountAdapter):
    """Staff join a tenant through the public signup (owners) or an invitation, never by open signup."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
