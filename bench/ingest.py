"""Usage ingestion through the real HTTP endpoint: a gunicorn server process and concurrent keep-alive clients.

Run with `./dev bench ingest` (add `--events N` to change the size of the main run; default 1,000,000).
Prints: ingest_events_per_s at batches of 1,000 and of 100 with p50/p99 batch latency, the same with 10 %
duplicates (and whether the stored count is exact), single_event_p50_ms, and raw_copy_events_per_s (COPY
straight into the same table in the same run).
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.db import connection  # noqa: E402

from config.embedded import free_port  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402

BENCH_DB = "tollgate_bench_ingest"
CLIENTS = 4
WORKERS = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    options = parser.parse_args()
    server = None
    with bench_database(BENCH_DB):
        try:
            tenant = Tenant.objects.get(slug="alpha")
            secret = api_key_create(tenant=tenant, name="bench", scopes=["usage:write"], created_by="bench").secret
            port = free_port()
            server = gunicorn_start(port, database=BENCH_DB, workers=WORKERS)
            headers = {"Host": "alpha.localhost", "Authorization": f"Bearer {secret}",
                       "Content-Type": "application/json"}
            figures = []
            rate, p50, p99 = run(port, headers, batches(options.events, 1000, prefix="a"))
            figures += [("ingest_events_per_s", f"{rate:.0f} events/s"), ("batch_1000_p50_ms", f"{p50:.1f} ms"),
                        ("batch_1000_p99_ms", f"{p99:.1f} ms")]
            rate, p50, p99 = run(port, headers, batches(options.events // 4, 100, prefix="b"))
            figures += [("ingest_events_per_s_batch_100", f"{rate:.0f} events/s"), ("batch_100_p50_ms", f"{p50:.1f} ms"),
                        ("batch_100_p99_ms", f"{p99:.1f} ms")]
            before = stored_count(tenant)
            duplicated = batches(options.events // 4, 1000, prefix="c", duplicate_share=0.1)
            rate, p50, _ = run(port, headers, duplicated)
            unique = len({tid for body in duplicated for tid in body[1]})
            exact = stored_count(tenant) - before == unique
            figures += [("ingest_events_per_s_10pct_duplicates", f"{rate:.0f} events/s"),
                        ("batch_1000_10pct_duplicates_p50_ms", f"{p50:.1f} ms"),
                        ("stored_count_exact_with_duplicates", "yes" if exact else "NO")]
            single = [latency for latency in single_events(port, headers, 2000)]
            figures.append(("single_event_p50_ms", f"{statistics.median(single):.2f} ms"))
            figures.append(("raw_copy_events_per_s", f"{raw_copy(tenant, options.events):.0f} events/s"))
        finally:
            if server is not None:
                server_stop(server)
    for name, value in figures:
        print(f"{name}: {value}")


def batches(total: int, size: int, *, prefix: str, duplicate_share: float = 0.0) -> list[tuple[bytes, list[str]]]:
    """Pre-serialised request bodies (so the client spends its time sending, not building JSON)."""
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    bodies, sent = [], []
    for start in range(0, total, size):
        ids = []
        for n in range(start, min(start + size, total)):
            if duplicate_share and sent and n % int(1 / duplicate_share) == 0:
                ids.append(sent[(n * 7919) % len(sent)])
            else:
                ids.append(f"{prefix}{n}")
        sent.extend(ids)
        events = [{"transaction_id": tid, "meter": "compute_seconds",
                   "timestamp": (now - timedelta(seconds=n % 3600)).isoformat(),
                   "properties": {"seconds": n % 500 + 1, "host": "worker-3"}} for n, tid in enumerate(ids)]
        bodies.append((orjson.dumps({"events": events}), ids))
    return bodies


def run(port: int, headers: dict, bodies: list[tuple[bytes, list[str]]]) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    events_sent = sum(len(ids) for _, ids in bodies)

    def client() -> None:
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            started = time.perf_counter()
            connection_.request("POST", "/api/v1/events", body=bodies[index][0], headers=headers)
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
    elapsed = time.perf_counter() - started
    latencies.sort()
    return events_sent / elapsed, statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def single_events(port: int, headers: dict, count: int) -> list[float]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    now = datetime.now(timezone.utc).isoformat()
    latencies = []
    for n in range(count):
        body = orjson.dumps({"transaction_id": f"s{n}", "meter": "compute_seconds", "timestamp": now,
                             "properties": {"seconds": 1}})
        started = time.perf_counter()
        connection_.request("POST", "/api/v1/events", body=body, headers=headers)
        connection_.getresponse().read()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def stored_count(tenant: Tenant) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metering_usageevent WHERE tenant_id = %s", [tenant.pk])
        return cursor.fetchone()[0]


def raw_copy(tenant: Tenant, total: int) -> float:
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            'COPY metering_usageevent (tenant_id, meter_code, transaction_id, "timestamp", properties, received_at) '
            "FROM STDIN"
        ) as copy:
            for n in range(total):
                copy.write_row((tenant.pk, "compute_seconds", f"raw{n}", now, '{"seconds": 1}', now))
    connection.commit() if not connection.get_autocommit() else None
    return total / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
