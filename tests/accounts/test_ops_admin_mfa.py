"""The ops admin: sign-in through allauth on the public host, TOTP, the OPS_REQUIRE_MFA requirement, throttling."""

import itertools
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.test import Client

from accounts.models import User
from metering.models import Wallet, WalletEntry
from metering.wallets.services import wallet_credit

pytestmark = pytest.mark.django_db

PASSWORD = "pw-operator-4471"
ADMIN = "/admin/"
LOGIN = "/accounts/login/"
MFA_CODE = "/accounts/2fa/authenticate/"
MFA_AGAIN = "/accounts/2fa/reauthenticate/"
TOTP_SETUP = "/accounts/2fa/totp/activate/"

# Failed logins are counted per IP and per account for minutes in this process's cache namespace: each test
# signs in from its own address and with its own account, so that no test inherits another's failures.
_addresses = (f"203.0.113.{n}" for n in itertools.count(1))
_accounts = (f"ops-{n}@tollgate.test" for n in itertools.count(1))


@pytest.fixture
def client() -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=next(_addresses))


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser(next(_accounts), PASSWORD)


@pytest.fixture
def totp_secret(operator) -> str:
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    return secret


@pytest.fixture
def frozen_clock():
    """A code is valid for its 30-second period only: the clock stands still so that a test never computes a
    code in one period and sends it in the next."""
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False):
        yield


@pytest.fixture
def ops_mfa_required(settings):
    settings.OPS_REQUIRE_MFA = True


def code_for(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client: Client, user: User, password: str = PASSWORD, *, next_url: str = ADMIN):
    return client.post(f"{LOGIN}?next={next_url}", {"login": user.email, "password": password})


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- TOTP on the ops admin ---------------------------------------------------------------------------

def test_admin_sends_visitors_to_the_allauth_sign_in_of_the_public_host(client):
    response = client.get(ADMIN, follow=True)

    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=%2Fadmin%2F"
    assert b"Operators sign in to the Tollgate admin." in response.content


def test_ops_password_alone_does_not_open_admin_when_totp_enabled(client, operator, totp_secret):
    sign_in_page = client.get(ADMIN, follow=True).redirect_chain[-1][0]
    # Whichever form the admin sends to: Django's own reads `username`, allauth's reads `login`.
    response = client.post(sign_in_page, {"login": operator.email, "username": operator.email,
                                          "password": PASSWORD})

    assert response["Location"] == MFA_CODE
    assert signed_in_user_id(client) is None
    assert client.get(ADMIN).status_code == 302
    assert b'autocomplete="one-time-code"' in client.get(MFA_CODE).content


