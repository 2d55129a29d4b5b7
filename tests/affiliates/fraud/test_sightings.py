"""What identifies an affiliate for the self-referral rule: the IP addresses and devices it uses itself, noted as
it signs in and uses its portal on the public host (once per session and address), so that its own signup through
its own link is flagged while a visitor's is not."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from affiliates.clicks import DEVICE_COOKIE_NAME
from affiliates.fingerprints import device_hash, ip_hash
from affiliates.fraud.services import fraud_referral_check
from affiliates.models import AffiliateFingerprint, FraudFlag, Referral
from tests.support.affiliate_program import AFFILIATE_PASSWORD, affiliate_make, browser, click, signed_up
from tests.support.clock import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clicks_unbuffered")]

PORTAL = "/affiliates/portal/"
AFFILIATE_IP = "198.51.100.40"
Kind = AffiliateFingerprint.Kind


@pytest.fixture
def clicks_unbuffered(settings):
    # Clicks inserted on the request: no Redis buffer shared with other tests to flush.
    settings.AFFILIATE_CLICK_BUFFER_ENABLED = False


@pytest.fixture
def affiliate():
    return affiliate_make("self-aaaaa", with_account=True)


def signed_in(affiliate, *, ip: str = AFFILIATE_IP) -> Client:
    client = browser(ip=ip)
    client.post("/accounts/login/", {"login": affiliate.email, "password": AFFILIATE_PASSWORD})
    assert "_auth_user_id" in client.session
    return client


def fingerprints(affiliate) -> set[tuple[str, str]]:
    return set(AffiliateFingerprint.objects.filter(affiliate=affiliate).values_list("kind", "hash"))


def test_an_affiliate_signing_in_on_the_public_host_records_its_ip_address(affiliate):
    signed_in(affiliate)

    assert fingerprints(affiliate) == {(Kind.IP, ip_hash(AFFILIATE_IP))}


def test_a_portal_page_gives_the_affiliates_browser_a_device_id_and_records_it(affiliate):
    client = signed_in(affiliate)

    response = client.get(PORTAL)

    assert response.status_code == 200
    token = response.cookies[DEVICE_COOKIE_NAME].value
    assert fingerprints(affiliate) == {(Kind.IP, ip_hash(AFFILIATE_IP)), (Kind.DEVICE, device_hash(token))}


def test_portal_pages_after_the_first_write_no_fingerprint(affiliate):
    client = signed_in(affiliate)
    client.get(PORTAL)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(PORTAL).status_code == 200

    assert not [query for query in queries if "affiliatefingerprint" in query["sql"]]


def test_a_new_ip_address_in_the_same_session_is_recorded(affiliate):
    client = signed_in(affiliate)

    client.get(PORTAL, REMOTE_ADDR="203.0.113.77")

    assert (Kind.IP, ip_hash("203.0.113.77")) in fingerprints(affiliate)


def test_the_affiliate_signing_up_through_its_own_link_from_its_portal_browser_is_self_referral(
        affiliate, tenant_alpha):
    own_browser = signed_in(affiliate)
    own_browser.get(PORTAL)
    click(own_browser, affiliate.code, flush=False)

    # From another network (a phone's hotspot): the browser alone gives it away.
    signed_up(own_browser, tenant_alpha, ip="192.0.2.200")
    referral = Referral.objects.get(tenant=tenant_alpha)

    assert [flag.rule for flag in fraud_referral_check(referral=referral, now=NOW)] == [FraudFlag.Rule.SELF_REFERRAL]


def test_a_visitor_clicking_and_signing_up_in_one_browser_is_not_self_referral(affiliate, tenant_alpha):
    signed_in(affiliate).get(PORTAL)
    visitor = browser(ip="198.51.100.7")
    click(visitor, affiliate.code, flush=False)

    signed_up(visitor, tenant_alpha, ip="198.51.100.7")
    referral = Referral.objects.get(tenant=tenant_alpha)

    assert referral.click.device_hash == referral.signup_device_hash
    assert fraud_referral_check(referral=referral, now=NOW) == []
