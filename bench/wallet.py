"""Wallet debits: N threads debit one wallet as fast as they can for a few seconds (every debit contends for the
same row), then the balance is checked against the debits that succeeded and against the ledger. The wallet has
an open monthly allowance as well as purchased tokens, so every debit also records its share of the allowance
(the path a plan's allowance takes), and the allowance left is checked too.

Run with `./dev bench wallet` (`--threads N`, default 8; `--seconds S`, default 5). Works on its own copy of the
migrated test template database. Prints one line per figure: `name: value unit`.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from metering.wallets.selectors import wallet_get, wallet_ledger_sum  # noqa: E402
from metering.wallets.services import wallet_credit, wallet_debit  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.database import bench_database  # noqa: E402

DATABASE = "tollgate_bench_wallet"
INITIAL_BALANCE = 10**12
INITIAL_ALLOWANCE = 10**11
TOKENS_PER_DEBIT = 7
WARM_UP_DEBITS = 200


class Worker(threading.Thread):
    def __init__(self, index: int, tenant: Tenant, start: threading.Barrier, deadline: list[float]):
        super().__init__(name=f"debit-{index}")
        self.index, self.tenant, self.start_together, self.deadline = index, tenant, start, deadline
        self.latencies: list[float] = []
        self.debited = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.start_together.wait()
            n = 0
            while time.perf_counter() < self.deadline[0]:
                started = time.perf_counter()
                wallet_debit(tenant=self.tenant, tokens=TOKENS_PER_DEBIT, feature="ai_api", reason="bench",
                             idempotency_key=f"bench-{self.index}-{n}")
                self.latencies.append(time.perf_counter() - started)
                self.debited += TOKENS_PER_DEBIT
                n += 1
        except BaseException as error:  # reported by main()
            self.error = error
        finally:
            connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    with bench_database(DATABASE):
        tenant = Tenant.objects.get(slug="alpha")
        wallet_credit(tenant=tenant, tokens=INITIAL_BALANCE - INITIAL_ALLOWANCE, kind="purchase", reason="bench",
                      idempotency_key="seed")
        wallet_credit(tenant=tenant, tokens=INITIAL_ALLOWANCE, kind="grant", reason="bench", idempotency_key="grant",
                      expires_at=datetime(2100, 1, 1, tzinfo=timezone.utc))
        for n in range(WARM_UP_DEBITS):
            wallet_debit(tenant=tenant, tokens=TOKENS_PER_DEBIT, feature="ai_api", reason="warm-up",
                         idempotency_key=f"warm-up-{n}")
        warm_up = WARM_UP_DEBITS * TOKENS_PER_DEBIT

        start = threading.Barrier(args.threads + 1)
        deadline = [0.0]
        workers = [Worker(index, tenant, start, deadline) for index in range(args.threads)]
        for worker in workers:
            worker.start()
        deadline[0] = time.perf_counter() + args.seconds
        started = time.perf_counter()
        start.wait()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        failed = [worker.error for worker in workers if worker.error is not None]
        if failed:
            raise RuntimeError(f"{len(failed)} worker(s) failed") from failed[0]

        debits = sum(len(worker.latencies) for worker in workers)
        debited = sum(worker.debited for worker in workers)
        latencies = [latency for worker in workers for latency in worker.latencies]
        wallet = wallet_get(tenant=tenant)
        ledger = wallet_ledger_sum(tenant=tenant)
        exact = (wallet.balance == INITIAL_BALANCE - warm_up - debited == ledger
                 and wallet.allowance == INITIAL_ALLOWANCE - warm_up - debited)
    print(f"wallet_threads: {args.threads} threads")
    print(f"wallet_debit_p50_ms: {statistics.median(latencies) * 1000:.2f} ms")
    print(f"wallet_debit_p99_ms: {percentile(latencies, 0.99) * 1000:.2f} ms")
    print(f"wallet_debits_per_s: {debits / elapsed:.0f} debits/s")
    print(f"wallet_balance_exact: {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
