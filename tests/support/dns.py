"""A real DNS server on 127.0.0.1 for the test, and the resolver (whitelabel/dns.py) pointed at it."""

import pytest
from django.test import override_settings

from devtools.dns_server import LocalDnsServer, RecordTable

# Short, so the timeout tests are quick; the local server answers in well under a millisecond.
TEST_DNS_TIMEOUT_S = 0.5


@pytest.fixture
def dns_zone():
    """The record table the resolver sees for this test: `record_set(name, type, values)`, `name_forget(name)`,
    `slow_add(name)` change it at once."""
    server = LocalDnsServer(RecordTable()).start()
    try:
        with override_settings(DNS_RESOLVER_NAMESERVERS=[server.address], DNS_RESOLVER_PORT=server.port,
                               DNS_TIMEOUT_S=TEST_DNS_TIMEOUT_S):
            yield server.table
    finally:
        server.stop()
