"""The billing API: the catalogue, the subscription's start, preview, change, cancel and reactivate, invoices as
JSON and PDF, the upcoming invoice, credit notes and the account credit. Money is {"amount", "currency"}."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from billing.invoicing.credit import account_credit_add
from billing.invoicing.services import credit_note_issue, invoice_finalize
from billing.models import AccountCreditEntry, Invoice, InvoiceLine, Price, Subscription
from billing.subscriptions.services import subscription_start
from config.money import Money
from tenants.models import ApiKey
from tenants.services import api_key_revoke
from tests.support.api import api_client, api_key_for
from tests.support.clock import NOW
from tests.support.staff import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

OPS = "ops@tollgate.test"
READ_AND_BILLING = ["read", "billing"]


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


@pytest.fixture
def client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=READ_AND_BILLING))


@pytest.fixture
def read_client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))


def post(client, path: str, body: dict | None = None, *, key: str | None = "k-1", **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, body if body is not None else {}, content_type="application/json", **headers)


def active_subscription(tenant, code: str = "pro-month-usd", *, quantity: int = 1) -> Subscription:
    """Paid from NOW for a whole period (no trial): its start invoice is issued."""
    return subscription_start(tenant=tenant, price=Price.objects.get(code=code), quantity=quantity, actor=OPS,
                              now=NOW, trial=False)


def manual_invoice(tenant, amount: str = "99.00", *, now=NOW) -> Invoice:
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=now)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Consulting",
                               amount_exact=Decimal(amount), amount=Decimal(amount))
    return invoice


def issued_invoice(tenant, amount: str = "99.00", *, now=NOW) -> Invoice:
    return invoice_finalize(invoice=manual_invoice(tenant, amount, now=now), now=now)


# --- Plans ------------------------------------------------------------------------------------------------------

def test_plans_list_public_plans_with_prices_as_money_and_their_usage_charges(read_client):
    plans = {plan["code"]: plan for plan in read_client.get("/api/v1/plans").json()["data"]}

    pro = {price["code"]: price for price in plans["pro"]["prices"]}["pro-month-usd"]
    assert pro["fixed_amount"] == usd("99.00") and pro["per_seat_amount"] == usd("12.00")
    calls = next(charge for charge in pro["usage_charges"] if charge["meter"] == "api_calls")
    assert (calls["charge_model"], calls["included_units"], calls["properties"]["amount"]) == ("package", "100000",
                                                                                               "0.05")


def test_plans_leave_out_private_plans(read_client):
    codes = [plan["code"] for plan in read_client.get("/api/v1/plans").json()["data"]]

    assert "enterprise" not in codes and codes[:3] == ["free", "starter", "pro"]


def test_plans_need_the_read_scope(tenant_alpha):
    billing_only = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["billing"]))

    response = billing_only.get("/api/v1/plans")

    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"


def test_plan_comparison_prices_every_self_serve_plan_on_the_tenants_usage(read_client):
    body = read_client.get("/api/v1/plans/compare").json()

    costs = {cost["plan"]: cost for cost in body["plans"]}
    assert body["currency"] == "USD"
    assert costs["pro"]["current_period"] == usd("99.00") and costs["starter"]["last_period"] == usd("19.00")


# --- Subscription: read and start -------------------------------------------------------------------------------

def test_without_a_subscription_the_answer_is_null_not_an_error(read_client):
    response = read_client.get("/api/v1/subscription")

    assert response.status_code == 200 and response.json() == {"subscription": None}


def test_starting_on_a_price_with_trial_days_starts_a_trial(client):
    response = post(client, "/api/v1/subscription", {"price": "starter-month-usd", "quantity": 2})

    subscription = response.json()["subscription"]
    assert response.status_code == 201
    assert (subscription["status"], subscription["plan"], subscription["quantity"]) == ("trialing", "starter", 2)
    assert subscription["trial_end"] == (NOW + timedelta(days=14)).isoformat().replace("+00:00", "Z")


def test_starting_without_a_trial_issues_the_first_periods_invoice(client):
    post(client, "/api/v1/subscription", {"price": "agency-month-usd"})

    invoices = client.get("/api/v1/invoices").json()["data"]
    assert [(invoice["billing_reason"], invoice["total"]) for invoice in invoices] == [
        ("subscription_create", usd("199.00"))]


def test_a_money_moving_post_without_an_idempotency_key_is_refused_and_changes_nothing(client, tenant_alpha):
    response = post(client, "/api/v1/subscription", {"price": "starter-month-usd"}, key=None)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"] == {"Idempotency-Key": ["This header is required."]}
    assert not Subscription.objects.filter(tenant=tenant_alpha).exists()


def test_a_retried_start_is_replayed_and_subscribes_once(client, tenant_alpha):
    first = post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="start-1")
    again = post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="start-1")

    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Subscription.objects.filter(tenant=tenant_alpha).count() == 1
    assert Invoice.objects.filter(tenant=tenant_alpha).count() == 1


def test_another_key_sending_the_same_idempotency_key_runs_on_its_own(client, tenant_alpha):
    other = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=READ_AND_BILLING, name="other"))
    post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="shared")

    response = post(other, "/api/v1/subscription", {"price": "agency-month-usd"}, key="shared")

    assert response.status_code == 409 and response.json()["error"]["code"] == "subscription_state_invalid"
    assert "Idempotent-Replayed" not in response.headers


def test_the_same_idempotency_key_with_another_body_changes_nothing(client, tenant_alpha):
    post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="once")

    response = post(client, "/api/v1/subscription", {"price": "pro-month-usd"}, key="once")

    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert Subscription.objects.get(tenant=tenant_alpha).price.code == "agency-month-usd"


def test_a_revoked_key_cannot_replay_its_change(tenant_alpha):
    secret = api_key_for(tenant_alpha, scopes=READ_AND_BILLING)
    client = api_client(tenant_alpha, secret)
    post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="start")
    api_key_revoke(api_key=ApiKey.objects.get(tenant=tenant_alpha))

    response = post(client, "/api/v1/subscription", {"price": "agency-month-usd"}, key="start")

    assert response.status_code == 401


def test_a_read_key_cannot_change_the_subscription(read_client, tenant_alpha):
    response = post(read_client, "/api/v1/subscription", {"price": "starter-month-usd"})

    assert response.status_code == 403 and response.json()["error"]["details"]["required_scope"] == "billing"
    assert not Subscription.objects.filter(tenant=tenant_alpha).exists()


def test_starting_needs_a_price(client):
    response = post(client, "/api/v1/subscription", {"quantity": 2})

    assert response.status_code == 400 and response.json()["error"]["code"] == "price_unavailable"


def test_an_unknown_price_code_is_refused(client):
    response = post(client, "/api/v1/subscription", {"price": "platinum-month-usd"})

    assert response.status_code == 400 and response.json()["error"]["code"] == "price_unavailable"


def test_an_empty_change_is_refused(client):
    response = post(client, "/api/v1/subscription", {})

    assert response.status_code == 400 and "price" in response.json()["error"]["details"]["fields"]


def test_seats_are_bounded(client):
    response = post(client, "/api/v1/subscription", {"price": "pro-month-usd", "quantity": 2**31})

    assert response.status_code == 400 and "quantity" in response.json()["error"]["details"]["fields"]


# --- Subscription: change and preview ---------------------------------------------------------------------------

def test_an_upgrade_applies_now(client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    response = post(client, "/api/v1/subscription", {"price": "business-month-usd"})

    assert response.status_code == 200 and response.json()["subscription"]["plan"] == "business"


def test_a_downgrade_is_scheduled_for_the_period_end(client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    subscription = post(client, "/api/v1/subscription", {"price": "starter-month-usd"}).json()["subscription"]

    assert (subscription["plan"], subscription["scheduled_price"]) == ("pro", "starter-month-usd")


def test_a_refused_promotion_code_undoes_the_change_sent_with_it(client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    response = post(client, "/api/v1/subscription", {"price": "business-month-usd", "promotion_code": "NOPE"})

    assert response.status_code == 400 and response.json()["error"]["code"] == "coupon_invalid"
    assert Subscription.objects.get(tenant=tenant_alpha).price.code == "pro-month-usd"


def test_the_preview_shows_the_prorations_rounded_as_the_invoice_will_round_them(read_client, tenant_alpha,
                                                                                 frozen_now):
    active_subscription(tenant_alpha, "pro-month-usd")
    frozen_now.move_to(NOW + timedelta(days=15))  # half of the 30-day period left

    response = post(read_client, "/api/v1/subscription/preview", {"price": "business-month-usd"}, key=None)

    preview = response.json()
    assert (preview["kind"], preview["effective"]) == ("upgrade", "now")
    assert [line["amount"] for line in preview["lines"]] == [usd("-49.50"), usd("150.00")]
    assert preview["total"] == usd("100.50")


def test_the_preview_changes_nothing(read_client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    post(read_client, "/api/v1/subscription/preview", {"price": "business-month-usd"}, key=None)

    assert Subscription.objects.get(tenant=tenant_alpha).price.code == "pro-month-usd"


def test_the_preview_refuses_a_price_in_another_currency(read_client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    response = post(read_client, "/api/v1/subscription/preview", {"price": "pro-month-eur"}, key=None)

    assert response.status_code == 400 and response.json()["error"]["code"] == "price_unavailable"


def test_the_preview_without_a_subscription_says_there_is_none(read_client):
    response = post(read_client, "/api/v1/subscription/preview", {"quantity": 3}, key=None)

    assert response.status_code == 409 and response.json()["error"]["code"] == "no_subscription"


# --- Cancel and reactivate ------------------------------------------------------------------------------------

def test_cancel_is_at_the_period_end_by_default(client, tenant_alpha):
    active_subscription(tenant_alpha)

    subscription = post(client, "/api/v1/subscription/cancel").json()["subscription"]

    assert (subscription["status"], subscription["cancel_at_period_end"]) == ("active", True)


def test_cancel_now_ends_the_subscription(client, tenant_alpha):
    active_subscription(tenant_alpha)

    subscription = post(client, "/api/v1/subscription/cancel", {"at_period_end": False}).json()["subscription"]

    assert subscription["status"] == "canceled"
    assert client.get("/api/v1/subscription").json() == {"subscription": None}


def test_a_tenant_cannot_ask_for_credit_for_unused_time_when_canceling_now(client, tenant_alpha):
    active_subscription(tenant_alpha)  # its start invoice is open: nothing was paid yet

    response = post(client, "/api/v1/subscription/cancel", {"at_period_end": False, "prorate_credit": True})

    assert response.status_code == 400 and "prorate_credit" in response.json()["error"]["details"]["fields"]
    assert Subscription.objects.get(tenant=tenant_alpha).status == "active"


def test_reactivate_undoes_a_cancellation_at_period_end(client, tenant_alpha):
    active_subscription(tenant_alpha)
    post(client, "/api/v1/subscription/cancel", key="cancel")

    subscription = post(client, "/api/v1/subscription/reactivate", key="reactivate").json()["subscription"]

    assert subscription["cancel_at_period_end"] is False


def test_reactivating_what_was_not_canceled_is_a_conflict(client, tenant_alpha):
    active_subscription(tenant_alpha)

    response = post(client, "/api/v1/subscription/reactivate")

    assert response.status_code == 409 and response.json()["error"]["code"] == "subscription_state_invalid"


def test_canceling_without_a_subscription_says_there_is_none(client):
    response = post(client, "/api/v1/subscription/cancel")

    assert response.status_code == 409 and response.json()["error"]["code"] == "no_subscription"


# --- Invoices ---------------------------------------------------------------------------------------------------

def test_invoices_list_finalised_invoices_newest_first_with_money_totals(read_client, tenant_alpha):
    older = issued_invoice(tenant_alpha, "10.00")
    newer = issued_invoice(tenant_alpha, "20.50", now=NOW + timedelta(days=1))
    manual_invoice(tenant_alpha, "30.00")  # a draft

    invoices = read_client.get("/api/v1/invoices").json()["data"]

    assert [(invoice["number"], invoice["total"]) for invoice in invoices] == [
        (newer.number, usd("20.50")), (older.number, usd("10.00"))]


def test_invoices_are_paginated_by_cursor(read_client, tenant_alpha):
    numbers = [issued_invoice(tenant_alpha, now=NOW + timedelta(days=day)).number for day in range(3)]

    first = read_client.get("/api/v1/invoices", {"limit": 2}).json()
    second = read_client.get("/api/v1/invoices", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [invoice["number"] for invoice in first["data"] + second["data"]] == numbers[::-1]
    assert (first["has_more"], second["has_more"]) == (True, False)


def test_an_invoice_shows_its_lines_tax_and_credit_notes(read_client, tenant_alpha):
    invoice = issued_invoice(tenant_alpha, "99.00")
    note = credit_note_issue(invoice=invoice, amount=Money(Decimal("9.99"), "USD"), reason="correction", memo="",
                             actor=OPS, now=NOW)

    body = read_client.get(f"/api/v1/invoices/{invoice.number}").json()

    assert [(line["description"], line["amount"]) for line in body["lines"]] == [("Consulting", usd("99.00"))]
    assert body["amount_due"] == usd("99.00") and body["amount_credited"] == usd("9.99")
    assert body["credit_notes"][0]["number"] == note.number
    assert body["tax"]["percentage"] is None


def test_a_usage_line_explains_itself_part_by_part_in_money(read_client, tenant_alpha):
    invoice = manual_invoice(tenant_alpha)
    InvoiceLine.objects.create(
        invoice=invoice, kind=InvoiceLine.Kind.USAGE, description="API calls", quantity=Decimal("1500"),
        meter_code="api_calls", amount_exact=Decimal("14.5"), amount=Decimal("14.50"),
        breakdown=[{"kind": "tier", "tier": 2, "units": "500", "from_value": "1000", "unit_amount": "0.005",
                    "flat_amount": "2", "amount": "4.5"}])
    invoice = invoice_finalize(invoice=invoice, now=NOW)

    line = read_client.get(f"/api/v1/invoices/{invoice.number}").json()["lines"][1]

    assert (line["meter"], line["quantity"]) == ("api_calls", "1500")
    assert line["breakdown"][0] == {
        "kind": "tier", "tier": 2, "units": "500", "from_value": "1000", "to_value": None, "rate": None,
        "unit_amount": usd("0.005"), "flat_amount": usd("2"), "amount": usd("4.5"), "package_size": None,
        "events": None}


def test_an_unknown_invoice_number_is_not_found(read_client):
    response = read_client.get("/api/v1/invoices/TG-2026-999999")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("number", ["TG-2026-000001%00", "..%2F..", "a" * 31, "%E2%82%AC"])
def test_a_number_no_invoice_can_have_is_not_found(read_client, number):
    response = read_client.get(f"/api/v1/invoices/{number}")

    assert response.status_code == 404


def test_an_invoice_pdf_is_a_pdf(read_client, tenant_alpha):
    invoice = issued_invoice(tenant_alpha)

    response = read_client.get(f"/api/v1/invoices/{invoice.number}.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'


def test_a_missing_pdf_answers_the_json_error_even_to_a_client_asking_for_pdf(read_client):
    response = read_client.get("/api/v1/invoices/TG-2026-999999.pdf", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_upcoming_invoice_is_null_without_a_subscription(read_client):
    assert read_client.get("/api/v1/invoices/upcoming").json() == {"invoice": None}


def test_the_upcoming_invoice_bills_the_next_period_in_advance(read_client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")

    invoice = read_client.get("/api/v1/invoices/upcoming").json()["invoice"]

    assert invoice["total"] == usd("99.00")
    assert invoice["period_end"] == (NOW + timedelta(days=30)).isoformat().replace("+00:00", "Z")


def test_the_upcoming_invoice_is_due_net_of_the_account_credit(read_client, tenant_alpha):
    active_subscription(tenant_alpha, "pro-month-usd")
    account_credit_add(tenant=tenant_alpha, amount=Money(Decimal("30.00"), "USD"),
                       kind=AccountCreditEntry.Kind.PROMOTION, description="Referral reward", actor=OPS, now=NOW)

    invoice = read_client.get("/api/v1/invoices/upcoming").json()["invoice"]

    assert (invoice["total"], invoice["credit_applied"], invoice["amount_due"]) == (
        usd("99.00"), usd("30.00"), usd("69.00"))


# --- Credit -----------------------------------------------------------------------------------------------------

def test_credit_notes_list_the_tenants_credit_notes(read_client, tenant_alpha):
    invoice = issued_invoice(tenant_alpha)
    credit_note_issue(invoice=invoice, amount=Money(Decimal("5.00"), "USD"), reason="duplicate", memo="",
                      actor=OPS, now=NOW)

    notes = read_client.get("/api/v1/credit-notes").json()["data"]

    assert [(note["invoice"], note["amount"], note["reason"]) for note in notes] == [
        (invoice.number, usd("5.00"), "duplicate")]


def test_the_credit_balance_shows_each_currency_the_tenant_has(read_client, tenant_alpha):
    credit_note_issue(invoice=issued_invoice(tenant_alpha), amount=Money(Decimal("5.00"), "USD"),
                      reason="duplicate", memo="", actor=OPS, now=NOW)

    assert read_client.get("/api/v1/credit-balance").json() == {"balances": [usd("5.00")]}


def test_the_credit_balance_without_credit_is_empty(read_client):
    assert read_client.get("/api/v1/credit-balance").json() == {"balances": []}


# --- Roles (signed-in staff) ------------------------------------------------------------------------------------

def test_a_member_cannot_see_invoices(tenant_alpha):
    response = staff_client(tenant_alpha, Role.MEMBER).get("/api/v1/invoices")

    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_a_member_can_read_the_plans(tenant_alpha):
    assert staff_client(tenant_alpha, Role.MEMBER).get("/api/v1/plans").status_code == 200


def test_an_admin_cannot_change_the_subscription(tenant_alpha):
    response = post(staff_client(tenant_alpha, Role.ADMIN), "/api/v1/subscription", {"price": "starter-month-usd"})

    assert response.status_code == 403
    assert not Subscription.objects.filter(tenant=tenant_alpha).exists()


def test_the_billing_role_can_start_a_subscription(tenant_alpha):
    billing = staff_client(tenant_alpha, Role.BILLING)  # the second member: two seats needed

    response = post(billing, "/api/v1/subscription", {"price": "starter-month-usd", "quantity": 2})

    assert response.status_code == 201
    assert Subscription.objects.get(tenant=tenant_alpha).events.get().actor == "billing@alpha.test"


def test_a_keys_changes_are_recorded_under_its_prefix(client, tenant_alpha):
    post(client, "/api/v1/subscription", {"price": "starter-month-usd"})

    actor = Subscription.objects.get(tenant=tenant_alpha).events.get().actor
    assert actor.startswith("api-key:tg_")


# --- Schema -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/subscription", "/api/v1/subscription/cancel",
                                  "/api/v1/subscription/reactivate"])
def test_the_schema_requires_an_idempotency_key_on_money_moving_posts(read_client, path):
    schema = read_client.get("/api/schema/", {"format": "json"}).json()

    header = next(p for p in schema["paths"][path]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert header["required"] is True


def test_the_schema_lists_the_prices_a_tenant_may_choose(read_client):
    schema = read_client.get("/api/schema/", {"format": "json"}).json()

    declared = schema["components"]["schemas"]["SubscriptionChangeRequest"]["properties"]["price"]
    enum_name = declared["allOf"][0]["$ref"].rsplit("/", 1)[-1]  # the enum hook makes it a component
    codes = schema["components"]["schemas"][enum_name]["enum"]
    assert "pro-month-usd" in codes and "free-month-usd" not in codes
