"""Ops admin for content templates (public host only). Saving an edit never changes the version in front of
you: it adds the next version, active, and the old one becomes inactive (documents keep the version they were
written with). Inactive versions are read only; a template is retired by making another version active, not
deleted.

Saved documents (each tenant's content library, in its schema) are read only, per tenant, at
documents/ beside the template list (linked from its page)."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django_tenants.utils import get_public_schema_name

from creators.catalog.fields import field_specs_parse, prompt_placeholders_check
from creators.catalog.models import ContentTemplate
from creators.catalog.services import EDITABLE_FIELDS, content_template_create, content_template_revise
from creators.content.selectors import content_library_of
from tenants.models import Tenant


class ContentTemplateForm(forms.ModelForm):
    class Meta:
        model = ContentTemplate
        fields = ["key", *EDITABLE_FIELDS]
        widgets = {"fields": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"})}

    def clean_max_tokens(self) -> int:
        # A generation reserves this many tokens: no more than the AI API allows any request.
        value = self.cleaned_data["max_tokens"]
        if not 1 <= value <= settings.AI_MAX_TOKENS_CAP:
            raise forms.ValidationError(f"Use 1 to {settings.AI_MAX_TOKENS_CAP:,} (AI_MAX_TOKENS_CAP).")
        return value

    def clean(self):
        cleaned = super().clean()
        fields = cleaned.get("fields")
        if fields is None:
            return cleaned
        try:
            specs = field_specs_parse(fields)
            prompt_placeholders_check(specs=specs, texts=[cleaned.get("prompt", ""),
                                                          cleaned.get("system_prompt", "")])
        except ValueError as error:
            self.add_error("fields" if "Field" in str(error) else "prompt", str(error))
        return cleaned

    def validate_unique(self):
        # An edit saves a new version (the service numbers it): only a new key must not exist yet.
        if self.instance.pk is None and ContentTemplate.objects.filter(key=self.cleaned_data.get("key")).exists():
            self.add_error("key", "A template with this key exists: edit it to make a new version.")


@admin.register(ContentTemplate)
class ContentTemplateAdmin(admin.ModelAdmin):
    form = ContentTemplateForm
    list_display = ["name", "key", "version", "category", "is_active", "max_tokens", "created_by", "created_at"]
    list_filter = ["is_active", "category"]
    search_fields = ["key", "name", "description"]
    ordering = ["category", "key", "-version"]
    change_list_template = "creators/content/admin_template_list.html"
    readonly_fields = ["version", "is_active", "created_by", "created_at", "fields_pretty"]

    def get_fields(self, request: HttpRequest, obj: ContentTemplate | None = None) -> list[str]:
        if obj is not None and not obj.is_active:
            return ["key", "version", "is_active", "name", "category", "description", "fields_pretty",
                    "system_prompt", "prompt", "max_tokens", "created_by", "created_at"]
        return ["key", "name", "category", "description", "fields", "system_prompt", "prompt", "max_tokens",
                *(["version", "is_active", "created_by", "created_at"] if obj else [])]

    def get_readonly_fields(self, request: HttpRequest, obj: ContentTemplate | None = None) -> list[str]:
        if obj is None:
            return []
        if not obj.is_active:
            return self.get_fields(request, obj)
        return [*self.readonly_fields, "key"]

    @admin.display(description="Fields")
    def fields_pretty(self, obj: ContentTemplate) -> str:
        return json.dumps(obj.fields, indent=2, ensure_ascii=False)

    def save_model(self, request: HttpRequest, obj: ContentTemplate, form: forms.ModelForm, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            saved = content_template_revise(key=obj.key, values=values, actor=request.user.get_username())
        else:
            saved = content_template_create(key=form.cleaned_data["key"], values=values,
                                            actor=request.user.get_username())
        # The admin's messages and redirect then point at the version just made.
        obj.pk, obj.version, obj.is_active = saved.pk, saved.version, saved.is_active

    def has_change_permission(self, request: HttpRequest, obj: ContentTemplate | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_active)

    def has_delete_permission(self, request: HttpRequest, obj: ContentTemplate | None = None) -> bool:
        return False

    def get_urls(self):
        return [path("documents/", self.admin_site.admin_view(self.documents_view),
                     name="creators_catalog_contenttemplate_documents"), *super().get_urls()]

    def documents_view(self, request: HttpRequest) -> HttpResponse:
        """Saved documents, read only: pick a tenant to see its library's totals and latest drafts (they live in
        the tenant's schema and are read there)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        tenants = list(Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug"))
        chosen = next((tenant for tenant in tenants if tenant.slug == request.GET.get("tenant")), None)
        return TemplateResponse(request, "creators/content/admin_documents.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Saved documents",
            "tenants": tenants, "chosen": chosen,
            "library": content_library_of(tenant=chosen) if chosen else None,
        })
