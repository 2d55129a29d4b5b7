"""Tracked referral redirects through the real server: `GET /r/CODE?to=/pricing/` on the public host, answered by
two identical gunicorn servers (W sync workers each, default 2), one with the click buffer on (a Redis RPUSH per
click, flushed in batches: affiliates.clicks), one with it off (an INSERT per click, what also happens while Redis
is unreachable), in alternating rounds against the same database and Redis.

Each request is a new visitor from a browser: a new connection (as a sync worker serves them), no cookies, a
browser's user agent; every answer must be a 302 to /pricing/ that sets the signed referral cookie (a tracked
click). C client processes (default 4) send them as fast as the servers answer, N per server in all (default
20,000). Afterwards the buffer is flushed (affiliates.clicks.clicks_flush, as the beat job does) and the clicks in
the table are counted against the tracked answers of both servers.

Prints `name: value unit`: click_redirects_per_s (buffer on), click_redirects_per_s_unbuffered (buffer off),
click_p50_ms / click_p50_ms_unbuffered, clicks_lost_after_flush (tracked answers without their row, and rows
beyond them: 0 expected) and clicks_flush_s (how long the flush of the buffered clicks took).

Run with `./dev bench clicks` (`--requests N`, `--clients C`, `--workers W`).
"""

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from affiliates.clicks import clicks_flush, clicks_key  # noqa: E402
from affiliates.models import Affiliate, ReferralClick  # noqa: E402
from config.embedded import free_port  # noqa: E402
from config.redis_guard import redis_connection  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402

BENCH_DB = "tollgate_bench_clicks"
CODE = "bench-partner-00001"
ROUNDS = 5
USER_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Safari/605.1.15")
REQUEST = (f"GET /r/{CODE}?to=/pricing/ HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {USER_AGENT}\r\n"
           "Accept: text/html\r\nConnection: close\r\n\r\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000, help="per server")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    servers = []
    with bench_database(BENCH_DB):
        try:
            Affiliate.objects.create(kind=Affiliate.Kind.AFFILIATE, code=CODE, name="Bench partner",
                                     email="bench@partners.test", created_at=timezone.now())
            redis_connection().delete(clicks_key())
            # The servers share this process's Redis namespace, so that its flush takes their buffered clicks.
            shared = {"TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"]}
            on_port, off_port = free_port(), free_port()
            servers = [gunicorn_start(port, database=BENCH_DB, workers=options.workers,
                                      env=shared | {"AFFILIATE_CLICK_BUFFER_ENABLED": flag})
                       for port, flag in [(on_port, "true"), (off_port, "false")]]
            tracked = 0
            for port in (on_port, off_port):  # warm-up, counted like the rest
                tracked += run(port, 200, clients=options.clients)[2]
            rounds = {"on": [], "off": []}
            for _ in range(ROUNDS):
                for name, port in (("off", off_port), ("on", on_port)):
                    result = run(port, options.requests // ROUNDS, clients=options.clients)
                    rounds[name].append(result[:2])
                    tracked += result[2]
            started = time.perf_counter()
            while clicks_flush():
                pass
            flush_s = time.perf_counter() - started
            stored = ReferralClick.objects.count()
        finally:
            for server in servers:
                server_stop(server)
    on_rps, on_p50 = (statistics.median(values) for values in zip(*rounds["on"]))
    off_rps, off_p50 = (statistics.median(values) for values in zip(*rounds["off"]))
    print(f"click_redirects_per_s: {on_rps:.0f} redirects/s")
    print(f"click_redirects_per_s_unbuffered: {off_rps:.0f} redirects/s")
    print(f"click_p50_ms: {on_p50:.2f} ms")
    print(f"click_p50_ms_unbuffered: {off_p50:.2f} ms")
    print(f"clicks_tracked: {tracked} clicks")
    print(f"clicks_lost_after_flush: {abs(tracked - stored)} clicks")
    print(f"clicks_flush_s: {flush_s:.2f} s")


def run(port: int, total: int, *, clients: int) -> tuple[float, float, int]:
    """(redirects per second, p50 ms, tracked answers) for `total` requests from `clients` processes."""
    share = [total // clients + (1 if n < total % clients else 0) for n in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        started = time.perf_counter()
        results = pool.starmap(_client, [(port, count) for count in share])
        elapsed = time.perf_counter() - started
    latencies = [latency for result in results for latency in result[0]]
    return total / elapsed, statistics.median(latencies), sum(result[1] for result in results)


def _client(port: int, count: int) -> tuple[list[float], int]:
    latencies, tracked = [], 0
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(REQUEST)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        latencies.append((time.perf_counter() - started) * 1000)
        head = answer.split(b"\r\n\r\n", 1)[0]
        if not head.startswith(b"HTTP/1.1 302") or b"\r\nLocation: /pricing/" not in head:
            raise RuntimeError(f"unexpected answer: {head[:300]!r}")
        tracked += b"Set-Cookie: tg_ref=" in head
    return latencies, tracked


if __name__ == "__main__":
    main()
