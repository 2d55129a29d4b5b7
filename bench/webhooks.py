"""Stripe's webhooks at rate: signed deliveries through dj-stripe's real endpoint, served by gunicorn as in
production, with dj-stripe's re-fetch of each event's object answered by the local fake Stripe
(devtools/stripe_fake.py, a thread of this process), 20 % of the deliveries duplicates and 10 % out of order;
then the final state is checked exactly.

Setup (not timed), on its own copy of the migrated test template database: N invoices (default 2,000) open and
collected by Stripe, each of its own tenant (rows only) whose Stripe customer has a saved card; for each invoice a
PaymentIntent that Stripe charged and we never recorded (the success event reaches us before our own record of
the intent, so every delivery's settlement is the webhook's work: the invoice found by the intent's metadata, the
Payment recorded, the invoice marked paid). The deliveries, about N / 0.7 of them, in a shuffled order:
- one payment_intent.succeeded per invoice (70 %);
- out of order (10 %): a payment_intent.processing event of an earlier state of a succeeded intent, delivered
  after its success (dj-stripe re-fetches the intent, which has succeeded: nothing must move back);
- duplicates (20 %): an event delivered again (the same event id), anywhere after its first delivery, sometimes
  at the same moment on another connection.
Each is signed when it is sent (Stripe-Signature with the endpoint's secret) and POSTed by C client threads
(default 8) to /stripe/webhook/<uuid>/ on the public host of a gunicorn with W sync workers (default 4). A
delivery answered with anything but 200 is delivered again, as Stripe would, up to 5 times (counted as
webhook_redeliveries). Emails and notifications of the paid invoices go to the broker (this run's Redis) as in
production; no worker takes them.

Timed: from the first delivery to the last answer. Prints `name: value unit`: webhook_events_per_s (deliveries,
duplicates included, per second), webhook_p50_ms / webhook_p95_ms, webhook_redeliveries, stripe_refetches_per_delivery,
and the checks: invoices_paid_exactly (every invoice paid, amount paid = amount due), settlements_exact (one
invoice_paid settlement per PaymentIntent, nothing else recorded), payments_exact (one succeeded Payment per
invoice), events_stored_once.

Run with `./dev bench webhooks` (`--invoices N`, `--clients C`, `--workers W`). BENCH_PROFILE=cumulative (or any
pstats sort key) delivers the same payloads one at a time in this process through Django's test client under
cProfile instead, and prints where the time went and the queries per delivery by origin (dj-stripe's or ours);
BENCH_PROFILE_FILE=path keeps the profile. Slower; not a figure to report.
"""

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from celery import current_app  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.urls import reverse  # noqa: E402
from djstripe.models import Event  # noqa: E402

from billing.models import Invoice, Payment, StripeSettlement  # noqa: E402
from billing.payments import stripe_api  # noqa: E402
from billing.payments.webhooks import webhook_endpoint_ensure  # noqa: E402
from config.embedded import free_port  # noqa: E402
from config.money import Money  # noqa: E402
from devtools.stripe_fake import WEBHOOK_SECRET, FakeStripeServer, signature_header  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import gunicorn_start, server_stop  # noqa: E402
from tests.support.stripe_bench import (  # noqa: E402
    stripe_environment,
    stripe_invoices_create,
    stripe_on,
    tenants_with_cards_create,
)

DATABASE = "tollgate_bench_webhooks"
REDELIVERIES = 5
# gunicorn's workers run the test settings, which make Celery eager; in production what a paid invoice sends
# (emails, notifications) is queued, not run inside the webhook's request.
GUNICORN_CONFIG = """
def post_worker_init(worker):
    from config.celery import app
    app.conf.task_always_eager = False
"""


def intents_create(holders, invoices) -> list[str]:
    """For each invoice, a PaymentIntent Stripe charged with the metadata invoice_charge gives it, which we never
    recorded."""
    intents = []
    for holder, invoice in zip(holders, invoices, strict=True):
        intent = stripe_api.payment_intent_charge_off_session(
            customer_id=holder.customer_id, payment_method_id=holder.card_id,
            amount=Money(invoice.amount_due, invoice.currency), description=f"Invoice {invoice.number}",
            metadata={"tenant_id": str(holder.tenant.pk), "tenant_slug": holder.tenant.slug,
                      "invoice_id": str(invoice.pk), "invoice_number": invoice.number, "attempt": "1",
                      "source": Payment.Source.OFF_SESSION},
            idempotency_key=f"bench-invoice-{invoice.pk}")
        assert intent.status == "succeeded", intent
        intents.append(intent.id)
    return intents


