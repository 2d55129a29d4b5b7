from functools import cache

from django.http import HttpRequest

from notifications.selectors import notification_unread_count


def unread_notifications(request: HttpRequest) -> dict:
    """`notifications_unread` for the bell: a callable, so the count query runs only on a page that shows the
    bell (staff pages), and once however often the page reads it."""
    user = getattr(request, "user", None)
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": cache(lambda: notification_unread_count(user=user))}
