"""The demo's reseller portal seed: northwind's wildcard checked through the resolver gives its clients their hosts
and its brand a landing text; a second run changes nothing; the records file keeps the other names."""

import json

import pytest

from tenants.selectors import tenant_for_hostname
from tests.support.clock import NOW
from tests.support.portals import brand_make, client_make, portal_domain_make, reseller_make, wildcard_publish
from whitelabel.models import Brand
from whitelabel.portals import demo
from whitelabel.portals.selectors import wildcard_record

HOST = "portal.northwind.example"


@pytest.fixture
def northwind(db, dns_zone, settings, django_capture_on_commit_callbacks):
    settings.DEMO_DNS_RECORDS_FILE = ""
    agency = reseller_make("northwind")
    brand_make(agency)
    domain = portal_domain_make(dns_zone, agency, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)
    wildcard_publish(dns_zone, domain)
    return agency


def test_the_seed_checks_the_wildcard_and_northwinds_clients_get_their_hosts(northwind):
    bloom = client_make(northwind, "bloom")

    lines = demo.portal_demo_seed(now=NOW)

    assert tenant_for_hostname(f"bloom.{HOST}") == bloom
    assert f"*.{HOST} CNAME northwind.domains.localhost: verified" in lines
    assert Brand.objects.get(tenant=northwind).landing_title == demo.LANDING_TITLE


def test_a_second_run_changes_nothing(northwind):
    demo.portal_demo_seed(now=NOW)
    version = Brand.objects.get(tenant=northwind).version

    lines = demo.portal_demo_seed(now=NOW)

    assert Brand.objects.get(tenant=northwind).version == version
    assert not any("landing text" in line for line in lines)


def test_the_wildcard_is_added_to_the_records_file_beside_the_other_names(northwind, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "DNS_PUBLISH_WAIT_S", 0)
    records = tmp_path / "demo-dns.json"
    records.write_text(json.dumps({HOST: {"CNAME": ["northwind.domains.localhost"]}}))
    record = wildcard_record(northwind.custom_domains.get(hostname=HOST))

    demo._wildcard_publish(records, record)

    assert json.loads(records.read_text()) == {HOST: {"CNAME": ["northwind.domains.localhost"]},
                                               f"*.{HOST}": {"CNAME": ["northwind.domains.localhost"]}}
