"""The reconciliation report and the ops home are for ops: anonymous visitors and tenant staff (on any host) get
nothing of them, and an ops account without the permission to view disagreements cannot list or resolve them."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from tests.support.tenants import logged_in_client

HOME = "/admin/"
RUNS = "/admin/billing/reconciliationrun/"
DISAGREEMENTS = "/admin/billing/reconciliationdisagreement/"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [HOME, RUNS, DISAGREEMENTS])
def test_an_anonymous_visitor_is_sent_to_sign_in(public_client, url):
    response = public_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [HOME, RUNS, DISAGREEMENTS])
def test_a_tenant_owner_gets_nothing_on_the_public_host(tenant_alpha, url):
    response = logged_in_client(tenant_alpha).get(url, HTTP_HOST="localhost")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [RUNS, DISAGREEMENTS])
def test_there_is_no_reconciliation_report_on_a_tenant_host(tenant_alpha, url):
    assert logged_in_client(tenant_alpha).get(url).status_code == 404


@pytest.mark.parametrize("url", [RUNS, DISAGREEMENTS])
def test_an_ops_account_without_the_view_permission_is_refused(public_client, url):
    user = User.objects.create_user("ops-limited@tollgate.test", "pw-operator-7781", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_invoice", content_type__app_label="billing"))
    public_client.force_login(user)
    assert public_client.get(url).status_code == 403
