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
beyond them: 0 expected) and clicks_flush_s (how long the flush of the buffered clicks took). Since the rate
depends on whatever else runs on the machine, it also prints what a redirect costs in CPU, which depends much
less on it: click_server_cpu_us (the gunicorn workers' user and system time per redirect, buffer on; Redis's own
time not included) and _unbuffered, and click_client_cpu_us (the load generator's), with
click_redirects_per_s_cpu_bound, the rate those costs allow on the machine's cores when nothing else runs.

The clients are plain sockets (one request per connection, as a new visitor's browser opens one; no keep-alive)
so that the load generator costs as little as it can: about a third of the server's CPU per redirect here.

Run with `./dev bench clicks` (`--requests N`, `--clients C`, `--workers W`).
"""

import argparse
import multiprocessing
import os
import resource
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
            cpu = {"on": [], "off": []}
            client_cpu = []
            for _ in range(ROUNDS):
                for name, port, server in (("off", off_port, servers[1]), ("on", on_port, servers[0])):
                    count = options.requests // ROUNDS
                    server_before, client_before = _cpu_s(server.pid), _children_cpu_s()
                    result = run(port, count, clients=options.clients)
                    cpu[name].append((_cpu_s(server.pid) - server_before) / count * 1e6)
                    client_cpu.append((_children_cpu_s() - client_before) / count * 1e6)
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
    on_cpu, off_cpu, client_us = (statistics.median(values) for values in (cpu["on"], cpu["off"], client_cpu))
    print(f"click_redirects_per_s: {on_rps:.0f} redirects/s")
    print(f"click_redirects_per_s_unbuffered: {off_rps:.0f} redirects/s")
    print(f"click_p50_ms: {on_p50:.2f} ms")
    print(f"click_p50_ms_unbuffered: {off_p50:.2f} ms")
    print(f"click_server_cpu_us: {on_cpu:.0f} us/redirect")
    print(f"click_server_cpu_us_unbuffered: {off_cpu:.0f} us/redirect")
    print(f"click_client_cpu_us: {client_us:.0f} us/redirect")
    print(f"click_redirects_per_s_cpu_bound: {os.cpu_count() * 1e6 / (on_cpu + client_us):.0f} redirects/s "
          f"({os.cpu_count()} cores)")
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


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds of process `pid` and of its children (a gunicorn master and its workers)."""
    pids = [pid] + [int(entry.name) for entry in Path("/proc").iterdir()
                    if entry.name.isdigit() and _stat(int(entry.name))[1:2] == [str(pid)]]
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in map(_stat, pids) if len(fields) > 12)
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat from the state on (state, ppid, ...; utime and stime at 11 and 12), [] once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children: the client processes of the rounds run so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
