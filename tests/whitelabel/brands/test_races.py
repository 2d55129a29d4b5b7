"""Two first saves of a brand at the same moment: one brand, both saves kept, one after the other."""

from django.utils import timezone

from billing.models import Plan, TenantPlan
from billing.services import tenant_plan_assign
from config.lookup_cache import lookup_forget
from tenants.models import Tenant
from tests.support.concurrency import run_together
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand


def test_two_first_saves_at_once_make_one_brand_holding_both(committed_db):
    tenant = Tenant.objects.get(slug="alpha")
    assignment = TenantPlan.objects.filter(tenant=tenant).select_related("plan").first()
    tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code="white-label"))
    try:
        outcomes = run_together(
            lambda: brand_save(tenant=tenant, data={"legal_footer": "Alpha Ltd"}, now=timezone.now()),
            lambda: brand_save(tenant=tenant, data={"support_email": "help@alpha.test"}, now=timezone.now()),
        )

        assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        brand = Brand.objects.get(tenant=tenant)
        assert (brand.legal_footer, brand.support_email, brand.version) == ("Alpha Ltd", "help@alpha.test", 2)
    finally:
        Brand.objects.filter(tenant=tenant).delete()
        if assignment is None:
            TenantPlan.objects.filter(tenant=tenant).delete()
        else:
            tenant_plan_assign(tenant=tenant, plan=assignment.plan)
        lookup_forget()
