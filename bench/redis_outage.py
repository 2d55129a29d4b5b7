"""What a black-holed Redis adds to API requests: the same authenticated calls (GET /api/v1/tenant, GET
/api/v1/usage/summary, POST /api/v1/events) timed one after another on two identical gunicorn servers, one with
Redis up, one whose REDIS_URL points at a black hole (a local listener that accepts connections and never
answers, so every command waits for the socket timeout). Rate limits, the API-call quota and call tracking are
on; the Celery broker stays on the real Redis (it has its own timeouts), so what is measured is the request
path (config/redis_guard.py: no retries, at most one timeout per request, then a per-process circuit).

Run with `./dev bench redis_outage` (`--seconds N` per server, default 30, in alternating rounds of N/5, each
longer than a circuit period). Prints the added latency (black-holed minus Redis up's p50, per kind of request)
at p50 and at worst, and how many requests waited for a timeout at all.
"""

import argparse
import http.client
import os
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.conf import settings  # noqa: E402

from billing.models import Plan  # noqa: E402
from billing.services import tenant_plan_assign  # noqa: E402
from config.embedded import free_port  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402

BENCH_DB = "tollgate_bench_redis_outage"
KINDS = ("GET /api/v1/tenant", "GET /api/v1/usage/summary", "POST /api/v1/events")
# A request slower than Redis-up's worst by this much waited for a Redis timeout (REDIS_SOCKET_TIMEOUT_S 0.5 s).
WAITED_MS = 200.0
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    servers = []
    hole = BlackHole()
    with bench_database(BENCH_DB):
        try:
            tenant = Tenant.objects.get(slug="alpha")
            # Business (rate limits and a soft API-call quota, all checked in Redis), with limits no run reaches.
            Plan.objects.filter(code="business").update(api_requests_per_minute_per_key=1_000_000,
                                                        api_requests_per_minute_per_tenant=1_000_000)
            tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code="business"))
            secret = api_key_create(tenant=tenant, name="bench", scopes=["read", "usage:write"],
                                    created_by="bench").secret
            headers = {"Host": "alpha.localhost", "Authorization": f"Bearer {secret}"}
            up_port, holed_port = free_port(), free_port()
            common = {"RATE_LIMITS_ENABLED": "true", "API_CALL_TRACKING_ENABLED": "true",
                      "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
            servers.append(gunicorn_start(up_port, database=BENCH_DB, env=common))
            servers.append(gunicorn_start(holed_port, database=BENCH_DB,
                                          env={**common, "REDIS_URL": f"redis://127.0.0.1:{hole.port}/0"}))
            run(up_port, headers, seconds=1.0)  # warm both up
            run(holed_port, headers, seconds=1.0)
            # Alternating rounds, so whatever else the machine does weighs on both servers alike.
            up: dict[str, list[float]] = {kind: [] for kind in KINDS}
            holed: dict[str, list[float]] = {kind: [] for kind in KINDS}
            for _ in range(ROUNDS):
                for kind, latencies in run(up_port, headers, seconds=options.seconds / ROUNDS).items():
                    up[kind] += latencies
                for kind, latencies in run(holed_port, headers, seconds=options.seconds / ROUNDS).items():
                    holed[kind] += latencies
        finally:
            for server in servers:
                server_stop(server)
            hole.close()
    added = [latency - statistics.median(up[kind]) for kind in KINDS for latency in holed[kind]]
    slowest_up = max(max(latencies) for latencies in up.values())
    waited = sum(1 for kind in KINDS for latency in holed[kind] if latency > slowest_up + WAITED_MS)
    for kind in KINDS:
        print(f"{kind}: up p50 {statistics.median(up[kind]):.2f} ms, black-holed p50 "
              f"{statistics.median(holed[kind]):.2f} ms, worst {max(holed[kind]):.1f} ms ({len(holed[kind])} requests)")
    print(f"redis_blackholed_connections_accepted: {hole.accepted} connections")
    print(f"redis_blackholed_requests_that_waited: {waited} of {len(added)} requests")
    print(f"redis_blackholed_added_latency_p50_ms: {statistics.median(added):.2f} ms")
    print(f"redis_blackholed_added_latency_worst_ms: {max(added):.1f} ms")


class BlackHole:
    """Accepts TCP connections on a free local port and never answers (nor closes) them."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def accepted(self) -> int:
        return len(self._connections)

    def _accept(self) -> None:
        while True:
            try:
                self._connections.append(self._listener.accept()[0])
            except OSError:  # closed
                return

    def close(self) -> None:
        self._listener.close()
        for connection in self._connections:
            connection.close()


def run(port: int, headers: dict, *, seconds: float) -> dict[str, list[float]]:
    """The three kinds of request in turn, one at a time, for `seconds`; latencies in ms per kind."""
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for kind in KINDS:
            method, path = kind.split(" ")
            body = None
            request_headers = headers
            if method == "POST":
                body = orjson.dumps({"transaction_id": f"bench-{uuid.uuid4().hex}", "meter": "compute_seconds",
                                     "properties": {"seconds": 3}})
                request_headers = {**headers, "Content-Type": "application/json"}
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=request_headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{kind}: status {response.status}")
            latencies[kind].append((time.perf_counter() - started) * 1000)
    return latencies


if __name__ == "__main__":
    main()
