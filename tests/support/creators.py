"""The coach's test data: a creator profile and a project for a staff user, written through the services (run them
inside the user's tenant schema, e.g. `with schema_context(tenant.schema_name):`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creators.models import CreatorProfile, Project
from creators.services import ProfileInput, profile_save, project_start
from tests.support.clock import NOW

PROFILE = {
    "primary_platform": "youtube", "follower_count": 50_000, "engagement_rate": Decimal("4.00"),
    "niche": "home baking for beginners", "monthly_revenue_goal": Decimal("3000"), "hours_per_week": 10,
}


def profile_for(user, **overrides) -> CreatorProfile:
    return profile_save(user=user, data=ProfileInput(**{**PROFILE, **overrides}), now=NOW)


def project_for(user, *, playbook_key: str = "premium-community", target_launch_date: date | None = None,
                **profile_overrides) -> Project:
    """A profile (unless the user has one) and an active project on the playbook, started at NOW."""
    if not CreatorProfile.objects.filter(user=user).exists():
        profile_for(user, **profile_overrides)
    return project_start(user=user, playbook_key=playbook_key, target_launch_date=target_launch_date, now=NOW)
