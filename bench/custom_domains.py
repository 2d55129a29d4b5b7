"""Routing by a custom domain against routing by a subdomain, with 10,000 active custom domains, and the TLS
"ask" endpoint Caddy calls before issuing a certificate.

Setup (not timed): a copy of the test template (tenants alpha and beta), alpha on Enterprise with an API key, 999
more tenant rows (no schemas: routing never enters theirs) and 10,000 active custom domains spread over alpha
(10 of them) and those rows, written in bulk as the services leave them: a CustomDomain row (status active, its
last check passed) and the tenants.Domain row that routes it.

Routing: `GET /api/v1/tenant` with alpha's key (the lightest authenticated request, as in api_overhead), on
`alpha.localhost` and on one of alpha's custom domains (each in turn) alternately, request by request,
with rate limits, quota and call tracking on. The requests go through Django's test Client, that is the WSGI
handler with the full middleware stack against the real PostgreSQL and Redis, in this process. Not through
gunicorn on purpose: the two requests differ only in the host name routing looks up, which costs microseconds,
while a socket round trip with the load generator on the same 2 shared cores moves by milliseconds from run to
run (api_overhead sees ±7 % between runs of the same server); in process, the difference left is routing's
(TenantRoutingMiddleware's cached lookup, and whatever later middleware does differently on a custom domain).
`custom_domain_routing_overhead_pct` = how much longer the median request takes on the custom domain (goal ≤ 5 %).

TLS ask: `GET /internal/tls/ask?domain=<host>` (answered before routing) for every one of the 10,000 custom
domains once, in random order: each is a host this process has not looked up yet, as when Caddy asks on a
name's first handshake (it keeps the certificate afterwards), so each costs one indexed query; then the same
names again (cached: the lookup generation's one Redis read), and names nobody claimed (404). Prints
`tls_ask_p50_ms` (first asks; goal ≤ 2 ms) and p95, `tls_ask_cached_p50_ms` and `tls_ask_unknown_p50_ms`. The
HTTP hop from Caddy adds what any request pays on top (a connection on the internal address).

Run with `./dev bench custom_domains` (`--requests N` per host kind, default 10,000).
"""

import argparse
import logging
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing.models import Plan  # noqa: E402
from billing.services import tenant_plan_assign  # noqa: E402
from tenants.models import Domain, Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from whitelabel.models import CustomDomain  # noqa: E402

BENCH_DB = "tollgate_bench_custom_domains"
DOMAINS = 10_000
OTHER_TENANTS = 999
ALPHA_DOMAINS = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000, help="per host kind")
    options = parser.parse_args()
    # The unknown names' 404s would each log a warning line; the figures are the point here.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    with bench_database(BENCH_DB), override_settings(RATE_LIMITS_ENABLED=True, API_CALL_TRACKING_ENABLED=True):
        alpha = Tenant.objects.get(slug="alpha")
        tenant_plan_assign(tenant=alpha, plan=Plan.objects.get(code="enterprise"))
        secret = api_key_create(tenant=alpha, name="bench", scopes=["read"], created_by="bench").secret
        hosts = domains_create(alpha)
        alpha_hosts = [host for host, tenant in hosts if tenant == alpha.pk]
        routing = routing_compare(secret, alpha_hosts, options.requests)
        asks = tls_asks([host for host, _ in hosts])
    sub_ms, custom_ms = routing["subdomain"], routing["custom"]
    print(f"load_average_1min: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)")
    print(f"custom_domains_active: {len(hosts)} domains")
    print(f"subdomain_request_p50_ms: {statistics.median(sub_ms):.3f} ms")
    print(f"custom_domain_request_p50_ms: {statistics.median(custom_ms):.3f} ms")
    print(f"custom_domain_request_p95_ms: {percentile(custom_ms, 95):.3f} ms")
    print(f"custom_domain_routing_overhead_pct: {routing['overhead_pct']:.1f} %")
    print(f"tls_ask_p50_ms: {statistics.median(asks['first']):.3f} ms")
    print(f"tls_ask_p95_ms: {percentile(asks['first'], 95):.3f} ms")
    print(f"tls_ask_cached_p50_ms: {statistics.median(asks['cached']):.3f} ms")
    print(f"tls_ask_unknown_p50_ms: {statistics.median(asks['unknown']):.3f} ms")


def domains_create(alpha: Tenant) -> list[tuple[str, int]]:
    """(hostname, tenant id) of DOMAINS active custom domains, routed, as the services leave them."""
    others = Tenant.objects.bulk_create(
        Tenant(schema_name=f"bench_cd_{n}", name=f"Bench {n}", slug=f"bench-cd-{n}", billing_email=f"b{n}@example.com")
        for n in range(OTHER_TENANTS))
    owners = [alpha.pk] * ALPHA_DOMAINS + [others[n % len(others)].pk for n in range(DOMAINS - ALPHA_DOMAINS)]
    now = timezone.now()
    hosts = [(f"portal-{n:05d}.customer{n % 997}.example", owner) for n, owner in enumerate(owners)]
    CustomDomain.objects.bulk_create(
        (CustomDomain(tenant_id=owner, hostname=host, status=CustomDomain.Status.ACTIVE,
                      verification_token=secrets.token_hex(20), last_check={"result": "passed"},
                      last_checked_at=now, claimed_at=now, verified_at=now, activated_at=now)
         for host, owner in hosts), batch_size=2_000)
    Domain.objects.bulk_create((Domain(tenant_id=owner, domain=host, is_primary=False) for host, owner in hosts),
                               batch_size=2_000)
    return hosts


def routing_compare(secret: str, custom_hosts: list[str], requests: int) -> dict:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def timed(host: str) -> float:
        started = time.perf_counter()
        response = client.get("/api/v1/tenant", HTTP_HOST=host)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{host}: {response.status_code} {response.content[:200]!r}")
        return elapsed

    for host in ["alpha.localhost", *custom_hosts] * 20:  # warm-up: connections, caches, first lookups
        timed(host)
    latencies = {"subdomain": [], "custom": []}
    for n in range(requests):
        # One of each in turn, the order flipped each time: whatever else the machine does at that moment weighs
        # on both alike (blocks of requests drifted by ±20 % apart at a load average of 7).
        pair = [("subdomain", "alpha.localhost"), ("custom", custom_hosts[n % len(custom_hosts)])]
        for kind, host in pair if n % 2 == 0 else reversed(pair):
            latencies[kind].append(timed(host))
    sub, custom = statistics.median(latencies["subdomain"]), statistics.median(latencies["custom"])
    latencies["overhead_pct"] = (custom - sub) / sub * 100
    return latencies


def tls_asks(hosts: list[str]) -> dict[str, list[float]]:
    client = Client()
    order = random.Random(7).sample(hosts, len(hosts))

    def timed(host: str, expected: int) -> float:
        started = time.perf_counter()
        response = client.get("/internal/tls/ask", {"domain": host}, HTTP_HOST="127.0.0.1")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expected:
            raise RuntimeError(f"ask {host}: {response.status_code}, expected {expected}")
        return elapsed

    timed("nobody-warm-up.example", 404)
    first = [timed(host, 200) for host in order]
    cached = [timed(host, 200) for host in order[:2_000]]
    unknown = [timed(f"unclaimed-{n}.example", 404) for n in range(2_000)]
    return {"first": first, "cached": cached, "unknown": unknown}


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1]


if __name__ == "__main__":
    main()
