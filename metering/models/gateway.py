"""The AI gateway's records: model prices and the reservations AI requests hold on the wallet."""

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from tenants.models import Tenant


class ModelPrice(models.Model):
    """What one Claude model costs, in USD per million tokens of each kind. The active rows are also the models
    the AI API accepts: ops allow a model by adding (or activating) its price."""

    model = models.CharField(max_length=100, unique=True, help_text="The Anthropic model id, e.g. claude-sonnet-4-6.")
    display_name = models.CharField(max_length=100, blank=True)
    input_per_mtok = models.DecimalField("input per MTok", max_digits=12, decimal_places=4)
    output_per_mtok = models.DecimalField("output per MTok", max_digits=12, decimal_places=4)
    cache_write_per_mtok = models.DecimalField("cache write per MTok", max_digits=12, decimal_places=4)
    cache_read_per_mtok = models.DecimalField("cache read per MTok", max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217, e.g. USD.")
    active = models.BooleanField(default=True, help_text="Only active models are accepted by the AI API.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(input_per_mtok__gte=0, output_per_mtok__gte=0, cache_write_per_mtok__gte=0,
                                   cache_read_per_mtok__gte=0),
                name="model_price_not_negative",
            ),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="model_price_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.model


class AiReservationRecord(models.Model):
    """One AI request's hold on the wallet, written in the transaction of its reserve debit and marked settled
    (a conditional UPDATE, so exactly once) in the transaction of its settlement. A row still open after its
    deadline belongs to a request whose process died: the sweep (metering.gateway.services.ai_reservations_sweep)
    settles it on `usage` (the charge a stream recorded as it went) or releases it."""

    class Outcome(models.TextChoices):
        SETTLED = "settled", "Settled on the request's usage"
        RELEASED = "released", "Released (the call failed)"
        SWEPT = "swept", "Swept after its deadline"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    request_id = models.UUIDField(unique=True)
    model = models.CharField(max_length=100)
    tokens = models.BigIntegerField(help_text="Reserved: max_tokens plus the input estimate.")
    created_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    deadline = models.DateTimeField(help_text="The request cannot still be running after this.")
    usage = models.JSONField(null=True, blank=True,
                             help_text="The usage charged (at settlement), or recorded so far by a running stream.")
    usage_recorded = models.BooleanField(default=False, help_text="Its usage events are stored.")
    settled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = "AI reservation"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tokens__gt=0), name="ai_reservation_tokens_positive"),
            models.CheckConstraint(condition=models.Q(settled_at__isnull=True, outcome="")
                                   | (models.Q(settled_at__isnull=False) & ~models.Q(outcome="")),
                                   name="ai_reservation_outcome_iff_settled"),
        ]
        indexes = [
            # What the sweep reads: open reservations by deadline (settled ones, almost all, stay out of it).
            models.Index(fields=["deadline"], condition=models.Q(settled_at__isnull=True),
                         name="ai_reservation_open_idx"),
            models.Index(fields=["tenant", "created_at"], name="ai_reservation_tenant_idx"),
            # The platform's spend per day (ops' AI cost alert): rows arrive in created_at order, so a BRIN index
            # finds a day's rows for almost no space and no cost on the request path.
            BrinIndex(fields=["created_at"], name="ai_reservation_created_brin"),
            # Settled requests whose usage events could not be stored yet (the sweep stores them).
            models.Index(fields=["settled_at"], condition=models.Q(usage_recorded=False, settled_at__isnull=False),
                         name="ai_reservation_unrecorded_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.outcome or 'open'})"
