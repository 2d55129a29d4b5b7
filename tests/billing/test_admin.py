import json
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from billing.models import (
    BillingProfile, Coupon, Plan, PlanQuota, Price, Product, PromotionCode, Subscription, TaxRate, TenantPlan,
    UsageCharge,
)
from billing.selectors import entitlements_for
from billing.subscriptions.services import coupon_apply, subscription_start
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

PLANS = "/admin/billing/plan/"
ASSIGNMENTS = "/admin/billing/tenantplan/"
PLAN_FIELDS = ["name", "description", "is_public", "is_active", "sort_order", "api_requests_per_minute_per_key",
               "api_requests_per_minute_per_tenant", "concurrent_ai_requests", "monthly_ai_token_allowance", "seats",
               "custom_domains", "team", "sso", "white_label", "client_tenants"]


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(OpsUserFactory())
    return public_client


def plan_form(plan: Plan, **changes) -> dict:
    """The change form as the admin would post it back: every field, and the plan's quotas as inline rows."""
    values = model_to_dict(plan, fields=PLAN_FIELDS)
    form = {name: value for name, value in values.items() if value is not None and value is not False}
    form = {name: "on" if value is True else value for name, value in form.items()}
    quotas = list(plan.quotas.all()) if plan.pk else []
    form.update({"quotas-TOTAL_FORMS": len(quotas), "quotas-INITIAL_FORMS": len(quotas),
                 "quotas-MIN_NUM_FORMS": 0, "quotas-MAX_NUM_FORMS": 1000})
    # The prices are listed read-only: the page posts their (empty) management form back untouched.
    form.update({"prices-TOTAL_FORMS": 0, "prices-INITIAL_FORMS": 0, "prices-MIN_NUM_FORMS": 0,
                 "prices-MAX_NUM_FORMS": 1000})
    for index, quota in enumerate(quotas):
        form.update({f"quotas-{index}-id": quota.pk, f"quotas-{index}-plan": plan.pk,
                     f"quotas-{index}-meter_code": quota.meter_code,
                     f"quotas-{index}-monthly_limit": quota.monthly_limit,
                     f"quotas-{index}-behaviour": quota.behaviour})
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


# --- Plans ----------------------------------------------------------------------------------------

def test_plan_list_shows_limits_with_empty_ones_as_unlimited(admin_client):
    response = admin_client.get(PLANS)

    assert response.status_code == 200
    row = response.content.decode().split("enterprise", 1)[1].split("</tr>", 1)[0]
    assert "unlimited" in row and "50,000,000" not in row
    assert "team, SSO" in row


def test_plans_are_searchable_by_code_or_name(admin_client):
    response = admin_client.get(PLANS, {"q": "white"})

    assert b"White-Label" in response.content
    assert b"Starter" not in response.content


def test_plans_filter_by_public(admin_client):
    response = admin_client.get(PLANS, {"is_public__exact": "0"})

    assert b"Enterprise" in response.content
    assert b"Starter" not in response.content


def test_plan_change_page_shows_its_quotas_inline(admin_client):
    free = Plan.objects.get(code="free")

    response = admin_client.get(f"{PLANS}{free.pk}/change/")

    assert response.status_code == 200
    assert b'name="quotas-0-meter_code"' in response.content and b'value="api_calls"' in response.content


