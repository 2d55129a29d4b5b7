"""The coach in the ops admin: the playbooks, read-only (the files loaded at startup, with their versions, phases,
tasks and decisions). Profiles, projects, decisions and task completions live in each tenant's schema, which the
admin on the public host does not read (no app of ours shows tenant-schema rows there yet); ops see a tenant's coach
through its staff."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from config.admin import ReadOnlyAdminMixin
from creators.models import PlaybookFile
from creators.playbooks import PLAYBOOK_DIR, PlaybookUnknown, playbook_get, playbook_list


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
        return [path("", self.admin_site.admin_view(self.changelist_view), name="%s_%s_changelist" % names),
                path("<str:object_id>/change/", self.admin_site.admin_view(self.change_view),
                     name="%s_%s_change" % names)]

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
