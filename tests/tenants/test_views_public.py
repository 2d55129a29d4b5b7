import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.conf import settings
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Tenant
from tests.support.factories import ProvisionedTenantFactory
from tests.support.tenants import STANDARD_PASSWORD, client_for

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Sunrise Labs", "slug": "sunrise", "type": "business", "email": "founder@sunrise.test",
    "password": "a-long-and-unusual-pass-42",
}


def _login_link_path(response) -> str:
    location = response["Location"]
    assert location.startswith("http://sunrise.localhost/login/link/")
    return re.sub(r"^http://[^/]+", "", location)


def test_landing_says_what_tollgate_offers(public_client):
    response = public_client.get("/")

    assert response.status_code == 200
    assert b"Anthropic" in response.content
    assert b"/signup/" in response.content


def test_signup_provisions_the_workspace_and_redirects_to_a_login_link_on_its_host(public_client):
    response = public_client.post("/signup/", SIGNUP)

    assert response.status_code == 302
    _login_link_path(response)
    tenant = Tenant.objects.get(slug="sunrise")
    assert tenant.name == "Sunrise Labs"
    assert schema_exists("sunrise")
    with schema_context("sunrise"):
        assert User.objects.get().email == "founder@sunrise.test"


def test_login_link_signs_the_owner_in_and_lands_on_the_dashboard(public_client):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    tenant = Tenant.objects.get(slug="sunrise")
    browser = client_for(tenant)

    response = browser.get(link, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert response.status_code == 200
    assert b"Sunrise Labs" in response.content


def test_login_link_works_only_once(public_client):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    tenant = Tenant.objects.get(slug="sunrise")
    client_for(tenant).get(link)

    response = client_for(tenant).get(link)

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert b"already been used" in response.content


def test_login_link_expires(public_client):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    tenant = Tenant.objects.get(slug="sunrise")

    with time_machine.travel(_later(settings.TENANT_LOGIN_LINK_MAX_AGE_S + 5), tick=False):
        response = client_for(tenant).get(link)

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert b"expired" in response.content


def _later(seconds: int):
    from datetime import datetime, timedelta, timezone

    return datetime.now(tz=timezone.utc) + timedelta(seconds=seconds)


def test_login_link_for_one_workspace_is_refused_on_another(public_client, tenant_beta):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))

    response = client_for(tenant_beta).get(link)

    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert b"another workspace" in response.content


def test_signup_with_an_invalid_slug_shows_the_field_error_and_creates_nothing(public_client):
    response = public_client.post("/signup/", {**SIGNUP, "slug": "Bad_Slug"})

    assert response.status_code == 400
    assert b"lowercase letters" in response.content
    assert not Tenant.objects.filter(name="Sunrise Labs").exists()


def test_signup_with_a_taken_slug_shows_the_field_error(public_client, tenant_alpha):
    response = public_client.post("/signup/", {**SIGNUP, "slug": "alpha"})

    assert response.status_code == 400
    assert b"already taken" in response.content


def test_signup_with_a_weak_password_shows_the_field_error(public_client):
    response = public_client.post("/signup/", {**SIGNUP, "password": "short"})

    assert response.status_code == 400
    assert b"too short" in response.content
    assert not Tenant.objects.filter(slug="sunrise").exists()


def test_signup_submitted_twice_gives_one_workspace_and_one_login_link(public_client):
    first = public_client.post("/signup/", SIGNUP)
    second = public_client.post("/signup/", SIGNUP)

    assert first.status_code == second.status_code == 302
    _login_link_path(first)
    assert second["Location"] == "http://sunrise.localhost/accounts/login/"
    assert Tenant.objects.filter(slug="sunrise").count() == 1


# --- Attacks on the signup and its login link ---------------------------------------------------

def _signup_replay(client, tenant: Tenant, password: str):
    return client.post("/signup/", {**SIGNUP, "name": tenant.name, "slug": tenant.slug, "email": tenant.owner_email,
                                    "password": password})


