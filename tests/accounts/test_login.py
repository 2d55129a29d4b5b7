import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from tests.support.tenants import STANDARD_PASSWORD, client_for

pytestmark = pytest.mark.django_db


def test_password_reset_mails_a_link_on_the_tenants_own_host(alpha_client):
    response = alpha_client.post("/accounts/password/reset/", {"email": "owner@alpha.test"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@alpha.test"]
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_reset_link_sets_a_new_password_in_the_tenants_schema(alpha_client):
    alpha_client.post("/accounts/password/reset/", {"email": "owner@alpha.test"})
    link = re.search(r"http://alpha\.localhost(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)

    form_page = alpha_client.get(link, follow=True)
    alpha_client.post(form_page.redirect_chain[-1][0],
                      {"password1": "brand-new-secret-81", "password2": "brand-new-secret-81"})

    with schema_context("alpha"):
        assert User.objects.get(email="owner@alpha.test").check_password("brand-new-secret-81")


def test_logout_ends_the_session(alpha_owner_client):
    alpha_owner_client.post("/accounts/logout/")

    assert alpha_owner_client.get("/").status_code == 302


def test_repeated_failed_logins_are_rate_limited(tenant_alpha):
    # Its own account and address: the lock-out lasts minutes and must not spill into other tests.
    with schema_context("alpha"):
        User.objects.create_user("locked@alpha.test", STANDARD_PASSWORD, role="member")
    client = client_for(tenant_alpha)
    client.defaults["REMOTE_ADDR"] = "198.51.100.23"
    answers = [
        client.post("/accounts/login/", {"login": "locked@alpha.test", "password": "wrong-password"})
        for _ in range(6)
    ]
    blocked = client.post("/accounts/login/", {"login": "locked@alpha.test", "password": STANDARD_PASSWORD})

    assert all(answer.status_code == 200 for answer in answers)
    assert not blocked.wsgi_request.user.is_authenticated
    assert b"Too many failed login attempts" in blocked.content


def test_login_limit_is_not_reset_by_another_port_in_the_host_header(tenant_alpha):
    # allauth keyed the count by host and port; the tenant is routed by the host alone, so each port was a fresh
    # five guesses at the same account.
    with schema_context("alpha"):
        User.objects.create_user("ported@alpha.test", STANDARD_PASSWORD, role="member")
    for port in range(8001, 8006):
        guesser = Client(HTTP_HOST=f"alpha.localhost:{port}", REMOTE_ADDR="198.51.100.24")
        guesser.post("/accounts/login/", {"login": "ported@alpha.test", "password": "wrong-password"})

    blocked = Client(HTTP_HOST="alpha.localhost:8006", REMOTE_ADDR="198.51.100.25").post(
        "/accounts/login/", {"login": "ported@alpha.test", "password": STANDARD_PASSWORD})

    assert not blocked.wsgi_request.user.is_authenticated
    assert b"Too many failed login attempts" in blocked.content
