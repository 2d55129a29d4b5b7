"""What the coach costs, for ops: the coach's spend counts in the platform's daily AI cost (and its alert), and
the admin's message cost log totals each tenant's answers per day and per person, read in each tenant's schema."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from creators.models import CoachMessage
from metering.gateway.cost_alerts import ai_cost_alert_send
from metering.gateway.selectors import ai_spend_for_period
from notifications.categories import Category
from notifications.models import Notification
from tests.creators.chat.conftest import messages_of, send_message
from tests.creators.content.conftest import sse_events
from tests.support.clock import NOW
from tests.support.creators import project_for
from tests.support.factories import OpsUserFactory
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

DAY_START = NOW.replace(hour=0)


def test_the_coachs_spend_counts_in_the_platforms_daily_ai_cost_and_its_alert(
        frozen_now, upstream, chat, chat_project, funded, settings, django_capture_on_commit_callbacks):
    upstream.answer_sse("tool_use_response")
    sse_events(send_message(chat, chat_project.pk, "I'll launch on Discord at $29/month."))
    answer = messages_of(funded, chat_project.pk)[-1]
    connection.set_schema_to_public()  # the request left the connection in alpha's schema; ops live in public
    settings.AI_COST_ALERT_USD_PER_DAY = str(answer.cost)
    operator = OpsUserFactory()

    spend = ai_spend_for_period(start=DAY_START, end=DAY_START + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        alerted = ai_cost_alert_send(now=NOW)

    assert spend == {"USD": answer.cost} and answer.cost > 0
    assert alerted == [NOW.date()]
    assert Notification.objects.get(category=Category.AI_COST_ALERT).recipient_id == operator.pk
    assert [message.to for message in mail.outbox] == [[operator.email]]


def answer(tenant, project, *, at, cost: str, tokens: int = 100) -> None:
    with schema_context(tenant.schema_name):
        CoachMessage.objects.create(project=project, user_id=project.user_id, role=CoachMessage.Role.ASSISTANT,
                                    content="ok", status="complete", model="claude-sonnet-4-6", input_tokens=tokens,
                                    output_tokens=tokens, cost=Decimal(cost), request_id=uuid.uuid4(),
                                    created_at=at)


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


@pytest.fixture
def two_tenants_answers(frozen_now, tenant_alpha, tenant_beta):
    with schema_context(tenant_alpha.schema_name):
        alpha = project_for(owner_of(tenant_alpha))
    with schema_context(tenant_beta.schema_name):
        beta = project_for(owner_of(tenant_beta))
    answer(tenant_alpha, alpha, at=NOW, cost="0.010000")
    answer(tenant_alpha, alpha, at=NOW - timedelta(hours=1), cost="0.020000")
    answer(tenant_alpha, alpha, at=NOW - timedelta(days=1), cost="0.005000")
    answer(tenant_beta, beta, at=NOW, cost="0.100000")
    answer(tenant_beta, beta, at=NOW - timedelta(days=30), cost="9.000000")  # outside the default 7 days


def test_the_cost_log_totals_answers_per_day_and_per_person_across_tenants(admin_client, two_tenants_answers,
                                                                         tenant_alpha, tenant_beta):
    response = admin_client.get("/admin/creators/playbookfile/costs/")

    assert response.status_code == 200
    log = response.context["log"]
    today, yesterday = NOW.date(), NOW.date() - timedelta(days=1)
    assert log.per_day == [(today, "USD", 3, Decimal("0.130000")), (yesterday, "USD", 1, Decimal("0.005000"))]
    assert [(tenant.slug, email, answers, cost) for tenant, email, _, answers, cost in log.per_user] == [
        ("beta", tenant_beta.owner_email, 1, Decimal("0.100000")),
        ("alpha", tenant_alpha.owner_email, 3, Decimal("0.035000"))]
    assert sorted(entry.message.cost for entry in log.entries) == [
        Decimal("0.005000"), Decimal("0.010000"), Decimal("0.020000"), Decimal("0.100000")]
    assert log.entries[-1].message.created_at == NOW - timedelta(days=1)  # newest first
    assert b"coach-cost-log" in response.content


def test_the_cost_log_reaches_back_as_many_days_as_asked(admin_client, two_tenants_answers):
    response = admin_client.get("/admin/creators/playbookfile/costs/?days=31")

    assert sum(cost for *_, cost in response.context["log"].per_day) == Decimal("9.135000")


def test_the_cost_log_is_not_on_a_tenants_host(alpha_owner_client, two_tenants_answers):
    response = alpha_owner_client.get("/admin/creators/playbookfile/costs/")

    assert response.status_code == 404
