"""Announcing a cause to the people it concerns, once: `notify` for a tenant's staff, `notify_ops` for the operator.

A call writes, in the caller's transaction, one in-app row per recipient who wants it (unique per recipient,
category and cause) and, if anybody wants an email, the cause's email, rendered now (unique per category and
cause). The email is sent by the `notifications.email_send` task once that transaction commits; the task sets
`sent_at` under a row lock in the transaction that sends, so a retried or duplicated task sends nothing. Announcing
the same cause again (a retried task, a webhook delivered twice) therefore tells nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.selectors import member_list
from config.mail import RenderedEmail, email_message, email_render
from notifications.categories import SPECS, Category
from notifications.models import Notification, NotificationEmail, NotificationPreference
from notifications.selectors import Channels, channels_for
from tenants.models import Tenant
from tenants.urls_for import public_url, tenant_url

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

STANDARD_TEMPLATE = "notifications/email/notification"


@dataclass(frozen=True)
class EmailContent:
    """An email richer than the standard one (title, body, link): `template` names `<template>.txt` and
    `<template>.html`, rendered with `context` (plus `title`, `body` and `link_url`)."""

    template: str
    context: dict = field(default_factory=dict)
    subject: str = ""  # default: the notification's title


@dataclass(frozen=True)
class Delivery:
    notified: int  # people told in the app for the first time by this call
    email: NotificationEmail | None  # the cause's email if this call created it


def notify(*, tenant: Tenant, category: str, cause: str, title: str, body: str, link: str = "",
           roles: Iterable[str] | None = None, email: EmailContent | None = None,
           email_to: Sequence[str] | None = None, now: datetime | None = None) -> Delivery:
    """Tell the tenant's active staff with one of `roles` (default: the category's roles) about `cause`, in the
    app and by email, each as their preferences allow. `link` is a path on the tenant's host. `email_to`, when
    given, replaces the staff's addresses for the email (e.g. the billing contact address)."""
    roles = tuple(SPECS[category].roles if roles is None else roles)
    with schema_context(tenant.schema_name):
        recipients = list(member_list().filter(role__in=roles))
        return _deliver(schema_name=tenant.schema_name, recipients=recipients, category=category, cause=cause,
                        title=title, body=body, link=link, link_url=tenant_url(tenant, link or "/"), email=email,
                        email_to=email_to, now=now or timezone.now())


def notify_ops(*, category: str, cause: str, title: str, body: str, link: str = "",
               email: EmailContent | None = None, now: datetime | None = None) -> Delivery:
    """Tell the operator's active ops accounts (public schema) about `cause`. `link` is a path on the public host."""
    schema_name = get_public_schema_name()
    with schema_context(schema_name):
        recipients = list(member_list().filter(is_staff=True))
        return _deliver(schema_name=schema_name, recipients=recipients, category=category, cause=cause,
                        title=title, body=body, link=link, link_url=public_url(link or "/"), email=email,
                        email_to=None, now=now or timezone.now())


def welcome_notify(*, tenant: Tenant, user: User) -> Delivery:
    """Welcome a person who just joined the tenant's staff (the owner at signup, a member by invitation)
    in the bell."""
    with schema_context(tenant.schema_name):
        return _deliver(schema_name=tenant.schema_name, recipients=[user], category=Category.WELCOME,
                        cause=f"user:{user.pk}", title=f"Welcome to {tenant.name}",
                        body="Your workspace is ready. Usage, billing and your team are in the sidebar; this bell "
                             "keeps what needs your attention.",
                        link="/", link_url=tenant_url(tenant, "/"), email=None, email_to=None, now=timezone.now())


