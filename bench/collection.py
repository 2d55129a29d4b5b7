"""Collecting invoices by card at scale: N finalised invoices (default 10,000) charged through the local fake Stripe
by Celery workers (billing.invoice_charge), with the workers killed (SIGKILL) part-way and started again; then
every invoice must be paid exactly once and no card charged twice.

Setup (not timed), on its own copy of the migrated test template database: T tenants (rows only, default 1,000),
each with its Stripe customer and a default card that pays, made through the fake (devtools/stripe_fake.py, a
thread of this process, so its state is the one every worker talks to); N open invoices collected by Stripe,
spread over them, written in bulk as invoice_finalize leaves them. Two worker processes
(`celery worker --concurrency 2`, prefork, on a queue of their own) against that database and this run's Redis;
the workers queue what a paid invoice sends (emails, notifications) instead of running it eagerly, as in
production, and nothing consumes it.

Timed: every invoice's charge (attempt 1) enqueued, as invoice_finalized does; once a share of them (--kill-at,
default 0.3) are paid, both workers' process groups are killed with SIGKILL and two new workers started at once.
billing.invoice_charge is acknowledged late, so the messages the killed workers had taken (running or prefetched)
stay in Redis's unacked set and come back once the visibility timeout passes (10 s here, with a restore sweep
every 2 s; two hours and kombu's sweep in production) and run again. When the queue and the unacked set are empty
and nothing moves for 3 s, the invoices still open are those whose charge the kill lost (tasks_lost_by_kill): the
lost-charge beat job's query (billing.payments.lost_charges) finds them and each is enqueued again with the same
attempt, as that job would, and the run waits until every invoice is paid.

Prints `name: value unit`: charges_per_s (paid invoices per second while the first workers ran),
charges_per_s_overall (all N over the whole run, the kill, the restart and the wait included), tasks_lost_by_kill,
payment_intents_created and idempotent_replays (requests Stripe answered from an Idempotency-Key it had seen), and
the checks: double_charges (invoices with more than one succeeded PaymentIntent at Stripe, or whose amount
received differs from the amount due), invoices_paid, payments_exact (one succeeded Payment per invoice).

Run with `./dev bench collection` (`--invoices N`, `--tenants T`, `--kill-at SHARE`).
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from celery import current_app  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from billing.models import Invoice, Payment  # noqa: E402
from billing.payments.lost_charges import invoice_charges_lost  # noqa: E402
from billing.payments.tasks import invoice_charge_task  # noqa: E402
from config.money import Money, money_to_minor_units  # noqa: E402
from devtools.stripe_fake import FakeStripeServer  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.servers import database_url_for  # noqa: E402
from tests.support.stripe_bench import (  # noqa: E402
    stripe_environment,
    stripe_invoices_create,
    stripe_on,
    tenants_with_cards_create,
)

DATABASE = "tollgate_bench_collection"
QUEUE = "bench-collection"
FIRST_ATTEMPT = 1
VISIBILITY_TIMEOUT_S = 10
RESTORE_SWEEP_S = 2
# `celery -A config worker`, with what the test settings make eager queued instead, and a short visibility
# timeout (swept for every 2 s) so the messages a killed worker held come back within the run.
WORKER = ("import sys; from config.celery import app; app.conf.task_always_eager = False; "
          f"app.conf.broker_transport_options = {{'visibility_timeout': {VISIBILITY_TIMEOUT_S}, "
          f"'unacked_restore_interval': {RESTORE_SWEEP_S}, 'unacked_restore_throttle': 1}}; "
          "app.worker_main(sys.argv[1:])")


def workers_start(env: dict[str, str], generation: int) -> list[subprocess.Popen]:
    """Two worker processes, each the leader of its own process group (so a kill reaches its pool too)."""
    return [subprocess.Popen(
        [sys.executable, "-c", WORKER, "worker", "--concurrency", "2", "-Q", QUEUE, "-n", f"bench{generation}-{n}@%h",
         "-l", "warning", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL) for n in range(2)]


def workers_kill(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGKILL)
    for worker in workers:
        worker.wait(timeout=20)


def workers_stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=20)


def workers_wait_ready(count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(current_app.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError("the Celery workers did not start")


def charges_enqueue(invoice_ids: list[int]) -> None:
    for invoice_id in invoice_ids:
        invoice_charge_task.apply_async(kwargs={"invoice_id": invoice_id, "attempt": FIRST_ATTEMPT}, queue=QUEUE)


def paid_count(ids: list[int]) -> int:
    # By the id range (the bench's invoices are one bulk insert), not an IN list of N ids polled ten times a second.
    return Invoice.objects.filter(pk__range=(ids[0], ids[-1]), status=Invoice.Status.PAID).count()


def wait_until(condition, timeout_s: float, step_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return False


def wait_until_still(ids: list[int], broker: redis.Redis, quiet_s: float = 3.0, timeout_s: float = 600) -> None:
    """Until the queue and the unacked set (messages taken, not yet acknowledged: running, prefetched, or held
    by a killed worker until the visibility timeout gives them back) are empty and no invoice was paid for
    `quiet_s`."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_paid = paid_count(ids)
        if now_paid != last or broker.llen(QUEUE) or broker.hlen("unacked"):
            last, since = now_paid, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.25)


