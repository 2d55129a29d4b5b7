"""Reads on notifications, in the current schema (a tenant's for its staff, public for ops). Every read takes the
person: nobody reads another person's notifications, let alone another tenant's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from notifications.categories import SPECS, Category, categories_for_role
from notifications.models import Notification, NotificationPreference


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool


@dataclass(frozen=True)
class PreferenceRow:
    category: str
    label: str
    description: str
    channels: Channels


def notification_list(*, user) -> QuerySet[Notification]:
    """The person's notifications, newest first."""
    return Notification.objects.filter(recipient=user)


def notification_get(*, user, notification_id: int) -> Notification | None:
    return Notification.objects.filter(recipient=user, pk=notification_id).first()


def notification_unread_count(*, user) -> int:
    """One count over the partial index of unread rows (the bell on every staff page)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def channels_default(category: str) -> Channels:
    return Channels(in_app=True, email=SPECS[category].email)


def channels_for(*, users: Iterable, category: str) -> dict[int, Channels]:
    """Each person's channels for the category: their preference, else the category's defaults (one query)."""
    ids = [user.pk for user in users]
    chosen = {row.user_id: Channels(in_app=row.in_app, email=row.email)
              for row in NotificationPreference.objects.filter(user_id__in=ids, category=category)}
    return {user_id: chosen.get(user_id, channels_default(category)) for user_id in ids}


def preference_rows(*, user, categories: list[str] | None = None) -> list[PreferenceRow]:
    """The categories the person hears of (by their role; ops categories for an ops account), each with the
    channels in force."""
    if categories is None:
        categories = categories_for_role(user.role)
    chosen = {row.category: Channels(in_app=row.in_app, email=row.email)
              for row in NotificationPreference.objects.filter(user=user, category__in=categories)}
    return [PreferenceRow(category=category, label=Category(category).label,
                          description=SPECS[category].description,
                          channels=chosen.get(category, channels_default(category)))
            for category in categories]
