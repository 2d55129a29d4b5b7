"""The daily re-check (whitelabel.custom_domains_recheck) through the real resolver and the local DNS server:
held claims are checked, an active domain that fails goes failing and its owners and admins are told once, again
when it recovers, and when it is released after 7 days failing; a second run the same day tells nobody again; one
domain's error does not stop the others; no transaction is open while DNS is asked."""

from datetime import timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import Role
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.dns import dns_zone
from tests.support.staff import staff_user_create
from tests.whitelabel.domains.conftest import alpha_branded, beta_branded, domains_plan
from tests.whitelabel.domains.routing_support import (
    HOST,
    claim_active,
    claim_pending,
    platform_hosts,
    records_publish,
)
from whitelabel import dns
from whitelabel.domains import services
from whitelabel.models import CustomDomain
from whitelabel.tasks import custom_domains_recheck_task

__all__ = ["alpha_branded", "beta_branded", "dns_zone", "domains_plan", "platform_hosts"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform_hosts")]
Status = CustomDomain.Status


@pytest.fixture
def clock(frozen_now):
    return frozen_now


@pytest.fixture
def alpha_staff(alpha_branded):
    staff_user_create(alpha_branded, Role.ADMIN)
    staff_user_create(alpha_branded, Role.MEMBER)
    return alpha_branded


def alerts(tenant) -> list[tuple[str, str, str]]:
    """(recipient's role, what, title) of the tenant's domain notifications."""
    with schema_context(tenant.schema_name):
        return sorted((n.recipient.role, n.cause.split(":")[2], n.title)
                      for n in Notification.objects.filter(category=Category.DOMAIN_ALERT).select_related("recipient"))


def run(clock, when):
    clock.move_to(when)
    return custom_domains_recheck_task.delay().get()


def test_an_active_domain_that_fails_goes_failing_and_owners_and_admins_are_told_once(
        clock, dns_zone, alpha_staff):
    domain = claim_active(dns_zone, alpha_staff)
    dns_zone.name_forget(HOST)

    first = run(clock, NOW + timedelta(days=1))
    second = run(clock, NOW + timedelta(days=1, hours=3))

    domain.refresh_from_db()
    assert (domain.status, domain.failing_since) == (Status.FAILING, NOW + timedelta(days=1))
    assert domain.last_checked_at == NOW + timedelta(days=1, hours=3)  # the second run checked again
    assert first == second == {"checked": 1, "skipped": 0, "errors": 0}
    title = f"{HOST} is failing its DNS check"
    assert alerts(alpha_staff) == [(Role.ADMIN, "failing", title), (Role.OWNER, "failing", title)]
    assert alpha_staff.domains.filter(domain=HOST).exists()  # still served while failing


def test_a_failing_domain_that_checks_out_again_is_active_and_staff_are_told(clock, dns_zone, alpha_staff):
    domain = claim_active(dns_zone, alpha_staff)
    dns_zone.name_forget(HOST)
    run(clock, NOW + timedelta(days=1))
    records_publish(dns_zone, domain)

    run(clock, NOW + timedelta(days=2))
    run(clock, NOW + timedelta(days=2, hours=1))

    domain.refresh_from_db()
    assert (domain.status, domain.failing_since) == (Status.ACTIVE, None)
    assert [what for role, what, _ in alerts(alpha_staff) if role == Role.OWNER] == ["failing", "recovered"]


def test_a_domain_failing_for_7_days_is_released_and_stops_routing(clock, dns_zone, alpha_staff):
    domain = claim_active(dns_zone, alpha_staff)
    dns_zone.name_forget(HOST)
    run(clock, NOW + timedelta(days=1))

    run(clock, NOW + timedelta(days=7, hours=23))
    still = CustomDomain.objects.get(pk=domain.pk).status
    run(clock, NOW + timedelta(days=8))

    domain.refresh_from_db()
    assert (still, domain.status, domain.ended_at) == (Status.FAILING, Status.RELEASED, NOW + timedelta(days=8))
    assert not alpha_staff.domains.filter(domain=HOST).exists()
    assert [what for role, what, _ in alerts(alpha_staff) if role == Role.OWNER] == ["failing", "released"]


def test_a_domain_that_fails_again_later_is_announced_again(clock, dns_zone, alpha_staff):
    domain = claim_active(dns_zone, alpha_staff)
    for day in (1, 3):
        dns_zone.name_forget(HOST)
        run(clock, NOW + timedelta(days=day))
        records_publish(dns_zone, domain)
        run(clock, NOW + timedelta(days=day + 1))

    assert [what for role, what, _ in alerts(alpha_staff) if role == Role.OWNER] == [
        "failing", "failing", "recovered", "recovered"]


def test_a_pending_claim_whose_records_appear_is_verified_by_the_job(clock, dns_zone, alpha_branded):
    domain = claim_pending(alpha_branded)
    run(clock, NOW + timedelta(days=1))
    records_publish(dns_zone, domain)

    run(clock, NOW + timedelta(days=2))

    domain.refresh_from_db()
    assert (domain.status, domain.verified_at) == (Status.ACTIVE, NOW + timedelta(days=2))
    assert alerts(alpha_branded) == []


def test_a_claim_pending_for_over_7_days_is_still_held_and_checked(clock, dns_zone, alpha_branded):
    domain = claim_pending(alpha_branded)

    run(clock, NOW + timedelta(days=30))

    domain.refresh_from_db()
    assert (domain.status, domain.last_checked_at) == (Status.PENDING, NOW + timedelta(days=30))


def test_one_domains_error_does_not_stop_the_others(clock, dns_zone, alpha_branded, beta_branded, monkeypatch):
    broken = claim_pending(alpha_branded, "broken.example.com")
    fine = claim_pending(beta_branded, "fine.example.com")
    records_publish(dns_zone, fine)
    real_check = services.domain_check

    def check(*, domain, now):
        if domain.pk == broken.pk:
            raise RuntimeError("a bug in one domain's check")
        return real_check(domain=domain, now=now)

    monkeypatch.setattr(services, "domain_check", check)

    result = run(clock, NOW + timedelta(days=1))

    assert result == {"checked": 1, "skipped": 0, "errors": 1}
    assert CustomDomain.objects.get(pk=fine.pk).status == Status.ACTIVE


def test_ended_claims_are_not_checked(clock, dns_zone, alpha_branded):
    domain = claim_pending(alpha_branded)
    services.domain_remove(domain=domain, now=NOW)

    result = run(clock, NOW + timedelta(days=1))

    assert result == {"checked": 0, "skipped": 0, "errors": 0}


def test_no_transaction_is_open_while_dns_is_asked(dns_zone, alpha_branded, monkeypatch):
    # The test runs inside its own transaction; any atomic block our code opens around DNS is a savepoint more.
    domain = claim_pending(alpha_branded)
    records_publish(dns_zone, domain)
    outer = len(connection.savepoint_ids)
    depths = []
    real_txt = dns.txt_records

    def txt_records(name):
        depths.append(len(connection.savepoint_ids))
        return real_txt(name)

    monkeypatch.setattr(dns, "txt_records", txt_records)

    custom_domains_recheck_task.delay().get()

    assert depths == [outer]
    assert CustomDomain.objects.get(pk=domain.pk).status == Status.ACTIVE
