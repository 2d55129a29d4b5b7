"""What tracking and rate limiting cost on the API: a trivial authenticated endpoint (GET /api/v1/tenant) served
by two identical gunicorn servers, one with API-call tracking, quotas and rate limits on, one with them off, in
one run and against the same database and Redis.

Run with `./dev bench api_overhead` (`--requests N` per server, default 20,000). Prints requests/s and p50 for
each, and api_overhead_pct = how many fewer requests per second the server with them on answers.
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()


from billing.models import Plan  # noqa: E402
from billing.services import tenant_plan_assign  # noqa: E402
from config.embedded import free_port  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402

BENCH_DB = "tollgate_bench_overhead"
CLIENTS = 4
WORKERS = 2
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    options = parser.parse_args()
    servers = []
    with bench_database(BENCH_DB):
        try:
            tenant = Tenant.objects.get(slug="alpha")
            # Enterprise: limits high enough that the bench measures the checks, not refusals.
            tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code="enterprise"))
            secret = api_key_create(tenant=tenant, name="bench", scopes=["read"], created_by="bench").secret
            headers = {"Host": "alpha.localhost", "Authorization": f"Bearer {secret}"}
            on_port, off_port = free_port(), free_port()
            servers = [gunicorn_start(port, database=BENCH_DB, workers=WORKERS,
                                      env={"RATE_LIMITS_ENABLED": flag, "API_CALL_TRACKING_ENABLED": flag})
                       for port, flag in [(on_port, "true"), (off_port, "false")]]
            run(off_port, headers, 500)
            run(on_port, headers, 500)
            # Alternating rounds, so whatever else the machine does weighs on both servers alike.
            rounds = {"off": [], "on": []}
            for _ in range(ROUNDS):
                rounds["off"].append(run(off_port, headers, options.requests // ROUNDS))
                rounds["on"].append(run(on_port, headers, options.requests // ROUNDS))
            off_rps, off_p50 = (statistics.median(values) for values in zip(*rounds["off"]))
            on_rps, on_p50 = (statistics.median(values) for values in zip(*rounds["on"]))
        finally:
            for server in servers:
                server_stop(server)
    print(f"api_requests_per_s_limits_off: {off_rps:.0f} requests/s")
    print(f"api_requests_per_s_limits_on: {on_rps:.0f} requests/s")
    print(f"api_p50_ms_limits_off: {off_p50:.2f} ms")
    print(f"api_p50_ms_limits_on: {on_p50:.2f} ms")
    print(f"api_overhead_pct: {(off_rps - on_rps) / off_rps * 100:.1f} %")


def run(port: int, headers: dict, total: int) -> tuple[float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [total]

    def client() -> None:
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            connection_.request("GET", "/api/v1/tenant", headers=headers)
            response = connection_.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started), statistics.median(latencies)


if __name__ == "__main__":
    main()
