"""GET /internal/tls/ask?domain=: 200 only for hosts that route (the platform's own, tenants' subdomains, active
or failing custom domains), 404 for any other, 400 for a missing or malformed parameter; on any Host header."""

import pytest
from django.test import Client

from tests.support.clock import NOW
from tests.whitelabel.domains.routing_support import (
    HOST,
    claim_active,
    claim_failing,
    claim_pending,
    claim_released,
    platform_hosts,
)
from whitelabel.domains.services import domain_remove

__all__ = ["platform_hosts"]
pytestmark = pytest.mark.usefixtures("platform_hosts")
ASK = "/internal/tls/ask"


def ask(domain: str | None, *, host: str = "127.0.0.1", **headers):
    params = {} if domain is None else {"domain": domain}
    return Client(HTTP_HOST=host).get(ASK, params, **headers)


def test_an_active_custom_domain_may_have_a_certificate(dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded)

    assert ask(HOST).status_code == 200


def test_a_failing_custom_domain_keeps_its_certificate_while_it_still_routes(dns_zone, alpha_branded):
    claim_failing(dns_zone, alpha_branded)

    assert ask(HOST).status_code == 200


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "beta.localhost"])
def test_the_platforms_own_hosts_may_have_certificates(db, host):
    assert ask(host).status_code == 200


def test_a_pending_custom_domain_may_not_have_a_certificate(alpha_branded):
    claim_pending(alpha_branded)

    response = ask(HOST)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "domain_unknown"


def test_a_released_custom_domain_may_not_have_a_certificate(dns_zone, alpha_branded):
    claim_released(dns_zone, alpha_branded)

    assert ask(HOST).status_code == 404


def test_a_removed_domain_is_refused_on_the_next_ask(dns_zone, alpha_branded):
    domain = claim_active(dns_zone, alpha_branded)
    assert ask(HOST).status_code == 200  # now cached

    domain_remove(domain=domain, now=NOW)

    assert ask(HOST).status_code == 404


@pytest.mark.parametrize("host", ["unknown.example.com", "nobody.localhost", "domains.localhost"])
def test_hosts_that_do_not_route_may_not_have_certificates(db, host):
    assert ask(host).status_code == 404


@pytest.mark.parametrize("value", [None, "", "   ", "*.example.com", "127.0.0.1", "not a host", "a_b.example.com"])
def test_a_missing_or_malformed_domain_is_a_400(db, value):
    response = ask(value)

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_the_ask_is_answered_on_any_host_header(db):
    assert ask("alpha.localhost", host="tollgate-web:8000").status_code == 200
    assert ask("alpha.localhost", host=HOST).status_code == 200


def test_the_domain_is_normalised_before_the_lookup(db):
    assert ask("ALPHA.localhost.").status_code == 200


def test_with_a_token_set_an_ask_without_it_is_refused(db, settings):
    settings.TLS_ASK_TOKEN = "s3cret-ask-token"

    assert ask("alpha.localhost").status_code == 403
    assert ask("alpha.localhost", HTTP_X_TLS_ASK_TOKEN="wrong").status_code == 403
    assert ask("alpha.localhost", HTTP_X_TLS_ASK_TOKEN="s3cret-ask-token").status_code == 200


def test_the_answer_is_never_cached_by_a_proxy(db):
    assert "no-cache" in ask("alpha.localhost")["Cache-Control"]
