"""The commission engine at scale: commissions for N paid invoices of referred tenants, then a payout batch over
them; then both again, which must create nothing.

Setup (not timed), on its own copy of the migrated test template database:
- T referred tenants (rows only: the engine never enters a tenant's schema), bound to A affiliates (one in ten an
  agency in referral mode, its profile's rate), the program on the scheme "40 % for 3 months, then 20 %";
- N paid invoices (N / T monthly invoices per tenant, 20 % VAT on some), written with bulk_create as billing
  leaves them once paid (numbered, totals set), since paying them through the services is billing's cost, not
  ours. No signal is sent: the timed run is the catch-up sweep, which earns what the signals would have.

Timed: `commissions_sweep` over every invoice (each commission's month in its customer's life, its rate, the
fraud rules on each referral's first commission, the bulk insert), `commissions_approve_due` past the holding
period, and `payouts_create` for the cycle; then the sweep and the batch again.

Run with `./dev bench commissions` (`--invoices N`, default 10,000; `--tenants T`, default 1,000; `--affiliates A`,
default 100). Prints `name: value unit`: commissions_s (sweep + approval + payout batch; goal <= 10 s),
sweep_s, payout_batch_s, commissions_created, payouts_created, and the checks commissions_created_on_rerun: 0,
payouts_created_on_rerun: 0, commissions_exactly_once and payouts_match_commissions. BENCH_PROFILE=cumulative (or
any pstats sort key) runs the sweep under cProfile and prints where its time went (slower; not a figure to report).
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db.models import Count, Sum  # noqa: E402

from affiliates.commissions.services import commissions_approve_due, commissions_sweep  # noqa: E402
from affiliates.models import (  # noqa: E402
    Affiliate,
    AffiliateProgram,
    AgencyProfile,
    Commission,
    Payout,
    Referral,
)
from affiliates.models.program import CommissionType  # noqa: E402
from affiliates.payouts.services import payouts_create  # noqa: E402
from billing.models import Invoice  # noqa: E402
from config.lookup_cache import lookup_clear  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.database import bench_database  # noqa: E402

DATABASE = "tollgate_bench_commissions"
FIRST_INVOICE = datetime(2026, 1, 5, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def seed(*, invoices: int, tenants: int, affiliates: int) -> None:
    AffiliateProgram.objects.filter(code="default").update(
        commission_type=CommissionType.SCHEME, scheme=[{"months": 3, "rate": "40"}, {"months": None, "rate": "20"}],
        holding_days=30, payout_threshold=Decimal("50"), min_paying_customers=1)
    lookup_clear()
    agency_tenants = Tenant.objects.bulk_create([
        Tenant(schema_name=f"bench_agency_{n}", slug=f"bench-agency-{n}", name=f"Agency {n}", type=Tenant.Type.AGENCY,
               owner_email=f"owner@agency-{n}.test") for n in range(affiliates // 10)])
    AgencyProfile.objects.bulk_create([AgencyProfile(agency=agency, commission_rate=Decimal("15"))
                                       for agency in agency_tenants])
    accounts = Affiliate.objects.bulk_create(
        [Affiliate(kind=Affiliate.Kind.AGENCY, tenant=agency, code=f"agency{n}", name=agency.name,
                   email=agency.owner_email, created_at=FIRST_INVOICE) for n, agency in enumerate(agency_tenants)]
        + [Affiliate(code=f"bench{n}", name=f"Partner {n}", email=f"partner{n}@promoter.test",
                     created_at=FIRST_INVOICE) for n in range(affiliates - len(agency_tenants))])
    referred = Tenant.objects.bulk_create([
        Tenant(schema_name=f"bench_referred_{n}", slug=f"bench-referred-{n}", name=f"Referred {n}",
               owner_email=f"owner@referred-{n}.test") for n in range(tenants)])
    Referral.objects.bulk_create([
        Referral(tenant=tenant, affiliate=accounts[n % len(accounts)], source=Referral.Source.CLICK,
                 owner_email=tenant.owner_email, signup_ip_hash=f"ip-{n}", signup_network_hash=f"net-{n}",
                 created_at=FIRST_INVOICE - timedelta(days=1)) for n, tenant in enumerate(referred)])
    rows = []
    for n in range(invoices):
        tenant, month = referred[n % tenants], n // tenants
        issued = FIRST_INVOICE + timedelta(days=30 * month, minutes=n % tenants)
        subtotal = Decimal(29 + (n % 7) * 10)
        tax = (subtotal * Decimal("0.20")).quantize(Decimal("0.01")) if n % 5 == 0 else Decimal(0)
        rows.append(Invoice(tenant=tenant, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, status=Invoice.Status.PAID,
                            number=f"BENCH-{n:06d}", currency="USD", subtotal=subtotal, tax_total=tax,
                            tax_percentage=Decimal(20) if tax else None, total=subtotal + tax,
                            amount_due=subtotal + tax, amount_paid=subtotal + tax, issued_at=issued,
                            due_at=issued, paid_at=issued + timedelta(hours=1), created_at=issued))
    Invoice.objects.bulk_create(rows, batch_size=2000)


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--affiliates", type=int, default=100)
    args = parser.parse_args()
    with bench_database(DATABASE):
        seed(invoices=args.invoices, tenants=args.tenants, affiliates=args.affiliates)
        days = (NOW - FIRST_INVOICE).days + 1
        period_end = (NOW - timedelta(days=1)).date()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            profiler.enable()
        swept, sweep_s = timed(lambda: commissions_sweep(now=NOW, days=days))
        _, approve_s = timed(lambda: commissions_approve_due(now=NOW - timedelta(hours=1)))
        run, batch_s = timed(lambda: payouts_create(period_end=period_end, now=NOW))
        if os.environ.get("BENCH_PROFILE"):
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(30)
        reswept, resweep_s = timed(lambda: commissions_sweep(now=NOW, days=days))
        rerun, rebatch_s = timed(lambda: payouts_create(period_end=period_end, now=NOW))

        per_invoice = Commission.objects.values("invoice_id").annotate(n=Count("id")).filter(n__gt=1).count()
        paid_in = Commission.objects.filter(payout__isnull=False).aggregate(total=Sum("amount"))["total"]
        payouts_total = Payout.objects.aggregate(total=Sum("amount"))["total"]
        print(f"commissions_s: {sweep_s + approve_s + batch_s:.2f} s (goal <= 10)")
        print(f"sweep_s: {sweep_s:.2f} s")
        print(f"approve_s: {approve_s:.2f} s")
        print(f"payout_batch_s: {batch_s:.2f} s")
        print(f"invoices: {args.invoices}")
        print(f"commissions_created: {len(swept.created)}")
        print(f"payouts_created: {len(run.created)}")
        print(f"commissions_rerun_s: {resweep_s + rebatch_s:.2f} s")
        print(f"commissions_created_on_rerun: {len(reswept.created)}")
        print(f"payouts_created_on_rerun: {len(rerun.created)}")
        print(f"commissions_exactly_once: {per_invoice == 0}")
        print(f"payouts_match_commissions: {paid_in == payouts_total}")


if __name__ == "__main__":
    main()