def test_ops_with_password_and_totp_code_open_the_admin(client, operator, totp_secret, frozen_clock):
    sign_in(client, operator)
    response = client.post(MFA_CODE, {"code": code_for(totp_secret)})

    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_ops_signing_in_without_a_destination_land_on_the_admin(client, operator):
    response = client.post(LOGIN, {"login": operator.email, "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == ADMIN
    assert response.status_code == 200


def test_admin_login_next_cannot_send_ops_to_another_site(client, operator):
    assert client.get(f"{ADMIN}login/?next=https://evil.example/")["Location"] == f"{LOGIN}?next=%2Fadmin%2F"

    client.force_login(operator)
    assert client.get(f"{ADMIN}login/?next=https://evil.example/")["Location"] == ADMIN


def test_ops_with_a_wrong_totp_code_stay_signed_out(client, operator, totp_secret, frozen_clock):
    sign_in(client, operator)
    wrong = f"{(int(code_for(totp_secret)) + 1) % 1_000_000:06d}"
    response = client.post(MFA_CODE, {"code": wrong})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_django_admin_login_form_cannot_bypass_mfa(client, operator, totp_secret):
    response = client.post(f"{ADMIN}login/?next={ADMIN}", {"username": operator.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"
    assert signed_in_user_id(client) is None
    assert client.get(ADMIN).status_code == 302


def test_a_session_signed_in_without_the_code_is_asked_for_it_before_any_admin_page(client, operator, totp_secret):
    # A session signed in by any path that skipped the second factor (or before TOTP was set up).
    client.force_login(operator)

    for path in [ADMIN, "/admin/metering/wallet/", f"{ADMIN}login/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{MFA_AGAIN}?next="), path


def test_a_session_signed_in_without_the_code_opens_the_admin_once_it_is_given(client, operator, totp_secret,
                                                                                frozen_clock):
    client.force_login(operator)
    assert b'autocomplete="one-time-code"' in client.get(f"{MFA_AGAIN}?next={ADMIN}").content
    response = client.post(f"{MFA_AGAIN}?next={ADMIN}", {"code": code_for(totp_secret)})

    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_a_session_without_the_code_cannot_post_to_an_admin_action(client, operator, totp_secret, tenant_alpha):
    client.force_login(operator)

    response = client.post("/admin/tenants/tenant/", {
        "action": "suspend_tenants", "_selected_action": [tenant_alpha.pk], "confirm": "yes"})

    assert response.status_code == 302
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "active"


# --- OPS_REQUIRE_MFA ---------------------------------------------------------------------------------

def test_ops_without_totp_open_the_admin_with_a_password_when_not_required(client, operator):
    sign_in(client, operator)

    assert client.get(ADMIN).status_code == 200


def test_ops_without_totp_is_sent_to_setup_when_required(ops_mfa_required, client, operator):
    response = sign_in(client, operator)
    assert response["Location"] == ADMIN

    for path in [ADMIN, "/admin/metering/wallet/", "/admin/tenants/tenant/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == TOTP_SETUP, path
    setup = client.get(TOTP_SETUP, follow=True)
    assert setup.status_code == 200
    assert all(url.startswith("/accounts/") for url, _ in setup.redirect_chain)


def test_ops_who_set_up_totp_when_required_enter_a_code_before_the_admin(ops_mfa_required, client, operator,
                                                                         frozen_clock):
    sign_in(client, operator)
    # allauth asks for the password again before adding a second factor.
    client.post(f"/accounts/reauthenticate/?next={TOTP_SETUP}", {"password": PASSWORD})
    setup_page = client.get(TOTP_SETUP)
    secret = setup_page.context["form"].secret
    client.post(TOTP_SETUP, {"code": code_for(secret)})
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()

    assert client.get(ADMIN)["Location"].startswith(MFA_AGAIN)


def test_ops_who_removed_totp_are_sent_back_to_setup_when_required(ops_mfa_required, client, operator,
                                                                   totp_secret, frozen_clock):
    sign_in(client, operator)
    client.post(MFA_CODE, {"code": code_for(totp_secret)})
    Authenticator.objects.filter(user=operator).delete()

    assert client.get(ADMIN)["Location"] == TOTP_SETUP


def test_production_settings_require_ops_mfa():
    env = {**os.environ, "DJANGO_ENV": "production", "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "k" * 20 + "-production-like-secret-" + "z9" * 10}
    env.pop("OPS_REQUIRE_MFA", None)

    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.OPS_REQUIRE_MFA)"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_local_and_test_settings_leave_ops_mfa_optional_for_the_demo():
    env = {**os.environ, "DJANGO_ENV": "local", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.pop("OPS_REQUIRE_MFA", None)

    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.OPS_REQUIRE_MFA)"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.stdout.strip() == "False", result.stderr
    assert settings.OPS_REQUIRE_MFA is False


# --- Throttling ---------------------------------------------------------------------------------------

def test_admin_login_is_throttled_per_account(operator):
    # Each guess from another address: only the per-account limit (5 failures in 5 minutes) can stop them.
    for _ in range(5):
        guesser = Client(HTTP_HOST="localhost", REMOTE_ADDR=next(_addresses))
        assert sign_in(guesser, operator, "wrong-password").status_code == 200

    owner = Client(HTTP_HOST="localhost", REMOTE_ADDR=next(_addresses))
    response = sign_in(owner, operator)

    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert signed_in_user_id(owner) is None


def test_admin_login_is_throttled_per_ip(client, operator):
    # Each guess at another account: only the per-IP limit (10 failures a minute) can stop them.
    for n in range(10):
        response = client.post(f"{LOGIN}?next={ADMIN}", {"login": f"guess-{n}@tollgate.test", "password": "x" * 12})
        assert response.status_code == 200

    response = sign_in(client, operator)

    assert b"Too many failed login attempts" in response.content
    assert signed_in_user_id(client) is None


def test_totp_codes_are_throttled_per_account(client, operator, totp_secret, frozen_clock):
    sign_in(client, operator)
    for _ in range(5):
        client.post(MFA_CODE, {"code": "000000" if code_for(totp_secret) != "000000" else "111111"})

    response = client.post(MFA_CODE, {"code": code_for(totp_secret)})

    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert signed_in_user_id(client) is None


# --- Audit --------------------------------------------------------------------------------------------

def test_a_wallet_adjustment_records_the_operator_who_signed_in_with_totp(client, operator, totp_secret,
                                                                         frozen_clock, tenant_alpha):
    wallet_credit(tenant=tenant_alpha, tokens=1_000, kind="purchase", reason="Seed purchase", idempotency_key="seed")
    wallet = Wallet.objects.get(tenant=tenant_alpha)
    sign_in(client, operator)
    client.post(MFA_CODE, {"code": code_for(totp_secret)})

    response = client.post(f"/admin/metering/wallet/{wallet.pk}/adjust/",
                           {"tokens": 250, "reason": "Goodwill for the outage", "key": "ops-form-1"})

    assert response.status_code == 302
    entry = WalletEntry.objects.get(wallet=wallet, kind="adjustment")
    assert (entry.tokens, entry.created_by) == (250, operator.email)


def test_admin_login_behind_a_proxy_throttles_the_client_not_the_proxy(settings, operator):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = next(_addresses)
    guesser = Client(HTTP_HOST="localhost", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=next(_addresses))
    for n in range(10):
        guesser.post(f"{LOGIN}?next={ADMIN}", {"login": f"proxied-guess-{n}@tollgate.test", "password": "x" * 12})
    # A client-chosen first entry is ignored: the proxy appends the address it saw.
    spoofing = Client(HTTP_HOST="localhost", REMOTE_ADDR=proxy,
                      HTTP_X_FORWARDED_FOR=f"{next(_addresses)}, {guesser.defaults['HTTP_X_FORWARDED_FOR']}")
    owner = Client(HTTP_HOST="localhost", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=next(_addresses))

    assert b"Too many failed login attempts" in sign_in(spoofing, operator).content
    assert sign_in(owner, operator)["Location"] == ADMIN
