"""Celery tasks of notifications: thin wrappers over services."""

from celery import shared_task

from notifications.services import notification_email_send


@shared_task(name="notifications.email_send")
def notification_email_send_task(*, schema_name: str, email_id: int) -> bool:
    return notification_email_send(schema_name=schema_name, email_id=email_id)
