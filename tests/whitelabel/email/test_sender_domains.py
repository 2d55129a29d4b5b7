"""Sender domains: set with a fresh DKIM key pair, checked record by record through the real resolver and the
local DNS server (every outcome), and re-checked daily (verified ⇄ failing)."""

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django_tenants.utils import schema_context

from billing.services import tenant_plan_assign
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.factories import PlanFactory
from tests.support.sender_domains import brand_make, records_publish
from whitelabel.brands.exceptions import WhiteLabelNotInPlan
from whitelabel.email.exceptions import SenderDomainInvalid
from whitelabel.email.selectors import sender_records
from whitelabel.email.services import sender_domain_check, sender_domain_set
from whitelabel.email.tasks import sender_domains_recheck_task
from whitelabel.models import SenderDomain

pytestmark = pytest.mark.django_db

Status = SenderDomain.Status
DOMAIN = "mail.northwind.test"


@pytest.fixture
def brand(tenant_alpha):
    return brand_make(tenant_alpha, display_name="Northwind", email_sender_address=f"hello@{DOMAIN}")


@pytest.fixture
def sender(brand):
    return sender_domain_set(brand=brand, domain=DOMAIN, now=NOW)


def check(sender, later=timedelta(0)):
    return sender_domain_check(sender_domain=sender, now=NOW + later)


def test_setting_a_domain_makes_a_2048_bit_dkim_key_pair_whose_public_half_is_the_record(sender):
    private = serialization.load_pem_private_key(sender.dkim_private_key.encode(), password=None)
    public_der = base64.b64decode(sender.dkim_public_key)

    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    assert public_der == private.public_key().public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    assert sender.status == Status.PENDING


def test_the_records_to_create_are_dkim_spf_and_a_strict_dmarc(sender):
    dkim, spf, dmarc = sender_records(sender)

    assert (dkim.name, dkim.value) == (f"{sender.dkim_selector}._domainkey.{DOMAIN}",
                                       f"v=DKIM1; k=rsa; p={sender.dkim_public_key}")
    assert (spf.name, spf.value) == (DOMAIN, "v=spf1 include:_spf.tollgate.example ~all")
    assert (dmarc.name, dmarc.value) == (f"_dmarc.{DOMAIN}", "v=DMARC1; p=quarantine; adkim=s; aspf=s")


def test_setting_the_same_domain_again_keeps_its_key_and_state(dns_zone, sender, brand):
    records_publish(dns_zone, sender)
    check(sender)

    again = sender_domain_set(brand=brand, domain=DOMAIN.upper(), now=NOW)

    assert (again.pk, again.dkim_public_key, again.status) == (sender.pk, sender.dkim_public_key, Status.VERIFIED)


def test_another_domain_gets_a_new_key_and_starts_pending(dns_zone, sender, brand):
    records_publish(dns_zone, sender)
    check(sender)

    other = sender_domain_set(brand=brand, domain="mail.other.test", now=NOW)

    assert other.pk == sender.pk
    assert (other.domain, other.status, other.verified_at) == ("mail.other.test", Status.PENDING, None)
    assert other.dkim_public_key != sender.dkim_public_key and other.dkim_selector != sender.dkim_selector


@pytest.mark.parametrize("domain", ["not a domain", "localhost", "mail.localhost", "acme.domains.localhost",
                                    "*.example.com", "192.0.2.1"])
def test_malformed_or_platform_domains_are_refused(brand, domain, settings):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"

    with pytest.raises(SenderDomainInvalid):
        sender_domain_set(brand=brand, domain=domain, now=NOW)


def test_a_plan_without_white_label_cannot_set_a_sender_domain(brand, tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(white_label=False))

    with pytest.raises(WhiteLabelNotInPlan):
        sender_domain_set(brand=brand, domain=DOMAIN, now=NOW)


def test_all_three_records_right_verify_the_domain(dns_zone, sender):
    records_publish(dns_zone, sender)

    checked = check(sender)

    assert (checked.status, checked.verified_at) == (Status.VERIFIED, NOW)
    assert checked.last_check["result"] == "passed"
    assert [checked.last_check[key]["finding"] for key in ("dkim", "spf", "dmarc")] == ["ok", "ok", "ok"]


def test_p_reject_is_accepted_as_well(dns_zone, sender):
    records_publish(dns_zone, sender, dmarc=["v=DMARC1; p=reject; aspf=s; adkim=s; rua=mailto:d@northwind.test"])

    assert check(sender).status == Status.VERIFIED


def test_an_existing_spf_record_with_the_include_added_is_accepted(dns_zone, sender):
    records_publish(dns_zone, sender, spf=["v=spf1 include:_spf.google.com include:_spf.tollgate.example -all"])

    assert check(sender).status == Status.VERIFIED


