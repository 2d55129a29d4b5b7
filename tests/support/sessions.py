"""Django sessions stored in one tenant's schema, for the tasks that clear expired ones."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import schema_context


def session_create(schema: str, *, expired: bool, key: str) -> None:
    delta = timedelta(days=-1) if expired else timedelta(days=1)
    with schema_context(schema):
        Session.objects.create(session_key=key, session_data="", expire_date=timezone.now() + delta)


def session_keys(schema: str) -> set[str]:
    with schema_context(schema):
        return set(Session.objects.values_list("session_key", flat=True))
