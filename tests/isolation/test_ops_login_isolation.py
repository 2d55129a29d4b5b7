"""Ops now sign in through allauth on the public host, like staff on tenant hosts: neither session opens the other."""

import pytest
from django.test import Client

from accounts.models import User
from tests.support.tenants import logged_in_client

pytestmark = pytest.mark.django_db


def test_an_ops_session_signed_in_on_the_public_host_is_anonymous_on_a_tenant_host(tenant_alpha):
    User.objects.create_superuser("ops-isolation@tollgate.test", "pw-operator-5512")
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.250")
    client.post("/accounts/login/?next=/admin/", {"login": "ops-isolation@tollgate.test",
                                                  "password": "pw-operator-5512"})
    assert client.get("/admin/").status_code == 200

    response = client.get("/", HTTP_HOST="alpha.localhost")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_tenant_staff_session_is_anonymous_on_the_public_hosts_admin(tenant_alpha):
    client = logged_in_client(tenant_alpha)

    response = client.get("/admin/", HTTP_HOST="localhost")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
