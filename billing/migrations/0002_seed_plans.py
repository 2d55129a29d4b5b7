"""The plans Tollgate sells (prices come with the billing issue). Ops edit them in admin."""

from django.db import migrations

PLANS = [
    {"code": "free", "name": "Free", "sort_order": 10, "api_requests_per_minute_per_key": 60,
     "api_requests_per_minute_per_tenant": 120, "concurrent_ai_requests": 1, "monthly_ai_token_allowance": 50_000,
     "seats": 2, "quotas": [("api_calls", 1_000, "hard")],
     "description": "Try the API and the coach with a small monthly allowance."},
    {"code": "starter", "name": "Starter", "sort_order": 20, "api_requests_per_minute_per_key": 120,
     "api_requests_per_minute_per_tenant": 300, "concurrent_ai_requests": 1, "monthly_ai_token_allowance": 500_000,
     "seats": 3, "quotas": [("api_calls", 10_000, "hard")], "description": "For a first product in production."},
    {"code": "pro", "name": "Pro", "sort_order": 30, "api_requests_per_minute_per_key": 600,
     "api_requests_per_minute_per_tenant": 1_200, "concurrent_ai_requests": 5,
     "monthly_ai_token_allowance": 2_000_000, "seats": 10, "team": True,
     "quotas": [("api_calls", 100_000, "soft")], "description": "For growing teams."},
    {"code": "business", "name": "Business", "sort_order": 40, "api_requests_per_minute_per_key": 1_200,
     "api_requests_per_minute_per_tenant": 3_000, "concurrent_ai_requests": 10,
     "monthly_ai_token_allowance": 10_000_000, "seats": 25, "team": True,
     "quotas": [("api_calls", 1_000_000, "soft")], "description": "For companies running on the API."},
    {"code": "enterprise", "name": "Enterprise", "sort_order": 50, "is_public": False,
     "concurrent_ai_requests": 50, "monthly_ai_token_allowance": 50_000_000, "team": True, "sso": True,
     "quotas": [], "description": "Negotiated terms, no monthly cap, single sign-on."},
    {"code": "agency", "name": "Agency", "sort_order": 60, "api_requests_per_minute_per_key": 600,
     "api_requests_per_minute_per_tenant": 1_200, "concurrent_ai_requests": 5,
     "monthly_ai_token_allowance": 2_000_000, "seats": 10, "team": True, "client_tenants": True,
     "quotas": [("api_calls", 100_000, "soft")], "description": "Run client workspaces and earn on them."},
    {"code": "white-label", "name": "White-Label", "sort_order": 70, "api_requests_per_minute_per_key": 1_200,
     "api_requests_per_minute_per_tenant": 3_000, "concurrent_ai_requests": 10,
     "monthly_ai_token_allowance": 10_000_000, "seats": 25, "team": True, "client_tenants": True,
     "white_label": True, "custom_domains": 1, "quotas": [("api_calls", 1_000_000, "soft")],
     "description": "Your brand on your own domain, for resellers."},
]


def plans_seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    PlanQuota = apps.get_model("billing", "PlanQuota")
    for spec in PLANS:
        fields = {key: value for key, value in spec.items() if key not in ("code", "quotas")}
        plan, created = Plan.objects.get_or_create(code=spec["code"], defaults=fields)
        if created:
            for meter_code, limit, behaviour in spec["quotas"]:
                PlanQuota.objects.create(plan=plan, meter_code=meter_code, monthly_limit=limit, behaviour=behaviour)


def plans_unseed(apps, schema_editor):
    apps.get_model("billing", "Plan").objects.filter(code__in=[spec["code"] for spec in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(plans_seed, plans_unseed)]
