"""Property-based fuzzing of every API operation, generated from the OpenAPI schema the API serves itself.

Schemathesis reads /api/schema/ from a live server (the database is only available inside a test, so the schema
is loaded lazily through a fixture), generates valid and invalid requests for each operation and sends them to
tenant alpha's host with a key that has every scope. Every response must be a non-5xx with a documented status
code, the documented content type and a body matching the documented schema.

The AI endpoints are fuzzed too: the server gets an Anthropic key and the real SDK sends through an httpx2
mock transport answering from the recorded fixtures (a stream for "stream": true, a message otherwise), and
alpha's wallet is funded.

So are the billing endpoints, for real: alpha starts on a paid Pro subscription with two invoices (one with a
credit note, one with a tiered usage line), the schema lists the self-serve price codes, so the fuzzer changes,
cancels, reactivates and starts alpha's subscription (those POSTs require an Idempotency-Key, which the schema
declares and the fuzzer sends, or leaves out to get the 400), and most invoice numbers it asks for are swapped
for alpha's real ones so the JSON and PDF of real invoices are checked too.

The content endpoints too: alpha's library holds one draft, which two generated document ids in three are
swapped for, so reading and editing a real document is checked; the drafts the run writes are deleted. So are the
coach's project routes (the chat's streamed messages included): two generated project ids in three are the owner's
active project.

Bounded on purpose: a few dozen examples per operation and no per-example deadline keep the file under two
minutes. Keys the fuzzer creates (POST /api/v1/api-keys), Idempotency-Key records, the usage and wallet rows and
the subscriptions, invoices, credit and billing emails the run committed are deleted afterwards, and the invoice
numbering is put back as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
import schemathesis
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, settings
from schemathesis import checks

from billing.invoicing.services import credit_note_issue, invoice_finalize
from billing.models import (
    AccountCredit,
    AccountCreditEntry,
    AutoRecharge,
    BillingEmail,
    CouponRedemption,
    CreditNote,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Price,
    Subscription,
    SubscriptionEvent,
)
from billing.subscriptions.services import subscription_start
from config.lookup_cache import lookup_forget
from config.money import Money
from creators.models import ContentDocument, CreatorProfile, Project
from metering.gateway import client as ai_client
from metering.models import TokenPurchase
from metering.wallets.services import wallet_credit
from tenants.models import ApiKey, IdempotencyRecord, Tenant
from tenants.selectors import api_key_lookup_key
from tenants.services import api_key_create
from tests.support.content import content_document_make
from tests.support.creators import project_for
from tests.support.live_server import LiveServer, committed_live_server  # noqa: F401 - the fixture
from tests.support.tenants import owner_of, tenant_metering_purge

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "anthropic"
STREAM = (FIXTURES / "basic_response.sse").read_bytes().rstrip(b"\n") + b"\n\n"

MAX_EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    headers: dict[str, str]
    api_key: ApiKey
    invoice_numbers: tuple[str, ...]
    document_id: int
    project_id: int


def fake_anthropic(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    if body.get("stream"):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM)
    return httpx2.Response(200, json={
        "id": "msg_01Fuzz", "type": "message", "role": "assistant", "model": body["model"],
        "content": [{"type": "text", "text": "Here it is:\n```python\nprint('hi')\n```\nIt prints hi."}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 9},
    })


@pytest.fixture
def ai_upstream(monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(ai_client, "http_client_build",
                        lambda: httpx2.Client(transport=httpx2.MockTransport(fake_anthropic)))
    ai_client.client_cache_clear()
    with override_settings(ANTHROPIC_API_KEY="sk-ant-fuzz"):
        yield
    ai_client.client_cache_clear()


# What the billing endpoints commit for a tenant, children before their parents (the models protect them).
BILLING_ROWS = [
    (AutoRecharge, "tenant"), (AccountCreditEntry, "tenant"), (AccountCredit, "tenant"), (CreditNote, "tenant"),
    (PendingInvoiceItem, "tenant"), (TokenPurchase, "tenant"), (InvoiceLine, "invoice__tenant"), (Invoice, "tenant"),
    (CouponRedemption, "tenant"), (SubscriptionEvent, "tenant"), (BillingEmail, "tenant"), (Subscription, "tenant"),
]


def billing_rows(tenant: Tenant) -> dict:
    return {model: set(model.objects.filter(**{lookup: tenant}).values_list("pk", flat=True))
            for model, lookup in BILLING_ROWS}


def billing_rows_purge(tenant: Tenant, *, keep: dict) -> None:
    """Delete the billing rows committed since `keep` was taken. Finalised invoices and credit notes are
    immutable (database triggers), so the triggers are off for this transaction (tests only: needs a
    superuser)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for model, lookup in BILLING_ROWS:
            model.objects.filter(**{lookup: tenant}).exclude(pk__in=keep[model]).delete()


