"""Staff pages of the notification centre on a tenant's host: the list, marking read, preferences. Every read goes
through a selector that takes the signed-in person, so an id from anybody else (or another tenant) is a 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from notifications.forms import PreferencesForm
from notifications.models import Notification
from notifications.selectors import notification_get, notification_list, preference_rows
from notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
)

PAGE_SIZE = 25


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def notifications_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "active_section": "notifications"})


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = _notification_or_404(request, notification_id)
    notification_mark_read(notification=notification)
    # Links are written by our code as paths on this host; anything else is not followed.
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()},
                                                             require_https=request.is_secure()):
        return redirect(notification.link)
    return redirect("notifications")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(notification=_notification_or_404(request, notification_id))
    return redirect("notifications")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'' if count == 1 else 's'} marked read.")
    return redirect("notifications")


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET", "POST"])
def notification_preferences_page(request: HttpRequest) -> HttpResponse:
    rows = preference_rows(user=request.user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        notification_preferences_update(user=request.user, choices=form.choices())
        messages.success(request, "Your notification preferences are saved.")
        return redirect("notification_preferences")
    return render(request, "notifications/preferences.html", {"form": form, "active_section": "notifications"})


def _notification_or_404(request: HttpRequest, notification_id: int) -> Notification:
    notification = notification_get(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404
    return notification