def a_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(("key", "records", "finding"), [
    ("dkim", [], "dkim_missing"),
    ("dkim", ["v=DKIM1; k=rsa; p=" + "A" * 40], "dkim_wrong_key"),
    ("spf", [], "spf_missing"),
    ("spf", ["v=spf1 include:_spf.google.com ~all"], "spf_include_missing"),
    ("spf", ["v=spf1 include:_spf.tollgate.example ~all", "v=spf1 mx ~all"], "spf_multiple"),
    ("dmarc", [], "dmarc_missing"),
    ("dmarc", ["v=DMARC1; p=none; adkim=s; aspf=s"], "dmarc_policy_weak"),
    ("dmarc", ["v=DMARC1; p=quarantine"], "dmarc_alignment_relaxed"),
    ("dmarc", ["v=DMARC1; p=reject; adkim=r; aspf=s"], "dmarc_alignment_relaxed"),
    ("dmarc", ["v=DMARC1; p=reject; adkim=s; aspf=r"], "dmarc_alignment_relaxed"),
])
def test_each_wrong_record_leaves_the_domain_pending_and_says_why(dns_zone, sender, key, records, finding):
    records_publish(dns_zone, sender, **{key: records})

    checked = check(sender)

    assert checked.status == Status.PENDING
    assert checked.last_check["result"] == "failed"
    assert checked.last_check[key]["finding"] == finding and checked.last_check[key]["ok"] is False
    assert checked.last_check[key]["message"]


def test_a_dkim_record_with_another_real_key_is_the_wrong_key(dns_zone, sender):
    records_publish(dns_zone, sender, dkim=[f"v=DKIM1; k=rsa; p={a_key()}"])

    assert check(sender).last_check["dkim"]["finding"] == "dkim_wrong_key"


def test_a_dkim_key_split_into_255_byte_strings_is_read_whole(dns_zone, sender):
    records_publish(dns_zone, sender)  # the local server splits the ~410-byte record into two strings

    assert check(sender).last_check["dkim"]["values"] == [sender_records(sender)[0].value]


def test_nothing_published_at_all_is_nxdomain_for_each_record(dns_zone, sender):
    checked = check(sender)

    assert {checked.last_check[key]["outcome"] for key in ("dkim", "spf", "dmarc")} == {"nxdomain"}
    assert checked.status == Status.PENDING


def test_a_timeout_is_inconclusive_and_moves_nothing(dns_zone, sender):
    records_publish(dns_zone, sender)
    check(sender)
    dns_zone.slow_add(f"_dmarc.{DOMAIN}")

    checked = check(sender, later=timedelta(days=1))

    assert checked.status == Status.VERIFIED
    assert checked.last_check["result"] == "inconclusive"
    assert checked.last_check["dmarc"]["finding"] == "dmarc_timeout"


def test_the_daily_recheck_turns_a_verified_domain_failing_when_a_record_goes_and_back_when_it_returns(
        dns_zone, sender):
    records_publish(dns_zone, sender)
    check(sender)

    dns_zone.name_forget(f"_dmarc.{DOMAIN}")
    first = sender_domains_recheck_task.delay().get()
    failing = SenderDomain.objects.get(pk=sender.pk)
    records_publish(dns_zone, sender)
    second = sender_domains_recheck_task.delay().get()
    restored = SenderDomain.objects.get(pk=sender.pk)

    assert first == {"checked": 1, "verified": 0, "failing": 1}
    assert (failing.status, failing.last_check["dmarc"]["finding"]) == (Status.FAILING, "dmarc_missing")
    assert second == {"checked": 1, "verified": 1, "failing": 0}
    assert restored.status == Status.VERIFIED


def test_the_daily_recheck_verifies_a_pending_domain_whose_records_appeared(dns_zone, sender):
    records_publish(dns_zone, sender)

    sender_domains_recheck_task.delay().get()

    assert SenderDomain.objects.get(pk=sender.pk).status == Status.VERIFIED


def test_owners_are_told_once_when_a_verified_domain_fails_and_when_it_recovers(dns_zone, sender, tenant_alpha,
                                                                                 django_capture_on_commit_callbacks):
    records_publish(dns_zone, sender)
    check(sender)
    dns_zone.name_forget(f"_dmarc.{DOMAIN}")
    with django_capture_on_commit_callbacks(execute=True):
        check(sender, later=timedelta(days=1))
        check(sender, later=timedelta(days=2))  # still failing: nobody told again
    records_publish(dns_zone, sender)
    with django_capture_on_commit_callbacks(execute=True):
        check(sender, later=timedelta(days=3))

    with schema_context(tenant_alpha.schema_name):
        titles = list(Notification.objects.filter(category=Category.DOMAIN_ALERT).order_by("pk")
                      .values_list("title", flat=True))
    assert titles == [f"{DOMAIN} stopped checking out: emails come from the platform's address",
                      f"{DOMAIN} checks out again"]
    assert "No DMARC record" in mail.outbox[0].body
