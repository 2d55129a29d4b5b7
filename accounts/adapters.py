from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.mail import EmailMessage
from django.db import connection
from django.http import HttpRequest
from django.template.loader import render_to_string

from accounts.login_limits import login_attempts_key
from config.mail import email_message, email_render


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

    def render_mail(self, template_prefix: str, email: str | list[str], context: dict[str, Any],
                    headers: dict[str, str] | None = None) -> EmailMessage:
        """allauth's emails (password reset, email confirmation, ...) keep allauth's subject and text, and go
        through the one email door (config.mail) like every other: in the layout of the workspace whose host
        sent them (the public host's are Tollgate's), from its sender. Without allauth's "[host]" subject prefix:
        the sender's name says who writes, and a branded workspace's platform host is no name to show."""
        subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", context).splitlines()).strip()
        schema_name = connection.schema_name
        rendered = email_render(schema_name=schema_name, subject=subject, template=f"{template_prefix}_message",
                                context=context)
        message = email_message(schema_name=schema_name, email=rendered,
                                to=[email] if isinstance(email, str) else list(email))
        message.extra_headers.update(headers or {})
        return message
