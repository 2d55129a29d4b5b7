"""Tenant B's staff never see tenant A's notifications: they live in A's schema, so B's list is empty of them and
an id taken from A is a 404 in B (open and mark read alike); an A session on B's host gets nothing."""

import pytest
from django_tenants.utils import schema_context

from notifications.categories import Category
from notifications.models import Notification
from notifications.services import notify
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

ALPHA_SECRET = "Alpha's confidential invoice TG-ALPHA-1"


@pytest.fixture
def alphas_notification(tenant_alpha) -> Notification:
    notify(tenant=tenant_alpha, category=Category.INVOICE_ISSUED, cause="invoice:alpha", title=ALPHA_SECRET,
           body=ALPHA_SECRET, link="/billing/")
    with schema_context(tenant_alpha.schema_name):
        return Notification.objects.get(cause="invoice:alpha")


def test_betas_list_never_shows_alphas_notifications(beta_owner_client, alphas_notification):
    response = beta_owner_client.get("/notifications/")

    assert response.status_code == 200 and ALPHA_SECRET.encode() not in response.content


def test_an_id_from_alpha_is_a_404_on_betas_host(beta_owner_client, tenant_alpha, alphas_notification):
    assert beta_owner_client.get(f"/notifications/{alphas_notification.pk}/").status_code == 404
    assert beta_owner_client.post(f"/notifications/{alphas_notification.pk}/read/").status_code == 404
    with schema_context(tenant_alpha.schema_name):
        assert Notification.objects.get(pk=alphas_notification.pk).read_at is None


def test_mark_all_read_on_betas_host_leaves_alphas_unread(beta_owner_client, tenant_alpha, alphas_notification):
    beta_owner_client.post("/notifications/read/")

    with schema_context(tenant_alpha.schema_name):
        assert Notification.objects.get(pk=alphas_notification.pk).read_at is None


@pytest.mark.parametrize("path", ["/notifications/", "/notifications/preferences/"])
def test_an_alpha_session_on_betas_host_is_sent_to_login(alpha_owner_client, tenant_beta, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