def deliveries_plan(fake, intents: list[str], seed: int = 12) -> tuple[list[str], int, int, int]:
    """The payloads in delivery order, and how many are successes, out-of-order events and duplicates."""
    rng = random.Random(seed)
    total = round(len(intents) / 0.7)
    stale_count = round(total * 0.1)
    duplicate_count = total - len(intents) - stale_count
    succeeded_at = {intent_id: rng.random() for intent_id in intents}
    keyed = [(at, json.dumps(fake.event("payment_intent.succeeded", intent_id)))
             for intent_id, at in succeeded_at.items()]
    for intent_id in rng.sample(intents, stale_count):
        at = succeeded_at[intent_id]
        earlier = {**fake.get(intent_id), "status": "processing", "amount_received": 0, "latest_charge": None}
        event = fake.event("payment_intent.processing", data_object=earlier, created=int(time.time()) - 60)
        keyed.append((at + rng.random() * (1 - at), json.dumps(event)))
    for at, payload in rng.sample(keyed, duplicate_count):
        keyed.append((at + rng.random() * (1 - at), payload))
    keyed.sort(key=lambda item: item[0])
    return [payload for _, payload in keyed], len(intents), stale_count, duplicate_count


def deliver_all(port: int, path: str, payloads: list[str], clients: int) -> tuple[list[float], int, list[int]]:
    """POST every payload, signed, from `clients` threads; returns each delivery's latency (ms), the number of
    redeliveries, and the final status of deliveries that never got a 200."""
    latencies: list[float] = []
    failed: list[int] = []
    redeliveries = itertools.count()
    next_index = itertools.count()
    lock = threading.Lock()

    def post(payload: str) -> int:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            client.request("POST", path, body=payload.encode(), headers={
                "Host": "localhost", "Content-Type": "application/json",
                "Stripe-Signature": signature_header(payload, secret=WEBHOOK_SECRET)})
            response = client.getresponse()
            response.read()
            return response.status
        finally:
            client.close()

    def run() -> None:
        while True:
            with lock:
                index = next(next_index)
            if index >= len(payloads):
                return
            started = time.perf_counter()
            status = post(payloads[index])
            latency = (time.perf_counter() - started) * 1000
            for _ in range(REDELIVERIES):
                if status == 200:
                    break
                next(redeliveries)
                time.sleep(0.05)
                status = post(payloads[index])
            with lock:
                latencies.append(latency)
                if status != 200:
                    failed.append(status)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, next(redeliveries), failed