def test_signup_replay_with_owner_password_does_not_sign_in(public_client, tenant_alpha):
    response = _signup_replay(public_client, tenant_alpha, STANDARD_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "http://alpha.localhost/accounts/login/"
    landed = client_for(tenant_alpha).get("/accounts/login/")
    assert not landed.wsgi_request.user.is_authenticated


def test_signup_replay_with_a_wrong_password_answers_like_a_taken_name(public_client, tenant_alpha):
    response = _signup_replay(public_client, tenant_alpha, "not-the-owners-password-5")

    assert response.status_code == 400
    assert b"already taken" in response.content


def test_login_link_refused_when_owner_has_totp(public_client):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    with schema_context("sunrise"):
        Authenticator.objects.create(user=User.objects.get(), type=Authenticator.Type.TOTP,
                                     data={"secret": "JBSWY3DPEHPK3PXP"})

    response = client_for(Tenant.objects.get(slug="sunrise")).get(link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not response.wsgi_request.user.is_authenticated


def test_login_link_refused_when_tenant_requires_mfa(public_client):
    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    tenant = Tenant.objects.get(slug="sunrise")
    tenant.require_mfa = True
    tenant.save(update_fields=["require_mfa"])

    response = client_for(tenant).get(link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not response.wsgi_request.user.is_authenticated


def _guarded_tenant(slug: str) -> Tenant:
    # Its own workspace and address: a lock-out lasts minutes and must not spill into other tests.
    return ProvisionedTenantFactory(slug=slug, owner_email=f"owner@{slug}.test",
                                    owner_password=STANDARD_PASSWORD).tenant


def _from_address(tenant: Tenant | None, address: str):
    client = client_for(tenant)
    client.defaults["REMOTE_ADDR"] = address
    return client


def test_signup_password_guesses_hit_the_login_limit(db):
    tenant = _guarded_tenant("guessed-owner")
    attacker = _from_address(None, "203.0.113.41")
    guesses = [_signup_replay(attacker, tenant, f"guess-number-{n}-of-many").status_code for n in range(5)]

    right_on_signup = _signup_replay(attacker, tenant, STANDARD_PASSWORD)
    right_on_login = _from_address(tenant, "198.51.100.41").post(
        "/accounts/login/", {"login": tenant.owner_email, "password": STANDARD_PASSWORD})

    assert guesses == [400] * 5
    assert right_on_signup.status_code == 400
    assert b"already taken" in right_on_signup.content
    assert not right_on_login.wsgi_request.user.is_authenticated
    assert b"Too many failed login attempts" in right_on_login.content


def test_failed_logins_lock_the_signup_replay_too(db):
    tenant = _guarded_tenant("locked-owner")
    login_page = _from_address(tenant, "198.51.100.42")
    for n in range(5):
        login_page.post("/accounts/login/", {"login": tenant.owner_email, "password": f"guess-number-{n}-of-many"})

    response = _signup_replay(_from_address(None, "203.0.113.42"), tenant, STANDARD_PASSWORD)

    assert response.status_code == 400
    assert b"already taken" in response.content


def test_a_right_password_on_signup_does_not_use_up_the_login_limit(db):
    tenant = _guarded_tenant("returning-owner")
    owner = _from_address(None, "203.0.113.43")
    replays = [_signup_replay(owner, tenant, STANDARD_PASSWORD).status_code for _ in range(6)]

    login = _from_address(tenant, "198.51.100.43").post(
        "/accounts/login/", {"login": tenant.owner_email, "password": STANDARD_PASSWORD})

    assert replays == [302] * 6
    assert login.wsgi_request.user.is_authenticated


@pytest.mark.parametrize(
    ("slug", "expected"),
    [("fresh-name", b"fresh-name.localhost is available"), ("alpha", b"already taken"), ("ab", b"3 to 40"),
     ("admin", b"reserved")],
)
def test_slug_check_answers_availability_while_typing(public_client, tenant_alpha, slug, expected):
    response = public_client.get("/signup/check-slug/", {"slug": slug})

    assert response.status_code == 200
    assert expected in response.content


def test_signups_from_one_address_are_rate_limited(db, settings):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    visitor = client_for(None)
    visitor.defaults["REMOTE_ADDR"] = "203.0.113.77"

    answers = [visitor.post("/signup/", {**SIGNUP, "slug": f"limited-{n}"}).status_code for n in range(3)]

    assert answers == [302, 302, 429]
    assert not Tenant.objects.filter(slug="limited-2").exists()


def test_the_first_sign_in_sends_the_email_verification_from_the_tenant_host(public_client):
    from django.core import mail

    link = _login_link_path(public_client.post("/signup/", SIGNUP))
    client_for(Tenant.objects.get(slug="sunrise")).get(link)

    assert [message.to for message in mail.outbox] == [["founder@sunrise.test"]]
    assert "http://sunrise.localhost/accounts/confirm-email/" in mail.outbox[0].body