def test_a_plan_validation_error_is_shown_on_its_field(admin_client):
    starter = Plan.objects.get(code="starter")

    response = admin_client.post(f"{PLANS}{starter.pk}/change/", plan_form(starter, white_label="on"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["custom_domains"] == ["White-label needs at least one custom domain."]
    assert not Plan.objects.get(pk=starter.pk).white_label


def test_a_key_rate_above_the_tenant_rate_is_refused_on_the_key_rate_field(admin_client):
    starter = Plan.objects.get(code="starter")

    response = admin_client.post(f"{PLANS}{starter.pk}/change/", plan_form(
        starter, api_requests_per_minute_per_key=500, api_requests_per_minute_per_tenant=300))

    assert response.context["adminform"].form.errors["api_requests_per_minute_per_key"] == [
        "A key cannot be allowed more than its tenant."]


def test_a_plan_with_a_quota_is_added_from_the_admin(admin_client):
    form = plan_form(Plan(code="x", name="x"), code="team-plus", name="Team Plus", sort_order=80, **{
        "quotas-TOTAL_FORMS": 1, "quotas-0-meter_code": "api_calls", "quotas-0-monthly_limit": "2500",
        "quotas-0-behaviour": "soft"})

    response = admin_client.post(f"{PLANS}add/", form)

    assert response.status_code == 302
    quota = PlanQuota.objects.get(plan__code="team-plus")
    assert (quota.meter_code, quota.monthly_limit, quota.behaviour) == ("api_calls", 2500, "soft")


def test_a_plans_code_cannot_be_changed(admin_client):
    free = Plan.objects.get(code="free")

    response = admin_client.post(f"{PLANS}{free.pk}/change/", plan_form(free, code="gratis"))

    assert response.status_code == 302
    assert Plan.objects.filter(pk=free.pk, code="free").exists()


def test_plans_cannot_be_deleted(admin_client):
    free = Plan.objects.get(code="free")

    assert admin_client.get(f"{PLANS}{free.pk}/delete/").status_code == 403


def test_a_quota_edited_in_admin_applies_at_once_in_this_process(admin_client, tenant_alpha,
                                                                   django_capture_on_commit_callbacks):
    free = Plan.objects.get(code="free")
    assert entitlements_for(tenant=tenant_alpha).quota_for("api_calls").monthly_limit == 1000

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{PLANS}{free.pk}/change/", plan_form(free, **{"quotas-0-monthly_limit": "5000"}))

    assert entitlements_for(tenant=tenant_alpha).quota_for("api_calls").monthly_limit == 5000


# --- Plan assignments -----------------------------------------------------------------------------

def test_assigning_a_plan_in_admin_changes_entitlements_at_once(admin_client, tenant_alpha,
                                                                django_capture_on_commit_callbacks):
    assert entitlements_for(tenant=tenant_alpha).plan_code == "free"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{ASSIGNMENTS}add/", {
            "tenant": tenant_alpha.pk, "plan": Plan.objects.get(code="pro").pk})

    assert response.status_code == 302
    assert entitlements_for(tenant=tenant_alpha).plan_code == "pro"


def test_changing_an_assignment_in_admin_changes_entitlements_at_once(admin_client, tenant_alpha,
                                                                      django_capture_on_commit_callbacks):
    assignment = TenantPlan.objects.create(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))
    assert entitlements_for(tenant=tenant_alpha).plan_code == "pro"

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{ASSIGNMENTS}{assignment.pk}/change/", {"plan": Plan.objects.get(code="business").pk})

    assert TenantPlan.objects.get(tenant=tenant_alpha).plan.code == "business"
    assert entitlements_for(tenant=tenant_alpha).plan_code == "business"


def test_a_tenant_already_on_a_plan_cannot_get_a_second_assignment(admin_client, tenant_alpha):
    TenantPlan.objects.create(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    response = admin_client.post(f"{ASSIGNMENTS}add/", {
        "tenant": tenant_alpha.pk, "plan": Plan.objects.get(code="starter").pk})

    assert response.status_code == 200
    assert "tenant" in response.context["adminform"].form.errors
    assert TenantPlan.objects.get(tenant=tenant_alpha).plan.code == "pro"


def test_inactive_plans_are_not_offered_for_assignment(admin_client):
    Plan.objects.filter(code="starter").update(is_active=False)

    response = admin_client.get(f"{ASSIGNMENTS}add/")

    plans = [plan.code for plan in response.context["adminform"].form.fields["plan"].queryset]
    assert "starter" not in plans and "pro" in plans


def test_assignments_are_searchable_by_tenant_slug(admin_client, tenant_alpha, tenant_beta):
    pro = Plan.objects.get(code="pro")
    TenantPlan.objects.create(tenant=tenant_alpha, plan=pro)
    TenantPlan.objects.create(tenant=tenant_beta, plan=pro)

    response = admin_client.get(ASSIGNMENTS, {"q": "beta"})

    assert response.status_code == 200
    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_assignments_filter_by_plan(admin_client, tenant_alpha, tenant_beta):
    TenantPlan.objects.create(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))
    TenantPlan.objects.create(tenant=tenant_beta, plan=Plan.objects.get(code="starter"))

    response = admin_client.get(ASSIGNMENTS, {"plan__id__exact": Plan.objects.get(code="starter").pk})

    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_the_tenant_is_chosen_with_autocomplete(admin_client, tenant_alpha):
    page = admin_client.get(f"{ASSIGNMENTS}add/")
    search = admin_client.get("/admin/autocomplete/", {
        "term": "alph", "app_label": "billing", "model_name": "tenantplan", "field_name": "tenant"})

    assert b"admin-autocomplete" in page.content
    assert [result["text"] for result in search.json()["results"]] == ["Alpha Co (alpha)"]


