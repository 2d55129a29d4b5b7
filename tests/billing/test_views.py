"""The Billing page and the invoice pages on a tenant's host, under the frozen clock (NOW = 2026-11-20 12:00 UTC):
what each role sees, every change made through its form (and refused to roles that may not make it, however the
POST is crafted), and the invoice page, its PDF and the usage behind a usage line."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from billing.invoicing.credit import account_credit_add
from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue
from billing.models import (
    AccountCreditEntry,
    BillingProfile,
    Coupon,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    Plan,
    Price,
    Product,
    PromotionCode,
    ServiceQuote,
    Subscription,
)
from billing.quotes.services import service_quote_request, service_quote_send
from billing.subscriptions.services import subscription_start
from config.money import Money
from tests.support.clock import NOW
from tests.support.staff import staff_client
from tests.support.usage import api_calls

pytestmark = pytest.mark.django_db

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
ACTOR = "owner@alpha.test"
OPS = "ops@tollgate.test"


def price(code: str) -> Price:
    return Price.objects.select_related("plan").get(code=code)


def current(tenant) -> Subscription | None:
    return Subscription.objects.filter(tenant=tenant, status__in=["trialing", "active", "past_due", "paused"]).first()


@pytest.fixture
def pro(tenant_alpha, frozen_now) -> Subscription:
    """Alpha on Pro monthly since November 1, paid (its start invoice issued), one seat."""
    return subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOV_1,
                              trial=False)


@pytest.fixture
def billed(pro, tenant_alpha, frozen_now) -> Invoice:
    """Alpha's November closed by the billing run on December 1: a cycle invoice with 3 API calls of usage."""
    api_calls(tenant_alpha, 3)
    frozen_now.move_to(DEC_1 + timedelta(hours=1))
    billing_run(now=DEC_1 + timedelta(hours=1))
    return Invoice.objects.get(tenant=tenant_alpha, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)


def usage_line(invoice: Invoice) -> InvoiceLine:
    return invoice.lines.get(kind=InvoiceLine.Kind.USAGE, meter_code="api_calls")


@pytest.fixture
def owner(tenant_alpha):
    return staff_client(tenant_alpha, Role.OWNER)


@pytest.fixture
def audit() -> Product:
    return Product.objects.get(code="website-audit")  # seeded: 299–799 USD


@pytest.fixture
def quoted(tenant_alpha, audit, frozen_now) -> ServiceQuote:
    quote = service_quote_request(tenant=tenant_alpha, product=audit, brief="Audit our checkout", actor=ACTOR,
                                  now=NOW)
    return service_quote_send(quote=quote, amount=Money(Decimal("450.00"), "USD"), note="Two weeks.",
                              valid_until=NOW + timedelta(days=30), actor=OPS, now=NOW)


# --- What each role sees -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.OWNER, Role.BILLING])
def test_owners_and_billing_members_see_invoices_credit_and_details(tenant_alpha, pro, role):
    response = staff_client(tenant_alpha, role).get("/billing/")

    assert response.status_code == 200
    for section in [b'id="billing-invoices"', b'id="billing-credit"', b'id="billing-details"',
                    b'id="billing-upcoming"', b'id="billing-services"', b'id="billing-change"']:
        assert section in response.content, section


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_admins_and_members_see_the_plan_and_its_limits_only(tenant_alpha, pro, role):
    response = staff_client(tenant_alpha, role).get("/billing/")

    assert response.status_code == 200
    assert b'data-testid="plan-name">Pro<' in response.content
    assert b'id="billing-limits"' in response.content
    for hidden in [b'id="billing-invoices"', b'id="billing-credit"', b'id="billing-details"',
                   b'id="billing-change"', pro.invoices.get().number.encode(), b'action="/billing/']:
        assert hidden not in response.content, hidden


def test_the_page_shows_price_period_and_status(owner, pro):
    response = owner.get("/billing/")

    assert b"99.00 USD monthly" in response.content
    assert b"Current period from 1 Nov 2026; renews on 1 Dec 2026" in response.content
    assert b"billing-status-active" in response.content


