"""The coach in the ops admin, read only: the playbooks (the files loaded at startup, with their versions, phases,
tasks and decisions), and per tenant its creators' profiles and projects with their progress, decisions, task
completions and chat transcript. Those live in each tenant's schema and are read there (creators.selectors), at
projects/ beside the playbook list (linked from its page), as saved documents are beside the content templates;
and at costs/ what the coach's answers cost, per day and per person across tenants (creators.chat.selectors)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from config.admin import ReadOnlyAdminMixin
from creators.chat.selectors import coach_cost_log, coach_day_bounds
from creators.models import PlaybookFile
from creators.playbooks import PLAYBOOK_DIR, PlaybookUnknown, playbook_get, playbook_list
from creators.selectors import coach_overview_of, coach_project_record_of
from tenants.models import Tenant

COST_LOG_DEFAULT_DAYS = 7
COST_LOG_MAX_DAYS = 90


@admin.register(PlaybookFile)
class PlaybookFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Lists the loaded playbooks and shows one; never queries the (nonexistent) table."""

    def has_view_permission(self, request: HttpRequest, obj: PlaybookFile | None = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_urls(self) -> list[URLPattern]:
        # The list and one playbook only: the model has no table, so add, delete and history have nothing to act on.
        names = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [path("", view(self.changelist_view), name="%s_%s_changelist" % names),
                path("projects/", view(self.projects_view), name="creators_coach_projects"),
                path("projects/<slug:tenant_slug>/<int:project_id>/", view(self.project_view),
                     name="creators_coach_project"),
                path("costs/", view(self.costs_view), name="creators_coach_costs"),
                path("<str:object_id>/change/", view(self.change_view), name="%s_%s_change" % names)]

    def projects_view(self, request: HttpRequest) -> HttpResponse:
        """Pick a tenant to see its creators' profiles and latest projects with their progress."""
        if not self.has_view_permission(request):
            raise Http404
        tenants = list(Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug"))
        chosen = next((tenant for tenant in tenants if tenant.slug == request.GET.get("tenant")), None)
        return TemplateResponse(request, "creators/admin_coach.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Coach projects",
            "tenants": tenants, "chosen": chosen,
            "coach": coach_overview_of(tenant=chosen, today=timezone.now().date()) if chosen else None,
        })

    def project_view(self, request: HttpRequest, tenant_slug: str, project_id: int) -> HttpResponse:
        """One project: progress, decisions (superseded ones too), task completions and the chat transcript."""
        if not self.has_view_permission(request):
            raise Http404
        tenant = Tenant.objects.exclude(schema_name=get_public_schema_name()).filter(slug=tenant_slug).first()
        record = tenant and coach_project_record_of(tenant=tenant, project_id=project_id,
                                                    today=timezone.now().date())
        if not record:
            raise Http404
        return TemplateResponse(request, "creators/admin_coach_project.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"{record.row.project.name} ({tenant.slug})", "record": record,
        })

    def costs_view(self, request: HttpRequest) -> HttpResponse:
        """What the coach's answers cost over the last ?days= UTC days (default 7, at most 90), across tenants:
        totals per day and per person, and the latest answers."""
        if not self.has_view_permission(request):
            raise Http404
        raw = request.GET.get("days", "")
        days = min(COST_LOG_MAX_DAYS, int(raw)) if raw.isdigit() and int(raw) > 0 else COST_LOG_DEFAULT_DAYS
        _, end = coach_day_bounds(now=timezone.now())
        tenants = list(Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug"))
        return TemplateResponse(request, "creators/admin_coach_costs.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Coach message costs",
            "days": days, "log": coach_cost_log(tenants=tenants, start=end - timedelta(days=days), end=end),
        })

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        return TemplateResponse(request, "creators/admin_playbooks.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Playbooks",
            "playbooks": playbook_list(), "directory": PLAYBOOK_DIR,
        })

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        try:
            playbook = playbook_get(object_id)
        except PlaybookUnknown as error:
            raise Http404 from error
        return TemplateResponse(request, "creators/admin_playbook.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": playbook.title,
            "playbook": playbook,
        })
