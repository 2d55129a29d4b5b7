"""Ops admin for metering (public host only): meters, and a read-only usage explorer.

The usage tables (UsageRollup, UsageUniqueValue) have composite primary keys, which Django 5.2's admin refuses
to register ("has a composite primary key, so it cannot be registered with admin"). So usage is explored on a
page of the Meter admin instead (`usage-explorer/`): a tenant, a meter and a period, read through
metering.usage.selectors, which is also exactly what quotas and invoices read."""

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from metering.models import Meter
from metering.usage.charts import quantity_format
from metering.usage.selectors import GRANULARITIES, meter_has_events, usage_for_period, usage_series
from metering.usage.services import meter_update
from tenants.models import Tenant

# The most rows the explorer lists at once: a month of hours, three years of days, ten years of months.
MAX_BUCKETS = {"hour": 24 * 31, "day": 366 * 3, "month": 12 * 10}


class UsageExplorerForm(forms.Form):
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.customers().order_by("name"),
        to_field_name="slug",
    )
    meter = forms.ModelChoiceField(queryset=Meter.objects.order_by("code"), to_field_name="code")
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="First day (UTC).")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="Last day, included (UTC).")
    granularity = forms.ChoiceField(choices=[(name, name.capitalize()) for name in GRANULARITIES], initial="day")

    def clean(self) -> dict:
        data = super().clean()
        start, end, granularity = data.get("start"), data.get("end"), data.get("granularity")
        if start and end and end < start:
            raise ValidationError({"end": "The last day is before the first."})
        if start and end and granularity:
            buckets = _bucket_count(start, end, granularity)
            if buckets > MAX_BUCKETS[granularity]:
                raise ValidationError(
                    f"That is {buckets:,} {granularity}s; choose a shorter period or a coarser granularity "
                    f"(at most {MAX_BUCKETS[granularity]:,})."
                )
        return data


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "aggregation", "event_property", "filters", "platform_owned",
                    "allow_negative", "is_active", "created_at"]
    list_filter = ["aggregation", "platform_owned", "is_active"]
    search_fields = ["code", "name"]
    # Which meters the platform writes itself is decided by its code (and set by migrations), not in the admin.
    readonly_fields = ["platform_owned", "created_at"]
    fields = ["code", "name", "unit", "aggregation", "event_property", "filters", "allow_negative", "platform_owned",
              "is_active", "created_at"]
    change_list_template = "metering/admin_meter_change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Meter | None = None) -> list[str]:
        if obj is None:
            return self.readonly_fields
        # Events, rollups and plan quotas refer to a meter by its code: renaming it would orphan them. Once it
        # has events, its definition is what its rollups were computed under (meter_update); asked again on the
        # POST, so a page opened before the first event cannot change it either.
        frozen = list(Meter.DEFINITION_FIELDS) if meter_has_events(meter=obj) else []
        return [*self.readonly_fields, "code", *frozen]

    def save_model(self, request: HttpRequest, obj: Meter, form: forms.ModelForm, change: bool) -> None:
        # A change goes through the service, which checks the definition again under a lock on the event table.
        if not change:
            super().save_model(request, obj, form, change)
            return
        meter_update(meter=obj, data={name: form.cleaned_data[name] for name in form.changed_data})

    def has_delete_permission(self, request: HttpRequest, obj: Meter | None = None) -> bool:
        # A meter with history is deactivated (ingestion then refuses it), never deleted.
        return False

    def get_urls(self) -> list[URLPattern]:
        explorer = path("usage-explorer/", self.admin_site.admin_view(self.usage_explorer_view),
                        name="metering_meter_usage_explorer")
        # Before the model's own URLs, whose "<object_id>/" pattern would otherwise take this path.
        return [explorer, *super().get_urls()]

    def usage_explorer_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = UsageExplorerForm(request.GET or None, initial=_explorer_initial())
        report = _usage_report(**form.cleaned_data) if form.is_bound and form.is_valid() else None
        return TemplateResponse(request, "metering/admin_usage_explorer.html", {
            **self.admin_site.each_context(request),
            "title": "Usage explorer",
            "opts": self.model._meta,
            "form": form,
            "report": report,
        })


def _explorer_initial() -> dict:
    today = timezone.now().astimezone(dt_timezone.utc).date()
    return {"start": today.replace(day=1), "end": today, "granularity": "day"}


def _bucket_count(start: date, end: date, granularity: str) -> int:
    days = (end - start).days + 1
    if granularity == "hour":
        return days * 24
    if granularity == "day":
        return days
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _usage_report(*, tenant: Tenant, meter: Meter, start: date, end: date, granularity: str) -> dict:
    """The period's total (exactly the days chosen) and one row per bucket (whole UTC buckets)."""
    period_start = datetime.combine(start, time.min, tzinfo=dt_timezone.utc)
    period_end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)
    total = usage_for_period(tenant=tenant, meter=meter, start=period_start, end=period_end)
    series = usage_series(tenant=tenant, meter=meter, start=period_start, end=period_end, granularity=granularity)
    return {
        "tenant": tenant,
        "meter": meter,
        "granularity": granularity,
        "first_day": start,
        "last_day": end,
        "total_display": quantity_format(total),
        "rows": [{"bucket": bucket, "display": quantity_format(value)} for bucket, value in series],
    }
