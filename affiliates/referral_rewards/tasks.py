"""The daily job that takes back unused credit from expired referral rewards (migration 0004: daily, 03:30 UTC)."""

from celery import shared_task
from django.utils import timezone

from affiliates.referral_rewards.services import referral_rewards_expire


@shared_task(name="affiliates.referral_rewards_expire")
def referral_rewards_expire_task() -> int:
    return referral_rewards_expire(now=timezone.now()).expired