def stripe_side(fake, invoices: dict[int, Invoice]) -> tuple[int, int]:
    """Double charges as Stripe sees them, and how many invoices received money at all."""
    succeeded: dict[int, list[int]] = defaultdict(list)
    for intent in fake.of_type("payment_intent"):
        if intent["status"] == "succeeded":
            succeeded[int(intent["metadata"]["invoice_id"])].append(intent["amount_received"])
    doubles = 0
    for invoice_id, amounts in succeeded.items():
        invoice = invoices[invoice_id]
        if len(amounts) > 1 or sum(amounts) != money_to_minor_units(Money(invoice.amount_due, invoice.currency)):
            doubles += 1
    return doubles, len(succeeded)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--kill-at", type=float, default=0.3)
    args = parser.parse_args()
    current_app.conf.task_always_eager = False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    stripe = FakeStripeServer().start()
    workers: list[subprocess.Popen] = []
    try:
        setup_started = time.perf_counter()
        with bench_database(DATABASE), stripe_on(stripe):
            print(f"setup: database copied in {time.perf_counter() - setup_started:.0f} s", file=sys.stderr)
            holders = tenants_with_cards_create(stripe, count=args.tenants, prefix="bench_col")
            invoices = stripe_invoices_create([holder.tenant for holder in holders], count=args.invoices,
                                              series="BC", now=datetime.now(UTC))
            ids = sorted(invoice.pk for invoice in invoices)
            assert ids[-1] - ids[0] == len(ids) - 1
            print(f"setup: {time.perf_counter() - setup_started:.0f} s", file=sys.stderr)
            connection.close()
            env = {**os.environ, **stripe_environment(stripe), "DATABASE_URL": database_url_for(DATABASE),
                   "DJANGO_SETTINGS_MODULE": "config.settings.test"}
            workers = workers_start(env, generation=1)
            workers_wait_ready(2)
            requests_before = len(stripe.fake.requests)

            started = time.perf_counter()
            charges_enqueue(ids)
            wait_until(lambda: paid_count(ids) >= args.invoices * args.kill_at, timeout_s=600, step_s=0.1)
            workers_kill(workers)
            killed_at = time.perf_counter() - started
            paid_at_kill = paid_count(ids)
            workers = workers_start(env, generation=2)
            wait_until_still(ids, broker)
            still_open = Invoice.objects.filter(pk__in=ids, status=Invoice.Status.OPEN).count()
            lost = [charge.invoice_id for charge in invoice_charges_lost(asked_before=datetime.now(UTC))]
            charges_enqueue(lost)
            wait_until(lambda: paid_count(ids) == args.invoices, timeout_s=600)
            elapsed = time.perf_counter() - started
            wait_until_still(ids, broker)

            requests = stripe.fake.requests[requests_before:]
            created = sum(1 for r in requests if r.method == "POST" and r.path == "/v1/payment_intents"
                          and not r.replayed)
            replays = sum(1 for r in requests if r.replayed)
            doubles, received = stripe_side(stripe.fake, {invoice.pk: invoice for invoice in invoices})
            paid = paid_count(ids)
            per_invoice = Counter(Payment.objects.filter(invoice_id__in=ids, status=Payment.Status.SUCCEEDED)
                                  .values_list("invoice_id", flat=True))
            unacked_left = broker.hlen("unacked")
    finally:
        workers_stop(workers)
        stripe.stop()

    print(f"collection_invoices: {args.invoices} invoices over {args.tenants} tenants, 2 workers x 2 processes")
    print(f"charges_per_s: {paid_at_kill / killed_at:.0f} charges/s")
    print(f"charges_per_s_overall: {args.invoices / elapsed:.0f} charges/s ({elapsed:.1f} s, kill after "
          f"{killed_at:.1f} s at {paid_at_kill} paid)")
    print(f"tasks_lost_by_kill: {still_open} invoices (charged by the lost-charge job's query: {len(lost)})")
    print(f"payment_intents_created: {created} intents")
    print(f"idempotent_replays: {replays} requests")
    print(f"unacked_messages_left: {unacked_left} messages")
    print(f"double_charges: {doubles}")
    print(f"invoices_paid: {paid} of {args.invoices} (money received for {received})")
    exact = len(per_invoice) == args.invoices and set(per_invoice.values()) == {1}
    print(f"payments_exact: {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