# --- Prices and usage charges ---------------------------------------------------------------------

PRICES = "/admin/billing/price/"
PRICE_FIELDS = ["plan", "currency", "interval", "fixed_amount", "per_seat_amount", "included_seats", "trial_days"]
CHARGE_FIELDS = ["meter_code", "name", "unit_name", "charge_model", "divide_by", "included_units", "minimum_amount"]


def price_form(price: Price, *, charges: list[dict] | None = None, **changes) -> dict:
    """The price's change form as the admin would post it back, its usage charges as inline rows; `charges`
    replaces the rows (a dict per row: an existing charge's values with its id, or a new one's)."""
    form = {name: value for name, value in model_to_dict(price, fields=PRICE_FIELDS).items()}
    if price.is_active:
        form["is_active"] = "on"
    existing = charge_rows(price)
    rows = existing if charges is None else charges
    form.update({"usage_charges-TOTAL_FORMS": len(rows), "usage_charges-INITIAL_FORMS": len(existing),
                 "usage_charges-MIN_NUM_FORMS": 0, "usage_charges-MAX_NUM_FORMS": 1000})
    for index, row in enumerate(rows):
        form.update({f"usage_charges-{index}-{name}": value for name, value in row.items() if value is not None})
        form[f"usage_charges-{index}-price"] = price.pk
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


def charge_rows(price: Price) -> list[dict]:
    """The price's usage charges as the inline posts them back unchanged."""
    return [{**model_to_dict(charge, fields=["id", *CHARGE_FIELDS]), "properties": json.dumps(charge.properties)}
            for charge in price.usage_charges.all()]


def in_use(code: str, tenant) -> Price:
    """The price, now in use: the tenant starts a trial on it."""
    price = Price.objects.get(code=code)
    subscription_start(tenant=tenant, price=price, actor="owner@alpha.test", now=NOW)
    return price


def charge_row(**values) -> dict:
    row = {"meter_code": "compute_seconds", "name": "Compute", "unit_name": "hours", "charge_model": "standard",
           "properties": '{"unit_amount": "0.12"}', "divide_by": "3600", "included_units": "0",
           "minimum_amount": "0"}
    return {**row, **values}


def test_a_plan_lists_its_prices_read_only_with_a_link_to_each(admin_client):
    pro = Plan.objects.get(code="pro")
    monthly = Price.objects.get(code="pro-month-usd")

    response = admin_client.get(f"{PLANS}{pro.pk}/change/")

    assert b"pro-year-usd" in response.content and b"99.00 USD" in response.content
    assert f"{PRICES}{monthly.pk}/change/".encode() in response.content
    assert b'name="prices-0-fixed_amount"' not in response.content


def test_a_price_nobody_uses_can_be_edited(admin_client):
    starter = Price.objects.get(code="starter-month-usd")

    response = admin_client.post(f"{PRICES}{starter.pk}/change/", price_form(starter, fixed_amount="21.00"))

    assert response.status_code == 302
    assert Price.objects.get(pk=starter.pk).fixed_amount == Decimal("21.00")


def test_a_price_in_use_cannot_be_edited(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)

    response = admin_client.post(f"{PRICES}{pro.pk}/change/", price_form(pro, fixed_amount="1.00", trial_days=90))

    assert response.status_code == 302
    assert (Price.objects.get(pk=pro.pk).fixed_amount, Price.objects.get(pk=pro.pk).trial_days) == (
        Decimal("99.00"), 14)


def test_a_price_in_use_can_still_be_deactivated(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)

    admin_client.post(f"{PRICES}{pro.pk}/change/", price_form(pro, is_active=None))

    assert not Price.objects.get(pk=pro.pk).is_active


def test_a_price_in_use_says_why_its_terms_are_read_only(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)

    response = admin_client.get(f"{PRICES}{pro.pk}/change/")

    assert b'id="price-in-use"' in response.content
    assert b'name="fixed_amount"' not in response.content and b'name="is_active"' in response.content


def test_the_usage_charges_of_a_price_in_use_cannot_be_edited(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)
    rows = [{**model_to_dict(charge, fields=["id", *CHARGE_FIELDS]), "properties": '{"unit_amount": "9"}'}
            for charge in pro.usage_charges.all()]

    response = admin_client.post(f"{PRICES}{pro.pk}/change/", price_form(pro, charges=rows))

    assert response.status_code == 302
    assert UsageCharge.objects.get(price=pro, meter_code="compute_seconds").properties == {"unit_amount": "0.12"}


