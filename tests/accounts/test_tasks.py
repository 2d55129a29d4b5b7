import pytest
from django_tenants.utils import tenant_context

from accounts.tasks import expired_sessions_clear
from tests.support.sessions import session_create, session_keys

pytestmark = pytest.mark.django_db


def test_expired_sessions_clear_keeps_sessions_that_are_still_valid(tenant_alpha):
    session_create("alpha", expired=True, key="alpha-old")
    session_create("alpha", expired=False, key="alpha-live")

    with tenant_context(tenant_alpha):
        expired_sessions_clear.delay()

    assert session_keys("alpha") == {"alpha-live"}
