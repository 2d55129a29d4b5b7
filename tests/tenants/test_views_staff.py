import json
import logging
import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Role
from tenants.models import ApiKey, Tenant, TenantAuditLog
from tenants.services import api_key_create
from tests.support.staff import ROLES, staff_client
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

KEY_MANAGERS = [Role.OWNER, Role.ADMIN]
SETTINGS_MANAGERS = [Role.OWNER, Role.ADMIN]
OTHERS = [Role.MEMBER, Role.BILLING]
NEW_KEY = {"name": "Production server", "scopes": ["read", "ai"]}


def alpha_key(tenant: Tenant, name: str = "Existing key") -> ApiKey:
    return api_key_create(tenant=tenant, name=name, scopes=["read"], created_by="owner@alpha.test").api_key


def shown_secret(response) -> str | None:
    match = re.search(rb'value="(tg_live_[^"]+)"', response.content)
    return match.group(1).decode() if match else None


def settings_form(tenant: Tenant, **changes) -> dict:
    form = {"name": tenant.name, "billing_email": tenant.billing_email}
    if tenant.require_mfa:
        form["require_mfa"] = "on"
    return {**form, **changes}


# --- Who sees and does what ----------------------------------------------------------------------

@pytest.mark.parametrize("role, allowed", [(role, role in KEY_MANAGERS) for role in ROLES])
def test_api_keys_page_is_for_owners_and_admins(tenant_alpha, role, allowed):
    response = staff_client(tenant_alpha, role).get("/api-keys/")

    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("role, allowed", [(role, role in KEY_MANAGERS) for role in ROLES])
def test_creating_a_key_is_for_owners_and_admins(tenant_alpha, role, allowed):
    response = staff_client(tenant_alpha, role).post("/api-keys/", NEW_KEY)

    assert response.status_code == (302 if allowed else 403)
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="Production server").exists() == allowed


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role, allowed", [(role, role in KEY_MANAGERS) for role in ROLES])
def test_revoking_a_key_is_for_owners_and_admins(tenant_alpha, role, allowed, method):
    key = alpha_key(tenant_alpha)

    response = getattr(staff_client(tenant_alpha, role), method)(f"/api-keys/{key.pk}/revoke/")

    expected = {"get": 200, "post": 302}[method] if allowed else 403
    assert response.status_code == expected
    key.refresh_from_db()
    assert key.is_active == (not allowed or method == "get")


@pytest.mark.parametrize("role, allowed", [(role, role in SETTINGS_MANAGERS) for role in ROLES])
def test_settings_page_is_for_owners_and_admins(tenant_alpha, role, allowed):
    response = staff_client(tenant_alpha, role).get("/settings/")

    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("role, allowed", [(role, role in SETTINGS_MANAGERS) for role in ROLES])
def test_saving_settings_is_for_owners_and_admins(tenant_alpha, role, allowed):
    response = staff_client(tenant_alpha, role).post("/settings/", settings_form(tenant_alpha, name="Renamed"))

    assert response.status_code == (302 if allowed else 403)
    assert Tenant.objects.get(pk=tenant_alpha.pk).name == ("Renamed" if allowed else "Alpha Co")


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_offers_only_what_the_role_may_use(tenant_alpha, role):
    response = staff_client(tenant_alpha, role).get("/")

    assert response.status_code == 200
    assert (b'href="/api-keys/"' in response.content) == (role in KEY_MANAGERS)
    assert (b'href="/settings/"' in response.content) == (role in SETTINGS_MANAGERS)
    assert b'href="/team/"' in response.content
    assert b'href="/accounts/2fa/"' in response.content


def test_the_403_page_keeps_the_navigation_and_names_the_role(tenant_alpha):
    response = staff_client(tenant_alpha, Role.MEMBER).get("/settings/")

    assert response.status_code == 403
    assert b"Your role in Alpha Co is Member." in response.content
    assert b'href="/team/"' in response.content


