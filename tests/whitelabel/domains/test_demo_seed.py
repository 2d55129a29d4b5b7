"""The demo's custom domain: northwind claims portal.northwind.localhost, publishes its records in the file the
demo's DNS server serves (devtools/dns_server.py run as `./dev up` runs it, --watch), is verified through the real
resolver and routes; a second run changes nothing."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import Price
from billing.selectors import entitlements_for
from billing.subscriptions.services import subscription_start
from config.embedded import free_port, port_is_free
from tests.support.agencies import agency_make
from tests.support.tenants import client_for
from whitelabel.domains.demo import DEMO_HOSTNAME, whitelabel_demo_seed
from whitelabel.models import CustomDomain

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def demo_dns(settings, tmp_path):
    """The DNS server as `./dev up` starts it, on a free port, serving a records file in the test's folder."""
    port, records = free_port(), tmp_path / "demo-dns.json"
    server = subprocess.Popen([sys.executable, "-m", "devtools.dns_server", "--port", str(port), "--records",
                               str(records), "--watch"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 15
        while port_is_free(port):
            assert server.poll() is None and time.monotonic() < deadline, "the DNS server did not start"
            time.sleep(0.1)
        settings.BASE_DOMAIN, settings.CUSTOM_DOMAIN_TARGET = "localhost", "domains.localhost"
        settings.DNS_RESOLVER_NAMESERVERS, settings.DNS_RESOLVER_PORT, settings.DNS_TIMEOUT_S = ["127.0.0.1"], port, 1
        settings.DEMO_DNS_RECORDS_FILE, settings.CUSTOM_DOMAIN_DEMO_HOSTNAMES = str(records), [DEMO_HOSTNAME]
        yield records
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def northwind():
    return agency_make("northwind")


def test_the_demo_domain_is_verified_against_the_demo_dns_server_and_routes(demo_dns, northwind):
    lines = whitelabel_demo_seed(now=timezone.now())

    domain = CustomDomain.objects.get(tenant=northwind)
    assert (domain.hostname, domain.status) == (DEMO_HOSTNAME, CustomDomain.Status.ACTIVE)
    assert domain.verification_token in demo_dns.read_text()
    assert lines == ["northwind: on the White-Label plan", f"{DEMO_HOSTNAME}: active for northwind"]
    response = client_for(None).get("/accounts/login/", HTTP_HOST=DEMO_HOSTNAME)
    assert response.status_code == 200 and response.wsgi_request.tenant == northwind


def test_a_second_run_changes_nothing(demo_dns, northwind):
    whitelabel_demo_seed(now=timezone.now())
    first, written = CustomDomain.objects.get(tenant=northwind), demo_dns.stat().st_mtime_ns

    lines = whitelabel_demo_seed(now=timezone.now())

    again = CustomDomain.objects.get(tenant=northwind)
    assert (again.pk, again.verification_token, again.status) == (first.pk, first.verification_token, "active")
    assert demo_dns.stat().st_mtime_ns == written
    assert lines == [f"{DEMO_HOSTNAME}: active for northwind"]


def test_records_the_file_lost_are_published_again(demo_dns, northwind):
    whitelabel_demo_seed(now=timezone.now())
    demo_dns.unlink()

    whitelabel_demo_seed(now=timezone.now())

    assert CustomDomain.objects.get(tenant=northwind).verification_token in demo_dns.read_text()


def test_a_subscribed_northwind_is_upgraded_to_white_label(demo_dns, northwind):
    subscription_start(tenant=northwind, price=Price.objects.get(code="agency-month-usd"), actor="owner",
                       trial=False, now=timezone.now())

    lines = whitelabel_demo_seed(now=timezone.now())

    assert lines[0] == "northwind: upgraded to White-Label (prorated)"
    assert entitlements_for(tenant=northwind).white_label
    assert CustomDomain.objects.get(tenant=northwind).status == CustomDomain.Status.ACTIVE
