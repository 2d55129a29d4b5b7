"""The failed-login limit counts per workspace: guesses at an address on one tenant never lock the same address
out of another (the count is keyed by schema and email, in the tenant's own cache namespace)."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from tests.support.tenants import STANDARD_PASSWORD, host_of

pytestmark = pytest.mark.django_db

SHARED_EMAIL = "same-person@shared.test"


def _login(tenant, password: str, address: str):
    client = Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"login": SHARED_EMAIL, "password": password})


def test_failed_logins_on_one_tenant_do_not_lock_the_same_email_on_another(tenant_alpha, tenant_beta):
    for tenant in (tenant_alpha, tenant_beta):
        with schema_context(tenant.schema_name):
            User.objects.create_user(SHARED_EMAIL, STANDARD_PASSWORD, role="member")
    for n in range(6):
        _login(tenant_alpha, f"guess-number-{n}-of-many", "198.51.100.61")

    on_alpha = _login(tenant_alpha, STANDARD_PASSWORD, "198.51.100.62")
    on_beta = _login(tenant_beta, STANDARD_PASSWORD, "198.51.100.62")

    assert not on_alpha.wsgi_request.user.is_authenticated
    assert on_beta.wsgi_request.user.is_authenticated