def test_without_a_subscription_the_page_offers_the_plans_to_choose(owner, frozen_now):
    response = owner.get("/billing/")

    assert b'id="billing-start"' in response.content
    assert b'value="pro-month-usd"' in response.content
    assert b'value="free-month-usd"' not in response.content


def test_the_limits_show_the_plans_quota_for_each_meter(owner, pro, tenant_alpha):
    api_calls(tenant_alpha, 5)

    response = owner.get("/billing/")

    row = response.content.split(b'data-meter="api_calls"')[1].split(b"</tr>")[0]
    assert b"5 " in row and b"100,000" in row


def test_the_upcoming_invoice_is_shown(owner, pro):
    response = owner.get("/billing/")

    upcoming = response.content.split(b'id="billing-upcoming"')[1].split(b"</section>")[0]
    assert b"99.00 USD" in upcoming  # December's fee in advance


def test_the_upcoming_invoice_shows_what_is_due_after_the_account_credit(owner, pro):
    account_credit_add(tenant=pro.tenant, amount=Money(Decimal("30.00"), "USD"),
                       kind=AccountCreditEntry.Kind.PROMOTION, description="Referral reward", actor="ops", now=NOW)

    response = owner.get("/billing/")

    upcoming = response.content.split(b'id="billing-upcoming"')[1].split(b"</section>")[0]
    assert b"69.00 USD" in upcoming and b"less 30.00 USD of account credit" in upcoming


def test_the_plan_comparison_lists_each_self_serve_plan(owner, pro):
    response = owner.get("/billing/")

    compare = response.content.split(b'id="billing-compare"')[1].split(b"</section>")[0]
    assert b"Starter" in compare and b"Business" in compare and b"Yours" in compare


def test_invoices_list_links_to_their_page_and_pdf(owner, pro):
    number = pro.invoices.get().number

    response = owner.get("/billing/")

    assert f'href="/billing/invoices/{number}/"'.encode() in response.content
    assert f'href="/billing/invoices/{number}.pdf"'.encode() in response.content


def test_credit_notes_and_the_account_credit_are_shown(owner, pro):
    invoice = pro.invoices.get()
    note = credit_note_issue(invoice=invoice, amount=Money(Decimal("10.00"), "USD"), reason="correction", memo="",
                             actor=OPS, now=NOW)

    response = owner.get("/billing/")

    assert note.number.encode() in response.content
    credit = response.content.split(b'id="billing-credit"')[1].split(b"</section>")[0]
    assert b"10.00 USD" in credit


def test_a_trial_shows_when_it_ends_and_what_follows(owner, tenant_alpha, frozen_now):
    subscription_start(tenant=tenant_alpha, price=price("pro-month-usd"), actor=ACTOR, now=NOW)

    response = owner.get("/billing/")

    trial = response.content.split(b'id="billing-trial"')[1].split(b"</p>")[0]
    assert b"Trial until <strong>4 Dec 2026</strong>; then 99.00 USD monthly" in trial


def test_a_refused_form_says_so_at_the_top_of_the_page(owner, pro):
    response = owner.post("/billing/promotion-code/", {"promotion_code": "NOPE"})

    messages = response.content.split(b'class="messages"')[1].split(b"</ul>")[0]
    assert b"Nothing was changed: correct the highlighted field below." in messages


# --- Starting a subscription ---------------------------------------------------------------------------------