def billing_seed(tenant: Tenant) -> tuple[str, ...]:
    """A paid-for Pro subscription (so changes prorate and issue invoices), its start invoice with a credit note,
    and an invoice whose usage line has a tier-by-tier breakdown: what the invoice endpoints have to show."""
    now = timezone.now()
    subscription_start(tenant=tenant, price=Price.objects.get(code="pro-month-usd"), actor="test", now=now,
                       trial=False)
    started = Invoice.objects.get(tenant=tenant, billing_reason=Invoice.Reason.SUBSCRIPTION_CREATE,
                                  created_at=now)
    credit_note_issue(invoice=started, amount=Money(Decimal("5.00"), "USD"), reason="correction", memo="fuzz",
                      actor="test", now=now)
    usage = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                   created_at=now)
    InvoiceLine.objects.create(invoice=usage, kind=InvoiceLine.Kind.USAGE, description="API calls",
                               quantity=Decimal("1500"), meter_code="api_calls", amount_exact=Decimal("14.5"),
                               amount=Decimal("14.50"),
                               breakdown=[{"kind": "tier", "tier": 1, "units": "1000", "from_value": "0",
                                           "to_value": "1000", "unit_amount": "0.01", "amount": "10"},
                                          {"kind": "tier", "tier": 2, "units": "500", "from_value": "1000",
                                           "unit_amount": "0.005", "flat_amount": "2", "amount": "4.5"}])
    usage = invoice_finalize(invoice=usage, now=now)
    return started.number, usage.number


@pytest.fixture
def numbering_restored() -> Iterator[None]:
    """Invoices the fuzzer finalises take numbers from the shared series: give them back afterwards."""
    before = dict(DocumentSequence.objects.values_list("pk", "last_number"))
    yield
    DocumentSequence.objects.exclude(pk__in=before).delete()
    for pk, last_number in before.items():
        DocumentSequence.objects.filter(pk=pk).update(last_number=last_number)


@pytest.fixture
def fuzz_target(committed_live_server: LiveServer, ai_upstream, numbering_restored) -> Iterator[FuzzTarget]:
    """Tenant alpha on the live server, with a key holding every scope and a funded wallet; removes what the
    run committed."""
    tenant = Tenant.objects.get(slug="alpha")
    wallet_credit(tenant=tenant, tokens=100_000_000, kind="purchase", reason="fuzz", idempotency_key="fuzz")
    keys_before = set(ApiKey.objects.filter(tenant=tenant).values_list("pk", flat=True))
    records_before = set(IdempotencyRecord.objects.filter(tenant=tenant).values_list("pk", flat=True))
    billing_before = billing_rows(tenant)
    # Created by alpha's owner: the coach's endpoints act as the key's creator (creators.api).
    created = api_key_create(tenant=tenant, name="openapi fuzz", scopes=list(ApiKey.Scope.values),
                             created_by=tenant.owner_email)
    with schema_context(tenant.schema_name):
        documents_before = set(ContentDocument.objects.values_list("pk", flat=True))
        # The owner's active project, so the coach's project routes (the chat included) act on a real one.
        project_id = project_for(owner_of(tenant)).pk
    try:
        yield FuzzTarget(
            base_url=committed_live_server.base_url,
            headers={"Host": committed_live_server.host_for("alpha"), "Authorization": f"Bearer {created.secret}"},
            api_key=created.api_key,
            invoice_numbers=billing_seed(tenant),
            document_id=content_document_make(tenant, title="Fuzzed draft", output="# Fuzzed\n\nSome text.").pk,
            project_id=project_id,
        )
    finally:
        ApiKey.objects.filter(tenant=tenant).exclude(pk__in=keys_before).delete()
        IdempotencyRecord.objects.filter(tenant=tenant).exclude(pk__in=records_before).delete()
        billing_rows_purge(tenant, keep=billing_before)
        tenant_metering_purge(tenant)
        with schema_context(tenant.schema_name):
            # What the coach's endpoints committed for the owner (messages, tasks and decisions go with projects).
            Project.objects.all().delete()
            CreatorProfile.objects.all().delete()
        with schema_context(tenant.schema_name):
            ContentDocument.objects.exclude(pk__in=documents_before).delete()


@pytest.fixture
def api_schema(fuzz_target: FuzzTarget):
    return schemathesis.openapi.from_url(
        f"{fuzz_target.base_url}/api/schema/?format=json", headers={"Host": fuzz_target.headers["Host"]}, timeout=10
    )


@pytest.fixture(autouse=True)
def _pytest9_node_id_shim(request):
    """schemathesis 4.32.5's lazy-schema runner reads and rewrites `request.node._nodeid` (to label each
    operation's subtest); pytest 9.2 keeps node ids in `_id` and has no `_nodeid`. Give the node the attribute
    so the runner works; pytest itself never reads it."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@schema.parametrize()
def test_every_api_operation_answers_as_documented(case, fuzz_target: FuzzTarget):
    number = (case.path_parameters or {}).get("number")
    if isinstance(number, str) and len(number) % 3:
        # A generated number never names an invoice: two cases in three read alpha's real ones instead.
        case.path_parameters["number"] = fuzz_target.invoice_numbers[len(number) % 3 - 1]
    document_id = (case.path_parameters or {}).get("document_id")
    if isinstance(document_id, int) and document_id % 3:
        case.path_parameters["document_id"] = fuzz_target.document_id  # two cases in three read a real draft
    project_id = (case.path_parameters or {}).get("project_id")
    if isinstance(project_id, int) and project_id % 3:
        case.path_parameters["project_id"] = fuzz_target.project_id  # two in three act on the owner's project
    try:
        case.call_and_validate(base_url=fuzz_target.base_url, headers=fuzz_target.headers, checks=CHECKS,
                               timeout=10)
    finally:
        # POST /api/v1/api-keys/{id}/revoke may hit the fuzzer's own key; un-revoke it so later examples still
        # reach the endpoints instead of stopping at 401.
        if ApiKey.objects.filter(pk=fuzz_target.api_key.pk, revoked_at__isnull=False).update(revoked_at=None):
            lookup_forget(api_key_lookup_key(fuzz_target.api_key.prefix))
