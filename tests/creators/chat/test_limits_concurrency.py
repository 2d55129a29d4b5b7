"""The daily limit under a race: two sends of one person for the last message of the day, each on its own
connection, cannot both have it (the user's row is locked while counting). Committed data, removed afterwards."""

from django_tenants.utils import schema_context

from creators.chat.services import coach_user_message_store
from creators.models import CoachMessage, CreatorProfile, Project
from tenants.models import Tenant
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.creators import project_for
from tests.support.tenants import owner_of


def test_two_sends_racing_for_the_last_message_of_the_day_cannot_both_have_it(committed_db):
    tenant = Tenant.objects.get(slug="alpha")
    with schema_context(tenant.schema_name):
        project = project_for(owner_of(tenant))
    try:
        with schema_context(tenant.schema_name):
            CoachMessage.objects.bulk_create([
                CoachMessage(project=project, user=owner_of(tenant), role=CoachMessage.Role.USER, content=f"m{n}",
                             created_at=NOW) for n in range(49)])

        def store():
            with schema_context(tenant.schema_name):
                return coach_user_message_store(tenant=tenant, project=project, user=owner_of(tenant), text="mine",
                                                now=NOW)

        outcomes = run_together(store, store)

        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["CoachDailyLimitReached", "CoachMessage"]
    finally:  # committed for the threads to see: removed here (messages, tasks and decisions go with it)
        with schema_context(tenant.schema_name):
            Project.objects.filter(pk=project.pk).delete()
            CreatorProfile.objects.filter(user=owner_of(tenant)).delete()
