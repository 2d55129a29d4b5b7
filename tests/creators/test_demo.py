"""The demo's coach: a profile and a premium community project about halfway through, written once."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from creators.models import CoachMessage, CreatorProfile, Project
from creators.selectors import project_progress

pytestmark = pytest.mark.django_db


def test_the_demo_project_is_halfway_and_written_once(tenant_alpha, monkeypatch):
    from creators.management.commands import coach_demo_seed

    monkeypatch.setattr(coach_demo_seed, "DEMO_TENANT", "alpha")

    call_command("coach_demo_seed")
    call_command("coach_demo_seed")

    with schema_context(tenant_alpha.schema_name):
        project = Project.objects.get()
        progress = project_progress(project=project, today=timezone.now().date())
        assert CreatorProfile.objects.count() == 1
        assert (progress.overall, progress.planning, progress.current_phase) == (45, 60, "build")
        assert progress.timeline.label == "behind by 1 day"  # 14 days in, 10 of 22 tasks are worth 13
        assert not CoachMessage.objects.filter(role="assistant").exclude(status="templated").exists()
        assert CoachMessage.objects.filter(role="user").count() == 2