def test_pages_refuse_a_post_without_the_csrf_token(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)
    with schema_context("alpha"):
        client.force_login(owner_of(tenant_alpha), backend="django.contrib.auth.backends.ModelBackend")

    response = client.post("/api-keys/", NEW_KEY)

    assert response.status_code == 403
    assert not ApiKey.objects.filter(tenant=tenant_alpha).exists()


def test_anonymous_visitors_of_staff_pages_go_to_login(alpha_client):
    for path in ["/api-keys/", "/settings/"]:
        response = alpha_client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- Dashboard ---------------------------------------------------------------------------------

def test_the_dashboard_counts_active_keys_and_members_and_shows_the_role(tenant_alpha):
    alpha_key(tenant_alpha, "One")
    api_key_create(tenant=tenant_alpha, name="Two", scopes=["read"], created_by="x")
    revoked = alpha_key(tenant_alpha, "Three")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    client = staff_client(tenant_alpha, Role.BILLING)

    response = client.get("/")

    content = response.content.decode()
    assert re.search(r"Active API keys</h2>\s*<p class=\"stat-value\">2</p>", content)
    assert re.search(r"Team members</h2>\s*<p class=\"stat-value\">2</p>", content)
    assert re.search(r"Your role</h2>\s*<p class=\"stat-value\">Billing</p>", content)


# --- API keys ------------------------------------------------------------------------------------

def test_a_new_key_is_shown_once_in_full(alpha_owner_client, tenant_alpha):
    first = alpha_owner_client.post("/api-keys/", NEW_KEY, follow=True)
    second = alpha_owner_client.get("/api-keys/")

    secret = shown_secret(first)
    key = ApiKey.objects.get(tenant=tenant_alpha, name="Production server")
    assert secret and secret.startswith(key.prefix)
    assert b"Copy" in first.content
    assert secret.encode() not in second.content
    assert shown_secret(second) is None


def test_session_copy_of_new_key_is_gone_after_first_view(alpha_owner_client):
    alpha_owner_client.post("/api-keys/", NEW_KEY)
    secret = alpha_owner_client.session["api_key_created_once"]["secret"]

    shown = alpha_owner_client.get("/api-keys/")

    assert shown_secret(shown) == secret
    # Read the stored sessions themselves, raw and decoded: no copy is left behind in any of them.
    with schema_context("alpha"):
        sessions = list(Session.objects.all())
    assert sessions
    for session in sessions:
        assert secret not in session.session_data
        assert secret not in json.dumps(session.get_decoded())


def test_creating_a_key_on_the_page_keeps_the_secret_out_of_logs_and_cookies(alpha_owner_client, caplog):
    with caplog.at_level(logging.DEBUG):
        created = alpha_owner_client.post("/api-keys/", NEW_KEY)
        secret = alpha_owner_client.session["api_key_created_once"]["secret"]
        alpha_owner_client.get("/api-keys/")

    assert all(secret not in record.getMessage() for record in caplog.records)
    assert all(secret not in morsel.value for morsel in created.cookies.values())


def test_the_key_page_is_not_cached(alpha_owner_client):
    response = alpha_owner_client.post("/api-keys/", NEW_KEY, follow=True)

    assert "no-store" in response["Cache-Control"]


def test_the_list_shows_name_prefix_scopes_creator_and_never_used(alpha_owner_client, tenant_alpha):
    alpha_owner_client.post("/api-keys/", NEW_KEY, follow=True)
    key = ApiKey.objects.get(tenant=tenant_alpha)

    response = alpha_owner_client.get("/api-keys/")

    content = response.content.decode()
    assert "Production server" in content
    assert f"{key.prefix}…" in content
    assert "<code class=\"scope\">ai</code>" in content and "<code class=\"scope\">read</code>" in content
    assert "owner@alpha.test" in content
    assert "Never" in content
    assert "badge-active" in content


