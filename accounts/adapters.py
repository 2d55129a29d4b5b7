from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import connection
from django.http import HttpRequest

from accounts.login_limits import login_attempts_key


class TenantAccountAdapter(DefaultAccountAdapter):
    """Staff join a tenant through the public signup (owners) or an invitation, never by open signup."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys failed logins by the request's host, port included: another port in the Host header would
        # start a fresh count, and the public signup, which checks an owner's password from the public host,
        # would count elsewhere. Key by workspace and email instead (accounts.login_limits).
        email = credentials.get("email", credentials.get("username", ""))
        return login_attempts_key(schema_name=connection.schema_name, email=email)
