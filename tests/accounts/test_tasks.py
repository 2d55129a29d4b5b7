from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.tasks import expired_sessions_clear

pytestmark = pytest.mark.django_db


def session_create(schema: str, *, expired: bool, key: str) -> None:
    delta = timedelta(days=-1) if expired else timedelta(days=1)
    with schema_context(schema):
        Session.objects.create(session_key=key, session_data="", expire_date=timezone.now() + delta)


def session_keys(schema: str) -> set[str]:
    with schema_context(schema):
        return set(Session.objects.values_list("session_key", flat=True))


def test_expired_sessions_clear_keeps_sessions_that_are_still_valid(tenant_alpha):
    session_create("alpha", expired=True, key="alpha-old")
    session_create("alpha", expired=False, key="alpha-live")

    with tenant_context(tenant_alpha):
        expired_sessions_clear.delay()

    assert session_keys("alpha") == {"alpha-live"}
