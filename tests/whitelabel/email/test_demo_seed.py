"""The demo's sending domain: with northwind's brand saved, its DKIM, SPF and DMARC records are published in the
file the demo's DNS server serves (devtools/dns_server.py run as `./dev up` runs it, --watch), verified through the
real resolver, and one email shows the brand's layout from its own address; a second run changes nothing."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from config.embedded import free_port, port_is_free
from tests.support.agencies import agency_make
from tests.support.sender_domains import brand_make
from whitelabel.email.demo import sender_domain_demo_seed
from whitelabel.models import SenderDomain

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
        settings.DNS_RESOLVER_NAMESERVERS, settings.DNS_RESOLVER_PORT, settings.DNS_TIMEOUT_S = ["127.0.0.1"], port, 1
        settings.DEMO_DNS_RECORDS_FILE = str(records)
        yield records
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_northwinds_sending_domain_is_verified_and_one_branded_email_shows_it(demo_dns):
    northwind = agency_make("northwind")
    brand_make(northwind, display_name="Northwind Digital")

    lines = sender_domain_demo_seed(now=timezone.now())

    sender = SenderDomain.objects.get(brand__tenant=northwind)
    assert (sender.domain, sender.status) == ("northwind.test", SenderDomain.Status.VERIFIED)
    assert sender.dkim_public_key in demo_dns.read_text()
    assert lines and lines[0].startswith("northwind.test: verified")
    [message] = mail.outbox
    assert message.from_email == "Northwind Digital <hello@northwind.test>"
    assert 'data-email-layout="brand"' in message.alternatives[0][0]


def test_a_second_run_changes_nothing_and_sends_nothing(demo_dns):
    northwind = agency_make("northwind")
    brand_make(northwind, display_name="Northwind Digital")
    sender_domain_demo_seed(now=timezone.now())
    before = SenderDomain.objects.get(brand__tenant=northwind)

    assert sender_domain_demo_seed(now=timezone.now()) == []

    after = SenderDomain.objects.get(brand__tenant=northwind)
    assert (after.dkim_public_key, after.last_checked_at) == (before.dkim_public_key, before.last_checked_at)
    assert len(mail.outbox) == 1


def test_without_northwinds_brand_it_does_nothing():
    agency_make("northwind")

    assert sender_domain_demo_seed(now=timezone.now()) == []
    assert not SenderDomain.objects.exists()
