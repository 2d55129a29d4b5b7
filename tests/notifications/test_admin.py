"""Ops read their own notifications in the admin and mark them read; another operator's stay out of sight."""

import pytest

from notifications.categories import Category
from notifications.models import Notification
from notifications.services import notify_ops
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


@pytest.fixture
def operator():
    return OpsUserFactory()


@pytest.fixture
def admin_client(public_client, operator):
    public_client.force_login(operator)
    return public_client


def test_ops_see_their_own_notifications_only(admin_client, operator):
    colleague = OpsUserFactory()
    notify_ops(category=Category.AI_COST_ALERT, cause="ai_cost:2026-11-20", title="AI spend reached 51.00 USD",
               body="Over the threshold.")
    Notification.objects.filter(recipient=colleague).update(title="The colleague's copy")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert b"AI spend reached 51.00 USD" in response.content and b"The colleague&#x27;s copy" not in response.content


def test_mark_read_marks_the_chosen_notifications(admin_client, operator):
    notify_ops(category=Category.AI_COST_ALERT, cause="ai_cost:2026-11-20", title="AI spend", body="High.")
    mine = Notification.objects.get(recipient=operator)

    response = admin_client.post(CHANGELIST, {"action": "mark_read", "_selected_action": [mine.pk]})

    assert response.status_code == 302
    assert Notification.objects.get(pk=mine.pk).read_at is not None
