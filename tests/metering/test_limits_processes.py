"""Rate limits hold across several web processes: two gunicorn servers share one Redis counter."""

import http.client
import os
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from billing.models import Plan, TenantPlan
from config.embedded import free_port
from tenants.models import ApiKey, Tenant
from tests.support.api import api_key_for

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def server_start(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "1", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"], cwd=settings.BASE_DIR, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz", headers={"Host": "localhost"})
            probe.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


@pytest.fixture
def two_servers(committed_db):
    alpha = Tenant.objects.get(slug="alpha")
    plan = Plan.objects.create(code=f"tight-{uuid.uuid4().hex[:6]}", name="Tight",
                               api_requests_per_minute_per_key=4, api_requests_per_minute_per_tenant=100)
    TenantPlan.objects.create(tenant=alpha, plan=plan)
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{settings.DATABASES['default']['NAME']}")
    env = {**os.environ, "DATABASE_URL": database_url.geturl(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "RATE_LIMITS_ENABLED": "true", "TEST_CACHE_KEY_PREFIX": f"procs-{uuid.uuid4().hex}"}
    ports = [free_port(), free_port()]
    servers = [server_start(port, env) for port in ports]
    try:
        yield alpha, ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
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
