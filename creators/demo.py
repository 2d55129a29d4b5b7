"""The demo's coach: the demo tenant's owner has a creator profile and a premium community project started two
weeks ago and about halfway through (three decisions made, ten tasks done, a short chat). Written through the
services, without an AI call: the coach's replies are templated (status "templated", no model, no cost), so
nothing pretends to have been metered. Safe to repeat: a user who already has a profile is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django_tenants.utils import schema_context

from accounts.selectors import member_list
from creators.models import CoachMessage, CreatorProfile
from creators.services import ProfileInput, decision_record, profile_save, project_start, task_toggle
from tenants.models import Tenant

STARTED_DAYS_AGO = 14
PROFILE = ProfileInput(
    primary_platform="youtube", follower_count=48_000, engagement_rate=Decimal("3.50"),
    niche="sourdough baking for home bakers", monthly_revenue_goal=Decimal("2500"), hours_per_week=8,
    audience_age_bands=({"band": "25-34", "percent": 38}, {"band": "35-44", "percent": 31}),
    audience_top_countries=({"country": "US", "percent": 46}, {"country": "GB", "percent": 14}),
    signals="Viewers ask every week for a place to troubleshoot their loaves together.",
    personality_notes="Prefers live bake-alongs to long posts.",
)
DECISIONS = [("platform", "discord", "My viewers already chat on Discord during streams."),
             ("pricing", "two-tiers", "A bake-along tier and a premium tier with loaf reviews."),
             ("structure", "free-lobby-and-paid", "A free lobby keeps YouTube viewers one click away.")]
TASKS_DONE = ["audience-survey", "define-promise", "choose-platform", "set-pricing", "design-structure",
              "set-launch-date", "create-space", "set-up-payments", "build-channels", "write-onboarding"]
CHAT = [
    ("user", "I ran the survey: 212 answers. Most want live bake-alongs and help with flat loaves."),
    ("assistant", "That is your promise: no more flat loaves, baked together live. Channels to match: "
                  "#starter-help, #loaf-photos, #bake-along and #wins. Next: write the onboarding."),
    ("user", "Discord server is up and payments work with the two tiers."),
    ("assistant", "Ticked: create the space and connect payments. Test the member journey with a second account "
                  "before you invite founding members."),
]


def coach_demo_seed(*, tenant: Tenant, user_email: str, now: datetime) -> bool:
    """Give the user a profile and a half-done project; False when they already had a profile (or are missing)."""
    with schema_context(tenant.schema_name):
        user = member_list().filter(email__iexact=user_email).first()
        if user is None or CreatorProfile.objects.filter(user=user).exists():
            return False
        started = now - timedelta(days=STARTED_DAYS_AGO)
        profile_save(user=user, data=PROFILE, now=started)
        project = project_start(user=user, playbook_key="premium-community", now=started,
                                target_launch_date=(started + timedelta(days=30)).date())
        for hours, (category, option, rationale) in enumerate(DECISIONS, start=1):
            decision_record(project=project, category=category, option=option, rationale=rationale,
                            now=started + timedelta(hours=hours))
        for day, task_id in enumerate(TASKS_DONE, start=1):
            task_toggle(project=project, task_id=task_id, user=user, now=started + timedelta(days=day, hours=2))
        for minutes, (role, content) in enumerate(CHAT, start=1):
            CoachMessage.objects.create(
                project=project, user=user, role=role, content=content, created_at=now - timedelta(hours=minutes),
                status=CoachMessage.Status.TEMPLATED if role == "assistant" else CoachMessage.Status.COMPLETE)
    return True
