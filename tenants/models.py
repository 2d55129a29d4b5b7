from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A customer workspace: one PostgreSQL schema named after its slug, reached on its own host."""

    class Type(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        BUSINESS = "business", "Business"
        AGENCY = "agency", "Agency"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=40, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.BUSINESS)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    parent_agency = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="client_tenants",
        limit_choices_to={"type": Type.AGENCY},
    )
    billing_email = models.EmailField(blank=True)
    # A copy of the owner's login email (the account itself lives in the tenant's schema), so ops can search it.
    owner_email = models.EmailField(blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    # Schemas are created by tenants.services.tenant_provision inside its own transaction, not on save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent_agency=models.F("id")), name="tenant_not_own_parent_agency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == settings.PUBLIC_SCHEMA_NAME

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name that routes to a tenant. The primary one is <slug>.<BASE_DOMAIN>."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]


class TenantAuditLog(models.Model):
    """One change an operator made to a tenant, written by the service that made it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="audit_log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the actor row may be deleted later, the record must still say who it was.
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=50, db_index=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.tenant.slug} by {self.actor_email or 'system'}"
