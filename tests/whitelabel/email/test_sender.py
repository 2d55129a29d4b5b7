"""Who a workspace's emails are from: the platform's address under the brand's name (replies to the brand) until
the brand's sender domain is verified, then the brand's own address; never a domain that has not proven it."""

import pytest
from django.core import mail

from notifications.categories import Category
from notifications.services import notify
from tests.support.clock import NOW
from tests.support.sender_domains import brand_make, records_publish
from whitelabel.brands.services import brand_save
from whitelabel.email.services import sender_domain_check, sender_domain_set
from whitelabel.models import SenderDomain

pytestmark = pytest.mark.django_db

DOMAIN = "mail.northwind.test"


@pytest.fixture
def brand(tenant_alpha):
    return brand_make(tenant_alpha, display_name="Northwind", email_sender_name="Northwind team",
                      email_sender_address=f"hello@{DOMAIN}", support_email="help@northwind.test")


@pytest.fixture
def verified(dns_zone, brand):
    sender = sender_domain_set(brand=brand, domain=DOMAIN, now=NOW)
    records_publish(dns_zone, sender)
    return sender_domain_check(sender_domain=sender, now=NOW)


@pytest.fixture
def sent(tenant_alpha, django_capture_on_commit_callbacks):
    """Announce something to alpha's owner and return the email that went out."""
    def send(cause: str = "payment:1"):
        with django_capture_on_commit_callbacks(execute=True):
            notify(tenant=tenant_alpha, category=Category.PAYMENT_FAILED, cause=cause, title="Payment failed",
                   body="The payment failed.", link="/billing/")
        return mail.outbox[-1]
    return send


def test_without_a_sender_domain_the_platform_sends_under_the_brands_name_replying_to_its_support(brand, sent):
    message = sent()

    assert message.from_email == "Northwind team <no-reply@localhost>"
    assert message.reply_to == ["help@northwind.test"]


def test_without_a_support_address_replies_go_to_the_brands_sender_address(tenant_alpha, sent):
    brand_make(tenant_alpha, display_name="Northwind", email_sender_address=f"hello@{DOMAIN}")

    message = sent()

    assert message.from_email == "Northwind <no-reply@localhost>"
    assert message.reply_to == [f"hello@{DOMAIN}"]


def test_a_pending_sender_domain_still_sends_from_the_platform(brand, sent):
    sender_domain_set(brand=brand, domain=DOMAIN, now=NOW)

    assert sent().from_email == "Northwind team <no-reply@localhost>"


def test_a_verified_sender_domain_sends_from_the_brands_own_address(verified, sent):
    message = sent()

    assert verified.status == SenderDomain.Status.VERIFIED
    assert message.from_email == f"Northwind team <hello@{DOMAIN}>"
    assert message.reply_to == ["help@northwind.test"]
    assert message.message()["From"] == f"Northwind team <hello@{DOMAIN}>"


def test_an_address_off_the_verified_domain_is_never_used(verified, brand, sent):
    # DMARC's strict alignment: the parent domain is another domain.
    brand_save(tenant=brand.tenant, data={"email_sender_address": "hello@northwind.test"}, now=NOW)

    assert sent().from_email == "Northwind team <no-reply@localhost>"


def test_a_failing_sender_domain_falls_back_to_the_platform(dns_zone, verified, sent):
    dns_zone.name_forget(f"_dmarc.{DOMAIN}")
    failing = sender_domain_check(sender_domain=verified, now=NOW)

    assert failing.status == SenderDomain.Status.FAILING
    assert sent().from_email == "Northwind team <no-reply@localhost>"


def test_the_sender_is_decided_when_the_email_leaves_not_when_it_was_written(
        dns_zone, brand, tenant_alpha, django_capture_on_commit_callbacks):
    sender = sender_domain_set(brand=brand, domain=DOMAIN, now=NOW)
    with django_capture_on_commit_callbacks() as queued:
        notify(tenant=tenant_alpha, category=Category.PAYMENT_FAILED, cause="c", title="Payment failed",
               body="The payment failed.", link="/billing/")
    records_publish(dns_zone, sender)
    sender_domain_check(sender_domain=sender, now=NOW)

    for callback in queued:
        callback()

    assert mail.outbox[-1].from_email == f"Northwind team <hello@{DOMAIN}>"


def test_a_sender_name_with_line_breaks_cannot_add_headers(tenant_alpha, sent):
    brand_make(tenant_alpha, display_name="Northwind", email_sender_name="Evil\r\nBcc: victim@example.com")

    message = sent()
    headers = message.message()

    assert message.from_email == '"Evil Bcc: victim@example.com" <no-reply@localhost>'
    assert headers["Bcc"] is None


def test_an_anymail_backend_sends_the_brands_message_as_built(verified, sent, settings):
    # What production does with an ESP (django-anymail), through anymail's own test backend.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"

    message = sent()

    params = message.anymail_test_params
    assert (params["from"].display_name, params["from"].addr_spec) == ("Northwind team", f"hello@{DOMAIN}")
    assert [address.addr_spec for address in params["reply_to"]] == ["help@northwind.test"]
    assert 'data-email-layout="brand"' in params["html_body"]


def test_a_sender_name_outside_ascii_is_encoded_for_smtp_and_kept_as_text_for_an_esp(tenant_alpha, sent):
    brand_make(tenant_alpha, display_name="Café Ünïcode")

    message = sent()

    assert message.from_email == "Café Ünïcode <no-reply@localhost>"
    assert message.message()["From"] == "=?utf-8?b?Q2Fmw6kgw5xuw69jb2Rl?= <no-reply@localhost>"