def deliver_in_process(path: str, payloads: list[str]) -> tuple[list[float], int, list[int]]:
    """BENCH_PROFILE: the same deliveries through Django's test client in this process, one at a time, under
    cProfile (sorted by BENCH_PROFILE, e.g. cumulative), to see where a delivery's time goes. Not a figure."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    latencies, failed = [], []
    profiler = cProfile.Profile()
    queries_by_origin: Counter = Counter()

    def origin_of_query(execute, sql, params, many, context):
        frames = [f"{frame.filename.split('site-packages/')[-1]}:{frame.name}" for frame in traceback.extract_stack()
                  if "/django/" not in frame.filename and "psycopg" not in frame.filename]
        ours = [frame for frame in frames if frame.startswith(f"{ROOT}/billing/")]
        djstripe = [frame for frame in frames if frame.startswith("djstripe/")]
        queries_by_origin[(ours or djstripe or frames)[-1].replace(f"{ROOT}/", "")] += 1
        return execute(sql, params, many, context)

    for payload in payloads:
        started = time.perf_counter()
        with connection.execute_wrapper(origin_of_query):
            response = profiler.runcall(client.post, path, payload, content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=signature_header(payload, secret=WEBHOOK_SECRET))
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            failed.append(response.status_code)
    if os.environ.get("BENCH_PROFILE_FILE"):  # for a closer look with pstats or snakeviz
        profiler.dump_stats(os.environ["BENCH_PROFILE_FILE"])
    pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(70)
    print(f"queries per delivery: {sum(queries_by_origin.values()) / len(payloads):.1f}, by origin:", file=sys.stderr)
    for origin, count in queries_by_origin.most_common(40):
        print(f"  {count / len(payloads):6.2f}  {origin}", file=sys.stderr)
    return latencies, 0, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    current_app.conf.task_always_eager = False
    stripe = FakeStripeServer().start()
    server = None
    config = tempfile.NamedTemporaryFile("w", suffix=".py", prefix="gunicorn-webhooks-", delete=False)
    config.write(GUNICORN_CONFIG)
    config.close()
    try:
        setup_started = time.perf_counter()
        with bench_database(DATABASE), stripe_on(stripe):
            print(f"setup: database copied in {time.perf_counter() - setup_started:.0f} s", file=sys.stderr)
            endpoint = webhook_endpoint_ensure(secret=WEBHOOK_SECRET)
            holders = tenants_with_cards_create(stripe, count=args.invoices, prefix="bench_wh")
            invoices = stripe_invoices_create([holder.tenant for holder in holders], count=args.invoices,
                                              series="BW", now=datetime.now(UTC))
            intents = intents_create(holders, invoices)
            print(f"setup: {time.perf_counter() - setup_started:.0f} s", file=sys.stderr)
            payloads, successes, stale, duplicates = deliveries_plan(stripe.fake, intents)
            unique_events = {json.loads(payload)["id"] for payload in payloads}
            path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid},
                           urlconf="config.urls_public")
            connection.close()

            if not os.environ.get("BENCH_PROFILE"):
                port = free_port()
                # Up to two minutes to boot: on a machine other sessions load, W workers importing Django take
                # longer than the helper's default 30 s.
                server = gunicorn_start(port, database=DATABASE, workers=args.workers, timeout_s=120, env={
                    **stripe_environment(stripe), "GUNICORN_CMD_ARGS": f"--config {config.name}"})
            requests_before = len(stripe.fake.requests)
            started = time.perf_counter()
            if server is None:
                latencies, redeliveries, failed = deliver_in_process(path, payloads)
            else:
                latencies, redeliveries, failed = deliver_all(port, path, payloads, args.clients)
            elapsed = time.perf_counter() - started
            refetches = sum(1 for r in stripe.fake.requests[requests_before:]
                            if r.method == "GET" and r.path.startswith("/v1/payment_intents/"))

            ids = [invoice.pk for invoice in invoices]
            paid = Invoice.objects.filter(pk__in=ids, status=Invoice.Status.PAID, amount_paid=F("amount_due")).count()
            settlements = StripeSettlement.objects.filter(invoice_id__in=ids)
            paid_by = list(settlements.filter(kind=StripeSettlement.Kind.INVOICE_PAID)
                           .values_list("stripe_id", flat=True))
            others = settlements.exclude(kind=StripeSettlement.Kind.INVOICE_PAID).count()
            payments = Payment.objects.filter(invoice_id__in=ids)
            payment_count = payments.count()
            succeeded = payments.filter(status=Payment.Status.SUCCEEDED).values("invoice_id").distinct().count()
            stored_events = Event.objects.filter(id__in=unique_events).count()
    finally:
        if server is not None:
            server_stop(server)
        stripe.stop()
        os.unlink(config.name)

    print(f"webhook_deliveries: {len(payloads)} deliveries ({successes} succeeded, {stale} out of order, "
          f"{duplicates} duplicates; {len(unique_events)} distinct events)")
    print(f"webhook_events_per_s: {len(payloads) / elapsed:.0f} events/s")
    print(f"webhook_p50_ms: {statistics.median(latencies):.1f} ms")
    print(f"webhook_p95_ms: {sorted(latencies)[int(len(latencies) * 0.95)]:.1f} ms")
    print(f"webhook_redeliveries: {redeliveries} redeliveries ({len(failed)} never answered 200: {failed[:5]})")
    print(f"stripe_refetches_per_delivery: {refetches / len(payloads):.2f} requests")
    print(f"invoices_paid_exactly: {'yes' if paid == len(ids) else f'NO ({paid} of {len(ids)})'}")
    exact = len(paid_by) == len(set(paid_by)) == len(intents) and set(paid_by) == set(intents) and others == 0
    print(f"settlements_exact: {'yes' if exact else f'NO ({len(paid_by)} invoice_paid, {others} others)'}")
    payments_exact = payment_count == succeeded == len(ids)
    print(f"payments_exact: {'yes' if payments_exact else f'NO ({payment_count} payments, {succeeded} paid)'}")
    events_once = stored_events == len(unique_events)
    print(f"events_stored_once: {'yes' if events_once else f'NO ({stored_events} of {len(unique_events)})'}")


if __name__ == "__main__":
    main()
