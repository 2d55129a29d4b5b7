"""Attribution from what the signup form sends (tests.support.affiliate_program.signed_up sends it as the form does
for tenant alpha; two tests go through the real form)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from affiliates.attribution import referral_bind
from affiliates.models import Affiliate, AffiliateProgram, Referral, ReferralClick
from tests.support.affiliate_program import affiliate_make, browser, click, signed_up, signup

pytestmark = pytest.mark.django_db


def _referral_of(slug: str = "alpha") -> Referral | None:
    return Referral.objects.filter(tenant__slug=slug).select_related("affiliate", "click").first()


def _attribution_set(value: str) -> None:
    program = AffiliateProgram.objects.get(code="default")
    program.attribution = value
    program.save()


def test_a_signup_through_the_form_after_a_click_is_bound_to_the_affiliate_with_its_click(
        django_capture_on_commit_callbacks):
    partner = affiliate_make("partner-aaaaa")
    visitor = browser()
    click(visitor, partner.code)

    with django_capture_on_commit_callbacks(execute=True):
        assert signup(visitor, "clicked").status_code == 302

    referral = _referral_of("clicked")
    assert (referral.affiliate, referral.source, referral.status) == (partner, "click", "signed_up")
    assert referral.click == ReferralClick.objects.get()
    assert referral.owner_email == "founder@clicked.test" and referral.signup_ip_hash


def test_a_promotion_code_typed_in_the_form_attributes_without_a_click(django_capture_on_commit_callbacks):
    partner = affiliate_make("partner-kkkkk", promotion_code="SAVE-KKK")

    with django_capture_on_commit_callbacks(execute=True):
        signup(browser(), "coded", promotion_code="save-kkk")

    referral = _referral_of("coded")
    assert (referral.affiliate, referral.source, referral.click) == (partner, "promotion_code", None)


def test_a_signup_seconds_after_a_click_still_in_the_buffer_finds_its_click(tenant_alpha):
    partner = affiliate_make("partner-bbbbb")
    visitor = browser()
    click(visitor, partner.code, flush=False)

    signed_up(visitor, tenant_alpha)

    assert _referral_of().click.affiliate == partner


def test_first_touch_binds_the_first_affiliate_clicked(tenant_alpha):
    first, second = affiliate_make("first-ccccc"), affiliate_make("second-ddddd")
    visitor = browser()
    click(visitor, first.code)
    click(visitor, second.code)

    signed_up(visitor, tenant_alpha)

    assert _referral_of().affiliate == first


def test_last_touch_binds_the_latest_affiliate_clicked(tenant_alpha):
    _attribution_set(AffiliateProgram.Attribution.LAST_TOUCH)
    first, second = affiliate_make("first-eeeee"), affiliate_make("second-fffff")
    visitor = browser()
    click(visitor, first.code)
    click(visitor, second.code)

    signed_up(visitor, tenant_alpha)

    assert _referral_of().affiliate == second


def test_a_signup_inside_the_window_is_attributed(tenant_alpha):
    partner = affiliate_make("partner-ggggg")
    visitor = browser()
    with time_machine.travel(timezone.now() - timedelta(days=59), tick=False):
        click(visitor, partner.code)

    signed_up(visitor, tenant_alpha)

    assert _referral_of().affiliate == partner


def test_a_signup_after_the_window_is_not_attributed(tenant_alpha):
    partner = affiliate_make("partner-hhhhh")
    visitor = browser()
    with time_machine.travel(timezone.now() - timedelta(days=61), tick=False):
        click(visitor, partner.code)
    # A browser drops the expired cookie; a client that kept it gains nothing.

    signed_up(visitor, tenant_alpha)

    assert _referral_of() is None


def test_a_shorter_window_set_by_ops_applies_to_earlier_clicks(tenant_alpha):
    partner = affiliate_make("partner-sssss")
    visitor = browser()
    with time_machine.travel(timezone.now() - timedelta(days=20), tick=False):
        click(visitor, partner.code)
    program = AffiliateProgram.objects.get(code="default")
    program.cookie_days = 14
    program.save()

    signed_up(visitor, tenant_alpha)

    assert _referral_of() is None


def test_a_first_click_outside_the_window_gives_way_to_the_latest_inside_it(tenant_alpha):
    old, recent = affiliate_make("old-iiiii"), affiliate_make("recent-jjjjj")
    visitor = browser()
    with time_machine.travel(timezone.now() - timedelta(days=70), tick=False):
        click(visitor, old.code)
    click(visitor, recent.code)

    signed_up(visitor, tenant_alpha)

    assert _referral_of().affiliate == recent


def test_a_promotion_code_wins_over_another_affiliates_click(tenant_alpha):
    clicked, coded = affiliate_make("clicked-lllll"), affiliate_make("coded-mmmmm", promotion_code="MMM")
    visitor = browser()
    click(visitor, clicked.code)

    signed_up(visitor, tenant_alpha, promotion_code="MMM")

    referral = _referral_of()
    assert (referral.affiliate, referral.source) == (coded, "promotion_code")


def test_a_suspended_affiliates_click_is_ignored(tenant_alpha):
    partner = affiliate_make("partner-nnnnn")
    visitor = browser()
    click(visitor, partner.code)
    partner.status = Affiliate.Status.SUSPENDED
    partner.save()

    signed_up(visitor, tenant_alpha)

    assert _referral_of() is None


def test_a_suspended_affiliates_promotion_code_falls_back_to_the_click(tenant_alpha):
    affiliate_make("partner-ooooo", promotion_code="OOO", status=Affiliate.Status.SUSPENDED)
    clicked = affiliate_make("clicked-ttttt")
    visitor = browser()
    click(visitor, clicked.code)

    signed_up(visitor, tenant_alpha, promotion_code="OOO")

    assert _referral_of().affiliate == clicked


def test_an_unknown_promotion_code_attributes_nothing(tenant_alpha):
    signed_up(browser(), tenant_alpha, promotion_code="NOBODY")

    assert _referral_of() is None


def test_a_forged_cookie_is_ignored(tenant_alpha):
    partner = affiliate_make("partner-ppppp")
    visitor = browser()
    visitor.cookies["tg_ref"] = f'{{"f": ["{"0" * 32}", {partner.pk}, 1]}}'

    signed_up(visitor, tenant_alpha)

    assert _referral_of() is None


def test_a_tenant_has_one_referrer_ever(tenant_alpha):
    first, second = affiliate_make("first-qqqqq"), affiliate_make("second-rrrrr")
    now = timezone.now()
    bound = referral_bind(tenant=tenant_alpha, affiliate=first, source=Referral.Source.CLICK, now=now)

    again = referral_bind(tenant=tenant_alpha, affiliate=second, source=Referral.Source.CLICK, now=now)

    assert bound is not None and again is None
    assert Referral.objects.get(tenant=tenant_alpha).affiliate == first


def test_a_later_signup_signal_for_a_referred_tenant_changes_nothing(tenant_alpha):
    first, second = affiliate_make("first-uuuuu"), affiliate_make("second-vvvvv")
    visitor = browser()
    click(visitor, first.code)
    signed_up(visitor, tenant_alpha)
    other = browser(ip="203.0.113.9")
    click(other, second.code)

    signed_up(other, tenant_alpha)

    assert Referral.objects.get(tenant=tenant_alpha).affiliate == first


def test_a_failing_attribution_never_fails_the_signup(django_capture_on_commit_callbacks, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("attribution is broken")

    monkeypatch.setattr("affiliates.attribution.referral_bind", broken)

    with django_capture_on_commit_callbacks(execute=True):
        response = signup(browser(), "resilient", promotion_code="ANY")

    assert response.status_code == 302
    assert _referral_of("resilient") is None