def _deliver(*, schema_name: str, recipients: list[User], category: str, cause: str, title: str, body: str,
             link: str, link_url: str, email: EmailContent | None, email_to: Sequence[str] | None,
             now: datetime) -> Delivery:
    channels = channels_for(users=recipients, category=category)
    with transaction.atomic():
        told = [user for user in recipients if channels[user.pk].in_app]
        already = set(Notification.objects.filter(category=category, cause=cause, recipient__in=told)
                      .values_list("recipient_id", flat=True))
        new = [Notification(recipient=user, category=category, cause=cause, title=title[:200], body=body,
                            link=link, created_at=now) for user in told if user.pk not in already]
        # ignore_conflicts: a concurrent announcement of the same cause may have told them meanwhile.
        Notification.objects.bulk_create(new, ignore_conflicts=True)
        addresses = list(email_to) if email_to is not None else [
            user.email for user in recipients if channels[user.pk].email]
        created = _email_create(schema_name=schema_name, category=category, cause=cause, addresses=addresses,
                                title=title, body=body, link_url=link_url, email=email, now=now)
    return Delivery(notified=len(new), email=created)


def _email_create(*, schema_name: str, category: str, cause: str, addresses: list[str], title: str, body: str,
                  link_url: str, email: EmailContent | None, now: datetime) -> NotificationEmail | None:
    if not addresses:
        return None
    existing = NotificationEmail.objects.filter(category=category, cause=cause).first()
    if existing is not None:
        if existing.sent_at is None:  # its task may have been lost with the broker: the send is claimed once
            _email_queue(schema_name=schema_name, email_id=existing.pk)
        return None
    content = email or EmailContent(template=STANDARD_TEMPLATE)
    context = {**content.context, "title": title, "body": body, "link_url": link_url}
    rendered = email_render(schema_name=schema_name, subject=(content.subject or title)[:200],
                            template=content.template, context=context)
    try:
        with transaction.atomic():
            record = NotificationEmail.objects.create(
                category=category, cause=cause, recipients=addresses, subject=rendered.subject,
                text=rendered.text, html=rendered.html, created_at=now)
    except IntegrityError:  # announced concurrently: that call queued it
        return None
    _email_queue(schema_name=schema_name, email_id=record.pk)
    return record


def _email_queue(*, schema_name: str, email_id: int) -> None:
    kwargs = {"schema_name": schema_name, "email_id": email_id}
    # By name: notifications.tasks imports this module. Robust: the notification is committed whatever the
    # broker does; an email whose task was lost is queued again when its cause is announced again.
    transaction.on_commit(lambda: current_app.signature("notifications.email_send", kwargs=kwargs).delay(),
                          robust=True)


def notification_email_send(*, schema_name: str, email_id: int, now: datetime | None = None) -> bool:
    """Send the email unless it was sent already; True when this call sent it."""
    with schema_context(schema_name), transaction.atomic():
        # The lock makes a concurrent duplicate wait, then find sent_at set and skip.
        record = NotificationEmail.objects.select_for_update().filter(pk=email_id, sent_at__isnull=True).first()
        if record is None:
            return False
        # The sender is decided now, not when the email was rendered: a brand's sender domain may have been
        # verified (or found failing) since.
        email = RenderedEmail(subject=record.subject, text=record.text, html=record.html)
        email_message(schema_name=schema_name, email=email, to=record.recipients).send()
        record.sent_at = now or timezone.now()
        record.save(update_fields=["sent_at"])
    logger.info("notification_email_sent schema=%s category=%s email_id=%s", schema_name, record.category, email_id)
    return True


def notification_mark_read(*, notification: Notification, now: datetime | None = None) -> None:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now or timezone.now())


def notification_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    return notifications_mark_read(user=user, now=now)


def notifications_mark_read(*, user: User, notification_ids: Iterable[int] | None = None,
                            now: datetime | None = None) -> int:
    """Mark the person's unread notifications read (those of `notification_ids` only, when given); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=now or timezone.now())


def notification_preferences_update(*, user: User, choices: dict[str, Channels]) -> None:
    """Save the person's channels for each category in `choices`."""
    with transaction.atomic():
        for category, channels in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, category=category, defaults={"in_app": channels.in_app, "email": channels.email})
