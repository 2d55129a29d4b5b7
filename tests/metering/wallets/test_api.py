from datetime import datetime, timedelta

import pytest

from accounts.models import Role
from config.api.errors import api_error_from
from metering.wallets.services import InsufficientBalance, wallet_credit, wallet_debit, wallet_threshold_set
from tests.support.api import api_client, api_key_for
from tests.support.clock import NOW
from tests.support.staff import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def read_client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))


def purchase(tenant, tokens: int, key: str = "bought", now: datetime = NOW):
    return wallet_credit(tenant=tenant, tokens=tokens, kind="purchase", reason="Purchase", idempotency_key=key,
                         now=now)


def use(tenant, tokens: int, feature: str, *, key: str, now: datetime = NOW):
    return wallet_debit(tenant=tenant, tokens=tokens, feature=feature, reason="call", idempotency_key=key, now=now)


# --- GET /api/v1/wallet ---------------------------------------------------------------------------

def test_the_wallet_answers_balance_threshold_and_this_months_usage_per_feature(tenant_alpha, read_client):
    purchase(tenant_alpha, 10_000, now=NOW - timedelta(days=40))
    use(tenant_alpha, 1_000, "ai_api", key="last-month", now=NOW - timedelta(days=30))
    use(tenant_alpha, 300, "ai_api", key="a")
    use(tenant_alpha, 200, "coach", key="b")
    wallet_threshold_set(tenant=tenant_alpha, threshold=9_000)

    response = read_client.get("/api/v1/wallet")

    assert response.status_code == 200
    assert response.json() == {
        "balance": 8_500, "owed_tokens": 0, "low_balance_threshold": 9_000, "low_balance": True,
        "monthly_allowance": 50_000,
        "period_start": "2026-11-01T00:00:00Z", "period_end": "2026-12-01T00:00:00Z",
        "usage_this_month": [{"feature": "ai_api", "tokens": 300}, {"feature": "coach", "tokens": 200},
                             {"feature": "content", "tokens": 0}],
    }


def test_the_wallet_reports_what_is_used_net_of_refunds(tenant_alpha, read_client):
    from metering.wallets.services import wallet_refund

    purchase(tenant_alpha, 10_000)
    use(tenant_alpha, 4_096, "ai_api", key="ai-reserve:1")
    wallet_refund(tenant=tenant_alpha, debit_key="ai-reserve:1", tokens=3_996, reason="unused",
                  idempotency_key="ai-settle:1", now=NOW)

    usage = read_client.get("/api/v1/wallet").json()["usage_this_month"]

    assert usage[0] == {"feature": "ai_api", "tokens": 100}


def test_the_wallet_reports_the_tokens_owed(tenant_alpha, read_client):
    from metering.wallets.services import wallet_debit_or_owe

    purchase(tenant_alpha, 100)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=350, feature="ai_api", reason="over", idempotency_key="over",
                        now=NOW)

    body = read_client.get("/api/v1/wallet").json()

    assert (body["balance"], body["owed_tokens"]) == (0, 250)


def test_a_tenant_without_a_wallet_reads_an_empty_one(read_client):
    body = read_client.get("/api/v1/wallet").json()

    assert (body["balance"], body["low_balance_threshold"], body["low_balance"]) == (0, None, False)


def test_reading_the_wallet_needs_the_read_scope(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write"]))

    response = client.get("/api/v1/wallet")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.BILLING])
def test_every_staff_role_reads_the_balance_with_its_session(tenant_alpha, role):
    assert staff_client(tenant_alpha, role).get("/api/v1/wallet").status_code == 200


def test_the_wallet_is_read_only(read_client):
    response = read_client.post("/api/v1/wallet", {}, content_type="application/json")

    assert response.status_code == 405


# --- GET /api/v1/wallet/entries -------------------------------------------------------------------

def test_entries_come_newest_first(tenant_alpha, read_client):
    purchase(tenant_alpha, 1_000)
    use(tenant_alpha, 100, "ai_api", key="call-1")
    use(tenant_alpha, 50, "content", key="call-2")

    body = read_client.get("/api/v1/wallet/entries").json()

    assert [(e["kind"], e["tokens"], e["balance_after"], e["feature"]) for e in body["data"]] == [
        ("usage_debit", -50, 850, "content"), ("usage_debit", -100, 900, "ai_api"), ("purchase", 1_000, 1_000, None)]
    assert body["data"][0]["idempotency_key"] == "call-2"
    assert (body["has_more"], body["next_cursor"]) == (False, None)


def test_entries_page_with_the_cursor(tenant_alpha, read_client):
    purchase(tenant_alpha, 1_000)
    for n in range(4):
        use(tenant_alpha, 1, "ai_api", key=f"call-{n}")

    first = read_client.get("/api/v1/wallet/entries", {"limit": 3}).json()
    second = read_client.get("/api/v1/wallet/entries", {"limit": 3, "cursor": first["next_cursor"]}).json()

    assert [e["idempotency_key"] for e in first["data"]] == ["call-3", "call-2", "call-1"]
    assert [e["idempotency_key"] for e in second["data"]] == ["call-0", "bought"]
    assert (first["has_more"], second["has_more"]) == (True, False)


def test_a_bad_cursor_is_an_invalid_request(read_client):
    response = read_client.get("/api/v1/wallet/entries", {"cursor": "nope"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_ledger_never_shows_who_at_ops_made_an_entry(tenant_alpha, read_client):
    wallet_credit(tenant=tenant_alpha, tokens=5, kind="adjustment", reason="Goodwill", idempotency_key="adj",
                  created_by="operator@tollgate.test")

    assert b"operator@tollgate.test" not in read_client.get("/api/v1/wallet/entries").content


@pytest.mark.parametrize(("role", "status"), [(Role.OWNER, 200), (Role.BILLING, 200), (Role.ADMIN, 403),
                                              (Role.MEMBER, 403)])
def test_the_ledger_is_for_the_roles_that_see_billing(tenant_alpha, role, status):
    assert staff_client(tenant_alpha, role).get("/api/v1/wallet/entries").status_code == status


# --- Errors and documentation ---------------------------------------------------------------------

def test_insufficient_balance_maps_to_402_with_its_code():
    error = api_error_from(InsufficientBalance(balance=3, requested=10))

    assert (error.status_code, error.code) == (402, "insufficient_balance")
    assert error.message == "Not enough AI tokens: 10 needed, 3 available."


def test_the_schema_documents_both_wallet_operations(tenant_alpha):
    schema = api_client(tenant_alpha).get("/api/schema/", {"format": "json"}).json()

    assert schema["paths"]["/api/v1/wallet"]["get"]["operationId"] == "wallet_retrieve"
    listing = schema["paths"]["/api/v1/wallet/entries"]["get"]
    assert {"cursor", "limit"} <= {parameter["name"] for parameter in listing["parameters"]}
    assert {"Wallet", "WalletEntry", "WalletFeatureUsage"} <= set(schema["components"]["schemas"])
