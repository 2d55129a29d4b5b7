"""Branded email stays with its workspace: a tenant's emails never carry another tenant's brand or sender, a
verified sender domain sends only for its own brand, and tenant B can neither see nor check nor take over A's
sender domain (pages and the DNS proof alike)."""

import pytest
from django.core import mail

from notifications.categories import Category
from notifications.services import notify
from tests.support.agencies import agency_make, client_make
from tests.support.clock import NOW
from tests.support.dns import dns_zone
from tests.support.factories import PlanFactory
from tests.support.sender_domains import brand_make, records_publish
from tests.support.staff import staff_client
from tests.support.tenants import client_for
from whitelabel.email.services import sender_domain_check, sender_domain_set
from whitelabel.models import SenderDomain

__all__ = ["dns_zone"]

pytestmark = pytest.mark.django_db

A_DOMAIN = "mail.alpha-secret.test"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEFAULT_FROM_EMAIL = "Tollgate <no-reply@localhost>"


@pytest.fixture
def alpha_verified(dns_zone, tenant_alpha):
    brand = brand_make(tenant_alpha, display_name="Alpha Secret Brand", legal_footer="Alpha Secret Ltd",
                       email_sender_address=f"hello@{A_DOMAIN}")
    sender = sender_domain_set(brand=brand, domain=A_DOMAIN, now=NOW)
    records_publish(dns_zone, sender)
    return sender_domain_check(sender_domain=sender, now=NOW)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(tenant, email_to=None):
        with django_capture_on_commit_callbacks(execute=True):
            notify(tenant=tenant, category=Category.PAYMENT_FAILED, cause=f"isolation:{tenant.slug}",
                   title="Payment failed", body="The payment failed.", link="/billing/", email_to=email_to)
        return mail.outbox[-1]
    return run


def everything(message) -> str:
    return message.from_email + " ".join(message.reply_to) + message.body + message.alternatives[0][0]


def test_a_tenants_email_never_carries_another_tenants_brand(alpha_verified, tenant_beta, send):
    brand_make(tenant_beta, display_name="Beta Secret Brand", legal_footer="Beta Secret Ltd")

    alpha, beta = send(alpha_verified.brand.tenant), send(tenant_beta)

    assert "Alpha Secret" in everything(alpha) and "Beta Secret" not in everything(alpha)
    assert "Beta Secret" in everything(beta) and "Alpha Secret" not in everything(beta)
    assert A_DOMAIN not in everything(beta)


def test_an_unbranded_tenant_gets_tollgates_look_never_anothers(alpha_verified, tenant_beta, send):
    message = send(tenant_beta)

    assert "Alpha Secret" not in everything(message) and A_DOMAIN not in everything(message)
    assert message.from_email == "Tollgate <no-reply@localhost>"


def test_a_sender_address_on_another_brands_verified_domain_is_never_used(alpha_verified, tenant_beta, send):
    brand_make(tenant_beta, display_name="Beta", email_sender_address=f"ceo@{A_DOMAIN}")

    assert send(tenant_beta).from_email == "Beta <no-reply@localhost>"


def test_b_claiming_as_sender_domain_cannot_verify_it_with_as_records(alpha_verified, tenant_beta):
    theirs = sender_domain_set(brand=brand_make(tenant_beta, display_name="Beta"), domain=A_DOMAIN, now=NOW)

    checked = sender_domain_check(sender_domain=theirs, now=NOW)

    # B's key sits under its own selector, which A's DNS never published.
    assert checked.status == SenderDomain.Status.PENDING
    assert checked.last_check["dkim"]["finding"] == "dkim_missing"
    assert SenderDomain.objects.get(pk=alpha_verified.pk).status == SenderDomain.Status.VERIFIED


def test_bs_branding_page_never_shows_as_sender_domain(alpha_verified, tenant_beta):
    brand_make(tenant_beta, display_name="Beta")

    page = staff_client(tenant_beta, "owner").get("/settings/branding/").content.decode()

    assert A_DOMAIN not in page and alpha_verified.dkim_public_key not in page


def test_bs_check_now_and_remove_touch_only_bs_own(alpha_verified, tenant_beta):
    brand_make(tenant_beta, display_name="Beta")
    owner = staff_client(tenant_beta, "owner")

    owner.post("/settings/branding/sender-domain/check/")
    owner.post("/settings/branding/sender-domain/remove/")

    after = SenderDomain.objects.get(pk=alpha_verified.pk)
    assert (after.status, after.last_checked_at) == (SenderDomain.Status.VERIFIED, alpha_verified.last_checked_at)


@pytest.mark.parametrize("path", ["/settings/branding/sender-domain/", "/settings/branding/sender-domain/check/",
                                  "/settings/branding/sender-domain/remove/"])
def test_an_alpha_session_on_betas_host_is_sent_to_login(alpha_owner_client, tenant_beta, path):
    brand_make(tenant_beta, display_name="Beta")
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.post(path, {"domain": "mail.hijack.test"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not SenderDomain.objects.exists()


def test_each_agencys_clients_get_their_own_agencys_brand(send):
    plan = PlanFactory(white_label=True, client_tenants=True)
    north, south = agency_make("north-agency"), agency_make("south-agency")
    north_client, south_client = client_make(north, "north-client"), client_make(south, "south-client")
    for agency, name in ((north, "North Brand"), (south, "South Brand")):
        brand_make(agency, plan=plan, display_name=name)

    north_mail = send(north_client, email_to=["billing@north-client.test"])
    south_mail = send(south_client, email_to=["billing@south-client.test"])

    assert "North Brand" in everything(north_mail) and "South Brand" not in everything(north_mail)
    assert "South Brand" in everything(south_mail) and "North Brand" not in everything(south_mail)
