"""Commissions, payouts and fraud flags are ops' pages: anonymous visitors and tenant staff (on any host) get
nothing of them, an affiliate (a public-schema user who is not ops) cannot reach them, and an ops account that may
only view commissions cannot run the payout batch."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from affiliates.models import Payout
from tests.support.tenants import logged_in_client

COMMISSIONS = "/admin/affiliates/commission/"
PAYOUTS = "/admin/affiliates/payout/"
FLAGS = "/admin/affiliates/fraudflag/"
BATCH = "/admin/affiliates/payout/create-batch/"
URLS = [COMMISSIONS, PAYOUTS, FLAGS]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", URLS)
def test_an_anonymous_visitor_is_sent_to_sign_in(public_client, url):
    response = public_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", URLS)
def test_a_tenant_owner_gets_nothing_on_the_public_host(tenant_alpha, url):
    response = logged_in_client(tenant_alpha).get(url, HTTP_HOST="localhost")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", URLS)
def test_there_are_no_commission_pages_on_a_tenant_host(tenant_alpha, url):
    assert logged_in_client(tenant_alpha).get(url).status_code == 404


@pytest.mark.parametrize("url", URLS + [BATCH])
def test_a_public_user_who_is_not_ops_is_sent_to_sign_in(public_client, url):
    public_client.force_login(User.objects.create_user("partner@promoter.test", "pw-partner-4471"))
    response = public_client.post(url) if url == BATCH else public_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_an_ops_account_that_may_only_view_commissions_cannot_create_payouts(public_client):
    user = User.objects.create_user("ops-viewer@tollgate.test", "pw-operator-7782", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_payout", content_type__app_label="affiliates"))
    public_client.force_login(user)
    assert public_client.get(PAYOUTS).status_code == 200
    public_client.post(BATCH)
    assert not Payout.objects.exists()
