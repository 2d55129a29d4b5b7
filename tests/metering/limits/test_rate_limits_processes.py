"""Rate limits hold across several web processes: two gunicorn servers share one Redis counter."""

import http.client
import uuid

import pytest
from django.conf import settings

from billing.models import Plan, TenantPlan
from config.embedded import free_port
from tenants.models import ApiKey, Tenant
from tests.support.api import api_key_for
from tests.support.servers import gunicorn_start, server_stop

pytestmark = [pytest.mark.redis, pytest.mark.worker]


@pytest.fixture
def two_servers(committed_db):
    alpha = Tenant.objects.get(slug="alpha")
    plan = Plan.objects.create(code=f"tight-{uuid.uuid4().hex[:6]}", name="Tight",
                               api_requests_per_minute_per_key=4, api_requests_per_minute_per_tenant=100)
    TenantPlan.objects.create(tenant=alpha, plan=plan)
    env = {"RATE_LIMITS_ENABLED": "true", "TEST_CACHE_KEY_PREFIX": f"procs-{uuid.uuid4().hex}"}
    ports = [free_port(), free_port()]
    servers = [gunicorn_start(port, database=settings.DATABASES["default"]["NAME"], env=env) for port in ports]
    try:
        yield alpha, ports
    finally:
        for server in servers:
            server_stop(server)
        TenantPlan.objects.filter(tenant=alpha).delete()
        plan.delete()
        ApiKey.objects.filter(tenant=alpha).delete()


def calls_alternating(ports: list[int], secret: str, count: int) -> list[tuple[int, int]]:
    answers = []
    for n in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", ports[n % 2], timeout=10)
        connection.request("GET", "/api/v1/tenant",
                           headers={"Host": "alpha.localhost", "Authorization": f"Bearer {secret}"})
        response = connection.getresponse()
        answers.append((response.status, int(response.getheader("X-RateLimit-Reset"))))
    return answers


def test_a_keys_rate_limit_holds_across_two_server_processes(two_servers):
    alpha, ports = two_servers
    answers = calls_alternating(ports, api_key_for(alpha, scopes=["read"]), 8)
    if answers[0][1] < 5:
        # The key's minute was about to roll over mid-test; a new key gets a window of its own.
        answers = calls_alternating(ports, api_key_for(alpha, scopes=["read"], name="second"), 8)

    statuses = [status for status, _ in answers]
    assert statuses.count(200) == 4
    assert statuses.count(429) == 4
