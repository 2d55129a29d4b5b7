"""The daily limit: 50 user messages a UTC day per person by default, the plan's coach_messages_per_day when it
says, refused with the API's 429 before anything is stored or reserved; the next UTC day starts afresh (the race
for the last message is in test_limits_concurrency.py)."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from billing.services import tenant_plan_assign
from creators.models import CoachMessage
from metering.models import AiReservationRecord
from tests.creators.chat.conftest import messages_of, send_message
from tests.creators.content.conftest import sse_events
from tests.support.clock import NOW
from tests.support.factories import PlanFactory
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


def answered(response) -> bool:
    """Whether the coach answered (the stream read to its end, which settles the request and frees its slot)."""
    return response.status_code == 200 and sse_events(response)[-1][0] == "coach.message"


def sent_today(tenant, project, count: int, *, at=NOW) -> None:
    with schema_context(tenant.schema_name):
        owner = owner_of(tenant)
        CoachMessage.objects.bulk_create([
            CoachMessage(project=project, user=owner, role=CoachMessage.Role.USER, content=f"m{n}",
                         created_at=at - timedelta(minutes=n)) for n in range(count)])


def test_the_51st_message_of_the_day_is_refused_with_429_before_anything_is_stored_or_reserved(
        frozen_now, upstream, chat, chat_project, funded):
    sent_today(funded, chat_project, 50)
    upstream.answer_sse("basic_response")
    before = len(messages_of(funded, chat_project.pk))

    response = send_message(chat, chat_project.pk, "One more?")

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "coach_daily_limit"
    assert "50 coach messages" in error["message"]
    assert error["details"] == {"limit": 50, "resets_at": "2026-11-21T00:00:00Z"}
    assert response["Retry-After"] == str(12 * 3600)
    assert len(messages_of(funded, chat_project.pk)) == before
    assert upstream.requests == []
    assert not AiReservationRecord.objects.filter(tenant=funded).exists()


def test_the_50th_message_of_the_day_is_still_answered(frozen_now, upstream, chat, chat_project, funded):
    sent_today(funded, chat_project, 49)
    upstream.answer_sse("basic_response")

    assert answered(send_message(chat, chat_project.pk, "Last one today."))


def test_the_next_utc_day_starts_afresh(frozen_now, upstream, chat, chat_project, funded):
    sent_today(funded, chat_project, 50)
    upstream.answer_sse("basic_response")
    frozen_now.move_to(NOW.replace(hour=0, minute=0) + timedelta(days=1))

    assert answered(send_message(chat, chat_project.pk, "Good morning."))


def test_the_plans_coach_messages_per_day_overrides_the_default(frozen_now, upstream, chat, chat_project, funded):
    tenant_plan_assign(tenant=funded, plan=PlanFactory(code="tiny-coach", coach_messages_per_day=2))
    sent_today(funded, chat_project, 2)

    response = send_message(chat, chat_project.pk, "Third?")

    assert response.status_code == 429
    assert response.json()["error"]["details"]["limit"] == 2


def test_yesterdays_messages_do_not_count_against_today(frozen_now, upstream, chat, chat_project, funded):
    sent_today(funded, chat_project, 50, at=NOW.replace(hour=0, minute=0) - timedelta(minutes=1))
    upstream.answer_sse("basic_response")

    assert answered(send_message(chat, chat_project.pk, "Fresh day."))
