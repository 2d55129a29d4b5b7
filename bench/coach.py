"""What the coach adds to the time to the first streamed byte of an answer, and what its pattern detector costs.

Run with `./dev bench coach` (add `--requests N`; default 200). A fake Anthropic (a local HTTP server in a thread)
streams tests/fixtures/anthropic/tool_use_response.sse. In one run, on one gunicorn worker in its own process (as
in production, the real SDK pointed at the fake through ANTHROPIC_BASE_URL), the same fake upstream is asked through
the AI API (POST /api/v1/ai/messages, "stream": true) and through the coach (POST /api/v1/coach/projects/{id}/
messages), alternately; each is timed from sending the request to the first byte of Anthropic's answer
(`event: message_start`). The difference is the coach's own work before the answer starts: the project lookup,
the daily limit under the user's row lock, storing the user's message, the pattern detector, the prompt (profile,
playbook, progress, decisions, the history, growing as the run goes on) and the tools, the coach message row.
The daily limit is raised for the run (COACH_MESSAGES_PER_DAY), which still counts the day's messages every time.

Prints: gateway_ttfb_p50_ms, coach_ttfb_p50_ms, coach_ttfb_p99_ms, coach_added_ttfb_p50_ms (goal <= 10 ms), and
detector_us_per_message (the pattern detector on 2 KB messages, in this process, median of runs; goal <= 500 us).
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
import timeit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from billing.models import Plan  # noqa: E402
from billing.services import tenant_plan_assign  # noqa: E402
from config.embedded import free_port  # noqa: E402
from creators.chat.detector import ProjectState, actions_detect  # noqa: E402
from creators.playbooks import playbook_get  # noqa: E402
from metering.wallets.services import wallet_credit  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402
from tests.support.clock import NOW  # noqa: E402
from tests.support.creators import project_for  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402
from tests.support.tenants import owner_of  # noqa: E402

BENCH_DB = "tollgate_bench_coach"
SSE = (ROOT / "tests" / "fixtures" / "anthropic" / "tool_use_response.sse").read_bytes().rstrip(b"\n") + b"\n\n"
AI_BODY = orjson.dumps({"model": "claude-sonnet-4-6", "max_tokens": 64, "stream": True,
                        "messages": [{"role": "user", "content": "Should I charge $29 a month?"}]})
FIRST_EVENT = b"event: message_start"
# A 2 KB creator message of the kind the detector reads: prices, platforms, dates, tasks done, and sentences that
# must not trigger (questions, negations, hypotheticals).
SENTENCES = [
    "I'll launch on Discord at $29/month with a premium tier at $79/month.",
    "Should I charge $15 instead?", "I haven't set up Circle and I won't.",
    "I've set up the Discord server and the channels for members.",
    "We decided to launch on March 15 after a two-week waitlist.",
    "Maybe two posts a week and a live session every Sunday.",
    "What if I used Skool for the courses part?",
    "The sales page is live and the onboarding emails are written.",
    "My audience is mostly home bakers who want weekend bake-alongs and feedback on their sourdough.",
]


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


def answer_ttfb_ms(port: int, path: str, body: bytes, headers: dict[str, str]) -> float:
    """Milliseconds from sending the request to the first byte of Anthropic's answer in the body (then reads
    the rest, so the request settles before the next one)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    client.connect()
    started = time.perf_counter()
    client.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = client.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}: {response.read()[:300]!r}")
    received = b""
    while FIRST_EVENT not in received:
        chunk = response.read1(65536)
        if not chunk:
            raise RuntimeError(f"{path} ended before Anthropic's answer: {received[:300]!r}")
        received += chunk
    elapsed = (time.perf_counter() - started) * 1000
    response.read()
    client.close()
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def detector_us_per_message() -> float:
    """The pattern detector on a 2 KB message, in microseconds: the median of 7 runs of 500."""
    text = " ".join(SENTENCES)
    while len(text.encode()) < 2048:
        text += " " + " ".join(SENTENCES)
    text = text.encode()[:2048].decode(errors="ignore")
    playbook, state = playbook_get("premium-community"), ProjectState(today=NOW.date())
    actions_detect(text=text, playbook=playbook, project_state=state)  # compile the playbook's patterns
    runs = timeit.repeat(lambda: actions_detect(text=text, playbook=playbook, project_state=state), number=500,
                         repeat=7)
    return statistics.median(runs) / 500 * 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    upstream = server = None
    with bench_database(BENCH_DB):
        try:
            tenant = Tenant.objects.get(slug="alpha")
            # Business: the AI API's rate limits, quota and concurrency slot are checked (for both paths), high
            # enough that the bench measures the checks, not refusals.
            tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code="business"))
            ai_key = api_key_create(tenant=tenant, name="bench ai", scopes=["ai"], created_by="bench").secret
            coach_key = api_key_create(tenant=tenant, name="bench coach", scopes=["coach"],
                                       created_by=tenant.owner_email).secret
            wallet_credit(tenant=tenant, tokens=100_000_000, kind="purchase", reason="bench", idempotency_key="bench")
            with schema_context(tenant.schema_name):
                project_id = project_for(owner_of(tenant)).pk
            connection.close()

            upstream_port, port = free_port(), free_port()
            upstream = ThreadingHTTPServer(("127.0.0.1", upstream_port), FakeAnthropic)
            threading.Thread(target=upstream.serve_forever, daemon=True).start()
            server = gunicorn_start(port, database=BENCH_DB, env={
                "ANTHROPIC_API_KEY": "sk-ant-bench", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{upstream_port}",
                "RATE_LIMITS_ENABLED": "true", "COACH_MESSAGES_PER_DAY": "1000000"})
            host = {"Host": "alpha.localhost"}
            ai = ("/api/v1/ai/messages", AI_BODY, {**host, "Authorization": f"Bearer {ai_key}"})
            coach_path = f"/api/v1/coach/projects/{project_id}/messages"
            coach_headers = {**host, "Authorization": f"Bearer {coach_key}"}

            def coach(n: int) -> tuple[str, bytes, dict[str, str]]:
                body = orjson.dumps({"content": f"{SENTENCES[n % len(SENTENCES)]} (message {n})"})
                return coach_path, body, coach_headers

            for n in range(20):  # warm both paths: connections, caches, the SDK's pool, the detector's patterns
                answer_ttfb_ms(port, *ai)
                answer_ttfb_ms(port, *coach(n))
            through_gateway, through_coach = [], []
            for n in range(options.requests):
                through_gateway.append(answer_ttfb_ms(port, *ai))
                through_coach.append(answer_ttfb_ms(port, *coach(n)))
            gateway_p50, coach_p50 = statistics.median(through_gateway), statistics.median(through_coach)
            figures = [
                ("gateway_ttfb_p50_ms", f"{gateway_p50:.2f} ms"),
                ("coach_ttfb_p50_ms", f"{coach_p50:.2f} ms"),
                ("coach_ttfb_p99_ms", f"{percentile(through_coach, 0.99):.2f} ms"),
                ("coach_added_ttfb_p50_ms", f"{coach_p50 - gateway_p50:.2f} ms"),
                ("detector_us_per_message", f"{detector_us_per_message():.1f} us"),
            ]
            for name, value in figures:
                print(f"{name}: {value}")
        finally:
            if server is not None:
                server_stop(server)
            if upstream is not None:
                upstream.shutdown()
                upstream.server_close()


if __name__ == "__main__":
    main()
