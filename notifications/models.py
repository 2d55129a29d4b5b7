"""Notifications live in the schema of the people they are for: a tenant's schema for its staff, the public schema
for ops. A tenant's rows can therefore only ever reach that tenant's staff: isolation is structural."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.categories import Category


class Notification(models.Model):
    """One cause told to one person in the app (the bell). Unique per (recipient, category, cause): a cause
    notifies each person once, however often it is announced."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30, choices=Category.choices)
    cause = models.CharField(max_length=200, help_text="What it is about, e.g. invoice:42.")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A path on this host, e.g. /billing/.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["recipient", "category", "cause"],
                                               name="notification_once_per_cause")]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            # The bell's count on every staff page: only the unread rows are in it.
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True),
                         name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.cause} → {self.recipient_id}"


class NotificationPreference(models.Model):
    """A person's choice of channels for one category; without a row, the category's defaults apply."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30, choices=Category.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.category}"


class NotificationEmail(models.Model):
    """The email of one cause: rendered when the cause is announced, sent by a task after commit. Unique per
    (category, cause), and `sent_at` is set in the transaction that sends, under a row lock: a retried or
    duplicated task finds it set and sends nothing."""

    category = models.CharField(max_length=30, choices=Category.choices)
    cause = models.CharField(max_length=200)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["category", "cause"], name="notification_email_once")]

    def __str__(self) -> str:
        return f"{self.category} {self.cause}"
