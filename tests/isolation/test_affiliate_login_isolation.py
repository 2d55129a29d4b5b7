"""Affiliate accounts on the public host: an affiliate never reaches the ops admin, ops are not affiliates, a
tenant's staff session means nothing there, and an affiliate's pages show only its own account."""

import pytest
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from affiliates.services import affiliate_reinstate, affiliate_suspend
from tests.support.affiliate_program import AFFILIATE_PASSWORD, affiliate_make
from tests.support.factories import OpsUserFactory
from tests.support.tenants import logged_in_client

pytestmark = pytest.mark.django_db

ACCOUNT = "/affiliates/account/"


def _signed_in(affiliate) -> Client:
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.40")
    client.post("/accounts/login/", {"login": affiliate.email, "password": AFFILIATE_PASSWORD})
    assert "_auth_user_id" in client.session
    return client


def test_an_affiliate_cannot_reach_the_ops_admin():
    client = _signed_in(affiliate_make("mine-aaaaa", with_account=True))

    response = client.get("/admin/")

    assert response.status_code in (302, 403)
    assert client.get("/admin/affiliates/affiliate/").status_code in (302, 403)
    assert client.get("/admin/login/").status_code == 403


def test_an_affiliates_page_shows_its_own_account_and_not_anothers():
    mine = affiliate_make("mine-bbbbb", with_account=True)
    theirs = affiliate_make("theirs-ccccc", with_account=True, promotion_code="THEIRS")

    response = _signed_in(mine).get(ACCOUNT)

    assert response.status_code == 200
    assert mine.code.encode() in response.content
    assert theirs.code.encode() not in response.content and b"THEIRS" not in response.content


def test_an_ops_account_is_not_an_affiliate():
    client = Client(HTTP_HOST="localhost")
    client.force_login(OpsUserFactory())

    assert client.get(ACCOUNT).status_code == 403


def test_an_ops_account_given_an_affiliate_row_is_still_not_an_affiliate():
    ops = OpsUserFactory()
    affiliate_make("opsrow-ddddd", user=ops)
    client = Client(HTTP_HOST="localhost")
    client.force_login(ops)

    assert client.get(ACCOUNT).status_code == 403


def test_a_tenant_staff_session_is_anonymous_on_the_public_host(tenant_alpha):
    staff = logged_in_client(tenant_alpha)

    response = staff.get(ACCOUNT, HTTP_HOST="localhost")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_affiliate_pages_are_not_on_a_tenant_host(tenant_alpha):
    affiliate = affiliate_make("mine-eeeee", with_account=True)
    client = Client(HTTP_HOST="alpha.localhost")
    with schema_context(get_public_schema_name()):
        client.force_login(affiliate.user)

    assert client.get(ACCOUNT).status_code == 404


def test_a_suspended_affiliates_open_session_ends():
    affiliate = affiliate_make("mine-fffff", with_account=True)
    client = _signed_in(affiliate)

    affiliate_suspend(affiliate=affiliate)

    assert client.get(ACCOUNT).status_code == 302


def test_a_reinstated_affiliate_can_sign_in_again():
    affiliate = affiliate_make("mine-ggggg", with_account=True)
    affiliate_suspend(affiliate=affiliate)
    affiliate_reinstate(affiliate=affiliate)

    assert _signed_in(affiliate).get(ACCOUNT).status_code == 200
