from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class TenantQuerySet(models.QuerySet):
    def customers(self) -> "TenantQuerySet":
        """Tenants that are customers: every row but the public schema's (the platform itself). The template
        schema has no row today; it is excluded too so that no caller ever treats it as a customer."""
        return self.exclude(schema_name__in=[settings.PUBLIC_SCHEMA_NAME, settings.TENANT_BASE_SCHEMA])


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
    require_mfa = models.BooleanField(
        default=False, help_text="Staff without two-factor authentication must set it up before anything else."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

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

    @property
    def email(self) -> str:
        """Where money matters go: the billing email, else the owner's. dj-stripe needs it of its subscriber model
        (DJSTRIPE_SUBSCRIBER_MODEL is the tenant)."""
        return self.billing_email or self.owner_email


class Domain(DomainMixin):
    """A host name that routes to a tenant. The primary one is <slug>.<BASE_DOMAIN>."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]


class TenantAuditLog(models.Model):
    """One change made to a tenant (by ops in the admin, or by the tenant's own staff), written by the service
    that made it."""

    class Source(models.TextChoices):
        OPS = "ops", "Ops admin"
        STAFF = "staff", "Tenant staff"
        AGENCY = "agency", "Agency staff acting for their agency"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="audit_log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the actor row may be deleted later, the record must still say who it was. Tenant staff
    # live in their tenant's schema, so for them this is the only reference (actor stays empty).
    actor_email = models.EmailField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OPS)
    action = models.CharField(max_length=50, db_index=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.tenant.slug} by {self.actor_email or 'system'}"


class ApiKey(models.Model):
    """A secret that lets a program call the API of one tenant.

    Only a SHA-256 hash of the key is stored. A slow password hash is not needed: the key is 32 random bytes
    (256 bits), so guessing it from the hash is infeasible, and a fast hash keeps every API request cheap.
    The prefix (the first characters, shown in lists) finds the row; the hash confirms the key.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        USAGE_WRITE = "usage:write", "Send usage events"
        AI = "ai", "Call the AI API"
        BILLING = "billing", "Change the subscription"
        COACH = "coach", "Use the creator coach as the key's creator"
        AGENCY = "agency", "Manage the agency's client workspaces"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=24, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices))
    # Staff accounts live in the tenant's schema, so the creator is kept by email (or "ops" / a command).
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed to the same caller's retries for 24
    hours. A record belongs to one caller of one tenant: the same key sent by another API key or another user
    is another record, so nobody is answered with a response made for someone else."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # "key:<api key id>" or "user:<user id>" (users live in the tenant's schema: no foreign key reaches them).
    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    # When the execution that owns the record started; a retry may take over one that has run too long.
    started_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True)
    # JSON as text, not jsonb: jsonb refuses "\u0000", which a response may echo back from the request.
    response_body = models.TextField(null=True)
    # The response carried a secret, which was left out of response_body: a replay answers 409 instead.
    secret_withheld = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "caller", "key"],
                                               name="idempotency_key_unique_per_caller")]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.key}"
