import pytest
from django.test import Client

from tests.support.tenants import STANDARD_PASSWORD, client_for

pytestmark = pytest.mark.django_db


def test_a_tenant_host_serves_that_tenants_schema(alpha_owner_client, beta_owner_client):
    alpha_page = alpha_owner_client.get("/")
    beta_page = beta_owner_client.get("/")

    assert b"Alpha Co" in alpha_page.content and b"Beta Inc" not in alpha_page.content
    assert b"Beta Inc" in beta_page.content and b"Alpha Co" not in beta_page.content


def test_an_unknown_host_gets_a_plain_404_page(db):
    response = client_for(None).get("/", HTTP_HOST="nobody.localhost")

    assert response.status_code == 404
    assert b"no workspace at this address" in response.content
    assert b"Traceback" not in response.content


def test_a_host_outside_allowed_hosts_gets_a_404(db):
    response = client_for(None).get("/", HTTP_HOST="evil.example")

    assert response.status_code == 404


def test_the_admin_is_served_on_the_public_host(public_client):
    assert public_client.get("/admin/login/").status_code == 200


def test_the_admin_is_not_served_on_a_tenant_host(alpha_client):
    assert alpha_client.get("/admin/").status_code == 404
    assert alpha_client.get("/admin/login/").status_code == 404


def test_tenant_login_is_served_on_the_tenant_host_only(public_client, alpha_client):
    assert alpha_client.get("/accounts/login/").status_code == 200
    assert public_client.get("/accounts/login/").status_code == 404


def test_the_owner_logs_in_on_their_tenant_host(alpha_client):
    response = alpha_client.post(
        "/accounts/login/", {"login": "owner@alpha.test", "password": STANDARD_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert b"Alpha Co" in response.content
    assert response.wsgi_request.user.is_authenticated


def test_a_tenant_account_cannot_log_in_to_the_ops_admin(public_client):
    response = public_client.post(
        "/admin/login/?next=/admin/", {"username": "owner@alpha.test", "password": STANDARD_PASSWORD}
    )

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_staff_pages_require_login(alpha_client):
    response = alpha_client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/billing/", "/branding/", "/coach/"])
def test_sections_not_built_yet_say_so_plainly(alpha_owner_client, path):
    response = alpha_owner_client.get(path)

    assert response.status_code == 200
    assert b"Not available yet" in response.content


# --- The cached host lookup (tenants.selectors.tenant_for_hostname) ------------------------------------------

def test_a_suspension_applies_on_the_next_request_though_the_host_was_cached(tenant_alpha):
    from tenants.services import tenant_suspend
    from tests.support.api import api_client, api_key_for

    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    assert client.get("/api/v1/tenant").status_code == 200

    tenant_suspend(tenant=tenant_alpha, actor=None, reason="unpaid")

    response = client.get("/api/v1/tenant")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "tenant_suspended")


def test_a_renamed_domain_stops_routing_under_its_old_name(tenant_alpha, alpha_client):
    from tenants.models import Domain

    assert alpha_client.get("/accounts/login/").status_code == 200
    domain = Domain.objects.get(tenant=tenant_alpha, domain="alpha.localhost")
    domain.domain = "alpha-renamed.localhost"
    domain.save()

    assert alpha_client.get("/accounts/login/").status_code == 404
    assert Client(HTTP_HOST="alpha-renamed.localhost").get("/accounts/login/").status_code == 200
