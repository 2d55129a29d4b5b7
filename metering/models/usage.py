"""Meters, usage events (monthly partitions), their dedupe keys, hourly rollups and usage alerts. All in the
public schema, each row carrying its tenant."""

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models import Tenant


class Meter(models.Model):
    """What is measured and how a period's events add up (Lago's aggregations)."""

    class Aggregation(models.TextChoices):
        COUNT = "count", "Count of events"
        SUM = "sum", "Sum of a property"
        MAX = "max", "Maximum of a property"
        UNIQUE_COUNT = "unique_count", "Distinct values of a property"
        LATEST = "latest", "Latest value of a property"

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=30, default="events")
    aggregation = models.CharField(max_length=20, choices=Aggregation.choices, default=Aggregation.COUNT)
    event_property = models.CharField(max_length=100, blank=True,
                                      help_text="The event property aggregated (not for count).")
    filters = models.JSONField(default=dict, blank=True,
                               help_text='Only events whose properties contain these pairs count, e.g. {"billable": true}.')
    is_active = models.BooleanField(default=True)
    platform_owned = models.BooleanField(
        default=False, help_text="Written only by the platform itself (AI gateway, API-call tracking, coach): "
                                 "tenants' own events to it are refused, so they cannot change what they are billed.")
    allow_negative = models.BooleanField(
        default=False, help_text="Accept negative values (e.g. corrections). Off: a negative value is refused, "
                                 "so one event cannot erase recorded usage.")
    created_at = models.DateTimeField(auto_now_add=True)

    # What the rollups were computed under: once a meter has events these are frozen (a change means a new meter).
    DEFINITION_FIELDS = ("aggregation", "event_property", "filters")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_numeric(self) -> bool:
        return self.aggregation in {self.Aggregation.SUM, self.Aggregation.MAX, self.Aggregation.LATEST}

    def clean(self) -> None:
        if self.aggregation != self.Aggregation.COUNT and not self.event_property:
            raise ValidationError({"event_property": "This aggregation needs the event property it reads."})
        if not isinstance(self.filters, dict):
            raise ValidationError({"filters": "Filters are an object of property: value pairs."})


class UsageEvent(models.Model):
    """One usage event. The table is partitioned by month on `timestamp` (created by migration SQL, so Django
    does not manage it); its primary key is (id, timestamp) because a partitioned table's keys must include the
    partition key. Exactly-once lives in UsageEventKey, which is not partitioned."""

    id = models.BigIntegerField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    meter_code = models.CharField(max_length=50)
    transaction_id = models.CharField(max_length=255)
    timestamp = models.DateTimeField()
    properties = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "metering_usageevent"

    def __str__(self) -> str:
        return f"{self.meter_code} {self.transaction_id}"


class UsageEventKey(models.Model):
    """Every accepted (tenant, transaction_id), whatever its timestamp: a retry with another timestamp is still
    a duplicate. Kept at least 35 days (EVENT_KEY_RETENTION), then pruned."""

    pk = models.CompositePrimaryKey("tenant_id", "transaction_id")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    transaction_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "metering_usageeventkey"


class UsageRollup(models.Model):
    """Per tenant, meter and hour: what the hour's events add up to, kept current at ingestion."""

    pk = models.CompositePrimaryKey("tenant_id", "meter_code", "hour")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    meter_code = models.CharField(max_length=50)
    hour = models.DateTimeField()
    event_count = models.BigIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=30, decimal_places=6, default=0)
    value_max = models.DecimalField(max_digits=30, decimal_places=6, null=True)
    # The latest event of the hour and its value: a period's latest is the row with the greatest latest_at.
    latest_at = models.DateTimeField(null=True)
    latest_value = models.DecimalField(max_digits=30, decimal_places=6, null=True)

    class Meta:
        db_table = "metering_usagerollup"


class UsageUniqueValue(models.Model):
    """Each distinct value a unique_count meter has seen in a calendar month. Distinct counts cannot be summed
    across hours, so a month's unique count is the number of these rows (exact); any other range is counted
    from the raw events."""

    pk = models.CompositePrimaryKey("tenant_id", "meter_code", "month", "value")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    meter_code = models.CharField(max_length=50)
    month = models.DateField()
    value = models.CharField(max_length=255)

    class Meta:
        db_table = "metering_usageuniquevalue"


class UsageAlert(models.Model):
    """A quota threshold (80 % or 100 %) a tenant crossed in a month: its owners get one email and a notice per
    threshold and period, never one per request (the unique constraint is what makes it once)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    meter_code = models.CharField(max_length=50)
    period_start = models.DateField()
    threshold_percent = models.PositiveSmallIntegerField()
    limit = models.DecimalField(max_digits=20, decimal_places=4)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "meter_code", "period_start", "threshold_percent"],
                                    name="usage_alert_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.meter_code} {self.threshold_percent}% {self.period_start:%Y-%m}"
