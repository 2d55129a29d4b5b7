"""What the AI gateway adds to the time to the first streamed byte.

Run with `./dev bench ai_gateway` (add `--requests N`; default 300). A fake Anthropic (a local HTTP server in a
thread) streams tests/fixtures/anthropic/basic_response.sse; the same streamed request is timed straight
against it and through the gateway (POST /api/v1/ai/messages with "stream": true, served as in production by a
gunicorn worker in its own process, with the real SDK pointed at the fake through ANTHROPIC_BASE_URL), so the
difference is the gateway's own work: tenant routing, authentication, rate limits and the API-call quota (the
tenant is put on the Business plan), the concurrency slot, the wallet reservation, the SDK's request.
Prints: direct_ttfb_p50_ms, gateway_ttfb_p50_ms, gateway_ttfb_p99_ms, ai_gateway_added_ttfb_p50_ms
(target <= 5 ms), api_baseline_get_tenant_p50_ms (any authenticated call on the same server, for scale) and
whether every request was settled exactly once.
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402

from billing.models import Plan  # noqa: E402
from billing.services import tenant_plan_assign  # noqa: E402
from config.embedded import free_port  # noqa: E402
from metering.models import WalletEntry  # noqa: E402
from metering.wallets.services import wallet_credit  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402

BENCH_DB = "tollgate_bench_ai_gateway"
SSE = (ROOT / "tests" / "fixtures" / "anthropic" / "basic_response.sse").read_bytes().rstrip(b"\n") + b"\n\n"
BODY = orjson.dumps({"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True,
                     "messages": [{"role": "user", "content": "Say hello."}]})
TOKENS_PER_REQUEST = 17  # basic_response.sse: 11 input + 6 output


class FakeAnthropic(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(SSE)))
        self.end_headers()
        self.wfile.write(SSE)
        self.wfile.flush()

    def log_message(self, *args):
        pass


def thread_serve(server) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def ttfb_ms(port: int, path: str, headers: dict[str, str], method: str = "POST") -> float:
    """Milliseconds from sending the request to reading the first byte of the body (then reads the rest)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    client.connect()
    started = time.perf_counter()
    body = BODY if method == "POST" else None
    client.request(method, path, body=body, headers={"Content-Type": "application/json", **headers})
    response = client.getresponse()
    first = response.read(1)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200 or not first:
        raise RuntimeError(f"{path} answered {response.status}: {first + response.read()!r}")
    response.read()
    client.close()
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    upstream = gateway = None
    with bench_database(BENCH_DB):
        try:
            tenant = Tenant.objects.get(slug="alpha")
            # Business: rate limits, the API-call quota and the concurrency slot are all checked, and high enough
            # that the bench measures the checks, not refusals.
            tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code="business"))
            secret = api_key_create(tenant=tenant, name="bench", scopes=["ai"], created_by="bench").secret
            reader = api_key_create(tenant=tenant, name="bench read", scopes=["read"], created_by="bench").secret
            wallet_credit(tenant=tenant, tokens=10_000_000, kind="purchase", reason="bench", idempotency_key="bench")
            connection.close()

            upstream_port, gateway_port = free_port(), free_port()
            upstream = ThreadingHTTPServer(("127.0.0.1", upstream_port), FakeAnthropic)
            thread_serve(upstream)
            # One sync worker: one request at a time, its database connection kept between requests.
            gateway = gunicorn_start(gateway_port, database=BENCH_DB, env={
                "ANTHROPIC_API_KEY": "sk-ant-bench", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{upstream_port}",
                "RATE_LIMITS_ENABLED": "true"})
            gateway_headers = {"Host": "alpha.localhost", "Authorization": f"Bearer {secret}"}
            for _ in range(20):  # warm both paths: connections, caches, the SDK's pool
                ttfb_ms(upstream_port, "/v1/messages", {})
                ttfb_ms(gateway_port, "/api/v1/ai/messages", gateway_headers)
            direct, through, plain = [], [], []
            read_headers = {**gateway_headers, "Authorization": f"Bearer {reader}"}
            for _ in range(options.requests):
                direct.append(ttfb_ms(upstream_port, "/v1/messages", {}))
                through.append(ttfb_ms(gateway_port, "/api/v1/ai/messages", gateway_headers))
                plain.append(ttfb_ms(gateway_port, "/api/v1/tenant", read_headers, method="GET"))
            requests = options.requests + 20
            settled = WalletEntry.objects.filter(wallet__tenant=tenant, idempotency_key__startswith="ai-settle:").count()
            # From the ledger, not the balance: the plan's allowance is granted too, and usage may draw from it.
            spent = -(WalletEntry.objects.filter(wallet__tenant=tenant, kind__in=["usage_debit", "refund"])
                      .aggregate(total=Sum("tokens"))["total"] or 0)
            direct_p50, through_p50 = statistics.median(direct), statistics.median(through)
            figures = [
                ("direct_ttfb_p50_ms", f"{direct_p50:.2f} ms"),
                ("gateway_ttfb_p50_ms", f"{through_p50:.2f} ms"),
                ("gateway_ttfb_p99_ms", f"{percentile(through, 0.99):.2f} ms"),
                ("ai_gateway_added_ttfb_p50_ms", f"{through_p50 - direct_p50:.2f} ms"),
                # For scale: any authenticated API call on the same server (GET /api/v1/tenant), whole answer.
                ("api_baseline_get_tenant_p50_ms", f"{statistics.median(plain):.2f} ms"),
                ("settled_exactly_once", "yes" if settled == requests and spent == requests * TOKENS_PER_REQUEST
                 else f"NO ({settled} settlements, {spent} tokens for {requests} requests)"),
            ]
            for name, value in figures:
                print(f"{name}: {value}")
        finally:
            if gateway is not None:
                server_stop(gateway)
            if upstream is not None:
                upstream.shutdown()
                upstream.server_close()


if __name__ == "__main__":
    main()
