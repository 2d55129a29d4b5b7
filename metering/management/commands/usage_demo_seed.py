"""Give the demo tenant a month of usage and a wallet (run by `./dev up` after demo_seed; safe to repeat:
transaction ids and ledger keys are fixed per day, so a second run adds nothing for days already seeded)."""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.models import Plan
from billing.services import tenant_plan_assign
from metering.models import WalletEntry, WalletFeature
from metering.usage.services import event_ingest
from metering.wallets.services import InsufficientBalance, wallet_credit, wallet_debit
from tenants.models import Tenant

DEMO_TENANT = "acme"
DAYS = 30
# (method, endpoint, success status) of the demo's API traffic, and how often each is called.
DEMO_ENDPOINTS = [("POST", "/api/v1/events", 202), ("GET", "/api/v1/usage", 200), ("POST", "/api/v1/ai/messages", 200),
                  ("GET", "/api/v1/tenant", 200), ("GET", "/api/v1/wallet", 200)]
DEMO_ENDPOINT_WEIGHTS = [50, 20, 15, 10, 5]


class Command(BaseCommand):
    help = "Seed a month of usage, a plan and an AI-token wallet for the demo tenant."

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
        if tenant is None:
            self.stderr.write(f"No tenant {DEMO_TENANT!r}: run demo_seed first.")
            return
        pro = Plan.objects.filter(code="pro").first()
        if pro is not None:
            tenant_plan_assign(tenant=tenant, plan=pro)
        now = timezone.now()
        stored = 0
        for days_ago in range(DAYS, -1, -1):
            day = (now - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0, microsecond=0)
            if day > now:
                day = now - timedelta(minutes=1)
            stored += event_ingest(tenant=tenant, events=self._day_events(day), now=now).accepted
        # Dated now, not like the usage: the ledger's order is its entries' order, and provisioning has already
        # granted this month's allowance, so a backdated entry would read as older than the grant it follows.
        wallet_credit(tenant=tenant, tokens=1_000_000, kind=WalletEntry.Kind.PURCHASE, reason="Demo token pack",
                      idempotency_key="demo-purchase", created_by="usage_demo_seed")
        for number in range(1, 11):
            try:
                wallet_debit(tenant=tenant, tokens=2_000 + number * 450, feature=WalletFeature.AI_API,
                             reason="Demo AI usage", idempotency_key=f"demo-debit-{number}",
                             created_by="usage_demo_seed")
            except InsufficientBalance:
                break
        self.stdout.write(f"Demo usage for {tenant.slug}: {stored} events over {DAYS} days, plan Pro, wallet funded.")

    def _day_events(self, day) -> list[dict]:
        rng = random.Random(day.date().toordinal())
        key = day.date().isoformat()
        events = []
        for n in range(rng.randint(40, 120)):
            moment = (day + timedelta(minutes=rng.randrange(0, 600))).isoformat()
            method, endpoint, ok_status = rng.choices(DEMO_ENDPOINTS, weights=DEMO_ENDPOINT_WEIGHTS)[0]
            status = ok_status if rng.random() < 0.95 else rng.choice([400, 401, 429])
            events.append({"transaction_id": f"demo-call-{key}-{n}", "meter": "api_calls", "timestamp": moment,
                           "properties": {"billable": 200 <= status < 300, "endpoint": endpoint, "method": method,
                                          "status": status}})
        for n in range(rng.randint(5, 25)):
            moment = (day + timedelta(minutes=rng.randrange(0, 600))).isoformat()
            tokens = rng.randint(300, 4_000)
            events.append({"transaction_id": f"demo-in-{key}-{n}", "meter": "ai_input_tokens", "timestamp": moment,
                           "properties": {"tokens": tokens, "model": "claude-sonnet-4-6"}})
            events.append({"transaction_id": f"demo-out-{key}-{n}", "meter": "ai_output_tokens",
                           "timestamp": moment, "properties": {"tokens": tokens // 3, "model": "claude-sonnet-4-6"}})
        events.append({"transaction_id": f"demo-coach-{key}", "meter": "coach_messages",
                       "timestamp": day.isoformat()})
        events.append({"transaction_id": f"demo-storage-{key}", "meter": "storage_gb", "timestamp": day.isoformat(),
                       "properties": {"gb": round(1.5 + day.day * 0.05, 2)}})
        return events