def test_a_key_without_scopes_is_refused_with_a_field_error(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/api-keys/", {"name": "No scopes"})

    assert response.status_code == 400
    assert b"Choose at least one scope." in response.content
    assert not ApiKey.objects.filter(tenant=tenant_alpha).exists()


def test_a_key_without_a_name_is_refused_with_a_field_error(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/api-keys/", {"name": "  ", "scopes": ["read"]})

    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert not ApiKey.objects.filter(tenant=tenant_alpha).exists()


def test_revoking_asks_for_confirmation_first(alpha_owner_client, tenant_alpha):
    key = alpha_key(tenant_alpha, "Old laptop")

    response = alpha_owner_client.get(f"/api-keys/{key.pk}/revoke/")

    assert b"Revoke Old laptop? Programs using it stop working immediately." in response.content
    key.refresh_from_db()
    assert key.is_active


def test_a_revoked_key_stays_listed_as_revoked_without_a_revoke_button(alpha_owner_client, tenant_alpha):
    key = alpha_key(tenant_alpha, "Old laptop")

    response = alpha_owner_client.post(f"/api-keys/{key.pk}/revoke/", follow=True)

    key.refresh_from_db()
    assert not key.is_active
    assert b"Old laptop" in response.content
    assert b"badge-revoked" in response.content
    assert f"/api-keys/{key.pk}/revoke/".encode() not in response.content


def test_revoking_an_unknown_key_answers_404(alpha_owner_client):
    assert alpha_owner_client.post("/api-keys/999999/revoke/").status_code == 404


# --- Settings ----------------------------------------------------------------------------------

def test_a_settings_change_is_saved_and_audited_as_staff(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/settings/", settings_form(tenant_alpha, billing_email="Books@Alpha.test"))

    assert response.status_code == 302
    assert Tenant.objects.get(pk=tenant_alpha.pk).billing_email == "books@alpha.test"
    record = TenantAuditLog.objects.get(tenant=tenant_alpha, action="update")
    assert record.source == TenantAuditLog.Source.STAFF
    assert record.actor_email == "owner@alpha.test"
    assert record.after == {"billing_email": "books@alpha.test"}


def test_saving_unchanged_settings_writes_no_audit_record(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/settings/", settings_form(tenant_alpha), follow=True)

    assert b"Nothing changed." in response.content
    assert not TenantAuditLog.objects.filter(tenant=tenant_alpha, action="update").exists()


def test_an_invalid_billing_email_shows_a_field_error(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/settings/", settings_form(tenant_alpha, billing_email="nope"))

    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content


def test_an_owner_can_require_mfa(alpha_owner_client, tenant_alpha):
    alpha_owner_client.post("/settings/", settings_form(tenant_alpha, require_mfa="on"))

    assert Tenant.objects.get(pk=tenant_alpha.pk).require_mfa
    assert TenantAuditLog.objects.get(tenant=tenant_alpha).after == {"require_mfa": True}


def test_an_admin_is_not_offered_the_mfa_switch(tenant_alpha):
    response = staff_client(tenant_alpha, Role.ADMIN).get("/settings/")

    assert b'name="require_mfa"' not in response.content
    assert b"Only an owner can change this." in response.content


def test_an_admin_cannot_require_mfa_with_a_crafted_post(tenant_alpha):
    staff_client(tenant_alpha, Role.ADMIN).post("/settings/", settings_form(tenant_alpha, require_mfa="on"))

    assert not Tenant.objects.get(pk=tenant_alpha.pk).require_mfa


def test_settings_link_to_the_users_own_security_page(alpha_owner_client):
    response = alpha_owner_client.get("/settings/")

    assert b'href="/accounts/2fa/"' in response.content


@pytest.mark.parametrize("role", ROLES)
def test_every_role_finds_the_billing_section_from_the_dashboard(tenant_alpha, role):
    # Owners and billing members manage billing there; admins and members see the plan and its limits.
    client = staff_client(tenant_alpha, role)

    page = client.get("/billing/")
    dashboard = client.get("/")

    assert page.status_code == 200
    assert b'href="/billing/"' in dashboard.content