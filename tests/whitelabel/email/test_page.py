"""The sending-domain part of the Branding page: set the domain, copy the DKIM, SPF and DMARC records, check them
now and see each record's finding and the state; and the preview's email through the real layout."""

import html
import re

import pytest

from accounts.models import Role
from billing.services import tenant_plan_assign
from tests.support.factories import PlanFactory
from tests.support.sender_domains import brand_make, records_publish
from tests.support.staff import staff_client
from whitelabel.email.selectors import sender_records
from whitelabel.models import SenderDomain

pytestmark = pytest.mark.django_db

PAGE = "/settings/branding/"
SET = "/settings/branding/sender-domain/"
CHECK = "/settings/branding/sender-domain/check/"
REMOVE = "/settings/branding/sender-domain/remove/"
DOMAIN = "mail.northwind.test"


@pytest.fixture
def brand(tenant_alpha):
    return brand_make(tenant_alpha, display_name="Northwind", email_sender_address=f"hello@{DOMAIN}",
                      legal_footer="Northwind Ltd, 1 Harbour Road")


@pytest.fixture
def owner(tenant_alpha):
    return staff_client(tenant_alpha, Role.OWNER)


def section(response) -> str:
    content = response.content.decode()
    return content[content.index('id="sender-domain"'):]


def test_before_a_brand_is_saved_the_page_asks_for_it(owner, tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(white_label=True))

    response = owner.get(PAGE)

    assert "Save your brand first" in section(response)


def test_setting_a_domain_shows_the_three_records_to_copy_and_never_the_private_key(owner, brand):
    response = owner.post(SET, {"domain": DOMAIN}, follow=True)

    sender = SenderDomain.objects.get(brand=brand)
    page = section(response)
    assert response.status_code == 200
    for record in sender_records(sender):
        assert f'value="{html.escape(record.name)}"' in page
        assert f'value="{html.escape(record.value)}"' in page
    assert 'data-testid="sender-domain-state">Pending verification' in page
    key_body = sender.dkim_private_key.splitlines()[1]
    assert key_body not in response.content.decode() and "PRIVATE KEY" not in response.content.decode()


def test_check_now_verifies_and_shows_each_records_finding(owner, brand, dns_zone):
    owner.post(SET, {"domain": DOMAIN})
    records_publish(dns_zone, SenderDomain.objects.get(brand=brand))

    response = owner.post(CHECK, follow=True)

    page = section(response)
    assert 'data-testid="sender-domain-state">Verified' in page
    assert f"Emails are sent from hello@{DOMAIN}." in page
    assert "is verified" in response.content.decode()
    for key in ("dkim", "spf", "dmarc"):
        assert re.search(rf'data-testid="sender-finding-{key}">OK:', page)


def test_check_now_says_which_record_is_wrong(owner, brand, dns_zone):
    owner.post(SET, {"domain": DOMAIN})
    records_publish(dns_zone, SenderDomain.objects.get(brand=brand), dmarc=["v=DMARC1; p=none"])

    page = section(owner.post(CHECK, follow=True))

    assert 'data-testid="sender-domain-state">Pending verification' in page
    assert re.search(r'data-testid="sender-finding-dmarc"><strong>No</strong>: The DMARC policy must be', page)
    assert re.search(r'data-testid="sender-finding-dkim">OK:', page)


def test_a_sender_address_off_the_domain_is_pointed_out(owner, brand):
    owner.post(SET, {"domain": "other.test"})

    assert "is not on other.test" in section(owner.get(PAGE))


def test_an_invalid_domain_is_refused_with_its_reason(owner, brand):
    response = owner.post(SET, {"domain": "mail.localhost"}, follow=True)

    assert "This domain belongs to the platform." in response.content.decode()
    assert not SenderDomain.objects.exists()


def test_remove_sends_from_the_platform_again(owner, brand):
    owner.post(SET, {"domain": DOMAIN})

    owner.post(REMOVE)

    assert not SenderDomain.objects.filter(brand=brand).exists()


@pytest.mark.parametrize("path", [SET, CHECK, REMOVE])
def test_a_plan_without_white_label_gets_the_upsell(owner, brand, tenant_alpha, path):
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(white_label=False))

    assert owner.post(path, {"domain": DOMAIN}).status_code == 402
    assert not SenderDomain.objects.exists()


def test_the_preview_shows_an_email_through_the_real_layout(owner, brand):
    response = owner.post("/settings/branding/preview/", {"display_name": "Northwind Preview",
                                                          "primary_colour": "#1f4b99", "accent_colour": "#8a4b00",
                                                          "legal_footer": "Preview Ltd <b>"})

    document = html.unescape(re.search(r'srcdoc="([^"]*)"', response.content.decode()).group(1))
    email = html.unescape(re.search(r'class="pv-email"[^>]*srcdoc="([^"]*)"', document).group(1))
    assert 'data-email-layout="brand"' in email
    assert "Northwind Preview" in email and "background: #1f4b99;" in email
    assert "Preview Ltd &lt;b&gt;" in email
