"""Ops admin for the AI gateway's model prices (public host only). The active rows are the models the AI API
accepts; prices are USD (or the row's currency) per million tokens of each kind."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from metering.models import ModelPrice


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "display_name", "input_per_mtok", "output_per_mtok", "cache_write_per_mtok",
                    "cache_read_per_mtok", "currency", "active", "updated_at"]
    list_editable = ["active"]
    list_filter = ["active", "currency"]
    search_fields = ["model", "display_name"]
    readonly_fields = ["updated_at"]
    fields = ["model", "display_name", "input_per_mtok", "output_per_mtok", "cache_write_per_mtok",
              "cache_read_per_mtok", "currency", "active", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ModelPrice | None = None) -> list[str]:
        # Usage events name the model: rename by adding a new row and deactivating this one.
        return [*self.readonly_fields, "model"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: ModelPrice | None = None) -> bool:
        # Deactivate instead: a deleted price would leave past usage without its model.
        return False