def test_a_usage_charge_cannot_be_added_to_a_price_in_use(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)
    admin_client.post(f"{PRICES}{pro.pk}/change/", price_form(
        pro, charges=[*charge_rows(pro), charge_row(meter_code="ai_tokens", name="Tokens")]))

    assert not pro.usage_charges.filter(meter_code="ai_tokens").exists()


def test_a_price_scheduled_for_a_downgrade_counts_as_in_use(admin_client, tenant_alpha):
    pro = in_use("pro-month-usd", tenant_alpha)
    starter = Price.objects.get(code="starter-month-usd")
    Subscription.objects.filter(price=pro).update(scheduled_price=starter)

    admin_client.post(f"{PRICES}{starter.pk}/change/", price_form(starter, fixed_amount="1.00"))

    assert Price.objects.get(pk=starter.pk).fixed_amount == Decimal("19.00")


def test_prices_filter_by_in_use(admin_client, tenant_alpha):
    in_use("pro-month-usd", tenant_alpha)

    response = admin_client.get(PRICES, {"in_use": "yes"})

    assert b"pro-month-usd" in response.content and b"starter-month-usd" not in response.content


def test_prices_cannot_be_deleted(admin_client):
    starter = Price.objects.get(code="starter-month-usd")

    assert admin_client.get(f"{PRICES}{starter.pk}/delete/").status_code == 403


def test_usage_charge_properties_are_validated_for_their_charge_model(admin_client):
    starter = Price.objects.get(code="starter-month-usd")
    rows = [*charge_rows(starter), charge_row(properties='{"tiers": []}', charge_model="graduated")]

    response = admin_client.post(f"{PRICES}{starter.pk}/change/", price_form(starter, charges=rows))

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert "properties" in errors[-1]
    assert not starter.usage_charges.filter(meter_code="compute_seconds").exists()


def test_usage_charge_properties_are_stored_normalised(admin_client):
    starter = Price.objects.get(code="starter-month-usd")
    rows = [*charge_rows(starter), charge_row(properties='{"unit_amount": "1E-1"}')]

    admin_client.post(f"{PRICES}{starter.pk}/change/", price_form(starter, charges=rows))

    assert starter.usage_charges.get(meter_code="compute_seconds").properties == {"unit_amount": "0.1"}


def test_a_price_in_another_currencys_minor_units_is_refused(admin_client):
    starter = Price.objects.get(code="starter-month-usd")

    response = admin_client.post(f"{PRICES}{starter.pk}/change/", price_form(starter, fixed_amount="19.005"))

    assert response.context["adminform"].form.errors["fixed_amount"] == ["USD has 2 decimal places."]


# --- Trying a usage charge ------------------------------------------------------------------------

def try_url(charge: UsageCharge) -> str:
    return f"{PRICES}{charge.price_id}/charges/{charge.pk}/try/"


