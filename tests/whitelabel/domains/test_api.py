"""The custom-domain API: each route, refusals in the API's error shape, scopes and roles, and another tenant's
domain answered 404 like none."""

import json

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.support.api import api_client, api_key_for
from tests.support.staff import staff_client
from tests.whitelabel.domains.routing_support import platform_hosts, records_publish  # noqa: F401 - fixture
from whitelabel.domains.services import domain_claim
from whitelabel.models import CustomDomain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_hosts")]

API = "/api/v1/domains"
HOST = "portal.example.com"


@pytest.fixture
def alpha_api(alpha_branded):
    return api_client(alpha_branded, api_key_for(alpha_branded, scopes=["read", "write"]))


def post(client, body, **headers):
    return client.post(API, json.dumps(body), content_type="application/json", **headers)


def claim(tenant, hostname: str = HOST) -> CustomDomain:
    return domain_claim(tenant=tenant, hostname=hostname, now=timezone.now())


def test_posting_a_hostname_claims_it_and_answers_the_records_to_create(alpha_api, alpha_branded):
    response = post(alpha_api, {"hostname": "Portal.Example.com"})

    assert response.status_code == 201
    body = response.json()
    domain = CustomDomain.objects.get(tenant=alpha_branded)
    assert (body["id"], body["hostname"], body["status"], body["last_check"]) == (domain.pk, HOST, "pending", None)
    assert body["records"] == [
        {"type": "TXT", "name": f"_tollgate-challenge.{HOST}", "value": domain.verification_token, "when": "always"},
        {"type": "CNAME", "name": HOST, "value": "alpha.domains.localhost", "when": "subdomain"},
        {"type": "A", "name": HOST, "value": "192.0.2.10", "when": "apex"},
    ]


def test_a_retried_post_with_its_idempotency_key_claims_once(alpha_api, alpha_branded):
    first = post(alpha_api, {"hostname": HOST}, HTTP_IDEMPOTENCY_KEY="claim-1")
    again = post(alpha_api, {"hostname": HOST}, HTTP_IDEMPOTENCY_KEY="claim-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert CustomDomain.objects.filter(tenant=alpha_branded).count() == 1


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"hostname": "not a host"}, 400, "hostname_invalid"),
    ({"hostname": "shop.localhost"}, 400, "hostname_invalid"),
    ({"hostname": 42}, 400, "invalid_request"),
    ({"hostname": HOST, "port": 443}, 400, "invalid_request"),
])
def test_a_hostname_that_cannot_be_claimed_gets_400(alpha_api, body, status, code):
    response = post(alpha_api, body)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_hostname_another_tenant_holds_gets_409(alpha_api, beta_branded):
    claim(beta_branded)

    response = post(alpha_api, {"hostname": HOST})

    assert (response.status_code, response.json()["error"]["code"]) == (409, "hostname_taken")
    assert response.json()["error"]["details"] == {"field": "hostname"}


def test_past_the_plans_limit_gets_402_with_the_limit(alpha_api, alpha_branded):
    claim(alpha_branded, "one.example.com")
    claim(alpha_branded, "two.example.com")

    response = post(alpha_api, {"hostname": HOST})

    assert (response.status_code, response.json()["error"]["code"]) == (402, "custom_domain_limit_reached")
    assert response.json()["error"]["details"] == {"limit": 2}


def test_without_white_label_every_route_gets_402(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    answers = [client.get(API), post(client, {"hostname": HOST}), client.get(f"{API}/1"),
               client.post(f"{API}/1/check"), client.delete(f"{API}/1")]

    assert {(r.status_code, r.json()["error"]["code"]) for r in answers} == {(402, "plan_upgrade_required")}


def test_the_list_holds_the_tenants_held_domains_newest_first(alpha_api, alpha_branded, beta_branded):
    first = claim(alpha_branded, "one.example.com")
    second = claim(alpha_branded, "two.example.com")
    claim(beta_branded, "beta.example.com")
    removed = alpha_api.delete(f"{API}/{first.pk}")

    listed = alpha_api.get(API).json()

    assert removed.status_code == 200
    assert [domain["id"] for domain in listed["data"]] == [second.pk]
    assert listed["has_more"] is False


def test_one_domain_answers_its_records_and_last_check(alpha_api, alpha_branded, dns_zone):
    domain = claim(alpha_branded)
    records_publish(dns_zone, domain)
    alpha_api.post(f"{API}/{domain.pk}/check")

    body = alpha_api.get(f"{API}/{domain.pk}").json()

    assert body["status"] == "active"
    check = body["last_check"]
    assert (check["result"], check["reasons"]) == ("passed", [])
    assert [(f["record"], f["outcome"], f["values"], f["expected"], f["ok"]) for f in check["findings"]] == [
        ("challenge", "found", [domain.verification_token], [domain.verification_token], True),
        ("cname", "found", ["alpha.domains.localhost"], ["alpha.domains.localhost"], True),
    ]


def test_checking_moves_the_domain_on_through_the_dns(alpha_api, alpha_branded, dns_zone):
    domain = claim(alpha_branded)

    missing = alpha_api.post(f"{API}/{domain.pk}/check").json()
    records_publish(dns_zone, domain)
    found = alpha_api.post(f"{API}/{domain.pk}/check").json()

    assert (missing["status"], missing["last_check"]["result"]) == ("pending", "failed")
    assert missing["last_check"]["reasons"] == ["challenge_missing", "not_pointed"]
    assert (found["status"], found["last_check"]["result"]) == ("active", "passed")
    assert alpha_branded.domains.filter(domain=HOST).exists()


def test_deleting_a_domain_stops_its_route_and_a_second_delete_gets_409(alpha_api, alpha_branded, dns_zone):
    domain = claim(alpha_branded)
    records_publish(dns_zone, domain)
    alpha_api.post(f"{API}/{domain.pk}/check")

    removed = alpha_api.delete(f"{API}/{domain.pk}")
    again = alpha_api.delete(f"{API}/{domain.pk}")
    checked = alpha_api.post(f"{API}/{domain.pk}/check")

    assert (removed.status_code, removed.json()["status"]) == (200, "removed")
    assert not alpha_branded.domains.filter(domain=HOST).exists()
    assert (again.status_code, again.json()["error"]["code"]) == (409, "custom_domain_not_held")
    assert (checked.status_code, checked.json()["error"]["code"]) == (409, "custom_domain_not_held")


def test_another_tenants_domain_id_is_404_on_every_route(alpha_api, beta_branded):
    theirs = claim(beta_branded)

    answers = [alpha_api.get(f"{API}/{theirs.pk}"), alpha_api.post(f"{API}/{theirs.pk}/check"),
               alpha_api.delete(f"{API}/{theirs.pk}")]

    assert {(r.status_code, r.json()["error"]["code"]) for r in answers} == {(404, "not_found")}
    theirs.refresh_from_db()
    assert theirs.status == CustomDomain.Status.PENDING


def test_a_read_only_key_may_list_but_not_claim(alpha_branded):
    client = api_client(alpha_branded, api_key_for(alpha_branded, scopes=["read"]))

    assert client.get(API).status_code == 200
    refused = post(client, {"hostname": HOST})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "insufficient_scope")


def test_a_member_signed_in_is_refused(alpha_branded):
    client = staff_client(alpha_branded, Role.MEMBER)

    response = client.get(API)

    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
