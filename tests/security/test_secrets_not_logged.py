"""No secret reaches a log record: API keys, invitation tokens, sign-in link tokens, password-reset keys.

Each journey below handles secrets the way a user or an integrator does (including the failures: a form with
errors, a dead link, a wrong key) while every logger writes everything at DEBUG; then every record, with all its
attributes (Django's request logger attaches the request, whose repr carries the path), is searched for them.
"""

import logging
import re
import secrets
from collections.abc import Callable

import pytest
from django.core import mail

from tenants.models import Tenant
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for, logged_in_client

pytestmark = pytest.mark.django_db

API_KEY_MARK = "tg_live_"
NEW_PASSWORD = "a-long-unusual-passphrase-77"
CANARY = "capture-canary-5b1f"


@pytest.fixture
def every_log_record(caplog):
    """caplog's records with the root logger at DEBUG (as LOG_LEVEL=DEBUG would set it), including the records of
    loggers that don't propagate to the root. Loggers keep the levels the settings give them: those are part of
    what keeps secrets out (Django's own `django` logger stays at INFO, so its template DEBUG records, which
    carry the whole template context, are never written)."""
    caplog.set_level(logging.DEBUG)
    isolated = [logger for logger in logging.root.manager.loggerDict.values()
                if isinstance(logger, logging.Logger) and not logger.propagate]
    for logger in isolated:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in isolated:
        logger.removeHandler(caplog.handler)


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), *(repr(value) for value in vars(record).values())]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def _path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# --- Journeys: each returns the secrets it handled ---------------------------------------------------

def signup_and_login_link(tenant_beta: Tenant, capture) -> list[str]:
    signup = client_for(None).post("/signup/", {
        "name": "Quiet Logs", "slug": "quiet-logs", "type": "business", "email": "owner@quiet-logs.test",
        "password": "a-long-and-unusual-pass-42",
    })
    link = _path_of(signup["Location"])
    tenant = Tenant.objects.get(slug="quiet-logs")
    assert client_for(tenant_beta).get(link).status_code == 200  # another workspace's host: refused
    assert client_for(tenant).get(link, follow=True).wsgi_request.user.is_authenticated
    assert b"already been used" in client_for(tenant).get(link).content
    return [link.split("/")[-2]]


def api_key_through_the_page(tenant_alpha: Tenant, capture) -> list[str]:
    page = logged_in_client(tenant_alpha).post("/api-keys/", {"name": "From the page", "scopes": ["read"]},
                                               follow=True)
    secret = re.search(rb'value="(tg_live_[^"]+)"', page.content).group(1).decode()
    return [secret]


def api_key_through_the_api(tenant_alpha: Tenant, capture) -> list[str]:
    creator_key = api_key_for(tenant_alpha, scopes=["read", "write"])
    client = api_client(tenant_alpha, creator_key)
    created = client.post("/api/v1/api-keys", {"name": "From the API", "scopes": ["read"]},
                          content_type="application/json", HTTP_IDEMPOTENCY_KEY="quiet-logs-create-1")
    assert created.status_code == 201, created.content
    refused = client.post("/api/v1/api-keys", {"name": "Too much", "scopes": ["ai"]},
                          content_type="application/json")
    assert refused.status_code == 403
    return [creator_key, created.json()["key"]]


def api_call_with_a_bad_key(tenant_alpha: Tenant, capture) -> list[str]:
    bad_key = f"{API_KEY_MARK}{secrets.token_urlsafe(32)}"
    assert api_client(tenant_alpha, bad_key).get("/api/v1/tenant").status_code == 401
    return [bad_key]


def invitation_failed_then_accepted(tenant_alpha: Tenant, capture) -> list[str]:
    with capture(execute=True):
        logged_in_client(tenant_alpha).post("/team/invitations/", {"email": "quiet@alpha.test", "role": "member"})
    link = re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    invitee = client_for(tenant_alpha)
    form = {"full_name": "Quiet Person", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert invitee.get(link).status_code == 200
    assert b"match" in invitee.post(link, {**form, "password2": "something-else-entirely"}).content
    assert b"too short" in invitee.post(link, {**form, "password1": "123", "password2": "123"}).content
    assert invitee.post(link, form, follow=True).wsgi_request.user.is_authenticated
    assert b"already used" in client_for(tenant_alpha).get(link).content
    return [link.split("/")[-2]]


def password_reset_with_a_failed_form(tenant_alpha: Tenant, capture) -> list[str]:
    visitor = client_for(tenant_alpha)
    visitor.post("/accounts/password/reset/", {"email": "owner@alpha.test"})
    link = re.search(r"http://alpha\.localhost(/accounts/password/reset/key/(\S+)/)", mail.outbox[-1].body)
    form_page = visitor.get(link.group(1), follow=True)
    set_password = form_page.redirect_chain[-1][0]
    visitor.post(set_password, {"password1": NEW_PASSWORD, "password2": "something-else-entirely"})
    visitor.post(set_password, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert b"token" in client_for(tenant_alpha).get(link.group(1), follow=True).content.lower()
    key = link.group(2).split("-", 1)[1]
    return [key]


JOURNEYS: list[Callable[[Tenant, object], list[str]]] = [
    signup_and_login_link, api_key_through_the_page, api_key_through_the_api, api_call_with_a_bad_key,
    invitation_failed_then_accepted, password_reset_with_a_failed_form,
]


@pytest.mark.parametrize("journey", JOURNEYS, ids=lambda journey: journey.__name__)
def test_no_secret_reaches_a_log_record(journey, every_log_record, tenant_alpha, tenant_beta,
                                        django_capture_on_commit_callbacks):
    tenant = tenant_beta if journey is signup_and_login_link else tenant_alpha

    handled = journey(tenant, django_capture_on_commit_callbacks)
    # Proof that the capture sees what Django's request logger writes (the logger that leaked tokens).
    logging.getLogger("django.request").warning("canary %s", CANARY)

    texts = [_record_text(record) for record in every_log_record.records]
    leaks = [secret[:12] for text in texts for secret in [*handled, API_KEY_MARK] if secret in text]
    assert leaks == []
    assert any(CANARY in text for text in texts)
