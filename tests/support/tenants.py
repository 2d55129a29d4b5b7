"""Tenants every test can use: committed in the template database, so no test pays for a schema clone."""

from django.test import Client

from tenants.models import Tenant
from tenants.services import public_tenant_ensure, tenant_provision

STANDARD_PASSWORD = "pw-standard-tenant-1"
STANDARD_TENANTS = {
    "alpha": {"name": "Alpha Co", "owner": "owner@alpha.test"},
    "beta": {"name": "Beta Inc", "owner": "owner@beta.test"},
}


def standard_tenants_seed() -> None:
    public_tenant_ensure()
    for slug, spec in STANDARD_TENANTS.items():
        tenant_provision(name=spec["name"], slug=slug, owner_email=spec["owner"], owner_password=STANDARD_PASSWORD)
        # Provisioning grants the month's AI-token allowance; tests start from an empty wallet and fund it.
        tenant_metering_purge(Tenant.objects.get(slug=slug))


def host_of(tenant: Tenant) -> str:
    return f"{tenant.slug}.localhost"


def client_for(tenant: Tenant | None) -> Client:
    """A test client whose requests go to the tenant's host (or the public host when tenant is None)."""
    return Client(HTTP_HOST=host_of(tenant) if tenant else "localhost")


def owner_of(tenant: Tenant):
    from django_tenants.utils import schema_context

    from accounts.models import User

    with schema_context(tenant.schema_name):
        return User.objects.get(email=tenant.owner_email)


def logged_in_client(tenant: Tenant) -> Client:
    """A client on the tenant's host, signed in as its owner (the session is stored in the tenant's schema)."""
    from django_tenants.utils import schema_context

    client = client_for(tenant)
    owner = owner_of(tenant)
    with schema_context(tenant.schema_name):
        client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    return client


def tenant_purge(tenant: Tenant) -> None:
    """Remove a tenant a committed test created: its rows and its schema. Tests only: the platform never deletes."""
    from django.db import connection

    from tenants.models import Domain, TenantAuditLog

    connection.set_schema_to_public()
    tenant_metering_purge(tenant)
    tenant_billing_purge(tenant)
    TenantAuditLog.objects.filter(tenant=tenant).delete()
    Domain.objects.filter(tenant=tenant).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
    Tenant.objects.filter(pk=tenant.pk).delete()


def tenant_metering_purge(tenant: Tenant) -> None:
    """Remove the usage and the wallet a committed test gave a standard tenant (alpha, beta). Tests only."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # The ledger refuses deletes unless the session says it is purging on purpose (metering migration 0005).
        cursor.execute("SET LOCAL tollgate.ledger_purge = 'on'")
        # Card refunds and disputes point at its credit notes, payments and invoices (billing.payments).
        for table in ("billing_cardrefund", "billing_dispute"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM metering_walletentry WHERE wallet_id IN "
                       "(SELECT id FROM metering_wallet WHERE tenant_id = %s)", [tenant.pk])
        for table in ("metering_wallet", "metering_usageevent", "metering_usageeventkey", "metering_usagerollup",
                      "metering_usageuniquevalue", "metering_usagealert", "metering_aireservationrecord",
                      "metering_tokenpurchase"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])


def tenant_billing_purge(tenant: Tenant) -> None:
    """Remove the subscriptions, invoices, credit and quotes a committed test gave a tenant. Tests only."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # Finalised invoices and credit notes refuse deletes unless the session purges on purpose (billing 0009).
        cursor.execute("SET LOCAL tollgate.ledger_purge = 'on'")
        for table in ("billing_accountcreditentry", "billing_accountcredit", "billing_creditnote",
                      "billing_pendinginvoiceitem", "billing_servicequote", "billing_billingemail"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
        # Its dunning cases, the Stripe payments of its invoices and what they settled (billing.payments), before
        # the invoices.
        cursor.execute("DELETE FROM billing_dunningcase WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM billing_stripesettlement WHERE tenant_id = %s OR invoice_id IN "
                       "(SELECT id FROM billing_invoice WHERE tenant_id = %s)", [tenant.pk, tenant.pk])
        cursor.execute("DELETE FROM billing_payment WHERE tenant_id = %s", [tenant.pk])
        # Reseller mode (billing.consolidation): a payer's lines carrying its invoices, and the client invoices its
        # consolidated invoices carry, let go of them first (purge a client before its payer).
        cursor.execute("DELETE FROM billing_invoiceline WHERE source_invoice_id IN "
                       "(SELECT id FROM billing_invoice WHERE tenant_id = %s)", [tenant.pk])
        cursor.execute("UPDATE billing_invoice SET consolidated_into_id = NULL WHERE consolidated_into_id IN "
                       "(SELECT id FROM billing_invoice WHERE tenant_id = %s)", [tenant.pk])
        cursor.execute("DELETE FROM billing_invoiceline WHERE invoice_id IN "
                       "(SELECT id FROM billing_invoice WHERE tenant_id = %s)", [tenant.pk])
        for table in ("billing_invoice", "billing_couponredemption", "billing_subscriptionevent",
                      "billing_subscription", "billing_billingprofile", "billing_tenantplan"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM billing_consolidatedbilling WHERE client_id = %s OR payer_id = %s",
                       [tenant.pk, tenant.pk])
        # What billing announced lives in the tenant's schema (the notification centre); the welcome stays.
        cursor.execute(f"DELETE FROM \"{tenant.schema_name}\".notifications_notification WHERE category <> 'welcome'")
        cursor.execute(f"DELETE FROM \"{tenant.schema_name}\".notifications_notificationemail")