def test_trying_a_package_charge_shows_its_amount_and_packages(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")

    response = admin_client.post(try_url(charge), {"quantity": "2500"})

    assert response.status_code == 200
    assert response.context["result"]["amount"] == "0.15 USD"
    assert response.context["result"]["breakdown"] == ["3 package(s) of 1,000 × 0.05 USD = 0.15 USD"]


def test_trying_a_percentage_charge_prices_each_event_value(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")
    UsageCharge.objects.filter(pk=charge.pk).update(
        charge_model="percentage", properties={"rate": "2.5", "fixed_amount": "0.30"})

    response = admin_client.post(try_url(charge), {"event_values": "100, 40\n10"})

    assert response.context["result"]["amount"] == "4.65 USD"
    assert b"2.5 % of 150 over 3 event(s)" in response.content


def test_trying_a_charge_below_its_minimum_shows_the_minimum_line(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="compute_seconds")
    UsageCharge.objects.filter(pk=charge.pk).update(minimum_amount=Decimal("5"))

    response = admin_client.post(try_url(charge), {"quantity": "10"})

    assert response.context["result"]["amount"] == "1.20 USD"
    assert response.context["result"]["minimum_topup"] == "3.80 USD"


def test_trying_a_charge_refuses_a_negative_quantity(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")

    response = admin_client.post(try_url(charge), {"quantity": "-1"})

    assert response.status_code == 400
    assert "quantity" in response.context["form"].errors


def test_trying_a_charge_of_another_price_is_not_found(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")
    starter = Price.objects.get(code="starter-month-usd")

    assert admin_client.get(f"{PRICES}{starter.pk}/charges/{charge.pk}/try/").status_code == 404


def test_each_usage_charge_links_to_its_try_page(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")

    response = admin_client.get(f"{PRICES}{charge.price_id}/change/")

    assert try_url(charge).encode() in response.content


# --- Products, tax rates, coupons, promotion codes, billing profiles -------------------------------

def test_products_show_their_price_range(admin_client):
    response = admin_client.get("/admin/billing/product/")

    assert b"299.00 USD to 799.00 USD" in response.content


def test_products_cannot_be_deleted(admin_client):
    product = Product.objects.get(code="website-audit")

    assert admin_client.get(f"/admin/billing/product/{product.pk}/delete/").status_code == 403


def test_a_tax_rate_is_added_from_the_admin(admin_client):
    response = admin_client.post("/admin/billing/taxrate/add/", {
        "name": "VAT", "percentage": "19", "country": "DE", "region": "", "is_active": "on"})

    assert response.status_code == 302
    assert TaxRate.objects.get(country="DE").percentage == Decimal("19")


def test_a_second_active_tax_rate_for_one_place_is_refused(admin_client):
    TaxRate.objects.create(name="VAT", percentage=Decimal("19"), country="DE")

    response = admin_client.post("/admin/billing/taxrate/add/", {
        "name": "VAT", "percentage": "7", "country": "DE", "region": "", "is_active": "on"})

    assert response.status_code == 200
    assert TaxRate.objects.filter(country="DE").count() == 1


def coupon_form(**values) -> dict:
    return {"code": "launch", "name": "Launch 20% off", "percent_off": "20", "currency": "", "duration": "once",
            "is_active": "on", "redemptions-TOTAL_FORMS": 0, "redemptions-INITIAL_FORMS": 0,
            "redemptions-MIN_NUM_FORMS": 0, "redemptions-MAX_NUM_FORMS": 1000, **values}


def test_a_coupon_is_added_from_the_admin(admin_client):
    response = admin_client.post("/admin/billing/coupon/add/", coupon_form())

    assert response.status_code == 302
    assert Coupon.objects.get(code="launch").percent_off == Decimal("20")


def test_a_coupon_with_both_a_percentage_and_an_amount_is_refused(admin_client):
    response = admin_client.post("/admin/billing/coupon/add/", coupon_form(amount_off="5", currency="usd"))

    assert response.status_code == 200
    assert not Coupon.objects.filter(code="launch").exists()


def redeemed_coupon(tenant) -> Coupon:
    coupon = Coupon.objects.create(code="launch", name="Launch", percent_off=Decimal("20"))
    subscription = subscription_start(tenant=tenant, price=Price.objects.get(code="pro-month-usd"),
                                      actor="owner@alpha.test", now=NOW)
    coupon_apply(subscription=subscription, coupon=coupon, actor="ops@tollgate.test", now=NOW)
    return Coupon.objects.get(pk=coupon.pk)


def test_a_coupon_shows_its_redemptions_read_only(admin_client, tenant_alpha):
    coupon = redeemed_coupon(tenant_alpha)

    response = admin_client.get(f"/admin/billing/coupon/{coupon.pk}/change/")

    assert b"Alpha Co" in response.content and b"ops@tollgate.test" in response.content
    assert b'name="redemptions-0-periods_left"' not in response.content


def test_a_redeemed_coupons_discount_cannot_be_changed(admin_client, tenant_alpha):
    coupon = redeemed_coupon(tenant_alpha)

    admin_client.post(f"/admin/billing/coupon/{coupon.pk}/change/", coupon_form(
        name="Launch", percent_off="90", **{"redemptions-TOTAL_FORMS": 0}))

    assert Coupon.objects.get(pk=coupon.pk).percent_off == Decimal("20")


def test_a_promotion_code_is_stored_upper_case(admin_client):
    coupon = Coupon.objects.create(code="launch", name="Launch", percent_off=Decimal("20"))

    response = admin_client.post("/admin/billing/promotioncode/add/", {
        "code": " spring-26 ", "coupon": coupon.pk, "is_active": "on",
        "redemptions-TOTAL_FORMS": 0, "redemptions-INITIAL_FORMS": 0})

    assert response.status_code == 302
    assert PromotionCode.objects.get().code == "SPRING-26"


def test_a_billing_profile_is_added_for_a_tenant(admin_client, tenant_alpha):
    response = admin_client.post("/admin/billing/billingprofile/add/", {
        "tenant": tenant_alpha.pk, "legal_name": "Alpha Company GmbH", "country": "DE", "tax_id": "DE123456789",
        "net_terms_days": 30})

    assert response.status_code == 302
    assert BillingProfile.objects.get(tenant=tenant_alpha).net_terms_days == 30


def test_a_billing_profile_with_a_lower_case_country_is_refused(admin_client, tenant_alpha):
    response = admin_client.post("/admin/billing/billingprofile/add/", {
        "tenant": tenant_alpha.pk, "legal_name": "Alpha", "country": "de", "net_terms_days": 14})

    assert response.status_code == 200
    assert not BillingProfile.objects.filter(tenant=tenant_alpha).exists()


# --- Moving subscriptions to another price --------------------------------------------------------

def active_on(code: str, tenant) -> Subscription:
    return subscription_start(tenant=tenant, price=Price.objects.get(code=code), actor="owner@alpha.test",
                              now=NOW, trial=False)


def migrate(client, price: Price, target_code: str, **options):
    return client.post(f"{PRICES}{price.pk}/migrate/", {"target": Price.objects.get(code=target_code).pk,
                                                         **options}, follow=True)


def test_moving_subscriptions_to_a_dearer_price_moves_them_at_once(admin_client, tenant_alpha, frozen_now):
    subscription = active_on("pro-month-usd", tenant_alpha)

    migrate(admin_client, subscription.price, "business-month-usd")

    assert Subscription.objects.get(pk=subscription.pk).price.code == "business-month-usd"


def test_moving_subscriptions_to_a_cheaper_price_waits_for_their_period_end(admin_client, tenant_alpha, frozen_now):
    subscription = active_on("pro-month-usd", tenant_alpha)

    migrate(admin_client, subscription.price, "starter-month-usd")

    moved = Subscription.objects.get(pk=subscription.pk)
    assert (moved.price.code, moved.scheduled_price.code) == ("pro-month-usd", "starter-month-usd")


def test_moving_subscriptions_now_applies_a_cheaper_price_at_once(admin_client, tenant_alpha, frozen_now):
    subscription = active_on("pro-month-usd", tenant_alpha)

    migrate(admin_client, subscription.price, "starter-month-usd", force_now="on")

    assert Subscription.objects.get(pk=subscription.pk).price.code == "starter-month-usd"


def test_a_subscription_that_cannot_move_is_listed_and_left_alone(admin_client, tenant_alpha, frozen_now):
    subscription = active_on("pro-month-usd", tenant_alpha)
    Subscription.objects.filter(pk=subscription.pk).update(cancel_at_period_end=True)

    response = migrate(admin_client, subscription.price, "business-month-usd")

    assert Subscription.objects.get(pk=subscription.pk).price.code == "pro-month-usd"
    assert [str(message) for message in response.context["messages"]] == [
        "Alpha Co (alpha): This subscription ends at its period end; reactivate it first."]


def test_subscriptions_move_only_to_a_price_in_their_currency(admin_client):
    pro = Price.objects.get(code="pro-month-usd")

    response = admin_client.get(f"{PRICES}{pro.pk}/migrate/")

    codes = {price.code for price in response.context["form"].fields["target"].queryset}
    assert "business-month-usd" in codes and "pro-month-eur" not in codes and "pro-month-usd" not in codes


def test_a_new_price_is_added_with_a_usage_charge(admin_client):
    form = {"plan": Plan.objects.get(code="pro").pk, "code": "pro-month-usd-2027", "currency": "USD",
            "interval": "month", "fixed_amount": "109.00", "per_seat_amount": "12.00", "included_seats": 5,
            "trial_days": 14, "is_active": "on", "usage_charges-TOTAL_FORMS": 1, "usage_charges-INITIAL_FORMS": 0,
            "usage_charges-MIN_NUM_FORMS": 0, "usage_charges-MAX_NUM_FORMS": 1000,
            **{f"usage_charges-0-{name}": value for name, value in charge_row().items()}}

    response = admin_client.post(f"{PRICES}add/", form)

    assert response.status_code == 302
    price = Price.objects.get(code="pro-month-usd-2027")
    assert price.usage_charges.get().properties == {"unit_amount": "0.12"}


def test_the_try_page_says_what_rating_does_beyond_the_charge_model(admin_client):
    charge = UsageCharge.objects.get(price__code="pro-month-usd", meter_code="api_calls")

    response = admin_client.get(try_url(charge))

    assert response.status_code == 200
    assert b"100,000 included calls" in response.content
