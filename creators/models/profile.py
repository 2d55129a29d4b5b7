"""A creator's numbers and circumstances, one profile per staff user: what the coach's plan and its recommendations
are computed from."""

from django.conf import settings
from django.db import models

# Money as the rest of the platform stores it (billing.models.invoices.AMOUNT).
AMOUNT = {"max_digits": 16, "decimal_places": 4}


class CreatorProfile(models.Model):
    class Platform(models.TextChoices):
        YOUTUBE = "youtube", "YouTube"
        INSTAGRAM = "instagram", "Instagram"
        TIKTOK = "tiktok", "TikTok"
        X = "x", "X"
        TWITCH = "twitch", "Twitch"
        PODCAST = "podcast", "Podcast"
        NEWSLETTER = "newsletter", "Newsletter"
        OTHER = "other", "Other"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_profile")
    primary_platform = models.CharField(max_length=20, choices=Platform.choices)
    follower_count = models.PositiveBigIntegerField()
    engagement_rate = models.DecimalField(max_digits=5, decimal_places=2,
                                          help_text="Percent of followers who engage with a typical post, 0-100.")
    niche = models.CharField(max_length=200)
    audience_age_bands = models.JSONField(default=list, blank=True,
                                          help_text='Shares per band, e.g. [{"band": "18-24", "percent": 40}].')
    audience_top_countries = models.JSONField(default=list, blank=True,
                                              help_text='ISO 3166 codes with shares, e.g. [{"country": "US", '
                                                        '"percent": 55}].')
    signals = models.TextField(blank=True, help_text="What the audience already asks for or buys.")
    personality_notes = models.TextField(blank=True, help_text="How the creator likes to work and talk.")
    monthly_revenue_goal = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, default="USD")
    hours_per_week = models.PositiveSmallIntegerField(help_text="Hours a week available for the launch.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(engagement_rate__gte=0, engagement_rate__lte=100),
                                   name="creator_profile_engagement_percent"),
            models.CheckConstraint(condition=models.Q(monthly_revenue_goal__gte=0),
                                   name="creator_profile_goal_not_negative"),
            models.CheckConstraint(condition=models.Q(hours_per_week__lte=168),
                                   name="creator_profile_hours_in_a_week"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_primary_platform_display()})"
