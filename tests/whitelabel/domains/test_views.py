"""The Domains page (Settings → Domains): add a domain (refusals under the field), its records to create, "Check
now" through the real resolver and the local DNS server, removal after a confirmation, and the plan's gate."""

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.support.staff import staff_client
from tests.whitelabel.domains.routing_support import platform_hosts, records_publish  # noqa: F401 - fixture
from whitelabel.domains.services import domain_check, domain_claim
from whitelabel.models import CustomDomain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_hosts")]

PAGE = "/settings/domains/"
HOST = "portal.example.com"
Status = CustomDomain.Status


@pytest.fixture
def owner(alpha_branded):
    return staff_client(alpha_branded, Role.OWNER)


def claim(tenant, hostname: str = HOST) -> CustomDomain:
    return domain_claim(tenant=tenant, hostname=hostname, now=timezone.now())


def test_the_page_shows_each_domain_with_its_state_and_the_records_to_create(owner, alpha_branded):
    domain = claim(alpha_branded)

    response = owner.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Pending verification" in page and "Not yet" in page
    assert f'value="_tollgate-challenge.{HOST}"' in page
    assert f'value="{domain.verification_token}"' in page
    assert 'value="alpha.domains.localhost"' in page  # the CNAME's target
    assert 'value="192.0.2.10"' in page  # the apex's A record
    assert "You use 1 of the 2" in page


def test_adding_a_domain_claims_it_and_goes_back_to_it(owner, alpha_branded):
    response = owner.post(PAGE, {"hostname": "  Portal.Example.COM. "})

    domain = CustomDomain.objects.get(tenant=alpha_branded)
    assert (domain.hostname, domain.status) == (HOST, Status.PENDING)
    assert (response.status_code, response["Location"]) == (302, f"{PAGE}#domain-{domain.pk}")


@pytest.mark.parametrize(("hostname", "message"), [
    ("intranet", "Enter a hostname such as portal.example.com."),
    ("not a host", "This is not a valid hostname"),
    ("shop.alpha.localhost", "This hostname belongs to the platform."),
])
def test_a_hostname_that_cannot_be_claimed_is_refused_under_the_field(owner, hostname, message):
    response = owner.post(PAGE, {"hostname": hostname})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CustomDomain.objects.exists()


def test_a_hostname_another_workspace_holds_is_refused_as_taken(owner, beta_branded):
    claim(beta_branded)

    response = owner.post(PAGE, {"hostname": HOST})

    assert response.status_code == 400
    assert "Another workspace has claimed this domain." in response.content.decode()


def test_a_domain_past_the_plans_limit_is_refused(owner, alpha_branded):
    claim(alpha_branded, "one.example.com")
    claim(alpha_branded, "two.example.com")

    response = owner.post(PAGE, {"hostname": "three.example.com"})

    assert response.status_code == 400
    assert "Your plan allows 2 custom domain(s)." in response.content.decode()


def test_check_now_verifies_the_domain_through_the_dns_and_shows_what_it_found(owner, alpha_branded, dns_zone):
    domain = claim(alpha_branded)
    records_publish(dns_zone, domain)

    response = owner.post(f"{PAGE}{domain.pk}/check/", follow=True)

    domain.refresh_from_db()
    assert domain.status == Status.ACTIVE
    page = response.content.decode()
    assert f"{HOST} checks out: it is active." in page
    assert "<code>alpha.domains.localhost</code>" in page  # the CNAME found, in the findings table


def test_check_now_says_why_a_domain_does_not_check_out(owner, alpha_branded, dns_zone):
    domain = claim(alpha_branded)
    dns_zone.record_set(f"_tollgate-challenge.{HOST}", "TXT", ["someone-elses-token"])

    page = owner.post(f"{PAGE}{domain.pk}/check/", follow=True).content.decode()

    assert "does not check out yet" in page
    assert "does not carry this domain&#x27;s token" in page
    assert "The domain points nowhere" in page


def test_removing_a_domain_asks_first_then_stops_it(owner, alpha_branded, dns_zone):
    domain = claim(alpha_branded)
    records_publish(dns_zone, domain)
    domain_check(domain=domain, now=timezone.now())

    confirm = owner.get(f"{PAGE}{domain.pk}/remove/")
    removed = owner.post(f"{PAGE}{domain.pk}/remove/")

    assert confirm.status_code == 200 and f"Remove {HOST}?" in confirm.content.decode()
    assert (removed.status_code, removed["Location"]) == (302, PAGE)
    domain.refresh_from_db()
    assert domain.status == Status.REMOVED
    assert not alpha_branded.domains.filter(domain=HOST).exists()


def test_a_removed_domain_can_be_neither_checked_nor_removed_again(owner, alpha_branded):
    domain = claim(alpha_branded)
    owner.post(f"{PAGE}{domain.pk}/remove/")

    assert owner.post(f"{PAGE}{domain.pk}/check/").status_code == 404
    assert owner.get(f"{PAGE}{domain.pk}/remove/").status_code == 404


def test_without_white_label_the_page_is_an_upsell(tenant_alpha):
    response = staff_client(tenant_alpha, Role.OWNER).get(PAGE)

    assert response.status_code == 402
    assert b'data-testid="domains-upsell"' in response.content


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING])
def test_staff_who_do_not_manage_settings_are_refused(alpha_branded, role):
    client = staff_client(alpha_branded, role)

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"hostname": HOST}).status_code == 403
    assert not CustomDomain.objects.exists()


def test_an_admin_may_add_a_domain(alpha_branded):
    response = staff_client(alpha_branded, Role.ADMIN).post(PAGE, {"hostname": HOST})

    assert response.status_code == 302
