"""The staff pages for API keys, the team, settings and invitations never cross from one tenant to another."""

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import Invitation, Role, User
from accounts.services import invitation_create
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create
from tests.support.tenants import client_for, owner_of

pytestmark = pytest.mark.django_db

BETA_KEY_NAME = "Beta private integration"
BETA_INVITEE = "invitee@beta.test"


@pytest.fixture
def beta_data(tenant_beta, django_capture_on_commit_callbacks) -> dict:
    """A key, an open invitation and its link in beta, for alpha's pages to (not) show."""
    key = api_key_create(tenant=tenant_beta, name=BETA_KEY_NAME, scopes=["read"], created_by="owner@beta.test")
    with schema_context("beta"), django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(email=BETA_INVITEE, role=Role.MEMBER, invited_by=owner_of(tenant_beta),
                                       site_url="http://beta.localhost", workspace_name="Beta Inc")
    link = re.search(r"http://beta\.localhost(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    return {"key": key.api_key, "invitation": invitation, "link": link}


@pytest.fixture
def alpha_key(tenant_alpha) -> ApiKey:
    return api_key_create(tenant=tenant_alpha, name="Alpha key", scopes=["read"], created_by="owner@alpha.test").api_key


def alpha_pages(alpha_key: ApiKey) -> list[str]:
    return ["/api-keys/", "/team/", "/settings/", f"/api-keys/{alpha_key.pk}/revoke/", "/"]


@pytest.mark.parametrize("path", ["/api-keys/", "/team/", "/settings/", "/api-keys/1/revoke/",
                                  "/team/members/1/remove/"])
def test_an_alpha_session_on_betas_host_is_sent_to_login(alpha_owner_client, tenant_beta, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/api-keys/", "/team/invitations/", "/settings/", "/api-keys/1/revoke/",
                                  "/team/members/1/role/", "/team/members/1/remove/"])
def test_an_alpha_session_cannot_post_on_betas_host(alpha_owner_client, tenant_beta, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.post(path, {"name": "Hijacked", "scopes": ["read"], "email": "x@alpha.test", "role": "member"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not ApiKey.objects.filter(name="Hijacked").exists()
    assert Tenant.objects.get(pk=tenant_beta.pk).name == "Beta Inc"


def test_alphas_pages_never_show_betas_keys_or_invitations(alpha_owner_client, alpha_key, beta_data):
    for path in alpha_pages(alpha_key):
        response = alpha_owner_client.get(path)

        assert response.status_code == 200, path
        for marker in [BETA_KEY_NAME.encode(), BETA_INVITEE.encode(), beta_data["key"].prefix.encode(),
                       b"owner@beta.test", b"Beta Inc"]:
            assert marker not in response.content, (path, marker)


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_alpha_key_id_in_betas_revoke_url_answers_404(beta_owner_client, alpha_key, method):
    response = getattr(beta_owner_client, method)(f"/api-keys/{alpha_key.pk}/revoke/")

    assert response.status_code == 404
    alpha_key.refresh_from_db()
    assert alpha_key.is_active


def test_a_beta_invitation_link_is_not_valid_on_alphas_host(alpha_client, beta_data):
    response = alpha_client.get(beta_data["link"])

    assert response.status_code == 200  # the refusal page: 200 keeps the token out of Django's request log
    assert b"not valid" in response.content
    assert BETA_INVITEE.encode() not in response.content


def test_accepting_a_beta_link_on_alphas_host_creates_no_account_anywhere(alpha_client, beta_data):
    response = alpha_client.post(beta_data["link"], {
        "full_name": "Crossing Over", "password1": "a-long-unusual-passphrase-77",
        "password2": "a-long-unusual-passphrase-77",
    })

    assert b"not valid" in response.content
    for schema in ["alpha", "beta"]:
        with schema_context(schema):
            assert not User.objects.filter(email=BETA_INVITEE).exists()
    with schema_context("beta"):
        assert Invitation.objects.get(pk=beta_data["invitation"].pk).accepted_at is None


def test_a_beta_invitation_id_on_alphas_host_touches_only_alpha(alpha_owner_client, beta_data):
    response = alpha_owner_client.post(f"/team/invitations/{beta_data['invitation'].pk}/revoke/")

    assert response.status_code == 404
    with schema_context("beta"):
        assert Invitation.objects.get(pk=beta_data["invitation"].pk).revoked_at is None
