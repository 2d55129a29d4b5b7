"""Ops admin of custom domains: the list (tenant, state, last check, failing since), a domain's records and last
check's findings, and the two actions through the services: check now and release."""

import pytest

from tests.support.factories import OpsUserFactory
from tests.whitelabel.domains.routing_support import HOST, claim_active, claim_pending, platform_hosts  # noqa: F401
from whitelabel.models import CustomDomain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_hosts")]
DOMAINS = "/admin/whitelabel/customdomain/"
Status = CustomDomain.Status


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


def act(client, name: str, *domains: CustomDomain):
    return client.post(DOMAINS, {"action": name, "_selected_action": [d.pk for d in domains]}, follow=True)


def test_the_list_shows_tenant_state_and_last_check(admin_client, dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded)

    page = admin_client.get(DOMAINS).content.decode()

    assert HOST in page and "Alpha" in page and "Active" in page and "passed" in page


def test_a_domains_page_shows_the_records_to_create_and_what_the_check_found(admin_client, dns_zone,
                                                                             alpha_branded):
    domain = claim_active(dns_zone, alpha_branded)

    page = admin_client.get(f"{DOMAINS}{domain.pk}/change/").content.decode()

    assert f"_tollgate-challenge.{HOST}" in page and domain.verification_token in page
    assert "alpha.domains.localhost" in page and "192.0.2.10" in page
    assert "found" in page and "passed" in page


def test_check_now_looks_the_records_up_and_moves_the_domain_on(admin_client, dns_zone, alpha_branded):
    domain = claim_active(dns_zone, alpha_branded)
    dns_zone.name_forget(HOST)

    response = act(admin_client, "check_now", domain)

    domain.refresh_from_db()
    assert domain.status == Status.FAILING
    assert f"Checked: {HOST} (failing)." in response.content.decode()


def test_release_stops_routing_at_once_and_frees_the_hostname(admin_client, dns_zone, alpha_branded):
    domain = claim_active(dns_zone, alpha_branded)

    act(admin_client, "release", domain)

    domain.refresh_from_db()
    assert (domain.status, domain.ended_at is not None) == (Status.RELEASED, True)
    assert not alpha_branded.domains.filter(domain=HOST).exists()
    assert claim_pending(alpha_branded).status == Status.PENDING  # claimable again


def test_an_ended_domain_is_neither_checked_nor_released_again(admin_client, alpha_branded):
    domain = claim_pending(alpha_branded)
    act(admin_client, "release", domain)

    response = act(admin_client, "release", domain)

    assert [str(message) for message in response.context["messages"]] == [
        f"{HOST}: This domain is no longer claimed."]


def test_ops_can_neither_add_nor_delete_a_domain(admin_client, alpha_branded):
    domain = claim_pending(alpha_branded)

    assert admin_client.get(f"{DOMAINS}add/").status_code == 403
    assert admin_client.post(f"{DOMAINS}{domain.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CustomDomain.objects.filter(pk=domain.pk, status=Status.PENDING, ended_at=None).exists()
