import pytest
from django.forms.models import model_to_dict

from billing.models import Plan, PlanQuota, TenantPlan
from billing.selectors import entitlements_for
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
