"""Ops' notifications in the admin (public schema): each ops account sees its own, and marks them read."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyAdminMixin
from notifications.models import Notification
from notifications.services import notifications_mark_read


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "category", "created_at", "read_at"]
    list_filter = ["category", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body", "cause"]
    fields = ["title", "body", "link", "category", "cause", "created_at", "read_at"]
    actions = ["mark_read"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).filter(recipient=request.user)

    def has_view_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    @admin.action(description="Mark read")
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = notifications_mark_read(user=request.user, notification_ids=queryset.values_list("pk", flat=True))
        messages.success(request, f"{count} marked read.")
