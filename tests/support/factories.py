"""factory_boy factories for the objects most tests set up. Those with a service that writes them (tenants, wallets,
API keys) go through it, so a factory never makes a row the platform could not have made.

Tenants are expensive (a schema clone each): use the committed tenant_alpha/tenant_beta fixtures when any tenant
will do, and TenantFactory only when a test needs a fresh one. Staff users live in a tenant's schema, so
StaffUserFactory takes the tenant; ops users live in the public schema.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import Role, User
from billing.models import (
    BillingProfile,
    Coupon,
    Plan,
    PlanQuota,
    Price,
    PromotionCode,
    TaxRate,
    UsageCharge,
)
from metering.models import Meter, Wallet
from metering.wallets.services import wallet_credit
from tenants.models import Tenant
from tenants.services import CreatedApiKey, ProvisionResult, api_key_create, tenant_provision
from tests.support.api import ALL_SCOPES
from tests.support.staff import STAFF_PASSWORD

PASSWORD = "pw-factory-tenant-1"
OPS_PASSWORD = "pw-factory-operator-1"


class ProvisionedTenantFactory(factory.Factory):
    """The result of provisioning a fresh tenant (tenant, owner id, whether this call created it)."""

    class Meta:
        model = ProvisionResult

    name = factory.Sequence(lambda n: f"Factory {n + 1}")
    slug = factory.Sequence(lambda n: f"factory-{n + 1}")
    owner_email = factory.Sequence(lambda n: f"owner{n + 1}@factory.test")
    owner_password = PASSWORD

    @classmethod
    def _create(cls, model_class, **fields) -> ProvisionResult:
        return tenant_provision(**fields)


class TenantFactory(ProvisionedTenantFactory):
    """A freshly provisioned tenant, its owner signed up with PASSWORD."""

    class Meta:
        model = Tenant

    # Its own names: a subclass with another model counts its sequence apart from ProvisionedTenantFactory's.
    name = factory.Sequence(lambda n: f"Fresh {n + 1}")
    slug = factory.Sequence(lambda n: f"fresh-{n + 1}")
    owner_email = factory.LazyAttribute(lambda fields: f"owner@{fields.slug}.test")

    @classmethod
    def _create(cls, model_class, **fields) -> Tenant:
        return tenant_provision(**fields).tenant


class StaffUserFactory(factory.Factory):
    """A member of a tenant's team, made in that tenant's schema: StaffUserFactory(tenant=tenant_alpha, role=...)."""

    class Meta:
        model = User

    tenant = None
    email = factory.Sequence(lambda n: f"staff{n + 1}@factory.test")
    role = Role.MEMBER
    full_name = ""
    password = STAFF_PASSWORD

    @classmethod
    def _create(cls, model_class, *, tenant: Tenant, password: str, **fields) -> User:
        with schema_context(tenant.schema_name):
            return model_class.objects.create_user(password=password, **fields)


class OpsUserFactory(factory.Factory):
    """An ops account: a superuser in the public schema, who may log into the admin."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"operator{n + 1}@tollgate.test")
    password = OPS_PASSWORD

    @classmethod
    def _create(cls, model_class, *, password: str, **fields) -> User:
        with schema_context(get_public_schema_name()):
            return model_class.objects.create_superuser(password=password, **fields)


class PlanFactory(factory.django.DjangoModelFactory):
    """A plan in the catalogue (assign it with billing.services.tenant_plan_assign)."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n + 1}")
    name = factory.LazyAttribute(lambda plan: plan.code.replace("-", " ").title())


class PlanQuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanQuota

    plan = factory.SubFactory(PlanFactory)
    meter_code = "api_calls"
    monthly_limit = Decimal("100")
    behaviour = PlanQuota.Behaviour.HARD


class MeterFactory(factory.django.DjangoModelFactory):
    """A meter tenants report to; counts events unless given an aggregation and the property it reads."""

    class Meta:
        model = Meter

    code = factory.Sequence(lambda n: f"meter_{n + 1}")
    name = factory.LazyAttribute(lambda meter: meter.code.replace("_", " ").capitalize())
    aggregation = Meter.Aggregation.COUNT


class WalletFactory(factory.Factory):
    """A tenant's wallet holding `tokens` purchased AI tokens, credited through the ledger like a real purchase."""

    class Meta:
        model = Wallet

    tenant = None
    tokens = 100_000
    idempotency_key = factory.Sequence(lambda n: f"factory-purchase-{n + 1}")

    @classmethod
    def _create(cls, model_class, *, tenant: Tenant, tokens: int, idempotency_key: str) -> Wallet:
        wallet_credit(tenant=tenant, tokens=tokens, kind="purchase", reason="Purchase",
                      idempotency_key=idempotency_key)
        return model_class.objects.get(tenant=tenant)


class ApiKeyFactory(factory.Factory):
    """An API key of a tenant and its secret (shown once): ApiKeyFactory(tenant=tenant_alpha, scopes=["read"])."""

    class Meta:
        model = CreatedApiKey

    tenant = None
    name = factory.Sequence(lambda n: f"factory key {n + 1}")
    scopes = factory.LazyFunction(lambda: list(ALL_SCOPES))
    created_by = "tests"

    @classmethod
    def _create(cls, model_class, **fields) -> CreatedApiKey:
        return api_key_create(**fields)


# --- Billing ------------------------------------------------------------------------------------------------
# Catalogue rows ops make in the admin (plain rows, like PlanFactory); subscriptions go through
# billing.subscriptions.services (tests.support.billing.subscription_started), never a factory.

class PriceFactory(factory.django.DjangoModelFactory):
    """A monthly USD price of its own plan: 99.00 in advance, one seat included, no per-seat charge."""

    class Meta:
        model = Price

    plan = factory.SubFactory(PlanFactory)
    code = factory.Sequence(lambda n: f"price-{n + 1}")
    currency = "USD"
    interval = Price.Interval.MONTH
    fixed_amount = Decimal("99.00")
    per_seat_amount = Decimal("0")
    included_seats = 1
    trial_days = 0


class UsageChargeFactory(factory.django.DjangoModelFactory):
    """A standard usage charge at 0.01 per unit on the api_calls meter."""

    class Meta:
        model = UsageCharge

    price = factory.SubFactory(PriceFactory)
    meter_code = "api_calls"
    name = "Usage"
    unit_name = "units"
    charge_model = UsageCharge.ChargeModel.STANDARD
    properties = factory.LazyFunction(lambda: {"unit_amount": "0.01"})


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    name = "VAT"
    percentage = Decimal("19")
    country = "DE"
    region = ""
    inclusive = False


class BillingProfileFactory(factory.django.DjangoModelFactory):
    """A tenant's billing details: TaxRateFactory's country by default, with a legal name."""

    class Meta:
        model = BillingProfile

    tenant = None
    legal_name = factory.LazyAttribute(lambda profile: f"{profile.tenant.name} Ltd")
    country = "DE"


class CouponFactory(factory.django.DjangoModelFactory):
    """20 % off, once."""

    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"coupon-{n + 1}")
    name = "Launch"
    percent_off = Decimal("20")
    duration = Coupon.Duration.ONCE


class PromotionCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromotionCode

    coupon = factory.SubFactory(CouponFactory)
    code = factory.Sequence(lambda n: f"PROMO{n + 1}")
