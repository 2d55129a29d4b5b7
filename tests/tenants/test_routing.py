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
    response = public_client.get("/admin/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_the_admin_is_not_served_on_a_tenant_host(alpha_client):
    assert alpha_client.get("/admin/").status_code == 404
    assert alpha_client.get("/admin/login/").status_code == 404


def test_login_is_served_on_the_tenant_host_and_for_ops_on_the_public_host(public_client, alpha_client):
    assert b"Sign in to your workspace" in alpha_client.get("/accounts/login/").content
    assert b"Operators sign in to the Tollgate admin" in public_client.get("/accounts/login/").content


def test_the_owner_logs_in_on_their_tenant_host(alpha_client):
    response = alpha_client.post(
        "/accounts/login/", {"login": "owner@alpha.test", "password": STANDARD_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert b"Alpha Co" in response.content
    assert response.wsgi_request.user.is_authenticated


def test_a_tenant_account_cannot_log_in_to_the_ops_admin(public_client):
    response = public_client.post(
        "/accounts/login/?next=/admin/", {"login": "owner@alpha.test", "password": STANDARD_PASSWORD}
    )

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_staff_pages_require_login(alpha_client):
    response = alpha_client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


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


def asgi_get(path: str, host: str) -> tuple[int, bytes]:
    """One GET through config.asgi (as uvicorn would serve it)."""
    import asyncio

    from asgiref.sync import async_to_sync
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.asgi import application

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", host.encode())], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    sent, received = [], []

    async def receive():
        received.append(1)
        if len(received) == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected until the answer is complete

    async def send(message):
        sent.append(message)

    # As Django's test clients do: the handler must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        async_to_sync(application)(scope, receive, send)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    return status, b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


def test_tenants_are_routed_under_asgi_too(tenant_alpha):
    assert asgi_get("/accounts/login/", "alpha.localhost")[0] == 200
    assert asgi_get("/accounts/login/", "nowhere.localhost")[0] == 404
    status, body = asgi_get("/api/v1/tenant", "alpha.localhost")
    assert status == 401 and b'"unauthenticated"' in body