def test_choosing_a_plan_with_trial_days_starts_a_trial(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/subscription/start/", {"price": "pro-month-usd", "quantity": 1})

    assert response.status_code == 302
    subscription = current(tenant_alpha)
    assert (subscription.status, subscription.trial_end) == ("trialing", NOW + timedelta(days=14))
    assert not Invoice.objects.filter(tenant=tenant_alpha).exists()


def test_choosing_a_plan_without_trial_days_invoices_the_first_period(owner, tenant_alpha, frozen_now):
    owner.post("/billing/subscription/start/", {"price": "agency-month-usd", "quantity": 1})

    assert current(tenant_alpha).status == "active"
    assert Invoice.objects.get(tenant=tenant_alpha).total == Decimal("199.00")


def test_an_unknown_promotion_code_at_start_is_a_form_error_and_nothing_starts(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/subscription/start/",
                          {"price": "pro-month-usd", "quantity": 1, "promotion_code": "NOPE"})

    assert response.status_code == 400
    assert b"This promotion code does not exist." in response.content
    assert current(tenant_alpha) is None


def test_a_plan_sold_through_sales_cannot_be_chosen_by_a_crafted_post(owner, tenant_alpha, frozen_now):
    enterprise = Price.objects.create(plan=Plan.objects.get(code="enterprise"), code="enterprise-month-usd",
                                      fixed_amount=Decimal("1999.00"))

    response = owner.post("/billing/subscription/start/", {"price": enterprise.code, "quantity": 1})

    assert response.status_code == 400
    assert current(tenant_alpha) is None


# --- Changing plan or seats ----------------------------------------------------------------------------------

def test_the_preview_shows_the_prorations_and_changes_nothing(owner, pro, tenant_alpha):
    response = owner.get("/billing/subscription/change/", {"price": "business-month-usd", "quantity": 1})

    assert response.status_code == 200
    # 10.5 of November's 30 days are left: -34.65 for Pro, +105.00 (299.99 × 0.35, rounded) for Business.
    assert b"-34.65 USD" in response.content
    assert b"105.00 USD" in response.content
    assert b'id="change-total"><strong>70.35 USD' in response.content
    assert current(tenant_alpha).price.code == "pro-month-usd"


def test_confirming_an_upgrade_changes_the_plan_now(owner, pro, tenant_alpha):
    response = owner.post("/billing/subscription/change/", {"price": "business-month-usd", "quantity": 1})

    assert response.status_code == 302
    assert current(tenant_alpha).price.code == "business-month-usd"


def test_a_downgrade_is_shown_as_scheduled_for_the_period_end(owner, pro, tenant_alpha):
    preview = owner.get("/billing/subscription/change/", {"price": "starter-month-usd", "quantity": 1})
    owner.post("/billing/subscription/change/", {"price": "starter-month-usd", "quantity": 1})

    assert b"On 1 Dec 2026, at the end of the current period" in preview.content
    page = owner.get("/billing/")
    assert b'id="billing-scheduled-change"' in page.content
    assert current(tenant_alpha).scheduled_price.code == "starter-month-usd"


def test_more_seats_are_previewed_and_applied(owner, pro, tenant_alpha):
    preview = owner.get("/billing/subscription/change/", {"price": "pro-month-usd", "quantity": 7})
    owner.post("/billing/subscription/change/", {"price": "pro-month-usd", "quantity": 7})

    assert b"2 extra seat(s)" in preview.content
    assert current(tenant_alpha).quantity == 7


def test_a_price_in_another_currency_is_a_form_error(owner, pro, tenant_alpha):
    response = owner.post("/billing/subscription/change/", {"price": "pro-month-eur", "quantity": 1})

    assert response.status_code == 400
    assert current(tenant_alpha).price.code == "pro-month-usd"


def test_a_change_to_what_the_subscription_already_is_is_refused_on_the_page(owner, pro):
    response = owner.get("/billing/subscription/change/", {"price": "pro-month-usd", "quantity": 1})

    assert response.status_code == 400
    assert b"already on this price with this many seats" in response.content


def test_changing_without_a_subscription_says_so(owner, frozen_now):
    response = owner.post("/billing/subscription/change/", {"price": "pro-month-usd", "quantity": 1}, follow=True)

    assert b"There is no subscription to change" in response.content


# --- Cancel and reactivate -----------------------------------------------------------------------------------

def test_cancel_ends_the_subscription_at_the_period_end(owner, pro, tenant_alpha):
    owner.post("/billing/subscription/cancel/")

    assert current(tenant_alpha).cancel_at_period_end
    assert b'id="billing-cancel-scheduled"' in owner.get("/billing/").content


def test_reactivate_undoes_the_cancellation(owner, pro, tenant_alpha):
    owner.post("/billing/subscription/cancel/")

    owner.post("/billing/subscription/reactivate/")

    assert not current(tenant_alpha).cancel_at_period_end


def test_reactivating_what_is_not_canceled_is_a_message_not_an_error(owner, pro):
    response = owner.post("/billing/subscription/reactivate/", follow=True)

    assert response.status_code == 200
    assert b"Only a subscription canceled at its period end can be reactivated" in response.content


def test_a_paused_subscription_is_canceled_now(owner, pro, tenant_alpha):
    Subscription.objects.filter(pk=pro.pk).update(status="paused", paused_at=NOW)
    assert b'name="when" value="now"' in owner.get("/billing/").content

    owner.post("/billing/subscription/cancel/", {"when": "now"})

    pro.refresh_from_db()
    assert (pro.status, pro.ended_at) == ("canceled", NOW)


def test_a_billing_member_changes_the_plan(tenant_alpha, pro):
    staff_client(tenant_alpha, Role.BILLING).post("/billing/subscription/change/",
                                                   {"price": "business-month-usd", "quantity": 2})

    assert current(tenant_alpha).price.code == "business-month-usd"


def test_a_change_the_plan_cannot_hold_says_what_must_change_first(tenant_alpha, pro):
    client = staff_client(tenant_alpha, Role.BILLING)  # a second member: one seat no longer holds the team

    response = client.post("/billing/subscription/change/", {"price": "business-month-usd", "quantity": 1})

    assert response.status_code == 400
    assert b"Remove 1 team member(s): 1 seat(s) allowed, 2 in use." in response.content
    assert current(tenant_alpha).price.code == "pro-month-usd"


def test_the_preview_lists_what_must_change_first_and_cannot_be_confirmed(tenant_alpha, pro):
    client = staff_client(tenant_alpha, Role.BILLING)

    response = client.get("/billing/subscription/change/", {"price": "business-month-usd", "quantity": 1})

    assert b'id="change-blockers"' in response.content
    assert b'class="button button-primary" disabled>Confirm the change' in response.content


# --- Promotion codes -----------------------------------------------------------------------------------------

def test_a_promotion_code_applies_its_coupon(owner, pro):
    coupon = Coupon.objects.create(code="launch", name="Launch 20% off", percent_off=Decimal("20"))
    PromotionCode.objects.create(code="LAUNCH20", coupon=coupon)

    response = owner.post("/billing/promotion-code/", {"promotion_code": "launch20"})

    assert response.status_code == 302
    assert CouponRedemption.objects.get(subscription=pro).coupon == coupon


def test_an_unknown_promotion_code_is_a_form_error(owner, pro):
    response = owner.post("/billing/promotion-code/", {"promotion_code": "NOPE"})

    assert response.status_code == 400
    assert b"This promotion code does not exist." in response.content


# --- Billing details -----------------------------------------------------------------------------------------

DETAILS = {"legal_name": "Alpha Co GmbH", "email": "invoices@alpha.test", "address_line1": "Hauptstr. 1",
           "address_line2": "", "city": "Berlin", "postal_code": "10115", "region": "", "country": "de",
           "tax_id": "DE 136 695 976"}


def test_billing_details_are_saved(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/details/", DETAILS)

    assert response.status_code == 302
    profile = BillingProfile.objects.get(tenant=tenant_alpha)
    assert (profile.legal_name, profile.country, profile.tax_id) == ("Alpha Co GmbH", "DE", "DE136695976")


def test_an_invalid_eu_vat_number_is_a_form_error(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/details/", DETAILS | {"tax_id": "DE136695977"})

    assert response.status_code == 400
    assert b"This is not a valid VAT number for DE" in response.content
    assert not BillingProfile.objects.filter(tenant=tenant_alpha).exists()


def test_a_tax_id_outside_the_eu_is_not_checked(owner, tenant_alpha, frozen_now):
    owner.post("/billing/details/", DETAILS | {"country": "US", "tax_id": "12-3456789"})

    assert BillingProfile.objects.get(tenant=tenant_alpha).tax_id == "12-3456789"


def test_a_country_that_is_not_two_letters_is_a_form_error(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/details/", DETAILS | {"country": "D1", "tax_id": ""})

    assert response.status_code == 400
    assert b"two-letter country code" in response.content


def test_saving_details_keeps_what_only_ops_decide(owner, tenant_alpha, frozen_now):
    BillingProfile.objects.create(tenant=tenant_alpha, tax_exempt=True, net_terms_days=30)

    owner.post("/billing/details/", DETAILS | {"tax_exempt": "", "net_terms_days": "0"})

    profile = BillingProfile.objects.get(tenant=tenant_alpha)
    assert (profile.tax_exempt, profile.net_terms_days) == (True, 30)


# --- Productized services ------------------------------------------------------------------------------------

def test_requesting_a_service_records_the_request(owner, tenant_alpha, audit, frozen_now):
    response = owner.post("/billing/services/", {"product": "website-audit", "brief": "Our checkout is slow."})

    assert response.status_code == 302
    quote = ServiceQuote.objects.get(tenant=tenant_alpha)
    assert (quote.product, quote.status, quote.requested_by) == (audit, "requested", ACTOR)


def test_a_request_without_a_brief_is_a_form_error(owner, tenant_alpha, frozen_now):
    response = owner.post("/billing/services/", {"product": "website-audit", "brief": "   "})

    assert response.status_code == 400
    assert not ServiceQuote.objects.filter(tenant=tenant_alpha).exists()


def test_a_quote_is_shown_with_its_price_and_answers(owner, quoted):
    response = owner.get("/billing/")

    assert b"450.00 USD" in response.content
    assert f'action="/billing/services/{quoted.pk}/accept/"'.encode() in response.content


def test_accepting_a_quote_issues_its_invoice(owner, quoted):
    owner.post(f"/billing/services/{quoted.pk}/accept/")

    quoted.refresh_from_db()
    assert quoted.status == "accepted"
    assert quoted.invoice.total == Decimal("450.00")


def test_declining_a_quote(owner, quoted):
    owner.post(f"/billing/services/{quoted.pk}/decline/")

    quoted.refresh_from_db()
    assert quoted.status == "declined"


def test_accepting_twice_is_a_message_and_one_invoice(owner, quoted, tenant_alpha):
    owner.post(f"/billing/services/{quoted.pk}/accept/")

    response = owner.post(f"/billing/services/{quoted.pk}/accept/", follow=True)

    assert b"cannot be accepted" in response.content
    assert Invoice.objects.filter(tenant=tenant_alpha, billing_reason="one_time").count() == 1


def test_an_unknown_answer_to_a_quote_is_not_found(owner, quoted):
    assert owner.post(f"/billing/services/{quoted.pk}/approve/").status_code == 404


# --- Roles: a crafted POST is refused like a hidden button ---------------------------------------------------

CHANGES = [
    ("/billing/subscription/start/", {"price": "pro-month-usd", "quantity": 1}),
    ("/billing/subscription/change/", {"price": "business-month-usd", "quantity": 1}),
    ("/billing/subscription/cancel/", {}),
    ("/billing/subscription/reactivate/", {}),
    ("/billing/promotion-code/", {"promotion_code": "LAUNCH20"}),
    ("/billing/details/", DETAILS),
    ("/billing/services/", {"product": "website-audit", "brief": "Free work please"}),
]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
@pytest.mark.parametrize("path, data", CHANGES)
def test_a_role_without_manage_billing_cannot_change_billing_by_a_crafted_post(tenant_alpha, pro, role, path, data):
    response = staff_client(tenant_alpha, role).post(path, data)

    assert response.status_code == 403
    subscription = current(tenant_alpha)
    assert (subscription.price.code, subscription.cancel_at_period_end) == ("pro-month-usd", False)
    assert not BillingProfile.objects.filter(tenant=tenant_alpha).exists()
    assert not ServiceQuote.objects.filter(tenant=tenant_alpha).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_a_member_cannot_preview_a_change(tenant_alpha, pro, role):
    response = staff_client(tenant_alpha, role).get("/billing/subscription/change/",
                                                    {"price": "business-month-usd", "quantity": 1})

    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_a_member_cannot_accept_a_quote(tenant_alpha, quoted, role):
    response = staff_client(tenant_alpha, role).post(f"/billing/services/{quoted.pk}/accept/")

    quoted.refresh_from_db()
    assert (response.status_code, quoted.status) == (403, "quoted")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_a_member_cannot_open_an_invoice_its_pdf_or_its_usage(tenant_alpha, billed, role):
    client = staff_client(tenant_alpha, role)
    number, line = billed.number, usage_line(billed)

    for path in [f"/billing/invoices/{number}/", f"/billing/invoices/{number}.pdf",
                 f"/billing/invoices/{number}/lines/{line.pk}/usage/"]:
        assert client.get(path).status_code == 403, path


def test_the_billing_pages_need_a_login(alpha_client):
    response = alpha_client.get("/billing/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The invoice page, its PDF and the usage behind a line ---------------------------------------------------

def test_the_invoice_page_shows_its_lines_and_totals(owner, billed):
    response = owner.get(f"/billing/invoices/{billed.number}/")

    assert response.status_code == 200
    assert billed.number.encode() in response.content
    assert b"API calls: 3 calls" in response.content
    assert f'id="invoice-total">{billed.total:.2f} USD'.encode() in response.content


def test_a_usage_line_links_to_its_usage(owner, billed):
    line = usage_line(billed)

    response = owner.get(f"/billing/invoices/{billed.number}/")

    assert f"/billing/invoices/{billed.number}/lines/{line.pk}/usage/".encode() in response.content


def test_the_pdf_is_an_attachment_named_after_the_invoice(owner, billed):
    response = owner.get(f"/billing/invoices/{billed.number}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{billed.number}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_an_unknown_number_is_not_found(owner, billed):
    assert owner.get("/billing/invoices/TG-2026-999999/").status_code == 404
    assert owner.get("/billing/invoices/TG-2026-999999.pdf").status_code == 404


def test_the_days_of_a_usage_line_add_up_to_its_quantity(owner, billed):
    line = usage_line(billed)

    response = owner.get(f"/billing/invoices/{billed.number}/lines/{line.pk}/usage/")

    assert response.status_code == 200
    assert line.quantity == 3
    assert b'id="line-usage-total"><strong>3<' in response.content
    assert response.content.count(b"<time ") == 30  # every day of November


def test_the_usage_of_a_line_exports_as_csv(owner, billed):
    line = usage_line(billed)

    response = owner.get(f"/billing/invoices/{billed.number}/lines/{line.pk}/usage/", {"format": "csv"})

    rows = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == "date,calls"
    assert len(rows) == 31
    assert sum(Decimal(row.split(",")[1]) for row in rows[1:]) == line.quantity
    assert "2026-11-20,3" in rows


def test_a_line_without_usage_has_no_usage_page(owner, billed):
    fixed = billed.lines.get(kind=InvoiceLine.Kind.FIXED)

    assert owner.get(f"/billing/invoices/{billed.number}/lines/{fixed.pk}/usage/").status_code == 404


def test_a_line_of_another_invoice_is_not_found_under_this_number(owner, billed, pro):
    start_invoice = pro.invoices.get(billing_reason=Invoice.Reason.SUBSCRIPTION_CREATE)

    path = f"/billing/invoices/{start_invoice.number}/lines/{usage_line(billed).pk}/usage/"

    assert owner.get(path).status_code == 404
