"""Ops admin of sender domains: the list (brand, tenant, domain, state, last check), a domain's records and
findings, "check now" through the service; the DKIM private key is never shown and nothing is edited by hand."""

import pytest

from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.sender_domains import brand_make, records_publish
from whitelabel.email.selectors import sender_records
from whitelabel.email.services import sender_domain_set
from whitelabel.models import SenderDomain

pytestmark = pytest.mark.django_db

SENDERS = "/admin/whitelabel/senderdomain/"
DOMAIN = "mail.northwind.test"


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


@pytest.fixture
def sender(tenant_alpha):
    return sender_domain_set(brand=brand_make(tenant_alpha, display_name="Northwind"), domain=DOMAIN, now=NOW)


def test_the_list_shows_brand_tenant_domain_and_state(admin_client, sender):
    page = admin_client.get(SENDERS).content.decode()

    assert DOMAIN in page and "Northwind" in page and "alpha" in page and "Pending verification" in page


def test_a_domains_page_shows_the_records_and_never_the_private_key(admin_client, sender):
    page = admin_client.get(f"{SENDERS}{sender.pk}/change/").content.decode()

    for record in sender_records(sender):
        assert record.name in page and record.value in page
    assert "PRIVATE KEY" not in page and sender.dkim_private_key.splitlines()[1] not in page
    assert 'name="_save"' not in page


def test_check_now_looks_the_records_up_and_verifies(admin_client, sender, dns_zone):
    records_publish(dns_zone, sender)

    response = admin_client.post(SENDERS, {"action": "check_now", "_selected_action": [sender.pk]}, follow=True)

    sender.refresh_from_db()
    assert sender.status == SenderDomain.Status.VERIFIED
    assert f"Checked: {DOMAIN} (verified, passed)." in response.content.decode()


def test_ops_cannot_add_a_sender_domain_by_hand(admin_client):
    assert admin_client.get(f"{SENDERS}add/").status_code == 403
